/* SPDX-License-Identifier: MIT */
/*
 * nettariff.c - the network prices in a slice's asking tariffs
 * (nettariff.h). Pure; tests/unit/nettariff_test.c.
 */
#include <math.h>

#include "engine/nettariff.h"

bool gf_nettariff_slice(double base_min, double base_max, const double *transfer,
                        const double *capacity, size_t n, double *tmin, double *tmax)
{
	double lo = INFINITY, hi = -INFINITY;

	for (size_t t = 0; t < n; t++) {
		double tc = transfer ? transfer[t] : NAN, cp = capacity ? capacity[t] : NAN;
		double x;
		if (isnan(tc) && isnan(cp))
			continue; /* nothing known of this interval */
		x = (isnan(tc) ? 0 : tc) + (isnan(cp) ? 0 : cp);
		lo = fmin(lo, x);
		hi = fmax(hi, x);
	}
	if (hi < lo)
		return false; /* no data: the tariffs stay as they are */
	*tmax = fmax(0, (isnan(base_max) ? 0 : base_max) + hi);
	*tmin = fmax(0, (isnan(base_min) ? 0 : base_min) - lo);
	if (*tmin > *tmax)
		*tmax = *tmin;
	return true;
}
