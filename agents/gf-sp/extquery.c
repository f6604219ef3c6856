/* SPDX-License-Identifier: MIT */
/*
 * extquery.c - weather.query and price.query (fman, fmar -> sp, public
 * request rows) answered from what extdata.c stored (docs/sp.md, "External
 * data"). Answers go to the asker with its correlation data and requestId,
 * through the outbox; a query changes nothing and is answered each time.
 *
 * A series of the answer is a run of consecutive periods of one resolution
 * (and, for the weather, of one source and the same quantities present);
 * a gap starts a new series. At most 31 days per query.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "price.pb-c.h"
#include "sp.h"
#include "weather.pb-c.h"

#define PERIOD_MAX_MS (31LL * 86400000LL)
#define QTY           9

struct ask {
	struct sp *sp;
	const struct gf_inbox_item *item;
	const struct gf_message *m;
	Goflex__ResultStatus status;
	char reason[256];
	ProtobufCMessage *res; /* the answer */
	size_t values;
};

static enum gf_err answer_txn(void *arg)
{
	struct ask *q = arg;

	return gf_message_answer(q->sp->a, q->sp->store, q->item, q->m, q->res);
}

static void finish(struct ask *q, const char *what)
{
	char id[GF_FNV1A64_HEXSIZE];
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &goflex__result_status__code__descriptor, (int)q->status.code);

	if (q->status.code != GOFLEX__RESULT_STATUS__CODE__ok)
		q->status.reason = q->reason;
	if (gf_store_once(q->sp->a, q->sp->store, NULL, answer_txn, NULL, q) != GF_OK)
		return;
	sp_util_msgid(q->item->payload, q->item->len, id);
	gf_log_info("GF-SP-QUERY", "%s (message %s) from %s.%s: %s%s%s, %zu values", what, id,
	            gf_role_name(q->m->topic.from_role), q->m->from_id, v ? v->name : "?",
	            q->status.reason ? ": " : "", q->status.reason ? q->status.reason : "",
	            q->values);
	sp_util_flush(q->sp);
}

static void set(struct ask *q, Goflex__ResultStatus__Code code, const char *why)
{
	q->status.code = code;
	snprintf(q->reason, sizeof(q->reason), "%s", why);
}

/* fromTime, toTime: a period of at most 31 days. */
static bool period(struct ask *q, const char *from_s, const char *to_s, int64_t *from, int64_t *to)
{
	if (gf_time_parse(from_s, strlen(from_s), from) != GF_OK ||
	    gf_time_parse(to_s, strlen(to_s), to) != GF_OK || *from >= *to) {
		set(q, GOFLEX__RESULT_STATUS__CODE__badRequest, "fromTime must be before toTime");
		return false;
	}
	if (*to - *from > PERIOD_MAX_MS) {
		set(q, GOFLEX__RESULT_STATUS__CODE__badRequest, "at most 31 days per query");
		return false;
	}
	return true;
}

/* --- prices ----------------------------------------------------------------------------- */

struct pseries {
	Goflex__PriceSeries s;
	char start[GF_TIME_BUFSIZE], issued[GF_TIME_BUFSIZE];
	char *source;
	double *v;
	size_t n, size;
	int64_t next_ms;
};

static void price_series_free(struct pseries *ps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ps[i].v);
		free(ps[i].source);
	}
	free(ps);
}

