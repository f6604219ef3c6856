/* SPDX-License-Identifier: MIT */
/*
 * clear.h - market clearing: fit FlexOffers to a DSO bid at least cost.
 *
 * A bid asks, for each interval t of [start, start + intervals), a change
 * r_t kWh of the offers' consumption (positive = consume less / produce
 * more) and pays up to price_t EUR/kWh. Every offer either keeps its default
 * schedule or, when its asking tariffs fit the bid's price, is started at
 * some s in [start_after, start_after + tf] with amounts inside its slice and
 * total bounds. The objective (docs/clearing.md) is
 *
 *   min  sum_t w_t dist(m_t, [0, h_t])
 *      + sum_o sum_t (tariff_max_o dev+_{o,t} + tariff_min_o dev-_{o,t})
 *
 * where m_t = r_t - sum_o (d_o(t) - x_o(t)) is what is asked minus what is
 * delivered, w_t = price_t inside the bid and max price outside it, and h_t
 * the bid's headroom (0 without one: the term is then w_t |m_t|): in an
 * interval where nothing is asked the grid takes up to h_t kWh more
 * consumption at no cost, so load moved out of a congested interval can
 * land there. Two solvers:
 * gf_clear_milp (exact, GLPK) and gf_clear_heuristic (fast). Offers are
 * checked as gf_fo_set_add does, and the default must satisfy the total
 * bounds (it is the schedule of an unused offer).
 */
#ifndef GF_CLEAR_H
#define GF_CLEAR_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "engine/fo.h"

/* The DSO bid; arrays of `intervals` entries belong to the caller. */
struct gf_clear_bid {
	int32_t start;        /* first interval of the bid */
	int32_t intervals;    /* T >= 1 */
	const double *change; /* r_t kWh, positive = less consumption */
	const double *price;  /* EUR/kWh, finite and >= 0 */
	/* NULL, or h_t kWh >= 0 per interval: more consumption the grid takes
	 * at no cost; only where r_t = 0 (GF_EINVAL otherwise). */
	const double *headroom;
};

enum gf_clear_status {
	GF_CLEAR_OPTIMAL,     /* proven optimum */
	GF_CLEAR_FEASIBLE,    /* a schedule, optimality not proven (heuristic, MILP time limit) */
	GF_CLEAR_EMPTY_BID,   /* every r_t is 0: defaults returned */
	GF_CLEAR_NO_ELIGIBLE, /* no offer's tariff fits the price: defaults returned */
	GF_CLEAR_INFEASIBLE,  /* the solver found no schedule (cannot happen with valid input) */
	GF_CLEAR_TOO_LARGE    /* MILP over the size limit: nothing written */
};

/* Returns a static name of status ("optimal", ...). */
const char *gf_clear_status_name(enum gf_clear_status status);

struct gf_clear_options {
	double time_limit_s; /* MILP only, for the whole call; <= 0 means 10 s */
	size_t max_columns;  /* MILP only; 0 means 60000 */
	int passes;          /* heuristic improvement rounds; <= 0 means 20 */
};

/* The result. start (one per offer) and amount (sum of the offers' n, offer
 * o's slices at the prefix sum of n before o) are caller-owned buffers;
 * they are written only when status is OPTIMAL, FEASIBLE, EMPTY_BID or
 * NO_ELIGIBLE. */
struct gf_clear_result {
	int32_t *start;
	double *amount;
	enum gf_clear_status status;
	double objective; /* the formula above */
	double mismatch;  /* sum_t w_t |mismatch_t| part */
	double cost;      /* tariff part */
	double delivered; /* sum over the bid's intervals of the delivered change */
	int eligible;     /* offers allowed to deviate */
	double bound;     /* proven lower bound on the optimum objective: = objective when
	                   * OPTIMAL, EMPTY_BID or NO_ELIGIBLE; the MILP's best (LP,
	                   * search tree, Lagrangian) when FEASIBLE; NaN from the
	                   * heuristic and for TOO_LARGE */
};

/* An offer may deviate iff max(tariff_min, tariff_max) (NaN = 0) <= the
 * lowest price over the bid's intervals with r_t != 0. */
int gf_clear_eligible(const struct gf_clear_bid *bid, const struct gf_fo *offer);

/* Exact clearing with GLPK (start times binary over each tf window),
 * warm-started from gf_clear_heuristic's schedule and bounded by
 * gf_clear_bound. The whole call keeps to opt->time_limit_s (GLPK's own
 * overrun past its tm_lim is reserved, see docs/clearing.md); at the limit
 * the best schedule found is returned as FEASIBLE (never worse than the
 * heuristic's) with the best proven bound. Fills *res (status, bound and,
 * when a schedule exists, start/amount and the objective terms; TOO_LARGE
 * writes neither). GF_EINVAL for a bad bid or offer (checks as
 * gf_fo_set_add), GF_ENOMEM; *res untouched on failure. opt may be NULL. */
