/* SPDX-License-Identifier: MIT */
/*
 * clear_milp.c - exact clearing with GLPK (clear.h, docs/clearing.md).
 *
 * Columns per eligible offer o: y_{o,s} binary for each start s of its
 * window, z_{o,s,k} in [0, hi] (the amount of slice k when starting at s),
 * dev+_{o,t}, dev-_{o,t} >= 0 over its span; per axis interval u_t >= 0.
 */
#include "engine/clear.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct triplets {
	int *ia, *ja;
	double *ar;
	size_t len, cap;
};

static int push(struct triplets *m, int row, int col, double v)
{
	if (m->len + 1 >= m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 1024;
		int *ia = realloc(m->ia, cap * sizeof *ia);
		if (ia)
			m->ia = ia;
		int *ja = realloc(m->ja, cap * sizeof *ja);
		if (ja)
			m->ja = ja;
		double *ar = realloc(m->ar, cap * sizeof *ar);
		if (ar)
			m->ar = ar;
		if (!ia || !ja || !ar)
			return -1;
		m->cap = cap;
	}
	m->len++; /* GLPK arrays are 1-based */
	m->ia[m->len] = row;
	m->ja[m->len] = col;
	m->ar[m->len] = v;
	return 0;
}

static int add_row(glp_prob *lp, int type, double lo, double hi)
{
	int r = glp_add_rows(lp, 1);
	glp_set_row_bnds(lp, r, type, lo, hi);
	return r;
}

static int add_col(glp_prob *lp, int kind, double lo, double hi, double obj)
{
	int c = glp_add_cols(lp, 1);
	glp_set_col_kind(lp, c, kind);
	if (kind == GLP_CV)
		glp_set_col_bnds(lp, c, hi > lo ? GLP_DB : (hi == lo ? GLP_FX : GLP_LO), lo, hi);
	glp_set_obj_coef(lp, c, obj);
	return c;
}

static size_t columns_needed(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                             size_t count, size_t axis)
{
	size_t cols = axis;
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		if (!gf_clear_eligible(bid, f))
			continue;
		size_t w = (size_t)f->tf + 1;
		cols += w * (1 + (size_t)f->n) + 2 * ((size_t)f->tf + (size_t)f->n);
	}
	return cols;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* GLPK's time limits are in whole milliseconds and 0 would mean "stop
 * before the first iteration": at least 1 ms. */
static int ms_left(double deadline)
{
	double ms = (deadline - now_s()) * 1000.0;
	return ms < 1.0 ? 1 : ms > (double)INT32_MAX ? INT32_MAX : (int)ms;
}

/* Column layout: u_t is column 1 + (t - a0); for eligible offer o, dev+ and
 * dev- of span interval j are devcol[o] + 2j and + 2j + 1, y of start index
 * si is ycol[o] + si and z of slice k there zcol[o] + si * n + k. */
struct model {
	glp_prob *lp;
	int *ycol, *zcol, *devcol; /* per offer; 0 for an ineligible one */
	int32_t a0;
	size_t len;
};

static void model_free(struct model *md)
{
	if (md->lp)
		glp_delete_prob(md->lp);
	free(md->devcol);
	free(md->zcol);
	free(md->ycol);
}

