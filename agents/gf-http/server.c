/* SPDX-License-Identifier: MIT */
/*
 * server.c - the HTTP(S) server (libmicrohttpd) in the agent's one thread:
 * libmicrohttpd runs without threads of its own (MHD_USE_EPOLL, external
 * loop); its epoll descriptor is watched by the agent's loop
 * (gf_agent_watch) and a timer calls it again when it asks (connection
 * timeouts, work already buffered). So every request is handled on the
 * thread that owns the identities' stores and connections, like a bus
 * message.
 *
 * Authentication, before anything else:
 * - a client certificate of the site CA (TLS with tls_ca): verified by
 *   GnuTLS against the CA, its identity read from the subject as the broker
 *   reads it (O=<site>, OU=<role>, CN=<id>, lib/bus/certid), refused when
 *   the CRL lists it;
 * - or a bearer token (Authorization: Bearer <token>), hashed and compared
 *   with the identities file's hashes (ident.c).
 * Both given must name the same identity. No token is ever logged.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "http.h"
#include "base/file.h"
#include "base/log.h"
#include "bus/certid.h"

#define PEM_MAX (1 << 20)

/* The server of this process (one per agent). */
static struct {
	struct http *h;
	struct MHD_Daemon *d;
	char *cert, *key, *ca; /* PEM, kept for the daemon's life */
	size_t key_len;
	struct gf_crl *crl;
	uint64_t timer;
	int port;
} S;

/* One request in progress. */
struct conn {
	char *body;
	size_t len, cap;
	bool too_big;
};

static enum MHD_Result respond(struct MHD_Connection *c, struct http_answer *ans)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *body = ans->body ? ans->body : strdup("{}");

	ans->body = NULL;
	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (ans->location[0])
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, ans->location);
	if (ans->status == 401)
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                              "Bearer realm=\"goflex\"");
	ret = MHD_queue_response(c, (unsigned)ans->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The identity of the connection's client certificate: 0 and *out (NULL
 * when there is none), or the status of the refusal with err. */
static int from_certificate(struct MHD_Connection *c, struct http_ident **out, char *err,
                            size_t errlen)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	gnutls_session_t s;
	struct gf_cert_identity cid;
	const unsigned char *p;
	enum gf_reason why;
	unsigned int n = 0, status = 0;
	X509 *x;

	*out = NULL;
	if (!S.ca)
		return 0;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	s = ci ? (gnutls_session_t)ci->tls_session : NULL;
	peers = s ? gnutls_certificate_get_peers(s, &n) : NULL;
	if (!peers || n == 0)
		return 0;
	if (gnutls_certificate_verify_peers2(s, &status) < 0 || status != 0) {
		snprintf(err, errlen,
		         "the client certificate is not a valid certificate of the "
		         "site CA");
		return 401;
	}
	p = peers[0].data;
	x = d2i_X509(NULL, &p, (long)peers[0].size);
	if (!x) {
		snprintf(err, errlen, "the client certificate does not parse");
		return 401;
	}
	why = gf_certid_read(x, S.h->conf->agent.site, &cid);
	X509_free(x);
	if (why != GF_REASON_ALLOW) {
		snprintf(err, errlen, "client certificate: %s", gf_reason_text(why));
		return 401;
	}
	if (gf_crl_revoked(S.crl, cid.serial, cid.serial_len)) {
		snprintf(err, errlen, "the client certificate of %s is revoked", cid.username);
		return 401;
	}
	*out = http_ident_by_name(S.h->ids, S.h->n, cid.username);
	if (!*out) {
		snprintf(err, errlen, "%s is not an identity this gf-http serves", cid.username);
		return 403;
	}
	return 0;
}

