/* SPDX-License-Identifier: MIT */
/*
 * book.c - gf-fmar's order book: takes aggregates from FMAN and bid offers
 * from the DSO FOAs (docs/trading.md), answers each with flexoffer.ack and
 * arms the bids' gate-closure timers (gate.c).
 *
 * Exactly once: a message's key is its sender and the FNV-1a hash of its
 * canonical JSON (the same offer resent is the same key; an update has new
 * content, hence a new key). The key, the offer's row and the ack are one
 * transaction, so a replay after a kill -9 finds the key and does nothing,
 * and a replayed older version never overwrites a newer one.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "agent/kpi.h"
#include "fmar.h"
#include "engine/fo_message.h"
#include "base/log.h"
#include "base/hash.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "base/timefmt.h"

#define REASON_MAX   320
#define OFFER_ID_MAX 192

/* What to answer an offer, and what to do after the commit. */
struct verdict {
	bool accepted;
	char id[OFFER_ID_MAX];
	char reason[REASON_MAX];
	bool arm; /* a bid: arm its timer at gate_s */
	double gate_s;
	bool rearm;   /* an aggregate pulled some bids' gates forward */
	bool reclear; /* an aggregate made some cleared bids' re-clearing due */
};

/* The stored row of an offer, when there is one. */
struct row {
	bool exists;
	char kind[8], sender[GF_ID_MAX + 1], state[16], assigned_by[OFFER_ID_MAX];
};

