/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/agent/walvfs.c: a transaction's WAL frames written in a
 * few calls, and a run kept back never seen missing, never lost after a
 * commit returned, its failure the commit's. */
#include <criterion/criterion.h>

#include <signal.h>
#include <sys/resource.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/walvfs.h"
#include "leak_check.h"

TestSuite(walvfs, .fini = leak_check);

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gf-walvfs-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static long long file_size(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(stat(path, &st), 0, "%s must exist", path);
	return (long long)st.st_size;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql,
	             msg ? msg : "?");
}

static void integrity_ok(sqlite3 *db)
{
	sqlite3_stmt *st;

	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	cr_assert_eq(system(cmd), 0);
}

/* Rows k = 1..n of t in the copy of the store, opened through SQLite's own
 * VFS: count and total length. */
static void copy_holds(const char *path, int n, long long bytes)
{
	char copy[140], wal[150], cwal[150];
	sqlite3 *c = NULL;
	sqlite3_stmt *st;

	snprintf(copy, sizeof(copy), "%s-copy.db", path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(cwal, sizeof(cwal), "%s-wal", copy);
	copy_file(path, copy);
	copy_file(wal, cwal);
	cr_assert_eq(sqlite3_open_v2(copy, &c, SQLITE_OPEN_READWRITE, "unix"), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(c, "SELECT count(*), sum(length(v)) FROM t", -1, &st, NULL),
	             SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), n, "every committed row in the files");
	cr_assert_eq(sqlite3_column_int64(st, 1), bytes);
	sqlite3_finalize(st);
	integrity_ok(c);
	sqlite3_close(c);
}

/* Files of this process may not grow past bytes (writes beyond: EFBIG,
 * SIGXFSZ ignored); *was gets the limit to put back. */
static void limit_files(long long bytes, struct rlimit *was)
{
	struct rlimit lim;

	cr_assert_eq(getrlimit(RLIMIT_FSIZE, was), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = *was;
	lim.rlim_cur = (rlim_t)bytes;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

/* A WAL store's commits: the frames of a transaction go out in runs of up
 * to GF_WALVFS_RUN_MAX bytes, all in the file when COMMIT returns (the
 * files copied then, what a kill -9 leaves, hold every row), and the
 * database reads back through SQLite's own VFS. */
Test(walvfs, a_transaction_is_a_few_writes_and_whole_in_the_files_when_commit_returns)
{
	char path[128], blob[3000];
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	unsigned long long before;
	long long frames, runs = 0;

	cr_assert_eq(gf_walvfs_register(), GF_OK);
	cr_assert_eq(gf_walvfs_register(), GF_OK, "again: nothing");
	cr_assert_str_eq(sqlite3_vfs_find(NULL)->zName, GF_WALVFS_NAME, "the default now");
	make_dir();
	snprintf(path, sizeof(path), "%s/t.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"
	         " CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
	before = gf_walvfs_joined();
	frames = (file_size("t.db-wal") - 32) / (4096 + 24);
	for (int tx = 0; tx < 5; tx++) {
		long long at = file_size("t.db-wal");
		exec(db, "BEGIN");
		cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &st, NULL),
		             SQLITE_OK);
		for (int i = 0; i < 40; i++) {
			memset(blob, 'a' + (tx * 40 + i) % 26, sizeof(blob));
			sqlite3_bind_blob(st, 1, blob, sizeof(blob), SQLITE_STATIC);
			cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
			sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		exec(db, "COMMIT");
		runs += (file_size("t.db-wal") - at + GF_WALVFS_RUN_MAX - 1) / GF_WALVFS_RUN_MAX;
		copy_holds(path, (tx + 1) * 40, (tx + 1) * 40LL * 3000);
	}
	frames = (file_size("t.db-wal") - 32) / (4096 + 24) - frames;
	cr_assert_gt(frames, 150, "200 rows of 3 kB: a frame each at least");
	/* SQLite writes each frame in two (header, page); a run takes all
	 * but its first. */
	cr_assert_leq((long long)(gf_walvfs_joined() - before), 2 * frames);
	cr_assert_geq((long long)(gf_walvfs_joined() - before), 2 * frames - runs,
	              "a transaction's writes in runs of %u bytes (%lld frames, %lld runs at "
	              "most, %llu writes joined)",
	              GF_WALVFS_RUN_MAX, frames, runs, gf_walvfs_joined() - before);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);

	db = NULL;
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix"), SQLITE_OK);
	cr_assert_eq(
	    sqlite3_prepare_v2(db, "SELECT count(*), sum(length(v)) FROM t", -1, &st, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 200);
	cr_assert_eq(sqlite3_column_int64(st, 1), 200LL * 3000);
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT v FROM t WHERE k = 123", -1, &st, NULL),
	             SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(((const char *)sqlite3_column_blob(st, 0))[2999], 'a' + 122 % 26);
	sqlite3_finalize(st);
	integrity_ok(db);
	sqlite3_close(db);
	remove_dir();
}

/* A commit whose run cannot be written (the file size limit, EFBIG) fails:
 * SQLite's write of the commit's last page reports it, and the store keeps
 * what it held before. */
Test(walvfs, a_run_that_cannot_be_written_fails_the_commit)
{
	char path[128], blob[3000];
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	struct rlimit was;

	cr_assert_eq(gf_walvfs_register(), GF_OK);
	make_dir();
	snprintf(path, sizeof(path), "%s/f.db", dir);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	/* NORMAL, as the agents' stores: no sync at the commit to write the
	 * run first and report its failure. */
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;"
	         " CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);"
	         " INSERT INTO t (v) VALUES (zeroblob(100))");
	limit_files(file_size("f.db-wal") + 20000, &was); /* 4 frames and a bit */
	exec(db, "BEGIN");
	cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &st, NULL),
	             SQLITE_OK);
	memset(blob, 'x', sizeof(blob));
	for (int i = 0; i < 10; i++) {
		sqlite3_bind_blob(st, 1, blob, sizeof(blob), SQLITE_STATIC);
		cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	int rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	cr_assert_neq(rc, SQLITE_OK,
	              "the commit cannot have succeeded: its frames are not written");
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &was), 0);
	if (!sqlite3_get_autocommit(db))
		exec(db, "ROLLBACK");
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 1, "what the store held before");
	sqlite3_finalize(st);
	integrity_ok(db);
	cr_assert_eq(sqlite3_close(db), SQLITE_OK);
	remove_dir();
}

