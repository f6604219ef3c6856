/* SPDX-License-Identifier: MIT */
/*
 * request.c - what an HTTP request says, before anything acts on it: its
 * route, the packets of an xEMS CommunicationRequest (D6.1 8.1) and a
 * FlexOffer of the REST API (8.2). No I/O; every refusal says why.
 *
 * Payloads are checked with gf_payload_check, the broker's own decision,
 * so an HTTP client gets the same reason (and field path) as an MQTT client
 * would find in the broker's log: nothing reaches the bus that the broker
 * would refuse.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "payload/codec.h"
#include "payload/payload.h"

#define PREFIX_OFFERS "/v1/flexoffers"

static bool offer_id_valid(const char *s, size_t len)
{
	if (len == 0 || len > HTTP_OFFER_ID_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

static int method_refused(const char *method, const char *url, const char *allowed, char *err,
                          size_t errlen)
{
	snprintf(err, errlen, "%s takes %s, not %.16s", url, allowed, method);
	return 405;
}

int http_request_route(const char *method, const char *url, struct http_route *out, char *err,
                       size_t errlen)
{
	struct http_route r = {.id = ""};
	const char *p, *slash;
	size_t n = sizeof(PREFIX_OFFERS) - 1;

	if (strcmp(url, "/v1/xems/request") == 0) {
		if (strcmp(method, "POST") != 0)
			return method_refused(method, url, "POST", err, errlen);
		r.kind = HTTP_ROUTE_XEMS_REQUEST;
		r.role = "xems";
	} else if (strcmp(url, "/v1/xems/replies") == 0) {
		if (strcmp(method, "GET") != 0)
			return method_refused(method, url, "GET", err, errlen);
		r.kind = HTTP_ROUTE_XEMS_REPLIES;
		r.role = "xems";
	} else if (strcmp(url, PREFIX_OFFERS) == 0) {
		r.role = "foa";
		if (strcmp(method, "GET") == 0)
			r.kind = HTTP_ROUTE_OFFER_LIST;
		else if (strcmp(method, "POST") == 0)
			r.kind = HTTP_ROUTE_OFFER_POST;
		else
			return method_refused(method, url, "GET or POST", err, errlen);
	} else if (strncmp(url, PREFIX_OFFERS "/", n + 1) == 0) {
		p = url + n + 1;
		slash = strchr(p, '/');
		size_t idlen = slash ? (size_t)(slash - p) : strlen(p);
		if (!offer_id_valid(p, idlen)) {
			snprintf(err, errlen,
			         "not an offer id (letters, digits, '.', '_', '-', at most %d)",
			         HTTP_OFFER_ID_MAX);
			return 404;
		}
		memcpy(r.id, p, idlen);
		r.id[idlen] = '\0';
		r.role = "foa";
		if (slash && strcmp(slash, "/assignment") == 0) {
			if (strcmp(method, "GET") != 0)
				return method_refused(method, "an assignment", "GET", err, errlen);
			r.kind = HTTP_ROUTE_OFFER_ASSIGNMENT;
		} else if (slash) {
			snprintf(err, errlen, "no such path (an offer has /assignment only)");
			return 404;
		} else if (strcmp(method, "GET") == 0) {
			r.kind = HTTP_ROUTE_OFFER_GET;
		} else if (strcmp(method, "PUT") == 0) {
			r.kind = HTTP_ROUTE_OFFER_PUT;
		} else if (strcmp(method, "DELETE") == 0) {
			r.kind = HTTP_ROUTE_OFFER_DELETE;
		} else {
			return method_refused(method, "an offer", "GET, PUT or DELETE", err,
			                      errlen);
		}
	} else {
		snprintf(err, errlen,
		         "no such path: /v1/xems/request, /v1/xems/replies, /v1/flexoffers[/<id>[/"
		         "assignment]]");
		return 404;
	}
	*out = r;
	return 0;
}

enum gf_err http_request_uint(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return GF_EPARSE;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return GF_EPARSE;
	*out = v;
	return GF_OK;
}

/* --- xEMS CommunicationRequest ------------------------------------------------ */

