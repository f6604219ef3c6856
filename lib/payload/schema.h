/* SPDX-License-Identifier: MIT */
/*
 * schema.h - which schema describes a message type (schemas/messages.tsv,
 * compiled into the registry of schemas/schema_registry.h).
 */
#ifndef GF_SCHEMA_H
#define GF_SCHEMA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* The descriptor of message type msg (len bytes, e.g. "flexoffer"), or NULL if
 * the bus has no such message type. Static storage; O(log n). */
const ProtobufCMessageDescriptor *gf_schema_find(const char *msg, size_t len);

#endif
