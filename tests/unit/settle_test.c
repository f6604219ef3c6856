/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/settle.h: gain, imbalance fee, delivery and one-sided shortfall. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "engine/settle.h"

#define TOL 1e-12

/*
 * The worked example, four intervals, one tariff pair 0.1 / 0.3 EUR/kWh:
 *   x = 2, 1, 3, 0   d = 1, 1, 1, 2   m = 2.5, 0.5, 2, 1
 *   requested x - d = 1, 0, 2, -2; p = 0.3, 0.1 (x == d), 0.3, 0.1
 *   gain = 0.3 + 0 + 0.6 - 0.2 = 0.7 EUR
 *   imbalance = 0.5 + 0.5 + 1 + 1 = 3 kWh; cutoff 1, rate 2: fee = 4 EUR
 *   delivered m - d = 1.5, -0.5, 1, -1
 *   shortfall = max(0, 1 - 1.5) = 0; 0 (nothing asked); max(0, 2 - 1) = 1;
 *               max(0, -1 - (-2)) = 1 (asked -2, delivered -1); total 2
 */
static const double x4[4] = {2, 1, 3, 0};
static const double d4[4] = {1, 1, 1, 2};
static const double m4[4] = {2.5, 0.5, 2, 1};

static struct gf_settle_input example(void)
{
	struct gf_settle_input in;

	memset(&in, 0, sizeof(in));
	in.n = 4;
	in.assigned = x4;
	in.defaults = d4;
	in.measured = m4;
	in.min_tariff_all = 0.1;
	in.max_tariff_all = 0.3;
	in.cutoff = 1.0;
	in.rate = 2.0;
	return in;
}

Test(settle, worked_example)
{
	struct gf_settle_input in = example();
	struct gf_settle_result r;
	double del[4], sf[4];
	const double want_del[4] = {1.5, -0.5, 1, -1}, want_sf[4] = {0, 0, 1, 1};

	cr_assert_eq(gf_settle_compute(&in, &r, del, sf), GF_OK);
	cr_assert_float_eq(r.gain, 0.7, TOL);
	cr_assert_float_eq(r.imbalance, 3.0, TOL);
	cr_assert_float_eq(r.fee, 4.0, TOL);
	cr_assert_float_eq(r.requested_total, 1.0, TOL);
	cr_assert_float_eq(r.delivered_total, 1.0, TOL);
	cr_assert_float_eq(r.shortfall_total, 2.0, TOL);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_float_eq(del[i], want_del[i], TOL, "delivered[%zu]", i);
		cr_assert_float_eq(sf[i], want_sf[i], TOL, "shortfall[%zu]", i);
	}
	/* The per-interval arrays are optional. */
	cr_assert_eq(gf_settle_compute(&in, &r, NULL, NULL), GF_OK);
	cr_assert_float_eq(r.shortfall_total, 2.0, TOL);
}

Test(settle, fee_zero_below_cutoff)
{
	struct gf_settle_input in = example();
	struct gf_settle_result r;

	in.cutoff = 3.0; /* imbalance 3 == cutoff: no fee */
	cr_assert_eq(gf_settle_compute(&in, &r, NULL, NULL), GF_OK);
	cr_assert_eq(r.fee, 0.0);
	in.cutoff = 2.5; /* (3 - 2.5) * 2 = 1 */
	cr_assert_eq(gf_settle_compute(&in, &r, NULL, NULL), GF_OK);
	cr_assert_float_eq(r.fee, 1.0, TOL);
}

Test(settle, per_slice_tariffs)
{
	struct gf_settle_input in = example();
	struct gf_settle_result r;
	const double lo[4] = {0.1, 0.2, 0.3, 0.4}, hi[4] = {0.5, 0.6, 0.7, 0.8};

	/* gain = 0.5 * 1 + 0.2 * 0 + 0.7 * 2 + 0.4 * (-2) = 0.5 + 1.4 - 0.8 = 1.1 */
	in.min_tariff = lo;
	in.max_tariff = hi;
	cr_assert_eq(gf_settle_compute(&in, &r, NULL, NULL), GF_OK);
	cr_assert_float_eq(r.gain, 1.1, TOL);
}

