/* SPDX-License-Identifier: MIT */
/*
 * aggregate_int.h - internals shared by aggregate.c, aggregate_balance.c and
 * aggpool.c: the grid cell key and the running extents of one group.
 */
#ifndef GF_AGGREGATE_INT_H
#define GF_AGGREGATE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "aggregate.h"

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
	int all_totals;
	int open; /* still takes members (weight bounds) */
};

uint64_t gf__agg_key_hash(const struct gf__agg_key *k);

/* The cell of an offer (docs/engine.md, "Grid cell"). */
void gf__agg_key_of(const struct gf_aggregate_config *cfg, int64_t sa_origin, int64_t tf_origin,
                    int32_t sa, int32_t tf, int production, struct gf__agg_key *key);

/* Weight w_i = sum_k |dflt_{i,k}| of offer i; *production = sum_k
 * dflt_{i,k} < 0. */
double gf__agg_weight(const struct gf_fo_set *set, size_t i, int *production);

/* 1 when a group of `members` members and weight `energy` cannot take a
 * member of weight w under cfg's bounds (an empty group always can). */
int gf__agg_full(const struct gf_aggregate_config *cfg, size_t members, double energy, double w);

void gf__agg_group_init(struct gf__agg_group *gi, const struct gf__agg_key *key);

/* Extends gi by offer i of set placed at offset (weight w). */
void gf__agg_group_add(struct gf__agg_group *gi, const struct gf_fo_set *set, size_t i,
                       int32_t offset, double w);

/* Balance aggregation: chooses agg->offset[i] for the members of every group
 * (members already sorted into agg) and recomputes the groups' extents. */
enum gf_err gf__agg_balance(const struct gf_fo_set *set, struct gf_aggregate *agg,
                            struct gf__agg_group *groups, size_t count);

#endif
