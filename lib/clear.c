/* SPDX-License-Identifier: MIT */
/*
 * clear.c - clearing model helpers, evaluation and the heuristic (clear.h).
 * The exact solver is in clear_milp.c.
 */
#include "clear.h"

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

static double bid_change(const struct gf_clear_bid *bid, int32_t t)
{
	int32_t i = t - bid->start;
	return i >= 0 && i < bid->intervals ? bid->change[i] : 0.0;
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
		if (!isfinite(bid->change[i]) || !isfinite(bid->price[i]) || bid->price[i] < 0)
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
		mis[t - a0] = bid_change(bid, t);
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
		m += gf__clear_weight(bid, t) * fabs(mis[t - a0]);
		if (t >= bid->start && t < bid->start + bid->intervals)
			delivered += bid_change(bid, t) - mis[t - a0];
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

/* w |a + x| + tariff cost of the deviation x - d: convex piecewise linear
 * in x, so its minimum over [lo, hi] lies on a bound or a breakpoint. */
static double piece(double w, double a, double x, double d, double cup, double cdown)
{
	double dev = x - d;
	return w * fabs(a + x) + (dev > 0 ? cup * dev : -cdown * dev);
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static double best_amount(double w, double a, double d, double lo, double hi, double cup,
                          double cdown, double *val)
{
	double cand[4] = {lo, hi, clampd(d, lo, hi), clampd(-a, lo, hi)};
	double bx = cand[0], bv = piece(w, a, cand[0], d, cup, cdown);
	for (int i = 1; i < 4; i++) {
		double v = piece(w, a, cand[i], d, cup, cdown);
		if (v < bv - 1e-12) {
			bv = v;
			bx = cand[i];
		}
	}
	*val = bv;
	return bx;
}

/* Moves the amounts x[0..n) proportionally toward the total bounds. */
static void repair_total(const struct gf_fo *f, double *x)
{
	double sum = 0.0, room = 0.0;
	for (int32_t k = 0; k < f->n; k++)
		sum += x[k];
	if (!isnan(f->total_min) && sum < f->total_min) {
		for (int32_t k = 0; k < f->n; k++)
			room += f->upper[k] - x[k];
		double q = room > 0 ? (f->total_min - sum) / room : 0.0;
		for (int32_t k = 0; k < f->n; k++)
			x[k] = fmin(f->upper[k], x[k] + q * (f->upper[k] - x[k]));
	} else if (!isnan(f->total_max) && sum > f->total_max) {
		for (int32_t k = 0; k < f->n; k++)
			room += x[k] - f->lower[k];
		double q = room > 0 ? (sum - f->total_max) / room : 0.0;
		for (int32_t k = 0; k < f->n; k++)
			x[k] = fmax(f->lower[k], x[k] - q * (x[k] - f->lower[k]));
	}
}

struct heur {
	const struct gf_clear_bid *bid;
	int32_t a0;
	size_t len;
	double *mis;  /* per axis interval: r_t - delivered_t */
	double *w;    /* per axis interval */
	double *best; /* scratch, max n */
	double *cur;  /* scratch, max n */
};

/* Adds (sign = 1) or removes (sign = -1) offer f placed at s with x from the
 * mismatch: its contribution is x_o(t) - d_o(t). */
static void apply(struct heur *h, const struct gf_fo *f, int32_t s, const double *x, double sign)
{
	for (int32_t t = f->start_after; t < s + f->n; t++) {
		int32_t k = t - s;
		double xt = k >= 0 && k < f->n ? x[k] : 0.0;
		h->mis[t - h->a0] += sign * (xt - gf__clear_dflt(f, t));
	}
}

/* Places f (already removed from h->mis) at its best start; returns the
 * objective change relative to the default placement and writes s and x. */
static double place(struct heur *h, const struct gf_fo *f, int32_t *s_out, double *x)
{
	double cup = gf__clear_tariff(f->tariff_max), cdown = gf__clear_tariff(f->tariff_min);
	double base = 0.0;
	for (int32_t t = f->start_after; t < f->start_after + f->tf + f->n; t++)
		base += h->w[t - h->a0] * fabs(h->mis[t - h->a0]);
	double bestv = INFINITY;
	int32_t bests = f->start_after;
	for (int32_t s = f->start_after; s <= f->start_after + f->tf; s++) {
		double v = 0.0;
		for (int32_t t = f->start_after; t < f->start_after + f->tf + f->n; t++) {
			double w = h->w[t - h->a0], a = h->mis[t - h->a0];
			double d = gf__clear_dflt(f, t), pv;
			int32_t k = t - s;
			if (k >= 0 && k < f->n) {
				h->cur[k] = best_amount(w, a - d, d, f->lower[k], f->upper[k], cup,
				                        cdown, &pv);
			} else {
				pv = piece(w, a - d, 0.0, d, cup, cdown);
			}
			v += pv;
		}
		if (!isnan(f->total_min) || !isnan(f->total_max)) {
			/* The repair changes the amounts: price them exactly. */
			repair_total(f, h->cur);
			v = 0.0;
			for (int32_t t = f->start_after; t < f->start_after + f->tf + f->n; t++) {
				int32_t k = t - s;
				double d = gf__clear_dflt(f, t);
				double xt = k >= 0 && k < f->n ? h->cur[k] : 0.0;
				v += piece(h->w[t - h->a0], h->mis[t - h->a0] - d, xt, d, cup,
				           cdown);
			}
		}
		if (v < bestv - 1e-12) {
			bestv = v;
			bests = s;
			memcpy(h->best, h->cur, (size_t)f->n * sizeof *h->best);
		}
	}
	*s_out = bests;
	memcpy(x, h->best, (size_t)f->n * sizeof *x);
	return bestv - base;
}

static int cmp_flex(const void *pa, const void *pb);

struct sweep {
	struct heur *h;
	const struct gf_fo *offers;
	double *order;  /* (key, offer) pairs of the eligible offers */
	double *order2; /* scratch of the same size */
	size_t ne;
	int32_t *start;
	double *x;
	const size_t *off;
};

/* sum_t w_t |mis_t| + the eligible offers' tariff cost. */
static double sweep_objective(const struct sweep *sw)
{
	const struct heur *h = sw->h;
	double v = 0.0;
	for (size_t i = 0; i < sw->ne; i++) {
		size_t o = (size_t)sw->order[2 * i + 1];
		const struct gf_fo *f = &sw->offers[o];
		for (int32_t t = f->start_after; t < sw->start[o] + f->n; t++) {
			int32_t k = t - sw->start[o];
			double xt = k >= 0 && k < f->n ? sw->x[sw->off[o] + (size_t)k] : 0.0;
			double dev = xt - gf__clear_dflt(f, t);
			v += dev > 0 ? gf__clear_tariff(f->tariff_max) * dev
			             : -gf__clear_tariff(f->tariff_min) * dev;
		}
	}
	for (size_t j = 0; j < h->len; j++)
		v += h->w[j] * fabs(h->mis[j]);
	return v;
}

/* One pass of single-offer moves: each eligible offer is taken out and put
 * back at its best start with its best amounts if that is better. */
static void descend(struct sweep *sw)
{
	struct heur *h = sw->h;
	for (size_t i = 0; i < sw->ne; i++) {
		size_t o = (size_t)sw->order[2 * i + 1];
		const struct gf_fo *f = &sw->offers[o];
		double *xo = sw->x + sw->off[o];
		int32_t s;
		apply(h, f, sw->start[o], xo, -1.0);
		/* Price the current placement against the same mismatch. */
		double now = 0.0, base = 0.0;
		double cup = gf__clear_tariff(f->tariff_max);
		double cdown = gf__clear_tariff(f->tariff_min);
		for (int32_t t = f->start_after; t < f->start_after + f->tf + f->n; t++) {
			int32_t k = t - sw->start[o];
			double d = gf__clear_dflt(f, t), a = h->mis[t - h->a0];
			double xt = k >= 0 && k < f->n ? xo[k] : 0.0;
			now += piece(h->w[t - h->a0], a - d, xt, d, cup, cdown);
			base += h->w[t - h->a0] * fabs(a);
		}
		double v = place(h, f, &s, h->cur);
		if (v < now - base - 1e-9) {
			sw->start[o] = s;
			memcpy(xo, h->cur, (size_t)f->n * sizeof *xo);
		}
		apply(h, f, sw->start[o], xo, 1.0);
	}
}

/* With the starts fixed, each interval is a separable convex problem in the
 * amounts: from every offer's cheapest point clamp(d, lo, hi), move the
 * cheapest offers first until the mismatch is 0 or the next kWh costs more
 * than w_t. Visiting offers in one global tariff order does exactly that in
 * every interval at once. Offers with total bounds keep their amounts. */
static void redispatch(struct sweep *sw)
{
	struct heur *h = sw->h;
	for (int dir = 0; dir < 2; dir++) {
		for (size_t i = 0; i < sw->ne; i++) {
			size_t o = (size_t)sw->order[2 * i + 1];
			const struct gf_fo *f = &sw->offers[o];
			sw->order2[2 * i] = -gf__clear_tariff(dir ? f->tariff_max : f->tariff_min);
			sw->order2[2 * i + 1] = (double)o;
		}
		qsort(sw->order2, sw->ne, 2 * sizeof *sw->order2, cmp_flex);
		for (size_t i = 0; i < sw->ne; i++) {
			size_t o = (size_t)sw->order2[2 * i + 1];
			const struct gf_fo *f = &sw->offers[o];
			double *xo = sw->x + sw->off[o];
			if (!isnan(f->total_min) || !isnan(f->total_max))
				continue;
			double c = gf__clear_tariff(dir ? f->tariff_max : f->tariff_min);
			for (int32_t k = 0; k < f->n; k++) {
				int32_t t = sw->start[o] + k;
				size_t j = (size_t)(t - h->a0);
				double p0 = clampd(gf__clear_dflt(f, t), f->lower[k], f->upper[k]);
				if (dir == 0) { /* reset to the cheapest point, then lower */
					h->mis[j] += p0 - xo[k];
					xo[k] = p0;
					if (h->mis[j] > 0 && c < h->w[j]) {
						double dec = fmin(h->mis[j], xo[k] - f->lower[k]);
						xo[k] -= dec;
						h->mis[j] -= dec;
					}
				} else if (h->mis[j] < 0 && c < h->w[j] && xo[k] >= p0) {
					double inc = fmin(-h->mis[j], f->upper[k] - xo[k]);
					xo[k] += inc;
					h->mis[j] += inc;
				}
			}
		}
	}
}

/* Resets every offer to its default, then improves: optionally amounts
 * first, then rounds of start moves and amount re-dispatch while the
 * objective falls. Returns the objective reached. */
static double search(struct sweep *sw, const struct gf_clear_bid *bid, size_t count,
                     int amounts_first, int passes)
{
	struct heur *h = sw->h;
	for (size_t j = 0; j < h->len; j++)
		h->mis[j] = bid_change(bid, h->a0 + (int32_t)j);
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &sw->offers[o];
		sw->start[o] = f->start_after;
		for (int32_t k = 0; k < f->n; k++)
			sw->x[sw->off[o] + (size_t)k] = gf__clear_dflt(f, f->start_after + k);
	}
	if (amounts_first)
		redispatch(sw);
	double obj = sweep_objective(sw);
	for (int p = 0; p <= passes; p++) {
		descend(sw);
		redispatch(sw);
		double next = sweep_objective(sw);
		if (next > obj - 1e-9)
			return next;
		obj = next;
	}
	return obj;
}

static int cmp_flex(const void *pa, const void *pb)
{
	const double *a = pa, *b = pb;
	return (a[0] < b[0]) - (a[0] > b[0]); /* descending key */
}

enum gf_err gf_clear_heuristic(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                               size_t count, const struct gf_clear_options *opt,
                               struct gf_clear_result *res)
{
	enum gf_err err = gf__clear_validate(bid, offers, count);
	struct heur h = {0};
	double *order = NULL, *order2 = NULL, *x = NULL;
	size_t *off = NULL;
	int32_t *start = NULL, *bstart = NULL;
	double *bx = NULL;
	if (err)
		return err;
	if (!res || (count && (!res->start || !res->amount)))
		return GF_EINVAL;
	int passes = opt && opt->passes > 0 ? opt->passes : 20;
	int32_t a0, a1, maxn = 1;
	gf__clear_axis(bid, offers, count, &a0, &a1);
	size_t len = (size_t)(a1 - a0), slices = 0;
	for (size_t o = 0; o < count; o++) {
		slices += (size_t)offers[o].n;
		if (offers[o].n > maxn)
			maxn = offers[o].n;
	}
	err = GF_ENOMEM;
	h.bid = bid;
	h.a0 = a0;
	h.len = len;
	h.mis = calloc(len, sizeof *h.mis);
	h.w = calloc(len, sizeof *h.w);
	h.best = calloc((size_t)maxn, sizeof *h.best);
	h.cur = calloc((size_t)maxn, sizeof *h.cur);
	order = calloc(2 * (count + 1), sizeof *order);
	order2 = calloc(2 * (count + 1), sizeof *order2);
	x = calloc(slices + 1, sizeof *x);
	off = calloc(count + 1, sizeof *off);
	start = calloc(count + 1, sizeof *start);
	bstart = calloc(count + 1, sizeof *bstart);
	bx = calloc(slices + 1, sizeof *bx);
	if (!bstart || !bx || !h.mis || !h.w || !h.best || !h.cur || !order || !order2 || !x ||
	    !off || !start)
		goto out;
	struct gf_clear_result r = *res;
	r.start = start;
	r.amount = x;
	if (gf__clear_defaults(bid, offers, count, &r))
		goto done;
	for (int32_t t = a0; t < a1; t++)
		h.w[t - a0] = gf__clear_weight(bid, t);
	size_t ne = 0;
	for (size_t o = 0; o < count; o++) {
		off[o + 1] = off[o] + (size_t)offers[o].n;
		if (gf_clear_eligible(bid, &offers[o])) {
			/* Cheapest first: a costly offer that claimed the request
			 * first could only be displaced by a two-offer exchange,
			 * which single-offer moves cannot make. */
			order[2 * ne] = -(gf__clear_tariff(offers[o].tariff_min) +
			                  gf__clear_tariff(offers[o].tariff_max));
			order[2 * ne + 1] = (double)o;
			ne++;
		}
	}
	qsort(order, ne, 2 * sizeof *order, cmp_flex);
	struct sweep sw = {&h, offers, order, order2, ne, start, x, off};
	/* Two starts, the better one kept: amounts first (cheap amount changes
	 * claim the request before any costly shift can), and starts first
	 * (shifts that amounts alone cannot reach). */
	double obj = search(&sw, bid, count, 1, passes);
	memcpy(bstart, start, count * sizeof *start);
	memcpy(bx, x, slices * sizeof *x);
	if (search(&sw, bid, count, 0, passes) > obj) {
		memcpy(start, bstart, count * sizeof *start);
		memcpy(x, bx, slices * sizeof *x);
	}
	r.status = GF_CLEAR_FEASIBLE;
done:
	err = gf_clear_evaluate(bid, offers, count, start, x, 1e-7, &r);
	if (err)
		goto out;
	memcpy(res->start, start, count * sizeof *start);
	memcpy(res->amount, x, slices * sizeof *x);
	r.start = res->start;
	r.amount = res->amount;
	*res = r;
out:
	free(bx);
	free(bstart);
	free(start);
	free(off);
	free(x);
	free(order2);
	free(order);
	free(h.cur);
	free(h.best);
	free(h.w);
	free(h.mis);
	return err;
}
