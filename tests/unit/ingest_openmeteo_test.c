/* SPDX-License-Identifier: MIT */
/*
 * gf-ingest's Open-Meteo reader (agents/gf-ingest/openmeteo.h) on the
 * recorded document of tests/integration/ingest/ and on small documents:
 * units, null gaps, the preceding-period variables, runs, refusals.
 * Run from the repository's top directory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "base/file.h"
#include "leak_check.h"
#include "openmeteo.h"
#include "util.h"

TestSuite(openmeteo, .fini = leak_check);

static enum gf_err parse(const char *json, struct ingest_om *m, char *err, size_t errlen)
{
	return ingest_openmeteo_parse(json, strlen(json), m, err, errlen);
}

static int64_t at(const char *s)
{
	int64_t ms = 0;

	cr_assert_eq(ingest_util_time(s, strlen(s), &ms), GF_OK, "%s", s);
	return ms;
}

Test(openmeteo, recorded_document_hourly_and_15_minutes)
{
	char err[512] = "", *buf = NULL;
	size_t len = 0;
	struct ingest_om m;
	const struct ingest_om_block *h, *q;
	struct ingest_om_run runs[8];

	cr_assert_eq(gf_file_read("tests/integration/ingest/openmeteo_lugano.json", 1 << 20, &buf,
	                          &len, err, sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert_eq(ingest_openmeteo_parse(buf, len, &m, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(m.nblocks, 2);
	h = &m.block[0];
	q = &m.block[1];
	cr_assert_eq(h->interval_s, 3600);
	cr_assert_eq(h->n, 48);
	cr_assert_eq(h->start_ms, at("2024-01-14T00:00:00Z"));
	cr_assert_eq(q->interval_s, 900);
	cr_assert_eq(q->n, 96);
	cr_assert_eq(q->start_ms, at("2024-01-15T00:00:00Z"));
	for (int v = 0; v < INGEST_OM_NVARS; v++)
		cr_assert_not_null(h->v[v], "hourly variable %d", v);
	cr_assert_null(q->v[INGEST_OM_PRESSURE]);
	/* km/h -> m/s: 7.2 km/h is 2 m/s. */
	cr_assert_float_eq(h->v[INGEST_OM_WIND_SPEED][0], 2.0, 1e-9);
	/* The null at hour 30 is a gap. */
	cr_assert(isnan(h->v[INGEST_OM_TEMPERATURE][30]));
	cr_assert_not(isnan(h->v[INGEST_OM_TEMPERATURE][29]));
	/* Precipitation of the hour before 21:00 (0.4 mm at time 20) is
	 * interval 19's; the last interval has no preceding-hour values. */
	cr_assert_float_eq(h->v[INGEST_OM_PRECIP][19], 0.4, 1e-12);
	cr_assert_float_eq(h->v[INGEST_OM_PRECIP][20], 1.2, 1e-12);
	cr_assert(isnan(h->v[INGEST_OM_GHI][47]));
	/* Runs: [0,30) all, [30] without temperature, [31,47) all, [47]
	 * without the preceding-hour variables. */
	cr_assert_eq(ingest_openmeteo_runs(h, 0, h->n, runs, 8), 4);
	cr_assert_eq(runs[0].from, 0);
	cr_assert_eq(runs[0].to, 30);
	cr_assert_eq(runs[0].vars, (1u << INGEST_OM_NVARS) - 1);
	cr_assert_eq(runs[1].vars & (1u << INGEST_OM_TEMPERATURE), 0);
	cr_assert_eq(runs[2].from, 31);
	cr_assert_eq(runs[3].from, 47);
	cr_assert_eq(runs[3].vars & (1u << INGEST_OM_GHI), 0);
	/* The 15-minute block ends with 8 nulls of both its variables. */
	cr_assert_eq(ingest_openmeteo_runs(q, 0, q->n, runs, 8), 2);
	cr_assert_eq(runs[0].to, 87); /* irradiance of [87, 88) is the null at 88 */
	cr_assert_eq(runs[1].from, 87);
	cr_assert_eq(runs[1].to, 88);
	ingest_openmeteo_free(&m);
	free(buf);
}

