/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/agent/store.h: handled keys and the outbox follow the
 * transaction (rolled back: gone; committed: there after a reopen). The
 * outbox's flush to a bus is exercised by the agents' integration tests.
 * And of lib/agent/once.h without an agent (a NULL: failures are only
 * returned); with agents, tests/integration/store_fail_test.sh. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/bus.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "agent/store.h"
#include "flexoffer.pb-c.h"
#include "leak_check.h"

TestSuite(store, .fini = leak_check);

static int count(struct gf_store *s, const char *sql)
{
	sqlite3_stmt *st;
	int n;

	cr_assert_eq(sqlite3_prepare_v2(gf_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int outbox_rows(struct gf_store *s)
{
	return count(s, "SELECT count(*) FROM gf_outbox");
}

Test(store, keys_and_outbox_follow_the_transaction)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", cmd[64], err[256] = "";
	struct gf_store *s = NULL;

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(gf_store_open(dir, "t", "CREATE TABLE IF NOT EXISTS x (v INTEGER);", &s, err,
	                           sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert(!gf_store_seen(s, "offer-1"));
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_mark(s, "offer-1"), GF_OK);
	cr_assert_eq(gf_store_outbox_add(s, "gf/a", "{}", 2, NULL, false), GF_OK);
	cr_assert_eq(gf_store_exec(s, "INSERT INTO x VALUES (1)"), GF_OK);
	gf_store_rollback(s);
	cr_assert(!gf_store_seen(s, "offer-1"), "a rolled-back mark must not stay");
	cr_assert_eq(outbox_rows(s), 0);

	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_mark(s, "offer-1"), GF_OK);
	cr_assert_eq(gf_store_mark(s, "offer-1"), GF_OK, "marking twice is harmless");
	cr_assert_eq(gf_store_outbox_add(s, "gf/a", "{}", 2, "application/json", true), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(gf_store_exec(s, "NOT SQL"), GF_EIO);
	gf_store_close(s);

	s = NULL;
	cr_assert_eq(gf_store_open(dir, "t", NULL, &s, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert(gf_store_seen(s, "offer-1"), "a committed mark survives a reopen");
	cr_assert(!gf_store_seen(s, "offer-2"));
	cr_assert_eq(outbox_rows(s), 1);
	gf_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(store, unusable_directory_is_an_error)
{
	struct gf_store *s = NULL;
	char err[256] = "";

	cr_assert_eq(gf_store_open("/nonexistent", "t", NULL, &s, err, sizeof(err)), GF_EIO);
	cr_assert_null(s);
	cr_assert(strstr(err, "/nonexistent/t.db") != NULL, "%s", err);
}

Test(store, old_handled_keys_are_forgotten)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", cmd[64], err[256] = "";
	struct gf_store *s = NULL;
	long long now = (long long)time(NULL);

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(gf_store_open(dir, "t", NULL, &s, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(gf_resend_open(s), GF_OK);
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_mark(s, "new"), GF_OK);
	cr_assert_eq(gf_store_mark(s, "old"), GF_OK);
	cr_assert_eq(
	    gf_store_exec(s, "INSERT INTO gf_reply VALUES ('old', 't', 'p'), ('new', 't', 'p')"),
	    GF_OK);
	cr_assert_eq(
	    gf_store_exec(s, "UPDATE gf_handled SET at = at - 40 * 86400 WHERE key = 'old'"),
	    GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK, "the first commit prunes at once");
	cr_assert(!gf_store_seen(s, "old"), "a key older than GF_STORE_KEEP_S is forgotten");
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_reply WHERE key = 'old'"), 0,
	             "... with the reply kept for it");
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_reply WHERE key = 'new'"), 1);
	cr_assert(gf_store_seen(s, "new"));
	cr_assert_eq(gf_store_prune(s, now - GF_STORE_KEEP_S), 0);
	cr_assert_eq(gf_store_prune(s, now + 10), 1, "an explicit prune takes what is older");
	cr_assert(!gf_store_seen(s, "new"));
	gf_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(store, a_database_without_key_times_is_upgraded)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", cmd[160], err[256] = "";
	struct gf_store *s = NULL;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
	         "sqlite3 %s/t.db \"CREATE TABLE gf_handled (key TEXT PRIMARY KEY) WITHOUT ROWID;"
	         " INSERT INTO gf_handled VALUES ('k1');\"",
	         dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(gf_store_open(dir, "t", NULL, &s, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert(gf_store_seen(s, "k1"), "old keys are kept");
	cr_assert_eq(gf_store_prune(s, (long long)time(NULL) - 60), 0,
	             "... and count from the upgrade");
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_mark(s, "k2"), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert(gf_store_seen(s, "k2"));
	gf_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* An answer's correlation data stays with its outbox row; an outbox made
 * before the column existed gets it, its rows without. */
Test(store, outbox_rows_keep_correlation_data_and_old_outboxes_are_upgraded)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", cmd[512], err[256] = "";
	struct gf_store *s = NULL;
	sqlite3_stmt *st;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(
	    cmd, sizeof(cmd),
	    "sqlite3 %s/t.db \"CREATE TABLE gf_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	    " topic TEXT NOT NULL, payload BLOB NOT NULL, content_type TEXT, retain INTEGER NOT"
	    " NULL); INSERT INTO gf_outbox (topic, payload, retain) VALUES ('gf/old', 'x', 0);\"",
	    dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(gf_store_open(dir, "t", NULL, &s, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(gf_store_outbox_add_reply(s, "gf/a", "{}", 2, NULL, false, "q\0\1", 3), GF_OK);
	cr_assert_eq(gf_store_outbox_add(s, "gf/b", "{}", 2, NULL, false), GF_OK);
	cr_assert_eq(
	    sqlite3_prepare_v2(gf_store_db(s),
	                       "SELECT topic, hex(correlation) FROM gf_outbox ORDER BY seq", -1,
	                       &st, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq(gf_store_text(st, 0), "gf/old");
	cr_assert_str_eq(gf_store_text(st, 1), "", "the old row has none");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq(gf_store_text(st, 1), "710001", "three bytes, a NUL among them");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq(gf_store_text(st, 1), "", "a plain publish has none");
	sqlite3_finalize(st);
	gf_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

/* --- gf_store_once ---------------------------------------------------------------------- */

struct work {
	struct gf_store *s;
	int runs, dups;
	enum gf_err rc; /* what fn returns */
};

static enum gf_err work_fn(void *arg)
{
	struct work *w = arg;

	w->runs++;
	cr_assert_eq(gf_store_exec(w->s, "INSERT INTO x VALUES (1)"), GF_OK);
	cr_assert_eq(gf_store_outbox_add(w->s, "gf/a", "{}", 2, NULL, false), GF_OK);
	return w->rc;
}

static enum gf_err dup_fn(void *arg)
{
	struct work *w = arg;

	w->dups++;
	return GF_OK;
}

#define X_SCHEMA "CREATE TABLE IF NOT EXISTS x (v INTEGER);"

static struct gf_store *once_store(char *dir)
{
	struct gf_store *s = NULL;
	char err[256] = "";

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(gf_store_open(dir, "t", X_SCHEMA, &s, err, sizeof(err)), GF_OK, "%s", err);
	return s;
}

/* A small store (gf_store_open_small, a cache of 16 KiB) in a new dir. */
static struct gf_store *small_store(char *dir)
{
	struct gf_store *s = NULL;
	char err[256] = "";

	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(gf_store_open_small(dir, "t", X_SCHEMA, 16, &s, err, sizeof(err)), GF_OK, "%s",
	             err);
	return s;
}

static void once_done(struct gf_store *s, const char *dir)
{
	char cmd[64];

	gf_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(store, once_runs_a_key_once_and_a_duplicate_goes_to_dup)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX";
	struct gf_store *s = once_store(dir);
	struct work w = {.s = s};

	cr_assert_eq(gf_store_once(NULL, s, "k1", work_fn, dup_fn, &w), GF_OK);
	cr_assert(gf_store_seen(s, "k1"), "the key is marked with the work");
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 1);
	cr_assert_eq(gf_store_once(NULL, s, "k1", work_fn, dup_fn, &w), GF_OK);
	cr_assert_eq(gf_store_once(NULL, s, "k1", work_fn, NULL, &w), GF_OK,
	             "a duplicate without dup is only committed");
	cr_assert_eq(w.runs, 1);
	cr_assert_eq(w.dups, 1);
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 1, "the work is done once");
	cr_assert_eq(outbox_rows(s), 1);
	cr_assert_eq(gf_store_once(NULL, s, NULL, work_fn, dup_fn, &w), GF_OK);
	cr_assert_eq(gf_store_once(NULL, s, NULL, work_fn, dup_fn, &w), GF_OK);
	cr_assert_eq(w.runs, 3, "without a key the work runs every time");
	cr_assert(sqlite3_get_autocommit(gf_store_db(s)), "no transaction left open");
	once_done(s, dir);
}

Test(store, once_rolls_back_what_fn_did_when_it_fails)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX";
	struct gf_store *s = once_store(dir);
	struct work w = {.s = s, .rc = GF_EIO};

	cr_assert_eq(gf_store_once(NULL, s, "k1", work_fn, dup_fn, &w), GF_EIO);
	cr_assert(!gf_store_seen(s, "k1"), "the key is not marked: the message comes again");
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 0, "what fn did is rolled back");
	cr_assert_eq(outbox_rows(s), 0, "... and what it queued");
	cr_assert(sqlite3_get_autocommit(gf_store_db(s)), "no transaction left open");
	w.rc = GF_OK;
	cr_assert_eq(gf_store_once(NULL, s, "k1", work_fn, dup_fn, &w), GF_OK,
	             "the same key again is handled");
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 1);
	cr_assert_eq(w.dups, 0);
	once_done(s, dir);
}

Test(store, once_fails_when_begin_fails)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX";
	struct gf_store *s = once_store(dir);
	struct work w = {.s = s};

	cr_assert_eq(gf_store_begin(s), GF_OK, "a transaction already open: BEGIN fails");
	cr_assert_eq(gf_store_once(NULL, s, "k1", work_fn, dup_fn, &w), GF_EIO);
	cr_assert_eq(w.runs, 0, "nothing runs outside its own transaction");
	cr_assert(sqlite3_get_autocommit(gf_store_db(s)), "rolled back");
	once_done(s, dir);
}

/* Criterion runs each test in its own process: GF_STORE_FAIL is read at
 * this process's first gf_store_once. */
Test(store, once_injected_failure_hits_the_first_matching_key_only)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX";
	struct gf_store *s = once_store(dir);
	struct work w = {.s = s};

	cr_assert_eq(setenv("GF_STORE_FAIL", "fb:", 1), 0);
	cr_assert_eq(gf_store_once(NULL, s, "other", work_fn, dup_fn, &w), GF_OK);
	cr_assert_eq(gf_store_once(NULL, s, NULL, work_fn, dup_fn, &w), GF_OK);
	cr_assert_eq(gf_store_once(NULL, s, "fb:1", work_fn, dup_fn, &w), GF_EIO,
	             "the commit fails as injected");
	cr_assert(!gf_store_seen(s, "fb:1"));
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 2, "its work is rolled back");
	cr_assert_eq(gf_store_once(NULL, s, "fb:1", work_fn, dup_fn, &w), GF_OK,
	             "once only: the message is handled at its second coming");
	cr_assert(gf_store_seen(s, "fb:1"));
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 3);
	once_done(s, dir);
}

/* Statements prepared on the store's connection (SQLite's own list). */
static int statements(struct gf_store *s)
{
	int n = 0;

	for (sqlite3_stmt *st = sqlite3_next_stmt(gf_store_db(s), NULL); st;
	     st = sqlite3_next_stmt(gf_store_db(s), st))
		n++;
	return n;
}

Test(store, cached_statements_are_kept_for_the_stores_life)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX";
	struct gf_store *s = once_store(dir);
	const char ins[] = "INSERT INTO x VALUES (?)";
	char same[sizeof(ins)], small_dir[] = "/tmp/gf-store-test-XXXXXX";
	sqlite3_stmt *a, *b;
	int base = statements(s);

	memcpy(same, ins, sizeof(ins));
	a = gf_store_cached(s, ins);
	cr_assert_not_null(a);
	sqlite3_bind_int(a, 1, 7);
	cr_assert_eq(sqlite3_step(a), SQLITE_DONE);
	sqlite3_reset(a);
	b = gf_store_cached(s, same);
	cr_assert_eq(a, b, "the same text (another copy of it) gets the kept statement");
	cr_assert_eq(sqlite3_bind_parameter_count(b), 1);
	cr_assert_eq(sqlite3_step(b), SQLITE_DONE, "bindings cleared: a NULL goes in");
	sqlite3_reset(b);
	cr_assert_eq(count(s, "SELECT count(*) FROM x WHERE v IS NULL"), 1);
	cr_assert_neq(gf_store_cached(s, "DELETE FROM x"), a);
	cr_assert_null(gf_store_cached(s, "SELECT nonsense FROM nowhere"), "a bad one: NULL");
	cr_assert_eq(gf_store_run(s, "INSERT INTO x VALUES (?)", "i", (int64_t)8), GF_OK);
	cr_assert_eq(count(s, "SELECT count(*) FROM x WHERE v = 8"), 1, "gf_store_run uses it");
	cr_assert_eq(statements(s), base + 2, "two kept");
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(statements(s), base + 4, "kept across transactions, with BEGIN and COMMIT");
	once_done(s, dir);

	s = small_store(small_dir);
	base = statements(s);
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_run(s, "INSERT INTO x VALUES (?)", "i", (int64_t)9), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(statements(s), base + 3, "a small store keeps them too");
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_run(s, "INSERT INTO x VALUES (?)", "i", (int64_t)10), GF_OK);
	gf_store_rollback(s);
	cr_assert_eq(statements(s), base + 4, "and ROLLBACK");
	cr_assert_eq(count(s, "SELECT count(*) FROM x WHERE v >= 9"), 1,
	             "the rollback took 10 back");
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(statements(s), base + 4, "no new statement for a second transaction");
	once_done(s, small_dir);
}

/* The size of DIR/FILE, which must exist. */
static long long file_bytes(const char *dir, const char *file)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cr_assert_eq(stat(path, &st), 0, "%s exists", path);
	return (long long)st.st_size;
}

/* gf_store_open_small: small pages; a transaction of 800 pages with a
 * cache of 16 writes nothing to the WAL before its commit; the cache is
 * back under its size after it; the database is the connection's alone. */
Test(store, a_small_store_does_not_spill_shrinks_back_and_is_its_own)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", path[128];
	struct gf_store *s = small_store(dir);
	long long wal;
	int cur = 0, high = 0; /* high: the peak, unused */
	sqlite3 *other;

	cr_assert_eq(count(s, "PRAGMA page_size"), GF_STORE_SMALL_PAGE);
	wal = file_bytes(dir, "t.db-wal");
	cr_assert_eq(gf_store_begin(s), GF_OK);
	for (int i = 0; i < 200; i++)
		cr_assert_eq(gf_store_run(s, "INSERT INTO x VALUES (randomblob(4000))", ""), GF_OK);
	cr_assert_eq(file_bytes(dir, "t.db-wal"), wal,
	             "nothing spilled to the WAL before the commit");
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_gt(file_bytes(dir, "t.db-wal"), wal + 200 * 4000, "the commit wrote the pages");
	cr_assert_eq(sqlite3_db_status(gf_store_db(s), SQLITE_DBSTATUS_CACHE_USED, &cur, &high, 0),
	             SQLITE_OK);
	cr_assert_lt(cur, 64 * 1024, "the cache shrank back (%d bytes)", cur);
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 200);

	snprintf(path, sizeof(path), "%s/t.db", dir);
	cr_assert_eq(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(other, "SELECT count(*) FROM x", NULL, NULL, NULL), SQLITE_BUSY,
	             "another connection cannot read it: %s", sqlite3_errmsg(other));
	sqlite3_close(other);
	once_done(s, dir);
}

