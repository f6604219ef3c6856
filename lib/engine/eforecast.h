/* SPDX-License-Identifier: MIT */
/*
 * eforecast.h - a grid point's energy forecast for one day from its metered
 * history, corrected by the weather when there is enough of it (the Service
 * Platform's energy.forecast, D6.1 7.2.8; docs/sp.md "Energy forecasts").
 *
 * Input: the metered energy of D history days, kWh per 900 s interval
 * (hist[d * 96 + i], NAN where the interval is not known), the mean air
 * temperature of each history day (NAN: unknown) and of the forecast day.
 *
 *   1. Profile: for each interval i, over the days d that have it,
 *        energy[i] = mean_d hist[d][i],  lower[i] = min_d,  upper[i] = max_d.
 *      An interval no day has: no forecast (GF_ENOENT).
 *   2. Weather: over the history days that have all 96 intervals and a
 *      temperature (at least 3, with a temperature variance of at least
 *      0.25 K^2), the least-squares line E_d = a + b * T_d of the day's
 *      energy E_d on its temperature; with the forecast day's temperature T,
 *        factor = (a + b * T) / mean_d E_d,  clamped to 0.5..2,
 *      and energy, lower and upper are multiplied by factor. Otherwise (or
 *      when mean_d E_d <= 0: a grid point that produces) factor = 1.
 *
 * Pure computation: no I/O, no global state.
 */
#ifndef GF_EFORECAST_H
#define GF_EFORECAST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define GF_EFORECAST_N        96 /* intervals of a day */
#define GF_EFORECAST_MIN_DAYS 3  /* days of weather and energy for a regression */

struct gf_eforecast_in {
	const double *hist; /* days * 96 values, kWh; NAN: unknown */
	size_t days;
	const double *day_temp; /* days values, degrees C; NAN: unknown; may be NULL */
	double temp;            /* the forecast day's mean temperature; NAN: unknown */
};

struct gf_eforecast {
	double energy[GF_EFORECAST_N], lower[GF_EFORECAST_N], upper[GF_EFORECAST_N];
	size_t days_used;    /* history days with at least one interval */
	size_t weather_days; /* days of the regression (0: none) */
	double factor;       /* the weather's factor (1: none) */
};

/* Computes the forecast into *out. GF_ENOENT (err: which interval) when
 * an interval has no history, GF_EINVAL for days 0 or a NULL hist; *out is
 * untouched on failure. */
enum gf_err gf_eforecast_day(const struct gf_eforecast_in *in, struct gf_eforecast *out, char *err,
                             size_t errlen);

#endif
