/* SPDX-License-Identifier: MIT */
/* day.c - the demo day in numbers and its two renderings (day.h). */
#include "day.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#define W  960.0 /* plot width, px */
#define H  300.0 /* plot height, px */
#define ML 50.0  /* left margin */
#define MB 30.0  /* bottom margin */

void report_day_init(struct report_day *d, double limit_kwh)
{
	memset(d, 0, sizeof(*d));
	d->first = -1;
	d->limit_kwh = limit_kwh;
}

struct report_slot *report_day_slot(struct report_day *d, int64_t interval)
{
	int64_t i;

	if (d->first < 0)
		d->first = interval;
	i = interval - d->first;
	if (i < 0 || i >= REPORT_DAY_SLOTS)
		return NULL;
	if ((int)i + 1 > d->n)
		d->n = (int)i + 1;
	return &d->slot[i];
}

static double delivered(const struct report_slot *s)
{
	return s->baseline - s->actual;
}

struct summary {
	int intervals, over_forecast, over_baseline, over_actual, asked;
	double requested, cleared, delivered_in_bids, peak_base, peak_baseline, peak_actual;
	double base, baseline, actual;
	long rows, sp_readings; /* meter rows of gf-sim, readings at the SP */
	double sp;
};

static struct summary summarise(const struct report_day *d)
{
	struct summary m;

	memset(&m, 0, sizeof(m));
	for (int i = 0; i < d->n; i++) {
		const struct report_slot *s = &d->slot[i];

		if (!s->rows)
			continue;
		m.intervals++;
		m.over_forecast += s->base > d->limit_kwh;
		m.over_baseline += s->baseline > d->limit_kwh;
		m.over_actual += s->actual > d->limit_kwh;
		m.base += s->base;
		m.baseline += s->baseline;
		m.actual += s->actual;
		m.rows += s->rows;
		m.sp += s->sp;
		m.sp_readings += s->sp_readings;
		m.peak_base = fmax(m.peak_base, s->base * 4);
		m.peak_baseline = fmax(m.peak_baseline, s->baseline * 4);
		m.peak_actual = fmax(m.peak_actual, s->actual * 4);
		m.requested += s->requested;
		m.cleared += s->cleared;
		if (s->requested != 0) {
			m.asked++;
			m.delivered_in_bids += delivered(s);
		}
	}
	return m;
}

static void hhmm(const struct report_day *d, int i, char *buf, size_t size)
{
	int64_t of_day = ((d->first + i) % 96 + 96) % 96;

	snprintf(buf, size, "%02d:%02d", (int)(of_day / 4), (int)(of_day % 4) * 15);
}

void report_day_text(const struct report_day *d, FILE *out)
{
	struct summary m = summarise(d);
	char t[8];

	fprintf(out, "%-5s %9s %9s %9s %9s %9s %9s %9s\n", "time", "forecast", "baseline", "meter",
	        "limit", "asked", "cleared", "delivered");
	fprintf(out, "%-5s %9s %9s %9s %9s %9s %9s %9s\n", "", "kWh", "kWh", "kWh", "kWh", "kWh",
	        "kWh", "kWh");
	for (int i = 0; i < d->n; i++) {
		const struct report_slot *s = &d->slot[i];

		if (!s->rows)
			continue;
		hhmm(d, i, t, sizeof(t));
		fprintf(out, "%-5s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f%s\n", t, s->base,
		        s->baseline, s->actual, d->limit_kwh, s->requested, s->cleared,
		        delivered(s), s->actual > d->limit_kwh ? "  over" : "");
	}
	fprintf(out, "\nsummary over %d intervals (limit %.1f kW = %.2f kWh per interval)\n",
	        m.intervals, d->limit_kwh * 4, d->limit_kwh);
	fprintf(out, "  forecast (base load): peak %.1f kW, %d intervals over the limit\n",
	        m.peak_base, m.over_forecast);
	fprintf(out, "  baseline (with devices' defaults): peak %.1f kW, %d over\n",
	        m.peak_baseline, m.over_baseline);
	fprintf(out, "  metered: peak %.1f kW, %d over; energy %.1f kWh (baseline %.1f)\n",
	        m.peak_actual, m.over_actual, m.actual, m.baseline);
	fprintf(out, "  bids: %lld, asking %.2f kWh over %d intervals\n", d->bids, m.requested,
	        m.asked);
	fprintf(out, "  offers: %lld at FMAN (%lld assigned), %lld aggregates, %lld cleared\n",
	        d->offers, d->assigned_offers, d->aggregates, d->cleared_aggregates);
	fprintf(out, "  cleared: %.2f kWh (%.0f%% of the request)\n", m.cleared,
	        m.requested > 0 ? 100.0 * m.cleared / m.requested : 0.0);
	fprintf(out, "  delivered in the bid intervals: %.2f kWh (%.0f%% of the request)\n",
	        m.delivered_in_bids,
	        m.requested > 0 ? 100.0 * m.delivered_in_bids / m.requested : 0.0);
	fprintf(
	    out,
	    "  meter data at the SP (DMS export -> gf-anonymizer -> gf-sp): %lld readings of "
	    "%lld pseudonymous meters; in the window %ld of %ld meter rows, %.1f kWh (the meters: "
	    "%.1f kWh)\n",
	    d->sp_readings, d->sp_meters, m.sp_readings, m.rows, m.sp, m.actual);
}

/* --- HTML ------------------------------------------------------------------ */

