/* SPDX-License-Identifier: MIT */
/*
 * Codec benchmark (issue 3): a FlexOffer of 24 slices (msg flexoffer, the real
 * schema goflex.FlexOffer) decoded and validated (gf_validate, the broker's
 * checks) and encoded in each encoding, as ratios against cJSON's bare parse
 * of the same JSON text measured in the same run: the floor any JSON path
 * pays. Two texts of one offer: the GOFLEX FlexOffer Manager form
 * (pretty-printed, +0000 offsets, nulls) and the codec's canonical JSON
 * (compact, UTC times; what gf_codec_to_json emits). Prints time and rate per
 * operation, then the goals' ratios; asserts nothing (exit 1 only if the
 * offer does not decode or validate).
 *
 *   codec_bench [iterations]   (default 4000; each figure the best of 5 runs)
 *
 * Goals (issue 3): JSON decode+validate within 2x of the bare cJSON parse;
 * protobuf decode+validate at least 5x faster than JSON decode+validate.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "payload/codec.h"
#include "flexoffer.pb-c.h"
#include "payload/schema.h"
#include "payload/validate.h"

#define SLICES 24

static const ProtobufCMessageDescriptor *flex;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * A FlexOffer of `slices` one-interval slices with a default schedule, valid
 * under gf_validate: created 2020-02-27T20:15Z (interval 1758705), start
 * window 20:30..21:30 (1758706..1758710), every *Time mirroring its
 * *Interval. goflex: the FMAN's form (tabs and newlines, ".000+0000"
 * offsets, null fields); else compact with "Z" times.
 */
static char *flexoffer_json(int slices, bool goflex)
{
	size_t cap = 4096 + (size_t)slices * 400, o = 0;
	char *s = malloc(cap);
	const char *t = goflex ? ".000+0000" : "Z";
	const char *nl = goflex ? "\n\t" : "";
	const char *null = goflex ? "null" : NULL;

	if (s == NULL)
		abort();
	o += (size_t)snprintf(s + o, cap - o, "{%s", nl);
	if (null)
		o += (size_t)snprintf(s + o, cap - o, "\"id\": null,%s", nl);
	o += (size_t)snprintf(s + o, cap - o,
	                      "\"label\": \"Trading FlexOffer: 2020-02-27 21:30:00\",%s\"state\": "
	                      "\"Offered\",%s",
	                      nl, nl);
	if (null)
		o += (size_t)snprintf(s + o, cap - o, "\"stateReason\": null,%s", nl);
	o += (size_t)snprintf(
	    s + o, cap - o,
	    "\"creationInterval\": 1758705,%s\"offeredById\": \"7500001\",%s\"locationId\": {},"
	    "%s\"acceptanceBeforeInterval\": 1758706,%s\"assignmentBeforeInterval\": "
	    "1758706,%s\"startAfterInterval\": 1758706,%s\"startBeforeInterval\": "
	    "1758710,%s\"assignment\": \"obligatory\",%s"
	    "\"flexOfferProfileConstraints\": [",
	    nl, nl, nl, nl, nl, nl, nl, nl);
	for (int i = 0; i < slices; i++)
		o += (size_t)snprintf(
		    s + o, cap - o,
		    "%s%s\t{\"energyConstraintList\": [{\"lower\": %.4f, \"upper\": "
		    "%.17g}], \"tariffConstraint\": {\"minTariff\": -0.05, "
		    "\"maxTariff\": %.17g}, \"minDuration\": 1, \"maxDuration\": 1}",
		    i ? "," : "", nl, 0.1 * i, 0.5354 + i / 7.0, 0.3441725812476 + i / 3.0);
	o += (size_t)snprintf(s + o, cap - o, "],%s", nl);
	if (null)
		o += (size_t)snprintf(s + o, cap - o, "\"flexOfferTariffConstraint\": null,%s", nl);
	o += (size_t)snprintf(s + o, cap - o,
	                      "\"defaultSchedule\": {\"scheduleId\": 0, \"updateId\": 0, "
	                      "\"scheduleSlices\": [");
	/* Within each slice's bounds, 36.7 kWh in all (totalEnergyConstraint: 0..40). */
	for (int i = 0; i < slices; i++)
		o += (size_t)snprintf(
		    s + o, cap - o,
		    "%s{\"duration\": 1, \"energyAmount\": %.17g, \"tariff\": %.3f}", i ? ", " : "",
		    0.25 + i / 9.0, 0.01 * i);
	o += (size_t)snprintf(s + o, cap - o, "], \"startTime\": \"2020-02-27T20:30:00%s\"},%s", t,
	                      nl);
	if (null)
		o += (size_t)snprintf(s + o, cap - o, "\"flexOfferSchedule\": null,%s", nl);
	o += (size_t)snprintf(
	    s + o, cap - o,
	    "\"creationTime\": \"2020-02-27T20:15:00%s\",%s\"startAfterTime\": "
	    "\"2020-02-27T20:30:00%s\",%s\"startBeforeTime\": \"2020-02-27T21:30:00%s\","
	    "%s\"assignmentBeforeTime\": \"2020-02-27T20:30:00%s\",%s\"endBeforeInterval\": "
	    "%d,%s\"numSecondsPerInterval\": 900,%s\"acceptanceBeforeTime\": "
	    "\"2020-02-27T20:30:00%s\",%s\"endAfterInterval\": %d,%s\"endAfterTime\": "
	    "\"2020-02-28T02:30:00%s\",%s\"endBeforeTime\": \"2020-02-28T03:30:00%s\",%s"
	    "\"totalEnergyConstraint\": {\"lower\": 0, \"upper\": 40}\n}\n",
	    t, nl, t, nl, t, nl, t, nl, 1758710 + slices, nl, nl, t, nl, 1758706 + slices, nl, t,
	    nl, t, nl);
	return s;
}

