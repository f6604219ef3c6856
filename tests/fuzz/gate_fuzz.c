/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the plugin's callbacks (broker-plugin/gate.c) driven by
 * random sequences of broker events against the broker stubs
 * (tests/unit/broker_stubs.c): connect (basic auth, refused or admitted,
 * session takeover), disconnect, subscribe, publish, deliveries, wills, the
 * retained-source stand-in, reload with mosquitto 2.0.11's re-check of every
 * session, tick, CRL rewrites and session expiry.
 *
 * The fuzzer keeps its own model of what mosquitto holds (which contexts are
 * open, which sessions are away, which CRL the plugin installed, which
 * certificate each identity was last admitted with) and aborts when the
 * plugin disagrees with it after any step:
 *  - the open set (gf_clients) is exactly the model's open contexts: every
 *    connection that reaches basic auth is in it until its disconnect event,
 *    whatever the outcome, so it is empty when everything disconnected;
 *  - the certificate ledger changes only when a certificate client is
 *    admitted: a refused login changes no count and no revoked state;
 *  - basic auth answers as the identity table says (deferred, admitted,
 *    refused; revoked per the installed CRL);
 *  - in the re-check after a reload an away session always gets SUCCESS;
 *  - a write check from a context that is not open (a will), or from an
 *    open one while its successor is connecting, validates the payload; any
 *    other write check does not, nor does the retained stand-in's;
 *  - a delivery of a catalogue row to an MQTT 3.x client that does not look
 *    like JSON is refused;
 *  - gate->connecting never points at a context that is not open.
 *
 * Input: a sequence of operations, one byte each followed by its arguments
 * (a missing byte reads as 0); see the OP_* comments. Each input starts from
 * the same plugin state (start_input).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../broker-plugin/gate.h"
#include "../unit/broker_stubs.h"
#include "payload/payload.h"
#include "bus/topic.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_SLOTS     8
#define MAX_OPS     128
#define MAX_RELOADS 4

/* The certificates, made once, signed by a throwaway key. who: the index in
 * cert_users of the identity it admits, or -1 when the plugin refuses it. */
static const struct cert_spec {
	const char *o, *ou, *cn;
	long serial;
	int who;
} cert_specs[] = {
    {"site1", "foa", "7-PRE-001", 7, 0},  {"site1", "foa", "7-PRE-001", 8, 0},
    {"site1", "foa", "7-PRE-002", 9, 1},  {"site1", "fman", "f1", 10, 2},
    {"site1", "foa", "7-PRE-002", 14, 1}, {"site2", "foa", "x", 11, -1},
    {"site1", "bogus", "x", 12, -1},      {"site1", "foa", NULL, 13, -1},
};
#define N_CERTS (sizeof(cert_specs) / sizeof(cert_specs[0]))
static const char *const cert_users[] = {"foa.7-PRE-001", "foa.7-PRE-002", "fman.f1"};
#define N_CERT_USERS (sizeof(cert_users) / sizeof(cert_users[0]))

/* What basic auth must answer outside a reload. */
enum expect { EXPECT_DEFER, EXPECT_CERT, EXPECT_REFUSED };

/* The connecting clients: client ids collide across identities, password and
 * certificate identities share usernames. */
static const struct ident {
	const char *client_id;
	const char *username;
	int cert; /* index in cert_specs, or -1 */
	enum expect expect;
} idents[] = {
    {"foa.7-PRE-001", "foa.7-PRE-001", -1, EXPECT_DEFER},
    {"foa.7-PRE-001@cli", "foa.7-PRE-001", -1, EXPECT_DEFER},
    {"foa.7-PRE-001", NULL, 0, EXPECT_CERT},
    {"foa.7-PRE-001", "junk", 1, EXPECT_CERT}, /* the username sent is replaced */
    {"foa.7-PRE-002", NULL, 2, EXPECT_CERT},
    {"fman.f1", NULL, 3, EXPECT_CERT},
    {"foa.7-PRE-002@x", NULL, 4, EXPECT_CERT},
    {"foa.7-PRE-001", "foa.7-PRE-002", -1, EXPECT_REFUSED}, /* another's client id */
    {"x", "foa.a+b", -1, EXPECT_REFUSED},
    {"foa.7-PRE-001", NULL, -1, EXPECT_REFUSED},           /* no username */
    {"foa.x", NULL, 5, EXPECT_REFUSED},                    /* another site */
    {"bogus.x", NULL, 6, EXPECT_REFUSED},                  /* unknown role */
    {"foa.x", NULL, 7, EXPECT_REFUSED},                    /* no CN */
    {"foa.7-PRE-002", "foa.7-PRE-002", 0, EXPECT_REFUSED}, /* another's certificate */
    {"ops.o1", "ops.o1", -1, EXPECT_DEFER},
    {"sp.a", "sp.a", -1, EXPECT_DEFER},
    {"fman.f1", "fman.f1", -1, EXPECT_DEFER},
    {"foa.7-PRE-002", "foa.7-PRE-002", -1, EXPECT_DEFER},
};
#define N_IDENTS (sizeof(idents) / sizeof(idents[0]))