Test(openmeteo, other_units_are_converted)
{
	struct ingest_om m;
	char err[512] = "";

	cr_assert_eq(parse("{\"hourly_units\":{\"temperature_2m\":\"°F\",\"windspeed_10m\":\"kn\","
	                   "\"precipitation\":\"inch\"},"
	                   "\"hourly\":{\"time\":[1705276800,1705280400],"
	                   "\"temperature_2m\":[32,212],\"windspeed_10m\":[1,null],"
	                   "\"precipitation\":[0,0.1]}}",
	                   &m, err, sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert_eq(m.block[0].start_ms, 1705276800000LL);
	cr_assert_float_eq(m.block[0].v[INGEST_OM_TEMPERATURE][0], 0.0, 1e-9);
	cr_assert_float_eq(m.block[0].v[INGEST_OM_TEMPERATURE][1], 100.0, 1e-9);
	cr_assert_float_eq(m.block[0].v[INGEST_OM_WIND_SPEED][0], 1852.0 / 3600.0, 1e-9);
	cr_assert(isnan(m.block[0].v[INGEST_OM_WIND_SPEED][1]));
	cr_assert_float_eq(m.block[0].v[INGEST_OM_PRECIP][0], 2.54, 1e-9);
	ingest_openmeteo_free(&m);
}

Test(openmeteo, local_times_with_an_offset_become_utc)
{
	struct ingest_om m;
	char err[512] = "";

	cr_assert_eq(
	    parse("{\"utc_offset_seconds\":3600,\"hourly_units\":{\"pressure_msl\":\"hPa\"},"
	          "\"hourly\":{\"time\":[\"2024-01-15T01:00\"],\"pressure_msl\":[1000]}}",
	          &m, err, sizeof(err)),
	    GF_OK, "%s", err);
	cr_assert_eq(m.block[0].start_ms, at("2024-01-15T00:00:00Z"));
	ingest_openmeteo_free(&m);
}

Test(openmeteo, values_out_of_the_bus_ranges_become_gaps)
{
	struct ingest_om m;
	char err[512] = "";

	cr_assert_eq(parse("{\"hourly_units\":{\"relative_humidity_2m\":\"%\"},"
	                   "\"hourly\":{\"time\":[\"2024-01-15T00:00\",\"2024-01-15T01:00\"],"
	                   "\"relative_humidity_2m\":[101,50]}}",
	                   &m, err, sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert_eq(m.block[0].refused, 1);
	cr_assert(isnan(m.block[0].v[INGEST_OM_HUMIDITY][0]));
	cr_assert_float_eq(m.block[0].v[INGEST_OM_HUMIDITY][1], 50.0, 1e-12);
	ingest_openmeteo_free(&m);
}

Test(openmeteo, bad_documents_are_refused_with_a_reason)
{
	static const struct {
		const char *json, *reason;
	} cases[] = {
	    {"[1]", "not a JSON object"},
	    {"{\"hourly\":", "not a JSON object"},
	    {"{\"error\":true,\"reason\":\"Latitude must be in range\"}", "Latitude must be"},
	    {"{\"latitude\":1}", "neither an hourly"},
	    {"{\"hourly\":{\"time\":[\"2024-01-15T00:00\"],\"temperature_2m\":[1]}}",
	     "hourly_units"},
	    {"{\"hourly_units\":{\"temperature_2m\":\"K\"},\"hourly\":{\"time\":[\"2024-01-15T00:"
	     "00\"],"
	     "\"temperature_2m\":[1]}}",
	     "unit K"},
	    {"{\"hourly_units\":{},\"hourly\":{\"time\":[\"2024-01-15T00:00\"],\"temperature_2m\":["
	     "1]}}",
	     "no unit"},
	    {"{\"hourly_units\":{\"temperature_2m\":\"°C\"},\"hourly\":{\"time\":[\"2024-01-15T00:"
	     "00\","
	     "\"2024-01-15T02:00\"],\"temperature_2m\":[1,2]}}",
	     "not 3600 s after"},
	    {"{\"hourly_units\":{\"temperature_2m\":\"°C\"},\"hourly\":{\"time\":[\"2024-01-15T00:"
	     "00\"],"
	     "\"temperature_2m\":[1,2]}}",
	     "not an array of 1"},
	    {"{\"hourly_units\":{\"temperature_2m\":\"°C\"},\"hourly\":{\"time\":[\"2024-01-15T00:"
	     "00\"],"
	     "\"temperature_2m\":[\"warm\"]}}",
	     "neither a number nor null"},
	    {"{\"hourly_units\":{},\"hourly\":{\"time\":[\"yesterday\"]}}", "not a time"},
	    {"{\"hourly_units\":{},\"hourly\":{\"time\":[\"2024-01-15T00:00\"],\"snow\":[1]}}",
	     "none of the variables"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ingest_om m;
		char err[512] = "";

		cr_assert_neq(parse(cases[i].json, &m, err, sizeof(err)), GF_OK, "case %zu", i);
		cr_assert(strstr(err, cases[i].reason), "case %zu: %s", i, err);
		cr_assert_eq(m.nblocks, 0);
	}
}

Test(openmeteo, runs_skip_intervals_without_values)
{
	double t[5] = {1, NAN, NAN, 2, 3};
	struct ingest_om_block b = {.interval_s = 3600, .n = 5};
	struct ingest_om_run r[4];

	b.v[INGEST_OM_TEMPERATURE] = t;
	cr_assert_eq(ingest_openmeteo_runs(&b, 0, 5, r, 4), 2);
	cr_assert_eq(r[0].from, 0);
	cr_assert_eq(r[0].to, 1);
	cr_assert_eq(r[1].from, 3);
	cr_assert_eq(r[1].to, 5);
	/* A window, and a max smaller than the count. */
	cr_assert_eq(ingest_openmeteo_runs(&b, 4, 5, r, 4), 1);
	cr_assert_eq(r[0].from, 4);
	cr_assert_eq(ingest_openmeteo_runs(&b, 0, 5, r, 1), 2);
}
