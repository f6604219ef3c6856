/* SPDX-License-Identifier: MIT */
#include "engine/fo_message.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"

static enum gf_err refuse(char *err, size_t errlen, const char *what)
{
	return gf_err_set(err, errlen, GF_EINVAL, "%s", what);
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
			return gf_err_set(
			    err, errlen, GF_EINVAL,
			    "flexOfferProfileConstraints[%zu]: variable-duration slices "
			    "(minDuration %u, maxDuration %u) are not supported; the "
			    "engine takes unit slices of 900 s",
			    k, s->minduration, s->maxduration);
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

enum {
	T_CREATION,
	T_ACCEPT,
	T_ASSIGN,
	T_START_AFTER,
	T_START_BEFORE,
	T_END_AFTER,
	T_END_BEFORE,
	T_N
};

/* One message and everything it points to, freed together. The message
 * comes first so that gf_fo_message_free can take the box back from it. */
struct box {
	Goflex__FlexOffer fo;
	Goflex__FlexOfferSchedule dflt;
	Goflex__EnergyConstraint total;
	Goflex__TariffConstraint tariff;
	char times[T_N][GF_TIME_BUFSIZE];
	Goflex__FlexOfferProfileConstraint *pc, **pcp;
	Goflex__EnergyConstraint *ec, **ecp;
	Goflex__ScheduleSlice *ss, **ssp;
	Goflex__TariffConstraint *tc;
};

void gf_fo_message_free(Goflex__FlexOffer *m)
{
	struct box *b = (struct box *)m;

	if (!b)
		return;
	free(b->pc);
	free(b->pcp);
	free(b->ec);
	free(b->ecp);
	free(b->ss);
	free(b->ssp);
	free(b->tc);
	free(b);
}

static struct box *box_new(size_t n, bool slice_tariffs)
{
	struct box *b = calloc(1, sizeof(*b));
	size_t c = n ? n : 1;

