/* SPDX-License-Identifier: MIT */
#define GF__VALIDATE_INTERNAL
#include "payload/validate.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "doms.pb-c.h"
#include "flexoffer.pb-c.h"
#include "meter.pb-c.h"
#include "price.pb-c.h"
#include "base/timefmt.h"
#include "weather.pb-c.h"
#include "xems.pb-c.h"

#define EPS          1e-9 /* kWh: slack for sums of doubles */
#define MAX_PARALLEL 9

/* The field path of the message being checked, as frames; formatted only
 * when something is wrong (building it for every nested message would cost
 * more than the checks). */
#define MAX_FRAMES 40

struct path {
	struct {
		const char *name;
		long index; /* -1: not an element of a repeated field */
	} frames[MAX_FRAMES];
	size_t n;
};

struct ctx {
	struct path path;
	char *err;
	size_t errlen;
	const struct gf__validate_times *known; /* time strings parsed already, or NULL */
};

/* Writes the path into buf; returns its length. */
static size_t format_path(const struct path *p, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n && i < MAX_FRAMES && len < size; i++) {
		int n = p->frames[i].name ? snprintf(buf + len, size - len, "%s%s", len ? "." : "",
		                                     p->frames[i].name)
		                          : 0;
		if (n > 0)
			len += (size_t)n;
		if (p->frames[i].index >= 0 && len < size) {
			n = snprintf(buf + len, size - len, "[%ld]", p->frames[i].index);
			if (n > 0)
				len += (size_t)n;
		}
	}
	return len < size ? len : size - 1;
}

__attribute__((format(printf, 3, 4))) static enum gf_err fail(struct ctx *c, const char *field,
                                                              const char *fmt, ...)
{
	char path[256];
	size_t plen = format_path(&c->path, path, sizeof(path));
	va_list ap;
	int n;

	n = snprintf(c->err, c->errlen, "%s%s%s: ", path, plen && field && *field ? "." : "",
	             field ? field : "");
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return GF_EINVAL;
}

/* Enters field name (element i, or -1); returns what pop() restores. */
static size_t push(struct path *p, const char *name, long i)
{
	size_t old = p->n;

	if (p->n < MAX_FRAMES) {
		p->frames[p->n].name = name;
		p->frames[p->n].index = i;
	}
	p->n++;
	return old;
}

static void pop(struct path *p, size_t old)
{
	p->n = old;
}

/* --- generic access by field name ---------------------------------------- */

static const void *at(const ProtobufCMessage *m, unsigned offset)
{
	return (const char *)m + offset;
}

static const ProtobufCFieldDescriptor *fd(const ProtobufCMessage *m, const char *name)
{
	return protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
}

static inline size_t count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return *(const size_t *)at(m, f->quantifier_offset);
}

static inline bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (!f)
		return false;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return count(m, f) > 0;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)at(m, f->offset) != NULL;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)at(m, f->quantifier_offset);
	return true;
}

static bool is_number(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return true;
	default:
		return false;
	}
}

/* The i-th value of a numeric field as a double (i = 0 for singular). */
static inline double num_at(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i)
{
	const void *p = at(m, f->offset);

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		p = *(const void *const *)p;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return ((const int32_t *)p)[i];
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return ((const uint32_t *)p)[i];
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return (double)((const int64_t *)p)[i];
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return (double)((const uint64_t *)p)[i];
	case PROTOBUF_C_TYPE_FLOAT:
		return ((const float *)p)[i];
	case PROTOBUF_C_TYPE_DOUBLE:
		return ((const double *)p)[i];
	default:
		return 0;
	}
}

static int64_t int64_of(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return *(const int64_t *)at(m, f->offset);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && strcmp(s + n - k, suffix) == 0;
}

/* --- rules by field name ---------------------------------------------------- */

struct pair {
	const char *lo, *hi;
};

static const struct pair ordered_pairs[] = {
    {"lower", "upper"},
    {"minTariff", "maxTariff"},
    {"lowerLimit", "upperLimit"},
    {"minDuration", "maxDuration"},
};