/* A database made before (SQLite's page size) opened small keeps its
 * pages and its rows; its cache and lock are a small store's. */
Test(store, a_store_made_before_keeps_its_page_size_when_opened_small)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", err[256] = "";
	struct gf_store *s = once_store(dir);
	int big;

	cr_assert_eq(gf_store_run(s, "INSERT INTO x VALUES (1)", ""), GF_OK);
	big = count(s, "PRAGMA page_size");
	cr_assert_gt(big, GF_STORE_SMALL_PAGE);
	gf_store_close(s);
	s = NULL;
	cr_assert_eq(gf_store_open_small(dir, "t", X_SCHEMA, 16, &s, err, sizeof(err)), GF_OK, "%s",
	             err);
	cr_assert_eq(count(s, "PRAGMA page_size"), big);
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 1);
	cr_assert_eq(count(s, "PRAGMA cache_size"), -16, "its cache is a small store's");
	once_done(s, dir);
}

/* Commits about 1,200 pages (more than the 1,000 frames a checkpoint
 * waits for) in one transaction. */
static void write_pages(struct gf_store *s)
{
	cr_assert_eq(gf_store_begin(s), GF_OK);
	for (int i = 0; i < 1200; i++)
		cr_assert_eq(gf_store_run(s, "INSERT INTO x VALUES (randomblob(4000))", ""), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
}

Test(store, the_checkpoint_waits_until_the_bus_has_written_the_turn)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", dir2[] = "/tmp/gf-store-test-XXXXXX";
	char err[256] = "";
	struct gf_store *s = once_store(dir), *s2;
	struct gf_bus *bus = NULL;
	struct gf_bus_opts o = {.port = 1, .ident = "foa.t1", .site = "site1"};
	long long size;

	/* Without a bus: as SQLite does, in the commit. */
	write_pages(s);
	cr_assert_geq(file_bytes(dir, "t.db"), 1200LL * 4000, "checkpointed in the commit");
	once_done(s, dir);

	/* With a bus that has called the store's hook: after it. */
	s2 = once_store(dir2);
	cr_assert_eq(setenv("GF_PASSWORD", "unused", 1), 0);
	cr_assert_eq(gf_bus_open(&o, &bus, err, sizeof(err)), GF_OK, "%s", err);
	gf_store_outbox_flush(s2, bus);
	cr_assert_null(gf_bus_take(bus), "nothing came: the hook is called");
	write_pages(s2);
	cr_assert_lt(file_bytes(dir2, "t.db"), 1200LL * 4000,
	             "not in the commit: the pages wait in the WAL");
	cr_assert_eq(count(s2, "SELECT count(*) FROM x"), 1200, "and are there all the same");
	cr_assert_null(gf_bus_take(bus));
	cr_assert_geq(file_bytes(dir2, "t.db"), 1200LL * 4000,
	              "checkpointed when the inbox was found empty");

	/* A publish in flight (the bus is not connected: it stays so): the
	 * checkpoint waits for the burst to end. */
	size = file_bytes(dir2, "t.db");
	cr_assert_eq(gf_store_begin(s2), GF_OK);
	cr_assert_eq(gf_store_outbox_add(s2, "gf/site1/foa/t1/ops/all/x", "{}", 2, NULL, false),
	             GF_OK);
	cr_assert_eq(gf_store_commit(s2), GF_OK);
	cr_assert_eq(gf_store_outbox_flush(s2, bus), 1);
	write_pages(s2);
	cr_assert_null(gf_bus_take(bus));
	cr_assert_lt(file_bytes(dir2, "t.db"), size + 1200LL * 4000,
	             "not while a publish is in flight");
	gf_bus_close(bus, 0);
	once_done(s2, dir2);
}

