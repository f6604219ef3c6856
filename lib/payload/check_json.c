/* SPDX-License-Identifier: MIT */
/*
 * check_json.c - the one-pass JSON verdict (check.h, gf__check_json): the
 * text walked once with the message descriptor as codec_json.c parses it
 * (objects, keys by field name, duplicate and unknown keys, null, arrays,
 * oneofs, required fields, nesting depth, trailing bytes), its values read
 * by the decoder's own readers (codec_json_value.c: numbers with their
 * syntax, ranges and exact doubles, enums by name or number, strings), and
 * gf_validate's rules applied on each message's partial copy as it ends
 * (check_walk.c, shared with the protobuf verdict), without building the
 * message.
 *
 * Not decided here (UNSURE; gf_check_message takes the full path): keys and
 * strings with escapes or non-ASCII bytes, bytes fields, map fields, "NaN"
 * and the infinities, and whatever check_walk.c leaves (types whose rules
 * read repeated values, oversized types, long time strings).
 */
#include "payload/codec_json_int.h"
#include "payload/check_walk.h"

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/timefmt.h"

/* A scalar of a repeated field: read, checked, not kept. */
union scalar {
	int64_t i64;
	double d;
	uint32_t u32;
	protobuf_c_boolean b;
	char *s;
	ProtobufCBinaryData bd;
};

struct jwalk {
	struct gf__check_walker w;
	struct jdec j;
};

static enum gf__check_fast walk(struct jwalk *jw, const struct gf__check_info *in,
                                enum gf__check_role role, void *acc);

/* A string value: plain strings only (ASCII, no escapes: what the decoder
 * keeps as written); a time must parse, and singular ones go into the copy. */
static enum gf__check_fast string_value(struct jwalk *jw, struct gf__check_msg *x,
                                        const ProtobufCFieldDescriptor *f, unsigned fl)
{
	const unsigned char *s;
	size_t n;
	bool plain;
	int64_t ms;

	if (peek(&jw->j) != '"')
		return GF__CHECK_INVALID;
	if (gf__json_scan_string(&jw->j, &s, &n, &plain) != GF_OK)
		return GF__CHECK_INVALID;
	if (!plain)
		return GF__CHECK_UNSURE;
	if (!(fl & GF__CHECK_F_TIME))
		return GF__CHECK_VALID;
	/* As gf__codec_finish_string, which also writes it back in canonical
	 * form: gf_time_format fails only outside GF_TIME_MIN_MS..MAX_MS
	 * (GF_TIME_BUFSIZE always suffices), which gf_time_parse refuses
	 * already; checked again here, cheaply, should parse ever widen. The
	 * rules read the text as written, which parses to the same instant. */
	if (gf_time_parse((const char *)s, n, &ms) != GF_OK || ms < GF_TIME_MIN_MS ||
	    ms > GF_TIME_MAX_MS)
		return GF__CHECK_INVALID;
	if (fl & GF__CHECK_F_REPEATED)
		return GF__CHECK_VALID;
	return gf__check_time(x, f, s, n, ms);
}

/* A value of field f (info fi) of x other than a number: into dst for a
 * singular field. */
static enum gf__check_fast other_value(struct jwalk *jw, struct gf__check_msg *x,
                                       const ProtobufCFieldDescriptor *f,
                                       const struct gf__check_finfo *fi, void *dst)
{
	struct jdec *j = &jw->j;

	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b;
		if (literal(j, "true", 4))
			b = 1;
		else if (literal(j, "false", 5))
			b = 0;
		else
			return GF__CHECK_INVALID;
		memcpy(dst, &b, sizeof(b));
		return GF__CHECK_VALID;
	}
	case PROTOBUF_C_TYPE_ENUM:
		return gf__json_parse_enum(j, f, dst) == GF_OK ? GF__CHECK_VALID
		                                               : GF__CHECK_INVALID;
	case PROTOBUF_C_TYPE_STRING:
		return string_value(jw, x, f, fi->flags);
	case PROTOBUF_C_TYPE_BYTES:
		return GF__CHECK_UNSURE;
	case PROTOBUF_C_TYPE_MESSAGE: {
		void *cacc;
		enum gf__check_role cr = gf__check_child(x, (enum gf__check_role)fi->role, &cacc);
		if (peek(j) != '{')
			return GF__CHECK_INVALID;
		return walk(jw, gf__check_child_info(fi, f), cr, cacc);
	}
	default: /* the numbers, which value takes */
		return GF__CHECK_UNSURE;
	}
}

