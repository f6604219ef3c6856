/* SPDX-License-Identifier: MIT */
/*
 * curve.h - a prosumer's (or a grid point's) characteristic curve over an
 * event window (D6.1 8.4; docs/sp.md, "Validation"): what it would have
 * used without the assigned flexibility, from its metered history, by
 * lib/engine/baseline.h's X-of-Y day matching.
 *
 * The series: energy per 900 s interval (kWh, consumption positive, NAN
 * where not complete) from the first interval of the history's first day
 * to the window's end. The history is the days days before the event day
 * (the UTC day of the window's first interval); a day is eligible when all
 * its 96 intervals are complete. With fewer than y eligible days the
 * baseline uses what there is: y' = min(y, eligible), x' = min(x, y').
 * None: GF_ERANGE (no baseline; nothing is invented).
 *
 * A window that crosses midnight is taken one day part at a time, each
 * against the same history; the day-of adjustment (multiplicative or
 * additive, over adj_len intervals ending adj_gap intervals before the
 * window) is computed on the event day's own metered values before the
 * window and applied to every part. It is left out (info.adjusted 0) when
 * that adjustment window would begin before the event day's midnight or
 * holds an interval that is not complete. No I/O.
 */
#ifndef SP_CURVE_H
#define SP_CURVE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "engine/baseline.h"

struct sp_curve_params {
	size_t x, y; /* X of Y */
	size_t days; /* days of history before the event day looked at, >= 1 */
	enum gf_baseline_adjust adjust;
	size_t adj_len; /* N, intervals */
	size_t adj_gap; /* M, intervals */
};

/* What one computation did. */
struct sp_curve_info {
	size_t eligible; /* complete days in the history */
	size_t x, y;     /* what was used */
	int adjusted;    /* the day-of adjustment was applied */
	double factor;   /* r (1 when not multiplicative) */
	double offset;   /* delta (0 when not additive) */
};

/*
 * The baseline of the n intervals from w0 (interval numbers) into out[n].
 * series holds the energy of the intervals from day_start(w0) - 96 * days
 * to w0 + n. GF_ERANGE when no day of the history is complete; GF_EINVAL
 * for n 0 or longer than 64 days, x 0, x > y, y > 64, days 0 or more than
 * 366, and what gf_baseline_compute refuses. out and *info are untouched
 * on failure.
 */
enum gf_err sp_curve_window(const double *series, int64_t w0, size_t n,
                            const struct sp_curve_params *p, double *out,
                            struct sp_curve_info *info);

/* The first interval of the UTC day of interval i (a multiple of 96). */
int64_t sp_curve_day_start(int64_t i);

#endif
