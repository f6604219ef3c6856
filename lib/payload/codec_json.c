/* SPDX-License-Identifier: MIT */
/*
 * codec_json.c - decoding the JSON encoding (application/json) of the codec
 * (encoding is in codec_json_emit.c).
 *
 * A strict RFC 8259 recursive-descent parser of our own that
 * writes straight into the message, driven by the descriptor. Not cJSON: it
 * turns every number into a double (int64 beyond 2^53 is lost, 1 and 1.0
 * look alike), keeps duplicate keys, accepts a NUL-truncated document and
 * builds a malloc'd tree that we would then walk a second time. Ours needs
 * one pass, no tree and no malloc per value: every allocation comes from the
 * arena, and arrays collect on the scratch stack until their length is known.
 * This file is the structure (objects, arrays, maps, fields); the scalar
 * values are read by codec_json_value.c (codec_json_int.h).
 */
#include "payload/codec_json_int.h"

#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER(m, off) ((unsigned char *)(m) + (off))
#define NAME_NUL       GF__CODEC_NAME_NUL

/* --- JSON decoding -------------------------------------------------------- */

/* A scalar value on its way into a repeated field's scratch slot. */
union scalar {
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	float f;
	double d;
	protobuf_c_boolean b;
	char *s;
	ProtobufCBinaryData bd;
	ProtobufCMessage *m;
};

static enum gf_err parse_message(struct jdec *j, const ProtobufCMessageDescriptor *d,
                                 ProtobufCMessage *m);

static enum gf_err parse_value(struct jdec *j, const ProtobufCFieldDescriptor *f, void *dst)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return gf__json_parse_real(j, f, dst);
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b;
		if (literal(j, "true", 4))
			b = 1;
		else if (literal(j, "false", 5))
			b = 0;
		else
			return wrong_type(j, "true or false");
		memcpy(dst, &b, sizeof(b));
		return GF_OK;
	}
	case PROTOBUF_C_TYPE_ENUM:
		return gf__json_parse_enum(j, f, dst);
	case PROTOBUF_C_TYPE_STRING: {
		char *s;
		size_t n;
		enum gf_err rc;
		if (peek(j) != '"')
			return wrong_type(j, "a string");
		rc = gf__json_read_string(j, &s, &n);
		if (rc == GF_OK)
			rc = gf__codec_finish_string(j->cx, f, s, n, dst);
		return rc;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return gf__json_parse_bytes(j, dst);
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *md = f->descriptor;
		ProtobufCMessage *sub;
		enum gf_err rc;
		if (peek(j) != '{')
			return wrong_type(j, "an object");
		sub = gf__codec_alloc(j->cx, md->sizeof_message);
		if (sub == NULL)
			return GF_ENOMEM;
		protobuf_c_message_init(md, sub);
		rc = parse_message(j, md, sub);
		if (rc == GF_OK)
			memcpy(dst, &sub, sizeof(sub));
		return rc;
	}
	default:
		return gf__json_parse_integer(j, f, dst);
	}
}

/* A repeated field: elements collect on the scratch stack (nested messages
 * push and pop above them) and move to the arena once counted. */
static enum gf_err parse_array(struct jdec *j, const ProtobufCFieldDescriptor *f,
                               ProtobufCMessage *m)
{
	struct gf__codec_ctx *cx = j->cx;
	size_t es = gf__codec_elem_size(f->type), mark = cx->used, base, n = 0;
	enum gf_err rc = GF_OK;
	void *arr = NULL;

	if (peek(j) != '[')
		return wrong_type(j, "an array");
	j->p++;
	skip_ws(j);
	base = cx->used; /* elements are copied bytewise: no alignment needed */
	if (peek(j) == ']') {
		j->p++;
		goto out;
	}
	for (int k;;) {
		union scalar v;
		size_t slot = gf__codec_push(cx, es);
		if (slot == SIZE_MAX) {
			rc = GF_ENOMEM;
			goto out;
		}
		gf__codec_path_index(cx, n);
		rc = parse_value(j, f, &v);
		if (rc != GF_OK)
			goto out;
		cx->npath--;
		memcpy(cx->scratch + slot, &v, es); /* the stack may have moved */
		n++;
		k = next_or_close(j, ']');
		if (k > 0)
			continue;
		if (k == 0)
			break;
		rc = syntax(j, "expected ',' or ']'");
		goto out;
	}
	arr = gf__codec_alloc(cx, n * es);
	if (arr == NULL) {
		rc = GF_ENOMEM;
		goto out;
	}
	memcpy(arr, cx->scratch + base, n * es);
	memcpy(MEMBER(m, f->quantifier_offset), &n, sizeof(n));
	memcpy(MEMBER(m, f->offset), &arr, sizeof(arr));
out:
	cx->used = mark;
	return rc;
}

