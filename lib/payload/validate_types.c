/* SPDX-License-Identifier: MIT */
/*
 * validate_types.c - the rules of a message type (payload/validate.h):
 * a FlexOffer's slices, schedules and totals, a state space model's
 * matrices, series of the same intervals, non-empty readings and prices;
 * and the FlexOffer's rule on what the one-pass verdict gathered
 * (gf__validate_flexoffer, lib/payload/check_walk.c).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "payload/validate_int.h"

#include "doms.pb-c.h"
#include "flexoffer.pb-c.h"
#include "meter.pb-c.h"
#include "price.pb-c.h"
#include "base/timefmt.h"
#include "weather.pb-c.h"
#include "xems.pb-c.h"

/* --- rules of a type ------------------------------------------------------------ */

/* Energy bounds of one profile slice of d intervals (the bounds apply per
 * interval; several constraints of a slice all apply). */
static void slice_bounds(const Goflex__FlexOfferProfileConstraint *s, double d, double *lo,
                         double *hi)
{
	double l = -INFINITY, u = INFINITY;

	for (size_t k = 0; k < s->n_energyconstraintlist; k++) {
		l = fmax(l, s->energyconstraintlist[k]->lower);
		u = fmin(u, s->energyconstraintlist[k]->upper);
	}
	*lo = l * d;
	*hi = u * d;
}

static enum gf_err check_schedule(struct ctx *c, const Goflex__FlexOffer *fo,
                                  const Goflex__FlexOfferSchedule *s, const char *name)
{
	size_t old = push(&c->path, name, -1);
	int64_t ms, start;
	double total = 0, lo, hi;
	enum gf_err rc = GF_OK;

	if (gf_time_parse(s->starttime, strlen(s->starttime), &ms) != GF_OK) {
		rc = gf__validate_fail(c, "startTime", "not an RFC 3339 time");
		goto out;
	}
	if (ms % (GF_TIME_INTERVAL_S * 1000) != 0) {
		rc = gf__validate_fail(c, "startTime", "not at an interval boundary");
		goto out;
	}
	start = gf_time_interval(ms);
	if (start < fo->startafterinterval || start > fo->startbeforeinterval) {
		rc = gf__validate_fail(c, "startTime",
		                       "interval %lld is outside the start window [%lld, %lld]",
		                       (long long)start, (long long)fo->startafterinterval,
		                       (long long)fo->startbeforeinterval);
		goto out;
	}
	if (s->n_scheduleslices != fo->n_flexofferprofileconstraints) {
		rc = gf__validate_fail(c, "scheduleSlices", "%zu slices for a profile of %zu",
		                       s->n_scheduleslices, fo->n_flexofferprofileconstraints);
		goto out;
	}
	for (size_t j = 0; j < s->n_scheduleslices; j++) {
		const Goflex__ScheduleSlice *x = s->scheduleslices[j];
		const Goflex__FlexOfferProfileConstraint *p = fo->flexofferprofileconstraints[j];
		size_t o2 = push(&c->path, "scheduleSlices", (long)j);
		if (x->duration < p->minduration || x->duration > p->maxduration) {
			rc = gf__validate_fail(c, "duration", "%u is outside the slice's [%u, %u]",
			                       x->duration, p->minduration, p->maxduration);
			goto out;
		}
		slice_bounds(p, x->duration, &lo, &hi);
		if (x->energyamount < lo - EPS || x->energyamount > hi + EPS) {
			rc = gf__validate_fail(c, "energyAmount",
			                       "%.17g kWh is outside [%.17g, %.17g]",
			                       x->energyamount, lo, hi);
			goto out;
		}
		total += x->energyamount;
		pop(&c->path, o2);
	}
	if (fo->totalenergyconstraint && (total < fo->totalenergyconstraint->lower - EPS ||
	                                  total > fo->totalenergyconstraint->upper + EPS)) {
		rc = gf__validate_fail(c, "scheduleSlices",
		                       "total %.17g kWh is outside totalEnergyConstraint", total);
		goto out;
	}
out:
	if (rc == GF_OK)
		pop(&c->path, old);
	return rc;
}

