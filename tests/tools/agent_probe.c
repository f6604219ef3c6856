/* SPDX-License-Identifier: MIT */
/*
 * agent_probe - the smallest real agent, for the runtime's integration test
 * (tests/integration/agent_runtime_test.sh). It runs on lib/agent like every
 * agent and, by configuration:
 *
 *   listen FILTER     subscribes and records each message's payload as a
 *                     line of the file `record`, once: a payload already
 *                     recorded is counted as a duplicate (GF-PROBE-DUP) and
 *                     not recorded again, the way agents key on message ids;
 *   handle_ms N       takes N ms per message before recording it, so a
 *                     kill -9 can land while a message is being handled;
 *   send_topic T      at start publishes send_count payloads "<send_mark>-<i>"
 *                     wrapped as a meter reading on T (i = 1..count), one
 *                     per send_every_ms; a restart with the same mark resumes
 *                     after the last i it logged as handed to the bus.
 *   send_outbox on    sends through a lib/agent/store outbox (state_dir/probe.db)
 *                     instead of publishing directly;
 *   send_batch N      with send_outbox: N payloads per transaction and flush
 *                     (more than GF_STORE_WINDOW: the window refills);
 *   poison_bytes N    before those, publishes one message of about N bytes
 *                     directly (untracked): with a broker whose
 *                     max_packet_size is smaller, the bus answers it 0x95
 *                     instead of sending it;
 *   poison_topic T    the poison goes to T instead of send_topic (a topic
 *                     with a wildcard or a control character: the bus
 *                     refuses it, GF-BUS-PUBLISH);
 *   tick_s S          logs GF-PROBE-TICK every S simulated seconds;
 *   fail_on MARK      the first time a payload contains MARK, the handler
 *                     calls gf_agent_fail (it leaves a file fail_on.done in
 *                     state_dir so that the next run handles it);
 *   extra "R.I ..."   opens one more connection per identity (password
 *                     listener), each subscribed to gf/<site>/+/+/R/I/#;
 *                     what they receive is recorded as "R.I <payload>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/store.h"
#include "base/log.h"

struct probe_conf {
	struct gf_agent_conf agent;
	char *listen, *record, *send_topic, *send_mark, *extra, *fail_on, *poison_topic;
	long handle_ms, send_count, send_every_ms, tick_s, poison_bytes, send_batch;
	bool send_outbox;
};

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct probe_conf, agent),
    {"listen", GF_CONF_STRING, offsetof(struct probe_conf, listen), NULL, 0, 0, false,
     "topic filter to subscribe to"},
    {"record", GF_CONF_STRING, offsetof(struct probe_conf, record), NULL, 0, 0, false,
     "file the payloads are recorded in, one per line"},
    {"handle_ms", GF_CONF_INT, offsetof(struct probe_conf, handle_ms), "0", 0, 60000, false,
     "time taken per message"},
    {"send_topic", GF_CONF_STRING, offsetof(struct probe_conf, send_topic), NULL, 0, 0, false,
     "topic to publish to"},
    {"send_mark", GF_CONF_STRING, offsetof(struct probe_conf, send_mark), "m", 0, 0, false,
     "prefix of the published marks"},
    {"send_count", GF_CONF_INT, offsetof(struct probe_conf, send_count), "0", 0, 1000000, false,
     "how many to publish"},
    {"send_every_ms", GF_CONF_INT, offsetof(struct probe_conf, send_every_ms), "0", 0, 60000, false,
     "real milliseconds between publishes"},
    {"poison_bytes", GF_CONF_INT, offsetof(struct probe_conf, poison_bytes), "0", 0, 1000000, false,
     "publish one message of about this many bytes first (0: none)"},
    {"poison_topic", GF_CONF_STRING, offsetof(struct probe_conf, poison_topic), NULL, 0, 0, false,
     "the poison's topic (default send_topic)"},
    {"tick_s", GF_CONF_INT, offsetof(struct probe_conf, tick_s), "0", 0, 86400, false,
     "simulated seconds between GF-PROBE-TICK lines"},
    {"send_batch", GF_CONF_INT, offsetof(struct probe_conf, send_batch), "1", 1, 100000, false,
     "payloads per outbox transaction (send_outbox on)"},
    {"send_outbox", GF_CONF_BOOL, offsetof(struct probe_conf, send_outbox), "off", 0, 0, false,
     "send through the store's outbox"},
    {"fail_on", GF_CONF_STRING, offsetof(struct probe_conf, fail_on), NULL, 0, 0, false,
     "fail the first message containing this text"},
    {"extra", GF_CONF_STRING, offsetof(struct probe_conf, extra), NULL, 0, 0, false,
     "more identities, space-separated, each on its own connection"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

struct probe {
	char **seen;
	size_t nseen, cap;
	long sent;
	FILE *sent_log;
	struct gf_store *store;
};

static struct probe P;

static bool seen(const char *s)
{
	for (size_t i = 0; i < P.nseen; i++)
		if (strcmp(P.seen[i], s) == 0)
			return true;
	return false;
}

static void remember(const char *s)
{
	if (P.nseen == P.cap) {
		P.cap = P.cap ? P.cap * 2 : 64;
		P.seen = realloc(P.seen, P.cap * sizeof(*P.seen));
		if (!P.seen)
			abort();
	}
	P.seen[P.nseen++] = strdup(s);
}

static void load_record(const char *path)
{
	char line[4096];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		remember(line);
	}
	fclose(f);
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *m)
{
	struct probe_conf *c = gf_agent_conf(a);
	struct timespec ts = {c->handle_ms / 1000, (c->handle_ms % 1000) * 1000000L};
	FILE *f;

	if (c->handle_ms)
		nanosleep(&ts, NULL);
	char line[4096];

	if (!c->record || memchr(m->payload, '\n', m->len))
		return;
	if (c->fail_on && strstr((const char *)m->payload, c->fail_on)) {
		char path[4096];
		FILE *done;

		snprintf(path, sizeof(path), "%s/fail_on.done", c->agent.state_dir);
		done = fopen(path, "r");
		if (!done) {
			done = fopen(path, "w");
			if (done)
				fclose(done);
			gf_agent_fail(a, "fail_on matched");
			return;
		}
		fclose(done);
	}
	if (gf_agent_current_bus(a) != gf_agent_bus(a))
		snprintf(line, sizeof(line), "%s %s", gf_bus_ident(gf_agent_current_bus(a)),
		         (const char *)m->payload);
	else
		snprintf(line, sizeof(line), "%s", (const char *)m->payload);
	if (seen(line)) {
		gf_log_notice("GF-PROBE-DUP", "duplicate%s: %s", m->replayed ? " (replayed)" : "",
		              m->topic);
		return;
	}
	f = fopen(c->record, "a");
	if (!f) {
		gf_log_err("GF-PROBE-RECORD", "cannot append to %s", c->record);
		return;
	}
	fprintf(f, "%s\n", line);
	fclose(f);
	remember(line);
	gf_log_info("GF-PROBE-RECORD", "recorded%s %s", m->replayed ? " (replayed)" : "", m->topic);
}

static void send_next(struct gf_agent *a, void *arg)
{
	struct probe_conf *c = gf_agent_conf(a);
	char payload[256];

	(void)arg;
	if (P.sent >= c->send_count)
		return;
	if (P.store) {
		/* Committed to the outbox = handed over: the store sends it. */
		long first = P.sent + 1, last = P.sent + c->send_batch;
		bool ok = gf_store_begin(P.store) == GF_OK;
		if (last > c->send_count)
			last = c->send_count;
		for (long i = first; ok && i <= last; i++) {
			snprintf(payload, sizeof(payload),
			         "{\"readings\":[{\"observedTimestamp\":\"2020-02-27T20:15:00Z\","
			         "\"deviceId\":\"%s-%ld\",\"value\":1.5}]}",
			         c->send_mark, i);
			ok = gf_store_outbox_add(P.store, c->send_topic, payload, strlen(payload),
			                         NULL, false) == GF_OK;
		}
		if (!ok || gf_store_commit(P.store) != GF_OK) {
			gf_store_rollback(P.store);
			gf_agent_fail(a, "the outbox failed");
			return;
		}
		for (P.sent = first; P.sent <= last; P.sent++)
			fprintf(P.sent_log, "%ld\n", P.sent);
		P.sent = last;
		fflush(P.sent_log);
		gf_store_outbox_flush(P.store, gf_agent_bus(a));
	} else {
		P.sent++;
		snprintf(payload, sizeof(payload),
		         "{\"readings\":[{\"observedTimestamp\":\"2020-02-27T20:15:00Z\","
		         "\"deviceId\":\"%s-%ld\",\"value\":1.5}]}",
		         c->send_mark, P.sent);
		if (gf_bus_publish(gf_agent_bus(a), c->send_topic, payload, strlen(payload), NULL,
		                   false, NULL, 0, (uint64_t)P.sent) != GF_OK) {
			gf_log_err("GF-PROBE-SEND", "cannot publish %s-%ld", c->send_mark, P.sent);
			P.sent--;
		} else {
			/* Handed to the bus (kept in memory until its PUBACK). */
			fprintf(P.sent_log, "%ld\n", P.sent);
			fflush(P.sent_log);
		}
	}
	if (P.sent < c->send_count)
		gf_agent_timer_at(a,
		                  gf_agent_now(a) + (double)c->send_every_ms / 1000.0 *
		                                        (double)c->agent.time_scale,
		                  send_next, NULL);
	else
		gf_log_notice("GF-PROBE-SENT", "all %ld handed to the bus", P.sent);
}

