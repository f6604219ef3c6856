/* SPDX-License-Identifier: MIT */
/*
 * Sealing and opening with libjose. libjose works on the JSON (flattened)
 * serialization of a JWE; the compact form is its five members joined by
 * dots, and opening rebuilds the flattened object from the five parts. That
 * is all the JWE code here does by hand: the key wrap, the content
 * encryption and the tag are libjose's.
 *
 * Opening reads hostile input. Everything that can be refused without a key
 * is refused before any crypto: the split into five parts, base64url (and
 * its canonical form: two spellings of one IV must not both open), the
 * header (a JSON object without duplicate members, exactly RSA-OAEP-256 and
 * A256GCM, no compression, no critical extensions), the sizes of the IV and
 * the tag. libjose itself would accept other algorithms (RSA1_5, and zip,
 * which inflates without a bound), so the checks are not a formality.
 */
#include "anon/seal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jose/b64.h>
#include <jose/jwe.h>
#include <jose/openssl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "anon/keyfile.h"

#define ALG        "RSA-OAEP-256"
#define ENC        "A256GCM"
#define PEM_MAX    (64 * 1024)
#define RSA_MIN    2048
#define RSA_MAX    8192 /* the broker's form check allows up to 8192-bit keys */
#define HEADER_MAX 1024 /* decoded protected header, as the broker's check */
#define IV_B64     16   /* 96 bits */
#define TAG_B64    22   /* 128 bits */

struct gf_seal_to {
	jose_cfg_t *cfg;
	json_t *jwk; /* public; "alg" pinned to RSA-OAEP-256 */
	char kid[GF_SEAL_KID_MAX + 1];
};

struct ring_key {
	json_t *jwk; /* private; "alg" pinned to RSA-OAEP-256 */
	size_t modlen;
	char kid[GF_SEAL_KID_MAX + 1];
};

struct gf_seal_ring {
	jose_cfg_t *cfg;
	struct ring_key *keys;
	size_t n, cap;
};

/* libjose's default error handler writes to stderr; ours says nothing (the
 * messages may name header values) and the caller's err says why. */
static void jose_quiet(void *misc, const char *file, int line, uint64_t code, const char *fmt,
                       va_list ap)
{
	(void)misc;
	(void)file;
	(void)line;
	(void)code;
	(void)fmt;
	(void)ap;
}

static jose_cfg_t *quiet_cfg(void)
{
	jose_cfg_t *cfg = jose_cfg();

	if (cfg)
		jose_cfg_set_err_func(cfg, jose_quiet, NULL);
	return cfg;
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

/* Wipes the strings of a JWK (a private key's d, p, q, dp, dq, qi) before
 * jansson frees them: jansson allocated them, writable, and frees them
 * without wiping. */
static void jwk_free(json_t *jwk)
{
	const char *name;
	json_t *v;

	if (!jwk)
		return;
	json_object_foreach(jwk, name, v)
	{
		if (json_is_string(v))
			OPENSSL_cleanse((char *)(uintptr_t)json_string_value(v),
			                json_string_length(v));
	}
	json_decref(jwk);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1; /* an encrypted key is refused, never prompted for */
}

/* An RSA key of RSA_MIN to RSA_MAX bits, as a JWK whose alg is RSA-OAEP-256. */
static enum gf_err rsa_jwk(jose_cfg_t *cfg, EVP_PKEY *pkey, const char *path, json_t **out,
                           char *err, size_t errlen)
{
	json_t *jwk = NULL;
	int bits;

	if (EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA)
		return gf_err_set(err, errlen, GF_EINVAL, "%s: not an RSA key", path);
	bits = EVP_PKEY_get_bits(pkey);
	if (bits < RSA_MIN || bits > RSA_MAX)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "%s: an RSA key of %d bits; it must have %d to %d", path, bits,
		                  RSA_MIN, RSA_MAX);
	jwk = jose_openssl_jwk_from_EVP_PKEY(cfg, pkey);
	if (!jwk || json_object_set_new(jwk, "alg", json_string(ALG)) != 0) {
		jwk_free(jwk);
		return gf_err_set(err, errlen, GF_ENOMEM, "%s: libjose could not take the key",
		                  path);
	}
	*out = jwk;
	return GF_OK;
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
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "kid: 1 to %d printable ASCII characters", GF_SEAL_KID_MAX);
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
	if (!(to = calloc(1, sizeof(*to))) || !(to->cfg = quiet_cfg())) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
		goto out;
	}
	rc = rsa_jwk(to->cfg, pkey, pem_path, &to->jwk, err, errlen);
	if (rc != GF_OK)
		goto out;
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
	json_decref(to->jwk);
	if (to->cfg)
		jose_cfg_decref(to->cfg);
	free(to);
}

