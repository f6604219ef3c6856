/* SPDX-License-Identifier: MIT */
#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <openssl/evp.h>

#include "bus/catalog.h"
#include "payload/codec.h"
#include "payload/jwe.h"
#include "base/log.h"
#include "payload/payload.h"
#include "presence.pb-c.h"
#include "payload/schema.h"
#include "bus/topic.h"
#include "payload/validate.h"

#define ERRLEN 1024

static const char *const as_names[] = {
    [GFCTL_AS_JSON] = "json",
    [GFCTL_AS_PROTOBUF] = "protobuf",
    [GFCTL_AS_MSGPACK] = "msgpack",
    [GFCTL_AS_JOSE] = "jose",
};

bool gfctl_commands_parse_as(const char *name, enum gfctl_as *out)
{
	size_t i;

	for (i = 0; i < sizeof(as_names) / sizeof(as_names[0]); i++) {
		if (strcmp(name, as_names[i]) == 0) {
			*out = (enum gfctl_as)i;
			return true;
		}
	}
	return false;
}

const char *gfctl_commands_content_type(enum gfctl_as as)
{
	switch (as) {
	case GFCTL_AS_PROTOBUF:
		return gf_codec_format_name(GF_CODEC_PROTOBUF);
	case GFCTL_AS_MSGPACK:
		return gf_codec_format_name(GF_CODEC_MSGPACK);
	case GFCTL_AS_JOSE:
		return GF_CONTENT_TYPE_JOSE;
	case GFCTL_AS_JSON:
		break;
	}
	return gf_codec_format_name(GF_CODEC_JSON);
}

enum gf_codec_format gfctl_commands_format(enum gfctl_as as)
{
	return as == GFCTL_AS_PROTOBUF  ? GF_CODEC_PROTOBUF
	       : as == GFCTL_AS_MSGPACK ? GF_CODEC_MSGPACK
	                                : GF_CODEC_JSON;
}

static bool is_jose(const char *content_type)
{
	size_t n = sizeof(GF_CONTENT_TYPE_JOSE) - 1;

	return content_type && strncasecmp(content_type, GF_CONTENT_TYPE_JOSE, n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';');
}

/* Well-formed UTF-8 without NUL: what a JSON string may carry. */
static bool utf8_text(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		unsigned char b = s[i];

		if (b == 0)
			return false;
		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			n = 1, cp = b & 0x1fu;
		else if (b >= 0xe0 && b <= 0xef)
			n = 2, cp = b & 0x0fu;
		else if (b >= 0xf0 && b <= 0xf4)
			n = 3, cp = b & 0x07u;
		else
			return false;
		if (len - i <= n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += n + 1;
	}
	return true;
}

/* --- reading inputs ------------------------------------------------------ */

