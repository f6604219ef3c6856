/* SPDX-License-Identifier: MIT */
/*
 * aggpool.c - incremental maintenance of aggregates (see aggpool.h).
 *
 * Each aggregate ("chunk") owns its members as a small gf_fo_set plus their
 * ids, and its gf_aggregate built from them. A change prepares the new
 * member set and aggregate of every chunk it touches first, reserves room
 * in the hash tables and arrays, and only then commits, so that a failure
 * leaves the pool as it was. Two open-addressing tables with backward-shift
 * deletion: member id -> chunk, cell key -> first chunk of the cell (the
 * cell's chunks form a doubly linked chain, several only under weight
 * bounds). Live chunks are listed densely in `live` for numbering.
 */
#include "engine/aggpool.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate_int.h"

#define NONE UINT32_MAX

struct pkey {
	uint64_t a, b;
};

struct ptable {
	struct pkey *keys;
	uint32_t *vals;
	unsigned char *used;
	size_t mask, count;
};

/* One aggregate and its members. */
struct body {
	struct gf_fo_set set; /* members; count 0 = empty, nothing allocated */
	uint64_t *ids;        /* set.cap entries */
	int32_t start_after, tf, n;
	double *lower, *upper, *dflt; /* profile, prof_cap entries each */
	size_t prof_cap;
	int32_t *offsets;            /* balance aggregation only, else NULL */
	double total_min, total_max; /* NaN until a member has a total (aggregate.c) */
	double sum_min, sum_max;     /* every member's total, or its slices' bounds' sum */
	int32_t acceptance_before, assignment_before;
	int64_t sum_tf; /* of the members' tf: tf loss = sum_tf - count * tf */
	double energy;  /* sum of member weights */
};

struct chunk {
	struct pkey cell;
	struct body body;
	uint32_t prev, next; /* the cell's chain */
	size_t live_pos;
};

struct gf_aggpool {
	struct gf_aggregate_config cfg, chunk_cfg;
	struct ptable ids, cells;
	struct chunk **chunks; /* slots, NULL = free */
	uint32_t *free_slots;  /* stack of free slot numbers */
	uint32_t *live;        /* live chunk slots, dense */
	size_t slots, free_count, live_count, members;
};

static uint64_t pkey_hash(const struct pkey *k)
{
	uint64_t h = k->a * UINT64_C(0x9E3779B97F4A7C15) ^ k->b * UINT64_C(0xC2B2AE3D27D4EB4F);
	h ^= h >> 31;
	h *= UINT64_C(0xBF58476D1CE4E5B9);
	return h ^ (h >> 29);
}

static void ptable_free(struct ptable *t)
{
	free(t->keys);
	free(t->vals);
	free(t->used);
	memset(t, 0, sizeof *t);
}

static size_t ptable_find(const struct ptable *t, const struct pkey *k)
{
	if (!t->used)
		return SIZE_MAX;
	for (size_t s = (size_t)pkey_hash(k) & t->mask; t->used[s]; s = (s + 1) & t->mask)
		if (t->keys[s].a == k->a && t->keys[s].b == k->b)
			return s;
	return SIZE_MAX;
}

static void ptable_put(struct ptable *t, const struct pkey *k, uint32_t v)
{
	size_t s = (size_t)pkey_hash(k) & t->mask;
	while (t->used[s] && (t->keys[s].a != k->a || t->keys[s].b != k->b))
		s = (s + 1) & t->mask;
	if (!t->used[s])
		t->count++;
	t->used[s] = 1;
	t->keys[s] = *k;
	t->vals[s] = v;
}

/* Makes room for `extra` more keys at a load of at most 1/2. */
static enum gf_err ptable_reserve(struct ptable *t, size_t extra)
{
	size_t slots = t->used ? t->mask + 1 : 0;
	if ((t->count + extra) * 2 <= slots)
		return GF_OK;
	size_t n = slots ? slots : 16;
	while ((t->count + extra) * 2 > n)
		n *= 2;
	struct ptable nt = {malloc(n * sizeof *nt.keys), malloc(n * sizeof *nt.vals), calloc(n, 1),
	                    n - 1, 0};
	if (!nt.keys || !nt.vals || !nt.used) {
		ptable_free(&nt);
		return GF_ENOMEM;
	}
	for (size_t s = 0; s < slots; s++)
		if (t->used[s])
			ptable_put(&nt, &t->keys[s], t->vals[s]);
	ptable_free(t);
	*t = nt;
	return GF_OK;
}

