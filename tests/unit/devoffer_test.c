/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/devices/devoffer.h: worked offers, and the key property: every
 * schedule inside an offer, applied to the device, is carried out exactly and
 * keeps the device inside its limits and the user's comfort band. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "devices/devoffer.h"
#include "engine/fo.h"
#include "engine/javarand.h"

#include "leak_check.h"

TestSuite(devoffer, .fini = leak_check);

#define MAXS   GF_DEVOFFER_MAX_SLICES
#define TOL    1e-9
#define DAY_S  86400.0
#define TRIALS 300

struct offer {
	struct gf_fo fo;
	double lower[MAXS], upper[MAXS], dflt[MAXS];
};

static enum gf_err build(const struct gf_device *d, const struct gf_devoffer_user *u, int32_t h,
                         const double *dflt_in, struct offer *o, char *err, size_t errlen)
{
	return gf_devoffer_build(d, u, h, dflt_in, &o->fo, o->lower, o->upper, o->dflt, MAXS, err,
	                         errlen);
}

/* The offer is well formed: bounds ordered, default inside, totals met, and
 * the engine takes it. */
static void assert_feasible(const struct gf_fo *fo)
{
	struct gf_fo_set set;
	double sum = 0;

	for (int32_t k = 0; k < fo->n; k++) {
		cr_assert(fo->lower[k] <= fo->dflt[k] + TOL && fo->dflt[k] <= fo->upper[k] + TOL,
		          "slice %d: %g <= %g <= %g", (int)k, fo->lower[k], fo->dflt[k],
		          fo->upper[k]);
		sum += fo->dflt[k];
	}
	if (!isnan(fo->total_min))
		cr_assert(sum >= fo->total_min - TOL);
	if (!isnan(fo->total_max))
		cr_assert(sum <= fo->total_max + TOL);
	cr_assert_eq(gf_fo_set_init(&set, 1, (size_t)fo->n), GF_OK);
	cr_assert_eq(gf_fo_set_add(&set, fo), GF_OK);
	gf_fo_set_free(&set);
}

/* A random schedule inside the offer. Trials 0..2 are the corners (all
 * lower, all upper, alternating); the others uniform per slice. With total
 * bounds, the amounts are moved towards the bounds in proportion to each
 * slice's room until the sum fits. */
static void random_schedule(struct gf_javarand *r, const struct gf_fo *fo, int trial, double *x)
{
	double sum = 0;
	for (int32_t k = 0; k < fo->n; k++) {
		double u = trial == 0   ? 0
		           : trial == 1 ? 1
		           : trial == 2 ? (double)(k % 2)
		                        : gf_javarand_next_double(r);
		x[k] = fo->lower[k] + u * (fo->upper[k] - fo->lower[k]);
		sum += x[k];
	}
	if (!isnan(fo->total_min) && sum < fo->total_min) {
		double room = 0;
		for (int32_t k = 0; k < fo->n; k++)
			room += fo->upper[k] - x[k];
		double f = (fo->total_min - sum) / room;
		for (int32_t k = 0; k < fo->n; k++)
			x[k] += f * (fo->upper[k] - x[k]);
	} else if (!isnan(fo->total_max) && sum > fo->total_max) {
		double room = 0;
		for (int32_t k = 0; k < fo->n; k++)
			room += x[k] - fo->lower[k];
		double f = (sum - fo->total_max) / room;
		for (int32_t k = 0; k < fo->n; k++)
			x[k] -= f * (x[k] - fo->lower[k]);
	}
}

/* --- thermal ----------------------------------------------------------------------- */