/* At most GFCTL_INPUT_MAX bytes (commands.h). */
enum gf_err gfctl_commands_read_input(const char *arg, bool literal, char **out, size_t *len,
                                      char *err, size_t errlen)
{
	const char *path = NULL;
	enum gf_err rc = GF_EIO;
	char *buf = NULL, *grown;
	size_t used = 0, cap = 0, n;
	FILE *f = NULL;

	if (strcmp(arg, "-") == 0)
		f = stdin;
	else if (!literal)
		path = arg;
	else if (arg[0] == '@')
		path = arg + 1;
	if (!f && !path) {
		n = strlen(arg);
		buf = malloc(n + 1);
		if (!buf)
			return GF_ENOMEM;
		memcpy(buf, arg, n + 1);
		*out = buf;
		*len = n;
		return GF_OK;
	}
	if (path && !(f = fopen(path, "rb"))) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		if (cap - used < 4096 + 1) {
			cap = cap ? cap * 2 : 65536;
			grown = realloc(buf, cap);
			if (!grown) {
				rc = GF_ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = fread(buf + used, 1, cap - used - 1, f);
		used += n;
		if (used > GFCTL_INPUT_MAX) {
			rc = GF_ETOOLONG;
			snprintf(err, errlen, "%s is larger than %u bytes", path ? path : "stdin",
			         GFCTL_INPUT_MAX);
			goto out;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s", path ? path : "stdin");
		goto out;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
	rc = GF_OK;
out:
	if (f && f != stdin)
		fclose(f);
	free(buf);
	return rc;
}

/* --- sub --------------------------------------------------------------------- */

/* Error text may quote bits of a bad payload: keep the JSON output valid. */
static void scrub(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
			*s = '?';
}

/* {"error": why, "payloadBase64": the bytes}; NULL on ENOMEM. */
static cJSON *error_value(const struct gfctl_msg *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static cJSON *error_value(const struct gfctl_msg *m, const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	char why[ERRLEN];
	unsigned char *b64 = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	scrub(why);
	if (!o || !cJSON_AddStringToObject(o, "error", why))
		goto fail;
	b64 = malloc(4 * ((m->len + 2) / 3) + 1);
	if (!b64)
		goto fail;
	EVP_EncodeBlock(b64, m->payload, (int)m->len);
	if (!cJSON_AddStringToObject(o, "payloadBase64", (char *)b64))
		goto fail;
	free(b64);
	return o;
fail:
	free(b64);
	cJSON_Delete(o);
	return NULL;
}

static cJSON *text_value(const struct gfctl_msg *m, const char *what)
{
	if (utf8_text(m->payload, m->len))
		return cJSON_CreateString((const char *)m->payload);
	return error_value(m, "%s is not UTF-8 text", what);
}

/* The payload as JSON: decoded with its message type's schema, sealed
 * payloads and non-gf topics as strings, anything else as an error object. */
static cJSON *payload_value(const struct gfctl_msg *m, const struct gf_topic *t)
{
	const ProtobufCMessageDescriptor *d;
	enum gf_codec_format format;
	ProtobufCMessage *msg = NULL;
	char err[GF_CODEC_ERRLEN];
	char *json = NULL;
	size_t len;
	cJSON *v = NULL;
	enum gf_err rc;

	if (!t)
		return text_value(m, "the payload of a topic outside gf/<site>/");
	if (is_jose(m->content_type))
		return text_value(m, "the sealed payload");
	if (gf_codec_format_parse(m->content_type, &format) != GF_OK)
		return error_value(m, "unsupported Content Type '%s'", m->content_type);
	d = gf_schema_find(t->msg.p, t->msg.len);
	if (!d)
		return error_value(m, "no schema for message type '%.*s'", (int)t->msg.len,
		                   t->msg.p);
	rc = gf_codec_decode(format, d, m->payload, m->len, &msg, err, sizeof(err));
	if (rc != GF_OK) {
		v = error_value(m, "%s", rc == GF_EPARSE ? err : gf_strerror(rc));
		goto out;
	}
	rc = gf_codec_to_json(msg, &json, &len);
	if (rc != GF_OK) {
		v = error_value(m, "cannot re-encode as JSON: %s", gf_strerror(rc));
		goto out;
	}
	v = cJSON_CreateRaw(json);
out:
	free(json);
	gf_codec_free(msg);
	return v;
}

static char *render_message(const struct gfctl_msg *m)
{
	char who[16 + GF_ID_MAX + 2];
	struct gf_topic t;
	bool gf = gf_topic_parse(m->topic, &t, NULL) == GF_OK;
	cJSON *o = cJSON_CreateObject(), *payload;
	char *line = NULL;

	if (!o || !cJSON_AddStringToObject(o, "topic", m->topic))
		goto out;
	if (gf) {
		snprintf(who, sizeof(who), "%s.%.*s", gf_role_name(t.from_role), (int)t.from_id.len,
		         t.from_id.p);
		if (!cJSON_AddStringToObject(o, "sender", who))
			goto out;
		snprintf(who, sizeof(who), "%s.%.*s", gf_role_name(t.to_role), (int)t.to_id.len,
		         t.to_id.p);
		if (!cJSON_AddStringToObject(o, "to", who))
			goto out;
		snprintf(who, sizeof(who), "%.*s", (int)t.msg.len, t.msg.p);
		if (!cJSON_AddStringToObject(o, "msg", who))
			goto out;
	}
	if (m->content_type &&
	    utf8_text((const unsigned char *)m->content_type, strlen(m->content_type))) {
		if (!cJSON_AddStringToObject(o, "contentType", m->content_type))
			goto out;
	} else if (!cJSON_AddNullToObject(o, "contentType")) {
		goto out;
	}
	if (m->retained && !cJSON_AddTrueToObject(o, "retained"))
		goto out;
	payload = payload_value(m, gf ? &t : NULL);
	if (!payload)
		goto out;
	cJSON_AddItemToObject(o, "payload", payload);
	line = cJSON_PrintUnformatted(o);
out:
	cJSON_Delete(o);
	return line;
}

static long remaining_ms(const struct timespec *end)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

static struct timespec after_seconds(double s)
{
	struct timespec t;
	double whole = (double)(long)s;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += (time_t)whole;
	t.tv_nsec += (long)((s - whole) * 1e9);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Connects and subscribes; logs why not. */
static int open_and_subscribe(const struct gfctl_args *a, char *const *filters, size_t n,
                              struct gfctl_conn **out)
{
	char err[ERRLEN];
	enum gf_err rc;

	rc = gfctl_connect_open(&a->conn, out, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err(rc == GF_EINVAL ? "GFCTL-USAGE" : "GFCTL-CONNECT", "%s", err);
		return rc == GF_EINVAL ? GFCTL_EXIT_USAGE : GFCTL_EXIT_FAIL;
	}
	rc = gfctl_connect_subscribe(*out, filters, n, 1, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GFCTL-SUBSCRIBE", "%s", err);
		return GFCTL_EXIT_FAIL;
	}
	gf_log_info("GFCTL-SUBSCRIBED", "subscribed to %zu filter%s at QoS 1", n,
	            n == 1 ? "" : "s");
	return GFCTL_EXIT_OK;
}

int gfctl_commands_sub(const struct gfctl_args *a)
{
	struct gfctl_conn *c = NULL;
	struct gfctl_msg *m = NULL;
	struct timespec end;
	char err[ERRLEN], *line;
	long received = 0;
	bool stopped = false;
	int status;

	status = open_and_subscribe(a, a->pos, a->npos, &c);
	if (status != GFCTL_EXIT_OK)
		goto out;
	if (a->timeout > 0)
		end = after_seconds(a->timeout);
	while (a->count == 0 || received < a->count) {
		if (gfctl_connect_next(c, a->timeout > 0 ? remaining_ms(&end) : -1, &m, &stopped,
		                       err, sizeof(err)) != GF_OK) {
			gf_log_err("GFCTL-LOST", "%s", err);
			status = GFCTL_EXIT_FAIL;
			goto out;
		}
		if (!m)
			break;
		received++;
		line = render_message(m);
		if (line) {
			puts(line);
			fflush(stdout);
			free(line);
		} else {
			gf_log_err("GFCTL-NOMEM", "out of memory rendering a message on '%s'",
			           m->topic);
			status = GFCTL_EXIT_FAIL;
		}
		gfctl_connect_msg_free(m);
		m = NULL;
	}
	if (!stopped && a->count > 0 && received < a->count) {
		gf_log_err("GFCTL-TIMEOUT", "%ld of %ld messages within %g s", received, a->count,
		           a->timeout);
		status = GFCTL_EXIT_FAIL;
	}
out:
	gfctl_connect_msg_free(m);
	gfctl_connect_close(c);
	return status;
}

/* --- pub ----------------------------------------------------------------------- */

/* Checks text as a payload of the topic's message type and encodes it as
 * --as says; jose is checked as a compact JWE and passed through. */
static int prepare_payload(const struct gfctl_args *a, const char *text, size_t text_len,
                           void **out, size_t *out_len)
{
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage *msg = NULL;
	enum gf_topic_fault fault = GF_TOPIC_FAULT_NONE;
	char err[GF_CODEC_ERRLEN];
	struct gf_topic t;
	int status = GFCTL_EXIT_FAIL;
	enum gf_err rc;

	if (gf_topic_parse(a->pos[0], &t, &fault) != GF_OK) {
		gf_log_err("GFCTL-TOPIC",
		           "'%s' is not a gf/<site>/<from-role>/<from-id>/<to-role>/<to-id>/<msg> "
		           "topic (%s), so it has no schema; --raw sends unchecked bytes",
		           a->pos[0], gf_topic_fault_str(fault));
		goto out;
	}
	if (a->as == GFCTL_AS_JOSE) {
		if (gf_jwe_check_compact(text, text_len, NULL, 0, err, sizeof(err)) != GF_OK) {
			gf_log_err("GFCTL-INVALID", "not sent: not a sealed payload: %s", err);
			goto out;
		}
		if (!(*out = malloc(text_len ? text_len : 1)))
			goto out;
		memcpy(*out, text, text_len);
		*out_len = text_len;
		status = GFCTL_EXIT_OK;
		goto out;
	}
	d = gf_schema_find(t.msg.p, t.msg.len);
	if (!d) {
		gf_log_err("GFCTL-INVALID", "not sent: no schema for message type '%.*s'",
		           (int)t.msg.len, t.msg.p);
		goto out;
	}
	rc = gf_codec_from_json(d, text, text_len, &msg, err, sizeof(err));
	if (rc == GF_OK && gf_validate(msg, err, sizeof(err)) != GF_OK)
		rc = GF_EPARSE;
	if (rc != GF_OK) {
		gf_log_err("GFCTL-INVALID", "not sent: invalid %.*s: %s", (int)t.msg.len, t.msg.p,
		           rc == GF_ENOMEM ? gf_strerror(rc) : err);
		goto out;
	}
	rc = gf_codec_encode(gfctl_commands_format(a->as), msg, out, out_len);
	if (rc != GF_OK) {
		gf_log_err("GFCTL-INVALID", "not sent: cannot encode as %s: %s", as_names[a->as],
		           gf_strerror(rc));
		goto out;
	}
	status = GFCTL_EXIT_OK;
out:
	gf_codec_free(msg);
	return status;
}

int gfctl_commands_pub(const struct gfctl_args *a)
{
	struct gfctl_conn *c = NULL;
	char err[ERRLEN], *text = NULL;
	void *payload = NULL;
	size_t text_len = 0, len = 0;
	int status = GFCTL_EXIT_FAIL, reason = 0;
	enum gf_err rc;

	rc = gfctl_commands_read_input(a->pos[1], true, &text, &text_len, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GFCTL-INPUT", "%s", rc == GF_ENOMEM ? gf_strerror(rc) : err);
		goto out;
	}
	if (!a->raw) {
		status = prepare_payload(a, text, text_len, &payload, &len);
		if (status != GFCTL_EXIT_OK)
			goto out;
	}
	rc = gfctl_connect_open(&a->conn, &c, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err(rc == GF_EINVAL ? "GFCTL-USAGE" : "GFCTL-CONNECT", "%s", err);
		status = rc == GF_EINVAL ? GFCTL_EXIT_USAGE : GFCTL_EXIT_FAIL;
		goto out;
	}
	rc = gfctl_connect_publish(c, a->pos[0], a->raw ? text : payload, a->raw ? text_len : len,
	                           gfctl_commands_content_type(a->as), a->qos, a->retain, &reason,
	                           err, sizeof(err));
	if (rc == GF_OK) {
		puts("published");
		status = GFCTL_EXIT_OK;
	} else if (rc == GF_EDENIED) {
		printf("refused: %s\n", err);
		status = GFCTL_EXIT_FAIL;
	} else {
		gf_log_err("GFCTL-PUBLISH", "%s", err);
		status = GFCTL_EXIT_FAIL;
	}
out:
	gfctl_connect_close(c);
	free(payload);
	free(text);
	return status;
}

/* --- presence ------------------------------------------------------------------ */

struct agent {
	char role[16];
	char id[GF_ID_MAX + 1];
	bool valid;
	const char *state;
	char *version;
	char *since;
	uint64_t sequence;
};

struct agents {
	struct agent *v;
	size_t n, cap;
};

static void agent_clear(struct agent *g)
{
	free(g->version);
	free(g->since);
	g->version = g->since = NULL;
}

static struct agent *agents_slot(struct agents *all, const struct gf_topic *t)
{
	struct agent *grown;
	size_t i;

	for (i = 0; i < all->n; i++)
		if (strcmp(all->v[i].role, gf_role_name(t->from_role)) == 0 &&
		    gf_sv_eq_str(t->from_id, all->v[i].id))
			return &all->v[i];
	if (all->n == all->cap) {
		grown = realloc(all->v, (all->cap ? all->cap * 2 : 16) * sizeof(*grown));
		if (!grown)
			return NULL;
		all->v = grown;
		all->cap = all->cap ? all->cap * 2 : 16;
	}
	memset(&all->v[all->n], 0, sizeof(all->v[0]));
	snprintf(all->v[all->n].role, sizeof(all->v[0].role), "%s", gf_role_name(t->from_role));
	snprintf(all->v[all->n].id, sizeof(all->v[0].id), "%.*s", (int)t->from_id.len,
	         t->from_id.p);
	return &all->v[all->n++];
}

/* Records one status message; an empty payload clears a retained one. */
static void presence_record(struct agents *all, const struct gfctl_msg *m)
{
	const ProtobufCMessageDescriptor *d = gf_schema_find("status", strlen("status"));
	enum gf_codec_format format;
	ProtobufCMessage *msg = NULL;
	char err[GF_CODEC_ERRLEN];
	struct gf_topic t;
	struct agent *g;
	const Goflex__Presence *p;

	if (gf_topic_parse(m->topic, &t, NULL) != GF_OK || m->len == 0)
		goto out;
	g = agents_slot(all, &t);
	if (!g) {
		gf_log_err("GFCTL-NOMEM", "out of memory");
		goto out;
	}
	agent_clear(g);
	g->valid = false;
	g->state = "invalid";
	g->sequence = 0;
	if (gf_codec_format_parse(m->content_type, &format) != GF_OK) {
		snprintf(err, sizeof(err), "unsupported Content Type '%s'", m->content_type);
	} else if (d != &goflex__presence__descriptor) {
		snprintf(err, sizeof(err), "the schema of 'status' is not goflex.Presence");
	} else if (gf_codec_decode(format, d, m->payload, m->len, &msg, err, sizeof(err)) ==
	           GF_OK) {
		p = (const Goflex__Presence *)msg;
		g->valid = true;
		g->state = p->state == GOFLEX__PRESENCE__STATE__online ? "online" : "offline";
		g->version = strdup(p->version ? p->version : "-");
		g->since = strdup(p->starttime ? p->starttime : "-");
		g->sequence = p->sequence;
		goto out;
	}
	scrub(err);
	gf_log_warning("GFCTL-PRESENCE", "undecodable status of %s.%s on '%s': %s", g->role, g->id,
	               m->topic, err);
out:
	gf_codec_free(msg);
}

static int agent_cmp(const void *pa, const void *pb)
{
	const struct agent *a = pa, *b = pb;
	int r = strcmp(a->role, b->role);

	return r ? r : strcmp(a->id, b->id);
}

static int width(int w, const char *s)
{
	int n = (int)strlen(s ? s : "-");

	return n > w ? n : w;
}

static void presence_print(struct agents *all)
{
	int wr = 4, wi = 2, ws = 5, wv = 7, wt = 5;
	size_t i;

	qsort(all->v, all->n, sizeof(all->v[0]), agent_cmp);
	for (i = 0; i < all->n; i++) {
		wr = width(wr, all->v[i].role);
		wi = width(wi, all->v[i].id);
		ws = width(ws, all->v[i].state);
		wv = width(wv, all->v[i].version);
		wt = width(wt, all->v[i].since);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", wr, "ROLE", wi, "ID", ws, "STATE", wv,
	       "VERSION", wt, "SINCE", "SEQUENCE");
	for (i = 0; i < all->n; i++) {
		const struct agent *g = &all->v[i];
		char seq[32] = "-";

		if (g->valid)
			snprintf(seq, sizeof(seq), "%" PRIu64, g->sequence);
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", wr, g->role, wi, g->id, ws, g->state,
		       wv, g->version ? g->version : "-", wt, g->since ? g->since : "-", seq);
	}
}

int gfctl_commands_presence(const struct gfctl_args *a)
{
	char cert_site[GF_SITE_MAX + 1] = "", ident[16 + GF_ID_MAX + 2];
	char filter[GF_SITE_MAX + 64], err[ERRLEN], *filters[1] = {filter};
	double seconds = a->timeout > 0 ? a->timeout : GFCTL_PRESENCE_SECONDS;
	struct agents all = {NULL, 0, 0};
	struct gfctl_conn *c = NULL;
	struct gfctl_msg *m = NULL;
	const char *site = a->site;
	struct timespec end;
	bool stopped = false;
	enum gf_err rc;
	int status;
	size_t i;

	if (!site) {
		rc = gfctl_connect_resolve(&a->conn, ident, sizeof(ident), cert_site, err,
		                           sizeof(err));
		if (rc != GF_OK) {
			gf_log_err(rc == GF_EINVAL ? "GFCTL-USAGE" : "GFCTL-CONNECT", "%s", err);
			status = rc == GF_EINVAL ? GFCTL_EXIT_USAGE : GFCTL_EXIT_FAIL;
			goto out;
		}
		if (!cert_site[0]) {
			gf_log_err("GFCTL-USAGE", "presence needs --site SITE (or a certificate, "
			                          "whose O= names the site)");
			status = GFCTL_EXIT_USAGE;
			goto out;
		}
		site = cert_site;
	}
	if (!gf_id_valid(site, strlen(site)) || strlen(site) > GF_SITE_MAX) {
		gf_log_err("GFCTL-USAGE", "--site '%s' is not a site name", site);
		status = GFCTL_EXIT_USAGE;
		goto out;
	}
	snprintf(filter, sizeof(filter), "gf/%s/+/+/ops/all/status", site);
	status = open_and_subscribe(a, filters, 1, &c);
	if (status != GFCTL_EXIT_OK)
		goto out;
	end = after_seconds(seconds);
	for (;;) {
		if (gfctl_connect_next(c, remaining_ms(&end), &m, &stopped, err, sizeof(err)) !=
		    GF_OK) {
			gf_log_err("GFCTL-LOST", "%s", err);
			status = GFCTL_EXIT_FAIL;
			goto out;
		}
		if (!m)
			break;
		presence_record(&all, m);
		gfctl_connect_msg_free(m);
		m = NULL;
	}
	if (all.n == 0)
		gf_log_notice("GFCTL-PRESENCE",
		              "no status message on %s within %g s (only ops may read them)",
		              filter, seconds);
	presence_print(&all);
out:
	gfctl_connect_msg_free(m);
	gfctl_connect_close(c);
	for (i = 0; i < all.n; i++)
		agent_clear(&all.v[i]);
	free(all.v);
	return status;
}
