/* SPDX-License-Identifier: MIT */
/*
 * aggregate_int.h - internals shared by aggregate.c, aggregate_balance.c and
 * aggpool.c: the grid cell key and the running extents of one group.
 */
#ifndef GF_AGGREGATE_INT_H
#define GF_AGGREGATE_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/aggregate.h"

struct gf__agg_key {
	int64_t sa_cell, tf_cell;
	int32_t production;
};

/* A group being formed: what its aggregate's header will be. */
struct gf__agg_group {
	struct gf__agg_key key;
	int32_t min_sa, min_tf; /* of start_after + offset, tf - offset */
	int64_t max_end;        /* of start_after + offset + n */
	int32_t acceptance_before, assignment_before;
	size_t members;
	uint32_t total_members;
	double energy; /* sum of member weights */
	int open;      /* still takes members (weight bounds) */
};

static inline int64_t gf__agg_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* The cell of an offer (docs/engine.md, "Grid cell"). Inline: it is on the
 * aggregation's hot path (one call per offer). */
static inline void gf__agg_key_of(const struct gf_aggregate_config *cfg, int64_t sa_origin,
                                  int64_t tf_origin, int32_t sa, int32_t tf, int production,
                                  struct gf__agg_key *key)
{
	/* The GOFLEX grid's cells are `tolerance` wide (tolerance 0 = exact
	 * value): with width tolerance + 1 the issue-4 workload's largest
	 * aggregate has 13,065 members, with width tolerance the reference's
	 * 12,469. */
	int64_t sa_width = cfg->start_after_tolerance > 0 ? cfg->start_after_tolerance : 1;
	int64_t tf_width = cfg->tf_tolerance > 0 ? cfg->tf_tolerance : 1;
	key->sa_cell = gf__agg_floor_div((int64_t)sa - sa_origin, sa_width);
	key->tf_cell = gf__agg_floor_div((int64_t)tf - tf_origin, tf_width);
	key->production = cfg->balance ? 0 : production;
}

/* Weight w_i = sum_k |dflt_{i,k}| of offer i; *production = sum_k
 * dflt_{i,k} < 0. */
double gf__agg_weight(const struct gf_fo_set *set, size_t i, int *production);

/* 1 when a group of `members` members and weight `energy` cannot take a
 * member of weight w under cfg's bounds (an empty group always can). */
int gf__agg_full(const struct gf_aggregate_config *cfg, size_t members, double energy, double w);

void gf__agg_group_init(struct gf__agg_group *gi, const struct gf__agg_key *key);

/* Extends gi by offer i of set placed at offset (weight w). Inline: one
 * call per offer. */
static inline void gf__agg_group_add(struct gf__agg_group *gi, const struct gf_fo_set *set,
                                     size_t i, int32_t offset, double w)
{
	int32_t sa = set->start_after[i] + offset, tf = set->tf[i] - offset;
	int64_t end = (int64_t)sa + set->n[i];
	if (sa < gi->min_sa)
		gi->min_sa = sa;
	if (tf < gi->min_tf)
		gi->min_tf = tf;
	if (end > gi->max_end)
		gi->max_end = end;
	if (set->acceptance_before[i] < gi->acceptance_before)
		gi->acceptance_before = set->acceptance_before[i];
	if (set->assignment_before[i] < gi->assignment_before)
		gi->assignment_before = set->assignment_before[i];
	int has_min = !isnan(set->total_min[i]), has_max = !isnan(set->total_max[i]);
	gi->total_members += (uint32_t)(has_min || has_max);
	gi->members++;
	gi->energy += w;
}

/* Balance aggregation: chooses agg->offset[i] for the members of every group
 * (members already sorted into agg) and recomputes the groups' extents. */
enum gf_err gf__agg_balance(const struct gf_fo_set *set, struct gf_aggregate *agg,
                            struct gf__agg_group *groups, size_t count);

#endif
