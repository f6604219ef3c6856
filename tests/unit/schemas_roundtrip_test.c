/* SPDX-License-Identifier: MIT */
/*
 * Round trips over generated messages of every message type of the bus
 * (issue 3): for each entry of gf_schema_registry, seeded random messages
 * (tests/unit/msggen.h) go JSON -> message -> protobuf -> message -> msgpack
 * -> message -> JSON and must come back as the same text, with the same
 * protobuf bytes at every step. Semantic validation (lib/payload/validate.h) is not
 * part of it: the messages follow the codec's rules, not the types' meaning.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "msggen.h"
#include "payload/schema.h"
#include "schema_registry.h"

#include "leak_check.h"

TestSuite(schemas_roundtrip, .fini = leak_check);

#define MESSAGES_PER_TYPE 200

static char errbuf[GF_CODEC_ERRLEN];

static void same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                       const char *msg, int i, const char *step)
{
	cr_assert(alen == blen && memcmp(a, b, alen) == 0,
	          "%s message %d: protobuf bytes differ after %s (%zu vs %zu bytes)", msg, i, step,
	          alen, blen);
}

/* One generated message of e's type through the three encodings. */
static void round_trip(const struct gf_schema_entry *e, struct msggen *g, int i)
{
	const ProtobufCMessageDescriptor *d = e->desc;
	ProtobufCMessage *gen = msggen_message(g, d), *m1 = NULL, *m2 = NULL, *m3 = NULL;
	char *j0 = NULL, *j3 = NULL;
	uint8_t *pb1 = NULL, *pb2 = NULL, *pb3 = NULL, *mp = NULL;
	size_t j0len, j3len, pb1len, pb2len, pb3len, mplen;

	cr_assert_eq(gf_codec_to_json(gen, &j0, &j0len), GF_OK, "%s message %d: not encodable",
	             e->msg, i);
	cr_assert_eq(gf_codec_from_json(d, j0, j0len, &m1, errbuf, sizeof(errbuf)), GF_OK,
	             "%s message %d: %s in %s", e->msg, i, errbuf, j0);
	cr_assert_eq(gf_codec_to_protobuf(m1, &pb1, &pb1len), GF_OK);

	cr_assert_eq(gf_codec_from_protobuf(d, pb1, pb1len, &m2, errbuf, sizeof(errbuf)), GF_OK,
	             "%s message %d: %s in %s", e->msg, i, errbuf, j0);
	cr_assert_eq(gf_codec_to_protobuf(m2, &pb2, &pb2len), GF_OK);
	same_bytes(pb1, pb1len, pb2, pb2len, e->msg, i, "protobuf");

	cr_assert_eq(gf_codec_to_msgpack(m2, &mp, &mplen), GF_OK);
	cr_assert_eq(gf_codec_from_msgpack(d, mp, mplen, &m3, errbuf, sizeof(errbuf)), GF_OK,
	             "%s message %d: %s in %s", e->msg, i, errbuf, j0);
	cr_assert_eq(gf_codec_to_protobuf(m3, &pb3, &pb3len), GF_OK);
	same_bytes(pb1, pb1len, pb3, pb3len, e->msg, i, "msgpack");

	cr_assert_eq(gf_codec_to_json(m3, &j3, &j3len), GF_OK);
	cr_assert_eq(j3len, j0len, "%s message %d:\n%s\n%s", e->msg, i, j0, j3);
	cr_assert_str_eq(j3, j0, "%s message %d", e->msg, i);

	free(j0);
	free(j3);
	free(pb1);
	free(pb2);
	free(pb3);
	free(mp);
	gf_codec_free(m1);
	gf_codec_free(m2);
	gf_codec_free(m3);
	protobuf_c_message_free_unpacked(gen, NULL);
}

Test(schemas_roundtrip, every_message_type_through_all_encodings)
{
	cr_assert_gt(gf_schema_registry_len, 50, "the registry lists every message type");
	for (size_t k = 0; k < gf_schema_registry_len; k++) {
		const struct gf_schema_entry *e = &gf_schema_registry[k];
		struct msggen g;
		cr_assert_eq(gf_schema_find(e->msg, strlen(e->msg)), e->desc);
		msggen_seed(&g, 0x9e3779b97f4a7c15ULL + k); /* reproducible per type */
		for (int i = 0; i < MESSAGES_PER_TYPE; i++)
			round_trip(e, &g, i);
	}
}

/* The generator reaches what makes the codec work: some message of the bus
 * has maps, times, enums and 64-bit integers beyond 2^53 in every run. A
 * round trip over messages without them would pass for the wrong reason. */
Test(schemas_roundtrip, generated_messages_cover_maps_and_times)
{
	bool map = false, time = false, big = false;
	const ProtobufCMessageDescriptor *stats = gf_schema_find("plugin.stats", 12);
	const ProtobufCMessageDescriptor *fo = gf_schema_find("flexoffer", 9);
	struct msggen g;

	cr_assert_not_null(stats);
	cr_assert_not_null(fo);
	msggen_seed(&g, 1);
	for (int i = 0; i < 50; i++) {
		ProtobufCMessage *m = msggen_message(&g, i % 2 ? stats : fo);
		char *j;
		size_t len;
		cr_assert_eq(gf_codec_to_json(m, &j, &len), GF_OK);
		map |= strstr(j, "\"decisions\":{\"") != NULL;
		time |= strstr(j, "Time\":\"") != NULL;
		big |= strstr(j, "\":\"9007199254740993\"") != NULL ||
		       strstr(j, "\":\"18446744073709551615\"") != NULL;
		free(j);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	cr_assert(map && time && big, "map %d, time %d, 64-bit %d", map, time, big);
}
