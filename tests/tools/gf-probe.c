/* SPDX-License-Identifier: MIT */
/*
 * gf-probe - one scripted MQTT client for the integration tests.
 *
 *   gf-probe -p PORT [-h HOST] [-u USER] [-P PASS] [-i CLIENTID] [-V 5|311]
 *            [--cafile F --cert F --key F] [-c] ACTION...
 *
 * Actions run in order once connected:
 *   sub:FILTER          subscribe at QoS 1; prints "SUBACK <filter> <code>"
 *   pub:TOPIC=PAYLOAD   publish at QoS 1; prints "PUBACK <topic> <code>"
 *   rpub:TOPIC=PAYLOAD  the same, retained
 *   wait:MS             print every message received within MS milliseconds
 *                       as "MSG <topic> <payload>"
 *   big:TOPIC=N[=TEXT]  publish N bytes at QoS 1: TEXT padded with spaces (a
 *                       valid JSON message stays valid), or N 'x' without
 *                       TEXT; prints "PUBACK <topic> <code>" (or "none" if
 *                       the connection is lost, "local-error:..." if the
 *                       client refuses to send it)
 *   subs:PREFIX=N       subscribe at QoS 1 to PREFIX1/#, ..., PREFIXN/# in
 *                       one SUBSCRIBE; prints "SUBS <prefix> <granted>
 *                       <refused>" (refused: SUBACK codes of 128 and above)
 *   raw:HEX             open a second, raw MQTT 3.1.1 connection with the same
 *                       credentials and publish at QoS 1 on the topic given
 *                       as hex bytes (so it may be invalid UTF-8, which
 *                       libmosquitto refuses to send); prints "RAW PUBACK" or
 *                       "RAW CLOSED"
 *   die                 end the process without a DISCONNECT (the broker sends
 *                       the will)
 * The first line is "CONNACK <code>" (codes in decimal; MQTT v5 reason codes
 * for -V 5). -c asks for a persistent session (clean start off, session
 * expiry one hour; -e SECONDS sets another expiry and implies -c).
 * --will TOPIC=PAYLOAD sets a retained QoS 1 will. Exit status 0 unless the
 * tool itself failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

struct probe {
	int connected; /* 0 waiting, 1 ok, -1 refused */
	int pending;   /* mid awaited, 0 none */
	int last_code;
	int granted, refused; /* SUBACK codes of the last subscription */
};

static const char *host = "127.0.0.1";
static int port;
static const char *user, *pass, *client_id;
static int version = 5;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                       const mosquitto_property *props)
{
	struct probe *p = obj;

	(void)m, (void)flags, (void)props;
	printf("CONNACK %d\n", rc);
	p->connected = rc == 0 ? 1 : -1;
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                       const mosquitto_property *props)
{
	struct probe *p = obj;

	(void)m, (void)props;
	if (mid == p->pending) {
		p->last_code = reason;
		p->pending = 0;
	}
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted,
                         const mosquitto_property *props)
{
	struct probe *p = obj;

	(void)m, (void)props;
	if (mid == p->pending) {
		p->last_code = count > 0 ? granted[0] : -1;
		p->granted = p->refused = 0;
		for (int i = 0; i < count; i++) {
			if (granted[i] >= 128)
				p->refused++;
			else
				p->granted++;
		}
		p->pending = 0;
	}
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
	(void)m, (void)obj, (void)props;
	printf("MSG %s %.*s\n", msg->topic, msg->payloadlen, (const char *)msg->payload);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
	struct probe *p = obj;

	(void)m, (void)props;
	if (p->connected == 0)
		p->connected = -1;
	if (rc != 0)
		printf("DISCONNECT %d\n", rc);
}

