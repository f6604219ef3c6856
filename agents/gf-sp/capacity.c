/* SPDX-License-Identifier: MIT */
/*
 * capacity.c - the implicit capacity price of FlexOffers (F6.8: "Price for
 * implicit capacity trading is added to each prosumer FlexOffer at
 * FMAN/FMAR level. Calculator for this price should [be] provided by DOMS
 * and be available on Service platform"). docs/sp.md, "Capacity price".
 *
 * The calculator is the DOMS's bid price (docs/doms.md) applied to the
 * grid point's energy forecast (fcast.c) with the grid file's capacity
 * parameters (lib/engine/gridtariff.h): per 900 s interval, 0 while the
 * forecast is below knee_pct of the limit, then from price rising to
 * price_max as the excess reaches the whole limit. It is the price of a kWh
 * of the offer's energy at its grid point (consumption pays it, a reduction
 * earns it); the offer's own energy does not move the forecast (a marginal
 * price).
 *
 *   capacityprice.query -> .result: one CapacityPrice per flexOfferId over
 *     the whole intervals of the period (at most 7 days); the grid point
 *     must be given (the platform never sees the offers);
 *   capacityprice: each offer answered is watched until its period ends;
 *     once a day (forecast_at_s) and at start its prices are computed
 *     again, and a changed series goes to its asker (sp_cap_watch).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "energy.h"
#include "price.pb-c.h"
#include "sp.h"

#define IV_MS      900000LL
#define DAY_MS     86400000LL
#define PERIOD_MAX (7 * 96)
#define OFFERS_MAX 100
#define OFFER_MAX  128

#define SCHEMA                                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_cap_watch (role TEXT NOT NULL, asker TEXT NOT NULL,"        \
	" offer TEXT NOT NULL, grid TEXT NOT NULL, from_ms INTEGER NOT NULL, n INTEGER NOT NULL,"  \
	" hash TEXT NOT NULL, PRIMARY KEY (role, asker, offer)) WITHOUT ROWID;"

enum gf_err sp_capacity_start(struct sp *sp)
{
	return gf_store_exec(sp->store, SCHEMA);
}

/* The prices of grid over n intervals from first into v. GF_OK; or the
 * status's code in *code with why (GF_ENOENT, GF_EDENIED); GF_EIO,
 * GF_ENOMEM. */
static enum gf_err prices(struct sp *sp, const char *grid, int64_t first, size_t n, double *v,
                          Goflex__ResultStatus__Code *code, char *why, size_t whylen)
{
	const struct gf_gridtariff_cap *cap = gf_gridtariff_capacity(&sp->tariff, grid);
	const struct sp_grid *g = sp_grids_find(sp, grid);
	double day[96];
	int64_t cur = INT64_MIN;
	enum gf_err rc;

	if (!cap || !g) {
		*code = GOFLEX__RESULT_STATUS__CODE__notFound;
		snprintf(why, whylen, "grid point %s: %s", grid,
		         !cap ? "no capacity line in the grid file" : "no topology names it");
		return GF_ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t t = first + (int64_t)i * IV_MS, d = sp_energy_floor(t, DAY_MS);

		if (d != cur) {
			rc = sp_fcast_grid_day(sp, g, d, day, NULL, NULL, NULL, why, whylen);
			if (rc == GF_ENOENT || rc == GF_EDENIED)
				*code = rc == GF_EDENIED ? GOFLEX__RESULT_STATUS__CODE__denied
				                         : GOFLEX__RESULT_STATUS__CODE__failed;
			if (rc != GF_OK)
				return rc;
			cur = d;
		}
		v[i] = gf_gridtariff_capacity_price(cap, day[(t - d) / IV_MS]);
	}
	return GF_OK;
}

struct canswer {
	struct sp *sp;
	const struct gf_inbox_item *item;
	const struct gf_message *m;
	const Goflex__CapacityPriceQuery *q;
	Goflex__CapacityPriceQueryResult *res;
	int64_t first;
	size_t n;
	char hash[GF_FNV1A64_HEXSIZE];
};

static enum gf_err answer_txn(void *arg)
{
	struct canswer *a = arg;
	enum gf_err rc = gf_message_answer(a->sp->a, a->sp->store, a->item, a->m, &a->res->base);

	for (size_t i = 0; rc == GF_OK && i < a->res->n_prices; i++)
		rc = gf_store_run(a->sp->store,
		                  "INSERT OR REPLACE INTO sp_cap_watch (role, asker, offer, grid,"
		                  " from_ms, n, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		                  "ttttiit", gf_role_name(a->m->topic.from_role), a->m->from_id,
		                  a->q->flexofferids[i], a->q->gridpointid, a->first, (int64_t)a->n,
		                  a->hash);
	return rc;
}

