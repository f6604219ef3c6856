/* SPDX-License-Identifier: MIT */
/*
 * html.c - the day as an HTML page with inline SVG (html.h).
 *
 * The charts scale with the page (viewBox, width 100%) down to a minimum
 * width below which they scroll sideways, so that their text stays
 * readable on a phone. Legends are HTML above each chart, never inside the
 * plot, so they cannot overlap the axis titles whatever the width.
 */
#include "html.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* A chart's own coordinates: the plot area inside the margins. Each chart
 * is drawn twice, wide (laptop) and narrow (phone), and CSS shows one. */
struct geom {
	double w, h;
	double ml, mr, mt, mb; /* left: tick labels and the rotated y title; right: room for
	                        * the last time label; bottom: tick labels and the x title */
	int tick_every;        /* intervals between time labels */
	double font;           /* px in the chart's coordinates */
	const char *cls;       /* the CSS class that shows it */
};

static const struct geom WIDE = {760, 360, 64, 26, 12, 52, 12, 15, "wide"};
static const struct geom NARROW = {400, 330, 50, 22, 10, 46, 24, 14, "narrow"};

#define C_BASELINE "#1f77b4"
#define C_FORECAST "#ff7f0e"
#define C_OPTIMUM  "#2ca02c"
#define C_METERED  "#222222"
#define C_LIMIT    "#d62728"
#define C_ASKED    "#ff7f0e"
#define C_CLEARED  "#9467bd"
#define C_DELIVER  "#2ca02c"

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

/* A column name as a header: underscores as spaces, so that a long name
 * (delivered_kwh) can wrap on a narrow screen. */
static void header(FILE *f, const char *name)
{
	for (; name && *name; name++) {
		char c[2] = {*name == '_' ? ' ' : *name, 0};
		esc(f, c);
	}
}

/* --- axes ------------------------------------------------------------------------ */

struct axis {
	double lo, hi, step;
};

/* Round ticks over [lo, hi]: steps of 1, 2, 2.5 or 5 x 10^k, at most 7. */
static struct axis nice(double lo, double hi)
{
	struct axis a;
	double span = hi - lo > 0 ? hi - lo : 1, mag = pow(10, floor(log10(span / 6)));
	const double m[4] = {1, 2, 2.5, 5};

	a.step = 10 * mag;
	for (int i = 0; i < 4; i++)
		if (span / (m[i] * mag) <= 6) {
			a.step = m[i] * mag;
			break;
		}
	a.lo = floor(lo / a.step) * a.step;
	a.hi = ceil(hi / a.step) * a.step;
	if (a.hi <= a.lo)
		a.hi = a.lo + a.step;
	return a;
}

static double y_of(const struct geom *g, const struct axis *a, double v)
{
	return g->mt + (g->h - g->mt - g->mb) * (1 - (v - a->lo) / (a->hi - a->lo));
}

/* x of a point i intervals after the day's start (may be fractional). */
static double x_of(const struct geom *g, double i)
{
	return g->ml + (g->w - g->ml - g->mr) * i / REPORT_DAY_SLOTS;
}

static void axes(FILE *f, const struct geom *g, const struct axis *a, const char *ytitle)
{
	char t[8];

	for (double v = a->lo; v <= a->hi + a->step / 2; v += a->step) {
		double y = y_of(g, a, v);
		fprintf(f,
		        "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s'/>"
		        "<text x='%.1f' y='%.1f' text-anchor='end'>%g</text>\n",
		        g->ml, y, g->w - g->mr, y, fabs(v) < a->step / 2 ? "#888" : "#e4e4e4",
		        g->ml - 6, y + g->font / 3, fabs(v) < a->step / 1e6 ? 0.0 : v);
	}
	for (int i = 0; i <= REPORT_DAY_SLOTS; i += g->tick_every) {
		double x = x_of(g, i), y = g->h - g->mb;
		report_day_hhmm(i, t, sizeof(t));
		fprintf(f,
		        "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888'/>"
		        "<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>\n",
		        x, y, x, y + 5, x, y + 6 + g->font, t);
	}
	fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>time of day (UTC)</text>\n",
	        g->ml + (g->w - g->ml - g->mr) / 2, g->h - 6);
	fprintf(f,
	        "<text transform='translate(%.1f %.1f) rotate(-90)' "
	        "text-anchor='middle'>%s</text>\n",
	        g->font + 1, g->mt + (g->h - g->mt - g->mb) / 2, ytitle);
}

