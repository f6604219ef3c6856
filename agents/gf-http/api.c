/* SPDX-License-Identifier: MIT */
/*
 * api.c - what each endpoint does (docs/http.md), for one authenticated
 * identity, inside one transaction of that identity's own store
 * (gf_store_once): the state change and the messages to publish (the
 * store's outbox, bound to the identity's own connection) commit together,
 * and the client hears 2xx only after the commit. A kill -9 before it
 * leaves nothing (the client got no answer and sends again); after it,
 * the outbox goes out at the next start.
 *
 * An offer of the REST API is sent to FMAN as gf-foa sends its own: kept
 * in the resend table until FMAN's ack names its version (label and
 * creationInterval), so a broker that loses it is repaired by the resend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "payload/codec.h"

void http_api_error(struct http_answer *ans, int status, const char *why)
{
	cJSON *o = cJSON_CreateObject();

	ans->status = status;
	ans->body = NULL;
	snprintf(ans->why, sizeof(ans->why), "%s", why);
	if (o && cJSON_AddNumberToObject(o, "status", status) &&
	    cJSON_AddStringToObject(o, "error", why))
		ans->body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
}

/* Sets ans to status with o as its body; takes o. */
static void answer_json(struct http_answer *ans, int status, cJSON *o)
{
	ans->status = status;
	ans->body = o ? cJSON_PrintUnformatted(o) : NULL;
	if (!ans->body)
		http_api_error(ans, 500, "out of memory");
	cJSON_Delete(o);
}

/* One request's work, for gf_store_once. */
struct call {
	struct http *h;
	struct http_ident *id;
	const struct http_route *route;
	const char *body;
	size_t len;
	int64_t ack;
	struct http_answer *ans;
	char now[40];
};

static void now_text(struct http *h, char *buf, size_t size)
{
	if (gf_time_format((int64_t)(gf_agent_now(h->a) * 1000), buf, size) != GF_OK)
		snprintf(buf, size, "?");
}

/* --- xEMS ------------------------------------------------------------------- */

static enum gf_err xems_request(struct call *c)
{
	struct http_packets p = {.n = 0};
	char topic[512], err[1024];
	enum gf_err rc = GF_OK;
	cJSON *o;

	rc = http_request_packets(c->body, c->len, &p, err, sizeof(err));
	if (rc != GF_OK) {
		http_api_error(c->ans, rc == GF_ENOMEM ? 500 : 400,
		               rc == GF_ENOMEM ? "out of memory" : err);
		http_request_packets_free(&p);
		return rc == GF_ENOMEM ? rc : GF_OK;
	}
	for (size_t i = 0; i < p.n && rc == GF_OK; i++) {
		rc = gf_bus_topic(c->id->bus, topic, sizeof(topic), "foa", c->id->foa, p.v[i].msg);
		if (rc == GF_OK)
			rc = gf_store_outbox_add(c->id->store, topic, p.v[i].json, p.v[i].len, NULL,
			                         false);
	}
	if (rc == GF_OK) {
		o = cJSON_CreateObject();
		snprintf(topic, sizeof(topic), "foa.%s", c->id->foa);
		if (o && (!cJSON_AddNumberToObject(o, "accepted", (double)p.n) ||
		          !cJSON_AddStringToObject(o, "to", topic))) {
			cJSON_Delete(o);
			o = NULL;
		}
		answer_json(c->ans, 202, o);
		gf_log_info("GF-HTTP-XEMS", "%s: %zu packet(s) to foa.%s", c->id->name, p.n,
		            c->id->foa);
	}
	http_request_packets_free(&p);
	return rc;
}

static enum gf_err xems_replies(struct call *c)
{
	cJSON *arr = NULL, *o;
	int64_t last = 0;
	enum gf_err rc;

	rc = http_queue_replies(c->id->store, c->ack < 0 ? 0 : c->ack, c->h->conf->max_replies,
	                        &arr, &last);
	if (rc != GF_OK)
		return rc;
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToObject(o, "replies", arr)) {
		cJSON_Delete(arr);
		cJSON_Delete(o);
		return GF_ENOMEM;
	}
	if (!cJSON_AddNumberToObject(o, "last", (double)last)) {
		cJSON_Delete(o);
		return GF_ENOMEM;
	}
	answer_json(c->ans, 200, o);
	return GF_OK;
}

/* --- offers ------------------------------------------------------------------ */

static bool is_final(const char *state)
{
	return strcmp(state, "Assigned") == 0 || strcmp(state, "Executed") == 0 ||
	       strcmp(state, "Canceled") == 0;
}

/* Queues json (offer fo, id) to FMAN, keeps it for the resends until an
 * ack names this version, and records it with state. */
