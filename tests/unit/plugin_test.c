/* SPDX-License-Identifier: MIT */
/*
 * The plugin's callbacks against the broker stubs: options, authentication
 * of both kinds, ACL decisions and their log lines, the audit feed, reload
 * and revocation, and the promise that the ACL path never allocates.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../broker-plugin/gate.h"
#include "broker_stubs.h"

static char dir[] = "/tmp/gf-plugin-test-XXXXXX";
static char crl_path[512];
static EVP_PKEY *key;
static void *gate;
static mosquitto_plugin_id_t *pid = (mosquitto_plugin_id_t *)&pid;

static X509 *make_cert(const char *o, const char *ou, const char *cn, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	if (o)
		X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)o, -1,
		                           -1, 0);
	if (ou)
		X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)ou, -1,
		                           -1, 0);
	if (cn)
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1,
		                           -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	return x;
}

/* Writes a CRL revoking the given serials (0-terminated list). */
static void write_crl(const long *serials)
{
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *issuer = X509_NAME_new();
	FILE *f;

	X509_NAME_add_entry_by_txt(issuer, "O", MBSTRING_ASC, (const unsigned char *)"site1", -1,
	                           -1, 0);
	X509_CRL_set_issuer_name(crl, issuer);
	X509_CRL_set_version(crl, 1);
	ASN1_TIME *now = ASN1_TIME_adj(NULL, time(NULL), 0, 0);
	ASN1_TIME *later = ASN1_TIME_adj(NULL, time(NULL), 1, 0);
	X509_CRL_set1_lastUpdate(crl, now);
	X509_CRL_set1_nextUpdate(crl, later);
	ASN1_TIME_free(now);
	ASN1_TIME_free(later);
	for (; *serials; serials++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();
		ASN1_TIME *t = ASN1_TIME_new();
		ASN1_INTEGER_set(s, *serials);
		X509_REVOKED_set_serialNumber(r, s);
		X509_gmtime_adj(t, 0);
		X509_REVOKED_set_revocationDate(r, t);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(s);
		ASN1_TIME_free(t);
	}
	X509_CRL_sign(crl, key, EVP_sha256());
	f = fopen(crl_path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(PEM_write_X509_CRL(f, crl), 1);
	fclose(f);
	X509_NAME_free(issuer);
	X509_CRL_free(crl);
}

static int init_with(const char *site, const char *exchange, const char *extra_key,
                     const char *extra_value)
{
	struct mosquitto_opt opts[4] = {
	    {(char *)"site", (char *)site},
	    {(char *)"exchange", (char *)exchange},
	    {(char *)"crl", crl_path},
	    {(char *)extra_key, (char *)extra_value},
	};
	return mosquitto_plugin_init(pid, &gate, opts, extra_key ? 4 : 3);
}

static void setup(void)
{
	static const long none[] = {0};

	stub_reset();
	cr_assert_not_null(mkdtemp(dir));
	snprintf(crl_path, sizeof(crl_path), "%s/crl.pem", dir);
	key = EVP_EC_gen("P-256");
	cr_assert_not_null(key);
	write_crl(none);
	gate = NULL;
}

static void teardown(void)
{
	if (gate)
		mosquitto_plugin_cleanup(gate, NULL, 0);
	unlink(crl_path);
	rmdir(dir);
	memcpy(dir + strlen(dir) - 6, "XXXXXX", 6);
	EVP_PKEY_free(key);
}

static void start(void)
{
	int rc = init_with("site1", "schemas/exchange.tsv", NULL, NULL);

	cr_assert_eq(rc, MOSQ_ERR_SUCCESS, "init failed: %s", stub.nlog ? stub.log[0] : "no log");
	cr_assert_not_null(gate);
}

static struct mosquitto *client(const char *id, const char *username, X509 *cert)
{
	struct mosquitto *c = calloc(1, sizeof(*c));

	c->id = strdup(id);
	c->username = username ? strdup(username) : NULL;
	c->cert = cert;
	c->protocol = 5;
	return c;
}

/* The broker's disconnect event: the connection is gone (its session may
 * live on, away). A refused login's client id is already cleared then. */
static void disconnect(struct mosquitto *c)
{
	struct mosquitto_evt_disconnect ev = {0};

	ev.client = c;
	gf_gate_on_disconnect(MOSQ_EVT_DISCONNECT, &ev, gate);
}

static void reload(void)
{
	struct mosquitto_evt_reload ev = {0};

	cr_assert_eq(gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate), MOSQ_ERR_PLUGIN_DEFER);
}

static void opened(struct mosquitto *c);

/* A write check with a payload (a publish, or the broker sending a will). */
static int acl_payload(struct mosquitto *c, int access, const char *topic, const char *payload,
                       bool retain)
{
	struct mosquitto_evt_acl_check ev = {0};

	opened(c);
	ev.client = c;
	ev.access = access;
	ev.topic = topic;
	ev.payload = payload;
	ev.payloadlen = (uint32_t)strlen(payload);
	ev.retain = retain;
	return gf_gate_on_acl_check(MOSQ_EVT_ACL_CHECK, &ev, gate);
}

