/* SPDX-License-Identifier: MIT */
/*
 * gfctl - the goflex-bus ops CLI: watch topics decoded (sub), publish with
 * local schema checks (pub), validate files the way the broker does
 * (validate), print payload files as JSON (decode), list the agents'
 * presence (presence), check a site's certificates, broker configuration
 * and agents (site check). docs/gfctl.md.
 *
 * One table of options and one of commands drive parsing, the per-command
 * checks and every help text, so that --help cannot drift from the code.
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "files.h"
#include "site.h"
#include "base/log.h"

#define GFCTL_VERSION "0.1.0"

enum {
	CMD_SUB = 1u << 0,
	CMD_PUB = 1u << 1,
	CMD_VALIDATE = 1u << 2,
	CMD_PRESENCE = 1u << 3,
	CMD_SITE = 1u << 4,
	CMD_DECODE = 1u << 5,
};
#define CMD_NET (CMD_SUB | CMD_PUB | CMD_PRESENCE | CMD_SITE)
#define CMD_ALL (CMD_NET | CMD_VALIDATE | CMD_DECODE)

enum opt_key {
	OPT_HELP = 'h',
	OPT_VERBOSE = 'v',
	OPT_VERSION = 'V',
	OPT_HOST = 256,
	OPT_PORT,
	OPT_CAFILE,
	OPT_CERT,
	OPT_KEY,
	OPT_ID,
	OPT_PASSWORD_FILE,
	OPT_SITE,
	OPT_COUNT,
	OPT_TIMEOUT,
	OPT_AS,
	OPT_RAW,
	OPT_RETAIN,
	OPT_QOS,
	OPT_WARN_DAYS,
	OPT_NO_PRESENCE,
};

struct option_spec {
	const char *name;
	int key;
	const char *arg; /* the argument's name; NULL for a flag */
	unsigned cmds;   /* the commands that take it */
	const char *help;
};

static const struct option_spec option_specs[] = {
    {"host", OPT_HOST, "HOST", CMD_NET, "broker host (default localhost)"},
    {"port", OPT_PORT, "N", CMD_NET,
     "broker port (default 8883 with the TLS options, 1884 without)"},
    {"cafile", OPT_CAFILE, "FILE", CMD_NET, "TLS: the site CA certificate (PEM)"},
    {"cert", OPT_CERT, "FILE", CMD_NET,
     "TLS: client certificate (PEM); its O, OU, CN are the site, role and id"},
    {"key", OPT_KEY, "FILE", CMD_NET, "TLS: the certificate's private key (PEM)"},
    {"id", OPT_ID, "ROLE.ID", CMD_NET,
     "identity: the username on the password listener; with TLS optional, and must match "
     "the certificate. Client id: ROLE.ID@gfctl-<pid>"},
    {"password-file", OPT_PASSWORD_FILE, "FILE", CMD_NET,
     "password listener: the password is FILE's first line (default: $GFCTL_PASSWORD)"},
    {"site", OPT_SITE, "SITE", CMD_PRESENCE, "the site (default: the certificate's O=)"},
    {"count", OPT_COUNT, "N", CMD_SUB, "exit after N messages (exit 1 if --timeout comes first)"},
    {"timeout", OPT_TIMEOUT, "SECONDS", CMD_SUB | CMD_PRESENCE | CMD_SITE,
     "sub: stop after SECONDS (default: never); presence and site check: collect for "
     "SECONDS (default 2)"},
    {"as", OPT_AS, "FORMAT", CMD_PUB | CMD_VALIDATE | CMD_DECODE,
     "payload encoding: json (default), protobuf, msgpack, or jose (a sealed compact JWE, "
     "passed as is)"},
    {"raw", OPT_RAW, NULL, CMD_PUB,
     "send JSON's bytes unchecked and unconverted, with --as's Content Type, to any topic"},
    {"retain", OPT_RETAIN, NULL, CMD_PUB, "publish a retained message"},
    {"qos", OPT_QOS, "0|1", CMD_PUB, "QoS (default 1: waits for the broker's PUBACK)"},
    {"warn-days", OPT_WARN_DAYS, "N", CMD_SITE,
     "site check: warn when a certificate expires within N days (default 30)"},
    {"no-presence", OPT_NO_PRESENCE, NULL, CMD_SITE,
     "site check: certificates and configuration only, no connection to the broker"},
    {"verbose", OPT_VERBOSE, NULL, CMD_ALL, "log the connection's steps to stderr"},
    {"help", OPT_HELP, NULL, CMD_ALL, "this help; after a command, that command's"},
    {"version", OPT_VERSION, NULL, 0, "print gfctl's version"},
};
#define N_OPTIONS (sizeof(option_specs) / sizeof(option_specs[0]))

