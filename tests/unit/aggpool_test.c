/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/aggpool.h: incremental maintenance against
 * gf_aggregate_build from scratch, over random sequences of additions,
 * updates and removals of generated offers. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggpool.h"

#include "agg_gen.h"
#include "leak_check.h"

TestSuite(aggpool, .fini = leak_check);

#define IDS 300

/* The offers the pool should hold, by id. */
struct mirror {
	int present[IDS];
	struct gf_fo fo[IDS];
	struct gf_fo_deadlines dl[IDS];
	double lo[IDS][5], hi[IDS][5], df[IDS][5];
};

static void draw(struct mirror *m, struct gf_javarand *r, const struct agg_gen *g, size_t id)
{
	agg_gen_offer(r, g, &m->fo[id], &m->dl[id], m->lo[id], m->hi[id], m->df[id]);
}

static int same_total(double a, double b)
{
	return (isnan(a) && isnan(b)) || fabs(a - b) <= 1e-9;
}

/*
 * The pool's aggregates equal gf_aggregate_build's over the surviving
 * offers (in id order), as multisets: each pool aggregate is one scratch
 * group with the same members, bounds, default, tf, totals, deadlines and
 * offsets.
 */
static void check_against_scratch(const struct gf_aggpool *pool, const struct mirror *m,
                                  const struct gf_aggregate_config *cfg)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	size_t index_of[IDS], survivors = 0;

	cr_assert_eq(gf_fo_set_init(&set, IDS, 5 * IDS), GF_OK);
	for (size_t id = 0; id < IDS; id++) {
		if (!m->present[id])
			continue;
		index_of[id] = set.count;
		cr_assert_eq(gf_fo_set_add_with_deadlines(&set, &m->fo[id], &m->dl[id]), GF_OK);
		survivors++;
	}
	cr_assert_eq(gf_aggpool_members(pool), survivors);
	if (survivors == 0) {
		cr_assert_eq(gf_aggpool_count(pool), 0);
		gf_fo_set_free(&set);
		return;
	}
	cr_assert_eq(gf_aggregate_build(&set, cfg, &agg), GF_OK);
	cr_assert_eq(gf_aggpool_count(pool), agg.count);
	char *matched = calloc(agg.count, 1);
	cr_assert_not_null(matched);
	for (size_t a = 0; a < gf_aggpool_count(pool); a++) {
		struct gf_aggpool_view v;
		cr_assert_eq(gf_aggpool_get(pool, a, &v), GF_OK);
		uint32_t g = agg.group_of[index_of[v.ids[0]]];
		int64_t tf_loss = 0;
		for (size_t j = 0; j < v.members; j++)
			tf_loss += m->fo[v.ids[j]].tf - v.tf;
		cr_assert_eq(v.tf_loss, tf_loss);
		cr_assert(!matched[g], "two pool aggregates for group %u", g);
		matched[g] = 1;
		cr_assert_eq(v.members, agg.member_off[g + 1] - agg.member_off[g]);
		for (size_t j = 0; j < v.members; j++) {
			size_t idx = index_of[v.ids[j]];
			cr_assert(m->present[v.ids[j]]);
			cr_assert_eq(agg.group_of[idx], g, "member %llu",
			             (unsigned long long)v.ids[j]);
			if (agg.offset)
				cr_assert_eq(v.offsets[j], agg.offset[idx]);
			size_t found = 0;
			cr_assert_eq(gf_aggpool_find(pool, v.ids[j], &found), GF_OK);
			cr_assert_eq(found, a);
		}
		cr_assert_eq(v.start_after, agg.start_after[g]);
		cr_assert_eq(v.tf, agg.tf[g]);
		cr_assert_eq(v.n, agg.n[g]);
		cr_assert_eq(v.acceptance_before, agg.acceptance_before[g]);
		cr_assert_eq(v.assignment_before, agg.assignment_before[g]);
		cr_assert(same_total(v.total_min, agg.total_min[g]));
		cr_assert(same_total(v.total_max, agg.total_max[g]));
		for (int32_t k = 0; k < v.n; k++) {
			size_t s = agg.slice_off[g] + (size_t)k;
			cr_assert_float_eq(v.lower[k], agg.lower[s], 1e-9);
			cr_assert_float_eq(v.upper[k], agg.upper[s], 1e-9);
			cr_assert_float_eq(v.dflt[k], agg.dflt[s], 1e-9);
		}
	}
	free(matched);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/* A random sequence of additions, updates (half of them moving the offer
 * elsewhere: a fresh draw) and removals, checked against from-scratch
 * aggregation every 250 steps. */
