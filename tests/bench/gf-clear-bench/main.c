/* SPDX-License-Identifier: MIT */
/*
 * gf-clear-bench - market clearing benchmark of issue 4 (docs/clearing.md).
 *
 *   gf-clear-bench [--aggregates N] [--seed S] [--time-limit SECONDS]
 *                  [--max-columns N] [--totals FRACTION]
 *
 * Without --aggregates it runs 100, 1,000 and 10,000. The aggregates are
 * drawn directly with the issue-4 workload generator (gf_fo_workload_generate:
 * one generated offer stands for one aggregate profile), given asking
 * tariffs, and cleared against a 96-interval evening-peak bid by the
 * heuristic and, within its size and time limits, by the GLPK MILP
 * (warm-started from the heuristic, so it always returns a schedule). The
 * Lagrangian bound (gf_clear_bound) gives a proven lower bound at every
 * size: gap_vs_bound = (heuristic - bound) / bound is an upper bound on the
 * heuristic's true gap. One JSON line per size. The MILP is skipped
 * ("too_large") above --max-columns (default 200,000, about 2,000
 * aggregates). --totals F gives a fraction F of the aggregates a minimum
 * total energy (half-way from the sum of lower bounds to the default's).
 *
 * Baseline in the same run: the heuristic as it was before the projection
 * amount solver (gf__clear_heuristic_with, GF__CLEAR_AMOUNTS_LEGACY) on the
 * same instance; baseline_* are its figures, and gap_ratio and cpu_ratio
 * divide the heuristic's gap to the bound and CPU time by the baseline's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clear.h"
#include "engine/fo.h"

#define DAY 96

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a shared machine, wall time also counts
 * other jobs. */
static double cpu_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* Deterministic tariffs independent of the workload's own stream. */
static double lcg01(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) * 0x1.0p-53;
}

static void print_num(const char *name, double v, int last)
{
	if (isnan(v))
		printf("\"%s\":null%s", name, last ? "" : ",");
	else
		printf("\"%s\":%.6g%s", name, v, last ? "" : ",");
}

