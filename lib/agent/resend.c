/* SPDX-License-Identifier: MIT */
/*
 * resend.c - unanswered requests kept and sent again; replies kept for
 * duplicates (resend.h). A resent row is the same topic and payload bytes
 * as the first send, so every receiver's idempotency key holds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/message.h"
#include "base/log.h"
#include "agent/resend.h"
#include "agent/simclock.h"

#include "agent/once.h"

#define TOPIC_MAX 512

/* gf_resend and gf_reply are the store's runtime tables (store.c): its
 * outbox rows send what they keep without a copy (gf_store_outbox_add_kept).
 * gf_resend.queued: the real time (s) the row last went to the outbox. */

enum gf_err gf_resend_open(struct gf_store *s)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_OK;

	/* A table made before rows had a time gets the column; its rows
	 * (NULL) are due at the first period. */
	if (sqlite3_prepare_v2(gf_store_db(s), "SELECT queued FROM gf_resend", -1, &st, NULL) !=
	    SQLITE_OK)
		rc = gf_store_exec(s, "ALTER TABLE gf_resend ADD COLUMN queued REAL");
	sqlite3_finalize(st);
	return rc;
}

/* The statements a store's first reply, kept request and deadline run
 * (gf_resend_prepare). A key kept again is updated in place and moved to
 * the end of the resend order (the highest rowid, as the REPLACE that
 * this was before gave it): a request kept again goes after the others. */
static const char reply_sql[] = "INSERT INTO gf_reply (key, topic, payload) VALUES (?1, ?2, ?3)"
                                " ON CONFLICT (key) DO NOTHING";
static const char keep_sql[] = "INSERT INTO gf_resend (key, answer, topic, payload, queued)"
                               " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO NOTHING";
static const char until_sql[] = "UPDATE gf_resend SET expires = ? WHERE key = ?";

enum gf_err gf_resend_prepare(struct gf_store *s)
{
	return gf_store_cached(s, reply_sql) && gf_store_cached(s, keep_sql) &&
	               gf_store_cached(s, until_sql)
	           ? GF_OK
	           : GF_EIO;
}

/* Runs sql binding up to four texts, then a blob of len bytes if blob,
 * then the real time now if stamp (gf_resend.queued). */
static enum gf_err run(struct gf_store *s, const char *sql, const char *const *texts, int ntexts,
                       const void *blob, size_t len, bool stamp)
{
	sqlite3 *db = gf_store_db(s);
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_EIO;

	if (!(st = gf_store_cached(s, sql)))
		goto out;
	for (int i = 0; i < ntexts; i++)
		sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
	if (blob)
		sqlite3_bind_blob(st, ntexts + 1, blob, (int)len, SQLITE_STATIC);
	if (stamp)
		sqlite3_bind_double(st, ntexts + 2, gf_simclock_real_now());
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = GF_OK;
out:
	if (rc != GF_OK)
		gf_log_err("GF-RESEND-STORE", "'%.50s': %s", sql, sqlite3_errmsg(db));
	sqlite3_reset(st);
	return rc;
}

/* The identity s queues for: its bound bus (store.h), else the agent's. */
static struct gf_bus *bus_of(struct gf_agent *a, struct gf_store *s)
{
	return gf_store_bus(s) ? gf_store_bus(s) : gf_agent_bus(a);
}

/* Keeps what insert_sql and replace_sql bind under key (the texts, then
 * the payload, then the time for gf_resend): inserted, or, when key is
 * kept already (a request kept again, a reply given again), replaced once
 * the outbox rows that name it have their own copy. The usual insert
 * costs one statement; only a replacement scans the outbox. */
static enum gf_err keep(struct gf_store *s, enum gf_store_kept kept, const char *insert_sql,
                        const char *replace_sql, const char *const *texts, int ntexts,
                        const void *payload, size_t len)
{
	bool stamp = kept == GF_STORE_KEPT_RESEND;
	enum gf_err rc = run(s, insert_sql, texts, ntexts, payload, len, stamp);

	if (rc != GF_OK || sqlite3_changes(gf_store_db(s)) > 0)
		return rc;
	rc = gf_store_outbox_copy_kept(s, kept, texts[0]);
	return rc == GF_OK ? run(s, replace_sql, texts, ntexts, payload, len, stamp) : rc;
}

enum gf_err gf_resend_keep(struct gf_store *s, const char *key, const char *answer,
                           const char *topic, const char *json, size_t len)
{
	const char *texts[] = {key, answer, topic};
	enum gf_err rc = keep(s, GF_STORE_KEPT_RESEND, keep_sql,
	                      "UPDATE gf_resend SET answer = ?2, topic = ?3, payload = ?4,"
	                      " queued = ?5, expires = NULL,"
	                      " rowid = (SELECT max(rowid) FROM gf_resend) + 1 WHERE key = ?1",
	                      texts, 3, json, len);

	/* kept first, then queued from where it is kept: held once */
	return rc == GF_OK ? gf_store_outbox_add_kept(s, topic, GF_STORE_KEPT_RESEND, key, NULL)
	                   : rc;
}

