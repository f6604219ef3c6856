/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/bus/policy.h against the real catalogue (schemas/exchange.tsv,
 * path relative to the repository root) on site "site1".
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "bus/policy.h"

#define CATALOG_PATH "schemas/exchange.tsv"
#define SITE         "site1"

static struct gf_catalog *cat;
static struct gf_policy pol;

static void setup(void)
{
	char err[256] = "";
	enum gf_err rc = gf_catalog_load(CATALOG_PATH, &cat, err, sizeof(err));

	cr_assert_eq(rc, GF_OK, "loading %s: %s", CATALOG_PATH, err);
	pol.cat = cat;
	pol.site = (struct gf_sv){SITE, strlen(SITE)};
}

static void teardown(void)
{
	gf_catalog_free(cat);
	cat = NULL;
}

TestSuite(policy, .init = setup, .fini = teardown);

enum {
	R = GF_ACCESS_READ,
	W = GF_ACCESS_WRITE,
	S = GF_ACCESS_SUBSCRIBE,
	U = GF_ACCESS_UNSUBSCRIBE
};

struct policy_case {
	const char *who; /* "<role>.<id>", or NULL for a connection without identity */
	int access;
	const char *topic;
	enum gf_reason expect;
};

#define FOA1    "foa.7-PRE-001"
#define FOA2    "foa.7-PRE-002"
#define T(rest) "gf/" SITE "/" rest
/* A shared subscription of group to gf/<site>/rest. */
#define SH(group, rest) "$share/" group "/gf/" SITE "/" rest

