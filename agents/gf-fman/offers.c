/* SPDX-License-Identifier: MIT */
/*
 * offers.c - FOAs' offers in: validation, acknowledgement, update, delete
 * (docs/fman.md "Offers"); meter readings; the pool rebuilt at start.
 *
 * Idempotency (docs/trading.md): an offer message whose content equals the
 * offer's last accepted content is a duplicate and is dropped; any other is
 * keyed "fo/<id>/<content hash>/<offer version>", so a refused message
 * replayed is dropped too, while the same content sent again after an
 * accepted change (A, B, A) is a new update.
 */
#include <stdarg.h>
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
#include "meter.pb-c.h"

const char fman_offers_schema[] =
    "CREATE TABLE IF NOT EXISTS offers (pid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " foa TEXT NOT NULL, state TEXT NOT NULL, hash TEXT NOT NULL, version INTEGER NOT NULL,"
    " label TEXT, tariff_min REAL, tariff_max REAL, body TEXT NOT NULL, agg TEXT);"
    "CREATE TABLE IF NOT EXISTS aggregates (id TEXT PRIMARY KEY, num INTEGER NOT NULL,"
    " rev INTEGER NOT NULL, state TEXT NOT NULL, hash TEXT, body TEXT,"
    " created INTEGER NOT NULL, reason TEXT);"
    "CREATE TABLE IF NOT EXISTS agg_members (agg TEXT NOT NULL, rev INTEGER NOT NULL,"
    " offer TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (agg, rev, offer))"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS assignments (offer TEXT NOT NULL, schedule_id INTEGER NOT NULL,"
    " update_id INTEGER NOT NULL, agg TEXT NOT NULL, body TEXT NOT NULL,"
    " PRIMARY KEY (offer, schedule_id, update_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS assign_parts (key TEXT PRIMARY KEY, sent INTEGER NOT NULL,"
    " rev INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meter_readings (foa TEXT NOT NULL, device TEXT NOT NULL,"
    " observed TEXT NOT NULL, obis TEXT NOT NULL, value REAL NOT NULL, unit TEXT,"
    " PRIMARY KEY (foa, device, observed, obis)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    " WITHOUT ROWID;";

#define ID_MAX     256
#define REASON_MAX 512

/* What the database knows of an offer id. */
struct row {
	bool found, live; /* live: state Accepted, a member of the pool */
	int64_t pid, version;
	char foa[ID_MAX], state[16], hash[17];
};

static void copy_col(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	snprintf(dst, size, "%s", gf_store_text(st, i));
}

static void load_row(struct fman *f, const char *id, struct row *r)
{
	sqlite3_stmt *st =
	    fman_util_prepare(f, "SELECT pid, foa, state, hash, version FROM offers WHERE id = ?");

	memset(r, 0, sizeof(*r));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		r->found = true;
		r->pid = sqlite3_column_int64(st, 0);
		copy_col(st, 1, r->foa, sizeof(r->foa));
		copy_col(st, 2, r->state, sizeof(r->state));
		copy_col(st, 3, r->hash, sizeof(r->hash));
		r->version = sqlite3_column_int64(st, 4);
		r->live = strcmp(r->state, "Accepted") == 0;
	}
	sqlite3_finalize(st);
}

/* The offer's id; an offer sent without one gets a deterministic id
 * (docs/trading.md "Offer ids"). */
static void offer_id(const Goflex__FlexOffer *fo, const char *foa, char id[ID_MAX])
{
	if (fo->id && fo->id[0])
		snprintf(id, ID_MAX, "%s", fo->id);
	else
		snprintf(id, ID_MAX, "%s-L%s-%lld", foa, fo->label ? fo->label : "",
		         (long long)fo->creationinterval);
}

