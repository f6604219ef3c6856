/* SPDX-License-Identifier: MIT */
/*
 * load.c - the load generator of the broker benchmark (tests/bench/run.sh).
 *
 *   load port                  print a free TCP port on 127.0.0.1
 *   load ids N                 print the usernames of N benchmark identities, one a line
 *   load wait  -p PORT         wait until the broker admits the first identity
 *   load idle  -p PORT -c N    connect N idle identities (from index -f, default 10),
 *                              each subscribed to its own address; stay until SIGTERM
 *   load probe -p PORT [-V VARIANT]
 *                              publish a table of allowed and forbidden flows, report who
 *                              received what; exit 1 if that differs from the catalogue (and,
 *                              for VARIANT "validate", from payload validation)
 *   load run -w p2p|fanout|fanin|offer [-n MSGS] [-r ROUNDS] [-u WARMUP] [-W WINDOW]
 *            [-q QOS] [-e ENCODING] [-s SLICES] NAME=PORT:PID...
 *   load payload p2p|fanout|fanin|invalid|MSG
 *   load payload offer [-e ENCODING] [-s SLICES]
 *                              print the payload of a workload (sequence 0), the probe's
 *                              invalid FlexOffer, or the probe's payload of message type MSG,
 *                              e.g. for gfctl validate
 *
 * "run" connects the workload's publishers and subscribers (MQTT v5, QoS 1) to every broker
 * given, waits for every CONNACK and SUBACK, then sends bursts to one broker at a time:
 * each publisher sends MSGS messages with at most WINDOW unacknowledged, and the burst ends
 * when every subscriber has every message it is owed and every PUBACK is in. The broker's
 * CPU time (utime + stime of /proc/PID/stat) is read just before and just after, so
 * connecting and subscribing are never counted. WARMUP unmeasured bursts per broker come
 * first, then ROUNDS measured ones; the brokers' order rotates from round to round, so
 * each measurement of one broker sits next to one of every other. One line per burst:
 *
 *   RESULT variant=NAME round=R workload=W publishers=P subscribers=S published=N
 *          delivered=D cpu_ticks=T wall_s=SECONDS payload_bytes=B
 *
 * The "offer" workload (issue 16: what payload validation costs per encoding and size): ten
 * FOA connections publish to the FMAN pool a FlexOffer in the form the GOFLEX FlexOffer
 * Manager writes (pretty-printed, ".000+0000" times, nulls, 17-digit numbers, a default
 * schedule) of SLICES slices (default 24, 7.3 kB of JSON; 1 gives 1.3 kB, 250 64 kB), in
 * ENCODING json (default), protobuf or msgpack (the JSON decoded by the codec and encoded
 * again, sent with that Content Type). With -q 0 the publishes are QoS 0 and the window
 * counts messages not yet delivered to the subscriber (there are no PUBACKs to count).
 *
 * Payloads are valid catalogue messages in canonical JSON (Content Type application/json),
 * the same bytes for every broker, so that a broker validating them does all of its work
 * and the others are measured on the same traffic: p2p and fan-in publish a FlexOffer of
 * 24 profile slices (msg flexoffer, about 4 kB), fan-out an hourly WeatherSeries of 24
 * hours (msg weather.forecast). Each carries its tag "b-PP-SSSSSSSSS" (publisher,
 * sequence; fixed width, so every message of a workload has the same size) in a string
 * field: the FlexOffer's label, the forecast's source. Each subscriber (or shared-
 * subscription group) keeps a bitmap of what it got, and a missing, duplicated, stray or
 * refused message, or one delivered by the wrong broker or outside its burst, is an error
 * (exit 1) that says how many.
 *
 * Common options: -H host (127.0.0.1), -P password (bench-secret), -S site (site1),
 * -t timeout in seconds (120). Everything runs in one thread around one poll() loop; the
 * CPU it spends is not measured, only the broker's.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "payload/codec.h"
#include "payload/schema.h"

#define N_CORE      10  /* identities every workload draws from */
#define N_OBSERVERS 4   /* probe: clients subscribed to the whole site tree */
#define NAME_MAX_   128 /* client ids, usernames */
#define TOPIC_MAX   256

/* The ten identities the workloads use, whatever the number registered; the rest
 * ("foa.9-PRE-00001", ...) exist only to be registered and, some, connected idle. */
static const char *const core_ids[N_CORE] = {
    "sp.forecast-1", "fman.pool-1",   "fman.pool-2",   "foa.7-PRE-001", "foa.7-PRE-002",
    "foa.7-PRE-003", "foa.7-PRE-004", "foa.7-PRE-005", "foa.7-PRE-006", "foa.7-PRE-007",
};
#define CORE_SP    0
#define CORE_FMAN1 1
#define CORE_FMAN2 2
#define CORE_FOA1  3
#define N_FOA      7

enum kind { KIND_PUB, KIND_SUB, KIND_IDLE };

/* A broker under test ("run" drives several, one burst at a time). */
struct target {
	char name[32];
	int port;
	pid_t pid;
	size_t first; /* its clients in B.c: npub publishers, then subscribers */
	size_t nsub;
	uint8_t *shared_seen; /* the $share group's bitmap, or NULL */
	long received;        /* first deliveries over its subscribers (or its group) */
	long bursts;          /* bursts completed */
};

struct client {
	struct mosquitto *mosq;
	struct target *t;
	enum kind kind;
	char id[NAME_MAX_ + 32]; /* user, '@', suffix */
	char user[NAME_MAX_];
	char topic[TOPIC_MAX]; /* publishers: where they publish; others: their filter */
	int index;             /* publishers: 0..npub-1; probe observers: 0..N_OBSERVERS-1 */
	bool connected, subscribed, closed;
	bool expect_drop; /* the broker may close this connection: not an error */
	/* publisher */
	long sent, acked, inflight, refused, unrouted;
	int last_reason;
	/* subscriber */
	uint8_t *seen; /* bit (publisher * sequence space + seq); shared by a $share group */
	long received, dups, strays;
};

struct bench {
	const char *host, *password, *site;
	int port;
	double timeout;
	struct client *c;
	size_t n;
	struct target single; /* the one broker of probe, wait and idle */
	struct target *targets, *active;
	size_t ntargets;
	int npub;            /* publishers per target */
	long msgs;           /* messages per publisher per burst */
	long rounds, warmup; /* measured bursts per target, and unmeasured ones before */
	long seq_space;      /* sequence numbers per publisher: msgs * (warmup + rounds) */
	long burst_end;      /* active burst: publishers send sequence numbers below this */
	long window;
	bool fatal;
	/* probe */
	const char *variant; /* the broker's variant: "validate" refuses invalid payloads */
	/* run */
	int qos;                       /* of the publishes: 1, or 0 (window by deliveries) */
	enum gf_codec_format encoding; /* of the offer workload */
	long slices;                   /* of the offer workload's FlexOffer */
	int probe_seen[32];            /* case -> bitmask of observers that received it */
};

