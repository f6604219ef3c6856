/* SPDX-License-Identifier: MIT */
/*
 * clear_lp.c - exact amounts for fixed start times (the heuristic's last
 * step, docs/clearing.md "Heuristic").
 *
 * With every start fixed the clearing model is a linear programme: per
 * running slice x in [lower, upper] with x - dev+ + dev- = d_o(t), total
 * rows where an offer has total bounds, and u_t >= +-m_t. GLPK's simplex
 * solves it exactly in polynomial time, total bounds included, which the
 * greedy re-dispatch cannot.
 */
#include "engine/clear.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct nz {
	int *ia, *ja;
	double *ar;
	int len;
};

static void put(struct nz *m, int row, int col, double v)
{
	m->len++;
	m->ia[m->len] = row;
	m->ja[m->len] = col;
	m->ar[m->len] = v;
}

/* C_t = r_t - sum of the eligible offers' defaults, per interval of the
 * axis from a0; m_t = C_t + their running amounts. */
static void residual(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                     int32_t a0, size_t len, double *c)
{
	for (size_t j = 0; j < len; j++) {
		int32_t i = a0 + (int32_t)j - bid->start;
		c[j] = i >= 0 && i < bid->intervals ? bid->change[i] : 0.0;
	}
	for (size_t o = 0; o < count; o++)
		if (gf_clear_eligible(bid, &offers[o]))
			for (int32_t t = offers[o].start_after;
			     t < offers[o].start_after + offers[o].n; t++)
				c[t - a0] -= gf__clear_dflt(&offers[o], t);
}

/* The columns u_t and their two mismatch rows u_t >= +-m_t per interval;
 * returns the first of the rows (two per interval). */
static int add_mismatch(glp_prob *lp, struct nz *m, const struct gf_clear_bid *bid, int32_t a0,
                        size_t len, const double *c)
{
	int ucol = glp_add_cols(lp, (int)len), urow = glp_add_rows(lp, 2 * (int)len);

	for (size_t j = 0; j < len; j++) {
		int u = ucol + (int)j, r = urow + 2 * (int)j;
		glp_set_col_bnds(lp, u, GLP_LO, 0.0, 0.0);
		glp_set_obj_coef(lp, u, gf__clear_weight(bid, a0 + (int32_t)j));
		glp_set_row_bnds(lp, r, GLP_LO, c[j] - gf__clear_headroom(bid, a0 + (int32_t)j),
		                 0.0); /* u >= m - h */
		glp_set_row_bnds(lp, r + 1, GLP_LO, -c[j], 0.0);
		put(m, r, u, 1.0);
		put(m, r + 1, u, 1.0);
	}
	return urow;
}

/* One eligible offer started at start: its total row, and per slice x,
 * dev+ and dev- with x - dev+ + dev- = d_o(t), x in the mismatch rows.
 * xcol gets the slices' x columns. */
static void add_offer(glp_prob *lp, struct nz *m, const struct gf_fo *f, int32_t start, int32_t a0,
                      int urow, int *xcol)
{
	int total = 0;
	if (!isnan(f->total_min) || !isnan(f->total_max)) {
		total = glp_add_rows(lp, 1);
		glp_set_row_bnds(lp, total,
		                 isnan(f->total_min)           ? GLP_UP
		                 : isnan(f->total_max)         ? GLP_LO
		                 : f->total_min < f->total_max ? GLP_DB
		                                               : GLP_FX,
		                 isnan(f->total_min) ? 0.0 : f->total_min,
		                 isnan(f->total_max) ? 0.0 : f->total_max);
	}
	int col = glp_add_cols(lp, 3 * f->n), row = glp_add_rows(lp, f->n);
	for (int32_t k = 0; k < f->n; k++) {
		int x = col + 3 * k, r = row + k;
		int32_t t = start + k;
		double d = gf__clear_dflt(f, t);
		xcol[k] = x;
		glp_set_col_bnds(lp, x, f->lower[k] < f->upper[k] ? GLP_DB : GLP_FX, f->lower[k],
		                 f->upper[k]);
		glp_set_col_bnds(lp, x + 1, GLP_LO, 0.0, 0.0);
		glp_set_col_bnds(lp, x + 2, GLP_LO, 0.0, 0.0);
		glp_set_obj_coef(lp, x + 1, gf__clear_tariff(f->tariff_max));
		glp_set_obj_coef(lp, x + 2, gf__clear_tariff(f->tariff_min));
		glp_set_row_bnds(lp, r, GLP_FX, d, d);
		put(m, r, x, 1.0);
		put(m, r, x + 1, -1.0);
		put(m, r, x + 2, 1.0);
		put(m, urow + 2 * (t - a0), x, -1.0);
		put(m, urow + 2 * (t - a0) + 1, x, 1.0);
		if (total)
			put(m, total, x, 1.0);
	}
}

