/* SPDX-License-Identifier: MIT */
/*
 * clients.h - the connections that are open now, keyed by the broker's
 * client handle (the address of mosquitto's context).
 *
 * The plugin adds a connection when it first authenticates it and removes it
 * at the broker's disconnect event, which mosquitto 2.0.11 raises for every
 * context that ever connected, including refused logins (whose client id it
 * has already cleared: hence the key is the handle, never the client id).
 * So a refused login adds and removes its own entry and never touches anyone
 * else's, and the set holds at most the connections the broker has open.
 *
 * What it is for: on SIGHUP mosquitto re-checks every session, connected or
 * away, and disconnecting an away session there corrupts mosquitto's
 * session-expiry list (docs/broker-plugin.md). "Not in the set" is how the
 * plugin knows a session is away and must not be refused; it also tells a
 * will (sent when its connection is gone) from a publish. Not on the hot
 * path of ordinary publishes' payloads: one lookup per write check.
 */
#ifndef GF_CLIENTS_H
#define GF_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct gf_clients;

/* A new, empty set (free with gf_clients_free), or NULL. */
struct gf_clients *gf_clients_new(void);
void gf_clients_free(struct gf_clients *reg);

/* Adds conn (not NULL); adding a present one changes nothing. GF_EINVAL for
 * NULL, GF_ENOMEM (the set is unchanged). */
enum gf_err gf_clients_add(struct gf_clients *reg, const void *conn);

/* Removes conn, if present. */
void gf_clients_remove(struct gf_clients *reg, const void *conn);

/* True if conn is present. O(1), no allocation. */
bool gf_clients_has(const struct gf_clients *reg, const void *conn);

size_t gf_clients_count(const struct gf_clients *reg);

#endif