struct command {
	const char *name;
	unsigned bit;
	size_t min_args, max_args;
	const char *synopsis;
	const char *summary;
	const char *details;
	int (*run)(const struct gfctl_args *a);
};

static const struct command commands[] = {
    {"sub", CMD_SUB, 1, 64, "sub FILTER [FILTER...] [--count N] [--timeout S]",
     "subscribe and print each message as one JSON line",
     "Subscribes at QoS 1 to each FILTER (up to 64) and prints every message as one line:\n"
     "  {\"topic\":..., \"sender\":\"<role>.<id>\", \"to\":\"<role>.<id>\", \"msg\":...,\n"
     "   \"contentType\":... or null, \"retained\":true (only if so), \"payload\":...}\n"
     "The payload is decoded with its message type's schema, whatever its encoding, and\n"
     "printed as canonical JSON; sealed (application/jose) payloads and topics outside\n"
     "gf/<site>/ (sender, to and msg are then absent) as a string; anything undecodable as\n"
     "{\"error\":\"<path>: <reason>\",\"payloadBase64\":...}. Runs until --count messages,\n"
     "--timeout, SIGINT or SIGTERM (exit 0), or a lost connection (exit 1).",
     gfctl_commands_sub},
    {"pub", CMD_PUB, 2, 2,
     "pub TOPIC JSON [--as json|protobuf|msgpack|jose] [--raw] [--retain] [--qos 0|1]",
     "check a message against its schema, encode it and publish it",
     "JSON is the message's text, '-' for stdin, or @FILE. It is decoded with the schema of\n"
     "TOPIC's <msg> level and validated like the broker does; an invalid one is not sent\n"
     "(exit 1, with the field path). It is then encoded as --as says, with the matching MQTT\n"
     "v5 Content Type (application/json, application/x-protobuf, application/msgpack;\n"
     "application/jose for a sealed payload, sent as is). --raw skips all of this and sends\n"
     "the bytes unchanged, to test the broker's own checks. At QoS 1 prints 'published', or\n"
     "'refused: 0x87 not authorized' (the PUBACK reason code and name) and exits 1.",
     gfctl_commands_pub},
    {"validate", CMD_VALIDATE, 2, 2, "validate MSG FILE [--as json|protobuf|msgpack|jose]",
     "check a file as message type MSG, as the broker would",
     "Decodes FILE ('-' for stdin) as a payload of message type MSG in the encoding --as\n"
     "names and makes the broker's checks (schema, then meaning; for jose, the form of a\n"
     "sealed payload). Prints 'valid' (exit 0) or 'invalid: <path>: <reason>' (exit 1).\n"
     "Needs no broker.",
     gfctl_files_validate},
    {"decode", CMD_DECODE, 2, 2, "decode MSG FILE [--as json|protobuf|msgpack]",
     "print a payload file as canonical JSON",
     "Decodes FILE ('-' for stdin) strictly as message type MSG in the encoding --as names\n"
     "(a payload, or a message an agent stored, e.g. a FOA's offer: sqlite3 foa.db\n"
     "\"SELECT writefile('o.pb', offer) FROM foa_offer\") and prints it as one line of\n"
     "canonical JSON (exit 0), or 'invalid: <path>: <reason>' (exit 1). The semantic\n"
     "rules are validate's, not checked here. Needs no broker.",
     gfctl_files_decode},
    {"presence", CMD_PRESENCE, 0, 0, "presence [--site SITE] [--timeout S]",
     "list the agents' retained births and deaths",
     "Subscribes to gf/<site>/+/+/ops/all/status (the agents' retained presence messages,\n"
     "message type status; readable by ops), collects for --timeout seconds (default 2) and\n"
     "prints a table: ROLE, ID, STATE (online, offline, or invalid), VERSION, SINCE (the\n"
     "agent's start time), SEQUENCE (its connection number).",
     gfctl_commands_presence},
    {"site", CMD_SITE, 2, 2, "site check SITEDIR [--timeout S] [--warn-days N] [--no-presence]",
     "check a site's certificates, broker configuration and agents",
     "Checks the site directory SITEDIR (the one ops/gf-broker writes, docs/ops.md): its\n"
     "certificates (pki/ca.crt a self-signed CA whose O= is the site; crl.pem signed by\n"
     "it and not expired; broker.crt and every pki/clients/<role>.<id>.crt issued by it,\n"
     "not expired, not expiring within --warn-days, O/OU/CN an identity of the site named\n"
     "as its file, its key file matching it and readable by its owner only), the broker's\n"
     "mosquitto.conf (the goflex plugin loaded with this site, its catalogue and CRL;\n"
     "allow_anonymous off; every listener off loopback TLS with required client\n"
     "certificates; persistence on) and every agent configured in agents/*.conf (its site\n"
     "and identity, and its presence: connects to the broker and reads the retained\n"
     "gf/<site>/<role>/<id>/ops/all/status for --timeout seconds, and the plugin's\n"
     "plugin.stats). Without connection options it connects with the site's first valid\n"
     "pki/clients/ops.*.crt to localhost at the TLS listener's port. Prints one line per\n"
     "finding, 'OK|WARN|FAIL  AREA  SUBJECT: reason', and a count; exit 1 on any FAIL.",
     NULL},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void log_to_stderr(enum gf_log_level level, const char *line, void *userdata)
{
	(void)level;
	(void)userdata;
	fprintf(stderr, "gfctl: %s\n", line);
}

/* Prints text from column indent, wrapped at width, then a newline. */
static void print_wrapped(FILE *f, const char *text, int indent, int width)
{
	int col = indent;
	size_t word;

	while (*text) {
		word = strcspn(text, " ");
		if (col > indent && col + 1 + (int)word > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)word, text);
		col += (int)word;
		text += word;
		while (*text == ' ')
			text++;
	}
	fputc('\n', f);
}

