/* SPDX-License-Identifier: MIT */
/*
 * site_check.h - what the parts of gfctl site check share (site.h is the
 * command): the state of one check, the finding printer and the site
 * directory's files. site.c runs the check and reads the broker's
 * configuration, site_certs.c checks the certificates and the CRL,
 * site_presence.c the configured agents and their presence messages,
 * site_finding.c prints the findings, site_dir.c names the site's files.
 */
#ifndef GFCTL_SITE_CHECK_H
#define GFCTL_SITE_CHECK_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "site.h"
#include "bus/ident.h"
#include "bus/topic.h"

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

/* One run of site check. */
struct site_check {
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

/* site_finding.c: one line "LEVEL  AREA  SUBJECT: why" on stdout, counted in s->n. */
void gfctl_site_finding_print(struct site_check *s, enum level lv, const char *area,
                              const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* site_dir.c: SITEDIR/rel into out; an over-long path becomes "" (which no file has). */
void gfctl_site_dir_path(const struct site_check *s, const char *rel, char *out, size_t size);
/* scandir's order: by name. */
int gfctl_site_dir_name_cmp(const struct dirent **a, const struct dirent **b);
bool gfctl_site_dir_has_suffix(const char *s, const char *suffix);

/* site_certs.c: a PEM certificate, or NULL. */
X509 *gfctl_site_certs_load(const char *path);
/* X509_V_OK when cert chains to the site CA (and is not revoked). */
int gfctl_site_certs_verify(struct site_check *s, X509 *cert);
/* The CA (sets s->site), the CRL, the broker's and every client's certificate. */
void gfctl_site_certs_check(struct site_check *s);

/* site_presence.c: agents/<program>.conf read, then their presence on the bus. */
void gfctl_site_presence_load(struct site_check *s);
void gfctl_site_presence_check(struct site_check *s);

#endif
