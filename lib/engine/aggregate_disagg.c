/* SPDX-License-Identifier: MIT */
/*
 * aggregate_disagg.c - disaggregation of aggregate schedules into member
 * schedules: the relative position rule, then the repair of members'
 * total-energy bounds (docs/engine.md, "Disaggregation").
 *
 * Repair works on one aggregate's member slices copied into a private
 * buffer (member j's slices contiguous at pos[j]), so that a schedule that
 * cannot be repaired leaves the caller's outputs untouched. It moves energy
 * between members within an interval along augmenting paths
 * member -> interval -> member -> ..., found breadth first: phase 1 takes
 * the excess of members above their total_max to members below theirs,
 * phase 2 brings members below total_min up from members above theirs. A
 * move of d at interval t lowers one member's slice and raises another's by
 * the same d, so every interval's sum is unchanged; slice bounds are
 * capacities; the members in the middle of a path keep their totals.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate.h"

/* A member's total is repaired to within TOTAL_TOL kWh; a slice with less
 * room than ROOM_EPS kWh is treated as at its bound. */
#define TOTAL_TOL 1e-10
#define ROOM_EPS  1e-12
/* See at_position. */
#define ZERO_ULPS 16.0

static int32_t offset_of(const struct gf_aggregate *agg, uint32_t i)
{
	return agg->offset ? agg->offset[i] : 0;
}

static int schedule_valid(const struct gf_aggregate *agg, size_t a, const double *x)
{
	const double *lo = agg->lower + agg->slice_off[a];
	const double *hi = agg->upper + agg->slice_off[a];
	double total = 0.0;
	for (int32_t k = 0; k < agg->n[a]; k++) {
		if (!(x[k] >= lo[k] && x[k] <= hi[k]))
			return 0;
		total += x[k];
	}
	if (!isnan(agg->total_min[a]) && total < agg->total_min[a] - 1e-9)
		return 0;
	if (!isnan(agg->total_max[a]) && total > agg->total_max[a] + 1e-9)
		return 0;
	return 1;
}

/*
 * The amount at relative position p of [l, h]: l + p (h - l), clamped to
 * [l, h] against rounding. When 0 is in [l, h], an amount within
 * ZERO_ULPS * DBL_EPSILON times the larger bound's magnitude (some 16 units
 * in its last place) is 0: that is what rounding leaves of a member the
 * aggregate puts at 0 (2^-54 or 2^-55 for bounds of 0.2 to 0.3 kWh, where
 * p = -L / (H - L)), not energy, and every reader and writer of the
 * schedule would carry its 17 digits. The test costs about one cycle per
 * slice (gf-agg-bench --offers 1000000: 11 -> 13 ms of disaggregation).
 */
static inline double at_position(double l, double h, double p)
{
	double v = l + p * (h - l);
	v = v < l ? l : (v > h ? h : v);
	double mag = -l > h ? -l : h; /* without fmax's NaN rules: none here */
	int rounding = l <= 0.0 && h >= 0.0 && fabs(v) <= ZERO_ULPS * DBL_EPSILON * mag;
	return rounding ? 0.0 : v;
}

/* Relative position rule into buf (member j of a at pos[j]): p[t] is the
 * relative position of aggregate interval t. */
static void split(const struct gf_aggregate *agg, const struct gf_fo_set *set, size_t a,
                  const double *p, double *buf)
{
	size_t pos = 0;
	for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++) {
		uint32_t i = agg->members[m];
		const double *pi =
		    p + (set->start_after[i] + offset_of(agg, i) - agg->start_after[a]);
		const double *l = set->lower + set->slice_off[i],
		             *h = set->upper + set->slice_off[i];
		for (int32_t k = 0; k < set->n[i]; k++)
			buf[pos++] = at_position(l[k], h[k], pi[k]);
	}
}

