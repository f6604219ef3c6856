/* SPDX-License-Identifier: MIT */
/*
 * gf-sp - the Service Platform's metering store (issue 12, docs/sp.md): the
 * DSO's sealed meter readings and grid topologies in (dms -> sp, anon),
 * kept in SQLite or PostgreSQL; meter.query answered for FMAN and FMAR,
 * meter.subscribe from the DOMS served with meter.data; grid point sums
 * only over at least k_min meters; readings older than retention_days
 * deleted hourly on the agent's clock. And the services (docs/sp.md,
 * "Services"): external prices and weather stored and passed on, their
 * queries, transfer cost, capacity price, energy forecasts, key/value.
 *
 * This file: the configuration table, start (keys, stores, subscriptions,
 * timers), the dispatch of messages by type and sender role, reloads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timefmt.h"
#include "bus/ident.h"
#include "energy.h"
#include "sp.h"

#define C(m)               offsetof(struct sp_conf, m)
#define RETENTION_EVERY_MS 3600000

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct sp_conf, agent),
    {"store", GF_CONF_STRING, C(store), NULL, 0, 0, false,
     "the metering store: sqlite:<path> (default sqlite:<state_dir>/sp-meter.db, WAL) or "
     "postgresql:<conninfo> (libpq)"},
    {"key_dir", GF_CONF_STRING, C(key_dir), NULL, 0, 0, true,
     "directory of the private keys that open sealed payloads: <kid>.pem each, mode 0600 or "
     "stricter; SIGHUP reads it again"},
    {"k_min", GF_CONF_INT, C(k_min), "5", 1, 1000000, false,
     "fewest meters a grid point's sum is given over"},
    {"retention_days", GF_CONF_INT, C(retention_days), "400", 1, 36500, false,
     "readings observed more than this many days before the agent's clock are deleted "
     "(hourly)"},
    {"grid_wait_s", GF_CONF_INT, C(grid_wait_s), "900", 0, 7 * 86400, false,
     "simulated seconds after an interval's end that a grid point's sum waits for all its "
     "meters, before it is sent over the k_min or more that reported"},
    {"query_max", GF_CONF_INT, C(query_max), "10000", 1, 12000, false,
     "most readings in one meter.query.result (the broker takes 2 MiB for it)"},
    {"pseudonyms_only", GF_CONF_BOOL, C(pseudonyms_only), "on", 0, 0, false,
     "refuse meter ids that are not pseudonyms (43 characters of base64url)"},
    {"baseline_x", GF_CONF_INT, C(baseline_x), "10", 1, GF_BASELINE_MAX_Y, false,
     "validation.query's characteristic curve: the X days of the Y averaged (those with the "
     "most energy in the window)"},
    {"baseline_y", GF_CONF_INT, C(baseline_y), "10", 1, GF_BASELINE_MAX_Y, false,
     "... of the Y most recent complete days of metered history (fewer: what there is)"},
    {"baseline_days", GF_CONF_INT, C(baseline_days), "20", 1, 366, false,
     "... looked for among this many days before the event day"},
    {"baseline_adjust", GF_CONF_STRING, C(baseline_adjust), "mult", 0, 0, false,
     "... day-of adjustment from the event day's own metering before the window: mult "
     "(ratio, capped 0.8..1.2), add (difference) or none"},
    {"baseline_adj_len", GF_CONF_INT, C(baseline_adj_len), "4", 1, 95, false,
     "... over this many intervals"},
    {"baseline_adj_gap", GF_CONF_INT, C(baseline_adj_gap), "1", 0, 94, false,
     "... ending this many intervals before the window"},
    {"grid_file", GF_CONF_STRING, C(grid_file), NULL, 0, 0, false,
     "per grid point: the network tariff's time-of-use bands, the capacity price's "
     "parameters, the location (docs/sp.md, \"The grid file\"); SIGHUP reads it again"},
    {"reference_factor", GF_CONF_DOUBLE, C(reference_factor), "1", -100, 100, false,
     "price.reference = reference_factor x price.dayahead + reference_adder"},
    {"reference_adder", GF_CONF_DOUBLE, C(reference_adder), "0", -100, 100, false,
     "... EUR/kWh (network-independent retail part: supplier margin, levies)"},
    {"weather_radius_km", GF_CONF_INT, C(weather_radius_km), "25", 0, 20000, false,
     "a weather query or forecast takes the nearest stored location within this distance"},
    {"forecast_days", GF_CONF_INT, C(forecast_days), "7", 1, 60, false,
     "energy.forecast and capacityprice: days of metered history averaged"},
    {"forecast_at_s", GF_CONF_INT, C(forecast_at_s), "43200", 0, 86399, false,
     "simulated second of the UTC day at which the next day's energy.forecast and "
     "transfercost go out and the capacity prices are computed again"},
    {"kv_key_file", GF_CONF_STRING, C(kv_key_file), NULL, 0, 0, false,
     "HMAC key (32 to 128 bytes, mode 0600) naming each xEMS's kv namespace by a pseudonym; "
     "absent: kv.put and kv.get are refused"},
    {"kv_reply_keys", GF_CONF_STRING, C(kv_reply_keys), NULL, 0, 0, false,
     "directory of <xems-id>.pem public keys (or certificates) kv.get.result is sealed to"},
    {"kv_max_keys", GF_CONF_INT, C(kv_max_keys), "1000", 1, 1000000, false,
     "most keys of one xEMS's namespace"},
    {"kv_max_bytes", GF_CONF_INT, C(kv_max_bytes), "1048576", 1024, 1073741824, false,
     "most bytes (keys, values, 16 per entry) of one xEMS's namespace"},
    {"kv_k_min", GF_CONF_INT, C(kv_k_min), "3", 1, 1000000, false,
     "fewest xEMS a bench/ key's mean is published over (kv.value)"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static struct sp SP;

/* The curve's keys that the table's bounds cannot check alone. */
static enum gf_err curve_conf(const struct sp_conf *c, enum gf_baseline_adjust *adjust, char *err,
                              size_t errlen)
{
	if (sp_validate_adjust(c->baseline_adjust, adjust) != GF_OK)
		return gf_err_set(err, errlen, GF_EINVAL, "baseline_adjust %s: none, mult or add",
		                  c->baseline_adjust);
	if (c->baseline_x > c->baseline_y)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "baseline_x %ld is more than baseline_y %ld", c->baseline_x,
		                  c->baseline_y);
	return GF_OK;
}

