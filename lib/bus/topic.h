/* SPDX-License-Identifier: MIT */
/*
 * topic.h - the topic tree of SPEC section 4:
 *
 *     gf/<site>/<from-role>/<from-id>/<to-role>/<to-id>/<msg>
 *
 * Parsing borrows from the topic string and never allocates; it is on the
 * broker's ACL path.
 */
#ifndef GF_TOPIC_H
#define GF_TOPIC_H

#include <stddef.h>

#include "base/err.h"
#include "bus/ident.h"

#define GF_TOPIC_LEVELS 7
#define GF_MSG_MAX      64

struct gf_topic {
	struct gf_sv site;
	enum gf_role from_role; /* a real role, never GF_ROLE_ALL */
	struct gf_sv from_id;   /* a valid id, never "all" */
	enum gf_role to_role;   /* a real role or GF_ROLE_ALL */
	struct gf_sv to_id;     /* a valid id or "all" */
	struct gf_sv msg;       /* syntactically valid; not looked up */
};

/* Why a topic did not parse, for the refusal's reason. */
enum gf_topic_fault {
	GF_TOPIC_FAULT_NONE,
	GF_TOPIC_FAULT_PREFIX, /* does not start with "gf/" */
	GF_TOPIC_FAULT_LEVELS, /* not exactly seven levels */
	GF_TOPIC_FAULT_SITE,   /* site level is not a valid name */
	GF_TOPIC_FAULT_FROM,   /* from-role or from-id invalid */
	GF_TOPIC_FAULT_TO,     /* to-role or to-id invalid */
	GF_TOPIC_FAULT_MSG,    /* message type is not dotted lower-case */
};

/*
 * Splits topic into out. On failure returns GF_EPARSE, sets *fault (if not
 * NULL) and leaves out untouched. Wildcards are invalid in every level.
 */
enum gf_err gf_topic_parse(const char *topic, struct gf_topic *out, enum gf_topic_fault *fault);

/* A static description of fault, e.g. "not exactly seven levels". */
const char *gf_topic_fault_str(enum gf_topic_fault fault);

/* True if s is a valid message type name: [a-z0-9]+ separated by single dots. */
bool gf_msg_name_valid(const char *s, size_t len);

/*
 * Writes the topic for (site, from, to_role, to_id, msg) into buf.
 * to_id may be "all". GF_EINVAL if a part is invalid, GF_ETOOLONG if buf is
 * too small.
 */
enum gf_err gf_topic_build(char *buf, size_t size, const char *site, const struct gf_ident *from,
                           enum gf_role to_role, const char *to_id, const char *msg);

/*
 * Splits s at '/' into at most max levels. Returns the number of levels found,
 * or max + 1 if there are more than max.
 */
size_t gf_topic_split(const char *s, struct gf_sv *levels, size_t max);

#endif
