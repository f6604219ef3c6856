/* SPDX-License-Identifier: MIT */
/*
 * tariff.c - the network part of a prosumer's asking tariffs (docs/foa.md,
 * "Network tariffs"): gf-sp's transfercost of the FOA's grid point (its
 * public feed) and, with capacity_price, the implicit capacity price there
 * (capacityprice.query at start and each day, capacityprice when it
 * changes) are kept in table foa_netprice; an offer's slices then ask
 *
 *   maxTariff = base_max + max over the slice's window of (T_t + C_t)
 *   minTariff = max(0, base_min - min over the window of (T_t + C_t))
 *
 * (EUR/kWh; netprice.c). Calls no other file of the agent.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foa.h"
#include "agent/once.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "payload/codec.h"
#include "price.pb-c.h"

const char foa_tariff_schema[] =
    "CREATE TABLE IF NOT EXISTS foa_netprice (kind TEXT NOT NULL, start_s INTEGER NOT NULL,"
    " resolution INTEGER NOT NULL, price REAL NOT NULL,"
    " PRIMARY KEY (kind, start_s, resolution)) WITHOUT ROWID;";

bool foa_tariff_on(const struct foa *f)
{
	const struct foa_conf *c = f->conf;

	return c->tariff_grid_point && *c->tariff_grid_point &&
	       (c->transfer_cost || c->capacity_price);
}

/* --- what gf-sp sends --- */

static enum gf_err put(struct foa *f, const char *kind, int64_t start_s, uint32_t resolution,
                       const double *v, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		enum gf_err rc = gf_store_run(
		    f->store,
		    "INSERT OR REPLACE INTO foa_netprice (kind, start_s, resolution, price)"
		    " VALUES (?, ?, ?, ?)",
		    "tiid", kind, start_s + (int64_t)k * resolution, (int64_t)resolution, v[k]);
		if (rc != GF_OK)
			return rc;
	}
	return GF_OK;
}

/* NULL when a series can be kept, else why not. */
static const char *check(const char *currency, uint32_t resolution, const char *start,
                         const double *v, size_t n, int64_t *start_s)
{
	int64_t ms;

	if (currency && strcmp(currency, "EUR") != 0)
		return "currency: only EUR";
	if (resolution < 60 || resolution > 86400 || 86400 % resolution != 0)
		return "resolution: 60 to 86400 s dividing the day";
	if (!start || gf_time_parse(start, strlen(start), &ms) != GF_OK || ms % 60000 != 0)
		return "startTime: an RFC 3339 time on a whole minute";
	if (n == 0 || n > 35136)
		return "1 to 35136 values";
	for (size_t k = 0; k < n; k++)
		if (!isfinite(v[k]) || fabs(v[k]) > 1000)
			return "each value finite within +-1000 EUR/kWh";
	*start_s = ms / 1000;
	return NULL;
}

static bool mine(const struct foa *f, const char *grid)
{
	return !grid || strcmp(grid, f->conf->tariff_grid_point) == 0;
}

enum gf_err foa_tariff_transfercost(struct foa *f, const struct gf_message *m)
{
	const Goflex__TransferCost *t = (const Goflex__TransferCost *)m->body;
	const char *why;
	int64_t s;

	if (!foa_tariff_on(f) || !f->conf->transfer_cost || !mine(f, t->togridpointid))
		return GF_OK; /* another grid point's */
	if ((why = check(t->currency, t->resolution, t->starttime, t->costs, t->n_costs, &s))) {
		gf_log_warning("GF-FOA-TARIFF", "transfercost from sp.%s refused: %s", m->from_id,
		               why);
		return GF_OK;
	}
	gf_log_info("GF-FOA-TARIFF", "foa.%s: transfercost of %s, %zu periods from %s", f->id,
	            t->togridpointid, t->n_costs, t->starttime);
	return put(f, "transfer", s, t->resolution, t->costs, t->n_costs);
}

static enum gf_err take_capacity(struct foa *f, const char *from, const Goflex__CapacityPrice *p)
{
	const char *why;
	int64_t s;

	if (!mine(f, p->gridpointid))
		return GF_OK;
	if ((why = check(p->currency, p->resolution, p->starttime, p->prices, p->n_prices, &s))) {
		gf_log_warning("GF-FOA-TARIFF", "capacity price from sp.%s refused: %s", from, why);
		return GF_OK;
	}
	gf_log_info("GF-FOA-TARIFF", "foa.%s: capacity price of %s, %zu periods from %s", f->id,
	            f->conf->tariff_grid_point, p->n_prices, p->starttime);
	return put(f, "capacity", s, p->resolution, p->prices, p->n_prices);
}

