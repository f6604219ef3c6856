/* SPDX-License-Identifier: MIT */
/*
 * lib/mqtt/packet: the packets a broker sends, written out byte by byte
 * from the standard's figures, decoded; each rule a client must enforce
 * broken once; every prefix of a packet is "not yet whole"; what the
 * client encodes, read back field by field.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "mqtt/packet.h"
#include "leak_check.h"

TestSuite(mqtt_packet, .fini = leak_check);

static long decode(const uint8_t *b, size_t n, struct gf_mqtt_packet *p, const char **why,
                   uint8_t *code)
{
	*why = NULL;
	*code = 0;
	return gf_mqtt_decode(b, n, p, why, code);
}

/* Every strict prefix is incomplete (0), the whole is n bytes. */
static void whole_only(const uint8_t *b, size_t n)
{
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	for (size_t k = 0; k < n; k++)
		cr_assert_eq(decode(b, k, &p, &why, &code), 0, "prefix %zu of %zu", k, n);
	cr_assert_eq(decode(b, n, &p, &why, &code), (long)n, "%s", why ? why : "");
}

Test(mqtt_packet, connack_with_a_reason_string)
{
	/* session present, success; Receive Maximum 20, Server Keep Alive 60,
	 * Maximum Packet Size 1000, a Reason String "ok" */
	const uint8_t b[] = {0x20, 19,   0x01, 0x00, 16,   0x21, 0x00, 20,   0x13, 0x00, 60,
	                     0x27, 0x00, 0x00, 0x03, 0xe8, 0x1f, 0x00, 0x02, 'o',  'k'};
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	whole_only(b, sizeof(b));
	cr_assert_eq(decode(b, sizeof(b), &p, &why, &code), (long)sizeof(b));
	cr_assert_eq(p.reason_string.len, 2);
	cr_assert_eq(memcmp(p.reason_string.p, "ok", 2), 0);
}

Test(mqtt_packet, connack_fields)
{
	const uint8_t b[] = {0x20, 16, 0x01, 0x00, 13,   0x21, 0x00, 20,   0x13,
	                     0x00, 60, 0x27, 0x00, 0x00, 0x03, 0xe8, 0x24, 0x01};
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	cr_assert_eq(decode(b, sizeof(b), &p, &why, &code), (long)sizeof(b), "%s", why);
	cr_assert_eq(p.type, GF_MQTT_CONNACK);
	cr_assert(p.session_present);
	cr_assert_eq(p.reason, 0);
	cr_assert_eq(p.receive_max, 20);
	cr_assert(p.has_server_keepalive);
	cr_assert_eq(p.server_keepalive, 60);
	cr_assert_eq(p.max_packet, 1000);
	whole_only(b, sizeof(b));
}

Test(mqtt_packet, connack_refused_and_defaults)
{
	const uint8_t b[] = {0x20, 3, 0x00, 0x87, 0};
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	cr_assert_eq(decode(b, sizeof(b), &p, &why, &code), 5);
	cr_assert_eq(p.reason, 0x87);
	cr_assert_not(p.session_present);
	cr_assert_eq(p.receive_max, 65535);
	cr_assert_not(p.has_server_keepalive);
	cr_assert_str_eq(gf_mqtt_reason_name(0x87), "Not authorized");
	cr_assert_str_eq(gf_mqtt_reason_name(0x7f), "unknown reason");
}

Test(mqtt_packet, publish_qos1_with_content_type_and_correlation)
{
	const uint8_t b[] = {0x3b, 24,   0x00, 0x03, 'a', '/', 'b', 0x12, 0x34,
	                     12,   0x03, 0x00, 0x04, 'j', 's', 'o', 'n',  0x09,
	                     0x00, 0x02, 0xca, 0xfe, 'h', 'e', 'y', '!'};
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	/* 0x3b: PUBLISH, DUP, QoS 1, retain */
	cr_assert_eq(decode(b, sizeof(b), &p, &why, &code), (long)sizeof(b), "%s", why);
	cr_assert_eq(p.type, GF_MQTT_PUBLISH);
	cr_assert(p.dup && p.retain);
	cr_assert_eq(p.qos, 1);
	cr_assert_eq(p.id, 0x1234);
	cr_assert_eq(p.topic.len, 3);
	cr_assert_eq(memcmp(p.topic.p, "a/b", 3), 0);
	cr_assert_eq(p.content_type.len, 4);
	cr_assert_eq(memcmp(p.content_type.p, "json", 4), 0);
	cr_assert_eq(p.correlation.len, 2);
	cr_assert_eq(p.correlation.p[1], 0xfe);
	cr_assert_eq(p.payload.len, 4);
	cr_assert_eq(memcmp(p.payload.p, "hey!", 4), 0);
	whole_only(b, sizeof(b));
}

