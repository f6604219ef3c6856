/* SPDX-License-Identifier: MIT */
/*
 * aggpool.h - incremental maintenance of aggregates: a living pool of
 * FlexOffers, keyed by the caller's ids, and their aggregates.
 *
 * Adding, updating or removing a member changes only its aggregate (two
 * when an update moves it to another cell), in time proportional to that
 * aggregate: the cell is found by hash, and the aggregate is rebuilt from
 * its own members (gf_aggregate_build over them, so the same rules apply,
 * balance aggregation included). The grid origin must be fixed in the
 * configuration (fixed_origin = 1): with it, and without weight bounds, the
 * pool's aggregates are those of gf_aggregate_build over the surviving
 * offers with the same configuration (up to summation order, 1e-9 kWh).
 * With weight bounds the pool places an offer in the first aggregate of its
 * cell (in creation order) with room, else a new one; bounds always hold,
 * but after removals the split may differ from a from-scratch next fit.
 */
#ifndef GF_AGGPOOL_H
#define GF_AGGPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/aggregate.h"
#include "base/err.h"
#include "engine/fo.h"

struct gf_aggpool;

/* One aggregate of the pool, valid until the pool next changes. */
struct gf_aggpool_view {
	int32_t start_after, tf, n;
	const double *lower, *upper, *dflt; /* n each, kWh */
	double total_min, total_max;        /* NaN when absent */
	int32_t acceptance_before, assignment_before;
	int64_t tf_loss;             /* sum over members of (member tf - tf) */
	size_t members;              /* count */
	const uint64_t *ids;         /* the members' ids */
	const struct gf_fo_set *set; /* the members' offers, in the order of ids */
	const int32_t *offsets;      /* per member, balance aggregation only, else NULL */
};

/* Creates an empty pool with configuration cfg (copied). The caller owns
 * *out and releases it with gf_aggpool_free. GF_EINVAL for a configuration
 * gf_aggregate_build refuses or without fixed_origin; GF_ENOMEM. */
enum gf_err gf_aggpool_new(const struct gf_aggregate_config *cfg, struct gf_aggpool **out);

/* Releases p (NULL accepted). */
void gf_aggpool_free(struct gf_aggpool *p);

/* Adds offer fo (copied; dl NULL = no deadlines) as member id. GF_EEXIST
 * when id is already a member, GF_EINVAL for an offer gf_fo_set_add
 * refuses, GF_ENOMEM. The pool is unchanged on failure. */
enum gf_err gf_aggpool_add(struct gf_aggpool *p, uint64_t id, const struct gf_fo *fo,
                           const struct gf_fo_deadlines *dl);

/* Replaces member id's offer by fo (it may move to another cell).
 * GF_ENOENT for an unknown id, else as gf_aggpool_add. */
enum gf_err gf_aggpool_update(struct gf_aggpool *p, uint64_t id, const struct gf_fo *fo,
                              const struct gf_fo_deadlines *dl);

/* Removes member id; an aggregate left empty disappears. GF_ENOENT for an
 * unknown id, GF_ENOMEM; the pool is unchanged on failure. */
enum gf_err gf_aggpool_remove(struct gf_aggpool *p, uint64_t id);

/* Removes the n members ids (a repeated id counts once), rebuilding each
 * aggregate they leave once: linear in the members of those aggregates,
 * where n gf_aggpool_remove calls cost n times an aggregate's size (an
 * assignment takes every member of its aggregate at once). GF_ENOENT when
 * one is unknown, GF_EINVAL, GF_ENOMEM; the pool is unchanged on failure. */
enum gf_err gf_aggpool_remove_many(struct gf_aggpool *p, const uint64_t *ids, size_t n);

/* Number of aggregates (they are numbered 0 .. count - 1; numbers change
 * when an aggregate disappears) and of members. */
size_t gf_aggpool_count(const struct gf_aggpool *p);
size_t gf_aggpool_members(const struct gf_aggpool *p);

/* Fills *v with aggregate a. GF_ERANGE when a >= count. */
enum gf_err gf_aggpool_get(const struct gf_aggpool *p, size_t a, struct gf_aggpool_view *v);

/* *a receives the number of member id's aggregate. GF_ENOENT. */
enum gf_err gf_aggpool_find(const struct gf_aggpool *p, uint64_t id, size_t *a);

#endif
