/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/bus/ident.h: roles, ids, usernames and client ids. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "bus/ident.h"

static const char *const role_names[] = {"user", "xems", "foa", "fman", "fmar", "doms",
                                         "sp",   "dms",  "ext", "kpi",  "ops",  "bridge"};

static enum gf_role parse_str(const char *s)
{
	return gf_role_parse(s, strlen(s));
}

static bool id_ok(const char *s)
{
	return gf_id_valid(s, strlen(s));
}

/* --- roles ----------------------------------------------------------------- */

Test(role, twelve_roles)
{
	cr_assert_eq(GF_ROLE_COUNT, 12);
	cr_assert_eq(sizeof(role_names) / sizeof(role_names[0]), (size_t)GF_ROLE_COUNT);
	cr_assert_eq(GF_ROLE_ALL, GF_ROLE_COUNT);
	cr_assert_neq(GF_ROLE_NONE, GF_ROLE_ALL);
}

Test(role, parse_name_round_trip)
{
	for (int r = 0; r < GF_ROLE_COUNT; r++) {
		const char *name = gf_role_name((enum gf_role)r);
		cr_assert_str_eq(name, role_names[r], "role %d", r);
		cr_assert_eq(parse_str(name), (enum gf_role)r, "role %s", name);
		cr_assert_eq(parse_str(role_names[r]), (enum gf_role)r, "role %s", role_names[r]);
	}
	cr_assert_eq(parse_str("user"), GF_ROLE_USER);
	cr_assert_eq(parse_str("foa"), GF_ROLE_FOA);
	cr_assert_eq(parse_str("sp"), GF_ROLE_SP);
	cr_assert_eq(parse_str("bridge"), GF_ROLE_BRIDGE);
}

Test(role, all_and_unknown)
{
	cr_assert_eq(parse_str("all"), GF_ROLE_ALL);
	cr_assert_str_eq(gf_role_name(GF_ROLE_ALL), "all");
	cr_assert_str_eq(gf_role_name(GF_ROLE_NONE), "?");
	cr_assert_str_eq(gf_role_name((enum gf_role) - 1), "?");
	cr_assert_str_eq(gf_role_name((enum gf_role)99), "?");
	cr_assert_eq(parse_str(""), GF_ROLE_NONE);
	cr_assert_eq(parse_str("bogus"), GF_ROLE_NONE);
	cr_assert_eq(parse_str("FOA"), GF_ROLE_NONE);
	cr_assert_eq(parse_str("fo"), GF_ROLE_NONE);
	cr_assert_eq(parse_str("foax"), GF_ROLE_NONE);
	cr_assert_eq(parse_str("al"), GF_ROLE_NONE);
	cr_assert_eq(parse_str("alll"), GF_ROLE_NONE);
	cr_assert_eq(parse_str("+"), GF_ROLE_NONE);
	cr_assert_eq(parse_str("#"), GF_ROLE_NONE);
}

Test(role, parse_uses_len_not_nul)
{
	/* The length decides, not a terminating NUL: "foa" inside "foax". */
	cr_assert_eq(gf_role_parse("foax", 3), GF_ROLE_FOA);
	cr_assert_eq(gf_role_parse("fmanager", 4), GF_ROLE_FMAN);
	cr_assert_eq(gf_role_parse("all/x", 3), GF_ROLE_ALL);
	cr_assert_eq(gf_role_parse("foa", 2), GF_ROLE_NONE);
}

Test(role, pools)
{
	for (int r = 0; r < GF_ROLE_COUNT; r++) {
		bool expect =
		    r == GF_ROLE_FMAN || r == GF_ROLE_FMAR || r == GF_ROLE_SP || r == GF_ROLE_KPI;
		cr_assert_eq(gf_role_is_pool((enum gf_role)r), expect, "role %s", role_names[r]);
	}
	cr_assert_not(gf_role_is_pool(GF_ROLE_ALL));
	cr_assert_not(gf_role_is_pool(GF_ROLE_NONE));
}

/* --- ids ------------------------------------------------------------------- */

Test(id, valid)
{
	cr_assert(id_ok("a"));
	cr_assert(id_ok("Z"));
	cr_assert(id_ok("7"));
	cr_assert(id_ok("7-PRE-001"));
	cr_assert(id_ok("7-PRE-C-001"));
	cr_assert(id_ok("8-PIE-002"));
	cr_assert(id_ok("a.b_c-d"));
	cr_assert(id_ok("a..."));
	cr_assert(id_ok("a___"));
	cr_assert(id_ok("a---"));
	cr_assert(id_ok("all"), "\"all\" is syntactically valid; callers reject it");
}

