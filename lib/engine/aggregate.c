/* SPDX-License-Identifier: MIT */
/*
 * aggregate.c - grid grouping and start-aligned N-to-1 aggregation.
 *
 * Three linear passes over the offers: (1) cell key per offer, looked up in
 * a small open-addressing table of groups; (2) counting sort of the offer
 * indices by group (stable, so members stay in input order); (3) the slice
 * bounds added into the aggregates' profiles. Nothing is allocated per
 * offer; the group table grows by doubling with the number of groups only.
 * Balance aggregation adds one pass per group choosing member offsets
 * (aggregate_balance.c).
 */
#include "engine/aggregate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate_int.h"

struct group_table {
	uint32_t *slot; /* group id + 1, 0 = empty; only open groups have a slot */
	size_t mask;
	struct gf__agg_group *groups;
	size_t count, cap;
};

static uint64_t key_hash(const struct gf__agg_key *k)
{
	uint64_t h = (uint64_t)k->sa_cell * UINT64_C(0x9E3779B97F4A7C15);
	h ^= (uint64_t)k->tf_cell * UINT64_C(0xC2B2AE3D27D4EB4F) + (uint64_t)k->production;
	h ^= h >> 29;
	return h * UINT64_C(0xBF58476D1CE4E5B9);
}

static int key_eq(const struct gf__agg_key *a, const struct gf__agg_key *b)
{
	return a->sa_cell == b->sa_cell && a->tf_cell == b->tf_cell &&
	       a->production == b->production;
}

static void slot_insert(uint32_t *slot, size_t mask, const struct gf__agg_key *key, uint32_t id)
{
	size_t s = (size_t)key_hash(key) & mask;
	while (slot[s])
		s = (s + 1) & mask;
	slot[s] = id + 1;
}

static enum gf_err table_grow(struct group_table *t)
{
	size_t nslots = (t->mask + 1) * 2;
	uint32_t *slot = calloc(nslots, sizeof *slot);
	struct gf__agg_group *groups = realloc(t->groups, (nslots / 2) * sizeof *groups);
	if (!slot || !groups) {
		free(slot);
		if (groups)
			t->groups = groups;
		return GF_ENOMEM;
	}
	t->groups = groups;
	t->cap = nslots / 2;
	/* Closed groups (full cells split by weight bounds) keep no slot. */
	for (size_t g = 0; g < t->count; g++)
		if (groups[g].open)
			slot_insert(slot, nslots - 1, &groups[g].key, (uint32_t)g);
	free(t->slot);
	t->slot = slot;
	t->mask = nslots - 1;
	return GF_OK;
}

void gf__agg_group_init(struct gf__agg_group *gi, const struct gf__agg_key *key)
{
	memset(gi, 0, sizeof *gi);
	gi->key = *key;
	gi->min_sa = INT32_MAX;
	gi->min_tf = INT32_MAX;
	gi->max_end = INT64_MIN;
	gi->acceptance_before = GF_FO_NO_DEADLINE;
	gi->assignment_before = GF_FO_NO_DEADLINE;
	gi->open = 1;
}

/* Finds or adds the open group of key; *id receives its index. */
static enum gf_err table_find(struct group_table *t, const struct gf__agg_key *key, uint32_t *id)
{
	size_t s = (size_t)key_hash(key) & t->mask;
	while (t->slot[s]) {
		uint32_t g = t->slot[s] - 1;
		if (key_eq(&t->groups[g].key, key)) {
			*id = g;
			return GF_OK;
		}
		s = (s + 1) & t->mask;
	}
	if (t->count == t->cap) {
		enum gf_err err = table_grow(t);
		if (err)
			return err;
		return table_find(t, key, id);
	}
	gf__agg_group_init(&t->groups[t->count], key);
	t->slot[s] = (uint32_t)(t->count + 1);
	*id = (uint32_t)t->count++;
	return GF_OK;
}