/* Runs body iters times, best of five rounds: seconds per call. */
#define BENCH(result, iters, body)                                                                 \
	do {                                                                                       \
		double best = 1e9;                                                                 \
		for (int round = 0; round < 5; round++) {                                          \
			double t0 = now();                                                         \
			for (long it = 0; it < (iters); it++) {                                    \
				body;                                                              \
			}                                                                          \
			double dt = (now() - t0) / (double)(iters);                                \
			if (dt < best)                                                             \
				best = dt;                                                         \
		}                                                                                  \
		(result) = best;                                                                   \
	} while (0)

/* Decodes with d and validates; aborts on failure (the text was checked once). */
static void decode_validate(enum gf_codec_format f, const void *data, size_t len)
{
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *m;

	if (gf_codec_decode(f, flex, data, len, &m, err, sizeof(err)) != GF_OK ||
	    gf_validate(m, err, sizeof(err)) != GF_OK)
		abort();
	gf_codec_free(m);
}

static void line(const char *what, double t, double base, const char *note)
{
	printf("  %-40s %8.2f %9.0f %7.2fx%s\n", what, t * 1e6, 1.0 / t, t / base, note);
}

static void run(const char *title, const char *json, long iters)
{
	size_t jlen = strlen(json), pblen, mplen, outlen;
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *m, *tmp;
	uint8_t *pb, *mp;
	char *out;
	double t_cjson, t_cjson_print, t_json, t_json_dec, t_val, t_pb, t_pb_raw, t_mp, t_enc_json,
	    t_enc_pb, t_enc_mp;
	cJSON *cj;

	if (gf_codec_from_json(flex, json, jlen, &m, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "codec_bench: bench document refused: %s\n", err);
		exit(1);
	}
	if (gf_validate(m, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "codec_bench: bench document invalid: %s\n", err);
		exit(1);
	}
	if (gf_codec_to_protobuf(m, &pb, &pblen) != GF_OK ||
	    gf_codec_to_msgpack(m, &mp, &mplen) != GF_OK) {
		fprintf(stderr, "codec_bench: cannot encode the bench document\n");
		exit(1);
	}

	BENCH(t_cjson, iters, cJSON_Delete(cJSON_ParseWithLength(json, jlen)));
	cj = cJSON_ParseWithLength(json, jlen);
	BENCH(t_cjson_print, iters, free(cJSON_PrintUnformatted(cj)));
	cJSON_Delete(cj);
	BENCH(t_json_dec, iters, {
		if (gf_codec_from_json(flex, json, jlen, &tmp, err, sizeof(err)) != GF_OK)
			abort();
		gf_codec_free(tmp);
	});
	BENCH(t_val, iters, {
		if (gf_validate(m, err, sizeof(err)) != GF_OK)
			abort();
	});
	BENCH(t_json, iters, decode_validate(GF_CODEC_JSON, json, jlen));
	BENCH(t_pb, iters, decode_validate(GF_CODEC_PROTOBUF, pb, pblen));
	BENCH(t_pb_raw, iters,
	      protobuf_c_message_free_unpacked(protobuf_c_message_unpack(flex, NULL, pblen, pb),
	                                       NULL));
	BENCH(t_mp, iters, decode_validate(GF_CODEC_MSGPACK, mp, mplen));
	BENCH(t_enc_json, iters, {
		gf_codec_to_json(m, &out, &outlen);
		free(out);
	});
	BENCH(t_enc_pb, iters, {
		uint8_t *b;
		gf_codec_to_protobuf(m, &b, &outlen);
		free(b);
	});
	BENCH(t_enc_mp, iters, {
		uint8_t *b;
		gf_codec_to_msgpack(m, &b, &outlen);
		free(b);
	});

	printf("%s: JSON %zu bytes, protobuf %zu, msgpack %zu\n", title, jlen, pblen, mplen);
	printf("  %-40s %8s %9s %8s\n", "operation", "us/op", "op/s", "/ cJSON");
	line("cJSON parse (ParseWithLength+Delete)", t_cjson, t_cjson, " (baseline)");
	line("json decode+validate", t_json, t_cjson, "");
	line("  json decode alone", t_json_dec, t_cjson, "");
	line("  validate alone (gf_validate)", t_val, t_cjson, "");
	line("protobuf decode+validate", t_pb, t_cjson, "");
	line("  protobuf-c unpack alone (reference)", t_pb_raw, t_cjson, "");
	line("msgpack decode+validate", t_mp, t_cjson, "");
	line("json encode", t_enc_json, t_cjson, "");
	line("  cJSON_PrintUnformatted (reference)", t_cjson_print, t_cjson, "");
	line("protobuf encode", t_enc_pb, t_cjson, "");
	line("msgpack encode", t_enc_mp, t_cjson, "");
	printf("  json decode+validate / cJSON parse = %.2fx (goal <= 2x)\n", t_json / t_cjson);
	printf("  protobuf decode+validate: %.1fx faster than the JSON path (goal >= 5x)\n",
	       t_json / t_pb);
	printf("  msgpack decode+validate: %.1fx faster than the JSON path\n", t_json / t_mp);
	free(pb);
	free(mp);
	gf_codec_free(m);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 4000;
	char *goflex = flexoffer_json(SLICES, true), *canon;
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *m;
	size_t len;

	flex = gf_schema_find("flexoffer", 9);
	if (flex != &goflex__flex_offer__descriptor || iters <= 0) {
		fprintf(stderr, "usage: codec_bench [iterations]%s\n",
		        iters > 0 ? " (no schema for msg flexoffer)" : "");
		return 1;
	}
	/* The canonical text: the GOFLEX one decoded and encoded again. */
	if (gf_codec_from_json(flex, goflex, strlen(goflex), &m, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "codec_bench: bench document refused: %s\n", err);
		return 1;
	}
	if (gf_codec_to_json(m, &canon, &len) != GF_OK)
		return 1;
	gf_codec_free(m);
	printf(
	    "codec: msg flexoffer (goflex.FlexOffer), %d slices with a default schedule; best of 5 "
	    "runs of %ld\n",
	    SLICES, iters);
	run("GOFLEX form (pretty, +0000 times, nulls)", goflex, iters);
	run("canonical form (compact, UTC times)", canon, iters);
	free(goflex);
	free(canon);
	return 0;
}
