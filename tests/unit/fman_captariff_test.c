/* SPDX-License-Identifier: MIT */
/* Unit tests of gf-fman's capacity price in an offer's tariffs
 * (agents/gf-fman/captariff.c, docs/fman.md "Capacity price"): each unit
 * slice asks its base plus the most capacity price of the intervals it may
 * run in, and a credit of the least, never below 0; the offer asks the
 * least minTariff and the most maxTariff of its slices. Worked by hand. */
#include <criterion/criterion.h>

#include <math.h>

#include "fman.h"

TestSuite(fman_captariff);

#define TOL 1e-12

/* An offer of n unit slices, start window [sa, sa + tf]. */
struct offer {
	Goflex__FlexOffer fo;
	Goflex__FlexOfferProfileConstraint s[4], *sp[4];
	Goflex__TariffConstraint tc[4], offer_tc;
};

static void offer_init(struct offer *o, size_t n, int64_t sa, int64_t tf)
{
	goflex__flex_offer__init(&o->fo);
	o->fo.startafterinterval = sa;
	o->fo.startbeforeinterval = sa + tf;
	for (size_t k = 0; k < n; k++) {
		goflex__flex_offer_profile_constraint__init(&o->s[k]);
		o->s[k].minduration = o->s[k].maxduration = 1;
		o->sp[k] = &o->s[k];
		goflex__tariff_constraint__init(&o->tc[k]);
	}
	o->fo.n_flexofferprofileconstraints = n;
	o->fo.flexofferprofileconstraints = o->sp;
	goflex__tariff_constraint__init(&o->offer_tc);
}

Test(fman_captariff, the_window)
{
	struct offer o;

	offer_init(&o, 4, 100, 1);
	cr_assert_eq(fman_captariff_window(&o.fo), 5);
	o.s[2].maxduration = 2; /* not unit slices: not priced */
	cr_assert_eq(fman_captariff_window(&o.fo), 0);
	offer_init(&o, 2, 100, -1); /* startBefore < startAfter */
	cr_assert_eq(fman_captariff_window(&o.fo), 0);
	offer_init(&o, 0, 100, 0);
	cr_assert_eq(fman_captariff_window(&o.fo), 0);
}

Test(fman_captariff, offer_wide_base_and_a_window)
{
	/* docs/fman.md's worked example: 2 slices asking 0.5 / 0.6 offer-wide,
	 * start window 1 interval; C = 0.1, 0.3, 0, 0.2 over the 3 intervals.
	 * Slice 0 (intervals 0, 1): 0.6 + 0.3 = 0.9 and 0.5 - 0.1 = 0.4;
	 * slice 1 (intervals 1, 2): 0.6 + 0.3 = 0.9 and 0.5 - 0 = 0.5.
	 * The offer: the least minTariff 0.4, the most maxTariff 0.9. */
	struct offer o;
	const double cap[] = {0.1, 0.3, 0};
	double lo = -1, hi = -1;

	offer_init(&o, 2, 100, 1);
	o.offer_tc.mintariff = 0.5;
	o.offer_tc.maxtariff = 0.6;
	o.fo.flexoffertariffconstraint = &o.offer_tc;
	cr_assert_eq(fman_captariff_offer(&o.fo, cap, &lo, &hi), 2);
	cr_assert_float_eq(lo, 0.4, TOL);
	cr_assert_float_eq(hi, 0.9, TOL);
}

Test(fman_captariff, slice_bases_and_a_gap)
{
	/* Slice tariffs (the FOA's transfer cost in them) win over the
	 * offer's; a slice with no price in its window keeps its base. */
	struct offer o;
	const double cap[] = {0.2, NAN, NAN};
	double lo, hi;

	offer_init(&o, 3, 10, 0);
	for (size_t k = 0; k < 3; k++) {
		o.tc[k].mintariff = 0.1 * (double)(k + 1); /* 0.1 0.2 0.3 */
		o.tc[k].maxtariff = 0.7 + 0.1 * (double)k; /* 0.7 0.8 0.9 */
		o.s[k].tariffconstraint = &o.tc[k];
	}
	o.offer_tc.mintariff = 5;
	o.offer_tc.maxtariff = 5;
	o.fo.flexoffertariffconstraint = &o.offer_tc;
	/* slice 0: max(0, 0.1 - 0.2) = 0, 0.7 + 0.2 = 0.9; slices 1, 2 as they were */
	cr_assert_eq(fman_captariff_offer(&o.fo, cap, &lo, &hi), 1);
	cr_assert_eq(lo, 0);
	cr_assert_float_eq(hi, 0.9, TOL);
}

Test(fman_captariff, no_tariff_at_all)
{
	/* No tariff on the offer: base 0; an unpriced slice without one is
	 * left out, as the engine leaves it out. */
	struct offer o;
	const double cap[] = {0.25, NAN};
	double lo, hi;

	offer_init(&o, 2, 0, 0);
	cr_assert_eq(fman_captariff_offer(&o.fo, cap, &lo, &hi), 1);
	cr_assert_eq(lo, 0);
	cr_assert_float_eq(hi, 0.25, TOL);
}

Test(fman_captariff, nothing_known_writes_nothing)
{
	struct offer o;
	const double cap[] = {NAN, NAN, NAN};
	double lo = 7, hi = 7;

	offer_init(&o, 2, 0, 1);
	o.offer_tc.mintariff = 0.5;
	o.offer_tc.maxtariff = 0.6;
	o.fo.flexoffertariffconstraint = &o.offer_tc;
	cr_assert_eq(fman_captariff_offer(&o.fo, cap, &lo, &hi), 0);
	cr_assert_eq(lo, 7);
	cr_assert_eq(hi, 7);
	o.s[1].minduration = 2; /* not unit slices: nothing, whatever the prices */
	cr_assert_eq(fman_captariff_offer(&o.fo, (const double[]){1, 1, 1}, &lo, &hi), 0);
	cr_assert_eq(hi, 7);
}