static void client_free(struct mosquitto *c)
{
	free(c->id);
	free(c->username);
	X509_free(c->cert);
	free(c);
}

static int auth(struct mosquitto *c, const char *password)
{
	struct mosquitto_evt_basic_auth ev = {0};

	ev.client = c;
	ev.username = c->username;
	ev.password = (char *)password;
	c->opened = true;
	return gf_gate_on_basic_auth(MOSQ_EVT_BASIC_AUTH, &ev, gate);
}

/* Every client the broker asks about has authenticated, unless it is the
 * retained-source stand-in (protocol 0): so does every test client. */
static void opened(struct mosquitto *c)
{
	if (!c->opened && c->protocol != 0)
		(void)auth(c, "pw");
}

static int acl(struct mosquitto *c, int access, const char *topic)
{
	struct mosquitto_evt_acl_check ev = {0};

	opened(c);
	ev.client = c;
	ev.access = access;
	ev.topic = topic;
	return gf_gate_on_acl_check(MOSQ_EVT_ACL_CHECK, &ev, gate);
}

static int acl_write(struct mosquitto *c, const char *topic, uint32_t payloadlen)
{
	struct mosquitto_evt_acl_check ev = {0};

	opened(c);
	ev.client = c;
	ev.access = MOSQ_ACL_WRITE;
	ev.topic = topic;
	ev.payloadlen = payloadlen;
	return gf_gate_on_acl_check(MOSQ_EVT_ACL_CHECK, &ev, gate);
}

#define OFFER_TOPIC_ACL "gf/site1/foa/7-PRE-001/fman/all/flexoffer"

static void tick(time_t now)
{
	struct mosquitto_evt_tick ev = {0};

	ev.now_s = now;
	gf_gate_on_tick(MOSQ_EVT_TICK, &ev, gate);
}

TestSuite(plugin, .init = setup, .fini = teardown);

Test(plugin, version_negotiation)
{
	int both[] = {4, 5}, old[] = {2, 3, 4};

	cr_assert_eq(mosquitto_plugin_version(2, both), 5);
	cr_assert_eq(mosquitto_plugin_version(3, old), -1);
}

Test(plugin, init_registers_every_callback_and_logs_ready)
{
	start();
	cr_assert_eq(stub.ncallbacks, 6);
	cr_assert(stub_logged("GF-PLUGIN-READY", "site site1"));
	cr_assert(stub_logged("GF-PLUGIN-READY", "CRL"));
}

Test(plugin, init_refuses_bad_options_and_says_why)
{
	struct mosquitto_opt only_exchange[] = {
	    {(char *)"exchange", (char *)"schemas/exchange.tsv"}};

	cr_assert_eq(mosquitto_plugin_init(pid, &gate, only_exchange, 1), MOSQ_ERR_INVAL);
	cr_assert(stub_logged("GF-PLUGIN-CONFIG", "site: required"));
	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "colour", "blue"), MOSQ_ERR_INVAL);
	cr_assert(stub_logged("GF-PLUGIN-CONFIG", "unknown option 'colour'"));
	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "validate", "maybe"),
	             MOSQ_ERR_INVAL);
	cr_assert(stub_logged("GF-PLUGIN-CONFIG", "validate: expected on or off"));
	cr_assert_eq(init_with("site/1", "schemas/exchange.tsv", NULL, NULL), MOSQ_ERR_INVAL);
	cr_assert(stub_logged("GF-PLUGIN-CONFIG", "not a valid site name"));
	cr_assert_eq(init_with("site1", "/nonexistent/x.tsv", NULL, NULL), MOSQ_ERR_INVAL);
	cr_assert(stub_logged("GF-PLUGIN-CONFIG", "/nonexistent/x.tsv"));
	cr_assert_eq(stub.ncallbacks, 0);
	gate = NULL;
}