static struct gf_device_thermal_params heat_pump(struct gf_javarand *r)
{
	struct gf_device_thermal_params p;
	memset(&p, 0, sizeof p);
	p.rated_kw = 1 + 3 * gf_javarand_next_double(r);
	p.cop = 1 + 3 * gf_javarand_next_double(r);
	p.c_kwh_k = 0.1 + 0.5 * gf_javarand_next_double(r);
	p.ua_kw_k = 0.01 * gf_javarand_next_double(r);
	p.t_ambient = 15;
	p.t_min = 35;
	p.t_max = 85;
	p.t0 = 45 + 15 * gf_javarand_next_double(r);
	for (int i = 0; i < GF_DEVICE_DAY; i++)
		p.draw_kw[i] = (i % 7 == 0 ? 2 : 0.2) * gf_javarand_next_double(r);
	return p;
}

Test(devoffer, thermal_worked_example)
{
	struct gf_device d;
	struct gf_device_thermal_params p;
	struct gf_devoffer_user u;
	struct offer o;

	/* Insulated 200 l boiler, 2 kW, no draw, at 50 deg C, comfort 50..60:
	 * nothing is needed (lower 0) and 10 K * 0.2326 = 2.326 kWh fit: four
	 * quarters at 0.5 kWh, then 0.326, then none. */
	memset(&p, 0, sizeof p);
	p.rated_kw = 2;
	p.cop = 1;
	p.c_kwh_k = 0.2326;
	p.t_min = 40;
	p.t_max = 80;
	p.t0 = 50;
	cr_assert_eq(gf_device_thermal_init(&d, &p, 900 * 40, NULL, 0), GF_OK);
	gf_devoffer_user_init(&u);
	u.comfort_min = 50;
	u.comfort_max = 60;
	cr_assert_eq(build(&d, &u, 8, NULL, &o, NULL, 0), GF_OK);
	cr_assert_eq(o.fo.start_after, 40);
	cr_assert_eq(o.fo.tf, 0);
	cr_assert_eq(o.fo.n, 8);
	const double up[8] = {0.5, 0.5, 0.5, 0.5, 0.326, 0, 0, 0};
	for (int k = 0; k < 8; k++) {
		cr_assert_float_eq(o.lower[k], 0, 1e-12);
		cr_assert_float_eq(o.upper[k], up[k], 1e-12, "slice %d: %g", k, o.upper[k]);
	}
	/* Uncontrolled default aims at 55: 5 K = 1.163 kWh, i.e. 0.5, 0.5, 0.163. */
	cr_assert_float_eq(o.dflt[0], 0.5, 1e-12);
	cr_assert_float_eq(o.dflt[2], 0.163, 1e-12);
	cr_assert_float_eq(o.dflt[3], 0, 1e-12);
	assert_feasible(&o.fo);

	/* Forbidden hours keep the default; one interruption allowed with a
	 * 0.1 kWh floor: only the first slice may be off. */
	cr_assert_eq(gf_devoffer_user_hours(&u, 41, 42, 0), GF_OK);
	u.max_interruptions = 1;
	u.min_run_kwh = 0.1;
	cr_assert_eq(build(&d, &u, 8, NULL, &o, NULL, 0), GF_OK);
	cr_assert_float_eq(o.lower[0], 0, 1e-12);
	cr_assert_float_eq(o.lower[1], o.upper[1], 1e-12);
	cr_assert_float_eq(o.lower[2], 0.1, 1e-12);
	assert_feasible(&o.fo);
}

