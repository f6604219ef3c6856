/* SPDX-License-Identifier: MIT */
/*
 * agent.h - what every goflex agent shares: the command line (-c file, -n,
 * -v, -d, -h), the configuration table, the simulated clock, the bus, one
 * thread running the agent's logic in a poll() loop, timers and signals
 * (SPEC section 7, CONVENTIONS "Daemons").
 *
 * An agent is a struct gf_agent_def: its name, its configuration struct
 * (which starts with a struct gf_agent_conf, filled by the common keys of
 * GF_AGENT_CONF_ITEMS) and its callbacks. gf_agent_main() parses the
 * command line and the file, opens the bus, calls start, then runs the loop:
 * every message and bus event goes to the agent's callbacks on this one
 * thread; timers fire on simulated time; SIGHUP calls reload; SIGTERM and
 * SIGINT call stop, then drain (handle what the inbox holds, wait for
 * publishes to be acknowledged) and exit 0. Lost connections are re-made
 * with a back-off of 0.5 s doubling to 5 s.
 */
#ifndef GF_AGENT_H
#define GF_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/bus.h"
#include "base/conf.h"
#include "base/err.h"
#include "agent/simclock.h"

/* The common configuration keys (docs/agents.md lists them). */
struct gf_agent_conf {
	char *site, *broker_host;
	long broker_port;
	char *cafile, *cert, *key, *identity, *password_file, *state_dir;
	char *time_epoch;  /* RFC 3339 simulated time at time_origin, or "now" */
	char *time_origin; /* real time anchor (RFC 3339 or epoch seconds), or "start" */
	long time_scale;   /* simulated seconds per real second */
	long drain_ms;     /* how long SIGTERM waits for acknowledgements */
	long kpi_period_s; /* simulated seconds between KPI reports (kpi.h); 0: none */
};

/* The table items of the common keys, for an agent's struct `type` whose
 * member `m` is the struct gf_agent_conf. Put first in the agent's table. */
#define GF_AGENT_CONF_ITEMS(type, m)                                                               \
	{"site",                                                                                   \
	 GF_CONF_STRING,                                                                           \
	 offsetof(type, m.site),                                                                   \
	 NULL,                                                                                     \
	 0,                                                                                        \
	 0,                                                                                        \
	 true,                                                                                     \
	 "the site name (the broker's plugin_opt_site)"},                                          \
	    {"broker_host",                                                                        \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.broker_host),                                                        \
	     "localhost",                                                                          \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "the site broker's host"},                                                            \
	    {"broker_port",                                                                        \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.broker_port),                                                        \
	     "0",                                                                                  \
	     0,                                                                                    \
	     65535,                                                                                \
	     false,                                                                                \
	     "its port; 0: 8883 with TLS, 1884 (loopback password listener) without"},             \
	    {"cafile", GF_CONF_STRING, offsetof(type, m.cafile),      NULL, 0,                     \
	     0,        false,          "TLS: the site CA certificate"},                            \
	    {"cert",                                                                               \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.cert),                                                               \
	     NULL,                                                                                 \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "TLS: this agent's certificate (O=site, OU=role, CN=id)"},                            \
	    {"key", GF_CONF_STRING, offsetof(type, m.key), NULL, 0,                                \
	     0,     false,          "TLS: its private key"},                                       \
	    {"identity",                                                                           \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.identity),                                                           \
	     NULL,                                                                                 \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "<role>.<id>; with TLS taken from the certificate"},                                  \
	    {"password_file",                                                                      \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.password_file),                                                      \
	     NULL,                                                                                 \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "password listener: file whose first line is the password (else $GF_PASSWORD)"},      \
	    {"state_dir",                                                                          \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.state_dir),                                                          \
	     NULL,                                                                                 \
	     0,                                                                                    \
	     0,                                                                                    \
	     true,                                                                                 \
	     "directory for the durable inbox and the agent's state"},                             \
	    {"time_epoch",                                                                         \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.time_epoch),                                                         \
	     "now",                                                                                \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "simulated time at time_origin (RFC 3339), or now"},                                  \
	    {"time_origin",                                                                        \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.time_origin),                                                        \
	     "start",                                                                              \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "real time anchor of the simulated clock (RFC 3339 or epoch seconds), or start"},     \
	    {"time_scale", GF_CONF_INT, offsetof(type, m.time_scale),       "1", 1,                \
	     100000,       false,       "simulated seconds per real second"},                      \
	    {"drain_ms",                                                                           \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.drain_ms),                                                           \
	     "5000",                                                                               \
	     0,                                                                                    \
	     600000,                                                                               \
	     false,                                                                                \
	     "on SIGTERM, how long to wait for publishes to be acknowledged"},                     \
	{                                                                                          \
		"kpi_period_s", GF_CONF_INT, offsetof(type, m.kpi_period_s), "900", 0, 86400 * 7,  \
		    false,                                                                         \
		    "simulated seconds between KPI reports to kpi/all (docs/kpi.md); 0: none"      \
	}

struct gf_agent;

/* A long option of an agent (--name, no argument): *set becomes true when
 * it is given; the agent reads it in start. */
struct gf_agent_flag {
	const char *name;
	bool *set;
	const char *help; /* one line for -h */
};

