/* SPDX-License-Identifier: MIT */
#include "agent/agent.h"
#include "agent/kpi.h"
#include "agent/resend.h"
#include "agent/store.h"

#include <errno.h>
#include <math.h>
#include <execinfo.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bus/ident.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "bus/topic.h"

#define ERR_MAX        512
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 5000
#define EVENTS_MAX     64
#define TAG_SIGNALS    UINT64_MAX          /* epoll data of the signalfd; else a conn's index */
#define TAG_WATCH      (UINT64_C(1) << 62) /* | a watch's index (gf_agent_watch) */

struct timer {
	uint64_t id;
	double at; /* simulated seconds */
	gf_agent_timer_fn fn;
	void *arg;
};

/* One connection: the agent's own (conns[0]) or one added for another
 * identity (gf_agent_bus_add). */
struct conn {
	struct gf_bus *bus;
	void *ctx;
	double reconnect_at; /* real seconds; 0 = none pending */
	long backoff_ms;
};

/* A descriptor of the agent's own (gf_agent_watch): a local broker's. */
struct watch {
	gf_agent_fd_fn fn;
	void *arg;
};

struct gf_agent {
	const struct gf_agent_def *def;
	const char *conf_path;
	void *conf;
	void *data;
	struct gf_bus *bus; /* conns[0].bus */
	struct conn *conns;
	size_t nconns, conn_cap;
	/* The loop waits with epoll, so that a turn costs what is ready, not
	 * what is open: a process of 2,500 virtual FOAs polled 2,500
	 * descriptors per message with poll(). */
	int epfd;
	size_t reconnecting; /* connections with reconnect_at > 0 */
	struct watch *watches;
	size_t nwatches;
	struct conn *current;
	struct gf_simclock clock;
	int sigfd;
	struct timer *timers;
	size_t ntimers, timer_cap;
	uint64_t next_timer_id;
	bool stopping;
	bool failed; /* a handler could not act on its message: replay it */
	int exit_code;
	struct gf_resend_every *resends; /* resend.c's schedules, one per store */
	struct gf_kpi *kpi;              /* kpi.c's reporter */
};

static struct gf_agent_conf *common(const struct gf_agent_def *def, void *conf)
{
	return (struct gf_agent_conf *)((char *)conf + def->common_offset);
}

/* --- configuration -------------------------------------------------------- */

/* A fresh configuration struct from the file (defaults, file, checks). */
static enum gf_err load_conf(const struct gf_agent_def *def, const char *path, void **out,
                             char *err, size_t errlen)
{
	void *conf = calloc(1, def->conf_size);
	enum gf_err rc = GF_ENOMEM;

	if (!conf)
		goto out;
	rc = gf_conf_defaults(def->table, conf);
	if (rc == GF_OK && path)
		rc = gf_conf_load_file(def->table, conf, path, err, errlen);
	if (rc == GF_OK)
		rc = gf_conf_check(def->table, conf, err, errlen);
out:
	if (rc != GF_OK) {
		if (conf)
			gf_conf_free(def->table, conf);
		free(conf);
		return rc;
	}
	*out = conf;
	return GF_OK;
}

static void free_conf(const struct gf_agent_def *def, void *conf)
{
	if (conf)
		gf_conf_free(def->table, conf);
	free(conf);
}

/* Seconds since the epoch from RFC 3339 or a plain number. */
static enum gf_err parse_time(const char *s, double *out)
{
	int64_t ms;
	char *end;
	double v;

	if (gf_time_parse(s, strlen(s), &ms) == GF_OK) {
		*out = (double)ms / 1000.0;
		return GF_OK;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return GF_EINVAL;
	*out = v;
	return GF_OK;
}

static enum gf_err init_clock(struct gf_agent *a, char *err, size_t errlen)
{
	const struct gf_agent_conf *c = common(a->def, a->conf);
	double now = gf_simclock_real_now(), epoch = now, origin = now;