static const char *const positive_fields[] = {"intervalLength", "resolution", "sampleSeconds",
                                              "periodSeconds",  "duration",   "minDuration"};

struct parallel {
	const char *type;
	const char *fields[MAX_PARALLEL];
};

/* Series of one type that describe the same intervals. */
static const struct parallel parallels[] = {
    {"goflex.Bid", {"scheduleChange", "energyPrice", "headroom"}},
    {"goflex.OfferFeedback", {"scheduleChange", "energyPrice"}},
    {"goflex.OperationData", {"accountingPower", "operationPower"}},
    {"goflex.StateForecast", {"values", "lowerBound", "upperBound"}},
    {"goflex.EnergyForecast", {"energy", "lowerBound", "upperBound"}},
    {"goflex.FlexOfferExecution", {"requestedEnergy", "deliveredEnergy", "energyPrice"}},
    {"goflex.WeatherSeries",
     {"temperature", "relativeHumidity", "windSpeed", "windDirection", "cloudCover",
      "globalIrradiance", "directIrradiance", "precipitation", "pressure"}},
};

/* A plan: the fields each rule by name applies to in one message type,
 * looked up once per type instead of by name for every message. */
#define NPAIRS      (sizeof(ordered_pairs) / sizeof(ordered_pairs[0]))
#define NPOSITIVE   (sizeof(positive_fields) / sizeof(positive_fields[0]))
#define MAX_MIRRORS 16
#define PLAN_SLOTS  512 /* power of two, well above the number of message types */

typedef const ProtobufCFieldDescriptor *field_ref;

/* A singular numeric field as check_by_name reads it, resolved when the
 * plan is made: where its value and its has_ flag are, and its C type,
 * instead of present()'s and num_at()'s switches on every message. */
enum num_kind { NUM_I32, NUM_U32, NUM_I64, NUM_U64, NUM_FLOAT, NUM_DOUBLE };

struct numref {
	unsigned offset;
	int has; /* offset of its has_ flag; -1 if always present */
	enum num_kind kind;
};

struct plan {
	const ProtobufCMessageDescriptor *desc;
	field_ref pair_lo[NPAIRS], pair_hi[NPAIRS];
	field_ref positive[NPOSITIVE];
	/* The pairs and positive fields this type has, in table order. */
	unsigned char pairs[NPAIRS], npairs, positives[NPOSITIVE], npositives;
	/* pair_lo, pair_hi and positive as numrefs, in the order of pairs
	 * and positives */
	struct numref pair_ref[NPAIRS][2], positive_ref[NPOSITIVE];
	bool misc; /* a rule by name other than the pairs and positives applies */
	field_ref seconds_per_interval, latitude, longitude, from_time, to_time;
	field_ref mirror_interval[MAX_MIRRORS], mirror_time[MAX_MIRRORS];
	size_t nmirrors;
	field_ref parallel[MAX_PARALLEL];
	size_t nparallel;
	/* For walk_plan: whether any rule by name applies, the rule of the
	 * type, and the fields that walk visits (floats, doubles and
	 * messages) in schema order. */
	bool by_name;
	enum gf_err (*type_rule)(struct ctx *c, const ProtobufCMessage *m);
	size_t nvisit;
	field_ref visit[];
};

/* Message descriptors are static, so plans live as long as the process; a
 * slot is filled once, with a compare-and-swap, and read lock-free. */
static _Atomic(struct plan *) plans[PLAN_SLOTS];

/* A singular numeric field named name, or NULL. */
static field_ref numeric_field(const ProtobufCMessageDescriptor *d, const char *name)
{
	field_ref f = protobuf_c_message_descriptor_get_field_by_name(d, name);

	return f && is_number(f) && f->label != PROTOBUF_C_LABEL_REPEATED ? f : NULL;
}

static field_ref string_field(const ProtobufCMessageDescriptor *d, const char *name)
{
	field_ref f = protobuf_c_message_descriptor_get_field_by_name(d, name);

	return f && f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED
	           ? f
	           : NULL;
}

