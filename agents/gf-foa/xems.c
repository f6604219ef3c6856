/* SPDX-License-Identifier: MIT */
/*
 * gf-foa's xEMS mode (D6.1 8.1): the xEMS's requests in, offers and meter
 * readings to FMAN, FMAN's answers turned into foa.reply for the xEMS. Every
 * function runs inside main.c's transaction (in_txn) and only queues messages (outbox).
 *
 * The xEMS names its offers itself (its own id, else its label: the offer's
 * "ref"); the market knows them by the FOA's ids <foa-id>-<n>. Replies to the
 * xEMS use the xEMS's name, and xems.cancel accepts either.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "agent/kpi.h"
#include "foa.h"
#include "bus/ident.h"
#include "base/log.h"
#include "agent/resend.h"
#include "meter.pb-c.h"
#include "base/timefmt.h"

static bool is_final(const char *state)
{
	return strcmp(state, "Assigned") == 0 || strcmp(state, "Executed") == 0 ||
	       strcmp(state, "Canceled") == 0;
}

/* Queues one foa.reply to xems.<xems>: an Ack (ok) or a Nack (code,
 * reason), with an optional schedule and an optional rejected offer. */
/* A schedule has no answer in the xEMS protocol: it is sent again (resend.h)
 * until it has run its course, and the xEMS keys on scheduleId + updateId. */
static enum gf_err queue_schedule(struct foa *f, const char *xems, const Goflex__FoaReply *r,
                                  const Goflex__FoaReply__DemandSchedule *ds)
{
	char key[128];
	int64_t ms = 0;
	enum gf_err rc;

	snprintf(key, sizeof(key), "schedule:%lld:%lld", (long long)ds->scheduleid,
	         (long long)ds->updateid);
	rc = gf_resend_queue(f->a, f->store, key, NULL, "xems", xems, "foa.reply", &r->base);
	if (rc == GF_OK && ds->starttime &&
	    gf_time_parse(ds->starttime, strlen(ds->starttime), &ms) == GF_OK)
		rc = gf_resend_until(f->store, key,
		                     (double)ms / 1000 +
		                         (double)ds->n_energy * (double)GF_TIME_INTERVAL_S);
	return rc;
}

static enum gf_err reply(struct foa *f, const char *xems, bool ok,
                         Goflex__FoaReply__Ack__ReasonCode code, const char *reason,
                         Goflex__FoaReply__DemandSchedule *ds,
                         Goflex__FoaReply__FlexibilityReject *rj)
{
	Goflex__FoaReply r = GOFLEX__FOA_REPLY__INIT;
	Goflex__FoaReply__Ack ack = GOFLEX__FOA_REPLY__ACK__INIT;

	ack.ack = ok;
	if (!ok) {
		ack.has_reasoncode = true;
		ack.reasoncode = code;
		ack.reason = (char *)reason;
	}
	r.ack = &ack;
	if (ds) {
		r.n_demandschedule = 1;
		r.demandschedule = &ds;
	}
	if (rj) {
		r.n_flexibilityreject = 1;
		r.flexibilityreject = &rj;
	}
	if (ds)
		return queue_schedule(f, xems, &r, ds);
	return gf_message_queue(f->a, f->store, "xems", xems, "foa.reply", &r.base);
}

static enum gf_err reject(struct foa *f, const char *xems, const char *ref, const char *why)
{
	Goflex__FoaReply__FlexibilityReject rj = GOFLEX__FOA_REPLY__FLEXIBILITY_REJECT__INIT;

	rj.flexofferid = (char *)ref;
	rj.reason = (char *)why;
	gf_log_notice("GF-FOA-REJECT", "offer %s of xems.%s refused: %s", ref, xems, why);
	gf_kpi_count(f->a, "foa.offers_refused", 1, NULL);
	return reply(f, xems, true, 0, NULL, NULL, &rj);
}

static const char *fman(struct foa *f)
{
	return f->conf->fman_id;
}

