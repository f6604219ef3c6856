/* SPDX-License-Identifier: MIT */
/*
 * bus.c - the bus's connection and session (bus.h): options and identity,
 * the paho client and its callbacks, connect and subscribe, the inbox's
 * items on the agent's thread, the client reset, close. Publishes are in
 * bus_publish.c, presence in bus_presence.c; bus_int.h is what they share.
 */
#include "agent/bus_int.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <openssl/crypto.h>

#include "agent/credentials.h"
#include "bus/ident.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "bus/topic.h"

/* --- paho's threads: they only record and push ------------------------------ */

static void on_connect_ok(void *context, MQTTAsync_successData5 *response)
{
	struct gf_bus *bus = context;

	gf_inbox_push_event(bus->inbox, GF_INBOX_CONNECTED,
	                    response ? response->alt.connect.sessionPresent : 0, 0, NULL);
}

static void on_connect_fail(void *context, MQTTAsync_failureData5 *response)
{
	struct gf_bus *bus = context;
	char text[256];
	int reason = 0;

	/* Paho 1.3 reports a refusing v5 CONNACK with reasonCode 0 and the
	 * reason code in code; its own errors are negative. */
	if (response)
		reason = response->reasonCode ? (int)response->reasonCode
		                              : (response->code >= 0x80 ? response->code : 0);
	pthread_mutex_lock(&bus->mu);
	if (reason >= 0x80)
		snprintf(text, sizeof(text), "refused: 0x%02x %s", (unsigned)reason,
		         MQTTReasonCode_toString((enum MQTTReasonCodes)reason));
	else if (bus->tls_err[0])
		snprintf(text, sizeof(text), "TLS: %.240s", bus->tls_err);
	else if (response && response->message)
		snprintf(text, sizeof(text), "%s", response->message);
	else
		snprintf(text, sizeof(text), "%s",
		         MQTTAsync_strerror(response ? response->code : MQTTASYNC_FAILURE));
	bus->tls_err[0] = '\0';
	pthread_mutex_unlock(&bus->mu);
	gf_inbox_push_event(bus->inbox, GF_INBOX_CONNECT_FAILED, reason, 0, text);
}

static void on_lost(void *context, char *cause)
{
	struct gf_bus *bus = context;

	gf_inbox_push_event(bus->inbox, GF_INBOX_LOST, 0, 0, cause ? cause : "connection lost");
}

/* The broker sent a DISCONNECT, e.g. a session takeover. */
static void on_disconnected(void *context, MQTTProperties *properties, enum MQTTReasonCodes reason)
{
	struct gf_bus *bus = context;
	char text[128];

	(void)properties;
	snprintf(text, sizeof(text), "disconnected by the broker: 0x%02x %s", (unsigned)reason,
	         MQTTReasonCode_toString(reason));
	gf_inbox_push_event(bus->inbox, GF_INBOX_LOST, (int)reason, 0, text);
}

/* Logs the message in the inbox before paho acknowledges it (inbox.h).
 * Returning 0 leaves it with paho, which offers it again later. */
static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *m)
{
	struct gf_bus *bus = context;
	MQTTProperty *ct, *corr;
	size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);

	ct = MQTTProperties_getProperty(&m->properties, MQTTPROPERTY_CODE_CONTENT_TYPE);
	corr = MQTTProperties_getProperty(&m->properties, MQTTPROPERTY_CODE_CORRELATION_DATA);
	if (gf_inbox_push_message(
	        bus->inbox, topic, tlen, ct ? ct->value.data.data : NULL,
	        ct ? (size_t)ct->value.data.len : 0, corr ? corr->value.data.data : NULL,
	        corr ? (size_t)corr->value.data.len : 0, m->payload,
	        m->payloadlen > 0 ? (size_t)m->payloadlen : 0, m->retained != 0) != GF_OK)
		return 0;
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static int on_ssl_error(const char *str, size_t len, void *context)
{
	struct gf_bus *bus = context;
	size_t used;

	pthread_mutex_lock(&bus->mu);
	used = strlen(bus->tls_err);
	if (used + 3 < sizeof(bus->tls_err))
		snprintf(bus->tls_err + used, sizeof(bus->tls_err) - used, "%s%.*s",
		         used ? "; " : "", (int)(len > 0 && str[len - 1] == '\n' ? len - 1 : len),
		         str);
	pthread_mutex_unlock(&bus->mu);
	return 0;
}

