/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the JSON decoder over the test schema
 * (tests/codec/codec_test.proto) and three types of the bus with map fields.
 * The first byte picks the message type ('0' FlexOffer, '1' AllTypes,
 * '2' Node, '3' PluginStats, '4' XemsConfig, '5' FoaReply), the rest is the
 * document. Whatever decodes must re-encode, decode again to the same
 * protobuf bytes and the same JSON text, and survive the trip through
 * protobuf and msgpack; whatever fails must say why in a short printable
 * message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker.pb-c.h"
#include "payload/codec.h"
#include "codec_test.pb-c.h"
#include "config.pb-c.h"
#include "xems.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const descs[] = {
    &gftest__flex_offer__descriptor,  &gftest__all_types__descriptor,
    &gftest__node__descriptor,        &goflex__plugin_stats__descriptor,
    &goflex__xems_config__descriptor, &goflex__foa_reply__descriptor,
};
#define NDESCS (sizeof(descs) / sizeof(descs[0])) /* 6: '0' to '2' still pick the first three */

/* The protobuf bytes of m; aborts if m cannot be encoded. */
static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *out;

	if (gf_codec_to_protobuf(m, &out, len) != GF_OK)
		abort();
	return out;
}

static void same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
}

/* m decoded from some encoding: its trip through `format` must give the
 * same protobuf bytes. */
static void trip(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *m,
                 enum gf_codec_format format, const uint8_t *want, size_t want_len)
{
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *back = NULL;
	void *enc;
	size_t len, blen;
	uint8_t *bytes;

	if (gf_codec_encode(format, m, &enc, &len) != GF_OK)
		abort();
	if (gf_codec_decode(format, d, enc, len, &back, err, sizeof(err)) != GF_OK)
		abort();
	bytes = pack(back, &blen);
	same_bytes(want, want_len, bytes, blen);
	free(bytes);
	free(enc);
	gf_codec_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *d;
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *m1 = NULL, *m2 = NULL;
	char *j1, *j2;
	size_t j1len, j2len, p1len, p2len;
	uint8_t *p1, *p2;

	if (size == 0)
		return 0;
	d = descs[data[0] % NDESCS];
	if (gf_codec_from_json(d, (const char *)data + 1, size - 1, &m1, err, sizeof(err)) !=
	    GF_OK) {
		size_t n = strnlen(err, sizeof(err));
		if (n == 0 || n == sizeof(err))
			abort();
		for (size_t i = 0; i < n; i++) {
			if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] >= 0x7f)
				abort(); /* reasons reach logs and MQTT clients */
		}
		return 0;
	}
	if (gf_codec_to_json(m1, &j1, &j1len) != GF_OK)
		abort();
	if (gf_codec_from_json(d, j1, j1len, &m2, err, sizeof(err)) != GF_OK)
		abort();
	if (gf_codec_to_json(m2, &j2, &j2len) != GF_OK)
		abort();
	if (j1len != j2len || strcmp(j1, j2) != 0)
		abort(); /* the canonical form is a fixed point */
	p1 = pack(m1, &p1len);
	p2 = pack(m2, &p2len);
	same_bytes(p1, p1len, p2, p2len);
	trip(d, m1, GF_CODEC_PROTOBUF, p1, p1len);
	trip(d, m1, GF_CODEC_MSGPACK, p1, p1len);
	free(p1);
	free(p2);
	free(j1);
	free(j2);
	gf_codec_free(m1);
	gf_codec_free(m2);
	return 0;
}
