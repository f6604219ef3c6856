/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/baseline.h: X-of-Y selection, day-of adjustments, errors. */
#include <criterion/criterion.h>

#include <math.h>

#include "engine/baseline.h"

#define N    GF_BASELINE_INTERVALS
#define TOL  1e-9
#define DAYS 12

static double hist[DAYS][N];
static unsigned char elig[DAYS];
static double today[N];

/*
 * Twelve flat days: day k holds k + 1 kWh in every interval (day 0 = 1 kWh,
 * oldest; day 11 = 12 kWh, the day before the event). Day 10 (11 kWh) is not
 * eligible. The 10 most recent eligible days are 11, 9, 8, ..., 1 with values
 * 12, 10, 9, 8, 7, 6, 5, 4, 3, 2: sum 66, mean 6.6.
 */
static void flat_days(void)
{
	for (size_t k = 0; k < DAYS; k++) {
		for (size_t i = 0; i < N; i++)
			hist[k][i] = (double)(k + 1);
		elig[k] = 1;
	}
	elig[10] = 0;
	for (size_t i = 0; i < N; i++)
		today[i] = 100.0; /* outside the adjustment window: never read */
}

static void assert_flat(const double *out, double v)
{
	for (size_t i = 0; i < N; i++)
		cr_assert_float_eq(out[i], v, TOL, "interval %zu: %f != %f", i, out[i], v);
}

static void assert_untouched(const double *out)
{
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(out[i], -7.0);
}

static void fill(double *v, size_t from, size_t len, double x)
{
	for (size_t i = from; i < from + len; i++)
		v[i] = x;
}

TestSuite(baseline, .init = flat_days);

Test(baseline, caiso_10_of_10)
{
	struct gf_baseline_params p;
	struct gf_baseline_info info;
	double out[N];

	gf_baseline_params_init(&p, 10, 10, 48, 8);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, NULL, &p, out, &info), GF_OK);
	assert_flat(out, 6.6); /* 66 / 10 */
	cr_assert_eq(info.days_used, 10);
	cr_assert_eq(info.selected[0], 11); /* most recent first, day 10 skipped */
	cr_assert_eq(info.selected[1], 9);
	cr_assert_eq(info.selected[9], 1);
	cr_assert_eq(info.factor, 1.0);
	cr_assert_eq(info.offset, 0.0);
	cr_assert_eq(info.adjusted, 0);
}

Test(baseline, high_5_of_10)
{
	struct gf_baseline_params p;
	struct gf_baseline_info info;
	double out[N];

	/* The five highest of 12, 10, 9, 8, 7, 6, 5, 4, 3, 2: (12+10+9+8+7)/5 = 46/5 = 9.2. */
	gf_baseline_params_init(&p, 5, 10, 48, 8);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, NULL, &p, out, &info), GF_OK);
	assert_flat(out, 9.2);
	cr_assert_eq(info.days_used, 5);
	cr_assert_eq(info.selected[0], 11);
	cr_assert_eq(info.selected[1], 9);
	cr_assert_eq(info.selected[2], 8);
	cr_assert_eq(info.selected[3], 7);
	cr_assert_eq(info.selected[4], 6);
}

Test(baseline, selection_uses_event_window_energy_and_recency_on_ties)
{
	double h[4][N];
	unsigned char e[4] = {1, 1, 1, 1};
	struct gf_baseline_params p;
	struct gf_baseline_info info;
	double out[N];

	/*
	 * Event window [40, 44). Day 0: 1.5 flat (window energy 6). Day 1: 5.0
	 * all day but 0 in the window (energy 0, the largest daily total).
	 * Day 2: 1.5 flat (energy 6, ties day 0, more recent). Day 3: 1.0 flat
	 * (energy 4). 1-of-4 picks day 2; 2-of-4 averages days 2 and 0 = 1.5.
	 */
	fill(h[0], 0, N, 1.5);
	fill(h[1], 0, N, 5.0);
	fill(h[1], 40, 4, 0.0);
	fill(h[2], 0, N, 1.5);
	fill(h[3], 0, N, 1.0);
	gf_baseline_params_init(&p, 1, 4, 40, 4);
	cr_assert_eq(gf_baseline_compute(&h[0][0], e, 4, NULL, &p, out, &info), GF_OK);
	assert_flat(out, 1.5);
	cr_assert_eq(info.selected[0], 2);
	p.x = 2;
	cr_assert_eq(gf_baseline_compute(&h[0][0], e, 4, NULL, &p, out, &info), GF_OK);
	assert_flat(out, 1.5);
	cr_assert_eq(info.selected[0], 2);
	cr_assert_eq(info.selected[1], 0);
	/* 3-of-4 adds day 3 (energy 4) over day 1 (energy 0): (1.5+1.5+1)/3. */
	p.x = 3;
	cr_assert_eq(gf_baseline_compute(&h[0][0], e, 4, NULL, &p, out, &info), GF_OK);
	assert_flat(out, 4.0 / 3.0);
	cr_assert_eq(info.selected[2], 3);
}

