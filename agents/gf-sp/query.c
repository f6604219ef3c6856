/* SPDX-License-Identifier: MIT */
/*
 * query.c - meter.query answered with meter.query.result (docs/sp.md,
 * "Queries"), on the requester's own topic with its correlation data and
 * its requestId echoed.
 *
 *   - raw: the readings of each meter in [fromTime, toTime), of obis if
 *     given, in time order;
 *   - with intervalLength L: the energy of each complete interval of L
 *     seconds (aligned to multiples of L since the epoch) inside the
 *     period, one reading per interval stamped at its end, OBIS
 *     1-0:1.29.0, kWh (energy.h);
 *   - a deviceId that is a grid point (a stored topology's gridPointId):
 *     the sum over its meters per interval (L, or 900 s when absent), only
 *     if it has at least k_min meters (else the whole query is refused,
 *     status denied) and only for intervals that pass the k_min rule.
 *
 * limit (at most query_max, which keeps an answer under the broker's
 * limit) takes the first readings in time over all meters asked; truncated
 * says when it cut. The answer goes through the outbox, so a kill -9 after
 * the commit still sends it; a query carries no state, so it is answered
 * again if it comes again.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "agent/kpi.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "energy.h"
#include "meter.pb-c.h"
#include "meter/resample.h"
#include "sp.h"

#define DEVICES_MAX   100
#define INTERVALS_MAX 1000000
#define REASON_MAX    256

/* One reading of the answer. */
struct row {
	size_t dev; /* index in deviceIds */
	int64_t t;
	double v;
	char *obis, *unit; /* NULL: the energy's */
};

struct query {
	struct sp *sp;
	const struct gf_inbox_item *item;
	const struct gf_message *m;
	const Goflex__MeterQuery *q;
	int64_t from, to;
	size_t cap; /* most rows answered */
	struct row *rows;
	size_t n, size;
	size_t per_dev; /* rows of the current device */
	bool truncated;
	Goflex__ResultStatus__Code code;
	char reason[REASON_MAX];
};

