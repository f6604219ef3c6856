/* SPDX-License-Identifier: MIT */
/*
 * market.c - the FMAR side of gf-fman (docs/fman.md "Aggregates"): the
 * pool's aggregates offered to FMAR under stable ids with revisions, and
 * FMAR's acks (its assignments: assign.c).
 *
 * Stable ids: the pool numbers its aggregates densely and renumbers them
 * when one disappears, so each published aggregate has its own id
 * "<fman-id>-agg-<n>", and every offer remembers the aggregate it was last
 * published in (offers.agg). At each aggregation a pool aggregate takes the
 * id of its first member's aggregate when that one is still open and not
 * yet taken in this round, else a new one; open aggregates no pool
 * aggregate took are Canceled.
 *
 * Revisions: an aggregate is sent again only when its content or its
 * member set changed (a hash of both); each sending raises its revision,
 * carried in the label "agg:<n>:<rev>", and records the members with their
 * offer versions (agg_members). An assignment is disaggregated over the
 * members of the revision it names (FMAR echoes the label of the content it
 * cleared, which may be older than FMAN's latest), rebuilt from the stored
 * offers with the same configuration; it is refused when one of those
 * members changed since (updated, canceled). Members of a later revision
 * that were not in the assigned one stay in the pool and form a new
 * aggregate.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "agent/kpi.h"
#include "fman.h"
#include "engine/fo_message.h"
#include "base/log.h"
#include "base/hash.h"
#include "agent/once.h"
#include "agent/resend.h"

#define ID_MAX     256
#define REASON_MAX 512
#define TOPIC_MAX  512

static void exec_or_fail(struct fman *f, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		fman_util_fail(f, what);
	sqlite3_finalize(st);
}

/* --- building an aggregate's FlexOffer ----------------------------------------------- */

/* The message of view v into *out (gf_fo_message_free); the tariffs are the
 * highest any member asks (tmin, tmax: NaN when no member has one), so FMAR
 * never pays a member less than it asked. GF_ENOMEM. */
static enum gf_err aggmsg_build(struct fman *f, const struct gf_aggpool_view *v, const char *id,
                                int64_t created, double tmin, double tmax, Goflex__FlexOffer **out)
{
	size_t n = (size_t)v->n;
	int64_t sb = (int64_t)v->start_after + v->tf;
	double *dflt = malloc((n ? n : 1) * sizeof(*dflt));
	struct gf_fo e = {
	    .start_after = v->start_after,
	    .tf = v->tf,
	    .n = v->n,
	    .lower = v->lower,
	    .upper = v->upper,
	    .dflt = dflt,
	    .total_min = v->total_min,
	    .total_max = v->total_max,
	    .tariff_min = NAN,
	    .tariff_max = NAN,
	};
	struct gf_fo_message_head h = {
	    .id = id,
	    .offered_by = gf_bus_id(gf_agent_bus(f->agent)),
	    .state = GOFLEX__FLEX_OFFER_STATE__Offered,
	    .creation = created < v->start_after ? created : v->start_after,
	    .acceptance_before = GF_FO_NO_DEADLINE,
	    .assignment_before = GF_FO_NO_DEADLINE,
	};
	enum gf_err rc;

	if (!dflt)
		return GF_ENOMEM;
	/* Inside [lower, upper] exactly, whatever the summation order. */
	for (size_t k = 0; k < n; k++)
		dflt[k] = fmin(fmax(v->dflt[k], v->lower[k]), v->upper[k]);
	/* The broker wants deadlines inside the start window; with a tf
	 * tolerance > 0 the members' minimum may lie beyond it. */
	if (v->acceptance_before != GF_FO_NO_DEADLINE)
		h.acceptance_before = v->acceptance_before < sb ? v->acceptance_before : sb;
	if (v->assignment_before != GF_FO_NO_DEADLINE)
		h.assignment_before = v->assignment_before < sb ? v->assignment_before : sb;
	if (!isnan(tmin) || !isnan(tmax)) {
		e.tariff_min = isnan(tmin) ? 0 : tmin;
		e.tariff_max = fmax(isnan(tmax) ? 0 : tmax, e.tariff_min);
	}
	rc = gf_fo_to_message(&e, &h, out);
	free(dflt);
	return rc;
}