static struct bench B = {
    .host = "127.0.0.1",
    .password = "bench-secret",
    .site = "site1",
    .timeout = 120.0,
    .msgs = 10000,
    .rounds = 1,
    .warmup = 1,
    .window = 16,
    .variant = "",
    .qos = 1,
    .encoding = GF_CODEC_JSON,
    .slices = 24,
};
static mosquitto_property *content_type; /* application/json, on every publish */
static volatile sig_atomic_t stop_requested;
static bool quiet; /* "wait" expects refusals until the broker is up */

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;

	B.fatal = true;
	if (quiet)
		return;
	fputs("load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process, in clock ticks; 0 on error (reported). */
static unsigned long long cpu_ticks(pid_t pid)
{
	char path[64], buf[2048];
	unsigned long long v[2] = {0, 0};
	ssize_t len;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fail("%s: %s", path, strerror(errno));
		return 0;
	}
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0) {
		fail("%s: unreadable", path);
		return 0;
	}
	buf[len] = '\0';
	/* The command name may hold spaces and parentheses: fields restart after the last
	 * ')'. Field 3 (state) follows; utime and stime are fields 14 and 15. */
	p = strrchr(buf, ')');
	if (!p) {
		fail("%s: unexpected format", path);
		return 0;
	}
	p++;
	for (int field = 3; field <= 15 && p; field++) {
		while (*p == ' ')
			p++;
		if (field >= 14)
			v[field - 14] = strtoull(p, NULL, 10);
		p = strchr(p, ' ');
	}
	return v[0] + v[1];
}

/* --- identities ------------------------------------------------------------ */

static void ident_name(size_t i, char *buf, size_t size)
{
	if (i < N_CORE)
		snprintf(buf, size, "%s", core_ids[i]);
	else
		snprintf(buf, size, "foa.9-PRE-%05zu", i - N_CORE + 1);
}

/* "foa.7-PRE-001" -> role "foa", id "7-PRE-001" (split at the first dot). */
static void ident_split(const char *user, char *role, size_t rsize, const char **id)
{
	const char *dot = strchr(user, '.');
	size_t rlen = (size_t)(dot - user);

	if (rlen >= rsize)
		rlen = rsize - 1;
	memcpy(role, user, rlen);
	role[rlen] = '\0';
	*id = dot + 1;
}

/* --- clients and the poll loop --------------------------------------------- */

static void on_connect(struct mosquitto *mosq, void *ud, int rc, int flags,
                       const mosquitto_property *props)
{
	struct client *c = ud;

	(void)mosq;
	(void)flags;
	(void)props;
	if (rc != 0) {
		fail("%s (user %s): connection refused: %s (reason 0x%02x)", c->id, c->user,
		     mosquitto_reason_string(rc), (unsigned)rc);
		return;
	}
	c->connected = true;
}

static void on_disconnect(struct mosquitto *mosq, void *ud, int rc, const mosquitto_property *props)
{
	struct client *c = ud;

	(void)mosq;
	(void)props;
	c->closed = true;
	if (!stop_requested && !c->expect_drop && c->connected && rc != 0)
		fail("%s: connection lost (%d)", c->id, rc);
	c->connected = false;
}

static void on_subscribe(struct mosquitto *mosq, void *ud, int mid, int count, const int *granted,
                         const mosquitto_property *props)
{
	struct client *c = ud;

	(void)mosq;
	(void)mid;
	(void)props;
	if (count != 1 || granted[0] >= 0x80) {
		fail("%s (user %s): subscription to '%s' refused (reason 0x%02x)", c->id, c->user,
		     c->topic, count == 1 ? (unsigned)granted[0] : 0u);
		return;
	}
	c->subscribed = true;
}

static void on_publish(struct mosquitto *mosq, void *ud, int mid, int reason,
                       const mosquitto_property *props)
{
	struct client *c = ud;

	(void)mosq;
	(void)mid;
	(void)props;
	c->acked++;
	if (B.qos != 0) /* QoS 0: on_message counts the window down */
		c->inflight--;
	c->last_reason = reason;
	if (reason >= 0x80)
		c->refused++;
	else if (reason == MQTT_RC_NO_MATCHING_SUBSCRIBERS)
		c->unrouted++;
}

/* --- payloads: valid catalogue messages carrying a tag ----------------------- */

/* The tag "b-PP-SSSSSSSSS": publisher (or PROBE_PUB) and sequence, fixed width. */
#define TAG_FMT   "b-%02ld-%09ld"
#define TAG_LEN   14
#define TAG_SCAN  512 /* the tag sits this near the start of every payload */
#define PROBE_PUB 99  /* probe payloads: the probe case is the sequence */
#define SEQ_LIMIT 1000000000L

/* Reads the tag at t (TAG_LEN bytes): "b-" PP "-" SSSSSSSSS. */
static int tag_read(const char *t, long *pub, long *seq)
{
	long v[2] = {0, 0};

	if (t[0] != 'b' || t[1] != '-')
		return -1;
	for (int k = 0, i = 2; k < 2; k++, i++) {
		int digits = k == 0 ? 2 : 9;
		for (int d = 0; d < digits; d++, i++) {
			if (t[i] < '0' || t[i] > '9')
				return -1;
			v[k] = v[k] * 10 + (t[i] - '0');
		}
		if (k == 0 && t[i] != '-')
			return -1;
	}
	*pub = v[0];
	*seq = v[1];
	return 0;
}

/* Finds the tag (the first "b-" followed by the tag's digits; in JSON the first string
 * value starting "b-", in protobuf and msgpack the label's bytes) and reads it. */
static int payload_parse(const void *p, int len, long *pub, long *seq)
{
	const char *s = p, *t = s, *end = s + len;
	size_t n;

	/* The canonical workloads have the tag within TAG_SCAN bytes; the offer workload's
	 * FlexOffers in protobuf may have it anywhere. */
	if (B.encoding == GF_CODEC_JSON && B.slices == 24 && len > TAG_SCAN)
		end = s + TAG_SCAN;
	while ((n = (size_t)(end - t)) >= TAG_LEN && (t = memmem(t, n, "b-", 2)) != NULL) {
		if ((size_t)(end - t) >= TAG_LEN && tag_read(t, pub, seq) == 0)
			return 0;
		t++;
	}
	return -1;
}

/* A payload and where its tag is. */
struct payload {
	char text[80 * 1024]; /* the offer workload's largest, 250 slices, is about 64 kB */
	size_t len, tag;
};

__attribute__((format(printf, 2, 3))) static void app(struct payload *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p->text + p->len, sizeof(p->text) - p->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(p->text) - p->len)
		abort(); /* the documents below are of fixed size, well under the buffer */
	p->len += (size_t)n;
}

/* Writes the tag (pub, seq) into p, in place: "b-" PP "-" SSSSSSSSS. */
static void payload_tag(struct payload *p, long pub, long seq)
{
	char *d = p->text + p->tag;

	for (int i = 3; i >= 2; i--, pub /= 10)
		d[i] = (char)('0' + pub % 10);
	for (int i = TAG_LEN - 1; i >= 5; i--, seq /= 10)
		d[i] = (char)('0' + seq % 10);
}

/* Starts p and appends its tag as a JSON string (placeholder value). */
static void app_tag(struct payload *p)
{
	app(p, "\"");
	p->tag = p->len;
	app(p, TAG_FMT, 0L, 0L);
	app(p, "\"");
}

