/* SPDX-License-Identifier: MIT */
/*
 * gf-mqtt-try - lib/mqtt's client against a real broker, for the
 * integration tests (tests/integration/mqtt_client_test.sh).
 *
 *   gf-mqtt-try -p PORT [-h HOST] -i CLIENTID [-c]
 *               [-u USER -P PASSWORD | --cafile F [--cert F --key F]]
 *               [--sub FILTER]... [--pub TOPIC --payload TEXT [--count N]]
 *               [--expect N] [--timeout S]
 *
 * Connects (again 200 ms after any failure or loss), subscribes to every
 * FILTER at QoS 1, publishes N copies of TEXT to TOPIC ("%d" in TEXT is
 * replaced by the copy's number, so each is distinct), and runs until all
 * N are acknowledged and N' distinct messages (--expect) arrived, or S seconds
 * passed (default 30); with neither --pub nor --expect, until subscribed
 * (to make a persistent session before anything is sent to it). -c: a persistent session (clean
 * start off, expiry one hour). Prints one line per event, then DONE acked=A refused=R received=M
 * distinct=D connects=C and exits 0 when everything awaited came, 1 on timeout, 2 on bad usage.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt/client.h"

struct run {
	struct gf_mqtt *m;
	const char **filters;
	size_t nfilters;
	long acked, refused, received, connects;
	char **got; /* payloads received */
	size_t ngot, capgot;
	char **seen; /* the distinct ones: an open-addressing set, 2^k slots */
	size_t nseen, capseen;
	bool retry_due, subscribed;
	int last_refusal;
};

static void on_connected(void *arg, bool session_present)
{
	struct run *r = arg;

	r->connects++;
	printf("CONNECTED session=%d\n", session_present ? 1 : 0);
	if (r->nfilters && gf_mqtt_subscribe(r->m, r->filters, r->nfilters) != GF_OK)
		printf("SUBSCRIBE-FAILED\n");
	fflush(stdout);
}

static void on_connect_failed(void *arg, int reason, const char *text)
{
	struct run *r = arg;

	printf("CONNECT-FAILED 0x%02x %s\n", (unsigned)reason, text);
	fflush(stdout);
	r->retry_due = true;
}

