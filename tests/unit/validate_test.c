/* SPDX-License-Identifier: MIT */
/*
 * Semantic validation (lib/payload/validate.c): the real pilot FlexOffers pass, and
 * each rule refuses its violation with the field path. Messages are written
 * as JSON and decoded with the codec, as the broker does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "payload/codec.h"
#include "payload/schema.h"
#include "payload/validate.h"

#define SAMPLES "../shared/fixtures/goflex-samples/"

static char err[512];

/* Decodes json as message type msg; validates; returns the result. */
static enum gf_err check(const char *msg, const char *json)
{
	const ProtobufCMessageDescriptor *d = gf_schema_find(msg, strlen(msg));
	ProtobufCMessage *m = NULL;
	enum gf_err rc;

	cr_assert_not_null(d, "no schema for %s", msg);
	rc = gf_codec_from_json(d, json, strlen(json), &m, err, sizeof(err));
	cr_assert_eq(rc, GF_OK, "%s does not decode: %s", json, err);
	err[0] = '\0';
	rc = gf_validate(m, err, sizeof(err));
	gf_codec_free(m);
	return rc;
}

static void refused(const char *msg, const char *json, const char *expect)
{
	cr_assert_eq(check(msg, json), GF_EINVAL, "accepted: %s", json);
	cr_assert_str_eq(err, expect);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

Test(validate, the_pilot_flexoffers_are_valid)
{
	static const char *const files[] = {SAMPLES "SampleFO_Cyprus.json",
	                                    SAMPLES "SampleFO_SWW.json",
	                                    SAMPLES "SampleFO_Swiss.json"};

	for (size_t i = 0; i < 3; i++) {
		char *json = slurp(files[i]);
		cr_assert_eq(check("flexoffer", json), GF_OK, "%s: %s", files[i], err);
		free(json);
	}
}

/* A small valid offer; the tests below break one thing at a time. */
#define FO_HEAD "{\"state\":\"Offered\",\"offeredById\":\"7-PRE-001\",\"creationInterval\":100,"
#define FO_SLICE                                                                                   \
	"\"flexOfferProfileConstraints\":[{\"energyConstraintList\":[{\"lower\":1,\"upper\":3}],"  \
	"\"minDuration\":1,\"maxDuration\":1}]"

Test(validate, a_minimal_offer_is_valid)
{
	cr_assert_eq(check("flexoffer", FO_HEAD
	                   "\"startAfterInterval\":101,\"startBeforeInterval\":104," FO_SLICE "}"),
	             GF_OK, "%s", err);
}

Test(validate, offer_windows_and_deadlines)
{
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":99,\"startBeforeInterval\":104," FO_SLICE "}",
	        "startAfterInterval: 99 is before creationInterval 100");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":104,\"startBeforeInterval\":101," FO_SLICE "}",
	        "startBeforeInterval: 101 is before startAfterInterval 104");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":104,"
	                "\"acceptanceBeforeInterval\":105," FO_SLICE "}",
	        "acceptanceBeforeInterval: 105 is after startBeforeInterval 104");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":104,"
	                "\"assignmentBeforeInterval\":200," FO_SLICE "}",
	        "assignmentBeforeInterval: 200 is after startBeforeInterval 104");
	refused("flexoffer", FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":104}",
	        "flexOfferProfileConstraints: an offer needs at least one slice");
}

Test(validate, slice_bounds_and_durations)
{
	refused("flexoffer",
	        FO_HEAD
	        "\"startAfterInterval\":101,\"startBeforeInterval\":101,"
	        "\"flexOfferProfileConstraints\":[{\"energyConstraintList\":[{\"lower\":1,"
	        "\"upper\":3}],\"minDuration\":1,\"maxDuration\":1},{\"energyConstraintList\":"
	        "[{\"lower\":3,\"upper\":2}],\"minDuration\":1,\"maxDuration\":1}]}",
	        "flexOfferProfileConstraints[1].energyConstraintList[0].lower: 3 > upper 2");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":101,"
	                "\"flexOfferProfileConstraints\":[{\"energyConstraintList\":[{\"lower\":1,"
	                "\"upper\":3}],\"minDuration\":2,\"maxDuration\":1}]}",
	        "flexOfferProfileConstraints[0].minDuration: 2 > maxDuration 1");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":101,"
	                "\"flexOfferProfileConstraints\":[{\"energyConstraintList\":[{\"lower\":1,"
	                "\"upper\":3}],\"minDuration\":0,\"maxDuration\":1}]}",
	        "flexOfferProfileConstraints[0].minDuration: must be positive, not 0");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":101,"
	                "\"flexOfferProfileConstraints\":[{\"energyConstraintList\":[],"
	                "\"minDuration\":1,\"maxDuration\":1}]}",
	        "flexOfferProfileConstraints[0].energyConstraintList: a slice needs an energy "
	        "constraint");
}