/* RFC 3339 UTC of a 900 s interval number. */
static const char *interval_time(long interval, char *buf, size_t size)
{
	time_t t = (time_t)interval * 900;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

#define FO_CREATION     1758705L /* 2020-02-27T20:15:00Z */
#define FO_START_AFTER  1758706L /* 20:30, also the acceptance and assignment deadlines */
#define FO_START_BEFORE 1758710L /* 21:30 */
#define FO_SLICES       24

/*
 * A FlexOffer of 24 one-interval slices as a FOA offers it, in the codec's canonical JSON
 * (fields in schema order, no whitespace; gf_codec_to_json gives back the same bytes); the
 * tag is its label. invalid: slice 2's lower bound above its upper, which the codec
 * accepts and validation refuses
 * ("flexOfferProfileConstraints[2].energyConstraintList[0]: lower 9 > upper 3").
 */
static void flexoffer_doc(struct payload *p, bool invalid)
{
	static const double lower[4] = {0.5, 0.75, 1, 1.25};
	char t[5][32];

	p->len = 0;
	app(p, "{\"label\":");
	app_tag(p);
	app(p,
	    ",\"state\":\"Offered\",\"creationInterval\":%ld,\"offeredById\":\"7-PRE-001\","
	    "\"acceptanceBeforeInterval\":%ld,\"assignmentBeforeInterval\":%ld,"
	    "\"startAfterInterval\":%ld,\"startBeforeInterval\":%ld,\"assignment\":\"obligatory\","
	    "\"flexOfferProfileConstraints\":[",
	    FO_CREATION, FO_START_AFTER, FO_START_AFTER, FO_START_AFTER, FO_START_BEFORE);
	for (int i = 0; i < FO_SLICES; i++)
		app(p,
		    "%s{\"energyConstraintList\":[{\"lower\":%g,\"upper\":%g}],"
		    "\"tariffConstraint\":{\"minTariff\":-0.05,\"maxTariff\":0.06},"
		    "\"minDuration\":1,\"maxDuration\":1}",
		    i ? "," : "", invalid && i == 2 ? 9 : lower[i % 4], 2.5 + 0.25 * (i % 8));
	app(p,
	    "],\"creationTime\":\"%s\",\"startAfterTime\":\"%s\",\"startBeforeTime\":\"%s\","
	    "\"assignmentBeforeTime\":\"%s\",\"acceptanceBeforeTime\":\"%s\",",
	    interval_time(FO_CREATION, t[0], sizeof(t[0])),
	    interval_time(FO_START_AFTER, t[1], sizeof(t[1])),
	    interval_time(FO_START_BEFORE, t[2], sizeof(t[2])), t[1], t[1]);
	app(p,
	    "\"endAfterInterval\":%ld,\"endBeforeInterval\":%ld,\"endAfterTime\":\"%s\","
	    "\"endBeforeTime\":\"%s\",\"numSecondsPerInterval\":900,"
	    "\"totalEnergyConstraint\":{\"lower\":30,\"upper\":60}}",
	    FO_START_AFTER + FO_SLICES, FO_START_BEFORE + FO_SLICES,
	    interval_time(FO_START_AFTER + FO_SLICES, t[3], sizeof(t[3])),
	    interval_time(FO_START_BEFORE + FO_SLICES, t[4], sizeof(t[4])));
}

/*
 * The offer workload's FlexOffer: slices one-interval slices in the GOFLEX FlexOffer
 * Manager's form (tabs and newlines, ".000+0000" offsets, null fields, 17-digit numbers,
 * a default schedule), as tests/bench/codec_bench.c writes it; the tag is its label. The
 * total energy bounds follow the slices so that any number of them is valid.
 */
static void goflex_offer_doc(struct payload *p, long slices)
{
	double total = 0;

	p->len = 0;
	app(p, "{\n\t\"id\": null,\n\t\"label\": ");
	app_tag(p);
	app(p,
	    ",\n\t\"state\": \"Offered\",\n\t\"stateReason\": null,\n\t"
	    "\"creationInterval\": %ld,\n\t\"offeredById\": \"7500001\",\n\t"
	    "\"locationId\": {},\n\t\"acceptanceBeforeInterval\": %ld,\n\t"
	    "\"assignmentBeforeInterval\": %ld,\n\t\"startAfterInterval\": %ld,\n\t"
	    "\"startBeforeInterval\": %ld,\n\t\"assignment\": \"obligatory\",\n\t"
	    "\"flexOfferProfileConstraints\": [",
	    FO_CREATION, FO_START_AFTER, FO_START_AFTER, FO_START_AFTER, FO_START_BEFORE);
	for (long i = 0; i < slices; i++)
		app(p,
		    "%s\n\t\t{\"energyConstraintList\": [{\"lower\": %.4f, \"upper\": %.17g}], "
		    "\"tariffConstraint\": {\"minTariff\": -0.05, \"maxTariff\": %.17g}, "
		    "\"minDuration\": 1, \"maxDuration\": 1}",
		    i ? "," : "", 0.1 * (double)i, 0.5354 + (double)i / 7.0,
		    0.3441725812476 + (double)i / 3.0);
	app(p, "],\n\t\"flexOfferTariffConstraint\": null,\n\t\"defaultSchedule\": "
	       "{\"scheduleId\": 0, \"updateId\": 0, \"scheduleSlices\": [");
	for (long i = 0; i < slices; i++) {
		double e = 0.25 + (double)i / 9.0;
		total += e;
		app(p, "%s{\"duration\": 1, \"energyAmount\": %.17g, \"tariff\": %.3f}",
		    i ? ", " : "", e, 0.01 * (double)(i % 100));
	}
	app(p,
	    "], \"startTime\": \"2020-02-27T20:30:00.000+0000\"},\n\t\"flexOfferSchedule\": "
	    "null,\n\t\"creationTime\": \"2020-02-27T20:15:00.000+0000\",\n\t"
	    "\"startAfterTime\": \"2020-02-27T20:30:00.000+0000\",\n\t\"startBeforeTime\": "
	    "\"2020-02-27T21:30:00.000+0000\",\n\t\"assignmentBeforeTime\": "
	    "\"2020-02-27T20:30:00.000+0000\",\n\t\"endBeforeInterval\": %ld,\n\t"
	    "\"numSecondsPerInterval\": 900,\n\t\"acceptanceBeforeTime\": "
	    "\"2020-02-27T20:30:00.000+0000\",\n\t\"endAfterInterval\": %ld,\n\t"
	    "\"totalEnergyConstraint\": {\"lower\": 0, \"upper\": %.0f}\n}\n",
	    FO_START_BEFORE + slices, FO_START_AFTER + slices, total + 1);
}

/* The offer workload's payload in B.encoding: the JSON above, or the codec's encoding of
 * it; the tag found again in the bytes. False (with a message) if the codec refuses. */
static bool offer_doc(struct payload *p)
{
	static const char placeholder[] = "b-00-000000000";
	const ProtobufCMessageDescriptor *d = gf_schema_find("flexoffer", 9);
	char err[GF_CODEC_ERRLEN];
	ProtobufCMessage *m = NULL;
	void *enc = NULL;
	size_t len;
	const char *t;

	goflex_offer_doc(p, B.slices);
	if (B.encoding == GF_CODEC_JSON)
		return true;
	if (!d || gf_codec_from_json(d, p->text, p->len, &m, err, sizeof(err)) != GF_OK ||
	    gf_codec_encode(B.encoding, m, &enc, &len) != GF_OK || len > sizeof(p->text)) {
		fprintf(stderr, "load: the offer does not encode: %s\n", d ? err : "no schema");
		gf_codec_free(m);
		free(enc);
		return false;
	}
	memcpy(p->text, enc, len);
	p->len = len;
	t = memmem(p->text, len, placeholder, TAG_LEN);
	p->tag = t ? (size_t)(t - p->text) : 0;
	gf_codec_free(m);
	free(enc);
	if (!t)
		fputs("load: the tag is not in the encoded offer\n", stderr);
	return t != NULL;
}

/* A day-ahead hourly forecast for Bern, canonical JSON; the tag is its source. */
static void weather_doc(struct payload *p)
{
	p->len = 0;
	app(p, "{\"location\":{\"latitude\":46.948,\"longitude\":7.447,\"country\":\"CH\"},"
	       "\"issuedTime\":\"2020-02-27T18:00:00Z\",\"startTime\":\"2020-02-28T00:00:00Z\","
	       "\"intervalLength\":3600,\"source\":");
	app_tag(p);
	app(p, ",\"temperature\":[0.5,-0.3,-0.8,-1,-0.8,-0.3,0.5,1.5,2.7,4,5.3,6.5,7.5,8.3,8.8,9,"
	       "8.8,8.3,7.5,6.5,5.3,4,2.7,1.5],"
	       "\"relativeHumidity\":[91,93,94,95,94,93,91,88,84,80,76,72,69,67,66,65,66,67,69,72,"
	       "76,80,84,88],"
	       "\"windSpeed\":[3,3.3,3.6,3.8,4.1,4.3,4.4,4.5,4.5,4.5,4.4,4.2,4,3.8,3.5,3.2,2.9,2.6,"
	       "2.3,2.1,1.9,1.7,1.6,1.5],"
	       "\"windDirection\":[240,240,250,250,260,260,270,270,270,280,280,280,290,290,290,280,"
	       "280,270,270,260,260,250,250,240],"
	       "\"cloudCover\":[75,80,85,90,90,85,80,70,60,50,40,35,30,35,40,50,60,70,75,80,80,75,"
	       "70,70],"
	       "\"globalIrradiance\":[0,0,0,0,0,0,0,0,139,265,364,428,450,428,364,265,139,0,0,0,0,"
	       "0,0,0],"
	       "\"pressure\":[1016.2,1016,1015.8,1015.5,1015.3,1015.1,1015,1015,1015.1,1015.2,1015,"
	       "1014.7,1014.3,1013.9,1013.6,1013.4,1013.4,1013.5,1013.7,1013.8,1013.8,1013.7,"
	       "1013.6,1013.4]}");
}

/* The probe's payload for message type msg (the topic's last level): a valid message of
 * that type unless invalid; the tag is (PROBE_PUB, case). */
static bool probe_doc(struct payload *p, const char *msg, bool invalid)
{
	p->len = 0;
	if (strcmp(msg, "flexoffer") == 0) {
		flexoffer_doc(p, invalid);
	} else if (strcmp(msg, "weather.forecast") == 0) {
		weather_doc(p);
	} else if (strcmp(msg, "flexoffer.assign") == 0) {
		app(p, "{\"flexOfferId\":");
		app_tag(p);
		app(p, ",\"flexOfferSchedule\":{\"scheduleId\":1,\"updateId\":0,"
		       "\"startTime\":\"2020-02-27T20:30:00Z\",\"scheduleSlices\":["
		       "{\"duration\":1,\"energyAmount\":1.5,\"tariff\":0.04}]}}");
	} else if (strcmp(msg, "meter.data") == 0) {
		app(p,
		    "{\"readings\":[{\"observedTimestamp\":\"2020-02-27T20:15:00Z\",\"deviceId\":");
		app_tag(p);
		app(p, ",\"value\":1234.5,\"obis\":\"1-0:1.8.0\",\"unit\":\"kWh\"}]}");
	} else if (strcmp(msg, "foa.reply") == 0) {
		app(p, "{\"ack\":{\"ack\":true},\"flexibilityReject\":[{\"flexOfferId\":");
		app_tag(p);
		app(p, ",\"reason\":\"window already closed\"}]}");
	} else if (strcmp(msg, "kpi") == 0) {
		app(p, "{\"kpiId\":");
		app_tag(p);
		app(p,
		    ",\"value\":3,\"unit\":\"count\",\"observedTime\":\"2020-02-27T20:15:00Z\"}");
	} else {
		return false;
	}
	return true;
}

static void on_message(struct mosquitto *mosq, void *ud, const struct mosquitto_message *msg,
                       const mosquitto_property *props)
{
	struct client *c = ud;
	struct target *t = c->t;
	long pub, seq;
	size_t bit;

	(void)mosq;
	(void)props;
	if (c->kind != KIND_SUB || !c->seen)
		return;
	/* Only the burst's broker may deliver, only what its publishers sent. */
	if (t != B.active || payload_parse(msg->payload, msg->payloadlen, &pub, &seq) != 0 ||
	    pub < 0 || pub >= B.npub || seq < 0 || seq >= B.burst_end ||
	    strcmp(msg->topic, B.c[t->first + (size_t)pub].topic) != 0) {
		c->strays++;
		return;
	}
	bit = (size_t)pub * (size_t)B.seq_space + (size_t)seq;
	if (c->seen[bit / 8] & (1u << (bit % 8))) {
		c->dups++;
		return;
	}
	c->seen[bit / 8] = (uint8_t)(c->seen[bit / 8] | (1u << (bit % 8)));
	c->received++;
	t->received++;
	if (B.qos == 0) /* one subscriber: a delivery closes its publisher's window slot */
		B.c[t->first + (size_t)pub].inflight--;
}

static int client_open(struct client *c)
{
	int v5 = MQTT_PROTOCOL_V5;
	int rc;

	c->mosq = mosquitto_new(c->id, true, c);
	if (!c->mosq) {
		fail("%s: mosquitto_new failed", c->id);
		return -1;
	}
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, v5);
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_int_option(c->mosq, MOSQ_OPT_RECEIVE_MAXIMUM, 64);
	mosquitto_username_pw_set(c->mosq, c->user, B.password);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish);
	mosquitto_message_v5_callback_set(c->mosq, on_message);
	rc = mosquitto_connect_bind_v5(c->mosq, B.host, c->t->port, 60, NULL, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		fail("%s: cannot connect to %s:%d: %s", c->id, B.host, c->t->port,
		     rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

/* One poll() over every open connection, then read what is there. libmosquitto reads
 * one packet per call and keeps nothing buffered, so FIONREAD tells whether to go on. */
static void pump(int timeout_ms)
{
	static struct pollfd *fds;
	static size_t *who, cap;
	size_t nfds = 0;
	int rc;

	if (cap < B.n) {
		free(fds);
		free(who);
		cap = B.n;
		fds = calloc(cap, sizeof(*fds));
		who = calloc(cap, sizeof(*who));
		if (!fds || !who) {
			fail("out of memory");
			return;
		}
	}
	for (size_t i = 0; i < B.n; i++) {
		struct client *c = &B.c[i];
		int fd = c->mosq ? mosquitto_socket(c->mosq) : -1;
		if (fd < 0)
			continue;
		fds[nfds].fd = fd;
		fds[nfds].events = (short)(POLLIN | (mosquitto_want_write(c->mosq) ? POLLOUT : 0));
		fds[nfds].revents = 0;
		who[nfds++] = i;
	}
	rc = poll(fds, nfds, timeout_ms);
	if (rc < 0 && errno != EINTR)
		fail("poll: %s", strerror(errno));
	if (rc <= 0)
		return;
	for (size_t k = 0; k < nfds; k++) {
		struct client *c = &B.c[who[k]];
		int avail, budget = 256;
		if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
			do {
				rc = mosquitto_loop_read(c->mosq, 1);
				avail = 0;
				if (rc == MOSQ_ERR_SUCCESS &&
				    ioctl(fds[k].fd, FIONREAD, &avail) != 0)
					avail = 0;
			} while (rc == MOSQ_ERR_SUCCESS && avail > 0 && --budget > 0);
			if (rc != MOSQ_ERR_SUCCESS && !c->closed && !c->expect_drop &&
			    !stop_requested)
				fail("%s: connection lost: %s", c->id, mosquitto_strerror(rc));
		}
		if ((fds[k].revents & POLLOUT) && c->mosq)
			mosquitto_loop_write(c->mosq, 1);
	}
}

static void misc_all(void)
{
	for (size_t i = 0; i < B.n; i++) {
		if (B.c[i].mosq)
			mosquitto_loop_misc(B.c[i].mosq);
	}
}

typedef bool (*cond_fn)(void);

/* Runs the loop until cond() holds; false (with a message) on timeout or error. */
static bool pump_until(cond_fn cond, void (*step)(void), double timeout, const char *what)
{
	double deadline = now_s() + timeout, last_misc = now_s();

	while (!B.fatal && !cond()) {
		if (stop_requested) {
			fail("interrupted while %s", what);
			return false;
		}
		if (now_s() > deadline) {
			fail("timeout after %.0f s while %s", timeout, what);
			return false;
		}
		if (step)
			step();
		pump(50);
		if (now_s() - last_misc > 1.0) {
			misc_all();
			last_misc = now_s();
		}
	}
	return !B.fatal;
}

static bool all_connected(void)
{
	for (size_t i = 0; i < B.n; i++) {
		if (!B.c[i].connected)
			return false;
	}
	return true;
}

static bool all_subscribed(void)
{
	for (size_t i = 0; i < B.n; i++) {
		if (B.c[i].kind != KIND_PUB && !B.c[i].subscribed)
			return false;
	}
	return true;
}

static bool all_closed(void)
{
	for (size_t i = 0; i < B.n; i++) {
		if (B.c[i].mosq && !B.c[i].closed)
			return false;
	}
	return true;
}

/* Connects every client, subscribes the non-publishers, waits for both. */
static bool open_all(void)
{
	for (size_t i = 0; i < B.n; i++) {
		if (client_open(&B.c[i]) != 0)
			return false;
		/* Keep the broker's accept queue and our CONNACK backlog short. */
		if (i % 32 == 31)
			pump(0);
	}
	if (!pump_until(all_connected, NULL, B.timeout, "connecting"))
		return false;
	for (size_t i = 0; i < B.n; i++) {
		struct client *c = &B.c[i];
		if (c->kind == KIND_PUB)
			continue;
		int rc = mosquitto_subscribe_v5(c->mosq, NULL, c->topic, 1, 0, NULL);
		if (rc != MOSQ_ERR_SUCCESS) {
			fail("%s: subscribe: %s", c->id, mosquitto_strerror(rc));
			return false;
		}
	}
	return pump_until(all_subscribed, NULL, B.timeout, "subscribing");
}

static void close_all(void)
{
	bool was = stop_requested;

	stop_requested = 1; /* losing connections is expected from here on */
	for (size_t i = 0; i < B.n; i++) {
		if (B.c[i].mosq && B.c[i].connected)
			mosquitto_disconnect_v5(B.c[i].mosq, 0, NULL);
		else if (B.c[i].mosq)
			B.c[i].closed = true;
	}
	pump_until(all_closed, NULL, 5.0, "disconnecting");
	for (size_t i = 0; i < B.n; i++) {
		if (B.c[i].mosq)
			mosquitto_destroy(B.c[i].mosq);
		B.c[i].mosq = NULL;
	}
	stop_requested = was;
}

static struct client *add_client(struct target *t, enum kind kind, size_t ident, const char *suffix)
{
	struct client *c = &B.c[B.n];

	memset(c, 0, sizeof(*c));
	c->t = t;
	c->kind = kind;
	ident_name(ident, c->user, sizeof(c->user));
	snprintf(c->id, sizeof(c->id), "%s%s%s", c->user, suffix ? "@" : "", suffix ? suffix : "");
	B.n++;
	return c;
}

/* The address of a publisher: gf/<site>/<role>/<id>/<to-role>/<to-id>/<msg>. */
static void pub_topic(struct client *c, const char *to_role, const char *to_id, const char *msg)
{
	char role[32];
	const char *id;

	ident_split(c->user, role, sizeof(role), &id);
	snprintf(c->topic, sizeof(c->topic), "gf/%s/%s/%s/%s/%s/%s", B.site, role, id, to_role,
	         to_id, msg);
}

/* --- run: the measured workloads -------------------------------------------- */

static struct payload payload; /* the workload's message, its tag rewritten per publish */

/* The message workload w publishes: FlexOffers to the FMAN, forecasts to the FOAs. */
static bool workload_doc(const char *w, struct payload *p)
{
	if (strcmp(w, "fanout") == 0)
		weather_doc(p);
	else if (strcmp(w, "offer") == 0)
		return offer_doc(p);
	else
		flexoffer_doc(p, false);
	return true;
}

/* Tops up every publisher of the active broker to its window. */
static void publish_step(void)
{
	struct target *t = B.active;

	for (int p = 0; p < B.npub; p++) {
		struct client *c = &B.c[t->first + (size_t)p];
		while (c->connected && c->sent < B.burst_end && c->inflight < B.window) {
			int rc;
			payload_tag(&payload, p, c->sent);
			rc = mosquitto_publish_v5(c->mosq, NULL, c->topic, (int)payload.len,
			                          payload.text, B.qos, false, content_type);
			if (rc != MOSQ_ERR_SUCCESS) {
				fail("%s: publish: %s", c->id, mosquitto_strerror(rc));
				return;
			}
			c->sent++;
			c->inflight++;
		}
	}
}

/* First deliveries a broker owes after a burst: every subscriber (or the shared group)
 * gets every message of every publisher. */
static long owed_per_burst(const struct target *t)
{
	return (t->shared_seen ? 1 : (long)t->nsub) * B.npub * B.msgs;
}

static bool burst_done(void)
{
	struct target *t = B.active;

	for (int p = 0; p < B.npub; p++) {
		if (B.c[t->first + (size_t)p].acked < B.burst_end)
			return false;
	}
	return t->received >= owed_per_burst(t) * (t->bursts + 1);
}

/* Says what is missing, duplicated, stray or refused at one broker; false if anything. */
static bool target_account(const struct target *t)
{
	long total = (long)B.npub * B.seq_space;
	long refused = 0, unrouted = 0, acked = 0, last = 0;
	bool ok = true;

	for (int p = 0; p < B.npub; p++) {
		const struct client *c = &B.c[t->first + (size_t)p];
		refused += c->refused;
		unrouted += c->unrouted;
		acked += c->acked;
		last = c->last_reason;
	}
	if (acked != total) {
		fprintf(stderr, "load: %s: %ld of %ld PUBACKs missing\n", t->name, total - acked,
		        total);
		ok = false;
	}
	if (refused) {
		fprintf(stderr, "load: %s: %ld publishes refused (last reason 0x%02lx)\n", t->name,
		        refused, last);
		ok = false;
	}
	if (unrouted) {
		fprintf(stderr, "load: %s: %ld publishes had no matching subscriber\n", t->name,
		        unrouted);
		ok = false;
	}
	for (size_t s = 0; s < t->nsub; s++) {
		const struct client *c = &B.c[t->first + (size_t)B.npub + s];
		if (c->dups || c->strays) {
			fprintf(stderr, "load: %s: %s: %ld duplicates, %ld unexpected messages\n",
			        t->name, c->id, c->dups, c->strays);
			ok = false;
		}
		if (!t->shared_seen && c->received != total) {
			fprintf(stderr, "load: %s: %s: %ld of %ld messages missing\n", t->name,
			        c->id, total - c->received, total);
			ok = false;
		}
	}
	if (t->shared_seen && t->received != total) {
		fprintf(stderr, "load: %s: shared group: %ld of %ld messages missing\n", t->name,
		        total - t->received, total);
		ok = false;
	}
	return ok;
}

/* Adds the publishers and subscribers of workload w for broker t. */
static bool add_workload(struct target *t, const char *w, size_t nsub)
{
	size_t nbits = (size_t)B.npub * (size_t)B.seq_space;

	t->first = B.n;
	t->nsub = nsub;
	/* Publishers first: on_message finds publisher p's topic at B.c[t->first + p]. */
	for (int p = 0; p < B.npub; p++) {
		char suffix[16];
		struct client *c;
		if (strcmp(w, "p2p") == 0) {
			c = add_client(t, KIND_PUB, CORE_FOA1, NULL);
			pub_topic(c, "fman", "pool-1", "flexoffer");
		} else if (strcmp(w, "offer") == 0) {
			snprintf(suffix, sizeof(suffix), "p%d", p + 1);
			c = add_client(t, KIND_PUB, CORE_FOA1 + (size_t)(p % N_FOA), suffix);
			pub_topic(c, "fman", "pool-1", "flexoffer");
		} else if (strcmp(w, "fanout") == 0) {
			c = add_client(t, KIND_PUB, CORE_SP, NULL);
			pub_topic(c, "foa", "all", "weather.forecast");
		} else {
			snprintf(suffix, sizeof(suffix), "p%d", p + 1);
			c = add_client(t, KIND_PUB, CORE_FOA1 + (size_t)(p % N_FOA), suffix);
			pub_topic(c, "fman", "all", "flexoffer");
		}
		c->index = p;
	}
	if (strcmp(w, "fanin") == 0 && !(t->shared_seen = calloc(nbits / 8 + 1, 1)))
		return false;
	for (size_t s = 0; s < nsub; s++) {
		char suffix[16];
		struct client *c;
		if (strcmp(w, "p2p") == 0 || strcmp(w, "offer") == 0) {
			c = add_client(t, KIND_SUB, CORE_FMAN1, NULL);
			snprintf(c->topic, sizeof(c->topic), "gf/%s/+/+/fman/pool-1/+", B.site);
		} else if (strcmp(w, "fanout") == 0) {
			/* Fifty connections of the seven FOA identities (client id suffixes),
			 * so that the workload is the same with 10 or 10,000 registered. */
			snprintf(suffix, sizeof(suffix), "s%zu", s + 1);
			c = add_client(t, KIND_SUB, CORE_FOA1 + s % N_FOA, suffix);
			snprintf(c->topic, sizeof(c->topic), "gf/%s/+/+/foa/all/+", B.site);
		} else {
			c = add_client(t, KIND_SUB, s == 0 ? CORE_FMAN1 : CORE_FMAN2, NULL);
			snprintf(c->topic, sizeof(c->topic),
			         "$share/g/gf/%s/+/+/fman/all/flexoffer", B.site);
		}
		c->seen = t->shared_seen ? t->shared_seen : calloc(nbits / 8 + 1, 1);
		if (!c->seen)
			return false;
	}
	return true;
}

/* Parses "name=port:pid". */
static bool target_parse(const char *arg, struct target *t)
{
	const char *eq = strchr(arg, '=');
	char *end;
	long port, pid;

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(t->name))
		return false;
	memcpy(t->name, arg, (size_t)(eq - arg));
	t->name[eq - arg] = '\0';
	port = strtol(eq + 1, &end, 10);
	if (*end != ':' || port <= 0 || port > 65535)
		return false;
	pid = strtol(end + 1, &end, 10);
	if (*end != '\0' || pid <= 0)
		return false;
	t->port = (int)port;
	t->pid = (pid_t)pid;
	return true;
}

