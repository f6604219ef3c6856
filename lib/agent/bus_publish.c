/* SPDX-License-Identifier: MIT */
/*
 * bus_publish.c - the bus's publishes (bus.h): checked, handed to the
 * client's session (lib/mqtt), which keeps each until its PUBACK; the
 * PUBACK comes back through the inbox as GF_INBOX_PUBLISHED or
 * GF_INBOX_PUB_FAILED with the publish's tag (bus.c).
 */
#include "agent/bus_int.h"

#include <string.h>

#include "base/json.h"
#include "base/log.h"

/* A topic the broker takes: not empty, no wildcard, and UTF-8 without the
 * control characters mosquitto refuses (U+0000-U+001F, U+007F-U+009F). A
 * publish the broker would end the connection for would be sent again at
 * every reconnect: it is refused here, once, instead. */
static bool topic_ok(const char *t)
{
	const unsigned char *s = (const unsigned char *)t;
	size_t n = strlen(t), k;

	if (n == 0 || strpbrk(t, "+#"))
		return false;
	for (size_t i = 0; i < n; i += k) {
		k = gf_utf8_seq(s + i, n - i);
		/* U+0080-U+009F are C2 80-C2 9F */
		if (k == 0 || s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 && s[i + 1] <= 0x9f))
			return false;
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