Test(validate, total_energy_against_the_slices)
{
	cr_assert_eq(check("flexoffer", FO_HEAD
	                   "\"startAfterInterval\":101,\"startBeforeInterval\":101," FO_SLICE
	                   ",\"totalEnergyConstraint\":{\"lower\":2,\"upper\":9}}"),
	             GF_OK, "%s", err);
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":101," FO_SLICE
	                ",\"totalEnergyConstraint\":{\"lower\":4,\"upper\":9}}",
	        "totalEnergyConstraint: [4, 9] kWh cannot be met by the slices' [1, 3]");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":101," FO_SLICE
	                ",\"totalEnergyConstraint\":{\"lower\":5,\"upper\":4}}",
	        "totalEnergyConstraint.lower: 5 > upper 4");
}

Test(validate, schedules_within_bounds_and_windows)
{
	/* interval 101 starts at 101 * 900 = 90900 s = 1970-01-02T01:15:00Z */
	cr_assert_eq(check("flexoffer", FO_HEAD
	                   "\"startAfterInterval\":101,\"startBeforeInterval\":102," FO_SLICE
	                   ",\"flexOfferSchedule\":{\"startTime\":\"1970-01-02T01:30:00Z\","
	                   "\"scheduleSlices\":[{\"duration\":1,\"energyAmount\":2.5}]}}"),
	             GF_OK, "%s", err);
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":102," FO_SLICE
	                ",\"flexOfferSchedule\":{\"startTime\":\"1970-01-02T01:45:00Z\","
	                "\"scheduleSlices\":[{\"duration\":1,\"energyAmount\":2.5}]}}",
	        "flexOfferSchedule.startTime: interval 103 is outside the start window [101, 102]");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":102," FO_SLICE
	                ",\"defaultSchedule\":{\"startTime\":\"1970-01-02T01:20:00Z\","
	                "\"scheduleSlices\":[{\"duration\":1,\"energyAmount\":2.5}]}}",
	        "defaultSchedule.startTime: not at an interval boundary");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":102," FO_SLICE
	                ",\"flexOfferSchedule\":{\"startTime\":\"1970-01-02T01:15:00Z\","
	                "\"scheduleSlices\":[{\"duration\":1,\"energyAmount\":3.5}]}}",
	        "flexOfferSchedule.scheduleSlices[0].energyAmount: 3.5 kWh is outside [1, 3]");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":102," FO_SLICE
	                ",\"flexOfferSchedule\":{\"startTime\":\"1970-01-02T01:15:00Z\","
	                "\"scheduleSlices\":[]}}",
	        "flexOfferSchedule.scheduleSlices: 0 slices for a profile of 1");
}

Test(validate, interval_numbers_and_their_time_mirrors_agree)
{
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":102,"
	                "\"startAfterTime\":\"1970-01-02T01:30:00Z\"," FO_SLICE "}",
	        "startAfterTime: does not match startAfterInterval 101 (90900 s since the epoch)");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":102,"
	                "\"endAfterInterval\":103," FO_SLICE "}",
	        "endAfterInterval: 103, but startAfterInterval + shortest profile = 102");
	refused("flexoffer",
	        FO_HEAD "\"startAfterInterval\":101,\"startBeforeInterval\":102,"
	                "\"numSecondsPerInterval\":3600," FO_SLICE "}",
	        "numSecondsPerInterval: 3600, but an interval is 900 s");
}

Test(validate, bids_need_parallel_nonempty_series)
{
	cr_assert_eq(check("bid", "{\"bidId\":\"b1\",\"gridPointId\":\"t1\",\"intervalLength\":900,"
	                          "\"scheduleChange\":[1,2],\"energyPrice\":[0.1,0.2]}"),
	             GF_OK, "%s", err);
	refused("bid",
	        "{\"bidId\":\"b1\",\"gridPointId\":\"t1\",\"intervalLength\":900,"
	        "\"scheduleChange\":[1,2],\"energyPrice\":[0.1]}",
	        "energyPrice: 1 values, but scheduleChange has 2");
	refused("bid", "{\"bidId\":\"b1\",\"gridPointId\":\"t1\",\"intervalLength\":900}",
	        "scheduleChange: must not be empty");
	refused("bid",
	        "{\"bidId\":\"b1\",\"gridPointId\":\"t1\",\"intervalLength\":0,"
	        "\"scheduleChange\":[1],\"energyPrice\":[0.1]}",
	        "intervalLength: must be positive, not 0");
}

