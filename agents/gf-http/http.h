/* SPDX-License-Identifier: MIT */
/*
 * http.h - gf-http's modules share this: its configuration, the identities
 * it serves and what each module offers the others (docs/http.md).
 *
 * main.c     options, configuration, start (identities, their connections
 *            and stores, the HTTP server), the bus messages to each identity;
 * server.c   libmicrohttpd: requests in, authentication (bearer token or
 *            client certificate), responses out;
 * api.c      what each endpoint does, inside one transaction of the
 *            caller's identity's store;
 * request.c  routes, the xEMS CommunicationRequest and the FlexOffer bodies
 *            (no I/O: unit-tested and fuzzed);
 * ident.c    the identities file and the bearer tokens' hashes;
 * queue.c    the SQLite tables: replies waiting for their poll, the offers
 *            of the REST API with their acks and assignments.
 *
 * Every HTTP identity has its own MQTT connection (its own credentials,
 * session, inbox) and its own store bound to it (gf_store_bind): whatever
 * is done for an identity is published on its connection only, so the
 * broker's rules (the sender is the publisher) hold for HTTP clients too.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agent/agent.h"
#include "agent/store.h"
#include "base/err.h"
#include "bus/ident.h"
#include "flexoffer.pb-c.h"

#define HTTP_NAME_MAX     (16 + GF_ID_MAX + 2) /* "<role>.<id>" */
#define HTTP_OFFER_ID_MAX 128
#define HTTP_TOKEN_HASH   32 /* SHA-256 */

/* The agent's own keys (docs/http.md). */
struct http_conf {
	struct gf_agent_conf agent;
	char *listen_addr;
	long listen_port;
	char *tls_cert, *tls_key, *tls_ca, *crl;
	char *identities;
	char *bus_cert_dir, *bus_password_dir;
	char *fman_id;
	long resend_s;
	long max_body;
	long max_replies;
};

/* One identity served over HTTP. */
struct http_ident {
	char name[HTTP_NAME_MAX]; /* "<role>.<id>" */
	char role[16];
	char id[GF_ID_MAX + 1];
	unsigned char token[HTTP_TOKEN_HASH]; /* SHA-256 of its bearer token */
	bool has_token;
	char foa[GF_ID_MAX + 1]; /* xems: the FOA its packets go to */
	struct gf_bus *bus;      /* its own connection */
	struct gf_store *store;  /* its own state, bound to bus */
};

struct http {
	struct gf_agent *a;
	struct http_conf *conf;
	struct http_ident *ids;
	size_t n;
};

/* --- ident.c ------------------------------------------------------------- */

/* Reads the identities file: one identity a line, "<role>.<id> <token>
 * [foa=<id>]", <token> the lowercase hex SHA-256 of its bearer token or "-"
 * (client certificate only); "#" comments. Only roles xems and foa. *out
 * (malloc'd array, the caller frees) and *n are set. GF_EIO, GF_EPARSE
 * (err names the line; a token or its hash is never copied into err),
 * GF_ENOMEM. */
enum gf_err http_ident_load(const char *path, struct http_ident **out, size_t *n, char *err,
                            size_t errlen);
/* The identity whose token hashes to the SHA-256 of token (len bytes), or
 * NULL. Every identity's hash is compared, in constant time each. */
struct http_ident *http_ident_by_token(struct http_ident *ids, size_t n, const char *token,
                                       size_t len);
/* The identity named "<role>.<id>", or NULL. */
struct http_ident *http_ident_by_name(struct http_ident *ids, size_t n, const char *name);

/* --- request.c ------------------------------------------------------------ */

enum http_route_kind {
	HTTP_ROUTE_XEMS_REQUEST,    /* POST /v1/xems/request */
	HTTP_ROUTE_XEMS_REPLIES,    /* GET  /v1/xems/replies */
	HTTP_ROUTE_OFFER_LIST,      /* GET  /v1/flexoffers */
	HTTP_ROUTE_OFFER_POST,      /* POST /v1/flexoffers */
	HTTP_ROUTE_OFFER_GET,       /* GET  /v1/flexoffers/{id} */
	HTTP_ROUTE_OFFER_PUT,       /* PUT  /v1/flexoffers/{id} */
	HTTP_ROUTE_OFFER_DELETE,    /* DELETE /v1/flexoffers/{id} */
	HTTP_ROUTE_OFFER_ASSIGNMENT /* GET  /v1/flexoffers/{id}/assignment */
};

struct http_route {
	enum http_route_kind kind;
	char id[HTTP_OFFER_ID_MAX + 1]; /* the offer id of the path, or "" */
	const char *role;               /* the role that may use it: "xems" or "foa" */
};

/* Maps method and url (the path, without the query) to a route. Returns 0
 * and fills *out, or the HTTP status of the refusal (404 no such path, 405
 * a method the path does not take) with err saying why. */
int http_request_route(const char *method, const char *url, struct http_route *out, char *err,
                       size_t errlen);

/* Parses a whole number query value ("ack"): GF_OK and *out, or GF_EPARSE. */
enum gf_err http_request_uint(const char *s, int64_t *out);

#define HTTP_PACKETS_MAX 64

/* One information packet of a CommunicationRequest, as the message it is
 * on the bus: msg (xems.operation, xems.flexibility, xems.cancel) and its
 * JSON (malloc'd). */
struct http_packet {
	const char *msg;
	char *json;
	size_t len;
};

struct http_packets {
	struct http_packet v[HTTP_PACKETS_MAX];
	size_t n;
};

