/* SPDX-License-Identifier: MIT */
/*
 * gf-doms's forecast and bids (docs/doms.md): the grid point's load per
 * interval, from the metered history the Service Platform holds (meter.c),
 * the IEEE feeder's household profiles (one day, the same every day) or a
 * forecast CSV; what must go per interval (the transformer's excess, plus
 * what the voltages and lines need, grid.c), priced per interval by how
 * severe it is, within the day's budget; the bids lib/engine/congestion.h
 * cuts from that. And the intraday re-bid: when the meters show that the
 * forecast was wrong, the rest of the day is forecast again and what the
 * new excess adds is bid.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/message.h"
#include "agent/kpi.h"
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

	if (d->source == DOMS_FROM_METERED)
		return GF_OK; /* meter.c, when the history is in */
	if (d->source == DOMS_FROM_CSV) {
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

/* The forecast over [from, to) into *kwh and, for the metered source,
 * *per_meter (n x n_meters; NULL otherwise), both malloc'd, clipped to a
 * CSV's range: *start and *n say what is left. */
static enum gf_err window(struct doms *d, int64_t from, int64_t to, int64_t *start, size_t *n,
                          double **kwh, double **per_meter)
{
	double *v;

	if (d->source == DOMS_FROM_CSV) {
		int64_t end = d->csv.start + (int64_t)d->csv.n;

		from = from > d->csv.start ? from : d->csv.start;
		to = to < end ? to : end;
	}
	*start = from;
	*n = to > from ? (size_t)(to - from) : 0;
	*kwh = *per_meter = NULL;
	if (*n == 0)
		return GF_OK;
	v = malloc(*n * sizeof(*v));
	if (!v)
		return GF_ENOMEM;
	*kwh = v;
	if (d->source == DOMS_FROM_METERED) {
		*per_meter = malloc(*n * d->n_meters * sizeof(**per_meter));
		if (!*per_meter)
			return GF_ENOMEM;
		return doms_meter_forecast(d, from, *n, v, *per_meter);
	}
	for (size_t t = 0; t < *n; t++) {
		int64_t i = from + (int64_t)t;

		/* Interval of the UTC day, for the profile: i >= 0 (years from 1970 on). */
		v[t] = d->source == DOMS_FROM_CSV ? d->csv.kwh[i - d->csv.start]
		                                  : d->day_kwh[i % GF_LOADPROFILE_INTERVALS];
	}
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

/* The forecast of each interval, kept: the first one issued (the day-ahead
 * forecast, what the report measures) in kwh, which a restart's issue does
 * not change; a revision's in revised_kwh. */
static enum gf_err record_forecast(struct doms *d, int64_t start, size_t n, const double *kwh,
                                   bool revision)
{
	int64_t now = gf_time_interval((int64_t)(gf_agent_now(d->a) * 1000.0));
	enum gf_err rc = GF_OK;

	for (size_t t = 0; rc == GF_OK && t < n; t++)
		rc = gf_store_run(d->store,
		                  revision
		                      ? "UPDATE doms_forecast SET revised_kwh = ?3, revised_at = ?4"
		                        " WHERE grid = ?1 AND interval = ?2"
		                      : "INSERT OR IGNORE INTO doms_forecast (grid, interval, kwh,"
		                        " issued_at, revised_kwh, revised_at) VALUES (?1, ?2, ?3,"
		                        " ?4, ?3, ?4)",
		                  "tidi", d->conf->grid_point_id, start + (int64_t)t, kwh[t], now);
	return rc;
}

static enum gf_err record_bid(struct doms *d, const struct gf_congestion_bid *b, double total)
{
	enum gf_err rc = gf_store_run(
	    d->store,
	    "INSERT INTO doms_bid (bid_id, start, intervals, kwh, issued) VALUES (?1, ?2,"
	    " ?3, ?4, ?5) ON CONFLICT(bid_id) DO UPDATE SET issued = ?5",
	    "tiidd", b->bid_id, (int64_t)b->start, (int64_t)b->n, total, gf_agent_now(d->a));

	for (size_t k = 0; rc == GF_OK && k < b->n; k++)
		rc = gf_store_run(d->store,
		                  "INSERT OR REPLACE INTO doms_bid_interval (bid_id, interval, kwh,"
		                  " price) VALUES (?1, ?2, ?3, ?4)",
		                  "tidd", b->bid_id, b->start + (int64_t)k, b->schedule_change[k],
		                  b->energy_price[k]);
	return rc;
}

/* Queues bid b; hr, when not NULL, its headroom per interval. */
static enum gf_err queue_bid(struct doms *d, const struct gf_congestion_bid *b, const double *hr)
{
	Goflex__Bid bid = GOFLEX__BID__INIT;
	char first[GF_TIME_BUFSIZE];
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
	if (hr) {
		bid.n_headroom = b->n;
		bid.headroom = (double *)hr;
	}
	/* Sent again until the FOA's first offer.feedback for it. */
	snprintf(key, sizeof(key), "bid:%s", b->bid_id);
	rc = gf_resend_queue(d->a, d->store, key, NULL, "foa", d->conf->dso_foa, "bid", &bid.base);
	if (rc == GF_OK)
		rc = record_bid(d, b, total);
	if (rc == GF_OK) {
		gf_kpi_count(d->a, "doms.bids_sent", 1, NULL);
		gf_kpi_count(d->a, "doms.bid_kwh", total, "kWh");
	}
	if (rc == GF_OK)
		gf_log_info("GF-DOMS-BID", "bid %s: %zu interval(s) from %s, %.3f kWh to foa.%s",
		            b->bid_id, b->n, first, total, d->conf->dso_foa);
	return rc;
}

/* kWh already bid for interval i (every bid, day-ahead and re-bids). */
static double bid_so_far(struct doms *d, int64_t i)
{
	sqlite3_stmt *st = gf_store_prepare(
	    d->store, "SELECT coalesce(sum(kwh), 0) FROM doms_bid_interval WHERE interval = ?1");
	double v = 0;

	if (st) {
		sqlite3_bind_int64(st, 1, i);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_double(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

/* EUR committed by the bids of the UTC day of interval day. */
static double spent(struct doms *d, int64_t day)
{
	sqlite3_stmt *st = gf_store_prepare(
	    d->store, "SELECT coalesce(sum(kwh * price), 0) FROM doms_bid_interval WHERE interval"
	              " >= ?1 AND interval < ?2");
	double v = 0;

	if (st) {
		sqlite3_bind_int64(st, 1, day);
		sqlite3_bind_int64(st, 2, day + GF_LOADPROFILE_INTERVALS);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_double(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

/* The price of interval t: price_eur_kwh for an interval barely over,
 * rising linearly with the request to price_max_eur_kwh for a request of
 * the whole limit or more (docs/doms.md, "Prices"). */
static double price_of(const struct doms *d, double req)
{
	double sev = d->limit_kwh > 0 ? req / d->limit_kwh : 1;

	return d->price + (d->price_max - d->price) * (sev < 1 ? sev : 1);
}

struct by_req {
	double req;
	size_t t;
};

static int by_req_cmp(const void *a, const void *b)
{
	double x = ((const struct by_req *)a)->req, y = ((const struct by_req *)b)->req;

	return x < y ? -1 : x > y;
}

/* Cuts req[] of one UTC day's intervals [a, b) to what is left of the day's
 * budget, least severe intervals first: relief buys the worst intervals. */
static enum gf_err within_budget(struct doms *d, int64_t start, size_t a, size_t b, double *req,
                                 double *price, size_t *cut)
{
	double left = d->budget - spent(d, start + (int64_t)a -
	                                       (start + (int64_t)a) % GF_LOADPROFILE_INTERVALS),
	       cost = 0;
	struct by_req *o;
	size_t m = 0;

	for (size_t t = a; t < b; t++)
		cost += req[t] * price[t];
	if (d->budget <= 0 || cost <= left)
		return GF_OK;
	if (!(o = malloc((b - a) * sizeof(*o))))
		return GF_ENOMEM;
	for (size_t t = a; t < b; t++)
		if (req[t] > 0)
			o[m++] = (struct by_req){req[t], t};
	qsort(o, m, sizeof(*o), by_req_cmp);
	for (size_t k = 0; k < m && cost > left + 1e-9; k++) {
		size_t t = o[k].t;
		double over = cost - (left > 0 ? left : 0), c = req[t] * price[t];

		if (c <= over) {
			cost -= c;
			req[t] = 0;
		} else {
			req[t] -= over / price[t];
			cost -= over;
		}
		(*cut)++;
	}
	free(o);
	return GF_OK;
}

/* What an issue is. */
enum kind {
	DAY_AHEAD, /* a forecast from the history, and its bids */
	REVISION,  /* the intraday re-bid: a revised forecast, and its bids */
	TOP_UP,    /* new limits: bids over the forecast in use */
};

/* One forecast and its bids, queued in one transaction. */
struct issue {
	struct doms *d;
	int64_t start;
	size_t n;
	double *kwh;
	enum kind kind;
	const struct gf_congestion_bids *bids;
	const double *headroom; /* the one bid's headroom, or NULL */
};

static enum gf_err queue_issue(void *arg)
{
	const struct issue *is = arg;
	enum gf_err rc = GF_OK;

	if (is->kind != TOP_UP) {
		rc = queue_forecast(is->d, is->start, is->n, is->kwh);
		if (rc == GF_OK)
			rc =
			    record_forecast(is->d, is->start, is->n, is->kwh, is->kind == REVISION);
	}
	for (size_t i = 0; rc == GF_OK && i < is->bids->count; i++)
		rc = queue_bid(is->d, &is->bids->bid[i], is->headroom);
	return rc;
}

static void log_window(struct doms *d, const struct issue *is, const double *req, size_t cut)
{
	size_t peak = 0, over = 0;
	double asked = 0;

	for (size_t t = 0; t < is->n; t++) {
		if (is->kwh[t] > is->kwh[peak])
			peak = t;
		over += is->kwh[t] > d->limit_kwh;
		asked += req[t];
	}
	gf_kpi_gauge(d->a, "doms.forecast_peak_kwh", is->kwh[peak], "kWh");
	gf_kpi_gauge(d->a, "doms.intervals_over_limit", (double)over, NULL);
	gf_log_notice("GF-DOMS-FORECAST",
	              "%s%s: intervals %lld..%lld, peak %.3f kWh at %lld, limit %.3f kWh: %zu "
	              "over, %zu bid(s) asking %.3f kWh%s",
	              d->conf->grid_point_id,
	              is->kind == REVISION ? " (intraday revision)"
	              : is->kind == TOP_UP ? " (new limits)"
	                                   : "",
	              (long long)is->start, (long long)is->start + (long long)is->n - 1,
	              is->kwh[peak], (long long)is->start + (long long)peak, d->limit_kwh, over,
	              is->bids->count, asked, cut ? " (cut to the day's budget)" : "");
	if (cut)
		gf_log_warning(
		    "GF-DOMS-BUDGET",
		    "%zu interval(s) asked less than needed: the day's budget of %.2f EUR "
		    "is spent",
		    cut, d->budget);
}

/* Intervals past the window's end a day-ahead bid with a headroom runs on
 * (the next morning, where a car charged later lands): their forecast is
 * that of the same time a day earlier, in the window (the window's first
 * interval's for the times it does not have). */
#define DOMS_HEADROOM_AFTER 48

/* The day-ahead bid with a headroom (bid_headroom): one bid from the first
 * interval that asks something to DOMS_HEADROOM_AFTER intervals past the
 * window's end (its gate is that of the first congestion, as without a
 * headroom); where nothing is asked the grid takes limit - forecast more
 * (the headroom) and an increase beyond it weighs price_max_eur_kwh (a new
 * congestion). The bid's series are its own (bids->values); its headroom,
 * malloc'd, goes to is->headroom (the caller frees it). */
static enum gf_err span_bid(struct doms *d, int64_t start, size_t n, const double *kwh,
                            const double *req, const double *price, size_t bid_from,
                            struct gf_congestion_bids *bids, struct issue *is, char *err,
                            size_t errlen)
{
	size_t a = bid_from, ext = n >= DOMS_HEADROOM_AFTER ? DOMS_HEADROOM_AFTER : 0, len;
	struct gf_congestion_bid *b;
	double *v, *hr;

	while (a < n && !(req[a] > 0))
		a++;
	if (a >= n)
		return GF_OK; /* nothing asked: no bid */
	len = n - a + ext;
	b = calloc(1, sizeof(*b));
	v = calloc(2 * len, sizeof(*v));
	hr = calloc(len, sizeof(*hr));
	if (!b || !v || !hr) {
		free(b);
		free(v);
		free(hr);
		snprintf(err, errlen, "out of memory");
		return GF_ENOMEM;
	}
	b->start = start + (int64_t)a;
	b->n = len;
	b->schedule_change = v;
	b->energy_price = v + len;
	snprintf(b->bid_id, sizeof(b->bid_id), "%s-%lld-%zu", d->conf->grid_point_id,
	         (long long)b->start, b->n);
	for (size_t k = 0; k < len; k++) {
		size_t t = a + k;
		double f = t < n                           ? kwh[t]
		           : t >= GF_LOADPROFILE_INTERVALS ? kwh[t - GF_LOADPROFILE_INTERVALS]
		                                           : kwh[0];

		if (t < n && req[t] > 0) {
			v[k] = req[t];
			v[len + k] = price[t];
			continue;
		}
		hr[k] = f < d->limit_kwh ? d->limit_kwh - f : 0;
		v[len + k] = d->price_max;
	}
	bids->count = 1;
	bids->bid = b;
	bids->values = v;
	is->headroom = hr;
	return GF_OK;
}

/* Bids for the forecast kwh[0..n) of intervals from start (per_meter as
 * doms_meter_forecast's, or NULL): what each interval needs beyond what was
 * bid already, priced, within the budget, cut into bids whose ids end in
 * suffix (re-bids, new limits) or not (day-ahead), from interval start +
 * bid_from on. */
static enum gf_err issue(struct doms *d, enum kind kind, int64_t start, size_t n, double *kwh,
                         const double *per_meter, const char *suffix, size_t bid_from)
{
	struct gf_congestion_params p = {
	    .grid_point_id = d->conf->grid_point_id,
	    .limit_kwh = d->limit_kwh,
	    .margin_kwh = 0,
	    .max_len = (size_t)d->conf->max_bid_len,
	};
	struct gf_congestion_bids bids = {0};
	struct issue is = {.d = d, .start = start, .n = n, .kwh = kwh, .bids = &bids, .kind = kind};
	double *req = calloc(n, sizeof(*req)), *need = calloc(n, sizeof(*need)),
	       *price = calloc(n, sizeof(*price)), *f = calloc(n, sizeof(*f));
	size_t cut = 0;
	char err[256];
	enum gf_err rc = req && need && price && f ? GF_OK : GF_ENOMEM;

	if (rc == GF_OK && per_meter)
		rc = doms_flow_need(d, per_meter, n, need);
	for (size_t t = 0; rc == GF_OK && t < n; t++) {
		double excess = kwh[t] > d->limit_kwh ? kwh[t] - d->limit_kwh + d->margin_kwh : 0;
		double r = excess > need[t] ? excess : need[t];

		/* What the bids so far do not cover; small remainders are
		 * not worth a bid of their own. */
		r -= bid_so_far(d, start + (int64_t)t);
		req[t] = t >= bid_from && r > 0.001 && (!suffix || r > 0.05 * d->limit_kwh) ? r : 0;
		price[t] = price_of(d, req[t]);
	}
	for (size_t a = 0; rc == GF_OK && a < n;) {
		size_t b = a + 1;

		while (b < n && (start + (int64_t)b) % GF_LOADPROFILE_INTERVALS != 0)
			b++;
		rc = within_budget(d, start, a, b, req, price, &cut);
		a = b;
	}
	/* congestion.h bids f - L where f > L: f = L + what is asked. */
	for (size_t t = 0; t < n; t++)
		f[t] = req[t] > 0 ? d->limit_kwh + req[t] : 0;
	p.prices = price;
	if (rc == GF_OK && kind == DAY_AHEAD && d->conf->bid_headroom)
		rc = span_bid(d, start, n, kwh, req, price, bid_from, &bids, &is, err, sizeof(err));
	else if (rc == GF_OK)
		rc = gf_congestion_bids(&p, start, f, n, &bids, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-DOMS-FORECAST", "no bids: %s",
		           rc == GF_ENOMEM ? "out of memory" : err);
		goto out;
	}
	for (size_t i = 0; suffix && i < bids.count; i++) {
		size_t l = strlen(bids.bid[i].bid_id);
		snprintf(bids.bid[i].bid_id + l, sizeof(bids.bid[i].bid_id) - l, "%s", suffix);
	}
	/* A failure stops the agent; the next start issues the same bids
	 * under the same ids. */
	rc = gf_store_once(d->a, d->store, NULL, queue_issue, NULL, &is);
	if (rc != GF_OK)
		goto out;
	log_window(d, &is, req, cut);
	gf_store_outbox_flush(d->store, gf_agent_bus(d->a));
out:
	gf_congestion_bids_free(&bids);
	free((double *)is.headroom);
	free(req);
	free(need);
	free(price);
	free(f);
	return rc;
}

void doms_forecast_horizon(const struct doms *d, int64_t *from, int64_t *to)
{
	int64_t now = gf_time_interval((int64_t)(gf_agent_now(d->a) * 1000.0));
	int64_t day = now - now % GF_LOADPROFILE_INTERVALS;
	int64_t issue = day + d->conf->issue_at_s / GF_TIME_INTERVAL_S;

	*from = now + 1;
	*to = day + (now >= issue ? 2 : 1) * GF_LOADPROFILE_INTERVALS;
}

/* Whether the metered history the window [from, ...) is forecast from is
 * in: every interval of the day before the window's day is complete, and of
 * the window's day those up to two before now. Meters complete intervals in
 * any order (the SP sends a history meter by meter, new readings as they
 * come), so the newest complete interval says nothing of the older ones. */
static bool history_in(struct doms *d, int64_t from)
{
	int64_t now = gf_time_interval((int64_t)(gf_agent_now(d->a) * 1000.0));
	int64_t day = from - from % GF_LOADPROFILE_INTERVALS;
	int64_t lo = day - GF_LOADPROFILE_INTERVALS, hi = day < now - 1 ? day : now - 1;
	sqlite3_stmt *st =
	    gf_store_prepare(d->store, "SELECT count(*) FROM doms_metered WHERE"
	                               " grid = ?1 AND interval >= ?2 AND interval < ?3");
	int64_t n = -1;

	if (st) {
		sqlite3_bind_text(st, 1, d->conf->grid_point_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n >= hi - lo;
}

/* The forecast in use over [start, start + n): the latest revision where
 * there is one, the per-meter forecast scaled alike. */
static void in_use(struct doms *d, int64_t start, size_t n, double *kwh, double *per_meter)
{
	sqlite3_stmt *st = gf_store_prepare(
	    d->store, "SELECT interval, revised_kwh FROM doms_forecast WHERE grid = ?1 AND"
	              " interval >= ?2 AND interval < ?3");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, d->conf->grid_point_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, start + (int64_t)n);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t t = (size_t)(sqlite3_column_int64(st, 0) - start);
		double v = sqlite3_column_double(st, 1), f = kwh[t] > 0 ? v / kwh[t] : 1;

		for (size_t k = 0; per_meter && k < d->n_meters; k++)
			per_meter[t * d->n_meters + k] *= f;
		kwh[t] = v;
	}
	sqlite3_finalize(st);
}

enum gf_err doms_forecast_issue(struct doms *d, int64_t from, int64_t to, const char *suffix)
{
	double *kwh = NULL, *per_meter = NULL;
	int64_t start;
	size_t n;
	enum gf_err rc;

	if (d->source == DOMS_FROM_METERED && !history_in(d, from)) {
		/* Widened, not replaced: a day-ahead issue can come while the
		 * rest of today waits. */
		d->wait_from =
		    d->wait_to > d->wait_from && d->wait_from < from ? d->wait_from : from;
		d->wait_to = to > d->wait_to ? to : d->wait_to;
		gf_log_info("GF-DOMS-FORECAST",
		            "intervals %lld..%lld wait for the metered history (newest complete "
		            "interval %lld)",
		            (long long)d->wait_from, (long long)d->wait_to - 1,
		            (long long)doms_meter_latest(d));
		return GF_OK;
	}
	rc = window(d, from, to, &start, &n, &kwh, &per_meter);
	if (rc == GF_OK && n > 0 && d->source == DOMS_FROM_METERED &&
	    doms_meter_history_days(d, start - start % GF_LOADPROFILE_INTERVALS) == 0) {
		gf_log_warning(
		    "GF-DOMS-FORECAST",
		    "intervals %lld..%lld: no metered history in the %ld days before: no "
		    "forecast, no bids",
		    (long long)start, (long long)(start + (int64_t)n - 1), d->conf->history_days);
		n = 0;
	}
	if (rc == GF_OK && n > 0 && suffix)
		in_use(d, start, n, kwh, per_meter);
	if (rc == GF_OK && n > 0)
		rc = issue(d, suffix ? TOP_UP : DAY_AHEAD, start, n, kwh, per_meter, suffix, 0);
	free(kwh);
	free(per_meter);
	return rc;
}

/* Metered against the day-ahead forecast over the rebid_window intervals
 * up to j: the ratio, or 0 when there is not enough to say. */
static double metered_ratio(struct doms *d, int64_t j)
{
	sqlite3_stmt *st = gf_store_prepare(
	    d->store, "SELECT count(*), sum(m.kwh), sum(f.kwh) FROM doms_metered m JOIN"
	              " doms_forecast f ON f.grid = m.grid AND f.interval = m.interval WHERE"
	              " m.grid = ?1 AND m.interval > ?2 AND m.interval <= ?3");
	double r = 0;

	if (st) {
		sqlite3_bind_text(st, 1, d->conf->grid_point_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, j - d->conf->rebid_window);
		sqlite3_bind_int64(st, 3, j);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_int64(st, 0) == d->conf->rebid_window &&
		    sqlite3_column_double(st, 2) > 0)
			r = sqlite3_column_double(st, 1) / sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
	return r;
}

/* The day-ahead forecast of [from, from + n) into kwh and the factor its
 * latest revision applied (revised / day-ahead at from, 1 when none); false
 * if an interval has no forecast. */
static bool day_ahead(struct doms *d, int64_t from, size_t n, double *kwh, double *factor)
{
	sqlite3_stmt *st = gf_store_prepare(
	    d->store, "SELECT interval, kwh, revised_kwh FROM doms_forecast WHERE grid = ?1 AND"
	              " interval >= ?2 AND interval < ?3");
	size_t got = 0;

	if (!st)
		return false;
	*factor = 1;
	sqlite3_bind_text(st, 1, d->conf->grid_point_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, from + (int64_t)n);
	while (sqlite3_step(st) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(st, 0);
		double v = sqlite3_column_double(st, 1);

		kwh[i - from] = v;
		if (i == from && v > 0)
			*factor = sqlite3_column_double(st, 2) / v;
		got++;
	}
	sqlite3_finalize(st);
	return got == n;
}

/* The intraday re-bid (docs/doms.md, "Re-bids"): r = metered / day-ahead
 * forecast over the last rebid_window intervals; when it is off the factor
 * of the latest revision by more than rebid_threshold, the rest of the day
 * is forecast again as the day-ahead forecast times r (within 0.5 to 2),
 * and what its excess adds to the bids so far is bid, from rebid_lead
 * intervals on. The same meters give the same revision: a restart does not
 * revise again. */
static void rebid(struct doms *d, int64_t j)
{
	double r = metered_ratio(d, j), was = 1, *kwh;
	int64_t from = j + 1,
	        day_end = from - from % GF_LOADPROFILE_INTERVALS + GF_LOADPROFILE_INTERVALS;
	size_t n = (size_t)(day_end - from);
	char suffix[32];

	if (r == 0 || n == 0 || !(kwh = malloc(n * sizeof(*kwh))))
		return;
	r = r < 0.5 ? 0.5 : r > 2 ? 2 : r;
	if (day_ahead(d, from, n, kwh, &was) && fabs(r / was - 1) > d->conf->rebid_threshold) {
		for (size_t t = 0; t < n; t++)
			kwh[t] *= r;
		gf_log_notice(
		    "GF-DOMS-REBID",
		    "metered %.0f%% of the day-ahead forecast over intervals %lld..%lld "
		    "(the forecast in use assumed %.0f%%): the rest of the day forecast again",
		    100 * r, (long long)(j - d->conf->rebid_window + 1), (long long)j, 100 * was);
		snprintf(suffix, sizeof(suffix), "-r%lld", (long long)j);
		issue(d, REVISION, from, n, kwh, NULL, suffix, (size_t)d->conf->rebid_lead);
	}
	free(kwh);
}

void doms_forecast_check(struct doms *d)
{
	int64_t latest = doms_meter_latest(d);

	if (d->wait_to > d->wait_from && history_in(d, d->wait_from)) {
		int64_t from = d->wait_from, to = d->wait_to,
		        now = gf_time_interval((int64_t)(gf_agent_now(d->a) * 1000.0));

		d->wait_from = d->wait_to = 0;
		/* Bids start in the future. */
		doms_forecast_issue(d, from > now + 1 ? from : now + 1, to, NULL);
	}
	if (d->conf->rebid_window > 0 && latest > d->checked) {
		d->checked = latest;
		rebid(d, latest);
	}
}
