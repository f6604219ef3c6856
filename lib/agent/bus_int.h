/* SPDX-License-Identifier: MIT */
/*
 * bus_int.h - what the pieces of the bus share (lib/agent/bus*.c only):
 * the connection and session (bus.c), publishes (bus_publish.c) and
 * presence (bus_presence.c).
 */
#ifndef GF_BUS_INT_H
#define GF_BUS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/bus.h"
#include "agent/credentials.h"
#include "bus/ident.h"
#include "mqtt/client.h"

#define MAX_FILTERS       64
#define CONNECT_TIMEOUT_S 10
#define KEEPALIVE_S       30
#define WEEK_S            (7u * 24u * 3600u)
#define PRESENCE_MAX      512
#define IDENT_MAX         (16 + GF_ID_MAX + 2)

struct gf_bus {
	struct gf_mqtt *mq;
	struct gf_inbox *inbox;
	/* What the agent's loop watches (gf_bus_fd): an epoll set of the
	 * inbox's eventfd, the connection's socket and a timerfd for the
	 * client's keep-alive and connect timeout. */
	int epfd, tfd;
	int watched_fd;   /* the socket in epfd, -1: none */
	bool watched_out; /* ... with EPOLLOUT */
	bool serving;     /* gf_bus_take has served the socket this round */
	bool connected, tls;
	unsigned session_expiry_s;
	uint64_t sequence;
	char ident[IDENT_MAX], role[16], id[GF_ID_MAX + 1], site[GF_SITE_MAX + 1];
	char where[300], client_id[IDENT_MAX + 80];
	char password[GF_PASSWORD_MAX];
	char *version;
	char status_topic[256], start_time[40], host[128];
	char *filters[MAX_FILTERS];
	size_t nfilters;
	gf_bus_ack_hook ack_hook;
	void *ack_arg;
	bool said_goodbye;
};

/* The presence document (goflex.Presence, JSON) into buf. */
void gf__bus_presence(const struct gf_bus *bus, bool online, char *buf, size_t size);

/* Sets the will of the next connection: offline, retained, QoS 1, with
 * the connection's sequence. GF_ENOMEM. */
enum gf_err gf__bus_will(struct gf_bus *bus);

/* Publishes the retained online presence of a new connection. */
void gf__bus_birth(struct gf_bus *bus);

/* Brings the epoll set in line with the client: its current socket, with
 * EPOLLOUT while it has bytes waiting, and the timer at its next tick. */
void gf__bus_watch(struct gf_bus *bus);

#endif