static bool refuse(char *reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool refuse(char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gf_err_vset(reason, REASON_MAX, GF_EINVAL, fmt, ap);
	va_end(ap);
	return false;
}

/* The engine's view of the offer and its deadlines against the clock. */
static bool validate(struct fman *f, const Goflex__FlexOffer *fo, struct gf_fo *e,
                     struct gf_fo_deadlines *dl, char *reason)
{
	int64_t now = fman_util_now_interval(f);
	enum gf_err rc;

	rc = gf_fo_from_message(fo, e, f->lo, f->hi, f->df, (size_t)f->conf->max_slices, reason,
	                        REASON_MAX);
	if (rc == GF_ERANGE)
		return refuse(reason, "a profile of %zu slices; this FMAN takes at most %ld",
		              fo->n_flexofferprofileconstraints, f->conf->max_slices);
	if (rc != GF_OK || gf_fo_deadlines_from_message(fo, dl, reason, REASON_MAX) != GF_OK)
		return false;
	if (fo->has_acceptancebeforeinterval && fo->acceptancebeforeinterval <= now)
		return refuse(reason, "acceptanceBeforeInterval %lld has passed (now %lld)",
		              (long long)fo->acceptancebeforeinterval, (long long)now);
	if (fo->has_assignmentbeforeinterval && fo->assignmentbeforeinterval <= now)
		return refuse(reason, "assignmentBeforeInterval %lld has passed (now %lld)",
		              (long long)fo->assignmentbeforeinterval, (long long)now);
	if (fo->startbeforeinterval <= now)
		return refuse(reason,
		              "the start window ends at interval %lld, which has passed "
		              "(now %lld)",
		              (long long)fo->startbeforeinterval, (long long)now);
	return true;
}

static void exec_or_fail(struct fman *f, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		fman_util_fail(f, what);
	sqlite3_finalize(st);
}

static void store_state(struct fman *f, const struct row *old, const char *state, const char *hash)
{
	sqlite3_stmt *st =
	    fman_util_prepare(f, "UPDATE offers SET state = ?, hash = ?, version = version + 1"
	                         " WHERE pid = ?");

	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, old->pid);
	exec_or_fail(f, st, "offer state");
}

static bool cancel(struct fman *f, const char *id, const struct row *old, const char *hash,
                   char *reason)
{
	if (!old->found)
		return refuse(reason, "no offer %s to cancel", id);
	if (strcmp(old->state, "Assigned") == 0 || strcmp(old->state, "Executed") == 0)
		return refuse(reason, "offer %s is already %s; it can no longer be canceled", id,
		              old->state[0] == 'A' ? "assigned" : "executed");
	if (old->live) {
		if (gf_aggpool_remove(f->pool, (uint64_t)old->pid) != GF_OK)
			return refuse(reason, "FMAN cannot take the offer out of its pool now");
		f->live--;
		f->dirty = true;
		snprintf(reason, REASON_MAX, "canceled");
	} else {
		snprintf(reason, REASON_MAX, "already canceled");
	}
	store_state(f, old, "Canceled", hash);
	return true;
}

static void store_offer(struct fman *f, const Goflex__FlexOffer *fo, const char *id,
                        const char *foa, int64_t pid, const struct gf_fo *e, const char *hash,
                        const char *json)
{
	sqlite3_stmt *st = fman_util_prepare(
	    f, "INSERT INTO offers (pid, id, foa, state, hash, version, label, tariff_min,"
	       " tariff_max, body) VALUES (?1, ?2, ?3, 'Accepted', ?4, 1, ?5, ?6, ?7, ?8)"
	       " ON CONFLICT(id) DO UPDATE SET state = 'Accepted', hash = ?4,"
	       " version = version + 1, label = ?5, tariff_min = ?6, tariff_max = ?7, body = ?8");

	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, foa, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
	if (fo->label)
		sqlite3_bind_text(st, 5, fo->label, -1, SQLITE_STATIC);
	if (e->tariff_min == e->tariff_min)
		sqlite3_bind_double(st, 6, e->tariff_min);
	if (e->tariff_max == e->tariff_max)
		sqlite3_bind_double(st, 7, e->tariff_max);
	sqlite3_bind_text(st, 8, json, -1, SQLITE_STATIC);
	exec_or_fail(f, st, "offer row");
}

static int64_t next_pid(struct fman *f)
{
	sqlite3_stmt *st = fman_util_prepare(f, "SELECT IFNULL(MAX(pid), 0) + 1 FROM offers");
	int64_t pid = 1;

	if (sqlite3_step(st) == SQLITE_ROW)
		pid = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return pid;
}

/* Decides on one offer message; when it is accepted, the pool and the
 * offers table are changed (inside the caller's transaction). */