	if (strcmp(c->time_origin, "start") != 0 && parse_time(c->time_origin, &origin) != GF_OK) {
		snprintf(err, errlen, "time_origin '%s' is neither RFC 3339, seconds, nor start",
		         c->time_origin);
		return GF_EINVAL;
	}
	if (strcmp(c->time_epoch, "now") == 0)
		epoch = origin;
	else if (parse_time(c->time_epoch, &epoch) != GF_OK) {
		snprintf(err, errlen, "time_epoch '%s' is neither RFC 3339 nor now", c->time_epoch);
		return GF_EINVAL;
	}
	return gf_simclock_init(&a->clock, epoch, origin, (double)c->time_scale);
}

static void usage(const struct gf_agent_def *def, FILE *out)
{
	const struct gf_conf_item *it;

	fprintf(out,
	        "usage: %s -c FILE [-n] [-v] [-d]%s%s\n"
	        "%s\n\n"
	        "  -c FILE  configuration, \"key value\" lines\n"
	        "  -n       check the configuration, print it and exit\n"
	        "  -v       verbose (debug log)\n"
	        "  -d       stay in the foreground (the only mode; for service managers)\n"
	        "  -h       this help (also --help)\n",
	        def->name, def->flags ? " [--OPTION...]" : "",
	        def->command ? " [COMMAND ARGS...]" : "", def->summary);
	for (const struct gf_agent_flag *f = def->flags; f && f->name; f++)
		fprintf(out, "  --%-7s %s\n", f->name, f->help);
	if (def->command && def->command_help)
		fprintf(out, "\ncommands (with the configuration of -c, without the bus):\n%s",
		        def->command_help);
	fprintf(out, "\nconfiguration keys:\n");
	for (it = def->table; it->name; it++)
		fprintf(out, "  %-16s %s%s%s%s\n", it->name, it->help,
		        it->required ? " (required)" : "", it->def ? "; default " : "",
		        it->def ? it->def : "");
	fprintf(out, "\nSIGHUP reloads the file; SIGTERM drains and exits 0.\n");
}

/* --- timers --------------------------------------------------------------- */

uint64_t gf_agent_timer_at(struct gf_agent *a, double sim_s, gf_agent_timer_fn fn, void *arg)
{
	if (a->ntimers == a->timer_cap) {
		size_t cap = a->timer_cap ? a->timer_cap * 2 : 16;
		struct timer *t = realloc(a->timers, cap * sizeof(*t));
		if (!t)
			return 0;
		a->timers = t;
		a->timer_cap = cap;
	}
	a->timers[a->ntimers] = (struct timer){++a->next_timer_id, sim_s, fn, arg};
	a->ntimers++;
	return a->next_timer_id;
}

void gf_agent_timer_cancel(struct gf_agent *a, uint64_t id)
{
	for (size_t i = 0; i < a->ntimers; i++) {
		if (a->timers[i].id == id) {
			a->timers[i] = a->timers[--a->ntimers];
			return;
		}
	}
}

/* Fires every due timer, earliest first. A timer may arm new ones. */
static void fire_timers(struct gf_agent *a)
{
	/* Only timers armed before this call: one that re-arms itself in the
	 * past (an agent that is behind) fires again at the next turn of the
	 * loop, after the inbox and the signals, never in a tight loop here. */
	uint64_t armed_before = a->next_timer_id;

	for (;;) {
		double now = gf_simclock_now(&a->clock);
		size_t best = a->ntimers;
		struct timer t;

		for (size_t i = 0; i < a->ntimers; i++)
			if (a->timers[i].id <= armed_before && a->timers[i].at <= now &&
			    (best == a->ntimers || a->timers[i].at < a->timers[best].at ||
			     (a->timers[i].at == a->timers[best].at &&
			      a->timers[i].id < a->timers[best].id)))
				best = i;
		/* After a failure nothing more is done: the state stays as the
		 * last commit left it for the next start. */
		if (best == a->ntimers || a->failed)
			return;
		t = a->timers[best];
		a->timers[best] = a->timers[--a->ntimers];
		t.fn(a, t.arg);
	}
}

/* Milliseconds poll() may sleep: until the next timer or reconnect. */
static int poll_timeout(const struct gf_agent *a)
{
	int64_t ms = -1;

	for (size_t i = 0; i < a->ntimers; i++) {
		int64_t t = gf_simclock_ms_until(&a->clock, a->timers[i].at);
		if (ms < 0 || t < ms)
			ms = t;
	}
	for (size_t i = 0; a->reconnecting && i < a->nconns; i++) {
		double r;
		int64_t t;

		if (a->conns[i].reconnect_at <= 0)
			continue;
		r = ceil((a->conns[i].reconnect_at - gf_simclock_real_now()) * 1000.0);
		t = r > 0 ? (int64_t)r : 0;
		if (ms < 0 || t < ms)
			ms = t;
	}
	return ms > 60000 ? 60000 : (int)ms;
}

/* --- the loop ------------------------------------------------------------- */

/* Sets (at > 0) or clears (0) c's reconnect time, counting the pending. */
static void set_reconnect(struct gf_agent *a, struct conn *c, double at)
{
	if (c->reconnect_at <= 0 && at > 0)
		a->reconnecting++;
	else if (c->reconnect_at > 0 && at <= 0)
		a->reconnecting--;
	c->reconnect_at = at;
}

static void schedule_reconnect(struct gf_agent *a, struct conn *c, const struct gf_inbox_item *ev)
{
	if (a->stopping)
		return;
	gf_log_warning(ev->kind == GF_INBOX_LOST ? "GF-BUS-LOST" : "GF-BUS-CONNECT-FAILED",
	               "%s the broker as %s: %s; retrying in %ld ms",
	               ev->kind == GF_INBOX_LOST ? "lost the connection to" : "cannot connect to",
	               gf_bus_ident(c->bus), ev->text, c->backoff_ms);
	set_reconnect(a, c, gf_simclock_real_now() + (double)c->backoff_ms / 1000.0);
	c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

static void handle_item(struct gf_agent *a, struct conn *c, struct gf_inbox_item *it)
{
	a->current = c;
	switch (it->kind) {
	case GF_INBOX_MESSAGE: {
		double t0 = gf_simclock_real_now();
		a->def->message(a, it);
		gf_kpi_time(a, "agent.handle", gf_simclock_real_now() - t0);
		gf_kpi_count(a, "agent.messages", 1, NULL);
		break;
	}
	case GF_INBOX_CONNECTED:
		c->backoff_ms = BACKOFF_MIN_MS;
		break;
	case GF_INBOX_CONNECT_FAILED:
	case GF_INBOX_LOST:
		schedule_reconnect(a, c, it);
		break;
	case GF_INBOX_PUB_FAILED:
		/* A reason >= 0x80 is the broker's refusal (or the client's, for
		 * a packet larger than the broker takes); below, the publish was
		 * dropped on the way (the outbox and the resends send it again). */
		if (it->reason >= 0x80)
			gf_log_err("GF-BUS-REFUSED", "a publish was refused: 0x%02x %s",
			           (unsigned)it->reason, it->text);
		else
			gf_log_notice("GF-BUS-DROPPED", "a publish was dropped on the way (%d %s)",
			              it->reason, it->text);
		break;
	case GF_INBOX_PUBLISHED:
		break;
	}
	if (it->kind != GF_INBOX_MESSAGE && a->def->event)
		a->def->event(a, it);
	/* After a failure nothing more is marked done: the inbox's done mark is
	 * a high-water mark, so the failed message and all after it come back
	 * at the next start. */
	if (a->failed)
		gf_bus_release(c->bus, it);
	else
		gf_bus_done(c->bus, it);
	a->current = &a->conns[0];
}

static void reload(struct gf_agent *a)
{
	char err[ERR_MAX] = "";
	void *fresh = NULL;

	if (load_conf(a->def, a->conf_path, &fresh, err, sizeof(err)) != GF_OK) {
		gf_log_err("GF-AGENT-RELOAD", "SIGHUP: keeping the running configuration: %s", err);
		return;
	}
	if (a->def->reload && a->def->reload(a, a->conf, fresh)) {
		free_conf(a->def, a->conf);
		a->conf = fresh;
		gf_log_notice("GF-AGENT-RELOAD", "SIGHUP: configuration reloaded from %s",
		              a->conf_path);
	} else {
		free_conf(a->def, fresh);
		gf_log_notice("GF-AGENT-RELOAD", "SIGHUP: nothing to reload in %s", a->def->name);
	}
}

static void handle_signals(struct gf_agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(a);
		} else if (!a->stopping) {
			gf_log_notice("GF-AGENT-STOP", "%s: draining and stopping",
			              strsignal((int)si.ssi_signo));
			gf_agent_quit(a, 0);
		}
	}
}

