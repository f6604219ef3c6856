/* SPDX-License-Identifier: MIT */
/*
 * codec.c - the codec's shared core: the arena that holds a decoded message,
 * the scratch stack, field paths for error messages, the document-model
 * rules that every encoding shares (codec.h), map fields, and the dispatch
 * by format. The encodings live in codec_json.c, codec_msgpack.c and
 * codec_protobuf.c; they reach this file through the GF__CODEC_INTERNAL part
 * of codec.h only.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"
#include "base/json.h"

#include <locale.h>
#include <pthread.h>

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/timefmt.h"

/* --- arena -----------------------------------------------------------------
 *
 * A decoded message and everything it points to come from one arena, freed
 * at once. The arena's header sits just before the root message in the first
 * chunk, so gf_codec_free() finds it from the message alone.
 */

#define ARENA_MAGIC 0x676663617265616eULL
#define ALIGN       16
#define ROUND(n)    (((n) + (ALIGN - 1)) & ~(size_t)(ALIGN - 1))
#define CHUNK_MAX   ((size_t)1 << 20)

struct chunk {
	struct chunk *next;
};

struct gf__codec_arena {
	uint64_t magic;
	struct chunk *more; /* chunks after the first, newest first */
	unsigned char *cur, *end;
	size_t next_size;
};

#define ARENA_HDR ROUND(sizeof(struct gf__codec_arena))
#define CHUNK_HDR ROUND(sizeof(struct chunk))

static void *arena_alloc(struct gf__codec_arena *a, size_t size)
{
	unsigned char *p;

	size = ROUND(size);
	if ((size_t)(a->end - a->cur) < size) {
		size_t want = a->next_size;
		struct chunk *c;
		if (size > SIZE_MAX - CHUNK_HDR)
			return NULL;
		if (want < size + CHUNK_HDR)
			want = size + CHUNK_HDR;
		c = malloc(want);
		if (c == NULL)
			return NULL;
		c->next = a->more;
		a->more = c;
		a->cur = (unsigned char *)c + CHUNK_HDR;
		a->end = (unsigned char *)c + want;
		if (a->next_size < CHUNK_MAX)
			a->next_size *= 2;
	}
	p = a->cur;
	a->cur += size;
	return p;
}

