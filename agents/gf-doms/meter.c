/* SPDX-License-Identifier: MIT */
/*
 * gf-doms's metered data (docs/doms.md, "Metered data"): which meter is
 * which load of the feeder (meter_map), the subscription to the Service
 * Platform's metering (meter.subscribe, once), the meter.data it sends
 * (energy per interval per meter, kept in doms_meter, a correction
 * overwriting), and what a complete interval gives: the feeder's metered
 * total (doms_metered), whose grid state grid.c computes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/message.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "doms.h"
#include "meter.pb-c.h"

#define PSEUDONYM_MAX 64
#define SUB_KEY       "meter.subscribe"
#define LOAD_MAX      32

struct doms_meter {
	char id[PSEUDONYM_MAX + 1];
	char load[LOAD_MAX + 1];
};

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct doms_meter *)a)->id, ((const struct doms_meter *)b)->id);
}

/* A field of the map: 1 to max characters of [A-Za-z0-9._-]. */
static bool map_field(const char *s, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

enum gf_err doms_meter_load(struct doms *d)
{
	const char *path = d->conf->meter_map;
	FILE *f = fopen(path, "r");
	char line[512];
	long lineno = 0;
	size_t cap = 0;

	if (!f) {
		gf_log_err("GF-DOMS-CONFIG", "meter_map %s: cannot read it", path);
		return GF_ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		char *comma, *end;
		size_t ln, in;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#' ||
		    (lineno == 1 && strncmp(line, "load,", 5) == 0))
			continue;
		comma = strchr(line, ',');
		end = line + strlen(line);
		ln = comma ? (size_t)(comma - line) : 0;
		in = comma ? (size_t)(end - comma - 1) : 0;
		if (!comma || !map_field(line, ln, LOAD_MAX) ||
		    !map_field(comma + 1, in, PSEUDONYM_MAX)) {
			gf_log_err("GF-DOMS-CONFIG",
			           "meter_map %s:%ld: not 'load,pseudonym' (each 1 to %d/%d "
			           "characters of A-Z a-z 0-9 . _ -)",
			           path, lineno, LOAD_MAX, PSEUDONYM_MAX);
			fclose(f);
			return GF_EPARSE;
		}
		if (d->n_meters == cap) {
			size_t c2 = cap ? 2 * cap : 64;
			struct doms_meter *m = realloc(d->meters, c2 * sizeof(*m));
			if (!m) {
				fclose(f);
				return GF_ENOMEM;
			}
			d->meters = m;
			cap = c2;
		}
		snprintf(d->meters[d->n_meters].load, LOAD_MAX + 1, "%.*s", (int)ln, line);
		snprintf(d->meters[d->n_meters].id, PSEUDONYM_MAX + 1, "%s", comma + 1);
		d->n_meters++;
	}
	fclose(f);
	if (d->n_meters == 0) {
		gf_log_err("GF-DOMS-CONFIG", "meter_map %s: no meter", path);
		return GF_EINVAL;
	}
	qsort(d->meters, d->n_meters, sizeof(*d->meters), by_id);
	for (size_t i = 1; i < d->n_meters; i++) {
		if (strcmp(d->meters[i - 1].id, d->meters[i].id) == 0) {
			gf_log_err("GF-DOMS-CONFIG", "meter_map %s: a pseudonym twice", path);
			return GF_EINVAL;
		}
	}
	gf_log_info("GF-DOMS-METERS", "meter_map %s: %zu meters", path, d->n_meters);
	return GF_OK;
}

long doms_meter_find(const struct doms *d, const char *id)
{
	struct doms_meter key;
	const struct doms_meter *m;

	if (strlen(id) > PSEUDONYM_MAX)
		return -1;
	snprintf(key.id, sizeof(key.id), "%s", id);
	m = bsearch(&key, d->meters, d->n_meters, sizeof(*d->meters), by_id);
	return m ? (long)(m - d->meters) : -1;
}

const char *doms_meter_load_name(const struct doms *d, size_t i)
{
	return d->meters[i].load;
}

/* --- the subscription -------------------------------------------------- */

struct subscribe {
	struct doms *d;
	int64_t from; /* interval */
};

static enum gf_err queue_subscribe(void *arg)
{
	const struct subscribe *s = arg;
	struct doms *d = s->d;
	Goflex__MeterSubscribe ms = GOFLEX__METER_SUBSCRIBE__INIT;
	char **ids = calloc(d->n_meters, sizeof(*ids)), from[GF_TIME_BUFSIZE], sub[128];
	enum gf_err rc;

