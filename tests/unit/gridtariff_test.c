/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/engine/gridtariff.h: the grid file (bands, capacity,
 * locations, offset), the transfer cost of an instant (first band wins,
 * the grid point's before "*", local time, weekdays, the week's wrap), the
 * capacity price's formula on hand-computed values, and every refusal with
 * its line.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gridtariff.h"
#include "leak_check.h"

TestSuite(gridtariff, .fini = leak_check);

static char err[256];

/* 2020-02-27T00:00:00Z, a Thursday. */
#define THU 1582761600000LL
#define H   3600000LL

static const char file[] = "# test\n"
                           "offset +02:00\n"
                           "band t1 mon-fri 07:00-22:00 0.085\n"
                           "band t1 sat,sun 10:00-14:00 -0.01\n"
                           "band t1 * 00:00-24:00 0.045\n"
                           "\n"
                           "  band * fri-mon 00:00-24:00 0.03   \r\n"
                           "capacity t1 12 0.2 0.5\n"
                           "capacity t2 40 0.1 0.1 90 0.5\n"
                           "location t1 35.0 -33.25\n";

static struct gf_gridtariff parse_ok(const char *text)
{
	struct gf_gridtariff t;

	cr_assert_eq(gf_gridtariff_parse("g.conf", text, strlen(text), &t, err, sizeof(err)), GF_OK,
	             "%s", err);
	return t;
}

static double cost(const struct gf_gridtariff *t, const char *grid, long long ms)
{
	double c = NAN;

	cr_assert(gf_gridtariff_cost(t, grid, ms, &c), "%s at %lld: no band", grid, ms);
	return c;
}

Test(gridtariff, parses_every_kind_of_line)
{
	struct gf_gridtariff t = parse_ok(file);

	cr_assert_eq(t.offset_min, 120);
	cr_assert_eq(t.nbands, 4);
	cr_assert_eq(t.ncaps, 2);
	cr_assert_eq(t.nlocs, 1);
	cr_assert_eq(t.bands[0].days, 0x3e); /* mon..fri */
	cr_assert_eq(t.bands[1].days, 0x41); /* sun, sat */
	cr_assert_eq(t.bands[3].days, 0x63); /* sun, mon, fri, sat */
	cr_assert_eq(t.bands[0].from_min, 420);
	cr_assert_eq(t.bands[2].to_min, 1440);
	const struct gf_gridtariff_cap *c = gf_gridtariff_capacity(&t, "t1");
	cr_assert(c && c->limit_kw == 12 && c->price == 0.2 && c->price_max == 0.5 &&
	          c->knee_pct == 100 && c->margin_kwh == 0);
	c = gf_gridtariff_capacity(&t, "t2");
	cr_assert(c && c->knee_pct == 90 && c->margin_kwh == 0.5);
	cr_assert_null(gf_gridtariff_capacity(&t, "t3"));
	const struct gf_gridtariff_loc *l = gf_gridtariff_location(&t, "t1");
	cr_assert(l && l->lat == 35.0 && l->lon == -33.25);
	cr_assert(gf_gridtariff_has_bands(&t, "t1"));
	cr_assert(!gf_gridtariff_has_bands(&t, "t2"));
	gf_gridtariff_free(&t);
	gf_gridtariff_free(NULL);
}

