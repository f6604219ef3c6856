/* SPDX-License-Identifier: MIT */
/*
 * inbound.c - what the bus brings to an identity gf-http serves, each
 * message in one transaction of that identity's store (gf_store_once):
 *
 * - xems: foa.reply, kept for the xEMS's next poll. A reply carrying a
 *   DemandSchedule is keyed by its scheduleId and updateId (the FOA sends a
 *   schedule again until it has run: the xEMS gets it once); any other by
 *   its place in the identity's durable inbox (a replay after a kill -9 is
 *   not kept twice).
 * - foa: flexoffer.ack and flexoffer.assign for an offer of the REST API,
 *   recorded against it and answered as gf-foa answers them
 *   (docs/trading.md): an assignment is echoed with state Assigned and the
 *   schedule, an execution with state Executed, again for a repeat. The
 *   echo says that gf-http, acting for the FOA, holds the schedule for its
 *   client to read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "agent/message.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "payload/codec.h"
#include "xems.pb-c.h"

struct in {
	struct http *h;
	struct http_ident *id;
	const struct gf_message *m;
	char now[40];
	const char *key;
};

static enum gf_err keep_reply(void *arg)
{
	struct in *t = arg;
	char *json = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_codec_to_json(t->m->body, &json, &len);
	if (rc == GF_OK)
		rc = http_queue_reply_add(t->id->store, t->m->msg, json, t->now);
	if (rc == GF_OK)
		gf_log_info("GF-HTTP-REPLY", "%s: a %s kept for the next poll", t->id->name,
		            t->m->msg);
	free(json);
	return rc;
}

/* The stored offer oid, decoded, with state and (may be NULL) schedule
 * set: the echo. *m NULL when the offer is not one of the REST API's. */
static enum gf_err stored_offer(struct in *t, const char *oid, ProtobufCMessage **m)
{
	struct http_offer o = {0};
	char err[GF_CODEC_ERRLEN];
	bool found = false;
	enum gf_err rc;

	*m = NULL;
	rc = http_queue_offer_get(t->id->store, oid, &o, &found);
	if (rc != GF_OK || !found)
		goto out;
	rc = gf_codec_from_json(&goflex__flex_offer__descriptor, o.offer, strlen(o.offer), m, err,
	                        sizeof(err));
	if (rc != GF_OK)
		gf_log_err("GF-HTTP-STORE", "stored offer %s does not decode: %s", oid, err);
out:
	http_queue_offer_clear(&o);
	return rc;
}

static enum gf_err echo(struct in *t, const char *oid, Goflex__FlexOfferState state,
                        Goflex__FlexOfferSchedule *schedule)
{
	ProtobufCMessage *m = NULL;
	Goflex__FlexOffer *fo;
	Goflex__FlexOfferSchedule *kept;
	enum gf_err rc;

	rc = stored_offer(t, oid, &m);
	if (rc != GF_OK || !m)
		return rc;
	fo = (Goflex__FlexOffer *)m;
	fo->state = state;
	kept = fo->flexofferschedule;
	if (schedule)
		fo->flexofferschedule = schedule; /* borrowed for the encoding */
	rc = gf_resend_reply(t->h->a, t->id->store, t->key, gf_role_name(t->m->topic.from_role),
	                     t->m->from_id, "flexoffer", m);
	fo->flexofferschedule = kept;
	gf_codec_free(m);
	return rc;
}

static enum gf_err take_ack(void *arg)
{
	struct in *t = arg;
	const Goflex__FlexOfferAck *ack = (const Goflex__FlexOfferAck *)t->m->body;
	bool executed = ack->has_state && ack->state == GOFLEX__FLEX_OFFER_STATE__Executed;
	char key[HTTP_OFFER_ID_MAX + 200], tok[512], *exec = NULL;
	bool found = false;
	size_t len = 0;
	enum gf_err rc = GF_OK;

	if (executed && ack->execution)
		rc = gf_codec_to_json(&ack->execution->base, &exec, &len);
	if (rc == GF_OK)
		rc = http_queue_offer_ack(t->id->store, ack->flexofferid, ack->accepted,
		                          ack->reason, executed, exec, t->now, &found);
	free(exec);
	if (rc != GF_OK)
		return rc;
	if (!found) {
		gf_log_info("GF-HTTP-UNKNOWN", "%s: an ack for offer %s, not one of its REST API's",
		            t->id->name, ack->flexofferid);
		return GF_OK;
	}
	gf_log_info("GF-HTTP-ACK", "%s: offer %s %s%s%s", t->id->name, ack->flexofferid,
	            executed        ? "executed"
	            : ack->accepted ? "accepted"
	                            : "refused",
	            ack->reason ? ": " : "", ack->reason ? ack->reason : "");
	if (executed)
		return echo(t, ack->flexofferid, GOFLEX__FLEX_OFFER_STATE__Executed, NULL);
	snprintf(key, sizeof(key), "offer:%s", ack->flexofferid);
	snprintf(tok, sizeof(tok), "%s|%lld", ack->label ? ack->label : "",
	         (long long)ack->creationinterval);
	return gf_resend_answered(t->id->store, key, tok, NULL);
}

