/* SPDX-License-Identifier: MIT */
/*
 * extdata.c - what gf-ingest publishes (ext -> sp: price.dayahead,
 * weather.forecast, weather.observation; D6.1 7.2.11), stored in sp.db and
 * passed on (sp -> foa, fman, fmar: price.reference, weather.forecast;
 * D6.1 7.2.6, 7.2.7). docs/sp.md, "External data".
 *
 * Each message is handled once, keyed by its message id (the FNV-1a of its
 * payload): storing, and queueing what is passed on, in one transaction, so
 * a kill -9 either loses both (the inbox hands the message over again) or
 * keeps both (the outbox sends at the next start). A period already stored
 * is overwritten by a forecast or price issued at the same time or later
 * (a revision), and by any observation (a correction).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "price.pb-c.h"
#include "sp.h"
#include "weather.pb-c.h"

#define PERIODS_MAX 35136 /* a leap year of quarter hours */
#define AREA_MAX    64
#define SOURCE_MAX  128
#define QTY         9 /* weather quantities */

#define SCHEMA                                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_price (area TEXT NOT NULL, res_s INTEGER NOT NULL,"         \
	" t_ms INTEGER NOT NULL, price REAL NOT NULL, issued_ms INTEGER NOT NULL,"                 \
	" source TEXT NOT NULL, PRIMARY KEY (area, res_s, t_ms)) WITHOUT ROWID;"                   \
	"CREATE TABLE IF NOT EXISTS sp_weather (kind INTEGER NOT NULL, lat REAL NOT NULL,"         \
	" lon REAL NOT NULL, source TEXT NOT NULL, res_s INTEGER NOT NULL, t_ms INTEGER NOT NULL," \
	" issued_ms INTEGER NOT NULL, q0 REAL, q1 REAL, q2 REAL, q3 REAL, q4 REAL, q5 REAL,"       \
	" q6 REAL, q7 REAL, q8 REAL,"                                                              \
	" PRIMARY KEY (kind, lat, lon, source, res_s, t_ms)) WITHOUT ROWID;"

enum gf_err sp_extdata_start(struct sp *sp)
{
	return gf_store_exec(sp->store, SCHEMA);
}

/* One message on its way in. */
struct ext {
	struct sp *sp;
	const struct gf_inbox_item *item;
	const struct gf_message *m;
	char id[GF_FNV1A64_HEXSIZE];
	char why[256];
	size_t stored;
	bool observation;
};

/* Resolution: 60 s to a day, dividing the day. */
static bool resolution_ok(uint32_t r)
{
	return r >= 60 && r <= 86400 && 86400 % r == 0;
}

static void refused(struct ext *e)
{
	gf_log_warning("GF-SP-EXT", "%s from %s.%s (message %s) refused: %s; nothing stored",
	               e->m->msg, gf_role_name(e->m->topic.from_role), e->m->from_id, e->id,
	               e->why);
}

/* --- prices ------------------------------------------------------------------------- */

static bool price_check(struct ext *e, const Goflex__PriceSeries *p, int64_t *start,
                        int64_t *issued)
{
	const char *why = NULL;

	*issued = 0;
	if (!p->area[0] || strlen(p->area) > AREA_MAX)
		why = "area: 1 to 64 characters";
	else if (p->currency && strcmp(p->currency, "EUR") != 0)
		why = "currency: only EUR";
	else if (!resolution_ok(p->resolution))
		why = "resolution: 60 to 86400 s, dividing a day";
	else if (p->n_prices == 0 || p->n_prices > PERIODS_MAX)
		why = "prices: 1 to 35136 periods";
	else if (gf_time_parse(p->starttime, strlen(p->starttime), start) != GF_OK ||
	         *start % 60000)
		why = "startTime: a time on a whole minute";
	else if (p->issuedtime &&
	         gf_time_parse(p->issuedtime, strlen(p->issuedtime), issued) != GF_OK)
		why = "issuedTime is not a time";
	for (size_t i = 0; !why && i < p->n_prices; i++)
		if (!isfinite(p->prices[i]) || fabs(p->prices[i]) > GF_GRIDTARIFF_PRICE_MAX)
			why = "prices: finite, within +-1000 EUR/kWh";
	if (why)
		snprintf(e->why, sizeof(e->why), "%s", why);
	return !why;
}

