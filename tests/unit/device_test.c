/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/devices/device.h: hand-computed steps of every model, their
 * guards, and parameter validation. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "devices/device.h"

#include "leak_check.h"

TestSuite(device, .fini = leak_check);

#define DAY_S 86400.0
#define H     3600.0

/* 200 l of water (C = 0.2326 kWh/K), 2 kW, band 40..80 deg C. */
static struct gf_device_thermal_params boiler(double ua, double t0)
{
	struct gf_device_thermal_params p;
	memset(&p, 0, sizeof p);
	p.rated_kw = 2;
	p.cop = 1;
	p.c_kwh_k = 0.2326;
	p.ua_kw_k = ua;
	p.t_ambient = 20;
	p.t_min = 40;
	p.t_max = 80;
	p.t0 = t0;
	return p;
}

static double step(struct gf_device *d, double dt, double kw)
{
	double kwh = NAN;
	cr_assert_eq(gf_device_step(d, dt, kw, &kwh), GF_OK);
	return kwh;
}

/* cr_assert_float_eq evaluates its arguments twice: step once. */
#define STEP_EQ(d, dt, kw, want, tol)                                                              \
	do {                                                                                       \
		double got_ = step(d, dt, kw);                                                     \
		cr_assert_float_eq(got_, want, tol, "step of %g s at %g kW took %.15g kWh", dt,    \
		                   (double)(kw), got_);                                            \
	} while (0)

Test(device, boiler_one_hour_at_rated_power)
{
	struct gf_device d, fine;
	struct gf_device_thermal_params p = boiler(0, 50);

	/* Insulated: dT = P h / C = 2 kWh / 0.2326 kWh/K = 8.59845 K. */
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	STEP_EQ(&d, H, 2, 2.0, 1e-12);
	cr_assert_float_eq(d.temp, 58.59845227858985, 1e-9);
	cr_assert_eq(d.t, H);

	/* With losses UA = 2 W/K to 20 deg C: T = Teq + (T0 - Teq) e^{-UA h / C},
	 * Teq = 20 + 2 / 0.002 = 1020, so 1020 - 970 e^{-0.0085985} = 58.3047. */
	p = boiler(0.002, 50);
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	fine = d;
	step(&d, H, 2);
	cr_assert_float_eq(d.temp, 58.304743573164, 1e-9);
	/* The same hour in 60 one-minute steps ends at the same temperature. */
	for (int i = 0; i < 60; i++)
		step(&fine, 60, 2);
	cr_assert_float_eq(fine.temp, d.temp, 1e-9);
}

Test(device, boiler_thermostat_guards_both_ends)
{
	struct gf_device d;
	struct gf_device_thermal_params p = boiler(0, 79);

	/* 1 K of room: the thermostat stops at 80 after 0.2326 kWh. */
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	STEP_EQ(&d, H, 2, 0.2326, 1e-12);
	cr_assert_float_eq(d.temp, 80, 1e-12);
	/* More than rated is rated; negative is off. */
	p = boiler(0, 50);
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	STEP_EQ(&d, H, 50, 2.0, 1e-12);
	STEP_EQ(&d, H, -3, 0.0, 1e-12);

	/* A 2 kW draw from 40.5 deg C with the heater commanded off: the
	 * thermostat holds 40, heating 2 - 0.5 * 0.2326 = 1.8837 kWh. */
	p = boiler(0, 40.5);
	for (int i = 0; i < GF_DEVICE_DAY; i++)
		p.draw_kw[i] = 2;
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	STEP_EQ(&d, H, 0, 1.8837, 1e-12);
	cr_assert_float_eq(d.temp, 40, 1e-12);
}

Test(device, boiler_draw_follows_the_interval_of_the_day)
{
	struct gf_device d;
	struct gf_device_thermal_params p = boiler(0, 60);

	p.draw_kw[1] = 0.9304; /* 00:15-00:30: 0.2326 kWh of heat = 1 K */
	cr_assert_eq(gf_device_thermal_init(&d, &p, DAY_S, NULL, 0), GF_OK);
	step(&d, 1800, 0); /* day 2, 00:00 to 00:30 */
	cr_assert_float_eq(d.temp, 59, 1e-12);
	step(&d, 1800, 0);
	cr_assert_float_eq(d.temp, 59, 1e-12);
}