/* Two parts: the first committed on its own, then a second. */
static enum gf_err parts_fn(void *arg)
{
	struct work *w = arg;

	w->runs++;
	cr_assert_eq(gf_store_exec(w->s, "INSERT INTO x VALUES (1)"), GF_OK);
	cr_assert_eq(gf_store_commit_part(w->s), GF_OK);
	cr_assert(!sqlite3_get_autocommit(gf_store_db(w->s)), "the next part is in a transaction");
	cr_assert_eq(gf_store_exec(w->s, "INSERT INTO x VALUES (2)"), GF_OK);
	return w->rc;
}

Test(store, a_part_commits_on_its_own_and_the_key_goes_with_the_last)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX";
	struct gf_store *s = once_store(dir);
	struct work w = {.s = s, .rc = GF_EIO};

	cr_assert_eq(gf_store_once(NULL, s, "k1", parts_fn, dup_fn, &w), GF_EIO);
	cr_assert_eq(count(s, "SELECT count(*) FROM x WHERE v = 1"), 1, "the first part stays");
	cr_assert_eq(count(s, "SELECT count(*) FROM x WHERE v = 2"), 0, "the failed part is gone");
	cr_assert(!gf_store_seen(s, "k1"), "not marked: the message is handled again");
	w.rc = GF_OK;
	cr_assert_eq(gf_store_once(NULL, s, "k1", parts_fn, dup_fn, &w), GF_OK);
	cr_assert(gf_store_seen(s, "k1"));
	cr_assert_eq(count(s, "SELECT count(*) FROM x"), 3, "done again whole");
	cr_assert_eq(gf_store_once(NULL, s, "k1", parts_fn, dup_fn, &w), GF_OK);
	cr_assert_eq(w.runs, 2);
	cr_assert_eq(w.dups, 1);
	once_done(s, dir);
}

