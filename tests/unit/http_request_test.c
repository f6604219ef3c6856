/* SPDX-License-Identifier: MIT */
/* Unit tests of gf-http's request parsing (agents/gf-http/request.c) and
 * identities file (ident.c): every route and the refusals of the others,
 * the xEMS CommunicationRequest split into checked packets with the field
 * path of a bad one, a REST FlexOffer completed or refused with its status
 * and reason, bearer tokens found by their hash only. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "leak_check.h"
#include "payload/codec.h"
#include "xems.pb-c.h"

TestSuite(http_request, .fini = leak_check);

static int route(const char *method, const char *url, struct http_route *r)
{
	char err[256] = "";

	return http_request_route(method, url, r, err, sizeof(err));
}

Test(http_request, routes)
{
	struct http_route r;

	cr_assert_eq(route("POST", "/v1/xems/request", &r), 0);
	cr_assert_eq(r.kind, HTTP_ROUTE_XEMS_REQUEST);
	cr_assert_str_eq(r.role, "xems");
	cr_assert_eq(route("GET", "/v1/xems/replies", &r), 0);
	cr_assert_eq(r.kind, HTTP_ROUTE_XEMS_REPLIES);
	cr_assert_eq(route("GET", "/v1/flexoffers", &r), 0);
	cr_assert_eq(r.kind, HTTP_ROUTE_OFFER_LIST);
	cr_assert_str_eq(r.role, "foa");
	cr_assert_eq(route("POST", "/v1/flexoffers", &r), 0);
	cr_assert_eq(r.kind, HTTP_ROUTE_OFFER_POST);
	cr_assert_eq(route("GET", "/v1/flexoffers/q1-h1", &r), 0);
	cr_assert_eq(r.kind, HTTP_ROUTE_OFFER_GET);
	cr_assert_str_eq(r.id, "q1-h1");
	cr_assert_eq(route("PUT", "/v1/flexoffers/q1-h1", &r), 0);
	cr_assert_eq(r.kind, HTTP_ROUTE_OFFER_PUT);
	cr_assert_eq(route("DELETE", "/v1/flexoffers/a.b_c-d", &r), 0);
	cr_assert_eq(r.kind, HTTP_ROUTE_OFFER_DELETE);
	cr_assert_str_eq(r.id, "a.b_c-d");
	cr_assert_eq(route("GET", "/v1/flexoffers/q1-h1/assignment", &r), 0);
	cr_assert_eq(r.kind, HTTP_ROUTE_OFFER_ASSIGNMENT);
	cr_assert_str_eq(r.id, "q1-h1");
}

Test(http_request, refused_routes)
{
	struct http_route r = {.kind = HTTP_ROUTE_OFFER_LIST, .id = "keep"};
	char err[256] = "", long_id[300];

	cr_assert_eq(http_request_route("GET", "/v1/xems/request", &r, err, sizeof(err)), 405);
	cr_assert_str_eq(err, "/v1/xems/request takes POST, not GET");
	cr_assert_eq(route("POST", "/v1/xems/replies", &r), 405);
	cr_assert_eq(route("DELETE", "/v1/flexoffers", &r), 405);
	cr_assert_eq(route("POST", "/v1/flexoffers/q1-1", &r), 405);
	cr_assert_eq(route("PUT", "/v1/flexoffers/q1-1/assignment", &r), 405);
	cr_assert_eq(route("GET", "/v1/flexoffers/q1-1/other", &r), 404);
	cr_assert_eq(route("GET", "/v1/flexoffers/", &r), 404);
	cr_assert_eq(route("GET", "/v1/flexoffers/-x", &r), 404);
	cr_assert_eq(route("GET", "/v1/flexoffers/a%2Fb", &r), 404);
	cr_assert_eq(route("GET", "/v1/flexoffers/../xems/replies", &r), 404);
	cr_assert_eq(route("GET", "/", &r), 404);
	cr_assert_eq(route("GET", "", &r), 404);
	memset(long_id, 'a', 129);
	snprintf(long_id + 129, sizeof(long_id) - 129, "%s", "");
	char url[400];
	snprintf(url, sizeof(url), "/v1/flexoffers/%s", long_id);
	cr_assert_eq(route("GET", url, &r), 404);
	long_id[128] = '\0';
	snprintf(url, sizeof(url), "/v1/flexoffers/%s", long_id);
	cr_assert_eq(route("GET", url, &r), 0, "128 characters are an id");
	cr_assert_eq(strlen(r.id), 128);
}

Test(http_request, refused_route_leaves_output)
{
	struct http_route r = {.kind = HTTP_ROUTE_OFFER_LIST, .id = "keep"};

	cr_assert_eq(route("GET", "/nowhere", &r), 404);
	cr_assert_eq(r.kind, HTTP_ROUTE_OFFER_LIST);
	cr_assert_str_eq(r.id, "keep");
}

Test(http_request, uint)
{
	int64_t v = 7;

	cr_assert_eq(http_request_uint("12", &v), GF_OK);
	cr_assert_eq(v, 12);
	cr_assert_eq(http_request_uint("0", &v), GF_OK);
	cr_assert_eq(v, 0);
	v = 7;
	cr_assert_eq(http_request_uint("", &v), GF_EPARSE);
	cr_assert_eq(http_request_uint("-1", &v), GF_EPARSE);
	cr_assert_eq(http_request_uint("1x", &v), GF_EPARSE);
	cr_assert_eq(http_request_uint(" 1", &v), GF_EPARSE);
	cr_assert_eq(http_request_uint("99999999999999999999", &v), GF_EPARSE);
	cr_assert_eq(http_request_uint(NULL, &v), GF_EPARSE);
	cr_assert_eq(v, 7);
}

#define FLEX                                                                                       \
	"{\"flexOffer\":{\"label\":\"a\",\"state\":\"Initial\",\"offeredById\":\"p1\","            \
	"\"creationInterval\":5,\"startAfterInterval\":6,\"startBeforeInterval\":7,"               \
	"\"flexOfferProfileConstraints\":[{\"energyConstraintList\":[{\"lower\":1,\"upper\":%s}]," \
	"\"minDuration\":1,\"maxDuration\":1}]}}"
#define OPERATION "{\"operationState\":\"onlineWithoutOffer\",\"intervalLength\":900}"

static enum gf_err packets(const char *body, struct http_packets *p, char *err, size_t errlen)
{
	return http_request_packets(body, strlen(body), p, err, errlen);
}

Test(http_request, packets)
{
	struct http_packets p = {.n = 0};
	char body[2048], flex[512], err[1024] = "";

	snprintf(flex, sizeof(flex), FLEX, "3");
	snprintf(body, sizeof(body),
	         "{\"operationData\":" OPERATION ",\"flexibilityData\":[%s,%s],"
	         "\"demandCancelation\":{\"flexOfferId\":\"a\"}}",
	         flex, flex);
	cr_assert_eq(packets(body, &p, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(p.n, 4);
	cr_assert_str_eq(p.v[0].msg, "xems.operation");
	cr_assert_str_eq(p.v[1].msg, "xems.flexibility");
	cr_assert_str_eq(p.v[2].msg, "xems.flexibility");
	cr_assert_str_eq(p.v[3].msg, "xems.cancel");
	cr_assert_eq(p.v[3].len, strlen("{\"flexOfferId\":\"a\"}"));
	/* each packet decodes as its message */
	ProtobufCMessage *m = NULL;
	cr_assert_eq(gf_codec_from_json(&goflex__flexibility_data__descriptor, p.v[1].json,
	                                p.v[1].len, &m, err, sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert_str_eq(((Goflex__FlexibilityData *)m)->flexoffer->label, "a");
	gf_codec_free(m);
	http_request_packets_free(&p);
	cr_assert_eq(p.n, 0);
}

Test(http_request, bad_packets)
{
	struct http_packets p = {.n = 0};
	char body[4096], good[512], bad[512], err[1024] = "";

	snprintf(good, sizeof(good), FLEX, "3");
	snprintf(bad, sizeof(bad), FLEX, "0.5");
	snprintf(body, sizeof(body), "{\"flexibilityData\":[%s,%s]}", good, bad);
	cr_assert_eq(packets(body, &p, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "flexibilityData[1]: invalid xems.flexibility: "
	                      "flexOffer.flexOfferProfileConstraints[0].energyConstraintList[0]."
	                      "lower: 1 > upper 0.5");
	http_request_packets_free(&p);
	cr_assert_eq(packets("{\"operationData\":{\"intervalLength\":900}}", &p, err, sizeof(err)),
	             GF_EPARSE);
	cr_assert_str_eq(err, "operationData: invalid xems.operation: operationState: required "
	                      "field missing");
	http_request_packets_free(&p);
	cr_assert_eq(packets("{\"gossip\":{}}", &p, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "gossip: not a packet (operationData, flexibilityData, "
	                      "demandCancelation)");
	cr_assert_eq(packets("{}", &p, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "no packet in the request");
	cr_assert_eq(packets("{\"flexibilityData\":[]}", &p, err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(packets("[1]", &p, err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(packets("{\"operationData\":", &p, err, sizeof(err)), GF_EPARSE);
	cr_assert_eq(packets("{\"operationData\":[1]}", &p, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "operationData[0]: a packet is a JSON object");
	cr_assert_eq(http_request_packets("{\"a\":1}", 3, &p, err, sizeof(err)), GF_EPARSE,
	             "only len bytes are read");
	/* more than HTTP_PACKETS_MAX */
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"operationData\":[");
	for (int i = 0; i <= HTTP_PACKETS_MAX; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%s" OPERATION, i ? "," : "");
	snprintf(body + n, sizeof(body) - n, "]}");
	cr_assert_eq(packets(body, &p, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "more than 64 packets in one request");
	http_request_packets_free(&p);
}

#define OFFER                                                                                      \
	"{\"label\":\"r\",\"creationInterval\":5,\"startAfterInterval\":6,"                        \
	"\"startBeforeInterval\":7,\"flexOfferProfileConstraints\":[{\"energyConstraintList\":"    \
	"[{\"lower\":1,\"upper\":2}],\"minDuration\":1,\"maxDuration\":1}]"

struct offer_out {
	char *json;
	size_t len;
	Goflex__FlexOffer *fo;
	char id[HTTP_OFFER_ID_MAX + 1], err[1024];
};

static int offer(const char *body, const char *path_id, struct offer_out *o)
{
	*o = (struct offer_out){.json = NULL};
	return http_request_offer(body, strlen(body), "q1", path_id, "q1-h9", &o->json, &o->len,
	                          &o->fo, o->id, sizeof(o->id), o->err, sizeof(o->err));
}

static void offer_free(struct offer_out *o)
{
	free(o->json);
	gf_codec_free((ProtobufCMessage *)o->fo);
}

Test(http_request, offer_completed)
{
	struct offer_out o;

	cr_assert_eq(offer(OFFER "}", NULL, &o), 0, "%s", o.err);
	cr_assert_str_eq(o.id, "q1-h9");
	cr_assert_str_eq(o.fo->id, "q1-h9");
	cr_assert_str_eq(o.fo->offeredbyid, "q1");
	cr_assert_eq(o.fo->state, GOFLEX__FLEX_OFFER_STATE__Offered);
	cr_assert_eq(o.len, strlen(o.json));
	cr_assert_not_null(strstr(o.json, "\"offeredById\":\"q1\""));
	offer_free(&o);
	cr_assert_eq(offer(OFFER ",\"id\":\"q1-own\",\"offeredById\":\"q1\",\"state\":\"Offered\"}",
	                   NULL, &o),
	             0, "%s", o.err);
	cr_assert_str_eq(o.id, "q1-own");
	offer_free(&o);
	cr_assert_eq(offer(OFFER ",\"id\":null}", "q1-path", &o), 0, "%s", o.err);
	cr_assert_str_eq(o.fo->id, "q1-path");
	offer_free(&o);
}

Test(http_request, offer_refused)
{
	struct offer_out o;

	cr_assert_eq(offer(OFFER ",\"offeredById\":\"q2\"}", NULL, &o), 403);
	cr_assert_str_eq(o.err, "offeredById 'q2' is not you (foa.q1)");
	cr_assert_eq(offer(OFFER ",\"id\":\"q2-1\"}", NULL, &o), 403);
	cr_assert_str_eq(o.err, "offer ids of foa.q1 begin with 'q1-'");
	cr_assert_eq(offer(OFFER ",\"id\":\"q1x\"}", NULL, &o), 403);
	cr_assert_eq(offer(OFFER ",\"id\":\"q1-a\"}", "q1-b", &o), 400);
	cr_assert_str_eq(o.err, "the body's id 'q1-a' is not the path's 'q1-b'");
	cr_assert_eq(offer(OFFER ",\"id\":\"q1-a b\"}", NULL, &o), 400);
	cr_assert_eq(offer(OFFER ",\"state\":\"Assigned\"}", NULL, &o), 400);
	cr_assert_str_eq(o.err, "state Assigned: an offer is posted as Initial or Offered (DELETE "
	                        "cancels it)");
	cr_assert_eq(offer(OFFER ",\"state\":7}", NULL, &o), 400);
	cr_assert_eq(offer(OFFER ",\"flexOfferSchedule\":{\"scheduleSlices\":[]}}", NULL, &o), 400);
	cr_assert_str_eq(o.err, "flexOfferSchedule: the market assigns it, not the offerer");
	cr_assert_eq(offer("{\"label\":\"r\",\"creationInterval\":\"x\"}", NULL, &o), 400);
	cr_assert_not_null(strstr(o.err, "invalid flexoffer: creationInterval"), "%s", o.err);
	cr_assert_eq(offer("[]", NULL, &o), 400);
	cr_assert_eq(offer("{", NULL, &o), 400);
	cr_assert_null(o.json);
	cr_assert_null(o.fo);
}

/* --- identities ------------------------------------------------------------ */

/* sha256("secret-1"), sha256("secret-2") */
#define H1 "0b6c1c1b6e4bfc2a1e9e1bdb6a5ed4dbac9b6e8d52a1b2d3e1f4a5b6c7d8e9f0"

static enum gf_err load(const char *text, struct http_ident **ids, size_t *n, char *err,
                        size_t errlen)
{
	char path[] = "/tmp/gf-http-ids-XXXXXX";
	int fd = mkstemp(path);
	enum gf_err rc;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = http_ident_load(path, ids, n, err, errlen);
	unlink(path);
	return rc;
}

/* The hex SHA-256 of s, by the identities' own lookup: the hash is made
 * with openssl's command line, independently of ident.c. */
static void sha256_hex(const char *s, char *hex)
{
	char cmd[256];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "printf %%s '%s' | openssl dgst -sha256 -r", s);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%64s", hex), 1);
	pclose(f);
}

Test(http_request, identities_and_tokens)
{
	struct http_ident *ids = NULL;
	size_t n = 0;
	char text[1024], h1[65], h2[65], err[512] = "";

	sha256_hex("secret-1", h1);
	sha256_hex("secret-2", h2);
	snprintf(text, sizeof(text),
	         "# comment\n\nxems.p1 %s foa=f9  # trailing\nfoa.q1\t%s\r\nfoa.q2 -\n", h1, h2);
	cr_assert_eq(load(text, &ids, &n, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(ids[0].name, "xems.p1");
	cr_assert_str_eq(ids[0].role, "xems");
	cr_assert_str_eq(ids[0].id, "p1");
	cr_assert_str_eq(ids[0].foa, "f9");
	cr_assert_str_eq(ids[1].foa, "");
	cr_assert(!ids[2].has_token);
	cr_assert_eq(http_ident_by_token(ids, n, "secret-1", 8), &ids[0]);
	cr_assert_eq(http_ident_by_token(ids, n, "secret-2", 8), &ids[1]);
	cr_assert_null(http_ident_by_token(ids, n, "secret-3", 8));
	cr_assert_null(http_ident_by_token(ids, n, "secret-1", 7));
	cr_assert_null(http_ident_by_token(ids, n, "", 0));
	cr_assert_eq(http_ident_by_name(ids, n, "foa.q2"), &ids[2]);
	cr_assert_null(http_ident_by_name(ids, n, "foa.q3"));
	free(ids);
	snprintf(text, sizeof(text), "xems.p2 -\n");
	cr_assert_eq(load(text, &ids, &n, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_str_eq(ids[0].foa, "p2", "an xEMS's FOA is its own id by default");
	free(ids);
}

Test(http_request, identities_refused)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"", "no identity"},
	    {"# only\n", "no identity"},
	    {"xems.p1\n", ":1: expected '<role>.<id> <sha256-hex of the token, or -> [foa=<id>]'"},
	    {"p1 -\n", ":1: 'p1' is not <role>.<id>"},
	    {"user.u1 -\n", ":1: user.u1: gf-http serves roles xems and foa only"},
	    {"foa.all -\n", ":1: foa.all: not a valid id"},
	    {"foa.-x -\n", ":1: foa.-x: not a valid id"},
	    {"foa.q1 abc\n", ":1: foa.q1: the token is given as 64 lowercase hex digits"},
	    {"foa.q1 " H1 "\nfoa.q1 -\n", ":2: foa.q1 is listed twice"},
	    {"foa.q1 - foa=x\n", ":1: foa.q1: unknown option 'foa=x' (xems: foa=<id>)"},
	    {"xems.p1 - bar\n", ":1: xems.p1: unknown option 'bar'"},
	};
	struct http_ident *ids = (struct http_ident *)1;
	size_t n = 77;
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(load(cases[i].text, &ids, &n, err, sizeof(err)), GF_EPARSE, "case %zu",
		             i);
		cr_assert_not_null(strstr(err, cases[i].why), "case %zu: %s", i, err);
		cr_assert_eq(n, 77);
		cr_assert_eq(ids, (struct http_ident *)1);
	}
	/* a token's hash in upper case is refused, and never copied into err */
	char upper[200];
	snprintf(upper, sizeof(upper), "foa.q1 %s\n",
	         "0B6C1C1B6E4BFC2A1E9E1BDB6A5ED4DBAC9B6E8D52A1B2D3E1F4A5B6C7D8E9F0");
	cr_assert_eq(load(upper, &ids, &n, err, sizeof(err)), GF_EPARSE);
	cr_assert_null(strstr(err, "0B6C"), "%s", err);
}