Test(gridtariff, cost_in_local_time_first_band_wins)
{
	struct gf_gridtariff t = parse_ok(file);

	/* Thursday: 05:00 UTC is 07:00 local, the peak's first minute. */
	cr_assert_eq(cost(&t, "t1", THU + 5 * H - 1), 0.045);
	cr_assert_eq(cost(&t, "t1", THU + 5 * H), 0.085);
	cr_assert_eq(cost(&t, "t1", THU + 20 * H - 1), 0.085);
	cr_assert_eq(cost(&t, "t1", THU + 20 * H), 0.045);
	/* Friday 23:00 UTC is Saturday 01:00 local: not mon-fri. */
	cr_assert_eq(cost(&t, "t1", THU + 24 * H + 21 * H), 0.045);
	cr_assert_eq(cost(&t, "t1", THU + 24 * H + 19 * H), 0.085);
	/* Saturday 10:00-14:00 local (08:00-12:00 UTC): the negative band. */
	cr_assert_eq(cost(&t, "t1", THU + 48 * H + 8 * H), -0.01);
	cr_assert_eq(cost(&t, "t1", THU + 48 * H + 12 * H), 0.045);
	/* t2 has no band: "*" holds fri-mon only (local days). */
	cr_assert_eq(cost(&t, "t2", THU + 24 * H), 0.03);
	cr_assert_eq(cost(&t, "t2", THU + 4 * 24 * H), 0.03); /* Monday */
	double c = 7;
	cr_assert(!gf_gridtariff_cost(&t, "t2", THU + 12 * H, &c));     /* Thursday */
	cr_assert(!gf_gridtariff_cost(&t, "t2", THU + 5 * 24 * H, &c)); /* Tuesday */
	cr_assert_eq(c, 7);
	/* Before 1970 too (a Wednesday, 1969-12-31 12:00 local). */
	cr_assert(!gf_gridtariff_cost(&t, "t2", -12 * H - 2 * H, &c));
	gf_gridtariff_free(&t);
}

Test(gridtariff, negative_offset_and_no_offset)
{
	struct gf_gridtariff t = parse_ok("offset -05:30\nband g mon 00:00-00:15 1\n");

	/* Monday 00:00 local = Monday 05:30 UTC (2020-03-02). */
	double c;
	cr_assert(gf_gridtariff_cost(&t, "g", THU + 4 * 24 * H + 5 * H + 30 * 60000, &c));
	cr_assert(!gf_gridtariff_cost(&t, "g", THU + 4 * 24 * H + 5 * H + 45 * 60000, &c));
	gf_gridtariff_free(&t);
	t = parse_ok("band g * 00:00-24:00 0\n");
	cr_assert_eq(t.offset_min, 0);
	gf_gridtariff_free(&t);
}

Test(gridtariff, capacity_price_formula)
{
	/* L = 12 * 0.25 = 3 kWh; price 0.2 .. 0.5. */
	struct gf_gridtariff_cap c = {"t1", 12, 0.2, 0.5, 100, 0};

	cr_assert_eq(gf_gridtariff_capacity_price(&c, 2.9), 0);
	cr_assert_eq(gf_gridtariff_capacity_price(&c, 3.0), 0); /* at the limit: none */
	/* 0.6 over: 0.2 + 0.3 * 0.6 / 3 = 0.26 */
	cr_assert_float_eq(gf_gridtariff_capacity_price(&c, 3.6), 0.26, 1e-12);
	cr_assert_float_eq(gf_gridtariff_capacity_price(&c, 6.0), 0.5, 1e-12);
	cr_assert_float_eq(gf_gridtariff_capacity_price(&c, 60.0), 0.5, 1e-12); /* capped */
	/* knee 90 %: from 2.7 kWh; margin 0.1: from 2.6. */
	c.knee_pct = 90;
	c.margin_kwh = 0.1;
	cr_assert_eq(gf_gridtariff_capacity_price(&c, 2.6), 0);
	cr_assert_float_eq(gf_gridtariff_capacity_price(&c, 2.9), 0.2 + 0.3 * 0.3 / 3, 1e-12);
	cr_assert_eq(gf_gridtariff_capacity_price(&c, NAN), 0);
	/* Production (negative forecast): no scarcity. */
	cr_assert_eq(gf_gridtariff_capacity_price(&c, -10), 0);
}

static void refused(const char *text, const char *want)
{
	struct gf_gridtariff t = {.offset_min = 99};

	cr_assert_eq(gf_gridtariff_parse("g.conf", text, strlen(text), &t, err, sizeof(err)),
	             GF_EPARSE, "accepted: %s", text);
	cr_assert(strstr(err, want), "'%s': got '%s', want '%s'", text, err, want);
	cr_assert_eq(t.offset_min, 99); /* untouched */
}

