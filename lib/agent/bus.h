/* SPDX-License-Identifier: MIT */
/*
 * bus.h - an agent's connection to its site broker (MQTT v5, our client in
 * lib/mqtt, run on the agent's thread by its loop).
 *
 * - Identity: TLS with the identity's certificate (the broker reads it from
 *   the subject), or the loopback password listener with "<role>.<id>".
 * - Persistent session: client id "<role>.<id>" plus an optional suffix,
 *   clean start off, a session expiry, QoS 1 subscriptions (re-made at every
 *   connect), so the broker keeps what arrives while the agent is away.
 * - Outgoing: every publish is QoS 1 and is kept by the client until its
 *   PUBACK, also while disconnected (offline buffering), and sent again
 *   with DUP after a reconnect. The client's queue is in memory: what must
 *   survive a kill -9 goes through a store's outbox (store.h), which every
 *   agent but gf-sim's simulated xEMS uses. Delivery is at least once:
 *   receivers key on message ids.
 * - Incoming: each message is appended to the durable inbox (inbox.h)
 *   before the client acknowledges it, so a kill -9 loses none. The
 *   agent's loop polls gf_bus_fd() and takes items (messages, and the
 *   connection's events next to them) with gf_bus_take() / gf_bus_done().
 * - Presence (SPEC section 4): at every connect a retained birth
 *   (goflex.Presence, state online, with the connection's sequence number) on
 *   gf/<site>/<role>/<id>/ops/all/status; the same topic is the will
 *   (offline) and gf_bus_close() publishes offline before disconnecting.
 * - Reconnects are the agent thread's: after GF_INBOX_LOST or
 *   GF_INBOX_CONNECT_FAILED it calls gf_bus_connect() again (gf_agent does,
 *   with a back-off), so every connection gets a will with its own sequence.
 *
 * Everything here runs on the agent's thread.
 */
#ifndef GF_BUS_H
#define GF_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "agent/inbox.h"

struct gf_bus_opts {
	const char *host;                /* default "localhost" */
	int port;                        /* 0: 8883 with TLS, 1884 without */
	const char *cafile, *cert, *key; /* TLS: all three */
	const char *password_file;       /* password listener; else env GF_PASSWORD */
	const char *ident;               /* "<role>.<id>"; NULL: the certificate's */
	const char *site;                /* required; must match the certificate's O= */
	const char *client_suffix;       /* client id "<ident>@<suffix>" when set */
	const char *state_dir;           /* the durable inbox; NULL: memory only */
	const char *version;             /* in the birth message */
	unsigned session_expiry_s;       /* 0: one week */
	int max_buffered;                /* offline buffer, messages; 0: 100000 */
};

struct gf_bus;

/* Checks the options, reads the identity, opens the inbox (replaying
 * messages a crash left undone) and creates the MQTT client; does not
 * connect yet. The caller owns *out (gf_bus_close). GF_EINVAL for bad
 * options, GF_EIO for unusable files, GF_ENOMEM; err says which. */
enum gf_err gf_bus_open(const struct gf_bus_opts *o, struct gf_bus **out, char *err, size_t errlen);

/* "<role>.<id>", the site and the role/id of the connection. */
const char *gf_bus_ident(const struct gf_bus *bus);
const char *gf_bus_site(const struct gf_bus *bus);
const char *gf_bus_role(const struct gf_bus *bus);
const char *gf_bus_id(const struct gf_bus *bus);

/* Builds gf/<site>/<own role>/<own id>/<to_role>/<to_id>/<msg> into buf.
 * GF_EINVAL for a bad part, GF_ETOOLONG when buf is too small. */
enum gf_err gf_bus_topic(const struct gf_bus *bus, char *buf, size_t size, const char *to_role,
                         const char *to_id, const char *msg);

/* Adds a subscription filter (QoS 1), made at every connect from now on.
 * GF_EFULL beyond 64 filters, GF_ENOMEM. */