enum gf_err foa_tariff_capacityprice(struct foa *f, const struct gf_message *m)
{
	if (!foa_tariff_on(f) || !f->conf->capacity_price)
		return GF_OK;
	if (strcmp(m->msg, "capacityprice") == 0)
		return take_capacity(f, m->from_id, (const Goflex__CapacityPrice *)m->body);
	const Goflex__CapacityPriceQueryResult *r =
	    (const Goflex__CapacityPriceQueryResult *)m->body;
	if (r->status && r->status->code != GOFLEX__RESULT_STATUS__CODE__ok) {
		gf_log_notice("GF-FOA-TARIFF", "foa.%s: no capacity price of %s: %s", f->id,
		              f->conf->tariff_grid_point,
		              r->status->reason ? r->status->reason : "(no reason)");
		return GF_OK;
	}
	for (size_t k = 0; k < r->n_prices; k++) {
		enum gf_err rc = take_capacity(f, m->from_id, r->prices[k]);
		if (rc != GF_OK)
			return rc;
	}
	return GF_OK;
}

/* --- the capacity price asked for --- */

struct ask {
	struct foa *f;
	int64_t day_s;
};

static enum gf_err ask_txn(void *arg)
{
	struct ask *q = arg;
	struct foa *f = q->f;
	Goflex__CapacityPriceQuery cq = GOFLEX__CAPACITY_PRICE_QUERY__INIT;
	char id[GF_ID_MAX + 16], rid[64], from[GF_TIME_BUFSIZE], to[GF_TIME_BUFSIZE];
	char *ids[1] = {id};

	/* One pseudo offer: the price is the grid point's (docs/sp.md), and
	 * gf-sp watches it and sends it again when it changes. */
	snprintf(id, sizeof(id), "%s-grid", f->id);
	snprintf(rid, sizeof(rid), "cap-%" PRId64, q->day_s / 86400);
	gf_time_format(q->day_s * 1000, from, sizeof(from));
	gf_time_format((q->day_s + 2 * 86400) * 1000, to, sizeof(to));
	cq.requestid = rid;
	cq.n_flexofferids = 1;
	cq.flexofferids = ids;
	cq.gridpointid = f->conf->tariff_grid_point;
	cq.fromtime = from;
	cq.totime = to;
	gf_log_info("GF-FOA-TARIFF", "foa.%s: capacityprice.query of %s from %s to sp.%s", f->id,
	            cq.gridpointid, from, f->conf->sp_id);
	return gf_message_queue(f->a, f->store, "sp", f->conf->sp_id, "capacityprice.query",
	                        &cq.base);
}

static void on_day(struct gf_agent *a, void *arg);

static void ask(struct foa *f)
{
	int64_t day = (int64_t)floor(gf_agent_now(f->a) / 86400) * 86400;
	struct ask q = {.f = f, .day_s = day};
	char key[64];

	/* Once per day and FOA, also across restarts. */
	snprintf(key, sizeof(key), "capq:%" PRId64, day / 86400);
	if (gf_store_once(f->a, f->store, key, ask_txn, NULL, &q) != GF_OK)
		return;
	gf_store_outbox_flush(f->store, f->bus);
	gf_agent_timer_at(f->a, (double)(day + 86400), on_day, f);
}

static void on_day(struct gf_agent *a, void *arg)
{
	(void)a;
	ask(arg);
}

void foa_tariff_start(struct foa *f)
{
	if (foa_tariff_on(f) && f->conf->capacity_price)
		ask(f);
}

/* --- the offer's tariffs --- */

/* The price of kind for each of n intervals from interval t0 (NaN: none):
 * the finest period holding the interval's start. */
static enum gf_err lookup(struct foa *f, const char *kind, int64_t t0, size_t n, double *out)
{
	sqlite3_stmt *st = gf_store_prepare(
	    f->store, "SELECT price FROM foa_netprice WHERE kind = ?1 AND start_s <= ?2 AND"
	              " start_s + resolution > ?2 ORDER BY resolution LIMIT 1");
	enum gf_err rc = GF_OK;

