/* SPDX-License-Identifier: MIT */
/*
 * The form of sealed payloads (lib/payload/jwe.c): real compact JWEs made here with
 * OpenSSL (RSA-OAEP-256 key wrap, A256GCM) pass; every malformation is
 * refused with its reason.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "base/b64url.h"
#include "payload/jwe.h"

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

/* A real JWE: header, RSA-OAEP-256-wrapped random CEK, IV, ciphertext, tag. */
static void make_jwe(const char *header_json, int rsa_bits, size_t iv_len, char *out, size_t size)
{
	EVP_PKEY *rsa = EVP_RSA_gen((unsigned)rsa_bits);
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(rsa, NULL);
	EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
	unsigned char cek[32], iv[16], ek[1024], ct[64], tag[16];
	const unsigned char plain[] = "{\"readings\":[]}";
	size_t eklen = sizeof(ek);
	int len, fin;
	char h[512], parts[5][1400];

	RAND_bytes(cek, sizeof(cek));
	RAND_bytes(iv, sizeof(iv));
	cr_assert(EVP_PKEY_encrypt_init(pc) == 1);
	EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING);
	EVP_PKEY_CTX_set_rsa_oaep_md(pc, EVP_sha256());
	cr_assert(EVP_PKEY_encrypt(pc, ek, &eklen, cek, sizeof(cek)) == 1);
	b64url((const unsigned char *)header_json, strlen(header_json), h);
	EVP_EncryptInit_ex(cc, EVP_aes_256_gcm(), NULL, NULL, NULL);
	EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL);
	EVP_EncryptInit_ex(cc, NULL, NULL, cek, iv);
	EVP_EncryptUpdate(cc, NULL, &len, (const unsigned char *)h, (int)strlen(h));
	EVP_EncryptUpdate(cc, ct, &len, plain, (int)sizeof(plain) - 1);
	EVP_EncryptFinal_ex(cc, ct + len, &fin);
	EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_GCM_GET_TAG, 16, tag);
	snprintf(parts[0], sizeof(parts[0]), "%s", h);
	b64url(ek, eklen, parts[1]);
	b64url(iv, iv_len, parts[2]);
	b64url(ct, (size_t)(len + fin), parts[3]);
	b64url(tag, 16, parts[4]);
	snprintf(out, size, "%s.%s.%s.%s.%s", parts[0], parts[1], parts[2], parts[3], parts[4]);
	EVP_CIPHER_CTX_free(cc);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(rsa);
}

#define GOOD_HEADER "{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"sp-2026\"}"

static char jwe[8192], err[256], kid[64];

static enum gf_err check(const char *s)
{
	return gf_jwe_check_compact(s, strlen(s), kid, sizeof(kid), err, sizeof(err));
}

Test(jwe, a_real_jwe_passes_and_yields_its_kid)
{
	make_jwe(GOOD_HEADER, 2048, 12, jwe, sizeof(jwe));
	cr_assert_eq(check(jwe), GF_OK, "%s", err);
	cr_assert_str_eq(kid, "sp-2026");
	make_jwe(GOOD_HEADER, 4096, 12, jwe, sizeof(jwe));
	cr_assert_eq(check(jwe), GF_OK, "%s", err);
}

Test(jwe, wrong_algorithms_are_refused)
{
	make_jwe("{\"alg\":\"RSA1_5\",\"enc\":\"A256GCM\",\"kid\":\"k\"}", 2048, 12, jwe,
	         sizeof(jwe));
	cr_assert_eq(check(jwe), GF_EPARSE);
	cr_assert_str_eq(err, "JWE protected header: alg must be RSA-OAEP-256");
	make_jwe("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A128GCM\",\"kid\":\"k\"}", 2048, 12, jwe,
	         sizeof(jwe));
	cr_assert_eq(check(jwe), GF_EPARSE);
	cr_assert_str_eq(err, "JWE protected header: enc must be A256GCM");
	make_jwe("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}", 2048, 12, jwe, sizeof(jwe));
	cr_assert_eq(check(jwe), GF_EPARSE);
	cr_assert_str_eq(err, "JWE protected header: kid must name the key (1..128 chars)");
	make_jwe("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\",\"kid\":\"k\",\"zip\":\"DEF\"}",
	         2048, 12, jwe, sizeof(jwe));
	cr_assert_eq(check(jwe), GF_EPARSE);
	make_jwe("[1,2]", 2048, 12, jwe, sizeof(jwe));
	cr_assert_eq(check(jwe), GF_EPARSE);
	cr_assert_str_eq(err, "JWE protected header: not a JSON object");
}

Test(jwe, wrong_shapes_are_refused)
{
	make_jwe(GOOD_HEADER, 2048, 16, jwe, sizeof(jwe));
	cr_assert_eq(check(jwe), GF_EPARSE);
	cr_assert_str_eq(err, "JWE initialization vector: A256GCM needs 96 bits");
	make_jwe(GOOD_HEADER, 1024, 12, jwe, sizeof(jwe));
	cr_assert_eq(check(jwe), GF_EPARSE);
	cr_assert_str_eq(err, "JWE encrypted key: not an RSA-OAEP-wrapped key");
	cr_assert_eq(check("a.b.c.d"), GF_EPARSE);
	cr_assert_str_eq(err, "JWE compact: 4 parts, expected five separated by '.'");
	cr_assert_eq(check("a.b.c.d.e.f"), GF_EPARSE);
	cr_assert_str_eq(err, "JWE compact: more than five parts");
	make_jwe(GOOD_HEADER, 2048, 12, jwe, sizeof(jwe));
	jwe[3] = '+'; /* standard base64, not base64url */
	cr_assert_eq(check(jwe), GF_EPARSE);
	cr_assert_str_eq(err, "JWE protected header: not base64url");
	cr_assert_eq(check("{\"readings\":[]}"), GF_EPARSE, "plain JSON is not sealed");
}

Test(jwe, base64url_decoding)
{
	unsigned char out[16];
	size_t n;

	cr_assert_eq(gf_b64url_decode("aGk", 3, out, sizeof(out), &n), GF_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(out, "hi", 2), 0);
	cr_assert_eq(gf_b64url_decode("aGl", 3, out, sizeof(out), &n), GF_EPARSE,
	             "non-zero leftover bits are not canonical");
	cr_assert_eq(gf_b64url_decode("a", 1, out, sizeof(out), &n), GF_EPARSE);
	cr_assert_eq(gf_b64url_decode("aG=k", 4, out, sizeof(out), &n), GF_EPARSE);
	cr_assert_eq(gf_b64url_decode("aGlhaGlhaGlhaGlhaGlhaGlh", 24, out, sizeof(out), &n),
	             GF_ETOOLONG);
}
