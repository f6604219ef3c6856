/* SPDX-License-Identifier: MIT */
/*
 * gf-kpi's pure modules (agents/gf-kpi/tracker.h): the rules file, the
 * decisions on numbers (thresholds, rates, goals), series downsampling and
 * the REST API's input, each against results worked out by hand.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "tracker.h"

static struct kpi_rules parse_ok(const char *text)
{
	struct kpi_rules r = {NULL, 0};
	char err[256] = "";

	cr_assert_eq(kpi_rules_parse(text, strlen(text), &r, err, sizeof(err)), GF_OK, "%s", err);
	return r;
}

static void parse_bad(const char *text, const char *why)
{
	struct kpi_rules r = {NULL, 0};
	char err[256] = "";

	cr_assert_eq(kpi_rules_parse(text, strlen(text), &r, err, sizeof(err)), GF_EPARSE,
	             "accepted: %s", text);
	cr_assert(strstr(err, why) != NULL, "'%s' for %s, expected '%s'", err, text, why);
	cr_assert_null(r.r);
}

Test(kpi_rules, parses_every_kind)
{
	struct kpi_rules r =
	    parse_ok("# comment\n\n"
	             "goal cleared fmar.cleared_kwh >= 10 per 3600 mean critical\n"
	             "goal err doms.forecast_error <= 5\n"
	             "alarm hi site1/fmar/*:fmar.clearing_price above 0.5 info  # trailing\n"
	             "alarm rate fman.offers_refused rate below 2 per 60\n"
	             "alarm quiet sp.* missing 120 critical\n");

	cr_assert_eq(r.n, 5);
	cr_assert_eq(r.r[0].kind, KPI_RULE_GOAL);
	cr_assert_eq(r.r[0].cmp, KPI_CMP_BELOW); /* ">=": breaks below */
	cr_assert_float_eq(r.r[0].value, 10, 1e-12);
	cr_assert_float_eq(r.r[0].window_s, 3600, 1e-12);
	cr_assert_eq(r.r[0].agg, KPI_AGG_MEAN);
	cr_assert_eq(r.r[0].severity, 2);
	cr_assert_eq(r.r[0].line, 3);
	cr_assert_eq(r.r[1].cmp, KPI_CMP_ABOVE);
	cr_assert_float_eq(r.r[1].window_s, 86400, 1e-12); /* the defaults */
	cr_assert_eq(r.r[1].agg, KPI_AGG_SUM);
	cr_assert_eq(r.r[1].severity, 1);
	cr_assert_eq(r.r[2].kind, KPI_RULE_THRESHOLD);
	cr_assert_str_eq(r.r[2].pat.site, "site1");
	cr_assert_str_eq(r.r[2].pat.role, "fmar");
	cr_assert_str_eq(r.r[2].pat.id, "*");
	cr_assert_eq(r.r[2].severity, 0);
	cr_assert_eq(r.r[3].kind, KPI_RULE_RATE);
	cr_assert_eq(r.r[3].cmp, KPI_CMP_BELOW);
	cr_assert_float_eq(r.r[3].window_s, 60, 1e-12);
	cr_assert_eq(r.r[4].kind, KPI_RULE_MISSING);
	cr_assert_float_eq(r.r[4].window_s, 120, 1e-12);
	cr_assert(kpi_rules_match(&r.r[4].pat, "s", "sp", "x", "sp.readings_stored"));
	cr_assert_not(kpi_rules_match(&r.r[4].pat, "s", "sp", "x", "fman.readings"));
	cr_assert(kpi_rules_match(&r.r[2].pat, "site1", "fmar", "m9", "fmar.clearing_price"));
	cr_assert_not(kpi_rules_match(&r.r[2].pat, "site2", "fmar", "m9", "fmar.clearing_price"));
	cr_assert_not(kpi_rules_match(&r.r[2].pat, "site1", "fman", "m9", "fmar.clearing_price"));
	kpi_rules_free(&r);
}

Test(kpi_rules, refuses_with_the_line_and_the_reason)
{
	parse_bad("gaol x a >= 1\n", "line 1: a rule starts with goal or alarm");
	parse_bad("\nalarm x a sideways 1\n", "line 2: above or below expected");
	parse_bad("alarm x a above many\n", "a number expected");
	parse_bad("alarm x a above nan\n", "a number expected");
	parse_bad("alarm x a rate above 1\n", "a rate needs per SECONDS");
	parse_bad("alarm x a missing 0\n", "missing needs seconds");
	parse_bad("goal x a > 1\n", "a goal's comparison is >= or <=");
	parse_bad("goal x a >= 1 per 0\n", "per needs seconds");
	parse_bad("alarm x a above 1 loud\n", "unexpected word at the end");
	parse_bad("alarm x a/b:c above 1\n", "bad pattern");
	parse_bad("alarm x s/r/i:a*b above 1\n", "bad pattern");
	parse_bad("alarm x! a above 1\n", "bad rule name");
	parse_bad("alarm x a above 1\nalarm x b above 2\n",
	          "line 2: rule x already defined on line 1");
	parse_bad("alarm x a above 1 1 1 1 1 1 1 1 1 1\n", "more than 12 words");
}

