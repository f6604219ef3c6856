/* SPDX-License-Identifier: MIT */
/*
 * codec_json_value.c - the JSON decoder's value readers (codec_json_int.h):
 * string tokens and their escapes, numbers (exact where the decimal allows,
 * range-checked per field type), enums and base64 bytes. The parser that
 * calls them is codec_json.c.
 */
#include "payload/codec_json_int.h"
#include "base/json.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Non-zero if one of the 8 bytes of x may end a run of plain string
 * characters: a control (< 0x20), '"', '\\' or non-ASCII. Bytes after the
 * first such byte may be flagged wrongly (borrows), never the bytes before
 * it: the caller only skips words with nothing flagged. */
static inline uint64_t special8(uint64_t x)
{
	uint64_t quote = x ^ (ONES * '"'), bslash = x ^ (ONES * '\\');

	return ((x - ONES * 0x20) & ~x & HIGHS) | ((quote - ONES) & ~quote & HIGHS) |
	       ((bslash - ONES) & ~bslash & HIGHS) | (x & HIGHS);
}

/* Finds the end of the string token at j->p (a '"'): *s and *n get its raw
 * content, *plain whether it is pure ASCII without escapes. */
enum gf_err gf__json_scan_string(struct jdec *j, const unsigned char **s, size_t *n, bool *plain)
{
	const unsigned char *p = j->p + 1;
	bool pl = true;

