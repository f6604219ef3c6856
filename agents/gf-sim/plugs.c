/* SPDX-License-Identifier: MIT */
/*
 * plugs.c - simulated Tasmota and Shelly Gen1 plugs (plugs.h, docs/sim.md).
 *
 * A plug's device is stepped lazily: every event (a command, a telemetry
 * tick, an interval boundary) first steps it from where it was to now at
 * the power of the relay state it was in, in pieces cut at interval
 * boundaries so that each interval's energy is counted exactly.
 */
#include "plugs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/local.h"
#include "base/log.h"
#include "devices/plug.h"
#include "base/timefmt.h"

#define MAX_PLUGS 16

struct sim_plug {
	enum gf_plug_conv conv;
	char id[GF_PLUG_ID_MAX + 1];
	char cmd_topic[GF_PLUG_ID_MAX + 64];
	struct gf_device dev;
	double switched_kw;
	bool on;
	double t;         /* simulated seconds the device has been stepped to */
	double total_kwh; /* the plug's cumulative counter */
	double last_kw;   /* power of the last piece */
	int64_t iv;       /* the interval being counted */
	double iv_kwh, iv_on_s;
	long commands, dropped;
};

struct sim_plugs {
	struct gf_agent *a;
	const struct sim_plugs_conf *c;
	struct gf_local *local;
	struct sim_plug p[MAX_PLUGS];
	size_t n;
	FILE *csv;
};

static const char *conv_name(enum gf_plug_conv c)
{
	return c == GF_PLUG_TASMOTA ? "tasmota" : "shelly";
}

/* Writes the interval that ended and starts the next. */
static void close_interval(struct sim_plugs *s, struct sim_plug *p)
{
	if (s->csv) {
		fprintf(s->csv, "%lld,%s,%s,%.6f,%.1f,%.6f\n", (long long)p->iv, p->id,
		        conv_name(p->conv), p->iv_kwh, p->iv_on_s, p->total_kwh);
		fflush(s->csv);
	}
	p->iv++;
	p->iv_kwh = 0;
	p->iv_on_s = 0;
}

/* Steps p's device from p->t to now at the relay's power. */
static void advance(struct sim_plugs *s, struct sim_plug *p, double now)
{
	while (p->t < now - 1e-9) {
		double boundary = (double)(p->iv + 1) * GF_TIME_INTERVAL_S;
		double end = now < boundary ? now : boundary, got = 0, dt = end - p->t;

		if (dt > 1e-9 &&
		    gf_device_step(&p->dev, dt, p->on ? p->switched_kw : 0, &got) == GF_OK) {
			p->iv_kwh += got;
			p->total_kwh += got > 0 ? got : 0;
			p->last_kw = got / (dt / 3600.0);
			if (p->on)
				p->iv_on_s += dt;
		}
		p->t = end;
		if (end >= boundary - 1e-9)
			close_interval(s, p);
	}
}

static void publish(struct sim_plugs *s, const char *topic, const char *payload)
{
	/* Telemetry is QoS 0 as on the real plugs; while the broker is away
	 * it is lost, and the next period says it again. */
	(void)gf_local_publish(s->local, topic, payload, strlen(payload), 0);
}

/* The relay state (after a command, and with the telemetry). */
static void publish_state(struct sim_plugs *s, struct sim_plug *p, bool with_tele)
{
	char topic[GF_PLUG_ID_MAX + 64], payload[256];

	if (p->conv == GF_PLUG_TASMOTA) {
		snprintf(topic, sizeof(topic), "stat/%s/POWER", p->id);
		publish(s, topic, p->on ? "ON" : "OFF");
		if (!with_tele)
			return;
		snprintf(topic, sizeof(topic), "tele/%s/STATE", p->id);
		snprintf(payload, sizeof(payload), "{\"POWER\":\"%s\"}", p->on ? "ON" : "OFF");
		publish(s, topic, payload);
		snprintf(topic, sizeof(topic), "tele/%s/SENSOR", p->id);
		snprintf(payload, sizeof(payload),
		         "{\"ENERGY\":{\"Total\":%.5f,\"Power\":%.0f,\"Voltage\":230}}",
		         p->total_kwh, p->last_kw > 0 ? p->last_kw * 1000.0 : 0.0);
		publish(s, topic, payload);
	} else {
		snprintf(topic, sizeof(topic), "shellies/%s/relay/0", p->id);
		publish(s, topic, p->on ? "on" : "off");
		if (!with_tele)
			return;
		snprintf(topic, sizeof(topic), "shellies/%s/relay/0/power", p->id);
		snprintf(payload, sizeof(payload), "%.2f",
		         p->last_kw > 0 ? p->last_kw * 1000.0 : 0.0);
		publish(s, topic, payload);
		/* Watt-minutes, whole (the real plug's resolution). */
		snprintf(topic, sizeof(topic), "shellies/%s/relay/0/energy", p->id);
		snprintf(payload, sizeof(payload), "%.0f", floor(p->total_kwh * 60000.0));
		publish(s, topic, payload);
	}
}