	if (!ids)
		return GF_ENOMEM;
	for (size_t i = 0; i < d->n_meters; i++)
		ids[i] = d->meters[i].id;
	rc = gf_time_format(s->from * GF_TIME_INTERVAL_S * 1000, from, sizeof(from));
	if (rc == GF_OK) {
		snprintf(sub, sizeof(sub), "%s-meters", d->conf->grid_point_id);
		ms.subscriptionid = sub;
		ms.n_deviceids = d->n_meters;
		ms.deviceids = ids;
		ms.has_intervallength = true;
		ms.intervallength = GF_TIME_INTERVAL_S;
		ms.historyfromtime = from;
		/* Sent again (resend_s) until the first meter.data: an SP that
		 * has never connected has no session the broker could keep it
		 * in. */
		rc = gf_resend_queue(d->a, d->store, SUB_KEY, NULL, "sp", d->conf->sp_id,
		                     "meter.subscribe", &ms.base);
	}
	free(ids);
	return rc;
}

enum gf_err doms_meter_subscribe(struct doms *d)
{
	int64_t now = gf_time_interval((int64_t)(gf_agent_now(d->a) * 1000.0));
	struct subscribe s = {.d = d,
	                      .from = now - now % GF_LOADPROFILE_INTERVALS -
	                              d->conf->history_days * GF_LOADPROFILE_INTERVALS};
	uint64_t h = GF_FNV1A64_BASIS;
	char key[160];
	enum gf_err rc;

	/* Once per meter set and SP: a restart does not subscribe again (the
	 * subscription is durable at the SP), a new meter_map does. */
	for (size_t i = 0; i < d->n_meters; i++)
		h = gf_fnv1a64(h, d->meters[i].id, strlen(d->meters[i].id) + 1);
	h = gf_fnv1a64(h, d->conf->sp_id, strlen(d->conf->sp_id));
	snprintf(key, sizeof(key), "subscribe:%016llx", (unsigned long long)h);
	if (gf_store_seen(d->store, key))
		return GF_OK;
	rc = gf_store_once(d->a, d->store, key, queue_subscribe, NULL, &s);
	if (rc == GF_OK) {
		gf_log_notice("GF-DOMS-SUBSCRIBE",
		              "meter.subscribe to sp.%s: %zu meters, history from interval %lld",
		              d->conf->sp_id, d->n_meters, (long long)s.from);
		gf_store_outbox_flush(d->store, gf_agent_bus(d->a));
	}
	return rc;
}

/* --- meter.data ------------------------------------------------------- */

struct take {
	struct doms *d;
	const Goflex__MeterReadings *mr;
	size_t kept, unknown;
	int64_t lo, hi; /* intervals touched */
};

/* Intervals [lo, hi] whose every meter is in: the feeder's total, once
 * (or again when a correction changes it); their grid state is to be
 * computed (again): grid.c does it for every interval without one. */
static enum gf_err complete(struct doms *d, int64_t lo, int64_t hi)
{
	sqlite3_stmt *st;
	enum gf_err rc = GF_OK;

	if (lo > hi)
		return GF_OK;
	st = gf_store_prepare(d->store,
	                      "SELECT interval, count(*), sum(kwh) FROM doms_meter WHERE interval"
	                      " BETWEEN ?1 AND ?2 GROUP BY interval ORDER BY interval");
	if (!st)
		return GF_EIO;
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	while (rc == GF_OK && sqlite3_step(st) == SQLITE_ROW) {
		int64_t j = sqlite3_column_int64(st, 0);
		size_t n = (size_t)sqlite3_column_int64(st, 1);
		double kwh = sqlite3_column_double(st, 2);

		if (n < d->n_meters)
			continue;
		rc = gf_store_run(
		    d->store,
		    "INSERT INTO doms_metered (grid, interval, kwh, meters) VALUES (?1,"
		    " ?2, ?3, ?4) ON CONFLICT (grid, interval) DO UPDATE SET kwh = ?3",
		    "tidi", d->conf->grid_point_id, j, kwh, (int64_t)n);
		if (rc == GF_OK)
			rc = gf_store_run(d->store,
			                  "DELETE FROM doms_state WHERE grid = ?1 AND"
			                  " interval = ?2",
			                  "ti", d->conf->grid_point_id, j);
	}
	sqlite3_finalize(st);
	return rc;
}

static enum gf_err take_readings(void *arg)
{
	struct take *t = arg;
	sqlite3_stmt *st = gf_store_prepare(
	    t->d->store,
	    "INSERT OR REPLACE INTO doms_meter (meter, interval, kwh) VALUES (?1, ?2, ?3)");
	enum gf_err rc = st ? GF_OK : GF_EIO;