Test(devoffer, thermal_property_any_schedule_keeps_comfort)
{
	struct gf_javarand r;
	gf_javarand_init(&r, 20261126);

	for (int cfg = 0; cfg < 40; cfg++) {
		struct gf_device_thermal_params p = heat_pump(&r);
		struct gf_device d;
		struct gf_devoffer_user u;
		struct offer o;
		double x[MAXS], got;
		int32_t h = 8 + (int32_t)(gf_javarand_next_double(&r) * 88);

		cr_assert_eq(gf_device_thermal_init(&d, &p, 900.0 * (cfg * 7), NULL, 0), GF_OK);
		gf_devoffer_user_init(&u);
		u.comfort_min = 40 + 5 * gf_javarand_next_double(&r);
		u.comfort_max = 60 + 20 * gf_javarand_next_double(&r);
		cr_assert_eq(gf_devoffer_user_hours(&u, 68, 80, 0), GF_OK); /* 17-20h */
		if (cfg % 2) {
			u.max_interruptions = cfg % 5;
			u.min_run_kwh = 0.05;
		}
		cr_assert_eq(build(&d, &u, h, NULL, &o, NULL, 0), GF_OK);
		assert_feasible(&o.fo);
		for (int trial = 0; trial < TRIALS / 10; trial++) {
			struct gf_device run = d;
			int offs = 0;
			random_schedule(&r, &o.fo, trial, x);
			for (int32_t k = 0; k < o.fo.n; k++) {
				cr_assert_eq(gf_device_follow(&run, &x[k], 1, &got), GF_OK);
				cr_assert_float_eq(got, x[k], TOL, "cfg %d trial %d slice %d", cfg,
				                   trial, (int)k);
				cr_assert(run.temp >= u.comfort_min - TOL &&
				              run.temp <= u.comfort_max + TOL,
				          "cfg %d trial %d slice %d: %g deg C", cfg, trial, (int)k,
				          run.temp);
				/* Off where it could run: slices whose upper bound is
				 * under the floor are the thermostat's (tank full). */
				offs += u.allowed[(o.fo.start_after + k) % 96] &&
				        o.upper[k] >= u.min_run_kwh && x[k] < u.min_run_kwh;
			}
			if (u.max_interruptions >= 0)
				cr_assert_leq(offs, u.max_interruptions);
		}
	}
}

/* --- battery ------------------------------------------------------------------------ */

Test(devoffer, battery_worked_example_and_property)
{
	struct gf_device_battery_params p = {10, 0.5, 0.1, 0.9, 5, 5, 0.81};
	struct gf_device d;
	struct gf_devoffer_user u;
	struct offer o;
	struct gf_javarand r;

	/* Headroom up (0.9 - 0.5) * 10 / 0.9 = 4.444 grid kWh over 4 slices:
	 * 1.111 each (under 1.25 = 5 kW * 0.25 h); down (0.5 - 0.1) * 10 * 0.9
	 * = 3.6: 0.9 each. */
	cr_assert_eq(gf_device_battery_init(&d, &p, 0, NULL, 0), GF_OK);
	gf_devoffer_user_init(&u);
	cr_assert_eq(build(&d, &u, 4, NULL, &o, NULL, 0), GF_OK);
	cr_assert_float_eq(o.upper[0], 4.0 / 0.9 / 4, 1e-12);
	cr_assert_float_eq(o.lower[3], -0.9, 1e-12);
	cr_assert_float_eq(o.dflt[1], 0, 1e-12);

	gf_javarand_init(&r, 7);
	for (int cfg = 0; cfg < 20; cfg++) {
		p.soc0 = 0.1 + 0.8 * gf_javarand_next_double(&r);
		p.round_trip = 0.7 + 0.3 * gf_javarand_next_double(&r);
		p.charge_kw = 1 + 5 * gf_javarand_next_double(&r);
		cr_assert_eq(gf_device_battery_init(&d, &p, 0, NULL, 0), GF_OK);
		gf_devoffer_user_init(&u);
		u.comfort_min = fmin(p.soc0, 0.2);
		u.comfort_max = fmax(p.soc0, 0.8);
		cr_assert_eq(gf_devoffer_user_hours(&u, 0, 24, 0), GF_OK);
		int32_t h = 4 + cfg * 4;
		cr_assert_eq(build(&d, &u, h, NULL, &o, NULL, 0), GF_OK);
		assert_feasible(&o.fo);
		for (int trial = 0; trial < TRIALS / 10; trial++) {
			struct gf_device run = d;
			double x[MAXS], got;
			random_schedule(&r, &o.fo, trial, x);
			for (int32_t k = 0; k < h; k++) {
				cr_assert_eq(gf_device_follow(&run, &x[k], 1, &got), GF_OK);
				cr_assert_float_eq(got, x[k], TOL);
				cr_assert(run.soc >= u.comfort_min - TOL &&
				          run.soc <= u.comfort_max + TOL);
			}
		}
	}
}

