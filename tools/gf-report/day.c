/* SPDX-License-Identifier: MIT */
/* day.c - the reported day and the figures derived from it (day.h). */
#include "day.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Above the limit by more than rounding: the optimum sits exactly on the
 * limit in many intervals, and those are not over. */
#define OVER_EPS 1e-6

void report_day_init(struct report_day *d, int64_t day, double limit_kwh)
{
	memset(d, 0, sizeof(*d));
	d->day = day;
	d->first = day * REPORT_DAY_SLOTS;
	d->limit_kwh = limit_kwh;
}

struct report_slot *report_day_slot(struct report_day *d, int64_t interval)
{
	int64_t i = interval - d->first;

	return i >= 0 && i < REPORT_DAY_SLOTS ? &d->slot[i] : NULL;
}

void report_day_free(struct report_day *d)
{
	struct report_table *t = &d->settlement;

	for (int c = 0; c < t->ncols; c++)
		free(t->names ? t->names[c] : NULL);
	for (long i = 0; t->cells && i < (long)t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->names);
	free(t->cells);
	free(t->numeric);
	memset(t, 0, sizeof(*t));
}

bool report_day_value(const struct report_day *d, const struct report_slot *s, enum report_curve c,
                      double *kwh)
{
	if (!s->rows)
		return false;
	switch (c) {
	case REPORT_BASELINE:
		*kwh = s->baseline;
		return true;
	case REPORT_FORECAST:
		*kwh = s->forecast;
		return s->has_forecast;
	case REPORT_OPTIMUM:
		*kwh = s->optimum;
		return d->opt.done;
	case REPORT_METERED:
		*kwh = s->actual;
		return true;
	}
	return false;
}

struct report_stats report_day_stats(const struct report_day *d, enum report_curve c)
{
	struct report_stats st;

	memset(&st, 0, sizeof(st));
	for (int i = 0; i < REPORT_DAY_SLOTS; i++) {
		double v;
		if (!report_day_value(d, &d->slot[i], c, &v))
			continue;
		st.intervals++;
		st.energy += v;
		st.overload += fmax(0.0, v - d->limit_kwh);
		st.over += v > d->limit_kwh + OVER_EPS;
		st.peak_kw = fmax(st.peak_kw, v * 4);
	}
	return st;
}

bool report_day_share(const struct report_day *d, double *percent)
{
	struct report_stats b = report_day_stats(d, REPORT_BASELINE),
	                    m = report_day_stats(d, REPORT_METERED),
	                    o = report_day_stats(d, REPORT_OPTIMUM);

	if (!d->opt.done || b.overload - o.overload < 1e-6)
		return false;
	*percent = 100.0 * (b.overload - m.overload) / (b.overload - o.overload);
	return true;
}

bool report_day_forecast_error(const struct report_day *d, double *mape, int *intervals,
                               double *peak_error_kw)
{
	double sum = 0, peak_f = 0, peak_b = 0;
	int n = 0;

	if (!d->forecast_recorded)
		return false;
	for (int i = 0; i < REPORT_DAY_SLOTS; i++) {
		const struct report_slot *s = &d->slot[i];
		if (!s->rows || !s->has_forecast)
			continue;
		peak_f = fmax(peak_f, s->forecast * 4);
		peak_b = fmax(peak_b, s->baseline * 4);
		if (s->baseline > 0) {
			sum += fabs(s->forecast - s->baseline) / s->baseline;
			n++;
		}
	}
	if (!n)
		return false;
	*mape = 100.0 * sum / n;
	*intervals = n;
	*peak_error_kw = peak_f - peak_b;
	return true;
}

bool report_day_settlement_sum(const struct report_day *d, int c, double *sum)
{
	const struct report_table *t = &d->settlement;
	const char *name = c >= 0 && c < t->ncols ? t->names[c] : NULL;
	bool any = false;

	if (!name || (!strcasestr(name, "kwh") && !strcasestr(name, "eur")))
		return false;
	*sum = 0;
	for (int r = 0; r < t->nrows; r++) {
		size_t i = (size_t)r * (size_t)t->ncols + (size_t)c;
		if (t->numeric[i] && t->cells[i]) {
			*sum += strtod(t->cells[i], NULL);
			any = true;
		}
	}
	return any;
}

int report_day_prosumer_column(const struct report_table *t)
{
	for (int c = 0; c < t->ncols; c++)
		if (strcasecmp(t->names[c], "foa") == 0 || strcasecmp(t->names[c], "prosumer") == 0)
			return c;
	return -1;
}

void report_day_hhmm(int i, char *buf, size_t size)
{
	snprintf(buf, size, "%02d:%02d", i / 4, i % 4 * 15);
}

void report_day_date(const struct report_day *d, char *buf, size_t size)
{
	time_t t = (time_t)(d->day * 86400);
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(buf, size, "%Y-%m-%d", &tm);
	else
		snprintf(buf, size, "day %lld", (long long)d->day);
}