Test(store, resend_tables_made_by_an_older_version_get_the_queued_column)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", cmd[320];
	struct gf_store *s = NULL;
	char err[256] = "";

	cr_assert_not_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
	         "sqlite3 %s/t.db \"CREATE TABLE gf_resend (key TEXT PRIMARY KEY, answer TEXT,"
	         " topic TEXT NOT NULL, payload BLOB NOT NULL, expires REAL);"
	         " INSERT INTO gf_resend VALUES ('k0', NULL, 't', 'p', NULL);\"",
	         dir);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(gf_store_open(dir, "t", NULL, &s, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(gf_resend_open(s), GF_OK);
	cr_assert_eq(gf_resend_open(s), GF_OK, "twice: nothing more to add");
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_resend WHERE key = 'k0' AND queued IS NULL"),
	             1, "the old row kept, without a time (due at the first period)");
	cr_assert_eq(gf_resend_keep(s, "k1", NULL, "gf/t", "{}", 2), GF_OK);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_resend WHERE key = 'k1' AND"
	                      " abs(queued - CAST(strftime('%s', 'now') AS REAL)) < 5"),
	             1, "a kept request has the real time it was queued");
	once_done(s, dir);
}

/* --- replies held once (gf_store_outbox_add_kept) and outbox seqs ----------------------- */