/* Runs the network loop until pred is false or ms pass; -1 on timeout. */
static int loop_until(struct mosquitto *m, struct probe *p, int (*pending)(struct probe *), long ms)
{
	long end = now_ms() + ms;

	while (pending(p)) {
		if (now_ms() > end)
			return -1;
		int rc = mosquitto_loop(m, 50, 1);
		if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN && rc != MOSQ_ERR_CONN_LOST)
			return -1;
		if (rc != MOSQ_ERR_SUCCESS && p->connected != 0)
			return -1;
	}
	return 0;
}

static int is_connecting(struct probe *p)
{
	return p->connected == 0;
}

static int is_pending(struct probe *p)
{
	return p->pending != 0;
}

static int never(struct probe *p)
{
	(void)p;
	return 1;
}

static size_t put_str(unsigned char *b, const char *s, size_t len)
{
	b[0] = (unsigned char)(len >> 8);
	b[1] = (unsigned char)len;
	memcpy(b + 2, s, len);
	return len + 2;
}

static size_t put_len(unsigned char *b, size_t len)
{
	size_t n = 0;

	do {
		unsigned char byte = len % 128;
		len /= 128;
		b[n++] = (unsigned char)(byte | (len ? 0x80 : 0));
	} while (len);
	return n;
}

/* A minimal MQTT 3.1.1 publisher that sends the topic bytes as they are. */
static void raw_publish(const char *hex)
{
	unsigned char topic[512], pkt[2048], body[2048], in[64];
	size_t tlen = strlen(hex) / 2, n = 0, bl = 0;
	char portstr[16];
	struct addrinfo *ai = NULL, hints = {.ai_socktype = SOCK_STREAM};
	int fd = -1;
	ssize_t got;

	for (size_t i = 0; i < tlen && i < sizeof(topic); i++)
		sscanf(hex + 2 * i, "%2hhx", &topic[i]);
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0)
		goto closed;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		goto closed;
	/* CONNECT: protocol name, level 4, flags user+pass+clean, keepalive 30. */
	bl += put_str(body + bl, "MQTT", 4);
	body[bl++] = 4;
	body[bl++] = 0xC2;
	body[bl++] = 0;
	body[bl++] = 30;
	bl += put_str(body + bl, client_id, strlen(client_id));
	bl += put_str(body + bl, user, strlen(user));
	bl += put_str(body + bl, pass, strlen(pass));
	pkt[n++] = 0x10;
	n += put_len(pkt + n, bl);
	memcpy(pkt + n, body, bl);
	n += bl;
	if (write(fd, pkt, n) != (ssize_t)n || read(fd, in, 4) != 4 || in[3] != 0)
		goto closed;
	bl = put_str(body, (const char *)topic, tlen);
	body[bl++] = 0;
	body[bl++] = 1; /* packet id 1 */
	memcpy(body + bl, "x", 1);
	bl += 1;
	n = 0;
	pkt[n++] = 0x32; /* PUBLISH QoS 1 */
	n += put_len(pkt + n, bl);
	memcpy(pkt + n, body, bl);
	n += bl;
	if (write(fd, pkt, n) != (ssize_t)n)
		goto closed;
	struct pollfd pfd = {fd, POLLIN, 0};
	if (poll(&pfd, 1, 2000) == 1 && (got = read(fd, in, sizeof(in))) >= 4 && in[0] == 0x40) {
		printf("RAW PUBACK\n");
		goto out;
	}
closed:
	printf("RAW CLOSED\n");
out:
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
}

/* big:TOPIC=N[=TEXT]: one publish of N bytes. */
static int publish_big(struct mosquitto *m, struct probe *p, const char *a)
{
	char topic[1024];
	const char *eq = strchr(a, '='), *text = NULL;
	size_t tl = eq ? (size_t)(eq - a) : 0, n, text_len = 0;
	char *payload;
	int mid = 0, rc;

	if (!eq || tl >= sizeof(topic))
		return -1;
	memcpy(topic, a, tl);
	topic[tl] = '\0';
	n = strtoul(eq + 1, NULL, 10);
	text = strchr(eq + 1, '=');
	if (text)
		text_len = strlen(++text);
	payload = malloc(n ? n : 1);
	if (!payload)
		return -1;
	memset(payload, text ? ' ' : 'x', n);
	memcpy(payload, text ? text : "", text_len < n ? text_len : n);
	rc = mosquitto_publish_v5(m, &mid, topic, (int)n, payload, 1, false, NULL);
	free(payload);
	if (rc != MOSQ_ERR_SUCCESS) {
		printf("PUBACK %s local-error:%s\n", topic, mosquitto_strerror(rc));
		return 0;
	}
	p->pending = mid;
	if (loop_until(m, p, is_pending, 30000) != 0) {
		printf("PUBACK %s none\n", topic);
		return -1;
	}
	printf("PUBACK %s %d\n", topic, p->last_code);
	return 0;
}

