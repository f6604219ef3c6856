/* SPDX-License-Identifier: MIT */
/*
 * codec_protobuf.c - the protobuf encoding (application/x-protobuf) of the
 * codec.
 *
 * protobuf-c packs; decoding is ours, into the same arena as the other
 * decoders. protobuf_c_message_unpack() would need a second pass of our own
 * anyway, to apply the rules it does not (unknown and repeated fields,
 * integer ranges, enum values, UTF-8, times, map keys, nesting depth - it
 * recurses without limit) and to name the field path of a fault where it
 * only says "failed"; that pass can as well fill the message, which makes
 * the protobuf path several times cheaper than unpack plus checks.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "payload/codec_pb_int.h"

#define MEMBER(m, off) ((unsigned char *)(m) + (off))
#define NAME_NUL       GF__CODEC_NAME_NUL

/* --- protobuf decoding ----------------------------------------------------- */

struct pbw {
	struct gf__codec_ctx *cx;
	const uint8_t *start;
};

static enum gf_err pb_bad(struct pbw *w, const uint8_t *at, const char *what)
{
	return gf__codec_fail(w->cx, "invalid protobuf at byte %zu: %s", (size_t)(at - w->start),
	                      what);
}

static uint64_t load_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* The range rules for a varint-encoded value, which the wire format does
 * not bound as the field type does. */
static enum gf_err pb_check_varint(struct pbw *w, const ProtobufCFieldDescriptor *f, uint64_t v)
{
	int64_t sv = (int64_t)v;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
		if (sv < INT32_MIN || sv > INT32_MAX)
			return gf__codec_fail(w->cx, "%lld is out of range for int32",
			                      (long long)sv);
		return GF_OK;
	case PROTOBUF_C_TYPE_SINT32:
		if (v > UINT32_MAX)
			return gf__codec_fail(w->cx, "%lld is out of range for sint32",
			                      (long long)((v >> 1) ^ (0 - (v & 1))));
		return GF_OK;
	case PROTOBUF_C_TYPE_UINT32:
		if (v > UINT32_MAX)
			return gf__codec_fail(w->cx, "%llu is out of range for uint32",
			                      (unsigned long long)v);
		return GF_OK;
	case PROTOBUF_C_TYPE_BOOL:
		if (v > 1)
			return gf__codec_fail(w->cx, "expected true or false");
		return GF_OK;
	case PROTOBUF_C_TYPE_ENUM:
		if (sv < INT32_MIN || sv > INT32_MAX ||
		    protobuf_c_enum_descriptor_get_value(f->descriptor, (int)sv) == NULL)
			return gf__codec_fail(w->cx, "unknown enum value %lld", (long long)sv);
		return GF_OK;
	default:
		return GF_OK;
	}
}

static enum gf_err pb_check_string(struct pbw *w, const ProtobufCFieldDescriptor *f,
                                   const uint8_t *s, size_t n)
{
	int64_t ms;
	enum gf_err rc;

	if (memchr(s, '\0', n) != NULL)
		return gf__codec_fail(w->cx, "NUL character in string");
	if (!gf__codec_utf8_valid(s, n))
		return gf__codec_fail(w->cx, "invalid UTF-8");
	if (!gf__codec_is_time_field(f))
		return GF_OK;
	rc = gf_time_parse((const char *)s, n, &ms);
	if (rc == GF_ERANGE)
		return gf__codec_fail(w->cx, "time out of range");
	if (rc != GF_OK)
		return gf__codec_fail(w->cx, "not an RFC 3339 time");
	return GF_OK;
}

/*
 * Pass 1 over one field occurrence at *pp (after its key): checks its wire
 * type, bounds and value, without descending into messages. *count (the
 * elements seen before) grows by the number of elements read.
 */