static const struct policy_case cases[] = {
    /* --- WRITE: the happy paths --------------------------------------------- */
    {FOA1, W, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_ALLOW},
    {FOA1, W, T("foa/7-PRE-001/fman/all/flexoffer"), GF_REASON_ALLOW}, /* pool */
    {FOA1, W, T("foa/7-PRE-001/fmar/all/flexoffer"), GF_REASON_ALLOW}, /* pool */
    {FOA1, W, T("foa/7-PRE-001/fman/f1/meter.reading"), GF_REASON_ALLOW},
    {FOA1, W, T("foa/7-PRE-001/ops/all/status"), GF_REASON_ALLOW},
    {FOA1, W, T("foa/7-PRE-001/all/all/kpi"), GF_REASON_ALLOW},
    {"doms.d1", W, T("doms/d1/foa/7-PRE-001/bid"), GF_REASON_ALLOW},
    {"sp.s1", W, T("sp/s1/all/all/weather.forecast"), GF_REASON_ALLOW},
    {"sp.s1", W, T("sp/s1/foa/7-PRE-001/weather.forecast"), GF_REASON_ALLOW},
    {"sp.s1", W, T("sp/s1/foa/7-PRE-001/meter.data"), GF_REASON_ALLOW},
    {"user.u1", W, T("user/u1/fman/all/atp.query"), GF_REASON_ALLOW},
    {"fman.f1", W, T("fman/f1/user/u1/atp.query.result"), GF_REASON_ALLOW},
    {"kpi.k1", W, T("kpi/k1/all/all/kpi.alarm"), GF_REASON_ALLOW},
    {"dms.m1", W, T("dms/m1/sp/all/meter.reading"), GF_REASON_ALLOW}, /* sp is a pool */
    /* --- WRITE: addressing --------------------------------------------------- */
    {"doms.d1", W, T("doms/d1/foa/all/bid"), GF_REASON_ADDR},
    {"sp.s1", W, T("sp/s1/all/all/meter.data"), GF_REASON_ADDR},
    {FOA1, W, T("foa/7-PRE-001/all/all/flexoffer"), GF_REASON_ADDR},
    {"fman.f1", W, T("fman/f1/user/all/atp.query.result"), GF_REASON_ADDR},
    {"fman.f1", W, T("fman/f1/foa/all/flexoffer.assign"), GF_REASON_ADDR},
    /* --- WRITE: no row ------------------------------------------------------- */
    {FOA1, W, T("foa/7-PRE-001/doms/d1/flexoffer"), GF_REASON_NOROW},
    {FOA1, W, T("foa/7-PRE-001/fman/f1/nosuch"), GF_REASON_NOROW},
    {FOA1, W, T("foa/7-PRE-001/all/all/nosuch"), GF_REASON_NOROW},
    {FOA1, W, T("foa/7-PRE-001/all/all/weather.forecast"), GF_REASON_NOROW},
    {FOA1, W, T("foa/7-PRE-001/bridge/site2/flexoffer"), GF_REASON_NOROW},
    {"fman.f1", W, T("fman/f1/foa/7-PRE-001/flexoffer"), GF_REASON_NOROW},
    /* --- WRITE: speaking for someone else ------------------------------------ */
    {FOA1, W, T("foa/7-PRE-002/fman/f1/flexoffer"), GF_REASON_SPOOF},
    {FOA1, W, T("fman/7-PRE-001/foa/7-PRE-001/flexoffer.assign"), GF_REASON_SPOOF},
    {FOA1, W, T("foa/7-PRE-0011/fman/f1/flexoffer"), GF_REASON_SPOOF},
    {FOA1, W, T("foa/7-PRE-00/fman/f1/flexoffer"), GF_REASON_SPOOF},
    {FOA1, W, T("ops/broker/ops/all/audit"), GF_REASON_SPOOF},
    {"sp.s1", W, T("ops/broker/ops/all/audit"), GF_REASON_SPOOF},
    {"kpi.k1", W, T("ops/broker/ops/all/plugin.stats"), GF_REASON_SPOOF},
    {"fman.f1", W, T("ops/broker/all/all/audit"), GF_REASON_SPOOF},
    /* --- WRITE: malformed, other site, $ ------------------------------------- */
    {FOA1, W, "gf/site2/foa/7-PRE-001/fman/f1/flexoffer", GF_REASON_SITE},
    {FOA1, W, T("foa/7-PRE-001/fman/f1"), GF_REASON_TOPIC},
    {FOA1, W, T("foa/7-PRE-001/fman/f1/Flexoffer"), GF_REASON_TOPIC},
    {FOA1, W, T("foa/7-PRE-001/fman/+/flexoffer"), GF_REASON_TOPIC},
    {FOA1, W, "other/topic", GF_REASON_TOPIC},
    {FOA1, W, "", GF_REASON_TOPIC},
    {FOA1, W, "$SYS/broker/x", GF_REASON_SYS},
    {FOA1, W, "$CONTROL/dynamic-security/v1", GF_REASON_CONTROL},
    {FOA1, W, "$foo/bar", GF_REASON_DOLLAR},
    /* --- WRITE: ops is read-only --------------------------------------------- */
    {"ops.o1", W, T("ops/o1/ops/all/audit"), GF_REASON_READONLY},
    {"ops.o1", W, T("ops/broker/ops/all/audit"), GF_REASON_READONLY},
    {"ops.o1", W, T("ops/o1/ops/all/plugin.stats"), GF_REASON_READONLY},
    {"ops.o1", W, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_READONLY},
    {"ops.o1", W, T("ops/o1/all/all/status"), GF_REASON_READONLY},
    {"ops.o1", W, "gf/site2/ops/o1/ops/all/audit", GF_REASON_READONLY},
    {"ops.o1", W, "garbage", GF_REASON_READONLY},
    /* --- WRITE: bridges (id = peer site) -------------------------------------- */
    {"bridge.site2", W, "gf/site2/sp/s9/all/all/weather.forecast", GF_REASON_ALLOW},
    {"bridge.site2", W, "gf/site2/sp/s9/foa/x/weather.forecast", GF_REASON_ALLOW},
    {"bridge.site2", W, "gf/site2/foa/x/all/all/kpi", GF_REASON_ALLOW},
    {"bridge.site2", W, "gf/site2/foa/x/fman/f1/flexoffer", GF_REASON_BRIDGE},
    {"bridge.site2", W, "gf/site2/foa/x/fman/all/flexoffer", GF_REASON_BRIDGE},
    {"bridge.site2", W, "gf/site2/ops/broker/ops/all/audit", GF_REASON_BRIDGE},
    {"bridge.site2", W, T("sp/s1/all/all/weather.forecast"), GF_REASON_BRIDGE},
    {"bridge.site2", W, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_BRIDGE},
    {"bridge.site2", W, T("ops/broker/ops/all/audit"), GF_REASON_BRIDGE},
    {"bridge.site2", W, T("bridge/site2/all/all/weather.forecast"), GF_REASON_BRIDGE},
    {"bridge.site2", W, "gf/site3/sp/s9/all/all/weather.forecast", GF_REASON_BRIDGE},
    {"bridge.site2", W, "gf/site2/sp/s9/all/all/nosuch", GF_REASON_NOROW},
    {"bridge.site2", W, "gf/site2/foa/x", GF_REASON_TOPIC},
    {"bridge.site2", W, "$SYS/broker/x", GF_REASON_SYS},
    /* --- READ: private ------------------------------------------------------- */
    {"fman.f1", R, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_ALLOW},
    {"fman.f2", R, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_NOTADDR},
    {"fmar.f1", R, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_NOTADDR},
    {FOA1, R, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_NOTADDR},
    {"fman.f2", R, T("foa/7-PRE-001/fman/all/flexoffer"), GF_REASON_ALLOW},
    {"fman.f9", R, T("foa/7-PRE-001/fman/all/flexoffer"), GF_REASON_ALLOW},
    {"fmar.f1", R, T("foa/7-PRE-001/fman/all/flexoffer"), GF_REASON_NOTADDR},
    {FOA1, R, T("fman/f1/foa/7-PRE-001/flexoffer.assign"), GF_REASON_ALLOW},
    {FOA2, R, T("fman/f1/foa/7-PRE-001/flexoffer.assign"), GF_REASON_NOTADDR},
    {"ops.o1", R, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_NOTADDR},
    {"sp.s1", R, T("dms/m1/sp/s1/meter.reading"), GF_REASON_ALLOW},
    {"sp.s2", R, T("dms/m1/sp/s1/meter.reading"), GF_REASON_NOTADDR},
    {"bridge.site2", R, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_BRIDGE},
    {"bridge.site2", R, T("foa/7-PRE-001/fman/all/flexoffer"), GF_REASON_BRIDGE},
    /* --- READ: public -------------------------------------------------------- */
    {"ops.o1", R, T("sp/s1/all/all/weather.forecast"), GF_REASON_ALLOW},
    {"fmar.f1", R, T("sp/s1/all/all/weather.forecast"), GF_REASON_ALLOW},
    {FOA1, R, T("sp/s1/all/all/weather.forecast"), GF_REASON_ALLOW},
    {"fman.f1", R, T("sp/s1/foa/7-PRE-001/weather.forecast"), GF_REASON_ALLOW},
    {"doms.d1", R, T("sp/s1/all/all/weather.forecast"), GF_REASON_NOTREADER},
    {"user.u1", R, T("sp/s1/all/all/weather.forecast"), GF_REASON_NOTREADER},
    {"sp.s2", R, T("sp/s1/all/all/weather.forecast"), GF_REASON_NOTREADER},
    {"sp.s2", R, T("ext/e1/all/all/weather.forecast"), GF_REASON_ALLOW},
    {"user.u1", R, T("kpi/k1/all/all/kpi.alarm"), GF_REASON_ALLOW},
    {"ops.o1", R, T("ops/broker/ops/all/audit"), GF_REASON_ALLOW},
    {FOA1, R, T("ops/broker/ops/all/audit"), GF_REASON_BROKERFEED},
    /* Issue 10: the broker's feeds (identities, client ids, private-flow
     * topics) never reach a peer site's bridge or any role but ops. */
    {"bridge.site2", R, T("ops/broker/ops/all/audit"), GF_REASON_BROKERFEED},
    {"bridge.site2", R, T("ops/broker/ops/all/plugin.stats"), GF_REASON_BROKERFEED},
    {"bridge.site2", S, T("ops/broker/ops/all/audit"), GF_REASON_BROKERFEED},
    {"kpi.k1", R, T("ops/broker/ops/all/plugin.stats"), GF_REASON_BROKERFEED},
    {"ops.o1", R, T("ops/broker/ops/all/plugin.stats"), GF_REASON_ALLOW},
    {"bridge.site2", R, T("sp/s1/all/all/weather.forecast"), GF_REASON_ALLOW},
    /* --- READ: malformed, other site, $ -------------------------------------- */
    {"fman.f1", R, "gf/site2/foa/7-PRE-001/fman/f1/flexoffer", GF_REASON_SITE},
    /* Cross-site reading (SPEC section 4): another site's public rows, as a
     * bridge imports them, for the roles the catalogue lists and ops; never
     * its private rows or broker feeds; never for a bridge (no re-export). */
    {"kpi.k1", R, "gf/site2/foa/x/kpi/all/kpi", GF_REASON_ALLOW},
    {"kpi.k1", R, "gf/site2/fmar/m/kpi/all/kpi", GF_REASON_ALLOW},
    {"ops.o1", R, "gf/site2/foa/x/kpi/all/kpi", GF_REASON_ALLOW},
    {"user.u1", R, "gf/site2/kpi/k/all/all/kpi.alarm", GF_REASON_ALLOW},
    {FOA1, R, "gf/site2/foa/x/kpi/all/kpi", GF_REASON_NOTREADER},
    {FOA1, R, "gf/site2/sp/s9/all/all/weather.forecast", GF_REASON_ALLOW},
    {"bridge.site2", R, "gf/site2/foa/x/kpi/all/kpi", GF_REASON_BRIDGE},
    {"bridge.site3", R, "gf/site2/foa/x/kpi/all/kpi", GF_REASON_BRIDGE},
    {"ops.o1", R, "gf/site2/ops/broker/ops/all/audit", GF_REASON_BROKERFEED},
    {"ops.o1", R, "gf/site2/ops/broker/ops/all/plugin.stats", GF_REASON_BROKERFEED},
    {"kpi.k1", R, "gf/site2/fman/f1/kpi/k1/flexoffer", GF_REASON_NOROW},
    {"fmar.m1", R, "gf/site2/fman/f1/fmar/m1/flexoffer", GF_REASON_SITE},
    {"fmar.m1", R, "gf/site2/fman/f1/fmar/all/flexoffer", GF_REASON_SITE},
    {"ops.o1", R, "gf/site2/fman/f1/fmar/all/flexoffer", GF_REASON_SITE},
    {"kpi.k1", S, "gf/site2/foa/x/kpi/all/kpi", GF_REASON_ALLOW},
    {"kpi.k1", S, "gf/+/+/+/kpi/+/kpi", GF_REASON_ALLOW},
    {"kpi.k1", S, "$share/g/gf/+/+/+/kpi/+/kpi", GF_REASON_ALLOW},
    {"fmar.m1", S, "gf/site2/fman/f1/fmar/m1/flexoffer", GF_REASON_SITE},
    {"fmar.m1", S, "$share/g/gf/+/+/+/fmar/m1/flexoffer", GF_REASON_SHARE_READ},
    {"fmar.m1", S, "$share/g/gf/" SITE "/+/+/fmar/m1/flexoffer", GF_REASON_ALLOW},
    {"ops.o1", S, "$share/g/gf/+/ops/+/ops/all/audit", GF_REASON_SHARE_READ},
    {"ops.o1", S, "$share/g/gf/" SITE "/ops/+/ops/all/audit", GF_REASON_ALLOW},
    {"bridge.site2", S, "$share/g/gf/+/+/+/kpi/+/kpi", GF_REASON_SHARE_READ},
    {"kpi.k1", W, "gf/site2/kpi/k1/user/all/kpi.alarm", GF_REASON_SITE},
    {"fman.f1", R, T("foa/7-PRE-001/fman/f1/nosuch"), GF_REASON_NOROW},
    {"fman.f1", R, T("foa/7-PRE-001/doms/d1/flexoffer"), GF_REASON_NOROW},
    {"fman.f1", R, T("foa/7-PRE-001/fman"), GF_REASON_TOPIC},
    {"ops.o1", R, "$SYS/broker/uptime", GF_REASON_ALLOW},
    {FOA1, R, "$SYS/broker/uptime", GF_REASON_SYS},
    {"ops.o1", R, "$CONTROL/dynamic-security/v1", GF_REASON_CONTROL},
    {"ops.o1", R, "$SYSTEM/x", GF_REASON_DOLLAR},
    /* --- SUBSCRIBE ----------------------------------------------------------- */
    {FOA1, S, "#", GF_REASON_FILTER},
    /* Other sites' trees: subscribing is allowed, every delivery is
     * checked (cross-site reading, SPEC section 4). */
    {FOA1, S, "gf/#", GF_REASON_ALLOW},
    {FOA1, S, "+/+/#", GF_REASON_FILTER},
    {FOA1, S, "+/" SITE "/#", GF_REASON_FILTER},
    {FOA1, S, "gf/+/#", GF_REASON_ALLOW},
    {FOA1, S, "gf/site2/#", GF_REASON_ALLOW},
    {FOA1, S, "gf", GF_REASON_FILTER},
    {FOA1, S, T("a/b/c/d/e/f"), GF_REASON_FILTER},
    {FOA1, S, "gf/" SITE "/#", GF_REASON_ALLOW},
    {FOA1, S, T("+/+/foa/7-PRE-001/+"), GF_REASON_ALLOW},
    {FOA1, S, T("foa/+/fman/all/flexoffer"), GF_REASON_ALLOW},
    {FOA1, S, "$share/g/gf/" SITE "/#", GF_REASON_SHARE_READ},
    {FOA1, S, "$share//gf/" SITE "/#", GF_REASON_SHARE},
    {FOA1, S, "$share/g+/x", GF_REASON_SHARE},
    {FOA1, S, "$share/g#/gf/" SITE "/#", GF_REASON_SHARE},
    {FOA1, S, "$share/g", GF_REASON_SHARE},
    {FOA1, S, "$share/g/", GF_REASON_SHARE},
    {FOA1, S, "$share/g/gf/site2/#", GF_REASON_SHARE_READ},
    {FOA1, S, "$share/g/#", GF_REASON_FILTER},
    {"ops.o1", S, "$SYS/#", GF_REASON_ALLOW},
    {"ops.o1", S, "$share/g/$SYS/#", GF_REASON_ALLOW},
    {FOA1, S, "$SYS/#", GF_REASON_SYS},
    {FOA1, S, "$share/g/$SYS/#", GF_REASON_SYS},
    {FOA1, S, "$CONTROL/dynamic-security/v1", GF_REASON_CONTROL},
    {"ops.o1", S, "$CONTROL/dynamic-security/v1", GF_REASON_CONTROL},
    {"ops.o1", S, "$CONTROL/#", GF_REASON_CONTROL},
    {FOA1, S, "$foo/#", GF_REASON_DOLLAR},
    /* exact filters get the READ check */
    {FOA2, S, T("fman/f1/foa/7-PRE-001/flexoffer.assign"), GF_REASON_NOTADDR},
    {FOA1, S, T("fman/f1/foa/7-PRE-001/flexoffer.assign"), GF_REASON_ALLOW},
    {"fman.f2", S, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_NOTADDR},
    {"doms.d1", S, T("sp/s1/all/all/weather.forecast"), GF_REASON_NOTREADER},
    {"bridge.site2", S, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_BRIDGE},
    {"bridge.site2", S, T("#"), GF_REASON_ALLOW},
    {FOA1, S, "gf/" SITE, GF_REASON_TOPIC},
    {FOA1, S, T("foa/7-PRE-001/fman/f1/nosuch"), GF_REASON_NOROW},
    /* --- SUBSCRIBE: shared, readable in full by the subscriber --------------- */
    /* The FMAN pool: private rows to fman/all, and with "#" also meter.reading
     * (foa) and, from every sender, the public rows to fman, all of which
     * fman reads. */
    {"fman.f1", S, SH("pool", "+/+/fman/all/flexoffer"), GF_REASON_ALLOW},
    {"fman.f2", S, SH("pool", "+/+/fman/all/flexoffer"), GF_REASON_ALLOW},
    {"fman.f1", S, SH("pool", "foa/+/fman/all/#"), GF_REASON_ALLOW},
    {"fman.f1", S, SH("pool", "+/+/fman/all/#"), GF_REASON_ALLOW},
    {"fman.f1", S, SH("pool", "foa/7-PRE-001/fman/all/flexoffer"), GF_REASON_ALLOW},
    {"fman.f1", S, SH("mine", "+/+/fman/f1/#"), GF_REASON_ALLOW},
    {"fmar.m1", S, SH("pool", "+/+/fmar/all/flexoffer"), GF_REASON_ALLOW},
    {FOA1, S, SH("mine", "+/+/foa/7-PRE-001/#"), GF_REASON_ALLOW},
    /* "all" of a non-pool role matches no topic WRITE lets through, and READ
     * allows it for the role: nothing is lost. */
    {FOA1, S, SH("g", "+/+/foa/all/#"), GF_REASON_ALLOW},
    /* A wildcard or another instance in the to-id level. */
    {"fman.f1", S, SH("pool", "foa/+/fman/+/flexoffer"), GF_REASON_SHARE_READ},
    {"fman.f1", S, SH("pool", "foa/+/fman/#"), GF_REASON_SHARE_READ},
    {"fman.f1", S, SH("pool", "+/+/fman/f2/flexoffer"), GF_REASON_SHARE_READ},
    {FOA1, S, SH("g", "+/+/foa/+/flexoffer.assign"), GF_REASON_SHARE_READ},
    /* Wider than the subscriber's own rows. */
    {"fman.f1", S, SH("pool", "foa/#"), GF_REASON_SHARE_READ},
    {"fman.f1", S, SH("pool", "+/+/+/all/flexoffer"), GF_REASON_SHARE_READ},
    {"fmar.m1", S, SH("pool", "+/+/+/all/flexoffer"), GF_REASON_SHARE_READ},
    {"ops.o1", S, SH("g", "+/+/+/+/+"), GF_REASON_SHARE_READ},
    /* The blackhole of issue 10: other roles joining the FMAN pool's group. */
    {FOA1, S, SH("pool", "+/+/fman/all/flexoffer"), GF_REASON_SHARE_READ},
    {"fmar.m1", S, SH("pool", "+/+/fman/all/flexoffer"), GF_REASON_SHARE_READ},
    {"ops.o1", S, SH("pool", "+/+/fman/all/flexoffer"), GF_REASON_SHARE_READ},
    {"sp.s1", S, SH("pool", "+/+/fman/all/flexoffer"), GF_REASON_SHARE_READ},
    {"user.u1", S, SH("pool", "+/+/fman/all/flexoffer"), GF_REASON_SHARE_READ},
    {"bridge.site2", S, SH("pool", "+/+/fman/all/flexoffer"), GF_REASON_SHARE_READ},
    {"fman.f1", S, SH("pool", "foa/+/fman/all/+"), GF_REASON_ALLOW},
    /* An exact filter: the READ check first, with its own reason. */
    {FOA2, S, SH("g", "fman/f1/foa/7-PRE-001/flexoffer.assign"), GF_REASON_NOTADDR},
    {FOA1, S, SH("g", "foa/7-PRE-001/fman/all/flexoffer"), GF_REASON_NOTADDR},
    /* Public feeds: readers only, through the feed (to-role all) or a row. */
    {"fman.f1", S, SH("wx", "sp/+/all/all/weather.forecast"), GF_REASON_ALLOW},
    {FOA1, S, SH("wx", "sp/+/+/+/weather.forecast"), GF_REASON_ALLOW},
    {"doms.d1", S, SH("wx", "sp/+/all/all/weather.forecast"), GF_REASON_SHARE_READ},
    {"sp.s2", S, SH("wx", "sp/+/all/all/weather.forecast"), GF_REASON_SHARE_READ},
    {"sp.s2", S, SH("wx", "ext/+/all/all/weather.forecast"), GF_REASON_ALLOW},
    {"sp.s2", S, SH("wx", "ext/+/+/+/+"), GF_REASON_SHARE_READ}, /* ext -> kpi : kpi */
    {"user.u1", S, SH("k", "kpi/+/all/all/kpi.alarm"), GF_REASON_ALLOW},
    {"user.u1", S, SH("k", "kpi/+/+/+/+"), GF_REASON_SHARE_READ}, /* kpi -> ops : status */
    {"ops.o1", S, SH("g", "+/+/all/all/+"), GF_REASON_ALLOW},
    {"bridge.site2", S, SH("g", "sp/+/all/all/+"), GF_REASON_ALLOW},
    {"bridge.site2", S, SH("g", "+/+/all/all/+"), GF_REASON_SHARE_READ}, /* broker rows */
    /* Broker rows (audit, plugin.stats): ops only. */
    {"ops.o1", S, SH("audit", "ops/broker/ops/all/#"), GF_REASON_ALLOW},
    {"ops.o1", S, SH("audit", "ops/+/all/all/plugin.stats"), GF_REASON_ALLOW},
    {"ops.o1", S, SH("audit", "ops/broker/ops/all/audit"), GF_REASON_ALLOW},
    {"bridge.site2", S, SH("audit", "ops/broker/ops/all/audit"), GF_REASON_BROKERFEED},
    {"bridge.site2", S, SH("audit", "ops/+/+/+/+"), GF_REASON_SHARE_READ},
    {"kpi.k1", S, SH("audit", "ops/+/ops/all/#"), GF_REASON_SHARE_READ},
    {"fman.f1", S, SH("audit", "ops/broker/ops/all/#"), GF_REASON_SHARE_READ},
    {"kpi.k1", S, SH("audit", "ops/broker/ops/all/audit"), GF_REASON_BROKERFEED},
    /* Filters that match no topic that can be published: allowed. */
    {FOA1, S, SH("g", "nosuch/+/+/+/+"), GF_REASON_ALLOW},
    {FOA1, S, SH("g", "+/+/+/+/nosuch"), GF_REASON_ALLOW},
    {FOA1, S, SH("g", "foa/+/doms/+/flexoffer"), GF_REASON_ALLOW},
    {FOA1, S, SH("g", "+/+/all/+/flexoffer"), GF_REASON_ALLOW}, /* private: no feed */
    {FOA1, S, SH("g", "foa/+/fman"), GF_REASON_ALLOW},          /* five levels */
    /* Malformed wildcards in a shared filter (mosquitto refuses them first). */
    {"fman.f1", S, SH("pool", "foa/+/fman/a+b/flexoffer"), GF_REASON_SHARE},
    {"fman.f1", S, SH("pool", "foa/#/fman/all/flexoffer"), GF_REASON_SHARE},
    {"fman.f1", S, SH("pool", "foa/+/fman/all/flex#"), GF_REASON_SHARE},
    /* Without $share, wildcards stay allowed: every delivery is checked. */
    {FOA1, S, T("+/+/fman/all/flexoffer"), GF_REASON_ALLOW},
    {FOA1, S, T("+/+/+/+/+"), GF_REASON_ALLOW},
    /* --- UNSUBSCRIBE and no identity ----------------------------------------- */
    {FOA1, U, "#", GF_REASON_ALLOW},
    {FOA1, U, "$CONTROL/x", GF_REASON_ALLOW},
    {NULL, W, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_NOIDENT},
    {NULL, R, T("sp/s1/all/all/weather.forecast"), GF_REASON_NOIDENT},
    {NULL, S, "gf/" SITE "/#", GF_REASON_NOIDENT},
    {NULL, U, "#", GF_REASON_NOIDENT},
    {FOA1, W, NULL, GF_REASON_NOIDENT},
    {FOA1, R, NULL, GF_REASON_NOIDENT},
    {FOA1, 0, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_NOIDENT},
    {FOA1, R | W, T("foa/7-PRE-001/fman/f1/flexoffer"), GF_REASON_NOIDENT},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static enum gf_reason check(const char *who, int access, const char *topic, struct gf_decision *d)
{
	struct gf_ident ident;

	if (!who)
		return gf_policy_check(&pol, NULL, (enum gf_access)access, topic, d);
	cr_assert_eq(gf_ident_parse(who, &ident), GF_OK, "bad identity in test: %s", who);
	return gf_policy_check(&pol, &ident, (enum gf_access)access, topic, d);
}

Test(policy, table)
{
	cr_assert_geq(NCASES, 60);
	for (size_t i = 0; i < NCASES; i++) {
		const struct policy_case *c = &cases[i];
		struct gf_decision d = {(enum gf_reason) - 1, (enum gf_topic_fault) - 1, 0};
		enum gf_reason got = check(c->who, c->access, c->topic, &d);

		cr_expect_eq(got, c->expect, "case %zu: %s %s %s: got %s, expected %s", i,
		             c->who ? c->who : "(none)", gf_access_name((enum gf_access)c->access),
		             c->topic ? c->topic : "(null)", gf_reason_msgid(got),
		             gf_reason_msgid(c->expect));
		cr_expect_eq(d.reason, got, "case %zu: d.reason differs from the result", i);
		if (got != GF_REASON_TOPIC)
			cr_expect_eq(d.fault, GF_TOPIC_FAULT_NONE, "case %zu: fault %d", i,
			             d.fault);
		else
			cr_expect_neq(d.fault, GF_TOPIC_FAULT_NONE, "case %zu: no fault", i);
		/* d is optional and does not change the answer. */
		cr_expect_eq(check(c->who, c->access, c->topic, NULL), got, "case %zu", i);
	}
}

/* Every reason gf_policy_check can return appears in the table (BROKERROW
 * needs a catalogue with a client-writable broker row: see below). */
Test(policy, table_covers_every_acl_reason)
{
	static const enum gf_reason acl[] = {
	    GF_REASON_ALLOW,   GF_REASON_NOIDENT,   GF_REASON_TOPIC, GF_REASON_SITE,
	    GF_REASON_SPOOF,   GF_REASON_NOROW,     GF_REASON_ADDR,  GF_REASON_READONLY,
	    GF_REASON_NOTADDR, GF_REASON_NOTREADER, GF_REASON_SYS,   GF_REASON_CONTROL,
	    GF_REASON_DOLLAR,  GF_REASON_FILTER,    GF_REASON_SHARE, GF_REASON_SHARE_READ,
	    GF_REASON_BRIDGE,
	};
	for (size_t r = 0; r < sizeof(acl) / sizeof(acl[0]); r++) {
		bool seen = false;
		for (size_t i = 0; i < NCASES && !seen; i++)
			seen = cases[i].expect == acl[r];
		cr_assert(seen, "no case expects %s", gf_reason_msgid(acl[r]));
	}
}

static void expect_topic_fault(const char *who, int access, const char *topic,
                               enum gf_topic_fault fault)
{
	struct gf_decision d;

	cr_assert_eq(check(who, access, topic, &d), GF_REASON_TOPIC, "%s", topic);
	cr_assert_eq(d.reason, GF_REASON_TOPIC);
	cr_assert_eq(d.fault, fault, "%s: fault %s", topic, gf_topic_fault_str(d.fault));
}

Test(policy, topic_faults_in_decision)
{
	expect_topic_fault(FOA1, W, T("foa/7-PRE-001/fman/f1"), GF_TOPIC_FAULT_LEVELS);
	expect_topic_fault(FOA1, W, "x/y", GF_TOPIC_FAULT_PREFIX);
	expect_topic_fault(FOA1, W, T("foa/all/fman/f1/flexoffer"), GF_TOPIC_FAULT_FROM);
	expect_topic_fault(FOA1, W, T("foa/7-PRE-001/all/f1/flexoffer"), GF_TOPIC_FAULT_TO);
	expect_topic_fault("fman.f1", R, T("foa/7-PRE-001/fman/f1/a..b"), GF_TOPIC_FAULT_MSG);
	expect_topic_fault(FOA1, S, "gf/" SITE, GF_TOPIC_FAULT_LEVELS);
}

Test(policy, two_hundred_levels)
{
	char topic[1024];
	size_t pos = (size_t)snprintf(topic, sizeof(topic), "gf/" SITE "/foa/7-PRE-001");

	for (int i = 0; i < 196; i++)
		pos += (size_t)snprintf(topic + pos, sizeof(topic) - pos, "/x");
	cr_assert_lt(pos, sizeof(topic));
	expect_topic_fault(FOA1, W, topic, GF_TOPIC_FAULT_LEVELS);
	expect_topic_fault("fman.f1", R, topic, GF_TOPIC_FAULT_LEVELS);
	expect_topic_fault("bridge.site2", W, topic, GF_TOPIC_FAULT_LEVELS);
	/* As a filter it is refused before any parsing. */
	cr_assert_eq(check(FOA1, S, topic, NULL), GF_REASON_FILTER);
	cr_assert_eq(check("ops.o1", W, topic, NULL), GF_REASON_READONLY);
}

Test(policy, over_long_levels)
{
	char topic[512];

	snprintf(topic, sizeof(topic), "gf/" SITE "/foa/7-PRE-001/fman/f1/%080d", 0);
	expect_topic_fault(FOA1, W, topic, GF_TOPIC_FAULT_MSG);
	snprintf(topic, sizeof(topic), "gf/" SITE "/foa/7-PRE-001/fman/%065d/flexoffer", 1);
	expect_topic_fault(FOA1, W, topic, GF_TOPIC_FAULT_TO);
	snprintf(topic, sizeof(topic), "gf/" SITE "/foa/7-PRE-001%0200d/fman/f1/flexoffer", 1);
	expect_topic_fault(FOA1, W, topic, GF_TOPIC_FAULT_FROM);
	expect_topic_fault("fman.f1", R, topic, GF_TOPIC_FAULT_FROM);
	snprintf(topic, sizeof(topic), "gf/%0300d/foa/7-PRE-001/fman/f1/flexoffer", 1);
	expect_topic_fault(FOA1, W, topic, GF_TOPIC_FAULT_SITE);
}

Test(policy, access_names)
{
	cr_assert_str_eq(gf_access_name(GF_ACCESS_READ), "read");
	cr_assert_str_eq(gf_access_name(GF_ACCESS_WRITE), "write");
	cr_assert_str_eq(gf_access_name(GF_ACCESS_SUBSCRIBE), "subscribe");
	cr_assert_str_eq(gf_access_name(GF_ACCESS_UNSUBSCRIBE), "unsubscribe");
	cr_assert_str_eq(gf_access_name((enum gf_access)3), "?");
}

/*
 * No state: 10,000 identities in turn, each allowed its own topics and refused
 * its neighbour's, twice over in different orders.
 */
#define NIDS 10000

static void own_and_neighbour(int i)
{
	char user[32], own_r[128], next_r[128], own_w[128], next_w[128];
	int next = (i + 1) % NIDS;
	struct gf_ident id;

	snprintf(user, sizeof(user), "foa.p-%05d", i);
	snprintf(own_r, sizeof(own_r), T("fman/f1/foa/p-%05d/flexoffer.assign"), i);
	snprintf(next_r, sizeof(next_r), T("fman/f1/foa/p-%05d/flexoffer.assign"), next);
	snprintf(own_w, sizeof(own_w), T("foa/p-%05d/fman/all/flexoffer"), i);
	snprintf(next_w, sizeof(next_w), T("foa/p-%05d/fman/all/flexoffer"), next);
	cr_assert_eq(gf_ident_parse(user, &id), GF_OK);
	cr_assert_eq(gf_policy_check(&pol, &id, GF_ACCESS_READ, own_r, NULL), GF_REASON_ALLOW,
	             "%s reading %s", user, own_r);
	cr_assert_eq(gf_policy_check(&pol, &id, GF_ACCESS_READ, next_r, NULL), GF_REASON_NOTADDR,
	             "%s reading %s", user, next_r);
	cr_assert_eq(gf_policy_check(&pol, &id, GF_ACCESS_SUBSCRIBE, next_r, NULL),
	             GF_REASON_NOTADDR, "%s subscribing %s", user, next_r);
	cr_assert_eq(gf_policy_check(&pol, &id, GF_ACCESS_WRITE, own_w, NULL), GF_REASON_ALLOW,
	             "%s writing %s", user, own_w);
	cr_assert_eq(gf_policy_check(&pol, &id, GF_ACCESS_WRITE, next_w, NULL), GF_REASON_SPOOF,
	             "%s writing %s", user, next_w);
}

Test(policy, independent_of_identity_count)
{
	for (int i = 0; i < NIDS; i++)
		own_and_neighbour(i);
	for (int i = NIDS - 1; i >= 0; i -= 7)
		own_and_neighbour(i);
	own_and_neighbour(0);
}

Test(policy, site_is_compared_exactly)
{
	struct gf_policy p2 = {cat, {"site1xyz", 4}}; /* the site is "site" */
	struct gf_ident id;

	cr_assert_eq(gf_ident_parse(FOA1, &id), GF_OK);
	cr_assert_eq(gf_policy_check(&p2, &id, GF_ACCESS_WRITE,
	                             "gf/site/foa/7-PRE-001/fman/f1/flexoffer", NULL),
	             GF_REASON_ALLOW);
	cr_assert_eq(gf_policy_check(&p2, &id, GF_ACCESS_WRITE,
	                             "gf/site1/foa/7-PRE-001/fman/f1/flexoffer", NULL),
	             GF_REASON_SITE);
	cr_assert_eq(gf_policy_check(&p2, &id, GF_ACCESS_READ,
	                             "gf/site1/fman/f1/foa/7-PRE-001/flexoffer.assign", NULL),
	             GF_REASON_SITE);
	cr_assert_eq(gf_policy_check(&p2, &id, GF_ACCESS_READ,
	                             "gf/site/fman/f1/foa/7-PRE-001/flexoffer.assign", NULL),
	             GF_REASON_ALLOW);
	cr_assert_eq(gf_policy_check(&p2, &id, GF_ACCESS_SUBSCRIBE, "gf/site/#", NULL),
	             GF_REASON_ALLOW);
}

/*
 * policy.h: "ops and broker rows are never written by clients" and "A bridge
 * writes only public rows". The audit feed of the peer site is a broker row
 * (ops -> ops : audit, public, broker): addressed to ops/all it is refused
 * with BRIDGE, and addressed to the public feed all/all it must be refused too.
 */
Test(policy, bridge_broker_row_via_to_role_all)
{
	cr_assert_eq(check("bridge.site2", W, "gf/site2/ops/broker/ops/all/audit", NULL),
	             GF_REASON_BRIDGE);
	cr_assert_eq(check("bridge.site2", W, "gf/site2/ops/broker/all/all/audit", NULL),
	             GF_REASON_BRIDGE, "a bridge wrote a broker row through to-role all");
	cr_assert_eq(check("bridge.site2", W, "gf/site2/ops/broker/all/all/plugin.stats", NULL),
	             GF_REASON_BRIDGE, "a bridge wrote a broker row through to-role all");
}

/* --- BROKERROW: the real catalogue has broker rows only from ops, which is
 * read-only anyway, so this needs a catalogue of its own. ------------------ */

static const char broker_catalog[] = "kpi\tops\tkpi.stats\tpublic\tbroker\n"
                                     "kpi\tuser\tkpi.alarm\tpublic\t-\n"
                                     "foa\tfman\tflexoffer\tprivate\t-\n";

static struct gf_catalog *load_broker_catalog(void)
{
	struct gf_catalog *c = NULL;
	char err[256] = "";

	cr_assert_eq(gf_catalog_parse(broker_catalog, strlen(broker_catalog), "broker.tsv", &c, err,
	                              sizeof(err)),
	             GF_OK, "%s", err);
	return c;
}

Test(policy_broker, broker_row)
{
	struct gf_catalog *c = load_broker_catalog();
	struct gf_policy p = {c, {SITE, strlen(SITE)}};
	struct gf_ident kpi = {GF_ROLE_KPI, {"k1", 2}};
	struct gf_ident ops = {GF_ROLE_OPS, {"o1", 2}};
	struct gf_ident user = {GF_ROLE_USER, {"u1", 2}};
	enum gf_reason r1, r2, r3, r4;

	r1 = gf_policy_check(&p, &kpi, GF_ACCESS_WRITE, T("kpi/k1/ops/all/kpi.stats"), NULL);
	r2 = gf_policy_check(&p, &kpi, GF_ACCESS_WRITE, T("kpi/k1/user/u1/kpi.alarm"), NULL);
	r3 = gf_policy_check(&p, &ops, GF_ACCESS_READ, T("kpi/k1/ops/all/kpi.stats"), NULL);
	r4 = gf_policy_check(&p, &user, GF_ACCESS_READ, T("kpi/k1/ops/all/kpi.stats"), NULL);
	gf_catalog_free(c);
	cr_assert_eq(r1, GF_REASON_BROKERROW, "got %s", gf_reason_msgid(r1));
	cr_assert_eq(r2, GF_REASON_ALLOW, "got %s", gf_reason_msgid(r2));
	cr_assert_eq(r3, GF_REASON_ALLOW, "got %s", gf_reason_msgid(r3));
	cr_assert_eq(r4, GF_REASON_BROKERFEED, "got %s", gf_reason_msgid(r4));
}

/* The same broker row addressed to the public feed (to-role all) is still a
 * broker row: row_class() must not drop GF_CELL_BROKER for to-role all. */
Test(policy_broker, broker_row_via_to_role_all)
{
	struct gf_catalog *c = load_broker_catalog();
	struct gf_policy p = {c, {SITE, strlen(SITE)}};
	struct gf_ident kpi = {GF_ROLE_KPI, {"k1", 2}};
	enum gf_reason r;

	r = gf_policy_check(&p, &kpi, GF_ACCESS_WRITE, T("kpi/k1/all/all/kpi.stats"), NULL);
	gf_catalog_free(c);
	cr_assert_eq(r, GF_REASON_BROKERROW, "got %s", gf_reason_msgid(r));
}
