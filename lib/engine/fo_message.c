/* SPDX-License-Identifier: MIT */
#include "engine/fo_message.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/timefmt.h"

static enum gf_err refuse(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", what);
	return GF_EINVAL;
}

/* The default schedule, when the engine can take it as it is. */
static bool default_fits(const Goflex__FlexOffer *m)
{
	const Goflex__FlexOfferSchedule *d = m->defaultschedule;
	int64_t ms;

	if (!d || !d->starttime || d->n_scheduleslices != m->n_flexofferprofileconstraints ||
	    gf_time_parse(d->starttime, strlen(d->starttime), &ms) != GF_OK ||
	    gf_time_interval(ms) != m->startafterinterval)
		return false;
	for (size_t k = 0; k < d->n_scheduleslices; k++) {
		if (d->scheduleslices[k]->duration != 1)
			return false;
	}
	return true;
}

enum gf_err gf_fo_from_message(const Goflex__FlexOffer *m, struct gf_fo *out, double *lower,
                               double *upper, double *dflt, size_t cap, char *err, size_t errlen)
{
	size_t n = m->n_flexofferprofileconstraints;
	double tmin = INFINITY, tmax = -INFINITY;
	int64_t tf = m->startbeforeinterval - m->startafterinterval;
	bool use_default;

	if (m->has_numsecondsperinterval && m->numsecondsperinterval != GF_TIME_INTERVAL_S)
		return refuse(err, errlen, "numSecondsPerInterval: the engine works on 900 s");
	if (n == 0)
		return refuse(err, errlen, "flexOfferProfileConstraints: no slice");
	if (n > cap)
		return GF_ERANGE;
	if (m->startafterinterval < 0 || m->startafterinterval > INT32_MAX || tf < 0 ||
	    tf > INT32_MAX || n > INT32_MAX)
		return refuse(err, errlen, "startAfterInterval/startBeforeInterval: out of range");
	for (size_t k = 0; k < n; k++) {
		const Goflex__FlexOfferProfileConstraint *s = m->flexofferprofileconstraints[k];
		if (s->minduration != 1 || s->maxduration != 1) {
			if (err && errlen)
				snprintf(
				    err, errlen,
				    "flexOfferProfileConstraints[%zu]: variable-duration slices "
				    "(minDuration %u, maxDuration %u) are not supported; the "
				    "engine takes unit slices of 900 s",
				    k, s->minduration, s->maxduration);
			return GF_EINVAL;
		}
		if (s->n_energyconstraintlist == 0)
			return refuse(err, errlen,
			              "flexOfferProfileConstraints: a slice without bounds");
		if (s->tariffconstraint) {
			tmin = fmin(tmin, s->tariffconstraint->mintariff);
			tmax = fmax(tmax, s->tariffconstraint->maxtariff);
		}
	}
	use_default = dflt && default_fits(m);
	for (size_t k = 0; k < n; k++) {
		const Goflex__FlexOfferProfileConstraint *s = m->flexofferprofileconstraints[k];
		double lo = -INFINITY, hi = INFINITY;
		for (size_t c = 0; c < s->n_energyconstraintlist; c++) {
			lo = fmax(lo, s->energyconstraintlist[c]->lower);
			hi = fmin(hi, s->energyconstraintlist[c]->upper);
		}
		lower[k] = lo;
		upper[k] = hi;
		if (use_default)
			dflt[k] = m->defaultschedule->scheduleslices[k]->energyamount;
	}
	if (m->flexoffertariffconstraint) {
		tmin = m->flexoffertariffconstraint->mintariff;
		tmax = m->flexoffertariffconstraint->maxtariff;
	}
	out->start_after = (int32_t)m->startafterinterval;
	out->tf = (int32_t)tf;
	out->n = (int32_t)n;
	out->lower = lower;
	out->upper = upper;
	out->dflt = use_default ? dflt : NULL;
	out->total_min = m->totalenergyconstraint ? m->totalenergyconstraint->lower : NAN;
	out->total_max = m->totalenergyconstraint ? m->totalenergyconstraint->upper : NAN;
	out->tariff_min = isfinite(tmin) ? tmin : NAN;
	out->tariff_max = isfinite(tmax) ? tmax : NAN;
	return GF_OK;
}

static bool deadline(bool has, int64_t v, int32_t *out)
{
	if (!has) {
		*out = GF_FO_NO_DEADLINE;
		return true;
	}
	if (v < 0 || v >= GF_FO_NO_DEADLINE)
		return false;
	*out = (int32_t)v;
	return true;
}

enum gf_err gf_fo_deadlines_from_message(const Goflex__FlexOffer *m, struct gf_fo_deadlines *out,
                                         char *err, size_t errlen)
{
	struct gf_fo_deadlines dl;

	if (!deadline(m->has_acceptancebeforeinterval, m->acceptancebeforeinterval,
	              &dl.acceptance_before))
		return refuse(err, errlen, "acceptanceBeforeInterval: out of range");
	if (!deadline(m->has_assignmentbeforeinterval, m->assignmentbeforeinterval,
	              &dl.assignment_before))
		return refuse(err, errlen, "assignmentBeforeInterval: out of range");
	*out = dl;
	return GF_OK;
}

void gf_fo_message_unit_slices(size_t n, const double *lower, const double *upper,
                               const double *dflt, Goflex__EnergyConstraint *ec,
                               Goflex__EnergyConstraint **ecp,
                               Goflex__FlexOfferProfileConstraint *pc,
                               Goflex__FlexOfferProfileConstraint **pcp, Goflex__ScheduleSlice *ss,
                               Goflex__ScheduleSlice **ssp)
{
	for (size_t k = 0; k < n; k++) {
		goflex__energy_constraint__init(&ec[k]);
		ec[k].lower = lower[k];
		ec[k].upper = upper[k];
		ecp[k] = &ec[k];
		goflex__flex_offer_profile_constraint__init(&pc[k]);
		pc[k].n_energyconstraintlist = 1;
		pc[k].energyconstraintlist = &ecp[k];
		pc[k].minduration = pc[k].maxduration = 1;
		pcp[k] = &pc[k];
		goflex__schedule_slice__init(&ss[k]);
		ss[k].duration = 1;
		ss[k].energyamount = dflt[k];
		ssp[k] = &ss[k];
	}
}
