/* SPDX-License-Identifier: MIT */
/*
 * settle.c - delivery checked and settled (docs/fman.md, "Settlement";
 * issue 13 item 4, D6.1 3.5 and 8.4).
 *
 * A meter sees the whole household, an offer is one device: so FMAN
 * settles per prosumer (FOA) over windows. Each assigned offer's window is
 * the union of its default schedule's and its assigned schedule's
 * intervals; a prosumer's offers whose windows overlap form one settlement
 * over the union of theirs. Once the settlement's window has ended and
 * settle_delay_s has passed (the meter data has to reach gf-sp), one
 * validation.query for the prosumer's meter (meter_map) goes to gf-sp and
 * is kept in gf_resend (key "val:<settlement id>") until it is answered
 * for good: an answer that lacks intervals (the data is not there yet) or
 * says unavailable leaves it to be sent again, up to settle_give_up_s after
 * the window's end. On a complete answer, in one transaction:
 * lib/engine/delivery.h settles the household (fee on its imbalance) and
 * each offer (its share of the delivered change, its gain and reward); the
 * rows of fman_settlement, fman_settlement_interval and fman_settle_offer;
 * the offers become Executed; each FOA gets flexoffer.ack with state
 * Executed and the delivery, kept in gf_resend (key "exec:<offer id>")
 * until the FOA echoes its offer with state Executed (answers.c).
 *
 * Exactly once: the settlement row's status (pending, then settled or
 * failed) decides, inside the transaction, whether an answer is acted on;
 * a duplicate answer (a resent query's, a replay after a crash) finds it
 * settled and changes nothing. A round of queries is one transaction too;
 * a kill -9 before its commit runs it again at the next start.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "agent/kpi.h"
#include "agent/resend.h"
#include "base/file.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "engine/delivery.h"
#include "fman.h"
#include "meter.pb-c.h"
#include "payload/codec.h"

#define ID_MAX     256
#define REASON_MAX 256
#define MAP_MAX    (16 << 20)
#define ROUND_S    900.0 /* a settlement round every interval */

const char fman_settle_schema[] =
    /* Each assigned offer's window [first, last) and, once grouped, its
     * settlement and its share of it. */
    "CREATE TABLE IF NOT EXISTS fman_settle_offer (offer TEXT PRIMARY KEY, foa TEXT NOT NULL,"
    " first INTEGER NOT NULL, last INTEGER NOT NULL, settlement TEXT, requested_kwh REAL,"
    " delivered_kwh REAL, shortfall_kwh REAL, gain_eur REAL, reward_eur REAL, fee_eur REAL);"
    "CREATE INDEX IF NOT EXISTS fman_settle_offer_open ON fman_settle_offer (settlement, foa);"
    /* One per prosumer and window. */
    "CREATE TABLE IF NOT EXISTS fman_settlement (id TEXT PRIMARY KEY, foa TEXT NOT NULL,"
    " offers TEXT NOT NULL, from_interval INTEGER NOT NULL, to_interval INTEGER NOT NULL,"
    " status TEXT NOT NULL, reason TEXT, requested_kwh REAL, delivered_kwh REAL,"
    " shortfall_kwh REAL, baseline_kwh REAL, metered_kwh REAL, gain_eur REAL, reward_eur REAL,"
    " imbalance_kwh REAL, fee_eur REAL, asked_s REAL NOT NULL, settled_s REAL);"
    "CREATE TABLE IF NOT EXISTS fman_settlement_interval (settlement TEXT NOT NULL,"
    " interval INTEGER NOT NULL, requested_kwh REAL NOT NULL, baseline_kwh REAL NOT NULL,"
    " metered_kwh REAL NOT NULL, delivered_kwh REAL NOT NULL,"
    " PRIMARY KEY (settlement, interval)) WITHOUT ROWID;";

static void exec_or_fail(struct fman *f, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		fman_util_fail(f, what);
	sqlite3_finalize(st);
}

enum gf_err fman_settle_check(const char *path, struct gf_metermap *out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	enum gf_err rc = gf_file_read(path, MAP_MAX, &text, &len, err, errlen);

	if (rc != GF_OK)
		return rc;
	rc = gf_metermap_parse(path, text, len, out, err, errlen);
	free(text);
	return rc;
}

/* --- the offers' windows ---------------------------------------------------------------- */

/* A schedule (flexoffer.assign's, stored) as energy and tariff per interval
 * from *start: malloc'd, *n of them; tariff NAN where a slice has none. */