static struct gf_device_ev_params car(void)
{
	struct gf_device_ev_params p = {
	    .capacity_kwh = 60,
	    .max_kw = 11,
	    .efficiency = 1,
	    .arrive = 72, /* 18:00 */
	    .depart = 28, /* 07:00 the next day */
	    .soe_arrive_kwh = 10,
	    .soe_target_kwh = 40,
	};
	return p;
}

Test(device, ev_charges_only_while_plugged_in_and_must_charge_before_departure)
{
	struct gf_device d;
	struct gf_device_ev_params p = car();

	cr_assert_eq(gf_device_ev_init(&d, &p, 0, NULL, 0), GF_OK); /* 00:00: still plugged in */
	cr_assert_eq(d.connected, 1);
	cr_assert_eq(d.depart_t, 7 * H);
	p.depart = 80; /* same-day session 18:00-20:00: not plugged in at midnight */
	cr_assert_eq(gf_device_ev_init(&d, &p, 0, NULL, 0), GF_OK);
	cr_assert_eq(d.connected, 0);

	p = car();
	cr_assert_eq(gf_device_ev_init(&d, &p, 8 * H, NULL, 0), GF_OK);
	cr_assert_eq(d.connected, 0);
	STEP_EQ(&d, 10 * H, 11, 0, 1e-12); /* 08:00-18:00: away */
	STEP_EQ(&d, H, 11, 11, 1e-12);     /* 18:00-19:00 */
	cr_assert_eq(d.connected, 1);
	cr_assert_float_eq(d.soe_kwh, 21, 1e-12);
	/* Commanded off all night: 19 kWh missing, 11 kW charger, so nothing
	 * until 05:15, then 10 kW for a quarter and 11 kW to 07:00. */
	STEP_EQ(&d, 10.25 * H, 0, 0, 1e-12); /* to 05:15 */
	STEP_EQ(&d, 900, 0, 2.5, 1e-12);
	STEP_EQ(&d, 1.5 * H, 0, 16.5, 1e-12);
	cr_assert_float_eq(d.soe_kwh, 40, 1e-12);
	STEP_EQ(&d, H, 11, 0, 1e-12); /* 07:00: gone */
	cr_assert_eq(d.connected, 0);
}

Test(device, ev_stops_at_target_and_counts_efficiency)
{
	struct gf_device d;
	struct gf_device_ev_params p = car();

	p.efficiency = 0.9;
	cr_assert_eq(gf_device_ev_init(&d, &p, 18 * H, NULL, 0), GF_OK);
	cr_assert_eq(d.connected, 1);
	/* 30 kWh into the car take 30 / 0.9 = 33.333 kWh from the grid. */
	STEP_EQ(&d, 5 * H, 11, 30 / 0.9, 1e-9);
	cr_assert_float_eq(d.soe_kwh, 40, 1e-12);
}

static struct gf_device_battery_params home_battery(void)
{
	struct gf_device_battery_params p = {
	    .capacity_kwh = 10,
	    .soc0 = 0.5,
	    .soc_min = 0.1,
	    .soc_max = 0.9,
	    .charge_kw = 5,
	    .discharge_kw = 5,
	    .round_trip = 0.81, /* 0.9 each way */
	};
	return p;
}

Test(device, battery_limits_and_losses)
{
	struct gf_device d;
	struct gf_device_battery_params p = home_battery();

	cr_assert_eq(gf_device_battery_init(&d, &p, 0, NULL, 0), GF_OK);
	/* 2.5 kWh from the grid store 2.25 kWh: SoC 0.5 -> 0.725. */
	STEP_EQ(&d, 1800, 5, 2.5, 1e-12);
	cr_assert_float_eq(d.soc, 0.725, 1e-12);
	/* Room for 1.75 kWh: 1.75 / 0.9 from the grid, then full. */
	STEP_EQ(&d, 1800, 7, 1.75 / 0.9, 1e-12);
	cr_assert_float_eq(d.soc, 0.9, 1e-12);
	/* 5 kWh delivered take 5 / 0.9 out of the cells: production negative. */
	STEP_EQ(&d, H, -9, -5, 1e-12);
	cr_assert_float_eq(d.soc, 0.9 - 0.5 / 0.9, 1e-12);
	/* Down to 10 %: (0.34444 - 0.1) * 10 * 0.9 = 2.2 kWh. */
	STEP_EQ(&d, H, -5, -2.2, 1e-9);
	cr_assert_float_eq(d.soc, 0.1, 1e-12);
}

