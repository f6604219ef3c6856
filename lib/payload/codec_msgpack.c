/* SPDX-License-Identifier: MIT */
/*
 * codec_msgpack.c - the msgpack encoding (application/msgpack) of the codec.
 *
 * msgpack carries the JSON document model (codec.h) with native types: ints,
 * float64, str, bin, nil. Encoding uses libmsgpackc's packer, which picks the
 * shortest form of each value. Decoding is our own strict streaming reader
 * straight into the message: libmsgpackc's unpacker first builds a tree and
 * allocates an array as long as the length an input claims (a five-byte
 * input can ask for gigabytes), and accepts what we must refuse.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"

#include <math.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"

#define MEMBER(m, off) ((unsigned char *)(m) + (off))
#define NAME_NUL       GF__CODEC_NAME_NUL

/* --- msgpack decoding ---------------------------------------------------- */

struct mdec {
	struct gf__codec_ctx *cx;
	const uint8_t *start, *p, *end;
};

enum mkind { MK_NIL, MK_BOOL, MK_UINT, MK_NEG, MK_FLOAT, MK_STR, MK_BIN, MK_ARRAY, MK_MAP };

struct mitem {
	enum mkind kind;
	bool b;
	uint64_t u; /* MK_UINT: the value; MK_NEG: its magnitude */
	double f;
	const uint8_t *s; /* MK_STR, MK_BIN: n bytes; MK_ARRAY, MK_MAP: n entries */
	uint32_t n;
};

static enum gf_err mp_bad(struct mdec *m, const uint8_t *at, const char *what)
{
	return gf__codec_fail(m->cx, "invalid msgpack at byte %zu: %s", (size_t)(at - m->start),
	                      what);
}

static uint64_t load_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Reads n big-endian bytes; false if the input ends first. */
static bool take(struct mdec *m, unsigned n, uint64_t *v)
{
	if ((size_t)(m->end - m->p) < n)
		return false;
	*v = load_be(m->p, n);
	m->p += n;
	return true;
}

/* The rest of a str or bin of v bytes, bounds-checked. */
static enum gf_err mp_span(struct mdec *m, const uint8_t *at, uint64_t v, struct mitem *it)
{
	if (v > (uint64_t)(m->end - m->p))
		return mp_bad(m, at, "truncated");
	it->s = m->p;
	it->n = (uint32_t)v;
	m->p += v;
	return GF_OK;
}

/* An array or map of v entries: no more than bytes remain (each takes one
 * at least), which bounds every allocation by the input's length. */
static enum gf_err mp_count(struct mdec *m, const uint8_t *at, uint64_t v, struct mitem *it)
{
	if (v > (uint64_t)(m->end - m->p) / (it->kind == MK_MAP ? 2 : 1))
		return mp_bad(m, at, "truncated");
	it->n = (uint32_t)v;
	return GF_OK;
}

/* float 32 (0xca) or float 64 (0xcb). */
static enum gf_err mp_read_float(struct mdec *m, const uint8_t *at, unsigned c, struct mitem *it)
{
	uint64_t v = 0;
	uint32_t f32;
	float f;

	if (!take(m, c == 0xca ? 4 : 8, &v))
		return mp_bad(m, at, "truncated");
	it->kind = MK_FLOAT;
	if (c == 0xca) {
		f32 = (uint32_t)v;
		memcpy(&f, &f32, sizeof(f));
		it->f = f;
	} else {
		memcpy(&it->f, &v, sizeof(it->f));
	}
	return GF_OK;
}

/* uint 8..64 (0xcc-0xcf) or int 8..64 (0xd0-0xd3). */
static enum gf_err mp_read_int(struct mdec *m, const uint8_t *at, unsigned c, struct mitem *it)
{
	uint64_t v = 0;
	unsigned n = c <= 0xcf ? 1u << (c - 0xcc) : 1u << (c - 0xd0);

	if (!take(m, n, &v))
		return mp_bad(m, at, "truncated");
	if (c <= 0xcf) {
		it->kind = MK_UINT;
		it->u = v;
		return GF_OK;
	}
	if (n < 8 && (v >> (8 * n - 1)) != 0)
		v |= ~(uint64_t)0 << (8 * n); /* sign-extend */
	if ((int64_t)v < 0) {
		it->kind = MK_NEG;
		it->u = 0 - v;
	} else {
		it->kind = MK_UINT;
		it->u = v;
	}
	return GF_OK;
}

