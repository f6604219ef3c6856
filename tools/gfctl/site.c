/* SPDX-License-Identifier: MIT */
/* site.c - gfctl site check (site.h): runs the parts (site_check.h) and checks the broker's
 * configuration. */
#include "site_check.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "commands.h"
#include "siteconf.h"
#include "base/log.h"

/* --- the broker's configuration --------------------------------------------------- */

static bool is_loopback(const char *bind)
{
	return strcmp(bind, "127.0.0.1") == 0 || strcmp(bind, "::1") == 0 ||
	       strcmp(bind, "localhost") == 0 || bind[0] == '/';
}

static void check_file(struct site_check *s, const char *subject, const char *what,
                       const char *path, enum level missing)
{
	if (access(path, R_OK) != 0)
		gfctl_site_finding_print(s, missing, "broker", subject, "%s %s cannot be read: %s",
		                         what, path, strerror(errno));
}

static void listener_finding(struct site_check *s, const struct gfctl_siteconf_listener *l)
{
	char subject[64];

	snprintf(subject, sizeof(subject), "listener %s%s%s", l->port, l->bind[0] ? " " : "",
	         l->bind);
	if (l->bind[0] && is_loopback(l->bind)) {
		gfctl_site_finding_print(s, LV_OK, "broker", subject,
		                         "loopback only (line %d): local tools with passwords",
		                         l->line);
		return;
	}
	if (!l->certfile || !l->keyfile || !l->cafile) {
		gfctl_site_finding_print(
		    s, LV_FAIL, "broker", subject,
		    "line %d: reachable from the network without TLS (certfile, keyfile and "
		    "cafile)",
		    l->line);
		return;
	}
	if (!l->require_cert) {
		gfctl_site_finding_print(
		    s, LV_FAIL, "broker", subject,
		    "line %d: TLS without require_certificate true: clients are not "
		    "authenticated by the site CA",
		    l->line);
		return;
	}
	if (!s->tls_port[0])
		snprintf(s->tls_port, sizeof(s->tls_port), "%s", l->port);
	if (!l->crlfile)
		gfctl_site_finding_print(
		    s, LV_WARN, "broker", subject,
		    "line %d: no crlfile: TLS does not refuse revoked certificates (the "
		    "plugin's CRL still does)",
		    l->line);
	else
		gfctl_site_finding_print(s, LV_OK, "broker", subject,
		                         "TLS with required client certificates and CRL");
}

