/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/agent/store.h: handled keys and the outbox follow the
 * transaction (rolled back: gone; committed: there after a reopen). The
 * outbox's flush to a bus is exercised by the agents' integration tests. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/resend.h"
#include "agent/store.h"
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
	cr_assert_eq(gf_store_open(dir, "t", gf_resend_schema, &s, err, sizeof(err)), GF_OK, "%s",
	             err);
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
