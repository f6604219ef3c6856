/* SPDX-License-Identifier: MIT */
#include "mqtt/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "base/clock.h"
#include "mqtt/link.h"

#define READ_CHUNK (64u * 1024u)

enum state { IDLE, LINKING, WAIT_CONNACK, UP };

/* A publish kept until its PUBACK, as it goes on the wire. */
struct out {
	struct out *next;
	uint8_t *pkt;
	size_t len, id_at; /* id_at: where its packet identifier is */
	uint64_t tag;
	uint16_t id; /* 0: never sent */
};

/* Bytes waiting for the socket. */
struct bytes {
	uint8_t *p;
	size_t len, cap, off; /* off: already written (out) or consumed (in) */
};

struct gf_mqtt {
	struct gf_mqtt_events ev;
	char *host, *client_id, *username, *password;
	int port;
	uint16_t keepalive_s;
	uint32_t session_expiry_s;
	bool clean_start;
	unsigned connect_timeout_s;
	size_t max_queued;
	SSL_CTX *tls;
	uint8_t *will_pkt_parts; /* the will, copied: topic\0 content_type\0 payload */
	struct gf_mqtt_will will;
	bool has_will;

	enum state state;
	struct gf_mqtt_link link;
	struct bytes in, out;
	/* The session's publishes: [sent, waiting for PUBACK][not sent]. */
	struct out *head, *tail, *unsent;
	size_t queued, inflight;
	uint16_t receive_max, next_id, sub_id;
	uint32_t max_packet; /* the broker's Maximum Packet Size; 0: none */
	double deadline;     /* LINKING, WAIT_CONNACK: give up at */
	double last_out;     /* UP: when we last sent (keep-alive) */
	double last_in;      /* UP: when the broker last sent */
	bool ping_out;       /* a PINGREQ waits for its PINGRESP */
	uint16_t server_keepalive;
};

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

enum gf_err gf_mqtt_new(const struct gf_mqtt_opts *o, const struct gf_mqtt_events *ev,
                        struct gf_mqtt **out, char *err, size_t errlen)
{
	struct gf_mqtt *m;
	bool nomem = false;
	enum gf_err rc;

	if (!o->host || !o->client_id || o->port <= 0 || o->port > 65535 ||
	    strlen(o->client_id) > 65535) {
		snprintf(err, errlen, "an MQTT client needs a host, a port and a client id");
		return GF_EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return GF_ENOMEM;
	m->ev = *ev;
	m->link.fd = -1;
	m->host = dup_or_null(o->host, &nomem);
	m->client_id = dup_or_null(o->client_id, &nomem);
	m->username = dup_or_null(o->username, &nomem);
	m->password = dup_or_null(o->password, &nomem);
	m->port = o->port;
	m->keepalive_s = o->keepalive_s ? o->keepalive_s : 30;
	m->session_expiry_s = o->session_expiry_s;
	m->clean_start = o->clean_start;
	m->connect_timeout_s = o->connect_timeout_s ? o->connect_timeout_s : 10;
	m->max_queued = o->max_queued ? o->max_queued : 100000;
	m->receive_max = 65535;
	if (nomem) {
		gf_mqtt_free(m);
		return GF_ENOMEM;
	}
	if (o->cafile) {
		rc = gf__mqtt_link_tls(o->cafile, o->cert, o->key, &m->tls, err, errlen);
		if (rc != GF_OK) {
			gf_mqtt_free(m);
			return rc;
		}
	}
	*out = m;
	return GF_OK;
}

enum gf_err gf_mqtt_set_will(struct gf_mqtt *m, const struct gf_mqtt_will *w)
{
	size_t tlen, clen;
	uint8_t *p;

	free(m->will_pkt_parts);
	m->will_pkt_parts = NULL;
	m->has_will = false;
	if (!w)
		return GF_OK;
	tlen = strlen(w->topic) + 1;
	clen = w->content_type ? strlen(w->content_type) + 1 : 0;
	p = malloc(tlen + clen + w->len + 1);
	if (!p)
		return GF_ENOMEM;
	memcpy(p, w->topic, tlen);
	if (clen)
		memcpy(p + tlen, w->content_type, clen);
	if (w->len)
		memcpy(p + tlen + clen, w->payload, w->len);
	m->will_pkt_parts = p;
	m->will = (struct gf_mqtt_will){.topic = (char *)p,
	                                .content_type = clen ? (char *)p + tlen : NULL,
	                                .payload = p + tlen + clen,
	                                .len = w->len,
	                                .retain = w->retain};
	m->has_will = true;
	return GF_OK;
}

/* --- the output queue ------------------------------------------------------ */

/* Room for n more bytes at the end of b: what was consumed is moved out of
 * the way first, then the buffer doubles as needed. */
static bool bytes_reserve(struct bytes *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *q;

	if (b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len >= n)
		return true;
	if (b->off) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= n)
			return true;
	}
	while (cap - b->len < n)
		cap *= 2;
	q = realloc(b->p, cap);
	if (!q)
		return false;
	b->p = q;
	b->cap = cap;
	return true;
}