static enum gf_err send_offer(struct call *c, const char *oid, const Goflex__FlexOffer *fo,
                              const char *json, size_t len, const char *state)
{
	char topic[512], key[HTTP_OFFER_ID_MAX + 16], tok[512];
	enum gf_err rc;

	rc = gf_bus_topic(c->id->bus, topic, sizeof(topic), "fman", c->h->conf->fman_id,
	                  "flexoffer");
	if (rc != GF_OK)
		return rc;
	snprintf(key, sizeof(key), "offer:%s", oid);
	/* What FMAN echoes in its ack of this version (gf-foa's token). */
	snprintf(tok, sizeof(tok), "%s|%lld", fo->label ? fo->label : "",
	         (long long)fo->creationinterval);
	rc = gf_resend_keep(c->id->store, key, tok, topic, json, len);
	if (rc == GF_OK)
		rc = http_queue_offer_put(c->id->store, oid, json, state, c->now);
	return rc;
}

static void answer_offer_state(struct call *c, int status, const char *oid, const char *state)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddStringToObject(o, "id", oid) ||
	          !cJSON_AddStringToObject(o, "state", state))) {
		cJSON_Delete(o);
		o = NULL;
	}
	snprintf(c->ans->location, sizeof(c->ans->location), "/v1/flexoffers/%s", oid);
	answer_json(c->ans, status, o);
}

static enum gf_err offer_post(struct call *c)
{
	struct http_offer old = {0};
	Goflex__FlexOffer *fo = NULL;
	char new_id[HTTP_OFFER_ID_MAX + 1], oid[HTTP_OFFER_ID_MAX + 1], err[1024], *json = NULL;
	bool put = c->route->kind == HTTP_ROUTE_OFFER_PUT, found = false;
	int64_t n = 0;
	size_t len = 0;
	enum gf_err rc = GF_OK;
	int status;

	new_id[0] = '\0';
	if (!put) {
		if ((rc = http_queue_next_number(c->id->store, &n)) != GF_OK)
			return rc;
		snprintf(new_id, sizeof(new_id), "%s-h%lld", c->id->id, (long long)n);
	}
	status = http_request_offer(c->body, c->len, c->id->id, put ? c->route->id : NULL, new_id,
	                            &json, &len, &fo, oid, sizeof(oid), err, sizeof(err));
	if (status) {
		http_api_error(c->ans, status, err);
		return GF_OK;
	}
	if ((rc = http_queue_offer_get(c->id->store, oid, &old, &found)) != GF_OK)
		goto out;
	if (put && !found) {
		snprintf(err, sizeof(err), "no offer %s of %s (POST makes one)", oid, c->id->name);
		http_api_error(c->ans, 404, err);
	} else if (!put && found) {
		snprintf(err, sizeof(err), "offer %s exists (PUT updates it)", oid);
		http_api_error(c->ans, 409, err);
	} else if (found && is_final(old.state)) {
		snprintf(err, sizeof(err), "offer %s is %s; it can no longer be updated", oid,
		         old.state);
		http_api_error(c->ans, 409, err);
	} else {
		rc = send_offer(c, oid, fo, json, len, "Offered");
		if (rc == GF_OK) {
			answer_offer_state(c, put ? 202 : 201, oid, "Offered");
			gf_log_info("GF-HTTP-OFFER", "%s: offer %s %s to fman.%s", c->id->name, oid,
			            put ? "updated" : "sent", c->h->conf->fman_id);
		}
	}
out:
	http_queue_offer_clear(&old);
	gf_codec_free((ProtobufCMessage *)fo);
	free(json);
	return rc;
}

static enum gf_err offer_delete(struct call *c, const struct http_offer *o)
{
	ProtobufCMessage *m = NULL;
	char err[GF_CODEC_ERRLEN], *json = NULL;
	size_t len = 0;
	enum gf_err rc;

	if (strcmp(o->state, "Canceled") == 0) {
		answer_offer_state(c, 200, o->id, o->state);
		return GF_OK;
	}
	if (is_final(o->state)) {
		snprintf(err, sizeof(err), "offer %s is %s; it can no longer be canceled", o->id,
		         o->state);
		http_api_error(c->ans, 409, err);
		return GF_OK;
	}
	rc = gf_codec_from_json(&goflex__flex_offer__descriptor, o->offer, strlen(o->offer), &m,
	                        err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-HTTP-STORE", "stored offer %s does not decode: %s", o->id, err);
		return rc;
	}
	((Goflex__FlexOffer *)m)->state = GOFLEX__FLEX_OFFER_STATE__Canceled;
	rc = gf_codec_to_json(m, &json, &len);
	if (rc == GF_OK)
		rc = send_offer(c, o->id, (Goflex__FlexOffer *)m, json, len, "Canceled");
	if (rc == GF_OK) {
		answer_offer_state(c, 202, o->id, "Canceled");
		gf_log_info("GF-HTTP-OFFER", "%s: offer %s canceled", c->id->name, o->id);
	}
	free(json);
	gf_codec_free(m);
	return rc;
}

