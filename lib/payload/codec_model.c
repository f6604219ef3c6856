/* SPDX-License-Identifier: MIT */
/*
 * codec_model.c - the document model's rules that every encoding of the
 * codec shares (codec.h): type names, UTF-8, time fields, field and enum
 * lookup by name, oneofs, presence, integer and float ranges, numbers as
 * text, and the output buffer. Reached through the GF__CODEC_INTERNAL part
 * of codec.h.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"
#include "base/json.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"

#define NAME_NUL GF__CODEC_NAME_NUL

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
	/* strncmp() by hand: names are short, and the call cost more than the
	 * comparison (a tenth of the JSON decoder's time in a profile). */
	for (size_t i = 0; i < len; i++) {
		unsigned char a = (unsigned char)name[i], b = (unsigned char)key[i];
		if (a != b)
			return a < b ? -1 : 1;
	}
	return name[len] != '\0';
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
/* "00" .. "99" */
static const char digit_pairs[] = "0001020304050607080910111213141516171819"
                                  "2021222324252627282930313233343536373839"
                                  "4041424344454647484950515253545556575859"
                                  "6061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

/* Two digits per division, written from the end. */
size_t gf__codec_fmt_u64(char *buf, uint64_t v)
{
	size_t n = 1;
	char *p;

	for (uint64_t t = v; t >= 10 && n < 20; t /= 10)
		n++;
	p = buf + n;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		*--p = digit_pairs[2 * r + 1];
		*--p = digit_pairs[2 * r];
	}
	if (v >= 10) {
		*--p = digit_pairs[2 * v + 1];
		*--p = digit_pairs[2 * v];
	} else {
		*--p = (char)('0' + v);
	}
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
