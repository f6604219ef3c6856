/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/aggregate_disagg.c: disaggregation with the repair of
 * members' total-energy bounds, over generated offers. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate.h"

#include "agg_gen.h"
#include "leak_check.h"

TestSuite(aggregate_disagg, .fini = leak_check);

/* Member i's total over amounts. */
static double total_of(const struct gf_fo_set *set, const double *amounts, uint32_t i)
{
	double t = 0.0;
	for (int32_t k = 0; k < set->n[i]; k++)
		t += amounts[set->slice_off[i] + (size_t)k];
	return t;
}

/* Every member of aggregate a within its slice and total bounds, started
 * at its start_after (+ offset) + shift, and summing to x per interval.
 * Returns the number of members whose total is binding. */
static void check_split(const struct gf_aggregate *agg, const struct gf_fo_set *set, size_t a,
                        int32_t shift, const double *x, const int32_t *start, const double *amounts)
{
	double *sum = calloc((size_t)agg->n[a], sizeof *sum);
	cr_assert_not_null(sum);
	for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++) {
		uint32_t i = agg->members[m];
		int32_t off = agg->offset ? agg->offset[i] : 0;
		cr_assert_eq(start[i], set->start_after[i] + off + shift);
		cr_assert_leq(start[i], set->start_after[i] + set->tf[i]);
		int32_t rel = set->start_after[i] + off - agg->start_after[a];
		for (int32_t k = 0; k < set->n[i]; k++) {
			size_t s = set->slice_off[i] + (size_t)k;
			cr_assert(amounts[s] >= set->lower[s] && amounts[s] <= set->upper[s],
			          "member %u slice %d: %g not in [%g, %g]", i, k, amounts[s],
			          set->lower[s], set->upper[s]);
			sum[rel + k] += amounts[s];
		}
		double t = total_of(set, amounts, i);
		if (!isnan(set->total_min[i]))
			cr_assert_geq(t, set->total_min[i] - 1e-9, "member %u total %.12g < %.12g",
			              i, t, set->total_min[i]);
		if (!isnan(set->total_max[i]))
			cr_assert_leq(t, set->total_max[i] + 1e-9, "member %u total %.12g > %.12g",
			              i, t, set->total_max[i]);
	}
	for (int32_t k = 0; k < agg->n[a]; k++)
		cr_assert(fabs(sum[k] - x[k]) <= 1e-9, "aggregate %zu interval %d: %.17g vs %.17g",
		          a, k, sum[k], x[k]);
	free(sum);
}

/*
 * A feasible aggregate schedule by construction: every member takes a
 * random schedule that satisfies its own bounds (a point between its
 * default, which satisfies its totals, and a random point of its slice
 * bounds, as far towards the latter as its totals allow); x is their sum.
 */
static void feasible_schedule(const struct gf_aggregate *agg, const struct gf_fo_set *set,
                              struct gf_javarand *r, double *x)
{
	memset(x, 0, agg->slice_count * sizeof *x);
	for (size_t a = 0; a < agg->count; a++) {
		for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++) {
			uint32_t i = agg->members[m];
			const double *l = set->lower + set->slice_off[i],
			             *u = set->upper + set->slice_off[i];
			const double *d = set->dflt + set->slice_off[i];
			double w[5], td = 0.0, tw = 0.0, theta = 1.0;
			for (int32_t k = 0; k < set->n[i]; k++) {
				w[k] = l[k] + gf_javarand_next_double(r) * (u[k] - l[k]);
				td += d[k];
				tw += w[k];
			}
			if (!isnan(set->total_max[i]) && tw > set->total_max[i])
				theta = (set->total_max[i] - td) / (tw - td);
			if (!isnan(set->total_min[i]) && tw < set->total_min[i])
				theta = (set->total_min[i] - td) / (tw - td);
			int32_t off = agg->offset ? agg->offset[i] : 0;
			double *xa = x + agg->slice_off[a] +
			             (size_t)(set->start_after[i] + off - agg->start_after[a]);
			for (int32_t k = 0; k < set->n[i]; k++)
				xa[k] += d[k] + theta * (w[k] - d[k]);
		}
	}
}

