/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/fo.h: the FlexOffer set, the issue-4 workload, measures. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>

#include "engine/fo.h"

#include "leak_check.h"

TestSuite(fo, .fini = leak_check);

static const double lower2[2] = {1.0, 0.0};
static const double upper2[2] = {3.0, 1.0};

static struct gf_fo example(void)
{
	struct gf_fo fo = {10, 2, 2, lower2, upper2, NULL, NAN, NAN, NAN, NAN};
	return fo;
}

Test(fo, add_get_roundtrip_and_default)
{
	struct gf_fo_set set;
	struct gf_fo fo = example(), got;

	cr_assert_eq(gf_fo_set_init(&set, 4, 16), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_OK);
	cr_assert_eq(gf_fo_set_get(&set, 0, &got), GF_OK);
	cr_assert_eq(got.start_after, 10);
	cr_assert_eq(got.tf, 2);
	cr_assert_eq(got.n, 2);
	cr_assert_eq(got.upper[0], 3.0);
	cr_assert_eq(got.dflt[0], 2.0);
	cr_assert_eq(got.dflt[1], 0.5);
	cr_assert(isnan(got.total_min));
	cr_assert_eq(gf_fo_set_get(&set, 1, &got), GF_ERANGE);
	gf_fo_set_free(&set);
	gf_fo_set_free(&set);
	gf_fo_set_free(NULL);
}

Test(fo, invalid_and_full_leave_set_untouched)
{
	struct gf_fo_set set;
	struct gf_fo fo = example();
	const double bad_upper[2] = {0.5, 1.0};
	const double bad_dflt[2] = {2.0, 5.0};

	cr_assert_eq(gf_fo_set_init(&set, 1, 3), GF_OK);
	fo.upper = bad_upper;
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_EINVAL);
	fo = example();
	fo.dflt = bad_dflt;
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_EINVAL);
	fo = example();
	fo.tf = -1;
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_EINVAL);
	fo = example();
	fo.n = 0;
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_EINVAL);
	fo = example();
	fo.total_min = 3.0;
	fo.total_max = 2.0;
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_EINVAL);
	cr_assert_eq(set.count, 0);
	cr_assert_eq(set.slice_count, 0);
	fo = example();
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_EFULL);
	cr_assert_eq(set.count, 1);
	cr_assert_eq(set.slice_count, 2);
	gf_fo_set_free(&set);
	cr_assert_eq(gf_fo_set_init(&set, 0, 3), GF_EINVAL);
}

Test(fo, reserve_grows_and_keeps_what_the_set_holds)
{
	struct gf_fo_set set, none = {0};
	struct gf_fo fo = example(), got;

	cr_assert_eq(gf_fo_set_init(&set, 1, 2), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_EFULL);
	cr_assert_eq(gf_fo_set_reserve(&set, 1, 1), GF_OK, "smaller: nothing changes");
	cr_assert_eq(set.cap, 1);
	cr_assert_eq(set.slice_cap, 2);
	cr_assert_eq(gf_fo_set_reserve(&set, 3, 6), GF_OK);
	cr_assert_eq(set.cap, 3);
	cr_assert_eq(set.slice_cap, 6);
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_OK);
	fo.start_after = 20;
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_EFULL, "full again at the new room");
	cr_assert_eq(set.count, 3);
	cr_assert_eq(gf_fo_set_get(&set, 0, &got), GF_OK, "the first offer is kept");
	cr_assert_eq(got.start_after, 10);
	cr_assert_eq(got.upper[0], 3.0);
	cr_assert_eq(got.dflt[1], 0.5);
	cr_assert_eq(gf_fo_set_get(&set, 2, &got), GF_OK);
	cr_assert_eq(got.start_after, 20);
	cr_assert_eq(got.lower[0], 1.0);
	cr_assert_eq(set.slice_off[2], 4);
	gf_fo_set_free(&set);
	cr_assert_eq(gf_fo_set_reserve(&none, 4, 4), GF_EINVAL, "a set never initialised");
	cr_assert_eq(gf_fo_set_reserve(NULL, 4, 4), GF_EINVAL);
}

