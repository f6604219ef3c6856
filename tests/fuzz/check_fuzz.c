/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the broker's verdict path (gf_check_message,
 * lib/payload/check.c) against the reference it replaces, gf_codec_decode
 * followed by gf_validate, over the real schemas. The first byte b picks a
 * message type and an encoding as in payload_fuzz.c: entry
 * (b / 3) % gf_schema_registry_len of gf_schema_registry, format b % 3
 * (0 JSON, 1 protobuf, 2 msgpack); the rest is the payload.
 *
 * Both must give the same verdict, and for a refusal the same reason text
 * (the field path of the first error included): anything else aborts. For
 * protobuf and JSON, the one-pass verdicts (gf__check_protobuf,
 * gf__check_json, which gf_check_message tries first) must also agree
 * wherever they decide.
 */
#define GF__CHECK_INTERNAL
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload/check.h"
#include "payload/codec.h"
#include "payload/validate.h"
#include "schema_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gf_schema_entry *e;
	enum gf_codec_format format;
	char e1[GF_CODEC_ERRLEN] = "", e2[GF_CODEC_ERRLEN] = "";
	ProtobufCMessage *m = NULL;
	enum gf_err r1, r2;

	if (size == 0)
		return 0;
	e = &gf_schema_registry[(data[0] / 3u) % gf_schema_registry_len];
	format = (enum gf_codec_format)(data[0] % 3u);
	data++;
	size--;
	if (size == 0)
		data = (const uint8_t *)""; /* as gf_payload_check does for NULL */
	r1 = gf_codec_decode(format, e->desc, data, size, &m, e1, sizeof(e1));
	if (r1 == GF_OK)
		r1 = gf_validate(m, e1, sizeof(e1)) == GF_OK ? GF_OK : GF_EPARSE;
	gf_codec_free(m);
	r2 = gf_check_message(format, e->desc, data, size, e2, sizeof(e2));
	if (r1 != r2 || (r1 != GF_OK && strcmp(e1, e2) != 0))
		abort();
	if (format == GF_CODEC_PROTOBUF) {
		enum gf__check_fast v = gf__check_protobuf(e->desc, data, size);
		if ((v == GF__CHECK_VALID && r1 != GF_OK) ||
		    (v == GF__CHECK_INVALID && r1 == GF_OK))
			abort();
	}
	if (format == GF_CODEC_JSON) {
		enum gf__check_fast v = gf__check_json(e->desc, (const char *)data, size);
		if ((v == GF__CHECK_VALID && r1 != GF_OK) ||
		    (v == GF__CHECK_INVALID && r1 == GF_OK))
			abort();
	}
	return 0;
}
