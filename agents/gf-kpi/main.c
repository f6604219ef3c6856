/* SPDX-License-Identifier: MIT */
/*
 * gf-kpi - the KPI tracker (D6.1 12.3, docs/kpi.md): stores every kpi row
 * its site's agents send, and the public kpi rows other sites' bridges
 * import (SPEC section 4, cross-site reading), in SQLite
 * (state_dir/kpi.db); judges the goals and alarms of its rules file
 * (threshold, rate, missing data, goals per period) and publishes kpi.alarm
 * to users and ops; serves a REST API and a dashboard over HTTP
 * (libmicrohttpd).
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"
#include "agent/message.h"
#include "base/file.h"
#include "base/log.h"
#include "bus/ident.h"
#include "kpi.pb-c.h"
#include "payload/codec.h"

#define VERSION "0.1.0"

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct kpi_conf, agent),
    {"rules", GF_CONF_STRING, offsetof(struct kpi_conf, rules), NULL, 0, 0, false,
     "file of goals and alarms (docs/kpi.md); none: samples are stored and shown only"},
    {"http_bind", GF_CONF_STRING, offsetof(struct kpi_conf, http_bind), "127.0.0.1", 0, 0, false,
     "IPv4 address the REST API and the dashboard listen on"},
    {"http_port", GF_CONF_INT, offsetof(struct kpi_conf, http_port), "8090", 0, 65535, false,
     "their TCP port; 0: no HTTP"},
    {"http_tokens", GF_CONF_STRING, offsetof(struct kpi_conf, http_tokens), NULL, 0, 0, false,
     "file of '<token> <role>.<id>' lines: who may POST samples, as whom; none: POST refused"},
    {"eval_s", GF_CONF_INT, offsetof(struct kpi_conf, eval_s), "60", 1, 86400, false,
     "simulated seconds between judgements of rates, silences and goals"},
    {"cross_site", GF_CONF_BOOL, offsetof(struct kpi_conf, cross_site), "on", 0, 0, false,
     "also store the kpi rows of other sites that bridges import (gf/<other-site>/...)"},
    {"max_points", GF_CONF_INT, offsetof(struct kpi_conf, max_points), "5000", 10, 1000000, false,
     "most points one /api/series answer holds"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static struct kpi_tracker T;

static enum gf_err load_rules(const char *path, struct kpi_rules *out, char *err, size_t errlen)
{
	char *text = NULL, why[256] = "";
	size_t len = 0;
	enum gf_err rc;

	out->r = NULL;
	out->n = 0;
	if (!path)
		return GF_OK;
	if ((rc = gf_file_read(path, 1 << 20, &text, &len, why, sizeof(why))) != GF_OK) {
		snprintf(err, errlen, "rules %s: %s", path, why);
		return rc;
	}
	rc = kpi_rules_parse(text, len, out, why, sizeof(why));
	if (rc != GF_OK)
		snprintf(err, errlen, "rules %s: %s", path, why);
	free(text);
	return rc;
}

static void free_tokens(struct kpi_token *tk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (tk[i].token) {
			OPENSSL_cleanse(tk[i].token, strlen(tk[i].token));
			free(tk[i].token);
		}
	}
	free(tk);
}

/* "<token> <role>.<id>" lines; '#' comments. Tokens of at least 16
 * characters; a role that may send kpi rows. */
