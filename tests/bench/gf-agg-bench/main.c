/* SPDX-License-Identifier: MIT */
/*
 * gf-agg-bench - the issue-4 aggregation benchmark against the GOFLEX
 * reference (AAU aggregator-core, FMAN configuration).
 *
 * Generates the java.util.Random workload, aggregates it in the FMAN
 * configuration (median of --repeat runs), disaggregates one mid-range
 * schedule per aggregate, checks the result, computes the aggregation
 * losses (untimed in the aggregation figure) and prints one JSON line.
 * By default the offers are streamed in chunks of --chunk offers
 * (gf_aggregate_stream, gf_aggregate_disaggregate_chunk,
 * gf_aggregate_loss_acc): each chunk is drawn (untimed), handed to the
 * engine (timed) and dropped, and drawn again for disaggregation and
 * losses; --chunk 0 holds every offer at once (gf_aggregate_build). Both
 * give the same aggregates bit for bit (profile_sum). Exit 0 when every check passed, 1 when one
 * failed, 2 on a usage or resource error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/aggpool.h"
#include "engine/aggregate.h"
#include "engine/fo.h"

/* Reference figures of issue 4 (1,000,000 offers, seed 1234). */
#define REF_AGGREGATE_SECONDS    2.64
#define REF_DISAGGREGATE_SECONDS 2.06
#define REF_PEAK_RSS_KB          (5.0 * 1024 * 1024)
#define REF_OFFERS               1000000
#define REF_AGGREGATES           85
#define REF_SUM_PROFILE          2227
#define REF_LARGEST              12469
#define REF_SUM_SA               47467699
#define REF_SUM_TF               8010071
#define REF_SUM_SLICES           5997914