static struct gf_device_cycle_params washer(void)
{
	struct gf_device_cycle_params p;
	memset(&p, 0, sizeof p);
	p.n = 4;
	p.kwh[0] = 0.5;
	p.kwh[1] = 0.3;
	p.kwh[2] = 0;
	p.kwh[3] = 0.7;
	p.earliest = 32; /* 08:00 */
	p.latest = 60;   /* 15:00 */
	return p;
}

Test(device, cycle_starts_in_its_window_once_a_day)
{
	struct gf_device d;
	struct gf_device_cycle_params p = washer();
	double want[4] = {0.5, 0.3, 0, 0.7}, got[4];

	cr_assert_eq(gf_device_cycle_init(&d, &p, 7 * H, NULL, 0), GF_OK);
	STEP_EQ(&d, H, 1, 0, 1e-12); /* 07:00: before the window */
	STEP_EQ(&d, 2 * H, 0, 0, 1e-12);
	/* Started at 10:00 by the command; each quarter its slice. */
	const double on[4] = {0.01, 0, 0, 0};
	cr_assert_eq(gf_device_follow(&d, on, 4, got), GF_OK);
	for (int k = 0; k < 4; k++)
		cr_assert_float_eq(got[k], want[k], 1e-12);
	cr_assert_eq(d.run_start, 10 * H);
	/* Not twice the same day. */
	STEP_EQ(&d, H, 1, 0, 1e-12);
	/* Next day, never commanded: it starts by itself at 15:00. */
	STEP_EQ(&d, 28 * H, 0, 1.5, 1e-12); /* 12:00 to 16:00 the next day */
	cr_assert_eq(d.run_start, DAY_S + 15 * H);
	/* A half-quarter step takes half the slice. */
	cr_assert_eq(gf_device_cycle_init(&d, &p, 8 * H, NULL, 0), GF_OK);
	STEP_EQ(&d, 450, 1, 0.25, 1e-12);
	STEP_EQ(&d, 900, 0, 0.25 + 0.15, 1e-12);
}

Test(device, follow_reports_what_was_really_done)
{
	struct gf_device d;
	struct gf_device_thermal_params p = boiler(0, 79);
	const double target[2] = {0.5, 0.5};
	double got[2] = {-1, -1};

	cr_assert_eq(gf_device_thermal_init(&d, &p, 100, NULL, 0), GF_OK);
	cr_assert_eq(gf_device_follow(&d, target, 2, got), GF_EINVAL); /* not aligned */
	cr_assert_eq(got[0], -1);
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	cr_assert_eq(gf_device_follow(&d, target, 2, got), GF_OK);
	cr_assert_float_eq(got[0], 0.2326, 1e-12); /* stopped at 80 deg C */
	cr_assert_float_eq(got[1], 0, 1e-12);
	cr_assert_eq(gf_device_interval(&d), 2);
}

Test(device, uncontrolled_behaviour)
{
	struct gf_device d;
	struct gf_device_thermal_params p = boiler(0, 55);
	struct gf_device_ev_params e = car();
	struct gf_device_battery_params b = home_battery();

	/* Mid-band is 60: 5 K * 0.2326 kWh/K in a quarter = 4.652 kW, rated 2. */
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	cr_assert_float_eq(gf_device_uncontrolled_kw(&d), 2, 1e-12);
	p.t0 = 59.9; /* 0.1 K: 0.02326 kWh in 0.25 h = 0.09304 kW */
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	cr_assert_float_eq(gf_device_uncontrolled_kw(&d), 0.09304, 1e-9);
	cr_assert_eq(gf_device_ev_init(&d, &e, 0, NULL, 0), GF_OK);
	cr_assert_float_eq(gf_device_uncontrolled_kw(&d), 11, 1e-12);
	cr_assert_eq(gf_device_battery_init(&d, &b, 0, NULL, 0), GF_OK);
	cr_assert_float_eq(gf_device_uncontrolled_kw(&d), 0, 1e-12);
}

