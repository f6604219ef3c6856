/* SPDX-License-Identifier: MIT */
#include "mqtt/packet.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"

/* --- reading ---------------------------------------------------------------- */

/* A cursor over one packet's bytes; a read past the end sets bad. */
struct rd {
	const uint8_t *p, *end;
	const char *why;
	uint8_t code;
};

static bool fail(struct rd *r, uint8_t code, const char *why)
{
	if (!r->why) {
		r->why = why;
		r->code = code;
	}
	r->p = r->end;
	return false;
}

static bool rd_u8(struct rd *r, uint8_t *v)
{
	if (r->end - r->p < 1)
		return fail(r, GF_MQTT_RC_MALFORMED, "the packet ends early");
	*v = *r->p++;
	return true;
}

static bool rd_u16(struct rd *r, uint16_t *v)
{
	if (r->end - r->p < 2)
		return fail(r, GF_MQTT_RC_MALFORMED, "the packet ends early");
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	return true;
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (r->end - r->p < 4)
		return fail(r, GF_MQTT_RC_MALFORMED, "the packet ends early");
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	return true;
}

/* A Variable Byte Integer (1.5.5): at most 4 bytes, and no longer than
 * needed (a trailing zero group is malformed). */
static int varint(const uint8_t *p, size_t len, uint32_t *v)
{
	uint32_t x = 0;

	for (size_t i = 0; i < 4; i++) {
		if (i == len)
			return 0;
		x |= (uint32_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (i > 0 && p[i] == 0)
				return -1;
			*v = x;
			return (int)i + 1;
		}
	}
	return -1;
}

static bool rd_varint(struct rd *r, uint32_t *v)
{
	int n = varint(r->p, (size_t)(r->end - r->p), v);

	if (n <= 0)
		return fail(r, GF_MQTT_RC_MALFORMED, "a variable byte integer is malformed");
	r->p += n;
	return true;
}

static bool rd_bin(struct rd *r, struct gf_mqtt_bytes *b)
{
	uint16_t n;

	if (!rd_u16(r, &n))
		return false;
	if (r->end - r->p < n)
		return fail(r, GF_MQTT_RC_MALFORMED, "a string or binary runs past the packet");
	b->p = r->p;
	b->len = n;
	r->p += n;
	return true;
}

/* UTF-8 as 1.5.4 wants it: well-formed (gf_utf8_seq: no overlong forms,
 * surrogates or code points past U+10FFFF) and without U+0000. */
static bool utf8_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0, k; i < n; i += k) {
		k = s[i] ? gf_utf8_seq(s + i, n - i) : 0;
		if (k == 0)
			return false;
	}
	return true;
}

static bool rd_str(struct rd *r, struct gf_mqtt_bytes *b)
{
	if (!rd_bin(r, b))
		return false;
	if (!utf8_ok(b->p, b->len))
		return fail(r, GF_MQTT_RC_MALFORMED, "a string is not well-formed UTF-8");
	return true;
}

/* --- properties (2.2.2.2) -------------------------------------------------- */

enum ptype { P_NONE, P_BYTE, P_U16, P_U32, P_VARINT, P_STR, P_BIN, P_PAIR };

/* What a broker may send a client, by identifier: the type, and the
 * packets it may come in (a bit per packet type). */