static enum gf_err (*type_rule_of(const ProtobufCMessageDescriptor *d))(struct ctx *,
                                                                        const ProtobufCMessage *);

/* The numref of f, a numeric_field. */
static struct numref numref_of(field_ref f)
{
	struct numref r = {f->offset, -1, NUM_DOUBLE};

	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		r.has = (int)f->quantifier_offset;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		r.kind = NUM_I32;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		r.kind = NUM_U32;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		r.kind = NUM_I64;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		r.kind = NUM_U64;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		r.kind = NUM_FLOAT;
		break;
	default:
		r.kind = NUM_DOUBLE;
	}
	return r;
}

/* value_of through a numref: the same value, the same presence. */
static inline bool ref_value(const ProtobufCMessage *m, const struct numref *r, double *out)
{
	const void *p = at(m, r->offset);

	if (r->has >= 0 && !*(const protobuf_c_boolean *)at(m, (unsigned)r->has))
		return false;
	switch (r->kind) {
	case NUM_I32:
		*out = *(const int32_t *)p;
		break;
	case NUM_U32:
		*out = *(const uint32_t *)p;
		break;
	case NUM_I64:
		*out = (double)*(const int64_t *)p;
		break;
	case NUM_U64:
		*out = (double)*(const uint64_t *)p;
		break;
	case NUM_FLOAT:
		*out = *(const float *)p;
		break;
	default:
		*out = *(const double *)p;
	}
	return true;
}

static struct plan *make_plan(const ProtobufCMessageDescriptor *d)
{
	struct plan *p = calloc(1, sizeof(*p) + d->n_fields * sizeof(field_ref));
	char tname[80];

	if (!p)
		return NULL;
	p->desc = d;
	for (unsigned i = 0; i < d->n_fields; i++) {
		field_ref f = &d->fields[i];
		if (f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_FLOAT ||
		    f->type == PROTOBUF_C_TYPE_MESSAGE)
			p->visit[p->nvisit++] = f;
	}
	p->type_rule = type_rule_of(d);
	for (size_t i = 0; i < NPAIRS; i++) {
		p->pair_lo[i] = numeric_field(d, ordered_pairs[i].lo);
		p->pair_hi[i] = numeric_field(d, ordered_pairs[i].hi);
	}
	for (size_t i = 0; i < NPOSITIVE; i++)
		p->positive[i] = numeric_field(d, positive_fields[i]);
	p->seconds_per_interval = numeric_field(d, "numSecondsPerInterval");
	p->latitude = numeric_field(d, "latitude");
	p->longitude = numeric_field(d, "longitude");
	p->from_time = string_field(d, "fromTime");
	p->to_time = string_field(d, "toTime");
	for (unsigned i = 0; i < d->n_fields && p->nmirrors < MAX_MIRRORS; i++) {
		field_ref f = &d->fields[i];
		size_t n = strlen(f->name);
		if (f->type != PROTOBUF_C_TYPE_INT64 || f->label == PROTOBUF_C_LABEL_REPEATED ||
		    !ends_with(f->name, "Interval") || n - 8 + 5 > sizeof(tname))
			continue;
		memcpy(tname, f->name, n - 8);
		memcpy(tname + n - 8, "Time", 5);
		p->mirror_interval[p->nmirrors] = f;
		p->mirror_time[p->nmirrors] = string_field(d, tname);
		p->nmirrors++;
	}
	for (size_t i = 0; i < sizeof(parallels) / sizeof(parallels[0]); i++) {
		if (strcmp(d->name, parallels[i].type) != 0)
			continue;
		for (size_t k = 0; k < MAX_PARALLEL && parallels[i].fields[k]; k++) {
			field_ref f = protobuf_c_message_descriptor_get_field_by_name(
			    d, parallels[i].fields[k]);
			if (f && f->label == PROTOBUF_C_LABEL_REPEATED)
				p->parallel[p->nparallel++] = f;
		}
	}
	for (size_t i = 0; i < NPAIRS; i++) {
		if (p->pair_lo[i] && p->pair_hi[i]) {
			p->pair_ref[p->npairs][0] = numref_of(p->pair_lo[i]);
			p->pair_ref[p->npairs][1] = numref_of(p->pair_hi[i]);
			p->pairs[p->npairs++] = (unsigned char)i;
		}
	}
	for (size_t i = 0; i < NPOSITIVE; i++) {
		if (p->positive[i]) {
			p->positive_ref[p->npositives] = numref_of(p->positive[i]);
			p->positives[p->npositives++] = (unsigned char)i;
		}
	}
	p->misc = p->seconds_per_interval || p->latitude || p->longitude || p->from_time ||
	          p->to_time || p->nmirrors > 0 || p->nparallel > 0;
	p->by_name = p->npairs > 0 || p->npositives > 0 || p->seconds_per_interval || p->latitude ||
	             p->longitude || p->from_time || p->to_time || p->nmirrors > 0 ||
	             p->nparallel > 0;
	return p;
}