static enum gf_err check(void *conf, char *err, size_t errlen)
{
	struct sp_conf *c = conf;
	struct gf_gridtariff t;
	struct sp_kv *kv = NULL;
	enum gf_baseline_adjust adjust;
	enum gf_err rc = curve_conf(c, &adjust, err, errlen);

	if (rc == GF_OK && (rc = sp_tariff_load(c, &t, err, errlen)) == GF_OK)
		gf_gridtariff_free(&t);
	if (rc == GF_OK && (rc = sp_kv_open(&SP, c, &kv, err, errlen)) == GF_OK)
		sp_kv_free(kv);
	return rc;
}

/* The daily work of the services at forecast_at_s: the next day's
 * transfercost and energy.forecast, the capacity prices again. */
static void daily(struct gf_agent *a, void *arg)
{
	struct sp *sp = arg;
	int64_t now = sp_util_now_ms(sp), day = sp_energy_floor(now, 86400000);
	int64_t at = day + sp->conf->forecast_at_s * 1000;

	sp->daily_timer = 0;
	sp_tariff_publish(sp, day);
	sp_tariff_publish(sp, day + 86400000);
	sp_fcast_publish(sp, day + 86400000);
	sp_capacity_refresh(sp);
	if (at <= now)
		at += 86400000;
	sp->daily_timer = gf_agent_timer_at(a, (double)at / 1000.0, daily, sp);
}

/* Retention at every whole hour of the agent's clock (and at start):
 * readings observed before the hour retention_days ago are deleted, with
 * what the subscriptions kept of them. */