/* Backward-shift deletion: no tombstones, probes stay short. */
static void ptable_erase(struct ptable *t, size_t s)
{
	size_t i = s, j = s;
	t->used[i] = 0;
	t->count--;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->used[j])
			return;
		size_t h = (size_t)pkey_hash(&t->keys[j]) & t->mask;
		/* Entry j may move to the hole i unless its home h lies
		 * cyclically in (i, j]. */
		int keep = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (keep)
			continue;
		t->keys[i] = t->keys[j];
		t->vals[i] = t->vals[j];
		t->used[i] = 1;
		t->used[j] = 0;
		i = j;
	}
}

static struct pkey id_key(uint64_t id)
{
	struct pkey k = {id, 0};
	return k;
}

static void body_free(struct body *b)
{
	gf_fo_set_free(&b->set);
	free(b->ids);
	free(b->lower);
	free(b->upper);
	free(b->dflt);
	free(b->offsets);
	memset(b, 0, sizeof *b);
}

/* Takes the header and the buffers of agg's only aggregate into b. */
static void body_take(struct body *b, struct gf_aggregate *agg)
{
	b->start_after = agg->start_after[0];
	b->tf = agg->tf[0];
	b->n = agg->n[0];
	b->lower = agg->lower;
	b->upper = agg->upper;
	b->dflt = agg->dflt;
	b->prof_cap = (size_t)agg->n[0];
	b->offsets = agg->offset;
	b->total_min = agg->total_min[0];
	b->total_max = agg->total_max[0];
	b->sum_min = b->sum_max = 0;
	for (size_t i = 0; i < b->set.count; i++) {
		double lo = 0, hi = 0, tmin = b->set.total_min[i], tmax = b->set.total_max[i];
		for (int32_t k = 0; k < b->set.n[i]; k++) {
			lo += b->set.lower[b->set.slice_off[i] + (size_t)k];
			hi += b->set.upper[b->set.slice_off[i] + (size_t)k];
		}
		b->sum_min += isnan(tmin) ? lo : fmax(lo, tmin);
		b->sum_max += isnan(tmax) ? hi : fmin(hi, tmax);
	}
	b->acceptance_before = agg->acceptance_before[0];
	b->assignment_before = agg->assignment_before[0];
	b->sum_tf = agg->tf_loss + (int64_t)b->set.count * b->tf;
	agg->lower = agg->upper = agg->dflt = NULL;
	agg->offset = NULL;
}

static double fo_weight(const struct gf_fo *fo, int *production)
{
	double sum = 0.0, w = 0.0;
	for (int32_t k = 0; k < fo->n; k++) {
		double d = fo->dflt ? fo->dflt[k] : (fo->lower[k] + fo->upper[k]) / 2.0;
		sum += d;
		w += fabs(d);
	}
	*production = sum < 0.0;
	return w;
}

static struct pkey cell_of(const struct gf_aggpool *p, const struct gf_fo *fo, double *w)
{
	struct gf__agg_key key;
	int production = 0;
	*w = fo_weight(fo, &production);
	gf__agg_key_of(&p->cfg, p->cfg.start_after_origin, p->cfg.tf_origin, fo->start_after,
	               fo->tf, production, &key);
	struct pkey k = {(uint64_t)key.sa_cell,
	                 ((uint64_t)key.tf_cell << 1) | (uint64_t)(key.production != 0)};
	return k;
}

/*
 * The member set of `old` without its member `drop` (SIZE_MAX: none), plus
 * fo as member id when fo is not NULL, and its aggregate, into *out.
 * Cost linear in the chunk's members and slices.
 */
/* Whether member i of old leaves: it is drop, or its id is in drops. */
static bool dropped(const struct body *old, size_t i, size_t drop, const struct ptable *drops)
{
	struct pkey k = id_key(old->ids[i]);
	return i == drop || (drops && ptable_find(drops, &k) != SIZE_MAX);
}