/* --- EV ----------------------------------------------------------------------------- */

Test(devoffer, ev_offer_and_property)
{
	struct gf_device_ev_params p = {60, 11, 0.9, 72, 28, 10, 40};
	struct gf_device d;
	struct gf_devoffer_user u;
	struct offer o;
	struct gf_javarand r;
	char err[160];

	/* At noon the car is away: the offer is the next session, 18:00-07:00,
	 * 52 slices, 30 / 0.9 kWh from the grid in total. */
	cr_assert_eq(gf_device_ev_init(&d, &p, 12 * 3600.0, NULL, 0), GF_OK);
	gf_devoffer_user_init(&u);
	cr_assert_eq(build(&d, &u, 0, NULL, &o, NULL, 0), GF_OK);
	cr_assert_eq(o.fo.start_after, 72);
	cr_assert_eq(o.fo.n, 52);
	cr_assert_float_eq(o.fo.total_min, 30 / 0.9, 1e-12);
	cr_assert_float_eq(o.fo.total_max, 30 / 0.9, 1e-12);
	cr_assert_float_eq(o.upper[5], 2.75, 1e-12);
	cr_assert_float_eq(o.dflt[0], 2.75, 1e-12); /* charging at once by default */
	cr_assert_float_eq(o.dflt[51], 0, 1e-12);
	assert_feasible(&o.fo);

	/* Charging allowed only 02:00-03:00: 11 kWh < 33.3 kWh needed. */
	cr_assert_eq(gf_devoffer_user_hours(&u, 0, 0, 0), GF_OK);
	cr_assert_eq(gf_devoffer_user_hours(&u, 8, 12, 1), GF_OK);
	cr_assert_eq(build(&d, &u, 0, NULL, &o, err, sizeof err), GF_ERANGE);
	cr_assert(strstr(err, "allowed hours"), "%s", err);

	gf_javarand_init(&r, 99);
	for (int cfg = 0; cfg < 20; cfg++) {
		p.arrive = (int32_t)(gf_javarand_next_double(&r) * 96);
		p.depart = (p.arrive + 24 + (int32_t)(gf_javarand_next_double(&r) * 60)) % 96;
		p.efficiency = 0.85 + 0.15 * gf_javarand_next_double(&r);
		p.soe_target_kwh = 20 + 30 * gf_javarand_next_double(&r);
		/* At arrival, or up to 2 intervals before it. */
		double t0 = 900.0 * (96 * (cfg + 1) + p.arrive - cfg % 3);
		cr_assert_eq(gf_device_ev_init(&d, &p, t0, NULL, 0), GF_OK);
		gf_devoffer_user_init(&u);
		if (cfg % 2) {
			u.max_interruptions = 3;
			u.min_run_kwh = 0.1;
		}
		cr_assert_eq(build(&d, &u, 0, NULL, &o, err, sizeof err), GF_OK, "%s", err);
		assert_feasible(&o.fo);
		for (int trial = 0; trial < TRIALS / 10; trial++) {
			struct gf_device run = d;
			double x[MAXS], got[MAXS], wait[MAXS] = {0};
			int32_t before = o.fo.start_after - gf_device_interval(&d);
			random_schedule(&r, &o.fo, trial, x);
			cr_assert_eq(gf_device_follow(&run, wait, (size_t)before, got), GF_OK);
			cr_assert_eq(gf_device_follow(&run, x, (size_t)o.fo.n, got), GF_OK);
			for (int32_t k = 0; k < o.fo.n; k++)
				cr_assert_float_eq(got[k], x[k], TOL, "cfg %d slice %d", cfg,
				                   (int)k);
			/* It left with what it wanted, and the charger never exceeded its power. */
			cr_assert_eq(run.connected, 1);
			cr_assert_float_eq(run.soe_kwh, p.soe_target_kwh, 1e-9);
			cr_assert_eq(run.t, run.depart_t);
		}
	}
}

