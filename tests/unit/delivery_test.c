/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/delivery.h: a prosumer's offers settled against
 * its one meter (the household's figures, each offer's share, gain and
 * reward), and offers placed on the window. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "engine/delivery.h"
#include "leak_check.h"

TestSuite(delivery, .fini = leak_check);

#define TOL 1e-12

/*
 * Two offers of one household over four intervals:
 *   b  = 1, 1, 1, 1           m = 0.5, 0.5, 1, 1.2    delivered m - b = -0.5, -0.5, 0, 0.2
 *   o1: x = 0, 0, .5, .5      d = .5, .5, .5, .5      requested -0.5, -0.5, 0, 0
 *       tariffs 0.1 / 0.3, no clearing price
 *   o2: x = 0, .5, 0, .5      d = .5, 0, 0, 0         requested -0.5, 0.5, 0, 0.5
 *       tariffs 0.05 / 0.2, price 0.4, (none), 0.4, 0.4
 *   R = -1, 0, 0, 0.5; sum |requested| = 1, 1, 0, 0.5
 * Household (settle.h on b + R, b, m, b): requested -0.5, delivered -0.8,
 *   shortfall 0.5 (t0: asked -1, got -0.5) + 0.3 (t3: asked 0.5, got 0.2) = 0.8,
 *   imbalance |0.5| + |-0.5| + 0 + |-0.3| = 1.3; cutoff 0.5, rate 2: fee 1.6.
 * Shares: t0 half each (-0.25, -0.25); t1 half each (-0.25, -0.25: o2 was
 *   asked +0.5, the household -0.5 in all); t2 nothing asked; t3 o2 alone (0.2).
 * o1: gain 0.1 x (-0.5 - 0.5) = -0.1; shortfall 0.25 + 0.25 = 0.5;
 *   reward 0.25 x 0.1 (its tariff_min, no price) x 2 = 0.05.
 * o2: gain 0.05 x -0.5 + 0.2 x 0.5 + 0.2 x 0.5 = 0.175;
 *   shortfall 0.25 + 0.75 (asked +0.5, its share -0.25) + 0.3 = 1.3;
 *   reward 0.25 x 0.4 + 0 (t1: its share went the other way) + 0.2 x 0.4 = 0.18.
 * Household gain and reward: the sums, 0.075 and 0.23.
 */
static const double b[4] = {1, 1, 1, 1}, m[4] = {0.5, 0.5, 1, 1.2};
static const double x1[4] = {0, 0, .5, .5}, d1[4] = {.5, .5, .5, .5};
static const double x2[4] = {0, .5, 0, .5}, d2[4] = {.5, 0, 0, 0};
static double p2[4] = {0.4, NAN, 0.4, 0.4};

static void offers(struct gf_delivery_offer o[2])
{
	o[0] = (struct gf_delivery_offer){x1, d1, 0.1, 0.3, NULL};
	o[1] = (struct gf_delivery_offer){x2, d2, 0.05, 0.2, p2};
}

Test(delivery, two_offers_of_one_household)
{
	struct gf_delivery_offer o[2];
	struct gf_delivery_result h, r[2];
	double share[8], hd[4];
	static const double want_share[8] = {-0.25, -0.25, 0, 0, -0.25, -0.25, 0, 0.2};
	static const double want_hd[4] = {-0.5, -0.5, 0, 0.2};

	offers(o);
	cr_assert_eq(gf_delivery_settle(4, b, m, o, 2, 0.5, 2.0, &h, r, share, hd), GF_OK);
	cr_assert_float_eq(h.settle.requested_total, -0.5, TOL);
	cr_assert_float_eq(h.settle.delivered_total, -0.8, TOL);
	cr_assert_float_eq(h.settle.shortfall_total, 0.8, TOL);
	cr_assert_float_eq(h.settle.imbalance, 1.3, TOL);
	cr_assert_float_eq(h.settle.fee, 1.6, TOL);
	cr_assert_float_eq(h.settle.gain, 0.075, TOL);
	cr_assert_float_eq(h.reward, 0.23, TOL);
	for (int i = 0; i < 8; i++)
		cr_assert_float_eq(share[i], want_share[i], TOL, "share %d", i);
	for (int i = 0; i < 4; i++)
		cr_assert_float_eq(hd[i], want_hd[i], TOL, "delivered %d", i);
	cr_assert_float_eq(r[0].settle.gain, -0.1, TOL);
	cr_assert_float_eq(r[0].settle.requested_total, -1.0, TOL);
	cr_assert_float_eq(r[0].settle.delivered_total, -0.5, TOL);
	cr_assert_float_eq(r[0].settle.shortfall_total, 0.5, TOL);
	cr_assert_float_eq(r[0].settle.imbalance, 0.5, TOL);
	cr_assert_float_eq(r[0].settle.fee, 0.0, TOL);
	cr_assert_float_eq(r[0].reward, 0.05, TOL);
	cr_assert_float_eq(r[1].settle.gain, 0.175, TOL);
	cr_assert_float_eq(r[1].settle.requested_total, 0.5, TOL);
	cr_assert_float_eq(r[1].settle.delivered_total, -0.3, TOL);
	cr_assert_float_eq(r[1].settle.shortfall_total, 1.3, TOL);
	cr_assert_float_eq(r[1].reward, 0.18, TOL);
	/* The shares add up to the household's delivery where anything was asked. */
	for (int t = 0; t < 4; t++)
		if (t != 2)
			cr_assert_float_eq(share[t] + share[4 + t], hd[t], TOL);
}

