/* SPDX-License-Identifier: MIT */
/*
 * gf-seal - lib/anon/seal.h on the command line, for the interoperability
 * test with a second JOSE implementation (tests/integration/
 * seal_interop_test.sh) and for measuring.
 *
 *   gf-seal seal --to PEM --kid KID [--cty CT]   < plain > jwe
 *   gf-seal open --key PEM --kid KID [--key PEM --kid KID]... [--info] < jwe > plain
 *   gf-seal check                                < jwe   (gf_jwe_check_compact, the broker's)
 *   gf-seal bench --to PEM --key PEM [--seconds S]
 *
 * Exit 0 on success; 1 when the payload or a key is refused, with
 * "gf-seal: <ERRNAME>: <why>" on stderr (EDENIED, ENOENT, EPARSE, ...);
 * 2 for a usage error. open --info writes "kid=<kid> cty=<cty>" to stderr,
 * also when opening fails.
 *
 * bench seals and opens 1 kB and 100 kB payloads for S seconds each (default
 * 2) and prints the rates beside a baseline measured in the same run: the
 * same RSA-OAEP-256 wrap and AES-256-GCM done with OpenSSL directly, in one
 * call each, so the ratio is what JSON, base64url and the copies cost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "anon/seal.h"
#include "payload/jwe.h"

#define MAX_KEYS 16

static int usage(void)
{
	fputs("usage: gf-seal seal --to PEM --kid KID [--cty CT] < plain > jwe\n"
	      "       gf-seal open --key PEM --kid KID [--key PEM --kid KID]... [--info] < jwe > "
	      "plain\n"
	      "       gf-seal check < jwe\n"
	      "       gf-seal bench --to PEM --key PEM [--seconds S]\n",
	      stderr);
	return 2;
}

static int fail(enum gf_err rc, const char *why)
{
	fprintf(stderr, "gf-seal: %s: %s\n", gf_err_name(rc), why);
	return 1;
}

static int read_all(FILE *f, char **out, size_t *outlen)
{
	size_t cap = 65536, n = 0, r;
	char *b = malloc(cap + 1), *nb;

	if (!b)
		return -1;
	while ((r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			if (!(nb = realloc(b, 2 * cap + 1))) {
				free(b);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		free(b);
		return -1;
	}
	b[n] = '\0';
	*out = b;
	*outlen = n;
	return 0;
}

static int cmd_seal(int argc, char **argv)
{
	const char *to_path = NULL, *kid = NULL, *cty = NULL;
	struct gf_seal_to *to = NULL;
	char err[512], *in = NULL, *jwe = NULL;
	size_t inlen = 0, jwelen = 0;
	enum gf_err rc;
	int status = 1;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to_path = argv[++i];
		else if (strcmp(argv[i], "--kid") == 0 && i + 1 < argc)
			kid = argv[++i];
		else if (strcmp(argv[i], "--cty") == 0 && i + 1 < argc)
			cty = argv[++i];
		else
			return usage();
	}
	if (!to_path || !kid)
		return usage();
	if ((rc = gf_seal_to_load(to_path, kid, &to, err, sizeof(err))) != GF_OK) {
		status = fail(rc, err);
		goto out;
	}
	if (read_all(stdin, &in, &inlen) != 0) {
		status = fail(GF_EIO, "cannot read standard input");
		goto out;
	}
	if ((rc = gf_seal(to, in, inlen, cty, &jwe, &jwelen, err, sizeof(err))) != GF_OK) {
		status = fail(rc, err);
		goto out;
	}
	if (fwrite(jwe, 1, jwelen, stdout) != jwelen || fflush(stdout) != 0) {
		status = fail(GF_EIO, "cannot write standard output");
		goto out;
	}
	status = 0;
out:
	free(jwe);
	free(in);
	gf_seal_to_free(to);
	return status;
}

static int cmd_open(int argc, char **argv)
{
	const char *keys[MAX_KEYS], *kids[MAX_KEYS];
	int nkeys = 0, nkids = 0, info_wanted = 0, status = 1;
	struct gf_seal_ring *ring = NULL;
	struct gf_seal_info info;
	char err[512], *in = NULL;
	void *plain = NULL;
	size_t inlen = 0, plen = 0;
	enum gf_err rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc && nkeys < MAX_KEYS)
			keys[nkeys++] = argv[++i];
		else if (strcmp(argv[i], "--kid") == 0 && i + 1 < argc && nkids < MAX_KEYS)
			kids[nkids++] = argv[++i];
		else if (strcmp(argv[i], "--info") == 0)
			info_wanted = 1;
		else
			return usage();
	}
	if (nkeys == 0 || nkeys != nkids)
		return usage();
	if (gf_seal_ring_new(&ring) != GF_OK) {
		status = fail(GF_ENOMEM, "out of memory");
		goto out;
	}
	for (int i = 0; i < nkeys; i++) {
		if ((rc = gf_seal_ring_add(ring, keys[i], kids[i], err, sizeof(err))) != GF_OK) {
			status = fail(rc, err);
			goto out;
		}
	}
	if (read_all(stdin, &in, &inlen) != 0) {
		status = fail(GF_EIO, "cannot read standard input");
		goto out;
	}
	rc = gf_seal_open(ring, in, inlen, &plain, &plen, &info, err, sizeof(err));
	if (info_wanted)
		fprintf(stderr, "kid=%s cty=%s\n", info.kid, info.cty);
	if (rc != GF_OK) {
		status = fail(rc, err);
		goto out;
	}
	if (fwrite(plain, 1, plen, stdout) != plen || fflush(stdout) != 0) {
		status = fail(GF_EIO, "cannot write standard output");
		goto out;
	}
	status = 0;
out:
	free(plain);
	free(in);
	gf_seal_ring_free(ring);
	return status;
}

static int cmd_check(int argc, char **argv)
{
	char err[512], kid[GF_JWE_KID_MAX + 1], *in = NULL;
	size_t inlen = 0;
	enum gf_err rc;

	(void)argv;
	if (argc != 0)
		return usage();
	if (read_all(stdin, &in, &inlen) != 0)
		return fail(GF_EIO, "cannot read standard input");
	rc = gf_jwe_check_compact(in, inlen, kid, sizeof(kid), err, sizeof(err));
	free(in);
	if (rc != GF_OK)
		return fail(rc, err);
	printf("valid kid=%s\n", kid);
	return 0;
}

/* --- bench ----------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What raw_seal makes besides the ciphertext. */
struct raw {
	unsigned char ek[1024], iv[12], tag[16];
	size_t eklen;
};

