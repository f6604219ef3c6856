/* SPDX-License-Identifier: MIT */
/*
 * refprice.c - gf-fmar keeps gf-sp's price.reference (docs/fmar.md,
 * "Reference prices"): each period of each series in table fmar_refprice,
 * keyed (area, resolution, period start), a later or equal issuedTime
 * overwriting, once per message (key "ref:<sp id>:<FNV-1a of the payload>");
 * and gives the reference price of bid intervals (the price of a bid slice
 * that has none of its own, clearing.c). Calls only util.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmar.h"
#include "agent/once.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "payload/codec.h"
#include "price.pb-c.h"

const char fmar_refprice_schema[] =
    "CREATE TABLE IF NOT EXISTS fmar_refprice (area TEXT NOT NULL, resolution INTEGER NOT NULL,"
    " start_s INTEGER NOT NULL, price REAL NOT NULL, issued_ms INTEGER NOT NULL,"
    " PRIMARY KEY (area, resolution, start_s));"
    "CREATE INDEX IF NOT EXISTS fmar_refprice_start ON fmar_refprice (start_s);";

struct ref_take {
	struct fmar *f;
	const Goflex__PriceSeries *p;
	int64_t start_ms, issued_ms;
	size_t stored;
};

static enum gf_err store_series(void *arg)
{
	struct ref_take *t = arg;
	const Goflex__PriceSeries *p = t->p;
	int64_t start_s = t->start_ms / 1000;

	for (size_t k = 0; k < p->n_prices; k++) {
		sqlite3_stmt *st = gf_store_prepare(
		    t->f->store,
		    "INSERT INTO fmar_refprice (area, resolution, start_s, price, issued_ms)"
		    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (area, resolution, start_s) DO UPDATE"
		    " SET price = excluded.price, issued_ms = excluded.issued_ms"
		    " WHERE excluded.issued_ms >= fmar_refprice.issued_ms");
		int rc;

		if (!st)
			return GF_EIO;
		sqlite3_bind_text(st, 1, p->area, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)p->resolution);
		sqlite3_bind_int64(st, 3, start_s + (int64_t)k * p->resolution);
		sqlite3_bind_double(st, 4, p->prices[k]);
		sqlite3_bind_int64(st, 5, t->issued_ms);
		rc = sqlite3_step(st);
		t->stored += (size_t)sqlite3_changes(gf_store_db(t->f->store));
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return GF_EIO;
	}
	return GF_OK;
}

/* The checks gf-sp makes of what it publishes (docs/sp.md), again: a
 * series that breaks them is not stored. NULL when it passes. */
static const char *check(const Goflex__PriceSeries *p, int64_t *start_ms, int64_t *issued_ms)
{
	*issued_ms = 0;
	if (!p->area || !*p->area || strlen(p->area) > 64)
		return "area: 1 to 64 characters";
	if (p->currency && strcmp(p->currency, "EUR") != 0)
		return "currency: only EUR";
	if (p->resolution < 60 || p->resolution > 86400 || 86400 % p->resolution != 0)
		return "resolution: 60 to 86400 s dividing the day";
	if (!p->starttime || gf_time_parse(p->starttime, strlen(p->starttime), start_ms) != GF_OK ||
	    *start_ms % 60000 != 0)
		return "startTime: an RFC 3339 time on a whole minute";
	if (p->issuedtime &&
	    gf_time_parse(p->issuedtime, strlen(p->issuedtime), issued_ms) != GF_OK)
		return "issuedTime: not an RFC 3339 time";
	if (p->n_prices == 0 || p->n_prices > 35136)
		return "prices: 1 to 35136";
	for (size_t k = 0; k < p->n_prices; k++)
		if (!isfinite(p->prices[k]) || fabs(p->prices[k]) > 1000)
			return "prices: each finite within +-1000 EUR/kWh";
	return NULL;
}

void fmar_refprice_message(struct fmar *f, const struct gf_message *m)
{
	const Goflex__PriceSeries *p = (const Goflex__PriceSeries *)m->body;
	struct ref_take t = {.f = f, .p = p};
	char key[64 + GF_ID_MAX], *json = NULL;
	const char *why;
	size_t len = 0;

	if ((why = check(p, &t.start_ms, &t.issued_ms))) {
		gf_log_warning("GF-FMAR-REFPRICE", "price.reference from sp.%s refused: %s",
		               m->from_id, why);
		return;
	}
	if (gf_codec_to_json(m->body, &json, &len) != GF_OK) {
		gf_log_err("GF-FMAR-STORE", "cannot encode a price.reference of sp.%s", m->from_id);
		return;
	}
	snprintf(key, sizeof(key), "ref:%s:%016" PRIx64, m->from_id,
	         gf_fnv1a64(GF_FNV1A64_BASIS, json, len));
	free(json);
	if (gf_store_once(f->a, f->store, key, store_series, NULL, &t) != GF_OK)
		return;
	gf_log_info("GF-FMAR-REFPRICE",
	            "price.reference from sp.%s: area %s, %zu periods of %" PRIu32
	            " s from %s, %zu stored",
	            m->from_id, p->area, p->n_prices, p->resolution, p->starttime, t.stored);
}

enum gf_err fmar_refprice_lookup(struct fmar *f, int32_t start, size_t n, double *ref)
{
	const struct fmar_conf *c = gf_agent_conf(f->a);
	const char *area = c->reference_area && *c->reference_area ? c->reference_area : NULL;
	/* The period that holds the interval's start; of several (areas,
	 * resolutions), the finest, then the newest issue, then the area's name. */
	sqlite3_stmt *st =
	    gf_store_prepare(f->store, "SELECT price FROM fmar_refprice WHERE start_s <= ?1 AND"
	                               " start_s + resolution > ?1 AND (?2 IS NULL OR area = ?2)"
	                               " ORDER BY resolution, issued_ms DESC, area LIMIT 1");

	if (!st)
		return GF_EIO;
	for (size_t k = 0; k < n; k++) {
		int64_t s = ((int64_t)start + (int64_t)k) * GF_TIME_INTERVAL_S;
		int rc;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, s);
		if (area)
			sqlite3_bind_text(st, 2, area, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			ref[k] = sqlite3_column_double(st, 0);
		else if (rc == SQLITE_DONE)
			ref[k] = NAN;
		else {
			sqlite3_finalize(st);
			gf_log_err("GF-FMAR-STORE", "cannot read the reference prices");
			return GF_EIO;
		}
	}
	sqlite3_finalize(st);
	return GF_OK;
}