static const char *const topics[] = {
    "gf/site1/foa/7-PRE-001/fman/all/flexoffer",
    "gf/site1/foa/7-PRE-001/fman/f1/flexoffer",
    "gf/site1/foa/7-PRE-001/ops/all/status",
    "gf/site1/foa/7-PRE-002/ops/all/status",
    "gf/site1/foa/7-PRE-001/sp/all/kv.put",
    "gf/site1/fman/f1/foa/7-PRE-001/flexoffer.ack",
    "gf/site1/fman/f1/foa/7-PRE-002/flexoffer.assign",
    "gf/site1/sp/a/all/all/weather.forecast",
    "gf/site1/ops/broker/ops/all/audit",
    "gf/site1/foa/7-PRE-001/user/all/foa.status",
    "gf/site1/fman/f1/ops/all/status",
    "gf/site1/#",
    "#",
    "gf/site1/+/+/foa/7-PRE-001/#",
    "$share/g/gf/site1/foa/+/fman/f1/flexoffer",
    "$SYS/broker/uptime",
    "gf/site2/foa/7-PRE-001/fman/all/flexoffer",
    "",
};
#define N_TOPICS (sizeof(topics) / sizeof(topics[0]))

static const char *const payloads[] = {
    "",
    "garbage",
    "{\"state\":\"offline\",\"version\":\"1\",\"startTime\":\"2026-12-04T10:00:00Z\","
    "\"sequence\":3}",
    "{}",
    " \n{\"state\":\"online\",\"version\":\"1\",\"startTime\":\"2026-12-04T10:00:00Z\","
    "\"sequence\":3}",
    "\n{not json",
    "\x0a\x02hi",
    "\x81\xa1"
    "a\x01",
    "a.b.c.d.e",
    "[1,2]",
};
#define N_PAYLOADS (sizeof(payloads) / sizeof(payloads[0]))

static const char *const content_types[] = {
    NULL,
    "application/json",
    "application/x-protobuf",
    "application/msgpack",
    "application/jose",
    "text/plain",
};
#define N_CONTENT_TYPES (sizeof(content_types) / sizeof(content_types[0]))

/* --- the fixtures, made once --------------------------------------------- */

static char dir[] = "/tmp/gf-gate-fuzz-XXXXXX";
static char crl_path[512];
static EVP_PKEY *key;
static X509 *certs[N_CERTS];

/* GF_GATE_FUZZ_TRACE=1: every callback and its answer on stderr, to read a
 * reproducer. */
static bool trace;

static void fail(const char *why)
{
	fprintf(stderr, "gate_fuzz: invariant broken: %s\n", why);
	abort();
}

static X509 *make_cert(const struct cert_spec *cs)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	ASN1_INTEGER_set(X509_get_serialNumber(x), cs->serial);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)cs->o, -1, -1,
	                           0);
	X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)cs->ou, -1, -1,
	                           0);
	if (cs->cn)
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cs->cn,
		                           -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	if (!X509_sign(x, key, EVP_sha256()))
		fail("cannot sign a test certificate");
	return x;
}

/* The CRL file: revokes the serials of cert_specs whose bit is set in mask,
 * or holds garbage (a reload then fails). What is on disk now: */
static unsigned file_mask;
static bool file_broken;

