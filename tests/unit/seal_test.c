/* SPDX-License-Identifier: MIT */
/*
 * Sealing and opening (lib/anon/seal.c): round trips that the broker's form
 * check accepts, a header with alg, enc, kid, cty and nothing else; every
 * refusal with its error: another key, an unknown kid, a changed header,
 * encrypted key, IV, ciphertext or tag, truncations, other algorithms,
 * small or non-RSA keys, key files others may read, rotation in a ring.
 *
 * Keys come from the openssl command, made once by the test runner (before
 * Criterion forks the tests). JWEs with headers gf_seal never writes are
 * made here with OpenSSL directly (make_jwe: RSA-OAEP-256 and AES-256-GCM,
 * an implementation beside lib/anon, libjose and jwcrypto), so that a refused
 * header is refused for what it says, not for bad crypto.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "anon/seal.h"
#include "payload/jwe.h"

#include "leak_check.h"

static char dir[64];
static pid_t maker;

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "seal_test: failed: %s\n", cmd);
		exit(1);
	}
}

/* The keys, once for all tests: k1, k2 (2048 bits), k3 (3072 bits), small
 * (1024 bits), ec (P-256), pss (RSA-PSS), k1 as PKCS#1, encrypted, and in a
 * certificate. Private keys 0600, public keys 0644. Made by the first
 * process; the tests' processes (forked, or started anew, by Criterion)
 * find them through the environment. */
__attribute__((constructor)) static void make_keys(void)
{
	const char *have = getenv("GF_SEAL_TEST_KEYS");
	char cmd[1024];

	if (have) {
		snprintf(dir, sizeof(dir), "%s", have);
		return;
	}
	snprintf(dir, sizeof(dir), "/tmp/gf-seal-test-XXXXXX");
	if (!mkdtemp(dir))
		exit(1);
	maker = getpid();
	snprintf(
	    cmd, sizeof(cmd),
	    "set -e; cd '%s'; umask 077; g='openssl genpkey -quiet -algorithm RSA -pkeyopt "
	    "rsa_keygen_bits:'; ${g}2048 -out k1.pem; ${g}2048 -out k2.pem; ${g}3072 -out k3.pem; "
	    "${g}1024 -out small.pem; "
	    "openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem; "
	    "openssl genpkey -quiet -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out pss.pem; "
	    "openssl pkey -in k1.pem -traditional -out k1-pkcs1.pem; "
	    "openssl pkey -in k1.pem -aes256 -passout pass:secret -out k1-enc.pem; "
	    "umask 022; for k in k1 k2 k3 small ec pss; do "
	    "openssl pkey -in $k.pem -pubout -out $k.pub; done; "
	    "openssl req -x509 -key k1.pem -subj /CN=sp -days 2 -out k1.crt 2>/dev/null",
	    dir);
	sh(cmd);
	setenv("GF_SEAL_TEST_KEYS", dir, 1);
}

