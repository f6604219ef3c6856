/* SPDX-License-Identifier: MIT */
#include "connect.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <openssl/crypto.h>

#include "agent/credentials.h"
#include "base/log.h"

/* The lower-case name of an MQTT v5 reason code, e.g. "not authorized". */
static const char *gfctl_connect_reason_name(int reason, char *buf, size_t size);

#define CONNECT_TIMEOUT_S  10
#define DISCONNECT_WAIT_MS 1000
#define GFCTL_MAX_FILTERS  64
#define PUBLISH_MAX        268435455 /* the largest MQTT packet */

/* The one request in flight: gfctl does one thing at a time. */
enum op_state { OP_IDLE, OP_PENDING, OP_DONE };

struct gfctl_conn {
	MQTTAsync client;
	bool connected;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sigset_t stop_signals;
	/* Written by paho's threads, always under mu. */
	enum op_state op;
	bool op_ok;
	int op_reason; /* reason code of the CONNACK, SUBACK or PUBACK */
	int op_code;   /* paho's error code on failure */
	char op_msg[256];
	int sub_reasons[GFCTL_MAX_FILTERS];
	size_t sub_n;
	struct gf_mailbox *queue; /* messages, unbounded */
	bool lost;
	int lost_reason; /* reason code of a DISCONNECT from the broker, or 0 */
	char lost_msg[256];
	char tls_err[512];
};