static enum gf_err pb_scan(struct pbw *w, const ProtobufCFieldDescriptor *f, unsigned wt,
                           const uint8_t **pp, const uint8_t *end, uint32_t *count)
{
	struct gf__codec_ctx *cx = w->cx;
	const uint8_t *p = *pp, *q;
	unsigned want = wire_type_of(f->type);
	uint64_t v, len;
	enum gf_err rc = GF_OK;
	bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;

	if (repeated)
		gf__codec_path_index(cx, *count);
	if (wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && repeated && packable(f->type)) {
		if (!varint5(&p, end, &len) || len > (uint64_t)(end - p))
			return pb_bad(w, *pp, "bad length");
		for (q = p, p += len; q < p; (*count)++) {
			if (cx->npath - 1 < sizeof(cx->path) / sizeof(cx->path[0]))
				cx->path[cx->npath - 1].index = *count;
			if (want == PROTOBUF_C_WIRE_TYPE_VARINT) {
				const uint8_t *at = q;
				if (!varint(&q, p, &v))
					return pb_bad(w, at, "bad varint");
				rc = pb_check_varint(w, f, v);
				if (rc != GF_OK)
					return rc;
			} else {
				size_t size = want == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
				if ((size_t)(p - q) < size)
					return pb_bad(w, q, "truncated packed field");
				q += size;
			}
		}
		goto done;
	}
	if (wt != want)
		return gf__codec_fail(cx, "wire type %u does not match %s", wt,
		                      gf__codec_type_name(f->type));
	switch (wt) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		if (!varint(&p, end, &v))
			return pb_bad(w, *pp, "bad varint");
		rc = pb_check_varint(w, f, v);
		break;
	case PROTOBUF_C_WIRE_TYPE_64BIT:
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		if ((size_t)(end - p) < (wt == PROTOBUF_C_WIRE_TYPE_32BIT ? 4u : 8u))
			return pb_bad(w, p, "truncated");
		p += wt == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
		break;
	default: /* length-prefixed; messages are checked in pass 2 */
		if (!varint5(&p, end, &len) || len > (uint64_t)(end - p))
			return pb_bad(w, *pp, "bad length");
		if (f->type == PROTOBUF_C_TYPE_STRING)
			rc = pb_check_string(w, f, p, (size_t)len);
		p += len;
	}
	if (rc != GF_OK)
		return rc;
	(*count)++;
done:
	if (repeated)
		cx->npath--;
	*pp = p;
	return GF_OK;
}

/* The model has one NaN, the one JSON's "NaN" decodes to. */
static double canon_double(uint64_t bits)
{
	double v;
	memcpy(&v, &bits, sizeof(v));
	return isnan(v) ? NAN : v;
}

static float canon_float(uint32_t bits)
{
	float v;
	memcpy(&v, &bits, sizeof(v));
	return isnan(v) ? (float)NAN : v;
}

/* Stores one scalar element (pass 1 checked it) from *pp into dst. */
static void pb_store_scalar(struct gf__codec_ctx *cx, const ProtobufCFieldDescriptor *f,
                            const uint8_t **pp, const uint8_t *end, void *dst)
{
	uint64_t v = 0;

	switch (wire_type_of(f->type)) {
	case PROTOBUF_C_WIRE_TYPE_32BIT: {
		uint32_t u = (uint32_t)load_le(*pp, 4);
		*pp += 4;
		if (f->type == PROTOBUF_C_TYPE_FLOAT) {
			float fv = canon_float(u);
			cx->nonfinite |= !isfinite(fv);
			memcpy(dst, &fv, sizeof(fv));
		} else {
			memcpy(dst, &u, sizeof(u));
		}
		return;
	}
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		v = load_le(*pp, 8);
		*pp += 8;
		if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
			double dv = canon_double(v);
			cx->nonfinite |= !isfinite(dv);
			memcpy(dst, &dv, sizeof(dv));
		} else {
			memcpy(dst, &v, sizeof(v));
		}
		return;
	default:
		varint(pp, end, &v);
	}
	store_varint(f, v, dst);
}

static enum gf_err pb_message(struct pbw *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                              const uint8_t *end, ProtobufCMessage *msg);

