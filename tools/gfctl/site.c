/* SPDX-License-Identifier: MIT */
#include "site.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "commands.h"
#include "siteconf.h"
#include "presence.pb-c.h"
#include "base/log.h"
#include "bus/certid.h"
#include "bus/ident.h"
#include "bus/topic.h"
#include "payload/codec.h"
#include "payload/schema.h"

#define PATHLEN 4096
#define WHYLEN  1024
#define LINELEN 4096
/* The largest mosquitto.conf read (mosquitto has no limit; ours is 2 kB). */
#define CONF_MAX (1u << 20)
/* An agent that reconnected more often than this since it started is worth a look. */
#define RECONNECTS_WARN 5
/* Most agent configurations and client certificates looked at. */
#define MAX_ITEMS 4096

enum level { LV_OK, LV_WARN, LV_FAIL };

/* One configured agent: agents/<file>.conf. */
struct agent {
	char file[256];
	char ident[16 + GF_ID_MAX + 2]; /* "<role>.<id>", or "" if unknown */
	bool seen;                      /* a status message arrived */
	bool online;
	char since[64], version[64], host[128];
	uint64_t sequence;
	bool invalid;
};

struct sc {
	const struct gfctl_site_opts *o;
	char site[GF_SITE_MAX + 1];
	X509 *ca;
	X509_CRL *crl;
	X509_STORE *store;
	time_t now;
	unsigned n[3];
	/* from mosquitto.conf */
	char tls_port[16];
	long stats_interval;
	/* presence */
	struct agent *agents;
	size_t nagents;
	bool stats_seen;
	long long stats_time;
	char stats_site[GF_SITE_MAX + 1];
	size_t others_online;
};

static const char *const level_name[] = {"OK", "WARN", "FAIL"};

