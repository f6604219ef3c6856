/* SPDX-License-Identifier: MIT */
/*
 * validate_int.h - what the rules share (lib/payload/validate*.c only):
 * the context and field path a rule fails into, and access to a message's
 * fields by descriptor. validate.c holds the walk, the rules by field name
 * and their plans; validate_types.c the rules of a message type.
 */
#ifndef GF_VALIDATE_INT_H
#define GF_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#define GF__VALIDATE_INTERNAL
#include "base/err.h"
#include "payload/validate.h"

#define EPS          1e-9 /* kWh: slack for sums of doubles */
#define MAX_PARALLEL 9

/* The field path of the message being checked, as frames; formatted only
 * when something is wrong (building it for every nested message would cost
 * more than the checks). */
#define MAX_FRAMES 40

struct path {
	struct {
		const char *name;
		long index; /* -1: not an element of a repeated field */
	} frames[MAX_FRAMES];
	size_t n;
};

struct ctx {
	struct path path;
	char *err;
	size_t errlen;
	const struct gf__validate_times *known; /* time strings parsed already, or NULL */
};

/* Fails c with "<path>.<field>: <fmt...>" as the reason; GF_EINVAL. */
__attribute__((format(printf, 3, 4))) enum gf_err
gf__validate_fail(struct ctx *c, const char *field, const char *fmt, ...);

/* Enters field name (element i, or -1); returns what pop() restores. */
static inline size_t push(struct path *p, const char *name, long i)
{
	size_t old = p->n;

	if (p->n < MAX_FRAMES) {
		p->frames[p->n].name = name;
		p->frames[p->n].index = i;
	}
	p->n++;
	return old;
}

static inline void pop(struct path *p, size_t old)
{
	p->n = old;
}

/* --- generic access by field name ---------------------------------------- */

static inline const void *at(const ProtobufCMessage *m, unsigned offset)
{
	return (const char *)m + offset;
}

static inline const ProtobufCFieldDescriptor *fd(const ProtobufCMessage *m, const char *name)
{
	return protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
}

static inline size_t count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	return *(const size_t *)at(m, f->quantifier_offset);
}

static inline bool present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	if (!f)
		return false;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return count(m, f) > 0;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)at(m, f->offset) != NULL;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)at(m, f->quantifier_offset);
	return true;
}

/* The i-th value of a numeric field as a double (i = 0 for singular). */
static inline double num_at(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i)
{
	const void *p = at(m, f->offset);

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		p = *(const void *const *)p;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return ((const int32_t *)p)[i];
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return ((const uint32_t *)p)[i];
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return (double)((const int64_t *)p)[i];
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return (double)((const uint64_t *)p)[i];
	case PROTOBUF_C_TYPE_FLOAT:
		return ((const float *)p)[i];
	case PROTOBUF_C_TYPE_DOUBLE:
		return ((const double *)p)[i];
	default:
		return 0;
	}
}

/* The rule of message type d (validate_types.c), or NULL. */
enum gf_err (*gf__validate_type_rule(const ProtobufCMessageDescriptor *d))(
    struct ctx *, const ProtobufCMessage *);
/* Whether rule reads the values of repeated fields (series of the same
 * intervals), which the one-pass verdict does not keep. */
bool gf__validate_rule_reads_series(enum gf_err (*rule)(struct ctx *, const ProtobufCMessage *));
/* The FlexOffer's: the one-pass verdict gathers for it instead
 * (gf__validate_flexoffer). */
enum gf_err gf__validate_rule_flexoffer(struct ctx *c, const ProtobufCMessage *m);

#endif