enum gf_err foa_xems_flexibility(struct foa *f, const struct gf_message *m)
{
	Goflex__FlexOffer *fo = ((Goflex__FlexibilityData *)m->body)->flexoffer;
	struct foa_offer old = {0}, row = {0};
	struct foa_tariff_box *box = NULL;
	char id[GF_ID_MAX + 32], why[256];
	const char *ref = fo->id ? fo->id : fo->label;
	int64_t now = foa_state_now_interval(f), n = 0;
	int64_t accept_by = fo->has_acceptancebeforeinterval ? fo->acceptancebeforeinterval
	                                                     : fo->startbeforeinterval;
	enum gf_err rc;

	rc = foa_state_doc_encode(&fo->base, &row.source);
	if (rc != GF_OK)
		goto out;
	if (ref) {
		rc = foa_state_offer_by_ref(f, m->from_id, ref, &old);
		if (rc != GF_OK && rc != GF_ENOENT)
			goto out;
	}
	if (old.id && is_final(old.state)) {
		snprintf(why, sizeof(why), "offer %s is already %s", old.id, old.state);
		rc = reject(f, m->from_id, ref, why);
		goto out;
	}
	if (accept_by <= now) {
		snprintf(why, sizeof(why),
		         "its acceptance deadline, interval %lld, has passed (now %lld)",
		         (long long)accept_by, (long long)now);
		rc = reject(f, m->from_id, ref ? ref : "", why);
		goto out;
	}
	if (old.id) {
		snprintf(id, sizeof(id), "%s", old.id);
	} else {
		rc = foa_state_counter_next(f, "offer", &n);
		if (rc != GF_OK)
			goto out;
		snprintf(id, sizeof(id), "%s-%lld", f->id, (long long)n);
	}
	/* The xEMS's offer as it is, under the FOA's id and name; its
	 * deadlines and windows are kept. The strings set here live on the
	 * stack, not in the message's arena, which never frees them. */
	fo->id = id;
	fo->offeredbyid = (char *)f->id;
	fo->state = GOFLEX__FLEX_OFFER_STATE__Offered;
	fo->statereason = NULL;
	fo->flexofferschedule = NULL;
	/* Its tariffs with the grid point's network prices (tariff.c). */
	rc = foa_tariff_apply(f, fo, &box);
	if (rc == GF_OK)
		rc = foa_state_doc_encode(&fo->base, &row.offer);
	if (rc == GF_OK)
		rc = foa_answers_offer_queue(f, "fman", fman(f), fo);
	foa_tariff_box_free(box);
	if (rc != GF_OK)
		goto out;
	row.id = id;
	row.kind = "xems";
	row.peer = (char *)m->from_id;
	row.ref = (char *)(ref ? ref : id);
	row.state = "Offered";
	row.deadline = fo->has_assignmentbeforeinterval ? fo->assignmentbeforeinterval
	                                                : fo->startbeforeinterval;
	rc = foa_state_offer_put(f, &row);
	if (rc == GF_OK)
		rc = reply(f, m->from_id, true, 0, NULL, NULL, NULL);
	if (rc == GF_OK)
		gf_kpi_count(f->a, "foa.offers_sent", 1, NULL);
	if (rc == GF_OK)
		gf_log_info("GF-FOA-OFFER", "%s offer %s of xems.%s to fman.%s",
		            old.id ? "updated" : "new", id, m->from_id, fman(f));
out:
	foa_state_offer_clear(&old);
	foa_state_doc_free(&row.source);
	foa_state_doc_free(&row.offer);
	return rc;
}

/* The offer an xems.cancel names: by the FOA's id, the xEMS's name, or a
 * schedule id the FOA gave; only the sender's own offers. */
static enum gf_err find_canceled(struct foa *f, const struct gf_message *m,
                                 const Goflex__DemandCancelation *c, struct foa_offer *o)
{
	enum gf_err rc = GF_ENOENT;

	if (c->flexofferid) {
		rc = foa_state_offer_get(f, c->flexofferid, o);
		if (rc == GF_ENOENT)
			rc = foa_state_offer_by_ref(f, m->from_id, c->flexofferid, o);
	} else if (c->has_scheduleid) {
		rc = foa_state_offer_by_schedule(f, c->scheduleid, o);
	}
	if (rc == GF_OK && (strcmp(o->kind, "xems") != 0 || strcmp(o->peer, m->from_id) != 0)) {
		foa_state_offer_clear(o);
		rc = GF_ENOENT;
	}
	return rc;
}