static void retention(struct gf_agent *a, void *arg)
{
	struct sp *sp = arg;
	int64_t hour = sp_energy_floor(sp_util_now_ms(sp), RETENTION_EVERY_MS);
	int64_t before = hour - (int64_t)sp->conf->retention_days * 86400000;
	char when[GF_TIME_BUFSIZE] = "?", err[512];
	uint64_t deleted = 0, stored = 0;

	if (sp_db_retain(sp->db, before, &deleted, err, sizeof(err)) != GF_OK) {
		gf_log_err("GF-SP-STORE", "retention: %s", err);
		gf_agent_fail(a, "the metering store failed");
		return;
	}
	if (sp_subs_retain(sp, before) != GF_OK || sp_extdata_retain(sp, before) != GF_OK)
		return;
	gf_time_format(before, when, sizeof(when));
	if (deleted)
		gf_log_notice("GF-SP-RETENTION", "deleted %llu readings observed before %s",
		              (unsigned long long)deleted, when);
	if (sp_db_count(sp->db, &stored, err, sizeof(err)) != GF_OK)
		gf_log_warning("GF-SP-STORE", "count: %s", err);
	gf_log_info("GF-SP-STATS",
	            "%llu readings stored; since start: %llu batches, %llu readings (%llu new), "
	            "%llu refused, %llu queries",
	            (unsigned long long)stored, (unsigned long long)sp->batches,
	            (unsigned long long)sp->readings, (unsigned long long)sp->added,
	            (unsigned long long)sp->refused, (unsigned long long)sp->queries);
	gf_agent_timer_at(a, (double)(hour + RETENTION_EVERY_MS) / 1000.0, retention, sp);
}

/* The services' messages (docs/sp.md, "Services"): true when m was one. */
static bool services(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m,
                     bool ext)
{
	const char *msg = m->msg;

	if (ext && strcmp(msg, "price.dayahead") == 0)
		sp_extdata_price(sp, item, m);
	else if (ext && strcmp(msg, "weather.forecast") == 0)
		sp_extdata_weather(sp, item, m, false);
	else if (ext && strcmp(msg, "weather.observation") == 0)
		sp_extdata_weather(sp, item, m, true);
	else if (!ext && strcmp(msg, "weather.query") == 0)
		sp_extquery_weather(sp, item, m);
	else if (!ext && strcmp(msg, "price.query") == 0)
		sp_extquery_price(sp, item, m);
	else if (!ext && strcmp(msg, "transfercost.query") == 0)
		sp_tariff_answer(sp, item, m);
	else if (!ext && strcmp(msg, "capacityprice.query") == 0)
		sp_capacity_answer(sp, item, m);
	else
		return false;
	return true;
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	struct sp *sp = gf_agent_data(a);
	struct gf_topic t;
	struct gf_message m;
	char msg[GF_MSG_MAX + 1], from[GF_ID_MAX + 1], err[512];

	if (gf_topic_parse(item->topic, &t, NULL) != GF_OK) {
		gf_log_warning("GF-SP-UNREADABLE", "ignoring a message on %s: not a goflex topic",
		               item->topic);
		return;
	}
	snprintf(msg, sizeof(msg), "%.*s", (int)t.msg.len, t.msg.p);
	snprintf(from, sizeof(from), "%.*s", (int)t.from_id.len, t.from_id.p);
	/* The anon rows carry sealed payloads the runtime cannot decode. */
	if (t.from_role == GF_ROLE_DMS && strcmp(msg, "meter.reading") == 0) {
		sp_ingest_reading(sp, item, from);
		return;
	}
	if (t.from_role == GF_ROLE_DMS && strcmp(msg, "grid.topology") == 0) {
		sp_ingest_topology(sp, item, from);
		return;
	}
	if (t.from_role == GF_ROLE_XEMS && strcmp(msg, "kv.put") == 0) {
		sp_kv_put(sp, item, from);
		return;
	}
	if (t.from_role == GF_ROLE_XEMS && strcmp(msg, "kv.get") == 0) {
		sp_kv_get(sp, item, from);
		return;
	}
	if (gf_message_read(item, &m, err, sizeof(err)) != GF_OK) {
		gf_log_warning("GF-SP-UNREADABLE", "ignoring %s from %s.%s: %s", msg,
		               gf_role_name(t.from_role), from, err);
		return;
	}
	if (t.from_role == GF_ROLE_EXT || t.from_role == GF_ROLE_FMAN ||
	    t.from_role == GF_ROLE_FMAR) {
		if (services(sp, item, &m, t.from_role == GF_ROLE_EXT)) {
			gf_message_free(&m);
			return;
		}
	}
	if ((t.from_role == GF_ROLE_FMAN || t.from_role == GF_ROLE_FMAR) &&
	    strcmp(msg, "meter.query") == 0)
		sp_query_answer(sp, item, &m);
	else if ((t.from_role == GF_ROLE_FMAN || t.from_role == GF_ROLE_FMAR) &&
	         strcmp(msg, "validation.query") == 0)
		sp_validate_answer(sp, item, &m);
	else if (t.from_role == GF_ROLE_DOMS && strcmp(msg, "meter.subscribe") == 0) {
		sp_subs_subscribe(sp, item, &m);
		sp_fcast_subscribe(sp, item, &m);
	} else
		gf_log_info("GF-SP-IGNORED", "%s from %s.%s: not handled", msg,
		            gf_role_name(t.from_role), from);
	gf_message_free(&m);
}

