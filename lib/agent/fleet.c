/* SPDX-License-Identifier: MIT */
#include "agent/fleet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "bus/ident.h"

#define PATH_MAX_LEN 4096

bool gf_fleet_id(const char *prefix, long digits, long number, char *id, size_t size)
{
	snprintf(id, size, "%s%0*ld", prefix, (int)digits, number);
	return gf_id_valid(id, strlen(id)) && strcmp(id, "all") != 0;
}

enum gf_err gf_fleet_bus(struct gf_agent *a, const struct gf_agent_conf *c, const char *role,
                         const char *id, const char *cert_dir, const char *state_dir,
                         const char *version, void *ctx, struct gf_bus **out, char *err,
                         size_t errlen)
{
	char ident[GF_ID_MAX + 16], cert[PATH_MAX_LEN], key[PATH_MAX_LEN];
	struct gf_bus *bus = gf_agent_bus(a);
	struct gf_bus_opts o = {.host = c->broker_host,
	                        .port = (int)c->broker_port,
	                        .password_file = c->password_file,
	                        .site = c->site,
	                        .state_dir = state_dir,
	                        .version = version};
	enum gf_err rc;

	snprintf(ident, sizeof(ident), "%s.%s", role, id);
	/* Made even for the process's own identity: the caller keeps that
	 * one's other state there too. */
	if (state_dir && mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make %s: %s", state_dir, strerror(errno));
		return GF_EIO;
	}
	if (strcmp(gf_bus_ident(bus), ident) == 0) {
		*out = bus;
		return GF_OK;
	}
	o.ident = ident;
	if (cert_dir) {
		snprintf(cert, sizeof(cert), "%s/%s.crt", cert_dir, ident);
		snprintf(key, sizeof(key), "%s/%s.key", cert_dir, ident);
		o.cafile = c->cafile;
		o.cert = cert;
		o.key = key;
		o.ident = NULL; /* the certificate's */
		o.password_file = NULL;
	}
	rc = gf_agent_bus_add(a, &o, ctx, &bus, err, errlen);
	if (rc != GF_OK)
		return rc;
	if (strcmp(gf_bus_ident(bus), ident) != 0) {
		/* The bus stays in the agent's loop; the caller stops. */
		snprintf(err, errlen, "the certificate of %s says %s", ident, gf_bus_ident(bus));
		return GF_EINVAL;
	}
	*out = bus;
	return GF_OK;
}

void gf_fleet_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}