__attribute__((destructor)) static void remove_keys(void)
{
	char cmd[128];

	if (getpid() != maker || !dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	sh(cmd);
}

static void fini(void)
{
	ERR_clear_error();
	leak_check();
}

TestSuite(seal, .fini = fini);

static const char *path(const char *name)
{
	static char p[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static struct gf_seal_to *to_key(const char *name, const char *kid)
{
	struct gf_seal_to *to = NULL;
	char err[256] = "";

	cr_assert_eq(gf_seal_to_load(path(name), kid, &to, err, sizeof(err)), GF_OK, "%s", err);
	return to;
}

/* A ring of name/kid pairs, NULL-terminated. */
static struct gf_seal_ring *ring_of(const char *name, const char *kid, ...)
{
	struct gf_seal_ring *r = NULL;
	char err[256] = "";
	va_list ap;

	cr_assert_eq(gf_seal_ring_new(&r), GF_OK);
	va_start(ap, kid);
	while (name) {
		cr_assert_eq(gf_seal_ring_add(r, path(name), kid, err, sizeof(err)), GF_OK, "%s",
		             err);
		name = va_arg(ap, const char *);
		if (name)
			kid = va_arg(ap, const char *);
	}
	va_end(ap);
	return r;
}

static char *seal(const struct gf_seal_to *to, const void *plain, size_t len, const char *cty,
                  size_t *outlen)
{
	char *jwe = NULL, err[256] = "";

	cr_assert_eq(gf_seal(to, plain, len, cty, &jwe, outlen, err, sizeof(err)), GF_OK, "%s",
	             err);
	cr_assert_eq(strlen(jwe), *outlen);
	return jwe;
}

static struct gf_seal_info info;
static char err[256];

/* gf_seal_open, checking that a refusal leaves the outputs untouched, quotes
 * nothing of the JWE and leaves no OpenSSL error behind. */
static enum gf_err open_(const struct gf_seal_ring *r, const char *jwe, size_t len, void **plain,
                         size_t *plen)
{
	void *p = (void *)0x1;
	size_t n = 12345;
	enum gf_err rc;

	memset(&info, 'x', sizeof(info));
	err[0] = '\0';
	rc = gf_seal_open(r, jwe, len, &p, &n, &info, err, sizeof(err));
	cr_assert_eq(ERR_peek_error(), 0);
	if (rc != GF_OK) {
		cr_assert(p == (void *)0x1 && n == 12345);
		cr_assert(err[0] != '\0');
		if (len >= 16 && !memchr(jwe, '\0', 16)) {
			char head[17];
			memcpy(head, jwe, 16);
			head[16] = '\0';
			cr_assert_null(strstr(err, head), "%s", err);
		}
	} else {
		cr_assert_eq(((char *)p)[n], '\0');
	}
	if (plain)
		*plain = rc == GF_OK ? p : NULL;
	else if (rc == GF_OK)
		free(p);
	if (plen)
		*plen = n;
	return rc;
}

static enum gf_err open_s(const struct gf_seal_ring *r, const char *jwe)
{
	return open_(r, jwe, strlen(jwe), NULL, NULL);
}

/* --- base64url and JWEs made here -------------------------------------- */

static void b64url(const unsigned char *in, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = al[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = al[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

static size_t unb64url(const char *in, size_t n, unsigned char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		const char *c = strchr(al, in[i]);
		cr_assert(c && *c);
		acc = (acc << 6) | (unsigned)(c - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

static EVP_PKEY *read_pub(const char *name)
{
	FILE *f = fopen(path(name), "r");
	EVP_PKEY *k;

	cr_assert(f);
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert(k);
	return k;
}

/* A compact JWE with this header, made with OpenSSL: the CEK wrapped with
 * RSA-OAEP-256 to the public key in file pub, A256GCM over plain with the
 * encoded header as additional data. */
static char *make_jwe(const char *header, const char *pub, const char *plain)
{
	EVP_PKEY *rsa = read_pub(pub);
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(rsa, NULL);
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	unsigned char cek[32], iv[12], ek[512], tag[16];
	size_t eklen = sizeof(ek), plen = strlen(plain);
	unsigned char *ct = malloc(plen + 16);
	int len = 0, fin = 0;
	char *h = malloc(2 * strlen(header) + 4), *out;
	char *p[4];

	cr_assert(ct && h && pc && cc);
	cr_assert(RAND_bytes(cek, 32) == 1 && RAND_bytes(iv, 12) == 1);
	cr_assert(EVP_PKEY_encrypt_init(pc) == 1);
	cr_assert(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1);
	cr_assert(EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) == 1);
	cr_assert(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1);
	cr_assert(EVP_PKEY_encrypt(pc, ek, &eklen, cek, 32) == 1);
	b64url((const unsigned char *)header, strlen(header), h);
	cr_assert(EVP_EncryptInit_ex(cc, EVP_aes_256_gcm(), NULL, cek, iv) == 1);
	cr_assert(EVP_EncryptUpdate(cc, NULL, &len, (unsigned char *)h, (int)strlen(h)) == 1);
	cr_assert(EVP_EncryptUpdate(cc, ct, &len, (const unsigned char *)plain, (int)plen) == 1);
	cr_assert(EVP_EncryptFinal_ex(cc, ct + len, &fin) == 1);
	cr_assert(EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
	p[0] = malloc(eklen * 2);
	p[1] = malloc(32);
	p[2] = malloc(2 * plen + 4);
	p[3] = malloc(32);
	b64url(ek, eklen, p[0]);
	b64url(iv, 12, p[1]);
	b64url(ct, (size_t)(len + fin), p[2]);
	b64url(tag, 16, p[3]);
	out = malloc(strlen(h) + strlen(p[0]) + strlen(p[2]) + 64);
	sprintf(out, "%s.%s.%s.%s.%s", h, p[0], p[1], p[2], p[3]);
	for (int i = 0; i < 4; i++)
		free(p[i]);
	free(h);
	free(ct);
	EVP_CIPHER_CTX_free(cc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(rsa);
	return out;
}

/* The five parts of a compact JWE, copied. */
struct parts {
	char p[5][200000];
};

static void split5(const char *jwe, struct parts *ps)
{
	const char *s = jwe;

	for (int i = 0; i < 5; i++) {
		const char *dot = i < 4 ? strchr(s, '.') : s + strlen(s);
		cr_assert(dot);
		memcpy(ps->p[i], s, (size_t)(dot - s));
		ps->p[i][dot - s] = '\0';
		s = dot + 1;
	}
}

static char *join5(const struct parts *ps)
{
	size_t n = 5;
	char *out;

	for (int i = 0; i < 5; i++)
		n += strlen(ps->p[i]);
	out = malloc(n);
	sprintf(out, "%s.%s.%s.%s.%s", ps->p[0], ps->p[1], ps->p[2], ps->p[3], ps->p[4]);
	return out;
}

/* Flips one bit of the bytes of part i (the result stays canonical). */
static char *flip(const char *jwe, int part, size_t byte, unsigned bit)
{
	static struct parts ps;
	static unsigned char raw[150000];
	size_t n;

	split5(jwe, &ps);
	n = unb64url(ps.p[part], strlen(ps.p[part]), raw);
	cr_assert(byte < n);
	raw[byte] ^= (unsigned char)(1u << bit);
	b64url(raw, n, ps.p[part]);
	return join5(&ps);
}

static json_t *header_of(const char *jwe)
{
	unsigned char raw[2048];
	size_t n = unb64url(jwe, (size_t)(strchr(jwe, '.') - jwe), raw);
	json_t *h = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);

	cr_assert(json_is_object(h));
	return h;
}

/* --- round trips --------------------------------------------------------- */

Test(seal, round_trip_sizes_and_bytes)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp-2026");
	struct gf_seal_ring *r = ring_of("k1.pem", "sp-2026", NULL);
	static const size_t sizes[] = {1, 2, 15, 16, 17, 31, 32, 33, 1000, 1024, 65536, 102400};
	unsigned char *plain = malloc(102400);

	for (size_t i = 0; i < 102400; i++)
		plain[i] = (unsigned char)(i * 7 + i / 256); /* NULs and every byte value */
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = 0, plen = 0;
		char *jwe = seal(to, plain, sizes[s], "application/json", &len);
		void *back = NULL;
		char kid[GF_JWE_KID_MAX + 1], jerr[256] = "";

		cr_assert_eq(gf_jwe_check_compact(jwe, len, kid, sizeof(kid), jerr, sizeof(jerr)),
		             GF_OK, "%zu bytes: %s", sizes[s], jerr);
		cr_assert_str_eq(kid, "sp-2026");
		cr_assert_eq(open_(r, jwe, len, &back, &plen), GF_OK, "%zu bytes: %s", sizes[s],
		             err);
		cr_assert_eq(plen, sizes[s]);
		cr_assert(memcmp(back, plain, plen) == 0);
		cr_assert_str_eq(info.kid, "sp-2026");
		cr_assert_str_eq(info.cty, "application/json");
		free(back);
		free(jwe);
	}
	free(plain);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, header_holds_alg_enc_kid_cty_and_nothing_else)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp-2026");
	size_t len;
	char *jwe = seal(to, "{}", 2, "application/json", &len);
	json_t *h = header_of(jwe);

	cr_assert_eq(json_object_size(h), 4);
	cr_assert_str_eq(json_string_value(json_object_get(h, "alg")), "RSA-OAEP-256");
	cr_assert_str_eq(json_string_value(json_object_get(h, "enc")), "A256GCM");
	cr_assert_str_eq(json_string_value(json_object_get(h, "kid")), "sp-2026");
	cr_assert_str_eq(json_string_value(json_object_get(h, "cty")), "application/json");
	json_decref(h);
	free(jwe);

	/* without cty: three members, and info says none */
	struct gf_seal_ring *r = ring_of("k1.pem", "sp-2026", NULL);
	jwe = seal(to, "{}", 2, NULL, &len);
	h = header_of(jwe);
	cr_assert_eq(json_object_size(h), 3);
	cr_assert_null(json_object_get(h, "cty"));
	cr_assert_eq(open_s(r, jwe), GF_OK, "%s", err);
	cr_assert_str_eq(info.cty, "");
	json_decref(h);
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, fresh_key_and_iv_every_time)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp");
	struct parts *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	size_t la, lb;
	char *ja = seal(to, "same plaintext", 14, NULL, &la);
	char *jb = seal(to, "same plaintext", 14, NULL, &lb);

	split5(ja, a);
	split5(jb, b);
	cr_assert_str_eq(a->p[0], b->p[0]);
	for (int i = 1; i < 5; i++)
		cr_assert_str_neq(a->p[i], b->p[i], "part %d repeats", i);
	/* RSA-OAEP of a 2048-bit key: 256 bytes, 342 characters */
	cr_assert_eq(strlen(a->p[1]), 342);
	free(ja);
	free(jb);
	free(a);
	free(b);
	gf_seal_to_free(to);
}

Test(seal, a_certificate_is_a_recipient)
{
	struct gf_seal_to *to = to_key("k1.crt", "sp");
	struct gf_seal_ring *r = ring_of("k1.pem", "sp", NULL);
	size_t len;
	char *jwe = seal(to, "x", 1, NULL, &len);

	cr_assert_eq(open_s(r, jwe), GF_OK, "%s", err);
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, pkcs1_private_key)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp");
	struct gf_seal_ring *r = ring_of("k1-pkcs1.pem", "sp", NULL);
	size_t len;
	char *jwe = seal(to, "x", 1, NULL, &len);
	FILE *f = fopen(path("k1-pkcs1.pem"), "r");
	char line[64] = "";

	cr_assert(f && fgets(line, sizeof(line), f));
	fclose(f);
	cr_assert_str_eq(line, "-----BEGIN RSA PRIVATE KEY-----\n");
	cr_assert_eq(open_s(r, jwe), GF_OK, "%s", err);
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, opens_a_jwe_made_with_openssl_directly)
{
	struct gf_seal_ring *r = ring_of("k1.pem", "sp-1", NULL);
	char *jwe = make_jwe("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"sp-1\","
	                     "\"typ\":\"JWE\",\"cty\":\"application/json\"}",
	                     "k1.pub", "{\"readings\":[]}");
	void *plain = NULL;
	size_t plen = 0;

	cr_assert_eq(open_(r, jwe, strlen(jwe), &plain, &plen), GF_OK, "%s", err);
	cr_assert_eq(plen, 15);
	cr_assert(memcmp(plain, "{\"readings\":[]}", 15) == 0);
	free(plain);
	free(jwe);
	gf_seal_ring_free(r);
}

/* --- refusals ------------------------------------------------------------ */

Test(seal, another_key_under_the_kid)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp-1");
	struct gf_seal_ring *r = ring_of("k2.pem", "sp-1", NULL);
	size_t len;
	char *jwe = seal(to, "secret reading", 14, "application/json", &len);

	cr_assert_eq(open_s(r, jwe), GF_EDENIED);
	cr_assert_str_eq(info.kid, "sp-1"); /* info as far as the header was read */
	cr_assert_str_eq(info.cty, "application/json");
	cr_assert_null(strstr(err, "secret"));
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, a_key_of_another_size_under_the_kid)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp-1");
	struct gf_seal_ring *r = ring_of("k3.pem", "sp-1", NULL);
	size_t len;
	char *jwe = seal(to, "x", 1, NULL, &len);

	cr_assert_eq(open_s(r, jwe), GF_EDENIED);
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, unknown_kid)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp-2027");
	struct gf_seal_ring *r = ring_of("k1.pem", "sp-2026", NULL);
	struct gf_seal_ring *empty = NULL;
	size_t len;
	char *jwe = seal(to, "x", 1, NULL, &len);

	cr_assert_eq(open_s(r, jwe), GF_ENOENT);
	cr_assert_str_eq(info.kid, "sp-2027");
	cr_assert_eq(gf_seal_ring_new(&empty), GF_OK);
	cr_assert_eq(gf_seal_ring_count(empty), 0);
	cr_assert_eq(open_s(empty, jwe), GF_ENOENT);
	free(jwe);
	gf_seal_ring_free(empty);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, every_changed_part_is_refused)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp");
	struct gf_seal_ring *r = ring_of("k1.pem", "sp", NULL);
	size_t len;
	char *jwe = seal(to, "a reading of 1.25 kWh at 12:00", 30, "application/json", &len);
	static const struct {
		int part;
		size_t bytes;
	} parts[] = {{1, 256}, {2, 12}, {3, 30}, {4, 16}};

	cr_assert_eq(open_s(r, jwe), GF_OK, "%s", err);
	/* every bit of the encrypted key, IV, ciphertext and tag */
	for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
		for (size_t byte = 0; byte < parts[p].bytes; byte++) {
			for (unsigned bit = 0; bit < 8; bit++) {
				char *bad = flip(jwe, parts[p].part, byte, bit);
				cr_assert_eq(open_s(r, bad), GF_EDENIED, "part %d byte %zu bit %u",
				             parts[p].part, byte, bit);
				free(bad);
			}
		}
	}
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, a_changed_header_is_refused)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp");
	struct gf_seal_ring *r = ring_of("k1.pem", "sp", "k2.pem", "sp-2", NULL);
	static struct parts ps;
	size_t len;
	char *jwe = seal(to, "x", 1, "application/json", &len), *bad;
	static const char *const headers[] = {
	    /* the same members in another order */
	    "{\"cty\":\"application/json\",\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\","
	    "\"kid\":\"sp\"}",
	    /* another cty */
	    "{\"alg\":\"RSA-OAEP-256\",\"cty\":\"text/plain\",\"enc\":\"A256GCM\",\"kid\":\"sp\"}",
	    /* without cty */
	    "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"sp\"}",
	    /* a member more */
	    "{\"alg\":\"RSA-OAEP-256\",\"cty\":\"application/json\",\"enc\":\"A256GCM\","
	    "\"kid\":\"sp\",\"typ\":\"JWE\"}",
	    /* white space */
	    "{\"alg\":\"RSA-OAEP-256\", \"cty\":\"application/json\",\"enc\":\"A256GCM\","
	    "\"kid\":\"sp\"}",
	};

	split5(jwe, &ps);
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		b64url((const unsigned char *)headers[i], strlen(headers[i]), ps.p[0]);
		bad = join5(&ps);
		cr_assert_eq(open_s(r, bad), GF_EDENIED, "%s", headers[i]);
		free(bad);
	}
	/* another kid of the ring: its key does not open it */
	const char *other = "{\"alg\":\"RSA-OAEP-256\",\"cty\":\"application/json\","
	                    "\"enc\":\"A256GCM\",\"kid\":\"sp-2\"}";
	b64url((const unsigned char *)other, strlen(other), ps.p[0]);
	bad = join5(&ps);
	cr_assert_eq(open_s(r, bad), GF_EDENIED);
	cr_assert_str_eq(info.kid, "sp-2");
	free(bad);
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, non_canonical_base64url_is_refused)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp");
	struct gf_seal_ring *r = ring_of("k1.pem", "sp", NULL);
	size_t len;
	char *jwe = seal(to, "x", 1, NULL, &len);
	char *bad = strdup(jwe);
	const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *last = bad + len - 1; /* the tag's last character: 2 of its bits are unused */
	int v = (int)(strchr(al, *last) - al);

	/* The same 16 bytes spelled otherwise: decoders that ignore the unused
	 * bits would open it. */
	*last = al[v ^ 1];
	cr_assert_eq(open_s(r, bad), GF_EPARSE);
	cr_assert(strstr(err, "authentication tag"), "%s", err);
	/* a ciphertext of 2 bytes: 3 characters, 2 unused bits */
	free(bad);
	struct parts *ps = malloc(sizeof(*ps));
	char *two = seal(to, "xy", 2, NULL, &len);
	split5(two, ps);
	cr_assert_eq(strlen(ps->p[3]), 3);
	cr_assert_eq(open_s(r, two), GF_OK, "%s", err);
	ps->p[3][2] = al[(strchr(al, ps->p[3][2]) - al) ^ 1];
	bad = join5(ps);
	cr_assert_eq(open_s(r, bad), GF_EPARSE);
	cr_assert(strstr(err, "ciphertext"), "%s", err);
	free(two);
	free(ps);
	/* padding, and the base64 (not url) alphabet */
	free(bad);
	bad = malloc(len + 3);
	sprintf(bad, "%s==", jwe);
	cr_assert_eq(open_s(r, bad), GF_EPARSE);
	strcpy(bad, jwe);
	*strchr(bad, '.') = '\0';
	bad[2] = '+';
	bad[strlen(bad)] = '.';
	cr_assert_eq(open_s(r, bad), GF_EPARSE);
	free(bad);
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, every_truncation_is_refused_before_crypto)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp");
	struct gf_seal_ring *r = ring_of("k1.pem", "sp", NULL);
	size_t len;
	char *jwe = seal(to, "{\"readings\":[{\"value\":1.5}]}", 28, "application/json", &len);

	/* Every prefix (each in a buffer of its own size: ASan sees a read past
	 * it), and every suffix. */
	for (size_t n = 0; n < len; n++) {
		char *cut = malloc(n ? n : 1);
		memcpy(cut, jwe, n);
		cr_assert_eq(open_(r, cut, n, NULL, NULL), GF_EPARSE, "prefix of %zu", n);
		memcpy(cut, jwe + len - n, n);
		cr_assert_eq(open_(r, cut, n, NULL, NULL), GF_EPARSE, "suffix of %zu", n);
		free(cut);
	}
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