/* The open group *id is full: closes it and opens a new one for its cell in
 * its slot; *id receives the new index. */
static enum gf_err table_split(struct group_table *t, uint32_t *id)
{
	if (t->count == t->cap) {
		enum gf_err err = table_grow(t);
		if (err)
			return err;
	}
	struct gf__agg_key key = t->groups[*id].key;
	size_t s = (size_t)key_hash(&key) & t->mask;
	while (t->slot[s] != *id + 1)
		s = (s + 1) & t->mask;
	t->groups[*id].open = 0;
	gf__agg_group_init(&t->groups[t->count], &key);
	t->slot[s] = (uint32_t)(t->count + 1);
	*id = (uint32_t)t->count++;
	return GF_OK;
}

void gf_aggregate_free(struct gf_aggregate *agg)
{
	if (!agg)
		return;
	free(agg->start_after);
	free(agg->tf);
	free(agg->n);
	free(agg->slice_off);
	free(agg->member_off);
	free(agg->members);
	free(agg->group_of);
	free(agg->total_min);
	free(agg->total_max);
	free(agg->lower);
	free(agg->upper);
	free(agg->dflt);
	free(agg->acceptance_before);
	free(agg->assignment_before);
	free(agg->total_members);
	free(agg->offset);
	memset(agg, 0, sizeof *agg);
}

/* Whether offer i produces (its default schedule sums below zero): all the
 * grouping needs when no group is bounded, the hot path of the benchmark. */
static inline int is_production(const struct gf_fo_set *set, size_t i)
{
	double sum = 0.0;
	const double *d = set->dflt + set->slice_off[i];
	for (int32_t k = 0; k < set->n[i]; k++)
		sum += d[k];
	return sum < 0.0;
}

double gf__agg_weight(const struct gf_fo_set *set, size_t i, int *production)
{
	double sum = 0.0, w = 0.0;
	const double *d = set->dflt + set->slice_off[i];
	for (int32_t k = 0; k < set->n[i]; k++) {
		sum += d[k];
		w += fabs(d[k]);
	}
	*production = sum < 0.0;
	return w;
}

int gf__agg_full(const struct gf_aggregate_config *cfg, size_t members, double energy, double w)
{
	if (members == 0)
		return 0;
	if (cfg->max_members && members + 1 > cfg->max_members)
		return 1;
	return cfg->max_energy > 0.0 && energy + w > cfg->max_energy;
}

/* Pass 1: the group of every offer and the groups' extents. */
static enum gf_err assign_groups(const struct gf_fo_set *set, const struct gf_aggregate_config *cfg,
                                 struct group_table *t, uint32_t *group_of)
{
	int64_t sa_origin = cfg->fixed_origin ? cfg->start_after_origin : set->start_after[0];
	int64_t tf_origin = cfg->fixed_origin ? cfg->tf_origin : set->tf[0];
	int bounded = cfg->max_members > 0 || cfg->max_energy > 0.0;
	/* A local copy: stores into the group table cannot alias it, so the
	 * cell widths stay in registers. */
	const struct gf_aggregate_config c = *cfg;
	for (size_t i = 0; i < set->count; i++) {
		struct gf__agg_key key;
		int production = 0;
		double w = 0.0;
		if (bounded)
			w = gf__agg_weight(set, i, &production);
		else
			production = is_production(set, i);
		gf__agg_key_of(&c, sa_origin, tf_origin, set->start_after[i], set->tf[i],
		               production, &key);
		uint32_t g = 0;
		enum gf_err err = table_find(t, &key, &g);
		if (!err && bounded &&
		    gf__agg_full(&c, t->groups[g].members, t->groups[g].energy, w))
			err = table_split(t, &g);
		if (err)
			return err;
		group_of[i] = g;
		gf__agg_group_add(&t->groups[g], set, i, 0, w);
	}
	return GF_OK;
}

/* Pass 2: counting sort of the offers by group into out->members; with
 * place == 0 only the offsets (fill then places the members on its pass). */
