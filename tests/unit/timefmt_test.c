/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/base/timefmt.h: RFC 3339 parsing, canonical output, intervals. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/timefmt.h"

static enum gf_err parse(const char *s, int64_t *ms)
{
	return gf_time_parse(s, strlen(s), ms);
}

/* Parses s and formats it again: the canonical form. */
static const char *canon(const char *s)
{
	static char buf[GF_TIME_BUFSIZE];
	int64_t ms;

	cr_assert_eq(parse(s, &ms), GF_OK, "%s did not parse", s);
	cr_assert_eq(gf_time_format(ms, buf, sizeof(buf)), GF_OK);
	return buf;
}

Test(timefmt, epoch_and_known_instants)
{
	int64_t ms = -1;

	cr_assert_eq(parse("1970-01-01T00:00:00Z", &ms), GF_OK);
	cr_assert_eq(ms, 0);
	cr_assert_eq(parse("2020-02-27T20:30:00Z", &ms), GF_OK);
	cr_assert_eq(ms, 1582835400000LL);
	cr_assert_eq(parse("1969-12-31T23:59:59.999Z", &ms), GF_OK);
	cr_assert_eq(ms, -1);
	cr_assert_eq(parse("2000-02-29T12:00:00Z", &ms), GF_OK);
	cr_assert_eq(ms, 951825600000LL);
}

Test(timefmt, goflex_and_offsets_normalise_to_utc)
{
	cr_assert_str_eq(canon("2020-02-27T20:30:00.000+0000"), "2020-02-27T20:30:00Z");
	cr_assert_str_eq(canon("2020-02-27T21:30:00+01:00"), "2020-02-27T20:30:00Z");
	cr_assert_str_eq(canon("2020-02-27T21:30:00+0100"), "2020-02-27T20:30:00Z");
	cr_assert_str_eq(canon("2020-02-27T15:00:00-05:30"), "2020-02-27T20:30:00Z");
	cr_assert_str_eq(canon("2020-02-27T20:30:00+00:00"), "2020-02-27T20:30:00Z");
	cr_assert_str_eq(canon("2020-02-27T20:30:00-00:00"), "2020-02-27T20:30:00Z");
	cr_assert_str_eq(canon("2020-02-27t20:30:00z"), "2020-02-27T20:30:00Z");
	/* crossing midnight, month and year boundaries */
	cr_assert_str_eq(canon("2021-01-01T00:30:00+01:00"), "2020-12-31T23:30:00Z");
	cr_assert_str_eq(canon("2020-02-28T23:30:00-01:00"), "2020-02-29T00:30:00Z");
}

Test(timefmt, fractions_keep_milliseconds_only_when_not_zero)
{
	cr_assert_str_eq(canon("2020-02-27T20:30:00.5Z"), "2020-02-27T20:30:00.500Z");
	cr_assert_str_eq(canon("2020-02-27T20:30:00.123Z"), "2020-02-27T20:30:00.123Z");
	cr_assert_str_eq(canon("2020-02-27T20:30:00.000000Z"), "2020-02-27T20:30:00Z");
	/* finer than a millisecond: truncated toward the past */
	cr_assert_str_eq(canon("2020-02-27T20:30:00.123999Z"), "2020-02-27T20:30:00.123Z");
	cr_assert_str_eq(canon("1969-12-31T23:59:59.9999Z"), "1969-12-31T23:59:59.999Z");
}

Test(timefmt, refuses_what_is_not_rfc3339)
{
	static const char *const bad[] = {
	    "",
	    "2020-02-30T00:00:00Z", /* no such day */
	    "2021-02-29T00:00:00Z", /* not a leap year */
	    "1900-02-29T00:00:00Z", /* century rule */
	    "2020-13-01T00:00:00Z",
	    "2020-00-01T00:00:00Z",
	    "2020-01-00T00:00:00Z",
	    "2020-02-27 20:30:00",  /* space and no offset */
	    "2020-02-27 20:30:00Z", /* space */
	    "2020-02-27T20:30:00",  /* local time */
	    "2020-02-27T24:00:00Z",
	    "2020-02-27T20:60:00Z",
	    "2020-06-30T23:59:60Z",  /* leap second: refused by policy */
	    "2020-02-27T20:30Z",     /* seconds are required */
	    "2020-02-27T20:30:00.Z", /* empty fraction */
	    "2020-02-27T20:30:00+1:00",
	    "2020-02-27T20:30:00+24:00",
	    "2020-02-27T20:30:00+01:60",
	    "2020-02-27T20:30:00+01",
	    "2020-02-27T20:30:00Z ",
	    " 2020-02-27T20:30:00Z",
	    "20-02-27T20:30:00Z",
	    "2020-2-27T20:30:00Z",
	    "+2020-02-27T20:30:00Z",
	    "2020-02-27T20:30:00ZZ",
	    "2020-02-27T20:30:00+01:00:00",
	};
	int64_t ms = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i], &ms), GF_EPARSE, "accepted '%s'", bad[i]);
		cr_assert_eq(ms, 42, "out-param touched on failure");
	}
	cr_assert_eq(gf_time_parse(NULL, 0, &ms), GF_EPARSE);
}