struct repair {
	size_t members, intervals, slices;
	size_t *pos;      /* members + 1: member j's slices in buf */
	int32_t *rel, *n; /* per member: first interval in the profile, slices */
	double *l, *u;    /* slices: bounds, laid out as buf */
	double *total, *tlo, *thi;
	size_t *iv_off;        /* intervals + 1 */
	uint32_t *iv_member;   /* slices: member of each (interval, member) entry */
	int32_t *parent, *via; /* per member: BFS predecessor and its interval */
	uint32_t *mark;        /* per member: search that reached it (parent valid) */
	uint32_t *iv_mark;     /* per interval: search that entered it */
	size_t *iv_next;       /* per interval: where its member scan starts */
	uint32_t stamp;        /* current search */
	uint32_t *queue;       /* members */
};

static void repair_free(struct repair *r)
{
	free(r->pos);
	free(r->rel);
	free(r->n);
	free(r->l);
	free(r->u);
	free(r->total);
	free(r->tlo);
	free(r->thi);
	free(r->iv_off);
	free(r->iv_member);
	free(r->parent);
	free(r->via);
	free(r->queue);
	free(r->mark);
	free(r->iv_mark);
	free(r->iv_next);
}

static double room(double x, double l, double u, int sgn)
{
	return sgn > 0 ? u - x : x - l;
}

/* Slice of member j (offer i) at aggregate interval t. */
static size_t slice_at(const struct repair *r, const int32_t *rel, uint32_t j, int32_t t)
{
	return r->pos[j] + (size_t)(t - rel[j]);
}

/*
 * One augmenting path from member src, whose total must move by sgn (-1:
 * down from above its max, +1: up from below its min), to a member whose
 * total may move by -sgn. Returns 1 after an augmentation, 0 when no path
 * exists.
 */
static int augment(struct repair *r, double *buf, uint32_t src, int sgn)
{
	const int32_t *rel = r->rel, *n = r->n;
	const double *l = r->l, *u = r->u;
	size_t head = 0, tail = 0;
	int64_t end = -1;
	/* Stamps instead of clearing per search: a search costs what it
	 * explores, not the aggregate's size. */
	if (++r->stamp == 0) { /* wrapped: forget every old search */
		memset(r->mark, 0, r->members * sizeof *r->mark);
		memset(r->iv_mark, 0, r->intervals * sizeof *r->iv_mark);
		r->stamp = 1;
	}
	uint32_t stamp = r->stamp;
	r->mark[src] = stamp;
	r->parent[src] = -1;
	r->queue[tail++] = src;
	while (head < tail && end < 0) {
		uint32_t b = r->queue[head++];
		for (int32_t k = 0; k < n[b] && end < 0; k++) {
			int32_t t = rel[b] + k;
			size_t sb = r->pos[b] + (size_t)k;
			if (r->iv_mark[t] == stamp || room(buf[sb], l[sb], u[sb], sgn) <= ROOM_EPS)
				continue;
			r->iv_mark[t] = stamp;
			/* The scan of t's members starts where the last path
			 * through t was found: members before it are likely
			 * saturated. */
			size_t first = r->iv_off[t], len = r->iv_off[t + 1] - first;
			for (size_t q = 0; q < len; q++) {
				size_t e = first + (r->iv_next[t] + q) % len;
				uint32_t c = r->iv_member[e];
				size_t sc = slice_at(r, rel, c, t);
				if (r->mark[c] == stamp ||
				    room(buf[sc], l[sc], u[sc], -sgn) <= ROOM_EPS)
					continue;
				r->mark[c] = stamp;
				r->parent[c] = (int32_t)b;
				r->via[c] = t;
				double slack =
				    sgn < 0 ? r->thi[c] - r->total[c] : r->total[c] - r->tlo[c];
				if (slack > TOTAL_TOL) {
					r->iv_next[t] = e - first;
					end = c;
					break;
				}
				r->queue[tail++] = c;
			}
		}
	}
	if (end < 0)
		return 0;
	double d = sgn < 0 ? r->total[src] - r->thi[src] : r->tlo[src] - r->total[src];
	double slack = sgn < 0 ? r->thi[end] - r->total[end] : r->total[end] - r->tlo[end];
	d = slack < d ? slack : d;
	for (int32_t c = (int32_t)end; r->parent[c] >= 0; c = r->parent[c]) {
		uint32_t b = (uint32_t)r->parent[c];
		size_t sb = slice_at(r, rel, b, r->via[c]),
		       sc = slice_at(r, rel, (uint32_t)c, r->via[c]);
		double cap =
		    fmin(room(buf[sb], l[sb], u[sb], sgn), room(buf[sc], l[sc], u[sc], -sgn));
		d = cap < d ? cap : d;
	}
	for (int32_t c = (int32_t)end; r->parent[c] >= 0; c = r->parent[c]) {
		uint32_t b = (uint32_t)r->parent[c];
		size_t sb = slice_at(r, rel, b, r->via[c]),
		       sc = slice_at(r, rel, (uint32_t)c, r->via[c]);
		buf[sb] = fmin(fmax(buf[sb] + sgn * d, l[sb]), u[sb]);
		buf[sc] = fmin(fmax(buf[sc] - sgn * d, l[sc]), u[sc]);
	}
	r->total[src] += sgn * d;
	r->total[end] -= sgn * d;
	return 1;
}

