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
	return c;
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
	return gf_gate_on_basic_auth(MOSQ_EVT_BASIC_AUTH, &ev, gate);
}

static int acl(struct mosquitto *c, int access, const char *topic)
{
	struct mosquitto_evt_acl_check ev = {0};

	ev.client = c;
	ev.access = access;
	ev.topic = topic;
	return gf_gate_on_acl_check(MOSQ_EVT_ACL_CHECK, &ev, gate);
}

static int acl_write(struct mosquitto *c, const char *topic, uint32_t payloadlen)
{
	struct mosquitto_evt_acl_check ev = {0};

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

Test(plugin, reload_rereads_the_crl_and_refuses_revoked_sessions_present_or_away)
{
	static const long revoke7[] = {7, 0};
	struct mosquitto *c =
	    client("foa.7-PRE-001", NULL, make_cert("site1", "foa", "7-PRE-001", 7));
	struct mosquitto *d =
	    client("foa.7-PRE-002", NULL, make_cert("site1", "foa", "7-PRE-002", 8));
	struct mosquitto_evt_reload ev = {0};

	start();
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_SUCCESS);
	cr_assert_eq(auth(d, NULL), MOSQ_ERR_SUCCESS);
	write_crl(revoke7);
	cr_assert_eq(gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate), MOSQ_ERR_PLUGIN_DEFER);
	cr_assert(stub_logged("GF-PLUGIN-READY", "(1 revoked)"));
	/* mosquitto now re-checks every session; c is connected, d is away. */
	cr_assert_eq(auth(c, NULL), MOSQ_ERR_AUTH);
	cr_assert(stub_logged("GF-AUTH-REVOKED", "foa.7-PRE-001"));
	X509_free(d->cert);
	d->cert = NULL;
	cr_assert_eq(auth(d, NULL), MOSQ_ERR_SUCCESS, "an away session not revoked is kept");
	write_crl((const long[]){8, 0});
	gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate);
	cr_assert_eq(auth(d, NULL), MOSQ_ERR_AUTH, "an away session revoked is refused");
	tick(5);
	cr_assert_eq(auth(d, NULL), MOSQ_ERR_PLUGIN_DEFER,
	             "outside a reload, a client without certificate is a password client");
	client_free(c), client_free(d);
}

Test(plugin, a_broken_reload_keeps_the_previous_configuration)
{
	struct mosquitto *c = client("foa.7-PRE-001", "foa.7-PRE-001", NULL);
	struct mosquitto_evt_reload ev = {0};

	start();
	unlink(crl_path);
	gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate);
	cr_assert(stub_logged("GF-PLUGIN-RELOAD", "previous configuration stays"));
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
