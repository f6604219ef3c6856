/* SPDX-License-Identifier: MIT */
/*
 * aggregate.c - grid grouping and start-aligned N-to-1 aggregation.
 *
 * Three linear passes over the offers: (1) cell key per offer, looked up in
 * a small open-addressing table of groups; (2) counting sort of the offer
 * indices by group (stable, so members stay in input order); (3) the slice
 * bounds added into the aggregates' profiles. Nothing is allocated per
 * offer; the group table grows by doubling with the number of groups only.
 */
#include "aggregate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct group_key {
	int64_t sa_cell, tf_cell;
	int32_t production;
};

struct group_info {
	struct group_key key;
	int32_t min_sa, min_tf;
	int64_t max_end;
	size_t members;
	int all_totals;
};

struct group_table {
	uint32_t *slot; /* group id + 1, 0 = empty */
	size_t mask;
	struct group_info *groups;
	size_t count, cap;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

static uint64_t key_hash(const struct group_key *k)
{
	uint64_t h = (uint64_t)k->sa_cell * UINT64_C(0x9E3779B97F4A7C15);
	h ^= (uint64_t)k->tf_cell * UINT64_C(0xC2B2AE3D27D4EB4F) + (uint64_t)k->production;
	h ^= h >> 29;
	return h * UINT64_C(0xBF58476D1CE4E5B9);
}

static int key_eq(const struct group_key *a, const struct group_key *b)
{
	return a->sa_cell == b->sa_cell && a->tf_cell == b->tf_cell &&
	       a->production == b->production;
}

static enum gf_err table_grow(struct group_table *t)
{
	size_t nslots = (t->mask + 1) * 2;
	uint32_t *slot = calloc(nslots, sizeof *slot);
	struct group_info *groups = realloc(t->groups, (nslots / 2) * sizeof *groups);
	if (!slot || !groups) {
		free(slot);
		if (groups)
			t->groups = groups;
		return GF_ENOMEM;
	}
	t->groups = groups;
	t->cap = nslots / 2;
	for (size_t g = 0; g < t->count; g++) {
		size_t s = (size_t)key_hash(&groups[g].key) & (nslots - 1);
		while (slot[s])
			s = (s + 1) & (nslots - 1);
		slot[s] = (uint32_t)(g + 1);
	}
	free(t->slot);
	t->slot = slot;
	t->mask = nslots - 1;
	return GF_OK;
}

/* Finds or adds the group of key; *id receives its index. */
static enum gf_err table_find(struct group_table *t, const struct group_key *key, uint32_t *id)
{
	size_t s = (size_t)key_hash(key) & t->mask;
	while (t->slot[s]) {
		uint32_t g = t->slot[s] - 1;
		if (key_eq(&t->groups[g].key, key)) {
			*id = g;
			return GF_OK;
		}
		s = (s + 1) & t->mask;
	}
	if (t->count == t->cap) {
		enum gf_err err = table_grow(t);
		if (err)
			return err;
		return table_find(t, key, id);
	}
	struct group_info *gi = &t->groups[t->count];
	memset(gi, 0, sizeof *gi);
	gi->key = *key;
	gi->min_sa = INT32_MAX;
	gi->min_tf = INT32_MAX;
	gi->max_end = INT64_MIN;
	gi->all_totals = 1;
	t->slot[s] = (uint32_t)(t->count + 1);
	*id = (uint32_t)t->count++;
	return GF_OK;
}

void gf_aggregate_free(struct gf_aggregate *agg)
{
	if (!agg)
		return;
	free(agg->start_after);
	free(agg->tf);
	free(agg->n);
	free(agg->slice_off);
	free(agg->member_off);
	free(agg->members);
	free(agg->group_of);
	free(agg->total_min);
	free(agg->total_max);
	free(agg->lower);
	free(agg->upper);
	free(agg->dflt);
	memset(agg, 0, sizeof *agg);
}

static int is_production(const struct gf_fo_set *set, size_t i)
{
	double sum = 0.0;
	const double *d = set->dflt + set->slice_off[i];
	for (int32_t k = 0; k < set->n[i]; k++)
		sum += d[k];
	return sum < 0.0;
}

/* Pass 1: the group of every offer and the groups' extents. */
static enum gf_err assign_groups(const struct gf_fo_set *set, const struct gf_aggregate_config *cfg,
                                 struct group_table *t, uint32_t *group_of)
{
	/* The GOFLEX grid's cells are `tolerance` wide (tolerance 0 = exact
	 * value): with width tolerance + 1 the issue-4 workload's largest
	 * aggregate has 13,065 members, with width tolerance the reference's
	 * 12,469. */
	int64_t sa_width = cfg->start_after_tolerance > 0 ? cfg->start_after_tolerance : 1;
	int64_t tf_width = cfg->tf_tolerance > 0 ? cfg->tf_tolerance : 1;
	int64_t sa_origin = set->start_after[0], tf_origin = set->tf[0];
	for (size_t i = 0; i < set->count; i++) {
		struct group_key key = {
		    floor_div((int64_t)set->start_after[i] - sa_origin, sa_width),
		    floor_div((int64_t)set->tf[i] - tf_origin, tf_width), is_production(set, i)};
		uint32_t g = 0;
		enum gf_err err = table_find(t, &key, &g);
		if (err)
			return err;
		group_of[i] = g;
		struct group_info *gi = &t->groups[g];
		int64_t end = (int64_t)set->start_after[i] + set->n[i];
		if (set->start_after[i] < gi->min_sa)
			gi->min_sa = set->start_after[i];
		if (set->tf[i] < gi->min_tf)
			gi->min_tf = set->tf[i];
		if (end > gi->max_end)
			gi->max_end = end;
		if (isnan(set->total_min[i]) || isnan(set->total_max[i]))
			gi->all_totals = 0;
		gi->members++;
	}
	return GF_OK;
}

/* Pass 2 and 3 into the already allocated out. */
static void fill(const struct gf_fo_set *set, const struct group_table *t, const uint32_t *group_of,
                 struct gf_aggregate *out)
{
	size_t moff = 0, soff = 0;
	for (size_t g = 0; g < t->count; g++) {
		const struct group_info *gi = &t->groups[g];
		out->start_after[g] = gi->min_sa;
		out->tf[g] = gi->min_tf;
		out->n[g] = (int32_t)(gi->max_end - gi->min_sa);
		out->slice_off[g] = soff;
		out->member_off[g] = moff;
		out->total_min[g] = gi->all_totals ? 0.0 : NAN;
		out->total_max[g] = gi->all_totals ? 0.0 : NAN;
		soff += (size_t)out->n[g];
		moff += gi->members;
		if (gi->members > out->largest)
			out->largest = gi->members;
	}
	out->member_off[t->count] = moff;
	memset(out->lower, 0, soff * sizeof *out->lower);
	memset(out->upper, 0, soff * sizeof *out->upper);
	memset(out->dflt, 0, soff * sizeof *out->dflt);
	/* member_off doubles as the fill cursor, then is shifted back. */
	for (size_t i = 0; i < set->count; i++) {
		uint32_t g = group_of[i];
		out->members[out->member_off[g]++] = (uint32_t)i;
		size_t src = set->slice_off[i];
		size_t dst =
		    out->slice_off[g] + (size_t)(set->start_after[i] - out->start_after[g]);
		for (int32_t k = 0; k < set->n[i]; k++) {
			out->lower[dst + (size_t)k] += set->lower[src + (size_t)k];
			out->upper[dst + (size_t)k] += set->upper[src + (size_t)k];
			out->dflt[dst + (size_t)k] += set->dflt[src + (size_t)k];
		}
		if (!isnan(out->total_min[g])) {
			out->total_min[g] += set->total_min[i];
			out->total_max[g] += set->total_max[i];
		}
		out->tf_loss += set->tf[i] - out->tf[g];
	}
	for (size_t g = t->count; g > 0; g--)
		out->member_off[g] = out->member_off[g - 1];
	out->member_off[0] = 0;
}

enum gf_err gf_aggregate_build(const struct gf_fo_set *set, const struct gf_aggregate_config *cfg,
                               struct gf_aggregate *out)
{
	enum gf_err err = GF_OK;
	struct group_table t = {NULL, 0, NULL, 0, 0};
	uint32_t *group_of = NULL;
	struct gf_aggregate a;
	memset(&a, 0, sizeof a);

