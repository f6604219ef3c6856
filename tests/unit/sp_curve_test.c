/* SPDX-License-Identifier: MIT */
/* Unit tests of gf-sp's characteristic curve (agents/gf-sp/curve.h): X of Y
 * over the complete days of the history, with what history there is, none
 * refused, the day-of adjustment and windows that cross midnight. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>

#include "curve.h"
#include "leak_check.h"

TestSuite(sp_curve, .fini = leak_check);

#define DAY 96
#define TOL 1e-12

/* days of history, each flat at level[k] (NAN: the day has a gap at
 * interval 10), then the event days at ev (flat). */
static double *series(size_t days, const double *level, size_t ev_days, double ev)
{
	double *s = malloc((days + ev_days) * DAY * sizeof(*s));

	cr_assert_not_null(s);
	for (size_t k = 0; k < days; k++)
		for (size_t i = 0; i < DAY; i++)
			s[k * DAY + i] = isnan(level[k]) ? (i == 10 ? NAN : 5.0) : level[k];
	for (size_t i = 0; i < ev_days * DAY; i++)
		s[days * DAY + i] = ev;
	return s;
}

static const int64_t D0 = 1000 * DAY; /* an event day */

/* Three days of 1, 2 and 3 kWh: 2 of 3 averages the two highest. */
Test(sp_curve, x_of_y_over_the_complete_days)
{
	const double lv[3] = {1, 3, 2};
	double *s = series(3, lv, 1, 9), out[4];
	struct sp_curve_params p = {2, 3, 3, GF_BASELINE_ADJUST_NONE, 0, 0};
	struct sp_curve_info info;

	cr_assert_eq(sp_curve_window(s, D0 + 72, 4, &p, out, &info), GF_OK);
	for (int i = 0; i < 4; i++)
		cr_assert_float_eq(out[i], 2.5, TOL);
	cr_assert_eq(info.eligible, 3);
	cr_assert_eq(info.x, 2);
	cr_assert_eq(info.y, 3);
	cr_assert_eq(info.adjusted, 0);
	free(s);
}

/* Five days looked at, two complete (the others have a gap): 10 of 10
 * becomes 2 of 2; the days with a gap never count, whatever their level. */
Test(sp_curve, what_history_there_is)
{
	const double lv[5] = {NAN, 1, NAN, 2, NAN};
	double *s = series(5, lv, 1, 9), out[2];
	struct sp_curve_params p = {10, 10, 5, GF_BASELINE_ADJUST_NONE, 0, 0};
	struct sp_curve_info info;

	cr_assert_eq(sp_curve_window(s, D0 + 40, 2, &p, out, &info), GF_OK);
	cr_assert_float_eq(out[0], 1.5, TOL);
	cr_assert_float_eq(out[1], 1.5, TOL);
	cr_assert_eq(info.eligible, 2);
	cr_assert_eq(info.x, 2);
	cr_assert_eq(info.y, 2);
	free(s);
}

Test(sp_curve, no_complete_day_no_baseline)
{
	const double lv[2] = {NAN, NAN};
	double *s = series(2, lv, 1, 9), out[2] = {42, 42};
	struct sp_curve_params p = {1, 1, 2, GF_BASELINE_ADJUST_NONE, 0, 0};
	struct sp_curve_info info = {.x = 42};

	cr_assert_eq(sp_curve_window(s, D0 + 40, 2, &p, out, &info), GF_ERANGE);
	cr_assert_eq(out[0], 42);
	cr_assert_eq(info.x, 42);
	p.x = 2; /* x > y */
	cr_assert_eq(sp_curve_window(s, D0 + 40, 2, &p, out, &info), GF_EINVAL);
	free(s);
}

/* History flat at 1, the event day at 1.1 before the window: r = 1.1 on
 * both parts of a window that crosses midnight (22:30 to 00:30). */
Test(sp_curve, adjusted_on_both_sides_of_midnight)
{
	const double lv[2] = {1, 1};
	double *s = series(2, lv, 2, 1.1), out[8];
	struct sp_curve_params p = {2, 2, 2, GF_BASELINE_ADJUST_MULT, 4, 1};
	struct sp_curve_info info;

	cr_assert_eq(sp_curve_window(s, D0 + 90, 8, &p, out, &info), GF_OK);
	cr_assert_eq(info.adjusted, 1);
	cr_assert_float_eq(info.factor, 1.1, 1e-9);
	for (int i = 0; i < 8; i++)
		cr_assert_float_eq(out[i], 1.1, 1e-9, "interval %d", i);
	/* additive: delta = 0.1 on both parts too */
	p.adjust = GF_BASELINE_ADJUST_ADD;
	cr_assert_eq(sp_curve_window(s, D0 + 90, 8, &p, out, &info), GF_OK);
	cr_assert_float_eq(info.offset, 0.1, 1e-9);
	cr_assert_float_eq(out[7], 1.1, 1e-9);
	free(s);
}

/* No adjustment when its window would begin before midnight or holds a
 * gap: the unadjusted baseline. The cap of 1.2 holds. */
Test(sp_curve, adjustment_left_out_or_capped)
{
	const double lv[2] = {1, 1};
	double *s = series(2, lv, 1, 2.0), out[2];
	struct sp_curve_params p = {2, 2, 2, GF_BASELINE_ADJUST_MULT, 4, 1};
	struct sp_curve_info info;

	cr_assert_eq(sp_curve_window(s, D0 + 3, 2, &p, out, &info), GF_OK);
	cr_assert_eq(info.adjusted, 0);
	cr_assert_float_eq(out[0], 1.0, TOL);
	s[2 * DAY + 70] = NAN; /* in the adjustment window of 18:00 */
	cr_assert_eq(sp_curve_window(s, D0 + 72, 2, &p, out, &info), GF_OK);
	cr_assert_eq(info.adjusted, 0);
	cr_assert_float_eq(out[1], 1.0, TOL);
	s[2 * DAY + 70] = 2.0;
	cr_assert_eq(sp_curve_window(s, D0 + 72, 2, &p, out, &info), GF_OK);
	cr_assert_eq(info.adjusted, 1);
	cr_assert_float_eq(out[1], 1.2, 1e-9);
	free(s);
}

Test(sp_curve, day_start)
{
	cr_assert_eq(sp_curve_day_start(D0 + 95), D0);
	cr_assert_eq(sp_curve_day_start(D0), D0);
	cr_assert_eq(sp_curve_day_start(-1), -DAY);
}
