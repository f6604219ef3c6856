/* SPDX-License-Identifier: MIT */
/* libFuzzer target: gf-http's request parsing (agents/gf-http/request.c).
 * The first byte chooses what the rest is: a route ("<method> <url>"), an
 * xEMS CommunicationRequest body, a REST FlexOffer body, or an identities
 * file (read through a memfd, as the agent reads its file). What is
 * accepted must hold: a route's id is a valid id of the path; every packet
 * passes the broker's own check; an offer is foa q1's, Offered, with an id
 * of q1's, and its JSON decodes to what was returned; identities are of
 * roles xems and foa with valid ids, each once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http.h"
#include "payload/codec.h"
#include "payload/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void route(const char *text, size_t len)
{
	char buf[1024], err[256];
	struct http_route r;
	char *sp;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (strlen(buf) != len || !(sp = strchr(buf, ' ')))
		return;
	*sp = '\0';
	if (http_request_route(buf, sp + 1, &r, err, sizeof(err)) != 0)
		return;
	if (strlen(r.id) > HTTP_OFFER_ID_MAX || (r.id[0] && !strstr(sp + 1, r.id)) || !r.role)
		abort();
}

static void packets(const char *text, size_t len)
{
	struct http_packets p = {.n = 0};
	char err[1024];

	if (http_request_packets(text, len, &p, err, sizeof(err)) == GF_OK) {
		if (p.n == 0 || p.n > HTTP_PACKETS_MAX)
			abort();
		for (size_t i = 0; i < p.n; i++)
			if (gf_payload_check(p.v[i].msg, strlen(p.v[i].msg), false, NULL,
			                     p.v[i].json, p.v[i].len, err, sizeof(err)) != GF_OK)
				abort();
	}
	http_request_packets_free(&p);
}

static void offer(const char *text, size_t len)
{
	Goflex__FlexOffer *fo = NULL;
	ProtobufCMessage *again = NULL;
	char id[HTTP_OFFER_ID_MAX + 1], err[1024], *json = NULL;
	size_t jlen = 0;

	if (http_request_offer(text, len, "q1", NULL, "q1-h1", &json, &jlen, &fo, id, sizeof(id),
	                       err, sizeof(err)) != 0)
		return;
	if (!fo->id || strcmp(fo->id, id) != 0 || strncmp(id, "q1-", 3) != 0 ||
	    strcmp(fo->offeredbyid, "q1") != 0 || fo->state != GOFLEX__FLEX_OFFER_STATE__Offered ||
	    jlen != strlen(json))
		abort();
	if (gf_codec_from_json(&goflex__flex_offer__descriptor, json, jlen, &again, err,
	                       sizeof(err)) != GF_OK)
		abort();
	gf_codec_free(again);
	gf_codec_free((ProtobufCMessage *)fo);
	free(json);
}

static void identities(const char *text, size_t len)
{
	struct http_ident *ids = NULL;
	char path[64], err[512];
	size_t n = 0;
	int fd = memfd_create("ids", 0);

	if (fd < 0)
		return;
	if (write(fd, text, len) == (ssize_t)len) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (http_ident_load(path, &ids, &n, err, sizeof(err)) == GF_OK) {
			for (size_t i = 0; i < n; i++) {
				char name[HTTP_NAME_MAX];
				bool xems = strcmp(ids[i].role, "xems") == 0;
				snprintf(name, sizeof(name), "%s.%s", ids[i].role, ids[i].id);
				if ((!xems && strcmp(ids[i].role, "foa") != 0) ||
				    !gf_id_valid(ids[i].id, strlen(ids[i].id)) ||
				    strcmp(name, ids[i].name) != 0 ||
				    xems != (ids[i].foa[0] != '\0') ||
				    http_ident_by_name(ids, n, ids[i].name) != &ids[i])
					abort();
			}
			free(ids);
		}
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		route(text, size - 1);
		break;
	case 1:
		packets(text, size - 1);
		break;
	case 2:
		offer(text, size - 1);
		break;
	default:
		identities(text, size - 1);
		break;
	}
	return 0;
}
