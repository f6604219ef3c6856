/* SPDX-License-Identifier: MIT */
/*
 * db_pg.c - the metering store in PostgreSQL through libpq (db.h), for the
 * deployments that outgrow one machine: several gf-sp instances can share
 * one database.
 *
 * A batch is one statement in one transaction: its columns go as five
 * array parameters into INSERT ... SELECT FROM unnest(...) ON CONFLICT DO
 * NOTHING, a prepared statement, so 1000 readings cost one round trip and
 * one commit. Errors are taken terse (PQERRORS_TERSE: severity and primary
 * text, no DETAIL), so that no value or pseudonym a detail could quote
 * reaches the log.
 */
#include "db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define SCHEMA                                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_reading (meter text COLLATE \"C\" NOT NULL, t bigint NOT "  \
	"NULL,"                                                                                    \
	" obis text COLLATE \"C\" NOT NULL, value double precision NOT NULL, unit text NOT NULL,"  \
	" PRIMARY KEY (meter, obis, t));"                                                          \
	"CREATE INDEX IF NOT EXISTS sp_reading_t ON sp_reading (t);"                               \
	"CREATE TABLE IF NOT EXISTS sp_topology (grid text PRIMARY KEY, revision bigint NOT NULL," \
	" doc text NOT NULL);"                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_member (grid text NOT NULL, meter text NOT NULL,"           \
	" PRIMARY KEY (grid, meter));"

static const struct {
	const char *name, *sql;
	int nparams;
} stmts[] = {
    {"sp_insert",
     "INSERT INTO sp_reading (meter, t, obis, value, unit) SELECT * FROM unnest($1::text[],"
     " $2::bigint[], $3::text[], $4::float8[], $5::text[]) ON CONFLICT DO NOTHING",
     5},
    {"sp_range",
     "SELECT t, obis, value, unit FROM sp_reading WHERE meter = $1 AND obis = $2"
     " AND t >= $3 AND t < $4 ORDER BY t LIMIT $5",
     5},
    {"sp_range_all",
     "SELECT t, obis, value, unit FROM sp_reading WHERE meter = $1 AND t >= $2 AND t < $3"
     " ORDER BY t, obis LIMIT $4",
     4},
    {"sp_before",
     "SELECT t, value FROM sp_reading WHERE meter = $1 AND obis = $2 AND t < $3"
     " ORDER BY t DESC LIMIT 1",
     3},
    {"sp_after",
     "SELECT t, value FROM sp_reading WHERE meter = $1 AND obis = $2 AND t > $3"
     " ORDER BY t LIMIT 1",
     3},
    /* Stored (a row comes back) only if new or newer: concurrent writers
     * of one grid point cannot both win. */
    {"sp_topo_put",
     "INSERT INTO sp_topology (grid, revision, doc) VALUES ($1, $2, $3) ON CONFLICT (grid)"
     " DO UPDATE SET revision = excluded.revision, doc = excluded.doc"
     " WHERE sp_topology.revision < excluded.revision RETURNING 1",
     3},
    {"sp_members_del", "DELETE FROM sp_member WHERE grid = $1", 1},
    {"sp_members_add",
     "INSERT INTO sp_member (grid, meter) SELECT $1, m FROM unnest($2::text[]) AS m"
     " ON CONFLICT DO NOTHING",
     2},
    {"sp_members",
     "SELECT grid, meter FROM sp_member ORDER BY grid COLLATE \"C\", meter COLLATE \"C\"", 0},
    {"sp_retain", "DELETE FROM sp_reading WHERE t < $1", 1},
    {"sp_count", "SELECT count(*) FROM sp_reading", 0},
};

struct db_pg {
	struct sp_db base;
	PGconn *conn;
	char *buf[5]; /* the insert's array literals, kept between batches */
	size_t len[5], cap[5];
};

static struct db_pg *self(struct sp_db *db)
{
	return (struct db_pg *)db;
}

/* The first line of libpq's message (terse already). */
static enum gf_err fail(struct db_pg *p, const char *what, char *err, size_t errlen)
{
	const char *m = PQerrorMessage(p->conn);

