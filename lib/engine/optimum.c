/* SPDX-License-Identifier: MIT */
/*
 * optimum.c - the feeder's perfect-information optimum (optimum.h) as one
 * GLPK model.
 *
 * Columns, per offer o: with tf > 0, y_{o,s} in [0, 1] (binary in the MILP)
 * for each start s, and z_{o,s,k} for the amount of slice k when started at
 * s, with l_k y_{o,s} <= z_{o,s,k} <= h_k y_{o,s}; with tf = 0 only z_{o,k}
 * in [l_k, h_k]. Then, per interval t of the offer's span, dev+ and dev-
 * with x_o(t) - dev+ + dev- = d_o(t), where x_o(t) = sum_s z_{o,s,t-s}; and
 * per interval t of the horizon the overload e_t >= 0,
 * e_t >= fixed[t] + sum_o x_o(t) - limit.
 *
 * Rows: sum_s y_{o,s} = 1; the total bounds per start, E_min y_{o,s} <=
 * sum_k z_{o,s,k} <= E_max y_{o,s} (with one start, the plain bounds). Per
 * start, this is the convex hull of that start's schedules, so the
 * relaxation is the convex hull of the union over starts (the tightest LP of
 * the start choice, the "perspective" form), not a looser one.
 *
 * Objective: sum_t e_t + EPS sum (dev+ + dev-).
 */
#include "engine/optimum.h"

#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The tie-break per kWh of departure from the default: small enough that no
 * kWh of overload is ever traded for it (that would take 10,000 kWh of
 * departure), large enough for GLPK's reduced-cost tolerance (1e-7). */
#define EPS 1e-4

const char *gf_optimum_status_name(enum gf_optimum_status status)
{
	switch (status) {
	case GF_OPTIMUM_OPTIMAL:
		return "optimal";
	case GF_OPTIMUM_FEASIBLE:
		return "feasible";
	case GF_OPTIMUM_RELAXED:
		return "relaxed";
	}
	return "unknown";
}

/* The model being built: GLPK's problem and its nonzeros (1-based). */
struct model {
	glp_prob *lp;
	int *ia, *ja;
	double *ar;
	int len, cap;
	bool nomem;
};

/* GLPK's own limit on rows and columns (M_MAX, N_MAX in GLPK 5.0): past it,
 * glp_add_cols calls glp_error, which aborts. */
#define GLPK_MAX 100000000.0

/* Where each offer's columns are: ycol (0 when tf = 0; else tf + 1 of
 * them), devcol (dev+ and dev- in pairs, one pair per interval of the
 * span), zcol (n per start, start by start). */
struct place {
	int ycol, devcol, zcol;
};

static void put(struct model *m, int row, int col, double v)
{
	if (m->len + 1 >= m->cap) {
		int cap;
		if (m->cap > INT_MAX / 2) {
			m->nomem = true;
			return;
		}
		cap = m->cap ? 2 * m->cap : 4096;
		int *ia = realloc(m->ia, (size_t)cap * sizeof *ia);
		if (ia)
			m->ia = ia;
		int *ja = realloc(m->ja, (size_t)cap * sizeof *ja);
		if (ja)
			m->ja = ja;
		double *ar = realloc(m->ar, (size_t)cap * sizeof *ar);
		if (ar)
			m->ar = ar;
		if (!ia || !ja || !ar) {
			m->nomem = true;
			return;
		}
		m->cap = cap;
	}
	m->len++;
	m->ia[m->len] = row;
	m->ja[m->len] = col;
	m->ar[m->len] = v;
}

static int add_row(struct model *m, int type, double lo, double hi)
{
	int r = glp_add_rows(m->lp, 1);
	glp_set_row_bnds(m->lp, r, type, lo, hi);
	return r;
}

static double dflt_at(const struct gf_fo *f, int32_t k)
{
	return f->dflt ? f->dflt[k] : (f->lower[k] + f->upper[k]) / 2;
}

/* The default's amount at interval t (0 outside the default's slices). */
static double dflt_t(const struct gf_fo *f, int32_t t)
{
	int32_t k = t - f->start_after;
	return k >= 0 && k < f->n ? dflt_at(f, k) : 0.0;
}

