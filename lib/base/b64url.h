/* SPDX-License-Identifier: MIT */
/*
 * b64url.h - unpadded base64url (RFC 4648 section 5, RFC 7515 section 2),
 * for the JWE form check (lib/payload/jwe.c) and opening sealed payloads
 * (lib/anon/seal.c). Table-driven, one pass: the broker checks every byte
 * of every sealed payload with it, and gf-sp decodes every ciphertext.
 */
#ifndef GF_B64URL_H
#define GF_B64URL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* The 6-bit value of character c, or -1 outside the alphabet ('=' too). */
int gf_b64url_value(unsigned char c);

/* Whether the n characters at s are all of the alphabet. */
bool gf_b64url_valid(const char *s, size_t n);

/* Characters n bytes encode to. */
size_t gf_b64url_encoded_len(size_t n);

/* Encodes the n bytes at in into gf_b64url_encoded_len(n) characters at out
 * (no padding, no NUL written). */
void gf_b64url_encode(const void *in, size_t n, char *out);

/* Bytes that n characters decode to (n % 4 == 1 is not a length base64url
 * has: 0 is returned for it, as for n == 0). */
size_t gf_b64url_decoded_len(size_t n);

/* Decodes the n characters at in into out (cap bytes) in their one canonical
 * spelling: every character of the alphabet, no padding, a length that
 * decodes to whole bytes, the unused low bits of the last character zero.
 * GF_EPARSE for anything else, GF_ETOOLONG if out is too small; *outlen is
 * set on success only. */
enum gf_err gf_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap,
                             size_t *outlen);

#endif