Test(settle, production_and_separate_baseline)
{
	/*
	 * A producer (negative on the bus) defaults to -3 kWh and is assigned
	 * -5 (produce 2 more); it measures -4 against a metered baseline of
	 * -3.5. requested = -2, delivered = -4 - (-3.5) = -0.5, shortfall =
	 * -0.5 - (-2) = 1.5. gain = minTariff 0.2 * (-2) = -0.4 (x < d).
	 * imbalance = |-4 - (-5)| = 1.
	 * Interval 2 over-delivers: asked -1 (x = -4, d = -3), measured -6
	 * against baseline -3.5: delivered -2.5, shortfall 0.
	 */
	const double x[2] = {-5, -4}, d[2] = {-3, -3}, m[2] = {-4, -6}, b[2] = {-3.5, -3.5};
	struct gf_settle_input in;
	struct gf_settle_result r;
	double del[2], sf[2];

	memset(&in, 0, sizeof(in));
	in.n = 2;
	in.assigned = x;
	in.defaults = d;
	in.measured = m;
	in.baseline = b;
	in.min_tariff_all = 0.2;
	in.max_tariff_all = 0.5;
	cr_assert_eq(gf_settle_compute(&in, &r, del, sf), GF_OK);
	cr_assert_float_eq(del[0], -0.5, TOL);
	cr_assert_float_eq(sf[0], 1.5, TOL);
	cr_assert_float_eq(del[1], -2.5, TOL);
	cr_assert_eq(sf[1], 0.0);
	cr_assert_float_eq(r.gain, 0.2 * -3.0, TOL); /* -2 and -1, both at minTariff */
	cr_assert_float_eq(r.imbalance, 1.0 + 2.0, TOL);
	cr_assert_eq(r.fee, 0.0); /* rate 0 */
	cr_assert_float_eq(r.requested_total, -3.0, TOL);
	cr_assert_float_eq(r.delivered_total, -3.0, TOL);
	cr_assert_float_eq(r.shortfall_total, 1.5, TOL);
}

Test(settle, invalid_input_leaves_outputs_untouched)
{
	struct gf_settle_input in;
	struct gf_settle_result r = {.gain = 42.0};
	double del[4] = {-7, -7, -7, -7}, sf[4] = {-7, -7, -7, -7};
	double nan4[4] = {1, 1, NAN, 1};
	const double lo[4] = {0.1, 0.2, 0.9, 0.4}, hi[4] = {0.5, 0.6, 0.7, 0.8};

#define EXPECT_EINVAL(stmt)                                                                        \
	do {                                                                                       \
		in = example();                                                                    \
		stmt;                                                                              \
		cr_assert_eq(gf_settle_compute(&in, &r, del, sf), GF_EINVAL, "%s", #stmt);         \
	} while (0)
	EXPECT_EINVAL(in.n = 0);
	EXPECT_EINVAL(in.assigned = NULL);
	EXPECT_EINVAL(in.defaults = NULL);
	EXPECT_EINVAL(in.measured = NULL);
	EXPECT_EINVAL(in.measured = nan4);
	EXPECT_EINVAL(in.assigned = nan4);
	EXPECT_EINVAL(in.defaults = nan4);
	EXPECT_EINVAL(in.baseline = nan4);
	EXPECT_EINVAL(in.max_tariff = nan4);
	EXPECT_EINVAL((in.min_tariff = lo, in.max_tariff = hi)); /* 0.9 > 0.7 in slice 2 */
	EXPECT_EINVAL((in.min_tariff_all = 0.4, in.max_tariff_all = 0.3));
	EXPECT_EINVAL(in.cutoff = -1.0);
	EXPECT_EINVAL(in.rate = -0.5);
	EXPECT_EINVAL(in.rate = INFINITY);
#undef EXPECT_EINVAL
	in = example();
	cr_assert_eq(gf_settle_compute(NULL, &r, del, sf), GF_EINVAL);
	cr_assert_eq(gf_settle_compute(&in, NULL, del, sf), GF_EINVAL);
	cr_assert_eq(r.gain, 42.0);
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(del[i], -7.0);
		cr_assert_eq(sf[i], -7.0);
	}
}
