/* SPDX-License-Identifier: MIT */
/*
 * msggen.h - random protobuf-c messages of any type, driven by the
 * descriptor, for the codec's round-trip tests (codec_test,
 * schemas_roundtrip_test).
 *
 * Every message generated is one the codec accepts (lib/payload/codec.h): strings
 * are valid UTF-8 without NUL, string fields named *Time or *Timestamp hold
 * canonical RFC 3339 times, enums known values, required fields are set,
 * at most one member of a oneof, map fields (map<K, V>) have entries with
 * distinct keys and both key and value set, and nesting stops at depth 4.
 * Numbers reach their limits: NaN, infinities, -0, 2^53 + 1, INT64_MIN.
 * Semantic rules (lib/payload/validate.h) are not followed.
 */
#ifndef GF_MSGGEN_H
#define GF_MSGGEN_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* A generator: a xorshift64 state, never 0. */
struct msggen {
	uint64_t state;
};

/* Seeds g; equal seeds give equal sequences of messages. */
void msggen_seed(struct msggen *g, uint64_t seed);

/* The next 64 random bits of g. */
uint64_t msggen_rand(struct msggen *g);

/*
 * A new message of type d, every part malloc'd: release it with
 * protobuf_c_message_free_unpacked(m, NULL). Aborts when out of memory.
 */
ProtobufCMessage *msggen_message(struct msggen *g, const ProtobufCMessageDescriptor *d);

#endif
