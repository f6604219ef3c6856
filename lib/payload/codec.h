/* SPDX-License-Identifier: MIT */
/*
 * codec.h - one generic converter between protobuf-c messages and the three
 * encodings of SPEC section 6 (JSON, msgpack, protobuf), driven by the
 * message descriptors: no code per message type.
 *
 * The document model, the same for JSON and msgpack: a message is an object
 * keyed by the descriptor's field names; repeated fields are arrays; null
 * (nil) is an absent field; enums travel as value names (numbers accepted on
 * input); bytes are base64 in JSON and bin in msgpack; a string field whose
 * name ends in "Time" or "Timestamp" holds an RFC 3339 time (lib/base/timefmt.h),
 * stored and emitted in canonical UTC form. In JSON, 64-bit integers beyond
 * +-2^53 are strings and non-finite doubles are "NaN", "Infinity",
 * "-Infinity". Encoders emit every present field in descriptor order with no
 * whitespace, so equal messages give equal bytes.
 *
 * Map fields (map<K, V> in the proto, which protoc-c turns into a repeated
 * message field of entries <Field>Entry { key = 1; value = 2; }, recognised
 * by that shape) are, as in proto3 JSON, an object {key: value, ...} (a
 * msgpack map with str keys): keys are strings, integer keys in decimal,
 * bool keys "true" and "false". Entries keep their order; an entry counts as
 * a nesting level, as it does in protobuf.
 *
 * Decoding is strict in all three encodings: unknown or duplicate fields,
 * duplicate map keys, wrong types, out-of-range numbers, unknown enum values,
 * invalid UTF-8 or NUL in strings, bad times, two members of one oneof,
 * missing required fields and nesting deeper than GF_CODEC_MAX_DEPTH messages
 * are refused with a message naming the field path, e.g.
 *   flexOfferProfileConstraints[2].energyConstraintList[0].upper: expected a number
 *   decisions: duplicate key 'GF-ACL-ALLOW'
 */
#ifndef GF_CODEC_H
#define GF_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "base/err.h"

/* Deepest accepted nesting of messages; the root message is depth 1. */
#define GF_CODEC_MAX_DEPTH 32

/* A good size for err buffers: room for a path a dozen levels deep. Longer
 * messages are cut, never overrun. */
#define GF_CODEC_ERRLEN 512

enum gf_codec_format {
	GF_CODEC_JSON,     /* application/json, the default */
	GF_CODEC_PROTOBUF, /* application/x-protobuf */
	GF_CODEC_MSGPACK,  /* application/msgpack */
};

/*
 * Maps an MQTT v5 Content Type to a format: NULL or "" is JSON (SPEC 6);
 * case and parameters after ';' are ignored. GF_ENOENT for any other type,
 * *out untouched.
 */
enum gf_err gf_codec_format_parse(const char *content_type, enum gf_codec_format *out);

/* The canonical Content Type of format, e.g. "application/msgpack". */
const char *gf_codec_format_name(enum gf_codec_format format);

/*
 * Decoders. Each checks the len bytes at data against descriptor d and on
 * success stores a new message in *out. The message and everything it points
 * to live in one arena: release it with gf_codec_free() only, never with
 * protobuf_c_message_free_unpacked(). Callers may change fields, but memory
 * they hang on the message is theirs to free.
 *
 * GF_EPARSE for any invalid input, with "path: reason" written to err
 * (NUL-terminated, truncated to errlen; err may be NULL). GF_ENOMEM, or
 * GF_EINVAL for NULL arguments. *out is untouched on failure.
 *
 * gf_codec_from_json needs no NUL after the text. gf_codec_from_protobuf
 * reads the protobuf wire format itself (protobuf-c's unpack has neither the
 * rules nor the paths) and also refuses what protobuf tolerates: unknown
 * field numbers and non-repeated fields given twice, so that every encoding
 * accepts the same messages; a map entry without key or value gets their
 * defaults, as protobuf says, so that it has both like the other encodings'.
 * A key or a length prefix takes at most five varint bytes, as protobuf-c
 * reads them (a longer form of a small value: refused). In all three, time
 * strings come out canonical and any NaN comes out as the one NaN that
 * JSON's "NaN" stands for.
 */
enum gf_err gf_codec_from_json(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
                               ProtobufCMessage **out, char *err, size_t errlen);
enum gf_err gf_codec_from_msgpack(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                  size_t len, ProtobufCMessage **out, char *err, size_t errlen);
enum gf_err gf_codec_from_protobuf(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                   size_t len, ProtobufCMessage **out, char *err, size_t errlen);

/* Dispatches to one of the three decoders above. */
enum gf_err gf_codec_decode(enum gf_codec_format format, const ProtobufCMessageDescriptor *d,
                            const void *data, size_t len, ProtobufCMessage **out, char *err,
                            size_t errlen);

/* Releases a message from a gf_codec decoder. Accepts NULL. */
void gf_codec_free(ProtobufCMessage *m);

