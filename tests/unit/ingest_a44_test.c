/* SPDX-License-Identifier: MIT */
/*
 * gf-ingest's A44 reader (agents/gf-ingest/a44.h) on the recorded
 * documents of tests/integration/ingest/ (written from the documented
 * format: docs/ingest.md) and on small documents that must be refused.
 * Run from the repository's top directory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "a44.h"
#include "base/file.h"
#include "leak_check.h"
#include "base/timefmt.h"
#include "util.h"

TestSuite(a44, .fini = leak_check);

#define DIR "tests/integration/ingest/"

/* The prices (EUR/MWh) the CH fixture was written from: A03, positions 2,
 * 3, 6, 7 and 24 omitted because they repeat the one before. */
static const double ch_day[24] = {80.0,  80.0,  80.0,  75.5,  70.25, 70.25, 70.25, 88.0,
                                  102.4, 110.0, 98.7,  91.0,  85.3,  79.9,  81.2,  90.0,
                                  115.6, 130.1, 125.0, 110.2, 99.0,  92.5,  86.0,  86.0};

static void load(const char *name, struct ingest_a44 *d)
{
	char path[256], err[512] = "", *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), DIR "%s", name);
	cr_assert_eq(gf_file_read(path, 1 << 24, &buf, &len, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(ingest_a44_parse(buf, len, d, err, sizeof(err)), GF_OK, "%s: %s", name, err);
	free(buf);
}

static enum gf_err parse_text(const char *xml, struct ingest_a44 *d, char *err, size_t errlen)
{
	return ingest_a44_parse(xml, strlen(xml), d, err, errlen);
}

static int64_t at(const char *s)
{
	int64_t ms = 0;

	cr_assert_eq(ingest_util_time(s, strlen(s), &ms), GF_OK, "%s", s);
	return ms;
}

Test(a44, a03_fills_omitted_positions_and_converts_to_eur_per_kwh)
{
	struct ingest_a44 d;

	load("a44_ch_a03_pt60m.xml", &d);
	cr_assert_not(d.no_data);
	cr_assert_eq(d.revision, 1);
	cr_assert_eq(d.created_ms, at("2024-01-14T12:42:11Z"));
	cr_assert_eq(d.n, 1);
	cr_assert(d.periods[0].a03);
	cr_assert_eq(d.periods[0].resolution_s, 3600);
	cr_assert_eq(d.periods[0].start_ms, at("2024-01-14T23:00:00Z"));
	cr_assert_eq(d.periods[0].n, 24);
	cr_assert_eq(d.periods[0].sequence, 1);
	cr_assert_str_eq(d.periods[0].area, "10YCH-SWISSGRIDZ");
	for (size_t i = 0; i < 24; i++)
		cr_assert_float_eq(d.periods[0].price[i], ch_day[i] / 1000.0, 1e-12, "hour %zu", i);
	ingest_a44_free(&d);
}

Test(a44, a01_with_a_missing_position_is_refused)
{
	struct ingest_a44 d;
	char buf[512];
	char *xml = NULL;
	size_t len = 0;

	cr_assert_eq(
	    gf_file_read(DIR "a44_ch_a03_pt60m.xml", 1 << 20, &xml, &len, buf, sizeof(buf)), GF_OK);
	/* The same Points under curve A01: position 2 is missing. */
	memcpy(strstr(xml, "<curveType>A03") + strlen("<curveType>"), "A01", 3);
	cr_assert_eq(ingest_a44_parse(xml, len, &d, buf, sizeof(buf)), GF_EPARSE);
	cr_assert(strstr(buf, "position 2 is missing"), "%s", buf);
	cr_assert_eq(d.n, 0);
	free(xml);
}

Test(a44, pt15m_spring_day_has_92_quarter_hours_and_sequences_are_selected)
{
	struct ingest_a44 d;
	double first1, first2;

	load("a44_de_pt15m_dst_spring.xml", &d);
	cr_assert_eq(d.n, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert_eq(d.periods[i].resolution_s, 900);
		cr_assert_eq(d.periods[i].n, 92);
		cr_assert_eq(d.periods[i].end_ms - d.periods[i].start_ms, 23LL * 3600 * 1000);
	}
	cr_assert_eq(d.periods[0].sequence, 1);
	cr_assert_eq(d.periods[1].sequence, 2);
	first1 = d.periods[0].price[0];
	first2 = d.periods[1].price[0];
	cr_assert_float_eq(first2 - first1, 0.003, 1e-9); /* EXAA written 3 EUR/MWh above */
	cr_assert_eq(ingest_a44_select(&d, "10Y1001A1001A82H", 2, 0), 1);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.periods[0].sequence, 2);
	cr_assert_float_eq(d.periods[0].price[0], first2, 1e-12);
	ingest_a44_free(&d);
}