Test(kpi_rules, threshold_and_rate)
{
	struct kpi_point counter[] = {{100, 2}, {160, 2}, {220, 5}, {400, 1}};
	struct kpi_point gauge[] = {{100, 10}, {160, 14}, {220, 13}};

	cr_assert(kpi_rules_breach(KPI_CMP_ABOVE, 0.8, 0.5));
	cr_assert_not(kpi_rules_breach(KPI_CMP_ABOVE, 0.5, 0.5)); /* at the limit: fine */
	cr_assert(kpi_rules_breach(KPI_CMP_BELOW, 0.4, 0.5));
	/* Counters: the sum of the samples in (now - window, now]. */
	cr_assert_float_eq(kpi_rules_rate(counter, 4, 220, 120, true), 7, 1e-12);
	cr_assert_float_eq(kpi_rules_rate(counter, 4, 220, 121, true), 9, 1e-12);
	cr_assert_float_eq(kpi_rules_rate(counter, 4, 400, 100, true), 1, 1e-12);
	cr_assert_float_eq(kpi_rules_rate(counter, 4, 50, 100, true), 0, 1e-12);
	/* Gauges: newest minus oldest in the window; one sample: no change. */
	cr_assert_float_eq(kpi_rules_rate(gauge, 3, 220, 200, false), 3, 1e-12);
	cr_assert_float_eq(kpi_rules_rate(gauge, 3, 220, 60, false), 0, 1e-12);
	cr_assert_float_eq(kpi_rules_rate(gauge, 3, 220, 61, false), -1, 1e-12);
}

Test(kpi_rules, aggregates)
{
	struct kpi_point p[] = {{1, 4}, {2, -1}, {3, 7}};
	double v = 99;

	cr_assert_not(kpi_rules_aggregate(p, 0, KPI_AGG_SUM, &v));
	cr_assert_float_eq(v, 99, 0);
	cr_assert(kpi_rules_aggregate(p, 3, KPI_AGG_SUM, &v));
	cr_assert_float_eq(v, 10, 1e-12);
	kpi_rules_aggregate(p, 3, KPI_AGG_MEAN, &v);
	cr_assert_float_eq(v, 10.0 / 3, 1e-12);
	kpi_rules_aggregate(p, 3, KPI_AGG_LAST, &v);
	cr_assert_float_eq(v, 7, 0);
	kpi_rules_aggregate(p, 3, KPI_AGG_MAX, &v);
	cr_assert_float_eq(v, 7, 0);
	kpi_rules_aggregate(p, 3, KPI_AGG_MIN, &v);
	cr_assert_float_eq(v, -1, 0);
}

Test(kpi_rules, goals)
{
	struct kpi_rule at_least = {.cmp = KPI_CMP_BELOW, .value = 10, .agg = KPI_AGG_SUM};
	struct kpi_rule at_most = {.cmp = KPI_CMP_ABOVE, .value = 10, .agg = KPI_AGG_SUM};
	struct kpi_rule mean = {.cmp = KPI_CMP_BELOW, .value = 10, .agg = KPI_AGG_MEAN};

	/* A sum that must reach 10: reached as soon as it does. */
	cr_assert_eq(kpi_rules_goal(&at_least, 9, true, false), KPI_GOAL_OPEN);
	cr_assert_eq(kpi_rules_goal(&at_least, 10, true, false), KPI_GOAL_REACHED);
	cr_assert_eq(kpi_rules_goal(&at_least, 9, true, true), KPI_GOAL_MISSED);
	cr_assert_eq(kpi_rules_goal(&at_least, 0, false, true), KPI_GOAL_MISSED);
	/* A sum that must stay at most 10: missed as soon as it exceeds. */
	cr_assert_eq(kpi_rules_goal(&at_most, 11, true, false), KPI_GOAL_MISSED);
	cr_assert_eq(kpi_rules_goal(&at_most, 9, true, false), KPI_GOAL_OPEN);
	cr_assert_eq(kpi_rules_goal(&at_most, 9, true, true), KPI_GOAL_REACHED);
	/* Means are judged when the period is over. */
	cr_assert_eq(kpi_rules_goal(&mean, 12, true, false), KPI_GOAL_OPEN);
	cr_assert_eq(kpi_rules_goal(&mean, 12, true, true), KPI_GOAL_REACHED);
	cr_assert_eq(kpi_rules_goal(&mean, 8, true, true), KPI_GOAL_MISSED);
	cr_assert_eq(kpi_rules_goal(&mean, 0, false, true), KPI_GOAL_MISSED);
}

