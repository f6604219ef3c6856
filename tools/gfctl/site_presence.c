/* SPDX-License-Identifier: MIT */
/* site_presence.c - gfctl site check: the configured agents and their presence messages on the bus
 * (site_check.h). */
#include "site_check.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <inttypes.h>

#include <cJSON.h>

#include "commands.h"
#include "siteconf.h"
#include "presence.pb-c.h"
#include "base/log.h"
#include "bus/certid.h"
#include "payload/codec.h"
#include "payload/schema.h"

/* --- the agents -------------------------------------------------------------------- */

/* Reads the identity an agent configuration connects as. */
static void agent_read(struct site_check *s, struct agent *g)
{
	char rel[PATHLEN], path[PATHLEN], line[LINELEN];
	char cert[PATHLEN] = "", ident[sizeof(g->ident)] = "", site[GF_SITE_MAX + 2] = "";
	struct gf_cert_identity id;
	enum gf_reason reason;
	char *key, *val;
	X509 *x;
	FILE *f;

	snprintf(rel, sizeof(rel), "agents/%s", g->file);
	gfctl_site_dir_path(s, rel, path, sizeof(path));
	f = fopen(path, "r");
	if (!f) {
		gfctl_site_finding_print(s, LV_FAIL, "agent", rel, "cannot be read: %s",
		                         strerror(errno));
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
		gfctl_site_finding_print(s, LV_FAIL, "agent", rel, "site '%s', not this site '%s'",
		                         site, s->site);
		return;
	}
	if (cert[0]) {
		x = gfctl_site_certs_load(cert);
		if (!x) {
			gfctl_site_finding_print(s, LV_FAIL, "agent", rel,
			                         "its cert %s cannot be read", cert);
			return;
		}
		reason = gf_certid_read(x, s->site, &id);
		if (reason != GF_REASON_ALLOW) {
			gfctl_site_finding_print(s, LV_FAIL, "agent", rel,
			                         "its cert %s is not an identity of the site: %s",
			                         cert, gf_reason_text(reason));
			X509_free(x);
			return;
		}
		if (ident[0] && strcmp(ident, id.username) != 0) {
			gfctl_site_finding_print(
			    s, LV_FAIL, "agent", rel,
			    "identity %s, but its certificate is %s: the agent refuses to start",
			    ident, id.username);
			X509_free(x);
			return;
		}
		snprintf(g->ident, sizeof(g->ident), "%s", id.username);
		if (s->store && gfctl_site_certs_verify(s, x) != X509_V_OK) {
			gfctl_site_finding_print(
			    s, LV_FAIL, "agent", rel,
			    "its certificate %s does not verify against the site CA: %s", cert,
			    X509_verify_cert_error_string(gfctl_site_certs_verify(s, x)));
			X509_free(x);
			g->ident[0] = '\0';
			return;
		}
		X509_free(x);
	} else if (ident[0]) {
		struct gf_ident parsed;

		if (gf_ident_parse(ident, &parsed) != GF_OK) {
			gfctl_site_finding_print(s, LV_FAIL, "agent", rel,
			                         "identity '%s' is not <role>.<id>", ident);
			return;
		}
		snprintf(g->ident, sizeof(g->ident), "%s", ident);
	} else {
		gfctl_site_finding_print(s, LV_FAIL, "agent", rel,
		                         "neither cert nor identity: it cannot connect");
	}
}

void gfctl_site_presence_load(struct site_check *s)
{
	char path[PATHLEN];
	struct dirent **names = NULL;
	int n, i;

	gfctl_site_dir_path(s, "agents", path, sizeof(path));
	n = scandir(path, &names, NULL, gfctl_site_dir_name_cmp);
	if (n < 0) {
		gfctl_site_finding_print(s, LV_WARN, "agent", "agents/",
		                         "no agent configurations (%s): nothing to look for",
		                         strerror(errno));
		return;
	}
	s->agents = calloc((size_t)n + 1, sizeof(*s->agents));
	for (i = 0; i < n; i++) {
		if (s->agents && s->nagents < MAX_ITEMS &&
		    gfctl_site_dir_has_suffix(names[i]->d_name, ".conf") &&
		    strlen(names[i]->d_name) < sizeof(s->agents[0].file)) {
			struct agent *g = &s->agents[s->nagents++];

			snprintf(g->file, sizeof(g->file), "%s", names[i]->d_name);
			agent_read(s, g);
		}
		free(names[i]);
	}
	free(names);
	if (s->nagents == 0)
		gfctl_site_finding_print(s, LV_WARN, "agent", "agents/",
		                         "no *.conf: no agent is configured");
}

static struct agent *agent_find(struct site_check *s, const char *ident)
{
	size_t i;

	for (i = 0; i < s->nagents; i++)
		if (s->agents[i].ident[0] && strcmp(s->agents[i].ident, ident) == 0)
			return &s->agents[i];
	return NULL;
}

