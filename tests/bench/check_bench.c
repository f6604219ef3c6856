/* SPDX-License-Identifier: MIT */
/*
 * The broker's verdict on one payload, repeated, for callgrind
 * (docs/bench.md "One-pass JSON verdict"): gf_check_message on the file's
 * bytes as a goflex.FlexOffer, n times, or with -r the full path it takes
 * when the one pass does not decide (decode + gf_validate_verdict), for
 * before and after in one build. Exit 1 if the verdicts disagree or the
 * payload is refused. Times nothing itself:
 *
 *   build/tests/bench/load payload offer -e json -s 24 >offer.json
 *   valgrind --tool=callgrind build/tests/bench/check_bench offer.json json 1000
 *   valgrind --tool=callgrind build/tests/bench/check_bench offer.json json 1000 -r
 */
#define GF__CODEC_INTERNAL
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/check.h"
#include "payload/codec.h"
#include "payload/schema.h"
#include "payload/validate.h"

static enum gf_err full_path(enum gf_codec_format f, const ProtobufCMessageDescriptor *d,
                             const void *data, size_t len)
{
	ProtobufCMessage *m = NULL;
	bool nonfinite = true;
	enum gf_err rc;

	switch (f) {
	case GF_CODEC_JSON:
		rc = gf__codec_from_json(d, data, len, &m, &nonfinite, NULL, 0);
		break;
	case GF_CODEC_PROTOBUF:
		rc = gf__codec_from_protobuf(d, data, len, &m, &nonfinite, NULL, 0);
		break;
	default:
		rc = gf__codec_from_msgpack(d, data, len, &m, &nonfinite, NULL, 0);
	}
	if (rc == GF_OK)
		rc = gf_validate_verdict(m, !nonfinite, NULL, 0);
	gf_codec_free(m);
	return rc;
}

int main(int argc, char **argv)
{
	const ProtobufCMessageDescriptor *d = gf_schema_find("flexoffer", 9);
	enum gf_codec_format f = GF_CODEC_JSON;
	bool ref = argc > 4 && strcmp(argv[4], "-r") == 0;
	long n = argc > 3 ? atol(argv[3]) : 1000;
	char *buf = NULL, err[256];
	size_t len = 0;
	FILE *in;

	if (argc < 3 || d == NULL) {
		fprintf(stderr, "usage: check_bench FILE json|protobuf|msgpack [N [-r]]\n");
		return 2;
	}
	if (strcmp(argv[2], "protobuf") == 0)
		f = GF_CODEC_PROTOBUF;
	else if (strcmp(argv[2], "msgpack") == 0)
		f = GF_CODEC_MSGPACK;
	in = fopen(argv[1], "rb");
	if (in == NULL || fseek(in, 0, SEEK_END) != 0 || (len = (size_t)ftell(in)) == 0 ||
	    fseek(in, 0, SEEK_SET) != 0 || (buf = malloc(len)) == NULL ||
	    fread(buf, 1, len, in) != len) {
		fprintf(stderr, "check_bench: cannot read %s\n", argv[1]);
		if (in)
			fclose(in);
		free(buf);
		return 1;
	}
	fclose(in);
	if (gf_check_message(f, d, buf, len, err, sizeof(err)) != GF_OK ||
	    full_path(f, d, buf, len) != GF_OK) {
		fprintf(stderr, "check_bench: %s refused: %s\n", argv[1], err);
		free(buf);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		enum gf_err rc =
		    ref ? full_path(f, d, buf, len) : gf_check_message(f, d, buf, len, NULL, 0);
		if (rc != GF_OK) {
			free(buf);
			return 1;
		}
	}
	printf("%ld checks of %zu bytes (%s)\n", n, len, ref ? "full path" : "gf_check_message");
	free(buf);
	return 0;
}
