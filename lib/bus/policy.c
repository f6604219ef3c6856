/* SPDX-License-Identifier: MIT */
#include "bus/policy.h"

#include <string.h>

/* Class and flags of (from, to, msg); to = GF_ROLE_ALL means the public feed
 * of (from, msg), which exists when the rows of (from, msg) are public. */
static uint8_t row_class(const struct gf_catalog *cat, const struct gf_topic *t, int msg)
{
	uint8_t feed;

	if (t->to_role != GF_ROLE_ALL)
		return gf_catalog_cell(cat, t->from_role, t->to_role, msg);
	feed = gf_catalog_feed(cat, t->from_role, msg);
	return (feed & GF_CELL_PUBLIC) ? feed : 0;
}

static enum gf_reason parse_own(const struct gf_policy *pol, const char *topic, struct gf_topic *t,
                                struct gf_decision *d)
{
	if (gf_topic_parse(topic, t, &d->fault) != GF_OK)
		return GF_REASON_TOPIC;
	if (!gf_sv_eq(t->site, pol->site))
		return GF_REASON_SITE;
	return GF_REASON_ALLOW;
}

/* Which "$" namespace topic is in: GF_REASON_SYS, _CONTROL or _DOLLAR. */
static enum gf_reason dollar_space(const char *topic)
{
	if (strncmp(topic, "$SYS", 4) == 0 && (topic[4] == '/' || topic[4] == '\0'))
		return GF_REASON_SYS;
	if (strncmp(topic, "$CONTROL", 8) == 0 && (topic[8] == '/' || topic[8] == '\0'))
		return GF_REASON_CONTROL;
	return GF_REASON_DOLLAR;
}

/* Reading or subscribing to "$" topics: only $SYS, and only for ops. */
static enum gf_reason check_dollar_read(const struct gf_ident *who, const char *topic)
{
	enum gf_reason space = dollar_space(topic);

	if (space == GF_REASON_SYS && who->role == GF_ROLE_OPS)
		return GF_REASON_ALLOW;
	return space;
}

/* A bridge publishes what it imports from its peer site, under the peer's own
 * tree: it can never speak for an identity of this site, and it carries
 * public rows only. */
static enum gf_reason check_bridge_write(const struct gf_policy *pol, const struct gf_ident *who,
                                         const char *topic, struct gf_decision *d)
{
	struct gf_topic t;
	int msg;
	uint8_t cls;

	if (gf_topic_parse(topic, &t, &d->fault) != GF_OK)
		return GF_REASON_TOPIC;
	if (gf_sv_eq(t.site, pol->site) || !gf_sv_eq(t.site, who->id))
		return GF_REASON_BRIDGE;
	msg = gf_catalog_msg(pol->cat, t.msg.p, t.msg.len);
	cls = row_class(pol->cat, &t, msg);
	if (cls == 0)
		return GF_REASON_NOROW;
	if (!(cls & GF_CELL_PUBLIC) || (cls & GF_CELL_BROKER))
		return GF_REASON_BRIDGE;
	return GF_REASON_ALLOW;
}

static enum gf_reason check_write(const struct gf_policy *pol, const struct gf_ident *who,
                                  const char *topic, struct gf_decision *d)
{
	struct gf_topic t;
	enum gf_reason r;
	int msg;
	uint8_t cls;

	if (topic[0] == '$')
		return dollar_space(topic);
	if (who->role == GF_ROLE_BRIDGE)
		return check_bridge_write(pol, who, topic, d);
	if (who->role == GF_ROLE_OPS)
		return GF_REASON_READONLY;
	r = parse_own(pol, topic, &t, d);
	if (r != GF_REASON_ALLOW)
		return r;
	if (t.from_role != who->role || !gf_sv_eq(t.from_id, who->id))
		return GF_REASON_SPOOF;
	msg = gf_catalog_msg(pol->cat, t.msg.p, t.msg.len);
	cls = row_class(pol->cat, &t, msg);
	d->cell = cls;
	if (cls == 0) {
		/* "to-role all" of a private message: say so rather than "no row". */
		if (t.to_role == GF_ROLE_ALL && gf_catalog_feed(pol->cat, t.from_role, msg))
			return GF_REASON_ADDR;
		return GF_REASON_NOROW;
	}
	if (cls & GF_CELL_BROKER)
		return GF_REASON_BROKERROW;
	if ((cls & GF_CELL_PRIVATE) && gf_sv_is_all(t.to_id) && !gf_role_is_pool(t.to_role))
		return GF_REASON_ADDR;
	return GF_REASON_ALLOW;
}