static enum gf_err load_tokens(const char *path, struct kpi_token **out, size_t *nout, char *err,
                               size_t errlen)
{
	char *text = NULL, why[256] = "", *save = NULL, *line;
	size_t len = 0, n = 0;
	struct kpi_token *tk = NULL;
	enum gf_err rc;
	int lineno = 0;

	*out = NULL;
	*nout = 0;
	if (!path)
		return GF_OK;
	if ((rc = gf_file_read(path, 1 << 20, &text, &len, why, sizeof(why))) != GF_OK) {
		snprintf(err, errlen, "http_tokens %s: %s", path, why);
		return rc;
	}
	rc = GF_OK;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tok, *who, *rest, *dot, *ls = NULL;
		struct kpi_token *nt;
		enum gf_role role;

		lineno++;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		tok = strtok_r(line, " \t\r", &ls);
		if (!tok)
			continue;
		who = strtok_r(NULL, " \t\r", &ls);
		rest = strtok_r(NULL, " \t\r", &ls);
		dot = who ? strchr(who, '.') : NULL;
		role = dot ? gf_role_parse(who, (size_t)(dot - who)) : GF_ROLE_NONE;
		if (!who || rest || strlen(tok) < 16 || !dot || !kpi_parse_id(dot + 1) ||
		    strlen(dot + 1) > KPI_NAME_MAX ||
		    !(role == GF_ROLE_FOA || role == GF_ROLE_FMAN || role == GF_ROLE_FMAR ||
		      role == GF_ROLE_DOMS || role == GF_ROLE_SP || role == GF_ROLE_DMS ||
		      role == GF_ROLE_EXT)) {
			snprintf(err, errlen,
			         "http_tokens %s: line %d: '<token of 16+ characters> <role>.<id>' "
			         "with a role that sends kpi rows (foa fman fmar doms sp dms ext)",
			         path, lineno);
			rc = GF_EPARSE;
			break;
		}
		if (!(nt = realloc(tk, (n + 1) * sizeof(*nt))) || !(nt[n].token = strdup(tok))) {
			if (nt)
				tk = nt;
			rc = GF_ENOMEM;
			break;
		}
		tk = nt;
		snprintf(tk[n].role, sizeof(tk[n].role), "%s", gf_role_name(role));
		snprintf(tk[n].id, sizeof(tk[n].id), "%s", dot + 1);
		n++;
	}
	OPENSSL_cleanse(text, len);
	free(text);
	if (rc != GF_OK) {
		free_tokens(tk, n);
		return rc;
	}
	*out = tk;
	*nout = n;
	return GF_OK;
}

static enum gf_err check(void *conf, char *err, size_t errlen)
{
	struct kpi_conf *c = conf;
	struct kpi_rules rules;
	struct kpi_token *tk;
	size_t n;
	enum gf_err rc = load_rules(c->rules, &rules, err, errlen);

	if (rc != GF_OK)
		return rc;
	kpi_rules_free(&rules);
	if ((rc = load_tokens(c->http_tokens, &tk, &n, err, errlen)) != GF_OK)
		return rc;
	free_tokens(tk, n);
	return GF_OK;
}