	if (!set || !cfg || !out || set->count == 0 || set->count > UINT32_MAX ||
	    cfg->start_after_tolerance < 0 || cfg->tf_tolerance < 0)
		return GF_EINVAL;
	err = GF_ENOMEM;
	t.slot = calloc(64, sizeof *t.slot);
	t.groups = malloc(32 * sizeof *t.groups);
	group_of = malloc(set->count * sizeof *group_of);
	if (!t.slot || !t.groups || !group_of)
		goto out;
	t.mask = 63;
	t.cap = 32;
	err = assign_groups(set, cfg, &t, group_of);
	if (err)
		goto out;

	size_t slices = 0;
	for (size_t g = 0; g < t.count; g++)
		slices += (size_t)(t.groups[g].max_end - t.groups[g].min_sa);
	a.count = t.count;
	a.slice_count = slices;
	a.start_after = malloc(t.count * sizeof *a.start_after);
	a.tf = malloc(t.count * sizeof *a.tf);
	a.n = malloc(t.count * sizeof *a.n);
	a.slice_off = malloc(t.count * sizeof *a.slice_off);
	a.member_off = malloc((t.count + 1) * sizeof *a.member_off);
	a.members = malloc(set->count * sizeof *a.members);
	a.total_min = malloc(t.count * sizeof *a.total_min);
	a.total_max = malloc(t.count * sizeof *a.total_max);
	a.lower = malloc(slices * sizeof *a.lower);
	a.upper = malloc(slices * sizeof *a.upper);
	a.dflt = malloc(slices * sizeof *a.dflt);
	err = GF_ENOMEM;
	if (!a.start_after || !a.tf || !a.n || !a.slice_off || !a.member_off || !a.members ||
	    !a.total_min || !a.total_max || !a.lower || !a.upper || !a.dflt)
		goto out;
	fill(set, &t, group_of, &a);
	a.group_of = group_of;
	group_of = NULL;
	*out = a;
	memset(&a, 0, sizeof a);
	err = GF_OK;
out:
	gf_aggregate_free(&a);
	free(group_of);
	free(t.groups);
	free(t.slot);
	return err;
}

enum gf_err gf_aggregate_disaggregate(const struct gf_aggregate *agg, const struct gf_fo_set *set,
                                      size_t a, int32_t agg_start, const double *x,
                                      int32_t *member_start, double *amounts)
{
	if (a >= agg->count || agg_start < agg->start_after[a] ||
	    agg_start - agg->start_after[a] > agg->tf[a])
		return GF_ERANGE;
	const double *lo = agg->lower + agg->slice_off[a];
	const double *hi = agg->upper + agg->slice_off[a];
	/* Validate first so that the outputs stay untouched on failure. */
	for (int32_t k = 0; k < agg->n[a]; k++)
		if (!(x[k] >= lo[k] && x[k] <= hi[k]))
			return GF_EINVAL;
	int32_t shift = agg_start - agg->start_after[a];
	for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++) {
		uint32_t i = agg->members[m];
		size_t src = set->slice_off[i];
		int32_t rel = set->start_after[i] - agg->start_after[a];
		member_start[i] = set->start_after[i] + shift;
		for (int32_t k = 0; k < set->n[i]; k++) {
			int32_t t = rel + k;
			double range = hi[t] - lo[t];
			double p = range > 0.0 ? (x[t] - lo[t]) / range : 0.0;
			double l = set->lower[src + (size_t)k], h = set->upper[src + (size_t)k];
			double v = l + p * (h - l);
			amounts[src + (size_t)k] = v < l ? l : (v > h ? h : v);
		}
	}
	return GF_OK;
}