/* Pass 2 over one field occurrence: stores it in msg, decoding messages. */
static enum gf_err pb_fill(struct pbw *w, const ProtobufCFieldDescriptor *f, unsigned wt,
                           const uint8_t **pp, const uint8_t *end, ProtobufCMessage *msg)
{
	struct gf__codec_ctx *cx = w->cx;
	bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
	size_t es = gf__codec_elem_size(f->type), n = 0;
	unsigned char *member = MEMBER(msg, f->offset), *dst = member;
	const uint8_t *p = *pp;
	uint64_t len = 0; /* pass 1 checked every varint read here */
	enum gf_err rc = GF_OK;

	if (repeated) { /* pass 1 sized the array; n counts what is filled */
		memcpy(&n, MEMBER(msg, f->quantifier_offset), sizeof(n));
		memcpy(&dst, member, sizeof(dst));
		if (dst != NULL) /* NULL when every occurrence is an empty packed run */
			dst += n * es;
	} else {
		gf__codec_mark_set(f, msg);
	}
	if (wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && packable(f->type)) {
		const uint8_t *q;
		varint(&p, end, &len);
		for (q = p, p += len; q < p; n++, dst += es)
			pb_store_scalar(cx, f, &q, p, dst);
	} else if (wt != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
		pb_store_scalar(cx, f, &p, end, dst);
		n++;
	} else {
		varint(&p, end, &len);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessageDescriptor *md = f->descriptor;
			ProtobufCMessage *sub = gf__codec_alloc(cx, md->sizeof_message);
			if (sub == NULL)
				return GF_ENOMEM;
			protobuf_c_message_init(md, sub);
			if (repeated)
				gf__codec_path_index(cx, n);
			rc = pb_message(w, md, p, p + len, sub);
			if (rc != GF_OK)
				return rc;
			if (repeated)
				cx->npath--;
			memcpy(dst, &sub, sizeof(sub));
		} else if (f->type == PROTOBUF_C_TYPE_STRING) {
			char *s = gf__codec_alloc(cx, (size_t)len + 1);
			if (s == NULL)
				return GF_ENOMEM;
			memcpy(s, p, (size_t)len);
			s[len] = '\0';
			rc = gf__codec_finish_string(cx, f, s, (size_t)len, (char **)(void *)dst);
			if (rc != GF_OK)
				return rc;
		} else {
			ProtobufCBinaryData bd = {(size_t)len, NULL};
			if (len > 0) {
				bd.data = gf__codec_alloc(cx, (size_t)len);
				if (bd.data == NULL)
					return GF_ENOMEM;
				memcpy(bd.data, p, (size_t)len);
			}
			memcpy(dst, &bd, sizeof(bd));
		}
		p += len;
		n++;
	}
	if (repeated)
		memcpy(MEMBER(msg, f->quantifier_offset), &n, sizeof(n));
	*pp = p;
	return GF_OK;
}

/* Occurrence counts per field live on the scratch stack, which nested
 * levels may move: always reach them by offset. */
static uint32_t count_get(const struct gf__codec_ctx *cx, size_t off, size_t i)
{
	uint32_t v;
	memcpy(&v, cx->scratch + off + i * sizeof(v), sizeof(v));
	return v;
}

static void count_set(struct gf__codec_ctx *cx, size_t off, size_t i, uint32_t v)
{
	memcpy(cx->scratch + off + i * sizeof(v), &v, sizeof(v));
}

/* The name of a oneof sibling of f already seen, or NULL. */
static const char *oneof_taken(const struct gf__codec_ctx *cx, size_t off,
                               const ProtobufCMessageDescriptor *d,
                               const ProtobufCFieldDescriptor *f)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *g = &d->fields[i];
		if (g != f && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    g->quantifier_offset == f->quantifier_offset && count_get(cx, off, i) > 0)
			return g->name;
	}
	return NULL;
}

/* The field numbered num: fields usually come in the order of their numbers,
 * so try the one at *hint and the next before searching. */
static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint64_t num,
                                                unsigned *hint)
{
	const ProtobufCFieldDescriptor *f;
	unsigned h = *hint;

	if (h < d->n_fields && d->fields[h].id == num)
		return &d->fields[h];
	if (h + 1 < d->n_fields && d->fields[h + 1].id == num) {
		*hint = h + 1;
		return &d->fields[h + 1];
	}
	f = protobuf_c_message_descriptor_get_field(d, (unsigned)num);
	if (f != NULL)
		*hint = (unsigned)(f - d->fields);
	return f;
}

