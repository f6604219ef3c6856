/* SPDX-License-Identifier: MIT */
/*
 * captariff.c - the implicit capacity price in a prosumer offer's tariffs
 * (docs/fman.md, "Capacity price"; F6.8): each unit slice asks its base
 * (its own tariffConstraint, else the offer's) plus the capacity term of
 * lib/engine/nettariff.h over the intervals it may run in, and the offer
 * asks what the engine makes of such slices (lib/engine/fo_message.c: the
 * least minTariff and the most maxTariff). Pure; a leaf
 * (tests/unit/fman_captariff_test.c).
 */
#include <math.h>

#include "fman.h"
#include "engine/nettariff.h"

/* Windows beyond this many intervals are not priced (a week is 672). */
#define WINDOW_MAX 100000

size_t fman_captariff_window(const Goflex__FlexOffer *fo)
{
	size_t n = fo->n_flexofferprofileconstraints;
	int64_t tf = fo->startbeforeinterval - fo->startafterinterval;

	if (n == 0 || tf < 0 || fo->startafterinterval < 0 || (size_t)tf + n > WINDOW_MAX)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (fo->flexofferprofileconstraints[k]->minduration != 1 ||
		    fo->flexofferprofileconstraints[k]->maxduration != 1)
			return 0; /* not unit slices: as the FOA sent it */
	return n + (size_t)tf;
}

size_t fman_captariff_offer(const Goflex__FlexOffer *fo, const double *cap, double *tmin,
                            double *tmax)
{
	const Goflex__TariffConstraint *ot = fo->flexoffertariffconstraint;
	size_t n = fo->n_flexofferprofileconstraints, w = fman_captariff_window(fo), priced = 0;
	size_t tf = w - n;
	double lo = INFINITY, hi = -INFINITY;

	if (!w)
		return 0;
	for (size_t k = 0; k < n; k++) {
		const Goflex__TariffConstraint *base =
		    fo->flexofferprofileconstraints[k]->tariffconstraint;
		double smin, smax;
		if (!base)
			base = ot;
		/* Slice k runs in one of intervals k .. k + tf of the window. */
		if (gf_nettariff_slice(base ? base->mintariff : NAN, base ? base->maxtariff : NAN,
		                       NULL, cap + k, tf + 1, &smin, &smax)) {
			priced++;
		} else if (base) {
			smin = base->mintariff;
			smax = base->maxtariff;
		} else {
			continue; /* no tariff and no price: the engine skips it too */
		}
		lo = fmin(lo, smin);
		hi = fmax(hi, smax);
	}
	if (!priced)
		return 0;
	*tmin = lo;
	*tmax = hi;
	return priced;
}
