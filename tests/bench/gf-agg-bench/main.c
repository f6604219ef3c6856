/* SPDX-License-Identifier: MIT */
/*
 * gf-agg-bench - the issue-4 aggregation benchmark against the GOFLEX
 * reference (AAU aggregator-core, FMAN configuration).
 *
 * Generates the java.util.Random workload, aggregates it in the FMAN
 * configuration (median of --repeat runs, offers already in memory),
 * disaggregates one mid-range schedule per aggregate, checks the result,
 * computes the aggregation losses (untimed in the aggregation figure) and
 * prints one JSON line. Exit 0 when every check passed, 1 when one failed,
 * 2 on a usage or resource error.
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
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: gf-agg-bench --offers N [--seed S] [--repeat R] [--pool]\n"
	        "  --offers N   offers to generate (1 .. 100000000)\n"
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
	static const struct option longopts[] = {
	    {"offers", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
	    {"repeat", required_argument, NULL, 'r'}, {"pool", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	long long v = 0;
	int c;
	o->offers = 0;
	o->seed = 1234;
	o->repeat = 5;
	o->pool = 0;
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

int main(int argc, char **argv)
{
	struct options o;
	struct gf_fo_set set;
	struct gf_fo_workload_sums sums;
	struct gf_aggregate agg;
	double times[101], disagg_seconds = 0.0;
	int disagg_ok = 0;
	enum gf_err err;
	int rc = parse_options(argc, argv, &o);

	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	if (o.offers > SIZE_MAX / 8 || (err = gf_fo_set_init(&set, o.offers, 8 * o.offers))) {
		fprintf(stderr, "gf-agg-bench: cannot hold %zu offers\n", o.offers);
		return 2;
	}
	(void)gf_fo_workload_generate(&set, o.offers, o.seed, &sums);
	memset(&agg, 0, sizeof agg);
	for (int r = 0; r < o.repeat; r++) {
		gf_aggregate_free(&agg);
		double t0 = now();
		err = gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg);
		times[r] = now() - t0;
		if (err) {
			fprintf(stderr, "gf-agg-bench: aggregation: %s\n", gf_strerror(err));
			gf_fo_set_free(&set);
			return 2;
		}
	}
	qsort(times, (size_t)o.repeat, sizeof times[0], cmp_double);
	double agg_seconds = times[o.repeat / 2];
	err = disaggregate_all(&agg, &set, &disagg_seconds, &disagg_ok);
	if (err) {
		fprintf(stderr, "gf-agg-bench: disaggregation: %s\n", gf_strerror(err));
		gf_aggregate_free(&agg);
		gf_fo_set_free(&set);
		return 2;
	}
	struct gf_aggregate_loss loss;
	double t_loss = now();
	err = gf_aggregate_losses(&agg, &set, NULL, &loss);
	t_loss = now() - t_loss;
	if (err) {
		fprintf(stderr, "gf-agg-bench: losses: %s\n", gf_strerror(err));
		gf_aggregate_free(&agg);
		gf_fo_set_free(&set);
		return 2;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	/* After getrusage: the pool holds a copy of the offers, which is not
	 * the aggregation's memory. */
	struct pool_result pr = {0, 0, 0, 1};
	char pool_json[256] = "";
	if (o.pool) {
		err = run_pool(&set, &agg, &pr);
		if (err) {
			fprintf(stderr, "gf-agg-bench: pool: %s\n", gf_strerror(err));
			gf_aggregate_free(&agg);
			gf_fo_set_free(&set);
			return 2;
		}
		snprintf(pool_json, sizeof pool_json,
		         "\"pool_add_seconds\":%.6f,\"pool_update_us\":%.1f,"
		         "\"pool_remove_us\":%.1f,\"pool_matches\":%s,",
		         pr.add_seconds, pr.update_us, pr.remove_us, pr.match ? "true" : "false");
	}

	/* The reference figures only exist for 1,000,000 offers, seed 1234. */
	int is_ref = o.offers == REF_OFFERS && o.seed == 1234;
	int ref_match = is_ref && sums.sum_start_after == REF_SUM_SA && sums.sum_tf == REF_SUM_TF &&
	                sums.sum_slices == REF_SUM_SLICES && agg.count == REF_AGGREGATES &&
	                agg.slice_count == REF_SUM_PROFILE && agg.tf_loss == 0 &&
	                agg.largest == REF_LARGEST;
	/* Ratios only where the reference was measured: 1,000,000 offers. */
	char speedup[32] = "null", disagg_speedup[32] = "null", memory_ratio[32] = "null";
	if (o.offers == REF_OFFERS) {
		snprintf(speedup, sizeof speedup, "%.1f", REF_AGGREGATE_SECONDS / agg_seconds);
		snprintf(disagg_speedup, sizeof disagg_speedup, "%.1f",
		         REF_DISAGGREGATE_SECONDS / disagg_seconds);
		snprintf(memory_ratio, sizeof memory_ratio, "%.4f",
		         (double)ru.ru_maxrss / REF_PEAK_RSS_KB);
	}
	/* Start alignment loses no energy flexibility. */
	int ok = disagg_ok && agg.member_off[agg.count] == o.offers && (!is_ref || ref_match) &&
	         fabs(loss.ef_loss) <= 1e-6 && loss.tf_loss == agg.tf_loss && pr.match;
	printf("{\"offers\":%zu,\"seed\":%" PRId64 ",\"aggregates\":%zu,\"sum_profile_length\":%zu,"
	       "\"tf_loss\":%" PRId64 ",\"largest_aggregate\":%zu,"
	       "\"aggregate_seconds\":%.6f,\"disaggregate_seconds\":%.6f,\"peak_rss_kb\":%ld,"
	       "\"sum_sa\":%" PRId64 ",\"sum_tf\":%" PRId64 ",\"sum_slices\":%" PRId64 ","
	       "\"offers_per_second\":%.0f,\"reference_offers_per_second\":%.0f,"
	       "\"speedup_vs_reference\":%s,\"disaggregate_speedup_vs_reference\":%s,"
	       "\"memory_ratio_to_reference\":%s,\"reference_checks\":%s,"
	       "\"ef_loss\":%.9f,\"tf_loss_per_offer\":%.6f,\"peak_low_loss\":%.6f,"
	       "\"peak_high_loss\":%.6f,\"loss_seconds\":%.6f,%s"
	       "\"disaggregation_ok\":%s,\"ok\":%s}\n",
	       o.offers, o.seed, agg.count, agg.slice_count, agg.tf_loss, agg.largest, agg_seconds,
	       disagg_seconds, ru.ru_maxrss, sums.sum_start_after, sums.sum_tf, sums.sum_slices,
	       (double)o.offers / agg_seconds, REF_OFFERS / REF_AGGREGATE_SECONDS, speedup,
	       disagg_speedup, memory_ratio,
	       is_ref ? (ref_match ? "\"match\"" : "\"mismatch\"") : "null", loss.ef_loss,
	       loss.tf_loss_per_offer, loss.peak_low_loss, loss.peak_high_loss, t_loss, pool_json,
	       disagg_ok ? "true" : "false", ok ? "true" : "false");
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
	return ok ? 0 : 1;
}