static void write_crl(unsigned mask, bool broken)
{
	X509_CRL *crl;
	X509_NAME *issuer;
	ASN1_TIME *now, *later;
	FILE *f;

	if (mask == file_mask && broken == file_broken)
		return;
	if (!(f = fopen(crl_path, "w")))
		fail("cannot write the CRL");
	file_mask = mask;
	file_broken = broken;
	if (broken) {
		fputs("-----BEGIN X509 CRL-----\nnot a CRL\n-----END X509 CRL-----\n", f);
		fclose(f);
		return;
	}
	crl = X509_CRL_new();
	issuer = X509_NAME_new();
	X509_NAME_add_entry_by_txt(issuer, "O", MBSTRING_ASC, (const unsigned char *)"site1", -1,
	                           -1, 0);
	X509_CRL_set_issuer_name(crl, issuer);
	X509_CRL_set_version(crl, 1);
	now = ASN1_TIME_adj(NULL, time(NULL), 0, 0);
	later = ASN1_TIME_adj(NULL, time(NULL), 1, 0);
	X509_CRL_set1_lastUpdate(crl, now);
	X509_CRL_set1_nextUpdate(crl, later);
	for (size_t i = 0; i < N_CERTS; i++) {
		X509_REVOKED *r;
		ASN1_INTEGER *s;

		if (!(mask & (1u << i)))
			continue;
		r = X509_REVOKED_new();
		s = ASN1_INTEGER_new();
		ASN1_INTEGER_set(s, cert_specs[i].serial);
		X509_REVOKED_set_serialNumber(r, s);
		X509_REVOKED_set_revocationDate(r, now);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(s);
	}
	if (!X509_CRL_sign(crl, key, EVP_sha256()) || PEM_write_X509_CRL(f, crl) != 1)
		fail("cannot sign or write the CRL");
	fclose(f);
	ASN1_TIME_free(now);
	ASN1_TIME_free(later);
	X509_NAME_free(issuer);
	X509_CRL_free(crl);
}

static void stop_plugin(void);