static void print_options(FILE *f, unsigned mask)
{
	char left[64];
	size_t i;

	for (i = 0; i < N_OPTIONS; i++) {
		const struct option_spec *o = &option_specs[i];

		if (mask && !(o->cmds & mask))
			continue;
		if (o->key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name,
			         o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		fprintf(f, "  %-26s ", left);
		print_wrapped(f, o->help, 29, 80);
	}
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: gfctl COMMAND [ARGS] [OPTIONS]\n\n"
	           "The goflex-bus ops tool. Commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  gfctl %s\n", commands[i].synopsis);
	fprintf(f, "\nOptions (each command takes those it needs; 'gfctl COMMAND --help'):\n");
	print_options(f, 0);
	fprintf(f, "\nConnecting: a certificate (--cafile, --cert, --key; TLS, port 8883), or\n"
	           "--id ROLE.ID with a password (--password-file or GFCTL_PASSWORD; the loopback\n"
	           "password listener, port 1884). Passwords are never read from the command\n"
	           "line and never printed.\n"
	           "\nExit status: 0 done, 1 refused, invalid or failed, 2 usage error.\n");
}

static void command_usage(FILE *f, const struct command *cmd)
{
	fprintf(f, "Usage: gfctl %s\n\n%s\n\nOptions:\n", cmd->synopsis, cmd->details);
	print_options(f, cmd->bit);
	if (cmd->bit & CMD_NET)
		fprintf(f,
		        "\nConnect with a certificate (--cafile, --cert, --key) or with --id and "
		        "a password\n(--password-file or GFCTL_PASSWORD).\n");
	fprintf(f, "\nExit status: 0 done, 1 refused, invalid or failed, 2 usage error.\n");
}

