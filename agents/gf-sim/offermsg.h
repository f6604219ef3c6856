/* SPDX-License-Identifier: MIT */
/*
 * offermsg.h - a device's plan (prosumer.h) as the goflex.FlexOffer of an
 * xems.flexibility (SPEC section 6): the inverse of lib/engine/fo_message.c's
 * mapping, so that the FOA, FMAN and the engine read back exactly the
 * engine offer the device made (unit slices of 900 s, tf = startBefore -
 * startAfter, one energy constraint per slice, totals, a default schedule
 * starting at startAfter with one unit slice per profile slice).
 */
#ifndef SIM_OFFERMSG_H
#define SIM_OFFERMSG_H

#include "base/err.h"
#include "flexoffer.pb-c.h"
#include "prosumer.h"

/* Tariff bounds for every offer, EUR/kWh; NaN: none. */
struct sim_tariff {
	double min, max;
};

/*
 * Builds the offer of plan pl of prosumer p into *out (the caller frees it
 * with gf_fo_message_free; it borrows pl's label and p's id), through
 * gf_fo_to_message in its device form: label, offeredById (the prosumer's id), state
 * Initial (the FOA offers it), creation, acceptance and assignment
 * deadlines, start and end windows with their *Time mirrors,
 * numSecondsPerInterval 900, the slices, totalEnergyConstraint where the
 * plan has totals, flexOfferTariffConstraint where tariff has both bounds,
 * and the default schedule. GF_ENOMEM; GF_ERANGE for a time beyond year 9999.
 */
enum gf_err sim_offermsg_build(const struct sim_prosumer *p, const struct sim_plan *pl,
                               const struct sim_tariff *tariff, Goflex__FlexOffer **out);

#endif
