/* SPDX-License-Identifier: MIT */
/*
 * The schema of every message type of the bus: which protobuf-c message
 * descriptor describes the payload of a given <msg> topic level. The table is
 * generated at build time from schemas/messages.tsv by schemas/gen-registry.sh
 * into $(BUILD)/gen/schema_registry.c; the descriptors come from protoc-c over
 * the .proto files of schemas/.
 */
#ifndef GF_SCHEMA_REGISTRY_H
#define GF_SCHEMA_REGISTRY_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* One message type: its name as the last topic level, and its payload's type. */
struct gf_schema_entry {
	const char *msg;                        /* e.g. "flexoffer", "kv.get.result" */
	const ProtobufCMessageDescriptor *desc; /* static; never freed */
};

/*
 * Every message type of the catalogue (each msg of schemas/exchange.tsv and
 * each "<msg>.result" of its request rows), sorted by msg in strcmp order so
 * that bsearch() with strcmp on msg finds an entry. Several msgs may share a
 * descriptor. Read-only, static storage.
 */
extern const struct gf_schema_entry gf_schema_registry[];

/* Number of entries of gf_schema_registry. */
extern const size_t gf_schema_registry_len;

#endif