static enum gf_err take_assign(void *arg)
{
	struct in *t = arg;
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)t->m->body;
	char *json = NULL;
	bool found = false;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_codec_to_json(&as->flexofferschedule->base, &json, &len);
	if (rc == GF_OK)
		rc = http_queue_offer_assign(t->id->store, as->flexofferid, json, t->now, &found);
	free(json);
	if (rc != GF_OK)
		return rc;
	if (!found) {
		gf_log_info("GF-HTTP-UNKNOWN",
		            "%s: an assignment of offer %s, not one of its REST "
		            "API's",
		            t->id->name, as->flexofferid);
		return GF_OK;
	}
	gf_log_info("GF-HTTP-ASSIGN", "%s: offer %s assigned", t->id->name, as->flexofferid);
	return echo(t, as->flexofferid, GOFLEX__FLEX_OFFER_STATE__Assigned, as->flexofferschedule);
}

/* A repeated assignment or execution: the echo again. */
static enum gf_err again(void *arg)
{
	struct in *t = arg;
	bool found = false;

	gf_log_debug("GF-HTTP-DUP", "%s: %s again", t->id->name, t->key);
	return gf_resend_reply_again(t->id->store, t->key, &found);
}

void http_inbound_message(struct http *h, struct http_ident *id, const struct gf_inbox_item *item)
{
	struct gf_message m;
	struct in t = {.h = h, .id = id, .m = &m};
	char err[512], key[HTTP_OFFER_ID_MAX + 200];
	gf_once_fn fn = NULL, dup = NULL;

	if (gf_message_read(item, &m, err, sizeof(err)) != GF_OK) {
		gf_log_warning("GF-HTTP-UNREADABLE", "%s: dropped a message: %s", id->name, err);
		return;
	}
	if (gf_time_format((int64_t)(gf_agent_now(h->a) * 1000), t.now, sizeof(t.now)) != GF_OK)
		snprintf(t.now, sizeof(t.now), "?");
	if (strcmp(id->role, "xems") == 0 && strcmp(m.msg, "foa.reply") == 0) {
		const Goflex__FoaReply *r = (const Goflex__FoaReply *)m.body;
		if (r->n_demandschedule > 0)
			snprintf(key, sizeof(key), "schedule:%lld:%lld",
			         (long long)r->demandschedule[0]->scheduleid,
			         (long long)r->demandschedule[0]->updateid);
		else
			snprintf(key, sizeof(key), "in:%" PRIu64, item->seq);
		fn = keep_reply;
	} else if (strcmp(id->role, "foa") == 0 && strcmp(m.msg, "flexoffer.ack") == 0) {
		const Goflex__FlexOfferAck *ack = (const Goflex__FlexOfferAck *)m.body;
		fn = take_ack;
		if (ack->has_state && ack->state == GOFLEX__FLEX_OFFER_STATE__Executed) {
			snprintf(key, sizeof(key), "exec:%s", ack->flexofferid);
			dup = again;
		} else {
			key[0] = '\0'; /* acks are idempotent: the state they give */
		}
	} else if (strcmp(id->role, "foa") == 0 && strcmp(m.msg, "flexoffer.assign") == 0) {
		const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)m.body;
		const Goflex__FlexOfferSchedule *s = as->flexofferschedule;
		snprintf(key, sizeof(key), "assign:%s:%lld:%lld", as->flexofferid,
		         s->has_scheduleid ? (long long)s->scheduleid : 0LL,
		         s->has_updateid ? (long long)s->updateid : 0LL);
		fn = take_assign;
		dup = again;
	} else {
		/* Private payloads are not logged, only their kind. */
		gf_log_info("GF-HTTP-IGNORED", "%s: %s from %s.%s is not for the HTTP client",
		            id->name, m.msg, gf_role_name(m.topic.from_role), m.from_id);
		gf_message_free(&m);
		return;
	}
	t.key = key;
	if (gf_store_once(h->a, id->store, key[0] ? key : NULL, fn, dup, &t) == GF_OK)
		(void)gf_store_outbox_flush(id->store, id->bus);
	gf_message_free(&m);
}