Test(plugin, password_identities_are_checked_then_deferred_to_the_password_file)
{
	struct mosquitto *ok = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	struct mosquitto *tool = client("foa.7-PRE-001@cli", "foa.7-PRE-001", NULL);
	struct mosquitto *bad = client("x", "foa.a+b", NULL);
	struct mosquitto *anon = client("foa.7-PRE-001", NULL, NULL);
	struct mosquitto *thief = client("foa.7-PRE-001", "foa.7-PRE-002", NULL);

	start();
	cr_assert_eq(auth(ok, "pw"), MOSQ_ERR_PLUGIN_DEFER);
	cr_assert_eq(auth(tool, "pw"), MOSQ_ERR_PLUGIN_DEFER);
	cr_assert_eq(auth(bad, "pw"), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-USER", "identity 'foa.a+b'"));
	cr_assert_eq(auth(anon, NULL), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-NOUSER", NULL));
	cr_assert_eq(auth(thief, "pw"), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-CLIENTID", "identity 'foa.7-PRE-002'"));
	cr_assert(!stub_logged("pw", NULL), "a password reached the log");
	client_free(ok), client_free(tool), client_free(bad), client_free(anon), client_free(thief);
}

Test(plugin, certificate_identities_are_admitted_with_their_username_rewritten)
{
	struct mosquitto *c = client("foa.7-PRE-001", "whatever-they-sent",
	                             make_cert("site1", "foa", "7-PRE-001", 7));
	struct mosquitto *other = client("foa.x", NULL, make_cert("site2", "foa", "x", 8));
	struct mosquitto *role = client("bogus.x", NULL, make_cert("site1", "bogus", "x", 9));
	struct mosquitto *nocn = client("foa.x", NULL, make_cert("site1", "foa", NULL, 10));
	struct mosquitto *all = client("foa.all", NULL, make_cert("site1", "foa", "all", 11));

	start();
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_SUCCESS);
	cr_assert_str_eq(c->username, "foa.7-PRE-001");
	cr_assert(stub_logged("GF-AUTH-OK", "foa.7-PRE-001"));
	cr_assert_eq(auth(other, NULL), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-SITE", "client 'foa.x'"));
	cr_assert_eq(auth(role, NULL), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-ROLE", NULL));
	cr_assert_eq(auth(nocn, NULL), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-CERT", NULL));
	cr_assert_eq(auth(all, NULL), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-ID", NULL));
	client_free(c), client_free(other), client_free(role), client_free(nocn), client_free(all);
}

Test(plugin, acl_decisions_are_logged_with_their_message_id)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	struct mosquitto *stranger = client("odd", "not-an-identity", NULL);

	start();
	cr_assert_eq(acl(c, MOSQ_ACL_WRITE, "gf/site1/foa/7-PRE-001/fman/all/flexoffer"),
	             MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl(c, MOSQ_ACL_WRITE, "gf/site1/foa/7-PRE-002/fman/all/flexoffer"),
	             MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-ACL-SPOOF", "gf/site1/foa/7-PRE-002/fman/all/flexoffer"));
	cr_assert_eq(acl(c, MOSQ_ACL_SUBSCRIBE, "#"), MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-ACL-FILTER", "subscribe denied"));
	cr_assert_eq(acl(c, MOSQ_ACL_UNSUBSCRIBE, "#"), MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl(stranger, MOSQ_ACL_READ, "gf/site1/sp/a/all/all/weather.forecast"),
	             MOSQ_ERR_ACL_DENIED);
	cr_assert_eq(acl(c, MOSQ_ACL_READ, "gf/site1/sp/a/all/all/weather.forecast"),
	             MOSQ_ERR_SUCCESS);
	client_free(c), client_free(stranger);
}

Test(plugin, refusals_reach_the_audit_feed_without_payloads_and_reads_do_not)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);

	start();
	acl(c, MOSQ_ACL_WRITE, "gf/site1/foa/7-PRE-002/fman/all/flexoffer");
	acl(c, MOSQ_ACL_READ, "gf/site1/fman/f/foa/7-PRE-002/flexoffer.assign");
	tick(1000);
	cr_assert_eq(stub.npub, 2, "one audit event and one statistics document");
	cr_assert_str_eq(stub.pub_topic[0], "gf/site1/ops/broker/ops/all/audit");
	cr_assert(strstr(stub.pub_payload[0], "\"msgid\":\"GF-ACL-SPOOF\""));
	cr_assert(strstr(stub.pub_payload[0], "\"access\":\"write\""));
	cr_assert_not(stub.pub_retain[0]);
	cr_assert_str_eq(stub.pub_topic[1], "gf/site1/ops/broker/ops/all/plugin.stats");
	cr_assert(stub.pub_retain[1]);
	cr_assert(strstr(stub.pub_payload[1], "\"GF-ACL-SPOOF\":1"));
	cr_assert(strstr(stub.pub_payload[1], "\"GF-ACL-NOTADDR\":1"));
	tick(1001);
	cr_assert_eq(stub.npub, 2, "statistics wait for stats_interval");
	tick(1010);
	cr_assert_eq(stub.npub, 3);
	client_free(c);
}

/* mosquitto 2.0.11 ticks with now_s = 0: the plugin keeps its own time. */
Test(plugin, statistics_follow_the_real_clock_when_the_broker_gives_none)
{
	time_t before = time(NULL), stamped;

	start();
	tick(0);
	cr_assert_eq(stub.npub, 1);
	stamped = (time_t)atoll(strstr(stub.pub_payload[0], "\"time\":") + 7);
	cr_assert(stamped >= before && stamped <= time(NULL), "%s", stub.pub_payload[0]);
	cr_assert_null(strstr(stub.pub_payload[0], "\"time\":0,"), "%s", stub.pub_payload[0]);
	tick(0);
	cr_assert_eq(stub.npub, 1, "a second tick within the interval publishes nothing");
}

/*
 * Issue 10, item 1: mosquitto 2.0.11 corrupts its session-expiry list when a
 * plugin refuses an away session in the re-check after a reload. So: a
 * connected session is re-checked (and refused when revoked); an away one is
 * never refused there, revoked or not, but its identity is refused every
 * access from then on, and its next connect is refused.
 */
Test(plugin, reload_refuses_revoked_connected_sessions_and_never_an_away_one)
{
	static const long revoke7[] = {7, 0};
	struct mosquitto *c =
	    client("foa.7-PRE-001", NULL, make_cert("site1", "foa", "7-PRE-001", 7));
	struct mosquitto *d =
	    client("foa.7-PRE-002", NULL, make_cert("site1", "foa", "7-PRE-002", 8));
	struct mosquitto *again;
	const char *to_d = "gf/site1/fman/f1/foa/7-PRE-002/flexoffer.ack";

	start();
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_SUCCESS);
	cr_assert_eq(auth(d, NULL), MOSQ_ERR_SUCCESS);
	X509_free(d->cert);
	d->cert = NULL; /* d's connection is gone: its session is away */
	disconnect(d);
	write_crl(revoke7);
	reload();
	cr_assert(stub_logged("GF-PLUGIN-READY", "(1 revoked)"));
	/* mosquitto now re-checks every session; c is connected, d is away. */
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-REVOKED", "foa.7-PRE-001"));
	cr_assert_eq(auth(d, NULL), MOSQ_ERR_SUCCESS, "an away session is kept");
	tick(5);
	cr_assert(stub_logged("GF-PLUGIN-RECHECK", "1 connected, 1 away"));
	write_crl((const long[]){8, 0});
	reload();
	cr_assert_eq(auth(d, NULL), MOSQ_ERR_SUCCESS, "an away revoked session is not refused");
	tick(6);
	cr_assert_eq(acl(d, MOSQ_ACL_READ, to_d), MOSQ_ERR_ACL_DENIED,
	             "but nothing more is queued for it");
	cr_assert(stub_logged("GF-AUTH-REVOKED", to_d));
	/* It comes back with the revoked certificate: refused at connect. */
	again = client("foa.7-PRE-002", NULL, make_cert("site1", "foa", "7-PRE-002", 8));
	cr_assert_eq(auth(again, NULL), MOSQ_ERR_AUTH);
	disconnect(again);
	client_free(again);
	/* With a new certificate it is admitted, and may read again. */
	again = client("foa.7-PRE-002", NULL, make_cert("site1", "foa", "7-PRE-002", 9));
	cr_assert_eq(auth(again, NULL), MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl(again, MOSQ_ACL_READ, to_d), MOSQ_ERR_SUCCESS);
	client_free(again);
	cr_assert_eq(auth(d, NULL), MOSQ_ERR_PLUGIN_DEFER,
	             "outside a reload, a client without certificate is a password client");
	client_free(c), client_free(d);
}

/* Item 1: a failed login naming a certificate identity's username and client
 * id changes nothing recorded for that identity; item 3: refused logins
 * leave no entry behind. */
Test(plugin, refused_logins_change_nothing_and_leave_nothing)
{
	struct mosquitto *c =
	    client("foa.7-PRE-001", NULL, make_cert("site1", "foa", "7-PRE-001", 7));
	struct mosquitto *bad[50];
	char stats[4096];

	start();
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_SUCCESS);
	X509_free(c->cert);
	c->cert = NULL;
	disconnect(c); /* away */
	for (int i = 0; i < 50; i++) {
		bad[i] = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
		/* deferred to the password file, which refuses it; mosquitto clears
		 * the client id before the disconnect event */
		cr_assert_eq(auth(bad[i], "wrong"), MOSQ_ERR_PLUGIN_DEFER);
		free(bad[i]->id);
		bad[i]->id = NULL;
		disconnect(bad[i]);
	}
	reload();
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_SUCCESS, "the away certificate session is kept");
	tick(1000);
	cr_assert(stub.npub >= 1);
	snprintf(stats, sizeof(stats), "%s", stub.pub_payload[stub.npub - 1]);
	cr_assert(strstr(stats, "\"clients\":0"), "no connection is open: %s", stats);
	for (int i = 0; i < 50; i++)
		client_free(bad[i]);
	client_free(c);
}

/* Item 2: a reload whose files are broken still re-checks sessions without
 * refusing the away ones. */
Test(plugin, a_refused_reload_refuses_no_away_session)
{
	struct mosquitto *away = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);

	start();
	unlink(crl_path);
	reload();
	cr_assert(stub_logged("GF-PLUGIN-RELOAD", "previous configuration stays"));
	cr_assert_eq(auth(away, NULL), MOSQ_ERR_SUCCESS);
	client_free(away);
}

/* Item 5: wills are validated like publishes. */
Test(plugin, a_will_is_validated_when_the_broker_sends_it)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	struct mosquitto *taker = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	struct mosquitto stand_in = {.id = c->id, .username = c->username};
	const char *status = "gf/site1/foa/7-PRE-001/ops/all/status";
	const char *offer = "gf/site1/foa/7-PRE-001/fman/all/flexoffer";
	const char *good = "{\"state\":\"offline\",\"version\":\"1\",\"startTime\":"
	                   "\"2026-12-04T10:00:00Z\",\"sequence\":3}";

	start();
	cr_assert_eq(auth(c, "pw"), MOSQ_ERR_PLUGIN_DEFER);
	/* A publish: the write check does not validate (the message callback
	 * does, with the Content Type). */
	cr_assert_eq(acl_payload(c, MOSQ_ACL_WRITE, offer, "garbage", false), MOSQ_ERR_SUCCESS);
	/* Taken over by a new connection with the same client id: the old
	 * connection's will is sent in the middle of the new CONNECT. */
	cr_assert_eq(auth(taker, "pw"), MOSQ_ERR_PLUGIN_DEFER);
	cr_assert_eq(acl_payload(c, MOSQ_ACL_WRITE, status, "garbage", true), MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-PAYLOAD-INVALID", "will refused"));
	disconnect(c);
	/* The new connection's own publishes are not wills. */
	cr_assert_eq(acl_payload(taker, MOSQ_ACL_WRITE, offer, "garbage", false), MOSQ_ERR_SUCCESS);
	disconnect(taker);
	/* Gone: its will is checked. */
	cr_assert_eq(acl_payload(taker, MOSQ_ACL_WRITE, offer, "garbage", false),
	             MOSQ_ERR_ACL_DENIED);
	cr_assert_eq(acl_payload(taker, MOSQ_ACL_WRITE, status, good, true), MOSQ_ERR_SUCCESS,
	             "a valid will passes");
	cr_assert_eq(acl_payload(taker, MOSQ_ACL_WRITE, status, "", true), MOSQ_ERR_SUCCESS,
	             "an empty retained will clears the status");
	/* The retained-source stand-in (protocol 0) is not a will. */
	cr_assert_eq(acl_payload(&stand_in, MOSQ_ACL_WRITE, offer, "garbage", true),
	             MOSQ_ERR_SUCCESS);
	/* A sealed row's will must be a compact JWE. */
	cr_assert_eq(acl_payload(taker, MOSQ_ACL_WRITE, "gf/site1/foa/7-PRE-001/sp/all/kv.put",
	                         "{\"key\":\"plain\"}", false),
	             MOSQ_ERR_ACL_DENIED);
	client_free(c), client_free(taker);
}

/* Item 8: MQTT 3.1.1 subscribers receive JSON only. */
Test(plugin, v311_subscribers_receive_json_only)
{
	struct mosquitto *v3 = client("ops.o1", "ops.o1", NULL);
	struct mosquitto *v5 = client("ops.o2", "ops.o2", NULL);
	const char *status = "gf/site1/foa/7-PRE-001/ops/all/status";
	const char pb[] = {0x0a, 0x02, 'h', 'i', 0};

	v3->protocol = 4;
	start();
	const char *json = "{\"state\":\"online\",\"version\":\"1\",\"startTime\":"
	                   "\"2026-12-04T10:00:00Z\",\"sequence\":3}";
	char spaced[256];

	snprintf(spaced, sizeof(spaced), " \n%s", json);
	cr_assert_eq(acl_payload(v3, MOSQ_ACL_READ, status, json, true), MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl_payload(v3, MOSQ_ACL_READ, status, pb, true), MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-ACL-ENCODING", status));
	cr_assert_eq(acl_payload(v5, MOSQ_ACL_READ, status, pb, true), MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl_payload(v3, MOSQ_ACL_READ, status, spaced, true), MOSQ_ERR_SUCCESS,
	             "JSON after white space");
	cr_assert_eq(acl_payload(v3, MOSQ_ACL_READ, status, "\n{not json", true),
	             MOSQ_ERR_ACL_DENIED);
	v3->protocol = 3; /* MQTT 3.1 */
	cr_assert_eq(acl_payload(v3, MOSQ_ACL_READ, status, pb, true), MOSQ_ERR_ACL_DENIED);
	client_free(v3), client_free(v5);
}

/* Item 6: the retained messages of an identity whose certificate is revoked
 * are not served (the stand-in carries the publisher's username). */
Test(plugin, a_revoked_publishers_retained_messages_are_not_served)
{
	struct mosquitto *c =
	    client("foa.7-PRE-001", NULL, make_cert("site1", "foa", "7-PRE-001", 7));
	const char *status = "gf/site1/foa/7-PRE-001/ops/all/status";
	struct mosquitto stand_in = {.id = (char *)"foa.7-PRE-001",
	                             .username = (char *)"foa.7-PRE-001"};
	start();
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl(&stand_in, MOSQ_ACL_WRITE, status), MOSQ_ERR_SUCCESS);
	write_crl((const long[]){7, 0});
	reload();
	tick(1);
	cr_assert_eq(acl(&stand_in, MOSQ_ACL_WRITE, status), MOSQ_ERR_ACL_DENIED);
	client_free(c);
}

/* Item 2: the certificate ledger survives a restart (plugin_opt_state). */
Test(plugin, revocation_of_away_identities_survives_a_restart)
{
	char state[600];
	struct mosquitto *c =
	    client("foa.7-PRE-001", NULL, make_cert("site1", "foa", "7-PRE-001", 7));
	struct mosquitto stand_in = {.id = (char *)"foa.7-PRE-001",
	                             .username = (char *)"foa.7-PRE-001"};
	const char *status = "gf/site1/foa/7-PRE-001/ops/all/status";

	snprintf(state, sizeof(state), "%s/state", dir);
	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "state", state), MOSQ_ERR_SUCCESS);
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_SUCCESS);
	tick(1); /* saved */
	mosquitto_plugin_cleanup(gate, NULL, 0);
	gate = NULL;
	write_crl((const long[]){7, 0});
	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "state", state), MOSQ_ERR_SUCCESS);
	cr_assert(stub_logged("GF-PLUGIN-READY", "1 certificate identities known (1 revoked)"));
	cr_assert_eq(acl(&stand_in, MOSQ_ACL_WRITE, status), MOSQ_ERR_ACL_DENIED);
	mosquitto_plugin_cleanup(gate, NULL, 0);
	gate = NULL;
	/* A corrupt state file stops the start, naming the line. */
	FILE *f = fopen(state, "w");
	fputs("foa.7-PRE-001 xyz\n", f);
	fclose(f);
	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "state", state), MOSQ_ERR_INVAL);
	cr_assert(stub_logged("GF-PLUGIN-CONFIG", ":1: the serial"));
	gate = NULL;
	unlink(state);
	client_free(c);
}

