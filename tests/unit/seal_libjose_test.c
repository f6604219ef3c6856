/* SPDX-License-Identifier: MIT */
/*
 * lib/anon/seal.c's content encryption checked by libjose, an independent
 * JOSE implementation (Debian libjose): given the content key, libjose
 * decrypts what gf_seal sealed, and gf_seal_open opens content libjose
 * encrypted. The key wrap is OpenSSL's on both sides (Debian 12's libjose has
 * no RSA-OAEP; lib/anon/seal.c). python3-jwcrypto checks the whole JWE,
 * wrap included (tests/integration/seal_interop_test.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <jose/b64.h>
#include <jose/jwe.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "anon/seal.h"

static char dir[] = "/tmp/gf-seal-jose-XXXXXX";
static char pub_path[64], key_path[64];
static EVP_PKEY *rsa;

static void write_pem(const char *path, bool private)
{
	FILE *f = fopen(path, "w");

	cr_assert(f);
	cr_assert(private ? PEM_write_PrivateKey(f, rsa, NULL, NULL, 0, NULL, NULL) == 1
	                  : PEM_write_PUBKEY(f, rsa) == 1);
	fclose(f);
}

static void init(void)
{
	cr_assert(mkdtemp(dir));
	snprintf(pub_path, sizeof(pub_path), "%s/sp.pub", dir);
	snprintf(key_path, sizeof(key_path), "%s/sp.pem", dir);
	cr_assert((rsa = EVP_RSA_gen(2048)));
	umask(077);
	write_pem(pub_path, false);
	write_pem(key_path, true);
}

static void fini(void)
{
	unlink(pub_path);
	unlink(key_path);
	rmdir(dir);
	EVP_PKEY_free(rsa);
}

TestSuite(seal_libjose, .init = init, .fini = fini);

static EVP_PKEY_CTX *oaep(bool encrypt)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(rsa, NULL);

	cr_assert(pc);
	cr_assert((encrypt ? EVP_PKEY_encrypt_init(pc) : EVP_PKEY_decrypt_init(pc)) == 1);
	cr_assert(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) == 1);
	cr_assert(EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256()) == 1);
	cr_assert(EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) == 1);
	return pc;
}

/* A payload of n bytes, all values, not text. */
static unsigned char *payload(size_t n)
{
	unsigned char *p = malloc(n);

	cr_assert(p && RAND_bytes(p, (int)n) == 1);
	return p;
}

static const size_t sizes[] = {1, 15, 16, 17, 1000, 65536, 100003};

Test(seal_libjose, libjose_decrypts_what_gf_seal_sealed)
{
	struct gf_seal_to *to = NULL;
	char err[256] = "";

	cr_assert_eq(gf_seal_to_load(pub_path, "sp-1", &to, err, sizeof(err)), GF_OK, "%s", err);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned char *plain = payload(sizes[s]), ek[256],
		              cek[256]; /* RSA writes up to its size */
		char *jwe = NULL, *part[5], *dot;
		size_t len = 0, eklen, ceklen = sizeof(cek), ptl = 0;
		EVP_PKEY_CTX *pc = oaep(false);
		json_t *flat, *jwk;
		void *pt;

		cr_assert_eq(gf_seal(to, plain, sizes[s], "application/x-protobuf", &jwe, &len, err,
		                     sizeof(err)),
		             GF_OK, "%s", err);
		part[0] = jwe;
		for (int i = 1; i < 5; i++) {
			cr_assert((dot = strchr(part[i - 1], '.')));
			*dot = '\0';
			part[i] = dot + 1;
		}
		/* The content key, unwrapped here; the rest is libjose's. */
		eklen = jose_b64_dec_buf(part[1], strlen(part[1]), ek, sizeof(ek));
		cr_assert_eq(eklen, 256);
		cr_assert_eq(EVP_PKEY_decrypt(pc, cek, &ceklen, ek, eklen), 1);
		cr_assert_eq(ceklen, 32);
		flat = json_pack("{s:s,s:s,s:s,s:s,s:s}", "protected", part[0], "encrypted_key",
		                 part[1], "iv", part[2], "ciphertext", part[3], "tag", part[4]);
		jwk = json_pack("{s:s,s:s,s:o}", "kty", "oct", "alg", "A256GCM", "k",
		                jose_b64_enc(cek, ceklen));
		cr_assert(flat && jwk);
		pt = jose_jwe_dec_cek(NULL, flat, jwk, &ptl);
		cr_assert(pt, "libjose could not open %zu bytes sealed by gf_seal", sizes[s]);
		cr_assert_eq(ptl, sizes[s]);
		cr_assert_eq(memcmp(pt, plain, ptl), 0);
		free(pt);
		json_decref(flat);
		json_decref(jwk);
		EVP_PKEY_CTX_free(pc);
		free(jwe);
		free(plain);
	}
	gf_seal_to_free(to);
}