/* Steps over one value that pass 1 has checked. */
static void pb_skip(unsigned wt, const uint8_t **q, const uint8_t *end)
{
	uint64_t v = 0;

	switch (wt) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		varint(q, end, &v);
		break;
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		*q += 8;
		break;
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		*q += 4;
		break;
	default:
		varint(q, end, &v);
		*q += v;
	}
}

/* Gives the key and value an entry lacks their defaults: absent means the
 * default in protobuf, and the other encodings always carry both. A message
 * value gets its default instance, unless that would lack required fields. */
static enum gf_err map_fill(struct gf__codec_ctx *cx, const struct gf__codec_map *map,
                            ProtobufCMessage *entry)
{
	const ProtobufCFieldDescriptor *fs[2] = {map->key, map->value};

	for (int i = 0; i < 2; i++) {
		const ProtobufCFieldDescriptor *f = fs[i];
		void *member = MEMBER(entry, f->offset);
		if (gf__codec_present(entry, f) > 0)
			continue;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			char *s = gf__codec_alloc(cx, 1); /* writable, like every string */
			if (s == NULL)
				return GF_ENOMEM;
			s[0] = '\0';
			memcpy(member, &s, sizeof(s));
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const ProtobufCMessageDescriptor *md = f->descriptor;
			ProtobufCMessage *sub;
			if (cx->depth + 2 > GF_CODEC_MAX_DEPTH) /* the entry, then the value */
				return gf__codec_fail(cx, "nesting deeper than %d",
				                      GF_CODEC_MAX_DEPTH);
			for (unsigned k = 0; k < md->n_fields; k++) {
				if (md->fields[k].label == PROTOBUF_C_LABEL_REQUIRED) {
					gf__codec_path_push(cx, f->name, NAME_NUL);
					return gf__codec_fail(cx, "required field missing");
				}
			}
			sub = gf__codec_alloc(cx, md->sizeof_message);
			if (sub == NULL)
				return GF_ENOMEM;
			protobuf_c_message_init(md, sub);
			memcpy(member, &sub, sizeof(sub));
		}
		gf__codec_mark_set(f, entry); /* scalars hold their default */
	}
	return GF_OK;
}

/* A map field once filled: entries get the key and value they lack, and
 * keys must differ. */
static enum gf_err pb_map(struct gf__codec_ctx *cx, const ProtobufCFieldDescriptor *f,
                          ProtobufCMessage *msg)
{
	struct gf__codec_map map;
	ProtobufCMessage **entries;
	size_t n;
	enum gf_err rc = GF_OK;

	if (!gf__codec_map_of(f, &map))
		return GF_OK;
	memcpy(&n, MEMBER(msg, f->quantifier_offset), sizeof(n));
	memcpy(&entries, MEMBER(msg, f->offset), sizeof(entries));
	gf__codec_path_push(cx, f->name, NAME_NUL);
	for (size_t k = 0; k < n && rc == GF_OK; k++) {
		gf__codec_path_index(cx, k);
		rc = map_fill(cx, &map, entries[k]);
		if (rc == GF_OK)
			cx->npath--;
	}
	if (rc == GF_OK)
		rc = gf__codec_map_unique(cx, &map, entries, n);
	if (rc == GF_OK)
		cx->npath--;
	return rc;
}

/*
 * Decodes one message. Pass 1 checks every key and value, stores the
 * non-repeated fields (descending into their messages) and counts the
 * elements of repeated ones, so that their arrays get their exact size; pass
 * 2, only when some repeated field is present, fills those arrays. Messages
 * without repeated fields, most of a FlexOffer, are thus read once. Duplicate
 * non-repeated fields, which protobuf merges or overwrites, are refused like
 * duplicate JSON keys.
 */
