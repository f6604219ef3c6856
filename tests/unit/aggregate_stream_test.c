/* SPDX-License-Identifier: MIT */
/* Unit tests of the streaming side of lib/engine/aggregate.h: gf_aggregate_stream,
 * gf_aggregate_disaggregate_chunk and gf_aggregate_loss_acc give, bit for bit,
 * what gf_aggregate_build, gf_aggregate_disaggregate_all and gf_aggregate_losses
 * give over all offers at once, whatever the chunk size. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate.h"

#include "agg_gen.h"
#include "leak_check.h"

TestSuite(aggregate_stream, .fini = leak_check);

/* Offers first .. first + m - 1 of set into chunk (emptied first). */
static void slice_into(const struct gf_fo_set *set, size_t first, size_t m, struct gf_fo_set *chunk)
{
	gf_fo_set_clear(chunk);
	for (size_t i = first; i < first + m; i++) {
		struct gf_fo fo;
		struct gf_fo_deadlines dl = {set->acceptance_before[i], set->assignment_before[i]};
		cr_assert_eq(gf_fo_set_get(set, i, &fo), GF_OK);
		cr_assert_eq(gf_fo_set_add_with_deadlines(chunk, &fo, &dl), GF_OK);
	}
}

/* Bitwise equality of two aggregations (NaN totals compared as such). */
static void assert_same(const struct gf_aggregate *a, const struct gf_aggregate *b, size_t offers)
{
	cr_assert_eq(a->count, b->count);
	cr_assert_eq(a->slice_count, b->slice_count);
	cr_assert_eq(a->tf_loss, b->tf_loss);
	cr_assert_eq(a->largest, b->largest);
	size_t nc = a->count;
	cr_assert_eq(memcmp(a->start_after, b->start_after, nc * sizeof(int32_t)), 0);
	cr_assert_eq(memcmp(a->tf, b->tf, nc * sizeof(int32_t)), 0);
	cr_assert_eq(memcmp(a->n, b->n, nc * sizeof(int32_t)), 0);
	cr_assert_eq(memcmp(a->slice_off, b->slice_off, nc * sizeof(size_t)), 0);
	cr_assert_eq(memcmp(a->member_off, b->member_off, (nc + 1) * sizeof(size_t)), 0);
	cr_assert_eq(memcmp(a->members, b->members, offers * sizeof(uint32_t)), 0);
	cr_assert_eq(memcmp(a->group_of, b->group_of, offers * sizeof(uint32_t)), 0);
	cr_assert_eq(memcmp(a->acceptance_before, b->acceptance_before, nc * sizeof(int32_t)), 0);
	cr_assert_eq(memcmp(a->assignment_before, b->assignment_before, nc * sizeof(int32_t)), 0);
	cr_assert_eq(memcmp(a->total_members, b->total_members, nc * sizeof(uint32_t)), 0);
	cr_assert_eq(memcmp(a->total_min, b->total_min, nc * sizeof(double)), 0);
	cr_assert_eq(memcmp(a->total_max, b->total_max, nc * sizeof(double)), 0);
	size_t ns = a->slice_count * sizeof(double);
	cr_assert_eq(memcmp(a->lower, b->lower, ns), 0);
	cr_assert_eq(memcmp(a->upper, b->upper, ns), 0);
	cr_assert_eq(memcmp(a->dflt, b->dflt, ns), 0);
	cr_assert_null(b->offset);
}

static void stream_build(const struct gf_fo_set *set, const struct gf_aggregate_config *cfg,
                         size_t chunk_size, struct gf_aggregate *out)
{
	struct gf_aggregate_stream *st = NULL;
	struct gf_fo_set chunk;
	cr_assert_eq(gf_fo_set_init(&chunk, chunk_size, 8 * chunk_size), GF_OK);
	cr_assert_eq(gf_aggregate_stream_new(cfg, chunk_size == 1 ? 0 : set->count, &st), GF_OK);
	for (size_t first = 0; first < set->count; first += chunk_size) {
		size_t m = set->count - first < chunk_size ? set->count - first : chunk_size;
		slice_into(set, first, m, &chunk);
		cr_assert_eq(gf_aggregate_stream_add(st, &chunk), GF_OK);
		cr_assert_eq(gf_aggregate_stream_count(st), first + m);
	}
	cr_assert_eq(gf_aggregate_stream_finish(st, out), GF_OK);
	/* Finished: no more offers. */
	cr_assert_neq(gf_aggregate_stream_add(st, &chunk), GF_OK);
	gf_aggregate_stream_free(st);
	gf_fo_set_free(&chunk);
}