Test(kpi_series, downsamples_into_epoch_aligned_buckets)
{
	struct kpi_point in[] = {{3590, 1},   {3600, 2}, {3650, 4},
	                         {7199.9, 6}, {7200, 5}, {18000, 1}};
	struct kpi_point out[8];
	size_t n;

	n = kpi_series_downsample(in, 6, 3600, KPI_AGG_MEAN, out, 8);
	cr_assert_eq(n, 4); /* [0,3600) [3600,7200) [7200,10800) [18000,21600) */
	cr_assert_float_eq(out[0].t, 0, 0);
	cr_assert_float_eq(out[0].v, 1, 1e-12);
	cr_assert_float_eq(out[1].t, 3600, 0);
	cr_assert_float_eq(out[1].v, 4, 1e-12);
	cr_assert_float_eq(out[2].t, 7200, 0);
	cr_assert_float_eq(out[2].v, 5, 1e-12);
	cr_assert_float_eq(out[3].t, 18000, 0);
	n = kpi_series_downsample(in, 6, 3600, KPI_AGG_SUM, out, 8);
	cr_assert_float_eq(out[1].v, 12, 1e-12);
	n = kpi_series_downsample(in, 6, 3600, KPI_AGG_MAX, out, 2);
	cr_assert_eq(n, 2); /* cap */
	cr_assert_float_eq(out[1].v, 6, 0);
	/* No step: the samples as they are, up to cap. */
	n = kpi_series_downsample(in, 6, 0, KPI_AGG_MEAN, out, 3);
	cr_assert_eq(n, 3);
	cr_assert_float_eq(out[2].t, 3650, 0);
	cr_assert_eq(kpi_series_downsample(in, 0, 60, KPI_AGG_MEAN, out, 8), 0);
}

Test(kpi_parse, samples)
{
	struct kpi_sample s;
	char err[256];
	const char *ok = "{\"kpiId\":\"fmar.cleared_kwh\",\"value\":12.5,\"unit\":\"kWh\","
	                 "\"observedTime\":\"2020-02-27T20:30:00Z\",\"periodSeconds\":900}";

	cr_assert_eq(kpi_parse_sample(ok, strlen(ok), &s, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_str_eq(s.kpi, "fmar.cleared_kwh");
	cr_assert_float_eq(s.value, 12.5, 0);
	cr_assert_str_eq(s.unit, "kWh");
	cr_assert_float_eq(s.t, 1582835400, 0);
	cr_assert_eq(s.period_s, 900);
#define BAD(json, why)                                                                             \
	do {                                                                                       \
		cr_assert_eq(kpi_parse_sample(json, strlen(json), &s, err, sizeof(err)),           \
		             GF_EPARSE, "accepted %s", json);                                      \
		cr_assert(strstr(err, why), "'%s' for %s", err, json);                             \
	} while (0)
	BAD("{\"kpiId\":\"a b\",\"value\":1,\"observedTime\":\"2020-02-27T20:30:00Z\"}", "kpiId");
	BAD("{\"kpiId\":\"a\",\"value\":1,\"observedTime\":\"yesterday\"}", "observedTime");
	BAD("{\"kpiId\":\"a\",\"value\":1,\"unit\":\"<b>\",\"observedTime\":\"2020-02-27T20:30:"
	    "00Z\"}",
	    "unit");
	BAD("{\"kpiId\":\"a\",\"observedTime\":\"2020-02-27T20:30:00Z\"}", "value");
	BAD("[1,2]", "");
	BAD("", "");
}

Test(kpi_parse, queries)
{
	struct kpi_query q;
	char err[256];

	kpi_parse_query_init(&q, 100000);
	cr_assert_float_eq(q.from, 100000 - 86400, 0); /* a day back by default */
	cr_assert_eq(kpi_parse_query_check(&q, 100, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "kpi: required");
	cr_assert_eq(kpi_parse_query_param(&q, "kpi", "fmar.cleared_kwh", err, sizeof(err)), GF_OK);
	cr_assert_eq(kpi_parse_query_param(&q, "from", "2020-02-27T00:00:00Z", err, sizeof(err)),
	             GF_OK);
	cr_assert_float_eq(q.from, 1582761600, 0);
	cr_assert_eq(kpi_parse_query_param(&q, "to", "1582848000", err, sizeof(err)), GF_OK);
	cr_assert_eq(kpi_parse_query_param(&q, "step", "900", err, sizeof(err)), GF_OK);
	cr_assert_eq(kpi_parse_query_param(&q, "agg", "max", err, sizeof(err)), GF_OK);
	cr_assert_eq(kpi_parse_query_param(&q, "source", "site1/fmar/*", err, sizeof(err)), GF_OK);
	cr_assert(kpi_rules_match(&q.source, "site1", "fmar", "m1", "x"));
	cr_assert_not(kpi_rules_match(&q.source, "site2", "fmar", "m1", "x"));
	cr_assert_eq(kpi_parse_query_check(&q, 96, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(kpi_parse_query_check(&q, 95, err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(kpi_parse_query_param(&q, "step", "-1", err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(kpi_parse_query_param(&q, "source", "a/b", err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(kpi_parse_query_param(&q, "kpi", "", err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(kpi_parse_query_param(&q, "colour", "red", err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(kpi_parse_query_param(&q, "kpi", NULL, err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(kpi_parse_query_param(&q, "to", "1000", err, sizeof(err)), GF_OK);
	cr_assert_eq(kpi_parse_query_check(&q, 1000, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "from must be before to");
}
