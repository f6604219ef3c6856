/* SPDX-License-Identifier: MIT */
/*
 * eforecast.c - a day's energy forecast from metered history and the
 * weather (eforecast.h states the model).
 */
#include "engine/eforecast.h"

#include <math.h>
#include <string.h>

/* The weather's factor, or 1 (eforecast.h, step 2); *n gets the days. */
static double weather_factor(const struct gf_eforecast_in *in, size_t *n)
{
	double st = 0, se = 0, stt = 0, ste = 0, mean_t, mean_e, var, b, a, f;
	size_t k = 0;

	*n = 0;
	if (!in->day_temp || !isfinite(in->temp))
		return 1;
	for (size_t d = 0; d < in->days; d++) {
		const double *h = in->hist + d * GF_EFORECAST_N;
		double e = 0;
		bool full = isfinite(in->day_temp[d]);

		for (size_t i = 0; full && i < GF_EFORECAST_N; i++)
			full = isfinite(h[i]), e += h[i];
		if (!full)
			continue;
		st += in->day_temp[d];
		se += e;
		stt += in->day_temp[d] * in->day_temp[d];
		ste += in->day_temp[d] * e;
		k++;
	}
	if (k < GF_EFORECAST_MIN_DAYS)
		return 1;
	mean_t = st / (double)k;
	mean_e = se / (double)k;
	var = stt / (double)k - mean_t * mean_t;
	if (var < 0.25 || !(mean_e > 0))
		return 1;
	b = (ste / (double)k - mean_t * mean_e) / var;
	a = mean_e - b * mean_t;
	f = (a + b * in->temp) / mean_e;
	*n = k;
	return f < 0.5 ? 0.5 : f > 2 ? 2 : f;
}

enum gf_err gf_eforecast_day(const struct gf_eforecast_in *in, struct gf_eforecast *out, char *err,
                             size_t errlen)
{
	struct gf_eforecast r;
	bool used[4096] = {false};

	if (!in->hist || in->days == 0 || in->days > sizeof(used))
		return gf_err_set(err, errlen, GF_EINVAL, "1 to %zu history days", sizeof(used));
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < GF_EFORECAST_N; i++) {
		double sum = 0, lo = INFINITY, hi = -INFINITY;
		size_t n = 0;

		for (size_t d = 0; d < in->days; d++) {
			double v = in->hist[d * GF_EFORECAST_N + i];

			if (!isfinite(v))
				continue;
			sum += v;
			lo = fmin(lo, v);
			hi = fmax(hi, v);
			n++;
			used[d] = true;
		}
		if (n == 0)
			return gf_err_set(err, errlen, GF_ENOENT,
			                  "no metered history of interval %zu of the day", i);
		r.energy[i] = sum / (double)n;
		r.lower[i] = lo;
		r.upper[i] = hi;
	}
	for (size_t d = 0; d < in->days; d++)
		r.days_used += used[d];
	r.factor = weather_factor(in, &r.weather_days);
	for (size_t i = 0; i < GF_EFORECAST_N; i++) {
		r.energy[i] *= r.factor;
		r.lower[i] *= r.factor;
		r.upper[i] *= r.factor;
	}
	*out = r;
	return GF_OK;
}