static int run(size_t count, int64_t seed, double time_limit, size_t max_columns, double totals)
{
	struct gf_fo_set set = {0};
	struct gf_fo *fo = NULL;
	int32_t *s1 = NULL, *s2 = NULL, *s3 = NULL;
	double *x1 = NULL, *x2 = NULL, *x3 = NULL;
	double change[DAY], price[DAY], load[DAY + 32];
	int rc = 1;
	enum gf_err err = gf_fo_set_init(&set, count, 8 * count);
	if (err)
		goto out;
	err = gf_fo_workload_generate(&set, count, seed, NULL);
	if (err)
		goto out;
	err = GF_ENOMEM;
	fo = calloc(count, sizeof *fo);
	s1 = calloc(count, sizeof *s1);
	s2 = calloc(count, sizeof *s2);
	x1 = calloc(set.slice_count, sizeof *x1);
	x2 = calloc(set.slice_count, sizeof *x2);
	s3 = calloc(count, sizeof *s3);
	x3 = calloc(set.slice_count, sizeof *x3);
	if (!fo || !s1 || !s2 || !x1 || !x2 || !s3 || !x3)
		goto out;
	uint64_t st = (uint64_t)seed, st_totals = (uint64_t)seed ^ 0x5bd1e995u;
	memset(load, 0, sizeof load);
	for (size_t i = 0; i < count; i++) {
		set.tariff_min[i] = 0.02 + 0.18 * lcg01(&st);
		set.tariff_max[i] = lcg01(&st) < 0.1 ? 0.5 : 0.02 + 0.18 * lcg01(&st);
		if ((err = gf_fo_set_get(&set, i, &fo[i])))
			goto out;
		/* A stream of its own: --totals 0 leaves the instance unchanged. */
		if (totals > 0 &&
		    lcg01(&st_totals) <
		        totals) { /* at least half-way from the minimum to the default */
			double lo = 0, d = 0;
			for (int32_t k = 0; k < fo[i].n; k++) {
				lo += fo[i].lower[k];
				d += fo[i].dflt[k];
			}
			fo[i].total_min = lo + 0.5 * (d - lo);
		}
		for (int32_t k = 0; k < fo[i].n; k++)
			if (fo[i].start_after + k < DAY + 32)
				load[fo[i].start_after + k] += fo[i].dflt[k];
	}
	/* Evening peak (17:00-21:00): cut 15% of the default load; morning
	 * (03:00-05:00): fill 10% more; price 0.25 EUR/kWh. */
	for (int32_t t = 0; t < DAY; t++) {
		change[t] = t >= 68 && t < 84   ? 0.15 * load[t]
		            : t >= 12 && t < 20 ? -0.10 * load[t]
		                                : 0;
		price[t] = 0.25;
	}
	struct gf_clear_bid bid = {0, DAY, change, price, NULL};
	struct gf_clear_options opt = {.time_limit_s = time_limit, .max_columns = max_columns};
	struct gf_clear_result h = {.start = s1, .amount = x1, .bound = NAN};
	struct gf_clear_result base = {.start = s3, .amount = x3, .bound = NAN};
	struct gf_clear_result m = {.start = s2,
	                            .amount = x2,
	                            .status = GF_CLEAR_TOO_LARGE,
	                            .objective = NAN,
	                            .mismatch = NAN,
	                            .bound = NAN};
	double t0 = now_s(), c0 = cpu_s();
	if ((err =
	         gf__clear_heuristic_with(&bid, fo, count, &opt, GF__CLEAR_AMOUNTS_LEGACY, &base)))
		goto out;
	double cb = cpu_s() - c0;
	t0 = now_s();
	c0 = cpu_s();
	if ((err = gf_clear_heuristic(&bid, fo, count, &opt, &h)))
		goto out;
	double th = now_s() - t0, ch = cpu_s() - c0;
	double lb = NAN;
	t0 = now_s();
	if ((err = gf_clear_bound(&bid, fo, count, fmin(h.objective, base.objective), 200, &lb)))
		goto out;
	double tb = now_s() - t0;
	t0 = now_s();
	if ((err = gf_clear_milp(&bid, fo, count, &opt, &m)))
		goto out;
	double tm = now_s() - t0;
	int have = m.status == GF_CLEAR_OPTIMAL || m.status == GF_CLEAR_FEASIBLE;
	double requested = 0;
	for (int32_t t = 0; t < DAY; t++)
		requested += change[t];
	printf("{\"aggregates\":%zu,\"eligible\":%d,\"requested_kwh\":%.6g,", count, h.eligible,
	       requested);
	print_num("heuristic_seconds", th, 0);
	print_num("heuristic_cpu_seconds", ch, 0);
	print_num("heuristic_objective", h.objective, 0);
	print_num("heuristic_delivered_kwh", h.delivered, 0);
	print_num("heuristic_mismatch", h.mismatch, 0);
	print_num("lagrange_bound", lb, 0);
	print_num("lagrange_seconds", tb, 0);
	print_num("milp_mismatch", m.mismatch, 0);
	printf("\"milp_status\":\"%s\",", gf_clear_status_name(m.status));
	print_num("milp_seconds", have ? tm : NAN, 0);
	print_num("milp_objective", have ? m.objective : NAN, 0);
	print_num("milp_bound", have ? m.bound : NAN, 0);
	/* The best proven lower bound on the optimum: the MILP's (its LP,
	 * search tree or Lagrangian bound) or, without it, the Lagrangian. */
	double bound = have && isfinite(m.bound) ? fmax(m.bound, lb) : lb;
	print_num("bound", bound, 0);
	print_num("gap",
	          m.status == GF_CLEAR_OPTIMAL
	              ? (h.objective - m.objective) / fmax(m.objective, 1e-9)
	              : NAN,
	          0);
	/* Against the proven bound: an upper bound on the true gap. */
	double gap = (h.objective - bound) / fmax(bound, 1e-9);
	double base_gap = (base.objective - bound) / fmax(bound, 1e-9);
	print_num("gap_vs_bound", gap, 0);
	print_num("baseline_objective", base.objective, 0);
	print_num("baseline_cpu_seconds", cb, 0);
	print_num("baseline_gap_vs_bound", base_gap, 0);
	/* Ratios against the baseline of this run (the machine is shared:
	 * absolute times vary with its load, ratios less). */
	print_num("gap_ratio", base_gap > 0 ? gap / base_gap : NAN, 0);
	print_num("cpu_ratio", cb > 0 ? ch / cb : NAN, 1);
	printf("}\n");
	fflush(stdout);
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "gf-clear-bench: %zu aggregates: %s\n", count, gf_strerror(err));
	free(x3);
	free(s3);
	free(x2);
	free(x1);
	free(s2);
	free(s1);
	free(fo);
	gf_fo_set_free(&set);
	return rc;
}

int main(int argc, char **argv)
{
	size_t sizes[3] = {100, 1000, 10000}, nsizes = 3;
	int64_t seed = 1234;
	double time_limit = 60.0;
	size_t max_columns = 200000; /* about 2,000 aggregates of this workload */
	double totals = 0.0;
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		if (!strcmp(argv[i], "--aggregates") && i + 1 < argc) {
			unsigned long long v = strtoull(argv[++i], &end, 10);
			if (*end || v == 0)
				goto usage;
			sizes[0] = (size_t)v;
			nsizes = 1;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoll(argv[++i], &end, 10);
			if (*end)
				goto usage;
		} else if (!strcmp(argv[i], "--max-columns") && i + 1 < argc) {
			unsigned long long v = strtoull(argv[++i], &end, 10);
			if (*end || v == 0)
				goto usage;
			max_columns = (size_t)v;
		} else if (!strcmp(argv[i], "--totals") && i + 1 < argc) {
			totals = strtod(argv[++i], &end);
			if (*end || !(totals >= 0 && totals <= 1))
				goto usage;
		} else if (!strcmp(argv[i], "--time-limit") && i + 1 < argc) {
			time_limit = strtod(argv[++i], &end);
			if (*end || !(time_limit > 0))
				goto usage;
		} else {
			goto usage;
		}
	}
	for (size_t i = 0; i < nsizes; i++)
		if (run(sizes[i], seed, time_limit, max_columns, totals))
			return 1;
	return 0;
usage:
	fprintf(stderr, "usage: gf-clear-bench [--aggregates N] [--seed S] [--time-limit SECONDS] "
	                "[--max-columns N] [--totals FRACTION]\n");
	return 2;
}
