/* SPDX-License-Identifier: MIT */
/*
 * clearing.c - gf-fmar clears one bid at its gate closure (docs/fmar.md).
 *
 * The bid offer becomes a struct gf_clear_bid (change = each slice's
 * non-zero bound, price = its maxTariff), the live aggregates (held, start
 * window and assignment deadline ahead) engine offers; gf_clear_heuristic
 * runs, and gf_clear_milp too when the instance is small, the lower
 * objective winning. Every aggregate whose schedule deviates from its
 * default gets flexoffer.ack and flexoffer.assign; the DSO FOA gets its
 * result (ack, then an assign with the accepted change per interval, zeros
 * when nothing cleared); cleared volume and price go to kpi/all. All of it,
 * the rows and the key "clear:<bid offer id>" are one transaction: a kill
 * -9 before the commit clears again at the next start, after it never.
 * Its steps serve reclear.c's later rounds too (clearing.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clear.h"
#include "clearing.h"
#include "payload/codec.h"
#include "fmar.h"
#include "agent/resend.h"
#include "engine/fo_message.h"
#include "kpi.pb-c.h"
#include "base/log.h"
#include "agent/once.h"
#include "base/timefmt.h"

#define DEV_TOL 1e-6

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

int fmar_clearing_parse_bid(const Goflex__FlexOffer *fo, const double *ref, size_t cap,
                            double *change, double *price, double *headroom, size_t *n_ref,
                            char *why, size_t whylen)
{
	size_t n = fo->n_flexofferprofileconstraints;
	const Goflex__FlexOfferSchedule *d = fo->defaultschedule;

	if (fo->startbeforeinterval != fo->startafterinterval)
		return snprintf(why, whylen, "startBeforeInterval must equal startAfterInterval"),
		       -1;
	if (fo->has_numsecondsperinterval && fo->numsecondsperinterval != GF_TIME_INTERVAL_S)
		return snprintf(why, whylen, "numSecondsPerInterval must be 900"), -1;
	if (n == 0 || n > cap || fo->startafterinterval < 0 || fo->startafterinterval > INT32_MAX)
		return snprintf(why, whylen, "%zu slices (1..%zu) from interval %" PRId64, n, cap,
		                fo->startafterinterval),
		       -1;
	if (d && d->n_scheduleslices != n)
		return snprintf(why, whylen, "the default schedule has %zu slices, not %zu",
		                d->n_scheduleslices, n),
		       -1;
	for (size_t k = 0; k < n; k++) {
		const Goflex__FlexOfferProfileConstraint *s = fo->flexofferprofileconstraints[k];
		const Goflex__TariffConstraint *ot = fo->flexoffertariffconstraint;
		double lo = -INFINITY, hi = INFINITY, p;
		enum fmar_price_source src =
		    fmar_bidprice_pick(s->tariffconstraint ? s->tariffconstraint->maxtariff : NAN,
		                       ref ? ref[k] : NAN, ot ? ot->maxtariff : NAN, &p);
		if (s->minduration != 1 || s->maxduration != 1)
			return snprintf(why, whylen, "slice %zu: not one interval", k), -1;
		for (size_t e = 0; e < s->n_energyconstraintlist; e++) {
			lo = fmax(lo, s->energyconstraintlist[e]->lower);
			hi = fmin(hi, s->energyconstraintlist[e]->upper);
		}
		if (!(lo <= 0 && hi >= 0) || !isfinite(lo) || !isfinite(hi))
			return snprintf(why, whylen, "slice %zu: bounds must be [0, r] or [r, 0]",
			                k),
			       -1;
		if (src == FMAR_PRICE_NONE)
			return snprintf(why, whylen,
			                "slice %zu: needs a maxTariff >= 0 (no price.reference is "
			                "known for interval %" PRId64 ")",
			                k, fo->startafterinterval + (int64_t)k),
			       -1;
		if (!isfinite(p) || p < 0)
			return snprintf(why, whylen, "slice %zu: needs a maxTariff >= 0", k), -1;
		change[k] = hi > 0 ? hi : lo;
		if (headroom)
			headroom[k] = 0;
		if (d) { /* the change is the default; [-h, 0] around 0 a headroom */
			double r = d->scheduleslices[k]->energyamount;
			if (!isfinite(r) || r < lo || r > hi || (r != 0 && lo < 0 && hi > 0))
				return snprintf(why, whylen,
				                "slice %zu: the default %g must be a bound, or 0",
				                k, r),
				       -1;
			change[k] = r;
			if (headroom && r == 0)
				headroom[k] = -lo;
		}
		price[k] = p;
		if (n_ref && src == FMAR_PRICE_REFERENCE)
			++*n_ref;
	}
	return (int)n;
}