static void property_repair(int balance)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const struct agg_gen g = {balance ? 0.4 : 0.2, 0.7};
	struct gf_aggregate_config cfg = {.start_after_tolerance = 8, .tf_tolerance = 2};
	struct gf_javarand r;
	const size_t count = 3000;
	size_t violated_by_rule = 0;

	cfg.balance = balance;
	gf_javarand_init(&r, 5);
	cr_assert_eq(gf_fo_set_init(&set, count, 5 * count), GF_OK);
	agg_gen_fill(&set, count, 77, &g);
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	int32_t *start = calloc(count, sizeof *start),
	        *agg_start = calloc(agg.count, sizeof *agg_start);
	double *amounts = calloc(set.slice_count, sizeof *amounts);
	double *all = calloc(set.slice_count, sizeof *all);
	int32_t *start_all = calloc(count, sizeof *start_all);
	double *x = calloc(agg.slice_count, sizeof *x),
	       *scratch = calloc(agg.slice_count, sizeof *x);
	cr_assert(start && agg_start && amounts && all && start_all && x && scratch);
	for (int round = 0; round < 5; round++) {
		feasible_schedule(&agg, &set, &r, x);
		for (size_t a = 0; a < agg.count; a++) {
			int32_t shift = agg_gen_int(&r, agg.tf[a] + 1);
			agg_start[a] = agg.start_after[a] + shift;
			cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, a, agg_start[a],
			                                       x + agg.slice_off[a], start,
			                                       amounts),
			             GF_OK, "aggregate %zu", a);
			check_split(&agg, &set, a, shift, x + agg.slice_off[a], start, amounts);
			/* How often the relative position rule alone would fail: the
			 * test is only worth something if that happens. */
			for (size_t m = agg.member_off[a]; m < agg.member_off[a + 1]; m++) {
				uint32_t i = agg.members[m];
				int32_t rel = set.start_after[i] +
				              (agg.offset ? agg.offset[i] : 0) - agg.start_after[a];
				double t = 0.0;
				for (int32_t k = 0; k < set.n[i]; k++) {
					size_t s = agg.slice_off[a] + (size_t)(rel + k);
					double range = agg.upper[s] - agg.lower[s];
					double p = range > 0 ? (x[s] - agg.lower[s]) / range : 0.0;
					size_t ms = set.slice_off[i] + (size_t)k;
					t += set.lower[ms] + p * (set.upper[ms] - set.lower[ms]);
				}
				violated_by_rule +=
				    t > set.total_max[i] + 1e-9 || t < set.total_min[i] - 1e-9;
			}
		}
		cr_assert_eq(gf_aggregate_disaggregate_all(&agg, &set, agg_start, x, scratch,
		                                           start_all, all),
		             GF_OK);
		for (size_t a = 0; a < agg.count; a++)
			check_split(&agg, &set, a, agg_start[a] - agg.start_after[a],
			            x + agg.slice_off[a], start_all, all);
	}
	cr_assert_gt(violated_by_rule, 100, "only %zu", violated_by_rule);
	free(scratch);
	free(x);
	free(start_all);
	free(all);
	free(amounts);
	free(agg_start);
	free(start);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

Test(aggregate_disagg, repair_keeps_members_feasible_and_conserving)
{
	property_repair(0);
}

Test(aggregate_disagg, repair_under_balance_aggregation)
{
	property_repair(1);
}

/* The aggregate's bounds cannot tell this schedule is unsplittable: A only
 * runs in interval 0, so x_0 = 0 gives A a total of 0 < 1, though the
 * aggregate's total 2 is within [1, 4]. Refused; outputs untouched. */
Test(aggregate_disagg, unsplittable_schedule_refused)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const double lo[1] = {0.0}, hi[1] = {2.0};
	struct gf_fo a = {0, 0, 1, lo, hi, NULL, 1.0, 2.0, NAN, NAN};
	struct gf_fo b = {1, 0, 1, lo, hi, NULL, 0.0, 2.0, NAN, NAN};
	const double x[2] = {0.0, 2.0}, ok[2] = {1.5, 0.5};
	int32_t start[2] = {-1, -1}, agg_start = 0;
	double amounts[2] = {-1.0, -1.0}, scratch[2];

	cr_assert_eq(gf_fo_set_init(&set, 2, 2), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &a), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &b), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	cr_assert_eq(agg.count, 1);
	cr_assert_eq(agg.total_min[0], 1.0);
	cr_assert_eq(agg.total_max[0], 4.0);
	cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, 0, 0, x, start, amounts), GF_EINVAL);
	cr_assert_eq(
	    gf_aggregate_disaggregate_all(&agg, &set, &agg_start, x, scratch, start, amounts),
	    GF_EINVAL);
	cr_assert_eq(start[0], -1);
	cr_assert_eq(amounts[0], -1.0);
	cr_assert_eq(amounts[1], -1.0);
	cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, 0, 0, ok, start, amounts), GF_OK);
	cr_assert_float_eq(amounts[0], 1.5, 1e-12);
	cr_assert_float_eq(amounts[1], 0.5, 1e-12);
	/* Outside the aggregate's total bounds: refused before any work. */
	const double over[2] = {2.0, 2.0 + 1e-6};
	cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, 0, 0, over, start, amounts), GF_EINVAL);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/* A hand example of the repair: two members on the same two intervals,
 * A = [0, 2] x 2 with total <= 1, B = [0, 2] x 2 with no total. Schedule
 * (2, 2): the rule gives both (1, 1), A's total 2 > 1; the repair moves 1
 * kWh from A to B in interval 0 (the first path found): A (0, 1), B (2, 1). */