static int cmd_run(const char *w, char **args, size_t nargs)
{
	size_t nsub;
	bool ok = true;

	if (strcmp(w, "p2p") == 0) {
		B.npub = 1;
		nsub = 1;
	} else if (strcmp(w, "fanout") == 0) {
		B.npub = 1;
		nsub = 50;
	} else if (strcmp(w, "fanin") == 0) {
		B.npub = 50;
		nsub = 2;
	} else if (strcmp(w, "offer") == 0) {
		B.npub = 10;
		nsub = 1;
	} else {
		fail("unknown workload '%s' (p2p, fanout, fanin, offer)", w);
		return 2;
	}
	if (B.qos == 0 && nsub != 1) {
		fail("run: QoS 0 only with one subscriber (p2p, offer)");
		return 2;
	}
	if (nargs == 0) {
		fail("run: no broker given (name=port:pid ...)");
		return 2;
	}
	B.seq_space = B.msgs * (B.warmup + B.rounds);
	if (B.seq_space >= SEQ_LIMIT) {
		fail("run: %ld messages per publisher do not fit the tag", B.seq_space);
		return 2;
	}
	if (!workload_doc(w, &payload))
		return 1;
	B.ntargets = nargs;
	B.targets = calloc(nargs, sizeof(*B.targets));
	B.c = calloc(nargs * ((size_t)B.npub + nsub), sizeof(*B.c));
	if (!B.targets || !B.c) {
		fail("out of memory");
		return 1;
	}
	for (size_t i = 0; ok && i < nargs; i++) {
		if (!target_parse(args[i], &B.targets[i])) {
			fail("run: '%s' is not name=port:pid", args[i]);
			return 2;
		}
		ok = add_workload(&B.targets[i], w, nsub);
		if (!ok)
			fail("out of memory");
	}
	ok = ok && open_all();

	/* Bursts: each broker in turn, the order rotated from round to round so that no
	 * broker always follows the same one; warm-up bursts first, unmeasured. */
	for (long r = -B.warmup; ok && r < B.rounds; r++) {
		B.burst_end = (r + B.warmup + 1) * B.msgs;
		for (size_t k = 0; ok && k < B.ntargets; k++) {
			struct target *t = &B.targets[(k + (size_t)(r + B.warmup)) % B.ntargets];
			unsigned long long t0, t1;
			double w0, w1;
			B.active = t;
			t0 = cpu_ticks(t->pid);
			w0 = now_s();
			ok =
			    pump_until(burst_done, publish_step, B.timeout, "waiting for messages");
			w1 = now_s();
			t1 = cpu_ticks(t->pid);
			if (!ok) {
				fprintf(stderr,
				        "load: %s: %ld of %ld deliveries of the burst missing\n",
				        t->name, owed_per_burst(t) * (t->bursts + 1) - t->received,
				        owed_per_burst(t));
				break;
			}
			t->bursts++;
			if (r >= 0)
				printf("RESULT variant=%s round=%ld workload=%s publishers=%d "
				       "subscribers=%zu published=%ld delivered=%ld cpu_ticks=%llu "
				       "wall_s=%.3f payload_bytes=%zu qos=%d encoding=%s\n",
				       t->name, r, w, B.npub, nsub, (long)B.npub * B.msgs,
				       owed_per_burst(t), t1 - t0, w1 - w0, payload.len, B.qos,
				       gf_codec_format_name(B.encoding));
			fflush(stdout);
		}
	}
	/* Nothing may arrive now: anything late (a duplicate) is counted as a stray. */
	B.active = NULL;
	for (double end = now_s() + 0.05; ok && now_s() < end;)
		pump(10);
	for (size_t i = 0; i < B.ntargets && !B.fatal; i++)
		ok = target_account(&B.targets[i]) && ok;
	ok = ok && !B.fatal;
	close_all();
	for (size_t i = 0; i < B.n; i++) {
		if (B.c[i].kind == KIND_SUB && B.c[i].seen != B.c[i].t->shared_seen)
			free(B.c[i].seen);
	}
	for (size_t i = 0; i < B.ntargets; i++)
		free(B.targets[i].shared_seen);
	free(B.targets);
	free(B.c);
	return ok ? 0 : 1;
}