static int outbox_seq_max(struct gf_store *s)
{
	return count(s, "SELECT coalesce(max(seq), 0) FROM gf_outbox");
}

Test(store, a_reply_is_held_once_and_sent_from_where_it_is_kept)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", err[256] = "";
	struct gf_store *s = once_store(dir);
	struct gf_bus *bus = NULL;
	struct gf_bus_opts o = {.port = 1, .ident = "foa.t1", .site = "site1"};
	Goflex__FlexOfferAck ack = GOFLEX__FLEX_OFFER_ACK__INIT;
	bool found = true;

	ack.flexofferid = "o1";
	cr_assert_eq(setenv("GF_PASSWORD", "unused", 1), 0);
	cr_assert_eq(gf_bus_open(&o, &bus, err, sizeof(err)), GF_OK, "%s", err);
	gf_store_bind(s, bus);
	cr_assert_eq(gf_resend_open(s), GF_OK);
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_resend_reply(NULL, s, "k1", "fman", "f1", "flexoffer.ack", &ack.base),
	             GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_gt(count(s, "SELECT length(payload) FROM gf_reply WHERE key = 'k1'"), 10);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_outbox WHERE reply = 'k1' AND"
	                      " length(payload) = 0 AND topic LIKE '%/fman/f1/flexoffer.ack'"),
	             1, "the outbox row names the reply instead of holding a copy");
	cr_assert_eq(gf_store_outbox_flush(s, bus), 1, "and is handed to the bus with it");

	/* Replaced under its key while a row still names it: that row keeps
	 * what it queued. */
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_resend_reply(NULL, s, "k0", "fman", "f1", "flexoffer.ack", &ack.base),
	             GF_OK);
	ack.flexofferid = "o2";
	cr_assert_eq(gf_resend_reply(NULL, s, "k0", "fman", "f1", "flexoffer.ack", &ack.base),
	             GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_outbox WHERE reply IS NULL AND"
	                      " instr(CAST(payload AS TEXT), '\"o1\"') > 0"),
	             1, "the first row got its own copy of the first reply");
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_outbox WHERE reply = 'k0'"), 1);
	cr_assert_eq(gf_store_exec(s, "DELETE FROM gf_outbox WHERE seq > 1"), GF_OK);

	/* A duplicate: queued again from where it is kept, without a copy. */
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_resend_reply_again(s, "k1", &found), GF_OK);
	cr_assert(found);
	cr_assert_eq(gf_resend_reply_again(s, "nope", &found), GF_OK);
	cr_assert(!found, "no reply kept: nothing queued");
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_outbox WHERE reply = 'k1'"), 2);
	cr_assert_eq(outbox_rows(s), 2);

	/* Kept replies the outbox still needs outlive their handled key. */
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_mark(s, "k1"), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(gf_store_prune(s, (long long)time(NULL) + 10), 1);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_reply WHERE key = 'k1'"), 1,
	             "the prune keeps a reply still queued");

	/* Forgotten by hand before its second row went: that row is dropped. */
	cr_assert_eq(gf_store_exec(s, "DELETE FROM gf_reply"), GF_OK);
	cr_assert_eq(gf_store_outbox_flush(s, bus), 0, "nothing to send");
	gf_store_outbox_flush(s, bus);
	cr_assert_eq(outbox_rows(s), 1, "the dropped row is deleted, the one in flight stays");
	gf_bus_close(bus, 0);
	once_done(s, dir);
}