/* A SUBACK: a refused filter is an agent that silently hears nothing, so
 * each refusal is logged with its filter. Paho gives one filter's code in
 * reasonCode and several in alt.sub. */
static void on_sub_ok(void *context, MQTTAsync_successData5 *response)
{
	struct gf_bus *bus = context;

	if (!response)
		return;
	/* The broker now routes to this session: what a test (or an operator)
	 * waits for before publishing to a new agent. */
	gf_log_info("GF-BUS-SUBSCRIBED", "%s: %zu subscription(s) acknowledged", bus->ident,
	            bus->nfilters);
	for (size_t i = 0; i < bus->nfilters; i++) {
		int code = bus->nfilters > 1 && response->alt.sub.reasonCodes &&
		                   i < (size_t)response->alt.sub.reasonCodeCount
		               ? (int)response->alt.sub.reasonCodes[i]
		               : (int)response->reasonCode;
		if (code >= 0x80)
			gf_log_err("GF-BUS-SUBSCRIBE", "%s: subscription to %s refused: 0x%02x %s",
			           bus->ident, bus->filters[i], (unsigned)code,
			           MQTTReasonCode_toString((enum MQTTReasonCodes)code));
	}
}

/* Paho reports a SUBACK whose only code is a refusal as a failure, with the
 * code in reasonCode (or, in 1.3, in code). */
static void on_sub_fail(void *context, MQTTAsync_failureData5 *response)
{
	struct gf_bus *bus = context;
	int code = response ? (response->reasonCode ? (int)response->reasonCode
	                                            : (response->code >= 0x80 ? response->code : 0))
	                    : 0;

	for (size_t i = 0; code >= 0x80 && i < bus->nfilters; i++)
		gf_log_err("GF-BUS-SUBSCRIBE", "%s: subscription to %s refused: 0x%02x %s",
		           bus->ident, bus->filters[i], (unsigned)code,
		           MQTTReasonCode_toString((enum MQTTReasonCodes)code));
	if (code < 0x80)
		gf_log_err("GF-BUS-SUBSCRIBE", "%s: the subscription failed: %s", bus->ident,
		           response && response->message ? response->message : "no SUBACK");
}

/* --- the agent's thread ------------------------------------------------------- */

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

static enum gf_err resolve(struct gf_bus *bus, const struct gf_bus_opts *o, char *err,
                           size_t errlen)
{
	char cert_site[GF_SITE_MAX + 2] = "";
	struct gf_ident parsed;
	enum gf_err rc;

	if (!o->site || !o->site[0] || strlen(o->site) > GF_SITE_MAX) {
		snprintf(err, errlen, "site is required");
		return GF_EINVAL;
	}
	bus->tls = o->cafile || o->cert || o->key;
	if (bus->tls) {
		if (!o->cafile || !o->cert || !o->key) {
			snprintf(err, errlen, "TLS needs all of cafile, cert and key");
			return GF_EINVAL;
		}
		rc = gf_cred_cert_identity(o->cert, "cert", bus->ident, sizeof(bus->ident),
		                           cert_site, err, errlen);
		if (rc != GF_OK)
			return rc;
		if (strcmp(cert_site, o->site) != 0) {
			snprintf(err, errlen, "the certificate %s is of site %s, not %s", o->cert,
			         cert_site, o->site);
			return GF_EINVAL;
		}
		if (o->ident && strcmp(o->ident, bus->ident) != 0) {
			snprintf(err, errlen, "identity %s does not match the certificate's %s",
			         o->ident, bus->ident);
			return GF_EINVAL;
		}
	} else {
		if (!o->ident || strlen(o->ident) >= sizeof(bus->ident)) {
			snprintf(err, errlen,
			         "give an identity <role>.<id> with a password, or a "
			         "certificate (cafile, cert, key)");
			return GF_EINVAL;
		}
		memcpy(bus->ident, o->ident, strlen(o->ident) + 1);
		rc = gf_cred_password(o->password_file, "password_file", "GF_PASSWORD",
		                      bus->password, sizeof(bus->password), err, errlen);
		if (rc != GF_OK)
			return rc;
	}
	if (gf_ident_parse(bus->ident, &parsed) != GF_OK) {
		snprintf(err, errlen, "'%s' is not <role>.<id>", bus->ident);
		return GF_EINVAL;
	}
	snprintf(bus->role, sizeof(bus->role), "%s", gf_role_name(parsed.role));
	snprintf(bus->id, sizeof(bus->id), "%.*s", (int)parsed.id.len, parsed.id.p);
	snprintf(bus->site, sizeof(bus->site), "%s", o->site);
	return GF_OK;
}