static enum gf_err repair_init(struct repair *r, const struct gf_aggregate *agg,
                               const struct gf_fo_set *set, size_t a)
{
	size_t first = agg->member_off[a];
	memset(r, 0, sizeof *r);
	r->members = agg->member_off[a + 1] - first;
	r->intervals = (size_t)agg->n[a];
	r->pos = malloc((r->members + 1) * sizeof *r->pos);
	r->rel = malloc(r->members * sizeof *r->rel);
	r->n = malloc(r->members * sizeof *r->n);
	r->total = malloc(r->members * sizeof *r->total);
	r->tlo = malloc(r->members * sizeof *r->tlo);
	r->thi = malloc(r->members * sizeof *r->thi);
	r->parent = malloc(r->members * sizeof *r->parent);
	r->via = malloc(r->members * sizeof *r->via);
	r->queue = malloc(r->members * sizeof *r->queue);
	r->iv_off = calloc(r->intervals + 1, sizeof *r->iv_off);
	r->mark = calloc(r->members, sizeof *r->mark);
	r->iv_mark = calloc(r->intervals, sizeof *r->iv_mark);
	r->iv_next = calloc(r->intervals, sizeof *r->iv_next);
	if (!r->pos || !r->rel || !r->n || !r->total || !r->tlo || !r->thi || !r->parent ||
	    !r->via || !r->queue || !r->iv_off || !r->mark || !r->iv_mark || !r->iv_next)
		return GF_ENOMEM;
	size_t pos = 0;
	for (size_t j = 0; j < r->members; j++) {
		uint32_t i = agg->members[first + j];
		r->pos[j] = pos;
		r->rel[j] = set->start_after[i] + offset_of(agg, i) - agg->start_after[a];
		r->n[j] = set->n[i];
		r->tlo[j] = isnan(set->total_min[i]) ? -INFINITY : set->total_min[i];
		r->thi[j] = isnan(set->total_max[i]) ? INFINITY : set->total_max[i];
		for (int32_t k = 0; k < r->n[j]; k++)
			r->iv_off[r->rel[j] + k + 1]++;
		pos += (size_t)set->n[i];
	}
	r->pos[r->members] = pos;
	r->slices = pos;
	for (size_t t = 0; t < r->intervals; t++)
		r->iv_off[t + 1] += r->iv_off[t];
	r->l = malloc(pos * sizeof *r->l);
	r->u = malloc(pos * sizeof *r->u);
	r->iv_member = malloc(pos * sizeof *r->iv_member);
	if (!r->l || !r->u || !r->iv_member)
		return GF_ENOMEM;
	for (size_t j = 0; j < r->members; j++) {
		uint32_t i = agg->members[first + j];
		memcpy(r->l + r->pos[j], set->lower + set->slice_off[i],
		       (size_t)r->n[j] * sizeof *r->l);
		memcpy(r->u + r->pos[j], set->upper + set->slice_off[i],
		       (size_t)r->n[j] * sizeof *r->u);
		for (int32_t k = 0; k < r->n[j]; k++)
			r->iv_member[r->iv_off[r->rel[j] + k]++] = (uint32_t)j;
	}
	/* The fill advanced each iv_off[t] to the start of t + 1: shift back. */
	for (size_t t = r->intervals; t > 0; t--)
		r->iv_off[t] = r->iv_off[t - 1];
	r->iv_off[0] = 0;
	return GF_OK;
}