static bool refuse(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool refuse(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gf_err_vset(v->reason, sizeof(v->reason), GF_EINVAL, fmt, ap);
	va_end(ap);
	v->accepted = false;
	return false;
}

static void text_col(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	snprintf(dst, size, "%s", gf_store_text(st, col));
}

static enum gf_err load_row(struct fmar *f, const char *id, struct row *r)
{
	sqlite3 *db = gf_store_db(f->store);
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_EIO;
	int step;

	memset(r, 0, sizeof(*r));
	if (!(st = gf_store_prepare(
	          f->store,
	          "SELECT kind, sender, state, assigned_by FROM fmar_offer WHERE id = ?")))
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		r->exists = true;
		text_col(st, 0, r->kind, sizeof(r->kind));
		text_col(st, 1, r->sender, sizeof(r->sender));
		text_col(st, 2, r->state, sizeof(r->state));
		text_col(st, 3, r->assigned_by, sizeof(r->assigned_by));
	}
	rc = step == SQLITE_ROW || step == SQLITE_DONE ? GF_OK : GF_EIO;
out:
	if (rc != GF_OK)
		gf_log_err("GF-FMAR-STORE", "cannot read offer %s: %s", id, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Inserts or replaces an offer's row (state held, or canceled). */
static enum gf_err save_row(struct fmar *f, const char *id, const char *kind, const char *sender,
                            const char *bid_id, double gate_s, const char *body, const char *state)
{
	sqlite3 *db = gf_store_db(f->store);
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_EIO;

	if (!(st = gf_store_prepare(
	          f->store, "INSERT OR REPLACE INTO fmar_offer (id, kind, sender, bid_id, gate_s,"
	                    " body, state) VALUES (?, ?, ?, ?, ?, ?, ?)")))
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sender, -1, SQLITE_STATIC);
	if (bid_id)
		sqlite3_bind_text(st, 4, bid_id, -1, SQLITE_STATIC);
	if (isfinite(gate_s))
		sqlite3_bind_double(st, 5, gate_s);
	sqlite3_bind_text(st, 6, body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, state, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = GF_OK;
out:
	if (rc != GF_OK)
		gf_log_err("GF-FMAR-STORE", "cannot save offer %s: %s", id, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

static int32_t interval_now(struct fmar *f)
{
	return (int32_t)floor(gf_agent_now(f->a) / GF_TIME_INTERVAL_S);
}

/* Whether the engine can take an aggregate, and its deadlines are ahead. */
static bool check_aggregate(struct fmar *f, const Goflex__FlexOffer *fo, struct verdict *v)
{
	const struct fmar_conf *c = gf_agent_conf(f->a);
	size_t cap = (size_t)c->max_offer_intervals;
	double *buf = calloc(3 * cap, sizeof(double)), sum = 0;
	struct gf_fo_deadlines dl;
	struct gf_fo o;
	char why[256] = "";
	int32_t now = interval_now(f);
	bool ok = false;

	if (!buf) {
		refuse(v, "out of memory");
		goto out;
	}
	if (gf_fo_from_message(fo, &o, buf, buf + cap, buf + 2 * cap, cap, why, sizeof(why)) !=
	        GF_OK ||
	    gf_fo_deadlines_from_message(fo, &dl, why, sizeof(why)) != GF_OK) {
		refuse(v, "the engine cannot take it: %s",
		       why[0] ? why : "more intervals than max_offer_intervals");
		goto out;
	}
	for (int32_t k = 0; k < o.n; k++) {
		double d = o.dflt ? o.dflt[k] : (o.lower[k] + o.upper[k]) / 2;
		if (!(d >= o.lower[k] - 1e-9 && d <= o.upper[k] + 1e-9)) {
			refuse(v, "defaultSchedule: slice %d is outside its bounds", k);
			goto out;
		}
		sum += d;
	}
	if ((!isnan(o.total_min) && sum < o.total_min - 1e-9) ||
	    (!isnan(o.total_max) && sum > o.total_max + 1e-9)) {
		refuse(v, "defaultSchedule: total %.6g kWh is outside totalEnergyConstraint", sum);
		goto out;
	}
	if (dl.assignment_before <= now || dl.acceptance_before <= now) {
		refuse(v, "its %s deadline (interval %" PRId32 ") has passed (now %" PRId32 ")",
		       dl.assignment_before <= now ? "assignment" : "acceptance",
		       dl.assignment_before <= now ? dl.assignment_before : dl.acceptance_before,
		       now);
		goto out;
	}
	if (o.start_after <= now) {
		refuse(v,
		       "its start window begins at interval %" PRId32 ", not after now (%" PRId32
		       ")",
		       o.start_after, now);
		goto out;
	}
	ok = true;
out:
	free(buf);
	return ok;
}

/* gate_early_s > 0: a bid is cleared before the first aggregate that could
 * serve it expires, not only at its own gate: the gate of every held bid
 * whose intervals meet the aggregate's span comes forward to
 * gate_early_s before the aggregate's assignment deadline (its start when
 * it has none). Without this, a bid far ahead finds the day's offers
 * already started when its gate closes. */
static enum gf_err pull_gates(struct fmar *f, const Goflex__FlexOffer *fo, struct verdict *v)
{
	const struct fmar_conf *c = gf_agent_conf(f->a);
	sqlite3 *db = gf_store_db(f->store);
	sqlite3_stmt *st = NULL;
	int64_t deadline = fo->has_assignmentbeforeinterval ? fo->assignmentbeforeinterval
	                                                    : fo->startafterinterval;
	double gate = (double)deadline * GF_TIME_INTERVAL_S - (double)c->gate_early_s;
	enum gf_err rc = GF_EIO;

	if (c->gate_early_s <= 0)
		return GF_OK;
	if (!(st = gf_store_prepare(
	          f->store,
	          "UPDATE fmar_offer SET gate_s = ?1 WHERE kind = 'bid' AND state = 'held'"
	          " AND gate_s > ?1 AND json_extract(body, '$.startAfterInterval') < ?2"
	          " AND json_extract(body, '$.startAfterInterval')"
	          " + json_array_length(body, '$.flexOfferProfileConstraints') > ?3")))
		goto out;
	sqlite3_bind_double(st, 1, gate);
	sqlite3_bind_int64(st, 2,
	                   fo->startbeforeinterval + (int64_t)fo->n_flexofferprofileconstraints);
	sqlite3_bind_int64(st, 3, fo->startafterinterval);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto out;
	if (sqlite3_changes(db) > 0)
		v->rearm = true;
	rc = GF_OK;
out:
	if (rc != GF_OK)
		gf_log_err("GF-FMAR-STORE", "cannot bring gates forward: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* The other side of pull_gates, for a bid that arrives after the
 * aggregates: gate_early_s before the earliest assignment deadline of the
 * held aggregates whose span meets the bid's intervals (+inf when none or
 * when gate_early_s is 0). */
static double early_gate(struct fmar *f, const Goflex__FlexOffer *bid)
{
	const struct fmar_conf *c = gf_agent_conf(f->a);
	sqlite3_stmt *st = NULL;
	double gate = INFINITY;

	if (c->gate_early_s <= 0)
		return gate;
	if ((st = gf_store_prepare(
	         f->store, "SELECT MIN(COALESCE(json_extract(body, '$.assignmentBeforeInterval'),"
	                   " json_extract(body, '$.startAfterInterval'))) FROM fmar_offer"
	                   " WHERE kind = 'agg' AND state = 'held'"
	                   " AND json_extract(body, '$.startAfterInterval') < ?1"
	                   " AND json_extract(body, '$.startBeforeInterval')"
	                   " + json_array_length(body, '$.flexOfferProfileConstraints') > ?2"))) {
		sqlite3_bind_int64(
		    st, 1, bid->startafterinterval + (int64_t)bid->n_flexofferprofileconstraints);
		sqlite3_bind_int64(st, 2, bid->startafterinterval);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			gate = sqlite3_column_double(st, 0) * GF_TIME_INTERVAL_S -
			       (double)c->gate_early_s;
	}
	sqlite3_finalize(st);
	return gate;
}

static bool take_aggregate(struct fmar *f, const struct gf_message *m, const char *json,
                           struct verdict *v)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m->body;
	bool cancel = fo->state == GOFLEX__FLEX_OFFER_STATE__Canceled;
	size_t n = strlen(m->from_id);
	struct row r;

	if (m->topic.from_role != GF_ROLE_FMAN)
		return refuse(v,
		              "FMAR takes aggregates from FMAN and bid offers (label bid:<bidId>) "
		              "from its DSO FOAs only");
	if (!fo->id)
		return refuse(v, "an aggregate needs its id (<fman-id>-agg-<n>)");
	if (strncmp(fo->id, m->from_id, n) != 0 || fo->id[n] != '-')
		return refuse(v, "aggregate id %s is not fman.%s's (<fman-id>-agg-<n>)", fo->id,
		              m->from_id);
	if (strcmp(fo->offeredbyid, m->from_id) != 0)
		return refuse(v, "offeredById %s is not the sender fman.%s", fo->offeredbyid,
		              m->from_id);
	if (load_row(f, fo->id, &r) != GF_OK)
		return refuse(v, "internal error: the store cannot be read");
	if (r.exists && strcmp(r.state, "assigned") == 0)
		return refuse(v, "already assigned by %s: %s refused", r.assigned_by,
		              cancel ? "cancellation" : "update");
	if (cancel) {
		if (!r.exists)
			return refuse(v, "no such offer to cancel");
		if (save_row(f, fo->id, "agg", m->from_id, NULL, NAN, json, "canceled") != GF_OK)
			return refuse(v, "internal error: the store cannot be written");
		snprintf(v->reason, sizeof(v->reason), "canceled");
		v->accepted = true;
		return true;
	}
	if (fo->state != GOFLEX__FLEX_OFFER_STATE__Offered &&
	    fo->state != GOFLEX__FLEX_OFFER_STATE__Initial)
		return refuse(v, "state %s: FMAR takes Offered (insert, update) or Canceled",
		              protobuf_c_enum_descriptor_get_value(
		                  &goflex__flex_offer_state__descriptor, (int)fo->state)
		                  ->name);
	if (!check_aggregate(f, fo, v))
		return false;
	if (save_row(f, fo->id, "agg", m->from_id, NULL, NAN, json, "held") != GF_OK ||
	    pull_gates(f, fo, v) != GF_OK || fmar_reclear_consider(f, fo, &v->reclear) != GF_OK)
		return refuse(v, "internal error: the store cannot be written");
	snprintf(v->reason, sizeof(v->reason), "%s; held for clearing",
	         r.exists ? "updated" : "received");
	v->accepted = true;
	return true;
}

static bool take_bid(struct fmar *f, const struct gf_message *m, const char *json,
                     struct verdict *v)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m->body;
	const struct fmar_conf *c = gf_agent_conf(f->a);
	const char *bid_id = fo->label + 4;
	bool cancel = fo->state == GOFLEX__FLEX_OFFER_STATE__Canceled;
	size_t cap = (size_t)c->max_offer_intervals;
	double *buf = NULL, now = gf_agent_now(f->a);
	char why[256] = "", gate[GF_TIME_BUFSIZE] = "?";
	struct row r;
	bool ok = false;

	if (m->topic.from_role != GF_ROLE_FOA || !fmar_util_id_listed(c->dso_foa, m->from_id)) {
		refuse(v, "%s.%s is not a DSO FOA of this market (dso_foa): bid offers refused",
		       gf_role_name(m->topic.from_role), m->from_id);
		goto out;
	}
	if (!*bid_id || (fo->id && strcmp(fo->id, v->id) != 0)) {
		refuse(
		    v,
		    "a bid offer is labelled bid:<bidId> and its id is <dso-foa-id>-bid-<bidId>");
		goto out;
	}
	if (load_row(f, v->id, &r) != GF_OK) {
		refuse(v, "internal error: the store cannot be read");
		goto out;
	}
	if (r.exists && (strcmp(r.state, "cleared") == 0 || strcmp(r.state, "executed") == 0)) {
		refuse(v, "bid %s was already %s: %s refused", bid_id, r.state,
		       cancel ? "cancellation" : "update");
		goto out;
	}
	if (cancel) {
		if (!r.exists)
			refuse(v, "no such bid offer to cancel");
		else if (save_row(f, v->id, "bid", m->from_id, bid_id, NAN, json, "canceled") ==
		         GF_OK)
			ok = true,
			snprintf(v->reason, sizeof(v->reason), "bid %s canceled", bid_id);
		goto out;
	}
	buf = calloc(3 * (cap ? cap : 1), sizeof(double));
	if (buf && fmar_refprice_lookup(f, (int32_t)fo->startafterinterval,
	                                fo->n_flexofferprofileconstraints <= cap
	                                    ? fo->n_flexofferprofileconstraints
	                                    : 0,
	                                buf + 2 * cap) != GF_OK) {
		refuse(v, "internal error: the store cannot be read");
		goto out;
	}
	if (!buf || fmar_clearing_parse_bid(fo, buf + 2 * cap, cap, buf, buf + cap, NULL, NULL, why,
	                                    sizeof(why)) < 0) {
		refuse(v, "not a bid offer FMAR can clear: %s", buf ? why : "out of memory");
		goto out;
	}
	if ((double)fo->startafterinterval * GF_TIME_INTERVAL_S <= now) {
		refuse(v, "its first interval %" PRId64 " has begun", fo->startafterinterval);
		goto out;
	}
	v->gate_s = (double)fo->startafterinterval * GF_TIME_INTERVAL_S - (double)c->gate_lead_s;
	v->gate_s = fmin(v->gate_s, early_gate(f, fo));
	if (save_row(f, v->id, "bid", m->from_id, bid_id, v->gate_s, json, "held") != GF_OK) {
		refuse(v, "internal error: the store cannot be written");
		goto out;
	}
	gf_time_format((int64_t)(v->gate_s * 1000), gate, sizeof(gate));
	snprintf(v->reason, sizeof(v->reason), "bid %s %s; clears at %s", bid_id,
	         r.exists ? "updated" : "received", gate);
	v->arm = true;
	ok = true;
out:
	free(buf);
	v->accepted = ok;
	return ok;
}

/* The ack (accepted or refused with its reason) back to the sender. */
static enum gf_err queue_ack(struct fmar *f, const struct gf_message *m, const char *key,
                             const struct verdict *v)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m->body;
	Goflex__FlexOfferAck ack = GOFLEX__FLEX_OFFER_ACK__INIT;

	ack.flexofferid = (char *)v->id;
	ack.accepted = v->accepted;
	ack.reason = (char *)v->reason;
	ack.label = fo->label;
	ack.has_creationinterval = true;
	ack.creationinterval = fo->creationinterval;
	/* Kept as the reply to key: a resent offer whose ack was lost gets it
	 * again. */
	return gf_resend_reply(f->a, f->store, key, gf_role_name(m->topic.from_role), m->from_id,
	                       "flexoffer.ack", &ack.base);
}

/* The offer's id: its own, a bid offer's <d>-bid-<bidId>, else the
 * deterministic <sender>-L<label>-<creationInterval> (docs/trading.md). */
static void offer_id(const struct gf_message *m, bool is_bid, char *buf, size_t size)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m->body;

	if (is_bid)
		snprintf(buf, size, "%s-bid-%s", m->from_id, fo->label + 4);
	else if (fo->id)
		snprintf(buf, size, "%s", fo->id);
	else
		snprintf(buf, size, "%s-L%s-%" PRId64, m->from_id, fo->label ? fo->label : "",
		         fo->creationinterval);
}

/* One offer message, for gf_store_once. */
struct take {
	struct fmar *f;
	const struct gf_message *m;
	const char *json, *key;
	struct verdict *v;
	bool dup;
};

static enum gf_err take(void *arg)
{
	struct take *t = arg;
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)t->m->body;

	if (fo->label && strncmp(fo->label, "bid:", 4) == 0)
		take_bid(t->f, t->m, t->json, t->v);
	else
		take_aggregate(t->f, t->m, t->json, t->v);
	return queue_ack(t->f, t->m, t->key, t->v);
}

