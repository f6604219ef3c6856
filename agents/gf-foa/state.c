/* SPDX-License-Identifier: MIT */
/*
 * gf-foa's tables in state_dir/foa.db (next to the runtime's handled keys
 * and outbox): the offers it made, the schedule ids it gave the xEMS, and
 * its counters. Every function here runs inside the caller's transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "foa.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "payload/codec.h"

const char foa_state_schema[] =
    "CREATE TABLE IF NOT EXISTS foa_counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS foa_offer (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " peer TEXT NOT NULL, ref TEXT NOT NULL, state TEXT NOT NULL, source BLOB NOT NULL,"
    " offer BLOB NOT NULL, deadline INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS foa_offer_ref ON foa_offer (peer, ref);"
    "CREATE TABLE IF NOT EXISTS foa_schedule (offer_id TEXT NOT NULL, market_sid INTEGER NOT "
    "NULL, foa_sid INTEGER NOT NULL UNIQUE, PRIMARY KEY (offer_id, market_sid)) WITHOUT ROWID;";

enum gf_err foa_state_sql(struct foa *f, const char *sql, sqlite3_stmt **st)
{
	*st = gf_store_prepare(f->store, sql);
	return *st ? GF_OK : GF_EIO;
}

/* The functions below run one statement each, to its end, and reset it:
 * theirs are the store's kept statements (prepared once per store, not at
 * every message). */
static enum gf_err kept_sql(struct foa *f, const char *sql, sqlite3_stmt **st)
{
	*st = gf_store_cached(f->store, sql);
	return *st ? GF_OK : GF_EIO;
}

enum gf_err foa_state_step(struct foa *f, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		gf_log_err("GF-FOA-STORE", "statement failed: %s",
		           sqlite3_errmsg(gf_store_db(f->store)));
		return GF_EIO;
	}
	return GF_OK;
}

/* The statements of an assignment (foa_state_prepare). */
#define OFFER_COLS "SELECT id, kind, peer, ref, state, source, offer, deadline FROM foa_offer "

static const char counter_next[] =
    "INSERT INTO foa_counter (name, value) VALUES (?1, 1) ON CONFLICT(name) DO "
    "UPDATE SET value = value + 1 RETURNING value";
static const char offer_get[] = OFFER_COLS "WHERE id = ?1";
static const char offer_set_state[] = "UPDATE foa_offer SET state = ?2 WHERE id = ?1";
static const char schedule_get[] =
    "SELECT foa_sid FROM foa_schedule WHERE offer_id = ?1 AND market_sid = ?2";
static const char schedule_add[] =
    "INSERT INTO foa_schedule (offer_id, market_sid, foa_sid) VALUES (?1, ?2, ?3)";

enum gf_err foa_state_prepare(struct foa *f)
{
	static const char *const sql[] = {counter_next, offer_get, offer_set_state, schedule_get,
	                                  schedule_add};
	sqlite3_stmt *st;
	enum gf_err rc = GF_OK;

	for (size_t i = 0; rc == GF_OK && i < sizeof(sql) / sizeof(sql[0]); i++)
		rc = kept_sql(f, sql[i], &st);
	return rc;
}

enum gf_err foa_state_counter_next(struct foa *f, const char *name, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc;

	rc = kept_sql(f, counter_next, &st);
	if (rc != GF_OK)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		gf_log_err("GF-FOA-STORE", "cannot count %s: %s", name,
		           sqlite3_errmsg(gf_store_db(f->store)));
		rc = GF_EIO;
		goto out;
	}
	*out = sqlite3_column_int64(st, 0);
out:
	sqlite3_reset(st);
	return rc;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	return strdup(gf_store_text(st, i));
}

/* Column i as a document: a blob is protobuf, text (a row written before
 * the FOA stored protobuf) canonical JSON. A NUL follows the bytes (a
 * zero-length blob is still an allocation). */
