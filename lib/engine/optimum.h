/* SPDX-License-Identifier: MIT */
/*
 * optimum.h - the perfect-information optimum of a feeder: the schedules of
 * every FlexOffer, knowing the whole day, that leave the least energy above
 * the feeder's limit (docs/demo.md, "The optimum").
 *
 * Over the horizon [start, start + intervals) the feeder draws, per
 * interval t, fixed[t] (the load no offer moves) plus what every offer
 * takes at t. Each offer o is started at some s in [start_after,
 * start_after + tf]; slice k then takes an amount in [lower[k], upper[k]] at
 * interval s + k, and the amounts sum into the total bounds when given.
 * The optimum minimises
 *
 *   sum_{t in horizon} max(0, fixed[t] + sum_o x_o(t) - limit)
 *
 * plus a tie-break of 1e-4 per kWh of departure from each offer's default
 * (so that an offer that cannot help stays on its default). Slices outside
 * the horizon are free within their bounds and count nothing.
 *
 * The start choice is a binary per offer and start (a MILP, GLPK's branch
 * and bound with a time limit) or, with relax, its LP relaxation: a convex
 * combination of starts, the offer split across several of them, which no
 * device can do. The relaxation's overload is a lower bound on the MILP's
 * (up to the tie-break): an optimistic optimum. Offers with tf = 0 are the
 * same in both.
 */
#ifndef GF_OPTIMUM_H
#define GF_OPTIMUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "engine/fo.h"

/* The problem; the arrays belong to the caller. Offers as gf_fo_set_add
 * checks them (a NULL default is (lower + upper) / 2); tariffs are ignored. */
struct gf_optimum_problem {
	int32_t start;              /* first interval of the horizon */
	int32_t intervals;          /* T >= 1 */
	const double *fixed;        /* T kWh, finite */
	double limit;               /* kWh per interval, finite */
	const struct gf_fo *offers; /* count offers (NULL when count is 0) */
	size_t count;
	bool relax;          /* the LP relaxation of the start choices instead of the MILP */
	double time_limit_s; /* the MILP's branch and bound; <= 0 means 60 s */
};

enum gf_optimum_status {
	GF_OPTIMUM_OPTIMAL,  /* the MILP's optimum, proven to 1e-3 of the objective (also: every
	                      * tf is 0, so the LP is exact) */
	GF_OPTIMUM_FEASIBLE, /* the MILP's best schedule at its time limit, gap above 1e-3 */
	GF_OPTIMUM_RELAXED /* the LP relaxation: asked for, or the MILP found no schedule in time */
};

/* Returns a static name of status ("optimal", "feasible", "relaxed"). */
const char *gf_optimum_status_name(enum gf_optimum_status status);

/* The result. load, relaxed_load and amount are caller-owned buffers (load
 * and relaxed_load: T doubles; amount: the sum of the offers' n, offer o's
 * slices at the prefix sum of n before o; all but load may be NULL),
 * written only on success. amount is the slice's
 * amount at the chosen start; for a relaxed offer split over starts, the
 * weighted sum of its amounts over them (slice by slice, not in time). */
struct gf_optimum_result {
	double *load;         /* per interval of the horizon: fixed + the offers' amounts, kWh */
	double *relaxed_load; /* the same for the LP relaxation; NULL: not wanted */
	double *amount;       /* per slice, kWh; NULL: not wanted */
	int32_t *first;       /* per offer, the start with the largest weight; NULL: not wanted */
	enum gf_optimum_status status;
	double overload;   /* kWh above the limit over the horizon, of load */
	double relaxation; /* the LP relaxation's overload: a lower bound on the MILP's */
	double gap;        /* FEASIBLE: its objective minus the best bound over the search's open
	                    * nodes, kWh (INFINITY when it never looked); else 0 */
	int binaries;      /* start choices (0 when every tf is 0) */
	double seconds;    /* the whole call, wall clock */
};

/*
 * Solves p into *r (its buffers filled, its numbers set). GF_EINVAL for a
 * bad problem or offer (err says which), GF_ENOMEM, GF_ERANGE for a problem
 * over GLPK's int indices, GF_EIO when GLPK fails on the LP relaxation
 * (cannot happen with valid input: the defaults are a solution). *r and its
 * buffers are untouched on failure.
 */
enum gf_err gf_optimum_solve(const struct gf_optimum_problem *p, struct gf_optimum_result *r,
                             char *err, size_t errlen);

#endif
