/* SPDX-License-Identifier: MIT */
/*
 * lib/base/b64url: the table-driven decoder against OpenSSL's base64 (the
 * standard alphabet, translated), every length up to 64 bytes, every
 * character outside the alphabet at every position, and the canonical
 * spelling of the last character.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/b64url.h"

/* OpenSSL's padded standard base64 of raw, made unpadded base64url. */
static size_t reference_encode(const unsigned char *raw, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, raw, (int)n);

	while (len > 0 && out[len - 1] == '=')
		len--;
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	out[len] = '\0';
	return (size_t)len;
}

Test(b64url, decodes_what_openssl_encodes)
{
	unsigned char raw[64], back[64];
	char enc[100];
	size_t n, got;

	for (int round = 0; round < 20; round++) {
		for (size_t len = 0; len <= sizeof(raw); len++) {
			cr_assert_eq(RAND_bytes(raw, (int)len ? (int)len : 1), 1);
			n = reference_encode(raw, len, enc);
			cr_assert(gf_b64url_valid(enc, n));
			cr_assert_eq(gf_b64url_decoded_len(n), len);
			cr_assert_eq(gf_b64url_decode(enc, n, back, sizeof(back), &got), GF_OK,
			             "%s", enc);
			cr_assert_eq(got, len);
			cr_assert_eq(memcmp(raw, back, len), 0, "%s", enc);
		}
	}
}

Test(b64url, every_other_byte_is_refused_everywhere)
{
	unsigned char raw[9] = "goflex-sp", back[16];
	char enc[16];
	size_t n = reference_encode(raw, sizeof(raw), enc), got;

	for (int c = 0; c < 256; c++) {
		bool in = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		          (c >= '0' && c <= '9') || c == '-' || c == '_';
		cr_assert_eq(gf_b64url_value((unsigned char)c) >= 0, in, "character %d", c);
		if (in)
			continue;
		for (size_t pos = 0; pos < n; pos++) {
			char bad[16];
			memcpy(bad, enc, n);
			bad[pos] = (char)c;
			cr_assert(!gf_b64url_valid(bad, n));
			cr_assert_eq(gf_b64url_decode(bad, n, back, sizeof(back), &got), GF_EPARSE,
			             "character %d at %zu", c, pos);
		}
	}
}

Test(b64url, only_the_canonical_spelling)
{
	unsigned char out[4];
	size_t n = 99;

	cr_assert_eq(gf_b64url_decode("aGk", 3, out, sizeof(out), &n), GF_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(gf_b64url_decode("aGl", 3, out, sizeof(out), &n), GF_EPARSE,
	             "two unused bits set");
	cr_assert_eq(gf_b64url_decode("aQ", 2, out, sizeof(out), &n), GF_OK);
	cr_assert_eq(gf_b64url_decode("aR", 2, out, sizeof(out), &n), GF_EPARSE,
	             "four unused bits set");
	cr_assert_eq(gf_b64url_decode("aGk=", 4, out, sizeof(out), &n), GF_EPARSE, "padding");
	cr_assert_eq(gf_b64url_decode("aGlhb", 5, out, sizeof(out), &n), GF_EPARSE,
	             "a length of 4k+1");
	cr_assert_eq(gf_b64url_decoded_len(5), 0);
	cr_assert_eq(gf_b64url_decode("aGlhaGlh", 8, out, sizeof(out), &n), GF_ETOOLONG);
	n = 99;
	cr_assert_eq(gf_b64url_decode("", 0, out, sizeof(out), &n), GF_OK);
	cr_assert_eq(n, 0);
}

Test(b64url, encodes_as_openssl)
{
	unsigned char raw[64];
	char want[100], got[100];

	for (int round = 0; round < 20; round++) {
		for (size_t len = 0; len <= sizeof(raw); len++) {
			cr_assert_eq(RAND_bytes(raw, (int)len ? (int)len : 1), 1);
			size_t n = reference_encode(raw, len, want);
			cr_assert_eq(gf_b64url_encoded_len(len), n);
			memset(got, '#', sizeof(got));
			gf_b64url_encode(raw, len, got);
			cr_assert_eq(got[n], '#', "wrote past %zu characters", n);
			got[n] = '\0';
			cr_assert_str_eq(got, want);
		}
	}
}
