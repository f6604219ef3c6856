/* SPDX-License-Identifier: MIT */
/*
 * reclear.c - gf-fmar's second (and later) rounds (docs/fmar.md, "Re-clearing
 * the remainder"): after a bid's clearing, an aggregate that arrives (or is
 * updated) and could serve what the bid still asks makes a re-clearing due
 * a little later (reclear_delay_s, simulated), so that aggregates arriving
 * together share one round. The pending round is a row of fmar_reclear,
 * written in the transaction that took the aggregate and deleted in the
 * round's own transaction (below): a kill -9 in between runs the round at
 * the next start, never twice. The round is the first clearing's steps
 * (clearing.h) on the remainder, with its own way of recording.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clear.h"
#include "clearing.h"
#include "payload/codec.h"
#include "fmar.h"
#include "engine/fo_message.h"
#include "base/log.h"
#include "agent/once.h"
#include "base/timefmt.h"

/* The remainder of a bid offer (first interval start, T
 * intervals, the requested change): prev[t] the change accepted so far
 * (table fmar_cleared), rem[t] = change[t] - prev[t] in the intervals still
 * open (not begun and not within gate_lead_s of their start), 0 in the
 * others. *left counts the open intervals with more than 1e-6 kWh left.
 * GF_EIO when the store cannot be read. */
static enum gf_err fmar_remainder(struct fmar *f, const char *offer_id, int32_t start, int T,
                                  const double *change, double *prev, double *rem, int *left);

#define LEFT_TOL 1e-6

static enum gf_err fmar_remainder(struct fmar *f, const char *offer_id, int32_t start, int T,
                                  const double *change, double *prev, double *rem, int *left)
{
	const struct fmar_conf *c = gf_agent_conf(f->a);
	sqlite3 *db = gf_store_db(f->store);
	sqlite3_stmt *st = NULL;
	double now = gf_agent_now(f->a);
	enum gf_err rc = GF_EIO;
	int step;

	for (int t = 0; t < T; t++)
		prev[t] = 0;
	if (!(st = gf_store_prepare(f->store, "SELECT interval, cleared_kwh FROM fmar_cleared WHERE"
	                                      " bid_offer_id = ?")))
		goto out;
	sqlite3_bind_text(st, 1, offer_id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0) - start;
		if (t >= 0 && t < T)
			prev[t] = sqlite3_column_double(st, 1);
	}
	if (step != SQLITE_DONE)
		goto out;
	*left = 0;
	for (int t = 0; t < T; t++) {
		/* Open: the interval's own gate (gate_lead_s before it) is ahead,
		 * the rule of the bid's first clearing applied per interval. */
		bool open = now < (double)(start + t) * GF_TIME_INTERVAL_S - (double)c->gate_lead_s;
		rem[t] = open ? change[t] - prev[t] : 0;
		if (fabs(rem[t]) <= LEFT_TOL)
			rem[t] = 0;
		else
			(*left)++;
	}
	rc = GF_OK;