/* bin 8..32 (0xc4-0xc6), str 8..32 (0xd9-0xdb), array 16/32 (0xdc, 0xdd)
 * and map 16/32 (0xde, 0xdf): a big-endian length, then the span. */
static enum gf_err mp_read_sized(struct mdec *m, const uint8_t *at, unsigned c, struct mitem *it)
{
	uint64_t v = 0;
	unsigned w;

	if (c <= 0xc6) {
		it->kind = MK_BIN;
		w = 1u << (c - 0xc4);
	} else if (c <= 0xdb) {
		it->kind = MK_STR;
		w = 1u << (c - 0xd9);
	} else {
		it->kind = c <= 0xdd ? MK_ARRAY : MK_MAP;
		w = c & 1 ? 4 : 2;
	}
	if (!take(m, w, &v))
		return mp_bad(m, at, "truncated");
	if (it->kind == MK_BIN || it->kind == MK_STR)
		return mp_span(m, at, v, it);
	return mp_count(m, at, v, it);
}

/* Reads one item's header. Strings and bins are bounds-checked; arrays and
 * maps may not claim more entries than bytes remain (mp_count). */
static enum gf_err mp_read(struct mdec *m, struct mitem *it)
{
	const uint8_t *at = m->p;
	unsigned c;

	if (m->p >= m->end)
		return mp_bad(m, at, "truncated");
	c = *m->p++;
	if (c <= 0x7f) {
		it->kind = MK_UINT;
		it->u = c;
		return GF_OK;
	}
	if (c >= 0xe0) {
		it->kind = MK_NEG;
		it->u = 256 - c;
		return GF_OK;
	}
	if (c <= 0x9f) {
		it->kind = c <= 0x8f ? MK_MAP : MK_ARRAY;
		return mp_count(m, at, c & 0x0f, it);
	}
	if (c <= 0xbf) {
		it->kind = MK_STR;
		return mp_span(m, at, c & 0x1f, it);
	}
	switch (c) {
	case 0xc0:
		it->kind = MK_NIL;
		return GF_OK;
	case 0xc2:
	case 0xc3:
		it->kind = MK_BOOL;
		it->b = c == 0xc3;
		return GF_OK;
	case 0xca:
	case 0xcb:
		return mp_read_float(m, at, c, it);
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3:
		return mp_read_int(m, at, c, it);
	case 0xc4:
	case 0xc5:
	case 0xc6:
	case 0xd9:
	case 0xda:
	case 0xdb:
	case 0xdc:
	case 0xdd:
	case 0xde:
	case 0xdf:
		return mp_read_sized(m, at, c, it);
	default: /* 0xc1 (never used), ext and fixext */
		return mp_bad(m, at, "unsupported type");
	}
}

static enum gf_err mp_int_range(struct mdec *m, const struct mitem *it, ProtobufCType type)
{
	return gf__codec_fail(m->cx, "%s%llu is out of range for %s", it->kind == MK_NEG ? "-" : "",
	                      (unsigned long long)it->u, gf__codec_type_name(type));
}

static enum gf_err mp_message(struct mdec *m, const ProtobufCMessageDescriptor *d,
                              ProtobufCMessage *msg, uint32_t npairs);

/* A float or double field from any msgpack number. */
static enum gf_err mp_number(struct gf__codec_ctx *cx, const ProtobufCFieldDescriptor *f,
                             const struct mitem *it, void *dst)
{
	double v;

	if (it->kind == MK_FLOAT)
		v = it->f;
	else if (it->kind == MK_UINT)
		v = (double)it->u;
	else if (it->kind == MK_NEG)
		v = -(double)it->u;
	else
		return gf__codec_fail(cx, "expected a number");
	if (isnan(v))
		v = NAN; /* the model has one NaN, the one JSON's "NaN" decodes to */
	cx->nonfinite |= !isfinite(v);
	if (f->type == PROTOBUF_C_TYPE_FLOAT) {
		float fv;
		if (!gf__codec_to_float(v, &fv))
			return gf__codec_fail(cx, "%g is out of range for float", v);
		memcpy(dst, &fv, sizeof(fv));
	} else {
		memcpy(dst, &v, sizeof(v));
	}
	return GF_OK;
}

