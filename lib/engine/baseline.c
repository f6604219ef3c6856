/* SPDX-License-Identifier: MIT */
/* baseline.c - X-of-Y day-matching baselines; the formulas are in baseline.h. */
#include "engine/baseline.h"

#include <math.h>
#include <string.h>

#define N GF_BASELINE_INTERVALS

void gf_baseline_params_init(struct gf_baseline_params *p, size_t x, size_t y, size_t event_start,
                             size_t event_len)
{
	memset(p, 0, sizeof(*p));
	p->x = x;
	p->y = y;
	p->event_start = event_start;
	p->event_len = event_len;
	p->adjust = GF_BASELINE_ADJUST_NONE;
	p->mult_min = 0.8;
	p->mult_max = 1.2;
	p->add_cap = INFINITY;
}

static int params_valid(const struct gf_baseline_params *p)
{
	if (p->x < 1 || p->x > p->y || p->y > GF_BASELINE_MAX_Y)
		return 0;
	if (p->event_len < 1 || p->event_start >= N || p->event_len > N - p->event_start)
		return 0;
	switch (p->adjust) {
	case GF_BASELINE_ADJUST_NONE:
		return 1;
	case GF_BASELINE_ADJUST_MULT:
		/* Written so that NaN caps fail the test. */
		if (!(p->mult_min > 0.0 && p->mult_min <= 1.0 && p->mult_max >= 1.0 &&
		      isfinite(p->mult_max)))
			return 0;
		break;
	case GF_BASELINE_ADJUST_ADD:
		if (!(p->add_cap >= 0.0))
			return 0;
		break;
	default:
		return 0;
	}
	/* The window must lie inside the event day, before the event. */
	return p->adj_len >= 1 && p->adj_gap <= p->event_start &&
	       p->adj_len <= p->event_start - p->adj_gap;
}

static int all_finite(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

static double window_sum(const double *v, size_t from, size_t len)
{
	double s = 0.0;

	for (size_t i = from; i < from + len; i++)
		s += v[i];
	return s;
}

/*
 * Collects the y most recent eligible days into cand (most recent first),
 * then stable-sorts them by event-window energy, highest first: insertion
 * sort keeps the more recent day ahead on ties. y <= 64, so O(y^2) is fine.
 */
static enum gf_err select_days(const double *history, const unsigned char *eligible, size_t n_days,
                               const struct gf_baseline_params *p, size_t cand[GF_BASELINE_MAX_Y])
{
	double energy[GF_BASELINE_MAX_Y];
	size_t found = 0;

	for (size_t k = n_days; k-- > 0 && found < p->y;) {
		if (!eligible[k])
			continue;
		if (!all_finite(history + k * N, N))
			return GF_EINVAL;
		cand[found] = k;
		energy[found] = window_sum(history + k * N, p->event_start, p->event_len);
		found++;
	}
	if (found < p->y)
		return GF_ERANGE;
	if (p->x == p->y)
		return GF_OK;
	for (size_t i = 1; i < found; i++) {
		double e = energy[i];
		size_t c = cand[i], j = i;

		while (j > 0 && energy[j - 1] < e) {
			energy[j] = energy[j - 1];
			cand[j] = cand[j - 1];
			j--;
		}
		energy[j] = e;
		cand[j] = c;
	}
	return GF_OK;
}

enum gf_err gf_baseline_compute(const double *history, const unsigned char *eligible, size_t n_days,
                                const double *event_day, const struct gf_baseline_params *p,
                                double out[GF_BASELINE_INTERVALS], struct gf_baseline_info *info)
{
	size_t cand[GF_BASELINE_MAX_Y];
	double b[N];
	double factor = 1.0, offset = 0.0;
	int adjusted = 0, capped = 0;
	enum gf_err err;

	if (!p || !out || (n_days > 0 && (!history || !eligible)))
		return GF_EINVAL;
	if (!params_valid(p))
		return GF_EINVAL;
	if (p->adjust != GF_BASELINE_ADJUST_NONE && !event_day)
		return GF_EINVAL;
	err = select_days(history, eligible, n_days, p, cand);
	if (err != GF_OK)
		return err;

	for (size_t i = 0; i < N; i++) {
		double s = 0.0;

		for (size_t j = 0; j < p->x; j++)
			s += history[cand[j] * N + i];
		b[i] = s / (double)p->x;
	}

	if (p->adjust != GF_BASELINE_ADJUST_NONE) {
		size_t from = p->event_start - p->adj_gap - p->adj_len;
		double actual, base;

		if (!all_finite(event_day + from, p->adj_len))
			return GF_EINVAL;
		actual = window_sum(event_day, from, p->adj_len);
		base = window_sum(b, from, p->adj_len);
		if (p->adjust == GF_BASELINE_ADJUST_MULT) {
			/* A zero or negative baseline gives no meaningful ratio: leave b alone. */
			if (base > 0.0) {
				factor = actual / base;
				adjusted = 1;
				if (factor < p->mult_min) {
					factor = p->mult_min;
					capped = 1;
				} else if (factor > p->mult_max) {
					factor = p->mult_max;
					capped = 1;
				}
			}
		} else {
			offset = (actual - base) / (double)p->adj_len;
			adjusted = 1;
			if (offset > p->add_cap) {
				offset = p->add_cap;
				capped = 1;
			} else if (offset < -p->add_cap) {
				offset = -p->add_cap;
				capped = 1;
			}
		}
	}

	for (size_t i = 0; i < N; i++)
		out[i] = b[i] * factor + offset;
	if (info) {
		memset(info, 0, sizeof(*info));
		info->days_used = p->x;
		for (size_t j = 0; j < p->x; j++)
			info->selected[j] = cand[j];
		info->factor = factor;
		info->offset = offset;
		info->adjusted = adjusted;
		info->capped = capped;
	}
	return GF_OK;
}