Test(timefmt, length_is_honoured_without_nul)
{
	const char *s = "2020-02-27T20:30:00Zjunk";
	int64_t ms;

	cr_assert_eq(gf_time_parse(s, 20, &ms), GF_OK);
	cr_assert_eq(ms, 1582835400000LL);
	cr_assert_eq(gf_time_parse(s, 19, &ms), GF_EPARSE);
}

Test(timefmt, range_is_years_0000_to_9999)
{
	int64_t ms = 42;
	char buf[GF_TIME_BUFSIZE] = "untouched";

	cr_assert_eq(parse("0000-01-01T00:00:00Z", &ms), GF_OK);
	cr_assert_eq(ms, GF_TIME_MIN_MS);
	cr_assert_eq(parse("9999-12-31T23:59:59.999Z", &ms), GF_OK);
	cr_assert_eq(ms, GF_TIME_MAX_MS);
	ms = 42;
	cr_assert_eq(parse("0000-01-01T00:30:00+01:00", &ms), GF_ERANGE);
	cr_assert_eq(parse("9999-12-31T23:30:00-01:00", &ms), GF_ERANGE);
	cr_assert_eq(ms, 42);
	cr_assert_eq(gf_time_format(GF_TIME_MIN_MS - 1, buf, sizeof(buf)), GF_ERANGE);
	cr_assert_eq(gf_time_format(GF_TIME_MAX_MS + 1, buf, sizeof(buf)), GF_ERANGE);
	cr_assert_str_eq(buf, "untouched");
	cr_assert_eq(gf_time_format(GF_TIME_MIN_MS, buf, sizeof(buf)), GF_OK);
	cr_assert_str_eq(buf, "0000-01-01T00:00:00Z");
	cr_assert_eq(gf_time_format(GF_TIME_MAX_MS, buf, sizeof(buf)), GF_OK);
	cr_assert_str_eq(buf, "9999-12-31T23:59:59.999Z");
}

Test(timefmt, format_needs_room)
{
	char buf[GF_TIME_BUFSIZE];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(gf_time_format(0, buf, 20), GF_ETOOLONG);
	cr_assert_eq(buf[0], 'x', "buffer touched on failure");
	cr_assert_eq(gf_time_format(0, buf, 21), GF_OK);
	cr_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	cr_assert_eq(gf_time_format(1, buf, 24), GF_ETOOLONG);
	cr_assert_eq(gf_time_format(1, buf, 25), GF_OK);
	cr_assert_str_eq(buf, "1970-01-01T00:00:00.001Z");
}

/* Every day from 1900 to 2100 at a few times of day, against gmtime_r(). */
Test(timefmt, agrees_with_gmtime_over_two_centuries)
{
	for (int64_t s = -2208988800LL; s < 4102444800LL; s += 86400 + 3607) {
		time_t t = (time_t)s;
		struct tm tm;
		char want[GF_TIME_BUFSIZE], got[GF_TIME_BUFSIZE];
		int64_t back;
		gmtime_r(&t, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		cr_assert_eq(gf_time_format(s * 1000, got, sizeof(got)), GF_OK);
		cr_assert_str_eq(got, want);
		cr_assert_eq(gf_time_parse(got, strlen(got), &back), GF_OK);
		cr_assert_eq(back, s * 1000);
	}
}

Test(timefmt, interval_is_floor_of_900_seconds)
{
	int64_t ms;

	/* The Cyprus pilot offer: creationTime 20:15 is interval 1758705. */
	cr_assert_eq(parse("2020-02-27T20:15:00.000+0000", &ms), GF_OK);
	cr_assert_eq(gf_time_interval(ms), 1758705);
	cr_assert_eq(gf_time_interval(ms + 899999), 1758705);
	cr_assert_eq(gf_time_interval(ms + 900000), 1758706);
	cr_assert_eq(gf_time_interval(0), 0);
	cr_assert_eq(gf_time_interval(-1), -1);
	cr_assert_eq(gf_time_interval(-900000), -1);
	cr_assert_eq(gf_time_interval(-900001), -2);
}
