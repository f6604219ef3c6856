/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/meter/tz.h: zones, the spring-forward gap, the
 * fall-back fold, field validation and hostile zone names. Each Criterion
 * test runs in its own process, so each opens its own zone. */
#include <criterion/criterion.h>

#include <string.h>
#include <time.h>

#include "base/timefmt.h"
#include "meter/tz.h"

/* Epoch seconds of an RFC 3339 UTC time. */
static int64_t utc(const char *s)
{
	int64_t ms = 0;

	cr_assert_eq(gf_time_parse(s, strlen(s), &ms), GF_OK, "%s", s);
	return ms / 1000;
}

static void zone(const char *name)
{
	char err[128] = "";

	cr_assert_eq(gf_tz_open(name, err, sizeof(err)), GF_OK, "%s: %s", name, err);
}

/* The candidates of a local time written "YYYY-MM-DD HH:MM:SS". */
static int conv(const char *local, int64_t out[2])
{
	struct gf_tz_local t;

	cr_assert_eq(gf_tz_parse_local(local, strlen(local), &t), GF_OK, "%s", local);
	return gf_tz_to_utc(&t, out);
}

static void one(const char *local, const char *want)
{
	int64_t out[2] = {0, 0};

	cr_assert_eq(conv(local, out), 1, "%s: not exactly one instant", local);
	cr_assert_eq(out[0], utc(want), "%s: %lld, want %s", local, (long long)out[0], want);
}

static void two(const char *local, const char *first, const char *second)
{
	int64_t out[2] = {0, 0};

	cr_assert_eq(conv(local, out), 2, "%s: not a fold", local);
	cr_assert_eq(out[0], utc(first), "%s: first %lld, want %s", local, (long long)out[0],
	             first);
	cr_assert_eq(out[1], utc(second), "%s: second %lld, want %s", local, (long long)out[1],
	             second);
}

static void none(const char *local)
{
	int64_t out[2] = {0, 0};

	cr_assert_eq(conv(local, out), 0, "%s: should not exist", local);
}

Test(tz, nicosia_ordinary_times)
{
	zone("Europe/Nicosia");
	one("2024-01-15 12:00:00", "2024-01-15T10:00:00Z");
	one("2024-07-01 12:00:00", "2024-07-01T09:00:00Z");
	one("2017-01-01 00:01:00", "2016-12-31T22:01:00Z"); /* the DMS sample's first row */
	one("2024-12-31 23:59:59", "2024-12-31T21:59:59Z");
}

Test(tz, nicosia_spring_forward_gap)
{
	zone("Europe/Nicosia");
	/* 2024-03-31 03:00 EET became 04:00 EEST at 01:00 UTC */
	one("2024-03-31 02:59:59", "2024-03-31T00:59:59Z");
	none("2024-03-31 03:00:00");
	none("2024-03-31 03:30:00");
	none("2024-03-31 03:59:59");
	one("2024-03-31 04:00:00", "2024-03-31T01:00:00Z");
}

Test(tz, nicosia_fall_back_fold)
{
	zone("Europe/Nicosia");
	/* 2024-10-27 04:00 EEST became 03:00 EET at 01:00 UTC */
	one("2024-10-27 02:59:59", "2024-10-26T23:59:59Z");
	two("2024-10-27 03:00:00", "2024-10-27T00:00:00Z", "2024-10-27T01:00:00Z");
	two("2024-10-27 03:30:00", "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z");
	two("2024-10-27 03:59:59", "2024-10-27T00:59:59Z", "2024-10-27T01:59:59Z");
	one("2024-10-27 04:00:00", "2024-10-27T02:00:00Z");
}

/*
 * Every minute of 2024 in a zone, both ways: each UTC minute is among the
 * candidates of its own local time, and every local minute has as many
 * candidates as UTC minutes map onto it (gap_minutes with none, fold_minutes
 * with two).
 */
static void whole_year(int gap_minutes, int fold_minutes)
{
	int64_t from = utc("2024-01-01T00:00:00Z"), to = utc("2025-01-01T00:00:00Z");
	int counts[3] = {0, 0, 0};

	for (int64_t u = from; u < to; u += 60) {
		time_t tt = (time_t)u;
		struct tm tm;
		struct gf_tz_local t;
		int64_t out[2];
		int n;

		cr_assert_not_null(localtime_r(&tt, &tm));
		t = (struct gf_tz_local){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		                         tm.tm_hour,        tm.tm_min,     tm.tm_sec};
		n = gf_tz_to_utc(&t, out);
		cr_assert(n == 1 || n == 2, "%lld: %d candidates", (long long)u, n);
		cr_assert(out[0] == u || (n == 2 && out[1] == u), "%lld not among its candidates",
		          (long long)u);
		if (n == 2)
			cr_assert_lt(out[0], out[1]);
	}
	/* local minutes of the same span (a day either side, as offsets move it) */
	for (int64_t l = from - 86400; l < to + 86400; l += 60) {
		time_t tt = (time_t)l;
		struct tm tm;
		struct gf_tz_local t;
		int64_t out[2];
		int n;

		cr_assert_not_null(gmtime_r(&tt, &tm));
		if (tm.tm_year + 1900 != 2024)
			continue;
		t = (struct gf_tz_local){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		                         tm.tm_hour,        tm.tm_min,     tm.tm_sec};
		n = gf_tz_to_utc(&t, out);
		cr_assert(n >= 0 && n <= 2);
		counts[n]++;
	}
	cr_assert_eq(counts[0], gap_minutes, "gap minutes: %d", counts[0]);
	cr_assert_eq(counts[2], fold_minutes, "fold minutes: %d", counts[2]);
	cr_assert_eq(counts[0] + counts[1] + counts[2], 366 * 1440);
}

