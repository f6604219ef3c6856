/* SPDX-License-Identifier: MIT */
/*
 * bus_publish.c - the bus's publishes and their acknowledgements (bus.h):
 * every publish in flight has a context in bus->pubs until paho reports its
 * PUBACK or failure, which goes to the inbox as GF_INBOX_PUBLISHED or
 * GF_INBOX_PUB_FAILED with the publish's tag.
 */
#include "agent/bus_int.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"

void gf__bus_pub_finish(struct pub_ctx *p)
{
	struct gf_bus *bus = p->bus;

	pthread_mutex_lock(&bus->mu);
	if (p->prev)
		p->prev->next = p->next;
	else
		bus->pubs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	bus->pending--;
	pthread_mutex_unlock(&bus->mu);
	free(p);
}

/* True (and nothing may touch p any more) if p's client was replaced. */
static bool pub_abandoned(struct pub_ctx *p)
{
	bool gone;

	pthread_mutex_lock(&p->bus->mu);
	gone = p->abandoned;
	pthread_mutex_unlock(&p->bus->mu);
	return gone;
}

static void on_pub_ok(void *context, MQTTAsync_successData5 *response)
{
	struct pub_ctx *p = context;

	if (pub_abandoned(p))
		return;

	/* A v5 PUBACK with a reason >= 0x80 is a refusal (our plugin's 0x87),
	 * which paho 1.3 reports through onSuccess5. */
	if (response && response->reasonCode >= 0x80)
		gf_inbox_push_event(p->bus->inbox, GF_INBOX_PUB_FAILED, (int)response->reasonCode,
		                    p->tag, MQTTReasonCode_toString(response->reasonCode));
	else
		gf_inbox_push_event(p->bus->inbox, GF_INBOX_PUBLISHED, 0, p->tag, NULL);
	gf__bus_pub_finish(p);
}

static void on_pub_fail(void *context, MQTTAsync_failureData5 *response)
{
	struct pub_ctx *p = context;
	int reason = response ? (response->reasonCode ? (int)response->reasonCode : response->code)
	                      : MQTTASYNC_FAILURE;

	if (pub_abandoned(p))
		return;
	/* Paho's write of the publish failed on a broken connection (-1) or its
	 * persistence did (-2): paho has freed the publish's topic and payload
	 * but keeps it in flight, to resend (bus.c, reset_client). */
	if (response && (response->code == MQTTASYNC_FAILURE ||
	                 response->code == MQTTASYNC_PERSISTENCE_ERROR)) {
		pthread_mutex_lock(&p->bus->mu);
		p->bus->write_failed = true;
		pthread_mutex_unlock(&p->bus->mu);
	}
	gf_inbox_push_event(p->bus->inbox, GF_INBOX_PUB_FAILED, reason, p->tag,
	                    response && response->message
	                        ? response->message
	                        : (reason >= 0x80
	                               ? MQTTReasonCode_toString((enum MQTTReasonCodes)reason)
	                               : MQTTAsync_strerror(reason)));
	gf__bus_pub_finish(p);
}

enum gf_err gf_bus_publish(struct gf_bus *bus, const char *topic, const void *data, size_t len,
                           const char *content_type, bool retain, const void *correlation,
                           size_t correlation_len, uint64_t tag)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTProperty p;
	struct pub_ctx *ctx;
	int prc;

	if (len > 268435455u || correlation_len > 65535u)
		return GF_ETOOLONG;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return GF_ENOMEM;
	ctx->bus = bus;
	ctx->tag = tag;
	m.payload = (void *)data;
	m.payloadlen = (int)len;
	m.qos = 1;
	m.retained = retain;
	p.identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
	p.value.data.data = (char *)(content_type ? content_type : "application/json");
	p.value.data.len = (int)strlen(p.value.data.data);
	MQTTProperties_add(&m.properties, &p);
	if (correlation_len) {
		p.identifier = MQTTPROPERTY_CODE_CORRELATION_DATA;
		p.value.data.data = (char *)correlation;
		p.value.data.len = (int)correlation_len;
		MQTTProperties_add(&m.properties, &p);
	}
	ro.onSuccess5 = on_pub_ok;
	ro.onFailure5 = on_pub_fail;
	ro.context = ctx;
	pthread_mutex_lock(&bus->mu);
	ctx->next = bus->pubs;
	if (bus->pubs)
		bus->pubs->prev = ctx;
	bus->pubs = ctx;
	bus->pending++;
	pthread_mutex_unlock(&bus->mu);
	prc = MQTTAsync_sendMessage(bus->client, topic, &m, &ro);
	MQTTProperties_free(&m.properties);
	if (prc != MQTTASYNC_SUCCESS) {
		gf__bus_pub_finish(ctx);
		if (prc == MQTTASYNC_MAX_BUFFERED_MESSAGES)
			return GF_EFULL;
		gf_log_err("GF-BUS-PUBLISH", "cannot publish on %s: %s", topic,
		           MQTTAsync_strerror(prc));
		return GF_EIO;
	}
	return GF_OK;
}

int gf_bus_pending(const struct gf_bus *bus)
{
	struct gf_bus *b = (struct gf_bus *)bus;
	int n;

	pthread_mutex_lock(&b->mu);
	n = b->pending;
	pthread_mutex_unlock(&b->mu);
	return n;
}

void gf__bus_pubs_abandon(struct gf_bus *bus, size_t *again, size_t *lost)
{
	struct pub_ctx *list, *p;

	pthread_mutex_lock(&bus->mu);
	list = bus->pubs;
	bus->pubs = NULL;
	bus->pending = 0;
	for (p = list; p; p = p->next)
		p->abandoned = true;
	pthread_mutex_unlock(&bus->mu);
	for (p = list; p; p = p->next) {
		if (p->tag) {
			gf_inbox_push_event(bus->inbox, GF_INBOX_PUB_FAILED, MQTTASYNC_FAILURE,
			                    p->tag, "dropped with the replaced MQTT client");
			(*again)++;
		} else {
			(*lost)++;
		}
	}
}

void gf__bus_pubs_free(struct gf_bus *bus)
{
	struct pub_ctx *p, *next;

	for (p = bus->pubs; p; p = next) {
		next = p->next;
		free(p);
	}
	bus->pubs = NULL;
}