/* An enum field from its value's name or number. */
static enum gf_err mp_enum(struct gf__codec_ctx *cx, const ProtobufCFieldDescriptor *f,
                           const struct mitem *it, void *dst)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	const ProtobufCEnumValue *ev = NULL;
	int32_t v;

	if (it->kind == MK_STR) {
		ev = gf__codec_enum_by_name(ed, (const char *)it->s, it->n);
		if (ev == NULL)
			return gf__codec_fail_quoted(cx, "unknown enum value", (const char *)it->s,
			                             it->n);
	} else if (it->kind == MK_UINT || it->kind == MK_NEG) {
		if (gf__codec_store_int(PROTOBUF_C_TYPE_INT32, it->kind == MK_NEG, it->u, &v))
			ev = protobuf_c_enum_descriptor_get_value(ed, v);
		if (ev == NULL)
			return gf__codec_fail(cx, "unknown enum value %s%llu",
			                      it->kind == MK_NEG ? "-" : "",
			                      (unsigned long long)it->u);
	} else {
		return gf__codec_fail(cx, "expected an enum value name");
	}
	memcpy(dst, &ev->value, sizeof(ev->value));
	return GF_OK;
}

/* A string field: valid UTF-8 without NUL, copied into the arena. */
static enum gf_err mp_string(struct gf__codec_ctx *cx, const ProtobufCFieldDescriptor *f,
                             const struct mitem *it, void *dst)
{
	char *s;

	if (it->kind != MK_STR)
		return gf__codec_fail(cx, "expected a string");
	if (memchr(it->s, '\0', it->n) != NULL)
		return gf__codec_fail(cx, "NUL character in string");
	if (!gf__codec_utf8_valid(it->s, it->n))
		return gf__codec_fail(cx, "invalid UTF-8");
	s = gf__codec_alloc(cx, (size_t)it->n + 1);
	if (s == NULL)
		return GF_ENOMEM;
	memcpy(s, it->s, it->n);
	s[it->n] = '\0';
	return gf__codec_finish_string(cx, f, s, it->n, dst);
}

/* A bytes field from a bin, copied into the arena. */
static enum gf_err mp_bytes(struct gf__codec_ctx *cx, const struct mitem *it, void *dst)
{
	ProtobufCBinaryData bd = {0, NULL};

	if (it->kind != MK_BIN)
		return gf__codec_fail(cx, "expected bytes (bin)");
	if (it->n > 0) {
		bd.data = gf__codec_alloc(cx, it->n);
		if (bd.data == NULL)
			return GF_ENOMEM;
		memcpy(bd.data, it->s, it->n);
		bd.len = it->n;
	}
	memcpy(dst, &bd, sizeof(bd));
	return GF_OK;
}

/* A message field from a map of it->n pairs, decoded in place. */
static enum gf_err mp_submessage(struct mdec *m, const ProtobufCFieldDescriptor *f,
                                 const struct mitem *it, void *dst)
{
	const ProtobufCMessageDescriptor *md = f->descriptor;
	ProtobufCMessage *sub;
	enum gf_err rc;

	if (it->kind != MK_MAP)
		return gf__codec_fail(m->cx, "expected a map");
	sub = gf__codec_alloc(m->cx, md->sizeof_message);
	if (sub == NULL)
		return GF_ENOMEM;
	protobuf_c_message_init(md, sub);
	rc = mp_message(m, md, sub, it->n);
	if (rc == GF_OK)
		memcpy(dst, &sub, sizeof(sub));
	return rc;
}

static enum gf_err mp_value(struct mdec *m, const ProtobufCFieldDescriptor *f,
                            const struct mitem *it, void *dst)
{
	struct gf__codec_ctx *cx = m->cx;
	protobuf_c_boolean b;

	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return mp_number(cx, f, it, dst);
	case PROTOBUF_C_TYPE_BOOL:
		if (it->kind != MK_BOOL)
			return gf__codec_fail(cx, "expected true or false");
		b = it->b;
		memcpy(dst, &b, sizeof(b));
		return GF_OK;
	case PROTOBUF_C_TYPE_ENUM:
		return mp_enum(cx, f, it, dst);
	case PROTOBUF_C_TYPE_STRING:
		return mp_string(cx, f, it, dst);
	case PROTOBUF_C_TYPE_BYTES:
		return mp_bytes(cx, it, dst);
	case PROTOBUF_C_TYPE_MESSAGE:
		return mp_submessage(m, f, it, dst);
	default:
		if (it->kind != MK_UINT && it->kind != MK_NEG)
			return gf__codec_fail(cx, "expected an integer");
		if (!gf__codec_store_int(f->type, it->kind == MK_NEG, it->u, dst))
			return mp_int_range(m, it, f->type);
		return GF_OK;
	}
}

