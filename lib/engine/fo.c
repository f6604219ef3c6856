/* SPDX-License-Identifier: MIT */
/*
 * fo.c - compact FlexOffers and their flexibility measures (see fo.h).
 */
#include "engine/fo.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum gf_err gf_fo_set_init(struct gf_fo_set *set, size_t cap, size_t slice_cap)
{
	struct gf_fo_set s;
	memset(&s, 0, sizeof s);
	if (cap == 0 || slice_cap == 0)
		return GF_EINVAL;
	s.cap = cap;
	s.slice_cap = slice_cap;
	s.start_after = malloc(cap * sizeof *s.start_after);
	s.tf = malloc(cap * sizeof *s.tf);
	s.n = malloc(cap * sizeof *s.n);
	s.slice_off = malloc(cap * sizeof *s.slice_off);
	s.total_min = malloc(cap * sizeof *s.total_min);
	s.total_max = malloc(cap * sizeof *s.total_max);
	s.tariff_min = malloc(cap * sizeof *s.tariff_min);
	s.tariff_max = malloc(cap * sizeof *s.tariff_max);
	s.lower = malloc(slice_cap * sizeof *s.lower);
	s.upper = malloc(slice_cap * sizeof *s.upper);
	s.dflt = malloc(slice_cap * sizeof *s.dflt);
	s.acceptance_before = malloc(cap * sizeof *s.acceptance_before);
	s.assignment_before = malloc(cap * sizeof *s.assignment_before);
	if (!s.acceptance_before || !s.assignment_before || !s.start_after || !s.tf || !s.n ||
	    !s.slice_off || !s.total_min || !s.total_max || !s.tariff_min || !s.tariff_max ||
	    !s.lower || !s.upper || !s.dflt) {
		gf_fo_set_free(&s);
		return GF_ENOMEM;
	}
	*set = s;
	return GF_OK;
}

/* Grows *p to n elements of size sz; false (p untouched) when out of memory. */
static bool grow(void *p, size_t n, size_t sz)
{
	void *q = realloc(*(void **)p, n * sz);

	if (!q)
		return false;
	*(void **)p = q;
	return true;
}

enum gf_err gf_fo_set_reserve(struct gf_fo_set *set, size_t cap, size_t slice_cap)
{
	if (!set || set->cap == 0)
		return GF_EINVAL;
	if (cap > set->cap) {
		/* Each array grown on its own: one that fails leaves the
		 * others larger, which the set does not mind (cap is raised
		 * only when all succeeded). */
		if (!grow(&set->start_after, cap, sizeof *set->start_after) ||
		    !grow(&set->tf, cap, sizeof *set->tf) || !grow(&set->n, cap, sizeof *set->n) ||
		    !grow(&set->slice_off, cap, sizeof *set->slice_off) ||
		    !grow(&set->total_min, cap, sizeof *set->total_min) ||
		    !grow(&set->total_max, cap, sizeof *set->total_max) ||
		    !grow(&set->tariff_min, cap, sizeof *set->tariff_min) ||
		    !grow(&set->tariff_max, cap, sizeof *set->tariff_max) ||
		    !grow(&set->acceptance_before, cap, sizeof *set->acceptance_before) ||
		    !grow(&set->assignment_before, cap, sizeof *set->assignment_before))
			return GF_ENOMEM;
		set->cap = cap;
	}
	if (slice_cap > set->slice_cap) {
		if (!grow(&set->lower, slice_cap, sizeof *set->lower) ||
		    !grow(&set->upper, slice_cap, sizeof *set->upper) ||
		    !grow(&set->dflt, slice_cap, sizeof *set->dflt))
			return GF_ENOMEM;
		set->slice_cap = slice_cap;
	}
	return GF_OK;
}

void gf_fo_set_free(struct gf_fo_set *set)
{
	if (!set)
		return;
	free(set->start_after);
	free(set->tf);
	free(set->n);
	free(set->slice_off);
	free(set->total_min);
	free(set->total_max);
	free(set->tariff_min);
	free(set->tariff_max);
	free(set->lower);
	free(set->upper);
	free(set->dflt);
	free(set->acceptance_before);
	free(set->assignment_before);
	memset(set, 0, sizeof *set);
}

