/* SPDX-License-Identifier: MIT */
/*
 * tracker.h - gf-kpi, the KPI tracker (docs/kpi.md): what its modules
 * share.
 *
 * rules.c reads the goals and alarms file and decides, on numbers alone,
 * whether a rule holds (a threshold crossed, a rate, data missing, a goal's
 * period reached or missed). series.c turns samples into the points of a
 * plot (buckets of a resolution, one aggregate each). parse.c reads what
 * the REST API is given (a posted sample, query parameters). These three
 * are pure: no I/O, no SQLite, unit-tested and fuzzed. db.c keeps samples,
 * alarms and goal periods in SQLite; eval.c applies the rules to what db.c
 * holds and queues kpi.alarm messages in the same transaction; http.c
 * serves the REST API and the dashboard (page.c) with libmicrohttpd on the
 * agent's own thread. Calls go one way: main.c -> http.c -> eval.c -> db.c
 * -> rules.c, series.c, parse.c.
 */
#ifndef KPI_TRACKER_H
#define KPI_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define KPI_NAME_MAX 64
#define KPI_SITE_MAX 64

/* --- rules.c ---------------------------------------------------------------- */

enum kpi_rule_kind { KPI_RULE_GOAL, KPI_RULE_THRESHOLD, KPI_RULE_RATE, KPI_RULE_MISSING };
/* above: the value must not exceed (alarm) / at_least, ">=" (goal);
 * below: the reverse. */
enum kpi_cmp { KPI_CMP_ABOVE, KPI_CMP_BELOW };
enum kpi_agg { KPI_AGG_MEAN, KPI_AGG_SUM, KPI_AGG_LAST, KPI_AGG_MAX, KPI_AGG_MIN };

/* Which series a rule watches: "*" in a part matches anything; kpi may end
 * with "*" (a prefix). */
struct kpi_pattern {
	char site[KPI_SITE_MAX + 1], role[16], id[KPI_NAME_MAX + 1], kpi[KPI_NAME_MAX + 1];
};

struct kpi_rule {
	char name[KPI_NAME_MAX + 1];
	enum kpi_rule_kind kind;
	struct kpi_pattern pat;
	enum kpi_cmp cmp; /* threshold, rate, goal */
	double value;     /* the threshold, rate limit or goal */
	double window_s;  /* rate: the window; missing: the silence; goal: the period */
	enum kpi_agg agg; /* goal: how a period's samples combine */
	int severity;     /* 0 info, 1 warning, 2 critical (KpiAlarm.Severity) */
	int line;         /* in the rules file */
};

struct kpi_rules {
	struct kpi_rule *r;
	size_t n;
};

/* Reads a rules file's text (docs/kpi.md, "Goals and alarms"): one rule a
 * line, '#' comments. *out is filled (the caller frees it with
 * kpi_rules_free). GF_EPARSE with err naming the line and the word,
 * GF_ENOMEM. On failure *out is untouched. */
enum gf_err kpi_rules_parse(const char *text, size_t len, struct kpi_rules *out, char *err,
                            size_t errlen);
void kpi_rules_free(struct kpi_rules *rules);

/* Parses "[SITE/ROLE/ID:]KPI" into *p. GF_EPARSE. */
enum gf_err kpi_rules_pattern(const char *s, struct kpi_pattern *p);
bool kpi_rules_match(const struct kpi_pattern *p, const char *site, const char *role,
                     const char *id, const char *kpi);

/* Whether value breaks the limit: above, value > limit; below, value < limit. */
bool kpi_rules_breach(enum kpi_cmp cmp, double value, double limit);

struct kpi_point {
	double t, v; /* simulated seconds since the epoch, the value */
};

/* The rate of a series at now over the window: with periodic samples
 * (counters: each the amount of its period) the sum of the values of the
 * samples in (now - window, now]; otherwise the newest minus the oldest
 * value there (0 with fewer than two). pts sorted by time. */
double kpi_rules_rate(const struct kpi_point *pts, size_t n, double now, double window,
                      bool periodic);

/* Combines values v[0..n) by agg; false for n = 0. */
bool kpi_rules_aggregate(const struct kpi_point *pts, size_t n, enum kpi_agg agg, double *out);

enum kpi_goal_state { KPI_GOAL_OPEN, KPI_GOAL_REACHED, KPI_GOAL_MISSED };
/* A goal's state for its period given the aggregate so far (any: whether
 * there was a sample) and whether the period is over: a sum that must
 * reach at least the goal is reached as soon as it does, one that must
 * stay at most is missed as soon as it exceeds; every other case is judged
 * when the period is over (no sample then: missed). */
enum kpi_goal_state kpi_rules_goal(const struct kpi_rule *g, double agg, bool any, bool over);

const char *kpi_rules_kind_name(enum kpi_rule_kind kind);
const char *kpi_rules_agg_name(enum kpi_agg agg);
/* "info", "warning", "critical". */
const char *kpi_rules_severity_name(int severity);

/* --- series.c --------------------------------------------------------------- */

/* Buckets pts (sorted by time) into [k*step, (k+1)*step), epoch-aligned,
 * and writes one point per non-empty bucket (t = the bucket's start, v =
 * agg of its values) into out (cap points). step <= 0: the points as they
 * are. Returns how many were written (at most cap). */
size_t kpi_series_downsample(const struct kpi_point *pts, size_t n, double step, enum kpi_agg agg,
                             struct kpi_point *out, size_t cap);

/* --- parse.c ---------------------------------------------------------------- */

/* A sample as the REST API takes it: a goflex.KpiSample in JSON. */
struct kpi_sample {
	char kpi[KPI_NAME_MAX + 1];
	char unit[24];
	double value;
	double t; /* observedTime, seconds */
	uint32_t period_s;
};