Test(gridtariff, refusals_name_the_line)
{
	refused("band t1 * 07:10-22:00 0.1\n", "g.conf:1: band: expected HH:MM-HH:MM on quarter");
	refused("\n\nband t1 * 22:00-07:00 0.1\n", "g.conf:3: band: expected HH:MM");
	refused("band t1 * 00:00-24:15 0.1\n", "g.conf:1: band: expected HH:MM");
	refused("band t1 * 0:00-24:00 0.1\n", "band: expected HH:MM");
	refused("band t1 * 00:00-24:00 nan\n", "band: cost");
	refused("band t1 * 00:00-24:00 inf\n", "band: cost");
	refused("band t1 * 00:00-24:00 0x1\n", "band: cost");
	refused("band t1 * 00:00-24:00 1e9\n", "band: cost");
	refused("band t1 * 00:00-24:00\n", "band: expected band");
	refused("band t/1 * 00:00-24:00 1\n", "band: grid point id");
	refused("band t1 mon-xyz 00:00-24:00 1\n", "band: days");
	refused("band t1 mon, 00:00-24:00 1\n", "band: days");
	refused("band t1 , 00:00-24:00 1\n", "band: days");
	refused("capacity t1 0 0.2\n", "capacity: limit_kw");
	refused("capacity t1 12 0.2 0.1\n", "capacity: price_max");
	refused("capacity t1 12 -0.2\n", "capacity: price");
	refused("capacity t1 12 0.2 0.3 0\n", "capacity: knee_pct");
	refused("capacity t1 12 0.2 0.3 100 -1\n", "capacity: margin_kwh");
	refused("capacity t1 12 0.2\ncapacity t1 12 0.2\n", "g.conf:2: capacity of t1 given twice");
	refused("location t1 91 0\n", "location: latitude");
	refused("location t1 1 2\nlocation t1 1 2\n", "g.conf:2: location of t1 given twice");
	refused("offset 02:00\n", "offset: expected");
	refused("offset +14:15\n", "offset: expected");
	refused("offset +01:00\noffset +01:00\n", "g.conf:2: offset given twice");
	refused("tariff t1\n", "g.conf:1: unknown keyword");
	refused("band t1 * 00:00-24:00 1 2 3 4 5\n", "more than 8 fields");
	char big[100];
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	char line[200];
	snprintf(line, sizeof(line), "band %s * 00:00-24:00 1\n", big);
	refused(line, "a field longer than 64");
}

Test(gridtariff, refused_with_the_nul_inside)
{
	const char text[] = "band t1 * 00:00-24:00 1\n\0";
	struct gf_gridtariff t;

	cr_assert_eq(gf_gridtariff_parse("g", text, sizeof(text) - 1, &t, err, sizeof(err)),
	             GF_EPARSE);
}

Test(gridtariff, too_many_lines_and_too_big)
{
	size_t n = (GF_GRIDTARIFF_LINES_MAX + 1) * 24;
	char *text = malloc(n + 1), *p = text;
	struct gf_gridtariff t;

	for (int i = 0; i <= GF_GRIDTARIFF_LINES_MAX; i++)
		p += sprintf(p, "band t%d * 00:00-24:00 1\n", i % 10);
	cr_assert_eq(gf_gridtariff_parse("g", text, (size_t)(p - text), &t, err, sizeof(err)),
	             GF_EPARSE);
	cr_assert(strstr(err, "more than 4096 lines"), "%s", err);
	free(text);
	cr_assert_eq(gf_gridtariff_parse("g", "", GF_GRIDTARIFF_FILE_MAX + 1, &t, err, sizeof(err)),
	             GF_ERANGE);
}

Test(gridtariff, empty_file_and_missing_file)
{
	struct gf_gridtariff t = parse_ok("# nothing\n\n");

	cr_assert_eq(t.nbands + t.ncaps + t.nlocs, 0);
	gf_gridtariff_free(&t);
	cr_assert_neq(gf_gridtariff_load("/nonexistent/grid.conf", &t, err, sizeof(err)), GF_OK);
}
