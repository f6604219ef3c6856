/* SPDX-License-Identifier: MIT */
/*
 * gf-report - what a `make demo` run did on its trading day (docs/demo.md):
 * reads the run directory of ops/demo/gf-demo, computes the
 * perfect-information optimum of the day, prints a per-interval table and
 * a summary, and writes a self-contained HTML report with inline SVG.
 *
 *   gf-report --run DIR --limit-kw KW [--day YYYY-MM-DD] [--html FILE]
 *             [--relax] [--time-limit S]
 *
 * Sources, all written by the agents themselves (sources.h):
 *   DIR/sim.csv                 gf-sim: per prosumer and interval, base load,
 *                               devices, their defaults, the meter
 *   DIR/state/fmar/fmar.db      gf-fmar: per bid interval the change asked
 *                               and accepted (fmar_cleared)
 *   DIR/state/fman/fman.db      gf-fman: the offers (their bodies feed the
 *                               optimum), aggregates, fman_settlement
 *   DIR/state/doms/doms.db      gf-doms: its bids and doms_forecast
 *   DIR/state/sp/sp-meter.db    gf-sp: the meter readings it stored
 *
 * The baseline is base load plus every device's default schedule; delivered
 * flexibility is baseline minus the meter, positive = less consumption (the
 * bid's sign).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "day.h"
#include "html.h"
#include "optimum.h"
#include "sources.h"
#include "text.h"

static int usage(FILE *out, int code)
{
	fprintf(out,
	        "usage: gf-report --run DIR --limit-kw KW [--day YYYY-MM-DD] [--html FILE]\n"
	        "                 [--relax] [--time-limit S]\n"
	        "Prints the trading day's per-interval table and summary from the agents'\n"
	        "records in DIR (ops/demo/gf-demo's run directory): baseline, DOMS forecast,\n"
	        "perfect-information optimum and metered feeder against the limit, and the\n"
	        "share of the optimum's overload reduction the market achieved.\n"
	        "  --day D         the day to report (UTC); default: the last complete day in\n"
	        "                  DIR/sim.csv, else the one with the most intervals\n"
	        "  --html FILE     also write the report as HTML with inline SVG charts\n"
	        "  --relax         the optimum's LP relaxation of the devices' start times\n"
	        "                  (optimistic) instead of the MILP\n"
	        "  --time-limit S  the MILP's time limit, seconds (default 60)\n");
	return code;
}

/* Days since 1970-01-01 of "YYYY-MM-DD"; -1 if it is not one. */
static int64_t parse_day(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	return (int64_t)(timegm(&tm) / 86400);
}

static int positive(const char *opt, const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || !isfinite(v) || v <= 0) {
		fprintf(stderr, "gf-report: %s needs a number > 0\n", opt);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	const char *run = NULL, *html = NULL;
	double limit_kw = NAN, time_limit_s = 60;
	int64_t day = REPORT_SOURCES_ANY_DAY;
	bool relax = false;
	static struct report_day d;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--run") == 0 && i + 1 < argc)
			run = argv[++i];
		else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
			html = argv[++i];
		else if (strcmp(argv[i], "--limit-kw") == 0 && i + 1 < argc) {
			if (positive("--limit-kw", argv[++i], &limit_kw) != 0)
				return 2;
		} else if (strcmp(argv[i], "--time-limit") == 0 && i + 1 < argc) {
			if (positive("--time-limit", argv[++i], &time_limit_s) != 0)
				return 2;
		} else if (strcmp(argv[i], "--day") == 0 && i + 1 < argc) {
			day = parse_day(argv[++i]);
			if (day < 0) {
				fprintf(stderr, "gf-report: --day needs YYYY-MM-DD\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--relax") == 0)
			relax = true;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return usage(stdout, 0);
		else {
			fprintf(stderr, "gf-report: unknown argument '%s'\n", argv[i]);
			return usage(stderr, 2);
		}
	}
	if (!run || isnan(limit_kw))
		return usage(stderr, 2);
	if (report_sources_read_sim(run, day, limit_kw * 0.25, &d) != 0)
		return 1;
	if (report_sources_read_state(run, &d) != 0 ||
	    report_optimum_compute(run, relax, time_limit_s, &d) != 0)
		goto out;
	report_text_table(&d, stdout);
	report_text_summary(&d, stdout);
	if (html && report_html_write(&d, html) != 0)
		goto out;
	rc = 0;
out:
	report_day_free(&d);
	return rc;
}
