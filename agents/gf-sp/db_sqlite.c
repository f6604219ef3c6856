/* SPDX-License-Identifier: MIT */
/*
 * db_sqlite.c - the metering store in one SQLite file (db.h): WAL journal,
 * synchronous NORMAL (a kill -9 loses nothing; a power cut may lose the
 * last commits, the bargain of the agents' own state), every statement
 * prepared once at open, one transaction per batch.
 *
 * Readings are kept by meter: WITHOUT ROWID tables keyed (meter, obis, t),
 * the key that deduplicates (INSERT OR IGNORE) and orders every query by
 * meter. But a batch holds one reading of each of many meters (a DMS
 * exports every meter each 15 minutes), so in one big table by meter each
 * reading of a batch dirties a page of its own, and SQLite writes whole
 * pages to the WAL at every commit: 4 KiB per reading (measured: 21,000
 * readings/s for batches of 1000 out of 10,000 meters). So readings go
 * first into sp_recent, a small table of the same shape (at most
 * RECENT_MAX rows, a few hundred pages), and move into sp_reading in key
 * order, RECENT_MAX at a time, inside the transaction of the batch that
 * fills it: each page of sp_reading is then written once for many
 * readings. A reading is new only if neither table holds its key; every
 * query reads both (a compound SELECT merged in key order); an index on
 * sp_reading's t serves the retention's delete. docs/sp.md, "Measured".
 */
#include "db.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define SCHEMA                                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_reading (meter TEXT NOT NULL, t INTEGER NOT NULL,"          \
	" obis TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL,"                            \
	" PRIMARY KEY (meter, obis, t)) WITHOUT ROWID;"                                            \
	"CREATE INDEX IF NOT EXISTS sp_reading_t ON sp_reading (t);"                               \
	"CREATE TABLE IF NOT EXISTS sp_recent (meter TEXT NOT NULL, t INTEGER NOT NULL,"           \
	" obis TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL,"                            \
	" PRIMARY KEY (meter, obis, t)) WITHOUT ROWID;"                                            \
	"CREATE TABLE IF NOT EXISTS sp_topology (grid TEXT PRIMARY KEY, revision INTEGER NOT "     \
	"NULL,"                                                                                    \
	" doc TEXT NOT NULL);"                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_member (grid TEXT NOT NULL, meter TEXT NOT NULL,"           \
	" PRIMARY KEY (grid, meter)) WITHOUT ROWID;"

/* Rows sp_recent holds before they move into sp_reading. */
#define RECENT_MAX 8192

enum stmt {
	ST_EXISTS,
	ST_INSERT,
	ST_MERGE,
	ST_CLEAR,
	ST_RECENT_COUNT,
	ST_RANGE,
	ST_RANGE_ALL,
	ST_BEFORE,
	ST_AFTER,
	ST_REVISION,
	ST_TOPO_PUT,
	ST_MEMBERS_DEL,
	ST_MEMBER_ADD,
	ST_MEMBERS,
	ST_RETAIN,
	ST_RETAIN_RECENT,
	ST_COUNT,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_N
};

/* The two tables' rows in one order: a compound SELECT whose ORDER BY
 * SQLite merges from both keys. */
#define BOTH(cols, where, order)                                                                   \
	"SELECT " cols " FROM sp_reading WHERE " where " UNION ALL SELECT " cols                   \
	" FROM sp_recent WHERE " where " ORDER BY " order

