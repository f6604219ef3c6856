/* SPDX-License-Identifier: MIT */
/* congestion.c - bids for the intervals where a forecast exceeds its limit. */
#include "engine/congestion.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"

double gf_congestion_kwh(double kw)
{
	return kw * GF_TIME_INTERVAL_S / 3600.0;
}

static bool grid_id_ok(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++) {
		char c = id[n];

		if (n == GF_CONGESTION_GRID_ID_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return n > 0;
}

/* Checks everything before anything is allocated. */
static enum gf_err check(const struct gf_congestion_params *p, int64_t start, const double *kwh,
                         size_t n, char *err, size_t errlen)
{
	const int64_t lo = GF_TIME_MIN_MS / (GF_TIME_INTERVAL_S * 1000LL);
	const int64_t hi = GF_TIME_MAX_MS / (GF_TIME_INTERVAL_S * 1000LL);

	if (!grid_id_ok(p->grid_point_id)) {
		snprintf(err, errlen, "gridPointId must be 1 to %d bytes of [A-Za-z0-9._-]",
		         GF_CONGESTION_GRID_ID_MAX);
		return GF_EINVAL;
	}
	if (!isfinite(p->limit_kwh)) {
		snprintf(err, errlen, "limit must be a finite number of kWh");
		return GF_EINVAL;
	}
	if (!(p->margin_kwh >= 0) || !isfinite(p->margin_kwh)) {
		snprintf(err, errlen, "margin must be finite and >= 0 kWh");
		return GF_EINVAL;
	}
	if (!p->prices && !(p->price >= 0 && isfinite(p->price))) {
		snprintf(err, errlen, "price must be finite and >= 0 EUR/kWh");
		return GF_EINVAL;
	}
	if (n > 0 && !kwh) {
		snprintf(err, errlen, "no forecast values");
		return GF_EINVAL;
	}
	if (start < lo || start > hi || (n > 0 && n - 1 > (uint64_t)(hi - start))) {
		snprintf(err, errlen, "intervals %" PRId64 " + %zu outside years 0000-9999", start,
		         n);
		return GF_ERANGE;
	}
	for (size_t t = 0; t < n; t++) {
		if (!isfinite(kwh[t])) {
			snprintf(err, errlen, "forecast of interval %" PRId64 " is not finite",
			         start + (int64_t)t);
			return GF_EINVAL;
		}
		if (p->prices && !(p->prices[t] >= 0 && isfinite(p->prices[t]))) {
			snprintf(err, errlen,
			         "price of interval %" PRId64 " must be finite and >= 0 EUR/kWh",
			         start + (int64_t)t);
			return GF_EINVAL;
		}
	}
	return GF_OK;
}

/*
 * Walks the bids: calls emit(first, len) for each, in time order, and returns
 * how many there are. One walk counts, the next fills, so the two can never
 * disagree.
 */
static size_t walk(const struct gf_congestion_params *p, const double *kwh, size_t n,
                   void (*emit)(void *, size_t, size_t), void *ctx)
{
	size_t count = 0, t = 0;

	while (t < n) {
		size_t end = t;

		if (!(kwh[t] > p->limit_kwh)) {
			t++;
			continue;
		}
		while (end < n && kwh[end] > p->limit_kwh)
			end++;
		/* The run [t, end), cut into pieces of at most max_len. */
		while (t < end) {
			size_t len = end - t;

			if (p->max_len && len > p->max_len)
				len = p->max_len;
			if (emit)
				emit(ctx, t, len);
			count++;
			t += len;
		}
	}
	return count;
}

struct fill {
	const struct gf_congestion_params *p;
	int64_t start;
	const double *kwh;
	struct gf_congestion_bid *bid; /* next to fill */
	double *values;                /* next free values */
};

static void fill_one(void *ctx, size_t first, size_t len)
{
	struct fill *f = ctx;
	struct gf_congestion_bid *b = f->bid++;

	b->start = f->start + (int64_t)first;
	b->n = len;
	b->schedule_change = f->values;
	b->energy_price = f->values + len;
	f->values += 2 * len;
	for (size_t k = 0; k < len; k++) {
		size_t t = first + k;

		b->schedule_change[k] = f->kwh[t] - f->p->limit_kwh + f->p->margin_kwh;
		b->energy_price[k] = f->p->prices ? f->p->prices[t] : f->p->price;
	}
	/* Fits: the id is at most 64 bytes, an int64 and a size_t with two dashes. */
	snprintf(b->bid_id, sizeof(b->bid_id), "%s-%" PRId64 "-%zu", f->p->grid_point_id, b->start,
	         len);
}

enum gf_err gf_congestion_bids(const struct gf_congestion_params *p, int64_t start,
                               const double *kwh, size_t n, struct gf_congestion_bids *out,
                               char *err, size_t errlen)
{
	struct gf_congestion_bid *bid = NULL;
	double *values = NULL;
	struct fill f;
	size_t count, total = 0;
	enum gf_err rc;

	rc = check(p, start, kwh, n, err, errlen);
	if (rc != GF_OK)
		return rc;
	count = walk(p, kwh, n, NULL, NULL);
	if (count > 0) {
		/* The bids cover at most the n intervals, two values each. */
		for (size_t t = 0; t < n; t++)
			total += kwh[t] > p->limit_kwh;
		bid = calloc(count, sizeof(*bid));
		values = calloc(2 * total, sizeof(*values));
		if (!bid || !values) {
			rc = GF_ENOMEM;
			goto out;
		}
		f = (struct fill){p, start, kwh, bid, values};
		walk(p, kwh, n, fill_one, &f);
	}
	out->count = count;
	out->bid = bid;
	out->values = values;
	bid = NULL;
	values = NULL;
out:
	free(values);
	free(bid);
	return rc;
}

void gf_congestion_bids_free(struct gf_congestion_bids *b)
{
	if (!b)
		return;
	free(b->bid);
	free(b->values);
	memset(b, 0, sizeof(*b));
}