void sp_extquery_price(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m)
{
	const Goflex__PriceQuery *pq = (const Goflex__PriceQuery *)m->body;
	const struct sp_conf *c = sp->conf;
	struct ask q = {.sp = sp, .item = item, .m = m};
	Goflex__PriceQueryResult res = GOFLEX__PRICE_QUERY_RESULT__INIT;
	Goflex__PriceSeries **ptrs = NULL;
	struct pseries *ps = NULL;
	size_t n = 0, size = 0;
	sqlite3_stmt *st = NULL;
	int64_t from, to;
	bool ref = pq->kind == GOFLEX__PRICE_QUERY__KIND__reference;

	goflex__result_status__init(&q.status);
	q.status.requestid = pq->requestid;
	if (!period(&q, pq->fromtime, pq->totime, &from, &to))
		goto answer;
	st = gf_store_prepare(sp->store,
	                      "SELECT res_s, t_ms, price, issued_ms, source FROM sp_price WHERE"
	                      " area = ?1 AND t_ms >= ?2 AND t_ms < ?3 ORDER BY res_s, t_ms");
	sqlite3_bind_text(st, 1, pq->area, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		int64_t rs = sqlite3_column_int64(st, 0), t = sqlite3_column_int64(st, 1);
		int64_t issued = sqlite3_column_int64(st, 3);
		double p = sqlite3_column_double(st, 2);
		struct pseries *cur = n ? &ps[n - 1] : NULL;

		if (!cur || cur->s.resolution != (uint32_t)rs || cur->next_ms != t) {
			if (n == size) {
				struct pseries *g = realloc(ps, (size ? 2 * size : 4) * sizeof(*g));
				if (!g)
					goto oom;
				ps = g;
				size = size ? 2 * size : 4;
			}
			cur = &ps[n++];
			memset(cur, 0, sizeof(*cur));
			goflex__price_series__init(&cur->s);
			cur->s.area = pq->area;
			cur->s.resolution = (uint32_t)rs;
			gf_time_format(t, cur->start, sizeof(cur->start));
			cur->s.starttime = cur->start;
			if (!(cur->source = strdup(ref ? "gf-sp reference" : gf_store_text(st, 4))))
				goto oom;
			cur->s.source = cur->source;
		}
		if (cur->n == cur->size) {
			double *g = realloc(cur->v, (cur->size ? 2 * cur->size : 96) * sizeof(*g));
			if (!g)
				goto oom;
			cur->v = g;
			cur->size = cur->size ? 2 * cur->size : 96;
		}
		cur->v[cur->n++] = ref ? c->reference_factor * p + c->reference_adder : p;
		cur->next_ms = t + rs * 1000;
		if (issued && gf_time_format(issued, cur->issued, sizeof(cur->issued)) == GF_OK &&
		    (!cur->s.issuedtime || strcmp(cur->issued, cur->s.issuedtime) > 0))
			cur->s.issuedtime = cur->issued;
		q.values++;
	}
	if (n && !(ptrs = calloc(n, sizeof(*ptrs))))
		goto oom;
	for (size_t i = 0; i < n; i++) {
		ps[i].s.prices = ps[i].v;
		ps[i].s.n_prices = ps[i].n;
		ptrs[i] = &ps[i].s;
	}
	res.series = ptrs;
	res.n_series = n;
	goto answer;
oom:
	set(&q, GOFLEX__RESULT_STATUS__CODE__failed, "out of memory");
	q.values = 0;
answer:
	sqlite3_finalize(st);
	res.status = &q.status;
	if (q.status.code != GOFLEX__RESULT_STATUS__CODE__ok)
		res.n_series = 0;
	q.res = &res.base;
	finish(&q, "price.query");
	free(ptrs);
	price_series_free(ps, n);
}

/* --- weather ------------------------------------------------------------------------------ */

struct wseries {
	Goflex__WeatherSeries s;
	Goflex__Location loc;
	char start[GF_TIME_BUFSIZE], issued[GF_TIME_BUFSIZE];
	char *source;
	unsigned mask; /* quantities present */
	double *v[QTY];
	size_t n, size;
	int64_t next_ms;
};

static void weather_series_free(struct wseries *ws, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < QTY; k++)
			free(ws[i].v[k]);
		free(ws[i].source);
	}
	free(ws);
}

/* The series' quantities into the message's fields. */
static void weather_fields(struct wseries *w)
{
	double **f[QTY] = {&w->s.temperature,      &w->s.relativehumidity, &w->s.windspeed,
	                   &w->s.winddirection,    &w->s.cloudcover,       &w->s.globalirradiance,
	                   &w->s.directirradiance, &w->s.precipitation,    &w->s.pressure};
	size_t *nf[QTY] = {
	    &w->s.n_temperature,      &w->s.n_relativehumidity, &w->s.n_windspeed,
	    &w->s.n_winddirection,    &w->s.n_cloudcover,       &w->s.n_globalirradiance,
	    &w->s.n_directirradiance, &w->s.n_precipitation,    &w->s.n_pressure};

	for (int k = 0; k < QTY; k++)
		if (w->mask >> k & 1) {
			*f[k] = w->v[k];
			*nf[k] = w->n;
		}
}

/* Where the query asks: a grid point of the grid file, or coordinates. */
static bool where(struct ask *q, const Goflex__Location *l, int kind, double *slat, double *slon)
{
	const struct gf_gridtariff_loc *g = NULL;
	double lat, lon;

	if (l->gridpointid && !(g = gf_gridtariff_location(&q->sp->tariff, l->gridpointid)) &&
	    (!l->has_latitude || !l->has_longitude)) {
		set(q, GOFLEX__RESULT_STATUS__CODE__notFound,
		    "the grid file gives no location of that grid point");
		return false;
	}
	if (!g && (!l->has_latitude || !l->has_longitude)) {
		set(q, GOFLEX__RESULT_STATUS__CODE__badRequest,
		    "location: a gridPointId of the grid file, or latitude and longitude");
		return false;
	}
	lat = g ? g->lat : l->latitude;
	lon = g ? g->lon : l->longitude;
	if (!sp_extdata_nearest(q->sp, kind, lat, lon, slat, slon)) {
		snprintf(q->reason, sizeof(q->reason), "no weather stored within %ld km",
		         q->sp->conf->weather_radius_km);
		q->status.code = GOFLEX__RESULT_STATUS__CODE__notFound;
		return false;
	}
	return true;
}