static enum gf_err read_assign(const char *json, int64_t *start, double **x, double **tar,
                               size_t *n)
{
	ProtobufCMessage *m = NULL;
	const Goflex__FlexOfferSchedule *s;
	size_t len = 0, k = 0;
	int64_t ms;
	enum gf_err rc;

	rc = gf_codec_from_json(&goflex__flex_offer_assign__descriptor, json, strlen(json), &m,
	                        NULL, 0);
	if (rc != GF_OK)
		return rc;
	s = ((const Goflex__FlexOfferAssign *)m)->flexofferschedule;
	if (gf_time_parse(s->starttime, strlen(s->starttime), &ms) != GF_OK) {
		rc = GF_EPARSE;
		goto out;
	}
	for (size_t i = 0; i < s->n_scheduleslices; i++)
		len += s->scheduleslices[i]->duration;
	*x = malloc((len ? len : 1) * sizeof(**x));
	*tar = malloc((len ? len : 1) * sizeof(**tar));
	if (!*x || !*tar) {
		free(*x);
		free(*tar);
		rc = GF_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->n_scheduleslices; i++)
		for (uint32_t d = 0; d < s->scheduleslices[i]->duration; d++, k++) {
			(*x)[k] = s->scheduleslices[i]->energyamount;
			(*tar)[k] =
			    s->scheduleslices[i]->has_tariff ? s->scheduleslices[i]->tariff : NAN;
		}
	*start = gf_time_interval(ms);
	*n = len;
out:
	gf_codec_free(m);
	return rc;
}

/* An offer as the settlement sees it: its default and its assigned
 * schedule, its tariffs. */
struct soffer {
	char *id, *foa, *label;
	int64_t creation, sa, st; /* creationInterval, default start, assigned start */
	size_t nd, nx;
	double *d, *x, *tar; /* nd defaults; nx assigned amounts and their tariffs */
	double tmin, tmax;
	int64_t first, last; /* its window */
};

static void soffer_free(struct soffer *o)
{
	free(o->id);
	free(o->foa);
	free(o->label);
	free(o->d);
	free(o->x);
	free(o->tar);
	memset(o, 0, sizeof(*o));
}

/* The offer id's stored content and latest assignment into *o. GF_ENOENT
 * when it has none; GF_EPARSE for a body that no longer reads. */
static enum gf_err soffer_load(struct fman *f, const char *id, struct soffer *o)
{
	sqlite3_stmt *st =
	    fman_util_prepare(f, "SELECT o.foa, o.label, o.body, o.tariff_min, o.tariff_max,"
	                         " json_extract(o.body, '$.creationInterval'), a.body FROM offers o"
	                         " JOIN assignments a ON a.offer = o.id WHERE o.id = ?"
	                         " ORDER BY a.schedule_id DESC, a.update_id DESC LIMIT 1");
	struct gf_fo fo;
	struct gf_fo_deadlines dl;
	enum gf_err rc = GF_ENOENT;

	memset(o, 0, sizeof(*o));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	o->id = strdup(id);
	o->foa = strdup(gf_store_text(st, 0));
	o->label = sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : strdup(gf_store_text(st, 1));
	o->tmin = sqlite3_column_type(st, 3) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 3);
	o->tmax = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 4);
	o->creation = sqlite3_column_int64(st, 5);
	rc = GF_ENOMEM;
	if (!o->id || !o->foa)
		goto out;
	if ((rc = fman_offers_to_engine(f, gf_store_text(st, 2), &fo, &dl)) != GF_OK) {
		rc = GF_EPARSE;
		goto out;
	}
	o->sa = fo.start_after;
	o->nd = (size_t)fo.n;
	if (!(o->d = malloc(o->nd * sizeof(*o->d)))) {
		rc = GF_ENOMEM;
		goto out;
	}
	/* The default schedule, else the middle of the bounds (as the
	 * engine and FMAR take it). */
	for (size_t k = 0; k < o->nd; k++)
		o->d[k] = fo.dflt ? fo.dflt[k] : (fo.lower[k] + fo.upper[k]) / 2;
	rc = read_assign(gf_store_text(st, 6), &o->st, &o->x, &o->tar, &o->nx);
	if (rc != GF_OK && rc != GF_ENOMEM)
		rc = GF_EPARSE;
	if (rc == GF_OK) {
		o->first = o->sa < o->st ? o->sa : o->st;
		o->last = o->sa + (int64_t)o->nd > o->st + (int64_t)o->nx ? o->sa + (int64_t)o->nd
		                                                          : o->st + (int64_t)o->nx;
	}