struct options {
	size_t offers;
	int64_t seed;
	int repeat;
	int pool;
	size_t chunk; /* offers per chunk, 0 = all at once */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gf-agg-bench --offers N [--seed S] [--repeat R] [--chunk C] [--pool]\n"
	        "  --offers N   offers to generate (1 .. 100000000)\n"
	        "  --chunk C    stream the offers C at a time (default 16384): each chunk is\n"
	        "               drawn, handed to the engine and dropped; 0 = hold all offers\n"
	        "  --seed S     java.util.Random seed (default 1234)\n"
	        "  --repeat R   aggregation runs, the median is reported (default 5)\n"
	        "  --pool       also build the aggregates incrementally (lib/engine/aggpool.h),\n"
	        "               time additions, updates and removals, compare\n"
	        "  --help       this help\n"
	        "Prints one JSON line; exit 0 when every check passed, 1 when one failed.\n");
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* 0 = run, 1 = help printed, -1 = usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {{"offers", required_argument, NULL, 'n'},
	                                         {"seed", required_argument, NULL, 's'},
	                                         {"repeat", required_argument, NULL, 'r'},
	                                         {"pool", no_argument, NULL, 'p'},
	                                         {"chunk", required_argument, NULL, 'c'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	long long v = 0;
	int c;
	o->offers = 0;
	o->seed = 1234;
	o->repeat = 5;
	o->pool = 0;
	o->chunk = 16384;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_int(optarg, 1, 100000000, &v))
				return -1;
			o->offers = (size_t)v;
			break;
		case 's':
			if (parse_int(optarg, INT64_MIN, INT64_MAX, &v))
				return -1;
			o->seed = (int64_t)v;
			break;
		case 'r':
			if (parse_int(optarg, 1, 101, &v))
				return -1;
			o->repeat = (int)v;
			break;
		case 'p':
			o->pool = 1;
			break;
		case 'c':
			if (parse_int(optarg, 0, 100000000, &v))
				return -1;
			o->chunk = (size_t)v;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	return (optind != argc || o->offers == 0) ? -1 : 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Disaggregates a mid-range schedule (middle start, (L + H) / 2 in every
 * interval) of every aggregate and checks feasibility and conservation. */
static enum gf_err disaggregate_all(const struct gf_aggregate *agg, const struct gf_fo_set *set,
                                    double *seconds, int *ok)
{
	enum gf_err err = GF_ENOMEM;
	int32_t *start = malloc(set->count * sizeof *start);
	double *amounts = malloc(set->slice_count * sizeof *amounts);
	double *x = malloc(agg->slice_count * sizeof *x);
	double *sum = calloc(agg->slice_count, sizeof *sum);
	double *scratch = malloc(agg->slice_count * sizeof *scratch);
	int32_t *agg_start = malloc(agg->count * sizeof *agg_start);
	if (!start || !amounts || !x || !sum || !scratch || !agg_start)
		goto out;
	for (size_t a = 0; a < agg->count; a++)
		agg_start[a] = agg->start_after[a] + agg->tf[a] / 2;
	for (size_t s = 0; s < agg->slice_count; s++)
		x[s] = (agg->lower[s] + agg->upper[s]) / 2.0;
	/* Touch the output buffers first: their page faults are allocation,
	 * not disaggregation. */
	memset(start, 0, set->count * sizeof *start);
	memset(amounts, 0, set->slice_count * sizeof *amounts);
	double t0 = now();
	err = gf_aggregate_disaggregate_all(agg, set, agg_start, x, scratch, start, amounts);
	if (err)
		goto out;
	*seconds = now() - t0;
	*ok = 1;
	for (size_t a = 0; a < agg->count; a++) {
		for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++) {
			uint32_t i = agg->members[m];
			if (start[i] != set->start_after[i] + agg->tf[a] / 2)
				*ok = 0;
			size_t rel = (size_t)(set->start_after[i] - agg->start_after[a]);
			for (size_t k = 0; k < (size_t)set->n[i]; k++) {
				size_t s = set->slice_off[i] + k;
				if (amounts[s] < set->lower[s] || amounts[s] > set->upper[s])
					*ok = 0;
				sum[agg->slice_off[a] + rel + k] += amounts[s];
			}
		}
	}
	for (size_t s = 0; s < agg->slice_count; s++)
		if (fabs(sum[s] - x[s]) > 1e-9)
			*ok = 0;
	err = GF_OK;
out:
	free(agg_start);
	free(scratch);
	free(sum);
	free(x);
	free(amounts);
	free(start);
	return err;
}

struct pool_result {
	double add_seconds, update_us, remove_us;
	int match;
};

/* Same figures as agg: count, largest, summed profile lengths, tf loss. */
static int pool_matches(const struct gf_aggpool *pool, const struct gf_aggregate *agg)
{
	size_t largest = 0, slices = 0;
	int64_t tf_loss = 0;
	for (size_t a = 0; a < gf_aggpool_count(pool); a++) {
		struct gf_aggpool_view v;
		(void)gf_aggpool_get(pool, a, &v);
		largest = v.members > largest ? v.members : largest;
		slices += (size_t)v.n;
		tf_loss += v.tf_loss;
	}
	return gf_aggpool_count(pool) == agg->count && largest == agg->largest &&
	       slices == agg->slice_count && tf_loss == agg->tf_loss;
}

/*
 * Adds every offer to a pool (FMAN, origin fixed at the first offer's
 * values, which is what the from-scratch grid uses), compares with agg,
 * then times 1,000 updates (each offer replaced by itself) and 1,000
 * removals followed by re-additions, and compares again.
 */
static enum gf_err run_pool(const struct gf_fo_set *set, const struct gf_aggregate *agg,
                            struct pool_result *res)
{
	struct gf_aggregate_config cfg = GF_AGGREGATE_FMAN;
	struct gf_aggpool *pool = NULL;
	enum gf_err err;
	const size_t ops = set->count < 1000 ? set->count : 1000;