/* A map field: a msgpack map of str keys to the entries' values. Entries are
 * a nesting level, as they are in protobuf. */
static enum gf_err mp_map(struct mdec *m, const ProtobufCFieldDescriptor *f,
                          const struct gf__codec_map *map, ProtobufCMessage *msg,
                          const struct mitem *it)
{
	struct gf__codec_ctx *cx = m->cx;
	ProtobufCMessage **arr;
	enum gf_err rc = GF_OK;
	size_t n = it->n;

	if (it->kind != MK_MAP)
		return gf__codec_fail(cx, "expected a map");
	if (n == 0)
		return GF_OK;
	if (cx->depth >= GF_CODEC_MAX_DEPTH)
		return gf__codec_fail(cx, "nesting deeper than %d", GF_CODEC_MAX_DEPTH);
	arr = gf__codec_alloc(cx, n * sizeof(*arr));
	if (arr == NULL)
		return GF_ENOMEM;
	cx->depth++;
	for (size_t k = 0; k < n && rc == GF_OK; k++) {
		struct mitem key, val;
		const uint8_t *at = m->p;
		rc = mp_read(m, &key);
		if (rc == GF_OK && key.kind != MK_STR)
			rc = mp_bad(m, at, "map key is not a string");
		if (rc == GF_OK && (arr[k] = gf__codec_map_entry_new(cx, map)) == NULL)
			rc = GF_ENOMEM;
		if (rc == GF_OK)
			rc = gf__codec_map_set_key(cx, map, (const char *)key.s, key.n, arr[k]);
		if (rc != GF_OK)
			break;
		gf__codec_path_push(cx, (const char *)key.s, key.n);
		rc = mp_read(m, &val);
		if (rc == GF_OK)
			rc = mp_value(m, map->value, &val, MEMBER(arr[k], map->value->offset));
		if (rc == GF_OK)
			cx->npath--;
	}
	cx->depth--;
	if (rc != GF_OK)
		return rc;
	memcpy(MEMBER(msg, f->quantifier_offset), &n, sizeof(n));
	memcpy(MEMBER(msg, f->offset), &arr, sizeof(arr));
	return gf__codec_map_unique(cx, map, arr, n);
}

static enum gf_err mp_field(struct mdec *m, const ProtobufCMessageDescriptor *d,
                            const ProtobufCFieldDescriptor *f, ProtobufCMessage *msg,
                            const struct mitem *it)
{
	struct gf__codec_ctx *cx = m->cx;
	size_t es = gf__codec_elem_size(f->type);
	struct gf__codec_map map;
	unsigned char *arr;
	enum gf_err rc;

	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		rc = gf__codec_claim_oneof(cx, d, f, msg);
		if (rc == GF_OK)
			rc = mp_value(m, f, it, MEMBER(msg, f->offset));
		if (rc == GF_OK)
			gf__codec_mark_set(f, msg);
		return rc;
	}
	if (gf__codec_map_of(f, &map))
		return mp_map(m, f, &map, msg, it);
	if (it->kind != MK_ARRAY)
		return gf__codec_fail(cx, "expected an array");
	if (it->n == 0)
		return GF_OK;
	arr = gf__codec_alloc(cx, it->n * es);
	if (arr == NULL)
		return GF_ENOMEM;
	for (uint32_t k = 0; k < it->n; k++) {
		struct mitem el;
		gf__codec_path_index(cx, k);
		rc = mp_read(m, &el);
		if (rc == GF_OK)
			rc = mp_value(m, f, &el, arr + k * es);
		if (rc != GF_OK)
			return rc;
		cx->npath--;
	}
	{
		size_t n = it->n;
		memcpy(MEMBER(msg, f->quantifier_offset), &n, sizeof(n));
		memcpy(MEMBER(msg, f->offset), &arr, sizeof(arr));
	}
	return GF_OK;
}

