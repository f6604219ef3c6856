/* SPDX-License-Identifier: MIT */
/*
 * Sealing and opening, JWE compact serialization (RFC 7516) with
 * RSA-OAEP-256 and A256GCM (RFC 7518 sections 4.3 and 5.3): OpenSSL for both
 * primitives, one EVP call each; the JOSE around them (the protected
 * header, base64url, the five parts) is ours.
 *
 * Why not libjose, the JOSE library the issue suggested (issue 12):
 * - Debian 12's libjose 11, built against OpenSSL 3, registers no
 *   RSA-OAEP algorithm at all (rsaes.c tests `#ifdef
 *   EVP_PKEY_CTX_set_rsa_oaep_md`, a macro in OpenSSL 1.1 and a function in
 *   3; fixed upstream in 58112df, libjose 13), only RSA1_5. The key wrap
 *   was OpenSSL's from the start.
 * - Its A256GCM (openssl/aesgcm.c) feeds EVP_EncryptUpdate and the next
 *   stage one byte at a time: sealing 100 kB took 67 times as long as one
 *   EVP call, opening 12 times (tests/tools/gf-seal bench), half the
 *   anonymizer's CPU per reading and the reason the meter path missed its
 *   throughput goal.
 * What libjose did here is the two EVP_aes_256_gcm calls below with the
 * protected header, as sent, for additional data. The form is checked
 * against two independent JOSE implementations: python3-jwcrypto opens what
 * gf_seal seals and seals what gf_seal_open opens
 * (tests/integration/seal_interop_test.sh), and libjose, given the content
 * key, opens the A256GCM content of gf_seal and encrypts content gf_seal_open
 * opens (tests/unit/seal_test.c).
 *
 * Opening reads hostile input. Everything that can be refused without a key
 * is refused before any crypto: the split into five parts, base64url (and
 * its canonical form: two spellings of one IV must not both open), the
 * header (a JSON object without duplicate members, exactly RSA-OAEP-256 and
 * A256GCM, no compression, no critical extensions), the sizes of the IV and
 * the tag. A key that does not unwrap and a tag that does not verify give
 * the same answer, so that the answer is no oracle on the RSA padding.
 */
#include "anon/seal.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "anon/keyfile.h"
#include "base/b64url.h"

#define ALG        "RSA-OAEP-256"
#define ENC        "A256GCM"
#define CEK_LEN    32 /* A256GCM */
#define PEM_MAX    (64 * 1024)
#define RSA_MIN    2048
#define RSA_MAX    8192 /* the broker's form check allows up to 8192-bit keys */
#define HEADER_MAX 1024 /* decoded protected header, as the broker's check */
#define IV_LEN     12   /* 96 bits */
#define TAG_LEN    16   /* 128 bits */
#define IV_B64     16
#define TAG_B64    22

struct gf_seal_to {
	EVP_PKEY *pkey;
	size_t modlen; /* bytes */
	char kid[GF_SEAL_KID_MAX + 1];
};

struct ring_key {
	EVP_PKEY *pkey; /* private; OpenSSL wipes it on free */
	size_t modlen;
	char kid[GF_SEAL_KID_MAX + 1];
};

struct gf_seal_ring {
	struct ring_key *keys;
	size_t n, cap;
};

/* The unpadded base64url length of n bytes. */
static size_t b64_len(size_t n)
{
	return (4 * n + 2) / 3;
}

/* 1 to max printable ASCII characters. */
static bool printable(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		if (n == max || (unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
			return false;
	}
	return n > 0;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1; /* an encrypted key is refused, never prompted for */
}

/* An RSA key of RSA_MIN to RSA_MAX bits. */
static enum gf_err rsa_ok(EVP_PKEY *pkey, const char *path, char *err, size_t errlen)
{
	int bits;

	if (EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA)
		return gf_err_set(err, errlen, GF_EINVAL, "%s: not an RSA key", path);
	bits = EVP_PKEY_get_bits(pkey);
	if (bits < RSA_MIN || bits > RSA_MAX)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "%s: an RSA key of %d bits; it must have %d to %d", path, bits,
		                  RSA_MIN, RSA_MAX);
	return GF_OK;
}

