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

/* b - a for a <= b, as a double: the difference of two int64_t always
 * fits in a uint64_t, where it cannot overflow. */
static double elapsed(int64_t a, int64_t b)
{
	return (double)((uint64_t)b - (uint64_t)a);
}

/* The last read of the group of reads at p[i].t_ms. */
static size_t group_last(const struct gf_resample_point *p, size_t n, size_t i)
{
	while (i + 1 < n && p[i + 1].t_ms == p[i].t_ms)
		i++;
	return i;
}

enum gf_err gf_resample_register(const struct gf_resample_point *p, size_t n, int64_t from_ms,
                                 int64_t len_ms, size_t count, double *out)
{
	size_t i = 0, at = SIZE_MAX, next = SIZE_MAX, next_of = SIZE_MAX;
	double prev = NAN;

	if (len_ms <= 0 || (n > 0 && p == NULL) || (count > 0 && out == NULL) ||
	    !span_ok(from_ms, len_ms, count))
		return GF_EINVAL;
	/* Every check before the first write: out is untouched on failure.
	 * Of reads at one instant the last counts, so the register must not
	 * go down from one instant's last read to the next instant's last. */
	for (size_t k = 0; k < n; k++) {
		if (!isfinite(p[k].v))
			return GF_EINVAL;
		if (k > 0 && p[k].t_ms < p[k - 1].t_ms)
			return GF_EINVAL;
	}
	for (size_t k = 0, last = SIZE_MAX; k < n; k = group_last(p, n, k) + 1) {
		size_t g = group_last(p, n, k);
		if (last != SIZE_MAX && p[g].v < p[last].v)
			return GF_ERANGE;
		last = g;
	}
	/*
	 * One sweep, as the boundaries ascend: at is the last read of the
	 * last instant at or before the boundary, i the first read after it,
	 * next the last read of i's instant (found once per i). Each read is
	 * passed a bounded number of times: O(n + count).
	 */
	for (size_t k = 0; k <= count; k++) {
		int64_t b = from_ms + (int64_t)k * len_ms;
		double cur;

		while (i < n && p[i].t_ms <= b) {
			at = group_last(p, n, i);
			i = at + 1;
		}
		if (i < n && next_of != i) {
			next = group_last(p, n, i);
			next_of = i;
		}
		if (at == SIZE_MAX)
			cur = NAN; /* before the first read */
		else if (p[at].t_ms == b)
			cur = p[at].v;
		else if (i >= n)
			cur = NAN; /* after the last read */
		else
			cur = p[at].v + (p[next].v - p[at].v) * (elapsed(p[at].t_ms, b) /
			                                         elapsed(p[at].t_ms, p[next].t_ms));
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
