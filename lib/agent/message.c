/* SPDX-License-Identifier: MIT */
#include "agent/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "payload/codec.h"
#include "base/log.h"
#include "payload/schema.h"

#define TOPIC_MAX 512

static void copy_sv(char *dst, size_t size, struct gf_sv sv)
{
	snprintf(dst, size, "%.*s", (int)sv.len, sv.p);
}

enum gf_err gf_message_read(const struct gf_inbox_item *item, struct gf_message *out, char *err,
                            size_t errlen)
{
	const ProtobufCMessageDescriptor *d;
	enum gf_codec_format format;
	enum gf_topic_fault fault;
	struct gf_message m;
	char why[256] = "";
	enum gf_err rc;

	memset(&m, 0, sizeof(m));
	if (gf_topic_parse(item->topic, &m.topic, &fault) != GF_OK) {
		snprintf(err, errlen, "topic %s: %s", item->topic, gf_topic_fault_str(fault));
		return GF_EPARSE;
	}
	copy_sv(m.msg, sizeof(m.msg), m.topic.msg);
	copy_sv(m.from_id, sizeof(m.from_id), m.topic.from_id);
	copy_sv(m.to_id, sizeof(m.to_id), m.topic.to_id);
	d = gf_schema_find(m.msg, strlen(m.msg));
	if (!d) {
		snprintf(err, errlen, "msg %s has no schema", m.msg);
		return GF_EPARSE;
	}
	if (gf_codec_format_parse(item->content_type, &format) != GF_OK) {
		snprintf(err, errlen, "%s: unknown Content Type %s", m.msg, item->content_type);
		return GF_EPARSE;
	}
	rc = gf_codec_decode(format, d, item->payload, item->len, &m.body, why, sizeof(why));
	if (rc != GF_OK) {
		snprintf(err, errlen, "%s: %s", m.msg, why[0] ? why : gf_strerror(rc));
		return rc;
	}
	*out = m;
	return GF_OK;
}

void gf_message_free(struct gf_message *m)
{
	if (m) {
		gf_codec_free(m->body);
		m->body = NULL;
	}
}

enum gf_err gf_message_encode_on(const struct gf_bus *bus, const char *to_role, const char *to_id,
                                 const char *msg, const ProtobufCMessage *body, char *topic,
                                 size_t size, char **json, size_t *len)
{
	enum gf_err rc = gf_bus_topic(bus, topic, size, to_role, to_id, msg);

	if (rc != GF_OK)
		return rc;
	return gf_codec_to_json(body, json, len);
}

enum gf_err gf_message_encode(struct gf_agent *a, const char *to_role, const char *to_id,
                              const char *msg, const ProtobufCMessage *body, char *topic,
                              size_t size, char **json, size_t *len)
{
	return gf_message_encode_on(gf_agent_bus(a), to_role, to_id, msg, body, topic, size, json,
	                            len);
}

enum gf_err gf_message_send_on(struct gf_bus *bus, const char *to_role, const char *to_id,
                               const char *msg, const ProtobufCMessage *body, uint64_t tag)
{
	char topic[TOPIC_MAX], *json = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc =
	    gf_message_encode_on(bus, to_role, to_id, msg, body, topic, sizeof(topic), &json, &len);
	if (rc == GF_OK)
		rc = gf_bus_publish(bus, topic, json, len, NULL, false, NULL, 0, tag);
	if (rc != GF_OK)
		gf_log_err("GF-MESSAGE-SEND", "cannot send %s to %s.%s: %s", msg, to_role, to_id,
		           gf_strerror(rc));
	free(json);
	return rc;
}

enum gf_err gf_message_queue(struct gf_agent *a, struct gf_store *s, const char *to_role,
                             const char *to_id, const char *msg, const ProtobufCMessage *body)
{
	char topic[TOPIC_MAX], *json = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_message_encode_on(gf_store_bus(s) ? gf_store_bus(s) : gf_agent_bus(a), to_role,
	                          to_id, msg, body, topic, sizeof(topic), &json, &len);
	if (rc == GF_OK)
		rc = gf_store_outbox_add(s, topic, json, len, NULL, false);
	if (rc != GF_OK)
		gf_log_err("GF-MESSAGE-SEND", "cannot queue %s to %s.%s: %s", msg, to_role, to_id,
		           gf_strerror(rc));
	free(json);
	return rc;
}

enum gf_err gf_message_answer(struct gf_agent *a, struct gf_store *s,
                              const struct gf_inbox_item *item, const struct gf_message *m,
                              const ProtobufCMessage *body)
{
	const char *role = gf_role_name(m->topic.from_role);
	char topic[TOPIC_MAX], msg[GF_MSG_MAX + 8], *json = NULL;
	size_t len = 0;
	enum gf_err rc = GF_ETOOLONG;

	if ((size_t)snprintf(msg, sizeof(msg), "%s.result", m->msg) < sizeof(msg))
		rc = gf_message_encode_on(gf_store_bus(s) ? gf_store_bus(s) : gf_agent_bus(a), role,
		                          m->from_id, msg, body, topic, sizeof(topic), &json, &len);
	if (rc == GF_OK)
		rc = gf_store_outbox_add_reply(s, topic, json, len, NULL, false, item->correlation,
		                               item->correlation_len);
	if (rc != GF_OK)
		gf_log_err("GF-MESSAGE-SEND", "cannot queue %s.result to %s.%s: %s", m->msg, role,
		           m->from_id, gf_strerror(rc));
	free(json);
	return rc;
}