Test(mqtt_packet, puback_short_and_long_forms)
{
	const uint8_t shortf[] = {0x40, 2, 0x00, 0x07};
	const uint8_t rc[] = {0x40, 3, 0x00, 0x07, 0x87};
	const uint8_t withstr[] = {0x40, 9, 0x00, 0x07, 0x99, 5, 0x1f, 0x00, 0x02, 'n', 'o'};
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	cr_assert_eq(decode(shortf, sizeof(shortf), &p, &why, &code), 4);
	cr_assert_eq(p.id, 7);
	cr_assert_eq(p.reason, 0);
	cr_assert_eq(decode(rc, sizeof(rc), &p, &why, &code), 5);
	cr_assert_eq(p.reason, 0x87);
	cr_assert_eq(decode(withstr, sizeof(withstr), &p, &why, &code), (long)sizeof(withstr));
	cr_assert_eq(p.reason, 0x99);
	cr_assert_eq(p.reason_string.len, 2);
}

Test(mqtt_packet, suback_disconnect_pingresp)
{
	const uint8_t suback[] = {0x90, 5, 0x00, 0x02, 0, 0x01, 0x87};
	const uint8_t disc[] = {0xe0, 2, 0x8e, 0};
	const uint8_t disc0[] = {0xe0, 0};
	const uint8_t pong[] = {0xd0, 0};
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	cr_assert_eq(decode(suback, sizeof(suback), &p, &why, &code), 7);
	cr_assert_eq(p.id, 2);
	cr_assert_eq(p.codes.len, 2);
	cr_assert_eq(p.codes.p[0], 0x01);
	cr_assert_eq(p.codes.p[1], 0x87);
	cr_assert_eq(decode(disc, sizeof(disc), &p, &why, &code), 4);
	cr_assert_eq(p.type, GF_MQTT_DISCONNECT);
	cr_assert_eq(p.reason, 0x8e);
	cr_assert_eq(decode(disc0, sizeof(disc0), &p, &why, &code), 2);
	cr_assert_eq(p.reason, 0);
	cr_assert_eq(decode(pong, sizeof(pong), &p, &why, &code), 2);
	cr_assert_eq(p.type, GF_MQTT_PINGRESP);
}

