/* SPDX-License-Identifier: MIT */
/*
 * plugs.h - gf-sim's simulated smart plugs (docs/sim.md "Smart plugs"): a
 * device (lib/devices/device.h, configured with lib/devices/devconf.h's keys) behind a
 * Tasmota or Shelly Gen1 plug on a plain local MQTT broker (lib/devices/plug.h's
 * topics), for prosumers without an xEMS whose FOA runs in device mode.
 *
 * Each plug obeys its relay commands (the device is stepped at its switched
 * power while on, at 0 while off, through gf_device_step: its own guards
 * stay in force), answers each with its relay state, publishes its relay
 * state, power and cumulative energy every tele_s simulated seconds, and
 * counts the energy per interval into a CSV so a test can compare what was
 * delivered with what was scheduled. Everything runs on the agent's thread.
 */
#ifndef SIM_PLUGS_H
#define SIM_PLUGS_H

#include <stdbool.h>

#include "agent/agent.h"
#include "devices/devconf.h"

struct sim_plugs_conf {
	char *plugs; /* "tasmota:<topic> shelly:<id> ..."; NULL: no plugs */
	char *host;
	long port;
	long tele_s;
	char *csv;
	long drop_commands;
	bool initial_on;
	struct gf_devconf dev;
};

#define SIM_PLUGS_CONF_ITEMS(type, m)                                                                \
	{"plugs",                                                                                    \
	 GF_CONF_STRING,                                                                             \
	 offsetof(type, m.plugs),                                                                    \
	 NULL,                                                                                       \
	 0,                                                                                          \
	 0,                                                                                          \
	 false,                                                                                      \
	 "simulated smart plugs, space-separated tasmota:<topic> or shelly:<id> (docs/sim.md)"},     \
	    {"plug_host",                                                                            \
	     GF_CONF_STRING,                                                                         \
	     offsetof(type, m.host),                                                                 \
	     "localhost",                                                                            \
	     0,                                                                                      \
	     0,                                                                                      \
	     false,                                                                                  \
	     "the plugs' local MQTT broker (a plain one, not the site broker)"},                     \
	    {"plug_port", GF_CONF_INT, offsetof(type, m.port), "1883", 1, 65535, false, "its port"}, \
	    {"plug_tele_s",                                                                          \
	     GF_CONF_INT,                                                                            \
	     offsetof(type, m.tele_s),                                                               \
	     "60",                                                                                   \
	     1,                                                                                      \
	     86400,                                                                                  \
	     false,                                                                                  \
	     "simulated seconds between a plug's telemetry (relay state, power, energy)"},           \
	    {"plug_csv",                                                                             \
	     GF_CONF_STRING,                                                                         \
	     offsetof(type, m.csv),                                                                  \
	     NULL,                                                                                   \
	     0,                                                                                      \
	     0,                                                                                      \
	     false,                                                                                  \
	     "file of each plug's energy per interval (CSV)"},                                       \
	    {"plug_drop_commands",                                                                   \
	     GF_CONF_INT,                                                                            \
	     offsetof(type, m.drop_commands),                                                        \
	     "0",                                                                                    \
	     0,                                                                                      \
	     1000,                                                                                   \
	     false,                                                                                  \
	     "test aid: each plug ignores its first this many relay commands"},                      \
	    {"plug_initial_on",     GF_CONF_BOOL, offsetof(type, m.initial_on), "on", 0, 0, false,   \
	     "relay state at start"},                                                                \
	    GF_DEVCONF_ITEMS(type, m.dev)

struct sim_plugs;

/* Opens the local broker's connection, makes every plug (its device at the
 * current simulated time) and arms the telemetry and interval timers.
 * GF_EINVAL (logged GF-SIM-CONFIG with the reason) for a bad plug list or
 * device, GF_EIO for the CSV or the connection. *out owned by the caller
 * (sim_plugs_free). */
enum gf_err sim_plugs_start(struct gf_agent *a, const struct sim_plugs_conf *c,
                            struct sim_plugs **out);

/* Steps every plug to now, writes what is complete, logs the totals,
 * disconnects. Accepts NULL. */
void sim_plugs_free(struct sim_plugs *s);

#endif