/* Queues msg (a FlexOffer) to FMAR; *json (the caller frees) gets its text.
 * It is sent again until FMAR acks this revision (its label). */
static void queue_to_fmar(struct fman *f, const Goflex__FlexOffer *msg, char **json)
{
	char topic[TOPIC_MAX], key[ID_MAX + 8];
	size_t len = 0;

	snprintf(key, sizeof(key), "agg:%s", msg->id);
	if (gf_message_encode(f->agent, "fmar", f->conf->fmar_id, "flexoffer", &msg->base, topic,
	                      sizeof(topic), json, &len) != GF_OK ||
	    gf_resend_keep(f->store, key, msg->label, topic, *json, len) != GF_OK)
		fman_util_fail(f, "aggregate to FMAR");
}

/* --- aggregation ----------------------------------------------------------------------- */

struct round {
	struct fman *f;
	size_t count; /* the pool's aggregates */
	char **claimed;
	size_t nclaimed;
	size_t sent, canceled;
};

static bool claimed(const struct round *r, const char *id)
{
	for (size_t i = 0; i < r->nclaimed; i++)
		if (strcmp(r->claimed[i], id) == 0)
			return true;
	return false;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int64_t next_counter(struct fman *f, const char *name)
{
	sqlite3_stmt *st = fman_util_prepare(f, "INSERT INTO counters (name, value) VALUES (?, 1)"
	                                        " ON CONFLICT(name) DO UPDATE SET value = value + 1"
	                                        " RETURNING value");
	int64_t v = 0;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		fman_util_fail(f, "counter");
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Chooses the id of pool aggregate v (see the top of this file) and
 * records it on every member; *tmin, *tmax get the members' tariffs. */
static void choose_id(struct fman *f, const struct gf_aggpool_view *v, struct round *r,
                      char id[ID_MAX], double *tmin, double *tmax)
{
	sqlite3_stmt *st =
	    fman_util_prepare(f, "SELECT o.agg, o.tariff_min, o.tariff_max, a.state"
	                         " FROM offers o LEFT JOIN aggregates a ON a.id = o.agg"
	                         " WHERE o.pid = ?");
	sqlite3_stmt *up;

	id[0] = '\0';
	*tmin = *tmax = NAN;
	for (size_t i = 0; i < v->members; i++) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)v->ids[i]);
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *state = gf_store_text(st, 3);
			if (!id[0] && sqlite3_column_type(st, 0) != SQLITE_NULL &&
			    (strcmp(state, "Offered") == 0 || strcmp(state, "Accepted") == 0 ||
			     strcmp(state, "Rejected") == 0) &&
			    !claimed(r, gf_store_text(st, 0)))
				snprintf(id, ID_MAX, "%s", gf_store_text(st, 0));
			if (sqlite3_column_type(st, 1) != SQLITE_NULL)
				*tmin = fmax(isnan(*tmin) ? -INFINITY : *tmin,
				             sqlite3_column_double(st, 1));
			if (sqlite3_column_type(st, 2) != SQLITE_NULL)
				*tmax = fmax(isnan(*tmax) ? -INFINITY : *tmax,
				             sqlite3_column_double(st, 2));
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (!id[0]) {
		int64_t n = next_counter(f, "aggregate");
		snprintf(id, ID_MAX, "%s-agg-%lld", gf_bus_id(gf_agent_bus(f->agent)),
		         (long long)n);
		st = fman_util_prepare(f, "INSERT INTO aggregates (id, num, rev, state, created)"
		                          " VALUES (?, ?, 0, 'New', ?)");
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, n);
		sqlite3_bind_int64(st, 3, fman_util_now_interval(f));
		exec_or_fail(f, st, "new aggregate");
	}
	r->claimed[r->nclaimed] = strdup(id);
	if (!r->claimed[r->nclaimed]) {
		fman_util_fail(f, "out of memory");
		return;
	}
	r->nclaimed++;
	up = fman_util_prepare(f, "UPDATE offers SET agg = ? WHERE pid = ?");
	for (size_t i = 0; i < v->members; i++) {
		sqlite3_bind_text(up, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, (sqlite3_int64)v->ids[i]);
		if (sqlite3_step(up) != SQLITE_DONE)
			fman_util_fail(f, "offer's aggregate");
		sqlite3_reset(up);
	}
	sqlite3_finalize(up);
}