static int fo_valid(const struct gf_fo *fo)
{
	if (fo->n < 1 || fo->tf < 0 || !fo->lower || !fo->upper)
		return 0;
	if (fo->start_after > INT32_MAX - fo->tf - fo->n)
		return 0;
	for (int32_t k = 0; k < fo->n; k++) {
		if (!isfinite(fo->lower[k]) || !isfinite(fo->upper[k]) ||
		    fo->lower[k] > fo->upper[k])
			return 0;
		if (fo->dflt && !(fo->dflt[k] >= fo->lower[k] && fo->dflt[k] <= fo->upper[k]))
			return 0;
	}
	if (!isnan(fo->total_min) && !isnan(fo->total_max) && fo->total_min > fo->total_max)
		return 0;
	return 1;
}

enum gf_err gf_fo_set_add(struct gf_fo_set *set, const struct gf_fo *fo)
{
	return gf_fo_set_add_with_deadlines(set, fo, NULL);
}

enum gf_err gf_fo_set_add_with_deadlines(struct gf_fo_set *set, const struct gf_fo *fo,
                                         const struct gf_fo_deadlines *dl)
{
	if (!set || !fo || !fo_valid(fo))
		return GF_EINVAL;
	if (set->count == set->cap || set->slice_cap - set->slice_count < (size_t)fo->n)
		return GF_EFULL;
	size_t i = set->count, off = set->slice_count;
	set->start_after[i] = fo->start_after;
	set->tf[i] = fo->tf;
	set->n[i] = fo->n;
	set->slice_off[i] = off;
	set->total_min[i] = fo->total_min;
	set->total_max[i] = fo->total_max;
	set->tariff_min[i] = fo->tariff_min;
	set->tariff_max[i] = fo->tariff_max;
	set->acceptance_before[i] = dl ? dl->acceptance_before : GF_FO_NO_DEADLINE;
	set->assignment_before[i] = dl ? dl->assignment_before : GF_FO_NO_DEADLINE;
	for (int32_t k = 0; k < fo->n; k++) {
		set->lower[off + (size_t)k] = fo->lower[k];
		set->upper[off + (size_t)k] = fo->upper[k];
		set->dflt[off + (size_t)k] =
		    fo->dflt ? fo->dflt[k] : (fo->lower[k] + fo->upper[k]) / 2.0;
	}
	set->count++;
	set->slice_count += (size_t)fo->n;
	return GF_OK;
}

enum gf_err gf_fo_set_get(const struct gf_fo_set *set, size_t i, struct gf_fo *fo)
{
	if (i >= set->count)
		return GF_ERANGE;
	size_t off = set->slice_off[i];
	fo->start_after = set->start_after[i];
	fo->tf = set->tf[i];
	fo->n = set->n[i];
	fo->lower = set->lower + off;
	fo->upper = set->upper + off;
	fo->dflt = set->dflt + off;
	fo->total_min = set->total_min[i];
	fo->total_max = set->total_max[i];
	fo->tariff_min = set->tariff_min[i];
	fo->tariff_max = set->tariff_max[i];
	return GF_OK;
}

void gf_fo_set_clear(struct gf_fo_set *set)
{
	set->count = 0;
	set->slice_count = 0;
}

void gf_fo_workload_init(struct gf_fo_workload *w, int64_t seed)
{
	memset(w, 0, sizeof *w);
	gf_javarand_init(&w->r, seed);
}