static void arena_free(struct gf__codec_arena *a)
{
	struct chunk *c, *next;

	if (a == NULL)
		return;
	if (a->magic != ARENA_MAGIC)
		abort(); /* not a message from a gf_codec decoder: a caller bug */
	for (c = a->more; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->magic = 0;
	free(a);
}

void gf_codec_free(ProtobufCMessage *m)
{
	if (m != NULL)
		arena_free((struct gf__codec_arena *)(void *)((unsigned char *)m - ARENA_HDR));
}

/* --- one decode: context, scratch stack, path, errors ------------------- */

void gf__codec_ctx_init(struct gf__codec_ctx *cx, char *err, size_t errlen)
{
	cx->arena = NULL;
	cx->scratch = cx->scratch_inline;
	cx->used = 0;
	cx->cap = sizeof(cx->scratch_inline);
	cx->depth = 0;
	cx->npath = 0;
	cx->err = err;
	cx->errlen = err != NULL ? errlen : 0;
	if (cx->errlen > 0)
		err[0] = '\0';
}

void gf__codec_ctx_fini(struct gf__codec_ctx *cx)
{
	arena_free(cx->arena);
	cx->arena = NULL;
	if (cx->scratch != cx->scratch_inline)
		free(cx->scratch);
	cx->scratch = cx->scratch_inline;
}

enum gf_err gf__codec_begin(struct gf__codec_ctx *cx, const ProtobufCMessageDescriptor *d,
                            size_t hint, ProtobufCMessage **root)
{
	struct gf__codec_arena *a;
	size_t first;

	/* The first chunk holds the header, the root and about as many bytes
	 * as the input: message structs are rarely larger than their text. */
	if (hint > CHUNK_MAX)
		hint = CHUNK_MAX;
	first = ARENA_HDR + ROUND(d->sizeof_message) + ROUND(hint + 256);
	a = malloc(first);
	if (a == NULL)
		return GF_ENOMEM;
	a->magic = ARENA_MAGIC;
	a->more = NULL;
	a->cur = (unsigned char *)a + ARENA_HDR + ROUND(d->sizeof_message);
	a->end = (unsigned char *)a + first;
	a->next_size = first < 4096 ? 4096 : first;
	*root = (ProtobufCMessage *)(void *)((unsigned char *)a + ARENA_HDR);
	protobuf_c_message_init(d, *root);
	cx->arena = a;
	return GF_OK;
}

void *gf__codec_alloc(struct gf__codec_ctx *cx, size_t size)
{
	return arena_alloc(cx->arena, size);
}

/* Hands the arena over to the decoded message. */
void gf__codec_release(struct gf__codec_ctx *cx)
{
	cx->arena = NULL;
}

size_t gf__codec_push(struct gf__codec_ctx *cx, size_t size)
{
	size_t off = cx->used;

	if (size > cx->cap - cx->used) {
		size_t cap = cx->cap * 2;
		unsigned char *p;
		if (size > SIZE_MAX / 2 - cx->used)
			return SIZE_MAX;
		if (cap < cx->used + size)
			cap = cx->used + size;
		if (cx->scratch == cx->scratch_inline) {
			p = malloc(cap);
			if (p != NULL)
				memcpy(p, cx->scratch, cx->used);
		} else {
			p = realloc(cx->scratch, cap);
		}
		if (p == NULL)
			return SIZE_MAX;
		cx->scratch = p;
		cx->cap = cap;
	}
	cx->used += size;
	return off;
}

#define NAME_NUL        GF__CODEC_NAME_NUL
#define PATH_MAX_FRAMES GF__CODEC_FRAMES

/* Appends to err at *pos, truncating; err stays NUL-terminated. */
static void err_put(struct gf__codec_ctx *cx, size_t *pos, const char *s, size_t n)
{
	if (*pos + 1 >= cx->errlen)
		return;
	if (n > cx->errlen - 1 - *pos)
		n = cx->errlen - 1 - *pos;
	memcpy(cx->err + *pos, s, n);
	*pos += n;
	cx->err[*pos] = '\0';
}

/* Input text (an unknown key) goes into a reason string that reaches logs and
 * MQTT clients: printable ASCII only, at most 64 characters. */
static void err_put_sanitized(struct gf__codec_ctx *cx, size_t *pos, const char *s, size_t n)
{
	for (size_t i = 0; i < n && i < 64; i++) {
		char c = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
		err_put(cx, pos, &c, 1);
	}
	if (n > 64)
		err_put(cx, pos, "...", 3);
}

enum gf_err gf__codec_fail(struct gf__codec_ctx *cx, const char *fmt, ...)
{
	size_t pos = 0;
	unsigned n = cx->npath < PATH_MAX_FRAMES ? cx->npath : (unsigned)PATH_MAX_FRAMES;
	va_list ap;

	if (cx->errlen == 0)
		return GF_EPARSE;
	cx->err[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		const struct gf__codec_frame *fr = &cx->path[i];
		if (fr->name == NULL) {
			char idx[32];
			int k = snprintf(idx, sizeof(idx), "[%zu]", fr->index);
			err_put(cx, &pos, idx, (size_t)k);
			continue;
		}
		if (i > 0)
			err_put(cx, &pos, ".", 1);
		if (fr->len == NAME_NUL)
			err_put(cx, &pos, fr->name, strlen(fr->name));
		else
			err_put_sanitized(cx, &pos, fr->name, fr->len);
	}
	if (n > 0)
		err_put(cx, &pos, ": ", 2);
	if (pos + 1 < cx->errlen) {
		va_start(ap, fmt);
		vsnprintf(cx->err + pos, cx->errlen - pos, fmt, ap);
		va_end(ap);
	}
	return GF_EPARSE;
}

/* Fails with "<path>: <what> '<s>'", s being input text (an unknown enum
 * value name, a duplicate map key): sanitised and cut like unknown keys. */
enum gf_err gf__codec_fail_quoted(struct gf__codec_ctx *cx, const char *what, const char *s,
                                  size_t n)
{
	size_t at;

	gf__codec_fail(cx, "%s '", what);
	if (cx->errlen == 0)
		return GF_EPARSE;
	at = strlen(cx->err);
	err_put_sanitized(cx, &at, s, n);
	err_put(cx, &at, "'", 1);
	return GF_EPARSE;
}

/* --- the document model's rules, shared by the encodings ---------------- */

const char *gf__codec_type_name(ProtobufCType type)
{
	static const char *const names[] = {
	    [PROTOBUF_C_TYPE_INT32] = "int32",       [PROTOBUF_C_TYPE_SINT32] = "sint32",
	    [PROTOBUF_C_TYPE_SFIXED32] = "sfixed32", [PROTOBUF_C_TYPE_INT64] = "int64",
	    [PROTOBUF_C_TYPE_SINT64] = "sint64",     [PROTOBUF_C_TYPE_SFIXED64] = "sfixed64",
	    [PROTOBUF_C_TYPE_UINT32] = "uint32",     [PROTOBUF_C_TYPE_FIXED32] = "fixed32",
	    [PROTOBUF_C_TYPE_UINT64] = "uint64",     [PROTOBUF_C_TYPE_FIXED64] = "fixed64",
	    [PROTOBUF_C_TYPE_FLOAT] = "float",       [PROTOBUF_C_TYPE_DOUBLE] = "double",
	    [PROTOBUF_C_TYPE_BOOL] = "bool",         [PROTOBUF_C_TYPE_ENUM] = "enum",
	    [PROTOBUF_C_TYPE_STRING] = "string",     [PROTOBUF_C_TYPE_BYTES] = "bytes",
	    [PROTOBUF_C_TYPE_MESSAGE] = "message",
	};
	return (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

bool gf__codec_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t k;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		k = gf_utf8_seq(s + i, len - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

bool gf__codec_is_time_field(const ProtobufCFieldDescriptor *f)
{
	size_t n;

	if (f->type != PROTOBUF_C_TYPE_STRING)
		return false;
	n = strlen(f->name);
	return ends_with(f->name, n, "Time") || ends_with(f->name, n, "Timestamp");
}

enum gf_err gf__codec_time_canon(const char *s, size_t len, char *canon, size_t *canon_len)
{
	int64_t ms;
	enum gf_err rc = gf_time_parse(s, len, &ms);

	if (rc == GF_OK)
		rc = gf_time_format(ms, canon, GF_TIME_BUFSIZE);
	if (rc == GF_OK)
		*canon_len = strlen(canon);
	return rc;
}

enum gf_err gf__codec_finish_string(struct gf__codec_ctx *cx, const ProtobufCFieldDescriptor *f,
                                    char *s, size_t len, char **dst)
{
	char canon[GF_TIME_BUFSIZE];
	size_t n;

	if (gf__codec_is_time_field(f)) {
		enum gf_err rc = gf__codec_time_canon(s, len, canon, &n);
		if (rc == GF_ERANGE)
			return gf__codec_fail(cx, "time out of range");
		if (rc != GF_OK)
			return gf__codec_fail(cx, "not an RFC 3339 time");
		if (n != len || memcmp(s, canon, n) != 0) {
			if (n > len) {
				s = gf__codec_alloc(cx, n + 1);
				if (s == NULL)
					return GF_ENOMEM;
			}
			memcpy(s, canon, n + 1);
		}
	}
	*dst = s;
	return GF_OK;
}

/* Binary search over names sorted by strcmp(), with a key that is not
 * NUL-terminated: strncmp() stops at len, and a longer name sorts after. */
static int name_cmp(const char *name, const char *key, size_t len)
{
	int r = strncmp(name, key, len);
	return r != 0 ? r : name[len] != '\0';
}

const ProtobufCFieldDescriptor *gf__codec_field_by_name(const ProtobufCMessageDescriptor *d,
                                                        const char *name, size_t len)
{
	unsigned lo = 0, hi = d->n_fields;

	if (memchr(name, '\0', len) != NULL)
		return NULL;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const ProtobufCFieldDescriptor *f = d->fields + d->fields_sorted_by_name[mid];
		int r = name_cmp(f->name, name, len);
		if (r == 0)
			return f;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const ProtobufCEnumValue *gf__codec_enum_by_name(const ProtobufCEnumDescriptor *ed,
                                                 const char *name, size_t len)
{
	unsigned lo = 0, hi = ed->n_value_names;

	if (memchr(name, '\0', len) != NULL)
		return NULL;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int r = name_cmp(ed->values_by_name[mid].name, name, len);
		if (r == 0)
			return ed->values + ed->values_by_name[mid].index;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

#define MEMBER(m, off) ((unsigned char *)(m) + (off))

enum gf_err gf__codec_claim_oneof(struct gf__codec_ctx *cx, const ProtobufCMessageDescriptor *d,
                                  const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m)
{
	uint32_t which;
	const ProtobufCFieldDescriptor *other;

	if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return GF_OK;
	memcpy(&which, MEMBER(m, f->quantifier_offset), sizeof(which));
	if (which == 0 || which == f->id)
		return GF_OK;
	other = protobuf_c_message_descriptor_get_field(d, which);
	return gf__codec_fail(cx, "oneof already has '%s' set", other ? other->name : "?");
}

void gf__codec_mark_set(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t id = f->id;
		memcpy(MEMBER(m, f->quantifier_offset), &id, sizeof(id));
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	           f->type != PROTOBUF_C_TYPE_MESSAGE) {
		protobuf_c_boolean has = 1;
		memcpy(MEMBER(m, f->quantifier_offset), &has, sizeof(has));
	}
}

enum gf_err gf__codec_check_required(struct gf__codec_ctx *cx, const ProtobufCMessageDescriptor *d,
                                     const unsigned char *state)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (d->fields[i].label == PROTOBUF_C_LABEL_REQUIRED && state[i] != GF__CODEC_SET) {
			gf__codec_path_push(cx, d->fields[i].name, NAME_NUL);
			return gf__codec_fail(cx, "required field missing");
		}
	}
	return GF_OK;
}

/* protobuf-c's own notion of "not set" for a proto3 field without label. */
static bool zeroish(const ProtobufCFieldDescriptor *f, const void *member)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)member == 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)member == 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)member == 0;
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)member;
		return s == NULL || s[0] == '\0';
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)member)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const void *const *)member == NULL;
	default:
		return *(const uint32_t *)member == 0;
	}
}

