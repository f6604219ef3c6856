/* SPDX-License-Identifier: MIT */
/*
 * plugmode.h - what gf-foa's plug mode shares between its three files
 * (docs/foa.md "plug mode"):
 *
 * plug.c       the plug: the local broker, telemetry in (relay state, energy
 *              counter), the meter (energy per interval, meter.reading to
 *              FMAN), the device model stepped with what was metered, the
 *              interval timer;
 * plugoffer.c  the offers: built from the model and the user's constraints
 *              each day (and at start), updated or canceled at FMAN before
 *              their deadlines, the market's acks and assignments;
 * relay.c      the relay switched per interval and the commands it follows
 *              (foa_plug_cmd), written by plugoffer.c.
 *
 * Calls go one way: plug.c -> plugoffer.c -> relay.c, and plug.c -> relay.c.
 *
 * State, all in foa.db (SQLite), so a kill -9 loses nothing and repeats
 * nothing: foa_plug_meter (kWh per interval), foa_plug_snap (the counter at
 * the last interval boundary), foa_plug_model (the model's state),
 * foa_plug_offer (each offer's window), foa_plug_cmd (the energy and on-time
 * per interval the relay follows: an offer's default until it is assigned,
 * then the schedule).
 */
#ifndef FOA_PLUGMODE_H
#define FOA_PLUGMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/local.h"
#include "devices/devoffer.h"
#include "foa.h"
#include "devices/plug.h"
#include "base/timefmt.h"

/* An interval (a slice of an offer) in seconds and in hours. */
#define FOA_PLUG_SLICE_S ((double)GF_TIME_INTERVAL_S)
#define FOA_PLUG_SLICE_H 0.25

struct foa_plug {
	const struct foa_plug_conf *c;
	enum gf_plug_conv conv;
	struct gf_local *local;
	struct gf_devoffer_user user;
	struct gf_device model; /* at the start of interval model_iv */
	int64_t model_iv;
	double switched_kw;
	double total;        /* the plug's counter, last seen (kWh) */
	bool has_total;      /* seen since this start */
	int reported;        /* relay state the plug last reported: -1 unknown, 0, 1 */
	int commanded;       /* relay state last commanded: -1 none */
	uint64_t off_timer;  /* switches off within the interval (duty cycle) */
	bool rounds_started; /* the first boundary (at start) was handled */
	int recommands;      /* in this interval (plug.c, RECOMMAND_MAX) */
};

/* relay.c: steps dev (on a boundary) to the start of interval `to` the way
 * the real device will be driven: each interval's command, else on. */
enum gf_err foa_relay_predict(struct foa *f, struct gf_device *dev, int64_t to);
/* relay.c: the energy interval iv is to take: its command, else on (the
 * device takes what its own controls let it at the switched power). */
enum gf_err foa_relay_planned(struct foa *f, int64_t iv, double *kwh);
/* relay.c: writes commands for kwh[0..n-1] from interval start, for offer
 * offer_id, replacing what was there. GF_EINVAL for amounts the device
 * cannot take (negative, not finite). */
enum gf_err foa_relay_put(struct foa *f, const char *offer_id, int64_t start, const double *kwh,
                          int32_t n, bool assigned);
/* relay.c: deletes the commands of offer_id. */
enum gf_err foa_relay_drop(struct foa *f, const char *offer_id);
/* relay.c: commands the relay on or off now (QoS 1 on the plug's broker;
 * logged GF-FOA-PLUG-SWITCH with why). */
void foa_relay_command(struct foa *f, bool on, const char *why);
/* relay.c: commands the relay's state for now (always when force, else
 * when it is not what was last commanded) and arms the switch-off within
 * the interval. */
void foa_relay_apply(struct foa *f, bool force, const char *why);
/* relay.c: asks for the relay to be set again soon (after a commit). */
void foa_relay_reapply(struct foa *f);

/* plugoffer.c: at interval boundary j, inside a transaction: the day's
 * round (or the first one) and the revision of live unassigned offers. */
enum gf_err foa_plugoffer_at_boundary(struct foa *f, int64_t j, bool first);

#endif