static enum gf_err check(const struct gf_optimum_problem *p, char *err, size_t errlen)
{
	if (p->intervals < 1 || !p->fixed || !isfinite(p->limit) || (p->count && !p->offers))
		return gf_err_set(err, errlen, GF_EINVAL, "no horizon, fixed load or limit");
	for (int32_t t = 0; t < p->intervals; t++)
		if (!isfinite(p->fixed[t]))
			return gf_err_set(err, errlen, GF_EINVAL, "fixed load at %d is not finite",
			                  (int)t);
	for (size_t o = 0; o < p->count; o++) {
		const struct gf_fo *f = &p->offers[o];
		double lo = 0, hi = 0;
		if (f->n < 1 || f->tf < 0 || !f->lower || !f->upper ||
		    f->start_after > INT32_MAX - f->tf - f->n)
			return gf_err_set(err, errlen, GF_EINVAL, "offer %zu: n, tf or start", o);
		for (int32_t k = 0; k < f->n; k++) {
			if (!isfinite(f->lower[k]) || !isfinite(f->upper[k]) ||
			    f->lower[k] > f->upper[k] || !isfinite(dflt_at(f, k)))
				return gf_err_set(err, errlen, GF_EINVAL,
				                  "offer %zu: slice %d's bounds", o, (int)k);
			lo += f->lower[k];
			hi += f->upper[k];
		}
		if ((!isnan(f->total_min) && (!isfinite(f->total_min) || f->total_min > hi)) ||
		    (!isnan(f->total_max) && (!isfinite(f->total_max) || f->total_max < lo)) ||
		    (!isnan(f->total_min) && !isnan(f->total_max) && f->total_min > f->total_max))
			return gf_err_set(err, errlen, GF_EINVAL,
			                  "offer %zu: no schedule meets its total bounds", o);
	}
	return GF_OK;
}

/* Rows l y <= z <= h y of one slice at one start (y = 0: plain bounds). */
static void slice_bounds(struct model *m, int z, int y, double l, double h)
{
	if (!y) {
		glp_set_col_bnds(m->lp, z, l < h ? GLP_DB : GLP_FX, l, h);
		return;
	}
	/* The column's own bounds hold z between 0 and the bound where the
	 * bound is 0; rows do the rest (y = 0 forces z = 0 through them). */
	if (l == 0 && h == 0) {
		glp_set_col_bnds(m->lp, z, GLP_FX, 0.0, 0.0);
		return;
	}
	glp_set_col_bnds(m->lp, z, GLP_DB, fmin(l, 0.0), fmax(h, 0.0));
	if (l == h) {
		if (l != 0) {
			int r = add_row(m, GLP_FX, 0.0, 0.0);
			put(m, r, z, 1.0);
			put(m, r, y, -l);
		}
		return;
	}
	if (l != 0) {
		int r = add_row(m, GLP_LO, 0.0, 0.0);
		put(m, r, z, 1.0);
		put(m, r, y, -l);
	}
	if (h != 0) {
		int r = add_row(m, GLP_UP, 0.0, 0.0);
		put(m, r, z, 1.0);
		put(m, r, y, -h);
	}
}

/* Total bounds of one start: E_min y <= sum_k z_k <= E_max y. */
static void total_rows(struct model *m, const struct gf_fo *f, int zcol, int y)
{
	bool has_min = !isnan(f->total_min), has_max = !isnan(f->total_max);

	if (!has_min && !has_max)
		return;
	if (!y) {
		int r = add_row(m,
		                !has_min                      ? GLP_UP
		                : !has_max                    ? GLP_LO
		                : f->total_min < f->total_max ? GLP_DB
		                                              : GLP_FX,
		                has_min ? f->total_min : 0.0, has_max ? f->total_max : 0.0);
		for (int32_t k = 0; k < f->n; k++)
			put(m, r, zcol + k, 1.0);
		return;
	}
	for (int side = 0; side < 2; side++) {
		double e = side == 0 ? f->total_min : f->total_max;
		int r;
		if (isnan(e) || (side == 1 && has_min && f->total_min == f->total_max))
			continue;
		r = add_row(m,
		            side == 0 ? (has_max && f->total_min == f->total_max ? GLP_FX : GLP_LO)
		                      : GLP_UP,
		            0.0, 0.0);
		for (int32_t k = 0; k < f->n; k++)
			put(m, r, zcol + k, 1.0);
		put(m, r, y, -e);
	}
}