enum gf_err gf__validate_rule_flexoffer(struct ctx *c, const ProtobufCMessage *m)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m;
	double lo = 0, hi = 0, a, b;
	uint64_t min_len = 0, max_len = 0;
	enum gf_err rc;

	if (fo->startafterinterval < fo->creationinterval)
		return gf__validate_fail(
		    c, "startAfterInterval", "%lld is before creationInterval %lld",
		    (long long)fo->startafterinterval, (long long)fo->creationinterval);
	if (fo->startbeforeinterval < fo->startafterinterval)
		return gf__validate_fail(
		    c, "startBeforeInterval", "%lld is before startAfterInterval %lld",
		    (long long)fo->startbeforeinterval, (long long)fo->startafterinterval);
	if (fo->has_acceptancebeforeinterval &&
	    fo->acceptancebeforeinterval > fo->startbeforeinterval)
		return gf__validate_fail(
		    c, "acceptanceBeforeInterval", "%lld is after startBeforeInterval %lld",
		    (long long)fo->acceptancebeforeinterval, (long long)fo->startbeforeinterval);
	if (fo->has_assignmentbeforeinterval &&
	    fo->assignmentbeforeinterval > fo->startbeforeinterval)
		return gf__validate_fail(
		    c, "assignmentBeforeInterval", "%lld is after startBeforeInterval %lld",
		    (long long)fo->assignmentbeforeinterval, (long long)fo->startbeforeinterval);
	if (fo->n_flexofferprofileconstraints == 0)
		return gf__validate_fail(c, "flexOfferProfileConstraints",
		                         "an offer needs at least one slice");
	for (size_t i = 0; i < fo->n_flexofferprofileconstraints; i++) {
		const Goflex__FlexOfferProfileConstraint *s = fo->flexofferprofileconstraints[i];
		if (s->n_energyconstraintlist == 0) {
			size_t old = push(&c->path, "flexOfferProfileConstraints", (long)i);
			rc = gf__validate_fail(c, "energyConstraintList",
			                       "a slice needs an energy constraint");
			pop(&c->path, old);
			return rc;
		}
		slice_bounds(s, s->minduration, &a, &b);
		lo += fmin(a, a / s->minduration * s->maxduration);
		slice_bounds(s, s->maxduration, &a, &b);
		hi += fmax(b, b / s->maxduration * s->minduration);
		min_len += s->minduration;
		max_len += s->maxduration;
	}
	if (fo->totalenergyconstraint && (fo->totalenergyconstraint->lower > hi + EPS ||
	                                  fo->totalenergyconstraint->upper < lo - EPS))
		return gf__validate_fail(
		    c, "totalEnergyConstraint",
		    "[%.17g, %.17g] kWh cannot be met by the slices' [%.17g, %.17g]",
		    fo->totalenergyconstraint->lower, fo->totalenergyconstraint->upper, lo, hi);
	if (fo->has_endafterinterval &&
	    fo->endafterinterval != fo->startafterinterval + (int64_t)min_len)
		return gf__validate_fail(c, "endAfterInterval",
		                         "%lld, but startAfterInterval + shortest profile = %lld",
		                         (long long)fo->endafterinterval,
		                         (long long)(fo->startafterinterval + (int64_t)min_len));
	if (fo->has_endbeforeinterval &&
	    fo->endbeforeinterval != fo->startbeforeinterval + (int64_t)max_len)
		return gf__validate_fail(c, "endBeforeInterval",
		                         "%lld, but startBeforeInterval + longest profile = %lld",
		                         (long long)fo->endbeforeinterval,
		                         (long long)(fo->startbeforeinterval + (int64_t)max_len));
	if (fo->defaultschedule &&
	    (rc = check_schedule(c, fo, fo->defaultschedule, "defaultSchedule")))
		return rc;
	if (fo->flexofferschedule &&
	    (rc = check_schedule(c, fo, fo->flexofferschedule, "flexOfferSchedule")))
		return rc;
	return GF_OK;
}