out:
	sqlite3_finalize(st);
	if (rc != GF_OK)
		soffer_free(o);
	return rc;
}

/* Assigned offers not yet in fman_settle_offer get their window there. */
static void discover(struct fman *f)
{
	sqlite3_stmt *st =
	    fman_util_prepare(f, "SELECT id FROM offers WHERE state = 'Assigned' AND id NOT IN"
	                         " (SELECT offer FROM fman_settle_offer)");

	while (!f->failed && sqlite3_step(st) == SQLITE_ROW) {
		const char *id = gf_store_text(st, 0);
		struct soffer o;
		enum gf_err rc = soffer_load(f, id, &o);
		sqlite3_stmt *in;

		if (rc == GF_ENOMEM) {
			fman_util_fail(f, "out of memory");
			break;
		}
		if (rc != GF_OK) {
			/* Recorded without a window it could be settled over. */
			gf_log_warning("GF-FMAN-SETTLE", "offer %s: %s: it is not settled", id,
			               rc == GF_ENOENT ? "assigned without a stored assignment"
			                               : "its content no longer reads");
			in =
			    fman_util_prepare(f, "INSERT INTO fman_settle_offer (offer, foa, first,"
			                         " last, settlement) SELECT id, foa, 0, 0, '-' FROM"
			                         " offers WHERE id = ?");
			sqlite3_bind_text(in, 1, id, -1, SQLITE_TRANSIENT);
			exec_or_fail(f, in, "offer not settled");
			continue;
		}
		in = fman_util_prepare(f, "INSERT INTO fman_settle_offer (offer, foa, first, last)"
		                          " VALUES (?, ?, ?, ?)");
		sqlite3_bind_text(in, 1, o.id, -1, SQLITE_STATIC);
		sqlite3_bind_text(in, 2, o.foa, -1, SQLITE_STATIC);
		sqlite3_bind_int64(in, 3, o.first);
		sqlite3_bind_int64(in, 4, o.last);
		exec_or_fail(f, in, "offer's window");
		soffer_free(&o);
	}
	sqlite3_finalize(st);
}

/* --- the queries --------------------------------------------------------------------------- */

/* One settlement in the making: a prosumer's offers whose windows overlap. */
struct group {
	char foa[ID_MAX];
	int64_t first, last;
	char *offers; /* comma-separated */
	size_t len, n;
};

static bool group_add(struct group *g, const char *offer)
{
	size_t k = strlen(offer);
	char *p = realloc(g->offers, g->len + k + 2);

	if (!p)
		return false;
	g->offers = p;
	if (g->len)
		p[g->len++] = ',';
	memcpy(p + g->len, offer, k + 1);
	g->len += k;
	g->n++;
	return true;
}

/* The settlement of g: its row, its offers linked, the query queued (or,
 * without a meter, failed at once). */
static void open_settlement(struct fman *f, struct group *g, size_t *asked, size_t *failed)
{
	const char *meter = gf_metermap_find(&f->meters, g->foa);
	Goflex__ValidationQuery q = GOFLEX__VALIDATION_QUERY__INIT;
	char id[ID_MAX + 64], key[ID_MAX + 80], from[GF_TIME_BUFSIZE], to[GF_TIME_BUFSIZE];
	char first_offer[ID_MAX];
	sqlite3_stmt *st;

	snprintf(id, sizeof(id), "%s:%lld-%lld", g->foa, (long long)g->first, (long long)g->last);
	snprintf(first_offer, sizeof(first_offer), "%.*s", (int)strcspn(g->offers, ","), g->offers);
	st = fman_util_prepare(f, "INSERT INTO fman_settlement (id, foa, offers, from_interval,"
	                          " to_interval, status, reason, asked_s) VALUES (?, ?, ?, ?, ?,"
	                          " ?, ?, ?)");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, g->foa, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, g->offers, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, g->first);
	sqlite3_bind_int64(st, 5, g->last);
	sqlite3_bind_text(st, 6, meter ? "pending" : "failed", -1, SQLITE_STATIC);
	if (!meter)
		sqlite3_bind_text(st, 7, "the FOA has no meter in meter_map", -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 8, gf_agent_now(f->agent));
	exec_or_fail(f, st, "settlement");
	st = fman_util_prepare(f, "UPDATE fman_settle_offer SET settlement = ?1 WHERE foa = ?2"
	                          " AND settlement IS NULL AND first < ?4 AND last > ?3");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, g->foa, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, g->first);
	sqlite3_bind_int64(st, 4, g->last);
	exec_or_fail(f, st, "settlement's offers");
	if (!meter) {
		(*failed)++;
		gf_log_warning("GF-FMAN-SETTLE",
		               "settlement %s (%zu offers): foa.%s has no meter in "
		               "meter_map: not validated",
		               id, g->n, g->foa);
		return;
	}
	if (gf_time_format(g->first * 900000, from, sizeof(from)) != GF_OK ||
	    gf_time_format(g->last * 900000, to, sizeof(to)) != GF_OK) {
		fman_util_fail(f, "settlement window");
		return;
	}
	q.requestid = id;
	q.deviceid = (char *)meter;
	q.flexofferid = first_offer;
	q.fromtime = from;
	q.totime = to;
	snprintf(key, sizeof(key), "val:%s", id);
	if (gf_resend_queue(f->agent, f->store, key, NULL, "sp", f->conf->sp_id, "validation.query",
	                    &q.base) != GF_OK)
		fman_util_fail(f, "validation query");
	(*asked)++;
	gf_log_info("GF-FMAN-SETTLE", "settlement %s (%zu offers): validation.query to sp.%s", id,
	            g->n, f->conf->sp_id);
}