	for (size_t i = 0; rc == GF_OK && i < t->mr->n_readings; i++) {
		const Goflex__MeterReading *r = t->mr->readings[i];
		int64_t ms;
		long k = doms_meter_find(t->d, r->deviceid);

		/* Energy per interval, stamped with the interval's end. */
		if (k < 0 ||
		    gf_time_parse(r->observedtimestamp, strlen(r->observedtimestamp), &ms) !=
		        GF_OK ||
		    (r->unit && strcmp(r->unit, "kWh") != 0)) {
			t->unknown++;
			continue;
		}
		int64_t j = gf_time_interval(ms - 1);
		sqlite3_bind_text(st, 1, t->d->meters[k].id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, j);
		sqlite3_bind_double(st, 3, r->value);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = GF_EIO;
		sqlite3_reset(st);
		t->kept++;
		t->lo = j < t->lo ? j : t->lo;
		t->hi = j > t->hi ? j : t->hi;
	}
	sqlite3_finalize(st);
	if (rc == GF_OK)
		rc = gf_resend_answered(t->d->store, SUB_KEY, NULL, NULL);
	return rc == GF_OK ? complete(t->d, t->lo, t->hi) : rc;
}

void doms_meter_take(struct doms *d, const struct gf_inbox_item *item, const struct gf_message *m)
{
	struct take t = {
	    .d = d, .mr = (const Goflex__MeterReadings *)m->body, .lo = INT64_MAX, .hi = INT64_MIN};
	char key[128];

	if (!d->conf->sp_id || strcmp(m->from_id, d->conf->sp_id) != 0) {
		gf_log_warning("GF-DOMS-IGNORED", "meter.data from sp.%s, not sp.%s", m->from_id,
		               d->conf->sp_id ? d->conf->sp_id : "(none: no sp_id)");
		return;
	}
	snprintf(key, sizeof(key), "data:%llu", (unsigned long long)item->seq);
	if (gf_store_once(d->a, d->store, key, take_readings, NULL, &t) != GF_OK)
		return;
	gf_log_info("GF-DOMS-METERED", "meter.data: %zu readings kept, %zu not of meter_map",
	            t.kept, t.unknown);
}

int64_t doms_meter_latest(const struct doms *d)
{
	sqlite3_stmt *st =
	    gf_store_prepare(d->store, "SELECT max(interval) FROM doms_metered WHERE grid = ?1");
	int64_t j = -1;

	if (st) {
		sqlite3_bind_text(st, 1, d->conf->grid_point_id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			j = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return j;
}

/* --- forecast from the history ------------------------------------------ */

enum gf_err doms_meter_forecast(const struct doms *d, int64_t from, size_t n, double *feeder,
                                double *per_meter)
{
	sqlite3_stmt *st = gf_store_prepare(
	    d->store, "SELECT meter, avg(kwh) FROM doms_meter WHERE interval % 96 = ?1 AND interval"
	              " >= ?2 AND interval < ?3 GROUP BY meter");
	enum gf_err rc = st ? GF_OK : GF_EIO;

	for (size_t t = 0; rc == GF_OK && t < n; t++) {
		int64_t i = from + (int64_t)t, day = i - i % GF_LOADPROFILE_INTERVALS;

		/* The same interval of the day on the history_days days before
		 * interval i's day, those that have it. */
		feeder[t] = 0;
		if (per_meter)
			memset(per_meter + t * d->n_meters, 0, d->n_meters * sizeof(*per_meter));
		sqlite3_bind_int64(st, 1, i % GF_LOADPROFILE_INTERVALS);
		sqlite3_bind_int64(st, 2, day - d->conf->history_days * GF_LOADPROFILE_INTERVALS);
		sqlite3_bind_int64(st, 3, day);
		while (sqlite3_step(st) == SQLITE_ROW) {
			long k = doms_meter_find(d, gf_store_text(st, 0));
			double v = sqlite3_column_double(st, 1);

			feeder[t] += v;
			if (per_meter && k >= 0)
				per_meter[t * d->n_meters + (size_t)k] = v;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

size_t doms_meter_history_days(const struct doms *d, int64_t day)
{
	sqlite3_stmt *st = gf_store_prepare(
	    d->store,
	    "SELECT count(DISTINCT interval / 96) FROM doms_meter WHERE interval >= ?1 AND"
	    " interval < ?2");
	size_t n = 0;

	if (st) {
		sqlite3_bind_int64(st, 1, day - d->conf->history_days * GF_LOADPROFILE_INTERVALS);
		sqlite3_bind_int64(st, 2, day);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = (size_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return n;
}