static long long raw_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s must exist", path);
	return (long long)st.st_size;
}

/* What the file holds, seen around the VFS (stat and stdio): a WAL's writes
 * are kept back while each continues the last, and written when one does
 * not, after a commit frame's page, or before any call on any file of the
 * VFS. */
Test(walvfs, a_run_kept_back_is_in_the_file_before_anything_else_happens)
{
	sqlite3_vfs *vfs;
	sqlite3_file *f, *db;
	char path[128], dbpath[128], head[24], commit[24], again[24], page[100], back[124];
	static char big[GF_WALVFS_RUN_MAX / 2 + 1];
	sqlite3_int64 size = 0, at;
	unsigned long long before;
	int out = 0;
	FILE *fp, *raw;

	cr_assert_eq(gf_walvfs_register(), GF_OK);
	vfs = sqlite3_vfs_find(GF_WALVFS_NAME);
	cr_assert_not_null(vfs);
	make_dir();
	snprintf(dbpath, sizeof(dbpath), "%s/x.db", dir);
	fp = fopen(dbpath, "w"); /* the WAL's database: its mode is the WAL's */
	cr_assert_not_null(fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/x.db-wal", dir);
	f = calloc(1, (size_t)vfs->szOsFile);
	db = calloc(1, (size_t)vfs->szOsFile);
	cr_assert_eq(vfs->xOpen(vfs, path, f,
	                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_WAL, &out),
	             SQLITE_OK);
	cr_assert_eq(vfs->xOpen(vfs, dbpath, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB, &out),
	             SQLITE_OK);
	memset(head, 'h', sizeof(head));
	memset(head + 4, 0, 4); /* a frame's header: no database size */
	memcpy(commit, head, sizeof(commit));
	commit[7] = 9; /* a commit frame's: the database's size in pages */
	memset(page, 'p', sizeof(page));
	before = gf_walvfs_joined();

	cr_assert_eq(f->pMethods->xWrite(f, page, 32, 0), SQLITE_OK); /* the WAL's header */
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 32), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 56), SQLITE_OK);
	cr_assert_eq(raw_size(path), 0, "kept back while each write continues the last");
	cr_assert_eq(gf_walvfs_joined() - before, 2);
	cr_assert_eq(f->pMethods->xRead(f, back, 24, 32), SQLITE_OK);
	cr_assert_eq(raw_size(path), 156, "a read writes the run first");
	cr_assert_eq(memcmp(back, head, 24), 0);

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 156), SQLITE_OK);
	cr_assert_eq(raw_size(path), 156, "kept back");
	cr_assert_eq(db->pMethods->xFileSize(db, &size), SQLITE_OK);
	cr_assert_eq(raw_size(path), 180, "a call on another file (the database) writes it first");
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 180), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, commit, 24, 280), SQLITE_OK);
	cr_assert_eq(raw_size(path), 180, "a commit header that continues the run: kept back");
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 304), SQLITE_OK);
	cr_assert_eq(raw_size(path), 404, "the commit frame's page: the run written at once");

	cr_assert_eq(f->pMethods->xRead(f, back, 24, 156), SQLITE_OK);
	memset(again, 'H', sizeof(again)); /* new checksums: other bytes */
	again[4] = 1;                      /* a commit header still */
	cr_assert_eq(f->pMethods->xWrite(f, again, 24, 280), SQLITE_OK);
	raw = fopen(path, "rb");
	cr_assert_not_null(raw);
	cr_assert_eq(fseek(raw, 280, SEEK_SET), 0);
	cr_assert_eq(fread(back, 1, 24, raw), 24);
	fclose(raw);
	cr_assert_eq(memcmp(back, again, 24), 0,
	             "a commit header written after a read (a checksum rewrite, no page "
	             "follows): at once");

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 404), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 428), SQLITE_OK);
	cr_assert_eq(raw_size(path), 404, "kept back");
	db->pMethods->xShmBarrier(db);
	cr_assert_eq(raw_size(path), 528,
	             "the wal-index's barrier (before it publishes frames) writes it first");

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 528), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 999), SQLITE_OK);
	cr_assert_eq(raw_size(path), 552, "a write elsewhere: the run written first");
	cr_assert_eq(f->pMethods->xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
	cr_assert_eq(raw_size(path), 1099, "a sync writes it first");

	memset(big, 'b', sizeof(big));
	at = 1099;
	cr_assert_eq(f->pMethods->xWrite(f, big, (int)sizeof(big), at), SQLITE_OK);
	cr_assert_eq(raw_size(path), at, "kept back");
	cr_assert_eq(f->pMethods->xWrite(f, big, (int)sizeof(big), at + (int)sizeof(big)),
	             SQLITE_OK);
	cr_assert_eq(raw_size(path), at + (sqlite3_int64)sizeof(big),
	             "more than GF_WALVFS_RUN_MAX: the run written first");
	at += 2 * (sqlite3_int64)sizeof(big);
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, at), SQLITE_OK);
	cr_assert_eq(f->pMethods->xClose(f), SQLITE_OK);
	cr_assert_eq(raw_size(path), at + 24, "a close writes it first");
	cr_assert_eq(db->pMethods->xClose(db), SQLITE_OK);
	free(f);
	free(db);
	remove_dir();
}

