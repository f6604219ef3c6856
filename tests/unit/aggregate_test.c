/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/aggregate.h: grid grouping, start alignment, the GOFLEX
 * reference figures of issue 4, disaggregation. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>

#include "engine/aggregate.h"

#include "agg_gen.h"
#include "leak_check.h"

TestSuite(aggregate, .fini = leak_check);

static void add(struct gf_fo_set *set, int32_t sa, int32_t tf, int32_t n, const double *lo,
                const double *hi)
{
	struct gf_fo fo = {sa, tf, n, lo, hi, NULL, NAN, NAN, NAN, NAN};
	cr_assert_eq(gf_fo_set_add(set, &fo), GF_OK);
}

/* Index of the aggregate with this start and tf, or count. */
static size_t find(const struct gf_aggregate *agg, int32_t sa, int32_t tf)
{
	size_t a;
	for (a = 0; a < agg->count; a++)
		if (agg->start_after[a] == sa && agg->tf[a] == tf)
			break;
	return a;
}

Test(aggregate, hand_example_start_alignment)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const double one[2] = {1.0, 1.0}, two[2] = {2.0, 2.0}, four[1] = {4.0};
	const double plo[1] = {-2.0}, phi[1] = {-1.0};

	cr_assert_eq(gf_fo_set_init(&set, 8, 32), GF_OK);
	add(&set, 0, 2, 2, one, two);  /* A: origin, cell 0 */
	add(&set, 3, 2, 1, one, four); /* B: same cell and tf as A */
	add(&set, 20, 2, 1, one, two); /* C: next cell (width 20) */
	add(&set, 5, 3, 1, one, two);  /* D: other tf */
	add(&set, 2, 2, 1, plo, phi);  /* E: production */
	add(&set, 19, 2, 1, one, two); /* F: still cell 0 */
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	cr_assert_eq(agg.count, 4);
	size_t a = find(&agg, 0, 2);
	cr_assert_lt(a, agg.count);
	cr_assert_eq(agg.n[a], 20);
	cr_assert_eq(agg.member_off[a + 1] - agg.member_off[a], 3);
	const double *lo = agg.lower + agg.slice_off[a], *hi = agg.upper + agg.slice_off[a];
	cr_assert_eq(lo[0], 1.0);
	cr_assert_eq(hi[1], 2.0);
	cr_assert_eq(lo[2], 0.0);
	cr_assert_eq(lo[3], 1.0);
	cr_assert_eq(hi[3], 4.0);
	cr_assert_eq(hi[19], 2.0);
	cr_assert_eq(agg.dflt[agg.slice_off[a] + 3], 2.5);
	cr_assert(isnan(agg.total_min[a]));
	cr_assert_lt(find(&agg, 20, 2), agg.count);
	cr_assert_lt(find(&agg, 5, 3), agg.count);
	size_t e = find(&agg, 2, 2);
	cr_assert_lt(e, agg.count);
	cr_assert_eq(agg.lower[agg.slice_off[e]], -2.0);
	cr_assert_eq(agg.largest, 3);
	cr_assert_eq(agg.tf_loss, 0);
	gf_aggregate_free(&agg);
	gf_aggregate_free(&agg);
	gf_aggregate_free(NULL);
	gf_fo_set_free(&set);
}

Test(aggregate, tf_tolerance_min_and_loss)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const struct gf_aggregate_config cfg = {.start_after_tolerance = 4, .tf_tolerance = 4};
	const double lo[1] = {0.0}, hi[1] = {1.0};

	cr_assert_eq(gf_fo_set_init(&set, 4, 4), GF_OK);
	add(&set, 10, 1, 1, lo, hi);
	add(&set, 8, 4, 1, lo, hi); /* sa cell -1: floor, not truncation */
	add(&set, 12, 4, 1, lo, hi);
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	cr_assert_eq(agg.count, 2);
	size_t a = find(&agg, 10, 1);
	cr_assert_lt(a, agg.count);
	cr_assert_eq(agg.n[a], 3);
	cr_assert_eq(agg.tf_loss, 3);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