	cfg.fixed_origin = 1;
	cfg.start_after_origin = set->start_after[0];
	cfg.tf_origin = set->tf[0];
	if ((err = gf_aggpool_new(&cfg, &pool)))
		return err;
	double t0 = now();
	for (size_t i = 0; i < set->count && !err; i++) {
		struct gf_fo fo;
		(void)gf_fo_set_get(set, i, &fo);
		err = gf_aggpool_add(pool, i, &fo, NULL);
	}
	res->add_seconds = now() - t0;
	res->match = !err && pool_matches(pool, agg);
	/* Every (count / ops)-th offer, so that all aggregates are touched. */
	t0 = now();
	for (size_t j = 0; j < ops && !err; j++) {
		struct gf_fo fo;
		size_t i = j * (set->count / ops);
		(void)gf_fo_set_get(set, i, &fo);
		err = gf_aggpool_update(pool, i, &fo, NULL);
	}
	res->update_us = (now() - t0) * 1e6 / (double)ops;
	t0 = now();
	for (size_t j = 0; j < ops && !err; j++)
		err = gf_aggpool_remove(pool, j * (set->count / ops));
	res->remove_us = (now() - t0) * 1e6 / (double)ops;
	for (size_t j = 0; j < ops && !err; j++) {
		struct gf_fo fo;
		size_t i = j * (set->count / ops);
		(void)gf_fo_set_get(set, i, &fo);
		err = gf_aggpool_add(pool, i, &fo, NULL);
	}
	res->match = res->match && !err && pool_matches(pool, agg);
	gf_aggpool_free(pool);
	return err;
}

/* What one mode (streamed or held) measured. */
struct result {
	struct gf_aggregate agg;
	struct gf_fo_workload_sums sums;
	struct gf_aggregate_loss loss;
	double agg_seconds, disagg_seconds, loss_seconds;
	int disagg_ok;
	size_t held; /* offers in memory at once */
};

/* Draws the next min(chunk cap, left) offers of w into chunk. */
static size_t next_chunk(struct gf_fo_workload *w, struct gf_fo_set *chunk, size_t offers)
{
	size_t m = offers - w->drawn < chunk->cap ? offers - w->drawn : chunk->cap;
	gf_fo_set_clear(chunk);
	(void)gf_fo_workload_next(w, chunk, m); /* chunk has room for cap offers */
	return m;
}

static enum gf_err stream_aggregate(const struct options *o, struct gf_fo_set *chunk,
                                    struct result *r)
{
	struct gf_aggregate_stream *st = NULL;
	struct gf_fo_workload w;
	enum gf_err err = gf_aggregate_stream_new(&GF_AGGREGATE_FMAN, o->offers, &st);
	double t = 0.0;
	gf_fo_workload_init(&w, o->seed);
	while (!err && w.drawn < o->offers) {
		next_chunk(&w, chunk, o->offers);
		double t0 = now();
		err = gf_aggregate_stream_add(st, chunk);
		t += now() - t0;
	}
	double t0 = now();
	if (!err)
		err = gf_aggregate_stream_finish(st, &r->agg);
	r->agg_seconds = t + (now() - t0);
	r->sums = w.sums;
	gf_aggregate_stream_free(st);
	return err;
}

/* The mid-range schedule of disaggregate_all, the offers drawn again chunk
 * by chunk; the same checks. */