/* The broker's mosquitto.conf. */
static void check_conf(struct site_check *s)
{
	char path[PATHLEN];
	struct gfctl_siteconf *c;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	gfctl_site_dir_path(s, "mosquitto.conf", path, sizeof(path));
	f = fopen(path, "r");
	if (f) {
		text = malloc(CONF_MAX);
		len = text ? fread(text, 1, CONF_MAX, f) : 0;
		fclose(f);
	}
	c = malloc(sizeof(*c));
	if (!f || !text || !c) {
		gfctl_site_finding_print(
		    s, LV_FAIL, "broker", "mosquitto.conf",
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
		gfctl_site_finding_print(
		    s, LV_FAIL, "broker", "plugin",
		    "mosquitto.conf loads no plugin: the broker runs without the goflex privacy "
		    "plugin (no identities, no privacy classes, no validation)");
	} else if (access(c->plugin, R_OK) != 0) {
		gfctl_site_finding_print(
		    s, LV_FAIL, "broker", "plugin",
		    "line %d: %s cannot be read (%s): the broker will not start", c->plugin_line,
		    c->plugin, strerror(errno));
	} else if (!strstr(c->plugin, "goflex_privacy")) {
		gfctl_site_finding_print(
		    s, LV_WARN, "broker", "plugin",
		    "line %d: %s is not named goflex_privacy.so: is it the goflex plugin?",
		    c->plugin_line, c->plugin);
	} else {
		gfctl_site_finding_print(s, LV_OK, "broker", "plugin", "%s", c->plugin);
	}
	if (c->plugin[0]) {
		if (strcmp(c->site, s->site) != 0)
			gfctl_site_finding_print(
			    s, LV_FAIL, "broker", "plugin_opt_site",
			    "'%s', but the site CA is of site '%s': every client would be refused",
			    c->site, s->site);
		else
			gfctl_site_finding_print(s, LV_OK, "broker", "plugin_opt_site",
			                         "%s, as the CA", c->site);
		if (!c->exchange[0])
			gfctl_site_finding_print(
			    s, LV_FAIL, "broker", "plugin_opt_exchange",
			    "not set: the plugin refuses to start without the catalogue");
		else
			check_file(s, "plugin_opt_exchange", "the catalogue", c->exchange, LV_FAIL);
		if (!c->crl[0])
			gfctl_site_finding_print(
			    s, LV_WARN, "broker", "plugin_opt_crl",
			    "not set: the plugin does not refuse revoked identities");
		else
			check_file(s, "plugin_opt_crl", "the CRL", c->crl, LV_FAIL);
		if (strcmp(c->validate, "off") == 0)
			gfctl_site_finding_print(
			    s, LV_WARN, "broker", "plugin_opt_validate",
			    "off: payloads are not checked against their schema");
	}
	if (c->anon)
		gfctl_site_finding_print(
		    s, LV_FAIL, "broker", "allow_anonymous",
		    "true (line %d): clients without any credentials are let in", c->anon_line);
	else
		gfctl_site_finding_print(s, LV_OK, "broker", "allow_anonymous", "false");
	if (c->per_listener)
		gfctl_site_finding_print(
		    s, LV_WARN, "broker", "per_listener_settings",
		    "true: each listener needs its own plugin and allow_anonymous false");
	if (c->legacy_port)
		gfctl_site_finding_print(
		    s, LV_FAIL, "broker", "port",
		    "the default listener (port) takes plain MQTT on every interface");
	if (c->nl == 0)
		gfctl_site_finding_print(s, LV_FAIL, "broker", "listeners",
		                         "no listener: no TLS listener for the site");
	for (i = 0; i < c->nl; i++)
		listener_finding(s, &c->ls[i]);
	if (c->listeners_dropped)
		gfctl_site_finding_print(s, LV_WARN, "broker", "listeners",
		                         "%zu listeners beyond the first %d not checked",
		                         c->listeners_dropped, GFCTL_SITECONF_LISTENERS);
	if (!c->persistence) {
		gfctl_site_finding_print(
		    s, LV_FAIL, "broker", "persistence",
		    "off: sessions and queued QoS 1 messages are lost when the broker restarts");
	} else if (c->persist_dir[0]) {
		struct stat st;

		if (stat(c->persist_dir, &st) != 0 || !S_ISDIR(st.st_mode))
			gfctl_site_finding_print(
			    s, LV_WARN, "broker", "persistence",
			    "on, but persistence_location %s is not a directory yet",
			    c->persist_dir);
		else
			gfctl_site_finding_print(s, LV_OK, "broker", "persistence", "on, in %s",
			                         c->persist_dir);
	} else {
		gfctl_site_finding_print(s, LV_OK, "broker", "persistence", "on");
	}
	free(c);
}

int gfctl_site_check(const struct gfctl_site_opts *o)
{
	struct site_check s;
	struct stat st;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.now = time(NULL);
	if (stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		gf_log_err("GFCTL-USAGE", "site check: %s is not a directory", o->dir);
		return GFCTL_EXIT_USAGE;
	}
	gfctl_site_certs_check(&s);
	if (s.site[0]) {
		printf("# site %s\n", s.site);
		check_conf(&s);
		gfctl_site_presence_load(&s);
		if (!o->no_presence)
			gfctl_site_presence_check(&s);
	}
	printf("site %s: %u OK, %u WARN, %u FAIL\n", s.site[0] ? s.site : "?", s.n[LV_OK],
	       s.n[LV_WARN], s.n[LV_FAIL]);
	X509_free(s.ca);
	X509_CRL_free(s.crl);
	X509_STORE_free(s.store);
	free(s.agents);
	return s.n[LV_FAIL] ? GFCTL_EXIT_FAIL : GFCTL_EXIT_OK;
}
