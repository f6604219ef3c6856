/* SPDX-License-Identifier: MIT */
/*
 * site.h - gfctl site check: a site directory's certificates, its broker
 * configuration and the presence of every configured agent (docs/gfctl.md,
 * "site check"; docs/ops.md).
 *
 * The site directory is the one ops/gf-broker writes and docs/ops.md
 * describes: pki/ (ca.crt, broker.crt and .key, crl.pem, clients/), the
 * broker's mosquitto.conf, and agents/<program>.conf, one configuration per
 * agent. Each finding is one line on stdout,
 *   OK|WARN|FAIL  AREA  SUBJECT: reason
 * and a closing count. The exit status is 1 if any finding is FAIL.
 */
#ifndef GFCTL_SITE_H
#define GFCTL_SITE_H

#include <stdbool.h>

#include "connect.h"

/* Warn when a certificate or the CRL expires within this many days. */
#define GFCTL_SITE_WARN_DAYS 30

/* What site check needs of the command line. */
struct gfctl_site_opts {
	const char *dir;             /* the site directory */
	struct gfctl_conn_opts conn; /* empty: the site's own ops certificate */
	double timeout;              /* seconds to collect presence */
	long warn_days;              /* GFCTL_SITE_WARN_DAYS unless given */
	bool no_presence;            /* certificates and configuration only */
};

/* Runs every check and prints the findings; returns the exit status
 * (GFCTL_EXIT_OK, GFCTL_EXIT_FAIL, GFCTL_EXIT_USAGE). */
int gfctl_site_check(const struct gfctl_site_opts *o);

#endif
