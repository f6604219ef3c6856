/* SPDX-License-Identifier: MIT */
/*
 * gf-foa's DSO mode (D6.1 3.6, 7.2.9; docs/trading.md "Bid offers"): each
 * DOMS bid becomes one bid offer at FMAR, and FMAR's answers go back to the
 * DOMS as offer.feedback. Runs inside main.c's transaction per message, like xems.c.
 *
 * The bid offer keeps the bid's sign: its energy bounds are the kWh the DSO
 * asks for per interval (positive = less consumption), so the schedule FMAR
 * assigns to it is the cleared scheduleChange, also in the bid's sign.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "engine/fo_message.h"
#include "foa.h"
#include "base/log.h"
#include "agent/resend.h"
#include "base/timefmt.h"

/* The latest feedback is kept as the reply to the bid (on_bid's key): a
 * resent bid whose feedback was lost gets it again. */
static enum gf_err feedback(struct foa *f, const char *doms, Goflex__OfferFeedback *fb)
{
	char key[GF_ID_MAX + 200];

	gf_log_info("GF-FOA-FEEDBACK", "bid %s: %s to doms.%s", fb->bidid,
	            foa_state_name(fb->state), doms);
	snprintf(key, sizeof(key), "bid:%s", fb->bidid);
	return gf_resend_reply(f->a, f->store, key, "doms", doms, "offer.feedback", &fb->base);
}

static enum gf_err invalid(struct foa *f, const struct gf_message *m, const char *bid_id,
                           const char *why)
{
	Goflex__OfferFeedback fb = GOFLEX__OFFER_FEEDBACK__INIT;

	gf_log_notice("GF-FOA-BID", "bid %s of doms.%s refused: %s", bid_id, m->from_id, why);
	fb.bidid = (char *)bid_id;
	fb.state = GOFLEX__FLEX_OFFER_STATE__Invalid;
	fb.statereason = (char *)why;
	return feedback(f, m->from_id, &fb);
}

/* The bid's first interval into *start, or a reason in why. */
static bool bid_start(struct foa *f, const Goflex__Bid *bid, int64_t *start, char *why, size_t size)
{
	int64_t now = foa_state_now_interval(f), ms;

	if (!bid->starttime) {
		*start = now; /* D6.1 Table 1: absent = now */
		return true;
	}
	if (gf_time_parse(bid->starttime, strlen(bid->starttime), &ms) != GF_OK ||
	    ms % (GF_TIME_INTERVAL_S * 1000) != 0) {
		snprintf(why, size, "startTime is not at an interval boundary");
		return false;
	}
	*start = gf_time_interval(ms);
	if (*start < now) {
		snprintf(why, size, "startTime (interval %lld) is in the past (now %lld)",
		         (long long)*start, (long long)now);
		return false;
	}
	return true;
}

/*
 * The bid's series in 900 s intervals (FMAR takes unit slices only,
 * docs/trading.md): a longer intervalLength that is a multiple of 900 s is
 * split evenly (kWh shared, the price kept); a shorter one that divides 900 s
 * is summed (the price weighted by the energy); the headroom, kWh like the
 * change, is split or summed with it. *ch, *pr and *hr (NULL when the bid
 * has no headroom) are malloc'd (n values); why says what does not fit.
 */
static enum gf_err bid_series(const Goflex__Bid *b, double **ch, double **pr, double **hr,
                              size_t *n, char *why, size_t size)
{
	uint32_t len = b->intervallength, k = 1, g = 1;
	size_t m = b->n_schedulechange, out_n;
	double *c = NULL, *p = NULL, *h = NULL;

	if (len % GF_TIME_INTERVAL_S == 0)
		k = len / GF_TIME_INTERVAL_S;
	else if (len && GF_TIME_INTERVAL_S % len == 0)
		g = GF_TIME_INTERVAL_S / len;
	if ((k == 1 && g == 1 && len != GF_TIME_INTERVAL_S) || m % g != 0 || m * k > 366 * 96) {
		snprintf(why, size, "%zu intervals of %u s do not make whole %d s intervals", m,
		         len, GF_TIME_INTERVAL_S);
		return GF_EINVAL;
	}
	out_n = m * k / g;
	c = calloc(out_n ? out_n : 1, sizeof(*c));
	p = calloc(out_n ? out_n : 1, sizeof(*p));
	if (b->n_headroom)
		h = calloc(out_n ? out_n : 1, sizeof(*h));
	if (!c || !p || (b->n_headroom && !h)) {
		free(c);
		free(p);
		free(h);
		return GF_ENOMEM;
	}
	for (size_t u = 0; u < out_n; u++) {
		double e = 0, w = 0, pw = 0, ps = 0;

		for (size_t j = 0; j < g; j++) {
			size_t t = (u / k) * g + j;

			if (h)
				h[u] += b->headroom[t] / k;
			e += b->schedulechange[t];
			w += fabs(b->schedulechange[t]);
			pw += fabs(b->schedulechange[t]) * b->energyprice[t];
			ps += b->energyprice[t];
		}
		c[u] = e / k;
		/* One source interval: its price as it is, not w * p / w. */
		p[u] = g == 1 ? ps : w > 0 ? pw / w : ps / g;
	}
	/* Summed intervals where some asked something: no headroom there. */
	for (size_t u = 0; h && u < out_n; u++)
		if (c[u] != 0)
			h[u] = 0;
	*ch = c;
	*pr = p;
	*hr = h;
	*n = out_n;
	return GF_OK;
}