static void sort_members(size_t offers, const struct gf__agg_group *groups, size_t count,
                         const uint32_t *group_of, int place, struct gf_aggregate *out)
{
	size_t moff = 0;
	for (size_t g = 0; g < count; g++) {
		out->member_off[g] = moff;
		moff += groups[g].members;
	}
	out->member_off[count] = moff;
	if (!place)
		return;
	/* member_off doubles as the fill cursor, then is shifted back. */
	for (size_t i = 0; i < offers; i++)
		out->members[out->member_off[group_of[i]]++] = (uint32_t)i;
	for (size_t g = count; g > 0; g--)
		out->member_off[g] = out->member_off[g - 1];
	out->member_off[0] = 0;
}

/* Pass 3 into the already allocated and member-sorted out. */
static void fill(const struct gf_fo_set *set, const struct gf__agg_group *groups, size_t count,
                 const uint32_t *group_of, int place, struct gf_aggregate *out)
{
	size_t soff = 0;
	for (size_t g = 0; g < count; g++) {
		const struct gf__agg_group *gi = &groups[g];
		out->start_after[g] = gi->min_sa;
		out->tf[g] = gi->min_tf;
		out->n[g] = (int32_t)(gi->max_end - gi->min_sa);
		out->slice_off[g] = soff;
		/* Totals when any member has one: a member without its own
		 * bounds the aggregate's by the sum of its slices' bounds. (Only
		 * when all had them, a mixed aggregate of a car that needs an
		 * exact energy and batteries could be assigned a schedule with
		 * no split: FMAN refused it.) */
		out->total_min[g] = gi->total_members ? 0.0 : NAN;
		out->total_max[g] = gi->total_members ? 0.0 : NAN;
		out->acceptance_before[g] = gi->acceptance_before;
		out->assignment_before[g] = gi->assignment_before;
		out->total_members[g] = gi->total_members;
		soff += (size_t)out->n[g];
		if (gi->members > out->largest)
			out->largest = gi->members;
	}
	memset(out->lower, 0, soff * sizeof *out->lower);
	memset(out->upper, 0, soff * sizeof *out->upper);
	memset(out->dflt, 0, soff * sizeof *out->dflt);
	/* One pass over the offers: members placed (counting sort, cursor in
	 * member_off, unless already sorted) and slices summed. */
	for (size_t i = 0; i < set->count; i++) {
		uint32_t g = group_of[i];
		int32_t off = out->offset ? out->offset[i] : 0;
		if (place)
			out->members[out->member_off[g]++] = (uint32_t)i;
		size_t src = set->slice_off[i];
		size_t dst =
		    out->slice_off[g] + (size_t)(set->start_after[i] + off - out->start_after[g]);
		double lo = 0, hi = 0;
		for (int32_t k = 0; k < set->n[i]; k++) {
			out->lower[dst + (size_t)k] += set->lower[src + (size_t)k];
			out->upper[dst + (size_t)k] += set->upper[src + (size_t)k];
			out->dflt[dst + (size_t)k] += set->dflt[src + (size_t)k];
			lo += set->lower[src + (size_t)k];
			hi += set->upper[src + (size_t)k];
		}
		if (!isnan(out->total_min[g])) {
			out->total_min[g] +=
			    isnan(set->total_min[i]) ? lo : fmax(lo, set->total_min[i]);
			out->total_max[g] +=
			    isnan(set->total_max[i]) ? hi : fmin(hi, set->total_max[i]);
		}
		out->tf_loss += set->tf[i] - out->tf[g];
	}
	if (place) {
		for (size_t g = count; g > 0; g--)
			out->member_off[g] = out->member_off[g - 1];
		out->member_off[0] = 0;
	}
}