enum gf_err gf_resend_queue(struct gf_agent *a, struct gf_store *s, const char *key,
                            const char *answer, const char *to_role, const char *to_id,
                            const char *msg, const ProtobufCMessage *body)
{
	char topic[TOPIC_MAX], *json = NULL;
	size_t len = 0;
	enum gf_err rc = gf_message_encode_on(bus_of(a, s), to_role, to_id, msg, body, topic,
	                                      TOPIC_MAX, &json, &len);

	if (rc == GF_OK)
		rc = gf_resend_keep(s, key, answer, topic, json, len);
	free(json);
	return rc;
}

enum gf_err gf_resend_until(struct gf_store *s, const char *key, double sim_s)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_EIO;

	if (!(st = gf_store_cached(s, until_sql)))
		return rc;
	sqlite3_bind_double(st, 1, sim_s);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = GF_OK;
	sqlite3_reset(st);
	return rc;
}

enum gf_err gf_resend_answered(struct gf_store *s, const char *key, const char *answer, bool *found)
{
	const char *texts[] = {key, answer};
	enum gf_err rc = run(s,
	                     "DELETE FROM gf_resend WHERE key = ?1 AND"
	                     " (?2 IS NULL OR answer IS NULL OR answer = ?2)",
	                     texts, 2, NULL, 0, false);

	if (found)
		*found = rc == GF_OK && sqlite3_changes(gf_store_db(s)) > 0;
	return rc;
}

enum gf_err gf_resend_reply(struct gf_agent *a, struct gf_store *s, const char *key,
                            const char *to_role, const char *to_id, const char *msg,
                            const ProtobufCMessage *body)
{
	char topic[TOPIC_MAX], *json = NULL;
	size_t len = 0;
	enum gf_err rc = gf_message_encode_on(bus_of(a, s), to_role, to_id, msg, body, topic,
	                                      TOPIC_MAX, &json, &len);
	const char *texts[] = {key, topic};

	/* kept first, then queued from where it is kept: held once */
	if (rc == GF_OK)
		rc = keep(s, GF_STORE_KEPT_REPLY, reply_sql,
		          "UPDATE gf_reply SET topic = ?2, payload = ?3 WHERE key = ?1", texts, 2,
		          json, len);
	if (rc == GF_OK)
		rc = gf_store_outbox_add_kept(s, topic, GF_STORE_KEPT_REPLY, key, NULL);
	free(json);
	return rc;
}

/* Queues the rows sql selects (key, topic; its one parameter is before)
 * from where they are kept; *n counts them. */
static enum gf_err requeue(struct gf_store *s, const char *sql, double before, size_t *n)
{
	sqlite3 *db = gf_store_db(s);
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_EIO;
	int step;

	*n = 0;
	if (!(st = gf_store_prepare(s, sql)))
		goto out;
	sqlite3_bind_double(st, 1, before);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (gf_store_outbox_add_kept(s, gf_store_text(st, 1), GF_STORE_KEPT_RESEND,
		                             gf_store_text(st, 0), NULL) != GF_OK)
			goto out;
		(*n)++;
	}
	if (step == SQLITE_DONE)
		rc = GF_OK;
out:
	if (rc != GF_OK)
		gf_log_err("GF-RESEND-STORE", "cannot requeue: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

enum gf_err gf_resend_reply_again(struct gf_store *s, const char *key, bool *found)
{
	sqlite3_stmt *st = gf_store_cached(s, "SELECT topic FROM gf_reply WHERE key = ?");
	enum gf_err rc = GF_EIO;
	int step = SQLITE_ERROR;

	if (found)
		*found = false;
	if (!st)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		rc = gf_store_outbox_add_kept(s, gf_store_text(st, 0), GF_STORE_KEPT_REPLY, key,
		                              NULL);
		if (found)
			*found = rc == GF_OK;
	} else if (step == SQLITE_DONE) {
		rc = GF_OK;
	} else {
		gf_log_err("GF-RESEND-STORE", "cannot requeue: %s", sqlite3_errmsg(gf_store_db(s)));
	}
	sqlite3_reset(st);
	return rc;
}

/* One store's resends (gf_resend_every): a store that has none has them
 * off (resend_s 0). Stores are few (one per agent) or one per virtual FOA;
 * the agent keeps the list (gf__agent_resends), searched only at a
 * reconnect. */
struct gf_resend_every {
	struct gf_store *s;
	double period;      /* simulated s (the timer's) */
	double real_period; /* real s (resend_s) */
	const char *msgid;
	bool connected_before; /* the first connect finds what start queued */
	struct gf_resend_every *next;
};

#define ALL_ROWS INFINITY