static void agg_free(struct fmar_clearing *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->aggs[i].id);
		free(c->aggs[i].sender);
		gf_codec_free(&c->aggs[i].msg->base);
	}
	free(c->aggs);
}

void fmar_clearing_free(struct fmar_clearing *c)
{
	agg_free(c);
	gf_codec_free(c->bid_msg ? &c->bid_msg->base : NULL);
	gf_fo_set_free(&c->set);
	free(c->change);
	free(c->price);
	free(c->headroom);
	free(c->views);
	free(c->off);
	free(c->start);
	free(c->amount);
	free(c->dev);
	free(c->accepted);
	free(c->asked);
	free(c->prev);
	free(c->tariff);
}

static enum gf_err decode(const unsigned char *json, int len, Goflex__FlexOffer **out)
{
	ProtobufCMessage *m = NULL;
	char err[256];
	enum gf_err rc = gf_codec_from_json(&goflex__flex_offer__descriptor, (const char *)json,
	                                    (size_t)len, &m, err, sizeof(err));

	if (rc != GF_OK)
		gf_log_err("GF-FMAR-STORE", "a stored offer does not decode: %s", err);
	else
		*out = (Goflex__FlexOffer *)m;
	return rc;
}

/* The bid offer, if it is in state (held: waiting for its clearing;
 * cleared: for a re-clearing). GF_ENOENT if not. */
enum gf_err fmar_clearing_load_bid(struct fmar_clearing *c, const char *state)
{
	sqlite3 *db = gf_store_db(c->f->store);
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_EIO;
	double *ref = NULL;
	char why[256];
	size_t n;
	int T;

	if (!(st = gf_store_prepare(c->f->store,
	                            "SELECT sender, bid_id, body FROM fmar_offer WHERE id = ? AND"
	                            " kind = 'bid' AND state = ?")))
		goto out;
	sqlite3_bind_text(st, 1, c->offer_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = GF_ENOENT;
		goto out;
	}
	snprintf(c->dso, sizeof(c->dso), "%s", gf_store_text(st, 0));
	snprintf(c->bid_id, sizeof(c->bid_id), "%s", gf_store_text(st, 1));
	if ((rc = decode(sqlite3_column_text(st, 2), sqlite3_column_bytes(st, 2), &c->bid_msg)))
		goto out;
	n = c->bid_msg->n_flexofferprofileconstraints;
	rc = GF_ENOMEM;
	if (!(c->change = calloc(n, sizeof(double))) || !(c->price = calloc(n, sizeof(double))) ||
	    !(c->headroom = calloc(n, sizeof(double))) ||
	    !(c->accepted = calloc(n, sizeof(double))) ||
	    !(ref = calloc(n ? n : 1, sizeof(double))))
		goto out;
	/* The reference prices as they are now (a revision since the bid
	 * arrived counts), for the slices without a price of their own. */
	if ((rc = fmar_refprice_lookup(c->f, (int32_t)c->bid_msg->startafterinterval, n, ref)) !=
	    GF_OK)
		goto out;
	rc = GF_EINVAL;
	if ((T = fmar_clearing_parse_bid(c->bid_msg, ref, n, c->change, c->price, c->headroom,
	                                 &c->n_ref, why, sizeof(why))) < 0) {
		gf_log_err("GF-FMAR-STORE", "stored bid offer %s: %s", c->offer_id, why);
		goto out;
	}
	c->bid = (struct gf_clear_bid){(int32_t)c->bid_msg->startafterinterval, T, c->change,
	                               c->price, c->headroom};
	for (int t = 0; t < T; t++)
		c->requested += fabs(c->change[t]);
	rc = GF_OK;
out:
	if (rc == GF_EIO)
		gf_log_err("GF-FMAR-STORE", "cannot read bid offer %s: %s", c->offer_id,
		           sqlite3_errmsg(db));
	sqlite3_finalize(st);
	free(ref);
	return rc;
}