static enum gf_err alloc_aggregates(struct gf_aggregate *a, size_t count, size_t offers,
                                    int balance)
{
	a->count = count;
	a->start_after = malloc(count * sizeof *a->start_after);
	a->tf = malloc(count * sizeof *a->tf);
	a->n = malloc(count * sizeof *a->n);
	a->slice_off = malloc(count * sizeof *a->slice_off);
	a->member_off = malloc((count + 1) * sizeof *a->member_off);
	a->members = malloc(offers * sizeof *a->members);
	a->total_min = malloc(count * sizeof *a->total_min);
	a->total_max = malloc(count * sizeof *a->total_max);
	a->acceptance_before = malloc(count * sizeof *a->acceptance_before);
	a->assignment_before = malloc(count * sizeof *a->assignment_before);
	a->total_members = malloc(count * sizeof *a->total_members);
	if (balance)
		a->offset = calloc(offers, sizeof *a->offset);
	if (!a->start_after || !a->tf || !a->n || !a->slice_off || !a->member_off || !a->members ||
	    !a->total_min || !a->total_max || !a->acceptance_before || !a->assignment_before ||
	    !a->total_members || (balance && !a->offset))
		return GF_ENOMEM;
	return GF_OK;
}

static int config_valid(const struct gf_aggregate_config *cfg)
{
	return cfg->start_after_tolerance >= 0 && cfg->tf_tolerance >= 0 &&
	       cfg->max_energy >= 0.0 && !isinf(cfg->max_energy);
}

enum gf_err gf_aggregate_build(const struct gf_fo_set *set, const struct gf_aggregate_config *cfg,
                               struct gf_aggregate *out)
{
	enum gf_err err = GF_OK;
	struct group_table t = {NULL, 0, NULL, 0, 0};
	uint32_t *group_of = NULL;
	struct gf_aggregate a;
	memset(&a, 0, sizeof a);

	if (!set || !cfg || !out || set->count == 0 || set->count > UINT32_MAX ||
	    !config_valid(cfg))
		return GF_EINVAL;
	err = GF_ENOMEM;
	t.slot = calloc(64, sizeof *t.slot);
	t.groups = malloc(32 * sizeof *t.groups);
	group_of = malloc(set->count * sizeof *group_of);
	if (!t.slot || !t.groups || !group_of)
		goto out;
	t.mask = 63;
	t.cap = 32;
	err = assign_groups(set, cfg, &t, group_of);
	if (err)
		goto out;
	err = alloc_aggregates(&a, t.count, set->count, cfg->balance);
	if (err)
		goto out;
	/* Balance needs the members sorted first; otherwise the fill pass
	 * places them (one pass over the offers fewer). */
	sort_members(set->count, t.groups, t.count, group_of, cfg->balance, &a);
	if (cfg->balance) {
		err = gf__agg_balance(set, &a, t.groups, t.count);
		if (err)
			goto out;
	}
	size_t slices = 0;
	for (size_t g = 0; g < t.count; g++)
		slices += (size_t)(t.groups[g].max_end - t.groups[g].min_sa);
	a.slice_count = slices;
	a.lower = malloc(slices * sizeof *a.lower);
	a.upper = malloc(slices * sizeof *a.upper);
	a.dflt = malloc(slices * sizeof *a.dflt);
	err = GF_ENOMEM;
	if (!a.lower || !a.upper || !a.dflt)
		goto out;
	fill(set, t.groups, t.count, group_of, !cfg->balance, &a);
	a.group_of = group_of;
	group_of = NULL;
	*out = a;
	memset(&a, 0, sizeof a);
	err = GF_OK;
out:
	gf_aggregate_free(&a);
	free(group_of);
	free(t.groups);
	free(t.slot);
	return err;
}

/*
 * Streaming: the offers arrive in chunks (gf_aggregate_stream_add) and are
 * dropped by the caller after each; every group keeps its profile so far,
 * based at its members' smallest start_after (shifted when an earlier member
 * arrives). Each profile slot, total and tf sum receives the same
 * contributions in the same (input) order as fill() does, so the result is
 * bit for bit gf_aggregate_build's over the concatenated chunks.
 */