/* --- white goods ----------------------------------------------------------------------- */

Test(devoffer, cycle_window_follows_allowed_hours_and_any_start_runs_once)
{
	struct gf_device_cycle_params p;
	struct gf_device d;
	struct gf_devoffer_user u;
	struct offer o;
	char err[160];

	memset(&p, 0, sizeof p);
	p.n = 4;
	p.kwh[0] = 0.5;
	p.kwh[1] = 0.3;
	p.kwh[3] = 0.7;
	p.earliest = 32;
	p.latest = 60;
	cr_assert_eq(gf_device_cycle_init(&d, &p, 0, NULL, 0), GF_OK);
	gf_devoffer_user_init(&u);
	cr_assert_eq(build(&d, &u, 0, NULL, &o, NULL, 0), GF_OK);
	cr_assert_eq(o.fo.start_after, 32);
	cr_assert_eq(o.fo.tf, 28);
	cr_assert_float_eq(o.lower[1], 0.3, 0);
	cr_assert_float_eq(o.upper[3], 0.7, 0);
	assert_feasible(&o.fo);
	/* 08:00-10:00 and 12:30-13:00 forbidden: starts 40..46 fit. */
	cr_assert_eq(gf_devoffer_user_hours(&u, 32, 40, 0), GF_OK);
	cr_assert_eq(gf_devoffer_user_hours(&u, 50, 52, 0), GF_OK);
	cr_assert_eq(build(&d, &u, 0, NULL, &o, NULL, 0), GF_OK);
	cr_assert_eq(o.fo.start_after, 40);
	cr_assert_eq(o.fo.tf, 6);

	/* Every start in the offer runs the profile exactly there, once. */
	for (int32_t s = o.fo.start_after; s <= o.fo.start_after + o.fo.tf; s++) {
		struct gf_device run = d;
		double cmd[96] = {0}, got[96];
		for (int32_t k = 0; k < p.n; k++)
			cmd[s + k] = o.lower[k];
		cr_assert_eq(gf_device_follow(&run, cmd, 96, got), GF_OK);
		for (int32_t i = 0; i < 96; i++)
			cr_assert_float_eq(got[i], cmd[i], 1e-12, "start %d interval %d", (int)s,
			                   (int)i);
	}
	/* After today's run the offer is tomorrow's. */
	struct gf_device ran = d;
	double on = 1, got;
	ran.t = 40 * 900.0;
	cr_assert_eq(gf_device_follow(&ran, &on, 1, &got), GF_OK);
	cr_assert_eq(build(&ran, &u, 0, NULL, &o, NULL, 0), GF_OK);
	cr_assert_eq(o.fo.start_after, 96 + 40);
	/* Nothing fits anywhere. */
	cr_assert_eq(gf_devoffer_user_hours(&u, 0, 0, 0), GF_OK);
	cr_assert_eq(build(&d, &u, 0, NULL, &o, err, sizeof err), GF_ERANGE);
	cr_assert(strstr(err, "no start"), "%s", err);
}

/* --- helpers and refusals --------------------------------------------------------------- */

Test(devoffer, history_default_is_the_mean_of_the_same_interval)
{
	double hist[3 * 96], out[3] = {-1, -1, -1};
	for (int i = 0; i < 3 * 96; i++)
		hist[i] = NAN;
	/* Interval 95 then 0, 1 of the next day (wrapping). */
	hist[95] = 1.0;
	hist[96 + 95] = 2.0;
	hist[2 * 96 + 95] = 6.0;
	hist[0] = 0.5;
	hist[2 * 96 + 0] = 1.5;
	cr_assert_eq(gf_devoffer_history_default(hist, 3, 95 + 96 * 100, 3, out), GF_OK);
	cr_assert_float_eq(out[0], 3.0, 1e-12);
	cr_assert_float_eq(out[1], 1.0, 1e-12);
	cr_assert(isnan(out[2]));
	cr_assert_eq(gf_devoffer_history_default(hist, 0, 0, 3, out), GF_EINVAL);
	cr_assert_float_eq(out[0], 3.0, 1e-12);
}

