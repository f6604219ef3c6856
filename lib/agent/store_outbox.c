/* SPDX-License-Identifier: MIT */
/*
 * store_outbox.c - the store's outbox: publishes queued in the
 * transaction that made them, handed to the bus through a window, deleted
 * (or kept, gf_store_outbox_hold) once the broker answered them
 * (docs/agents.md, "The store's outbox").
 */
#include "agent/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "agent/bus.h"
#include "agent/store_int.h"

enum gf_err gf_store_outbox_add(struct gf_store *s, const char *topic, const void *payload,
                                size_t len, const char *content_type, bool retain)
{
	return gf_store_outbox_add_reply(s, topic, payload, len, content_type, retain, NULL, 0);
}

/* Queues a row: its own payload, or (key not NULL) the one kept under key
 * in the table kept says. */
static enum gf_err add_row(struct gf_store *s, const char *topic, const void *payload, size_t len,
                           const char *content_type, bool retain, const void *correlation,
                           size_t correlation_len, enum gf_store_kept kept, const char *key)
{
	sqlite3_bind_text(s->add, 1, topic, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s->add, 2, len ? payload : "", (int)len, SQLITE_STATIC);
	if (content_type)
		sqlite3_bind_text(s->add, 3, content_type, -1, SQLITE_STATIC);
	sqlite3_bind_int(s->add, 4, retain ? 1 : 0);
	if (correlation && correlation_len)
		sqlite3_bind_blob(s->add, 5, correlation, (int)correlation_len, SQLITE_STATIC);
	if (key)
		sqlite3_bind_text(s->add, kept == GF_STORE_KEPT_REPLY ? 6 : 7, key, -1,
		                  SQLITE_STATIC);
	sqlite3_bind_int64(s->add, 8, s->next_seq);
	if (gf__store_step_reset(s->add) != SQLITE_DONE) {
		gf_log_err("GF-STORE-SQL", "cannot queue a publish: %s", sqlite3_errmsg(s->db));
		return GF_EIO;
	}
	/* never given again, even if the transaction rolls back */
	s->next_seq++;
	return GF_OK;
}

enum gf_err gf_store_outbox_add_reply(struct gf_store *s, const char *topic, const void *payload,
                                      size_t len, const char *content_type, bool retain,
                                      const void *correlation, size_t correlation_len)
{
	return add_row(s, topic, payload, len, content_type, retain, correlation, correlation_len,
	               GF_STORE_KEPT_REPLY, NULL);
}

enum gf_err gf_store_outbox_copy_kept(struct gf_store *s, enum gf_store_kept kept, const char *key)
{
	static const char *const copy[] = {
	    [GF_STORE_KEPT_REPLY] =
	        "UPDATE gf_outbox SET payload = (SELECT r.payload FROM gf_reply r"
	        " WHERE r.key = ?1), reply = NULL WHERE reply = ?1"
	        " AND EXISTS (SELECT 1 FROM gf_reply r WHERE r.key = ?1)",
	    [GF_STORE_KEPT_RESEND] =
	        "UPDATE gf_outbox SET payload = (SELECT r.payload FROM"
	        " gf_resend r WHERE r.key = ?1), resend = NULL WHERE resend = ?1"
	        " AND EXISTS (SELECT 1 FROM gf_resend r WHERE r.key = ?1)",
	};
	sqlite3_stmt *st = gf_store_cached(s, copy[kept]);
	int step = SQLITE_ERROR;

	if (st) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		step = sqlite3_step(st);
		sqlite3_reset(st);
	}
	if (step == SQLITE_DONE)
		return GF_OK;
	gf_log_err("GF-STORE-SQL", "cannot give queued publishes their own copy: %s",
	           sqlite3_errmsg(s->db));
	return GF_EIO;
}

enum gf_err gf_store_outbox_add_kept(struct gf_store *s, const char *topic, enum gf_store_kept kept,
                                     const char *key, const char *content_type)
{
	return add_row(s, topic, NULL, 0, content_type, false, NULL, 0, kept, key);
}

/* Deletes the n rows seq[], in one transaction when none is open
 * (inside one they go with it). A row whose delete is lost with a crash is
 * sent again at the next start, as one acknowledged just before a kill -9
 * always was. */
static void delete_rows(struct gf_store *s, const sqlite3_int64 *seq, size_t n)
{
	bool own =
	    n > 1 && sqlite3_get_autocommit(s->db) && gf__store_txn(s, "BEGIN IMMEDIATE") == GF_OK;

	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(s->del, 1, seq[i]);
		if (gf__store_step_reset(s->del) != SQLITE_DONE)
			gf_log_err("GF-STORE-SQL", "cannot clear an acknowledged publish: %s",
			           sqlite3_errmsg(s->db));
	}
	if (own && gf__store_txn(s, "COMMIT") != GF_OK)
		gf_store_rollback(s);
}

