/* SPDX-License-Identifier: MIT */
/*
 * publish.c - price.dayahead, weather.forecast and weather.observation
 * queued in the store's outbox, once per content (publish.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/once.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "common.pb-c.h"
#include "price.pb-c.h"
#include "publish.h"
#include "weather.pb-c.h"

/* One row per thing sent: a price interval ("price|<area>|<start>|<res>")
 * with the revision and digest sent; a location's forecast
 * ("forecast|<loc>|<interval>") with the digest of the last one; a
 * location's observations ("observation|<loc>|<interval>") with the end of
 * the last observed interval sent. */
const char ingest_publish_schema[] = "CREATE TABLE IF NOT EXISTS ingest_sent ("
                                     " key TEXT PRIMARY KEY,"
                                     " revision INTEGER NOT NULL DEFAULT 0,"
                                     " digest INTEGER NOT NULL DEFAULT 0,"
                                     " until_ms INTEGER NOT NULL DEFAULT 0,"
                                     " at_ms INTEGER NOT NULL)";

struct row {
	bool found;
	long revision;
	uint64_t digest;
	int64_t until_ms;
};

static enum gf_err row_get(struct ingest *ing, const char *key, struct row *r)
{
	sqlite3_stmt *st = gf_store_prepare(
	    ing->store, "SELECT revision, digest, until_ms FROM ingest_sent WHERE key = ?");
	int s;

	memset(r, 0, sizeof(*r));
	if (!st)
		return GF_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		r->found = true;
		r->revision = (long)sqlite3_column_int64(st, 0);
		r->digest = (uint64_t)sqlite3_column_int64(st, 1);
		r->until_ms = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? GF_OK : GF_EIO;
}

static enum gf_err row_put(struct ingest *ing, const char *key, const struct row *r)
{
	return gf_store_run(ing->store,
	                    "INSERT INTO ingest_sent (key, revision, digest, until_ms, at_ms) "
	                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
	                    "revision = excluded.revision, digest = excluded.digest, "
	                    "until_ms = excluded.until_ms, at_ms = excluded.at_ms",
	                    "tiiii", key, (int64_t)r->revision, (int64_t)r->digest, r->until_ms,
	                    (int64_t)(gf_agent_now(ing->a) * 1000.0));
}

/* gf_message_queue: a store failure stops the agent; a message the codec
 * refuses (it should not happen: the parsers keep the bus's ranges) is
 * logged and skipped. */
static enum gf_err queue(struct ingest *ing, const char *msg, const ProtobufCMessage *body,
                         const char *what, bool *sent)
{
	enum gf_err rc = gf_message_queue(ing->a, ing->store, "sp", "all", msg, body);

	*sent = rc == GF_OK;
	if (rc == GF_EIO || rc == GF_ENOMEM)
		return rc;
	if (rc != GF_OK)
		gf_log_err("GF-INGEST-ENCODE", "%s for %s not sent: %s", msg, what,
		           gf_strerror(rc));
	return GF_OK;
}

/* --- prices ------------------------------------------------------------------------ */

struct prices {
	struct ingest *ing;
	const struct ingest_a44 *d;
	struct ingest_publish_count *c;
};

static uint64_t period_digest(const struct ingest_a44_period *p)
{
	uint64_t h = gf_fnv1a64(GF_FNV1A64_BASIS, &p->resolution_s, sizeof(p->resolution_s));

	h = gf_fnv1a64(h, &p->start_ms, sizeof(p->start_ms));
	return gf_fnv1a64(h, p->price, p->n * sizeof(double));
}

static enum gf_err prices_txn(void *arg)
{
	struct prices *w = arg;
	struct ingest *ing = w->ing;
	const char *area =
	    ing->conf->entsoe_area_name ? ing->conf->entsoe_area_name : ing->conf->entsoe_area;
	char issued[GF_TIME_BUFSIZE] = "", source[96];
	enum gf_err rc;