static const char *const sql[ST_N] = {
    [ST_EXISTS] = "SELECT 1 FROM sp_reading WHERE meter = ?1 AND obis = ?3 AND t = ?2",
    [ST_INSERT] = "INSERT OR IGNORE INTO sp_recent (meter, t, obis, value, unit)"
                  " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_MERGE] = "INSERT OR IGNORE INTO sp_reading (meter, t, obis, value, unit)"
                 " SELECT meter, t, obis, value, unit FROM sp_recent ORDER BY meter, obis, t",
    [ST_CLEAR] = "DELETE FROM sp_recent",
    [ST_RECENT_COUNT] = "SELECT count(*) FROM sp_recent",
    [ST_RANGE] = BOTH("t, obis, value, unit", "meter = ?1 AND obis = ?2 AND t >= ?3 AND t < ?4",
                      "t LIMIT ?5"),
    [ST_RANGE_ALL] =
        BOTH("t, obis, value, unit", "meter = ?1 AND t >= ?3 AND t < ?4", "t, obis LIMIT ?5"),
    [ST_BEFORE] = BOTH("t, value", "meter = ?1 AND obis = ?2 AND t < ?3", "t DESC LIMIT 1"),
    [ST_AFTER] = BOTH("t, value", "meter = ?1 AND obis = ?2 AND t > ?3", "t LIMIT 1"),
    [ST_REVISION] = "SELECT revision FROM sp_topology WHERE grid = ?1",
    [ST_TOPO_PUT] = "INSERT OR REPLACE INTO sp_topology (grid, revision, doc) VALUES (?1, ?2, ?3)",
    [ST_MEMBERS_DEL] = "DELETE FROM sp_member WHERE grid = ?1",
    [ST_MEMBER_ADD] = "INSERT OR IGNORE INTO sp_member (grid, meter) VALUES (?1, ?2)",
    [ST_MEMBERS] = "SELECT grid, meter FROM sp_member ORDER BY grid, meter",
    [ST_RETAIN] = "DELETE FROM sp_reading WHERE t < ?1",
    [ST_RETAIN_RECENT] = "DELETE FROM sp_recent WHERE t < ?1",
    [ST_COUNT] = "SELECT (SELECT count(*) FROM sp_reading) + (SELECT count(*) FROM sp_recent)",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct db_sqlite {
	struct sp_db base;
	sqlite3 *db;
	sqlite3_stmt *st[ST_N];
	size_t recent; /* rows in sp_recent */
};

static struct db_sqlite *self(struct sp_db *db)
{
	return (struct db_sqlite *)db;
}

static enum gf_err fail(struct db_sqlite *s, const char *what, char *err, size_t errlen)
{
	return gf_err_set(err, errlen, GF_EIO, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
}

/* Runs a statement without results (BEGIN, COMMIT, ROLLBACK...). */
static int run(struct db_sqlite *s, enum stmt k)
{
	int rc = sqlite3_step(s->st[k]);

	sqlite3_reset(s->st[k]);
	return rc;
}

static enum gf_err begin(struct db_sqlite *s, char *err, size_t errlen)
{
	return run(s, ST_BEGIN) == SQLITE_DONE ? GF_OK : fail(s, "begin", err, errlen);
}

static enum gf_err commit(struct db_sqlite *s, char *err, size_t errlen)
{
	if (run(s, ST_COMMIT) == SQLITE_DONE)
		return GF_OK;
	fail(s, "commit", err, errlen);
	run(s, ST_ROLLBACK);
	return GF_EIO;
}

/* Whether sp_reading holds r's key. -1: the store failed. */
static int stored(struct db_sqlite *s, const struct sp_reading *r)
{
	sqlite3_stmt *st = s->st[ST_EXISTS];
	int step;

	sqlite3_bind_text(st, 1, r->meter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->t_ms);
	sqlite3_bind_text(st, 3, r->obis, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	sqlite3_reset(st);
	return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

static enum gf_err insert(struct sp_db *db, const struct sp_reading *r, size_t n, size_t *added,
                          char *err, size_t errlen)
{
	struct db_sqlite *s = self(db);
	sqlite3_stmt *st = s->st[ST_INSERT];
	size_t count = 0, recent = s->recent;
	enum gf_err rc;

	if ((rc = begin(s, err, errlen)) != GF_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int old = stored(s, &r[i]);

		if (old < 0) {
			rc = fail(s, "insert", err, errlen);
			goto out;
		}
		if (old)
			continue;
		sqlite3_bind_text(st, 1, r[i].meter, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, r[i].t_ms);
		sqlite3_bind_text(st, 3, r[i].obis, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, r[i].value);
		sqlite3_bind_text(st, 5, r[i].unit, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = fail(s, "insert", err, errlen);
			sqlite3_reset(st);
			goto out;
		}
		count += (size_t)sqlite3_changes(s->db);
		sqlite3_reset(st);
	}
	recent += count;
	if (recent >= RECENT_MAX) {
		if (run(s, ST_MERGE) != SQLITE_DONE || run(s, ST_CLEAR) != SQLITE_DONE) {
			rc = fail(s, "merge", err, errlen);
			goto out;
		}
		recent = 0;
	}
	rc = commit(s, err, errlen);
out:
	sqlite3_clear_bindings(st);
	sqlite3_clear_bindings(s->st[ST_EXISTS]);
	if (rc != GF_OK) {
		if (!sqlite3_get_autocommit(s->db))
			run(s, ST_ROLLBACK);
		return rc;
	}
	s->recent = recent;
	*added = count;
	return GF_OK;
}

static enum gf_err range(struct sp_db *db, const char *meter, const char *obis, int64_t from_ms,
                         int64_t to_ms, size_t limit, sp_db_reading_fn fn, void *arg, char *err,
                         size_t errlen)
{
	struct db_sqlite *s = self(db);
	sqlite3_stmt *st = s->st[obis ? ST_RANGE : ST_RANGE_ALL];
	enum gf_err rc = GF_OK;
	int step;

	sqlite3_bind_text(st, 1, meter, -1, SQLITE_STATIC);
	if (obis)
		sqlite3_bind_text(st, 2, obis, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, from_ms);
	sqlite3_bind_int64(st, 4, to_ms);
	sqlite3_bind_int64(st, 5, limit ? (sqlite3_int64)limit : -1); /* -1: no limit */
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sp_reading r = {
		    .meter = meter,
		    .t_ms = sqlite3_column_int64(st, 0),
		    .obis = (const char *)sqlite3_column_text(st, 1),
		    .value = sqlite3_column_double(st, 2),
		    .unit = (const char *)sqlite3_column_text(st, 3),
		};
		if ((rc = fn(arg, &r)) != GF_OK)
			break;
	}
	if (rc == GF_OK && step != SQLITE_DONE)
		rc = fail(s, "range", err, errlen);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static enum gf_err edge(struct sp_db *db, const char *meter, const char *obis, int64_t t_ms,
                        int dir, int64_t *t_out, double *v_out, bool *found, char *err,
                        size_t errlen)
{
	struct db_sqlite *s = self(db);
	sqlite3_stmt *st = s->st[dir < 0 ? ST_BEFORE : ST_AFTER];
	enum gf_err rc = GF_OK;
	int step;

	sqlite3_bind_text(st, 1, meter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, obis, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t_ms);
	step = sqlite3_step(st);
	*found = step == SQLITE_ROW;
	if (step == SQLITE_ROW) {
		*t_out = sqlite3_column_int64(st, 0);
		*v_out = sqlite3_column_double(st, 1);
	} else if (step != SQLITE_DONE) {
		rc = fail(s, "edge", err, errlen);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static enum gf_err topology_put(struct sp_db *db, const char *grid, int64_t revision,
                                const char *doc, const char *const *meters, size_t n, bool *stored,
                                char *err, size_t errlen)
{
	struct db_sqlite *s = self(db);
	sqlite3_stmt *st;
	enum gf_err rc;
	bool newer = true;
	int step;

	if ((rc = begin(s, err, errlen)) != GF_OK)
		return rc;
	st = s->st[ST_REVISION];
	sqlite3_bind_text(st, 1, grid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		newer = sqlite3_column_int64(st, 0) < revision;
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = fail(s, "topology revision", err, errlen);
		goto out;
	}
	if (!newer)
		goto out;
	st = s->st[ST_TOPO_PUT];
	sqlite3_bind_text(st, 1, grid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, revision);
	sqlite3_bind_text(st, 3, doc, -1, SQLITE_STATIC);
	if (run(s, ST_TOPO_PUT) != SQLITE_DONE) {
		rc = fail(s, "topology", err, errlen);
		goto out;
	}
	sqlite3_bind_text(s->st[ST_MEMBERS_DEL], 1, grid, -1, SQLITE_STATIC);
	if (run(s, ST_MEMBERS_DEL) != SQLITE_DONE) {
		rc = fail(s, "members", err, errlen);
		goto out;
	}
	st = s->st[ST_MEMBER_ADD];
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, grid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, meters[i], -1, SQLITE_STATIC);
		if (run(s, ST_MEMBER_ADD) != SQLITE_DONE) {
			rc = fail(s, "member", err, errlen);
			goto out;
		}
	}
out:
	for (int k = ST_REVISION; k <= ST_MEMBER_ADD; k++)
		sqlite3_clear_bindings(s->st[k]);
	if (rc == GF_OK && (rc = commit(s, err, errlen)) == GF_OK) {
		*stored = newer;
		return GF_OK;
	}
	if (!sqlite3_get_autocommit(s->db))
		run(s, ST_ROLLBACK);
	return rc;
}

static enum gf_err members(struct sp_db *db, sp_db_member_fn fn, void *arg, char *err,
                           size_t errlen)
{
	struct db_sqlite *s = self(db);
	sqlite3_stmt *st = s->st[ST_MEMBERS];
	enum gf_err rc = GF_OK;
	int step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = fn(arg, (const char *)sqlite3_column_text(st, 0),
		             (const char *)sqlite3_column_text(st, 1))) != GF_OK)
			break;
	if (rc == GF_OK && step != SQLITE_DONE)
		rc = fail(s, "members", err, errlen);
	sqlite3_reset(st);
	return rc;
}

static enum gf_err retain(struct sp_db *db, int64_t before_ms, uint64_t *deleted, char *err,
                          size_t errlen)
{
	struct db_sqlite *s = self(db);

	uint64_t n;

	sqlite3_bind_int64(s->st[ST_RETAIN], 1, before_ms);
	if (run(s, ST_RETAIN) != SQLITE_DONE)
		return fail(s, "retention", err, errlen);
	n = (uint64_t)sqlite3_changes(s->db);
	sqlite3_bind_int64(s->st[ST_RETAIN_RECENT], 1, before_ms);
	if (run(s, ST_RETAIN_RECENT) != SQLITE_DONE)
		return fail(s, "retention", err, errlen);
	n += (uint64_t)sqlite3_changes(s->db);
	s->recent -=
	    (size_t)sqlite3_changes(s->db) < s->recent ? (size_t)sqlite3_changes(s->db) : s->recent;
	*deleted = n;
	return GF_OK;
}

static enum gf_err count(struct sp_db *db, uint64_t *n, char *err, size_t errlen)
{
	struct db_sqlite *s = self(db);
	sqlite3_stmt *st = s->st[ST_COUNT];
	enum gf_err rc = GF_OK;

	if (sqlite3_step(st) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = fail(s, "count", err, errlen);
	sqlite3_reset(st);
	return rc;
}

static void db_close(struct sp_db *db)
{
	struct db_sqlite *s = self(db);

	for (int k = 0; k < ST_N; k++)
		sqlite3_finalize(s->st[k]);
	sqlite3_close(s->db);
	free(s);
}

static const struct sp_db_ops ops = {
    .kind = "sqlite",
    .insert = insert,
    .range = range,
    .edge = edge,
    .topology_put = topology_put,
    .members = members,
    .retain = retain,
    .count = count,
    .close = db_close,
};

enum gf_err sp_db_sqlite_open(const char *path, struct sp_db **out, char *err, size_t errlen)
{
	struct db_sqlite *s = calloc(1, sizeof(*s));
	char *msg = NULL;
	enum gf_err rc = GF_EIO;

	if (!s)
		return GF_ENOMEM;
	s->base.ops = &ops;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		gf_err_set(err, errlen, GF_EIO, "sqlite: cannot open %s: %s", path,
		           s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db,
	                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                 " PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=8192;" SCHEMA,
	                 NULL, NULL, &msg) != SQLITE_OK) {
		gf_err_set(err, errlen, GF_EIO, "sqlite: cannot set up %s: %s", path,
		           msg ? msg : "?");
		goto out;
	}
	for (int k = 0; k < ST_N; k++) {
		if (sqlite3_prepare_v3(s->db, sql[k], -1, SQLITE_PREPARE_PERSISTENT, &s->st[k],
		                       NULL) != SQLITE_OK) {
			gf_err_set(err, errlen, GF_EIO, "sqlite: cannot prepare '%.40s': %s",
			           sql[k], sqlite3_errmsg(s->db));
			goto out;
		}
	}
	if (sqlite3_step(s->st[ST_RECENT_COUNT]) != SQLITE_ROW) {
		gf_err_set(err, errlen, GF_EIO, "sqlite: %s: %s", path, sqlite3_errmsg(s->db));
		goto out;
	}
	s->recent = (size_t)sqlite3_column_int64(s->st[ST_RECENT_COUNT], 0);
	sqlite3_reset(s->st[ST_RECENT_COUNT]);
	rc = GF_OK;
out:
	sqlite3_free(msg);
	if (rc != GF_OK) {
		db_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return GF_OK;
}