Test(aggregate, bad_arguments)
{
	struct gf_fo_set set;
	struct gf_aggregate agg = {0};
	const struct gf_aggregate_config neg = {.start_after_tolerance = -1};
	const double lo[1] = {0.0}, hi[1] = {1.0};

	cr_assert_eq(gf_fo_set_init(&set, 1, 1), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_EINVAL);
	add(&set, 0, 0, 1, lo, hi);
	cr_assert_eq(gf_aggregate_build(&set, &neg, &agg), GF_EINVAL);
	cr_assert_null(agg.lower);
	gf_fo_set_free(&set);
}

Test(aggregate, issue4_reference_figures, .timeout = 120)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;

	cr_assert_eq(gf_fo_set_init(&set, 1000000, 8000000), GF_OK);
	cr_assert_eq(gf_fo_workload_generate(&set, 1000000, 1234, NULL), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	cr_assert_eq(agg.count, 85);
	cr_assert_eq(agg.slice_count, 2227);
	cr_assert_eq(agg.tf_loss, 0);
	cr_assert_eq(agg.largest, 12469);
	cr_assert_eq(agg.member_off[agg.count], 1000000);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

Test(aggregate, member_order_does_not_change_aggregates)
{
	struct gf_fo_set set, rev;
	struct gf_aggregate a1, a2;
	struct gf_fo fo;
	const size_t count = 10000;

	cr_assert_eq(gf_fo_set_init(&set, count, 8 * count), GF_OK);
	cr_assert_eq(gf_fo_set_init(&rev, count, 8 * count), GF_OK);
	cr_assert_eq(gf_fo_workload_generate(&set, count, 99, NULL), GF_OK);
	/* Keep the first offer first: it fixes the grid origin. */
	cr_assert_eq(gf_fo_set_get(&set, 0, &fo), GF_OK);
	cr_assert_eq(gf_fo_set_add(&rev, &fo), GF_OK);
	for (size_t i = count - 1; i > 0; i--) {
		cr_assert_eq(gf_fo_set_get(&set, i, &fo), GF_OK);
		cr_assert_eq(gf_fo_set_add(&rev, &fo), GF_OK);
	}
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &a1), GF_OK);
	cr_assert_eq(gf_aggregate_build(&rev, &GF_AGGREGATE_FMAN, &a2), GF_OK);
	cr_assert_eq(a1.count, a2.count);
	cr_assert_eq(a1.slice_count, a2.slice_count);
	for (size_t a = 0; a < a1.count; a++) {
		size_t b = find(&a2, a1.start_after[a], a1.tf[a]);
		cr_assert_lt(b, a2.count);
		cr_assert_eq(a1.n[a], a2.n[b]);
		cr_assert_eq(a1.member_off[a + 1] - a1.member_off[a],
		             a2.member_off[b + 1] - a2.member_off[b]);
		for (int32_t k = 0; k < a1.n[a]; k++) {
			cr_assert_float_eq(a1.lower[a1.slice_off[a] + (size_t)k],
			                   a2.lower[a2.slice_off[b] + (size_t)k], 1e-9);
			cr_assert_float_eq(a1.upper[a1.slice_off[a] + (size_t)k],
			                   a2.upper[a2.slice_off[b] + (size_t)k], 1e-9);
		}
	}
	gf_aggregate_free(&a1);
	gf_aggregate_free(&a2);
	gf_fo_set_free(&set);
	gf_fo_set_free(&rev);
}

