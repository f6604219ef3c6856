/* SPDX-License-Identifier: MIT */
/* text.c - the day as text (text.h). */
#include "text.h"

#include <math.h>
#include <string.h>

static void cell(FILE *out, const struct report_day *d, const struct report_slot *s,
                 enum report_curve c)
{
	double v;

	if (report_day_value(d, s, c, &v))
		fprintf(out, " %9.2f", v);
	else
		fprintf(out, " %9s", "-");
}

void report_text_table(const struct report_day *d, FILE *out)
{
	char t[8];

	fprintf(out, "%-5s %9s %9s %9s %9s %9s %9s %9s %9s\n", "time", "baseline", "forecast",
	        "optimum", "meter", "limit", "asked", "cleared", "delivered");
	fprintf(out, "%-5s %9s %9s %9s %9s %9s %9s %9s %9s\n", "UTC", "kWh", "kWh", "kWh", "kWh",
	        "kWh", "kWh", "kWh", "kWh");
	for (int i = 0; i < REPORT_DAY_SLOTS; i++) {
		const struct report_slot *s = &d->slot[i];

		if (!s->rows)
			continue;
		report_day_hhmm(i, t, sizeof(t));
		fprintf(out, "%-5s", t);
		cell(out, d, s, REPORT_BASELINE);
		cell(out, d, s, REPORT_FORECAST);
		cell(out, d, s, REPORT_OPTIMUM);
		cell(out, d, s, REPORT_METERED);
		fprintf(out, " %9.2f %9.2f %9.2f %9.2f%s\n", d->limit_kwh, s->requested, s->cleared,
		        s->baseline - s->actual, s->actual > d->limit_kwh ? "  over" : "");
	}
}

static void curve_line(FILE *out, const struct report_day *d, enum report_curve c, const char *name,
                       const char *absent)
{
	struct report_stats st = report_day_stats(d, c);

	if (!st.intervals) {
		fprintf(out, "  %-9s %s\n", name, absent);
		return;
	}
	fprintf(out, "  %-9s %9.1f %9d %9.1f %9.1f", name, st.overload, st.over, st.peak_kw,
	        st.energy);
	if (st.intervals != d->intervals)
		fprintf(out, "  (%d intervals)", st.intervals);
	fprintf(out, "\n");
}

static void optimum_line(FILE *out, const struct report_day *d)
{
	const struct report_optimum *o = &d->opt;
	double moved = report_day_stats(d, REPORT_BASELINE).energy -
	               report_day_stats(d, REPORT_OPTIMUM).energy;

	if (!o->done) {
		fprintf(out, "optimum: none%s%s\n", o->note[0] ? ": " : "", o->note);
		return;
	}
	fprintf(out,
	        "optimum: %s (GLPK), %s in %.1f s; LP relaxation %.1f kWh above the limit\n"
	        "  over %d offers of %d prosumers at FMAN (%d battery, %d EV, %d washer, %d "
	        "thermal, %d other), %d start choices\n",
	        o->relax ? "LP relaxation of the start choices" : "MILP over the start choices",
	        o->status, o->seconds, o->relaxation, o->offers, o->prosumers, o->kinds_battery,
	        o->kinds_ev, o->kinds_washer, o->kinds_thermal, o->kinds_other, o->binaries);
	fprintf(out,
	        "  the load no offer moves (baseline - those offers' defaults): %.1f kWh above the "
	        "limit on its own, peak %.1f kW\n",
	        o->fixed_overload, o->fixed_peak_kw);
	if (strcmp(o->status, "feasible") == 0)
		fprintf(
		    out,
		    "  the MILP stopped at its time limit: the best schedule found, up to %.3f kWh "
		    "above the optimum (--time-limit)\n",
		    o->gap);
	if (o->before || o->after)
		fprintf(
		    out,
		    "  its horizon runs %.2f h before and %.2f h after the day's intervals, where "
		    "the offers run on: the households' base load there, overload not reported\n",
		    o->before / 4.0, o->after / 4.0);
	if (fabs(moved) >= 0.05)
		fprintf(out,
		        "  it takes %.1f kWh %s than the baseline in the day: offers' energy moved "
		        "across the day's ends\n",
		        fabs(moved), moved > 0 ? "less" : "more");
	if (o->skipped)
		fprintf(out, "  %d offers in fman.db could not be read and are left out\n",
		        o->skipped);
	if (o->fixed_negative)
		fprintf(
		    out,
		    "  warning: in %d intervals the offers' defaults exceed the baseline (the load "
		    "no offer moves is negative)\n",
		    o->fixed_negative);
	if (o->note[0])
		fprintf(out, "  %s\n", o->note);
}