static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	if (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED)
		sp_util_flush(gf_agent_data(a));
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct sp_conf *c = conf;
	struct gf_bus *bus = gf_agent_bus(a);
	char spec[4200], filter[512], err[512] = "";
	uint64_t stored = 0;
	enum gf_err rc;

	SP.a = a;
	SP.conf = c;
	gf_agent_set_data(a, &SP);
	if ((rc = curve_conf(c, &SP.adjust, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-SP-CONFIG", "%s", err);
		return rc;
	}
	if ((rc = sp_ingest_keys(c->key_dir, &SP.ring, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-SP-KEYS", "%s", err);
		return rc;
	}
	if (c->store)
		snprintf(spec, sizeof(spec), "%s", c->store);
	else
		snprintf(spec, sizeof(spec), "sqlite:%s/sp-meter.db", c->agent.state_dir);
	if ((rc = sp_db_open(spec, &SP.db, err, sizeof(err))) != GF_OK ||
	    (rc = sp_db_count(SP.db, &stored, err, sizeof(err))) != GF_OK ||
	    (rc = sp_grids_load(&SP, err, sizeof(err))) != GF_OK) {
		/* err names the backend and its reason, not the conninfo. */
		gf_log_err("GF-SP-STORE", "%s", err);
		return rc;
	}
	rc = gf_store_open(c->agent.state_dir, "sp", NULL, &SP.store, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-SP-STORE", "%s", err);
		return rc;
	}
	if ((rc = sp_subs_start(&SP)) != GF_OK || (rc = sp_extdata_start(&SP)) != GF_OK ||
	    (rc = sp_fcast_start(&SP)) != GF_OK || (rc = sp_capacity_start(&SP)) != GF_OK ||
	    (rc = sp_kv_start(&SP)) != GF_OK)
		return rc;
	if ((rc = sp_tariff_load(c, &SP.tariff, err, sizeof(err))) != GF_OK ||
	    (rc = sp_kv_open(&SP, c, &SP.kv, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-SP-CONFIG", "%s", err);
		return rc;
	}
	/* Requests to this instance and to the pool. */
	snprintf(filter, sizeof(filter), "gf/%s/+/+/sp/%s/+", gf_bus_site(bus), gf_bus_id(bus));
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	snprintf(filter, sizeof(filter), "gf/%s/+/+/sp/all/+", gf_bus_site(bus));
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	gf_log_notice("GF-SP-START",
	              "sp.%s: %s store, %llu readings, %zu grid points, %zu keys; k_min %ld, "
	              "retention %ld days",
	              gf_bus_id(bus), sp_db_kind(SP.db), (unsigned long long)stored, SP.ngrids,
	              gf_seal_ring_count(SP.ring), c->k_min, c->retention_days);
	gf_log_notice("GF-SP-SERVICES",
	              "grid file: %zu bands, %zu capacity lines, %zu locations; kv store %s",
	              SP.tariff.nbands, SP.tariff.ncaps, SP.tariff.nlocs,
	              SP.kv ? "on" : "off (no kv_key_file)");
	retention(a, &SP);
	daily(a, &SP);
	return GF_OK;
}

/* SIGHUP: the keys read again; k_min, grid_wait_s, retention_days,
 * query_max and pseudonyms_only take effect; the store stays. */
static bool reload(struct gf_agent *a, void *old_conf, void *new_conf)
{
	struct sp *sp = gf_agent_data(a);
	struct sp_conf *o = old_conf, *n = new_conf;
	struct gf_seal_ring *ring = NULL;
	enum gf_baseline_adjust adjust;
	char err[512] = "";

	if (curve_conf(n, &adjust, err, sizeof(err)) != GF_OK) {
		gf_log_err("GF-SP-RELOAD", "SIGHUP: keeping the running configuration: %s", err);
		return false;
	}
	if ((o->store || n->store) && (!o->store || !n->store || strcmp(o->store, n->store) != 0))
		gf_log_warning("GF-SP-RELOAD", "store changes only at a restart");
	if (sp_ingest_keys(n->key_dir, &ring, err, sizeof(err)) != GF_OK) {
		gf_log_err("GF-SP-KEYS", "SIGHUP: keeping the running keys and configuration: %s",
		           err);
		return false;
	}
	{
		struct gf_gridtariff t;
		struct sp_kv *kv = NULL;

		if (sp_tariff_load(n, &t, err, sizeof(err)) != GF_OK ||
		    sp_kv_open(sp, n, &kv, err, sizeof(err)) != GF_OK) {
			gf_log_err("GF-SP-RELOAD", "SIGHUP: keeping the running configuration: %s",
			           err);
			gf_seal_ring_free(ring);
			return false;
		}
		gf_gridtariff_free(&sp->tariff);
		sp->tariff = t;
		sp_kv_free(sp->kv);
		sp->kv = kv;
	}
	gf_seal_ring_free(sp->ring);
	sp->ring = ring;
	free(n->store);
	n->store = o->store ? strdup(o->store) : NULL;
	sp->conf = n;
	sp->adjust = adjust;
	sp_subs_rearm(sp);
	/* The new tariff's days go out now; the daily time may have moved. */
	if (sp->daily_timer)
		gf_agent_timer_cancel(a, sp->daily_timer);
	daily(a, sp);
	gf_log_notice("GF-SP-RELOAD", "%zu keys; k_min %ld, retention %ld days, grid_wait_s %ld",
	              gf_seal_ring_count(ring), n->k_min, n->retention_days, n->grid_wait_s);
	return true;
}

static void stop(struct gf_agent *a)
{
	sp_util_flush(gf_agent_data(a));
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-sp",
	    .summary = "the Service Platform: sealed meter readings and topologies in, queries "
	               "and subscriptions answered; weather and prices stored and passed on, "
	               "transfer cost, capacity price, energy forecasts, the xEMS's key/value "
	               "store",
	    .version = "0.1.0",
	    .table = table,
	    .conf_size = sizeof(struct sp_conf),
	    .common_offset = offsetof(struct sp_conf, agent),
	    .check = check,
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .reload = reload,
	    .stop = stop,
	};
	int code = gf_agent_main(&def, argc, argv);

	sp_subs_free(&SP);
	sp_grids_free(&SP);
	sp_db_close(SP.db);
	gf_store_close(SP.store);
	gf_seal_ring_free(SP.ring);
	gf_gridtariff_free(&SP.tariff);
	sp_kv_free(SP.kv);
	return code;
}