/* body_prepare without also every member whose id is in drops (NULL: none). */
static enum gf_err body_rebuild(const struct gf_aggpool *p, const struct body *old, size_t drop,
                                const struct ptable *drops, const struct gf_fo *fo,
                                const struct gf_fo_deadlines *dl, uint64_t id, struct body *out)
{
	struct body b;
	struct gf_aggregate agg;
	enum gf_err err = GF_OK;
	size_t count = old ? old->set.count : 0, slices = old ? old->set.slice_count : 0;
	memset(&b, 0, sizeof b);
	memset(&agg, 0, sizeof agg);
	for (size_t i = 0; old && (drop != SIZE_MAX || drops) && i < old->set.count; i++)
		if (dropped(old, i, drop, drops)) {
			count--;
			slices -= (size_t)old->set.n[i];
		}
	if (fo) {
		count++;
		slices += fo->n > 0 ? (size_t)fo->n : 0;
	}
	if (count == 0) {
		*out = b;
		return GF_OK;
	}
	if ((err = gf_fo_set_init(&b.set, count, slices ? slices : 1)))
		goto out;
	err = GF_ENOMEM;
	b.ids = malloc(count * sizeof *b.ids);
	if (!b.ids)
		goto out;
	for (size_t i = 0; old && i < old->set.count; i++) {
		struct gf_fo f;
		const struct gf_fo_deadlines d = {old->set.acceptance_before[i],
		                                  old->set.assignment_before[i]};
		if ((drop != SIZE_MAX || drops) && dropped(old, i, drop, drops))
			continue;
		(void)gf_fo_set_get(&old->set, i, &f);
		b.ids[b.set.count] = old->ids[i];
		if ((err = gf_fo_set_add_with_deadlines(&b.set, &f, &d)))
			goto out;
	}
	if (fo) {
		b.ids[b.set.count] = id;
		if ((err = gf_fo_set_add_with_deadlines(&b.set, fo, dl)))
			goto out;
	}
	if ((err = gf_aggregate_build(&b.set, &p->chunk_cfg, &agg)))
		goto out;
	/* One cell, no bounds: one aggregate, or the cell rule is broken. */
	if (agg.count != 1)
		abort();
	body_take(&b, &agg);
	for (size_t i = 0; i < b.set.count; i++) {
		int production = 0;
		b.energy += gf__agg_weight(&b.set, i, &production);
	}
	*out = b;
	memset(&b, 0, sizeof b);
	err = GF_OK;
out:
	gf_aggregate_free(&agg);
	body_free(&b);
	return err;
}

static enum gf_err body_prepare(const struct gf_aggpool *p, const struct body *old, size_t drop,
                                const struct gf_fo *fo, const struct gf_fo_deadlines *dl,
                                uint64_t id, struct body *out)
{
	return body_rebuild(p, old, drop, NULL, fo, dl, id, out);
}

/* A copy of b's member set with twice the room (and room for `slices`
 * more slices), ids grown alike. Amortised O(1) per added member. */
static enum gf_err body_grow(struct body *b, size_t slices)
{
	struct gf_fo_set ns;
	size_t scap = 2 * b->set.slice_cap;
	enum gf_err err;
	if (scap < b->set.slice_count + slices)
		scap = b->set.slice_count + slices;
	if ((err = gf_fo_set_init(&ns, 2 * b->set.cap, scap)))
		return err;
	uint64_t *ids = realloc(b->ids, 2 * b->set.cap * sizeof *ids);
	if (!ids) {
		gf_fo_set_free(&ns);
		return GF_ENOMEM;
	}
	b->ids = ids;
	for (size_t i = 0; i < b->set.count; i++) {
		struct gf_fo f;
		const struct gf_fo_deadlines d = {b->set.acceptance_before[i],
		                                  b->set.assignment_before[i]};
		(void)gf_fo_set_get(&b->set, i, &f);
		(void)gf_fo_set_add_with_deadlines(&ns, &f, &d); /* valid, room made */
	}
	gf_fo_set_free(&b->set);
	b->set = ns;
	return GF_OK;
}

static enum gf_err profile_room(struct body *b, size_t n)
{
	if (n <= b->prof_cap)
		return GF_OK;
	size_t cap = 2 * b->prof_cap > n ? 2 * b->prof_cap : n;
	double *l = realloc(b->lower, cap * sizeof *l);
	if (!l)
		return GF_ENOMEM;
	b->lower = l;
	double *u = realloc(b->upper, cap * sizeof *u);
	if (!u)
		return GF_ENOMEM;
	b->upper = u;
	double *d = realloc(b->dflt, cap * sizeof *d);
	if (!d)
		return GF_ENOMEM;
	b->dflt = d;
	b->prof_cap = cap;
	return GF_OK;
}

