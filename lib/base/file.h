/* SPDX-License-Identifier: MIT */
/*
 * file.h - reading a whole file of bounded size, the way every loader here
 * (config, catalogue, message limits, load profiles) takes its input.
 */
#ifndef GF_FILE_H
#define GF_FILE_H

#include <stddef.h>

#include "base/err.h"

/*
 * Reads the whole file at path, at most max bytes, into a new buffer: *buf
 * (the caller frees it) holds the *len bytes and a NUL after them, so text
 * can be used as a string. Errors, with "<path>: why" in err: GF_EIO when
 * the file cannot be opened or read or is larger than max (the loaders
 * have always said EIO for both), GF_ENOMEM. On failure *buf and *len are
 * untouched.
 */
enum gf_err gf_file_read(const char *path, size_t max, char **buf, size_t *len, char *err,
                         size_t errlen);

#endif