Test(a44, autumn_day_has_100_quarter_hours_filled_by_a03)
{
	struct ingest_a44 d;

	load("a44_de_pt15m_dst_autumn.xml", &d);
	cr_assert_eq(d.n, 1);
	cr_assert_eq(d.periods[0].n, 100);
	cr_assert(d.periods[0].a03);
	/* Written as steps of 5 EUR/MWh every 8 quarter hours, only the
	 * first of each step given. */
	for (size_t i = 0; i < 100; i++)
		cr_assert_float_eq(d.periods[0].price[i], (40.0 + (double)(i / 8) * 5.0) / 1000.0,
		                   1e-12, "quarter %zu", i);
	ingest_a44_free(&d);
}

Test(a44, several_timeseries_keep_one_period_per_interval)
{
	struct ingest_a44 d;

	load("a44_ch_multi.xml", &d);
	cr_assert_eq(d.n, 3);
	/* Day 1 comes hourly and quarter-hourly: the finest is kept. */
	cr_assert_eq(ingest_a44_select(&d, "10YCH-SWISSGRIDZ", 1, 0), 1);
	cr_assert_eq(d.n, 2);
	cr_assert_lt(d.periods[0].start_ms, d.periods[1].start_ms);
	cr_assert_eq(d.periods[0].resolution_s, 900);
	cr_assert_eq(d.periods[0].n, 96);
	cr_assert_eq(d.periods[1].resolution_s, 3600);
	cr_assert_float_eq(d.periods[1].price[23], (60.0 + 1.5 * 23) / 1000.0, 1e-12);
	ingest_a44_free(&d);

	/* Asked for hourly: both days hourly. */
	load("a44_ch_multi.xml", &d);
	cr_assert_eq(ingest_a44_select(&d, NULL, 0, 3600), 1);
	cr_assert_eq(d.n, 2);
	cr_assert_eq(d.periods[0].resolution_s, 3600);
	cr_assert_float_eq(d.periods[0].price[9], ch_day[9] / 1000.0, 1e-12);
	ingest_a44_free(&d);

	/* Another area: nothing. */
	load("a44_ch_multi.xml", &d);
	cr_assert_eq(ingest_a44_select(&d, "10YAT-APG------L", 1, 0), 3);
	cr_assert_eq(d.n, 0);
	ingest_a44_free(&d);
}

Test(a44, a_newer_revision_replaces_an_older_never)
{
	struct ingest_a44 r1, r2;

	load("a44_ch_a03_pt60m.xml", &r1);
	load("a44_ch_a03_pt60m_rev2.xml", &r2);
	cr_assert_eq(r2.revision, 2);
	cr_assert_float_eq(r2.periods[0].price[9], 0.1115, 1e-12);
	cr_assert(ingest_a44_supersedes(1, 7, 2, 8));
	cr_assert(ingest_a44_supersedes(1, 7, 2, 7)); /* newer, even if equal */
	cr_assert_not(ingest_a44_supersedes(2, 8, 1, 7));
	cr_assert_not(ingest_a44_supersedes(2, 8, 2, 8));
	cr_assert(ingest_a44_supersedes(2, 8, 2, 9)); /* same revision, new content */
	ingest_a44_free(&r1);
	ingest_a44_free(&r2);
}