size_t gf__codec_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const unsigned char *member = MEMBER(m, f->offset);
	bool pointer = f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE;
	const void *p = pointer ? *(const void *const *)(const void *)member : NULL;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(const void *)MEMBER(m, f->quantifier_offset);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t which;
		memcpy(&which, MEMBER(m, f->quantifier_offset), sizeof(which));
		if (which != f->id)
			return 0;
		return !pointer || (p != NULL && p != f->default_value);
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return !pointer || p != NULL;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (pointer)
			return p != NULL && p != f->default_value;
		return *(const protobuf_c_boolean *)(const void *)MEMBER(m, f->quantifier_offset) !=
		       0;
	default:
		return !zeroish(f, member);
	}
}

/* Out-of-range checks for an integer given as sign and magnitude; stores it
 * in the member of type `type` at dst. */
bool gf__codec_store_int(ProtobufCType type, bool neg, uint64_t mag, void *dst)
{
	if (neg && mag == 0)
		neg = false; /* -0 */
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM: {
		int32_t v;
		if (neg ? mag > (uint64_t)INT32_MAX + 1 : mag > INT32_MAX)
			return false;
		v = neg ? (int32_t)(-(int64_t)mag) : (int32_t)mag;
		memcpy(dst, &v, sizeof(v));
		return true;
	}
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		uint32_t v = (uint32_t)mag;
		if (neg || mag > UINT32_MAX)
			return false;
		memcpy(dst, &v, sizeof(v));
		return true;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t v;
		if (neg ? mag > (uint64_t)INT64_MAX + 1 : mag > INT64_MAX)
			return false;
		v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		memcpy(dst, &v, sizeof(v));
		return true;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (neg)
			return false;
		memcpy(dst, &mag, sizeof(mag));
		return true;
	default:
		return false;
	}
}