out:
	if (rc != GF_OK)
		gf_log_err("GF-FMAR-STORE", "cannot read what bid offer %s cleared: %s", offer_id,
		           sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* Whether aggregate o could serve the remainder rem of a bid from interval
 * start: its window [start_after, start_after + tf + n) meets an interval
 * with something left, and its asking tariff fits the remainder's lowest
 * price (gf_clear_eligible, the engine's own rule). */
static bool could_serve(const struct gf_fo *o, int32_t start, int T, const double *rem,
                        const double *price)
{
	struct gf_clear_bid b = {start, T, rem, price, NULL};
	int32_t from = o->start_after, to = o->start_after + o->tf + o->n;
	bool meets = false;

	for (int t = 0; t < T && !meets; t++)
		meets = rem[t] != 0 && start + t >= from && start + t < to;
	return meets && gf_clear_eligible(&b, o);
}

/* The bid offer of row st (id, body) against aggregate o: due or not. */
static enum gf_err consider_bid(struct fmar *f, sqlite3_stmt *st, const struct gf_fo *o, bool *due)
{
	const char *id = gf_store_text(st, 0);
	const struct fmar_conf *c = gf_agent_conf(f->a);
	ProtobufCMessage *m = NULL;
	sqlite3_stmt *ins = NULL;
	double *buf = NULL;
	char err[256];
	enum gf_err rc;
	int T, left = 0;
	int32_t start;
	size_t n;

	rc = gf_codec_from_json(&goflex__flex_offer__descriptor, gf_store_text(st, 1),
	                        (size_t)sqlite3_column_bytes(st, 1), &m, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-FMAR-STORE", "stored bid offer %s does not decode: %s", id, err);
		return GF_OK; /* its clearing said so too; the others still count */
	}
	n = ((Goflex__FlexOffer *)m)->n_flexofferprofileconstraints;
	rc = GF_ENOMEM;
	if (!(buf = calloc(5 * (n ? n : 1), sizeof(double))))
		goto out;
	if ((rc = fmar_refprice_lookup(f, (int32_t)((Goflex__FlexOffer *)m)->startafterinterval, n,
	                               buf + 4 * n)) != GF_OK)
		goto out;
	T = fmar_clearing_parse_bid((Goflex__FlexOffer *)m, buf + 4 * n, n, buf, buf + n, NULL,
	                            NULL, err, sizeof(err));
	if (T < 0)
		goto out;
	start = (int32_t)((Goflex__FlexOffer *)m)->startafterinterval;
	if ((rc = fmar_remainder(f, id, start, T, buf, buf + 2 * n, buf + 3 * n, &left)) != GF_OK)
		goto out;
	if (!left || !could_serve(o, start, T, buf + 3 * n, buf + n))
		goto out;
	rc = GF_EIO;
	if (!(ins = gf_store_prepare(f->store,
	                             "INSERT OR IGNORE INTO fmar_reclear (bid_offer_id, due_s)"
	                             " VALUES (?, ?)")))
		goto out;
	sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_double(ins, 2, gf_agent_now(f->a) + (double)c->reclear_delay_s);
	if (sqlite3_step(ins) != SQLITE_DONE)
		goto out;
	if (sqlite3_changes(gf_store_db(f->store)) > 0) {
		*due = true;
		gf_log_info("GF-FMAR-RECLEAR",
		            "bid offer %s still asks for %d intervals: re-clearing in %ld s", id,
		            left, c->reclear_delay_s);
	}
	rc = GF_OK;
out:
	if (rc == GF_EIO)
		gf_log_err("GF-FMAR-STORE", "cannot schedule a re-clearing of %s: %s", id,
		           sqlite3_errmsg(gf_store_db(f->store)));
	sqlite3_finalize(ins);
	free(buf);
	gf_codec_free(m);
	return rc;
}

enum gf_err fmar_reclear_consider(struct fmar *f, const Goflex__FlexOffer *fo, bool *due)
{
	const struct fmar_conf *c = gf_agent_conf(f->a);
	size_t cap = (size_t)c->max_offer_intervals;
	double *buf = NULL;
	sqlite3_stmt *st = NULL;
	struct gf_fo o;
	char why[256];
	enum gf_err rc = GF_OK;
	int step;

	if (!c->reclear)
		return GF_OK;
	if (!(buf = calloc(3 * cap, sizeof(double))))
		return GF_ENOMEM;
	/* Taken, so the engine can read it (check_aggregate). */
	if (gf_fo_from_message(fo, &o, buf, buf + cap, buf + 2 * cap, cap, why, sizeof(why)) !=
	    GF_OK)
		goto out;
	rc = GF_EIO;
	/* Cleared bids not yet due whose last interval is ahead. */
	if (!(st = gf_store_prepare(
	          f->store, "SELECT id, body FROM fmar_offer WHERE kind = 'bid' AND"
	                    " state = 'cleared' AND id NOT IN (SELECT bid_offer_id FROM"
	                    " fmar_reclear) AND json_extract(body, '$.startAfterInterval')"
	                    " + json_array_length(body, '$.flexOfferProfileConstraints') > ?"
	                    " ORDER BY id")))
		goto out;
	sqlite3_bind_int64(st, 1, (int64_t)floor(gf_agent_now(f->a) / GF_TIME_INTERVAL_S));
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = consider_bid(f, st, &o, due)) != GF_OK)
			goto out;
	}
	rc = step == SQLITE_DONE ? GF_OK : GF_EIO;
out:
	if (rc == GF_EIO)
		gf_log_err("GF-FMAR-STORE", "cannot read the cleared bids: %s",
		           sqlite3_errmsg(gf_store_db(f->store)));
	sqlite3_finalize(st);
	free(buf);
	return rc;
}

/* --- the round (clearing.c's steps on the remainder) ------------------------------ */

/* The due re-clearing of c->offer_id and its round number (1 + the last
 * round's). GF_ENOENT when none is due. */
static enum gf_err load_round(struct fmar_clearing *c)
{
	sqlite3 *db = gf_store_db(c->f->store);
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_EIO;
	int step;