/* The hash of an aggregate: its message without label, and its members. */
static void agg_hash(struct fman *f, const char *json, size_t len, const struct gf_aggpool_view *v,
                     char out[17])
{
	size_t n = v->members;
	uint64_t *ids = malloc((n ? n : 1) * sizeof(*ids));
	uint64_t h;

	out[0] = '\0';
	if (!ids) {
		fman_util_fail(f, "out of memory");
		return;
	}
	memcpy(ids, v->ids, n * sizeof(*ids));
	qsort(ids, n, sizeof(*ids), cmp_u64);
	/* The hash of json followed by the sorted ids, as one buffer would give. */
	h = gf_fnv1a64(GF_FNV1A64_BASIS, json, len);
	h = gf_fnv1a64(h, ids, n * sizeof(*ids));
	snprintf(out, GF_FNV1A64_HEXSIZE, "%016llx", (unsigned long long)h);
	free(ids);
}

static void record_members(struct fman *f, const char *id, int64_t rev,
                           const struct gf_aggpool_view *v)
{
	sqlite3_stmt *st =
	    fman_util_prepare(f, "INSERT OR REPLACE INTO agg_members (agg, rev, offer,"
	                         " version) SELECT ?, ?, id, version FROM offers"
	                         " WHERE pid = ?");

	for (size_t i = 0; i < v->members; i++) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, rev);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)v->ids[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			fman_util_fail(f, "aggregate members");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

static void publish_one(struct fman *f, const struct gf_aggpool_view *v, struct round *r)
{
	char id[ID_MAX], hash[17], label[64], *json = NULL;
	Goflex__FlexOffer *msg = NULL;
	double tmin, tmax;
	int64_t num, rev, created;
	size_t len = 0;
	sqlite3_stmt *st;
	bool same;

	choose_id(f, v, r, id, &tmin, &tmax);
	if (f->failed)
		return;
	st = fman_util_prepare(f, "SELECT num, rev, created, hash FROM aggregates WHERE id = ?");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		fman_util_fail(f, "aggregate row");
		sqlite3_finalize(st);
		return;
	}
	num = sqlite3_column_int64(st, 0);
	rev = sqlite3_column_int64(st, 1);
	created = sqlite3_column_int64(st, 2);
	if (aggmsg_build(f, v, id, created, tmin, tmax, &msg) != GF_OK ||
	    gf_codec_to_json(&msg->base, &json, &len) != GF_OK) {
		fman_util_fail(f, "aggregate message");
		sqlite3_finalize(st);
		goto out;
	}
	agg_hash(f, json, len, v, hash);
	same = strcmp(gf_store_text(st, 3), hash) == 0;
	sqlite3_finalize(st);
	free(json);
	json = NULL;
	if (!same) {
		rev++;
		snprintf(label, sizeof(label), "agg:%lld:%lld", (long long)num, (long long)rev);
		msg->label = label;
		queue_to_fmar(f, msg, &json);
		st = fman_util_prepare(f,
		                       "UPDATE aggregates SET rev = ?, state = 'Offered', hash = ?,"
		                       " body = ?, reason = NULL WHERE id = ?");
		sqlite3_bind_int64(st, 1, rev);
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
		exec_or_fail(f, st, "aggregate revision");
		record_members(f, id, rev, v);
		r->sent++;
		gf_log_info(
		    "GF-FMAN-AGGREGATE", "%s revision %lld: %zu members, start %d..%d, %d slices",
		    id, (long long)rev, v->members, v->start_after, v->start_after + v->tf, v->n);
	}
out:
	free(json);
	gf_fo_message_free(msg);
}