/* Splits a CommunicationRequest (D6.1 8.1) {"operationData": ...,
 * "flexibilityData": ..., "demandCancelation": ...} (each one packet or an
 * array of them) into packets, each checked as the broker checks its
 * message (payload.h): all or none. GF_OK; GF_EPARSE with err (the packet
 * and the codec's field path and reason); GF_ENOMEM. Free with
 * http_request_packets_free (also after a failure). */
enum gf_err http_request_packets(const char *body, size_t len, struct http_packets *out, char *err,
                                 size_t errlen);
void http_request_packets_free(struct http_packets *p);

/* A FlexOffer of the REST API from foa foa_id: body in the GOFLEX FMAN JSON
 * form. id: the path's id (PUT), else the body's, else new_id (POST).
 * offeredById is set to foa_id when absent, state to Offered. Returns 0
 * with *json (malloc'd, NUL-terminated, *len bytes) the offer as it goes
 * to FMAN, *fo its decoded form (gf_codec_free) and out_id; or the HTTP
 * status of the refusal (400 malformed or invalid, with the broker's
 * reason and field path; 403 an offer of another FOA) with err. */
int http_request_offer(const char *body, size_t len, const char *foa_id, const char *path_id,
                       const char *new_id, char **json, size_t *json_len, Goflex__FlexOffer **fo,
                       char *out_id, size_t id_size, char *err, size_t errlen);

/* --- queue.c ---------------------------------------------------------------- */

/* The tables (CREATE ... IF NOT EXISTS). */
extern const char http_queue_schema[];

/* Keeps a reply for the identity's next poll (inside the caller's
 * transaction): msg and its JSON, received (RFC 3339). GF_EIO. */
enum gf_err http_queue_reply_add(struct gf_store *s, const char *msg, const char *json,
                                 const char *received);
/* Forgets the replies up to seq ack (the client has them), then *out gets
 * a JSON array of every reply still waiting, oldest first, at most max,
 * each {"seq", "received", "msg", "reply"}; *last the highest seq in it
 * (ack when none). The caller owns *out (cJSON_Delete). GF_EIO, GF_ENOMEM. */
enum gf_err http_queue_replies(struct gf_store *s, int64_t ack, long max, cJSON **out,
                               int64_t *last);

/* An offer as the REST API keeps it. */
struct http_offer {
	char *id, *offer, *state, *reason, *schedule, *execution, *updated;
	bool accepted; /* FMAN accepted a version of it */
};
void http_queue_offer_clear(struct http_offer *o);
/* The offer id, or *found false. GF_EIO, GF_ENOMEM. */
enum gf_err http_queue_offer_get(struct gf_store *s, const char *id, struct http_offer *out,
                                 bool *found);
/* Records an offer sent to FMAN: a new one, an update (its content
 * replaced) or a cancellation, with its state (Offered or Canceled); the
 * reason is cleared. GF_EIO. */
enum gf_err http_queue_offer_put(struct gf_store *s, const char *id, const char *offer,
                                 const char *state, const char *now);
/* FMAN's ack: accepted makes Offered Accepted; a refusal makes an offer
 * never accepted Rejected and leaves an accepted one's state (a refused
 * update or delete); executed (state Executed) records execution (JSON or
 * NULL). The reason is kept. *found false for an unknown offer. GF_EIO. */
enum gf_err http_queue_offer_ack(struct gf_store *s, const char *id, bool accepted,
                                 const char *reason, bool executed, const char *execution,
                                 const char *now, bool *found);
/* FMAN's assignment: state Assigned and its schedule (JSON). *found false
 * for an unknown offer. GF_EIO. */
enum gf_err http_queue_offer_assign(struct gf_store *s, const char *id, const char *schedule,
                                    const char *now, bool *found);
/* The ids of every offer, oldest first, as a JSON array of {"id",
 * "state"} (cJSON_Delete). GF_EIO, GF_ENOMEM. */
enum gf_err http_queue_offer_list(struct gf_store *s, cJSON **out);
/* The next number for an offer id gf-http gives (persisted). GF_EIO. */
enum gf_err http_queue_next_number(struct gf_store *s, int64_t *n);

/* --- api.c ------------------------------------------------------------------ */

/* An answer to an HTTP request. */
struct http_answer {
	int status;
	char *body;                            /* JSON, malloc'd */
	char location[HTTP_OFFER_ID_MAX + 32]; /* Location header, or "" */
	char why[512];                         /* an error's reason, for the log */
};

/* Does what route asks for identity id (authenticated, of the route's
 * role) with body (len bytes) and the query's ack (-1: none), inside one
 * transaction of the identity's store; what it publishes goes through that
 * store's outbox after the commit. Fills *ans (the caller frees body). */
void http_api_handle(struct http *h, struct http_ident *id, const struct http_route *route,
                     const char *body, size_t len, int64_t ack, struct http_answer *ans);
/* An error answer {"error": why} with status. */
void http_api_error(struct http_answer *ans, int status, const char *why);

/* --- server.c --------------------------------------------------------------- */

/* Starts the HTTP(S) server on listen_addr:listen_port in the agent's loop
 * (libmicrohttpd's epoll descriptor, gf_agent_watch). GF_EIO (logged),
 * GF_EINVAL for unusable TLS files (logged). */
enum gf_err http_server_start(struct http *h);
/* Stops it (accepts being called when it never started). */
void http_server_stop(void);

/* --- inbound.c -------------------------------------------------------------- */

/* A bus message to identity id: foa.reply (xems) queued for the next poll;
 * flexoffer.ack and flexoffer.assign (foa) recorded against the offer and
 * answered as an FOA answers (the echo). One transaction per message. */
void http_inbound_message(struct http *h, struct http_ident *id, const struct gf_inbox_item *item);

#endif