/* 10-of-10 (6.6) with a multiplicative window of 4 intervals ending 4 before 48: [40, 44). */
static void mult_params(struct gf_baseline_params *p)
{
	gf_baseline_params_init(p, 10, 10, 48, 8);
	p->adjust = GF_BASELINE_ADJUST_MULT;
	p->adj_len = 4;
	p->adj_gap = 4;
}

Test(baseline, multiplicative_inside_caps)
{
	struct gf_baseline_params p;
	struct gf_baseline_info info;
	double out[N];

	/* Actual 7.26 per interval: r = 29.04 / 26.4 = 1.1; B = 6.6 * 1.1 = 7.26. */
	mult_params(&p);
	fill(today, 40, 4, 7.26);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info), GF_OK);
	assert_flat(out, 7.26);
	cr_assert_float_eq(info.factor, 1.1, TOL);
	cr_assert_eq(info.adjusted, 1);
	cr_assert_eq(info.capped, 0);
}

Test(baseline, multiplicative_capped_at_1_2)
{
	struct gf_baseline_params p;
	struct gf_baseline_info info;
	double out[N];

	/* Actual 9.9: r = 1.5, capped to 1.2; B = 6.6 * 1.2 = 7.92. */
	mult_params(&p);
	fill(today, 40, 4, 9.9);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info), GF_OK);
	assert_flat(out, 7.92);
	cr_assert_eq(info.factor, 1.2);
	cr_assert_eq(info.capped, 1);
}

Test(baseline, multiplicative_capped_at_0_8)
{
	struct gf_baseline_params p;
	struct gf_baseline_info info;
	double out[N];

	/* Actual 3.3: r = 0.5, capped to 0.8; B = 6.6 * 0.8 = 5.28. */
	mult_params(&p);
	fill(today, 40, 4, 3.3);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info), GF_OK);
	assert_flat(out, 5.28);
	cr_assert_eq(info.factor, 0.8);
	cr_assert_eq(info.capped, 1);
}

Test(baseline, multiplicative_zero_baseline_in_window_is_no_adjustment)
{
	struct gf_baseline_params p;
	struct gf_baseline_info info;
	double out[N];

	/* Every day is 0 in [40, 44): the ratio is undefined, B = b = 6.6 elsewhere. */
	for (size_t k = 0; k < DAYS; k++)
		fill(hist[k], 40, 4, 0.0);
	mult_params(&p);
	fill(today, 40, 4, 5.0);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info), GF_OK);
	cr_assert_float_eq(out[0], 6.6, TOL);
	cr_assert_eq(out[41], 0.0);
	cr_assert_eq(info.factor, 1.0);
	cr_assert_eq(info.adjusted, 0);
}

Test(baseline, additive_uncapped_and_capped)
{
	struct gf_baseline_params p;
	struct gf_baseline_info info;
	double out[N];

	/* Actual 7, 8, 7, 8: delta = (30 - 26.4) / 4 = 0.9; B = 6.6 + 0.9 = 7.5. */
	mult_params(&p);
	p.adjust = GF_BASELINE_ADJUST_ADD;
	today[40] = 7.0;
	today[41] = 8.0;
	today[42] = 7.0;
	today[43] = 8.0;
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info), GF_OK);
	assert_flat(out, 7.5);
	cr_assert_float_eq(info.offset, 0.9, TOL);
	cr_assert_eq(info.factor, 1.0);
	cr_assert_eq(info.capped, 0);

	/* Cap 0.5: delta 0.9 -> 0.5; B = 7.1. */
	p.add_cap = 0.5;
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info), GF_OK);
	assert_flat(out, 7.1);
	cr_assert_eq(info.capped, 1);

	/* Actual 5 flat: delta = 5 - 6.6 = -1.6 -> -0.5; B = 6.1. */
	fill(today, 40, 4, 5.0);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info), GF_OK);
	assert_flat(out, 6.1);
	cr_assert_float_eq(info.offset, -0.5, TOL);
}

