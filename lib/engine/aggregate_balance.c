/* SPDX-License-Identifier: MIT */
/*
 * aggregate_balance.c - balance aggregation: member offsets that bring the
 * aggregate's default schedule closest to zero.
 *
 * Greedy, per group: members by decreasing weight w_i = sum_k |dflt_{i,k}|
 * (ties: input order), each placed at the offset o in [0, tf_i] that
 * minimises the sum of squares of the running default profile P over
 * absolute intervals, i.e. the o minimising
 *     sum_k d_k (2 P(start_after_i + o + k) + d_k)
 * (the smallest such o on ties). Cost sum_i (tf_i + 1) n_i per group; two
 * scratch buffers allocated once for all groups.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate_int.h"

struct ranked {
	double w;
	uint32_t i;
};

static int by_weight_desc(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->w != y->w)
		return x->w < y->w ? 1 : -1;
	return (x->i > y->i) - (x->i < y->i);
}

/* The offset of offer i over profile p (p[0] = interval base). */
static int32_t best_offset(const struct gf_fo_set *set, uint32_t i, const double *p, int64_t base)
{
	const double *d = set->dflt + set->slice_off[i];
	const double *at = p + (set->start_after[i] - base);
	double best = 0.0;
	int32_t best_o = 0;
	for (int32_t o = 0; o <= set->tf[i]; o++) {
		double cost = 0.0;
		for (int32_t k = 0; k < set->n[i]; k++)
			cost += d[k] * (2.0 * at[o + k] + d[k]);
		if (o == 0 || cost < best) {
			best = cost;
			best_o = o;
		}
	}
	return best_o;
}

enum gf_err gf__agg_balance(const struct gf_fo_set *set, struct gf_aggregate *agg,
                            struct gf__agg_group *groups, size_t count)
{
	enum gf_err err = GF_ENOMEM;
	size_t max_members = 0, max_span = 0;
	struct ranked *order = NULL;
	double *profile = NULL;

	for (size_t g = 0; g < count; g++) {
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (size_t m = agg->member_off[g]; m < agg->member_off[g + 1]; m++) {
			uint32_t i = agg->members[m];
			int64_t end = (int64_t)set->start_after[i] + set->tf[i] + set->n[i];
			lo = set->start_after[i] < lo ? set->start_after[i] : lo;
			hi = end > hi ? end : hi;
		}
		if ((size_t)(hi - lo) > max_span)
			max_span = (size_t)(hi - lo);
		if (groups[g].members > max_members)
			max_members = groups[g].members;
	}
	order = malloc(max_members * sizeof *order);
	profile = malloc(max_span * sizeof *profile);
	if (!order || !profile)
		goto out;
	for (size_t g = 0; g < count; g++) {
		size_t first = agg->member_off[g], members = agg->member_off[g + 1] - first;
		int64_t base = INT64_MAX;
		for (size_t j = 0; j < members; j++) {
			uint32_t i = agg->members[first + j];
			int production = 0;
			order[j].w = gf__agg_weight(set, i, &production);
			order[j].i = i;
			base = set->start_after[i] < base ? set->start_after[i] : base;
		}
		qsort(order, members, sizeof *order, by_weight_desc);
		memset(profile, 0, max_span * sizeof *profile);
		struct gf__agg_key key = groups[g].key;
		gf__agg_group_init(&groups[g], &key);
		for (size_t j = 0; j < members; j++) {
			uint32_t i = order[j].i;
			int32_t o = best_offset(set, i, profile, base);
			const double *d = set->dflt + set->slice_off[i];
			double *at = profile + (set->start_after[i] + o - base);
			for (int32_t k = 0; k < set->n[i]; k++)
				at[k] += d[k];
			agg->offset[i] = o;
			gf__agg_group_add(&groups[g], set, i, o, order[j].w);
		}
	}
	err = GF_OK;
out:
	free(profile);
	free(order);
	return err;
}
