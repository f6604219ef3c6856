/* SPDX-License-Identifier: MIT */
/*
 * codec.c - the codec's shared core: the arena that holds a decoded message,
 * the scratch stack, field paths for error messages, and the dispatch by
 * format. The document model's rules are in codec_model.c, map fields in
 * codec_map.c; the encodings live in codec_json.c, codec_msgpack.c and
 * codec_protobuf.c. They reach each other through the GF__CODEC_INTERNAL
 * part of codec.h only.
 */
#define GF__CODEC_INTERNAL
#include "payload/codec.h"

#include <locale.h>
#include <pthread.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	cx->nonfinite = false;
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
