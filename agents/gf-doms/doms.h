/* SPDX-License-Identifier: MIT */
/*
 * doms.h - gf-doms's modules share this (docs/doms.md, "The agent").
 *
 * main.c      options, configuration, the daily timer, offer.feedback;
 * forecast.c  the grid point's load forecast (metered history, the IEEE
 *             feeder's profiles, or a forecast CSV), the bids it gives
 *             (priced per interval, within the day's budget), their
 *             messages, and the intraday re-bid when the meters show the
 *             forecast was wrong;
 * meter.c     meter_map, the subscription to the Service Platform's
 *             metering, meter.data in, the feeder's complete intervals, and
 *             the forecast from that history;
 * grid.c      the grid state of a metered interval and its grid.state
 *             message;
 * flow.c      the feeder's power flow (lib/grid): the state of an interval,
 *             what a forecast needs for the voltages and lines;
 * config.c    doms.config from the DMS: limits and economic parameters.
 */
#ifndef DOMS_H
#define DOMS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/message.h"
#include "agent/store.h"
#include "engine/loadprofile.h"

struct doms_conf {
	struct gf_agent_conf agent;
	char *profiles_dir, *forecast_csv, *dso_foa, *grid_point_id;
	char *sp_id, *meter_map, *network_dir, *forecast_from, *dms_id;
	double transformer_limit_kw, price_eur_kwh, margin_kwh;
	double price_max_eur_kwh, daily_budget_eur, rebid_threshold;
	double v_min_pu, v_max_pu, line_max_pct;
	long households, max_bid_len, issue_at_s;
	long history_days, rebid_window, rebid_lead;
	long resend_s; /* real seconds between resends of bids without feedback */
	bool bid_headroom;
};

enum doms_source { DOMS_FROM_PROFILES, DOMS_FROM_CSV, DOMS_FROM_METERED };

struct doms_meter;
struct doms_grid;

struct doms {
	struct gf_agent *a;
	const struct doms_conf *conf;
	struct gf_store *store;
	enum doms_source source;
	/* What a doms.config may change; from the configuration file first. */
	double limit_kwh, price, price_max, budget, margin_kwh;
	double v_min_pu, v_max_pu, line_max_pct;
	double day_kwh[GF_LOADPROFILE_INTERVALS]; /* profiles: the feeder's day */
	struct gf_forecast csv;                   /* forecast_csv: the file's */
	int64_t next_issue;                       /* interval of the next day-ahead issue */
	int64_t wait_from, wait_to; /* a window waiting for the metered history, or 0, 0 */
	int64_t checked;            /* the last metered interval the re-bid looked at */
	struct doms_meter *meters;  /* meter_map, sorted by pseudonym */
	size_t n_meters;
	struct doms_grid *grid; /* the feeder's model (network_dir), or NULL */
};

/* --- forecast.c --- */

/* Reads the forecast source of the configuration (profiles or CSV) into d.
 * GF_EIO, GF_EPARSE... with the reason logged (GF-DOMS-CONFIG). */
enum gf_err doms_forecast_load(struct doms *d);

/* Computes the forecast for intervals [from, to), its bids, and queues the
 * grid.forecast and one bid per congested run to the DSO FOA in one
 * transaction, then hands them to the bus. Intervals outside a CSV's range
 * are left out. With the metered source and its history not yet in (the
 * intervals before now), the window waits: doms_forecast_check issues it
 * when the history arrives. GF_OK with nothing sent for an empty window.
 * Only what the bids so far do not cover is bid; suffix (or NULL) ends the
 * new bids' ids, for bids over intervals bid before (a new doms.config). */
enum gf_err doms_forecast_issue(struct doms *d, int64_t from, int64_t to, const char *suffix);

/* After metered data came in: issues a waiting window whose history is now
 * in, and re-bids when the meters show the forecast was wrong. */
void doms_forecast_check(struct doms *d);

/* --- meter.c --- */

enum gf_err doms_meter_load(struct doms *d);
/* Index of the meter of pseudonym id in d->meters, or -1. */
long doms_meter_find(const struct doms *d, const char *id);
/* The feeder load of meter i (meter_map). */
const char *doms_meter_load_name(const struct doms *d, size_t i);
/* meter.subscribe to sp_id, once per meter set. */
enum gf_err doms_meter_subscribe(struct doms *d);
/* A meter.data from the SP: kept, the intervals it completes recorded in
 * doms_metered (their grid state to be computed: doms_grid_catch_up). */
void doms_meter_take(struct doms *d, const struct gf_inbox_item *item, const struct gf_message *m);
/* The newest interval every meter has, or -1. */
int64_t doms_meter_latest(const struct doms *d);
/* The forecast of intervals [from, from + n) from the history: per interval
 * of the day, each meter's mean over the history_days days before the
 * interval's day that have it; feeder[t] the sum, per_meter[t * n_meters +
 * k] meter k's (per_meter may be NULL). */
enum gf_err doms_meter_forecast(const struct doms *d, int64_t from, size_t n, double *feeder,
                                double *per_meter);
/* Days of the history_days before day (its first interval) with readings. */
size_t doms_meter_history_days(const struct doms *d, int64_t day);

/* --- grid.c --- */

/* The state of every metered interval that has none yet (power flow with
 * every load's metered energy), recorded in doms_state and queued as
 * grid.state to the DSO FOA, in one transaction; after meter.data and at
 * start (what a kill -9 left). */
enum gf_err doms_grid_catch_up(struct doms *d);

/* --- flow.c: the feeder's power flow (lib/grid) --- */

/* Loads the feeder model of network_dir and maps meter_map's loads onto
 * it. GF_ENOENT, GF_EPARSE... logged (GF-DOMS-CONFIG). */
enum gf_err doms_flow_load(struct doms *d);
void doms_flow_free(struct doms *d);
/* The power flow with meter k's energy kwh[k] over one interval (its mean
 * power, cos phi of its load): the transformer's apparent power in % of its
 * rating, the lowest and highest voltage at a load (per unit) and the bus of
 * the lowest, the most loaded line (% of its ampacity) and its name. */
enum gf_err doms_flow_solve(struct doms *d, const double *kwh, double *kva_pct, double *v_min,
                            double *v_max, char *v_bus, size_t v_buslen, double *line_pct,
                            char *line, size_t linelen);
/* Extra kWh per interval the forecast per meter (n intervals of n_meters)
 * must lose to keep the voltages and lines within their limits, beyond the
 * transformer's own excess: into need[0..n). Zeros without a model. */
enum gf_err doms_flow_need(struct doms *d, const double *per_meter, size_t n, double *need);
/* The feeder's nominal voltage of a phase to neutral, V (230 without a
 * model), for doms.config's voltage limits. */
double doms_flow_nominal_v(const struct doms *d);

/* The intervals the DOMS has forecast: the rest of today, and tomorrow once
 * today's issue time has passed. */
void doms_forecast_horizon(const struct doms *d, int64_t *from, int64_t *to);

/* --- config.c --- */

/* Applies the doms.config stored (at start) or received (from the DMS). */
enum gf_err doms_config_restore(struct doms *d);
void doms_config_take(struct doms *d, const struct gf_inbox_item *item, const struct gf_message *m);

#endif
