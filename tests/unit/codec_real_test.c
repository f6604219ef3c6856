/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/payload/codec_real.c: gf__codec_fmt_double against the
 * printf path it replaces (the fewest of %.15g, %.16g, %.17g that strtod
 * reads back as v), over values of every kind in its range: random bit
 * patterns, short decimals, quotients like the disaggregation's (x / 3),
 * neighbours of powers of ten and of two, the residues of sums (1e-17),
 * the range's edges. Out of range it must decline (0), for the printf path
 * to print.
 */
#define GF__CODEC_INTERNAL
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"

static size_t reference(char *buf, size_t size, double v)
{
	int n = 0;

	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return (size_t)n;
}

/* splitmix64: every 64-bit pattern, from a fixed seed */
static uint64_t next(void)
{
	static uint64_t state = 0x9e3779b97f4a7c15ULL;
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double from_bits(uint64_t b)
{
	double v;

	memcpy(&v, &b, sizeof(v));
	return v;
}

static long checked, mismatched;

/* v in range: fmt_double must print what the reference prints. */
static void same(double v)
{
	char got[40], want[40];
	size_t n = gf__codec_fmt_double(got, v), w;

	if (!(fabs(v) >= 1e-21 && fabs(v) < 1e15) || v == (double)(int64_t)v)
		return; /* out of range, or an integer (the encoder's own path) */
	w = reference(want, sizeof(want), v);
	checked++;
	if (n != w || memcmp(got, want, n) != 0) {
		if (mismatched++ < 10)
			cr_log_error("%.17g: got '%.*s', printf '%.*s'", v, (int)n, got, (int)w,
			             want);
	}
}

Test(codec_real, random_doubles_in_range)
{
	for (long i = 0; i < 2000000; i++) {
		/* uniform in the exponent: exponents of 1e-21 .. 1e15 */
		uint64_t b = next();
		int e = (int)(next() % 123) - 73; /* 2^-73 .. 2^49 */
		double v = ldexp(1.0 + (double)(b >> 12) / 4503599627370496.0, e);
		same((b & 1) ? -v : v);
		same(from_bits(next())); /* any bit pattern; most out of range */
	}
	cr_assert_eq(mismatched, 0, "%ld of %ld differ", mismatched, checked);
	cr_assert_gt(checked, 2000000);
}

Test(codec_real, short_decimals_and_quotients)
{
	for (long i = 0; i < 1000000; i++) {
		long m = (long)(next() % 100000000);
		int d = (int)(next() % 12);
		double v = (double)m / pow(10, d);
		same(v);
		same(v / 3);
		same(v / 7 * 1e-3);
		same(-v / 96);
	}
	for (int k = 1; k < 100000; k++) {
		same(k / 10.0);
		same(k / 100.0);
		same(k * 0.1);
		same(k * 0.01 + 0.001);
	}
	cr_assert_eq(mismatched, 0, "%ld of %ld differ", mismatched, checked);
}

Test(codec_real, edges)
{
	for (int p = -21; p <= 15; p++) {
		double t = pow(10, p);
		double v = t;
		for (int k = 0; k < 200; k++) {
			same(v);
			same(nextafter(t, 0) == v ? v : nextafter(v, 0));
			v = nextafter(v, INFINITY);
		}
		v = t;
		for (int k = 0; k < 200; k++)
			same(v = nextafter(v, 0));
	}
	for (int e = -73; e <= 50; e++) {
		double t = ldexp(1, e);
		same(t);
		same(nextafter(t, 0));
		same(nextafter(t, INFINITY));
		same(t * 1.5);
	}
	/* exact binary fractions: decimals of every length, ending in 5, so
	 * that 15, 16 and 17 digits fall on exact halves (ties to even) */
	for (int e = -70; e < 0; e++)
		for (int m = 1; m < 4000; m += 2)
			same(ldexp(m, e));
	same(0.1);
	same(0.3);
	same(1.0 / 3);
	same(2.0 / 3);
	same(1.2583333333333333);
	same(999999999999999.9);
	same(0.00010000000000000001);
	same(2.7755575615628914e-17); /* residues of the disaggregation's sums */
	same(-5.5511151231257827e-17);
	same(1.3877787807814457e-17);
	same(0.1 + 0.2 - 0.3);
	same(1e-5);
	same(1.5e-21);
	cr_assert_eq(mismatched, 0, "%ld of %ld differ", mismatched, checked);
}

Test(codec_real, declines_out_of_range)
{
	char buf[40];

	cr_assert_eq(gf__codec_fmt_double(buf, 1e15), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, 1e300), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, 9.99e-22), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, 5e-324), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, 0.0), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, NAN), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, INFINITY), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, -INFINITY), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, 0.5), 3);
	cr_assert_eq(memcmp(buf, "0.5", 3), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, -0.000125), 9);
	cr_assert_eq(memcmp(buf, "-0.000125", 9), 0);
	cr_assert_eq(gf__codec_fmt_double(buf, 2.5e-5), 7);
	cr_assert_eq(memcmp(buf, "2.5e-05", 7), 0);
}
