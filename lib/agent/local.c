/* SPDX-License-Identifier: MIT */
#include "agent/local.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/mailbox.h"
#include "base/clock.h"
#include "base/log.h"

#define MAX_FILTERS    32
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 5000
#define QUEUE_DEFAULT  10000

struct node {
	struct gf_mailbox_link link;
	struct gf_local_item item;
};

struct gf_local {
	MQTTAsync client;
	char name[64], uri[300];
	char *username, *password;
	int version;
	int tfd;                  /* timerfd: "reconnect due" */
	int pfd;                  /* epoll over the queue's descriptor and tfd: gf_local_fd */
	struct gf_mailbox *queue; /* paho's threads to the agent's, messages bounded */
	char *filters[MAX_FILTERS];
	size_t nfilters;
	long backoff_ms;
	double reconnect_at; /* monotonic seconds; 0: none pending */
	bool connecting;

	/* Shared with paho's threads, under mu. */
	pthread_mutex_t mu;
	size_t dropped;
	bool connected;
	size_t dropped_logged; /* agent's thread: dropped as last logged */
};

/* Makes the timerfd fire after ms milliseconds (0: at once). */
static void wake_in(struct gf_local *l, long ms)
{
	struct itimerspec its = {{0, 0}, {ms / 1000, (ms % 1000) * 1000000L}};

	if (ms <= 0)
		its.it_value.tv_nsec = 1; /* 0 would disarm it */
	(void)timerfd_settime(l->tfd, 0, &its, NULL);
}

static void node_free(struct gf_mailbox_link *link)
{
	struct node *n = GF_MAILBOX_ITEM(link, struct node, link);

	gf_local_item_clear(&n->item);
	free(n);
}

/* Queues an item (paho's thread or ours) and wakes the agent. Messages
 * beyond max_queued are dropped and counted; events always get through. */
static void push(struct gf_local *l, struct node *n)
{
	/* Down at once (publishes fail fast); up only once the agent's
	 * thread has taken the event and subscribed (gf_local_take), so
	 * nothing is published before the agent knows it is connected. */
	if (n->item.kind == GF_LOCAL_DOWN) {
		pthread_mutex_lock(&l->mu);
		l->connected = false;
		pthread_mutex_unlock(&l->mu);
	}
	if (gf_mailbox_push(l->queue, &n->link, n->item.kind == GF_LOCAL_MESSAGE) != GF_OK) {
		pthread_mutex_lock(&l->mu);
		l->dropped++;
		pthread_mutex_unlock(&l->mu);
		node_free(&n->link);
	}
}

static void push_event(struct gf_local *l, enum gf_local_kind kind, const char *why)
{
	struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return; /* the state flag is lost with it; the next event corrects it */
	n->item.kind = kind;
	if (why)
		n->item.text = strdup(why);
	push(l, n);
}

/* --- paho's callbacks: copy and hand over, nothing else -------------------- */

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	struct gf_local *l = ctx;
	struct node *n = calloc(1, sizeof(*n));
	size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	size_t plen = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;

	if (n) {
		n->item.kind = GF_LOCAL_MESSAGE;
		n->item.topic = malloc(tlen + 1);
		n->item.payload = malloc(plen + 1);
		n->item.len = plen;
		if (n->item.topic && n->item.payload) {
			memcpy(n->item.topic, topic, tlen);
			n->item.topic[tlen] = '\0';
			if (plen)
				memcpy(n->item.payload, m->payload, plen);
			((char *)n->item.payload)[plen] = '\0';
			push(l, n);
			n = NULL;
		}
	}
	if (n) {
		gf_local_item_clear(&n->item);
		free(n);
		pthread_mutex_lock(&l->mu);
		l->dropped++;
		pthread_mutex_unlock(&l->mu);
	}
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	/* Not durable on purpose (local.h): acknowledged once copied. */
	return 1;
}

static void on_lost(void *ctx, char *cause)
{
	push_event(ctx, GF_LOCAL_DOWN, cause ? cause : "connection lost");
}