static void random_sequence(const struct gf_aggregate_config *cfg, int64_t seed, int steps)
{
	struct gf_aggpool *pool = NULL;
	struct mirror *m = calloc(1, sizeof *m);
	const struct agg_gen g = {0.3, 0.3};
	struct gf_javarand r;
	size_t adds = 0, updates = 0, removes = 0;

	cr_assert_not_null(m);
	gf_javarand_init(&r, seed);
	cr_assert_eq(gf_aggpool_new(cfg, &pool), GF_OK);
	for (int step = 1; step <= steps; step++) {
		size_t id = (size_t)agg_gen_int(&r, IDS);
		int op = agg_gen_int(&r, 10);
		if (!m->present[id]) {
			draw(m, &r, &g, id);
			cr_assert_eq(gf_aggpool_add(pool, id, &m->fo[id], &m->dl[id]), GF_OK);
			m->present[id] = 1;
			adds++;
		} else if (op < 3) {
			cr_assert_eq(gf_aggpool_remove(pool, id), GF_OK);
			m->present[id] = 0;
			removes++;
		} else if (op < 7) {
			if (op < 5) {
				draw(m, &r, &g, id);
			} else {
				/* A small change that keeps the cell: other bounds. */
				for (int32_t k = 0; k < m->fo[id].n; k++)
					m->hi[id][k] += 0.25;
				m->dl[id].acceptance_before -= 1;
			}
			cr_assert_eq(gf_aggpool_update(pool, id, &m->fo[id], &m->dl[id]), GF_OK);
			updates++;
		}
		if (step % 250 == 0)
			check_against_scratch(pool, m, cfg);
	}
	cr_assert_gt(adds, 100);
	cr_assert_gt(updates, 100);
	cr_assert_gt(removes, 100);
	/* Remove everything: the pool is empty again. */
	for (size_t id = 0; id < IDS; id++)
		if (m->present[id]) {
			cr_assert_eq(gf_aggpool_remove(pool, id), GF_OK);
			m->present[id] = 0;
		}
	check_against_scratch(pool, m, cfg);
	gf_aggpool_free(pool);
	free(m);
}

Test(aggpool, incremental_equals_from_scratch)
{
	const struct gf_aggregate_config cfg = {.start_after_tolerance = 20, .fixed_origin = 1};
	random_sequence(&cfg, 1, 3000);
}

Test(aggpool, incremental_equals_from_scratch_tf_cells)
{
	const struct gf_aggregate_config cfg = {.start_after_tolerance = 6,
	                                        .tf_tolerance = 2,
	                                        .fixed_origin = 1,
	                                        .start_after_origin = 3,
	                                        .tf_origin = 1};
	random_sequence(&cfg, 2, 3000);
}

Test(aggpool, incremental_equals_from_scratch_balance)
{
	const struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 10, .tf_tolerance = 3, .balance = 1, .fixed_origin = 1};
	random_sequence(&cfg, 3, 3000);
}

/* Member order within a group does not matter: the same offers added in a
 * random order give the same aggregates as gf_aggregate_build in id order,
 * and gf_aggregate_build over a permutation gives the same as over the
 * original order. */
