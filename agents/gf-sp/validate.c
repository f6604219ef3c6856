/* SPDX-License-Identifier: MIT */
/*
 * validate.c - validation.query answered with validation.query.result
 * (docs/sp.md, "Validation"; D6.1 8.4): for a meter (pseudonym) or a grid
 * point, over the whole 900 s intervals of [fromTime, toTime),
 *
 *   - actualEnergy: the metered energy of each interval that is over
 *     (complete, and ended by the agent's clock), from the first interval
 *     up to the first that is not: a prefix, shorter while the period is
 *     not over;
 *   - forecastEnergy: the characteristic curve of every interval, from the
 *     metered history before the event day (curve.h; X of Y, day-of
 *     adjustment).
 *
 * A grid point is the sum over its meters, counted in an interval only when
 * every one of them has it complete: a delivered change is a baseline minus
 * a metered value, and both must be over the same meters (a missing meter
 * would look like flexibility). It must have k_min meters (else denied).
 * Without history there is no baseline and no invented number: status
 * failed with the reason. The answer goes through the outbox with the
 * request's correlation data and requestId; a query changes no state and is
 * answered again each time it comes (the requester resends until it has
 * what it needs).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "agent/kpi.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "curve.h"
#include "energy.h"
#include "meter.pb-c.h"
#include "sp.h"

#define DAY           GF_BASELINE_INTERVALS
#define INTERVAL_MS   (GF_TIME_INTERVAL_S * 1000LL)
#define INTERVALS_MAX (7 * DAY) /* a week: the longest offer FMAN takes */
#define REASON_MAX    256

struct validation {
	struct sp *sp;
	const struct gf_inbox_item *item;
	const struct gf_message *m;
	const Goflex__ValidationQuery *q;
	int64_t w0;       /* first interval */
	size_t n, actual; /* intervals; how many of them are over */
	double *forecast; /* n */
	double *e;        /* the metered series from the history's first day */
	const double *ae; /* its part from w0 */
	struct sp_curve_info info;
	Goflex__ResultStatus__Code code;
	char reason[REASON_MAX];
};

