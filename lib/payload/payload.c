/* SPDX-License-Identifier: MIT */
#include "payload/payload.h"

#include <stdbool.h>
#include <stdio.h>
#include <strings.h>

#include "payload/check.h"
#include "payload/codec.h"
#include "payload/jwe.h"
#include "payload/schema.h"

static int is_jose(const char *content_type)
{
	size_t n = sizeof(GF_CONTENT_TYPE_JOSE) - 1;

	return content_type && strncasecmp(content_type, GF_CONTENT_TYPE_JOSE, n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';');
}

enum gf_err gf_payload_check(const char *msg, size_t msglen, bool sealed, const char *content_type,
                             const void *data, size_t len, char *err, size_t errlen)
{
	const ProtobufCMessageDescriptor *desc;
	enum gf_codec_format format;

	/* mosquitto passes NULL for an empty payload; the decoders accept
	 * (NULL, 0) but compute NULL + 0, which C leaves undefined (UBSan). */
	if (!data && len == 0)
		data = "";
	if (sealed) {
		if (!is_jose(content_type)) {
			snprintf(err, errlen, "sealed (anon) rows carry Content Type %s, not %s",
			         GF_CONTENT_TYPE_JOSE, content_type ? content_type : "none");
			return GF_EPARSE;
		}
		return gf_jwe_check_compact(data, len, NULL, 0, err, errlen);
	}
	if (gf_codec_format_parse(content_type, &format) != GF_OK) {
		snprintf(err, errlen,
		         "unsupported Content Type '%s' (application/json, application/x-protobuf "
		         "or application/msgpack)",
		         content_type);
		return GF_EPARSE;
	}
	desc = gf_schema_find(msg, msglen);
	if (!desc) {
		snprintf(err, errlen, "no schema for message type '%.*s'", (int)msglen, msg);
		return GF_EPARSE;
	}
	return gf_check_message(format, desc, data, len, err, errlen);
}