struct stream_profile {
	int64_t base;    /* absolute interval of slot 0 */
	size_t len, cap; /* slots used, allocated */
	double *lower, *upper, *dflt;
	double total_min, total_max; /* running sums, as fill() adds them */
	int64_t sum_tf;
};

struct gf_aggregate_stream {
	struct gf_aggregate_config cfg;
	int64_t sa_origin, tf_origin;
	struct group_table t;
	struct stream_profile *prof; /* prof_cap entries, >= t.count once an add succeeded */
	size_t prof_cap;
	uint32_t *group_of; /* count used, cap allocated */
	size_t count, cap;
	enum gf_err failed; /* sticky: the first error of an add */
};

enum gf_err gf_aggregate_stream_new(const struct gf_aggregate_config *cfg, size_t expected,
                                    struct gf_aggregate_stream **out)
{
	struct gf_aggregate_stream *s;
	if (!cfg || !out || !config_valid(cfg) || cfg->balance)
		return GF_EINVAL;
	s = calloc(1, sizeof *s);
	if (!s)
		return GF_ENOMEM;
	s->cfg = *cfg;
	s->cap = expected > 0 && expected <= UINT32_MAX ? expected : 1024;
	s->t.slot = calloc(64, sizeof *s->t.slot);
	s->t.groups = malloc(32 * sizeof *s->t.groups);
	s->prof = calloc(32, sizeof *s->prof);
	s->group_of = malloc(s->cap * sizeof *s->group_of);
	if (!s->t.slot || !s->t.groups || !s->prof || !s->group_of) {
		gf_aggregate_stream_free(s);
		return GF_ENOMEM;
	}
	s->t.mask = 63;
	s->t.cap = 32;
	s->prof_cap = 32;
	*out = s;
	return GF_OK;
}

void gf_aggregate_stream_free(struct gf_aggregate_stream *s)
{
	if (!s)
		return;
	for (size_t g = 0; g < s->t.count && g < s->prof_cap; g++) {
		free(s->prof[g].lower);
		free(s->prof[g].upper);
		free(s->prof[g].dflt);
	}
	free(s->prof);
	free(s->group_of);
	free(s->t.groups);
	free(s->t.slot);
	free(s);
}

static enum gf_err profile_reserve(struct stream_profile *p, size_t len)
{
	if (len <= p->cap)
		return GF_OK;
	size_t cap = p->cap ? p->cap : 32;
	while (cap < len)
		cap *= 2;
	double *lo = realloc(p->lower, cap * sizeof *lo);
	if (lo)
		p->lower = lo;
	double *hi = realloc(p->upper, cap * sizeof *hi);
	if (hi)
		p->upper = hi;
	double *df = realloc(p->dflt, cap * sizeof *df);
	if (df)
		p->dflt = df;
	if (!lo || !hi || !df)
		return GF_ENOMEM;
	p->cap = cap;
	return GF_OK;
}

/* Makes [sa, end) part of p's profile (new slots 0); *at receives the slot
 * of sa. */
static enum gf_err profile_cover(struct stream_profile *p, int64_t sa, int64_t end, size_t *at)
{
	if (p->len == 0)
		p->base = sa;
	if (sa < p->base) {
		size_t d = (size_t)(p->base - sa);
		if (profile_reserve(p, p->len + d))
			return GF_ENOMEM;
		memmove(p->lower + d, p->lower, p->len * sizeof *p->lower);
		memmove(p->upper + d, p->upper, p->len * sizeof *p->upper);
		memmove(p->dflt + d, p->dflt, p->len * sizeof *p->dflt);
		memset(p->lower, 0, d * sizeof *p->lower);
		memset(p->upper, 0, d * sizeof *p->upper);
		memset(p->dflt, 0, d * sizeof *p->dflt);
		p->base = sa;
		p->len += d;
	}
	size_t len = (size_t)(end - p->base);
	if (len > p->len) {
		if (profile_reserve(p, len))
			return GF_ENOMEM;
		memset(p->lower + p->len, 0, (len - p->len) * sizeof *p->lower);
		memset(p->upper + p->len, 0, (len - p->len) * sizeof *p->upper);
		memset(p->dflt + p->len, 0, (len - p->len) * sizeof *p->dflt);
		p->len = len;
	}
	*at = (size_t)(sa - p->base);
	return GF_OK;
}