static void set_status(struct query *q, Goflex__ResultStatus__Code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_status(struct query *q, Goflex__ResultStatus__Code code, const char *fmt, ...)
{
	va_list ap;

	q->code = code;
	va_start(ap, fmt);
	vsnprintf(q->reason, sizeof(q->reason), fmt, ap);
	va_end(ap);
}

/* Adds a row of device dev; beyond cap + 1 rows of one device nothing more
 * of it can be among the first cap in time. */
static enum gf_err add_row(struct query *q, size_t dev, int64_t t, double v, const char *obis,
                           const char *unit)
{
	struct row *r;

	if (q->per_dev > q->cap)
		return GF_OK;
	if (q->n == q->size) {
		size_t size = q->size ? 2 * q->size : 256;
		if (!(r = realloc(q->rows, size * sizeof(*r))))
			return GF_ENOMEM;
		q->rows = r;
		q->size = size;
	}
	r = &q->rows[q->n];
	*r = (struct row){.dev = dev, .t = t, .v = v};
	if ((obis && !(r->obis = strdup(obis))) || (unit && !(r->unit = strdup(unit)))) {
		free(r->obis);
		return GF_ENOMEM;
	}
	q->n++;
	q->per_dev++;
	return GF_OK;
}

struct raw {
	struct query *q;
	size_t dev;
};

static enum gf_err raw_row(void *arg, const struct sp_reading *r)
{
	struct raw *w = arg;

	return add_row(w->q, w->dev, r->t_ms, r->value, r->obis, r->unit);
}

/* The intervals of len_ms inside [q->from, q->to): *first and *count. */
static bool intervals(struct query *q, int64_t len_ms, int64_t *first, size_t *count)
{
	int64_t a = sp_energy_ceil(q->from, len_ms), b = sp_energy_floor(q->to, len_ms);

	*first = a;
	*count = b > a ? (size_t)((b - a) / len_ms) : 0;
	if (*count > INTERVALS_MAX) {
		set_status(q, GOFLEX__RESULT_STATUS__CODE__badRequest,
		           "more than %d intervals asked for", INTERVALS_MAX);
		return false;
	}
	return true;
}

/* Energy of one meter per interval. */
static enum gf_err meter_energy(struct query *q, size_t dev, int64_t len_ms)
{
	const char *id = q->q->deviceids[dev];
	double *e = NULL;
	int64_t first;
	size_t count;
	char err[256];
	enum gf_err rc;

	if (!intervals(q, len_ms, &first, &count) || count == 0)
		return GF_OK;
	if (!(e = malloc(count * sizeof(*e))))
		return GF_ENOMEM;
	rc = sp_energy_meter(q->sp->db, id, q->q->obis, first, len_ms, count, e, err, sizeof(err));
	if (rc == GF_ERANGE) {
		set_status(q, GOFLEX__RESULT_STATUS__CODE__failed,
		           "deviceIds[%zu]: the register decreases in the period", dev);
		rc = GF_OK;
	}
	for (size_t i = 0; rc == GF_OK && q->code == GOFLEX__RESULT_STATUS__CODE__ok && i < count;
	     i++)
		if (!isnan(e[i]))
			rc = add_row(q, dev, first + (int64_t)(i + 1) * len_ms, e[i], NULL, NULL);
	free(e);
	if (rc != GF_OK && rc != GF_ENOMEM)
		gf_log_err("GF-SP-STORE", "meter.query: %s", err);
	return rc;
}

/* The sum over a grid point's meters per interval (the k_min rule). */
static enum gf_err grid_energy(struct query *q, size_t dev, const struct sp_grid *g, int64_t len_ms)
{
	struct sp_conf *c = q->sp->conf;
	double *sum = NULL, now_s = gf_agent_now(q->sp->a);
	uint32_t *have = NULL;
	int64_t first;
	size_t count;
	char err[256];
	enum gf_err rc = GF_ENOMEM;

	if (!intervals(q, len_ms, &first, &count) || count == 0)
		return GF_OK;
	sum = malloc(count * sizeof(*sum));
	have = malloc(count * sizeof(*have));
	if (!sum || !have)
		goto out;
	rc = sp_energy_grid(q->sp->db, (const char *const *)g->meters, g->n, first, len_ms, count,
	                    sum, have, NULL, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-SP-STORE", "meter.query: %s", err);
		goto out;
	}
	for (size_t i = 0; rc == GF_OK && i < count; i++) {
		int64_t end = first + (int64_t)(i + 1) * len_ms;
		bool past = now_s >= (double)end / 1000.0 + (double)c->grid_wait_s;

		if (sp_energy_rule(have[i], g->n, (size_t)c->k_min, past) == SP_GRID_SEND)
			rc = add_row(q, dev, end, sum[i], NULL, NULL);
	}
out:
	free(sum);
	free(have);
	return rc;
}

static int by_time(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->dev < y->dev ? -1 : x->dev > y->dev;
}

static int by_device(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

/* Checks the query; false with the status set when it is refused. */
static bool check(struct query *q)
{
	const Goflex__MeterQuery *mq = q->q;
	struct sp_conf *c = q->sp->conf;

	if (mq->n_deviceids == 0 || mq->n_deviceids > DEVICES_MAX) {
		set_status(q, GOFLEX__RESULT_STATUS__CODE__badRequest,
		           "deviceIds: 1 to %d meters or grid points", DEVICES_MAX);
		return false;
	}
	if (gf_time_parse(mq->fromtime, strlen(mq->fromtime), &q->from) != GF_OK ||
	    gf_time_parse(mq->totime, strlen(mq->totime), &q->to) != GF_OK || q->from >= q->to) {
		set_status(q, GOFLEX__RESULT_STATUS__CODE__badRequest,
		           "fromTime must be before toTime");
		return false;
	}
	if (mq->has_intervallength && mq->intervallength == 0) {
		set_status(q, GOFLEX__RESULT_STATUS__CODE__badRequest, "intervalLength is 0");
		return false;
	}
	if (mq->has_intervallength && mq->obis && !sp_energy_obis_ok(mq->obis)) {
		set_status(q, GOFLEX__RESULT_STATUS__CODE__badRequest,
		           "only %s and %s resample to intervals", GF_OBIS_REGISTER,
		           GF_OBIS_INTERVAL);
		return false;
	}
	for (size_t i = 0; i < mq->n_deviceids; i++) {
		const struct sp_grid *g = sp_grids_find(q->sp, mq->deviceids[i]);

		if (g && g->n < (size_t)c->k_min) {
			set_status(q, GOFLEX__RESULT_STATUS__CODE__denied,
			           "grid point %s has %zu meters, fewer than k_min %ld", g->id,
			           g->n, c->k_min);
			return false;
		}
	}
	q->cap = (size_t)c->query_max;
	if (mq->has_limit && mq->limit > 0 && mq->limit < q->cap)
		q->cap = mq->limit;
	return true;
}

/* Every device's rows, then the first cap in time. */
static enum gf_err collect(struct query *q)
{
	const Goflex__MeterQuery *mq = q->q;
	int64_t len_ms = mq->has_intervallength ? (int64_t)mq->intervallength * 1000 : 0;
	char err[256] = "";
	enum gf_err rc = GF_OK;

	for (size_t i = 0;
	     rc == GF_OK && q->code == GOFLEX__RESULT_STATUS__CODE__ok && i < mq->n_deviceids;
	     i++) {
		const struct sp_grid *g = sp_grids_find(q->sp, mq->deviceids[i]);
		struct raw w = {q, i};

		q->per_dev = 0;
		if (g) {
			rc = grid_energy(q, i, g, len_ms ? len_ms : GF_TIME_INTERVAL_S * 1000);
		} else if (len_ms) {
			rc = meter_energy(q, i, len_ms);
		} else {
			rc = sp_db_range(q->sp->db, mq->deviceids[i], mq->obis, q->from, q->to,
			                 q->cap + 1, raw_row, &w, err, sizeof(err));
			if (rc != GF_OK && rc != GF_ENOMEM)
				gf_log_err("GF-SP-STORE", "meter.query: %s", err);
		}
	}
	if (rc != GF_OK)
		return rc;
	if (q->n == 0)
		return GF_OK;
	qsort(q->rows, q->n, sizeof(*q->rows), by_time);
	if (q->n > q->cap) {
		for (size_t i = q->cap; i < q->n; i++) {
			free(q->rows[i].obis);
			free(q->rows[i].unit);
		}
		q->n = q->cap;
		q->truncated = true;
	}
	qsort(q->rows, q->n, sizeof(*q->rows), by_device);
	return GF_OK;
}

/* The answer, for gf_store_once: built and queued. */
static enum gf_err answer(void *arg)
{
	struct query *q = arg;
	bool ok = q->code == GOFLEX__RESULT_STATUS__CODE__ok;
	size_t n = ok ? q->n : 0;
	Goflex__ResultStatus status = GOFLEX__RESULT_STATUS__INIT;
	Goflex__MeterQueryResult res = GOFLEX__METER_QUERY_RESULT__INIT;
	Goflex__MeterReading *items = NULL, **ptrs = NULL;
	char(*ts)[GF_TIME_BUFSIZE] = NULL;
	enum gf_err rc = GF_ENOMEM;

	if (n && (!(items = calloc(n, sizeof(*items))) || !(ptrs = calloc(n, sizeof(*ptrs))) ||
	          !(ts = calloc(n, sizeof(*ts)))))
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &q->rows[i];

		goflex__meter_reading__init(&items[i]);
		if (gf_time_format(r->t, ts[i], sizeof(ts[i])) != GF_OK)
			snprintf(ts[i], sizeof(ts[i]), "1970-01-01T00:00:00Z");
		items[i].observedtimestamp = ts[i];
		items[i].deviceid = q->q->deviceids[r->dev];
		items[i].value = r->v;
		items[i].obis = r->obis ? r->obis : (char *)GF_OBIS_INTERVAL;
		items[i].unit = r->obis ? r->unit : (char *)"kWh";
		ptrs[i] = &items[i];
	}
	status.code = q->code;
	status.reason = ok ? NULL : q->reason;
	status.requestid = q->q->requestid;
	res.status = &status;
	res.n_readings = n;
	res.readings = ptrs;
	res.has_truncated = ok;
	res.truncated = q->truncated;
	rc = gf_message_answer(q->sp->a, q->sp->store, q->item, q->m, &res.base);
out:
	free(items);
	free(ptrs);
	free(ts);
	return rc;
}

void sp_query_answer(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m)
{
	struct query q = {
	    .sp = sp,
	    .item = item,
	    .m = m,
	    .q = (const Goflex__MeterQuery *)m->body,
	    .code = GOFLEX__RESULT_STATUS__CODE__ok,
	};
	enum gf_err rc;

	sp->queries++;
	gf_kpi_count(sp->a, "sp.queries", 1, NULL);
	if (check(&q) && (rc = collect(&q)) != GF_OK) {
		if (rc == GF_ENOMEM)
			set_status(&q, GOFLEX__RESULT_STATUS__CODE__failed, "out of memory");
		else
			set_status(&q, GOFLEX__RESULT_STATUS__CODE__unavailable,
			           "the metering store failed; retry later");
	}
	if (gf_store_once(sp->a, sp->store, NULL, answer, NULL, &q) == GF_OK) {
		bool ok = q.code == GOFLEX__RESULT_STATUS__CODE__ok;
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
		    &goflex__result_status__code__descriptor, (int)q.code);

		/* Ids of the asker and the query, counts: no pseudonym, no value
		 * (a reason names a grid point or an index, never a meter). */
		char id[GF_FNV1A64_HEXSIZE];

		sp_util_msgid(item->payload, item->len, id);
		gf_log_info("GF-SP-QUERY",
		            "meter.query (message %s) from %s.%s, %zu device(s): %s%s%s, %zu "
		            "readings%s",
		            id, gf_role_name(m->topic.from_role), m->from_id, q.q->n_deviceids,
		            v ? v->name : "?", ok ? "" : ": ", ok ? "" : q.reason, ok ? q.n : 0,
		            q.truncated ? " (truncated)" : "");
		sp_util_flush(sp);
	}
	for (size_t i = 0; i < q.n; i++) {
		free(q.rows[i].obis);
		free(q.rows[i].unit);
	}
	free(q.rows);
}
