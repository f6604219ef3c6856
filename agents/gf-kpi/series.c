/* SPDX-License-Identifier: MIT */
/* series.c - samples into the points of a plot (tracker.h). */
#include <math.h>

#include "tracker.h"

size_t kpi_series_downsample(const struct kpi_point *pts, size_t n, double step, enum kpi_agg agg,
                             struct kpi_point *out, size_t cap)
{
	size_t w = 0, i = 0;

	if (step <= 0) {
		for (; i < n && w < cap; i++)
			out[w++] = pts[i];
		return w;
	}
	while (i < n && w < cap) {
		/* Epoch-aligned buckets: the same step gives the same buckets
		 * whatever range was asked for. */
		double start = floor(pts[i].t / step) * step;
		size_t j = i;
		double v;

		while (j < n && pts[j].t < start + step)
			j++;
		if (kpi_rules_aggregate(pts + i, j - i, agg, &v))
			out[w++] = (struct kpi_point){start, v};
		i = j;
	}
	return w;
}