/* The plan of d, made at first sight; NULL only when memory runs out. */
static const struct plan *plan_of(const ProtobufCMessageDescriptor *d)
{
	size_t h = (size_t)(((uintptr_t)d >> 4) * 2654435761u);

	for (size_t i = 0; i < PLAN_SLOTS; i++) {
		size_t k = (h + i) & (PLAN_SLOTS - 1);
		struct plan *p = atomic_load_explicit(&plans[k], memory_order_acquire);
		struct plan *expected = NULL;
		if (p) {
			if (p->desc == d)
				return p;
			continue;
		}
		if (!(p = make_plan(d)))
			return NULL;
		if (atomic_compare_exchange_strong_explicit(
		        &plans[k], &expected, p, memory_order_acq_rel, memory_order_acquire))
			return p;
		free(p); /* another thread filled the slot first */
		if (expected->desc == d)
			return expected;
	}
	return NULL;
}

/* Seconds since the epoch of the time string field f; *has = false if absent. */
static enum gf_err time_of(struct ctx *c, const ProtobufCMessage *m, field_ref f, bool *has,
                           int64_t *out)
{
	const char *s = f ? *(const char *const *)at(m, f->offset) : NULL;
	int64_t ms;

	*has = false;
	if (!s)
		return GF_OK;
	for (unsigned i = 0; c->known != NULL && i < c->known->n; i++) {
		if (c->known->text[i] == s) {
			ms = c->known->ms[i];
			goto parsed;
		}
	}
	if (gf_time_parse(s, strlen(s), &ms) != GF_OK)
		return fail(c, f->name, "not an RFC 3339 time");
parsed:
	*out = ms / 1000 - (ms % 1000 < 0);
	*has = true;
	return GF_OK;
}

static inline bool value_of(const ProtobufCMessage *m, field_ref f, double *out)
{
	if (!f || !present(m, f))
		return false;
	*out = num_at(m, f, 0);
	return true;
}

static enum gf_err check_mirrors(struct ctx *c, const ProtobufCMessage *m, const struct plan *p)
{
	for (size_t i = 0; i < p->nmirrors; i++) {
		field_ref f = p->mirror_interval[i];
		int64_t interval, secs;
		bool has;
		enum gf_err rc;

		if (!present(m, f))
			continue;
		interval = int64_of(m, f);
		if (interval < 0)
			return fail(c, f->name, "%lld is negative", (long long)interval);
		/* Beyond year 9999 no time can mirror it, and sums of interval
		 * numbers elsewhere must not overflow. */
		if (interval > GF_TIME_MAX_MS / 1000 / GF_TIME_INTERVAL_S)
			return fail(c, f->name, "%lld is after the year 9999", (long long)interval);
		rc = time_of(c, m, p->mirror_time[i], &has, &secs);
		if (rc != GF_OK)
			return rc;
		if (has && secs != interval * GF_TIME_INTERVAL_S)
			return fail(c, p->mirror_time[i]->name,
			            "does not match %s %lld (%lld s since the epoch)", f->name,
			            (long long)interval, (long long)interval * GF_TIME_INTERVAL_S);
	}
	return GF_OK;
}