static enum gf_err build(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                         struct model *md)
{
	struct triplets m = {0};
	enum gf_err err = GF_ENOMEM;
	int *xrow = calloc(2 * md->len + 1, sizeof *xrow); /* two mismatch rows per interval */
	md->ycol = calloc(count + 1, sizeof *md->ycol);
	md->zcol = calloc(count + 1, sizeof *md->zcol);
	md->devcol = calloc(count + 1, sizeof *md->devcol);
	if (!xrow || !md->ycol || !md->zcol || !md->devcol)
		goto out;
	glp_prob *lp = md->lp = glp_create_prob();
	glp_set_obj_dir(lp, GLP_MIN);
	/* Mismatch rows: u_t - X_t >= C_t and u_t + X_t >= -C_t, where X_t sums
	 * the eligible offers' amounts at t and C_t = r_t - their defaults. */
	for (size_t j = 0; j < md->len; j++) {
		int32_t t = md->a0 + (int32_t)j, i = t - bid->start;
		double c = i >= 0 && i < bid->intervals ? bid->change[i] : 0.0;
		for (size_t o = 0; o < count; o++)
			if (gf_clear_eligible(bid, &offers[o]))
				c -= gf__clear_dflt(&offers[o], t);
		int u = add_col(lp, GLP_CV, 0.0, 0.0, gf__clear_weight(bid, t));
		glp_set_col_bnds(lp, u, GLP_LO, 0.0, 0.0);
		/* u_t >= m_t - h_t and u_t >= -m_t: w_t dist(m_t, [0, h_t]). */
		xrow[2 * j] = add_row(lp, GLP_LO, c - gf__clear_headroom(bid, t), 0.0);
		xrow[2 * j + 1] = add_row(lp, GLP_LO, -c, 0.0);
		if (push(&m, xrow[2 * j], u, 1.0) || push(&m, xrow[2 * j + 1], u, 1.0))
			goto out;
	}
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		if (!gf_clear_eligible(bid, f))
			continue;
		int32_t w = f->tf + 1, span = f->tf + f->n;
		int one = add_row(lp, GLP_FX, 1.0, 1.0);
		int total = 0;
		if (!isnan(f->total_min) || !isnan(f->total_max)) {
			int type = isnan(f->total_min)            ? GLP_UP
			           : isnan(f->total_max)          ? GLP_LO
			           : f->total_min == f->total_max ? GLP_FX
			                                          : GLP_DB;
			total = add_row(lp, type, isnan(f->total_min) ? 0.0 : f->total_min,
			                isnan(f->total_max) ? 0.0 : f->total_max);
		}
		/* Deviation rows: sum_s z_{o,s,t-s} - dev+ + dev- = d_o(t). */
		int devrow = glp_add_rows(lp, span);
		md->devcol[o] = glp_add_cols(lp, 2 * span);
		for (int32_t j = 0; j < span; j++) {
			double d = gf__clear_dflt(f, f->start_after + j);
			int p = md->devcol[o] + 2 * j, q = p + 1;
			glp_set_row_bnds(lp, devrow + j, GLP_FX, d, d);
			glp_set_obj_coef(lp, p, gf__clear_tariff(f->tariff_max));
			glp_set_obj_coef(lp, q, gf__clear_tariff(f->tariff_min));
			glp_set_col_bnds(lp, p, GLP_LO, 0.0, 0.0);
			glp_set_col_bnds(lp, q, GLP_LO, 0.0, 0.0);
			if (push(&m, devrow + j, p, -1.0) || push(&m, devrow + j, q, 1.0))
				goto out;
		}
		md->ycol[o] = glp_add_cols(lp, w);
		md->zcol[o] = glp_add_cols(lp, w * f->n);
		for (int32_t si = 0; si < w; si++) {
			int y = md->ycol[o] + si;
			glp_set_col_kind(lp, y, GLP_BV);
			if (push(&m, one, y, 1.0))
				goto out;
			for (int32_t k = 0; k < f->n; k++) {
				int z = md->zcol[o] + si * f->n + k;
				size_t j = (size_t)(f->start_after + si + k - md->a0);
				/* lower y <= z <= upper y; z itself free in sign. */
				glp_set_col_bnds(lp, z, GLP_FR, 0.0, 0.0);
				int rl = add_row(lp, GLP_LO, 0.0, 0.0);
				int ru = add_row(lp, GLP_UP, 0.0, 0.0);
				if (push(&m, rl, z, 1.0) || push(&m, rl, y, -f->lower[k]) ||
				    push(&m, ru, z, 1.0) || push(&m, ru, y, -f->upper[k]) ||
				    push(&m, devrow + si + k, z, 1.0) ||
				    push(&m, xrow[2 * j], z, -1.0) ||
				    push(&m, xrow[2 * j + 1], z, 1.0) ||
				    (total && push(&m, total, z, 1.0)))
					goto out;
			}
		}
	}
	glp_load_matrix(lp, (int)m.len, m.ia, m.ja, m.ar);
	err = GF_OK;
out:
	free(m.ar);
	free(m.ja);
	free(m.ia);
	free(xrow);
	return err;
}

/* The column values (1-based, as glp_ios_heur_sol wants them) of a feasible
 * schedule: the warm start. */
static void columns_of(const struct model *md, const struct gf_clear_bid *bid,
                       const struct gf_fo *offers, size_t count, const int32_t *start,
                       const double *amount, double *col)
{
	for (size_t j = 0; j < md->len; j++) {
		int32_t t = md->a0 + (int32_t)j, i = t - bid->start;
		col[1 + j] = i >= 0 && i < bid->intervals ? bid->change[i] : 0.0;
	}
	size_t off = 0;
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		const double *x = amount + off;
		off += (size_t)f->n;
		if (!md->ycol[o])
			continue;
		int32_t si = start[o] - f->start_after, span = f->tf + f->n;
		for (int32_t s = 0; s <= f->tf; s++) {
			col[md->ycol[o] + s] = s == si;
			for (int32_t k = 0; k < f->n; k++)
				col[md->zcol[o] + s * f->n + k] = s == si ? x[k] : 0.0;
		}
		for (int32_t j = 0; j < span; j++) {
			int32_t t = f->start_after + j, k = t - start[o];
			double dev = (k >= 0 && k < f->n ? x[k] : 0.0) - gf__clear_dflt(f, t);
			col[md->devcol[o] + 2 * j] = fmax(dev, 0.0);
			col[md->devcol[o] + 2 * j + 1] = fmax(-dev, 0.0);
			col[1 + (size_t)(t - md->a0)] += dev; /* mismatch r - (d - x) */
		}
	}
	for (size_t j = 0; j < md->len; j++)
		col[1 + j] =
		    gf__clear_band(col[1 + j], gf__clear_headroom(bid, md->a0 + (int32_t)j));
}

