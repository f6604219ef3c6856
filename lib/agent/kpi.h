/* SPDX-License-Identifier: MIT */
/*
 * kpi.h - an agent's KPI reporting (D6.1 12.3, docs/kpi.md): the agent
 * counts, sets and times what it measures; the runtime publishes it as
 * goflex.KpiSample rows (msg kpi, to kpi/all) every kpi_period_s simulated
 * seconds (a common configuration key; 0 turns reporting off).
 *
 * - A counter (gf_kpi_count) reports what was added during the period
 *   (periodSeconds = the simulated seconds since the last report), 0
 *   included, so a silent agent is seen.
 * - A gauge (gf_kpi_gauge) reports its last value at every report, and a
 *   probe (gf_kpi_probe) a value read by a callback at report time (queue
 *   depths).
 * - A timing (gf_kpi_time) reports the period's percentiles as three KPIs,
 *   "<id>.p50", "<id>.p95" and "<id>.max" (seconds), when it had any.
 *
 * Ids are short dotted names, "<role>.<what>" (e.g. "fman.offers_received");
 * the sample's sender (topic) says which component it is. The runtime itself
 * reports "agent.messages" and the timing "agent.handle" (real seconds an
 * agent's message callback took) and the probe "agent.publish_queue" for
 * every agent whose role may send kpi rows (foa, fman, fmar, doms, sp, dms,
 * ext). Reports come at most once a real second whatever the time scale.
 * Samples are published at QoS 1 on the agent's own connection without
 * an outbox: a sample a crash loses is replaced by the next period's.
 * Everything runs on the agent's thread; nothing here fails the agent: out
 * of memory drops the sample (logged GF-KPI-REPORT).
 */
#ifndef GF_AGENT_KPI_H
#define GF_AGENT_KPI_H

struct gf_agent;

/* Adds delta to the counter id (unit, e.g. "count" or "kWh"; NULL:
 * "count"). The first call of any of these starts the reporting. */
void gf_kpi_count(struct gf_agent *a, const char *id, double delta, const char *unit);

/* Sets the gauge id to value (unit may be NULL). */
void gf_kpi_gauge(struct gf_agent *a, const char *id, double value, const char *unit);

/* A gauge read by fn(a, arg) at each report (unit may be NULL). */
typedef double (*gf_kpi_probe_fn)(struct gf_agent *a, void *arg);
void gf_kpi_probe(struct gf_agent *a, const char *id, const char *unit, gf_kpi_probe_fn fn,
                  void *arg);

/* Records one duration (seconds) of the timing id. */
void gf_kpi_time(struct gf_agent *a, const char *id, double seconds);

/* Publishes what was gathered now (the runtime calls it at each period and
 * when the agent stops). */
void gf_kpi_report(struct gf_agent *a);

/* The percentile p (0..100) of v[0..n) by the nearest-rank method; sorts v.
 * 0 for n = 0. */
double gf_kpi_percentile(double *v, unsigned long n, double p);

/* The runtime's own: frees the reporter at exit. Accepts NULL. */
struct gf_kpi;
void gf__kpi_free(struct gf_kpi *k);

#endif