static enum gf_err price_txn(void *arg)
{
	struct ext *e = arg;
	const Goflex__PriceSeries *p = (const Goflex__PriceSeries *)e->m->body;
	Goflex__PriceSeries ref = *p;
	const struct sp_conf *c = e->sp->conf;
	double *v = NULL;
	int64_t start, issued;
	enum gf_err rc = GF_OK;

	if (!price_check(e, p, &start, &issued)) {
		refused(e);
		return GF_OK;
	}
	for (size_t i = 0; rc == GF_OK && i < p->n_prices; i++)
		rc = gf_store_run(
		    e->sp->store,
		    "INSERT INTO sp_price (area, res_s, t_ms, price, issued_ms, source)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (area, res_s, t_ms) DO UPDATE SET"
		    " price = excluded.price, issued_ms = excluded.issued_ms, source = "
		    "excluded.source"
		    " WHERE excluded.issued_ms >= sp_price.issued_ms",
		    "tiidit", p->area, (int64_t)p->resolution,
		    start + (int64_t)i * p->resolution * 1000, p->prices[i], issued,
		    p->source ? p->source : e->m->from_id);
	if (rc != GF_OK)
		return rc;
	e->stored = p->n_prices;
	/* The reference (retail energy) price, docs/sp.md "price.reference". */
	if (!(v = malloc(p->n_prices * sizeof(*v))))
		return GF_ENOMEM;
	for (size_t i = 0; i < p->n_prices; i++)
		v[i] = c->reference_factor * p->prices[i] + c->reference_adder;
	ref.prices = v;
	ref.source = (char *)"gf-sp: reference_factor x price.dayahead + reference_adder";
	rc = gf_message_queue(e->sp->a, e->sp->store, "all", "all", "price.reference", &ref.base);
	free(v);
	return rc;
}

void sp_extdata_price(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m)
{
	struct ext e = {.sp = sp, .item = item, .m = m};
	char key[64];

	sp_util_msgid(item->payload, item->len, e.id);
	snprintf(key, sizeof(key), "ext:%s", e.id);
	if (gf_store_once(sp->a, sp->store, key, price_txn, NULL, &e) != GF_OK)
		return;
	if (e.stored) {
		gf_log_info("GF-SP-EXT",
		            "price.dayahead from ext.%s (message %s): area %s, %zu periods stored; "
		            "price.reference queued",
		            m->from_id, e.id, ((const Goflex__PriceSeries *)m->body)->area,
		            e.stored);
		sp_util_flush(sp);
	}
}

/* --- weather ------------------------------------------------------------------------- */

/* The quantities of a series, in the columns' order q0..q8. */
static void weather_qty(const Goflex__WeatherSeries *w, const double *q[QTY], size_t n[QTY])
{
	const double *v[QTY] = {w->temperature,      w->relativehumidity, w->windspeed,
	                        w->winddirection,    w->cloudcover,       w->globalirradiance,
	                        w->directirradiance, w->precipitation,    w->pressure};
	size_t k[QTY] = {w->n_temperature,      w->n_relativehumidity, w->n_windspeed,
	                 w->n_winddirection,    w->n_cloudcover,       w->n_globalirradiance,
	                 w->n_directirradiance, w->n_precipitation,    w->n_pressure};

	memcpy(q, v, sizeof(v));
	memcpy(n, k, sizeof(k));
}

static double round4(double x)
{
	return round(x * 10000.0) / 10000.0;
}