/* subs:PREFIX=N: N wildcard filters in one SUBSCRIBE. */
static int subscribe_many(struct mosquitto *m, struct probe *p, const char *a)
{
	const char *eq = strchr(a, '=');
	int n = eq ? atoi(eq + 1) : 0, mid = 0, rc = -1, i = 0;
	char **filters = n > 0 ? calloc((size_t)n, sizeof(*filters)) : NULL;

	if (!filters)
		return -1;
	for (i = 0; i < n; i++) {
		size_t len = (size_t)(eq - a) + 16;
		filters[i] = malloc(len);
		if (!filters[i])
			goto out;
		snprintf(filters[i], len, "%.*s%d/#", (int)(eq - a), a, i + 1);
	}
	rc = mosquitto_subscribe_multiple(m, &mid, n, filters, 1, 0, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		printf("SUBS %.*s local-error:%s\n", (int)(eq - a), a, mosquitto_strerror(rc));
		rc = 0;
		goto out;
	}
	p->pending = mid;
	if (loop_until(m, p, is_pending, 30000) != 0) {
		printf("SUBS %.*s none\n", (int)(eq - a), a);
		rc = -1;
		goto out;
	}
	printf("SUBS %.*s %d %d\n", (int)(eq - a), a, p->granted, p->refused);
	rc = 0;
out:
	for (int j = 0; j < i && j < n; j++)
		free(filters[j]);
	free(filters);
	return rc;
}