struct round {
	struct fman *f;
	size_t asked, failed;
};

/* The due groups: windows of one FOA that overlap, ended settle_delay_s
 * ago. A group not yet due keeps its offers for the next round. */
static enum gf_err round_txn(void *arg)
{
	struct round *r = arg;
	struct fman *f = r->f;
	double due = gf_agent_now(f->agent) - (double)f->conf->settle_delay_s;
	struct group g = {0};
	sqlite3_stmt *st;
	bool open = false;

	discover(f);
	st = fman_util_prepare(f, "SELECT offer, foa, first, last FROM fman_settle_offer"
	                          " WHERE settlement IS NULL ORDER BY foa, first, offer");
	for (;;) {
		int step = f->failed ? SQLITE_DONE : sqlite3_step(st);
		const char *foa = step == SQLITE_ROW ? gf_store_text(st, 1) : "";
		int64_t first = step == SQLITE_ROW ? sqlite3_column_int64(st, 2) : 0;

		if (open && (step != SQLITE_ROW || strcmp(foa, g.foa) != 0 || first >= g.last)) {
			if ((double)g.last * 900.0 <= due)
				open_settlement(f, &g, &r->asked, &r->failed);
			free(g.offers);
			g = (struct group){0};
			open = false;
		}
		if (step != SQLITE_ROW || f->failed)
			break;
		if (!open) {
			snprintf(g.foa, sizeof(g.foa), "%s", foa);
			g.first = first;
			g.last = sqlite3_column_int64(st, 3);
			open = true;
		} else if (sqlite3_column_int64(st, 3) > g.last) {
			g.last = sqlite3_column_int64(st, 3);
		}
		if (!group_add(&g, gf_store_text(st, 0)))
			fman_util_fail(f, "out of memory");
	}
	free(g.offers);
	sqlite3_finalize(st);
	return fman_util_status(f);
}

static void round_timer(struct gf_agent *a, void *arg)
{
	struct fman *f = arg;
	struct round r = {.f = f};

	if (gf_store_once(a, f->store, NULL, round_txn, NULL, &r) != GF_OK)
		return;
	if (r.asked || r.failed) {
		gf_log_notice("GF-FMAN-SETTLE",
		              "%zu settlements asked to sp.%s, %zu without a meter", r.asked,
		              f->conf->sp_id, r.failed);
		fman_util_crash_point("settle-asked");
	}
	fman_util_flush(f);
	gf_agent_timer_at(a, gf_agent_now(a) + ROUND_S, round_timer, f);
}

enum gf_err fman_settle_start(struct fman *f)
{
	char err[512] = "";
	enum gf_err rc;