/* Decodes and checks a posted KpiSample (JSON, len bytes): kpiId of 1..64
 * characters [A-Za-z0-9._-], a finite value, a valid observedTime, a unit
 * of at most 23 printable characters. GF_EPARSE with err (the field and
 * why). */
enum gf_err kpi_parse_sample(const char *json, size_t len, struct kpi_sample *out, char *err,
                             size_t errlen);

/* Whether s is a KPI id: 1..64 of [A-Za-z0-9._-]. */
bool kpi_parse_id(const char *s);

/* A series query: GET /api/series?kpi=&source=&from=&to=&step=&agg=. */
struct kpi_query {
	char kpi[KPI_NAME_MAX + 1];
	struct kpi_pattern source; /* kpi part unused */
	double from, to, step;
	enum kpi_agg agg;
	bool has_agg;
};

/* Sets one query parameter (key, value) on *q after kpi_parse_query_init.
 * Unknown keys and bad values: GF_EPARSE with err saying which. */
void kpi_parse_query_init(struct kpi_query *q, double now);
enum gf_err kpi_parse_query_param(struct kpi_query *q, const char *key, const char *value,
                                  char *err, size_t errlen);
/* Checks the whole query (kpi given, from < to, at most max_points
 * buckets). GF_EPARSE with err. */
enum gf_err kpi_parse_query_check(const struct kpi_query *q, size_t max_points, char *err,
                                  size_t errlen);

/* --- the agent (main.c, db.c, eval.c, http.c, page.c) ------------------------ */

#include "agent/agent.h"
#include "agent/store.h"

struct kpi_conf {
	struct gf_agent_conf agent;
	char *rules;       /* the goals and alarms file; NULL: none */
	char *http_bind;   /* address the REST API listens on */
	long http_port;    /* 0: no HTTP */
	char *http_tokens; /* "<token> <role>.<id>" lines: who may POST samples */
	long eval_s;       /* simulated seconds between evaluations of the rules */
	bool cross_site;   /* read the kpi rows other sites' bridges import */
	long max_points;   /* most points one series answer holds */
};

struct kpi_token {
	char *token;
	char role[16], id[KPI_NAME_MAX + 1];
};

struct kpi_http;

struct kpi_tracker {
	struct gf_agent *a;
	struct kpi_conf *conf;
	struct gf_store *store;
	struct kpi_rules rules;
	struct kpi_token *tokens;
	size_t ntokens;
	double started; /* simulated time at start: silence counts from there */
	struct kpi_http *http;
	long samples, alarms_raised; /* since start, for the log and /health */
};

/* A series as db.c lists it. */
struct kpi_series_row {
	int64_t sid;
	const char *site, *role, *id, *kpi, *unit;
	bool periodic;
	double first_t, last_t, last_v;
	long n;
};

/* db.c: the store (state_dir/kpi.db). GF_EIO on database errors (logged). */
enum gf_err kpi_db_open(struct kpi_tracker *t, char *err, size_t errlen);
/* Inside the caller's transaction: stores s from (site, role, id); *sid
 * its series, *added false when it was there already (a duplicate). */
enum gf_err kpi_db_add(struct kpi_tracker *t, const char *site, const char *role, const char *id,
                       const struct kpi_sample *s, int64_t *sid, bool *added);
/* The points of series sid with from <= t <= to, sorted (malloc'd, the
 * caller frees *pts). */
enum gf_err kpi_db_points(struct kpi_tracker *t, int64_t sid, double from, double to,
                          struct kpi_point **pts, size_t *n);
/* Calls fn for every series (ordered by kpi, site, role, id). */
typedef void (*kpi_db_series_fn)(const struct kpi_series_row *row, void *arg);
enum gf_err kpi_db_series(struct kpi_tracker *t, kpi_db_series_fn fn, void *arg);
/* The active (not cleared) alarm of rule on series key: true and its id. */
bool kpi_db_alarm_active(struct kpi_tracker *t, const char *rule, const char *key, char *id,
                         size_t idlen);
enum gf_err kpi_db_alarm_raise(struct kpi_tracker *t, const char *id, const struct kpi_rule *r,
                               const char *key, double now, double value, const char *message);
enum gf_err kpi_db_alarm_clear(struct kpi_tracker *t, const char *id, double now);
/* A goal period's recorded state: "" (none yet), "reached" or "missed". */
void kpi_db_goal_state(struct kpi_tracker *t, const char *rule, double period, char *state,
                       size_t size);
enum gf_err kpi_db_goal_set(struct kpi_tracker *t, const char *rule, double period,
                            const char *state, double value, double now);

/* eval.c: a sample from (site, role, id): stored and judged by the rules
 * in one transaction with the alarms it raises or clears (kpi.alarm to
 * user/all and ops/all). GF_OK also for a duplicate; GF_EIO stops the
 * agent (gf_agent_fail). */
enum gf_err kpi_eval_sample(struct kpi_tracker *t, const char *site, const char *role,
                            const char *id, const struct kpi_sample *s);
/* Judges the rates, silences and goals at the simulated now. */
void kpi_eval_tick(struct kpi_tracker *t);
/* A goal's current period: its start and the aggregate so far. */
bool kpi_eval_goal_now(struct kpi_tracker *t, const struct kpi_rule *g, double *period_start,
                       double *value);

/* http.c: the REST API and the dashboard on conf->http_bind:http_port,
 * served from the agent's loop. GF_EIO with err when it cannot listen. */
enum gf_err kpi_http_start(struct kpi_tracker *t, char *err, size_t errlen);
void kpi_http_stop(struct kpi_tracker *t);

/* page.c: the dashboard (one self-contained HTML page). */
extern const char kpi_page_html[];

#endif