static void remove_fixtures(void)
{
	unlink(crl_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	trace = getenv("GF_GATE_FUZZ_TRACE") != NULL;
	if (!mkdtemp(dir) || !(key = EVP_EC_gen("P-256")))
		fail("cannot make the fixtures");
	snprintf(crl_path, sizeof(crl_path), "%s/crl.pem", dir);
	for (size_t i = 0; i < N_CERTS; i++)
		certs[i] = make_cert(&cert_specs[i]);
	file_mask = ~0u; /* forces the first write */
	write_crl(0, false);
	atexit(remove_fixtures);
	atexit(stop_plugin);
	return 0;
}

/* --- the input ------------------------------------------------------------ */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* A topic: one of the table, or (byte >= 0xc0) up to 63 raw bytes. Freed by
 * the caller; exactly sized, so that an over-read is caught. */
static char *read_topic(struct input *in)
{
	uint8_t b = u8(in);
	size_t len = b & 0x3f;
	char *t;

	if (b < 0xc0)
		return strdup(topics[b % N_TOPICS]);
	if (len > in->n)
		len = in->n;
	if (!(t = malloc(len + 1)))
		abort();
	memcpy(t, in->p, len);
	t[len] = '\0';
	in->p += len, in->n -= len;
	return t;
}

struct payload {
	uint8_t *data; /* NULL when empty, as mosquitto passes it */
	uint32_t len;
};

/* A payload: one of the table, or (byte >= 0x80) up to 127 raw bytes. */
static struct payload read_payload(struct input *in)
{
	uint8_t b = u8(in);
	const uint8_t *src;
	size_t len;
	struct payload pl = {NULL, 0};

	if (b < 0x80) {
		src = (const uint8_t *)payloads[b % N_PAYLOADS];
		len = strlen(payloads[b % N_PAYLOADS]);
	} else {
		src = in->p;
		len = b & 0x7f;
		if (len > in->n)
			len = in->n;
		in->p += len, in->n -= len;
	}
	if (len == 0)
		return pl;
	if (!(pl.data = malloc(len)))
		abort();
	memcpy(pl.data, src, len);
	pl.len = (uint32_t)len;
	return pl;
}

/* --- the model ----------------------------------------------------------- */

struct slot {
	struct mosquitto *ctx; /* NULL: free; else a session, open or away */
	int ident;
	bool open;
	bool persistent;  /* session expiry > 0: stays away after its disconnect */
	bool password_ok; /* what the broker's password file says after a DEFER */
};

static struct gf_gate *gate;
static struct slot slots[N_SLOTS];
static unsigned installed_mask;     /* the CRL the plugin installed last */
static int reloads;                 /* in this input */
static int last_cert[N_CERT_USERS]; /* cert_specs index last admitted, or -1 */

static struct mosquitto *ctx_new(const struct ident *id, int protocol)
{
	struct mosquitto *c = calloc(1, sizeof(*c));

	if (!c || !(c->id = strdup(id->client_id)) ||
	    (id->username && !(c->username = strdup(id->username))))
		abort();
	if (id->cert >= 0) {
		c->cert = certs[id->cert];
		X509_up_ref(c->cert);
	}
	c->protocol = protocol;
	c->opened = true;
	return c;
}

static void ctx_free(struct mosquitto *c)
{
	free(c->id);
	free(c->username);
	X509_free(c->cert);
	free(c);
}

static bool is_open(const struct mosquitto *c)
{
	for (int i = 0; i < N_SLOTS; i++) {
		if (slots[i].ctx == c)
			return slots[i].open;
	}
	return false;
}

static bool model_revoked(size_t who)
{
	return last_cert[who] >= 0 && (installed_mask & (1u << last_cert[who]));
}

static void check_invariants(void)
{
	size_t open = 0, known = 0, revoked = 0;

	for (int i = 0; i < N_SLOTS; i++) {
		if (!slots[i].ctx)
			continue;
		if (gf_clients_has(gate->clients, slots[i].ctx) != slots[i].open)
			fail(slots[i].open ? "an open connection is missing from the open set"
			                   : "a closed connection is still in the open set");
		open += slots[i].open;
	}
	if (gf_clients_count(gate->clients) != open)
		fail("the open set's count differs from the connections open");
	for (size_t k = 0; k < N_CERT_USERS; k++) {
		known += last_cert[k] >= 0;
		revoked += model_revoked(k);
		if (gf_certledger_revoked(gate->ledger, cert_users[k]) != model_revoked(k))
			fail("an identity's revoked state differs from its last certificate and "
			     "the CRL");
	}
	if (gf_certledger_count(gate->ledger) != known)
		fail("the ledger holds other identities than the admitted certificates'");
	if (gf_certledger_revoked_count(gate->ledger) != revoked)
		fail("the ledger's revoked count is off");
	if (gate->reapplying)
		fail("still re-checking after the tick");
	if (gate->connecting && !is_open(gate->connecting))
		fail("gate->connecting names a connection that is not open");
}

/* --- the broker's events --------------------------------------------------- */

static void ev_disconnect(struct mosquitto *c)
{
	struct mosquitto_evt_disconnect ev = {0};

	ev.client = c;
	if (trace)
		fprintf(stderr, "disconnect %p\n", (void *)c);
	if (gf_gate_on_disconnect(MOSQ_EVT_DISCONNECT, &ev, gate) != MOSQ_ERR_SUCCESS)
		fail("the disconnect callback failed");
	if (gf_clients_has(gate->clients, c))
		fail("a disconnected connection stays in the open set");
}

/* Basic auth as mosquitto_unpwd_check calls it. Updates the ledger model:
 * only an admitted certificate changes it. */
static int ev_basic_auth(struct mosquitto *c)
{
	struct mosquitto_evt_basic_auth ev = {0};
	bool had_cert = c->cert != NULL;
	int cert = -1, rc;

	for (size_t i = 0; i < N_CERTS; i++) {
		if (certs[i] == c->cert)
			cert = (int)i;
	}
	ev.client = c;
	ev.username = c->username;
	ev.password = (char *)"pw";
	rc = gf_gate_on_basic_auth(MOSQ_EVT_BASIC_AUTH, &ev, gate);
	if (trace)
		fprintf(stderr, "auth %p '%s' '%s' cert %d%s: %d\n", (void *)c, c->id ? c->id : "",
		        c->username ? c->username : "", cert, gate->reapplying ? " (re-check)" : "",
		        rc);
	if (rc == MOSQ_ERR_SUCCESS && had_cert) {
		if (cert < 0 || cert_specs[cert].who < 0)
			fail("a certificate the plugin must refuse was admitted");
		last_cert[cert_specs[cert].who] = cert;
	}
	return rc;
}

static int ev_acl(struct mosquitto *c, int access, const char *topic, const void *payload,
                  uint32_t len, bool retain)
{
	struct mosquitto_evt_acl_check ev = {0};
	int rc;

	ev.client = c;
	ev.access = access;
	ev.topic = topic;
	ev.payload = payload;
	ev.payloadlen = len;
	ev.retain = retain;
	rc = gf_gate_on_acl_check(MOSQ_EVT_ACL_CHECK, &ev, gate);
	if (trace)
		fprintf(stderr, "acl %p access %d '%s' (%u bytes%s): %d\n", (void *)c, access,
		        topic, len, retain ? ", retained" : "", rc);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ACL_DENIED)
		fail("an ACL check answered neither SUCCESS nor ACL_DENIED");
	return rc;
}