static bool bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (!bytes_reserve(b, n))
		return false;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return true;
}

static void end_link(struct gf_mqtt *m)
{
	gf__mqtt_link_close(&m->link);
	m->in.len = m->in.off = 0;
	m->out.len = m->out.off = 0;
	m->state = IDLE;
	m->ping_out = false;
}

/* The connection ends: from LINKING or WAIT_CONNACK a failed attempt,
 * from UP a lost connection. Publishes sent stay, to go again. */
static void drop(struct gf_mqtt *m, int reason, const char *text)
{
	enum state was = m->state;

	end_link(m);
	m->unsent = m->head;
	m->inflight = 0;
	if (was == UP) {
		if (m->ev.lost)
			m->ev.lost(m->ev.arg, reason, text);
	} else if (was != IDLE && m->ev.connect_failed)
		m->ev.connect_failed(m->ev.arg, reason, text);
}

/* Ends the connection for something the broker did wrong, telling it why. */
static void refuse(struct gf_mqtt *m, uint8_t code, const char *why)
{
	uint8_t pkt[4];
	size_t n = gf_mqtt_encode_disconnect(code, pkt);
	char err[128], text[256];

	gf__mqtt_link_write(&m->link, pkt, n, err, sizeof(err));
	snprintf(text, sizeof(text),
	         "the broker sent a bad packet (%s): disconnected with 0x%02x %s", why, code,
	         gf_mqtt_reason_name(code));
	drop(m, 0, text);
}

void gf_mqtt_flush(struct gf_mqtt *m)
{
	char err[256];

	while (m->state != IDLE && m->out.off < m->out.len) {
		ssize_t n = gf__mqtt_link_write(&m->link, m->out.p + m->out.off,
		                                m->out.len - m->out.off, err, sizeof(err));
		if (n < 0) {
			drop(m, 0, err);
			return;
		}
		if (n == 0)
			break;
		m->out.off += (size_t)n;
		m->last_out = gf_clock_mono_s();
	}
	if (m->out.off == m->out.len)
		m->out.off = m->out.len = 0;
}

static bool send_bytes(struct gf_mqtt *m, const void *p, size_t n)
{
	if (!bytes_add(&m->out, p, n)) {
		drop(m, 0, "out of memory");
		return false;
	}
	return true;
}

/* A packet identifier no publish in flight has (4.6: at most
 * receive_max in flight, so one is always free). */
static uint16_t free_id(struct gf_mqtt *m)
{
	for (;;) {
		bool used = false;

		m->next_id = (uint16_t)(m->next_id + 1);
		if (m->next_id == 0 || m->next_id == m->sub_id)
			continue;
		for (struct out *o = m->head; o && o != m->unsent && !used; o = o->next)
			used = o->id == m->next_id;
		if (!used)
			return m->next_id;
	}
}

/* Takes o out of the queue and frees it. */
static void forget(struct gf_mqtt *m, struct out *o)
{
	struct out *prev = NULL;

	for (struct out *x = m->head; x != o; x = x->next)
		prev = x;
	if (prev)
		prev->next = o->next;
	else
		m->head = o->next;
	if (m->tail == o)
		m->tail = prev;
	if (m->unsent == o)
		m->unsent = o->next;
	m->queued--;
	free(o->pkt);
	free(o);
}

/* Sends waiting publishes while the broker's Receive Maximum allows. A
 * publish larger than the broker's Maximum Packet Size is not sent (the
 * broker would end the connection, and it would go again at every
 * reconnect): it is answered 0x95 Packet too large at once. */