/* The compact form from libjose's flattened JWE: exactly the five members,
 * nothing a compact JWE could not carry (an unprotected header). */
static enum gf_err compact(const json_t *jwe, char **out, size_t *outlen, char *err,
                           size_t errlen)
{
	static const char *const names[5] = {"protected", "encrypted_key", "iv", "ciphertext",
	                                     "tag"};
	const char *part[5];
	size_t plen[5], total = 4;
	char *s, *p;

	if (json_object_size(jwe) != 5)
		return gf_err_set(err, errlen, GF_EIO,
		                  "libjose's JWE has members a compact JWE cannot carry");
	for (size_t i = 0; i < 5; i++) {
		const json_t *v = json_object_get(jwe, names[i]);
		if (!json_is_string(v))
			return gf_err_set(err, errlen, GF_EIO, "libjose's JWE has no %s",
			                  names[i]);
		part[i] = json_string_value(v);
		plen[i] = json_string_length(v);
		total += plen[i];
	}
	if (!(s = malloc(total + 1)))
		return gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
	p = s;
	for (size_t i = 0; i < 5; i++) {
		if (i > 0)
			*p++ = '.';
		memcpy(p, part[i], plen[i]);
		p += plen[i];
	}
	*p = '\0';
	*out = s;
	*outlen = total;
	return GF_OK;
}

enum gf_err gf_seal(const struct gf_seal_to *to, const void *plain, size_t len, const char *cty,
                    char **out, size_t *outlen, char *err, size_t errlen)
{
	json_t *jwe = NULL, *hdr;
	enum gf_err rc;

	if (len == 0)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "nothing to seal (a sealed payload has a non-empty ciphertext)");
	if (cty && !printable(cty, GF_SEAL_CTY_MAX))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "cty: 1 to %d printable ASCII characters", GF_SEAL_CTY_MAX);
	/* Everything in the protected header, so that it is authenticated and
	 * fits the compact form: libjose adds nothing to it once alg and enc are
	 * named (neither the key nor its parameters). */
	jwe = json_pack("{s:{s:s,s:s,s:s}}", "protected", "alg", ALG, "enc", ENC, "kid", to->kid);
	hdr = json_object_get(jwe, "protected");
	if (!hdr || (cty && json_object_set_new(hdr, "cty", json_string(cty)) != 0)) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
		goto out;
	}
	if (!jose_jwe_enc(to->cfg, jwe, NULL, to->jwk, plain, len)) {
		rc = gf_err_set(err, errlen, GF_EIO, "libjose could not seal the payload");
		goto out;
	}
	rc = compact(jwe, out, outlen, err, errlen);
out:
	json_decref(jwe);
	ERR_clear_error();
	return rc;
}

enum gf_err gf_seal_ring_new(struct gf_seal_ring **out)
{
	struct gf_seal_ring *r = calloc(1, sizeof(*r));

	if (!r)
		return GF_ENOMEM;
	if (!(r->cfg = quiet_cfg())) {
		free(r);
		return GF_ENOMEM;
	}
	*out = r;
	return GF_OK;
}

void gf_seal_ring_free(struct gf_seal_ring *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		jwk_free(r->keys[i].jwk);
	free(r->keys);
	jose_cfg_decref(r->cfg);
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
	json_t *jwk = NULL;
	enum gf_err rc;

	if (!printable(kid, GF_SEAL_KID_MAX))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "kid: 1 to %d printable ASCII characters", GF_SEAL_KID_MAX);
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
	rc = rsa_jwk(r->cfg, pkey, pem_path, &jwk, err, errlen);
	if (rc != GF_OK)
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
	r->keys[r->n].jwk = jwk;
	r->keys[r->n].modlen = (size_t)EVP_PKEY_get_size(pkey);
	snprintf(r->keys[r->n].kid, sizeof(r->keys[r->n].kid), "%s", kid);
	r->n++;
	jwk = NULL;
out:
	jwk_free(jwk);
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

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Unpadded base64url in its one canonical spelling: a length that decodes
 * to whole bytes, and the unused low bits of the last character zero. */