	if (!f->conf->meter_map) {
		gf_log_notice("GF-FMAN-SETTLE", "no meter_map: assigned offers are not settled");
		return GF_OK;
	}
	if ((rc = fman_settle_check(f->conf->meter_map, &f->meters, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-FMAN-CONFIG", "%s", err);
		return rc;
	}
	gf_log_notice("GF-FMAN-SETTLE",
	              "meter_map %s: %zu FOAs; validation by sp.%s %ld s after a window",
	              f->conf->meter_map, f->meters.n, f->conf->sp_id, f->conf->settle_delay_s);
	gf_agent_timer_at(f->agent, gf_agent_now(f->agent), round_timer, f);
	return GF_OK;
}

/* --- the answers ----------------------------------------------------------------------------- */

/* One validation.query.result, for gf_store_once. */
struct answer {
	struct fman *f;
	const Goflex__ValidationQueryResult *res;
	const char *id;
	char state[16];  /* the settlement's status when the answer came */
	char outcome[8]; /* settled, failed, wait, dup */
	char reason[REASON_MAX];
	size_t offers, have, want;
	struct gf_delivery_result hh;
};

/* The settlement's row: its window and offers. */
struct settlement {
	char foa[ID_MAX];
	int64_t from, to;
	char *offers;
};

static bool load_settlement(struct fman *f, const char *id, struct settlement *s, char *state,
                            size_t size)
{
	sqlite3_stmt *st = fman_util_prepare(f, "SELECT foa, from_interval, to_interval, offers,"
	                                        " status FROM fman_settlement WHERE id = ?");
	bool found = false;

	memset(s, 0, sizeof(*s));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(s->foa, sizeof(s->foa), "%s", gf_store_text(st, 0));
		s->from = sqlite3_column_int64(st, 1);
		s->to = sqlite3_column_int64(st, 2);
		s->offers = strdup(gf_store_text(st, 3));
		snprintf(state, size, "%s", gf_store_text(st, 4));
		found = s->offers != NULL;
		if (!found)
			fman_util_fail(f, "out of memory");
	}
	sqlite3_finalize(st);
	return found;
}

/* Ends the settlement as failed, with the reason; its query is answered. */
static void fail_settlement(struct answer *c)
{
	struct fman *f = c->f;
	char key[ID_MAX + 80];
	sqlite3_stmt *st = fman_util_prepare(f, "UPDATE fman_settlement SET status = 'failed',"
	                                        " reason = ?, settled_s = ? WHERE id = ?");

	sqlite3_bind_text(st, 1, c->reason, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, gf_agent_now(f->agent));
	sqlite3_bind_text(st, 3, c->id, -1, SQLITE_STATIC);
	exec_or_fail(f, st, "settlement failed");
	snprintf(key, sizeof(key), "val:%s", c->id);
	if (gf_resend_answered(f->store, key, NULL, NULL) != GF_OK)
		fman_util_fail(f, "validation answered");
	snprintf(c->outcome, sizeof(c->outcome), "failed");
}

/* The Executed report to offer o's FOA: its part of the settlement over
 * its own window, kept until the FOA echoes it. */
static void queue_executed(struct fman *f, const struct soffer *o, int64_t w0, size_t n,
                           const double *x, const double *d, const double *share,
                           const double *price, const struct gf_delivery_result *r, double fee)
{
	size_t k = (size_t)(o->last - o->first), off = (size_t)(o->first - w0);
	double *req = malloc(k * sizeof(*req)), *del = malloc(k * sizeof(*del)),
	       *pr = malloc(k * sizeof(*pr));
	Goflex__FlexOfferAck ack = GOFLEX__FLEX_OFFER_ACK__INIT;
	Goflex__FlexOfferExecution ex = GOFLEX__FLEX_OFFER_EXECUTION__INIT;
	char start[GF_TIME_BUFSIZE], why[REASON_MAX], key[ID_MAX + 16];

	(void)n;
	if (!req || !del || !pr ||
	    gf_time_format(o->first * 900000, start, sizeof(start)) != GF_OK) {
		fman_util_fail(f, "executed report");
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		double r_i = x[off + i] - d[off + i];
		double p = price[off + i];

		req[i] = r_i;
		del[i] = share[off + i];
		pr[i] = !isnan(p) ? p
		        : r_i > 0 ? (isnan(o->tmax) ? 0 : o->tmax)
		                  : (isnan(o->tmin) ? 0 : o->tmin);
	}
	snprintf(why, sizeof(why), "executed: %.3f kWh delivered of %.3f kWh asked",
	         r->settle.delivered_total, r->settle.requested_total);
	ex.starttime = start;
	ex.intervallength = 900;
	ex.n_requestedenergy = ex.n_deliveredenergy = ex.n_energyprice = k;
	ex.requestedenergy = req;
	ex.deliveredenergy = del;
	ex.energyprice = pr;
	ex.has_gain = ex.has_reward = ex.has_fee = 1;
	ex.gain = r->settle.gain;
	ex.reward = r->reward;
	ex.fee = fee;
	ack.flexofferid = o->id;
	ack.accepted = 1;
	ack.reason = why;
	ack.label = o->label;
	ack.has_creationinterval = 1;
	ack.creationinterval = o->creation;
	ack.has_state = 1;
	ack.state = GOFLEX__FLEX_OFFER_STATE__Executed;
	ack.execution = &ex;
	snprintf(key, sizeof(key), "exec:%s", o->id);
	if (gf_resend_queue(f->agent, f->store, key, NULL, "foa", o->foa, "flexoffer.ack",
	                    &ack.base) != GF_OK)
		fman_util_fail(f, "executed report");
out:
	free(req);
	free(del);
	free(pr);
}

/* Per-offer and per-interval rows, the offers Executed, their reports. */
static void record(struct answer *c, struct soffer *os, size_t k, int64_t w0, size_t n,
                   const double *b, const double *m, double **xs, double **ds, double **ps,
                   const double *share, const double *hd, const struct gf_delivery_result *res)
{
	struct fman *f = c->f;
	double abs_total = 0, *abs_o = calloc(k, sizeof(*abs_o)), bsum = 0, msum = 0;
	sqlite3_stmt *st;

	if (!abs_o) {
		fman_util_fail(f, "out of memory");
		return;
	}
	for (size_t o = 0; o < k; o++) {
		for (size_t t = 0; t < n; t++)
			abs_o[o] += fabs(xs[o][t] - ds[o][t]);
		abs_total += abs_o[o];
	}
	for (size_t t = 0; t < n && !f->failed; t++) {
		double r = 0;

		for (size_t o = 0; o < k; o++)
			r += xs[o][t] - ds[o][t];
		bsum += b[t];
		msum += m[t];
		st = fman_util_prepare(f, "INSERT OR REPLACE INTO fman_settlement_interval"
		                          " (settlement, interval, requested_kwh, baseline_kwh,"
		                          " metered_kwh, delivered_kwh) VALUES (?, ?, ?, ?, ?, ?)");
		sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, w0 + (int64_t)t);
		sqlite3_bind_double(st, 3, r);
		sqlite3_bind_double(st, 4, b[t]);
		sqlite3_bind_double(st, 5, m[t]);
		sqlite3_bind_double(st, 6, hd[t]);
		exec_or_fail(f, st, "settlement interval");
	}
	for (size_t o = 0; o < k && !f->failed; o++) {
		/* The household's fee, shared as the change asked was. */
		double fee = abs_total > 0 ? c->hh.settle.fee * abs_o[o] / abs_total : 0;

		st = fman_util_prepare(f, "UPDATE fman_settle_offer SET requested_kwh = ?,"
		                          " delivered_kwh = ?, shortfall_kwh = ?, gain_eur = ?,"
		                          " reward_eur = ?, fee_eur = ? WHERE offer = ?");
		sqlite3_bind_double(st, 1, res[o].settle.requested_total);
		sqlite3_bind_double(st, 2, res[o].settle.delivered_total);
		sqlite3_bind_double(st, 3, res[o].settle.shortfall_total);
		sqlite3_bind_double(st, 4, res[o].settle.gain);
		sqlite3_bind_double(st, 5, res[o].reward);
		sqlite3_bind_double(st, 6, fee);
		sqlite3_bind_text(st, 7, os[o].id, -1, SQLITE_STATIC);
		exec_or_fail(f, st, "offer's settlement");
		st = fman_util_prepare(f, "UPDATE offers SET state = 'Executed' WHERE id = ?");
		sqlite3_bind_text(st, 1, os[o].id, -1, SQLITE_STATIC);
		exec_or_fail(f, st, "offer executed");
		queue_executed(f, &os[o], w0, n, xs[o], ds[o], share + o * n, ps[o], &res[o], fee);
	}
	st = fman_util_prepare(
	    f, "UPDATE fman_settlement SET status = 'settled', reason = NULL, requested_kwh = ?,"
	       " delivered_kwh = ?, shortfall_kwh = ?, baseline_kwh = ?, metered_kwh = ?,"
	       " gain_eur = ?, reward_eur = ?, imbalance_kwh = ?, fee_eur = ?, settled_s = ?"
	       " WHERE id = ?");
	sqlite3_bind_double(st, 1, c->hh.settle.requested_total);
	sqlite3_bind_double(st, 2, c->hh.settle.delivered_total);
	sqlite3_bind_double(st, 3, c->hh.settle.shortfall_total);
	sqlite3_bind_double(st, 4, bsum);
	sqlite3_bind_double(st, 5, msum);
	sqlite3_bind_double(st, 6, c->hh.settle.gain);
	sqlite3_bind_double(st, 7, c->hh.reward);
	sqlite3_bind_double(st, 8, c->hh.settle.imbalance);
	sqlite3_bind_double(st, 9, c->hh.settle.fee);
	sqlite3_bind_double(st, 10, gf_agent_now(f->agent));
	sqlite3_bind_text(st, 11, c->id, -1, SQLITE_STATIC);
	exec_or_fail(f, st, "settlement settled");
	free(abs_o);
}