/* One retained status or plugin.stats message. */
static void presence_take(struct site_check *s, const struct gfctl_msg *m)
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
static bool default_conn(struct site_check *s, struct gfctl_conn_opts *c, char *cafile, char *cert,
                         char *key, size_t size)
{
	char dir[PATHLEN];
	struct dirent **names = NULL;
	bool found = false;
	int n, i;

	if (c->cafile || c->cert || c->key || c->id)
		return true;
	gfctl_site_dir_path(s, "pki/clients", dir, sizeof(dir));
	n = scandir(dir, &names, NULL, gfctl_site_dir_name_cmp);
	for (i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;

		if (!found && strncmp(nm, "ops.", 4) == 0 &&
		    gfctl_site_dir_has_suffix(nm, ".crt")) {
			X509 *x;

			int n1 = snprintf(cert, size, "%s/%s", dir, nm);
			int n2 = snprintf(key, size, "%s/%.*s.key", dir, (int)(strlen(nm) - 4), nm);

			if (n1 < 0 || n2 < 0 || (size_t)n1 >= size || (size_t)n2 >= size) {
				free(names[i]);
				continue;
			}
			x = gfctl_site_certs_load(cert);
			if (x && access(key, R_OK) == 0 &&
			    gfctl_site_certs_verify(s, x) == X509_V_OK)
				found = true;
			X509_free(x);
		}
		free(names[i]);
	}
	free(names);
	if (!found)
		return false;
	gfctl_site_dir_path(s, "pki/ca.crt", cafile, size);
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

void gfctl_site_presence_check(struct site_check *s)
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
		gfctl_site_finding_print(
		    s, LV_FAIL, "agent", "presence",
		    "cannot look: no valid ops certificate in pki/clients (certs/gf-certs client "
		    "--role ops ...) and no --cert or --id given");
		goto report;
	}
	rc = gfctl_connect_open(&c, &conn, err, sizeof(err));
	if (rc != GF_OK) {
		gfctl_site_finding_print(s, LV_FAIL, "broker", "connection", "as %s: %s",
		                         c.cert ? c.cert : (c.id ? c.id : "?"), err);
		goto report;
	}
	snprintf(f_status, sizeof(f_status), "gf/%s/+/+/ops/all/status", s->site);
	snprintf(f_stats, sizeof(f_stats), "gf/%s/ops/broker/ops/all/plugin.stats", s->site);
	rc = gfctl_connect_subscribe(conn, filters, 2, 1, err, sizeof(err));
	if (rc != GF_OK) {
		gfctl_site_finding_print(s, LV_FAIL, "broker", "subscription",
		                         "%s (only ops reads presence and plugin.stats)", err);
		goto report;
	}
	gfctl_site_finding_print(s, LV_OK, "broker", "connection", "connected and subscribed to %s",
	                         f_status);
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
			gfctl_site_finding_print(s, LV_FAIL, "broker", "connection", "lost: %s",
			                         err);
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
			gfctl_site_finding_print(
			    s, LV_FAIL, "broker", "plugin.stats",
			    "none retained on %s: the goflex plugin is not running in this broker",
			    f_stats);
	} else {
		long long age = (long long)time(NULL) - s->stats_time;

		if (age > 3 * s->stats_interval + (long long)s->o->timeout + 5)
			gfctl_site_finding_print(
			    s, LV_FAIL, "broker", "plugin.stats",
			    "the last is %lld s old (every %ld s expected): the plugin is not "
			    "running in this broker (a retained message of an earlier run)",
			    age, s->stats_interval);
		else
			gfctl_site_finding_print(s, LV_OK, "broker", "plugin.stats",
			                         "the plugin is running (counters %lld s old)",
			                         age);
	}
report:
	for (i = 0; i < s->nagents; i++) {
		struct agent *g = &s->agents[i];
		char subject[PATHLEN];

		if (!g->ident[0])
			continue; /* its configuration already failed */
		snprintf(subject, sizeof(subject), "%s (agents/%s)", g->ident, g->file);
		if (!conn)
			gfctl_site_finding_print(s, LV_FAIL, "agent", subject,
			                         "presence unknown: no connection");
		else if (!g->seen)
			gfctl_site_finding_print(
			    s, LV_FAIL, "agent", subject,
			    "absent: no presence message on gf/%s/%.*s/%s/ops/all/status (it never "
			    "connected to this broker)",
			    s->site, (int)strcspn(g->ident, "."), g->ident,
			    g->ident + strcspn(g->ident, ".") +
			        (g->ident[strcspn(g->ident, ".")] ? 1 : 0));
		else if (g->invalid)
			gfctl_site_finding_print(s, LV_FAIL, "agent", subject,
			                         "its presence message does not decode");
		else if (!g->online)
			gfctl_site_finding_print(
			    s, LV_FAIL, "agent", subject,
			    "offline (stopped or its connection was lost; started %s, host %s)",
			    g->since, g->host);
		else if (g->sequence > RECONNECTS_WARN)
			gfctl_site_finding_print(s, LV_WARN, "agent", subject,
			                         "online, but reconnected %" PRIu64
			                         " times since it started at %s",
			                         g->sequence - 1, g->since);
		else
			gfctl_site_finding_print(s, LV_OK, "agent", subject,
			                         "online since %s, version %s, host %s", g->since,
			                         g->version, g->host);
	}
	if (conn && s->others_online)
		printf("# %zu more identit%s with presence messages, not configured in agents/\n",
		       s->others_online, s->others_online == 1 ? "y" : "ies");
	gfctl_connect_msg_free(m);
	gfctl_connect_close(conn);
}
