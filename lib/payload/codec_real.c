/* SPDX-License-Identifier: MIT */
/*
 * codec_real.c - a double as the shortest decimal that reads back as it,
 * printed as printf("%.*g") prints it at the precision it needs (15, 16
 * or 17 significant digits): the JSON encoder's numbers (codec_json_emit.c).
 *
 * printf and strtod work in multi-precision arithmetic; trying 15, 16 and
 * 17 digits with a strtod after each cost a FOA a third of its instructions
 * per assignment (docs/bench.md). Here, for 1e-21 <= |v| < 1e15, in integer
 * arithmetic:
 *
 * - from 1e-4 (fixed notation in %g), a short decimal in doubles:
 *   m = round(v * 10^d) for d = 0 .. 3 (an offer's bounds, mostly): m / 10^d
 *   is the decimal's double exactly when it equals v (m < 2^53 and 10^d are
 *   exact doubles, and IEEE division rounds correctly, as strtod does);
 * - else 15 digits, else 16, else 17: v = f * 2^-s exactly (f < 2^53,
 *   s <= 126 in this range), so v * 10^k = f * 10^k / 2^s is exact in 192
 *   bits; it is computed once, for the k that gives 17 digits, and the 15-
 *   and 16-digit decimals are its integer part divided by 100 and 10,
 *   rounded to the nearest, ties to even, as glibc's printf does (the
 *   dropped digits and whether anything is left below decide); a decimal
 *   of fewer than 17 digits is taken when it lies inside v's rounding
 *   interval (its bounds when f is even: round-to-nearest-even), the test
 *   strtod's result would pass. When one
 *   of at most 15 digits reads back, it is the 15-digit rounding of v
 *   (two such decimals never read back as one double, DBL_DIG), which is
 *   what %.15g prints.
 *
 * Below 1e-4 the digits print as %g does, "d.ddde-XX". Outside the range
 * (and for a compiler without 128-bit integers) the caller's printf path
 * is taken: gf__codec_fmt_double returns 0. tests/unit/codec_real_test.c
 * compares both over millions of values.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <stdbool.h>

static const double p10d[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* m * 10^-d (1 <= m < 10^19) as %g prints it, after an optional '-':
 * trailing zeros dropped; in fixed notation unless sci allows the
 * exponent style and the first digit's exponent is below -4
 * ("d.ddde-XX"). Returns the length. */
static size_t put_decimal(char *buf, bool neg, uint64_t m, int d, bool sci)
{
	char dig[24];
	int n, o = 0, x;

	while (m % 10 == 0) {
		m /= 10;
		d--;
	}
	n = (int)gf__codec_fmt_u64(dig, m);
	x = n - 1 - d; /* the first digit's exponent */
	if (neg)
		buf[o++] = '-';
	if (sci && x < -4) {
		buf[o++] = dig[0];
		if (n > 1) {
			buf[o++] = '.';
			memcpy(buf + o, dig + 1, (size_t)n - 1);
			o += n - 1;
		}
		buf[o++] = 'e';
		buf[o++] = '-';
		x = -x;
		if (x >= 100)
			buf[o++] = (char)('0' + x / 100);
		buf[o++] = (char)('0' + x / 10 % 10);
		buf[o++] = (char)('0' + x % 10);
	} else if (d <= 0) { /* an integer: the zeros dropped come back */
		memcpy(buf + o, dig, (size_t)n);
		o += n;
		for (; d < 0; d++)
			buf[o++] = '0';
	} else if (n <= d) { /* 0.000ddd */
		buf[o++] = '0';
		buf[o++] = '.';
		for (int z = 0; z < d - n; z++)
			buf[o++] = '0';
		memcpy(buf + o, dig, (size_t)n);
		o += n;
	} else {
		memcpy(buf + o, dig, (size_t)(n - d));
		o += n - d;
		buf[o++] = '.';
		memcpy(buf + o, dig + n - d, (size_t)d);
		o += d;
	}
	return (size_t)o;
}

#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 u128;

/* 192-bit unsigned integers, three 64-bit limbs, least significant first:
 * f * 10^d for f < 2^53 and d <= 38, and m * 2^s for m < 2^57, s <= 125. */
struct u192 {
	uint64_t w[3];
};

#define P10Q(d) p10q[d]