static const char *check(const Goflex__CapacityPriceQuery *q, int64_t *first, size_t *n)
{
	int64_t from, to, last;

	if (q->n_flexofferids == 0 || q->n_flexofferids > OFFERS_MAX)
		return "flexOfferIds: 1 to 100 offers";
	for (size_t i = 0; i < q->n_flexofferids; i++)
		if (!q->flexofferids[i][0] || strlen(q->flexofferids[i]) > OFFER_MAX)
			return "flexOfferIds: 1 to 128 characters each";
	if (gf_time_parse(q->fromtime, strlen(q->fromtime), &from) != GF_OK ||
	    gf_time_parse(q->totime, strlen(q->totime), &to) != GF_OK || from >= to)
		return "fromTime must be before toTime";
	*first = sp_energy_ceil(from, IV_MS);
	last = sp_energy_floor(to, IV_MS);
	*n = last > *first ? (size_t)((last - *first) / IV_MS) : 0;
	if (*n == 0 || *n > PERIOD_MAX)
		return "1 to 672 whole 900 s intervals (7 days)";
	return NULL;
}

void sp_capacity_answer(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m)
{
	const Goflex__CapacityPriceQuery *q = (const Goflex__CapacityPriceQuery *)m->body;
	Goflex__CapacityPriceQueryResult res = GOFLEX__CAPACITY_PRICE_QUERY_RESULT__INIT;
	Goflex__ResultStatus status = GOFLEX__RESULT_STATUS__INIT;
	Goflex__CapacityPrice *cp = NULL, **ptrs = NULL;
	struct canswer a = {sp, item, m, q, &res, 0, 0, ""};
	char reason[256] = "", start[GF_TIME_BUFSIZE] = "", id[GF_FNV1A64_HEXSIZE];
	const char *bad = check(q, &a.first, &a.n);
	double *v = NULL;
	enum gf_err rc = GF_OK;

	status.requestid = q->requestid;
	if (bad) {
		status.code = GOFLEX__RESULT_STATUS__CODE__badRequest;
		snprintf(reason, sizeof(reason), "%s", bad);
	} else if (!q->gridpointid) {
		status.code = GOFLEX__RESULT_STATUS__CODE__notFound;
		snprintf(reason, sizeof(reason),
		         "the platform does not know the offers' grid point: give gridPointId");
	} else if (!(v = malloc(a.n * sizeof(*v))) ||
	           !(cp = calloc(q->n_flexofferids, sizeof(*cp))) ||
	           !(ptrs = calloc(q->n_flexofferids, sizeof(*ptrs)))) {
		status.code = GOFLEX__RESULT_STATUS__CODE__failed;
		snprintf(reason, sizeof(reason), "out of memory");
	} else if ((rc = prices(sp, q->gridpointid, a.first, a.n, v, &status.code, reason,
	                        sizeof(reason))) != GF_OK) {
		if (rc != GF_ENOENT && rc != GF_EDENIED) {
			status.code = GOFLEX__RESULT_STATUS__CODE__unavailable;
			snprintf(reason, sizeof(reason), "the metering store failed; retry later");
		}
	}
	if (status.code == GOFLEX__RESULT_STATUS__CODE__ok) {
		gf_time_format(a.first, start, sizeof(start));
		sp_util_msgid(v, a.n * sizeof(*v), a.hash);
		for (size_t i = 0; i < q->n_flexofferids; i++) {
			goflex__capacity_price__init(&cp[i]);
			cp[i].flexofferid = q->flexofferids[i];
			cp[i].gridpointid = q->gridpointid;
			cp[i].resolution = 900;
			cp[i].starttime = start;
			cp[i].prices = v;
			cp[i].n_prices = a.n;
			ptrs[i] = &cp[i];
		}
		res.prices = ptrs;
		res.n_prices = q->n_flexofferids;
	} else {
		status.reason = reason;
	}
	res.status = &status;
	if (gf_store_once(sp->a, sp->store, NULL, answer_txn, NULL, &a) == GF_OK) {
		sp_util_msgid(item->payload, item->len, id);
		gf_log_info("GF-SP-QUERY",
		            "capacityprice.query (message %s) from %s.%s: %zu offers at %s: %s%s%s",
		            id, gf_role_name(m->topic.from_role), m->from_id, q->n_flexofferids,
		            q->gridpointid ? q->gridpointid : "-",
		            status.code == GOFLEX__RESULT_STATUS__CODE__ok ? "ok" : "refused",
		            reason[0] ? ": " : "", reason);
		sp_util_flush(sp);
	}
	free(v);
	free(cp);
	free(ptrs);
}

/* --- the watches ----------------------------------------------------------------------- */

