/* SPDX-License-Identifier: MIT */
/*
 * codec_map.c - map fields of the codec (codec.h): recognising protoc's
 * map entry shape, keys as text, unique keys. Reached through the
 * GF__CODEC_INTERNAL part of codec.h.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER(m, off) ((unsigned char *)(m) + (off))

/* --- map fields ------------------------------------------------------------
 *
 * protobuf-c has no map type: protoc turns `map<K, V> decisions = 5` into
 * `repeated DecisionsEntry decisions = 5` with a nested message
 * `DecisionsEntry { optional K key = 1; optional V value = 2; }` and sets no
 * flag. We recognise that shape and carry the field, as proto3 JSON does, as
 * an object {key: value, ...} whose keys are strings (integer keys in
 * decimal, bool keys "true" and "false"); entries keep their order. Keys are
 * unique: protobuf lets the last entry win, we refuse the document, as for
 * duplicate fields.
 */

bool gf__codec_map_shape(const ProtobufCFieldDescriptor *f, struct gf__codec_map *map)
{
	const ProtobufCMessageDescriptor *ed;
	const ProtobufCFieldDescriptor *k, *v;
	size_t n;

	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return false;
	ed = f->descriptor;
	if (ed == NULL || ed->n_fields != 2)
		return false;
	k = &ed->fields[0]; /* protoc-c sorts fields by number */
	v = &ed->fields[1];
	if (k->name[0] != 'k' || v->name[0] != 'v') /* the common "no", cheaply */
		return false;
	if (k->id != 1 || v->id != 2 || strcmp(k->name, "key") != 0 ||
	    strcmp(v->name, "value") != 0 || k->label == PROTOBUF_C_LABEL_REPEATED ||
	    v->label == PROTOBUF_C_LABEL_REPEATED || (k->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
	    (v->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return false;
	switch (k->type) { /* what protobuf allows as a map key */
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return false;
	default:
		break;
	}
	/* "decisions" -> "DecisionsEntry" */
	n = strlen(f->name);
	if (n == 0 || strlen(ed->short_name) != n + 5 ||
	    ed->short_name[0] !=
	        (f->name[0] >= 'a' && f->name[0] <= 'z' ? f->name[0] - 32 : f->name[0]) ||
	    memcmp(ed->short_name + 1, f->name + 1, n - 1) != 0 ||
	    strcmp(ed->short_name + n, "Entry") != 0)
		return false;
	map->entry = ed;
	map->key = k;
	map->value = v;
	return true;
}

ProtobufCMessage *gf__codec_map_entry_new(struct gf__codec_ctx *cx, const struct gf__codec_map *map)
{
	ProtobufCMessage *e = gf__codec_alloc(cx, map->entry->sizeof_message);

	if (e == NULL)
		return NULL;
	protobuf_c_message_init(map->entry, e);
	gf__codec_mark_set(map->key, e);
	gf__codec_mark_set(map->value, e);
	return e;
}

enum gf_err gf__codec_map_set_key(struct gf__codec_ctx *cx, const struct gf__codec_map *map,
                                  const char *s, size_t n, ProtobufCMessage *entry)
{
	const ProtobufCFieldDescriptor *k = map->key;
	void *dst = MEMBER(entry, k->offset);
	uint64_t mag;
	bool neg = n > 0 && s[0] == '-';

	switch (k->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char *copy;
		if (memchr(s, '\0', n) != NULL)
			return gf__codec_fail(cx, "NUL character in key");
		if (!gf__codec_utf8_valid((const unsigned char *)s, n))
			return gf__codec_fail(cx, "invalid UTF-8 in key");
		copy = gf__codec_alloc(cx, n + 1);
		if (copy == NULL)
			return GF_ENOMEM;
		memcpy(copy, s, n);
		copy[n] = '\0';
		memcpy(dst, &copy, sizeof(copy));
		return GF_OK;
	}
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b = n == 4 && memcmp(s, "true", 4) == 0;
		if (!b && !(n == 5 && memcmp(s, "false", 5) == 0))
			return gf__codec_fail_quoted(cx, "invalid bool key", s, n);
		memcpy(dst, &b, sizeof(b));
		return GF_OK;
	}
	default:
		break;
	}
	/* One text per integer: no sign but '-', no leading zero, no "-0". */
	if (n == (size_t)neg || n - neg > 20 || s[neg] < '0' || s[neg] > '9' ||
	    (s[neg] == '0' && n - neg > 1) || (neg && s[1] == '0'))
		goto bad;
	for (size_t i = (size_t)neg; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
	}
	if (!gf__codec_digits_u64((const unsigned char *)s + neg, n - neg, &mag) ||
	    !gf__codec_store_int(k->type, neg, mag, dst))
		goto bad;
	return GF_OK;
bad:
	if (cx->errlen > 0) {
		char what[32];
		snprintf(what, sizeof(what), "invalid %s key", gf__codec_type_name(k->type));
		return gf__codec_fail_quoted(cx, what, s, n);
	}
	return GF_EPARSE;
}

enum gf_err gf__codec_map_key_text(const struct gf__codec_map *map, const ProtobufCMessage *entry,
                                   char *buf, const char **s, size_t *n)
{
	const void *k = MEMBER(entry, map->key->offset);

	switch (map->key->type) {
	case PROTOBUF_C_TYPE_STRING:
		*s = *(const char *const *)k;
		if (*s == NULL)
			*s = ""; /* an absent key is the empty one, as in protobuf */
		*n = strlen(*s);
		return gf__codec_utf8_valid((const unsigned char *)*s, *n) ? GF_OK : GF_EINVAL;
	case PROTOBUF_C_TYPE_BOOL:
		*s = *(const protobuf_c_boolean *)k ? "true" : "false";
		*n = strlen(*s);
		return GF_OK;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*n = gf__codec_fmt_i64(buf, *(const int32_t *)k);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*n = gf__codec_fmt_u64(buf, *(const uint32_t *)k);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*n = gf__codec_fmt_u64(buf, *(const uint64_t *)k);
		break;
	default: /* the signed 64-bit types */
		*n = gf__codec_fmt_i64(buf, *(const int64_t *)k);
	}
	*s = buf;
	return GF_OK;
}

static int key_cmp(const ProtobufCFieldDescriptor *k, const ProtobufCMessage *a,
                   const ProtobufCMessage *b)
{
	const void *ka = MEMBER(a, k->offset), *kb = MEMBER(b, k->offset);

	switch (k->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *sa = *(const char *const *)ka, *sb = *(const char *const *)kb;
		return strcmp(sa != NULL ? sa : "", sb != NULL ? sb : "");
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: {
		int32_t x = *(const int32_t *)ka, y = *(const int32_t *)kb;
		return (x > y) - (x < y);
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t x = *(const int64_t *)ka, y = *(const int64_t *)kb;
		return (x > y) - (x < y);
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t x = *(const uint64_t *)ka, y = *(const uint64_t *)kb;
		return (x > y) - (x < y);
	}
	default: { /* uint32, fixed32, bool */
		uint32_t x = *(const uint32_t *)ka, y = *(const uint32_t *)kb;
		return (x > y) - (x < y);
	}
	}
}

/*
 * An entry whose key another entry has too, or NULL. Sorts a copy of the n
 * entry pointers (bottom-up merge sort in a, with tmp as the other half) and
 * compares neighbours: O(n log n) whatever the input, where comparing every
 * pair would let one large payload stall the broker.
 */
static const ProtobufCMessage *find_duplicate(const ProtobufCFieldDescriptor *k,
                                              const ProtobufCMessage **a,
                                              const ProtobufCMessage **tmp, size_t n)
{
	const ProtobufCMessage **src = a, **dst = tmp, **t;

	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				dst[o++] = key_cmp(k, src[j], src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[o++] = src[i++];
			while (j < hi)
				dst[o++] = src[j++];
		}
		t = src;
		src = dst;
		dst = t;
	}
	for (size_t i = 1; i < n; i++) {
		if (key_cmp(k, src[i - 1], src[i]) == 0)
			return src[i];
	}
	return NULL;
}

