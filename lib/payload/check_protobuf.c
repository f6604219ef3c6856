/* SPDX-License-Identifier: MIT */
/*
 * check_protobuf.c - the one-pass protobuf verdict (check.h,
 * gf__check_protobuf): the bytes walked once with the message descriptor,
 * the decoder's checks (codec_protobuf.c: wire types, lengths, integer
 * ranges, enum values, UTF-8 and NUL in strings, times, unknown and
 * duplicate fields, oneofs, required fields, nesting depth) and
 * gf_validate's rules applied as the values come, without building the
 * message.
 *
 * Each message is read into a partial copy on the stack (its singular
 * scalars, its time strings, the counts of its repeated fields) on which
 * validate.c runs the rules by name and the rule of its type; below a
 * FlexOffer, the values its rule reads (slice bounds, schedule slices) are
 * gathered as they pass. The copy, the rules and the gathering are
 * check_walk.c's, shared with the JSON verdict (check_json.c). Messages whose rules read repeated
 * values (weather series, forecasts with bounds) and map fields are not decided here (UNSURE):
 * gf_check_message takes the full path for them.
 */
#define GF__CODEC_INTERNAL
#include "payload/check_walk.h"

#include <math.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "base/timefmt.h"
#include "payload/codec_pb_int.h"

/* --- the walk ----------------------------------------------------------------- */

static bool varint_ok(const ProtobufCFieldDescriptor *f, uint64_t v)
{
	int64_t sv = (int64_t)v;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
		return sv >= INT32_MIN && sv <= INT32_MAX;
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_UINT32:
		return v <= UINT32_MAX;
	case PROTOBUF_C_TYPE_BOOL:
		return v <= 1;
	case PROTOBUF_C_TYPE_ENUM:
		return sv >= INT32_MIN && sv <= INT32_MAX &&
		       protobuf_c_enum_descriptor_get_value(f->descriptor, (int)sv) != NULL;
	default:
		return true;
	}
}

/* A fixed-size value at q (4 or 8 bytes): false if a float or double is
 * not finite (gf_validate refuses those everywhere). */
static bool fixed_ok(const ProtobufCFieldDescriptor *f, const uint8_t *q)
{
	if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
		double v;
		memcpy(&v, q, sizeof(v)); /* little-endian hosts, as the decoder's load_le */
		return isfinite(v);
	}
	if (f->type == PROTOBUF_C_TYPE_FLOAT) {
		float v;
		memcpy(&v, q, sizeof(v));
		return isfinite(v);
	}
	return true;
}

/* A string's bytes s[0..n): no NUL, and UTF-8. */
static bool string_ok(const uint8_t *s, size_t n)
{
	return memchr(s, '\0', n) == NULL && gf__codec_utf8_valid(s, n);
}

/* The instant of the time string s[0..n), or INT64_MIN when it is none (no
 * instant is that early). Out of line: the walk keeps no addressable local. */
static __attribute__((noinline)) int64_t time_ms(const uint8_t *s, size_t n)
{
	int64_t ms;

	return gf_time_parse((const char *)s, n, &ms) == GF_OK ? ms : INT64_MIN;
}

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint64_t num,
                                                unsigned *hint)
{
	const ProtobufCFieldDescriptor *f;
	unsigned h = *hint;

	if (h + 1 < d->n_fields && d->fields[h + 1].id == num) {
		*hint = h + 1;
		return &d->fields[h + 1];
	}
	if (h < d->n_fields && d->fields[h].id == num)
		return &d->fields[h];
	f = protobuf_c_message_descriptor_get_field(d, (unsigned)num);
	if (f != NULL)
		*hint = (unsigned)(f - d->fields);
	return f;
}

static bool oneof_taken(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
                        const uint32_t *counts)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *g = &d->fields[i];
		if (g != f && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    g->quantifier_offset == f->quantifier_offset && counts[i] > 0)
			return true;
	}
	return false;
}

static enum gf__check_fast walk(struct gf__check_walker *w, const struct gf__check_info *in,
                                const uint8_t *p, const uint8_t *end, enum gf__check_role role,
                                void *acc);

#define NO(x)                                                                                      \
	do {                                                                                       \
		rc = (x);                                                                          \
		goto out;                                                                          \
	} while (0)