/*
 * Encoders. Each writes m (from a decoder or built by hand) into a new
 * malloc'd buffer stored in *out, with its length in *len; the caller frees
 * it with free(). JSON text is NUL-terminated (not counted in *len).
 *
 * GF_EINVAL when m breaks the document model: an unknown enum value, invalid
 * UTF-8, a time field that is not a time, a required string or message
 * missing, two map entries with one key, nesting deeper than
 * GF_CODEC_MAX_DEPTH, unknown fields (protobuf only; the others drop them).
 * GF_ENOMEM. Outputs are untouched on failure. A map entry's absent key or
 * scalar value is written as its default ("" for strings), as protobuf reads
 * it; an absent message value is GF_EINVAL.
 * JSON and msgpack write time fields in canonical form; protobuf writes the
 * strings as they are, and its decoder canonicalises them.
 */
enum gf_err gf_codec_to_json(const ProtobufCMessage *m, char **out, size_t *len);
enum gf_err gf_codec_to_msgpack(const ProtobufCMessage *m, uint8_t **out, size_t *len);
enum gf_err gf_codec_to_protobuf(const ProtobufCMessage *m, uint8_t **out, size_t *len);

/* Dispatches to one of the three encoders above. */
enum gf_err gf_codec_encode(enum gf_codec_format format, const ProtobufCMessage *m, void **out,
                            size_t *len);

#ifdef GF__CODEC_INTERNAL
#include <locale.h>

/* Switch this thread to the C locale for strtod() and printf("%g") (a
 * decimal comma must never reach JSON); returns the locale to restore with
 * gf__codec_leave_c_locale. */
locale_t gf__codec_enter_c_locale(void);
void gf__codec_leave_c_locale(locale_t old);
/*
 * For lib/payload/codec*.c only: the shared core (arena, scratch stack,
 * paths in codec.c; model rules in codec_model.c; map fields in
 * codec_map.c) as the encodings in codec_json.c, codec_msgpack.c and
 * codec_protobuf.c use it.
 */
#include <stdbool.h>

struct gf__codec_arena;

struct gf__codec_frame {
	const char *name; /* a field name or an unknown key; NULL for an index */
	size_t len;       /* SIZE_MAX: name is NUL-terminated */
	size_t index;
};

/* One decode: its arena, scratch stack (LIFO, [0, used)), path and error. */
struct gf__codec_ctx {
	struct gf__codec_arena *arena;
	unsigned char *scratch;
	size_t used, cap;
	unsigned char scratch_inline[512];
	struct gf__codec_frame path[2 * GF_CODEC_MAX_DEPTH + 4];
	unsigned depth, npath;
	bool nonfinite; /* a float or double stored is NaN or infinite */
	char *err;
	size_t errlen;
};

/* Per-field decode state, one byte per field on the scratch stack. */
enum { GF__CODEC_UNSEEN, GF__CODEC_NULL, GF__CODEC_SET };

#define GF__CODEC_NAME_NUL SIZE_MAX
#define GF__CODEC_FRAMES                                                                           \
	(sizeof(((struct gf__codec_ctx *)0)->path) / sizeof(struct gf__codec_frame))

/* Path frames, inline: one per field decoded. Frames past the array are
 * counted, not stored (the depth limit keeps them from happening). */
static inline void gf__codec_path_push(struct gf__codec_ctx *cx, const char *name, size_t len)
{
	if (cx->npath < GF__CODEC_FRAMES) {
		cx->path[cx->npath].name = name;
		cx->path[cx->npath].len = len;
	}
	cx->npath++;
}

static inline void gf__codec_path_index(struct gf__codec_ctx *cx, size_t index)
{
	if (cx->npath < GF__CODEC_FRAMES) {
		cx->path[cx->npath].name = NULL;
		cx->path[cx->npath].index = index;
	}
	cx->npath++;
}

/* The size of one element of a repeated field of this type. */
static inline size_t gf__codec_elem_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default: /* the 32-bit types, float and enum */
		return sizeof(uint32_t);
	}
}

/* A growing malloc'd output buffer. */
struct gf__codec_buf {
	char *data;
	size_t len, cap;
};

/* The decoders, also saying whether a float or double they stored is NaN or
 * infinite (*nonfinite, set on success only): for gf_check_message. */
enum gf_err gf__codec_from_json(const ProtobufCMessageDescriptor *d, const char *json, size_t len,
                                ProtobufCMessage **out, bool *nonfinite, char *err, size_t errlen);
enum gf_err gf__codec_from_msgpack(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                   size_t len, ProtobufCMessage **out, bool *nonfinite, char *err,
                                   size_t errlen);
enum gf_err gf__codec_from_protobuf(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                    size_t len, ProtobufCMessage **out, bool *nonfinite, char *err,
                                    size_t errlen);

void gf__codec_ctx_init(struct gf__codec_ctx *cx, char *err, size_t errlen);
void gf__codec_ctx_fini(struct gf__codec_ctx *cx);
enum gf_err gf__codec_begin(struct gf__codec_ctx *cx, const ProtobufCMessageDescriptor *d,
                            size_t hint, ProtobufCMessage **root);