enum gf_err foa_xems_cancel(struct foa *f, const struct gf_message *m)
{
	const Goflex__DemandCancelation *c = (const Goflex__DemandCancelation *)m->body;
	const Goflex__FoaReply__Ack__ReasonCode failed =
	    GOFLEX__FOA_REPLY__ACK__REASON_CODE__failed;
	struct foa_offer o = {0};
	ProtobufCMessage *body = NULL;
	Goflex__FlexOffer *fo;
	int64_t now = foa_state_now_interval(f);
	char why[256];
	enum gf_err rc;

	rc = find_canceled(f, m, c, &o);
	if (rc == GF_ENOENT) {
		rc = reply(f, m->from_id, false,
		           GOFLEX__FOA_REPLY__ACK__REASON_CODE__unknownReference,
		           "no such offer or schedule", NULL, NULL);
		goto out;
	}
	if (rc != GF_OK)
		goto out;
	if (strcmp(o.state, "Canceled") == 0) {
		rc = reply(f, m->from_id, true, 0, NULL, NULL, NULL);
		goto out;
	}
	if (is_final(o.state) || now >= o.deadline) {
		snprintf(why, sizeof(why), "offer %s is %s: it can no longer be withdrawn", o.id,
		         is_final(o.state) ? o.state : "past its assignment deadline");
		gf_log_notice("GF-FOA-CANCEL", "%s (xems.%s)", why, m->from_id);
		rc = reply(f, m->from_id, false, failed, why, NULL, NULL);
		goto out;
	}
	rc = foa_state_doc_decode(&o, &o.offer, &goflex__flex_offer__descriptor, &body);
	if (rc != GF_OK)
		goto out;
	fo = (Goflex__FlexOffer *)body;
	fo->state = GOFLEX__FLEX_OFFER_STATE__Canceled;
	fo->statereason = c->reason;
	rc = foa_answers_offer_queue(f, "fman", fman(f), fo);
	if (rc == GF_OK)
		rc = foa_state_offer_set_state(f, o.id, "Canceled");
	if (rc == GF_OK)
		rc = reply(f, m->from_id, true, 0, NULL, NULL, NULL);
	if (rc == GF_OK)
		gf_log_info("GF-FOA-CANCEL", "offer %s of xems.%s canceled at fman.%s", o.id,
		            m->from_id, fman(f));
out:
	gf_codec_free(body);
	foa_state_offer_clear(&o);
	return rc;
}

/* OperationData's accountingPower as meter readings: one per interval,
 * the mean power in kW, timed at the interval's start. */
static enum gf_err forward_readings(struct foa *f, const struct gf_message *m,
                                    const Goflex__OperationData *op)
{
	Goflex__MeterReadings rs = GOFLEX__METER_READINGS__INIT;
	Goflex__MeterReading *r = NULL, **rp = NULL;
	const char *device = f->conf->meter_device_id ? f->conf->meter_device_id : m->from_id;
	char(*times)[GF_TIME_BUFSIZE] = NULL;
	int64_t start_ms, step_ms = (int64_t)op->intervallength * 1000;
	enum gf_err rc = GF_OK;

	if (op->starttime) {
		rc = gf_time_parse(op->starttime, strlen(op->starttime), &start_ms);
		if (rc != GF_OK)
			return GF_OK; /* the broker checks times; nothing to forward */
	} else {
		/* No start: the values are the intervals that end now. */
		start_ms = (int64_t)(gf_agent_now(f->a) * 1000.0);
		start_ms -= start_ms % step_ms + (int64_t)op->n_accountingpower * step_ms;
	}
	r = calloc(op->n_accountingpower, sizeof(*r));
	rp = calloc(op->n_accountingpower, sizeof(*rp));
	times = calloc(op->n_accountingpower, sizeof(*times));
	if (!r || !rp || !times) {
		rc = GF_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < op->n_accountingpower; i++) {
		goflex__meter_reading__init(&r[i]);
		if (gf_time_format(start_ms + (int64_t)i * step_ms, times[i], sizeof(times[i])) !=
		    GF_OK) {
			rc = GF_OK; /* beyond the year 9999: nothing to forward */
			goto out;
		}
		r[i].observedtimestamp = times[i];
		r[i].deviceid = (char *)device;
		r[i].value = op->accountingpower[i];
		r[i].unit = "kW";
		rp[i] = &r[i];
	}
	rs.n_readings = op->n_accountingpower;
	rs.readings = rp;
	rc = gf_message_queue(f->a, f->store, "fman", fman(f), "meter.reading", &rs.base);
out:
	free(r);
	free(rp);
	free(times);
	return rc;
}

