/* SPDX-License-Identifier: MIT */
/*
 * b64url.h - the base64url alphabet (RFC 4648 section 5), for the JWE form
 * check (lib/payload/jwe.c) and opening sealed payloads (lib/anon/seal.c).
 */
#ifndef GF_B64URL_H
#define GF_B64URL_H

/* The 6-bit value of character c, or -1 outside the alphabet ('=' too). */
int gf_b64url_value(unsigned char c);

#endif
