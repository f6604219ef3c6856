/* SPDX-License-Identifier: MIT */
/*
 * sim.h - gf-sim, simulated prosumers with an xEMS (docs/sim.md): what its
 * modules share.
 *
 * main.c reads the configuration, opens one bus per prosumer
 * (gf_agent_bus_add, identity xems.<id>), and runs the simulated day: a
 * timer at every interval boundary steps every prosumer (prosumer.c),
 * writes the CSV and, at each day start (and at start), runs an offer
 * round. xems.c is the xEMS side of the bus: xems.flexibility and
 * xems.operation out, foa.reply in. Everything runs on the agent's thread.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/agent.h"
#include "dms.h"
#include "offermsg.h"
#include "plugs.h"
#include "prosumer.h"

struct sim_conf {
	struct gf_agent_conf agent;
	long prosumers, first_id, id_digits;
	char *id_prefix, *id_list, *profiles_dir, *cert_dir, *report_csv;
	char *dms_dir, *dms_timezone;
	long seed, pct_thermal, pct_heatpump, pct_ev, pct_battery, pct_white;
	long battery_from, battery_to;
	long offer_lead_s, deadline_lead_s, history_days;
	char *tariff_min, *tariff_max;
	bool persist;
	struct sim_plugs_conf plug; /* simulated smart plugs (plugs.h) */
};

/* Totals of one simulated day, for GF-SIM-DAY. */
struct sim_day {
	int64_t day; /* interval of its start */
	long intervals, offers, schedules, duplicates, unmatched;
	double base_kwh, device_kwh, scheduled_kwh, default_kwh, total_kwh;
};

struct sim {
	struct gf_agent *a;
	struct sim_conf *conf;
	struct sim_prosumer *p;
	size_t n;
	double *profiles_kwh; /* 55 * 96 */
	struct sim_tariff tariff;
	int64_t cursor; /* the next interval to step */
	long behind;    /* intervals stepped late (GF-SIM-BEHIND) */
	FILE *csv;
	struct sim_day day;
	struct sim_plugs *plugs; /* NULL without plugs */
	struct sim_dms *dms;     /* NULL without dms_dir */
};

/* xems.c: sends prosumer p's offer pl as xems.flexibility to foa.<id>. */
void sim_xems_offer(void *sim, struct sim_prosumer *p, struct sim_device *d, struct sim_plan *pl);

/* xems.c: sends xems.operation for interval j with its metering. */
void sim_xems_operation(struct sim *s, struct sim_prosumer *p, int64_t j,
                        const struct sim_meter *m);

/* xems.c: acts on a message for prosumer p (foa.reply from foa.<id>). */
void sim_xems_message(struct sim *s, struct sim_prosumer *p, const struct gf_inbox_item *it);

#endif