/* A map field: an object of entries, which collect on the scratch stack like
 * an array's elements. Entries are a nesting level, as they are in
 * protobuf, so that every encoding accepts the same depths. */
static enum gf_err parse_map(struct jdec *j, const ProtobufCFieldDescriptor *f,
                             const struct gf__codec_map *map, ProtobufCMessage *m)
{
	struct gf__codec_ctx *cx = j->cx;
	size_t mark = cx->used, base, n = 0;
	enum gf_err rc = GF_OK;
	ProtobufCMessage **arr;

	if (peek(j) != '{')
		return wrong_type(j, "an object");
	if (cx->depth >= GF_CODEC_MAX_DEPTH)
		return gf__codec_fail(cx, "nesting deeper than %d", GF_CODEC_MAX_DEPTH);
	cx->depth++;
	j->p++;
	skip_ws(j);
	base = cx->used;
	if (peek(j) == '}') {
		j->p++;
		goto out;
	}
	for (int k;;) {
		ProtobufCMessage *entry;
		const unsigned char *s;
		size_t len, slot = gf__codec_push(cx, sizeof(entry));
		bool plain;
		if (slot == SIZE_MAX) {
			rc = GF_ENOMEM;
			goto out;
		}
		if (peek(j) != '"') {
			rc = syntax(j, "expected a key");
			goto out;
		}
		rc = gf__json_scan_string(j, &s, &len, &plain);
		if (rc == GF_OK && !plain) {
			const unsigned char *after = j->p;
			unsigned char *d = gf__codec_alloc(cx, len + 1);
			rc = d != NULL ? gf__json_unescape(j, s, len, d, &len) : GF_ENOMEM;
			j->p = after;
			s = d;
		}
		entry = rc == GF_OK ? gf__codec_map_entry_new(cx, map) : NULL;
		if (rc == GF_OK && entry == NULL)
			rc = GF_ENOMEM;
		if (rc == GF_OK)
			rc = gf__codec_map_set_key(cx, map, (const char *)s, len, entry);
		if (rc != GF_OK)
			goto out;
		skip_ws(j);
		if (peek(j) != ':') {
			rc = syntax(j, "expected ':'");
			goto out;
		}
		j->p++;
		skip_ws(j);
		gf__codec_path_push(cx, (const char *)s, len);
		rc = parse_value(j, map->value, MEMBER(entry, map->value->offset));
		if (rc != GF_OK)
			goto out;
		cx->npath--;
		memcpy(cx->scratch + slot, &entry, sizeof(entry)); /* the stack may have moved */
		n++;
		k = next_or_close(j, '}');
		if (k > 0)
			continue;
		if (k == 0)
			break;
		rc = syntax(j, "expected ',' or '}'");
		goto out;
	}
	arr = gf__codec_alloc(cx, n * sizeof(*arr));
	if (arr == NULL) {
		rc = GF_ENOMEM;
		goto out;
	}
	memcpy(arr, cx->scratch + base, n * sizeof(*arr));
	memcpy(MEMBER(m, f->quantifier_offset), &n, sizeof(n));
	memcpy(MEMBER(m, f->offset), &arr, sizeof(arr));
	rc = gf__codec_map_unique(cx, map, arr, n);
out:
	cx->used = mark;
	cx->depth--;
	return rc;
}

static enum gf_err parse_field(struct jdec *j, const ProtobufCMessageDescriptor *d,
                               const ProtobufCFieldDescriptor *f, ProtobufCMessage *m,
                               bool *is_null)
{
	enum gf_err rc;

	*is_null = literal(j, "null", 4);
	if (*is_null)
		return GF_OK;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		struct gf__codec_map map;
		if (gf__codec_map_of(f, &map))
			return parse_map(j, f, &map, m);
		return parse_array(j, f, m);
	}
	rc = gf__codec_claim_oneof(j->cx, d, f, m);
	if (rc == GF_OK)
		rc = parse_value(j, f, MEMBER(m, f->offset));
	if (rc == GF_OK)
		gf__codec_mark_set(f, m);
	return rc;
}

/* A key; unknown and duplicate keys are errors. Keys are field names, so a
 * key that needs unescaping to more than 128 bytes matches none. */
/* Whether field name is the key s[0..n) (which holds no NUL). */
static bool name_is(const char *name, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)name[i] != s[i])
			return false; /* also where name ends first */
	}
	return name[n] == '\0';
}

/* hint: the field most likely named by the key (the one after the previous
 * key's in schema order, as canonical JSON has them), tried before the
 * binary search. */
