/* SPDX-License-Identifier: MIT */
/*
 * capprice.c - the implicit capacity price in the prosumers' offers (F6.8:
 * "Price for implicit capacity trading is added to each prosumer FlexOffer
 * at FMAN/FMAR level. Calculator for this price should be provided by DOMS
 * and be available on Service platform"; docs/fman.md "Capacity price").
 *
 * An offer names its grid point (locationId.gridPointId). For each grid
 * point and UTC day an offer's window touches, FMAN asks gf-sp once
 * (capacityprice.query, SPEC section 5: fman -> sp), under the pseudo offer
 * id "cap:<YYYY-MM-DD>:<grid>" (the price is the grid point's: gf-sp
 * watches that series and sends capacityprice when it changes). The query
 * is queued in the transaction that accepts the offer and recorded in
 * fman_cap_ask (grid, day), so a restart or a kill -9 neither loses nor
 * repeats it; it is sent again every resend_s until gf-sp answers. A
 * refused answer (no capacity line, too few meters) is asked again by an
 * offer that needs the day capacity_retry_s or more later.
 *
 * The prices (fman_cap_price, per grid point and period) price the offers'
 * tariffs with captariff.c when an offer is accepted and again, for every
 * live offer of the grid point, when prices arrive: offers.tariff_min and
 * tariff_max then hold the priced tariffs, which the aggregates ask
 * (market.c) and the settlement pays.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fman.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "payload/codec.h"
#include "price.pb-c.h"

#define DAY_S      86400
#define DAYS_MAX   8   /* days of one offer's window asked at most */
#define GRID_MAX   100 /* the pseudo offer id must stay within gf-sp's 128 */
#define REQ_MAX    (GRID_MAX + 32)
#define VALUE_MAX  1000.0
#define SERIES_MAX 35136

const char fman_capprice_schema[] =
    "CREATE TABLE IF NOT EXISTS fman_cap_price (grid TEXT NOT NULL, start_s INTEGER NOT NULL,"
    " resolution INTEGER NOT NULL, price REAL NOT NULL, PRIMARY KEY (grid, start_s,"
    " resolution)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fman_cap_ask (grid TEXT NOT NULL, day INTEGER NOT NULL,"
    " request TEXT NOT NULL UNIQUE, state TEXT NOT NULL, reason TEXT, at_s REAL NOT NULL,"
    " PRIMARY KEY (grid, day)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS fman_cap_offer (pid INTEGER PRIMARY KEY, grid TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS fman_cap_offer_grid ON fman_cap_offer (grid);";

static void exec_or_fail(struct fman *f, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		fman_util_fail(f, what);
	sqlite3_finalize(st);
}

/* The request id (and pseudo offer id) of grid's day (epoch s). */
static void request_id(char out[REQ_MAX], const char *grid, int64_t day)
{
	char t[GF_TIME_BUFSIZE] = "";

	gf_time_format(day * 1000, t, sizeof(t));
	snprintf(out, REQ_MAX, "cap:%.10s:%s", t, grid);
}

/* --- asking ------------------------------------------------------------------------------ */

/* Asks gf-sp for grid's day unless it was asked (and not refused long
 * enough ago). Inside the caller's transaction. */
static void ask(struct fman *f, const char *grid, int64_t day)
{
	Goflex__CapacityPriceQuery q = GOFLEX__CAPACITY_PRICE_QUERY__INIT;
	char req[REQ_MAX], from[GF_TIME_BUFSIZE], to[GF_TIME_BUFSIZE], key[REQ_MAX + 8];
	char *ids[1] = {req};
	double now = gf_agent_now(f->agent);
	sqlite3_stmt *st =
	    fman_util_prepare(f, "SELECT state, at_s FROM fman_cap_ask WHERE grid = ? AND day = ?");
	bool again = false;

	sqlite3_bind_text(st, 1, grid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, day);
	if (sqlite3_step(st) == SQLITE_ROW) {
		if (strcmp(gf_store_text(st, 0), "refused") != 0 ||
		    now - sqlite3_column_double(st, 1) < (double)f->conf->capacity_retry_s) {
			sqlite3_finalize(st);
			return; /* asked, answered, or refused a short while ago */
		}
		again = true;
	}
	sqlite3_finalize(st);
	request_id(req, grid, day);
	if (gf_time_format(day * 1000, from, sizeof(from)) != GF_OK ||
	    gf_time_format((day + DAY_S) * 1000, to, sizeof(to)) != GF_OK) {
		fman_util_fail(f, "capacity query's period");
		return;
	}
	st = fman_util_prepare(f, "INSERT OR REPLACE INTO fman_cap_ask (grid, day, request, state,"
	                          " reason, at_s) VALUES (?, ?, ?, 'asked', NULL, ?)");
	sqlite3_bind_text(st, 1, grid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, day);
	sqlite3_bind_text(st, 3, req, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 4, now);
	exec_or_fail(f, st, "capacity query");
	q.requestid = req;
	q.n_flexofferids = 1;
	q.flexofferids = ids;
	q.gridpointid = (char *)grid;
	q.fromtime = from;
	q.totime = to;
	snprintf(key, sizeof(key), "capq:%s", req);
	if (gf_resend_queue(f->agent, f->store, key, NULL, "sp", f->conf->sp_id,
	                    "capacityprice.query", &q.base) != GF_OK)
		fman_util_fail(f, "capacity query");
	gf_log_info("GF-FMAN-CAPACITY", "capacityprice.query %s of %s for %s to sp.%s%s", req, grid,
	            from, f->conf->sp_id, again ? " (asked again after a refusal)" : "");
}

