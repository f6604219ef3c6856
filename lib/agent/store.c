/* SPDX-License-Identifier: MIT */
#include "agent/store.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/hash.h"
#include "base/log.h"
#include "agent/store_int.h"
#include "agent/walvfs.h"

/* Copies the WAL back into the database, PASSIVE: never waits for a reader
 * (another process reading the database), what it could not copy is
 * copied next time. */
static void checkpoint(struct gf_store *s)
{
	int log = 0, done = 0;

	if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) !=
	    SQLITE_OK) {
		/* Still due: tried again at the next drained moment. */
		gf_log_warning("GF-STORE-CHECKPOINT", "checkpoint: %s", sqlite3_errmsg(s->db));
		return;
	}
	s->wal_frames = log > done ? log - done : 0;
	s->due_since = 0;
}

/* At the drained moment (outbox_ack, tag 0). A checkpoint copies every page
 * the WAL holds and syncs the WAL and the database: after FMAN's assignment
 * of 9,900 member schedules, 28,000 pages and 0.9 s of the agent's thread,
 * mostly waiting for the disk. While the outbox has publishes in flight (a
 * burst going out through the window, whose refills wait for this thread)
 * it waits for the burst to end, CHECKPOINT_DEFER_S at most, so that a
 * store always busy still checkpoints. */
void gf__store_checkpoint_when_due(struct gf_store *s)
{
	double now;

	if (s->wal_frames < CHECKPOINT_FRAMES)
		return;
	now = gf_clock_mono_s();
	if (s->due_since == 0)
		s->due_since = now;
	if (s->inflight == 0 || now - s->due_since >= CHECKPOINT_DEFER_S)
		checkpoint(s);
}

/* After each commit (sqlite3_wal_hook; it replaces SQLite's automatic
 * checkpoint, which runs inside the commit). A checkpoint copies every page
 * the WAL holds into the database: at a large site's assignment thousands,
 * tens of milliseconds, which would delay the messages the transaction
 * queued. Once the bus calls the drained hook (the agent has handled what
 * had come, and the turn's messages are written) the checkpoint waits for
 * it; a store whose bus never does checkpoints here, as SQLite would. */
static int wal_committed(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct gf_store *s = arg;

	(void)db;
	(void)name;
	s->wal_frames = frames;
	if (!s->drains && frames >= CHECKPOINT_FRAMES)
		checkpoint(s);
	return SQLITE_OK;
}

/* Whether table has column (false also when the question fails: the
 * ALTER TABLE that follows then says why). */
static bool has_column(struct gf_store *s, const char *table, const char *column)
{
	sqlite3_stmt *st = NULL;
	char sql[96];
	bool has = false;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	while (sqlite3_step(st) == SQLITE_ROW)
		has |= strcmp(gf_store_text(st, 1), column) == 0;
	sqlite3_finalize(st);
	return has;
}

/* Databases made before handled keys had their time get the column; their
 * keys count from now. Outboxes made before publishes could carry
 * correlation data get its column (empty for the rows they hold). */
static enum gf_err upgrade(struct gf_store *s, char *err, size_t errlen)
{
	char sql[128];

	if (!has_column(s, "gf_handled", "at")) {
		snprintf(sql, sizeof(sql),
		         "ALTER TABLE gf_handled ADD COLUMN at INTEGER; UPDATE gf_handled SET at = "
		         "%lld",
		         (long long)time(NULL));
		if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "cannot add the time of handled keys: %s",
			         sqlite3_errmsg(s->db));
			return GF_EIO;
		}
	}
	if (!has_column(s, "gf_outbox", "correlation") &&
	    sqlite3_exec(s->db, "ALTER TABLE gf_outbox ADD COLUMN correlation BLOB", NULL, NULL,
	                 NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot add correlation data to the outbox: %s",
		         sqlite3_errmsg(s->db));
		return GF_EIO;
	}
	for (int i = 0; i < 2; i++) {
		const char *col = i ? "resend" : "reply";

		snprintf(sql, sizeof(sql), "ALTER TABLE gf_outbox ADD COLUMN %s TEXT", col);
		if (!has_column(s, "gf_outbox", col) &&
		    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "cannot add %s keys to the outbox: %s", col,
			         sqlite3_errmsg(s->db));
			return GF_EIO;
		}
	}
	return GF_OK;
}