	return gf_err_set(err, errlen, GF_EIO, "postgresql: %s: %.*s", what, (int)strcspn(m, "\n"),
	                  m);
}

/* Runs a prepared statement (text parameters); *res is the caller's
 * (PQclear) when it returns GF_OK. want: the status of success. */
static enum gf_err exec(struct db_pg *p, const char *name, int n, const char *const *params,
                        ExecStatusType want, PGresult **res, char *err, size_t errlen)
{
	PGresult *r = PQexecPrepared(p->conn, name, n, params, NULL, NULL, 0);

	if (PQresultStatus(r) != want) {
		const char *m = PQresultErrorMessage(r);
		gf_err_set(err, errlen, GF_EIO, "postgresql: %s: %.*s", name,
		           (int)strcspn(m ? m : "", "\n"), m ? m : "");
		PQclear(r);
		return GF_EIO;
	}
	*res = r;
	return GF_OK;
}

static enum gf_err simple(struct db_pg *p, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(p->conn, sql);
	enum gf_err rc = GF_OK;

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = fail(p, sql, err, errlen);
	PQclear(r);
	return rc;
}

/* --- array literals ---------------------------------------------------------- */

static bool grow(struct db_pg *p, int k, size_t more)
{
	size_t cap;
	char *b;

	if (p->len[k] + more + 1 <= p->cap[k])
		return true;
	cap = p->cap[k] ? p->cap[k] : 4096;
	while (cap < p->len[k] + more + 1)
		cap *= 2;
	if (!(b = realloc(p->buf[k], cap)))
		return false;
	p->buf[k] = b;
	p->cap[k] = cap;
	return true;
}

/* Opens array k with its first element, or separates the next one. */
static void separate(struct db_pg *p, int k)
{
	p->buf[k][p->len[k]] = p->len[k] ? ',' : '{';
	p->len[k]++;
}

/* Appends s as a quoted element ("..." with \ and " escaped) of array k. */
static bool add_text(struct db_pg *p, int k, const char *s)
{
	size_t n = strlen(s);

	if (!grow(p, k, 2 * n + 3))
		return false;
	separate(p, k);
	p->buf[k][p->len[k]++] = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			p->buf[k][p->len[k]++] = '\\';
		p->buf[k][p->len[k]++] = *s;
	}
	p->buf[k][p->len[k]++] = '"';
	return true;
}

/* Appends an unquoted element (a number) to array k. */
static bool add_raw(struct db_pg *p, int k, const char *s)
{
	size_t n = strlen(s);

	if (!grow(p, k, n + 2))
		return false;
	separate(p, k);
	memcpy(p->buf[k] + p->len[k], s, n);
	p->len[k] += n;
	return true;
}

static bool close_arrays(struct db_pg *p)
{
	for (int k = 0; k < 5; k++) {
		if (!grow(p, k, 2))
			return false;
		if (p->len[k] == 0)
			p->buf[k][p->len[k]++] = '{';
		p->buf[k][p->len[k]++] = '}';
		p->buf[k][p->len[k]] = '\0';
	}
	return true;
}

/* --- the operations ---------------------------------------------------------- */

static enum gf_err insert(struct sp_db *db, const struct sp_reading *r, size_t n, size_t *added,
                          char *err, size_t errlen)
{
	struct db_pg *p = self(db);
	PGresult *res = NULL;
	const char *params[5];
	char num[40];
	enum gf_err rc;

	if (n == 0) {
		*added = 0;
		return GF_OK;
	}
	for (int k = 0; k < 5; k++)
		p->len[k] = 0;
	for (size_t i = 0; i < n; i++) {
		bool ok = add_text(p, 0, r[i].meter);
		snprintf(num, sizeof(num), "%" PRId64, r[i].t_ms);
		ok = ok && add_raw(p, 1, num) && add_text(p, 2, r[i].obis);
		snprintf(num, sizeof(num), "%.17g", r[i].value);
		ok = ok && add_raw(p, 3, num) && add_text(p, 4, r[i].unit);
		if (!ok)
			return GF_ENOMEM;
	}
	if (!close_arrays(p))
		return GF_ENOMEM;
	for (int k = 0; k < 5; k++)
		params[k] = p->buf[k];
	/* One statement: its own transaction, all or nothing. */
	rc = exec(p, "sp_insert", 5, params, PGRES_COMMAND_OK, &res, err, errlen);
	if (rc != GF_OK)
		return rc;
	*added = (size_t)strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return GF_OK;
}