Test(devoffer, commands_from_an_assigned_schedule)
{
	struct gf_device d;
	struct gf_device_thermal_params p;
	struct gf_devoffer_cmd c[3] = {{-1, -1}, {-1, -1}, {-1, -1}};
	const double kwh[3] = {0.25, 0.5, 0}, bad[2] = {0.1, NAN};

	memset(&p, 0, sizeof p);
	p.rated_kw = 2;
	p.cop = 1;
	p.c_kwh_k = 0.2326;
	p.t_min = 40;
	p.t_max = 80;
	p.t0 = 50;
	cr_assert_eq(gf_device_thermal_init(&d, &p, 0, NULL, 0), GF_OK);
	/* 0.25 kWh at 2 kW: 1 kW average, on for 450 of 900 s. */
	cr_assert_eq(gf_devoffer_commands(&d, kwh, 3, c), GF_OK);
	cr_assert_float_eq(c[0].kw, 1, 1e-12);
	cr_assert_float_eq(c[0].on_s, 450, 1e-9);
	cr_assert_float_eq(c[1].on_s, 900, 1e-9);
	cr_assert_float_eq(c[2].on_s, 0, 1e-9);
	c[0].kw = -1;
	cr_assert_eq(gf_devoffer_commands(&d, bad, 2, c), GF_EINVAL);
	cr_assert_eq(c[0].kw, -1);
}

Test(devoffer, bad_arguments_refused_with_a_reason)
{
	struct gf_device d;
	struct gf_device_battery_params p = {10, 0.5, 0.1, 0.9, 5, 5, 0.81};
	struct gf_devoffer_user u;
	struct offer o;
	char err[160];

	memset(&o, 0x5A, sizeof o);
	struct offer before = o;
	cr_assert_eq(gf_device_battery_init(&d, &p, 100, NULL, 0), GF_OK);
	gf_devoffer_user_init(&u);
	cr_assert_eq(build(&d, &u, 4, NULL, &o, err, sizeof err), GF_EINVAL);
	cr_assert(strstr(err, "interval boundary"), "%s", err);
	cr_assert_eq(gf_device_battery_init(&d, &p, 0, NULL, 0), GF_OK);
	cr_assert_eq(build(&d, &u, 0, NULL, &o, err, sizeof err), GF_EINVAL);
	cr_assert(strstr(err, "horizon"), "%s", err);
	u.comfort_min = 0.05;
	cr_assert_eq(build(&d, &u, 4, NULL, &o, err, sizeof err), GF_EINVAL);
	cr_assert(strstr(err, "SoC band"), "%s", err);
	cr_assert_eq(
	    gf_devoffer_build(&d, &u, 4, NULL, &o.fo, o.lower, o.upper, o.dflt, 3, err, sizeof err),
	    GF_ERANGE);
	cr_assert(memcmp(&o, &before, sizeof o) == 0);
	cr_assert_eq(gf_devoffer_user_hours(&u, 0, 97, 1), GF_EINVAL);
}

