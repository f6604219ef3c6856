/* SPDX-License-Identifier: MIT */
/*
 * The suite of gf-sp's metering store (agents/gf-sp/db.h), one suite for
 * both backends: SQLite in a temp file by default; with
 * SP_TEST_STORE=postgresql:<conninfo> in the environment, that PostgreSQL
 * database (tests/integration/sp_db_pg_test.sh starts a real server and runs
 * this binary against it; its tables are dropped before each test).
 */
#include <criterion/criterion.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "db.h"
#include "leak_check.h"

static char dir[64], spec[4200];
static struct sp_db *db;

/* A clean store before each test. */
static void setup(void)
{
	const char *env = getenv("SP_TEST_STORE");
	char err[512] = "";

	if (env && strncmp(env, "postgresql:", 11) == 0) {
		PGconn *c = PQconnectdb(env + 11);
		PGresult *r;

		cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
		r = PQexec(c, "SET client_min_messages = warning; DROP TABLE IF EXISTS sp_reading,"
		              " sp_topology, sp_member");
		cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		snprintf(spec, sizeof(spec), "%s", env);
	} else {
		snprintf(dir, sizeof(dir), "/tmp/gf-sp-db-XXXXXX");
		cr_assert_not_null(mkdtemp(dir));
		snprintf(spec, sizeof(spec), "sqlite:%s/m.db", dir);
	}
	cr_assert_eq(sp_db_open(spec, &db, err, sizeof(err)), GF_OK, "%s", err);
}

static void teardown(void)
{
	char cmd[128];

	sp_db_close(db);
	db = NULL;
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		cr_assert_eq(system(cmd), 0);
	}
	leak_check();
}

TestSuite(sp_db, .init = setup, .fini = teardown);

#define M1  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"
#define M2  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2"
#define REG "1-0:1.8.0"
#define INT "1-0:1.29.0"

static uint64_t count(void)
{
	uint64_t n = 0;
	char err[256];

	cr_assert_eq(sp_db_count(db, &n, err, sizeof(err)), GF_OK, "%s", err);
	return n;
}

static size_t insert(const struct sp_reading *r, size_t n)
{
	size_t added = 99;
	char err[256];

	cr_assert_eq(sp_db_insert(db, r, n, &added, err, sizeof(err)), GF_OK, "%s", err);
	return added;
}

/* What sp_db_range gives, as "t obis value unit" lines. */
struct got {
	char text[4096];
	size_t n;
};

static enum gf_err collect(void *arg, const struct sp_reading *r)
{
	struct got *g = arg;
	size_t len = strlen(g->text);

	snprintf(g->text + len, sizeof(g->text) - len, "%" PRId64 " %s %g %s\n", r->t_ms, r->obis,
	         r->value, r->unit);
	g->n++;
	return GF_OK;
}

static const char *range(const char *meter, const char *obis, int64_t from, int64_t to,
                         size_t limit, struct got *g)
{
	char err[256];

	memset(g, 0, sizeof(*g));
	cr_assert_eq(sp_db_range(db, meter, obis, from, to, limit, collect, g, err, sizeof(err)),
	             GF_OK, "%s", err);
	return g->text;
}

Test(sp_db, a_batch_stored_twice_stores_nothing_twice)
{
	struct sp_reading r[] = {
	    {M1, 1000, REG, 1.5, "kWh"},
	    {M1, 2000, REG, 2.5, "kWh"},
	    {M2, 1000, REG, 7.0, "kWh"},
	};
	struct sp_reading again[] = {
	    {M1, 1000, REG, 99.0, "kWh"}, /* same key, another value: the first stays */
	    {M1, 2000, REG, 2.5, "kWh"},
	    {M2, 1000, REG, 7.0, "kWh"},
	    {M2, 1000, INT, 0.25, "kWh"}, /* another OBIS code: a reading of its own */
	};
	struct got g;

	cr_assert_eq(insert(r, 3), 3);
	cr_assert_eq(count(), 3);
	cr_assert_eq(insert(again, 4), 1, "only the new OBIS code is new");
	cr_assert_eq(count(), 4);
	cr_assert_str_eq(range(M1, REG, 0, 10000, 0, &g), "1000 1-0:1.8.0 1.5 kWh\n"
	                                                  "2000 1-0:1.8.0 2.5 kWh\n");
	cr_assert_eq(insert(r, 3), 0);
	cr_assert_eq(count(), 4);
}

Test(sp_db, duplicates_inside_one_batch_count_once)
{
	struct sp_reading r[] = {
	    {M1, 5000, REG, 1.0, "kWh"},
	    {M1, 5000, REG, 1.0, "kWh"},
	    {M1, 6000, REG, 2.0, "kWh"},
	};

	cr_assert_eq(insert(r, 3), 2);
	cr_assert_eq(count(), 2);
}