/* Builds the bid offer of docs/trading.md into *out (as stored): one
 * unit slice per interval, energy between 0 and the change, tariff between 0
 * and the price; no default schedule. With a headroom (hr, else NULL) the
 * default schedule is the change, and an interval that asks nothing and has
 * a headroom h gets the energy bounds [-h, 0]. */
static enum gf_err bid_offer(struct foa *f, const Goflex__Bid *bid, const double *hr,
                             const char *id, int64_t start, struct foa_doc *out)
{
	size_t n = bid->n_schedulechange;
	double *v = malloc((n ? n : 1) * 5 * sizeof(*v));
	Goflex__FlexOffer *fo = NULL;
	Goflex__Location loc = GOFLEX__LOCATION__INIT;
	char label[GF_ID_MAX + 80];
	int64_t now = foa_state_now_interval(f);
	/* start is a time of at most year 9999: an int32 interval. */
	struct gf_fo e = {.start_after = (int32_t)start,
	                  .n = (int32_t)n,
	                  .total_min = NAN,
	                  .total_max = NAN,
	                  .tariff_min = NAN,
	                  .tariff_max = NAN};
	struct gf_fo_message_head h = {.id = id,
	                               .label = label,
	                               .offered_by = f->id,
	                               .state = GOFLEX__FLEX_OFFER_STATE__Offered,
	                               .creation = now < start ? now : start,
	                               .acceptance_before = start,
	                               .assignment_before = start};
	enum gf_err rc = GF_ENOMEM;

	if (!v)
		goto out;
	snprintf(label, sizeof(label), "bid:%s", bid->bidid);
	for (size_t t = 0; t < n; t++) {
		double x = bid->schedulechange[t],
		       p = t < bid->n_energyprice ? bid->energyprice[t] : 0;

		v[t] = fmin(0, x);
		if (hr && x == 0)
			v[t] = -hr[t];
		v[n + t] = fmax(0, x);
		v[2 * n + t] = fmin(0, p);
		v[3 * n + t] = fmax(0, p);
		v[4 * n + t] = x;
	}
	e.lower = v;
	e.upper = v + n;
	if (hr)
		e.dflt = v + 4 * n;
	h.slice_tariff_min = v + 2 * n;
	h.slice_tariff_max = v + 3 * n;
	rc = gf_fo_to_message(&e, &h, &fo);
	if (rc == GF_OK) {
		/* The bid's grid point, where FMAR validates its delivery
		 * (docs/fmar.md, "Delivery"). Borrowed: the message's free
		 * leaves it. */
		loc.gridpointid = bid->gridpointid;
		fo->locationid = &loc;
		rc = foa_state_doc_encode(&fo->base, out);
	}
	if (rc == GF_OK)
		rc = foa_answers_offer_queue(f, "fmar", f->conf->fmar_id, fo);
out:
	gf_fo_message_free(fo);
	free(v);
	return rc;
}

enum gf_err foa_dso_bid(struct foa *f, const struct gf_message *m)
{
	const Goflex__Bid *in = (const Goflex__Bid *)m->body;
	Goflex__Bid bid = *in;
	struct foa_offer row = {0};
	char id[2 * GF_ID_MAX + 80], why[256];
	double *ch = NULL, *pr = NULL, *hr = NULL;
	int64_t start = 0;
	size_t n = 0;
	enum gf_err rc;