	for (;;) {
		/* A run of plain characters (printable ASCII but '"' and '\\')
		 * first: eight at a time, then one by one. */
		while (j->end - p >= 8) {
			uint64_t x, m;
			memcpy(&x, p, sizeof(x));
			if ((m = special8(x)) != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				/* The lowest flagged byte is the first special one. */
				p += (unsigned)__builtin_ctzll(m) / 8;
#endif
				break;
			}
			p += 8;
		}
		while (p < j->end && (unsigned char)(*p - 0x20) < 0x60 && *p != '"' && *p != '\\')
			p++;
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

/* Decodes the raw string content s[0..n) (as found by gf__json_scan_string) into d,
 * which has room for n bytes: an escape never decodes longer than itself.
 * Checks UTF-8, surrogate pairs and NUL. */
enum gf_err gf__json_unescape(struct jdec *j, const unsigned char *s, size_t n, unsigned char *d,
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
enum gf_err gf__json_read_string(struct jdec *j, char **out, size_t *outlen)
{
	const unsigned char *s;
	size_t n;
	bool plain;
	unsigned char *d;
	enum gf_err rc = gf__json_scan_string(j, &s, &n, &plain);

	if (rc != GF_OK)
		return rc;
	d = gf__codec_alloc(j->cx, n + 1);
	if (d == NULL)
		return GF_ENOMEM;
	if (plain) {
		memcpy(d, s, n);
	} else {
		const unsigned char *after = j->p;
		rc = gf__json_unescape(j, s, n, d, &n);
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
	/* The value as mant * 10^exp10 when fast (at most 19 significant
	 * digits, which fit mant); else only the text says it. */
	uint64_t mant;
	int exp10;
	bool fast;
};

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Their value, the first byte the most significant digit (three
 * multiplications: pairs, then fours, then the eight). */
static inline uint64_t eight_value(uint64_t x)
{
	x -= 0x3030303030303030ULL;
	x = x * 10 + (x >> 8);
	x = (((x & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32))) +
	     (((x >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32)))) >>
	    32;
	return x & 0xffffffffULL;
}
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* How many of the 8 bytes of x (little-endian, first byte lowest) lead as
 * ASCII digits, 0..8. A byte of 0xfa or more carries into the next byte's
 * test, but that byte comes after a non-digit, so the count is exact. */
static inline unsigned leading_digits(uint64_t x)
{
	uint64_t t = ((x & 0xf0f0f0f0f0f0f0f0ULL) |
	              (((x + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4)) ^
	             0x3333333333333333ULL;

	return t == 0 ? 8 : (unsigned)__builtin_ctzll(t) / 8;
}
#endif

/* The run of digits from p on appended to *mant (modulo 2^64: the caller
 * uses it only for runs of at most 19 significant digits), eight at a time
 * where it can; returns the first non-digit. Where 8 bytes can be loaded, a
 * run's last k < 8 digits are counted and valued in one word too: shifted
 * to the word's top with '0's below, which eight_value reads as leading
 * zeros. Most numbers here are shorter than 8 digits per part. */
static inline const unsigned char *digit_run(const unsigned char *p, const unsigned char *e,
                                             uint64_t *mant)
{
	uint64_t m = *mant;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	static const uint64_t pow10_8[9] = {1,      10,      100,      1000,     10000,
	                                    100000, 1000000, 10000000, 100000000};
	while (e - p >= 8) {
		uint64_t x;
		unsigned k;
		memcpy(&x, p, sizeof(x));
		k = leading_digits(x);
		if (k == 8) {
			m = m * 100000000u + eight_value(x);
			p += 8;
			continue;
		}
		if (k > 0) {
			unsigned sh = 8 * (8 - k); /* 8..56 */
			uint64_t y = (x << sh) | (0x3030303030303030ULL >> (64 - sh));
			m = m * pow10_8[k] + eight_value(y);
			p += k;
		}
		*mant = m;
		return p;
	}
#endif
	for (; is_digit(p, e); p++)
		m = m * 10 + (unsigned)(*p - '0');
	*mant = m;
	return p;
}

/* Scans a number token per the RFC 8259 grammar, reading its digits on the
 * way (one pass: to_double need not read them again). Inlined into the
 * readers: the token's fields then stay in registers. Significant digits
 * start at the first non-zero one: the grammar allows no leading zero in
 * the integer part, so they are the integer part's when it is not "0",
 * else the fraction's after its leading zeros. */
static inline __attribute__((always_inline)) enum gf_err scan_number(struct jdec *j, struct num *n)
{
	const unsigned char *p = j->p, *e = j->end, *frac, *lead;
	uint64_t mant = 0;
	size_t sig = 0, nfrac = 0;
	int eval = 0, esign = 1;

	n->s = p;
	n->neg = false;
	n->integral = true;
	if (p < e && *p == '-') {
		n->neg = true;
		p++;
	}
	if (!is_digit(p, e))
		goto bad;
	if (*p == '0') {
		p++;
	} else {
		const unsigned char *q = p;
		p = digit_run(p, e, &mant);
		sig = (size_t)(p - q);
	}
	if (p < e && *p == '.') {
		p++;
		n->integral = false;
		if (!is_digit(p, e))
			goto bad;
		frac = lead = p;
		if (sig == 0) { /* the leading zeros of 0.000ddd */
			while (p < e && *p == '0')
				p++;
			lead = p;
		}
		p = digit_run(p, e, &mant);
		nfrac = (size_t)(p - frac);
		sig += (size_t)(p - lead);
	}
	/* Past 19 significant digits only the text says the value (to_double
	 * then reads it with strtod), and a fraction that long is beyond
	 * every fast path either way: its length is capped. */
	n->fast = sig <= 19;
	n->mant = mant;
	n->exp10 = -(int)(nfrac < 100000 ? nfrac : 100000);
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		n->integral = false;
		if (p < e && (*p == '+' || *p == '-'))
			esign = *p++ == '-' ? -1 : 1;
		if (!is_digit(p, e))
			goto bad;
		for (; is_digit(p, e); p++) {
			if (eval < 10000)
				eval = eval * 10 + (*p - '0');
		}
		n->exp10 += esign * eval;
	}
	n->len = (size_t)(p - n->s);
	j->p = p;
	return GF_OK;
bad:
	/* GF_EPARSE spelled out, so that the callers, into which this is
	 * inlined, see that n is set whenever GF_OK comes back. */
	j->p = p;
	(void)syntax(j, "invalid number");
	return GF_EPARSE;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#if LDBL_MANT_DIG == 64 && defined(__x86_64__)
/*
 * Up to 19 significant digits (what printf("%.17g") and shortest-round-trip
 * printers give: 17 digits do not fit Clinger's 2^53) with a power of ten up
 * to 27: the mantissa (< 10^19 < 2^64) and 10^k (5^27 < 2^63) are exact in
 * an x87 long double, so mant * 10^k or mant / 10^k is one correctly rounded
 * extended operation, r, within half an extended ulp of the true value x.
 * Rounding r to double gives the double nearest x unless r lies within one
 * extended ulp of a midpoint between two doubles (its 11 bits below the
 * double's 53 are 0x3ff, 0x400 or 0x401): then x and r may round apart, and
 * false sends the token to strtod(). Results are normal doubles
 * (1e-27 .. 1e46), so the 11 bits are the whole of the difference.
 */
static bool wide_fast_path(uint64_t mant, int exp10, double *out)
{
	static const long double pow10l_exact[] = {1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,
	                                           1e7L,  1e8L,  1e9L,  1e10L, 1e11L, 1e12L, 1e13L,
	                                           1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L,
	                                           1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};
	long double r = (long double)mant;
	uint64_t bits;
	unsigned low;

	r = exp10 >= 0 ? r * pow10l_exact[exp10] : r / pow10l_exact[-exp10];
	/* The x87 format keeps the 64 mantissa bits (integer bit included) in
	 * its first 8 bytes, little-endian. */
	memcpy(&bits, &r, sizeof(bits));
	low = (unsigned)(bits & 0x7ff);
	if (low >= 0x3ff && low <= 0x401)
		return false;
	*out = (double)r;
	return true;
}
#else
static bool wide_fast_path(uint64_t mant, int exp10, double *out)
{
	(void)mant;
	(void)exp10;
	(void)out;
	return false; /* no x87 long double here: strtod() */
}
#endif

/* The double nearest to the number token n (scanned by scan_number). Up to
 * 2^53 with a power of ten up to 22 the one IEEE multiplication or division
 * is exact-rounded (Clinger's fast path); up to 19 digits, wide_fast_path;
 * everything else goes to strtod() in the C locale. False when the
 * magnitude overflows or the token is absurdly long. */
static bool to_double(const struct num *n, double *out)
{
	uint64_t mant = n->mant;
	int exp10 = n->exp10;
	char buf[256];
	double v;

	if (n->fast && mant <= (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
		v = (double)mant;
		v = exp10 >= 0 ? v * pow10_exact[exp10] : v / pow10_exact[-exp10];
		*out = n->neg ? -v : v;
		return true;
	}
	if (n->fast && mant != 0 && exp10 >= -27 && exp10 <= 27 &&
	    wide_fast_path(mant, exp10, &v)) {
		*out = n->neg ? -v : v;
		return true;
	}
	if (n->len >= sizeof(buf))
		return false;
	memcpy(buf, n->s, n->len);
	buf[n->len] = '\0';
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
enum gf_err gf__json_parse_integer(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst)
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
		rc = gf__json_scan_string(j, &s, &len, &plain);
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
	/* Up to 19 significant digits the scan's mantissa is the magnitude
	 * (an integer has no fraction and no exponent); longer ones are read
	 * again with the overflow check. */
	if (n.fast)
		mag = n.mant;
	else if (!gf__codec_digits_u64(n.s + n.neg, n.len - n.neg, &mag))
		return out_of_range(j, &n, f->type);
	if (!gf__codec_store_int(f->type, n.neg, mag, dst))
		return out_of_range(j, &n, f->type);
	return GF_OK;
}

enum gf_err gf__json_parse_real(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst)
{
	struct num n;
	double v;
	enum gf_err rc;
	int c = peek(j);

	if (c == '"') {
		const unsigned char *s;
		size_t len;
		bool plain;
		rc = gf__json_scan_string(j, &s, &len, &plain);
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
		j->cx->nonfinite = true;
		n.s = s; /* never shown: gf__codec_to_float takes every non-finite */
		n.len = len;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		rc = scan_number(j, &n);
		if (rc != GF_OK)
			return rc;
		if (!to_double(&n, &v))
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

enum gf_err gf__json_parse_enum(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	const ProtobufCEnumValue *ev;
	int c = peek(j);
	enum gf_err rc;

	if (c == '"') {
		const unsigned char *s;
		size_t len;
		bool plain;
		rc = gf__json_scan_string(j, &s, &len, &plain);
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

enum gf_err gf__json_parse_bytes(struct jdec *j, void *dst)
{
	ProtobufCBinaryData bd = {0, NULL};
	const unsigned char *s;
	size_t n;
	bool plain;
	enum gf_err rc;

	if (peek(j) != '"')
		return wrong_type(j, "a base64 string");
	rc = gf__json_scan_string(j, &s, &n, &plain);
	if (rc != GF_OK)
		return rc;
	if (!plain) { /* "\/" is a legal way to write '/' */
		const unsigned char *after = j->p;
		unsigned char *tmp = gf__codec_alloc(j->cx, n + 1);
		if (tmp == NULL)
			return GF_ENOMEM;
		rc = gf__json_unescape(j, s, n, tmp, &n);
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
