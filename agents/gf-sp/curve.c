/* SPDX-License-Identifier: MIT */
/*
 * curve.c - the characteristic curve over an event window from a metered
 * series (curve.h): the eligible days, X-of-Y with what history there is,
 * one day part at a time, the day-of adjustment of the first part applied
 * to all.
 */
#include "curve.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DAY GF_BASELINE_INTERVALS

int64_t sp_curve_day_start(int64_t i)
{
	int64_t q = i / DAY;

	if (i % DAY != 0 && i < 0)
		q--;
	return q * DAY;
}

static bool complete(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return false;
	return true;
}

/* Whether the first part can be adjusted: its adjustment window lies in
 * the event day and every interval of it is complete. */
static bool can_adjust(const struct sp_curve_params *p, const double *day, size_t start)
{
	if (p->adjust == GF_BASELINE_ADJUST_NONE || p->adj_len == 0 ||
	    start < p->adj_gap + p->adj_len)
		return false;
	return complete(day + start - p->adj_gap - p->adj_len, p->adj_len);
}

enum gf_err sp_curve_window(const double *series, int64_t w0, size_t n,
                            const struct sp_curve_params *p, double *out,
                            struct sp_curve_info *info)
{
	int64_t d0 = sp_curve_day_start(w0);
	const double *ev = series + p->days * DAY; /* the event day's intervals */
	unsigned char *elig = NULL;
	double *res = NULL, day[DAY];
	struct sp_curve_info ci = {.factor = 1.0};
	size_t done = 0;
	enum gf_err rc = GF_EINVAL;

	if (!series || !out || n == 0 || n > 64 * DAY || p->x == 0 || p->x > p->y ||
	    p->y > GF_BASELINE_MAX_Y || p->days == 0 || p->days > 366)
		return GF_EINVAL;
	if (!(elig = calloc(p->days, 1)) || !(res = malloc(n * sizeof(*res)))) {
		rc = GF_ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < p->days; k++)
		if ((elig[k] = complete(series + k * DAY, DAY)))
			ci.eligible++;
	if (ci.eligible == 0) {
		rc = GF_ERANGE;
		goto out;
	}
	ci.y = p->y < ci.eligible ? p->y : ci.eligible;
	ci.x = p->x < ci.y ? p->x : ci.y;
	for (int64_t start = d0; done < n; start += DAY) {
		size_t a = (size_t)((w0 > start ? w0 : start) - start);
		size_t b =
		    (size_t)((w0 + (int64_t)n < start + DAY ? w0 + (int64_t)n : start + DAY) -
		             start);
		struct gf_baseline_params bp;
		struct gf_baseline_info bi;
		bool adjust = start == d0 && can_adjust(p, ev, a);

		gf_baseline_params_init(&bp, ci.x, ci.y, a, b - a);
		if (adjust) {
			bp.adjust = p->adjust;
			bp.adj_len = p->adj_len;
			bp.adj_gap = p->adj_gap;
		}
		rc = gf_baseline_compute(series, elig, p->days, adjust ? ev : NULL, &bp, day, &bi);
		if (rc != GF_OK)
			goto out;
		if (start == d0) {
			ci.adjusted = bi.adjusted;
			ci.factor = bi.factor;
			ci.offset = bi.offset;
		} else if (ci.adjusted) {
			/* The event's one adjustment, on the later day parts too. */
			for (size_t i = a; i < b; i++)
				day[i] = p->adjust == GF_BASELINE_ADJUST_MULT ? ci.factor * day[i]
				                                              : day[i] + ci.offset;
		}
		memcpy(res + done, day + a, (b - a) * sizeof(*res));
		done += b - a;
	}
	memcpy(out, res, n * sizeof(*res));
	if (info)
		*info = ci;
out:
	free(elig);
	free(res);
	return rc;
}