static bool doc_col(sqlite3_stmt *st, int i, struct foa_doc *d)
{
	bool json = sqlite3_column_type(st, i) == SQLITE_TEXT;
	const void *p = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);

	d->data = malloc(n + 1);
	if (!d->data)
		return false;
	if (n)
		memcpy(d->data, p, n);
	((char *)d->data)[n] = '\0';
	d->len = n;
	d->json = json;
	return true;
}

enum gf_err foa_state_doc_encode(const ProtobufCMessage *m, struct foa_doc *out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	enum gf_err rc = gf_codec_to_protobuf(m, &data, &len);

	if (rc != GF_OK)
		return rc;
	out->data = data;
	out->len = len;
	out->json = false;
	return GF_OK;
}

void foa_state_doc_free(struct foa_doc *doc)
{
	free(doc->data);
	memset(doc, 0, sizeof(*doc));
}

enum gf_err foa_state_doc_decode(const struct foa_offer *o, const struct foa_doc *doc,
                                 const ProtobufCMessageDescriptor *d, ProtobufCMessage **out)
{
	char err[GF_CODEC_ERRLEN];
	enum gf_err rc =
	    doc->json ? gf_codec_from_json(d, doc->data, doc->len, out, err, sizeof(err))
	              : gf_codec_from_protobuf(d, doc->data, doc->len, out, err, sizeof(err));

	if (rc != GF_OK)
		gf_log_err("GF-FOA-STORE", "the stored %s of offer %s does not decode as %s: %s",
		           doc == &o->source ? "source" : "offer", o->id, d->name, err);
	return rc;
}

/* Runs a one-row query of OFFER_COLS bound to up to two texts (b2 may be
 * NULL) or one integer. */
static enum gf_err offer_query(struct foa *f, const char *sql, const char *b1, const char *b2,
                               const int64_t *i1, struct foa_offer *out)
{
	sqlite3_stmt *st = NULL;
	struct foa_offer o = {0};
	enum gf_err rc;
	int step;

	rc = kept_sql(f, sql, &st);
	if (rc != GF_OK)
		goto out;
	if (i1)
		sqlite3_bind_int64(st, 1, *i1);
	else
		sqlite3_bind_text(st, 1, b1, -1, SQLITE_STATIC);
	if (b2)
		sqlite3_bind_text(st, 2, b2, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = GF_ENOENT;
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = foa_state_step(f, st);
		goto out;
	}
	o.id = dup_col(st, 0);
	o.kind = dup_col(st, 1);
	o.peer = dup_col(st, 2);
	o.ref = dup_col(st, 3);
	o.state = dup_col(st, 4);
	o.deadline = sqlite3_column_int64(st, 7);
	if (!o.id || !o.kind || !o.peer || !o.ref || !o.state || !doc_col(st, 5, &o.source) ||
	    !doc_col(st, 6, &o.offer)) {
		foa_state_offer_clear(&o);
		rc = GF_ENOMEM;
		goto out;
	}
	*out = o;
out:
	sqlite3_reset(st);
	return rc;
}

enum gf_err foa_state_offer_get(struct foa *f, const char *id, struct foa_offer *out)
{
	return offer_query(f, offer_get, id, NULL, NULL, out);
}

enum gf_err foa_state_offer_by_ref(struct foa *f, const char *peer, const char *ref,
                                   struct foa_offer *out)
{
	/* The latest offer of that name: an xEMS may reuse a label on
	 * another day. */
	return offer_query(f,
	                   OFFER_COLS "WHERE kind = 'xems' AND peer = ?1 AND ref = ?2 "
	                              "ORDER BY rowid DESC LIMIT 1",
	                   peer, ref, NULL, out);
}

enum gf_err foa_state_offer_by_schedule(struct foa *f, int64_t foa_sid, struct foa_offer *out)
{
	return offer_query(f,
	                   OFFER_COLS "WHERE id = (SELECT offer_id FROM foa_schedule WHERE "
	                              "foa_sid = ?1)",
	                   NULL, NULL, &foa_sid, out);
}