/* Repairs the members' totals in buf (layout of repair_init). GF_EINVAL
 * when no move is left and a total is still out of its bounds. */
static enum gf_err repair_run(struct repair *r, double *buf)
{
	for (size_t j = 0; j < r->members; j++) {
		double t = 0.0;
		for (size_t s = r->pos[j]; s < r->pos[j + 1]; s++)
			t += buf[s];
		r->total[j] = t;
	}
	for (int phase = 0; phase < 2; phase++) {
		int sgn = phase == 0 ? -1 : 1;
		for (uint32_t j = 0; j < r->members; j++) {
			for (;;) {
				double need =
				    sgn < 0 ? r->total[j] - r->thi[j] : r->tlo[j] - r->total[j];
				if (need <= TOTAL_TOL)
					break;
				if (!augment(r, buf, j, sgn))
					return GF_EINVAL;
			}
		}
	}
	return GF_OK;
}

/* Writes buf (layout of split) to member_start and amounts. */
static void scatter(const struct gf_aggregate *agg, const struct gf_fo_set *set, size_t a,
                    int32_t shift, const double *buf, int32_t *member_start, double *amounts)
{
	size_t pos = 0;
	for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++) {
		uint32_t i = agg->members[m];
		member_start[i] = set->start_after[i] + offset_of(agg, i) + shift;
		memcpy(amounts + set->slice_off[i], buf + pos, (size_t)set->n[i] * sizeof *buf);
		pos += (size_t)set->n[i];
	}
}

/* Disaggregates aggregate a with relative positions p into buf and repairs
 * the members' totals when some member has one. */
static enum gf_err split_repaired(const struct gf_aggregate *agg, const struct gf_fo_set *set,
                                  size_t a, const double *p, double *buf)
{
	struct repair r;
	enum gf_err err = GF_OK;
	split(agg, set, a, p, buf);
	if (agg->total_members[a] == 0)
		return GF_OK;
	err = repair_init(&r, agg, set, a);
	if (!err)
		err = repair_run(&r, buf);
	repair_free(&r);
	return err;
}

static size_t member_slices(const struct gf_aggregate *agg, const struct gf_fo_set *set, size_t a)
{
	size_t s = 0;
	for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++)
		s += (size_t)set->n[agg->members[m]];
	return s;
}

enum gf_err gf_aggregate_disaggregate(const struct gf_aggregate *agg, const struct gf_fo_set *set,
                                      size_t a, int32_t agg_start, const double *x,
                                      int32_t *member_start, double *amounts)
{
	enum gf_err err = GF_ENOMEM;
	double *p = NULL, *buf = NULL;

	if (a >= agg->count || agg_start < agg->start_after[a] ||
	    agg_start - agg->start_after[a] > agg->tf[a])
		return GF_ERANGE;
	/* Validate first so that the outputs stay untouched on failure. */
	if (!schedule_valid(agg, a, x))
		return GF_EINVAL;
	const double *lo = agg->lower + agg->slice_off[a];
	const double *hi = agg->upper + agg->slice_off[a];
	p = malloc((size_t)agg->n[a] * sizeof *p);
	buf = malloc(member_slices(agg, set, a) * sizeof *buf);
	if (!p || !buf)
		goto out;
	for (int32_t t = 0; t < agg->n[a]; t++) {
		double range = hi[t] - lo[t];
		p[t] = range > 0.0 ? (x[t] - lo[t]) / range : 0.0;
	}
	err = split_repaired(agg, set, a, p, buf);
	if (err)
		goto out;
	scatter(agg, set, a, agg_start - agg->start_after[a], buf, member_start, amounts);
out:
	free(buf);
	free(p);
	return err;
}