static enum gf_err stream_disaggregate(const struct options *o, struct gf_fo_set *chunk,
                                       struct result *r)
{
	const struct gf_aggregate *agg = &r->agg;
	enum gf_err err = GF_ENOMEM;
	int32_t *start = malloc(chunk->cap * sizeof *start);
	double *amounts = malloc(chunk->slice_cap * sizeof *amounts);
	double *x = malloc(agg->slice_count * sizeof *x);
	double *p = malloc(agg->slice_count * sizeof *p);
	double *sum = calloc(agg->slice_count, sizeof *sum);
	int32_t *agg_start = malloc(agg->count * sizeof *agg_start);
	struct gf_fo_workload w;
	if (!start || !amounts || !x || !p || !sum || !agg_start)
		goto out;
	for (size_t a = 0; a < agg->count; a++)
		agg_start[a] = agg->start_after[a] + agg->tf[a] / 2;
	for (size_t s = 0; s < agg->slice_count; s++)
		x[s] = (agg->lower[s] + agg->upper[s]) / 2.0;
	memset(start, 0, chunk->cap * sizeof *start);
	memset(amounts, 0, chunk->slice_cap * sizeof *amounts);
	double t0 = now();
	err = gf_aggregate_positions(agg, agg_start, x, p);
	double t = now() - t0;
	r->disagg_ok = 1;
	gf_fo_workload_init(&w, o->seed);
	while (!err && w.drawn < o->offers) {
		size_t first = w.drawn;
		next_chunk(&w, chunk, o->offers);
		t0 = now();
		err = gf_aggregate_disaggregate_chunk(agg, chunk, first, agg_start, p, start,
		                                      amounts);
		t += now() - t0;
		for (size_t j = 0; !err && j < chunk->count; j++) {
			size_t a = agg->group_of[first + j];
			if (start[j] != chunk->start_after[j] + agg->tf[a] / 2)
				r->disagg_ok = 0;
			size_t rel = (size_t)(chunk->start_after[j] - agg->start_after[a]);
			for (size_t k = 0; k < (size_t)chunk->n[j]; k++) {
				size_t s = chunk->slice_off[j] + k;
				if (amounts[s] < chunk->lower[s] || amounts[s] > chunk->upper[s])
					r->disagg_ok = 0;
				sum[agg->slice_off[a] + rel + k] += amounts[s];
			}
		}
	}
	r->disagg_seconds = t;
	for (size_t s = 0; !err && s < agg->slice_count; s++)
		if (fabs(sum[s] - x[s]) > 1e-9)
			r->disagg_ok = 0;
out:
	free(agg_start);
	free(sum);
	free(p);
	free(x);
	free(amounts);
	free(start);
	return err;
}

static enum gf_err stream_losses(const struct options *o, struct gf_fo_set *chunk, struct result *r)
{
	struct gf_aggregate_loss_acc *acc = NULL;
	struct gf_fo_workload w;
	enum gf_err err = gf_aggregate_loss_acc_new(&r->agg, &acc);
	double t = 0.0;
	gf_fo_workload_init(&w, o->seed);
	while (!err && w.drawn < o->offers) {
		next_chunk(&w, chunk, o->offers);
		double t0 = now();
		err = gf_aggregate_loss_acc_add(acc, chunk);
		t += now() - t0;
	}
	double t0 = now();
	if (!err)
		err = gf_aggregate_loss_acc_finish(acc, NULL, &r->loss);
	r->loss_seconds = t + (now() - t0);
	gf_aggregate_loss_acc_free(acc);
	return err;
}

/* Streamed: one chunk of offers in memory at a time. */
static enum gf_err run_streamed(const struct options *o, struct result *r, const char **what)
{
	struct gf_fo_set chunk;
	double times[101];
	size_t cap = o->chunk < o->offers ? o->chunk : o->offers;
	enum gf_err err = gf_fo_set_init(&chunk, cap, 8 * cap);
	*what = "memory";
	if (err)
		return err;
	r->held = cap;
	for (int k = 0; k < o->repeat && !err; k++) {
		gf_aggregate_free(&r->agg);
		*what = "aggregation";
		err = stream_aggregate(o, &chunk, r);
		times[k] = r->agg_seconds;
	}
	if (!err) {
		qsort(times, (size_t)o->repeat, sizeof times[0], cmp_double);
		r->agg_seconds = times[o->repeat / 2];
		*what = "disaggregation";
		err = stream_disaggregate(o, &chunk, r);
	}
	if (!err) {
		*what = "losses";
		err = stream_losses(o, &chunk, r);
	}
	gf_fo_set_free(&chunk);
	return err;
}

/* Held: every offer in one set (gf_aggregate_build and friends); *set is
 * kept for --pool. */
