/* SPDX-License-Identifier: MIT */
/*
 * baseline.h - X-of-Y day-matching baselines from 15-minute meter series
 * (issue 4 item 5, D6.1 section 8.4, the "characteristic curve").
 *
 * A day is GF_BASELINE_INTERVALS (96) values in kWh per 15-minute interval,
 * signed as everywhere on the bus: consumption positive, production negative.
 * Day 0 is the oldest, day n_days - 1 the day just before the event day. eligible[k] != 0 marks day
 * k as usable; which days are excluded (weekends, holidays, earlier event days) is the caller's
 * choice.
 *
 * Formulas (E = event window [event_start, event_start + event_len),
 * A = adjustment window [event_start - adj_gap - adj_len, event_start - adj_gap)):
 *   1. Candidates: the y most recent eligible days.
 *   2. Selection: the x candidates with the highest energy S_k = sum_{i in E} h_k[i]
 *      (ties go to the more recent day). x == y keeps all: CAISO 10-of-10.
 *   3. Unadjusted baseline: b[i] = (1/x) sum_{k selected} h_k[i], for all 96 i.
 *   4. Multiplicative day-of adjustment: r = sum_{i in A} a[i] / sum_{i in A} b[i],
 *      clamped to [mult_min, mult_max] (0.8, 1.2 by default); B[i] = r * b[i].
 *      If sum_{i in A} b[i] <= 0 the ratio is meaningless: r = 1 (no adjustment)
 *      and info->adjusted is 0.
 *   5. Additive day-of adjustment: delta = (1/adj_len) sum_{i in A} (a[i] - b[i]),
 *      clamped to [-add_cap, +add_cap] (add_cap = INFINITY: no cap); B[i] = b[i] + delta.
 * where a is the event day's own metered series. No allocation, no I/O, no
 * global state.
 */
#ifndef GF_BASELINE_H
#define GF_BASELINE_H

#include <stddef.h>

#include "base/err.h"

#define GF_BASELINE_INTERVALS 96 /* 15-minute intervals per day */
#define GF_BASELINE_MAX_Y     64 /* most candidate days one computation looks at */

enum gf_baseline_adjust {
	GF_BASELINE_ADJUST_NONE = 0,
	GF_BASELINE_ADJUST_MULT, /* ratio, formula 4 */
	GF_BASELINE_ADJUST_ADD,  /* difference, formula 5 */
};

struct gf_baseline_params {
	size_t x;           /* days averaged, 1 <= x <= y */
	size_t y;           /* most recent eligible days considered, y <= GF_BASELINE_MAX_Y */
	size_t event_start; /* first event interval, 0..95 */
	size_t event_len;   /* event intervals, >= 1, event_start + event_len <= 96 */
	enum gf_baseline_adjust adjust;
	size_t adj_len;  /* N: adjustment window length, >= 1 when adjusting */
	size_t adj_gap;  /* M: intervals between window end and event start */
	double mult_min; /* lower ratio cap, 0 < mult_min <= 1 */
	double mult_max; /* upper ratio cap, mult_max >= 1 */
	double add_cap;  /* additive cap in kWh per interval, >= 0, INFINITY = none */
};

/* What a computation did; filled only on success. */
struct gf_baseline_info {
	size_t days_used;                   /* x */
	size_t selected[GF_BASELINE_MAX_Y]; /* history indices averaged, in selection order */
	double factor;                      /* r applied (1 when not multiplicative) */
	double offset;                      /* delta applied (0 when not additive) */
	int adjusted;                       /* 1 if an adjustment was computed and applied */
	int capped;                         /* 1 if r or delta hit a cap */
};

/*
 * Fills *p for an X-of-Y baseline over the given event window with no
 * adjustment and the default caps (mult 0.8..1.2, additive uncapped).
 * CAISO 10-of-10 is x = y = 10; "high 5-of-10" is x = 5, y = 10.
 */
void gf_baseline_params_init(struct gf_baseline_params *p, size_t x, size_t y, size_t event_start,
                             size_t event_len);

/*
 * Computes the baseline of the event day into out[0..95] (caller's buffer)
 * and, if info is not NULL, what was done into *info.
 * history: n_days * 96 values, day k at history[96 * k .. 96 * k + 95] (a
 * flat array, so that a non-const double[n][96] converts without a cast in
 * C11); eligible: n_days flags; event_day: the
 * event day's 96 values, read only inside the adjustment window and may be
 * NULL when p->adjust is GF_BASELINE_ADJUST_NONE.
 * GF_EINVAL for NULL pointers, inconsistent parameters, an adjustment window
 * that starts before midnight, or a NaN/infinite value in a day or window
 * that is read; GF_ERANGE if fewer than p->y eligible days exist (including
 * n_days == 0). out and *info are untouched on failure.
 */
enum gf_err gf_baseline_compute(const double *history, const unsigned char *eligible, size_t n_days,
                                const double *event_day, const struct gf_baseline_params *p,
                                double out[GF_BASELINE_INTERVALS], struct gf_baseline_info *info);

#endif