/* An aggregate as an engine offer, if it is live: its start window and its
 * assignment deadline are after the current interval. */
static bool live_offer(const struct fmar_clearing *c, const Goflex__FlexOffer *m, int32_t now,
                       struct gf_fo *o, struct gf_fo_deadlines *dl, double *buf, size_t cap)
{
	char why[256];

	if (gf_fo_from_message(m, o, buf, buf + cap, buf + 2 * cap, cap, why, sizeof(why)) ||
	    gf_fo_deadlines_from_message(m, dl, why, sizeof(why)))
		return false;
	(void)c;
	return dl->assignment_before > now && o->start_after > now;
}

static enum gf_err add_aggregate(struct fmar_clearing *c, sqlite3_stmt *st, int32_t now,
                                 double *buf, size_t cap, size_t *slices)
{
	struct gf_fo_deadlines dl;
	Goflex__FlexOffer *m = NULL;
	struct gf_fo o;
	struct fmar_agg *a;

	if (decode(sqlite3_column_text(st, 2), sqlite3_column_bytes(st, 2), &m) != GF_OK)
		return GF_OK; /* logged; the others still clear */
	if (!live_offer(c, m, now, &o, &dl, buf, cap)) {
		gf_codec_free(&m->base);
		return GF_OK;
	}
	a = realloc(c->aggs, (c->n + 1) * sizeof(*a));
	if (!a) {
		gf_codec_free(&m->base);
		return GF_ENOMEM;
	}
	c->aggs = a;
	a[c->n] = (struct fmar_agg){strdup(gf_store_text(st, 0)), strdup(gf_store_text(st, 1)), m};
	c->n++;
	if (!a[c->n - 1].id || !a[c->n - 1].sender)
		return GF_ENOMEM;
	*slices += (size_t)o.n;
	return GF_OK;
}

/* The live aggregates, into the engine's set. */
enum gf_err fmar_clearing_load_aggregates(struct fmar_clearing *c)
{
	sqlite3 *db = gf_store_db(c->f->store);
	size_t cap = (size_t)c->conf->max_offer_intervals, slices = 0, sum = 0;
	int32_t now = (int32_t)floor(gf_agent_now(c->f->a) / GF_TIME_INTERVAL_S);
	double *buf = calloc(3 * cap, sizeof(double));
	sqlite3_stmt *st = NULL;
	struct gf_fo_deadlines dl;
	struct gf_fo o;
	enum gf_err rc = GF_ENOMEM;
	int step;

	if (!buf)
		goto out;
	rc = GF_EIO;
	if (!(st = gf_store_prepare(c->f->store,
	                            "SELECT id, sender, body FROM fmar_offer WHERE kind = 'agg' AND"
	                            " state = 'held' ORDER BY id")))
		goto out;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = add_aggregate(c, st, now, buf, cap, &slices)) != GF_OK)
			goto out;
	}
	rc = GF_EIO;
	if (step != SQLITE_DONE)
		goto out;
	rc = GF_OK;
	if (c->n == 0)
		goto out;
	rc = GF_ENOMEM;
	if (gf_fo_set_init(&c->set, c->n, slices) != GF_OK ||
	    !(c->views = calloc(c->n, sizeof(*c->views))) ||
	    !(c->off = calloc(c->n, sizeof(*c->off))) ||
	    !(c->start = calloc(c->n, sizeof(*c->start))) ||
	    !(c->amount = calloc(slices, sizeof(double))) || !(c->dev = calloc(c->n, sizeof(bool))))
		goto out;
	for (size_t i = 0; i < c->n; i++) {
		live_offer(c, c->aggs[i].msg, now, &o, &dl, buf, cap);
		if ((rc = gf_fo_set_add_with_deadlines(&c->set, &o, &dl)) != GF_OK)
			goto out;
		gf_fo_set_get(&c->set, i, &c->views[i]);
		c->off[i] = sum;
		sum += (size_t)o.n;
	}
	rc = GF_OK;
out:
	if (rc == GF_EIO)
		gf_log_err("GF-FMAR-STORE", "cannot read the aggregates: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	free(buf);
	return rc;
}

