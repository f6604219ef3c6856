/* SPDX-License-Identifier: MIT */
/*
 * codec_json_int.h - what the JSON decoder's two halves share: the parser
 * (codec_json.c, structure: objects, arrays, maps, fields) and the value
 * readers (codec_json_value.c: strings, numbers, enums, bytes). For
 * lib/payload/codec_json*.c, and the one-pass JSON verdict (check_json.c),
 * which reads values with the decoder's own readers.
 */
#ifndef GF_CODEC_JSON_INT_H
#define GF_CODEC_JSON_INT_H

#define GF__CODEC_INTERNAL
#include "payload/codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct jdec {
	struct gf__codec_ctx *cx;
	const unsigned char *start, *p, *end;
};

static inline enum gf_err syntax(struct jdec *j, const char *what)
{
	return gf__codec_fail(j->cx, "invalid JSON at byte %zu: %s", (size_t)(j->p - j->start),
	                      what);
}

static inline int peek(const struct jdec *j)
{
	return j->p < j->end ? *j->p : -1;
}

/* The first byte from p on that is not JSON whitespace (RFC 8259: space,
 * tab, LF, CR), or end. */
static inline const unsigned char *json_ws(const unsigned char *p, const unsigned char *end)
{
	/* Most bytes here are not space: one comparison says so. A run is
	 * mostly one space (", ", ": ") or a newline and indentation. */
	if (p >= end || *p > ' ')
		return p;
	if (*p == ' ' && end - p > 1 && p[1] > ' ')
		return p + 1;
	while (p < end && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static inline void skip_ws(struct jdec *j)
{
	j->p = json_ws(j->p, j->end);
}

/* After an element or a member: 1 at a ',' (passed, and the whitespace after
 * it), 0 at the closing byte close (passed), -1 at anything else (not
 * passed: the syntax error's position). */
static inline int next_or_close(struct jdec *j, int close)
{
	skip_ws(j);
	if (peek(j) == ',') {
		j->p++;
		skip_ws(j);
		return 1;
	}
	if (peek(j) == close) {
		j->p++;
		return 0;
	}
	return -1;
}

/* The n bytes of word at j->p, passed; nothing is checked after them. */
static inline bool literal(struct jdec *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* The value at j->p has the wrong type for the field: say what was expected,
 * unless it is no JSON value at all. */
static inline enum gf_err wrong_type(struct jdec *j, const char *expected)
{
	int c = peek(j);
	if (c == '"' || c == '{' || c == '[' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
	    c == 'f' || c == 'n')
		return gf__codec_fail(j->cx, "expected %s", expected);
	return syntax(j, "expected a value");
}

/* Finds the end of the string token at j->p (a '"'): *s and *n get its raw
 * content, *plain whether it is pure ASCII without escapes. */
enum gf_err gf__json_scan_string(struct jdec *j, const unsigned char **s, size_t *n, bool *plain);

/* Decodes the raw string content s[0..n) (as found by gf__json_scan_string)
 * into d, which has room for n bytes. Checks UTF-8, surrogate pairs and NUL. */
enum gf_err gf__json_unescape(struct jdec *j, const unsigned char *s, size_t n, unsigned char *d,
                              size_t *outlen);

/* Reads a string token into a fresh NUL-terminated arena copy. */
enum gf_err gf__json_read_string(struct jdec *j, char **out, size_t *outlen);

/* The scalar fields' values at j->p into dst, as the field's type says:
 * integers (the 64-bit types also from a decimal string), float and
 * double, enums (by name or number), bytes (base64). */
enum gf_err gf__json_parse_integer(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst);
enum gf_err gf__json_parse_real(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst);
enum gf_err gf__json_parse_enum(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst);
enum gf_err gf__json_parse_bytes(struct jdec *j, void *dst);

#endif