Test(tz, nicosia_every_minute_of_2024)
{
	zone("Europe/Nicosia");
	whole_year(60, 60);
}

Test(tz, lord_howe_every_minute_of_2024)
{
	zone("Australia/Lord_Howe");
	whole_year(30, 30);
}

Test(tz, utc_every_minute_of_2024)
{
	zone("UTC");
	whole_year(0, 0);
}

Test(tz, zurich)
{
	zone("Europe/Zurich");
	one("2024-01-15 12:00:00", "2024-01-15T11:00:00Z");
	none("2024-03-31 02:30:00");
	one("2024-03-31 03:00:00", "2024-03-31T01:00:00Z");
	two("2024-10-27 02:30:00", "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z");
	one("2024-10-27 03:00:00", "2024-10-27T02:00:00Z");
}

Test(tz, new_york)
{
	zone("America/New_York");
	one("2024-01-15 12:00:00", "2024-01-15T17:00:00Z");
	one("2024-03-10 01:59:59", "2024-03-10T06:59:59Z");
	none("2024-03-10 02:30:00");
	one("2024-03-10 03:00:00", "2024-03-10T07:00:00Z");
	two("2024-11-03 01:30:00", "2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z");
	one("2024-11-03 02:00:00", "2024-11-03T07:00:00Z");
}

Test(tz, utc_has_no_gaps_or_folds)
{
	zone("UTC");
	one("2024-03-31 03:30:00", "2024-03-31T03:30:00Z");
	one("2024-10-27 03:30:00", "2024-10-27T03:30:00Z");
	one("2024-02-29 23:59:59", "2024-02-29T23:59:59Z");
}

Test(tz, lord_howe_half_hour_dst)
{
	zone("Australia/Lord_Howe");
	/* 2024-04-07 02:00 +11 became 01:30 +1030; 2024-10-06 02:00 +1030 became 02:30 +11 */
	one("2024-04-07 01:29:59", "2024-04-06T14:29:59Z");
	two("2024-04-07 01:30:00", "2024-04-06T14:30:00Z", "2024-04-06T15:00:00Z");
	two("2024-04-07 01:45:00", "2024-04-06T14:45:00Z", "2024-04-06T15:15:00Z");
	one("2024-04-07 02:00:00", "2024-04-06T15:30:00Z");
	one("2024-10-06 01:59:59", "2024-10-05T15:29:59Z");
	none("2024-10-06 02:00:00");
	none("2024-10-06 02:15:00");
	one("2024-10-06 02:30:00", "2024-10-05T15:30:00Z");
}

Test(tz, future_years_follow_the_rules)
{
	/* past the last transition in the file: glibc's TZ rule string */
	zone("Europe/Nicosia");
	none("2100-03-28 03:30:00");
	two("2100-10-31 03:30:00", "2100-10-31T00:30:00Z", "2100-10-31T01:30:00Z");
}

Test(tz, unknown_zones)
{
	char err[128] = "";

	cr_assert_eq(gf_tz_open("Europe/Atlantis", err, sizeof(err)), GF_ENOENT);
	cr_assert(strstr(err, "Europe/Atlantis") != NULL, "%s", err);
	cr_assert_eq(gf_tz_open("Europe", err, sizeof(err)), GF_ENOENT);      /* a folder */
	cr_assert_eq(gf_tz_open("leapseconds", err, sizeof(err)), GF_ENOENT); /* not TZif */
	cr_assert_eq(gf_tz_open("Europe/Nicosia/x", err, sizeof(err)),
	             GF_ENOENT); /* below a file */
}

Test(tz, a_failed_open_keeps_the_zone)
{
	zone("Europe/Nicosia");
	cr_assert_eq(gf_tz_open("Nowhere/Else", NULL, 0), GF_ENOENT);
	cr_assert_eq(gf_tz_open("../etc/passwd", NULL, 0), GF_EINVAL);
	none("2024-03-31 03:30:00");
	one("2024-01-15 12:00:00", "2024-01-15T10:00:00Z");
}