Test(aggregate_disagg, repair_hand_example)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const double lo[2] = {0.0, 0.0}, hi[2] = {2.0, 2.0};
	struct gf_fo a = {0, 0, 2, lo, hi, NULL, NAN, 1.0, NAN, NAN};
	struct gf_fo b = {0, 0, 2, lo, hi, NULL, NAN, NAN, NAN, NAN};
	const double x[2] = {2.0, 2.0};
	int32_t start[2];
	double amounts[4];

	cr_assert_eq(gf_fo_set_init(&set, 2, 4), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &a), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &b), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	/* b has no total: it bounds the aggregate's by its slices' 0..4. */
	cr_assert_float_eq(agg.total_min[0], 0.0, 1e-12);
	cr_assert_float_eq(agg.total_max[0], 5.0, 1e-12);
	cr_assert_eq(agg.total_members[0], 1);
	cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, 0, 0, x, start, amounts), GF_OK);
	cr_assert_float_eq(amounts[0], 0.0, 1e-12);
	cr_assert_float_eq(amounts[1], 1.0, 1e-12);
	cr_assert_float_eq(amounts[2], 2.0, 1e-12);
	cr_assert_float_eq(amounts[3], 1.0, 1e-12);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/*
 * Members the aggregate puts at 0: three batteries that discharge 0.8 of
 * what they charge (the bench's shape, bounds of its offers), the
 * aggregate scheduled at 0. Every member is at 0 in real arithmetic;
 * the rule's rounding left -2^-55 (-2.7755575615628914e-17) in the first,
 * which is now 0. Amounts rounding cannot explain stay: the aggregate at
 * 1e-9 kWh puts each member at a share of it, and a member whose lower
 * bound is above 0 stays at that bound.
 */
Test(aggregate_disagg, members_at_zero_are_zero)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const double lo0[1] = {-0.1966890887062561}, hi0[1] = {0.24586136088282012};
	const double lo1[1] = {-0.3086554709651145}, hi1[1] = {0.3858193387063931};
	const double lo2[1] = {-0.17435152202027104}, hi2[1] = {0.2179394025253388};
	const double lo3[1] = {1e-18}, hi3[1] = {0.5};
	struct gf_fo f[3] = {{0, 0, 1, lo0, hi0, NULL, NAN, NAN, NAN, NAN},
	                     {0, 0, 1, lo1, hi1, NULL, NAN, NAN, NAN, NAN},
	                     {0, 0, 1, lo2, hi2, NULL, NAN, NAN, NAN, NAN}};
	int32_t start[3], agg_start = 0;
	double amounts[3], scratch[1];

	cr_assert_eq(gf_fo_set_init(&set, 3, 3), GF_OK);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(gf_fo_set_add(&set, &f[i]), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	cr_assert_eq(agg.count, 1);
	const double zero[1] = {0.0}, small[1] = {1e-9};
	cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, 0, 0, zero, start, amounts), GF_OK);
	for (int i = 0; i < 3; i++)
		cr_assert(amounts[i] == 0.0, "member %d at %.17g, not 0", i, amounts[i]);
	memset(amounts, 0xff, sizeof amounts);
	cr_assert_eq(
	    gf_aggregate_disaggregate_all(&agg, &set, &agg_start, zero, scratch, start, amounts),
	    GF_OK);
	for (int i = 0; i < 3; i++)
		cr_assert(amounts[i] == 0.0, "member %d at %.17g, not 0", i, amounts[i]);
	cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, 0, 0, small, start, amounts), GF_OK);
	for (int i = 0; i < 3; i++)
		cr_assert(amounts[i] > 1e-10 && amounts[i] < 1e-9, "member %d at %.17g", i,
		          amounts[i]);
	cr_assert_float_eq(amounts[0] + amounts[1] + amounts[2], 1e-9, 1e-18);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);

	/* A lower bound above 0, however small, is kept. */
	struct gf_fo g = {0, 0, 1, lo3, hi3, NULL, NAN, NAN, NAN, NAN};
	cr_assert_eq(gf_fo_set_init(&set, 1, 1), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &g), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, 0, 0, lo3, start, amounts), GF_OK);
	cr_assert_eq(amounts[0], 1e-18);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}