Test(seal, malformed_forms)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp");
	struct gf_seal_ring *r = ring_of("k1.pem", "sp", NULL);
	static struct parts ps;
	size_t len;
	char *jwe = seal(to, "x", 1, NULL, &len), *bad;
	char *big = malloc(1 << 20);

	split5(jwe, &ps);
	for (int i = 0; i < 5; i++) { /* each part empty */
		char save[400];
		snprintf(save, sizeof(save), "%s", ps.p[i]);
		ps.p[i][0] = '\0';
		bad = join5(&ps);
		cr_assert_eq(open_s(r, bad), GF_EPARSE, "part %d empty", i);
		free(bad);
		snprintf(ps.p[i], sizeof(ps.p[i]), "%s", save);
	}
	bad = malloc(len + 8);
	sprintf(bad, "%s.AAAA", jwe); /* six parts */
	cr_assert_eq(open_s(r, bad), GF_EPARSE);
	cr_assert(strstr(err, "more than five"), "%s", err);
	bad[len - 1] = '\0'; /* a NUL inside */
	bad[len] = 'x';
	cr_assert_eq(open_(r, bad, len + 1, NULL, NULL), GF_EPARSE);
	free(bad);
	/* an IV of 128 bits, a tag of 96 */
	snprintf(ps.p[2], sizeof(ps.p[2]), "AAAAAAAAAAAAAAAAAAAAAA");
	bad = join5(&ps);
	cr_assert_eq(open_s(r, bad), GF_EPARSE);
	cr_assert(strstr(err, "96 bits"), "%s", err);
	free(bad);
	split5(jwe, &ps);
	snprintf(ps.p[4], sizeof(ps.p[4]), "AAAAAAAAAAAAAAAA");
	bad = join5(&ps);
	cr_assert_eq(open_s(r, bad), GF_EPARSE);
	free(bad);
	/* an encrypted key of a 1024-bit RSA key (128 bytes) */
	split5(jwe, &ps);
	memset(ps.p[1], 'A', 171);
	ps.p[1][170] = 'A';
	ps.p[1][171] = '\0';
	bad = join5(&ps);
	cr_assert_eq(open_s(r, bad), GF_EPARSE);
	cr_assert(strstr(err, "encrypted key"), "%s", err);
	free(bad);
	cr_assert_eq(gf_seal_open(r, NULL, 0, NULL, NULL, NULL, err, sizeof(err)), GF_EPARSE);
	/* a megabyte of junk, of dots, of base64url */
	for (int fill = 0; fill < 3; fill++) {
		for (size_t i = 0; i < (1 << 20); i++)
			big[i] = fill == 0 ? (char)(i * 131) : fill == 1 ? '.' : 'A';
		cr_assert_eq(open_(r, big, 1 << 20, NULL, NULL), GF_EPARSE);
	}
	free(big);
	free(jwe);
	gf_seal_ring_free(r);
	gf_seal_to_free(to);
}