#define IN(t) (1u << (t))
static const struct {
	uint8_t type;
	uint16_t in;
} props[0x2b] = {
    [0x01] = {P_BYTE, IN(GF_MQTT_PUBLISH)},   /* Payload Format Indicator */
    [0x02] = {P_U32, IN(GF_MQTT_PUBLISH)},    /* Message Expiry Interval */
    [0x03] = {P_STR, IN(GF_MQTT_PUBLISH)},    /* Content Type */
    [0x08] = {P_STR, IN(GF_MQTT_PUBLISH)},    /* Response Topic */
    [0x09] = {P_BIN, IN(GF_MQTT_PUBLISH)},    /* Correlation Data */
    [0x0b] = {P_VARINT, IN(GF_MQTT_PUBLISH)}, /* Subscription Identifier (repeatable) */
    [0x11] = {P_U32, IN(GF_MQTT_CONNACK)},    /* Session Expiry Interval */
    [0x12] = {P_STR, IN(GF_MQTT_CONNACK)},    /* Assigned Client Identifier */
    [0x13] = {P_U16, IN(GF_MQTT_CONNACK)},    /* Server Keep Alive */
    [0x15] = {P_STR, IN(GF_MQTT_CONNACK)},    /* Authentication Method */
    [0x16] = {P_BIN, IN(GF_MQTT_CONNACK)},    /* Authentication Data */
    [0x1a] = {P_STR, IN(GF_MQTT_CONNACK)},    /* Response Information */
    [0x1c] = {P_STR, IN(GF_MQTT_CONNACK) | IN(GF_MQTT_DISCONNECT)}, /* Server Reference */
    [0x1f] = {P_STR, IN(GF_MQTT_CONNACK) | IN(GF_MQTT_PUBACK) | IN(GF_MQTT_SUBACK) |
                         IN(GF_MQTT_DISCONNECT)}, /* Reason String */
    [0x21] = {P_U16, IN(GF_MQTT_CONNACK)},        /* Receive Maximum */
    [0x22] = {P_U16, IN(GF_MQTT_CONNACK)},        /* Topic Alias Maximum */
    [0x23] = {P_U16, IN(GF_MQTT_PUBLISH)},        /* Topic Alias */
    [0x24] = {P_BYTE, IN(GF_MQTT_CONNACK)},       /* Maximum QoS */
    [0x25] = {P_BYTE, IN(GF_MQTT_CONNACK)},       /* Retain Available */
    [0x26] = {P_PAIR, IN(GF_MQTT_CONNACK) | IN(GF_MQTT_PUBLISH) | IN(GF_MQTT_PUBACK) |
                          IN(GF_MQTT_SUBACK) | IN(GF_MQTT_DISCONNECT)}, /* User Property */
    [0x27] = {P_U32, IN(GF_MQTT_CONNACK)},                              /* Maximum Packet Size */
    [0x28] = {P_BYTE, IN(GF_MQTT_CONNACK)}, /* Wildcard Subscription Available */
    [0x29] = {P_BYTE, IN(GF_MQTT_CONNACK)}, /* Subscription Identifier Available */
    [0x2a] = {P_BYTE, IN(GF_MQTT_CONNACK)}, /* Shared Subscription Available */
};

/* Reads the properties of a packet of type t into p. */
static bool rd_props(struct rd *r, enum gf_mqtt_type t, struct gf_mqtt_packet *p)
{
	uint64_t seen = 0;
	uint32_t len;
	struct rd in;

	if (!rd_varint(r, &len))
		return false;
	if ((uint32_t)(r->end - r->p) < len)
		return fail(r, GF_MQTT_RC_MALFORMED, "the properties run past the packet");
	in = (struct rd){.p = r->p, .end = r->p + len};
	r->p += len;
	while (in.p < in.end) {
		uint32_t id, v32 = 0;
		uint16_t v16 = 0;
		uint8_t v8 = 0;
		struct gf_mqtt_bytes b = {0}, b2;
		bool ok = true;

		if (!rd_varint(&in, &id))
			break;
		if (id >= sizeof(props) / sizeof(props[0]) || props[id].type == P_NONE ||
		    !(props[id].in & IN(t)))
			return fail(r, GF_MQTT_RC_PROTOCOL_ERROR,
			            "a property the packet may not carry");
		if (id != 0x26 && id != 0x0b && (seen & (UINT64_C(1) << id)))
			return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "a property given twice");
		seen |= UINT64_C(1) << id;
		switch (props[id].type) {
		case P_BYTE:
			ok = rd_u8(&in, &v8);
			break;
		case P_U16:
			ok = rd_u16(&in, &v16);
			break;
		case P_U32:
			ok = rd_u32(&in, &v32);
			break;
		case P_VARINT:
			ok = rd_varint(&in, &v32);
			break;
		case P_STR:
			ok = rd_str(&in, &b);
			break;
		case P_BIN:
			ok = rd_bin(&in, &b);
			break;
		case P_PAIR:
			ok = rd_str(&in, &b) && rd_str(&in, &b2);
			break;
		default:
			break;
		}
		if (!ok)
			break;
		switch (id) {
		case 0x03:
			p->content_type = b;
			break;
		case 0x09:
			p->correlation = b;
			break;
		case 0x13:
			p->server_keepalive = v16;
			p->has_server_keepalive = true;
			break;
		case 0x1f:
			p->reason_string = b;
			break;
		case 0x21:
			if (v16 == 0)
				return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "Receive Maximum 0");
			p->receive_max = v16;
			break;
		case 0x23:
			/* We announce no Topic Alias Maximum, so the broker may send none. */
			return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "a topic alias was not allowed");
		case 0x27:
			if (v32 == 0)
				return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "Maximum Packet Size 0");
			p->max_packet = v32;
			break;
		default:
			break;
		}
	}
	if (in.why)
		return fail(r, in.code, in.why);
	return true;
}