enum gf_err gf__codec_map_unique(struct gf__codec_ctx *cx, const struct gf__codec_map *map,
                                 ProtobufCMessage *const *entries, size_t n)
{
	const size_t ps = sizeof(void *);
	const ProtobufCMessage **a, *dup;
	size_t mark = cx->used, off;
	uintptr_t at;
	char buf[24];
	const char *s;
	size_t len;

	if (n < 2)
		return GF_OK;
	if (n > (SIZE_MAX - ps) / (2 * ps) ||
	    (off = gf__codec_push(cx, (2 * n + 1) * ps)) == SIZE_MAX)
		return GF_ENOMEM;
	at = (uintptr_t)(cx->scratch + off);
	a = (const ProtobufCMessage **)(void *)(cx->scratch + off + (ps - at % ps) % ps);
	memcpy(a, entries, n * ps);
	dup = find_duplicate(map->key, a, a + n, n);
	cx->used = mark;
	if (dup == NULL)
		return GF_OK;
	gf__codec_map_key_text(map, dup, buf, &s, &len);
	return gf__codec_fail_quoted(cx, "duplicate key", s, len);
}

const void *gf__codec_map_value(const struct gf__codec_map *map, const ProtobufCMessage *entry)
{
	static const char *const empty = "";
	const void *v = MEMBER(entry, map->value->offset);

	if (map->value->type == PROTOBUF_C_TYPE_STRING && *(const char *const *)v == NULL)
		return &empty; /* absent: the empty string, as in protobuf */
	return v;
}

enum gf_err gf__codec_map_check(const struct gf__codec_map *map,
                                const ProtobufCMessage *const *entries, size_t n)
{
	const ProtobufCMessage *small[2 * 16], **a = small, *dup;

	for (size_t i = 0; i < n; i++) {
		if (entries[i] == NULL || entries[i]->descriptor != map->entry)
			return GF_EINVAL;
		if (map->value->type == PROTOBUF_C_TYPE_MESSAGE &&
		    *(const void *const *)(const void *)MEMBER(entries[i], map->value->offset) ==
		        NULL)
			return GF_EINVAL; /* JSON has no form for it */
	}
	if (n < 2)
		return GF_OK;
	if (n > sizeof(small) / sizeof(small[0]) / 2) {
		if (n > SIZE_MAX / (2 * sizeof(*a)))
			return GF_ENOMEM;
		a = malloc(2 * n * sizeof(*a));
		if (a == NULL)
			return GF_ENOMEM;
	}
	memcpy(a, entries, n * sizeof(*a));
	dup = find_duplicate(map->key, a, a + n, n);
	if (a != small)
		free(a);
	return dup == NULL ? GF_OK : GF_EINVAL;
}