	if (!bid_start(f, in, &start, why, sizeof(why)))
		return invalid(f, m, in->bidid, why);
	if (in->n_schedulechange != in->n_energyprice)
		return invalid(f, m, in->bidid, "scheduleChange and energyPrice differ in length");
	if (in->n_headroom && in->n_headroom != in->n_schedulechange)
		return invalid(f, m, in->bidid, "headroom and scheduleChange differ in length");
	for (size_t t = 0; t < in->n_headroom; t++)
		if (!(in->headroom[t] >= 0) || !isfinite(in->headroom[t]) ||
		    (in->headroom[t] > 0 && in->schedulechange[t] != 0)) {
			snprintf(
			    why, sizeof(why),
			    "headroom[%zu] = %g: a headroom is >= 0, and 0 where scheduleChange "
			    "asks something",
			    t, in->headroom[t]);
			return invalid(f, m, in->bidid, why);
		}
	rc = bid_series(in, &ch, &pr, &hr, &n, why, sizeof(why));
	if (rc == GF_EINVAL)
		return invalid(f, m, in->bidid, why);
	if (rc != GF_OK)
		return rc;
	/* Kept as the FOA saw it, in 900 s intervals, for the feedback. */
	bid.intervallength = GF_TIME_INTERVAL_S;
	bid.n_schedulechange = bid.n_energyprice = n;
	bid.schedulechange = ch;
	bid.energyprice = pr;
	bid.n_headroom = hr ? n : 0;
	bid.headroom = hr;
	snprintf(id, sizeof(id), "%s-bid-%s", f->id, bid.bidid);
	rc = foa_state_doc_encode(&bid.base, &row.source);
	if (rc == GF_OK)
		rc = bid_offer(f, &bid, hr, id, start, &row.offer);
	if (rc != GF_OK)
		goto out;
	row.id = id;
	row.kind = "bid";
	row.peer = (char *)m->from_id;
	row.ref = bid.bidid;
	row.state = "Offered";
	row.deadline = start;
	rc = foa_state_offer_put(f, &row);
	if (rc == GF_OK)
		gf_log_info("GF-FOA-BID",
		            "bid %s of doms.%s: offer %s (%zu intervals from %lld) to fmar.%s",
		            bid.bidid, m->from_id, id, n, (long long)start, f->conf->fmar_id);
out:
	free(ch);
	free(pr);
	free(hr);
	foa_state_doc_free(&row.source);
	foa_state_doc_free(&row.offer);
	return rc;
}

enum gf_err foa_dso_ack(struct foa *f, const struct foa_offer *o, const Goflex__FlexOfferAck *ack)
{
	Goflex__OfferFeedback fb = GOFLEX__OFFER_FEEDBACK__INIT;
	enum gf_err rc;

	if (strcmp(o->state, "Assigned") == 0 || strcmp(o->state, "Executed") == 0) {
		gf_log_info("GF-FOA-ACK", "bid offer %s already %s: acknowledgement kept out",
		            o->id, o->state);
		return GF_OK;
	}
	fb.bidid = o->ref;
	fb.flexofferid = o->id;
	fb.state =
	    ack->accepted ? GOFLEX__FLEX_OFFER_STATE__Accepted : GOFLEX__FLEX_OFFER_STATE__Rejected;
	fb.statereason = ack->reason;
	rc = foa_state_offer_set_state(f, o->id, foa_state_name(fb.state));
	if (rc == GF_OK)
		rc = feedback(f, o->peer, &fb);
	return rc;
}

/*
 * FMAR updates a bid's result when it re-clears what is left of it
 * (docs/fmar.md): the same scheduleId, updateId = the round, the amounts
 * cumulative. Each update is a new assignment (its own key) and a new
 * Assigned feedback; one older than the newest applied (a late resend) is
 * kept out. The newest updateId applied per bid offer is a row of
 * foa_counter ("bid-update:<offer id>"), in the assignment's transaction.
 * *stale says whether update_id is older.
 */
