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
	cr_assert_eq((long long)(gf_walvfs_joined() - before), frames,
	             "each frame's header and page written together (%lld frames)", frames);
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
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
	remove_dir();
}

/* A header kept back is in the file before any read, size, sync, other
 * write or close; one followed by its page goes with it. */
Test(walvfs, a_header_kept_back_is_written_before_anything_sees_the_file)
{
	sqlite3_vfs *vfs;
	sqlite3_file *f;
	char path[128], head[24], page[100], back[124];
	sqlite3_int64 size = 0;
	unsigned long long before;
	int out = 0;
	FILE *db;

	cr_assert_eq(gf_walvfs_register(), GF_OK);
	vfs = sqlite3_vfs_find(GF_WALVFS_NAME);
	cr_assert_not_null(vfs);
	make_dir();
	snprintf(path, sizeof(path), "%s/x.db", dir);
	db = fopen(path, "w"); /* the WAL's database: its mode is the WAL's */
	cr_assert_not_null(db);
	fclose(db);
	snprintf(path, sizeof(path), "%s/x.db-wal", dir);
	f = calloc(1, (size_t)vfs->szOsFile);
	cr_assert_eq(vfs->xOpen(vfs, path, f,
	                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_WAL, &out),
	             SQLITE_OK);
	memset(head, 'h', sizeof(head));
	memset(page, 'p', sizeof(page));

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 32), SQLITE_OK);
	cr_assert_eq(f->pMethods->xFileSize(f, &size), SQLITE_OK);
	cr_assert_eq(size, 56, "the size counts the header kept back");

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 56), SQLITE_OK);
	cr_assert_eq(f->pMethods->xRead(f, back, 24, 56), SQLITE_OK);
	cr_assert_eq(memcmp(back, head, 24), 0, "a read sees it");

	before = gf_walvfs_joined();
	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 80), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 104), SQLITE_OK);
	cr_assert_eq(gf_walvfs_joined() - before, 1, "header and page in one write");
	cr_assert_eq(f->pMethods->xRead(f, back, 124, 80), SQLITE_OK);
	cr_assert_eq(memcmp(back, head, 24), 0);
	cr_assert_eq(memcmp(back + 24, page, 100), 0);

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 204), SQLITE_OK);
	cr_assert_eq(f->pMethods->xWrite(f, page, 100, 400), SQLITE_OK);
	cr_assert_eq(gf_walvfs_joined() - before, 1, "not its page: written apart");
	cr_assert_eq(f->pMethods->xRead(f, back, 24, 204), SQLITE_OK);
	cr_assert_eq(memcmp(back, head, 24), 0, "the header went first");

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 500), SQLITE_OK);
	cr_assert_eq(f->pMethods->xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
	cr_assert_eq(f->pMethods->xFileSize(f, &size), SQLITE_OK);
	cr_assert_eq(size, 524, "a sync writes it");

	cr_assert_eq(f->pMethods->xWrite(f, head, 24, 524), SQLITE_OK);
	cr_assert_eq(f->pMethods->xClose(f), SQLITE_OK);
	free(f);
	cr_assert_eq(file_size("x.db-wal"), 548, "a close writes it");
	remove_dir();
}
