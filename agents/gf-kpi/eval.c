/* SPDX-License-Identifier: MIT */
/*
 * eval.c - the rules applied to what the store holds (tracker.h): each
 * sample is stored and judged in one transaction with the kpi.alarm
 * messages it causes (the outbox sends them, again after a crash); rates,
 * silences and goals are judged at every tick. An alarm is raised once per
 * (rule, series) until it clears; a goal period is judged once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"
#include "agent/message.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "kpi.pb-c.h"

#define KEY_MAX (KPI_SITE_MAX + 2 * KPI_NAME_MAX + 24)
#define ID_MAX  (KEY_MAX + KPI_NAME_MAX + 24)

/* One matched series: its id, key "site/role/id:kpi", latest sample. */
struct match {
	int64_t sid;
	char key[KEY_MAX];
	char site[KPI_SITE_MAX + 1], role[16], id[KPI_NAME_MAX + 1], kpi[KPI_NAME_MAX + 1];
	char unit[24];
	bool periodic;
	double last_t, last_v;
};

struct matches {
	const struct kpi_pattern *pat;
	struct match *m;
	size_t n, cap;
	bool oom;
};

static void collect(const struct kpi_series_row *row, void *arg)
{
	struct matches *ms = arg;
	struct match *m;

	if (!kpi_rules_match(ms->pat, row->site, row->role, row->id, row->kpi))
		return;
	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? ms->cap * 2 : 16;
		struct match *nm = realloc(ms->m, cap * sizeof(*nm));
		if (!nm) {
			ms->oom = true;
			return;
		}
		ms->m = nm;
		ms->cap = cap;
	}
	m = &ms->m[ms->n++];
	m->sid = row->sid;
	snprintf(m->key, sizeof(m->key), "%s/%s/%s:%s", row->site, row->role, row->id, row->kpi);
	snprintf(m->site, sizeof(m->site), "%s", row->site);
	snprintf(m->role, sizeof(m->role), "%s", row->role);
	snprintf(m->id, sizeof(m->id), "%s", row->id);
	snprintf(m->kpi, sizeof(m->kpi), "%s", row->kpi);
	snprintf(m->unit, sizeof(m->unit), "%s", row->unit);
	m->periodic = row->periodic;
	m->last_t = row->last_t;
	m->last_v = row->last_v;
}

static enum gf_err matching(struct kpi_tracker *t, const struct kpi_pattern *pat,
                            struct matches *ms)
{
	enum gf_err rc;

	memset(ms, 0, sizeof(*ms));
	ms->pat = pat;
	rc = kpi_db_series(t, collect, ms);
	if (rc == GF_OK && ms->oom)
		rc = GF_ENOMEM;
	if (rc != GF_OK) {
		free(ms->m);
		ms->m = NULL;
		ms->n = 0;
	}
	return rc;
}

/* Queues one KpiAlarm to user/all and ops/all (SPEC section 5). */
static enum gf_err publish(struct kpi_tracker *t, const char *alarm_id, const struct kpi_rule *r,
                           const struct match *m, Goflex__KpiAlarm__Kind kind, double now,
                           bool has_value, double value, const char *message)
{
	Goflex__KpiAlarm al = GOFLEX__KPI_ALARM__INIT;
	char when[40];
	enum gf_err rc;

	if (gf_time_format((int64_t)llround(now * 1000.0), when, sizeof(when)) != GF_OK)
		return GF_EINVAL;
	al.alarmid = (char *)alarm_id;
	al.kpiid = (char *)(m ? m->kpi : r->pat.kpi);
	al.kind = kind;
	al.has_severity = true;
	al.severity = (Goflex__KpiAlarm__Severity)r->severity;
	al.raisedtime = when;
	al.has_value = has_value;
	al.value = value;
	al.has_threshold = true;
	al.threshold = r->kind == KPI_RULE_MISSING ? r->window_s : r->value;
	al.unit = m && m->unit[0] ? (char *)m->unit : NULL;
	if (m && strcmp(m->role, "*") != 0) {
		al.sourcerole = (char *)m->role;
		al.sourceid = (char *)m->id;
	}
	al.message = (char *)message;
	rc = gf_message_queue(t->a, t->store, "user", "all", "kpi.alarm", &al.base);
	if (rc == GF_OK)
		rc = gf_message_queue(t->a, t->store, "ops", "all", "kpi.alarm", &al.base);
	return rc;
}