/* A double for a float field: false if it would round to infinity, that is
 * from FLT_MAX plus half an ulp on; else the float, FLT_MAX when just above
 * (the shortest text of FLT_MAX, 3.4028235e+38, reads as such a double). */
bool gf__codec_to_float(double v, float *out)
{
	if (isfinite(v) && fabs(v) >= 0x1.ffffffp+127)
		return false;
	if (isfinite(v) && fabs(v) > FLT_MAX)
		v = copysign(FLT_MAX, v);
	*out = (float)v;
	return true;
}

/* --- numbers as text, strings out ------------------------------------ */

/* Magnitude of the integer digits s[0..n); false on overflow of uint64. */
bool gf__codec_digits_u64(const unsigned char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Decimal digits of v into buf (room for 20), no NUL; returns their count. */
size_t gf__codec_fmt_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

size_t gf__codec_fmt_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		return 1 + gf__codec_fmt_u64(buf + 1, 0 - (uint64_t)v);
	}
	return gf__codec_fmt_u64(buf, (uint64_t)v);
}

/* The text the JSON and msgpack encoders emit for string field f. */
enum gf_err gf__codec_out_string(const ProtobufCFieldDescriptor *f, const char *s, char *canon,
                                 const char **out, size_t *len)
{
	if (s == NULL)
		return GF_EINVAL;
	if (gf__codec_is_time_field(f)) {
		if (gf__codec_time_canon(s, strlen(s), canon, len) != GF_OK)
			return GF_EINVAL;
		*out = canon;
		return GF_OK;
	}
	*len = strlen(s);
	*out = s;
	return GF_OK;
}