/* 10^0 .. 10^38 (10^38 < 2^127). */
static const u128 p10q[39] = {(u128)1ULL,
                              (u128)10ULL,
                              (u128)100ULL,
                              (u128)1000ULL,
                              (u128)10000ULL,
                              (u128)100000ULL,
                              (u128)1000000ULL,
                              (u128)10000000ULL,
                              (u128)100000000ULL,
                              (u128)1000000000ULL,
                              (u128)10000000000ULL,
                              (u128)100000000000ULL,
                              (u128)1000000000000ULL,
                              (u128)10000000000000ULL,
                              (u128)100000000000000ULL,
                              (u128)1000000000000000ULL,
                              (u128)10000000000000000ULL,
                              (u128)100000000000000000ULL,
                              (u128)1000000000000000000ULL,
                              (u128)10000000000000000000ULL,
                              (u128)10000000000000000000ULL * 10ULL,
                              (u128)10000000000000000000ULL * 100ULL,
                              (u128)10000000000000000000ULL * 1000ULL,
                              (u128)10000000000000000000ULL * 10000ULL,
                              (u128)10000000000000000000ULL * 100000ULL,
                              (u128)10000000000000000000ULL * 1000000ULL,
                              (u128)10000000000000000000ULL * 10000000ULL,
                              (u128)10000000000000000000ULL * 100000000ULL,
                              (u128)10000000000000000000ULL * 1000000000ULL,
                              (u128)10000000000000000000ULL * 10000000000ULL,
                              (u128)10000000000000000000ULL * 100000000000ULL,
                              (u128)10000000000000000000ULL * 1000000000000ULL,
                              (u128)10000000000000000000ULL * 10000000000000ULL,
                              (u128)10000000000000000000ULL * 100000000000000ULL,
                              (u128)10000000000000000000ULL * 1000000000000000ULL,
                              (u128)10000000000000000000ULL * 10000000000000000ULL,
                              (u128)10000000000000000000ULL * 100000000000000000ULL,
                              (u128)10000000000000000000ULL * 1000000000000000000ULL,
                              (u128)10000000000000000000ULL * 10000000000000000000ULL};

static struct u192 from_u128(u128 x)
{
	return (struct u192){{(uint64_t)x, (uint64_t)(x >> 64), 0}};
}

static struct u192 mul(uint64_t f, u128 p)
{
	u128 t0 = (u128)f * (uint64_t)p, t1 = (u128)f * (uint64_t)(p >> 64) + (t0 >> 64);

	return (struct u192){{(uint64_t)t0, (uint64_t)t1, (uint64_t)(t1 >> 64)}};
}

/* x << s and x >> s, 0 < s < 128. */
static struct u192 shl(struct u192 x, int s)
{
	if (s >= 64) {
		x = (struct u192){{0, x.w[0], x.w[1]}};
		s -= 64;
	}
	if (s == 0)
		return x;
	return (struct u192){
	    {x.w[0] << s, x.w[1] << s | x.w[0] >> (64 - s), x.w[2] << s | x.w[1] >> (64 - s)}};
}

static struct u192 shr(struct u192 x, int s)
{
	if (s >= 64) {
		x = (struct u192){{x.w[1], x.w[2], 0}};
		s -= 64;
	}
	if (s == 0)
		return x;
	return (struct u192){
	    {x.w[0] >> s | x.w[1] << (64 - s), x.w[1] >> s | x.w[2] << (64 - s), x.w[2] >> s}};
}

static int cmp(struct u192 a, struct u192 b)
{
	for (int i = 2; i >= 0; i--)
		if (a.w[i] != b.w[i])
			return a.w[i] < b.w[i] ? -1 : 1;
	return 0;
}

static struct u192 sub(struct u192 a, struct u192 b) /* a >= b */
{
	struct u192 r;
	uint64_t borrow = 0;

	for (int i = 0; i < 3; i++) {
		u128 t = (u128)a.w[i] - b.w[i] - borrow;
		r.w[i] = (uint64_t)t;
		borrow = (uint64_t)(t >> 64) & 1;
	}
	return r;
}

/* True when m * 10^-d reads back as v = f * 2^-s (f normal, 53 bits). */
static bool reads_back(uint64_t f, int s, uint64_t m, int d)
{
	struct u192 t = shl(from_u128(m), s), vv = mul(f, P10Q(d)), p = from_u128(P10Q(d));
	bool above = cmp(t, vv) >= 0;
	struct u192 diff = above ? sub(t, vv) : sub(vv, t);
	int c;

	/* The gap to the next double up is 2^-s; down, half that when f is a
	 * power of two. In units of 10^-d * 2^-s the half gaps are p / 2 and,
	 * at a power of two below, p / 4; a tie reads back as the even f. */
	c = cmp(shl(diff, !above && f == (uint64_t)1 << 52 ? 2 : 1), p);
	return c < 0 || (c == 0 && (f & 1) == 0);
}

