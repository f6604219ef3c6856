/* SPDX-License-Identifier: MIT */
/*
 * packet.h - MQTT 5 packets, what an agent's client sends and reads
 * (OASIS MQTT Version 5.0, chapters 2 and 3).
 *
 * Encoding: each gf_mqtt_encode_* returns one whole packet in a buffer the
 * caller owns (free()), so a publish can be kept as it went out and sent
 * again with its DUP bit set (gf_mqtt_set_dup). Only what the agents use is
 * built: QoS 1 publishes, QoS 1 subscriptions, a will, the properties
 * Content Type, Correlation Data and Session Expiry Interval.
 *
 * Decoding: gf_mqtt_decode reads one packet from the front of a buffer of
 * received bytes without copying: the packet's strings and binaries point
 * into that buffer. A packet is checked against the rules of the standard
 * that a client must enforce (reserved flags, lengths that add up, property
 * identifiers valid for the packet and not repeated where the standard
 * says once, well-formed UTF-8 without U+0000 in topics and strings); a
 * broken one is refused with the reason, and the client then ends the
 * connection with 0x81 Malformed Packet or 0x82 Protocol Error.
 */
#ifndef GF_MQTT_PACKET_H
#define GF_MQTT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum gf_mqtt_type {
	GF_MQTT_CONNECT = 1,
	GF_MQTT_CONNACK = 2,
	GF_MQTT_PUBLISH = 3,
	GF_MQTT_PUBACK = 4,
	GF_MQTT_SUBSCRIBE = 8,
	GF_MQTT_SUBACK = 9,
	GF_MQTT_PINGREQ = 12,
	GF_MQTT_PINGRESP = 13,
	GF_MQTT_DISCONNECT = 14,
};

/* Reason codes the client itself uses. */
#define GF_MQTT_RC_MALFORMED      0x81
#define GF_MQTT_RC_PROTOCOL_ERROR 0x82

/* The largest packet the client accepts (Maximum Packet Size in CONNECT). */
#define GF_MQTT_PACKET_MAX (16u * 1024u * 1024u)

/* A string or binary of a decoded packet: points into the received bytes. */
struct gf_mqtt_bytes {
	const uint8_t *p;
	size_t len;
};

struct gf_mqtt_packet {
	enum gf_mqtt_type type;
	uint16_t id;    /* PUBLISH (QoS 1), PUBACK, SUBACK */
	uint8_t reason; /* CONNACK, PUBACK, DISCONNECT; 0 when absent */
	/* CONNACK */
	bool session_present;
	uint16_t receive_max;      /* 65535 when absent */
	uint32_t max_packet;       /* 0 when absent (no limit) */
	uint16_t server_keepalive; /* 0 when absent */
	bool has_server_keepalive;
	/* PUBLISH */
	uint8_t qos;
	bool retain, dup;
	struct gf_mqtt_bytes topic, payload, content_type, correlation;
	/* SUBACK: one reason code per filter */
	struct gf_mqtt_bytes codes;
	/* CONNACK, PUBACK, SUBACK, DISCONNECT: the Reason String, if any */
	struct gf_mqtt_bytes reason_string;
};

/* Reads one packet from buf. Returns the packet's length (> 0) and fills
 * *p, 0 when buf does not hold a whole packet yet, -1 when the bytes are
 * not a valid packet a broker may send a client: *why says why and *code
 * is the reason code to disconnect with. Packets larger than
 * GF_MQTT_PACKET_MAX are refused as soon as their length is read. */
long gf_mqtt_decode(const uint8_t *buf, size_t len, struct gf_mqtt_packet *p, const char **why,
                    uint8_t *code);

/* What a CONNECT carries. will_topic NULL: no will. */
struct gf_mqtt_connect {
	const char *client_id;
	const char *username, *password; /* NULL: none */
	uint16_t keepalive_s;
	bool clean_start;
	uint32_t session_expiry_s;
	const char *will_topic;
	const void *will_payload;
	size_t will_len;
	const char *will_content_type; /* NULL: none */
	bool will_retain;
	uint8_t will_qos;
};

/* One whole packet into *out (malloc'd, the caller frees) and its length
 * into *outlen. GF_EINVAL for a string longer than 65535 bytes or a
 * packet longer than the protocol allows, GF_ENOMEM. */
enum gf_err gf_mqtt_encode_connect(const struct gf_mqtt_connect *c, uint8_t **out, size_t *outlen);

/* A QoS 1 publish (qos 0: no packet id). content_type and correlation are
 * optional (NULL). */
enum gf_err gf_mqtt_encode_publish(const char *topic, const void *payload, size_t len, uint8_t qos,
                                   bool retain, uint16_t id, const char *content_type,
                                   const void *correlation, size_t correlation_len, uint8_t **out,
                                   size_t *outlen);

/* A SUBSCRIBE of n filters, each at QoS 1 with Retain Handling 1 (retained
 * messages are sent only for a subscription new to the session). */
enum gf_err gf_mqtt_encode_subscribe(uint16_t id, const char *const *filters, size_t n,
                                     uint8_t **out, size_t *outlen);

/* The short packets, into buf (at least 4 bytes); returns their length. */
size_t gf_mqtt_encode_puback(uint16_t id, uint8_t *buf);
size_t gf_mqtt_encode_pingreq(uint8_t *buf);
size_t gf_mqtt_encode_disconnect(uint8_t reason, uint8_t *buf);

/* Marks an encoded PUBLISH as sent again. */
void gf_mqtt_set_dup(uint8_t *packet);

/* A reason code's name from the standard ("Not authorized"), or
 * "unknown reason". */
const char *gf_mqtt_reason_name(uint8_t code);

#endif
