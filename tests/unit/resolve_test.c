/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/meter/resolve.h: the fold rule, on its own (every
 * position of the previous reading against the two candidates) and on
 * realistic register series written by a DMS in Europe/Nicosia local time
 * across the 2024 fall-back hour (tz.h gives the candidates). */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>
#include <time.h>

#include "base/timefmt.h"
#include "meter/resolve.h"
#include "meter/tz.h"

static int64_t utc(const char *s)
{
	int64_t ms = 0;

	cr_assert_eq(gf_time_parse(s, strlen(s), &ms), GF_OK, "%s", s);
	return ms / 1000;
}

Test(resolve, one_candidate_is_taken_as_it_is)
{
	const int64_t c[1] = {1000};
	const struct gf_resolve_prev later = {true, 5000, 99.0};
	int64_t t = 0;

	cr_assert_null(gf_resolve_time(GF_RESOLVE_REGISTER, c, 1, NULL, 1.0, &t));
	cr_assert_eq(t, 1000);
	t = 0;
	/* not the rule's business: a later or larger previous read does not
	 * quarantine an unambiguous time */
	cr_assert_null(gf_resolve_time(GF_RESOLVE_REGISTER, c, 1, &later, 1.0, &t));
	cr_assert_eq(t, 1000);
	t = 0;
	cr_assert_null(gf_resolve_time(GF_RESOLVE_INTERVAL, c, 1, &later, NAN, &t));
	cr_assert_eq(t, 1000);
}

Test(resolve, gaps_and_invalid_times_are_quarantined)
{
	const int64_t c[2] = {1000, 4600};
	const struct gf_resolve_prev prev = {true, 0, 1.0};
	int64_t t = 7;

	cr_assert_str_eq(gf_resolve_time(GF_RESOLVE_REGISTER, c, 0, &prev, 2.0, &t),
	                 "local time does not exist (DST gap)");
	cr_assert_str_eq(gf_resolve_time(GF_RESOLVE_INTERVAL, c, 0, &prev, 2.0, &t),
	                 "local time does not exist (DST gap)");
	cr_assert_str_eq(gf_resolve_time(GF_RESOLVE_REGISTER, c, -1, &prev, 2.0, &t),
	                 "local time is not valid");
	cr_assert_str_eq(gf_resolve_time(GF_RESOLVE_REGISTER, c, 3, &prev, 2.0, &t),
	                 "local time is not valid");
	cr_assert_eq(t, 7);
}

/*
 * Every position of the previous read (before both candidates, at the
 * first, between, at the second, after both, none) against every value
 * (below, equal, above the previous, NaN), for both kinds: the expected
 * instant written out, not computed.
 */