static bool decide(struct fman *f, const struct gf_message *m, const Goflex__FlexOffer *fo,
                   const char *id, const char *hash, const char *json, const struct row *old,
                   char *reason)
{
	const char *foa = m->from_id;
	size_t n = strlen(foa);
	struct gf_fo e;
	struct gf_fo_deadlines dl;
	int64_t pid;
	enum gf_err rc;

	if (strncmp(id, foa, n) != 0 || id[n] != '-')
		return refuse(reason, "offer id %s is not one of FOA %s's (<foa-id>-<n>)", id, foa);
	if (strcmp(fo->offeredbyid, foa) != 0)
		return refuse(reason, "offeredById %s is not the sending FOA %s", fo->offeredbyid,
		              foa);
	if (old->found && strcmp(old->foa, foa) != 0)
		return refuse(reason, "offer id %s belongs to another FOA", id);
	if (fo->state == GOFLEX__FLEX_OFFER_STATE__Canceled)
		return cancel(f, id, old, hash, reason);
	if (fo->state != GOFLEX__FLEX_OFFER_STATE__Offered &&
	    fo->state != GOFLEX__FLEX_OFFER_STATE__Initial)
		return refuse(reason,
		              "state %s: an FOA sends Offered (insert, update) or Canceled "
		              "(delete)",
		              protobuf_c_enum_descriptor_get_value(
		                  &goflex__flex_offer_state__descriptor, (int)fo->state)
		                  ->name);
	if (old->found &&
	    (strcmp(old->state, "Assigned") == 0 || strcmp(old->state, "Executed") == 0))
		return refuse(reason, "offer %s is already %s; it can no longer be updated", id,
		              old->state[0] == 'A' ? "assigned" : "executed");
	if (!old->live && f->live >= (size_t)f->conf->max_offers)
		return refuse(reason, "this FMAN holds its maximum of %ld offers",
		              f->conf->max_offers);
	if (!validate(f, fo, &e, &dl, reason))
		return false;
	pid = old->found ? old->pid : next_pid(f);
	rc = old->live ? gf_aggpool_update(f->pool, (uint64_t)pid, &e, &dl)
	               : gf_aggpool_add(f->pool, (uint64_t)pid, &e, &dl);
	if (rc == GF_EINVAL)
		return refuse(reason, "the engine refuses the offer: a slice with lower > upper, a "
		                      "default schedule outside the bounds, or total bounds "
		                      "crossed");
	if (rc != GF_OK)
		return refuse(reason, "FMAN cannot take the offer now: %s", gf_strerror(rc));
	store_offer(f, fo, id, foa, pid, &e, hash, json);
	if (!f->failed)
		fman_capprice_offer(f, pid, fo); /* the capacity price (capprice.c) */
	snprintf(reason, REASON_MAX, "%s", old->live ? "updated" : "accepted");
	if (!old->live)
		f->live++;
	f->dirty = true;
	return true;
}

/* One offer message, for gf_store_once. */
struct offer {
	struct fman *f;
	const struct gf_message *m;
	const Goflex__FlexOffer *fo;
	const struct row *old;
	const char *id, *hash, *json;
	char reason[REASON_MAX];
	bool ok, dup;
};

/* A resend whose ack was lost: the ack of that content again. */
static enum gf_err offer_again(void *arg)
{
	struct offer *o = arg;
	char key[ID_MAX + 64];

	o->dup = true;
	snprintf(key, sizeof(key), "re/%s/%s", o->id, o->hash);
	return gf_resend_reply_again(o->f->store, key, NULL);
}

static enum gf_err offer_take(void *arg)
{
	struct offer *o = arg;
	struct fman *f = o->f;
	Goflex__FlexOfferAck ack = GOFLEX__FLEX_OFFER_ACK__INIT;
	char key[ID_MAX + 64];
	enum gf_err rc;

	o->ok = decide(f, o->m, o->fo, o->id, o->hash, o->json, o->old, o->reason);
	if (f->failed)
		return fman_util_status(f);
	ack.flexofferid = (char *)o->id;
	ack.accepted = o->ok;
	ack.reason = o->reason;
	ack.label = o->fo->label;
	ack.has_creationinterval = 1;
	ack.creationinterval = o->fo->creationinterval;
	snprintf(key, sizeof(key), "re/%s/%s", o->id, o->hash);
	rc = gf_resend_reply(f->agent, f->store, key, "foa", o->m->from_id, "flexoffer.ack",
	                     &ack.base);
	return rc != GF_OK ? rc : fman_util_status(f);
}

void fman_offers_take(struct fman *f, const struct gf_message *m)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m->body;
	char id[ID_MAX], hash[17], key[ID_MAX + 64];
	struct offer o = {.f = f, .m = m, .fo = fo, .id = id, .hash = hash};
	char *json = NULL;
	size_t len = 0;
	struct row old;
	enum gf_err rc;

	offer_id(fo, m->from_id, id);
	if (fo->state == GOFLEX__FLEX_OFFER_STATE__Assigned) {
		/* The FOA's echo of its assignment: no update of the offer. */
		fman_answers_confirm(f, m, id);
		return;
	}
	if (fo->state == GOFLEX__FLEX_OFFER_STATE__Executed) {
		/* The FOA's echo of the report that its offer was executed. */
		fman_answers_confirm_executed(f, m, id);
		return;
	}
	if (gf_codec_to_json(&fo->base, &json, &len) != GF_OK) {
		gf_log_warning("GF-FMAN-UNREADABLE", "offer %s of foa.%s does not encode", id,
		               m->from_id);
		goto out;
	}
	gf_fnv1a64_hex(json, len, hash);
	load_row(f, id, &old);
	if (f->failed) {
		gf_agent_fail(f->agent, f->failed);
		goto out;
	}
	o.old = &old;
	o.json = json;
	snprintf(key, sizeof(key), "fo/%s/%s/%lld", id, hash, (long long)old.version);
	/* The offer's last accepted content again is a duplicate without a
	 * key of its own (the header of this file). */
	if (old.found && strcmp(old.hash, hash) == 0)
		rc = gf_store_once(f->agent, f->store, NULL, offer_again, NULL, &o);
	else
		rc = gf_store_once(f->agent, f->store, key, offer_take, offer_again, &o);
	if (rc != GF_OK)
		goto out;
	if (o.dup)
		gf_log_info("GF-FMAN-DUP", "offer %s of foa.%s: already handled", id, m->from_id);
	else if (o.ok)
		gf_log_info("GF-FMAN-ACCEPT", "offer %s of foa.%s: %s", id, m->from_id, o.reason);
	else
		gf_log_notice("GF-FMAN-REFUSE", "offer %s of foa.%s refused: %s", id, m->from_id,
		              o.reason);
	if (!o.dup)
		gf_kpi_count(f->agent, o.ok ? "fman.offers_accepted" : "fman.offers_refused", 1,
		             NULL);
	if (!o.dup)
		fman_util_crash_point("offer-committed");