enum gf_err gf_aggregate_positions(const struct gf_aggregate *agg, const int32_t *agg_start,
                                   const double *x, double *p)
{
	if (!agg || !agg_start || !x || !p)
		return GF_EINVAL;
	/* Validate everything first: p untouched on failure. */
	for (size_t a = 0; a < agg->count; a++) {
		if (agg_start[a] < agg->start_after[a] ||
		    agg_start[a] - agg->start_after[a] > agg->tf[a])
			return GF_ERANGE;
		if (!schedule_valid(agg, a, x + agg->slice_off[a]))
			return GF_EINVAL;
	}
	for (size_t s = 0; s < agg->slice_count; s++) {
		double range = agg->upper[s] - agg->lower[s];
		p[s] = range > 0.0 ? (x[s] - agg->lower[s]) / range : 0.0;
	}
	return GF_OK;
}

/* The relative position rule for offers first .. first + set->count - 1 of
 * the aggregated input, which are set's offers 0 .. count - 1. */
static void split_offers(const struct gf_aggregate *agg, const struct gf_fo_set *set, size_t first,
                         const int32_t *agg_start, const double *p, int32_t *member_start,
                         double *amounts)
{
	/* Offers in input order: the big arrays are read and written
	 * sequentially, only the small per-aggregate ones randomly. */
	for (size_t j = 0; j < set->count; j++) {
		size_t i = first + j;
		uint32_t g = agg->group_of[i];
		int32_t off = offset_of(agg, (uint32_t)i);
		const double *pi = p + agg->slice_off[g] +
		                   (size_t)(set->start_after[j] + off - agg->start_after[g]);
		const double *l = set->lower + set->slice_off[j],
		             *h = set->upper + set->slice_off[j];
		double *o = amounts + set->slice_off[j];
		member_start[j] = set->start_after[j] + off + (agg_start[g] - agg->start_after[g]);
		for (int32_t k = 0; k < set->n[j]; k++)
			o[k] = at_position(l[k], h[k], pi[k]);
	}
}

enum gf_err gf_aggregate_disaggregate_chunk(const struct gf_aggregate *agg,
                                            const struct gf_fo_set *chunk, size_t first,
                                            const int32_t *agg_start, const double *p,
                                            int32_t *member_start, double *amounts)
{
	if (!agg || !chunk || !agg_start || !p || !member_start || !amounts)
		return GF_EINVAL;
	if (first > agg->member_off[agg->count] ||
	    chunk->count > agg->member_off[agg->count] - first)
		return GF_ERANGE;
	/* Members with total bounds need their whole aggregate (repair). */
	for (size_t j = 0; j < chunk->count; j++)
		if (agg->total_members[agg->group_of[first + j]])
			return GF_EINVAL;
	split_offers(agg, chunk, first, agg_start, p, member_start, amounts);
	return GF_OK;
}

enum gf_err gf_aggregate_disaggregate_all(const struct gf_aggregate *agg,
                                          const struct gf_fo_set *set, const int32_t *agg_start,
                                          const double *x, double *scratch, int32_t *member_start,
                                          double *amounts)
{
	enum gf_err err = GF_OK;
	size_t repaired = 0;
	double *buf = NULL;

	/* Validate everything first: outputs untouched on failure. */
	err = gf_aggregate_positions(agg, agg_start, x, scratch);
	if (err)
		return err;
	for (size_t a = 0; a < agg->count; a++)
		if (agg->total_members[a])
			repaired += member_slices(agg, set, a);
	/* Aggregates whose members have totals are split and repaired first,
	 * into buf, so that a failure leaves the outputs alone. */
	if (repaired) {
		buf = malloc(repaired * sizeof *buf);
		if (!buf)
			return GF_ENOMEM;
		size_t pos = 0;
		for (size_t a = 0; a < agg->count && !err; a++) {
			if (!agg->total_members[a])
				continue;
			err = split_repaired(agg, set, a, scratch + agg->slice_off[a], buf + pos);
			pos += member_slices(agg, set, a);
		}
		if (err)
			goto out;
	}
	split_offers(agg, set, 0, agg_start, scratch, member_start, amounts);
	if (repaired) {
		size_t pos = 0;
		for (size_t a = 0; a < agg->count; a++) {
			if (!agg->total_members[a])
				continue;
			scatter(agg, set, a, agg_start[a] - agg->start_after[a], buf + pos,
			        member_start, amounts);
			pos += member_slices(agg, set, a);
		}
	}
out:
	free(buf);
	return err;
}
