/* SPDX-License-Identifier: MIT */
/*
 * msggen.c - random messages of any type for the codec's round-trip tests
 * (msggen.h). It reads the descriptors only, with its own notion of maps and
 * time fields, so that it does not share a mistake with lib/codec.
 */
#include "msggen.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"

/* Messages deeper than this have no optional or repeated message fields. */
#define MAX_DEPTH 4

#define MEMBER(m, off) ((unsigned char *)(m) + (off))

void msggen_seed(struct msggen *g, uint64_t seed)
{
	g->state = seed != 0 ? seed : 0x243f6a8885a308d3ULL;
}

uint64_t msggen_rand(struct msggen *g)
{
	g->state ^= g->state << 13;
	g->state ^= g->state >> 7;
	g->state ^= g->state << 17;
	return g->state;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static bool is_time(const ProtobufCFieldDescriptor *f)
{
	size_t n = strlen(f->name);
	return f->type == PROTOBUF_C_TYPE_STRING &&
	       ((n >= 4 && strcmp(f->name + n - 4, "Time") == 0) ||
	        (n >= 9 && strcmp(f->name + n - 9, "Timestamp") == 0));
}

/* protoc-c's form of map<K, V> name = N: repeated NameEntry name = N, with
 * NameEntry { K key = 1; V value = 2; }. */
static bool is_map(const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	size_t n = strlen(f->name);

	return f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE &&
	       ed->n_fields == 2 && strcmp(ed->fields[0].name, "key") == 0 &&
	       ed->fields[0].id == 1 && strcmp(ed->fields[1].name, "value") == 0 &&
	       ed->fields[1].id == 2 && strlen(ed->short_name) == n + 5 &&
	       ed->short_name[0] == (f->name[0] & ~0x20) &&
	       strncmp(ed->short_name + 1, f->name + 1, n - 1) == 0 &&
	       strcmp(ed->short_name + n, "Entry") == 0;
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static char *gen_string(struct msggen *g, const ProtobufCFieldDescriptor *f)
{
	/* ASCII, what JSON must escape, and every UTF-8 length up to U+10FFFF */
	static const char *const pieces[] = {
	    "a",
	    "Z",
	    "0",
	    " ",
	    "\"",
	    "\\",
	    "/",
	    "\x01",
	    "\x1f",
	    "\n",
	    "\x7f",
	    "\xc3\xa9",
	    "\xe2\x82\xac",
	    "\xe2\x80\xa8",
	    "\xef\xbf\xbf",
	    "\xf0\x9f\x98\x80",
	    "\xf4\x8f\xbf\xbf",
	};
	char *s;

	if (is_time(f)) {
		int64_t ms =
		    GF_TIME_MIN_MS +
		    (int64_t)(msggen_rand(g) % (uint64_t)(GF_TIME_MAX_MS - GF_TIME_MIN_MS));
		if (msggen_rand(g) % 2)
			ms -= ms % 1000;
		s = xmalloc(GF_TIME_BUFSIZE);
		if (gf_time_format(ms, s, GF_TIME_BUFSIZE) != GF_OK)
			abort();
		return s;
	}
	size_t n = msggen_rand(g) % 12, o = 0;
	s = xmalloc(n * 4 + 1);
	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[msggen_rand(g) % (sizeof(pieces) / sizeof(pieces[0]))];
		memcpy(s + o, p, strlen(p));
		o += strlen(p);
	}
	s[o] = '\0';
	return s;
}

static double gen_double(struct msggen *g)
{
	static const double special[] = {0.0,
	                                 -0.0,
	                                 1.0,
	                                 -1.0,
	                                 0.1,
	                                 0.5354,
	                                 1e21,
	                                 1e-7,
	                                 5e-324,
	                                 2.2250738585072014e-308,
	                                 1.7976931348623157e308,
	                                 9007199254740993.0,
	                                 INFINITY,
	                                 -INFINITY};
	uint64_t r = msggen_rand(g);
	double v;

	switch (r % 4) {
	case 0:
		return special[msggen_rand(g) % (sizeof(special) / sizeof(special[0]))];
	case 1:
		return (double)(int64_t)(msggen_rand(g) % 2000001) / 1000.0 - 1000.0;
	case 2:
		return NAN;
	default:
		r = msggen_rand(g);
		memcpy(&v, &r, sizeof(v));
		return isnan(v) ? 0.25 : v;
	}
}

static uint64_t gen_u64(struct msggen *g)
{
	static const uint64_t special[] = {0,
	                                   1,
	                                   127,
	                                   128,
	                                   0x7fffffff,
	                                   0x80000000,
	                                   0xffffffff,
	                                   (1ULL << 53),
	                                   (1ULL << 53) + 1,
	                                   INT64_MAX,
	                                   (uint64_t)INT64_MAX + 1,
	                                   UINT64_MAX,
	                                   (uint64_t)-1 << 53};
	switch (msggen_rand(g) % 3) {
	case 0:
		return special[msggen_rand(g) % (sizeof(special) / sizeof(special[0]))];
	case 1:
		return msggen_rand(g) % 1000;
	default:
		return msggen_rand(g) >> (msggen_rand(g) % 64);
	}
}

static ProtobufCMessage *gen_message(struct msggen *g, const ProtobufCMessageDescriptor *d,
                                     int depth);

static void gen_value(struct msggen *g, const ProtobufCFieldDescriptor *f, void *dst, int depth)
{
	uint64_t u = gen_u64(g);

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		uint32_t v = (uint32_t)u;
		if (msggen_rand(g) % 2 && f->type != PROTOBUF_C_TYPE_UINT32 &&
		    f->type != PROTOBUF_C_TYPE_FIXED32)
			v = (uint32_t) - (int32_t)(u % 5000);
		memcpy(dst, &v, sizeof(v));
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT: {
		float v = (float)gen_double(g);
		memcpy(dst, &v, sizeof(v));
		break;
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v = gen_double(g);
		memcpy(dst, &v, sizeof(v));
		break;
	}
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean v = (protobuf_c_boolean)(u & 1);
		memcpy(dst, &v, sizeof(v));
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		int v = ed->values[msggen_rand(g) % ed->n_values].value;
		memcpy(dst, &v, sizeof(v));
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char *s = gen_string(g, f);
		memcpy(dst, &s, sizeof(s));
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData bd = {msggen_rand(g) % 9, NULL};
		if (bd.len > 0) {
			bd.data = xmalloc(bd.len);
			for (size_t i = 0; i < bd.len; i++)
				bd.data[i] = (uint8_t)msggen_rand(g);
		}
		memcpy(dst, &bd, sizeof(bd));
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = gen_message(g, f->descriptor, depth + 1);
		memcpy(dst, &sub, sizeof(sub));
		break;
	}
	default: /* the 64-bit integers */
		if (msggen_rand(g) % 2 &&
		    (f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_SINT64 ||
		     f->type == PROTOBUF_C_TYPE_SFIXED64))
			u = 0 - (u % 100000);
		memcpy(dst, &u, sizeof(u));
	}
}

