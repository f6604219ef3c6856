/* SPDX-License-Identifier: MIT */
/* Unit tests of the network prices in a slice's tariffs
 * (lib/engine/nettariff.c; docs/foa.md "Network tariffs", docs/fman.md
 * "Capacity price"): maxTariff = base_max + the most of T + C over the
 * slice's intervals, minTariff = max(0, base_min - the least), worked by
 * hand. */
#include <criterion/criterion.h>

#include <math.h>

#include "engine/nettariff.h"

TestSuite(nettariff);

#define TOL 1e-12

Test(nettariff, one_interval_both_parts)
{
	const double t[] = {0.085}, c[] = {0.2};
	double lo = -1, hi = -1;

	cr_assert(gf_nettariff_slice(0.30, 0.05, t, c, 1, &lo, &hi));
	cr_assert_float_eq(hi, 0.05 + 0.085 + 0.2, TOL);
	cr_assert_float_eq(lo, 0.30 - 0.285, TOL);
}

Test(nettariff, a_window_takes_the_extremes)
{
	/* a slice that may run in three intervals: 0.045 + 0, 0.085 + 0.35, 0.085 + 0 */
	const double t[] = {0.045, 0.085, 0.085}, c[] = {0, 0.35, NAN};
	double lo, hi;

	cr_assert(gf_nettariff_slice(0.5, 0.1, t, c, 3, &lo, &hi));
	cr_assert_float_eq(hi, 0.1 + 0.435, TOL);
	cr_assert_float_eq(lo, 0.5 - 0.045, TOL);
}

Test(nettariff, no_base_and_floors)
{
	const double t[] = {0.06};
	double lo, hi;

	/* no tariff on the offer: base 0; the credit cannot make it negative */
	cr_assert(gf_nettariff_slice(NAN, NAN, t, NULL, 1, &lo, &hi));
	cr_assert_float_eq(hi, 0.06, TOL);
	cr_assert_eq(lo, 0);
	/* a negative network price lowers maxTariff, never below 0 or minTariff */
	const double neg[] = {-0.2};
	cr_assert(gf_nettariff_slice(0.1, 0.1, neg, NULL, 1, &lo, &hi));
	cr_assert_float_eq(lo, 0.3, TOL);
	cr_assert_float_eq(hi, 0.3, TOL);
}

Test(nettariff, nothing_known_changes_nothing)
{
	const double t[] = {NAN, NAN}, c[] = {NAN, NAN};
	double lo = 7, hi = 7;

	cr_assert_not(gf_nettariff_slice(0.1, 0.2, t, c, 2, &lo, &hi));
	cr_assert_not(gf_nettariff_slice(0.1, 0.2, NULL, NULL, 2, &lo, &hi));
	cr_assert_eq(lo, 7);
	cr_assert_eq(hi, 7);
	/* only the capacity price known: the transfer cost counts 0 */
	cr_assert(gf_nettariff_slice(0, 0, t, (const double[]){NAN, 0.25}, 2, &lo, &hi));
	cr_assert_float_eq(hi, 0.25, TOL);
	cr_assert_eq(lo, 0);
}