/* The rows the broker answered: deleted, or with a hold kept (in memory;
 * they are rows of the table all the same, sent again after a crash). Kept
 * rows go once they were acknowledged hold_s ago on the connection that is
 * still up: the broker has saved them since (gf_store_outbox_hold). */
void gf__store_outbox_clear(struct gf_store *s)
{
	struct gf_bus *bus = s->flushed_on;
	double now = gf_clock_mono_s();
	size_t expired = 0;

	if (s->hold_s <= 0) {
		delete_rows(s, s->acked, s->nacked);
		s->nacked = 0;
		return;
	}
	if (s->nkept + s->nacked > s->kept_cap) {
		size_t cap = s->kept_cap ? s->kept_cap : 64;
		struct kept *k;

		while (cap < s->nkept + s->nacked)
			cap *= 2;
		k = realloc(s->kept, cap * sizeof(*k));
		if (!k) { /* no memory to keep them: gone at once, as without a hold */
			delete_rows(s, s->acked, s->nacked);
			s->nacked = 0;
			return;
		}
		s->kept = k;
		s->kept_cap = cap;
	}
	for (size_t i = 0; i < s->nacked; i++)
		s->kept[s->nkept++] =
		    (struct kept){s->acked[i], now, bus ? gf_bus_sequence(bus) : 0};
	s->nacked = 0;
	if (!bus || !gf_bus_connected(bus))
		return;
	while (expired < s->nkept && s->kept[expired].at + s->hold_s <= now &&
	       s->kept[expired].conn == gf_bus_sequence(bus))
		expired++;
	/* their numbers into acked (empty now, and at least as large: every
	 * kept row passed through it), then deleted together */
	for (size_t i = 0; i < expired && i < s->acked_cap; i++)
		s->acked[i] = s->kept[i].seq;
	expired = expired < s->acked_cap ? expired : s->acked_cap;
	if (!expired)
		return;
	delete_rows(s, s->acked, expired);
	memmove(s->kept, s->kept + expired, (s->nkept - expired) * sizeof(*s->kept));
	s->nkept -= expired;
}

/* Hands the kept rows acknowledged on an earlier connection over again:
 * a broker killed since may have lost them with what it had not saved. */
static void outbox_resend_kept(struct gf_store *s, struct gf_bus *bus)
{
	size_t keep = 0, again = 0;

	for (size_t i = 0; i < s->nkept; i++) {
		bool sent = false, gone = false;

		if (s->kept[i].conn != gf_bus_sequence(bus)) {
			int step;

			sqlite3_bind_int64(s->one, 1, s->kept[i].seq);
			step = sqlite3_step(s->one);
			/* the row, or what it names, is gone: nothing to send,
			 * and nothing to keep (it would hold the rows after it) */
			gone =
			    step == SQLITE_DONE ||
			    (step == SQLITE_ROW && sqlite3_column_type(s->one, 2) == SQLITE_NULL);
			sent = step == SQLITE_ROW && !gone &&
			       gf_bus_publish(bus, (const char *)sqlite3_column_text(s->one, 1),
			                      sqlite3_column_blob(s->one, 2),
			                      (size_t)sqlite3_column_bytes(s->one, 2),
			                      (const char *)sqlite3_column_text(s->one, 3),
			                      sqlite3_column_int(s->one, 4) != 0,
			                      sqlite3_column_blob(s->one, 5),
			                      (size_t)sqlite3_column_bytes(s->one, 5),
			                      GF_BUS_TAG_HOOK | (uint64_t)s->kept[i].seq) == GF_OK;
			sqlite3_reset(s->one);
		}
		if (sent) {
			s->inflight++;
			again++;
		} else if (gone) {
			sqlite3_bind_int64(s->del, 1, s->kept[i].seq);
			if (gf__store_step_reset(s->del) != SQLITE_DONE)
				gf_log_err("GF-STORE-SQL",
				           "cannot clear an acknowledged publish: %s",
				           sqlite3_errmsg(s->db));
		} else {
			s->kept[keep++] = s->kept[i];
		}
	}
	s->nkept = keep;
	if (again)
		gf_log_notice("GF-STORE-RESEND",
		              "%zu publish(es) acknowledged before the connection was lost go "
		              "again (the broker may have lost them)",
		              again);
}

void gf_store_outbox_hold(struct gf_store *s, double seconds)
{
	s->hold_s = seconds;
}

/* Queues seq for outbox_clear; clears at once when out of memory. */
static void outbox_acked(struct gf_store *s, sqlite3_int64 seq)
{
	if (s->nacked == s->acked_cap) {
		size_t cap = s->acked_cap ? 2 * s->acked_cap : 64;
		sqlite3_int64 *a = realloc(s->acked, cap * sizeof(*a));
		if (!a) {
			gf__store_outbox_clear(s);
			sqlite3_bind_int64(s->del, 1, seq);
			if (gf__store_step_reset(s->del) != SQLITE_DONE)
				gf_log_err("GF-STORE-SQL",
				           "cannot clear an acknowledged publish: %s",
				           sqlite3_errmsg(s->db));
			return;
		}
		s->acked = a;
		s->acked_cap = cap;
	}
	s->acked[s->nacked++] = seq;
}

