/* SPDX-License-Identifier: MIT */
/*
 * fo_message.h - a FlexOffer of the bus (goflex.FlexOffer, SPEC section 6)
 * as an offer of the engine (fo.h).
 *
 * The engine works on unit slices of one interval (900 s): an offer whose
 * profile has a slice with minDuration or maxDuration other than 1, or whose
 * numSecondsPerInterval is not 900, is refused with a sentence saying so.
 */
#ifndef GF_FO_MESSAGE_H
#define GF_FO_MESSAGE_H

#include <stddef.h>

#include "base/err.h"
#include "flexoffer.pb-c.h"
#include "engine/fo.h"

/*
 * Fills *out from m. The slice arrays are the caller's: lower, upper and dflt
 * must hold cap doubles each (dflt may be NULL: no default schedule); out
 * points into them. Per slice, the bounds are the tightest of its energy
 * constraints; the default schedule is used when it starts at startAfter with
 * one unit slice per profile slice (else out->dflt is NULL); tariffs are
 * flexOfferTariffConstraint, else the loosest of the slices' (lowest
 * minTariff, highest maxTariff). GF_EINVAL with err set for what the engine
 * cannot represent; GF_ERANGE if the profile has more than cap slices.
 * *out untouched on failure.
 */
enum gf_err gf_fo_from_message(const Goflex__FlexOffer *m, struct gf_fo *out, double *lower,
                               double *upper, double *dflt, size_t cap, char *err, size_t errlen);

/*
 * Fills *out with m's deadlines: acceptanceBeforeInterval and
 * assignmentBeforeInterval, GF_FO_NO_DEADLINE for each one absent.
 * GF_EINVAL with err set when one is outside [0, INT32_MAX); *out untouched
 * on failure.
 */
enum gf_err gf_fo_deadlines_from_message(const Goflex__FlexOffer *m, struct gf_fo_deadlines *out,
                                         char *err, size_t errlen);

/* The other way, for one-interval slices (what devices offer): slice k gets
 * one energy constraint [lower[k], upper[k]], min and max duration 1, and
 * the default schedule's slice k energy dflt[k]. The caller owns the n-long
 * arrays of messages and of pointers to them (ec/ecp, pc/pcp, ss/ssp) and
 * hangs pcp and ssp on its FlexOffer and default schedule. */
void gf_fo_message_unit_slices(size_t n, const double *lower, const double *upper,
                               const double *dflt, Goflex__EnergyConstraint *ec,
                               Goflex__EnergyConstraint **ecp,
                               Goflex__FlexOfferProfileConstraint *pc,
                               Goflex__FlexOfferProfileConstraint **pcp, Goflex__ScheduleSlice *ss,
                               Goflex__ScheduleSlice **ssp);

#endif