/* Offer o's columns and rows; erow is the horizon's first overload row. */
static void add_offer(struct model *m, const struct gf_optimum_problem *p, const struct gf_fo *f,
                      int erow, struct place *pl)
{
	int32_t span = f->tf + f->n;
	int sumrow = 0, devrow;

	pl->ycol = 0;
	if (f->tf > 0) {
		sumrow = add_row(m, GLP_FX, 1.0, 1.0);
		pl->ycol = glp_add_cols(m->lp, f->tf + 1);
		for (int32_t s = 0; s <= f->tf; s++) {
			glp_set_col_bnds(m->lp, pl->ycol + s, GLP_DB, 0.0, 1.0);
			put(m, sumrow, pl->ycol + s, 1.0);
		}
	}
	devrow = glp_add_rows(m->lp, span);
	pl->devcol = glp_add_cols(m->lp, 2 * span);
	for (int32_t j = 0; j < span; j++) {
		double d = dflt_t(f, f->start_after + j);
		int plus = pl->devcol + 2 * j;
		glp_set_row_bnds(m->lp, devrow + j, GLP_FX, d, d);
		glp_set_col_bnds(m->lp, plus, GLP_LO, 0.0, 0.0);
		glp_set_col_bnds(m->lp, plus + 1, GLP_LO, 0.0, 0.0);
		glp_set_obj_coef(m->lp, plus, EPS);
		glp_set_obj_coef(m->lp, plus + 1, EPS);
		put(m, devrow + j, plus, -1.0);
		put(m, devrow + j, plus + 1, 1.0);
	}
	pl->zcol = glp_add_cols(m->lp, (f->tf + 1) * f->n);
	for (int32_t s = 0; s <= f->tf; s++) {
		int y = pl->ycol ? pl->ycol + s : 0, zs = pl->zcol + s * f->n;
		for (int32_t k = 0; k < f->n; k++) {
			int64_t t = (int64_t)f->start_after + s + k - p->start;
			slice_bounds(m, zs + k, y, f->lower[k], f->upper[k]);
			put(m, devrow + s + k, zs + k, 1.0);
			if (t >= 0 && t < p->intervals)
				put(m, erow + (int)t, zs + k, -1.0);
		}
		total_rows(m, f, zs, y);
	}
}

/* The schedule's amounts from column values val (1-based), into amount,
 * first and the horizon's load. */
static void read_schedule(const struct gf_optimum_problem *p, const struct place *pl,
                          const double *val, double *load, double *amount, int32_t *first)
{
	size_t off = 0;

	memcpy(load, p->fixed, (size_t)p->intervals * sizeof *load);
	for (size_t o = 0; o < p->count; o++) {
		const struct gf_fo *f = &p->offers[o];
		int32_t best = 0;
		for (int32_t s = 0; s <= f->tf; s++) {
			if (pl[o].ycol && val[pl[o].ycol + s] > val[pl[o].ycol + best] + 1e-9)
				best = s;
			for (int32_t k = 0; k < f->n; k++) {
				double z = val[pl[o].zcol + s * f->n + k];
				int64_t t = (int64_t)f->start_after + s + k - p->start;
				if (t >= 0 && t < p->intervals)
					load[t] += z;
				amount[off + (size_t)k] += z;
			}
		}
		first[o] = f->start_after + best;
		off += (size_t)f->n;
	}
}

static double overload_of(const struct gf_optimum_problem *p, const double *load)
{
	double sum = 0;

	for (int32_t t = 0; t < p->intervals; t++)
		sum += fmax(0.0, load[t] - p->limit);
	return sum;
}

/* A full column vector (1-based) for the schedule that starts every offer
 * at first[o] with amount's slices: y, z, dev+/dev- and e follow from it. */
static void schedule_vector(const struct gf_optimum_problem *p, const struct place *pl, int ecol,
                            const double *amount, const int32_t *first, double *x, int ncols,
                            double *load)
{
	size_t off = 0;

	memset(x, 0, ((size_t)ncols + 1) * sizeof *x);
	memcpy(load, p->fixed, (size_t)p->intervals * sizeof *load);
	for (size_t o = 0; o < p->count; o++) {
		const struct gf_fo *f = &p->offers[o];
		int32_t s = first[o] - f->start_after;
		if (pl[o].ycol)
			x[pl[o].ycol + s] = 1.0;
		for (int32_t j = 0; j < f->tf + f->n; j++) {
			int32_t k = j - s;
			double a = k >= 0 && k < f->n ? amount[off + (size_t)k] : 0.0;
			double dev = a - dflt_t(f, f->start_after + j);
			int64_t t = (int64_t)f->start_after + j - p->start;
			if (k >= 0 && k < f->n)
				x[pl[o].zcol + s * f->n + k] = a;
			x[pl[o].devcol + 2 * j] = fmax(0.0, dev);
			x[pl[o].devcol + 2 * j + 1] = fmax(0.0, -dev);
			if (t >= 0 && t < p->intervals)
				load[t] += a;
		}
		off += (size_t)f->n;
	}
	for (int32_t t = 0; t < p->intervals; t++)
		x[ecol + t] = fmax(0.0, load[t] - p->limit);
}

