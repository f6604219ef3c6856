/* SPDX-License-Identifier: MIT */
/*
 * bus_publish.c - the bus's publishes (bus.h): checked, handed to the
 * client's session (lib/mqtt), which keeps each until its PUBACK; the
 * PUBACK comes back through the inbox as GF_INBOX_PUBLISHED or
 * GF_INBOX_PUB_FAILED with the publish's tag (bus.c).
 */
#include "agent/bus_int.h"

#include <string.h>

#include "base/log.h"

/* A topic the broker takes: not empty, no wildcard, and UTF-8 without the
 * control characters mosquitto refuses (U+0000-U+001F, U+007F-U+009F). A
 * publish the broker would end the connection for would be sent again at
 * every reconnect: it is refused here, once, instead. */
static bool topic_ok(const char *t)
{
	const unsigned char *s = (const unsigned char *)t;

	if (!*s || strpbrk(t, "+#"))
		return false;
	while (*s) {
		unsigned c = *s, need, cp;

		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			s++;
			continue;
		}
		need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		if (c < 0xc2 || c > 0xf4)
			return false;
		cp = c & (0x3fu >> need);
		for (unsigned k = 1; k <= need; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[k] & 0x3fu);
		}
		if (cp <= 0x9f || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000))
			return false;
		s += need + 1;
	}
	return true;
}

enum gf_err gf_bus_publish(struct gf_bus *bus, const char *topic, const void *data, size_t len,
                           const char *content_type, bool retain, const void *correlation,
                           size_t correlation_len, uint64_t tag)
{
	enum gf_err rc;

	if (len > 268435455u || correlation_len > 65535u || strlen(topic) > 65535u)
		return GF_ETOOLONG;
	if (!topic_ok(topic)) {
		gf_log_err("GF-BUS-PUBLISH",
		           "%s: not published: the topic is empty, has a wildcard, or has a "
		           "character the broker refuses",
		           bus->ident);
		return GF_EINVAL;
	}
	rc = gf_mqtt_publish(bus->mq, topic, data, len,
	                     content_type ? content_type : "application/json", retain, correlation,
	                     correlation_len, tag);
	if (rc != GF_OK && rc != GF_EFULL)
		gf_log_err("GF-BUS-PUBLISH", "cannot publish on %s: %s", topic, gf_strerror(rc));
	return rc;
}

int gf_bus_pending(const struct gf_bus *bus)
{
	return (int)gf_mqtt_pending(bus->mq);
}

void gf_bus_flush(struct gf_bus *bus)
{
	gf_mqtt_flush(bus->mq);
	gf__bus_watch(bus);
}