/* Whether pair k of p (a p->pairs index) holds in m; its values in a, b. */
static inline bool pair_ok(const ProtobufCMessage *m, const struct plan *p, size_t k, double *a,
                           double *b)
{
	return !(ref_value(m, &p->pair_ref[k][0], a) && ref_value(m, &p->pair_ref[k][1], b) &&
	         *a > *b);
}

/* Whether positive field k of p (a p->positives index) holds in m; its
 * value in a. */
static inline bool positive_ok(const ProtobufCMessage *m, const struct plan *p, size_t k, double *a)
{
	return !(ref_value(m, &p->positive_ref[k], a) && !(*a > 0));
}

static enum gf_err check_by_name(struct ctx *c, const ProtobufCMessage *m, const struct plan *p)
{
	double a, b;
	int64_t from, to;
	bool has_from, has_to;
	enum gf_err rc;

	for (size_t k = 0; k < p->npairs; k++) {
		size_t i = p->pairs[k];
		if (!pair_ok(m, p, k, &a, &b))
			return fail(c, ordered_pairs[i].lo, "%g > %s %g", a, ordered_pairs[i].hi,
			            b);
	}
	for (size_t k = 0; k < p->npositives; k++) {
		if (!positive_ok(m, p, k, &a))
			return fail(c, positive_fields[p->positives[k]], "must be positive, not %g",
			            a);
	}
	if (!p->misc)
		return GF_OK;
	if (value_of(m, p->seconds_per_interval, &a) && a != GF_TIME_INTERVAL_S)
		return fail(c, "numSecondsPerInterval", "%g, but an interval is %d s", a,
		            GF_TIME_INTERVAL_S);
	if (value_of(m, p->latitude, &a) && (a < -90 || a > 90))
		return fail(c, "latitude", "%g is outside -90..90", a);
	if (value_of(m, p->longitude, &a) && (a < -180 || a > 180))
		return fail(c, "longitude", "%g is outside -180..180", a);
	if (p->from_time || p->to_time) {
		if ((rc = time_of(c, m, p->from_time, &has_from, &from)) != GF_OK ||
		    (rc = time_of(c, m, p->to_time, &has_to, &to)) != GF_OK)
			return rc;
		if (has_from && has_to && from >= to)
			return fail(c, "toTime", "is not after fromTime");
	}
	field_ref first = NULL;
	for (size_t j = 0; j < p->nparallel; j++) {
		if (!present(m, p->parallel[j]))
			continue;
		if (!first)
			first = p->parallel[j];
		else if (count(m, p->parallel[j]) != count(m, first))
			return fail(c, p->parallel[j]->name, "%zu values, but %s has %zu",
			            count(m, p->parallel[j]), first->name, count(m, first));
	}
	return check_mirrors(c, m, p);
}

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
		rc = fail(c, "startTime", "not an RFC 3339 time");
		goto out;
	}
	if (ms % (GF_TIME_INTERVAL_S * 1000) != 0) {
		rc = fail(c, "startTime", "not at an interval boundary");
		goto out;
	}
	start = gf_time_interval(ms);
	if (start < fo->startafterinterval || start > fo->startbeforeinterval) {
		rc = fail(c, "startTime", "interval %lld is outside the start window [%lld, %lld]",
		          (long long)start, (long long)fo->startafterinterval,
		          (long long)fo->startbeforeinterval);
		goto out;
	}
	if (s->n_scheduleslices != fo->n_flexofferprofileconstraints) {
		rc = fail(c, "scheduleSlices", "%zu slices for a profile of %zu",
		          s->n_scheduleslices, fo->n_flexofferprofileconstraints);
		goto out;
	}
	for (size_t j = 0; j < s->n_scheduleslices; j++) {
		const Goflex__ScheduleSlice *x = s->scheduleslices[j];
		const Goflex__FlexOfferProfileConstraint *p = fo->flexofferprofileconstraints[j];
		size_t o2 = push(&c->path, "scheduleSlices", (long)j);
		if (x->duration < p->minduration || x->duration > p->maxduration) {
			rc = fail(c, "duration", "%u is outside the slice's [%u, %u]", x->duration,
			          p->minduration, p->maxduration);
			goto out;
		}
		slice_bounds(p, x->duration, &lo, &hi);
		if (x->energyamount < lo - EPS || x->energyamount > hi + EPS) {
			rc = fail(c, "energyAmount", "%.17g kWh is outside [%.17g, %.17g]",
			          x->energyamount, lo, hi);
			goto out;
		}
		total += x->energyamount;
		pop(&c->path, o2);
	}
	if (fo->totalenergyconstraint && (total < fo->totalenergyconstraint->lower - EPS ||
	                                  total > fo->totalenergyconstraint->upper + EPS)) {
		rc = fail(c, "scheduleSlices", "total %.17g kWh is outside totalEnergyConstraint",
		          total);
		goto out;
	}