static void on_tick(struct gf_agent *a, void *arg)
{
	struct kpi_tracker *t = arg;

	kpi_eval_tick(t);
	gf_agent_timer_at(a, gf_agent_now(a) + (double)t->conf->eval_s, on_tick, t);
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct kpi_conf *c = conf;
	struct gf_bus *bus = gf_agent_bus(a);
	char err[512] = "", filter[256];
	enum gf_err rc;

	T.a = a;
	T.conf = c;
	T.started = gf_agent_now(a);
	gf_agent_set_data(a, &T);
	if ((rc = load_rules(c->rules, &T.rules, err, sizeof(err))) != GF_OK ||
	    (rc = load_tokens(c->http_tokens, &T.tokens, &T.ntokens, err, sizeof(err))) != GF_OK ||
	    (rc = kpi_db_open(&T, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-KPI-START", "%s", err);
		return rc;
	}
	/* Every agent's samples come to kpi/all; other sites' arrive under
	 * their own tree when a bridge imports them. */
	snprintf(filter, sizeof(filter), "gf/%s/+/+/kpi/+/kpi", c->agent.site);
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	if (c->cross_site && (rc = gf_bus_subscribe(bus, "gf/+/+/+/kpi/+/kpi")) != GF_OK)
		return rc;
	gf_store_outbox_flush(T.store, bus);
	if (c->http_port > 0 && (rc = kpi_http_start(&T, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-KPI-HTTP", "%s", err);
		return rc;
	}
	gf_agent_timer_at(a, T.started + (double)c->eval_s, on_tick, &T);
	gf_log_notice("GF-KPI-START",
	              "tracker %s started: %zu rules, %zu posting tokens, HTTP %s:%ld%s",
	              gf_bus_ident(bus), T.rules.n, T.ntokens, c->http_bind, c->http_port,
	              c->cross_site ? ", other sites' public rows too" : "");
	return GF_OK;
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	struct kpi_tracker *t = gf_agent_data(a);
	struct gf_message m;
	struct kpi_sample s;
	Goflex__KpiSample *k;
	char err[512] = "", site[KPI_SITE_MAX + 1];
	char *json = NULL;
	size_t len = 0;

	if (gf_message_read(item, &m, err, sizeof(err)) != GF_OK) {
		gf_log_notice("GF-KPI-UNDECODABLE", "dropped: %s", err);
		return;
	}
	if (strcmp(m.msg, "kpi") != 0) {
		gf_log_info("GF-KPI-IGNORED", "%s from %s.%s is not a kpi row", m.msg,
		            gf_role_name(m.topic.from_role), m.from_id);
		goto out;
	}
	k = (Goflex__KpiSample *)m.body;
	/* The same checks as a posted sample: one parser for both ways in. */
	if (gf_codec_to_json(m.body, &json, &len) != GF_OK ||
	    kpi_parse_sample(json, len, &s, err, sizeof(err)) != GF_OK) {
		gf_log_notice("GF-KPI-REFUSED", "sample %.64s from %s.%s refused: %s",
		              k->kpiid ? k->kpiid : "?", gf_role_name(m.topic.from_role), m.from_id,
		              err);
		goto out;
	}
	snprintf(site, sizeof(site), "%.*s", (int)m.topic.site.len, m.topic.site.p);
	if (kpi_eval_sample(t, site, gf_role_name(m.topic.from_role), m.from_id, &s) != GF_OK)
		gf_agent_fail(a, "a sample could not be stored");
out:
	free(json);
	gf_message_free(&m);
}

static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	struct kpi_tracker *t = gf_agent_data(a);

	if (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED)
		gf_store_outbox_flush(t->store, gf_agent_bus(a));
}

static bool on_reload(struct gf_agent *a, void *old_conf, void *new_conf)
{
	struct kpi_tracker *t = gf_agent_data(a);
	struct kpi_conf *n = new_conf;
	struct kpi_rules rules;
	struct kpi_token *tk;
	size_t ntk;
	char err[512] = "";

	(void)old_conf;
	/* Rules and tokens are taken again; the rest needs a restart. */
	if (load_rules(n->rules, &rules, err, sizeof(err)) != GF_OK ||
	    load_tokens(n->http_tokens, &tk, &ntk, err, sizeof(err)) != GF_OK) {
		gf_log_err("GF-KPI-RELOAD", "kept the previous rules and tokens: %s", err);
		return false;
	}
	kpi_rules_free(&t->rules);
	t->rules = rules;
	free_tokens(t->tokens, t->ntokens);
	t->tokens = tk;
	t->ntokens = ntk;
	gf_log_notice("GF-KPI-RELOAD", "%zu rules, %zu posting tokens", rules.n, ntk);
	return false; /* the other keys keep their values until a restart */
}

static void on_stop(struct gf_agent *a)
{
	struct kpi_tracker *t = gf_agent_data(a);

	gf_log_notice("GF-KPI-STOP", "stopping after %ld samples and %ld alarms", t->samples,
	              t->alarms_raised);
	kpi_http_stop(t);
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-kpi",
	    .summary = "the KPI tracker: stores KPI samples, judges goals and alarms, serves a "
	               "REST API and a dashboard",
	    .version = VERSION,
	    .table = table,
	    .conf_size = sizeof(struct kpi_conf),
	    .common_offset = offsetof(struct kpi_conf, agent),
	    .check = check,
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .reload = on_reload,
	    .stop = on_stop,
	};
	int code = gf_agent_main(&def, argc, argv);

	kpi_http_stop(&T);
	kpi_rules_free(&T.rules);
	free_tokens(T.tokens, T.ntokens);
	gf_store_close(T.store);
	return code;
}
