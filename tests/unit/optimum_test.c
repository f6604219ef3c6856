/* SPDX-License-Identifier: MIT */
/*
 * optimum_test.c - the feeder's perfect-information optimum on cases small
 * enough to solve by hand: a battery shaving one peak, an EV's fixed total
 * put where there is room, a washer whose start the MILP must choose whole
 * (and the relaxation may split), slices outside the horizon, the
 * tie-break keeping idle offers on their default, bad input.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/optimum.h"
#include "leak_check.h"

TestSuite(optimum, .fini = leak_check);

#define TOL 1e-6

static struct gf_optimum_problem problem(const double *fixed, int32_t T, double limit,
                                         const struct gf_fo *offers, size_t count)
{
	struct gf_optimum_problem p = {.start = 100,
	                               .intervals = T,
	                               .fixed = fixed,
	                               .limit = limit,
	                               .offers = offers,
	                               .count = count,
	                               .relax = false,
	                               .time_limit_s = 10};
	return p;
}

static void solve_ok(const struct gf_optimum_problem *p, struct gf_optimum_result *r)
{
	char err[128] = "";
	enum gf_err rc = gf_optimum_solve(p, r, err, sizeof(err));

	cr_assert_eq(rc, GF_OK, "%s: %s", gf_strerror(rc), err);
}

/* Limit 1 kWh; the fixed load is 2 kWh in the second of four intervals. A
 * battery may move 0.5 kWh either way per interval, net zero over the day:
 * it discharges 0.5 at the peak (overload 1 -> 0.5) and charges 0.5 in one
 * of the others, which stay at or under the limit (0.5 + 0.5). */
Test(optimum, battery_shaves_the_peak)
{
	const double fixed[4] = {0.5, 2.0, 0.5, 0.5};
	const double lo[4] = {-0.5, -0.5, -0.5, -0.5}, hi[4] = {0.5, 0.5, 0.5, 0.5};
	const double df[4] = {0, 0, 0, 0};
	const struct gf_fo bat = {100, 0, 4, lo, hi, df, 0.0, 0.0, NAN, NAN};
	struct gf_optimum_problem p = problem(fixed, 4, 1.0, &bat, 1);
	double load[4], amount[4];
	int32_t first[1];
	struct gf_optimum_result r = {.load = load, .amount = amount, .first = first};

	solve_ok(&p, &r);
	cr_assert_eq(r.status, GF_OPTIMUM_OPTIMAL);
	cr_assert_eq(r.binaries, 0);
	cr_assert_float_eq(r.overload, 0.5, TOL);
	cr_assert_float_eq(r.relaxation, 0.5, TOL);
	cr_assert_float_eq(load[1], 1.5, TOL);
	cr_assert_float_eq(amount[1], -0.5, TOL);
	cr_assert_float_eq(amount[0] + amount[1] + amount[2] + amount[3], 0.0, TOL);
	cr_assert_eq(first[0], 100);
	for (int t = 0; t < 4; t++)
		cr_assert(t == 1 || load[t] <= 1.0 + TOL, "interval %d at %g", t, load[t]);
}

/* An EV must take exactly 2 kWh, at most 1 per interval; its default charges
 * at once (1, 1, 0, 0), which puts the first two intervals 0.5 over the
 * limit of 1. The room under the limit is 0.5, 0.5, 1, 0: exactly 2, so the
 * only optimum is (0.5, 0.5, 1, 0) with no overload. */
Test(optimum, ev_total_where_there_is_room)
{
	const double fixed[4] = {0.5, 0.5, 0.0, 1.0};
	const double lo[4] = {0, 0, 0, 0}, hi[4] = {1, 1, 1, 1}, df[4] = {1, 1, 0, 0};
	const struct gf_fo ev = {100, 0, 4, lo, hi, df, 2.0, 2.0, NAN, NAN};
	struct gf_optimum_problem p = problem(fixed, 4, 1.0, &ev, 1);
	const double want[4] = {0.5, 0.5, 1.0, 0.0};
	double load[4], amount[4];
	struct gf_optimum_result r = {.load = load, .amount = amount};

	solve_ok(&p, &r);
	cr_assert_eq(r.status, GF_OPTIMUM_OPTIMAL);
	cr_assert_float_eq(r.overload, 0.0, TOL);
	for (int k = 0; k < 4; k++) {
		cr_assert_float_eq(amount[k], want[k], TOL, "slice %d: %g", k, amount[k]);
		cr_assert_float_eq(load[k], fixed[k] + want[k], TOL);
	}
}

