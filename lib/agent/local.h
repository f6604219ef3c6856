/* SPDX-License-Identifier: MIT */
/*
 * local.h - a plain MQTT connection to a broker that is not a goflex site
 * broker: the prosumer's own broker its smart plugs talk to (the FOA's
 * device-controller mode, gf-sim's simulated plugs; docs/agents.md "Local
 * brokers").
 *
 * Unlike bus.h there are no goflex topics, identities, presence or durable
 * inbox: MQTT v3.1.1 (or v5), a clean session, optional username and
 * password, QoS 1 subscriptions re-made at every connect, QoS 1 (or 0)
 * publishes not buffered while disconnected. Nothing here is durable, on
 * purpose: plugs send their telemetry again on their own period, and the
 * FOA commands its plugs again at every interval boundary.
 *
 * Threads: paho's callbacks copy each message into an in-memory queue
 * (mailbox.h) whose descriptor wakes gf_local_fd() (an epoll set); the
 * agent's thread polls it (gf_agent_watch) and takes the items with
 * gf_local_take(). The set's other member, a timerfd, fires when a
 * reconnect is due: after a failed connect or a lost connection the next
 * attempt is 0.5 s later, doubling up to 5 s.
 * Everything but the callbacks runs on the agent's thread.
 */
#ifndef GF_LOCAL_H
#define GF_LOCAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct gf_local_opts {
	const char *name;      /* for the log, e.g. "plug broker" */
	const char *host;      /* default "localhost" */
	int port;              /* default 1883 */
	const char *client_id; /* required, unique on that broker */
	const char *username;  /* optional */
	const char *password;  /* optional, with username; copied, wiped at close */
	int mqtt_version;      /* 4 (3.1.1, default when 0) or 5 */
	size_t max_queued;     /* messages queued for the agent at most; 0: 10000 */
};

enum gf_local_kind {
	GF_LOCAL_MESSAGE = 1, /* topic, payload */
	GF_LOCAL_CONNECTED,   /* (re)connected and subscribed */
	GF_LOCAL_DOWN,        /* a connect failed or the connection was lost; text says why */
};

struct gf_local_item {
	enum gf_local_kind kind;
	char *topic;   /* MESSAGE: NUL-terminated */
	void *payload; /* MESSAGE: len bytes, plus a NUL not counted in len */
	size_t len;
	char *text; /* DOWN: why */
};

struct gf_local;

/* Checks the options and creates the client; does not connect yet (see
 * gf_local_connect). The caller owns *out (gf_local_close). GF_EINVAL for
 * bad options, GF_EIO when paho or a descriptor cannot be made, GF_ENOMEM;
 * err says which. */
enum gf_err gf_local_open(const struct gf_local_opts *o, struct gf_local **out, char *err,
                          size_t errlen);

/* The descriptor to poll (POLLIN); after it fires call gf_local_take until
 * it returns false. */
int gf_local_fd(const struct gf_local *l);

/* Adds a subscription filter (QoS 1) made at every connect from now on (and
 * at once when connected). GF_EFULL beyond 32 filters, GF_ENOMEM. */
enum gf_err gf_local_subscribe(struct gf_local *l, const char *filter);

/* Starts connecting; the outcome comes as an item. GF_EIO when paho refuses
 * (a retry is then scheduled as for a failed connect). */
enum gf_err gf_local_connect(struct gf_local *l);

/* Whether the last connect succeeded (and its GF_LOCAL_CONNECTED was taken)
 * and the connection was not lost since. */
bool gf_local_connected(const struct gf_local *l);

/* Publishes len bytes of payload on topic with qos (0 or 1), not retained.
 * GF_EIO while disconnected (nothing is buffered) or when paho refuses,
 * GF_EINVAL for a bad qos. */
enum gf_err gf_local_publish(struct gf_local *l, const char *topic, const void *payload, size_t len,
                             int qos);

/* Takes the next item into *out (owned by the caller: gf_local_item_clear)
 * and returns true, or returns false when none is queued; also starts a
 * reconnect that is due. Agent's thread only. */
bool gf_local_take(struct gf_local *l, struct gf_local_item *out);

/* Frees what an item holds. Accepts NULL. */
void gf_local_item_clear(struct gf_local_item *it);

/* Messages dropped because the queue was full (paho's thread outran the
 * agent's), or memory ran out; gf_local_take logs each increase
 * (GF-LOCAL-DROPPED). */
size_t gf_local_dropped(const struct gf_local *l);

/* Disconnects (waiting up to timeout_ms for in-flight publishes) and frees
 * everything. Accepts NULL. */
void gf_local_close(struct gf_local *l, long timeout_ms);

#endif