static enum gf_err run_held(const struct options *o, struct gf_fo_set *set, struct result *r,
                            const char **what)
{
	double times[101];
	enum gf_err err = gf_fo_set_init(set, o->offers, 8 * o->offers);
	*what = "memory";
	if (err)
		return err;
	r->held = o->offers;
	(void)gf_fo_workload_generate(set, o->offers, o->seed, &r->sums);
	for (int k = 0; k < o->repeat && !err; k++) {
		gf_aggregate_free(&r->agg);
		double t0 = now();
		err = gf_aggregate_build(set, &GF_AGGREGATE_FMAN, &r->agg);
		times[k] = now() - t0;
	}
	*what = "aggregation";
	if (err)
		return err;
	qsort(times, (size_t)o->repeat, sizeof times[0], cmp_double);
	r->agg_seconds = times[o->repeat / 2];
	*what = "disaggregation";
	err = disaggregate_all(&r->agg, set, &r->disagg_seconds, &r->disagg_ok);
	if (err)
		return err;
	*what = "losses";
	double t = now();
	err = gf_aggregate_losses(&r->agg, set, NULL, &r->loss);
	r->loss_seconds = now() - t;
	return err;
}

/* Sum of the aggregates' lower, upper and default profiles: equal bit for
 * bit between the streamed and the held mode. */
static double profile_sum(const struct gf_aggregate *agg)
{
	double s = 0.0;
	for (size_t k = 0; k < agg->slice_count; k++)
		s += agg->lower[k] + agg->upper[k] + agg->dflt[k];
	return s;
}

/* Bytes the aggregation result keeps (members, group_of, the aggregates). */
static size_t aggregate_bytes(const struct gf_aggregate *agg)
{
	size_t offers = agg->member_off[agg->count];
	return offers * (sizeof *agg->members + sizeof *agg->group_of) +
	       agg->count * (3 * sizeof(int32_t) + 2 * sizeof(size_t) + 2 * sizeof(double) +
	                     3 * sizeof(int32_t)) +
	       agg->slice_count * 3 * sizeof(double);
}

