/* SPDX-License-Identifier: MIT */
/*
 * files.c - gfctl's commands on payload files, no broker needed: validate
 * (the broker's own check) and decode (canonical JSON).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "base/log.h"
#include "bus/topic.h"
#include "payload/codec.h"
#include "payload/payload.h"
#include "payload/schema.h"

#define ERRLEN 1024

/* validate's and decode's MSG FILE: the message type checked (a usage
 * error, or "invalid: no schema" unless sealed) and FILE read into *data.
 * GFCTL_EXIT_OK to go on. */
static int payload_file(const struct gfctl_args *a, char **data, size_t *len)
{
	const char *msg = a->pos[0];
	char err[ERRLEN];
	enum gf_err rc;

	if (!gf_msg_name_valid(msg, strlen(msg))) {
		gf_log_err("GFCTL-USAGE", "'%s' is not a message type name (dotted lower-case)",
		           msg);
		return GFCTL_EXIT_USAGE;
	}
	if (a->as != GFCTL_AS_JOSE && !gf_schema_find(msg, strlen(msg))) {
		printf("invalid: no schema for message type '%s'\n", msg);
		return GFCTL_EXIT_FAIL;
	}
	rc = gfctl_commands_read_input(a->pos[1], false, data, len, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GFCTL-INPUT", "%s", rc == GF_ENOMEM ? gf_strerror(rc) : err);
		return GFCTL_EXIT_FAIL;
	}
	return GFCTL_EXIT_OK;
}

/* validate's and decode's answer: out and exit 0, or "invalid: <err>" and
 * exit 1 (out of memory said on stderr). */
static int outcome(enum gf_err rc, const char *out, size_t out_len, const char *err)
{
	if (rc == GF_OK) {
		fwrite(out, 1, out_len, stdout);
		putchar('\n');
		return GFCTL_EXIT_OK;
	}
	if (rc == GF_ENOMEM)
		gf_log_err("GFCTL-NOMEM", "out of memory");
	else
		printf("invalid: %s\n", err);
	return GFCTL_EXIT_FAIL;
}

int gfctl_files_validate(const struct gfctl_args *a)
{
	const char *msg = a->pos[0];
	char err[ERRLEN] = "", *data = NULL;
	size_t len = 0;
	/* The row of a catalogue message as the broker sees it: anon rows carry
	 * sealed payloads, every other row its schema (lib/payload/payload.h). */
	bool anon = a->as == GFCTL_AS_JOSE;
	int status = payload_file(a, &data, &len);

	if (status == GFCTL_EXIT_OK)
		status = outcome(gf_payload_check(msg, strlen(msg), anon,
		                                  gfctl_commands_content_type(a->as), data, len,
		                                  err, sizeof(err)),
		                 "valid", 5, err);
	free(data);
	return status;
}

int gfctl_files_decode(const struct gfctl_args *a)
{
	const char *msg = a->pos[0];
	ProtobufCMessage *m = NULL;
	char err[ERRLEN] = "", *data = NULL, *json = NULL;
	size_t len = 0;
	int status;
	enum gf_err rc;

	if (a->as == GFCTL_AS_JOSE) {
		gf_log_err("GFCTL-USAGE", "a sealed (jose) payload opens only with the Service "
		                          "Platform's key: decode its inner document");
		return GFCTL_EXIT_USAGE;
	}
	status = payload_file(a, &data, &len);
	if (status != GFCTL_EXIT_OK)
		return status;
	rc = gf_codec_decode(gfctl_commands_format(a->as), gf_schema_find(msg, strlen(msg)), data,
	                     len, &m, err, sizeof(err));
	if (rc == GF_OK)
		rc = gf_codec_to_json(m, &json, &len);
	status = outcome(rc, json, len, err);
	gf_codec_free(m);
	free(json);
	free(data);
	return status;
}
