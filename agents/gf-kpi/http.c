/* SPDX-License-Identifier: MIT */
/*
 * http.c - gf-kpi's REST API and dashboard (docs/kpi.md, "REST API") with
 * libmicrohttpd, on the agent's own thread: the daemon runs in external
 * epoll mode, its epoll descriptor is watched by the agent's loop
 * (gf_agent_watch) and a 200 ms timerfd runs it for its timeouts. So a
 * request reads and writes the store with no lock, between two messages.
 *
 *   GET  /                      the dashboard (page.c)
 *   GET  /health                counts
 *   GET  /api/kpis              every KPI: its series, its goals and limits
 *   GET  /api/series?kpi=K[&source=S/R/I][&from=T][&to=T][&step=S][&agg=A]
 *   GET  /api/goals             each goal and its current period
 *   GET  /api/alarms[?active=1] alarms, newest first
 *   POST /api/samples           a goflex.KpiSample (JSON), with
 *                               "Authorization: Bearer <token>" of http_tokens
 *
 * Refusals answer {"error": "..."} with 400, 401, 403, 404, 405 or 413.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tracker.h"
#include "base/log.h"

#define BODY_MAX (64 * 1024)

struct kpi_http {
	struct MHD_Daemon *d;
	int timerfd;
};

/* A request's state between libmicrohttpd's calls: the POST body. */
struct request {
	char *body;
	size_t len;
	bool too_big;
};

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
                                 const char *text, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* The page is self-contained: nothing from elsewhere, ever. */
	MHD_add_response_header(r, "Content-Security-Policy",
	                        "default-src 'none'; script-src 'unsafe-inline'; style-src "
	                        "'unsafe-inline'; connect-src 'self'; img-src 'self' data:");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, cJSON *j)
{
	char *s = j ? cJSON_PrintUnformatted(j) : NULL;
	enum MHD_Result rc;

	cJSON_Delete(j);
	if (!s)
		return send_text(c, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
	rc = send_text(c, status, "application/json", s, strlen(s));
	free(s);
	return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *why)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "error", why);
	return send_json(c, status, j);
}

static cJSON *rule_json(const struct kpi_rule *r)
{
	cJSON *j = cJSON_CreateObject();
	char pat[256];

	snprintf(pat, sizeof(pat), "%s/%s/%s:%s", r->pat.site, r->pat.role, r->pat.id, r->pat.kpi);
	cJSON_AddStringToObject(j, "name", r->name);
	cJSON_AddStringToObject(j, "kind", kpi_rules_kind_name(r->kind));
	cJSON_AddStringToObject(j, "pattern", pat);
	if (r->kind == KPI_RULE_GOAL) {
		cJSON_AddStringToObject(j, "op", r->cmp == KPI_CMP_BELOW ? ">=" : "<=");
		cJSON_AddStringToObject(j, "agg", kpi_rules_agg_name(r->agg));
		cJSON_AddNumberToObject(j, "periodSeconds", r->window_s);
	} else if (r->kind != KPI_RULE_MISSING) {
		cJSON_AddStringToObject(j, "op", r->cmp == KPI_CMP_ABOVE ? "above" : "below");
	}
	if (r->kind == KPI_RULE_RATE || r->kind == KPI_RULE_MISSING)
		cJSON_AddNumberToObject(j, "windowSeconds", r->window_s);
	if (r->kind != KPI_RULE_MISSING)
		cJSON_AddNumberToObject(j, "value", r->value);
	cJSON_AddStringToObject(j, "severity", kpi_rules_severity_name(r->severity));
	return j;
}

/* /api/kpis: grouped by KPI id (db.c lists series ordered by kpi). */
struct kpis_ctx {
	struct kpi_tracker *t;
	cJSON *list, *cur, *series;
	char kpi[KPI_NAME_MAX + 1];
};

static void kpis_row(const struct kpi_series_row *row, void *arg)
{
	struct kpis_ctx *k = arg;
	cJSON *s;

	if (!k->cur || strcmp(k->kpi, row->kpi) != 0) {
		cJSON *rules = cJSON_CreateArray();

		k->cur = cJSON_CreateObject();
		cJSON_AddItemToArray(k->list, k->cur);
		snprintf(k->kpi, sizeof(k->kpi), "%s", row->kpi);
		cJSON_AddStringToObject(k->cur, "kpi", row->kpi);
		cJSON_AddStringToObject(k->cur, "unit", row->unit);
		cJSON_AddBoolToObject(k->cur, "periodic", row->periodic);
		k->series = cJSON_AddArrayToObject(k->cur, "series");
		for (size_t i = 0; i < k->t->rules.n; i++) {
			const struct kpi_rule *r = &k->t->rules.r[i];
			struct kpi_pattern any = r->pat;
			strcpy(any.site, "*");
			strcpy(any.role, "*");
			strcpy(any.id, "*");
			if (kpi_rules_match(&any, "", "", "", row->kpi))
				cJSON_AddItemToArray(rules, rule_json(r));
		}
		cJSON_AddItemToObject(k->cur, "rules", rules);
	}
	s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "site", row->site);
	cJSON_AddStringToObject(s, "role", row->role);
	cJSON_AddStringToObject(s, "id", row->id);
	cJSON_AddNumberToObject(s, "samples", (double)row->n);
	cJSON_AddNumberToObject(s, "firstTime", row->first_t);
	cJSON_AddNumberToObject(s, "lastTime", row->last_t);
	cJSON_AddNumberToObject(s, "lastValue", row->last_v);
	cJSON_AddItemToArray(k->series, s);
}