static bool weather_check(struct ext *e, const Goflex__WeatherSeries *w, int64_t *start,
                          int64_t *issued, size_t *periods)
{
	const double *q[QTY];
	size_t n[QTY], len = 0;
	const char *why = NULL;

	weather_qty(w, q, n);
	for (int k = 0; k < QTY; k++)
		len = n[k] > len ? n[k] : len;
	*issued = 0;
	if (!w->location->has_latitude || !w->location->has_longitude)
		why = "location: latitude and longitude";
	else if (!resolution_ok(w->intervallength))
		why = "intervalLength: 60 to 86400 s, dividing a day";
	else if (len == 0 || len > PERIODS_MAX)
		why = "1 to 35136 intervals";
	else if (gf_time_parse(w->starttime, strlen(w->starttime), start) != GF_OK ||
	         *start % 60000)
		why = "startTime: a time on a whole minute";
	else if (!e->observation && !w->issuedtime)
		why = "a forecast needs its issuedTime";
	else if (w->issuedtime &&
	         gf_time_parse(w->issuedtime, strlen(w->issuedtime), issued) != GF_OK)
		why = "issuedTime is not a time";
	else if (w->source && strlen(w->source) > SOURCE_MAX)
		why = "source: at most 128 characters";
	for (int k = 0; !why && k < QTY; k++) {
		if (n[k] && n[k] != len)
			why = "every quantity present has one value per interval";
		for (size_t i = 0; !why && i < n[k]; i++)
			if (!isfinite(q[k][i]) || fabs(q[k][i]) > 1e6)
				why = "values: finite, within +-1e6";
	}
	if (why)
		snprintf(e->why, sizeof(e->why), "%s", why);
	*periods = len;
	return !why;
}

static enum gf_err weather_txn(void *arg)
{
	struct ext *e = arg;
	const Goflex__WeatherSeries *w = (const Goflex__WeatherSeries *)e->m->body;
	sqlite3_stmt *st = NULL;
	const double *q[QTY];
	size_t n[QTY], len;
	int64_t start, issued;
	enum gf_err rc = GF_OK;

	if (!weather_check(e, w, &start, &issued, &len)) {
		refused(e);
		return GF_OK;
	}
	weather_qty(w, q, n);
	st = gf_store_prepare(
	    e->sp->store,
	    "INSERT INTO sp_weather (kind, lat, lon, source, res_s, t_ms, issued_ms, q0, q1, q2, "
	    "q3,"
	    " q4, q5, q6, q7, q8) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16) ON CONFLICT (kind, lat, lon, source, res_s, t_ms) DO UPDATE SET"
	    " issued_ms = excluded.issued_ms, q0 = excluded.q0, q1 = excluded.q1, q2 = excluded.q2,"
	    " q3 = excluded.q3, q4 = excluded.q4, q5 = excluded.q5, q6 = excluded.q6,"
	    " q7 = excluded.q7, q8 = excluded.q8 WHERE excluded.issued_ms >= sp_weather.issued_ms");
	if (!st)
		return GF_EIO;
	for (size_t i = 0; rc == GF_OK && i < len; i++) {
		sqlite3_bind_int(st, 1, e->observation);
		sqlite3_bind_double(st, 2, round4(w->location->latitude));
		sqlite3_bind_double(st, 3, round4(w->location->longitude));
		sqlite3_bind_text(st, 4, w->source ? w->source : e->m->from_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, w->intervallength);
		sqlite3_bind_int64(st, 6, start + (int64_t)i * w->intervallength * 1000);
		sqlite3_bind_int64(st, 7, issued);
		for (int k = 0; k < QTY; k++) {
			if (n[k])
				sqlite3_bind_double(st, 8 + k, q[k][i]);
			else
				sqlite3_bind_null(st, 8 + k);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = GF_EIO;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != GF_OK)
		return rc;
	e->stored = len;
	if (!e->observation)
		rc = gf_message_queue(e->sp->a, e->sp->store, "all", "all", "weather.forecast",
		                      e->m->body);
	return rc;
}

void sp_extdata_weather(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m,
                        bool observation)
{
	struct ext e = {.sp = sp, .item = item, .m = m, .observation = observation};
	char key[64];

	sp_util_msgid(item->payload, item->len, e.id);
	snprintf(key, sizeof(key), "ext:%s", e.id);
	if (gf_store_once(sp->a, sp->store, key, weather_txn, NULL, &e) != GF_OK)
		return;
	if (e.stored) {
		gf_log_info("GF-SP-EXT", "%s from ext.%s (message %s): %zu intervals stored%s",
		            m->msg, m->from_id, e.id, e.stored,
		            observation ? "" : "; weather.forecast queued");
		sp_util_flush(sp);
	}
}

/* --- for the queries and the forecasts ------------------------------------------------- */

/* Great-circle distance, km. */
static double distance_km(double lat1, double lon1, double lat2, double lon2)
{
	const double r = 6371.0, rad = M_PI / 180.0;
	double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
	double h = sin(dlat / 2) * sin(dlat / 2) +
	           cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);