/* Who sends this request: 0 and *out, or the refusal's status with err. */
static int authenticate(struct MHD_Connection *c, struct http_ident **out, char *err, size_t errlen)
{
	const char *auth =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	struct http_ident *by_cert = NULL, *by_token;
	int status = from_certificate(c, &by_cert, err, errlen);

	if (status)
		return status;
	if (!auth) {
		if (by_cert) {
			*out = by_cert;
			return 0;
		}
		snprintf(err, errlen,
		         "no credentials: a bearer token (Authorization: Bearer ...)%s",
		         S.ca ? " or a client certificate of the site CA" : "");
		return 401;
	}
	if (strncasecmp(auth, "Bearer ", 7) != 0) {
		snprintf(err, errlen, "the Authorization header takes a Bearer token");
		return 401;
	}
	auth += 7;
	auth += strspn(auth, " ");
	by_token = http_ident_by_token(S.h->ids, S.h->n, auth, strlen(auth));
	if (!by_token) {
		snprintf(err, errlen, "unknown bearer token");
		return 401;
	}
	if (by_cert && by_cert != by_token) {
		snprintf(err, errlen,
		         "the bearer token and the client certificate name different "
		         "identities");
		return 401;
	}
	*out = by_token;
	return 0;
}

static void refused(const char *method, const char *url, const struct http_ident *id,
                    const struct http_answer *ans)
{
	gf_log_info("GF-HTTP-REFUSED", "%.8s %.100s by %s: %d %s", method, url,
	            id ? id->name : "(unauthenticated)", ans->status, ans->why);
}

/* The whole request is in: authenticate, route, act, answer. */
static enum MHD_Result finish(struct MHD_Connection *c, const char *method, const char *url,
                              struct conn *k)
{
	struct http_answer ans = {.status = 0};
	struct http_route route;
	struct http_ident *id = NULL;
	const char *ack_text;
	int64_t ack = -1;
	char err[512];
	int status;

	status = authenticate(c, &id, err, sizeof(err));
	if (!status)
		status = http_request_route(method, url, &route, err, sizeof(err));
	if (!status && strcmp(route.role, id->role) != 0) {
		snprintf(err, sizeof(err), "%s: this path is for role %s, not %s", id->name,
		         route.role, id->role);
		status = 403;
	}
	if (!status && k->too_big) {
		snprintf(err, sizeof(err), "the body is larger than max_body (%ld bytes)",
		         S.h->conf->max_body);
		status = 413;
	}
	ack_text = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ack");
	if (!status && ack_text && http_request_uint(ack_text, &ack) != GF_OK) {
		snprintf(err, sizeof(err), "ack: a whole number (the last seq the client holds)");
		status = 400;
	}
	if (status)
		http_api_error(&ans, status, err);
	else
		http_api_handle(S.h, id, &route, k->body ? k->body : "", k->len, ack, &ans);
	if (ans.status >= 400)
		refused(method, url, id, &ans);
	else
		gf_log_debug("GF-HTTP-REQUEST", "%.8s %.100s by %s: %d", method, url, id->name,
		             ans.status);
	return respond(c, &ans);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	struct conn *k = *con_cls;
	size_t room;
	char *grown;