static enum gf_err parse_key(struct jdec *j, const ProtobufCMessageDescriptor *d,
                             const ProtobufCFieldDescriptor *hint,
                             const ProtobufCFieldDescriptor **out)
{
	const unsigned char *s;
	unsigned char buf[128];
	size_t n;
	bool plain;
	enum gf_err rc;

	if (peek(j) != '"')
		return syntax(j, "expected a key");
	rc = gf__json_scan_string(j, &s, &n, &plain);
	if (rc != GF_OK)
		return rc;
	if (!plain && n <= sizeof(buf)) {
		const unsigned char *after = j->p;
		rc = gf__json_unescape(j, s, n, buf, &n);
		if (rc != GF_OK)
			return rc;
		j->p = after;
		s = buf;
	}
	if (plain && hint != NULL && name_is(hint->name, s, n)) {
		*out = hint;
		return GF_OK;
	}
	*out = gf__codec_field_by_name(d, (const char *)s, n);
	if (*out == NULL) {
		gf__codec_path_push(j->cx, (const char *)s, n);
		return gf__codec_fail(j->cx, "unknown field");
	}
	return GF_OK;
}

static enum gf_err parse_message(struct jdec *j, const ProtobufCMessageDescriptor *d,
                                 ProtobufCMessage *m)
{
	struct gf__codec_ctx *cx = j->cx;
	const ProtobufCFieldDescriptor *hint = d->n_fields > 0 ? d->fields : NULL;
	size_t mark = cx->used, state;
	enum gf_err rc = GF_OK;

	if (cx->depth >= GF_CODEC_MAX_DEPTH)
		return gf__codec_fail(cx, "nesting deeper than %d", GF_CODEC_MAX_DEPTH);
	cx->depth++;
	state = gf__codec_push(cx, d->n_fields);
	if (state == SIZE_MAX) {
		rc = GF_ENOMEM;
		goto out;
	}
	memset(cx->scratch + state, GF__CODEC_UNSEEN, d->n_fields);
	j->p++; /* '{' */
	skip_ws(j);
	if (peek(j) == '}') {
		j->p++;
		goto done;
	}
	for (int k;;) {
		const ProtobufCFieldDescriptor *f;
		size_t idx;
		bool is_null;
		rc = parse_key(j, d, hint, &f);
		if (rc != GF_OK)
			goto out;
		idx = (size_t)(f - d->fields);
		skip_ws(j);
		if (peek(j) != ':') {
			rc = syntax(j, "expected ':'");
			goto out;
		}
		j->p++;
		skip_ws(j);
		gf__codec_path_push(cx, f->name, NAME_NUL);
		if (cx->scratch[state + idx] != GF__CODEC_UNSEEN) {
			rc = gf__codec_fail(cx, "duplicate field");
			goto out;
		}
		rc = parse_field(j, d, f, m, &is_null);
		if (rc != GF_OK)
			goto out;
		cx->npath--;
		cx->scratch[state + idx] = is_null ? GF__CODEC_NULL : GF__CODEC_SET;
		hint = idx + 1 < d->n_fields ? f + 1 : NULL;
		k = next_or_close(j, '}');
		if (k > 0)
			continue;
		if (k == 0)
			break;
		rc = syntax(j, "expected ',' or '}'");
		goto out;
	}
done:
	rc = gf__codec_check_required(cx, d, cx->scratch + state);
out:
	cx->used = mark;
	cx->depth--;
	return rc;
}

enum gf_err gf__codec_from_json(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
                                ProtobufCMessage **out, bool *nonfinite, char *err, size_t errlen)
{
	struct gf__codec_ctx cx;
	struct jdec j;
	ProtobufCMessage *root = NULL;
	locale_t old;
	enum gf_err rc;

	gf__codec_ctx_init(&cx, err, errlen);
	if (d == NULL || (json == NULL && len > 0) || out == NULL)
		return GF_EINVAL;
	old = gf__codec_enter_c_locale();
	rc = gf__codec_begin(&cx, d, len, &root);
	if (rc != GF_OK)
		goto out;
	j.cx = &cx;
	j.start = j.p = (const unsigned char *)json;
	j.end = j.p + len;
	skip_ws(&j);
	if (peek(&j) != '{') {
		rc = wrong_type(&j, "an object");
		goto out;
	}
	rc = parse_message(&j, d, root);
	if (rc != GF_OK)
		goto out;
	skip_ws(&j);
	if (j.p != j.end) {
		rc = syntax(&j, "trailing characters");
		goto out;
	}
	*out = root;
	*nonfinite = cx.nonfinite;
	gf__codec_release(&cx);
out:
	if (rc == GF_ENOMEM && cx.errlen > 0)
		snprintf(cx.err, cx.errlen, "out of memory");
	gf__codec_ctx_fini(&cx);
	gf__codec_leave_c_locale(old);
	return rc;
}

enum gf_err gf_codec_from_json(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
                               ProtobufCMessage **out, char *err, size_t errlen)
{
	bool nonfinite;

	return gf__codec_from_json(d, json, len, out, &nonfinite, err, errlen);
}