/* A washer of one 2 kWh slice may start in interval 100 or 101 (tf 1); no
 * other load, limit 1. Whole, it is 1 kWh over wherever it runs: the MILP's
 * optimum is 1. Split half and half over both starts, 1 kWh in each
 * interval, it is never over: the relaxation's 0, the optimistic bound. The
 * MILP keeps the default start (the tie-break: moving gains nothing). */
Test(optimum, washer_start_milp_and_relaxation)
{
	const double fixed[3] = {0, 0, 0};
	const double lo[1] = {2}, hi[1] = {2}, df[1] = {2};
	const struct gf_fo washer = {100, 1, 1, lo, hi, df, NAN, NAN, NAN, NAN};
	struct gf_optimum_problem p = problem(fixed, 3, 1.0, &washer, 1);
	double load[3], relaxed[3];
	int32_t first[1];
	struct gf_optimum_result r = {.load = load, .relaxed_load = relaxed, .first = first};

	solve_ok(&p, &r);
	cr_assert_eq(r.status, GF_OPTIMUM_OPTIMAL);
	cr_assert_eq(r.binaries, 2);
	cr_assert_float_eq(relaxed[0], 1.0, TOL);
	cr_assert_float_eq(relaxed[1], 1.0, TOL);
	cr_assert_float_eq(r.overload, 1.0, TOL);
	cr_assert_float_eq(r.relaxation, 0.0, TOL);
	cr_assert_eq(first[0], 100);
	cr_assert_float_eq(load[0], 2.0, TOL);
	cr_assert_float_eq(load[1], 0.0, TOL);

	p.relax = true;
	solve_ok(&p, &r);
	cr_assert_eq(r.status, GF_OPTIMUM_RELAXED);
	cr_assert_float_eq(r.overload, 0.0, TOL);
	cr_assert_float_eq(load[0], 1.0, TOL);
	cr_assert_float_eq(load[1], 1.0, TOL);
}

/* Slices of every sign with a start choice: a zero slice, a negative one, a
 * fixed one. The device (0, -1..-0.5, 1) may start at 100 or 101 over a
 * fixed load of 1.5, 3.0, 1.5 against a limit of 2. Started at 100 it
 * discharges 1 on the peak (3.0 - 1: not over) and takes its 1 kWh in the
 * third interval (2.5: 0.5 over); at 101 the peak stays (1.0 over) and the
 * rest is harmless. The optimum starts at 100, discharging fully: 0.5 over. */
Test(optimum, slices_of_every_sign)
{
	const double fixed[3] = {1.5, 3.0, 1.5};
	const double lo[3] = {0, -1, 1}, hi[3] = {0, -0.5, 1}, df[3] = {0, -0.5, 1};
	const struct gf_fo f = {100, 1, 3, lo, hi, df, NAN, NAN, NAN, NAN};
	struct gf_optimum_problem p = problem(fixed, 3, 2.0, &f, 1);
	double load[3], amount[3];
	int32_t first[1];
	struct gf_optimum_result r = {.load = load, .amount = amount, .first = first};

	solve_ok(&p, &r);
	cr_assert_eq(r.status, GF_OPTIMUM_OPTIMAL);
	cr_assert_eq(first[0], 100);
	cr_assert_float_eq(r.overload, 0.5, TOL);
	cr_assert_float_eq(amount[0], 0.0, TOL);
	cr_assert_float_eq(amount[1], -1.0, TOL);
	cr_assert_float_eq(amount[2], 1.0, TOL);
}

/* A washer of two slices (1.5 then 0.5 kWh) may start at 100, 101 or 102;
 * the fixed load is 1.0, 1.0, 0.5, 0.5, limit 1.5. Started at 100: 2.5,
 * 1.5 -> 1.0 over; at 101: 1.0, 2.5, 1.0 -> 1.0 over; at 102: 1.0, 1.0,
 * 2.0, 1.0 -> 0.5 over: the optimum. */
Test(optimum, washer_moves_to_its_best_start)
{
	const double fixed[4] = {1.0, 1.0, 0.5, 0.5};
	const double lo[2] = {1.5, 0.5}, hi[2] = {1.5, 0.5}, df[2] = {1.5, 0.5};
	const struct gf_fo washer = {100, 2, 2, lo, hi, df, NAN, NAN, NAN, NAN};
	struct gf_optimum_problem p = problem(fixed, 4, 1.5, &washer, 1);
	double load[4];
	int32_t first[1];
	struct gf_optimum_result r = {.load = load, .first = first};

	solve_ok(&p, &r);
	cr_assert_eq(r.status, GF_OPTIMUM_OPTIMAL);
	cr_assert_float_eq(r.overload, 0.5, TOL);
	cr_assert_eq(first[0], 102);
	cr_assert_float_eq(load[2], 2.0, TOL);
	cr_assert_float_eq(load[3], 1.0, TOL);
}