static enum gf_err check_state_space(struct ctx *c, const ProtobufCMessage *m)
{
	const Goflex__StateSpaceModel *s = (const Goflex__StateSpaceModel *)m;
	const struct {
		const char *name;
		size_t have, want;
		bool may_be_empty;
	} dims[] = {
	    {"a", s->n_a, (size_t)s->states * s->states, false},
	    {"b", s->n_b, (size_t)s->states * s->inputs, false},
	    {"c", s->n_c, (size_t)s->outputs * s->states, false},
	    {"d", s->n_d, (size_t)s->outputs * s->inputs, true},
	    {"x0", s->n_x0, s->states, true},
	    {"inputNames", s->n_inputnames, s->inputs, true},
	    {"outputNames", s->n_outputnames, s->outputs, true},
	};

	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		if (dims[i].have != dims[i].want && !(dims[i].may_be_empty && dims[i].have == 0))
			return gf__validate_fail(c, dims[i].name,
			                         "%zu values, but the dimensions need %zu",
			                         dims[i].have, dims[i].want);
	}
	return GF_OK;
}

static enum gf_err check_series_range(struct ctx *c, const ProtobufCMessage *m, const char *name,
                                      double lo, double hi)
{
	const ProtobufCFieldDescriptor *f = fd(m, name);

	for (size_t i = 0; f && i < count(m, f); i++) {
		double v = num_at(m, f, i);
		if (v < lo || v > hi) {
			size_t old = push(&c->path, name, (long)i);
			enum gf_err rc =
			    gf__validate_fail(c, NULL, "%g is outside %g..%g", v, lo, hi);
			pop(&c->path, old);
			return rc;
		}
	}
	return GF_OK;
}

static enum gf_err check_weather(struct ctx *c, const ProtobufCMessage *m)
{
	static const struct {
		const char *name;
		double lo, hi;
	} ranges[] = {
	    {"relativeHumidity", 0, 100},  {"cloudCover", 0, 100},
	    {"windDirection", 0, 360},     {"windSpeed", 0, 200},
	    {"globalIrradiance", 0, 2000}, {"directIrradiance", 0, 2000},
	    {"precipitation", 0, 1000},    {"pressure", 300, 1200},
	    {"temperature", -100, 100},
	};
	bool any = false;
	enum gf_err rc;

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		any |= present(m, fd(m, ranges[i].name));
		if ((rc = check_series_range(c, m, ranges[i].name, ranges[i].lo, ranges[i].hi)))
			return rc;
	}
	return any ? GF_OK
	           : gf__validate_fail(c, NULL, "a weather series needs at least one quantity");
}

static enum gf_err check_bounds_series(struct ctx *c, const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *lo = fd(m, "lowerBound"), *hi = fd(m, "upperBound");

	for (size_t i = 0; lo && hi && i < count(m, lo) && i < count(m, hi); i++) {
		if (num_at(m, lo, i) > num_at(m, hi, i)) {
			size_t old = push(&c->path, "lowerBound", (long)i);
			enum gf_err rc = gf__validate_fail(c, NULL, "%g > upperBound[%zu] %g",
			                                   num_at(m, lo, i), i, num_at(m, hi, i));
			pop(&c->path, old);
			return rc;
		}
	}
	return GF_OK;
}

/* A repeated field that must not be empty, for types whose point it is. */
static enum gf_err check_nonempty(struct ctx *c, const ProtobufCMessage *m, const char *name)
{
	return present(m, fd(m, name)) ? GF_OK : gf__validate_fail(c, name, "must not be empty");
}

static enum gf_err check_bid(struct ctx *c, const ProtobufCMessage *m)
{
	return check_nonempty(c, m, "scheduleChange");
}

static enum gf_err check_readings(struct ctx *c, const ProtobufCMessage *m)
{
	return check_nonempty(c, m, "readings");
}

static enum gf_err check_prices(struct ctx *c, const ProtobufCMessage *m)
{
	return check_nonempty(c, m, "prices");
}

static enum gf_err check_costs(struct ctx *c, const ProtobufCMessage *m)
{
	return check_nonempty(c, m, "costs");
}

/* The actual energy covers the intervals that are over, a prefix of the
 * forecast's (meter.proto): never more of them. */
static enum gf_err check_validation(struct ctx *c, const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *fc = fd(m, "forecastEnergy"), *ac = fd(m, "actualEnergy");

	if (present(m, fc) && count(m, ac) > count(m, fc))
		return gf__validate_fail(c, "actualEnergy",
		                         "%zu values, but forecastEnergy has only %zu",
		                         count(m, ac), count(m, fc));
	return GF_OK;
}