static void ev_tick(time_t now)
{
	struct mosquitto_evt_tick ev = {0};

	ev.now_s = now;
	gf_gate_on_tick(MOSQ_EVT_TICK, &ev, gate);
}

/* The catalogue cell of a topic, 0 when it is not a catalogue row. */
static uint8_t cell_of(const char *topic)
{
	struct gf_topic t;

	return gf_topic_parse(topic, &t, NULL) == GF_OK ? gf_policy_cell(&gate->pol, &t) : 0;
}

/* What the plugin decides before it looks at the payload. */
static int expect_policy(const struct mosquitto *c, int access, const char *topic)
{
	struct gf_ident who;
	struct gf_decision d;
	bool known = gf_ident_parse(c->username, &who) == GF_OK;

	if (known && gf_certledger_revoked(gate->ledger, c->username))
		return MOSQ_ERR_ACL_DENIED;
	return gf_policy_check(&gate->pol, known ? &who : NULL, (enum gf_access)access, topic,
	                       &d) == GF_REASON_ALLOW
	           ? MOSQ_ERR_SUCCESS
	           : MOSQ_ERR_ACL_DENIED;
}

/* What a validated will gets: the payload check (JSON, or JWE on sealed rows). */
static int expect_will(const char *topic, const struct payload *pl, bool retain)
{
	struct gf_topic t;
	char err[GF_AUDIT_DETAIL];
	uint8_t cell = cell_of(topic);
	enum gf_err rc;

	if (cell == 0 || (retain && pl->len == 0))
		return MOSQ_ERR_SUCCESS;
	if (gf_topic_parse(topic, &t, NULL) != GF_OK)
		fail("a catalogue row's topic does not parse");
	rc = gf_payload_check(t.msg.p, t.msg.len, (cell & GF_CELL_ANON) != 0,
	                      (cell & GF_CELL_ANON) ? GF_CONTENT_TYPE_JOSE : NULL, pl->data,
	                      pl->len, err, sizeof(err));
	return rc == GF_OK       ? MOSQ_ERR_SUCCESS
	       : rc == GF_ENOMEM ? MOSQ_ERR_NOMEM
	                         : MOSQ_ERR_ACL_DENIED;
}

/*
 * A write check from c with topic and payload from the input. will: whether
 * the model says mosquitto is sending c's will. A first check with an empty
 * retained payload (which a will may carry too) tells whether the policy
 * allows the write; then the payload must be validated exactly for a will.
 * Returns whether the write was allowed, and the topic and payload.
 */
static bool write_check(struct mosquitto *c, bool will, struct input *in, char **topic_out,
                        struct payload *pl_out)
{
	char *topic = read_topic(in);
	struct payload pl = read_payload(in);
	bool retain = u8(in) & 1;
	int allowed = ev_acl(c, MOSQ_ACL_WRITE, topic, NULL, 0, true);
	int rc = ev_acl(c, MOSQ_ACL_WRITE, topic, pl.data, pl.len, retain);

	if (allowed != expect_policy(c, MOSQ_ACL_WRITE, topic))
		fail("a write check disagrees with the policy");
	if (allowed != MOSQ_ERR_SUCCESS) {
		if (rc != allowed)
			fail("a refused write was allowed with a payload");
	} else if (!will) {
		if (rc != MOSQ_ERR_SUCCESS)
			fail("a publish (not a will) was validated at its write check");
	} else if (rc != expect_will(topic, &pl, retain)) {
		fail("a will was not validated like a publish");
	}
	if (topic_out) {
		*topic_out = topic;
		*pl_out = pl;
	} else {
		free(topic);
		free(pl.data);
	}
	return allowed == MOSQ_ERR_SUCCESS;
}

/* The model's side of a connection that is gone: its certificate goes with
 * its TLS session; it stays away if persistent, else mosquitto frees it. */
static void after_disconnect(struct slot *s, bool send_will, struct input *in)
{
	s->open = false;
	X509_free(s->ctx->cert);
	s->ctx->cert = NULL;
	if (send_will)
		write_check(s->ctx, s->ctx->protocol != 0, in, NULL, NULL);
	if (!s->persistent) {
		ctx_free(s->ctx);
		s->ctx = NULL;
	}
}

/* --- the operations ------------------------------------------------------ */