/* Open aggregates no pool aggregate took: Canceled to FMAR. */
static void cancel_unclaimed(struct fman *f, struct round *r)
{
	sqlite3_stmt *st =
	    fman_util_prepare(f, "SELECT id, num, rev, body FROM aggregates"
	                         " WHERE state IN ('Offered', 'Accepted', 'Rejected')");

	while (sqlite3_step(st) == SQLITE_ROW) {
		ProtobufCMessage *m = NULL;
		Goflex__FlexOffer *fo;
		char label[64], *json = NULL;
		int64_t rev = sqlite3_column_int64(st, 2) + 1;
		const char *body = gf_store_text(st, 3);
		sqlite3_stmt *up;

		if (claimed(r, gf_store_text(st, 0)))
			continue;
		if (gf_codec_from_json(&goflex__flex_offer__descriptor, body, strlen(body), &m,
		                       NULL, 0) != GF_OK) {
			fman_util_fail(f, "stored aggregate");
			break;
		}
		fo = (Goflex__FlexOffer *)m;
		fo->state = GOFLEX__FLEX_OFFER_STATE__Canceled;
		snprintf(label, sizeof(label), "agg:%lld:%lld",
		         (long long)sqlite3_column_int64(st, 1), (long long)rev);
		fo->label = label;
		queue_to_fmar(f, fo, &json);
		fo->label = NULL;
		gf_codec_free(m);
		up = fman_util_prepare(
		    f, "UPDATE aggregates SET rev = ?, state = 'Canceled', hash = NULL,"
		       " body = ? WHERE id = ?");
		sqlite3_bind_int64(up, 1, rev);
		sqlite3_bind_text(up, 2, json, -1, SQLITE_STATIC);
		sqlite3_bind_text(up, 3, gf_store_text(st, 0), -1, SQLITE_TRANSIENT);
		exec_or_fail(f, up, "aggregate canceled");
		free(json);
		r->canceled++;
		gf_log_info("GF-FMAN-AGGREGATE", "%s revision %lld: no members left, canceled",
		            gf_store_text(st, 0), (long long)rev);
	}
	sqlite3_finalize(st);
}

static enum gf_err aggregate_txn(void *arg)
{
	struct round *r = arg;
	struct fman *f = r->f;

	for (size_t a = 0; a < r->count && !f->failed; a++) {
		struct gf_aggpool_view v;
		if (gf_aggpool_get(f->pool, a, &v) == GF_OK)
			publish_one(f, &v, r);
	}
	if (!f->failed)
		cancel_unclaimed(f, r);
	return fman_util_status(f);
}

enum gf_err fman_market_aggregate(struct fman *f)
{
	struct round r = {.f = f, .count = gf_aggpool_count(f->pool)};
	enum gf_err rc = GF_ENOMEM;

	r.claimed = calloc(r.count + 1, sizeof(*r.claimed));
	if (!r.claimed) {
		gf_agent_fail(f->agent, "out of memory for an aggregation");
		return rc;
	}
	/* A failure stops the agent: the pool is rebuilt from the store at
	 * the next start and aggregated again. */
	rc = gf_store_once(f->agent, f->store, NULL, aggregate_txn, NULL, &r);
	for (size_t i = 0; i < r.nclaimed; i++)
		free(r.claimed[i]);
	free(r.claimed);
	if (rc != GF_OK)
		return rc;
	f->dirty = false;
	fman_util_flush(f);
	gf_kpi_count(f->agent, "fman.aggregates_sent", (double)r.sent, NULL);
	gf_kpi_gauge(f->agent, "fman.offers_live", (double)f->live, NULL);
	if (r.sent || r.canceled)
		gf_log_notice("GF-FMAN-AGGREGATED",
		              "%zu aggregates of %zu offers: %zu sent to fmar.%s, %zu canceled",
		              r.count, f->live, r.sent, f->conf->fmar_id, r.canceled);
	return GF_OK;
}