/* Slices outside the horizon count nothing: a battery running from 98 to
 * 101 (net zero) charges in 98 and 99, before the horizon, and discharges
 * 1 kWh in each of 100 and 101, where the fixed load is 2 over a limit of
 * 1: overload 2 -> 0. A second offer with no bearing on any overload stays
 * on its default (the tie-break). */
Test(optimum, outside_the_horizon_and_idle_offers)
{
	const double fixed[2] = {2.0, 2.0};
	const double lo[4] = {-1, -1, -1, -1}, hi[4] = {1, 1, 1, 1}, df[4] = {0, 0, 0, 0};
	const double lo2[2] = {0, 0}, hi2[2] = {1, 1}, df2[2] = {0.3, 0.7};
	const struct gf_fo offers[2] = {{98, 0, 4, lo, hi, df, 0.0, 0.0, NAN, NAN},
	                                {200, 0, 2, lo2, hi2, df2, NAN, NAN, NAN, NAN}};
	struct gf_optimum_problem p = problem(fixed, 2, 1.0, offers, 2);
	double load[2], amount[6];
	struct gf_optimum_result r = {.load = load, .amount = amount};

	solve_ok(&p, &r);
	cr_assert_float_eq(r.overload, 0.0, TOL);
	cr_assert_float_eq(amount[0] + amount[1], 2.0, TOL);
	cr_assert_float_eq(amount[2], -1.0, TOL);
	cr_assert_float_eq(amount[3], -1.0, TOL);
	cr_assert_float_eq(amount[4], 0.3, TOL);
	cr_assert_float_eq(amount[5], 0.7, TOL);
}

/* Without overload nothing moves: the optimum is the default. */
Test(optimum, no_overload_keeps_the_defaults)
{
	const double fixed[3] = {0.1, 0.2, 0.3};
	const double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1}, df[3] = {0.2, 0.4, 0.1};
	const struct gf_fo f = {100, 0, 3, lo, hi, df, 0.7, 0.7, NAN, NAN};
	struct gf_optimum_problem p = problem(fixed, 3, 5.0, &f, 1);
	double load[3], amount[3];
	struct gf_optimum_result r = {.load = load, .amount = amount};

	solve_ok(&p, &r);
	cr_assert_float_eq(r.overload, 0.0, TOL);
	for (int k = 0; k < 3; k++)
		cr_assert_float_eq(amount[k], df[k], TOL);
}