/* --- pricing ------------------------------------------------------------------------------ */

/* The capacity price of grid for each of n intervals from interval t0 (NaN:
 * none): the finest period holding the interval's start. */
static void lookup(struct fman *f, const char *grid, int64_t t0, size_t n, double *out)
{
	sqlite3_stmt *st = fman_util_prepare(
	    f, "SELECT price FROM fman_cap_price WHERE grid = ?1 AND start_s <= ?2 AND"
	       " start_s + resolution > ?2 ORDER BY resolution LIMIT 1");

	for (size_t k = 0; k < n && !f->failed; k++) {
		int r;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, grid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (t0 + (int64_t)k) * GF_TIME_INTERVAL_S);
		r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			out[k] = sqlite3_column_double(st, 0);
		else if (r == SQLITE_DONE)
			out[k] = NAN;
		else
			fman_util_fail(f, "capacity prices");
	}
	sqlite3_finalize(st);
}

/* Prices offer pid (fo) with what fman_cap_price holds of grid: its
 * tariffs in the offers row. True when they changed. */
static bool price(struct fman *f, int64_t pid, const Goflex__FlexOffer *fo, const char *grid)
{
	size_t w = fman_captariff_window(fo), priced;
	double *cap, tmin, tmax;
	sqlite3_stmt *st;
	bool changed;

	if (!w)
		return false;
	if (!(cap = malloc(w * sizeof(*cap)))) {
		fman_util_fail(f, "out of memory");
		return false;
	}
	lookup(f, grid, fo->startafterinterval, w, cap);
	priced = f->failed ? 0 : fman_captariff_offer(fo, cap, &tmin, &tmax);
	free(cap);
	if (!priced)
		return false;
	st =
	    fman_util_prepare(f, "UPDATE offers SET tariff_min = ?1, tariff_max = ?2 WHERE pid = ?3"
	                         " AND (tariff_min IS NOT ?1 OR tariff_max IS NOT ?2)");
	sqlite3_bind_double(st, 1, tmin);
	sqlite3_bind_double(st, 2, tmax);
	sqlite3_bind_int64(st, 3, pid);
	if (sqlite3_step(st) != SQLITE_DONE)
		fman_util_fail(f, "offer's capacity price");
	sqlite3_finalize(st);
	changed = sqlite3_changes(gf_store_db(f->store)) > 0;
	if (changed)
		gf_log_info("GF-FMAN-CAPACITY",
		            "offer %s: %zu of %zu slices priced with the capacity price of %s: "
		            "tariffs %.6f .. %.6f EUR/kWh",
		            fo->id ? fo->id : "?", priced, fo->n_flexofferprofileconstraints, grid,
		            tmin, tmax);
	return changed;
}