Test(sp_db, range_in_time_order_by_meter_and_code_with_limit)
{
	struct sp_reading r[] = {
	    {M1, 3000, REG, 3, "kWh"},   {M1, 1000, REG, 1, "kWh"}, {M1, 2000, REG, 2, "kWh"},
	    {M1, 2000, INT, 0.5, "kWh"}, {M2, 1500, REG, 9, "kWh"}, {M1, 4000, REG, 4, "Wh"},
	};
	struct got g;

	cr_assert_eq(insert(r, 6), 6);
	cr_assert_str_eq(range(M1, REG, 1000, 4000, 0, &g),
	                 "1000 1-0:1.8.0 1 kWh\n"
	                 "2000 1-0:1.8.0 2 kWh\n"
	                 "3000 1-0:1.8.0 3 kWh\n",
	                 "[from, to): 4000 is out");
	cr_assert_str_eq(range(M1, NULL, 1500, 5000, 0, &g),
	                 "2000 1-0:1.29.0 0.5 kWh\n"
	                 "2000 1-0:1.8.0 2 kWh\n"
	                 "3000 1-0:1.8.0 3 kWh\n"
	                 "4000 1-0:1.8.0 4 Wh\n",
	                 "every code, in time then code order");
	cr_assert_str_eq(range(M1, REG, 0, 10000, 2, &g),
	                 "1000 1-0:1.8.0 1 kWh\n"
	                 "2000 1-0:1.8.0 2 kWh\n",
	                 "the first ones in time");
	cr_assert_str_eq(range(M2, INT, 0, 10000, 0, &g), "");
	cr_assert_str_eq(range("nobody", NULL, 0, 10000, 0, &g), "");
	cr_assert_str_eq(range(M1, REG, 5000, 5000, 0, &g), "", "an empty period");
}

Test(sp_db, edges_before_after_oldest_newest)
{
	struct sp_reading r[] = {
	    {M1, 1000, REG, 1, "kWh"},
	    {M1, 2000, REG, 2, "kWh"},
	    {M1, 3000, REG, 3, "kWh"},
	    {M1, 9000, INT, 9, "kWh"},
	};
	int64_t t = -1;
	double v = -1;
	bool found = false;
	char err[256];

	insert(r, 4);
	cr_assert_eq(sp_db_edge(db, M1, REG, 2000, -1, &t, &v, &found, err, sizeof(err)), GF_OK);
	cr_assert(found && t == 1000 && v == 1, "strictly before");
	cr_assert_eq(sp_db_edge(db, M1, REG, 2000, 1, &t, &v, &found, err, sizeof(err)), GF_OK);
	cr_assert(found && t == 3000 && v == 3, "strictly after");
	cr_assert_eq(sp_db_edge(db, M1, REG, 3000, 1, &t, &v, &found, err, sizeof(err)), GF_OK);
	cr_assert(!found, "nothing after the last (the interval code is another)");
	cr_assert_eq(t, 3000, "outputs untouched when nothing is found");
	cr_assert_eq(sp_db_edge(db, M1, REG, INT64_MAX, -1, &t, &v, &found, err, sizeof(err)),
	             GF_OK);
	cr_assert(found && t == 3000, "the newest");
	cr_assert_eq(sp_db_edge(db, M1, REG, INT64_MIN, 1, &t, &v, &found, err, sizeof(err)),
	             GF_OK);
	cr_assert(found && t == 1000, "the oldest");
	cr_assert_eq(sp_db_edge(db, M1, REG, INT64_MIN, -1, &t, &v, &found, err, sizeof(err)),
	             GF_OK);
	cr_assert(!found);
	cr_assert_eq(sp_db_edge(db, M2, REG, INT64_MAX, -1, &t, &v, &found, err, sizeof(err)),
	             GF_OK);
	cr_assert(!found);
}

struct members {
	char text[1024];
};

static enum gf_err member(void *arg, const char *grid, const char *meter)
{
	struct members *m = arg;
	size_t len = strlen(m->text);

	snprintf(m->text + len, sizeof(m->text) - len, "%s:%s ", grid, meter);
	return GF_OK;
}

static const char *members(struct members *m)
{
	char err[256];

	memset(m, 0, sizeof(*m));
	cr_assert_eq(sp_db_members(db, member, m, err, sizeof(err)), GF_OK, "%s", err);
	return m->text;
}