/* Bad input: nothing written. */
Test(optimum, bad_input_leaves_the_result)
{
	const double fixed[2] = {1, NAN};
	const double lo[1] = {2}, hi[1] = {1};
	const struct gf_fo crossed = {100, 0, 1, lo, hi, NULL, NAN, NAN, NAN, NAN};
	const double lo2[1] = {0}, hi2[1] = {1};
	const struct gf_fo unreachable = {100, 0, 1, lo2, hi2, NULL, 3.0, 4.0, NAN, NAN};
	const double ok[2] = {1, 1};
	double load[2] = {-7, -7};
	struct gf_optimum_result r = {.load = load, .overload = -1};
	struct gf_optimum_problem p = problem(fixed, 2, 1.0, NULL, 0);
	char err[128];

	cr_assert_eq(gf_optimum_solve(&p, &r, err, sizeof(err)), GF_EINVAL);
	p = problem(ok, 2, 1.0, &crossed, 1);
	cr_assert_eq(gf_optimum_solve(&p, &r, err, sizeof(err)), GF_EINVAL);
	p = problem(ok, 2, 1.0, &unreachable, 1);
	cr_assert_eq(gf_optimum_solve(&p, &r, err, sizeof(err)), GF_EINVAL);
	cr_assert(strstr(err, "total") != NULL, "%s", err);
	p = problem(ok, 0, 1.0, NULL, 0);
	cr_assert_eq(gf_optimum_solve(&p, &r, err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(load[0], -7);
	cr_assert_eq(r.overload, -1);
}

/* Many washers and batteries: the MILP is never worse than the defaults and
 * never better than the relaxation, and its load is the fixed load plus
 * schedules inside every bound. */
Test(optimum, milp_between_relaxation_and_defaults)
{
	enum { O = 12, N = 3, T = 24 };
	double fixed[T], lo[O][N], hi[O][N], df[O][N], load[T], amount[O * N], dload[T];
	int32_t first[O];
	struct gf_fo f[O];
	struct gf_optimum_result r = {.load = load, .amount = amount, .first = first};
	double base = 0;
	uint64_t x = 12345;

	for (int t = 0; t < T; t++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		fixed[t] = 1.0 + (double)(x >> 40) / (double)(1ULL << 24) * 2.0;
	}
	memcpy(dload, fixed, sizeof dload);
	for (int o = 0; o < O; o++) {
		for (int k = 0; k < N; k++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			lo[o][k] = o % 2 ? (double)(x >> 40) / (double)(1ULL << 24) : -0.5;
			hi[o][k] = o % 2 ? lo[o][k] : 0.5;
			df[o][k] = o % 2 ? lo[o][k] : 0.0;
		}
		f[o] =
		    (struct gf_fo){100 + o,           o % 2 ? 6 : 0,     N,   lo[o], hi[o], df[o],
		                   o % 2 ? NAN : 0.0, o % 2 ? NAN : 0.0, NAN, NAN};
		for (int k = 0; k < N; k++)
			dload[o + k] += df[o][k];
	}
	for (int t = 0; t < T; t++)
		base += fmax(0.0, dload[t] - 2.5);
	struct gf_optimum_problem p = problem(fixed, T, 2.5, f, O);
	solve_ok(&p, &r);
	cr_assert_eq(r.status, GF_OPTIMUM_OPTIMAL);
	cr_assert(r.overload <= base + TOL, "%g > defaults %g", r.overload, base);
	cr_assert(r.overload >= r.relaxation - 1e-3, "%g < relaxation %g", r.overload,
	          r.relaxation);
	cr_assert(r.overload < base - 0.1, "the batteries help: %g vs %g", r.overload, base);
	double sum[T];
	memcpy(sum, fixed, sizeof sum);
	for (int o = 0; o < O; o++) {
		cr_assert(first[o] >= f[o].start_after && first[o] <= f[o].start_after + f[o].tf);
		for (int k = 0; k < N; k++) {
			double a = amount[o * N + k];
			cr_assert(a >= lo[o][k] - TOL && a <= hi[o][k] + TOL);
			sum[first[o] - 100 + k] += a;
		}
	}
	for (int t = 0; t < T; t++)
		cr_assert_float_eq(load[t], sum[t], 1e-6, "interval %d", t);
	printf(
	    "optimum: defaults %.3f, MILP %.3f, relaxation %.3f kWh over (%d binaries, %.3f s)\n",
	    base, r.overload, r.relaxation, r.binaries, r.seconds);
}

/* Washers with fixed amounts only: the MILP's optimum equals the best of
 * every combination of starts, enumerated (5 washers, 4 starts each: 1024). */
Test(optimum, milp_equals_enumeration)
{
	enum { O = 5, N = 3, TF = 3, T = 12 };
	const double fixed[T] = {1.0, 1.5, 2.0, 2.5, 2.0, 1.0, 0.5, 0.5, 1.0, 2.0, 1.5, 1.0};
	double lo[O][N], load[T];
	struct gf_fo f[O];
	struct gf_optimum_result r = {.load = load};
	double best = INFINITY;

	for (int o = 0; o < O; o++) {
		for (int k = 0; k < N; k++)
			lo[o][k] = 0.3 + 0.2 * ((o + 2 * k) % 4);
		f[o] = (struct gf_fo){100 + o, TF, N, lo[o], lo[o], lo[o], NAN, NAN, NAN, NAN};
	}
	for (int c = 0; c < 1 << (2 * O); c++) {
		double l[T], over = 0;
		memcpy(l, fixed, sizeof l);
		for (int o = 0; o < O; o++)
			for (int k = 0; k < N; k++)
				l[o + ((c >> (2 * o)) & 3) + k] += lo[o][k];
		for (int t = 0; t < T; t++)
			over += fmax(0.0, l[t] - 2.0);
		best = fmin(best, over);
	}
	struct gf_optimum_problem p = problem(fixed, T, 2.0, f, O);
	solve_ok(&p, &r);
	cr_assert_eq(r.status, GF_OPTIMUM_OPTIMAL);
	cr_assert_float_eq(r.overload, best, 1e-6, "MILP %g, enumeration %g", r.overload, best);
	cr_assert(r.relaxation <= best + 1e-6);
}
