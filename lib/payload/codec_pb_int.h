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

#endif