static enum gf__check_fast walk(struct gf__check_walker *w, const struct gf__check_info *in,
                                const uint8_t *p, const uint8_t *end, enum gf__check_role role,
                                void *acc)
{
	struct gf__check_msg x;
	const ProtobufCMessageDescriptor *d;
	unsigned char *m;
	uint32_t *counts;
	unsigned hint = UINT_MAX; /* the next field tried first: 0 */
	enum gf__check_fast rc = gf__check_open(w, &x, in, role, acc);

	if (rc != GF__CHECK_VALID)
		return rc;
	d = in->desc;
	m = x.m;
	counts = x.counts;
	for (const uint8_t *q = p; q < end;) {
		const ProtobufCFieldDescriptor *f;
		const struct gf__check_finfo *fi;
		uint64_t key, v, len;
		unsigned wt, want, fl;
		size_t idx;
		bool repeated;
		if (q < end && *q < 0x80 && in->by_key[*q] != 0) {
			/* The usual key: one byte, a field of the type with its own
			 * wire type (by_key leaves out the rest: packed runs, oneof
			 * members, field numbers from 16). */
			key = *q++;
			idx = in->by_key[key] - 1u;
			f = &d->fields[idx];
			fi = &in->fields[idx];
			fl = fi->flags;
			repeated = fl & GF__CHECK_F_REPEATED;
			if (!repeated && counts[idx] > 0)
				NO(GF__CHECK_INVALID);
			wt = (unsigned)(key & 7);
		} else {
			if (!varint5(&q, end, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
				NO(GF__CHECK_INVALID);
			if ((key >> 3) < GF__CHECK_MAX_FIELDS && in->by_num[key >> 3] != 0) {
				idx = in->by_num[key >> 3] - 1u;
				f = &d->fields[idx];
			} else {
				f = field_of(d, key >> 3, &hint);
				if (f == NULL)
					NO(GF__CHECK_INVALID);
				idx = (size_t)(f - d->fields);
			}
			fi = &in->fields[idx];
			fl = fi->flags;
			repeated = fl & GF__CHECK_F_REPEATED;
			if ((!repeated && counts[idx] > 0) ||
			    (fi->mark == 2 && oneof_taken(d, f, counts)))
				NO(GF__CHECK_INVALID);
			wt = (unsigned)(key & 7);
			want = fi->want;
			if (wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && repeated &&
			    (fl & GF__CHECK_F_PACKABLE)) {
				const uint8_t *e;
				if (!varint5(&q, end, &len) || len > (uint64_t)(end - q))
					NO(GF__CHECK_INVALID);
				for (e = q + len; q < e; counts[idx]++) {
					if (want == PROTOBUF_C_WIRE_TYPE_VARINT) {
						if (!varint(&q, e, &v) || !varint_ok(f, v))
							NO(GF__CHECK_INVALID);
					} else {
						size_t size =
						    want == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
						if ((size_t)(e - q) < size ||
						    ((fl & GF__CHECK_F_REAL) && !fixed_ok(f, q)))
							NO(GF__CHECK_INVALID);
						q += size;
					}
				}
				continue;
			}
			if (wt != want)
				NO(GF__CHECK_INVALID);
		}
		switch (wt) {
		case PROTOBUF_C_WIRE_TYPE_VARINT:
			if (!varint(&q, end, &v) || !varint_ok(f, v))
				NO(GF__CHECK_INVALID);
			if (!repeated)
				store_varint(f, v, m + f->offset);
			break;
		case PROTOBUF_C_WIRE_TYPE_64BIT:
		case PROTOBUF_C_WIRE_TYPE_32BIT: {
			size_t size = wt == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
			if ((size_t)(end - q) < size ||
			    ((fl & GF__CHECK_F_REAL) && !fixed_ok(f, q)))
				NO(GF__CHECK_INVALID);
			if (!repeated && size == 4)
				memcpy(m + f->offset, q, 4);
			else if (!repeated)
				memcpy(m + f->offset, q, 8);
			q += size;
			break;
		}
		default:
			if (!varint5(&q, end, &len) || len > (uint64_t)(end - q))
				NO(GF__CHECK_INVALID);
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				int64_t ms = 0;
				if (!string_ok(q, (size_t)len) ||
				    ((fl & GF__CHECK_F_TIME) &&
				     (ms = time_ms(q, (size_t)len)) == INT64_MIN))
					NO(GF__CHECK_INVALID);
				if (!repeated &&
				    (fl & GF__CHECK_F_TIME)) { /* the rules read these */
					rc = gf__check_time(&x, f, q, (size_t)len, ms);
					if (rc != GF__CHECK_VALID)
						goto out;
				}
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				if (fl & GF__CHECK_F_MAP)
					NO(GF__CHECK_UNSURE);
				void *cacc;
				enum gf__check_role cr =
				    gf__check_child(&x, (enum gf__check_role)fi->role, &cacc);
				rc = walk(w, gf__check_child_info(fi, f), q, q + len, cr, cacc);
				if (rc != GF__CHECK_VALID)
					goto out;
			}
			q += len;
		}
		gf__check_mark(&x, f, fi);
		counts[idx]++;
	}
out:
	return gf__check_close(w, &x, rc);
}
enum gf__check_fast gf__check_protobuf(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                       size_t len)
{
	struct gf__check_walker w;

	if (d == NULL || (data == NULL && len > 0))
		return GF__CHECK_UNSURE;
	w.depth = 0;
	w.fa_busy = false;
	return walk(&w, gf__check_walk_info(d), data, data + len, GF__CHECK_R_NONE, NULL);
}