/* Handles what connection i has queued; reconnects it when due. */
static void serve_conn(struct gf_agent *a, size_t i)
{
	struct conn *c = &a->conns[i];
	struct gf_inbox_item *it;

	while (!a->failed && (it = gf_bus_take(c->bus)) != NULL) {
		handle_item(a, c, it);
		c = &a->conns[i]; /* the callback may have added connections */
	}
	if (c->reconnect_at > 0 && gf_simclock_real_now() >= c->reconnect_at) {
		set_reconnect(a, c, 0);
		if (gf_bus_connect(c->bus) != GF_OK)
			set_reconnect(a, c, gf_simclock_real_now() + BACKOFF_MAX_MS / 1000.0);
	}
}

static void run_loop(struct gf_agent *a)
{
	struct epoll_event ev[EVENTS_MAX];

	while (!a->stopping) {
		int n = epoll_wait(a->epfd, ev, EVENTS_MAX, poll_timeout(a));

		if (n < 0 && errno != EINTR) {
			gf_log_err("GF-AGENT-POLL", "epoll_wait: %s", strerror(errno));
			a->exit_code = 1;
			break;
		}
		for (int k = 0; k < n; k++) {
			if (ev[k].data.u64 == TAG_SIGNALS)
				handle_signals(a);
			else if (ev[k].data.u64 < a->nconns)
				serve_conn(a, (size_t)ev[k].data.u64);
			else if ((ev[k].data.u64 & TAG_WATCH) && !a->failed &&
			         (ev[k].data.u64 & ~TAG_WATCH) < a->nwatches)
				a->watches[ev[k].data.u64 & ~TAG_WATCH].fn(
				    a, a->watches[ev[k].data.u64 & ~TAG_WATCH].arg);
		}
		/* Reconnects are due by time, not by a descriptor. */
		for (size_t i = 0; a->reconnecting && i < a->nconns; i++)
			if (a->conns[i].reconnect_at > 0)
				serve_conn(a, i);
		fire_timers(a);
		/* What the turn published goes out now, in as few writes as
		 * the socket allows. */
		for (size_t i = 0; i < a->nconns; i++)
			gf_bus_flush(a->conns[i].bus);
	}
	/* Drain: what is already queued is handled before leaving. */
	for (size_t i = 0; i < a->nconns; i++)
		serve_conn(a, i);
}