static int run_action(struct mosquitto *m, struct probe *p, const char *a)
{
	int mid = 0, rc;

	if (strncmp(a, "sub:", 4) == 0) {
		rc = mosquitto_subscribe_v5(m, &mid, a + 4, 1, 0, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			printf("SUBACK %s local-error:%s\n", a + 4, mosquitto_strerror(rc));
			return 0;
		}
		p->pending = mid;
		if (loop_until(m, p, is_pending, 5000) != 0) {
			printf("SUBACK %s none\n", a + 4);
			return -1;
		}
		printf("SUBACK %s %d\n", a + 4, p->last_code);
	} else if (strncmp(a, "pub:", 4) == 0 || strncmp(a, "rpub:", 5) == 0) {
		bool retain = a[0] == 'r';
		char topic[16384];
		const char *t = a + (retain ? 5 : 4), *eq = strchr(t, '=');
		size_t tl = eq ? (size_t)(eq - t) : strlen(t);
		const char *payload = eq ? eq + 1 : "";
		if (tl >= sizeof(topic))
			return -1;
		memcpy(topic, t, tl);
		topic[tl] = '\0';
		rc = mosquitto_publish_v5(m, &mid, topic, (int)strlen(payload), payload, 1, retain,
		                          NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			printf("PUBACK %s local-error:%s\n", topic, mosquitto_strerror(rc));
			return 0;
		}
		p->pending = mid;
		if (loop_until(m, p, is_pending, 5000) != 0) {
			printf("PUBACK %s none\n", topic);
			return -1;
		}
		printf("PUBACK %s %d\n", topic, p->last_code);
	} else if (strcmp(a, "die") == 0) {
		fflush(stdout);
		_exit(0);
	} else if (strncmp(a, "wait:", 5) == 0) {
		loop_until(m, p, never, atol(a + 5));
	} else if (strncmp(a, "big:", 4) == 0) {
		if (publish_big(m, p, a + 4) != 0)
			return -1;
	} else if (strncmp(a, "subs:", 5) == 0) {
		if (subscribe_many(m, p, a + 5) != 0)
			return -1;
	} else if (strncmp(a, "raw:", 4) == 0) {
		raw_publish(a + 4);
	} else {
		fprintf(stderr, "gf-probe: unknown action '%s'\n", a);
		return -1;
	}
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cafile = NULL, *cert = NULL, *key = NULL;
	bool persistent = false;
	int expiry = 3600;
	const char *will = NULL;
	struct probe p = {0, 0, 0, 0, 0};
	struct mosquitto *m;
	mosquitto_property *props = NULL;
	int i, rc = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "-c") == 0) {
			persistent = true;
			continue;
		}
		if (!v) {
			fprintf(stderr, "gf-probe: %s needs a value\n", o);
			return 2;
		}
		i++;
		if (!strcmp(o, "-p"))
			port = atoi(v);
		else if (!strcmp(o, "-h"))
			host = v;
		else if (!strcmp(o, "-u"))
			user = v;
		else if (!strcmp(o, "-P"))
			pass = v;
		else if (!strcmp(o, "-i"))
			client_id = v;
		else if (!strcmp(o, "-e"))
			expiry = atoi(v), persistent = true;
		else if (!strcmp(o, "--will"))
			will = v;
		else if (!strcmp(o, "-V"))
			version = atoi(v) == 311 ? 4 : 5;
		else if (!strcmp(o, "--cafile"))
			cafile = v;
		else if (!strcmp(o, "--cert"))
			cert = v;
		else if (!strcmp(o, "--key"))
			key = v;
		else {
			fprintf(stderr, "gf-probe: unknown option %s\n", o);
			return 2;
		}
	}
	if (!port || !client_id) {
		fprintf(stderr, "gf-probe: -p PORT and -i CLIENTID are required\n");
		return 2;
	}
	mosquitto_lib_init();
	m = mosquitto_new(client_id, !persistent, &p);
	if (!m)
		return 1;
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
	                     version == 5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_connect_v5_callback_set(m, on_connect);
	mosquitto_publish_v5_callback_set(m, on_publish);
	mosquitto_subscribe_v5_callback_set(m, on_subscribe);
	mosquitto_message_v5_callback_set(m, on_message);
	mosquitto_disconnect_v5_callback_set(m, on_disconnect);
	if (user)
		mosquitto_username_pw_set(m, user, pass);
	if (cafile && mosquitto_tls_set(m, cafile, NULL, cert, key, NULL) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "gf-probe: TLS setup failed\n");
		return 1;
	}
	if (will) {
		const char *eq = strchr(will, '=');
		char wt[1024];
		size_t tl = eq ? (size_t)(eq - will) : strlen(will);
		if (tl >= sizeof(wt))
			return 2;
		memcpy(wt, will, tl);
		wt[tl] = '\0';
		if (mosquitto_will_set(m, wt, eq ? (int)strlen(eq + 1) : 0, eq ? eq + 1 : "", 1,
		                       true) != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "gf-probe: bad --will\n");
			return 1;
		}
	}
	if (persistent && version == 5)
		mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
		                             (uint32_t)expiry);
	if (mosquitto_connect_bind_v5(m, host, port, 30, NULL, props) != MOSQ_ERR_SUCCESS) {
		printf("CONNACK none\n");
		goto out;
	}
	if (loop_until(m, &p, is_connecting, 5000) != 0 && p.connected == 0)
		printf("CONNACK none\n");
	if (p.connected != 1)
		goto out;
	for (; i < argc; i++) {
		if (run_action(m, &p, argv[i]) != 0)
			break;
	}
	mosquitto_disconnect_v5(m, 0, NULL);
	mosquitto_loop(m, 50, 1);
out:
	mosquitto_property_free_all(&props);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return rc;
}
