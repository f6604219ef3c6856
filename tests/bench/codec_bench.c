/* SPDX-License-Identifier: MIT */
/*
 * Codec benchmark (issue 3): a FlexOffer of 24 slices, decoded (with all
 * validation) and encoded in each encoding, as ratios against cJSON's bare
 * parse of the same JSON text measured in the same run. Prints times per
 * operation for reading, and ratios for judging; asserts nothing.
 *
 *   codec_bench [iterations]
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "codec_test.pb-c.h"

#define FLEX (&gftest__flex_offer__descriptor)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The GOFLEX FMAN form: pretty-printed, +0000 offsets, nulls. */
static char *flexoffer_json(int slices, bool goflex)
{
	size_t cap = 4096 + (size_t)slices * 400, o = 0;
	char *s = malloc(cap);
	const char *t = goflex ? ".000+0000" : "Z";
	const char *nl = goflex ? "\n\t" : "";

	if (s == NULL)
		abort();
	o += (size_t)snprintf(
	    s + o, cap - o,
	    "{%s\"id\": null,%s\"label\": \"Trading FlexOffer: 2020-02-27 21:30:00\","
	    "%s\"state\": \"Offered\",%s\"stateReason\": null,%s\"creationInterval\": "
	    "1758705,%s\"offeredById\": \"7500001\",%s\"locationId\": {},"
	    "%s\"acceptanceBeforeInterval\": 1758706,%s\"assignmentBeforeInterval\": "
	    "1758706,%s\"startAfterInterval\": 1758706,%s\"startBeforeInterval\": "
	    "1758710,%s\"assignment\": \"obligatory\",%s"
	    "\"flexOfferProfileConstraints\": [",
	    nl, nl, nl, nl, nl, nl, nl, nl, nl, nl, nl, nl, nl);
	for (int i = 0; i < slices; i++)
		o += (size_t)snprintf(
		    s + o, cap - o,
		    "%s%s\t{\"energyConstraintList\": [{\"lower\": %.4f, \"upper\": "
		    "%.17g}], \"tariffConstraint\": {\"minTariff\": -0.05, "
		    "\"maxTariff\": %.17g}, \"minDuration\": 1, \"maxDuration\": 1}",
		    i ? "," : "", nl, 0.1 * i, 0.5354 + i / 7.0, 0.3441725812476 + i / 3.0);
	o += (size_t)snprintf(s + o, cap - o,
	                      "],%s\"flexOfferTariffConstraint\": null,%s\"defaultSchedule\": "
	                      "{\"scheduleId\": 0, \"updateId\": 0, \"scheduleSlices\": [",
	                      nl, nl);
	for (int i = 0; i < slices; i++)
		o += (size_t)snprintf(
		    s + o, cap - o,
		    "%s{\"duration\": 1, \"energyAmount\": %.17g, \"tariff\": %.3f}", i ? ", " : "",
		    0.25 + i / 9.0, 0.01 * i);
	o += (size_t)snprintf(
	    s + o, cap - o,
	    "], \"startTime\": \"2020-02-27T20:30:00%s\"},%s\"flexOfferSchedule\": null,"
	    "%s\"creationTime\": \"2020-02-27T20:15:00%s\",%s\"startAfterTime\": "
	    "\"2020-02-27T20:30:00%s\",%s\"startBeforeTime\": \"2020-02-27T21:30:00%s\","
	    "%s\"assignmentBeforeTime\": \"2020-02-27T20:30:00%s\",%s\"endBeforeInterval\": "
	    "1758735,"
	    "%s\"numSecondsPerInterval\": 900,%s\"acceptanceBeforeTime\": "
	    "\"2020-02-27T20:30:00%s\","
	    "%s\"endAfterInterval\": 1758730,%s\"endAfterTime\": \"2020-02-27T02:30:00%s\","
	    "%s\"endBeforeTime\": \"2020-02-27T03:45:00%s\",%s\"totalEnergyConstraint\": "
	    "{\"lower\": 0, \"upper\": 40}\n}\n",
	    t, nl, nl, t, nl, t, nl, t, nl, t, nl, nl, nl, t, nl, nl, t, nl, t, nl);
	return s;
}

