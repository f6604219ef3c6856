/* SPDX-License-Identifier: MIT */
/*
 * device.h - shiftable household devices stepped in simulated time, for
 * gf-sim's prosumers and the FOA's device-controller mode (issue 5, items 2
 * and 6). Pure logic: no I/O, no allocation, no global state.
 *
 * Time is seconds on the bus clock (interval i covers [900 i, 900 i + 900));
 * "interval of the day" is i mod 96. A device is commanded with an average
 * electric power in kW (consumption positive, a battery's discharge
 * negative) and reports the energy it really took in kWh. Each model defends
 * its own physical limits and comfort band, and so may do other than it was
 * told: the caller compares what it asked with what it got. Every equation
 * is in docs/devices.md.
 */
#ifndef GF_DEVICE_H
#define GF_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GF_DEVICE_SLICE_S   900 /* seconds per interval */
#define GF_DEVICE_DAY       96  /* intervals per day */
#define GF_DEVICE_MAX_CYCLE 32  /* most slices of a white-goods cycle */

enum gf_device_kind {
	GF_DEVICE_THERMAL = 1, /* electric boiler or heat pump */
	GF_DEVICE_EV,          /* EV charger with its car */
	GF_DEVICE_BATTERY,     /* home battery */
	GF_DEVICE_CYCLE,       /* washing machine, dishwasher */
};

/* One-node thermal model: C dT/dt = P cop - UA (T - t_ambient) - draw(t). */
struct gf_device_thermal_params {
	double rated_kw;     /* electric power at full output, > 0 */
	double cop;          /* heat per electric energy, > 0 (1: resistive, ~3: heat pump) */
	double c_kwh_k;      /* thermal capacity C in kWh/K, > 0 (200 l water: 0.2326) */
	double ua_kw_k;      /* loss coefficient UA in kW/K, >= 0 */
	double t_ambient;    /* deg C around the tank */
	double t_min, t_max; /* band the device's thermostat defends, t_min < t_max */
	double t0;           /* temperature at init, inside [t_min, t_max] */
	double draw_kw[GF_DEVICE_DAY]; /* heat drawn per interval of the day, kW, >= 0 */
};

/* A car that plugs in every day at `arrive` and leaves at `depart` (both
 * intervals of the day; depart <= arrive means the next day). */
struct gf_device_ev_params {
	double capacity_kwh;    /* > 0 */
	double max_kw;          /* charger limit, > 0 */
	double efficiency;      /* stored per grid kWh, (0, 1] */
	int32_t arrive, depart; /* 0..95 */
	double soe_arrive_kwh;  /* state of energy on arrival, >= 0 */
	double soe_target_kwh;  /* wanted at departure, soe_arrive <= target <= capacity */
};

/* Round-trip efficiency is split evenly: sqrt(round_trip) each way. */
struct gf_device_battery_params {
	double capacity_kwh;            /* > 0 */
	double soc0, soc_min, soc_max;  /* fractions, 0 <= soc_min <= soc0 <= soc_max <= 1 */
	double charge_kw, discharge_kw; /* limits, > 0 */
	double round_trip;              /* (0, 1] */
};

/* A fixed cycle that starts once a day at an interval boundary within
 * [earliest, latest] (intervals of the day); at `latest` it starts by itself. */
struct gf_device_cycle_params {
	int32_t n;                       /* slices, 1..GF_DEVICE_MAX_CYCLE */
	double kwh[GF_DEVICE_MAX_CYCLE]; /* energy per slice, >= 0, kwh[0] > 0 */
	int32_t earliest, latest;        /* 0 <= earliest <= latest <= 95 */
};

/* A device: parameters and state. Plain value (copy it to simulate ahead);
 * read the fields, change them only through the functions below. */
struct gf_device {
	enum gf_device_kind kind;
	double t; /* seconds on the bus clock */
	union {
		struct gf_device_thermal_params thermal;
		struct gf_device_ev_params ev;
		struct gf_device_battery_params battery;
		struct gf_device_cycle_params cycle;
	} p;
	double temp;      /* thermal: deg C */
	double soe_kwh;   /* EV: stored energy of the car while connected */
	int connected;    /* EV: 1 while plugged in */
	double depart_t;  /* EV: departure time of the current session, seconds */
	double soc;       /* battery: fraction */
	double run_start; /* cycle: start of the running or last cycle, seconds; NaN: never */
};

/*
 * Each init validates its parameters and fills *dev at time t0 (seconds; an
 * EV whose t0 falls inside its plug-in window starts connected with
 * soe_arrive). GF_EINVAL with a sentence in err (may be NULL, truncated to
 * errlen) for a bad parameter; *dev untouched on failure.
 */
enum gf_err gf_device_thermal_init(struct gf_device *dev, const struct gf_device_thermal_params *p,
                                   double t0, char *err, size_t errlen);
enum gf_err gf_device_ev_init(struct gf_device *dev, const struct gf_device_ev_params *p, double t0,
                              char *err, size_t errlen);
enum gf_err gf_device_battery_init(struct gf_device *dev, const struct gf_device_battery_params *p,
                                   double t0, char *err, size_t errlen);
enum gf_err gf_device_cycle_init(struct gf_device *dev, const struct gf_device_cycle_params *p,
                                 double t0, char *err, size_t errlen);

/*
 * Advances dev by dt seconds (> 0) at the commanded average power kw and
 * stores the energy it really took, kWh, in *kwh (consumption positive). The
 * step is cut at interval boundaries; within a piece the power is constant.
 * What the device does with kw: thermal clamps to [0, rated] and then to
 * what keeps T in [t_min, t_max]; EV charges at most max_kw while connected,
 * stops at the target and charges by itself when the target could otherwise
 * no longer be reached by departure; battery clamps to its power and SoC
 * limits; cycle starts on kw > 0 inside its window (or at `latest`) and then
 * runs its profile whatever kw says. GF_EINVAL for a bad dt or a non-finite
 * kw (dev and *kwh untouched).
 */
enum gf_err gf_device_step(struct gf_device *dev, double dt, double kw, double *kwh);

/*
 * Follows a schedule: for each of n intervals, steps 900 s at
 * target_kwh[k] / 0.25 h and writes the energy really taken into actual[k]
 * (caller's buffer of n doubles). dev->t must be on an interval boundary.
 * GF_EINVAL for a misaligned clock or a non-finite target (dev and actual
 * untouched).
 */
enum gf_err gf_device_follow(struct gf_device *dev, const double *target_kwh, size_t n,
                             double *actual);

/* The power the device would draw on its own over the next interval (the
 * "uncontrolled" behaviour docs/devices.md describes), in kW. */
double gf_device_uncontrolled_kw(const struct gf_device *dev);

/* The interval dev->t falls in: floor(t / 900). */
int32_t gf_device_interval(const struct gf_device *dev);

/* Internal, shared with devoffer.c: over `hours` at constant electric power
 * P and heat draw draw_kw, a thermal device starting at temp ends at
 * *a + *b * P (deg C, *b > 0). */
void gf__device_thermal_affine(const struct gf_device_thermal_params *p, double draw_kw,
                               double hours, double temp, double *a, double *b);

#endif
