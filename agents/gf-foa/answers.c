/* SPDX-License-Identifier: MIT */
/*
 * answers.c - the FOA's side of end-to-end delivery (docs/trading.md,
 * "When the broker itself is killed"): its offers (to FMAN, or bid offers
 * to FMAR) are sent again until the market acks them; each applied
 * assignment is echoed back to the market (the offer with state Assigned
 * and the schedule received), and echoed again when the assignment comes
 * again; the DSO's feedback is the answer to its bid and is repeated for a
 * repeated bid. The resends are resend.c's; the keys are here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "payload/codec.h"
#include "foa.h"
#include "base/log.h"
#include "agent/resend.h"

/* What an ack of this version of an offer echoes: its label and
 * creationInterval (FMAN and FMAR copy both into their acks). */
static void token(char *buf, size_t size, const char *label, int64_t creation)
{
	snprintf(buf, size, "%s|%lld", label ? label : "", (long long)creation);
}

enum gf_err foa_answers_offer_queue(struct foa *f, const char *to_role, const char *to_id,
                                    const Goflex__FlexOffer *fo)
{
	char key[GF_ID_MAX + 200], tok[GF_ID_MAX + 64];

	snprintf(key, sizeof(key), "offer:%s", fo->id);
	token(tok, sizeof(tok), fo->label, fo->creationinterval);
	return gf_resend_queue(f->a, f->store, key, tok, to_role, to_id, "flexoffer", &fo->base);
}

enum gf_err foa_answers_offer_answered(struct foa *f, const Goflex__FlexOfferAck *ack)
{
	char key[GF_ID_MAX + 200], tok[GF_ID_MAX + 64];

	snprintf(key, sizeof(key), "offer:%s", ack->flexofferid);
	token(tok, sizeof(tok), ack->label, ack->creationinterval);
	return gf_resend_answered(f->store, key, tok, NULL);
}

void foa_answers_assign_key(char *buf, size_t size, const Goflex__FlexOfferAssign *as)
{
	const Goflex__FlexOfferSchedule *s = as->flexofferschedule;

	snprintf(buf, size, "assign:%s:%lld:%lld", as->flexofferid,
	         s && s->has_scheduleid ? (long long)s->scheduleid : 0LL,
	         s && s->has_updateid ? (long long)s->updateid : 0LL);
}

enum gf_err foa_answers_echo(struct foa *f, const struct gf_message *m, const struct foa_offer *o)
{
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)m->body;
	ProtobufCMessage *body = NULL;
	Goflex__FlexOffer *fo;
	Goflex__FlexOfferSchedule *kept;
	char key[GF_ID_MAX + 200];
	enum gf_err rc;

	rc = foa_state_doc_decode(o, &o->offer, &goflex__flex_offer__descriptor, &body);
	if (rc != GF_OK)
		return rc;
	fo = (Goflex__FlexOffer *)body;
	fo->state = GOFLEX__FLEX_OFFER_STATE__Assigned;
	kept = fo->flexofferschedule;
	fo->flexofferschedule = as->flexofferschedule; /* borrowed for the encoding */
	foa_answers_assign_key(key, sizeof(key), as);
	rc = gf_resend_reply(f->a, f->store, key, gf_role_name(m->topic.from_role), m->from_id,
	                     "flexoffer", body);
	fo->flexofferschedule = kept;
	if (rc == GF_OK)
		gf_log_info("GF-FOA-ECHO", "offer %s: Assigned echoed to %s.%s", o->id,
		            gf_role_name(m->topic.from_role), m->from_id);
	gf_codec_free(body);
	return rc;
}

enum gf_err foa_answers_echo_executed(struct foa *f, const struct gf_message *m,
                                      const struct foa_offer *o)
{
	ProtobufCMessage *body = NULL;
	char key[GF_ID_MAX + 200];
	enum gf_err rc;

	rc = foa_state_doc_decode(o, &o->offer, &goflex__flex_offer__descriptor, &body);
	if (rc != GF_OK)
		return rc;
	((Goflex__FlexOffer *)body)->state = GOFLEX__FLEX_OFFER_STATE__Executed;
	snprintf(key, sizeof(key), "exec:%s", o->id);
	rc = gf_resend_reply(f->a, f->store, key, gf_role_name(m->topic.from_role), m->from_id,
	                     "flexoffer", body);
	if (rc == GF_OK)
		gf_log_info("GF-FOA-ECHO", "offer %s: Executed echoed to %s.%s", o->id,
		            gf_role_name(m->topic.from_role), m->from_id);
	gf_codec_free(body);
	return rc;
}