/* Runs fn iters times, best of five rounds: seconds per call. */
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

static void run(const char *title, const char *json, long iters)
{
	size_t jlen = strlen(json), pblen, mplen, outlen;
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *m, *tmp;
	uint8_t *pb, *mp;
	char *out;
	double t_cjson, t_cjson_print, t_json, t_pb, t_pb_raw, t_mp, t_enc_json, t_enc_pb, t_enc_mp;
	cJSON *cj;

	if (gf_codec_from_json(FLEX, json, jlen, &m, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "bench document refused: %s\n", err);
		exit(1);
	}
	if (gf_codec_to_protobuf(m, &pb, &pblen) != GF_OK ||
	    gf_codec_to_msgpack(m, &mp, &mplen) != GF_OK)
		exit(1);

	BENCH(t_cjson, iters, cJSON_Delete(cJSON_ParseWithLength(json, jlen)));
	cj = cJSON_ParseWithLength(json, jlen);
	BENCH(t_cjson_print, iters, free(cJSON_PrintUnformatted(cj)));
	cJSON_Delete(cj);
	BENCH(t_json, iters, {
		if (gf_codec_from_json(FLEX, json, jlen, &tmp, err, sizeof(err)) != GF_OK)
			abort();
		gf_codec_free(tmp);
	});
	BENCH(t_pb, iters, {
		if (gf_codec_from_protobuf(FLEX, pb, pblen, &tmp, err, sizeof(err)) != GF_OK)
			abort();
		gf_codec_free(tmp);
	});
	BENCH(t_pb_raw, iters,
	      protobuf_c_message_free_unpacked(protobuf_c_message_unpack(FLEX, NULL, pblen, pb),
	                                       NULL));
	BENCH(t_mp, iters, {
		if (gf_codec_from_msgpack(FLEX, mp, mplen, &tmp, err, sizeof(err)) != GF_OK)
			abort();
		gf_codec_free(tmp);
	});
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
	printf("  %-38s %8.2f us   1.00 (baseline)\n", "cJSON_ParseWithLength+Delete",
	       t_cjson * 1e6);
	printf("  %-38s %8.2f us  %5.2f x baseline\n", "decode+validate JSON", t_json * 1e6,
	       t_json / t_cjson);
	printf("  %-38s %8.2f us  %5.2f x baseline  (%.1fx faster than JSON path)\n",
	       "decode+validate protobuf", t_pb * 1e6, t_pb / t_cjson, t_json / t_pb);
	printf("  %-38s %8.2f us  %5.2f x baseline\n", "  protobuf-c unpack alone (malloc)",
	       t_pb_raw * 1e6, t_pb_raw / t_cjson);
	printf("  %-38s %8.2f us  %5.2f x baseline  (%.1fx faster than JSON path)\n",
	       "decode+validate msgpack", t_mp * 1e6, t_mp / t_cjson, t_json / t_mp);
	printf("  %-38s %8.2f us  %5.2f x baseline\n", "encode JSON", t_enc_json * 1e6,
	       t_enc_json / t_cjson);
	printf("  %-38s %8.2f us  %5.2f x baseline\n", "  cJSON_PrintUnformatted (reference)",
	       t_cjson_print * 1e6, t_cjson_print / t_cjson);
	printf("  %-38s %8.2f us  %5.2f x baseline\n", "encode protobuf", t_enc_pb * 1e6,
	       t_enc_pb / t_cjson);
	printf("  %-38s %8.2f us  %5.2f x baseline\n", "encode msgpack", t_enc_mp * 1e6,
	       t_enc_mp / t_cjson);
	free(pb);
	free(mp);
	gf_codec_free(m);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 20000;
	char *goflex = flexoffer_json(24, true), *compact = flexoffer_json(24, false);

	run("FlexOffer, 24 slices, GOFLEX form (pretty, +0000 times)", goflex, iters);
	run("FlexOffer, 24 slices, compact, canonical times", compact, iters);
	free(goflex);
	free(compact);
	return 0;
}