/* v = f * 2^-s scaled to 17 digits: x = f * 10^k exactly, t = floor(x /
 * 2^s) in [10^16, 10^17), k = 16 - lead for 10^lead <= v < 10^(lead + 1). */
struct scaled17 {
	struct u192 x;
	uint64_t t;
	int k;
};

/* The decimal of 15, 16 or 17 digits (the fewest that reads back) of v,
 * all from its 17-digit scaling: m and d, m * 10^-d. The 15- and 16-digit
 * candidates are t / 100 and t / 10 rounded to nearest, ties to even: the
 * digits dropped (r) against half the divisor decide, and at exactly half
 * whether anything is left below t (x - t * 2^s). A candidate rounded up
 * to 10^15 (10^16) is the next power of ten, still one of the decimals of
 * that many digits. */
static void shortest(uint64_t f, int s, const struct scaled17 *c, uint64_t *m, int *d)
{
	bool below = cmp(c->x, shl(from_u128(c->t), s)) != 0;
	struct u192 rest;
	uint64_t q, r, div = 100;

	for (int drop = 2; drop >= 1; drop--, div /= 10) {
		q = c->t / div;
		r = c->t % div;
		if (r > div / 2 || (r == div / 2 && (below || (q & 1))))
			q++;
		if (reads_back(f, s, q, c->k - drop)) {
			*m = q;
			*d = c->k - drop;
			return;
		}
	}
	/* 17 digits: the rest below t against half of 2^s */
	q = c->t;
	rest = sub(c->x, shl(from_u128(q), s));
	{
		int h = cmp(rest, shl(from_u128(1), s - 1));

		if (h > 0 || (h == 0 && (q & 1)))
			q++;
	}
	*m = q;
	*d = c->k;
}
#endif

size_t gf__codec_fmt_double(char *buf, double v)
{
	double a = fabs(v);
	bool neg = signbit(v);

	if (!(a >= 1e-21 && a < 1e15))
		return 0;
	/* A short decimal, from 1e-4 (fixed notation): m / 10^d for d <= 3
	 * and m < 10^15, in doubles (what an offer's bounds mostly are). */
	for (int d = 0; a >= 1e-4 && d <= 3; d++) {
		double x = a * p10d[d];
		uint64_t m;

		if (x >= 1e15)
			break;
		m = (uint64_t)(x + 0.5);
		if (m != 0 && (double)m / p10d[d] == a)
			return put_decimal(buf, neg, m, d, false);
	}
#ifdef __SIZEOF_INT128__
	{
		struct scaled17 c;
		uint64_t bits, f, m;
		int s, d, lead;

		memcpy(&bits, &a, sizeof(bits));
		if ((bits >> 52) == 0)
			return 0; /* subnormal: not in this range */
		f = (bits & (((uint64_t)1 << 52) - 1)) | (uint64_t)1 << 52;
		s = 1075 - (int)(bits >> 52); /* a = f * 2^-s; 3 <= s <= 126 here */
		if (s <= 1 || s > 126)
			return 0;
		/* 10^lead <= a: from the binary exponent, off by one at most */
		lead = (int)floor((52 - s) * 0.30102999566398120);
		/* log10 may be one off next to a power of ten: the exact first
		 * digit is where a * 10^(16 - lead), truncated, has 17 digits. */
		for (int tries = 0;; tries++) {
			struct u192 hi;

			if (tries == 4 || 16 - lead < 0 || 16 - lead > 38)
				return 0;
			c.k = 16 - lead;
			c.x = mul(f, P10Q(c.k));
			hi = shr(c.x, s);
			c.t = hi.w[0];
			if (hi.w[1] || hi.w[2] || c.t >= (uint64_t)P10Q(17))
				lead++;
			else if (c.t < (uint64_t)P10Q(16))
				lead--;
			else
				break;
		}
		shortest(f, s, &c, &m, &d);
		/* %g's exponent is that of the printed digits (a rounding up
		 * moves it one up; trailing zeros do not): below -4, the
		 * exponent style */
		return put_decimal(buf, neg, m, d, true);
	}
#endif
	return 0;
}
