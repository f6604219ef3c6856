/* SPDX-License-Identifier: MIT */
/*
 * gf-doms's power flow (docs/doms.md, "Grid state"): the feeder of
 * network_dir (lib/grid), each meter of meter_map placed on its load, and a
 * solve per interval with the loads' mean power (metered or forecast kWh /
 * 0.25 h, Q from each load's power factor). For a forecast, what the
 * voltages and lines need: the share of the feeder's load that must go for
 * the lowest voltage to stay at v_min_pu and every line at line_max_pct,
 * estimated from a second solve with every load 10% lower (a uniform
 * reduction: the market cannot say where the flexibility is).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timefmt.h"
#include "doms.h"
#include "grid/feeder.h"
#include "grid/powerflow.h"

#define HOURS (GF_TIME_INTERVAL_S / 3600.0)
#define PROBE 0.1 /* the sensitivity solve's reduction */

struct doms_grid {
	struct gf_feeder *f;
	struct gf_pf_result r;
	size_t *load_of; /* per meter: its load in f */
	double *p;       /* per load: kW of the solve */
};

enum gf_err doms_flow_load(struct doms *d)
{
	struct doms_grid *g = calloc(1, sizeof(*g));
	char err[512];
	enum gf_err rc = g ? GF_OK : GF_ENOMEM;

	if (rc == GF_OK)
		rc = gf_feeder_load(d->conf->network_dir, &g->f, err, sizeof(err));
	if (rc == GF_OK)
		rc = gf_pf_result_init(g->f, &g->r, err, sizeof(err));
	if (rc == GF_OK) {
		g->r.warm_start = true; /* one interval is much like the last */
		g->load_of = calloc(d->n_meters, sizeof(*g->load_of));
		g->p = calloc(g->f->nload, sizeof(*g->p));
		if (!g->load_of || !g->p) {
			rc = GF_ENOMEM;
			snprintf(err, sizeof(err), "out of memory");
		}
	}
	for (size_t k = 0; rc == GF_OK && k < d->n_meters; k++) {
		g->load_of[k] = gf_feeder_load_index(g->f, doms_meter_load_name(d, k));
		if (g->load_of[k] == GF_FEEDER_NONE) {
			rc = GF_EINVAL;
			snprintf(err, sizeof(err),
			         "meter_map names load %s, which %s/Loads.csv has not",
			         doms_meter_load_name(d, k), d->conf->network_dir);
		}
	}
	d->grid = g;
	if (rc != GF_OK) {
		gf_log_err("GF-DOMS-CONFIG", "network_dir %s: %s", d->conf->network_dir, err);
		doms_flow_free(d);
		return rc;
	}
	gf_log_info("GF-DOMS-GRID", "network_dir %s: %zu buses, %zu lines, %zu loads, %.0f kVA",
	            d->conf->network_dir, g->f->nbus, g->f->nline, g->f->nload, g->f->supply.kva);
	return GF_OK;
}

void doms_flow_free(struct doms *d)
{
	struct doms_grid *g = d->grid;

	if (!g)
		return;
	gf_pf_result_free(&g->r);
	gf_feeder_free(g->f);
	free(g->load_of);
	free(g->p);
	free(g);
	d->grid = NULL;
}

double doms_flow_nominal_v(const struct doms *d)
{
	return d->grid ? d->grid->f->supply.v_base : 230;
}

/* Solves with meter k drawing kwh[k] * scale over the interval. */
static enum gf_err solve(struct doms *d, const double *kwh, double scale, struct gf_pf_summary *s)
{
	struct doms_grid *g = d->grid;
	char err[256];
	enum gf_err rc;

	memset(g->p, 0, g->f->nload * sizeof(*g->p));
	for (size_t k = 0; k < d->n_meters; k++)
		g->p[g->load_of[k]] += kwh[k] * scale / HOURS;
	rc = gf_pf_solve(g->f, g->p, NULL, &g->r, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_warning("GF-DOMS-GRID", "power flow: %s", err);
		return rc;
	}
	gf_pf_summarize(g->f, &g->r, s);
	return GF_OK;
}

enum gf_err doms_flow_solve(struct doms *d, const double *kwh, double *kva_pct, double *v_min,
                            double *v_max, char *v_bus, size_t v_buslen, double *line_pct,
                            char *line, size_t linelen)
{
	struct gf_pf_summary s;
	enum gf_err rc = solve(d, kwh, 1, &s);

	if (rc != GF_OK)
		return rc;
	*kva_pct = s.loading_pct;
	*v_min = s.v_min_pu;
	*v_max = s.v_max_pu;
	snprintf(v_bus, v_buslen, "%s", d->grid->f->bus[s.v_min_bus]);
	*line_pct = s.line_max_pct;
	snprintf(line, linelen, "%s",
	         s.line_max == GF_FEEDER_NONE ? "" : d->grid->f->line[s.line_max].name);
	return GF_OK;
}

/* The share of the load that must go for the limits, from the solve at
 * full load (a) and at 1 - PROBE (b), linear in between; 0 within limits. */
static double share(const struct doms *d, const struct gf_pf_summary *a,
                    const struct gf_pf_summary *b)
{
	double need = 0;

	if (a->v_min_pu < d->v_min_pu && b->v_min_pu > a->v_min_pu)
		need = PROBE * (d->v_min_pu - a->v_min_pu) / (b->v_min_pu - a->v_min_pu);
	/* A line's current goes with the load it carries. */
	if (a->line_max_pct > d->line_max_pct) {
		double l = 1 - d->line_max_pct / a->line_max_pct;
		need = l > need ? l : need;
	}
	return need < 1 ? need : 1;
}

enum gf_err doms_flow_need(struct doms *d, const double *per_meter, size_t n, double *need)
{
	struct gf_pf_summary a, b;

	for (size_t t = 0; t < n; t++) {
		const double *kwh = per_meter + t * d->n_meters;
		double total = 0;

		need[t] = 0;
		if (!d->grid)
			continue;
		for (size_t k = 0; k < d->n_meters; k++)
			total += kwh[k];
		/* A forecast the feeder cannot carry at all asks for the most
		 * the probe says; logged by solve. */
		if (total <= 0 || solve(d, kwh, 1, &a) != GF_OK)
			continue;
		if (a.v_min_pu >= d->v_min_pu && a.line_max_pct <= d->line_max_pct)
			continue;
		if (solve(d, kwh, 1 - PROBE, &b) != GF_OK)
			continue;
		need[t] = share(d, &a, &b) * total;
	}
	return GF_OK;
}