void fman_capprice_offer(struct fman *f, int64_t pid, const Goflex__FlexOffer *fo)
{
	const char *grid = fo->locationid ? fo->locationid->gridpointid : NULL;
	int64_t first, last, today = (int64_t)floor(gf_agent_now(f->agent) / DAY_S) * DAY_S;
	size_t w = fman_captariff_window(fo);
	sqlite3_stmt *st;

	if (!f->conf->capacity_price || !grid || !grid[0] || strlen(grid) > GRID_MAX || !w) {
		/* An update without a grid point (or not priced) keeps none. */
		st = fman_util_prepare(f, "DELETE FROM fman_cap_offer WHERE pid = ?");
		sqlite3_bind_int64(st, 1, pid);
		exec_or_fail(f, st, "offer's grid point");
		if (f->conf->capacity_price && grid && strlen(grid) > GRID_MAX)
			gf_log_notice("GF-FMAN-CAPACITY",
			              "offer %s: grid point id of more than %d characters: no "
			              "capacity price",
			              fo->id, GRID_MAX);
		return;
	}
	st =
	    fman_util_prepare(f, "INSERT OR REPLACE INTO fman_cap_offer (pid, grid) VALUES (?, ?)");
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, grid, -1, SQLITE_STATIC);
	exec_or_fail(f, st, "offer's grid point");
	/* The days of its window from today on, at most DAYS_MAX. */
	first = fo->startafterinterval * GF_TIME_INTERVAL_S / DAY_S * DAY_S;
	last = ((fo->startafterinterval + (int64_t)w) * GF_TIME_INTERVAL_S - 1) / DAY_S * DAY_S;
	if (first < today)
		first = today;
	for (int64_t d = first, k = 0; d <= last && k < DAYS_MAX && !f->failed; d += DAY_S, k++)
		ask(f, grid, d);
	if (!f->failed)
		price(f, pid, fo, grid);
}

/* --- gf-sp's answers ----------------------------------------------------------------------- */

/* NULL when a series can be kept, else why not. */
static const char *check(const Goflex__CapacityPrice *p, int64_t *start_s)
{
	int64_t ms;

	if (p->currency && strcmp(p->currency, "EUR") != 0)
		return "currency: only EUR";
	if (p->resolution < 60 || p->resolution > DAY_S || DAY_S % p->resolution != 0)
		return "resolution: 60 to 86400 s dividing the day";
	if (!p->starttime || gf_time_parse(p->starttime, strlen(p->starttime), &ms) != GF_OK ||
	    ms % 60000 != 0)
		return "startTime: an RFC 3339 time on a whole minute";
	if (p->n_prices == 0 || p->n_prices > SERIES_MAX)
		return "1 to 35136 values";
	for (size_t k = 0; k < p->n_prices; k++)
		if (!isfinite(p->prices[k]) || fabs(p->prices[k]) > VALUE_MAX)
			return "each value finite within +-1000 EUR/kWh";
	*start_s = ms / 1000;
	return NULL;
}

/* The grid point of a request id FMAN sent (its fman_cap_ask row), into
 * grid; false when it sent none such. */
static bool asked_grid(struct fman *f, const char *req, char grid[GRID_MAX + 1])
{
	sqlite3_stmt *st = fman_util_prepare(f, "SELECT grid FROM fman_cap_ask WHERE request = ?");
	bool found = false;

	sqlite3_bind_text(st, 1, req ? req : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(grid, GRID_MAX + 1, "%s", gf_store_text(st, 0));
		found = true;
	}
	sqlite3_finalize(st);
	return found;
}

/* One message of gf-sp, for gf_store_once. */
struct take {
	struct fman *f;
	const struct gf_message *m;
	char grid[GRID_MAX + 1], why[256];
	size_t kept, repriced;
	bool unknown, refused;
};

static void keep(struct take *c, const Goflex__CapacityPrice *p)
{
	struct fman *f = c->f;
	const char *why;
	int64_t s;

	if (!asked_grid(f, p->flexofferid, c->grid)) {
		c->unknown = true;
		snprintf(c->why, sizeof(c->why), "offer id %s is none FMAN asked for",
		         p->flexofferid);
		return;
	}
	if (p->gridpointid && strcmp(p->gridpointid, c->grid) != 0) {
		snprintf(c->why, sizeof(c->why), "%s is for grid point %s, not %s", p->flexofferid,
		         p->gridpointid, c->grid);
		c->unknown = true;
		return;
	}
	if ((why = check(p, &s))) {
		snprintf(c->why, sizeof(c->why), "%s: %s", p->flexofferid, why);
		c->unknown = true;
		return;
	}
	for (size_t k = 0; k < p->n_prices && !f->failed; k++)
		if (gf_store_run(f->store,
		                 "INSERT OR REPLACE INTO fman_cap_price (grid, start_s, resolution,"
		                 " price) VALUES (?, ?, ?, ?)",
		                 "tiid", c->grid, s + (int64_t)k * p->resolution,
		                 (int64_t)p->resolution, p->prices[k]) != GF_OK)
			fman_util_fail(f, "capacity prices");
	if (gf_store_run(f->store,
	                 "UPDATE fman_cap_ask SET state = 'ok', reason = NULL WHERE"
	                 " request = ?",
	                 "t", p->flexofferid) != GF_OK)
		fman_util_fail(f, "capacity query answered");
	c->kept += p->n_prices;
}

