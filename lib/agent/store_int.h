/* SPDX-License-Identifier: MIT */
/*
 * store_int.h - what the pieces of the store share (lib/agent/store*.c
 * only): the database, its schema and transactions (store.c) and the
 * outbox (store_outbox.c).
 */
#ifndef GF_STORE_INT_H
#define GF_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/store.h"

/* gf_outbox.seq is given by the store (next_seq), not AUTOINCREMENT: that
 * wrote sqlite_sequence's page at every transaction that queued. A store
 * made before keeps its AUTOINCREMENT table, which takes the given seq as
 * well. gf_outbox.reply / .resend: the key in gf_reply / gf_resend
 * (resend.h) whose payload the row sends, its own payload then empty, so
 * what is kept there is held once (gf_store_outbox_add_kept). gf_resend's
 * queued column is resend.c's (gf_resend_open adds it to older tables). */
#define RUNTIME_SCHEMA                                                                             \
	"CREATE TABLE IF NOT EXISTS gf_handled (key TEXT PRIMARY KEY, at INTEGER) WITHOUT ROWID;"  \
	"CREATE TABLE IF NOT EXISTS gf_outbox (seq INTEGER PRIMARY KEY,"                           \
	" topic TEXT NOT NULL, payload BLOB NOT NULL, content_type TEXT, retain INTEGER NOT "      \
	"NULL, correlation BLOB, reply TEXT, resend TEXT);"                                        \
	"CREATE TABLE IF NOT EXISTS gf_reply (key TEXT PRIMARY KEY,"                               \
	" topic TEXT NOT NULL, payload BLOB NOT NULL);"                                            \
	"CREATE TABLE IF NOT EXISTS gf_resend (key TEXT PRIMARY KEY, answer TEXT,"                 \
	" topic TEXT NOT NULL, payload BLOB NOT NULL, expires REAL, queued REAL);"

/* A row's payload: its own, or what it names (NULL once that is gone). */
#define OUTBOX_COLS                                                                                \
	"seq, topic, CASE WHEN reply IS NOT NULL THEN"                                             \
	" (SELECT r.payload FROM gf_reply r WHERE r.key = gf_outbox.reply)"                        \
	" WHEN resend IS NOT NULL THEN"                                                            \
	" (SELECT r.payload FROM gf_resend r WHERE r.key = gf_outbox.resend)"                      \
	" ELSE payload END, content_type, retain, correlation"

struct gf_store {
	sqlite3 *db;
	sqlite3_stmt *seen, *mark, *add, *next, *del, *prune, *one;
	sqlite3_int64 handed;      /* rows up to this seq were handed to the bus */
	sqlite3_int64 next_seq;    /* the seq of the next row queued */
	size_t inflight;           /* rows handed and not yet answered by the bus */
	bool held;                 /* the last flush stopped at GF_STORE_WINDOW */
	struct gf_bus *flushed_on; /* the bus of the last flush: refills go there */
	sqlite3_int64 *acked;      /* rows the broker answered, not yet deleted */
	size_t nacked, acked_cap;
	/* gf_store_outbox_hold: rows acknowledged and kept, oldest first, with
	 * when (monotonic seconds) and on which connection of the bus. */
	double hold_s;
	struct kept {
		sqlite3_int64 seq;
		double at;
		uint64_t conn;
	} * kept;
	size_t nkept, kept_cap;
	void (*drained)(void *); /* gf_store_on_drain */
	void *drained_arg;
	time_t next_prune;  /* real time of the next automatic gf_store_prune */
	struct gf_bus *bus; /* gf_store_bind; NULL: the agent's own */
	struct cached {     /* gf_store_cached */
		uint64_t hash;
		sqlite3_stmt *st;
	} * cached;
	size_t ncached, cached_cap;
	int wal_frames;   /* frames in the WAL after the last commit */
	double due_since; /* monotonic s when a checkpoint fell due; 0: none due */
	bool drains;      /* the bus has called the drained hook: checkpoints wait for it */
};

/* A checkpoint is due once the WAL holds this many frames (SQLite's own
 * wal_autocheckpoint). While the outbox has publishes in flight it waits,
 * at most CHECKPOINT_DEFER_S (checkpoint_when_due). */
#define CHECKPOINT_FRAMES  1000
#define CHECKPOINT_DEFER_S 30.0

/* Runs a prepared statement to completion, resets it and clears its
 * bindings; SQLITE_ROW counts as done. */
int gf__store_step_reset(sqlite3_stmt *st);

/* BEGIN IMMEDIATE, COMMIT, ROLLBACK by their text, through kept statements. */
enum gf_err gf__store_txn(struct gf_store *s, const char *sql);

/* At the drained moment: the checkpoint, if one is due and may run now. */
void gf__store_checkpoint_when_due(struct gf_store *s);

/* The rows the broker answered: deleted, or kept (gf_store_outbox_hold). */
void gf__store_outbox_clear(struct gf_store *s);

/* At a clean close: the answered rows deleted, the kept rows forgotten. */
void gf__store_outbox_close(struct gf_store *s);

#endif