static enum MHD_Result api_kpis(struct kpi_tracker *t, struct MHD_Connection *c)
{
	cJSON *j = cJSON_CreateObject();
	struct kpis_ctx k = {t, NULL, NULL, NULL, ""};

	cJSON_AddStringToObject(j, "site", t->conf->agent.site);
	cJSON_AddNumberToObject(j, "now", gf_agent_now(t->a));
	k.list = cJSON_AddArrayToObject(j, "kpis");
	if (kpi_db_series(t, kpis_row, &k) != GF_OK) {
		cJSON_Delete(j);
		return send_error(c, 500, "the store could not be read");
	}
	return send_json(c, 200, j);
}

/* /api/series */
struct series_ctx {
	struct kpi_tracker *t;
	const struct kpi_query *q;
	cJSON *list;
	size_t points;
	enum gf_err rc;
};

static void series_row(const struct kpi_series_row *row, void *arg)
{
	struct series_ctx *s = arg;
	struct kpi_point *pts = NULL, *out = NULL;
	size_t n = 0, w;
	cJSON *o, *arr;

	if (s->rc != GF_OK || strcmp(row->kpi, s->q->kpi) != 0 ||
	    !kpi_rules_match(&s->q->source, row->site, row->role, row->id, "x"))
		return;
	if ((s->rc = kpi_db_points(s->t, row->sid, s->q->from, s->q->to, &pts, &n)) != GF_OK)
		return;
	out = malloc((n ? n : 1) * sizeof(*out));
	if (!out) {
		free(pts);
		s->rc = GF_ENOMEM;
		return;
	}
	w = kpi_series_downsample(pts, n, s->q->step,
	                          s->q->has_agg ? s->q->agg
	                                        : (row->periodic ? KPI_AGG_SUM : KPI_AGG_MEAN),
	                          out, (size_t)s->t->conf->max_points - s->points);
	s->points += w;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "site", row->site);
	cJSON_AddStringToObject(o, "role", row->role);
	cJSON_AddStringToObject(o, "id", row->id);
	cJSON_AddStringToObject(o, "unit", row->unit);
	cJSON_AddStringToObject(
	    o, "agg",
	    kpi_rules_agg_name(s->q->has_agg ? s->q->agg
	                                     : (row->periodic ? KPI_AGG_SUM : KPI_AGG_MEAN)));
	cJSON_AddBoolToObject(o, "truncated", w < n && s->q->step <= 0);
	arr = cJSON_AddArrayToObject(o, "points");
	for (size_t i = 0; i < w; i++) {
		cJSON *p = cJSON_CreateArray();
		cJSON_AddItemToArray(p, cJSON_CreateNumber(out[i].t));
		cJSON_AddItemToArray(p, cJSON_CreateNumber(out[i].v));
		cJSON_AddItemToArray(arr, p);
	}
	cJSON_AddItemToArray(s->list, o);
	free(out);
	free(pts);
}

struct params {
	struct kpi_query *q;
	char err[256];
	bool bad;
};

static enum MHD_Result one_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
	struct params *p = cls;

	(void)kind;
	if (!p->bad && kpi_parse_query_param(p->q, key, value, p->err, sizeof(p->err)) != GF_OK)
		p->bad = true;
	return MHD_YES;
}

static enum MHD_Result api_series(struct kpi_tracker *t, struct MHD_Connection *c)
{
	struct kpi_query q;
	struct params p = {&q, "", false};
	struct series_ctx s = {t, &q, NULL, 0, GF_OK};
	cJSON *j;

	kpi_parse_query_init(&q, gf_agent_now(t->a));
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, one_param, &p);
	if (p.bad ||
	    kpi_parse_query_check(&q, (size_t)t->conf->max_points, p.err, sizeof(p.err)) != GF_OK)
		return send_error(c, 400, p.err);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kpi", q.kpi);
	cJSON_AddNumberToObject(j, "from", q.from);
	cJSON_AddNumberToObject(j, "to", q.to);
	cJSON_AddNumberToObject(j, "step", q.step);
	s.list = cJSON_AddArrayToObject(j, "series");
	if (kpi_db_series(t, series_row, &s) != GF_OK || s.rc != GF_OK) {
		cJSON_Delete(j);
		return send_error(c, 500, "the store could not be read");
	}
	return send_json(c, 200, j);
}

