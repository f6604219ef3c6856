/* SPDX-License-Identifier: MIT */
/*
 * settle.c - a DSO bid's delivery checked at its grid point (docs/fmar.md,
 * "Delivery"; issue 13 item 4, D6.1 3.6 and 8.4).
 *
 * A bid offer that cleared something is validated settle_delay_s after its
 * last interval: validation.query to gf-sp with deviceId = the bid's grid
 * point (the bid offer's locationId.gridPointId, which the DSO FOA copies
 * from the bid), over the bid's intervals. gf-sp answers the feeder's
 * metered energy and its characteristic curve (the sum over the grid
 * point's meters). In the bid's sign the change delivered is
 *
 *   delivered_t = baseline_t - metered_t   (positive = less consumption)
 *
 * against the change cleared (fmar_cleared, what the DSO pays for at the
 * clearing price). lib/engine/delivery.h gives the shortfall, the
 * imbalance and the value of the delivery; the result is one row of
 * fmar_settlement and one per interval, the bid offer becomes `executed`,
 * and the DSO FOA gets flexoffer.ack with state Executed and the delivery,
 * kept in gf_resend ("exec:<bid offer id>") until it echoes its offer with
 * state Executed (book.c). The query is kept in gf_resend ("val:<bid offer
 * id>") until an answer settles the bid or fails it for good; an answer
 * without every interval yet (or "unavailable") waits for the next resend,
 * up to settle_give_up_s after the bid's end. The settlement row's status
 * decides, inside the transaction, whether an answer is acted on: a
 * duplicate changes nothing.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "agent/kpi.h"
#include "agent/resend.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "engine/delivery.h"
#include "fmar.h"
#include "meter.pb-c.h"

#define ROUND_S    900.0 /* a round every interval */
#define REASON_MAX 256
#define ID_MAX     192

const char fmar_settle_schema[] =
    "CREATE TABLE IF NOT EXISTS fmar_settlement (bid_offer_id TEXT PRIMARY KEY,"
    " bid_id TEXT NOT NULL, grid_point TEXT, from_interval INTEGER NOT NULL,"
    " to_interval INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT, requested_kwh REAL,"
    " delivered_kwh REAL, shortfall_kwh REAL, baseline_kwh REAL, metered_kwh REAL,"
    " paid_eur REAL, delivered_value_eur REAL, imbalance_kwh REAL, asked_s REAL NOT NULL,"
    " settled_s REAL);"
    "CREATE TABLE IF NOT EXISTS fmar_settlement_interval (bid_offer_id TEXT NOT NULL,"
    " interval INTEGER NOT NULL, requested_kwh REAL NOT NULL, price REAL NOT NULL,"
    " baseline_kwh REAL NOT NULL, metered_kwh REAL NOT NULL, delivered_kwh REAL NOT NULL,"
    " PRIMARY KEY (bid_offer_id, interval)) WITHOUT ROWID;";

/* --- the queries ---------------------------------------------------------------------- */

struct round {
	struct fmar *f;
	size_t asked, failed;
	char ids[8][2 * ID_MAX]; /* the first bids asked for, for the log after the commit */
};

/* Queues bid offer id's validation (or fails it when it names no grid
 * point), with its row. */
static enum gf_err open_settlement(struct round *r, const char *id, const char *bid_id,
                                   const char *grid, int64_t from, int64_t to)
{
	struct fmar *f = r->f;
	const struct fmar_conf *c = gf_agent_conf(f->a);
	Goflex__ValidationQuery q = GOFLEX__VALIDATION_QUERY__INIT;
	char key[ID_MAX + 8], a[GF_TIME_BUFSIZE], b[GF_TIME_BUFSIZE];
	enum gf_err rc;

	rc = gf_store_run(f->store,
	                  "INSERT INTO fmar_settlement (bid_offer_id, bid_id, grid_point,"
	                  " from_interval, to_interval, status, reason, asked_s)"
	                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	                  "tttiittd", id, bid_id, grid, from, to, grid ? "pending" : "failed",
	                  grid ? NULL : "the bid offer names no grid point (locationId)",
	                  gf_agent_now(f->a));
	if (rc != GF_OK)
		return rc;
	if (!grid) {
		r->failed++;
		gf_log_warning("GF-FMAR-SETTLE", "bid offer %s names no grid point: not validated",
		               id);
		return GF_OK;
	}
	if (gf_time_format(from * 900000, a, sizeof(a)) != GF_OK ||
	    gf_time_format(to * 900000, b, sizeof(b)) != GF_OK)
		return GF_EINVAL;
	q.requestid = (char *)id;
	q.deviceid = (char *)grid;
	q.flexofferid = (char *)id;
	q.fromtime = a;
	q.totime = b;
	snprintf(key, sizeof(key), "val:%s", id);
	rc =
	    gf_resend_queue(f->a, f->store, key, NULL, "sp", c->sp_id, "validation.query", &q.base);
	if (rc == GF_OK && r->asked < sizeof(r->ids) / sizeof(r->ids[0]))
		snprintf(r->ids[r->asked], sizeof(r->ids[0]), "%s for %s", id, grid);
	if (rc == GF_OK)
		r->asked++;
	return rc;
}