/* OP_CONNECT ident protocol flags [will: topic payload retain]
 * flags: 1 the password file accepts, 2 persistent session, 4 the session
 * taken over sends its will in the middle of this CONNECT. */
static void op_connect(struct input *in)
{
	static const int protocols[] = {3, 4, 5};
	size_t which = u8(in) % N_IDENTS;
	const struct ident *id = &idents[which];
	int protocol = protocols[u8(in) % 3];
	uint8_t flags = u8(in);
	struct slot *s = NULL;
	int rc, expected;
	bool admitted;

	for (int i = 0; i < N_SLOTS && !s; i++) {
		if (!slots[i].ctx)
			s = &slots[i];
	}
	if (!s)
		return;
	*s = (struct slot){ctx_new(id, protocol), (int)which, true, flags & 2, flags & 1};
	rc = ev_basic_auth(s->ctx);
	switch (id->expect) {
	case EXPECT_DEFER:
		expected = MOSQ_ERR_PLUGIN_DEFER;
		break;
	case EXPECT_CERT:
		expected = installed_mask & (1u << id->cert) ? MOSQ_ERR_AUTH : MOSQ_ERR_SUCCESS;
		break;
	default:
		expected = MOSQ_ERR_AUTH;
	}
	if (rc != expected)
		fail("basic auth answered other than the identity table says");
	if (!gf_clients_has(gate->clients, s->ctx))
		fail("a connection that reached basic auth is not in the open set");
	check_invariants();
	admitted = rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_PLUGIN_DEFER && s->password_ok);
	if (!admitted) {
		/* handle_connect: the client id is cleared, then the context is
		 * disconnected and freed. */
		free(s->ctx->id);
		s->ctx->id = NULL;
		ev_disconnect(s->ctx);
		s->persistent = false;
		after_disconnect(s, false, in);
		return;
	}
	/* connect__on_authorised: a session with the same client id is taken
	 * over; if it is open, its will goes out while this CONNECT is being
	 * handled, then it is disconnected; either way it is freed. */
	for (int i = 0; i < N_SLOTS; i++) {
		struct slot *old = &slots[i];

		if (old == s || !old->ctx || strcmp(old->ctx->id, s->ctx->id) != 0)
			continue;
		if (old->open) {
			if (flags & 4)
				write_check(old->ctx, old->ctx->protocol != 0, in, NULL, NULL);
			ev_disconnect(old->ctx);
			old->open = false;
		}
		ctx_free(old->ctx);
		old->ctx = NULL;
	}
}

/* OP_DISCONNECT slot flags [will: topic payload retain]; flags: 1 a will. */
static void op_disconnect(struct input *in)
{
	struct slot *s = &slots[u8(in) % N_SLOTS];
	uint8_t flags = u8(in);

	if (!s->ctx || !s->open)
		return;
	ev_disconnect(s->ctx);
	after_disconnect(s, flags & 1, in);
}

/* OP_SUBSCRIBE slot unsubscribe topic */
static void op_subscribe(struct input *in)
{
	struct slot *s = &slots[u8(in) % N_SLOTS];
	int access = u8(in) & 1 ? MOSQ_ACL_UNSUBSCRIBE : MOSQ_ACL_SUBSCRIBE;
	char *topic = read_topic(in);

	if (s->ctx && s->open &&
	    ev_acl(s->ctx, access, topic, NULL, 0, false) != expect_policy(s->ctx, access, topic))
		fail("a (un)subscribe check disagrees with the policy");
	free(topic);
}

/* OP_PUBLISH slot topic payload retain content-type: the write check, then
 * the message callback (content-type bit 7: a retained publish). */
static void op_publish(struct input *in)
{
	struct slot *s = &slots[u8(in) % N_SLOTS];
	struct mosquitto_evt_message ev = {0};
	struct payload pl;
	char *topic;
	bool allowed;
	uint8_t ct;
	int rc;

	if (!s->ctx || !s->open) {
		free(read_topic(in));
		free(read_payload(in).data);
		(void)u8(in), (void)u8(in);
		return;
	}
	allowed = write_check(s->ctx, false, in, &topic, &pl);
	ct = u8(in);
	stub_content_type = content_types[(ct & 0x7f) % N_CONTENT_TYPES];
	if (allowed) {
		ev.client = s->ctx;
		ev.topic = topic;
		ev.payload = pl.data;
		ev.payloadlen = pl.len;
		ev.retain = ct & 0x80;
		rc = gf_gate_on_message(MOSQ_EVT_MESSAGE, &ev, gate);
		if (trace)
			fprintf(stderr, "message %p '%s' (%s): %d\n", (void *)s->ctx, topic,
			        stub_content_type ? stub_content_type : "no content type", rc);
		if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ACL_DENIED)
			fail("the message callback answered neither SUCCESS nor ACL_DENIED");
	}
	stub_content_type = NULL;
	free(topic);
	free(pl.data);
}