/* A JWE (made with OpenSSL) with this header: GF_EPARSE before the ring is
 * consulted (the ring is empty: a header that passed would be GF_ENOENT). */
static void refused_header(const char *header, const char *why)
{
	struct gf_seal_ring *empty = NULL;
	char *jwe = make_jwe(header, "k1.pub", "{}");

	cr_assert_eq(gf_seal_ring_new(&empty), GF_OK);
	cr_assert_eq(open_s(empty, jwe), GF_EPARSE, "%s", header);
	cr_assert(strstr(err, why), "%s: %s", header, err);
	gf_seal_ring_free(empty);
	free(jwe);
}

#define H(rest) "{\"kid\":\"sp\"," rest "}"

Test(seal, other_algorithms_and_bad_headers_before_any_crypto)
{
	char longkid[200], longhdr[1400];

	refused_header(H("\"alg\":\"RSA1_5\",\"enc\":\"A256GCM\""), "alg");
	refused_header(H("\"alg\":\"RSA-OAEP\",\"enc\":\"A256GCM\""), "alg");
	refused_header(H("\"alg\":\"RSA-OAEP-512\",\"enc\":\"A256GCM\""), "alg");
	refused_header(H("\"alg\":\"dir\",\"enc\":\"A256GCM\""), "alg");
	refused_header(H("\"alg\":\"none\",\"enc\":\"A256GCM\""), "alg");
	refused_header(H("\"alg\":\"rsa-oaep-256\",\"enc\":\"A256GCM\""), "alg");
	refused_header(H("\"enc\":\"A256GCM\""), "alg");
	refused_header(H("\"alg\":[\"RSA-OAEP-256\"],\"enc\":\"A256GCM\""), "alg");
	refused_header(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A128GCM\""), "enc");
	refused_header(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256CBC-HS512\""), "enc");
	refused_header(H("\"alg\":\"RSA-OAEP-256\""), "enc");
	refused_header(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"zip\":\"DEF\""), "zip");
	refused_header(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"crit\":[\"exp\"],"
	                 "\"exp\":1"),
	               "crit");
	/* a duplicate member: which alg would another JOSE library read? */
	refused_header(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"alg\":\"RSA1_5\""),
	               "duplicate");
	refused_header("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}", "kid");
	refused_header("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"\"}", "kid");
	refused_header("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":7}", "kid");
	refused_header("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"a\\nb\"}", "kid");
	refused_header("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"a\\u0000b\"}",
	               "not a JSON object");
	refused_header("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"caf\xc3\xa9\"}",
	               "kid");
	memset(longkid, 'k', 129);
	longkid[129] = '\0';
	snprintf(longhdr, sizeof(longhdr),
	         "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"%s\"}", longkid);
	refused_header(longhdr, "kid");
	refused_header(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"cty\":\"\""), "cty");
	refused_header(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"cty\":1"), "cty");
	memset(longkid, 'c', 65);
	longkid[65] = '\0';
	snprintf(longhdr, sizeof(longhdr),
	         "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"sp\",\"cty\":\"%s\"}",
	         longkid);
	refused_header(longhdr, "cty");
	refused_header("[\"RSA-OAEP-256\",\"A256GCM\"]", "not a JSON object");
	refused_header("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"sp\"", "JSON");
	refused_header("\"RSA-OAEP-256\"", "JSON");
	refused_header("", "empty");
	/* over 1024 bytes */
	memset(longhdr, ' ', sizeof(longhdr));
	memcpy(longhdr, "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"sp\"", 48);
	longhdr[1100] = '}';
	longhdr[1101] = '\0';
	refused_header(longhdr, "1024");

	/* and the same header well formed passes to the ring (GF_ENOENT) */
	struct gf_seal_ring *empty = NULL;
	char *jwe = make_jwe(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\""), "k1.pub", "{}");
	cr_assert_eq(gf_seal_ring_new(&empty), GF_OK);
	cr_assert_eq(open_s(empty, jwe), GF_ENOENT);
	free(jwe);
	gf_seal_ring_free(empty);
}

