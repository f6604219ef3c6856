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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* What a FlexOffer message says besides the engine offer's numbers. The
 * strings are borrowed: they must outlive the message. */
struct gf_fo_message_head {
	const char *id, *label, *offered_by; /* NULL: absent */
	Goflex__FlexOfferState state;
	int64_t creation;                             /* creationInterval */
	int64_t acceptance_before, assignment_before; /* GF_FO_NO_DEADLINE: absent */
	/* The form devices send (gf-sim, docs/sim.md): the *Time mirror of
	 * every interval, endAfter and endBefore, numSecondsPerInterval 900,
	 * assignment obligatory, and the default schedule's scheduleId and
	 * updateId present (0). Without it, only the intervals. */
	bool device_form;
	/* Per slice tariffConstraint [min[k], max[k]], e->n each; NULL: none. */
	const double *slice_tariff_min, *slice_tariff_max;
};

/*
 * The inverse of gf_fo_from_message: builds the message of offer e into
 * *out (free it with gf_fo_message_free), so that gf_fo_from_message reads
 * back e. startAfter and startBefore are e's window; slice k has one energy
 * constraint [lower[k], upper[k]] and min and max duration 1; the default
 * schedule, when e has one, starts at startAfter with one unit slice of
 * dflt[k] per profile slice (left out if that time is beyond year 9999,
 * unless device_form); totalEnergyConstraint and flexOfferTariffConstraint
 * are there when both of their bounds are finite. GF_ENOMEM; GF_ERANGE when
 * device_form and a time is beyond year 9999; GF_EINVAL if e->n < 0. *out
 * untouched on failure.
 */
enum gf_err gf_fo_to_message(const struct gf_fo *e, const struct gf_fo_message_head *h,
                             Goflex__FlexOffer **out);

/* Frees a message of gf_fo_to_message (not the strings it borrowed).
 * Accepts NULL. */
void gf_fo_message_free(Goflex__FlexOffer *m);

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