static enum gf_err range(struct sp_db *db, const char *meter, const char *obis, int64_t from_ms,
                         int64_t to_ms, size_t limit, sp_db_reading_fn fn, void *arg, char *err,
                         size_t errlen)
{
	struct db_pg *p = self(db);
	char from[24], to[24], lim[24];
	const char *params[5];
	PGresult *res = NULL;
	enum gf_err rc;
	int n = 0, rows;

	snprintf(from, sizeof(from), "%" PRId64, from_ms);
	snprintf(to, sizeof(to), "%" PRId64, to_ms);
	snprintf(lim, sizeof(lim), "%zu", limit);
	params[n++] = meter;
	if (obis)
		params[n++] = obis;
	params[n++] = from;
	params[n++] = to;
	params[n++] = limit ? lim : NULL; /* LIMIT NULL: all */
	rc = exec(p, obis ? "sp_range" : "sp_range_all", n, params, PGRES_TUPLES_OK, &res, err,
	          errlen);
	if (rc != GF_OK)
		return rc;
	rows = PQntuples(res);
	for (int i = 0; i < rows && rc == GF_OK; i++) {
		struct sp_reading rd = {
		    .meter = meter,
		    .t_ms = strtoll(PQgetvalue(res, i, 0), NULL, 10),
		    .obis = PQgetvalue(res, i, 1),
		    .value = strtod(PQgetvalue(res, i, 2), NULL),
		    .unit = PQgetvalue(res, i, 3),
		};
		rc = fn(arg, &rd);
	}
	PQclear(res);
	return rc;
}

static enum gf_err edge(struct sp_db *db, const char *meter, const char *obis, int64_t t_ms,
                        int dir, int64_t *t_out, double *v_out, bool *found, char *err,
                        size_t errlen)
{
	struct db_pg *p = self(db);
	char t[24];
	const char *params[3] = {meter, obis, t};
	PGresult *res = NULL;
	enum gf_err rc;

	snprintf(t, sizeof(t), "%" PRId64, t_ms);
	rc = exec(p, dir < 0 ? "sp_before" : "sp_after", 3, params, PGRES_TUPLES_OK, &res, err,
	          errlen);
	if (rc != GF_OK)
		return rc;
	*found = PQntuples(res) > 0;
	if (*found) {
		*t_out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		*v_out = strtod(PQgetvalue(res, 0, 1), NULL);
	}
	PQclear(res);
	return GF_OK;
}

static enum gf_err topology_put(struct sp_db *db, const char *grid, int64_t revision,
                                const char *doc, const char *const *meters, size_t n, bool *stored,
                                char *err, size_t errlen)
{
	struct db_pg *p = self(db);
	char rev[24];
	const char *params[3] = {grid, rev, doc};
	PGresult *res = NULL;
	bool newer = false;
	enum gf_err rc;

	snprintf(rev, sizeof(rev), "%" PRId64, revision);
	if ((rc = simple(p, "BEGIN", err, errlen)) != GF_OK)
		return rc;
	rc = exec(p, "sp_topo_put", 3, params, PGRES_TUPLES_OK, &res, err, errlen);
	if (rc != GF_OK)
		goto out;
	newer = PQntuples(res) > 0;
	PQclear(res);
	if (!newer)
		goto out;
	rc = exec(p, "sp_members_del", 1, params, PGRES_COMMAND_OK, &res, err, errlen);
	if (rc != GF_OK)
		goto out;
	PQclear(res);
	p->len[0] = 0;
	for (size_t i = 0; i < n; i++)
		if (!add_text(p, 0, meters[i])) {
			rc = GF_ENOMEM;
			goto out;
		}
	if (!grow(p, 0, 2)) {
		rc = GF_ENOMEM;
		goto out;
	}
	if (p->len[0] == 0)
		p->buf[0][p->len[0]++] = '{';
	p->buf[0][p->len[0]++] = '}';
	p->buf[0][p->len[0]] = '\0';
	params[1] = p->buf[0];
	rc = exec(p, "sp_members_add", 2, params, PGRES_COMMAND_OK, &res, err, errlen);
	if (rc == GF_OK)
		PQclear(res);
out:
	if (rc == GF_OK && (rc = simple(p, "COMMIT", err, errlen)) == GF_OK) {
		*stored = newer;
		return GF_OK;
	}
	PQclear(PQexec(p->conn, "ROLLBACK"));
	return rc;
}