static size_t requeue_all(struct gf_agent *a, struct gf_store *s, double before);

void gf_resend_connected(struct gf_agent *a, struct gf_store *s, const char *msgid)
{
	struct gf_resend_every *e = *gf__agent_resends(a);
	size_t n;

	while (e && e->s != s)
		e = e->next;
	if (!e || !e->connected_before) {
		if (e)
			e->connected_before = true;
		return;
	}
	/* A reconnect is rare (a broker restart, a network cut): noticed. */
	n = requeue_all(a, s, ALL_ROWS);
	if (n)
		gf_log_notice(msgid, "reconnected: %zu unanswered message(s) sent again", n);
	gf_store_outbox_flush(s, bus_of(a, s));
}

/* requeue_all's transaction. */
struct requeue {
	struct gf_agent *a;
	struct gf_store *s;
	double before; /* rows last queued before this real time (s) */
	size_t n;
};

static enum gf_err requeue_txn(void *arg)
{
	struct requeue *r = arg;
	sqlite3_stmt *st = NULL;

	/* Rows whose answer no longer matters (gf_resend_until) go first. */
	if ((st = gf_store_prepare(r->s, "DELETE FROM gf_resend WHERE expires <= ?"))) {
		sqlite3_bind_double(st, 1, gf_agent_now(r->a));
		(void)sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (requeue(r->s,
	            "SELECT key, topic FROM gf_resend WHERE queued IS NULL OR queued < ?1"
	            " ORDER BY rowid",
	            r->before, &r->n) != GF_OK)
		return GF_EIO;
	return r->n ? gf_store_run(r->s,
	                           "UPDATE gf_resend SET queued = ?"
	                           " WHERE queued IS NULL OR queued < ?",
	                           "dd", gf_simclock_real_now(), r->before)
	            : GF_OK;
}

/* Every row last queued before real time `before` (ALL_ROWS: every row)
 * into the outbox, in one transaction, marked queued now. A failure of the
 * store stops the agent (gf_store_once): the rows stay for the next
 * start. */
static size_t requeue_all(struct gf_agent *a, struct gf_store *s, double before)
{
	struct requeue r = {a, s, before, 0};
	sqlite3_stmt *st = NULL;
	int rows = 1;

	/* Nothing kept (the usual idle case): no write transaction, which
	 * matters for a process with a store per virtual FOA. */
	if ((st = gf_store_prepare(s, "SELECT EXISTS (SELECT 1 FROM gf_resend)")) &&
	    sqlite3_step(st) == SQLITE_ROW)
		rows = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (!rows || gf_store_once(a, s, NULL, requeue_txn, NULL, &r) != GF_OK)
		return 0;
	return r.n;
}

/* Every period: the rows that went to the outbox a period ago or more go
 * again, so a request waits one period at least (two at most) for its
 * answer before it is sent again. Sending everything unanswered made FMAN
 * send all of a 9,900-member burst's schedules again when the tick fell in
 * the burst, most of them a few seconds old (docs/trading.md). Nothing
 * while the bus is down (the reconnect sends everything). */
static void tick(struct gf_agent *a, void *arg)
{
	struct gf_resend_every *e = arg;
	struct gf_bus *bus = bus_of(a, e->s);
	size_t n;

	if (gf_bus_connected(bus)) {
		/* A row queued just after the last tick is a little less than
		 * a period old at this one (the timer's rounding): a tenth of a
		 * period's slack. */
		n = requeue_all(a, e->s, gf_simclock_real_now() - 0.9 * e->real_period);
		if (n)
			gf_log_info(e->msgid, "%zu unanswered message(s) sent again", n);
		gf_store_outbox_flush(e->s, bus);
	}
	gf_agent_timer_at(a, gf_agent_now(a) + e->period, tick, e);
}

void gf_resend_every(struct gf_agent *a, struct gf_store *s, long resend_s, const char *msgid)
{
	const struct gf_simclock *c = gf_agent_clock(a);
	struct gf_resend_every **list = gf__agent_resends(a), *e;
	size_t n;

	if (resend_s <= 0)
		return;
	/* Lives as long as the agent (the store outlives the loop). */
	e = calloc(1, sizeof(*e));
	if (!e) {
		gf_log_err("GF-RESEND-STORE", "out of memory: no resends for this store");
		return;
	}
	n = requeue_all(a, s, ALL_ROWS); /* what the last run left unanswered */
	if (n)
		gf_log_info(msgid, "%zu unanswered message(s) of the last run sent again", n);
	*e = (struct gf_resend_every){
	    s, (double)resend_s * c->scale, (double)resend_s, msgid, false, *list};
	*list = e;
	gf_agent_timer_at(a, gf_agent_now(a) + e->period, tick, e);
}

void gf__resend_free(struct gf_resend_every *list)
{
	while (list) {
		struct gf_resend_every *next = list->next;

		free(list);
		list = next;
	}
}
