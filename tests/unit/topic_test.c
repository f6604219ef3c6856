/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/bus/topic.h: parsing and building gf/<site>/... topics. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "bus/topic.h"

static enum gf_topic_fault fault_of(const char *topic)
{
	struct gf_topic t;
	enum gf_topic_fault f = (enum gf_topic_fault) - 1;
	enum gf_err rc = gf_topic_parse(topic, &t, &f);

	cr_assert_eq(rc == GF_OK, f == GF_TOPIC_FAULT_NONE, "'%s': rc %d, fault %d", topic, rc, f);
	if (rc != GF_OK)
		cr_assert_eq(rc, GF_EPARSE, "'%s'", topic);
	return f;
}

static void assert_sv(struct gf_sv sv, const char *expect)
{
	cr_assert(gf_sv_eq_str(sv, expect), "got '%.*s', expected '%s'", (int)sv.len, sv.p, expect);
}

Test(topic_parse, private_to_one_instance)
{
	const char *s = "gf/site1/foa/7-PRE-001/fman/f1/flexoffer";
	struct gf_topic t;
	enum gf_topic_fault f = GF_TOPIC_FAULT_MSG;

	cr_assert_eq(gf_topic_parse(s, &t, &f), GF_OK);
	cr_assert_eq(f, GF_TOPIC_FAULT_NONE);
	assert_sv(t.site, "site1");
	cr_assert_eq(t.from_role, GF_ROLE_FOA);
	assert_sv(t.from_id, "7-PRE-001");
	cr_assert_eq(t.to_role, GF_ROLE_FMAN);
	assert_sv(t.to_id, "f1");
	assert_sv(t.msg, "flexoffer");
	/* Borrowed, not copied. */
	cr_assert_eq(t.site.p, s + 3);
	cr_assert_eq(t.msg.p, s + strlen(s) - strlen("flexoffer"));
}

Test(topic_parse, public_feed_and_pool)
{
	struct gf_topic t;

	cr_assert_eq(gf_topic_parse("gf/site1/sp/s1/all/all/weather.forecast", &t, NULL), GF_OK);
	cr_assert_eq(t.from_role, GF_ROLE_SP);
	cr_assert_eq(t.to_role, GF_ROLE_ALL);
	assert_sv(t.to_id, "all");
	assert_sv(t.msg, "weather.forecast");

	cr_assert_eq(gf_topic_parse("gf/site1/foa/a/fman/all/flexoffer", &t, NULL), GF_OK);
	cr_assert_eq(t.to_role, GF_ROLE_FMAN);
	assert_sv(t.to_id, "all");

	cr_assert_eq(gf_topic_parse("gf/s/fman/x.y_z/user/u-1/atp.query.result", &t, NULL), GF_OK);
	assert_sv(t.from_id, "x.y_z");
	assert_sv(t.msg, "atp.query.result");

	cr_assert_eq(gf_topic_parse("gf/site1/kpi/k/ops/all/status", &t, NULL), GF_OK);
	cr_assert_eq(t.to_role, GF_ROLE_OPS);
}

