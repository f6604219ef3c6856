/* SPDX-License-Identifier: MIT */
/*
 * day.h - the demo day in numbers (gf-report): per-interval sums and the
 * two ways of showing them, a text table with a summary and an HTML page
 * with inline SVG.
 */
#ifndef REPORT_DAY_H
#define REPORT_DAY_H

#include <stdint.h>
#include <stdio.h>

#define REPORT_DAY_SLOTS 192 /* two days of intervals, from the first one seen */

/* One interval, summed over the prosumers (kWh). */
struct report_slot {
	double base;      /* households' base load: the DOMS forecast */
	double baseline;  /* base + the devices' default schedules */
	double actual;    /* the meter */
	double scheduled; /* what assigned schedules asked of the devices */
	double requested; /* the DSO's bids (positive = less consumption) */
	double cleared;   /* what the market accepted of them */
	long rows;        /* prosumer rows seen */
	double sp;        /* the meters' energy as the Service Platform stored it */
	long sp_readings; /* readings stored there */
};

struct report_day {
	int64_t first; /* interval number of slot 0, -1 before any */
	int n;         /* slots used */
	double limit_kwh;
	struct report_slot slot[REPORT_DAY_SLOTS];
	long long bids, offers, assigned_offers, aggregates, cleared_aggregates;
	long long sp_readings, sp_meters; /* at the Service Platform, all intervals */
};

void report_day_init(struct report_day *d, double limit_kwh);
/* The slot of interval, or NULL outside the window. */
struct report_slot *report_day_slot(struct report_day *d, int64_t interval);

/* The per-interval table (intervals with any load) and the summary. */
void report_day_text(const struct report_day *d, FILE *out);
/* Writes the HTML report to path; -1 (with a message) on failure. */
int report_day_html(const struct report_day *d, const char *path);

#endif