Test(aggregate, disaggregation_feasible_and_conserving)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const size_t count = 10000;
	int32_t *start = calloc(count, sizeof *start);
	double *amounts = NULL, *x = NULL, *sum = NULL;

	cr_assert_eq(gf_fo_set_init(&set, count, 8 * count), GF_OK);
	cr_assert_eq(gf_fo_workload_generate(&set, count, 1234, NULL), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	amounts = calloc(set.slice_count, sizeof *amounts);
	x = calloc(agg.slice_count, sizeof *x);
	sum = calloc(agg.slice_count, sizeof *sum);
	cr_assert(start && amounts && x && sum);
	for (size_t a = 0; a < agg.count; a++) {
		const double *lo = agg.lower + agg.slice_off[a], *hi = agg.upper + agg.slice_off[a];
		double *xa = x + agg.slice_off[a], *sa = sum + agg.slice_off[a];
		int32_t shift = agg.tf[a] / 2;
		for (int32_t k = 0; k < agg.n[a]; k++)
			xa[k] =
			    k % 5 == 4 ? hi[k] : lo[k] + (hi[k] - lo[k]) * (double)(k % 5) / 4.0;
		cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, a, agg.start_after[a] + shift,
		                                       xa, start, amounts),
		             GF_OK);
		for (size_t m = agg.member_off[a]; m < agg.member_off[a + 1]; m++) {
			uint32_t i = agg.members[m];
			cr_assert_eq(start[i], set.start_after[i] + shift);
			int32_t rel = set.start_after[i] - agg.start_after[a];
			for (int32_t k = 0; k < set.n[i]; k++) {
				size_t s = set.slice_off[i] + (size_t)k;
				cr_assert(amounts[s] >= set.lower[s] && amounts[s] <= set.upper[s]);
				sa[rel + k] += amounts[s];
			}
		}
		for (int32_t k = 0; k < agg.n[a]; k++)
			cr_assert_float_eq(sa[k], xa[k], 1e-9, "aggregate %zu slice %d", a, k);
	}
	/* Errors leave the outputs alone. */
	double keep = amounts[0];
	x[agg.slice_off[0]] = agg.upper[agg.slice_off[0]] + 1.0;
	cr_assert_eq(
	    gf_aggregate_disaggregate(&agg, &set, 0, agg.start_after[0], x, start, amounts),
	    GF_EINVAL);
	cr_assert_eq(
	    gf_aggregate_disaggregate(&agg, &set, 0, agg.start_after[0] - 1, x, start, amounts),
	    GF_ERANGE);
	cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, agg.count, 0, x, start, amounts),
	             GF_ERANGE);
	cr_assert_eq(amounts[0], keep);
	free(sum);
	free(x);
	free(amounts);
	free(start);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

Test(aggregate, disaggregate_all_matches_per_aggregate)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const size_t count = 5000;

	cr_assert_eq(gf_fo_set_init(&set, count, 8 * count), GF_OK);
	cr_assert_eq(gf_fo_workload_generate(&set, count, 7, NULL), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	int32_t *s1 = calloc(count, sizeof *s1), *s2 = calloc(count, sizeof *s2);
	int32_t *agg_start = calloc(agg.count, sizeof *agg_start);
	double *a1 = calloc(set.slice_count, sizeof *a1), *a2 = calloc(set.slice_count, sizeof *a2);
	double *x = calloc(agg.slice_count, sizeof *x);
	double *scratch = calloc(agg.slice_count, sizeof *scratch);
	cr_assert(s1 && s2 && agg_start && a1 && a2 && x && scratch);
	for (size_t s = 0; s < agg.slice_count; s++)
		x[s] = agg.lower[s] + 0.3 * (agg.upper[s] - agg.lower[s]);
	for (size_t a = 0; a < agg.count; a++) {
		agg_start[a] = agg.start_after[a] + agg.tf[a];
		cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, a, agg_start[a],
		                                       x + agg.slice_off[a], s1, a1),
		             GF_OK);
	}
	cr_assert_eq(gf_aggregate_disaggregate_all(&agg, &set, agg_start, x, scratch, s2, a2),
	             GF_OK);
	for (size_t i = 0; i < count; i++)
		cr_assert_eq(s1[i], s2[i]);
	for (size_t s = 0; s < set.slice_count; s++)
		cr_assert_float_eq(a1[s], a2[s], 1e-12);
	/* A start beyond the window is refused before anything is written. */
	agg_start[0] = agg.start_after[0] + agg.tf[0] + 1;
	s2[0] = -7;
	cr_assert_eq(gf_aggregate_disaggregate_all(&agg, &set, agg_start, x, scratch, s2, a2),
	             GF_ERANGE);
	cr_assert_eq(s2[0], -7);
	free(scratch);
	free(x);
	free(a2);
	free(a1);
	free(agg_start);
	free(s2);
	free(s1);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/* Deadlines, tf and start of every aggregate from its members: the min. */