/* One value of field f (info fi) of x: into dst for a singular field.
 * Inline, and the numbers (two thirds of an offer's values) read here:
 * other_value's switch and frame cost as much as a short number. */
static inline enum gf__check_fast value(struct jwalk *jw, struct gf__check_msg *x,
                                        const ProtobufCFieldDescriptor *f,
                                        const struct gf__check_finfo *fi, void *dst)
{
	struct jdec *j = &jw->j;

	if (fi->flags & GF__CHECK_F_REAL) {
		if (peek(j) == '"')
			return GF__CHECK_UNSURE; /* "NaN", "Infinity" */
		return gf__json_parse_real(j, f, dst) == GF_OK ? GF__CHECK_VALID
		                                               : GF__CHECK_INVALID;
	}
	if (fi->flags & GF__CHECK_F_INT)
		return gf__json_parse_integer(j, f, dst) == GF_OK ? GF__CHECK_VALID
		                                                  : GF__CHECK_INVALID;
	return other_value(jw, x, f, fi, dst);
}

/*
 * The structure (arrays, objects, keys) is walked with a cursor p in a
 * register, stored into j->p only around the value readers, which take the
 * decoder's struct jdec: through j->p every step would load and store
 * memory that the compiler must assume any store into a partial copy may
 * change. A refusal carries no position (the full path gives it), so the
 * refusing steps leave j->p behind.
 */

/* After an element or a member at p: the byte after a ',' and the
 * whitespace after it, with *more true; the byte after close, with *more
 * false; NULL at anything else. */
static inline const unsigned char *next_at(const unsigned char *p, const unsigned char *end,
                                           int close, bool *more)
{
	p = json_ws(p, end);
	if (p < end && *p == ',') {
		*more = true;
		return json_ws(p + 1, end);
	}
	if (p < end && *p == close) {
		*more = false;
		return p + 1;
	}
	return NULL;
}

/* A repeated field's array at j->p; its elements are counted. */
static enum gf__check_fast array(struct jwalk *jw, struct gf__check_msg *x,
                                 const ProtobufCFieldDescriptor *f,
                                 const struct gf__check_finfo *fi, uint32_t *count)
{
	struct jdec *j = &jw->j;
	const unsigned char *p = j->p, *end = j->end;
	bool more = true;

	if (fi->flags & GF__CHECK_F_MAP)
		return GF__CHECK_UNSURE;
	if (p >= end || *p != '[')
		return GF__CHECK_INVALID;
	p = json_ws(p + 1, end);
	if (p < end && *p == ']') {
		j->p = p + 1;
		return GF__CHECK_VALID;
	}
	while (more) {
		union scalar v;
		enum gf__check_fast rc;
		j->p = p;
		rc = value(jw, x, f, fi, &v);
		if (rc != GF__CHECK_VALID)
			return rc;
		(*count)++;
		p = next_at(j->p, end, ']', &more);
		if (p == NULL)
			return GF__CHECK_INVALID;
	}
	j->p = p;
	return GF__CHECK_VALID;
}

/* The key at p (a '"'): its field in *out; returns the byte after it, or
 * NULL with the verdict in *rc. The field after the previous key's in
 * schema order (hint) is compared in place first. */
static const unsigned char *key(struct jwalk *jw, const struct gf__check_msg *x, unsigned hint,
                                const unsigned char *p, size_t *out, enum gf__check_fast *rc)
{
	struct jdec *j = &jw->j;
	const unsigned char *end = j->end;
	const ProtobufCMessageDescriptor *d = x->d;
	const ProtobufCFieldDescriptor *f;
	const unsigned char *s;
	size_t n;
	bool plain;

	if (hint < d->n_fields) {
		const struct gf__check_finfo *hi = &x->in->fields[hint];
		size_t k = hi->namelen;
		if (hi->keymask[0] != 0 && end - p >= 17) { /* two words */
			uint64_t w[2];
			memcpy(w, p + 1, sizeof(w));
			if ((((w[0] ^ hi->key[0]) & hi->keymask[0]) |
			     ((w[1] ^ hi->key[1]) & hi->keymask[1])) == 0) {
				*out = hint;
				return p + k + 2;
			}
		} else if (k > 0 && (size_t)(end - p) >= k + 2 && p[k + 1] == '"' &&
		           memcmp(p + 1, d->fields[hint].name, k) == 0) {
			*out = hint;
			return p + k + 2;
		}
	}
	j->p = p;
	*rc = GF__CHECK_INVALID;
	if (gf__json_scan_string(j, &s, &n, &plain) != GF_OK)
		return NULL;
	if (!plain) {
		*rc = GF__CHECK_UNSURE;
		return NULL;
	}
	f = gf__codec_field_by_name(d, (const char *)s, n);
	if (f == NULL)
		return NULL; /* unknown field */
	*out = (size_t)(f - d->fields);
	return j->p;
}

