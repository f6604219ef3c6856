/* SPDX-License-Identifier: MIT */
#include "gate.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include <mqtt_protocol.h>

#include "base/conf.h"
#include "base/log.h"
#include "payload/payload.h"

static const struct gf_conf_item gate_options[] = {
    {"site", GF_CONF_STRING, offsetof(struct gf_gate_opts, site), NULL, 0, 0, true,
     "the site this broker serves; certificates must carry O=<site>"},
    {"exchange", GF_CONF_STRING, offsetof(struct gf_gate_opts, exchange), NULL, 0, 0, true,
     "path of the exchange catalogue (schemas/exchange.tsv)"},
    {"crl", GF_CONF_STRING, offsetof(struct gf_gate_opts, crl), NULL, 0, 0, false,
     "PEM CRL of the site CA, re-read on SIGHUP"},
    {"validate", GF_CONF_BOOL, offsetof(struct gf_gate_opts, validate), "on", 0, 0, false,
     "validate payloads against the schemas"},
    {"debug", GF_CONF_BOOL, offsetof(struct gf_gate_opts, debug), "off", 0, 0, false,
     "also log every refused delivery (READ), which wildcard subscriptions cause routinely"},
    {"stats_interval", GF_CONF_INT, offsetof(struct gf_gate_opts, stats_interval), "10", 0, 86400,
     false, "seconds between decision-counter publications to ops; 0 = never"},
    {"state", GF_CONF_STRING, offsetof(struct gf_gate_opts, state), NULL, 0, 0, false,
     "file where the plugin keeps the certificate each identity last connected with, across "
     "restarts (revocation of away sessions and retained messages); read at start only"},
    {"limits", GF_CONF_STRING, offsetof(struct gf_gate_opts, limits), NULL, 0, 0, false,
     "the largest payload per message type (schemas/limits.tsv), re-read on SIGHUP"},
    {"max_payload", GF_CONF_INT, offsetof(struct gf_gate_opts, max_payload), "262144", 1,
     GF_MSGLIMITS_MAX_BYTES, false, "bytes: the largest payload of a type the limits file omits"},
    {"max_subscriptions", GF_CONF_INT, offsetof(struct gf_gate_opts, max_subscriptions), "1000", 0,
     1000000, false, "subscriptions one client may hold; 0 = no limit"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

/* The one translation of our errors into the broker's. */
static int mosq_err_of(enum gf_err err)
{
	switch (err) {
	case GF_OK:
		return MOSQ_ERR_SUCCESS;
	case GF_ENOMEM:
		return MOSQ_ERR_NOMEM;
	case GF_EDENIED:
		return MOSQ_ERR_ACL_DENIED;
	default:
		return MOSQ_ERR_INVAL;
	}
}

void gf_gate_log_sink(enum gf_log_level level, const char *line, void *userdata)
{
	static const int mosq_level[] = {MOSQ_LOG_DEBUG, MOSQ_LOG_INFO, MOSQ_LOG_NOTICE,
	                                 MOSQ_LOG_WARNING, MOSQ_LOG_ERR};
	(void)userdata;
	mosquitto_log_printf(mosq_level[level], "goflex: %s", line);
}

void gf_gate_config_free(struct gf_gate_config *cfg)
{
	if (!cfg)
		return;
	gf_conf_free(gate_options, &cfg->opts);
	gf_catalog_free(cfg->cat);
	gf_crl_free(cfg->crl);
	gf_msglimits_free(cfg->limits);
	free(cfg);
}

int gf_gate_config_new(struct mosquitto_opt *options, int option_count, struct gf_gate_config **out)
{
	struct gf_gate_config *cfg = calloc(1, sizeof(*cfg));
	char err[512];
	enum gf_err rc;
	struct gf_ident broker = {GF_ROLE_OPS, {"broker", 6}};

	if (!cfg)
		return MOSQ_ERR_NOMEM;
	rc = gf_conf_defaults(gate_options, &cfg->opts);
	for (int i = 0; i < option_count && rc == GF_OK; i++) {
		rc = gf_conf_set(gate_options, &cfg->opts, options[i].key, options[i].value, err,
		                 sizeof(err));
		if (rc != GF_OK)
			gf_log_err("GF-PLUGIN-CONFIG", "plugin_opt_%s", err);
	}
	if (rc == GF_OK && (rc = gf_conf_check(gate_options, &cfg->opts, err, sizeof(err))))
		gf_log_err("GF-PLUGIN-CONFIG", "plugin_opt_%s", err);
	if (rc == GF_OK && !gf_id_valid(cfg->opts.site, strlen(cfg->opts.site))) {
		gf_log_err("GF-PLUGIN-CONFIG", "plugin_opt_site '%s' is not a valid site name",
		           cfg->opts.site);
		rc = GF_EINVAL;
	}
	if (rc == GF_OK &&
	    (rc = gf_catalog_load(cfg->opts.exchange, &cfg->cat, err, sizeof(err))) != GF_OK)
		gf_log_err("GF-PLUGIN-CONFIG", "exchange catalogue refused: %s", err);
	if (rc == GF_OK && cfg->opts.crl &&
	    (rc = gf_crl_load(cfg->opts.crl, &cfg->crl, err, sizeof(err))) != GF_OK)
		gf_log_err("GF-PLUGIN-CONFIG", "CRL refused: %s", err);
	if (rc == GF_OK) {
		uint32_t def = (uint32_t)cfg->opts.max_payload;
		rc = cfg->opts.limits ? gf_msglimits_load(cfg->opts.limits, cfg->cat, def,
		                                          &cfg->limits, err, sizeof(err))
		                      : gf_msglimits_new(cfg->cat, def, &cfg->limits);
		if (rc != GF_OK)
			gf_log_err("GF-PLUGIN-CONFIG", "limits refused: %s",
			           cfg->opts.limits ? err : gf_strerror(rc));
	}
	if (rc == GF_OK)
		rc = gf_topic_build(cfg->audit_topic, sizeof(cfg->audit_topic), cfg->opts.site,
		                    &broker, GF_ROLE_OPS, "all", "audit");
	if (rc == GF_OK)
		rc = gf_topic_build(cfg->stats_topic, sizeof(cfg->stats_topic), cfg->opts.site,
		                    &broker, GF_ROLE_OPS, "all", "plugin.stats");
	if (rc != GF_OK) {
		gf_gate_config_free(cfg);
		return mosq_err_of(rc == GF_ENOMEM ? GF_ENOMEM : GF_EINVAL);
	}
	*out = cfg;
	return MOSQ_ERR_SUCCESS;
}

void gf_gate_install(struct gf_gate *gate, struct gf_gate_config *cfg)
{
	struct gf_gate_config *old = gate->cfg;

	gate->cfg = cfg;
	gf_certledger_apply_crl(gate->ledger, cfg->crl);
	gate->pol.cat = cfg->cat;
	gate->pol.site = (struct gf_sv){cfg->opts.site, strlen(cfg->opts.site)};
	gf_log_set_level(cfg->opts.debug ? GF_LOG_DEBUG : GF_LOG_INFO);
	gf_gate_config_free(old);
	gf_log_notice("GF-PLUGIN-READY",
	              "site %s, catalogue %s (%zu rows, %zu message types), CRL %s (%zu revoked), "
	              "validation %s, limits %s (%zu types named, default %u bytes, "
	              "%ld subscriptions), %zu certificate identities known (%zu revoked)",
	              cfg->opts.site, cfg->opts.exchange, gf_catalog_row_count(cfg->cat),
	              gf_catalog_msg_count(cfg->cat), cfg->opts.crl ? cfg->opts.crl : "none",
	              gf_crl_count(cfg->crl), cfg->opts.validate ? "on" : "off",
	              cfg->opts.limits ? cfg->opts.limits : "none",
	              gf_msglimits_listed(cfg->limits), gf_msglimits_default(cfg->limits),
	              cfg->opts.max_subscriptions, gf_certledger_count(gate->ledger),
	              gf_certledger_revoked_count(gate->ledger));
}

/* Logs, counts and queues a refused connection; returns MOSQ_ERR_AUTH. */
static int refuse_connect(struct gf_gate *gate, enum gf_reason reason, const char *who,
                          const char *client_id)
{
	gf_log_notice(gf_reason_msgid(reason),
	              "connection refused: %s (identity '%s', client '%s')", gf_reason_text(reason),
	              who ? who : "", client_id ? client_id : "");
	gf_audit_record(&gate->audit, reason, 0, who, client_id, NULL, NULL, time(NULL), 1);
	return MOSQ_ERR_AUTH;
}

/*
 * Certificate clients are admitted here (their username is rewritten to
 * "<role>.<id>", so the password file is never consulted for them); password
 * clients are checked for a well-formed identity and then deferred, so that
 * the broker's password_file, which runs after this plugin, checks the
 * password. Without a password_file a deferred client is refused.
 *
 * The same callback re-checks every session right after a reload. An away
 * session (one with no open connection) is never refused there: mosquitto
 * 2.0.11 then "disconnects" a context that is already on its session-expiry
 * list, adds it a second time, and reads freed memory when the session
 * expires. It is judged at its next connect instead (a revoked certificate
 * fails the TLS handshake and this check), and meanwhile the certificate
 * ledger refuses a revoked identity everything (gf_gate_on_acl_check).
 */
int gf_gate_on_basic_auth(int event, void *event_data, void *userdata)
{
	struct gf_gate *gate = userdata;
	struct mosquitto_evt_basic_auth *ed = event_data;
	const char *client_id = mosquitto_client_id(ed->client);
	X509 *cert;
	struct gf_cert_identity ci;
	struct gf_ident ident;
	enum gf_reason reason;
	bool changed = false;
	int rc;

	(void)event;
	if (gate->reapplying) {
		if (!gf_clients_has(gate->clients, ed->client)) {
			gate->kept_away++;
			return MOSQ_ERR_SUCCESS;
		}
		gate->rechecked++;
	} else {
		/* Every connection that reaches authentication is open until its
		 * disconnect event, which removes it, whatever the outcome here. */
		if (gf_clients_add(gate->clients, ed->client) != GF_OK)
			return MOSQ_ERR_NOMEM;
		gate->connecting = ed->client;
	}
	cert = mosquitto_client_certificate(ed->client);
	if (!cert) {
		if (!ed->username)
			return refuse_connect(gate, GF_REASON_AUTH_NOUSER, NULL, client_id);
		if (gf_ident_parse(ed->username, &ident) != GF_OK)
			return refuse_connect(gate, GF_REASON_AUTH_USER, ed->username, client_id);
		if (!gf_ident_client_id_ok(&ident, client_id))
			return refuse_connect(gate, GF_REASON_AUTH_CLIENTID, ed->username,
			                      client_id);
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	reason = gf_certid_read(cert, gate->cfg->opts.site, &ci);
	X509_free(cert);
	if (reason != GF_REASON_ALLOW)
		return refuse_connect(gate, reason, NULL, client_id);
	if (gf_crl_revoked(gate->cfg->crl, ci.serial, ci.serial_len))
		return refuse_connect(gate, GF_REASON_AUTH_REVOKED, ci.username, client_id);
	if (gf_ident_parse(ci.username, &ident) != GF_OK ||
	    !gf_ident_client_id_ok(&ident, client_id))
		return refuse_connect(gate, GF_REASON_AUTH_CLIENTID, ci.username, client_id);
	rc = mosquitto_set_username(ed->client, ci.username);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosq_err_of(gf_certledger_admit(gate->ledger, ci.username, ci.serial,
		                                     ci.serial_len, &changed));
	gate->ledger_dirty |= changed;
	if (rc == MOSQ_ERR_SUCCESS && !gate->reapplying)
		gf_log_info("GF-AUTH-OK", "certificate identity %s admitted (client '%s')",
		            ci.username, client_id);
	return rc;
}

/*
 * Is this write check the broker sending a will? mosquitto 2.0.11 publishes a
 * will without the message callback, after one write check that carries its
 * payload (but not its properties). It sends it when the connection is gone
 * (its disconnect event came first, so it is no longer open), after a will
 * delay, or while taking the session over for a new connection with the same
 * client id, in the middle of that CONNECT: then the old connection is still
 * open, and the one being connected is another with the same client id. The
 * stand-in mosquitto builds to re-check a retained message's publisher
 * (check_retain_source) never connected: protocol version 0.
 */
static bool is_will(const struct gf_gate *gate, const struct mosquitto *client)
{
	const char *cid, *ccid;

	if (mosquitto_client_protocol_version(client) == 0)
		return false;
	if (!gf_clients_has(gate->clients, client))
		return true;
	if (!gate->connecting || gate->connecting == client)
		return false;
	cid = mosquitto_client_id(client);
	ccid = mosquitto_client_id(gate->connecting);
	return cid && ccid && strcmp(cid, ccid) == 0;
}

/* Logs, counts and audits a refused payload; returns MOSQ_ERR_ACL_DENIED. */
static int refuse_payload(struct gf_gate *gate, const char *what, const char *err,
                          const char *username, const char *client_id, const char *topic)
{
	gf_log_notice(gf_reason_msgid(GF_REASON_PAYLOAD),
	              "%s refused: %s (identity '%s', client '%s', topic '%s')", what, err,
	              username ? username : "", client_id ? client_id : "", topic);
	gf_audit_record(&gate->audit, GF_REASON_PAYLOAD, GF_ACCESS_WRITE, username, client_id,
	                topic, err, time(NULL), 1);
	return MOSQ_ERR_ACL_DENIED;
}

/*
 * A will is validated like a publish. Its Content Type is not visible to a
 * plugin in mosquitto 2.0.11, so a will is checked as JSON, the default
 * encoding, or on sealed (anon) rows as a compact JWE.
 */
static int check_will(struct gf_gate *gate, const struct mosquitto_evt_acl_check *ed, uint8_t cell,
                      const char *username)
{
	char err[GF_AUDIT_DETAIL];
	struct gf_topic t;
	enum gf_err rc;

	if (!gate->cfg->opts.validate || cell == 0 || (ed->retain && ed->payloadlen == 0))
		return MOSQ_ERR_SUCCESS;
	if (gf_topic_parse(ed->topic, &t, NULL) != GF_OK)
		return MOSQ_ERR_ACL_DENIED; /* the policy allowed it: cannot happen */
	rc = gf_payload_check(t.msg.p, t.msg.len, (cell & GF_CELL_ANON) != 0,
	                      (cell & GF_CELL_ANON) ? GF_CONTENT_TYPE_JOSE : NULL, ed->payload,
	                      ed->payloadlen, err, sizeof(err));
	if (rc == GF_OK)
		return MOSQ_ERR_SUCCESS;
	if (rc == GF_ENOMEM)
		return MOSQ_ERR_NOMEM;
	return refuse_payload(gate, "will", err, username, mosquitto_client_id(ed->client),
	                      ed->topic);
}

/*
 * SPEC section 6: MQTT 3.1.1 clients receive JSON only. A payload that passed
 * validation is JSON when it starts with '{' or '[': no valid protobuf
 * message starts so (that would be a group, which the schemas never have),
 * nor msgpack (a map starts 0x80-0x8f, 0xde or 0xdf). Anything else is not
 * JSON, except JSON with leading white space, which is rare and is checked
 * in full. Sealed (anon) rows are compact JWE text in any protocol.
 */
static bool json_for_v3(const struct mosquitto_evt_acl_check *ed, uint8_t cell)
{
	const uint8_t *p = ed->payload;
	char err[GF_AUDIT_DETAIL];
	struct gf_topic t;

	if (ed->payloadlen == 0 || (cell & GF_CELL_ANON) || cell == 0 || p[0] == '{' || p[0] == '[')
		return true;
	if (p[0] != ' ' && p[0] != '\t' && p[0] != '\n' && p[0] != '\r')
		return false;
	return gf_topic_parse(ed->topic, &t, NULL) == GF_OK &&
	       gf_payload_check(t.msg.p, t.msg.len, (cell & GF_CELL_ANON) != 0, NULL, p,
	                        ed->payloadlen, err, sizeof(err)) == GF_OK;
}

/* Logs (per its level), counts and audits a refused access. */
static int refuse_access(struct gf_gate *gate, const struct mosquitto_evt_acl_check *ed,
                         const struct gf_decision *d, const char *username)
{
	enum gf_access access = (enum gf_access)ed->access;
	bool read = access == GF_ACCESS_READ;
	/* Refused deliveries are the routine filtering of wildcard subscriptions:
	 * debug only, and counted but not on the audit feed. A delivery refused
	 * for its encoding or a revoked identity is news. */
	bool news = !read || d->reason == GF_REASON_ENCODING || d->reason == GF_REASON_AUTH_REVOKED;

	gf_log(news ? GF_LOG_NOTICE : GF_LOG_DEBUG, gf_reason_msgid(d->reason),
	       "%s denied: %s%s%s (identity '%s', client '%s', topic '%s')", gf_access_name(access),
	       gf_reason_text(d->reason), d->reason == GF_REASON_TOPIC ? ": " : "",
	       d->reason == GF_REASON_TOPIC ? gf_topic_fault_str(d->fault) : "",
	       username ? username : "", mosquitto_client_id(ed->client), ed->topic);
	gf_audit_record(&gate->audit, d->reason, access, username, mosquitto_client_id(ed->client),
	                ed->topic, NULL, time(NULL), !read);
	return MOSQ_ERR_ACL_DENIED;
}

/*
 * The per-client limits (SPEC section 3) of an access the policy allows:
 * the payload of a WRITE against its message type's limit, and a SUBSCRIBE
 * against the subscriptions the client holds. Logs and audits a refusal
 * itself; returns GF_REASON_ALLOW or the refusal's reason.
 *
 * A payload no larger than the smallest limit needs no lookup; otherwise the
 * message type is the topic's last level (the policy has just accepted the
 * topic as a catalogue row, so it is one) and its limit an array index.
 *
 * mosquitto_client_sub_count() is, in mosquitto 2.0.11 (src/subs.c), the
 * number of slots of the client's non-shared subscriptions: a new filter
 * takes a free slot or adds one, re-subscribing to a held filter takes
 * none, an unsubscribe frees its slot but does not shrink the count, and
 * only a clean start (or the session's end) resets it. So it is the most
 * the session has held at once, never less than it holds now. Refusing at
 * count >= limit keeps every session within the limit; what it costs is
 * that a client at the limit cannot swap a filter for another, nor
 * re-subscribe to one it holds, until it reconnects with a clean start.
 * Shared subscriptions ($share/...) are not in the count; 2.0.11 exposes no
 * count of them (docs/ops.md, Limits).
 */
static enum gf_reason limit_refusal(struct gf_gate *gate, const struct mosquitto_evt_acl_check *ed,
                                    enum gf_access access, const char *username)
{
	const struct gf_gate_config *cfg = gate->cfg;
	enum gf_reason reason;
	long have, max;

	if (access == GF_ACCESS_WRITE) {
		if (ed->payloadlen <= gf_msglimits_smallest(cfg->limits))
			return GF_REASON_ALLOW;
		const char *msg = strrchr(ed->topic, '/');
		msg = msg ? msg + 1 : ed->topic;
		have = ed->payloadlen;
		max = gf_msglimits_payload(cfg->limits, gf_catalog_msg(cfg->cat, msg, strlen(msg)));
		reason = GF_REASON_LIMIT_PAYLOAD;
		if (have <= max)
			return GF_REASON_ALLOW;
	} else if (access == GF_ACCESS_SUBSCRIBE && cfg->opts.max_subscriptions > 0) {
		have = mosquitto_client_sub_count(ed->client);
		max = cfg->opts.max_subscriptions;
		reason = GF_REASON_LIMIT_SUBS;
		if (have < max)
			return GF_REASON_ALLOW;
	} else {
		return GF_REASON_ALLOW;
	}
	gf_log_notice(gf_reason_msgid(reason),
	              "%s denied: %s: %ld %s, limit %ld (identity '%s', client '%s', topic '%s')",
	              gf_access_name(access), gf_reason_text(reason), have,
	              reason == GF_REASON_LIMIT_PAYLOAD ? "bytes" : "subscriptions held", max,
	              username ? username : "", mosquitto_client_id(ed->client), ed->topic);
	gf_audit_record(&gate->audit, reason, access, username, mosquitto_client_id(ed->client),
	                ed->topic, NULL, time(NULL), 1);
	return reason;
}

/*
 * The hot path: no allocation, no scan. The identity comes from the username,
 * which the broker keeps for disconnected persistent sessions and for the
 * stand-in connection it builds to re-check a retained message's publisher,
 * so it is right in every case where a connection table would miss. An
 * identity whose last certificate is revoked is refused everything: its away
 * session queues nothing more, its retained messages are not served.
 */
int gf_gate_on_acl_check(int event, void *event_data, void *userdata)
{
	struct gf_gate *gate = userdata;
	struct mosquitto_evt_acl_check *ed = event_data;
	struct gf_ident who;
	struct gf_decision d;
	const char *username = mosquitto_client_username(ed->client);
	bool known = gf_ident_parse(username, &who) == GF_OK;
	enum gf_access access = (enum gf_access)ed->access;
	int version;

	(void)event;
	if (gate->connecting == ed->client)
		gate->connecting = NULL; /* its CONNECT is done */
	if (known && gf_certledger_revoked(gate->ledger, username)) {
		d = (struct gf_decision){GF_REASON_AUTH_REVOKED, GF_TOPIC_FAULT_NONE, 0};
		return refuse_access(gate, ed, &d, username);
	}
	if (gf_policy_check(&gate->pol, known ? &who : NULL, access, ed->topic, &d) !=
	    GF_REASON_ALLOW)
		return refuse_access(gate, ed, &d, username);
	if (limit_refusal(gate, ed, access, username) != GF_REASON_ALLOW)
		return MOSQ_ERR_ACL_DENIED;
	if (access == GF_ACCESS_WRITE && is_will(gate, ed->client))
		return check_will(gate, ed, d.cell, username);
	if (access == GF_ACCESS_READ && (version = mosquitto_client_protocol_version(ed->client)) &&
	    version < 5 && !json_for_v3(ed, d.cell)) {
		d.reason = GF_REASON_ENCODING;
		return refuse_access(gate, ed, &d, username);
	}
	gate->audit.count[GF_REASON_ALLOW]++;
	return MOSQ_ERR_SUCCESS;
}

/*
 * Payload validation (plugin_opt_validate): every accepted publish of a
 * catalogue row is decoded per its Content Type and checked against its
 * message type's schema, or, on anon rows, as a sealed JWE. Mosquitto 2.0.x
 * lets a plugin refuse a publish only as "not authorized" (PUBACK 0x87); it
 * ignores the reason code and reason string a message callback sets. So the
 * publisher sees 0x87, and what exactly is wrong (the field path) goes to the
 * log and the audit feed. The payload itself is never logged.
 */
int gf_gate_on_message(int event, void *event_data, void *userdata)
{
	struct gf_gate *gate = userdata;
	struct mosquitto_evt_message *ed = event_data;
	const char *username = mosquitto_client_username(ed->client);
	const char *client_id = mosquitto_client_id(ed->client);
	char *content_type = NULL;
	char err[GF_AUDIT_DETAIL];
	struct gf_topic t;
	uint8_t cell;
	enum gf_err rc;

	(void)event;
	if (!gate->cfg->opts.validate || gf_topic_parse(ed->topic, &t, NULL) != GF_OK)
		return MOSQ_ERR_SUCCESS;
	if (ed->retain && ed->payloadlen == 0) /* clears a retained message (MQTT 3.3.1.3) */
		return MOSQ_ERR_SUCCESS;
	cell = gf_policy_cell(&gate->pol, &t);
	if (cell == 0) /* not a catalogue row: the ACL check has refused it already */
		return MOSQ_ERR_SUCCESS;
	mosquitto_property_read_string(ed->properties, MQTT_PROP_CONTENT_TYPE, &content_type,
	                               false);
	rc = gf_payload_check(t.msg.p, t.msg.len, (cell & GF_CELL_ANON) != 0, content_type,
	                      ed->payload, ed->payloadlen, err, sizeof(err));
	mosquitto_free(content_type);
	if (rc == GF_OK)
		return MOSQ_ERR_SUCCESS;
	if (rc == GF_ENOMEM)
		return MOSQ_ERR_NOMEM;
	return refuse_payload(gate, "publish", err, username, client_id, ed->topic);
}

/* The connection is gone (its session may live on, away). Refused logins
 * come here too, with their client id already cleared: the handle is the key. */
int gf_gate_on_disconnect(int event, void *event_data, void *userdata)
{
	struct gf_gate *gate = userdata;
	struct mosquitto_evt_disconnect *ed = event_data;

	(void)event;
	gf_clients_remove(gate->clients, ed->client);
	if (gate->connecting == ed->client)
		gate->connecting = NULL;
	return MOSQ_ERR_SUCCESS;
}

/*
 * Reloads read the catalogue and CRL again with the options given at init
 * (mosquitto passes none on reload). mosquitto then re-checks every session
 * through the basic-auth callback, which refuses the revoked ones. Returns
 * DEFER so that other plugins' reload callbacks run too.
 */
int gf_gate_on_reload(int event, void *event_data, void *userdata)
{
	struct gf_gate *gate = userdata;
	struct mosquitto_evt_reload *ed = event_data;
	struct gf_gate_config *cfg = NULL;
	int rc;

	(void)event;
	if (ed->options && ed->option_count > 0)
		rc = gf_gate_config_new(ed->options, ed->option_count, &cfg);
	else
		rc = gf_gate_config_new(gate->options, gate->option_count, &cfg);
	/* mosquitto re-checks every session next, whether this reload worked or
	 * not: away sessions must be recognised either way. */
	gate->reapplying = true;
	gate->rechecked = gate->kept_away = 0;
	if (rc != MOSQ_ERR_SUCCESS) {
		gf_log_err("GF-PLUGIN-RELOAD", "reload refused; the previous configuration stays");
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	gf_gate_install(gate, cfg);
	return MOSQ_ERR_PLUGIN_DEFER;
}

int gf_gate_keep_options(struct gf_gate *gate, const struct mosquitto_opt *options,
                         int option_count)
{
	gate->options = calloc(option_count > 0 ? (size_t)option_count : 1, sizeof(*options));
	if (!gate->options)
		return MOSQ_ERR_NOMEM;
	for (int i = 0; i < option_count; i++) {
		gate->options[i].key = strdup(options[i].key);
		gate->options[i].value = strdup(options[i].value ? options[i].value : "");
		gate->option_count = i + 1;
		if (!gate->options[i].key || !gate->options[i].value)
			return MOSQ_ERR_NOMEM;
	}
	return MOSQ_ERR_SUCCESS;
}

void gf_gate_free(struct gf_gate *gate)
{
	if (!gate)
		return;
	for (int i = 0; i < gate->option_count; i++) {
		free(gate->options[i].key);
		free(gate->options[i].value);
	}
	free(gate->options);
	gf_gate_config_free(gate->cfg);
	gf_clients_free(gate->clients);
	gf_certledger_free(gate->ledger);
	free(gate->ledger_path);
	free(gate);
}

int gf_gate_new(mosquitto_plugin_id_t *pid, struct mosquitto_opt *options, int option_count,
                struct gf_gate **out)
{
	struct gf_gate *gate = calloc(1, sizeof(*gate));
	struct gf_gate_config *cfg = NULL;
	char err[512];
	int rc;

	if (!gate)
		return MOSQ_ERR_NOMEM;
	gate->pid = pid;
	gf_audit_init(&gate->audit);
	rc = (gate->clients = gf_clients_new()) && (gate->ledger = gf_certledger_new())
	         ? gf_gate_keep_options(gate, options, option_count)
	         : MOSQ_ERR_NOMEM;
	if (rc == MOSQ_ERR_SUCCESS)
		rc = gf_gate_config_new(options, option_count, &cfg);
	if (rc == MOSQ_ERR_SUCCESS && cfg->opts.state) {
		/* The state file is read at start only: a reload must not forget
		 * what the running broker learnt since. */
		if (!(gate->ledger_path = strdup(cfg->opts.state)))
			rc = MOSQ_ERR_NOMEM;
		else if (gf_certledger_load(gate->ledger, gate->ledger_path, err, sizeof(err)) !=
		         GF_OK) {
			gf_log_err("GF-PLUGIN-CONFIG", "plugin_opt_state refused: %s", err);
			rc = MOSQ_ERR_INVAL;
		}
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		gf_gate_config_free(cfg);
		gf_gate_free(gate);
		return rc;
	}
	gf_gate_install(gate, cfg);
	*out = gate;
	return MOSQ_ERR_SUCCESS;
}

void gf_gate_save_state(struct gf_gate *gate)
{
	char err[512];

	if (!gate->ledger_dirty || !gate->ledger_path)
		return;
	if (gf_certledger_save(gate->ledger, gate->ledger_path, err, sizeof(err)) != GF_OK) {
		gf_log_err("GF-PLUGIN-STATE", "cannot save the certificate ledger: %s", err);
		return; /* still dirty: tried again at a later tick */
	}
	gate->ledger_dirty = false;
}

static void publish_copy(const char *topic, const char *json, bool retain)
{
	mosquitto_broker_publish_copy(NULL, topic, (int)strlen(json), json, 1, retain, NULL);
}

/* Drains the audit ring and publishes the counters every stats_interval s. */
int gf_gate_on_tick(int event, void *event_data, void *userdata)
{
	struct gf_gate *gate = userdata;
	struct mosquitto_evt_tick *ed = event_data;
	struct gf_audit_event ev;
	char buf[4096];
	/* mosquitto 2.0.11 passes now_s = 0 (left unfinished in its src/plugin.c). */
	time_t now = ed->now_s > 0 ? ed->now_s : time(NULL);

	(void)event;
	if (gate->reapplying) {
		gf_log_notice(
		    "GF-PLUGIN-RECHECK",
		    "sessions re-checked after the reload: %zu connected, %zu away (judged "
		    "when they reconnect)",
		    gate->rechecked, gate->kept_away);
		gate->reapplying = false;
	}
	gate->connecting = NULL;
	if (gate->ledger_dirty && now != gate->ledger_saved) {
		gate->ledger_saved = now; /* at most one write a second */
		gf_gate_save_state(gate);
	}
	while (gf_audit_pop(&gate->audit, &ev)) {
		if (gf_audit_event_json(&gate->audit, &ev, gate->cfg->opts.site, buf,
		                        sizeof(buf)) == GF_OK)
			publish_copy(gate->cfg->audit_topic, buf, false);
	}
	if (gate->cfg->opts.stats_interval > 0 && now >= gate->next_stats) {
		gate->next_stats = now + gate->cfg->opts.stats_interval;
		if (gf_audit_stats_json(&gate->audit, gate->cfg->opts.site, now,
		                        gf_clients_count(gate->clients), buf, sizeof(buf)) == GF_OK)
			publish_copy(gate->cfg->stats_topic, buf, true);
	}
	return MOSQ_ERR_SUCCESS;
}