enum gf_err gf_bus_subscribe(struct gf_bus *bus, const char *filter);

/* Starts a connect attempt; its outcome arrives as GF_INBOX_CONNECTED or
 * GF_INBOX_CONNECT_FAILED. On CONNECTED the bus has subscribed and sent its
 * birth. GF_EIO when the will cannot be set (no memory). */
enum gf_err gf_bus_connect(struct gf_bus *bus);

/* True between CONNECTED and LOST. */
bool gf_bus_connected(const struct gf_bus *bus);

/* The number of the current (or last) connection attempt, 1 for the
 * first: the sequence of the presence it announces. */
uint64_t gf_bus_sequence(const struct gf_bus *bus);

/* Publishes len bytes on topic at QoS 1 with Content Type content_type
 * (NULL: application/json), retained or not, with optional correlation
 * data. Works while disconnected (buffered in memory). The bytes go out
 * at gf_bus_flush(), which the agent's loop calls at the end of each turn.
 * tag comes back with GF_INBOX_PUBLISHED or GF_INBOX_PUB_FAILED. GF_EFULL
 * when the offline buffer is full, GF_EINVAL for a topic the broker would
 * refuse (empty, a wildcard, a control character: logged), GF_ETOOLONG,
 * GF_ENOMEM. */
enum gf_err gf_bus_publish(struct gf_bus *bus, const char *topic, const void *data, size_t len,
                           const char *content_type, bool retain, const void *correlation,
                           size_t correlation_len, uint64_t tag);

/* Tags with this bit are the store's (store.h): their PUBLISHED and
 * PUB_FAILED events go to the hook below before the agent sees them. */
#define GF_BUS_TAG_HOOK (UINT64_C(1) << 63)

/* Called from gf_bus_take() for a hooked tag: ok when the broker took the
 * message, else reason (>= 0x80: refused by the broker, or 0x95 by the
 * client for a packet larger than the broker takes; the client keeps a
 * publish across broken connections, so none fails on the way). Also
 * called with tag 0
 * when gf_bus_take() finds the inbox empty (the agent has handled what had
 * come), after what the handling published was written to the socket: the
 * store then clears the acknowledged rows in one transaction and
 * checkpoints its WAL when due. */
typedef void (*gf_bus_ack_hook)(void *arg, uint64_t tag, bool ok, int reason);
void gf_bus_set_ack_hook(struct gf_bus *bus, gf_bus_ack_hook fn, void *arg);

/* Messages published and not yet acknowledged (in the client's queue). */
int gf_bus_pending(const struct gf_bus *bus);

/* Writes what the client has queued for the socket, as far as the socket
 * takes it (the rest when it is writable again). */
void gf_bus_flush(struct gf_bus *bus);

/* Reads and writes what the connection has ready without taking items:
 * for an agent that is closing and waits for its last acknowledgements
 * (what arrives stays in the inbox, for the next start). */
void gf_bus_pump(struct gf_bus *bus);

/* The inbox's file descriptor to poll, and its items (inbox.h). */
int gf_bus_fd(const struct gf_bus *bus);
struct gf_inbox_item *gf_bus_take(struct gf_bus *bus);
void gf_bus_done(struct gf_bus *bus, struct gf_inbox_item *item);
/* Frees item without marking it done (it is replayed at the next open). */
void gf_bus_release(struct gf_bus *bus, struct gf_inbox_item *item);

/* Publishes the offline presence now (once; nothing when disconnected), so
 * that an agent closing many buses can say goodbye on all of them and wait
 * once (gf_agent does). */
void gf_bus_goodbye(struct gf_bus *bus);

/* Waits up to timeout_ms for published messages to be acknowledged,
 * publishes the offline presence, disconnects and frees everything.
 * Accepts NULL. */
void gf_bus_close(struct gf_bus *bus, long timeout_ms);

#endif