static void share_lines(FILE *out, const struct report_day *d)
{
	struct report_stats b = report_day_stats(d, REPORT_BASELINE),
	                    m = report_day_stats(d, REPORT_METERED),
	                    o = report_day_stats(d, REPORT_OPTIMUM);
	double share;

	if (!report_day_share(d, &share)) {
		fprintf(out,
		        "share of the optimum's overload reduction achieved by the market: n/a "
		        "(the optimum removes no overload); goal >= 80%%\n");
		return;
	}
	fprintf(out,
	        "share of the optimum's overload reduction achieved by the market: %.1f%% "
	        "(goal >= 80%%: %s)\n"
	        "  = (baseline %.1f - metered %.1f) / (baseline %.1f - optimum %.1f) kWh above the "
	        "limit\n",
	        share, share >= 80.0 ? "met" : "not met", b.overload, m.overload, b.overload,
	        o.overload);
}

static void forecast_line(FILE *out, const struct report_day *d)
{
	struct report_stats f = report_day_stats(d, REPORT_FORECAST),
	                    b = report_day_stats(d, REPORT_BASELINE);
	double mape, peak_err;
	int n;

	if (!report_day_forecast_error(d, &mape, &n, &peak_err)) {
		fprintf(out, "forecast error: n/a (forecast: not recorded)\n");
		return;
	}
	fprintf(out,
	        "forecast error against the baseline: MAPE %.1f%% over %d intervals; peak %.1f kW "
	        "against %.1f kW (%+.1f kW)",
	        mape, n, f.peak_kw, b.peak_kw, peak_err);
	if (d->forecast_grids > 1)
		fprintf(out, "; grid point %s (the largest of %d)", d->forecast_grid,
		        d->forecast_grids);
	fprintf(out, "\n");
}

static void settlement_lines(FILE *out, const struct report_day *d)
{
	const struct report_table *t = &d->settlement;
	double sum;

	if (!d->settlement_recorded) {
		fprintf(out, "  settlement: no settlement recorded\n");
		return;
	}
	fprintf(out, "  settlement: %d rows", t->nrows);
	for (int c = 0; c < t->ncols; c++)
		if (report_day_settlement_sum(d, c, &sum))
			fprintf(out, ", %s %.2f", t->names[c], sum);
	fprintf(out, " (fman_settlement; the HTML report has the table)\n");
}

void report_text_summary(const struct report_day *d, FILE *out)
{
	double requested = 0, cleared = 0, delivered_in_bids = 0, sp = 0, actual = 0;
	long rows = 0, sp_readings = 0;
	int asked = 0;
	char date[16];

	for (int i = 0; i < REPORT_DAY_SLOTS; i++) {
		const struct report_slot *s = &d->slot[i];
		if (!s->rows)
			continue;
		requested += s->requested;
		cleared += s->cleared;
		rows += s->rows;
		sp += s->sp;
		sp_readings += s->sp_readings;
		actual += s->actual;
		if (s->requested != 0) {
			asked++;
			delivered_in_bids += s->baseline - s->actual;
		}
	}
	report_day_date(d, date, sizeof(date));
	fprintf(out, "\nthe trading day %s (UTC; day %d of %d in sim.csv), %d of 96 intervals%s\n",
	        date, d->day_index, d->days_in_csv, d->intervals,
	        d->complete ? "" : " (not a complete day)");
	fprintf(out, "limit %.1f kW = %.2f kWh per interval\n\n", d->limit_kwh * 4, d->limit_kwh);
	fprintf(out, "  %-9s %9s %9s %9s %9s\n", "", "overload", "intervals", "peak", "energy");
	fprintf(out, "  %-9s %9s %9s %9s %9s\n", "", "kWh", "over", "kW", "kWh");
	curve_line(out, d, REPORT_BASELINE, "baseline", "");
	curve_line(out, d, REPORT_FORECAST, "forecast", "not recorded");
	curve_line(out, d, REPORT_OPTIMUM, "optimum", "not computed");
	curve_line(out, d, REPORT_METERED, "metered", "");
	fprintf(out, "\n");
	share_lines(out, d);
	forecast_line(out, d);
	optimum_line(out, d);
	fprintf(out, "the market:\n  bids: %lld, asking %.2f kWh over %d intervals of the day\n",
	        d->bids, requested, asked);
	fprintf(out, "  offers: %lld at FMAN (%lld assigned), %lld aggregates, %lld cleared\n",
	        d->offers, d->assigned_offers, d->aggregates, d->cleared_aggregates);
	fprintf(out, "  cleared: %.2f kWh (%.0f%% of the request)\n", cleared,
	        requested > 0 ? 100.0 * cleared / requested : 0.0);
	fprintf(out, "  delivered in the bid intervals: %.2f kWh (%.0f%% of the request)\n",
	        delivered_in_bids, requested > 0 ? 100.0 * delivered_in_bids / requested : 0.0);
	settlement_lines(out, d);
	fprintf(out,
	        "  meter data at the SP (DMS export -> gf-anonymizer -> gf-sp): %lld readings of "
	        "%lld pseudonymous meters; in the day %ld of %ld meter rows, %.1f kWh (the meters: "
	        "%.1f kWh)\n",
	        d->sp_readings, d->sp_meters, sp_readings, rows, sp, actual);
}