/* Mixed offers (production, totals, deadlines; members starting before
 * the profile so far), several configurations and chunk sizes. */
Test(aggregate_stream, equals_build_bit_for_bit)
{
	struct gf_fo_set set;
	const struct agg_gen g = {0.3, 0.3};
	struct gf_aggregate_config cfgs[3] = {
	    GF_AGGREGATE_FMAN,
	    {.start_after_tolerance = 10, .tf_tolerance = 3},
	    {.start_after_tolerance = 20, .tf_tolerance = 2, .max_members = 7, .max_energy = 20.0},
	};
	const size_t chunks[4] = {1, 7, 333, 3000};

	cr_assert_eq(gf_fo_set_init(&set, 3000, 15000), GF_OK);
	agg_gen_fill(&set, 3000, 77, &g);
	for (size_t c = 0; c < 3; c++) {
		struct gf_aggregate whole;
		cr_assert_eq(gf_aggregate_build(&set, &cfgs[c], &whole), GF_OK);
		for (size_t k = 0; k < 4; k++) {
			struct gf_aggregate st;
			stream_build(&set, &cfgs[c], chunks[k], &st);
			assert_same(&whole, &st, set.count);
			gf_aggregate_free(&st);
		}
		gf_aggregate_free(&whole);
	}
	gf_fo_set_free(&set);
}

/* The issue-4 workload drawn in pieces is the workload drawn at once;
 * streamed, its aggregates, mid-range disaggregation and losses are those
 * of the held set. */
Test(aggregate_stream, workload_disaggregation_and_losses)
{
	const size_t count = 20000, cs = 1500;
	struct gf_fo_set set, chunk;
	struct gf_fo_workload_sums sums;
	struct gf_fo_workload w;
	struct gf_aggregate whole, st;
	struct gf_aggregate_stream *s = NULL;
	struct gf_aggregate_loss_acc *acc = NULL;
	struct gf_aggregate_loss lw, ls;

	cr_assert_eq(gf_fo_set_init(&set, count, 8 * count), GF_OK);
	cr_assert_eq(gf_fo_workload_generate(&set, count, 1234, &sums), GF_OK);
	cr_assert_eq(gf_fo_set_init(&chunk, cs, 8 * cs), GF_OK);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &whole), GF_OK);
	cr_assert_eq(gf_aggregate_stream_new(&GF_AGGREGATE_FMAN, 0, &s), GF_OK);
	gf_fo_workload_init(&w, 1234);
	while (w.drawn < count) {
		size_t first = w.drawn, m = count - first < cs ? count - first : cs;
		gf_fo_set_clear(&chunk);
		cr_assert_eq(gf_fo_workload_next(&w, &chunk, m), GF_OK);
		cr_assert_eq(memcmp(chunk.lower, set.lower + set.slice_off[first],
		                    chunk.slice_count * sizeof(double)),
		             0);
		cr_assert_eq(gf_aggregate_stream_add(s, &chunk), GF_OK);
	}
	cr_assert_eq(w.sums.sum_start_after, sums.sum_start_after);
	cr_assert_eq(w.sums.sum_slices, sums.sum_slices);
	cr_assert_eq(gf_aggregate_stream_finish(s, &st), GF_OK);
	gf_aggregate_stream_free(s);
	assert_same(&whole, &st, count);

	/* Disaggregation: chunk by chunk equals all at once. */
	int32_t *agg_start = malloc(st.count * sizeof *agg_start);
	double *x = malloc(st.slice_count * sizeof *x), *p = malloc(st.slice_count * sizeof *p);
	int32_t *s_all = malloc(count * sizeof *s_all), *s_chunk = malloc(cs * sizeof *s_chunk);
	double *a_all = malloc(set.slice_count * sizeof *a_all),
	       *a_chunk = malloc(8 * cs * sizeof *a_chunk);
	cr_assert(agg_start && x && p && s_all && s_chunk && a_all && a_chunk);
	for (size_t a = 0; a < st.count; a++)
		agg_start[a] = st.start_after[a] + st.tf[a] / 2;
	for (size_t k = 0; k < st.slice_count; k++)
		x[k] = st.lower[k] + 0.3 * (st.upper[k] - st.lower[k]);
	cr_assert_eq(gf_aggregate_disaggregate_all(&whole, &set, agg_start, x, p, s_all, a_all),
	             GF_OK);
	cr_assert_eq(gf_aggregate_positions(&st, agg_start, x, p), GF_OK);
	cr_assert_eq(gf_aggregate_loss_acc_new(&st, &acc), GF_OK);
	gf_fo_workload_init(&w, 1234);
	while (w.drawn < count) {
		size_t first = w.drawn, m = count - first < cs ? count - first : cs;
		gf_fo_set_clear(&chunk);
		cr_assert_eq(gf_fo_workload_next(&w, &chunk, m), GF_OK);
		cr_assert_eq(gf_aggregate_disaggregate_chunk(&st, &chunk, first, agg_start, p,
		                                             s_chunk, a_chunk),
		             GF_OK);
		cr_assert_eq(memcmp(s_chunk, s_all + first, m * sizeof *s_chunk), 0);
		cr_assert_eq(memcmp(a_chunk, a_all + set.slice_off[first],
		                    chunk.slice_count * sizeof *a_chunk),
		             0);
		if (first == 0) /* finish before every offer was added */
			cr_assert_eq(gf_aggregate_loss_acc_finish(acc, NULL, &ls), GF_ERANGE);
		cr_assert_eq(gf_aggregate_loss_acc_add(acc, &chunk), GF_OK);
	}
	/* Past the aggregated offers. */
	cr_assert_eq(gf_aggregate_loss_acc_add(acc, &chunk), GF_ERANGE);
	cr_assert_eq(
	    gf_aggregate_disaggregate_chunk(&st, &chunk, count - 1, agg_start, p, s_chunk, a_chunk),
	    GF_ERANGE);
	struct gf_aggregate_loss *pw = malloc(st.count * sizeof *pw),
	                         *ps = malloc(st.count * sizeof *ps);
	cr_assert(pw && ps);
	cr_assert_eq(gf_aggregate_losses(&whole, &set, pw, &lw), GF_OK);
	cr_assert_eq(gf_aggregate_loss_acc_finish(acc, ps, &ls), GF_OK);
	cr_assert_eq(memcmp(&lw, &ls, sizeof lw), 0);
	cr_assert_eq(memcmp(pw, ps, st.count * sizeof *pw), 0);
	cr_assert_gt(ls.peak_high_loss, 0.0);
	/* A schedule outside the bounds is refused, p untouched. */
	double keep = p[0];
	x[0] = st.upper[0] + 1.0;
	cr_assert_eq(gf_aggregate_positions(&st, agg_start, x, p), GF_EINVAL);
	cr_assert_eq(p[0], keep);
	gf_aggregate_loss_acc_free(acc);
	free(pw);
	free(ps);
	free(agg_start);
	free(x);
	free(p);
	free(s_all);
	free(s_chunk);
	free(a_all);
	free(a_chunk);
	gf_aggregate_free(&whole);
	gf_aggregate_free(&st);
	gf_fo_set_free(&chunk);
	gf_fo_set_free(&set);
}

