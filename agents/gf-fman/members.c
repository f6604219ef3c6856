/* SPDX-License-Identifier: MIT */
/*
 * members.c - the members of one revision of an aggregate, loaded for its
 * assignment (docs/fman.md, "Assignments"): who they are (ids, FOAs,
 * labels, whether still in the pool) and their offers as the engine sees
 * them, in the order of the offers' arrival.
 *
 * A member still in the pool is taken from the pool, which holds exactly
 * what its stored offer converts to (added when it was accepted or at the
 * start, updated with it, and the revision's member versions are checked
 * against the offers'); only the others (already assigned by an earlier
 * schedule of the same aggregate) are read back and parsed. Parsing 9,900
 * stored offers, kilobytes of JSON each, was most of the time before the
 * first member schedule left (docs/bench.md).
 */
#include <stdlib.h>
#include <string.h>

#include "fman.h"

#define REASON_MAX 512

void fman_members_free(struct fman_members *ms)
{
	for (size_t i = 0; i < ms->count; i++) {
		free(ms->id[i]);
		free(ms->foa[i]);
		free(ms->label[i]);
	}
	free(ms->pid);
	free(ms->id);
	free(ms->foa);
	free(ms->label);
	free(ms->live);
	gf_fo_set_free(&ms->set);
}

static char *dup_col(struct fman *f, sqlite3_stmt *st, int i)
{
	char *s;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	s = strdup(gf_store_text(st, i));
	if (!s)
		fman_util_fail(f, "out of memory");
	return s;
}

/* Room for cap members. false (fman_util_fail) when out of memory; what *ms
 * holds stays valid for fman_members_free. */
static bool members_grow(struct fman *f, struct fman_members *ms, size_t cap)
{
	int64_t *pid = realloc(ms->pid, cap * sizeof(*pid));
	char **id, **foa, **label;
	bool *live;

	if (pid)
		ms->pid = pid;
	id = realloc(ms->id, cap * sizeof(*id));
	if (id)
		ms->id = id;
	foa = realloc(ms->foa, cap * sizeof(*foa));
	if (foa)
		ms->foa = foa;
	label = realloc(ms->label, cap * sizeof(*label));
	if (label)
		ms->label = label;
	live = realloc(ms->live, cap * sizeof(*live));
	if (live)
		ms->live = live;
	if (pid && id && foa && label && live)
		return true;
	fman_util_fail(f, "out of memory");
	return false;
}

/* Adds fo to ms->set, growing it when full. GF_ENOMEM, GF_EINVAL. */
static enum gf_err set_add(struct fman_members *ms, const struct gf_fo *fo,
                           const struct gf_fo_deadlines *dl)
{
	enum gf_err rc = gf_fo_set_add_with_deadlines(&ms->set, fo, dl);

	if (rc == GF_EFULL &&
	    (rc = gf_fo_set_reserve(&ms->set, ms->set.cap,
	                            2 * ms->set.slice_cap + (size_t)fo->n)) == GF_OK)
		rc = gf_fo_set_add_with_deadlines(&ms->set, fo, dl);
	return rc;
}

/* The aggregates of the pool the members were found in (a revision's
 * members are in one, or a few after the pool split a cell), each with its
 * members' positions by id (sorted), for the members looked up in it. */
struct pool_index {
	struct agg_index {
		size_t a;
		struct gf_aggpool_view v;
		struct at {
			uint64_t id;
			size_t pos;
		} * by_id;
	} * aggs;
	size_t n;
};

static void pool_index_free(struct pool_index *ix)
{
	for (size_t i = 0; i < ix->n; i++)
		free(ix->aggs[i].by_id);
	free(ix->aggs);
}

static int at_cmp(const void *x, const void *y)
{
	const struct at *p = x, *q = y;

	return p->id < q->id ? -1 : p->id > q->id;
}

/* The index of pool aggregate a: found, or made. NULL when out of memory
 * (the offer is parsed instead). */
static struct agg_index *agg_index_of(struct fman *f, struct pool_index *ix, size_t a)
{
	struct agg_index *x, *grown;