enum gf_err foa_xems_operation(struct foa *f, const struct gf_message *m)
{
	const Goflex__OperationData *op = (const Goflex__OperationData *)m->body;
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &goflex__operation_data__operation_state__descriptor, (int)op->operationstate);
	enum gf_err rc = GF_OK;

	gf_log_debug("GF-FOA-OPERATION", "xems.%s is %s, %zu reading(s)", m->from_id,
	             v ? v->name : "?", op->n_accountingpower);
	if (op->n_accountingpower)
		rc = forward_readings(f, m, op);
	if (rc == GF_OK)
		rc = reply(f, m->from_id, true, 0, NULL, NULL, NULL);
	return rc;
}

/* The market's answer must come from the side the offer went to. */
static bool from_market_of(const struct gf_message *m, const struct foa_offer *o)
{
	const char *want = strcmp(o->kind, "bid") == 0 ? "fmar" : "fman"; /* xems, plug */

	if (strcmp(gf_role_name(m->topic.from_role), want) == 0)
		return true;
	gf_log_warning("GF-FOA-UNKNOWN", "%s for offer %s from %s.%s, not from %s: ignored", m->msg,
	               o->id, gf_role_name(m->topic.from_role), m->from_id, want);
	return false;
}

enum gf_err foa_xems_market_ack(struct foa *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAck *ack = (const Goflex__FlexOfferAck *)m->body;
	const char *state = ack->accepted ? "Accepted" : "Rejected";
	struct foa_offer o = {0};
	enum gf_err rc;

	rc = foa_state_offer_get(f, ack->flexofferid, &o);
	if (rc == GF_ENOENT) {
		gf_log_warning("GF-FOA-UNKNOWN", "flexoffer.ack for an unknown offer %s from %s",
		               ack->flexofferid, m->from_id);
		return GF_OK;
	}
	if (rc != GF_OK || !from_market_of(m, &o))
		goto out;
	if (strcmp(o.kind, "bid") == 0) {
		rc = foa_dso_ack(f, &o, ack);
		goto out;
	}
	if (strcmp(o.kind, "plug") == 0) {
		rc = foa_plugoffer_ack(f, &o, ack);
		goto out;
	}
	if (is_final(o.state)) {
		gf_log_info("GF-FOA-ACK", "offer %s %s by %s.%s while %s: kept %s", o.id, state,
		            gf_role_name(m->topic.from_role), m->from_id, o.state, o.state);
		goto out;
	}
	gf_log_info("GF-FOA-ACK", "offer %s %s by %s.%s%s%s", o.id, state,
	            gf_role_name(m->topic.from_role), m->from_id, ack->reason ? ": " : "",
	            ack->reason ? ack->reason : "");
	rc = foa_state_offer_set_state(f, o.id, state);
	if (rc == GF_OK && !ack->accepted)
		rc = reject(f, o.peer, o.ref, ack->reason ? ack->reason : "refused by the market");
out:
	foa_state_offer_clear(&o);
	return rc;
}

/* The market's report that an offer was executed (flexoffer.ack with
 * state Executed, docs/foa.md): recorded for any kind of offer, passed to
 * the DOMS for a bid offer, echoed to the market. */