/* --- packets ---------------------------------------------------------------- */

static bool rd_connack(struct rd *r, uint8_t flags, struct gf_mqtt_packet *p)
{
	uint8_t ack;

	if (flags != 0)
		return fail(r, GF_MQTT_RC_MALFORMED, "CONNACK with reserved flags set");
	if (!rd_u8(r, &ack) || !rd_u8(r, &p->reason))
		return false;
	if (ack & 0xfe)
		return fail(r, GF_MQTT_RC_MALFORMED, "CONNACK with reserved acknowledge flags");
	p->session_present = ack & 1;
	if (p->session_present && p->reason != 0)
		return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "a refusing CONNACK with a session");
	return rd_props(r, GF_MQTT_CONNACK, p);
}

static bool rd_publish(struct rd *r, uint8_t flags, struct gf_mqtt_packet *p)
{
	p->dup = flags & 8;
	p->qos = (flags >> 1) & 3;
	p->retain = flags & 1;
	if (p->qos == 3)
		return fail(r, GF_MQTT_RC_MALFORMED, "PUBLISH with QoS 3");
	if (p->qos == 2)
		return fail(r, GF_MQTT_RC_PROTOCOL_ERROR,
		            "PUBLISH with QoS 2 (every subscription is QoS 1)");
	if (p->qos == 0 && p->dup)
		return fail(r, GF_MQTT_RC_MALFORMED, "PUBLISH with QoS 0 and DUP");
	if (!rd_str(r, &p->topic))
		return false;
	if (p->topic.len == 0)
		return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "PUBLISH without a topic");
	if (memchr(p->topic.p, '+', p->topic.len) || memchr(p->topic.p, '#', p->topic.len))
		return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "PUBLISH to a topic with a wildcard");
	if (p->qos > 0) {
		if (!rd_u16(r, &p->id))
			return false;
		if (p->id == 0)
			return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "PUBLISH with packet id 0");
	}
	if (!rd_props(r, GF_MQTT_PUBLISH, p))
		return false;
	p->payload.p = r->p;
	p->payload.len = (size_t)(r->end - r->p);
	r->p = r->end;
	return true;
}

/* PUBACK (3.4.2.1: without reason code and properties when they are 0 and
 * none) and DISCONNECT (3.14.2.1: without anything for 0x00). */
static bool rd_ack(struct rd *r, enum gf_mqtt_type t, uint8_t flags, struct gf_mqtt_packet *p)
{
	if (flags != 0)
		return fail(r, GF_MQTT_RC_MALFORMED, "a packet with reserved flags set");
	if (t == GF_MQTT_PUBACK) {
		if (!rd_u16(r, &p->id))
			return false;
		if (p->id == 0)
			return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "PUBACK with packet id 0");
	}
	if (r->p == r->end)
		return true;
	if (!rd_u8(r, &p->reason))
		return false;
	if (r->p == r->end)
		return true;
	return rd_props(r, t, p);
}

