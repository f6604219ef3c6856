/* SPDX-License-Identifier: MIT */
/*
 * gate.h - the plugin's state and its broker callbacks.
 *
 * plugin.c registers these callbacks; everything they decide is delegated to
 * lib/ (policy, certid, audit). This is the one place where our errors become
 * MOSQ_ERR_* codes.
 */
#ifndef GF_GATE_H
#define GF_GATE_H

#include <stdbool.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "bus/audit.h"
#include "bus/catalog.h"
#include "bus/certid.h"
#include "bus/certledger.h"
#include "bus/clients.h"
#include "bus/msglimits.h"
#include "base/log.h"
#include "bus/policy.h"

/* The plugin_opt_* options (docs/broker-plugin.md). */
struct gf_gate_opts {
	char *site;
	char *exchange;
	char *crl;
	bool validate;
	bool debug;
	long stats_interval;
	char *state;      /* the certificate ledger's file (certledger.h); NULL: memory only */
	char *limits;     /* the limits file (lib/limits.h); NULL = max_payload for all */
	long max_payload; /* bytes, for types the limits file does not name */
	long max_subscriptions; /* per client; 0 = no limit */
};

/* What a reload replaces as a whole. */
struct gf_gate_config {
	struct gf_gate_opts opts;
	struct gf_catalog *cat;
	struct gf_crl *crl;
	struct gf_msglimits *limits; /* built for cat */
	char audit_topic[160];
	char stats_topic[160];
};

struct gf_gate {
	mosquitto_plugin_id_t *pid;
	struct mosquitto_opt *options; /* copy of the init options: reloads get none */
	int option_count;
	struct gf_gate_config *cfg;
	struct gf_policy pol;
	struct gf_clients *clients;   /* the open connections (clients.h) */
	struct gf_certledger *ledger; /* last certificate per identity */
	char *ledger_path;            /* from the init options; NULL: not kept */
	bool ledger_dirty;
	time_t ledger_saved;
	struct gf_audit audit;
	time_t next_stats;
	/* The connection whose CONNECT is being handled: mosquitto sends the will
	 * of a session it takes over in the middle of it (see is_will). */
	const struct mosquitto *connecting;
	/* Set by the reload callback until the next tick: mosquitto re-checks
	 * every session right after it (in the same turn of its loop, before any
	 * new connection), including away ones. */
	bool reapplying;
	size_t rechecked, kept_away; /* counted during one re-check, logged at the tick */
};

/*
 * Builds the plugin's state from the init options: the configuration, and the
 * certificate ledger read from plugin_opt_state. MOSQ_ERR_SUCCESS and *out
 * (free with gf_gate_free), or an error after logging GF-PLUGIN-CONFIG.
 */
int gf_gate_new(mosquitto_plugin_id_t *pid, struct mosquitto_opt *options, int option_count,
                struct gf_gate **out);

/* Writes the certificate ledger to plugin_opt_state if it changed; logs
 * GF-PLUGIN-STATE on failure (and tries again later). */
void gf_gate_save_state(struct gf_gate *gate);

/* Copies the init options into gate (freed by gf_gate_free). */
int gf_gate_keep_options(struct gf_gate *gate, const struct mosquitto_opt *options,
                         int option_count);
void gf_gate_free(struct gf_gate *gate);

/*
 * Builds a configuration from the broker's options. Returns MOSQ_ERR_SUCCESS
 * and *out (free with gf_gate_config_free), or an error after logging what is
 * wrong with message id GF-PLUGIN-CONFIG.
 */
int gf_gate_config_new(struct mosquitto_opt *options, int option_count,
                       struct gf_gate_config **out);
void gf_gate_config_free(struct gf_gate_config *cfg);

/* Installs cfg (taking ownership) as the gate's configuration and frees the
 * previous one. */
void gf_gate_install(struct gf_gate *gate, struct gf_gate_config *cfg);

int gf_gate_on_basic_auth(int event, void *event_data, void *userdata);
int gf_gate_on_acl_check(int event, void *event_data, void *userdata);
int gf_gate_on_disconnect(int event, void *event_data, void *userdata);
int gf_gate_on_message(int event, void *event_data, void *userdata);
int gf_gate_on_reload(int event, void *event_data, void *userdata);
int gf_gate_on_tick(int event, void *event_data, void *userdata);

/* Routes lib/ log lines to the broker's log. */
void gf_gate_log_sink(enum gf_log_level level, const char *line, void *userdata);

#endif