	if (w->d->created_ms)
		gf_time_format(w->d->created_ms, issued, sizeof(issued));
	snprintf(source, sizeof(source), "ENTSO-E Transparency Platform A44 revision %ld",
	         w->d->revision);
	for (size_t i = 0; i < w->d->n; i++) {
		const struct ingest_a44_period *p = &w->d->periods[i];
		Goflex__PriceSeries ps = GOFLEX__PRICE_SERIES__INIT;
		char key[160], start[GF_TIME_BUFSIZE];
		uint64_t digest = period_digest(p);
		struct row r;
		bool sent;

		snprintf(key, sizeof(key), "price|%s|%" PRId64 "|%u", area, p->start_ms,
		         p->resolution_s);
		gf_time_format(p->start_ms, start, sizeof(start));
		if ((rc = row_get(ing, key, &r)) != GF_OK)
			return rc;
		if (r.found &&
		    !ingest_a44_supersedes(r.revision, r.digest, w->d->revision, digest)) {
			if (w->d->revision < r.revision) {
				w->c->older++;
				gf_log_notice(
				    "GF-INGEST-REVISION-OLD",
				    "prices %s from %s: revision %ld is older than the %ld sent; "
				    "kept",
				    area, start, w->d->revision, r.revision);
			} else {
				w->c->unchanged++;
			}
			continue;
		}
		ps.area = (char *)area;
		ps.currency = (char *)"EUR";
		ps.resolution = p->resolution_s;
		ps.starttime = start;
		ps.n_prices = p->n;
		ps.prices = p->price;
		ps.issuedtime = issued[0] ? issued : NULL;
		ps.source = source;
		if ((rc = queue(ing, "price.dayahead", &ps.base, key, &sent)) != GF_OK)
			return rc;
		if (!sent)
			continue;
		if (r.found)
			gf_log_notice("GF-INGEST-REVISION",
			              "prices %s from %s: revision %ld replaces revision %ld", area,
			              start, w->d->revision, r.revision);
		r.revision = w->d->revision;
		r.digest = digest;
		if ((rc = row_put(ing, key, &r)) != GF_OK)
			return rc;
		w->c->sent++;
	}
	return GF_OK;
}

enum gf_err ingest_publish_prices(struct ingest *ing, const struct ingest_a44 *d,
                                  struct ingest_publish_count *count)
{
	struct prices w = {ing, d, count};

	return gf_store_once(ing->a, ing->store, NULL, prices_txn, NULL, &w);
}

/* --- weather ----------------------------------------------------------------------- */

struct weather {
	struct ingest *ing;
	const struct ingest_source *src;
	const struct ingest_om *m;
	int64_t now_ms;
	struct ingest_publish_count *c;
};

/* One message for intervals [from, to) of b with the variables in vars. */
static enum gf_err series(struct weather *w, const struct ingest_om_block *b, size_t from,
                          size_t to, unsigned vars, bool forecast)
{
	Goflex__WeatherSeries ws = GOFLEX__WEATHER_SERIES__INIT;
	Goflex__Location loc = GOFLEX__LOCATION__INIT;
	char start[GF_TIME_BUFSIZE], issued[GF_TIME_BUFSIZE], what[160];
	size_t n = to - from;
	struct {
		size_t *n;
		double **v;
	} f[INGEST_OM_NVARS] = {
	    [INGEST_OM_TEMPERATURE] = {&ws.n_temperature, &ws.temperature},
	    [INGEST_OM_HUMIDITY] = {&ws.n_relativehumidity, &ws.relativehumidity},
	    [INGEST_OM_WIND_SPEED] = {&ws.n_windspeed, &ws.windspeed},
	    [INGEST_OM_WIND_DIR] = {&ws.n_winddirection, &ws.winddirection},
	    [INGEST_OM_CLOUD] = {&ws.n_cloudcover, &ws.cloudcover},
	    [INGEST_OM_GHI] = {&ws.n_globalirradiance, &ws.globalirradiance},
	    [INGEST_OM_DNI] = {&ws.n_directirradiance, &ws.directirradiance},
	    [INGEST_OM_PRECIP] = {&ws.n_precipitation, &ws.precipitation},
	    [INGEST_OM_PRESSURE] = {&ws.n_pressure, &ws.pressure},
	};
	bool sent;
	enum gf_err rc;

	loc.gridpointid = w->src->grid_point[0] ? (char *)w->src->grid_point : NULL;
	loc.has_latitude = loc.has_longitude = true;
	loc.latitude = w->src->latitude;
	loc.longitude = w->src->longitude;
	ws.location = &loc;
	gf_time_format(b->start_ms + (int64_t)from * b->interval_s * 1000, start, sizeof(start));
	gf_time_format(w->now_ms - w->now_ms % 1000, issued, sizeof(issued));
	ws.starttime = start;
	ws.issuedtime = forecast ? issued : NULL;
	ws.intervallength = b->interval_s;
	ws.source = (char *)"Open-Meteo";
	for (int v = 0; v < INGEST_OM_NVARS; v++) {
		if (!(vars & (1u << v)))
			continue;
		*f[v].n = n;
		*f[v].v = b->v[v] + from;
	}
	snprintf(what, sizeof(what), "%s from %s, %zu x %u s", w->src->name, start, n,
	         b->interval_s);
	if ((rc = queue(w->ing, forecast ? "weather.forecast" : "weather.observation", &ws.base,
	                what, &sent)) != GF_OK)
		return rc;
	w->c->sent += sent;
	return GF_OK;
}

