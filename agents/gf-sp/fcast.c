/* SPDX-License-Identifier: MIT */
/*
 * fcast.c - energy forecasts of grid points (D6.1 7.2.8, "Service platform
 * will also offer forecasting services"; sp -> doms energy.forecast).
 * docs/sp.md, "Energy forecasts".
 *
 * The model is lib/engine/eforecast.h: per interval of the day, the mean of
 * the grid point's metered energy over the forecast_days days before (only
 * intervals where every meter of the grid point is complete, as
 * validation's sums), lower and upper the least and most of those days;
 * scaled by the weather when the grid file gives the grid point's location
 * and enough weather is stored (observations of the history days, a
 * forecast of the day). A grid point of fewer than k_min meters gets none.
 *
 * The DOMS asks for them with meter.subscribe's forecasts flag: its grid
 * points get today's and tomorrow's forecasts at once, then each day at
 * forecast_at_s the next day's. Each (subscription, grid point, day) is
 * sent once per content (a restart sends nothing again; new history that
 * changes the forecast sends it again). Subscriptions are kept in sp.db
 * (sp_fc_sub), made and ended once per message.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "energy.h"
#include "engine/eforecast.h"
#include "meter.pb-c.h"
#include "sp.h"

#define IV_MS  900000LL
#define DAY_MS 86400000LL

#define SCHEMA                                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_fc_sub (subscriber TEXT NOT NULL, sub_id TEXT NOT NULL,"    \
	" grid TEXT NOT NULL, PRIMARY KEY (subscriber, sub_id, grid)) WITHOUT ROWID;"

enum gf_err sp_fcast_start(struct sp *sp)
{
	return gf_store_exec(sp->store, SCHEMA);
}

/* The day's mean temperature at the grid point, or NAN. History days use
 * observations (else forecasts), the forecast day a forecast. */
static double day_temp(struct sp *sp, const struct gf_gridtariff_loc *loc, int64_t day_ms,
                       bool history)
{
	double lat, lon, t;

	if (!loc)
		return NAN;
	if (history && sp_extdata_nearest(sp, 1, loc->lat, loc->lon, &lat, &lon) &&
	    sp_extdata_mean_temp(sp, 1, lat, lon, day_ms, day_ms + DAY_MS, &t))
		return t;
	if (sp_extdata_nearest(sp, 0, loc->lat, loc->lon, &lat, &lon) &&
	    sp_extdata_mean_temp(sp, 0, lat, lon, day_ms, day_ms + DAY_MS, &t))
		return t;
	return NAN;
}

enum gf_err sp_fcast_grid_day(struct sp *sp, const struct sp_grid *g, int64_t day_ms,
                              double *energy, double *lower, double *upper, double *factor,
                              char *why, size_t whylen)
{
	size_t days = (size_t)sp->conf->forecast_days, count = days * 96;
	const struct gf_gridtariff_loc *loc = gf_gridtariff_location(&sp->tariff, g->id);
	int64_t from = day_ms - (int64_t)days * DAY_MS;
	double *sum = malloc(count * sizeof(*sum)), *temps = malloc(days * sizeof(*temps));
	uint32_t *have = malloc(count * sizeof(*have));
	struct gf_eforecast f;
	struct gf_eforecast_in in;
	char err[256] = "";
	enum gf_err rc = GF_ENOMEM;

	if (!sum || !temps || !have)
		goto out;
	if (g->n < (size_t)sp->conf->k_min) {
		rc = gf_err_set(why, whylen, GF_EDENIED,
		                "grid point %s has %zu meters, fewer than k_min %ld", g->id, g->n,
		                sp->conf->k_min);
		goto out;
	}
	rc = sp_energy_grid(sp->db, (const char *const *)g->meters, g->n, from, IV_MS, count, sum,
	                    have, NULL, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-SP-STORE", "energy.forecast: %s", err);
		goto out;
	}
	/* Only what every meter has: a missing meter is no drop in load. */
	for (size_t i = 0; i < count; i++)
		if (have[i] != g->n)
			sum[i] = NAN;
	for (size_t d = 0; d < days; d++)
		temps[d] = day_temp(sp, loc, from + (int64_t)d * DAY_MS, true);
	in = (struct gf_eforecast_in){
	    .hist = sum, .days = days, .day_temp = temps, .temp = day_temp(sp, loc, day_ms, false)};
	rc = gf_eforecast_day(&in, &f, why, whylen);
	if (rc != GF_OK)
		goto out;
	memcpy(energy, f.energy, sizeof(f.energy));
	if (lower)
		memcpy(lower, f.lower, sizeof(f.lower));
	if (upper)
		memcpy(upper, f.upper, sizeof(f.upper));
	if (factor)
		*factor = f.factor;
out:
	free(sum);
	free(temps);
	free(have);
	return rc;
}

