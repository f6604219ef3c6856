/* SPDX-License-Identifier: MIT */
/* TEMPORARY until lib/grid lands: replaced before commit. */
#include "base/log.h"
#include "doms.h"

enum gf_err doms_grid_load(struct doms *d)
{
	(void)d;
	gf_log_err("GF-DOMS-CONFIG", "network_dir: no power flow yet");
	return GF_EINVAL;
}

void doms_grid_free(struct doms *d)
{
	(void)d;
}

enum gf_err doms_grid_need(struct doms *d, const double *per_meter, size_t n, double *need)
{
	(void)d;
	(void)per_meter;
	for (size_t t = 0; t < n; t++)
		need[t] = 0;
	return GF_OK;
}

double doms_grid_nominal_v(const struct doms *d)
{
	(void)d;
	return 230;
}

enum gf_err doms_grid_flow(struct doms *d, const double *kwh, double *kva_pct, double *v_min,
                           double *v_max, char *v_bus, size_t v_buslen, double *line_pct,
                           char *line, size_t linelen)
{
	(void)d, (void)kwh, (void)kva_pct, (void)v_min, (void)v_max, (void)v_bus, (void)v_buslen;
	(void)line_pct, (void)line, (void)linelen;
	return GF_EINVAL;
}