static void finding(struct sc *s, enum level lv, const char *area, const char *subject,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void finding(struct sc *s, enum level lv, const char *area, const char *subject,
                    const char *fmt, ...)
{
	char why[WHYLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	s->n[lv]++;
	printf("%-4s  %-6s  %s: %s\n", level_name[lv], area, subject, why);
}

/* --- files -------------------------------------------------------------------- */

/* SITEDIR/rel into out; an over-long path becomes "" (which no file has). */
static void path_of(const struct sc *s, const char *rel, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", s->o->dir, rel);

	if (n < 0 || (size_t)n >= size)
		out[0] = '\0';
}

static X509 *cert_load(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static EVP_PKEY *key_load(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	fclose(f);
	ERR_clear_error();
	return k;
}

/* The first value of field nid in name, or "" (at most size - 1 bytes). */
static void name_field(const X509_NAME *name, int nid, char *out, size_t size)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	const ASN1_STRING *v;
	int len;

	out[0] = '\0';
	if (i < 0)
		return;
	v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	len = ASN1_STRING_length(v);
	if (len < 0 || (size_t)len >= size)
		return;
	memcpy(out, ASN1_STRING_get0_data(v), (size_t)len);
	out[len] = '\0';
}

/* A time as RFC 3339 UTC ("?" if unreadable). */
static void time_text(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1) {
		snprintf(out, size, "?");
		return;
	}
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Days from now until t (negative: past); false if unreadable. */
static bool days_until(const ASN1_TIME *t, int *days)
{
	int d, secs;

	if (!t || ASN1_TIME_diff(&d, &secs, NULL, t) != 1)
		return false;
	*days = d < 0 || secs < 0 ? (d < 0 ? d : -1) : d;
	return true;
}

/*
 * A private key file: readable, only by its owner, and the key of cert.
 * Returns false (after a FAIL) if it is not.
 */
static bool key_check(struct sc *s, const char *rel, X509 *cert, bool required)
{
	char path[PATHLEN];
	struct stat st;
	EVP_PKEY *k;
	bool match;

	path_of(s, rel, path, sizeof(path));
	if (stat(path, &st) != 0) {
		if (required)
			finding(s, LV_FAIL, "cert", rel, "missing (%s)", strerror(errno));
		else
			finding(s, LV_WARN, "cert", rel,
			        "no key next to the certificate (fine if it lives only on the "
			        "client's machine)");
		return !required;
	}
	if (st.st_mode & 077) {
		finding(s, LV_FAIL, "cert", rel,
		        "mode %04o: a private key must be readable by its owner only (chmod 600)",
		        (unsigned)(st.st_mode & 07777));
		return false;
	}
	k = key_load(path);
	if (!k) {
		finding(s, LV_FAIL, "cert", rel, "not a readable PEM private key");
		return false;
	}
	match = X509_check_private_key(cert, k) == 1;
	ERR_clear_error();
	EVP_PKEY_free(k);
	if (!match) {
		finding(s, LV_FAIL, "cert", rel, "does not match its certificate (wrong key)");
		return false;
	}
	finding(s, LV_OK, "cert", rel, "matches its certificate, mode %04o",
	        (unsigned)(st.st_mode & 07777));
	return true;
}

/* Verifies cert against the site CA and CRL; fills why and returns the
 * OpenSSL verify result (X509_V_OK when good). */
static int cert_verify(struct sc *s, X509 *cert)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = X509_V_ERR_UNSPECIFIED;

	if (!ctx || !s->store || X509_STORE_CTX_init(ctx, s->store, cert, NULL) != 1) {
		X509_STORE_CTX_free(ctx);
		return rc;
	}
	if (X509_verify_cert(ctx) == 1)
		rc = X509_V_OK;
	else
		rc = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* The expiry finding of cert (after a good chain): OK, WARN within
 * warn_days. */
static void expiry_finding(struct sc *s, const char *rel, X509 *cert, const char *what)
{
	char until[64];
	int days = 0;

	time_text(X509_get0_notAfter(cert), until, sizeof(until));
	if (days_until(X509_get0_notAfter(cert), &days) && days < s->o->warn_days)
		finding(s, LV_WARN, "cert", rel, "%s expires in %d day%s (%s): renew it", what,
		        days, days == 1 ? "" : "s", until);
	else
		finding(s, LV_OK, "cert", rel, "%s, valid until %s", what, until);
}

/* The chain finding of a certificate; false (after a FAIL) if it is bad.
 * A revoked client certificate is not a fault of the site: *revoked says so. */
static bool chain_check(struct sc *s, const char *rel, X509 *cert, const char *what, bool *revoked)
{
	char when[64];
	int rc = cert_verify(s, cert);

	if (revoked)
		*revoked = false;
	switch (rc) {
	case X509_V_OK:
		expiry_finding(s, rel, cert, what);
		return true;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		time_text(X509_get0_notAfter(cert), when, sizeof(when));
		finding(s, LV_FAIL, "cert", rel, "%s expired on %s: renew or revoke it", what,
		        when);
		return false;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		time_text(X509_get0_notBefore(cert), when, sizeof(when));
		finding(s, LV_FAIL, "cert", rel, "%s is not valid before %s (check the clock)",
		        what, when);
		return false;
	case X509_V_ERR_CERT_REVOKED:
		if (revoked) {
			*revoked = true;
			finding(s, LV_OK, "cert", rel, "%s is revoked: the broker refuses it",
			        what);
			return false;
		}
		finding(s, LV_FAIL, "cert", rel, "%s is revoked (crl.pem)", what);
		return false;
	default:
		finding(s, LV_FAIL, "cert", rel, "%s does not verify against pki/ca.crt: %s", what,
		        X509_verify_cert_error_string(rc));
		return false;
	}
}

/* --- certificates ---------------------------------------------------------------- */

static bool check_ca(struct sc *s)
{
	char path[PATHLEN], org[GF_SITE_MAX + 2];
	EVP_PKEY *pub;
	int days = 0;

	path_of(s, "pki/ca.crt", path, sizeof(path));
	s->ca = cert_load(path);
	if (!s->ca) {
		finding(s, LV_FAIL, "cert", "pki/ca.crt",
		        "missing or not a PEM certificate (certs/gf-certs init)");
		return false;
	}
	name_field(X509_get_subject_name(s->ca), NID_organizationName, org, sizeof(org));
	if (!org[0] || strlen(org) > GF_SITE_MAX || !gf_id_valid(org, strlen(org))) {
		finding(s, LV_FAIL, "cert", "pki/ca.crt",
		        "its O= is not a site name (SPEC section 3): '%s'", org);
		return false;
	}
	memcpy(s->site, org, strlen(org) + 1); /* at most GF_SITE_MAX bytes, checked */
	pub = X509_get0_pubkey(s->ca);
	if (X509_check_ca(s->ca) < 1)
		finding(s, LV_FAIL, "cert", "pki/ca.crt",
		        "not a CA certificate (basicConstraints)");
	else if (!pub || X509_verify(s->ca, pub) != 1)
		finding(s, LV_FAIL, "cert", "pki/ca.crt",
		        "not self-signed: a site CA is its own root");
	else if (!days_until(X509_get0_notAfter(s->ca), &days) || days < 0)
		finding(s, LV_FAIL, "cert", "pki/ca.crt",
		        "the site CA has expired: every certificate of the site is refused");
	else
		expiry_finding(s, "pki/ca.crt", s->ca, "site CA");
	ERR_clear_error();
	s->store = X509_STORE_new();
	if (!s->store || X509_STORE_add_cert(s->store, s->ca) != 1) {
		finding(s, LV_FAIL, "cert", "pki/ca.crt",
		        "cannot build a trust store (out of memory)");
		return false;
	}
	return true;
}

static void check_crl(struct sc *s)
{
	char path[PATHLEN], when[64];
	FILE *f;
	int days = 0, revoked_n;

	path_of(s, "pki/crl.pem", path, sizeof(path));
	f = fopen(path, "r");
	if (!f) {
		finding(s, LV_WARN, "cert", "pki/crl.pem",
		        "no CRL: revoked certificates are not refused (certs/gf-certs crl)");
		return;
	}
	s->crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
	fclose(f);
	if (!s->crl) {
		finding(s, LV_FAIL, "cert", "pki/crl.pem",
		        "not a PEM CRL: the broker will not start");
		return;
	}
	if (X509_CRL_verify(s->crl, X509_get0_pubkey(s->ca)) != 1) {
		ERR_clear_error();
		finding(s, LV_FAIL, "cert", "pki/crl.pem", "not signed by the site CA");
		X509_CRL_free(s->crl);
		s->crl = NULL;
		return;
	}
	time_text(X509_CRL_get0_nextUpdate(s->crl), when, sizeof(when));
	if (!days_until(X509_CRL_get0_nextUpdate(s->crl), &days) || days < 0) {
		finding(s, LV_FAIL, "cert", "pki/crl.pem",
		        "expired (next update was %s): TLS clients are refused until it is renewed "
		        "(certs/gf-certs crl)",
		        when);
		/* Verify the rest without it, so that each certificate's own fault shows. */
		X509_CRL_free(s->crl);
		s->crl = NULL;
		return;
	}
	revoked_n = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(s->crl));
	if (days < 7)
		finding(s, LV_WARN, "cert", "pki/crl.pem",
		        "next update %s, in %d day%s: run certs/gf-certs crl", when, days,
		        days == 1 ? "" : "s");
	else
		finding(s, LV_OK, "cert", "pki/crl.pem",
		        "signed by the site CA, %d revoked, next update %s",
		        revoked_n > 0 ? revoked_n : 0, when);
	X509_STORE_add_crl(s->store, s->crl);
	X509_STORE_set_flags(s->store, X509_V_FLAG_CRL_CHECK);
}

static void check_broker_cert(struct sc *s)
{
	char path[PATHLEN], org[GF_SITE_MAX + 2];
	X509 *cert;

	path_of(s, "pki/broker.crt", path, sizeof(path));
	cert = cert_load(path);
	if (!cert) {
		finding(s, LV_FAIL, "cert", "pki/broker.crt",
		        "missing or not a PEM certificate (certs/gf-certs broker)");
		return;
	}
	name_field(X509_get_subject_name(cert), NID_organizationName, org, sizeof(org));
	if (strcmp(org, s->site) != 0)
		finding(s, LV_FAIL, "cert", "pki/broker.crt", "O='%s', not the site '%s'", org,
		        s->site);
	if (!(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER))
		finding(s, LV_FAIL, "cert", "pki/broker.crt",
		        "not a server certificate (extendedKeyUsage serverAuth)");
	if (chain_check(s, "pki/broker.crt", cert, "broker certificate", NULL))
		key_check(s, "pki/broker.key", cert, true);
	X509_free(cert);
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

static void check_client(struct sc *s, const char *name)
{
	char rel[PATHLEN], path[PATHLEN], file_ident[256];
	struct gf_cert_identity id;
	enum gf_reason reason;
	bool revoked = false;
	X509 *cert;

	snprintf(rel, sizeof(rel), "pki/clients/%s", name);
	path_of(s, rel, path, sizeof(path));
	cert = cert_load(path);
	if (!cert) {
		finding(s, LV_FAIL, "cert", rel, "not a PEM certificate");
		return;
	}
	snprintf(file_ident, sizeof(file_ident), "%.*s", (int)(strlen(name) - 4), name);
	reason = gf_certid_read(cert, s->site, &id);
	if (reason != GF_REASON_ALLOW) {
		finding(s, LV_FAIL, "cert", rel, "not an identity of this site (%s): %s",
		        gf_reason_msgid(reason), gf_reason_text(reason));
		goto out;
	}
	if (strcmp(id.username, file_ident) != 0) {
		finding(s, LV_FAIL, "cert", rel, "the file is named %s but the certificate is %s",
		        file_ident, id.username);
		goto out;
	}
	if (chain_check(s, rel, cert, id.username, &revoked)) {
		snprintf(rel, sizeof(rel), "pki/clients/%s.key", file_ident);
		key_check(s, rel, cert, false);
	}
out:
	X509_free(cert);
}

static void check_certs(struct sc *s)
{
	char path[PATHLEN];
	struct dirent **names = NULL;
	int n, i;

	if (!check_ca(s))
		return;
	check_crl(s);
	check_broker_cert(s);
	path_of(s, "pki/clients", path, sizeof(path));
	n = scandir(path, &names, NULL, name_cmp);
	if (n < 0) {
		finding(s, LV_WARN, "cert", "pki/clients", "no client certificates (%s)",
		        strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (i < MAX_ITEMS && has_suffix(names[i]->d_name, ".crt"))
			check_client(s, names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

/* --- the broker's configuration --------------------------------------------------- */

static bool is_loopback(const char *bind)
{
	return strcmp(bind, "127.0.0.1") == 0 || strcmp(bind, "::1") == 0 ||
	       strcmp(bind, "localhost") == 0 || bind[0] == '/';
}

static void check_file(struct sc *s, const char *subject, const char *what, const char *path,
                       enum level missing)
{
	if (access(path, R_OK) != 0)
		finding(s, missing, "broker", subject, "%s %s cannot be read: %s", what, path,
		        strerror(errno));
}

static void listener_finding(struct sc *s, const struct gfctl_siteconf_listener *l)
{
	char subject[64];

	snprintf(subject, sizeof(subject), "listener %s%s%s", l->port, l->bind[0] ? " " : "",
	         l->bind);
	if (l->bind[0] && is_loopback(l->bind)) {
		finding(s, LV_OK, "broker", subject,
		        "loopback only (line %d): local tools with passwords", l->line);
		return;
	}
	if (!l->certfile || !l->keyfile || !l->cafile) {
		finding(s, LV_FAIL, "broker", subject,
		        "line %d: reachable from the network without TLS (certfile, keyfile and "
		        "cafile)",
		        l->line);
		return;
	}
	if (!l->require_cert) {
		finding(s, LV_FAIL, "broker", subject,
		        "line %d: TLS without require_certificate true: clients are not "
		        "authenticated by the site CA",
		        l->line);
		return;
	}
	if (!s->tls_port[0])
		snprintf(s->tls_port, sizeof(s->tls_port), "%s", l->port);
	if (!l->crlfile)
		finding(s, LV_WARN, "broker", subject,
		        "line %d: no crlfile: TLS does not refuse revoked certificates (the "
		        "plugin's CRL still does)",
		        l->line);
	else
		finding(s, LV_OK, "broker", subject,
		        "TLS with required client certificates and CRL");
}

static void check_conf(struct sc *s)
{
	char path[PATHLEN];
	struct gfctl_siteconf *c;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	path_of(s, "mosquitto.conf", path, sizeof(path));
	f = fopen(path, "r");
	if (f) {
		text = malloc(CONF_MAX);
		len = text ? fread(text, 1, CONF_MAX, f) : 0;
		fclose(f);
	}
	c = malloc(sizeof(*c));
	if (!f || !text || !c) {
		finding(s, LV_FAIL, "broker", "mosquitto.conf",
		        "cannot be read (%s): write it with gf-broker -d %s --config-only",
		        f ? "out of memory" : strerror(errno), s->o->dir);
		free(text);
		free(c);
		return;
	}
	gfctl_siteconf_scan(text, len, c);
	free(text);
	s->stats_interval = c->stats_interval;

	if (!c->plugin[0]) {
		finding(
		    s, LV_FAIL, "broker", "plugin",
		    "mosquitto.conf loads no plugin: the broker runs without the goflex privacy "
		    "plugin (no identities, no privacy classes, no validation)");
	} else if (access(c->plugin, R_OK) != 0) {
		finding(s, LV_FAIL, "broker", "plugin",
		        "line %d: %s cannot be read (%s): the broker will not start",
		        c->plugin_line, c->plugin, strerror(errno));
	} else if (!strstr(c->plugin, "goflex_privacy")) {
		finding(s, LV_WARN, "broker", "plugin",
		        "line %d: %s is not named goflex_privacy.so: is it the goflex plugin?",
		        c->plugin_line, c->plugin);
	} else {
		finding(s, LV_OK, "broker", "plugin", "%s", c->plugin);
	}
	if (c->plugin[0]) {
		if (strcmp(c->site, s->site) != 0)
			finding(
			    s, LV_FAIL, "broker", "plugin_opt_site",
			    "'%s', but the site CA is of site '%s': every client would be refused",
			    c->site, s->site);
		else
			finding(s, LV_OK, "broker", "plugin_opt_site", "%s, as the CA", c->site);
		if (!c->exchange[0])
			finding(s, LV_FAIL, "broker", "plugin_opt_exchange",
			        "not set: the plugin refuses to start without the catalogue");
		else
			check_file(s, "plugin_opt_exchange", "the catalogue", c->exchange, LV_FAIL);
		if (!c->crl[0])
			finding(s, LV_WARN, "broker", "plugin_opt_crl",
			        "not set: the plugin does not refuse revoked identities");
		else
			check_file(s, "plugin_opt_crl", "the CRL", c->crl, LV_FAIL);
		if (strcmp(c->validate, "off") == 0)
			finding(s, LV_WARN, "broker", "plugin_opt_validate",
			        "off: payloads are not checked against their schema");
	}
	if (c->anon)
		finding(s, LV_FAIL, "broker", "allow_anonymous",
		        "true (line %d): clients without any credentials are let in", c->anon_line);
	else
		finding(s, LV_OK, "broker", "allow_anonymous", "false");
	if (c->per_listener)
		finding(s, LV_WARN, "broker", "per_listener_settings",
		        "true: each listener needs its own plugin and allow_anonymous false");
	if (c->legacy_port)
		finding(s, LV_FAIL, "broker", "port",
		        "the default listener (port) takes plain MQTT on every interface");
	if (c->nl == 0)
		finding(s, LV_FAIL, "broker", "listeners",
		        "no listener: no TLS listener for the site");
	for (i = 0; i < c->nl; i++)
		listener_finding(s, &c->ls[i]);
	if (c->listeners_dropped)
		finding(s, LV_WARN, "broker", "listeners",
		        "%zu listeners beyond the first %d not checked", c->listeners_dropped,
		        GFCTL_SITECONF_LISTENERS);
	if (!c->persistence) {
		finding(
		    s, LV_FAIL, "broker", "persistence",
		    "off: sessions and queued QoS 1 messages are lost when the broker restarts");
	} else if (c->persist_dir[0]) {
		struct stat st;

		if (stat(c->persist_dir, &st) != 0 || !S_ISDIR(st.st_mode))
			finding(s, LV_WARN, "broker", "persistence",
			        "on, but persistence_location %s is not a directory yet",
			        c->persist_dir);
		else
			finding(s, LV_OK, "broker", "persistence", "on, in %s", c->persist_dir);
	} else {
		finding(s, LV_OK, "broker", "persistence", "on");
	}
	free(c);
}

/* --- the agents -------------------------------------------------------------------- */

/* Reads the identity an agent configuration connects as. */
static void agent_read(struct sc *s, struct agent *g)
{
	char rel[PATHLEN], path[PATHLEN], line[LINELEN];
	char cert[PATHLEN] = "", ident[sizeof(g->ident)] = "", site[GF_SITE_MAX + 2] = "";
	struct gf_cert_identity id;
	enum gf_reason reason;
	char *key, *val;
	X509 *x;
	FILE *f;

	snprintf(rel, sizeof(rel), "agents/%s", g->file);
	path_of(s, rel, path, sizeof(path));
	f = fopen(path, "r");
	if (!f) {
		finding(s, LV_FAIL, "agent", rel, "cannot be read: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!gfctl_siteconf_split(line, &key, &val))
			continue;
		if (strcmp(key, "cert") == 0)
			snprintf(cert, sizeof(cert), "%s", val);
		else if (strcmp(key, "identity") == 0)
			snprintf(ident, sizeof(ident), "%s", val);
		else if (strcmp(key, "site") == 0)
			snprintf(site, sizeof(site), "%s", val);
	}
	fclose(f);
	if (strcmp(site, s->site) != 0) {
		finding(s, LV_FAIL, "agent", rel, "site '%s', not this site '%s'", site, s->site);
		return;
	}
	if (cert[0]) {
		x = cert_load(cert);
		if (!x) {
			finding(s, LV_FAIL, "agent", rel, "its cert %s cannot be read", cert);
			return;
		}
		reason = gf_certid_read(x, s->site, &id);
		if (reason != GF_REASON_ALLOW) {
			finding(s, LV_FAIL, "agent", rel,
			        "its cert %s is not an identity of the site: %s", cert,
			        gf_reason_text(reason));
			X509_free(x);
			return;
		}
		if (ident[0] && strcmp(ident, id.username) != 0) {
			finding(
			    s, LV_FAIL, "agent", rel,
			    "identity %s, but its certificate is %s: the agent refuses to start",
			    ident, id.username);
			X509_free(x);
			return;
		}
		snprintf(g->ident, sizeof(g->ident), "%s", id.username);
		if (s->store && cert_verify(s, x) != X509_V_OK) {
			finding(s, LV_FAIL, "agent", rel,
			        "its certificate %s does not verify against the site CA: %s", cert,
			        X509_verify_cert_error_string(cert_verify(s, x)));
			X509_free(x);
			g->ident[0] = '\0';
			return;
		}
		X509_free(x);
	} else if (ident[0]) {
		struct gf_ident parsed;

		if (gf_ident_parse(ident, &parsed) != GF_OK) {
			finding(s, LV_FAIL, "agent", rel, "identity '%s' is not <role>.<id>",
			        ident);
			return;
		}
		snprintf(g->ident, sizeof(g->ident), "%s", ident);
	} else {
		finding(s, LV_FAIL, "agent", rel, "neither cert nor identity: it cannot connect");
	}
}

static void agents_load(struct sc *s)
{
	char path[PATHLEN];
	struct dirent **names = NULL;
	int n, i;

	path_of(s, "agents", path, sizeof(path));
	n = scandir(path, &names, NULL, name_cmp);
	if (n < 0) {
		finding(s, LV_WARN, "agent", "agents/",
		        "no agent configurations (%s): nothing to look for", strerror(errno));
		return;
	}
	s->agents = calloc((size_t)n + 1, sizeof(*s->agents));
	for (i = 0; i < n; i++) {
		if (s->agents && s->nagents < MAX_ITEMS && has_suffix(names[i]->d_name, ".conf") &&
		    strlen(names[i]->d_name) < sizeof(s->agents[0].file)) {
			struct agent *g = &s->agents[s->nagents++];

			snprintf(g->file, sizeof(g->file), "%s", names[i]->d_name);
			agent_read(s, g);
		}
		free(names[i]);
	}
	free(names);
	if (s->nagents == 0)
		finding(s, LV_WARN, "agent", "agents/", "no *.conf: no agent is configured");
}

static struct agent *agent_find(struct sc *s, const char *ident)
{
	size_t i;

	for (i = 0; i < s->nagents; i++)
		if (s->agents[i].ident[0] && strcmp(s->agents[i].ident, ident) == 0)
			return &s->agents[i];
	return NULL;
}

/* One retained status or plugin.stats message. */
static void presence_take(struct sc *s, const struct gfctl_msg *m)
{
	const ProtobufCMessageDescriptor *d = gf_schema_find("status", strlen("status"));
	char ident[sizeof(s->agents[0].ident)], err[GF_CODEC_ERRLEN];
	enum gf_codec_format format;
	ProtobufCMessage *msg = NULL;
	const Goflex__Presence *p;
	struct gf_topic t;
	struct agent *g;

	if (m->len == 0 || gf_topic_parse(m->topic, &t, NULL) != GF_OK)
		return;
	if (gf_sv_eq_str(t.msg, "plugin.stats")) {
		cJSON *j = cJSON_ParseWithLength((const char *)m->payload, m->len);
		const cJSON *tm = cJSON_GetObjectItemCaseSensitive(j, "time");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "site");

		if (cJSON_IsNumber(tm)) {
			s->stats_seen = true;
			s->stats_time = (long long)tm->valuedouble;
			snprintf(s->stats_site, sizeof(s->stats_site), "%s",
			         cJSON_IsString(st) ? st->valuestring : "");
		}
		cJSON_Delete(j);
		return;
	}
	snprintf(ident, sizeof(ident), "%s.%.*s", gf_role_name(t.from_role), (int)t.from_id.len,
	         t.from_id.p);
	g = agent_find(s, ident);
	if (!g) {
		s->others_online++;
		return;
	}
	g->seen = true;
	g->invalid = true;
	if (gf_codec_format_parse(m->content_type, &format) != GF_OK || !d ||
	    gf_codec_decode(format, d, m->payload, m->len, &msg, err, sizeof(err)) != GF_OK)
		return;
	p = (const Goflex__Presence *)msg;
	g->invalid = false;
	g->online = p->state == GOFLEX__PRESENCE__STATE__online;
	snprintf(g->since, sizeof(g->since), "%s", p->starttime ? p->starttime : "?");
	snprintf(g->version, sizeof(g->version), "%s", p->version ? p->version : "?");
	snprintf(g->host, sizeof(g->host), "%s", p->host ? p->host : "?");
	g->sequence = p->sequence;
	gf_codec_free(msg);
}

/* The site's own ops certificate for the connection, when none is given. */
static bool default_conn(struct sc *s, struct gfctl_conn_opts *c, char *cafile, char *cert,
                         char *key, size_t size)
{
	char dir[PATHLEN];
	struct dirent **names = NULL;
	bool found = false;
	int n, i;

	if (c->cafile || c->cert || c->key || c->id)
		return true;
	path_of(s, "pki/clients", dir, sizeof(dir));
	n = scandir(dir, &names, NULL, name_cmp);
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;

		if (!found && strncmp(nm, "ops.", 4) == 0 && has_suffix(nm, ".crt")) {
			X509 *x;

			int n1 = snprintf(cert, size, "%s/%s", dir, nm);
			int n2 = snprintf(key, size, "%s/%.*s.key", dir, (int)(strlen(nm) - 4), nm);

			if (n1 < 0 || n2 < 0 || (size_t)n1 >= size || (size_t)n2 >= size) {
				free(names[i]);
				continue;
			}
			x = cert_load(cert);
			if (x && access(key, R_OK) == 0 && cert_verify(s, x) == X509_V_OK)
				found = true;
			X509_free(x);
		}
		free(names[i]);
	}
	free(names);
	if (!found)
		return false;
	path_of(s, "pki/ca.crt", cafile, size);
	c->cafile = cafile;
	c->cert = cert;
	c->key = key;
	if (!c->port && s->tls_port[0])
		c->port = atoi(s->tls_port);
	return true;
}

static long remaining_ms(const struct timespec *end)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

static void check_presence(struct sc *s)
{
	char cafile[PATHLEN], cert[PATHLEN], key[PATHLEN], err[WHYLEN];
	char f_status[GF_SITE_MAX + 64], f_stats[GF_SITE_MAX + 64];
	char *filters[2] = {f_status, f_stats};
	struct gfctl_conn_opts c = s->o->conn;
	struct gfctl_conn *conn = NULL;
	struct gfctl_msg *m = NULL;
	struct timespec end;
	bool stopped = false;
	enum gf_err rc;
	size_t i;

	if (!default_conn(s, &c, cafile, cert, key, sizeof(cafile))) {
		finding(
		    s, LV_FAIL, "agent", "presence",
		    "cannot look: no valid ops certificate in pki/clients (certs/gf-certs client "
		    "--role ops ...) and no --cert or --id given");
		goto report;
	}
	rc = gfctl_connect_open(&c, &conn, err, sizeof(err));
	if (rc != GF_OK) {
		finding(s, LV_FAIL, "broker", "connection", "as %s: %s",
		        c.cert ? c.cert : (c.id ? c.id : "?"), err);
		goto report;
	}
	snprintf(f_status, sizeof(f_status), "gf/%s/+/+/ops/all/status", s->site);
	snprintf(f_stats, sizeof(f_stats), "gf/%s/ops/broker/ops/all/plugin.stats", s->site);
	rc = gfctl_connect_subscribe(conn, filters, 2, 1, err, sizeof(err));
	if (rc != GF_OK) {
		finding(s, LV_FAIL, "broker", "subscription",
		        "%s (only ops reads presence and plugin.stats)", err);
		goto report;
	}
	finding(s, LV_OK, "broker", "connection", "connected and subscribed to %s", f_status);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)s->o->timeout;
	end.tv_nsec += (long)((s->o->timeout - (double)(long)s->o->timeout) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		if (gfctl_connect_next(conn, remaining_ms(&end), &m, &stopped, err, sizeof(err)) !=
		    GF_OK) {
			finding(s, LV_FAIL, "broker", "connection", "lost: %s", err);
			break;
		}
		if (!m)
			break;
		presence_take(s, m);
		gfctl_connect_msg_free(m);
		m = NULL;
	}
	if (!s->stats_seen) {
		if (s->stats_interval > 0)
			finding(
			    s, LV_FAIL, "broker", "plugin.stats",
			    "none retained on %s: the goflex plugin is not running in this broker",
			    f_stats);
	} else {
		long long age = (long long)time(NULL) - s->stats_time;

		if (age > 3 * s->stats_interval + (long long)s->o->timeout + 5)
			finding(s, LV_FAIL, "broker", "plugin.stats",
			        "the last is %lld s old (every %ld s expected): the plugin is not "
			        "running in this broker (a retained message of an earlier run)",
			        age, s->stats_interval);
		else
			finding(s, LV_OK, "broker", "plugin.stats",
			        "the plugin is running (counters %lld s old)", age);
	}
report:
	for (i = 0; i < s->nagents; i++) {
		struct agent *g = &s->agents[i];
		char subject[PATHLEN];

		if (!g->ident[0])
			continue; /* its configuration already failed */
		snprintf(subject, sizeof(subject), "%s (agents/%s)", g->ident, g->file);
		if (!conn)
			finding(s, LV_FAIL, "agent", subject, "presence unknown: no connection");
		else if (!g->seen)
			finding(
			    s, LV_FAIL, "agent", subject,
			    "absent: no presence message on gf/%s/%.*s/%s/ops/all/status (it never "
			    "connected to this broker)",
			    s->site, (int)strcspn(g->ident, "."), g->ident,
			    g->ident + strcspn(g->ident, ".") +
			        (g->ident[strcspn(g->ident, ".")] ? 1 : 0));
		else if (g->invalid)
			finding(s, LV_FAIL, "agent", subject,
			        "its presence message does not decode");
		else if (!g->online)
			finding(s, LV_FAIL, "agent", subject,
			        "offline (stopped or its connection was lost; started %s, host %s)",
			        g->since, g->host);
		else if (g->sequence > RECONNECTS_WARN)
			finding(s, LV_WARN, "agent", subject,
			        "online, but reconnected %" PRIu64 " times since it started at %s",
			        g->sequence - 1, g->since);
		else
			finding(s, LV_OK, "agent", subject, "online since %s, version %s, host %s",
			        g->since, g->version, g->host);
	}
	if (conn && s->others_online)
		printf("# %zu more identit%s with presence messages, not configured in agents/\n",
		       s->others_online, s->others_online == 1 ? "y" : "ies");
	gfctl_connect_msg_free(m);
	gfctl_connect_close(conn);
}

int gfctl_site_check(const struct gfctl_site_opts *o)
{
	struct sc s;
	struct stat st;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.now = time(NULL);
	if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		gf_log_err("GFCTL-USAGE", "site check: %s is not a directory", o->dir);
		return GFCTL_EXIT_USAGE;
	}
	check_certs(&s);
	if (s.site[0]) {
		printf("# site %s\n", s.site);
		check_conf(&s);
		agents_load(&s);
		if (!o->no_presence)
			check_presence(&s);
	}
	printf("site %s: %u OK, %u WARN, %u FAIL\n", s.site[0] ? s.site : "?", s.n[LV_OK],
	       s.n[LV_WARN], s.n[LV_FAIL]);
	X509_free(s.ca);
	X509_CRL_free(s.crl);
	X509_STORE_free(s.store);
	free(s.agents);
	return s.n[LV_FAIL] ? GFCTL_EXIT_FAIL : GFCTL_EXIT_OK;
}