/* Watches fd in the loop's epoll with tag. GF_EIO. */
static enum gf_err epoll_watch(struct gf_agent *a, int fd, uint64_t tag)
{
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = tag};

	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
		gf_log_err("GF-AGENT-POLL", "epoll_ctl: %s", strerror(errno));
		return GF_EIO;
	}
	return GF_OK;
}

/* Adds bus as a connection of the loop. GF_ENOMEM, GF_EIO. */
static enum gf_err conn_add(struct gf_agent *a, struct gf_bus *bus, void *ctx)
{
	if (a->nconns == a->conn_cap) {
		size_t cap = a->conn_cap ? a->conn_cap * 2 : 4;
		struct conn *c = realloc(a->conns, cap * sizeof(*c));

		if (!c)
			return GF_ENOMEM;
		a->conns = c;
		a->conn_cap = cap;
	}
	if (epoll_watch(a, gf_bus_fd(bus), a->nconns) != GF_OK)
		return GF_EIO;
	a->conns[a->nconns] = (struct conn){bus, ctx, 0, BACKOFF_MIN_MS};
	a->nconns++;
	a->current = &a->conns[0];
	return GF_OK;
}

enum gf_err gf_agent_bus_add(struct gf_agent *a, const struct gf_bus_opts *o, void *ctx,
                             struct gf_bus **out, char *err, size_t errlen)
{
	struct gf_bus *bus = NULL;
	enum gf_err rc;