static bool b64url_canonical(const char *s, size_t n)
{
	int last = 0;

	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((last = b64url_value((unsigned char)s[i])) < 0)
			return false;
	}
	if (n % 4 == 2)
		return (last & 0x0f) == 0;
	if (n % 4 == 3)
		return (last & 0x03) == 0;
	return true;
}

/* The unpadded base64url length of n bytes. */
static size_t b64_len(size_t n)
{
	return (4 * n + 2) / 3;
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
	if (cp->n[2] != IV_B64)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE initialization vector: A256GCM takes 96 bits");
	if (cp->n[4] != TAG_B64)
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE authentication tag: A256GCM takes 128 bits");
	return GF_OK;
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
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "JWE protected header: over %d bytes", HEADER_MAX);
	rawlen = jose_b64_dec_buf(part, n, raw, sizeof(raw));
	if (rawlen == SIZE_MAX)
		return gf_err_set(err, errlen, GF_EPARSE, "JWE protected header: not base64url");
	/* Duplicate members refused: the header read here and the one libjose
	 * reads must be the same header. */
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
	if (!json_is_string(kid) || !printable(json_string_value(kid), GF_SEAL_KID_MAX) ||
	    strlen(json_string_value(kid)) != json_string_length(kid)) {
		rc = gf_err_set(err, errlen, GF_EPARSE,
		                "JWE protected header: kid must be 1 to %d printable ASCII "
		                "characters",
		                GF_SEAL_KID_MAX);
		goto out;
	}
	snprintf(info->kid, sizeof(info->kid), "%s", json_string_value(kid));
	if (cty && (!json_is_string(cty) || !printable(json_string_value(cty), GF_SEAL_CTY_MAX) ||
	            strlen(json_string_value(cty)) != json_string_length(cty))) {
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
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* The flattened JSON serialization libjose opens, from the five parts. */
static json_t *flattened(const struct compact_parts *cp)
{
	static const char *const names[5] = {"protected", "encrypted_key", "iv", "ciphertext",
	                                     "tag"};
	json_t *jwe = json_object();

	for (size_t i = 0; jwe && i < 5; i++) {
		if (json_object_set_new(jwe, names[i], json_stringn(cp->p[i], cp->n[i])) != 0) {
			json_decref(jwe);
			jwe = NULL;
		}
	}
	return jwe;
}

enum gf_err gf_seal_open(const struct gf_seal_ring *r, const char *jwe, size_t len, void **plain,
                         size_t *plen, struct gf_seal_info *info, char *err, size_t errlen)
{
	struct gf_seal_info inf;
	struct compact_parts cp;
	const struct ring_key *key;
	json_t *obj = NULL;
	unsigned char *pt = NULL, *copy = NULL;
	size_t ptl = 0;
	enum gf_err rc;

	memset(&inf, 0, sizeof(inf));
	if ((rc = split(jwe, len, &cp, err, errlen)) != GF_OK ||
	    (rc = read_header(cp.p[0], cp.n[0], &inf, err, errlen)) != GF_OK)
		goto out;
	if (!(key = ring_find(r, inf.kid))) {
		rc = gf_err_set(err, errlen, GF_ENOENT, "JWE: no key in the ring for its kid");
		goto out;
	}
	/* RSA-OAEP output is exactly the modulus' size. */
	if (cp.n[1] != b64_len(key->modlen)) {
		rc = gf_err_set(err, errlen, GF_EDENIED,
		                "JWE encrypted key: not the size of the key of its kid");
		goto out;
	}
	if (!(obj = flattened(&cp))) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
		goto out;
	}
	/* NULL for a key that does not unwrap the CEK and for a tag that does
	 * not verify (over the header, IV and ciphertext): libjose releases no
	 * plaintext unless the tag verifies. */
	pt = jose_jwe_dec(r->cfg, obj, NULL, key->jwk, &ptl);
	if (!pt) {
		rc = gf_err_set(err, errlen, GF_EDENIED,
		                "JWE: does not open with the key of its kid (another key, or "
		                "the header, key, IV, ciphertext or tag changed)");
		goto out;
	}
	if (!(copy = malloc(ptl + 1))) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
		goto out;
	}
	memcpy(copy, pt, ptl);
	copy[ptl] = '\0';
	*plain = copy;
	*plen = ptl;
	rc = GF_OK;
out:
	if (pt) {
		OPENSSL_cleanse(pt, ptl);
		free(pt);
	}
	json_decref(obj);
	ERR_clear_error();
	if (info)
		*info = inf;
	return rc;
}
