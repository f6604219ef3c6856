/* SPDX-License-Identifier: MIT */
/*
 * plug.c - gf-foa's plug mode, the plug side (plugmode.h, docs/foa.md "plug
 * mode"): the prosumer's own MQTT broker, the meter, the model, the
 * interval boundary (which also runs plugoffer.c's offer rounds).
 *
 * The relay (relay.c, which follows foa_plug_cmd) is commanded from here at
 * every interval boundary whatever it was (QoS 1; the plug's broker is not
 * durable and the plug may have been power-cycled), when the broker
 * connection comes back, and whenever the plug reports a state other than
 * the one commanded (a lost command, a button pressed:
 * GF-FOA-PLUG-RECOMMAND).
 *
 * The meter: the plug's energy counter as last seen at each interval
 * boundary (foa_plug_snap); the difference to the previous snapshot is the
 * energy of the intervals in between (split evenly when telemetry was
 * missing at a boundary; a counter that went down restarted at 0, as a
 * Shelly's does on reboot). Each closed interval is a row of foa_plug_meter
 * and a meter.reading to FMAN, in one transaction, so a reading is sent
 * once whatever is killed when. The counter's resolution in time is the
 * plug's telemetry period: energy taken between the last telemetry and a
 * boundary is counted in the next interval.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/credentials.h"
#include "agent/message.h"
#include "agent/once.h"
#include "base/log.h"
#include "meter.pb-c.h"
#include "plugmode.h"
#include "base/timefmt.h"

#define MODEL_GAP_MAX (14 * GF_DEVICE_DAY) /* intervals the model is stepped over at most */
#define READINGS_MAX  GF_DEVICE_DAY        /* intervals one meter.reading covers at most */
#define RECOMMAND_MAX 5                    /* re-commands per interval, at most */