static const struct {
	const char *key, *msg;
} packet_kinds[] = {
    {"operationData", "xems.operation"},
    {"flexibilityData", "xems.flexibility"},
    {"demandCancelation", "xems.cancel"},
};

void http_request_packets_free(struct http_packets *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].json);
	p->n = 0;
}

/* Adds one packet (item, of msg) after checking it as the broker would;
 * where names it for err ("flexibilityData[1]"). */
static enum gf_err add_packet(struct http_packets *out, const cJSON *item, const char *msg,
                              const char *where, char *err, size_t errlen)
{
	char why[GF_CODEC_ERRLEN];
	char *json;
	enum gf_err rc;

	if (out->n == HTTP_PACKETS_MAX) {
		snprintf(err, errlen, "more than %d packets in one request", HTTP_PACKETS_MAX);
		return GF_EPARSE;
	}
	if (!cJSON_IsObject(item)) {
		snprintf(err, errlen, "%s: a packet is a JSON object", where);
		return GF_EPARSE;
	}
	json = cJSON_PrintUnformatted(item);
	if (!json)
		return GF_ENOMEM;
	rc = gf_payload_check(msg, strlen(msg), false, NULL, json, strlen(json), why, sizeof(why));
	if (rc != GF_OK) {
		free(json);
		if (rc == GF_ENOMEM)
			return rc;
		snprintf(err, errlen, "%s: invalid %s: %s", where, msg, why);
		return GF_EPARSE;
	}
	out->v[out->n++] = (struct http_packet){.msg = msg, .json = json, .len = strlen(json)};
	return GF_OK;
}

enum gf_err http_request_packets(const char *body, size_t len, struct http_packets *out, char *err,
                                 size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(body, len), *kind;
	char where[96];
	enum gf_err rc = GF_OK;
	size_t k;

	out->n = 0;
	if (!root || !cJSON_IsObject(root)) {
		snprintf(err, errlen,
		         "the body is not a JSON object (a CommunicationRequest: operationData, "
		         "flexibilityData, demandCancelation)");
		rc = GF_EPARSE;
		goto out;
	}
	cJSON_ArrayForEach(kind, root)
	{
		for (k = 0; k < sizeof(packet_kinds) / sizeof(packet_kinds[0]); k++)
			if (strcmp(kind->string, packet_kinds[k].key) == 0)
				break;
		if (k == sizeof(packet_kinds) / sizeof(packet_kinds[0])) {
			snprintf(err, errlen,
			         "%.64s: not a packet (operationData, flexibilityData, "
			         "demandCancelation)",
			         kind->string);
			rc = GF_EPARSE;
			goto out;
		}
		if (cJSON_IsArray(kind)) {
			const cJSON *item;
			int i = 0;
			cJSON_ArrayForEach(item, kind)
			{
				snprintf(where, sizeof(where), "%s[%d]", kind->string, i++);
				rc = add_packet(out, item, packet_kinds[k].msg, where, err, errlen);
				if (rc != GF_OK)
					goto out;
			}
		} else {
			rc = add_packet(out, kind, packet_kinds[k].msg, kind->string, err, errlen);
			if (rc != GF_OK)
				goto out;
		}
	}
	if (out->n == 0) {
		snprintf(err, errlen, "no packet in the request");
		rc = GF_EPARSE;
	}
out:
	cJSON_Delete(root);
	return rc;
}

/* --- FlexOffer of the REST API -------------------------------------------------- */

/* The string member key of o, or NULL when absent or null; *bad when it is
 * there and neither a string nor null. */
static const char *str_member(const cJSON *o, const char *key, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || cJSON_IsNull(v))
		return NULL;
	if (!cJSON_IsString(v)) {
		*bad = true;
		return NULL;
	}
	return v->valuestring;
}