Test(aggregate, deadlines_are_the_members_min)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const struct agg_gen g = {0.3, 0.0};
	const struct gf_aggregate_config cfg = {.start_after_tolerance = 10, .tf_tolerance = 3};
	size_t seen_deadline = 0;

	cr_assert_eq(gf_fo_set_init(&set, 500, 2500), GF_OK);
	agg_gen_fill(&set, 500, 41, &g);
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	for (size_t a = 0; a < agg.count; a++) {
		int32_t acc = GF_FO_NO_DEADLINE, asg = GF_FO_NO_DEADLINE;
		for (size_t m = agg.member_off[a]; m < agg.member_off[a + 1]; m++) {
			uint32_t i = agg.members[m];
			acc = set.acceptance_before[i] < acc ? set.acceptance_before[i] : acc;
			asg = set.assignment_before[i] < asg ? set.assignment_before[i] : asg;
		}
		cr_assert_eq(agg.acceptance_before[a], acc, "aggregate %zu", a);
		cr_assert_eq(agg.assignment_before[a], asg, "aggregate %zu", a);
		seen_deadline += acc < GF_FO_NO_DEADLINE;
	}
	cr_assert_gt(seen_deadline, agg.count / 2);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/* Weight bounds: every aggregate within them, split by next fit in input
 * order, and without bounds the same cells hold the same offers. */
Test(aggregate, weight_bounds_split_cells_next_fit)
{
	struct gf_fo_set set;
	struct gf_aggregate whole, cut;
	const struct agg_gen g = {0.3, 0.0};
	struct gf_aggregate_config cfg = {.start_after_tolerance = 20, .tf_tolerance = 2};

	cr_assert_eq(gf_fo_set_init(&set, 2000, 10000), GF_OK);
	agg_gen_fill(&set, 2000, 43, &g);
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &whole), GF_OK);
	cfg.max_members = 7;
	cfg.max_energy = 20.0;
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &cut), GF_OK);
	cr_assert_gt(cut.count, 2 * whole.count);
	cr_assert_eq(cut.member_off[cut.count], set.count);
	size_t by_members = 0, by_energy = 0;
	for (size_t a = 0; a < cut.count; a++) {
		size_t members = cut.member_off[a + 1] - cut.member_off[a];
		double w = 0.0, last = 0.0;
		uint32_t prev = 0;
		for (size_t m = cut.member_off[a]; m < cut.member_off[a + 1]; m++) {
			uint32_t i = cut.members[m];
			last = 0.0;
			for (int32_t k = 0; k < set.n[i]; k++)
				last += fabs(set.dflt[set.slice_off[i] + (size_t)k]);
			w += last;
			/* Same cell as without bounds; input order inside. */
			cr_assert_eq(whole.group_of[i],
			             whole.group_of[cut.members[cut.member_off[a]]]);
			cr_assert(m == cut.member_off[a] || i > prev);
			prev = i;
		}
		cr_assert_leq(members, 7);
		cr_assert(members == 1 || w <= 20.0 + 1e-12, "aggregate %zu weight %g", a, w);
		by_members += members == 7;
		by_energy += w > 15.0;
	}
	cr_assert_gt(by_members, 0);
	cr_assert_gt(by_energy, 0);
	cfg.max_energy = -1.0;
	struct gf_aggregate bad = {0};
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &bad), GF_EINVAL);
	gf_aggregate_free(&cut);
	gf_aggregate_free(&whole);
	gf_fo_set_free(&set);
}

/* A hand example of next fit: weights 2, 2, 3, 1 under max_energy 4 give
 * {2, 2}, {3, 1}; under max_members 3, {all but the last}, {last}. */
Test(aggregate, weight_bounds_hand_example)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	struct gf_aggregate_config cfg = {.start_after_tolerance = 20, .max_energy = 4.0};
	const double w2[1] = {2.0}, w3[1] = {3.0}, w1[1] = {1.0};

	cr_assert_eq(gf_fo_set_init(&set, 4, 4), GF_OK);
	add(&set, 0, 0, 1, w2, w2);
	add(&set, 1, 0, 1, w2, w2);
	add(&set, 2, 0, 1, w3, w3);
	add(&set, 3, 0, 1, w1, w1);
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	cr_assert_eq(agg.count, 2);
	cr_assert_eq(agg.group_of[0], agg.group_of[1]);
	cr_assert_eq(agg.group_of[2], agg.group_of[3]);
	cr_assert_neq(agg.group_of[1], agg.group_of[2]);
	cr_assert_eq(agg.start_after[agg.group_of[2]], 2);
	gf_aggregate_free(&agg);
	cfg.max_energy = 0.0;
	cfg.max_members = 3;
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &agg), GF_OK);
	cr_assert_eq(agg.count, 2);
	cr_assert_eq(agg.largest, 3);
	cr_assert_eq(agg.group_of[0], agg.group_of[2]);
	cr_assert_neq(agg.group_of[2], agg.group_of[3]);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