/* The baseline: what sealing must cost at least, one OpenSSL call per step. */
static int raw_seal(EVP_PKEY *pub, const unsigned char *pt, size_t len, unsigned char *ct,
                    struct raw *r)
{
	unsigned char cek[32];
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pub, NULL);
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	int l = 0, ok;

	r->eklen = sizeof(r->ek);
	ok = pc && cc && RAND_bytes(cek, 32) == 1 && RAND_bytes(r->iv, 12) == 1 &&
	     EVP_PKEY_encrypt_init(pc) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1 &&
	     EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) == 1 &&
	     EVP_PKEY_encrypt(pc, r->ek, &r->eklen, cek, 32) == 1 &&
	     EVP_EncryptInit_ex(cc, EVP_aes_256_gcm(), NULL, cek, r->iv) == 1 &&
	     EVP_EncryptUpdate(cc, ct, &l, pt, (int)len) == 1 &&
	     EVP_EncryptFinal_ex(cc, ct + l, &l) == 1 &&
	     EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_GCM_GET_TAG, 16, r->tag) == 1;
	EVP_CIPHER_CTX_free(cc);
	EVP_PKEY_CTX_free(pc);
	return ok ? 0 : -1;
}

/* The baseline of opening: unwrap, decrypt, verify, one OpenSSL call each,
 * on what raw_seal made with the same key. */
static int raw_open(EVP_PKEY *priv, const struct raw *r, const unsigned char *ct, size_t len,
                    unsigned char *pt)
{
	unsigned char cek[1024];
	size_t ceklen = sizeof(cek);
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(priv, NULL);
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	int l = 0, ok;

	ok = pc && cc && EVP_PKEY_decrypt_init(pc) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1 &&
	     EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) == 1 &&
	     EVP_PKEY_decrypt(pc, cek, &ceklen, r->ek, r->eklen) == 1 && ceklen == 32 &&
	     EVP_DecryptInit_ex(cc, EVP_aes_256_gcm(), NULL, cek, r->iv) == 1 &&
	     EVP_DecryptUpdate(cc, pt, &l, ct, (int)len) == 1 &&
	     EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_GCM_SET_TAG, 16, (void *)r->tag) == 1 &&
	     EVP_DecryptFinal_ex(cc, pt + l, &l) == 1;
	EVP_CIPHER_CTX_free(cc);
	EVP_PKEY_CTX_free(pc);
	return ok ? 0 : -1;
}

static EVP_PKEY *read_pem(const char *path, int private)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
	            : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

