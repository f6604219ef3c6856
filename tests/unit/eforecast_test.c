/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/engine/eforecast.h: the day's profile (mean, least and
 * most over the days that have each interval), an interval without history,
 * and the weather's regression factor on hand-computed values: applied with
 * 3 complete days of distinct temperatures, left out with too few days, too
 * little spread, no temperature of the day, production; clamped to 0.5..2.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "engine/eforecast.h"
#include "leak_check.h"

TestSuite(eforecast, .fini = leak_check);

static char err[256];
static double hist[5 * 96];

/* Day d at level[d] in every interval, 3.0 more in 72..75. */
static void fill(const double *level, size_t days)
{
	for (size_t d = 0; d < days; d++)
		for (size_t i = 0; i < 96; i++)
			hist[d * 96 + i] = level[d] + (i >= 72 && i < 76 ? 3.0 : 0.0);
}

Test(eforecast, profile_without_weather)
{
	const double level[3] = {1.2, 1.4, 1.3};
	struct gf_eforecast f;
	struct gf_eforecast_in in = {hist, 3, NULL, NAN};

	fill(level, 3);
	hist[96 + 10] = NAN; /* day 1 lacks interval 10 */
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_float_eq(f.energy[0], 1.3, 1e-12);
	cr_assert_float_eq(f.lower[0], 1.2, 1e-12);
	cr_assert_float_eq(f.upper[0], 1.4, 1e-12);
	cr_assert_float_eq(f.energy[10], 1.25, 1e-12); /* mean of days 0 and 2 */
	cr_assert_float_eq(f.upper[10], 1.3, 1e-12);
	cr_assert_float_eq(f.energy[73], 4.3, 1e-12);
	cr_assert_eq(f.days_used, 3);
	cr_assert_eq(f.weather_days, 0);
	cr_assert_eq(f.factor, 1);
}

Test(eforecast, an_interval_without_history)
{
	const double level[2] = {1, 2};
	struct gf_eforecast f = {.factor = 42};
	struct gf_eforecast_in in = {hist, 2, NULL, NAN};

	fill(level, 2);
	hist[95] = hist[96 + 95] = NAN;
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_ENOENT);
	cr_assert_str_eq(err, "no metered history of interval 95 of the day");
	cr_assert_eq(f.factor, 42); /* untouched */
	in.days = 0;
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_EINVAL);
}

/*
 * Days at 1.2, 1.4, 1.3 kWh (+3 in 4 intervals): E = 96 l + 12 = 127.2,
 * 146.4, 136.8 kWh at 10, 0, 5 degrees. Mean T 5, mean E 136.8;
 * cov = (5 * -9.6 + -5 * 9.6 + 0) / 3 = -32, var = 50 / 3;
 * b = -1.92 kWh/K, a = 136.8 + 9.6 = 146.4. At 2.5 degrees:
 * (146.4 - 4.8) / 136.8 = 141.6 / 136.8.
 */
Test(eforecast, weather_regression_factor)
{
	const double level[3] = {1.2, 1.4, 1.3}, temps[3] = {10, 0, 5};
	struct gf_eforecast f;
	struct gf_eforecast_in in = {hist, 3, temps, 2.5};
	double want = 141.6 / 136.8;

	fill(level, 3);
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_float_eq(f.factor, want, 1e-12);
	cr_assert_eq(f.weather_days, 3);
	cr_assert_float_eq(f.energy[0], 1.3 * want, 1e-12);
	cr_assert_float_eq(f.lower[73], 4.2 * want, 1e-12);
	cr_assert_float_eq(f.upper[73], 4.4 * want, 1e-12);
	/* Much colder: clamped to 2; much warmer: to 0.5. */
	in.temp = -100;
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK);
	cr_assert_eq(f.factor, 2);
	in.temp = 100;
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK);
	cr_assert_eq(f.factor, 0.5);
}

Test(eforecast, weather_left_out)
{
	const double level[3] = {1.2, 1.4, 1.3};
	double temps[3] = {10, 0, 5};
	struct gf_eforecast f;
	struct gf_eforecast_in in = {hist, 3, temps, NAN};

	fill(level, 3);
	/* No temperature of the day. */
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK);
	cr_assert_eq(f.factor, 1);
	/* A day without temperature: 2 days left, fewer than 3. */
	in.temp = 2.5;
	temps[1] = NAN;
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK);
	cr_assert_eq(f.factor, 1);
	cr_assert_eq(f.weather_days, 0);
	/* An incomplete day is left out of the regression too. */
	temps[1] = 0;
	hist[96 + 5] = NAN;
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK);
	cr_assert_eq(f.factor, 1);
	/* Too little spread of temperature (variance under 0.25). */
	fill(level, 3);
	temps[0] = 5.1;
	temps[1] = 4.9;
	temps[2] = 5;
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK);
	cr_assert_eq(f.factor, 1);
	/* A grid point that produces (mean energy below 0). */
	const double prod[3] = {-1.2, -1.4, -1.3};
	temps[0] = 10;
	temps[1] = 0;
	fill(prod, 3);
	for (size_t i = 0; i < 3 * 96; i++)
		hist[i] = -fabs(hist[i]);
	cr_assert_eq(gf_eforecast_day(&in, &f, err, sizeof(err)), GF_OK);
	cr_assert_eq(f.factor, 1);
}