/*
 * Adds fo as member id to the non-empty aggregate b in place (start
 * alignment without balance): O(fo's slices + b's profile), amortised.
 * Every allocation comes before the first change, and the offer is
 * validated by gf_fo_set_add, so b is unchanged (up to spare room) on
 * failure.
 */
static enum gf_err body_append(struct body *b, uint64_t id, const struct gf_fo *fo,
                               const struct gf_fo_deadlines *dl)
{
	enum gf_err err;
	if (b->set.count == b->set.cap || b->set.slice_cap - b->set.slice_count < (size_t)fo->n)
		if ((err = body_grow(b, (size_t)fo->n)))
			return err;
	int32_t sa = fo->start_after < b->start_after ? fo->start_after : b->start_after;
	int64_t end = (int64_t)b->start_after + b->n, fo_end = (int64_t)fo->start_after + fo->n;
	end = fo_end > end ? fo_end : end;
	size_t n = (size_t)(end - sa), shift = (size_t)(b->start_after - sa);
	if ((err = profile_room(b, n)))
		return err;
	size_t i = b->set.count;
	if ((err = gf_fo_set_add_with_deadlines(&b->set, fo, dl)))
		return err;
	b->ids[i] = id;
	if (shift) {
		memmove(b->lower + shift, b->lower, (size_t)b->n * sizeof *b->lower);
		memmove(b->upper + shift, b->upper, (size_t)b->n * sizeof *b->upper);
		memmove(b->dflt + shift, b->dflt, (size_t)b->n * sizeof *b->dflt);
	}
	/* Intervals no member covered so far: 0 (before and after). */
	for (size_t t = 0; t < n; t++) {
		if (t >= shift && t < shift + (size_t)b->n)
			continue;
		b->lower[t] = b->upper[t] = b->dflt[t] = 0.0;
	}
	size_t at = (size_t)(fo->start_after - sa), src = b->set.slice_off[i];
	double lo = 0, hi = 0;
	for (int32_t k = 0; k < fo->n; k++) {
		b->lower[at + (size_t)k] += b->set.lower[src + (size_t)k];
		b->upper[at + (size_t)k] += b->set.upper[src + (size_t)k];
		b->dflt[at + (size_t)k] += b->set.dflt[src + (size_t)k];
		lo += b->set.lower[src + (size_t)k];
		hi += b->set.upper[src + (size_t)k];
	}
	b->start_after = sa;
	b->n = (int32_t)n;
	b->tf = fo->tf < b->tf ? fo->tf : b->tf;
	if (b->set.acceptance_before[i] < b->acceptance_before)
		b->acceptance_before = b->set.acceptance_before[i];
	if (b->set.assignment_before[i] < b->assignment_before)
		b->assignment_before = b->set.assignment_before[i];
	/* Totals once any member has one, a member without its own counting
	 * with its slices' bounds (as gf_aggregate_build). */
	b->sum_min += isnan(fo->total_min) ? lo : fmax(lo, fo->total_min);
	b->sum_max += isnan(fo->total_max) ? hi : fmin(hi, fo->total_max);
	if (!isnan(fo->total_min) || !isnan(fo->total_max) || !isnan(b->total_min)) {
		b->total_min = b->sum_min;
		b->total_max = b->sum_max;
	}
	b->sum_tf += fo->tf;
	int production = 0;
	b->energy += gf__agg_weight(&b->set, i, &production);
	return GF_OK;
}

enum gf_err gf_aggpool_new(const struct gf_aggregate_config *cfg, struct gf_aggpool **out)
{
	struct gf_aggpool *p;
	if (!cfg || !out || !cfg->fixed_origin || cfg->start_after_tolerance < 0 ||
	    cfg->tf_tolerance < 0 || !(cfg->max_energy >= 0.0) || isinf(cfg->max_energy))
		return GF_EINVAL;
	p = calloc(1, sizeof *p);
	if (!p)
		return GF_ENOMEM;
	p->cfg = *cfg;
	p->chunk_cfg = *cfg;
	p->chunk_cfg.max_members = 0;
	p->chunk_cfg.max_energy = 0.0;
	*out = p;
	return GF_OK;
}

void gf_aggpool_free(struct gf_aggpool *p)
{
	if (!p)
		return;
	for (size_t s = 0; s < p->slots; s++) {
		if (p->chunks[s]) {
			body_free(&p->chunks[s]->body);
			free(p->chunks[s]);
		}
	}
	free(p->chunks);
	free(p->free_slots);
	free(p->live);
	ptable_free(&p->ids);
	ptable_free(&p->cells);
	free(p);
}

