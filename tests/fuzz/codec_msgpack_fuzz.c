/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the msgpack decoder over the test schema
 * (tests/codec/codec_test.proto) and three types of the bus with map fields.
 * The first byte picks the message type ('0' FlexOffer, '1' AllTypes,
 * '2' Node, '3' PluginStats, '4' XemsConfig, '5' FoaReply), the rest is the
 * document. Whatever decodes must re-encode and decode again to the same
 * protobuf bytes, also by way of JSON and protobuf; the re-encoding must be
 * a fixed point. The protobuf
 * decoder gets the same bytes too, since it has no target of its own, and is
 * checked against protobuf-c: what we accept it must accept, with the same
 * values.
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

static void check_err(const char *err, size_t size)
{
	size_t n = strnlen(err, size);

	if (n == 0 || n == size)
		abort();
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] >= 0x7f)
			abort();
	}
}

/* Our protobuf decoder accepted data as m: protobuf-c must accept it too,
 * and its reading, packed and decoded by us, must equal ours (our decoder
 * canonicalises times and NaNs, so compare after a pass through ours). */
static void same_as_protobuf_c(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *m,
                               const uint8_t *data, size_t size)
{
	ProtobufCMessage *theirs = protobuf_c_message_unpack(d, NULL, size, data), *again = NULL;
	char err[GF_CODEC_ERRLEN];
	uint8_t *packed, *a, *b;
	size_t plen, alen, blen;

	if (theirs == NULL)
		abort();
	plen = protobuf_c_message_get_packed_size(theirs);
	packed = malloc(plen + 1);
	protobuf_c_message_pack(theirs, packed);
	if (gf_codec_from_protobuf(d, packed, plen, &again, err, sizeof(err)) != GF_OK)
		abort();
	if (gf_codec_to_protobuf(m, &a, &alen) != GF_OK ||
	    gf_codec_to_protobuf(again, &b, &blen) != GF_OK)
		abort();
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
	free(packed);
	gf_codec_free(again);
	protobuf_c_message_free_unpacked(theirs, NULL);
}

/* Encodes m in every format, decodes each, and checks the protobuf bytes. */
static void trips(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *m)
{
	char err[GF_CODEC_ERRLEN];
	uint8_t *want;
	size_t want_len;

	if (gf_codec_to_protobuf(m, &want, &want_len) != GF_OK)
		abort();
	for (int f = 0; f < 3; f++) {
		ProtobufCMessage *back = NULL;
		void *enc, *enc2;
		size_t len, len2, blen;
		uint8_t *bytes;
		if (gf_codec_encode((enum gf_codec_format)f, m, &enc, &len) != GF_OK)
			abort();
		if (gf_codec_decode((enum gf_codec_format)f, d, enc, len, &back, err,
		                    sizeof(err)) != GF_OK)
			abort();
		if (gf_codec_to_protobuf(back, &bytes, &blen) != GF_OK)
			abort();
		if (blen != want_len || memcmp(bytes, want, blen) != 0)
			abort();
		if (gf_codec_encode((enum gf_codec_format)f, back, &enc2, &len2) != GF_OK)
			abort();
		if (len2 != len || memcmp(enc, enc2, len) != 0)
			abort();
		free(enc2);
		free(bytes);
		free(enc);
		gf_codec_free(back);
	}
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *d;
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *m = NULL;

	if (size == 0)
		return 0;
	d = descs[data[0] % NDESCS];
	if (gf_codec_from_msgpack(d, data + 1, size - 1, &m, err, sizeof(err)) == GF_OK) {
		trips(d, m);
		gf_codec_free(m);
	} else {
		check_err(err, sizeof(err));
	}
	if (gf_codec_from_protobuf(d, data + 1, size - 1, &m, err, sizeof(err)) == GF_OK) {
		same_as_protobuf_c(d, m, data + 1, size - 1);
		trips(d, m);
		gf_codec_free(m);
	} else {
		check_err(err, sizeof(err));
	}
	return 0;
}
