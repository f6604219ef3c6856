/* SPDX-License-Identifier: MIT */
/*
 * commands.h - gfctl's commands: sub, pub, validate, presence.
 *
 * main.c parses the command line into struct gfctl_args and calls one of
 * these; each returns the process's exit status. Results go to stdout
 * (messages as JSON lines, "published", "valid", the presence table);
 * diagnostics go to stderr through lib/base/log.h with GFCTL-* message ids.
 */
#ifndef GFCTL_COMMANDS_H
#define GFCTL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "connect.h"
#include "payload/codec.h"

/* Exit statuses. */
#define GFCTL_EXIT_OK    0 /* done; valid; published */
#define GFCTL_EXIT_FAIL  1 /* refused, invalid, lost, unreadable, timed out short */
#define GFCTL_EXIT_USAGE 2 /* bad command line */

/* Largest input read from a file, stdin or the command line. */
#define GFCTL_INPUT_MAX (16u << 20)

/* Presence's collection time when --timeout is not given. */
#define GFCTL_PRESENCE_SECONDS 2.0

/* Payload encodings of --as. */
enum gfctl_as {
	GFCTL_AS_JSON,     /* application/json */
	GFCTL_AS_PROTOBUF, /* application/x-protobuf */
	GFCTL_AS_MSGPACK,  /* application/msgpack */
	GFCTL_AS_JOSE,     /* application/jose: a sealed payload, passed through as is */
};

/* The parsed command line; everything is borrowed from argv. */
struct gfctl_args {
	struct gfctl_conn_opts conn;
	char **pos; /* positional arguments after the command */
	size_t npos;
	const char *site; /* NULL: from the certificate */
	enum gfctl_as as;
	bool raw;
	bool retain;
	int qos;        /* 0 or 1 */
	long count;     /* 0: no limit */
	double timeout; /* seconds; <= 0: not given */
	long warn_days; /* site check; < 0: not given */
	bool no_presence;
};

/* "json" -> GFCTL_AS_JSON, ...; false for anything else. */
bool gfctl_commands_parse_as(const char *name, enum gfctl_as *out);
/* The MQTT Content Type of --as; the codec's format (JSON for jose). */
const char *gfctl_commands_content_type(enum gfctl_as as);
enum gf_codec_format gfctl_commands_format(enum gfctl_as as);
/* Reads arg into a new NUL-terminated buffer: "-" is stdin, "@path" or
 * (when !literal) a plain path is a file, anything else the text itself;
 * err says why not. */
enum gf_err gfctl_commands_read_input(const char *arg, bool literal, char **out, size_t *len,
                                      char *err, size_t errlen);

/* sub FILTER...: prints every message as one JSON line (docs/gfctl.md). */
int gfctl_commands_sub(const struct gfctl_args *a);

/* pub TOPIC JSON: checks, encodes and publishes; prints "published" or
 * "refused: 0x87 not authorized". */
int gfctl_commands_pub(const struct gfctl_args *a);

/* presence: collects the retained status messages of the site and prints a
 * table of role, id, state, version, since, sequence. */
int gfctl_commands_presence(const struct gfctl_args *a);

#endif
