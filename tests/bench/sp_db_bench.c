/* SPDX-License-Identifier: MIT */
/*
 * sp_db_bench - gf-sp's metering store (agents/gf-sp/db.h) under batches of
 * readings, as meter.reading brings them (tests/bench/sp_bench.sh runs it on
 * SQLite and on a real PostgreSQL server):
 *
 *   sp_db_bench --store SPEC [--batches N] [--batch K] [--meters M]
 *
 * N batches of K readings (default 200 of 1000) of M meters (default 10000,
 * 43-character pseudonyms), each batch one sp_db_insert (one transaction);
 * then the same batches again (every reading a duplicate: what a replay
 * costs); then one range query per meter of a day. Printed: readings per
 * second of each, and a baseline measured in the same run on the same
 * database: the same rows into a table without keys by the fastest plain
 * path of the backend (SQLite: one prepared INSERT per row in one
 * transaction per batch; PostgreSQL: COPY FROM STDIN per batch), and the
 * ratio store / baseline: what deduplication and the store's path cost.
 * Never an assertion on absolute time; exit 1 only if a count is wrong.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "db.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A pseudonym-shaped id of meter i (43 characters of base64url). */
static void name(char out[44], size_t i)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t h = 0xcbf29ce484222325ULL ^ i;

	for (int k = 0; k < 43; k++) {
		h ^= h >> 33;
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
		out[k] = b64[h & 63];
	}
	out[43] = '\0';
}

static enum gf_err count_row(void *arg, const struct sp_reading *r)
{
	(void)r;
	(*(size_t *)arg)++;
	return GF_OK;
}

/* SQLite baseline: prepared INSERT per row, a transaction per batch. */
static double base_sqlite(const char *path, const struct sp_reading *r, size_t nb, size_t k)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	double t0, t;

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
	                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
	                 "DROP TABLE IF EXISTS bench_plain; CREATE TABLE bench_plain (meter TEXT,"
	                 " t INTEGER, obis TEXT, value REAL, unit TEXT)",
	                 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO bench_plain VALUES (?, ?, ?, ?, ?)", -1, &st,
	                       NULL) != SQLITE_OK) {
		fprintf(stderr, "sp_db_bench: baseline: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	t0 = now();
	for (size_t b = 0; b < nb; b++) {
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		for (size_t i = 0; i < k; i++) {
			const struct sp_reading *x = &r[b * k + i];
			sqlite3_bind_text(st, 1, x->meter, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, x->t_ms);
			sqlite3_bind_text(st, 3, x->obis, -1, SQLITE_STATIC);
			sqlite3_bind_double(st, 4, x->value);
			sqlite3_bind_text(st, 5, x->unit, -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	t = now() - t0;
	sqlite3_exec(db, "DROP TABLE bench_plain", NULL, NULL, NULL);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (double)(nb * k) / t;
}

/* PostgreSQL baseline: COPY FROM STDIN per batch into a table without keys. */
static double base_pg(const char *conninfo, const struct sp_reading *r, size_t nb, size_t k)
{
	PGconn *c = PQconnectdb(conninfo);
	char line[256];
	double t0, t;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "sp_db_bench: baseline: %s", PQerrorMessage(c));
		exit(1);
	}
	PQclear(PQexec(c, "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_plain;"
	                  " CREATE TABLE bench_plain (meter text, t bigint, obis text,"
	                  " value double precision, unit text)"));
	t0 = now();
	for (size_t b = 0; b < nb; b++) {
		PQclear(PQexec(c, "COPY bench_plain FROM STDIN"));
		for (size_t i = 0; i < k; i++) {
			const struct sp_reading *x = &r[b * k + i];
			int n = snprintf(line, sizeof(line), "%s\t%" PRId64 "\t%s\t%.17g\t%s\n",
			                 x->meter, x->t_ms, x->obis, x->value, x->unit);
			PQputCopyData(c, line, n);
		}
		PQputCopyEnd(c, NULL);
		PQclear(PQgetResult(c));
	}
	t = now() - t0;
	PQclear(PQexec(c, "DROP TABLE bench_plain"));
	PQfinish(c);
	return (double)(nb * k) / t;
}

int main(int argc, char **argv)
{
	const char *spec = NULL;
	size_t nb = 200, k = 1000, nm = 10000, total, added = 0, seen = 0;
	struct sp_reading *r;
	char(*names)[44], err[512] = "";
	struct sp_db *db = NULL;
	double t0, ins, dup, query, base;
	uint64_t stored = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--store") == 0)
			spec = argv[i + 1];
		else if (strcmp(argv[i], "--batches") == 0)
			nb = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0)
			k = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--meters") == 0)
			nm = strtoul(argv[i + 1], NULL, 10);
	}
	if (!spec || !nb || !k || !nm) {
		fprintf(stderr, "usage: sp_db_bench --store SPEC [--batches N] [--batch K] "
		                "[--meters M]\n");
		return 2;
	}
	total = nb * k;
	r = calloc(total, sizeof(*r));
	names = calloc(nm, sizeof(*names));
	if (!r || !names)
		return 1;
	for (size_t i = 0; i < nm; i++)
		name(names[i], i);
	/* Batch b holds k readings: meters in turn, 15 minutes apart per round. */
	for (size_t i = 0; i < total; i++)
		r[i] =
		    (struct sp_reading){names[i % nm], 1582761600000 + (int64_t)(i / nm) * 900000,
		                        "1-0:1.8.0", 100.0 + (double)i * 0.001, "kWh"};
	if (sp_db_open(spec, &db, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "sp_db_bench: %s\n", err);
		return 1;
	}
	t0 = now();
	for (size_t b = 0; b < nb; b++) {
		size_t a = 0;
		if (sp_db_insert(db, &r[b * k], k, &a, err, sizeof(err)) != GF_OK) {
			fprintf(stderr, "sp_db_bench: %s\n", err);
			return 1;
		}
		added += a;
	}
	ins = (double)total / (now() - t0);
	t0 = now();
	for (size_t b = 0; b < nb; b++) {
		size_t a = 0;
		if (sp_db_insert(db, &r[b * k], k, &a, err, sizeof(err)) != GF_OK)
			return 1;
		added += a;
	}
	dup = (double)total / (now() - t0);
	t0 = now();
	for (size_t i = 0; i < nm && i < 1000; i++)
		sp_db_range(db, names[i], "1-0:1.8.0", 1582761600000, 1582761600000 + 86400000, 0,
		            count_row, &seen, err, sizeof(err));
	query = (double)(nm < 1000 ? nm : 1000) / (now() - t0);
	sp_db_count(db, &stored, err, sizeof(err));
	base = strncmp(spec, "sqlite:", 7) == 0 ? base_sqlite(spec + 7, r, nb, k)
	                                        : base_pg(spec + 11, r, nb, k);
	printf("%-10s %zu batches of %zu (of %zu meters): insert %.0f readings/s, again (all "
	       "duplicates) %.0f/s, "
	       "baseline (no keys) %.0f/s, insert/baseline %.2f; %.0f range queries/s\n",
	       sp_db_kind(db), nb, k, nm, ins, dup, base, ins / base, query);
	sp_db_close(db);
	free(r);
	free(names);
	if (added != total || stored < total) {
		fprintf(stderr, "sp_db_bench: %zu new of %zu, %" PRIu64 " stored\n", added, total,
		        stored);
		return 1;
	}
	return 0;
}