/*
 * SPEC section 4, cross-site reading: the public rows a site-to-site bridge
 * imports appear under gf/<other-site>/ and are read there by the roles the
 * catalogue lists for them, and ops; never written (check_write refuses
 * every other site's topic but a bridge's own peer tree). Private rows and
 * the broker's own feeds of another site are never readable: a bridge
 * cannot bring them in (check_bridge_write), and should one be there, it
 * stays unread. A bridge reads only this site's rows: what it imported
 * from one peer never goes on to another.
 */
static enum gf_reason check_foreign_read(const struct gf_policy *pol, const struct gf_ident *who,
                                         const struct gf_topic *t, int msg, uint8_t cls)
{
	if (cls == 0)
		return GF_REASON_NOROW;
	if (cls & GF_CELL_BROKER)
		return GF_REASON_BROKERFEED;
	if (cls & GF_CELL_PRIVATE)
		return GF_REASON_SITE;
	if (who->role == GF_ROLE_BRIDGE)
		return GF_REASON_BRIDGE;
	if (who->role == GF_ROLE_OPS)
		return GF_REASON_ALLOW;
	if (gf_catalog_readers(pol->cat, t->from_role, msg) & (1u << who->role))
		return GF_REASON_ALLOW;
	return GF_REASON_NOTREADER;
}

static enum gf_reason check_read(const struct gf_policy *pol, const struct gf_ident *who,
                                 const char *topic, struct gf_decision *d)
{
	struct gf_topic t;
	int msg;
	uint8_t cls;

	if (topic[0] == '$')
		return check_dollar_read(who, topic);
	if (gf_topic_parse(topic, &t, &d->fault) != GF_OK)
		return GF_REASON_TOPIC;
	msg = gf_catalog_msg(pol->cat, t.msg.p, t.msg.len);
	cls = row_class(pol->cat, &t, msg);
	d->cell = cls;
	if (!gf_sv_eq(t.site, pol->site))
		return check_foreign_read(pol, who, &t, msg, cls);
	if (cls == 0)
		return GF_REASON_NOROW;
	/* The audit feed names identities, client ids and private-flow topics:
	 * it stays with the site's operators, never a bridge or another role. */
	if (cls & GF_CELL_BROKER)
		return who->role == GF_ROLE_OPS ? GF_REASON_ALLOW : GF_REASON_BROKERFEED;
	if (cls & GF_CELL_PRIVATE) {
		if (who->role == GF_ROLE_BRIDGE)
			return GF_REASON_BRIDGE;
		if (t.to_role != who->role ||
		    (!gf_sv_is_all(t.to_id) && !gf_sv_eq(t.to_id, who->id)))
			return GF_REASON_NOTADDR;
		return GF_REASON_ALLOW;
	}
	if (who->role == GF_ROLE_OPS || who->role == GF_ROLE_BRIDGE)
		return GF_REASON_ALLOW;
	if (gf_catalog_readers(pol->cat, t.from_role, msg) & (1u << who->role))
		return GF_REASON_ALLOW;
	return GF_REASON_NOTREADER;
}

static bool has_wildcard(const char *s)
{
	return strpbrk(s, "+#") != NULL;
}

/* Levels of a topic, numbered as in gf/<site>/<from-role>/<from-id>/<to-role>/<to-id>/<msg>. */
enum { LV_FROM_ROLE = 2, LV_TO_ROLE = 4, LV_TO_ID = 5, LV_MSG = 6 };

/* One level of a subscription filter: "+", a level covered by a trailing "#"
 * (any is true for both), or a literal. */
struct level_pattern {
	bool any;
	struct gf_sv lit;
};