/* Cleared bids with something cleared, not yet validated, whose last
 * interval ended settle_delay_s ago. */
static enum gf_err round_txn(void *arg)
{
	struct round *r = arg;
	struct fmar *f = r->f;
	const struct fmar_conf *c = gf_agent_conf(f->a);
	double due = gf_agent_now(f->a) - (double)c->settle_delay_s;
	sqlite3_stmt *st = gf_store_prepare(
	    f->store, "SELECT o.id, o.bid_id, json_extract(o.body, '$.locationId.gridPointId'),"
	              " json_extract(o.body, '$.startAfterInterval') AS a,"
	              " json_extract(o.body, '$.startAfterInterval')"
	              " + json_array_length(o.body, '$.flexOfferProfileConstraints') AS b"
	              " FROM fmar_offer o WHERE o.kind = 'bid' AND o.state = 'cleared'"
	              " AND o.id NOT IN (SELECT bid_offer_id FROM fmar_settlement)"
	              " AND (SELECT SUM(ABS(cleared_kwh)) FROM fmar_cleared c"
	              "      WHERE c.bid_offer_id = o.id) > 1e-9"
	              " AND b * 900.0 <= ? ORDER BY o.id");
	enum gf_err rc = st ? GF_OK : GF_EIO;
	int step = SQLITE_DONE;

