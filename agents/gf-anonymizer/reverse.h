/* SPDX-License-Identifier: MIT */
/*
 * reverse.h - the DMS-side reverse command: which private meter a
 * pseudonym of the Service Platform's data stands for. It recomputes the
 * pseudonym of every classification id of id_map with the configured key
 * and compares; nothing of the map or the key leaves the DMS.
 */
#ifndef ANONYMIZER_REVERSE_H
#define ANONYMIZER_REVERSE_H

#include "anonymizer.h"

/* `reverse PSEUDONYM...`: prints "pseudonym classification_id private_id"
 * per pseudonym found; returns 0 when every one was found, 1 when one was
 * not (said on stderr), 2 for a usage or configuration error. */
int anonymizer_reverse_run(const struct anonymizer_conf *c, int argc, char **argv);

#endif
