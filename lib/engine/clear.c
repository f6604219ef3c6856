/* SPDX-License-Identifier: MIT */
/*
 * clear.c - clearing model helpers and evaluation (clear.h). The heuristic
 * is in clear_heur.c, the exact solver in clear_milp.c, the Lagrangian
 * bound in clear_bound.c and the exact amount LP in clear_lp.c.
 */
#include "engine/clear.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *gf_clear_status_name(enum gf_clear_status status)
{
	switch (status) {
	case GF_CLEAR_OPTIMAL:
		return "optimal";
	case GF_CLEAR_FEASIBLE:
		return "feasible";
	case GF_CLEAR_EMPTY_BID:
		return "empty_bid";
	case GF_CLEAR_NO_ELIGIBLE:
		return "no_eligible";
	case GF_CLEAR_INFEASIBLE:
		return "infeasible";
	case GF_CLEAR_TOO_LARGE:
		return "too_large";
	}
	return "unknown";
}

double gf__clear_tariff(double tariff)
{
	return isnan(tariff) ? 0.0 : tariff;
}

/* Default amount of o at absolute interval t (0 outside its default span). */
double gf__clear_dflt(const struct gf_fo *o, int32_t t)
{
	int32_t k = t - o->start_after;
	if (k < 0 || k >= o->n)
		return 0.0;
	return o->dflt ? o->dflt[k] : (o->lower[k] + o->upper[k]) / 2.0;
}

double gf__clear_change(const struct gf_clear_bid *bid, int32_t t)
{
	int32_t i = t - bid->start;
	return i >= 0 && i < bid->intervals ? bid->change[i] : 0.0;
}

double gf__clear_headroom(const struct gf_clear_bid *bid, int32_t t)
{
	int32_t i = t - bid->start;
	return bid->headroom && i >= 0 && i < bid->intervals ? bid->headroom[i] : 0.0;
}

double gf__clear_band(double m, double h)
{
	return m < 0 ? -m : m > h ? m - h : 0.0;
}

/* Outside the bid any change is unrequested; it weighs the highest price. */
double gf__clear_weight(const struct gf_clear_bid *bid, int32_t t)
{
	int32_t i = t - bid->start;
	if (i >= 0 && i < bid->intervals)
		return bid->price[i];
	double w = 0.0;
	for (int32_t j = 0; j < bid->intervals; j++)
		w = fmax(w, bid->price[j]);
	return w;
}

static int empty_bid(const struct gf_clear_bid *bid)
{
	for (int32_t i = 0; i < bid->intervals; i++)
		if (bid->change[i] != 0.0)
			return 0;
	return 1;
}

int gf_clear_eligible(const struct gf_clear_bid *bid, const struct gf_fo *offer)
{
	double pmin = INFINITY;
	for (int32_t i = 0; i < bid->intervals; i++)
		if (bid->change[i] != 0.0)
			pmin = fmin(pmin, bid->price[i]);
	double ask = fmax(gf__clear_tariff(offer->tariff_min), gf__clear_tariff(offer->tariff_max));
	return isfinite(pmin) && ask <= pmin;
}

enum gf_err gf__clear_validate(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                               size_t count)
{
	if (!bid || bid->intervals < 1 || !bid->change || !bid->price || (count && !offers) ||
	    count > INT32_MAX)
		return GF_EINVAL;
	for (int32_t i = 0; i < bid->intervals; i++)
		if (!isfinite(bid->change[i]) || !isfinite(bid->price[i]) || bid->price[i] < 0 ||
		    (bid->headroom && (!isfinite(bid->headroom[i]) || bid->headroom[i] < 0 ||
		                       (bid->headroom[i] > 0 && bid->change[i] != 0.0))))
			return GF_EINVAL;
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		if (f->n < 1 || f->tf < 0 || !f->lower || !f->upper ||
		    f->start_after > INT32_MAX - f->tf - f->n)
			return GF_EINVAL;
		double lo = 0, hi = 0, sum = 0;
		for (int32_t k = 0; k < f->n; k++) {
			double d = gf__clear_dflt(f, f->start_after + k);
			if (!isfinite(f->lower[k]) || !isfinite(f->upper[k]) ||
			    f->lower[k] > f->upper[k] || !isfinite(d) || d < f->lower[k] ||
			    d > f->upper[k])
				return GF_EINVAL;
			lo += f->lower[k];
			hi += f->upper[k];
			sum += d;
		}
		/* The default must be a valid schedule: it is what "not used" means. */
		if ((!isnan(f->total_min) && sum < f->total_min - 1e-9) ||
		    (!isnan(f->total_max) && sum > f->total_max + 1e-9))
			return GF_EINVAL;
		if ((!isnan(f->total_min) && f->total_min > hi) ||
		    (!isnan(f->total_max) && f->total_max < lo) ||
		    (!isnan(f->total_min) && !isnan(f->total_max) && f->total_min > f->total_max))
			return GF_EINVAL;
		if (gf__clear_tariff(f->tariff_min) < 0 || gf__clear_tariff(f->tariff_max) < 0)
			return GF_EINVAL;
	}
	return GF_OK;
}