/* The settlement of s with the complete data v. */
static void settle(struct answer *c, const struct settlement *s, const Goflex__ValidationData *v)
{
	struct fman *f = c->f;
	size_t n = (size_t)(s->to - s->from), k = 0, cap = 1;
	struct soffer *os = NULL;
	double **xs = NULL, **ds = NULL, **ps = NULL, *share = NULL, *hd = NULL;
	struct gf_delivery_offer *in = NULL;
	struct gf_delivery_result *res = NULL;
	char key[ID_MAX + 80];
	enum gf_err rc = GF_ENOMEM;

	for (const char *p = s->offers; *p; p++)
		cap += *p == ',';
	os = calloc(cap, sizeof(*os));
	xs = calloc(cap, sizeof(*xs));
	ds = calloc(cap, sizeof(*ds));
	ps = calloc(cap, sizeof(*ps));
	in = calloc(cap, sizeof(*in));
	res = calloc(cap, sizeof(*res));
	share = calloc(cap * n, sizeof(*share));
	hd = calloc(n, sizeof(*hd));
	if (!os || !xs || !ds || !ps || !in || !res || !share || !hd)
		goto out;
	for (const char *p = s->offers; *p && k < cap;) {
		size_t len = strcspn(p, ",");
		char id[ID_MAX];

		snprintf(id, sizeof(id), "%.*s", (int)len, p);
		p += len + (p[len] == ',');
		if ((rc = soffer_load(f, id, &os[k])) != GF_OK)
			break;
		xs[k] = malloc(n * sizeof(double));
		ds[k] = malloc(n * sizeof(double));
		ps[k] = malloc(n * sizeof(double));
		if (!xs[k] || !ds[k] || !ps[k]) {
			rc = GF_ENOMEM;
			k++;
			break;
		}
		gf_delivery_place(s->from, n, os[k].st, os[k].x, os[k].nx, xs[k]);
		gf_delivery_place(s->from, n, os[k].sa, os[k].d, os[k].nd, ds[k]);
		for (size_t t = 0; t < n; t++)
			ps[k][t] = NAN;
		for (size_t j = 0; j < os[k].nx; j++) {
			int64_t t = os[k].st + (int64_t)j - s->from;
			if (t >= 0 && (size_t)t < n)
				ps[k][t] = os[k].tar[j];
		}
		in[k] = (struct gf_delivery_offer){xs[k], ds[k], os[k].tmin, os[k].tmax, ps[k]};
		k++;
	}
	if (rc == GF_OK)
		rc = gf_delivery_settle(n, v->forecastenergy, v->actualenergy, in, k,
		                        f->conf->imbalance_cutoff_kwh,
		                        f->conf->imbalance_fee_eur_kwh, &c->hh, res, share, hd);
	if (rc == GF_ENOMEM) {
		fman_util_fail(f, "out of memory");
		goto out;
	}
	if (rc != GF_OK) {
		snprintf(c->reason, sizeof(c->reason), "the settlement cannot be computed: %s",
		         rc == GF_ENOENT ? "an offer has no assignment" : gf_strerror(rc));
		fail_settlement(c);
		goto out;
	}
	record(c, os, k, s->from, n, v->forecastenergy, v->actualenergy, xs, ds, ps, share, hd,
	       res);
	snprintf(key, sizeof(key), "val:%s", c->id);
	if (gf_resend_answered(f->store, key, NULL, NULL) != GF_OK)
		fman_util_fail(f, "validation answered");
	c->offers = k;
	snprintf(c->outcome, sizeof(c->outcome), "settled");
out:
	for (size_t o = 0; o < cap && os; o++) {
		soffer_free(&os[o]);
		free(xs[o]);
		free(ds[o]);
		free(ps[o]);
	}
	free(os);
	free(xs);
	free(ds);
	free(ps);
	free(in);
	free(res);
	free(share);
	free(hd);
}

