/* SPDX-License-Identifier: MIT */
#define GF__VALIDATE_INTERNAL
#include "payload/validate.h"
#include "payload/validate_int.h"

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

enum gf_err gf__validate_fail(struct ctx *c, const char *field, const char *fmt, ...)
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

/* --- generic access by field name ---------------------------------------- */

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
	p->type_rule = gf__validate_type_rule(d);
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
		return gf__validate_fail(c, f->name, "not an RFC 3339 time");
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
			return gf__validate_fail(c, f->name, "%lld is negative",
			                         (long long)interval);
		/* Beyond year 9999 no time can mirror it, and sums of interval
		 * numbers elsewhere must not overflow. */
		if (interval > GF_TIME_MAX_MS / 1000 / GF_TIME_INTERVAL_S)
			return gf__validate_fail(c, f->name, "%lld is after the year 9999",
			                         (long long)interval);
		rc = time_of(c, m, p->mirror_time[i], &has, &secs);
		if (rc != GF_OK)
			return rc;
		if (has && secs != interval * GF_TIME_INTERVAL_S)
			return gf__validate_fail(c, p->mirror_time[i]->name,
			                         "does not match %s %lld (%lld s since the epoch)",
			                         f->name, (long long)interval,
			                         (long long)interval * GF_TIME_INTERVAL_S);
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
			return gf__validate_fail(c, ordered_pairs[i].lo, "%g > %s %g", a,
			                         ordered_pairs[i].hi, b);
	}
	for (size_t k = 0; k < p->npositives; k++) {
		if (!positive_ok(m, p, k, &a))
			return gf__validate_fail(c, positive_fields[p->positives[k]],
			                         "must be positive, not %g", a);
	}
	if (!p->misc)
		return GF_OK;
	if (value_of(m, p->seconds_per_interval, &a) && a != GF_TIME_INTERVAL_S)
		return gf__validate_fail(c, "numSecondsPerInterval", "%g, but an interval is %d s",
		                         a, GF_TIME_INTERVAL_S);
	if (value_of(m, p->latitude, &a) && (a < -90 || a > 90))
		return gf__validate_fail(c, "latitude", "%g is outside -90..90", a);
	if (value_of(m, p->longitude, &a) && (a < -180 || a > 180))
		return gf__validate_fail(c, "longitude", "%g is outside -180..180", a);
	if (p->from_time || p->to_time) {
		if ((rc = time_of(c, m, p->from_time, &has_from, &from)) != GF_OK ||
		    (rc = time_of(c, m, p->to_time, &has_to, &to)) != GF_OK)
			return rc;
		if (has_from && has_to && from >= to)
			return gf__validate_fail(c, "toTime", "is not after fromTime");
	}
	field_ref first = NULL;
	for (size_t j = 0; j < p->nparallel; j++) {
		if (!present(m, p->parallel[j]))
			continue;
		if (!first)
			first = p->parallel[j];
		else if (count(m, p->parallel[j]) != count(m, first))
			return gf__validate_fail(
			    c, p->parallel[j]->name, "%zu values, but %s has %zu",
			    count(m, p->parallel[j]), first->name, count(m, first));
	}
	return check_mirrors(c, m, p);
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
		return gf__validate_fail(c, NULL, "nested too deeply");
	if (!(plan = plan_of(m->descriptor)))
		return gf__validate_fail(c, NULL, "out of memory");
	for (size_t i = 0; i < plan->nvisit; i++) {
		const ProtobufCFieldDescriptor *f = plan->visit[i];
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t n = repeated ? count(m, f) : present(m, f);
		if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			for (size_t k = 0; !finite && k < n; k++) {
				if (!isfinite(num_at(m, f, k))) {
					size_t old =
					    push(&c->path, f->name, repeated ? (long)k : -1);
					rc = gf__validate_fail(c, NULL, "not a finite number");
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
		return gf__validate_fail(c, NULL, "nested too deeply");
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t n = repeated ? count(m, f) : present(m, f);
		if (f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_FLOAT) {
			for (size_t k = 0; k < n; k++) {
				if (!isfinite(num_at(m, f, k))) {
					size_t old =
					    push(&c->path, f->name, repeated ? (long)k : -1);
					rc = gf__validate_fail(c, NULL, "not a finite number");
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
		return gf__validate_fail(c, NULL, "out of memory");
	if ((rc = check_by_name(c, m, plan)) != GF_OK)
		return rc;
	return plan->type_rule ? plan->type_rule(c, m) : GF_OK;
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

	if (p->type_rule == gf__validate_rule_flexoffer)
		return GF__VALIDATE_FLEXOFFER;
	/* These read the values of repeated fields. */
	if (gf__validate_rule_reads_series(p->type_rule))
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
	if (p->type_rule && p->type_rule != gf__validate_rule_flexoffer &&
	    p->type_rule(&c, m) != GF_OK)
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
	if (p->misc || (p->type_rule != NULL && p->type_rule != gf__validate_rule_flexoffer))
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