enum gf_err foa_xems_market_executed(struct foa *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAck *ack = (const Goflex__FlexOfferAck *)m->body;
	struct foa_offer o = {0};
	enum gf_err rc;

	rc = foa_state_offer_get(f, ack->flexofferid, &o);
	if (rc == GF_ENOENT) {
		gf_log_warning("GF-FOA-UNKNOWN", "Executed for an unknown offer %s from %s",
		               ack->flexofferid, m->from_id);
		return GF_OK;
	}
	if (rc != GF_OK || !from_market_of(m, &o))
		goto out;
	if (!ack->execution) {
		gf_log_warning("GF-FOA-UNKNOWN",
		               "Executed for offer %s from %s.%s without its "
		               "execution: ignored",
		               o.id, gf_role_name(m->topic.from_role), m->from_id);
		goto out;
	}
	if (strcmp(o.state, "Assigned") != 0) {
		/* Only an assigned schedule is executed; the market is told so by
		 * the echo all the same, so that it stops sending. */
		gf_log_warning("GF-FOA-EXECUTED",
		               "offer %s is %s, not Assigned: Executed recorded "
		               "all the same",
		               o.id, o.state);
	}
	if (strcmp(o.kind, "bid") == 0)
		rc = foa_dso_executed(f, &o, ack);
	if (rc == GF_OK)
		rc = foa_state_offer_set_state(f, o.id, "Executed");
	if (rc == GF_OK)
		rc = foa_answers_echo_executed(f, m, &o);
	if (rc == GF_OK)
		gf_kpi_count(f->a, "foa.offers_executed", 1, NULL);
	if (rc == GF_OK)
		gf_log_info("GF-FOA-EXECUTED", "offer %s Executed by %s.%s", o.id,
		            gf_role_name(m->topic.from_role), m->from_id);
out:
	foa_state_offer_clear(&o);
	return rc;
}

enum gf_err foa_xems_market_assign(struct foa *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)m->body;
	const Goflex__FlexOfferSchedule *s = as->flexofferschedule;
	Goflex__FoaReply__DemandSchedule ds = GOFLEX__FOA_REPLY__DEMAND_SCHEDULE__INIT;
	struct foa_offer o = {0};
	double *energy = NULL;
	size_t n = 0;
	int64_t sid = 0;
	enum gf_err rc;

	rc = foa_state_offer_get(f, as->flexofferid, &o);
	if (rc == GF_ENOENT) {
		gf_log_warning("GF-FOA-UNKNOWN", "flexoffer.assign for an unknown offer %s from %s",
		               as->flexofferid, m->from_id);
		return GF_OK;
	}
	if (rc != GF_OK || !from_market_of(m, &o))
		goto out;
	if (strcmp(o.kind, "bid") == 0) {
		rc = foa_dso_assign(f, &o, as);
		if (rc == GF_OK)
			rc = foa_answers_echo(f, m, &o);
		goto out;
	}
	if (strcmp(o.state, "Canceled") == 0) {
		gf_log_warning("GF-FOA-ASSIGN", "offer %s was canceled: its assignment is ignored",
		               o.id);
		goto out;
	}
	if (strcmp(o.kind, "plug") == 0) {
		rc = foa_plugoffer_assign(f, &o, as);
		if (rc == GF_OK)
			rc = foa_answers_echo(f, m, &o);
		goto out;
	}
	rc = foa_state_schedule_id(f, o.id, s->has_scheduleid ? s->scheduleid : 0, &sid);
	if (rc == GF_OK)
		rc = foa_state_expand(s, &energy, &n, NULL);
	if (rc == GF_ERANGE) {
		/* Bad input, not a failure: recorded as handled, not retried. */
		gf_log_warning("GF-FOA-UNKNOWN", "assignment of %s longer than a year: ignored",
		               o.id);
		rc = GF_OK;
		goto out;
	}
	if (rc != GF_OK)
		goto out;
	ds.scheduleid = sid;
	ds.updateid = s->has_updateid ? s->updateid : 0;
	ds.flexofferid = o.ref;
	ds.starttime = s->starttime;
	ds.intervallength = GF_TIME_INTERVAL_S;
	ds.n_energy = n;
	ds.energy = energy;
	rc = reply(f, o.peer, true, 0, NULL, &ds, NULL);
	if (rc == GF_OK)
		rc = foa_state_offer_set_state(f, o.id, "Assigned");
	if (rc == GF_OK)
		rc = foa_answers_echo(f, m, &o);
	if (rc == GF_OK)
		gf_kpi_count(f->a, "foa.schedules_received", 1, NULL);
	if (rc == GF_OK)
		gf_log_info("GF-FOA-ASSIGN",
		            "offer %s: schedule %lld update %lld (%zu intervals) to xems.%s", o.id,
		            (long long)ds.scheduleid, (long long)ds.updateid, n, o.peer);
out:
	free(energy);
	foa_state_offer_clear(&o);
	return rc;
}
