/* SPDX-License-Identifier: MIT */
/*
 * gf-http - the HTTP bridge (D6.1 8.1 and 8.2; issue 15 item 3; docs/http.md).
 *
 * For xEMSs and FlexOffer clients that speak HTTP only. An xEMS POSTs its
 * CommunicationRequests (OperationData, FlexibilityData, DemandCancelation
 * packets) and GETs the FOA's replies, all waiting ones in one response; a
 * FlexOffer client (an FOA) posts, updates, deletes and reads its offers
 * and their assignments in the GOFLEX FMAN JSON form.
 *
 * Every identity of the identities file acts on the bus as itself: its own
 * MQTT connection (its own certificate or password), its own persistent
 * session and durable inbox, and its own store (state_dir/<role>.<id>/),
 * so the broker's rules hold for HTTP clients as for any other, and what
 * one identity does can never be published on another's connection.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "http.h"
#include "agent/resend.h"
#include "base/log.h"

#define HTTP_VERSION "0.1"

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct http_conf, agent),
    {"listen_addr", GF_CONF_STRING, offsetof(struct http_conf, listen_addr), "127.0.0.1", 0, 0,
     false, "the address the HTTP server listens on (IPv4 or IPv6)"},
    {"listen_port", GF_CONF_INT, offsetof(struct http_conf, listen_port), "8080", 0, 65535, false,
     "its port (0: any free one, logged)"},
    {"tls_cert", GF_CONF_STRING, offsetof(struct http_conf, tls_cert), NULL, 0, 0, false,
     "HTTPS: the server's certificate (PEM); without it plain HTTP (loopback, tests)"},
    {"tls_key", GF_CONF_STRING, offsetof(struct http_conf, tls_key), NULL, 0, 0, false,
     "HTTPS: its private key (PEM)"},
    {"tls_ca", GF_CONF_STRING, offsetof(struct http_conf, tls_ca), NULL, 0, 0, false,
     "HTTPS: the site CA; clients may then authenticate with its client certificates"},
    {"crl", GF_CONF_STRING, offsetof(struct http_conf, crl), NULL, 0, 0, false,
     "the site CA's CRL (PEM): revoked client certificates are refused"},
    {"identities", GF_CONF_STRING, offsetof(struct http_conf, identities), NULL, 0, 0, true,
     "the identities served: '<role>.<id> <sha256-hex of its bearer token, or -> [foa=<id>]' "
     "a line"},
    {"bus_cert_dir", GF_CONF_STRING, offsetof(struct http_conf, bus_cert_dir), NULL, 0, 0, false,
     "the identities' own MQTT credentials: <role>.<id>.crt and .key (TLS, with cafile)"},
    {"bus_password_dir", GF_CONF_STRING, offsetof(struct http_conf, bus_password_dir), NULL, 0, 0,
     false, "or their passwords: a file <role>.<id> each (the password listener)"},
    {"fman_id", GF_CONF_STRING, offsetof(struct http_conf, fman_id), "all", 0, 0, false,
     "the FMAN instance offers go to, or all (the pool)"},
    {"resend_s", GF_CONF_INT, offsetof(struct http_conf, resend_s), "10", 0, 86400, false,
     "send offers FMAN has not acked again every this many real seconds (and at every "
     "reconnect); 0: never"},
    {"max_body", GF_CONF_INT, offsetof(struct http_conf, max_body), "262144", 1024, 16777216, false,
     "the largest request body, bytes (413 beyond)"},
    {"max_replies", GF_CONF_INT, offsetof(struct http_conf, max_replies), "1000", 1, 100000, false,
     "the most replies one poll returns (the rest in the next)"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static struct http H;

static enum gf_err check(void *conf, char *err, size_t errlen)
{
	struct http_conf *c = conf;
	enum gf_err rc;

	if (!!c->bus_cert_dir == !!c->bus_password_dir) {
		snprintf(err, errlen,
		         "each identity connects with its own credentials: set "
		         "bus_cert_dir or bus_password_dir (one of them)");
		return GF_EINVAL;
	}
	if (c->bus_cert_dir && !c->agent.cafile) {
		snprintf(err, errlen, "bus_cert_dir needs cafile (the site CA)");
		return GF_EINVAL;
	}
	if (strcmp(c->fman_id, "all") != 0 && !gf_id_valid(c->fman_id, strlen(c->fman_id))) {
		snprintf(err, errlen, "fman_id: '%s' is not an id or all", c->fman_id);
		return GF_EINVAL;
	}
	free(H.ids);
	H.ids = NULL;
	rc = http_ident_load(c->identities, &H.ids, &H.n, err, errlen);
	return rc;
}

/* The identity whose connection the callback's item came from. */
static struct http_ident *current(struct gf_agent *a)
{
	struct http_ident *id = gf_agent_current_ctx(a);
	struct gf_bus *bus = gf_agent_current_bus(a);

	if (id)
		return id;
	for (size_t i = 0; i < H.n; i++)
		if (H.ids[i].bus == bus)
			return &H.ids[i];
	return NULL;
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	struct http_ident *id = current(a);

	if (!id) {
		gf_log_info("GF-HTTP-IGNORED", "a message to %s, which serves no HTTP client",
		            gf_bus_ident(gf_agent_current_bus(a)));
		return;
	}
	http_inbound_message(&H, id, item);
}

