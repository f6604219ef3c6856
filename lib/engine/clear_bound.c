/* SPDX-License-Identifier: MIT */
/*
 * clear_bound.c - a Lagrangian lower bound on the clearing optimum
 * (clear.h, docs/clearing.md "Bound").
 *
 * For any multipliers |lambda_t| <= w_t, w_t dist(m_t, [0, h_t]) >=
 * lambda_t m_t - max(lambda_t, 0) h_t, so
 *
 *   objective >= sum_t (lambda_t r_t - max(lambda_t, 0) h_t)
 *              + sum_o min_{s, x} sum_t (lambda_t dev_{o,t} + tariff cost of dev_{o,t})
 *
 * where dev_{o,t} = x_o(t) - d_o(t): the offers separate, and each one's
 * minimum over its starts and slice bounds is exact and cheap (per slice the
 * piece is convex piecewise linear with its kink at the default; total
 * bounds are met on the cheapest pieces). Subgradient ascent on lambda (Polyak steps towards the
 * heuristic's objective) tightens it; every iterate is a valid bound, the best is kept.
 */
#include "engine/clear.h"

#include <math.h>
#include <stdlib.h>

struct seg;

struct lag {
	int32_t a0;
	size_t len;
	double *lam, *grad, *w, *r, *h;
	double *x;           /* scratch: one offer's amounts */
	unsigned char *elig; /* per offer */
	struct seg *seg;     /* scratch: two pieces per slice */
};

/* lambda * dev + the tariff cost of dev. */
static double term(double lam, double dev, double cup, double cdown)
{
	return lam * dev + (dev > 0 ? cup * dev : -cdown * dev);
}

/* A piece of a slice's amount range with a constant cost per kWh. */
struct seg {
	double cost, len;
	int32_t k;
};

/* Minimum over the amounts x[0..n) of f started at s of sum_k (lambda_t
 * dev_k + tariff cost of dev_k), dev_k = x_k - d_o(s + k), with the slice
 * bounds and the total bounds. Each term is convex piecewise linear with
 * its kink at the default: from the unconstrained minimiser, a missing
 * total is bought on the cheapest pieces first (exact for one sum
 * constraint on separable convex terms). Writes the minimiser to x. */
static double run_min(const struct lag *lg, const struct gf_fo *f, int32_t s, double *x,
                      struct seg *seg)
{
	double cup = gf__clear_tariff(f->tariff_max), cdown = gf__clear_tariff(f->tariff_min);
	double sum = 0.0;
	for (int32_t k = 0; k < f->n; k++) {
		double lam = lg->lam[s + k - lg->a0], d = gf__clear_dflt(f, s + k);
		double c = fmin(f->upper[k], fmax(f->lower[k], d));
		double lo = term(lam, f->lower[k] - d, cup, cdown);
		double hi = term(lam, f->upper[k] - d, cup, cdown);
		double mid = term(lam, c - d, cup, cdown);
		x[k] = lo <= hi && lo <= mid ? f->lower[k] : hi <= mid ? f->upper[k] : c;
		sum += x[k];
	}
	double need = 0.0;
	int up = 0;
	if (!isnan(f->total_min) && sum < f->total_min) {
		need = f->total_min - sum;
		up = 1;
	} else if (!isnan(f->total_max) && sum > f->total_max) {
		need = sum - f->total_max;
	}
	if (need > 0) {
		/* Up to two pieces per slice in the needed direction. */
		int ns = 0;
		for (int32_t k = 0; k < f->n; k++) {
			double lam = lg->lam[s + k - lg->a0], d = gf__clear_dflt(f, s + k);
			double c = fmin(f->upper[k], fmax(f->lower[k], d));
			double end = up ? f->upper[k] : f->lower[k];
			double near = up ? lam - cdown : cdown - lam; /* towards the default */
			double far = up ? lam + cup : -lam - cup;     /* away from it */
			if ((up && x[k] < c) || (!up && x[k] > c)) {
				seg[ns++] = (struct seg){near, fabs(c - x[k]), k};
				seg[ns++] = (struct seg){far, fabs(end - c), k};
			} else {
				seg[ns++] = (struct seg){far, fabs(end - x[k]), k};
			}
		}
		for (int i = 1; i < ns; i++) /* insertion sort: a handful of pieces */
			for (int j = i; j > 0 && seg[j].cost < seg[j - 1].cost; j--) {
				struct seg tmp = seg[j];
				seg[j] = seg[j - 1];
				seg[j - 1] = tmp;
			}
		for (int i = 0; i < ns && need > 0; i++) {
			double take = fmin(need, seg[i].len);
			x[seg[i].k] += up ? take : -take;
			need -= take;
		}
	}
	double v = 0.0;
	for (int32_t k = 0; k < f->n; k++)
		v += term(lg->lam[s + k - lg->a0], x[k] - gf__clear_dflt(f, s + k), cup, cdown);
	return v;
}

/* One offer's minimum over starts and amounts; adds its deviations at the
 * minimiser to grad (the mismatch r - (d - x)). */
