/* SPDX-License-Identifier: MIT */
/* sources.c - the run directory's records read into the day (sources.h). */
#include "sources.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Which intervals of a day have rows. */
struct seen_day {
	int64_t day;
	unsigned char seen[REPORT_DAY_SLOTS];
	int count;
};

struct sim_row {
	long long interval;
	double base, device, scheduled, total, dflt;
};

/* One row of sim.csv; 0 for the header, -1 for a line that is not gf-sim's. */
static int parse_row(const char *line, long lineno, struct sim_row *r)
{
	char prosumer[128];

	if (lineno == 1 && strncmp(line, "interval,", 9) == 0)
		return 0;
	if (sscanf(line, "%lld,%127[^,],%lf,%lf,%lf,%lf,%lf", &r->interval, prosumer, &r->base,
	           &r->device, &r->scheduled, &r->total, &r->dflt) != 7 ||
	    r->interval < 0)
		return -1;
	return 1;
}

static int64_t day_of(long long interval)
{
	return interval / REPORT_DAY_SLOTS;
}

/* The days of the file and which of their intervals have rows. */
static int scan_days(FILE *f, const char *path, struct seen_day **days, int *ndays)
{
	char line[1024];
	long lineno = 0;
	struct sim_row r;

	while (fgets(line, sizeof(line), f)) {
		int k, rc = parse_row(line, ++lineno, &r);
		if (rc < 0) {
			fprintf(stderr, "gf-report: %s:%ld: not a gf-sim row\n", path, lineno);
			return -1;
		}
		if (rc == 0)
			continue;
		for (k = 0; k < *ndays && (*days)[k].day != day_of(r.interval); k++)
			;
		if (k == *ndays) {
			struct seen_day *grown = realloc(*days, (size_t)(k + 1) * sizeof(**days));
			if (!grown) {
				fprintf(stderr, "gf-report: out of memory\n");
				return -1;
			}
			*days = grown;
			memset(&grown[k], 0, sizeof(grown[k]));
			grown[k].day = day_of(r.interval);
			(*ndays)++;
		}
		if (!(*days)[k].seen[r.interval % REPORT_DAY_SLOTS]++)
			(*days)[k].count++;
	}
	return 0;
}

static int by_day(const void *a, const void *b)
{
	const struct seen_day *x = a, *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

int report_sources_read_sim(const char *dir, int64_t day, double limit_kwh, struct report_day *d)
{
	char path[4096], line[1024];
	struct seen_day *days = NULL;
	int ndays = 0, pick = -1, rc = -1;
	long lineno = 0;
	struct sim_row r;
	FILE *f;

	snprintf(path, sizeof(path), "%s/sim.csv", dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "gf-report: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (scan_days(f, path, &days, &ndays) != 0)
		goto out;
	if (ndays)
		qsort(days, (size_t)ndays, sizeof(*days), by_day);
	for (int k = 0; k < ndays; k++) {
		if (day != REPORT_SOURCES_ANY_DAY) {
			if (days[k].day == day)
				pick = k;
		} else if (pick < 0 || days[k].count == REPORT_DAY_SLOTS ||
		           (days[pick].count < REPORT_DAY_SLOTS &&
		            days[k].count >= days[pick].count))
			pick = k;
	}
	if (pick < 0) {
		fprintf(stderr, "gf-report: %s has no rows%s\n", path,
		        day != REPORT_SOURCES_ANY_DAY ? " of that day" : "");
		goto out;
	}
	report_day_init(d, days[pick].day, limit_kwh);
	d->days_in_csv = ndays;
	d->day_index = pick + 1;
	d->intervals = days[pick].count;
	d->complete = days[pick].count == REPORT_DAY_SLOTS;
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		struct report_slot *s;
		if (parse_row(line, ++lineno, &r) <= 0 || !(s = report_day_slot(d, r.interval)))
			continue;
		s->base += r.base;
		s->actual += r.total;
		s->baseline += r.base + r.dflt;
		s->scheduled += r.scheduled;
		s->rows++;
	}
	rc = 0;
out:
	free(days);
	fclose(f);
	return rc;
}

int report_sources_open(const char *dir, const char *name, sqlite3 **db)
{
	char path[4096];

	*db = NULL;
	snprintf(path, sizeof(path), "%s/state/%s.db", dir, name);
	if (access(path, F_OK) != 0)
		return 0;
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "gf-report: cannot open %s: %s\n", path,
		        *db ? sqlite3_errmsg(*db) : "out of memory");
		sqlite3_close(*db);
		*db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(*db, 10000);
	return 0;
}