Test(id, length_limits)
{
	char buf[GF_ID_MAX + 2];

	memset(buf, 'x', sizeof(buf));
	cr_assert(gf_id_valid(buf, 1));
	cr_assert(gf_id_valid(buf, GF_ID_MAX), "64 characters are allowed");
	cr_assert_not(gf_id_valid(buf, GF_ID_MAX + 1), "65 characters are too many");
	cr_assert_not(gf_id_valid(buf, 0), "empty");
	cr_assert_not(id_ok(""));
	buf[GF_ID_MAX + 1] = '\0';
	cr_assert_eq(strlen(buf), 65);
	cr_assert_not(id_ok(buf));
	buf[GF_ID_MAX] = '\0';
	cr_assert(id_ok(buf));
}

Test(id, first_character_alnum)
{
	cr_assert_not(id_ok(".a"));
	cr_assert_not(id_ok("_a"));
	cr_assert_not(id_ok("-a"));
	cr_assert_not(id_ok("."));
	cr_assert_not(id_ok("-"));
}

Test(id, forbidden_characters)
{
	static const char *const bad[] = {
	    "a+b", "a#b", "a/b",  "a:b",      "a b",       " a",    "a ",    "a\tb",
	    "a@b", "a$b", "a*b",  "a\\b",     "a,b",       "a\"b",  "+",     "#",
	    "/",   ":",   "a\nb", "\xc3\xa9", "a\xc3\xa9", "a\x80", "a\xff", "a\x7f",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not(id_ok(bad[i]), "id '%s' accepted", bad[i]);
	/* An embedded NUL within len is not a valid character either. */
	cr_assert_not(gf_id_valid("a\0b", 3));
}

/* --- string views ---------------------------------------------------------- */

Test(sv, helpers)
{
	struct gf_sv all = {"all/x", 3}, alls = {"alls", 4}, a = {"abc", 3}, b = {"abd", 3};

	cr_assert(gf_sv_is_all(all));
	cr_assert_not(gf_sv_is_all(alls));
	cr_assert(gf_sv_eq(a, (struct gf_sv){"abcdef", 3}));
	cr_assert_not(gf_sv_eq(a, b));
	cr_assert_not(gf_sv_eq(a, (struct gf_sv){"ab", 2}));
	cr_assert(gf_sv_eq_str(a, "abc"));
	cr_assert_not(gf_sv_eq_str(a, "abcd"));
	cr_assert_not(gf_sv_eq_str(a, "ab"));
}

/* --- usernames ------------------------------------------------------------- */

Test(ident_parse, good)
{
	const char *u = "foa.7-PRE-001";
	struct gf_ident id;

	cr_assert_eq(gf_ident_parse(u, &id), GF_OK);
	cr_assert_eq(id.role, GF_ROLE_FOA);
	cr_assert_eq(id.id.len, 9);
	cr_assert_eq(id.id.p, u + 4, "the id is borrowed from the username");
	cr_assert(gf_sv_eq_str(id.id, "7-PRE-001"));
}

Test(ident_parse, splits_at_first_dot)
{
	struct gf_ident id;

	cr_assert_eq(gf_ident_parse("foa.a.b", &id), GF_OK);
	cr_assert_eq(id.role, GF_ROLE_FOA);
	cr_assert(gf_sv_eq_str(id.id, "a.b"));

	cr_assert_eq(gf_ident_parse("bridge.site2", &id), GF_OK);
	cr_assert_eq(id.role, GF_ROLE_BRIDGE);
	cr_assert(gf_sv_eq_str(id.id, "site2"));
}

Test(ident_parse, every_role)
{
	char buf[80];
	struct gf_ident id;

	for (int r = 0; r < GF_ROLE_COUNT; r++) {
		snprintf(buf, sizeof(buf), "%s.x1", role_names[r]);
		cr_assert_eq(gf_ident_parse(buf, &id), GF_OK, "%s", buf);
		cr_assert_eq(id.role, (enum gf_role)r);
		cr_assert(gf_sv_eq_str(id.id, "x1"));
	}
}

Test(ident_parse, refused_and_out_untouched)
{
	static const char *const bad[] = {
	    "foa.all", "bogus.x",      "foa",     "foa.",   "",        ".x",      "all.x",
	    "FOA.x",   "foa.+",        "foa.a+b", "foa.#",  "foa.a#b", "foa.a/b", "foa.a:b",
	    "foa+.x",  "fo#a.x",       "foa/.x",  "foa:.x", "foa.a b", "foa. a",  "foa.-a",
	    "foa..a",  "foa.\xc3\xa9",
	};
	const struct gf_ident sentinel = {GF_ROLE_KPI, {"sentinel", 8}};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gf_ident id = sentinel;
		cr_assert_eq(gf_ident_parse(bad[i], &id), GF_EINVAL, "'%s' accepted", bad[i]);
		cr_assert_eq(id.role, sentinel.role, "out changed for '%s'", bad[i]);
		cr_assert_eq(id.id.p, sentinel.id.p, "out changed for '%s'", bad[i]);
		cr_assert_eq(id.id.len, sentinel.id.len, "out changed for '%s'", bad[i]);
	}
	cr_assert_eq(gf_ident_parse(NULL, &(struct gf_ident){0}), GF_EINVAL);
}

