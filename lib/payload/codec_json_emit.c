/* SPDX-License-Identifier: MIT */
/*
 * codec_json_emit.c - encoding messages as JSON (application/json): every
 * present field in descriptor order, no whitespace, numbers in their
 * shortest exact form, times canonical. Decoding is in codec_json.c.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/timefmt.h"

#define MEMBER(m, off) ((unsigned char *)(m) + (off))
#define NAME_NUL       GF__CODEC_NAME_NUL

/* --- JSON encoding -------------------------------------------------------- */

struct jenc {
	struct gf__codec_buf b;
};

static bool put(struct jenc *e, const void *s, size_t n)
{
	char *p = gf__codec_buf_reserve(&e->b, n);
	if (p == NULL)
		return false;
	memcpy(p, s, n);
	e->b.len += n;
	return true;
}

static bool putc_(struct jenc *e, char c)
{
	return put(e, &c, 1);
}

/* The shortest decimal that reads back as v (v finite). Integers print as
 * such; a double of 1e-4 <= |v| < 1e15 as codec_real.c prints it (the same
 * as below, without printf). Otherwise %.15g: when some decimal of at most 15 significant digits
 * reads back as v, rounding v to 15 digits gives exactly that decimal
 * followed by zeros, which %g drops; else 16 digits, else 17 (always enough).
 * Floats do the same with 6 to 9 digits. */
static size_t fmt_real(char *buf, size_t size, double v, bool is_float)
{
	int n = 0;

	if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
		if (v == 0 && signbit(v)) {
			memcpy(buf, "-0", 2);
			return 2;
		}
		return gf__codec_fmt_i64(buf, (int64_t)v);
	}
	if (!is_float && (n = (int)gf__codec_fmt_double(buf, v)) > 0)
		return (size_t)n;
	for (int prec = is_float ? 6 : 15; prec <= (is_float ? 9 : 17); prec++) {
		n = snprintf(buf, size, "%.*g", prec, v);
		if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
			break;
	}
	return (size_t)n;
}

static bool put_real(struct jenc *e, double v, bool is_float)
{
	char buf[40];

	if (isnan(v))
		return put(e, "\"NaN\"", 5);
	if (isinf(v))
		return v > 0 ? put(e, "\"Infinity\"", 10) : put(e, "\"-Infinity\"", 11);
	return put(e, buf, fmt_real(buf, sizeof(buf), v, is_float));
}

/* The string s as a JSON string (base/json.h, the exact mode): valid UTF-8
 * only, measured first so that it is written in one reservation. */
static enum gf_err put_string(struct jenc *e, const char *str, size_t n)
{
	size_t len = gf_json_quote(NULL, 0, str, n, GF_JSON_EXACT);
	char *p;

	if (len == GF_JSON_INVALID)
		return GF_EINVAL;
	p = gf__codec_buf_reserve(&e->b, len);
	if (p == NULL)
		return GF_ENOMEM;
	gf_json_quote(p, len, str, n, GF_JSON_EXACT);
	e->b.len += len;
	return GF_OK;
}

static bool put_base64(struct jenc *e, const ProtobufCBinaryData *bd)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = bd->len, o = 0;
	char *p;

	if (n > (SIZE_MAX - 2) / 4 * 3)
		return false;
	p = gf__codec_buf_reserve(&e->b, (n + 2) / 3 * 4 + 2);
	if (p == NULL)
		return false;
	p[o++] = '"';
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)bd->data[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)bd->data[i + 1] << 8;
		if (i + 2 < n)
			v |= bd->data[i + 2];
		p[o++] = abc[v >> 18];
		p[o++] = abc[(v >> 12) & 63];
		p[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		p[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	p[o++] = '"';
	e->b.len += o;
	return true;
}

static enum gf_err emit_message(struct jenc *e, const ProtobufCMessage *m, unsigned depth);

static enum gf_err emit_value(struct jenc *e, const ProtobufCFieldDescriptor *f, const void *v,
                              unsigned depth)
{
	char buf[32];
	bool ok;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		ok = put(e, buf, gf__codec_fmt_i64(buf, *(const int32_t *)v));
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		ok = put(e, buf, gf__codec_fmt_u64(buf, *(const uint32_t *)v));
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t x = *(const int64_t *)v;
		bool quote = x > (1LL << 53) || x < -(1LL << 53);
		size_t n = gf__codec_fmt_i64(buf + 1, x);
		buf[0] = buf[n + 1] = '"';
		ok = quote ? put(e, buf, n + 2) : put(e, buf + 1, n);
		break;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t x = *(const uint64_t *)v;
		size_t n = gf__codec_fmt_u64(buf + 1, x);
		buf[0] = buf[n + 1] = '"';
		ok = x > (1ULL << 53) ? put(e, buf, n + 2) : put(e, buf + 1, n);
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT:
		ok = put_real(e, *(const float *)v, true);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		ok = put_real(e, *(const double *)v, false);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		ok = *(const protobuf_c_boolean *)v ? put(e, "true", 4) : put(e, "false", 5);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);
		if (ev == NULL)
			return GF_EINVAL;
		return put_string(e, ev->name, strlen(ev->name));
	}
	case PROTOBUF_C_TYPE_STRING: {
		char canon[GF_TIME_BUFSIZE];
		const char *s;
		size_t n;
		if (gf__codec_out_string(f, *(const char *const *)v, canon, &s, &n) != GF_OK)
			return GF_EINVAL;
		return put_string(e, s, n);
	}
	case PROTOBUF_C_TYPE_BYTES:
		ok = put_base64(e, v);
		break;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)v;
		if (sub == NULL)
			return GF_EINVAL;
		return emit_message(e, sub, depth + 1);
	}
	default:
		return GF_EINVAL;
	}
	return ok ? GF_OK : GF_ENOMEM;
}