Test(store, an_outbox_seq_is_never_given_twice)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX", old[] = "/tmp/gf-store-test-XXXXXX";
	char cmd[512], err[256] = "";
	struct gf_store *s = once_store(dir);
	int first;

	cr_assert_eq(count(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'"),
	             0, "a new store's outbox has no AUTOINCREMENT");
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_outbox_add(s, "gf/a", "{}", 2, NULL, false), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	first = outbox_seq_max(s);
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_outbox_add(s, "gf/b", "{}", 2, NULL, false), GF_OK);
	gf_store_rollback(s);
	cr_assert_eq(gf_store_exec(s, "DELETE FROM gf_outbox"), GF_OK, "(as if acknowledged)");
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_outbox_add(s, "gf/c", "{}", 2, NULL, false), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_gt(outbox_seq_max(s), first + 1,
	             "not the emptied table's 1, nor the rolled-back row's number");
	once_done(s, dir);
	s = NULL;

	/* A store made with AUTOINCREMENT: above everything it ever gave. */
	cr_assert_not_null(mkdtemp(old));
	snprintf(cmd, sizeof(cmd),
	         "sqlite3 %s/t.db \"CREATE TABLE gf_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	         " topic TEXT NOT NULL, payload BLOB NOT NULL, content_type TEXT, retain INTEGER"
	         " NOT NULL, correlation BLOB); INSERT INTO gf_outbox VALUES (41, 't', 'x', NULL,"
	         " 0, NULL); DELETE FROM gf_outbox;\"",
	         old);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(gf_store_open(old, "t", NULL, &s, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_store_outbox_add(s, "gf/a", "{}", 2, NULL, false), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(outbox_seq_max(s), 42);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_outbox WHERE reply IS NULL"), 1,
	             "the old outbox got the reply column");
	once_done(s, old);
}