enum gf_err gf_fo_workload_next(struct gf_fo_workload *w, struct gf_fo_set *set, size_t offers)
{
	if (!w || !set)
		return GF_EINVAL;
	if (set->cap - set->count < offers || (set->slice_cap - set->slice_count) / 8 < offers)
		return GF_EFULL;
	struct gf_javarand r = w->r;
	struct gf_fo_workload_sums s = w->sums;
	/* Bounds are constants > 0, so the bounded draws cannot fail. */
	for (size_t i = 0; i < offers; i++) {
		int32_t sa = 0, tf = 0, n = 0;
		(void)gf_javarand_next_int_bounded(&r, 96, &sa);
		(void)gf_javarand_next_int_bounded(&r, 17, &tf);
		(void)gf_javarand_next_int_bounded(&r, 5, &n);
		n += 4;
		size_t j = set->count, off = set->slice_count;
		set->start_after[j] = sa;
		set->tf[j] = tf;
		set->n[j] = n;
		set->slice_off[j] = off;
		set->total_min[j] = NAN;
		set->total_max[j] = NAN;
		set->tariff_min[j] = NAN;
		set->tariff_max[j] = NAN;
		set->acceptance_before[j] = GF_FO_NO_DEADLINE;
		set->assignment_before[j] = GF_FO_NO_DEADLINE;
		for (size_t k = off; k < off + (size_t)n; k++) {
			double lo = gf_javarand_next_double(&r);
			double hi = lo + gf_javarand_next_double(&r) * 2.0;
			set->lower[k] = lo;
			set->upper[k] = hi;
			set->dflt[k] = (lo + hi) / 2.0;
		}
		set->count++;
		set->slice_count += (size_t)n;
		s.sum_start_after += sa;
		s.sum_tf += tf;
		s.sum_slices += n;
	}
	w->r = r;
	w->sums = s;
	w->drawn += offers;
	return GF_OK;
}

enum gf_err gf_fo_workload_generate(struct gf_fo_set *set, size_t offers, int64_t seed,
                                    struct gf_fo_workload_sums *sums)
{
	struct gf_fo_workload w;
	gf_fo_workload_init(&w, seed);
	enum gf_err err = gf_fo_workload_next(&w, set, offers);
	if (!err && sums)
		*sums = w.sums;
	return err;
}

double gf_fo_time_flex(const struct gf_fo *fo)
{
	return (double)fo->tf;
}

double gf_fo_energy_flex(const struct gf_fo *fo)
{
	double ef = 0.0;
	for (int32_t k = 0; k < fo->n; k++)
		ef += fo->upper[k] - fo->lower[k];
	return ef;
}

double gf_fo_product_flex(const struct gf_fo *fo)
{
	return gf_fo_time_flex(fo) * gf_fo_energy_flex(fo);
}

void gf_fo_vector_flex(const struct gf_fo *fo, double out[2])
{
	out[0] = gf_fo_time_flex(fo);
	out[1] = gf_fo_energy_flex(fo);
}

double gf_fo_time_series_flex(const struct gf_fo *fo, double *out)
{
	double norm = 0.0;
	for (int32_t k = 0; k < fo->n; k++) {
		out[k] = fo->upper[k] - fo->lower[k];
		norm += out[k];
	}
	return norm;
}

enum gf_err gf_fo_assignment_flex(const struct gf_fo *fo, double quantum, double *out)
{
	if (!(quantum > 0.0))
		return GF_EINVAL;
	double count = (double)fo->tf + 1.0;
	for (int32_t k = 0; k < fo->n; k++)
		count *= floor((fo->upper[k] - fo->lower[k]) / quantum) + 1.0;
	*out = count;
	return GF_OK;
}

double gf_fo_area_flex_abs(const struct gf_fo *fo)
{
	double area = 0.0;
	int64_t span = (int64_t)fo->tf + fo->n;
	/* t is relative to start_after; shift s runs over every start time.
	 * A start that leaves t outside the profile contributes amount 0. */
	for (int64_t t = 0; t < span; t++) {
		double hi = -INFINITY, lo = INFINITY;
		for (int64_t s = 0; s <= fo->tf; s++) {
			int64_t k = t - s;
			double h = 0.0, l = 0.0;
			if (k >= 0 && k < fo->n) {
				h = fo->upper[k];
				l = fo->lower[k];
			}
			hi = h > hi ? h : hi;
			lo = l < lo ? l : lo;
		}
		area += hi - lo;
	}
	return area;
}

double gf_fo_area_flex_rel(const struct gf_fo *fo)
{
	return gf_fo_area_flex_abs(fo) / ((double)fo->tf + (double)fo->n);
}