/* Makes sure a new chunk can be registered without failing: a free slot. */
static enum gf_err reserve_slot(struct gf_aggpool *p)
{
	if (p->free_count > 0)
		return GF_OK;
	size_t n = p->slots ? 2 * p->slots : 8;
	if (n > NONE)
		return GF_ENOMEM;
	struct chunk **chunks = realloc(p->chunks, n * sizeof *chunks);
	if (!chunks)
		return GF_ENOMEM;
	p->chunks = chunks;
	uint32_t *free_slots = realloc(p->free_slots, n * sizeof *free_slots);
	if (!free_slots)
		return GF_ENOMEM;
	p->free_slots = free_slots;
	uint32_t *live = realloc(p->live, n * sizeof *live);
	if (!live)
		return GF_ENOMEM;
	p->live = live;
	/* Push the new slots so that the lowest is taken first. */
	for (size_t s = n; s > p->slots; s--) {
		p->chunks[s - 1] = NULL;
		p->free_slots[p->free_count++] = (uint32_t)(s - 1);
	}
	p->slots = n;
	return GF_OK;
}

/* Registers c (its body and cell set) as a new chunk at the end of its
 * cell's chain; reserve_slot and the cell table's room were ensured. */
static uint32_t chunk_register(struct gf_aggpool *p, struct chunk *c)
{
	uint32_t s = p->free_slots[--p->free_count];
	p->chunks[s] = c;
	c->live_pos = p->live_count;
	p->live[p->live_count++] = s;
	c->prev = c->next = NONE;
	size_t at = ptable_find(&p->cells, &c->cell);
	if (at == SIZE_MAX) {
		ptable_put(&p->cells, &c->cell, s);
	} else {
		uint32_t last = p->cells.vals[at];
		while (p->chunks[last]->next != NONE)
			last = p->chunks[last]->next;
		p->chunks[last]->next = s;
		c->prev = last;
	}
	return s;
}

/* Removes the (now empty) chunk in slot s. Cannot fail. */
static void chunk_drop(struct gf_aggpool *p, uint32_t s)
{
	struct chunk *c = p->chunks[s];
	if (c->prev != NONE) {
		p->chunks[c->prev]->next = c->next;
	} else {
		size_t at = ptable_find(&p->cells, &c->cell);
		if (c->next != NONE)
			p->cells.vals[at] = c->next;
		else
			ptable_erase(&p->cells, at);
	}
	if (c->next != NONE)
		p->chunks[c->next]->prev = c->prev;
	uint32_t moved = p->live[--p->live_count];
	p->live[c->live_pos] = moved;
	p->chunks[moved]->live_pos = c->live_pos;
	body_free(&c->body);
	free(c);
	p->chunks[s] = NULL;
	p->free_slots[p->free_count++] = s;
}

/* Installs body b into slot s (freeing the old one), or drops the chunk
 * when b is empty. */
static void chunk_install(struct gf_aggpool *p, uint32_t s, struct body *b)
{
	if (b->set.count == 0) {
		chunk_drop(p, s);
		return;
	}
	body_free(&p->chunks[s]->body);
	p->chunks[s]->body = *b;
	memset(b, 0, sizeof *b);
}

/* First chunk of `cell`, other than `skip`, with room for weight w; NONE
 * when none (then a new chunk is needed). */
static uint32_t first_fit(const struct gf_aggpool *p, const struct pkey *cell, double w,
                          uint32_t skip)
{
	size_t at = ptable_find(&p->cells, cell);
	if (at == SIZE_MAX)
		return NONE;
	for (uint32_t s = p->cells.vals[at]; s != NONE; s = p->chunks[s]->next) {
		const struct body *b = &p->chunks[s]->body;
		if (s != skip && !gf__agg_full(&p->cfg, b->set.count, b->energy, w))
			return s;
	}
	return NONE;
}

static size_t position_of(const struct body *b, uint64_t id)
{
	for (size_t i = 0; i < b->set.count; i++)
		if (b->ids[i] == id)
			return i;
	abort(); /* the id table points here: the member is in this chunk */
}

/*
 * Puts fo as member id into its cell: into chunk `target` (NONE: a new
 * chunk), prepared as *body beforehand. Reservations were made; cannot fail
 * except allocating the new chunk, which is done first by the caller.
 */