static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	struct http_ident *id = current(a);

	if (!id || !id->store)
		return;
	if (ev->kind == GF_INBOX_CONNECTED)
		gf_resend_connected(a, id->store, "GF-HTTP-RESEND");
	if (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED)
		(void)gf_store_outbox_flush(id->store, id->bus);
}

/* id's own connection: the process's own when that is its identity. */
static enum gf_err open_bus(struct gf_agent *a, struct http_conf *c, struct http_ident *id,
                            const char *dir)
{
	char cert[4096], key[4096], pw[4096], err[512];
	struct gf_bus_opts o = {.host = c->agent.broker_host,
	                        .port = (int)c->agent.broker_port,
	                        .site = c->agent.site,
	                        .state_dir = dir,
	                        .version = HTTP_VERSION};
	enum gf_err rc;

	if (strcmp(gf_bus_ident(gf_agent_bus(a)), id->name) == 0) {
		id->bus = gf_agent_bus(a);
		return GF_OK;
	}
	if (c->bus_cert_dir) {
		snprintf(cert, sizeof(cert), "%s/%s.crt", c->bus_cert_dir, id->name);
		snprintf(key, sizeof(key), "%s/%s.key", c->bus_cert_dir, id->name);
		o.cafile = c->agent.cafile;
		o.cert = cert;
		o.key = key;
	} else {
		snprintf(pw, sizeof(pw), "%s/%s", c->bus_password_dir, id->name);
		o.password_file = pw;
		o.ident = id->name;
	}
	rc = gf_agent_bus_add(a, &o, id, &id->bus, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-HTTP-CONFIG", "cannot open the connection of %s: %s", id->name, err);
		return rc;
	}
	if (strcmp(gf_bus_ident(id->bus), id->name) != 0) {
		gf_log_err("GF-HTTP-CONFIG", "the certificate of %s says %s", id->name,
		           gf_bus_ident(id->bus));
		return GF_EINVAL;
	}
	return GF_OK;
}

static enum gf_err open_ident(struct gf_agent *a, struct http_conf *c, struct http_ident *id)
{
	char dir[4096], filter[512], err[512];
	const char *site = c->agent.site;
	enum gf_err rc;

	snprintf(dir, sizeof(dir), "%s/%s", c->agent.state_dir, id->name);
	if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
		gf_log_err("GF-HTTP-CONFIG", "cannot make %s", dir);
		return GF_EIO;
	}
	if ((rc = open_bus(a, c, id, dir)) != GF_OK)
		return rc;
	rc = gf_store_open(dir, "http", http_queue_schema, &id->store, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-HTTP-STORE", "%s", err);
		return rc;
	}
	gf_store_bind(id->store, id->bus);
	if ((rc = gf_resend_open(id->store)) != GF_OK)
		return rc;
	if (strcmp(id->role, "xems") == 0)
		snprintf(filter, sizeof(filter), "gf/%s/foa/%s/xems/%s/#", site, id->foa, id->id);
	else
		snprintf(filter, sizeof(filter), "gf/%s/fman/%s/foa/%s/#", site,
		         strcmp(c->fman_id, "all") == 0 ? "+" : c->fman_id, id->id);
	if ((rc = gf_bus_subscribe(id->bus, filter)) != GF_OK)
		return rc;
	/* What a crash left in the outbox goes first (buffered until the
	 * connection is up). */
	(void)gf_store_outbox_flush(id->store, id->bus);
	gf_resend_every(a, id->store, c->resend_s, "GF-HTTP-RESEND");
	gf_log_debug("GF-HTTP-START", "serving %s", id->name);
	return GF_OK;
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct http_conf *c = conf;
	enum gf_err rc = GF_OK;

	H.a = a;
	H.conf = c;
	for (size_t i = 0; i < H.n && rc == GF_OK; i++)
		rc = open_ident(a, c, &H.ids[i]);
	if (rc == GF_OK)
		rc = http_server_start(&H);
	if (rc == GF_OK)
		gf_log_notice("GF-HTTP-START", "%zu identities served over HTTP", H.n);
	return rc;
}

static void stop(struct gf_agent *a)
{
	(void)a;
	http_server_stop();
	for (size_t i = 0; i < H.n; i++)
		if (H.ids[i].store)
			(void)gf_store_outbox_flush(H.ids[i].store, H.ids[i].bus);
	gf_log_notice("GF-HTTP-STOP", "stopping");
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-http",
	    .summary = "the HTTP bridge: xEMS polling (D6.1 8.1) and the FlexOffer REST API "
	               "(8.2), each HTTP identity on the bus as itself",
	    .version = HTTP_VERSION,
	    .table = table,
	    .conf_size = sizeof(struct http_conf),
	    .common_offset = offsetof(struct http_conf, agent),
	    .check = check,
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .stop = stop,
	};
	int code;

	/* A client gone while its answer is written must not end the process. */
	signal(SIGPIPE, SIG_IGN);
	code = gf_agent_main(&def, argc, argv);
	http_server_stop();
	for (size_t i = 0; i < H.n; i++)
		gf_store_close(H.ids[i].store);
	if (H.ids)
		OPENSSL_cleanse(H.ids, H.n * sizeof(*H.ids));
	free(H.ids);
	return code;
}
