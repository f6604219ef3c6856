/* SPDX-License-Identifier: MIT */
/*
 * clear_amounts.c - amounts for fixed start times without GLPK: interval
 * value functions and per-offer projections (docs/clearing.md "Amounts by
 * projection").
 *
 * With every start fixed, the offers without total bounds separate per
 * interval: for a given sum y_t of the total-bounded offers' amounts at t,
 * the best the others can do is a merit order (cheapest lowering first
 * while its tariff is below w_t, the same for raising), so the interval's
 * cost is a convex piecewise linear function Phi_t of the mismatch z_t the
 * total-bounded offers leave with the others at their cheapest points.
 * The whole amount problem is then
 *
 *   min  sum_t Phi_t(z_t) + sum_{o total-bounded} tariff cost of o
 *   s.t. z_t = B_t + sum_o x_o(t), x in the slice boxes, E^min_o <= sum_k x_{o,k} <= E^max_o.
 *
 * One offer's exact best response against the others (its own terms are
 * Phi_t(z_t - x_{o,t} + x) + tariff, convex piecewise linear per slice,
 * with one sum constraint) is a sort: every slice starts at its lower
 * bound and the constant-slope stretches are bought cheapest first while
 * they pay or the minimum total is not yet met, up to the maximum total.
 * Rounds of best responses (block coordinate descent, each step exact)
 * run until a round gains nothing; then the others are dispatched on their
 * merit orders at the final z_t (exact for them). The slopes Phi_t'(z_t)
 * are the intervals' prices of a dual solution.
 */
#include "engine/clear.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One merit-order step of an interval: an offer's slice lowered (or
 * raised) by up to cap kWh at cost EUR/kWh. */
struct mstep {
	double cost, cap;
	size_t slice; /* global slice index */
};

/* A constant-slope stretch of one slice of the offer being placed. */
struct stretch {
	double slope, len;
	int32_t k, seq;
};

struct amounts {
	int32_t a0;
	size_t len;
	double *w, *h, *z;
	/* Per interval j: lowering steps dn[dn_off[j] .. dn_off[j + 1]) by
	 * ascending cost, with cumulative capacity and cost; raising alike. */
	size_t *dn_off, *up_off;
	struct mstep *dn, *up;
	double *dn_cum, *dn_pc, *up_cum, *up_pc;
	struct stretch *st;
	size_t st_cap;
	unsigned char *role; /* per offer: 0 ineligible, 1 merit order, 2 total-bounded */
};

static int cmp_mstep(const void *pa, const void *pb)
{
	const struct mstep *a = pa, *b = pb;
	if (a->cost != b->cost)
		return a->cost < b->cost ? -1 : 1;
	return (a->slice > b->slice) - (a->slice < b->slice);
}