static void send_more(struct gf_mqtt *m)
{
	while (m->state == UP && m->unsent && m->inflight < m->receive_max) {
		struct out *o = m->unsent;

		if (m->max_packet && o->len > m->max_packet) {
			uint64_t tag = o->tag;

			forget(m, o);
			if (m->ev.published)
				m->ev.published(m->ev.arg, tag, 0x95);
			continue;
		}
		if (o->id == 0) {
			o->id = free_id(m);
			o->pkt[o->id_at] = (uint8_t)(o->id >> 8);
			o->pkt[o->id_at + 1] = (uint8_t)o->id;
		}
		if (!send_bytes(m, o->pkt, o->len))
			return;
		gf_mqtt_set_dup(o->pkt); /* whatever goes again is a duplicate */
		m->unsent = o->next;
		m->inflight++;
	}
}

/* --- connecting ---------------------------------------------------------------- */

static void send_connect(struct gf_mqtt *m)
{
	struct gf_mqtt_connect c = {
	    .client_id = m->client_id,
	    .username = m->username,
	    .password = m->password,
	    .keepalive_s = m->keepalive_s,
	    .clean_start = m->clean_start,
	    .session_expiry_s = m->session_expiry_s,
	};
	uint8_t *pkt = NULL;
	size_t len = 0;

	if (m->has_will) {
		c.will_topic = m->will.topic;
		c.will_payload = m->will.payload;
		c.will_len = m->will.len;
		c.will_content_type = m->will.content_type;
		c.will_retain = m->will.retain;
		c.will_qos = 1;
	}
	if (gf_mqtt_encode_connect(&c, &pkt, &len) != GF_OK) {
		drop(m, 0, "cannot build CONNECT (a field longer than 65535 bytes, or no memory)");
		return;
	}
	m->state = WAIT_CONNACK;
	if (send_bytes(m, pkt, len))
		gf_mqtt_flush(m);
	OPENSSL_cleanse(pkt, len); /* it holds the password */
	free(pkt);
}

void gf_mqtt_connect(struct gf_mqtt *m)
{
	char err[512] = "";

	if (m->state != IDLE)
		gf_mqtt_disconnect(m, 0);
	m->state = LINKING;
	m->deadline = gf_clock_mono_s() + m->connect_timeout_s;
	if (gf__mqtt_link_open(&m->link, m->host, m->port, m->tls, err, sizeof(err)) != GF_OK)
		drop(m, 0, err);
}

/* LINKING: the TCP connect and the TLS handshake. */
static void link_step(struct gf_mqtt *m)
{
	char err[512] = "";
	enum gf_err rc = gf__mqtt_link_step(&m->link, err, sizeof(err));

	if (rc == GF_OK)
		send_connect(m);
	else if (rc != GF_EFULL)
		drop(m, 0, err);
}

/* --- packets from the broker ---------------------------------------------------- */

static void on_connack(struct gf_mqtt *m, const struct gf_mqtt_packet *p)
{
	char text[320];

	if (p->reason >= 0x80) {
		if (p->reason_string.len)
			snprintf(text, sizeof(text), "refused: 0x%02x %s (%.*s)", p->reason,
			         gf_mqtt_reason_name(p->reason), (int)p->reason_string.len,
			         (const char *)p->reason_string.p);
		else
			snprintf(text, sizeof(text), "refused: 0x%02x %s", p->reason,
			         gf_mqtt_reason_name(p->reason));
		end_link(m);
		m->unsent = m->head;
		m->inflight = 0;
		if (m->ev.connect_failed)
			m->ev.connect_failed(m->ev.arg, p->reason, text);
		return;
	}
	m->state = UP;
	m->receive_max = p->receive_max;
	m->max_packet = p->max_packet;
	m->server_keepalive = p->has_server_keepalive ? p->server_keepalive : m->keepalive_s;
	m->last_in = m->last_out = gf_clock_mono_s();
	m->unsent = m->head;
	m->inflight = 0;
	if (m->ev.connected)
		m->ev.connected(m->ev.arg, p->session_present);
	send_more(m);
}

static void on_puback(struct gf_mqtt *m, const struct gf_mqtt_packet *p)
{
	struct out *o;
	uint64_t tag;

	for (o = m->head; o && o != m->unsent; o = o->next)
		if (o->id == p->id)
			break;
	if (!o || o == m->unsent) {
		refuse(m, GF_MQTT_RC_PROTOCOL_ERROR, "PUBACK for no publish in flight");
		return;
	}
	tag = o->tag;
	forget(m, o);
	m->inflight--;
	if (m->ev.published)
		m->ev.published(m->ev.arg, tag, p->reason);
	send_more(m);
}