Test(tz, hostile_names)
{
	char err[128], lng[300];
	static const char *const bad[] = {
	    "../etc/passwd",
	    "/etc/passwd",
	    "Europe/../../etc/passwd",
	    "..",
	    "Europe/./Nicosia",
	    "",
	    "Europe/Nicosia\n",
	    "Europe Nicosia",
	    "Europe\\Nicosia",
	    "Europe/Nicosia;rm",
	    "$(id)",
	    ":Europe/Nicosia",
	    "Europe/Nicosia%s",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(gf_tz_open(bad[i], err, sizeof(err)), GF_EINVAL, "%s accepted",
		             bad[i]);
		cr_assert_neq(err[0], '\0');
		cr_assert_null(strchr(err, '\n'), "the name is echoed: %s", err);
	}
	memset(lng, 'A', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	cr_assert_eq(gf_tz_open(lng, err, sizeof(err)), GF_EINVAL);
	cr_assert_lt(strlen(err), sizeof(err));
	lng[GF_TZ_NAME_MAX + 1] = '\0';
	cr_assert_eq(gf_tz_open(lng, err, sizeof(err)), GF_EINVAL);
	lng[GF_TZ_NAME_MAX] = '\0'; /* a name of the longest length: allowed, not found */
	cr_assert_eq(gf_tz_open(lng, err, sizeof(err)), GF_ENOENT);
	cr_assert_eq(gf_tz_open(NULL, err, sizeof(err)), GF_EINVAL);
}

Test(tz, fields_out_of_range)
{
	static const struct gf_tz_local bad[] = {
	    {2023, 2, 29, 0, 0, 0}, {1900, 2, 29, 0, 0, 0}, {2024, 2, 30, 0, 0, 0},
	    {2024, 4, 31, 0, 0, 0}, {2024, 13, 1, 0, 0, 0}, {2024, 0, 1, 0, 0, 0},
	    {2024, 1, 0, 0, 0, 0},  {2024, 1, 32, 0, 0, 0}, {2024, 1, 1, 24, 0, 0},
	    {2024, 1, 1, -1, 0, 0}, {2024, 1, 1, 0, 60, 0}, {2024, 1, 1, 0, 0, 60},
	    {2024, 1, 1, 0, 0, 61}, {2024, 1, 1, 0, 0, -1}, {0, 1, 1, 0, 0, 0},
	    {10000, 1, 1, 0, 0, 0}, {-2024, 1, 1, 0, 0, 0},
	};
	int64_t out[2] = {7, 7};

	zone("Europe/Nicosia");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(gf_tz_to_utc(&bad[i], out), -1, "case %zu", i);
	cr_assert_eq(out[0], 7);
	cr_assert_eq(gf_tz_to_utc(NULL, out), -1);
	one("2024-02-29 12:00:00", "2024-02-29T10:00:00Z");
	one("2000-02-29 12:00:00", "2000-02-29T10:00:00Z");
}

Test(tz, parse_local)
{
	struct gf_tz_local t = {0};
	static const char *const bad[] = {
	    "",
	    "2024-01-01",
	    "2024-01-01 12",
	    "2024-1-01 12:00:00",
	    "2024-01-01 12:00:00Z",
	    "2024-01-01 12:00:00+02:00",
	    "2024-01-01 12:00:00.000",
	    "2024-01-01  12:00:00",
	    " 2024-01-01 12:00:00",
	    "2024-01-01 12:00:00 ",
	    "2024-01-01t12:00:00",
	    "2024-01-01 12:00:",
	    "2024-01-01 12:00:0",
	    "2023-02-29 12:00:00",
	    "2024-02-30 00:00:00",
	    "2024-01-01 24:00:00",
	    "2024-01-01 23:60:00",
	    "2024-01-01 23:59:60",
	    "0000-01-01 00:00:00",
	    "+024-01-01 00:00:00",
	};

	cr_assert_eq(gf_tz_parse_local("2017-01-01 00:01:00", 19, &t), GF_OK);
	cr_assert(t.year == 2017 && t.month == 1 && t.day == 1 && t.hour == 0 && t.minute == 1 &&
	          t.second == 0);
	cr_assert_eq(gf_tz_parse_local("2024-10-27T03:30", 16, &t), GF_OK);
	cr_assert(t.year == 2024 && t.month == 10 && t.day == 27 && t.hour == 3 && t.minute == 30 &&
	          t.second == 0);
	/* len bounds the text: what follows is not read */
	cr_assert_eq(gf_tz_parse_local("2024-10-27 03:30:15garbage", 19, &t), GF_OK);
	cr_assert_eq(t.second, 15);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gf_tz_local keep = {1, 2, 3, 4, 5, 6}, u = keep;
		cr_assert_eq(gf_tz_parse_local(bad[i], strlen(bad[i]), &u), GF_EPARSE, "%s",
		             bad[i]);
		cr_assert_eq(memcmp(&u, &keep, sizeof(u)), 0, "%s: output touched", bad[i]);
	}
}