static enum gf_err place(struct gf_aggpool *p, uint64_t id, const struct gf_fo *fo,
                         const struct gf_fo_deadlines *dl, const struct pkey *cell, double w,
                         uint32_t skip, struct body *nb, uint32_t *target, struct chunk **fresh)
{
	enum gf_err err;
	*target = first_fit(p, cell, w, skip);
	*fresh = NULL;
	if ((err = ptable_reserve(&p->ids, 1)) || (err = ptable_reserve(&p->cells, 1)) ||
	    (err = reserve_slot(p)))
		return err;
	/* Into an existing aggregate without balance: in place, already
	 * committed when this returns GF_OK (nb stays empty). */
	if (*target != NONE && !p->cfg.balance)
		return body_append(&p->chunks[*target]->body, id, fo, dl);
	if (*target == NONE) {
		*fresh = calloc(1, sizeof **fresh);
		if (!*fresh)
			return GF_ENOMEM;
		(*fresh)->cell = *cell;
	}
	err = body_prepare(p, *target == NONE ? NULL : &p->chunks[*target]->body, SIZE_MAX, fo, dl,
	                   id, nb);
	if (err) {
		free(*fresh);
		*fresh = NULL;
	}
	return err;
}

/* Commits what place prepared; returns the member's slot. */
static uint32_t place_commit(struct gf_aggpool *p, uint32_t target, struct chunk *fresh,
                             struct body *nb)
{
	if (fresh) {
		fresh->body = *nb;
		memset(nb, 0, sizeof *nb);
		return chunk_register(p, fresh);
	}
	if (nb->set.count) /* else appended in place by place() */
		chunk_install(p, target, nb);
	return target;
}

enum gf_err gf_aggpool_add(struct gf_aggpool *p, uint64_t id, const struct gf_fo *fo,
                           const struct gf_fo_deadlines *dl)
{
	struct body nb;
	struct chunk *fresh = NULL;
	uint32_t target = NONE;
	double w = 0.0;
	struct pkey k = id_key(id);
	enum gf_err err;

	if (!p || !fo || fo->n < 1 || !fo->lower || !fo->upper)
		return GF_EINVAL;
	if (ptable_find(&p->ids, &k) != SIZE_MAX)
		return GF_EEXIST;
	struct pkey cell = cell_of(p, fo, &w);
	memset(&nb, 0, sizeof nb);
	if ((err = place(p, id, fo, dl, &cell, w, NONE, &nb, &target, &fresh)))
		return err;
	ptable_put(&p->ids, &k, place_commit(p, target, fresh, &nb));
	p->members++;
	return GF_OK;
}

enum gf_err gf_aggpool_remove(struct gf_aggpool *p, uint64_t id)
{
	struct body nb;
	struct pkey k = id_key(id);
	size_t at = p ? ptable_find(&p->ids, &k) : SIZE_MAX;
	enum gf_err err;

	if (at == SIZE_MAX)
		return p ? GF_ENOENT : GF_EINVAL;
	uint32_t s = p->ids.vals[at];
	struct body *old = &p->chunks[s]->body;
	if ((err = body_prepare(p, old, position_of(old, id), NULL, NULL, 0, &nb)))
		return err;
	ptable_erase(&p->ids, at);
	chunk_install(p, s, &nb);
	p->members--;
	return GF_OK;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

enum gf_err gf_aggpool_remove_many(struct gf_aggpool *p, const uint64_t *ids, size_t n)
{
	struct ptable drops = {0};
	uint32_t *slots = NULL;
	struct body *nb = NULL;
	size_t nslots = 0, k = 0;
	enum gf_err err = GF_ENOMEM;