Test(fo, measures_worked_example)
{
	struct gf_fo fo = example();
	double v[2], ts[2], count = -1.0;

	cr_assert_eq(gf_fo_time_flex(&fo), 2.0);
	cr_assert_eq(gf_fo_energy_flex(&fo), 3.0);
	cr_assert_eq(gf_fo_product_flex(&fo), 6.0);
	gf_fo_vector_flex(&fo, v);
	cr_assert_eq(v[0], 2.0);
	cr_assert_eq(v[1], 3.0);
	cr_assert_eq(gf_fo_time_series_flex(&fo, ts), 3.0);
	cr_assert_eq(ts[0], 2.0);
	cr_assert_eq(ts[1], 1.0);
	/* 3 start times x 3 amounts in slice 0 x 2 amounts in slice 1. */
	cr_assert_eq(gf_fo_assignment_flex(&fo, 1.0, &count), GF_OK);
	cr_assert_eq(count, 18.0);
	cr_assert_eq(gf_fo_assignment_flex(&fo, 0.0, &count), GF_EINVAL);
	cr_assert_eq(count, 18.0);
	/* Hand computed: widths 3, 3, 3, 1 over the span of 4 intervals. */
	cr_assert_eq(gf_fo_area_flex_abs(&fo), 10.0);
	cr_assert_eq(gf_fo_area_flex_rel(&fo), 2.5);
}

Test(fo, area_of_production_and_fixed_offer)
{
	const double l[1] = {-2.0}, u[1] = {-1.0};
	struct gf_fo fo = {0, 0, 1, l, u, NULL, NAN, NAN, NAN, NAN};

	/* No time flexibility: the area is the energy flexibility. */
	cr_assert_eq(gf_fo_area_flex_abs(&fo), 1.0);
	fo.tf = 1;
	/* Two intervals, each either [-2, -1] or idle (0): width 2 each. */
	cr_assert_eq(gf_fo_area_flex_abs(&fo), 4.0);
	cr_assert_eq(gf_fo_product_flex(&fo), 1.0);
}

Test(fo, workload_issue4_checks_at_one_million, .timeout = 60)
{
	struct gf_fo_set set;
	struct gf_fo_workload_sums sums;

	cr_assert_eq(gf_fo_set_init(&set, 1000000, 8000000), GF_OK);
	cr_assert_eq(gf_fo_workload_generate(&set, 1000000, 1234, &sums), GF_OK);
	cr_assert_eq(sums.sum_start_after, 47467699);
	cr_assert_eq(sums.sum_tf, 8010071);
	cr_assert_eq(sums.sum_slices, 5997914);
	cr_assert_eq(set.count, 1000000);
	cr_assert_eq((int64_t)set.slice_count, sums.sum_slices);
	cr_assert_eq(set.start_after[0], 20);
	for (size_t k = 0; k < set.slice_count; k += 997)
		cr_assert(set.lower[k] >= 0.0 && set.lower[k] <= set.dflt[k] &&
		          set.dflt[k] <= set.upper[k] && set.upper[k] < 3.0);
	gf_fo_set_free(&set);
}

Test(fo, workload_needs_room)
{
	struct gf_fo_set set;
	struct gf_fo_workload_sums sums = {-1, -1, -1};

	cr_assert_eq(gf_fo_set_init(&set, 10, 79), GF_OK);
	cr_assert_eq(gf_fo_workload_generate(&set, 10, 1234, &sums), GF_EFULL);
	cr_assert_eq(set.count, 0);
	cr_assert_eq(sums.sum_tf, -1);
	gf_fo_set_free(&set);
}

Test(fo, deadlines_stored_beside_the_offer)
{
	struct gf_fo_set set;
	struct gf_fo fo = example();
	const struct gf_fo_deadlines dl = {7, 9};

	cr_assert_eq(gf_fo_set_init(&set, 2, 4), GF_OK);
	cr_assert_eq(gf_fo_set_add_with_deadlines(&set, &fo, &dl), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, &fo), GF_OK);
	cr_assert_eq(set.acceptance_before[0], 7);
	cr_assert_eq(set.assignment_before[0], 9);
	cr_assert_eq(set.acceptance_before[1], GF_FO_NO_DEADLINE);
	cr_assert_eq(set.assignment_before[1], GF_FO_NO_DEADLINE);
	/* Full: the deadlines of the refused offer are not written either. */
	cr_assert_eq(gf_fo_set_add_with_deadlines(&set, &fo, &dl), GF_EFULL);
	cr_assert_eq(set.count, 2);
	gf_fo_set_free(&set);
}
