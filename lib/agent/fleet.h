/* SPDX-License-Identifier: MIT */
/*
 * fleet.h - many identities of one role in one process: gf-sim's prosumers
 * (xems.<id>), gf-foa's virtual FOAs (foa.<id>). Their ids are a prefix and
 * a zero-padded number (id_prefix, id_digits, first_id), each has its own
 * connection (gf_agent_bus_add) over the password listener with the
 * agent's password, or over TLS with its own certificate from a directory
 * (cert_dir), and together they need a few descriptors each.
 */
#ifndef GF_FLEET_H
#define GF_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/agent.h"

/* prefix + number with digits digits (zero-padded) into id. False (id
 * still written) when that is not a valid identity id or is "all". */
bool gf_fleet_id(const char *prefix, long digits, long number, char *id, size_t size);

/* Opens the connection of role.id, or returns the agent's own when that is
 * its identity. With cert_dir: TLS with cert_dir/<role>.<id>.crt and .key
 * and c->cafile, and the certificate must name role.id; else the password
 * listener with c->password_file. state_dir: its durable inbox
 * (created, 0700), NULL: memory only. ctx is what
 * gf_agent_current_ctx() returns in its callbacks. GF_EINVAL, GF_EIO,
 * GF_ENOMEM with err set. */
enum gf_err gf_fleet_bus(struct gf_agent *a, const struct gf_agent_conf *c, const char *role,
                         const char *id, const char *cert_dir, const char *state_dir,
                         const char *version, void *ctx, struct gf_bus **out, char *err,
                         size_t errlen);

/* Raises the soft limit of open descriptors to the hard one: every
 * identity takes a socket, an inbox eventfd and, persisted, files. */
void gf_fleet_raise_fd_limit(void);

#endif
