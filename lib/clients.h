/* SPDX-License-Identifier: MIT */
/*
 * clients.h - the sessions the broker has admitted, keyed by client id.
 *
 * On SIGHUP mosquitto re-authenticates every session, connected or not. A
 * disconnected certificate session has no certificate to show, so the plugin
 * judges it by what it recorded here when it admitted the certificate: its
 * identity, site and serial number (revoked since? refused). Entries of
 * certificate sessions are therefore kept after a disconnect; entries of
 * password sessions are dropped (mosquitto keeps their password). Decisions on
 * the ACL path do not use the registry (they derive the identity from the
 * username; see ident.h), so lookups here are not on the hot path.
 */
#ifndef GF_CLIENTS_H
#define GF_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define GF_SERIAL_MAX 32

struct gf_client_entry {
	char *client_id; /* owned; the key */
	char *username;  /* owned, "<role>.<id>" */
	char *cert_site; /* owned; NULL for password connections */
	uint8_t serial[GF_SERIAL_MAX];
	size_t serial_len; /* 0 for password connections */
};

struct gf_clients;

/* A new, empty registry (free with gf_clients_free), or NULL. */
struct gf_clients *gf_clients_new(void);
void gf_clients_free(struct gf_clients *reg);

/* Adds or replaces the entry of client_id, copying the strings. cert_site is
 * NULL for password sessions. GF_EINVAL, GF_ENOMEM. */
enum gf_err gf_clients_put(struct gf_clients *reg, const char *client_id, const char *username,
                           const char *cert_site, const uint8_t *serial, size_t serial_len);

/* Removes the entry of client_id, if any. */
void gf_clients_drop(struct gf_clients *reg, const char *client_id);

/* The entry of client_id, or NULL; valid until the next put or drop. */
const struct gf_client_entry *gf_clients_find(const struct gf_clients *reg, const char *client_id);

size_t gf_clients_count(const struct gf_clients *reg);

/* Calls fn for every entry. fn must not modify the registry. */
void gf_clients_each(const struct gf_clients *reg,
                     void (*fn)(const struct gf_client_entry *e, void *ud), void *ud);

#endif