/* The heuristic, and the MILP when small; the lower objective wins. */
void fmar_clearing_solve(struct fmar_clearing *c)
{
	struct gf_clear_options opt = {(double)c->conf->milp_time_limit_ms / 1e3, 0,
	                               (int)c->conf->heuristic_passes};
	struct gf_clear_result m = {.bound = NAN};
	struct timespec t0;
	size_t slices = c->set.slice_count;
	enum gf_err rc;

	c->res = (struct gf_clear_result){.start = c->start, .amount = c->amount, .bound = NAN};
	c->milp_status = "not run";
	if (c->n == 0) {
		c->status = "no_offer";
		c->solver = "none";
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = gf_clear_heuristic(&c->bid, c->views, c->n, &opt, &c->res);
	c->heur_ms = ms_since(&t0);
	c->solver = "heuristic";
	if (rc != GF_OK) {
		c->status = "error";
		snprintf(c->reason, sizeof(c->reason), "the engine refused the instance: %s",
		         gf_strerror(rc));
		return;
	}
	c->status = gf_clear_status_name(c->res.status);
	if (c->res.status != GF_CLEAR_FEASIBLE || c->n > (size_t)c->conf->milp_max_offers)
		return;
	m.start = malloc(c->n * sizeof(int32_t));
	m.amount = malloc(slices * sizeof(double));
	if (m.start && m.amount) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = gf_clear_milp(&c->bid, c->views, c->n, &opt, &m);
		c->milp_ms = ms_since(&t0);
		c->milp_status = rc == GF_OK ? gf_clear_status_name(m.status) : gf_strerror(rc);
		if (rc == GF_OK &&
		    (m.status == GF_CLEAR_OPTIMAL || m.status == GF_CLEAR_FEASIBLE) &&
		    m.objective < c->res.objective - 1e-9) {
			memcpy(c->start, m.start, c->n * sizeof(int32_t));
			memcpy(c->amount, m.amount, slices * sizeof(double));
			m.start = c->start;
			m.amount = c->amount;
			c->res = m;
			c->solver = "milp";
			c->status = gf_clear_status_name(m.status);
			return;
		}
	}
	free(m.start);
	free(m.amount);
}

static double at(const double *v, int32_t first, int32_t n, int32_t t)
{
	return t >= first && t < first + n ? v[t - first] : 0.0;
}

/* Which aggregates deviate, the change they deliver in the bid's
 * intervals, the accepted (clamped) change, the volume and the price. */
void fmar_clearing_outcome(struct fmar_clearing *c)
{
	bool usable = c->n > 0 &&
	              (c->res.status == GF_CLEAR_OPTIMAL || c->res.status == GF_CLEAR_FEASIBLE) &&
	              strcmp(c->status, "error") != 0;

	for (size_t i = 0; usable && i < c->n; i++) {
		const struct gf_fo *o = &c->views[i];
		const double *x = c->amount + c->off[i];
		bool dev = c->start[i] != o->start_after;
		for (int32_t k = 0; !dev && k < o->n; k++)
			dev = fabs(x[k] - o->dflt[k]) > DEV_TOL;
		c->dev[i] = dev;
		if (!dev)
			continue;
		c->deviating++;
		c->clearing_price =
		    fmax(c->clearing_price, fmax(isnan(o->tariff_min) ? 0 : o->tariff_min,
		                                 isnan(o->tariff_max) ? 0 : o->tariff_max));
		for (int32_t j = 0; j < c->bid.intervals; j++) {
			int32_t t = c->bid.start + j;
			c->accepted[j] +=
			    at(o->dflt, o->start_after, o->n, t) - at(x, c->start[i], o->n, t);
		}
	}
	for (int32_t j = 0; j < c->bid.intervals; j++) {
		double r = c->change[j];
		c->accepted[j] = fmin(fmax(c->accepted[j], fmin(0, r)), fmax(0, r));
		c->cleared += fabs(c->accepted[j]);
	}
	if (c->deviating == 0)
		c->clearing_price = 0;
	if (!c->reason[0] && c->deviating == 0)
		snprintf(c->reason, sizeof(c->reason), "%s: nothing cleared",
		         strcmp(c->status, "empty_bid") == 0 ? "empty bid"
		         : strcmp(c->status, "no_eligible") == 0
		             ? "no offer's tariff fits the price"
		         : strcmp(c->status, "no_offer") == 0 ? "no live aggregate"
		                                              : c->status);
	else if (!c->reason[0])
		snprintf(c->reason, sizeof(c->reason), "cleared %.6g of %.6g kWh at %.6g EUR/kWh",
		         c->cleared, c->requested, c->clearing_price);
}