static double offer_min(struct lag *lg, const struct gf_fo *f)
{
	double cup = gf__clear_tariff(f->tariff_max), cdown = gf__clear_tariff(f->tariff_min);
	int32_t span = f->tf + f->n;
	/* Not running at t: x = 0. */
	double idle = 0.0;
	for (int32_t j = 0; j < span; j++) {
		int32_t t = f->start_after + j;
		idle += term(lg->lam[t - lg->a0], -gf__clear_dflt(f, t), cup, cdown);
	}
	double best = INFINITY;
	int32_t bests = f->start_after;
	for (int32_t s = f->start_after; s <= f->start_after + f->tf; s++) {
		double v = idle + run_min(lg, f, s, lg->x, lg->seg);
		for (int32_t k = 0; k < f->n; k++)
			v -= term(lg->lam[s + k - lg->a0], -gf__clear_dflt(f, s + k), cup, cdown);
		if (v < best) {
			best = v;
			bests = s;
		}
	}
	run_min(lg, f, bests, lg->x, lg->seg);
	for (int32_t j = 0; j < span; j++) {
		int32_t t = f->start_after + j, k = t - bests;
		double xt = k >= 0 && k < f->n ? lg->x[k] : 0.0;
		lg->grad[t - lg->a0] += xt - gf__clear_dflt(f, t);
	}
	return best;
}

static double dual_value(struct lag *lg, const struct gf_fo *offers, size_t count)
{
	double v = 0.0;
	for (size_t j = 0; j < lg->len; j++) {
		lg->grad[j] = lg->r[j];
		v += lg->lam[j] * lg->r[j] - fmax(lg->lam[j], 0.0) * lg->h[j];
	}
	for (size_t o = 0; o < count; o++)
		if (lg->elig[o])
			v += offer_min(lg, &offers[o]);
	return v;
}

enum gf_err gf_clear_bound(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                           double upper, int iterations, double *bound)
{
	enum gf_err err = gf__clear_validate(bid, offers, count);
	struct lag lg = {0};
	if (err)
		return err;
	if (!bound || !(upper >= 0) || iterations < 0)
		return GF_EINVAL;
	int32_t a1;
	gf__clear_axis(bid, offers, count, &lg.a0, &a1);
	lg.len = (size_t)(a1 - lg.a0);
	err = GF_ENOMEM;
	lg.lam = calloc(lg.len, sizeof *lg.lam);
	lg.grad = calloc(lg.len, sizeof *lg.grad);
	lg.w = calloc(lg.len, sizeof *lg.w);
	lg.r = calloc(lg.len, sizeof *lg.r);
	lg.h = calloc(lg.len, sizeof *lg.h);
	int32_t maxn = 1;
	for (size_t o = 0; o < count; o++)
		maxn = offers[o].n > maxn ? offers[o].n : maxn;
	lg.x = calloc((size_t)maxn, sizeof *lg.x);
	lg.seg = calloc(2 * (size_t)maxn, sizeof *lg.seg);
	lg.elig = calloc(count + 1, 1);
	if (!lg.lam || !lg.grad || !lg.w || !lg.r || !lg.h || !lg.x || !lg.seg || !lg.elig)
		goto out;
	for (size_t o = 0; o < count; o++)
		lg.elig[o] = (unsigned char)gf_clear_eligible(bid, &offers[o]);
	for (size_t j = 0; j < lg.len; j++) {
		int32_t t = lg.a0 + (int32_t)j, i = t - bid->start;
		lg.w[j] = gf__clear_weight(bid, t);
		lg.r[j] = i >= 0 && i < bid->intervals ? bid->change[i] : 0.0;
		lg.h[j] = gf__clear_headroom(bid, t);
	}
	/* lambda = 0 gives 0 (every offer at its default costs nothing): a
	 * valid start; the first step moves towards the requested change. */
	double best = 0.0, theta = 1.0;
	int stall = 0;
	for (int it = 0; it < iterations; it++) {
		double v = dual_value(&lg, offers, count);
		if (v > best + 1e-12 * fmax(1.0, fabs(best))) {
			best = v;
			stall = 0;
		} else if (++stall >= 5) {
			theta /= 2;
			stall = 0;
		}
		if (upper - best <= 1e-9 * fmax(1.0, upper) || theta < 1e-6)
			break;
		/* Projected subgradient: components pushing past |lambda| = w
		 * cannot move. */
		double norm = 0.0;
		for (size_t j = 0; j < lg.len; j++) {
			/* grad holds m_t; the term's slope in lambda is m_t - h_t
			 * for lambda > 0, m_t below 0, anything between at 0. */
			double g = lg.grad[j], m = g;
			if (lg.lam[j] > 0)
				g = m - lg.h[j];
			else if (lg.lam[j] == 0)
				g = m > lg.h[j] ? m - lg.h[j] : m < 0 ? m : 0.0;
			lg.grad[j] = g;
			if ((g > 0 && lg.lam[j] >= lg.w[j]) || (g < 0 && lg.lam[j] <= -lg.w[j]))
				lg.grad[j] = g = 0.0;
			norm += g * g;
		}
		if (norm <= 1e-18)
			break; /* lambda maximises the dual: v is the bound */
		double step = theta * (upper - v) / norm;
		for (size_t j = 0; j < lg.len; j++)
			lg.lam[j] = fmax(-lg.w[j], fmin(lg.w[j], lg.lam[j] + step * lg.grad[j]));
	}
	*bound = best;
	err = GF_OK;
out:
	free(lg.elig);
	free(lg.seg);
	free(lg.x);
	free(lg.h);
	free(lg.r);
	free(lg.w);
	free(lg.grad);
	free(lg.lam);
	return err;
}