static void svg_open(FILE *f, const struct geom *g, const char *label)
{
	fprintf(f,
	        "<div class='chart %s'><svg viewBox='0 0 %.0f %.0f' role='img' aria-label='%s' "
	        "font-family='sans-serif' font-size='%.0f'>\n",
	        g->cls, g->w, g->h, label, g->font);
}

static void svg_close(FILE *f)
{
	fprintf(f, "</svg></div>\n");
}

/* One line of the legend: a short stroke as the curve has it, and its name. */
static void key(FILE *f, const char *colour, const char *dash, double width, const char *label)
{
	fprintf(f,
	        "<span><svg width='30' height='12' aria-hidden='true'><line x1='1' y1='6' x2='29' "
	        "y2='6' stroke='%s' stroke-width='%.1f'%s%s%s/></svg>%s</span>\n",
	        colour, width, dash[0] ? " stroke-dasharray='" : "", dash, dash[0] ? "'" : "",
	        label);
}

static void swatch(FILE *f, const char *colour, const char *label)
{
	fprintf(f,
	        "<span><svg width='14' height='14' aria-hidden='true'><rect width='14' height='14' "
	        "fill='%s'/></svg>%s</span>\n",
	        colour, label);
}

/* A polyline through the slots' values (kWh, times scale), broken where a
 * slot has none. value() says whether slot i has one. */
struct series {
	const struct report_day *d;
	enum report_curve c;
	bool change; /* baseline - the curve instead of the curve */
	double scale;
};

static bool series_value(const struct series *s, int i, double *v)
{
	const struct report_slot *sl = &s->d->slot[i];

	if (!report_day_value(s->d, sl, s->c, v))
		return false;
	if (s->change)
		*v = sl->baseline - *v;
	*v *= s->scale;
	return true;
}

static void polyline(FILE *f, const struct geom *g, const struct axis *a, const struct series *s,
                     const char *colour, const char *dash, double width)
{
	bool open = false;

	for (int i = 0; i < REPORT_DAY_SLOTS; i++) {
		double v;
		if (!series_value(s, i, &v)) {
			if (open)
				fprintf(f, "'/>\n");
			open = false;
			continue;
		}
		if (!open)
			fprintf(f,
			        "<polyline fill='none' stroke='%s' stroke-width='%.1f' "
			        "stroke-linejoin='round'%s%s%s points='",
			        colour, width, dash[0] ? " stroke-dasharray='" : "", dash,
			        dash[0] ? "'" : "");
		open = true;
		fprintf(f, "%.1f,%.1f ", x_of(g, i + 0.5), y_of(g, a, v));
	}
	if (open)
		fprintf(f, "'/>\n");
}

/* --- the feeder's curves ------------------------------------------------------------ */

static void load_svg(FILE *f, const struct geom *g, const struct report_day *d,
                     const struct axis *a)
{
	const char *colour[4] = {C_BASELINE, C_FORECAST, C_OPTIMUM, C_METERED};
	const char *dash[4] = {"", "7,4", "", ""};
	const double width[4] = {2.5, 2.5, 2.5, 1.8};

	svg_open(f, g,
	         "feeder load in kW per interval: baseline, forecast, optimum and metered against "
	         "the transformer limit");
	axes(f, g, a, g == &WIDE ? "feeder load, kW (mean over 15 min)" : "feeder load, kW");
	for (enum report_curve c = REPORT_BASELINE; c <= REPORT_METERED; c++) {
		struct series s = {d, c, false, 4};
		polyline(f, g, a, &s, colour[c], dash[c], width[c]);
	}
	fprintf(f,
	        "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2' "
	        "stroke-dasharray='3,3'/>\n",
	        g->ml, y_of(g, a, d->limit_kwh * 4), g->w - g->mr, y_of(g, a, d->limit_kwh * 4),
	        C_LIMIT);
	svg_close(f);
}

