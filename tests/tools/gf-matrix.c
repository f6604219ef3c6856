/* SPDX-License-Identifier: MIT */
/*
 * gf-matrix - the exchange-table matrix against a running broker.
 *
 *   gf-matrix -p PORT --exchange FILE --site SITE
 *             (-P PASSWORD | --cafile CA --certdir DIR)
 *
 * Connects two instances of every role (<role>.m1, <role>.m2; password
 * identities, or certificates DIR/<role>.<id>.crt/.key), subscribes each to
 * everything of the site, then every m1 publishes every message type of the
 * catalogue to every addressee (each role and "all", instance m1 and "all"),
 * and every m2 tries to speak for the m1 of each role. Expected outcomes come
 * from the catalogue's rows, read here independently of the plugin's compiled
 * policy: for every row the sender reaches the addressee; nothing else is
 * accepted or delivered. Prints TAP-like lines and "N passed, M failed".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bus/catalog.h"
#include "bus/ident.h"

#define ROLES     (GF_ROLE_COUNT - 1) /* every role but bridge */
#define INSTANCES 2
#define CLIENTS   (ROLES * INSTANCES)
#define MAX_PUBS  65536

struct client {
	struct mosquitto *m;
	enum gf_role role;
	char id[8];
	int connected, subscribed;
	unsigned char *got; /* got[n] = times publish n arrived */
};

struct pub {
	int client, mid;
	int reason; /* -1 until PUBACK */
	enum gf_role to;
	const char *msg;
	bool to_all, spoof;
	bool expect_accept;
	unsigned char expect_to[CLIENTS];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct client clients[CLIENTS];
static struct pub *pubs;
static int npubs, acked, delivered, expected_deliveries;
static const struct gf_catalog *cat;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
                       const mosquitto_property *p)
{
	struct client *c = obj;

	(void)flags, (void)p;
	pthread_mutex_lock(&lock);
	c->connected = rc == 0 ? 1 : -1;
	pthread_mutex_unlock(&lock);
	if (rc == 0)
		mosquitto_subscribe_v5(m, NULL, "gf/site1/#", 1, 0, NULL);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
                         const mosquitto_property *p)
{
	struct client *c = obj;

	(void)m, (void)mid, (void)p;
	pthread_mutex_lock(&lock);
	c->subscribed = n == 1 && granted[0] == 1 ? 1 : -1;
	pthread_mutex_unlock(&lock);
}