out:
	free(json);
}

/* One meter.reading, for gf_store_once. */
struct meter {
	struct fman *f;
	const struct gf_message *m;
	size_t added;
};

static enum gf_err meter_take(void *arg)
{
	struct meter *c = arg;
	struct fman *f = c->f;
	const Goflex__MeterReadings *r = (const Goflex__MeterReadings *)c->m->body;

	for (size_t i = 0; i < r->n_readings && !f->failed; i++) {
		const Goflex__MeterReading *x = r->readings[i];
		sqlite3_stmt *st =
		    fman_util_prepare(f, "INSERT OR IGNORE INTO meter_readings (foa, device,"
		                         " observed, obis, value, unit) VALUES (?, ?, ?, ?, ?, ?)");
		sqlite3_bind_text(st, 1, c->m->from_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, x->deviceid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, x->observedtimestamp, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, x->obis ? x->obis : "", -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 5, x->value);
		if (x->unit)
			sqlite3_bind_text(st, 6, x->unit, -1, SQLITE_STATIC);
		exec_or_fail(f, st, "meter reading");
		c->added += (size_t)sqlite3_changes(gf_store_db(f->store));
	}
	return fman_util_status(f);
}

/* Readings are kept once by their key (INSERT OR IGNORE): no message key. */
void fman_offers_meter(struct fman *f, const struct gf_message *m)
{
	struct meter c = {.f = f, .m = m};

	if (gf_store_once(f->agent, f->store, NULL, meter_take, NULL, &c) != GF_OK)
		return;
	gf_log_debug("GF-FMAN-METER", "foa.%s: %zu readings, %zu new", m->from_id,
	             ((const Goflex__MeterReadings *)m->body)->n_readings, c.added);
}

enum gf_err fman_offers_to_engine(struct fman *f, const char *json, struct gf_fo *fo,
                                  struct gf_fo_deadlines *dl)
{
	ProtobufCMessage *msg = NULL;
	char err[REASON_MAX];
	enum gf_err rc;

	rc = gf_codec_from_json(&goflex__flex_offer__descriptor, json, strlen(json), &msg, err,
	                        sizeof(err));
	if (rc == GF_OK)
		rc = gf_fo_from_message((const Goflex__FlexOffer *)msg, fo, f->lo, f->hi, f->df,
		                        (size_t)f->conf->max_slices, err, sizeof(err));
	if (rc == GF_OK)
		rc = gf_fo_deadlines_from_message((const Goflex__FlexOffer *)msg, dl, err,
		                                  sizeof(err));
	gf_codec_free(msg);
	return rc;
}

enum gf_err fman_offers_rebuild(struct fman *f)
{
	sqlite3_stmt *st = fman_util_prepare(
	    f, "SELECT pid, id, body FROM offers WHERE state = 'Accepted' ORDER BY pid");
	enum gf_err rc = GF_OK;

	if (!st)
		return GF_EIO;
	f->live = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct gf_fo fo;
		struct gf_fo_deadlines dl;
		const char *body = gf_store_text(st, 2);
		rc = fman_offers_to_engine(f, body, &fo, &dl);
		if (rc == GF_OK)
			rc = gf_aggpool_add(f->pool, (uint64_t)sqlite3_column_int64(st, 0), &fo,
			                    &dl);
		if (rc == GF_ENOMEM)
			break;
		if (rc != GF_OK) {
			/* E.g. max_slices lowered since: it stays in the table. */
			gf_log_warning("GF-FMAN-REBUILD", "offer %s no longer fits the engine: %s",
			               gf_store_text(st, 1), gf_strerror(rc));
			rc = GF_OK;
			continue;
		}
		f->live++;
	}
	sqlite3_finalize(st);
	return rc;
}