	if (!p || (n && !ids))
		return GF_EINVAL;
	if (n == 0)
		return GF_OK;
	/* The ids to remove (each once) and the chunks they are in. */
	if (ptable_reserve(&drops, n) || !(slots = malloc(n * sizeof *slots)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct pkey key = id_key(ids[i]);
		size_t at = ptable_find(&p->ids, &key);
		if (at == SIZE_MAX) {
			err = GF_ENOENT;
			goto out;
		}
		if (ptable_find(&drops, &key) != SIZE_MAX)
			continue;
		ptable_put(&drops, &key, 0);
		slots[nslots++] = p->ids.vals[at];
	}
	qsort(slots, nslots, sizeof *slots, cmp_u32);
	for (size_t i = 0; i < nslots; i++)
		if (k == 0 || slots[i] != slots[k - 1])
			slots[k++] = slots[i];
	/* Each touched chunk rebuilt once, all before the first change. */
	if (!(nb = calloc(k, sizeof *nb)))
		goto out;
	for (size_t i = 0; i < k; i++)
		if ((err = body_rebuild(p, &p->chunks[slots[i]]->body, SIZE_MAX, &drops, NULL, NULL,
		                        0, &nb[i])))
			goto out;
	for (size_t s = 0; s <= drops.mask; s++)
		if (drops.used[s])
			ptable_erase(&p->ids, ptable_find(&p->ids, &drops.keys[s]));
	for (size_t i = 0; i < k; i++)
		chunk_install(p, slots[i], &nb[i]);
	p->members -= drops.count;
	err = GF_OK;
out:
	for (size_t i = 0; nb && i < k; i++)
		body_free(&nb[i]);
	free(nb);
	free(slots);
	ptable_free(&drops);
	return err;
}

enum gf_err gf_aggpool_update(struct gf_aggpool *p, uint64_t id, const struct gf_fo *fo,
                              const struct gf_fo_deadlines *dl)
{
	struct body na, nb;
	struct chunk *fresh = NULL;
	uint32_t target = NONE;
	double w = 0.0;
	struct pkey k = id_key(id);
	size_t at = p ? ptable_find(&p->ids, &k) : SIZE_MAX;
	enum gf_err err;

	if (!p || !fo || fo->n < 1 || !fo->lower || !fo->upper)
		return GF_EINVAL;
	if (at == SIZE_MAX)
		return GF_ENOENT;
	uint32_t s = p->ids.vals[at];
	struct chunk *c = p->chunks[s];
	size_t pos = position_of(&c->body, id);
	struct pkey cell = cell_of(p, fo, &w);
	int production = 0;
	double w_old = gf__agg_weight(&c->body.set, pos, &production);
	memset(&na, 0, sizeof na);
	memset(&nb, 0, sizeof nb);
	/* Same cell and still room where it is: one aggregate changes. */
	if (cell.a == c->cell.a && cell.b == c->cell.b &&
	    !gf__agg_full(&p->cfg, c->body.set.count - 1, c->body.energy - w_old, w)) {
		if ((err = body_prepare(p, &c->body, pos, fo, dl, id, &na)))
			return err;
		chunk_install(p, s, &na);
		return GF_OK;
	}
	if ((err = body_prepare(p, &c->body, pos, NULL, NULL, 0, &na)))
		return err;
	if ((err = place(p, id, fo, dl, &cell, w, s, &nb, &target, &fresh))) {
		body_free(&na);
		return err;
	}
	/* Register the destination before the source may be dropped. */
	uint32_t dest = place_commit(p, target, fresh, &nb);
	chunk_install(p, s, &na);
	p->ids.vals[ptable_find(&p->ids, &k)] = dest;
	return GF_OK;
}

size_t gf_aggpool_count(const struct gf_aggpool *p)
{
	return p->live_count;
}

size_t gf_aggpool_members(const struct gf_aggpool *p)
{
	return p->members;
}

enum gf_err gf_aggpool_get(const struct gf_aggpool *p, size_t a, struct gf_aggpool_view *v)
{
	if (a >= p->live_count)
		return GF_ERANGE;
	const struct body *b = &p->chunks[p->live[a]]->body;
	v->start_after = b->start_after;
	v->tf = b->tf;
	v->n = b->n;
	v->lower = b->lower;
	v->upper = b->upper;
	v->dflt = b->dflt;
	v->total_min = b->total_min;
	v->total_max = b->total_max;
	v->acceptance_before = b->acceptance_before;
	v->assignment_before = b->assignment_before;
	v->tf_loss = b->sum_tf - (int64_t)b->set.count * b->tf;
	v->members = b->set.count;
	v->ids = b->ids;
	v->set = &b->set;
	v->offsets = b->offsets;
	return GF_OK;
}

enum gf_err gf_aggpool_find(const struct gf_aggpool *p, uint64_t id, size_t *a)
{
	struct pkey k = id_key(id);
	size_t at = ptable_find(&p->ids, &k);
	if (at == SIZE_MAX)
		return GF_ENOENT;
	*a = p->chunks[p->ids.vals[at]]->live_pos;
	return GF_OK;
}