struct watch {
	double deadline;
	const double *warm; /* columns of the heuristic's schedule */
	int offered;
	double bound; /* best proven lower bound seen */
};

/* Branch-and-cut callback: hands GLPK the heuristic's schedule at the first
 * heuristic request (the root, once its LP is solved), records the best
 * active node's bound, and stops the search at the deadline (GLPK checks
 * tm_lim only between nodes; this also covers time spent in callbacks). */
static void on_tree(glp_tree *tree, void *info)
{
	struct watch *w = info;
	if (glp_ios_reason(tree) == GLP_IHEUR && !w->offered) {
		w->offered = 1;
		glp_ios_heur_sol(tree, w->warm);
	}
	int p = glp_ios_best_node(tree);
	if (p)
		w->bound = fmax(w->bound, glp_ios_node_bound(tree, p));
	if (now_s() >= w->deadline)
		glp_ios_terminate(tree);
}

/* Reads the MIP solution into start/x (defaults for ineligible offers). */
static void read_solution(const struct model *md, const struct gf_fo *offers, size_t count,
                          int32_t *start, double *x)
{
	size_t off = 0;
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		start[o] = f->start_after;
		for (int32_t k = 0; k < f->n; k++)
			x[off + (size_t)k] = gf__clear_dflt(f, f->start_after + k);
		for (int32_t si = 0; md->ycol[o] && si <= f->tf; si++) {
			if (glp_mip_col_val(md->lp, md->ycol[o] + si) < 0.5)
				continue;
			start[o] = f->start_after + si;
			for (int32_t k = 0; k < f->n; k++) {
				double v = glp_mip_col_val(md->lp, md->zcol[o] + si * f->n + k);
				x[off + (size_t)k] = fmin(f->upper[k], fmax(f->lower[k], v));
			}
		}
		off += (size_t)f->n;
	}
}

/* The heuristic's schedule (the warm start, and the answer whenever GLPK
 * has nothing better by the deadline) into h, and the Lagrangian bound,
 * cheap and often tighter than the LP's, into *bound. */
static enum gf_err warm_start(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                              size_t count, const struct gf_clear_options *opt,
                              struct gf_clear_result *h, double *bound)
{
	enum gf_err err = gf_clear_heuristic(bid, offers, count, opt, h);

	if (err)
		return err;
	return gf_clear_bound(bid, offers, count, h->objective, GF__CLEAR_BOUND_ITERATIONS, bound);
}

/* Solves the root LP until the given time; 1 when it is optimal. The root
 * LP is solved here rather than by glp_intopt's presolver so that the warm
 * start's columns are the problem's own (glp_ios_heur_sol takes the columns
 * of the problem being searched) and so that the LP bound is known even
 * when the search never starts. */
static int solve_root(struct model *md, double until)
{
	glp_smcp sp;

	if (now_s() >= until)
		return 0;
	glp_init_smcp(&sp);
	sp.msg_lev = GLP_MSG_OFF;
	sp.meth = GLP_DUALP;
	sp.tm_lim = ms_left(until);
	glp_scale_prob(md->lp, GLP_SF_AUTO);
	glp_adv_basis(md->lp, 0);
	return glp_simplex(md->lp, &sp) == 0 && glp_get_status(md->lp) == GLP_OPT;
}

/* Branch and cut from the solved root until w->deadline; glp_intopt's
 * return code, -1 when there was no time to start. */
static int search(struct model *md, struct watch *w)
{
	glp_iocp ip;

	if (now_s() >= w->deadline)
		return -1;
	glp_init_iocp(&ip);
	ip.msg_lev = GLP_MSG_OFF;
	ip.presolve = GLP_OFF;
	ip.tm_lim = ms_left(w->deadline);
	ip.cb_func = on_tree;
	ip.cb_info = w;
	return glp_intopt(md->lp, &ip);
}

/* Reads GLPK's schedule into start/x and r when it is feasible and no
 * worse than the heuristic's h; returns 0 when the caller should keep h's
 * instead. r->status says whether it is proven optimal. */