	sqlite3_bind_double(st, 1, due);
	while (rc == GF_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = open_settlement(
		    r, gf_store_text(st, 0), gf_store_text(st, 1),
		    sqlite3_column_type(st, 2) == SQLITE_TEXT ? gf_store_text(st, 2) : NULL,
		    sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
	if (rc == GF_OK && step != SQLITE_DONE)
		rc = GF_EIO;
	sqlite3_finalize(st);
	return rc;
}

static void round_timer(struct gf_agent *a, void *arg)
{
	struct fmar *f = arg;
	struct round r = {.f = f};

	if (gf_store_once(a, f->store, NULL, round_txn, NULL, &r) != GF_OK)
		return;
	for (size_t i = 0; i < r.asked && i < sizeof(r.ids) / sizeof(r.ids[0]); i++)
		gf_log_info("GF-FMAR-SETTLE", "bid offer %s: validation.query to sp.%s", r.ids[i],
		            ((const struct fmar_conf *)gf_agent_conf(a))->sp_id);
	if (r.asked || r.failed)
		gf_log_notice("GF-FMAR-SETTLE",
		              "%zu bids to validate asked, %zu without a grid point", r.asked,
		              r.failed);
	fmar_util_outbox_flush(f);
	gf_agent_timer_at(a, gf_agent_now(a) + ROUND_S, round_timer, f);
}

void fmar_settle_start(struct fmar *f)
{
	gf_agent_timer_at(f->a, gf_agent_now(f->a), round_timer, f);
}

/* --- the answers ------------------------------------------------------------------------ */

struct answer {
	struct fmar *f;
	const Goflex__ValidationQueryResult *res;
	const char *id;
	char outcome[8]; /* settled, failed, wait, dup */
	char reason[REASON_MAX];
	size_t have, want;
	double requested, delivered, paid, value;
};

struct bid {
	char bid_id[ID_MAX], dso[GF_ID_MAX + 1], label[ID_MAX + 8], grid[ID_MAX];
	int64_t from, to, creation;
};

static enum gf_err load_bid(struct fmar *f, const char *id, struct bid *b, bool *pending)
{
	sqlite3_stmt *st = gf_store_prepare(
	    f->store, "SELECT s.bid_id, o.sender, o.bid_id, s.grid_point, s.from_interval,"
	              " s.to_interval, json_extract(o.body, '$.creationInterval'), s.status"
	              " FROM fmar_settlement s JOIN fmar_offer o ON o.id = s.bid_offer_id"
	              " WHERE s.bid_offer_id = ?");
	int step;

	*pending = false;
	if (!st)
		return GF_EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		snprintf(b->bid_id, sizeof(b->bid_id), "%s", gf_store_text(st, 0));
		snprintf(b->dso, sizeof(b->dso), "%s", gf_store_text(st, 1));
		snprintf(b->label, sizeof(b->label), "bid:%s", gf_store_text(st, 2));
		snprintf(b->grid, sizeof(b->grid), "%s", gf_store_text(st, 3));
		b->from = sqlite3_column_int64(st, 4);
		b->to = sqlite3_column_int64(st, 5);
		b->creation = sqlite3_column_int64(st, 6);
		*pending = strcmp(gf_store_text(st, 7), "pending") == 0;
	}
	sqlite3_finalize(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? GF_OK : GF_EIO;
}

static enum gf_err end_query(struct answer *c)
{
	char key[ID_MAX + 8];

	snprintf(key, sizeof(key), "val:%s", c->id);
	return gf_resend_answered(c->f->store, key, NULL, NULL);
}

static enum gf_err fail(struct answer *c)
{
	enum gf_err rc = gf_store_run(c->f->store,
	                              "UPDATE fmar_settlement SET status = 'failed', reason = ?,"
	                              " settled_s = ? WHERE bid_offer_id = ?",
	                              "tdt", c->reason, gf_agent_now(c->f->a), c->id);

	snprintf(c->outcome, sizeof(c->outcome), "failed");
	return rc == GF_OK ? end_query(c) : rc;
}

/* The cleared change per interval (bid sign) and its volume-weighted price. */
static enum gf_err cleared(struct fmar *f, const char *id, const struct bid *b, double *r,
                           double *price)
{
	size_t n = (size_t)(b->to - b->from);
	sqlite3_stmt *st = gf_store_prepare(
	    f->store, "SELECT c.interval, c.cleared_kwh, (SELECT SUM(ABS(x.cleared_kwh) * x.price)"
	              " / NULLIF(SUM(ABS(x.cleared_kwh)), 0) FROM fmar_round_cleared x"
	              " WHERE x.bid_offer_id = c.bid_offer_id AND x.interval = c.interval)"
	              " FROM fmar_cleared c WHERE c.bid_offer_id = ?");
	int step;

	if (!st)
		return GF_EIO;
	for (size_t t = 0; t < n; t++)
		r[t] = price[t] = 0;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t t = sqlite3_column_int64(st, 0) - b->from;

		if (t >= 0 && (size_t)t < n) {
			r[t] = sqlite3_column_double(st, 1);
			price[t] = sqlite3_column_double(st, 2); /* NULL: 0 */
		}
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? GF_OK : GF_EIO;
}

/* The Executed report to the DSO FOA, kept until it echoes it. */
static enum gf_err queue_executed(struct answer *c, const struct bid *b, size_t n, double *r,
                                  double *del, double *price)
{
	Goflex__FlexOfferAck ack = GOFLEX__FLEX_OFFER_ACK__INIT;
	Goflex__FlexOfferExecution ex = GOFLEX__FLEX_OFFER_EXECUTION__INIT;
	char start[GF_TIME_BUFSIZE], key[ID_MAX + 8];

	if (gf_time_format(b->from * 900000, start, sizeof(start)) != GF_OK)
		return GF_EINVAL;
	snprintf(c->reason, sizeof(c->reason),
	         "executed: %.3f kWh delivered at %s of %.3f kWh cleared", c->delivered, b->grid,
	         c->requested);
	ex.starttime = start;
	ex.intervallength = 900;
	ex.n_requestedenergy = ex.n_deliveredenergy = ex.n_energyprice = n;
	ex.requestedenergy = r;
	ex.deliveredenergy = del;
	ex.energyprice = price;
	ex.has_reward = 1;
	ex.reward = c->value;
	ack.flexofferid = (char *)c->id;
	ack.accepted = 1;
	ack.reason = c->reason;
	ack.label = (char *)b->label;
	ack.has_creationinterval = 1;
	ack.creationinterval = b->creation;
	ack.has_state = 1;
	ack.state = GOFLEX__FLEX_OFFER_STATE__Executed;
	ack.execution = &ex;
	snprintf(key, sizeof(key), "exec:%s", c->id);
	return gf_resend_queue(c->f->a, c->f->store, key, NULL, "foa", b->dso, "flexoffer.ack",
	                       &ack.base);
}

/* The bid settled against the complete data v. */
static enum gf_err settle(struct answer *c, const struct bid *b, const Goflex__ValidationData *v)
{
	struct fmar *f = c->f;
	size_t n = (size_t)(b->to - b->from);
	double *r = calloc(n, sizeof(*r)), *price = calloc(n, sizeof(*price));
	double *x = calloc(n, sizeof(*x)), *zero = calloc(n, sizeof(*zero));
	double *hd = calloc(n, sizeof(*hd)), *del = calloc(n, sizeof(*del)), bsum = 0, msum = 0;
	struct gf_delivery_result hh, one;
	struct gf_delivery_offer in;
	enum gf_err rc = GF_ENOMEM;

	if (!r || !price || !x || !zero || !hd || !del)
		goto out;
	if ((rc = cleared(f, c->id, b, r, price)) != GF_OK)
		goto out;
	/* The bid as one offer in the bus's sign: a change of -r. */
	for (size_t t = 0; t < n; t++)
		x[t] = -r[t];
	in = (struct gf_delivery_offer){x, zero, NAN, NAN, price};
	rc = gf_delivery_settle(n, v->forecastenergy, v->actualenergy, &in, 1, 0, 0, &hh, &one,
	                        NULL, hd);
	if (rc == GF_EINVAL) {
		snprintf(c->reason, sizeof(c->reason), "the settlement cannot be computed");
		rc = fail(c);
		goto out;
	}
	if (rc != GF_OK)
		goto out;
	c->requested = c->delivered = c->paid = 0;
	for (size_t t = 0; t < n && rc == GF_OK; t++) {
		del[t] = -hd[t]; /* baseline - metered */
		c->requested += r[t];
		c->delivered += del[t];
		c->paid += price[t] * r[t];
		bsum += v->forecastenergy[t];
		msum += v->actualenergy[t];
		rc = gf_store_run(f->store,
		                  "INSERT OR REPLACE INTO fmar_settlement_interval (bid_offer_id,"
		                  " interval, requested_kwh, price, baseline_kwh, metered_kwh,"
		                  " delivered_kwh) VALUES (?, ?, ?, ?, ?, ?, ?)",
		                  "tiddddd", c->id, b->from + (int64_t)t, r[t], price[t],
		                  v->forecastenergy[t], v->actualenergy[t], del[t]);
	}
	c->value = hh.reward;
	if (rc == GF_OK)
		rc = gf_store_run(f->store,
		                  "UPDATE fmar_settlement SET status = 'settled', reason = NULL,"
		                  " requested_kwh = ?, delivered_kwh = ?, shortfall_kwh = ?,"
		                  " baseline_kwh = ?, metered_kwh = ?, paid_eur = ?,"
		                  " delivered_value_eur = ?, imbalance_kwh = ?, settled_s = ?"
		                  " WHERE bid_offer_id = ?",
		                  "dddddddddt", c->requested, c->delivered,
		                  hh.settle.shortfall_total, bsum, msum, c->paid, c->value,
		                  hh.settle.imbalance, gf_agent_now(f->a), c->id);
	if (rc == GF_OK)
		rc = gf_store_run(f->store, "UPDATE fmar_offer SET state = 'executed' WHERE id = ?",
		                  "t", c->id);
	if (rc == GF_OK)
		rc = queue_executed(c, b, n, r, del, price);
	if (rc == GF_OK)
		rc = end_query(c);
	snprintf(c->outcome, sizeof(c->outcome), "settled");
out:
	free(r);
	free(price);
	free(x);
	free(zero);
	free(hd);
	free(del);
	return rc;
}

static enum gf_err answer_txn(void *arg)
{
	struct answer *c = arg;
	const struct fmar_conf *conf = gf_agent_conf(c->f->a);
	const Goflex__ValidationQueryResult *res = c->res;
	const Goflex__ValidationData *v = res->validation;
	const ProtobufCEnumValue *code;
	struct bid b = {0};
	bool pending = false;
	int64_t ms = 0;
	enum gf_err rc = load_bid(c->f, c->id, &b, &pending);

	if (rc != GF_OK || !pending) {
		snprintf(c->outcome, sizeof(c->outcome), "dup");
		return rc;
	}
	c->want = (size_t)(b.to - b.from);
	if (res->status->code == GOFLEX__RESULT_STATUS__CODE__unavailable) {
		snprintf(c->outcome, sizeof(c->outcome), "wait");
		return GF_OK;
	}
	if (res->status->code != GOFLEX__RESULT_STATUS__CODE__ok) {
		code = protobuf_c_enum_descriptor_get_value(
		    &goflex__result_status__code__descriptor, (int)res->status->code);
		snprintf(c->reason, sizeof(c->reason), "gf-sp: %s: %s", code ? code->name : "?",
		         res->status->reason ? res->status->reason : "(no reason)");
		return fail(c);
	}
	if (!v || v->n_forecastenergy != c->want || v->intervallength != 900 ||
	    gf_time_parse(v->starttime, strlen(v->starttime), &ms) != GF_OK ||
	    ms != b.from * 900000) {
		snprintf(c->reason, sizeof(c->reason),
		         "gf-sp's answer does not cover the bid's intervals");
		return fail(c);
	}
	c->have = v->n_actualenergy;
	if (c->have < c->want) {
		if (gf_agent_now(c->f->a) < (double)b.to * 900.0 + (double)conf->settle_give_up_s) {
			snprintf(c->outcome, sizeof(c->outcome), "wait");
			return GF_OK;
		}
		snprintf(c->reason, sizeof(c->reason),
		         "the grid point's data covers %zu of %zu intervals %ld s after the bid",
		         c->have, c->want, conf->settle_give_up_s);
		return fail(c);
	}
	return settle(c, &b, v);
}

void fmar_settle_result(struct fmar *f, const struct gf_message *m)
{
	const Goflex__ValidationQueryResult *res = (const Goflex__ValidationQueryResult *)m->body;
	struct answer c = {.f = f, .res = res};

	if (!res->status->requestid) {
		gf_log_warning("GF-FMAR-SETTLE",
		               "validation.query.result from sp.%s without "
		               "requestId: ignored",
		               m->from_id);
		return;
	}
	c.id = res->status->requestid;
	if (gf_store_once(f->a, f->store, NULL, answer_txn, NULL, &c) != GF_OK)
		return;
	if (strcmp(c.outcome, "dup") == 0)
		gf_log_info("GF-FMAR-DUP", "validation of %s from sp.%s: not pending", c.id,
		            m->from_id);
	else if (strcmp(c.outcome, "wait") == 0)
		gf_log_info("GF-FMAR-SETTLE", "bid offer %s waits: %zu of %zu intervals metered",
		            c.id, c.have, c.want);
	else if (strcmp(c.outcome, "failed") == 0)
		gf_log_warning("GF-FMAR-SETTLE", "bid offer %s: validation failed: %s", c.id,
		               c.reason);
	else
		gf_log_notice("GF-FMAR-SETTLED",
		              "bid offer %s Executed: %.3f kWh delivered of %.3f kWh cleared; paid "
		              "%.4f EUR, delivered value %.4f EUR",
		              c.id, c.delivered, c.requested, c.paid, c.value);
	if (strcmp(c.outcome, "dup") != 0 && strcmp(c.outcome, "wait") != 0 &&
	    strcmp(c.outcome, "failed") != 0) {
		gf_kpi_count(f->a, "fmar.delivered_kwh", c.delivered, "kWh");
		gf_kpi_count(f->a, "fmar.paid_eur", c.paid, "EUR");
	}
	fmar_util_outbox_flush(f);
}