struct watch {
	char *role, *asker, *offer, *grid;
	int64_t from;
	size_t n;
	char hash[GF_FNV1A64_HEXSIZE];
};

struct push {
	struct sp *sp;
	const struct watch *w;
	Goflex__CapacityPrice *cp;
	const char *hash;
};

static enum gf_err push_txn(void *arg)
{
	struct push *p = arg;
	enum gf_err rc = gf_message_queue(p->sp->a, p->sp->store, p->w->role, p->w->asker,
	                                  "capacityprice", &p->cp->base);

	if (rc == GF_OK)
		rc = gf_store_run(p->sp->store,
		                  "UPDATE sp_cap_watch SET hash = ?4 WHERE role = ?1 AND asker = ?2"
		                  " AND offer = ?3",
		                  "tttt", p->w->role, p->w->asker, p->w->offer, p->hash);
	return rc;
}

static enum gf_err refresh_one(struct sp *sp, const struct watch *w, size_t *sent)
{
	Goflex__CapacityPrice cp = GOFLEX__CAPACITY_PRICE__INIT;
	Goflex__ResultStatus__Code code = GOFLEX__RESULT_STATUS__CODE__ok;
	char why[256], start[GF_TIME_BUFSIZE] = "", hash[GF_FNV1A64_HEXSIZE];
	struct push p = {sp, w, &cp, hash};
	double *v = malloc(w->n * sizeof(*v));
	enum gf_err rc;

	if (!v)
		return GF_ENOMEM;
	rc = prices(sp, w->grid, w->from, w->n, v, &code, why, sizeof(why));
	if (rc == GF_ENOENT || rc == GF_EDENIED) {
		rc = GF_OK; /* nothing to say now; the answer stands */
		goto out;
	}
	if (rc != GF_OK)
		goto out;
	sp_util_msgid(v, w->n * sizeof(*v), hash);
	if (strcmp(hash, w->hash) == 0)
		goto out;
	gf_time_format(w->from, start, sizeof(start));
	cp.flexofferid = w->offer;
	cp.gridpointid = w->grid;
	cp.resolution = 900;
	cp.starttime = start;
	cp.prices = v;
	cp.n_prices = w->n;
	if ((rc = gf_store_once(sp->a, sp->store, NULL, push_txn, NULL, &p)) == GF_OK)
		(*sent)++;
out:
	free(v);
	return rc;
}

void sp_capacity_refresh(struct sp *sp)
{
	int64_t now = sp_util_now_ms(sp);
	sqlite3_stmt *st;
	struct watch *w = NULL;
	size_t n = 0, sent = 0;
	enum gf_err rc;

	/* Periods over are watched no more. */
	if (gf_store_run(sp->store, "DELETE FROM sp_cap_watch WHERE from_ms + n * 900000 <= ?1",
	                 "i", now) != GF_OK) {
		gf_agent_fail(sp->a, "capacity prices: the store failed");
		return;
	}
	st = gf_store_prepare(sp->store, "SELECT role, asker, offer, grid, from_ms, n, hash FROM"
	                                 " sp_cap_watch ORDER BY role, asker, offer");
	rc = st ? GF_OK : GF_EIO;
	while (rc == GF_OK && sqlite3_step(st) == SQLITE_ROW) {
		struct watch *g = realloc(w, (n + 1) * sizeof(*g));
		if (!g) {
			rc = GF_ENOMEM;
			break;
		}
		w = g;
		memset(&w[n], 0, sizeof(w[n]));
		w[n].role = strdup(gf_store_text(st, 0));
		w[n].asker = strdup(gf_store_text(st, 1));
		w[n].offer = strdup(gf_store_text(st, 2));
		w[n].grid = strdup(gf_store_text(st, 3));
		w[n].from = sqlite3_column_int64(st, 4);
		w[n].n = (size_t)sqlite3_column_int64(st, 5);
		snprintf(w[n].hash, sizeof(w[n].hash), "%s", gf_store_text(st, 6));
		n++;
		if (!w[n - 1].role || !w[n - 1].asker || !w[n - 1].offer || !w[n - 1].grid)
			rc = GF_ENOMEM;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; rc == GF_OK && i < n; i++)
		if (w[i].n <= PERIOD_MAX)
			rc = refresh_one(sp, &w[i], &sent);
	for (size_t i = 0; i < n; i++) {
		free(w[i].role);
		free(w[i].asker);
		free(w[i].offer);
		free(w[i].grid);
	}
	free(w);
	if (rc != GF_OK) {
		gf_agent_fail(sp->a, "capacity prices: the store failed");
		return;
	}
	if (sent) {
		gf_log_info("GF-SP-CAPACITY", "capacityprice: %zu changed series queued", sent);
		sp_util_flush(sp);
	}
}