/* Raises (breach) or clears (!breach) the alarm of r on m, if that changes
 * anything. */
static enum gf_err judge(struct kpi_tracker *t, const struct kpi_rule *r, const struct match *m,
                         bool breach, double now, double value)
{
	char id[ID_MAX], msg[512];
	bool active = kpi_db_alarm_active(t, r->name, m->key, id, sizeof(id));
	enum gf_err rc;

	if (breach == active)
		return GF_OK;
	if (breach) {
		snprintf(id, sizeof(id), "%s:%s:%lld", r->name, m->key,
		         (long long)llround(now * 1000.0));
		if (r->kind == KPI_RULE_MISSING)
			snprintf(msg, sizeof(msg), "%s: no sample of %s for more than %.0f s",
			         r->name, m->key, r->window_s);
		else
			snprintf(msg, sizeof(msg), "%s: %s%s %g is %s %g", r->name, m->key,
			         r->kind == KPI_RULE_RATE ? " rate" : "", value,
			         r->cmp == KPI_CMP_ABOVE ? "above" : "below", r->value);
		rc = kpi_db_alarm_raise(t, id, r, m->key, now, value, msg);
		if (rc == GF_OK)
			rc = publish(t, id, r, m, GOFLEX__KPI_ALARM__KIND__alarmRaised, now,
			             r->kind != KPI_RULE_MISSING, value, msg);
		if (rc == GF_OK) {
			t->alarms_raised++;
			gf_log_notice("GF-KPI-ALARM", "%s raised (%s)", id,
			              kpi_rules_severity_name(r->severity));
		}
		return rc;
	}
	snprintf(msg, sizeof(msg), "%s: %s is back within its limit", r->name, m->key);
	rc = kpi_db_alarm_clear(t, id, now);
	if (rc == GF_OK)
		rc = publish(t, id, r, m, GOFLEX__KPI_ALARM__KIND__alarmCleared, now,
		             r->kind != KPI_RULE_MISSING, value, msg);
	if (rc == GF_OK)
		gf_log_notice("GF-KPI-CLEARED", "%s cleared", id);
	return rc;
}

static enum gf_err judge_rate(struct kpi_tracker *t, const struct kpi_rule *r,
                              const struct match *m, double now)
{
	struct kpi_point *pts = NULL;
	size_t n = 0;
	enum gf_err rc = kpi_db_points(t, m->sid, now - r->window_s, now, &pts, &n);
	double rate;

	if (rc != GF_OK)
		return rc;
	rate = kpi_rules_rate(pts, n, now, r->window_s, m->periodic);
	free(pts);
	return judge(t, r, m, kpi_rules_breach(r->cmp, rate, r->value), now, rate);
}

/* The placeholder series of a missing rule that matched no series yet. */
static void pattern_match(const struct kpi_rule *r, struct match *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->key, sizeof(m->key), "%s/%s/%s:%s", r->pat.site, r->pat.role, r->pat.id,
	         r->pat.kpi);
	snprintf(m->kpi, sizeof(m->kpi), "%s", r->pat.kpi);
	strcpy(m->role, "*");
}

static void flush(struct kpi_tracker *t)
{
	gf_store_outbox_flush(t->store, gf_agent_bus(t->a));
}