static void tele(struct gf_agent *a, void *arg)
{
	struct sim_plugs *s = arg;
	double now = gf_agent_now(a);

	for (size_t i = 0; i < s->n; i++) {
		advance(s, &s->p[i], now);
		publish_state(s, &s->p[i], true);
	}
	gf_agent_timer_at(a, now + (double)s->c->tele_s, tele, s);
}

/* At every interval boundary: count the interval that ended. */
static void boundary(struct gf_agent *a, void *arg)
{
	struct sim_plugs *s = arg;
	double now = gf_agent_now(a);

	for (size_t i = 0; i < s->n; i++)
		advance(s, &s->p[i], now);
	gf_agent_timer_at(a, (floor(now / GF_TIME_INTERVAL_S) + 1) * GF_TIME_INTERVAL_S, boundary,
	                  s);
}

/* ON/OFF (Tasmota: also 1/0, TOGGLE), on/off/toggle (Shelly). */
static int parse_command(const char *payload, bool current)
{
	if (strcasecmp(payload, "on") == 0 || strcmp(payload, "1") == 0)
		return 1;
	if (strcasecmp(payload, "off") == 0 || strcmp(payload, "0") == 0)
		return 0;
	if (strcasecmp(payload, "toggle") == 0 || strcmp(payload, "2") == 0)
		return !current;
	return -1;
}

static void on_command(struct sim_plugs *s, struct sim_plug *p, const struct gf_local_item *it)
{
	double now = gf_agent_now(s->a);
	int want = parse_command(it->payload, p->on);

	if (want < 0) {
		gf_log_warning("GF-SIM-PLUG", "plug %s: command '%.16s' is not on/off: ignored",
		               p->id, (const char *)it->payload);
		return;
	}
	p->commands++;
	if (p->commands <= s->c->drop_commands) {
		p->dropped++;
		gf_log_notice("GF-SIM-PLUG-DROP", "plug %s: ignoring command %ld (%s) as told",
		              p->id, p->commands, want ? "on" : "off");
		return;
	}
	advance(s, p, now);
	if (p->on != (want == 1))
		gf_log_info("GF-SIM-PLUG", "plug %s switched %s at %.0f s into interval %lld",
		            p->id, want ? "on" : "off", now - (double)p->iv * GF_TIME_INTERVAL_S,
		            (long long)p->iv);
	p->on = want == 1;
	publish_state(s, p, false);
}

static void on_local(struct gf_agent *a, void *arg)
{
	struct sim_plugs *s = arg;
	struct gf_local_item it;

	(void)a;
	while (gf_local_take(s->local, &it)) {
		if (it.kind == GF_LOCAL_CONNECTED) {
			/* A real plug says where it stands when it (re)connects. */
			for (size_t i = 0; i < s->n; i++)
				publish_state(s, &s->p[i], true);
		} else if (it.kind == GF_LOCAL_MESSAGE) {
			for (size_t i = 0; i < s->n; i++)
				if (strcmp(it.topic, s->p[i].cmd_topic) == 0)
					on_command(s, &s->p[i], &it);
		}
		gf_local_item_clear(&it);
	}
}

/* Parses "tasmota:<topic> shelly:<id> ..." into s->p. */
static enum gf_err parse_plugs(struct sim_plugs *s, double now)
{
	char *list = strdup(s->c->plugs), *save = NULL, err[256], payload[8];
	enum gf_err rc = GF_OK;

