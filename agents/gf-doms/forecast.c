/* SPDX-License-Identifier: MIT */
/*
 * gf-doms's forecast and bids: the grid point's load per interval, from the
 * IEEE feeder's household profiles (one day, the same every day: the
 * transformer's sum of the households) or from a forecast CSV, and the bids
 * lib/engine/congestion.h computes where it exceeds the transformer's limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/message.h"
#include "engine/congestion.h"
#include "doms.h"
#include "doms.pb-c.h"
#include "agent/once.h"
#include "base/log.h"
#include "agent/resend.h"
#include "base/timefmt.h"

enum gf_err doms_forecast_load(struct doms *d)
{
	const struct doms_conf *c = d->conf;
	size_t n = (size_t)c->households;
	double *kw = NULL, *day = NULL;
	char err[512];
	enum gf_err rc;

	if (c->forecast_csv) {
		rc = gf_forecast_load(c->forecast_csv, &d->csv, err, sizeof(err));
		if (rc != GF_OK)
			goto fail;
		gf_log_info("GF-DOMS-FORECAST", "forecast %s: %zu intervals from %lld",
		            c->forecast_csv, d->csv.n, (long long)d->csv.start);
		return GF_OK;
	}
	kw = malloc(n * GF_LOADPROFILE_MINUTES * sizeof(*kw));
	day = malloc(GF_LOADPROFILE_MINUTES * sizeof(*day));
	if (!kw || !day) {
		rc = GF_ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	/* Household k has profile ((k - 1) mod 55) + 1, as in gf-sim: the
	 * feeder's 55 files are read once and each counted as often as it is
	 * used. */
	rc = gf_loadprofile_load_dir(c->profiles_dir,
	                             n < GF_LOADPROFILE_FEEDER ? n : GF_LOADPROFILE_FEEDER, kw, err,
	                             sizeof(err));
	if (rc != GF_OK)
		goto fail;
	for (size_t k = GF_LOADPROFILE_FEEDER; k < n; k++)
		memcpy(kw + k * GF_LOADPROFILE_MINUTES,
		       kw + (k % GF_LOADPROFILE_FEEDER) * GF_LOADPROFILE_MINUTES,
		       GF_LOADPROFILE_MINUTES * sizeof(*kw));
	gf_loadprofile_sum(kw, n, GF_LOADPROFILE_MINUTES, day);
	gf_loadprofile_to_intervals(day, d->day_kwh);
	gf_log_info("GF-DOMS-FORECAST", "%zu household profiles of %s summed", n, c->profiles_dir);
	free(kw);
	free(day);
	return GF_OK;
fail:
	gf_log_err("GF-DOMS-CONFIG", "cannot read the forecast: %s", err);
	free(kw);
	free(day);
	return rc;
}

/* The forecast over [from, to) into *kwh (malloc'd), clipped to a CSV's
 * range: *start and *n say what is left. */
static enum gf_err window(struct doms *d, int64_t from, int64_t to, int64_t *start, size_t *n,
                          double **kwh)
{
	double *v;

	if (d->conf->forecast_csv) {
		int64_t end = d->csv.start + (int64_t)d->csv.n;

		from = from > d->csv.start ? from : d->csv.start;
		to = to < end ? to : end;
	}
	*start = from;
	*n = to > from ? (size_t)(to - from) : 0;
	*kwh = NULL;
	if (*n == 0)
		return GF_OK;
	v = malloc(*n * sizeof(*v));
	if (!v)
		return GF_ENOMEM;
	for (size_t t = 0; t < *n; t++) {
		int64_t i = from + (int64_t)t;

		/* Interval of the UTC day, for the profile: i >= 0 (years from 1970 on). */
		v[t] = d->conf->forecast_csv ? d->csv.kwh[i - d->csv.start]
		                             : d->day_kwh[i % GF_LOADPROFILE_INTERVALS];
	}
	*kwh = v;
	return GF_OK;
}

static enum gf_err queue_forecast(struct doms *d, int64_t start, size_t n, double *kwh)
{
	Goflex__GridForecast gf = GOFLEX__GRID_FORECAST__INIT;
	Goflex__StateForecast sf = GOFLEX__STATE_FORECAST__INIT, *sfp = &sf;
	char issued[GF_TIME_BUFSIZE], first[GF_TIME_BUFSIZE], var[GF_CONGESTION_GRID_ID_MAX + 16];
	enum gf_err rc;

	rc = gf_time_format((int64_t)(gf_agent_now(d->a) * 1000.0), issued, sizeof(issued));
	if (rc == GF_OK)
		rc = gf_time_format(start * GF_TIME_INTERVAL_S * 1000, first, sizeof(first));
	if (rc != GF_OK)
		return rc;
	snprintf(var, sizeof(var), "%s.energy", d->conf->grid_point_id);
	sf.variableid = var;
	sf.n_values = n;
	sf.values = kwh;
	gf.gridpointid = d->conf->grid_point_id;
	gf.issuedtime = issued;
	gf.starttime = first;
	gf.intervallength = GF_TIME_INTERVAL_S;
	gf.n_forecasts = 1;
	gf.forecasts = &sfp;
	return gf_message_queue(d->a, d->store, "foa", d->conf->dso_foa, "grid.forecast", &gf.base);
}