Test(plugin, a_broken_reload_keeps_the_previous_configuration)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	struct mosquitto_evt_reload ev = {0};

	start();
	unlink(crl_path);
	gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate);
	cr_assert(stub_logged("GF-PLUGIN-RELOAD", "previous configuration stays"));
	tick(1); /* the re-check is over: new connections again */
	cr_assert_eq(acl(c, MOSQ_ACL_WRITE, "gf/site1/foa/7-PRE-001/fman/all/flexoffer"),
	             MOSQ_ERR_SUCCESS);
	client_free(c);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(plugin, payloads_beyond_their_types_limit_are_refused_with_size_and_limit)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	char path[600];

	snprintf(path, sizeof(path), "%s/limits.tsv", dir);
	write_file(path, "# test\nflexoffer 2k\n*\t1000\n");
	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "limits", path), MOSQ_ERR_SUCCESS,
	             "%s", stub.nlog ? stub.log[0] : "");
	cr_assert_eq(acl_write(c, "gf/site1/foa/7-PRE-001/fman/all/flexoffer", 2048),
	             MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl_write(c, "gf/site1/foa/7-PRE-001/fman/all/flexoffer", 2049),
	             MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-LIMIT-PAYLOAD", "2049 bytes, limit 2048"));
	/* foa.status is not named: the file's default applies. */
	cr_assert_eq(acl_write(c, "gf/site1/foa/7-PRE-001/user/u1/foa.status", 1000),
	             MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl_write(c, "gf/site1/foa/7-PRE-001/user/u1/foa.status", 1001),
	             MOSQ_ERR_ACL_DENIED);
	/* A topic the policy refuses keeps its policy reason. */
	cr_assert_eq(acl_write(c, "gf/site1/foa/7-PRE-002/fman/all/flexoffer", 99999),
	             MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-ACL-SPOOF", NULL));
	/* Deliveries are not limited (the publisher's limit applied). */
	cr_assert_eq(acl(c, MOSQ_ACL_READ, "gf/site1/fman/f/foa/7-PRE-001/flexoffer.assign"),
	             MOSQ_ERR_SUCCESS);
	unlink(path);
	client_free(c);
}

Test(plugin, without_a_limits_file_max_payload_applies_to_every_type)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);

	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "max_payload", "500"),
	             MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl_write(c, OFFER_TOPIC_ACL, 500), MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl_write(c, OFFER_TOPIC_ACL, 501), MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-LIMIT-PAYLOAD", "501 bytes, limit 500"));
	client_free(c);
}