Test(devoffer, edge_cases_floors_best_effort_and_plug_durations)
{
	struct gf_device d;
	struct gf_devoffer_user u;
	struct offer o;
	struct gf_devoffer_cmd c[2];

	/* A draw the heater cannot match: best effort, lower = upper = rated. */
	struct gf_device_thermal_params t;
	memset(&t, 0, sizeof t);
	t.rated_kw = 2;
	t.cop = 1;
	t.c_kwh_k = 0.2326;
	t.t_min = 40;
	t.t_max = 80;
	t.t0 = 50;
	for (int i = 0; i < 96; i++)
		t.draw_kw[i] = 10;
	cr_assert_eq(gf_device_thermal_init(&d, &t, 0, NULL, 0), GF_OK);
	gf_devoffer_user_init(&u);
	cr_assert_eq(build(&d, &u, 4, NULL, &o, NULL, 0), GF_OK);
	/* Slice 0 falls from 50 to 40 - 0.748 deg C unheated: 2.5 - 10 * 0.2326
	 * = 0.174 kWh hold 40; from then on not even 2 kW do. */
	cr_assert_float_eq(o.lower[0], 0.174, 1e-12);
	for (int k = 0; k < 4; k++) {
		if (k > 0)
			cr_assert_float_eq(o.lower[k], 0.5, 1e-12);
		cr_assert_float_eq(o.upper[k], 0.5, 1e-12);
	}

	/* EV with one interruption and a 0.2 kWh floor: all but the last
	 * allowed slice run at least 0.2 kWh. */
	struct gf_device_ev_params e = {60, 11, 1, 72, 28, 20, 40};
	cr_assert_eq(gf_device_ev_init(&d, &e, 72 * 900.0, NULL, 0), GF_OK);
	u.max_interruptions = 1;
	u.min_run_kwh = 0.2;
	cr_assert_eq(build(&d, &u, 0, NULL, &o, NULL, 0), GF_OK);
	cr_assert_eq(o.fo.n, 52);
	cr_assert_float_eq(o.lower[0], 0.2, 1e-12);
	cr_assert_float_eq(o.lower[50], 0.2, 1e-12);
	cr_assert_float_eq(o.lower[51], 0, 1e-12);
	/* Floors of 52 * 0.5 = 26 kWh exceed the 20 kWh the car needs. */
	u.min_run_kwh = 0.5;
	u.max_interruptions = 0;
	char err[160];
	cr_assert_eq(build(&d, &u, 0, NULL, &o, err, sizeof err), GF_ERANGE);
	cr_assert(strstr(err, "interruption limit"), "%s", err);

	/* Plug durations: EV at 11 kW, 1.375 kWh = half the interval. */
	const double ev_kwh[2] = {1.375, 0};
	cr_assert_eq(gf_devoffer_commands(&d, ev_kwh, 2, c), GF_OK);
	cr_assert_float_eq(c[0].kw, 5.5, 1e-12);
	cr_assert_float_eq(c[0].on_s, 450, 1e-9);
	/* A battery moves energy for the whole interval, either way. */
	struct gf_device_battery_params b = {10, 0.5, 0.1, 0.9, 5, 5, 0.81};
	const double b_kwh[2] = {-0.5, 0};
	cr_assert_eq(gf_device_battery_init(&d, &b, 0, NULL, 0), GF_OK);
	cr_assert_eq(gf_devoffer_commands(&d, b_kwh, 2, c), GF_OK);
	cr_assert_float_eq(c[0].kw, -2, 1e-12);
	cr_assert_float_eq(c[0].on_s, 900, 0);
	cr_assert_float_eq(c[1].on_s, 0, 0);
	/* A cycle keeps the plug on through zero-energy slices; loads refuse
	 * negative amounts. */
	struct gf_device_cycle_params cy;
	memset(&cy, 0, sizeof cy);
	cy.n = 2;
	cy.kwh[0] = 0.5;
	cy.earliest = 0;
	cy.latest = 95;
	const double cy_kwh[2] = {0.5, 0};
	cr_assert_eq(gf_device_cycle_init(&d, &cy, 0, NULL, 0), GF_OK);
	cr_assert_eq(gf_devoffer_commands(&d, cy_kwh, 2, c), GF_OK);
	cr_assert_float_eq(c[1].on_s, 900, 0);
	cr_assert_eq(gf_devoffer_commands(&d, b_kwh, 2, c), GF_EINVAL);
}