static int cmp_stretch(const void *pa, const void *pb)
{
	const struct stretch *a = pa, *b = pb;
	if (a->slope != b->slope)
		return a->slope < b->slope ? -1 : 1;
	if (a->k != b->k)
		return a->k < b->k ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static int has_total(const struct gf_fo *f)
{
	return !isnan(f->total_min) || !isnan(f->total_max);
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* First index i in [lo, hi) with cum[i] > v (hi when none). */
static size_t upper(const double *cum, size_t lo, size_t hi, double v)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cum[mid] > v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* First index i in [lo, hi) with cum[i] >= v (hi when none). */
static size_t lower_idx(const double *cum, size_t lo, size_t hi, double v)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cum[mid] >= v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Phi_j(z). */
static double phi(const struct amounts *a, size_t j, double z)
{
	if (z > a->h[j]) {
		double v = z - a->h[j];
		size_t b = a->dn_off[j], e = a->dn_off[j + 1], i = upper(a->dn_cum, b, e, v);
		double cum = i > b ? a->dn_cum[i - 1] : 0.0, pc = i > b ? a->dn_pc[i - 1] : 0.0;
		return pc + (i < e ? a->dn[i].cost : a->w[j]) * (v - cum);
	}
	if (z < 0) {
		double v = -z;
		size_t b = a->up_off[j], e = a->up_off[j + 1], i = upper(a->up_cum, b, e, v);
		double cum = i > b ? a->up_cum[i - 1] : 0.0, pc = i > b ? a->up_pc[i - 1] : 0.0;
		return pc + (i < e ? a->up[i].cost : a->w[j]) * (v - cum);
	}
	return 0.0;
}

/* Slope of Phi_j just right of z; *next gets the next breakpoint above z. */
static double phi_right(const struct amounts *a, size_t j, double z, double *next)
{
	double h = a->h[j];
	if (z < 0) {
		double v = -z;
		size_t b = a->up_off[j], e = a->up_off[j + 1], i = lower_idx(a->up_cum, b, e, v);
		/* z in [-cum[i], -cum[i - 1]) */
		*next = i > b ? -a->up_cum[i - 1] : 0.0;
		return i < e ? -a->up[i].cost : -a->w[j];
	}
	if (z < h) {
		*next = h;
		return 0.0;
	}
	double v = z - h;
	size_t b = a->dn_off[j], e = a->dn_off[j + 1], i = upper(a->dn_cum, b, e, v);
	*next = i < e ? h + a->dn_cum[i] : INFINITY;
	return i < e ? a->dn[i].cost : a->w[j];
}

/* Slope of Phi_j just left of z; *prev gets the breakpoint below z. */
static double phi_left(const struct amounts *a, size_t j, double z, double *prev)
{
	double h = a->h[j];
	if (z > h) {
		double v = z - h;
		size_t b = a->dn_off[j], e = a->dn_off[j + 1], i = lower_idx(a->dn_cum, b, e, v);
		*prev = h + (i > b ? a->dn_cum[i - 1] : 0.0);
		return i < e ? a->dn[i].cost : a->w[j];
	}
	if (z > 0) {
		*prev = 0.0;
		return 0.0;
	}
	double v = -z;
	size_t b = a->up_off[j], e = a->up_off[j + 1], i = upper(a->up_cum, b, e, v);
	*prev = i < e ? -a->up_cum[i] : -INFINITY;
	return i < e ? -a->up[i].cost : -a->w[j];
}

/* phi_right and phi_left past breakpoints closer than round-off to z, so
 * that a residual arc has room for a real push. */
static double phi_right_snap(const struct amounts *a, size_t j, double z, double *next)
{
	double r = phi_right(a, j, z, next);
	/* A few steps at most: h + cum - h need not be cum in floating point. */
	for (int i = 0; i < 4 && *next - z <= 1e-12 * fmax(1.0, fabs(z)) && isfinite(*next); i++)
		r = phi_right(a, j, *next + 1e-12 * fmax(1.0, fabs(z)), next);
	return r;
}

static double phi_left_snap(const struct amounts *a, size_t j, double z, double *prev)
{
	double l = phi_left(a, j, z, prev);
	for (int i = 0; i < 4 && z - *prev <= 1e-12 * fmax(1.0, fabs(z)) && isfinite(*prev); i++)
		l = phi_left(a, j, *prev - 1e-12 * fmax(1.0, fabs(z)), prev);
	return l;
}

/* Appends the stretches of slice k of f (running at axis interval j, the
 * others leaving z0 there) from lower to upper. 0 or -1 on no memory. */
static int stretches(struct amounts *a, size_t *ns, const struct gf_fo *f, int32_t k, size_t j,
                     double z0, double d)
{
	double cup = gf__clear_tariff(f->tariff_max), cdown = gf__clear_tariff(f->tariff_min);
	double x = f->lower[k], end = f->upper[k];
	int32_t seq = 0;
	while (x < end) {
		double next;
		double s = phi_right(a, j, z0 + x, &next) + (x < d ? -cdown : cup);
		next -= z0;
		if (x < d && d < next)
			next = d;
		if (next > end)
			next = end;
		if (!(next > x)) /* round-off at a breakpoint: step past it (relative to
		                  * z0 + x: ulps of a tiny x would take forever) */
			next = fmin(end, x + 4 * DBL_EPSILON * fmax(1.0, fmax(fabs(x), fabs(z0))));
		if (*ns == a->st_cap) {
			size_t cap = a->st_cap ? 2 * a->st_cap : 256;
			struct stretch *st = realloc(a->st, cap * sizeof *st);
			if (!st)
				return -1;
			a->st = st;
			a->st_cap = cap;
		}
		a->st[(*ns)++] = (struct stretch){s, next - x, k, seq++};
		x = next;
	}
	return 0;
}

/* f's own part of the objective at amounts x started at s (others leave
 * z - x_f there). */
static double offer_value(const struct amounts *a, const struct gf_fo *f, int32_t s,
                          const double *xcur, const double *x)
{
	double cup = gf__clear_tariff(f->tariff_max), cdown = gf__clear_tariff(f->tariff_min);
	double v = 0.0;
	for (int32_t k = 0; k < f->n; k++) {
		size_t j = (size_t)(s + k - a->a0);
		double dev = x[k] - gf__clear_dflt(f, s + k);
		v += phi(a, j, a->z[j] - xcur[k] + x[k]) + (dev > 0 ? cup * dev : -cdown * dev);
	}
	return v;
}

/* The exact best response of f (started at s, current amounts x, already
 * in z) into nx; returns the gain (>= 0 up to round-off) or NaN when out
 * of memory. */
static double best_response(struct amounts *a, const struct gf_fo *f, int32_t s, const double *x,
                            double *nx)
{
	size_t ns = 0;
	double sum = 0.0;
	for (int32_t k = 0; k < f->n; k++) {
		size_t j = (size_t)(s + k - a->a0);
		if (stretches(a, &ns, f, k, j, a->z[j] - x[k], gf__clear_dflt(f, s + k)))
			return NAN;
		nx[k] = f->lower[k];
		sum += f->lower[k];
	}
	qsort(a->st, ns, sizeof *a->st, cmp_stretch);
	double emin = isnan(f->total_min) ? -INFINITY : f->total_min;
	double emax = isnan(f->total_max) ? INFINITY : f->total_max;
	for (size_t i = 0; i < ns && sum < emax; i++) {
		double take;
		if (a->st[i].slope < 0)
			take = fmin(a->st[i].len, emax - sum);
		else if (sum < emin)
			take = fmin(a->st[i].len, emin - sum);
		else
			break;
		nx[a->st[i].k] += take;
		sum += take;
	}
	for (int32_t k = 0; k < f->n; k++)
		nx[k] = clampd(nx[k], f->lower[k], f->upper[k]);
	return offer_value(a, f, s, x, x) - offer_value(a, f, s, x, nx);
}

/* The merit orders of the offers without total bounds at their starts,
 * and z_t. 0, or -1 on no memory. */
static int build(struct amounts *a, const struct gf_clear_bid *bid, const struct gf_fo *offers,
                 size_t count, const int32_t *start, const double *amount)
{
	size_t len = a->len, ndn = 0, nup = 0;
	a->w = calloc(len, sizeof *a->w);
	a->h = calloc(len, sizeof *a->h);
	a->z = calloc(len, sizeof *a->z);
	a->dn_off = calloc(len + 1, sizeof *a->dn_off);
	a->up_off = calloc(len + 1, sizeof *a->up_off);
	a->role = calloc(count + 1, 1);
	if (!a->w || !a->h || !a->z || !a->dn_off || !a->up_off || !a->role)
		return -1;
	for (size_t o = 0; o < count; o++)
		a->role[o] = !gf_clear_eligible(bid, &offers[o]) ? 0
		             : has_total(&offers[o])             ? 2
		                                                 : 1;
	for (size_t j = 0; j < len; j++) {
		int32_t t = a->a0 + (int32_t)j;
		a->w[j] = gf__clear_weight(bid, t);
		a->h[j] = gf__clear_headroom(bid, t);
		a->z[j] = gf__clear_change(bid, t);
	}
	/* Count the steps per interval (in dn_off[j + 1]), and z. */
	size_t off = 0;
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		size_t base = off;
		off += (size_t)f->n;
		if (!a->role[o])
			continue;
		for (int32_t t = f->start_after; t < f->start_after + f->n; t++)
			a->z[t - a->a0] -= gf__clear_dflt(f, t);
		int tot = a->role[o] == 2;
		double cup = gf__clear_tariff(f->tariff_max),
		       cdown = gf__clear_tariff(f->tariff_min);
		for (int32_t k = 0; k < f->n; k++) {
			size_t j = (size_t)(start[o] + k - a->a0);
			if (tot) {
				a->z[j] +=
				    clampd(amount[base + (size_t)k], f->lower[k], f->upper[k]);
				continue;
			}
			double p0 =
			    clampd(gf__clear_dflt(f, start[o] + k), f->lower[k], f->upper[k]);
			a->z[j] += p0;
			if (p0 > f->lower[k] && cdown < a->w[j])
				a->dn_off[j + 1]++, ndn++;
			if (p0 < f->upper[k] && cup < a->w[j])
				a->up_off[j + 1]++, nup++;
		}
	}
	for (size_t j = 0; j < len; j++) {
		a->dn_off[j + 1] += a->dn_off[j];
		a->up_off[j + 1] += a->up_off[j];
	}
	a->dn = calloc(ndn + 1, sizeof *a->dn);
	a->up = calloc(nup + 1, sizeof *a->up);
	a->dn_cum = calloc(ndn + 1, sizeof *a->dn_cum);
	a->dn_pc = calloc(ndn + 1, sizeof *a->dn_pc);
	a->up_cum = calloc(nup + 1, sizeof *a->up_cum);
	a->up_pc = calloc(nup + 1, sizeof *a->up_pc);
	size_t *fill = calloc(len + 1, sizeof *fill), *first = calloc(count + 1, sizeof *first);
	struct mstep *key = calloc(count + 1, sizeof *key);
	int rc = -1;
	if (!a->dn || !a->up || !a->dn_cum || !a->dn_pc || !a->up_cum || !a->up_pc || !fill ||
	    !first || !key)
		goto out;
	for (size_t o = 0; o < count; o++)
		first[o + 1] = first[o] + (size_t)offers[o].n;
	/* Per side, the offers in the order of their tariff (then index): each
	 * interval's steps come out sorted without sorting them. */
	for (int side = 0; side < 2; side++) {
		struct mstep *ms = side ? a->up : a->dn;
		size_t *offs = side ? a->up_off : a->dn_off, nk = 0;
		double *cum = side ? a->up_cum : a->dn_cum, *pc = side ? a->up_pc : a->dn_pc;
		for (size_t o = 0; o < count; o++)
			if (a->role[o] == 1)
				key[nk++] =
				    (struct mstep){gf__clear_tariff(side ? offers[o].tariff_max
				                                         : offers[o].tariff_min),
				                   0.0, o};
		qsort(key, nk, sizeof *key, cmp_mstep);
		memcpy(fill, offs, (len + 1) * sizeof *fill);
		for (size_t i = 0; i < nk; i++) {
			size_t o = key[i].slice;
			const struct gf_fo *f = &offers[o];
			for (int32_t k = 0; k < f->n; k++) {
				size_t j = (size_t)(start[o] + k - a->a0);
				double p0 = clampd(gf__clear_dflt(f, start[o] + k), f->lower[k],
				                   f->upper[k]);
				double cap = side ? f->upper[k] - p0 : p0 - f->lower[k];
				if (cap > 0 && key[i].cost < a->w[j])
					ms[fill[j]++] =
					    (struct mstep){key[i].cost, cap, first[o] + (size_t)k};
			}
		}
		for (size_t j = 0; j < len; j++) {
			double c = 0.0, p = 0.0;
			for (size_t i = offs[j]; i < offs[j + 1]; i++) {
				c += ms[i].cap;
				p += ms[i].cost * ms[i].cap;
				cum[i] = c;
				pc[i] = p;
			}
		}
	}
	rc = 0;
out:
	free(key);
	free(first);
	free(fill);
	return rc;
}

static void amounts_free(struct amounts *a)
{
	free(a->role);
	free(a->st);
	free(a->up_pc);
	free(a->up_cum);
	free(a->dn_pc);
	free(a->dn_cum);
	free(a->up);
	free(a->dn);
	free(a->up_off);
	free(a->dn_off);
	free(a->z);
	free(a->h);
	free(a->w);
}

/* The offers without total bounds on their merit orders at the final z:
 * lowered (raised) cheapest first by what exceeds h (falls below 0). */
static void dispatch(const struct amounts *a, const struct gf_fo *offers, size_t count,
                     const int32_t *start, double *amount)
{
	size_t off = 0;
	for (size_t o = 0; o < count; o++) {
		const struct gf_fo *f = &offers[o];
		if (a->role[o] == 1)
			for (int32_t k = 0; k < f->n; k++)
				amount[off + (size_t)k] = clampd(gf__clear_dflt(f, start[o] + k),
				                                 f->lower[k], f->upper[k]);
		off += (size_t)f->n;
	}
	for (size_t j = 0; j < a->len; j++) {
		double need = a->z[j] - a->h[j];
		for (size_t i = a->dn_off[j]; i < a->dn_off[j + 1] && need > 0; i++) {
			double take = fmin(need, a->dn[i].cap);
			amount[a->dn[i].slice] -= take;
			need -= take;
		}
		need = -a->z[j];
		for (size_t i = a->up_off[j]; i < a->up_off[j + 1] && need > 0; i++) {
			double take = fmin(need, a->up[i].cap);
			amount[a->up[i].slice] += take;
			need -= take;
		}
	}
}

/* The residual graph of the amount problem as a circulation: node 0 is
 * the source S of the total-bounded offers' energy, 1 + i the i-th such
 * offer, 1 + nt + j the interval j. Arcs S -> o (its total may rise),
 * o -> S (may fall), o -> t (a slice may rise), t -> o (may fall), t -> S
 * (z_t rises, Phi_t's right slope) and S -> t (falls, minus the left
 * slope), each at its marginal cost. The amounts are optimal iff this
 * graph has no negative cycle (convex piecewise linear costs). */
enum arc_kind {
	ARC_TOTAL_UP,
	ARC_TOTAL_DOWN,
	ARC_SLICE_UP,
	ARC_SLICE_DOWN,
	ARC_PHI_UP,
	ARC_PHI_DOWN
};

struct arc {
	size_t from, to;
	double cost;
	enum arc_kind kind;
	size_t ref; /* the offer (TOTAL), the global slice (SLICE) or the interval (PHI) */
	int32_t k;  /* the slice within its offer */
};

struct cycles {
	struct arc *arc;
	size_t narc, cap;
	double *dist;
	size_t *par; /* arc index + 1 into the node, 0 none */
	size_t *mark;
	size_t nt, *tot, *node; /* total-bounded offers; node of each offer */
};

static int push_arc(struct cycles *c, struct arc arc)
{
	if (c->narc == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		struct arc *na = realloc(c->arc, cap * sizeof *na);
		if (!na)
			return -1;
		c->arc = na;
		c->cap = cap;
	}
	c->arc[c->narc++] = arc;
	return 0;
}

static double offer_sum(const struct gf_fo *f, const double *xo)
{
	double e = 0.0;
	for (int32_t k = 0; k < f->n; k++)
		e += xo[k];
	return e;
}

static int residual_arcs(struct cycles *c, const struct amounts *a, const struct gf_fo *offers,
                         const int32_t *start, const size_t *off, const double *x)
{
	const double eps = 1e-12;
	c->narc = 0;
	for (size_t i = 0; i < c->nt; i++) {
		size_t o = c->tot[i], u = 1 + i;
		const struct gf_fo *f = &offers[o];
		const double *xo = x + off[o];
		double e = offer_sum(f, xo);
		double cup = gf__clear_tariff(f->tariff_max),
		       cdown = gf__clear_tariff(f->tariff_min);
		if ((isnan(f->total_max) || e < f->total_max - eps) &&
		    push_arc(c, (struct arc){0, u, 0.0, ARC_TOTAL_UP, o, 0}))
			return -1;
		if ((isnan(f->total_min) || e > f->total_min + eps) &&
		    push_arc(c, (struct arc){u, 0, 0.0, ARC_TOTAL_DOWN, o, 0}))
			return -1;
		for (int32_t k = 0; k < f->n; k++) {
			size_t v = 1 + c->nt + (size_t)(start[o] + k - a->a0);
			double d = gf__clear_dflt(f, start[o] + k);
			if (xo[k] < f->upper[k] - eps &&
			    push_arc(c, (struct arc){u, v, xo[k] < d - eps ? -cdown : cup,
			                             ARC_SLICE_UP, off[o] + (size_t)k, k}))
				return -1;
			if (xo[k] > f->lower[k] + eps &&
			    push_arc(c, (struct arc){v, u, xo[k] > d + eps ? -cup : cdown,
			                             ARC_SLICE_DOWN, off[o] + (size_t)k, k}))
				return -1;
		}
	}
	for (size_t j = 0; j < a->len; j++) {
		double nb, pb;
		size_t v = 1 + c->nt + j;
		double r = phi_right_snap(a, j, a->z[j], &nb),
		       l = phi_left_snap(a, j, a->z[j], &pb);
		if (push_arc(c, (struct arc){v, 0, r, ARC_PHI_UP, j, 0}) ||
		    push_arc(c, (struct arc){0, v, -l, ARC_PHI_DOWN, j, 0}))
			return -1;
	}
	return 0;
}

/* Bellman-Ford from every node at once; returns a node on a negative
 * cycle of the parent graph, or SIZE_MAX when there is none (optimal) or
 * the work budget ran out (*work counts arc relaxations). */
static size_t find_cycle(struct cycles *c, size_t nodes, double *work)
{
	for (size_t v = 0; v < nodes; v++) {
		c->dist[v] = 0.0;
		c->par[v] = 0;
	}
	for (size_t round = 0; round <= nodes; round++) {
		int changed = 0;
		for (size_t i = 0; i < c->narc; i++) {
			const struct arc *e = &c->arc[i];
			double nd = c->dist[e->from] + e->cost;
			if (nd < c->dist[e->to] - 1e-12) {
				c->dist[e->to] = nd;
				c->par[e->to] = i + 1;
				changed = 1;
			}
		}
		*work -= (double)c->narc;
		if (!changed || *work < 0)
			return SIZE_MAX;
		/* A cycle among the parents is negative: look for one. */
		for (size_t v = 0; v < nodes; v++)
			c->mark[v] = 0;
		for (size_t v0 = 0; v0 < nodes; v0++) {
			size_t v = v0;
			while (v != SIZE_MAX && !c->mark[v]) {
				c->mark[v] = v0 + 1;
				v = c->par[v] ? c->arc[c->par[v] - 1].from : SIZE_MAX;
			}
			if (v != SIZE_MAX && c->mark[v] == v0 + 1)
				return v;
		}
	}
	return SIZE_MAX;
}

/* Pushes flow around the cycle through v as far as every arc keeps its
 * marginal cost; returns the objective's change (< 0), or 0 when the
 * cycle is not worth it. */
static double cancel(struct cycles *c, struct amounts *a, const struct gf_fo *offers,
                     const size_t *off, double *x, size_t v)
{
	double cost = 0.0, delta = INFINITY;
	size_t u = v;
	do {
		const struct arc *e = &c->arc[c->par[u] - 1];
		double cap = INFINITY, bp;
		const struct gf_fo *f;
		cost += e->cost;
		switch (e->kind) {
		case ARC_TOTAL_UP:
			f = &offers[e->ref];
			if (!isnan(f->total_max))
				cap = f->total_max - offer_sum(f, x + off[e->ref]);
			break;
		case ARC_TOTAL_DOWN:
			f = &offers[e->ref];
			if (!isnan(f->total_min))
				cap = offer_sum(f, x + off[e->ref]) - f->total_min;
			break;
		case ARC_SLICE_UP:
		case ARC_SLICE_DOWN: {
			size_t o = c->tot[(e->kind == ARC_SLICE_UP ? e->from : e->to) - 1];
			f = &offers[o];
			double xv = x[e->ref];
			double d = gf__clear_dflt(
			    f, a->a0 + (int32_t)((e->kind == ARC_SLICE_UP ? e->to : e->from) - 1 -
			                         c->nt));
			if (e->kind == ARC_SLICE_UP)
				cap = (xv < d ? fmin(d, f->upper[e->k]) : f->upper[e->k]) - xv;
			else
				cap = xv - (xv > d ? fmax(d, f->lower[e->k]) : f->lower[e->k]);
			break;
		}
		case ARC_PHI_UP:
			phi_right_snap(a, e->ref, a->z[e->ref], &bp);
			cap = bp - a->z[e->ref];
			break;
		case ARC_PHI_DOWN:
			phi_left_snap(a, e->ref, a->z[e->ref], &bp);
			cap = a->z[e->ref] - bp;
			break;
		}
		delta = fmin(delta, cap);
		u = e->from;
	} while (u != v);
	if (!(cost < -1e-9) || !(delta > 1e-12) || !isfinite(delta))
		return 0.0;
	u = v;
	do {
		const struct arc *e = &c->arc[c->par[u] - 1];
		if (e->kind == ARC_SLICE_UP || e->kind == ARC_SLICE_DOWN) {
			size_t t = (e->kind == ARC_SLICE_UP ? e->to : e->from) - 1 - c->nt;
			double dx = e->kind == ARC_SLICE_UP ? delta : -delta;
			x[e->ref] += dx;
			a->z[t] += dx;
		}
		u = e->from;
	} while (u != v);
	return cost * delta;
}

/* Rounds of exact best responses of the total-bounded offers (tot[0..nt))
 * until a round gains nothing; 0, or -1 on no memory. */
static int descend_totals(struct amounts *a, const struct gf_fo *offers, const size_t *tot,
                          size_t nt, const int32_t *start, const size_t *off, double *x, double *nx,
                          int rounds, double scale)
{
	for (int r = 0; r < rounds; r++) {
		double gain = 0.0;
		for (size_t i = 0; i < nt; i++) {
			size_t o = tot[i];
			const struct gf_fo *f = &offers[o];
			double *xo = x + off[o];
			double g = best_response(a, f, start[o], xo, nx);
			if (isnan(g))
				return -1;
			if (!(g > 1e-12))
				continue;
			for (int32_t k = 0; k < f->n; k++) {
				a->z[start[o] + k - a->a0] += nx[k] - xo[k];
				xo[k] = nx[k];
			}
			gain += g;
		}
		if (gain <= 1e-9 * fmax(1.0, scale))
			break;
	}
	return 0;
}

enum gf_err gf__clear_amounts_projection(const struct gf_clear_bid *bid, const struct gf_fo *offers,
                                         size_t count, const int32_t *start, double *amount,
                                         int rounds)
{
	struct amounts a = {0};
	struct cycles cy = {0};
	enum gf_err err = GF_ENOMEM;
	int32_t a1, maxn = 1;
	gf__clear_axis(bid, offers, count, &a.a0, &a1);
	a.len = (size_t)(a1 - a.a0);
	size_t slices = 0;
	for (size_t o = 0; o < count; o++) {
		slices += (size_t)offers[o].n;
		maxn = offers[o].n > maxn ? offers[o].n : maxn;
	}
	double *x = calloc(slices + 1, sizeof *x), *nx = calloc((size_t)maxn, sizeof *nx);
	size_t *off = calloc(count + 1, sizeof *off);
	if (!x || !nx || !off || build(&a, bid, offers, count, start, amount))
		goto out;
	memcpy(x, amount, slices * sizeof *x);
	for (size_t o = 0; o < count; o++)
		off[o + 1] = off[o] + (size_t)offers[o].n;
	for (size_t o = 0; o < count; o++)
		if (a.role[o] == 2)
			for (int32_t k = 0; k < offers[o].n; k++)
				x[off[o] + (size_t)k] = clampd(
				    x[off[o] + (size_t)k], offers[o].lower[k], offers[o].upper[k]);
	double scale = 0.0;
	for (size_t j = 0; j < a.len; j++)
		scale += a.w[j] * fabs(a.z[j]);
	for (size_t o = 0; o < count; o++)
		cy.nt += a.role[o] == 2;
	size_t nodes = 1 + cy.nt + a.len;
	cy.tot = calloc(cy.nt + 1, sizeof *cy.tot);
	cy.dist = calloc(nodes, sizeof *cy.dist);
	cy.par = calloc(nodes, sizeof *cy.par);
	cy.mark = calloc(nodes, sizeof *cy.mark);
	if (!cy.tot || !cy.dist || !cy.par || !cy.mark)
		goto out;
	for (size_t o = 0, i = 0; o < count; o++)
		if (a.role[o] == 2)
			cy.tot[i++] = o;
	double work = GF__CLEAR_CYCLE_WORK;
	/* Each cancel moves one stretch to its next breakpoint; the cap stops
	 * round-off from cycling on pushes of a few ulps. */
	for (size_t it = 0; it < 100 + 4 * nodes; it++) {
		if (descend_totals(&a, offers, cy.tot, cy.nt, start, off, x, nx, rounds, scale))
			goto out;
		/* Best responses are spent: an exchange between offers may
		 * still pay (a negative cycle); none left means optimal. */
		if (residual_arcs(&cy, &a, offers, start, off, x))
			goto out;
		size_t v = find_cycle(&cy, nodes, &work);
		if (v == SIZE_MAX || cancel(&cy, &a, offers, off, x, v) == 0.0)
			break;
	}
	dispatch(&a, offers, count, start, x);
	memcpy(amount, x, slices * sizeof *x);
	err = GF_OK;
out:
	free(cy.mark);
	free(cy.par);
	free(cy.dist);
	free(cy.tot);
	free(cy.arc);
	amounts_free(&a);
	free(off);
	free(nx);
	free(x);
	return err;
}