struct send {
	struct sp *sp;
	const char *subscriber;
	Goflex__EnergyForecast *ef;
};

static enum gf_err send_txn(void *arg)
{
	struct send *s = arg;

	return gf_message_queue(s->sp->a, s->sp->store, "doms", s->subscriber, "energy.forecast",
	                        &s->ef->base);
}

/* The forecast of grid for the day to subscriber's sub_id, once per
 * content. GF_OK also when there is none (logged). */
static enum gf_err send_one(struct sp *sp, const char *subscriber, const char *sub_id,
                            const char *grid, int64_t day_ms, size_t *sent)
{
	const struct sp_grid *g = sp_grids_find(sp, grid);
	Goflex__EnergyForecast ef = GOFLEX__ENERGY_FORECAST__INIT;
	struct send s = {sp, subscriber, &ef};
	double v[3][96], factor = 1;
	char why[256] = "", start[GF_TIME_BUFSIZE] = "", now[GF_TIME_BUFSIZE] = "";
	char key[512], hash[GF_FNV1A64_HEXSIZE];
	enum gf_err rc;

	gf_time_format(day_ms, start, sizeof(start));
	if (!g) {
		gf_log_info("GF-SP-FORECAST",
		            "no energy.forecast of %s for %s: no topology names it", grid, start);
		return GF_OK;
	}
	rc = sp_fcast_grid_day(sp, g, day_ms, v[0], v[1], v[2], &factor, why, sizeof(why));
	if (rc == GF_ENOENT || rc == GF_EDENIED) {
		gf_log_info("GF-SP-FORECAST", "no energy.forecast of %s for %s: %s", grid, start,
		            why);
		return GF_OK;
	}
	if (rc != GF_OK)
		return rc;
	sp_util_msgid(v, sizeof(v), hash);
	snprintf(key, sizeof(key), "fc:%s:%s:%s:%lld:%s", subscriber, sub_id, grid,
	         (long long)day_ms, hash);
	if (gf_store_seen(sp->store, key))
		return GF_OK;
	gf_time_format(sp_util_now_ms(sp), now, sizeof(now));
	ef.gridpointid = (char *)grid;
	ef.issuedtime = now;
	ef.starttime = start;
	ef.intervallength = 900;
	ef.energy = v[0];
	ef.n_energy = 96;
	ef.lowerbound = v[1];
	ef.n_lowerbound = 96;
	ef.upperbound = v[2];
	ef.n_upperbound = 96;
	rc = gf_store_once(sp->a, sp->store, key, send_txn, NULL, &s);
	if (rc == GF_OK) {
		(*sent)++;
		gf_log_info("GF-SP-FORECAST",
		            "energy.forecast of %s for %s to doms.%s (subscription %s), weather "
		            "factor %.3f",
		            grid, start, subscriber, sub_id, factor);
	}
	return rc;
}