static void on_connect_ok(void *ctx, MQTTAsync_successData *d)
{
	(void)d;
	push_event(ctx, GF_LOCAL_CONNECTED, NULL);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *d)
{
	char why[256];

	snprintf(why, sizeof(why), "%s (%d)", d && d->message ? d->message : "connect failed",
	         d ? d->code : 0);
	push_event(ctx, GF_LOCAL_DOWN, why);
}

static void on_connect_ok5(void *ctx, MQTTAsync_successData5 *d)
{
	(void)d;
	push_event(ctx, GF_LOCAL_CONNECTED, NULL);
}

static void on_connect_fail5(void *ctx, MQTTAsync_failureData5 *d)
{
	char why[256];

	snprintf(why, sizeof(why), "%s (reason 0x%02x)",
	         d && d->message ? d->message : "connect failed", d ? (unsigned)d->reasonCode : 0);
	push_event(ctx, GF_LOCAL_DOWN, why);
}

/* --- the agent's thread ----------------------------------------------------- */

/* The reconnect timer and the one descriptor the agent polls: an epoll set
 * of the queue's and the timer's, readable when either is. */
static enum gf_err open_fds(struct gf_local *l, char *err, size_t errlen)
{
	struct epoll_event ev = {.events = EPOLLIN};

	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0) {
		snprintf(err, errlen, "timerfd: %s", strerror(errno));
		return GF_EIO;
	}
	l->pfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->pfd < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return GF_EIO;
	}
	ev.data.fd = l->tfd;
	if (epoll_ctl(l->pfd, EPOLL_CTL_ADD, l->tfd, &ev) != 0)
		goto fail;
	ev.data.fd = gf_mailbox_fd(l->queue);
	if (epoll_ctl(l->pfd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0)
		goto fail;
	return GF_OK;
fail:
	snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
	return GF_EIO;
}

enum gf_err gf_local_open(const struct gf_local_opts *o, struct gf_local **out, char *err,
                          size_t errlen)
{
	MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
	struct gf_local *l = NULL;
	const char *host = o->host && *o->host ? o->host : "localhost";
	int port = o->port ? o->port : 1883, prc;
	enum gf_err rc = GF_EINVAL;

	if (!o->client_id || !*o->client_id) {
		snprintf(err, errlen, "a client id is required");
		goto out;
	}
	if (o->mqtt_version != 0 && o->mqtt_version != 4 && o->mqtt_version != 5) {
		snprintf(err, errlen, "MQTT version %d: only 4 (3.1.1) and 5 are spoken",
		         o->mqtt_version);
		goto out;
	}
	if (o->password && !o->username) {
		snprintf(err, errlen, "a password without a username");
		goto out;
	}
	if (port < 1 || port > 65535) {
		snprintf(err, errlen, "port %d is not 1..65535", port);
		goto out;
	}
	rc = GF_ENOMEM;
	l = calloc(1, sizeof(*l));
	if (!l)
		goto out;
	l->tfd = l->pfd = -1;
	pthread_mutex_init(&l->mu, NULL);
	l->version = o->mqtt_version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	l->backoff_ms = BACKOFF_MIN_MS;
	snprintf(l->name, sizeof(l->name), "%s", o->name ? o->name : "local broker");
	snprintf(l->uri, sizeof(l->uri), "tcp://%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
	         strchr(host, ':') ? "]" : "", port);
	if ((o->username && !(l->username = strdup(o->username))) ||
	    (o->password && !(l->password = strdup(o->password))))
		goto out;
	rc = gf_mailbox_open(o->max_queued ? o->max_queued : QUEUE_DEFAULT, &l->queue, err, errlen);
	if (rc != GF_OK)
		goto out;
	rc = open_fds(l, err, errlen);
	if (rc != GF_OK)
		goto out;
	rc = GF_EIO;
	create.MQTTVersion = l->version;
	prc = MQTTAsync_createWithOptions(&l->client, l->uri, o->client_id,
	                                  MQTTCLIENT_PERSISTENCE_NONE, NULL, &create);
	if (prc != MQTTASYNC_SUCCESS) {
		l->client = NULL;
		snprintf(err, errlen, "cannot create an MQTT client for %s: %s", l->uri,
		         MQTTAsync_strerror(prc));
		goto out;
	}
	MQTTAsync_setCallbacks(l->client, l, on_lost, on_message, NULL);
	rc = GF_OK;
out:
	if (rc != GF_OK) {
		gf_local_close(l, 0);
		return rc;
	}
	*out = l;
	return GF_OK;
}

