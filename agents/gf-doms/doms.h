/* SPDX-License-Identifier: MIT */
/*
 * doms.h - gf-doms's modules share this (docs/doms.md, "The agent").
 *
 * main.c      options, configuration, the daily timer, offer.feedback;
 * forecast.c  the grid point's load forecast (the IEEE feeder's profiles
 *             summed, or a forecast CSV), the bids of lib/engine/congestion.h for a
 *             window of intervals, and their messages.
 */
#ifndef DOMS_H
#define DOMS_H

#include <stdint.h>

#include "agent/agent.h"
#include "agent/store.h"
#include "engine/loadprofile.h"

struct doms_conf {
	struct gf_agent_conf agent;
	char *profiles_dir, *forecast_csv, *dso_foa, *grid_point_id;
	double transformer_limit_kw, price_eur_kwh, margin_kwh;
	long households, max_bid_len, issue_at_s;
	long resend_s; /* real seconds between resends of bids without feedback */
};

struct doms {
	struct gf_agent *a;
	const struct doms_conf *conf;
	struct gf_store *store;
	double limit_kwh, price, margin_kwh;
	double day_kwh[GF_LOADPROFILE_INTERVALS]; /* profiles: the feeder's day */
	struct gf_forecast csv;                   /* forecast_csv: the file's */
	int64_t next_issue;                       /* interval of the next day-ahead issue */
};

/* Reads the forecast source of the configuration (profiles or CSV) into d.
 * GF_EIO, GF_EPARSE... with the reason logged (GF-DOMS-CONFIG). */
enum gf_err doms_forecast_load(struct doms *d);

/* Computes the forecast for intervals [from, to), its bids, and queues the
 * grid.forecast and one bid per congested run to the DSO FOA in one
 * transaction, then hands them to the bus. Intervals outside a CSV's range
 * are left out. GF_OK with nothing sent for an empty window. */
enum gf_err doms_forecast_issue(struct doms *d, int64_t from, int64_t to);

#endif
