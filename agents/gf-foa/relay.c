/* SPDX-License-Identifier: MIT */
/*
 * relay.c - gf-foa's plug mode, the relay and the commands it follows
 * (plugmode.h, docs/foa.md "plug mode"). A leaf of plug mode: plug.c (the
 * interval boundary, the plug's messages) and plugoffer.c (offers and
 * assignments) both use it; it calls neither.
 *
 * The relay follows foa_plug_cmd: in interval i it is on for the first
 * on_s seconds and off for the rest (on_s = 900 s: on throughout; no
 * command: on, the device running on its own). plug.c has it commanded at
 * every interval boundary whatever it was (QoS 1; the plug's broker is not
 * durable and the plug may have been power-cycled), when the broker
 * connection comes back, and whenever the plug reports a state other than
 * the one commanded; it is commanded here when it switches off within an
 * interval and after a new schedule (foa_relay_reapply).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "plugmode.h"
#include "base/timefmt.h"

/* One interval's command: kWh the device is to take and how long the relay
 * stays on from the interval's start. */
struct foa_plug_cmd {
	double kwh, on_s;
	bool assigned; /* from an assignment (else an offer's default) */
};

/* --- commands ------------------------------------------------------------------- */

/* The command of interval iv; GF_ENOENT when none (the relay is
 * then left on: the device runs on its own). */
static enum gf_err cmd_get(struct foa *f, int64_t iv, struct foa_plug_cmd *out)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc = foa_state_sql(
	    f, "SELECT kwh, on_s, assigned FROM foa_plug_cmd WHERE interval = ?1", &st);

	if (rc != GF_OK)
		return rc;
	sqlite3_bind_int64(st, 1, iv);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		out->kwh = sqlite3_column_double(st, 0);
		out->on_s = sqlite3_column_double(st, 1);
		out->assigned = sqlite3_column_int(st, 2) != 0;
		break;
	case SQLITE_DONE:
		rc = GF_ENOENT;
		break;
	default:
		rc = foa_state_step(f, st);
	}
	sqlite3_finalize(st);
	return rc;
}

enum gf_err foa_relay_put(struct foa *f, const char *offer_id, int64_t start, const double *kwh,
                          int32_t n, bool assigned)
{
	struct gf_devoffer_cmd *cmd = calloc((size_t)(n > 0 ? n : 1), sizeof(*cmd));
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_ENOMEM;

	if (!cmd)
		goto out;
	rc = gf_devoffer_commands(&f->plug->model, kwh, n, cmd);
	if (rc != GF_OK)
		goto out;
	rc = foa_state_sql(f,
	                   "INSERT OR REPLACE INTO foa_plug_cmd (interval, offer_id, assigned, "
	                   "kwh, on_s) VALUES (?1, ?2, ?3, ?4, ?5)",
	                   &st);
	for (int32_t k = 0; rc == GF_OK && k < n; k++) {
		double on_s = cmd[k].on_s < 0                  ? 0
		              : cmd[k].on_s > FOA_PLUG_SLICE_S ? FOA_PLUG_SLICE_S
		                                               : cmd[k].on_s;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, start + k);
		sqlite3_bind_text(st, 2, offer_id, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, assigned ? 1 : 0);
		sqlite3_bind_double(st, 4, kwh[k]);
		sqlite3_bind_double(st, 5, on_s);
		rc = foa_state_step(f, st);
	}
out:
	sqlite3_finalize(st);
	free(cmd);
	return rc;
}

enum gf_err foa_relay_drop(struct foa *f, const char *offer_id)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc = foa_state_sql(f, "DELETE FROM foa_plug_cmd WHERE offer_id = ?1", &st);

	if (rc == GF_OK) {
		sqlite3_bind_text(st, 1, offer_id, -1, SQLITE_STATIC);
		rc = foa_state_step(f, st);
	}
	sqlite3_finalize(st);
	return rc;
}

enum gf_err foa_relay_planned(struct foa *f, int64_t iv, double *kwh)
{
	struct foa_plug_cmd c;
	enum gf_err rc = cmd_get(f, iv, &c);

	if (rc == GF_ENOENT) {
		*kwh = f->plug->switched_kw * FOA_PLUG_SLICE_H;
		return GF_OK;
	}
	if (rc == GF_OK)
		*kwh = c.kwh;
	return rc;
}

enum gf_err foa_relay_predict(struct foa *f, struct gf_device *dev, int64_t to)
{
	double kwh, got;
	enum gf_err rc = GF_OK;

	for (int64_t k = gf_device_interval(dev); rc == GF_OK && k < to; k++) {
		rc = foa_relay_planned(f, k, &kwh);
		if (rc == GF_OK &&
		    gf_device_step(dev, FOA_PLUG_SLICE_S, kwh / FOA_PLUG_SLICE_H, &got) != GF_OK)
			break;
	}
	return rc;
}

/* --- the relay ------------------------------------------------------------------ */

/* Whether the relay is to be on at simulated time now; *off_at the time it
 * switches off within this interval (0: it does not). */
static bool want_on(struct foa *f, double now, double *off_at)
{
	int64_t iv = (int64_t)floor(now / FOA_PLUG_SLICE_S);
	double start = (double)iv * FOA_PLUG_SLICE_S;
	struct foa_plug_cmd c;

	*off_at = 0;
	if (cmd_get(f, iv, &c) != GF_OK)
		return true;
	if (c.on_s >= FOA_PLUG_SLICE_S - 0.5)
		return true;
	if (now < start + c.on_s - 0.5) {
		*off_at = start + c.on_s;
		return true;
	}
	return false;
}

void foa_relay_command(struct foa *f, bool on, const char *why)
{
	struct foa_plug *p = f->plug;
	char topic[GF_PLUG_ID_MAX + 64], payload[8];

	p->commanded = on;
	if (gf_plug_command(p->conv, p->c->device_id, on, topic, sizeof(topic), payload,
	                    sizeof(payload)) != GF_OK)
		return; /* the device id was checked at start */
	if (gf_local_publish(p->local, topic, payload, strlen(payload), 1) != GF_OK) {
		gf_log_info("GF-FOA-PLUG-SWITCH",
		            "plug %s: cannot say %s now (%s); it is said again when the broker is "
		            "back",
		            p->c->device_id, payload, why);
		return;
	}
	gf_log_info("GF-FOA-PLUG-SWITCH", "plug %s %s (%s)", p->c->device_id, payload, why);
}

static void on_off_timer(struct gf_agent *a, void *arg);

void foa_relay_apply(struct foa *f, bool force, const char *why)
{
	struct foa_plug *p = f->plug;
	double off_at = 0;
	bool on = want_on(f, gf_agent_now(f->a), &off_at);

	if (force || p->commanded != (int)on)
		foa_relay_command(f, on, why);
	if (p->off_timer)
		gf_agent_timer_cancel(f->a, p->off_timer);
	p->off_timer = off_at > 0 ? gf_agent_timer_at(f->a, off_at, on_off_timer, f) : 0;
}

static void on_off_timer(struct gf_agent *a, void *arg)
{
	struct foa *f = arg;

	(void)a;
	f->plug->off_timer = 0;
	foa_relay_apply(f, false, "end of its on-time in this interval");
}

static void on_reapply(struct gf_agent *a, void *arg)
{
	(void)a;
	foa_relay_apply(arg, false, "new schedule");
}

void foa_relay_reapply(struct foa *f)
{
	gf_agent_timer_at(f->a, gf_agent_now(f->a), on_reapply, f);
}