/* OP_READ slot topic payload retain: a delivery to a session, open or away. */
static void op_read(struct input *in)
{
	struct slot *s = &slots[u8(in) % N_SLOTS];
	char *topic = read_topic(in);
	struct payload pl = read_payload(in);
	bool retain = u8(in) & 1;
	int allowed, rc, v;
	uint8_t cell, first;

	if (!s->ctx)
		goto out;
	allowed = ev_acl(s->ctx, MOSQ_ACL_READ, topic, "{", 1, retain);
	rc = ev_acl(s->ctx, MOSQ_ACL_READ, topic, pl.data, pl.len, retain);
	if (allowed != expect_policy(s->ctx, MOSQ_ACL_READ, topic))
		fail("a delivery check disagrees with the policy");
	if (allowed != MOSQ_ERR_SUCCESS) {
		if (rc != allowed)
			fail("a refused delivery was allowed with a payload");
		goto out;
	}
	cell = cell_of(topic);
	v = s->ctx->protocol;
	first = pl.len ? pl.data[0] : '{';
	if (v == 5 || cell == 0 || (cell & GF_CELL_ANON) || first == '{' || first == '[') {
		if (rc != MOSQ_ERR_SUCCESS)
			fail("a delivery was refused for its payload");
	} else if (!strchr(" \t\r\n", first) || first == '\0') {
		if (rc != MOSQ_ERR_ACL_DENIED)
			fail("a non-JSON payload was delivered to an MQTT 3.x client");
	}
out:
	free(topic);
	free(pl.data);
}

/* OP_WILL slot topic payload retain: mosquitto sends an away session's will
 * (after a will delay). */
static void op_will(struct input *in)
{
	struct slot *s = &slots[u8(in) % N_SLOTS];

	if (s->ctx && !s->open)
		write_check(s->ctx, true, in, NULL, NULL);
	else
		free(read_topic(in)), free(read_payload(in).data), (void)u8(in);
}

/* OP_RETAINED ident topic payload retain: the stand-in context mosquitto
 * builds to re-check a retained message's publisher (check_retain_source):
 * protocol 0, never open, never a will. */
static void op_retained(struct input *in)
{
	const struct ident *id = &idents[u8(in) % N_IDENTS];
	struct mosquitto stand_in = {0};

	stand_in.id = (char *)id->client_id;
	stand_in.username = (char *)(id->cert >= 0 && cert_specs[id->cert].who >= 0
	                                 ? cert_users[cert_specs[id->cert].who]
	                                 : id->username);
	write_check(&stand_in, false, in, NULL, NULL);
}

/* OP_RELOAD start flags [wills...]: the reload event, then mosquitto's
 * re-check of every session (mosquitto_security_apply_default), starting at
 * slot start; flags: 1 a session refused there sends its will. Then the
 * tick that follows in the same turn of mosquitto's loop. */
static void op_reload(struct input *in)
{
	struct mosquitto_evt_reload ev = {0};
	int start = u8(in) % N_SLOTS;
	uint8_t flags = u8(in);

	if (++reloads > MAX_RELOADS)
		return;
	if (trace)
		fprintf(stderr, "reload (CRL %#x%s)\n", file_mask, file_broken ? ", broken" : "");
	if (gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate) != MOSQ_ERR_PLUGIN_DEFER)
		fail("the reload callback must defer to other plugins");
	if (!file_broken)
		installed_mask = file_mask;
	if (!gate->reapplying)
		fail("no re-check after a reload");
	for (int i = 0; i < N_SLOTS; i++) {
		struct slot *s = &slots[(start + i) % N_SLOTS];
		const struct ident *id;
		int rc;

		if (!s->ctx)
			continue;
		id = &idents[s->ident];
		rc = ev_basic_auth(s->ctx);
		if (!s->open) {
			if (rc != MOSQ_ERR_SUCCESS)
				fail("an away session was refused in the re-check after a reload");
			continue;
		}
		if (id->expect == EXPECT_CERT &&
		    rc != (installed_mask & (1u << id->cert) ? MOSQ_ERR_AUTH : MOSQ_ERR_SUCCESS))
			fail("an open certificate session's re-check ignores the CRL");
		if (id->expect == EXPECT_DEFER && rc != MOSQ_ERR_PLUGIN_DEFER)
			fail("an open password session's re-check was not deferred");
		if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_PLUGIN_DEFER && s->password_ok))
			continue;
		ev_disconnect(s->ctx);
		after_disconnect(s, flags & 1, in);
	}
	ev_tick(0);
}