static enum gf_err members(struct sp_db *db, sp_db_member_fn fn, void *arg, char *err,
                           size_t errlen)
{
	struct db_pg *p = self(db);
	PGresult *res = NULL;
	enum gf_err rc = exec(p, "sp_members", 0, NULL, PGRES_TUPLES_OK, &res, err, errlen);

	if (rc != GF_OK)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == GF_OK; i++)
		rc = fn(arg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	PQclear(res);
	return rc;
}

static enum gf_err retain(struct sp_db *db, int64_t before_ms, uint64_t *deleted, char *err,
                          size_t errlen)
{
	struct db_pg *p = self(db);
	char t[24];
	const char *params[1] = {t};
	PGresult *res = NULL;
	enum gf_err rc;

	snprintf(t, sizeof(t), "%" PRId64, before_ms);
	rc = exec(p, "sp_retain", 1, params, PGRES_COMMAND_OK, &res, err, errlen);
	if (rc != GF_OK)
		return rc;
	*deleted = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return GF_OK;
}

static enum gf_err count(struct sp_db *db, uint64_t *n, char *err, size_t errlen)
{
	struct db_pg *p = self(db);
	PGresult *res = NULL;
	enum gf_err rc = exec(p, "sp_count", 0, NULL, PGRES_TUPLES_OK, &res, err, errlen);

	if (rc != GF_OK)
		return rc;
	*n = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return GF_OK;
}

static void db_close(struct sp_db *db)
{
	struct db_pg *p = self(db);

	PQfinish(p->conn);
	for (int k = 0; k < 5; k++)
		free(p->buf[k]);
	free(p);
}

static const struct sp_db_ops ops = {
    .kind = "postgresql",
    .insert = insert,
    .range = range,
    .edge = edge,
    .topology_put = topology_put,
    .members = members,
    .retain = retain,
    .count = count,
    .close = db_close,
};

/* libpq prints notices (e.g. "relation already exists, skipping") on
 * stderr by default; they are not ours to show. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

enum gf_err sp_db_pg_open(const char *conninfo, struct sp_db **out, char *err, size_t errlen)
{
	struct db_pg *p = calloc(1, sizeof(*p));
	enum gf_err rc = GF_EIO;

	if (!p)
		return GF_ENOMEM;
	p->base.ops = &ops;
	p->conn = PQconnectdb(conninfo);
	if (!p->conn) {
		rc = GF_ENOMEM;
		goto out;
	}
	if (PQstatus(p->conn) != CONNECTION_OK) {
		/* libpq's message names the host or socket, never the password. */
		fail(p, "cannot connect", err, errlen);
		goto out;
	}
	PQsetErrorVerbosity(p->conn, PQERRORS_TERSE);
	PQsetNoticeProcessor(p->conn, quiet, NULL);
	if ((rc = simple(p, SCHEMA, err, errlen)) != GF_OK)
		goto out;
	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		PGresult *r =
		    PQprepare(p->conn, stmts[i].name, stmts[i].sql, stmts[i].nparams, NULL);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		PQclear(r);
		if (!ok) {
			rc = fail(p, stmts[i].name, err, errlen);
			goto out;
		}
	}
	rc = GF_OK;
out:
	if (rc != GF_OK) {
		db_close(&p->base);
		return rc;
	}
	*out = &p->base;
	return GF_OK;
}
