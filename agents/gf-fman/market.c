/* SPDX-License-Identifier: MIT */
/*
 * market.c - the FMAR side of gf-fman (docs/fman.md "Aggregates",
 * "Assignments"): the pool's aggregates offered to FMAR under stable ids
 * with revisions, FMAR's acks, and its assignments disaggregated into one
 * schedule per member.
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
#include "base/timefmt.h"

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
	    gf_store_outbox_add(f->store, topic, *json, len, NULL, false) != GF_OK ||
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

/* --- assignments ------------------------------------------------------------------------------ */

/* The schedule's amounts per unit interval into x and their tariffs (the
 * clearing price; NAN where a slice has none) into tar (n of each), and its
 * start interval. */
static bool schedule_read(const Goflex__FlexOfferSchedule *s, int32_t n, double *x, double *tar,
                          int32_t *start, char *reason)
{
	int64_t ms, t = 0;

	if (gf_time_parse(s->starttime, strlen(s->starttime), &ms) != GF_OK || ms % 900000 != 0 ||
	    gf_time_interval(ms) < 0 || gf_time_interval(ms) > INT32_MAX) {
		snprintf(reason, REASON_MAX, "startTime %s is not an interval boundary",
		         s->starttime);
		return false;
	}
	*start = (int32_t)gf_time_interval(ms);
	for (size_t k = 0; k < s->n_scheduleslices; k++) {
		const Goflex__ScheduleSlice *sl = s->scheduleslices[k];
		for (uint32_t d = 0; d < sl->duration; d++, t++)
			if (t < n) {
				x[t] = sl->energyamount;
				tar[t] = sl->has_tariff ? sl->tariff : NAN;
			}
	}
	if (t != n) {
		snprintf(reason, REASON_MAX, "the schedule covers %lld intervals, the aggregate %d",
		         (long long)t, n);
		return false;
	}
	return true;
}

/* Queues member j's schedule and records it. Its slices carry the tariff
 * of the aggregate's interval (tar from agg_start), the price the
 * settlement pays for its delivery (docs/fman.md, "Settlement"). */
static void assign_member(struct fman *f, const struct fman_members *ms, size_t j, const char *agg,
                          const Goflex__FlexOfferSchedule *s, int32_t start, const double *amounts,
                          const double *tar, int32_t agg_start, int32_t agg_n)
{
	Goflex__FlexOfferAssign as = GOFLEX__FLEX_OFFER_ASSIGN__INIT;
	Goflex__FlexOfferSchedule sc = GOFLEX__FLEX_OFFER_SCHEDULE__INIT;
	size_t n = (size_t)ms->set.n[j], off = ms->set.slice_off[j];
	Goflex__ScheduleSlice *sl = calloc(n, sizeof(*sl)), **slp = calloc(n, sizeof(*slp));
	char start_s[40], topic[TOPIC_MAX], key[ID_MAX + 64], *json = NULL;
	size_t len = 0;

	if (!sl || !slp ||
	    gf_time_format((int64_t)start * 900000, start_s, sizeof(start_s)) != GF_OK) {
		fman_util_fail(f, "member schedule");
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		sl[k] = (Goflex__ScheduleSlice)GOFLEX__SCHEDULE_SLICE__INIT;
		sl[k].duration = 1;
		sl[k].energyamount = amounts[off + k];
		int64_t at = (int64_t)start + (int64_t)k - agg_start;
		if (at >= 0 && at < agg_n && !isnan(tar[at])) {
			sl[k].has_tariff = 1;
			sl[k].tariff = tar[at];
		}
		slp[k] = &sl[k];
	}
	sc.has_scheduleid = sc.has_updateid = 1;
	sc.scheduleid = s->has_scheduleid ? s->scheduleid : 0;
	sc.updateid = s->has_updateid ? s->updateid : 0;
	sc.starttime = start_s;
	sc.n_scheduleslices = n;
	sc.scheduleslices = slp;
	as.flexofferid = ms->id[j];
	as.flexofferschedule = &sc;
	as.label = ms->label[j];
	if (gf_message_encode(f->agent, "foa", ms->foa[j], "flexoffer.assign", &as.base, topic,
	                      sizeof(topic), &json, &len) != GF_OK ||
	    gf_store_outbox_add(f->store, topic, json, len, NULL, false) != GF_OK ||
	    gf_resend_keep(f->store, fman_answers_assign_key(key, ms->id[j], &sc), NULL, topic,
	                   json, len) != GF_OK)
		fman_util_fail(f, "member assign");
	else if (gf_store_run(f->store,
	                      "INSERT OR REPLACE INTO assignments (offer, schedule_id, update_id,"
	                      " agg, body) VALUES (?, ?, ?, ?, ?)",
	                      "tiitt", ms->id[j], (int64_t)sc.scheduleid, (int64_t)sc.updateid, agg,
	                      json) != GF_OK)
		fman_util_fail(f, "assignment");
out:
	free(json);
	free(sl);
	free(slp);
}