static void load_chart(FILE *f, const struct report_day *d)
{
	double hi = d->limit_kwh * 4 * 1.1;
	struct axis a;

	for (int i = 0; i < REPORT_DAY_SLOTS; i++)
		for (enum report_curve c = REPORT_BASELINE; c <= REPORT_METERED; c++) {
			double v;
			if (report_day_value(d, &d->slot[i], c, &v))
				hi = fmax(hi, v * 4);
		}
	a = nice(0, hi);
	fprintf(f, "<div class='legend'>\n");
	key(f, C_BASELINE, "", 2.5, "baseline (devices on their defaults)");
	key(f, C_FORECAST, "7,4", 2.5,
	    d->forecast_recorded ? "DOMS forecast" : "DOMS forecast (not recorded)");
	key(f, C_OPTIMUM, "", 2.5, d->opt.done ? "optimum" : "optimum (not computed)");
	key(f, C_METERED, "", 1.8, "metered");
	key(f, C_LIMIT, "3,3", 2, "transformer limit");
	fprintf(f, "</div>\n");
	load_svg(f, &WIDE, d, &a);
	load_svg(f, &NARROW, d, &a);
}

/* --- flexibility -------------------------------------------------------------------- */

static void flex_svg(FILE *f, const struct geom *g, const struct report_day *d,
                     const struct axis *a)
{
	double bw = (g->w - g->ml - g->mr) / REPORT_DAY_SLOTS / 3.3;
	struct series s = {d, REPORT_OPTIMUM, true, 1};

	svg_open(f, g,
	         "flexibility per interval in kWh: asked, cleared, delivered and the optimum's "
	         "change");
	axes(f, g, a, g == &WIDE ? "kWh per interval (+ = less load)" : "kWh (+ = less load)");
	for (int i = 0; i < REPORT_DAY_SLOTS; i++) {
		const struct report_slot *sl = &d->slot[i];
		const double v[3] = {sl->requested, sl->cleared, sl->baseline - sl->actual};
		const char *c[3] = {C_ASKED, C_CLEARED, C_DELIVER};

		if (!sl->rows)
			continue;
		for (int k = 0; k < 3; k++) {
			double y0 = y_of(g, a, 0), y1 = y_of(g, a, v[k]);
			if (fabs(y1 - y0) < 0.05)
				continue;
			fprintf(
			    f, "<rect x='%.1f' y='%.1f' width='%.2f' height='%.1f' fill='%s'/>\n",
			    x_of(g, i) + bw * (0.15 + k), fmin(y0, y1), bw, fabs(y1 - y0), c[k]);
		}
	}
	polyline(f, g, a, &s, C_OPTIMUM, "4,3", 2);
	svg_close(f);
}

static void flex_chart(FILE *f, const struct report_day *d)
{
	double lo = 0, hi = 0.1;
	struct axis a;

	for (int i = 0; i < REPORT_DAY_SLOTS; i++) {
		const struct report_slot *s = &d->slot[i];
		double v[4] = {s->requested, s->cleared, s->baseline - s->actual,
		               d->opt.done ? s->baseline - s->optimum : 0};
		if (!s->rows)
			continue;
		for (int k = 0; k < 4; k++) {
			lo = fmin(lo, v[k]);
			hi = fmax(hi, v[k]);
		}
	}
	a = nice(lo, hi);
	fprintf(f, "<div class='legend'>\n");
	swatch(f, C_ASKED, "asked (the DSO's bids)");
	swatch(f, C_CLEARED, "cleared");
	swatch(f, C_DELIVER, "delivered (baseline - metered)");
	if (d->opt.done)
		key(f, C_OPTIMUM, "4,3", 2, "the optimum's change (baseline - optimum)");
	fprintf(f, "</div>\n");
	flex_svg(f, &WIDE, d, &a);
	flex_svg(f, &NARROW, d, &a);
}

/* --- tables ------------------------------------------------------------------------- */