/* flexoffer.assign with the schedule x (n intervals from start), each
 * slice at tariff[k] (NULL: the clearing price), kept for resends until
 * the offerer's echo. A bid offer's assign is an update of its result from
 * the second round on: updateId = the round, and only the echo of that
 * round answers it (token "u<updateId>"); an aggregate's is its only one. */
enum gf_err fmar_clearing_queue_assign(struct fmar_clearing *c, const char *role, const char *to,
                                       const char *offer_id, const char *label, int32_t start,
                                       const double *x, const double *tariff, int32_t n,
                                       int64_t update_id, bool is_bid)
{
	Goflex__FlexOfferAssign as = GOFLEX__FLEX_OFFER_ASSIGN__INIT;
	Goflex__FlexOfferSchedule s = GOFLEX__FLEX_OFFER_SCHEDULE__INIT;
	Goflex__ScheduleSlice *sl = calloc((size_t)n, sizeof(*sl));
	Goflex__ScheduleSlice **ptr = calloc((size_t)n, sizeof(*ptr));
	char when[GF_TIME_BUFSIZE], key[256], token[32];
	enum gf_err rc = GF_ENOMEM;

	if (!sl || !ptr)
		goto out;
	if ((rc = gf_time_format((int64_t)start * GF_TIME_INTERVAL_S * 1000, when, sizeof(when))))
		goto out;
	for (int32_t k = 0; k < n; k++) {
		goflex__schedule_slice__init(&sl[k]);
		sl[k].duration = 1;
		sl[k].energyamount = x[k];
		sl[k].has_tariff = true;
		sl[k].tariff = tariff ? tariff[k] : c->clearing_price;
		ptr[k] = &sl[k];
	}
	s.has_scheduleid = s.has_updateid = true;
	s.scheduleid = c->schedule_id;
	s.updateid = update_id;
	s.starttime = when;
	s.n_scheduleslices = (size_t)n;
	s.scheduleslices = ptr;
	as.flexofferid = (char *)offer_id;
	as.flexofferschedule = &s;
	as.label = (char *)label;
	/* Sent again until the offerer echoes it (docs/trading.md). */
	snprintf(key, sizeof(key), "assign:%s", offer_id);
	fmar_util_echo_token(token, sizeof(token), update_id);
	rc = gf_resend_queue(c->f->a, c->f->store, key, is_bid ? token : NULL, role, to,
	                     "flexoffer.assign", &as.base);
out:
	free(ptr);
	free(sl);
	return rc;
}

/* flexoffer.ack (accepted), then flexoffer.assign with the schedule: the
 * result of a first clearing. */
static enum gf_err queue_result(struct fmar_clearing *c, const char *role, const char *to,
                                const char *offer_id, const char *label, int64_t creation,
                                int32_t start, const double *x, int32_t n, const char *reason,
                                bool is_bid)
{
	Goflex__FlexOfferAck ack = GOFLEX__FLEX_OFFER_ACK__INIT;
	enum gf_err rc;

	ack.flexofferid = (char *)offer_id;
	ack.accepted = true;
	ack.reason = (char *)reason;
	ack.label = (char *)label;
	ack.has_creationinterval = true;
	ack.creationinterval = creation;
	if ((rc = gf_message_queue(c->f->a, c->f->store, role, to, "flexoffer.ack", &ack.base)))
		return rc;
	return fmar_clearing_queue_assign(c, role, to, offer_id, label, start, x, NULL, n, 0,
	                                  is_bid);
}

enum gf_err fmar_clearing_queue_kpi(struct fmar_clearing *c, const char *id, double value,
                                    const char *unit)
{
	Goflex__KpiSample k = GOFLEX__KPI_SAMPLE__INIT;
	char when[GF_TIME_BUFSIZE];
	enum gf_err rc = gf_time_format(c->observed_ms, when, sizeof(when));

	if (rc != GF_OK)
		return rc;
	k.kpiid = (char *)id;
	k.value = value;
	k.unit = (char *)unit;
	k.observedtime = when;
	k.has_periodseconds = true;
	k.periodseconds = (uint32_t)c->bid.intervals * GF_TIME_INTERVAL_S;
	return gf_message_queue(c->f->a, c->f->store, "kpi", "all", "kpi", &k.base);
}