static const char *gfctl_connect_reason_name(int reason, char *buf, size_t size)
{
	const char *name = MQTTReasonCode_toString((enum MQTTReasonCodes)reason);
	size_t i;

	if (size == 0)
		return "";
	if (!name)
		name = "unknown reason";
	for (i = 0; name[i] && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}

/* --- callbacks: paho's threads; they only record and signal --------------- */

static void set_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void op_finish(struct gfctl_conn *c, bool ok, int reason, int code, const char *msg)
{
	pthread_mutex_lock(&c->mu);
	c->op = OP_DONE;
	c->op_ok = ok;
	c->op_reason = reason;
	c->op_code = code;
	set_text(c->op_msg, sizeof(c->op_msg), msg);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void on_success(void *context, MQTTAsync_successData5 *response)
{
	op_finish(context, true, response ? (int)response->reasonCode : 0, 0, NULL);
}

static void on_failure(void *context, MQTTAsync_failureData5 *response)
{
	if (!response) {
		op_finish(context, false, 0, MQTTASYNC_FAILURE, NULL);
		return;
	}
	/* Paho 1.3 reports a refusing MQTT v5 CONNACK with reasonCode 0 and the
	 * reason code in code; its own errors are negative. */
	op_finish(context, false,
	          response->reasonCode ? (int)response->reasonCode
	                               : (response->code >= 0x80 ? response->code : 0),
	          response->code, response->message);
}

/* A SUBACK carries one reason code per filter. Paho gives a single
 * subscription's code in reasonCode (alt is then not the sub member: reading
 * it crashes) and several in alt.sub. */
static void on_sub_success(void *context, MQTTAsync_successData5 *response)
{
	struct gfctl_conn *c = context;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->sub_n; i++) {
		if (c->sub_n > 1 && response && response->alt.sub.reasonCodes &&
		    i < (size_t)response->alt.sub.reasonCodeCount)
			c->sub_reasons[i] = (int)response->alt.sub.reasonCodes[i];
		else
			c->sub_reasons[i] = response ? (int)response->reasonCode : 0;
	}
	c->op = OP_DONE;
	c->op_ok = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void on_sub_failure(void *context, MQTTAsync_failureData5 *response)
{
	struct gfctl_conn *c = context;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < c->sub_n; i++)
		c->sub_reasons[i] = response ? (int)response->reasonCode : 0;
	pthread_mutex_unlock(&c->mu);
	on_failure(context, response);
}

static void on_lost(void *context, char *cause)
{
	struct gfctl_conn *c = context;

	pthread_mutex_lock(&c->mu);
	c->lost = true;
	if (!c->lost_msg[0])
		set_text(c->lost_msg, sizeof(c->lost_msg), cause);
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	gf_mailbox_wake(c->queue);
}

/* The broker sent a DISCONNECT (MQTT v5), e.g. when a session is taken over. */
static void on_disconnected(void *context, MQTTProperties *properties, enum MQTTReasonCodes reason)
{
	struct gfctl_conn *c = context;

	(void)properties;
	pthread_mutex_lock(&c->mu);
	c->lost = true;
	c->lost_reason = (int)reason;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	gf_mailbox_wake(c->queue);
}

static char *dup_bytes(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		if (len)
			memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* Copies the message into our queue. Returning 0 makes paho offer it again
 * later, which is what we want when memory is short. */
static int on_message(void *context, char *topic, int topic_len, MQTTAsync_message *message)
{
	struct gfctl_conn *c = context;
	struct gfctl_msg *m = calloc(1, sizeof(*m));
	MQTTProperty *ct;
	size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	size_t plen = message->payloadlen > 0 ? (size_t)message->payloadlen : 0;

	if (!m)
		return 0;
	m->topic = dup_bytes(topic, tlen);
	m->payload = (unsigned char *)dup_bytes(message->payload, plen);
	m->len = plen;
	m->retained = message->retained != 0;
	m->qos = message->qos;
	ct = MQTTProperties_getProperty(&message->properties, MQTTPROPERTY_CODE_CONTENT_TYPE);
	if (ct)
		m->content_type = dup_bytes(ct->value.data.data, (size_t)ct->value.data.len);
	if (!m->topic || !m->payload || (ct && !m->content_type)) {
		gfctl_connect_msg_free(m);
		return 0;
	}
	(void)gf_mailbox_push(c->queue, &m->link, false); /* unbounded: never fails */
	MQTTAsync_freeMessage(&message);
	MQTTAsync_free(topic);
	return 1;
}

/* OpenSSL's reasons for a failed handshake, collected for the user. */
static int on_ssl_error(const char *str, size_t len, void *context)
{
	struct gfctl_conn *c = context;
	size_t used;

	pthread_mutex_lock(&c->mu);
	used = strlen(c->tls_err);
	if (used + 3 < sizeof(c->tls_err))
		snprintf(c->tls_err + used, sizeof(c->tls_err) - used, "%s%.*s", used ? "; " : "",
		         (int)(len > 0 && str[len - 1] == '\n' ? len - 1 : len), str);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* --- waiting on the main thread ------------------------------------------- */

enum wait_result { WAIT_OK, WAIT_TIMEOUT, WAIT_STOP };

static struct timespec deadline_after(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static bool op_settled(const struct gfctl_conn *c)
{
	return c->op == OP_DONE || c->lost;
}

/*
 * With mu held: waits until ready(c), deadline (NULL: none) or a stop signal.
 * SIGINT and SIGTERM are blocked in every thread, so they stay pending until
 * sigtimedwait takes them here; the wait wakes every 100 ms to look.
 */
static enum wait_result wait_for(struct gfctl_conn *c, bool (*ready)(const struct gfctl_conn *),
                                 const struct timespec *deadline)
{
	static const struct timespec zero = {0, 0};
	struct timespec now, slice;

	for (;;) {
		if (ready(c))
			return WAIT_OK;
		if (sigtimedwait(&c->stop_signals, NULL, &zero) > 0)
			return WAIT_STOP;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (deadline && !before(&now, deadline))
			return WAIT_TIMEOUT;
		slice = deadline_after(100);
		if (deadline && before(deadline, &slice))
			slice = *deadline;
		pthread_cond_timedwait(&c->cv, &c->mu, &slice);
	}
}

static void op_begin(struct gfctl_conn *c)
{
	pthread_mutex_lock(&c->mu);
	c->op = OP_PENDING;
	c->op_ok = false;
	c->op_reason = 0;
	c->op_code = 0;
	c->op_msg[0] = '\0';
	pthread_mutex_unlock(&c->mu);
}

/* Waits for the request in flight; returns with mu held. */
static enum wait_result op_wait(struct gfctl_conn *c, const struct timespec *deadline)
{
	pthread_mutex_lock(&c->mu);
	return wait_for(c, op_settled, deadline);
}

/* --- identity and credentials --------------------------------------------- */

enum gf_err gfctl_connect_resolve(const struct gfctl_conn_opts *o, char *ident, size_t ident_size,
                                  char *site, char *err, size_t errlen)
{
	char from_cert[16 + GF_ID_MAX + 2];
	struct gf_ident parsed;
	bool tls = o->cafile || o->cert || o->key;
	enum gf_err rc;

	if (o->id && gf_ident_parse(o->id, &parsed) != GF_OK) {
		snprintf(err, errlen,
		         "--id '%s' is not <role>.<id> (roles: user xems foa fman fmar "
		         "doms sp dms ext kpi ops bridge)",
		         o->id);
		return GF_EINVAL;
	}
	if (!tls) {
		if (!o->id) {
			snprintf(err, errlen,
			         "give --id <role>.<id> and a password (--password-file or "
			         "GFCTL_PASSWORD), or a certificate (--cafile, --cert, --key)");
			return GF_EINVAL;
		}
		if (strlen(o->id) >= ident_size)
			return GF_EINVAL;
		memcpy(ident, o->id, strlen(o->id) + 1);
		if (site)
			site[0] = '\0';
		return GF_OK;
	}
	if (!o->cafile || !o->cert || !o->key) {
		snprintf(err, errlen, "TLS needs all of --cafile, --cert and --key");
		return GF_EINVAL;
	}
	if (o->password_file) {
		snprintf(err, errlen,
		         "--password-file is for the password listener; over TLS the "
		         "certificate is the credential");
		return GF_EINVAL;
	}
	rc = gf_cred_cert_identity(o->cert, "--cert", from_cert, sizeof(from_cert), site, err,
	                           errlen);
	if (rc != GF_OK)
		return rc;
	if (o->id && strcmp(o->id, from_cert) != 0) {
		snprintf(err, errlen, "--id %s does not match the certificate's identity %s", o->id,
		         from_cert);
		return GF_EINVAL;
	}
	if (strlen(from_cert) >= ident_size)
		return GF_EINVAL;
	memcpy(ident, from_cert, strlen(from_cert) + 1);
	return GF_OK;
}

static enum gf_err check_readable(const char *opt, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return GF_OK;
	snprintf(err, errlen, "cannot read %s %s: %s", opt, path, strerror(errno));
	return GF_EIO;
}

/* --- the connection -------------------------------------------------------- */

static struct gfctl_conn *conn_new(void)
{
	struct gfctl_conn *c = calloc(1, sizeof(*c));
	pthread_condattr_t attr;

	char err[128];

	if (!c)
		return NULL;
	if (gf_mailbox_open(0, &c->queue, err, sizeof(err)) != GF_OK) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &attr);
	pthread_condattr_destroy(&attr);
	sigemptyset(&c->stop_signals);
	sigaddset(&c->stop_signals, SIGINT);
	sigaddset(&c->stop_signals, SIGTERM);
	/* Before paho starts its threads, so that they inherit the mask. */
	pthread_sigmask(SIG_BLOCK, &c->stop_signals, NULL);
	return c;
}

/* Why the connect failed, in one sentence. */
static enum gf_err connect_failure(struct gfctl_conn *c, const char *where, const char *ident,
                                   bool tls, char *err, size_t errlen)
{
	char name[64];

	if (c->op_reason >= 0x80) {
		snprintf(err, errlen, "connection refused by %s: 0x%02x %s (identity %s)", where,
		         (unsigned)c->op_reason,
		         gfctl_connect_reason_name(c->op_reason, name, sizeof(name)), ident);
		return GF_EDENIED;
	}
	if (c->tls_err[0]) {
		snprintf(err, errlen, "TLS failure connecting to %s: %s", where, c->tls_err);
		return GF_EIO;
	}
	snprintf(err, errlen, "cannot connect to %s: %s%s", where,
	         c->op_msg[0] ? c->op_msg : MQTTAsync_strerror(c->op_code),
	         tls ? " (no TLS listener there, or the broker refused the certificate: is it "
	               "of the site CA, and not revoked?)"
	             : " (is the broker's password listener on that port?)");
	return GF_EIO;
}

/* Where and as whom gfctl_connect_open connects. */
struct target {
	char ident[16 + GF_ID_MAX + 2], client_id[16 + GF_ID_MAX + 2 + 32];
	char password[GF_PASSWORD_MAX]; /* wiped by the caller */
	char uri[512], where[300];
	bool tls;
};

/* The identity, the credential and the addresses from the options. */
static enum gf_err target_resolve(const struct gfctl_conn_opts *o, struct target *t, char *err,
                                  size_t errlen)
{
	const char *host = o->host ? o->host : "localhost";
	int port;
	enum gf_err rc;

	t->tls = o->cafile || o->cert || o->key;
	port = o->port ? o->port : (t->tls ? 8883 : 1884);
	rc = gfctl_connect_resolve(o, t->ident, sizeof(t->ident), NULL, err, errlen);
	if (rc != GF_OK)
		return rc;
	if (t->tls) {
		if ((rc = check_readable("--cafile", o->cafile, err, errlen)) != GF_OK ||
		    (rc = check_readable("--key", o->key, err, errlen)) != GF_OK)
			return rc;
	} else if ((rc = gf_cred_password(o->password_file, "--password-file", "GFCTL_PASSWORD",
	                                  t->password, sizeof(t->password), err, errlen)) !=
	           GF_OK) {
		return rc;
	}
	snprintf(t->where, sizeof(t->where), "%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
	         strchr(host, ':') ? "]" : "", port);
	snprintf(t->uri, sizeof(t->uri), "%s://%s", t->tls ? "ssl" : "tcp", t->where);
	snprintf(t->client_id, sizeof(t->client_id), "%s@gfctl-%ld", t->ident, (long)getpid());
	return GF_OK;
}

/* Creates c's paho client for t, its callbacks set. */
static enum gf_err client_create(struct gfctl_conn *c, const struct target *t, char *err,
                                 size_t errlen)
{
	MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer5;
	int prc = MQTTAsync_createWithOptions(&c->client, t->uri, t->client_id,
	                                      MQTTCLIENT_PERSISTENCE_NONE, NULL, &create);

	if (prc != MQTTASYNC_SUCCESS) {
		c->client = NULL;
		snprintf(err, errlen, "cannot create an MQTT client for %s: %s", t->uri,
		         MQTTAsync_strerror(prc));
		return GF_EIO;
	}
	MQTTAsync_setCallbacks(c->client, c, on_lost, on_message, NULL);
	MQTTAsync_setDisconnected(c->client, c, on_disconnected);
	return GF_OK;
}

/* Sends the CONNECT (TLS with the certificate, or the password). */
static enum gf_err connect_start(struct gfctl_conn *c, const struct gfctl_conn_opts *o,
                                 struct target *t, char *err, size_t errlen)
{
	MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	int prc;

	opts.keepAliveInterval = 30;
	opts.cleanstart = 1; /* and no Session Expiry: nothing stays on the broker */
	opts.connectTimeout = CONNECT_TIMEOUT_S;
	opts.automaticReconnect = 0;
	opts.onSuccess5 = on_success;
	opts.onFailure5 = on_failure;
	opts.context = c;
	if (t->tls) {
		ssl.trustStore = o->cafile;
		ssl.keyStore = o->cert;
		ssl.privateKey = o->key;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1; /* the broker's certificate must name host */
		ssl.ssl_error_cb = on_ssl_error;
		ssl.ssl_error_context = c;
		opts.ssl = &ssl;
	} else {
		opts.username = t->ident;
		opts.password = t->password;
	}
	gf_log_info("GFCTL-CONNECT", "connecting to %s as %s (client id %s)", t->uri, t->ident,
	            t->client_id);
	op_begin(c);
	prc = MQTTAsync_connect(c->client, &opts);
	if (prc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "cannot connect to %s: %s", t->where,
		         MQTTAsync_strerror(prc));
		return GF_EIO;
	}
	return GF_OK;
}

/* Waits for the CONNACK, a stop signal or the time limit. */
static enum gf_err connect_wait(struct gfctl_conn *c, const struct target *t, char *err,
                                size_t errlen)
{
	struct timespec deadline = deadline_after((CONNECT_TIMEOUT_S + 5) * 1000L);
	enum wait_result w = op_wait(c, &deadline);
	enum gf_err rc = GF_EIO;

	if (w == WAIT_OK && c->op_ok) {
		c->connected = true;
		rc = GF_OK;
	} else if (w == WAIT_OK) {
		rc = connect_failure(c, t->where, t->ident, t->tls, err, errlen);
	} else if (w == WAIT_STOP) {
		rc = GF_ENOENT;
		snprintf(err, errlen, "interrupted while connecting to %s", t->where);
	} else {
		snprintf(err, errlen, "no answer from %s within %d s", t->where,
		         CONNECT_TIMEOUT_S + 5);
	}
	pthread_mutex_unlock(&c->mu);
	if (rc == GF_OK)
		gf_log_info("GFCTL-CONNECT", "connected to %s as %s", t->where, t->ident);
	return rc;
}

enum gf_err gfctl_connect_open(const struct gfctl_conn_opts *o, struct gfctl_conn **out, char *err,
                               size_t errlen)
{
	struct target t = {0};
	struct gfctl_conn *c = NULL;
	enum gf_err rc;

	rc = target_resolve(o, &t, err, errlen);
	if (rc != GF_OK)
		goto out;
	rc = GF_ENOMEM;
	c = conn_new();
	if (!c)
		goto out;
	rc = client_create(c, &t, err, errlen);
	if (rc == GF_OK)
		rc = connect_start(c, o, &t, err, errlen);
	if (rc == GF_OK)
		rc = connect_wait(c, &t, err, errlen);
out:
	OPENSSL_cleanse(&t, sizeof(t));
	if (rc == GF_OK)
		*out = c;
	else
		gfctl_connect_close(c);
	return rc;
}

enum gf_err gfctl_connect_subscribe(struct gfctl_conn *c, char *const *filters, size_t n, int qos,
                                    char *err, size_t errlen)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int qoss[GFCTL_MAX_FILTERS];
	char name[64];
	size_t i, used = 0;
	enum wait_result w;
	enum gf_err rc = GF_OK;
	int prc;

	if (n == 0 || n > GFCTL_MAX_FILTERS) {
		snprintf(err, errlen, "between 1 and %d filters", GFCTL_MAX_FILTERS);
		return GF_EINVAL;
	}
	for (i = 0; i < n; i++)
		qoss[i] = qos;
	op_begin(c);
	pthread_mutex_lock(&c->mu);
	c->sub_n = n;
	pthread_mutex_unlock(&c->mu);
	ro.onSuccess5 = on_sub_success;
	ro.onFailure5 = on_sub_failure;
	ro.context = c;
	prc = MQTTAsync_subscribeMany(c->client, (int)n, filters, qoss, &ro);
	if (prc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "cannot subscribe: %s", MQTTAsync_strerror(prc));
		return GF_EIO;
	}
	w = op_wait(c, NULL);
	if (w == WAIT_STOP) {
		rc = GF_ENOENT;
		snprintf(err, errlen, "interrupted while subscribing");
		goto out;
	}
	if (c->op != OP_DONE) {
		rc = GF_EIO;
		snprintf(err, errlen, "connection lost while subscribing");
		goto out;
	}
	err[0] = '\0';
	for (i = 0; i < n; i++) {
		if (c->sub_reasons[i] < 0x80)
			continue;
		rc = GF_EDENIED;
		used += (size_t)snprintf(
		    err + used, used < errlen ? errlen - used : 0,
		    "%ssubscription '%s' refused: 0x%02x %s", used ? "; " : "", filters[i],
		    (unsigned)c->sub_reasons[i],
		    gfctl_connect_reason_name(c->sub_reasons[i], name, sizeof(name)));
		if (used >= errlen)
			break;
	}
	if (rc == GF_OK && !c->op_ok) {
		rc = GF_EIO;
		snprintf(err, errlen, "subscribe failed: %s",
		         c->op_msg[0] ? c->op_msg : MQTTAsync_strerror(c->op_code));
	}
out:
	pthread_mutex_unlock(&c->mu);
	return rc;
}