static long peak_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
	struct options o;
	struct gf_fo_set set;
	struct result r;
	const char *what = "";
	enum gf_err err;
	int rc = parse_options(argc, argv, &o);

	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	memset(&set, 0, sizeof set);
	memset(&r, 0, sizeof r);
	long start_rss = peak_rss_kb();
	if (o.chunk > 0)
		err = run_streamed(&o, &r, &what);
	else
		err = run_held(&o, &set, &r, &what);
	if (err) {
		fprintf(stderr, "gf-agg-bench: %s: %s\n", what, gf_strerror(err));
		gf_aggregate_free(&r.agg);
		gf_fo_set_free(&set);
		return 2;
	}
	const struct gf_aggregate *agg = &r.agg;
	/* Before the pool: it holds a copy of the offers, which is not the
	 * aggregation's memory. */
	long rss = peak_rss_kb();
	struct pool_result pr = {0, 0, 0, 1};
	char pool_json[256] = "";
	if (o.pool) {
		if (o.chunk > 0) { /* the pool needs the offers held */
			err = gf_fo_set_init(&set, o.offers, 8 * o.offers);
			if (!err)
				(void)gf_fo_workload_generate(&set, o.offers, o.seed, NULL);
		}
		if (!err)
			err = run_pool(&set, agg, &pr);
		if (err) {
			fprintf(stderr, "gf-agg-bench: pool: %s\n", gf_strerror(err));
			gf_aggregate_free(&r.agg);
			gf_fo_set_free(&set);
			return 2;
		}
		snprintf(pool_json, sizeof pool_json,
		         "\"pool_add_seconds\":%.6f,\"pool_update_us\":%.1f,"
		         "\"pool_remove_us\":%.1f,\"pool_matches\":%s,",
		         pr.add_seconds, pr.update_us, pr.remove_us, pr.match ? "true" : "false");
	}

	const struct gf_fo_workload_sums sums = r.sums;
	/* The reference figures only exist for 1,000,000 offers, seed 1234. */
	int is_ref = o.offers == REF_OFFERS && o.seed == 1234;
	int ref_match = is_ref && sums.sum_start_after == REF_SUM_SA && sums.sum_tf == REF_SUM_TF &&
	                sums.sum_slices == REF_SUM_SLICES && agg->count == REF_AGGREGATES &&
	                agg->slice_count == REF_SUM_PROFILE && agg->tf_loss == 0 &&
	                agg->largest == REF_LARGEST;
	/* Ratios only where the reference was measured: 1,000,000 offers. */
	char speedup[32] = "null", disagg_speedup[32] = "null", memory_ratio[32] = "null";
	if (o.offers == REF_OFFERS) {
		snprintf(speedup, sizeof speedup, "%.1f", REF_AGGREGATE_SECONDS / r.agg_seconds);
		snprintf(disagg_speedup, sizeof disagg_speedup, "%.1f",
		         REF_DISAGGREGATE_SECONDS / r.disagg_seconds);
		snprintf(memory_ratio, sizeof memory_ratio, "%.4f", (double)rss / REF_PEAK_RSS_KB);
	}
	/* Start alignment loses no energy flexibility. */
	int ok = r.disagg_ok && agg->member_off[agg->count] == o.offers && (!is_ref || ref_match) &&
	         fabs(r.loss.ef_loss) <= 1e-6 && r.loss.tf_loss == agg->tf_loss && pr.match;
	printf("{\"offers\":%zu,\"seed\":%" PRId64 ",\"chunk\":%zu,\"offers_held\":%zu,"
	       "\"aggregates\":%zu,\"sum_profile_length\":%zu,"
	       "\"tf_loss\":%" PRId64 ",\"largest_aggregate\":%zu,\"profile_sum\":%.17g,"
	       "\"aggregate_seconds\":%.6f,\"disaggregate_seconds\":%.6f,\"peak_rss_kb\":%ld,"
	       "\"start_rss_kb\":%ld,\"rss_bytes_per_offer\":%.1f,"
	       "\"aggregate_bytes_per_offer\":%.1f,"
	       "\"sum_sa\":%" PRId64 ",\"sum_tf\":%" PRId64 ",\"sum_slices\":%" PRId64 ","
	       "\"offers_per_second\":%.0f,\"reference_offers_per_second\":%.0f,"
	       "\"speedup_vs_reference\":%s,\"disaggregate_speedup_vs_reference\":%s,"
	       "\"memory_ratio_to_reference\":%s,\"reference_checks\":%s,"
	       "\"ef_loss\":%.9f,\"tf_loss_per_offer\":%.6f,\"peak_low_loss\":%.6f,"
	       "\"peak_high_loss\":%.6f,\"loss_seconds\":%.6f,%s"
	       "\"disaggregation_ok\":%s,\"ok\":%s}\n",
	       o.offers, o.seed, o.chunk, r.held, agg->count, agg->slice_count, agg->tf_loss,
	       agg->largest, profile_sum(agg), r.agg_seconds, r.disagg_seconds, rss, start_rss,
	       (double)rss * 1024.0 / (double)o.offers,
	       (double)aggregate_bytes(agg) / (double)o.offers, sums.sum_start_after, sums.sum_tf,
	       sums.sum_slices, (double)o.offers / r.agg_seconds,
	       REF_OFFERS / REF_AGGREGATE_SECONDS, speedup, disagg_speedup, memory_ratio,
	       is_ref ? (ref_match ? "\"match\"" : "\"mismatch\"") : "null", r.loss.ef_loss,
	       r.loss.tf_loss_per_offer, r.loss.peak_low_loss, r.loss.peak_high_loss,
	       r.loss_seconds, pool_json, r.disagg_ok ? "true" : "false", ok ? "true" : "false");
	gf_aggregate_free(&r.agg);
	gf_fo_set_free(&set);
	return ok ? 0 : 1;
}