Test(seal, an_empty_ciphertext_is_refused)
{
	struct gf_seal_ring *r = ring_of("k1.pem", "sp", NULL);
	char *jwe = make_jwe(H("\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\""), "k1.pub", "");

	cr_assert_eq(open_s(r, jwe), GF_EPARSE);
	cr_assert(strstr(err, "ciphertext"), "%s", err);
	free(jwe);
	gf_seal_ring_free(r);
}

/* --- keys ------------------------------------------------------------------ */

/* Copies file from to file to, in the keys' directory. */
static void copy(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s/%s' '%s/%s'", dir, from, dir, to);
	sh(cmd);
}

static enum gf_err try_to(const char *name, const char *kid)
{
	struct gf_seal_to *to = (struct gf_seal_to *)0x1;
	enum gf_err rc = gf_seal_to_load(path(name), kid, &to, err, sizeof(err));

	if (rc == GF_OK)
		gf_seal_to_free(to);
	else
		cr_assert(to == (struct gf_seal_to *)0x1);
	return rc;
}

static enum gf_err try_add(struct gf_seal_ring *r, const char *name, const char *kid)
{
	return gf_seal_ring_add(r, path(name), kid, err, sizeof(err));
}

Test(seal, small_and_non_rsa_keys_are_refused)
{
	struct gf_seal_ring *r = NULL;

	cr_assert_eq(gf_seal_ring_new(&r), GF_OK);
	cr_assert_eq(try_to("small.pub", "sp"), GF_EINVAL);
	cr_assert(strstr(err, "1024 bits"), "%s", err);
	cr_assert_eq(try_add(r, "small.pem", "sp"), GF_EINVAL);
	cr_assert(strstr(err, "1024 bits"), "%s", err);
	cr_assert_eq(try_to("ec.pub", "sp"), GF_EINVAL);
	cr_assert(strstr(err, "not an RSA key"), "%s", err);
	cr_assert_eq(try_add(r, "ec.pem", "sp"), GF_EINVAL);
	cr_assert_eq(try_to("pss.pub", "sp"), GF_EINVAL);
	cr_assert_eq(try_add(r, "pss.pem", "sp"), GF_EINVAL);
	cr_assert_eq(gf_seal_ring_count(r), 0);
	cr_assert_eq(try_to("k3.pub", "sp"), GF_OK);
	gf_seal_ring_free(r);
}