/* Above every seq the outbox holds or, in a store made with AUTOINCREMENT,
 * ever held (sqlite_sequence), so a seq is never given twice while the
 * rows handed to the bus (their seqs the tags of its answers) are in
 * flight. */
static sqlite3_int64 first_free_seq(struct gf_store *s)
{
	static const char *const sql[] = {
	    "SELECT max(seq) FROM gf_outbox",
	    "SELECT seq FROM sqlite_sequence WHERE name = 'gf_outbox'",
	};
	sqlite3_int64 top = 0;

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *st = NULL;

		/* sqlite_sequence exists only where some table has AUTOINCREMENT */
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > top)
			top = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return top + 1;
}

sqlite3_stmt *gf_store_prepare(struct gf_store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		gf_log_err("GF-STORE-SQL", "cannot prepare '%.80s': %s", sql,
		           sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

sqlite3_stmt *gf_store_cached(struct gf_store *s, const char *sql)
{
	uint64_t h = gf_fnv1a64(GF_FNV1A64_BASIS, sql, strlen(sql));
	sqlite3_stmt *st = NULL;

	for (size_t i = 0; i < s->ncached; i++)
		if (s->cached[i].hash == h && strcmp(sqlite3_sql(s->cached[i].st), sql) == 0) {
			st = s->cached[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	if (s->ncached == s->cached_cap) {
		size_t cap = s->cached_cap ? 2 * s->cached_cap : 8;
		struct cached *c = realloc(s->cached, cap * sizeof(*c));

		if (!c) {
			gf_log_err("GF-STORE-SQL", "out of memory for a statement");
			return NULL;
		}
		s->cached = c;
		s->cached_cap = cap;
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		gf_log_err("GF-STORE-SQL", "cannot prepare '%.80s': %s", sql,
		           sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
		return NULL;
	}
	s->cached[s->ncached++] = (struct cached){h, st};
	return st;
}

/* The small store's settings after its open (gf_store_open_small). */
static enum gf_err make_small(struct gf_store *s, int cache_kib, char *err, size_t errlen)
{
	char sql[128], *msg = NULL;

	snprintf(sql, sizeof(sql),
	         "PRAGMA cache_size = -%d; PRAGMA cache_spill = OFF;"
	         " PRAGMA locking_mode = EXCLUSIVE; BEGIN IMMEDIATE; COMMIT;",
	         cache_kib > 0 ? cache_kib : 1);
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int code = sqlite3_errcode(s->db);

		snprintf(err, errlen, "cannot set up %s for exclusive use: %s%s",
		         sqlite3_db_filename(s->db, "main"), msg ? msg : sqlite3_errmsg(s->db),
		         code == SQLITE_BUSY || code == SQLITE_LOCKED
		             ? " (another process has it open: close it and start again)"
		             : "");
		sqlite3_free(msg);
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return GF_EIO;
	}
	return GF_OK;
}

static enum gf_err prepare(struct gf_store *s, const char *sql, sqlite3_stmt **st)
{
	*st = gf_store_prepare(s, sql);
	return *st ? GF_OK : GF_EIO;
}

enum gf_err gf_store_run(struct gf_store *s, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *st = gf_store_cached(s, sql);
	enum gf_err rc = GF_EIO;
	va_list ap;

	if (!st)
		return rc;
	va_start(ap, fmt);
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1,
			                  SQLITE_TRANSIENT);
		else if (fmt[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		else
			sqlite3_bind_double(st, i + 1, va_arg(ap, double));
	}
	va_end(ap);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = GF_OK;
	else
		gf_log_err("GF-STORE-SQL", "'%.80s': %s", sql, sqlite3_errmsg(s->db));
	sqlite3_reset(st);
	return rc;
}

const char *gf_store_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

void gf_store_one_thread(void)
{
	if (sqlite3_config(SQLITE_CONFIG_SINGLETHREAD) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK)
		gf_log_warning("GF-STORE-SQL", "SQLite was in use before its one-thread "
		                               "setup: it keeps its mutexes");
	if (gf_walvfs_register() != GF_OK)
		gf_log_warning("GF-STORE-SQL",
		               "cannot register the %s VFS: WAL frames are "
		               "written in two calls each",
		               GF_WALVFS_NAME);
}

/* gf_store_open with the page size of a new database (0: SQLite's). */
static enum gf_err open_store(const char *dir, const char *name, const char *schema_sql,
                              int page_size, struct gf_store **out, char *err, size_t errlen)
{
	struct gf_store *s = calloc(1, sizeof(*s));
	char path[4096], pragma[64];
	char *msg = NULL;
	enum gf_err rc = GF_ENOMEM;

	if (!s)
		goto out;
	rc = GF_EIO;
	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		         s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	snprintf(pragma, sizeof(pragma), "PRAGMA page_size=%d;", page_size);
	/* Before WAL mode and the first table: a database that exists keeps its own. */
	if ((page_size && sqlite3_exec(s->db, pragma, NULL, NULL, &msg) != SQLITE_OK) ||
	    sqlite3_exec(s->db,
	                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                 "PRAGMA foreign_keys=ON;" RUNTIME_SCHEMA,
	                 NULL, NULL, &msg) != SQLITE_OK ||
	    (schema_sql && sqlite3_exec(s->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK)) {
		snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
		goto out;
	}
	if (upgrade(s, err, errlen) != GF_OK)
		goto out;
	s->next_seq = first_free_seq(s);
	sqlite3_wal_hook(s->db, wal_committed, s);
	if (prepare(s, "SELECT 1 FROM gf_handled WHERE key = ?", &s->seen) != GF_OK ||
	    prepare(s, "INSERT OR IGNORE INTO gf_handled (key, at) VALUES (?, ?)", &s->mark) !=
	        GF_OK ||
	    prepare(s, "DELETE FROM gf_handled WHERE at < ?", &s->prune) != GF_OK ||
	    prepare(s,
	            "INSERT INTO gf_outbox (topic, payload, content_type, retain, correlation, "
	            "reply, resend, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	            &s->add) != GF_OK ||
	    prepare(s, "SELECT " OUTBOX_COLS " FROM gf_outbox WHERE seq > ? ORDER BY seq LIMIT 1",
	            &s->next) != GF_OK ||
	    prepare(s, "DELETE FROM gf_outbox WHERE seq = ?", &s->del) != GF_OK ||
	    prepare(s, "SELECT " OUTBOX_COLS " FROM gf_outbox WHERE seq = ?", &s->one) != GF_OK) {
		snprintf(err, errlen, "cannot prepare the runtime's statements on %s", path);
		goto out;
	}
	rc = GF_OK;
out:
	sqlite3_free(msg);
	if (rc != GF_OK) {
		gf_store_close(s);
		return rc;
	}
	*out = s;
	return GF_OK;
}

enum gf_err gf_store_open(const char *dir, const char *name, const char *schema_sql,
                          struct gf_store **out, char *err, size_t errlen)
{
	return open_store(dir, name, schema_sql, 0, out, err, errlen);
}

enum gf_err gf_store_open_small(const char *dir, const char *name, const char *schema_sql,
                                int cache_kib, struct gf_store **out, char *err, size_t errlen)
{
	enum gf_err rc = open_store(dir, name, schema_sql, GF_STORE_SMALL_PAGE, out, err, errlen);

	if (rc == GF_OK && (rc = make_small(*out, cache_kib, err, errlen)) != GF_OK) {
		gf_store_close(*out);
		*out = NULL;
	}
	return rc;
}

size_t gf_store_outbox_count(struct gf_store *s)
{
	sqlite3_stmt *st;
	size_t n = 0;

	if ((s->nacked || s->nkept) && sqlite3_get_autocommit(s->db))
		gf__store_outbox_clear(s);
	st = gf_store_prepare(s, "SELECT count(*) FROM gf_outbox");
	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n > s->nkept ? n - s->nkept : 0; /* the kept rows were acknowledged */
}

sqlite3 *gf_store_db(struct gf_store *s)
{
	return s->db;
}

enum gf_err gf_store_exec(struct gf_store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		gf_log_err("GF-STORE-SQL", "'%.80s': %s", sql, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return GF_EIO;
	}
	return GF_OK;
}

/* Kept statements: sqlite3_exec would parse them again at every
 * transaction. */
enum gf_err gf__store_txn(struct gf_store *s, const char *sql)
{
	sqlite3_stmt *st = gf_store_cached(s, sql);
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;

	if (rc != SQLITE_DONE)
		gf_log_err("GF-STORE-SQL", "'%s': %s", sql, sqlite3_errmsg(s->db));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? GF_OK : GF_EIO;
}

enum gf_err gf_store_begin(struct gf_store *s)
{
	return gf__store_txn(s, "BEGIN IMMEDIATE");
}

enum gf_err gf_store_commit(struct gf_store *s)
{
	enum gf_err rc = gf__store_txn(s, "COMMIT");
	time_t now = time(NULL);

	/* Once an hour, after a commit (outside any transaction). */
	if (rc == GF_OK && now >= s->next_prune) {
		s->next_prune = now + 3600;
		gf_store_prune(s, now - GF_STORE_KEEP_S);
	}
	return rc;
}

size_t gf_store_prune(struct gf_store *s, long long before)
{
	size_t n;

	sqlite3_bind_int64(s->prune, 1, before);
	if (gf__store_step_reset(s->prune) != SQLITE_DONE) {
		gf_log_err("GF-STORE-SQL", "cannot forget old handled keys: %s",
		           sqlite3_errmsg(s->db));
		return 0;
	}
	n = (size_t)sqlite3_changes(s->db);
	if (!n)
		return 0;
	/* The replies kept for duplicates (resend.h's gf_reply) go with their
	 * keys: a duplicate that old is not answered again. One the outbox
	 * still has to send stays. */
	if (sqlite3_exec(s->db,
	                 "DELETE FROM gf_reply WHERE key NOT IN (SELECT key FROM gf_handled)"
	                 " AND key NOT IN (SELECT reply FROM gf_outbox WHERE reply IS NOT NULL)",
	                 NULL, NULL, NULL) != SQLITE_OK)
		gf_log_err("GF-STORE-SQL", "cannot forget old replies: %s", sqlite3_errmsg(s->db));
	gf_log_info("GF-STORE-PRUNED", "forgot %zu handled key(s) older than %lld days", n,
	            (long long)(time(NULL) - before) / 86400);
	return n;
}

enum gf_err gf_store_commit_part(struct gf_store *s)
{
	struct gf_bus *bus = s->flushed_on;
	enum gf_err rc = gf__store_txn(s, "COMMIT");

	if (rc != GF_OK)
		return rc;
	if (bus && gf_bus_connected(bus)) {
		gf_store_outbox_flush(s, bus);
		gf_bus_flush(bus);
	}
	return gf_store_begin(s);
}

void gf_store_rollback(struct gf_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		gf__store_txn(s, "ROLLBACK");
}

int gf__store_step_reset(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

bool gf_store_seen(struct gf_store *s, const char *key)
{
	sqlite3_bind_text(s->seen, 1, key, -1, SQLITE_STATIC);
	return gf__store_step_reset(s->seen) == SQLITE_ROW;
}

enum gf_err gf_store_mark(struct gf_store *s, const char *key)
{
	sqlite3_bind_text(s->mark, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->mark, 2, (sqlite3_int64)time(NULL));
	if (gf__store_step_reset(s->mark) != SQLITE_DONE) {
		gf_log_err("GF-STORE-SQL", "cannot mark a key handled: %s", sqlite3_errmsg(s->db));
		return GF_EIO;
	}
	return GF_OK;
}

void gf_store_on_drain(struct gf_store *s, void (*fn)(void *arg), void *arg)
{
	s->drained = fn;
	s->drained_arg = arg;
}

void gf_store_bind(struct gf_store *s, struct gf_bus *bus)
{
	s->bus = bus;
}

struct gf_bus *gf_store_bus(const struct gf_store *s)
{
	return s->bus;
}

void gf_store_close(struct gf_store *s)
{
	if (!s)
		return;
	gf__store_outbox_close(s);
	free(s->acked);
	free(s->kept);
	sqlite3_finalize(s->one);
	sqlite3_finalize(s->seen);
	sqlite3_finalize(s->mark);
	sqlite3_finalize(s->add);
	sqlite3_finalize(s->next);
	sqlite3_finalize(s->del);
	sqlite3_finalize(s->prune);
	for (size_t i = 0; i < s->ncached; i++)
		sqlite3_finalize(s->cached[i].st);
	free(s->cached);
	sqlite3_close(s->db);
	free(s);
}
