/* SPDX-License-Identifier: MIT */
/*
 * day.h - the reported day in numbers (gf-report): what every other file
 * of the program fills in or shows, and the figures derived from it. A
 * leaf: it calls none of the program's other files.
 */
#ifndef REPORT_DAY_H
#define REPORT_DAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_DAY_SLOTS 96 /* intervals of a (UTC) day */

/* One interval, summed over the prosumers (kWh). */
struct report_slot {
	double base;      /* households' base load */
	double baseline;  /* base + the devices' default schedules */
	double actual;    /* the meter */
	double scheduled; /* what assigned schedules asked of the devices */
	double requested; /* the DSO's bids (positive = less consumption) */
	double cleared;   /* what the market accepted of them */
	double forecast;  /* the DOMS's forecast, when has_forecast */
	double optimum;   /* the perfect-information optimum's feeder load */
	double fixed;     /* the optimum's load no offer moves: baseline - offers' defaults */
	bool has_forecast;
	long rows;        /* prosumer rows seen */
	double sp;        /* the meters' energy as the Service Platform stored it */
	long sp_readings; /* readings stored there */
};

/* A table read as it is (fman_settlement): column names and cells as text,
 * NULL for SQL NULL; numeric[i * ncols + c] says the cell was a number. */
struct report_table {
	int ncols, nrows;
	char **names;
	char **cells;
	bool *numeric;
};

/* What the optimum found (optimum.c). */
struct report_optimum {
	bool done;
	const char *status; /* gf_optimum_status_name */
	double relaxation;  /* the LP relaxation's overload in the day, kWh */
	double seconds;
	int binaries, offers, prosumers, skipped;
	int kinds_battery, kinds_ev, kinds_washer, kinds_thermal, kinds_other;
	int before, after;  /* intervals of the horizon before and after the day's rows */
	int fixed_negative; /* intervals where the defaults exceed the baseline */
	double fixed_overload, fixed_peak_kw; /* of the load no offer moves, alone */
	bool relax;                           /* the LP relaxation was asked for */
	double gap;                           /* the MILP's proven gap when "feasible", kWh */
	char note[256];                       /* a remark: no fman.db, no offers table */
};

struct report_day {
	int64_t day;                /* days since 1970-01-01 (UTC) */
	int64_t first;              /* interval number of slot 0: day * 96 */
	int intervals;              /* slots with rows */
	int days_in_csv, day_index; /* days with rows in sim.csv; which one this is (1-based) */
	bool complete;              /* all 96 intervals have rows */
	double limit_kwh;
	struct report_slot slot[REPORT_DAY_SLOTS];
	long long bids, offers, assigned_offers, aggregates, cleared_aggregates;
	long long sp_readings, sp_meters; /* at the Service Platform, all intervals */
	bool forecast_recorded;
	int forecast_grids;      /* grid points in doms_forecast */
	char forecast_grid[128]; /* the one reported (the largest energy) */
	struct report_optimum opt;
	bool settlement_recorded;
	struct report_table settlement;
};

/* Sets d for day (its slots empty) and the limit. */
void report_day_init(struct report_day *d, int64_t day, double limit_kwh);
/* The slot of interval, or NULL outside the day. */
struct report_slot *report_day_slot(struct report_day *d, int64_t interval);
/* Releases the settlement table (d itself is the caller's). */
void report_day_free(struct report_day *d);

/* Which curve. */
enum report_curve { REPORT_BASELINE, REPORT_FORECAST, REPORT_OPTIMUM, REPORT_METERED };

/* Of one curve over the slots with rows (the forecast: those it has). */
struct report_stats {
	int intervals;   /* counted */
	double overload; /* kWh above the limit */
	int over;        /* intervals above it */
	double peak_kw;  /* highest interval's mean power */
	double energy;   /* kWh */
};

/* The value of curve c in slot s (kWh); false when s has none. */
bool report_day_value(const struct report_day *d, const struct report_slot *s, enum report_curve c,
                      double *kwh);
struct report_stats report_day_stats(const struct report_day *d, enum report_curve c);

/* The share of the optimum's overload reduction the market achieved, in
 * percent: (baseline - metered) / (baseline - optimum) overload. False
 * when the optimum reduces nothing (or there is none). */
bool report_day_share(const struct report_day *d, double *percent);

/* The forecast's error against the baseline: the mean absolute percentage
 * error over the intervals with both (baseline > 0) and the peak's error,
 * kW (forecast peak - baseline peak). False without a forecast. */
bool report_day_forecast_error(const struct report_day *d, double *mape, int *intervals,
                               double *peak_error_kw);

/* The settlement table's column c summed over its rows when it is a kWh or
 * EUR column (its name says so, e.g. delivered_kwh, gain_eur) with a number
 * in some row; false otherwise. */
bool report_day_settlement_sum(const struct report_day *d, int c, double *sum);

/* The column naming the prosumer in a settlement table ("foa", as gf-fman
 * writes it, or "prosumer"); -1 when there is none. */
int report_day_prosumer_column(const struct report_table *t);

/* "HH:MM" of slot i; "YYYY-MM-DD" of the day. */
void report_day_hhmm(int i, char *buf, size_t size);
void report_day_date(const struct report_day *d, char *buf, size_t size);

#endif
