/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/engine/congestion.h: the DOMS's bids, on hand-computed examples
 * and on the IEEE feeder's day (../shared/data/ieee-eu-lv/, tests run from
 * the repository root).
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/congestion.h"
#include "leak_check.h"
#include "engine/loadprofile.h"

#define PROFILES "../shared/data/ieee-eu-lv/load-profiles"

TestSuite(congestion, .fini = leak_check);

static char err[256];

/*
 * Worked example: intervals 1000..1007, limit 4 kWh, margin 0.5 kWh,
 * 0.2 EUR/kWh.
 *
 *   interval  1000 1001 1002 1003 1004 1005 1006 1007
 *   forecast     1    5    6    4    7    7  7.5    1
 *   > 4?         -    x    x    -    x    x    x    -   (4 itself is not)
 *
 * Runs 1001..1002 and 1004..1006: scheduleChange = f - 4 + 0.5:
 *   "tr1-1001-2": 1.5 2.5        "tr1-1004-3": 3.5 3.5 4.0
 */
static const double example[8] = {1, 5, 6, 4, 7, 7, 7.5, 1};

static struct gf_congestion_params params(void)
{
	return (struct gf_congestion_params){"tr1", 4, 0.5, 0.2, NULL, 0};
}

static void assert_bid(const struct gf_congestion_bid *b, const char *id, int64_t start, size_t n,
                       const double *change, const double *price)
{
	cr_assert_str_eq(b->bid_id, id);
	cr_assert_eq(b->start, start, "%s: start %lld", id, (long long)b->start);
	cr_assert_eq(b->n, n, "%s: n %zu", id, b->n);
	for (size_t k = 0; k < n; k++) {
		cr_assert_float_eq(b->schedule_change[k], change[k], 1e-12, "%s[%zu]", id, k);
		cr_assert_float_eq(b->energy_price[k], price[k], 1e-12, "%s[%zu]", id, k);
	}
}

Test(congestion, worked_example)
{
	struct gf_congestion_params p = params();
	struct gf_congestion_bids b;

	cr_assert_eq(gf_congestion_bids(&p, 1000, example, 8, &b, err, sizeof(err)), GF_OK, "%s",
	             err);
	cr_assert_eq(b.count, 2);
	assert_bid(&b.bid[0], "tr1-1001-2", 1001, 2, (double[]){1.5, 2.5}, (double[]){0.2, 0.2});
	assert_bid(&b.bid[1], "tr1-1004-3", 1004, 3, (double[]){3.5, 3.5, 4.0},
	           (double[]){0.2, 0.2, 0.2});
	gf_congestion_bids_free(&b);
	cr_assert_eq(b.count, 0);
	cr_assert_null(b.bid);
	gf_congestion_bids_free(&b);
	gf_congestion_bids_free(NULL);
}

Test(congestion, max_len_cuts_runs)
{
	struct gf_congestion_params p = params();
	struct gf_congestion_bids b;

	/* Runs of 2 and 3 in pieces of at most 2: 1001-2, 1004-2, 1006-1. */
	p.max_len = 2;
	cr_assert_eq(gf_congestion_bids(&p, 1000, example, 8, &b, err, sizeof(err)), GF_OK);
	cr_assert_eq(b.count, 3);
	assert_bid(&b.bid[0], "tr1-1001-2", 1001, 2, (double[]){1.5, 2.5}, (double[]){0.2, 0.2});
	assert_bid(&b.bid[1], "tr1-1004-2", 1004, 2, (double[]){3.5, 3.5}, (double[]){0.2, 0.2});
	assert_bid(&b.bid[2], "tr1-1006-1", 1006, 1, (double[]){4.0}, (double[]){0.2});
	gf_congestion_bids_free(&b);

	/* max_len 1: one bid per congested interval, no merging. */
	p.max_len = 1;
	cr_assert_eq(gf_congestion_bids(&p, 1000, example, 8, &b, err, sizeof(err)), GF_OK);
	cr_assert_eq(b.count, 5);
	assert_bid(&b.bid[1], "tr1-1002-1", 1002, 1, (double[]){2.5}, (double[]){0.2});
	assert_bid(&b.bid[4], "tr1-1006-1", 1006, 1, (double[]){4.0}, (double[]){0.2});
	gf_congestion_bids_free(&b);
}

