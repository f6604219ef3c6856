/* SPDX-License-Identifier: MIT */
/*
 * bus_int.h - what the pieces of the bus share (lib/agent/bus*.c only):
 * the connection and session (bus.c), publishes and their acknowledgements
 * (bus_publish.c) and presence (bus_presence.c).
 */
#ifndef GF_BUS_INT_H
#define GF_BUS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <MQTTAsync.h>

#include "agent/bus.h"
#include "agent/credentials.h"
#include "bus/ident.h"

#define MAX_FILTERS       64
#define CONNECT_TIMEOUT_S 10
#define WEEK_S            (7u * 24u * 3600u)
#define PRESENCE_MAX      512
#define IDENT_MAX         (16 + GF_ID_MAX + 2)
/* A connection that ends within this many seconds of its connect, with no
 * acknowledgement on it and publishes in flight, is "short";
 * this many short ones in a row reset the client (see reset_client). */
#define SHORT_CONNECTION_S 10
#define SHORT_CONNECTIONS  3

/* A publish in flight, the context of its paho callbacks. Kept in a list so
 * gf_bus_close() frees those whose callbacks never came. */
struct pub_ctx {
	struct gf_bus *bus;
	uint64_t tag;
	bool abandoned; /* its client was replaced (reset_client): under bus->mu */
	struct pub_ctx *prev, *next;
};

struct gf_bus {
	MQTTAsync client;
	struct gf_inbox *inbox;
	pthread_mutex_t mu; /* pubs, pending, tls_err; never held across a paho call */
	struct pub_ctx *pubs;
	int pending;
	char tls_err[512];
	/* Agent thread only. */
	bool connected, tls;
	unsigned session_expiry_s;
	uint64_t sequence;
	char ident[IDENT_MAX], role[16], id[GF_ID_MAX + 1], site[GF_SITE_MAX + 1];
	char uri[512], where[300], client_id[IDENT_MAX + 80];
	char password[GF_PASSWORD_MAX];
	char *cafile, *cert, *key, *version;
	char status_topic[256], start_time[40], host[128];
	char will[PRESENCE_MAX];
	char *filters[MAX_FILTERS];
	size_t nfilters;
	gf_bus_ack_hook ack_hook;
	void *ack_arg;
	bool said_goodbye;
	/* The paho client's options, to create it again (reset_client). */
	char *state_dir;
	int max_buffered;
	bool paho_files; /* paho's file persistence in state_dir */
	/* Short connections (SHORT_CONNECTION_S): when the current attempt
	 * started, whether it has proved itself, how many in a row ended
	 * short, and whether the next connect resets the client first. */
	struct timespec attempt_at;
	bool attempt_ok, reset_due;
	unsigned short_count;
	char reset_why[128]; /* why reset_due: for GF-BUS-RESET */
	bool write_failed;   /* paho failed a publish's write (under mu): reset_client */
	unsigned resets;
};

/* Removes p from bus->pubs, counts it done and frees it; any thread. */
void gf__bus_pub_finish(struct pub_ctx *p);

/* After a client reset (bus.c): fails the tracked publishes in flight
 * (GF_INBOX_PUB_FAILED) and marks every context abandoned, so callbacks
 * that still come leave them alone; counts into *again those with a tag
 * (sent again by their owner) and into *lost the others. */
void gf__bus_pubs_abandon(struct gf_bus *bus, size_t *again, size_t *lost);

/* Frees the contexts whose callbacks never came; after MQTTAsync_destroy. */
void gf__bus_pubs_free(struct gf_bus *bus);

/* The presence document (goflex.Presence, JSON) into buf. */
void gf__bus_presence(const struct gf_bus *bus, bool online, char *buf, size_t size);

/* Fills the will of the next connection (offline, retained, QoS 1, with the
 * connection's sequence) into will and its properties into props; will
 * points into bus. */
void gf__bus_will(struct gf_bus *bus, MQTTAsync_willOptions *will, MQTTProperties *props);

/* Publishes the retained online presence of a new connection. */
void gf__bus_birth(struct gf_bus *bus);

#endif
