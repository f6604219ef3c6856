/* SPDX-License-Identifier: MIT */
/*
 * clear_test.c - market clearing: hand-computed optimum, edge statuses,
 * feasibility, and the heuristic against the GLPK optimum.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clear.h"
#include "leak_check.h"

TestSuite(clear, .fini = leak_check);

/* A small deterministic generator (xorshift64*) for the random instances. */
static uint64_t rng_state;

static double rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ULL) >> 11) * 0x1.0p-53;
}

static int32_t rndi(int32_t n)
{
	return (int32_t)(rnd() * n);
}

#define MAXO 8
#define MAXN 4
#define MAXT 16

struct inst {
	struct gf_clear_bid bid;
	struct gf_fo fo[MAXO];
	double lo[MAXO][MAXN], hi[MAXO][MAXN], df[MAXO][MAXN];
	double change[MAXT], price[MAXT], headroom[MAXT];
	size_t count, slices;
};

/* The share of offers drawn with a minimum total (the draws are the same
 * whatever it is: only the outcome of the comparison changes). */
static double totals_share = 0.25;

static void make_instance(struct inst *in, uint64_t seed)
{
	memset(in, 0, sizeof *in);
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	int32_t T = 8 + rndi(9);
	in->bid.start = 0;
	in->bid.intervals = T;
	in->bid.change = in->change;
	in->bid.price = in->price;
	for (int32_t t = 0; t < T; t++) {
		in->change[t] = rnd() < 0.3 ? 0.0 : rnd() * 4.0 - 1.0;
		in->price[t] = 0.2 + rnd() * 0.3;
	}
	in->count = (size_t)(5 + rndi(4));
	for (size_t o = 0; o < in->count; o++) {
		struct gf_fo *f = &in->fo[o];
		f->n = 1 + rndi(MAXN);
		f->start_after = rndi(T - 2);
		f->tf = rndi(5);
		for (int32_t k = 0; k < f->n; k++) {
			in->lo[o][k] = rnd();
			in->hi[o][k] = in->lo[o][k] + rnd() * 2.0;
			in->df[o][k] = in->hi[o][k] - rnd() * (in->hi[o][k] - in->lo[o][k]);
		}
		f->lower = in->lo[o];
		f->upper = in->hi[o];
		f->dflt = in->df[o];
		f->total_min = NAN;
		f->total_max = NAN;
		if (rnd() < totals_share) {
			double s = 0, h = 0, d = 0;
			for (int32_t k = 0; k < f->n; k++) {
				s += in->lo[o][k];
				h += in->hi[o][k];
				d += in->df[o][k];
			}
			f->total_min = fmin(d, s + 0.5 * (h - s));
		}
		f->tariff_min = rnd() * 0.25;
		f->tariff_max = rnd() < 0.15 ? 0.9 : rnd() * 0.25;
		in->slices += (size_t)f->n;
	}
}

/* Every returned schedule is feasible and its objective re-evaluates. */
static void check_feasible(const struct inst *in, const struct gf_clear_result *r)
{
	struct gf_clear_result e = *r;
	cr_assert_eq(gf_clear_evaluate(&in->bid, in->fo, in->count, r->start, r->amount, 1e-6, &e),
	             GF_OK);
	cr_assert_float_eq(e.objective, r->objective, 1e-6);
}