static enum MHD_Result api_goals(struct kpi_tracker *t, struct MHD_Connection *c)
{
	cJSON *j = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(j, "goals");

	for (size_t i = 0; i < t->rules.n; i++) {
		const struct kpi_rule *g = &t->rules.r[i];
		cJSON *o;
		double ps, v;
		bool any;
		char state[16];

		if (g->kind != KPI_RULE_GOAL)
			continue;
		o = rule_json(g);
		any = kpi_eval_goal_now(t, g, &ps, &v);
		kpi_db_goal_state(t, g->name, ps, state, sizeof(state));
		cJSON_AddNumberToObject(o, "periodStart", ps);
		if (any)
			cJSON_AddNumberToObject(o, "current", v);
		cJSON_AddStringToObject(o, "state", state[0] ? state : "open");
		kpi_db_goal_state(t, g->name, ps - g->window_s, state, sizeof(state));
		if (state[0])
			cJSON_AddStringToObject(o, "previousState", state);
		cJSON_AddItemToArray(list, o);
	}
	return send_json(c, 200, j);
}

static enum MHD_Result api_alarms(struct kpi_tracker *t, struct MHD_Connection *c)
{
	const char *active = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "active");
	bool only = active && strcmp(active, "1") == 0;
	sqlite3_stmt *st = gf_store_prepare(
	    t->store, only ? "SELECT alarm_id, rule, series, kind, severity, raised_s, cleared_s,"
	                     " value, threshold, message FROM kpi_alarm WHERE cleared_s IS NULL"
	                     " ORDER BY raised_s DESC LIMIT 1000"
	                   : "SELECT alarm_id, rule, series, kind, severity, raised_s, cleared_s,"
	                     " value, threshold, message FROM kpi_alarm ORDER BY raised_s DESC"
	                     " LIMIT 1000");
	cJSON *j = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(j, "alarms"), *rules;

	if (active && !only && strcmp(active, "0") != 0) {
		sqlite3_finalize(st);
		cJSON_Delete(j);
		return send_error(c, 400, "active: 0 or 1");
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "alarmId", gf_store_text(st, 0));
		cJSON_AddStringToObject(o, "rule", gf_store_text(st, 1));
		cJSON_AddStringToObject(o, "series", gf_store_text(st, 2));
		cJSON_AddStringToObject(o, "kind", gf_store_text(st, 3));
		cJSON_AddStringToObject(o, "severity", gf_store_text(st, 4));
		cJSON_AddNumberToObject(o, "raisedTime", sqlite3_column_double(st, 5));
		if (sqlite3_column_type(st, 6) != SQLITE_NULL)
			cJSON_AddNumberToObject(o, "clearedTime", sqlite3_column_double(st, 6));
		cJSON_AddBoolToObject(o, "active", sqlite3_column_type(st, 6) == SQLITE_NULL);
		cJSON_AddNumberToObject(o, "value", sqlite3_column_double(st, 7));
		cJSON_AddNumberToObject(o, "threshold", sqlite3_column_double(st, 8));
		cJSON_AddStringToObject(o, "message", gf_store_text(st, 9));
		cJSON_AddItemToArray(list, o);
	}
	sqlite3_finalize(st);
	rules = cJSON_AddArrayToObject(j, "rules");
	for (size_t i = 0; i < t->rules.n; i++)
		if (t->rules.r[i].kind != KPI_RULE_GOAL)
			cJSON_AddItemToArray(rules, rule_json(&t->rules.r[i]));
	return send_json(c, 200, j);
}

static enum MHD_Result health(struct kpi_tracker *t, struct MHD_Connection *c)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "status", "ok");
	cJSON_AddNumberToObject(j, "now", gf_agent_now(t->a));
	cJSON_AddNumberToObject(j, "samples", (double)t->samples);
	cJSON_AddNumberToObject(j, "alarmsRaised", (double)t->alarms_raised);
	cJSON_AddNumberToObject(j, "rules", (double)t->rules.n);
	return send_json(c, 200, j);
}

/* The identity a bearer token stands for, or NULL. Compared in constant
 * time; tokens are never logged. */
static const struct kpi_token *token_of(struct kpi_tracker *t, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	const struct kpi_token *found = NULL;
	size_t n;

	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	n = strlen(h);
	for (size_t i = 0; i < t->ntokens; i++)
		if (strlen(t->tokens[i].token) == n && CRYPTO_memcmp(t->tokens[i].token, h, n) == 0)
			found = &t->tokens[i];
	return found;
}