static enum gf_err answer_txn(void *arg)
{
	struct answer *c = arg;
	struct fman *f = c->f;
	const Goflex__ValidationQueryResult *res = c->res;
	const Goflex__ValidationData *v = res->validation;
	const ProtobufCEnumValue *code;
	struct settlement s;
	int64_t ms = 0;

	if (!load_settlement(f, c->id, &s, c->state, sizeof(c->state)) ||
	    strcmp(c->state, "pending") != 0) {
		snprintf(c->outcome, sizeof(c->outcome), "dup");
		goto out;
	}
	c->want = (size_t)(s.to - s.from);
	switch (res->status->code) {
	case GOFLEX__RESULT_STATUS__CODE__ok:
		if (!v || v->n_forecastenergy != c->want ||
		    gf_time_parse(v->starttime, strlen(v->starttime), &ms) != GF_OK ||
		    ms != s.from * 900000 || v->intervallength != 900) {
			snprintf(c->reason, sizeof(c->reason),
			         "gf-sp's answer does not cover the window in 900 s intervals");
			fail_settlement(c);
			break;
		}
		c->have = v->n_actualenergy;
		if (c->have < c->want) {
			if (gf_agent_now(f->agent) <
			    (double)s.to * 900.0 + (double)f->conf->settle_give_up_s) {
				snprintf(c->outcome, sizeof(c->outcome), "wait");
				break;
			}
			snprintf(
			    c->reason, sizeof(c->reason),
			    "the meter's data covers %zu of %zu intervals %ld s after the window",
			    c->have, c->want, f->conf->settle_give_up_s);
			fail_settlement(c);
			break;
		}
		settle(c, &s, v);
		break;
	case GOFLEX__RESULT_STATUS__CODE__unavailable:
		/* gf-sp's store failed: asked again at the next resend. */
		snprintf(c->outcome, sizeof(c->outcome), "wait");
		snprintf(c->reason, sizeof(c->reason), "%s",
		         res->status->reason ? res->status->reason : "unavailable");
		break;
	default:
		code = protobuf_c_enum_descriptor_get_value(
		    &goflex__result_status__code__descriptor, (int)res->status->code);
		snprintf(c->reason, sizeof(c->reason), "gf-sp: %s: %s", code ? code->name : "?",
		         res->status->reason ? res->status->reason : "(no reason)");
		fail_settlement(c);
	}
out:
	free(s.offers);
	return fman_util_status(f);
}

