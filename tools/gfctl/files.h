/* SPDX-License-Identifier: MIT */
/*
 * files.h - gfctl's commands on payload files (files.c); no connection.
 */
#ifndef GFCTL_FILES_H
#define GFCTL_FILES_H

#include "commands.h"

/* validate MSG FILE: the broker's own check (gf_payload_check) on FILE;
 * prints "valid" or "invalid: <path>: <reason>". */
int gfctl_files_validate(const struct gfctl_args *a);

/* decode MSG FILE: FILE as message type MSG in the encoding --as names,
 * printed as canonical JSON (exit 0), or "invalid: <path>: <reason>". */
int gfctl_files_decode(const struct gfctl_args *a);

#endif