/* --- probe: the same policy under each variant ------------------------------ */

/* Observers subscribe to the whole site tree; the broker decides what reaches them. */
static const size_t observer_ident[N_OBSERVERS] = {CORE_FOA1, CORE_FOA1 + 1, CORE_FMAN1, CORE_SP};
#define O_FOA1  1u
#define O_FOA2  2u
#define O_FMAN1 4u
#define O_SP    8u

/* Every probe carries a valid message of its topic's type, but for the invalid ones. */
static const struct probe_case {
	size_t who;        /* core identity that publishes */
	const char *topic; /* "SITE" stands for the site */
	bool write;        /* the broker accepts it (unless validating and invalid) */
	unsigned readers;  /* observers that receive it (if accepted) */
	const char *why;
	bool invalid; /* an invalid payload: refused by the "validate" variant only */
} probe_cases[] = {
    {CORE_FOA1, "gf/SITE/foa/7-PRE-001/fman/all/flexoffer", true, O_FMAN1,
     "private offer to the FMAN pool", false},
    {CORE_FOA1, "gf/SITE/foa/7-PRE-002/fman/all/flexoffer", false, 0, "speaking for another FOA",
     false},
    {CORE_FOA1, "gf/SITE/foa/7-PRE-001/xems/all/foa.reply", false, 0,
     "private to every xEMS (not a pool)", false},
    {CORE_FOA1, "gf/SITE/foa/7-PRE-001/fman/all/weather.forecast", false, 0, "no such row for foa",
     false},
    {CORE_FOA1, "gf/SITE/foa/7-PRE-001/all/all/flexoffer", false, 0, "private message to everyone",
     false},
    {CORE_FMAN1, "gf/SITE/fman/pool-1/foa/7-PRE-001/flexoffer.assign", true, O_FOA1,
     "assignment to one FOA", false},
    {CORE_FMAN1, "gf/SITE/fman/pool-1/foa/all/flexoffer.assign", false, 0,
     "private to every FOA (not a pool)", false},
    {CORE_SP, "gf/SITE/sp/forecast-1/foa/all/weather.forecast", true, O_FOA1 | O_FOA2 | O_FMAN1,
     "public forecast addressed to FOAs: every reader role sees it", false},
    {CORE_SP, "gf/SITE/sp/forecast-1/all/all/weather.forecast", true, O_FOA1 | O_FOA2 | O_FMAN1,
     "public forecast to all", false},
    {CORE_SP, "gf/SITE/sp/forecast-1/foa/7-PRE-002/meter.data", true, O_FOA2,
     "private meter data to one FOA", false},
    {CORE_FOA1 + 1, "gf/SITE/foa/7-PRE-002/kpi/all/kpi", true, 0,
     "public KPI sample: no observer is a reader", false},
    {CORE_FOA1, "gf/site2/foa/7-PRE-001/fman/all/flexoffer", false, 0, "another site", false},
    {CORE_FOA1, "elsewhere/SITE/flexoffer", false, 0, "outside the gf tree", false},
    {CORE_FOA1, "gf/SITE/foa/7-PRE-001/fman/all/flexoffer", true, O_FMAN1,
     "invalid offer (slice 2: lower > upper): refused only when validating", true},
};
#define N_PROBES (sizeof(probe_cases) / sizeof(probe_cases[0]))

