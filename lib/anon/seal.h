/* SPDX-License-Identifier: MIT */
/*
 * seal.h - sealing and opening anon payloads (SPEC section 6, D6.1 8.3
 * layer 3): JWE compact serialization (RFC 7516), alg RSA-OAEP-256, enc
 * A256GCM, kid naming the recipient's key, cty naming the inner document's
 * Content Type. Both primitives are OpenSSL's, one call each (seal.c says
 * why not libjose's); python3-jwcrypto opens what this seals and seals what
 * this opens (tests/integration/seal_interop_test.sh), and libjose checks the
 * content encryption both ways (tests/unit/seal_libjose_test.c).
 *
 * The sender (gf-anonymizer) holds the Service Platform's public key; the
 * Service Platform (gf-sp) holds a ring of private keys by kid, so that a
 * new key can be added before the senders switch to it.
 */
#ifndef GF_SEAL_H
#define GF_SEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define GF_SEAL_KID_MAX 128 /* as GF_JWE_KID_MAX */
#define GF_SEAL_CTY_MAX 64

/* A recipient: an RSA public key (2048 bits or more) and its kid. */
struct gf_seal_to;

/*
 * Reads the recipient's public key from a PEM file (SubjectPublicKeyInfo,
 * "BEGIN PUBLIC KEY", or a certificate, "BEGIN CERTIFICATE"). kid: 1 to
 * GF_SEAL_KID_MAX printable ASCII characters. GF_ENOENT/GF_EIO (the file),
 * GF_ERANGE (a file over 64 KiB), GF_EPARSE (not such a PEM), GF_EINVAL
 * (not RSA, fewer than 2048 or more than 8192 bits, a bad kid), GF_ENOMEM;
 * err says which. Free with gf_seal_to_free() (accepts NULL).
 */
enum gf_err gf_seal_to_load(const char *pem_path, const char *kid, struct gf_seal_to **out,
                            char *err, size_t errlen);
void gf_seal_to_free(struct gf_seal_to *to);

/*
 * Seals len bytes of plain into a compact JWE for to: a fresh content key
 * and IV each call; the protected header holds alg, enc, kid and cty (when
 * cty is not NULL, e.g. "application/json"), nothing else. *out (malloc'd,
 * NUL-terminated, *outlen bytes without the NUL) belongs to the caller and
 * passes the broker's gf_jwe_check_compact(). GF_EINVAL for len 0 (the
 * broker refuses an empty ciphertext) or a cty that is not 1 to
 * GF_SEAL_CTY_MAX printable ASCII characters, GF_EIO when a library fails,
 * GF_ENOMEM.
 */
enum gf_err gf_seal(const struct gf_seal_to *to, const void *plain, size_t len, const char *cty,
                    char **out, size_t *outlen, char *err, size_t errlen);

/* The private keys of a recipient, by kid. */
struct gf_seal_ring;

/* An empty ring. GF_ENOMEM. Free with gf_seal_ring_free() (wipes keys). */
enum gf_err gf_seal_ring_new(struct gf_seal_ring **out);
void gf_seal_ring_free(struct gf_seal_ring *r);

/*
 * Adds the RSA private key in the PEM file at pem_path (PKCS#8 or PKCS#1,
 * unencrypted) under kid. A file that its group or others may use (any of
 * the mode bits 077) is refused (GF_EDENIED, err naming the path and the
 * mode), as ssh refuses a private key. GF_EEXIST for a kid already in the
 * ring; other errors as gf_seal_to_load. The ring only grows: to retire a
 * key, build a new ring without it.
 */
enum gf_err gf_seal_ring_add(struct gf_seal_ring *r, const char *pem_path, const char *kid,
                             char *err, size_t errlen);
/* How many keys the ring holds. */
size_t gf_seal_ring_count(const struct gf_seal_ring *r);

/* What gf_seal_open() learned of a payload, also when it fails. */
struct gf_seal_info {
	char kid[GF_SEAL_KID_MAX + 1]; /* "" when the header could not be read */
	char cty[GF_SEAL_CTY_MAX + 1]; /* "" when absent */
};

/*
 * Opens a compact JWE of len bytes (any bytes, not NUL-terminated) with the
 * ring's key named by its kid. On success *plain (malloc'd, with a NUL after
 * its *plen bytes) belongs to the caller. Errors, each with err saying why
 * and never quoting the content; all that can be found without a key is
 * found before any crypto:
 *   GF_EPARSE   not five parts of canonical unpadded base64url; an empty
 *               part; an encrypted key not the size of a 2048- to 8192-bit
 *               RSA key, an IV not of 96 bits, a tag not of 128 bits; a
 *               protected header over 1024 bytes, not a JSON object, with a
 *               duplicate member, without a kid of 1 to GF_SEAL_KID_MAX
 *               printable ASCII characters, with a cty that is not 1 to
 *               GF_SEAL_CTY_MAX of them, an alg or enc other than
 *               RSA-OAEP-256/A256GCM, zip or crit;
 *   GF_ENOENT   no key of that kid in the ring;
 *   GF_EDENIED  the key does not open it: another key, a changed header,
 *               encrypted key, IV, ciphertext or tag (one answer for all);
 *   GF_ENOMEM.
 * info (may be NULL) is filled as far as the header could be read: the kid
 * once it passed the rule above, then the cty. On failure *plain and *plen
 * are untouched.
 */
enum gf_err gf_seal_open(const struct gf_seal_ring *r, const char *jwe, size_t len, void **plain,
                         size_t *plen, struct gf_seal_info *info, char *err, size_t errlen);

#endif
