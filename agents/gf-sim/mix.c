/* SPDX-License-Identifier: MIT */
/*
 * mix.c - the seeded draw of a prosumer's devices and its user's
 * constraints (docs/sim.md "Devices" states every range).
 *
 * Each prosumer has its own java.util.Random(seed * 1000003 + number), and
 * every kind is drawn in a fixed order whether or not the prosumer gets it,
 * so a prosumer's devices depend on nothing but the seed and its number.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/javarand.h"
#include "prosumer.h"

#define WATER_KWH_PER_L_K (4.186 / 3600.0)

static double uniform(struct gf_javarand *r, double lo, double hi)
{
	return lo + (hi - lo) * gf_javarand_next_double(r);
}

static int32_t pick(struct gf_javarand *r, int32_t lo, int32_t hi)
{
	return lo + (int32_t)floor(gf_javarand_next_double(r) * (double)(hi - lo + 1));
}

static bool chance(struct gf_javarand *r, long pct)
{
	return gf_javarand_next_double(r) * 100.0 < (double)pct;
}

/* A resistive hot-water boiler: 150-300 l, 2-3 kW, two draws a day. */
static void draw_boiler(struct gf_javarand *r, struct gf_device_thermal_params *p,
                        struct gf_devoffer_user *u)
{
	double litres = uniform(r, 150, 300), scale = uniform(r, 0.6, 1.4);

	memset(p, 0, sizeof(*p));
	p->rated_kw = uniform(r, 2, 3);
	p->cop = 1;
	p->c_kwh_k = litres * WATER_KWH_PER_L_K;
	p->ua_kw_k = uniform(r, 0.0015, 0.003);
	p->t_ambient = 20;
	p->t_min = 45;
	p->t_max = 80;
	p->t0 = uniform(r, 55, 65);
	for (int i = 0; i < GF_DEVICE_DAY; i++) {
		double heat = 0.1;
		if (i >= 28 && i < 32) /* 07:00-08:00: showers */
			heat = 2.0;
		else if (i >= 76 && i < 84) /* 19:00-21:00: dishes, baths */
			heat = 1.2;
		p->draw_kw[i] = fmin(heat * scale, 0.9 * p->rated_kw * p->cop);
	}
	u->comfort_min = 50;
	u->comfort_max = 70;
}

/* An air-source heat pump on a 300-500 l buffer tank heating the house. */
static void draw_heatpump(struct gf_javarand *r, struct gf_device_thermal_params *p,
                          struct gf_devoffer_user *u)
{
	double litres = uniform(r, 300, 500), heat = uniform(r, 1.0, 2.5);

	memset(p, 0, sizeof(*p));
	p->rated_kw = uniform(r, 1.5, 3);
	p->cop = uniform(r, 2.5, 3.5);
	p->c_kwh_k = litres * WATER_KWH_PER_L_K;
	p->ua_kw_k = uniform(r, 0.002, 0.004);
	p->t_ambient = 15;
	p->t_min = 35;
	p->t_max = 55;
	p->t0 = uniform(r, 42, 48);
	for (int i = 0; i < GF_DEVICE_DAY; i++) {
		double shape = i >= 20 && i < 36 ? 1.3 : i >= 44 && i < 68 ? 0.8 : 1.1;
		p->draw_kw[i] = fmin(heat * shape, 0.8 * p->rated_kw * p->cop);
	}
	u->comfort_min = 38;
	u->comfort_max = 52;
}

/* A car home in the evening, away in the day; the need fits 60 % of what
 * the charger could store in the session, so the offer has room. */
static void draw_ev(struct gf_javarand *r, struct gf_device_ev_params *p)
{
	static const double caps[] = {40, 50, 60, 75}, chargers[] = {3.7, 7.4, 11};
	int32_t stay;
	double room;

	memset(p, 0, sizeof(*p));
	p->capacity_kwh = caps[pick(r, 0, 3)];
	p->max_kw = chargers[pick(r, 0, 2)];
	p->efficiency = 0.9;
	p->arrive = pick(r, 68, 78); /* 17:00-19:30 */
	p->depart = pick(r, 26, 34); /* 06:30-08:30 */
	p->soe_arrive_kwh = p->capacity_kwh * uniform(r, 0.2, 0.5);
	p->soe_target_kwh = p->capacity_kwh * uniform(r, 0.8, 0.9);
	stay = GF_DEVICE_DAY - p->arrive + p->depart;
	room = 0.6 * p->max_kw * 0.25 * stay * p->efficiency;
	if (p->soe_target_kwh - p->soe_arrive_kwh > room)
		p->soe_target_kwh = p->soe_arrive_kwh + room;
}