int gf_local_fd(const struct gf_local *l)
{
	return l->pfd;
}

bool gf_local_connected(const struct gf_local *l)
{
	bool c;

	pthread_mutex_lock((pthread_mutex_t *)&l->mu);
	c = l->connected;
	pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
	return c;
}

static void subscribe_all(struct gf_local *l, size_t from)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int qos[MAX_FILTERS];
	int prc;

	if (from >= l->nfilters)
		return;
	for (size_t i = from; i < l->nfilters; i++)
		qos[i] = 1;
	prc = MQTTAsync_subscribeMany(l->client, (int)(l->nfilters - from), l->filters + from,
	                              qos + from, &ro);
	if (prc != MQTTASYNC_SUCCESS)
		gf_log_warning("GF-LOCAL-SUBSCRIBE", "%s %s: cannot subscribe: %s", l->name, l->uri,
		               MQTTAsync_strerror(prc));
}

enum gf_err gf_local_subscribe(struct gf_local *l, const char *filter)
{
	if (l->nfilters == MAX_FILTERS)
		return GF_EFULL;
	l->filters[l->nfilters] = strdup(filter);
	if (!l->filters[l->nfilters])
		return GF_ENOMEM;
	l->nfilters++;
	if (gf_local_connected(l))
		subscribe_all(l, l->nfilters - 1);
	return GF_OK;
}

static void schedule_retry(struct gf_local *l)
{
	l->reconnect_at = gf_clock_mono_s() + (double)l->backoff_ms / 1000.0;
	wake_in(l, l->backoff_ms);
	l->backoff_ms = l->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : l->backoff_ms * 2;
}

enum gf_err gf_local_connect(struct gf_local *l)
{
	MQTTAsync_connectOptions v3 = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions v5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_connectOptions *opts = l->version == MQTTVERSION_5 ? &v5 : &v3;
	int prc;

	opts->keepAliveInterval = 30;
	opts->connectTimeout = 5;
	opts->automaticReconnect = 0; /* ours, with the back-off above */
	opts->context = l;
	opts->username = l->username;
	opts->password = l->password;
	if (l->version == MQTTVERSION_5) {
		opts->cleanstart = 1;
		opts->onSuccess5 = on_connect_ok5;
		opts->onFailure5 = on_connect_fail5;
	} else {
		opts->cleansession = 1;
		opts->MQTTVersion = MQTTVERSION_3_1_1;
		opts->onSuccess = on_connect_ok;
		opts->onFailure = on_connect_fail;
	}
	l->connecting = true;
	prc = MQTTAsync_connect(l->client, opts);
	if (prc != MQTTASYNC_SUCCESS) {
		l->connecting = false;
		gf_log_warning("GF-LOCAL-DOWN", "%s %s: cannot start connecting: %s; retrying",
		               l->name, l->uri, MQTTAsync_strerror(prc));
		schedule_retry(l);
		return GF_EIO;
	}
	return GF_OK;
}

enum gf_err gf_local_publish(struct gf_local *l, const char *topic, const void *payload, size_t len,
                             int qos)
{
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int prc;

	if (qos != 0 && qos != 1)
		return GF_EINVAL;
	if (!gf_local_connected(l))
		return GF_EIO;
	m.payload = (void *)payload;
	m.payloadlen = (int)len;
	m.qos = qos;
	m.retained = 0;
	prc = MQTTAsync_sendMessage(l->client, topic, &m, &ro);
	if (prc != MQTTASYNC_SUCCESS) {
		gf_log_warning("GF-LOCAL-PUBLISH", "%s %s: cannot publish on %s: %s", l->name,
		               l->uri, topic, MQTTAsync_strerror(prc));
		return GF_EIO;
	}
	return GF_OK;
}