Test(baseline, too_few_eligible_days)
{
	struct gf_baseline_params p;
	double out[N];

	fill(out, 0, N, -7.0);
	gf_baseline_params_init(&p, 10, 10, 48, 8);
	elig[0] = 0; /* 12 days - 2 ineligible = 10 eligible: still fine */
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, NULL, &p, out, NULL), GF_OK);
	elig[1] = 0; /* 9 eligible */
	fill(out, 0, N, -7.0);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, NULL, &p, out, NULL), GF_ERANGE);
	assert_untouched(out);
	/* Empty history. */
	cr_assert_eq(gf_baseline_compute(NULL, NULL, 0, NULL, &p, out, NULL), GF_ERANGE);
	assert_untouched(out);
}

Test(baseline, bad_parameters_and_windows)
{
	struct gf_baseline_params p;
	struct gf_baseline_info info = {.days_used = 99};
	double out[N];

	fill(out, 0, N, -7.0);
#define EXPECT_EINVAL(stmt)                                                                        \
	do {                                                                                       \
		mult_params(&p);                                                                   \
		stmt;                                                                              \
		cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info),  \
		             GF_EINVAL, "%s", #stmt);                                              \
	} while (0)
	EXPECT_EINVAL(p.x = 0);
	EXPECT_EINVAL(p.x = 11);
	EXPECT_EINVAL((p.x = 65, p.y = 65));
	EXPECT_EINVAL(p.event_len = 0);
	EXPECT_EINVAL(p.event_start = 96);
	EXPECT_EINVAL((p.event_start = 90, p.event_len = 7));
	EXPECT_EINVAL(p.adj_len = 0);
	EXPECT_EINVAL((p.event_start = 6, p.adj_gap = 4, p.adj_len = 4)); /* before midnight */
	EXPECT_EINVAL(p.adj_gap = 49);
	EXPECT_EINVAL(p.mult_min = 0.0);
	EXPECT_EINVAL(p.mult_min = 1.1);
	EXPECT_EINVAL(p.mult_max = 0.9);
	EXPECT_EINVAL(p.mult_max = NAN);
	EXPECT_EINVAL(p.adjust = (enum gf_baseline_adjust)7);
	EXPECT_EINVAL((p.adjust = GF_BASELINE_ADJUST_ADD, p.add_cap = -1.0));
	EXPECT_EINVAL((p.adjust = GF_BASELINE_ADJUST_ADD, p.add_cap = NAN));
#undef EXPECT_EINVAL
	/* A window that ends exactly at midnight + len is fine: [0, 4) before 8. */
	mult_params(&p);
	p.event_start = 8;
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, &info), GF_OK);
	fill(out, 0, N, -7.0);
	info.days_used = 99;
	/* Adjusting needs the event day. */
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, NULL, &p, out, &info), GF_EINVAL);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], NULL, DAYS, today, &p, out, &info),
	             GF_EINVAL);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, NULL, out, &info),
	             GF_EINVAL);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, NULL, &info),
	             GF_EINVAL);
	assert_untouched(out);
	cr_assert_eq(info.days_used, 99);
}

Test(baseline, nan_input)
{
	struct gf_baseline_params p;
	double out[N];

	fill(out, 0, N, -7.0);
	mult_params(&p);
	/* NaN in a day that is used. */
	hist[5][70] = NAN;
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, NULL), GF_EINVAL);
	assert_untouched(out);
	/* The same NaN in an ineligible day, or in a day too old to be read, is ignored. */
	hist[5][70] = 6.0;
	hist[10][70] = NAN;
	hist[0][3] = INFINITY;
	fill(today, 40, 4, 6.6);
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, NULL), GF_OK);
	assert_flat(out, 6.6);
	/* NaN in the event day's adjustment window; outside it, ignored. */
	fill(out, 0, N, -7.0);
	today[42] = NAN;
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, NULL), GF_EINVAL);
	assert_untouched(out);
	today[42] = 6.6;
	today[44] = NAN;
	cr_assert_eq(gf_baseline_compute(&hist[0][0], elig, DAYS, today, &p, out, NULL), GF_OK);
}