Test(seal, key_files)
{
	struct gf_seal_ring *r = NULL;
	FILE *f;

	cr_assert_eq(gf_seal_ring_new(&r), GF_OK);
	/* files */
	cr_assert_eq(try_to("none.pub", "sp"), GF_ENOENT);
	cr_assert(strstr(err, path("none.pub")), "%s", err);
	cr_assert_eq(try_add(r, "none.pem", "sp"), GF_ENOENT);
	cr_assert_eq(try_to(".", "sp"), GF_EIO);
	f = fopen(path("junk.pem"), "w");
	cr_assert(f);
	fputs("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n", f);
	fclose(f);
	cr_assert(chmod(path("junk.pem"), 0600) == 0);
	cr_assert_eq(try_to("junk.pem", "sp"), GF_EPARSE);
	cr_assert_eq(try_add(r, "junk.pem", "sp"), GF_EPARSE);
	/* the wrong half */
	cr_assert_eq(try_to("k1.pem", "sp"), GF_EPARSE);
	cr_assert_eq(try_add(r, "k1.pub", "sp"), GF_EDENIED); /* 0644 */
	copy("k2.pub", "k2-0600.pub");
	cr_assert(chmod(path("k2-0600.pub"), 0600) == 0);
	cr_assert_eq(try_add(r, "k2-0600.pub", "sp"), GF_EPARSE);
	/* an encrypted private key is refused, never prompted for */
	cr_assert_eq(try_add(r, "k1-enc.pem", "sp"), GF_EPARSE);
	cr_assert(strstr(err, "unencrypted"), "%s", err);
	cr_assert_eq(gf_seal_ring_count(r), 0);
	gf_seal_ring_free(r);
}