enum gf_err gf_clear_milp(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                          const struct gf_clear_options *opt, struct gf_clear_result *res);

/* Heuristic clearing (deterministic): start moves of single offers, exact
 * re-dispatch of the amounts for fixed starts, kicks (an offer forced to
 * another start, then re-descent) within a work budget, and exact amounts
 * where total bounds need them: GLPK's amount LP on small instances, the
 * projection solver (clear_amounts.c) above (docs/clearing.md).
 * Status FEASIBLE with bound NaN (or EMPTY_BID / NO_ELIGIBLE). Same errors
 * as gf_clear_milp. */
enum gf_err gf_clear_heuristic(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                               size_t count, const struct gf_clear_options *opt,
                               struct gf_clear_result *res);

/* A Lagrangian lower bound on the optimum objective (docs/clearing.md):
 * `iterations` subgradient steps aiming at `upper` (a feasible objective,
 * e.g. the heuristic's; >= 0). Every step's value is a proven bound; the
 * best goes to *bound (0 when iterations is 0). Time O(iterations * sum_o
 * (tf_o + 1) n_o). GF_EINVAL for bad input; *bound untouched on failure. */
enum gf_err gf_clear_bound(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                           double upper, int iterations, double *bound);

/* Checks that start/amount is a feasible schedule (windows, slice and total
 * bounds within tol, ineligible offers at their default) and computes its
 * objective terms into res (start/amount pointers and status unchanged).
 * GF_ERANGE when infeasible, GF_EINVAL for bad input; res untouched then. */
enum gf_err gf_clear_evaluate(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                              size_t count, const int32_t *start, const double *amount, double tol,
                              struct gf_clear_result *res);

/* Internal, shared by the clear*.c modules. */
#define GF__CLEAR_BOUND_ITERATIONS 200
/* Time GLPK's simplex may take past its tm_lim, per row (measured). */
#define GF__CLEAR_SECONDS_PER_ROW 1.2e-5
/* The heuristic's budget for kicks, in elementary placement steps. */
#define GF__CLEAR_KICK_WORK 2e7
/* The heuristic's exact amount LP runs up to this many slices. */
#define GF__CLEAR_LP_SLICES 2000
/* ... and after each kick up to this many. */
#define GF__CLEAR_KICK_LP_SLICES 64
/* Rounds of best responses of the projection amount solver. */
#define GF__CLEAR_PROJECTION_ROUNDS 50
/* Its budget for negative-cycle search, in arc relaxations per call. */
#define GF__CLEAR_CYCLE_WORK 2e6
/* Exact amounts for the fixed starts (GLPK simplex) into amount (eligible
 * offers only). GF_ENOMEM, GF_ERANGE when not solved; amount untouched then. */
enum gf_err gf__clear_amounts_lp(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                                 size_t count, const int32_t *start, double *amount);
/* How the heuristic sets the amounts of fixed starts when some eligible
 * offer has total bounds (docs/clearing.md "Amounts by projection"). */
enum gf__clear_amounts {
	GF__CLEAR_AMOUNTS_AUTO,       /* GLPK's amount LP up to GF__CLEAR_LP_SLICES slices,
	                               * the projection solver above (gf_clear_heuristic) */
	GF__CLEAR_AMOUNTS_PROJECTION, /* the projection solver always (no GLPK) */
	GF__CLEAR_AMOUNTS_LEGACY      /* as before it: the LP up to GF__CLEAR_LP_SLICES,
	                               * coordinate moves only above (benchmark baseline) */
};
/* gf_clear_heuristic with the amount solver chosen (tests, benchmark). */
enum gf_err gf__clear_heuristic_with(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                                     size_t count, const struct gf_clear_options *opt,
                                     enum gf__clear_amounts amounts, struct gf_clear_result *res);
/* The same without GLPK (clear_amounts.c): interval value functions of
 * the offers without total bounds, exact per-offer best responses of the
 * total-bounded ones for at most `rounds` rounds, then a merit-order
 * dispatch of the others. Writes the eligible offers' amounts; amount must
 * hold a feasible schedule for the starts on entry. GF_ENOMEM (amount
 * untouched). */
enum gf_err gf__clear_amounts_projection(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                                         size_t count, const int32_t *start, double *amount,
                                         int rounds);
enum gf_err gf__clear_validate(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                               size_t count);
double gf__clear_dflt(const struct gf_fo *o, int32_t t);
double gf__clear_tariff(double tariff);
double gf__clear_change(const struct gf_clear_bid *bid, int32_t t); /* r_t, 0 outside */
void gf__clear_axis(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                    int32_t *lo, int32_t *hi);
double gf__clear_weight(const struct gf_clear_bid *bid, int32_t t);
double gf__clear_headroom(const struct gf_clear_bid *bid, int32_t t); /* h_t, 0 outside */
/* dist(m, [0, h]): the mismatch's cost per unit weight. */
double gf__clear_band(double m, double h);
int gf__clear_defaults(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                       struct gf_clear_result *res);

#endif
