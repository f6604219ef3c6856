/* SPDX-License-Identifier: MIT */
/*
 * keyfile.h - reading the key files of lib/anon/ (internal to the layer):
 * the HMAC key of the pseudonyms, the Service Platform's private and public
 * keys. A secret key file that its group or others may use is refused, as
 * ssh refuses a private key: the test is on the open descriptor, so the
 * file checked is the file read.
 */
#ifndef GF_KEYFILE_H
#define GF_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/*
 * Reads the whole regular file at path, at most max bytes, into a new buffer
 * *buf (with a NUL after its *len bytes; the caller releases it with
 * gf__keyfile_free(), which wipes it). With secret, a file whose mode has any
 * of the bits 077 is refused (GF_EDENIED, err naming the path and the mode).
 * GF_ENOENT (no such file), GF_EIO (cannot be opened or read, not a regular
 * file), GF_ERANGE (over max bytes), GF_ENOMEM; err says "<path>: why". The
 * content is never quoted. On failure *buf and *len are untouched.
 */
enum gf_err gf__keyfile_read(const char *path, size_t max, bool secret, unsigned char **buf,
                             size_t *len, char *err, size_t errlen);

/* Wipes len bytes of buf (and its NUL) and frees it. Accepts NULL. */
void gf__keyfile_free(unsigned char *buf, size_t len);

#endif
