/* SPDX-License-Identifier: MIT */
/* Unit tests of gf-fmar's bid slice pricing (agents/gf-fmar/bidprice.c,
 * docs/fmar.md "Reference prices"): the slice's own maxTariff, else the
 * interval's price.reference, else the offer's tariff, else none. */
#include <criterion/criterion.h>

#include <math.h>

#include "fmar.h"

TestSuite(fmar_bidprice);

Test(fmar_bidprice, the_slice_price_wins)
{
	double p = -1;

	cr_assert_eq(fmar_bidprice_pick(0.3, 0.05, 0.2, &p), FMAR_PRICE_SLICE);
	cr_assert_eq(p, 0.3);
	/* a slice's own 0 is a price, not an absence */
	cr_assert_eq(fmar_bidprice_pick(0, 0.05, 0.2, &p), FMAR_PRICE_SLICE);
	cr_assert_eq(p, 0);
	/* an invalid one is passed on (the caller refuses it), not replaced */
	cr_assert_eq(fmar_bidprice_pick(-1, 0.05, 0.2, &p), FMAR_PRICE_SLICE);
	cr_assert_eq(p, -1);
}

Test(fmar_bidprice, then_the_reference_of_the_interval)
{
	double p = -1;

	cr_assert_eq(fmar_bidprice_pick(NAN, 0.0731, 0.2, &p), FMAR_PRICE_REFERENCE);
	cr_assert_eq(p, 0.0731);
	cr_assert_eq(fmar_bidprice_pick(NAN, 0.0731, NAN, &p), FMAR_PRICE_REFERENCE);
	cr_assert_eq(p, 0.0731);
	/* a negative spot price: the DSO pays nothing, not less than nothing */
	cr_assert_eq(fmar_bidprice_pick(NAN, -0.012, 0.2, &p), FMAR_PRICE_REFERENCE);
	cr_assert_eq(p, 0);
}

Test(fmar_bidprice, then_the_offer_then_none)
{
	double p = -1;

	cr_assert_eq(fmar_bidprice_pick(NAN, NAN, 0.2, &p), FMAR_PRICE_OFFER);
	cr_assert_eq(p, 0.2);
	cr_assert_eq(fmar_bidprice_pick(NAN, INFINITY, 0.2, &p), FMAR_PRICE_OFFER);
	cr_assert_eq(p, 0.2);
	cr_assert_eq(fmar_bidprice_pick(NAN, NAN, NAN, &p), FMAR_PRICE_NONE);
	cr_assert(isnan(p));
}