void *gf__codec_alloc(struct gf__codec_ctx *cx, size_t size);
void gf__codec_release(struct gf__codec_ctx *cx);
size_t gf__codec_push(struct gf__codec_ctx *cx, size_t size); /* SIZE_MAX: no memory */
enum gf_err gf__codec_fail(struct gf__codec_ctx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum gf_err gf__codec_fail_quoted(struct gf__codec_ctx *cx, const char *what, const char *s,
                                  size_t n);
const char *gf__codec_type_name(ProtobufCType type);
bool gf__codec_utf8_valid(const unsigned char *s, size_t len);
bool gf__codec_is_time_field(const ProtobufCFieldDescriptor *f);
enum gf_err gf__codec_time_canon(const char *s, size_t len, char *canon, size_t *canon_len);
enum gf_err gf__codec_finish_string(struct gf__codec_ctx *cx, const ProtobufCFieldDescriptor *f,
                                    char *s, size_t len, char **dst);
enum gf_err gf__codec_out_string(const ProtobufCFieldDescriptor *f, const char *s, char *canon,
                                 const char **out, size_t *len);
const ProtobufCFieldDescriptor *gf__codec_field_by_name(const ProtobufCMessageDescriptor *d,
                                                        const char *name, size_t len);
const ProtobufCEnumValue *gf__codec_enum_by_name(const ProtobufCEnumDescriptor *ed,
                                                 const char *name, size_t len);
enum gf_err gf__codec_claim_oneof(struct gf__codec_ctx *cx, const ProtobufCMessageDescriptor *d,
                                  const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m);
void gf__codec_mark_set(const ProtobufCFieldDescriptor *f, ProtobufCMessage *m);
enum gf_err gf__codec_check_required(struct gf__codec_ctx *cx, const ProtobufCMessageDescriptor *d,
                                     const unsigned char *state);
size_t gf__codec_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
bool gf__codec_store_int(ProtobufCType type, bool neg, uint64_t mag, void *dst);
bool gf__codec_to_float(double v, float *out);
bool gf__codec_digits_u64(const unsigned char *s, size_t n, uint64_t *out);
size_t gf__codec_fmt_u64(char *buf, uint64_t v); /* no NUL; buf has room for 20 */
size_t gf__codec_fmt_i64(char *buf, int64_t v);  /* no NUL; buf has room for 21 */
/* codec_real.c: v as printf("%.*g") prints it at the fewest of 15, 16, 17
 * digits that reads back as v, for 1e-21 <= |v| < 1e15 (no NUL; buf has
 * room for 32); 0 outside that range: the caller prints it. */
size_t gf__codec_fmt_double(char *buf, double v);
char *gf__codec_buf_reserve(struct gf__codec_buf *b, size_t n);

/* A map field: the key and value fields of its entry message. */
struct gf__codec_map {
	const ProtobufCMessageDescriptor *entry;
	const ProtobufCFieldDescriptor *key, *value;
};

/* Whether f is a map<K, V> field (the shape protoc-c gives one); fills map.
 * Inline, since encoders ask for every field and most fail the first test. */
bool gf__codec_map_shape(const ProtobufCFieldDescriptor *f, struct gf__codec_map *map);
static inline bool gf__codec_map_of(const ProtobufCFieldDescriptor *f, struct gf__codec_map *map)
{
	return f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE &&
	       ((const ProtobufCMessageDescriptor *)f->descriptor)->n_fields == 2 &&
	       gf__codec_map_shape(f, map);
}
/* Decoders: a new entry in the arena, key and value marked set; NULL: no
 * memory. */
ProtobufCMessage *gf__codec_map_entry_new(struct gf__codec_ctx *cx,
                                          const struct gf__codec_map *map);
/* Decoders: sets entry's key from its text s[0..n) (integers in canonical
 * decimal, bools "true" or "false"). GF_EPARSE naming the key, GF_ENOMEM. */
enum gf_err gf__codec_map_set_key(struct gf__codec_ctx *cx, const struct gf__codec_map *map,
                                  const char *s, size_t n, ProtobufCMessage *entry);
/* Decoders: GF_EPARSE "duplicate key '<key>'" unless the n keys differ. */
enum gf_err gf__codec_map_unique(struct gf__codec_ctx *cx, const struct gf__codec_map *map,
                                 ProtobufCMessage *const *entries, size_t n);
/* Encoders: the text of entry's key, in *s (pointing into entry, a literal
 * or buf, room for 24) and *n. GF_EINVAL for a key not valid UTF-8. */
enum gf_err gf__codec_map_key_text(const struct gf__codec_map *map, const ProtobufCMessage *entry,
                                   char *buf, const char **s, size_t *n);
/* Encoders: the member of entry's value; an absent string reads as "". */
const void *gf__codec_map_value(const struct gf__codec_map *map, const ProtobufCMessage *entry);
/* Encoders: GF_EINVAL if an entry is NULL, not an entry or without its
 * message value, or two keys are equal; GF_ENOMEM. Allocates only for maps
 * of more than 16 entries. */
enum gf_err gf__codec_map_check(const struct gf__codec_map *map,
                                const ProtobufCMessage *const *entries, size_t n);
#endif

#endif
