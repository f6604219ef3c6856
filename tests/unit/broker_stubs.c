/* SPDX-License-Identifier: MIT */
#include "broker_stubs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

struct stub_record stub;

void stub_reset(void)
{
	memset(&stub, 0, sizeof(stub));
}

bool stub_logged(const char *a, const char *b)
{
	for (int i = 0; i < stub.nlog; i++) {
		if (strstr(stub.log[i], a) && (!b || strstr(stub.log[i], b)))
			return true;
	}
	return false;
}

/* Formats into the static record: the plugin's ACL path must not allocate,
 * and neither may its log sink's stand-in. */
void mosquitto_log_printf(int level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	if (stub.nlog == STUB_MAX)
		stub.nlog = 0;
	va_start(ap, fmt);
	vsnprintf(stub.log[stub.nlog++], sizeof(stub.log[0]), fmt, ap);
	va_end(ap);
}

const char *mosquitto_client_id(const struct mosquitto *client)
{
	return client->id;
}

int mosquitto_client_protocol_version(const struct mosquitto *client)
{
	return client->protocol;
}

const char *mosquitto_client_username(const struct mosquitto *client)
{
	return client->username;
}

int mosquitto_client_sub_count(const struct mosquitto *client)
{
	return client->sub_count;
}

void *mosquitto_client_certificate(const struct mosquitto *client)
{
	if (!client->cert)
		return NULL;
	X509_up_ref(client->cert);
	return client->cert;
}

int mosquitto_set_username(struct mosquitto *client, const char *username)
{
	char *dup = username ? strdup(username) : NULL;

	if (username && !dup)
		return MOSQ_ERR_NOMEM;
	free(client->username);
	client->username = dup;
	return MOSQ_ERR_SUCCESS;
}

/* Content types for the message callback come from here. */
const char *stub_content_type;

const mosquitto_property *mosquitto_property_read_string(const mosquitto_property *proplist,
                                                         int identifier, char **value,
                                                         bool skip_first)
{
	(void)proplist, (void)identifier, (void)skip_first;
	if (!stub_content_type)
		return NULL;
	*value = strdup(stub_content_type);
	return (const mosquitto_property *)value;
}

void mosquitto_free(void *mem)
{
	free(mem);
}

int mosquitto_callback_register(mosquitto_plugin_id_t *identifier, int event,
                                MOSQ_FUNC_generic_callback cb_func, const void *event_data,
                                void *userdata)
{
	(void)identifier, (void)cb_func, (void)event_data;
	if (stub.ncallbacks < 16)
		stub.events[stub.ncallbacks] = event;
	stub.ncallbacks++;
	stub.cb_userdata = userdata;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_callback_unregister(mosquitto_plugin_id_t *identifier, int event,
                                  MOSQ_FUNC_generic_callback cb_func, const void *event_data)
{
	(void)identifier, (void)event, (void)cb_func, (void)event_data;
	stub.ncallbacks--;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_broker_publish_copy(const char *clientid, const char *topic, int payloadlen,
                                  const void *payload, int qos, bool retain,
                                  mosquitto_property *properties)
{
	(void)clientid, (void)qos, (void)properties;
	if (stub.npub == STUB_MAX)
		return MOSQ_ERR_NOMEM;
	snprintf(stub.pub_topic[stub.npub], sizeof(stub.pub_topic[0]), "%s", topic);
	snprintf(stub.pub_payload[stub.npub], sizeof(stub.pub_payload[0]), "%.*s", payloadlen,
	         (const char *)payload);
	stub.pub_retain[stub.npub] = retain;
	stub.npub++;
	return MOSQ_ERR_SUCCESS;
}