/* Copies a probe topic with its "SITE" level replaced by the site name. */
static void probe_topic(const char *pattern, char *buf, size_t size)
{
	const char *at = strstr(pattern, "SITE");

	if (!at)
		snprintf(buf, size, "%s", pattern);
	else
		snprintf(buf, size, "%.*s%s%s", (int)(at - pattern), pattern, B.site, at + 4);
}

/* Probe payloads are tagged (PROBE_PUB, case); observers record which cases reached them. */
static void on_probe_message(struct mosquitto *mosq, void *ud, const struct mosquitto_message *msg,
                             const mosquitto_property *props)
{
	struct client *c = ud;
	long pub, k;

	(void)mosq;
	(void)props;
	if (payload_parse(msg->payload, msg->payloadlen, &pub, &k) == 0 && pub == PROBE_PUB &&
	    k >= 0 && (size_t)k < N_PROBES)
		B.probe_seen[k] |= 1 << c->index;
	else
		c->strays++;
}

/* The probe's publisher has its answer: a PUBACK, or a closed connection. */
static bool probe_answered(void)
{
	struct client *c = &B.c[B.n - 1];

	return c->acked > 0 || c->closed;
}

static bool probe_connected(void)
{
	struct client *c = &B.c[B.n - 1];

	return c->connected || c->closed;
}

