/* SPDX-License-Identifier: MIT */
/*
 * clients.h - the connections the broker has admitted, for re-evaluation.
 *
 * The plugin adds a connection when it admits it and drops it on disconnect;
 * on reload it walks the registry to refuse, after the fact, connections
 * whose certificate has since been revoked or whose site changed. Decisions
 * on the ACL path do not use the registry (they derive the identity from the
 * username; see ident.h), so lookups here are not on the hot path.
 */
#ifndef GF_CLIENTS_H
#define GF_CLIENTS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define GF_SERIAL_MAX 32

struct gf_client_entry {
	const void *key;     /* the broker's connection handle; never dereferenced */
	char *client_id;     /* owned */
	char *username;      /* owned, "<role>.<id>" */
	char *cert_site;     /* owned; NULL for password connections */
	uint8_t serial[GF_SERIAL_MAX];
	size_t serial_len;   /* 0 for password connections */
};

struct gf_clients;

/* A new, empty registry (free with gf_clients_free), or NULL. */
struct gf_clients *gf_clients_new(void);
void gf_clients_free(struct gf_clients *reg);

/* Adds or replaces the entry of key, copying the strings. GF_ENOMEM. */
enum gf_err gf_clients_put(struct gf_clients *reg, const void *key, const char *client_id,
			   const char *username, const char *cert_site, const uint8_t *serial,
			   size_t serial_len);

/* Removes the entry of key, if any. */
void gf_clients_drop(struct gf_clients *reg, const void *key);

/* The entry of key, or NULL; valid until the next put or drop. */
const struct gf_client_entry *gf_clients_find(const struct gf_clients *reg, const void *key);

size_t gf_clients_count(const struct gf_clients *reg);

/* Calls fn for every entry. fn must not modify the registry. */
void gf_clients_each(const struct gf_clients *reg,
		     void (*fn)(const struct gf_client_entry *e, void *ud), void *ud);

#endif