Test(seal_libjose, gf_seal_open_opens_what_libjose_encrypted)
{
	struct gf_seal_ring *ring = NULL;
	char err[256] = "";

	cr_assert_eq(gf_seal_ring_new(&ring), GF_OK);
	cr_assert_eq(gf_seal_ring_add(ring, key_path, "sp-1", err, sizeof(err)), GF_OK, "%s", err);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned char *plain = payload(sizes[s]), cek[32], ek[256];
		size_t eklen = sizeof(ek), plen = 0;
		EVP_PKEY_CTX *pc = oaep(true);
		json_t *jwe, *jwk;
		struct gf_seal_info info;
		char *compact;
		void *opened = NULL;

		cr_assert_eq(RAND_bytes(cek, sizeof(cek)), 1);
		cr_assert_eq(EVP_PKEY_encrypt(pc, ek, &eklen, cek, sizeof(cek)), 1);
		jwk = json_pack("{s:s,s:s,s:o}", "kty", "oct", "alg", "A256GCM", "k",
		                jose_b64_enc(cek, sizeof(cek)));
		/* libjose encodes the protected header, draws the IV, encrypts
		 * and tags. */
		jwe = json_pack("{s:{s:s,s:s,s:s},s:o}", "protected", "alg", "RSA-OAEP-256", "enc",
		                "A256GCM", "kid", "sp-1", "encrypted_key", jose_b64_enc(ek, eklen));
		cr_assert(jwe && jwk);
		cr_assert(jose_jwe_enc_cek(NULL, jwe, jwk, plain, sizes[s]),
		          "libjose could not encrypt");
		cr_assert(json_is_string(json_object_get(jwe, "protected")));
		cr_assert(asprintf(&compact, "%s.%s.%s.%s.%s",
		                   json_string_value(json_object_get(jwe, "protected")),
		                   json_string_value(json_object_get(jwe, "encrypted_key")),
		                   json_string_value(json_object_get(jwe, "iv")),
		                   json_string_value(json_object_get(jwe, "ciphertext")),
		                   json_string_value(json_object_get(jwe, "tag"))) > 0);
		cr_assert_eq(gf_seal_open(ring, compact, strlen(compact), &opened, &plen, &info,
		                          err, sizeof(err)),
		             GF_OK, "%zu bytes: %s", sizes[s], err);
		cr_assert_eq(plen, sizes[s]);
		cr_assert_eq(memcmp(opened, plain, plen), 0);
		cr_assert_str_eq(info.kid, "sp-1");
		/* One changed byte of libjose's tag and it does not open. */
		compact[strlen(compact) - 2] = compact[strlen(compact) - 2] == 'A' ? 'B' : 'A';
		free(opened);
		opened = NULL;
		cr_assert_eq(gf_seal_open(ring, compact, strlen(compact), &opened, &plen, &info,
		                          err, sizeof(err)),
		             GF_EDENIED);
		free(compact);
		json_decref(jwe);
		json_decref(jwk);
		EVP_PKEY_CTX_free(pc);
		free(plain);
	}
	gf_seal_ring_free(ring);
}