static enum gf_err mp_message(struct mdec *m, const ProtobufCMessageDescriptor *d,
                              ProtobufCMessage *msg, uint32_t npairs)
{
	struct gf__codec_ctx *cx = m->cx;
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
	for (uint32_t i = 0; i < npairs; i++) {
		const ProtobufCFieldDescriptor *f;
		struct mitem key, val;
		const uint8_t *at = m->p;
		size_t idx;
		rc = mp_read(m, &key);
		if (rc != GF_OK)
			goto out;
		if (key.kind != MK_STR) {
			rc = mp_bad(m, at, "map key is not a string");
			goto out;
		}
		f = gf__codec_field_by_name(d, (const char *)key.s, key.n);
		if (f == NULL) {
			gf__codec_path_push(cx, (const char *)key.s, key.n);
			rc = gf__codec_fail(cx, "unknown field");
			goto out;
		}
		idx = (size_t)(f - d->fields);
		gf__codec_path_push(cx, f->name, NAME_NUL);
		if (cx->scratch[state + idx] != GF__CODEC_UNSEEN) {
			rc = gf__codec_fail(cx, "duplicate field");
			goto out;
		}
		rc = mp_read(m, &val);
		if (rc != GF_OK)
			goto out;
		if (val.kind != MK_NIL) {
			rc = mp_field(m, d, f, msg, &val);
			if (rc != GF_OK)
				goto out;
		}
		cx->npath--;
		cx->scratch[state + idx] = val.kind == MK_NIL ? GF__CODEC_NULL : GF__CODEC_SET;
	}
	rc = gf__codec_check_required(cx, d, cx->scratch + state);
out:
	cx->used = mark;
	cx->depth--;
	return rc;
}

enum gf_err gf__codec_from_msgpack(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                   size_t len, ProtobufCMessage **out, bool *nonfinite, char *err,
                                   size_t errlen)
{
	struct gf__codec_ctx cx;
	struct mdec m;
	struct mitem root_item;
	ProtobufCMessage *root = NULL;
	enum gf_err rc;

	gf__codec_ctx_init(&cx, err, errlen);
	if (d == NULL || (data == NULL && len > 0) || out == NULL)
		return GF_EINVAL;
	/* Decoded structs run about twice the size of compact msgpack. */
	rc = gf__codec_begin(&cx, d, len * 2, &root);
	if (rc != GF_OK)
		goto out;
	m.cx = &cx;
	m.start = m.p = data;
	m.end = data + len;
	rc = mp_read(&m, &root_item);
	if (rc != GF_OK)
		goto out;
	if (root_item.kind != MK_MAP) {
		rc = gf__codec_fail(&cx, "expected a map");
		goto out;
	}
	rc = mp_message(&m, d, root, root_item.n);
	if (rc != GF_OK)
		goto out;
	if (m.p != m.end) {
		rc = mp_bad(&m, m.p, "trailing bytes");
		goto out;
	}
	*out = root;
	*nonfinite = cx.nonfinite;
	gf__codec_release(&cx);
out:
	if (rc == GF_ENOMEM && cx.errlen > 0)
		snprintf(cx.err, cx.errlen, "out of memory");
	gf__codec_ctx_fini(&cx);
	return rc;
}

/* --- msgpack encoding ---------------------------------------------------- */

static int mp_write(void *data, const char *buf, size_t len)
{
	struct gf__codec_buf *b = data;
	char *p = gf__codec_buf_reserve(b, len);

	if (p == NULL)
		return -1;
	memcpy(p, buf, len);
	b->len += len;
	return 0;
}

static enum gf_err mp_emit_message(msgpack_packer *pk, const ProtobufCMessage *m, unsigned depth);

static int mp_str(msgpack_packer *pk, const char *s, size_t n)
{
	int r = msgpack_pack_str(pk, n);
	return r == 0 ? msgpack_pack_str_body(pk, s, n) : r;
}

static enum gf_err mp_emit_value(msgpack_packer *pk, const ProtobufCFieldDescriptor *f,
                                 const void *v, unsigned depth)
{
	int r;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		r = msgpack_pack_int32(pk, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		r = msgpack_pack_uint32(pk, *(const uint32_t *)v);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		r = msgpack_pack_int64(pk, *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		r = msgpack_pack_uint64(pk, *(const uint64_t *)v);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		r = msgpack_pack_double(pk, *(const float *)v);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		r = msgpack_pack_double(pk, *(const double *)v);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		r = *(const protobuf_c_boolean *)v ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);
		if (ev == NULL)
			return GF_EINVAL;
		r = mp_str(pk, ev->name, strlen(ev->name));
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char canon[GF_TIME_BUFSIZE];
		const char *s;
		size_t n;
		if (gf__codec_out_string(f, *(const char *const *)v, canon, &s, &n) != GF_OK ||
		    !gf__codec_utf8_valid((const unsigned char *)s, n))
			return GF_EINVAL;
		r = mp_str(pk, s, n);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = v;
		if (bd->len > 0 && bd->data == NULL)
			return GF_EINVAL;
		r = msgpack_pack_bin(pk, bd->len);
		if (r == 0 && bd->len > 0)
			r = msgpack_pack_bin_body(pk, bd->data, bd->len);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)v;
		if (sub == NULL)
			return GF_EINVAL;
		return mp_emit_message(pk, sub, depth + 1);
	}
	default:
		return GF_EINVAL;
	}
	return r == 0 ? GF_OK : GF_ENOMEM;
}