void fman_settle_result(struct fman *f, const struct gf_message *m)
{
	const Goflex__ValidationQueryResult *res = (const Goflex__ValidationQueryResult *)m->body;
	struct answer c = {.f = f, .res = res};

	if (!res->status->requestid) {
		gf_log_warning("GF-FMAN-SETTLE",
		               "validation.query.result from sp.%s without "
		               "requestId: ignored",
		               m->from_id);
		return;
	}
	c.id = res->status->requestid;
	if (gf_store_once(f->agent, f->store, NULL, answer_txn, NULL, &c) != GF_OK)
		return;
	if (strcmp(c.outcome, "dup") == 0) {
		gf_log_info("GF-FMAN-DUP", "validation of %s from sp.%s: %s", c.id, m->from_id,
		            c.state[0] ? "already settled" : "no such settlement");
		return;
	}
	if (strcmp(c.outcome, "wait") == 0) {
		gf_log_info("GF-FMAN-SETTLE",
		            "settlement %s waits: %zu of %zu intervals metered%s%s", c.id, c.have,
		            c.want, c.reason[0] ? "; " : "", c.reason);
		return;
	}
	if (strcmp(c.outcome, "failed") == 0) {
		gf_log_warning("GF-FMAN-SETTLE", "settlement %s failed: %s", c.id, c.reason);
		return;
	}
	gf_log_notice("GF-FMAN-SETTLED",
	              "settlement %s: %zu offers Executed; requested %.3f kWh, delivered %.3f kWh, "
	              "gain %.4f EUR, reward %.4f EUR, imbalance %.3f kWh, fee %.4f EUR",
	              c.id, c.offers, c.hh.settle.requested_total, c.hh.settle.delivered_total,
	              c.hh.settle.gain, c.hh.reward, c.hh.settle.imbalance, c.hh.settle.fee);
	gf_kpi_count(f->agent, "fman.requested_kwh", c.hh.settle.requested_total, "kWh");
	gf_kpi_count(f->agent, "fman.delivered_kwh", c.hh.settle.delivered_total, "kWh");
	gf_kpi_count(f->agent, "fman.reward_eur", c.hh.reward, "EUR");
	fman_util_crash_point("settle-committed");
	fman_util_flush(f);
}
