/* SPDX-License-Identifier: MIT */
/*
 * clear_milp.c - exact clearing with GLPK (clear.h, docs/clearing.md).
 *
 * Columns per eligible offer o: y_{o,s} binary for each start s of its
 * window, z_{o,s,k} in [0, hi] (the amount of slice k when starting at s),
 * dev+_{o,t}, dev-_{o,t} >= 0 over its span; per axis interval u_t >= 0.
 */
#include "clear.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

enum gf_err gf_clear_milp(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                          const struct gf_clear_options *opt, struct gf_clear_result *res)
{
	enum gf_err err = gf__clear_validate(bid, offers, count);
	struct triplets m = {0};
	glp_prob *lp = NULL;
	int *zcol = NULL, *ycol = NULL; /* first z / y column of each offer */
	int *xrow = NULL;               /* per axis interval: the two mismatch rows */
	int32_t *start = NULL;
	double *x = NULL;
	if (err)
		return err;
	if (!res || (count && (!res->start || !res->amount)))
		return GF_EINVAL;
	double tlim = opt && opt->time_limit_s > 0 ? opt->time_limit_s : 10.0;
	size_t maxcols = opt && opt->max_columns ? opt->max_columns : 60000;
	int32_t a0, a1;
	gf__clear_axis(bid, offers, count, &a0, &a1);
	size_t len = (size_t)(a1 - a0), slices = 0;
	for (size_t o = 0; o < count; o++)
		slices += (size_t)offers[o].n;
	struct gf_clear_result r = *res;
	err = GF_ENOMEM;
	start = calloc(count + 1, sizeof *start);
	x = calloc(slices + 1, sizeof *x);
	zcol = calloc(count + 1, sizeof *zcol);
	ycol = calloc(count + 1, sizeof *ycol);
	xrow = calloc(2 * len, sizeof *xrow);
	if (!start || !x || !zcol || !ycol || !xrow)
		goto out;
	r.start = start;
	r.amount = x;
	if (gf__clear_defaults(bid, offers, count, &r))
		goto evaluate;
	size_t cols = columns_needed(bid, offers, count, len);
	if (cols > maxcols || cols > INT32_MAX / 4) {
		res->status = GF_CLEAR_TOO_LARGE;
		err = GF_OK;
		goto out;
	}
	glp_term_out(GLP_OFF);
	lp = glp_create_prob();
	glp_set_obj_dir(lp, GLP_MIN);
	/* Mismatch rows: u_t - X_t >= C_t and u_t + X_t >= -C_t, where X_t sums
	 * the eligible offers' amounts at t and C_t = r_t - their defaults. */
	for (int32_t t = a0; t < a1; t++) {
		int32_t i = t - bid->start;
		double c = i >= 0 && i < bid->intervals ? bid->change[i] : 0.0;
		for (size_t o = 0; o < count; o++)
			if (gf_clear_eligible(bid, &offers[o]))
				c -= gf__clear_dflt(&offers[o], t);
		int u = add_col(lp, GLP_CV, 0.0, 0.0, gf__clear_weight(bid, t));
		glp_set_col_bnds(lp, u, GLP_LO, 0.0, 0.0);
		size_t j = (size_t)(t - a0);
		xrow[2 * j] = add_row(lp, GLP_LO, c, 0.0);
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
		for (int32_t j = 0; j < span; j++) {
			double d = gf__clear_dflt(f, f->start_after + j);
			glp_set_row_bnds(lp, devrow + j, GLP_FX, d, d);
			int p = add_col(lp, GLP_CV, 0.0, 0.0, gf__clear_tariff(f->tariff_max));
			int q = add_col(lp, GLP_CV, 0.0, 0.0, gf__clear_tariff(f->tariff_min));
			glp_set_col_bnds(lp, p, GLP_LO, 0.0, 0.0);
			glp_set_col_bnds(lp, q, GLP_LO, 0.0, 0.0);
			if (push(&m, devrow + j, p, -1.0) || push(&m, devrow + j, q, 1.0))
				goto out;
		}
		ycol[o] = glp_add_cols(lp, w);
		zcol[o] = glp_add_cols(lp, w * f->n);
		for (int32_t si = 0; si < w; si++) {
			int y = ycol[o] + si;
			glp_set_col_kind(lp, y, GLP_BV);
			if (push(&m, one, y, 1.0))
				goto out;
			for (int32_t k = 0; k < f->n; k++) {
				int z = zcol[o] + si * f->n + k;
				int32_t t = f->start_after + si + k;
				size_t j = (size_t)(t - a0);
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
	glp_iocp parm;
	glp_init_iocp(&parm);
	parm.presolve = GLP_ON;
	parm.msg_lev = GLP_MSG_OFF;
	parm.tm_lim = (int)fmin(tlim * 1000.0, (double)INT32_MAX);
	int rc = glp_intopt(lp, &parm);
	int st = glp_mip_status(lp);
	if (st == GLP_NOFEAS) {
		res->status = GF_CLEAR_INFEASIBLE;
		err = GF_OK;
		goto out;
	}
	if (st != GLP_OPT && st != GLP_FEAS) {
		res->status = rc == GLP_ENOPFS || rc == GLP_ENODFS ? GF_CLEAR_INFEASIBLE
		                                                   : GF_CLEAR_TIME_LIMIT;
		err = GF_OK;
		goto out;
	}
	r.status = st == GLP_OPT && rc == 0 ? GF_CLEAR_OPTIMAL : GF_CLEAR_FEASIBLE;
	size_t off = 0;
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		start[o] = f->start_after;
		for (int32_t k = 0; k < f->n; k++)
			x[off + (size_t)k] = gf__clear_dflt(f, f->start_after + k);
		if (gf_clear_eligible(bid, f)) {
			for (int32_t si = 0; si <= f->tf; si++) {
				if (glp_mip_col_val(lp, ycol[o] + si) < 0.5)
					continue;
				start[o] = f->start_after + si;
				for (int32_t k = 0; k < f->n; k++) {
					double v = glp_mip_col_val(lp, zcol[o] + si * f->n + k);
					x[off + (size_t)k] =
					    fmin(f->upper[k], fmax(f->lower[k], v));
				}
			}
		}
		off += (size_t)f->n;
	}
evaluate:
	err = gf_clear_evaluate(bid, offers, count, start, x, 1e-6, &r);
	if (err)
		goto out;
	memcpy(res->start, start, count * sizeof *start);
	memcpy(res->amount, x, slices * sizeof *x);
	r.start = res->start;
	r.amount = res->amount;
	*res = r;
out:
	if (lp)
		glp_delete_prob(lp);
	free(m.ar);
	free(m.ja);
	free(m.ia);
	free(xrow);
	free(ycol);
	free(zcol);
	free(x);
	free(start);
	return err;
}
