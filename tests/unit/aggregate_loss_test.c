/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/aggregate_loss.c and lib/engine/aggregate_balance.c: loss
 * metrics (hand examples and properties over generated offers), balance
 * aggregation. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate.h"

#include "agg_gen.h"
#include "leak_check.h"

TestSuite(aggregate_loss, .fini = leak_check);

static const struct gf_aggregate_config wide_tf = {.start_after_tolerance = 20, .tf_tolerance = 3};

static void add(struct gf_fo_set *set, int32_t sa, int32_t tf, int32_t n, const double *lo,
                const double *hi)
{
	struct gf_fo fo = {sa, tf, n, lo, hi, NULL, NAN, NAN, NAN, NAN};
	cr_assert_eq(gf_fo_set_add(set, &fo), GF_OK);
}

/*
 * B: start 0, tf 0, one slice [1, 2]; A: start 0, tf 2, one slice [1, 2].
 * Aggregate: tf 0, [2, 4]. Members' envelopes over intervals 0..2: lowest
 * (1 + 0, 0, 0) - A can be idle at 0 by starting later - highest (2 + 2,
 * 2, 2); the aggregate's: lowest (2, 0, 0), highest (4, 0, 0). Lowest peak
 * 1 -> 2: loss 1; highest 4 -> 4: loss 0. ef 1 + 1 - 2 = 0, tf loss 2.
 */
Test(aggregate_loss, hand_example_lower_peak)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	struct gf_aggregate_loss per[1], total;
	const double lo[1] = {1.0}, hi[1] = {2.0};

	cr_assert_eq(gf_fo_set_init(&set, 2, 2), GF_OK);
	add(&set, 0, 0, 1, lo, hi);
	add(&set, 0, 2, 1, lo, hi);
	cr_assert_eq(gf_aggregate_build(&set, &wide_tf, &agg), GF_OK);
	cr_assert_eq(agg.count, 1);
	cr_assert_eq(gf_aggregate_losses(&agg, &set, per, &total), GF_OK);
	cr_assert_eq(per[0].members, 2);
	cr_assert_float_eq(per[0].ef_loss, 0.0, 1e-12);
	cr_assert_eq(per[0].tf_loss, 2);
	cr_assert_float_eq(per[0].tf_loss_per_offer, 1.0, 1e-12);
	cr_assert_float_eq(per[0].peak_low_loss, 1.0, 1e-12);
	cr_assert_float_eq(per[0].peak_high_loss, 0.0, 1e-12);
	cr_assert_float_eq(total.peak_low_loss, 1.0, 1e-12);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/*
 * B: start 0, tf 0, slices [0, 0], [0, 3]; A: start 0, tf 1, one slice
 * [0, 3]. Aggregate: tf 0, upper (3, 3). Members' highest envelope: (0 + 3,
 * 3 + 3) - A alone can start at 1, under B's peak - so the highest peak 6
 * becomes 3: loss 3; lowest 0 both: loss 0.
 */
Test(aggregate_loss, hand_example_upper_peak)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	struct gf_aggregate_loss total;
	const double z[2] = {0.0, 0.0}, b_hi[2] = {0.0, 3.0}, a_hi[1] = {3.0};

	cr_assert_eq(gf_fo_set_init(&set, 2, 3), GF_OK);
	add(&set, 0, 0, 2, z, b_hi);
	add(&set, 0, 1, 1, z, a_hi);
	cr_assert_eq(gf_aggregate_build(&set, &wide_tf, &agg), GF_OK);
	cr_assert_eq(agg.count, 1);
	cr_assert_eq(gf_aggregate_losses(&agg, &set, NULL, &total), GF_OK);
	cr_assert_float_eq(total.peak_high_loss, 3.0, 1e-12);
	cr_assert_float_eq(total.peak_low_loss, 0.0, 1e-12);
	cr_assert_float_eq(total.ef_loss, 0.0, 1e-12);
	cr_assert_eq(total.tf_loss, 1);
	cr_assert_eq(gf_aggregate_losses(&agg, &set, NULL, NULL), GF_EINVAL);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/* Over generated offers and configurations: start alignment loses no
 * energy flexibility, peak losses are never negative, single-member
 * aggregates without tf loss lose nothing, totals are the sums, and the
 * tf loss agrees with the build's. */
Test(aggregate_loss, properties_over_generated_offers)
{
	const struct gf_aggregate_config cfgs[] = {
	    {.start_after_tolerance = 20},
	    {.start_after_tolerance = 5, .tf_tolerance = 3},
	    {.start_after_tolerance = 10, .tf_tolerance = 2, .max_members = 4},
	    {.start_after_tolerance = 10, .tf_tolerance = 5, .balance = 1},
	};
	const struct agg_gen g = {0.3, 0.3};
	struct gf_fo_set set;
	double positive_low = 0.0, positive_high = 0.0;

	cr_assert_eq(gf_fo_set_init(&set, 2000, 10000), GF_OK);
	agg_gen_fill(&set, 2000, 11, &g);
	for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
		struct gf_aggregate agg;
		struct gf_aggregate_loss total;
		cr_assert_eq(gf_aggregate_build(&set, &cfgs[c], &agg), GF_OK);
		struct gf_aggregate_loss *per = calloc(agg.count, sizeof *per);
		cr_assert_not_null(per);
		cr_assert_eq(gf_aggregate_losses(&agg, &set, per, &total), GF_OK);
		double low = 0.0;
		for (size_t a = 0; a < agg.count; a++) {
			cr_assert(fabs(per[a].ef_loss) <= 1e-9, "config %zu aggregate %zu: %g", c,
			          a, per[a].ef_loss);
			cr_assert_geq(per[a].peak_low_loss, -1e-12);
			cr_assert_geq(per[a].peak_high_loss, -1e-12);
			if (per[a].members == 1 && per[a].tf_loss == 0) {
				cr_assert_float_eq(per[a].peak_low_loss, 0.0, 1e-12);
				cr_assert_float_eq(per[a].peak_high_loss, 0.0, 1e-12);
			}
			low += per[a].peak_low_loss;
			positive_low += per[a].peak_low_loss;
			positive_high += per[a].peak_high_loss;
		}
		cr_assert_eq(total.tf_loss, agg.tf_loss);
		cr_assert_eq(total.members, set.count);
		cr_assert_float_eq(total.peak_low_loss, low, 1e-9);
		free(per);
		gf_aggregate_free(&agg);
	}
	cr_assert_gt(positive_low, 1.0);
	cr_assert_gt(positive_high, 1.0);
	gf_fo_set_free(&set);
}