static enum gf_err create_client(struct gf_bus *bus, char *err, size_t errlen)
{
	MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer5;
	int prc;

	create.sendWhileDisconnected = 1;
	create.maxBufferedMessages = bus->max_buffered > 0 ? bus->max_buffered : 100000;
	create.persistQoS0 = 0;
	create.restoreMessages = 1;
	prc = MQTTAsync_createWithOptions(&bus->client, bus->uri, bus->client_id,
	                                  bus->paho_files ? MQTTCLIENT_PERSISTENCE_DEFAULT
	                                                  : MQTTCLIENT_PERSISTENCE_NONE,
	                                  bus->paho_files ? bus->state_dir : NULL, &create);
	if (prc != MQTTASYNC_SUCCESS) {
		bus->client = NULL;
		snprintf(err, errlen, "cannot create an MQTT client for %s: %s", bus->uri,
		         MQTTAsync_strerror(prc));
		return GF_EIO;
	}
	MQTTAsync_setCallbacks(bus->client, bus, on_lost, on_message, NULL);
	MQTTAsync_setDisconnected(bus->client, bus, on_disconnected);
	return GF_OK;
}

enum gf_err gf_bus_open(const struct gf_bus_opts *o, struct gf_bus **out, char *err, size_t errlen)
{
	struct gf_bus *bus = calloc(1, sizeof(*bus));
	const char *host = o->host ? o->host : "localhost";
	size_t replayed = 0;
	enum gf_err rc = GF_ENOMEM;
	int port;

	if (!bus)
		goto out;
	pthread_mutex_init(&bus->mu, NULL);
	rc = resolve(bus, o, err, errlen);
	if (rc != GF_OK)
		goto out;
	port = o->port ? o->port : (bus->tls ? 8883 : 1884);
	snprintf(bus->where, sizeof(bus->where), "%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
	         strchr(host, ':') ? "]" : "", port);
	snprintf(bus->uri, sizeof(bus->uri), "%s://%s", bus->tls ? "ssl" : "tcp", bus->where);
	snprintf(bus->client_id, sizeof(bus->client_id), "%s%s%s", bus->ident,
	         o->client_suffix ? "@" : "", o->client_suffix ? o->client_suffix : "");
	snprintf(bus->status_topic, sizeof(bus->status_topic), "gf/%s/%s/%s/ops/all/status",
	         bus->site, bus->role, bus->id);
	gf_time_format((int64_t)time(NULL) * 1000, bus->start_time, sizeof(bus->start_time));
	if (gethostname(bus->host, sizeof(bus->host)) != 0 || strchr(bus->host, '"'))
		snprintf(bus->host, sizeof(bus->host), "unknown");
	bus->host[sizeof(bus->host) - 1] = '\0';
	rc = GF_ENOMEM;
	bus->version = strdup(o->version && !strchr(o->version, '"') ? o->version : "0");
	bus->cafile = dup_opt(o->cafile);
	bus->cert = dup_opt(o->cert);
	bus->key = dup_opt(o->key);
	bus->state_dir = dup_opt(o->state_dir);
	bus->max_buffered = o->max_buffered;
	bus->paho_files = o->state_dir && !o->outbox_only;
	if (!bus->version || (bus->tls && (!bus->cafile || !bus->cert || !bus->key)) ||
	    (o->state_dir && !bus->state_dir))
		goto out;
	rc = gf_inbox_open(o->state_dir, &bus->inbox, &replayed, err, errlen);
	if (rc != GF_OK)
		goto out;
	if (replayed)
		gf_log_notice("GF-BUS-REPLAY",
		              "%zu message(s) received before a crash and not yet handled are "
		              "handled now",
		              replayed);
	rc = create_client(bus, err, errlen);
	bus->session_expiry_s = o->session_expiry_s ? o->session_expiry_s : WEEK_S;
out:
	if (rc != GF_OK) {
		gf_bus_close(bus, 0);
		return rc;
	}
	bus->sequence = 0;
	*out = bus;
	return GF_OK;
}