static bool rd_suback(struct rd *r, uint8_t flags, struct gf_mqtt_packet *p)
{
	if (flags != 0)
		return fail(r, GF_MQTT_RC_MALFORMED, "SUBACK with reserved flags set");
	if (!rd_u16(r, &p->id) || !rd_props(r, GF_MQTT_SUBACK, p))
		return false;
	if (r->p == r->end)
		return fail(r, GF_MQTT_RC_PROTOCOL_ERROR, "SUBACK without a reason code");
	p->codes.p = r->p;
	p->codes.len = (size_t)(r->end - r->p);
	r->p = r->end;
	return true;
}

long gf_mqtt_decode(const uint8_t *buf, size_t len, struct gf_mqtt_packet *p, const char **why,
                    uint8_t *code)
{
	struct gf_mqtt_packet pk = {.receive_max = 65535};
	uint32_t rem;
	struct rd r;
	int n;
	bool ok;

	if (len < 2)
		return 0;
	n = varint(buf + 1, len - 1, &rem);
	if (n == 0)
		return 0;
	if (n < 0) {
		*why = "the remaining length is malformed";
		*code = GF_MQTT_RC_MALFORMED;
		return -1;
	}
	if (rem > GF_MQTT_PACKET_MAX) {
		*why = "a packet larger than the Maximum Packet Size";
		*code = 0x95; /* Packet too large */
		return -1;
	}
	if (len - 1 - (size_t)n < rem)
		return 0;
	r = (struct rd){.p = buf + 1 + n, .end = buf + 1 + n + rem};
	pk.type = (enum gf_mqtt_type)(buf[0] >> 4);
	switch (pk.type) {
	case GF_MQTT_CONNACK:
		ok = rd_connack(&r, buf[0] & 15, &pk);
		break;
	case GF_MQTT_PUBLISH:
		ok = rd_publish(&r, buf[0] & 15, &pk);
		break;
	case GF_MQTT_PUBACK:
	case GF_MQTT_DISCONNECT:
		ok = rd_ack(&r, pk.type, buf[0] & 15, &pk);
		break;
	case GF_MQTT_SUBACK:
		ok = rd_suback(&r, buf[0] & 15, &pk);
		break;
	case GF_MQTT_PINGRESP:
		ok = (buf[0] & 15) == 0 || fail(&r, GF_MQTT_RC_MALFORMED, "PINGRESP with flags");
		break;
	default:
		ok = fail(&r, GF_MQTT_RC_PROTOCOL_ERROR,
		          "a packet type a broker does not send this client");
		break;
	}
	if (ok && r.p != r.end)
		ok = fail(&r, GF_MQTT_RC_MALFORMED, "bytes left over at the end of the packet");
	if (!ok) {
		*why = r.why;
		*code = r.code;
		return -1;
	}
	*p = pk;
	return 1 + n + (long)rem;
}

/* --- writing ---------------------------------------------------------------- */

/* A packet is built in two passes over the same code: the first (w.buf
 * NULL) only counts, the second writes into a buffer of exactly that size. */
struct wr {
	uint8_t *buf;
	size_t len;
	bool bad;
};

