/* SPDX-License-Identifier: MIT */
/*
 * agg_gen.h - seeded generator of FlexOffers for the aggregation property
 * tests (aggregate_test.c, aggpool_test.c), drawn from java.util.Random.
 *
 * Offers: startAfter in [0, 40), tf in [0, 6), 1 to 5 slices, bounds within
 * [0, 3] kWh (production: negated), deadlines about startAfter. With totals,
 * the default schedule is a random point inside the slice bounds and the
 * total bounds are a tight band around its sum, so that the relative
 * position rule alone often violates them while the defaults prove a
 * feasible split exists.
 */
#ifndef GF_TEST_AGG_GEN_H
#define GF_TEST_AGG_GEN_H

#include <criterion/criterion.h>

#include <math.h>

#include "engine/fo.h"
#include "engine/javarand.h"

struct agg_gen {
	double production; /* probability of a production offer */
	double totals;     /* probability of total-energy bounds */
};

static inline int32_t agg_gen_int(struct gf_javarand *r, int32_t bound)
{
	int32_t v = 0;
	cr_assert_eq(gf_javarand_next_int_bounded(r, bound, &v), GF_OK);
	return v;
}

/* Draws one offer into fo and its slice arrays (room for 5 slices each). */
static inline void agg_gen_offer(struct gf_javarand *r, const struct agg_gen *g, struct gf_fo *fo,
                                 struct gf_fo_deadlines *dl, double *lo, double *hi, double *df)
{
	int prod = gf_javarand_next_double(r) < g->production;
	int totals = gf_javarand_next_double(r) < g->totals;
	double sum = 0.0;
	fo->start_after = agg_gen_int(r, 40);
	fo->tf = agg_gen_int(r, 6);
	fo->n = 1 + agg_gen_int(r, 5);
	for (int32_t k = 0; k < fo->n; k++) {
		double a = gf_javarand_next_double(r) * 1.5,
		       b = a + gf_javarand_next_double(r) * 1.5;
		lo[k] = prod ? -b : a;
		hi[k] = prod ? -a : b;
		df[k] = lo[k] + gf_javarand_next_double(r) * (hi[k] - lo[k]);
		sum += df[k];
	}
	fo->lower = lo;
	fo->upper = hi;
	fo->dflt = df;
	fo->total_min = totals ? sum - 0.1 * gf_javarand_next_double(r) : NAN;
	fo->total_max = totals ? sum + 0.1 * gf_javarand_next_double(r) : NAN;
	fo->tariff_min = NAN;
	fo->tariff_max = NAN;
	dl->acceptance_before = fo->start_after - agg_gen_int(r, 8);
	dl->assignment_before = fo->start_after - agg_gen_int(r, 4);
	if (gf_javarand_next_double(r) < 0.2)
		*dl = GF_FO_DEADLINES_NONE;
}

/* Appends count generated offers to set (room for them and 5 slices each). */
static inline void agg_gen_fill(struct gf_fo_set *set, size_t count, int64_t seed,
                                const struct agg_gen *g)
{
	struct gf_javarand r;
	gf_javarand_init(&r, seed);
	for (size_t i = 0; i < count; i++) {
		struct gf_fo fo;
		struct gf_fo_deadlines dl;
		double lo[5], hi[5], df[5];
		agg_gen_offer(&r, g, &fo, &dl, lo, hi, df);
		cr_assert_eq(gf_fo_set_add_with_deadlines(set, &fo, &dl), GF_OK);
	}
}

#endif