static const struct {
	const ProtobufCMessageDescriptor *desc;
	enum gf_err (*check)(struct ctx *c, const ProtobufCMessage *m);
} type_rules[] = {
    {&goflex__flex_offer__descriptor, gf__validate_rule_flexoffer},
    {&goflex__state_space_model__descriptor, check_state_space},
    {&goflex__weather_series__descriptor, check_weather},
    {&goflex__state_forecast__descriptor, check_bounds_series},
    {&goflex__energy_forecast__descriptor, check_bounds_series},
    {&goflex__bid__descriptor, check_bid},
    {&goflex__meter_readings__descriptor, check_readings},
    {&goflex__price_series__descriptor, check_prices},
    {&goflex__transfer_cost__descriptor, check_costs},
    {&goflex__validation_data__descriptor, check_validation},
};

enum gf_err (*gf__validate_type_rule(const ProtobufCMessageDescriptor *d))(struct ctx *,
                                                                           const ProtobufCMessage *)
{
	for (size_t i = 0; i < sizeof(type_rules) / sizeof(type_rules[0]); i++) {
		if (type_rules[i].desc == d)
			return type_rules[i].check;
	}
	return NULL;
}

bool gf__validate_rule_reads_series(enum gf_err (*rule)(struct ctx *, const ProtobufCMessage *))
{
	return rule == check_weather || rule == check_bounds_series;
}

/* check_schedule on the gathered values. */
static bool schedule_ok(const Goflex__FlexOffer *fo, const struct gf__validate_fo *s,
                        const struct gf__validate_sched *sc)
{
	int64_t ms, start;
	double total = 0;

	if (gf_time_parse(sc->start, strlen(sc->start), &ms) != GF_OK ||
	    ms % (GF_TIME_INTERVAL_S * 1000) != 0)
		return false;
	start = gf_time_interval(ms);
	if (start < fo->startafterinterval || start > fo->startbeforeinterval ||
	    sc->nslices != s->nslices)
		return false;
	for (size_t j = 0; j < sc->nslices; j++) {
		const struct gf__validate_sslice *x = &sc->slices[j];
		const struct gf__validate_slice *p = &s->slices[j];
		double lo, hi;
		if (x->duration < p->min || x->duration > p->max)
			return false;
		lo = p->lower * x->duration;
		hi = p->upper * x->duration;
		if (x->energy < lo - EPS || x->energy > hi + EPS)
			return false;
		total += x->energy;
	}
	return !(s->has_total && (total < s->total_lower - EPS || total > s->total_upper + EPS));
}

bool gf__validate_flexoffer(const ProtobufCMessage *m, const struct gf__validate_fo *s)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m;
	double lo = 0, hi = 0, a, b;
	uint64_t min_len = 0, max_len = 0;

	if (fo->startafterinterval < fo->creationinterval ||
	    fo->startbeforeinterval < fo->startafterinterval ||
	    (fo->has_acceptancebeforeinterval &&
	     fo->acceptancebeforeinterval > fo->startbeforeinterval) ||
	    (fo->has_assignmentbeforeinterval &&
	     fo->assignmentbeforeinterval > fo->startbeforeinterval) ||
	    s->nslices == 0)
		return false;
	for (size_t i = 0; i < s->nslices; i++) {
		const struct gf__validate_slice *x = &s->slices[i];
		if (x->nconstraints == 0)
			return false;
		/* slice_bounds(x, minDuration), then (x, maxDuration) */
		a = x->lower * x->min;
		lo += fmin(a, a / x->min * x->max);
		b = x->upper * x->max;
		hi += fmax(b, b / x->max * x->min);
		min_len += x->min;
		max_len += x->max;
	}
	if (s->has_total && (s->total_lower > hi + EPS || s->total_upper < lo - EPS))
		return false;
	if (fo->has_endafterinterval &&
	    fo->endafterinterval != fo->startafterinterval + (int64_t)min_len)
		return false;
	if (fo->has_endbeforeinterval &&
	    fo->endbeforeinterval != fo->startbeforeinterval + (int64_t)max_len)
		return false;
	for (int k = 0; k < 2; k++) {
		if (s->sched[k].start && !schedule_ok(fo, s, &s->sched[k]))
			return false;
	}
	return true;
}