out:
	if (rc == GF_OK)
		pop(&c->path, old);
	return rc;
}

static enum gf_err check_flexoffer(struct ctx *c, const ProtobufCMessage *m)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m;
	double lo = 0, hi = 0, a, b;
	uint64_t min_len = 0, max_len = 0;
	enum gf_err rc;

	if (fo->startafterinterval < fo->creationinterval)
		return fail(c, "startAfterInterval", "%lld is before creationInterval %lld",
		            (long long)fo->startafterinterval, (long long)fo->creationinterval);
	if (fo->startbeforeinterval < fo->startafterinterval)
		return fail(c, "startBeforeInterval", "%lld is before startAfterInterval %lld",
		            (long long)fo->startbeforeinterval, (long long)fo->startafterinterval);
	if (fo->has_acceptancebeforeinterval &&
	    fo->acceptancebeforeinterval > fo->startbeforeinterval)
		return fail(c, "acceptanceBeforeInterval", "%lld is after startBeforeInterval %lld",
		            (long long)fo->acceptancebeforeinterval,
		            (long long)fo->startbeforeinterval);
	if (fo->has_assignmentbeforeinterval &&
	    fo->assignmentbeforeinterval > fo->startbeforeinterval)
		return fail(c, "assignmentBeforeInterval", "%lld is after startBeforeInterval %lld",
		            (long long)fo->assignmentbeforeinterval,
		            (long long)fo->startbeforeinterval);
	if (fo->n_flexofferprofileconstraints == 0)
		return fail(c, "flexOfferProfileConstraints", "an offer needs at least one slice");
	for (size_t i = 0; i < fo->n_flexofferprofileconstraints; i++) {
		const Goflex__FlexOfferProfileConstraint *s = fo->flexofferprofileconstraints[i];
		if (s->n_energyconstraintlist == 0) {
			size_t old = push(&c->path, "flexOfferProfileConstraints", (long)i);
			rc = fail(c, "energyConstraintList", "a slice needs an energy constraint");
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
		return fail(c, "totalEnergyConstraint",
		            "[%.17g, %.17g] kWh cannot be met by the slices' [%.17g, %.17g]",
		            fo->totalenergyconstraint->lower, fo->totalenergyconstraint->upper, lo,
		            hi);
	if (fo->has_endafterinterval &&
	    fo->endafterinterval != fo->startafterinterval + (int64_t)min_len)
		return fail(c, "endAfterInterval",
		            "%lld, but startAfterInterval + shortest profile = %lld",
		            (long long)fo->endafterinterval,
		            (long long)(fo->startafterinterval + (int64_t)min_len));
	if (fo->has_endbeforeinterval &&
	    fo->endbeforeinterval != fo->startbeforeinterval + (int64_t)max_len)
		return fail(c, "endBeforeInterval",
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
			return fail(c, dims[i].name, "%zu values, but the dimensions need %zu",
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
			enum gf_err rc = fail(c, NULL, "%g is outside %g..%g", v, lo, hi);
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
	return any ? GF_OK : fail(c, NULL, "a weather series needs at least one quantity");
}

static enum gf_err check_bounds_series(struct ctx *c, const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *lo = fd(m, "lowerBound"), *hi = fd(m, "upperBound");

	for (size_t i = 0; lo && hi && i < count(m, lo) && i < count(m, hi); i++) {
		if (num_at(m, lo, i) > num_at(m, hi, i)) {
			size_t old = push(&c->path, "lowerBound", (long)i);
			enum gf_err rc = fail(c, NULL, "%g > upperBound[%zu] %g", num_at(m, lo, i),
			                      i, num_at(m, hi, i));
			pop(&c->path, old);
			return rc;
		}
	}
	return GF_OK;
}

/* A repeated field that must not be empty, for types whose point it is. */
static enum gf_err check_nonempty(struct ctx *c, const ProtobufCMessage *m, const char *name)
{
	return present(m, fd(m, name)) ? GF_OK : fail(c, name, "must not be empty");
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
		return fail(c, "actualEnergy", "%zu values, but forecastEnergy has only %zu",
		            count(m, ac), count(m, fc));
	return GF_OK;
}

static const struct {
	const ProtobufCMessageDescriptor *desc;
	enum gf_err (*check)(struct ctx *c, const ProtobufCMessage *m);
} type_rules[] = {
    {&goflex__flex_offer__descriptor, check_flexoffer},
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

static enum gf_err (*type_rule_of(const ProtobufCMessageDescriptor *d))(struct ctx *,
                                                                        const ProtobufCMessage *)
{
	for (size_t i = 0; i < sizeof(type_rules) / sizeof(type_rules[0]); i++) {
		if (type_rules[i].desc == d)
			return type_rules[i].check;
	}
	return NULL;
}

/*
 * walk by the plan: the same checks in the same order as walk below, but
 * only over the fields that have any (reals and messages), the rules by
 * name only where one applies, the finite checks only where a non-finite
 * number can be (finite: the decoder saw none).
 */
static enum gf_err walk_plan(struct ctx *c, const ProtobufCMessage *m, int depth, bool finite)
{
	const struct plan *plan;
	enum gf_err rc;

	if (depth > 32)
		return fail(c, NULL, "nested too deeply");
	if (!(plan = plan_of(m->descriptor)))
		return fail(c, NULL, "out of memory");
	for (size_t i = 0; i < plan->nvisit; i++) {
		const ProtobufCFieldDescriptor *f = plan->visit[i];
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t n = repeated ? count(m, f) : present(m, f);
		if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			for (size_t k = 0; !finite && k < n; k++) {
				if (!isfinite(num_at(m, f, k))) {
					size_t old =
					    push(&c->path, f->name, repeated ? (long)k : -1);
					rc = fail(c, NULL, "not a finite number");
					pop(&c->path, old);
					return rc;
				}
			}
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			const ProtobufCMessage *sub =
			    repeated ? (*(ProtobufCMessage *const *const *)at(m, f->offset))[k]
			             : *(ProtobufCMessage *const *)at(m, f->offset);
			size_t old = push(&c->path, f->name, repeated ? (long)k : -1);
			rc = walk_plan(c, sub, depth + 1, finite);
			if (rc != GF_OK)
				return rc;
			pop(&c->path, old);
		}
	}
	if (plan->by_name && (rc = check_by_name(c, m, plan)) != GF_OK)
		return rc;
	return plan->type_rule ? plan->type_rule(c, m) : GF_OK;
}

/* Depth first: children before the rules of the message itself, so the
 * error names the innermost fault. */
static enum gf_err walk(struct ctx *c, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const struct plan *plan;
	enum gf_err rc;

	if (depth > 32)
		return fail(c, NULL, "nested too deeply");
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t n = repeated ? count(m, f) : present(m, f);
		if (f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_FLOAT) {
			for (size_t k = 0; k < n; k++) {
				if (!isfinite(num_at(m, f, k))) {
					size_t old =
					    push(&c->path, f->name, repeated ? (long)k : -1);
					rc = fail(c, NULL, "not a finite number");
					pop(&c->path, old);
					return rc;
				}
			}
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			for (size_t k = 0; k < n; k++) {
				const ProtobufCMessage *sub =
				    repeated
				        ? (*(ProtobufCMessage *const *const *)at(m, f->offset))[k]
				        : *(ProtobufCMessage *const *)at(m, f->offset);
				size_t old = push(&c->path, f->name, repeated ? (long)k : -1);
				rc = walk(c, sub, depth + 1);
				if (rc != GF_OK)
					return rc;
				pop(&c->path, old);
			}
		}
	}
	if (!(plan = plan_of(d)))
		return fail(c, NULL, "out of memory");
	if ((rc = check_by_name(c, m, plan)) != GF_OK)
		return rc;
	for (size_t i = 0; i < sizeof(type_rules) / sizeof(type_rules[0]); i++) {
		if (type_rules[i].desc == d)
			return type_rules[i].check(c, m);
	}
	return GF_OK;
}

enum gf_err gf_validate(const ProtobufCMessage *m, char *err, size_t errlen)
{
	struct ctx c = {.err = err, .errlen = errlen};
	char scratch[8];

	if (!err || errlen == 0) {
		c.err = scratch;
		c.errlen = sizeof(scratch);
	}
	if (!m)
		return GF_EINVAL;
	return walk(&c, m, 0);
}

enum gf_err gf_validate_verdict(const ProtobufCMessage *m, bool finite, char *err, size_t errlen)
{
	struct ctx c = {.err = err, .errlen = errlen};
	char scratch[8];

	if (!err || errlen == 0) {
		c.err = scratch;
		c.errlen = sizeof(scratch);
	}
	if (!m)
		return GF_EINVAL;
	return walk_plan(&c, m, 0, finite);
}

/* --- the one-pass protobuf verdict's side (check_protobuf.c) ---------------- */

const void *gf__validate_plan(const ProtobufCMessageDescriptor *d)
{
	return plan_of(d);
}

enum gf__validate_kind gf__validate_kind(const void *plan)
{
	const struct plan *p = plan;

	if (p->type_rule == check_flexoffer)
		return GF__VALIDATE_FLEXOFFER;
	/* These read the values of repeated fields. */
	if (p->type_rule == check_weather || p->type_rule == check_bounds_series)
		return GF__VALIDATE_TREE;
	return GF__VALIDATE_LOCAL;
}

/* gf__validate_local's general case: the rules by name and the type's rule
 * through their own code, with a context to fail into. Kept out of line, so
 * that the common case has no frame for the context. */
static __attribute__((noinline)) bool local_rules(const struct plan *p, const ProtobufCMessage *m,
                                                  const struct gf__validate_times *known)
{
	char scratch[8];
	struct ctx c; /* not zeroed: 600 bytes of path per message would cost more than the rules */

	c.path.n = 0;
	c.err = scratch;
	c.errlen = sizeof(scratch);
	c.known = known;
	if (p->by_name && check_by_name(&c, m, p) != GF_OK)
		return false;
	if (p->type_rule && p->type_rule != check_flexoffer && p->type_rule(&c, m) != GF_OK)
		return false;
	return true;
}

bool gf__validate_local(const void *plan, const ProtobufCMessage *m,
                        const struct gf__validate_times *known)
{
	const struct plan *p = plan;
	double a, b;

	/* Most small messages have only pairs and positive fields (an energy
	 * or tariff constraint, a slice): check_by_name's verdict on those
	 * without its frame and a context to fail into. */
	if (p->misc || (p->type_rule != NULL && p->type_rule != check_flexoffer))
		return local_rules(p, m, known);
	for (size_t k = 0; k < p->npairs; k++) {
		if (!pair_ok(m, p, k, &a, &b))
			return false;
	}
	for (size_t k = 0; k < p->npositives; k++) {
		if (!positive_ok(m, p, k, &a))
			return false;
	}
	return true;
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