Test(resolve, fold_rule_table)
{
	enum { Q = -1 }; /* quarantined */
	const int64_t c[2] = {1000, 4600};
	static const struct {
		bool have;
		int64_t tp;
		double v;     /* previous value 10 */
		int64_t want; /* register */
	} cases[] = {
	    {true, 100, 11, 1000},  {true, 100, 10, 1000},  {true, 100, 9, Q},
	    {true, 100, NAN, Q},    {true, 1000, 11, 4600}, {true, 1000, 10, 4600},
	    {true, 1000, 9, Q},     {true, 1000, NAN, Q},   {true, 2000, 11, 4600},
	    {true, 2000, 10, 4600}, {true, 2000, 9, Q},     {true, 2000, NAN, Q},
	    {true, 4600, 11, Q},    {true, 4600, 10, Q},    {true, 4600, 9, Q},
	    {true, 4600, NAN, Q},   {true, 9000, 11, Q},    {true, 9000, 10, Q},
	    {true, 9000, 9, Q},     {true, 9000, NAN, Q},   {false, 0, 11, Q},
	    {false, 0, 10, Q},      {false, 0, 9, Q},       {false, 0, NAN, Q},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct gf_resolve_prev prev = {cases[i].have, cases[i].tp, 10.0};
		int64_t t = -7;
		const char *why = gf_resolve_time(GF_RESOLVE_REGISTER, c, 2, &prev, cases[i].v, &t);

		if (cases[i].want == Q) {
			cr_assert_not_null(why, "case %zu resolved to %lld", i, (long long)t);
			cr_assert(strstr(why, "DST fold") != NULL, "case %zu: %s", i, why);
			cr_assert_eq(t, -7, "case %zu: output touched", i);
		} else {
			cr_assert_null(why, "case %zu: %s", i, why);
			cr_assert_eq(t, cases[i].want, "case %zu: %lld", i, (long long)t);
		}
		/* energy per interval has no order: every fold is quarantined */
		t = -7;
		why = gf_resolve_time(GF_RESOLVE_INTERVAL, c, 2, &prev, cases[i].v, &t);
		cr_assert_str_eq(why, "ambiguous local time (DST fold) of energy per interval");
		cr_assert_eq(t, -7);
	}
	/* no previous reading at all */
	int64_t t = -7;
	cr_assert_str_eq(gf_resolve_time(GF_RESOLVE_REGISTER, c, 2, NULL, 1.0, &t),
	                 "ambiguous local time (DST fold) with no previous reading");
	const struct gf_resolve_prev down = {true, 100, 10.0}, late = {true, 5000, 10.0};
	cr_assert_str_eq(gf_resolve_time(GF_RESOLVE_REGISTER, c, 2, &down, 9.0, &t),
	                 "ambiguous local time (DST fold) and the register went down");
	cr_assert_str_eq(gf_resolve_time(GF_RESOLVE_REGISTER, c, 2, &late, 11.0, &t),
	                 "ambiguous local time (DST fold) not after the previous reading");
	cr_assert_eq(t, -7);
}

/* The local time of UTC instant u in the open zone, as a DMS writes it. */
static struct gf_tz_local local_of(int64_t u)
{
	time_t tt = (time_t)u;
	struct tm tm;

	cr_assert_not_null(localtime_r(&tt, &tm));
	return (struct gf_tz_local){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	                            tm.tm_hour,        tm.tm_min,     tm.tm_sec};
}

/*
 * A register read every step seconds from..to (UTC), written in Nicosia
 * local time, resolved in order with prev = the previous resolved reading.
 * Returns how many came out quarantined; every resolved one must be at its
 * true instant. increments[k % 4] is added before read k.
 */
static int series(const char *from, const char *to, int64_t step, const double increments[4],
                  bool start_with_prev, int *folds)
{
	struct gf_resolve_prev prev = {false, 0, 0};
	double v = 18000.0;
	int quarantined = 0, k = 0;

	cr_assert_eq(gf_tz_open("Europe/Nicosia", NULL, 0), GF_OK);
	*folds = 0;
	for (int64_t u = utc(from); u <= utc(to); u += step, k++) {
		struct gf_tz_local l = local_of(u);
		int64_t cand[2], t = -1;
		int n = gf_tz_to_utc(&l, cand);
		const char *why;

		v += increments[k % 4];
		*folds += n == 2;
		if (k == 0 && start_with_prev) {
			prev = (struct gf_resolve_prev){true, u, v};
			continue;
		}
		why = gf_resolve_time(GF_RESOLVE_REGISTER, cand, n, &prev, v, &t);
		if (why) {
			quarantined++;
			continue;
		}
		cr_assert_eq(t, u, "read %d (%02d:%02d local): %lld, true %lld", k, l.hour,
		             l.minute, (long long)t, (long long)u);
		prev = (struct gf_resolve_prev){true, t, v};
	}
	return quarantined;
}

