/* SPDX-License-Identifier: MIT */
/*
 * reclear.c - gf-fmar's second (and later) rounds (docs/fmar.md, "Re-clearing
 * the remainder"): after a bid's clearing, an aggregate that arrives (or is
 * updated) and could serve what the bid still asks makes a re-clearing due
 * a little later (reclear_delay_s, simulated), so that aggregates arriving
 * together share one round. The pending round is a row of fmar_reclear,
 * written in the transaction that took the aggregate and deleted in the
 * round's own transaction (clearing.c): a kill -9 in between runs the round
 * at the next start, never twice.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clear.h"
#include "codec.h"
#include "fmar.h"
#include "fo_message.h"
#include "log.h"
#include "timefmt.h"

#define LEFT_TOL 1e-6

enum gf_err fmar_remainder(struct fmar *f, const char *offer_id, int32_t start, int T,
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
	if (sqlite3_prepare_v2(db,
	                       "SELECT interval, cleared_kwh FROM fmar_cleared WHERE"
	                       " bid_offer_id = ?",
	                       -1, &st, NULL) != SQLITE_OK)
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
	struct gf_clear_bid b = {start, T, rem, price};
	int32_t from = o->start_after, to = o->start_after + o->tf + o->n;
	bool meets = false;

	for (int t = 0; t < T && !meets; t++)
		meets = rem[t] != 0 && start + t >= from && start + t < to;
	return meets && gf_clear_eligible(&b, o);
}

/* The bid offer of row st (id, body) against aggregate o: due or not. */
static enum gf_err consider_bid(struct fmar *f, sqlite3_stmt *st, const struct gf_fo *o, bool *due)
{
	const char *id = (const char *)sqlite3_column_text(st, 0);
	const struct fmar_conf *c = gf_agent_conf(f->a);
	ProtobufCMessage *m = NULL;
	sqlite3_stmt *ins = NULL;
	double *buf = NULL;
	char err[256];
	enum gf_err rc;
	int T, left = 0;
	int32_t start;
	size_t n;

	rc = gf_codec_from_json(&goflex__flex_offer__descriptor,
	                        (const char *)sqlite3_column_text(st, 1),
	                        (size_t)sqlite3_column_bytes(st, 1), &m, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-FMAR-STORE", "stored bid offer %s does not decode: %s", id, err);
		return GF_OK; /* its clearing said so too; the others still count */
	}
	n = ((Goflex__FlexOffer *)m)->n_flexofferprofileconstraints;
	rc = GF_ENOMEM;
	if (!(buf = calloc(4 * (n ? n : 1), sizeof(double))))
		goto out;
	rc = GF_OK;
	T = fmar_bid_parse((Goflex__FlexOffer *)m, n, buf, buf + n, err, sizeof(err));
	if (T < 0)
		goto out;
	start = (int32_t)((Goflex__FlexOffer *)m)->startafterinterval;
	if ((rc = fmar_remainder(f, id, start, T, buf, buf + 2 * n, buf + 3 * n, &left)) != GF_OK)
		goto out;
	if (!left || !could_serve(o, start, T, buf + 3 * n, buf + n))
		goto out;
	rc = GF_EIO;
	if (sqlite3_prepare_v2(gf_store_db(f->store),
	                       "INSERT OR IGNORE INTO fmar_reclear (bid_offer_id, due_s)"
	                       " VALUES (?, ?)",
	                       -1, &ins, NULL) != SQLITE_OK)
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
	if (sqlite3_prepare_v2(gf_store_db(f->store),
	                       "SELECT id, body FROM fmar_offer WHERE kind = 'bid' AND"
	                       " state = 'cleared' AND id NOT IN (SELECT bid_offer_id FROM"
	                       " fmar_reclear) AND json_extract(body, '$.startAfterInterval')"
	                       " + json_array_length(body, '$.flexOfferProfileConstraints') > ?"
	                       " ORDER BY id",
	                       -1, &st, NULL) != SQLITE_OK)
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

enum gf_err fmar_reclear_arm_all(struct fmar *f)
{
	sqlite3 *db = gf_store_db(f->store);
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int step;

	if (sqlite3_prepare_v2(db,
	                       "SELECT bid_offer_id, due_s FROM fmar_reclear ORDER BY due_s,"
	                       " bid_offer_id",
	                       -1, &st, NULL) != SQLITE_OK) {
		gf_log_err("GF-FMAR-STORE", "cannot read the re-clearings: %s", sqlite3_errmsg(db));
		return GF_EIO;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		fmar_book_arm(f, (const char *)sqlite3_column_text(st, 0),
		              sqlite3_column_double(st, 1));
		n++;
	}
	sqlite3_finalize(st);
	if (n)
		gf_log_info("GF-FMAR-REARM", "%zu re-clearings due", n);
	return step == SQLITE_DONE ? GF_OK : GF_EIO;
}