static enum gf_err record_bid(struct doms *d, const struct gf_congestion_bid *b, double total)
{
	return gf_store_run(
	    d->store,
	    "INSERT INTO doms_bid (bid_id, start, intervals, kwh, issued) VALUES (?1, ?2,"
	    " ?3, ?4, ?5) ON CONFLICT(bid_id) DO UPDATE SET issued = ?5",
	    "tiidd", b->bid_id, (int64_t)b->start, (int64_t)b->n, total, gf_agent_now(d->a));
}

static enum gf_err queue_bid(struct doms *d, const struct gf_congestion_bid *b)
{
	Goflex__Bid bid = GOFLEX__BID__INIT;
	char first[GF_TIME_BUFSIZE], when[GF_TIME_BUFSIZE];
	double total = 0;
	char key[GF_ID_MAX + 200];
	enum gf_err rc;

	rc = gf_time_format(b->start * GF_TIME_INTERVAL_S * 1000, first, sizeof(first));
	if (rc != GF_OK)
		return rc;
	for (size_t k = 0; k < b->n; k++)
		total += b->schedule_change[k];
	bid.bidid = (char *)b->bid_id;
	bid.gridpointid = d->conf->grid_point_id;
	bid.starttime = first;
	bid.intervallength = GF_TIME_INTERVAL_S;
	bid.n_schedulechange = bid.n_energyprice = b->n;
	bid.schedulechange = b->schedule_change;
	bid.energyprice = b->energy_price;
	/* Sent again until the FOA's first offer.feedback for it. */
	snprintf(key, sizeof(key), "bid:%s", b->bid_id);
	rc = gf_resend_queue(d->a, d->store, key, NULL, "foa", d->conf->dso_foa, "bid", &bid.base);
	if (rc == GF_OK)
		rc = record_bid(d, b, total);
	if (rc == GF_OK) {
		snprintf(when, sizeof(when), "%s", first);
		gf_log_info("GF-DOMS-BID", "bid %s: %zu interval(s) from %s, %.3f kWh to foa.%s",
		            b->bid_id, b->n, when, total, d->conf->dso_foa);
	}
	return rc;
}

static void log_window(struct doms *d, int64_t start, size_t n, const double *kwh, size_t bids)
{
	size_t peak = 0, over = 0;

	for (size_t t = 0; t < n; t++) {
		if (kwh[t] > kwh[peak])
			peak = t;
		over += kwh[t] > d->limit_kwh;
	}
	gf_log_notice("GF-DOMS-FORECAST",
	              "%s: intervals %lld..%lld, peak %.3f kWh at %lld, limit %.3f kWh: %zu "
	              "congested, %zu bid(s)",
	              d->conf->grid_point_id, (long long)start, (long long)start + (long long)n - 1,
	              kwh[peak], (long long)start + (long long)peak, d->limit_kwh, over, bids);
}

/* One forecast and its bids, queued in one transaction. */
struct issue {
	struct doms *d;
	int64_t start;
	size_t n;
	double *kwh;
	const struct gf_congestion_bids *bids;
};

static enum gf_err queue_issue(void *arg)
{
	const struct issue *is = arg;
	enum gf_err rc = queue_forecast(is->d, is->start, is->n, is->kwh);

	for (size_t i = 0; rc == GF_OK && i < is->bids->count; i++)
		rc = queue_bid(is->d, &is->bids->bid[i]);
	return rc;
}

enum gf_err doms_forecast_issue(struct doms *d, int64_t from, int64_t to)
{
	struct gf_congestion_params p = {
	    .grid_point_id = d->conf->grid_point_id,
	    .limit_kwh = d->limit_kwh,
	    .margin_kwh = d->margin_kwh,
	    .price = d->price,
	    .max_len = (size_t)d->conf->max_bid_len,
	};
	struct gf_congestion_bids bids = {0};
	struct issue is = {.d = d, .bids = &bids};
	char err[256];
	enum gf_err rc;

	rc = window(d, from, to, &is.start, &is.n, &is.kwh);
	if (rc != GF_OK || is.n == 0)
		goto out;
	rc = gf_congestion_bids(&p, is.start, is.kwh, is.n, &bids, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-DOMS-FORECAST", "no bids: %s", err);
		goto out;
	}
	/* A failure stops the agent; the next start issues the same bids
	 * under the same ids. */
	rc = gf_store_once(d->a, d->store, NULL, queue_issue, NULL, &is);
	if (rc != GF_OK)
		goto out;
	log_window(d, is.start, is.n, is.kwh, bids.count);
	gf_store_outbox_flush(d->store, gf_agent_bus(d->a));
out:
	gf_congestion_bids_free(&bids);
	free(is.kwh);
	return rc;
}
