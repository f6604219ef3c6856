/* SPDX-License-Identifier: MIT */
/*
 * powerflow.h - the three-phase unbalanced power flow of a radial feeder
 * (grid/feeder.h) for one instant: given each load's P and Q, the voltage of
 * every bus and phase, the current of every line and phase, and what the
 * transformer delivers per phase (docs/grid.md).
 *
 * The solver is a backward/forward sweep on the phase (abc) quantities:
 * loads are constant P and Q between a phase and the grounded neutral, lines
 * are their 3x3 phase impedance (no shunt), the supply is its Thevenin
 * equivalent at the transformer's LV bus (grid/supply.h). Each iteration
 * takes the load currents at the present voltages, sums them up the tree
 * (backward) and recomputes the voltages down from the supply (forward),
 * until no voltage moves by more than tol_pu.
 *
 * A result is sized once for a feeder and reused: a solve allocates nothing,
 * so an agent can solve every interval (load kW = metered kWh per interval /
 * the interval's hours) at no cost beyond the arithmetic. A result belongs to
 * one thread at a time; the feeder may be shared.
 */
#ifndef GF_POWERFLOW_H
#define GF_POWERFLOW_H

#include "grid/cmplx.h"
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "grid/feeder.h"

#define GF_PF_TOL_PU   1e-9 /* default tolerance, pu of the LV base voltage */
#define GF_PF_MAX_ITER 50   /* default iteration limit */

struct gf_pf_result {
	size_t nbus, nline, nload;
	double complex (*v)[3]; /* per bus: phase-to-neutral voltage, V */
	double complex (*i)[3]; /* per line: phase current, A, from its from bus to its to bus */
	/* Per phase: what the transformer delivers into its LV bus, P + jQ in kW
	 * and kvar (OpenDSS reports the transformer terminal's power, the
	 * negative of this). */
	double complex s_tx[3];
	double load_kw, load_kvar; /* the loads' totals of the last solve */
	unsigned iterations;       /* of the last solve */
	double change_pu;          /* largest voltage change of its last iteration */
	bool solved;               /* v, i and s_tx hold a converged solution */

	/* Options: gf_pf_result_init sets the defaults; change them freely. */
	double tol_pu;     /* converged when no voltage moves more than this */
	unsigned max_iter; /* iterations before giving up */
	bool warm_start;   /* start from the last solution when there is one (else
	                      from the no-load voltages, the default) */

	double complex (*work)[3]; /* per bus: current summed from below */
};

/*
 * Sizes r for f and sets the default options. r belongs to the caller (free
 * what it holds with gf_pf_result_free) and may serve only f. GF_ENOMEM.
 */
enum gf_err gf_pf_result_init(const struct gf_feeder *f, struct gf_pf_result *r, char *err,
                              size_t errlen);

/* Frees what r holds and zeroes it. Accepts NULL and a zeroed result. */
void gf_pf_result_free(struct gf_pf_result *r);

/*
 * Solves f with load k (f->load[k], Loads.csv's order; gf_feeder_load_index
 * finds it by name) drawing p_kw[k] kW and q_kvar[k] kvar (negative for a
 * load that produces). q_kvar may be NULL: then each load's Q follows from its
 * power factor, P tan(acos(pf)). Fills r. Allocates nothing.
 * GF_EINVAL for a value that is not finite or r sized for another feeder;
 * GF_ERANGE when the sweep does not converge within r->max_iter iterations
 * or a voltage collapses (more load than the feeder can carry), with the bus
 * and the loads' total in err. On failure r->solved is false and r's arrays
 * hold the last iterate, for diagnosis (the rule that failures leave outputs
 * untouched would cost a second copy of every array).
 */
enum gf_err gf_pf_solve(const struct gf_feeder *f, const double *p_kw, const double *q_kvar,
                        struct gf_pf_result *r, char *err, size_t errlen);

struct gf_pf_summary {
	double p_kw[3], q_kvar[3], s_kva[3]; /* the transformer's LV side, per phase */
	double p_kw_total, q_kvar_total, s_kva_total;
	double loading_pct;       /* s_kva_total against the rating */
	double phase_loading_pct; /* the most loaded phase against a third of it */
	double loss_kw;           /* p_kw_total less the loads': the lines' losses */
	double v_min_pu;          /* lowest voltage, pu of the LV base */
	size_t v_min_bus;
	unsigned v_min_phase; /* 0, 1, 2 for A, B, C */
	double v_max_pu;      /* highest */
	size_t v_max_bus;
	unsigned v_max_phase;
	double line_max_pct; /* highest current against its line's rating */
	double line_max_a;   /* that current, A */
	size_t line_max;     /* its line; GF_FEEDER_NONE if no line is rated */
	unsigned line_max_phase;
};

/* Sums up a solved result r of f into *s: transformer loading, the lowest
 * and highest voltage, the most loaded line (lines without a rating left
 * out). */
void gf_pf_summarize(const struct gf_feeder *f, const struct gf_pf_result *r,
                     struct gf_pf_summary *s);

#endif
