/* SPDX-License-Identifier: MIT */
/*
 * congestion.h - the DOMS's bids (D6.1 3.6, Table 1; issue 5 item 5): where a
 * grid point's load forecast exceeds its limit, ask for that much less
 * consumption. docs/doms.md states every formula.
 *
 * Input: a forecast f[t], kWh in interval start + t (t = 0..n-1; interval
 * number = floor(epoch_seconds / 900), consumption positive), and a limit L
 * in kWh per interval (a limit of P kW is P * 0.25 kWh: gf_congestion_kwh).
 * Interval t is congested when f[t] > L. Each maximal run of consecutive
 * congested intervals gives one bid (runs longer than max_len are cut into
 * bids of max_len intervals, the last one shorter), with
 *
 *   scheduleChange[k] = f[t] - L + margin   (kWh, > 0 = decrease of
 *                                            consumption, the D6.1 3.6 sign)
 *   energyPrice[k]    = price[t] or the constant price (EUR/kWh)
 *
 * for its intervals t = first + k, startTime = interval first, intervalLength
 * 900 s and bidId "<gridPointId>-<first>-<length>": the same forecast gives
 * the same ids, so a restarted DOMS re-issues bids that downstream recognises.
 * No congestion gives no bid. Pure computation: no I/O, no global state.
 */
#ifndef GF_CONGESTION_H
#define GF_CONGESTION_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GF_CONGESTION_GRID_ID_MAX 64                               /* bytes of a gridPointId */
#define GF_CONGESTION_BID_ID_MAX  (GF_CONGESTION_GRID_ID_MAX + 48) /* bidId with its NUL */

struct gf_congestion_params {
	const char *grid_point_id; /* 1..64 bytes of [A-Za-z0-9._-] */
	double limit_kwh;          /* L, kWh per interval, finite */
	double margin_kwh;         /* added to each interval's excess, finite, >= 0 */
	double price;              /* EUR/kWh for every interval when prices is NULL */
	const double *prices;      /* EUR/kWh per forecast interval (n of them), or NULL */
	size_t max_len;            /* most intervals per bid; 0 = no limit, 1 = one per interval */
};

struct gf_congestion_bid {
	char bid_id[GF_CONGESTION_BID_ID_MAX];
	int64_t start;           /* interval number of the first interval */
	size_t n;                /* intervals, >= 1 */
	double *schedule_change; /* n values, kWh, > 0 = decrease of consumption */
	double *energy_price;    /* n values, EUR/kWh */
};

struct gf_congestion_bids {
	size_t count;
	struct gf_congestion_bid *bid; /* count bids in time order; NULL when count is 0 */
	double *values;                /* storage behind the bids' series */
};

/* kW held over one 900 s interval as kWh: kw * 0.25. */
double gf_congestion_kwh(double kw);

/*
 * Computes the bids for the forecast kwh[0..n-1] starting at interval start
 * into *out (count 0 when nothing is congested); the caller releases them
 * with gf_congestion_bids_free. GF_EINVAL (err saying which) for a bad
 * parameter, a non-finite forecast value or price, a negative price; GF_ERANGE
 * if start + n leaves the years 0000-9999; GF_ENOMEM. *out is untouched on
 * failure.
 */
enum gf_err gf_congestion_bids(const struct gf_congestion_params *p, int64_t start,
                               const double *kwh, size_t n, struct gf_congestion_bids *out,
                               char *err, size_t errlen);

/* Frees what gf_congestion_bids allocated and zeroes *b. Accepts NULL. */
void gf_congestion_bids_free(struct gf_congestion_bids *b);

#endif
