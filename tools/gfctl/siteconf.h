/* SPDX-License-Identifier: MIT */
/*
 * siteconf.h - what gfctl site check reads from a broker's mosquitto.conf
 * and from an agent's "key value" configuration: the parsing alone, without
 * files or output (site.c judges; tests/fuzz/siteconf_fuzz.c fuzzes).
 */
#ifndef GFCTL_SITECONF_H
#define GFCTL_SITECONF_H

#include <stdbool.h>
#include <stddef.h>

#define GFCTL_SITECONF_PATH      4096
#define GFCTL_SITECONF_LISTENERS 64
#define GFCTL_SITECONF_LINE      4096

/* One listener block of mosquitto.conf. */
struct gfctl_siteconf_listener {
	int line;
	char port[16], bind[128];
	bool cafile, certfile, keyfile, require_cert, crlfile;
};

/* The settings site check looks at. Strings are "" when absent; a value
 * longer than its field is cut (site check then reports a file that does
 * not exist or a name that does not match). */
struct gfctl_siteconf {
	char plugin[GFCTL_SITECONF_PATH];
	int plugin_line;
	char site[72], exchange[GFCTL_SITECONF_PATH], crl[GFCTL_SITECONF_PATH];
	char validate[16], persist_dir[GFCTL_SITECONF_PATH];
	long stats_interval; /* plugin_opt_stats_interval; 10 when absent */
	bool persistence, anon, per_listener, legacy_port;
	int anon_line;
	struct gfctl_siteconf_listener ls[GFCTL_SITECONF_LISTENERS];
	size_t nl;
	size_t listeners_dropped; /* beyond GFCTL_SITECONF_LISTENERS */
};

/*
 * Splits one configuration line in place: *key the first word, *val the
 * rest without surrounding blanks and line end. False for a blank line or a
 * comment ('#' first).
 */
bool gfctl_siteconf_split(char *line, char **key, char **val);

/* Scans len bytes of mosquitto.conf text (need not end in NUL; lines longer
 * than GFCTL_SITECONF_LINE are cut) into *out. */
void gfctl_siteconf_scan(const char *text, size_t len, struct gfctl_siteconf *out);

#endif