/* A table of broken packets: each refused with its reason code. */
Test(mqtt_packet, refuses_what_breaks_a_rule)
{
	static const struct {
		const char *what;
		uint8_t bytes[24];
		size_t len;
		uint8_t code;
	} cases[] = {
	    {"remaining length of 5 bytes", {0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, 6, 0x81},
	    {"remaining length not minimal", {0xd0, 0x80, 0x00}, 3, 0x81},
	    {"PINGRESP with flags", {0xd1, 0}, 2, 0x81},
	    {"CONNACK reserved flags", {0x20, 3, 0x02, 0x00, 0}, 5, 0x81},
	    {"refusing CONNACK with a session", {0x20, 3, 0x01, 0x87, 0}, 5, 0x82},
	    {"Receive Maximum 0", {0x20, 6, 0, 0, 3, 0x21, 0, 0}, 8, 0x82},
	    {"property twice", {0x20, 9, 0, 0, 6, 0x21, 0, 5, 0x21, 0, 5}, 11, 0x82},
	    {"property not for CONNACK", {0x20, 5, 0, 0, 2, 0x01, 1}, 7, 0x82},
	    {"unknown property", {0x20, 5, 0, 0, 2, 0x7f, 1}, 7, 0x82},
	    {"properties past the end", {0x20, 4, 0, 0, 9, 0x21}, 6, 0x81},
	    {"PUBLISH QoS 2", {0x34, 6, 0, 1, 'a', 0, 1, 0}, 8, 0x82},
	    {"PUBLISH QoS 3", {0x36, 6, 0, 1, 'a', 0, 1, 0}, 8, 0x81},
	    {"PUBLISH QoS 0 with DUP", {0x38, 4, 0, 1, 'a', 0}, 6, 0x81},
	    {"PUBLISH id 0", {0x32, 6, 0, 1, 'a', 0, 0, 0}, 8, 0x82},
	    {"PUBLISH empty topic", {0x30, 3, 0, 0, 0}, 5, 0x82},
	    {"PUBLISH wildcard topic", {0x30, 4, 0, 1, '#', 0}, 6, 0x82},
	    {"PUBLISH topic with U+0000", {0x30, 4, 0, 1, 0, 0}, 6, 0x81},
	    {"PUBLISH topic not UTF-8", {0x30, 5, 0, 2, 0xc0, 0x80, 0}, 7, 0x81},
	    {"PUBLISH surrogate", {0x30, 6, 0, 3, 0xed, 0xa0, 0x80, 0}, 8, 0x81},
	    {"PUBLISH topic alias", {0x30, 7, 0, 1, 'a', 3, 0x23, 0, 1}, 9, 0x82},
	    {"PUBLISH topic past the end", {0x30, 3, 0, 9, 'a'}, 5, 0x81},
	    {"PUBACK id 0", {0x40, 2, 0, 0}, 4, 0x82},
	    {"PUBACK flags", {0x41, 2, 0, 1}, 4, 0x81},
	    {"PUBACK bytes left over", {0x40, 5, 0, 1, 0, 0, 9}, 7, 0x81},
	    {"SUBACK without codes", {0x90, 3, 0, 1, 0}, 5, 0x82},
	    {"a PUBREC (QoS 2)", {0x50, 2, 0, 1}, 4, 0x82},
	    {"a CONNECT", {0x10, 0}, 2, 0x82},
	};
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long n = decode(cases[i].bytes, cases[i].len, &p, &why, &code);

		cr_assert_eq(n, -1, "%s: decoded (%ld)", cases[i].what, n);
		cr_assert_not_null(why, "%s: no reason", cases[i].what);
		cr_assert_eq(code, cases[i].code, "%s: 0x%02x (%s)", cases[i].what, code, why);
	}
}

Test(mqtt_packet, refuses_a_packet_too_large_from_its_length)
{
	/* 16 MiB + 1 announced: refused before the bytes arrive */
	const uint8_t b[] = {0x30, 0x81, 0x80, 0x80, 0x08};
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	cr_assert_eq(decode(b, sizeof(b), &p, &why, &code), -1);
	cr_assert_eq(code, 0x95);
}

/* Reads a big-endian u16 at b. */
static unsigned u16(const uint8_t *b)
{
	return (unsigned)(b[0] << 8 | b[1]);
}

Test(mqtt_packet, encodes_connect_with_will_and_password)
{
	struct gf_mqtt_connect c = {.client_id = "foa.f1@x",
	                            .username = "foa.f1",
	                            .password = "s3cret",
	                            .keepalive_s = 30,
	                            .session_expiry_s = 604800,
	                            .will_topic = "gf/s/foa/f1/ops/all/status",
	                            .will_payload = "{}",
	                            .will_len = 2,
	                            .will_content_type = "application/json",
	                            .will_retain = true,
	                            .will_qos = 1};
	uint8_t *b = NULL;
	size_t n = 0, at;

	cr_assert_eq(gf_mqtt_encode_connect(&c, &b, &n), GF_OK);
	cr_assert_eq(b[0], 0x10);
	cr_assert_eq(b[1], n - 2); /* 99 bytes: a one-byte length */
	at = 2;
	cr_assert_eq(memcmp(b + at, "\0\4MQTT\5", 7), 0);
	/* username, password, will retain, will QoS 1, will; clean start off */
	cr_assert_eq(b[at + 7], 0x80 | 0x40 | 0x20 | 0x08 | 0x04);
	cr_assert_eq(u16(b + at + 8), 30);
	/* properties: 10 bytes, Session Expiry 604800, Maximum Packet Size */
	cr_assert_eq(b[at + 10], 10);
	cr_assert_eq(b[at + 11], 0x11);
	cr_assert_eq(b[at + 14] << 8 | b[at + 15], 604800 & 0xffff);
	cr_assert_eq(b[at + 16], 0x27);
	at += 21;
	cr_assert_eq(u16(b + at), 8);
	cr_assert_eq(memcmp(b + at + 2, "foa.f1@x", 8), 0);
	at += 10;
	cr_assert_eq(b[at], 19); /* will properties: content type */
	cr_assert_eq(b[at + 1], 0x03);
	at += 20;
	cr_assert_eq(u16(b + at), strlen(c.will_topic));
	at += 2 + strlen(c.will_topic);
	cr_assert_eq(u16(b + at), 2);
	at += 4;
	cr_assert_eq(u16(b + at), 6);
	at += 8;
	cr_assert_eq(u16(b + at), 6);
	cr_assert_eq(memcmp(b + at + 2, "s3cret", 6), 0);
	cr_assert_eq(at + 8, n);
	free(b);
}