static void put(struct wr *w, const void *p, size_t n)
{
	if (w->buf && n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_u8(struct wr *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put_u16(struct wr *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(w, b, 2);
}

static void put_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	put(w, b, 4);
}

static size_t varint_len(uint32_t v)
{
	return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

static void put_varint(struct wr *w, uint32_t v)
{
	do {
		uint8_t b = v & 0x7f;

		v >>= 7;
		put_u8(w, (uint8_t)(b | (v ? 0x80 : 0)));
	} while (v);
}

static void put_bin(struct wr *w, const void *p, size_t n)
{
	if (n > 65535) {
		w->bad = true;
		return;
	}
	put_u16(w, (uint16_t)n);
	put(w, p, n);
}

static void put_str(struct wr *w, const char *s)
{
	put_bin(w, s, strlen(s));
}

/* The size of a property block's contents for these optional parts. */
static size_t props_len(const char *content_type, size_t correlation_len, bool expiry)
{
	return (content_type ? 3 + strlen(content_type) : 0) +
	       (correlation_len ? 3 + correlation_len : 0) + (expiry ? 5 : 0);
}

static void put_props(struct wr *w, const char *content_type, const void *correlation,
                      size_t correlation_len, bool expiry, uint32_t expiry_s)
{
	put_varint(w, (uint32_t)props_len(content_type, correlation_len, expiry));
	if (content_type) {
		put_u8(w, 0x03);
		put_str(w, content_type);
	}
	if (correlation_len) {
		put_u8(w, 0x09);
		put_bin(w, correlation, correlation_len);
	}
	if (expiry) {
		put_u8(w, 0x11);
		put_u32(w, expiry_s);
	}
}

/* Runs build twice (count, then write) around the fixed header. */
typedef void (*build_fn)(struct wr *w, const void *arg);

static enum gf_err finish(uint8_t first, build_fn build, const void *arg, uint8_t **out,
                          size_t *outlen)
{
	struct wr w = {0};
	size_t body, total;

	build(&w, arg);
	body = w.len;
	if (w.bad || body > 268435455u)
		return GF_EINVAL;
	total = 1 + varint_len((uint32_t)body) + body;
	w = (struct wr){.buf = malloc(total)};
	if (!w.buf)
		return GF_ENOMEM;
	put_u8(&w, first);
	put_varint(&w, (uint32_t)body);
	build(&w, arg);
	*out = w.buf;
	*outlen = w.len;
	return GF_OK;
}

static void build_connect(struct wr *w, const void *arg)
{
	const struct gf_mqtt_connect *c = arg;
	uint8_t flags = c->clean_start ? 0x02 : 0;

	if (c->username)
		flags |= 0x80;
	if (c->password)
		flags |= 0x40;
	if (c->will_topic)
		flags |= (uint8_t)(0x04 | (c->will_qos & 3) << 3 | (c->will_retain ? 0x20 : 0));
	put_str(w, "MQTT");
	put_u8(w, 5);
	put_u8(w, flags);
	put_u16(w, c->keepalive_s);
	/* Session Expiry Interval, and Maximum Packet Size so the broker
	 * never sends what the decoder refuses. */
	put_varint(w, (uint32_t)props_len(NULL, 0, true) + 5);
	put_u8(w, 0x11);
	put_u32(w, c->session_expiry_s);
	put_u8(w, 0x27);
	put_u32(w, GF_MQTT_PACKET_MAX);
	put_str(w, c->client_id);
	if (c->will_topic) {
		put_props(w, c->will_content_type, NULL, 0, false, 0);
		put_str(w, c->will_topic);
		put_bin(w, c->will_payload, c->will_len);
	}
	if (c->username)
		put_str(w, c->username);
	if (c->password)
		put_str(w, c->password);
}

enum gf_err gf_mqtt_encode_connect(const struct gf_mqtt_connect *c, uint8_t **out, size_t *outlen)
{
	return finish(GF_MQTT_CONNECT << 4, build_connect, c, out, outlen);
}

struct publish_args {
	const char *topic, *content_type;
	const void *payload, *correlation;
	size_t len, correlation_len;
	uint8_t qos;
	uint16_t id;
};

static void build_publish(struct wr *w, const void *arg)
{
	const struct publish_args *a = arg;

	put_str(w, a->topic);
	if (a->qos > 0)
		put_u16(w, a->id);
	put_props(w, a->content_type, a->correlation, a->correlation_len, false, 0);
	put(w, a->payload, a->len);
}

enum gf_err gf_mqtt_encode_publish(const char *topic, const void *payload, size_t len, uint8_t qos,
                                   bool retain, uint16_t id, const char *content_type,
                                   const void *correlation, size_t correlation_len, uint8_t **out,
                                   size_t *outlen)
{
	struct publish_args a = {topic, content_type,    payload, correlation,
	                         len,   correlation_len, qos,     id};

	if (qos > 1 || (qos == 1 && id == 0))
		return GF_EINVAL;
	return finish((uint8_t)(GF_MQTT_PUBLISH << 4 | qos << 1 | (retain ? 1 : 0)), build_publish,
	              &a, out, outlen);
}

struct subscribe_args {
	uint16_t id;
	const char *const *filters;
	size_t n;
};

static void build_subscribe(struct wr *w, const void *arg)
{
	const struct subscribe_args *a = arg;

	put_u16(w, a->id);
	put_varint(w, 0);
	for (size_t i = 0; i < a->n; i++) {
		put_str(w, a->filters[i]);
		/* QoS 1; Retain Handling 1: retained messages only for a
		 * subscription the session did not have yet */
		put_u8(w, 0x11);
	}
}

enum gf_err gf_mqtt_encode_subscribe(uint16_t id, const char *const *filters, size_t n,
                                     uint8_t **out, size_t *outlen)
{
	struct subscribe_args a = {id, filters, n};

	if (id == 0 || n == 0)
		return GF_EINVAL;
	return finish(GF_MQTT_SUBSCRIBE << 4 | 2, build_subscribe, &a, out, outlen);
}

size_t gf_mqtt_encode_puback(uint16_t id, uint8_t *buf)
{
	buf[0] = GF_MQTT_PUBACK << 4;
	buf[1] = 2;
	buf[2] = (uint8_t)(id >> 8);
	buf[3] = (uint8_t)id;
	return 4;
}

size_t gf_mqtt_encode_pingreq(uint8_t *buf)
{
	buf[0] = GF_MQTT_PINGREQ << 4;
	buf[1] = 0;
	return 2;
}

size_t gf_mqtt_encode_disconnect(uint8_t reason, uint8_t *buf)
{
	buf[0] = GF_MQTT_DISCONNECT << 4;
	if (reason == 0) {
		buf[1] = 0;
		return 2;
	}
	buf[1] = 1;
	buf[2] = reason;
	return 3;
}

void gf_mqtt_set_dup(uint8_t *packet)
{
	packet[0] |= 0x08;
}

const char *gf_mqtt_reason_name(uint8_t code)
{
	static const struct {
		uint8_t code;
		const char *name;
	} names[] = {
	    {0x00, "Success"},
	    {0x04, "Disconnect with Will Message"},
	    {0x10, "No matching subscribers"},
	    {0x80, "Unspecified error"},
	    {0x81, "Malformed Packet"},
	    {0x82, "Protocol Error"},
	    {0x83, "Implementation specific error"},
	    {0x84, "Unsupported Protocol Version"},
	    {0x85, "Client Identifier not valid"},
	    {0x86, "Bad User Name or Password"},
	    {0x87, "Not authorized"},
	    {0x88, "Server unavailable"},
	    {0x89, "Server busy"},
	    {0x8a, "Banned"},
	    {0x8b, "Server shutting down"},
	    {0x8c, "Bad authentication method"},
	    {0x8d, "Keep Alive timeout"},
	    {0x8e, "Session taken over"},
	    {0x8f, "Topic Filter invalid"},
	    {0x90, "Topic Name invalid"},
	    {0x91, "Packet Identifier in use"},
	    {0x93, "Receive Maximum exceeded"},
	    {0x94, "Topic Alias invalid"},
	    {0x95, "Packet too large"},
	    {0x96, "Message rate too high"},
	    {0x97, "Quota exceeded"},
	    {0x98, "Administrative action"},
	    {0x99, "Payload format invalid"},
	    {0x9a, "Retain not supported"},
	    {0x9b, "QoS not supported"},
	    {0x9c, "Use another server"},
	    {0x9d, "Server moved"},
	    {0x9e, "Shared Subscriptions not supported"},
	    {0x9f, "Connection rate exceeded"},
	    {0xa0, "Maximum connect time"},
	    {0xa1, "Subscription Identifiers not supported"},
	    {0xa2, "Wildcard Subscriptions not supported"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "unknown reason";
}
