/* SPDX-License-Identifier: MIT */
/*
 * link.h - the byte stream under the MQTT client (lib/mqtt only): a
 * non-blocking TCP connection, with TLS over it when the client has a TLS
 * context. Reads and writes never block; the client retries them when the
 * socket is ready again.
 */
#ifndef GF_MQTT_LINK_H
#define GF_MQTT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "base/err.h"

struct gf_mqtt_link {
	int fd;              /* -1: closed */
	SSL *ssl;            /* NULL: plain TCP */
	bool tcp_up, tls_up; /* the TCP connect and the TLS handshake are done */
	bool want_write;     /* the last step waits for the socket to be writable */
	const char *host;    /* the broker's name, for TLS verification */
};

/* A TLS context that verifies the broker against cafile and presents
 * cert/key (both or none). GF_EIO with err saying which file and why. */
enum gf_err gf__mqtt_link_tls(const char *cafile, const char *cert, const char *key, SSL_CTX **out,
                              char *err, size_t errlen);

/* Starts connecting to host:port (the name lookup blocks; a name is
 * usually an address or localhost here). GF_EIO with err. */
enum gf_err gf__mqtt_link_open(struct gf_mqtt_link *l, const char *host, int port, SSL_CTX *tls,
                               char *err, size_t errlen);

/* Advances the TCP connect and TLS handshake: GF_OK when the stream is
 * ready, GF_EFULL (try again when the socket is ready), GF_EIO with err. */
enum gf_err gf__mqtt_link_step(struct gf_mqtt_link *l, char *err, size_t errlen);

/* Bytes read (> 0), 0 for none now, -1 when the stream ended or failed
 * (err says which). */
ssize_t gf__mqtt_link_read(struct gf_mqtt_link *l, void *buf, size_t n, char *err, size_t errlen);

/* Bytes written (>= 0, maybe fewer than n), -1 when it failed (err). */
ssize_t gf__mqtt_link_write(struct gf_mqtt_link *l, const void *buf, size_t n, char *err,
                            size_t errlen);

void gf__mqtt_link_close(struct gf_mqtt_link *l);

#endif