/* Replaces (or adds) key of o with v (taken; NULL: nothing). */
static bool put_item(cJSON *o, const char *key, cJSON *v)
{
	if (!v)
		return true;
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
	return cJSON_AddItemToObject(o, key, v);
}

/* The offer in the GOFLEX FMAN form, with its state, stateReason and
 * flexOfferSchedule as FMAN's answers made them. */
static void offer_read(struct call *c, const struct http_offer *o)
{
	cJSON *doc = cJSON_Parse(o->offer);
	bool ok = doc && put_item(doc, "state", cJSON_CreateString(o->state)) &&
	          put_item(doc, "stateReason",
	                   o->reason ? cJSON_CreateString(o->reason) : cJSON_CreateNull()) &&
	          put_item(doc, "flexOfferSchedule",
	                   o->schedule ? cJSON_Parse(o->schedule) : cJSON_CreateNull()) &&
	          put_item(doc, "execution", o->execution ? cJSON_Parse(o->execution) : NULL);

	if (!ok) {
		cJSON_Delete(doc);
		http_api_error(c->ans, 500, "out of memory");
		return;
	}
	answer_json(c->ans, 200, doc);
}

static void offer_assignment(struct call *c, const struct http_offer *o)
{
	char err[256];
	cJSON *doc;

	if (!o->schedule) {
		snprintf(err, sizeof(err), "offer %s has no assignment (state %s)", o->id,
		         o->state);
		http_api_error(c->ans, 404, err);
		return;
	}
	doc = cJSON_CreateObject();
	if (doc && (!cJSON_AddStringToObject(doc, "flexOfferId", o->id) ||
	            !put_item(doc, "flexOfferSchedule", cJSON_Parse(o->schedule)) ||
	            !cJSON_AddStringToObject(doc, "state", o->state))) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	answer_json(c->ans, 200, doc);
}

/* GET, DELETE and the assignment: the caller's own offer of the path. */
static enum gf_err offer_one(struct call *c)
{
	struct http_offer o = {0};
	char err[256];
	bool found = false;
	enum gf_err rc;

	rc = http_queue_offer_get(c->id->store, c->route->id, &o, &found);
	if (rc != GF_OK)
		return rc;
	if (!found) {
		/* Another FOA's offer is not found either: its store is not
		 * this identity's, and whether it exists is not ours to say. */
		snprintf(err, sizeof(err), "no offer %s of %s", c->route->id, c->id->name);
		http_api_error(c->ans, 404, err);
		return GF_OK;
	}
	if (c->route->kind == HTTP_ROUTE_OFFER_DELETE)
		rc = offer_delete(c, &o);
	else if (c->route->kind == HTTP_ROUTE_OFFER_ASSIGNMENT)
		offer_assignment(c, &o);
	else
		offer_read(c, &o);
	http_queue_offer_clear(&o);
	return rc;
}

static enum gf_err offer_list(struct call *c)
{
	cJSON *arr = NULL, *o;
	enum gf_err rc = http_queue_offer_list(c->id->store, &arr);

	if (rc != GF_OK)
		return rc;
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToObject(o, "flexOffers", arr)) {
		cJSON_Delete(arr);
		cJSON_Delete(o);
		return GF_ENOMEM;
	}
	answer_json(c->ans, 200, o);
	return GF_OK;
}

static enum gf_err run(void *arg)
{
	struct call *c = arg;

	switch (c->route->kind) {
	case HTTP_ROUTE_XEMS_REQUEST:
		return xems_request(c);
	case HTTP_ROUTE_XEMS_REPLIES:
		return xems_replies(c);
	case HTTP_ROUTE_OFFER_LIST:
		return offer_list(c);
	case HTTP_ROUTE_OFFER_POST:
	case HTTP_ROUTE_OFFER_PUT:
		return offer_post(c);
	case HTTP_ROUTE_OFFER_GET:
	case HTTP_ROUTE_OFFER_DELETE:
	case HTTP_ROUTE_OFFER_ASSIGNMENT:
		return offer_one(c);
	}
	return GF_EINVAL;
}

void http_api_handle(struct http *h, struct http_ident *id, const struct http_route *route,
                     const char *body, size_t len, int64_t ack, struct http_answer *ans)
{
	struct call c = {
	    .h = h, .id = id, .route = route, .body = body, .len = len, .ack = ack, .ans = ans};
	enum gf_err rc;

	*ans = (struct http_answer){.status = 0};
	now_text(h, c.now, sizeof(c.now));
	rc = gf_store_once(h->a, id->store, NULL, run, NULL, &c);
	if (rc != GF_OK) {
		/* The store failed: the agent stops (gf_store_once said so) and
		 * nothing of this request was kept. */
		free(ans->body);
		http_api_error(ans, 503, "gf-http cannot keep this request now; send it again");
		return;
	}
	if (!ans->status)
		http_api_error(ans, 500, "no answer");
	(void)gf_store_outbox_flush(id->store, id->bus);
}