/* Runs sql on DIR/state/NAME.db, calling row() per result row. A database
 * or table that is not there counts as empty (the agent never wrote one);
 * any other failure is said on stderr and returns -1. */
static int query(const char *dir, const char *name, const char *sql,
                 void (*row)(sqlite3_stmt *st, struct report_day *d), struct report_day *d)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	if (report_sources_open(dir, name, &db) != 0)
		return -1;
	if (!db)
		return 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(db), "no such table"))
			rc = 0;
		goto out;
	}
	sqlite3_bind_int64(st, 1, d->first);
	sqlite3_bind_int64(st, 2, d->first + REPORT_DAY_SLOTS);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		row(st, d);
	if (step == SQLITE_DONE)
		rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "gf-report: cannot read %s/state/%s.db: %s\n", dir, name,
		        sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

static void cleared_row(sqlite3_stmt *st, struct report_day *d)
{
	struct report_slot *s = report_day_slot(d, sqlite3_column_int64(st, 0));

	if (s) {
		s->requested += sqlite3_column_double(st, 1);
		s->cleared += sqlite3_column_double(st, 2);
	}
}

/* Energy per interval at the SP: a reading's time is its interval's end. */
static void sp_row(sqlite3_stmt *st, struct report_day *d)
{
	int64_t t_ms = sqlite3_column_int64(st, 0);
	struct report_slot *s = report_day_slot(d, t_ms / 900000 - 1);

	d->sp_readings += sqlite3_column_int64(st, 2);
	if (s) {
		s->sp += sqlite3_column_double(st, 1);
		s->sp_readings += sqlite3_column_int64(st, 2);
	}
}

static void count_row(sqlite3_stmt *st, struct report_day *d)
{
	const char *what = (const char *)sqlite3_column_text(st, 0);
	long long n = sqlite3_column_int64(st, 1);

	if (!what)
		return;
	if (strcmp(what, "bids") == 0)
		d->bids = n;
	else if (strcmp(what, "offers") == 0)
		d->offers = n;
	else if (strcmp(what, "assigned") == 0)
		d->assigned_offers = n;
	else if (strcmp(what, "aggregates") == 0)
		d->aggregates = n;
	else if (strcmp(what, "cleared_aggregates") == 0)
		d->cleared_aggregates = n;
	else if (strcmp(what, "sp_meters") == 0)
		d->sp_meters = n;
}

/* The grid points of doms_forecast in the day, the largest energy first:
 * the transformer carries every load below it, so the feeder's forecast is
 * the grid point with the most energy. */
static void grid_row(sqlite3_stmt *st, struct report_day *d)
{
	const char *grid = (const char *)sqlite3_column_text(st, 0);

	d->forecast_recorded = true;
	if (d->forecast_grids++ == 0)
		snprintf(d->forecast_grid, sizeof(d->forecast_grid), "%s", grid ? grid : "");
}

static void forecast_row(sqlite3_stmt *st, struct report_day *d)
{
	const char *grid = (const char *)sqlite3_column_text(st, 0);
	struct report_slot *s = report_day_slot(d, sqlite3_column_int64(st, 1));

	if (s && grid && strcmp(grid, d->forecast_grid) == 0) {
		s->forecast = sqlite3_column_double(st, 2);
		s->has_forecast = true;
	}
}

static char *dup_text(sqlite3_stmt *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	char *s;

	if (!t)
		return NULL;
	s = strdup((const char *)t);
	return s;
}

/* fman_settlement as it is, whatever its columns (read by name through
 * PRAGMA table_info): ordered by prosumer (foa) when it has that column. */