/* Sets out to the rate per second of step, run for `seconds` (at least once)
 * while ok holds. */
#define RATE(out, seconds, ok, step)                                                               \
	do {                                                                                       \
		double t0_ = now();                                                                \
		long n_ = 0;                                                                       \
		do {                                                                               \
			step;                                                                      \
			n_++;                                                                      \
		} while ((ok) && now() - t0_ < (seconds));                                         \
		(out) = (double)n_ / (now() - t0_);                                                \
	} while (0)

static int cmd_bench(int argc, char **argv)
{
	static const size_t sizes[] = {1024, 100 * 1024};
	const char *to_path = NULL, *key_path = NULL;
	double seconds = 2;
	struct gf_seal_to *to = NULL;
	struct gf_seal_ring *ring = NULL;
	EVP_PKEY *pub = NULL, *priv = NULL;
	char err[512];
	int status = 1;
	enum gf_err rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to_path = argv[++i];
		else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			key_path = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else
			return usage();
	}
	if (!to_path || !key_path || !(seconds > 0))
		return usage();
	if ((rc = gf_seal_to_load(to_path, "bench", &to, err, sizeof(err))) != GF_OK ||
	    (rc = gf_seal_ring_new(&ring)) != GF_OK ||
	    (rc = gf_seal_ring_add(ring, key_path, "bench", err, sizeof(err))) != GF_OK) {
		status = fail(rc, err);
		goto out;
	}
	if (!(pub = read_pem(to_path, 0)) || !(priv = read_pem(key_path, 1))) {
		status = fail(GF_EPARSE, "cannot read the keys for the baseline");
		goto out;
	}
	printf("# per second, %.1f s each; baseline: the same RSA-OAEP-256 and AES-256-GCM, one "
	       "OpenSSL call per step\n",
	       seconds);
	printf("%-8s %9s %9s %7s %9s %9s %7s\n", "payload", "seal", "baseline", "ratio", "open",
	       "baseline", "ratio");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = sizes[s], jwelen = 0, plen = 0;
		unsigned char *pt = malloc(len), *ct = malloc(len + 16), *back = malloc(len + 16);
		char *jwe = NULL;
		void *plain = NULL;
		struct raw raw;
		double seals, opens, base_seals, base_opens;
		int rawrc = 0;

		if (!pt || !ct || !back) {
			free(pt);
			free(ct);
			free(back);
			status = fail(GF_ENOMEM, "out of memory");
			goto out;
		}
		/* Text, as a MeterReadings document is. */
		for (size_t i = 0; i < len; i++)
			pt[i] = (unsigned char)"{\"readings\":[0123456789abcdef]}"[i % 31];
		rc = GF_OK;
		RATE(seals, seconds, rc == GF_OK, {
			free(jwe);
			jwe = NULL;
			rc = gf_seal(to, pt, len, "application/json", &jwe, &jwelen, err,
			             sizeof(err));
		});
		RATE(opens, seconds, rc == GF_OK, {
			free(plain);
			plain = NULL;
			rc = gf_seal_open(ring, jwe, jwelen, &plain, &plen, NULL, err, sizeof(err));
		});
		if (rc == GF_OK && (plen != len || memcmp(plain, pt, len) != 0))
			rc = gf_err_set(err, sizeof(err), GF_EIO, "the round trip changed it");
		RATE(base_seals, seconds, rawrc == 0, rawrc = raw_seal(pub, pt, len, ct, &raw));
		RATE(base_opens, seconds, rawrc == 0, rawrc = raw_open(priv, &raw, ct, len, back));
		if (rc == GF_OK && (rawrc != 0 || memcmp(back, pt, len) != 0))
			rc = gf_err_set(err, sizeof(err), GF_EIO, "the baseline failed");
		free(plain);
		free(jwe);
		free(pt);
		free(ct);
		free(back);
		if (rc != GF_OK) {
			status = fail(rc, err);
			goto out;
		}
		printf("%-8zu %9.0f %9.0f %7.2f %9.0f %9.0f %7.2f\n", len, seals, base_seals,
		       base_seals / seals, opens, base_opens, base_opens / opens);
	}
	status = 0;
out:
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	gf_seal_ring_free(ring);
	gf_seal_to_free(to);
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "seal") == 0)
		return cmd_seal(argc - 2, argv + 2);
	if (strcmp(argv[1], "open") == 0)
		return cmd_open(argc - 2, argv + 2);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(argv[1], "bench") == 0)
		return cmd_bench(argc - 2, argv + 2);
	return usage();
}