static void draw_battery(struct gf_javarand *r, struct gf_device_battery_params *p)
{
	memset(p, 0, sizeof(*p));
	p->capacity_kwh = uniform(r, 5, 13.5);
	p->soc0 = 0.5;
	p->soc_min = 0.1;
	p->soc_max = 0.95;
	p->charge_kw = p->discharge_kw = uniform(r, 2.5, 5);
	p->round_trip = 0.9;
}

/* A washing machine or dishwasher: heating first, then washing, a spin. */
static void draw_washer(struct gf_javarand *r, struct gf_device_cycle_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n = pick(r, 4, 8);
	p->kwh[0] = uniform(r, 0.4, 0.55);
	for (int32_t k = 1; k < p->n - 1; k++)
		p->kwh[k] = uniform(r, 0.05, 0.1);
	p->kwh[p->n - 1] = uniform(r, 0.1, 0.2);
	p->earliest = pick(r, 28, 48);             /* 07:00-12:00 */
	p->latest = p->earliest + pick(r, 16, 40); /* 4-10 h later */
	if (p->latest > GF_DEVICE_DAY - p->n)
		p->latest = GF_DEVICE_DAY - p->n;
}

enum gf_err sim_mix_draw(struct sim_prosumer *p, const struct sim_mix *mix, long number,
                         const char *id, const double *base_kwh, int64_t now, char *err,
                         size_t errlen)
{
	struct gf_javarand r;
	struct gf_device_thermal_params th;
	struct gf_device_ev_params ev;
	struct gf_device_battery_params bat;
	struct gf_device_cycle_params cy;
	struct gf_devoffer_user u_th;
	bool has[4], heatpump;
	double t0 = (double)now * GF_DEVICE_SLICE_S;
	enum gf_err rc = GF_OK;

	gf_javarand_init(&r, (int64_t)mix->seed * 1000003 + number);
	gf_devoffer_user_init(&u_th);
	/* Every draw happens, in this order, for every prosumer. */
	has[0] = chance(&r, mix->pct_thermal);
	heatpump = chance(&r, mix->pct_heatpump);
	has[1] = chance(&r, mix->pct_ev);
	has[2] = chance(&r, mix->pct_battery);
	has[3] = chance(&r, mix->pct_white);
	if (heatpump)
		draw_heatpump(&r, &th, &u_th);
	else
		draw_boiler(&r, &th, &u_th);
	draw_ev(&r, &ev);
	draw_battery(&r, &bat);
	draw_washer(&r, &cy);

	snprintf(p->id, sizeof(p->id), "%s", id);
	p->number = number;
	p->profile = (int)((number - 1) % 55) + 1;
	p->base_kwh = base_kwh;
	p->ndev = 0;
	for (int k = 0; k < 4 && rc == GF_OK; k++) {
		struct sim_device *d = &p->dev[p->ndev];
		if (!has[k])
			continue;
		gf_devoffer_user_init(&d->user);
		switch (k) {
		case 0:
			d->kind = heatpump ? "heatpump" : "boiler";
			d->user = u_th;
			rc = gf_device_thermal_init(&d->dev, &th, t0, err, errlen);
			break;
		case 1:
			d->kind = "ev";
			rc = gf_device_ev_init(&d->dev, &ev, t0, err, errlen);
			break;
		case 2:
			d->kind = "battery";
			/* The SoC headroom is shared among the allowed slices:
			 * a few evening hours get more of it than a whole day. */
			(void)gf_devoffer_user_hours(&d->user, 0, 0, 0);
			rc = gf_devoffer_user_hours(&d->user, (int32_t)mix->battery_from,
			                            (int32_t)mix->battery_to, 1);
			if (rc == GF_OK)
				rc = gf_device_battery_init(&d->dev, &bat, t0, err, errlen);
			break;
		default:
			d->kind = "washer";
			rc = gf_device_cycle_init(&d->dev, &cy, t0, err, errlen);
			break;
		}
		if (rc == GF_OK)
			p->ndev++;
	}
	return rc;
}
