/* SPDX-License-Identifier: MIT */
#include "base/b64url.h"

#include <stdint.h>

/* value + 1 of every character of the alphabet, 0 for every other byte. */
static const uint8_t tab[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

int gf_b64url_value(unsigned char c)
{
	return (int)tab[c] - 1;
}

bool gf_b64url_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned ok = 1;

	/* No branch per character: a zero anywhere clears ok. */
	for (size_t i = 0; i < n; i++)
		ok &= tab[p[i]] != 0;
	return ok;
}

static const char alphabet[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t gf_b64url_encoded_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void gf_b64url_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i = 0;
	uint32_t v;

	for (; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*out++ = alphabet[v >> 18];
		*out++ = alphabet[v >> 12 & 63];
		*out++ = alphabet[v >> 6 & 63];
		*out++ = alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		*out++ = alphabet[v >> 18];
		*out++ = alphabet[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*out++ = alphabet[v >> 18];
		*out++ = alphabet[v >> 12 & 63];
		*out++ = alphabet[v >> 6 & 63];
	}
}

size_t gf_b64url_decoded_len(size_t n)
{
	return n % 4 == 1 ? 0 : n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
}

enum gf_err gf_b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap,
                             size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t full = n / 4, rest = n % 4, len = gf_b64url_decoded_len(n), o = 0;
	unsigned bad = 0;
	uint32_t a, b, c, d, v;

	if (rest == 1)
		return GF_EPARSE;
	if (len > cap)
		return GF_ETOOLONG;
	/* Each table entry is value + 1: a character outside the alphabet
	 * (entry 0) wraps to 0xff..., whose high bits mark bad. */
	for (size_t i = 0; i < full; i++, p += 4) {
		a = tab[p[0]] - 1u, b = tab[p[1]] - 1u, c = tab[p[2]] - 1u, d = tab[p[3]] - 1u;
		bad |= a | b | c | d;
		v = a << 18 | b << 12 | c << 6 | d;
		out[o++] = (unsigned char)(v >> 16);
		out[o++] = (unsigned char)(v >> 8);
		out[o++] = (unsigned char)v;
	}
	if (bad & ~0x3fu)
		return GF_EPARSE;
	if (rest) {
		a = tab[p[0]] - 1u, b = tab[p[1]] - 1u, c = rest == 3 ? tab[p[2]] - 1u : 0;
		if ((a | b | c) & ~0x3fu)
			return GF_EPARSE;
		/* The low bits of the last character carry nothing: zero. */
		if (rest == 2 ? (b & 0x0f) != 0 : (c & 0x03) != 0)
			return GF_EPARSE;
		v = a << 18 | b << 12 | c << 6;
		out[o++] = (unsigned char)(v >> 16);
		if (rest == 3)
			out[o++] = (unsigned char)(v >> 8);
	}
	*outlen = o;
	return GF_OK;
}