/* One offer alone is settle.h's settlement of it against the baseline. */
Test(delivery, one_offer_is_settle_against_the_baseline)
{
	struct gf_delivery_offer o = {x1, d1, 0.1, 0.3, NULL};
	struct gf_delivery_result h, r;
	struct gf_settle_result s;
	double hx[4];
	struct gf_settle_input in = {.n = 4,
	                             .defaults = b,
	                             .measured = m,
	                             .baseline = b,
	                             .min_tariff_all = 0.1,
	                             .max_tariff_all = 0.3,
	                             .cutoff = 0.2,
	                             .rate = 1.0};

	for (int t = 0; t < 4; t++)
		hx[t] = b[t] + x1[t] - d1[t];
	in.assigned = hx;
	cr_assert_eq(gf_settle_compute(&in, &s, NULL, NULL), GF_OK);
	cr_assert_eq(gf_delivery_settle(4, b, m, &o, 1, 0.2, 1.0, &h, &r, NULL, NULL), GF_OK);
	cr_assert_float_eq(h.settle.gain, s.gain, TOL);
	cr_assert_float_eq(h.settle.imbalance, s.imbalance, TOL);
	cr_assert_float_eq(h.settle.fee, s.fee, TOL);
	cr_assert_float_eq(h.settle.delivered_total, s.delivered_total, TOL);
	cr_assert_float_eq(h.settle.shortfall_total, s.shortfall_total, TOL);
	/* -0.5 delivered in t0 and t1 as asked, +0.2 in t3 where nothing was. */
	cr_assert_float_eq(r.settle.delivered_total, -1.0, TOL);
	cr_assert_float_eq(r.settle.shortfall_total, 0.0, TOL);
	cr_assert_float_eq(r.reward, 0.1, TOL);
}

/* Absent tariffs count 0; more delivered than asked earns no more. */
Test(delivery, no_tariffs_and_over_delivery)
{
	static const double mm[4] = {0, 0, 1, 1};
	struct gf_delivery_offer o = {x1, d1, NAN, NAN, p2};
	struct gf_delivery_result h, r;

	cr_assert_eq(gf_delivery_settle(4, b, mm, &o, 1, 0, 0, &h, &r, NULL, NULL), GF_OK);
	cr_assert_float_eq(r.settle.gain, 0.0, TOL);
	/* t0: asked 0.5 less, 1 less came: credited 0.5 at 0.4; t1: no price, tariff 0 */
	cr_assert_float_eq(r.reward, 0.2, TOL);
	cr_assert_float_eq(r.settle.shortfall_total, 0.0, TOL);
}

Test(delivery, bad_input_leaves_the_outputs)
{
	struct gf_delivery_offer o[2];
	struct gf_delivery_result h = {.reward = 42}, r[2] = {{.reward = 42}, {.reward = 42}};
	double nan_b[4] = {1, NAN, 1, 1};

	offers(o);
	cr_assert_eq(gf_delivery_settle(0, b, m, o, 2, 0, 0, &h, r, NULL, NULL), GF_EINVAL);
	cr_assert_eq(gf_delivery_settle(4, b, m, o, 0, 0, 0, &h, r, NULL, NULL), GF_EINVAL);
	cr_assert_eq(gf_delivery_settle(4, nan_b, m, o, 2, 0, 0, &h, r, NULL, NULL), GF_EINVAL);
	cr_assert_eq(gf_delivery_settle(4, b, m, o, 2, -1, 0, &h, r, NULL, NULL), GF_EINVAL);
	cr_assert_eq(gf_delivery_settle(4, b, m, o, 2, 0, 0, NULL, r, NULL, NULL), GF_EINVAL);
	o[1].tariff_min = 0.5; /* above its tariff_max 0.2 */
	cr_assert_eq(gf_delivery_settle(4, b, m, o, 2, 0, 0, &h, r, NULL, NULL), GF_EINVAL);
	offers(o);
	p2[1] = INFINITY;
	cr_assert_eq(gf_delivery_settle(4, b, m, o, 2, 0, 0, &h, r, NULL, NULL), GF_EINVAL);
	p2[1] = NAN;
	cr_assert_eq(h.reward, 42);
	cr_assert_eq(r[0].reward, 42);
	cr_assert_eq(r[1].reward, 42);
}

Test(delivery, place_on_the_window)
{
	static const double v[3] = {1, 2, 3};
	double out[5] = {9, 9, 9, 9, 9};

	cr_assert_eq(gf_delivery_place(100, 5, 101, v, 3, out), 0);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], 1);
	cr_assert_eq(out[3], 3);
	cr_assert_eq(out[4], 0);
	/* starting before the window and running past it: two values outside */
	cr_assert_eq(gf_delivery_place(100, 1, 99, v, 3, out), 2);
	cr_assert_eq(out[0], 2);
}