static int read_back(const struct model *md, int lp_ok, int rc, const struct gf_clear_bid *bid,
                     const struct gf_fo *offers, size_t count, const struct gf_clear_result *h,
                     int32_t *start, double *x, struct gf_clear_result *r)
{
	int st = lp_ok ? glp_mip_status(md->lp) : GLP_UNDEF;

	r->status = GF_CLEAR_FEASIBLE;
	if (st != GLP_OPT && st != GLP_FEAS)
		return 0;
	read_solution(md, offers, count, start, x);
	if (gf_clear_evaluate(bid, offers, count, start, x, 1e-6, r) != GF_OK)
		return 0;
	/* A proven optimum (within GLPK's tolerances): the heuristic's
	 * schedule, when no worse, is optimal too. */
	if (st == GLP_OPT && rc == 0)
		r->status = GF_CLEAR_OPTIMAL;
	return r->objective <= h->objective;
}

enum gf_err gf_clear_milp(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                          const struct gf_clear_options *opt, struct gf_clear_result *res)
{
	double t0 = now_s();
	enum gf_err err = gf__clear_validate(bid, offers, count);
	struct model md = {0};
	struct watch w = {0, NULL, 0, -INFINITY};
	double margin = 0.0;
	int lp_ok = 0, rc = -1;
	int32_t *start = NULL, *hstart = NULL;
	double *x = NULL, *hx = NULL, *warm = NULL;
	if (err)
		return err;
	if (!res || (count && (!res->start || !res->amount)))
		return GF_EINVAL;
	double tlim = opt && opt->time_limit_s > 0 ? opt->time_limit_s : 10.0;
	double deadline = w.deadline = t0 + tlim;
	size_t maxcols = opt && opt->max_columns ? opt->max_columns : 60000;
	int32_t a0, a1;
	gf__clear_axis(bid, offers, count, &a0, &a1);
	md.a0 = a0;
	md.len = (size_t)(a1 - a0);
	size_t slices = 0;
	for (size_t o = 0; o < count; o++)
		slices += (size_t)offers[o].n;
	struct gf_clear_result r = *res, h = *res;
	err = GF_ENOMEM;
	start = calloc(count + 1, sizeof *start);
	x = calloc(slices + 1, sizeof *x);
	hstart = calloc(count + 1, sizeof *hstart);
	hx = calloc(slices + 1, sizeof *hx);
	if (!start || !x || !hstart || !hx)
		goto out;
	r.start = start;
	r.amount = x;
	r.bound = NAN;
	if (gf__clear_defaults(bid, offers, count, &r))
		goto evaluate;
	size_t cols = columns_needed(bid, offers, count, md.len);
	if (cols > maxcols || cols > INT32_MAX / 4) {
		res->status = GF_CLEAR_TOO_LARGE;
		res->bound = NAN;
		err = GF_OK;
		goto out;
	}
	h.start = hstart;
	h.amount = hx;
	double lag = 0.0;
	if ((err = warm_start(bid, offers, count, opt, &h, &lag)))
		goto out;
	w.bound = lag;
	err = GF_ENOMEM;
	glp_term_out(GLP_OFF);
	if (build(bid, offers, count, &md))
		goto out;
	warm = calloc((size_t)glp_get_num_cols(md.lp) + 1, sizeof *warm);
	if (!warm)
		goto out;
	columns_of(&md, bid, offers, count, hstart, hx, warm);
	w.warm = warm;
	/* GLPK's simplex, on reaching tm_lim, first recomputes its basic
	 * solution (a refactorization: about 1 s for the 100,000 rows of
	 * 1,000 aggregates) and only then returns; the same holds for every
	 * node LP of the search. That time is kept in reserve. */
	margin =
	    fmin(0.25 * (deadline - now_s()), GF__CLEAR_SECONDS_PER_ROW * glp_get_num_rows(md.lp));
	lp_ok = solve_root(&md, deadline - margin);
	if (lp_ok)
		w.bound = fmax(w.bound, glp_get_obj_val(md.lp));
	w.deadline = deadline - margin;
	if (lp_ok)
		rc = search(&md, &w);
	if (read_back(&md, lp_ok, rc, bid, offers, count, &h, start, x, &r))
		goto evaluate;
	memcpy(start, hstart, count * sizeof *start);
	memcpy(x, hx, slices * sizeof *x);
evaluate:
	err = gf_clear_evaluate(bid, offers, count, start, x, 1e-6, &r);
	if (err)
		goto out;
	if (r.status == GF_CLEAR_FEASIBLE)
		/* A proven bound above a feasible objective is LP round-off. */
		r.bound = isfinite(w.bound) ? fmin(w.bound, r.objective) : NAN;
	else
		r.bound = r.objective; /* optimal, or the defaults are the only schedule */
	memcpy(res->start, start, count * sizeof *start);
	memcpy(res->amount, x, slices * sizeof *x);
	r.start = res->start;
	r.amount = res->amount;
	*res = r;
out:
	model_free(&md);
	free(warm);
	free(hx);
	free(hstart);
	free(x);
	free(start);
	return err;
}
