/* SPDX-License-Identifier: MIT */
/*
 * gf-report - what a `make demo` day did (docs/demo.md): reads the run
 * directory of ops/demo/gf-demo and prints a per-interval table and a
 * summary, and writes a self-contained HTML report with inline SVG plots.
 *
 *   gf-report --run DIR --limit-kw KW [--html FILE]
 *
 * Sources, all written by the agents themselves:
 *   DIR/sim.csv                 gf-sim: per prosumer and interval, base load,
 *                               devices, their defaults, the meter
 *   DIR/state/fmar/fmar.db      gf-fmar: per bid interval the change asked
 *                               and accepted (fmar_cleared), results
 *   DIR/state/fman/fman.db      gf-fman: offers and aggregates
 *   DIR/state/doms/doms.db      gf-doms: the bids it issued
 *   DIR/state/sp/sp-meter.db    gf-sp: the meter readings it stored (the
 *                               DMS export through gf-anonymizer), each the
 *                               energy of the interval ending at its time
 *
 * The feeder's forecast is the households' base load (the IEEE profiles
 * DOMS sums); the baseline is base load plus every device's default
 * schedule; delivered flexibility is baseline minus the meter, positive =
 * less consumption (the bid's sign).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "day.h"

static int usage(FILE *out, int code)
{
	fprintf(out, "usage: gf-report --run DIR --limit-kw KW [--html FILE]\n"
	             "Prints the demo day's per-interval table and summary from the agents'\n"
	             "records in DIR (ops/demo/gf-demo's run directory); --html also writes\n"
	             "the report with inline SVG plots.\n");
	return code;
}

/* Reads DIR/sim.csv into the day's per-interval sums. */
static int read_sim(const char *dir, struct report_day *d)
{
	char path[4096], line[1024];
	FILE *f;
	long lineno = 0;

	snprintf(path, sizeof(path), "%s/sim.csv", dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "gf-report: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		long long interval;
		char prosumer[128];
		double base, device, scheduled, total, dflt;
		struct report_slot *s;

		lineno++;
		if (lineno == 1 && strncmp(line, "interval,", 9) == 0)
			continue;
		if (sscanf(line, "%lld,%127[^,],%lf,%lf,%lf,%lf,%lf", &interval, prosumer, &base,
		           &device, &scheduled, &total, &dflt) != 7) {
			fprintf(stderr, "gf-report: %s:%ld: not a gf-sim row\n", path, lineno);
			fclose(f);
			return -1;
		}
		s = report_day_slot(d, interval);
		if (!s)
			continue;
		s->base += base;
		s->actual += total;
		s->baseline += base + dflt;
		s->scheduled += scheduled;
		s->rows++;
	}
	fclose(f);
	return 0;
}

/* Runs sql on DIR/state/NAME.db (NAME: "<agent>/<file>"), calling row() per result row. A
 * database or table that is not there counts as empty (the agent never
 * wrote one); any other failure is said on stderr and returns -1. */
static int query(const char *dir, const char *name, const char *sql,
                 void (*row)(sqlite3_stmt *st, struct report_day *d), struct report_day *d)
{
	char path[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1, step;

	snprintf(path, sizeof(path), "%s/state/%s.db", dir, name);
	if (access(path, F_OK) != 0)
		return 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(db), "no such table"))
			rc = 0;
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		row(st, d);
	if (step == SQLITE_DONE)
		rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "gf-report: cannot read %s: %s\n", path,
		        db ? sqlite3_errmsg(db) : "out of memory");
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

int main(int argc, char **argv)
{
	const char *run = NULL, *html = NULL;
	double limit_kw = NAN;
	struct report_day d;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--run") == 0 && i + 1 < argc)
			run = argv[++i];
		else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
			html = argv[++i];
		else if (strcmp(argv[i], "--limit-kw") == 0 && i + 1 < argc) {
			char *end;
			limit_kw = strtod(argv[++i], &end);
			if (*end || !isfinite(limit_kw) || limit_kw <= 0) {
				fprintf(stderr, "gf-report: --limit-kw needs a number > 0\n");
				return 2;
			}
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return usage(stdout, 0);
		else {
			fprintf(stderr, "gf-report: unknown argument '%s'\n", argv[i]);
			return usage(stderr, 2);
		}
	}
	if (!run || isnan(limit_kw))
		return usage(stderr, 2);
	report_day_init(&d, limit_kw * 0.25);
	if (read_sim(run, &d) != 0)
		return 1;
	if (d.first < 0) {
		fprintf(stderr, "gf-report: %s/sim.csv has no intervals\n", run);
		return 1;
	}
	if (query(run, "fmar/fmar",
	          "SELECT interval, requested_kwh, cleared_kwh FROM fmar_cleared ORDER BY interval",
	          cleared_row, &d) != 0 ||
	    query(run, "fmar/fmar",
	          "SELECT 'cleared_aggregates', count(*) FROM fmar_assign UNION ALL "
	          "SELECT 'bids', count(*) FROM fmar_offer WHERE kind = 'bid'",
	          count_row, &d) != 0 ||
	    query(run, "fman/fman",
	          "SELECT 'offers', count(*) FROM offers UNION ALL "
	          "SELECT 'assigned', count(DISTINCT offer) FROM assignments UNION ALL "
	          "SELECT 'aggregates', count(*) FROM aggregates",
	          count_row, &d) != 0 ||
	    query(run, "doms/doms", "SELECT 'bids', count(*) FROM doms_bid", count_row, &d) != 0 ||
	    query(
	        run, "sp/sp-meter",
	        "SELECT t, sum(value), count(*) FROM (SELECT t, value FROM sp_reading WHERE obis = "
	        "'1-0:1.29.0' UNION ALL SELECT t, value FROM sp_recent WHERE obis = '1-0:1.29.0')"
	        " GROUP BY t ORDER BY t",
	        sp_row, &d) != 0 ||
	    query(run, "sp/sp-meter",
	          "SELECT 'sp_meters', count(*) FROM (SELECT meter FROM sp_reading UNION "
	          "SELECT meter FROM sp_recent)",
	          count_row, &d) != 0)
		return 1;
	report_day_text(&d, stdout);
	if (html && report_day_html(&d, html) != 0)
		return 1;
	return 0;
}
