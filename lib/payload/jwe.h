/* SPDX-License-Identifier: MIT */
/*
 * jwe.h - the form of sealed (anon) payloads: JWE compact serialization
 * (RFC 7516) with alg RSA-OAEP-256, enc A256GCM and a kid (SPEC section 6).
 *
 * The broker cannot open a sealed payload (only the Service Platform holds
 * the key); it checks that it is one: five base64url parts, a protected
 * header that is a JSON object naming exactly that algorithm and encryption
 * and a non-empty kid, an encrypted key the size of an RSA key, a 96-bit IV
 * and a 128-bit tag.
 */
#ifndef GF_JWE_H
#define GF_JWE_H

#include <stddef.h>

#include "base/err.h"

#define GF_JWE_KID_MAX 128

/*
 * GF_OK if data (len bytes) is a well-formed compact JWE as above, with the
 * kid copied into kid (NUL-terminated; may be NULL); GF_EPARSE with err
 * saying what is wrong otherwise. Never looks at the ciphertext's content.
 */
enum gf_err gf_jwe_check_compact(const char *data, size_t len, char *kid, size_t kidlen, char *err,
                                 size_t errlen);

#endif