/* --- FMAR's answers ------------------------------------------------------------------------ */

/* One flexoffer.ack of FMAR, for gf_store_once. */
struct ack {
	struct fman *f;
	const Goflex__FlexOfferAck *ack;
	bool open, dup;
};

/* The revision the ack names (its label) is no longer sent again, whether
 * the ack is a duplicate or not. */
static enum gf_err ack_resends(struct ack *c)
{
	char key[ID_MAX + 8];

	snprintf(key, sizeof(key), "agg:%s", c->ack->flexofferid);
	return gf_resend_answered(c->f->store, key, c->ack->label ? c->ack->label : "", NULL);
}

static enum gf_err ack_again(void *arg)
{
	struct ack *c = arg;

	c->dup = true;
	return ack_resends(c);
}

static enum gf_err ack_take(void *arg)
{
	struct ack *c = arg;
	struct fman *f = c->f;
	sqlite3_stmt *st;
	enum gf_err rc = ack_resends(c);

	if (rc != GF_OK || !c->open)
		return rc;
	st = fman_util_prepare(f, "UPDATE aggregates SET state = ?, reason = ? WHERE id = ?");
	sqlite3_bind_text(st, 1, c->ack->accepted ? "Accepted" : "Rejected", -1, SQLITE_STATIC);
	if (c->ack->reason)
		sqlite3_bind_text(st, 2, c->ack->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->ack->flexofferid, -1, SQLITE_STATIC);
	exec_or_fail(f, st, "aggregate ack");
	return fman_util_status(f);
}

void fman_market_fmar_ack(struct fman *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAck *ack = (const Goflex__FlexOfferAck *)m->body;
	struct ack c = {.f = f, .ack = ack};
	char key[ID_MAX + 64];
	sqlite3_stmt *st;
	int64_t rev = -1;

	st = fman_util_prepare(f, "SELECT rev, state FROM aggregates WHERE id = ?");
	sqlite3_bind_text(st, 1, ack->flexofferid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rev = sqlite3_column_int64(st, 0);
		c.open = strcmp(gf_store_text(st, 1), "Offered") == 0 ||
		         strcmp(gf_store_text(st, 1), "Accepted") == 0 ||
		         strcmp(gf_store_text(st, 1), "Rejected") == 0;
	}
	sqlite3_finalize(st);
	if (f->failed) {
		gf_agent_fail(f->agent, f->failed);
		return;
	}
	snprintf(key, sizeof(key), "ak/%s/%lld/%d", ack->flexofferid, (long long)rev,
	         ack->accepted ? 1 : 0);
	if (gf_store_once(f->agent, f->store, key, ack_take, ack_again, &c) != GF_OK)
		return;
	if (c.dup)
		gf_log_info("GF-FMAN-DUP", "fmar.%s's ack of %s: already handled", m->from_id,
		            ack->flexofferid);
	else if (rev < 0)
		gf_log_warning("GF-FMAN-FMAR-ACK",
		               "fmar.%s acks %s, which is not an aggregate of "
		               "this FMAN",
		               m->from_id, ack->flexofferid);
	else
		gf_log_info("GF-FMAN-FMAR-ACK", "fmar.%s %s %s (revision %lld)%s%s", m->from_id,
		            ack->accepted ? "accepts" : "rejects", ack->flexofferid, (long long)rev,
		            ack->reason ? ": " : "", ack->reason ? ack->reason : "");
}