/* RSA-OAEP with SHA-256 and MGF1-SHA-256 (RFC 7518 section 4.3). */
static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *pkey, bool encrypt)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pkey, NULL);

	if (pc && (encrypt ? EVP_PKEY_encrypt_init(pc) : EVP_PKEY_decrypt_init(pc)) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1)
		return pc;
	EVP_PKEY_CTX_free(pc);
	return NULL;
}

enum gf_err gf_seal_to_load(const char *pem_path, const char *kid, struct gf_seal_to **out,
                            char *err, size_t errlen)
{
	struct gf_seal_to *to = NULL;
	unsigned char *pem = NULL;
	size_t pemlen = 0;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	enum gf_err rc;

	if (!printable(kid, GF_SEAL_KID_MAX))
		return gf_err_set(err, errlen, GF_EINVAL, "kid: 1 to %d printable ASCII characters",
		                  GF_SEAL_KID_MAX);
	rc = gf__keyfile_read(pem_path, PEM_MAX, false, &pem, &pemlen, err, errlen);
	if (rc != GF_OK)
		goto out;
	if (!(bio = BIO_new_mem_buf(pem, (int)pemlen))) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "%s: out of memory", pem_path);
		goto out;
	}
	pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (!pkey) {
		(void)BIO_reset(bio);
		cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
		pkey = cert ? X509_get_pubkey(cert) : NULL;
	}
	if (!pkey) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "%s: no PEM public key (BEGIN PUBLIC KEY) or certificate (BEGIN "
		                "CERTIFICATE)",
		                pem_path);
		goto out;
	}
	if ((rc = rsa_ok(pkey, pem_path, err, errlen)) != GF_OK)
		goto out;
	if (!(to = calloc(1, sizeof(*to)))) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
		goto out;
	}
	to->pkey = pkey;
	to->modlen = (size_t)EVP_PKEY_get_size(pkey);
	pkey = NULL;
	snprintf(to->kid, sizeof(to->kid), "%s", kid);
	*out = to;
	to = NULL;
out:
	gf_seal_to_free(to);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	BIO_free(bio);
	gf__keyfile_free(pem, pemlen);
	ERR_clear_error(); /* leave no stale errors to the thread's next TLS call */
	return rc;
}

void gf_seal_to_free(struct gf_seal_to *to)
{
	if (!to)
		return;
	EVP_PKEY_free(to->pkey);
	free(to);
}

/* The protected header, as JSON: everything in it, so that it is
 * authenticated and fits the compact form: alg, enc, kid, cty, and nothing
 * of the key. */
static char *protected_header(const char *kid, const char *cty)
{
	json_t *h = json_pack("{s:s,s:s,s:s}", "alg", ALG, "enc", ENC, "kid", kid);
	char *s = NULL;

	if (h && (!cty || json_object_set_new(h, "cty", json_string(cty)) == 0))
		s = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	return s;
}

/* A256GCM of len bytes at pt into ct (as many bytes) and tag, with aad as
 * the additional data: one EVP call for the whole plaintext. */
static bool gcm_encrypt(const unsigned char key[CEK_LEN], const unsigned char iv[IV_LEN],
                        const char *aad, size_t aadlen, const void *pt, size_t len,
                        unsigned char *ct, unsigned char tag[TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	bool ok = c && len <= INT_MAX && aadlen <= INT_MAX &&
	          EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
	          EVP_EncryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)aadlen) == 1 &&
	          EVP_EncryptUpdate(c, ct, &n, pt, (int)len) == 1 && (size_t)n == len &&
	          EVP_EncryptFinal_ex(c, ct + n, &fin) == 1 && fin == 0 &&
	          EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;

	EVP_CIPHER_CTX_free(c); /* wipes the key schedule */
	return ok;
}