const char *gf_bus_ident(const struct gf_bus *bus)
{
	return bus->ident;
}

const char *gf_bus_site(const struct gf_bus *bus)
{
	return bus->site;
}

const char *gf_bus_role(const struct gf_bus *bus)
{
	return bus->role;
}

const char *gf_bus_id(const struct gf_bus *bus)
{
	return bus->id;
}

enum gf_err gf_bus_topic(const struct gf_bus *bus, char *buf, size_t size, const char *to_role,
                         const char *to_id, const char *msg)
{
	enum gf_role to = gf_role_parse(to_role, strlen(to_role));
	struct gf_ident from;

	if (gf_ident_parse(bus->ident, &from) != GF_OK || to == GF_ROLE_NONE)
		return GF_EINVAL;
	return gf_topic_build(buf, size, bus->site, &from, to, to_id, msg);
}

enum gf_err gf_bus_subscribe(struct gf_bus *bus, const char *filter)
{
	if (bus->nfilters == MAX_FILTERS)
		return GF_EFULL;
	bus->filters[bus->nfilters] = strdup(filter);
	if (!bus->filters[bus->nfilters])
		return GF_ENOMEM;
	bus->nfilters++;
	return GF_OK;
}

/* The old client after a reset: it only gets messages if it connects,
 * which it never does again. */
static int on_message_abandoned(void *context, char *topic, int topic_len, MQTTAsync_message *m)
{
	(void)context;
	(void)topic_len;
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

/* Removes the files of paho's persistence directory for this client
 * (state_dir/<client id>-<host>-<port>, paho's naming). */
static void clear_persistence(const struct gf_bus *bus)
{
	char dir[1024];
	struct dirent *e;
	DIR *d;
	int n = snprintf(dir, sizeof(dir), "%s/%s-%s", bus->state_dir, bus->client_id, bus->where);

	if (n < 0 || (size_t)n >= sizeof(dir))
		return;
	for (char *c = dir + strlen(bus->state_dir) + 1; *c; c++)
		if (*c == ':')
			*c = '-';
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && unlinkat(dirfd(d), e->d_name, 0) != 0)
			gf_log_warning("GF-BUS-RESET", "cannot remove %s/%s: %s", dir, e->d_name,
			               strerror(errno));
	closedir(d);
}

/*
 * Paho 1.3.12 can corrupt a publish it holds when a TLS connection breaks
 * while it is writing it (eclipse-paho/paho.mqtt.c issues 1310 and 1592: the
 * payload's memory is freed and used again). It sends the corrupted copy
 * again at every reconnect, the broker drops the connection for it
 * (GF-PAYLOAD-INVALID, "malformed packet"), and the agent never gets
 * through again: broker_kill_test saw FMAN, and later FMAR, locked out for
 * the rest of the day. (The publish whose write failed is reported failed
 * to us, so it is not among our publishes in flight, and the broker may
 * well deliver queued messages on each of these connections before paho
 * resends the corrupt one: neither is a sign the connection works.) After
 * SHORT_CONNECTIONS short connections in a row, or at once when the
 * broker says the packet was malformed (nothing we build is), the client is
 * replaced by a new one over emptied persistence. The old one is abandoned,
 * not destroyed (destroying would free the corrupted publish's memory a
 * second time); it never connects again, so none of its callbacks come.
 * Its publishes in flight fail now: the store hands its own over again
 * from the outbox, the resends send theirs again; the rest are lost, and
 * counted in the log.
 */