Test(aggpool, order_invariance)
{
	const struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 10, .tf_tolerance = 2, .fixed_origin = 1};
	const struct agg_gen g = {0.3, 0.3};
	struct gf_aggpool *pool = NULL;
	struct mirror *m = calloc(1, sizeof *m);
	size_t order[IDS];
	struct gf_javarand r;

	cr_assert_not_null(m);
	gf_javarand_init(&r, 9);
	for (size_t id = 0; id < IDS; id++) {
		draw(m, &r, &g, id);
		m->present[id] = 1;
		order[id] = id;
	}
	for (size_t i = IDS - 1; i > 0; i--) {
		size_t j = (size_t)agg_gen_int(&r, (int32_t)i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	cr_assert_eq(gf_aggpool_new(&cfg, &pool), GF_OK);
	for (size_t i = 0; i < IDS; i++)
		cr_assert_eq(gf_aggpool_add(pool, order[i], &m->fo[order[i]], &m->dl[order[i]]),
		             GF_OK);
	check_against_scratch(pool, m, &cfg);
	gf_aggpool_free(pool);
	free(m);
}

/* Weight bounds: after a random sequence every aggregate is within them,
 * every surviving offer is in exactly one, and each aggregate is the
 * from-scratch aggregate of its own members. */
Test(aggpool, weight_bounds_hold)
{
	const struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 20, .max_members = 5, .max_energy = 12.0, .fixed_origin = 1};
	const struct agg_gen g = {0.3, 0.0};
	struct gf_aggpool *pool = NULL;
	struct mirror *m = calloc(1, sizeof *m);
	struct gf_javarand r;
	size_t full = 0;

	cr_assert_not_null(m);
	gf_javarand_init(&r, 4);
	cr_assert_eq(gf_aggpool_new(&cfg, &pool), GF_OK);
	for (int step = 0; step < 2000; step++) {
		size_t id = (size_t)agg_gen_int(&r, IDS);
		int op = agg_gen_int(&r, 10);
		if (!m->present[id]) {
			draw(m, &r, &g, id);
			cr_assert_eq(gf_aggpool_add(pool, id, &m->fo[id], &m->dl[id]), GF_OK);
			m->present[id] = 1;
		} else if (op < 3) {
			cr_assert_eq(gf_aggpool_remove(pool, id), GF_OK);
			m->present[id] = 0;
		} else {
			draw(m, &r, &g, id);
			cr_assert_eq(gf_aggpool_update(pool, id, &m->fo[id], &m->dl[id]), GF_OK);
		}
	}
	int seen[IDS] = {0};
	for (size_t a = 0; a < gf_aggpool_count(pool); a++) {
		struct gf_aggpool_view v;
		double w = 0.0, lo = 0.0, vlo = 0.0;
		cr_assert_eq(gf_aggpool_get(pool, a, &v), GF_OK);
		cr_assert_leq(v.members, 5);
		for (size_t j = 0; j < v.members; j++) {
			size_t id = v.ids[j];
			cr_assert(m->present[id]);
			seen[id]++;
			for (int32_t k = 0; k < m->fo[id].n; k++) {
				w += fabs(m->df[id][k]);
				lo += m->lo[id][k];
			}
		}
		for (int32_t k = 0; k < v.n; k++)
			vlo += v.lower[k];
		cr_assert(v.members == 1 || w <= 12.0 + 1e-9, "aggregate %zu: %g kWh", a, w);
		cr_assert_float_eq(vlo, lo, 1e-9);
		full += v.members == 5 || w > 9.0;
	}
	cr_assert_gt(full, 3);
	for (size_t id = 0; id < IDS; id++)
		cr_assert_eq(seen[id], m->present[id], "id %zu", id);
	gf_aggpool_free(pool);
	free(m);
}

/* A change touches only its own aggregate: the others keep their buffers. */
Test(aggpool, a_change_touches_only_its_aggregate)
{
	const struct gf_aggregate_config cfg = {.start_after_tolerance = 5, .fixed_origin = 1};
	const struct agg_gen g = {0.0, 0.0};
	struct gf_aggpool *pool = NULL;
	struct mirror *m = calloc(1, sizeof *m);
	struct gf_javarand r;
	const double *before[IDS];

	cr_assert_not_null(m);
	gf_javarand_init(&r, 12);
	cr_assert_eq(gf_aggpool_new(&cfg, &pool), GF_OK);
	for (size_t id = 0; id < 100; id++) {
		draw(m, &r, &g, id);
		cr_assert_eq(gf_aggpool_add(pool, id, &m->fo[id], &m->dl[id]), GF_OK);
	}
	size_t count = gf_aggpool_count(pool), mine = 0;
	cr_assert_gt(count, 3);
	for (size_t a = 0; a < count; a++) {
		struct gf_aggpool_view v;
		cr_assert_eq(gf_aggpool_get(pool, a, &v), GF_OK);
		before[a] = v.lower;
	}
	/* An addition into an existing aggregate: appended in place. */
	draw(m, &r, &g, 100);
	m->fo[100].start_after = m->fo[7].start_after;
	m->fo[100].tf = m->fo[7].tf;
	cr_assert_eq(gf_aggpool_add(pool, 100, &m->fo[100], &m->dl[100]), GF_OK);
	cr_assert_eq(gf_aggpool_count(pool), count);
	cr_assert_eq(gf_aggpool_find(pool, 7, &mine), GF_OK);
	size_t added = 0;
	cr_assert_eq(gf_aggpool_find(pool, 100, &added), GF_OK);
	cr_assert_eq(added, mine);
	for (size_t a = 0; a < count; a++) {
		struct gf_aggpool_view v;
		cr_assert_eq(gf_aggpool_get(pool, a, &v), GF_OK);
		if (a != mine)
			cr_assert_eq(v.lower, before[a], "aggregate %zu was rebuilt", a);
		before[a] = v.lower;
	}
	m->hi[7][0] += 1.0;
	cr_assert_eq(gf_aggpool_update(pool, 7, &m->fo[7], &m->dl[7]), GF_OK);
	cr_assert_eq(gf_aggpool_count(pool), count);
	for (size_t a = 0; a < count; a++) {
		struct gf_aggpool_view v;
		cr_assert_eq(gf_aggpool_get(pool, a, &v), GF_OK);
		if (a == mine)
			cr_assert_neq(v.lower, before[a]);
		else
			cr_assert_eq(v.lower, before[a], "aggregate %zu was rebuilt", a);
	}
	gf_aggpool_free(pool);
	free(m);
}