Test(plugin, a_limits_file_with_an_unknown_type_is_refused_with_its_line)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/limits.tsv", dir);
	write_file(path, "flexoffer 2k\nno.such.type 1k\n");
	cr_assert_neq(init_with("site1", "schemas/exchange.tsv", "limits", path), MOSQ_ERR_SUCCESS);
	cr_assert(stub_logged("GF-PLUGIN-CONFIG", "limits.tsv:2: 'no.such.type'"));
	unlink(path);
}

Test(plugin, a_client_holding_max_subscriptions_is_refused_more)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);

	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "max_subscriptions", "3"),
	             MOSQ_ERR_SUCCESS);
	c->sub_count = 2;
	cr_assert_eq(acl(c, MOSQ_ACL_SUBSCRIBE, "gf/site1/#"), MOSQ_ERR_SUCCESS);
	c->sub_count = 3;
	cr_assert_eq(acl(c, MOSQ_ACL_SUBSCRIBE, "gf/site1/+/+/foa/#"), MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-LIMIT-SUBS", "3 subscriptions held, limit 3"));
	/* Unsubscribing is never limited; a filter the policy refuses keeps its
	 * own reason. */
	cr_assert_eq(acl(c, MOSQ_ACL_UNSUBSCRIBE, "gf/site1/#"), MOSQ_ERR_SUCCESS);
	cr_assert_eq(acl(c, MOSQ_ACL_SUBSCRIBE, "#"), MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-ACL-FILTER", NULL));
	client_free(c);
}

Test(plugin, max_subscriptions_0_means_no_limit)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);

	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "max_subscriptions", "0"),
	             MOSQ_ERR_SUCCESS);
	c->sub_count = 1000000;
	cr_assert_eq(acl(c, MOSQ_ACL_SUBSCRIBE, "gf/site1/#"), MOSQ_ERR_SUCCESS);
	client_free(c);
}