/* 1 when the simplex found the optimum. */
static int solve(glp_prob *lp)
{
	glp_smcp sp;

	glp_init_smcp(&sp);
	sp.msg_lev = GLP_MSG_OFF;
	sp.meth = GLP_DUALP;
	/* No presolver: GLPK 5.0's LP presolver returned, for a one-slice offer
	 * whose total row equals its default, the slice's lower bound below
	 * that total (status optimal). */
	sp.presolve = GLP_OFF;
	return glp_simplex(lp, &sp) == 0 && glp_get_status(lp) == GLP_OPT;
}

/* Reads the solution into xs (a copy of the caller's amounts) and checks
 * it: GF_ERANGE when an offer's total is out of its bounds, so that the
 * caller's amounts change only to a schedule that meets every bound. */
static enum gf_err read_back(glp_prob *lp, const struct gf_fo *offers, size_t count,
                             const int *xcol, double *xs)
{
	size_t off = 0;

	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		double sum = 0.0;
		for (int32_t k = 0; k < f->n; k++) {
			if (xcol[off])
				xs[off + (size_t)k] = fmin(
				    f->upper[k],
				    fmax(f->lower[k], glp_get_col_prim(lp, xcol[off + (size_t)k])));
			sum += xs[off + (size_t)k];
		}
		if ((!isnan(f->total_min) && sum < f->total_min - 1e-9) ||
		    (!isnan(f->total_max) && sum > f->total_max + 1e-9))
			return GF_ERANGE;
		off += (size_t)f->n;
	}
	return GF_OK;
}

enum gf_err gf__clear_amounts_lp(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                                 size_t count, const int32_t *start, double *amount)
{
	enum gf_err err = GF_ENOMEM;
	int32_t a0, a1;
	gf__clear_axis(bid, offers, count, &a0, &a1);
	size_t len = (size_t)(a1 - a0), slices = 0;
	for (size_t o = 0; o < count; o++)
		slices += (size_t)offers[o].n;
	/* Nonzeros: 2 per u, per slice x in its dev row, its total row and
	 * two mismatch rows, plus dev+ and dev-. */
	size_t cap = 2 * len + 6 * slices + 1;
	struct nz m = {0};
	glp_prob *lp = NULL;
	double *c = calloc(len, sizeof *c);
	int *xcol = calloc(slices + 1, sizeof *xcol);
	double *xs = calloc(slices + 1, sizeof *xs);
	m.ia = calloc(cap, sizeof *m.ia);
	m.ja = calloc(cap, sizeof *m.ja);
	m.ar = calloc(cap, sizeof *m.ar);
	if (!c || !xcol || !xs || !m.ia || !m.ja || !m.ar || cap > INT32_MAX)
		goto out;
	residual(bid, offers, count, a0, len, c);
	lp = glp_create_prob();
	glp_set_obj_dir(lp, GLP_MIN);
	int urow = add_mismatch(lp, &m, bid, a0, len, c);
	size_t off = 0;
	for (size_t o = 0; o < count; o++) {
		if (gf_clear_eligible(bid, &offers[o]))
			add_offer(lp, &m, &offers[o], start[o], a0, urow, xcol + off);
		off += (size_t)offers[o].n;
	}
	glp_load_matrix(lp, m.len, m.ia, m.ja, m.ar);
	err = GF_ERANGE; /* not solved: the caller keeps its amounts */
	if (!solve(lp))
		goto out;
	memcpy(xs, amount, slices * sizeof *xs);
	err = read_back(lp, offers, count, xcol, xs);
	if (err == GF_OK)
		memcpy(amount, xs, slices * sizeof *xs);
out:
	if (lp)
		glp_delete_prob(lp);
	free(m.ar);
	free(m.ja);
	free(m.ia);
	free(xs);
	free(xcol);
	free(c);
	return err;
}