Test(a44, acknowledgement_means_no_data_with_its_reason)
{
	struct ingest_a44 d;

	load("a44_ack.xml", &d);
	cr_assert(d.no_data);
	cr_assert_eq(d.n, 0);
	cr_assert(strncmp(d.reason, "999 No matching data found", 26) == 0, "%s", d.reason);
	ingest_a44_free(&d);
}

#define HEAD                                                                                       \
	"<Publication_MarketDocument xmlns=\"urn:x\"><type>A44</type>"                             \
	"<TimeSeries><in_Domain.mRID>X</in_Domain.mRID>"
#define UNITS                                                                                      \
	"<currency_Unit.name>EUR</currency_Unit.name><price_Measure_Unit.name>MWH</"               \
	"price_Measure_Unit.name>"
#define PERIOD(res, points)                                                                        \
	"<Period><timeInterval><start>2024-01-01T00:00Z</start><end>2024-01-01T02:00Z</end>"       \
	"</timeInterval><resolution>" res "</resolution>" points "</Period></TimeSeries>"          \
	"</Publication_MarketDocument>"
#define PT(pos, price)                                                                             \
	"<Point><position>" pos "</position><price.amount>" price "</price.amount></Point>"

Test(a44, bad_documents_are_refused_with_a_reason)
{
	static const struct {
		const char *xml, *reason;
	} cases[] = {
	    {"<a", "not well-formed"},
	    {"<Other/>", "root element is Other"},
	    {"<Publication_MarketDocument><type>A65</type></Publication_MarketDocument>",
	     "only A44"},
	    {HEAD "<currency_Unit.name>CHF</currency_Unit.name>" PERIOD("PT60M", PT("1", "1")),
	     "not EUR"},
	    {HEAD UNITS PERIOD("PT7X", PT("1", "1")), "resolution"},
	    {HEAD UNITS PERIOD("PT50M", PT("1", "1")), "whole number"},
	    {HEAD UNITS PERIOD("PT60M", PT("1", "1") PT("3", "2")), "position"},
	    {HEAD UNITS PERIOD("PT60M", PT("1", "1") PT("1", "2")), "given twice"},
	    {HEAD UNITS PERIOD("PT60M", PT("1", "nan") PT("2", "2")), "not a price"},
	    {HEAD UNITS PERIOD("PT60M", PT("1", "1e9") PT("2", "2")), "not a price"},
	    {HEAD UNITS "<curveType>A05</curveType>" PERIOD("PT60M", PT("1", "1")),
	     "only A01 and A03"},
	    {"<!DOCTYPE d [<!ENTITY x \"y\">]><Publication_MarketDocument><type>A44</type>"
	     "</Publication_MarketDocument>",
	     "DTD"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ingest_a44 d;
		char err[512] = "";

		cr_assert_neq(parse_text(cases[i].xml, &d, err, sizeof(err)), GF_OK, "case %zu", i);
		cr_assert(strstr(err, cases[i].reason), "case %zu: %s", i, err);
		cr_assert_eq(d.n, 0);
		cr_assert_null(d.periods);
	}
}

Test(a44, a_good_small_document_parses)
{
	struct ingest_a44 d;
	char err[512] = "";

	cr_assert_eq(parse_text(HEAD UNITS PERIOD("PT60M", PT("1", "-5.5") PT("2", "12")), &d, err,
	                        sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert_eq(d.n, 1);
	cr_assert_float_eq(d.periods[0].price[0], -0.0055, 1e-12);
	cr_assert_eq(d.periods[0].sequence, 0);
	ingest_a44_free(&d);
}

Test(a44, the_token_is_redacted_from_logged_text)
{
	char out[256];

	ingest_util_redact("https://h/api?documentType=A44&securityToken=abc-123&x=1", "abc-123",
	                   out, sizeof(out));
	cr_assert_str_eq(out, "https://h/api?documentType=A44&securityToken=***&x=1");
	ingest_util_redact("curl said abc-123 twice: abc-123", "abc-123", out, sizeof(out));
	cr_assert_null(strstr(out, "abc-123"), "%s", out);
	ingest_util_redact("securityToken=zzz", NULL, out, 10);
	cr_assert_null(strstr(out, "zzz"), "%s", out);
}