/* Every refusal says why and leaves the device untouched. */
Test(device, bad_parameters_refused_with_a_reason)
{
	struct gf_device d, sentinel;
	char err[128];
	memset(&sentinel, 0xA5, sizeof sentinel);

#define REFUSE(call, words)                                                                        \
	do {                                                                                       \
		d = sentinel;                                                                      \
		err[0] = '\0';                                                                     \
		cr_assert_eq(call, GF_EINVAL);                                                     \
		cr_assert(strstr(err, words), "'%s' lacks '%s'", err, words);                      \
		cr_assert(memcmp(&d, &sentinel, sizeof d) == 0);                                   \
	} while (0)

	struct gf_device_thermal_params t = boiler(0, 50);
	t.rated_kw = 0;
	REFUSE(gf_device_thermal_init(&d, &t, 0, err, sizeof err), "rated power");
	t = boiler(-1, 50);
	REFUSE(gf_device_thermal_init(&d, &t, 0, err, sizeof err), "UA");
	t = boiler(0, 90);
	REFUSE(gf_device_thermal_init(&d, &t, 0, err, sizeof err), "initial temperature");
	t = boiler(0, 50);
	t.draw_kw[7] = NAN;
	REFUSE(gf_device_thermal_init(&d, &t, 0, err, sizeof err), "interval 7");
	t = boiler(0, 50);
	REFUSE(gf_device_thermal_init(&d, &t, INFINITY, err, sizeof err), "start time");

	struct gf_device_ev_params e = car();
	e.soe_target_kwh = 70;
	REFUSE(gf_device_ev_init(&d, &e, 0, err, sizeof err), "capacity");
	e = car();
	e.depart = 96;
	REFUSE(gf_device_ev_init(&d, &e, 0, err, sizeof err), "intervals of the day");
	e = car();
	e.efficiency = 1.5;
	REFUSE(gf_device_ev_init(&d, &e, 0, err, sizeof err), "efficiency");

	struct gf_device_battery_params b = home_battery();
	b.soc0 = 0.95;
	REFUSE(gf_device_battery_init(&d, &b, 0, err, sizeof err), "soc_max");
	b = home_battery();
	b.discharge_kw = NAN;
	REFUSE(gf_device_battery_init(&d, &b, 0, err, sizeof err), "discharge");

	struct gf_device_cycle_params c = washer();
	c.kwh[0] = 0;
	REFUSE(gf_device_cycle_init(&d, &c, 0, err, sizeof err), "first slice");
	c = washer();
	c.latest = 10;
	REFUSE(gf_device_cycle_init(&d, &c, 0, err, sizeof err), "earliest");
	c = washer();
	c.n = GF_DEVICE_MAX_CYCLE + 1;
	REFUSE(gf_device_cycle_init(&d, &c, 0, err, sizeof err), "slices");
	c = washer();
	c.kwh[2] = -0.1;
	REFUSE(gf_device_cycle_init(&d, &c, 0, err, sizeof err), "slice 2");
#undef REFUSE

	/* A bad step changes nothing. */
	struct gf_device_battery_params ok = home_battery();
	double kwh = 42;
	cr_assert_eq(gf_device_battery_init(&d, &ok, 0, NULL, 0), GF_OK);
	sentinel = d;
	cr_assert_eq(gf_device_step(&d, 0, 1, &kwh), GF_EINVAL);
	cr_assert_eq(gf_device_step(&d, NAN, 1, &kwh), GF_EINVAL);
	cr_assert_eq(gf_device_step(&d, 60, INFINITY, &kwh), GF_EINVAL);
	cr_assert_eq(kwh, 42);
	cr_assert(memcmp(&d, &sentinel, sizeof d) == 0);
}