/* Appends '.' (but before the first part) and the base64url of n bytes. */
static char *put_part(char *p, bool first, const void *raw, size_t n)
{
	if (!first)
		*p++ = '.';
	gf_b64url_encode(raw, n, p);
	return p + gf_b64url_encoded_len(n);
}

enum gf_err gf_seal(const struct gf_seal_to *to, const void *plain, size_t len, const char *cty,
                    char **out, size_t *outlen, char *err, size_t errlen)
{
	unsigned char cek[CEK_LEN], ek[RSA_MAX / 8], iv[IV_LEN], tag[TAG_LEN], *ct = NULL;
	size_t eklen = sizeof(ek), hlen, total;
	EVP_PKEY_CTX *pc = NULL;
	char *hdr = NULL, *s = NULL, *p;
	enum gf_err rc;

	if (len == 0)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "nothing to seal (a sealed payload has a non-empty ciphertext)");
	if (len > INT_MAX)
		return gf_err_set(err, errlen, GF_ETOOLONG, "%zu bytes are too many to seal", len);
	if (cty && !printable(cty, GF_SEAL_CTY_MAX))
		return gf_err_set(err, errlen, GF_EINVAL, "cty: 1 to %d printable ASCII characters",
		                  GF_SEAL_CTY_MAX);
	/* A fresh content key, wrapped to the recipient, and a fresh IV. */
	if (RAND_priv_bytes(cek, sizeof(cek)) != 1 || RAND_bytes(iv, sizeof(iv)) != 1 ||
	    !(pc = oaep_ctx(to->pkey, true)) ||
	    EVP_PKEY_encrypt(pc, ek, &eklen, cek, sizeof(cek)) != 1 || eklen != to->modlen) {
		rc = gf_err_set(err, errlen, GF_EIO, "OpenSSL could not wrap the content key");
		goto out;
	}
	if (!(hdr = protected_header(to->kid, cty))) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
		goto out;
	}
	hlen = gf_b64url_encoded_len(strlen(hdr));
	total = hlen + 1 + b64_len(eklen) + 1 + IV_B64 + 1 + b64_len(len) + 1 + TAG_B64;
	if (!(s = malloc(total + 1)) || !(ct = malloc(len))) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
		goto out;
	}
	/* The encoded header is the additional data (RFC 7516 5.1 step 14). */
	p = put_part(s, true, hdr, strlen(hdr));
	if (!gcm_encrypt(cek, iv, s, hlen, plain, len, ct, tag)) {
		rc = gf_err_set(err, errlen, GF_EIO, "OpenSSL could not encrypt the payload");
		goto out;
	}
	p = put_part(p, false, ek, eklen);
	p = put_part(p, false, iv, sizeof(iv));
	p = put_part(p, false, ct, len);
	p = put_part(p, false, tag, sizeof(tag));
	*p = '\0';
	*out = s;
	*outlen = total;
	s = NULL;
	rc = GF_OK;
out:
	free(s);
	free(ct);
	free(hdr);
	EVP_PKEY_CTX_free(pc);
	OPENSSL_cleanse(cek, sizeof(cek));
	ERR_clear_error();
	return rc;
}

enum gf_err gf_seal_ring_new(struct gf_seal_ring **out)
{
	struct gf_seal_ring *r = calloc(1, sizeof(*r));

	if (!r)
		return GF_ENOMEM;
	*out = r;
	return GF_OK;
}

void gf_seal_ring_free(struct gf_seal_ring *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		EVP_PKEY_free(r->keys[i].pkey);
	free(r->keys);
	free(r);
}

static const struct ring_key *ring_find(const struct gf_seal_ring *r, const char *kid)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->keys[i].kid, kid) == 0)
			return &r->keys[i];
	}
	return NULL;
}

