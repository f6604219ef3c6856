/* SPDX-License-Identifier: MIT */
#include "base/json.h"

#include <stdbool.h>
#include <string.h>

size_t gf_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		/* E0 80..9F would be overlong, ED A0..BF a surrogate. */
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		/* F0 80..8F would be overlong, F4 90.. past U+10FFFF. */
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* Appends k bytes at offset at as far as they fit; returns the new end. */
static size_t emit(char *out, size_t size, size_t at, const char *p, size_t k)
{
	if (at < size)
		memcpy(out + at, p, k < size - at ? k : size - at);
	return at + k;
}

/* The short escape letter of c, or 0. */
static char short_escape(unsigned char c)
{
	switch (c) {
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	default:
		return 0;
	}
}

static bool plain(unsigned char c, enum gf_json_mode mode)
{
	return c >= 0x20 && c != '"' && c != '\\' && (c != 0x7f || mode == GF_JSON_EXACT);
}

size_t gf_json_quote(char *out, size_t size, const char *str, size_t n, enum gf_json_mode mode)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t at = emit(out, size, 0, "\"", 1), run = 0, i = 0;

	/* Runs of bytes that need nothing are copied whole. */
	while (i < n) {
		unsigned char c = s[i];
		size_t len = c < 0x80 ? 1 : gf_utf8_seq(s + i, n - i);
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		size_t k = sizeof(esc);

		if (len == 0 && mode == GF_JSON_EXACT)
			return GF_JSON_INVALID;
		if (len > 1 || (len == 1 && plain(c, mode))) {
			i += len;
			continue;
		}
		at = emit(out, size, at, str + run, i - run);
		if (len == 0) {
			memcpy(esc, "\\ufffd", sizeof(esc));
		} else if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			k = 2;
		} else if (mode == GF_JSON_EXACT && short_escape(c)) {
			esc[1] = short_escape(c);
			k = 2;
		}
		at = emit(out, size, at, esc, k);
		run = ++i;
	}
	at = emit(out, size, at, str + run, n - run);
	return emit(out, size, at, "\"", 1);
}