/* A duplicate offer (a resend whose ack was lost): its ack again. */
static enum gf_err answer_again(void *arg)
{
	struct take *t = arg;

	t->dup = true;
	return gf_resend_reply_again(t->f->store, t->key, NULL);
}

/* An answer to an assignment: state Assigned, or Rejected with the
 * schedule (FMAN could not carry it out). Never an offer or an update. */
static bool is_echo(const Goflex__FlexOffer *fo)
{
	return fo->state == GOFLEX__FLEX_OFFER_STATE__Assigned ||
	       fo->state == GOFLEX__FLEX_OFFER_STATE__Executed ||
	       (fo->state == GOFLEX__FLEX_OFFER_STATE__Rejected && fo->flexofferschedule);
}

/* An echo's resend key and token, for gf_store_once. */
struct echo {
	struct fmar *f;
	const char *key, *token;
	bool found;
};

static enum gf_err confirm_txn(void *arg)
{
	struct echo *c = arg;

	return gf_resend_answered(c->f->store, c->key, c->token, &c->found);
}

/* The offerer's echo of an assignment (state Assigned, with the schedule
 * it received): the assignment is confirmed and no longer sent again.
 * Nothing else changes; it is not an update of the offer. */
static void confirm(struct fmar *f, const struct gf_message *m)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m->body;
	bool is_bid = fo->label && strncmp(fo->label, "bid:", 4) == 0;
	char id[OFFER_ID_MAX], key[OFFER_ID_MAX + 16], token[32];
	struct echo c = {.f = f};
	size_t n = strlen(m->from_id);

	offer_id(m, is_bid, id, sizeof(id));
	if (strncmp(id, m->from_id, n) != 0 || id[n] != '-') {
		gf_log_notice("GF-FMAR-REFUSED", "echo of %s from %s.%s: not its offer", id,
		              gf_role_name(m->topic.from_role), m->from_id);
		return;
	}
	if (fo->state == GOFLEX__FLEX_OFFER_STATE__Executed) {
		/* The answer to the Executed report (settle.c). */
		snprintf(key, sizeof(key), "exec:%s", id);
		c.key = key;
		if (gf_store_once(f->a, f->store, NULL, confirm_txn, NULL, &c) != GF_OK)
			return;
		gf_log_info("GF-FMAR-CONFIRMED", "execution of %s confirmed by %s.%s%s", id,
		            gf_role_name(m->topic.from_role), m->from_id,
		            c.found ? "" : " (again)");
		return;
	}
	snprintf(key, sizeof(key), "assign:%s", id);
	/* A bid offer's result is updated by re-clearings (updateId = the
	 * round): only the echo of the latest stops its resends. */
	if (fo->flexofferschedule)
		fmar_util_echo_token(
		    token, sizeof(token),
		    fo->flexofferschedule->has_updateid ? fo->flexofferschedule->updateid : 0);
	c.key = key;
	c.token = fo->flexofferschedule ? token : NULL;
	if (gf_store_once(f->a, f->store, NULL, confirm_txn, NULL, &c) != GF_OK)
		return;
	gf_log_info("GF-FMAR-CONFIRMED", "assignment of %s %s by %s.%s%s", id,
	            fo->state == GOFLEX__FLEX_OFFER_STATE__Assigned ? "confirmed" : "refused",
	            gf_role_name(m->topic.from_role), m->from_id, c.found ? "" : " (again)");
}

