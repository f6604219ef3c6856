/* SPDX-License-Identifier: MIT */
#include "devices/devconf.h"

#include <stdio.h>
#include <string.h>

enum gf_err gf_devconf_device(const struct gf_devconf *c, double t0, struct gf_device *dev,
                              double *switched_kw, char *err, size_t errlen)
{
	struct gf_device d;
	enum gf_err rc;

	if (c->device && strcmp(c->device, "thermal") == 0) {
		struct gf_device_thermal_params p = {
		    .rated_kw = c->rated_kw,
		    .cop = c->cop,
		    .c_kwh_k = c->c_kwh_k,
		    .ua_kw_k = c->ua_kw_k,
		    .t_ambient = c->t_ambient,
		    .t_min = c->t_min,
		    .t_max = c->t_max,
		    .t0 = c->t0,
		};
		for (int i = 0; i < GF_DEVICE_DAY; i++)
			p.draw_kw[i] = c->draw_kw;
		rc = gf_device_thermal_init(&d, &p, t0, err, errlen);
		if (rc == GF_OK)
			*switched_kw = c->rated_kw;
	} else if (c->device && strcmp(c->device, "ev") == 0) {
		struct gf_device_ev_params p = {
		    .capacity_kwh = c->capacity_kwh,
		    .max_kw = c->max_kw,
		    .efficiency = c->efficiency,
		    .arrive = (int32_t)c->arrive,
		    .depart = (int32_t)c->depart,
		    .soe_arrive_kwh = c->soe_arrive_kwh,
		    .soe_target_kwh = c->soe_target_kwh,
		};
		rc = gf_device_ev_init(&d, &p, t0, err, errlen);
		if (rc == GF_OK)
			*switched_kw = c->max_kw;
	} else {
		snprintf(err, errlen, "device '%s' is neither thermal nor ev",
		         c->device ? c->device : "");
		return GF_EINVAL;
	}
	if (rc == GF_OK)
		*dev = d;
	return rc;
}