static double y_of(double v, double lo, double hi)
{
	return MB / 2 + (H - MB) * (1 - (v - lo) / (hi - lo));
}

static double x_of(const struct report_day *d, double i)
{
	return ML + (W - ML - 10) * i / (d->n > 1 ? d->n : 1);
}

static void axes(FILE *f, const struct report_day *d, double lo, double hi, const char *unit)
{
	char t[8];

	fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#444'/>\n", ML,
	        y_of(lo, lo, hi), W - 10, y_of(lo, lo, hi));
	for (int k = 0; k <= 4; k++) {
		double v = lo + (hi - lo) * k / 4;
		fprintf(f,
		        "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%.1f</text>"
		        "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n",
		        ML - 4, y_of(v, lo, hi) + 4, v, ML, y_of(v, lo, hi), W - 10,
		        y_of(v, lo, hi));
	}
	for (int i = 0; i < d->n; i += 8) {
		hhmm(d, i, t, sizeof(t));
		fprintf(f,
		        "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%s</text>\n",
		        x_of(d, i), H - 2, t);
	}
	fprintf(f, "<text x='4' y='12' font-size='11'>%s</text>\n", unit);
}

static void line(FILE *f, const struct report_day *d, size_t field, double lo, double hi,
                 const char *colour, const char *dash)
{
	fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='", colour, dash);
	for (int i = 0; i < d->n; i++) {
		const struct report_slot *s = &d->slot[i];
		double v = *(const double *)(const void *)((const char *)s + field);

		if (s->rows)
			fprintf(f, "%.1f,%.1f ", x_of(d, i + 0.5), y_of(v, lo, hi));
	}
	fprintf(f, "'/>\n");
}

static void legend(FILE *f, int k, const char *colour, const char *label)
{
	fprintf(f,
	        "<rect x='%.0f' y='4' width='12' height='12' fill='%s'/>"
	        "<text x='%.0f' y='14' font-size='12'>%s</text>\n",
	        ML + 10 + 170.0 * k, colour, ML + 26 + 170.0 * k, label);
}

static void load_plot(FILE *f, const struct report_day *d)
{
	double hi = d->limit_kwh * 1.2;

	for (int i = 0; i < d->n; i++)
		hi = fmax(hi, fmax(d->slot[i].baseline, fmax(d->slot[i].actual, d->slot[i].base)));
	hi = ceil(hi);
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f'>\n", W, H);
	axes(f, d, 0, hi, "kWh per interval");
	fprintf(f,
	        "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#c00' stroke-width='2' "
	        "stroke-dasharray='6,4'/>\n",
	        ML, y_of(d->limit_kwh, 0, hi), W - 10, y_of(d->limit_kwh, 0, hi));
	line(f, d, offsetof(struct report_slot, base), 0, hi, "#999", " stroke-dasharray='3,3'");
	line(f, d, offsetof(struct report_slot, baseline), 0, hi, "#1f77b4", "");
	line(f, d, offsetof(struct report_slot, actual), 0, hi, "#2ca02c", "");
	legend(f, 0, "#999", "forecast (base load)");
	legend(f, 1, "#1f77b4", "baseline (defaults)");
	legend(f, 2, "#2ca02c", "metered");
	legend(f, 3, "#c00", "transformer limit");
	fprintf(f, "</svg>\n");
}

static void flex_plot(FILE *f, const struct report_day *d)
{
	double lo = 0, hi = 0.1, bw = (W - ML - 10) / (d->n > 1 ? d->n : 1) / 3.5;

	for (int i = 0; i < d->n; i++) {
		const struct report_slot *s = &d->slot[i];
		lo = fmin(lo, fmin(delivered(s), fmin(s->requested, s->cleared)));
		hi = fmax(hi, fmax(delivered(s), fmax(s->requested, s->cleared)));
	}
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f'>\n", W, H);
	axes(f, d, lo, hi, "kWh (positive = less consumption)");
	for (int i = 0; i < d->n; i++) {
		const struct report_slot *s = &d->slot[i];
		const double v[3] = {s->requested, s->cleared, delivered(s)};
		const char *c[3] = {"#ff7f0e", "#9467bd", "#2ca02c"};

		for (int k = 0; k < 3; k++) {
			double y0 = y_of(0, lo, hi), y1 = y_of(v[k], lo, hi);
			fprintf(f,
			        "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>\n",
			        x_of(d, i) + bw * k, fmin(y0, y1), bw, fabs(y1 - y0), c[k]);
		}
	}
	legend(f, 0, "#ff7f0e", "asked (bids)");
	legend(f, 1, "#9467bd", "cleared");
	legend(f, 2, "#2ca02c", "delivered");
	fprintf(f, "</svg>\n");
}

int report_day_html(const struct report_day *d, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "gf-report: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
	           "<title>goflex-bus demo day</title>"
	           "<style>body{font-family:sans-serif;margin:2em}pre{font-size:12px}</style>"
	           "</head><body>\n<h1>goflex-bus: one simulated day</h1>\n"
	           "<h2>Feeder load against the transformer limit</h2>\n");
	load_plot(f, d);
	fprintf(f, "<h2>Flexibility asked, cleared and delivered</h2>\n");
	flex_plot(f, d);
	fprintf(f, "<h2>Per interval</h2>\n<pre>\n");
	report_day_text(d, f);
	fprintf(f, "</pre>\n</body></html>\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "gf-report: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}
