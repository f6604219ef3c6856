/* SPDX-License-Identifier: MIT */
/*
 * prosumer.h - one simulated prosumer of gf-sim (docs/sim.md): an IEEE
 * feeder household's base load plus a seeded mix of shiftable devices
 * (lib/devices/device.h), their offers (lib/devices/devoffer.h) and the schedules they
 * follow. Pure logic on the agent's one thread: no I/O, no bus.
 *
 * Time is counted in intervals (900 s, SPEC section 6). A prosumer's devices
 * are always at the start of the interval the simulation is about to step.
 * Each device keeps up to SIM_PLANS plans: an offer it made (bounds, default
 * schedule, deadline) and, once assigned, the schedule it follows. Interval
 * j is governed by the plan whose window [start_after, start_after + tf + n)
 * holds it: its assigned schedule (0 kWh outside the schedule's slices), else
 * its default; with no plan the device runs uncontrolled
 * (gf_device_uncontrolled_kw).
 */
#ifndef SIM_PROSUMER_H
#define SIM_PROSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/device.h"
#include "devices/devoffer.h"
#include "base/err.h"
#include "bus/ident.h"
#include "xems.pb-c.h"

#define SIM_MAX_DEVICES 4
#define SIM_PLANS       3
#define SIM_LABEL_MAX   (GF_ID_MAX + 48)

/* What the seeded generator draws from (percentages 0..100). */
struct sim_mix {
	long seed;
	long pct_thermal;  /* a boiler or heat pump */
	long pct_heatpump; /* of those, a heat pump */
	long pct_ev, pct_battery, pct_white;
	/* Intervals of the day [from, to) in which the user lets the FOA move
	 * the battery (it idles elsewhere); to <= from wraps over midnight. */
	long battery_from, battery_to;
};

/* An offer a device made, and the schedule it got. */
struct sim_plan {
	bool used;
	char label[SIM_LABEL_MAX];
	int64_t creation, deadline; /* intervals; deadline = acceptance = assignment */
	int32_t start_after, tf, n;
	double total_min, total_max;  /* NaN when absent */
	double *lower, *upper, *dflt; /* n each, one allocation (lower) */
	bool assigned;
	int64_t sched_id, update_id;
	int64_t sched_start; /* interval of sched[0] */
	size_t sched_n;
	double *sched; /* sched_n kWh */
};

struct sim_device {
	struct gf_device dev;
	struct gf_devoffer_user user;
	const char *kind; /* "boiler", "heatpump", "ev", "battery", "washer" */
	struct sim_plan plan[SIM_PLANS];
};

struct sim_prosumer {
	char id[GF_ID_MAX + 1];
	long number;            /* 1-based over the whole population */
	int profile;            /* IEEE load profile, 1..55 */
	const double *base_kwh; /* 96 kWh, the profile's day (not owned) */
	void *bus;              /* the agent's struct gf_bus of this identity */
	size_t ndev;
	struct sim_device dev[SIM_MAX_DEVICES];
	bool disabled; /* AdministrationControl disable: no more offers */
};

/* What one interval measured. */
struct sim_meter {
	double base_kwh, device_kwh, total_kwh;
	double scheduled_kwh; /* targets of devices under an assigned schedule */
	double default_kwh;   /* devices' default schedules (metered where none) */
	double device[SIM_MAX_DEVICES];
};

/* Sets up p (zeroed by the caller) at interval now: its devices drawn from
 * java.util.Random(seed * 1000003 + number), so a prosumer is the same
 * whichever process or position hosts it. GF_EINVAL with err for a device
 * the models refuse (a bug in the draw). */
enum gf_err sim_mix_draw(struct sim_prosumer *p, const struct sim_mix *mix, long number,
                         const char *id, const double *base_kwh, int64_t now, char *err,
                         size_t errlen);

/* Frees the plans' arrays. Accepts NULL. */
void sim_prosumer_free(struct sim_prosumer *p);

/* Steps interval `now` (devices at its start) and fills *m. */
void sim_prosumer_step(struct sim_prosumer *p, int64_t now, struct sim_meter *m);

/* Timing of an offer round (intervals). */
struct sim_round {
	int64_t now;           /* creation interval */
	int64_t next_round;    /* the next round's interval */
	int32_t lead;          /* offers start this many intervals after now (>= 1) */
	int32_t deadline_lead; /* deadlines this many before the start (< lead) */
};

/* Called for each new plan of an offer round. */
typedef void (*sim_offer_fn)(void *arg, struct sim_prosumer *p, struct sim_device *d,
                             struct sim_plan *pl);

/* Builds each device's next offer (docs/sim.md "Offers") and calls fn for
 * each; returns how many. Devices that cannot offer are skipped (a debug
 * line says why). GF_ENOMEM stops the round. */
enum gf_err sim_prosumer_offers(struct sim_prosumer *p, const struct sim_round *r, sim_offer_fn fn,
                                void *arg, size_t *count);

enum sim_apply {
	SIM_APPLIED,   /* a new schedule or update, now followed */
	SIM_DUPLICATE, /* scheduleId + updateId already applied (or older) */
	SIM_UNMATCHED, /* no plan of this prosumer fits it */
	SIM_INVALID,   /* interval length, start or values unusable */
};

/* Applies a DemandSchedule at interval now. The plan is the one whose label
 * is flexOfferId; unless flexOfferId has the form of this prosumer's labels
 * ("<id>."), else the one with this scheduleId, else the first unassigned
 * plan whose window and length take it. why (may be NULL) says
 * what happened, for the log; *dev_out (may be NULL) the device. GF_ENOMEM
 * as SIM_INVALID with why "out of memory". */
enum sim_apply sim_prosumer_schedule(struct sim_prosumer *p,
                                     const Goflex__FoaReply__DemandSchedule *ds, int64_t now,
                                     struct sim_device **dev_out, char *why, size_t whylen);

/* The xEMS's operation state at interval now: assigned if a plan not yet
 * over is assigned, offerSent if one is waiting before its deadline, else
 * onlineWithoutOffer. */
Goflex__OperationData__OperationState sim_prosumer_state(const struct sim_prosumer *p, int64_t now);

#endif