Test(plugin, a_broken_limits_file_on_reload_keeps_the_previous_limits)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	struct mosquitto_evt_reload ev = {0};
	char path[600];

	snprintf(path, sizeof(path), "%s/limits.tsv", dir);
	write_file(path, "flexoffer 2k\n");
	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "limits", path), MOSQ_ERR_SUCCESS);
	opened(c); /* connected before the reloads */
	write_file(path, "flexoffer 2x\n");
	gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate);
	cr_assert(stub_logged("GF-PLUGIN-CONFIG", "limits.tsv:1: size '2x'"));
	cr_assert(stub_logged("GF-PLUGIN-RELOAD", NULL));
	cr_assert_eq(acl_write(c, OFFER_TOPIC_ACL, 2049), MOSQ_ERR_ACL_DENIED);
	write_file(path, "flexoffer 3k\n");
	gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate);
	cr_assert_eq(acl_write(c, OFFER_TOPIC_ACL, 2049), MOSQ_ERR_SUCCESS);
	unlink(path);
	client_free(c);
}

/*
 * Counting allocations: this executable's malloc family interposes glibc's
 * for the whole process and counts calls while `counting` is set. Under
 * AddressSanitizer, which has its own allocator, the test is skipped.
 */
#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
/* Thread-local: only the test thread counts, not Criterion's own threads. */
static _Thread_local volatile int counting;
static volatile long allocations;

