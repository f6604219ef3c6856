/* SPDX-License-Identifier: MIT */
/*
 * json.h - a string as a JSON string: the one escaper of goflex-bus.
 *
 * Two modes, because its two writers want different things. The codec's
 * canonical JSON takes valid UTF-8 only and uses the short escapes; agents
 * hash that text into the idempotency keys they keep, so its bytes must
 * never change. The audit feed quotes whatever a client sent: any bytes go
 * in, and every byte that comes out is printable.
 */
#ifndef GF_JSON_H
#define GF_JSON_H

#include <stddef.h>

enum gf_json_mode {
	/* Valid UTF-8 only, copied; '"', '\' and the controls below 0x20
	 * escaped, \b \f \n \r \t in their short form, the rest as \u00XX. */
	GF_JSON_EXACT,
	/* Any bytes: each byte that is not part of well-formed UTF-8 becomes
	 * \ufffd; '"' and '\' escaped, every control and DEL as \u00XX. */
	GF_JSON_SAFE,
};

/* What gf_json_quote returns for malformed UTF-8 in GF_JSON_EXACT. */
#define GF_JSON_INVALID ((size_t)-1)

/* Length of the well-formed UTF-8 sequence at s (n >= 1 bytes), 0 if it is
 * malformed: cut short, overlong, a surrogate, or past U+10FFFF. */
size_t gf_utf8_seq(const unsigned char *s, size_t n);

/*
 * Writes the n bytes at s as a JSON string, quotes included, into out, of
 * which it fills at most size bytes (no NUL is added); returns the length
 * of the whole, so a call with out NULL and size 0 measures. GF_JSON_INVALID
 * for malformed UTF-8 in GF_JSON_EXACT (what was written is then garbage).
 */
size_t gf_json_quote(char *out, size_t size, const char *s, size_t n, enum gf_json_mode mode);

#endif
