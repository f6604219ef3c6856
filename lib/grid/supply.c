/* SPDX-License-Identifier: MIT */
/*
 * supply.c - the Thevenin equivalent of the MV source and the transformer.
 */
#include "grid/supply.h"

#include <math.h>

#define DEG (M_PI / 180.0)
/* A delta-wye bank: LV phase a lags MV phase a by 30 degrees. */
#define SHIFT_DEG (-30.0)

static enum gf_err positive(double v, const char *what, char *err, size_t errlen)
{
	if (!(isfinite(v) && v > 0))
		return gf_err_set(err, errlen, GF_EINVAL, "supply: %s %g is not a positive number",
		                  what, v);
	return GF_OK;
}

enum gf_err gf_supply_derive(struct gf_supply *s, char *err, size_t errlen)
{
	const struct {
		double v;
		const char *what;
	} need[] = {{s->src_kv, "source kV"},          {s->src_pu, "source pu"},
	            {s->isc3_a, "source ISC3"},        {s->kva, "transformer kVA"},
	            {s->kv_pri, "transformer kV_pri"}, {s->kv_sec, "transformer kV_sec"},
	            {s->x_pct, "transformer %XHL"}};
	double z1, ratio, zbase;
	enum gf_err rc;

	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if ((rc = positive(need[i].v, need[i].what, err, errlen)) != GF_OK)
			return rc;
	if (!(isfinite(s->r_pct) && s->r_pct >= 0))
		return gf_err_set(err, errlen, GF_EINVAL, "supply: transformer %%R %g is negative",
		                  s->r_pct);
	if (!(isfinite(s->x1r1) && s->x1r1 >= 0))
		return gf_err_set(err, errlen, GF_EINVAL, "supply: source X1/R1 %g is negative",
		                  s->x1r1);

	/* |Z1| = (V_LL / sqrt 3) / Isc3 on the MV side, at the angle atan(X1/R1). */
	z1 = s->src_kv * 1000.0 / sqrt(3.0) / s->isc3_a;
	ratio = s->kv_sec / s->kv_pri;
	s->z_src = z1 * CMPLX(1.0, s->x1r1) / sqrt(1.0 + s->x1r1 * s->x1r1) * ratio * ratio;
	zbase = s->kv_sec * s->kv_sec * 1000.0 / s->kva;
	s->z_tx = CMPLX(s->r_pct, s->x_pct) / 100.0 * zbase;
	s->v_base = s->kv_sec * 1000.0 / sqrt(3.0);
	for (int k = 0; k < 3; k++) {
		double a = (SHIFT_DEG - 120.0 * k) * DEG;

		s->e[k] = s->src_pu * s->v_base * CMPLX(cos(a), sin(a));
		for (int m = 0; m < 3; m++)
			s->zth[k][m] = (k == m ? s->z_tx + s->z_src : 0) - s->z_src / 3.0;
	}
	return GF_OK;
}