/* A map field as an object, entries in their stored order. Entries are a
 * nesting level, as in protobuf. */
static enum gf_err emit_map(struct jenc *e, const struct gf__codec_map *map,
                            const ProtobufCMessage *const *entries, size_t n, unsigned depth)
{
	enum gf_err rc;

	if (depth + 1 > GF_CODEC_MAX_DEPTH)
		return GF_EINVAL;
	rc = gf__codec_map_check(map, entries, n);
	if (rc != GF_OK)
		return rc;
	if (!putc_(e, '{'))
		return GF_ENOMEM;
	for (size_t k = 0; k < n; k++) {
		char buf[24];
		const char *s;
		size_t len;
		if (k > 0 && !putc_(e, ','))
			return GF_ENOMEM;
		rc = gf__codec_map_key_text(map, entries[k], buf, &s, &len);
		if (rc == GF_OK)
			rc = put_string(e, s, len);
		if (rc == GF_OK && !putc_(e, ':'))
			rc = GF_ENOMEM;
		if (rc == GF_OK)
			rc = emit_value(e, map->value, gf__codec_map_value(map, entries[k]),
			                depth + 1);
		if (rc != GF_OK)
			return rc;
	}
	return putc_(e, '}') ? GF_OK : GF_ENOMEM;
}

static enum gf_err emit_message(struct jenc *e, const ProtobufCMessage *m, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	bool first = true;
	enum gf_err rc;

	if (depth > GF_CODEC_MAX_DEPTH || d == NULL)
		return GF_EINVAL;
	if (!putc_(e, '{'))
		return GF_ENOMEM;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t n = gf__codec_present(m, f);
		if (n == 0) {
			if (f->label == PROTOBUF_C_LABEL_REQUIRED)
				return GF_EINVAL; /* a required string or message is NULL */
			continue;
		}
		if ((!first && !putc_(e, ',')) || !putc_(e, '"') ||
		    !put(e, f->name, strlen(f->name)) || !put(e, "\":", 2))
			return GF_ENOMEM;
		first = false;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			const unsigned char *arr =
			    *(const unsigned char *const *)(const void *)MEMBER(m, f->offset);
			size_t es = gf__codec_elem_size(f->type);
			struct gf__codec_map map;
			if (gf__codec_map_of(f, &map)) {
				rc = emit_map(e, &map,
				              (const ProtobufCMessage *const *)(const void *)arr, n,
				              depth);
				if (rc != GF_OK)
					return rc;
				continue;
			}
			if (!putc_(e, '['))
				return GF_ENOMEM;
			for (size_t k = 0; k < n; k++) {
				if (k > 0 && !putc_(e, ','))
					return GF_ENOMEM;
				rc = emit_value(e, f, arr + k * es, depth);
				if (rc != GF_OK)
					return rc;
			}
			if (!putc_(e, ']'))
				return GF_ENOMEM;
		} else {
			rc = emit_value(e, f, MEMBER(m, f->offset), depth);
			if (rc != GF_OK)
				return rc;
		}
	}
	return putc_(e, '}') ? GF_OK : GF_ENOMEM;
}

enum gf_err gf_codec_to_json(const ProtobufCMessage *m, char **out, size_t *len)
{
	struct jenc e = {{NULL, 0, 0}};
	locale_t old;
	enum gf_err rc;

	if (m == NULL || out == NULL || len == NULL)
		return GF_EINVAL;
	old = gf__codec_enter_c_locale();
	rc = emit_message(&e, m, 1);
	if (rc == GF_OK && !putc_(&e, '\0'))
		rc = GF_ENOMEM;
	gf__codec_leave_c_locale(old);
	if (rc != GF_OK) {
		free(e.b.data);
		return rc;
	}
	*out = e.b.data;
	*len = e.b.len - 1;
	return GF_OK;
}