static void send_poison(struct gf_agent *a, const struct probe_conf *c)
{
	static const char head[] = "{\"readings\":[{\"deviceId\":\"";
	static const char tail[] = "\",\"value\":1}]}";
	size_t n = (size_t)c->poison_bytes, len = strlen(head) + n + strlen(tail);
	char *payload = malloc(len + 1);

	if (!payload)
		return;
	memcpy(payload, head, strlen(head));
	memset(payload + strlen(head), 'x', n);
	memcpy(payload + strlen(head) + n, tail, sizeof(tail));
	if (gf_bus_publish(gf_agent_bus(a), c->poison_topic ? c->poison_topic : c->send_topic,
	                   payload, len, NULL, false, NULL, 0, 0) == GF_OK)
		gf_log_notice("GF-PROBE-POISON", "published %zu bytes", len);
	free(payload);
}

static void tick(struct gf_agent *a, void *arg)
{
	struct probe_conf *c = gf_agent_conf(a);

	(void)arg;
	gf_log_notice("GF-PROBE-TICK", "simulated time %.0f", gf_agent_now(a));
	gf_agent_timer_at(a, gf_agent_now(a) + (double)c->tick_s, tick, NULL);
}

/* One more connection per identity of `extra`. */
static enum gf_err open_extra(struct gf_agent *a, struct probe_conf *c)
{
	char list[1024], filter[256], state[4096], err[512];
	char *save = NULL;