/* The actual energy of a validation is the prefix of intervals that are
 * over: shorter than the forecast, never longer (meter.proto). */
Test(validate, validation_actual_at_most_the_forecast)
{
	cr_assert_eq(check("validation.query.result",
	                   "{\"status\":{\"code\":\"ok\"},\"validation\":{\"deviceId\":\"m\","
	                   "\"startTime\":\"2020-01-01T00:00:00Z\",\"intervalLength\":900,"
	                   "\"forecastEnergy\":[1,2,3],\"actualEnergy\":[1]}}"),
	             GF_OK, "%s", err);
	refused("validation.data",
	        "{\"deviceId\":\"m\",\"startTime\":\"2020-01-01T00:00:00Z\",\"intervalLength\":"
	        "900,\"forecastEnergy\":[1],\"actualEnergy\":[1,2]}",
	        "actualEnergy: 2 values, but forecastEnergy has only 1");
}

/* An Executed ack's series describe the same intervals. */
Test(validate, execution_series_parallel)
{
	cr_assert_eq(
	    check("flexoffer.ack",
	          "{\"flexOfferId\":\"p-1\",\"accepted\":true,\"state\":\"Executed\","
	          "\"execution\":{\"startTime\":\"2020-01-01T00:00:00Z\","
	          "\"intervalLength\":900,\"requestedEnergy\":[-1,-1],"
	          "\"deliveredEnergy\":[-1,-0.5],\"energyPrice\":[0.1,0.1],\"gain\":-0.1}}"),
	    GF_OK, "%s", err);
	refused("flexoffer.ack",
	        "{\"flexOfferId\":\"p-1\",\"accepted\":true,\"state\":\"Executed\","
	        "\"execution\":{\"startTime\":\"2020-01-01T00:00:00Z\",\"intervalLength\":900,"
	        "\"requestedEnergy\":[-1,-1],\"deliveredEnergy\":[-1]}}",
	        "execution.deliveredEnergy: 1 values, but requestedEnergy has 2");
}

Test(validate, numbers_must_be_finite)
{
	refused("bid",
	        "{\"bidId\":\"b1\",\"gridPointId\":\"t1\",\"intervalLength\":900,"
	        "\"scheduleChange\":[1,\"NaN\"],\"energyPrice\":[0.1,0.2]}",
	        "scheduleChange[1]: not a finite number");
}

Test(validate, queries_need_a_time_range_forward)
{
	refused("meter.query",
	        "{\"fromTime\":\"2020-01-02T00:00:00Z\",\"toTime\":\"2020-01-01T00:00:00Z\"}",
	        "toTime: is not after fromTime");
	cr_assert_eq(check("meter.query", "{\"fromTime\":\"2020-01-01T00:00:00Z\","
	                                  "\"toTime\":\"2020-01-02T00:00:00Z\"}"),
	             GF_OK, "%s", err);
}

Test(validate, weather_in_physical_ranges)
{
	refused("weather.forecast",
	        "{\"location\":{\"latitude\":35.1},\"startTime\":\"2020-01-01T00:00:00Z\","
	        "\"intervalLength\":3600,\"temperature\":[10,11],\"relativeHumidity\":[50,101]}",
	        "relativeHumidity[1]: 101 is outside 0..100");
	refused("weather.forecast",
	        "{\"location\":{\"latitude\":95},\"startTime\":\"2020-01-01T00:00:00Z\","
	        "\"intervalLength\":3600,\"temperature\":[10]}",
	        "location.latitude: 95 is outside -90..90");
	refused("weather.forecast",
	        "{\"location\":{},\"startTime\":\"2020-01-01T00:00:00Z\",\"intervalLength\":3600}",
	        ": a weather series needs at least one quantity");
}

Test(validate, meter_readings_at_least_one)
{
	refused("meter.reading", "{\"readings\":[]}", "readings: must not be empty");
	cr_assert_eq(check("meter.reading",
	                   "{\"readings\":[{\"observedTimestamp\":"
	                   "\"2020-01-01T00:15:00Z\",\"deviceId\":\"1\",\"value\":1.5}]}"),
	             GF_OK, "%s", err);
}

/* Found by tests/fuzz/payload_fuzz.c: interval * 900 overflowed int64. */
Test(validate, interval_numbers_beyond_year_9999_are_refused)
{
	refused(
	    "flexoffer",
	    "{\"offeredById\":\"x\",\"state\":\"Initial\",\"creationInterval\":10248191152060863,"
	    "\"creationTime\":\"2020-02-27T20:00:00Z\",\"startAfterInterval\":1,"
	    "\"startBeforeInterval\":1}",
	    "creationInterval: 10248191152060863 is after the year 9999");
}