Test(resolve, nicosia_fall_back_15_minute_register)
{
	static const double load[4] = {0.25, 0.5, 0.0, 1.75}; /* kWh per 15 min, one idle */
	static const double idle[4] = {0, 0, 0, 0};           /* a meter that uses nothing */
	int folds;

	/* 2024-10-26 22:00Z (01:00 EEST) to 03:00Z (05:00 EET): 21 reads, 8 in the fold */
	cr_assert_eq(
	    series("2024-10-26T22:00:00Z", "2024-10-27T03:00:00Z", 900, load, true, &folds), 0);
	cr_assert_eq(folds, 8);
	cr_assert_eq(
	    series("2024-10-26T22:00:00Z", "2024-10-27T03:00:00Z", 900, idle, true, &folds), 0);
	/* a whole day of 15-minute reads, and one read every minute */
	cr_assert_eq(
	    series("2024-10-26T12:00:00Z", "2024-10-27T12:00:00Z", 900, load, true, &folds), 0);
	cr_assert_eq(series("2024-10-26T23:00:00Z", "2024-10-27T02:00:00Z", 60, load, true, &folds),
	             0);
	cr_assert_eq(folds, 120);
	/* hourly reads at half past: 03:30 EEST then 03:30 EET */
	cr_assert_eq(
	    series("2024-10-26T22:30:00Z", "2024-10-27T03:30:00Z", 3600, load, true, &folds), 0);
	cr_assert_eq(folds, 2);
}

Test(resolve, a_file_that_starts_inside_the_fold)
{
	static const double load[4] = {0.25, 0.5, 0.25, 0.5};
	int folds;

	/* 00:00Z is 03:00 EEST. With nothing before it, every read of the fold
	 * (03:00..03:45 EEST, then EET) is quarantined: prev stays unknown
	 * until 04:00 EET, the first unambiguous time, which resolves. */
	cr_assert_eq(
	    series("2024-10-27T00:00:00Z", "2024-10-27T03:00:00Z", 900, load, false, &folds), 8);
	cr_assert_eq(folds, 8);
}

Test(resolve, out_of_order_and_decreasing_reads_in_the_fold)
{
	int64_t cand[2], t;
	struct gf_tz_local l = {2024, 10, 27, 3, 15, 0};

	cr_assert_eq(gf_tz_open("Europe/Nicosia", NULL, 0), GF_OK);
	cr_assert_eq(gf_tz_to_utc(&l, cand), 2);
	/* the previous read was 03:45 EET (01:45Z): 03:15 came later in the file */
	const struct gf_resolve_prev late = {true, utc("2024-10-27T01:45:00Z"), 100.0};
	cr_assert_not_null(gf_resolve_time(GF_RESOLVE_REGISTER, cand, 2, &late, 101.0, &t));
	/* the register went down from 02:45 EEST */
	const struct gf_resolve_prev down = {true, utc("2024-10-26T23:45:00Z"), 100.0};
	cr_assert_not_null(gf_resolve_time(GF_RESOLVE_REGISTER, cand, 2, &down, 99.5, &t));
	/* after 03:45 EEST (00:45Z): the second 03:15 */
	const struct gf_resolve_prev first = {true, utc("2024-10-27T00:45:00Z"), 100.0};
	cr_assert_null(gf_resolve_time(GF_RESOLVE_REGISTER, cand, 2, &first, 100.0, &t));
	cr_assert_eq(t, utc("2024-10-27T01:15:00Z"));
}

/*
 * What the rule cannot know: a meter read less often than the fold is
 * long. The read after 02:50 EEST is 03:10 EET (80 minutes later); 03:10
 * EEST is consistent too, and the earliest consistent instant is taken.
 * This pins the documented behaviour (resolve.h).
 */
Test(resolve, the_rule_takes_the_earliest_consistent_instant)
{
	int64_t cand[2], t;
	struct gf_tz_local l = {2024, 10, 27, 3, 10, 0};
	const struct gf_resolve_prev prev = {true, utc("2024-10-26T23:50:00Z"), 100.0};

	cr_assert_eq(gf_tz_open("Europe/Nicosia", NULL, 0), GF_OK);
	cr_assert_eq(gf_tz_to_utc(&l, cand), 2);
	cr_assert_null(gf_resolve_time(GF_RESOLVE_REGISTER, cand, 2, &prev, 101.0, &t));
	cr_assert_eq(t, utc("2024-10-27T00:10:00Z"));
}