/* Disaggregates schedule s of revision rev of aggregate agg and queues
 * the members' schedules; false with reason when it cannot. */
static bool disaggregate(struct fman *f, const char *agg, int64_t rev,
                         const Goflex__FlexOfferSchedule *s, struct fman_members *ms, char *reason)
{
	struct gf_aggregate a = {0};
	double *x = NULL, *tar = NULL, *amounts = NULL;
	int32_t *mstart = NULL, start;
	bool ok = false;
	enum gf_err rc;

	if (!fman_members_load(f, agg, rev, ms, reason))
		goto out;
	if (gf_aggregate_build(&ms->set, &f->cfg, &a) != GF_OK || a.count != 1) {
		snprintf(reason, REASON_MAX, "its members no longer form one aggregate");
		goto out;
	}
	x = calloc((size_t)a.n[0], sizeof(*x));
	tar = calloc((size_t)a.n[0], sizeof(*tar));
	amounts = calloc(ms->set.slice_count, sizeof(*amounts));
	mstart = calloc(ms->count, sizeof(*mstart));
	if (!x || !tar || !amounts || !mstart) {
		fman_util_fail(f, "out of memory");
		goto out;
	}
	if (!schedule_read(s, a.n[0], x, tar, &start, reason))
		goto out;
	rc = gf_aggregate_disaggregate(&a, &ms->set, 0, start, x, mstart, amounts);
	if (rc != GF_OK) {
		snprintf(reason, REASON_MAX, "%s",
		         rc == GF_ERANGE
		             ? "the start is outside the aggregate's window"
		             : "the schedule is outside the aggregate's bounds or has no "
		               "split within the members' bounds");
		goto out;
	}
	/* The first assign_part members (default 256, the outbox's window:
	 * more could not leave before this handler ends, their PUBACKs are
	 * read after it) are committed and sent as soon as they are written:
	 * at 9,900 members the whole took 0.6 s before the first schedule
	 * could leave. A kill -9 after that part handles the assignment again
	 * whole (its key is marked with the rest), with the same result: those
	 * members get their schedules again, which their FOAs handle once. The
	 * members become Assigned with the rest, so that a restart between
	 * the two finds them all still in the pool (not a smaller aggregate to
	 * send to FMAR). */
	for (size_t j = 0; j < ms->count && !f->failed; j++) {
		assign_member(f, ms, j, agg, s, mstart[j], amounts, tar, start, a.n[0]);
		if (j + 1 == (size_t)f->conf->assign_part && j + 1 < ms->count && !f->failed) {
			if (gf_store_commit_part(f->store) != GF_OK)
				fman_util_fail(f, "the first part of the assignment");
			else
				fman_util_crash_point("assign-part");
		}
	}
	for (size_t j = 0; j < ms->count && !f->failed; j++)
		if (gf_store_run(f->store, "UPDATE offers SET state = 'Assigned' WHERE pid = ?",
		                 "i", (int64_t)ms->pid[j]) != GF_OK)
			fman_util_fail(f, "offer assigned");
	ok = !f->failed;
out:
	free(x);
	free(tar);
	free(amounts);
	free(mstart);
	gf_aggregate_free(&a);
	return ok;
}

/* One flexoffer.assign of FMAR, for gf_store_once. */
struct assign {
	struct fman *f;
	const struct gf_message *m;
	const char *key;
	int64_t rev; /* the aggregate's latest revision, -1: none; then the assigned one */
	char state[16], reason[REASON_MAX];
	struct fman_members ms;
	bool ok, dup;
};

static enum gf_err assign_again(void *arg)
{
	struct assign *c = arg;

	c->dup = true;
	fman_answers_echo_again(c->f, c->key);
	return fman_util_status(c->f);
}

