/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: gf_payload_check (lib/payload/payload.c) over the real schemas,
 * as the broker calls it on every publish. The first byte b picks a message
 * type and an encoding: entry (b / 3) % gf_schema_registry_len of
 * gf_schema_registry, format b % 3 (0 JSON, 1 protobuf, 2 msgpack, given as
 * its Content Type); the rest is the payload.
 *
 * gf_payload_check must never crash, and must say why it refuses in a short
 * printable message (it reaches logs and MQTT clients). A payload it accepts
 * must decode; its re-encoding in each encoding must be accepted as well and
 * decode to the same protobuf bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "payload/payload.h"
#include "schema_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *out;

	if (gf_codec_to_protobuf(m, &out, len) != GF_OK)
		abort();
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gf_schema_entry *e;
	enum gf_codec_format format;
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *m = NULL;
	uint8_t *want;
	size_t want_len;

	if (size == 0)
		return 0;
	e = &gf_schema_registry[(data[0] / 3u) % gf_schema_registry_len];
	format = (enum gf_codec_format)(data[0] % 3u);
	data++;
	size--;
	if (gf_payload_check(e->msg, strlen(e->msg), false, gf_codec_format_name(format), data,
	                     size, err, sizeof(err)) != GF_OK) {
		check_err(err, sizeof(err));
		return 0;
	}
	if (gf_codec_decode(format, e->desc, data, size, &m, err, sizeof(err)) != GF_OK)
		abort(); /* accepted, yet the codec refuses it */
	want = pack(m, &want_len);
	for (int f = 0; f < 3; f++) {
		ProtobufCMessage *back = NULL;
		void *enc;
		size_t len, blen;
		uint8_t *bytes;
		if (gf_codec_encode((enum gf_codec_format)f, m, &enc, &len) != GF_OK)
			abort();
		if (gf_payload_check(e->msg, strlen(e->msg), false,
		                     gf_codec_format_name((enum gf_codec_format)f), enc, len, err,
		                     sizeof(err)) != GF_OK)
			abort(); /* valid in one encoding, invalid in another */
		if (gf_codec_decode((enum gf_codec_format)f, e->desc, enc, len, &back, err,
		                    sizeof(err)) != GF_OK)
			abort();
		bytes = pack(back, &blen);
		if (blen != want_len || memcmp(bytes, want, blen) != 0)
			abort();
		free(bytes);
		free(enc);
		gf_codec_free(back);
	}
	free(want);
	gf_codec_free(m);
	return 0;
}