	(void)cls;
	(void)version;
	if (!k) {
		if (!(k = calloc(1, sizeof(*k))))
			return MHD_NO;
		*con_cls = k;
		return MHD_YES;
	}
	if (*upload_size) {
		room = (size_t)S.h->conf->max_body - k->len;
		if (k->too_big || *upload_size > room) {
			k->too_big = true;
		} else {
			if (k->len + *upload_size + 1 > k->cap) {
				size_t cap = (k->len + *upload_size + 1) * 2;
				if (!(grown = realloc(k->body, cap)))
					return MHD_NO;
				k->body = grown;
				k->cap = cap;
			}
			memcpy(k->body + k->len, upload, *upload_size);
			k->len += *upload_size;
			k->body[k->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return finish(c, method, url, k);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
	struct conn *k = *con_cls;

	(void)cls;
	(void)c;
	(void)code;
	if (k) {
		free(k->body);
		free(k);
	}
	*con_cls = NULL;
}

static void run(struct gf_agent *a, void *arg);

/* Runs libmicrohttpd until it has nothing ready, then arms a timer for when
 * it wants to run again (at most 1 s away). */
static void run(struct gf_agent *a, void *arg)
{
	MHD_UNSIGNED_LONG_LONG ms = 1000;
	double scale = (double)S.h->conf->agent.time_scale;

	(void)arg;
	if (S.timer)
		gf_agent_timer_cancel(a, S.timer);
	S.timer = 0;
	if (!S.d) /* stopped (SIGTERM): the drain may still run timers */
		return;
	for (int i = 0; i < 16; i++) {
		(void)MHD_run(S.d);
		if (MHD_get_timeout(S.d, &ms) != MHD_YES)
			ms = 1000;
		if (ms > 0)
			break;
	}
	if (ms > 1000)
		ms = 1000;
	/* Timers run on simulated time. */
	S.timer = gf_agent_timer_at(a, gf_agent_now(a) + (double)ms / 1000.0 * scale, run, NULL);
}

static enum gf_err read_pem(const char *path, char **out, size_t *len)
{
	char err[512];
	enum gf_err rc = gf_file_read(path, PEM_MAX, out, len, err, sizeof(err));

	if (rc != GF_OK)
		gf_log_err("GF-HTTP-CONFIG", "%s", err);
	return rc;
}

static enum gf_err load_tls(const struct http_conf *c)
{
	char err[512];
	size_t len = 0;
	enum gf_err rc;

	if (!c->tls_cert && !c->tls_key && !c->tls_ca)
		return GF_OK;
	if (!c->tls_cert || !c->tls_key) {
		gf_log_err("GF-HTTP-CONFIG", "HTTPS needs tls_cert and tls_key (tls_ca adds client "
		                             "certificates)");
		return GF_EINVAL;
	}
	if ((rc = read_pem(c->tls_cert, &S.cert, &len)) != GF_OK ||
	    (rc = read_pem(c->tls_key, &S.key, &S.key_len)) != GF_OK)
		return rc;
	if (c->tls_ca && (rc = read_pem(c->tls_ca, &S.ca, &len)) != GF_OK)
		return rc;
	if (c->crl) {
		if (!c->tls_ca) {
			gf_log_err("GF-HTTP-CONFIG", "crl is for client certificates: set tls_ca");
			return GF_EINVAL;
		}
		rc = gf_crl_load(c->crl, &S.crl, err, sizeof(err));
		if (rc != GF_OK) {
			gf_log_err("GF-HTTP-CONFIG", "%s", err);
			return rc;
		}
	}
	return GF_OK;
}

enum gf_err http_server_start(struct http *h)
{
	const struct http_conf *c = h->conf;
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	enum gf_err rc;

	S.h = h;
	if (inet_pton(AF_INET, c->listen_addr, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)c->listen_port);
	} else if (inet_pton(AF_INET6, c->listen_addr, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)c->listen_port);
		flags |= MHD_USE_IPv6;
	} else {
		gf_log_err("GF-HTTP-CONFIG", "listen_addr %s is not an IPv4 or IPv6 address",
		           c->listen_addr);
		return GF_EINVAL;
	}
	if ((rc = load_tls(c)) != GF_OK)
		return rc;
	if (S.cert)
		flags |= MHD_USE_TLS;
	S.d = MHD_start_daemon(
	    flags, (uint16_t)c->listen_port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)512, S.cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, S.cert,
	    MHD_OPTION_HTTPS_MEM_KEY, S.key, S.ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END,
	    S.ca, MHD_OPTION_END);
	if (!S.d) {
		gf_log_err("GF-HTTP-LISTEN", "cannot listen on %s port %ld%s", c->listen_addr,
		           c->listen_port, S.cert ? " (or the TLS files are not usable)" : "");
		return GF_EIO;
	}
	info = MHD_get_daemon_info(S.d, MHD_DAEMON_INFO_BIND_PORT);
	S.port = info ? info->port : (int)c->listen_port;
	info = MHD_get_daemon_info(S.d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || (rc = gf_agent_watch(h->a, info->epoll_fd, run, NULL)) != GF_OK) {
		gf_log_err("GF-HTTP-LISTEN", "cannot watch the HTTP server's descriptor");
		return GF_EIO;
	}
	run(h->a, NULL);
	gf_log_notice("GF-HTTP-LISTEN", "%s on %s port %d%s", S.cert ? "HTTPS" : "HTTP",
	              c->listen_addr, S.port, S.ca ? ", client certificates of the site CA" : "");
	return GF_OK;
}

void http_server_stop(void)
{
	/* Its timer may still fire during the drain: run() sees no daemon. */
	S.timer = 0;
	if (S.d)
		MHD_stop_daemon(S.d);
	S.d = NULL;
	if (S.key)
		OPENSSL_cleanse(S.key, S.key_len);
	free(S.key);
	free(S.cert);
	free(S.ca);
	gf_crl_free(S.crl);
	S.key = S.cert = S.ca = NULL;
	S.crl = NULL;
}
