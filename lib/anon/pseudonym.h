/* SPDX-License-Identifier: MIT */
/*
 * pseudonym.h - keyed pseudonyms of meter ids (SPEC section 6, D6.1 8.3
 * layer 2): pseudonym = base64url without padding of HMAC-SHA256(key,
 * classification id). The DSO holds the key; without it a pseudonym cannot
 * be linked to its classification id, with it the DSO can map one back
 * (gf-anonymizer's reverse command recomputes and compares).
 *
 * A key has an id (hmac_key_id) that travels in every sealed document
 * (MeterReadings.pseudonymKeyId), so that keys can rotate.
 */
#ifndef GF_PSEUDONYM_H
#define GF_PSEUDONYM_H

#include <stddef.h>

#include "base/err.h"

/* Length of a pseudonym: base64url of the 32-byte MAC, unpadded. */
#define GF_PSEUDONYM_LEN        43
#define GF_PSEUDONYM_KEY_MIN    32  /* bytes */
#define GF_PSEUDONYM_KEY_MAX    128 /* bytes */
#define GF_PSEUDONYM_KEY_ID_MAX 64

struct gf_pseudonym_key {
	unsigned char key[GF_PSEUDONYM_KEY_MAX];
	size_t len;
	char id[GF_PSEUDONYM_KEY_ID_MAX + 1];
};

/*
 * Reads the key from the file at path: its bytes as they are, one trailing
 * newline removed, GF_PSEUDONYM_KEY_MIN to GF_PSEUDONYM_KEY_MAX bytes. A
 * file that its group or others may use (any of the mode bits 077) is
 * refused (GF_EDENIED, err naming the path and the mode), as ssh refuses a
 * private key. key_id (1 to GF_PSEUDONYM_KEY_ID_MAX characters of
 * [A-Za-z0-9._-]) is copied into out->id. GF_ENOENT/GF_EIO (the file),
 * GF_ERANGE (its size), GF_EINVAL (the id); err says which. The key is
 * never logged; wipe it with gf_pseudonym_key_wipe().
 */
enum gf_err gf_pseudonym_key_load(const char *path, const char *key_id,
                                  struct gf_pseudonym_key *out, char *err, size_t errlen);

/* Overwrites the key material (OPENSSL_cleanse). Accepts NULL. */
void gf_pseudonym_key_wipe(struct gf_pseudonym_key *k);

/*
 * Writes the pseudonym of id (len bytes, any content) into out
 * (GF_PSEUDONYM_LEN characters and a NUL). Deterministic: the same key and
 * id give the same pseudonym. GF_EIO only if OpenSSL fails.
 */
enum gf_err gf_pseudonym(const struct gf_pseudonym_key *k, const char *id, size_t len,
                         char out[GF_PSEUDONYM_LEN + 1]);

#endif