static bool set_str(cJSON *o, const char *key, const char *value)
{
	cJSON *v = cJSON_CreateString(value);

	if (!v)
		return false;
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		return cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
	return cJSON_AddItemToObject(o, key, v);
}

int http_request_offer(const char *body, size_t len, const char *foa_id, const char *path_id,
                       const char *new_id, char **json, size_t *json_len, Goflex__FlexOffer **fo,
                       char *out_id, size_t id_size, char *err, size_t errlen)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *sched;
	const char *by, *id, *state;
	char why[GF_CODEC_ERRLEN], *text = NULL;
	ProtobufCMessage *m = NULL;
	bool bad = false;
	size_t flen = strlen(foa_id);
	int status = 400;
	enum gf_err rc;

	if (!root || !cJSON_IsObject(root)) {
		snprintf(err, errlen, "the body is not a JSON object (a FlexOffer)");
		goto out;
	}
	by = str_member(root, "offeredById", &bad);
	id = str_member(root, "id", &bad);
	state = str_member(root, "state", &bad);
	if (bad) {
		snprintf(err, errlen, "id, offeredById and state are strings");
		goto out;
	}
	if (by && strcmp(by, foa_id) != 0) {
		snprintf(err, errlen, "offeredById '%.64s' is not you (foa.%s)", by, foa_id);
		status = 403;
		goto out;
	}
	if (path_id && id && strcmp(id, path_id) != 0) {
		snprintf(err, errlen, "the body's id '%.64s' is not the path's '%s'", id, path_id);
		goto out;
	}
	id = path_id ? path_id : id ? id : new_id;
	if (!offer_id_valid(id, strlen(id))) {
		snprintf(err, errlen,
		         "id: not an offer id (letters, digits, '.', '_', '-', at most %d)",
		         HTTP_OFFER_ID_MAX);
		goto out;
	}
	/* FMAN takes an offer only from the FOA its id begins with
	 * (docs/trading.md, "Offer ids"): say so now rather than later. */
	if (strncmp(id, foa_id, flen) != 0 || id[flen] != '-') {
		snprintf(err, errlen, "offer ids of foa.%s begin with '%s-'", foa_id, foa_id);
		status = 403;
		goto out;
	}
	if (state && strcmp(state, "Initial") != 0 && strcmp(state, "Offered") != 0) {
		snprintf(
		    err, errlen,
		    "state %.32s: an offer is posted as Initial or Offered (DELETE cancels it)",
		    state);
		goto out;
	}
	sched = cJSON_GetObjectItemCaseSensitive(root, "flexOfferSchedule");
	if (sched && !cJSON_IsNull(sched)) {
		snprintf(err, errlen, "flexOfferSchedule: the market assigns it, not the offerer");
		goto out;
	}
	snprintf(out_id, id_size, "%s", id);
	if (!set_str(root, "id", out_id) || !set_str(root, "offeredById", foa_id) ||
	    !set_str(root, "state", "Offered") || !(text = cJSON_PrintUnformatted(root))) {
		snprintf(err, errlen, "out of memory");
		status = 500;
		goto out;
	}
	rc = gf_payload_check("flexoffer", 9, false, NULL, text, strlen(text), why, sizeof(why));
	if (rc == GF_OK)
		rc = gf_codec_from_json(&goflex__flex_offer__descriptor, text, strlen(text), &m,
		                        why, sizeof(why));
	if (rc != GF_OK) {
		snprintf(err, errlen, "invalid flexoffer: %s",
		         rc == GF_ENOMEM ? "out of memory" : why);
		status = rc == GF_ENOMEM ? 500 : 400;
		goto out;
	}
	*json = text;
	*json_len = strlen(text);
	*fo = (Goflex__FlexOffer *)m;
	text = NULL;
	status = 0;
out:
	free(text);
	cJSON_Delete(root);
	return status;
}
