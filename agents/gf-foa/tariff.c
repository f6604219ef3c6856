/* SPDX-License-Identifier: MIT */
/*
 * tariff.c - the network part of a prosumer's asking tariffs (docs/foa.md,
 * "Network tariffs"): gf-sp's transfercost of the FOA's grid point (its
 * public feed) is kept in table foa_netprice; an offer's slices then ask
 *
 *   maxTariff = base_max + max over the slice's window of T_t
 *   minTariff = max(0, base_min - min over the window of T_t)
 *
 * (EUR/kWh; lib/engine/nettariff.h), and the offer names the grid point
 * (locationId.gridPointId), where FMAN adds the implicit capacity price
 * (docs/fman.md, "Capacity price"). Calls no other file of the agent.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foa.h"
#include "engine/nettariff.h"
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

	return c->tariff_grid_point && *c->tariff_grid_point && c->transfer_cost;
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
	if (b->fo) { /* the offer as it was: it points into b no more */
		for (size_t k = 0; b->ptr && k < b->n; k++)
			b->fo->flexofferprofileconstraints[k]->tariffconstraint = b->ptr[k];
		if (b->ptr)
			b->fo->flexoffertariffconstraint = b->offer;
		if (b->located)
			b->fo->locationid = NULL;
	}
	free(b->tc);
	free(b->ptr);
	free(b);
}

/* Slice k's tariffs with the transfer cost of its window (tr from the
 * window's start); false when none of its intervals has one. */
static bool price_slices(struct foa *f, Goflex__FlexOffer *fo, const double *tr, size_t tf,
                         struct foa_tariff_box *b)
{
	const struct foa_conf *c = f->conf;
	const Goflex__TariffConstraint *ot = fo->flexoffertariffconstraint;
	size_t n = fo->n_flexofferprofileconstraints, priced = 0;

	for (size_t k = 0; k < n; k++) {
		Goflex__FlexOfferProfileConstraint *s = fo->flexofferprofileconstraints[k];
		const Goflex__TariffConstraint *base =
		    s->tariffconstraint ? s->tariffconstraint : ot;
		double bmin = base ? base->mintariff : c->tariff_base_min;
		double bmax = base ? base->maxtariff : c->tariff_base_max;
		double tmin, tmax;

		goflex__tariff_constraint__init(&b->tc[k]);
		/* Slice k runs in one of intervals k .. k + tf of the window. */
		if (gf_nettariff_slice(bmin, bmax, tr + k, NULL, tf + 1, &tmin, &tmax)) {
			b->tc[k].mintariff = tmin;
			b->tc[k].maxtariff = tmax;
			priced++;
		} else if (base) {
			b->tc[k] = *base;
		} else {
			b->tc[k].mintariff = fmax(0, c->tariff_base_min);
			b->tc[k].maxtariff = fmax(b->tc[k].mintariff, c->tariff_base_max);
		}
	}
	if (!priced)
		return false;
	for (size_t k = 0; k < n; k++) {
		b->ptr[k] = fo->flexofferprofileconstraints[k]->tariffconstraint;
		fo->flexofferprofileconstraints[k]->tariffconstraint = &b->tc[k];
	}
	b->n = n;
	b->offer = fo->flexoffertariffconstraint;
	/* The per-slice tariffs say it all: an offer-wide one would override
	 * them (lib/engine/fo_message.c). */
	fo->flexoffertariffconstraint = NULL;
	gf_log_info("GF-FOA-TARIFF",
	            "offer %s: %zu of %zu slices priced with the transfer cost of %s", fo->id,
	            priced, n, c->tariff_grid_point);
	return true;
}

enum gf_err foa_tariff_apply(struct foa *f, Goflex__FlexOffer *fo, struct foa_tariff_box **out)
{
	const struct foa_conf *c = f->conf;
	size_t n = fo->n_flexofferprofileconstraints, tf, w;
	double *tr = NULL;
	struct foa_tariff_box *b = NULL;
	bool unit = true;
	enum gf_err rc = GF_ENOMEM;

	*out = NULL;
	if (!c->tariff_grid_point || !*c->tariff_grid_point)
		return GF_OK;
	if (!(b = calloc(1, sizeof(*b))))
		goto out;
	b->fo = fo;
	/* The grid point on the offer, for FMAN's capacity price (docs/fman.md). */
	if (!fo->locationid) {
		goflex__location__init(&b->loc);
		b->loc.gridpointid = c->tariff_grid_point;
		fo->locationid = &b->loc;
		b->located = true;
	}
	for (size_t k = 0; k < n; k++)
		if (fo->flexofferprofileconstraints[k]->minduration != 1 ||
		    fo->flexofferprofileconstraints[k]->maxduration != 1)
			unit = false; /* not unit slices: tariffs left as they are (docs/foa.md) */
	tf = (size_t)(fo->startbeforeinterval - fo->startafterinterval);
	if (!foa_tariff_on(f) || !unit || n == 0 ||
	    fo->startbeforeinterval < fo->startafterinterval || fo->startafterinterval < 0 ||
	    tf > 100000 || n > 100000) {
		rc = GF_OK;
		goto done;
	}
	w = n + tf; /* the intervals any slice may fall in */
	if (!(tr = malloc(w * sizeof(double))) || !(b->tc = calloc(n, sizeof(*b->tc))) ||
	    !(b->ptr = calloc(n, sizeof(*b->ptr))))
		goto out;
	if ((rc = lookup(f, "transfer", fo->startafterinterval, w, tr)) != GF_OK)
		goto out;
	if (!price_slices(f, fo, tr, tf, b)) { /* nothing known of its window: as it was */
		free(b->ptr);
		b->ptr = NULL;
	}
done:
	if (b->located || b->ptr) {
		*out = b;
		b = NULL;
	}
out:
	foa_tariff_box_free(b);
	free(tr);
	return rc;
}