static enum MHD_Result post_sample(struct kpi_tracker *t, struct MHD_Connection *c,
                                   const struct request *rq)
{
	const struct kpi_token *who;
	struct kpi_sample s;
	char err[256] = "";
	cJSON *j;

	if (t->ntokens == 0)
		return send_error(c, 403, "posting is off: no http_tokens configured");
	if (!(who = token_of(t, c)))
		return send_error(c, 401, "Authorization: Bearer <token> of http_tokens required");
	if (rq->too_big)
		return send_error(c, 413, "body larger than 64 KiB");
	if (kpi_parse_sample(rq->body ? rq->body : "", rq->len, &s, err, sizeof(err)) != GF_OK) {
		char why[300];
		snprintf(why, sizeof(why), "not a KpiSample: %s", err);
		return send_error(c, 400, why);
	}
	if (kpi_eval_sample(t, t->conf->agent.site, who->role, who->id, &s) != GF_OK) {
		gf_agent_fail(t->a, "a posted sample could not be stored");
		return send_error(c, 500, "the store failed");
	}
	gf_log_info("GF-KPI-POSTED", "%s from %s.%s over HTTP", s.kpi, who->role, who->id);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "kpi", s.kpi);
	cJSON_AddStringToObject(j, "source", who->id);
	return send_json(c, 201, j);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls)
{
	struct kpi_tracker *t = cls;
	struct request *rq = *con_cls;
	bool post = strcmp(method, "POST") == 0, get = strcmp(method, "GET") == 0;

	(void)version;
	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*size) {
		if (!post || rq->too_big || rq->len + *size > BODY_MAX) {
			rq->too_big = true;
		} else {
			char *nb = realloc(rq->body, rq->len + *size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + rq->len, data, *size);
			rq->body = nb;
			rq->len += *size;
			nb[rq->len] = '\0';
		}
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/api/samples") == 0) {
		if (!post)
			return send_error(c, 405, "POST a KpiSample here");
		return post_sample(t, c, rq);
	}
	if (!get && strcmp(method, "HEAD") != 0)
		return send_error(c, 405, "only GET here");
	if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
		return send_text(c, 200, "text/html; charset=utf-8", kpi_page_html,
		                 strlen(kpi_page_html));
	if (strcmp(url, "/health") == 0)
		return health(t, c);
	if (strcmp(url, "/api/kpis") == 0)
		return api_kpis(t, c);
	if (strcmp(url, "/api/series") == 0)
		return api_series(t, c);
	if (strcmp(url, "/api/goals") == 0)
		return api_goals(t, c);
	if (strcmp(url, "/api/alarms") == 0)
		return api_alarms(t, c);
	return send_error(c, 404,
	                  "no such resource (/, /health, /api/kpis, /api/series, "
	                  "/api/goals, /api/alarms, /api/samples)");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static void run(struct gf_agent *a, void *arg)
{
	struct kpi_tracker *t = arg;

	(void)a;
	MHD_run(t->http->d);
}

static void tick(struct gf_agent *a, void *arg)
{
	struct kpi_tracker *t = arg;
	uint64_t expirations;

	if (read(t->http->timerfd, &expirations, sizeof(expirations)) < 0)
		(void)0; /* nothing to read: woken by another descriptor */
	run(a, arg);
}

enum gf_err kpi_http_start(struct kpi_tracker *t, char *err, size_t errlen)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	struct itimerspec its = {{0, 200000000}, {0, 200000000}};
	struct kpi_http *h;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)t->conf->http_port);
	if (inet_pton(AF_INET, t->conf->http_bind, &sa.sin_addr) != 1) {
		snprintf(err, errlen, "http_bind %s: not an IPv4 address", t->conf->http_bind);
		return GF_EINVAL;
	}
	if (!(h = calloc(1, sizeof(*h))))
		return GF_ENOMEM;
	h->timerfd = -1;
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, t,
	                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	                        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	                        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s:%ld", t->conf->http_bind,
		         t->conf->http_port);
		free(h);
		return GF_EIO;
	}
	t->http = h;
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	h->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!info || h->timerfd < 0 || timerfd_settime(h->timerfd, 0, &its, NULL) != 0 ||
	    gf_agent_watch(t->a, info->epoll_fd, run, t) != GF_OK ||
	    gf_agent_watch(t->a, h->timerfd, tick, t) != GF_OK) {
		snprintf(err, errlen, "cannot watch the HTTP server in the loop");
		kpi_http_stop(t);
		return GF_EIO;
	}
	return GF_OK;
}

void kpi_http_stop(struct kpi_tracker *t)
{
	if (!t->http)
		return;
	if (t->http->d)
		MHD_stop_daemon(t->http->d);
	if (t->http->timerfd >= 0)
		close(t->http->timerfd);
	free(t->http);
	t->http = NULL;
}
