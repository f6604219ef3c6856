/* SPDX-License-Identifier: MIT */
/*
 * resend.h - end-to-end delivery over a broker that can lose what it
 * acknowledged (docs/trading.md, "When the broker itself is killed").
 *
 * Two tables next to the runtime's outbox, in the agent's store (made
 * with it: the outbox's rows send what they keep without a copy,
 * store.h's gf_store_outbox_add_kept):
 *
 * - gf_resend: requests that wait for their application-level answer
 *   (an offer for its flexoffer.ack, an assign for its echo, a bid for
 *   its offer.feedback), each under a key the answer names, with the exact
 *   topic and payload that went out, and when it last went to the outbox.
 *   gf_resend_every() puts the rows that waited a period back in the
 *   outbox (same bytes: receivers drop duplicates by their ids), a
 *   reconnect every row;
 *   gf_resend_answered() removes a row when its answer arrives.
 * - gf_reply: the answer given to a request, under the request's key, so
 *   that a duplicate of the request (a resend because the answer was
 *   lost) is answered again (gf_resend_reply_again).
 *
 * Messages are sent as the store's bus (gf_store_bind), else the agent's.
 * Used by gf-fmar, gf-fman, gf-foa and gf-doms. Agent thread only;
 * the functions that write run inside the caller's transaction unless said
 * otherwise.
 */
#ifndef GF_RESEND_H
#define GF_RESEND_H

#include <stdbool.h>

#include <protobuf-c/protobuf-c.h>

#include "agent/agent.h"
#include "agent/store.h"

/* Adds what the tables of a store made by an older version lack. Once,
 * after gf_store_open. GF_EIO. */
enum gf_err gf_resend_open(struct gf_store *s);

/* Prepares (gf_store_cached) the statements a store's first
 * gf_resend_reply, gf_resend_keep and gf_resend_until run, which are
 * otherwise prepared then: for a store opened long before its first
 * answer (a virtual FOA's, whose first assignment would pay for them).
 * GF_EIO. */
enum gf_err gf_resend_prepare(struct gf_store *s);

/* Encodes body for to_role/to_id/msg, queues it in the outbox and keeps it
 * under key (replacing what the key held) until gf_resend_answered(key,
 * answer) removes it. answer NULL: any answer to key. A row still queued
 * when its answer came (or its key was given up) goes no more: it names
 * what is kept instead of holding a copy (store.h). GF_EIO, or the errors
 * of gf_message_encode. */
enum gf_err gf_resend_queue(struct gf_agent *a, struct gf_store *s, const char *key,
                            const char *answer, const char *to_role, const char *to_id,
                            const char *msg, const ProtobufCMessage *body);

/* The same for a message the caller encoded itself (topic, payload json
 * of len bytes). GF_EIO. */
enum gf_err gf_resend_keep(struct gf_store *s, const char *key, const char *answer,
                           const char *topic, const char *json, size_t len);

/* A request without an answer in the protocol (a schedule to an xEMS): the
 * row of key is dropped, unanswered, once the simulated clock reaches
 * sim_s. GF_EIO. */
enum gf_err gf_resend_until(struct gf_store *s, const char *key, double sim_s);

/* The answer to key arrived: removes the row if its answer is answer (or
 * the row's answer is NULL, or answer is NULL). *found (may be NULL) says
 * whether a row went. GF_EIO. */
enum gf_err gf_resend_answered(struct gf_store *s, const char *key, const char *answer,
                               bool *found);

/* Encodes body, queues it in the outbox and keeps it as the reply to the
 * request key (replacing an earlier reply). Errors as gf_resend_queue. */
enum gf_err gf_resend_reply(struct gf_agent *a, struct gf_store *s, const char *key,
                            const char *to_role, const char *to_id, const char *msg,
                            const ProtobufCMessage *body);

/* A duplicate of request key: queues its reply again, if there is one
 * (*found says). GF_EIO. */
enum gf_err gf_resend_reply_again(struct gf_store *s, const char *key, bool *found);

/* At GF_INBOX_CONNECTED of s's bus: every row into the outbox (logged as a
 * notice), but for the first connect of that bus (gf_resend_every queued
 * everything at start) and nothing for a store without gf_resend_every. */
void gf_resend_connected(struct gf_agent *a, struct gf_store *s, const char *msgid);

/* At start, after the agent's own first queueing (or before, it does not
 * matter: the rows of this run are in the outbox anyway): puts what the
 * last run left unanswered in the outbox (sent at the first connect); then
 * every resend_s real seconds the requests that went to the outbox resend_s
 * ago or more (each waits one period at least, two at most). resend_s 0 turns all of
 * it off, gf_resend_connected too (the rows are still kept and answered).
 * Once per store (an agent with one store per identity calls it for each;
 * the store's bus is the one gf_store_bind gave it). The store must
 * outlive the agent's loop. */
void gf_resend_every(struct gf_agent *a, struct gf_store *s, long resend_s, const char *msgid);

/* The runtime's own, at the agent's exit: frees its schedules (the agent
 * keeps their list, gf__agent_resends). Accepts NULL. */
void gf__resend_free(struct gf_resend_every *list);

#endif
