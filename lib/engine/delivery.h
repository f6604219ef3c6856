/* SPDX-License-Identifier: MIT */
/*
 * delivery.h - the settlement of a prosumer's assigned offers against its
 * one meter (issue 13 item 4, D6.1 3.5 and 8.4; docs/settlement.md,
 * "A prosumer's offers against its meter").
 *
 * A meter sees a whole household; an offer is one device. So a prosumer's
 * offers whose windows overlap are settled together over one window of n
 * intervals (the union of the offers' default and assigned windows), every
 * energy in kWh per interval, consumption positive:
 *
 *   requested_o,t = x_o,t - d_o,t              (offer o: assigned minus default)
 *   R_t           = sum_o requested_o,t        (what the household was asked)
 *   delivered_t   = m_t - b_t                  (metered minus baseline)
 *
 * The household is settled with settle.h as one schedule: assigned b + R,
 * default b, measured m, baseline b. Its requested, delivered and shortfall
 * are then the sums above, and its imbalance sum_t |delivered_t - R_t| is
 * the deviation from what was asked, measured against the characteristic
 * curve; the imbalance fee (cutoff, rate) is the household's.
 *
 * Each offer gets a share of the delivered change: in interval t,
 * |requested_o,t| / sum_k |requested_k,t| (0 when nothing was asked then).
 * With that share as its delivery, offer o is settled with settle.h on its
 * own x_o and d_o and its tariffs: its gain (sum p (x - d), settle.h's
 * direct-trading value of the assigned change), its shortfall; and its
 * reward (delegated trading, post festum):
 *
 *   credited_o,t = min(|requested_o,t|, max(0, sign(requested_o,t) delivered_o,t))
 *   reward_o     = sum_t price_o,t credited_o,t
 *
 * price_o,t the clearing price of the interval when known, else the
 * offer's asking tariff for the direction (tariff_max above the default,
 * tariff_min below). The household's gain and reward are the sums of its
 * offers'. Allocates scratch (a few n-long arrays); no I/O.
 */
#ifndef GF_DELIVERY_H
#define GF_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "engine/settle.h"

/* One offer on the window: arrays of n values (0 outside its schedules). */
struct gf_delivery_offer {
	const double *assigned; /* x: the assigned schedule placed on the window */
	const double *defaults; /* d: the default schedule placed on the window */
	double tariff_min;      /* asked per kWh below the default, EUR/kWh; NaN: 0 */
	double tariff_max;      /* asked per kWh above it; NaN: 0; >= tariff_min */
	const double *price;    /* n clearing prices, EUR/kWh, NaN where none; or NULL */
};

struct gf_delivery_result {
	struct gf_settle_result settle; /* gain, imbalance, fee, requested, delivered, shortfall */
	double reward;                  /* EUR, >= 0 for prices >= 0 */
};

/*
 * Places len values v starting at interval start onto the window of n
 * intervals from w0: out[i] = v[w0 + i - start] where that exists, else 0.
 * Returns how many of v fell outside the window (0 when the window covers
 * the schedule, as it should).
 */
size_t gf_delivery_place(int64_t w0, size_t n, int64_t start, const double *v, size_t len,
                         double *out);

/*
 * Settles the k offers (k >= 1) of one prosumer over n intervals (n >= 1)
 * as above: baseline b[n] and metered m[n]; cutoff (kWh >= 0) and rate
 * (EUR/kWh >= 0) of the household's imbalance fee. Writes the household's
 * result into *household, offer o's into per_offer[o] (its fee is 0: the
 * fee is the household's), and when not NULL its delivered share per
 * interval into delivered[o * n .. o * n + n) and the household's delivered
 * change into household_delivered[n]. GF_EINVAL for NULL required
 * pointers, n or k of 0, a non-finite value read, tariff_min > tariff_max,
 * a negative or non-finite cutoff or rate; GF_ENOMEM. Outputs untouched on
 * failure.
 */
enum gf_err gf_delivery_settle(size_t n, const double *b, const double *m,
                               const struct gf_delivery_offer *offers, size_t k, double cutoff,
                               double rate, struct gf_delivery_result *household,
                               struct gf_delivery_result *per_offer, double *delivered,
                               double *household_delivered);

#endif