/* A request kept for its answer is queued without a copy; a row sends
 * what it queued (a copy made when the key is replaced), nothing once the
 * answer came. */
Test(store, a_kept_request_is_held_once_and_not_sent_once_answered)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX";
	struct gf_store *s = once_store(dir);
	bool found = false;

	cr_assert_eq(gf_resend_open(s), GF_OK);
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_resend_keep(s, "k1", "v1", "gf/t", "{\"v\":1}", 7), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_outbox WHERE resend = 'k1' AND"
	                      " length(payload) = 0"),
	             1, "the outbox row names the kept request");
	cr_assert_eq(
	    count(s, "SELECT count(*) FROM gf_outbox WHERE (SELECT CAST(r.payload AS TEXT) FROM"
	             " gf_resend r WHERE r.key = gf_outbox.resend) = '{\"v\":1}'"),
	    1);
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_resend_until(s, "k1", 1e9), GF_OK);
	cr_assert_eq(gf_resend_keep(s, "k1", "v2", "gf/t", "{\"v\":2}", 7), GF_OK);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_resend WHERE key = 'k1' AND answer = 'v2'"
	                      " AND expires IS NULL AND queued IS NOT NULL"),
	             1, "kept again: the whole row replaced, its deadline too");
	cr_assert_eq(
	    count(s, "SELECT count(*) FROM gf_outbox WHERE (SELECT CAST(r.payload AS TEXT) FROM"
	             " gf_resend r WHERE r.key = gf_outbox.resend) = '{\"v\":2}'"),
	    1, "the second names the replacement");
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_outbox WHERE resend IS NULL AND"
	                      " CAST(payload AS TEXT) = '{\"v\":1}'"),
	             1, "replaced: the first row got its own copy of what it queued");
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_resend_answered(s, "k1", "v2", &found), GF_OK);
	cr_assert(found);
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(
	    count(s, "SELECT count(*) FROM gf_outbox WHERE (SELECT CAST(r.payload AS TEXT) FROM"
	             " gf_resend r WHERE r.key = gf_outbox.resend) IS NULL AND resend IS NOT NULL"),
	    1, "answered: nothing left to send");
	cr_assert_eq(outbox_rows(s), 2, "(the copy still goes)");
	once_done(s, dir);
}