	rc = gf_bus_open(o, &bus, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = conn_add(a, bus, ctx);
	if (rc != GF_OK) {
		gf_bus_close(bus, 0);
		return rc;
	}
	if (gf_bus_connect(bus) != GF_OK)
		set_reconnect(a, &a->conns[a->nconns - 1],
		              gf_simclock_real_now() + BACKOFF_MAX_MS / 1000.0);
	*out = bus;
	return GF_OK;
}

enum gf_err gf_agent_watch(struct gf_agent *a, int fd, gf_agent_fd_fn fn, void *arg)
{
	struct watch *w = realloc(a->watches, (a->nwatches + 1) * sizeof(*w));

	if (!w)
		return GF_ENOMEM;
	a->watches = w;
	if (epoll_watch(a, fd, TAG_WATCH | a->nwatches) != GF_OK)
		return GF_EIO;
	a->watches[a->nwatches++] = (struct watch){fn, arg};
	return GF_OK;
}

struct gf_bus *gf_agent_current_bus(struct gf_agent *a)
{
	return a->current ? a->current->bus : a->bus;
}

void *gf_agent_current_ctx(struct gf_agent *a)
{
	return a->current ? a->current->ctx : NULL;
}

/* --- the program ---------------------------------------------------------- */

static enum gf_err open_bus(struct gf_agent *a, char *err, size_t errlen)
{
	const struct gf_agent_conf *c = common(a->def, a->conf);
	struct gf_bus_opts o = {
	    .host = c->broker_host,
	    .port = (int)c->broker_port,
	    .cafile = c->cafile,
	    .cert = c->cert,
	    .key = c->key,
	    .password_file = c->password_file,
	    .ident = c->identity,
	    .site = c->site,
	    .state_dir = c->state_dir,
	    .version = a->def->version,
	};

	enum gf_err rc = gf_bus_open(&o, &a->bus, err, errlen);