static void on_publish(struct gf_mqtt *m, const struct gf_mqtt_packet *p)
{
	uint8_t ack[4];

	if (!m->ev.message || !m->ev.message(m->ev.arg, p)) {
		drop(m, 0,
		     "a message could not be kept: the connection is ended without its "
		     "acknowledgement, so the broker sends it again");
		return;
	}
	if (p->qos == 1)
		send_bytes(m, ack, gf_mqtt_encode_puback(p->id, ack));
}

/* One packet; false when the connection ended. */
static bool on_packet(struct gf_mqtt *m, const struct gf_mqtt_packet *p)
{
	char text[320];

	if (m->state == WAIT_CONNACK && p->type != GF_MQTT_CONNACK) {
		refuse(m, GF_MQTT_RC_PROTOCOL_ERROR, "a packet before CONNACK");
		return false;
	}
	switch (p->type) {
	case GF_MQTT_CONNACK:
		if (m->state != WAIT_CONNACK) {
			refuse(m, GF_MQTT_RC_PROTOCOL_ERROR, "a second CONNACK");
			return false;
		}
		on_connack(m, p);
		break;
	case GF_MQTT_PUBLISH:
		on_publish(m, p);
		break;
	case GF_MQTT_PUBACK:
		on_puback(m, p);
		break;
	case GF_MQTT_SUBACK:
		if (p->id == m->sub_id && m->ev.subscribed)
			m->ev.subscribed(m->ev.arg, p->codes.p, p->codes.len);
		m->sub_id = 0;
		break;
	case GF_MQTT_PINGRESP:
		m->ping_out = false;
		break;
	case GF_MQTT_DISCONNECT:
		if (p->reason_string.len)
			snprintf(text, sizeof(text), "disconnected by the broker: 0x%02x %s (%.*s)",
			         p->reason, gf_mqtt_reason_name(p->reason),
			         (int)p->reason_string.len, (const char *)p->reason_string.p);
		else
			snprintf(text, sizeof(text), "disconnected by the broker: 0x%02x %s",
			         p->reason, gf_mqtt_reason_name(p->reason));
		drop(m, p->reason, text);
		return false;
	default:
		break;
	}
	return m->state != IDLE;
}

/* Handles every whole packet in the input buffer. */
static void parse(struct gf_mqtt *m)
{
	while (m->state == WAIT_CONNACK || m->state == UP) {
		struct gf_mqtt_packet p;
		const char *why = NULL;
		uint8_t code = 0;
		long n =
		    gf_mqtt_decode(m->in.p + m->in.off, m->in.len - m->in.off, &p, &why, &code);

		if (n == 0)
			break;
		if (n < 0) {
			refuse(m, code, why);
			return;
		}
		m->in.off += (size_t)n;
		if (!on_packet(m, &p))
			return;
	}
	if (m->in.off == m->in.len)
		m->in.off = m->in.len = 0;
}

static void read_all(struct gf_mqtt *m)
{
	char err[512] = "";

	while (m->state == WAIT_CONNACK || m->state == UP) {
		ssize_t n;

		if (!bytes_reserve(&m->in, READ_CHUNK)) {
			drop(m, 0, "out of memory");
			return;
		}
		n = gf__mqtt_link_read(&m->link, m->in.p + m->in.len, m->in.cap - m->in.len, err,
		                       sizeof(err));
		if (n < 0) {
			drop(m, 0, err);
			return;
		}
		if (n == 0)
			return;
		m->in.len += (size_t)n;
		m->last_in = gf_clock_mono_s();
		parse(m);
		if ((size_t)n < READ_CHUNK / 2 && !m->link.ssl)
			return; /* the socket is likely empty: spare a read that says so */
	}
}

void gf_mqtt_io(struct gf_mqtt *m)
{
	if (m->state == LINKING)
		link_step(m);
	if (m->state == WAIT_CONNACK || m->state == UP)
		read_all(m);
	gf_mqtt_flush(m);
}

/* --- the caller's side ---------------------------------------------------------- */

