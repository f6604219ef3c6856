/* SPDX-License-Identifier: MIT */
/*
 * message.h - catalogue messages in and out of an agent: the one way agents
 * read a message's topic and payload and write theirs.
 *
 * Incoming: gf_message_read() splits the topic (SPEC section 4), finds the
 * msg's schema (schemas/messages.tsv) and decodes the payload in the format
 * its Content Type names. Outgoing: gf_message_encode() writes a message as
 * JSON for a topic built from the agent's own identity; gf_message_send_on()
 * publishes it, gf_message_queue() puts it in a store's outbox (store.h).
 */
#ifndef GF_MESSAGE_H
#define GF_MESSAGE_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "base/err.h"
#include "agent/inbox.h"
#include "agent/store.h"
#include "bus/topic.h"

struct gf_agent;

/* A decoded incoming message. Free with gf_message_free(). */
struct gf_message {
	struct gf_topic topic; /* borrows from the inbox item's topic */
	char msg[GF_MSG_MAX + 1];
	char from_id[GF_ID_MAX + 1], to_id[GF_ID_MAX + 1];
	ProtobufCMessage *body; /* the schema's type, e.g. Goflex__FlexOffer */
};

/* Decodes item (a GF_INBOX_MESSAGE) into *out. GF_EPARSE with err set for a
 * topic outside the tree, a msg without a schema, an unknown Content Type or
 * an undecodable payload (the broker validates, so this is rare: a payload
 * of a broker running with validation off, or a replayed one). GF_ENOMEM. */
enum gf_err gf_message_read(const struct gf_inbox_item *item, struct gf_message *out, char *err,
                            size_t errlen);
void gf_message_free(struct gf_message *m);

/* Encodes body (JSON) and builds the topic
 * gf/<site>/<own role>/<own id>/<to_role>/<to_id>/<msg>. *topic (size
 * bytes) and *json (malloc'd, the caller frees) are set. GF_EINVAL for a
 * body the codec refuses or a bad topic part, GF_ETOOLONG, GF_ENOMEM. */
enum gf_err gf_message_encode(struct gf_agent *a, const char *to_role, const char *to_id,
                              const char *msg, const ProtobufCMessage *body, char *topic,
                              size_t size, char **json, size_t *len);

/* The same for the identity of bus (another connection of the agent). */
enum gf_err gf_message_encode_on(const struct gf_bus *bus, const char *to_role, const char *to_id,
                                 const char *msg, const ProtobufCMessage *body, char *topic,
                                 size_t size, char **json, size_t *len);

/* Encodes and publishes now from bus, a connection of the agent (its own,
 * gf_agent_bus, or another, gf_agent_bus_add): the topic's sender is that
 * bus's identity (gf_bus_publish; tag returns with the PUBLISHED event).
 * Errors as gf_message_encode and gf_bus_publish, logged with
 * GF-MESSAGE-SEND. */
enum gf_err gf_message_send_on(struct gf_bus *bus, const char *to_role, const char *to_id,
                               const char *msg, const ProtobufCMessage *body, uint64_t tag);

/* Encodes and queues in the store's outbox, inside the caller's
 * transaction; the sender is the store's bus (gf_store_bind), else the
 * agent's own. Errors as gf_message_encode and gf_store_outbox_add. */
enum gf_err gf_message_queue(struct gf_agent *a, struct gf_store *s, const char *to_role,
                             const char *to_id, const char *msg, const ProtobufCMessage *body);

/* Queues the answer to the request m (read from item) in the store's
 * outbox, inside the caller's transaction (SPEC section 4): the message
 * "<m's msg>.result" to the requester's role and id, with the request's
 * MQTT v5 correlation data (if it had any), from the store's bus or the
 * agent's own. Errors as gf_message_queue. */
enum gf_err gf_message_answer(struct gf_agent *a, struct gf_store *s,
                              const struct gf_inbox_item *item, const struct gf_message *m,
                              const ProtobufCMessage *body);

#endif