	if (rc == GF_OK && (rc = conn_add(a, a->bus, NULL)) != GF_OK) {
		gf_bus_close(a->bus, 0);
		a->bus = NULL;
	}
	return rc;
}

#define FLAGS_MAX 16

/* -1 to go on (*operand: the index of the first operand, or argc), else the
 * exit code. */
static int parse_args(const struct gf_agent_def *def, int argc, char **argv, const char **path,
                      bool *check, int *operand)
{
	struct option longs[FLAGS_MAX + 2]; /* the flags, --help, the terminator */
	size_t nflags = 0;
	int opt;

	memset(longs, 0, sizeof(longs));
	for (const struct gf_agent_flag *f = def->flags; f && f->name && nflags < FLAGS_MAX; f++) {
		longs[nflags].name = f->name;
		longs[nflags].has_arg = no_argument;
		longs[nflags].val = 256 + (int)nflags;
		nflags++;
	}
	longs[nflags].name = "help"; /* as -h */
	longs[nflags].has_arg = no_argument;
	longs[nflags].val = 'h';
	opterr = 0;
	/* "+": stop at the first operand, so a command's own arguments are its. */
	while ((opt = getopt_long(argc, argv, "+c:nvdh", longs, NULL)) != -1) {
		switch (opt) {
		case 'c':
			*path = optarg;
			break;
		case 'n':
			*check = true;
			break;
		case 'v':
			gf_log_set_level(GF_LOG_DEBUG);
			break;
		case 'd':
			break;
		case 'h':
			usage(def, stdout);
			return 0;
		default:
			if (opt >= 256 && (size_t)(opt - 256) < nflags) {
				*def->flags[opt - 256].set = true;
				break;
			}
			if (optopt)
				fprintf(stderr, "%s: unknown option -%c (see -h)\n", def->name,
				        optopt);
			else
				fprintf(stderr, "%s: unknown option %s (see -h)\n", def->name,
				        argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc && !def->command) {
		fprintf(stderr, "%s: unexpected argument '%s' (see -h)\n", def->name, argv[optind]);
		return 2;
	}
	*operand = optind;
	if (!*path) {
		fprintf(stderr, "%s: give the configuration file with -c FILE (see -h)\n",
		        def->name);
		return 2;
	}
	return -1;
}

/* Says goodbye on every connection, waits once (up to timeout_ms) for all
 * their publishes to be acknowledged, then closes them: a thousand
 * connections stop in about the time of one. */
static void close_all(struct gf_agent *a, long timeout_ms)
{
	long waited = 0;
	bool pending = true;

	for (size_t i = 0; i < a->nconns; i++)
		gf_bus_goodbye(a->conns[i].bus);
	while (pending && waited < timeout_ms) {
		struct epoll_event ev[EVENTS_MAX];
		int n;

		pending = false;
		for (size_t i = 0; i < a->nconns; i++) {
			gf_bus_flush(a->conns[i].bus);
			pending = pending || gf_bus_pending(a->conns[i].bus) > 0;
		}
		if (!pending)
			break;
		n = epoll_wait(a->epfd, ev, EVENTS_MAX, 5);
		for (int k = 0; k < n; k++)
			if (ev[k].data.u64 < a->nconns)
				gf_bus_pump(a->conns[ev[k].data.u64].bus);
		waited += 5;
	}
	for (size_t i = a->nconns; i-- > 1;)
		gf_bus_close(a->conns[i].bus, 0);
	gf_bus_close(a->bus, 0);
}

/*
 * A crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) in any thread, ours or
 * a library's, writes its signal and the stack to stderr, which is the agent's
 * log, then dies of the same signal: a crash seen only in CI (a demo agent
 * died of SIGSEGV once after a broker kill -9) then says where it was. Only
 * async-signal-safe calls; backtrace() is called once at start so that it
 * does not load libgcc inside the handler.
 */
static void on_crash(int sig)
{
	static const char head[] = "GF-AGENT-CRASH signal ";
	void *frames[64];
	char num[4] = {(char)('0' + sig / 10 % 10), (char)('0' + sig % 10), '\n', 0};
	int n = backtrace(frames, 64);

	(void)!write(STDERR_FILENO, head, sizeof(head) - 1);
	(void)!write(STDERR_FILENO, num, 3);
	backtrace_symbols_fd(frames, n, STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void crash_reports_on(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	void *warm[1];
	struct sigaction sa;

#if defined(__SANITIZE_ADDRESS__)
	return; /* AddressSanitizer's own reports are better */
#endif
	(void)backtrace(warm, 1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* The runtime's queue-depth KPI: publishes not yet acknowledged. */
static double publish_queue(struct gf_agent *a, void *arg)
{
	(void)arg;
	return (double)gf_bus_pending(a->bus);
}

int gf_agent_main(const struct gf_agent_def *def, int argc, char **argv)
{
	struct gf_agent a = {.def = def, .sigfd = -1, .epfd = -1};
	char err[ERR_MAX] = "";
	const char *path = NULL;
	bool check = false;
	sigset_t sigs;
	int code, operand = argc;

	gf_store_one_thread();
	code = parse_args(def, argc, argv, &path, &check, &operand);
	if (code >= 0)
		return code;
	a.conf_path = path;
	code = 2;
	if (load_conf(def, path, &a.conf, err, sizeof(err)) != GF_OK ||
	    init_clock(&a, err, sizeof(err)) != GF_OK ||
	    (def->check && operand == argc && def->check(a.conf, err, sizeof(err)) != GF_OK)) {
		fprintf(stderr, "%s: %s\n", def->name, err[0] ? err : "bad configuration");
		goto out;
	}
	if (check) {
		gf_conf_print(def->table, a.conf, stdout);
		printf("configuration OK\n");
		code = 0;
		goto out;
	}
	if (operand < argc) {
		code = def->command(a.conf, argc - operand, argv + operand);
		goto out;
	}
	/* Blocked before any library starts a thread (paho's, for a local
	 * broker), which inherits the mask, so the signals reach only the
	 * signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	crash_reports_on();
	code = 1;
	a.sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	a.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a.sigfd < 0 || a.epfd < 0) {
		fprintf(stderr, "%s: signalfd, epoll: %s\n", def->name, strerror(errno));
		goto out;
	}
	if (epoll_watch(&a, a.sigfd, TAG_SIGNALS) != GF_OK)
		goto out;
	if (open_bus(&a, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "%s: %s\n", def->name, err);
		code = 2;
		goto out;
	}
	/* Connect first, so the connection is on its way while start runs
	 * (start may publish: buffered until connected). Subscriptions made in
	 * start are sent when the CONNECTED event is handled, in the loop. */
	if (gf_bus_connect(a.bus) != GF_OK)
		set_reconnect(&a, &a.conns[0], gf_simclock_real_now() + BACKOFF_MAX_MS / 1000.0);
	if (def->start(&a, a.conf) != GF_OK)
		goto out;
	gf_log_notice("GF-AGENT-START", "%s %s started as %s on site %s (time scale %ld)",
	              def->name, def->version, gf_bus_ident(a.bus), gf_bus_site(a.bus),
	              common(def, a.conf)->time_scale);
	a.exit_code = 0;
	gf_kpi_probe(&a, "agent.publish_queue", "count", publish_queue, NULL);
	run_loop(&a);
	if (def->stop)
		def->stop(&a);
	if (!a.failed)
		gf_kpi_report(&a);
	code = a.exit_code;
out:
	close_all(&a, a.conf ? common(def, a.conf)->drain_ms : 0);
	free(a.conns);
	if (a.epfd >= 0)
		close(a.epfd);
	free(a.watches);
	if (a.sigfd >= 0)
		close(a.sigfd);
	free(a.timers);
	gf__resend_free(a.resends);
	gf__kpi_free(a.kpi);
	free_conf(def, a.conf);
	return code;
}

struct gf_resend_every **gf__agent_resends(struct gf_agent *a)
{
	return &a->resends;
}

struct gf_kpi **gf__agent_kpi(struct gf_agent *a)
{
	return &a->kpi;
}

long gf__agent_kpi_period(const struct gf_agent *a)
{
	return common(a->def, a->conf)->kpi_period_s;
}

struct gf_bus *gf_agent_bus(struct gf_agent *a)
{
	return a->bus;
}

void *gf_agent_conf(struct gf_agent *a)
{
	return a->conf;
}

const struct gf_simclock *gf_agent_clock(const struct gf_agent *a)
{
	return &a->clock;
}

double gf_agent_now(const struct gf_agent *a)
{
	return gf_simclock_now(&a->clock);
}

void gf_agent_set_data(struct gf_agent *a, void *data)
{
	a->data = data;
}

void *gf_agent_data(struct gf_agent *a)
{
	return a->data;
}

void gf_agent_fail(struct gf_agent *a, const char *why)
{
	if (a->failed)
		return;
	gf_log_err("GF-AGENT-FAIL",
	           "cannot act on a message (%s): stopping; it is handled again at the next start",
	           why);
	a->failed = true;
	gf_agent_quit(a, 1);
}

void gf_agent_quit(struct gf_agent *a, int code)
{
	a->stopping = true;
	if (code > a->exit_code)
		a->exit_code = code;
}
