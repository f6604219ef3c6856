/* SPDX-License-Identifier: MIT */
/*
 * bus_presence.c - the bus's presence (SPEC section 4, bus.h): the retained
 * birth at every connect, the will of each connection (offline, with its
 * own sequence number) and the goodbye before a close, all on
 * gf/<site>/<role>/<id>/ops/all/status.
 */
#include "agent/bus_int.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The presence document (goflex.Presence, JSON) into buf. */
void gf__bus_presence(const struct gf_bus *bus, bool online, char *buf, size_t size)
{
	snprintf(buf, size,
	         "{\"state\":\"%s\",\"version\":\"%s\",\"startTime\":\"%s\",\"sequence\":%llu,"
	         "\"host\":\"%s\",\"pid\":%ld}",
	         online ? "online" : "offline", bus->version, bus->start_time,
	         (unsigned long long)bus->sequence, bus->host, (long)getpid());
}

enum gf_err gf__bus_will(struct gf_bus *bus)
{
	char will[PRESENCE_MAX];
	struct gf_mqtt_will w = {.topic = bus->status_topic,
	                         .payload = will,
	                         .content_type = "application/json",
	                         .retain = true};

	gf__bus_presence(bus, false, will, sizeof(will));
	w.len = strlen(will);
	return gf_mqtt_set_will(bus->mq, &w);
}

void gf__bus_birth(struct gf_bus *bus)
{
	char birth[PRESENCE_MAX];

	gf__bus_presence(bus, true, birth, sizeof(birth));
	gf_bus_publish(bus, bus->status_topic, birth, strlen(birth), NULL, true, NULL, 0, 0);
}

void gf_bus_goodbye(struct gf_bus *bus)
{
	char bye[PRESENCE_MAX];

	if (!bus || !bus->mq || !bus->connected || bus->said_goodbye)
		return;
	gf__bus_presence(bus, false, bye, sizeof(bye));
	gf_bus_publish(bus, bus->status_topic, bye, strlen(bye), NULL, true, NULL, 0, 0);
	bus->said_goodbye = true;
}
