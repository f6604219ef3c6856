/* SPDX-License-Identifier: MIT */
#include "bus/topic.h"

#include <stdio.h>
#include <string.h>

size_t gf_topic_split(const char *s, struct gf_sv *levels, size_t max)
{
	size_t n = 0;
	const char *start = s;

	for (const char *p = s;; p++) {
		if (*p == '/' || *p == '\0') {
			if (n == max)
				return max + 1;
			levels[n].p = start;
			levels[n].len = (size_t)(p - start);
			n++;
			if (*p == '\0')
				return n;
			start = p + 1;
		}
	}
}

bool gf_msg_name_valid(const char *s, size_t len)
{
	bool word = false;

	if (len == 0 || len > GF_MSG_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			word = true;
		} else if (c == '.' && word) {
			word = false;
		} else {
			return false;
		}
	}
	return word;
}

enum gf_err gf_topic_parse(const char *topic, struct gf_topic *out, enum gf_topic_fault *fault)
{
	struct gf_sv lv[GF_TOPIC_LEVELS];
	struct gf_topic t;
	enum gf_topic_fault f = GF_TOPIC_FAULT_NONE;

	if (strncmp(topic, "gf/", 3) != 0) {
		f = GF_TOPIC_FAULT_PREFIX;
		goto out;
	}
	if (gf_topic_split(topic, lv, GF_TOPIC_LEVELS) != GF_TOPIC_LEVELS) {
		f = GF_TOPIC_FAULT_LEVELS;
		goto out;
	}
	t.site = lv[1];
	if (!gf_id_valid(t.site.p, t.site.len)) {
		f = GF_TOPIC_FAULT_SITE;
		goto out;
	}
	t.from_role = gf_role_parse(lv[2].p, lv[2].len);
	t.from_id = lv[3];
	if (t.from_role >= GF_ROLE_COUNT || !gf_id_valid(t.from_id.p, t.from_id.len) ||
	    gf_sv_is_all(t.from_id)) {
		f = GF_TOPIC_FAULT_FROM;
		goto out;
	}
	t.to_role = gf_role_parse(lv[4].p, lv[4].len);
	t.to_id = lv[5];
	if (t.to_role == GF_ROLE_NONE || !gf_id_valid(t.to_id.p, t.to_id.len) ||
	    (t.to_role == GF_ROLE_ALL && !gf_sv_is_all(t.to_id))) {
		f = GF_TOPIC_FAULT_TO;
		goto out;
	}
	t.msg = lv[6];
	if (!gf_msg_name_valid(t.msg.p, t.msg.len)) {
		f = GF_TOPIC_FAULT_MSG;
		goto out;
	}
	*out = t;
out:
	if (fault)
		*fault = f;
	return f == GF_TOPIC_FAULT_NONE ? GF_OK : GF_EPARSE;
}

const char *gf_topic_fault_str(enum gf_topic_fault fault)
{
	switch (fault) {
	case GF_TOPIC_FAULT_NONE:
		return "well-formed";
	case GF_TOPIC_FAULT_PREFIX:
		return "not in the gf/ tree";
	case GF_TOPIC_FAULT_LEVELS:
		return "not exactly seven levels";
	case GF_TOPIC_FAULT_SITE:
		return "invalid site level";
	case GF_TOPIC_FAULT_FROM:
		return "invalid sender levels";
	case GF_TOPIC_FAULT_TO:
		return "invalid addressee levels";
	case GF_TOPIC_FAULT_MSG:
		return "invalid message type level";
	}
	return "invalid topic";
}

enum gf_err gf_topic_build(char *buf, size_t size, const char *site, const struct gf_ident *from,
                           enum gf_role to_role, const char *to_id, const char *msg)
{
	int n;

	if (!gf_id_valid(site, strlen(site)) || from->role >= GF_ROLE_COUNT ||
	    !gf_id_valid(from->id.p, from->id.len) || gf_sv_is_all(from->id) ||
	    to_role >= GF_ROLE_NONE || !gf_id_valid(to_id, strlen(to_id)) ||
	    !gf_msg_name_valid(msg, strlen(msg)))
		return GF_EINVAL;
	if (to_role == GF_ROLE_ALL && strcmp(to_id, "all") != 0)
		return GF_EINVAL;
	n = snprintf(buf, size, "gf/%s/%s/%.*s/%s/%s/%s", site, gf_role_name(from->role),
	             (int)from->id.len, from->id.p, gf_role_name(to_role), to_id, msg);
	if (n < 0 || (size_t)n >= size)
		return GF_ETOOLONG;
	return GF_OK;
}
