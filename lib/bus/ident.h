/* SPDX-License-Identifier: MIT */
/*
 * ident.h - roles and identities (SPEC section 3).
 *
 * An identity is (site, role, id). Within one broker the site is fixed, so a
 * connection's identity is the pair (role, id), written "<role>.<id>": that is
 * the username on password listeners, and the plugin rewrites the username of
 * certificate clients to the same form, so every later decision derives the
 * identity from the username alone, without allocating.
 */
#ifndef GF_IDENT_H
#define GF_IDENT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define GF_ROLE_MAP(X)                                                                             \
	X(USER, "user")                                                                            \
	X(XEMS, "xems")                                                                            \
	X(FOA, "foa")                                                                              \
	X(FMAN, "fman")                                                                            \
	X(FMAR, "fmar")                                                                            \
	X(DOMS, "doms")                                                                            \
	X(SP, "sp")                                                                                \
	X(DMS, "dms")                                                                              \
	X(EXT, "ext")                                                                              \
	X(KPI, "kpi")                                                                              \
	X(OPS, "ops")                                                                              \
	X(BRIDGE, "bridge")

enum gf_role {
#define GF__ROLE_ENUM(name, text) GF_ROLE_##name,
	GF_ROLE_MAP(GF__ROLE_ENUM)
#undef GF__ROLE_ENUM
	    GF_ROLE_COUNT,
	/* Not a role: the "all" wildcard of the to-role level (public feeds). */
	GF_ROLE_ALL = GF_ROLE_COUNT,
	GF_ROLE_NONE
};

#define GF_ID_MAX   64
#define GF_SITE_MAX 64

/* A borrowed, not NUL-terminated piece of a longer string. */
struct gf_sv {
	const char *p;
	size_t len;
};

struct gf_ident {
	enum gf_role role;
	struct gf_sv id; /* borrowed from the string it was parsed from */
};

/* Role name -> role; GF_ROLE_ALL for "all"; GF_ROLE_NONE for anything else. */
enum gf_role gf_role_parse(const char *s, size_t len);
/* Role -> its name ("all" for GF_ROLE_ALL, "?" for anything invalid). */
const char *gf_role_name(enum gf_role role);
/* True for the roles whose instances form a pool that private messages may
 * address with to-id "all" (fman, fmar, sp, kpi). */
bool gf_role_is_pool(enum gf_role role);

/* True if s matches [A-Za-z0-9][A-Za-z0-9._-]{0,63}. "all" passes this test:
 * callers decide whether the reserved word is acceptable where they are. */
bool gf_id_valid(const char *s, size_t len);
/* True if s is exactly "all". */
bool gf_sv_is_all(struct gf_sv s);
bool gf_sv_eq(struct gf_sv a, struct gf_sv b);
bool gf_sv_eq_str(struct gf_sv a, const char *s);

/*
 * Parses "<role>.<id>" (split at the first dot) into out, borrowing from
 * username. GF_EINVAL if the role is unknown, the id is invalid, or the id is
 * the reserved "all"; out is untouched then.
 */
enum gf_err gf_ident_parse(const char *username, struct gf_ident *out);

/*
 * Writes "<role>.<id>" into buf (NUL-terminated). GF_ETOOLONG if it does not
 * fit, GF_EINVAL for an invalid identity.
 */
enum gf_err gf_ident_format(const struct gf_ident *ident, char *buf, size_t size);

/*
 * True if client_id is bound to ident: "<role>.<id>" exactly, or that
 * followed by '@' and at least one more character. The binding stops one
 * identity from resuming another identity's persistent session (and the
 * messages queued in it) by choosing the same client id.
 */
bool gf_ident_client_id_ok(const struct gf_ident *ident, const char *client_id);

#endif
