/* SPDX-License-Identifier: MIT */
/*
 * queue.c - gf-http's durable state, one SQLite store per identity:
 *
 * - http_reply: the FOA's replies to an xEMS, kept from their arrival (in
 *   the transaction that takes them off the bus) until the xEMS says it has
 *   them (the ack of its next poll). A kill -9 anywhere in between loses
 *   none: before the commit the durable inbox hands the message over again,
 *   after it the row is there.
 * - http_offer: the offers of a REST client, the version last sent to FMAN,
 *   the state FMAN's acks and assignments gave it, and its schedule.
 * - http_counter: the numbers of the offer ids gf-http gives.
 *
 * Every function runs inside the caller's transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"

const char http_queue_schema[] =
    "CREATE TABLE IF NOT EXISTS http_reply (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " received TEXT NOT NULL, msg TEXT NOT NULL, body TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS http_offer (id TEXT PRIMARY KEY, offer TEXT NOT NULL,"
    " state TEXT NOT NULL, reason TEXT, schedule TEXT, execution TEXT,"
    " accepted INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, updated TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS http_counter (name TEXT PRIMARY KEY, n INTEGER NOT NULL);";

enum gf_err http_queue_reply_add(struct gf_store *s, const char *msg, const char *json,
                                 const char *received)
{
	return gf_store_run(s, "INSERT INTO http_reply (received, msg, body) VALUES (?, ?, ?)",
	                    "ttt", received, msg, json);
}

enum gf_err http_queue_replies(struct gf_store *s, int64_t ack, long max, cJSON **out,
                               int64_t *last)
{
	sqlite3_stmt *st = NULL;
	cJSON *arr = NULL, *o, *reply;
	int64_t top = ack;
	enum gf_err rc = GF_EIO;
	int step;

	if (ack > 0 && gf_store_run(s, "DELETE FROM http_reply WHERE seq <= ?", "i", ack) != GF_OK)
		goto out;
	st = gf_store_prepare(s, "SELECT seq, received, msg, body FROM http_reply ORDER BY seq "
	                         "LIMIT ?");
	if (!st || sqlite3_bind_int64(st, 1, max) != SQLITE_OK)
		goto out;
	if (!(arr = cJSON_CreateArray())) {
		rc = GF_ENOMEM;
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		/* The body was written by the codec: it parses. */
		reply = cJSON_Parse(gf_store_text(st, 3));
		if (!reply || !(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(reply);
			rc = GF_ENOMEM;
			goto out;
		}
		if (!cJSON_AddNumberToObject(o, "seq", (double)seq) ||
		    !cJSON_AddStringToObject(o, "received", gf_store_text(st, 1)) ||
		    !cJSON_AddStringToObject(o, "msg", gf_store_text(st, 2)) ||
		    !cJSON_AddItemToObject(o, "reply", reply)) {
			rc = GF_ENOMEM;
			goto out;
		}
		top = seq;
	}
	if (step != SQLITE_DONE)
		goto out;
	*out = arr;
	*last = top;
	arr = NULL;
	rc = GF_OK;
out:
	cJSON_Delete(arr);
	sqlite3_finalize(st);
	return rc;
}

void http_queue_offer_clear(struct http_offer *o)
{
	free(o->id);
	free(o->offer);
	free(o->state);
	free(o->reason);
	free(o->schedule);
	free(o->execution);
	free(o->updated);
	*o = (struct http_offer){0};
}

/* A copy of column col, NULL for SQL NULL; *oom when it could not copy. */
static char *col_dup(sqlite3_stmt *st, int col, bool *oom)
{
	char *p;

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	if (!(p = strdup(gf_store_text(st, col))))
		*oom = true;
	return p;
}