	snprintf(list, sizeof(list), "%s", c->extra);
	for (char *id = strtok_r(list, " ", &save); id; id = strtok_r(NULL, " ", &save)) {
		struct gf_bus_opts o = {.host = c->agent.broker_host,
		                        .port = (int)c->agent.broker_port,
		                        .password_file = c->agent.password_file,
		                        .ident = id,
		                        .site = c->agent.site,
		                        .state_dir = state,
		                        .version = "test"};
		struct gf_bus *bus;
		char *dot = strchr(id, '.');

		snprintf(state, sizeof(state), "%s/%s", c->agent.state_dir, id);
		mkdir(state, 0700);
		if (!dot || gf_agent_bus_add(a, &o, NULL, &bus, err, sizeof(err)) != GF_OK) {
			gf_log_err("GF-PROBE-EXTRA", "cannot open %s: %s", id,
			           dot ? err : "not R.I");
			return GF_EINVAL;
		}
		*dot = '\0';
		snprintf(filter, sizeof(filter), "gf/%s/+/+/%s/%s/#", c->agent.site, id, dot + 1);
		if (gf_bus_subscribe(bus, filter) != GF_OK)
			return GF_ENOMEM;
	}
	return GF_OK;
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct probe_conf *c = conf;
	char path[4096], line[64];
	FILE *f;

	if (c->listen && gf_bus_subscribe(gf_agent_bus(a), c->listen) != GF_OK)
		return GF_ENOMEM;
	if (c->record)
		load_record(c->record);
	snprintf(path, sizeof(path), "%s/sent.log", c->agent.state_dir);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			P.sent = atol(line);
		fclose(f);
	}
	P.sent_log = fopen(path, "a");
	if (!P.sent_log)
		return GF_EIO;
	if (c->send_outbox) {
		char err[512];

		if (gf_store_open(c->agent.state_dir, "probe", NULL, &P.store, err, sizeof(err)) !=
		    GF_OK) {
			gf_log_err("GF-PROBE-STORE", "%s", err);
			return GF_EIO;
		}
		gf_store_outbox_flush(P.store, gf_agent_bus(a));
	}
	if (c->send_topic && c->poison_bytes)
		send_poison(a, c);
	if (c->send_topic && c->send_count)
		gf_agent_timer_at(a, gf_agent_now(a), send_next, NULL);
	if (c->tick_s)
		gf_agent_timer_at(a, gf_agent_now(a) + (double)c->tick_s, tick, NULL);
	if (c->extra)
		return open_extra(a, c);
	return GF_OK;
}

/* What the outbox holds and the bus does not (a publish failed on the way)
 * goes out again when the connection is back, as in every agent. */
static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	if (P.store && (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED))
		gf_store_outbox_flush(P.store, gf_agent_bus(a));
}

static void stop(struct gf_agent *a)
{
	(void)a;
	gf_log_notice("GF-PROBE-STOP", "stopping with %zu recorded, %ld sent", P.nseen, P.sent);
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "agent_probe",
	    .summary = "the runtime's test agent: records what it receives, sends numbered marks",
	    .version = "test",
	    .table = table,
	    .conf_size = sizeof(struct probe_conf),
	    .common_offset = offsetof(struct probe_conf, agent),
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .stop = stop,
	};
	int code = gf_agent_main(&def, argc, argv);

	for (size_t i = 0; i < P.nseen; i++)
		free(P.seen[i]);
	free(P.seen);
	if (P.sent_log)
		fclose(P.sent_log);
	gf_store_close(P.store);
	return code;
}