/* A request kept again goes to the end of the resend order, as a REPLACE
 * put it: the periodic resend sends in the order requests were (last)
 * kept. A key not kept gives no row a copy. */
Test(store, a_request_kept_again_moves_to_the_end_of_the_resend_order)
{
	char dir[] = "/tmp/gf-store-test-XXXXXX";
	struct gf_store *s = once_store(dir);

	cr_assert_eq(gf_resend_open(s), GF_OK);
	cr_assert_eq(gf_store_begin(s), GF_OK);
	cr_assert_eq(gf_resend_keep(s, "a", NULL, "gf/t", "1", 1), GF_OK);
	cr_assert_eq(gf_resend_keep(s, "b", NULL, "gf/t", "2", 1), GF_OK);
	cr_assert_eq(gf_resend_keep(s, "a", NULL, "gf/t", "3", 1), GF_OK);
	/* c answered while its row waits: the row names what is gone */
	cr_assert_eq(gf_resend_keep(s, "c", NULL, "gf/t", "4", 1), GF_OK);
	cr_assert_eq(gf_resend_answered(s, "c", NULL, NULL), GF_OK);
	cr_assert_eq(gf_store_outbox_copy_kept(s, GF_STORE_KEPT_RESEND, "c"), GF_OK,
	             "a key not kept: no row gets a copy (of nothing)");
	cr_assert_eq(gf_store_commit(s), GF_OK);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_outbox WHERE resend = 'c'"), 1);
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_resend"), 2);
	cr_assert_eq(count(s, "SELECT (SELECT rowid FROM gf_resend WHERE key = 'a') >"
	                      " (SELECT rowid FROM gf_resend WHERE key = 'b')"),
	             1, "a, kept again, goes after b");
	cr_assert_eq(count(s, "SELECT count(*) FROM gf_resend WHERE key = 'a' AND"
	                      " CAST(payload AS TEXT) = '3'"),
	             1);
	once_done(s, dir);
}