Test(seal, private_key_file_modes)
{
	static const mode_t refused[] = {0640, 0604, 0644, 0660, 0610, 0601, 0620, 0602, 0666};
	struct gf_seal_ring *r = NULL;
	char k[128], want[32];

	snprintf(k, sizeof(k), "%s", path("modes.pem"));

	/* a copy: the tests run side by side, and others read k2.pem */
	copy("k2.pem", "modes.pem");

	cr_assert_eq(gf_seal_ring_new(&r), GF_OK);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		cr_assert(chmod(k, refused[i]) == 0);
		cr_assert_eq(try_add(r, "modes.pem", "sp"), GF_EDENIED, "mode %o: %s",
		             (unsigned)refused[i], err);
		snprintf(want, sizeof(want), "mode %04o", (unsigned)refused[i]);
		cr_assert(strstr(err, k) && strstr(err, want), "%s", err);
	}
	cr_assert_eq(gf_seal_ring_count(r), 0);
	cr_assert(chmod(k, 0400) == 0);
	cr_assert_eq(try_add(r, "modes.pem", "sp"), GF_OK, "%s", err);
	/* a public key may be read by anyone */
	cr_assert_eq(try_to("k2.pub", "sp"), GF_OK);
	gf_seal_ring_free(r);
}

Test(seal, kids)
{
	struct gf_seal_ring *r = NULL;
	char kid[200];

	cr_assert_eq(gf_seal_ring_new(&r), GF_OK);
	memset(kid, 'k', 128);
	kid[128] = '\0';
	cr_assert_eq(try_to("k1.pub", kid), GF_OK);
	cr_assert_eq(try_add(r, "k1.pem", kid), GF_OK);
	kid[128] = 'k';
	kid[129] = '\0';
	cr_assert_eq(try_to("k1.pub", kid), GF_EINVAL);
	cr_assert_eq(try_add(r, "k1.pem", kid), GF_EINVAL);
	cr_assert_eq(try_to("k1.pub", ""), GF_EINVAL);
	cr_assert_eq(try_to("k1.pub", "a\tb"), GF_EINVAL);
	cr_assert_eq(try_to("k1.pub", "caf\xc3\xa9"), GF_EINVAL);
	cr_assert_eq(try_add(r, "k1.pem", ""), GF_EINVAL);
	cr_assert_eq(try_to("k1.pub", "sp 2026/01"), GF_OK); /* printable ASCII */
	gf_seal_ring_free(r);
}