	if (!st)
		return GF_EIO;
	for (size_t k = 0; k < n && rc == GF_OK; k++) {
		int r;
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (t0 + (int64_t)k) * GF_TIME_INTERVAL_S);
		r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			out[k] = sqlite3_column_double(st, 0);
		else if (r == SQLITE_DONE)
			out[k] = NAN;
		else
			rc = GF_EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

void foa_tariff_box_free(struct foa_tariff_box *b)
{
	if (!b)
		return;
	if (b->fo && b->ptr) { /* the offer as it was: it points into b no more */
		for (size_t k = 0; k < b->n; k++)
			b->fo->flexofferprofileconstraints[k]->tariffconstraint = b->ptr[k];
		b->fo->flexoffertariffconstraint = b->offer;
	}
	free(b->tc);
	free(b->ptr);
	free(b);
}

enum gf_err foa_tariff_apply(struct foa *f, Goflex__FlexOffer *fo, struct foa_tariff_box **out)
{
	const struct foa_conf *c = f->conf;
	size_t n = fo->n_flexofferprofileconstraints, tf, w, priced = 0;
	const Goflex__TariffConstraint *ot = fo->flexoffertariffconstraint;
	double *tr = NULL, *cp = NULL;
	struct foa_tariff_box *b = NULL;
	enum gf_err rc = GF_OK;

	*out = NULL;
	if (!foa_tariff_on(f) || n == 0 || fo->startbeforeinterval < fo->startafterinterval ||
	    fo->startafterinterval < 0)
		return GF_OK;
	for (size_t k = 0; k < n; k++)
		if (fo->flexofferprofileconstraints[k]->minduration != 1 ||
		    fo->flexofferprofileconstraints[k]->maxduration != 1)
			return GF_OK; /* not unit slices: left as it is (docs/foa.md) */
	tf = (size_t)(fo->startbeforeinterval - fo->startafterinterval);
	if (tf > 100000 || n > 100000)
		return GF_OK;
	w = n + tf; /* the intervals any slice may fall in */
	rc = GF_ENOMEM;
	if (!(tr = malloc(w * sizeof(double))) || !(cp = malloc(w * sizeof(double))) ||
	    !(b = calloc(1, sizeof(*b))) || !(b->tc = calloc(n, sizeof(*b->tc))) ||
	    !(b->ptr = calloc(n, sizeof(*b->ptr))))
		goto out;
	for (size_t k = 0; k < w; k++)
		tr[k] = cp[k] = NAN;
	if ((c->transfer_cost && (rc = lookup(f, "transfer", fo->startafterinterval, w, tr))) ||
	    (c->capacity_price && (rc = lookup(f, "capacity", fo->startafterinterval, w, cp))))
		goto out;
	rc = GF_OK;
	for (size_t k = 0; k < n; k++) {
		Goflex__FlexOfferProfileConstraint *s = fo->flexofferprofileconstraints[k];
		const Goflex__TariffConstraint *base =
		    s->tariffconstraint ? s->tariffconstraint : ot;
		double bmin = base ? base->mintariff : c->tariff_base_min;
		double bmax = base ? base->maxtariff : c->tariff_base_max;
		double tmin, tmax;

		goflex__tariff_constraint__init(&b->tc[k]);
		/* Slice k runs in one of intervals k .. k + tf of the window. */
		if (foa_netprice_slice(bmin, bmax, tr + k, cp + k, tf + 1, &tmin, &tmax)) {
			b->tc[k].mintariff = tmin;
			b->tc[k].maxtariff = tmax;
			priced++;
		} else if (base) {
			b->tc[k] = *base;
		} else {
			b->tc[k].mintariff = fmax(0, c->tariff_base_min);
			b->tc[k].maxtariff = fmax(b->tc[k].mintariff, c->tariff_base_max);
		}
		b->ptr[k] = s->tariffconstraint;
		s->tariffconstraint = &b->tc[k];
	}
	b->fo = fo;
	b->n = n;
	b->offer = fo->flexoffertariffconstraint;
	if (!priced) /* nothing known of its intervals: as it was */
		goto out;
	/* The per-slice tariffs say it all: an offer-wide one would override
	 * them (lib/engine/fo_message.c). */
	fo->flexoffertariffconstraint = NULL;
	gf_log_info("GF-FOA-TARIFF",
	            "offer %s: %zu of %zu slices priced with the network tariffs of %s", fo->id,
	            priced, n, c->tariff_grid_point);
	*out = b;
	b = NULL;
out:
	foa_tariff_box_free(b);
	free(tr);
	free(cp);
	return rc;
}
