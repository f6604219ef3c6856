/* SPDX-License-Identifier: MIT */
/*
 * codec_pb_int.h - for lib/payload only: reading the protobuf wire format,
 * shared by the decoder (codec_protobuf.c) and the one-pass verdict
 * (check_protobuf.c).
 */
#ifndef GF_CODEC_PB_INT_H
#define GF_CODEC_PB_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

/* A varint of at most ten bytes whose last carries no bits past the 64th. */
static inline bool varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;

	if (*p < end && **p < 0x80) { /* keys and small values: one byte */
		*out = *(*p)++;
		return true;
	}

	for (unsigned i = 0; i < 10 && *p + i < end; i++) {
		uint8_t b = (*p)[i];
		if (i == 9 && b > 1)
			return false;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*p += i + 1;
			*out = v;
			return true;
		}
	}
	return false;
}

/* A key or a length prefix: a varint of at most five bytes, as protobuf-c
 * reads them (longer ones, even of a small value, are refused there: the
 * decoder and the broker's verdict must not accept what it refuses). */
static inline bool varint5(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	const uint8_t *q = *p;

	if (!varint(&q, end, out) || q - *p > 5)
		return false;
	*p = q;
	return true;
}

static inline bool packable(ProtobufCType t)
{
	return t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES &&
	       t != PROTOBUF_C_TYPE_MESSAGE;
}

static inline unsigned wire_type_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return PROTOBUF_C_WIRE_TYPE_64BIT;
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return PROTOBUF_C_WIRE_TYPE_32BIT;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	default:
		return PROTOBUF_C_WIRE_TYPE_VARINT;
	}
}

/* A varint's value v stored at dst as the generated struct holds field f:
 * zigzag decoded for sint32/sint64, 64 bits for int64/uint64, else the low
 * 32 bits (int32, uint32, bool and enum, checked to fit by the caller). */
static inline void store_varint(const ProtobufCFieldDescriptor *f, uint64_t v, void *dst)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_SINT32: {
		uint32_t u = (uint32_t)v;
		int32_t x = (int32_t)((u >> 1) ^ (0u - (u & 1)));
		memcpy(dst, &x, sizeof(x));
		return;
	}
	case PROTOBUF_C_TYPE_SINT64: {
		int64_t x = (int64_t)((v >> 1) ^ (0 - (v & 1)));
		memcpy(dst, &x, sizeof(x));
		return;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		memcpy(dst, &v, sizeof(v));
		return;
	default: {
		uint32_t u = (uint32_t)v;
		memcpy(dst, &u, sizeof(u));
	}
	}
}

#endif
