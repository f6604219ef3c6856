/* SPDX-License-Identifier: MIT */
/*
 * kpi.c - the agent's KPI reporter (kpi.h). A few dozen KPIs per agent at
 * most: a flat array searched by id is all it needs.
 */
#include "agent/kpi.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/bus.h"
#include "agent/simclock.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "base/json.h"

enum kind { KIND_COUNTER, KIND_GAUGE, KIND_PROBE, KIND_TIMING };

#define ID_MAX   64
#define UNIT_MAX 16
/* A timing keeps at most this many durations per period; beyond, every
 * second one is dropped (the percentiles of a period stay representative). */
#define TIMING_MAX 4096

struct entry {
	char id[ID_MAX], unit[UNIT_MAX];
	enum kind kind;
	double value;
	bool set;
	gf_kpi_probe_fn fn;
	void *arg;
	double *t;
	size_t n, cap;
};

struct gf_kpi {
	struct entry *e;
	size_t n, cap;
	uint64_t timer;
	double period;
	double last_observed; /* keeps observedTime strictly increasing */
	double last_report;   /* simulated time of the last report (0: none) */
	double last_real;     /* real time of the last report */
};

/* Reports at most this often in real time, whatever the time scale: at
 * 100000x, 900 simulated seconds are 9 ms. The period a counter covers is
 * the simulated time since the last report. */
#define REPORT_MIN_REAL_S 1.0

/* Whether role may send kpi rows (SPEC section 5: any agent -> kpi). */
static bool role_reports(const char *role)
{
	static const char *const roles[] = {"foa", "fman", "fmar", "doms", "sp", "dms", "ext"};

	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (role && strcmp(role, roles[i]) == 0)
			return true;
	return false;
}

static void on_timer(struct gf_agent *a, void *arg);

static void arm(struct gf_agent *a, struct gf_kpi *k)
{
	k->timer = gf_agent_timer_at(a, gf_agent_now(a) + k->period, on_timer, NULL);
}

/* The reporter, created at the first use; NULL when reporting is off or
 * the agent's role sends no kpi rows. */
static struct gf_kpi *reporter(struct gf_agent *a)
{
	struct gf_kpi **kp = gf__agent_kpi(a);
	long period = gf__agent_kpi_period(a);

	if (*kp)
		return (*kp)->period > 0 ? *kp : NULL;
	if (!(*kp = calloc(1, sizeof(**kp))))
		return NULL;
	if (period <= 0 || !role_reports(gf_bus_role(gf_agent_bus(a))))
		return NULL; /* period stays 0: off */
	(*kp)->period = (double)period;
	(*kp)->last_report = gf_agent_now(a);
	(*kp)->last_real = gf_simclock_real_now();
	arm(a, *kp);
	return *kp;
}

static struct entry *entry(struct gf_agent *a, const char *id, enum kind kind, const char *unit)
{
	struct gf_kpi *k = reporter(a);
	struct entry *e;

	if (!k || !id || strlen(id) >= ID_MAX)
		return NULL;
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->e[i].id, id) == 0)
			return &k->e[i];
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct entry *ne = realloc(k->e, cap * sizeof(*ne));
		if (!ne)
			return NULL;
		k->e = ne;
		k->cap = cap;
	}
	e = &k->e[k->n++];
	memset(e, 0, sizeof(*e));
	strcpy(e->id, id);
	snprintf(e->unit, sizeof(e->unit), "%s", unit ? unit : (kind == KIND_TIMING ? "s" : ""));
	e->kind = kind;
	return e;
}

void gf_kpi_count(struct gf_agent *a, const char *id, double delta, const char *unit)
{
	struct entry *e = entry(a, id, KIND_COUNTER, unit ? unit : "count");

	if (e)
		e->value += delta;
}

void gf_kpi_gauge(struct gf_agent *a, const char *id, double value, const char *unit)
{
	struct entry *e = entry(a, id, KIND_GAUGE, unit);

	if (e) {
		e->value = value;
		e->set = true;
	}
}

void gf_kpi_probe(struct gf_agent *a, const char *id, const char *unit, gf_kpi_probe_fn fn,
                  void *arg)
{
	struct entry *e = entry(a, id, KIND_PROBE, unit);

	if (e) {
		e->fn = fn;
		e->arg = arg;
	}
}