static void on_lost(void *arg, int reason, const char *text)
{
	struct run *r = arg;

	printf("LOST 0x%02x %s\n", (unsigned)reason, text);
	fflush(stdout);
	r->retry_due = true;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Adds s to the set of distinct payloads (s is owned by r->got). */
static bool seen_add(struct run *r, char *s)
{
	size_t i;

	if (2 * (r->nseen + 1) > r->capseen) {
		size_t cap = r->capseen ? 2 * r->capseen : 4096, oldcap = r->capseen;
		char **old = r->seen, **t = calloc(cap, sizeof(*t));

		if (!t)
			return false;
		r->seen = t;
		r->capseen = cap;
		r->nseen = 0;
		for (size_t k = 0; k < oldcap; k++)
			if (old[k])
				seen_add(r, old[k]);
		free(old);
	}
	for (i = fnv(s) & (r->capseen - 1); r->seen[i]; i = (i + 1) & (r->capseen - 1))
		if (strcmp(r->seen[i], s) == 0)
			return true;
	r->seen[i] = s;
	r->nseen++;
	return true;
}

static bool on_message(void *arg, const struct gf_mqtt_packet *p)
{
	struct run *r = arg;
	char *copy;

	if (r->ngot == r->capgot) {
		size_t cap = r->capgot ? r->capgot * 2 : 1024;
		char **q = realloc(r->got, cap * sizeof(*q));

		if (!q)
			return false;
		r->got = q;
		r->capgot = cap;
	}
	copy = malloc(p->payload.len + 1);
	if (!copy)
		return false;
	memcpy(copy, p->payload.p, p->payload.len);
	copy[p->payload.len] = '\0';
	r->got[r->ngot++] = copy;
	r->received++;
	return seen_add(r, copy);
}

static void on_published(void *arg, uint64_t tag, int reason)
{
	struct run *r = arg;

	(void)tag;
	if (reason >= 0x80) {
		r->refused++;
		if (reason != r->last_refusal)
			printf("PUBACK-REFUSED 0x%02x\n", (unsigned)reason);
		r->last_refusal = reason;
	} else {
		r->acked++;
	}
}

static void on_subscribed(void *arg, const uint8_t *codes, size_t n)
{
	struct run *r = arg;

	r->subscribed = true;
	printf("SUBACK");
	for (size_t i = 0; i < n; i++)
		printf(" 0x%02x", codes[i]);
	printf("\n");
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The n-th copy of text, "%d" replaced by n. */
static int copy_of(const char *text, long n, char *buf, size_t size)
{
	const char *at = strstr(text, "%d");

	if (!at)
		return snprintf(buf, size, "%s", text);
	return snprintf(buf, size, "%.*s%ld%s", (int)(at - text), text, n, at + 2);
}

int main(int argc, char **argv)
{
	struct gf_mqtt_opts o = {.host = "127.0.0.1", .session_expiry_s = 0, .clean_start = true};
	struct gf_mqtt_events ev = {.connected = on_connected,
	                            .connect_failed = on_connect_failed,
	                            .lost = on_lost,
	                            .message = on_message,
	                            .published = on_published,
	                            .subscribed = on_subscribed};
	const char *filters[16], *topic = NULL, *payload = NULL;
	struct run r = {.filters = filters};
	long count = 1, expect = 0, published = 0;
	double timeout = 30, end, retry_at = 0;
	char err[512], buf[65536];
	int status;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-c")) {
			o.clean_start = false;
			o.session_expiry_s = 3600;
			continue;
		}
		if (!v)
			goto usage;
		i++;
		if (!strcmp(a, "-p"))
			o.port = atoi(v);
		else if (!strcmp(a, "-h"))
			o.host = v;
		else if (!strcmp(a, "-i"))
			o.client_id = v;
		else if (!strcmp(a, "-u"))
			o.username = v;
		else if (!strcmp(a, "-P"))
			o.password = v;
		else if (!strcmp(a, "--cafile"))
			o.cafile = v;
		else if (!strcmp(a, "--cert"))
			o.cert = v;
		else if (!strcmp(a, "--key"))
			o.key = v;
		else if (!strcmp(a, "--sub") && r.nfilters < 16)
			filters[r.nfilters++] = v;
		else if (!strcmp(a, "--pub"))
			topic = v;
		else if (!strcmp(a, "--payload"))
			payload = v;
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--expect"))
			expect = atol(v);
		else if (!strcmp(a, "--timeout"))
			timeout = atof(v);
		else
			goto usage;
	}
	if (!o.port || !o.client_id || (topic && !payload))
		goto usage;
	ev.arg = &r;
	if (gf_mqtt_new(&o, &ev, &r.m, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "gf-mqtt-try: %s\n", err);
		return 2;
	}
	gf_mqtt_connect(r.m);
	end = now_s() + timeout;
	while (now_s() < end) {
		struct pollfd pfd = {.fd = gf_mqtt_fd(r.m), .events = POLLIN};
		long wait = gf_mqtt_next_ms(r.m);

		/* publish as the queue allows: a burst, flushed once per turn */
		while (topic && published < count && gf_mqtt_pending(r.m) < 1000) {
			int n = copy_of(payload, published, buf, sizeof(buf));

			if (gf_mqtt_publish(r.m, topic, buf, (size_t)n, "application/json", false,
			                    NULL, 0, (uint64_t)published + 1) != GF_OK)
				break;
			published++;
		}
		gf_mqtt_flush(r.m);
		if (topic || expect
		        ? r.acked + r.refused == (topic ? count : 0) && (long)r.nseen >= expect
		        : r.subscribed)
			break;
		if (r.retry_due) {
			r.retry_due = false;
			retry_at = now_s() + 0.2;
		}
		if (retry_at && now_s() >= retry_at) {
			retry_at = 0;
			gf_mqtt_connect(r.m);
			continue;
		}
		if (gf_mqtt_want_write(r.m))
			pfd.events |= POLLOUT;
		if (wait < 0 || wait > 100)
			wait = 100;
		if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, (int)wait) > 0)
			gf_mqtt_io(r.m);
		if (gf_mqtt_next_ms(r.m) == 0)
			gf_mqtt_tick(r.m);
	}
	status = r.acked + r.refused == (topic ? count : 0) && (long)r.nseen >= expect ? 0 : 1;
	printf("DONE acked=%ld refused=%ld received=%ld distinct=%zu connects=%ld\n", r.acked,
	       r.refused, r.received, r.nseen, r.connects);
	gf_mqtt_disconnect(r.m, 0);
	gf_mqtt_free(r.m);
	for (size_t i = 0; i < r.ngot; i++)
		free(r.got[i]);
	free(r.got);
	free(r.seen);
	return status;
usage:
	fprintf(stderr, "usage: gf-mqtt-try -p PORT -i CLIENTID [-c] [-h HOST] [-u USER -P PASS | "
	                "--cafile F [--cert F --key F]] [--sub FILTER]... [--pub TOPIC --payload "
	                "TEXT [--count N]] [--expect N] [--timeout S]\n");
	return 2;
}