	for (size_t i = 0; i < ix->n; i++)
		if (ix->aggs[i].a == a)
			return &ix->aggs[i];
	grown = realloc(ix->aggs, (ix->n + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	ix->aggs = grown;
	x = &ix->aggs[ix->n];
	x->a = a;
	if (gf_aggpool_get(f->pool, a, &x->v) != GF_OK ||
	    !(x->by_id = malloc((x->v.members ? x->v.members : 1) * sizeof(*x->by_id))))
		return NULL;
	for (size_t i = 0; i < x->v.members; i++)
		x->by_id[i] = (struct at){x->v.ids[i], i};
	qsort(x->by_id, x->v.members, sizeof(*x->by_id), at_cmp);
	ix->n++;
	return x;
}

/* Member pid's offer and deadlines from the pool. false when the pool does
 * not hold it (or no memory for the index: the offer is parsed instead). */
static bool from_pool(struct fman *f, struct pool_index *ix, int64_t pid, struct gf_fo *fo,
                      struct gf_fo_deadlines *dl)
{
	struct at key = {.id = (uint64_t)pid}, *hit;
	struct agg_index *x;
	size_t a;

	if (gf_aggpool_find(f->pool, (uint64_t)pid, &a) != GF_OK || !(x = agg_index_of(f, ix, a)))
		return false;
	hit = bsearch(&key, x->by_id, x->v.members, sizeof(*x->by_id), at_cmp);
	if (!hit || gf_fo_set_get(x->v.set, hit->pos, fo) != GF_OK)
		return false;
	dl->acceptance_before = x->v.set->acceptance_before[hit->pos];
	dl->assignment_before = x->v.set->assignment_before[hit->pos];
	return true;
}

/* Member i's offer into ms->set: from the pool when it is there, else its
 * stored offer (body: "SELECT body ... WHERE pid = ?1") parsed. false with
 * reason when it no longer converts. */
static bool member_add(struct fman *f, struct pool_index *ix, sqlite3_stmt *body,
                       struct fman_members *ms, size_t i, char *reason)
{
	struct gf_fo fo;
	struct gf_fo_deadlines dl;
	enum gf_err rc = GF_EINVAL;

	if (ms->live[i] && from_pool(f, ix, ms->pid[i], &fo, &dl)) {
		rc = set_add(ms, &fo, &dl);
	} else {
		int step;

		sqlite3_bind_int64(body, 1, ms->pid[i]);
		step = sqlite3_step(body);
		if (step != SQLITE_ROW)
			fman_util_fail(f, "a member's offer");
		else if (fman_offers_to_engine(f, gf_store_text(body, 0), &fo, &dl) == GF_OK)
			rc = set_add(ms, &fo, &dl);
		sqlite3_reset(body);
		if (step != SQLITE_ROW)
			return false;
	}
	if (rc == GF_ENOMEM)
		fman_util_fail(f, "out of memory");
	else if (rc != GF_OK)
		snprintf(reason, REASON_MAX, "member %s no longer converts", ms->id[i]);
	return rc == GF_OK;
}

bool fman_members_load(struct fman *f, const char *agg, int64_t rev, struct fman_members *ms,
                       char *reason)
{
	/* Listed and sorted without the offers' bodies: sorting a thousand
	 * with them spilled to a temporary file. */
	static const char sql[] =
	    "SELECT o.pid, o.id, o.foa, o.label, o.state, o.version = m.version"
	    " FROM agg_members m JOIN offers o ON o.id = m.offer"
	    " WHERE m.agg = ?1 AND m.rev = ?2 ORDER BY o.pid";
	sqlite3_stmt *st = fman_util_prepare(f, sql);
	sqlite3_stmt *body = NULL;
	struct pool_index ix = {0};
	size_t cap = 0;
	bool ok = true;
	int step = SQLITE_DONE;

	memset(ms, 0, sizeof(*ms));
	sqlite3_bind_text(st, 1, agg, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rev);
	while (ok && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *state = gf_store_text(st, 4);
		if (ms->count == cap) {
			cap = cap ? 2 * cap : 16;
			if (!members_grow(f, ms, cap)) {
				ok = false;
				break;
			}
		}
		ms->pid[ms->count] = sqlite3_column_int64(st, 0);
		ms->id[ms->count] = dup_col(f, st, 1);
		ms->foa[ms->count] = dup_col(f, st, 2);
		ms->label[ms->count] = dup_col(f, st, 3);
		ms->live[ms->count] = strcmp(state, "Accepted") == 0;
		ms->count++;
		if (strcmp(state, "Canceled") == 0 || sqlite3_column_int(st, 5) == 0) {
			snprintf(reason, REASON_MAX, "member %s changed since this revision",
			         gf_store_text(st, 1));
			ok = false;
		}
	}
	/* A list cut short by a failing store is not the list. */
	if (ok && step != SQLITE_DONE)
		fman_util_fail(f, "the members of an aggregate");
	sqlite3_finalize(st);
	if (ok && ms->count == 0) {
		snprintf(reason, REASON_MAX, "revision %lld has no members", (long long)rev);
		ok = false;
	}
	if (ok && f->failed)
		ok = false;
	/* Room for a day of quarter hours each; grown when offers are longer. */
	if (ok && gf_fo_set_init(&ms->set, ms->count, ms->count * 96) != GF_OK) {
		fman_util_fail(f, "out of memory");
		ok = false;
	}
	if (ok)
		body = fman_util_prepare(f, "SELECT body FROM offers WHERE pid = ?1");
	for (size_t i = 0; ok && body && i < ms->count; i++)
		ok = member_add(f, &ix, body, ms, i, reason) && !f->failed;
	sqlite3_finalize(body);
	pool_index_free(&ix);
	return ok && !f->failed;
}