enum gf_err gfctl_connect_publish(struct gfctl_conn *c, const char *topic, const void *data,
                                  size_t len, const char *content_type, int qos, bool retain,
                                  int *reason, char *err, size_t errlen)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTProperty ct;
	char name[64];
	enum wait_result w;
	enum gf_err rc = GF_EIO;
	int prc;

	if (len > PUBLISH_MAX) {
		snprintf(err, errlen, "payload of %zu bytes is larger than MQTT allows", len);
		return GF_EINVAL;
	}
	m.payload = (void *)(uintptr_t)data;
	m.payloadlen = (int)len;
	m.qos = qos;
	m.retained = retain;
	if (content_type) {
		memset(&ct, 0, sizeof(ct));
		ct.identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
		ct.value.data.data = (char *)(uintptr_t)content_type;
		ct.value.data.len = (int)strlen(content_type);
		if (MQTTProperties_add(&m.properties, &ct) != 0) {
			snprintf(err, errlen, "cannot set the Content Type");
			return GF_ENOMEM;
		}
	}
	ro.onSuccess5 = on_success;
	ro.onFailure5 = on_failure;
	ro.context = c;
	op_begin(c);
	prc = MQTTAsync_sendMessage(c->client, topic, &m, &ro);
	MQTTProperties_free(&m.properties);
	if (prc != MQTTASYNC_SUCCESS) {
		snprintf(err, errlen, "cannot publish: %s", MQTTAsync_strerror(prc));
		return GF_EIO;
	}
	w = op_wait(c, NULL);
	if (w == WAIT_STOP) {
		rc = GF_ENOENT;
		snprintf(err, errlen, "interrupted while publishing");
	} else if (c->op != OP_DONE) {
		snprintf(err, errlen, "connection lost before the broker acknowledged the message");
	} else if (c->op_reason >= 0x80) {
		rc = GF_EDENIED;
		*reason = c->op_reason;
		snprintf(err, errlen, "0x%02x %s", (unsigned)c->op_reason,
		         gfctl_connect_reason_name(c->op_reason, name, sizeof(name)));
	} else if (!c->op_ok) {
		snprintf(err, errlen, "publish failed: %s",
		         c->op_msg[0] ? c->op_msg : MQTTAsync_strerror(c->op_code));
	} else {
		rc = GF_OK;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

/* Waits for the next message into *m, the connection's end, deadline (NULL:
 * none) or a stop signal (looked at every 100 ms, as in wait_for). Lost is
 * read before the queue: what arrived before the loss is still taken. */
static enum wait_result wait_message(struct gfctl_conn *c, const struct timespec *deadline,
                                     struct gfctl_msg **m)
{
	static const struct timespec zero = {0, 0};
	struct gf_mailbox_link *l;
	struct timespec now;
	long slice;
	bool lost;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		lost = c->lost;
		pthread_mutex_unlock(&c->mu);
		l = gf_mailbox_pop(c->queue);
		if (l) {
			*m = GF_MAILBOX_ITEM(l, struct gfctl_msg, link);
			return WAIT_OK;
		}
		if (lost)
			return WAIT_OK;
		if (sigtimedwait(&c->stop_signals, NULL, &zero) > 0)
			return WAIT_STOP;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (deadline && !before(&now, deadline))
			return WAIT_TIMEOUT;
		slice = deadline ? (long)(deadline->tv_sec - now.tv_sec) * 1000L +
		                       (deadline->tv_nsec - now.tv_nsec) / 1000000L + 1
		                 : 100;
		gf_mailbox_wait(c->queue, slice < 100 ? (int)slice : 100);
	}
}