/* The live offers of c->grid priced again. */
static void reprice(struct take *c)
{
	struct fman *f = c->f;
	sqlite3_stmt *st = fman_util_prepare(
	    f, "SELECT o.pid, o.body FROM fman_cap_offer g JOIN offers o ON o.pid = g.pid"
	       " WHERE g.grid = ? AND o.state = 'Accepted' ORDER BY o.pid");

	sqlite3_bind_text(st, 1, c->grid, -1, SQLITE_STATIC);
	while (!f->failed && sqlite3_step(st) == SQLITE_ROW) {
		ProtobufCMessage *m = NULL;
		const char *body = gf_store_text(st, 1);
		if (gf_codec_from_json(&goflex__flex_offer__descriptor, body, strlen(body), &m,
		                       NULL, 0) != GF_OK)
			continue; /* it no longer converts: the pool does not hold it either */
		if (price(f, sqlite3_column_int64(st, 0), (const Goflex__FlexOffer *)m, c->grid))
			c->repriced++;
		gf_codec_free(m);
	}
	sqlite3_finalize(st);
}

static enum gf_err take_txn(void *arg)
{
	struct take *c = arg;
	struct fman *f = c->f;
	int64_t old = (int64_t)floor(gf_agent_now(f->agent) / DAY_S) * DAY_S - 2 * DAY_S;

	if (strcmp(c->m->msg, "capacityprice") == 0) {
		keep(c, (const Goflex__CapacityPrice *)c->m->body);
	} else {
		const Goflex__CapacityPriceQueryResult *r =
		    (const Goflex__CapacityPriceQueryResult *)c->m->body;
		const char *req = r->status ? r->status->requestid : NULL;
		char key[REQ_MAX + 8];
		if (!req || !asked_grid(f, req, c->grid)) {
			c->unknown = true;
			snprintf(c->why, sizeof(c->why), "request %s is none FMAN sent",
			         req ? req : "(no requestId)");
			return fman_util_status(f);
		}
		snprintf(key, sizeof(key), "capq:%s", req);
		if (gf_resend_answered(f->store, key, NULL, NULL) != GF_OK)
			fman_util_fail(f, "capacity query answered");
		if (r->status->code != GOFLEX__RESULT_STATUS__CODE__ok) {
			const ProtobufCEnumValue *code = protobuf_c_enum_descriptor_get_value(
			    &goflex__result_status__code__descriptor, (int)r->status->code);
			c->refused = true;
			snprintf(c->why, sizeof(c->why), "%s: %s", code ? code->name : "?",
			         r->status->reason ? r->status->reason : "(no reason)");
			if (gf_store_run(
			        f->store,
			        "UPDATE fman_cap_ask SET state = 'refused', reason = ?, at_s = ?"
			        " WHERE request = ?",
			        "tdt", c->why, gf_agent_now(f->agent), req) != GF_OK)
				fman_util_fail(f, "capacity query refused");
			return fman_util_status(f);
		}
		for (size_t k = 0; k < r->n_prices && !c->unknown && !f->failed; k++)
			keep(c, r->prices[k]);
	}
	if (c->unknown || f->failed)
		return fman_util_status(f);
	reprice(c);
	/* What is over is forgotten. */
	if (!f->failed &&
	    (gf_store_run(f->store, "DELETE FROM fman_cap_price WHERE start_s + resolution < ?",
	                  "i", old) != GF_OK ||
	     gf_store_run(f->store, "DELETE FROM fman_cap_ask WHERE day + 86400 < ?", "i", old) !=
	         GF_OK))
		fman_util_fail(f, "old capacity prices");
	return fman_util_status(f);
}

void fman_capprice_take(struct fman *f, const struct gf_message *m)
{
	struct take c = {.f = f, .m = m};

	if (!f->conf->capacity_price) {
		gf_log_info("GF-FMAN-CAPACITY", "%s from sp.%s ignored: capacity_price is off",
		            m->msg, m->from_id);
		return;
	}
	/* Keeping a series twice changes nothing: no key of its own. */
	if (gf_store_once(f->agent, f->store, NULL, take_txn, NULL, &c) != GF_OK)
		return;
	if (c.unknown)
		gf_log_warning("GF-FMAN-CAPACITY", "%s from sp.%s ignored: %s", m->msg, m->from_id,
		               c.why);
	else if (c.refused)
		gf_log_notice("GF-FMAN-CAPACITY", "no capacity price of %s from sp.%s: %s", c.grid,
		              m->from_id, c.why);
	else
		gf_log_info("GF-FMAN-CAPACITY",
		            "%s from sp.%s: %zu prices of %s kept, %zu live offers priced again",
		            m->msg, m->from_id, c.kept, c.grid, c.repriced);
	if (c.repriced)
		f->dirty = true;
}