/* Publishes case k from a connection of its own: Mosquitto 2.0.11 sends PUBACK 0x87
 * for a refused QoS 1 publish and then closes the connection. Returns the PUBACK
 * reason, 0x100 if the connection closed without one, -1 on error. */
static int probe_publish(size_t k)
{
	const struct probe_case *pc = &probe_cases[k];
	struct client *c;
	char topic[TOPIC_MAX];
	const char *msg;
	static struct payload doc;
	int reason = -1;

	probe_topic(pc->topic, topic, sizeof(topic));
	msg = strrchr(topic, '/') + 1;
	if (!probe_doc(&doc, msg, pc->invalid)) {
		fail("probe %zu: no payload for message type '%s'", k, msg);
		return -1;
	}
	payload_tag(&doc, PROBE_PUB, (long)k);
	c = add_client(&B.single, KIND_PUB, pc->who, "probe");
	c->expect_drop = true;
	if (client_open(c) == 0 && pump_until(probe_connected, NULL, 10.0, "connecting a probe") &&
	    c->connected &&
	    mosquitto_publish_v5(c->mosq, NULL, topic, (int)doc.len, doc.text, 1, false,
	                         content_type) == 0 &&
	    pump_until(probe_answered, NULL, 10.0, "waiting for a probe's PUBACK"))
		reason = c->acked ? c->last_reason : 0x100;
	if (reason < 0 && !B.fatal)
		fail("%s: probe %zu could not be published", c->id, k);
	if (c->mosq) {
		if (c->connected)
			mosquitto_disconnect_v5(c->mosq, 0, NULL);
		mosquitto_destroy(c->mosq);
	}
	B.n--;
	return reason;
}

static int cmd_probe(void)
{
	int reasons[N_PROBES];
	int mismatches = 0;
	bool validating = strcmp(B.variant, "validate") == 0;
	bool ok;

	B.c = calloc(N_OBSERVERS + 1, sizeof(*B.c));
	if (!B.c) {
		fail("out of memory");
		return 1;
	}
	for (size_t o = 0; o < N_OBSERVERS; o++) {
		struct client *c = add_client(&B.single, KIND_SUB, observer_ident[o], NULL);
		c->index = (int)o;
		snprintf(c->topic, sizeof(c->topic), "gf/%s/#", B.site);
	}
	ok = open_all();
	for (size_t i = 0; ok && i < B.n; i++)
		mosquitto_message_v5_callback_set(B.c[i].mosq, on_probe_message);
	for (size_t k = 0; ok && k < N_PROBES; k++) {
		reasons[k] = probe_publish(k);
		ok = reasons[k] >= 0;
	}
	/* Deliveries follow the PUBACK within microseconds; leave them ample time. */
	for (double end = now_s() + 0.3; ok && now_s() < end;)
		pump(50);
	for (size_t k = 0; ok && k < N_PROBES; k++) {
		const struct probe_case *pc = &probe_cases[k];
		bool wrote = reasons[k] < 0x80;
		bool write = pc->write && !(validating && pc->invalid);
		unsigned seen = (unsigned)B.probe_seen[k];
		bool match = wrote == write && seen == (write ? pc->readers : 0u);
		char topic[TOPIC_MAX], readers[128] = "", answer[32];
		probe_topic(pc->topic, topic, sizeof(topic));
		for (size_t o = 0; o < N_OBSERVERS; o++) {
			if (seen & (1u << o)) {
				strcat(readers, readers[0] ? "," : "");
				strcat(readers, B.c[o].user);
			}
		}
		if (reasons[k] == 0x100)
			snprintf(answer, sizeof(answer), "refused (closed)");
		else
			snprintf(answer, sizeof(answer), "%s (0x%02x)",
			         wrote ? "accepted" : "refused", (unsigned)reasons[k]);
		printf("probe %2zu %-13s %-20s by %-13s %-48s read by %-38s %s (%s)\n", k,
		       match ? "as policy" : "NOT AS POLICY", answer, core_ids[pc->who], topic,
		       readers[0] ? readers : "nobody", match ? "" : "<--", pc->why);
		mismatches += !match;
	}
	close_all();
	free(B.c);
	if (!ok)
		return 2;
	printf("probe: %d of %zu cases differ from the policy%s\n", mismatches, N_PROBES,
	       validating ? " and payload validation" : "");
	return mismatches ? 1 : 0;
}