Test(mqtt_packet, encodes_publish_subscribe_and_short_packets)
{
	const char *filters[] = {"gf/s/+/+/foa/f1/#", "gf/s/ops/#"};
	uint8_t *b = NULL, small[4];
	size_t n = 0;

	cr_assert_eq(gf_mqtt_encode_publish("t/1", "abc", 3, 1, true, 0x0102, "application/json",
	                                    "\x01\x02", 2, &b, &n),
	             GF_OK);
	cr_assert_eq(b[0], 0x33);
	cr_assert_eq(b[1], n - 2);
	cr_assert_eq(u16(b + 2), 3);
	cr_assert_eq(u16(b + 7), 0x0102);
	cr_assert_eq(b[9], 19 + 5); /* content type 3+16, correlation 3+2 */
	cr_assert_eq(memcmp(b + n - 3, "abc", 3), 0);
	gf_mqtt_set_dup(b);
	cr_assert_eq(b[0], 0x3b);
	free(b);
	cr_assert_eq(gf_mqtt_encode_publish("t", "", 0, 1, false, 0, NULL, NULL, 0, &b, &n),
	             GF_EINVAL);
	cr_assert_eq(gf_mqtt_encode_subscribe(9, filters, 2, &b, &n), GF_OK);
	cr_assert_eq(b[0], 0x82);
	cr_assert_eq(u16(b + 2), 9);
	cr_assert_eq(b[4], 0);
	cr_assert_eq(u16(b + 5), strlen(filters[0]));
	cr_assert_eq(b[7 + strlen(filters[0])], 0x11);
	cr_assert_eq(b[n - 1], 0x11);
	free(b);
	cr_assert_eq(gf_mqtt_encode_puback(0xabcd, small), 4);
	cr_assert_eq(memcmp(small, "\x40\x02\xab\xcd", 4), 0);
	cr_assert_eq(gf_mqtt_encode_pingreq(small), 2);
	cr_assert_eq(small[0], 0xc0);
	cr_assert_eq(gf_mqtt_encode_disconnect(0, small), 2);
	cr_assert_eq(gf_mqtt_encode_disconnect(0x04, small), 3);
	cr_assert_eq(small[2], 0x04);
}

Test(mqtt_packet, refuses_a_string_longer_than_65535)
{
	char *topic = malloc(70000);
	uint8_t *b = NULL;
	size_t n = 0;

	memset(topic, 'a', 69999);
	topic[69999] = '\0';
	cr_assert_eq(gf_mqtt_encode_publish(topic, "x", 1, 1, false, 1, NULL, NULL, 0, &b, &n),
	             GF_EINVAL);
	cr_assert_null(b);
	free(topic);
}

/* A publish longer than 127 bytes: a two-byte length, decoded back. */
Test(mqtt_packet, a_long_publish_decodes_back)
{
	uint8_t payload[5000], *b = NULL;
	size_t n = 0;
	struct gf_mqtt_packet p;
	const char *why;
	uint8_t code;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	cr_assert_eq(gf_mqtt_encode_publish("gf/s/foa/f1/fman/m1/foa.reply", payload,
	                                    sizeof(payload), 1, false, 77, "application/x-protobuf",
	                                    "c", 1, &b, &n),
	             GF_OK);
	cr_assert_eq(decode(b, n, &p, &why, &code), (long)n, "%s", why);
	cr_assert_eq(p.id, 77);
	cr_assert_eq(p.payload.len, sizeof(payload));
	cr_assert_eq(memcmp(p.payload.p, payload, sizeof(payload)), 0);
	cr_assert_eq(p.content_type.len, strlen("application/x-protobuf"));
	free(b);
}
