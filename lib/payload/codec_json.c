/* SPDX-License-Identifier: MIT */
/*
 * codec_json.c - decoding the JSON encoding (application/json) of the codec
 * (encoding is in codec_json_emit.c).
 *
 * A strict RFC 8259 recursive-descent parser of our own that
 * writes straight into the message, driven by the descriptor. Not cJSON: it
 * turns every number into a double (int64 beyond 2^53 is lost, 1 and 1.0
 * look alike), keeps duplicate keys, accepts a NUL-truncated document and
 * builds a malloc'd tree that we would then walk a second time. Ours needs
 * one pass, no tree and no malloc per value: every allocation comes from the
 * arena, and arrays collect on the scratch stack until their length is known.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/timefmt.h"

#define MEMBER(m, off) ((unsigned char *)(m) + (off))
#define NAME_NUL       GF__CODEC_NAME_NUL

/* --- JSON decoding -------------------------------------------------------- */

struct jdec {
	struct gf__codec_ctx *cx;
	const unsigned char *start, *p, *end;
};

/* A scalar value on its way into a repeated field's scratch slot. */
union scalar {
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	float f;
	double d;
	protobuf_c_boolean b;
	char *s;
	ProtobufCBinaryData bd;
	ProtobufCMessage *m;
};

static void skip_ws(struct jdec *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static enum gf_err syntax(struct jdec *j, const char *what)
{
	return gf__codec_fail(j->cx, "invalid JSON at byte %zu: %s", (size_t)(j->p - j->start),
	                      what);
}

static int peek(const struct jdec *j)
{
	return j->p < j->end ? *j->p : -1;
}

/* The value at j->p has the wrong type for the field: say what was expected,
 * unless it is no JSON value at all. */
static enum gf_err wrong_type(struct jdec *j, const char *expected)
{
	int c = peek(j);
	if (c == '"' || c == '{' || c == '[' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
	    c == 'f' || c == 'n')
		return gf__codec_fail(j->cx, "expected %s", expected);
	return syntax(j, "expected a value");
}

static bool literal(struct jdec *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* Finds the end of the string token at j->p (a '"'): *s and *n get its raw
 * content, *plain whether it is pure ASCII without escapes. */
static enum gf_err scan_string(struct jdec *j, const unsigned char **s, size_t *n, bool *plain)
{
	const unsigned char *p = j->p + 1;
	bool pl = true;

	for (;;) {
		if (p >= j->end) {
			j->p = p;
			return syntax(j, "unterminated string");
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			pl = false;
			if (j->end - p < 2) {
				j->p = j->end;
				return syntax(j, "unterminated string");
			}
			p += 2;
			continue;
		}
		if (*p < 0x20) {
			j->p = p;
			return syntax(j, "control character in string");
		}
		if (*p >= 0x80)
			pl = false;
		p++;
	}
	*s = j->p + 1;
	*n = (size_t)(p - *s);
	*plain = pl;
	j->p = p + 1;
	return GF_OK;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long hex4(const unsigned char *s, const unsigned char *end)
{
	long v = 0;

	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t put_utf8(unsigned char *d, unsigned long cp)
{
	if (cp < 0x80) {
		d[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (unsigned char)(0xc0 | (cp >> 6));
		d[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (unsigned char)(0xe0 | (cp >> 12));
		d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (unsigned char)(0xf0 | (cp >> 18));
	d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decodes the raw string content s[0..n) (as found by scan_string) into d,
 * which has room for n bytes: an escape never decodes longer than itself.
 * Checks UTF-8, surrogate pairs and NUL. */
static enum gf_err unescape(struct jdec *j, const unsigned char *s, size_t n, unsigned char *d,
                            size_t *outlen)
{
	const unsigned char *end = s + n;
	size_t o = 0;

	while (s < end) {
		unsigned long cp;
		long hi, lo;
		if (*s >= 0x80) {
			size_t k = gf_utf8_seq(s, (size_t)(end - s));
			if (k == 0)
				return gf__codec_fail(j->cx, "invalid UTF-8");
			memcpy(d + o, s, k);
			o += k;
			s += k;
			continue;
		}
		if (*s != '\\') {
			d[o++] = *s++;
			continue;
		}
		j->p = s;
		switch (s[1]) {
		case '"':
		case '\\':
		case '/':
			d[o++] = s[1];
			s += 2;
			continue;
		case 'b':
			d[o++] = '\b';
			s += 2;
			continue;
		case 'f':
			d[o++] = '\f';
			s += 2;
			continue;
		case 'n':
			d[o++] = '\n';
			s += 2;
			continue;
		case 'r':
			d[o++] = '\r';
			s += 2;
			continue;
		case 't':
			d[o++] = '\t';
			s += 2;
			continue;
		case 'u':
			break;
		default:
			return syntax(j, "invalid escape");
		}
		hi = hex4(s + 2, end);
		if (hi < 0)
			return syntax(j, "invalid \\u escape");
		s += 6;
		cp = (unsigned long)hi;
		if (hi >= 0xdc00 && hi <= 0xdfff)
			return gf__codec_fail(j->cx, "unpaired surrogate in \\u escape");
		if (hi >= 0xd800 && hi <= 0xdbff) {
			if (end - s < 6 || s[0] != '\\' || s[1] != 'u')
				return gf__codec_fail(j->cx, "unpaired surrogate in \\u escape");
			lo = hex4(s + 2, end);
			if (lo < 0) {
				j->p = s;
				return syntax(j, "invalid \\u escape");
			}
			if (lo < 0xdc00 || lo > 0xdfff)
				return gf__codec_fail(j->cx, "unpaired surrogate in \\u escape");
			cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
			     ((unsigned long)lo - 0xdc00);
			s += 6;
		}
		if (cp == 0)
			return gf__codec_fail(j->cx, "NUL character in string");
		o += put_utf8(d + o, cp);
	}
	*outlen = o;
	return GF_OK;
}

/* Reads a string token into a fresh NUL-terminated arena copy. */
static enum gf_err read_string(struct jdec *j, char **out, size_t *outlen)
{
	const unsigned char *s;
	size_t n;
	bool plain;
	unsigned char *d;
	enum gf_err rc = scan_string(j, &s, &n, &plain);

	if (rc != GF_OK)
		return rc;
	d = gf__codec_alloc(j->cx, n + 1);
	if (d == NULL)
		return GF_ENOMEM;
	if (plain) {
		memcpy(d, s, n);
	} else {
		const unsigned char *after = j->p;
		rc = unescape(j, s, n, d, &n);
		if (rc != GF_OK)
			return rc;
		j->p = after;
	}
	d[n] = '\0';
	*out = (char *)d;
	*outlen = n;
	return GF_OK;
}

struct num {
	const unsigned char *s;
	size_t len;
	bool neg, integral;
};

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* Scans a number token per the RFC 8259 grammar. */
static enum gf_err scan_number(struct jdec *j, struct num *n)
{
	const unsigned char *p = j->p, *e = j->end;

	n->s = p;
	n->neg = false;
	n->integral = true;
	if (p < e && *p == '-') {
		n->neg = true;
		p++;
	}
	if (!is_digit(p, e)) {
		j->p = p;
		return syntax(j, "invalid number");
	}
	if (*p == '0')
		p++;
	else
		while (is_digit(p, e))
			p++;
	if (p < e && *p == '.') {
		p++;
		n->integral = false;
		if (!is_digit(p, e)) {
			j->p = p;
			return syntax(j, "invalid number");
		}
		while (is_digit(p, e))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		n->integral = false;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, e)) {
			j->p = p;
			return syntax(j, "invalid number");
		}
		while (is_digit(p, e))
			p++;
	}
	n->len = (size_t)(p - n->s);
	j->p = p;
	return GF_OK;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The double nearest to the number token s[0..len). Up to 2^53 with a power
 * of ten up to 22 the one IEEE multiplication or division is exact-rounded
 * (Clinger's fast path); everything else goes to strtod() in the C locale.
 * False when the magnitude overflows or the token is absurdly long. */
static bool to_double(const unsigned char *s, size_t len, double *out)
{
	const unsigned char *p = s, *e = s + len;
	uint64_t mant = 0;
	int digits = 0, exp10 = 0, eval = 0, esign = 1;
	bool neg = false, fast = true;
	char buf[256];
	double v;

	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		if (digits < 19) {
			mant = mant * 10 + (unsigned)(*p - '0');
			if (mant != 0)
				digits++;
		} else {
			fast = false;
		}
	}
	if (p < e && *p == '.') {
		for (p++; p < e && *p >= '0' && *p <= '9'; p++) {
			if (digits < 19) {
				mant = mant * 10 + (unsigned)(*p - '0');
				if (mant != 0)
					digits++;
				exp10--;
			} else {
				fast = false;
			}
		}
	}
	if (p < e) { /* exponent */
		p++;
		if (*p == '+' || *p == '-')
			esign = *p++ == '-' ? -1 : 1;
		for (; p < e; p++) {
			if (eval < 10000)
				eval = eval * 10 + (*p - '0');
		}
		exp10 += esign * eval;
	}
	if (fast && mant <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
		v = (double)mant;
		v = exp10 >= 0 ? v * pow10_exact[exp10] : v / pow10_exact[-exp10];
		*out = neg ? -v : v;
		return true;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	v = strtod(buf, NULL);
	if (isinf(v))
		return false;
	*out = v;
	return true;
}

static enum gf_err out_of_range(struct jdec *j, const struct num *n, ProtobufCType type)
{
	int shown = n->len > 40 ? 40 : (int)n->len;
	return gf__codec_fail(j->cx, "%.*s%s is out of range for %s", shown, (const char *)n->s,
	                      n->len > 40 ? "..." : "", gf__codec_type_name(type));
}

/* An integer field: a JSON integer; the 64-bit types also take a decimal
 * string, since JavaScript loses precision past 2^53. */
static enum gf_err parse_integer(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst)
{
	bool wide = gf__codec_elem_size(f->type) == 8;
	struct num n;
	uint64_t mag;
	enum gf_err rc;
	int c = peek(j);

	if (c == '"' && wide) {
		const unsigned char *s;
		size_t len;
		bool plain;
		struct jdec sub;
		rc = scan_string(j, &s, &len, &plain);
		if (rc != GF_OK)
			return rc;
		sub = (struct jdec){j->cx, j->start, s, s + len};
		if (!plain || len == 0 || scan_number(&sub, &n) != GF_OK || sub.p != sub.end ||
		    !n.integral)
			return gf__codec_fail(j->cx, "expected an integer");
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		rc = scan_number(j, &n);
		if (rc != GF_OK)
			return rc;
		if (!n.integral)
			return gf__codec_fail(j->cx, "expected an integer");
	} else {
		return wrong_type(j, "an integer");
	}
	if (!gf__codec_digits_u64(n.s + n.neg, n.len - n.neg, &mag) ||
	    !gf__codec_store_int(f->type, n.neg, mag, dst))
		return out_of_range(j, &n, f->type);
	return GF_OK;
}

static enum gf_err parse_real(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst)
{
	struct num n;
	double v;
	enum gf_err rc;
	int c = peek(j);

	if (c == '"') {
		const unsigned char *s;
		size_t len;
		bool plain;
		rc = scan_string(j, &s, &len, &plain);
		if (rc != GF_OK)
			return rc;
		if (len == 3 && memcmp(s, "NaN", 3) == 0)
			v = NAN;
		else if (len == 8 && memcmp(s, "Infinity", 8) == 0)
			v = INFINITY;
		else if (len == 9 && memcmp(s, "-Infinity", 9) == 0)
			v = -INFINITY;
		else
			return gf__codec_fail(j->cx, "expected a number");
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		rc = scan_number(j, &n);
		if (rc != GF_OK)
			return rc;
		if (!to_double(n.s, n.len, &v))
			return out_of_range(j, &n, f->type);
	} else {
		return wrong_type(j, "a number");
	}
	if (f->type == PROTOBUF_C_TYPE_FLOAT) {
		float fv;
		if (!gf__codec_to_float(v, &fv))
			return out_of_range(j, &n, f->type);
		memcpy(dst, &fv, sizeof(fv));
	} else {
		memcpy(dst, &v, sizeof(v));
	}
	return GF_OK;
}

static enum gf_err parse_enum(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	const ProtobufCEnumValue *ev;
	int c = peek(j);
	enum gf_err rc;

	if (c == '"') {
		const unsigned char *s;
		size_t len;
		bool plain;
		rc = scan_string(j, &s, &len, &plain);
		if (rc != GF_OK)
			return rc;
		ev = plain ? gf__codec_enum_by_name(ed, (const char *)s, len) : NULL;
		if (ev == NULL)
			return gf__codec_fail_quoted(j->cx, "unknown enum value", (const char *)s,
			                             len);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		struct num n;
		uint64_t mag;
		int32_t v;
		rc = scan_number(j, &n);
		if (rc != GF_OK)
			return rc;
		if (!n.integral)
			return gf__codec_fail(j->cx, "expected an enum value name");
		ev = NULL;
		if (gf__codec_digits_u64(n.s + n.neg, n.len - n.neg, &mag) &&
		    gf__codec_store_int(PROTOBUF_C_TYPE_INT32, n.neg, mag, &v))
			ev = protobuf_c_enum_descriptor_get_value(ed, v);
		if (ev == NULL) {
			int shown = n.len > 40 ? 40 : (int)n.len;
			return gf__codec_fail(j->cx, "unknown enum value %.*s", shown,
			                      (const char *)n.s);
		}
	} else {
		return wrong_type(j, "an enum value name");
	}
	memcpy(dst, &ev->value, sizeof(ev->value));
	return GF_OK;
}

static const signed char b64_rev[256] = {
    /* 'A'-'Z' 0-25, 'a'-'z' 26-51, '0'-'9' 52-61, '+' and '-' 62, '/' and '_' 63 */
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['-'] = 63,
    ['/'] = 64, ['_'] = 64,
}; /* value + 1; 0 = not in either alphabet */

/* Decodes standard or URL-safe base64, padded or not, into d (room for
 * n / 4 * 3 + 2 bytes). Refuses stray characters, bad padding and non-zero
 * trailing bits, so every byte string has exactly one accepted form per
 * alphabet. */
static bool base64_decode(const unsigned char *s, size_t n, unsigned char *d, size_t *outlen)
{
	size_t o = 0, i, pad = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
		return false;
	for (i = 0; i < n; i++) {
		int v = b64_rev[s[i]] - 1;
		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return false;
	*outlen = o;
	return true;
}

static enum gf_err parse_bytes(struct jdec *j, void *dst)
{
	ProtobufCBinaryData bd = {0, NULL};
	const unsigned char *s;
	size_t n;
	bool plain;
	enum gf_err rc;

	if (peek(j) != '"')
		return wrong_type(j, "a base64 string");
	rc = scan_string(j, &s, &n, &plain);
	if (rc != GF_OK)
		return rc;
	if (!plain) { /* "\/" is a legal way to write '/' */
		const unsigned char *after = j->p;
		unsigned char *tmp = gf__codec_alloc(j->cx, n + 1);
		if (tmp == NULL)
			return GF_ENOMEM;
		rc = unescape(j, s, n, tmp, &n);
		if (rc != GF_OK)
			return rc;
		j->p = after;
		s = tmp;
	}
	if (n > 0) {
		bd.data = gf__codec_alloc(j->cx, n / 4 * 3 + 3);
		if (bd.data == NULL)
			return GF_ENOMEM;
		if (!base64_decode(s, n, bd.data, &bd.len))
			return gf__codec_fail(j->cx, "invalid base64");
		if (bd.len == 0)
			bd.data = NULL;
	}
	memcpy(dst, &bd, sizeof(bd));
	return GF_OK;
}

static enum gf_err parse_message(struct jdec *j, const ProtobufCMessageDescriptor *d,
                                 ProtobufCMessage *m);

static enum gf_err parse_value(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return parse_real(j, f, dst);
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b;
		if (literal(j, "true", 4))
			b = 1;
		else if (literal(j, "false", 5))
			b = 0;
		else
			return wrong_type(j, "true or false");
		memcpy(dst, &b, sizeof(b));
		return GF_OK;
	}
	case PROTOBUF_C_TYPE_ENUM:
		return parse_enum(j, f, dst);
	case PROTOBUF_C_TYPE_STRING: {
		char *s;
		size_t n;
		enum gf_err rc;
		if (peek(j) != '"')
			return wrong_type(j, "a string");
		rc = read_string(j, &s, &n);
		if (rc == GF_OK)
			rc = gf__codec_finish_string(j->cx, f, s, n, dst);
		return rc;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return parse_bytes(j, dst);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *md = f->descriptor;
		ProtobufCMessage *sub;
		enum gf_err rc;
		if (peek(j) != '{')
			return wrong_type(j, "an object");
		sub = gf__codec_alloc(j->cx, md->sizeof_message);
		if (sub == NULL)
			return GF_ENOMEM;
		protobuf_c_message_init(md, sub);
		rc = parse_message(j, md, sub);
		if (rc == GF_OK)
			memcpy(dst, &sub, sizeof(sub));
		return rc;
	}
	default:
		return parse_integer(j, f, dst);
	}
}

/* A repeated field: elements collect on the scratch stack (nested messages
 * push and pop above them) and move to the arena once counted. */
static enum gf_err parse_array(struct jdec *j, const ProtobufCFieldDescriptor *f,
                               ProtobufCMessage *m)
{
	struct gf__codec_ctx *cx = j->cx;
	size_t es = gf__codec_elem_size(f->type), mark = cx->used, base, n = 0;
	enum gf_err rc = GF_OK;
	void *arr = NULL;

	if (peek(j) != '[')
		return wrong_type(j, "an array");
	j->p++;
	skip_ws(j);
	base = cx->used; /* elements are copied bytewise: no alignment needed */
	if (peek(j) == ']') {
		j->p++;
		goto out;
	}
	for (;;) {
		union scalar v;
		size_t slot = gf__codec_push(cx, es);
		if (slot == SIZE_MAX) {
			rc = GF_ENOMEM;
			goto out;
		}
		gf__codec_path_index(cx, n);
		rc = parse_value(j, f, &v);
		if (rc != GF_OK)
			goto out;
		cx->npath--;
		memcpy(cx->scratch + slot, &v, es); /* the stack may have moved */
		n++;
		skip_ws(j);
		if (peek(j) == ',') {
			j->p++;
			skip_ws(j);
			continue;
		}
		if (peek(j) == ']') {
			j->p++;
			break;
		}
		rc = syntax(j, "expected ',' or ']'");
		goto out;
	}
	arr = gf__codec_alloc(cx, n * es);
	if (arr == NULL) {
		rc = GF_ENOMEM;
		goto out;
	}
	memcpy(arr, cx->scratch + base, n * es);
	memcpy(MEMBER(m, f->quantifier_offset), &n, sizeof(n));
	memcpy(MEMBER(m, f->offset), &arr, sizeof(arr));
out:
	cx->used = mark;
	return rc;
}

/* A map field: an object of entries, which collect on the scratch stack like
 * an array's elements. Entries are a nesting level, as they are in
 * protobuf, so that every encoding accepts the same depths. */
static enum gf_err parse_map(struct jdec *j, const ProtobufCFieldDescriptor *f,
                             const struct gf__codec_map *map, ProtobufCMessage *m)
{
	struct gf__codec_ctx *cx = j->cx;
	size_t mark = cx->used, base, n = 0;
	enum gf_err rc = GF_OK;
	ProtobufCMessage **arr;

	if (peek(j) != '{')
		return wrong_type(j, "an object");
	if (cx->depth >= GF_CODEC_MAX_DEPTH)
		return gf__codec_fail(cx, "nesting deeper than %d", GF_CODEC_MAX_DEPTH);
	cx->depth++;
	j->p++;
	skip_ws(j);
	base = cx->used;
	if (peek(j) == '}') {
		j->p++;
		goto out;
	}
	for (;;) {
		ProtobufCMessage *entry;
		const unsigned char *s;
		size_t len, slot = gf__codec_push(cx, sizeof(entry));
		bool plain;
		if (slot == SIZE_MAX) {
			rc = GF_ENOMEM;
			goto out;
		}
		if (peek(j) != '"') {
			rc = syntax(j, "expected a key");
			goto out;
		}
		rc = scan_string(j, &s, &len, &plain);
		if (rc == GF_OK && !plain) {
			const unsigned char *after = j->p;
			unsigned char *d = gf__codec_alloc(cx, len + 1);
			rc = d != NULL ? unescape(j, s, len, d, &len) : GF_ENOMEM;
			j->p = after;
			s = d;
		}
		entry = rc == GF_OK ? gf__codec_map_entry_new(cx, map) : NULL;
		if (rc == GF_OK && entry == NULL)
			rc = GF_ENOMEM;
		if (rc == GF_OK)
			rc = gf__codec_map_set_key(cx, map, (const char *)s, len, entry);
		if (rc != GF_OK)
			goto out;
		skip_ws(j);
		if (peek(j) != ':') {
			rc = syntax(j, "expected ':'");
			goto out;
		}
		j->p++;
		skip_ws(j);
		gf__codec_path_push(cx, (const char *)s, len);
		rc = parse_value(j, map->value, MEMBER(entry, map->value->offset));
		if (rc != GF_OK)
			goto out;
		cx->npath--;
		memcpy(cx->scratch + slot, &entry, sizeof(entry)); /* the stack may have moved */
		n++;
		skip_ws(j);
		if (peek(j) == ',') {
			j->p++;
			skip_ws(j);
			continue;
		}
		if (peek(j) == '}') {
			j->p++;
			break;
		}
		rc = syntax(j, "expected ',' or '}'");
		goto out;
	}
	arr = gf__codec_alloc(cx, n * sizeof(*arr));
	if (arr == NULL) {
		rc = GF_ENOMEM;
		goto out;
	}
	memcpy(arr, cx->scratch + base, n * sizeof(*arr));
	memcpy(MEMBER(m, f->quantifier_offset), &n, sizeof(n));
	memcpy(MEMBER(m, f->offset), &arr, sizeof(arr));
	rc = gf__codec_map_unique(cx, map, arr, n);
out:
	cx->used = mark;
	cx->depth--;
	return rc;
}

static enum gf_err parse_field(struct jdec *j, const ProtobufCMessageDescriptor *d,
                               const ProtobufCFieldDescriptor *f, ProtobufCMessage *m,
                               bool *is_null)
{
	enum gf_err rc;

	*is_null = literal(j, "null", 4);
	if (*is_null)
		return GF_OK;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		struct gf__codec_map map;
		if (gf__codec_map_of(f, &map))
			return parse_map(j, f, &map, m);
		return parse_array(j, f, m);
	}
	rc = gf__codec_claim_oneof(j->cx, d, f, m);
	if (rc == GF_OK)
		rc = parse_value(j, f, MEMBER(m, f->offset));
	if (rc == GF_OK)
		gf__codec_mark_set(f, m);
	return rc;
}

/* A key; unknown and duplicate keys are errors. Keys are field names, so a
 * key that needs unescaping to more than 128 bytes matches none. */
static enum gf_err parse_key(struct jdec *j, const ProtobufCMessageDescriptor *d,
                             const ProtobufCFieldDescriptor **out)
{
	const unsigned char *s;
	unsigned char buf[128];
	size_t n;
	bool plain;
	enum gf_err rc;

	if (peek(j) != '"')
		return syntax(j, "expected a key");
	rc = scan_string(j, &s, &n, &plain);
	if (rc != GF_OK)
		return rc;
	if (!plain && n <= sizeof(buf)) {
		const unsigned char *after = j->p;
		rc = unescape(j, s, n, buf, &n);
		if (rc != GF_OK)
			return rc;
		j->p = after;
		s = buf;
	}
	*out = gf__codec_field_by_name(d, (const char *)s, n);
	if (*out == NULL) {
		gf__codec_path_push(j->cx, (const char *)s, n);
		return gf__codec_fail(j->cx, "unknown field");
	}
	return GF_OK;
}

static enum gf_err parse_message(struct jdec *j, const ProtobufCMessageDescriptor *d,
                                 ProtobufCMessage *m)
{
	struct gf__codec_ctx *cx = j->cx;
	size_t mark = cx->used, state;
	enum gf_err rc = GF_OK;

	if (cx->depth >= GF_CODEC_MAX_DEPTH)
		return gf__codec_fail(cx, "nesting deeper than %d", GF_CODEC_MAX_DEPTH);
	cx->depth++;
	state = gf__codec_push(cx, d->n_fields);
	if (state == SIZE_MAX) {
		rc = GF_ENOMEM;
		goto out;
	}
	memset(cx->scratch + state, GF__CODEC_UNSEEN, d->n_fields);
	j->p++; /* '{' */
	skip_ws(j);
	if (peek(j) == '}') {
		j->p++;
		goto done;
	}
	for (;;) {
		const ProtobufCFieldDescriptor *f;
		size_t idx;
		bool is_null;
		rc = parse_key(j, d, &f);
		if (rc != GF_OK)
			goto out;
		idx = (size_t)(f - d->fields);
		skip_ws(j);
		if (peek(j) != ':') {
			rc = syntax(j, "expected ':'");
			goto out;
		}
		j->p++;
		skip_ws(j);
		gf__codec_path_push(cx, f->name, NAME_NUL);
		if (cx->scratch[state + idx] != GF__CODEC_UNSEEN) {
			rc = gf__codec_fail(cx, "duplicate field");
			goto out;
		}
		rc = parse_field(j, d, f, m, &is_null);
		if (rc != GF_OK)
			goto out;
		cx->npath--;
		cx->scratch[state + idx] = is_null ? GF__CODEC_NULL : GF__CODEC_SET;
		skip_ws(j);
		if (peek(j) == ',') {
			j->p++;
			skip_ws(j);
			continue;
		}
		if (peek(j) == '}') {
			j->p++;
			break;
		}
		rc = syntax(j, "expected ',' or '}'");
		goto out;
	}
done:
	rc = gf__codec_check_required(cx, d, cx->scratch + state);
out:
	cx->used = mark;
	cx->depth--;
	return rc;
}

enum gf_err gf_codec_from_json(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
                               ProtobufCMessage **out, char *err, size_t errlen)
{
	struct gf__codec_ctx cx;
	struct jdec j;
	ProtobufCMessage *root = NULL;
	locale_t old;
	enum gf_err rc;

	gf__codec_ctx_init(&cx, err, errlen);
	if (d == NULL || (json == NULL && len > 0) || out == NULL)
		return GF_EINVAL;
	old = gf__codec_enter_c_locale();
	rc = gf__codec_begin(&cx, d, len, &root);
	if (rc != GF_OK)
		goto out;
	j.cx = &cx;
	j.start = j.p = (const unsigned char *)json;
	j.end = j.p + len;
	skip_ws(&j);
	if (peek(&j) != '{') {
		rc = wrong_type(&j, "an object");
		goto out;
	}
	rc = parse_message(&j, d, root);
	if (rc != GF_OK)
		goto out;
	skip_ws(&j);
	if (j.p != j.end) {
		rc = syntax(&j, "trailing characters");
		goto out;
	}
	*out = root;
	gf__codec_release(&cx);
out:
	if (rc == GF_ENOMEM && cx.errlen > 0)
		snprintf(cx.err, cx.errlen, "out of memory");
	gf__codec_ctx_fini(&cx);
	gf__codec_leave_c_locale(old);
	return rc;
}
