/* SPDX-License-Identifier: MIT */
/*
 * bus.c - the bus's connection and session (bus.h): options and identity,
 * the MQTT client (lib/mqtt) and its events, connect and subscribe, the
 * inbox's items on the agent's thread, close. Publishes are in
 * bus_publish.c, presence in bus_presence.c; bus_int.h is what they share.
 */
#include "agent/bus_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agent/credentials.h"
#include "bus/ident.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "bus/topic.h"

#define TAG_INBOX  0
#define TAG_SOCKET 1
#define TAG_TIMER  2

/* --- the client's events: on the agent's thread, inside gf_bus_take ---------- */

static void on_connected(void *arg, bool session_present)
{
	struct gf_bus *bus = arg;

	gf_inbox_push_event(bus->inbox, GF_INBOX_CONNECTED, session_present, 0, NULL);
}

static void on_connect_failed(void *arg, int reason, const char *text)
{
	struct gf_bus *bus = arg;

	gf_inbox_push_event(bus->inbox, GF_INBOX_CONNECT_FAILED, reason, 0, text);
}

static void on_lost(void *arg, int reason, const char *text)
{
	struct gf_bus *bus = arg;

	gf_inbox_push_event(bus->inbox, GF_INBOX_LOST, reason, 0, text);
}

/* Logs the message in the inbox; only then does the client acknowledge it
 * (inbox.h). false (the log could not take it) ends the connection
 * without the PUBACK, and the broker sends the message again. */
static bool on_message(void *arg, const struct gf_mqtt_packet *p)
{
	struct gf_bus *bus = arg;

	return gf_inbox_push_message(bus->inbox, (const char *)p->topic.p, p->topic.len,
	                             p->content_type.p ? (const char *)p->content_type.p : NULL,
	                             p->content_type.len, p->correlation.p, p->correlation.len,
	                             p->payload.p, p->payload.len, p->retain) == GF_OK;
}

static void on_published(void *arg, uint64_t tag, int reason)
{
	struct gf_bus *bus = arg;

	if (reason >= 0x80)
		gf_inbox_push_event(bus->inbox, GF_INBOX_PUB_FAILED, reason, tag,
		                    gf_mqtt_reason_name((uint8_t)reason));
	else
		gf_inbox_push_event(bus->inbox, GF_INBOX_PUBLISHED, 0, tag, NULL);
}

/* A SUBACK: a refused filter is an agent that silently hears nothing, so
 * each refusal is logged with its filter. */
static void on_subscribed(void *arg, const uint8_t *codes, size_t n)
{
	struct gf_bus *bus = arg;

	/* The broker now routes to this session: what a test (or an operator)
	 * waits for before publishing to a new agent. */
	gf_log_info("GF-BUS-SUBSCRIBED", "%s: %zu subscription(s) acknowledged", bus->ident,
	            bus->nfilters);
	for (size_t i = 0; i < bus->nfilters && i < n; i++)
		if (codes[i] >= 0x80)
			gf_log_err("GF-BUS-SUBSCRIBE", "%s: subscription to %s refused: 0x%02x %s",
			           bus->ident, bus->filters[i], (unsigned)codes[i],
			           gf_mqtt_reason_name(codes[i]));
}

/* --- the agent's thread ------------------------------------------------------- */

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

/* The epoll set of gf_bus_fd: the inbox's eventfd and the timer. */
static enum gf_err make_watch(struct gf_bus *bus, char *err, size_t errlen)
{
	struct epoll_event e = {.events = EPOLLIN};

	bus->epfd = epoll_create1(EPOLL_CLOEXEC);
	bus->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (bus->epfd < 0 || bus->tfd < 0)
		goto fail;
	e.data.u32 = TAG_INBOX;
	if (epoll_ctl(bus->epfd, EPOLL_CTL_ADD, gf_inbox_fd(bus->inbox), &e) != 0)
		goto fail;
	e.data.u32 = TAG_TIMER;
	if (epoll_ctl(bus->epfd, EPOLL_CTL_ADD, bus->tfd, &e) != 0)
		goto fail;
	return GF_OK;
fail:
	snprintf(err, errlen, "cannot make the bus's epoll set: %s", strerror(errno));
	return GF_EIO;
}

