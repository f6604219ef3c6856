/* SPDX-License-Identifier: MIT */
/*
 * clear_heur.c - the clearing heuristic (clear.h, docs/clearing.md
 * "Heuristic"): greedy placement, start moves, exact re-dispatch of the
 * amounts, kicks, and an exact amount LP where total bounds need it.
 */
#include "engine/clear.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* w dist(a + x, [0, h]) + tariff cost of the deviation x - d: convex
 * piecewise linear in x, so its minimum over [lo, hi] lies on a bound or a
 * breakpoint (the default, -a and h - a). */
static double piece(double w, double a, double h, double x, double d, double cup, double cdown)
{
	double dev = x - d;
	return w * gf__clear_band(a + x, h) + (dev > 0 ? cup * dev : -cdown * dev);
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static double best_amount(double w, double a, double h, double d, double lo, double hi, double cup,
                          double cdown, double *val)
{
	double cand[5] = {lo, hi, clampd(d, lo, hi), clampd(-a, lo, hi), clampd(h - a, lo, hi)};
	double bx = cand[0], bv = piece(w, a, h, cand[0], d, cup, cdown);
	for (int i = 1; i < 5; i++) {
		double v = piece(w, a, h, cand[i], d, cup, cdown);
		if (v < bv - 1e-12) {
			bv = v;
			bx = cand[i];
		}
	}
	*val = bv;
	return bx;
}

/* A stretch of one slice's amount with a constant objective change per kWh. */
struct piece {
	double cost, len;
	int32_t k;
};

struct heur {
	const struct gf_clear_bid *bid;
	int32_t a0;
	size_t len;
	double *mis;      /* per axis interval: r_t - delivered_t */
	double *w;        /* per axis interval */
	double *hr;       /* per axis interval: the bid's headroom h_t */
	double *best;     /* scratch, max n */
	double *cur;      /* scratch, max n */
	struct piece *pc; /* scratch, 4 max n */
	double *dd;       /* scratch, len: an offer's default over its span */
	double *idle;     /* scratch, len: its piece there when not running */
};

/* Meets f's total bounds from x (each x_k minimising its own piece at s,
 * given the mismatch h->mis without f): each piece is convex piecewise
 * linear with kinks at the default and where the mismatch is zero, so
 * buying the missing (or surplus) total on the cheapest stretches first is
 * exact for the one sum constraint. */
static void meet_total(struct heur *h, const struct gf_fo *f, int32_t s, double *x)
{
	double cup = gf__clear_tariff(f->tariff_max), cdown = gf__clear_tariff(f->tariff_min);
	double sum = 0.0, need = 0.0, dir = 1.0;
	for (int32_t k = 0; k < f->n; k++)
		sum += x[k];
	if (!isnan(f->total_min) && sum < f->total_min)
		need = f->total_min - sum;
	else if (!isnan(f->total_max) && sum > f->total_max)
		need = sum - f->total_max, dir = -1.0;
	if (!(need > 0))
		return;
	int np = 0;
	for (int32_t k = 0; k < f->n; k++) {
		int32_t t = s + k;
		double d = gf__clear_dflt(f, t), a = h->mis[t - h->a0] - d, w = h->w[t - h->a0];
		double hr = h->hr[t - h->a0];
		double end = dir > 0 ? f->upper[k] : f->lower[k];
		double kink[3] = {d, -a, hr - a}, at = x[k];
		for (int i = 1; i < 3; i++) /* in the direction of travel */
			for (int j = i; j > 0 && (kink[j] - kink[j - 1]) * dir < 0; j--) {
				double tmp = kink[j];
				kink[j] = kink[j - 1];
				kink[j - 1] = tmp;
			}
		for (int i = 0; i <= 3; i++) {
			double next = i < 3 ? kink[i] : end;
			if ((next - at) * dir <= 0 || (next - end) * dir > 0)
				continue;
			double mid = (at + next) / 2;
			/* The objective's change per kWh moved in the direction dir. */
			double slope = w * (a + mid > hr  ? 1.0
			                    : a + mid < 0 ? -1.0
			                                  : 0.0) +
			               (mid > d ? cup : -cdown);
			h->pc[np++] = (struct piece){dir * slope, fabs(next - at), k};
			at = next;
		}
	}
	for (int i = 1; i < np; i++) /* insertion sort: a handful of stretches */
		for (int j = i; j > 0 && h->pc[j].cost < h->pc[j - 1].cost; j--) {
			struct piece tmp = h->pc[j];
			h->pc[j] = h->pc[j - 1];
			h->pc[j - 1] = tmp;
		}
	for (int i = 0; i < np && need > 0; i++) {
		double take = fmin(need, h->pc[i].len);
		x[h->pc[i].k] =
		    clampd(x[h->pc[i].k] + dir * take, f->lower[h->pc[i].k], f->upper[h->pc[i].k]);
		need -= take;
	}
}

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
static double place(struct heur *h, const struct gf_fo *f, int32_t slo, int32_t shi, int32_t *s_out,
                    double *x)
{
	double cup = gf__clear_tariff(f->tariff_max), cdown = gf__clear_tariff(f->tariff_min);
	double base = 0.0, idle = 0.0;
	int32_t a = f->start_after, span = f->tf + f->n;
	/* The span's defaults and pieces when not running, once: each start
	 * then prices only its running slices. */
	for (int32_t j = 0; j < span; j++) {
		size_t i = (size_t)(a + j - h->a0);
		double m = h->mis[i], d = gf__clear_dflt(f, a + j);
		base += h->w[i] * gf__clear_band(m, h->hr[i]);
		h->dd[j] = d;
		h->idle[j] = piece(h->w[i], m - d, h->hr[i], 0.0, d, cup, cdown);
		idle += h->idle[j];
	}
	double bestv = INFINITY;
	int32_t bests = slo;
	int tot = !isnan(f->total_min) || !isnan(f->total_max);
	for (int32_t s = slo; s <= shi; s++) {
		double v = idle;
		for (int32_t k = 0; k < f->n; k++) {
			int32_t j = s - a + k;
			size_t i = (size_t)(s + k - h->a0);
			double pv, d = h->dd[j];
			h->cur[k] = best_amount(h->w[i], h->mis[i] - d, h->hr[i], d, f->lower[k],
			                        f->upper[k], cup, cdown, &pv);
			v += pv - h->idle[j];
		}
		if (tot) {
			/* The repair changes the amounts: price them exactly. */
			meet_total(h, f, s, h->cur);
			v = idle;
			for (int32_t k = 0; k < f->n; k++) {
				int32_t j = s - a + k;
				size_t i = (size_t)(s + k - h->a0);
				v += piece(h->w[i], h->mis[i] - h->dd[j], h->hr[i], h->cur[k],
				           h->dd[j], cup, cdown) -
				     h->idle[j];
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
	size_t fixed; /* an offer descend leaves alone (count = none) */
	int totals;   /* some eligible offer has total bounds */
	enum gf__clear_amounts amounts;
};

/* Exact (LP) or projected amounts for the fixed starts when total bounds
 * need them, as sw->amounts says; lp_slices and proj_slices are the size
 * limits of each. GF_OK when sw->x changed (the caller reloads the
 * mismatch). */
static enum gf_err exact_amounts(struct sweep *sw, size_t count, size_t slices, size_t lp_slices,
                                 size_t proj_slices)
{
	if (!sw->totals || slices > proj_slices)
		return GF_ERANGE;
	if (slices <= lp_slices && sw->amounts != GF__CLEAR_AMOUNTS_PROJECTION)
		return gf__clear_amounts_lp(sw->h->bid, sw->offers, count, sw->start, sw->x);
	if (sw->amounts == GF__CLEAR_AMOUNTS_LEGACY)
		return GF_ERANGE;
	return gf__clear_amounts_projection(sw->h->bid, sw->offers, count, sw->start, sw->x,
	                                    GF__CLEAR_PROJECTION_ROUNDS);
}

/* sum_t w_t dist(mis_t, [0, h_t]) + the eligible offers' tariff cost. */
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
		v += h->w[j] * gf__clear_band(h->mis[j], h->hr[j]);
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
		if (o == sw->fixed)
			continue;
		apply(h, f, sw->start[o], xo, -1.0);
		/* Price the current placement against the same mismatch. */
		double now = 0.0, base = 0.0;
		double cup = gf__clear_tariff(f->tariff_max);
		double cdown = gf__clear_tariff(f->tariff_min);
		for (int32_t t = f->start_after; t < f->start_after + f->tf + f->n; t++) {
			int32_t k = t - sw->start[o];
			double d = gf__clear_dflt(f, t), a = h->mis[t - h->a0];
			double xt = k >= 0 && k < f->n ? xo[k] : 0.0;
			now += piece(h->w[t - h->a0], a - d, h->hr[t - h->a0], xt, d, cup, cdown);
			base += h->w[t - h->a0] * gf__clear_band(a, h->hr[t - h->a0]);
		}
		double v = place(h, f, f->start_after, f->start_after + f->tf, &s, h->cur);
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
	/* All offers at their cheapest point first: the greedy is exact only
	 * from there (resetting an offer after a cheaper one has moved would
	 * change the mismatch that cheaper one answered). */
	for (size_t i = 0; i < sw->ne; i++) {
		size_t o = (size_t)sw->order[2 * i + 1];
		const struct gf_fo *f = &sw->offers[o];
		double *xo = sw->x + sw->off[o];
		if (!isnan(f->total_min) || !isnan(f->total_max))
			continue;
		for (int32_t k = 0; k < f->n; k++) {
			int32_t t = sw->start[o] + k;
			double p0 = clampd(gf__clear_dflt(f, t), f->lower[k], f->upper[k]);
			h->mis[t - h->a0] += p0 - xo[k];
			xo[k] = p0;
		}
	}
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
				if (dir == 0) { /* lower where less consumption is asked */
					if (h->mis[j] > h->hr[j] && c < h->w[j]) {
						double dec =
						    fmin(h->mis[j] - h->hr[j], xo[k] - f->lower[k]);
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
		h->mis[j] = gf__clear_change(bid, h->a0 + (int32_t)j);
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

/* Recomputes the mismatch from the current schedule. */
static void reload(struct sweep *sw, const struct gf_clear_bid *bid, size_t count)
{
	struct heur *h = sw->h;
	for (size_t j = 0; j < h->len; j++)
		h->mis[j] = gf__clear_change(bid, h->a0 + (int32_t)j);
	for (size_t o = 0; o < count; o++)
		apply(h, &sw->offers[o], sw->start[o], sw->x + sw->off[o], 1.0);
}

/* From the current schedule: exact amounts for the fixed starts (an LP, only
 * needed when total bounds exist: re-dispatch is exact without them), then
 * start moves and re-dispatch while the objective falls. tmp has room for
 * every slice. Returns the objective reached. */
static double polish(struct sweep *sw, const struct gf_clear_bid *bid, size_t count, size_t slices,
                     double *tmp, int passes)
{
	double obj = sweep_objective(sw);
	for (int p = 0; p <= passes; p++) {
		if (sw->totals) {
			memcpy(tmp, sw->x, slices * sizeof *tmp);
			if (exact_amounts(sw, count, slices, GF__CLEAR_LP_SLICES, SIZE_MAX) ==
			    GF_OK) {
				reload(sw, bid, count);
				if (sweep_objective(sw) > obj - 1e-12) { /* round-off: keep ours */
					memcpy(sw->x, tmp, slices * sizeof *tmp);
					reload(sw, bid, count);
				}
			}
		}
		descend(sw);
		redispatch(sw);
		double next = sweep_objective(sw);
		if (next > obj - 1e-9)
			return fmin(next, obj);
		obj = next;
	}
	return obj;
}

/* Kicks: each eligible offer is forced to each other start of its window
 * and the schedule re-descends from there; a kick is kept when the result
 * is better. This reaches exchanges of two offers' starts that single
 * moves cannot. At most `tries` kicks (each costs a few passes). save_s and
 * save_x hold a copy of the schedule. Returns the objective reached. */
static double kick(struct sweep *sw, size_t count, size_t slices, int32_t *save_s, double *save_x,
                   long *tries, int passes)
{
	struct heur *h = sw->h;
	double obj = sweep_objective(sw);
	for (size_t i = 0; i < sw->ne; i++) {
		size_t o = (size_t)sw->order[2 * i + 1];
		const struct gf_fo *f = &sw->offers[o];
		for (int32_t s = f->start_after; s <= f->start_after + f->tf; s++) {
			if (s == sw->start[o])
				continue;
			if ((*tries)-- <= 0)
				return obj;
			memcpy(save_s, sw->start, count * sizeof *save_s);
			memcpy(save_x, sw->x, slices * sizeof *save_x);
			double *xo = sw->x + sw->off[o];
			apply(h, f, sw->start[o], xo, -1.0);
			place(h, f, s, s, &sw->start[o], xo);
			apply(h, f, sw->start[o], xo, 1.0);
			/* Amounts first: the kick alone may be the whole gain, which
			 * a greedy descent from it could lose. */
			if (exact_amounts(sw, count, slices, GF__CLEAR_KICK_LP_SLICES,
			                  GF__CLEAR_LP_SLICES) == GF_OK)
				reload(sw, h->bid, count);
			else
				redispatch(sw);
			double next = sweep_objective(sw);
			/* The kicked offer stays put for the first pass, or the
			 * descent would simply move it back. */
			sw->fixed = o;
			for (int p = 0; p <= passes; p++) {
				descend(sw);
				sw->fixed = count;
				redispatch(sw);
				double v = sweep_objective(sw);
				if (v > next - 1e-9)
					break;
				next = v;
			}
			if (next < obj - 1e-9) {
				obj = next;
				continue;
			}
			memcpy(sw->start, save_s, count * sizeof *save_s);
			memcpy(sw->x, save_x, slices * sizeof *save_x);
			reload(sw, h->bid, count);
		}
	}
	return obj;
}

/* Exact amounts and descent, then rounds of kicks while they pay, within
 * `tries` kicks. Scratch as for kick. Returns the objective reached. */
/* Pair kicks: two offers forced together to other starts of their
 * windows, the amounts re-dispatched; kept when the objective falls. The
 * exchanges single kicks miss (one offer must leave an interval for the
 * other to take it). At most `tries` of them. Returns the objective. */
static double pair_kick(struct sweep *sw, size_t count, size_t slices, int32_t *save_s,
                        double *save_x, long *tries)
{
	struct heur *h = sw->h;
	double obj = sweep_objective(sw);
	for (size_t i = 0; i < sw->ne; i++) {
		size_t o = (size_t)sw->order[2 * i + 1];
		const struct gf_fo *f = &sw->offers[o];
		for (size_t j = i + 1; j < sw->ne; j++) {
			size_t o2 = (size_t)sw->order[2 * j + 1];
			const struct gf_fo *f2 = &sw->offers[o2];
			for (int32_t s = f->start_after; s <= f->start_after + f->tf; s++) {
				for (int32_t s2 = f2->start_after; s2 <= f2->start_after + f2->tf;
				     s2++) {
					if (s == sw->start[o] || s2 == sw->start[o2])
						continue;
					if ((*tries)-- <= 0)
						return obj;
					memcpy(save_s, sw->start, count * sizeof *save_s);
					memcpy(save_x, sw->x, slices * sizeof *save_x);
					double *xo = sw->x + sw->off[o], *xo2 = sw->x + sw->off[o2];
					apply(h, f, sw->start[o], xo, -1.0);
					apply(h, f2, sw->start[o2], xo2, -1.0);
					place(h, f, s, s, &sw->start[o], xo);
					apply(h, f, sw->start[o], xo, 1.0);
					place(h, f2, s2, s2, &sw->start[o2], xo2);
					apply(h, f2, sw->start[o2], xo2, 1.0);
					redispatch(sw);
					double v = sweep_objective(sw);
					if (v < obj - 1e-9) {
						obj = v;
						continue;
					}
					memcpy(sw->start, save_s, count * sizeof *save_s);
					memcpy(sw->x, save_x, slices * sizeof *save_x);
					reload(sw, h->bid, count);
				}
			}
		}
	}
	return obj;
}

static double improve(struct sweep *sw, const struct gf_clear_bid *bid, size_t count, size_t slices,
                      int32_t *save_s, double *save_x, long tries, int passes)
{
	double obj = polish(sw, bid, count, slices, save_x, passes);
	for (int round = 0; round < passes && tries > 0; round++) {
		kick(sw, count, slices, save_s, save_x, &tries, passes);
		double next = polish(sw, bid, count, slices, save_x, passes);
		if (next > obj - 1e-9) {
			/* Single kicks are spent: pairs, from what is left. */
			pair_kick(sw, count, slices, save_s, save_x, &tries);
			next = polish(sw, bid, count, slices, save_x, passes);
			if (next > obj - 1e-9)
				return fmin(next, obj);
		}
		obj = next;
	}
	return obj;
}

static int cmp_flex(const void *pa, const void *pb)
{
	const double *a = pa, *b = pb;
	return (a[0] < b[0]) - (a[0] > b[0]); /* descending key */
}

/* The per-interval arrays and the scratch of h; 0 when all were allocated
 * (heur_free frees them either way). */
static int heur_alloc(struct heur *h, size_t len, int32_t maxn)
{
	h->mis = calloc(len, sizeof *h->mis);
	h->w = calloc(len, sizeof *h->w);
	h->hr = calloc(len, sizeof *h->hr);
	h->best = calloc((size_t)maxn, sizeof *h->best);
	h->cur = calloc((size_t)maxn, sizeof *h->cur);
	h->pc = calloc(4 * (size_t)maxn, sizeof *h->pc);
	h->dd = calloc(len, sizeof *h->dd);
	h->idle = calloc(len, sizeof *h->idle);
	return !h->mis || !h->w || !h->hr || !h->best || !h->cur || !h->pc || !h->dd || !h->idle;
}

static void heur_free(struct heur *h)
{
	free(h->idle);
	free(h->dd);
	free(h->pc);
	free(h->cur);
	free(h->best);
	free(h->hr);
	free(h->w);
	free(h->mis);
}

/* Fills off (each offer's first slice) and order with the eligible offers,
 * cheapest first; returns how many there are. */
static size_t rank_eligible(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                            size_t count, size_t *off, double *order)
{
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
	return ne;
}

/* Sets sw->totals and returns how many kicks to try: within a budget of
 * about GF__CLEAR_KICK_WORK elementary steps (a pass costs
 * sum_o (tf_o + 1)(tf_o + n_o)), all of them on small instances, few or
 * none on 10,000 aggregates. */
static long plan_kicks(struct sweep *sw)
{
	double pass_work = 1.0;

	for (size_t i = 0; i < sw->ne; i++) {
		const struct gf_fo *f = &sw->offers[(size_t)sw->order[2 * i + 1]];
		sw->totals |= !isnan(f->total_min) || !isnan(f->total_max);
		pass_work += (double)(f->tf + 1) * (double)(f->tf + f->n);
	}
	return (long)fmin(1e9, GF__CLEAR_KICK_WORK / (8.0 * pass_work));
}

/* Two starts, the better one left in sw->start/x: amounts first (cheap
 * amount changes claim the request before any costly shift can), and
 * starts first (shifts that amounts alone cannot reach); each improved by
 * kicks. bstart/bx hold the best so far, kstart/kx are the kicks' scratch. */
static void two_starts(struct sweep *sw, const struct gf_clear_bid *bid, size_t count,
                       size_t slices, int passes, long tries, int32_t *bstart, double *bx,
                       int32_t *kstart, double *kx)
{
	double obj = INFINITY;

	for (int first = 1; first >= 0; first--) {
		search(sw, bid, count, first, passes);
		double v = improve(sw, bid, count, slices, kstart, kx, tries, passes);
		if (v < obj) {
			obj = v;
			memcpy(bstart, sw->start, count * sizeof *bstart);
			memcpy(bx, sw->x, slices * sizeof *bx);
		}
	}
	memcpy(sw->start, bstart, count * sizeof *bstart);
	memcpy(sw->x, bx, slices * sizeof *bx);
}

enum gf_err gf_clear_heuristic(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                               size_t count, const struct gf_clear_options *opt,
                               struct gf_clear_result *res)
{
	return gf__clear_heuristic_with(bid, offers, count, opt, GF__CLEAR_AMOUNTS_AUTO, res);
}

enum gf_err gf__clear_heuristic_with(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                                     size_t count, const struct gf_clear_options *opt,
                                     enum gf__clear_amounts amounts, struct gf_clear_result *res)
{
	enum gf_err err = gf__clear_validate(bid, offers, count);
	struct heur h = {0};
	double *order = NULL, *order2 = NULL, *x = NULL;
	size_t *off = NULL;
	int32_t *start = NULL, *bstart = NULL, *kstart = NULL;
	double *bx = NULL, *kx = NULL;
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
	int nomem = heur_alloc(&h, len, maxn);
	order = calloc(2 * (count + 1), sizeof *order);
	order2 = calloc(2 * (count + 1), sizeof *order2);
	x = calloc(slices + 1, sizeof *x);
	off = calloc(count + 1, sizeof *off);
	start = calloc(count + 1, sizeof *start);
	bstart = calloc(count + 1, sizeof *bstart);
	bx = calloc(slices + 1, sizeof *bx);
	kstart = calloc(count + 1, sizeof *kstart);
	kx = calloc(slices + 1, sizeof *kx);
	if (nomem || !kstart || !kx || !bstart || !bx || !order || !order2 || !x || !off || !start)
		goto out;
	struct gf_clear_result r = *res;
	r.start = start;
	r.amount = x;
	if (gf__clear_defaults(bid, offers, count, &r))
		goto done;
	for (int32_t t = a0; t < a1; t++) {
		h.w[t - a0] = gf__clear_weight(bid, t);
		h.hr[t - a0] = gf__clear_headroom(bid, t);
	}
	size_t ne = rank_eligible(bid, offers, count, off, order);
	struct sweep sw = {&h, offers, order, order2, ne, start, x, off, count, 0, amounts};
	long tries = plan_kicks(&sw);
	two_starts(&sw, bid, count, slices, passes, tries, bstart, bx, kstart, kx);
	r.status = GF_CLEAR_FEASIBLE;
done:
	err = gf_clear_evaluate(bid, offers, count, start, x, 1e-7, &r);
	if (err)
		goto out;
	r.bound = r.status == GF_CLEAR_FEASIBLE ? NAN : r.objective;
	memcpy(res->start, start, count * sizeof *start);
	memcpy(res->amount, x, slices * sizeof *x);
	r.start = res->start;
	r.amount = res->amount;
	*res = r;
out:
	free(kx);
	free(kstart);
	free(bx);
	free(bstart);
	free(start);
	free(off);
	free(x);
	free(order2);
	free(order);
	heur_free(&h);
	return err;
}