struct gf_agent_def {
	const char *name;    /* e.g. "gf-fman" */
	const char *summary; /* one line for -h */
	const char *version;
	const struct gf_conf_item *table; /* GF_AGENT_CONF_ITEMS first */
	size_t conf_size;                 /* sizeof the agent's struct */
	size_t common_offset;             /* offsetof its struct gf_agent_conf */
	/* Checks what the table cannot (files the keys name, their contents)
	 * after the configuration is read, before the bus, also under -n: an
	 * error (err says why) ends the program with exit code 2. May be NULL.
	 * It may keep what it loaded for start. */
	enum gf_err (*check)(void *conf, char *err, size_t errlen);
	/* Called once the bus is open and its first connect was started
	 * (publishes are buffered until it succeeds): subscribe, open state,
	 * arm timers. A failure ends the program with exit code 1. */
	enum gf_err (*start)(struct gf_agent *a, void *conf);
	/* A message: act on it; the inbox marks it done when this returns,
	 * unless the callback called gf_agent_fail(). */
	void (*message)(struct gf_agent *a, const struct gf_inbox_item *msg);
	/* Other bus events (may be NULL): connected, published, refused... */
	void (*event)(struct gf_agent *a, const struct gf_inbox_item *ev);
	/* SIGHUP, after the file was read again into a fresh struct (may be
	 * NULL: the new values are then dropped). Returns whether it took it. */
	bool (*reload)(struct gf_agent *a, void *old_conf, void *new_conf);
	/* SIGTERM/SIGINT, before the drain (may be NULL). */
	void (*stop)(struct gf_agent *a);
	/* The agent's long options, ended by {NULL}; may be NULL. */
	const struct gf_agent_flag *flags;
	/* A command run instead of the daemon: `NAME -c FILE CMD ARGS...` loads
	 * the configuration and returns command(conf, argc, argv) (argv[0] is
	 * CMD) as the exit code, without opening the bus. NULL: operands are
	 * refused. command_help: its usage lines for -h. */
	int (*command)(void *conf, int argc, char **argv);
	const char *command_help;
};

/* Runs the agent; returns the process exit code (0 clean, 1 runtime
 * failure, 2 usage or configuration error). */
int gf_agent_main(const struct gf_agent_def *def, int argc, char **argv);

/* The bus, the configuration struct (the agent's own type), the clock. */
struct gf_bus *gf_agent_bus(struct gf_agent *a);
void *gf_agent_conf(struct gf_agent *a);
const struct gf_simclock *gf_agent_clock(const struct gf_agent *a);
/* Simulated time now (seconds since the Unix epoch). */
double gf_agent_now(const struct gf_agent *a);

/* The agent's own data, for its callbacks. */
void gf_agent_set_data(struct gf_agent *a, void *data);
void *gf_agent_data(struct gf_agent *a);

typedef void (*gf_agent_timer_fn)(struct gf_agent *a, void *arg);

/* Calls fn(a, arg) once when the simulated clock reaches sim_s (at once if
 * it has). Returns a timer id > 0, or 0 when out of memory. */
uint64_t gf_agent_timer_at(struct gf_agent *a, double sim_s, gf_agent_timer_fn fn, void *arg);
/* Cancels a timer that has not fired; unknown ids are ignored. */
void gf_agent_timer_cancel(struct gf_agent *a, uint64_t id);

/* Opens another connection with its own identity (gf-sim's prosumers,
 * virtual FOAs: many identities in one process) and starts connecting it.
 * Its messages and events go to the same callbacks; during them
 * gf_agent_current_bus() is this bus and gf_agent_current_ctx() is ctx.
 * It is reconnected like the agent's own and closed at exit. Errors as
 * gf_bus_open. */
enum gf_err gf_agent_bus_add(struct gf_agent *a, const struct gf_bus_opts *o, void *ctx,
                             struct gf_bus **out, char *err, size_t errlen);
typedef void (*gf_agent_fd_fn)(struct gf_agent *a, void *arg);

/* Watches fd in the loop (epoll, readable) from now on and calls fn(a, arg) on the
 * agent's thread whenever it is readable (fn must make it unreadable, e.g.
 * by reading it): a local broker's connection (local.h), whose messages are
 * not goflex bus messages. The caller keeps fd open while the agent runs.
 * GF_ENOMEM, GF_EIO (epoll refused it). */
enum gf_err gf_agent_watch(struct gf_agent *a, int fd, gf_agent_fd_fn fn, void *arg);

/* In a callback: the connection the item came from (the agent's own bus
 * otherwise), and the ctx it was added with (NULL for the agent's own). */
struct gf_bus *gf_agent_current_bus(struct gf_agent *a);
void *gf_agent_current_ctx(struct gf_agent *a);

/* From a message callback that cannot act on its message (its database
 * failed, say): the message is not marked done, nothing after it is
 * handled, no timer fires any more, and the agent exits with code 1; at
 * the next start the durable inbox hands the message over again. From a
 * timer: the same stop. Logs GF-AGENT-FAIL with why, the first call's
 * only: a handler that stops for its own reason says so first, and the
 * gf_store_once (once.h) that then rolls back adds nothing. The agents
 * call it through gf_store_once. */
void gf_agent_fail(struct gf_agent *a, const char *why);

/* The runtime's own: the head of resend.c's list of schedules, which
 * lives and dies with the agent (gf__resend_free at exit). */
struct gf_resend_every;
struct gf_resend_every **gf__agent_resends(struct gf_agent *a);

/* The runtime's own: kpi.c's reporter, which lives and dies with the agent,
 * and the kpi_period_s it reports at. */
struct gf_kpi;
struct gf_kpi **gf__agent_kpi(struct gf_agent *a);
long gf__agent_kpi_period(const struct gf_agent *a);

/* Asks the loop to stop as on SIGTERM (with exit code code). */
void gf_agent_quit(struct gf_agent *a, int code);

#endif
