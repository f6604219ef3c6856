/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/meter/resample.h: register reads interpolated to
 * interval energy, interval energies summed, their boundaries and errors. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "meter/resample.h"

#define MIN_MS (60 * 1000LL)
#define Q_MS   (15 * MIN_MS)

typedef struct gf_resample_point pt;

static void expect(const double *got, const double *want, size_t n, double tol)
{
	for (size_t k = 0; k < n; k++) {
		if (isnan(want[k]))
			cr_assert(isnan(got[k]), "out[%zu] = %.17g, want NAN", k, got[k]);
		else
			cr_assert(fabs(got[k] - want[k]) <= tol, "out[%zu] = %.17g, want %.17g", k,
			          got[k], want[k]);
	}
}

Test(resample, register_exact_interpolation)
{
	const pt p[] = {{0, 0}, {10, 10}, {30, 20}};
	const double want[] = {5, 5, 2.5, 2.5, 2.5, 2.5};
	double out[6];

	cr_assert_eq(gf_resample_register(p, 3, 0, 5, 6, out), GF_OK);
	expect(out, want, 6, 0); /* exact in binary: no tolerance */
	/* one interval over all reads, and one inside a single pair */
	cr_assert_eq(gf_resample_register(p, 3, 0, 30, 1, out), GF_OK);
	cr_assert_eq(out[0], 20.0);
	cr_assert_eq(gf_resample_register(p, 3, 12, 6, 1, out), GF_OK);
	cr_assert_eq(out[0], 3.0);
	/* a kWh register read at irregular times over an hour, 15-minute intervals:
	 * 100.0 at 00:07, 101.2 at 00:22 (0.08 kWh/min), 101.2 at 00:41 (idle),
	 * 103.6 at 01:01 (0.12 kWh/min) */
	const pt q[] = {
	    {7 * MIN_MS, 100.0}, {22 * MIN_MS, 101.2}, {41 * MIN_MS, 101.2}, {61 * MIN_MS, 103.6}};
	double oq[4];
	cr_assert_eq(gf_resample_register(q, 4, 0, Q_MS, 4, oq), GF_OK);
	/* the register is 100.64 at 00:15, 101.2 at 00:30, 101.68 at 00:45 and
	 * 103.48 at 01:00; 00:00 is before the first read: interval 0 missing */
	cr_assert(isnan(oq[0]));
	cr_assert(fabs(oq[1] - 0.56) < 1e-9, "%.17g", oq[1]);
	cr_assert(fabs(oq[2] - 0.48) < 1e-9, "%.17g", oq[2]);
	cr_assert(fabs(oq[3] - 1.80) < 1e-9, "%.17g", oq[3]);
	/* one more interval: 01:15 is after the last read */
	double o5[5];
	cr_assert_eq(gf_resample_register(q, 4, 0, Q_MS, 5, o5), GF_OK);
	cr_assert(isnan(o5[4]));
}

Test(resample, register_no_extrapolation)
{
	const pt p[] = {{100, 10}, {200, 20}};
	double out[5];

	/* boundaries 50,100,150,200,250,300 */
	cr_assert_eq(gf_resample_register(p, 2, 50, 50, 5, out), GF_OK);
	const double want[] = {NAN, 5, 5, NAN, NAN};
	expect(out, want, 5, 0);
	/* no reads, one read */
	cr_assert_eq(gf_resample_register(p, 0, 0, 50, 5, out), GF_OK);
	for (int k = 0; k < 5; k++)
		cr_assert(isnan(out[k]));
	cr_assert_eq(gf_resample_register(p, 1, 100, 50, 1, out), GF_OK);
	cr_assert(isnan(out[0]));
	cr_assert_eq(gf_resample_register(p, 1, 50, 50, 1, out), GF_OK); /* 50..100: NAN */
	cr_assert(isnan(out[0]));
	/* count 0 writes nothing */
	cr_assert_eq(gf_resample_register(p, 2, 0, 50, 0, NULL), GF_OK);
}