/* Every forecast subscription (or only subscriber's sub_id) for the day. */
static enum gf_err publish_day(struct sp *sp, const char *only_who, const char *only_id,
                               int64_t day_ms, size_t *sent)
{
	sqlite3_stmt *st = gf_store_prepare(
	    sp->store, "SELECT subscriber, sub_id, grid FROM sp_fc_sub WHERE (?1 IS NULL OR"
	               " (subscriber = ?1 AND sub_id = ?2)) ORDER BY subscriber, sub_id, grid");
	char **rows = NULL;
	size_t n = 0;
	enum gf_err rc = st ? GF_OK : GF_EIO;

	/* Read first: sending runs transactions of its own. */
	sqlite3_bind_text(st, 1, only_who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, only_id, -1, SQLITE_STATIC);
	while (rc == GF_OK && sqlite3_step(st) == SQLITE_ROW) {
		char **g = realloc(rows, (n + 1) * 3 * sizeof(*g));
		if (!g) {
			rc = GF_ENOMEM;
			break;
		}
		rows = g;
		for (int k = 0; k < 3; k++)
			if (!(rows[n * 3 + (size_t)k] = strdup(gf_store_text(st, k))))
				rc = GF_ENOMEM;
		n++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; rc == GF_OK && i < n; i++)
		rc = send_one(sp, rows[i * 3], rows[i * 3 + 1], rows[i * 3 + 2], day_ms, sent);
	for (size_t i = 0; i < n * 3; i++)
		free(rows[i]);
	free(rows);
	return rc;
}

void sp_fcast_publish(struct sp *sp, int64_t day_ms)
{
	size_t sent = 0;

	if (publish_day(sp, NULL, NULL, day_ms, &sent) != GF_OK) {
		gf_agent_fail(sp->a, "energy forecasts: the store failed");
		return;
	}
	if (sent)
		sp_util_flush(sp);
}

struct fsub {
	struct sp *sp;
	const char *who;
	const Goflex__MeterSubscribe *ms;
};

static enum gf_err subscribe_txn(void *arg)
{
	struct fsub *f = arg;
	enum gf_err rc = gf_store_run(f->sp->store,
	                              "DELETE FROM sp_fc_sub WHERE subscriber = ?1 AND sub_id = ?2",
	                              "tt", f->who, f->ms->subscriptionid);

	for (size_t i = 0;
	     rc == GF_OK && !f->ms->cancel && f->ms->forecasts && i < f->ms->n_gridpointids; i++)
		rc = gf_store_run(f->sp->store,
		                  "INSERT OR IGNORE INTO sp_fc_sub (subscriber, sub_id, grid)"
		                  " VALUES (?1, ?2, ?3)",
		                  "ttt", f->who, f->ms->subscriptionid, f->ms->gridpointids[i]);
	return rc;
}

void sp_fcast_subscribe(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m)
{
	const Goflex__MeterSubscribe *ms = (const Goflex__MeterSubscribe *)m->body;
	struct fsub f = {sp, m->from_id, ms};
	char key[128];
	int64_t today = sp_energy_floor(sp_util_now_ms(sp), DAY_MS);
	size_t sent = 0;

	if (!ms->subscriptionid[0])
		return; /* refused by subs.c, logged there */
	snprintf(key, sizeof(key), "fcsub:%s:%llu", m->from_id, (unsigned long long)item->seq);
	if (gf_store_once(sp->a, sp->store, key, subscribe_txn, NULL, &f) != GF_OK)
		return;
	if (ms->cancel || !ms->forecasts)
		return;
	gf_log_notice("GF-SP-FORECAST",
	              "subscription %s of doms.%s: energy forecasts of %zu grid "
	              "points",
	              ms->subscriptionid, m->from_id, ms->n_gridpointids);
	if (publish_day(sp, m->from_id, ms->subscriptionid, today, &sent) != GF_OK ||
	    publish_day(sp, m->from_id, ms->subscriptionid, today + DAY_MS, &sent) != GF_OK) {
		gf_agent_fail(sp->a, "energy forecasts: the store failed");
		return;
	}
	if (sent)
		sp_util_flush(sp);
}