static enum gf_err create_client(struct gf_bus *bus, const struct gf_bus_opts *o, const char *host,
                                 int port, char *err, size_t errlen)
{
	struct gf_mqtt_opts mo = {
	    .host = host,
	    .port = port,
	    .cafile = o->cafile,
	    .cert = o->cert,
	    .key = o->key,
	    .client_id = bus->client_id,
	    .username = bus->tls ? NULL : bus->ident,
	    .password = bus->tls ? NULL : bus->password,
	    .keepalive_s = KEEPALIVE_S,
	    .session_expiry_s = bus->session_expiry_s,
	    .clean_start = false,
	    .connect_timeout_s = CONNECT_TIMEOUT_S,
	    .max_queued = o->max_buffered > 0 ? (size_t)o->max_buffered : 100000,
	};
	struct gf_mqtt_events ev = {
	    .arg = bus,
	    .connected = on_connected,
	    .connect_failed = on_connect_failed,
	    .lost = on_lost,
	    .message = on_message,
	    .published = on_published,
	    .subscribed = on_subscribed,
	};

	return gf_mqtt_new(&mo, &ev, &bus->mq, err, errlen);
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
	bus->epfd = bus->tfd = bus->watched_fd = -1;
	rc = resolve(bus, o, err, errlen);
	if (rc != GF_OK)
		goto out;
	port = o->port ? o->port : (bus->tls ? 8883 : 1884);
	snprintf(bus->where, sizeof(bus->where), "%s%s%s:%d", strchr(host, ':') ? "[" : "", host,
	         strchr(host, ':') ? "]" : "", port);
	snprintf(bus->client_id, sizeof(bus->client_id), "%s%s%s", bus->ident,
	         o->client_suffix ? "@" : "", o->client_suffix ? o->client_suffix : "");
	snprintf(bus->status_topic, sizeof(bus->status_topic), "gf/%s/%s/%s/ops/all/status",
	         bus->site, bus->role, bus->id);
	gf_time_format((int64_t)time(NULL) * 1000, bus->start_time, sizeof(bus->start_time));
	if (gethostname(bus->host, sizeof(bus->host)) != 0 || strchr(bus->host, '"'))
		snprintf(bus->host, sizeof(bus->host), "unknown");
	bus->host[sizeof(bus->host) - 1] = '\0';
	bus->session_expiry_s = o->session_expiry_s ? o->session_expiry_s : WEEK_S;
	rc = GF_ENOMEM;
	bus->version = strdup(o->version && !strchr(o->version, '"') ? o->version : "0");
	if (!bus->version)
		goto out;
	rc = gf_inbox_open(o->state_dir, &bus->inbox, &replayed, err, errlen);
	if (rc != GF_OK)
		goto out;
	if (replayed)
		gf_log_notice("GF-BUS-REPLAY",
		              "%zu message(s) received before a crash and not yet handled are "
		              "handled now",
		              replayed);
	rc = make_watch(bus, err, errlen);
	if (rc == GF_OK)
		rc = create_client(bus, o, host, port, err, errlen);
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

void gf__bus_watch(struct gf_bus *bus)
{
	int fd = gf_mqtt_fd(bus->mq);
	bool out = gf_mqtt_want_write(bus->mq);
	struct epoll_event e = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.u32 = TAG_SOCKET};

	if (fd == bus->watched_fd && out == bus->watched_out)
		return;
	/* A closed socket left the set by itself; a new one may have the
	 * same number, so it is added, not modified. */
	if (bus->watched_fd >= 0 && fd == bus->watched_fd)
		epoll_ctl(bus->epfd, EPOLL_CTL_MOD, fd, &e);
	else if (fd >= 0 && epoll_ctl(bus->epfd, EPOLL_CTL_ADD, fd, &e) != 0 && errno == EEXIST)
		epoll_ctl(bus->epfd, EPOLL_CTL_MOD, fd, &e);
	bus->watched_fd = fd;
	bus->watched_out = out;
}

/* Arms the timer at the client's next tick (a keep-alive that activity
 * has pushed later finds nothing due and arms again: one wake-up per
 * keep-alive period at most). */
static void arm_timer(struct gf_bus *bus)
{
	long ms = gf_mqtt_next_ms(bus->mq);
	struct itimerspec its = {0};

	if (ms >= 0) {
		ms = ms > 0 ? ms : 1;
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000L;
	}
	timerfd_settime(bus->tfd, 0, &its, NULL);
}

enum gf_err gf_bus_connect(struct gf_bus *bus)
{
	bus->sequence++;
	if (gf__bus_will(bus) != GF_OK) {
		gf_log_err("GF-BUS-CONNECT", "cannot set the will: out of memory");
		return GF_EIO;
	}
	gf_log_info("GF-BUS-CONNECT", "connecting to %s://%s as %s (client id %s, connection %llu)",
	            bus->tls ? "ssl" : "tcp", bus->where, bus->ident, bus->client_id,
	            (unsigned long long)bus->sequence);
	bus->connected = false;
	/* The client closes any socket it had (which leaves the epoll set by
	 * itself); the new one may get the same number and must be added. */
	bus->watched_fd = -1;
	gf_mqtt_connect(bus->mq);
	gf__bus_watch(bus);
	arm_timer(bus);
	return GF_OK;
}