/* Marks an optional scalar present (strings and messages are by pointer). */
static void set_has(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m)
{
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE) {
		protobuf_c_boolean has = 1;
		memcpy(MEMBER(m, f->quantifier_offset), &has, sizeof(has));
	}
}

/* Whether entry e has the key of one of the k entries before it. */
static bool key_taken(const ProtobufCFieldDescriptor *key, ProtobufCMessage *const *entries,
                      size_t k, const ProtobufCMessage *e)
{
	const void *ke = MEMBER(e, key->offset);

	for (size_t i = 0; i < k; i++) {
		const void *ki = MEMBER(entries[i], key->offset);
		if (key->type == PROTOBUF_C_TYPE_STRING
		        ? strcmp(*(char *const *)ki, *(char *const *)ke) == 0
		        : memcmp(ki, ke, elem_size(key->type)) == 0)
			return true;
	}
	return false;
}

/* The n entries of a map field, keys distinct, key and value both set. */
static ProtobufCMessage **gen_map(struct msggen *g, const ProtobufCFieldDescriptor *f, size_t n,
                                  int depth)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *key = &ed->fields[0], *value = &ed->fields[1];
	ProtobufCMessage **entries = xmalloc(n * sizeof(*entries));

	for (size_t k = 0; k < n; k++) {
		ProtobufCMessage *e = xmalloc(ed->sizeof_message);
		protobuf_c_message_init(ed, e);
		for (int tries = 0;; tries++) {
			gen_value(g, key, MEMBER(e, key->offset), depth + 1);
			if (!key_taken(key, entries, k, e))
				break;
			if (key->type == PROTOBUF_C_TYPE_STRING)
				free(*(char **)(void *)MEMBER(e, key->offset));
			if (tries == 100)
				abort(); /* a bool key has two values: callers ask for two entries
				          */
		}
		gen_value(g, value, MEMBER(e, value->offset), depth + 1);
		set_has(key, e);
		set_has(value, e);
		entries[k] = e;
	}
	return entries;
}

static ProtobufCMessage *gen_message(struct msggen *g, const ProtobufCMessageDescriptor *d,
                                     int depth)
{
	ProtobufCMessage *m = xmalloc(d->sizeof_message);

	protobuf_c_message_init(d, m);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool deep = f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= MAX_DEPTH;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = deep ? 0 : msggen_rand(g) % 4, es = elem_size(f->type);
			void *arr = NULL;
			if (n > 0 && is_map(f)) {
				if (((const ProtobufCMessageDescriptor *)f->descriptor)
				            ->fields[0]
				            .type == PROTOBUF_C_TYPE_BOOL &&
				    n > 2)
					n = 2;
				arr = gen_map(g, f, n, depth);
			} else if (n > 0) {
				arr = xmalloc(n * es);
				for (size_t k = 0; k < n; k++)
					gen_value(g, f, (unsigned char *)arr + k * es, depth);
			}
			memcpy(MEMBER(m, f->quantifier_offset), &n, sizeof(n));
			memcpy(MEMBER(m, f->offset), &arr, sizeof(arr));
			continue;
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which;
			memcpy(&which, MEMBER(m, f->quantifier_offset), sizeof(which));
			/* each member in turn takes the oneof with probability 1/3 */
			if (which != 0 || deep || msggen_rand(g) % 3 != 0)
				continue;
			gen_value(g, f, MEMBER(m, f->offset), depth);
			memcpy(MEMBER(m, f->quantifier_offset), &f->id, sizeof(f->id));
			continue;
		}
		if (f->label == PROTOBUF_C_LABEL_OPTIONAL && (deep || msggen_rand(g) % 2))
			continue;
		gen_value(g, f, MEMBER(m, f->offset), depth);
		set_has(f, m);
	}
	return m;
}

ProtobufCMessage *msggen_message(struct msggen *g, const ProtobufCMessageDescriptor *d)
{
	return gen_message(g, d, 1);
}