/* --- small commands ---------------------------------------------------------- */

static int cmd_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		fail("cannot find a free port: %s", strerror(errno));
		return 1;
	}
	printf("%u\n", (unsigned)ntohs(a.sin_port));
	close(fd);
	return 0;
}

static int cmd_ids(long n)
{
	char name[NAME_MAX_];

	for (long i = 0; i < n; i++) {
		ident_name((size_t)i, name, sizeof(name));
		puts(name);
	}
	return 0;
}

/* Tries to log in as the first identity until admitted or timed out. */
static int cmd_wait(void)
{
	double deadline = now_s() + B.timeout;
	struct client c;

	B.c = &c;
	quiet = true;
	while (now_s() < deadline) {
		B.n = 0;
		B.fatal = false;
		add_client(&B.single, KIND_PUB, 0, "wait");
		if (client_open(&c) == 0 && pump_until(all_connected, NULL, 2.0, "logging in")) {
			close_all();
			return 0;
		}
		if (c.mosq)
			mosquitto_destroy(c.mosq);
		usleep(50000);
	}
	fprintf(stderr, "load: broker on port %d not ready after %.0f s\n", B.single.port,
	        B.timeout);
	return 1;
}

/* Prints a workload's payload (tag 00-000000000), the probe's payload of a message type
 * (tag 99-000000000), or the probe's invalid FlexOffer. */
static int cmd_payload(const char *what)
{
	static struct payload doc;

	if (strcmp(what, "invalid") == 0)
		flexoffer_doc(&doc, true);
	else if (strcmp(what, "p2p") == 0 || strcmp(what, "fanout") == 0 ||
	         strcmp(what, "fanin") == 0 || strcmp(what, "offer") == 0) {
		if (!workload_doc(what, &doc))
			return 1;
	} else if (probe_doc(&doc, what, false))
		payload_tag(&doc, PROBE_PUB, 0);
	else {
		fprintf(stderr, "load: payload: no workload or probe message type '%s'\n", what);
		return 2;
	}
	fwrite(doc.text, 1, doc.len, stdout);
	if (strcmp(what, "offer") != 0 || B.encoding == GF_CODEC_JSON)
		putchar('\n');
	return 0;
}

static void on_term(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int cmd_idle(long first, long count)
{
	B.c = calloc((size_t)count, sizeof(*B.c));
	if (!B.c) {
		fail("out of memory");
		return 1;
	}
	for (long i = 0; i < count; i++) {
		struct client *c = add_client(&B.single, KIND_IDLE, (size_t)(first + i), NULL);
		char role[32];
		const char *id;
		ident_split(c->user, role, sizeof(role), &id);
		snprintf(c->topic, sizeof(c->topic), "gf/%s/+/+/%s/%s/+", B.site, role, id);
	}
	if (!open_all())
		return 1;
	printf("ready %ld\n", count);
	fflush(stdout);
	while (!stop_requested && !B.fatal) {
		pump(1000);
		misc_all();
	}
	close_all();
	free(B.c);
	return B.fatal ? 1 : 0;
}

static void usage(void)
{
	fputs("usage: load port | ids N | wait -p PORT | idle -p PORT -c N [-f FIRST] |\n"
	      "       probe -p PORT [-V none|plugin|validate|dynsec] |\n"
	      "       run -w p2p|fanout|fanin|offer [-n MSGS] [-r ROUNDS] [-u WARMUP] [-W WINDOW]\n"
	      "           [-q 0|1] [-e json|protobuf|msgpack] [-s SLICES] NAME=PORT:PID... |\n"
	      "       payload p2p|fanout|fanin|invalid|MSG | payload offer [-e ENC] [-s SLICES]\n"
	      "common: [-H HOST] [-P PASSWORD] [-S SITE] [-t TIMEOUT_S]\n",
	      stderr);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *workload = NULL;
	long count = 0, first = N_CORE;
	int opt, rc;

	if (strcmp(cmd, "port") == 0)
		return cmd_port();
	if (strcmp(cmd, "ids") == 0 && argc == 3)
		return cmd_ids(strtol(argv[2], NULL, 10));
	optind = strcmp(cmd, "payload") == 0 ? 3 : 2;
	while ((opt = getopt(argc, argv, "H:p:P:S:t:w:n:r:u:W:c:f:V:q:e:s:")) != -1) {
		switch (opt) {
		case 'H':
			B.host = optarg;
			break;
		case 'p':
			B.single.port = atoi(optarg);
			break;
		case 'P':
			B.password = optarg;
			break;
		case 'S':
			B.site = optarg;
			break;
		case 't':
			B.timeout = atof(optarg);
			break;
		case 'w':
			workload = optarg;
			break;
		case 'n':
			B.msgs = atol(optarg);
			break;
		case 'W':
			B.window = atol(optarg);
			break;
		case 'V':
			B.variant = optarg;
			break;
		case 'r':
			B.rounds = atol(optarg);
			break;
		case 'u':
			B.warmup = atol(optarg);
			break;
		case 'c':
			count = atol(optarg);
			break;
		case 'f':
			first = atol(optarg);
			break;
		case 'q':
			B.qos = atoi(optarg);
			break;
		case 'e':
			if (strcmp(optarg, "json") == 0)
				B.encoding = GF_CODEC_JSON;
			else if (strcmp(optarg, "protobuf") == 0)
				B.encoding = GF_CODEC_PROTOBUF;
			else if (strcmp(optarg, "msgpack") == 0)
				B.encoding = GF_CODEC_MSGPACK;
			else {
				usage();
				return 2;
			}
			break;
		case 's':
			B.slices = atol(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (strcmp(cmd, "payload") == 0 && argc >= 3 && optind == argc && B.slices >= 1 &&
	    B.slices <= 250)
		return cmd_payload(argv[2]);
	if ((strcmp(cmd, "run") != 0 && B.single.port <= 0) || B.msgs <= 0 || B.rounds <= 0 ||
	    (B.qos != 0 && B.qos != 1) || B.slices < 1 || B.slices > 250 || B.warmup < 0 ||
	    B.window <= 0 ||
	    (B.variant[0] && strcmp(B.variant, "none") != 0 && strcmp(B.variant, "plugin") != 0 &&
	     strcmp(B.variant, "validate") != 0 && strcmp(B.variant, "dynsec") != 0)) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	mosquitto_lib_init();
	if (mosquitto_property_add_string(&content_type, MQTT_PROP_CONTENT_TYPE,
	                                  gf_codec_format_name(B.encoding)) != MOSQ_ERR_SUCCESS) {
		fputs("load: cannot make the Content Type property\n", stderr);
		return 1;
	}
	if (strcmp(cmd, "run") == 0 && workload)
		rc = cmd_run(workload, argv + optind, (size_t)(argc - optind));
	else if (strcmp(cmd, "probe") == 0)
		rc = cmd_probe();
	else if (strcmp(cmd, "wait") == 0)
		rc = cmd_wait();
	else if (strcmp(cmd, "idle") == 0 && count > 0 && first >= 0)
		rc = cmd_idle(first, count);
	else {
		usage();
		rc = 2;
	}
	mosquitto_property_free_all(&content_type);
	mosquitto_lib_cleanup();
	return rc;
}