static void set_status(struct validation *v, Goflex__ResultStatus__Code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_status(struct validation *v, Goflex__ResultStatus__Code code, const char *fmt, ...)
{
	va_list ap;

	v->code = code;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

enum gf_err sp_validate_adjust(const char *name, enum gf_baseline_adjust *out)
{
	if (strcmp(name, "none") == 0)
		*out = GF_BASELINE_ADJUST_NONE;
	else if (strcmp(name, "mult") == 0)
		*out = GF_BASELINE_ADJUST_MULT;
	else if (strcmp(name, "add") == 0)
		*out = GF_BASELINE_ADJUST_ADD;
	else
		return GF_EINVAL;
	return GF_OK;
}

/* The window's intervals; false with the status set when there are none
 * or too many. */
static bool window(struct validation *v)
{
	int64_t from, to, a, b;

	if (gf_time_parse(v->q->fromtime, strlen(v->q->fromtime), &from) != GF_OK ||
	    gf_time_parse(v->q->totime, strlen(v->q->totime), &to) != GF_OK || from >= to) {
		set_status(v, GOFLEX__RESULT_STATUS__CODE__badRequest,
		           "fromTime must be before toTime");
		return false;
	}
	a = sp_energy_ceil(from, INTERVAL_MS) / INTERVAL_MS;
	b = sp_energy_floor(to, INTERVAL_MS) / INTERVAL_MS;
	if (b <= a) {
		set_status(v, GOFLEX__RESULT_STATUS__CODE__badRequest,
		           "no whole 900 s interval between fromTime and toTime");
		return false;
	}
	if (b - a > INTERVALS_MAX) {
		set_status(v, GOFLEX__RESULT_STATUS__CODE__badRequest,
		           "%lld intervals asked for; at most %d (a week)", (long long)(b - a),
		           INTERVALS_MAX);
		return false;
	}
	v->w0 = a;
	v->n = (size_t)(b - a);
	return true;
}

/* The energy per interval from series_start, count of them, of the meter
 * or grid point asked for, NAN where not complete. GF_OK with the status
 * set for what the request gets instead of data; errors of the store and
 * memory. */
static enum gf_err series(struct validation *v, int64_t start, size_t count, double *e)
{
	struct sp *sp = v->sp;
	const char *dev = v->q->deviceid;
	const struct sp_grid *g = sp_grids_find(sp, dev);
	int64_t first, last;
	size_t bad = 0;
	bool found = false;
	char err[256] = "";
	uint32_t *have = NULL;
	enum gf_err rc;

	if (g && g->n < (size_t)sp->conf->k_min) {
		set_status(v, GOFLEX__RESULT_STATUS__CODE__denied,
		           "grid point %s has %zu meters, fewer than k_min %ld", g->id, g->n,
		           sp->conf->k_min);
		return GF_OK;
	}
	if (!g) {
		rc = sp_energy_span(sp->db, dev, &first, &last, &found, err, sizeof(err));
		if (rc == GF_OK && !found) {
			set_status(v, GOFLEX__RESULT_STATUS__CODE__notFound,
			           "deviceId: nothing is stored of this meter, and it is no grid "
			           "point");
			return GF_OK;
		}
		if (rc == GF_OK)
			rc = sp_energy_meter(sp->db, dev, NULL, start * INTERVAL_MS, INTERVAL_MS,
			                     count, e, err, sizeof(err));
		if (rc == GF_ERANGE) {
			set_status(v, GOFLEX__RESULT_STATUS__CODE__failed,
			           "the meter's register decreases in the history or the period");
			return GF_OK;
		}
		goto out;
	}
	if (!(have = malloc(count * sizeof(*have))))
		return GF_ENOMEM;
	rc = sp_energy_grid(sp->db, (const char *const *)g->meters, g->n, start * INTERVAL_MS,
	                    INTERVAL_MS, count, e, have, &bad, err, sizeof(err));
	if (rc == GF_OK && bad) {
		set_status(v, GOFLEX__RESULT_STATUS__CODE__failed,
		           "grid point %s: %zu of its meters have a register that decreases", g->id,
		           bad);
		goto out;
	}
	for (size_t i = 0; rc == GF_OK && i < count; i++)
		if (have[i] < g->n)
			e[i] = NAN;
out:
	free(have);
	if (rc != GF_OK && rc != GF_ENOMEM)
		gf_log_err("GF-SP-STORE", "validation.query: %s", err);
	return rc;
}

/* Everything but the answer, outside the transaction (as query.c). */
static enum gf_err collect(struct validation *v)
{
	const struct sp_conf *c = v->sp->conf;
	struct sp_curve_params p = {(size_t)c->baseline_x,       (size_t)c->baseline_y,
	                            (size_t)c->baseline_days,    v->sp->adjust,
	                            (size_t)c->baseline_adj_len, (size_t)c->baseline_adj_gap};
	int64_t start = sp_curve_day_start(v->w0) - (int64_t)p.days * DAY;
	int64_t now = sp_util_now_ms(v->sp);
	size_t count = (size_t)(v->w0 - start) + v->n;
	double *e = v->e = malloc(count * sizeof(*e));
	char day[GF_TIME_BUFSIZE] = "?";
	enum gf_err rc = GF_ENOMEM;

	v->forecast = malloc(v->n * sizeof(*v->forecast));
	if (!e || !v->forecast)
		return GF_ENOMEM;
	if ((rc = series(v, start, count, e)) != GF_OK ||
	    v->code != GOFLEX__RESULT_STATUS__CODE__ok)
		return rc;
	rc = sp_curve_window(e, v->w0, v->n, &p, v->forecast, &v->info);
	if (rc == GF_ERANGE) {
		gf_time_format(sp_curve_day_start(v->w0) * INTERVAL_MS, day, sizeof(day));
		set_status(v, GOFLEX__RESULT_STATUS__CODE__failed,
		           "no complete day of metered history in the %zu days before %.10s: no "
		           "baseline",
		           p.days, day);
		return GF_OK;
	}
	if (rc != GF_OK) {
		set_status(v, GOFLEX__RESULT_STATUS__CODE__failed, "the baseline failed: %s",
		           gf_strerror(rc));
		return GF_OK;
	}
	/* What is over: complete, and ended by the agent's clock. */
	v->ae = e + (v->w0 - start);
	while (v->actual < v->n && !isnan(v->ae[v->actual]) &&
	       (v->w0 + (int64_t)v->actual + 1) * INTERVAL_MS <= now)
		v->actual++;
	return GF_OK;
}

/* The answer, for gf_store_once. */
static enum gf_err answer(void *arg)
{
	struct validation *v = arg;
	bool ok = v->code == GOFLEX__RESULT_STATUS__CODE__ok;
	Goflex__ResultStatus status = GOFLEX__RESULT_STATUS__INIT;
	Goflex__ValidationQueryResult res = GOFLEX__VALIDATION_QUERY_RESULT__INIT;
	Goflex__ValidationData data = GOFLEX__VALIDATION_DATA__INIT;
	char start[GF_TIME_BUFSIZE];

	status.code = v->code;
	status.reason = ok ? NULL : v->reason;
	status.requestid = v->q->requestid;
	res.status = &status;
	if (ok) {
		if (gf_time_format(v->w0 * INTERVAL_MS, start, sizeof(start)) != GF_OK)
			return GF_EINVAL;
		data.deviceid = v->q->deviceid;
		data.flexofferid = v->q->flexofferid;
		data.starttime = start;
		data.intervallength = GF_TIME_INTERVAL_S;
		data.n_forecastenergy = v->n;
		data.forecastenergy = v->forecast;
		data.n_actualenergy = v->actual;
		data.actualenergy = (double *)v->ae;
		res.validation = &data;
	}
	return gf_message_answer(v->sp->a, v->sp->store, v->item, v->m, &res.base);
}

void sp_validate_answer(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m)
{
	struct validation v = {
	    .sp = sp,
	    .item = item,
	    .m = m,
	    .q = (const Goflex__ValidationQuery *)m->body,
	    .code = GOFLEX__RESULT_STATUS__CODE__ok,
	};
	const ProtobufCEnumValue *name;
	char id[GF_FNV1A64_HEXSIZE];
	enum gf_err rc;

	sp->queries++;
	gf_kpi_count(sp->a, "sp.queries", 1, NULL);
	if (window(&v) && (rc = collect(&v)) != GF_OK) {
		if (rc == GF_ENOMEM)
			set_status(&v, GOFLEX__RESULT_STATUS__CODE__failed, "out of memory");
		else
			set_status(&v, GOFLEX__RESULT_STATUS__CODE__unavailable,
			           "the metering store failed; retry later");
	}
	if (gf_store_once(sp->a, sp->store, NULL, answer, NULL, &v) == GF_OK) {
		name = protobuf_c_enum_descriptor_get_value(
		    &goflex__result_status__code__descriptor, (int)v.code);
		sp_util_msgid(item->payload, item->len, id);
		/* Ids, counts and the baseline's shape: no pseudonym, no value (a
		 * reason names a grid point, never a meter). */
		if (v.code == GOFLEX__RESULT_STATUS__CODE__ok)
			gf_log_info("GF-SP-VALIDATION",
			            "validation.query (message %s) from %s.%s: ok, %zu intervals, "
			            "%zu over; baseline %zu of %zu (%zu complete days)%s",
			            id, gf_role_name(m->topic.from_role), m->from_id, v.n, v.actual,
			            v.info.x, v.info.y, v.info.eligible,
			            v.info.adjusted ? ", adjusted" : "");
		else
			gf_log_info("GF-SP-VALIDATION",
			            "validation.query (message %s) from %s.%s: %s: %s", id,
			            gf_role_name(m->topic.from_role), m->from_id,
			            name ? name->name : "?", v.reason);
		sp_util_flush(sp);
	}
	free(v.forecast);
	free(v.e);
}