/* --- output buffer ------------------------------------------------------- */

char *gf__codec_buf_reserve(struct gf__codec_buf *b, size_t n)
{
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		char *p;
		if (n > SIZE_MAX / 2 - b->len)
			return NULL;
		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
			return NULL;
		b->data = p;
		b->cap = cap;
	}
	return b->data + b->len;
}

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

/* --- formats -------------------------------------------------------------- */

static const char *const format_names[] = {
    [GF_CODEC_JSON] = "application/json",
    [GF_CODEC_PROTOBUF] = "application/x-protobuf",
    [GF_CODEC_MSGPACK] = "application/msgpack",
};

enum gf_err gf_codec_format_parse(const char *content_type, enum gf_codec_format *out)
{
	size_t n;

	if (content_type == NULL || content_type[0] == '\0') {
		*out = GF_CODEC_JSON;
		return GF_OK;
	}
	n = strcspn(content_type, ";");
	while (n > 0 && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
		n--;
	for (unsigned f = 0; f < sizeof(format_names) / sizeof(format_names[0]); f++) {
		if (strlen(format_names[f]) == n &&
		    strncasecmp(content_type, format_names[f], n) == 0) {
			*out = (enum gf_codec_format)f;
			return GF_OK;
		}
	}
	return GF_ENOENT;
}

const char *gf_codec_format_name(enum gf_codec_format format)
{
	if ((unsigned)format >= sizeof(format_names) / sizeof(format_names[0]))
		return "application/octet-stream";
	return format_names[format];
}

enum gf_err gf_codec_decode(enum gf_codec_format format, const ProtobufCMessageDescriptor *d,
                            const void *data, size_t len, ProtobufCMessage **out, char *err,
                            size_t errlen)
{
	switch (format) {
	case GF_CODEC_JSON:
		return gf_codec_from_json(d, data, len, out, err, errlen);
	case GF_CODEC_PROTOBUF:
		return gf_codec_from_protobuf(d, data, len, out, err, errlen);
	case GF_CODEC_MSGPACK:
		return gf_codec_from_msgpack(d, data, len, out, err, errlen);
	}
	return GF_EINVAL;
}

enum gf_err gf_codec_encode(enum gf_codec_format format, const ProtobufCMessage *m, void **out,
                            size_t *len)
{
	char *json;
	uint8_t *bin;
	enum gf_err rc;

	if (out == NULL)
		return GF_EINVAL;
	switch (format) {
	case GF_CODEC_JSON:
		rc = gf_codec_to_json(m, &json, len);
		if (rc == GF_OK)
			*out = json;
		return rc;
	case GF_CODEC_PROTOBUF:
		rc = gf_codec_to_protobuf(m, &bin, len);
		break;
	case GF_CODEC_MSGPACK:
		rc = gf_codec_to_msgpack(m, &bin, len);
		break;
	default:
		return GF_EINVAL;
	}
	if (rc == GF_OK)
		*out = bin;
	return rc;
}

/* --- C locale: strtod() and printf("%g") must not see a decimal comma ---- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Switches this thread to the C locale; returns the one to restore. */
locale_t gf__codec_enter_c_locale(void)
{
	pthread_once(&c_locale_once, c_locale_init);
	return c_locale != (locale_t)0 ? uselocale(c_locale) : (locale_t)0;
}

void gf__codec_leave_c_locale(locale_t old)
{
	if (old != (locale_t)0)
		uselocale(old);
}
