/* SPDX-License-Identifier: MIT */
/*
 * fo.h - the engine's compact FlexOffer model and flexibility measures.
 *
 * A FlexOffer here has unit slices of 900 s (one interval each). Its start
 * may be chosen in [start_after, start_after + tf]; slice k then covers
 * interval start + k and must deliver an amount in [lower[k], upper[k]] kWh
 * (consumption positive, production negative). Optional total-energy bounds
 * constrain the sum of the amounts (NaN = absent); acceptance and
 * assignment deadlines are kept beside each offer in a set. docs/engine.md
 * states every formula below.
 *
 * Offers live in a struct gf_fo_set: flat arrays (struct of arrays) sized
 * once at init, so adding an offer never allocates.
 */
#ifndef GF_FO_H
#define GF_FO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "engine/javarand.h"

/* A read-only view of one offer; the arrays belong to whoever made it. */
struct gf_fo {
	int32_t start_after; /* earliest start interval */
	int32_t tf;          /* time flexibility: start_before = start_after + tf */
	int32_t n;           /* number of unit slices, >= 1 */
	const double *lower; /* n kWh */
	const double *upper; /* n kWh, upper[k] >= lower[k] */
	const double *dflt;  /* n kWh default schedule (starting at start_after), or NULL */
	double total_min;    /* kWh, NaN when absent */
	double total_max;    /* kWh, NaN when absent */
	double tariff_min;   /* price asked per kWh below the default, NaN when absent */
	double tariff_max;   /* price asked per kWh above the default, NaN when absent */
};

/* Deadlines of an offer (SPEC section 6: acceptanceBeforeInterval,
 * assignmentBeforeInterval), interval numbers like start_after;
 * GF_FO_NO_DEADLINE when absent. They are not fields of struct gf_fo so that
 * the positional initializers of struct gf_fo elsewhere stay complete (and
 * -Wmissing-field-initializers quiet): a set stores them beside each offer,
 * see gf_fo_set_add_with_deadlines. */
#define GF_FO_NO_DEADLINE INT32_MAX

struct gf_fo_deadlines {
	int32_t acceptance_before; /* the offer must be accepted before this interval */
	int32_t assignment_before; /* and scheduled (assigned) before this one */
};

#define GF_FO_DEADLINES_NONE ((struct gf_fo_deadlines){GF_FO_NO_DEADLINE, GF_FO_NO_DEADLINE})

/* Many offers in flat arrays. Offer i has slices slice_off[i] ..
 * slice_off[i] + n[i] - 1 of lower/upper/dflt. Read the fields directly;
 * change them only through the functions below. */
struct gf_fo_set {
	size_t count, cap;               /* offers */
	size_t slice_count, slice_cap;   /* slices */
	int32_t *start_after, *tf, *n;   /* per offer */
	size_t *slice_off;               /* per offer */
	double *total_min, *total_max;   /* per offer, NaN when absent */
	double *tariff_min, *tariff_max; /* per offer, NaN when absent */
	double *lower, *upper, *dflt;    /* per slice */
	int32_t *acceptance_before;      /* per offer, GF_FO_NO_DEADLINE when absent */
	int32_t *assignment_before;      /* per offer, GF_FO_NO_DEADLINE when absent */
};

/* Allocates room for cap offers and slice_cap slices in total. On success
 * the caller owns *set and releases it with gf_fo_set_free. GF_EINVAL for a
 * zero capacity, GF_ENOMEM; *set untouched on failure. */
enum gf_err gf_fo_set_init(struct gf_fo_set *set, size_t cap, size_t slice_cap);

/* Makes room in an initialised set for at least cap offers and slice_cap
 * slices in total, keeping what it holds (smaller values change nothing).
 * GF_EINVAL for a set not initialised, GF_ENOMEM (the set still valid, with
 * its old room). */
enum gf_err gf_fo_set_reserve(struct gf_fo_set *set, size_t cap, size_t slice_cap);

/* Releases the arrays of set (NULL or zeroed accepted) and zeroes it. */
void gf_fo_set_free(struct gf_fo_set *set);

/* Checks fo (n >= 1, tf >= 0, lower <= upper, finite numbers, default inside
 * the bounds, total_min <= total_max) and copies it in. A NULL default is
 * stored as (lower + upper) / 2. GF_EINVAL for a bad offer, GF_EFULL when the
 * set has no room; the set is untouched on failure. */