static bool pattern_matches(const struct level_pattern *p, const char *s)
{
	return p->any || gf_sv_eq_str(p->lit, s);
}

/* Whether who reads every topic of the private row (to-role to) that the
 * filter's to-id level can match: as check_read, it must be addressed to
 * who's role and, since "+" or "#" there would also match other instances'
 * topics, name who's own id or "all" (which WRITE allows only for pools; for
 * other roles it matches no topic, and READ would let it through anyway). */
static bool private_row_readable(const struct gf_ident *who, enum gf_role to,
                                 const struct level_pattern *to_id, bool foreign)
{
	if (foreign || who->role == GF_ROLE_BRIDGE || who->role != to || to_id->any)
		return false;
	return gf_sv_eq(to_id->lit, who->id) || gf_sv_is_all(to_id->lit);
}

/* Whether who reads the public rows of (from, msg), whatever their to-role
 * and to-id: as check_read, the broker's own feeds (audit, statistics) for
 * ops only, the other public rows for their readers, ops and bridges. */
static bool public_row_readable(const struct gf_catalog *cat, const struct gf_ident *who,
                                const struct gf_catalog_row *row, bool foreign)
{
	int msg = gf_catalog_msg(cat, row->msg, strlen(row->msg));

	if (gf_catalog_feed(cat, row->from, msg) & GF_CELL_BROKER)
		return !foreign && who->role == GF_ROLE_OPS;
	if (who->role == GF_ROLE_OPS || (who->role == GF_ROLE_BRIDGE && !foreign))
		return true;
	return (gf_catalog_readers(cat, row->from, msg) & (1u << who->role)) != 0;
}

/*
 * SPEC section 4: a shared subscription is allowed only where its subscriber
 * may read every topic the filter can match. Mosquitto hands each message of
 * a $share group to one member, and a member the READ check refuses makes the
 * whole group lose the message: one foa joining the FMAN pool's group would
 * otherwise blackhole offers, even from an offline persistent session.
 *
 * lv[0..n) are the levels of the filter, already checked to start with "gf"
 * (and a site level). Only topics of catalogue rows can ever be published, so the
 * filter is compared with every row: each row whose from-role, to-role (or
 * "all" for a public row's feed) and msg it can match must be readable in
 * full. A level naming no role or no catalogued message matches no row, and a
 * filter that matches no row, or no seven-level topic, is allowed: nothing
 * will ever be delivered through it, so nothing can be lost. The from-id
 * level never changes who may read a topic and is not looked at.
 *
 * This scans the catalogue; it runs at SUBSCRIBE of a shared filter only,
 * never on the READ or WRITE paths, and does not allocate.
 */
static enum gf_reason check_share_read(const struct gf_policy *pol, const struct gf_ident *who,
                                       const struct gf_sv *lv, size_t n)
{
	/* A site level other than this site's ("+", "#", a peer) can match
	 * another site's topics: the cross-site rules apply (check_foreign_read),
	 * stricter than this site's, so they hold for both. */
	bool foreign = !gf_sv_eq(lv[1], pol->site);
	struct level_pattern pat[GF_TOPIC_LEVELS];
	size_t i = 0;

	for (; i < n; i++) {
		bool plus = lv[i].len == 1 && lv[i].p[0] == '+';
		bool hash = lv[i].len == 1 && lv[i].p[0] == '#';

		/* Mosquitto refuses such filters before asking us; we refuse them
		 * too rather than guess what they would match. */
		if (!plus && !hash &&
		    (memchr(lv[i].p, '+', lv[i].len) || memchr(lv[i].p, '#', lv[i].len)))
			return GF_REASON_SHARE;
		if (hash && i + 1 != n)
			return GF_REASON_SHARE;
		if (hash)
			break;
		pat[i] = (struct level_pattern){plus, lv[i]};
	}
	if (i == n && n < GF_TOPIC_LEVELS)
		return GF_REASON_ALLOW; /* shorter than any topic, without "#" */
	/* "#" matches every remaining level (and deeper topics, never published). */
	for (; i < GF_TOPIC_LEVELS; i++)
		pat[i] = (struct level_pattern){true, {"", 0}};

	for (size_t r = 0; r < gf_catalog_row_count(pol->cat); r++) {
		const struct gf_catalog_row *row = gf_catalog_row(pol->cat, r);
		bool to_role = pattern_matches(&pat[LV_TO_ROLE], gf_role_name(row->to));

		if (!pattern_matches(&pat[LV_FROM_ROLE], gf_role_name(row->from)) ||
		    !pattern_matches(&pat[LV_MSG], row->msg))
			continue;
		if (row->cell & GF_CELL_PRIVATE) {
			/* Private rows have no "all" feed: WRITE refuses to-role all. */
			if (to_role && !private_row_readable(who, row->to, &pat[LV_TO_ID], foreign))
				return GF_REASON_SHARE_READ;
		} else if (to_role || pattern_matches(&pat[LV_TO_ROLE], "all")) {
			if (!public_row_readable(pol->cat, who, row, foreign))
				return GF_REASON_SHARE_READ;
		}
	}
	return GF_REASON_ALLOW;
}