Test(aggpool, errors_leave_the_pool_unchanged)
{
	const struct gf_aggregate_config cfg = {.start_after_tolerance = 20, .fixed_origin = 1};
	struct gf_aggpool *pool = NULL;
	const double lo[1] = {1.0}, hi[1] = {2.0}, bad_hi[1] = {0.5};
	struct gf_fo fo = {0, 1, 1, lo, hi, NULL, NAN, NAN, NAN, NAN};
	struct gf_fo bad = {0, 1, 1, lo, bad_hi, NULL, NAN, NAN, NAN, NAN};
	struct gf_aggpool_view v;
	size_t a = 99;

	cr_assert_eq(gf_aggpool_new(&GF_AGGREGATE_FMAN, &pool), GF_EINVAL, "origin not fixed");
	cr_assert_null(pool);
	cr_assert_eq(gf_aggpool_new(&cfg, &pool), GF_OK);
	cr_assert_eq(gf_aggpool_add(pool, 1, &fo, NULL), GF_OK);
	cr_assert_eq(gf_aggpool_add(pool, 1, &fo, NULL), GF_EEXIST);
	cr_assert_eq(gf_aggpool_add(pool, 2, &bad, NULL), GF_EINVAL);
	cr_assert_eq(gf_aggpool_update(pool, 1, &bad, NULL), GF_EINVAL);
	cr_assert_eq(gf_aggpool_update(pool, 3, &fo, NULL), GF_ENOENT);
	cr_assert_eq(gf_aggpool_remove(pool, 3), GF_ENOENT);
	cr_assert_eq(gf_aggpool_find(pool, 2, &a), GF_ENOENT);
	cr_assert_eq(a, 99);
	cr_assert_eq(gf_aggpool_count(pool), 1);
	cr_assert_eq(gf_aggpool_members(pool), 1);
	cr_assert_eq(gf_aggpool_get(pool, 0, &v), GF_OK);
	cr_assert_eq(v.upper[0], 2.0);
	cr_assert_eq(v.acceptance_before, GF_FO_NO_DEADLINE);
	cr_assert_eq(gf_aggpool_get(pool, 1, &v), GF_ERANGE);
	cr_assert_eq(gf_aggpool_remove(pool, 1), GF_OK);
	cr_assert_eq(gf_aggpool_count(pool), 0);
	gf_aggpool_free(pool);
	gf_aggpool_free(NULL);
}

/* Removing many members at once (an assignment takes a whole aggregate)
 * gives what removing them one by one gives: the from-scratch aggregates of
 * the rest. A repeated id counts once; an unknown id refuses the whole
 * batch and leaves the pool as it was. */
static void remove_many_sequence(const struct gf_aggregate_config *cfg, int64_t seed)
{
	struct gf_aggpool *pool = NULL;
	struct mirror *m = calloc(1, sizeof *m);
	const struct agg_gen g = {0.3, 0.3};
	struct gf_javarand r;
	uint64_t batch[IDS + 2];
	size_t nb;

	cr_assert_not_null(m);
	gf_javarand_init(&r, seed);
	cr_assert_eq(gf_aggpool_new(cfg, &pool), GF_OK);
	for (size_t id = 0; id < IDS; id++) {
		draw(m, &r, &g, id);
		cr_assert_eq(gf_aggpool_add(pool, id, &m->fo[id], &m->dl[id]), GF_OK);
		m->present[id] = 1;
	}
	for (int round = 0; round < 4; round++) {
		nb = 0;
		for (size_t id = 0; id < IDS; id++)
			if (m->present[id] && agg_gen_int(&r, 3) == 0)
				batch[nb++] = id;
		cr_assert_gt(nb, 10);
		batch[nb] = batch[0]; /* once more: counts once */
		/* With an id that is not a member: refused, nothing changes. */
		batch[nb + 1] = IDS + 7;
		cr_assert_eq(gf_aggpool_remove_many(pool, batch, nb + 2), GF_ENOENT);
		check_against_scratch(pool, m, cfg);
		cr_assert_eq(gf_aggpool_remove_many(pool, batch, nb + 1), GF_OK);
		for (size_t i = 0; i < nb; i++)
			m->present[batch[i]] = 0;
		check_against_scratch(pool, m, cfg);
	}
	cr_assert_eq(gf_aggpool_remove_many(pool, batch, 0), GF_OK);
	/* The rest at once: the pool is empty. */
	nb = 0;
	for (size_t id = 0; id < IDS; id++)
		if (m->present[id]) {
			batch[nb++] = id;
			m->present[id] = 0;
		}
	cr_assert_eq(gf_aggpool_remove_many(pool, batch, nb), GF_OK);
	check_against_scratch(pool, m, cfg);
	cr_assert_eq(gf_aggpool_count(pool), 0);
	cr_assert_eq(gf_aggpool_remove_many(NULL, batch, 1), GF_EINVAL);
	gf_aggpool_free(pool);
	free(m);
}