enum gf_err gf_aggregate_disaggregate_all(const struct gf_aggregate *agg,
                                          const struct gf_fo_set *set, const int32_t *agg_start,
                                          const double *x, double *scratch, int32_t *member_start,
                                          double *amounts)
{
	/* Validate everything first: outputs untouched on failure. */
	for (size_t a = 0; a < agg->count; a++) {
		if (agg_start[a] < agg->start_after[a] ||
		    agg_start[a] - agg->start_after[a] > agg->tf[a])
			return GF_ERANGE;
	}
	for (size_t s = 0; s < agg->slice_count; s++) {
		if (!(x[s] >= agg->lower[s] && x[s] <= agg->upper[s]))
			return GF_EINVAL;
		double range = agg->upper[s] - agg->lower[s];
		scratch[s] = range > 0.0 ? (x[s] - agg->lower[s]) / range : 0.0;
	}
	/* Offers in input order: the big arrays are read and written
	 * sequentially, only the small per-aggregate ones randomly. */
	for (size_t i = 0; i < set->count; i++) {
		uint32_t g = agg->group_of[i];
		const double *p = scratch + agg->slice_off[g] +
		                  (size_t)(set->start_after[i] - agg->start_after[g]);
		const double *l = set->lower + set->slice_off[i],
		             *h = set->upper + set->slice_off[i];
		double *out = amounts + set->slice_off[i];
		member_start[i] = set->start_after[i] + (agg_start[g] - agg->start_after[g]);
		for (int32_t k = 0; k < set->n[i]; k++) {
			double v = l[k] + p[k] * (h[k] - l[k]);
			out[k] = v < l[k] ? l[k] : (v > h[k] ? h[k] : v);
		}
	}
	return GF_OK;
}