static void reset_client(struct gf_bus *bus, const char *why)
{
	MQTTAsync old = bus->client;
	size_t again = 0, lost = 0;
	char err[256];

	if (bus->paho_files)
		clear_persistence(bus);
	if (create_client(bus, err, sizeof(err)) != GF_OK) {
		bus->client = old;
		gf_log_err("GF-BUS-RESET", "%s: cannot replace the MQTT client: %s", bus->ident,
		           err);
		return;
	}
	MQTTAsync_setCallbacks(old, NULL, NULL, on_message_abandoned, NULL);
	MQTTAsync_setDisconnected(old, NULL, NULL);
	gf__bus_pubs_abandon(bus, &again, &lost);
	bus->resets++;
	gf_log_warning("GF-BUS-RESET",
	               "%s: %s (a publish paho holds is likely corrupt, paho.mqtt.c issue 1310): "
	               "the MQTT client was replaced with empty persistence; %zu publish(es) in "
	               "flight failed and go out again from the outbox, %zu untracked one(s) "
	               "dropped",
	               bus->ident, why, again, lost);
}

/* The end of a connection (reason: the broker's DISCONNECT reason code, 0
 * if it sent none): counts it if short, or asks for the reset at once when
 * the broker found a packet malformed (reset_client). */
static void connection_ended(struct gf_bus *bus, int reason)
{
	struct timespec now;
	double lived;

	clock_gettime(CLOCK_MONOTONIC, &now);
	lived = (double)(now.tv_sec - bus->attempt_at.tv_sec) +
	        (double)(now.tv_nsec - bus->attempt_at.tv_nsec) / 1e9;
	if (reason == MQTTREASONCODE_MALFORMED_PACKET) {
		snprintf(bus->reset_why, sizeof(bus->reset_why),
		         "the broker ended the connection for a malformed packet");
		bus->reset_due = true;
		return;
	}
	if (!bus->attempt_ok && lived < SHORT_CONNECTION_S && gf_bus_pending(bus) > 0)
		bus->short_count++;
	else
		bus->short_count = 0;
	if (bus->short_count >= SHORT_CONNECTIONS) {
		snprintf(bus->reset_why, sizeof(bus->reset_why),
		         "%u connections in a row ended within %d s with nothing acknowledged",
		         bus->short_count, SHORT_CONNECTION_S);
		bus->reset_due = true;
	}
}

enum gf_err gf_bus_connect(struct gf_bus *bus)
{
	MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	MQTTProperties will_props = MQTTProperties_initializer;
	MQTTProperty p;
	int prc;

	pthread_mutex_lock(&bus->mu);
	if (bus->write_failed && !bus->reset_due) {
		snprintf(bus->reset_why, sizeof(bus->reset_why),
		         "paho failed to write a publish, and keeps it to resend");
		bus->reset_due = true;
	}
	bus->write_failed = false;
	pthread_mutex_unlock(&bus->mu);
	if (bus->reset_due) {
		reset_client(bus, bus->reset_why);
		bus->reset_due = false;
		bus->short_count = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &bus->attempt_at);
	bus->attempt_ok = false;
	bus->sequence++;
	gf__bus_will(bus, &will, &will_props);
	p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
	p.value.integer4 = bus->session_expiry_s;
	MQTTProperties_add(&props, &p);

	opts.keepAliveInterval = 30;
	opts.cleanstart = 0;
	opts.connectTimeout = CONNECT_TIMEOUT_S;
	opts.automaticReconnect = 0; /* ours: each connection gets its own will */
	opts.onSuccess5 = on_connect_ok;
	opts.onFailure5 = on_connect_fail;
	opts.context = bus;
	opts.will = &will;
	opts.willProperties = &will_props;
	opts.connectProperties = &props;
	if (bus->tls) {
		ssl.trustStore = bus->cafile;
		ssl.keyStore = bus->cert;
		ssl.privateKey = bus->key;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		ssl.ssl_error_cb = on_ssl_error;
		ssl.ssl_error_context = bus;
		opts.ssl = &ssl;
	} else {
		opts.username = bus->ident;
		opts.password = bus->password;
	}
	gf_log_info("GF-BUS-CONNECT", "connecting to %s as %s (client id %s, connection %llu)",
	            bus->uri, bus->ident, bus->client_id, (unsigned long long)bus->sequence);
	prc = MQTTAsync_connect(bus->client, &opts);
	MQTTProperties_free(&props);
	MQTTProperties_free(&will_props);
	if (prc != MQTTASYNC_SUCCESS) {
		gf_log_err("GF-BUS-CONNECT", "cannot start connecting to %s: %s", bus->where,
		           MQTTAsync_strerror(prc));
		return GF_EIO;
	}
	return GF_OK;
}

bool gf_bus_connected(const struct gf_bus *bus)
{
	return bus->connected;
}