void *malloc(size_t size)
{
	if (counting)
		allocations++;
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	if (counting)
		allocations++;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (counting)
		allocations++;
	return __libc_realloc(p, size);
}

Test(plugin, the_acl_path_never_allocates)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	void *volatile probe;

	start();
	auth(c, "pw"); /* the connection is open (its first sight may allocate) */
	counting = 1;
	probe = malloc(16);
	counting = 0;
	cr_assert_eq(allocations, 1, "the allocation counter does not count");
	free(probe);
	allocations = 0;
	counting = 1;
	for (int i = 0; i < 1000; i++) {
		acl(c, MOSQ_ACL_WRITE, "gf/site1/foa/7-PRE-001/fman/all/flexoffer");
		acl(c, MOSQ_ACL_READ, "gf/site1/fman/f/foa/7-PRE-001/flexoffer.assign");
		acl(c, MOSQ_ACL_READ, "gf/site1/fman/f/foa/7-PRE-002/flexoffer.assign");
		acl(c, MOSQ_ACL_WRITE, "gf/site1/foa/7-PRE-002/fman/all/flexoffer");
		acl(c, MOSQ_ACL_SUBSCRIBE, "$share/g/gf/site1/#");
		acl(c, MOSQ_ACL_SUBSCRIBE, "#");
		acl(c, MOSQ_ACL_SUBSCRIBE, "gf/site1/+/+/foa/7-PRE-001/+");
		acl_write(c, "gf/site1/foa/7-PRE-001/fman/all/flexoffer", 100000);
		acl_write(c, "gf/site1/foa/7-PRE-001/fman/all/flexoffer", 1000000);
	}
	counting = 0;
	cr_assert_eq(allocations, 0, "%ld allocations on the ACL path", allocations);
	client_free(c);
}
#endif