static int usage_error(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const struct command *cmd, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	gf_log_err("GFCTL-USAGE", "%s (see 'gfctl %s%s--help')", text, cmd ? cmd->name : "",
	           cmd ? " " : "");
	if (cmd)
		fprintf(stderr, "gfctl: GFCTL-USAGE usage: gfctl %s\n", cmd->synopsis);
	return GFCTL_EXIT_USAGE;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Stores one option's value; false with why set if the value is bad. */
static bool set_option(struct gfctl_args *a, int key, const char *arg, char *why, size_t size)
{
	char *end;
	long n;

	switch (key) {
	case OPT_HOST:
		a->conn.host = arg;
		return true;
	case OPT_PORT:
		snprintf(why, size, "--port takes a number from 1 to 65535, not '%s'", arg);
		if (!parse_long(arg, 1, 65535, &n))
			return false;
		a->conn.port = (int)n;
		return true;
	case OPT_CAFILE:
		a->conn.cafile = arg;
		return true;
	case OPT_CERT:
		a->conn.cert = arg;
		return true;
	case OPT_KEY:
		a->conn.key = arg;
		return true;
	case OPT_ID:
		a->conn.id = arg;
		return true;
	case OPT_PASSWORD_FILE:
		a->conn.password_file = arg;
		return true;
	case OPT_SITE:
		a->site = arg;
		return true;
	case OPT_COUNT:
		snprintf(why, size, "--count takes a positive number, not '%s'", arg);
		return parse_long(arg, 1, 1000000000L, &a->count);
	case OPT_TIMEOUT:
		snprintf(why, size, "--timeout takes a positive number of seconds, not '%s'", arg);
		a->timeout = strtod(arg, &end);
		return end != arg && !*end && isfinite(a->timeout) && a->timeout > 0 &&
		       a->timeout <= 1e7;
	case OPT_AS:
		snprintf(why, size, "--as takes json, protobuf, msgpack or jose, not '%s'", arg);
		return gfctl_commands_parse_as(arg, &a->as);
	case OPT_RAW:
		a->raw = true;
		return true;
	case OPT_RETAIN:
		a->retain = true;
		return true;
	case OPT_WARN_DAYS:
		snprintf(why, size, "--warn-days takes a number from 0 to 3650, not '%s'", arg);
		return parse_long(arg, 0, 3650, &a->warn_days);
	case OPT_NO_PRESENCE:
		a->no_presence = true;
		return true;
	case OPT_QOS:
		snprintf(why, size, "--qos takes 0 or 1, not '%s'", arg);
		if (!parse_long(arg, 0, 1, &n))
			return false;
		a->qos = (int)n;
		return true;
	default:
		return true;
	}
}

/* site check SITEDIR: gfctl_site_check with the command line's options. */
static int run_site(const struct command *cmd, const struct gfctl_args *a)
{
	struct gfctl_site_opts o;

	if (strcmp(a->pos[0], "check") != 0)
		return usage_error(cmd, "site: unknown subcommand '%s' (the one is check)",
		                   a->pos[0]);
	memset(&o, 0, sizeof(o));
	o.dir = a->pos[1];
	o.conn = a->conn;
	o.timeout = a->timeout > 0 ? a->timeout : GFCTL_PRESENCE_SECONDS;
	o.warn_days = a->warn_days >= 0 ? a->warn_days : GFCTL_SITE_WARN_DAYS;
	o.no_presence = a->no_presence;
	return gfctl_site_check(&o);
}

int main(int argc, char **argv)
{
	struct option longopts[N_OPTIONS + 1];
	struct gfctl_args a;
	const struct command *cmd = NULL;
	char why[256] = "";
	unsigned seen[N_OPTIONS] = {0};
	bool help = false, version = false;
	int c, idx, status;
	size_t i;

	gf_log_set_sink(log_to_stderr, NULL);
	gf_log_set_level(GF_LOG_NOTICE);
	memset(&a, 0, sizeof(a));
	a.qos = 1;
	a.as = GFCTL_AS_JSON;
	a.warn_days = -1;
	for (i = 0; i < N_OPTIONS; i++) {
		longopts[i].name = option_specs[i].name;
		longopts[i].has_arg = option_specs[i].arg ? required_argument : no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = option_specs[i].key;
	}
	memset(&longopts[N_OPTIONS], 0, sizeof(longopts[0]));

	/* Options may come before or after the command and its arguments;
	 * getopt_long moves the non-options to the end of argv. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hvV", longopts, &idx)) != -1) {
		if (c == '?')
			return usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		if (c == ':')
			return usage_error(NULL, "option '%s' needs an argument", argv[optind - 1]);
		for (i = 0; i < N_OPTIONS; i++)
			if (option_specs[i].key == c)
				seen[i] = 1;
		if (c == OPT_HELP)
			help = true;
		else if (c == OPT_VERSION)
			version = true;
		else if (c == OPT_VERBOSE)
			gf_log_set_level(GF_LOG_DEBUG);
		else if (!set_option(&a, c, optarg, why, sizeof(why)))
			return usage_error(NULL, "%s", why);
	}
	if (optind < argc) {
		if (strcmp(argv[optind], "help") == 0) {
			help = true;
			optind++;
		}
		if (optind < argc) {
			cmd = find_command(argv[optind]);
			if (!cmd)
				return usage_error(NULL, "unknown command '%s'", argv[optind]);
			optind++;
		}
	}
	if (version) {
		printf("gfctl %s\n", GFCTL_VERSION);
		return GFCTL_EXIT_OK;
	}
	if (help) {
		if (cmd)
			command_usage(stdout, cmd);
		else
			usage(stdout);
		return GFCTL_EXIT_OK;
	}
	if (!cmd) {
		usage(stderr);
		return GFCTL_EXIT_USAGE;
	}
	for (i = 0; i < N_OPTIONS; i++) {
		if (seen[i] && !(option_specs[i].cmds & cmd->bit)) {
			char opt[64];

			snprintf(opt, sizeof(opt), "--%s", option_specs[i].name);
			return usage_error(cmd, "%s is not an option of this command", opt);
		}
	}
	a.pos = argv + optind;
	a.npos = (size_t)(argc - optind);
	if (a.npos < cmd->min_args || a.npos > cmd->max_args)
		return usage_error(cmd, "%s: wrong number of arguments", cmd->name);
	status = cmd->run ? cmd->run(&a) : run_site(cmd, &a);
	if (fflush(stdout) != 0 && status == GFCTL_EXIT_OK)
		status = GFCTL_EXIT_FAIL;
	return status;
}