/* Every run of [from, to), cut at INGEST_PUBLISH_INTERVALS_MAX. */
static enum gf_err runs(struct weather *w, const struct ingest_om_block *b, size_t from, size_t to,
                        bool forecast)
{
	struct ingest_om_run r[64];
	size_t k, nr;
	enum gf_err rc;

	while (from < to) {
		nr = ingest_openmeteo_runs(b, from, to, r, 64);
		for (k = 0; k < nr && k < 64; k++) {
			for (size_t i = r[k].from; i < r[k].to; i += INGEST_PUBLISH_INTERVALS_MAX) {
				size_t j = i + INGEST_PUBLISH_INTERVALS_MAX < r[k].to
				               ? i + INGEST_PUBLISH_INTERVALS_MAX
				               : r[k].to;

				if ((rc = series(w, b, i, j, r[k].vars, forecast)) != GF_OK)
					return rc;
			}
		}
		/* More than 64 runs: go on after the last one written. */
		from = nr > 64 ? r[63].to : to;
	}
	return GF_OK;
}

static uint64_t block_digest(const struct ingest_om_block *b, size_t from, size_t to)
{
	int64_t start = b->start_ms + (int64_t)from * b->interval_s * 1000;
	uint64_t h = gf_fnv1a64(GF_FNV1A64_BASIS, &start, sizeof(start));

	for (int v = 0; v < INGEST_OM_NVARS; v++) {
		h = gf_fnv1a64(h, &v, sizeof(v));
		if (b->v[v] && to > from)
			h = gf_fnv1a64(h, b->v[v] + from, (to - from) * sizeof(double));
	}
	return gf_fnv1a64(h, &to, sizeof(to));
}

static enum gf_err weather_block(struct weather *w, const struct ingest_om_block *b)
{
	int64_t step = (int64_t)b->interval_s * 1000;
	int64_t ended = w->now_ms < b->start_ms ? 0 : (w->now_ms - b->start_ms) / step;
	size_t k = ended > (int64_t)b->n ? b->n : (size_t)ended, from = 0;
	char key[160];
	struct row r;
	uint64_t digest;
	size_t before = w->c->sent;
	enum gf_err rc;

	/* Observations: the intervals ended, each once. */
	snprintf(key, sizeof(key), "observation|%s|%u", w->src->name, b->interval_s);
	if ((rc = row_get(w->ing, key, &r)) != GF_OK)
		return rc;
	if (r.found && r.until_ms > b->start_ms)
		from = (size_t)((r.until_ms - b->start_ms + step - 1) / step);
	if (from < k) {
		if ((rc = runs(w, b, from, k, false)) != GF_OK)
			return rc;
		r.until_ms = b->start_ms + (int64_t)k * step;
		if ((rc = row_put(w->ing, key, &r)) != GF_OK)
			return rc;
	}
	/* The forecast: the rest, when it changed. */
	snprintf(key, sizeof(key), "forecast|%s|%u", w->src->name, b->interval_s);
	if (k >= b->n)
		return GF_OK;
	digest = block_digest(b, k, b->n);
	if ((rc = row_get(w->ing, key, &r)) != GF_OK)
		return rc;
	if (r.found && r.digest == digest) {
		w->c->unchanged++;
		return GF_OK;
	}
	if ((rc = runs(w, b, k, b->n, true)) != GF_OK)
		return rc;
	r.digest = digest;
	if (w->c->sent > before && (rc = row_put(w->ing, key, &r)) != GF_OK)
		return rc;
	return GF_OK;
}

static enum gf_err weather_txn(void *arg)
{
	struct weather *w = arg;
	enum gf_err rc;

	for (size_t i = 0; i < w->m->nblocks; i++)
		if ((rc = weather_block(w, &w->m->block[i])) != GF_OK)
			return rc;
	return GF_OK;
}

enum gf_err ingest_publish_weather(struct ingest *ing, const struct ingest_source *src,
                                   const struct ingest_om *m, int64_t now_ms,
                                   struct ingest_publish_count *count)
{
	struct weather w = {ing, src, m, now_ms, count};

	return gf_store_once(ing->a, ing->store, NULL, weather_txn, NULL, &w);
}

void ingest_publish_flush(struct ingest *ing)
{
	struct gf_bus *bus = gf_agent_bus(ing->a);

	if (gf_bus_connected(bus))
		gf_store_outbox_flush(ing->store, bus);
}