#define NO(v)                                                                                      \
	do {                                                                                       \
		rc = (v);                                                                          \
		goto out;                                                                          \
	} while (0)

/* The value of member idx (f, fi) of x at j->p, not null. */
static inline enum gf__check_fast member(struct jwalk *jw, struct gf__check_msg *x, size_t idx,
                                         const ProtobufCFieldDescriptor *f,
                                         const struct gf__check_finfo *fi)
{
	enum gf__check_fast rc;

	if (fi->flags & GF__CHECK_F_REPEATED)
		return array(jw, x, f, fi, &x->counts[idx]);
	if (fi->mark == 2) { /* gf__codec_claim_oneof */
		uint32_t which;
		memcpy(&which, x->m + f->quantifier_offset, sizeof(which));
		if (which != 0 && which != f->id)
			return GF__CHECK_INVALID;
	}
	rc = value(jw, x, f, fi, x->m + f->offset);
	if (rc == GF__CHECK_VALID) {
		gf__check_mark(x, f, fi);
		x->counts[idx] = 1;
	}
	return rc;
}

/* The object at j->p (a '{'), a message of type d. */
static enum gf__check_fast walk(struct jwalk *jw, const struct gf__check_info *in,
                                enum gf__check_role role, void *acc)
{
	struct jdec *j = &jw->j;
	const unsigned char *p, *end = j->end;
	struct gf__check_msg x;
	uint64_t seen = 0; /* keys met, null or not: a second one is a duplicate */
	unsigned hint = 0;
	const ProtobufCMessageDescriptor *d;
	bool more = true;
	enum gf__check_fast rc = gf__check_open(&jw->w, &x, in, role, acc);

	if (rc != GF__CHECK_VALID)
		return rc;
	d = in->desc;
	p = json_ws(j->p + 1, end); /* after the '{' */
	if (p < end && *p == '}') {
		j->p = p + 1;
		goto out;
	}
	while (more) {
		size_t idx;
		if (p >= end || *p != '"')
			NO(GF__CHECK_INVALID);
		p = key(jw, &x, hint, p, &idx, &rc);
		if (p == NULL)
			goto out;
		p = json_ws(p, end);
		if (p >= end || *p != ':')
			NO(GF__CHECK_INVALID);
		p = json_ws(p + 1, end);
		if (seen & (1ULL << idx))
			NO(GF__CHECK_INVALID); /* duplicate field */
		seen |= 1ULL << idx;
		if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
			p += 4; /* not set; a required field stays missing (counts) */
		} else {
			j->p = p;
			rc = member(jw, &x, idx, &d->fields[idx], &x.in->fields[idx]);
			if (rc != GF__CHECK_VALID)
				goto out;
			p = j->p;
		}
		hint = (unsigned)idx + 1;
		p = next_at(p, end, '}', &more);
		if (p == NULL)
			NO(GF__CHECK_INVALID);
	}
	j->p = p;
out:
	return gf__check_close(&jw->w, &x, rc);
}

enum gf__check_fast gf__check_json(const ProtobufCMessageDescriptor *d, const char *data,
                                   size_t len)
{
	struct gf__codec_ctx cx; /* for the value readers' refusals; no text */
	struct jwalk jw;
	locale_t old;
	enum gf__check_fast rc;

	if (d == NULL || (data == NULL && len > 0))
		return GF__CHECK_UNSURE;
	gf__codec_ctx_init(&cx, NULL, 0);
	jw.w.depth = 0;
	jw.w.fa_busy = false;
	jw.j.cx = &cx;
	jw.j.start = jw.j.p = (const unsigned char *)data;
	jw.j.end = jw.j.p + len;
	skip_ws(&jw.j);
	if (peek(&jw.j) != '{')
		return GF__CHECK_INVALID;
	old = gf__codec_enter_c_locale(); /* strtod, for the numbers that need it */
	rc = walk(&jw, gf__check_walk_info(d), GF__CHECK_R_NONE, NULL);
	gf__codec_leave_c_locale(old);
	if (rc == GF__CHECK_VALID) {
		skip_ws(&jw.j);
		if (jw.j.p != jw.j.end)
			rc = GF__CHECK_INVALID; /* trailing characters */
	}
	gf__codec_ctx_fini(&cx);
	return rc;
}