/* Sum of squares of the summed default schedules over absolute intervals,
 * each member placed at start_after + offset (offsets may be NULL). */
static double default_sum_of_squares(const struct gf_fo_set *set, const int32_t *offset)
{
	double p[64] = {0}, ss = 0.0;
	for (size_t i = 0; i < set->count; i++)
		for (int32_t k = 0; k < set->n[i]; k++)
			p[set->start_after[i] + (offset ? offset[i] : 0) + k] +=
			    set->dflt[set->slice_off[i] + (size_t)k];
	for (size_t t = 0; t < 64; t++)
		ss += p[t] * p[t];
	return ss;
}

/* Hand example: consumption 2 kWh at [0, 1) with tf 0, production -2 kWh at
 * [2, 3) with tf 3: balance puts the production at offset 2, on top of the
 * consumption: default 0, sum of squares 0 (unbalanced: 8); aggregate tf =
 * min(0 - 0, 3 - 2) = 0, tf loss 3. */
Test(aggregate_loss, balance_hand_example)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 20, .tf_tolerance = 5, .fixed_origin = 1};
	const double c[1] = {2.0}, p[1] = {-2.0};

	cr_assert_eq(gf_fo_set_init(&set, 2, 2), GF_OK);
	add(&set, 0, 0, 1, c, c);
	add(&set, 0, 3, 1, p, p);
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	cr_assert_eq(agg.count, 2, "production and consumption apart without balance");
	cr_assert_null(agg.offset);
	gf_aggregate_free(&agg);
	cfg.balance = 1;
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	cr_assert_eq(agg.count, 1);
	cr_assert_eq(agg.offset[0], 0);
	cr_assert_eq(agg.offset[1], 0, "tie: the smallest offset");
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
	/* Production later: it has to move 2 to meet the consumption. */
	cr_assert_eq(gf_fo_set_init(&set, 2, 2), GF_OK);
	add(&set, 2, 0, 1, c, c);
	add(&set, 0, 3, 1, p, p);
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	cr_assert_eq(agg.count, 1);
	cr_assert_eq(agg.offset[1], 2);
	cr_assert_eq(agg.start_after[0], 2);
	cr_assert_eq(agg.tf[0], 0);
	cr_assert_eq(agg.n[0], 1);
	cr_assert_float_eq(agg.dflt[0], 0.0, 1e-12);
	cr_assert_eq(agg.tf_loss, 3);
	cr_assert_float_eq(default_sum_of_squares(&set, agg.offset), 0.0, 1e-12);
	cr_assert_float_eq(default_sum_of_squares(&set, NULL), 8.0, 1e-12);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/* Generated mixed offers: every member's placement is inside its window,
 * the aggregate's default is the sum of the placed defaults, its sum of
 * squares is lower than with every offset 0, and its losses are reported
 * (tf loss > 0, ef loss 0). Disaggregation feasibility under balance is in
 * aggregate_disagg_test.c. */
Test(aggregate_loss, balance_generated_offers)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	struct gf_aggregate_loss total;
	const struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 40, .tf_tolerance = 6, .balance = 1, .fixed_origin = 1};
	const struct agg_gen g = {0.5, 0.0};

	cr_assert_eq(gf_fo_set_init(&set, 60, 300), GF_OK);
	agg_gen_fill(&set, 60, 3, &g);
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	cr_assert_eq(agg.count, 1, "one cell: every offer in it");
	for (size_t i = 0; i < set.count; i++) {
		cr_assert_geq(agg.offset[i], 0);
		cr_assert_leq(agg.offset[i] + agg.tf[0], set.tf[i]);
		cr_assert_geq(set.start_after[i] + agg.offset[i], agg.start_after[0]);
		cr_assert_leq(set.start_after[i] + agg.offset[i] + set.n[i],
		              agg.start_after[0] + agg.n[0]);
	}
	double placed[64] = {0};
	for (size_t i = 0; i < set.count; i++)
		for (int32_t k = 0; k < set.n[i]; k++)
			placed[set.start_after[i] + agg.offset[i] + k] +=
			    set.dflt[set.slice_off[i] + (size_t)k];
	for (int32_t k = 0; k < agg.n[0]; k++)
		cr_assert_float_eq(agg.dflt[k], placed[agg.start_after[0] + k], 1e-9);
	double balanced = default_sum_of_squares(&set, agg.offset);
	double unbalanced = default_sum_of_squares(&set, NULL);
	cr_assert_lt(balanced, 0.5 * unbalanced, "%g vs %g", balanced, unbalanced);
	cr_assert_eq(gf_aggregate_losses(&agg, &set, NULL, &total), GF_OK);
	cr_assert_gt(total.tf_loss, 0);
	cr_assert_eq(total.tf_loss, agg.tf_loss);
	cr_assert(fabs(total.ef_loss) <= 1e-9);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}