static void summary_table(FILE *f, const struct report_day *d)
{
	const char *names[4] = {"baseline", "DOMS forecast", "optimum", "metered"};
	double share, mape, peak_err;
	int n;

	fprintf(f, "<div class='scroll'><table><thead><tr><th></th><th>above limit<br>kWh</th>"
	           "<th>intervals<br>over</th><th>peak<br>kW</th><th>energy<br>kWh</th></tr>"
	           "</thead><tbody>\n");
	for (enum report_curve c = REPORT_BASELINE; c <= REPORT_METERED; c++) {
		struct report_stats st = report_day_stats(d, c);
		fprintf(f, "<tr><td>%s</td>", names[c]);
		if (!st.intervals)
			fprintf(f, "<td colspan='4' class='absent'>%s</td></tr>\n",
			        c == REPORT_FORECAST ? "not recorded" : "not computed");
		else
			fprintf(f, "<td>%.1f</td><td>%d</td><td>%.1f</td><td>%.1f</td></tr>\n",
			        st.overload, st.over, st.peak_kw, st.energy);
	}
	fprintf(f, "</tbody></table></div>\n<p class='note'>Baseline: every device on its default "
	           "schedule; optimum: every offer scheduled knowing the whole day "
	           "(docs/demo.md).</p>\n");
	if (report_day_share(d, &share)) {
		struct report_stats b = report_day_stats(d, REPORT_BASELINE),
		                    m = report_day_stats(d, REPORT_METERED),
		                    o = report_day_stats(d, REPORT_OPTIMUM);
		fprintf(
		    f,
		    "<p class='share %s'>The market achieved <b>%.1f%%</b> of the optimum's "
		    "reduction of the overload (goal: at least 80%%, %s).</p>\n"
		    "<p class='note'>(baseline %.1f &minus; metered %.1f) / (baseline %.1f &minus; "
		    "optimum %.1f) kWh above the limit.</p>\n",
		    share >= 80 ? "met" : "unmet", share, share >= 80 ? "met" : "not met",
		    b.overload, m.overload, b.overload, o.overload);
	} else
		fprintf(f, "<p class='share'>Share of the optimum's overload reduction: n/a (the "
		           "optimum removes no overload).</p>\n");
	if (report_day_forecast_error(d, &mape, &n, &peak_err))
		fprintf(f,
		        "<p class='note'>DOMS forecast against the baseline: MAPE %.1f%% over %d "
		        "intervals, peak error %+.1f kW.</p>\n",
		        mape, n, peak_err);
	else
		fprintf(f, "<p class='note'>DOMS forecast: not recorded.</p>\n");
}

static void cell(FILE *f, const struct report_table *t, int r, int c)
{
	size_t i = (size_t)r * (size_t)t->ncols + (size_t)c;
	const char *v = t->cells[i];

	if (!v)
		fprintf(f, "<td></td>");
	else if (t->numeric[i] && strchr(v, '.'))
		fprintf(f, "<td class='num'>%.3f</td>", strtod(v, NULL));
	else {
		fprintf(f, "<td%s>", t->numeric[i] ? " class='num'" : "");
		esc(f, v);
		fprintf(f, "</td>");
	}
}

/* Per prosumer: the rows' count and the sums of their kWh and EUR columns. */
static void per_prosumer(FILE *f, const struct report_day *d, int pc)
{
	const struct report_table *t = &d->settlement;
	double sum;

	fprintf(f, "<table><thead><tr><th>prosumer</th><th>rows</th>");
	for (int c = 0; c < t->ncols; c++)
		if (report_day_settlement_sum(d, c, &sum)) {
			fprintf(f, "<th>");
			header(f, t->names[c]);
			fprintf(f, "</th>");
		}
	fprintf(f, "</tr></thead><tbody>\n");
	for (int r = 0; r < t->nrows;) {
		const char *who = t->cells[(size_t)r * (size_t)t->ncols + (size_t)pc];
		int end = r;
		while (end < t->nrows) {
			const char *w = t->cells[(size_t)end * (size_t)t->ncols + (size_t)pc];
			if (!(w == who || (w && who && strcmp(w, who) == 0)))
				break;
			end++;
		}
		fprintf(f, "<tr><td>");
		esc(f, who ? who : "(none)");
		fprintf(f, "</td><td class='num'>%d</td>", end - r);
		for (int c = 0; c < t->ncols; c++) {
			if (!report_day_settlement_sum(d, c, &sum))
				continue;
			sum = 0;
			for (int k = r; k < end; k++) {
				size_t i = (size_t)k * (size_t)t->ncols + (size_t)c;
				if (t->numeric[i] && t->cells[i])
					sum += strtod(t->cells[i], NULL);
			}
			fprintf(f, "<td class='num'>%.3f</td>", sum);
		}
		fprintf(f, "</tr>\n");
		r = end;
	}
	fprintf(f, "<tr class='total'><td>all</td><td class='num'>%d</td>", t->nrows);
	for (int c = 0; c < t->ncols; c++)
		if (report_day_settlement_sum(d, c, &sum))
			fprintf(f, "<td class='num'>%.3f</td>", sum);
	fprintf(f, "</tr></tbody></table>\n");
}