enum gf_err gf_seal_ring_add(struct gf_seal_ring *r, const char *pem_path, const char *kid,
                             char *err, size_t errlen)
{
	unsigned char *pem = NULL;
	size_t pemlen = 0;
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	enum gf_err rc;

	if (!printable(kid, GF_SEAL_KID_MAX))
		return gf_err_set(err, errlen, GF_EINVAL, "kid: 1 to %d printable ASCII characters",
		                  GF_SEAL_KID_MAX);
	if (ring_find(r, kid))
		return gf_err_set(err, errlen, GF_EEXIST, "kid %s: already in the ring", kid);
	rc = gf__keyfile_read(pem_path, PEM_MAX, true, &pem, &pemlen, err, errlen);
	if (rc != GF_OK)
		goto out;
	if (!(bio = BIO_new_mem_buf(pem, (int)pemlen))) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "%s: out of memory", pem_path);
		goto out;
	}
	/* PKCS#8 or PKCS#1; an encrypted one fails in no_passphrase. */
	if (!(pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL))) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "%s: no unencrypted PEM private key (BEGIN PRIVATE KEY or BEGIN "
		                "RSA PRIVATE KEY)",
		                pem_path);
		goto out;
	}
	if ((rc = rsa_ok(pkey, pem_path, err, errlen)) != GF_OK)
		goto out;
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4;
		struct ring_key *k = realloc(r->keys, cap * sizeof(*k));
		if (!k) {
			rc = gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
			goto out;
		}
		r->keys = k;
		r->cap = cap;
	}
	r->keys[r->n].pkey = pkey;
	r->keys[r->n].modlen = (size_t)EVP_PKEY_get_size(pkey);
	snprintf(r->keys[r->n].kid, sizeof(r->keys[r->n].kid), "%s", kid);
	r->n++;
	pkey = NULL;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	gf__keyfile_free(pem, pemlen);
	ERR_clear_error();
	return rc;
}

size_t gf_seal_ring_count(const struct gf_seal_ring *r)
{
	return r ? r->n : 0;
}

/* --- opening ------------------------------------------------------------- */

/* Unpadded base64url in its one canonical spelling: a length that decodes
 * to whole bytes, and the unused low bits of the last character zero. */
static bool b64url_canonical(const char *s, size_t n)
{
	int last;

	if (n % 4 == 1 || !gf_b64url_valid(s, n))
		return false;
	last = n ? gf_b64url_value((unsigned char)s[n - 1]) : 0;
	if (n % 4 == 2)
		return (last & 0x0f) == 0;
	if (n % 4 == 3)
		return (last & 0x03) == 0;
	return true;
}

struct compact_parts {
	const char *p[5];
	size_t n[5];
};

static enum gf_err split(const char *jwe, size_t len, struct compact_parts *cp, char *err,
                         size_t errlen)
{
	static const char *const names[5] = {"protected header", "encrypted key",
	                                     "initialization vector", "ciphertext",
	                                     "authentication tag"};
	const char *p = jwe, *end = jwe + len;
	size_t k = 0;

	if (!jwe || len == 0)
		return gf_err_set(err, errlen, GF_EPARSE, "JWE: empty");
	for (;;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		if (k == 5)
			return gf_err_set(err, errlen, GF_EPARSE, "JWE: more than five parts");
		cp->p[k] = p;
		cp->n[k] = (size_t)((dot ? dot : end) - p);
		k++;
		if (!dot)
			break;
		p = dot + 1;
	}
	if (k != 5)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE: %zu parts, a compact JWE has five separated by '.'", k);
	for (size_t i = 0; i < 5; i++) {
		if (cp->n[i] == 0)
			return gf_err_set(err, errlen, GF_EPARSE, "JWE %s: empty", names[i]);
		if (!b64url_canonical(cp->p[i], cp->n[i]))
			return gf_err_set(err, errlen, GF_EPARSE,
			                  "JWE %s: not canonical unpadded base64url", names[i]);
	}
	if (cp->n[1] < b64_len(RSA_MIN / 8) || cp->n[1] > b64_len(RSA_MAX / 8))
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE encrypted key: not the size of an RSA key of %d to %d bits",
		                  RSA_MIN, RSA_MAX);
	if (cp->n[2] != IV_B64)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE initialization vector: A256GCM takes 96 bits");
	if (cp->n[4] != TAG_B64)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE authentication tag: A256GCM takes 128 bits");
	return GF_OK;
}

