/* SPDX-License-Identifier: MIT */
/*
 * client.h - an MQTT 5 client run by its caller's event loop: no threads,
 * no blocking after the name lookup, one connection and one session.
 *
 * The caller watches gf_mqtt_fd() (readable, and writable while
 * gf_mqtt_want_write() says so), calls gf_mqtt_io() when it is ready and
 * gf_mqtt_tick() when gf_mqtt_next_ms() says (keep-alive, connect timeout).
 * What happens arrives through the callbacks of struct gf_mqtt_events,
 * always from inside those calls, on the caller's thread.
 *
 * Session (MQTT 5, 4.4): publishes are QoS 1. Each is kept, as encoded,
 * from gf_mqtt_publish() until its PUBACK: queued while disconnected, sent
 * in order up to the broker's Receive Maximum, and after a reconnect sent
 * again with DUP and its packet identifier. Nothing is lost across
 * connections of one gf_mqtt; across processes the caller's own store
 * keeps what matters (a crash loses what only this queue held).
 *
 * Incoming QoS 1 messages are acknowledged only after the message callback
 * returned true, so a caller that writes a message down in the callback
 * loses none to a kill -9: the broker sends again what it has no PUBACK
 * for. A false return ends the connection without the PUBACK; the broker
 * sends the message again on the next one.
 */
#ifndef GF_MQTT_CLIENT_H
#define GF_MQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "mqtt/packet.h"

struct gf_mqtt_opts {
	const char *host; /* name or address */
	int port;
	/* TLS when cafile is set: the broker's certificate must chain to
	 * cafile and name host; cert and key are the client's (both or none). */
	const char *cafile, *cert, *key;
	const char *client_id;
	const char *username, *password; /* NULL: none */
	uint16_t keepalive_s;            /* 0: 30 */
	uint32_t session_expiry_s;
	bool clean_start;
	unsigned connect_timeout_s; /* TCP, TLS and CONNACK; 0: 10 */
	size_t max_queued;          /* publishes kept at most; 0: 100000 */
};

/* The will of the connections made from now on (gf_mqtt_set_will). */
struct gf_mqtt_will {
	const char *topic;
	const void *payload;
	size_t len;
	const char *content_type;
	bool retain;
};

struct gf_mqtt_events {
	void *arg;
	/* CONNACK 0x00: connected; the session's publishes go out again. */
	void (*connected)(void *arg, bool session_present);
	/* A connect attempt failed: reason is the CONNACK's refusal (>= 0x80)
	 * or 0 (network, TLS, timeout), text says what happened. */
	void (*connect_failed)(void *arg, int reason, const char *text);
	/* An established connection ended: reason is the broker's DISCONNECT
	 * reason code, or 0 when it sent none. */
	void (*lost)(void *arg, int reason, const char *text);
	/* A message; true once the caller has it (the PUBACK goes out). */
	bool (*message)(void *arg, const struct gf_mqtt_packet *p);
	/* A publish's PUBACK: reason 0x00/0x10 taken, >= 0x80 refused. */
	void (*published)(void *arg, uint64_t tag, int reason);
	/* The SUBACK of gf_mqtt_subscribe: one reason code per filter. */
	void (*subscribed)(void *arg, const uint8_t *codes, size_t n);
};

struct gf_mqtt;

/* Copies what it needs of o and ev. GF_EINVAL (err says why), GF_ENOMEM,
 * GF_EIO for TLS files OpenSSL cannot use. The caller owns *out. */
enum gf_err gf_mqtt_new(const struct gf_mqtt_opts *o, const struct gf_mqtt_events *ev,
                        struct gf_mqtt **out, char *err, size_t errlen);

/* Sets (copies) or clears (NULL) the will. GF_ENOMEM. */
enum gf_err gf_mqtt_set_will(struct gf_mqtt *m, const struct gf_mqtt_will *w);

/* Starts a connection (after ending any current one). The outcome comes
 * as connected or connect_failed; connect_failed may come from inside this
 * call (a name that does not resolve). */
void gf_mqtt_connect(struct gf_mqtt *m);

/* Queues a QoS 1 publish; it goes out when connected and within the
 * Receive Maximum. tag comes back with its PUBACK. GF_EFULL beyond
 * max_queued, GF_EINVAL for a topic or property longer than 65535 bytes,
 * GF_ENOMEM. */
enum gf_err gf_mqtt_publish(struct gf_mqtt *m, const char *topic, const void *payload, size_t len,
                            const char *content_type, bool retain, const void *correlation,
                            size_t correlation_len, uint64_t tag);

/* Subscribes to n filters (connected only; GF_EIO otherwise). */
enum gf_err gf_mqtt_subscribe(struct gf_mqtt *m, const char *const *filters, size_t n);

/* The socket (-1 when there is none) and whether to wait for it to be
 * writable. */
int gf_mqtt_fd(const struct gf_mqtt *m);
bool gf_mqtt_want_write(const struct gf_mqtt *m);

/* Reads and writes what the socket allows, handling every whole packet. */
void gf_mqtt_io(struct gf_mqtt *m);

/* Writes what is queued for the socket, as far as it takes it: after
 * publishing, so that a burst goes out in few system calls. */
void gf_mqtt_flush(struct gf_mqtt *m);

/* Keep-alive and connect timeout: milliseconds until gf_mqtt_tick is due
 * (-1: nothing due), and the tick itself. */
long gf_mqtt_next_ms(const struct gf_mqtt *m);
void gf_mqtt_tick(struct gf_mqtt *m);

bool gf_mqtt_connected(const struct gf_mqtt *m);

/* Publishes not yet acknowledged (sent or queued). */
size_t gf_mqtt_pending(const struct gf_mqtt *m);

/* Sends DISCONNECT with reason (0x00: the will is not published, 0x04:
 * it is) and closes the socket; no callback. The session stays. */
void gf_mqtt_disconnect(struct gf_mqtt *m, uint8_t reason);

/* Closes and frees everything, the queue included. Accepts NULL. */
void gf_mqtt_free(struct gf_mqtt *m);

#endif