/* OP_TICK now (0: mosquitto 2.0.11's now_s). */
static void op_tick(struct input *in)
{
	uint8_t b = u8(in);

	ev_tick(b ? 1000 + 10 * (time_t)b : 0);
}

/* OP_CRL mask broken: rewrites the CRL file (read at the next reload). */
static void op_crl(struct input *in)
{
	uint8_t mask = u8(in);

	write_crl(mask, (u8(in) & 7) == 7);
}

/* OP_EXPIRE slot: an away session expires (no event reaches the plugin). */
static void op_expire(struct input *in)
{
	struct slot *s = &slots[u8(in) % N_SLOTS];

	if (s->ctx && !s->open) {
		ctx_free(s->ctx);
		s->ctx = NULL;
	}
}

static void (*const ops[])(struct input *) = {
    op_connect,  op_disconnect, op_subscribe, op_publish, op_read,   op_will,
    op_retained, op_reload,     op_tick,      op_crl,     op_expire,
};
#define N_OPS (sizeof(ops) / sizeof(ops[0]))

/*
 * The plugin is initialised once: its state is large (the audit ring) and
 * ASan maps and unmaps such blocks on every allocation, which made a fresh
 * plugin per input the bulk of the cost; so is a reload (the catalogue reader
 * takes a 4 MiB buffer), hence at most MAX_RELOADS per input. Each input
 * starts from the same state: a new, empty certificate ledger, and an empty
 * CRL installed (by a reload and the tick that ends its re-check, with no
 * session to re-check, when the previous input left another one).
 */
static void start_input(void)
{
	struct mosquitto_opt opts[] = {
	    {(char *)"site", (char *)"site1"},
	    {(char *)"exchange", (char *)"schemas/exchange.tsv"},
	    {(char *)"crl", crl_path},
	    {(char *)"validate", (char *)"on"},
	};
	static mosquitto_plugin_id_t *pid = (mosquitto_plugin_id_t *)&pid;
	struct mosquitto_evt_reload ev = {0};
	void *userdata = NULL;

	stub.nlog = stub.npub = 0;
	reloads = 0;
	for (size_t k = 0; k < N_CERT_USERS; k++)
		last_cert[k] = -1;
	memset(slots, 0, sizeof(slots));
	if (!gate) {
		write_crl(0, false);
		installed_mask = 0;
		if (mosquitto_plugin_init(pid, &userdata, opts, 4) != MOSQ_ERR_SUCCESS) {
			fprintf(stderr,
			        "gate_fuzz: init failed: %s (run from the repository root)\n",
			        stub.nlog ? stub.log[0] : "no log");
			abort();
		}
		gate = userdata;
		return;
	}
	gf_certledger_free(gate->ledger);
	if (!(gate->ledger = gf_certledger_new()))
		abort();
	gate->ledger_dirty = false;
	if (installed_mask != 0 || file_broken) {
		write_crl(0, false);
		gf_gate_on_reload(MOSQ_EVT_RELOAD, &ev, gate);
		ev_tick(0);
		installed_mask = 0;
	}
}

static void stop_plugin(void)
{
	if (gate)
		mosquitto_plugin_cleanup(gate, NULL, 0);
	gate = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};

	start_input();
	check_invariants();
	for (int n = 0; n < MAX_OPS && in.n > 0; n++) {
		ops[u8(&in) % N_OPS](&in);
		check_invariants();
	}
	/* Everything disconnects: nothing is open any more. */
	for (int i = 0; i < N_SLOTS; i++) {
		if (slots[i].ctx && slots[i].open)
			ev_disconnect(slots[i].ctx);
		if (slots[i].ctx)
			ctx_free(slots[i].ctx);
		slots[i].ctx = NULL;
	}
	if (gf_clients_count(gate->clients) != 0)
		fail("connections remain open after every one disconnected");
	return 0;
}