static int read_settlement(const char *dir, struct report_day *d)
{
	struct report_table *t = &d->settlement;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char sql[512];
	int rc = -1, step, cap = 0, prosumer = -1;

	if (report_sources_open(dir, "fman/fman", &db) != 0)
		return -1;
	if (!db)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('fman_settlement')", -1, &st,
	                       NULL) != SQLITE_OK)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		char **names = realloc(t->names, (size_t)(t->ncols + 1) * sizeof(*t->names));
		if (!names)
			goto out;
		t->names = names;
		t->names[t->ncols] = dup_text(st, 0);
		if (!t->names[t->ncols])
			goto out;
		t->ncols++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (step != SQLITE_DONE)
		goto out;
	if (t->ncols == 0) { /* no such table */
		rc = 0;
		goto out;
	}
	d->settlement_recorded = true;
	prosumer = report_day_prosumer_column(t);
	snprintf(sql, sizeof(sql), "SELECT * FROM fman_settlement ORDER BY %s%s",
	         prosumer >= 0 ? t->names[prosumer] : "", prosumer >= 0 ? ", rowid" : "rowid");
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT * FROM fman_settlement", -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int ncols =
		    sqlite3_column_count(st) < t->ncols ? sqlite3_column_count(st) : t->ncols;
		if (t->nrows == cap) {
			int grown = cap ? 2 * cap : 64;
			char **cells =
			    realloc(t->cells, (size_t)grown * (size_t)t->ncols * sizeof(*t->cells));
			if (cells)
				t->cells = cells;
			bool *numeric = realloc(t->numeric, (size_t)grown * (size_t)t->ncols *
			                                        sizeof(*t->numeric));
			if (numeric)
				t->numeric = numeric;
			if (!cells || !numeric)
				goto out;
			cap = grown;
		}
		for (int c = 0; c < t->ncols; c++) {
			size_t i = (size_t)t->nrows * (size_t)t->ncols + (size_t)c;
			int type = c < ncols ? sqlite3_column_type(st, c) : SQLITE_NULL;
			t->numeric[i] = type == SQLITE_INTEGER || type == SQLITE_FLOAT;
			t->cells[i] = type == SQLITE_NULL ? NULL : dup_text(st, c);
		}
		t->nrows++;
	}
	if (step == SQLITE_DONE)
		rc = 0;
out:
	if (rc != 0)
		fprintf(stderr,
		        "gf-report: cannot read fman_settlement in %s/state/fman/fman.db: %s\n",
		        dir, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int report_sources_read_state(const char *dir, struct report_day *d)
{
	if (query(dir, "fmar/fmar",
	          "SELECT interval, requested_kwh, cleared_kwh FROM fmar_cleared"
	          " WHERE interval >= ?1 AND interval < ?2 ORDER BY interval",
	          cleared_row, d) != 0 ||
	    query(dir, "fmar/fmar",
	          "SELECT 'cleared_aggregates', count(*) FROM fmar_assign UNION ALL "
	          "SELECT 'bids', count(*) FROM fmar_offer WHERE kind = 'bid'",
	          count_row, d) != 0 ||
	    query(dir, "fman/fman",
	          "SELECT 'offers', count(*) FROM offers UNION ALL "
	          "SELECT 'assigned', count(DISTINCT offer) FROM assignments UNION ALL "
	          "SELECT 'aggregates', count(*) FROM aggregates",
	          count_row, d) != 0 ||
	    query(dir, "doms/doms", "SELECT 'bids', count(*) FROM doms_bid", count_row, d) != 0 ||
	    query(dir, "doms/doms",
	          "SELECT grid FROM doms_forecast WHERE interval >= ?1 AND interval < ?2"
	          " GROUP BY grid ORDER BY sum(kwh) DESC, grid",
	          grid_row, d) != 0 ||
	    query(dir, "doms/doms",
	          "SELECT grid, interval, kwh FROM doms_forecast WHERE interval >= ?1 AND"
	          " interval < ?2",
	          forecast_row, d) != 0 ||
	    query(
	        dir, "sp/sp-meter",
	        "SELECT t, sum(value), count(*) FROM (SELECT t, value FROM sp_reading WHERE obis = "
	        "'1-0:1.29.0' UNION ALL SELECT t, value FROM sp_recent WHERE obis = '1-0:1.29.0')"
	        " GROUP BY t ORDER BY t",
	        sp_row, d) != 0 ||
	    query(dir, "sp/sp-meter",
	          "SELECT 'sp_meters', count(*) FROM (SELECT meter FROM sp_reading UNION "
	          "SELECT meter FROM sp_recent)",
	          count_row, d) != 0)
		return -1;
	return read_settlement(dir, d);
}