static enum gf_err pb_message(struct pbw *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                              const uint8_t *end, ProtobufCMessage *msg)
{
	struct gf__codec_ctx *cx = w->cx;
	size_t mark = cx->used, off;
	const uint8_t *q;
	unsigned hint = 0;
	bool arrays = false;
	enum gf_err rc = GF_OK;

	if (cx->depth >= GF_CODEC_MAX_DEPTH)
		return gf__codec_fail(cx, "nesting deeper than %d", GF_CODEC_MAX_DEPTH);
	cx->depth++;
	off = gf__codec_push(cx, d->n_fields * sizeof(uint32_t));
	if (off == SIZE_MAX) {
		rc = GF_ENOMEM;
		goto out;
	}
	memset(cx->scratch + off, 0, d->n_fields * sizeof(uint32_t));
	for (q = p; q < end;) {
		const uint8_t *at = q, *value;
		const ProtobufCFieldDescriptor *f;
		const char *other;
		uint64_t key;
		size_t idx;
		uint32_t count;
		if (!varint5(&q, end, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff) {
			rc = pb_bad(w, at, "bad field key");
			goto out;
		}
		f = field_of(d, key >> 3, &hint);
		if (f == NULL) {
			rc = gf__codec_fail(cx, "unknown field number %u", (unsigned)(key >> 3));
			goto out;
		}
		idx = (size_t)(f - d->fields);
		count = count_get(cx, off, idx);
		gf__codec_path_push(cx, f->name, NAME_NUL);
		if (f->label != PROTOBUF_C_LABEL_REPEATED && count > 0) {
			rc = gf__codec_fail(cx, "duplicate field");
			goto out;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    (other = oneof_taken(cx, off, d, f)) != NULL) {
			rc = gf__codec_fail(cx, "oneof already has '%s' set", other);
			goto out;
		}
		value = q;
		rc = pb_scan(w, f, (unsigned)(key & 7), &q, end, &count);
		if (rc == GF_OK && f->label != PROTOBUF_C_LABEL_REPEATED)
			rc = pb_fill(w, f, (unsigned)(key & 7), &value, end, msg);
		if (rc != GF_OK)
			goto out;
		count_set(cx, off, idx, count);
		cx->npath--;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		uint32_t count = count_get(cx, off, i);
		if (f->label == PROTOBUF_C_LABEL_REQUIRED && count == 0) {
			gf__codec_path_push(cx, f->name, NAME_NUL);
			rc = gf__codec_fail(cx, "required field missing");
			goto out;
		}
		if (f->label == PROTOBUF_C_LABEL_REPEATED && count > 0) {
			void *arr = gf__codec_alloc(cx, count * gf__codec_elem_size(f->type));
			if (arr == NULL) {
				rc = GF_ENOMEM;
				goto out;
			}
			memcpy(MEMBER(msg, f->offset), &arr, sizeof(arr));
			arrays = true;
		}
	}
	for (q = p, hint = 0; arrays && q < end;) {
		uint64_t key = 0;
		const ProtobufCFieldDescriptor *f;
		varint(&q, end, &key);
		f = field_of(d, key >> 3, &hint);
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			pb_skip((unsigned)(key & 7), &q, end);
			continue;
		}
		gf__codec_path_push(cx, f->name, NAME_NUL);
		rc = pb_fill(w, f, (unsigned)(key & 7), &q, end, msg);
		if (rc != GF_OK)
			goto out;
		cx->npath--;
	}
	for (unsigned i = 0; arrays && i < d->n_fields; i++) {
		rc = pb_map(cx, &d->fields[i], msg);
		if (rc != GF_OK)
			goto out;
	}
out:
	cx->used = mark;
	cx->depth--;
	return rc;
}