enum gf_err foa_state_offer_put(struct foa *f, const struct foa_offer *o)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc;

	rc = kept_sql(f,
	              "INSERT INTO foa_offer (id, kind, peer, ref, state, source, offer, deadline) "
	              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(id) DO UPDATE SET "
	              "state = ?5, source = ?6, offer = ?7, deadline = ?8",
	              &st);
	if (rc != GF_OK)
		goto out;
	sqlite3_bind_text(st, 1, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, o->state, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, o->source.data, (int)o->source.len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, o->offer.data, (int)o->offer.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, o->deadline);
	rc = foa_state_step(f, st);
out:
	sqlite3_reset(st);
	return rc;
}

enum gf_err foa_state_offer_set_state(struct foa *f, const char *id, const char *state)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc;

	rc = kept_sql(f, offer_set_state, &st);
	if (rc != GF_OK)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	rc = foa_state_step(f, st);
out:
	sqlite3_reset(st);
	return rc;
}

void foa_state_offer_clear(struct foa_offer *o)
{
	if (!o)
		return;
	free(o->id);
	free(o->kind);
	free(o->peer);
	free(o->ref);
	free(o->state);
	foa_state_doc_free(&o->source);
	foa_state_doc_free(&o->offer);
	memset(o, 0, sizeof(*o));
}

enum gf_err foa_state_schedule_id(struct foa *f, const char *offer_id, int64_t market_sid,
                                  int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int64_t sid = 0;
	enum gf_err rc;

	rc = kept_sql(f, schedule_get, &st);
	if (rc != GF_OK)
		goto out;
	sqlite3_bind_text(st, 1, offer_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, market_sid);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		goto out;
	}
	sqlite3_reset(st);
	st = NULL;
	rc = foa_state_counter_next(f, "schedule", &sid);
	if (rc != GF_OK)
		goto out;
	rc = kept_sql(f, schedule_add, &st);
	if (rc != GF_OK)
		goto out;
	sqlite3_bind_text(st, 1, offer_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, market_sid);
	sqlite3_bind_int64(st, 3, sid);
	rc = foa_state_step(f, st);
	if (rc == GF_OK)
		*out = sid;
out:
	sqlite3_reset(st);
	return rc;
}

/* Longest schedule expanded: a year of intervals. */
#define EXPAND_MAX (366 * 96)

enum gf_err foa_state_expand(const Goflex__FlexOfferSchedule *s, double **out, size_t *n,
                             double **tariff)
{
	double *e = NULL, *t = NULL;
	size_t len = 0, k = 0;
	enum gf_err rc = GF_OK;

	for (size_t i = 0; i < s->n_scheduleslices; i++) {
		len += s->scheduleslices[i]->duration;
		if (len > EXPAND_MAX) {
			rc = GF_ERANGE;
			goto out;
		}
	}
	e = calloc(len ? len : 1, sizeof(*e));
	t = calloc(len ? len : 1, sizeof(*t));
	if (!e || !t) {
		rc = GF_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->n_scheduleslices; i++) {
		const Goflex__ScheduleSlice *sl = s->scheduleslices[i];

		/* energyAmount is per interval (flexoffer.proto), so each
		 * interval of the slice gets it whole. A NaN tariff marks
		 * "none given". */
		for (uint32_t d = 0; d < sl->duration; d++, k++) {
			e[k] = sl->energyamount;
			t[k] = sl->has_tariff ? sl->tariff : __builtin_nan("");
		}
	}
	*out = e;
	*n = len;
	if (tariff)
		*tariff = t;
	else
		free(t);
	e = t = NULL;
out:
	free(e);
	free(t);
	return rc;
}

const char *foa_state_name(Goflex__FlexOfferState s)
{
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&goflex__flex_offer_state__descriptor, (int)s);

	return v ? v->name : "?";
}

int64_t foa_state_now_interval(struct foa *f)
{
	double now = gf_agent_now(f->a);

	return gf_time_interval((int64_t)(now * 1000.0));
}