Test(topic_parse, fault_prefix)
{
	cr_assert_eq(fault_of(""), GF_TOPIC_FAULT_PREFIX);
	cr_assert_eq(fault_of("g"), GF_TOPIC_FAULT_PREFIX);
	cr_assert_eq(fault_of("gf"), GF_TOPIC_FAULT_PREFIX);
	cr_assert_eq(fault_of("GF/site1/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_PREFIX);
	cr_assert_eq(fault_of("/gf/site1/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_PREFIX);
	cr_assert_eq(fault_of("xx/site1/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_PREFIX);
	cr_assert_eq(fault_of("$SYS/site1/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_PREFIX);
	cr_assert_eq(fault_of("+/site1/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_PREFIX);
	cr_assert_eq(fault_of("#"), GF_TOPIC_FAULT_PREFIX);
}

Test(topic_parse, fault_levels)
{
	cr_assert_eq(fault_of("gf/"), GF_TOPIC_FAULT_LEVELS);
	cr_assert_eq(fault_of("gf/site1/foa/a/fman/f1"), GF_TOPIC_FAULT_LEVELS, "6 levels");
	cr_assert_eq(fault_of("gf/site1/foa/a/fman/f1/flexoffer/x"), GF_TOPIC_FAULT_LEVELS,
	             "8 levels");
	cr_assert_eq(fault_of("gf/site1/foa/a/fman/f1/flexoffer/"), GF_TOPIC_FAULT_LEVELS,
	             "trailing slash");
	cr_assert_eq(fault_of("gf/#"), GF_TOPIC_FAULT_LEVELS);
	cr_assert_eq(fault_of("gf/site1/#"), GF_TOPIC_FAULT_LEVELS);
}

Test(topic_parse, fault_levels_many)
{
	char buf[1024];
	size_t pos = 0;

	pos += (size_t)snprintf(buf, sizeof(buf), "gf/site1");
	for (int i = 0; i < 198; i++)
		pos += (size_t)snprintf(buf + pos, sizeof(buf) - pos, "/a");
	cr_assert_lt(pos, sizeof(buf));
	cr_assert_eq(fault_of(buf), GF_TOPIC_FAULT_LEVELS);
}

Test(topic_parse, fault_site)
{
	cr_assert_eq(fault_of("gf//foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_SITE);
	cr_assert_eq(fault_of("gf/+/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_SITE);
	cr_assert_eq(fault_of("gf/#/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_SITE);
	cr_assert_eq(fault_of("gf/-site/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_SITE);
	cr_assert_eq(fault_of("gf/si te/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_SITE);
	cr_assert_eq(fault_of("gf/s:1/foa/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_SITE);
}

Test(topic_parse, fault_site_too_long)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "gf/%065d/foa/a/fman/f1/flexoffer", 1);
	cr_assert_eq(fault_of(buf), GF_TOPIC_FAULT_SITE);
	snprintf(buf, sizeof(buf), "gf/%064d/foa/a/fman/f1/flexoffer", 1);
	cr_assert_eq(fault_of(buf), GF_TOPIC_FAULT_NONE);
}

Test(topic_parse, fault_from)
{
	cr_assert_eq(fault_of("gf/site1/all/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM,
	             "from role all");
	cr_assert_eq(fault_of("gf/site1/foa/all/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM,
	             "from id all");
	cr_assert_eq(fault_of("gf/site1/bogus/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM);
	cr_assert_eq(fault_of("gf/site1//a/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM);
	cr_assert_eq(fault_of("gf/site1/foa//fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM);
	cr_assert_eq(fault_of("gf/site1/+/a/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM);
	cr_assert_eq(fault_of("gf/site1/foa/+/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM);
	cr_assert_eq(fault_of("gf/site1/foa/#/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM);
	cr_assert_eq(fault_of("gf/site1/foa/a+/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM);
}

Test(topic_parse, fault_from_id_too_long)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "gf/site1/foa/%065d/fman/f1/flexoffer", 7);
	cr_assert_eq(fault_of(buf), GF_TOPIC_FAULT_FROM);
	snprintf(buf, sizeof(buf), "gf/site1/foa/%064d/fman/f1/flexoffer", 7);
	cr_assert_eq(fault_of(buf), GF_TOPIC_FAULT_NONE);
}

Test(topic_parse, fault_to)
{
	cr_assert_eq(fault_of("gf/site1/sp/s1/all/x/weather.forecast"), GF_TOPIC_FAULT_TO,
	             "to-role all with to-id not all");
	cr_assert_eq(fault_of("gf/site1/foa/a/bogus/f1/flexoffer"), GF_TOPIC_FAULT_TO);
	cr_assert_eq(fault_of("gf/site1/foa/a//f1/flexoffer"), GF_TOPIC_FAULT_TO);
	cr_assert_eq(fault_of("gf/site1/foa/a/fman//flexoffer"), GF_TOPIC_FAULT_TO);
	cr_assert_eq(fault_of("gf/site1/foa/a/+/f1/flexoffer"), GF_TOPIC_FAULT_TO);
	cr_assert_eq(fault_of("gf/site1/foa/a/fman/+/flexoffer"), GF_TOPIC_FAULT_TO);
	cr_assert_eq(fault_of("gf/site1/foa/a/fman/#/flexoffer"), GF_TOPIC_FAULT_TO);
	cr_assert_eq(fault_of("gf/site1/foa/a/fman/.f/flexoffer"), GF_TOPIC_FAULT_TO);
}

Test(topic_parse, fault_msg)
{
	static const char *const bad[] = {"Flexoffer",  "a..b",       ".a",  "a.", "",   "+", "#",
	                                  "flex-offer", "flex_offer", "a b", ".",  "a.+"};
	char buf[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "gf/site1/foa/a/fman/f1/%s", bad[i]);
		cr_assert_eq(fault_of(buf), GF_TOPIC_FAULT_MSG, "msg '%s'", bad[i]);
	}
}

Test(topic_parse, out_untouched_and_null_fault)
{
	struct gf_topic t;

	memset(&t, 0x5a, sizeof(t));
	cr_assert_eq(gf_topic_parse("gf/site1/foa/a/fman/f1/Flexoffer", &t, NULL), GF_EPARSE);
	for (size_t i = 0; i < sizeof(t); i++)
		cr_assert_eq(((unsigned char *)&t)[i], 0x5a, "byte %zu of out changed", i);
}

Test(topic_parse, wildcards_in_any_level)
{
	static const char *const parts[GF_TOPIC_LEVELS] = {"gf",   "site1", "foa",      "a",
	                                                   "fman", "f1",    "flexoffer"};
	static const char *const wild[] = {"+", "#", "a+", "a#"};

	for (int level = 0; level < GF_TOPIC_LEVELS; level++) {
		for (size_t w = 0; w < sizeof(wild) / sizeof(wild[0]); w++) {
			char buf[256];
			size_t pos = 0;
			struct gf_topic t;
			for (int i = 0; i < GF_TOPIC_LEVELS; i++)
				pos +=
				    (size_t)snprintf(buf + pos, sizeof(buf) - pos, "%s%s",
				                     i ? "/" : "", i == level ? wild[w] : parts[i]);
			cr_assert_eq(gf_topic_parse(buf, &t, NULL), GF_EPARSE, "'%s' accepted",
			             buf);
		}
	}
}

Test(topic_parse, fault_strings)
{
	for (int f = GF_TOPIC_FAULT_NONE; f <= GF_TOPIC_FAULT_MSG; f++) {
		const char *s = gf_topic_fault_str((enum gf_topic_fault)f);
		cr_assert_not_null(s);
		cr_assert_gt(strlen(s), 0);
		for (int g = f + 1; g <= GF_TOPIC_FAULT_MSG; g++)
			cr_assert_str_neq(s, gf_topic_fault_str((enum gf_topic_fault)g));
	}
	cr_assert_str_eq(gf_topic_fault_str(GF_TOPIC_FAULT_LEVELS), "not exactly seven levels");
	cr_assert_str_eq(gf_topic_fault_str((enum gf_topic_fault)99), "invalid topic");
}

Test(msg_name, valid_and_invalid)
{
	cr_assert(gf_msg_name_valid("flexoffer", 9));
	cr_assert(gf_msg_name_valid("a", 1));
	cr_assert(gf_msg_name_valid("a.b.c", 5));
	cr_assert(gf_msg_name_valid("kv2.get", 7));
	cr_assert(gf_msg_name_valid("flexoffer.assign", 16));
	cr_assert_not(gf_msg_name_valid("", 0));
	cr_assert_not(gf_msg_name_valid("Flexoffer", 9));
	cr_assert_not(gf_msg_name_valid("a..b", 4));
	cr_assert_not(gf_msg_name_valid(".a", 2));
	cr_assert_not(gf_msg_name_valid("a.", 2));

	char buf[GF_MSG_MAX + 1];
	memset(buf, 'm', sizeof(buf));
	cr_assert(gf_msg_name_valid(buf, GF_MSG_MAX));
	cr_assert_not(gf_msg_name_valid(buf, GF_MSG_MAX + 1));
}

Test(topic_split, counts)
{
	struct gf_sv lv[GF_TOPIC_LEVELS];

	cr_assert_eq(gf_topic_split("a", lv, GF_TOPIC_LEVELS), 1);
	cr_assert_eq(gf_topic_split("", lv, GF_TOPIC_LEVELS), 1);
	cr_assert_eq(lv[0].len, 0);
	cr_assert_eq(gf_topic_split("a/b/", lv, GF_TOPIC_LEVELS), 3);
	cr_assert_eq(lv[2].len, 0);
	cr_assert_eq(gf_topic_split("gf/s/a/b/c/d/e", lv, GF_TOPIC_LEVELS), 7);
	assert_sv(lv[6], "e");
	cr_assert_eq(gf_topic_split("gf/s/a/b/c/d/e/f", lv, GF_TOPIC_LEVELS), 8);
	cr_assert_eq(gf_topic_split("a/b/c", lv, 2), 3);
}

/* --- build ----------------------------------------------------------------- */

Test(topic_build, round_trip)
{
	struct gf_ident from = {GF_ROLE_FOA, {"7-PRE-001", 9}};
	struct gf_topic t;
	char buf[256];

	cr_assert_eq(
	    gf_topic_build(buf, sizeof(buf), "site1", &from, GF_ROLE_FMAN, "all", "flexoffer"),
	    GF_OK);
	cr_assert_str_eq(buf, "gf/site1/foa/7-PRE-001/fman/all/flexoffer");
	cr_assert_eq(gf_topic_parse(buf, &t, NULL), GF_OK);
	assert_sv(t.site, "site1");
	cr_assert_eq(t.from_role, from.role);
	cr_assert(gf_sv_eq(t.from_id, from.id));
	cr_assert_eq(t.to_role, GF_ROLE_FMAN);
	assert_sv(t.to_id, "all");
	assert_sv(t.msg, "flexoffer");

	from = (struct gf_ident){GF_ROLE_SP, {"s1xyz", 2}}; /* id is "s1": len counts */
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "site1", &from, GF_ROLE_ALL, "all",
	                            "weather.forecast"),
	             GF_OK);
	cr_assert_str_eq(buf, "gf/site1/sp/s1/all/all/weather.forecast");
	cr_assert_eq(gf_topic_parse(buf, &t, NULL), GF_OK);
	cr_assert_eq(t.to_role, GF_ROLE_ALL);
}

Test(topic_build, round_trip_every_role_pair)
{
	char buf[256];

	for (int fr = 0; fr < GF_ROLE_COUNT; fr++) {
		for (int to = 0; to <= GF_ROLE_ALL; to++) {
			struct gf_ident from = {(enum gf_role)fr, {"id-1", 4}};
			const char *to_id = to == GF_ROLE_ALL ? "all" : "x.2";
			struct gf_topic t;
			cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s", &from, (enum gf_role)to,
			                            to_id, "m.n"),
			             GF_OK);
			cr_assert_eq(gf_topic_parse(buf, &t, NULL), GF_OK, "'%s'", buf);
			cr_assert_eq(t.from_role, (enum gf_role)fr);
			cr_assert_eq(t.to_role, (enum gf_role)to);
			assert_sv(t.to_id, to_id);
		}
	}
}

Test(topic_build, too_long)
{
	struct gf_ident from = {GF_ROLE_FOA, {"a", 1}};
	const char *expect = "gf/s/foa/a/fman/b/m";
	char buf[64];

	cr_assert_eq(gf_topic_build(buf, strlen(expect) + 1, "s", &from, GF_ROLE_FMAN, "b", "m"),
	             GF_OK);
	cr_assert_str_eq(buf, expect);
	cr_assert_eq(gf_topic_build(buf, strlen(expect), "s", &from, GF_ROLE_FMAN, "b", "m"),
	             GF_ETOOLONG);
	cr_assert_eq(gf_topic_build(buf, 1, "s", &from, GF_ROLE_FMAN, "b", "m"), GF_ETOOLONG);
}

Test(topic_build, invalid_parts)
{
	struct gf_ident from = {GF_ROLE_FOA, {"a", 1}};
	struct gf_ident bad_role = {GF_ROLE_ALL, {"a", 1}};
	struct gf_ident bad_id = {GF_ROLE_FOA, {"a/b", 3}};
	char buf[128];

	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "", &from, GF_ROLE_FMAN, "b", "m"),
	             GF_EINVAL);
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s/x", &from, GF_ROLE_FMAN, "b", "m"),
	             GF_EINVAL);
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s", &bad_role, GF_ROLE_FMAN, "b", "m"),
	             GF_EINVAL);
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s", &bad_id, GF_ROLE_FMAN, "b", "m"),
	             GF_EINVAL);
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s", &from, GF_ROLE_NONE, "b", "m"),
	             GF_EINVAL);
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s", &from, GF_ROLE_ALL, "b", "m"), GF_EINVAL,
	             "to-role all needs to-id all");
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s", &from, GF_ROLE_FMAN, "+", "m"),
	             GF_EINVAL);
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s", &from, GF_ROLE_FMAN, "b", "M"),
	             GF_EINVAL);
	cr_assert_eq(gf_topic_build(buf, sizeof(buf), "s", &from, GF_ROLE_FMAN, "b", "a..b"),
	             GF_EINVAL);
}

/*
 * topic.h: "from_id: a valid id, never all" and gf_topic_build returns
 * GF_EINVAL "if a part is invalid": a sender "all" must not be built, since
 * gf_topic_parse refuses the result (GF_TOPIC_FAULT_FROM).
 */
Test(topic_build, from_id_all_refused)
{
	struct gf_ident from = {GF_ROLE_FOA, {"all", 3}};
	struct gf_topic t;
	char buf[128];
	enum gf_err rc = gf_topic_build(buf, sizeof(buf), "s", &from, GF_ROLE_FMAN, "b", "m");

	if (rc == GF_OK)
		cr_assert_eq(gf_topic_parse(buf, &t, NULL), GF_OK,
		             "built '%s', which gf_topic_parse refuses", buf);
	cr_assert_eq(rc, GF_EINVAL);
}