	if (!list)
		return GF_ENOMEM;
	for (char *w = strtok_r(list, " \t,", &save); w && rc == GF_OK;
	     w = strtok_r(NULL, " \t,", &save)) {
		struct sim_plug *p = &s->p[s->n];
		char *colon = strchr(w, ':');

		rc = GF_EINVAL;
		if (s->n == MAX_PLUGS) {
			gf_log_err("GF-SIM-CONFIG", "plugs: at most %d plugs", MAX_PLUGS);
			break;
		}
		if (!colon || !gf_plug_device_valid(colon + 1)) {
			gf_log_err("GF-SIM-CONFIG",
			           "plugs: '%s' is not tasmota:<topic> or shelly:<id> with a "
			           "valid topic/id",
			           w);
			break;
		}
		*colon = '\0';
		if (strcmp(w, "tasmota") == 0) {
			p->conv = GF_PLUG_TASMOTA;
		} else if (strcmp(w, "shelly") == 0) {
			p->conv = GF_PLUG_SHELLY;
		} else {
			gf_log_err("GF-SIM-CONFIG",
			           "plugs: convention '%s' is not tasmota or shelly", w);
			break;
		}
		snprintf(p->id, sizeof(p->id), "%s", colon + 1);
		if (gf_devconf_device(&s->c->dev, now, &p->dev, &p->switched_kw, err,
		                      sizeof(err)) != GF_OK) {
			gf_log_err("GF-SIM-CONFIG", "plug %s: %s", p->id, err);
			break;
		}
		rc = gf_plug_command(p->conv, p->id, 1, p->cmd_topic, sizeof(p->cmd_topic), payload,
		                     sizeof(payload));
		if (rc != GF_OK)
			break;
		p->on = s->c->initial_on;
		p->t = now;
		p->iv = (int64_t)floor(now / GF_TIME_INTERVAL_S);
		s->n++;
	}
	free(list);
	if (rc == GF_OK && s->n == 0) {
		gf_log_err("GF-SIM-CONFIG", "plugs: no plug in '%s'", s->c->plugs);
		rc = GF_EINVAL;
	}
	return rc;
}

enum gf_err sim_plugs_start(struct gf_agent *a, const struct sim_plugs_conf *c,
                            struct sim_plugs **out)
{
	struct sim_plugs *s = calloc(1, sizeof(*s));
	struct gf_local_opts o = {
	    .name = "plug broker", .host = c->host, .port = (int)c->port, .client_id = NULL};
	char client_id[64], err[512];
	double now = gf_agent_now(a);
	enum gf_err rc = GF_ENOMEM;

	if (!s)
		goto out;
	s->a = a;
	s->c = c;
	rc = parse_plugs(s, now);
	if (rc != GF_OK)
		goto out;
	if (c->csv) {
		s->csv = fopen(c->csv, "w");
		if (!s->csv) {
			gf_log_err("GF-SIM-CONFIG", "cannot write %s: %s", c->csv, strerror(errno));
			rc = GF_EIO;
			goto out;
		}
		fprintf(s->csv, "interval,plug,convention,kwh,on_s,total_kwh\n");
		fflush(s->csv);
	}
	snprintf(client_id, sizeof(client_id), "gf-sim-plugs-%ld", (long)getpid());
	o.client_id = client_id;
	rc = gf_local_open(&o, &s->local, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-SIM-CONFIG", "plug broker: %s", err);
		goto out;
	}
	for (size_t i = 0; i < s->n && rc == GF_OK; i++)
		rc = gf_local_subscribe(s->local, s->p[i].cmd_topic);
	if (rc == GF_OK)
		rc = gf_agent_watch(a, gf_local_fd(s->local), on_local, s);
	if (rc != GF_OK)
		goto out;
	(void)gf_local_connect(s->local); /* a failure retries by itself */
	gf_agent_timer_at(a, now + (double)c->tele_s, tele, s);
	gf_agent_timer_at(a, (floor(now / GF_TIME_INTERVAL_S) + 1) * GF_TIME_INTERVAL_S, boundary,
	                  s);
	gf_log_notice("GF-SIM-PLUGS", "%zu simulated plug(s) on %s:%ld, %s device(s) of %.3g kW",
	              s->n, c->host, c->port, c->dev.device, s->p[0].switched_kw);
out:
	if (rc != GF_OK) {
		sim_plugs_free(s);
		return rc;
	}
	*out = s;
	return GF_OK;
}

void sim_plugs_free(struct sim_plugs *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct sim_plug *p = &s->p[i];
		if (s->local)
			advance(s, p, gf_agent_now(s->a));
		gf_log_notice("GF-SIM-PLUGS",
		              "plug %s: %.6f kWh in all, %ld command(s), %ld ignored", p->id,
		              p->total_kwh, p->commands, p->dropped);
	}
	gf_local_close(s->local, 1000);
	if (s->csv)
		fclose(s->csv);
	free(s);
}