static enum gf_reason check_subscribe(const struct gf_policy *pol, const struct gf_ident *who,
                                      const char *filter, struct gf_decision *d)
{
	struct gf_sv lv[GF_TOPIC_LEVELS];
	enum gf_reason r;
	bool shared = false;
	size_t n;

	if (strncmp(filter, "$share/", 7) == 0) {
		const char *group = filter + 7;
		const char *slash = strchr(group, '/');
		if (!slash || slash == group || slash[1] == '\0')
			return GF_REASON_SHARE;
		for (const char *p = group; p < slash; p++) {
			if (*p == '+' || *p == '#')
				return GF_REASON_SHARE;
		}
		filter = slash + 1;
		shared = true;
	}
	if (filter[0] == '$')
		return check_dollar_read(who, filter);
	n = gf_topic_split(filter, lv, GF_TOPIC_LEVELS);
	/* Other sites' trees too (cross-site reading): every delivery is
	 * checked by READ, and a filter without wildcards right here. */
	if (n > GF_TOPIC_LEVELS || n < 2 || !gf_sv_eq_str(lv[0], "gf") || lv[1].len == 0)
		return GF_REASON_FILTER;
	if (!has_wildcard(filter)) {
		r = check_read(pol, who, filter, d);
		if (r != GF_REASON_ALLOW)
			return r;
	}
	/* Other subscriptions may hold wildcards: every delivery is checked, and
	 * a refused one costs only the subscriber. */
	return shared ? check_share_read(pol, who, lv, n) : GF_REASON_ALLOW;
}

enum gf_reason gf_policy_check(const struct gf_policy *pol, const struct gf_ident *who,
                               enum gf_access access, const char *topic, struct gf_decision *d)
{
	struct gf_decision local;
	enum gf_reason r;

	if (!d)
		d = &local;
	d->fault = GF_TOPIC_FAULT_NONE;
	d->cell = 0;
	if (!who || !topic) {
		r = GF_REASON_NOIDENT;
		goto out;
	}
	switch (access) {
	case GF_ACCESS_WRITE:
		r = check_write(pol, who, topic, d);
		break;
	case GF_ACCESS_READ:
		r = check_read(pol, who, topic, d);
		break;
	case GF_ACCESS_SUBSCRIBE:
		r = check_subscribe(pol, who, topic, d);
		break;
	case GF_ACCESS_UNSUBSCRIBE:
		r = GF_REASON_ALLOW;
		break;
	default:
		r = GF_REASON_NOIDENT;
		break;
	}
out:
	d->reason = r;
	return r;
}

uint8_t gf_policy_cell(const struct gf_policy *pol, const struct gf_topic *t)
{
	return row_class(pol->cat, t, gf_catalog_msg(pol->cat, t->msg.p, t->msg.len));
}

const char *gf_access_name(enum gf_access access)
{
	switch (access) {
	case GF_ACCESS_READ:
		return "read";
	case GF_ACCESS_WRITE:
		return "write";
	case GF_ACCESS_SUBSCRIBE:
		return "subscribe";
	case GF_ACCESS_UNSUBSCRIBE:
		return "unsubscribe";
	}
	return "?";
}
