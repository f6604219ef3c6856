/* SPDX-License-Identifier: MIT */
/*
 * inbox.h - the queue between the bus's MQTT client and the agent's
 * handlers, durable for messages.
 *
 * Why durable: the client acknowledges a message (PUBACK) as soon as its
 * callback returns, long before the agent has acted on it; a kill -9 in
 * between would lose it. So the callback appends the message to a log file
 * in the agent's state directory (one write(2), which a SIGKILL cannot
 * tear) before the PUBACK goes; the agent takes messages in order and
 * marks each done once it has acted on it. After a crash, gf_inbox_open() queues again every logged
 * message not marked done: delivery is at least once, and the agents make it exactly once by keying
 * their handling on message ids. Without a state directory the inbox is memory only.
 *
 * Files (in dir): inbox.log, records of {magic, seq, lengths, FNV-1a 64 check,
 * topic, content type, correlation data, payload}; inbox.done, the highest
 * sequence number done (8 bytes). The log is truncated once everything in
 * it is done and it has grown to GF_INBOX_LOG_KEEP. Not synced to disk: a kill -9 loses nothing, a
 * power cut may (the same bargain as mosquitto's persistence).
 *
 * Thread safety: gf_inbox_push_* may be called from any thread; take,
 * done and close only from the agent's thread.
 */
#ifndef GF_INBOX_H
#define GF_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "agent/mailbox.h"

enum gf_inbox_kind {
	GF_INBOX_MESSAGE,        /* a message from the broker (durable) */
	GF_INBOX_CONNECTED,      /* the bus connected (reason = session present 0/1) */
	GF_INBOX_CONNECT_FAILED, /* a connect attempt failed (reason, text) */
	GF_INBOX_LOST,           /* the connection ended (reason, text) */
	GF_INBOX_PUBLISHED,      /* a publish was acknowledged (tag) */
	GF_INBOX_PUB_FAILED,     /* a publish was refused or failed (tag, reason, text) */
};

/* One item; owned by the inbox until gf_inbox_done() releases it. */
struct gf_inbox_item {
	enum gf_inbox_kind kind;
	uint64_t seq; /* MESSAGE: its sequence number in the log */
	int reason;   /* MQTT reason code, per kind */
	uint64_t tag; /* PUBLISHED, PUB_FAILED: the publisher's tag */
	char text[256];
	/* MESSAGE only; each buffer is NUL-terminated past its length. */
	char *topic;
	char *content_type; /* NULL when the publisher sent none */
	unsigned char *correlation;
	size_t correlation_len;
	unsigned char *payload;
	size_t len;
	bool retained;
	bool replayed;               /* queued again from the log after a restart */
	struct gf_mailbox_link link; /* the queue's (mailbox.h), internal */
};

struct gf_inbox;

/* The inbox log's size, in bytes, from which a log whose messages are all
 * done is truncated (gf_inbox_done). */
#define GF_INBOX_LOG_KEEP (64u << 10)

/* Opens an inbox; dir (may be NULL: memory only) must exist. Messages
 * logged and not done are queued again, in order, with replayed set; a torn
 * or corrupt tail of the log is dropped with a warning (GF-INBOX-TORN).
 * *replayed (may be NULL) gets their number. The caller owns *out and
 * releases it with gf_inbox_close(). GF_EIO with err for files that cannot
 * be used, GF_ENOMEM. */
enum gf_err gf_inbox_open(const char *dir, struct gf_inbox **out, size_t *replayed, char *err,
                          size_t errlen);

/* A file descriptor (eventfd) that polls readable while items are queued
 * (but for those pushed during a gf_inbox_drain: that drain takes them).
 * gf_inbox_take() resets it. */
int gf_inbox_fd(const struct gf_inbox *in);

/* The caller takes items until none is left, starting now: what is pushed
 * meanwhile does not make the descriptor readable (gf_mailbox_drain). The
 * bus calls it before reading its socket. */
void gf_inbox_drain(struct gf_inbox *in);

/* Logs and queues a copy of a message (any thread). GF_EIO if the log
 * cannot be written (then the message is not queued and the caller must
 * not acknowledge it), GF_ENOMEM. */
enum gf_err gf_inbox_push_message(struct gf_inbox *in, const char *topic, size_t topic_len,
                                  const char *content_type, size_t content_type_len,
                                  const void *correlation, size_t correlation_len,
                                  const void *payload, size_t len, bool retained);

/* Queues an event (any thread; not logged). text may be NULL. GF_ENOMEM. */
enum gf_err gf_inbox_push_event(struct gf_inbox *in, enum gf_inbox_kind kind, int reason,
                                uint64_t tag, const char *text);

/* The oldest queued item, or NULL when none. The item stays the inbox's;
 * hand it back with gf_inbox_done(). */
struct gf_inbox_item *gf_inbox_take(struct gf_inbox *in);

/* Marks item done and frees it. A message is then never replayed. Items
 * must be done in the order they were taken. The log is cut back to empty
 * once everything in it is done and it holds GF_INBOX_LOG_KEEP bytes or
 * more (a truncation per message cost more than its write). Accepts
 * NULL. */
void gf_inbox_done(struct gf_inbox *in, struct gf_inbox_item *item);

/* Frees item without marking it done: a message comes back at the next
 * open (and so does everything logged after it, since done marks are a
 * high-water mark). Accepts NULL. */
void gf_inbox_release(struct gf_inbox *in, struct gf_inbox_item *item);

/* Frees the inbox and every item still queued (logged messages among them
 * stay in the log and come back at the next open). Accepts NULL. */
void gf_inbox_close(struct gf_inbox *in);

#endif
