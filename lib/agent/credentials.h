/* SPDX-License-Identifier: MIT */
/*
 * credentials.h - who a client is on the bus, from its certificate or its
 * password file (SPEC section 3). Shared by the agents and gfctl.
 *
 * Errors are sentences for the user in err (errlen bytes); option names in
 * them are the caller's (`what`), so gfctl can say "--cert" and an agent
 * "cert". Passwords are never printed; callers wipe them after use.
 */
#ifndef GF_CREDENTIALS_H
#define GF_CREDENTIALS_H

#include <stddef.h>

#include "base/err.h"

#define GF_PASSWORD_MAX 1024

/* Reads the goflex identity of the PEM certificate at path: ident
 * (ident_size bytes) gets "<role>.<id>" (OU, CN), site (may be NULL;
 * GF_SITE_MAX + 1 bytes) its O=. what names the option in errors. GF_EIO
 * for an unreadable file or a certificate without a goflex identity. */
enum gf_err gf_cred_cert_identity(const char *path, const char *what, char *ident,
                                  size_t ident_size, char *site, char *err, size_t errlen);

/* The password: the first line of the file at path, or when path is NULL
 * the environment variable env. Into buf (size bytes). GF_EINVAL when there
 * is none (err says how to give one), GF_EIO for an unreadable or empty
 * file. what names the file option in errors. */
enum gf_err gf_cred_password(const char *path, const char *what, const char *env, char *buf,
                             size_t size, char *err, size_t errlen);

#endif
