/* SPDX-License-Identifier: MIT */
#include "bus/audit.h"
#include "base/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void gf_audit_init(struct gf_audit *a)
{
	memset(a, 0, sizeof(*a));
}

static uint8_t copy_cut(char *dst, size_t size, const char *src)
{
	size_t n;

	if (!src) {
		dst[0] = '\0';
		return 0;
	}
	n = strnlen(src, size);
	if (n < size) {
		memcpy(dst, src, n + 1);
		return 0;
	}
	memcpy(dst, src, size - 1);
	dst[size - 1] = '\0';
	return 1;
}

void gf_audit_record(struct gf_audit *a, enum gf_reason reason, enum gf_access access,
                     const char *who, const char *client_id, const char *topic, const char *detail,
                     time_t now, int queue)
{
	struct gf_audit_event *ev;

	if ((unsigned)reason >= GF_REASON_COUNT)
		return;
	a->count[reason]++;
	if (reason == GF_REASON_ALLOW || !queue)
		return;
	if (a->len == GF_AUDIT_RING) {
		a->dropped++;
		return;
	}
	ev = &a->ring[(a->head + a->len) % GF_AUDIT_RING];
	a->len++;
	ev->time = now;
	ev->reason = reason;
	ev->access = access;
	ev->truncated = (uint8_t)(copy_cut(ev->who, sizeof(ev->who), who) |
	                          copy_cut(ev->client_id, sizeof(ev->client_id), client_id) |
	                          copy_cut(ev->topic, sizeof(ev->topic), topic) |
	                          copy_cut(ev->detail, sizeof(ev->detail), detail));
}

int gf_audit_pop(struct gf_audit *a, struct gf_audit_event *out)
{
	if (a->len == 0)
		return 0;
	*out = a->ring[a->head];
	a->head = (a->head + 1) % GF_AUDIT_RING;
	a->len--;
	return 1;
}

__attribute__((format(printf, 4, 5))) static enum gf_err put(char *buf, size_t size, size_t *pos,
                                                             const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= size)
		return GF_ETOOLONG;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *pos) {
		buf[*pos] = '\0';
		return GF_ETOOLONG;
	}
	*pos += (size_t)n;
	return GF_OK;
}

enum gf_err gf_json_put_string(char *buf, size_t size, size_t *pos, const char *s)
{
	size_t room = *pos < size ? size - *pos : 0, n;

	if (room == 0)
		return GF_ETOOLONG;
	n = gf_json_quote(buf + *pos, room, s, strlen(s), GF_JSON_SAFE);
	if (n >= room) { /* no room for it and its NUL */
		buf[*pos] = '\0';
		return GF_ETOOLONG;
	}
	buf[*pos + n] = '\0';
	*pos += n;
	return GF_OK;
}

enum gf_err gf_audit_event_json(struct gf_audit *a, const struct gf_audit_event *ev,
                                const char *site, char *buf, size_t size)
{
	size_t pos = 0;
	uint64_t dropped = a->dropped - a->dropped_reported;
	enum gf_err rc;

	rc = put(buf, size, &pos, "{\"time\":%lld,\"site\":", (long long)ev->time);
	if (rc == GF_OK)
		rc = gf_json_put_string(buf, size, &pos, site);
	if (rc == GF_OK)
		rc = put(buf, size, &pos, ",\"msgid\":\"%s\",\"reason\":\"%s\",\"access\":\"%s\"",
		         gf_reason_msgid(ev->reason), gf_reason_text(ev->reason),
		         ev->access ? gf_access_name(ev->access) : "connect");
	if (rc == GF_OK)
		rc = put(buf, size, &pos, ",\"who\":");
	if (rc == GF_OK)
		rc = gf_json_put_string(buf, size, &pos, ev->who);
	if (rc == GF_OK)
		rc = put(buf, size, &pos, ",\"clientId\":");
	if (rc == GF_OK)
		rc = gf_json_put_string(buf, size, &pos, ev->client_id);
	if (rc == GF_OK)
		rc = put(buf, size, &pos, ",\"topic\":");
	if (rc == GF_OK)
		rc = gf_json_put_string(buf, size, &pos, ev->topic);
	if (rc == GF_OK && ev->detail[0])
		rc = put(buf, size, &pos, ",\"detail\":");
	if (rc == GF_OK && ev->detail[0])
		rc = gf_json_put_string(buf, size, &pos, ev->detail);
	if (rc == GF_OK)
		rc = put(buf, size, &pos, ",\"truncated\":%s,\"dropped\":%llu}",
		         ev->truncated ? "true" : "false", (unsigned long long)dropped);
	if (rc == GF_OK)
		a->dropped_reported += dropped;
	return rc;
}

enum gf_err gf_audit_stats_json(const struct gf_audit *a, const char *site, time_t now,
                                size_t clients, char *buf, size_t size)
{
	size_t pos = 0;
	enum gf_err rc;

	rc = put(buf, size, &pos, "{\"time\":%lld,\"site\":", (long long)now);
	if (rc == GF_OK)
		rc = gf_json_put_string(buf, size, &pos, site);
	if (rc == GF_OK)
		rc = put(buf, size, &pos, ",\"clients\":%zu,\"auditDropped\":%llu,\"decisions\":{",
		         clients, (unsigned long long)a->dropped);
	for (unsigned r = 0; r < GF_REASON_COUNT && rc == GF_OK; r++)
		rc = put(buf, size, &pos, "%s\"%s\":%llu", r ? "," : "",
		         gf_reason_msgid((enum gf_reason)r), (unsigned long long)a->count[r]);
	if (rc == GF_OK)
		rc = put(buf, size, &pos, "}}");
	return rc;
}