/* A run whose write fails is kept, not lost: a transaction that spills
 * leaves its last frames held when its statement returns; a file size
 * limit (EFBIG) makes the next attempt fail, in a call of another
 * connection of the process, which cannot hand the failure to this
 * transaction. With the limit lifted, the transaction's next call writes
 * the run, and the committed transaction is whole in the files. */
Test(walvfs, a_run_that_fails_is_kept_and_written_when_it_can_be)
{
	char path[128];
	sqlite3 *db = NULL, *other = NULL;
	struct rlimit was;
	char wal[140];

	cr_assert_eq(gf_walvfs_register(), GF_OK);
	make_dir();
	snprintf(path, sizeof(path), "%s/k.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=10;"
	         " PRAGMA wal_autocheckpoint=0;"
	         " CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
	         " INSERT INTO t (v) VALUES ('first')");
	exec(db, "BEGIN;"
	         " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
	         " INSERT INTO t (v) SELECT printf('%0500d', i) FROM n");
	limit_files(raw_size(wal), &was); /* nothing past the file's end */
	/* Its open or its read gets the failure (each call tries the run again). */
	if (sqlite3_open(path, &other) == SQLITE_OK)
		(void)sqlite3_exec(other, "SELECT count(*) FROM t", NULL, NULL, NULL);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &was), 0);
	exec(db, "UPDATE t SET v = 'again' || v WHERE k % 10 = 0; COMMIT");
	copy_holds(path, 301, 5 + 300 * 500 + 30 * 5);
	sqlite3_close(other);
	sqlite3_close(db);
	remove_dir();
}

/* A transaction larger than the page cache spills frames, and SQLite
 * rewrites their headers at the commit (each read, then its header
 * written, no page after it). Once COMMIT returns, the files hold the whole
 * transaction: copied while the writer is still open (what a kill -9 would
 * leave), they open with every row through SQLite's own VFS. */
Test(walvfs, a_spilled_transaction_is_whole_in_the_files_when_commit_returns)
{
	char path[128], copy[128], wal[140], cwal[140];
	sqlite3 *db = NULL, *c = NULL;
	sqlite3_stmt *st;

	cr_assert_eq(gf_walvfs_register(), GF_OK);
	make_dir();
	snprintf(path, sizeof(path), "%s/s.db", dir);
	snprintf(copy, sizeof(copy), "%s/c.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(cwal, sizeof(cwal), "%s-wal", copy);
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=10;"
	         " CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
	         " INSERT INTO t (v) VALUES ('first')");
	exec(db, "BEGIN;"
	         " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
	         " INSERT INTO t (v) SELECT printf('%0500d', i) FROM n;"
	         " UPDATE t SET v = 'again' || v WHERE k % 10 = 0;"
	         " COMMIT");
	copy_file(path, copy);
	copy_file(wal, cwal);
	cr_assert_eq(sqlite3_open_v2(copy, &c, SQLITE_OPEN_READWRITE, "unix"), SQLITE_OK);
	cr_assert_eq(
	    sqlite3_prepare_v2(c, "SELECT count(*), sum(v LIKE 'again%') FROM t", -1, &st, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 301, "every row of the committed transaction");
	cr_assert_eq(sqlite3_column_int(st, 1), 30);
	sqlite3_finalize(st);
	integrity_ok(c);
	sqlite3_close(c);
	sqlite3_close(db);
	remove_dir();
}