Test(aggpool, remove_many_equals_from_scratch)
{
	const struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 6, .tf_tolerance = 2, .fixed_origin = 1, .tf_origin = 1};
	remove_many_sequence(&cfg, 11);
}

Test(aggpool, remove_many_equals_from_scratch_balance)
{
	const struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 10, .tf_tolerance = 3, .balance = 1, .fixed_origin = 1};
	remove_many_sequence(&cfg, 12);
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The aggregate of id in pool p and in pool q: the same members and the
 * same profile. */
static void same_aggregate(const struct gf_aggpool *p, const struct gf_aggpool *q, uint64_t id)
{
	struct gf_aggpool_view v, w;
	size_t a = 0, b = 0;
	uint64_t x[IDS], y[IDS];

	cr_assert_eq(gf_aggpool_find(p, id, &a), GF_OK);
	cr_assert_eq(gf_aggpool_find(q, id, &b), GF_OK);
	cr_assert_eq(gf_aggpool_get(p, a, &v), GF_OK);
	cr_assert_eq(gf_aggpool_get(q, b, &w), GF_OK);
	cr_assert_eq(v.members, w.members, "member %llu", (unsigned long long)id);
	memcpy(x, v.ids, v.members * sizeof *x);
	memcpy(y, w.ids, w.members * sizeof *y);
	qsort(x, v.members, sizeof *x, cmp_id);
	qsort(y, w.members, sizeof *y, cmp_id);
	cr_assert_arr_eq(x, y, v.members * sizeof *x);
	cr_assert_eq(v.start_after, w.start_after);
	cr_assert_eq(v.n, w.n);
	for (int32_t k = 0; k < v.n; k++) {
		cr_assert_float_eq(v.lower[k], w.lower[k], 1e-9);
		cr_assert_float_eq(v.upper[k], w.upper[k], 1e-9);
	}
}

/* Under member and energy bounds (no from-scratch equivalent): a batch
 * leaves the pool as the same removals one by one do. */
Test(aggpool, remove_many_equals_one_by_one_under_bounds)
{
	const struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 20, .max_members = 5, .max_energy = 12.0, .fixed_origin = 1};
	const struct agg_gen g = {0.3, 0.0};
	struct gf_aggpool *p = NULL, *q = NULL;
	struct mirror *m = calloc(1, sizeof *m);
	struct gf_javarand r;
	uint64_t batch[IDS];
	size_t nb = 0;

	cr_assert_not_null(m);
	gf_javarand_init(&r, 14);
	cr_assert_eq(gf_aggpool_new(&cfg, &p), GF_OK);
	cr_assert_eq(gf_aggpool_new(&cfg, &q), GF_OK);
	for (size_t id = 0; id < IDS; id++) {
		draw(m, &r, &g, id);
		cr_assert_eq(gf_aggpool_add(p, id, &m->fo[id], &m->dl[id]), GF_OK);
		cr_assert_eq(gf_aggpool_add(q, id, &m->fo[id], &m->dl[id]), GF_OK);
		m->present[id] = 1;
	}
	for (size_t id = 0; id < IDS; id++)
		if (agg_gen_int(&r, 2) == 0) {
			batch[nb++] = id;
			m->present[id] = 0;
			cr_assert_eq(gf_aggpool_remove(q, id), GF_OK);
		}
	cr_assert_gt(nb, 50);
	cr_assert_eq(gf_aggpool_remove_many(p, batch, nb), GF_OK);
	cr_assert_eq(gf_aggpool_members(p), gf_aggpool_members(q));
	cr_assert_eq(gf_aggpool_count(p), gf_aggpool_count(q));
	for (size_t id = 0; id < IDS; id++)
		if (m->present[id])
			same_aggregate(p, q, id);
	gf_aggpool_free(p);
	gf_aggpool_free(q);
	free(m);
}