	if (!b)
		return NULL;
	b->pc = calloc(c, sizeof(*b->pc));
	b->pcp = calloc(c, sizeof(*b->pcp));
	b->ec = calloc(c, sizeof(*b->ec));
	b->ecp = calloc(c, sizeof(*b->ecp));
	b->ss = calloc(c, sizeof(*b->ss));
	b->ssp = calloc(c, sizeof(*b->ssp));
	if (slice_tariffs)
		b->tc = calloc(c, sizeof(*b->tc));
	if (!b->pc || !b->pcp || !b->ec || !b->ecp || !b->ss || !b->ssp ||
	    (slice_tariffs && !b->tc)) {
		gf_fo_message_free(&b->fo);
		return NULL;
	}
	goflex__flex_offer__init(&b->fo);
	goflex__flex_offer_schedule__init(&b->dflt);
	goflex__energy_constraint__init(&b->total);
	goflex__tariff_constraint__init(&b->tariff);
	return b;
}

/* The *Time mirrors of the device form; false if one is beyond year 9999. */
static bool device_times(struct box *b, const struct gf_fo *e, const struct gf_fo_message_head *h)
{
	Goflex__FlexOffer *fo = &b->fo;
	/* An absent deadline has no mirror; creation stands in for it. */
	const int64_t iv[T_N] = {
	    h->creation,
	    fo->has_acceptancebeforeinterval ? h->acceptance_before : h->creation,
	    fo->has_assignmentbeforeinterval ? h->assignment_before : h->creation,
	    e->start_after,
	    (int64_t)e->start_after + e->tf,
	    (int64_t)e->start_after + e->n,
	    (int64_t)e->start_after + e->tf + e->n,
	};

	for (int i = 0; i < T_N; i++)
		if (gf_time_format(iv[i] * GF_TIME_INTERVAL_S * 1000, b->times[i],
		                   sizeof(b->times[i])) != GF_OK)
			return false;
	fo->creationtime = b->times[T_CREATION];
	if (fo->has_acceptancebeforeinterval)
		fo->acceptancebeforetime = b->times[T_ACCEPT];
	if (fo->has_assignmentbeforeinterval)
		fo->assignmentbeforetime = b->times[T_ASSIGN];
	fo->startaftertime = b->times[T_START_AFTER];
	fo->startbeforetime = b->times[T_START_BEFORE];
	fo->has_endafterinterval = fo->has_endbeforeinterval = 1;
	fo->endafterinterval = iv[T_END_AFTER];
	fo->endbeforeinterval = iv[T_END_BEFORE];
	fo->endaftertime = b->times[T_END_AFTER];
	fo->endbeforetime = b->times[T_END_BEFORE];
	fo->has_numsecondsperinterval = 1;
	fo->numsecondsperinterval = GF_TIME_INTERVAL_S;
	fo->has_assignment = 1;
	fo->assignment = GOFLEX__FLEX_OFFER_ASSIGNMENT__obligatory;
	return true;
}

static void profile(struct box *b, const struct gf_fo *e, const struct gf_fo_message_head *h)
{
	size_t n = (size_t)e->n;

	for (size_t k = 0; k < n; k++) {
		goflex__energy_constraint__init(&b->ec[k]);
		b->ec[k].lower = e->lower[k];
		b->ec[k].upper = e->upper[k];
		b->ecp[k] = &b->ec[k];
		goflex__flex_offer_profile_constraint__init(&b->pc[k]);
		b->pc[k].n_energyconstraintlist = 1;
		b->pc[k].energyconstraintlist = &b->ecp[k];
		b->pc[k].minduration = b->pc[k].maxduration = 1;
		if (b->tc) {
			goflex__tariff_constraint__init(&b->tc[k]);
			b->tc[k].mintariff = h->slice_tariff_min[k];
			b->tc[k].maxtariff = h->slice_tariff_max[k];
			b->pc[k].tariffconstraint = &b->tc[k];
		}
		b->pcp[k] = &b->pc[k];
		goflex__schedule_slice__init(&b->ss[k]);
		b->ss[k].duration = 1;
		b->ss[k].energyamount = e->dflt ? e->dflt[k] : 0;
		b->ssp[k] = &b->ss[k];
	}
	b->fo.n_flexofferprofileconstraints = n;
	b->fo.flexofferprofileconstraints = b->pcp;
}

static void default_schedule(struct box *b, const struct gf_fo *e, bool device_form)
{
	if (device_form) {
		b->dflt.starttime = b->times[T_START_AFTER];
		b->dflt.has_scheduleid = b->dflt.has_updateid = 1;
	} else if (gf_time_format((int64_t)e->start_after * GF_TIME_INTERVAL_S * 1000,
	                          b->times[T_START_AFTER],
	                          sizeof(b->times[T_START_AFTER])) == GF_OK) {
		b->dflt.starttime = b->times[T_START_AFTER];
	} else {
		return;
	}
	b->dflt.n_scheduleslices = (size_t)e->n;
	b->dflt.scheduleslices = b->ssp;
	b->fo.defaultschedule = &b->dflt;
}

enum gf_err gf_fo_to_message(const struct gf_fo *e, const struct gf_fo_message_head *h,
                             Goflex__FlexOffer **out)
{
	bool slice_tariffs = h->slice_tariff_min && h->slice_tariff_max;
	struct box *b;
	Goflex__FlexOffer *fo;

	if (e->n < 0)
		return GF_EINVAL;
	b = box_new((size_t)e->n, slice_tariffs);
	if (!b)
		return GF_ENOMEM;
	fo = &b->fo;
	fo->id = (char *)h->id;
	fo->label = (char *)h->label;
	fo->state = h->state;
	fo->offeredbyid = (char *)h->offered_by;
	fo->creationinterval = h->creation;
	if (h->acceptance_before != GF_FO_NO_DEADLINE) {
		fo->has_acceptancebeforeinterval = 1;
		fo->acceptancebeforeinterval = h->acceptance_before;
	}
	if (h->assignment_before != GF_FO_NO_DEADLINE) {
		fo->has_assignmentbeforeinterval = 1;
		fo->assignmentbeforeinterval = h->assignment_before;
	}
	fo->startafterinterval = e->start_after;
	fo->startbeforeinterval = (int64_t)e->start_after + e->tf;
	if (h->device_form && !device_times(b, e, h)) {
		gf_fo_message_free(fo);
		return GF_ERANGE;
	}
	profile(b, e, h);
	if (e->dflt)
		default_schedule(b, e, h->device_form);
	if (isfinite(e->total_min) && isfinite(e->total_max)) {
		b->total.lower = e->total_min;
		b->total.upper = e->total_max;
		fo->totalenergyconstraint = &b->total;
	}
	if (isfinite(e->tariff_min) && isfinite(e->tariff_max)) {
		b->tariff.mintariff = e->tariff_min;
		b->tariff.maxtariff = e->tariff_max;
		fo->flexoffertariffconstraint = &b->tariff;
	}
	*out = fo;
	return GF_OK;
}