enum gf_err kpi_eval_sample(struct kpi_tracker *t, const char *site, const char *role,
                            const char *id, const struct kpi_sample *s)
{
	double now = gf_agent_now(t->a);
	enum gf_err rc;
	int64_t sid = 0;
	bool added = false;

	if ((rc = gf_store_begin(t->store)) != GF_OK)
		return rc;
	rc = kpi_db_add(t, site, role, id, s, &sid, &added);
	for (size_t i = 0; rc == GF_OK && added && i < t->rules.n; i++) {
		const struct kpi_rule *r = &t->rules.r[i];
		struct match m, pm;

		if (r->kind == KPI_RULE_GOAL || !kpi_rules_match(&r->pat, site, role, id, s->kpi))
			continue;
		memset(&m, 0, sizeof(m));
		m.sid = sid;
		snprintf(m.key, sizeof(m.key), "%s/%s/%s:%s", site, role, id, s->kpi);
		snprintf(m.site, sizeof(m.site), "%s", site);
		snprintf(m.role, sizeof(m.role), "%s", role);
		snprintf(m.id, sizeof(m.id), "%s", id);
		snprintf(m.kpi, sizeof(m.kpi), "%s", s->kpi);
		snprintf(m.unit, sizeof(m.unit), "%s", s->unit);
		m.periodic = s->period_s > 0;
		switch (r->kind) {
		case KPI_RULE_THRESHOLD:
			rc = judge(t, r, &m, kpi_rules_breach(r->cmp, s->value, r->value), now,
			           s->value);
			break;
		case KPI_RULE_RATE:
			rc = judge_rate(t, r, &m, now);
			break;
		case KPI_RULE_MISSING:
			/* Data again: the series' silence and the pattern's end. */
			rc = judge(t, r, &m, false, now, 0);
			pattern_match(r, &pm);
			if (rc == GF_OK)
				rc = judge(t, r, &pm, false, now, 0);
			break;
		case KPI_RULE_GOAL:
			break;
		}
	}
	if (rc != GF_OK) {
		gf_store_rollback(t->store);
		return rc;
	}
	if ((rc = gf_store_commit(t->store)) != GF_OK)
		return rc;
	if (added)
		t->samples++;
	flush(t);
	return GF_OK;
}

/* Every point of the series matching g between from and to, sorted. */
static enum gf_err goal_points(struct kpi_tracker *t, const struct kpi_rule *g, double from,
                               double to, struct kpi_point **out, size_t *nout)
{
	struct matches ms;
	struct kpi_point *all = NULL;
	size_t n = 0;
	enum gf_err rc = matching(t, &g->pat, &ms);

	for (size_t i = 0; rc == GF_OK && i < ms.n; i++) {
		struct kpi_point *p = NULL, *na;
		size_t k = 0;

		if ((rc = kpi_db_points(t, ms.m[i].sid, from, to, &p, &k)) != GF_OK)
			break;
		na = k ? realloc(all, (n + k) * sizeof(*na)) : all;
		if (k && !na) {
			free(p);
			rc = GF_ENOMEM;
			break;
		}
		all = na;
		if (k)
			memcpy(all + n, p, k * sizeof(*p));
		n += k;
		free(p);
	}
	free(ms.m);
	if (rc != GF_OK) {
		free(all);
		return rc;
	}
	/* Merge order: by time (insertion sort is enough for a period). */
	for (size_t i = 1; i < n; i++) {
		struct kpi_point x = all[i];
		size_t j = i;
		for (; j > 0 && all[j - 1].t > x.t; j--)
			all[j] = all[j - 1];
		all[j] = x;
	}
	*out = all;
	*nout = n;
	return GF_OK;
}

bool kpi_eval_goal_now(struct kpi_tracker *t, const struct kpi_rule *g, double *period_start,
                       double *value)
{
	double now = gf_agent_now(t->a), ps = floor(now / g->window_s) * g->window_s;
	struct kpi_point *pts = NULL;
	size_t n = 0;
	bool any = false;

	*period_start = ps;
	*value = 0;
	/* The period is [ps, ps + window): its last millisecond is its own. */
	if (goal_points(t, g, ps, ps + g->window_s - 0.001, &pts, &n) == GF_OK)
		any = kpi_rules_aggregate(pts, n, g->agg, value);
	free(pts);
	return any;
}