Test(clear, hand_computed_tiny)
{
	/* One offer, 1 slice of [0, 2] kWh, default 2 at interval 0, may start
	 * at 0 or 1; tariff 0.1 down, 0.2 up. The bid asks 1.5 kWh less at
	 * interval 0 for 0.5 EUR/kWh and nothing at 1 (price 0.5). Best: stay
	 * at 0 and consume 0.5: mismatch 0, cost 0.1 * 1.5 = 0.15. Shifting to
	 * interval 1 would deliver 2 at 0 (mismatch 0.5 -> 0.25) plus an
	 * unrequested x at 1 and cost 0.1 * 2 + 0.2 * x. */
	double lo = 0, hi = 2, df = 2, ch[2] = {1.5, 0}, pr[2] = {0.5, 0.5};
	struct gf_fo f = {.start_after = 0,
	                  .tf = 1,
	                  .n = 1,
	                  .lower = &lo,
	                  .upper = &hi,
	                  .dflt = &df,
	                  .total_min = NAN,
	                  .total_max = NAN,
	                  .tariff_min = 0.1,
	                  .tariff_max = 0.2};
	struct gf_clear_bid bid = {0, 2, ch, pr, NULL};
	int32_t start = -1;
	double amount = -1;
	struct gf_clear_result r = {.start = &start,
	                            .amount = &amount,
	                            .status = GF_CLEAR_INFEASIBLE,
	                            .objective = 0,
	                            .bound = NAN};
	cr_assert_eq(gf_clear_milp(&bid, &f, 1, NULL, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_OPTIMAL);
	cr_assert_eq(start, 0);
	cr_assert_float_eq(amount, 0.5, 1e-7);
	cr_assert_float_eq(r.objective, 0.15, 1e-7);
	cr_assert_float_eq(r.delivered, 1.5, 1e-7);
	start = -1;
	cr_assert_eq(gf_clear_heuristic(&bid, &f, 1, NULL, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_FEASIBLE);
	cr_assert_eq(start, 0);
	cr_assert_float_eq(amount, 0.5, 1e-7);
	cr_assert_float_eq(r.objective, 0.15, 1e-7);
}

Test(clear, empty_and_ineligible_bids)
{
	double lo = 0, hi = 2, df = 1, ch[2] = {0, 0}, pr[2] = {0.5, 0.5};
	struct gf_fo f = {.start_after = 0,
	                  .tf = 1,
	                  .n = 1,
	                  .lower = &lo,
	                  .upper = &hi,
	                  .dflt = &df,
	                  .total_min = NAN,
	                  .total_max = NAN,
	                  .tariff_min = 0.1,
	                  .tariff_max = 0.2};
	struct gf_clear_bid bid = {0, 2, ch, pr, NULL};
	int32_t start = -1;
	double amount = -1;
	struct gf_clear_result r = {.start = &start,
	                            .amount = &amount,
	                            .status = GF_CLEAR_OPTIMAL,
	                            .objective = 0,
	                            .bound = NAN};
	cr_assert_eq(gf_clear_milp(&bid, &f, 1, NULL, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_EMPTY_BID);
	cr_assert_eq(start, 0);
	cr_assert_float_eq(amount, 1.0, 1e-12);
	cr_assert_eq(gf_clear_heuristic(&bid, &f, 1, NULL, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_EMPTY_BID);
	ch[0] = 1.0;
	pr[0] = 0.05; /* below the asking tariff */
	cr_assert_eq(gf_clear_milp(&bid, &f, 1, NULL, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_NO_ELIGIBLE);
	cr_assert_float_eq(r.delivered, 0.0, 1e-12);
	cr_assert_eq(gf_clear_heuristic(&bid, &f, 1, NULL, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_NO_ELIGIBLE);
	/* No offers at all: nothing eligible, no crash. */
	cr_assert_eq(gf_clear_milp(&bid, NULL, 0, NULL, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_NO_ELIGIBLE);
}

Test(clear, bad_input_leaves_result_untouched)
{
	double lo = 0, hi = 2, df = 3, ch[1] = {1}, pr[1] = {NAN};
	struct gf_fo f = {.start_after = 0,
	                  .tf = 1,
	                  .n = 1,
	                  .lower = &lo,
	                  .upper = &hi,
	                  .dflt = &df,
	                  .total_min = NAN,
	                  .total_max = NAN,
	                  .tariff_min = 0.1,
	                  .tariff_max = 0.2};
	struct gf_clear_bid bid = {0, 1, ch, pr, NULL};
	int32_t start = -1;
	double amount = -1;
	struct gf_clear_result r = {.start = &start,
	                            .amount = &amount,
	                            .status = GF_CLEAR_OPTIMAL,
	                            .objective = 7,
	                            .bound = NAN};
	cr_assert_eq(gf_clear_milp(&bid, &f, 1, NULL, &r), GF_EINVAL);
	pr[0] = 0.5; /* default 3 outside [0, 2] */
	cr_assert_eq(gf_clear_heuristic(&bid, &f, 1, NULL, &r), GF_EINVAL);
	bid.intervals = 0;
	df = 1;
	cr_assert_eq(gf_clear_heuristic(&bid, &f, 1, NULL, &r), GF_EINVAL);
	cr_assert_eq(start, -1);
	cr_assert_eq(amount, -1);
	cr_assert_eq(r.objective, 7);
}

Test(clear, too_large_reports_status)
{
	double lo = 0, hi = 2, df = 1, ch[1] = {1}, pr[1] = {0.5};
	struct gf_fo f = {.start_after = 0,
	                  .tf = 3,
	                  .n = 1,
	                  .lower = &lo,
	                  .upper = &hi,
	                  .dflt = &df,
	                  .total_min = NAN,
	                  .total_max = NAN,
	                  .tariff_min = 0.1,
	                  .tariff_max = 0.2};
	struct gf_clear_bid bid = {0, 1, ch, pr, NULL};
	struct gf_clear_options opt = {1.0, 5, 0};
	int32_t start = -1;
	double amount = -1;
	struct gf_clear_result r = {.start = &start,
	                            .amount = &amount,
	                            .status = GF_CLEAR_OPTIMAL,
	                            .objective = 0,
	                            .bound = NAN};
	cr_assert_eq(gf_clear_milp(&bid, &f, 1, &opt, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_TOO_LARGE);
	cr_assert_eq(start, -1);
	cr_assert_eq(amount, -1);
	cr_assert(isnan(r.bound));
}

/* Measured over these 200 seeds (docs/clearing.md): before the kicks and
 * the amount LP mean 0.0075 and max 0.1022; now 0 and 0 (over 2,000 seeds
 * max 0.018). The goal is 2%. */
#define GAP_MAX  0.02
#define GAP_MEAN 0.002

/* The bid of in gets a headroom of 0 to 2 kWh in every interval where it
 * asks nothing (after the instance is drawn: the same offers and requests). */
static void add_headroom(struct inst *in)
{
	for (int32_t t = 0; t < in->bid.intervals; t++)
		in->headroom[t] = in->change[t] == 0.0 ? rnd() * 2.0 : 0.0;
	in->bid.headroom = in->headroom;
}

/* The heuristic (its amounts as `amounts` says) against the MILP's proven
 * optimum over random instances, with or without a headroom in the bid. */
static void vs_milp(bool headroom, enum gf__clear_amounts amounts)
{
	double sum_gap = 0, max_gap = 0;
	int n = 0, over = 0;
	/* GF_CLEAR_SEEDS=2000 widens the sample (docs/clearing.md). */
	const char *env = getenv("GF_CLEAR_SEEDS");
	uint64_t seeds = env && atoi(env) > 0 ? (uint64_t)atoi(env) : 200;
	for (uint64_t seed = 1; seed <= seeds; seed++) {
		struct inst in;
		make_instance(&in, seed);
		if (headroom)
			add_headroom(&in);
		int32_t s1[MAXO], s2[MAXO];
		double x1[MAXO * MAXN], x2[MAXO * MAXN];
		struct gf_clear_result m = {.start = s1, .amount = x1, .bound = NAN};
		struct gf_clear_result h = {.start = s2, .amount = x2, .bound = 7};
		enum gf_err e1 = gf_clear_milp(&in.bid, in.fo, in.count, NULL, &m);
		enum gf_err e2 =
		    amounts == GF__CLEAR_AMOUNTS_AUTO
		        ? gf_clear_heuristic(&in.bid, in.fo, in.count, NULL, &h)
		        : gf__clear_heuristic_with(&in.bid, in.fo, in.count, NULL, amounts, &h);
		cr_assert_eq(e1, GF_OK, "seed %llu: %s", (unsigned long long)seed, gf_err_name(e1));
		cr_assert_eq(e2, GF_OK, "seed %llu: %s", (unsigned long long)seed, gf_err_name(e2));
		check_feasible(&in, &m);
		check_feasible(&in, &h);
		if (h.status == GF_CLEAR_FEASIBLE)
			cr_assert(isnan(h.bound), "seed %llu: the heuristic proves no bound",
			          (unsigned long long)seed);
		else /* defaults, the only schedule */
			cr_assert_float_eq(h.bound, h.objective, 1e-12);
		/* The Lagrangian bound is a lower bound of every schedule. */
		double lb = -1;
		cr_assert_eq(gf_clear_bound(&in.bid, in.fo, in.count, h.objective, 200, &lb),
		             GF_OK);
		cr_assert_geq(lb, 0.0);
		cr_assert_leq(lb, m.objective + 1e-7, "seed %llu: bound %.9f > optimum %.9f",
		              (unsigned long long)seed, lb, m.objective);
		cr_assert_leq(m.bound, m.objective + 1e-9);
		if (m.status != GF_CLEAR_OPTIMAL)
			continue;
		cr_assert_float_eq(m.bound, m.objective, 1e-12);
		cr_assert_geq(h.objective, m.objective - 1e-6, "seed %llu: heuristic beats optimum",
		              (unsigned long long)seed);
		double gap = (h.objective - m.objective) / fmax(m.objective, 1e-3);
		sum_gap += gap;
		max_gap = fmax(max_gap, gap);
		n++;
		if (gap > GAP_MAX) {
			over++;
			fprintf(stderr, "clear: seed %llu: gap %.4f\n", (unsigned long long)seed,
			        gap);
		}
	}
	cr_assert_gt(n, (int)(seeds * 95 / 100));
	fprintf(stderr, "clear%s%s: %d instances, mean gap %.4f, max gap %.4f, %d over %.2f\n",
	        headroom ? " (headroom)" : "",
	        amounts == GF__CLEAR_AMOUNTS_PROJECTION ? " (projection amounts)" : "", n,
	        sum_gap / n, max_gap, over, GAP_MAX);
	cr_assert_leq(max_gap, GAP_MAX);
	cr_assert_leq(sum_gap / n, GAP_MEAN);
}

Test(clear, heuristic_vs_milp_random)
{
	vs_milp(false, GF__CLEAR_AMOUNTS_AUTO);
}

Test(clear, heuristic_vs_milp_random_headroom)
{
	vs_milp(true, GF__CLEAR_AMOUNTS_AUTO);
}

/* The same with GLPK's amount LP replaced by the projection solver
 * everywhere (what the heuristic does above 2,000 slices). */
Test(clear, heuristic_projection_vs_milp_random)
{
	vs_milp(false, GF__CLEAR_AMOUNTS_PROJECTION);
}

Test(clear, heuristic_projection_vs_milp_random_headroom)
{
	vs_milp(true, GF__CLEAR_AMOUNTS_PROJECTION);
}

/* The objective of amounts x at starts s, or fails the test when the
 * schedule is infeasible. */
static double objective_of(const struct inst *in, const int32_t *s, const double *x, uint64_t seed,
                           const char *who)
{
	struct gf_clear_result e = {0};
	enum gf_err err = gf_clear_evaluate(&in->bid, in->fo, in->count, s, x, 1e-7, &e);
	cr_assert_eq(err, GF_OK, "seed %llu: %s amounts infeasible (%s)", (unsigned long long)seed,
	             who, gf_err_name(err));
	return e.objective;
}

/* The projection amount solver against GLPK's exact amount LP for the
 * same fixed starts (random ones in each window): every offer with total
 * bounds in one variant, a quarter in another, none in a third; minimum,
 * maximum and fixed totals; with and without headroom. */
static void projection_vs_lp(double share, bool headroom, double *mean_out, double *max_out)
{
	double sum_gap = 0, max_gap = 0;
	int n = 0, exact = 0;
	const char *env = getenv("GF_CLEAR_SEEDS");
	uint64_t seeds = env && atoi(env) > 0 ? (uint64_t)atoi(env) : 200;
	totals_share = share;
	for (uint64_t seed = 1; seed <= seeds; seed++) {
		struct inst in;
		make_instance(&in, seed);
		if (headroom)
			add_headroom(&in);
		int32_t s[MAXO];
		double x0[MAXO * MAXN], xl[MAXO * MAXN], xp[MAXO * MAXN];
		size_t off = 0;
		for (size_t o = 0; o < in.count; o++) {
			struct gf_fo *f = &in.fo[o];
			double d = 0, hsum = 0;
			for (int32_t k = 0; k < f->n; k++) {
				d += in.df[o][k];
				hsum += in.hi[o][k];
			}
			/* Vary the kind of bound: minimum only (as drawn), a
			 * maximum too, or a fixed total (the default's). */
			double u = rnd();
			if (!isnan(f->total_min) && u < 0.3)
				f->total_max = d + 0.3 * (hsum - d);
			else if (!isnan(f->total_min) && u < 0.5)
				f->total_min = f->total_max = d;
			/* Ineligible offers keep their default schedule. */
			int32_t shift = rndi(f->tf + 1);
			s[o] = f->start_after + (gf_clear_eligible(&in.bid, f) ? shift : 0);
			for (int32_t k = 0; k < f->n; k++)
				x0[off + (size_t)k] = in.df[o][k]; /* meets the totals */
			off += (size_t)f->n;
		}
		memcpy(xl, x0, off * sizeof *xl);
		memcpy(xp, x0, off * sizeof *xp);
		enum gf_err e1 = gf__clear_amounts_lp(&in.bid, in.fo, in.count, s, xl);
		enum gf_err e2 = gf__clear_amounts_projection(&in.bid, in.fo, in.count, s, xp,
		                                              GF__CLEAR_PROJECTION_ROUNDS);
		cr_assert_eq(e2, GF_OK, "seed %llu: %s", (unsigned long long)seed, gf_err_name(e2));
		if (e1 != GF_OK)
			continue; /* the LP did not solve: nothing to compare with */
		double vl = objective_of(&in, s, xl, seed, "LP");
		double vp = objective_of(&in, s, xp, seed, "projection");
		cr_assert_geq(vp, vl - 1e-6,
		              "seed %llu: projection %.9f beats the LP's optimum %.9f",
		              (unsigned long long)seed, vp, vl);
		double gap = (vp - vl) / fmax(vl, 1e-3);
		sum_gap += gap;
		max_gap = fmax(max_gap, gap);
		exact += gap <= 1e-9;
		n++;
		if (gap > GAP_MAX)
			fprintf(stderr, "clear projection: seed %llu: gap %.4f\n",
			        (unsigned long long)seed, gap);
	}
	totals_share = 0.25;
	cr_assert_gt(n, (int)(seeds * 95 / 100));
	fprintf(stderr,
	        "clear projection vs amount LP (totals %.2f%s): %d instances, %d exact, mean gap "
	        "%.5f, max gap %.5f\n",
	        share, headroom ? ", headroom" : "", n, exact, sum_gap / n, max_gap);
	*mean_out = sum_gap / n;
	*max_out = max_gap;
}

Test(clear, projection_amounts_vs_lp_random)
{
	double shares[3] = {0.0, 0.25, 1.0};
	for (int i = 0; i < 3; i++)
		for (int hr = 0; hr < 2; hr++) {
			double mean, max;
			projection_vs_lp(shares[i], hr, &mean, &max);
			/* Without total bounds the merit orders alone are exact. */
			if (shares[i] == 0.0)
				cr_assert_leq(max, 1e-9, "max gap %.9f without totals", max);
			cr_assert_leq(max, GAP_MAX);
			cr_assert_leq(mean, GAP_MEAN);
		}
}

Test(clear, headroom_takes_the_moved_energy)
{
	/* A car's 2 kWh (exact total) at interval 0, may start at 0, 1 or 2;
	 * tariffs 0.01. The bid asks 2 kWh less at 0 (0.5 EUR/kWh) and
	 * nothing at 1 and 2, where the grid takes 1 and 2 kWh more. Best:
	 * start at 2, all within the headroom: mismatch 0, tariff cost 0.01 x
	 * (2 down at 0 + 2 up at 2) = 0.04. At 1 it would overrun the headroom
	 * by 1 kWh (0.5 + 0.04). Without the headroom moving costs 0.5 x 2 at
	 * its new interval: the car stays, mismatch 2 x 0.5 = 1.0. */
	double lo = 0, hi = 2, df = 2, ch[3] = {2, 0, 0}, pr[3] = {0.5, 0.5, 0.5},
	       hr[3] = {0, 1, 2};
	struct gf_fo f = {.start_after = 0,
	                  .tf = 2,
	                  .n = 1,
	                  .lower = &lo,
	                  .upper = &hi,
	                  .dflt = &df,
	                  .total_min = 2,
	                  .total_max = 2,
	                  .tariff_min = 0.01,
	                  .tariff_max = 0.01};
	struct gf_clear_bid bid = {0, 3, ch, pr, hr};
	for (int solver = 0; solver < 2; solver++) {
		int32_t s = -1;
		double x = -1, lb = -1;
		struct gf_clear_result r = {.start = &s, .amount = &x};
		cr_assert_eq(solver ? gf_clear_milp(&bid, &f, 1, NULL, &r)
		                    : gf_clear_heuristic(&bid, &f, 1, NULL, &r),
		             GF_OK);
		cr_assert_eq(s, 2, "solver %d: start %d", solver, s);
		cr_assert_float_eq(x, 2.0, 1e-9);
		cr_assert_float_eq(r.objective, 0.04, 1e-9, "solver %d: %.9f", solver, r.objective);
		cr_assert_float_eq(r.mismatch, 0.0, 1e-9);
		cr_assert_eq(gf_clear_bound(&bid, &f, 1, r.objective, 200, &lb), GF_OK);
		cr_assert_leq(lb, 0.04 + 1e-9);
	}
	bid.headroom = NULL;
	int32_t s = -1;
	double x = -1;
	struct gf_clear_result r = {.start = &s, .amount = &x};
	cr_assert_eq(gf_clear_milp(&bid, &f, 1, NULL, &r), GF_OK);
	cr_assert_eq(s, 0);
	cr_assert_float_eq(r.objective, 1.0, 1e-9);
	/* A headroom where the bid asks something is refused. */
	double bad[3] = {1, 0, 0};
	bid.headroom = bad;
	cr_assert_eq(gf_clear_heuristic(&bid, &f, 1, NULL, &r), GF_EINVAL);
	bad[0] = 0;
	bad[1] = -1;
	cr_assert_eq(gf_clear_milp(&bid, &f, 1, NULL, &r), GF_EINVAL);
}

Test(clear, bound_is_tight_on_a_hand_computed_case)
{
	/* The tiny case above: optimum 0.15. With lambda_0 = 0.5, offer at 0:
	 * min over x in [0, 2] of 0.5 (x - 2) + 0.1 (2 - x) = -0.8 at x = 0,
	 * so L = 0.5 * 1.5 - 0.8 < 0; lambda_0 = 0.1 gives 0.15 - 0 = 0.15:
	 * the ascent must climb from 0 to (about) 0.15 and never above. */
	double lo = 0, hi = 2, df = 2, ch[2] = {1.5, 0}, pr[2] = {0.5, 0.5};
	struct gf_fo f = {.start_after = 0,
	                  .tf = 1,
	                  .n = 1,
	                  .lower = &lo,
	                  .upper = &hi,
	                  .dflt = &df,
	                  .total_min = NAN,
	                  .total_max = NAN,
	                  .tariff_min = 0.1,
	                  .tariff_max = 0.2};
	struct gf_clear_bid bid = {0, 2, ch, pr, NULL};
	double lb = -1;
	cr_assert_eq(gf_clear_bound(&bid, &f, 1, 0.15, 200, &lb), GF_OK);
	cr_assert_leq(lb, 0.15 + 1e-12);
	cr_assert_geq(lb, 0.14, "bound %.6f", lb);
	lb = -1;
	cr_assert_eq(gf_clear_bound(&bid, &f, 1, 0.15, 0, &lb), GF_OK);
	cr_assert_eq(lb, 0.0);
	lb = -1;
	cr_assert_eq(gf_clear_bound(&bid, &f, 1, NAN, 10, &lb), GF_EINVAL);
	cr_assert_eq(gf_clear_bound(NULL, &f, 1, 1.0, 10, &lb), GF_EINVAL);
	cr_assert_eq(lb, -1);
}

/* An instance of `count` generated aggregates (the bench's workload) with a
 * bid on the evening peak; big enough that GLPK needs many seconds. */
struct big {
	struct gf_fo_set set;
	struct gf_fo *fo;
	double change[96], price[96];
	struct gf_clear_bid bid;
	int32_t *start;
	double *amount;
};

static void make_big(struct big *b, size_t count)
{
	memset(b, 0, sizeof *b);
	cr_assert_eq(gf_fo_set_init(&b->set, count, 8 * count), GF_OK);
	cr_assert_eq(gf_fo_workload_generate(&b->set, count, 1234, NULL), GF_OK);
	b->fo = calloc(count, sizeof *b->fo);
	b->start = calloc(count, sizeof *b->start);
	b->amount = calloc(b->set.slice_count, sizeof *b->amount);
	cr_assert(b->fo && b->start && b->amount);
	double load[96 + 32] = {0};
	for (size_t i = 0; i < count; i++) {
		b->set.tariff_min[i] = 0.02 + 0.0001 * (double)(i % 1000);
		b->set.tariff_max[i] = 0.03 + 0.0001 * (double)(i % 997);
		cr_assert_eq(gf_fo_set_get(&b->set, i, &b->fo[i]), GF_OK);
		for (int32_t k = 0; k < b->fo[i].n; k++)
			load[b->fo[i].start_after + k] += b->fo[i].dflt[k];
	}
	for (int32_t t = 0; t < 96; t++) {
		b->change[t] = t >= 68 && t < 84 ? 0.15 * load[t] : 0.0;
		b->price[t] = 0.25;
	}
	b->bid = (struct gf_clear_bid){0, 96, b->change, b->price, NULL};
}

static void free_big(struct big *b)
{
	free(b->amount);
	free(b->start);
	free(b->fo);
	gf_fo_set_free(&b->set);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

Test(clear, time_limit_returns_the_warm_start)
{
	/* 300 aggregates: GLPK needs about 10 s for the optimum here. With a
	 * 0.5 s limit the call returns soon after it, with a schedule (the
	 * heuristic's warm start or better) and a proven bound below it. */
	struct big b;
	make_big(&b, 300);
	struct gf_clear_options opt = {.time_limit_s = 0.5, .max_columns = 1000000};
	struct gf_clear_result r = {.start = b.start, .amount = b.amount, .bound = NAN};
	double t0 = now_s();
	cr_assert_eq(gf_clear_milp(&b.bid, b.fo, 300, &opt, &r), GF_OK);
	double dt = now_s() - t0;
	cr_assert_lt(dt, 3.0, "time limit 0.5 s, took %.2f s", dt);
	cr_assert(r.status == GF_CLEAR_FEASIBLE || r.status == GF_CLEAR_OPTIMAL, "status %s",
	          gf_clear_status_name(r.status));
	struct gf_clear_result e = r;
	cr_assert_eq(gf_clear_evaluate(&b.bid, b.fo, 300, b.start, b.amount, 1e-6, &e), GF_OK);
	cr_assert_float_eq(e.objective, r.objective, 1e-6);
	cr_assert(isfinite(r.bound));
	cr_assert_gt(r.bound, 0.0);
	cr_assert_leq(r.bound, r.objective);
	/* Never worse than the heuristic it started from. */
	int32_t *hs = calloc(300, sizeof *hs);
	double *hx = calloc(b.set.slice_count, sizeof *hx);
	cr_assert(hs && hx);
	struct gf_clear_result h = {.start = hs, .amount = hx};
	cr_assert_eq(gf_clear_heuristic(&b.bid, b.fo, 300, NULL, &h), GF_OK);
	cr_assert_leq(r.objective, h.objective + 1e-9);
	free(hx);
	free(hs);
	free_big(&b);
}

Test(clear, no_time_at_all_still_gives_a_schedule)
{
	/* A limit far below the heuristic's own run: GLPK never starts, the
	 * heuristic's schedule comes back as FEASIBLE with the Lagrangian
	 * bound. */
	struct inst in;
	make_instance(&in, 15);
	int32_t s[MAXO];
	double x[MAXO * MAXN];
	struct gf_clear_options opt = {.time_limit_s = 1e-9};
	struct gf_clear_result r = {.start = s, .amount = x, .status = GF_CLEAR_TOO_LARGE};
	cr_assert_eq(gf_clear_milp(&in.bid, in.fo, in.count, &opt, &r), GF_OK);
	cr_assert_eq(r.status, GF_CLEAR_FEASIBLE);
	check_feasible(&in, &r);
	cr_assert(isfinite(r.bound));
	cr_assert_leq(r.bound, r.objective);
}
