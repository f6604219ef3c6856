/* SPDX-License-Identifier: MIT */
/*
 * doms.config from the DMS (D6.1 Table 4, dms -> doms; docs/doms.md,
 * "doms.config"): the limits of the grid point's state variables and the
 * economic parameters of the bids. What it sets is kept in doms_param and
 * wins over the configuration file from then on, also after a restart; the
 * intervals already forecast are bid again for what the new limits add.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/once.h"
#include "base/log.h"
#include "doms.h"
#include "doms.pb-c.h"
#include "engine/congestion.h"

/* The parameters doms.config may set, by name in doms_param. */
static double *param(struct doms *d, const char *name)
{
	if (strcmp(name, "limit_kwh") == 0)
		return &d->limit_kwh;
	if (strcmp(name, "price_max") == 0)
		return &d->price_max;
	if (strcmp(name, "budget") == 0)
		return &d->budget;
	if (strcmp(name, "v_min_pu") == 0)
		return &d->v_min_pu;
	if (strcmp(name, "v_max_pu") == 0)
		return &d->v_max_pu;
	if (strcmp(name, "line_max_pct") == 0)
		return &d->line_max_pct;
	return NULL;
}

enum gf_err doms_config_restore(struct doms *d)
{
	sqlite3_stmt *st = gf_store_prepare(d->store, "SELECT name, value FROM doms_param");
	size_t n = 0;

	if (!st)
		return GF_EIO;
	while (sqlite3_step(st) == SQLITE_ROW) {
		double *p = param(d, gf_store_text(st, 0));
		if (p) {
			*p = sqlite3_column_double(st, 1);
			n++;
		}
	}
	sqlite3_finalize(st);
	if (n)
		gf_log_notice(
		    "GF-DOMS-CONFIG",
		    "%zu parameter(s) of an earlier doms.config: limit %.3f kWh, prices up "
		    "to %.4f EUR/kWh, budget %.2f EUR a day, voltage %.3f..%.3f pu, lines "
		    "%.0f%%",
		    n, d->limit_kwh, d->price_max, d->budget, d->v_min_pu, d->v_max_pu,
		    d->line_max_pct);
	return GF_OK;
}

struct take {
	struct doms *d;
	const Goflex__DomsConfig *c;
	size_t set, skipped;
	char why[256];
};

static enum gf_err set(struct take *t, const char *name, double v)
{
	t->set++;
	*param(t->d, name) = v;
	return gf_store_run(t->d->store,
	                    "INSERT OR REPLACE INTO doms_param (name, value) VALUES"
	                    " (?1, ?2)",
	                    "td", name, v);
}

static bool usable(double v)
{
	return isfinite(v) && v >= 0;
}

static enum gf_err take_config(void *arg)
{
	struct take *t = arg;
	struct doms *d = t->d;
	const Goflex__DomsConfig *c = t->c;
	double nominal = doms_flow_nominal_v(d);
	enum gf_err rc = GF_OK;

	for (size_t i = 0; rc == GF_OK && i < c->n_statevariables; i++) {
		const Goflex__StateVariable *v = c->statevariables[i];

		if (strcmp(v->gridpointid, d->conf->grid_point_id) != 0) {
			t->skipped++;
			snprintf(t->why, sizeof(t->why), "%s is of grid point %s, not %s",
			         v->variableid, v->gridpointid, d->conf->grid_point_id);
			continue;
		}
		switch (v->quantity) {
		case GOFLEX__STATE_VARIABLE__QUANTITY__activePower:
			if (v->has_upperlimit && usable(v->upperlimit))
				rc = set(t, "limit_kwh", gf_congestion_kwh(v->upperlimit));
			break;
		case GOFLEX__STATE_VARIABLE__QUANTITY__energy:
			if (v->has_upperlimit && usable(v->upperlimit))
				rc = set(t, "limit_kwh", v->upperlimit);
			break;
		case GOFLEX__STATE_VARIABLE__QUANTITY__voltage:
			/* Volts of a phase to neutral, as the schema says. */
			if (v->has_lowerlimit && usable(v->lowerlimit))
				rc = set(t, "v_min_pu", v->lowerlimit / nominal);
			if (rc == GF_OK && v->has_upperlimit && usable(v->upperlimit))
				rc = set(t, "v_max_pu", v->upperlimit / nominal);
			break;
		case GOFLEX__STATE_VARIABLE__QUANTITY__loading:
			if (v->has_upperlimit && usable(v->upperlimit))
				rc = set(t, "line_max_pct", v->upperlimit);
			break;
		default:
			t->skipped++;
			snprintf(t->why, sizeof(t->why), "%s: no limit of this quantity is watched",
			         v->variableid);
		}
	}
	if (rc == GF_OK && c->economicparameters) {
		const Goflex__EconomicParameters *e = c->economicparameters;

		if (e->currency && strcmp(e->currency, "EUR") != 0) {
			t->skipped++;
			snprintf(t->why, sizeof(t->why), "currency %s: only EUR is used",
			         e->currency);
		} else {
			if (e->has_maxenergyprice && usable(e->maxenergyprice))
				rc = set(t, "price_max", e->maxenergyprice);
			if (rc == GF_OK && e->has_dailybudget && usable(e->dailybudget))
				rc = set(t, "budget", e->dailybudget);
		}
	}
	return rc;
}

void doms_config_take(struct doms *d, const struct gf_inbox_item *item, const struct gf_message *m)
{
	struct take t = {.d = d, .c = (const Goflex__DomsConfig *)m->body};
	char key[64], suffix[32];
	int64_t from, to;

	if (d->conf->dms_id && strcmp(m->from_id, d->conf->dms_id) != 0) {
		gf_log_warning("GF-DOMS-CONFIG",
		               "doms.config from dms.%s ignored: only dms.%s "
		               "configures this DOMS",
		               m->from_id, d->conf->dms_id);
		return;
	}
	snprintf(key, sizeof(key), "config:%llu", (unsigned long long)item->seq);
	if (gf_store_once(d->a, d->store, key, take_config, NULL, &t) != GF_OK)
		return;
	gf_log_notice("GF-DOMS-CONFIG",
	              "doms.config from dms.%s: %zu limit(s) set: limit %.3f kWh, prices %.4f to "
	              "%.4f EUR/kWh, budget %.2f EUR a day, voltage %.3f..%.3f pu, lines %.0f%%",
	              m->from_id, t.set, d->limit_kwh, d->price, d->price_max, d->budget,
	              d->v_min_pu, d->v_max_pu, d->line_max_pct);
	if (t.skipped)
		gf_log_warning("GF-DOMS-CONFIG", "doms.config: %zu part(s) not used, e.g. %s",
		               t.skipped, t.why);
	if (t.set == 0)
		return;
	/* What the new limits add over the intervals forecast already. */
	doms_forecast_horizon(d, &from, &to);
	snprintf(suffix, sizeof(suffix), "-c%llu", (unsigned long long)item->seq);
	doms_forecast_issue(d, from, to, suffix);
}