/* The broker's answer to an outbox row (bus.h's hook); tag 0: the agent
 * has handled everything the bus had brought, so the rows answered since
 * are deleted, together. */
static void outbox_ack(void *arg, uint64_t tag, bool ok, int reason)
{
	struct gf_store *s = arg;
	sqlite3_int64 seq = (sqlite3_int64)(tag & ~GF_BUS_TAG_HOOK);

	if (tag == 0) {
		if (s->nacked)
			gf__store_outbox_clear(s);
		if (s->drained)
			s->drained(s->drained_arg);
		s->drains = true;
		gf__store_checkpoint_when_due(s);
		return;
	}
	if (s->inflight > 0)
		s->inflight--;
	if (!ok && reason < 0x80) {
		/* Failed on the way (the connection broke): hand it over again. */
		if (seq <= s->handed)
			s->handed = seq - 1;
		return;
	}
	if (!ok)
		gf_log_err("GF-STORE-REFUSED",
		           "the broker refused a queued publish (0x%02x); dropped from the outbox",
		           (unsigned)reason);
	outbox_acked(s, seq);
	/* Half the window answered: the next rows go (never from inside a
	 * transaction, whose rows are not committed yet). */
	if (s->held && s->flushed_on && s->inflight <= GF_STORE_WINDOW / 2 &&
	    sqlite3_get_autocommit(s->db))
		gf_store_outbox_flush(s, s->flushed_on);
}

size_t gf_store_outbox_flush(struct gf_store *s, struct gf_bus *bus)
{
	size_t sent = 0, gone = 0;

	gf_bus_set_ack_hook(bus, outbox_ack, s);
	/* Rows answered are gone before the next are read: a failure that
	 * rewound `handed` does not send them again. */
	if ((s->nacked || s->nkept) && sqlite3_get_autocommit(s->db)) {
		s->flushed_on = bus;
		gf__store_outbox_clear(s);
	}
	if (s->nkept && gf_bus_connected(bus))
		outbox_resend_kept(s, bus);
	s->flushed_on = bus;
	s->held = false;
	/* Nothing in flight at the bus: none of ours either (a count that
	 * drifted, say after a replaced client, never holds the outbox). */
	if (gf_bus_pending(bus) == 0)
		s->inflight = 0;
	for (;;) {
		sqlite3_int64 seq;
		const char *topic, *ct;
		const void *payload;
		size_t len;
		bool retain;
		enum gf_err rc;

		if (s->inflight >= GF_STORE_WINDOW) {
			s->held = true;
			break;
		}
		sqlite3_bind_int64(s->next, 1, s->handed);
		if (sqlite3_step(s->next) != SQLITE_ROW)
			break;
		seq = sqlite3_column_int64(s->next, 0);
		if (sqlite3_column_type(s->next, 2) == SQLITE_NULL) {
			/* What it names is gone: a request answered (or given up,
			 * gf_resend_until) before it went, which needs it no more;
			 * a reply deleted by hand (gf_store_prune keeps those). */
			sqlite3_reset(s->next);
			s->handed = seq;
			outbox_acked(s, seq);
			gone++;
			continue;
		}
		topic = (const char *)sqlite3_column_text(s->next, 1);
		payload = sqlite3_column_blob(s->next, 2);
		len = (size_t)sqlite3_column_bytes(s->next, 2);
		ct = (const char *)sqlite3_column_text(s->next, 3);
		retain = sqlite3_column_int(s->next, 4) != 0;
		rc = gf_bus_publish(
		    bus, topic, payload, len, ct, retain, sqlite3_column_blob(s->next, 5),
		    (size_t)sqlite3_column_bytes(s->next, 5), GF_BUS_TAG_HOOK | (uint64_t)seq);
		sqlite3_reset(s->next);
		if (rc != GF_OK)
			break;
		s->handed = seq;
		s->inflight++;
		sent++;
	}
	sqlite3_reset(s->next);
	sqlite3_clear_bindings(s->next);
	if (gone)
		gf_log_info("GF-STORE-GONE",
		            "%zu queued publish(es) whose request was answered or given up "
		            "before they went: dropped from the outbox",
		            gone);
	return sent;
}

void gf__store_outbox_close(struct gf_store *s)
{
	if (s->nacked && s->del)
		gf__store_outbox_clear(s);
	/* A clean stop forgets the rows it kept: the broker had them when the
	 * agent said goodbye (gf_store_outbox_hold). */
	if (s->nkept && s->del && s->acked) {
		for (size_t i = 0; i < s->nkept; i += s->acked_cap) {
			size_t n = s->nkept - i < s->acked_cap ? s->nkept - i : s->acked_cap;

			for (size_t k = 0; k < n; k++)
				s->acked[k] = s->kept[i + k].seq;
			delete_rows(s, s->acked, n);
		}
	}
}