/* Branch and bound gets, at its first heuristic call, the relaxation
 * rounded: every offer at the start the relaxation weights most, with the
 * relaxation's amounts summed over its starts slice by slice. Those amounts
 * meet the slice and total bounds (a convex combination of amounts that
 * do), so this is a schedule and the search always has one.
 *
 * The search stops once the incumbent is within GAP_ABS of the best bound
 * over the open nodes. GLPK's own mip_gap is relative to the objective and
 * the tie-break makes many schedules differ by a few 1e-4: with a tight
 * relative gap the search went on for its whole time limit proving nothing
 * about the overload (the demo's day: 60 s, incumbent equal to the root's
 * bound to 0.1 kWh). */
#define GAP_ABS 1e-3

struct search {
	const double *x; /* the rounding, 1-based */
	int given;
	double gap; /* incumbent - best bound at the last look; INFINITY before one */
};

static void search_cb(glp_tree *tree, void *info)
{
	struct search *sr = info;
	glp_prob *lp = glp_ios_get_prob(tree);
	int node;

	if (glp_ios_reason(tree) == GLP_IHEUR && !sr->given) {
		sr->given = 1;
		(void)glp_ios_heur_sol(tree, sr->x);
	}
	if (glp_mip_status(lp) != GLP_FEAS)
		return;
	node = glp_ios_best_node(tree);
	sr->gap = node ? glp_mip_obj_val(lp) - glp_ios_node_bound(tree, node) : 0.0;
	if (sr->gap <= GAP_ABS)
		glp_ios_terminate(tree);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The primal values of all columns, 1-based, from the LP (mip false) or the MILP. */
static void col_values(glp_prob *lp, bool mip, double *val)
{
	int n = glp_get_num_cols(lp);

	for (int c = 1; c <= n; c++)
		val[c] = mip ? glp_mip_col_val(lp, c) : glp_get_col_prim(lp, c);
}

enum gf_err gf_optimum_solve(const struct gf_optimum_problem *p, struct gf_optimum_result *r,
                             char *err, size_t errlen)
{
	struct model m = {0};
	struct place *pl = NULL;
	double *val = NULL, *load = NULL, *amount = NULL, *rload = NULL, *xr = NULL;
	int32_t *first = NULL;
	size_t slices = 0;
	double size = p->intervals;
	int ecol = 0, erow = 0, ncols = 0, binaries = 0;
	double t0 = now_s(), relaxation, gap = 0,
	       limit_s = p->time_limit_s > 0 ? p->time_limit_s : 60.0;
	enum gf_optimum_status status = GF_OPTIMUM_RELAXED;
	enum gf_err rc = check(p, err, errlen);
	glp_smcp sp;

	if (rc != GF_OK)
		return rc;
	rc = GF_ENOMEM;
	for (size_t o = 0; o < p->count; o++) {
		slices += (size_t)p->offers[o].n;
		binaries += p->offers[o].tf > 0 ? p->offers[o].tf + 1 : 0;
		size += ((double)p->offers[o].tf + 1) * (p->offers[o].n + 1) +
		        2.0 * (p->offers[o].tf + p->offers[o].n);
	}
	/* Columns; rows are fewer than 2 z per column plus a total per start. */
	if (size > GLPK_MAX / 3)
		return gf_err_set(err, errlen, GF_ERANGE, "%.0f columns: over GLPK's limits", size);
	pl = calloc(p->count + 1, sizeof *pl);
	first = calloc(p->count + 1, sizeof *first);
	amount = calloc(slices + 1, sizeof *amount);
	load = calloc((size_t)p->intervals, sizeof *load);
	rload = calloc((size_t)p->intervals, sizeof *rload);
	if (!pl || !first || !amount || !load || !rload)
		goto out;

	m.lp = glp_create_prob();
	glp_set_obj_dir(m.lp, GLP_MIN);
	/* e_t >= 0 and its row e_t - sum_o x_o(t) >= fixed[t] - limit. */
	ecol = glp_add_cols(m.lp, p->intervals);
	erow = glp_add_rows(m.lp, p->intervals);
	for (int32_t t = 0; t < p->intervals; t++) {
		glp_set_col_bnds(m.lp, ecol + t, GLP_LO, 0.0, 0.0);
		glp_set_obj_coef(m.lp, ecol + t, 1.0);
		glp_set_row_bnds(m.lp, erow + t, GLP_LO, p->fixed[t] - p->limit, 0.0);
		put(&m, erow + t, ecol + t, 1.0);
	}
	for (size_t o = 0; o < p->count && !m.nomem; o++)
		add_offer(&m, p, &p->offers[o], erow, &pl[o]);
	if (m.nomem)
		goto out;
	ncols = glp_get_num_cols(m.lp);
	val = calloc((size_t)ncols + 1, sizeof *val);
	xr = calloc((size_t)ncols + 1, sizeof *xr);
	if (!val || !xr)
		goto out;
	glp_load_matrix(m.lp, m.len, m.ia, m.ja, m.ar);

	glp_init_smcp(&sp);
	sp.msg_lev = GLP_MSG_OFF;
	sp.meth = GLP_DUALP;
	/* No presolver, as in clear_lp.c (GLPK 5.0's LP presolver returned a
	 * wrong vertex there); and glp_intopt below needs the LP's basis. */
	sp.presolve = GLP_OFF;
	rc = GF_EIO;
	if (glp_simplex(m.lp, &sp) != 0 || glp_get_status(m.lp) != GLP_OPT) {
		gf_err_set(err, errlen, GF_EIO, "GLPK found no optimum of the LP relaxation");
		goto out;
	}
	col_values(m.lp, false, val);
	read_schedule(p, pl, val, rload, amount, first);
	relaxation = overload_of(p, rload);
	memcpy(load, rload, (size_t)p->intervals * sizeof *load);
	if (binaries == 0)
		status = GF_OPTIMUM_OPTIMAL;
	else if (!p->relax) {
		struct search sr = {xr, 0, INFINITY};
		glp_iocp ip;
		double left = limit_s - (now_s() - t0);
		int mip;

		schedule_vector(p, pl, ecol, amount, first, xr, ncols, load);
		for (size_t o = 0; o < p->count; o++)
			for (int32_t s = 0; pl[o].ycol && s <= p->offers[o].tf; s++)
				glp_set_col_kind(m.lp, pl[o].ycol + s, GLP_BV);
		glp_init_iocp(&ip);
		ip.msg_lev = GLP_MSG_OFF;
		ip.presolve = GLP_OFF;
		ip.cb_func = search_cb;
		ip.cb_info = &sr;
		ip.tm_lim = (int)fmax(1000.0, fmin(left * 1000.0, 1e9));
		(void)glp_intopt(m.lp, &ip);
		mip = glp_mip_status(m.lp);
		if (mip == GLP_OPT)
			sr.gap = 0;
		if (mip == GLP_OPT || mip == GLP_FEAS) {
			status = sr.gap <= GAP_ABS ? GF_OPTIMUM_OPTIMAL : GF_OPTIMUM_FEASIBLE;
			gap = sr.gap;
			col_values(m.lp, true, val);
			memset(amount, 0, slices * sizeof *amount);
			read_schedule(p, pl, val, load, amount, first);
		} else {
			/* No schedule in time (the rounding is handed over at the first
			 * heuristic call, so only a limit shorter than the root's LP
			 * gets here): the relaxation stands. */
			memcpy(load, rload, (size_t)p->intervals * sizeof *load);
		}
	}
	memcpy(r->load, load, (size_t)p->intervals * sizeof *load);
	if (r->relaxed_load)
		memcpy(r->relaxed_load, rload, (size_t)p->intervals * sizeof *rload);
	if (r->amount)
		memcpy(r->amount, amount, slices * sizeof *amount);
	if (r->first)
		memcpy(r->first, first, p->count * sizeof *first);
	r->status = status;
	r->overload = overload_of(p, load);
	r->relaxation = relaxation;
	r->binaries = binaries;
	r->gap = gap;
	r->seconds = now_s() - t0;
	rc = GF_OK;
out:
	if (rc == GF_ENOMEM)
		gf_err_set(err, errlen, GF_ENOMEM, "out of memory");
	if (m.lp)
		glp_delete_prob(m.lp);
	free(m.ar);
	free(m.ja);
	free(m.ia);
	free(xr);
	free(val);
	free(rload);
	free(load);
	free(amount);
	free(first);
	free(pl);
	return rc;
}