enum gf_err gfctl_connect_next(struct gfctl_conn *c, long timeout_ms, struct gfctl_msg **out,
                               bool *stopped, char *err, size_t errlen)
{
	struct timespec deadline;
	struct gfctl_msg *m = NULL;
	enum wait_result w;
	enum gf_err rc = GF_OK;
	char name[64];

	if (timeout_ms >= 0)
		deadline = deadline_after(timeout_ms);
	w = wait_message(c, timeout_ms >= 0 ? &deadline : NULL, &m);
	if (!m && w == WAIT_OK) { /* lost, and nothing left */
		rc = GF_EIO;
		pthread_mutex_lock(&c->mu);
		if (c->lost_reason >= 0x80)
			snprintf(err, errlen, "the broker closed the connection: 0x%02x %s",
			         (unsigned)c->lost_reason,
			         gfctl_connect_reason_name(c->lost_reason, name, sizeof(name)));
		else
			snprintf(err, errlen, "connection lost%s%s", c->lost_msg[0] ? ": " : "",
			         c->lost_msg);
		pthread_mutex_unlock(&c->mu);
	}
	if (rc == GF_OK) {
		*out = m;
		if (stopped)
			*stopped = !m && w == WAIT_STOP;
	}
	return rc;
}

void gfctl_connect_msg_free(struct gfctl_msg *m)
{
	if (!m)
		return;
	free(m->topic);
	free(m->payload);
	free(m->content_type);
	free(m);
}

static void msg_free_link(struct gf_mailbox_link *l)
{
	gfctl_connect_msg_free(GF_MAILBOX_ITEM(l, struct gfctl_msg, link));
}

void gfctl_connect_close(struct gfctl_conn *c)
{
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
	struct timespec deadline;
	bool lost;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	lost = c->lost;
	pthread_mutex_unlock(&c->mu);
	if (c->client && c->connected && !lost) {
		d.timeout = DISCONNECT_WAIT_MS;
		d.onSuccess5 = on_success;
		d.onFailure5 = on_failure;
		d.context = c;
		op_begin(c);
		if (MQTTAsync_disconnect(c->client, &d) == MQTTASYNC_SUCCESS) {
			deadline = deadline_after(DISCONNECT_WAIT_MS + 500);
			op_wait(c, &deadline);
			pthread_mutex_unlock(&c->mu);
		}
	}
	/* After destroy no callback runs any more: only then is c ours alone. */
	if (c->client)
		MQTTAsync_destroy(&c->client);
	gf_mailbox_close(c->queue, msg_free_link);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