enum gf_err http_queue_offer_get(struct gf_store *s, const char *id, struct http_offer *out,
                                 bool *found)
{
	sqlite3_stmt *st = gf_store_prepare(s, "SELECT id, offer, state, reason, schedule, "
	                                       "execution, updated, accepted FROM http_offer "
	                                       "WHERE id = ?");
	struct http_offer o = {0};
	enum gf_err rc = GF_EIO;
	bool oom = false;
	int step;

	if (!st || sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		goto out;
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		*found = false;
		rc = GF_OK;
		goto out;
	}
	if (step != SQLITE_ROW)
		goto out;
	o.id = col_dup(st, 0, &oom);
	o.offer = col_dup(st, 1, &oom);
	o.state = col_dup(st, 2, &oom);
	o.reason = col_dup(st, 3, &oom);
	o.schedule = col_dup(st, 4, &oom);
	o.execution = col_dup(st, 5, &oom);
	o.updated = col_dup(st, 6, &oom);
	o.accepted = sqlite3_column_int(st, 7) != 0;
	if (oom) {
		http_queue_offer_clear(&o);
		rc = GF_ENOMEM;
		goto out;
	}
	*out = o;
	*found = true;
	rc = GF_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

enum gf_err http_queue_offer_put(struct gf_store *s, const char *id, const char *offer,
                                 const char *state, const char *now)
{
	return gf_store_run(s,
	                    "INSERT INTO http_offer (id, offer, state, created, updated) VALUES "
	                    "(?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO UPDATE SET offer = ?2, "
	                    "state = ?3, reason = NULL, updated = ?4",
	                    "tttt", id, offer, state, now);
}

enum gf_err http_queue_offer_ack(struct gf_store *s, const char *id, bool accepted,
                                 const char *reason, bool executed, const char *execution,
                                 const char *now, bool *found)
{
	enum gf_err rc;

	if (executed)
		rc = gf_store_run(s,
		                  "UPDATE http_offer SET state = 'Executed', execution = ?2, "
		                  "reason = ?3, updated = ?4 WHERE id = ?1",
		                  "tttt", id, execution, reason, now);
	else if (accepted)
		rc =
		    gf_store_run(s,
		                 "UPDATE http_offer SET accepted = 1, reason = ?2, updated = ?3, "
		                 "state = CASE state WHEN 'Offered' THEN 'Accepted' ELSE state END "
		                 "WHERE id = ?1",
		                 "ttt", id, reason, now);
	else
		/* A refusal after an acceptance refuses that change only
		 * (docs/trading.md, "FMAN's acks"): the state stays. */
		rc = gf_store_run(s,
		                  "UPDATE http_offer SET reason = ?2, updated = ?3, state = CASE "
		                  "WHEN accepted = 0 AND state = 'Offered' THEN 'Rejected' ELSE "
		                  "state END WHERE id = ?1",
		                  "ttt", id, reason, now);
	if (rc == GF_OK)
		*found = sqlite3_changes(gf_store_db(s)) > 0;
	return rc;
}

enum gf_err http_queue_offer_assign(struct gf_store *s, const char *id, const char *schedule,
                                    const char *now, bool *found)
{
	enum gf_err rc;

	rc = gf_store_run(s,
	                  "UPDATE http_offer SET state = 'Assigned', schedule = ?2, updated = ?3 "
	                  "WHERE id = ?1",
	                  "ttt", id, schedule, now);
	if (rc == GF_OK)
		*found = sqlite3_changes(gf_store_db(s)) > 0;
	return rc;
}

enum gf_err http_queue_offer_list(struct gf_store *s, cJSON **out)
{
	sqlite3_stmt *st = gf_store_prepare(s, "SELECT id, state, reason FROM http_offer "
	                                       "ORDER BY created, id");
	cJSON *arr = cJSON_CreateArray(), *o;
	enum gf_err rc = GF_EIO;
	int step = SQLITE_ERROR;

	if (!arr) {
		rc = GF_ENOMEM;
		goto out;
	}
	while (st && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (!(o = cJSON_CreateObject()) || !cJSON_AddItemToArray(arr, o) ||
		    !cJSON_AddStringToObject(o, "id", gf_store_text(st, 0)) ||
		    !cJSON_AddStringToObject(o, "state", gf_store_text(st, 1)) ||
		    (sqlite3_column_type(st, 2) != SQLITE_NULL &&
		     !cJSON_AddStringToObject(o, "stateReason", gf_store_text(st, 2)))) {
			rc = GF_ENOMEM;
			goto out;
		}
	}
	if (!st || step != SQLITE_DONE)
		goto out;
	*out = arr;
	arr = NULL;
	rc = GF_OK;
out:
	cJSON_Delete(arr);
	sqlite3_finalize(st);
	return rc;
}

enum gf_err http_queue_next_number(struct gf_store *s, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc;

	rc = gf_store_run(s,
	                  "INSERT INTO http_counter (name, n) VALUES ('offer', 1) ON CONFLICT "
	                  "(name) DO UPDATE SET n = n + 1",
	                  "");
	if (rc != GF_OK)
		return rc;
	st = gf_store_prepare(s, "SELECT n FROM http_counter WHERE name = 'offer'");
	if (!st || sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return GF_EIO;
	}
	*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return GF_OK;
}