Test(sp_db, the_newest_topology_and_its_members)
{
	const char *a[] = {"m3", "m1", "m1", "m2"}, *b[] = {"m9"}, *c[] = {"m5", "m6"};
	struct members m;
	bool stored = false;
	char err[256];

	cr_assert_eq(sp_db_topology_put(db, "t1", 1, "{\"r\":1}", a, 4, &stored, err, sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert(stored);
	cr_assert_str_eq(members(&m), "t1:m1 t1:m2 t1:m3 ", "members once each, ordered");
	cr_assert_eq(sp_db_topology_put(db, "t1", 1, "{}", b, 1, &stored, err, sizeof(err)), GF_OK);
	cr_assert(!stored, "the same revision again changes nothing");
	cr_assert_eq(sp_db_topology_put(db, "t1", 0, "{}", b, 1, &stored, err, sizeof(err)), GF_OK);
	cr_assert(!stored, "an older revision changes nothing");
	cr_assert_str_eq(members(&m), "t1:m1 t1:m2 t1:m3 ");
	cr_assert_eq(sp_db_topology_put(db, "t0", 7, "{}", c, 2, &stored, err, sizeof(err)), GF_OK);
	cr_assert(stored);
	cr_assert_eq(sp_db_topology_put(db, "t1", 2, "{}", b, 1, &stored, err, sizeof(err)), GF_OK);
	cr_assert(stored, "a newer revision replaces the members");
	cr_assert_str_eq(members(&m), "t0:m5 t0:m6 t1:m9 ");
	cr_assert_eq(sp_db_topology_put(db, "t2", 1, "{}", NULL, 0, &stored, err, sizeof(err)),
	             GF_OK);
	cr_assert(stored, "a topology without meters");
	cr_assert_str_eq(members(&m), "t0:m5 t0:m6 t1:m9 ");
}

Test(sp_db, retention_deletes_what_is_older)
{
	struct sp_reading r[] = {
	    {M1, 1000, REG, 1, "kWh"},
	    {M1, 2000, REG, 2, "kWh"},
	    {M2, 2500, REG, 2, "kWh"},
	    {M2, 3000, INT, 3, "kWh"},
	};
	uint64_t deleted = 0;
	char err[256];

	insert(r, 4);
	cr_assert_eq(sp_db_retain(db, 2500, &deleted, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(deleted, 2);
	cr_assert_eq(count(), 2);
	cr_assert_eq(sp_db_retain(db, 2500, &deleted, err, sizeof(err)), GF_OK);
	cr_assert_eq(deleted, 0);
}

Test(sp_db, strings_that_need_quoting_survive)
{
	/* The PostgreSQL backend sends batches as array literals. */
	struct sp_reading r[] = {
	    {"a\"b\\c,{d}", 1, "1-0:1.8.0", -0.125, "k\"Wh"},
	    {"", 2, "x y", 1e300, ""},
	};
	struct got g;

	cr_assert_eq(insert(r, 2), 2);
	cr_assert_str_eq(range("a\"b\\c,{d}", NULL, 0, 10, 0, &g), "1 1-0:1.8.0 -0.125 k\"Wh\n");
	cr_assert_str_eq(range("", NULL, 0, 10, 0, &g), "2 x y 1e+300 \n");
}

Test(sp_db, large_batches_are_counted_exactly)
{
	static struct sp_reading r[1000];
	static char names[1000][16];
	size_t total = 0;

	for (int b = 0; b < 5; b++) {
		for (int i = 0; i < 1000; i++) {
			snprintf(names[i], sizeof(names[i]), "m%d", i % 50);
			r[i] = (struct sp_reading){names[i], (int64_t)(b * 1000 + i) * 900000, REG,
			                           (double)i, "kWh"};
		}
		total += insert(r, 1000);
		cr_assert_eq(insert(r, 1000), 0, "batch %d again", b);
	}
	cr_assert_eq(total, 5000);
	cr_assert_eq(count(), 5000);
}

Test(sp_db, a_bad_spec_is_refused)
{
	struct sp_db *other = NULL;
	char err[256] = "";

	cr_assert_eq(sp_db_open("mysql:x", &other, err, sizeof(err)), GF_EINVAL);
	cr_assert(strstr(err, "sqlite:<path>") != NULL, "%s", err);
	cr_assert_eq(sp_db_open("sqlite:", &other, err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(sp_db_open("sqlite:/nonexistent/dir/x.db", &other, err, sizeof(err)), GF_EIO);
	cr_assert(strstr(err, "cannot open") != NULL, "%s", err);
	cr_assert_eq(sp_db_open("postgresql:host=/nonexistent-socket-dir password=sekrit", &other,
	                        err, sizeof(err)),
	             GF_EIO);
	cr_assert(strstr(err, "cannot connect") != NULL, "%s", err);
	cr_assert(strstr(err, "sekrit") == NULL, "a password never reaches the message: %s", err);
	cr_assert_null(other);
}