void gf_kpi_time(struct gf_agent *a, const char *id, double seconds)
{
	struct entry *e = entry(a, id, KIND_TIMING, "s");

	if (!e || !isfinite(seconds))
		return;
	if (e->n == TIMING_MAX) {
		for (size_t i = 0; i < e->n / 2; i++)
			e->t[i] = e->t[2 * i + 1];
		e->n /= 2;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		double *nt = realloc(e->t, cap * sizeof(*nt));
		if (!nt)
			return;
		e->t = nt;
		e->cap = cap;
	}
	e->t[e->n++] = seconds;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

double gf_kpi_percentile(double *v, unsigned long n, double p)
{
	double rank;
	unsigned long i;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	rank = ceil(p / 100.0 * (double)n);
	i = rank < 1 ? 0 : (unsigned long)rank - 1;
	return v[i < n ? i : n - 1];
}

/* One goflex.KpiSample, written as JSON here: the runtime does not use the
 * generated schema code (docs/layers.md); the broker validates it. */
static void send(struct gf_agent *a, const char *id, const char *suffix, double value,
                 const char *unit, const char *when, uint32_t period)
{
	struct gf_bus *bus = gf_agent_bus(a);
	char full[ID_MAX + 8], qid[2 * ID_MAX + 24], qunit[2 * UNIT_MAX + 8], topic[512];
	char json[512];
	size_t q;
	int n;

	if (!isfinite(value))
		return;
	snprintf(full, sizeof(full), "%s%s", id, suffix);
	/* gf_json_quote adds no NUL. */
	q = gf_json_quote(qid, sizeof(qid) - 1, full, strlen(full), GF_JSON_SAFE);
	if (q >= sizeof(qid))
		return;
	qid[q] = '\0';
	q = gf_json_quote(qunit, sizeof(qunit) - 1, unit, strlen(unit), GF_JSON_SAFE);
	if (q >= sizeof(qunit))
		return;
	qunit[q] = '\0';
	n = snprintf(json, sizeof(json),
	             "{\"kpiId\":%s,\"value\":%.17g,%s%s%s\"observedTime\":\"%s\"", qid, value,
	             unit[0] ? "\"unit\":" : "", unit[0] ? qunit : "", unit[0] ? "," : "", when);
	if (n > 0 && period && (size_t)n < sizeof(json))
		n += snprintf(json + n, sizeof(json) - (size_t)n, ",\"periodSeconds\":%u", period);
	if (n > 0 && (size_t)n < sizeof(json) - 1)
		n += snprintf(json + n, sizeof(json) - (size_t)n, "}");
	if (n <= 0 || (size_t)n >= sizeof(json) ||
	    gf_bus_topic(bus, topic, sizeof(topic), "kpi", "all", "kpi") != GF_OK ||
	    gf_bus_publish(bus, topic, json, (size_t)n, NULL, false, NULL, 0, 0) != GF_OK)
		gf_log_notice("GF-KPI-REPORT", "sample %s not sent", full);
}

void gf_kpi_report(struct gf_agent *a)
{
	struct gf_kpi *k = *gf__agent_kpi(a);
	char when[40];
	double now;
	uint32_t period;

	if (!k || k->period <= 0)
		return;
	now = gf_agent_now(a);
	/* Receivers key samples on (sender, kpiId, observedTime), to the
	 * millisecond: a report at the same instant as the last moves on. */
	if (now < k->last_observed + 0.001)
		now = k->last_observed + 0.001;
	k->last_observed = now;
	if (gf_time_format((int64_t)llround(now * 1000.0), when, sizeof(when)) != GF_OK)
		return;
	period = now - k->last_report >= 1 ? (uint32_t)llround(now - k->last_report) : 1;
	k->last_report = now;
	k->last_real = gf_simclock_real_now();
	for (size_t i = 0; i < k->n; i++) {
		struct entry *e = &k->e[i];

		switch (e->kind) {
		case KIND_COUNTER:
			send(a, e->id, "", e->value, e->unit, when, period);
			e->value = 0;
			break;
		case KIND_GAUGE:
			if (e->set)
				send(a, e->id, "", e->value, e->unit, when, 0);
			break;
		case KIND_PROBE:
			send(a, e->id, "", e->fn(a, e->arg), e->unit, when, 0);
			break;
		case KIND_TIMING:
			if (e->n == 0)
				break;
			send(a, e->id, ".p50", gf_kpi_percentile(e->t, e->n, 50), "s", when,
			     period);
			send(a, e->id, ".p95", gf_kpi_percentile(e->t, e->n, 95), "s", when,
			     period);
			send(a, e->id, ".max", gf_kpi_percentile(e->t, e->n, 100), "s", when,
			     period);
			e->n = 0;
			break;
		}
	}
}

static void on_timer(struct gf_agent *a, void *arg)
{
	struct gf_kpi *k = *gf__agent_kpi(a);

	(void)arg;
	if (k && gf_simclock_real_now() - k->last_real >= REPORT_MIN_REAL_S)
		gf_kpi_report(a);
	if (k && k->period > 0)
		arm(a, k);
}

void gf__kpi_free(struct gf_kpi *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		free(k->e[i].t);
	free(k->e);
	free(k);
}
