/* SPDX-License-Identifier: MIT */
/* libFuzzer target: lib/mqtt's decoder on what a broker could send. A
 * packet it accepts lies within the input, is not whole one byte shorter,
 * and a QoS 1 PUBLISH it accepts encodes back to a packet that decodes to
 * the same topic, payload and properties. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const struct gf_mqtt_bytes *b, const uint8_t *data, long n)
{
	if (b->len && (b->p < data || b->p + b->len > data + n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gf_mqtt_packet p, q;
	const char *why = NULL;
	uint8_t code = 0, *enc = NULL;
	size_t len = 0;
	char *topic, *ct;
	long n = gf_mqtt_decode(data, size, &p, &why, &code);

	if (n < 0) {
		if (!why || code < 0x80)
			abort();
		return 0;
	}
	if (n == 0)
		return 0;
	if ((size_t)n > size || gf_mqtt_decode(data, (size_t)n - 1, &q, &why, &code) != 0)
		abort();
	inside(&p.topic, data, n);
	inside(&p.payload, data, n);
	inside(&p.content_type, data, n);
	inside(&p.correlation, data, n);
	inside(&p.codes, data, n);
	inside(&p.reason_string, data, n);
	if (p.type != GF_MQTT_PUBLISH || p.qos != 1)
		return 0;
	topic = strndup((const char *)p.topic.p, p.topic.len);
	ct = p.content_type.p ? strndup((const char *)p.content_type.p, p.content_type.len) : NULL;
	if (!topic || (p.content_type.p && !ct))
		abort();
	/* (a content type with U+0000 cannot be a C string; the decoder
	 * refuses those) */
	if (gf_mqtt_encode_publish(topic, p.payload.p, p.payload.len, 1, p.retain, p.id, ct,
	                           p.correlation.p, p.correlation.len, &enc, &len) != GF_OK)
		abort();
	if (gf_mqtt_decode(enc, len, &q, &why, &code) != (long)len || q.id != p.id ||
	    q.topic.len != p.topic.len || memcmp(q.topic.p, p.topic.p, p.topic.len) != 0 ||
	    q.payload.len != p.payload.len ||
	    (p.payload.len && memcmp(q.payload.p, p.payload.p, p.payload.len) != 0) ||
	    q.correlation.len != p.correlation.len || q.content_type.len != p.content_type.len)
		abort();
	free(enc);
	free(topic);
	free(ct);
	return 0;
}