static const char plug_schema[] =
    "CREATE TABLE IF NOT EXISTS foa_plug_meter (interval INTEGER PRIMARY KEY, kwh REAL NOT "
    "NULL);"
    "CREATE TABLE IF NOT EXISTS foa_plug_snap (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " interval INTEGER NOT NULL, total REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS foa_plug_model (id INTEGER PRIMARY KEY CHECK (id = 1),"
    " t REAL NOT NULL, temp REAL, soe REAL, connected INTEGER, depart_t REAL, soc REAL,"
    " run_start REAL);"
    "CREATE TABLE IF NOT EXISTS foa_plug_offer (offer_id TEXT PRIMARY KEY, start INTEGER NOT "
    "NULL, n INTEGER NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS foa_plug_cmd (interval INTEGER PRIMARY KEY, offer_id TEXT NOT "
    "NULL, assigned INTEGER NOT NULL, kwh REAL NOT NULL, on_s REAL NOT NULL);";

/* --- the plug's messages -------------------------------------------------------- */

static void on_reading(struct foa *f, const struct gf_plug_reading *r)
{
	struct foa_plug *p = f->plug;

	switch (r->kind) {
	case GF_PLUG_RELAY:
		p->reported = r->value > 0.5;
		if (p->commanded < 0 || p->reported == p->commanded)
			break;
		/* A plug that keeps refusing (a Shelly tripped by overpower, a
		 * relay held by hand) is not hammered: a few tries per
		 * interval, then the next boundary tries again. */
		if (++p->recommands > RECOMMAND_MAX) {
			if (p->recommands == RECOMMAND_MAX + 1)
				gf_log_warning("GF-FOA-PLUG-RECOMMAND",
				               "plug %s still reports %s after %d commands: "
				               "trying again at the next interval boundary",
				               p->c->device_id, p->reported ? "on" : "off",
				               RECOMMAND_MAX);
			break;
		}
		gf_log_notice("GF-FOA-PLUG-RECOMMAND",
		              "plug %s reports %s, commanded %s: commanding it again",
		              p->c->device_id, p->reported ? "on" : "off",
		              p->commanded ? "on" : "off");
		foa_relay_command(f, p->commanded == 1, "it reported the other state");
		break;
	case GF_PLUG_ENERGY:
		p->total = r->value;
		p->has_total = true;
		break;
	case GF_PLUG_POWER:
		break;
	}
}

static void on_local(struct gf_agent *a, void *arg)
{
	struct foa *f = arg;
	struct foa_plug *p = f->plug;
	struct gf_local_item it;
	struct gf_plug_msg msg;
	char err[256];

	(void)a;
	while (gf_local_take(p->local, &it)) {
		if (it.kind == GF_LOCAL_CONNECTED) {
			foa_relay_apply(f, true, "the plug's broker is back");
		} else if (it.kind == GF_LOCAL_MESSAGE) {
			enum gf_err rc =
			    gf_plug_parse(it.topic, it.payload, it.len, &msg, err, sizeof(err));
			if (rc == GF_OK && msg.conv == p->conv &&
			    strcmp(msg.device, p->c->device_id) == 0) {
				for (size_t i = 0; i < msg.count; i++)
					on_reading(f, &msg.reading[i]);
			} else if (rc != GF_OK && rc != GF_ENOENT) {
				/* The payload is the plug's own telemetry (no
				 * private flow): the reason is logged, not it. */
				gf_log_info("GF-FOA-PLUG-BAD", "plug %s: %s ignored: %s",
				            p->c->device_id, it.topic, err);
			}
		}
		gf_local_item_clear(&it);
	}
}

/* --- the meter ------------------------------------------------------------------ */

static enum gf_err send_readings(struct foa *f, int64_t from, int64_t to, double kwh_each)
{
	const char *device =
	    f->conf->meter_device_id ? f->conf->meter_device_id : f->plug->c->device_id;
	size_t n = (size_t)(to - from);
	Goflex__MeterReadings rs = GOFLEX__METER_READINGS__INIT;
	Goflex__MeterReading *r = calloc(n, sizeof(*r));
	Goflex__MeterReading **rp = calloc(n, sizeof(*rp));
	char(*times)[GF_TIME_BUFSIZE] = calloc(n, sizeof(*times));
	enum gf_err rc = GF_ENOMEM;

	if (!r || !rp || !times)
		goto out;
	for (size_t i = 0; i < n; i++) {
		goflex__meter_reading__init(&r[i]);
		rc = gf_time_format((from + (int64_t)i) * GF_TIME_INTERVAL_S * 1000, times[i],
		                    sizeof(times[i]));
		if (rc != GF_OK)
			goto out;
		r[i].observedtimestamp = times[i];
		r[i].deviceid = (char *)device;
		r[i].value =
		    kwh_each / FOA_PLUG_SLICE_H; /* the mean power, kW, as xEMS mode sends */
		r[i].unit = "kW";
		rp[i] = &r[i];
	}
	rs.n_readings = n;
	rs.readings = rp;
	rc = gf_message_queue(f->a, f->store, "fman", f->conf->fman_id, "meter.reading", &rs.base);
out:
	free(r);
	free(rp);
	free(times);
	return rc;
}

static enum gf_err snap_put(struct foa *f, int64_t iv, double total)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc = foa_state_sql(
	    f, "INSERT OR REPLACE INTO foa_plug_snap (id, interval, total) VALUES (1, ?1, ?2)",
	    &st);

	if (rc == GF_OK) {
		sqlite3_bind_int64(st, 1, iv);
		sqlite3_bind_double(st, 2, total);
		rc = foa_state_step(f, st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* At boundary j: the intervals since the last snapshot are closed with the
 * counter as last seen. */
static enum gf_err close_meter(struct foa *f, int64_t j)
{
	struct foa_plug *p = f->plug;
	sqlite3_stmt *st = NULL;
	int64_t from = 0;
	double total = 0, delta, each;
	bool found = false;
	enum gf_err rc;

	if (!p->has_total)
		return GF_OK; /* nothing seen since the start: the next boundary closes them */
	rc = foa_state_sql(f, "SELECT interval, total FROM foa_plug_snap WHERE id = 1", &st);
	if (rc != GF_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		from = sqlite3_column_int64(st, 0);
		total = sqlite3_column_double(st, 1);
		found = true;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (found && from >= j)
		return GF_OK;
	if (!found || j - from > READINGS_MAX) {
		/* The first snapshot, or the plug was away too long to spread
		 * its energy over the gap: metering starts here. */
		if (found)
			gf_log_notice("GF-FOA-PLUG-METER",
			              "plug %s: no counter for %lld intervals; metering restarts",
			              p->c->device_id, (long long)(j - from));
		return snap_put(f, j, p->total);
	}
	delta = p->total - total;
	if (delta < 0) {
		gf_log_notice("GF-FOA-PLUG-METER",
		              "plug %s: its counter went down: it restarted at 0", p->c->device_id);
		delta = p->total;
	}
	each = delta / (double)(j - from);
	rc = foa_state_sql(
	    f, "INSERT OR IGNORE INTO foa_plug_meter (interval, kwh) VALUES (?1, ?2)", &st);
	for (int64_t k = from; rc == GF_OK && k < j; k++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, k);
		sqlite3_bind_double(st, 2, each);
		rc = foa_state_step(f, st);
	}
	sqlite3_finalize(st);
	if (rc == GF_OK)
		rc = send_readings(f, from, j, each);
	if (rc == GF_OK)
		rc = snap_put(f, j, p->total);
	if (rc == GF_OK)
		/* Counts only: the readings are the prosumer's private data. */
		gf_log_info("GF-FOA-PLUG-METER",
		            "plug %s: interval(s) %lld..%lld metered, to fman.%s", p->c->device_id,
		            (long long)from, (long long)(j - 1), f->conf->fman_id);
	return rc;
}

/* --- the model ------------------------------------------------------------------ */

static enum gf_err model_save(struct foa *f)
{
	const struct gf_device *d = &f->plug->model;
	sqlite3_stmt *st = NULL;
	enum gf_err rc = foa_state_sql(
	    f,
	    "INSERT OR REPLACE INTO foa_plug_model (id, t, temp, soe, connected, depart_t, soc, "
	    "run_start) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    &st);

	if (rc == GF_OK) {
		sqlite3_bind_double(st, 1, d->t);
		sqlite3_bind_double(st, 2, d->temp);
		sqlite3_bind_double(st, 3, d->soe_kwh);
		sqlite3_bind_int(st, 4, d->connected);
		sqlite3_bind_double(st, 5, d->depart_t);
		sqlite3_bind_double(st, 6, d->soc);
		if (isnan(d->run_start))
			sqlite3_bind_null(st, 7);
		else
			sqlite3_bind_double(st, 7, d->run_start);
		rc = foa_state_step(f, st);
	}
	sqlite3_finalize(st);
	return rc;
}

/* The model as saved, else a fresh one at interval now. */
static enum gf_err model_load(struct foa *f, int64_t now, char *err, size_t errlen)
{
	struct foa_plug *p = f->plug;
	sqlite3_stmt *st = NULL;
	double t = (double)now * FOA_PLUG_SLICE_S;
	enum gf_err rc = foa_state_sql(
	    f, "SELECT t, temp, soe, connected, depart_t, soc, run_start FROM foa_plug_model", &st);
	bool found = false;

	if (rc != GF_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		t = sqlite3_column_double(st, 0);
		found = true;
	}
	rc = gf_devconf_device(&p->c->dev, t, &p->model, &p->switched_kw, err, errlen);
	if (rc == GF_OK && found) {
		/* The state the model had; the parameters are the file's. */
		p->model.temp = sqlite3_column_double(st, 1);
		p->model.soe_kwh = sqlite3_column_double(st, 2);
		p->model.connected = sqlite3_column_int(st, 3);
		p->model.depart_t = sqlite3_column_double(st, 4);
		p->model.soc = sqlite3_column_double(st, 5);
		p->model.run_start =
		    sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6);
	}
	sqlite3_finalize(st);
	if (rc == GF_OK)
		p->model_iv = gf_device_interval(&p->model);
	return rc;
}

/* Steps the model to boundary j with what was metered (else planned). */
static enum gf_err model_advance(struct foa *f, int64_t j)
{
	struct foa_plug *p = f->plug;
	sqlite3_stmt *st = NULL;
	char err[256];
	enum gf_err rc = GF_OK;

	if (p->model_iv >= j)
		return GF_OK;
	if (j - p->model_iv > MODEL_GAP_MAX) {
		gf_log_notice("GF-FOA-PLUG-MODEL",
		              "plug %s: model %lld intervals behind: started afresh",
		              p->c->device_id, (long long)(j - p->model_iv));
		rc = gf_devconf_device(&p->c->dev, (double)j * FOA_PLUG_SLICE_S, &p->model,
		                       &p->switched_kw, err, sizeof(err));
		p->model_iv = j;
		return rc == GF_OK ? model_save(f) : rc;
	}
	rc = foa_state_sql(f, "SELECT kwh FROM foa_plug_meter WHERE interval = ?1", &st);
	for (int64_t k = p->model_iv; rc == GF_OK && k < j; k++) {
		double kwh, got;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, k);
		if (sqlite3_step(st) == SQLITE_ROW)
			kwh = sqlite3_column_double(st, 0);
		else
			rc = foa_relay_planned(f, k, &kwh);
		if (rc == GF_OK && gf_device_step(&p->model, FOA_PLUG_SLICE_S,
		                                  kwh / FOA_PLUG_SLICE_H, &got) != GF_OK)
			rc = GF_EINVAL;
	}
	sqlite3_finalize(st);
	if (rc == GF_OK) {
		p->model_iv = j;
		rc = model_save(f);
	}
	return rc;
}

/* --- the interval boundary ------------------------------------------------------ */

static enum gf_err at_boundary(struct foa *f, int64_t j)
{
	enum gf_err rc = close_meter(f, j);

	if (rc == GF_OK)
		rc = model_advance(f, j);
	if (rc == GF_OK)
		rc = foa_plugoffer_at_boundary(f, j, !f->plug->rounds_started);
	return rc;
}

/* The boundary's work, for gf_store_once. */
struct boundary {
	struct foa *f;
	int64_t j;
};

static enum gf_err boundary_txn(void *arg)
{
	const struct boundary *b = arg;

	return at_boundary(b->f, b->j);
}

static void on_boundary(struct gf_agent *a, void *arg)
{
	struct foa *f = arg;
	struct boundary b = {f, (int64_t)floor(gf_agent_now(a) / FOA_PLUG_SLICE_S)};
	int64_t j = b.j;

	/* In one transaction; a failure of the store stops the FOA (what was
	 * not committed is done again after the restart). */
	if (gf_store_once(a, f->store, NULL, boundary_txn, NULL, &b) != GF_OK)
		return;
	(void)gf_store_outbox_flush(f->store, f->bus);
	f->plug->rounds_started = true;
	f->plug->recommands = 0;
	foa_relay_apply(f, true, "interval boundary");
	gf_agent_timer_at(a, (double)(j + 1) * FOA_PLUG_SLICE_S, on_boundary, f);
}

/* --- start and stop ------------------------------------------------------------- */

/* The user's constraints against the device: an offer of the device as
 * configured, which lib/devoffer refuses with GF_EINVAL for a comfort band
 * outside the device's limits and the like (GF_ERANGE, no offer now, is a
 * matter of the moment, not of the configuration). */
static enum gf_err check_user(struct foa_plug *p, const struct gf_device *probe, long horizon)
{
	double *s = malloc(3 * GF_DEVOFFER_MAX_SLICES * sizeof(double));
	char err[256] = "";
	struct gf_fo fo;
	enum gf_err rc = GF_ENOMEM;

	if (!s)
		return rc;
	rc = gf_devoffer_build(probe, &p->user, (int32_t)horizon, NULL, &fo, s,
	                       s + GF_DEVOFFER_MAX_SLICES, s + 2 * GF_DEVOFFER_MAX_SLICES,
	                       GF_DEVOFFER_MAX_SLICES, err, sizeof(err));
	free(s);
	if (rc == GF_EINVAL) {
		gf_log_err("GF-FOA-CONFIG", "the user's constraints: %s", err);
		return rc;
	}
	return GF_OK;
}

static enum gf_err check_conf(struct foa *f, const struct foa_plug_conf *c)
{
	struct foa_plug *p = f->plug;
	char err[256];
	struct gf_device probe;
	double kw;
	const char *why = NULL;

	if (!c->device_id)
		why = "plug_device is required in plug mode";
	else if (!gf_plug_device_valid(c->device_id))
		why = "plug_device must be 1..64 printable bytes without space, '/', '+', '#'";
	else if (strcmp(c->convention, "tasmota") != 0 && strcmp(c->convention, "shelly") != 0)
		why = "plug_convention must be tasmota or shelly";
	else if (c->offer_lead_s % GF_TIME_INTERVAL_S || c->deadline_lead_s % GF_TIME_INTERVAL_S ||
	         c->deadline_lead_s >= c->offer_lead_s)
		why = "offer_lead_s and deadline_lead_s must be whole intervals (900 s), "
		      "deadline_lead_s the smaller";
	else if ((c->comfort_min != 0 || c->comfort_max != 0) && c->comfort_min >= c->comfort_max)
		why = "comfort_min must be below comfort_max";
	if (why) {
		gf_log_err("GF-FOA-CONFIG", "%s", why);
		return GF_EINVAL;
	}
	if (gf_devconf_device(&c->dev, 0, &probe, &kw, err, sizeof(err)) != GF_OK) {
		gf_log_err("GF-FOA-CONFIG", "the device: %s", err);
		return GF_EINVAL;
	}
	p->conv = strcmp(c->convention, "tasmota") == 0 ? GF_PLUG_TASMOTA : GF_PLUG_SHELLY;
	gf_devoffer_user_init(&p->user);
	p->user.max_interruptions = (int32_t)c->max_interruptions;
	p->user.min_run_kwh = c->min_run_kwh;
	if (c->comfort_min != 0 || c->comfort_max != 0) {
		p->user.comfort_min = c->comfort_min;
		p->user.comfort_max = c->comfort_max;
	}
	if (!(c->allowed_from == 0 && c->allowed_to == GF_DEVICE_DAY) &&
	    (gf_devoffer_user_hours(&p->user, 0, GF_DEVICE_DAY, 0) != GF_OK ||
	     gf_devoffer_user_hours(&p->user, (int32_t)c->allowed_from, (int32_t)c->allowed_to,
	                            1) != GF_OK)) {
		gf_log_err("GF-FOA-CONFIG", "allowed_from..allowed_to is not a window of the day");
		return GF_EINVAL;
	}
	return check_user(p, &probe, c->horizon);
}

static enum gf_err open_local(struct foa *f)
{
	struct foa_plug *p = f->plug;
	const struct foa_plug_conf *c = p->c;
	char password[256] = "", err[512], client_id[GF_ID_MAX + 16], filter[GF_PLUG_ID_MAX + 64];
	struct gf_local_opts o = {.name = "plug broker",
	                          .host = c->host,
	                          .port = (int)c->port,
	                          .client_id = client_id,
	                          .username = c->username,
	                          .mqtt_version = (int)c->mqtt_version};
	/* What lib/devices/plug.h parses: relay state and telemetry, prefix and suffix
	 * around the device's topic/id. */
	static const char *const topics[2][3][2] = {
	    {{"stat/", "/POWER"}, {"tele/", "/STATE"}, {"tele/", "/SENSOR"}},
	    {{"shellies/", "/relay/0"},
	     {"shellies/", "/relay/0/power"},
	     {"shellies/", "/relay/0/energy"}},
	};
	enum gf_err rc = GF_OK;

	snprintf(client_id, sizeof(client_id), "gf-foa-%s", f->id);
	if (c->username) {
		rc = gf_cred_password(c->password_file, "plug_password_file", "GF_PLUG_PASSWORD",
		                      password, sizeof(password), err, sizeof(err));
		if (rc != GF_OK) {
			gf_log_err("GF-FOA-CONFIG", "plug broker: %s", err);
			return rc;
		}
		o.password = password;
	}
	rc = gf_local_open(&o, &p->local, err, sizeof(err));
	memset(password, 0, sizeof(password));
	if (rc != GF_OK) {
		gf_log_err("GF-FOA-CONFIG", "plug broker: %s", err);
		return rc;
	}
	for (int i = 0; i < 3 && rc == GF_OK; i++) {
		const char *const *t = topics[p->conv == GF_PLUG_TASMOTA ? 0 : 1][i];
		snprintf(filter, sizeof(filter), "%s%s%s", t[0], c->device_id, t[1]);
		rc = gf_local_subscribe(p->local, filter);
	}
	if (rc == GF_OK)
		rc = gf_agent_watch(f->a, gf_local_fd(p->local), on_local, f);
	if (rc == GF_OK)
		(void)gf_local_connect(p->local); /* a failure retries by itself */
	return rc;
}

static enum gf_err load(struct foa *f, int64_t now)
{
	char err[256];
	enum gf_err rc = model_load(f, now, err, sizeof(err));

	if (rc == GF_EINVAL)
		gf_log_err("GF-FOA-CONFIG", "the device: %s", err);
	if (rc == GF_OK && f->plug->model_iv == now)
		rc = model_save(f);
	return rc;
}

static enum gf_err load_txn(void *arg)
{
	const struct boundary *b = arg;

	return load(b->f, b->j);
}

enum gf_err foa_plug_start(struct foa *f)
{
	int64_t now = foa_state_now_interval(f);
	enum gf_err rc = GF_ENOMEM;

	f->plug = calloc(1, sizeof(*f->plug));
	if (!f->plug)
		return rc;
	f->plug->c = &f->conf->plug;
	f->plug->reported = f->plug->commanded = -1;
	rc = check_conf(f, f->plug->c);
	if (rc == GF_OK)
		rc = gf_store_exec(f->store, plug_schema);
	if (rc == GF_OK)
		rc =
		    gf_store_once(f->a, f->store, NULL, load_txn, NULL, &(struct boundary){f, now});
	if (rc == GF_OK)
		rc = open_local(f);
	if (rc != GF_OK)
		return rc;
	gf_log_notice("GF-FOA-PLUG", "plug %s (%s) on %s:%ld, a %s device of %.3g kW",
	              f->plug->c->device_id, f->plug->c->convention, f->plug->c->host,
	              f->plug->c->port, f->plug->c->dev.device, f->plug->switched_kw);
	/* The first boundary is now: meter, model, the first offer round. */
	gf_agent_timer_at(f->a, gf_agent_now(f->a), on_boundary, f);
	return GF_OK;
}

void foa_plug_stop(struct foa *f)
{
	if (!f || !f->plug)
		return;
	gf_local_close(f->plug->local, 1000);
	free(f->plug);
	f->plug = NULL;
}