/* A member of the header that, when present, is 1 to max printable ASCII
 * characters (no NUL inside, which jansson would allow through \u0000). */
static bool header_text(const json_t *v, size_t max)
{
	return json_is_string(v) && printable(json_string_value(v), max) &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

/* Reads the protected header into info and checks what it asks for. */
static enum gf_err read_header(const char *part, size_t n, struct gf_seal_info *info, char *err,
                               size_t errlen)
{
	unsigned char raw[HEADER_MAX];
	size_t rawlen;
	json_t *h = NULL;
	const json_t *kid, *cty, *alg, *enc;
	enum gf_err rc;

	if (n > b64_len(HEADER_MAX))
		return gf_err_set(err, errlen, GF_EPARSE, "JWE protected header: over %d bytes",
		                  HEADER_MAX);
	if (gf_b64url_decode(part, n, raw, sizeof(raw), &rawlen) != GF_OK)
		return gf_err_set(err, errlen, GF_EPARSE, "JWE protected header: not base64url");
	/* Duplicate members refused: a header must mean one thing to every
	 * JOSE implementation that reads it. */
	h = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(h)) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: not a JSON object (without duplicate "
		                "members)");
		goto out;
	}
	kid = json_object_get(h, "kid");
	cty = json_object_get(h, "cty");
	alg = json_object_get(h, "alg");
	enc = json_object_get(h, "enc");
	/* The kid goes into info, and from there maybe into a log: printable
	 * only, as gf_seal_ring_add takes it. */
	if (!header_text(kid, GF_SEAL_KID_MAX)) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: kid must be 1 to %d printable ASCII "
		                "characters",
		                GF_SEAL_KID_MAX);
		goto out;
	}
	snprintf(info->kid, sizeof(info->kid), "%s", json_string_value(kid));
	if (cty && !header_text(cty, GF_SEAL_CTY_MAX)) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: cty must be 1 to %d printable ASCII "
		                "characters",
		                GF_SEAL_CTY_MAX);
		goto out;
	}
	if (cty)
		snprintf(info->cty, sizeof(info->cty), "%s", json_string_value(cty));
	if (!json_is_string(alg) || strcmp(json_string_value(alg), ALG) != 0) {
		rc = gf_err_set(err, errlen, GF_EPARSE, "JWE protected header: alg must be " ALG);
		goto out;
	}
	if (!json_is_string(enc) || strcmp(json_string_value(enc), ENC) != 0) {
		rc = gf_err_set(err, errlen, GF_EPARSE, "JWE protected header: enc must be " ENC);
		goto out;
	}
	/* Compression would have to be inflated, without a bound. */
	if (json_object_get(h, "zip")) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: compression (zip) is refused");
		goto out;
	}
	if (json_object_get(h, "crit")) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: no critical extension (crit) is understood");
		goto out;
	}
	rc = GF_OK;
out:
	json_decref(h);
	return rc;
}

/* Unwraps the content key; false for a key that does not unwrap it. */
static bool unwrap(const struct ring_key *key, const struct compact_parts *cp,
                   unsigned char cek[CEK_LEN])
{
	unsigned char ek[RSA_MAX / 8], out[RSA_MAX / 8];
	size_t eklen, outlen = sizeof(out);
	EVP_PKEY_CTX *pc = NULL;
	bool ok = false;

	/* RSA-OAEP's output is exactly the modulus' size. */
	if (gf_b64url_decode(cp->p[1], cp->n[1], ek, sizeof(ek), &eklen) != GF_OK ||
	    eklen != key->modlen || !(pc = oaep_ctx(key->pkey, false)) ||
	    EVP_PKEY_decrypt(pc, out, &outlen, ek, eklen) != 1 || outlen != CEK_LEN)
		goto out;
	memcpy(cek, out, CEK_LEN);
	ok = true;
out:
	OPENSSL_cleanse(out, sizeof(out));
	EVP_PKEY_CTX_free(pc);
	return ok;
}