/* Members with total-energy bounds need the whole aggregate: refused. */
Test(aggregate_stream, chunk_refuses_members_with_totals)
{
	struct gf_fo_set set;
	struct gf_aggregate agg;
	const struct agg_gen g = {0.0, 1.0};

	cr_assert_eq(gf_fo_set_init(&set, 50, 250), GF_OK);
	agg_gen_fill(&set, 50, 5, &g);
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	int32_t *agg_start = calloc(agg.count, sizeof *agg_start);
	double *p = calloc(agg.slice_count, sizeof *p), *amounts = calloc(250, sizeof *amounts);
	int32_t start[50];
	cr_assert(agg_start && p && amounts);
	cr_assert_eq(gf_aggregate_disaggregate_chunk(&agg, &set, 0, agg_start, p, start, amounts),
	             GF_EINVAL);
	free(agg_start);
	free(p);
	free(amounts);
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

Test(aggregate_stream, bad_arguments)
{
	struct gf_aggregate_stream *s = NULL;
	struct gf_aggregate agg;
	struct gf_aggregate_config bal = GF_AGGREGATE_FMAN;
	const struct gf_aggregate_config neg = {.start_after_tolerance = -1};

	bal.balance = 1;
	cr_assert_eq(gf_aggregate_stream_new(&bal, 0, &s), GF_EINVAL);
	cr_assert_eq(gf_aggregate_stream_new(&neg, 0, &s), GF_EINVAL);
	cr_assert_null(s);
	cr_assert_eq(gf_aggregate_stream_new(&GF_AGGREGATE_FMAN, 0, &s), GF_OK);
	cr_assert_eq(gf_aggregate_stream_add(s, NULL), GF_EINVAL);
	cr_assert_eq(gf_aggregate_stream_finish(s, &agg), GF_EINVAL); /* no offer */
	gf_aggregate_stream_free(s);
	gf_aggregate_stream_free(NULL);
	gf_aggregate_loss_acc_free(NULL);
}