enum gf_err gf__codec_from_protobuf(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                    size_t len, ProtobufCMessage **out, bool *nonfinite, char *err,
                                    size_t errlen)
{
	struct gf__codec_ctx cx;
	struct pbw w;
	ProtobufCMessage *root = NULL;
	enum gf_err rc;

	gf__codec_ctx_init(&cx, err, errlen);
	if (d == NULL || (data == NULL && len > 0) || out == NULL)
		return GF_EINVAL;
	w.cx = &cx;
	w.start = data;
	/* Structs take about four times the wire size. */
	rc = gf__codec_begin(&cx, d, len * 4, &root);
	if (rc != GF_OK)
		goto out;
	rc = pb_message(&w, d, data, data + len, root);
	if (rc != GF_OK)
		goto out;
	*out = root;
	*nonfinite = cx.nonfinite;
	gf__codec_release(&cx);
out:
	if (rc == GF_ENOMEM && cx.errlen > 0)
		snprintf(cx.err, cx.errlen, "out of memory");
	gf__codec_ctx_fini(&cx);
	return rc;
}

/* The model rules on a message about to be packed, so that protobuf output
 * is accepted by every decoder, like the other encoders' output. */
static enum gf_err check_model(const ProtobufCMessage *m, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (depth > GF_CODEC_MAX_DEPTH || d == NULL || m->n_unknown_fields > 0)
		return GF_EINVAL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t n = gf__codec_present(m, f), es = gf__codec_elem_size(f->type);
		const unsigned char *member = MEMBER(m, f->offset), *base = member;
		struct gf__codec_map map;
		if (n == 0 && f->label == PROTOBUF_C_LABEL_REQUIRED)
			return GF_EINVAL;
		if (f->label == PROTOBUF_C_LABEL_REPEATED && n > 0)
			memcpy(&base, member, sizeof(base));
		if (n > 0 && gf__codec_map_of(f, &map)) {
			enum gf_err rc =
			    depth + 1 > GF_CODEC_MAX_DEPTH
			        ? GF_EINVAL
			        : gf__codec_map_check(
			              &map, (const ProtobufCMessage *const *)(const void *)base, n);
			if (rc != GF_OK)
				return rc;
		}
		for (size_t k = 0; k < n; k++) {
			const void *v = base + k * es;
			char canon[GF_TIME_BUFSIZE];
			const char *s;
			size_t sl;
			enum gf_err rc = GF_OK;
			switch (f->type) {
			case PROTOBUF_C_TYPE_ENUM:
				if (protobuf_c_enum_descriptor_get_value(f->descriptor,
				                                         *(const int *)v) == NULL)
					rc = GF_EINVAL;
				break;
			case PROTOBUF_C_TYPE_STRING:
				s = *(const char *const *)v;
				if (s == NULL ||
				    gf__codec_out_string(f, s, canon, &s, &sl) != GF_OK ||
				    !gf__codec_utf8_valid((const unsigned char *)s, sl))
					rc = GF_EINVAL;
				break;
			case PROTOBUF_C_TYPE_BYTES:
				if (((const ProtobufCBinaryData *)v)->len > 0 &&
				    ((const ProtobufCBinaryData *)v)->data == NULL)
					rc = GF_EINVAL;
				break;
			case PROTOBUF_C_TYPE_MESSAGE:
				if (*(const ProtobufCMessage *const *)v == NULL)
					rc = GF_EINVAL;
				else
					rc = check_model(*(const ProtobufCMessage *const *)v,
					                 depth + 1);
				break;
			default:
				break;
			}
			if (rc != GF_OK)
				return rc;
		}
	}
	return GF_OK;
}

enum gf_err gf_codec_to_protobuf(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	uint8_t *buf;
	size_t size;
	enum gf_err rc;

	if (m == NULL || out == NULL || len == NULL)
		return GF_EINVAL;
	rc = check_model(m, 1);
	if (rc != GF_OK)
		return rc;
	size = protobuf_c_message_get_packed_size(m);
	buf = malloc(size > 0 ? size : 1);
	if (buf == NULL)
		return GF_ENOMEM;
	protobuf_c_message_pack(m, buf);
	*out = buf;
	*len = size;
	return GF_OK;
}

enum gf_err gf_codec_from_protobuf(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                   size_t len, ProtobufCMessage **out, char *err, size_t errlen)
{
	bool nonfinite;

	return gf__codec_from_protobuf(d, data, len, out, &nonfinite, err, errlen);
}
