/* SPDX-License-Identifier: MIT */
#include "policy.h"

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

static enum gf_reason check_read(const struct gf_policy *pol, const struct gf_ident *who,
                                 const char *topic, struct gf_decision *d)
{
	struct gf_topic t;
	enum gf_reason r;
	int msg;
	uint8_t cls;

	if (topic[0] == '$')
		return check_dollar_read(who, topic);
	r = parse_own(pol, topic, &t, d);
	if (r != GF_REASON_ALLOW)
		return r;
	msg = gf_catalog_msg(pol->cat, t.msg.p, t.msg.len);
	cls = row_class(pol->cat, &t, msg);
	d->cell = cls;
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

static enum gf_reason check_subscribe(const struct gf_policy *pol, const struct gf_ident *who,
                                      const char *filter, struct gf_decision *d)
{
	struct gf_sv lv[GF_TOPIC_LEVELS];
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
	}
	if (filter[0] == '$')
		return check_dollar_read(who, filter);
	n = gf_topic_split(filter, lv, GF_TOPIC_LEVELS);
	if (n > GF_TOPIC_LEVELS || n < 2 || !gf_sv_eq_str(lv[0], "gf") ||
	    !gf_sv_eq(lv[1], pol->site))
		return GF_REASON_FILTER;
	if (!has_wildcard(filter))
		return check_read(pol, who, filter, d);
	return GF_REASON_ALLOW;
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