static enum gf_err weather_row(sqlite3_stmt *st, struct wseries **ws, size_t *n, size_t *size,
                               double slat, double slon)
{
	int64_t res = sqlite3_column_int64(st, 1), t = sqlite3_column_int64(st, 2);
	int64_t issued = sqlite3_column_int64(st, 3);
	const char *source = gf_store_text(st, 0);
	struct wseries *cur = *n ? &(*ws)[*n - 1] : NULL;
	unsigned mask = 0;

	for (int k = 0; k < QTY; k++)
		if (sqlite3_column_type(st, 4 + k) != SQLITE_NULL)
			mask |= 1u << k;
	if (!cur || cur->s.intervallength != (uint32_t)res || cur->next_ms != t ||
	    cur->mask != mask || strcmp(cur->source, source) != 0) {
		if (*n == *size) {
			struct wseries *g = realloc(*ws, (*size ? 2 * *size : 4) * sizeof(*g));
			if (!g)
				return GF_ENOMEM;
			*ws = g;
			*size = *size ? 2 * *size : 4;
		}
		cur = &(*ws)[(*n)++];
		memset(cur, 0, sizeof(*cur));
		goflex__weather_series__init(&cur->s);
		goflex__location__init(&cur->loc);
		cur->loc.has_latitude = cur->loc.has_longitude = true;
		cur->loc.latitude = slat;
		cur->loc.longitude = slon;
		cur->s.location = &cur->loc;
		cur->s.intervallength = (uint32_t)res;
		gf_time_format(t, cur->start, sizeof(cur->start));
		cur->s.starttime = cur->start;
		cur->mask = mask;
		if (!(cur->source = strdup(source)))
			return GF_ENOMEM;
		cur->s.source = cur->source;
	}
	if (cur->n == cur->size) {
		size_t sz = cur->size ? 2 * cur->size : 96;
		for (int k = 0; k < QTY; k++) {
			double *g;
			if (!(mask >> k & 1))
				continue;
			if (!(g = realloc(cur->v[k], sz * sizeof(*g))))
				return GF_ENOMEM;
			cur->v[k] = g;
		}
		cur->size = sz;
	}
	for (int k = 0; k < QTY; k++)
		if (mask >> k & 1)
			cur->v[k][cur->n] = sqlite3_column_double(st, 4 + k);
	cur->n++;
	cur->next_ms = t + res * 1000;
	if (issued && gf_time_format(issued, cur->issued, sizeof(cur->issued)) == GF_OK &&
	    (!cur->s.issuedtime || strcmp(cur->issued, cur->s.issuedtime) > 0))
		cur->s.issuedtime = cur->issued;
	return GF_OK;
}

void sp_extquery_weather(struct sp *sp, const struct gf_inbox_item *item,
                         const struct gf_message *m)
{
	const Goflex__WeatherQuery *wq = (const Goflex__WeatherQuery *)m->body;
	struct ask q = {.sp = sp, .item = item, .m = m};
	Goflex__WeatherQueryResult res = GOFLEX__WEATHER_QUERY_RESULT__INIT;
	Goflex__WeatherSeries **ptrs = NULL;
	struct wseries *ws = NULL;
	size_t n = 0, size = 0;
	sqlite3_stmt *st = NULL;
	int64_t from, to;
	double slat = 0, slon = 0;
	int kind = wq->kind == GOFLEX__WEATHER_QUERY__KIND__observation;

	goflex__result_status__init(&q.status);
	q.status.requestid = wq->requestid;
	if (!period(&q, wq->fromtime, wq->totime, &from, &to) ||
	    !where(&q, wq->location, kind, &slat, &slon))
		goto answer;
	st = gf_store_prepare(
	    sp->store, "SELECT source, res_s, t_ms, issued_ms, q0, q1, q2, q3, q4, q5, q6, q7,"
	               " q8 FROM sp_weather WHERE kind = ?1 AND lat = ?2 AND lon = ?3 AND"
	               " t_ms >= ?4 AND t_ms < ?5 ORDER BY source, res_s, t_ms");
	sqlite3_bind_int(st, 1, kind);
	sqlite3_bind_double(st, 2, slat);
	sqlite3_bind_double(st, 3, slon);
	sqlite3_bind_int64(st, 4, from);
	sqlite3_bind_int64(st, 5, to);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		if (weather_row(st, &ws, &n, &size, slat, slon) != GF_OK)
			goto oom;
		q.values++;
	}
	if (n && !(ptrs = calloc(n, sizeof(*ptrs))))
		goto oom;
	for (size_t i = 0; i < n; i++) {
		weather_fields(&ws[i]);
		ptrs[i] = &ws[i].s;
	}
	res.series = ptrs;
	res.n_series = n;
	goto answer;
oom:
	set(&q, GOFLEX__RESULT_STATUS__CODE__failed, "out of memory");
	q.values = 0;
answer:
	sqlite3_finalize(st);
	res.status = &q.status;
	if (q.status.code != GOFLEX__RESULT_STATUS__CODE__ok)
		res.n_series = 0;
	q.res = &res.base;
	finish(&q, "weather.query");
	free(ptrs);
	weather_series_free(ws, n);
}