void fmar_book_message(struct fmar *f, const struct gf_message *m, bool replayed)
{
	struct verdict v = {.gate_s = NAN};
	struct take t = {.f = f, .m = m, .v = &v};
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m->body;
	char key[128 + GF_ID_MAX], *json = NULL;
	size_t len = 0;
	enum gf_err rc;

	if (strcmp(m->msg, "flexoffer") != 0) {
		gf_log_debug("GF-FMAR-IGNORED", "%s from %s.%s is not for FMAR", m->msg,
		             gf_role_name(m->topic.from_role), m->from_id);
		return;
	}
	if (is_echo(fo)) {
		confirm(f, m);
		return;
	}
	if ((rc = gf_codec_to_json(m->body, &json, &len)) != GF_OK) {
		gf_log_err("GF-FMAR-STORE", "cannot encode an offer of %s: %s", m->from_id,
		           gf_strerror(rc));
		return;
	}
	snprintf(key, sizeof(key), "in:%s.%s:%016" PRIx64, gf_role_name(m->topic.from_role),
	         m->from_id, gf_fnv1a64(GF_FNV1A64_BASIS, json, len));
	offer_id(m, fo->label && strncmp(fo->label, "bid:", 4) == 0, v.id, sizeof(v.id));
	t.json = json;
	t.key = key;
	if (gf_store_once(f->a, f->store, key, take, answer_again, &t) != GF_OK)
		goto out;
	if (t.dup)
		gf_log_info("GF-FMAR-DUP", "duplicate%s offer from %s.%s ignored",
		            replayed ? " (replayed)" : "", gf_role_name(m->topic.from_role),
		            m->from_id);
	else if (v.accepted)
		gf_log_info("GF-FMAR-OFFER", "%s from %s.%s: %s", v.id,
		            gf_role_name(m->topic.from_role), m->from_id, v.reason);
	else
		gf_log_notice("GF-FMAR-REFUSED", "%s from %s.%s: %s", v.id,
		              gf_role_name(m->topic.from_role), m->from_id, v.reason);
	if (!t.dup)
		gf_kpi_count(f->a, v.accepted ? "fmar.offers_accepted" : "fmar.offers_refused", 1,
		             NULL);
	fmar_util_outbox_flush(f);
	if (v.arm)
		fmar_gate_arm(f, v.id, v.gate_s);
	if (v.rearm)
		fmar_gate_arm_bids(f);
	if (v.reclear)
		fmar_gate_arm_reclears(f);
out:
	free(json);
}