	return 2 * r * asin(fmin(1.0, sqrt(h)));
}

bool sp_extdata_nearest(struct sp *sp, int kind, double lat, double lon, double *slat, double *slon)
{
	sqlite3_stmt *st =
	    gf_store_prepare(sp->store, "SELECT DISTINCT lat, lon FROM sp_weather WHERE kind = ?1");
	double best = (double)sp->conf->weather_radius_km;
	bool found = false;

	sqlite3_bind_int(st, 1, kind);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		double a = sqlite3_column_double(st, 0), b = sqlite3_column_double(st, 1);
		double d = distance_km(lat, lon, a, b);

		if (d <= best) {
			best = d;
			*slat = a;
			*slon = b;
			found = true;
		}
	}
	sqlite3_finalize(st);
	return found;
}

bool sp_extdata_mean_temp(struct sp *sp, int kind, double slat, double slon, int64_t from_ms,
                          int64_t to_ms, double *temp)
{
	sqlite3_stmt *st = gf_store_prepare(
	    sp->store, "SELECT avg(q0), sum(res_s) FROM sp_weather WHERE kind = ?1 AND lat = ?2"
	               " AND lon = ?3 AND t_ms >= ?4 AND t_ms < ?5 AND q0 IS NOT NULL");
	bool ok = false;

	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_double(st, 2, slat);
	sqlite3_bind_double(st, 3, slon);
	sqlite3_bind_int64(st, 4, from_ms);
	sqlite3_bind_int64(st, 5, to_ms);
	if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    (double)sqlite3_column_int64(st, 1) * 1000.0 >= (double)(to_ms - from_ms) / 2) {
		*temp = sqlite3_column_double(st, 0);
		ok = true;
	}
	sqlite3_finalize(st);
	return ok;
}

struct retain {
	struct sp *sp;
	int64_t before;
	uint64_t deleted;
};

static enum gf_err retain_txn(void *arg)
{
	struct retain *r = arg;
	enum gf_err rc =
	    gf_store_run(r->sp->store, "DELETE FROM sp_price WHERE t_ms < ?1", "i", r->before);

	r->deleted = (uint64_t)sqlite3_changes(gf_store_db(r->sp->store));
	if (rc == GF_OK)
		rc = gf_store_run(r->sp->store, "DELETE FROM sp_weather WHERE t_ms < ?1", "i",
		                  r->before);
	if (rc == GF_OK)
		r->deleted += (uint64_t)sqlite3_changes(gf_store_db(r->sp->store));
	return rc;
}

enum gf_err sp_extdata_retain(struct sp *sp, int64_t before_ms)
{
	struct retain r = {sp, before_ms, 0};
	enum gf_err rc = gf_store_once(sp->a, sp->store, NULL, retain_txn, NULL, &r);

	if (rc == GF_OK && r.deleted)
		gf_log_notice("GF-SP-RETENTION", "deleted %llu prices and weather intervals",
		              (unsigned long long)r.deleted);
	return rc;
}