enum gf_err gf_mqtt_publish(struct gf_mqtt *m, const char *topic, const void *payload, size_t len,
                            const char *content_type, bool retain, const void *correlation,
                            size_t correlation_len, uint64_t tag)
{
	struct out *o;
	enum gf_err rc;

	if (m->queued >= m->max_queued)
		return GF_EFULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return GF_ENOMEM;
	/* Encoded with a placeholder identifier, set when it is first sent. */
	rc = gf_mqtt_encode_publish(topic, payload, len, 1, retain, 0xffff, content_type,
	                            correlation, correlation_len, &o->pkt, &o->len);
	if (rc != GF_OK) {
		free(o);
		return rc;
	}
	/* the id follows the fixed header (its length bytes end at the first
	 * without 0x80) and the topic */
	o->id_at = 1;
	while (o->pkt[o->id_at] & 0x80)
		o->id_at++;
	o->id_at += 1 + 2 + strlen(topic);
	o->tag = tag;
	if (m->tail)
		m->tail->next = o;
	else
		m->head = o;
	m->tail = o;
	if (!m->unsent)
		m->unsent = o;
	m->queued++;
	send_more(m);
	return GF_OK;
}

enum gf_err gf_mqtt_subscribe(struct gf_mqtt *m, const char *const *filters, size_t n)
{
	uint8_t *pkt = NULL;
	size_t len = 0;
	enum gf_err rc;

	if (m->state != UP)
		return GF_EIO;
	m->sub_id = free_id(m);
	rc = gf_mqtt_encode_subscribe(m->sub_id, filters, n, &pkt, &len);
	if (rc != GF_OK)
		return rc;
	if (!send_bytes(m, pkt, len))
		rc = GF_EIO;
	free(pkt);
	return rc;
}

int gf_mqtt_fd(const struct gf_mqtt *m)
{
	return m->link.fd;
}

bool gf_mqtt_want_write(const struct gf_mqtt *m)
{
	return m->link.fd >= 0 &&
	       (m->out.off < m->out.len || (m->state == LINKING && m->link.want_write) ||
	        (m->link.ssl && m->link.want_write));
}

bool gf_mqtt_connected(const struct gf_mqtt *m)
{
	return m->state == UP;
}

size_t gf_mqtt_pending(const struct gf_mqtt *m)
{
	return m->queued;
}

long gf_mqtt_next_ms(const struct gf_mqtt *m)
{
	double at, now = gf_clock_mono_s();

	switch (m->state) {
	case LINKING:
	case WAIT_CONNACK:
		at = m->deadline;
		break;
	case UP:
		if (!m->server_keepalive)
			return -1;
		/* a PINGREQ when we were quiet for the keep-alive; the broker
		 * is gone when it is quiet half as long again */
		at = m->ping_out ? m->last_in + 1.5 * m->server_keepalive
		                 : m->last_out + m->server_keepalive;
		break;
	default:
		return -1;
	}
	return at <= now ? 0 : (long)((at - now) * 1000) + 1;
}

void gf_mqtt_tick(struct gf_mqtt *m)
{
	double now = gf_clock_mono_s();
	uint8_t ping[2];

	switch (m->state) {
	case LINKING:
	case WAIT_CONNACK:
		if (now >= m->deadline)
			drop(m, 0,
			     m->state == LINKING ? "timed out connecting"
			                         : "timed out waiting for CONNACK");
		break;
	case UP:
		if (!m->server_keepalive)
			break;
		if (m->ping_out && now >= m->last_in + 1.5 * m->server_keepalive) {
			drop(m, 0, "the broker stopped answering (keep-alive)");
		} else if (!m->ping_out && now >= m->last_out + m->server_keepalive) {
			m->ping_out = true;
			if (send_bytes(m, ping, gf_mqtt_encode_pingreq(ping)))
				gf_mqtt_flush(m);
		}
		break;
	default:
		break;
	}
}

void gf_mqtt_disconnect(struct gf_mqtt *m, uint8_t reason)
{
	uint8_t pkt[4];

	if (m->state == UP) {
		gf_mqtt_flush(m);
		send_bytes(m, pkt, gf_mqtt_encode_disconnect(reason, pkt));
		gf_mqtt_flush(m);
	}
	end_link(m);
	m->unsent = m->head;
	m->inflight = 0;
}

void gf_mqtt_free(struct gf_mqtt *m)
{
	if (!m)
		return;
	end_link(m);
	while (m->head) {
		struct out *o = m->head;

		m->head = o->next;
		free(o->pkt);
		free(o);
	}
	free(m->in.p);
	free(m->out.p);
	if (m->tls)
		SSL_CTX_free(m->tls);
	free(m->will_pkt_parts);
	free(m->host);
	free(m->client_id);
	free(m->username);
	if (m->password) {
		OPENSSL_cleanse(m->password, strlen(m->password));
		free(m->password);
	}
	free(m);
}