/* The time axis [lo, hi): the bid and every interval any offer may touch. */
void gf__clear_axis(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                    int32_t *lo, int32_t *hi)
{
	int32_t a = bid->start, b = bid->start + bid->intervals;
	for (size_t o = 0; o < count; o++) {
		if (offers[o].start_after < a)
			a = offers[o].start_after;
		if (offers[o].start_after + offers[o].tf + offers[o].n > b)
			b = offers[o].start_after + offers[o].tf + offers[o].n;
	}
	*lo = a;
	*hi = b;
}

enum gf_err gf_clear_evaluate(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                              size_t count, const int32_t *start, const double *amount, double tol,
                              struct gf_clear_result *res)
{
	enum gf_err err = gf__clear_validate(bid, offers, count);
	double *mis = NULL;
	if (err)
		return err;
	if (!res || (count && (!start || !amount)))
		return GF_EINVAL;
	int32_t a0, a1;
	gf__clear_axis(bid, offers, count, &a0, &a1);
	size_t len = (size_t)(a1 - a0);
	mis = calloc(len, sizeof *mis);
	if (!mis)
		return GF_ENOMEM;
	for (int32_t t = a0; t < a1; t++)
		mis[t - a0] = gf__clear_change(bid, t);
	double cost = 0.0;
	size_t off = 0;
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		const double *x = amount + off;
		int32_t s = start[o];
		int elig = gf_clear_eligible(bid, f);
		err = GF_ERANGE;
		if (s < f->start_after || s > f->start_after + f->tf)
			goto out;
		double sum = 0.0;
		for (int32_t k = 0; k < f->n; k++) {
			if (!(x[k] >= f->lower[k] - tol && x[k] <= f->upper[k] + tol))
				goto out;
			sum += x[k];
		}
		if ((!isnan(f->total_min) && sum < f->total_min - tol) ||
		    (!isnan(f->total_max) && sum > f->total_max + tol))
			goto out;
		for (int32_t t = f->start_after; t < s + f->n; t++) {
			int32_t k = t - s;
			double xt = k >= 0 && k < f->n ? x[k] : 0.0;
			double dev = xt - gf__clear_dflt(f, t);
			if (!elig && fabs(dev) > tol)
				goto out;
			mis[t - a0] += dev;
			cost += dev > 0 ? gf__clear_tariff(f->tariff_max) * dev
			                : gf__clear_tariff(f->tariff_min) * -dev;
		}
		off += (size_t)f->n;
	}
	double m = 0.0, delivered = 0.0;
	for (int32_t t = a0; t < a1; t++) {
		m += gf__clear_weight(bid, t) *
		     gf__clear_band(mis[t - a0], gf__clear_headroom(bid, t));
		if (t >= bid->start && t < bid->start + bid->intervals)
			delivered += gf__clear_change(bid, t) - mis[t - a0];
	}
	int eligible = 0;
	for (size_t o = 0; o < count; o++)
		eligible += gf_clear_eligible(bid, &offers[o]);
	res->mismatch = m;
	res->cost = cost;
	res->objective = m + cost;
	res->delivered = delivered;
	res->eligible = eligible;
	err = GF_OK;
out:
	free(mis);
	return err;
}

/* Handles the bids that need no solver: writes the defaults and returns 1. */
int gf__clear_defaults(const struct gf_clear_bid *bid, const struct gf_fo *offers, size_t count,
                       struct gf_clear_result *res)
{
	enum gf_clear_status st;
	int any = 0;
	for (size_t o = 0; o < count && !any; o++)
		any = gf_clear_eligible(bid, &offers[o]);
	if (empty_bid(bid))
		st = GF_CLEAR_EMPTY_BID;
	else if (!any)
		st = GF_CLEAR_NO_ELIGIBLE;
	else
		return 0;
	size_t off = 0;
	for (size_t o = 0; o < count; o++) {
		res->start[o] = offers[o].start_after;
		for (int32_t k = 0; k < offers[o].n; k++)
			res->amount[off + (size_t)k] =
			    gf__clear_dflt(&offers[o], offers[o].start_after + k);
		off += (size_t)offers[o].n;
	}
	res->status = st;
	return 1;
}