/* Keeps one profile per group slot of the table (t.cap may have grown). */
static enum gf_err stream_profiles_fit(struct gf_aggregate_stream *s)
{
	if (s->t.cap <= s->prof_cap)
		return GF_OK;
	struct stream_profile *p = realloc(s->prof, s->t.cap * sizeof *p);
	if (!p)
		return GF_ENOMEM;
	memset(p + s->prof_cap, 0, (s->t.cap - s->prof_cap) * sizeof *p);
	s->prof = p;
	s->prof_cap = s->t.cap;
	return GF_OK;
}

/* Pass 1 over a chunk: the group of every offer and the groups' extents,
 * as assign_groups. */
static enum gf_err stream_assign(struct gf_aggregate_stream *s, const struct gf_fo_set *set)
{
	const struct gf_aggregate_config c = s->cfg;
	int bounded = c.max_members > 0 || c.max_energy > 0.0;
	uint32_t *group_of = s->group_of + s->count;
	for (size_t i = 0; i < set->count; i++) {
		struct gf__agg_key key;
		int production = 0;
		double w = 0.0;
		if (bounded)
			w = gf__agg_weight(set, i, &production);
		else
			production = is_production(set, i);
		gf__agg_key_of(&c, s->sa_origin, s->tf_origin, set->start_after[i], set->tf[i],
		               production, &key);
		uint32_t g = 0;
		enum gf_err err = table_find(&s->t, &key, &g);
		if (!err && bounded &&
		    gf__agg_full(&c, s->t.groups[g].members, s->t.groups[g].energy, w))
			err = table_split(&s->t, &g);
		if (err)
			return err;
		group_of[i] = g;
		gf__agg_group_add(&s->t.groups[g], set, i, 0, w);
	}
	return GF_OK;
}

/* Pass 2: the chunk's slices summed into the profiles, as fill(). */
static void stream_fill(struct gf_aggregate_stream *s, const struct gf_fo_set *set,
                        const uint32_t *group_of)
{
	for (size_t i = 0; i < set->count; i++) {
		struct stream_profile *p = &s->prof[group_of[i]];
		size_t src = set->slice_off[i];
		size_t dst = (size_t)(set->start_after[i] - p->base);
		double *pl = p->lower + dst, *pu = p->upper + dst, *pd = p->dflt + dst;
		double lo = 0, hi = 0;
		for (int32_t k = 0; k < set->n[i]; k++) {
			pl[k] += set->lower[src + (size_t)k];
			pu[k] += set->upper[src + (size_t)k];
			pd[k] += set->dflt[src + (size_t)k];
			lo += set->lower[src + (size_t)k];
			hi += set->upper[src + (size_t)k];
		}
		p->total_min += isnan(set->total_min[i]) ? lo : fmax(lo, set->total_min[i]);
		p->total_max += isnan(set->total_max[i]) ? hi : fmin(hi, set->total_max[i]);
		p->sum_tf += set->tf[i];
	}
}