/* Member order within a group does not matter: over a random permutation
 * of generated offers (totals, deadlines, production), with the grid origin
 * fixed, every aggregate has the same members, header and profile. */
Test(aggregate, permutation_invariance_all_fields)
{
	const struct agg_gen g = {0.3, 0.4};
	const struct gf_aggregate_config cfg = {
	    .start_after_tolerance = 7, .tf_tolerance = 2, .fixed_origin = 1};
	const size_t count = 3000;
	struct gf_fo_set set, perm;
	struct gf_aggregate a1, a2;
	struct gf_javarand r;
	size_t *order = malloc(count * sizeof *order), *where = malloc(count * sizeof *where);

	cr_assert(order && where);
	cr_assert_eq(gf_fo_set_init(&set, count, 5 * count), GF_OK);
	cr_assert_eq(gf_fo_set_init(&perm, count, 5 * count), GF_OK);
	agg_gen_fill(&set, count, 21, &g);
	gf_javarand_init(&r, 22);
	for (size_t i = 0; i < count; i++)
		order[i] = i;
	for (size_t i = count - 1; i > 0; i--) {
		size_t j = (size_t)agg_gen_int(&r, (int32_t)i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t p = 0; p < count; p++) {
		struct gf_fo fo;
		const struct gf_fo_deadlines dl = {set.acceptance_before[order[p]],
		                                   set.assignment_before[order[p]]};
		cr_assert_eq(gf_fo_set_get(&set, order[p], &fo), GF_OK);
		cr_assert_eq(gf_fo_set_add_with_deadlines(&perm, &fo, &dl), GF_OK);
		where[order[p]] = p;
	}
	cr_assert_eq(gf_aggregate_build(&set, &cfg, &a1), GF_OK);
	cr_assert_eq(gf_aggregate_build(&perm, &cfg, &a2), GF_OK);
	cr_assert_eq(a1.count, a2.count);
	cr_assert_eq(a1.tf_loss, a2.tf_loss);
	for (size_t a = 0; a < a1.count; a++) {
		uint32_t b = a2.group_of[where[a1.members[a1.member_off[a]]]];
		cr_assert_eq(a1.member_off[a + 1] - a1.member_off[a],
		             a2.member_off[b + 1] - a2.member_off[b]);
		for (size_t m = a1.member_off[a]; m < a1.member_off[a + 1]; m++)
			cr_assert_eq(a2.group_of[where[a1.members[m]]], b);
		cr_assert_eq(a1.start_after[a], a2.start_after[b]);
		cr_assert_eq(a1.tf[a], a2.tf[b]);
		cr_assert_eq(a1.n[a], a2.n[b]);
		cr_assert_eq(a1.acceptance_before[a], a2.acceptance_before[b]);
		cr_assert_eq(a1.assignment_before[a], a2.assignment_before[b]);
		cr_assert_eq(a1.total_members[a], a2.total_members[b]);
		cr_assert(isnan(a1.total_min[a]) == isnan(a2.total_min[b]));
		if (!isnan(a1.total_min[a]))
			cr_assert_float_eq(a1.total_min[a], a2.total_min[b], 1e-9);
		for (int32_t k = 0; k < a1.n[a]; k++) {
			size_t s1 = a1.slice_off[a] + (size_t)k, s2 = a2.slice_off[b] + (size_t)k;
			cr_assert_float_eq(a1.lower[s1], a2.lower[s2], 1e-9);
			cr_assert_float_eq(a1.upper[s1], a2.upper[s2], 1e-9);
			cr_assert_float_eq(a1.dflt[s1], a2.dflt[s2], 1e-9);
		}
	}
	gf_aggregate_free(&a2);
	gf_aggregate_free(&a1);
	gf_fo_set_free(&perm);
	gf_fo_set_free(&set);
	free(where);
	free(order);
}
