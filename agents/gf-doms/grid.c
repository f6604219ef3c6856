/* SPDX-License-Identifier: MIT */
/*
 * gf-doms's grid state (docs/doms.md, "Grid state"): for each metered
 * interval, the transformer's power from the meters' total and, with a
 * feeder model (network_dir), a power flow of the feeder with every load's
 * metered energy: the transformer's loading, the lowest and highest voltage
 * at a load, the most loaded line. Recorded in doms_state, sent to the DSO's
 * FOA as grid.state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/message.h"
#include "agent/once.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "doms.h"
#include "doms.pb-c.h"

/* The values of one interval's state. */
struct state {
	double kw;           /* transformer, from the meters' total */
	bool flow;           /* the values below come from a power flow */
	double kva_pct;      /* transformer apparent power, % of rating */
	double v_min, v_max; /* per unit, at loads */
	char v_min_bus[32];  /* where the lowest is */
	double line_pct;     /* most loaded line, % of its ampacity */
	char line[32];       /* which */
};

static enum gf_err record(struct doms *d, int64_t j, const struct state *s)
{
	return gf_store_run(
	    d->store,
	    "INSERT OR REPLACE INTO doms_state (grid, interval, kw, kva_pct, v_min_pu, v_min_bus,"
	    " v_max_pu, line_pct, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	    "tidddtddt", d->conf->grid_point_id, j, s->kw, s->flow ? s->kva_pct : 0,
	    s->flow ? s->v_min : 0, s->flow ? s->v_min_bus : NULL, s->flow ? s->v_max : 0,
	    s->flow ? s->line_pct : 0, s->flow ? s->line : NULL);
}

static enum gf_err queue(struct doms *d, int64_t j, const struct state *s)
{
	Goflex__GridState gs = GOFLEX__GRID_STATE__INIT;
	Goflex__StateValue v[6], *vp[6];
	char when[GF_TIME_BUFSIZE], id[6][96];
	const char *names[6] = {"transformer.power", "transformer.loading", "voltage.min",
	                        "voltage.max",       "line.loading",        NULL};
	double values[6] = {s->kw, s->kva_pct, s->v_min, s->v_max, s->line_pct, 0};
	size_t n = s->flow ? 5 : 1;
	enum gf_err rc;

	/* Observed at the interval's end: its mean values. */
	rc = gf_time_format((j + 1) * GF_TIME_INTERVAL_S * 1000, when, sizeof(when));
	if (rc != GF_OK)
		return rc;
	for (size_t k = 0; k < n; k++) {
		goflex__state_value__init(&v[k]);
		snprintf(id[k], sizeof(id[k]), "%s.%s", d->conf->grid_point_id, names[k]);
		v[k].variableid = id[k];
		v[k].value = values[k];
		vp[k] = &v[k];
	}
	gs.gridpointid = d->conf->grid_point_id;
	gs.observedtime = when;
	gs.n_values = n;
	gs.values = vp;
	return gf_message_queue(d->a, d->store, "foa", d->conf->dso_foa, "grid.state", &gs.base);
}

/* The meters' energy of interval j, per meter (n_meters values). */
static enum gf_err metered(struct doms *d, int64_t j, double *kwh, double *total)
{
	sqlite3_stmt *st =
	    gf_store_prepare(d->store, "SELECT meter, kwh FROM doms_meter WHERE interval = ?1");

	if (!st)
		return GF_EIO;
	memset(kwh, 0, d->n_meters * sizeof(*kwh));
	*total = 0;
	sqlite3_bind_int64(st, 1, j);
	while (sqlite3_step(st) == SQLITE_ROW) {
		long k = doms_meter_find(d, gf_store_text(st, 0));
		if (k >= 0) {
			kwh[k] = sqlite3_column_double(st, 1);
			*total += kwh[k];
		}
	}
	sqlite3_finalize(st);
	return GF_OK;
}

static enum gf_err state_of(struct doms *d, int64_t j)
{
	struct state s = {0};
	double *kwh = malloc(d->n_meters * sizeof(*kwh)), total = 0;
	enum gf_err rc = kwh ? metered(d, j, kwh, &total) : GF_ENOMEM;

	s.kw = total / (GF_TIME_INTERVAL_S / 3600.0);
	/* A power flow that fails (logged) leaves the interval with the
	 * transformer's power only. */
	s.flow = rc == GF_OK && d->grid &&
	         doms_flow_solve(d, kwh, &s.kva_pct, &s.v_min, &s.v_max, s.v_min_bus,
	                         sizeof(s.v_min_bus), &s.line_pct, s.line, sizeof(s.line)) == GF_OK;
	if (rc == GF_OK)
		rc = record(d, j, &s);
	if (rc == GF_OK)
		rc = queue(d, j, &s);
	if (rc == GF_OK && s.flow)
		gf_log_info(
		    "GF-DOMS-STATE",
		    "interval %lld: %.1f kW, transformer %.0f%%, voltage %.3f..%.3f pu (lowest "
		    "at bus %s), line %s at %.0f%%",
		    (long long)j, s.kw, s.kva_pct, s.v_min, s.v_max, s.v_min_bus, s.line,
		    s.line_pct);
	else if (rc == GF_OK)
		gf_log_info("GF-DOMS-STATE", "interval %lld: %.1f kW at the transformer",
		            (long long)j, s.kw);
	free(kwh);
	return rc;
}

static enum gf_err catch_up(void *arg)
{
	struct doms *d = arg;
	sqlite3_stmt *st = gf_store_prepare(
	    d->store, "SELECT m.interval FROM doms_metered m WHERE m.grid = ?1 AND NOT EXISTS"
	              " (SELECT 1 FROM doms_state s WHERE s.grid = m.grid AND s.interval ="
	              " m.interval) ORDER BY m.interval");
	int64_t *js = NULL;
	size_t n = 0, cap = 0;
	enum gf_err rc = st ? GF_OK : GF_EIO;

	if (st)
		sqlite3_bind_text(st, 1, d->conf->grid_point_id, -1, SQLITE_STATIC);
	while (rc == GF_OK && sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *p = realloc(js, (cap = cap ? 2 * cap : 128) * sizeof(*js));
			if (!p)
				rc = GF_ENOMEM;
			else
				js = p;
		}
		if (rc == GF_OK)
			js[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; rc == GF_OK && i < n; i++)
		rc = state_of(d, js[i]);
	free(js);
	return rc;
}

enum gf_err doms_grid_catch_up(struct doms *d)
{
	return gf_store_once(d->a, d->store, NULL, catch_up, NULL, d);
}