Test(congestion, price_per_interval_and_runs_at_both_ends)
{
	const double f[4] = {5, 1, 1, 9};
	const double price[4] = {0.1, 0.2, 0.3, 0.4};
	struct gf_congestion_params p = params();
	struct gf_congestion_bids b;

	/* Congestion in the first and the last interval; no margin; the
	 * constant price is ignored when the series is given. */
	p.margin_kwh = 0;
	p.prices = price;
	p.price = -1;
	cr_assert_eq(gf_congestion_bids(&p, 7, f, 4, &b, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(b.count, 2);
	assert_bid(&b.bid[0], "tr1-7-1", 7, 1, (double[]){1}, (double[]){0.1});
	assert_bid(&b.bid[1], "tr1-10-1", 10, 1, (double[]){5}, (double[]){0.4});
	gf_congestion_bids_free(&b);
}

Test(congestion, no_congestion_no_bid)
{
	const double f[3] = {4, 4, -20};
	struct gf_congestion_params p = params();
	struct gf_congestion_bids b = {99, NULL, NULL};

	cr_assert_eq(gf_congestion_bids(&p, 0, f, 3, &b, err, sizeof(err)), GF_OK);
	cr_assert_eq(b.count, 0);
	cr_assert_null(b.bid);
	gf_congestion_bids_free(&b);
	b.count = 99;
	cr_assert_eq(gf_congestion_bids(&p, 0, NULL, 0, &b, err, sizeof(err)), GF_OK);
	cr_assert_eq(b.count, 0);
	gf_congestion_bids_free(&b);
}

Test(congestion, ids_are_deterministic)
{
	struct gf_congestion_params p = params();
	struct gf_congestion_bids a, b;

	cr_assert_eq(gf_congestion_bids(&p, 1000, example, 8, &a, err, sizeof(err)), GF_OK);
	cr_assert_eq(gf_congestion_bids(&p, 1000, example, 8, &b, err, sizeof(err)), GF_OK);
	cr_assert_eq(a.count, b.count);
	for (size_t i = 0; i < a.count; i++)
		cr_assert_str_eq(a.bid[i].bid_id, b.bid[i].bid_id);
	gf_congestion_bids_free(&a);
	gf_congestion_bids_free(&b);

	/* Negative interval numbers (before 1970) stay unambiguous. */
	cr_assert_eq(gf_congestion_bids(&p, -1003, example, 8, &a, err, sizeof(err)), GF_OK);
	cr_assert_str_eq(a.bid[0].bid_id, "tr1--1002-2");
	gf_congestion_bids_free(&a);
}

Test(congestion, kw_to_kwh)
{
	cr_assert_float_eq(gf_congestion_kwh(36), 9, 1e-12);
	cr_assert_float_eq(gf_congestion_kwh(-4), -1, 1e-12);
}

struct bad_params {
	const char *grid;
	double limit, margin, price;
	int64_t start;
	double f1; /* forecast of the second interval */
	enum gf_err rc;
	const char *error;
};

static const struct bad_params bad[] = {
    {"", 4, 0, 0.2, 0, 5, GF_EINVAL, "gridPointId must be 1 to 64 bytes of [A-Za-z0-9._-]"},
    {"a/b", 4, 0, 0.2, 0, 5, GF_EINVAL, "gridPointId must be 1 to 64 bytes of [A-Za-z0-9._-]"},
    {"tr 1", 4, 0, 0.2, 0, 5, GF_EINVAL, "gridPointId must be 1 to 64 bytes of [A-Za-z0-9._-]"},
    {"12345678901234567890123456789012345678901234567890123456789012345", 4, 0, 0.2, 0, 5,
     GF_EINVAL, "gridPointId must be 1 to 64 bytes of [A-Za-z0-9._-]"},
    {"tr1", NAN, 0, 0.2, 0, 5, GF_EINVAL, "limit must be a finite number of kWh"},
    {"tr1", INFINITY, 0, 0.2, 0, 5, GF_EINVAL, "limit must be a finite number of kWh"},
    {"tr1", 4, -0.1, 0.2, 0, 5, GF_EINVAL, "margin must be finite and >= 0 kWh"},
    {"tr1", 4, NAN, 0.2, 0, 5, GF_EINVAL, "margin must be finite and >= 0 kWh"},
    {"tr1", 4, 0, -0.2, 0, 5, GF_EINVAL, "price must be finite and >= 0 EUR/kWh"},
    {"tr1", 4, 0, NAN, 0, 5, GF_EINVAL, "price must be finite and >= 0 EUR/kWh"},
    {"tr1", 4, 0, 0.2, 0, NAN, GF_EINVAL, "forecast of interval 1 is not finite"},
    {"tr1", 4, 0, 0.2, 0, -INFINITY, GF_EINVAL, "forecast of interval 1 is not finite"},
    {"tr1", 4, 0, 0.2, 281558112, 5, GF_ERANGE, "intervals 281558112 + 3 outside years 0000-9999"},
    {"tr1", 4, 0, 0.2, 281558110, 5, GF_ERANGE, "intervals 281558110 + 3 outside years 0000-9999"},
    {"tr1", 4, 0, 0.2, -69074689, 5, GF_ERANGE, "intervals -69074689 + 3 outside years 0000-9999"},
};

Test(congestion, bad_parameters)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_params *c = &bad[i];
		const double f[3] = {5, c->f1, 1};
		struct gf_congestion_params p = {c->grid, c->limit, c->margin, c->price, NULL, 0};
		struct gf_congestion_bids b = {77, NULL, NULL};

		err[0] = '\0';
		cr_assert_eq(gf_congestion_bids(&p, c->start, f, 3, &b, err, sizeof(err)), c->rc,
		             "case %zu: %s", i, err);
		cr_assert_str_eq(err, c->error, "case %zu", i);
		cr_assert(b.count == 77 && !b.bid && !b.values, "case %zu: output touched", i);
	}
}