enum gf_err gf_fo_set_add(struct gf_fo_set *set, const struct gf_fo *fo);

/* gf_fo_set_add with the offer's deadlines (dl NULL = none). Any int32
 * values are accepted (a deadline is data for whoever schedules). */
enum gf_err gf_fo_set_add_with_deadlines(struct gf_fo_set *set, const struct gf_fo *fo,
                                         const struct gf_fo_deadlines *dl);

/* Empties set (count and slice_count 0) keeping its arrays: a chunk of a
 * stream is refilled without allocating. */
void gf_fo_set_clear(struct gf_fo_set *set);

/* Fills *fo with a view of offer i (valid until the set is freed); its
 * deadlines are set->acceptance_before[i] and set->assignment_before[i].
 * GF_ERANGE when i >= count. */
enum gf_err gf_fo_set_get(const struct gf_fo_set *set, size_t i, struct gf_fo *fo);

/* Sums of the issue-4 benchmark workload (see gf_fo_workload_generate). */
struct gf_fo_workload_sums {
	int64_t sum_start_after, sum_tf, sum_slices;
};

/* Appends `offers` offers of the issue-4 workload drawn from
 * java.util.Random(seed): per offer sa = nextInt(96), tf = nextInt(17),
 * n = 4 + nextInt(5), then per slice lo = nextDouble(), hi = lo +
 * nextDouble() * 2; default (lo + hi) / 2; no totals, tariffs or deadlines. The set needs room for
 * `offers` offers and 8 * offers slices (GF_EFULL otherwise, set untouched). *sums (may be NULL)
 * receives the three check sums. */
enum gf_err gf_fo_workload_generate(struct gf_fo_set *set, size_t offers, int64_t seed,
                                    struct gf_fo_workload_sums *sums);

/* The same workload drawn in pieces: gf_fo_workload_init(w, seed), then
 * gf_fo_workload_next appends the next `offers` offers to set (same room
 * rule, GF_EFULL with nothing drawn) and adds to w->sums. The offers of
 * successive calls are exactly those of one gf_fo_workload_generate. */
struct gf_fo_workload {
	struct gf_javarand r;
	size_t drawn; /* offers so far */
	struct gf_fo_workload_sums sums;
};
void gf_fo_workload_init(struct gf_fo_workload *w, int64_t seed);
enum gf_err gf_fo_workload_next(struct gf_fo_workload *w, struct gf_fo_set *set, size_t offers);

/* Measures of Valsomatzis et al. 2015 (formulas in docs/engine.md). */

/* tf = start_before - start_after. */
double gf_fo_time_flex(const struct gf_fo *fo);
/* ef = sum_k (upper[k] - lower[k]). */
double gf_fo_energy_flex(const struct gf_fo *fo);
/* tf * ef. */
double gf_fo_product_flex(const struct gf_fo *fo);
/* The vector (tf, ef) into out[0], out[1]. */
void gf_fo_vector_flex(const struct gf_fo *fo, double out[2]);
/* Time-series flexibility: out[k] = upper[k] - lower[k] for k < n (caller
 * buffer of n doubles); returns its L1 norm (= ef). */
double gf_fo_time_series_flex(const struct gf_fo *fo, double *out);
/* Assignment flexibility: number of distinct assignments when amounts are
 * multiples of quantum above lower[k]: (tf + 1) * prod_k (floor((upper[k] -
 * lower[k]) / quantum) + 1), as a double (may be +inf). Total-energy bounds
 * are ignored. GF_EINVAL when quantum <= 0 (*out untouched). */
enum gf_err gf_fo_assignment_flex(const struct gf_fo *fo, double quantum, double *out);
/* Absolute area-based flexibility: over every absolute interval t of the
 * span [start_after, start_after + tf + n), the width between the highest and
 * the lowest amount any start time allows at t (0 when the offer is not
 * running at t), summed over t. */
double gf_fo_area_flex_abs(const struct gf_fo *fo);
/* Relative area-based flexibility: the absolute one divided by the span's
 * length tf + n (kWh per interval). */
double gf_fo_area_flex_rel(const struct gf_fo *fo);

#endif