/* The KPI time: the simulated now, after every earlier clearing's, so that
 * kpiId + observedTime (the receivers' key) stays unique. */
void fmar_clearing_observed_time(struct fmar_clearing *c)
{
	sqlite3_stmt *st = NULL;
	int64_t last = INT64_MIN;

	c->observed_ms = (int64_t)floor(gf_agent_now(c->f->a) * 1000);
	if ((st = gf_store_prepare(
	         c->f->store, "SELECT MAX(m) FROM (SELECT MAX(observed_ms) AS m FROM fmar_result"
	                      " UNION ALL SELECT MAX(observed_ms) FROM fmar_round)")) &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		last = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (last >= c->observed_ms)
		c->observed_ms = last + 1;
}

enum gf_err fmar_clearing_record_aggregate(struct fmar_clearing *c, size_t i)
{
	const struct fmar_agg *a = &c->aggs[i];
	const double *x = c->amount + c->off[i];
	int32_t n = c->views[i].n;
	char reason[256], *amounts = malloc((size_t)n * 26 + 1);
	size_t used = 0;
	enum gf_err rc = GF_ENOMEM;

	if (!amounts)
		goto out;
	amounts[0] = '\0';
	for (int32_t k = 0; k < n; k++)
		used += (size_t)snprintf(amounts + used, 26, "%s%.17g", k ? "," : "", x[k]);
	snprintf(reason, sizeof(reason), "assigned by bid %s", c->bid_id);
	if ((rc = queue_result(c, "fman", a->sender, a->id, a->msg->label, a->msg->creationinterval,
	                       c->start[i], x, n, reason, false)) ||
	    (rc = gf_store_run(
	         c->f->store,
	         "UPDATE fmar_offer SET state = 'assigned', assigned_by = ? WHERE id = ?", "tt",
	         c->offer_id, a->id)) ||
	    (rc = gf_store_run(
	         c->f->store,
	         "INSERT OR REPLACE INTO fmar_assign (bid_offer_id, offer_id, schedule_id,"
	         " start_interval, amounts) VALUES (?, ?, ?, ?, ?)",
	         "ttiit", c->offer_id, a->id, c->schedule_id, (int64_t)c->start[i], amounts)))
		goto out;
out:
	free(amounts);
	return rc;
}

/* The round's rows: what it asked and accepted, per interval at its price
 * (fmar_round_cleared, the base of the cumulative prices), and its summary
 * (fmar_round). */
enum gf_err fmar_clearing_record_round(struct fmar_clearing *c)
{
	enum gf_err rc = GF_OK;

	for (int32_t t = 0; t < c->bid.intervals && rc == GF_OK; t++)
		rc = gf_store_run(
		    c->f->store,
		    "INSERT OR REPLACE INTO fmar_round_cleared (bid_offer_id, round, interval,"
		    " cleared_kwh, price) VALUES (?, ?, ?, ?, ?)",
		    "tiidd", c->offer_id, c->round, (int64_t)(c->bid.start + t), c->accepted[t],
		    c->clearing_price);
	if (rc == GF_OK)
		rc = gf_store_run(
		    c->f->store,
		    "INSERT OR REPLACE INTO fmar_round (bid_offer_id, round, status, solver,"
		    " offers, eligible, deviating, requested_kwh, cleared_kwh, price, objective,"
		    " observed_ms, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    "tittiiiddddit", c->offer_id, c->round, c->status, c->solver, (int64_t)c->n,
		    (int64_t)c->res.eligible, (int64_t)c->deviating, c->requested, c->cleared,
		    c->clearing_price, c->res.objective, c->observed_ms, c->reason);
	return rc;
}

/* Everything the clearing causes, in one transaction with its key
 * (gf_store_once). */
static enum gf_err record(void *arg)
{
	struct fmar_clearing *c = arg;
	enum gf_err rc = GF_OK;

	fmar_clearing_observed_time(c);
	for (size_t i = 0; i < c->n; i++) {
		if (c->dev[i] && (rc = fmar_clearing_record_aggregate(c, i)) != GF_OK)
			return rc;
	}
	for (int32_t t = 0; t < c->bid.intervals; t++) {
		if ((rc =
		         gf_store_run(c->f->store,
		                      "INSERT OR REPLACE INTO fmar_cleared (bid_offer_id, interval,"
		                      " requested_kwh, cleared_kwh) VALUES (?, ?, ?, ?)",
		                      "tidd", c->offer_id, (int64_t)(c->bid.start + t),
		                      c->change[t], c->accepted[t])) != GF_OK)
			return rc;
	}
	if ((rc = fmar_clearing_record_round(c)) ||
	    (rc = queue_result(c, "foa", c->dso, c->offer_id, c->bid_msg->label,
	                       c->bid_msg->creationinterval, c->bid.start, c->accepted,
	                       c->bid.intervals, c->reason, true)) ||
	    (rc = fmar_clearing_queue_kpi(c, "fmar.cleared_kwh", c->cleared, "kWh")) ||
	    (rc =
	         fmar_clearing_queue_kpi(c, "fmar.clearing_price", c->clearing_price, "EUR/kWh")) ||
	    (rc = gf_store_run(
	         c->f->store,
	         "INSERT OR REPLACE INTO fmar_result (bid_offer_id, bid_id, status, solver,"
	         " offers, eligible, deviating, requested_kwh, cleared_kwh, price, objective,"
	         " observed_ms, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	         "ttttiiiddddit", c->offer_id, c->bid_id, c->status, c->solver, (int64_t)c->n,
	         (int64_t)c->res.eligible, (int64_t)c->deviating, c->requested, c->cleared,
	         c->clearing_price, c->res.objective, c->observed_ms, c->reason)) ||
	    (rc = gf_store_run(c->f->store, "UPDATE fmar_offer SET state = 'cleared' WHERE id = ?",
	                       "t", c->offer_id)))
		return rc;
	return GF_OK;
}

enum gf_err fmar_clearing_run(struct fmar *f, const char *offer_id)
{
	struct fmar_clearing c = {.f = f, .conf = gf_agent_conf(f->a), .offer_id = offer_id};
	char key[256];
	enum gf_err rc;

	c.res.bound = NAN;
	snprintf(key, sizeof(key), "clear:%s", offer_id);
	/* Cleared before: the caller knows what its timer stands for now. */
	if (gf_store_seen(f->store, key))
		return GF_EEXIST;
	if ((rc = fmar_clearing_load_bid(&c, "held")) == GF_ENOENT) {
		gf_log_debug("GF-FMAR-CLEARED", "bid offer %s is not waiting (withdrawn)",
		             offer_id);
		goto out;
	}
	if (rc != GF_OK || (rc = fmar_clearing_load_aggregates(&c)) != GF_OK)
		goto fail;
	fmar_clearing_solve(&c);
	fmar_clearing_outcome(&c);
	c.schedule_id = fmar_util_schedule_id(offer_id);
	/* A failure stops the agent (gf_store_once): not recorded, the bid
	 * stays held and clears at the next start. */
	if ((rc = gf_store_once(f->a, f->store, key, record, NULL, &c)) != GF_OK)
		goto out;
	fmar_util_outbox_flush(f);
	gf_log_notice("GF-FMAR-CLEARED",
	              "bid %s (%s): %s by %s in %.2f ms (milp: %s, %.2f ms); %zu live aggregates, "
	              "%d eligible, %d assigned; requested %.6g kWh, cleared %.6g kWh at %.6g "
	              "EUR/kWh; objective %.6g; %zu of %d intervals priced by price.reference",
	              c.bid_id, c.dso, c.status, c.solver, c.heur_ms, c.milp_status, c.milp_ms, c.n,
	              c.res.eligible, c.deviating, c.requested, c.cleared, c.clearing_price,
	              c.res.objective, c.n_ref, c.bid.intervals);
	goto out;
fail:
	/* Not recorded: the bid stays held and clears at the next start. */
	snprintf(key, sizeof(key), "cannot load the clearing of bid offer %.160s: %s", offer_id,
	         gf_strerror(rc));
	gf_agent_fail(f->a, key);
out:
	fmar_clearing_free(&c);
	return rc;
}
