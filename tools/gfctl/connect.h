/* SPDX-License-Identifier: MIT */
/*
 * connect.h - gfctl's MQTT v5 connection (paho MQTTAsync).
 *
 * Paho runs its callbacks on its own threads. They only copy what arrives
 * into this module's state: messages into a mailbox (agent/mailbox.h, whose
 * descriptor wakes the wait for the next one), acknowledgements and the
 * connection's end under a mutex with a condition variable. Every function
 * below runs on the caller's (main) thread and waits there, so the main
 * thread alone decides and prints.
 *
 * Signals: gfctl_connect_open() blocks SIGINT and SIGTERM in the calling
 * thread before paho starts its threads, which inherit the mask, so the
 * signals stay pending for the waits below; they take them and return as a
 * stop, so a Ctrl-C ends a subscription cleanly (and disconnects). Call it
 * from the main thread before starting any thread of your own.
 */
#ifndef GFCTL_CONNECT_H
#define GFCTL_CONNECT_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/mailbox.h"
#include "base/err.h"
#include "bus/ident.h"

/* Connection options, borrowed by gfctl_connect_open() for the call only. */
struct gfctl_conn_opts {
	const char *host;   /* default "localhost" */
	int port;           /* 0: 8883 with TLS, 1884 without */
	const char *cafile; /* TLS: all three of cafile, cert and key */
	const char *cert;
	const char *key;
	const char *id;            /* "<role>.<id>"; may be NULL with a certificate */
	const char *password_file; /* password listener; else $GFCTL_PASSWORD */
};

/* A message as it arrived; owned by whoever gfctl_connect_next() gave it to. */
struct gfctl_msg {
	char *topic;
	unsigned char *payload; /* len bytes plus a NUL not counted in len */
	size_t len;
	char *content_type; /* the MQTT v5 Content Type, or NULL if none was sent */
	bool retained;
	int qos;
	struct gf_mailbox_link link; /* queue link, internal */
};

struct gfctl_conn;

/*
 * Fills in what the options leave to the certificate: with a certificate and
 * no id, *ident gets the certificate's "<role>.<id>" (OU, CN); with an id, it
 * must match the certificate's. site (GF_SITE_MAX + 1 bytes; may be NULL)
 * gets the certificate's O=, or "" without a certificate. ident_size bytes at
 * ident. GF_EINVAL with err for inconsistent or missing options (a usage
 * error), GF_EIO for an unreadable or unusable certificate.
 */
enum gf_err gfctl_connect_resolve(const struct gfctl_conn_opts *o, char *ident, size_t ident_size,
                                  char *site, char *err, size_t errlen);

/*
 * Connects with MQTT v5 and a clean start (no session is left behind) as
 * client id "<role>.<id>@gfctl-<pid>" and waits for the CONNACK. *out gets
 * the connection, released with gfctl_connect_close().
 *
 * Errors, with err set to a sentence for the user (never a secret):
 * GF_EINVAL for bad or missing options (usage), GF_EDENIED when the broker
 * refuses ("connection refused: 0x87 not authorized"), GF_EIO for network
 * and TLS failures (with OpenSSL's reason where there is one), GF_ENOENT when
 * a stop signal arrived first, GF_ENOMEM.
 */
enum gf_err gfctl_connect_open(const struct gfctl_conn_opts *o, struct gfctl_conn **out, char *err,
                               size_t errlen);

/*
 * Subscribes to n filters at QoS qos and waits for the SUBACK. GF_EDENIED
 * with err naming each refused filter and its reason code; GF_EIO if the
 * request failed or the connection ended; GF_ENOENT on a stop signal.
 */
enum gf_err gfctl_connect_subscribe(struct gfctl_conn *c, char *const *filters, size_t n, int qos,
                                    char *err, size_t errlen);

/*
 * Publishes len bytes of data on topic with the Content Type content_type
 * (NULL: none), QoS 0 or 1, retained or not, and waits until it is done:
 * the PUBACK at QoS 1, the write at QoS 0. On refusal returns GF_EDENIED and
 * *reason gets the PUBACK reason code (>= 0x80); err says "0x87 not
 * authorized". GF_EIO for a failed request or a lost connection, GF_ENOENT on
 * a stop signal.
 */
enum gf_err gfctl_connect_publish(struct gfctl_conn *c, const char *topic, const void *data,
                                  size_t len, const char *content_type, int qos, bool retain,
                                  int *reason, char *err, size_t errlen);

/*
 * Waits until a message arrives, timeout_ms passes (< 0: no limit) or a stop
 * signal arrives. GF_OK with *out the next message (free it with
 * gfctl_connect_msg_free), or GF_OK with *out NULL on timeout or signal
 * (*stopped tells which; may be NULL). GF_EIO with err if the connection
 * ended and nothing is left to read.
 */
enum gf_err gfctl_connect_next(struct gfctl_conn *c, long timeout_ms, struct gfctl_msg **out,
                               bool *stopped, char *err, size_t errlen);

/* Releases a message. Accepts NULL. */
void gfctl_connect_msg_free(struct gfctl_msg *m);

/* Disconnects (waiting briefly for the DISCONNECT to go out), releases
 * everything and drops queued messages. Accepts NULL. */
void gfctl_connect_close(struct gfctl_conn *c);

#endif
