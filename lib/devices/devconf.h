/* SPDX-License-Identifier: MIT */
/*
 * devconf.h - a device behind a smart plug (lib/devices/device.h) from configuration
 * keys that carry lib/device's own parameter names, shared by gf-foa's
 * device mode (the FOA's model of the device) and gf-sim's simulated plugs
 * (the device itself), so both read the same file lines the same way.
 *
 * A plug switches a load on or off, so only the kinds whose load is one
 * switched power are offered: thermal (electric boiler, heat pump; the
 * switched power is rated_kw) and ev (a charger on a plug; max_kw).
 */
#ifndef GF_DEVCONF_H
#define GF_DEVCONF_H

#include <stddef.h>

#include "base/conf.h"
#include "devices/device.h"
#include "base/err.h"

struct gf_devconf {
	char *device; /* thermal | ev */
	/* thermal (struct gf_device_thermal_params; draw_kw the same every
	 * interval of the day) */
	double rated_kw, cop, c_kwh_k, ua_kw_k, t_ambient, t_min, t_max, t0, draw_kw;
	/* ev (struct gf_device_ev_params) */
	double capacity_kwh, max_kw, efficiency, soe_arrive_kwh, soe_target_kwh;
	long arrive, depart;
};

/* The table items of the keys, for an agent's struct `type` whose member
 * `m` is the struct gf_devconf. */
#define GF_DEVCONF_ITEM(type, m, key, t, def, lo, hi, help)                                        \
	{                                                                                          \
		key, t, offsetof(type, m), def, lo, hi, false, help                                \
	}
#define GF_DEVCONF_ITEMS(type, m)                                                                  \
	GF_DEVCONF_ITEM(type, m.device, "device", GF_CONF_STRING, "thermal", 0, 0,                 \
	                "the device behind the plug: thermal (boiler, heat pump) or ev"),          \
	    GF_DEVCONF_ITEM(type, m.rated_kw, "rated_kw", GF_CONF_DOUBLE, "2", 0, 1000,            \
	                    "thermal: electric power at full output, kW (the plug's load)"),       \
	    GF_DEVCONF_ITEM(type, m.cop, "cop", GF_CONF_DOUBLE, "1", 0, 100,                       \
	                    "thermal: heat per electric energy (1 boiler, ~3 heat pump)"),         \
	    GF_DEVCONF_ITEM(type, m.c_kwh_k, "c_kwh_k", GF_CONF_DOUBLE, "0.2326", 0, 1000,         \
	                    "thermal: capacity, kWh/K (200 l of water: 0.2326)"),                  \
	    GF_DEVCONF_ITEM(type, m.ua_kw_k, "ua_kw_k", GF_CONF_DOUBLE, "0.002", 0, 100,           \
	                    "thermal: loss coefficient, kW/K"),                                    \
	    GF_DEVCONF_ITEM(type, m.t_ambient, "t_ambient", GF_CONF_DOUBLE, "20", -50, 100,        \
	                    "thermal: deg C around the tank"),                                     \
	    GF_DEVCONF_ITEM(type, m.t_min, "t_min", GF_CONF_DOUBLE, "45", -50, 200,                \
	                    "thermal: lowest temperature the device's thermostat allows"),         \
	    GF_DEVCONF_ITEM(type, m.t_max, "t_max", GF_CONF_DOUBLE, "80", -50, 200,                \
	                    "thermal: highest temperature"),                                       \
	    GF_DEVCONF_ITEM(type, m.t0, "t0", GF_CONF_DOUBLE, "55", -50, 200,                      \
	                    "thermal: temperature at the first start, deg C"),                     \
	    GF_DEVCONF_ITEM(type, m.draw_kw, "draw_kw", GF_CONF_DOUBLE, "0.3", 0, 1000,            \
	                    "thermal: heat drawn, kW, the same all day"),                          \
	    GF_DEVCONF_ITEM(type, m.capacity_kwh, "capacity_kwh", GF_CONF_DOUBLE, "40", 0, 1000,   \
	                    "ev: the car's battery, kWh"),                                         \
	    GF_DEVCONF_ITEM(type, m.max_kw, "max_kw", GF_CONF_DOUBLE, "3.7", 0, 1000,              \
	                    "ev: charger power, kW (the plug's load)"),                            \
	    GF_DEVCONF_ITEM(type, m.efficiency, "efficiency", GF_CONF_DOUBLE, "0.9", 0, 1,         \
	                    "ev: kWh stored per grid kWh"),                                        \
	    GF_DEVCONF_ITEM(type, m.arrive, "arrive", GF_CONF_INT, "72", 0, 95,                    \
	                    "ev: interval of the day the car plugs in (72: 18:00)"),               \
	    GF_DEVCONF_ITEM(type, m.depart, "depart", GF_CONF_INT, "28", 0, 95,                    \
	                    "ev: interval of the day it leaves (28: 07:00; <= arrive: next day)"), \
	    GF_DEVCONF_ITEM(type, m.soe_arrive_kwh, "soe_arrive_kwh", GF_CONF_DOUBLE, "12", 0,     \
	                    1000, "ev: energy in the car on arrival, kWh"),                        \
	    GF_DEVCONF_ITEM(type, m.soe_target_kwh, "soe_target_kwh", GF_CONF_DOUBLE, "32", 0,     \
	                    1000, "ev: energy wanted at departure, kWh")

/*
 * Fills *dev (at time t0, seconds) from c and *switched_kw with the power
 * the plug switches. GF_EINVAL with a sentence in err for an unknown kind or
 * parameters lib/device refuses; outputs untouched on failure.
 */
enum gf_err gf_devconf_device(const struct gf_devconf *c, double t0, struct gf_device *dev,
                              double *switched_kw, char *err, size_t errlen);

#endif
