/* SPDX-License-Identifier: MIT */
#include "bus/ident.h"

#include <stdio.h>
#include <string.h>

static const char *const role_names[] = {
#define GF__ROLE_NAME(name, text) text,
    GF_ROLE_MAP(GF__ROLE_NAME)
#undef GF__ROLE_NAME
};

enum gf_role gf_role_parse(const char *s, size_t len)
{
	for (unsigned i = 0; i < GF_ROLE_COUNT; i++) {
		if (strlen(role_names[i]) == len && memcmp(role_names[i], s, len) == 0)
			return (enum gf_role)i;
	}
	if (len == 3 && memcmp(s, "all", 3) == 0)
		return GF_ROLE_ALL;
	return GF_ROLE_NONE;
}

const char *gf_role_name(enum gf_role role)
{
	if ((unsigned)role < GF_ROLE_COUNT)
		return role_names[role];
	if (role == GF_ROLE_ALL)
		return "all";
	return "?";
}

bool gf_role_is_pool(enum gf_role role)
{
	return role == GF_ROLE_FMAN || role == GF_ROLE_FMAR || role == GF_ROLE_SP ||
	       role == GF_ROLE_KPI;
}

static bool id_char_ok(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '.' || c == '_' || c == '-');
}

bool gf_id_valid(const char *s, size_t len)
{
	if (len == 0 || len > GF_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!id_char_ok(s[i], i == 0))
			return false;
	}
	return true;
}

bool gf_sv_eq(struct gf_sv a, struct gf_sv b)
{
	return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

bool gf_sv_eq_str(struct gf_sv a, const char *s)
{
	return a.len == strlen(s) && memcmp(a.p, s, a.len) == 0;
}

bool gf_sv_is_all(struct gf_sv s)
{
	return gf_sv_eq_str(s, "all");
}

enum gf_err gf_ident_parse(const char *username, struct gf_ident *out)
{
	const char *dot;
	struct gf_ident ident;

	if (!username)
		return GF_EINVAL;
	dot = strchr(username, '.');
	if (!dot)
		return GF_EINVAL;
	ident.role = gf_role_parse(username, (size_t)(dot - username));
	if (ident.role >= GF_ROLE_COUNT)
		return GF_EINVAL;
	ident.id.p = dot + 1;
	ident.id.len = strlen(dot + 1);
	if (!gf_id_valid(ident.id.p, ident.id.len) || gf_sv_is_all(ident.id))
		return GF_EINVAL;
	*out = ident;
	return GF_OK;
}

enum gf_err gf_ident_format(const struct gf_ident *ident, char *buf, size_t size)
{
	int n;

	if (ident->role >= GF_ROLE_COUNT || !gf_id_valid(ident->id.p, ident->id.len))
		return GF_EINVAL;
	n = snprintf(buf, size, "%s.%.*s", gf_role_name(ident->role), (int)ident->id.len,
	             ident->id.p);
	if (n < 0 || (size_t)n >= size)
		return GF_ETOOLONG;
	return GF_OK;
}

bool gf_ident_client_id_ok(const struct gf_ident *ident, const char *client_id)
{
	const char *role = gf_role_name(ident->role);
	size_t rlen = strlen(role);
	const char *rest;

	if (!client_id || strncmp(client_id, role, rlen) != 0 || client_id[rlen] != '.')
		return false;
	rest = client_id + rlen + 1;
	if (strncmp(rest, ident->id.p, ident->id.len) != 0)
		return false;
	rest += ident->id.len;
	return rest[0] == '\0' || (rest[0] == '@' && rest[1] != '\0');
}
