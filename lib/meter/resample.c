/* SPDX-License-Identifier: MIT */
#include "meter/resample.h"

#include <math.h>
#include <stdbool.h>

/* The end of the last interval, from + count * len_ms, fits in int64_t. */
static bool span_ok(int64_t from_ms, int64_t len_ms, size_t count)
{
	int64_t span, last;

	if (count > (size_t)INT64_MAX)
		return false;
	return !__builtin_mul_overflow((int64_t)count, len_ms, &span) &&
	       !__builtin_add_overflow(from_ms, span, &last);
}

/* The register at instant b: reads p[j] (the last read at or before b)
 * and p[j + 1] (the first after it) interpolated, or NAN outside the reads. */
static double register_at(const struct gf_resample_point *p, size_t n, size_t j, int64_t b)
{
	if (j >= n || p[j].t_ms > b)
		return NAN;
	if (p[j].t_ms == b)
		return p[j].v;
	if (j + 1 >= n)
		return NAN;
	return p[j].v + (p[j + 1].v - p[j].v) * ((double)(b - p[j].t_ms) /
	                                           (double)(p[j + 1].t_ms - p[j].t_ms));
}

enum gf_err gf_resample_register(const struct gf_resample_point *p, size_t n, int64_t from_ms,
                                 int64_t len_ms, size_t count, double *out)
{
	double prev = NAN;
	size_t j = 0;

	if (len_ms <= 0 || (n > 0 && p == NULL) || (count > 0 && out == NULL) ||
	    !span_ok(from_ms, len_ms, count))
		return GF_EINVAL;
	/* Every check before the first write: out is untouched on failure.
	 * Of reads at one instant the last counts, so the register must not
	 * go down from one instant's last read to the next instant's last. */
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(p[i].v))
			return GF_EINVAL;
		if (i > 0 && p[i].t_ms < p[i - 1].t_ms)
			return GF_EINVAL;
	}
	for (size_t i = 0, last = SIZE_MAX; i < n; i++) {
		if (i + 1 < n && p[i + 1].t_ms == p[i].t_ms)
			continue;
		if (last != SIZE_MAX && p[i].v < p[last].v)
			return GF_ERANGE;
		last = i;
	}
	/* One sweep: the boundaries ascend, so j (the last read at or before
	 * the boundary, or n - 1 past them all) only moves forward. */
	for (size_t k = 0; k <= count; k++) {
		int64_t b = from_ms + (int64_t)k * len_ms;
		double cur;

		while (j + 1 < n && p[j + 1].t_ms <= b)
			j++;
		cur = register_at(p, n, j, b);
		if (k > 0)
			out[k - 1] = cur - prev; /* NAN at either end stays NAN */
		prev = cur;
	}
	return GF_OK;
}

enum gf_err gf_resample_interval(const struct gf_resample_point *p, size_t n, int64_t from_ms,
                                 int64_t len_ms, size_t count, double *out)
{
	if (len_ms <= 0 || (n > 0 && p == NULL) || (count > 0 && out == NULL) ||
	    !span_ok(from_ms, len_ms, count))
		return GF_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(p[i].v))
			return GF_EINVAL;
	for (size_t k = 0; k < count; k++)
		out[k] = NAN;
	for (size_t i = 0; i < n; i++) {
		int64_t d, k;

		/* t in (from + k len, from + (k + 1) len]: k = ceil((t - from) / len) - 1 */
		if (p[i].t_ms <= from_ms || __builtin_sub_overflow(p[i].t_ms, from_ms, &d))
			continue;
		k = (d - 1) / len_ms;
		if ((uint64_t)k >= count)
			continue;
		out[k] = isnan(out[k]) ? p[i].v : out[k] + p[i].v;
	}
	return GF_OK;
}
