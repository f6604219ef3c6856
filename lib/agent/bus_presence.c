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

void gf__bus_will(struct gf_bus *bus, MQTTAsync_willOptions *will, MQTTProperties *props)
{
	MQTTProperty p;

	gf__bus_presence(bus, false, bus->will, sizeof(bus->will));
	will->topicName = bus->status_topic;
	will->payload.data = bus->will;
	will->payload.len = (int)strlen(bus->will);
	will->message = NULL;
	will->retained = 1;
	will->qos = 1;
	p.identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
	p.value.data.data = (char *)"application/json";
	p.value.data.len = (int)strlen(p.value.data.data);
	MQTTProperties_add(props, &p);
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

	if (!bus || !bus->client || !bus->connected || bus->said_goodbye)
		return;
	gf__bus_presence(bus, false, bye, sizeof(bye));
	gf_bus_publish(bus, bus->status_topic, bye, strlen(bye), NULL, true, NULL, 0, 0);
	bus->said_goodbye = true;
}