Test(congestion, bad_price_series)
{
	const double f[3] = {5, 5, 5};
	const double price[3] = {0.1, INFINITY, 0.1};
	struct gf_congestion_params p = params();
	struct gf_congestion_bids b = {77, NULL, NULL};

	p.prices = price;
	cr_assert_eq(gf_congestion_bids(&p, 50, f, 3, &b, err, sizeof(err)), GF_EINVAL);
	cr_assert_str_eq(err, "price of interval 51 must be finite and >= 0 EUR/kWh");
	cr_assert_eq(b.count, 77);
}

Test(congestion, the_last_writable_intervals)
{
	/* 9999-12-31T23:45:00Z is interval 281558111, the last one: a forecast
	 * may end there but not beyond (bad_parameters has the refusals). */
	const double f[1] = {5};
	struct gf_congestion_params p = params();
	struct gf_congestion_bids b;

	cr_assert_eq(gf_congestion_bids(&p, 281558111, f, 1, &b, err, sizeof(err)), GF_OK, "%s",
	             err);
	gf_congestion_bids_free(&b);
	cr_assert_eq(gf_congestion_bids(&p, 281558110, f, 1, &b, err, sizeof(err)), GF_OK, "%s",
	             err);
	cr_assert_eq(b.count, 1);
	gf_congestion_bids_free(&b);
}

/*
 * The IEEE feeder's day against a 36 kW transformer limit (9 kWh per
 * interval): only intervals 72..75 (18:00-19:00) exceed it, with 9.880900,
 * 10.086350, 9.849783 and 9.093467 kWh (awk over the CSV files), so one bid
 * of four intervals asks for 0.880900, 1.086350, 0.849783, 0.093467 kWh less. The day starts at
 * interval 1995168, 2026-11-26T00:00:00Z.
 */
Test(congestion, ieee_feeder_evening_peak)
{
	double *kw = malloc(GF_LOADPROFILE_FEEDER * GF_LOADPROFILE_MINUTES * sizeof(double));
	double feeder[GF_LOADPROFILE_MINUTES], kwh[GF_LOADPROFILE_INTERVALS];
	struct gf_congestion_params p = {"TR1", gf_congestion_kwh(36), 0, 0.25, NULL, 0};
	struct gf_congestion_bids b;

	cr_assert_not_null(kw);
	cr_assert_eq(gf_loadprofile_load_dir(PROFILES, GF_LOADPROFILE_FEEDER, kw, err, sizeof(err)),
	             GF_OK, "%s", err);
	gf_loadprofile_sum(kw, GF_LOADPROFILE_FEEDER, GF_LOADPROFILE_MINUTES, feeder);
	gf_loadprofile_to_intervals(feeder, kwh);
	free(kw);

	cr_assert_eq(
	    gf_congestion_bids(&p, 1995168, kwh, GF_LOADPROFILE_INTERVALS, &b, err, sizeof(err)),
	    GF_OK, "%s", err);
	cr_assert_eq(b.count, 1);
	assert_bid(&b.bid[0], "TR1-1995240-4", 1995240, 4,
	           (double[]){kwh[72] - 9, kwh[73] - 9, kwh[74] - 9, kwh[75] - 9},
	           (double[]){0.25, 0.25, 0.25, 0.25});
	cr_assert_float_eq(b.bid[0].schedule_change[0], 0.880900, 1e-6);
	cr_assert_float_eq(b.bid[0].schedule_change[1], 1.086350, 1e-6);
	cr_assert_float_eq(b.bid[0].schedule_change[2], 0.849783, 1e-6);
	cr_assert_float_eq(b.bid[0].schedule_change[3], 0.093467, 1e-6);
	gf_congestion_bids_free(&b);
}