static void settlement(FILE *f, const struct report_day *d)
{
	const struct report_table *t = &d->settlement;
	int pc = report_day_prosumer_column(t);

	fprintf(f, "<h2 id='settlement'>Settlement</h2>\n");
	if (!d->settlement_recorded) {
		fprintf(f, "<p>No settlement recorded (no table <code>fman_settlement</code> in "
		           "<code>state/fman/fman.db</code>).</p>\n");
		return;
	}
	if (!t->nrows) {
		fprintf(f,
		        "<p>No settlement recorded (<code>fman_settlement</code> is empty).</p>\n");
		return;
	}
	if (pc >= 0) {
		fprintf(f, "<h3>Per prosumer</h3>\n<div class='scroll'>");
		per_prosumer(f, d, pc);
		fprintf(f,
		        "</div>\n<details><summary>Every row of <code>fman_settlement</code> "
		        "(%d)</summary>\n",
		        t->nrows);
	}
	fprintf(f, "<div class='scroll'><table><thead><tr>");
	for (int c = 0; c < t->ncols; c++) {
		fprintf(f, "<th>");
		header(f, t->names[c]);
		fprintf(f, "</th>");
	}
	fprintf(f, "</tr></thead><tbody>\n");
	for (int r = 0; r < t->nrows; r++) {
		fprintf(f, "<tr>");
		for (int c = 0; c < t->ncols; c++)
			cell(f, t, r, c);
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</tbody></table></div>\n%s", pc >= 0 ? "</details>\n" : "");
}

/* What print() writes for the terminal, escaped for the page. */
static void text(FILE *f, const struct report_day *d,
                 void (*print)(const struct report_day *d, FILE *out))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (!mem) {
		fprintf(f, "(out of memory)");
		return;
	}
	print(d, mem);
	if (fclose(mem) == 0)
		esc(f, buf);
	free(buf);
}

static const char style[] =
    "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:62em;padding:0 1em;"
    "color:#222;line-height:1.4}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.8em}h3{font-size:1em}"
    ".chart svg{width:100%;height:auto;display:block}.chart.narrow{display:none}"
    "@media (max-width:600px){.chart.wide{display:none}.chart.narrow{display:block}"
    "body{padding:0 .6em}table{font-size:.85em}th,td{padding:.25em .4em}}"
    ".legend{display:flex;flex-wrap:wrap;gap:.3em 1.4em;margin:.4em 0 .2em;font-size:.95em}"
    ".legend span{display:inline-flex;align-items:center;gap:.4em;white-space:nowrap}"
    "table{border-collapse:collapse;margin:.5em 0;font-size:.95em}"
    "th,td{border-bottom:1px solid #ddd;padding:.25em .7em;text-align:left}"
    "td.num,td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}"
    "td.absent{text-align:left;color:#777}tr.total td{font-weight:bold;border-top:2px solid #888}"
    ".scroll{overflow-x:auto}"
    ".share{font-size:1.15em}.share.met b{color:#2ca02c}.share.unmet b{color:#d62728}"
    ".note{color:#555;margin-top:-.4em}"
    "pre{font-size:12px;overflow-x:auto}pre.wrap{white-space:pre-wrap}details{margin:.6em 0}";

int report_html_write(const struct report_day *d, const char *path)
{
	FILE *f = fopen(path, "w");
	char date[16];

	if (!f) {
		fprintf(stderr, "gf-report: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	report_day_date(d, date, sizeof(date));
	fprintf(f,
	        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
	        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
	        "<title>goflex-bus: the trading day %s</title><style>%s</style></head><body>\n"
	        "<h1>goflex-bus: the trading day %s</h1>\n"
	        "<p class='note'>UTC; %d of 96 intervals%s; day %d of %d in sim.csv; "
	        "transformer limit %.1f kW (%.2f kWh per interval).</p>\n",
	        date, style, date, d->intervals, d->complete ? "" : " (not a complete day)",
	        d->day_index, d->days_in_csv, d->limit_kwh * 4, d->limit_kwh);
	summary_table(f, d);
	fprintf(f, "<h2 id='load'>Feeder load against the transformer limit</h2>\n");
	load_chart(f, d);
	fprintf(f, "<h2 id='flexibility'>Flexibility asked, cleared and delivered</h2>\n");
	flex_chart(f, d);
	settlement(f, d);
	fprintf(f, "<h2 id='printed'>The report as printed</h2>\n<pre class='wrap'>");
	text(f, d, report_text_summary);
	fprintf(f, "</pre>\n<details><summary>Per interval</summary><pre>\n");
	text(f, d, report_text_table);
	fprintf(f, "</pre></details>\n</body></html>\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "gf-report: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