/* Judges g's period starting at ps (over: it has ended). */
static enum gf_err judge_goal(struct kpi_tracker *t, const struct kpi_rule *g, double ps, bool over,
                              double now)
{
	struct kpi_point *pts = NULL;
	size_t n = 0;
	char state[16], id[ID_MAX], msg[512];
	double v = 0;
	bool any;
	enum kpi_goal_state gs;
	enum gf_err rc;

	kpi_db_goal_state(t, g->name, ps, state, sizeof(state));
	if (state[0])
		return GF_OK;
	if ((rc = goal_points(t, g, ps, ps + g->window_s - 0.001, &pts, &n)) != GF_OK)
		return rc;
	any = kpi_rules_aggregate(pts, n, g->agg, &v);
	free(pts);
	gs = kpi_rules_goal(g, v, any, over);
	if (gs == KPI_GOAL_OPEN)
		return GF_OK;
	snprintf(id, sizeof(id), "%s:%lld", g->name, (long long)llround(ps));
	snprintf(msg, sizeof(msg), "goal %s %s: %s %s of %s is %s%g, goal %s %g", g->name,
	         gs == KPI_GOAL_REACHED ? "reached" : "missed",
	         any ? "" : "no data:", kpi_rules_agg_name(g->agg), g->pat.kpi, any ? "" : "", v,
	         g->cmp == KPI_CMP_BELOW ? ">=" : "<=", g->value);
	rc = kpi_db_goal_set(t, g->name, ps, gs == KPI_GOAL_REACHED ? "reached" : "missed", v, now);
	if (rc == GF_OK)
		rc = publish(t, id, g, NULL,
		             gs == KPI_GOAL_REACHED ? GOFLEX__KPI_ALARM__KIND__goalReached
		                                    : GOFLEX__KPI_ALARM__KIND__goalMissed,
		             now, any, v, msg);
	if (rc == GF_OK)
		gf_log_notice("GF-KPI-GOAL", "%s", msg);
	return rc;
}

static enum gf_err tick_rule(struct kpi_tracker *t, const struct kpi_rule *r, double now)
{
	struct matches ms;
	enum gf_err rc = GF_OK;

	if (r->kind == KPI_RULE_THRESHOLD)
		return GF_OK; /* judged at each sample */
	if (r->kind == KPI_RULE_GOAL) {
		double ps = floor(now / r->window_s) * r->window_s;

		/* The period that just ended, if this tracker saw any of it. */
		if (ps > t->started)
			rc = judge_goal(t, r, ps - r->window_s, true, now);
		if (rc == GF_OK)
			rc = judge_goal(t, r, ps, false, now);
		return rc;
	}
	if ((rc = matching(t, &r->pat, &ms)) != GF_OK)
		return rc;
	if (r->kind == KPI_RULE_MISSING && ms.n == 0) {
		struct match pm;

		pattern_match(r, &pm);
		rc = judge(t, r, &pm, now - t->started > r->window_s, now, 0);
	}
	for (size_t i = 0; rc == GF_OK && i < ms.n; i++) {
		if (r->kind == KPI_RULE_MISSING)
			rc = judge(
			    t, r, &ms.m[i],
			    now - (ms.m[i].last_t > t->started ? ms.m[i].last_t : t->started) >
			        r->window_s,
			    now, ms.m[i].last_t);
		else
			rc = judge_rate(t, r, &ms.m[i], now);
	}
	free(ms.m);
	return rc;
}

void kpi_eval_tick(struct kpi_tracker *t)
{
	double now = gf_agent_now(t->a);
	enum gf_err rc;

	if (t->rules.n == 0)
		return;
	if ((rc = gf_store_begin(t->store)) != GF_OK) {
		gf_agent_fail(t->a, "cannot begin a transaction");
		return;
	}
	for (size_t i = 0; rc == GF_OK && i < t->rules.n; i++)
		rc = tick_rule(t, &t->rules.r[i], now);
	if (rc != GF_OK) {
		gf_store_rollback(t->store);
		gf_agent_fail(t->a, "the rules could not be judged (store)");
		return;
	}
	if (gf_store_commit(t->store) != GF_OK) {
		gf_agent_fail(t->a, "cannot commit the rules' judgements");
		return;
	}
	flush(t);
}