Test(ident_parse, id_length)
{
	char buf[4 + GF_ID_MAX + 2];
	struct gf_ident id;

	memcpy(buf, "foa.", 4);
	memset(buf + 4, 'k', GF_ID_MAX);
	buf[4 + GF_ID_MAX] = '\0';
	cr_assert_eq(gf_ident_parse(buf, &id), GF_OK);
	cr_assert_eq(id.id.len, GF_ID_MAX);
	buf[4 + GF_ID_MAX] = 'k';
	buf[4 + GF_ID_MAX + 1] = '\0';
	cr_assert_eq(gf_ident_parse(buf, &id), GF_EINVAL);
}

/* --- format ---------------------------------------------------------------- */

Test(ident_format, round_trip)
{
	struct gf_ident id, back;
	char buf[96];

	cr_assert_eq(gf_ident_parse("fman.pool-1", &id), GF_OK);
	cr_assert_eq(gf_ident_format(&id, buf, sizeof(buf)), GF_OK);
	cr_assert_str_eq(buf, "fman.pool-1");
	cr_assert_eq(gf_ident_parse(buf, &back), GF_OK);
	cr_assert_eq(back.role, GF_ROLE_FMAN);
	cr_assert(gf_sv_eq(back.id, id.id));
}

Test(ident_format, too_long_and_invalid)
{
	struct gf_ident id = {GF_ROLE_FOA, {"7-PRE-001", 9}};
	char buf[32];

	/* "foa.7-PRE-001" is 13 characters: 14 bytes needed. */
	cr_assert_eq(gf_ident_format(&id, buf, 14), GF_OK);
	cr_assert_str_eq(buf, "foa.7-PRE-001");
	cr_assert_eq(gf_ident_format(&id, buf, 13), GF_ETOOLONG);
	cr_assert_eq(gf_ident_format(&id, buf, 1), GF_ETOOLONG);

	id.role = GF_ROLE_ALL;
	cr_assert_eq(gf_ident_format(&id, buf, sizeof(buf)), GF_EINVAL);
	id.role = GF_ROLE_NONE;
	cr_assert_eq(gf_ident_format(&id, buf, sizeof(buf)), GF_EINVAL);
	id = (struct gf_ident){GF_ROLE_FOA, {"a/b", 3}};
	cr_assert_eq(gf_ident_format(&id, buf, sizeof(buf)), GF_EINVAL);
	id = (struct gf_ident){GF_ROLE_FOA, {"", 0}};
	cr_assert_eq(gf_ident_format(&id, buf, sizeof(buf)), GF_EINVAL);
}

/* --- client ids ------------------------------------------------------------ */

Test(client_id, bound_to_identity)
{
	struct gf_ident id;

	cr_assert_eq(gf_ident_parse("foa.X", &id), GF_OK);
	cr_assert(gf_ident_client_id_ok(&id, "foa.X"));
	cr_assert(gf_ident_client_id_ok(&id, "foa.X@1"));
	cr_assert(gf_ident_client_id_ok(&id, "foa.X@session-42"));
	cr_assert(gf_ident_client_id_ok(&id, "foa.X@@"));

	cr_assert_not(gf_ident_client_id_ok(&id, "foa.X@"));
	cr_assert_not(gf_ident_client_id_ok(&id, "foa.XY"));
	cr_assert_not(gf_ident_client_id_ok(&id, "fman.X"));
	cr_assert_not(gf_ident_client_id_ok(&id, "foa.X-2"));
	cr_assert_not(gf_ident_client_id_ok(&id, ""));
	cr_assert_not(gf_ident_client_id_ok(&id, NULL));
	cr_assert_not(gf_ident_client_id_ok(&id, "foa."));
	cr_assert_not(gf_ident_client_id_ok(&id, "foa"));
	cr_assert_not(gf_ident_client_id_ok(&id, "foa.x"));
	cr_assert_not(gf_ident_client_id_ok(&id, "foaX"));
	cr_assert_not(gf_ident_client_id_ok(&id, "foa.X.1"));
	cr_assert_not(gf_ident_client_id_ok(&id, " foa.X"));
	cr_assert_not(gf_ident_client_id_ok(&id, "foa.X "));
	cr_assert_not(gf_ident_client_id_ok(&id, "xfoa.X"));
}

Test(client_id, longer_id_is_not_a_prefix_match)
{
	struct gf_ident id;

	cr_assert_eq(gf_ident_parse("fman.pool-10", &id), GF_OK);
	cr_assert(gf_ident_client_id_ok(&id, "fman.pool-10"));
	cr_assert_not(gf_ident_client_id_ok(&id, "fman.pool-1"));
	cr_assert_not(gf_ident_client_id_ok(&id, "fman.pool-1@0"));
	cr_assert_not(gf_ident_client_id_ok(&id, "fmar.pool-10"));
}