/* A map field as a msgpack map, entries in their stored order. */
static enum gf_err mp_emit_map(msgpack_packer *pk, const struct gf__codec_map *map,
                               const ProtobufCMessage *const *entries, size_t n, unsigned depth)
{
	enum gf_err rc;

	if (depth + 1 > GF_CODEC_MAX_DEPTH)
		return GF_EINVAL; /* entries are a level, as in protobuf */
	rc = gf__codec_map_check(map, entries, n);
	if (rc != GF_OK)
		return rc;
	if (msgpack_pack_map(pk, n) != 0)
		return GF_ENOMEM;
	for (size_t k = 0; k < n; k++) {
		char buf[24];
		const char *s;
		size_t len;
		rc = gf__codec_map_key_text(map, entries[k], buf, &s, &len);
		if (rc != GF_OK)
			return rc;
		if (mp_str(pk, s, len) != 0)
			return GF_ENOMEM;
		rc = mp_emit_value(pk, map->value, gf__codec_map_value(map, entries[k]), depth + 1);
		if (rc != GF_OK)
			return rc;
	}
	return GF_OK;
}

static enum gf_err mp_emit_message(msgpack_packer *pk, const ProtobufCMessage *m, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	size_t count = 0;
	enum gf_err rc;

	if (depth > GF_CODEC_MAX_DEPTH || d == NULL)
		return GF_EINVAL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (gf__codec_present(m, &d->fields[i]) > 0)
			count++;
		else if (d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED)
			return GF_EINVAL; /* a required string or message is NULL */
	}
	if (msgpack_pack_map(pk, count) != 0)
		return GF_ENOMEM;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t n = gf__codec_present(m, f);
		if (n == 0)
			continue;
		if (mp_str(pk, f->name, strlen(f->name)) != 0)
			return GF_ENOMEM;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			rc = mp_emit_value(pk, f, MEMBER(m, f->offset), depth);
			if (rc != GF_OK)
				return rc;
			continue;
		}
		const unsigned char *arr =
		    *(const unsigned char *const *)(const void *)MEMBER(m, f->offset);
		size_t es = gf__codec_elem_size(f->type);
		struct gf__codec_map map;
		if (gf__codec_map_of(f, &map)) {
			rc = mp_emit_map(
			    pk, &map, (const ProtobufCMessage *const *)(const void *)arr, n, depth);
			if (rc != GF_OK)
				return rc;
			continue;
		}
		if (msgpack_pack_array(pk, n) != 0)
			return GF_ENOMEM;
		for (size_t k = 0; k < n; k++) {
			rc = mp_emit_value(pk, f, arr + k * es, depth);
			if (rc != GF_OK)
				return rc;
		}
	}
	return GF_OK;
}

enum gf_err gf_codec_to_msgpack(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	struct gf__codec_buf b = {NULL, 0, 0};
	msgpack_packer pk;
	enum gf_err rc;

	if (m == NULL || out == NULL || len == NULL)
		return GF_EINVAL;
	msgpack_packer_init(&pk, &b, mp_write);
	rc = mp_emit_message(&pk, m, 1);
	if (rc == GF_OK && b.data == NULL)
		rc = GF_ENOMEM; /* cannot happen: a map header is always written */
	if (rc != GF_OK) {
		free(b.data);
		return rc;
	}
	*out = (uint8_t *)b.data;
	*len = b.len;
	return GF_OK;
}

enum gf_err gf_codec_from_msgpack(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                  size_t len, ProtobufCMessage **out, char *err, size_t errlen)
{
	bool nonfinite;

	return gf__codec_from_msgpack(d, data, len, out, &nonfinite, err, errlen);
}