Test(seal, seal_arguments)
{
	struct gf_seal_to *to = to_key("k1.pub", "sp");
	char *out = (char *)0x1, cty[80];
	size_t n = 7;

	cr_assert_eq(gf_seal(to, "", 0, NULL, &out, &n, err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(gf_seal(to, "x", 1, "", &out, &n, err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(gf_seal(to, "x", 1, "text/\x01", &out, &n, err, sizeof(err)), GF_EINVAL);
	memset(cty, 'c', 65);
	cty[65] = '\0';
	cr_assert_eq(gf_seal(to, "x", 1, cty, &out, &n, err, sizeof(err)), GF_EINVAL);
	cr_assert(out == (char *)0x1 && n == 7);
	cty[64] = '\0';
	cr_assert_eq(gf_seal(to, "x", 1, cty, &out, &n, err, sizeof(err)), GF_OK, "%s", err);
	free(out);
	gf_seal_to_free(to);
	gf_seal_to_free(NULL);
	gf_seal_ring_free(NULL);
	cr_assert_eq(gf_seal_ring_count(NULL), 0);
}

Test(seal, a_ring_of_several_keys_rotation)
{
	struct gf_seal_ring *r =
	    ring_of("k1.pem", "sp-2025", "k2.pem", "sp-2026", "k3.pem", "sp-2027", NULL);
	static const char *const pubs[] = {"k1.pub", "k2.pub", "k3.pub"};
	static const char *const kids[] = {"sp-2025", "sp-2026", "sp-2027"};
	char msg[64];

	cr_assert_eq(gf_seal_ring_count(r), 3);
	cr_assert_eq(try_add(r, "k2.pem", "sp-2025"), GF_EEXIST);
	cr_assert(strstr(err, "sp-2025"), "%s", err);
	cr_assert_eq(gf_seal_ring_count(r), 3);
	/* each sender's key opens under its kid, and only there */
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++) {
			struct gf_seal_to *to = to_key(pubs[i], kids[j]);
			size_t len, plen;
			void *plain = NULL;
			snprintf(msg, sizeof(msg), "key %d under kid %d", i, j);
			char *jwe = seal(to, msg, strlen(msg), "application/json", &len);
			enum gf_err rc = open_(r, jwe, len, &plain, &plen);
			if (i == j) {
				cr_assert_eq(rc, GF_OK, "%s: %s", msg, err);
				cr_assert_eq(plen, strlen(msg));
				cr_assert(memcmp(plain, msg, plen) == 0);
				cr_assert_str_eq(info.kid, kids[j]);
			} else {
				cr_assert_eq(rc, GF_EDENIED, "%s", msg);
			}
			free(plain);
			free(jwe);
			gf_seal_to_free(to);
		}
	}
	gf_seal_ring_free(r);
}