	if (!(st = gf_store_prepare(
	          c->f->store, "SELECT (SELECT COALESCE(MAX(round), 0) + 1 FROM fmar_round WHERE"
	                       " bid_offer_id = ?1) FROM fmar_reclear WHERE bid_offer_id = ?1")))
		goto out;
	sqlite3_bind_text(st, 1, c->offer_id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		c->round = sqlite3_column_int64(st, 0);
	rc = step == SQLITE_ROW ? GF_OK : step == SQLITE_DONE ? GF_ENOENT : GF_EIO;
out:
	if (rc == GF_EIO)
		gf_log_err("GF-FMAR-STORE", "cannot read the re-clearing of %s: %s", c->offer_id,
		           sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* The bid's request becomes the remainder: what is left of each open
 * interval. *left counts the intervals with something left. */
static enum gf_err take_remainder(struct fmar_clearing *c, int *left)
{
	size_t T = (size_t)c->bid.intervals;
	double *rem = calloc(T, sizeof(double));
	enum gf_err rc = GF_ENOMEM;

	if (!rem || !(c->prev = calloc(T, sizeof(double))) ||
	    !(c->tariff = calloc(T, sizeof(double))))
		goto out;
	rc = fmar_remainder(c->f, c->offer_id, c->bid.start, c->bid.intervals, c->change, c->prev,
	                    rem, left);
	if (rc != GF_OK)
		goto out;
	c->asked = c->change;
	c->change = rem;
	rem = NULL;
	c->bid.change = c->change;
	/* The first clearing may have used the headroom; what is left of it
	 * is not recorded (only the requested intervals' change is): a
	 * re-clearing has none rather than too much. */
	c->bid.headroom = NULL;
	c->bid_requested = c->requested;
	c->requested = 0;
	for (size_t t = 0; t < T; t++)
		c->requested += fabs(c->change[t]);
out:
	free(rem);
	return rc;
}

/* After this round's rows: the cumulative result's price per interval
 * (the volume-weighted price of the rounds that cleared something there;
 * the highest round price where none did), its total and mean price. */
static enum gf_err cumulative_prices(struct fmar_clearing *c)
{
	sqlite3 *db = gf_store_db(c->f->store);
	sqlite3_stmt *st = NULL;
	double top = 0, paid = 0;
	enum gf_err rc = GF_EIO;
	int step;

	if (!(st = gf_store_prepare(
	          c->f->store,
	          "SELECT interval, SUM(ABS(cleared_kwh) * price), SUM(ABS(cleared_kwh)),"
	          " MAX(price) FROM fmar_round_cleared WHERE bid_offer_id = ?"
	          " GROUP BY interval")))
		goto out;
	sqlite3_bind_text(st, 1, c->offer_id, -1, SQLITE_STATIC);
	for (int32_t t = 0; t < c->bid.intervals; t++)
		c->tariff[t] = NAN;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0) - c->bid.start;
		double w = sqlite3_column_double(st, 2);
		top = fmax(top, sqlite3_column_double(st, 3));
		if (t >= 0 && t < c->bid.intervals && w > 1e-12)
			c->tariff[t] = sqlite3_column_double(st, 1) / w;
	}
	if (step != SQLITE_DONE)
		goto out;
	c->total = 0;
	for (int32_t t = 0; t < c->bid.intervals; t++) {
		if (isnan(c->tariff[t]))
			c->tariff[t] = top;
		c->total += fabs(c->prev[t]);
		paid += fabs(c->prev[t]) * c->tariff[t];
	}
	c->mean_price = c->total > 0 ? paid / c->total : 0;
	rc = GF_OK;
out:
	if (rc != GF_OK)
		gf_log_err("GF-FMAR-STORE", "cannot total the rounds of %s: %s", c->offer_id,
		           sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* A round that assigned something: the new assignments, the cumulative
 * change per interval (fmar_cleared, c->prev from here on), the DSO FOA's
 * updated result and the KPI totals. */
static enum gf_err record_gain(struct fmar_clearing *c)
{
	enum gf_err rc = GF_OK;

	for (size_t i = 0; i < c->n && rc == GF_OK; i++)
		if (c->dev[i])
			rc = fmar_clearing_record_aggregate(c, i);
	for (int32_t t = 0; t < c->bid.intervals && rc == GF_OK; t++) {
		c->prev[t] += c->accepted[t];
		rc = gf_store_run(c->f->store,
		                  "INSERT OR REPLACE INTO fmar_cleared (bid_offer_id, interval,"
		                  " requested_kwh, cleared_kwh) VALUES (?, ?, ?, ?)",
		                  "tidd", c->offer_id, (int64_t)(c->bid.start + t), c->asked[t],
		                  c->prev[t]);
	}
	if (rc == GF_OK)
		rc = fmar_clearing_record_round(c);
	if (rc == GF_OK)
		rc = cumulative_prices(c);
	if (rc == GF_OK)
		rc = fmar_clearing_queue_assign(c, "foa", c->dso, c->offer_id, c->bid_msg->label,
		                                c->bid.start, c->prev, c->tariff, c->bid.intervals,
		                                c->round, true);
	if (rc == GF_OK)
		rc = fmar_clearing_queue_kpi(c, "fmar.cleared_kwh", c->total, "kWh");
	if (rc == GF_OK)
		rc = fmar_clearing_queue_kpi(c, "fmar.clearing_price", c->mean_price, "EUR/kWh");
	if (rc == GF_OK)
		rc = gf_store_run(c->f->store,
		                  "UPDATE fmar_result SET cleared_kwh = ?, price = ?, deviating ="
		                  " COALESCE(deviating, 0) + ?, observed_ms = ?, reason = ? WHERE"
		                  " bid_offer_id = ?",
		                  "ddiitt", c->total, c->mean_price, (int64_t)c->deviating,
		                  c->observed_ms, c->reason, c->offer_id);
	return rc;
}

/* The round in one transaction with its key (gf_store_once): a round that assigned nothing
 * is recorded (fmar_round) and sends nothing; either way the due row goes. */
static enum gf_err record_reclear(void *arg)
{
	struct fmar_clearing *c = arg;
	enum gf_err rc;

	fmar_clearing_observed_time(c);
	if (c->deviating > 0)
		rc = record_gain(c);
	else
		rc = fmar_clearing_record_round(c);
	if (rc == GF_OK)
		rc = gf_store_run(c->f->store, "DELETE FROM fmar_reclear WHERE bid_offer_id = ?",
		                  "t", c->offer_id);
	return rc;
}

void fmar_reclear_run(struct fmar *f, const char *offer_id)
{
	struct fmar_clearing c = {.f = f, .conf = gf_agent_conf(f->a), .offer_id = offer_id};
	char key[256], why[sizeof(c.reason)];
	enum gf_err rc;
	int left = 0;

	c.res.bound = NAN;
	if ((rc = load_round(&c)) == GF_ENOENT) {
		gf_log_debug("GF-FMAR-RECLEARED", "bid offer %s: no re-clearing due", offer_id);
		goto out;
	}
	if (rc == GF_OK && (rc = fmar_clearing_load_bid(&c, "cleared")) == GF_ENOENT) {
		/* Only cleared bids are made due, and that state is final. */
		gf_log_err("GF-FMAR-RECLEARED", "bid offer %s is due but not cleared: left alone",
		           offer_id);
		goto out;
	}
	if (rc != GF_OK || (rc = take_remainder(&c, &left)) != GF_OK)
		goto fail;
	snprintf(key, sizeof(key), "clear:%s:%" PRId64, offer_id, c.round);
	/* Nothing left (the remaining intervals closed while it waited): a
	 * round without offers, recorded so that it ends. */
	if (left > 0 && (rc = fmar_clearing_load_aggregates(&c)) != GF_OK)
		goto fail;
	fmar_clearing_solve(&c);
	fmar_clearing_outcome(&c);
	c.schedule_id = fmar_util_schedule_id(offer_id);
	if (left == 0)
		snprintf(c.reason, sizeof(c.reason), "nothing left open");
	memcpy(why, c.reason, sizeof(why));
	snprintf(c.reason, sizeof(c.reason), "round %" PRId64 ": %.200s", c.round, why);
	/* A failure stops the agent (gf_store_once): still due, re-cleared
	 * at the next start. */
	if (gf_store_once(f->a, f->store, key, record_reclear, NULL, &c) != GF_OK)
		goto out;
	fmar_util_outbox_flush(f);
	c.total = 0;
	for (int32_t t = 0; t < c.bid.intervals; t++)
		c.total += fabs(c.prev[t]);
	gf_log_notice("GF-FMAR-RECLEARED",
	              "bid %s (%s) round %" PRId64 ": %s by %s in %.2f ms (milp: %s, %.2f ms); %zu "
	              "live aggregates, %d eligible, %d assigned; left %.6g kWh, cleared %.6g kWh "
	              "at %.6g EUR/kWh; %.6g of %.6g kWh cleared in all",
	              c.bid_id, c.dso, c.round, c.status, c.solver, c.heur_ms, c.milp_status,
	              c.milp_ms, c.n, c.res.eligible, c.deviating, c.requested, c.cleared,
	              c.clearing_price, c.total, c.bid_requested);
	goto out;
fail:
	/* Not recorded: still due, re-cleared at the next start. */
	snprintf(key, sizeof(key), "cannot load the re-clearing of bid offer %.160s: %s", offer_id,
	         gf_strerror(rc));
	gf_agent_fail(f->a, key);
out:
	fmar_clearing_free(&c);
}