/* Decrypts the ciphertext part into a new buffer (*pt, *ptl bytes and a NUL)
 * and verifies the tag over the header as sent, the IV and the ciphertext;
 * what was decrypted before the tag failed is wiped. */
static bool decrypt(const unsigned char cek[CEK_LEN], const struct compact_parts *cp,
                    unsigned char **pt, size_t *ptl)
{
	size_t cap = gf_b64url_decoded_len(cp->n[3]), n = 0, ivl = 0, tagl = 0;
	unsigned char iv[IV_LEN], tag[TAG_LEN], *ct = malloc(cap ? cap : 1), *buf = malloc(cap + 1);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl = 0, fin = 0;
	bool ok =
	    c && ct && buf && cap <= INT_MAX && cp->n[0] <= INT_MAX &&
	    gf_b64url_decode(cp->p[2], cp->n[2], iv, sizeof(iv), &ivl) == GF_OK && ivl == IV_LEN &&
	    gf_b64url_decode(cp->p[4], cp->n[4], tag, sizeof(tag), &tagl) == GF_OK &&
	    tagl == TAG_LEN && gf_b64url_decode(cp->p[3], cp->n[3], ct, cap, &n) == GF_OK &&
	    n == cap && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, cek, iv) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &outl, (const unsigned char *)cp->p[0], (int)cp->n[0]) ==
	        1 &&
	    EVP_DecryptUpdate(c, buf, &outl, ct, (int)cap) == 1 && (size_t)outl == cap &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
	    EVP_DecryptFinal_ex(c, buf + outl, &fin) == 1 && fin == 0;

	EVP_CIPHER_CTX_free(c);
	free(ct);
	if (!ok) {
		if (buf)
			OPENSSL_cleanse(buf, cap);
		free(buf);
		return false;
	}
	buf[cap] = '\0';
	*pt = buf;
	*ptl = cap;
	return true;
}

enum gf_err gf_seal_open(const struct gf_seal_ring *r, const char *jwe, size_t len, void **plain,
                         size_t *plen, struct gf_seal_info *info, char *err, size_t errlen)
{
	struct gf_seal_info inf;
	struct compact_parts cp;
	const struct ring_key *key;
	unsigned char cek[CEK_LEN], *pt = NULL;
	size_t ptl = 0;
	bool opened = false;
	enum gf_err rc;

	memset(&inf, 0, sizeof(inf));
	if ((rc = split(jwe, len, &cp, err, errlen)) != GF_OK ||
	    (rc = read_header(cp.p[0], cp.n[0], &inf, err, errlen)) != GF_OK)
		goto out;
	if (!(key = ring_find(r, inf.kid))) {
		rc = gf_err_set(err, errlen, GF_ENOENT, "JWE: no key in the ring for its kid");
		goto out;
	}
	/* One answer for a key that does not unwrap and a tag that does not
	 * verify: no oracle on the RSA padding. (Out of memory in decrypt
	 * looks the same; it is not worth a second path.) */
	if (unwrap(key, &cp, cek))
		opened = decrypt(cek, &cp, &pt, &ptl);
	if (!opened) {
		rc = gf_err_set(err, errlen, GF_EDENIED,
		                "JWE: does not open with the key of its kid (another key, or "
		                "the header, key, IV, ciphertext or tag changed)");
		goto out;
	}
	*plain = pt;
	*plen = ptl;
	rc = GF_OK;
out:
	OPENSSL_cleanse(cek, sizeof(cek));
	ERR_clear_error();
	if (info)
		*info = inf;
	return rc;
}
