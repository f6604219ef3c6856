/* SPDX-License-Identifier: MIT */
/*
 * devoffer.h - FlexOffers from device models, and assignments back to device
 * commands: the FOA's device-controller mode (issue 5 item 2). Pure logic.
 *
 * The promise (tested as a property over random schedules): every schedule
 * the offer admits, applied to the device with gf_device_follow from the
 * state the offer was built on, is carried out exactly (the device's own
 * guards never step in) and keeps the device inside its physical limits and
 * the user's comfort band. docs/devices.md gives the construction per model.
 */
#ifndef GF_DEVOFFER_H
#define GF_DEVOFFER_H

#include <stddef.h>
#include <stdint.h>

#include "devices/device.h"
#include "base/err.h"
#include "engine/fo.h"

#define GF_DEVOFFER_MAX_SLICES 192 /* two days of intervals */

/* What the user allows. */
struct gf_devoffer_user {
	/* Nonzero: the FOA may vary the device in this interval of the day.
	 * Elsewhere the device keeps its default (thermal), stays idle
	 * (battery) or does not charge (EV); a cycle runs only in allowed
	 * intervals. */
	unsigned char allowed[GF_DEVICE_DAY];
	/* At most this many slices of a thermal or EV offer may fall below
	 * min_run_kwh (an interruption); < 0: unlimited. Ignored by battery
	 * and cycle offers. */
	int32_t max_interruptions;
	double min_run_kwh; /* a slice below this energy counts as switched off */
	/* Comfort band: deg C (thermal) or SoC fraction (battery), inside the
	 * device's own limits; NaN: the device's own. Ignored otherwise. */
	double comfort_min, comfort_max;
};

/* Everything allowed: every interval, unlimited interruptions, the device's
 * own comfort band. */
void gf_devoffer_user_init(struct gf_devoffer_user *user);

/* Allows (allow != 0) or forbids the intervals of the day [from, to) in
 * user->allowed; to <= from wraps over midnight. GF_EINVAL for an interval
 * outside 0..96. */
enum gf_err gf_devoffer_user_hours(struct gf_devoffer_user *user, int32_t from, int32_t to,
                                   int allow);

/*
 * A default schedule from metered history: out[k] = mean over the n_days
 * days of history (96 kWh values per day, day d at history[96 d ..]) of
 * interval of the day (start + k) mod 96, NaN values skipped; NaN when every
 * day is NaN there. GF_EINVAL for NULL pointers, n_days == 0 or n < 1;
 * out untouched on failure.
 */
enum gf_err gf_devoffer_history_default(const double *history, size_t n_days, int32_t start,
                                        int32_t n, double *out);

/*
 * Builds the offer of dev from its current state (dev->t on an interval
 * boundary) into *out. The slice arrays are the caller's, cap doubles each;
 * out points into them. horizon: slices of a thermal or battery offer
 * (1..GF_DEVOFFER_MAX_SLICES); an EV offer runs to the departure of the
 * current or next session, a cycle offer is its profile, and both ignore it.
 * dflt_in: horizon kWh values (e.g. from gf_devoffer_history_default), NaN or
 * NULL meaning the device's uncontrolled behaviour; used by thermal and
 * battery offers, clamped into the slice bounds. GF_EINVAL (err says why) for
 * bad arguments, GF_ERANGE (err says why) when the user's constraints leave
 * no offer or it needs more than cap slices. out and the arrays are
 * untouched on failure.
 */
enum gf_err gf_devoffer_build(const struct gf_device *dev, const struct gf_devoffer_user *user,
                              int32_t horizon, const double *dflt_in, struct gf_fo *out,
                              double *lower, double *upper, double *dflt, size_t cap, char *err,
                              size_t errlen);

/* One interval's command: average power, and for a smart plug how long to
 * stay on from the start of the interval. */
struct gf_devoffer_cmd {
	double kw;   /* kWh / 0.25 h */
	double on_s; /* 0..900 s */
};

/*
 * Turns an assigned schedule (n slice amounts, kWh, slice k running in
 * interval start + k) into per-interval commands out[0..n-1] (caller's
 * buffer). on_s = 900 * kwh / (rated kW * 0.25 h) for thermal and EV devices
 * (duty cycle), the whole interval for a cycle's slices, and the whole
 * interval when a battery moves energy. GF_EINVAL for a non-finite or
 * negative-for-a-load amount; out untouched on failure.
 */
enum gf_err gf_devoffer_commands(const struct gf_device *dev, const double *kwh, int32_t n,
                                 struct gf_devoffer_cmd *out);

#endif