enum gf_err gf_aggregate_stream_add(struct gf_aggregate_stream *s, const struct gf_fo_set *chunk)
{
	if (!s || !chunk)
		return GF_EINVAL;
	if (s->failed)
		return s->failed;
	if (chunk->count > UINT32_MAX - s->count)
		return s->failed = GF_EINVAL;
	if (chunk->count == 0)
		return GF_OK;
	if (s->count + chunk->count > s->cap) {
		size_t cap = s->cap;
		while (cap < s->count + chunk->count)
			cap = cap > UINT32_MAX / 2 ? UINT32_MAX : cap * 2;
		uint32_t *g = realloc(s->group_of, cap * sizeof *g);
		if (!g)
			return s->failed = GF_ENOMEM;
		s->group_of = g;
		s->cap = cap;
	}
	if (s->count == 0) {
		s->sa_origin =
		    s->cfg.fixed_origin ? s->cfg.start_after_origin : chunk->start_after[0];
		s->tf_origin = s->cfg.fixed_origin ? s->cfg.tf_origin : chunk->tf[0];
	}
	enum gf_err err = stream_assign(s, chunk);
	if (!err)
		err = stream_profiles_fit(s);
	/* Every profile covers its group's extent so far (members placed
	 * without offset: min_sa .. max_end). */
	for (size_t g = 0; !err && g < s->t.count; g++) {
		size_t at = 0;
		if (s->t.groups[g].members)
			err = profile_cover(&s->prof[g], s->t.groups[g].min_sa,
			                    s->t.groups[g].max_end, &at);
	}
	if (err)
		return s->failed = err;
	stream_fill(s, chunk, s->group_of + s->count);
	s->count += chunk->count;
	return GF_OK;
}

size_t gf_aggregate_stream_count(const struct gf_aggregate_stream *s)
{
	return s ? s->count : 0;
}

enum gf_err gf_aggregate_stream_finish(struct gf_aggregate_stream *s, struct gf_aggregate *out)
{
	enum gf_err err;
	struct gf_aggregate a;
	if (!s || !out)
		return GF_EINVAL;
	if (s->failed)
		return s->failed;
	if (s->count == 0)
		return GF_EINVAL;
	memset(&a, 0, sizeof a);
	err = alloc_aggregates(&a, s->t.count, s->count, 0);
	if (err)
		goto fail;
	sort_members(s->count, s->t.groups, s->t.count, s->group_of, 1, &a);
	size_t slices = 0;
	for (size_t g = 0; g < s->t.count; g++)
		slices += s->prof[g].len;
	a.slice_count = slices;
	a.lower = malloc(slices * sizeof *a.lower);
	a.upper = malloc(slices * sizeof *a.upper);
	a.dflt = malloc(slices * sizeof *a.dflt);
	err = GF_ENOMEM;
	if (!a.lower || !a.upper || !a.dflt)
		goto fail;
	size_t soff = 0;
	for (size_t g = 0; g < s->t.count; g++) {
		const struct gf__agg_group *gi = &s->t.groups[g];
		const struct stream_profile *p = &s->prof[g];
		a.start_after[g] = gi->min_sa;
		a.tf[g] = gi->min_tf;
		a.n[g] = (int32_t)p->len;
		a.slice_off[g] = soff;
		a.total_min[g] = gi->total_members ? p->total_min : NAN;
		a.total_max[g] = gi->total_members ? p->total_max : NAN;
		a.acceptance_before[g] = gi->acceptance_before;
		a.assignment_before[g] = gi->assignment_before;
		a.total_members[g] = gi->total_members;
		memcpy(a.lower + soff, p->lower, p->len * sizeof *a.lower);
		memcpy(a.upper + soff, p->upper, p->len * sizeof *a.upper);
		memcpy(a.dflt + soff, p->dflt, p->len * sizeof *a.dflt);
		a.tf_loss += p->sum_tf - (int64_t)gi->members * gi->min_tf;
		if (gi->members > a.largest)
			a.largest = gi->members;
		soff += p->len;
	}
	/* The stream's per-offer array becomes the aggregate's group_of. */
	a.group_of = s->group_of;
	s->group_of = NULL;
	s->count = 0;
	s->failed = GF_EINVAL; /* finished: no more adds */
	*out = a;
	return GF_OK;
fail:
	gf_aggregate_free(&a);
	return err;
}