int gf_bus_fd(const struct gf_bus *bus)
{
	return gf_inbox_fd(bus->inbox);
}

/* Connected: subscribe (the session may already have the filters; a
 * subscription is idempotent, and retained messages are not sent again
 * for one that exists) and announce the birth. */
static void on_connected(struct gf_bus *bus, bool session_present)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTSubscribe_options sub[MAX_FILTERS];
	int qos[MAX_FILTERS];
	int prc;

	bus->connected = true;
	gf_log_info("GF-BUS-CONNECTED", "connected to %s as %s (session %s)", bus->where,
	            bus->ident, session_present ? "resumed" : "new");
	if (bus->nfilters) {
		for (size_t i = 0; i < bus->nfilters; i++) {
			MQTTSubscribe_options init = MQTTSubscribe_options_initializer;
			sub[i] = init;
			sub[i].retainHandling = 1;
			qos[i] = 1;
		}
		ro.subscribeOptionsList = sub;
		ro.subscribeOptionsCount = (int)bus->nfilters;
		ro.onSuccess5 = on_sub_ok;
		ro.onFailure5 = on_sub_fail;
		ro.context = bus;
		prc = MQTTAsync_subscribeMany(bus->client, (int)bus->nfilters, bus->filters, qos,
		                              &ro);
		if (prc != MQTTASYNC_SUCCESS)
			gf_log_err("GF-BUS-SUBSCRIBE", "cannot subscribe: %s",
			           MQTTAsync_strerror(prc));
	}
	gf__bus_birth(bus);
}

struct gf_inbox_item *gf_bus_take(struct gf_bus *bus)
{
	struct gf_inbox_item *it = gf_inbox_take(bus->inbox);

	if (!it) {
		if (bus->ack_hook)
			bus->ack_hook(bus->ack_arg, 0, true, 0);
		return NULL;
	}
	if (it->kind == GF_INBOX_CONNECTED)
		on_connected(bus, it->reason != 0);
	else if (it->kind == GF_INBOX_LOST) {
		bus->connected = false;
		connection_ended(bus, it->reason);
	} else if (it->kind == GF_INBOX_PUBLISHED) {
		/* Only an acknowledgement says our publishes get through:
		 * messages come in on a connection paho breaks at each resend. */
		bus->attempt_ok = true;
	}
	if ((it->kind == GF_INBOX_PUBLISHED || it->kind == GF_INBOX_PUB_FAILED) &&
	    (it->tag & GF_BUS_TAG_HOOK) && bus->ack_hook)
		bus->ack_hook(bus->ack_arg, it->tag, it->kind == GF_INBOX_PUBLISHED, it->reason);
	return it;
}

void gf_bus_set_ack_hook(struct gf_bus *bus, gf_bus_ack_hook fn, void *arg)
{
	bus->ack_hook = fn;
	bus->ack_arg = arg;
}

void gf_bus_done(struct gf_bus *bus, struct gf_inbox_item *item)
{
	gf_inbox_done(bus->inbox, item);
}

void gf_bus_release(struct gf_bus *bus, struct gf_inbox_item *item)
{
	gf_inbox_release(bus->inbox, item);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

void gf_bus_close(struct gf_bus *bus, long timeout_ms)
{
	long waited = 0;

	if (!bus)
		return;
	if (bus->client) {
		if (bus->connected) {
			gf_bus_goodbye(bus);
			for (; gf_bus_pending(bus) > 0 && waited < timeout_ms; waited += 2)
				sleep_ms(2);
			MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
			d.timeout = 1000;
			MQTTAsync_disconnect(bus->client, &d);
			for (int i = 0; i < 1000 && MQTTAsync_isConnected(bus->client); i++)
				sleep_ms(1);
		}
		MQTTAsync_destroy(&bus->client);
	}
	gf__bus_pubs_free(bus);
	gf_inbox_close(bus->inbox);
	for (size_t i = 0; i < bus->nfilters; i++)
		free(bus->filters[i]);
	OPENSSL_cleanse(bus->password, sizeof(bus->password));
	free(bus->cafile);
	free(bus->cert);
	free(bus->key);
	free(bus->version);
	free(bus->state_dir);
	pthread_mutex_destroy(&bus->mu);
	free(bus);
}
