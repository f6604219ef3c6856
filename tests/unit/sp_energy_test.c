/* SPDX-License-Identifier: MIT */
/*
 * gf-sp's readings as energy per interval (agents/gf-sp/energy.h) on a real
 * store (SQLite in a temp dir): register interpolation and interval sums
 * through lib/meter/resample.h, when an interval is complete (what a
 * subscription sends), grid point sums and the k_min rule, the intervals a
 * late reading changes.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "energy.h"
#include "leak_check.h"

#define MIN 60000 /* ms */
#define Q   (15 * MIN)
#define REG "1-0:1.8.0"
#define INT "1-0:1.29.0"

static char dir[64];
static struct sp_db *db;

static void setup(void)
{
	char spec[128], err[256] = "";

	snprintf(dir, sizeof(dir), "/tmp/gf-sp-energy-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "sqlite:%s/m.db", dir);
	cr_assert_eq(sp_db_open(spec, &db, err, sizeof(err)), GF_OK, "%s", err);
}

static void teardown(void)
{
	char cmd[128];

	sp_db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	leak_check();
}

TestSuite(sp_energy, .init = setup, .fini = teardown);

static void put(const char *meter, const char *obis, int64_t t, double v)
{
	struct sp_reading r = {meter, t, obis, v, "kWh"};
	char err[256];

	cr_assert_eq(sp_db_insert(db, &r, 1, NULL, err, sizeof(err)), GF_OK, "%s", err);
}

static void energy(const char *meter, const char *obis, int64_t from, size_t count, double *out)
{
	char err[256] = "";

	cr_assert_eq(sp_energy_meter(db, meter, obis, from, Q, count, out, err, sizeof(err)), GF_OK,
	             "%s", err);
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

Test(sp_energy, a_register_is_interpolated_between_reads)
{
	double e[4];

	put("m", REG, 0, 10.0);
	put("m", REG, 10 * MIN, 11.0);
	put("m", REG, 40 * MIN, 14.0);
	energy("m", NULL, 0, 4, e);
	/* reg(15) = 11 + 5/30 * 3 = 11.5; reg(30) = 13; reg(45): after the last read */
	cr_assert(near(e[0], 1.5), "%g", e[0]);
	cr_assert(near(e[1], 1.5), "%g", e[1]);
	cr_assert(isnan(e[2]), "no extrapolation past the last read: %g", e[2]);
	cr_assert(isnan(e[3]));
	energy("m", NULL, -Q, 1, e);
	cr_assert(isnan(e[0]), "no extrapolation before the first read");
}

Test(sp_energy, the_neighbours_outside_the_range_are_used)
{
	double e[1];

	put("m", REG, 0, 100.0);
	put("m", REG, 60 * MIN, 104.0);
	/* one interval in the middle, no read inside it */
	energy("m", NULL, 30 * MIN, 1, e);
	cr_assert(near(e[0], 1.0), "%g", e[0]);
}

Test(sp_energy, interval_readings_are_summed_and_complete_only_when_over)
{
	double e[3];

	put("m", INT, 5 * MIN, 0.1);
	put("m", INT, 10 * MIN, 0.1);
	put("m", INT, 15 * MIN, 0.1); /* the period (10, 15]: still the first interval */
	put("m", INT, 20 * MIN, 0.2);
	energy("m", NULL, 0, 3, e);
	cr_assert(near(e[0], 0.3), "%g", e[0]);
	cr_assert(isnan(e[1]), "(15, 30] has a reading but is not over: %g", e[1]);
	cr_assert(isnan(e[2]));
	put("m", INT, 40 * MIN, 0.4); /* a later reading says (15, 30] is over */
	energy("m", NULL, 0, 3, e);
	cr_assert(near(e[1], 0.2), "%g", e[1]);
	cr_assert(isnan(e[2]), "(30, 45] has no reading up to its end: %g", e[2]);
}

Test(sp_energy, a_meter_with_a_register_is_read_from_it)
{
	double e[1];

	put("m", REG, 0, 1.0);
	put("m", REG, Q, 2.0);
	put("m", INT, Q, 5.0);
	energy("m", NULL, 0, 1, e);
	cr_assert(near(e[0], 1.0), "the register: %g", e[0]);
	energy("m", INT, 0, 1, e);
	cr_assert(near(e[0], 5.0), "the code asked for: %g", e[0]);
}

Test(sp_energy, a_decreasing_register_is_an_error)
{
	double e[2] = {7, 7};
	char err[256] = "";

	put("m", REG, 0, 10.0);
	put("m", REG, Q, 9.0);
	cr_assert_eq(sp_energy_meter(db, "m", NULL, 0, Q, 2, e, err, sizeof(err)), GF_ERANGE);
	cr_assert(strstr(err, "decreases") != NULL, "%s", err);
	cr_assert(e[0] == 7 && e[1] == 7, "outputs untouched");
	cr_assert_eq(sp_energy_meter(db, "m", "1-0:32.7.0", 0, Q, 2, e, err, sizeof(err)),
	             GF_EINVAL, "a voltage is not energy");
}

Test(sp_energy, grid_sums_count_the_meters_in_each_interval)
{
	const char *meters[] = {"a", "b", "c", "d"};
	double sum[2];
	uint32_t have[2];
	size_t bad = 9;
	char err[256];

	put("a", REG, 0, 0.0);
	put("a", REG, 2 * Q, 2.0); /* 1 + 1 */
	put("b", REG, 0, 0.0);
	put("b", REG, Q, 3.0); /* 3, then nothing */
	put("c", INT, Q, 0.5); /* 0.5, then nothing complete */
	put("d", REG, 0, 5.0);
	put("d", REG, Q, 4.0); /* decreasing: left out */
	cr_assert_eq(sp_energy_grid(db, meters, 4, 0, Q, 2, sum, have, &bad, err, sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert_eq(have[0], 3);
	cr_assert(near(sum[0], 1 + 3 + 0.5), "%g", sum[0]);
	cr_assert_eq(have[1], 1);
	cr_assert(near(sum[1], 1), "%g", sum[1]);
	cr_assert_eq(bad, 1);
}

Test(sp_energy, the_k_min_rule)
{
	/* have, members, k_min, past the deadline */
	cr_assert_eq(sp_energy_rule(5, 5, 5, false), SP_GRID_SEND, "all in");
	cr_assert_eq(sp_energy_rule(6, 8, 5, false), SP_GRID_WAIT, "more may come");
	cr_assert_eq(sp_energy_rule(6, 8, 5, true), SP_GRID_SEND, "the deadline passed");
	cr_assert_eq(sp_energy_rule(4, 8, 5, true), SP_GRID_DROP, "too few, for good");
	cr_assert_eq(sp_energy_rule(4, 8, 5, false), SP_GRID_WAIT);
	cr_assert_eq(sp_energy_rule(4, 4, 5, false), SP_GRID_DROP,
	             "a grid point of fewer than k_min meters never sends, even all in");
	cr_assert_eq(sp_energy_rule(0, 0, 1, true), SP_GRID_DROP);
	cr_assert_eq(sp_energy_rule(1, 1, 1, false), SP_GRID_SEND);
}

Test(sp_energy, a_late_reading_changes_the_intervals_between_its_neighbours)
{
	int64_t s = 0, e = 0;
	char err[256];

	put("m", REG, 0, 0.0);
	put("m", REG, 4 * Q, 4.0);
	/* a read at 2Q + 1 min arrives: reg changes between 0 and 4Q */
	put("m", REG, 2 * Q + MIN, 2.5);
	cr_assert_eq(
	    sp_energy_affected(db, "m", 2 * Q + MIN, 2 * Q + MIN, Q, &s, &e, err, sizeof(err)),
	    GF_OK, "%s", err);
	cr_assert_eq(s, -Q, "from the interval that ends at the previous read");
	cr_assert_eq(e, 5 * Q, "to the one that starts at the next read");
	/* the newest read, nothing after it */
	put("m", REG, 5 * Q, 5.0);
	cr_assert_eq(sp_energy_affected(db, "m", 5 * Q, 5 * Q, Q, &s, &e, err, sizeof(err)), GF_OK);
	cr_assert_eq(s, 3 * Q);
	cr_assert_eq(e, 6 * Q);
	/* a meter without readings: the range itself */
	cr_assert_eq(sp_energy_affected(db, "x", Q + 1, Q + 2, Q, &s, &e, err, sizeof(err)), GF_OK);
	cr_assert_eq(s, Q);
	cr_assert_eq(e, 2 * Q);
}

Test(sp_energy, the_span_of_a_meter)
{
	int64_t a = 0, b = 0;
	bool found = true;
	char err[256];

	cr_assert_eq(sp_energy_span(db, "m", &a, &b, &found, err, sizeof(err)), GF_OK);
	cr_assert(!found);
	put("m", INT, 3 * Q, 1);
	put("m", INT, Q, 1);
	cr_assert_eq(sp_energy_span(db, "m", &a, &b, &found, err, sizeof(err)), GF_OK);
	cr_assert(found && a == Q && b == 3 * Q);
}

Test(sp_energy, floor_and_ceil_below_zero)
{
	cr_assert_eq(sp_energy_floor(-1, Q), -Q);
	cr_assert_eq(sp_energy_floor(-Q, Q), -Q);
	cr_assert_eq(sp_energy_floor(Q + 1, Q), Q);
	cr_assert_eq(sp_energy_ceil(-1, Q), 0);
	cr_assert_eq(sp_energy_ceil(Q + 1, Q), 2 * Q);
	cr_assert_eq(sp_energy_ceil(2 * Q, Q), 2 * Q);
}
