/* SPDX-License-Identifier: MIT */
#include "siteconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool gfctl_siteconf_split(char *line, char **key, char **val)
{
	char *k = line + strspn(line, " \t"), *end, *v;

	if (*k == '#' || *k == '\0' || *k == '\n' || *k == '\r')
		return false;
	end = k + strcspn(k, " \t\r\n");
	v = *end ? end + 1 : end;
	*end = '\0';
	v += strspn(v, " \t");
	v[strcspn(v, "\r\n")] = '\0';
	for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';
	*key = k;
	*val = v;
	return true;
}

static bool truthy(const char *v)
{
	return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
	       strcmp(v, "on") == 0;
}

static void take(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n >= size)
		n = size - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* One "key value" line into c. */
static void scan_line(struct gfctl_siteconf *c, char *line, int lineno)
{
	struct gfctl_siteconf_listener *l = c->nl ? &c->ls[c->nl - 1] : NULL;
	char *key, *val;

	if (!gfctl_siteconf_split(line, &key, &val))
		return;
	if (strcmp(key, "listener") == 0) {
		if (c->nl == GFCTL_SITECONF_LISTENERS) {
			c->listeners_dropped++;
			return;
		}
		l = &c->ls[c->nl++];
		memset(l, 0, sizeof(*l));
		l->line = lineno;
		/* "PORT [BIND]" */
		take(l->port, sizeof(l->port), val);
		l->port[strcspn(l->port, " \t")] = '\0';
		val += strcspn(val, " \t");
		val += strspn(val, " \t");
		take(l->bind, sizeof(l->bind), val);
		l->bind[strcspn(l->bind, " \t")] = '\0';
	} else if (strcmp(key, "port") == 0) {
		c->legacy_port = true;
	} else if (l && (strcmp(key, "cafile") == 0 || strcmp(key, "capath") == 0)) {
		l->cafile = true;
	} else if (l && strcmp(key, "certfile") == 0) {
		l->certfile = true;
	} else if (l && strcmp(key, "keyfile") == 0) {
		l->keyfile = true;
	} else if (l && strcmp(key, "crlfile") == 0) {
		l->crlfile = true;
	} else if (l && strcmp(key, "require_certificate") == 0) {
		l->require_cert = truthy(val);
	} else if (strcmp(key, "allow_anonymous") == 0) {
		if (truthy(val) && !c->anon) {
			c->anon = true;
			c->anon_line = lineno;
		}
	} else if (strcmp(key, "per_listener_settings") == 0) {
		c->per_listener = truthy(val);
	} else if (strcmp(key, "plugin") == 0 || strcmp(key, "auth_plugin") == 0) {
		take(c->plugin, sizeof(c->plugin), val);
		c->plugin_line = lineno;
	} else if (strcmp(key, "plugin_opt_site") == 0) {
		take(c->site, sizeof(c->site), val);
	} else if (strcmp(key, "plugin_opt_exchange") == 0) {
		take(c->exchange, sizeof(c->exchange), val);
	} else if (strcmp(key, "plugin_opt_crl") == 0) {
		take(c->crl, sizeof(c->crl), val);
	} else if (strcmp(key, "plugin_opt_validate") == 0) {
		take(c->validate, sizeof(c->validate), val);
	} else if (strcmp(key, "plugin_opt_stats_interval") == 0) {
		c->stats_interval = strtol(val, NULL, 10);
	} else if (strcmp(key, "persistence") == 0) {
		c->persistence = truthy(val);
	} else if (strcmp(key, "persistence_location") == 0) {
		take(c->persist_dir, sizeof(c->persist_dir), val);
	}
}

void gfctl_siteconf_scan(const char *text, size_t len, struct gfctl_siteconf *out)
{
	char line[GFCTL_SITECONF_LINE];
	size_t pos = 0, n, take_n;
	int lineno = 0;
	const char *nl;

	memset(out, 0, sizeof(*out));
	out->stats_interval = 10;
	while (pos < len) {
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		take_n = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
		memcpy(line, text + pos, take_n);
		line[take_n] = '\0';
		/* A NUL inside the line ends it, as fgets would leave it. */
		scan_line(out, line, ++lineno);
		pos += n + (nl ? 1 : 0);
	}
}