Test(resample, register_equal_times_the_last_counts)
{
	/* two reads at t=10 (5 then 7): the register is 7 there, on both sides */
	const pt p[] = {{0, 0}, {10, 5}, {10, 7}, {20, 7}};
	const double want[] = {3.5, 3.5, 0, 0};
	double out[4];

	cr_assert_eq(gf_resample_register(p, 4, 0, 5, 4, out), GF_OK);
	expect(out, want, 4, 0);
	/* equal times may go down within the instant: only the last counts */
	const pt q[] = {{0, 0}, {10, 9}, {10, 7}, {20, 8}};
	cr_assert_eq(gf_resample_register(q, 4, 0, 10, 2, out), GF_OK);
	cr_assert_eq(out[0], 7.0);
	cr_assert_eq(out[1], 1.0);
}

Test(resample, register_errors_leave_out_untouched)
{
	const pt down[] = {{0, 10}, {10, 11}, {20, 10.5}};
	const pt down_at_same[] = {{0, 10}, {10, 11}, {10, 9}};
	const pt unsorted[] = {{0, 10}, {20, 11}, {10, 12}};
	const pt nan[] = {{0, 10}, {10, NAN}};
	const pt inf[] = {{0, 10}, {10, INFINITY}};
	double out[2] = {42, 42};

	cr_assert_eq(gf_resample_register(down, 3, 0, 10, 2, out), GF_ERANGE);
	cr_assert_eq(gf_resample_register(down_at_same, 3, 0, 10, 2, out), GF_ERANGE);
	cr_assert_eq(gf_resample_register(unsorted, 3, 0, 10, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_register(nan, 2, 0, 10, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_register(inf, 2, 0, 10, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_register(down, 2, 0, 0, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_register(down, 2, 0, -900, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_register(down, 2, INT64_MAX - 10, 10, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_register(down, 2, 0, INT64_MAX / 2, 3, out), GF_EINVAL);
	cr_assert_eq(gf_resample_register(NULL, 2, 0, 10, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_register(down, 2, 0, 10, 2, NULL), GF_EINVAL);
	cr_assert(out[0] == 42 && out[1] == 42);
}

/* A day of 15-minute register reads, on the boundaries and then 7 minutes
 * past them, against the energy profile they were made from. */
Test(resample, register_one_day_15_minutes)
{
	enum { N = 96 };
	pt on[N + 1], off[N + 2];
	double e[N], out[N], reg = 18698.0;
	const int64_t day = 1729987200000LL; /* 2024-10-27T00:00:00Z */

	for (int k = 0; k < N; k++)
		e[k] = 0.05 + 0.01 * (k % 24) + (k >= 68 && k < 80 ? 1.5 : 0); /* an evening peak */
	for (int k = 0; k <= N; k++) {
		on[k] = (pt){day + k * Q_MS, reg};
		if (k < N)
			reg += e[k];
	}
	cr_assert_eq(gf_resample_register(on, N + 1, day, Q_MS, N, out), GF_OK);
	expect(out, e, N, 1e-9);
	/* reads at :07, :22, ... (linear consumption within each interval means
	 * the interpolation is exact again), one read before and after the day */
	for (int k = 0; k < N + 2; k++) {
		int64_t t = day + (k - 1) * Q_MS + 7 * MIN_MS;
		int64_t j = k - 1; /* interval of t */
		double frac = 7.0 / 15.0;
		double at = on[0].v;
		/* the register at t, from the profile, extended by the first and
		 * last interval's rates beyond the day */
		if (j < 0)
			at = on[0].v - e[0] * (1 - frac);
		else if (j >= N)
			at = on[N].v + e[N - 1] * frac;
		else
			at = on[j].v + e[j] * frac;
		off[k] = (pt){t, at};
	}
	cr_assert_eq(gf_resample_register(off, N + 2, day, Q_MS, N, out), GF_OK);
	/* each boundary is interpolated between reads 8 minutes before and 7
	 * after it, within the intervals either side: exact when their rates
	 * are equal, so compare the day's total, which telescopes exactly */
	double sum = 0;
	for (int k = 0; k < N; k++) {
		cr_assert(isfinite(out[k]) && out[k] >= 0, "out[%d] = %g", k, out[k]);
		sum += out[k];
	}
	double total = 0;
	for (int k = 0; k < N; k++)
		total += e[k];
	cr_assert(fabs(sum - total) < 1e-8, "%.17g vs %.17g", sum, total);
	/* and where the rate does not change across a boundary, exact */
	for (int k = 1; k + 1 < N; k++)
		if (e[k - 1] == e[k] && e[k] == e[k + 1])
			cr_assert(fabs(out[k] - e[k]) < 1e-9, "out[%d] = %.17g vs %.17g", k, out[k],
			          e[k]);
}

Test(resample, interval_sums_and_boundaries)
{
	/* 5-minute energies into 15-minute intervals from 0: a reading at t is the
	 * energy of (t - 5 min, t] and belongs to the interval holding t as (start, end] */
	const pt p[] = {
	    {0, 100}, /* ends at the first boundary: the interval before */
	    {5 * MIN_MS, 1},
	    {10 * MIN_MS, 2},
	    {15 * MIN_MS, 3}, /* interval 0 */
	    {20 * MIN_MS, 4},
	    {30 * MIN_MS, 5},        /* interval 1, no 25 */
	    {30 * MIN_MS + 1, 0.5},  /* 1 ms into interval 2 */
	    {60 * MIN_MS + 1, 1000}, /* past the last interval */
	};
	const double want[] = {6, 9, 0.5, NAN};
	double out[4];

	cr_assert_eq(gf_resample_interval(p, 8, 0, Q_MS, 4, out), GF_OK);
	expect(out, want, 4, 0);
	/* any order gives the same sums */
	pt r[8];
	for (int k = 0; k < 8; k++)
		r[k] = p[7 - k];
	cr_assert_eq(gf_resample_interval(r, 8, 0, Q_MS, 4, out), GF_OK);
	expect(out, want, 4, 0);
	/* an interval with a zero reading is 0, not missing */
	const pt z[] = {{Q_MS, 0}};
	cr_assert_eq(gf_resample_interval(z, 1, 0, Q_MS, 2, out), GF_OK);
	cr_assert_eq(out[0], 0.0);
	cr_assert(isnan(out[1]));
	/* negative times, from not on a multiple of len */
	const pt neg[] = {{-10, 1}, {-7, 2}, {-6, 4}, {0, 8}};
	cr_assert_eq(gf_resample_interval(neg, 4, -13, 3, 4, out), GF_OK);
	/* intervals (-13,-10] (-10,-7] (-7,-4] (-4,-1] */
	cr_assert_eq(out[0], 1.0);
	cr_assert_eq(out[1], 2.0);
	cr_assert_eq(out[2], 4.0);
	cr_assert(isnan(out[3])); /* (-4,-1]: nothing; 0 is past the last interval */
}

Test(resample, interval_errors)
{
	const pt p[] = {{0, 1}, {10, NAN}};
	double out[2] = {42, 42};

	cr_assert_eq(gf_resample_interval(p, 2, 0, 10, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_interval(p, 1, 0, 0, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_interval(p, 1, 0, -1, 2, out), GF_EINVAL);
	cr_assert_eq(gf_resample_interval(p, 1, INT64_MAX - 5, 10, 1, out), GF_EINVAL);
	cr_assert(out[0] == 42 && out[1] == 42);
	/* times far from from_ms do not overflow */
	const pt far[] = {{INT64_MIN, 1}, {INT64_MAX, 2}};
	cr_assert_eq(gf_resample_interval(far, 2, -1000, 10, 2, out), GF_OK);
	cr_assert(isnan(out[0]) && isnan(out[1]));
	const pt farr[] = {{INT64_MIN, 1}, {INT64_MAX, 2}};
	cr_assert_eq(gf_resample_register(farr, 2, -1000, 10, 2, out), GF_OK);
	cr_assert(isfinite(out[0]) && isfinite(out[1]));
}

Test(resample, interval_one_day)
{
	enum { N = 96 * 3 };
	pt p[N];
	double out[96], want[96] = {0};

	/* 5-minute energies of a day, shuffled */
	for (int k = 0; k < N; k++) {
		p[k] = (pt){(k + 1) * 5 * MIN_MS, 0.001 * (k % 17) + 0.01};
		want[k / 3] += p[k].v;
	}
	for (int k = N - 1; k > 0; k--) {
		int j = (k * 7919) % (k + 1);
		pt t = p[k];
		p[k] = p[j];
		p[j] = t;
	}
	cr_assert_eq(gf_resample_interval(p, N, 0, Q_MS, 96, out), GF_OK);
	expect(out, want, 96, 1e-12);
}