bool gf_bus_connected(const struct gf_bus *bus)
{
	return bus->connected;
}

uint64_t gf_bus_sequence(const struct gf_bus *bus)
{
	return bus->sequence;
}

int gf_bus_fd(const struct gf_bus *bus)
{
	return bus->epfd;
}

/* What is ready in the epoll set: the socket's bytes (which push messages
 * and events into the inbox) and the timer. */
static void serve_io(struct gf_bus *bus)
{
	struct epoll_event ev[3];
	int n = epoll_wait(bus->epfd, ev, 3, 0);

	for (int k = 0; k < n; k++) {
		if (ev[k].data.u32 == TAG_SOCKET) {
			gf_mqtt_io(bus->mq);
		} else if (ev[k].data.u32 == TAG_TIMER) {
			uint64_t expirations;

			if (read(bus->tfd, &expirations, sizeof(expirations)) > 0) {
				gf_mqtt_tick(bus->mq);
				arm_timer(bus);
			}
		}
	}
	gf__bus_watch(bus);
}

void gf_bus_pump(struct gf_bus *bus)
{
	serve_io(bus);
}

/* Connected: subscribe (the session may already have the filters; a
 * subscription is idempotent, and retained messages are not sent again
 * for one that exists) and announce the birth. */
static void connected(struct gf_bus *bus, bool session_present)
{
	bus->connected = true;
	gf_log_info("GF-BUS-CONNECTED", "connected to %s as %s (session %s)", bus->where,
	            bus->ident, session_present ? "resumed" : "new");
	if (bus->nfilters &&
	    gf_mqtt_subscribe(bus->mq, (const char *const *)bus->filters, bus->nfilters) != GF_OK)
		gf_log_err("GF-BUS-SUBSCRIBE", "%s: cannot subscribe: the connection is gone",
		           bus->ident);
	gf__bus_birth(bus);
	arm_timer(bus);
}

struct gf_inbox_item *gf_bus_take(struct gf_bus *bus)
{
	struct gf_inbox_item *it;

	if (!bus->serving) {
		bus->serving = true;
		gf_inbox_drain(bus->inbox); /* what serve_io pushes is taken below */
		serve_io(bus);
	}
	it = gf_inbox_take(bus->inbox);
	if (!it) {
		bus->serving = false;
		/* What the handling published goes out before the store's
		 * work between bursts (deletes, a checkpoint); anything that
		 * work published goes after it. */
		gf_bus_flush(bus);
		if (bus->ack_hook) {
			bus->ack_hook(bus->ack_arg, 0, true, 0);
			gf_bus_flush(bus);
		}
		return NULL;
	}
	if (it->kind == GF_INBOX_CONNECTED)
		connected(bus, it->reason != 0);
	else if (it->kind == GF_INBOX_LOST || it->kind == GF_INBOX_CONNECT_FAILED)
		bus->connected = false;
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

/* Runs the connection alone until nothing is pending or timeout_ms passed
 * (closing: the agent's loop no longer runs). Events still go to the
 * inbox, which the close then drops. */
static void drain(struct gf_bus *bus, long timeout_ms)
{
	double end = gf_clock_mono_s() + (double)timeout_ms / 1000.0;

	while (gf_mqtt_connected(bus->mq) && gf_mqtt_pending(bus->mq) > 0) {
		struct pollfd p = {.fd = gf_mqtt_fd(bus->mq), .events = POLLIN};
		double left = (end - gf_clock_mono_s()) * 1000.0;

		if (left <= 0)
			break;
		gf_bus_flush(bus);
		if (gf_mqtt_want_write(bus->mq))
			p.events |= POLLOUT;
		if (poll(&p, 1, left > 100 ? 100 : (int)left + 1) > 0)
			gf_mqtt_io(bus->mq);
	}
}

void gf_bus_close(struct gf_bus *bus, long timeout_ms)
{
	if (!bus)
		return;
	if (bus->mq) {
		if (bus->connected) {
			gf_bus_goodbye(bus);
			drain(bus, timeout_ms);
			/* 0x00: the broker drops the will; the goodbye said it */
			gf_mqtt_disconnect(bus->mq, 0);
		}
		gf_mqtt_free(bus->mq);
	}
	gf_inbox_close(bus->inbox);
	if (bus->epfd >= 0)
		close(bus->epfd);
	if (bus->tfd >= 0)
		close(bus->tfd);
	for (size_t i = 0; i < bus->nfilters; i++)
		free(bus->filters[i]);
	OPENSSL_cleanse(bus->password, sizeof(bus->password));
	free(bus->version);
	free(bus);
}
