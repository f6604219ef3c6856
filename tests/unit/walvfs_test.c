/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/agent/walvfs.c: a WAL frame written in one call, and a
 * header kept back never seen missing. */
#include <criterion/criterion.h>

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

/* Every frame of a WAL store's commits is one write; the database reads
 * back whole through SQLite's own VFS. */
Test(walvfs, each_frame_is_one_write_and_the_database_reads_back_through_the_plain_vfs)
{
	char path[128], blob[3000];
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	unsigned long long before;
	long long frames;

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
	}
	frames = (file_size("t.db-wal") - 32) / (4096 + 24) - frames;
	cr_assert_gt(frames, 150, "200 rows of 3 kB: a frame each at least");
	cr_assert_leq((long long)(gf_walvfs_joined() - before), frames);
	cr_assert_geq((long long)(gf_walvfs_joined() - before), frames - 5,
	              "each frame's header and page written together but the first of each "
	              "transaction (%lld frames, %llu joined)",
	              frames, gf_walvfs_joined() - before);
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

static long long raw_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0, "%s must exist", path);
	return (long long)st.st_size;
}

/* What the file holds, seen around the VFS (stat): a header is kept back
 * only after the write it continues, and any call on any file of the VFS
 * writes it first. */
Test(walvfs, a_header_kept_back_is_in_the_file_before_anything_else_happens)
{
	sqlite3_vfs *vfs;
	sqlite3_file *f, *db;
	char path[128], dbpath[128], head[24], again[24], page[100], back[124];
	sqlite3_int64 size = 0;
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
	memset(page, 'p', sizeof(page));
	before = gf_walvfs_joined();

	cr_assert_eq(f->pMethods->xWrite(f, page, 32, 0), SQLITE_OK); /* the WAL's header */
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 32), SQLITE_OK);
	cr_assert_eq(raw_size(path), 32, "a header after the write it continues: kept back");
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 56), SQLITE_OK);
	cr_assert_eq(gf_walvfs_joined() - before, 1, "its page: one write with it");
	cr_assert_eq(raw_size(path), 156);

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 156), SQLITE_OK);
	cr_assert_eq(raw_size(path), 156, "kept back");
	cr_assert_eq(f->pMethods->xRead(f, back, 24, 156), SQLITE_OK);
	cr_assert_eq(raw_size(path), 180, "a read writes it first");
	cr_assert_eq(memcmp(back, head, 24), 0);
	memset(again, 'H', sizeof(again));
	cr_assert_eq(f->pMethods->xWrite(f, again, 24, 156), SQLITE_OK);
	raw = fopen(path, "rb");
	cr_assert_not_null(raw);
	cr_assert_eq(fseek(raw, 156, SEEK_SET), 0);
	cr_assert_eq(fread(back, 1, 24, raw), 24);
	fclose(raw);
	cr_assert_eq(memcmp(back, again, 24), 0,
	             "a header written again after a read of it (no page follows): at once");

	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 204), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 304), SQLITE_OK);
	cr_assert_eq(raw_size(path), 304, "kept back");
	cr_assert_eq(db->pMethods->xFileSize(db, &size), SQLITE_OK);
	cr_assert_eq(raw_size(path), 328, "a call on another file (the database) writes it first");
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 328), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 428), SQLITE_OK);
	cr_assert_eq(raw_size(path), 428, "kept back");
	db->pMethods->xShmBarrier(db);
	cr_assert_eq(raw_size(path), 452,
	             "the wal-index's barrier (before it publishes frames) writes it first");

	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 452), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 552), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 999), SQLITE_OK);
	cr_assert_eq(raw_size(path), 1099);
	cr_assert_eq(f->pMethods->xRead(f, back, 24, 552), SQLITE_OK);
	cr_assert_eq(memcmp(back, head, 24), 0, "not its page: the header written first");

	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 1099), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 1199), SQLITE_OK);
	cr_assert_eq(raw_size(path), 1199);
	cr_assert_eq(f->pMethods->xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
	cr_assert_eq(raw_size(path), 1223, "a sync writes it first");

	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 1223), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 1323), SQLITE_OK);
	cr_assert_eq(raw_size(path), 1323);
	cr_assert_eq(f->pMethods->xClose(f), SQLITE_OK);
	cr_assert_eq(raw_size(path), 1347, "a close writes it first");
	cr_assert_eq(db->pMethods->xClose(db), SQLITE_OK);
	free(f);
	free(db);
	remove_dir();
}

static void copy_file(const char *from, const char *to)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	cr_assert_eq(system(cmd), 0);
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