bool gf_local_take(struct gf_local *l, struct gf_local_item *out)
{
	uint64_t expiries;
	struct gf_mailbox_link *link;
	struct node *n;

	(void)read(l->tfd, &expiries, sizeof(expiries)); /* disarms it once expired */
	if (gf_local_dropped(l) != l->dropped_logged) {
		size_t d = gf_local_dropped(l);
		gf_log_warning("GF-LOCAL-DROPPED",
		               "%s %s: %zu message(s) dropped, the agent fell behind (%zu in all)",
		               l->name, l->uri, d - l->dropped_logged, d);
		l->dropped_logged = d;
	}
	link = gf_mailbox_pop(l->queue);
	if (link) {
		n = GF_MAILBOX_ITEM(link, struct node, link);
		if (n->item.kind == GF_LOCAL_CONNECTED) {
			pthread_mutex_lock(&l->mu);
			l->connected = true;
			pthread_mutex_unlock(&l->mu);
			l->connecting = false;
			l->backoff_ms = BACKOFF_MIN_MS;
			l->reconnect_at = 0;
			subscribe_all(l, 0);
			gf_log_notice("GF-LOCAL-CONNECTED", "%s %s: connected", l->name, l->uri);
		} else if (n->item.kind == GF_LOCAL_DOWN) {
			pthread_mutex_lock(&l->mu);
			l->connected = false;
			pthread_mutex_unlock(&l->mu);
			l->connecting = false;
			gf_log_warning("GF-LOCAL-DOWN", "%s %s: %s; retrying in %ld ms", l->name,
			               l->uri, n->item.text ? n->item.text : "down", l->backoff_ms);
			schedule_retry(l);
		}
		*out = n->item;
		free(n);
		return true;
	}
	if (l->reconnect_at > 0 && !l->connecting) {
		double left = l->reconnect_at - gf_clock_mono_s();
		if (left <= 0) {
			l->reconnect_at = 0;
			(void)gf_local_connect(l);
		} else {
			wake_in(l, (long)(left * 1000.0) + 1);
		}
	}
	return false;
}

void gf_local_item_clear(struct gf_local_item *it)
{
	if (!it)
		return;
	free(it->topic);
	free(it->payload);
	free(it->text);
	memset(it, 0, sizeof(*it));
}

size_t gf_local_dropped(const struct gf_local *l)
{
	size_t d;

	pthread_mutex_lock((pthread_mutex_t *)&l->mu);
	d = l->dropped;
	pthread_mutex_unlock((pthread_mutex_t *)&l->mu);
	return d;
}

void gf_local_close(struct gf_local *l, long timeout_ms)
{
	if (!l)
		return;
	if (l->client) {
		if (MQTTAsync_isConnected(l->client)) {
			MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
			struct timespec ts = {0, 10 * 1000000L};

			d.timeout = (int)timeout_ms;
			if (MQTTAsync_disconnect(l->client, &d) == MQTTASYNC_SUCCESS)
				for (long w = 0;
				     w < timeout_ms + 100 && MQTTAsync_isConnected(l->client);
				     w += 10)
					nanosleep(&ts, NULL);
		}
		MQTTAsync_destroy(&l->client);
	}
	gf_mailbox_close(l->queue, node_free);
	for (size_t i = 0; i < l->nfilters; i++)
		free(l->filters[i]);
	if (l->password) {
		/* Not a secret of goflex's, but a secret: wiped. */
		volatile char *p = l->password;
		while (*p)
			*p++ = 0;
	}
	free(l->password);
	free(l->username);
	if (l->pfd >= 0)
		close(l->pfd);
	if (l->tfd >= 0)
		close(l->tfd);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
