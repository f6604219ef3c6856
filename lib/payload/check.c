/* SPDX-License-Identifier: MIT */
#define GF__CODEC_INTERNAL
#define GF__CHECK_INTERNAL
#include "payload/check.h"

#include <stdbool.h>

#include "payload/validate.h"

enum gf_err gf_check_message(enum gf_codec_format format, const ProtobufCMessageDescriptor *d,
                             const void *data, size_t len, char *err, size_t errlen)
{
	ProtobufCMessage *m = NULL;
	bool nonfinite = true;
	enum gf_err rc;

	switch (format) {
	case GF_CODEC_JSON:
		if (gf__check_json(d, data, len) == GF__CHECK_VALID)
			return GF_OK;
		rc = gf__codec_from_json(d, data, len, &m, &nonfinite, err, errlen);
		break;
	case GF_CODEC_PROTOBUF:
		/* One pass when it decides an acceptance; a refusal is
		 * explained by the full path below. */
		if (gf__check_protobuf(d, data, len) == GF__CHECK_VALID)
			return GF_OK;
		rc = gf__codec_from_protobuf(d, data, len, &m, &nonfinite, err, errlen);
		break;
	case GF_CODEC_MSGPACK:
		rc = gf__codec_from_msgpack(d, data, len, &m, &nonfinite, err, errlen);
		break;
	default:
		return GF_EINVAL;
	}
	if (rc != GF_OK)
		return rc;
	/* gf_validate's GF_EINVAL is a refusal of the input here, as in
	 * gf_payload_check. */
	rc = gf_validate_verdict(m, !nonfinite, err, errlen) == GF_OK ? GF_OK : GF_EPARSE;
	gf_codec_free(m);
	return rc;
}