static int message_retained(struct mosquitto *c, const char *topic, const char *payload,
                            const char *content_type, bool retain)
{
	struct mosquitto_evt_message ev = {0};

	ev.retain = retain;
	ev.client = c;
	ev.topic = (char *)topic;
	ev.payload = (void *)payload;
	ev.payloadlen = (uint32_t)strlen(payload);
	stub_content_type = content_type;
	return gf_gate_on_message(MOSQ_EVT_MESSAGE, &ev, gate);
}

static int message(struct mosquitto *c, const char *topic, const char *payload,
                   const char *content_type)
{
	return message_retained(c, topic, payload, content_type, false);
}

#define OFFER_TOPIC "gf/site1/foa/7-PRE-001/fman/all/flexoffer"
#define GOOD_OFFER                                                                                 \
	"{\"state\":\"Offered\",\"offeredById\":\"7-PRE-001\",\"creationInterval\":100,"           \
	"\"startAfterInterval\":101,\"startBeforeInterval\":104,\"flexOfferProfileConstraints\":"  \
	"[{\"energyConstraintList\":[{\"lower\":1,\"upper\":3}],\"minDuration\":1,"                \
	"\"maxDuration\":1}]}"
#define BAD_OFFER                                                                                  \
	"{\"state\":\"Offered\",\"offeredById\":\"7-PRE-001\",\"creationInterval\":100,"           \
	"\"startAfterInterval\":101,\"startBeforeInterval\":104,\"flexOfferProfileConstraints\":"  \
	"[{\"energyConstraintList\":[{\"lower\":1,\"upper\":\"three\"}],\"minDuration\":1,"        \
	"\"maxDuration\":1}]}"

Test(plugin, payloads_are_validated_and_refusals_name_the_field)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);

	start();
	cr_assert_eq(message(c, OFFER_TOPIC, GOOD_OFFER, NULL), MOSQ_ERR_SUCCESS, "%s",
	             stub.nlog ? stub.log[stub.nlog - 1] : "");
	cr_assert_eq(message(c, OFFER_TOPIC, GOOD_OFFER, "application/json"), MOSQ_ERR_SUCCESS);
	cr_assert_eq(message(c, OFFER_TOPIC, BAD_OFFER, "application/json"), MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-PAYLOAD-INVALID",
	                      "flexOfferProfileConstraints[0].energyConstraintList[0].upper"));
	cr_assert(!stub_logged("three", NULL), "the payload reached the log");
	cr_assert_eq(message(c, OFFER_TOPIC, GOOD_OFFER, "text/plain"), MOSQ_ERR_ACL_DENIED);
	cr_assert_eq(message(c, OFFER_TOPIC, "", NULL), MOSQ_ERR_ACL_DENIED,
	             "an empty payload is no message");
	cr_assert(stub_logged("GF-PAYLOAD-INVALID", "unsupported Content Type 'text/plain'"));
	tick(1);
	cr_assert(strstr(stub.pub_payload[0], "\"msgid\":\"GF-PAYLOAD-INVALID\""));
	cr_assert(
	    strstr(stub.pub_payload[0],
	           "\"detail\":\"flexOfferProfileConstraints[0].energyConstraintList[0].upper"));
	client_free(c);
}

Test(plugin, an_empty_retained_publish_clears_and_is_allowed)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);

	start();
	cr_assert_eq(message_retained(c, "gf/site1/foa/7-PRE-001/ops/all/status", "", NULL, true),
	             MOSQ_ERR_SUCCESS);
	cr_assert_eq(message_retained(c, "gf/site1/foa/7-PRE-001/ops/all/status", "{}", NULL, true),
	             MOSQ_ERR_ACL_DENIED, "a retained status still needs its required fields");
	client_free(c);
}

Test(plugin, sealed_rows_need_a_jwe)
{
	struct mosquitto *c = client("dms.d1", "dms.d1", NULL);

	start();
	cr_assert_eq(message(c, "gf/site1/dms/d1/sp/all/meter.reading", "{\"readings\":[]}", NULL),
	             MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-PAYLOAD-INVALID", "sealed (anon) rows carry Content Type "
	                                            "application/jose, not none"));
	cr_assert_eq(
	    message(c, "gf/site1/dms/d1/sp/all/meter.reading", "a.b.c", "application/jose"),
	    MOSQ_ERR_ACL_DENIED);
	cr_assert(stub_logged("GF-PAYLOAD-INVALID", "JWE compact: 3 parts"));
	client_free(c);
}

Test(plugin, validation_can_be_turned_off)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);

	cr_assert_eq(init_with("site1", "schemas/exchange.tsv", "validate", "off"),
	             MOSQ_ERR_SUCCESS);
	cr_assert(stub_logged("GF-PLUGIN-READY", "validation off"));
	cr_assert_eq(message(c, OFFER_TOPIC, BAD_OFFER, NULL), MOSQ_ERR_SUCCESS);
	client_free(c);
}
