/* SPDX-License-Identifier: MIT */
/*
 * bidprice.c - where the price of a bid slice comes from (docs/fmar.md,
 * "Reference prices"). Pure; a leaf (tests/unit/fmar_bidprice_test.c).
 */
#include <math.h>

#include "fmar.h"

enum fmar_price_source fmar_bidprice_pick(double slice, double ref, double offer, double *price)
{
	if (!isnan(slice)) /* the slice's own maxTariff, valid or not */
		return *price = slice, FMAR_PRICE_SLICE;
	if (isfinite(ref)) /* the reference of the interval, at least 0 */
		return *price = fmax(0, ref), FMAR_PRICE_REFERENCE;
	if (!isnan(offer)) /* the offer's flexOfferTariffConstraint */
		return *price = offer, FMAR_PRICE_OFFER;
	return *price = NAN, FMAR_PRICE_NONE;
}