static enum gf_err assign_take(void *arg)
{
	struct assign *c = arg;
	struct fman *f = c->f;
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)c->m->body;
	const char *agg = as->flexofferid;
	long long num = 0, lrev = 0;
	sqlite3_stmt *st;

	if (c->rev < 0)
		snprintf(c->reason, sizeof(c->reason), "not an aggregate of this FMAN");
	else if (strcmp(c->state, "Canceled") == 0)
		snprintf(c->reason, sizeof(c->reason), "the aggregate was canceled");
	else if (as->label && sscanf(as->label, "agg:%lld:%lld", &num, &lrev) == 2 &&
	         (lrev < 1 || lrev > c->rev))
		snprintf(c->reason, sizeof(c->reason),
		         "revision %lld is unknown (the aggregate is at %lld)", lrev,
		         (long long)c->rev);
	else if (as->label && lrev > 0)
		/* FMAR echoes the label of the content it cleared: that revision's
		 * members are scheduled, if none changed since. */
		c->ok =
		    disaggregate(f, agg, (c->rev = lrev), as->flexofferschedule, &c->ms, c->reason);
	else
		c->ok = disaggregate(f, agg, c->rev, as->flexofferschedule, &c->ms, c->reason);
	if (f->failed)
		return fman_util_status(f);
	if (c->ok) {
		st = fman_util_prepare(f, "UPDATE aggregates SET state = 'Assigned', reason = NULL"
		                          " WHERE id = ?");
		sqlite3_bind_text(st, 1, agg, -1, SQLITE_STATIC);
		exec_or_fail(f, st, "aggregate assigned");
	}
	fman_answers_echo_assign(f, c->m, c->key, c->ok, c->reason);
	fman_util_crash_point("assign-before-commit");
	return fman_util_status(f);
}

void fman_market_fmar_assign(struct fman *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)m->body;
	const Goflex__FlexOfferSchedule *s = as->flexofferschedule;
	const char *agg = as->flexofferid;
	char key[ID_MAX + 64];
	struct assign c = {.f = f, .m = m, .key = key, .rev = -1};
	sqlite3_stmt *st;

	snprintf(key, sizeof(key), "as/%s/%lld/%lld", agg,
	         (long long)(s->has_scheduleid ? s->scheduleid : 0),
	         (long long)(s->has_updateid ? s->updateid : 0));
	st = fman_util_prepare(f, "SELECT rev, state FROM aggregates WHERE id = ?");
	sqlite3_bind_text(st, 1, agg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		c.rev = sqlite3_column_int64(st, 0);
		snprintf(c.state, sizeof(c.state), "%s", gf_store_text(st, 1));
	}
	sqlite3_finalize(st);
	if (f->failed) {
		gf_agent_fail(f->agent, f->failed);
		return;
	}
	if (gf_store_once(f->agent, f->store, key, assign_take, assign_again, &c) != GF_OK)
		goto out;
	if (c.dup) {
		gf_log_info("GF-FMAN-DUP", "fmar.%s's assignment %s: already handled", m->from_id,
		            key + 3);
		goto out;
	}
	fman_util_crash_point("assign-committed");
	/* The member schedules leave first: the pool's bookkeeping below is
	 * FMAN's own and need not delay them. */
	fman_util_flush(f);
	if (c.ok) {
		/* Assigned members leave the pool, all at once (each aggregate
		 * rebuilt once): new offers of their cell form a new aggregate.
		 * A pool that refuses stops the agent: it is rebuilt from the
		 * store (where they are Assigned) at the next start. */
		uint64_t *gone = malloc((c.ms.count ? c.ms.count : 1) * sizeof(*gone));
		size_t ngone = 0;

		for (size_t j = 0; gone && j < c.ms.count; j++)
			if (c.ms.live[j])
				gone[ngone++] = (uint64_t)c.ms.pid[j];
		if (!gone || gf_aggpool_remove_many(f->pool, gone, ngone) != GF_OK) {
			free(gone);
			gf_agent_fail(f->agent, "the pool cannot let the assigned offers go");
			goto out;
		}
		free(gone);
		f->live -= ngone;
		if (ngone)
			f->dirty = true;
		gf_kpi_count(f->agent, "fman.schedules_sent", (double)c.ms.count, NULL);
		gf_log_notice("GF-FMAN-ASSIGN",
		              "%s (revision %lld) assigned by fmar.%s: %zu member "
		              "schedules sent",
		              agg, (long long)c.rev, m->from_id, c.ms.count);
	} else {
		gf_log_warning("GF-FMAN-ASSIGN-REFUSE", "fmar.%s's assignment of %s refused: %s",
		               m->from_id, agg, c.reason);
	}
out:
	fman_members_free(&c.ms);
}