static void on_publish(struct mosquitto *m, void *obj, int mid, int reason,
                       const mosquitto_property *p)
{
	struct client *c = obj;

	(void)m, (void)p;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < npubs; i++) {
		if (pubs[i].mid == mid && &clients[pubs[i].client] == c && pubs[i].reason < 0) {
			pubs[i].reason = reason;
			acked++;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *p)
{
	struct client *c = obj;
	int n = msg->payloadlen > 0 ? atoi((const char *)msg->payload) : -1;

	(void)m, (void)p;
	/* The broker's own audit and statistics feeds are not part of the matrix. */
	if (strncmp(msg->topic, "gf/site1/ops/broker/", 20) == 0)
		return;
	pthread_mutex_lock(&lock);
	if (n >= 0 && n < npubs && c->got[n] < 255)
		c->got[n]++;
	delivered++;
	pthread_mutex_unlock(&lock);
}

/* The row (from, to, msg) in the catalogue's own list, or NULL. */
static const struct gf_catalog_row *row_of(enum gf_role from, enum gf_role to, const char *msg)
{
	for (size_t i = 0; i < gf_catalog_row_count(cat); i++) {
		const struct gf_catalog_row *r = gf_catalog_row(cat, i);
		if (r->from == from && r->to == to && strcmp(r->msg, msg) == 0)
			return r;
	}
	return NULL;
}

static bool public_reader(enum gf_role from, const char *msg, enum gf_role reader)
{
	const struct gf_catalog_row *r = row_of(from, reader, msg);

	return reader == GF_ROLE_OPS || (r && (r->cell & GF_CELL_PUBLIC));
}

static bool has_public_row(enum gf_role from, const char *msg)
{
	for (size_t i = 0; i < gf_catalog_row_count(cat); i++) {
		const struct gf_catalog_row *r = gf_catalog_row(cat, i);
		if (r->from == from && strcmp(r->msg, msg) == 0 && (r->cell & GF_CELL_PUBLIC))
			return true;
	}
	return false;
}

/* Fills p's expectations for client `sender` (as itself) publishing
 * (to, to_id, msg); spoof = the topic names another instance. */
static void expect(struct pub *p, const struct client *sender, enum gf_role to, const char *to_id,
                   const char *msg, bool spoof)
{
	const struct gf_catalog_row *r = to == GF_ROLE_ALL ? NULL : row_of(sender->role, to, msg);
	bool to_all = strcmp(to_id, "all") == 0;
	bool is_public;

	if (spoof || sender->role == GF_ROLE_OPS)
		p->expect_accept = false;
	else if (to == GF_ROLE_ALL)
		p->expect_accept = has_public_row(sender->role, msg);
	else
		p->expect_accept = r && !(r->cell & GF_CELL_BROKER) &&
		                   ((r->cell & GF_CELL_PUBLIC) || !to_all || gf_role_is_pool(to));
	if (!p->expect_accept)
		return;
	is_public = to == GF_ROLE_ALL || (r->cell & GF_CELL_PUBLIC);
	for (int s = 0; s < CLIENTS; s++) {
		const struct client *c = &clients[s];
		if (is_public)
			p->expect_to[s] = public_reader(sender->role, msg, c->role);
		else
			p->expect_to[s] = c->role == to && (to_all || strcmp(c->id, to_id) == 0);
		expected_deliveries += p->expect_to[s];
	}
}

static int add_pub(int sender, const char *from_id, enum gf_role to, const char *to_id,
                   const char *msg, bool spoof)
{
	char topic[256], payload[16];
	struct pub *p;
	int rc, mid;

	if (npubs == MAX_PUBS)
		return -1;
	p = &pubs[npubs];
	memset(p, 0, sizeof(*p));
	p->client = sender;
	p->reason = -1;
	p->to = to;
	p->msg = msg;
	p->to_all = strcmp(to_id, "all") == 0;
	p->spoof = spoof;
	expect(p, &clients[sender], to, to_id, msg, spoof);
	snprintf(topic, sizeof(topic), "gf/site1/%s/%s/%s/%s/%s",
	         gf_role_name(clients[sender].role), from_id, gf_role_name(to), to_id, msg);
	snprintf(payload, sizeof(payload), "%d", npubs);
	pthread_mutex_lock(&lock);
	npubs++;
	rc = mosquitto_publish_v5(clients[sender].m, &mid, topic, (int)strlen(payload), payload, 1,
	                          false, NULL);
	p->mid = mid;
	pthread_mutex_unlock(&lock);
	return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

static int wait_for(int *counter, int target, long ms)
{
	long end = now_ms() + ms;
	int v;

	for (;;) {
		pthread_mutex_lock(&lock);
		v = *counter;
		pthread_mutex_unlock(&lock);
		if (v >= target)
			return 0;
		if (now_ms() > end)
			return -1;
		usleep(10000);
	}
}

static int all_ready(void)
{
	long end = now_ms() + 10000;

	while (now_ms() < end) {
		int ready = 0, bad = 0;
		pthread_mutex_lock(&lock);
		for (int i = 0; i < CLIENTS; i++) {
			ready += clients[i].subscribed == 1;
			bad += clients[i].connected < 0 || clients[i].subscribed < 0;
		}
		pthread_mutex_unlock(&lock);
		if (bad)
			return -1;
		if (ready == CLIENTS)
			return 0;
		usleep(10000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *password = NULL, *exchange = NULL, *cafile = NULL, *certdir = NULL;
	int port = 0, passed = 0, failed = 0, reported = 0;
	char err[256];
	struct gf_catalog *catalog;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-p"))
			port = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-P"))
			password = argv[i + 1];
		else if (!strcmp(argv[i], "--exchange"))
			exchange = argv[i + 1];
		else if (!strcmp(argv[i], "--cafile"))
			cafile = argv[i + 1];
		else if (!strcmp(argv[i], "--certdir"))
			certdir = argv[i + 1];
		else if (strcmp(argv[i], "--site") != 0) {
			fprintf(stderr, "gf-matrix: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (!port || !exchange || (!password && !certdir)) {
		fprintf(stderr, "usage: gf-matrix -p PORT --exchange FILE "
		                "(-P PASSWORD | --cafile CA --certdir DIR)\n");
		return 2;
	}
	if (gf_catalog_load(exchange, &catalog, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "gf-matrix: %s\n", err);
		return 1;
	}
	cat = catalog;
	pubs = calloc(MAX_PUBS, sizeof(*pubs));
	mosquitto_lib_init();
	for (int i = 0; i < CLIENTS; i++) {
		struct client *c = &clients[i];
		char cid[64], path[2][512];
		c->role = (enum gf_role)(i / INSTANCES);
		snprintf(c->id, sizeof(c->id), "m%d", i % INSTANCES + 1);
		snprintf(cid, sizeof(cid), "%s.%s", gf_role_name(c->role), c->id);
		c->got = calloc(MAX_PUBS, 1);
		c->m = mosquitto_new(cid, true, c);
		mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
		mosquitto_connect_v5_callback_set(c->m, on_connect);
		mosquitto_subscribe_v5_callback_set(c->m, on_subscribe);
		mosquitto_publish_v5_callback_set(c->m, on_publish);
		mosquitto_message_v5_callback_set(c->m, on_message);
		if (certdir) {
			snprintf(path[0], sizeof(path[0]), "%s/%s.crt", certdir, cid);
			snprintf(path[1], sizeof(path[1]), "%s/%s.key", certdir, cid);
			mosquitto_tls_set(c->m, cafile, NULL, path[0], path[1], NULL);
		} else {
			mosquitto_username_pw_set(c->m, cid, password);
		}
		if (mosquitto_connect_async(c->m, certdir ? "localhost" : "127.0.0.1", port, 30) !=
		        MOSQ_ERR_SUCCESS ||
		    mosquitto_loop_start(c->m) != MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "gf-matrix: cannot connect %s\n", cid);
			return 1;
		}
	}
	if (all_ready() != 0) {
		printf("not ok - every identity connects and subscribes to gf/site1/#\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	printf("ok - %d identities connected and subscribed to gf/site1/#\n", CLIENTS);
	passed++;

	for (int s = 0; s < CLIENTS; s += INSTANCES) {
		for (size_t m = 0; m < gf_catalog_msg_count(cat); m++) {
			const char *msg = gf_catalog_msg_name(cat, (int)m);
			for (int t = 0; t <= GF_ROLE_COUNT; t++) {
				enum gf_role to = (enum gf_role)t;
				if (to == GF_ROLE_BRIDGE)
					continue;
				add_pub(s, "m1", to, "all", msg, false);
				if (to != GF_ROLE_ALL) {
					add_pub(s, "m1", to, "m1", msg, false);
					/* m2 speaking for m1 of its own role. */
					add_pub(s + 1, "m1", to, "m1", msg, true);
				}
			}
		}
	}
	if (wait_for(&acked, npubs, 60000) != 0) {
		printf("not ok - every publish is acknowledged (%d of %d)\n", acked, npubs);
		failed++;
	}
	wait_for(&delivered, expected_deliveries, 20000);
	usleep(500000); /* room for deliveries that should not happen */

	int accepted = 0, refused = 0, bad_ack = 0, bad_delivery = 0;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < npubs; i++) {
		struct pub *p = &pubs[i];
		bool ok_ack =
		    p->expect_accept ? p->reason == 0 : p->reason == MQTT_RC_NOT_AUTHORIZED;
		accepted += p->reason == 0;
		refused += p->reason == MQTT_RC_NOT_AUTHORIZED;
		if (!ok_ack) {
			bad_ack++;
			if (reported++ < 20)
				printf("# publish %d by %s.%s: PUBACK %d, expected %s\n", i,
				       gf_role_name(clients[p->client].role), clients[p->client].id,
				       p->reason, p->expect_accept ? "0" : "135");
		}
		for (int s = 0; s < CLIENTS; s++) {
			if (clients[s].got[i] != p->expect_to[s]) {
				bad_delivery++;
				if (reported++ < 40)
					printf("# publish %d by %s.%s: %s.%s got it %d times, "
					       "expected %d\n",
					       i, gf_role_name(clients[p->client].role),
					       clients[p->client].id, gf_role_name(clients[s].role),
					       clients[s].id, clients[s].got[i], p->expect_to[s]);
			}
		}
	}
	pthread_mutex_unlock(&lock);
	printf("%s - %d publishes: %d accepted, %d refused, every PUBACK as the catalogue says\n",
	       bad_ack ? "not ok" : "ok", npubs, accepted, refused);
	bad_ack ? failed++ : passed++;
	printf("%s - %d deliveries, each to exactly the identities the catalogue entitles\n",
	       bad_delivery ? "not ok" : "ok", expected_deliveries);
	bad_delivery ? failed++ : passed++;
	/* Every row, through the broker: its sender's message to the m1 of its
	 * addressee was accepted and reached that m1. */
	int rows = 0, rows_ok = 0;
	for (size_t r = 0; r < gf_catalog_row_count(cat); r++) {
		const struct gf_catalog_row *row = gf_catalog_row(cat, r);
		int addressee = (int)row->to * INSTANCES;
		if (row->cell & GF_CELL_BROKER)
			continue;
		rows++;
		for (int i = 0; i < npubs; i++) {
			const struct pub *p = &pubs[i];
			if (!p->spoof && !p->to_all && clients[p->client].role == row->from &&
			    p->to == row->to && strcmp(p->msg, row->msg) == 0) {
				if (p->reason == 0 && clients[addressee].got[i] == 1)
					rows_ok++;
				else
					printf("# row %s -> %s : %s did not reach its addressee\n",
					       gf_role_name(row->from), gf_role_name(row->to),
					       row->msg);
				break;
			}
		}
	}
	printf("%s - every catalogue row reaches its addressee (%d of %d rows)\n",
	       rows_ok == rows && rows > 0 ? "ok" : "not ok", rows_ok, rows);
	rows_ok == rows &&rows > 0 ? passed++ : failed++;

	for (int i = 0; i < CLIENTS; i++) {
		mosquitto_disconnect(clients[i].m);
		mosquitto_loop_stop(clients[i].m, false);
		mosquitto_destroy(clients[i].m);
		free(clients[i].got);
	}
	mosquitto_lib_cleanup();
	free(pubs);
	gf_catalog_free(catalog);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