static enum gf_err newest_update(struct foa *f, const char *offer_id, int64_t update_id,
                                 bool *stale)
{
	sqlite3 *db = gf_store_db(f->store);
	sqlite3_stmt *st = NULL;
	char name[2 * GF_ID_MAX + 100];
	enum gf_err rc = GF_EIO;
	int step;

	snprintf(name, sizeof(name), "bid-update:%s", offer_id);
	*stale = false;
	if (!(st = gf_store_prepare(f->store, "SELECT value FROM foa_counter WHERE name = ?")))
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*stale = sqlite3_column_int64(st, 0) > update_id;
	else if (step != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (*stale) {
		rc = GF_OK;
		goto out;
	}
	if (!(st = gf_store_prepare(
	          f->store, "INSERT OR REPLACE INTO foa_counter (name, value) VALUES (?, ?)")))
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, update_id);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = GF_OK;
out:
	if (rc != GF_OK)
		gf_log_err("GF-FOA-STORE", "cannot read or record the result of %s: %s", offer_id,
		           sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

enum gf_err foa_dso_assign(struct foa *f, const struct foa_offer *o,
                           const Goflex__FlexOfferAssign *as)
{
	const Goflex__FlexOfferSchedule *s = as->flexofferschedule;
	Goflex__OfferFeedback fb = GOFLEX__OFFER_FEEDBACK__INIT;
	ProtobufCMessage *body = NULL;
	const Goflex__Bid *bid;
	double *energy = NULL, *tariff = NULL;
	int64_t ms = 0, offset;
	size_t n = 0;
	bool stale = false;
	enum gf_err rc;

	rc = newest_update(f, o->id, s && s->has_updateid ? s->updateid : 0, &stale);
	if (rc != GF_OK || stale) {
		if (stale)
			gf_log_info(
			    "GF-FOA-ASSIGN",
			    "bid offer %s: an older result (update %lld) than the one applied: "
			    "kept out",
			    o->id, (long long)s->updateid);
		return rc;
	}
	rc = foa_state_doc_decode(o, &o->source, &goflex__bid__descriptor, &body);
	if (rc != GF_OK)
		goto out;
	bid = (const Goflex__Bid *)body;
	rc = foa_state_expand(s, &energy, &n, &tariff);
	if (rc == GF_OK && gf_time_parse(s->starttime, strlen(s->starttime), &ms) != GF_OK)
		rc = GF_EPARSE;
	if (rc == GF_ERANGE || rc == GF_EPARSE) {
		/* Bad input, not a failure: recorded as handled, not retried. */
		gf_log_warning("GF-FOA-UNKNOWN", "assignment of %s: %s: ignored", o->id,
		               rc == GF_ERANGE ? "longer than a year" : "bad startTime");
		rc = GF_OK;
		goto out;
	}
	if (rc != GF_OK)
		goto out;
	/* The cleared price: the slice's tariff, else the bid's own price for
	 * that interval (the most the DSO pays). */
	offset = gf_time_interval(ms) - o->deadline;
	for (size_t k = 0; k < n; k++) {
		int64_t t = offset + (int64_t)k;

		if (isnan(tariff[k]))
			tariff[k] =
			    t >= 0 && (size_t)t < bid->n_energyprice ? bid->energyprice[t] : 0;
	}
	fb.bidid = o->ref;
	fb.flexofferid = o->id;
	fb.state = GOFLEX__FLEX_OFFER_STATE__Assigned;
	fb.starttime = s->starttime;
	fb.has_intervallength = true;
	fb.intervallength = GF_TIME_INTERVAL_S;
	fb.n_schedulechange = fb.n_energyprice = n;
	fb.schedulechange = energy;
	fb.energyprice = tariff;
	rc = foa_state_offer_set_state(f, o->id, "Assigned");
	if (rc == GF_OK)
		rc = feedback(f, o->peer, &fb);
out:
	free(energy);
	free(tariff);
	gf_codec_free(body);
	return rc;
}

enum gf_err foa_dso_executed(struct foa *f, const struct foa_offer *o,
                             const Goflex__FlexOfferAck *ack)
{
	const Goflex__FlexOfferExecution *ex = ack->execution;
	Goflex__OfferFeedback fb = GOFLEX__OFFER_FEEDBACK__INIT;

	/* The delivered change in the bid's sign (FMAR sends it so), per
	 * interval, at the price of the cleared change. */
	fb.bidid = o->ref;
	fb.flexofferid = o->id;
	fb.state = GOFLEX__FLEX_OFFER_STATE__Executed;
	fb.statereason = ack->reason;
	fb.starttime = ex->starttime;
	fb.has_intervallength = true;
	fb.intervallength = ex->intervallength;
	fb.n_schedulechange = ex->n_deliveredenergy;
	fb.schedulechange = ex->deliveredenergy;
	if (ex->n_energyprice == ex->n_deliveredenergy) {
		fb.n_energyprice = ex->n_energyprice;
		fb.energyprice = ex->energyprice;
	}
	return feedback(f, o->peer, &fb);
}
