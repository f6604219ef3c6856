/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/engine/loadprofile.h: the IEEE European LV feeder's household
 * profiles (../shared/data/ieee-eu-lv/, tests run from the repository root),
 * their sum at the transformer against the OpenDSS reference, and the
 * forecast CSV.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leak_check.h"
#include "engine/loadprofile.h"
#include "base/timefmt.h"

#define IEEE     "../shared/data/ieee-eu-lv/"
#define PROFILES IEEE "load-profiles"

TestSuite(loadprofile, .fini = leak_check);
TestSuite(forecast, .fini = leak_check);

static char err[256];

/* --- the IEEE profiles -------------------------------------------------------- */

Test(loadprofile, ieee_timestamps_mark_the_end_of_their_minute)
{
	static double kw[GF_LOADPROFILE_MINUTES];

	cr_assert_eq(gf_loadprofile_load(PROFILES "/Load_profile_1.csv", kw, err, sizeof(err)),
	             GF_OK, "%s", err);
	/* Row 1, "00:01:00", is minute 0; rows 48 and 49 ("00:48", "00:49") are
	 * the last 0.036 and the first 0.192 kW. */
	cr_assert_float_eq(kw[0], 0.036, 1e-12);
	cr_assert_float_eq(kw[47], 0.036, 1e-12);
	cr_assert_float_eq(kw[48], 0.192, 1e-12);

	/* Profile 7's last row, "2000-01-02 00:00:00" (0.210), is minute 1439;
	 * the row before it (23:59, 0.049) is minute 1438. */
	cr_assert_eq(gf_loadprofile_load(PROFILES "/Load_profile_7.csv", kw, err, sizeof(err)),
	             GF_OK, "%s", err);
	cr_assert_float_eq(kw[1439], 0.210, 1e-12);
	cr_assert_float_eq(kw[1438], 0.049, 1e-12);
}

Test(loadprofile, minutes_to_intervals)
{
	static double kw[GF_LOADPROFILE_MINUTES];
	double kwh[GF_LOADPROFILE_INTERVALS];

	/* 6 kW in minute 14 only: 0.1 kWh in interval 0; 4 kW through minutes
	 * 15..29: 1 kWh in interval 1; 60 kW in minute 1439: 1 kWh in interval 95. */
	kw[14] = 6;
	for (int m = 15; m < 30; m++)
		kw[m] = 4;
	kw[1439] = 60;
	gf_loadprofile_to_intervals(kw, kwh);
	cr_assert_float_eq(kwh[0], 0.1, 1e-12);
	cr_assert_float_eq(kwh[1], 1.0, 1e-12);
	cr_assert_float_eq(kwh[2], 0.0, 1e-12);
	cr_assert_float_eq(kwh[95], 1.0, 1e-12);

	/* Profile 1's first 15 minutes are 0.036 kW: 15 * 0.036 / 60 = 0.009 kWh. */
	cr_assert_eq(gf_loadprofile_load(PROFILES "/Load_profile_1.csv", kw, err, sizeof(err)),
	             GF_OK, "%s", err);
	gf_loadprofile_to_intervals(kw, kwh);
	cr_assert_float_eq(kwh[0], 0.009, 1e-12);
}

Test(loadprofile, sum)
{
	const double series[2 * 3] = {1, 2, 3, 10, 20, 30};
	double sum[3] = {-1, -1, -1};

	gf_loadprofile_sum(series, 2, 3, sum);
	cr_assert_float_eq(sum[0], 11, 1e-12);
	cr_assert_float_eq(sum[1], 22, 1e-12);
	cr_assert_float_eq(sum[2], 33, 1e-12);
	gf_loadprofile_sum(series, 0, 3, sum);
	cr_assert_float_eq(sum[2], 0, 1e-12);
}

/* The feeder's day: the 55 households summed into 96 transformer intervals. */
static void feeder_day(double kwh[GF_LOADPROFILE_INTERVALS])
{
	double *kw = malloc(GF_LOADPROFILE_FEEDER * GF_LOADPROFILE_MINUTES * sizeof(double));
	double *per = malloc(GF_LOADPROFILE_FEEDER * GF_LOADPROFILE_INTERVALS * sizeof(double));

	cr_assert_not_null(kw);
	cr_assert_not_null(per);
	cr_assert_eq(gf_loadprofile_load_dir(PROFILES, GF_LOADPROFILE_FEEDER, kw, err, sizeof(err)),
	             GF_OK, "%s", err);
	for (size_t i = 0; i < GF_LOADPROFILE_FEEDER; i++)
		gf_loadprofile_to_intervals(kw + i * GF_LOADPROFILE_MINUTES,
		                            per + i * GF_LOADPROFILE_INTERVALS);
	gf_loadprofile_sum(per, GF_LOADPROFILE_FEEDER, GF_LOADPROFILE_INTERVALS, kwh);
	free(per);
	free(kw);
}

/* The OpenDSS transformer secondary: -(P1 + P2 + P3) kW per minute, as the
 * loads' energy in kWh per day (negative P = power to the loads). */
static double reference_kwh(double *peak_kwh, int *peak_interval)
{
	FILE *f = fopen(IEEE "reference/opendss-transformer-secondary-powers-24h.csv", "r");
	char line[256];
	double total = 0, interval = 0;
	int rows = 0;

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof(line), f)); /* header */
	*peak_kwh = 0;
	while (fgets(line, sizeof(line), f)) {
		double p1, p2, p3, q1, q2, q3;
		int hour, t;

		cr_assert_eq(sscanf(line, "%d,%d,%lf,%lf,%lf,%lf,%lf,%lf", &hour, &t, &p1, &q1, &p2,
		                    &q2, &p3, &q3),
		             8, "line %d: %s", rows + 2, line);
		interval += -(p1 + p2 + p3) / 60;
		if (++rows % 15 == 0) {
			if (interval > *peak_kwh) {
				*peak_kwh = interval;
				*peak_interval = rows / 15 - 1;
			}
			total += interval;
			interval = 0;
		}
	}
	fclose(f);
	cr_assert_eq(rows, GF_LOADPROFILE_MINUTES);
	return total;
}

/*
 * The feeder against the OpenDSS reference (numbers computed independently
 * with awk over the CSV files):
 *  - the 55 profiles sum to 455.772 kWh in the day; the transformer secondary
 *    delivers 488.386 kWh, so the loads are 93.32 % of it and 32.61 kWh
 *    (6.7 %) is lost on the way. The reference is not the profiles plus
 *    non-negative losses minute by minute (in minutes 1-9 it is 0.1-0.3 kW
 *    BELOW the loads' sum, at the 54.66 kW peak minute 4.7 kW above), so only
 *    the daily ratio is checked, to within +-1.2 points;
 *  - the busiest 15-minute interval of the loads is 73 (18:15-18:30) with
 *    10.08635 kWh; the reference's is the one before it, 72 (10.2321 kWh).
 */
Test(loadprofile, feeder_against_opendss_reference)
{
	double kwh[GF_LOADPROFILE_INTERVALS], total = 0, peak = 0, ref_peak = 0, ref;
	int at = -1, ref_at = -1;

	feeder_day(kwh);
	for (int i = 0; i < GF_LOADPROFILE_INTERVALS; i++) {
		total += kwh[i];
		if (kwh[i] > peak) {
			peak = kwh[i];
			at = i;
		}
	}
	cr_assert_float_eq(total, 455.7721, 5e-4);
	cr_assert_eq(at, 73);
	cr_assert_float_eq(peak, 10.0863, 5e-4);

	ref = reference_kwh(&ref_peak, &ref_at);
	cr_assert_float_eq(ref, 488.3855, 5e-4);
	cr_assert_eq(ref_at, 72);
	cr_assert(total / ref > 0.921 && total / ref < 0.945, "loads / reference = %.4f",
	          total / ref);
	cr_assert(fabs(peak - ref_peak) / ref_peak < 0.03);
}

Test(loadprofile, minute_of_day_form_with_header_comments_crlf_any_order)
{
	static char text[64 * GF_LOADPROFILE_MINUTES];
	static double kw[GF_LOADPROFILE_MINUTES];
	size_t len = 0;

	len += (size_t)sprintf(text + len, "# a profile\r\nminute_of_day , kW\r\n\r\n");
	for (int m = GF_LOADPROFILE_MINUTES - 1; m >= 0; m--)
		len += (size_t)sprintf(text + len, " %d ,\t%+.3f\r\n", m, m / 1000.0);
	cr_assert_eq(gf_loadprofile_parse("t", text, len, kw, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_float_eq(kw[0], 0, 1e-12);
	cr_assert_float_eq(kw[1439], 1.439, 1e-12);
	cr_assert_float_eq(kw[700], 0.7, 1e-12);
}

/* A full, valid minute-of-day profile with line `bad` (1-based, after the
 * header) replaced. */
static size_t profile_with(char *text, size_t size, int bad_line, const char *bad)
{
	size_t len = (size_t)snprintf(text, size, "minute,kW\n");

	for (int m = 0; m < GF_LOADPROFILE_MINUTES; m++) {
		if (m + 2 == bad_line)
			len += (size_t)snprintf(text + len, size - len, "%s\n", bad);
		else
			len += (size_t)snprintf(text + len, size - len, "%d,1.5\n", m);
	}
	return len;
}

struct bad_case {
	int line;         /* line replaced; 0 = the text is used alone */
	const char *text; /* the line, or the whole text */
	enum gf_err rc;
	const char *error; /* expected error message */
};

static const struct bad_case bad_profiles[] = {
    {0, "", GF_EPARSE, "t:0: minute 0 (00:00) missing"},
    {0, "minute,kW\n# only a header\n", GF_EPARSE, "t:2: minute 0 (00:00) missing"},
    {5, "0,2", GF_EPARSE, "t:5: minute 0 (00:00) already given on line 2"},
    {5, "3,abc", GF_EPARSE, "t:5: expected a number, not 'abc'"},
    {5, "3,inf", GF_EPARSE, "t:5: expected a number, not 'inf'"},
    {5, "3,nan", GF_EPARSE, "t:5: expected a number, not 'nan'"},
    {5, "3,0x10", GF_EPARSE, "t:5: expected a number, not '0x10'"},
    {5, "3,1.5.2", GF_EPARSE, "t:5: expected a number, not '1.5.2'"},
    {5, "3,", GF_EPARSE, "t:5: expected a number, not ''"},
    {5, "3,1e300", GF_ERANGE, "t:5: value 1e300 beyond +-1e+09"},
    {5, "1440,1", GF_EPARSE, "t:5: minute 1440 outside 0..1439"},
    {5, "-1,1", GF_EPARSE, "t:5: minute -1 outside 0..1439"},
    {5, "2000-01-01 00:04:30 EST,1", GF_EPARSE,
     "t:5: seconds of '2000-01-01 00:04:30 EST' are not 00"},
    {5, "2000-13-01 00:04:00 EST,1", GF_EPARSE,
     "t:5: expected YYYY-MM-DD HH:MM:SS or a minute of day, not '2000-13-01 00:04:00 EST'"},
    {5, "2000-01-01T00:04:00Z,1", GF_EPARSE,
     "t:5: expected YYYY-MM-DD HH:MM:SS or a minute of day, not '2000-01-01T00:04:00Z'"},
    {5, "minute,kW", GF_EPARSE,
     "t:5: expected YYYY-MM-DD HH:MM:SS or a minute of day, not 'minute'"},
    {5, "3;1.5", GF_EPARSE, "t:5: expected <time>,<value>"},
    {5, "3,1.5,2", GF_EPARSE, "t:5: more than two fields"},
    {5, "3,1\x1b[2J", GF_EPARSE, "t:5: expected a number, not '1?[2J'"},
    {5, "3,00000000000000000000000000000000000000000000000000000000000000001", GF_EPARSE,
     "t:5: field longer than 64 bytes"},
};

Test(loadprofile, malformed_profiles_name_the_line)
{
	static char text[64 * GF_LOADPROFILE_MINUTES];
	static double kw[GF_LOADPROFILE_MINUTES];

	for (size_t i = 0; i < sizeof(bad_profiles) / sizeof(bad_profiles[0]); i++) {
		const struct bad_case *b = &bad_profiles[i];
		size_t len = b->line ? profile_with(text, sizeof(text), b->line, b->text)
		                     : (size_t)snprintf(text, sizeof(text), "%s", b->text);

		kw[0] = -7;
		err[0] = '\0';
		cr_assert_eq(gf_loadprofile_parse("t", text, len, kw, err, sizeof(err)), b->rc,
		             "case %zu: %s", i, err);
		cr_assert_str_eq(err, b->error, "case %zu", i);
		cr_assert_float_eq(kw[0], -7, 0, "case %zu: output touched", i);
	}
}

Test(loadprofile, nul_byte_and_missing_last_minute)
{
	static char text[64 * GF_LOADPROFILE_MINUTES];
	static double kw[GF_LOADPROFILE_MINUTES];
	size_t len = profile_with(text, sizeof(text), 0, NULL);

	cr_assert_eq(gf_loadprofile_parse("t", text, len, kw, err, sizeof(err)), GF_OK, "%s", err);
	text[len - 3] = '\0'; /* in "1439,1.5\n" */
	cr_assert_eq(gf_loadprofile_parse("t", text, len, kw, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "t:1441: NUL byte in line");
	/* Without its last line, minute 1439 is missing (reported after line 1440). */
	len -= strlen("1439,1.5\n");
	cr_assert_eq(gf_loadprofile_parse("t", text, len, kw, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "t:1440: minute 1439 (23:59) missing");
}

Test(loadprofile, errors_fit_a_small_buffer)
{
	char small[8];
	static double kw[GF_LOADPROFILE_MINUTES];

	cr_assert_eq(gf_loadprofile_parse("t", "x;", 2, kw, small, sizeof(small)), GF_EPARSE);
	cr_assert_str_eq(small, "t:1: ex");
	cr_assert_eq(gf_loadprofile_parse("t", "x;", 2, kw, NULL, 0), GF_EPARSE);
}

Test(loadprofile, unreadable_files)
{
	double *kw = calloc(56 * GF_LOADPROFILE_MINUTES, sizeof(double));

	cr_assert_not_null(kw);
	cr_assert_eq(gf_loadprofile_load(PROFILES "/nope.csv", kw, err, sizeof(err)), GF_EIO);
	cr_assert_str_eq(err, PROFILES "/nope.csv: No such file or directory");

	/* The feeder has 55 households: the 56th file fails, and nothing of the
	 * first 55 reaches kw. */
	cr_assert_eq(gf_loadprofile_load_dir(PROFILES, 56, kw, err, sizeof(err)), GF_EIO);
	cr_assert_str_eq(err, PROFILES "/Load_profile_56.csv: No such file or directory");
	cr_assert_float_eq(kw[0], 0, 0);

	/* A file with a bad line: the error names the file and the line. */
	cr_assert_eq(gf_loadprofile_load(IEEE "network/Loads.csv", kw, err, sizeof(err)),
	             GF_EPARSE);
	cr_assert(strstr(err, "network/Loads.csv:3: more than two fields"), "%s", err);
	free(kw);
}

/* --- forecasts --------------------------------------------------------------- */

Test(forecast, rfc3339_intervals)
{
	const char text[] = "# feeder TR1, kWh per interval\n"
	                    "interval_start,kWh\n"
	                    "2026-11-26T18:00:00Z,9.5\n"
	                    "2026-11-26T18:15:00.000+0000, 10.25\r\n"
	                    "2026-11-26T19:30:00+01:00,-1\n";
	struct gf_forecast f = {0};
	int64_t ms;

	cr_assert_eq(gf_forecast_parse("f", text, sizeof(text) - 1, &f, err, sizeof(err)), GF_OK,
	             "%s", err);
	cr_assert_eq(gf_time_parse("2026-11-26T18:00:00Z", 20, &ms), GF_OK);
	cr_assert_eq(f.start, ms / 900000);
	cr_assert_eq(f.start, 1995240); /* 1 795 716 000 s / 900 */
	cr_assert_eq(f.n, 3);
	cr_assert_float_eq(f.kwh[0], 9.5, 1e-12);
	cr_assert_float_eq(f.kwh[1], 10.25, 1e-12);
	cr_assert_float_eq(f.kwh[2], -1, 1e-12);
	gf_forecast_free(&f);
	cr_assert_null(f.kwh);
	gf_forecast_free(&f);
	gf_forecast_free(NULL);
}

Test(forecast, interval_numbers_and_growth)
{
	static char text[32 * 1000];
	struct gf_forecast f = {0};
	size_t len = 0;

	for (int i = 0; i < 1000; i++)
		len += (size_t)sprintf(text + len, "%d,%d\n", -500 + i, i);
	cr_assert_eq(gf_forecast_parse("f", text, len, &f, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(f.start, -500);
	cr_assert_eq(f.n, 1000);
	cr_assert_float_eq(f.kwh[999], 999, 1e-12);
	gf_forecast_free(&f);
}

static const struct bad_case bad_forecasts[] = {
    {0, "", GF_EPARSE, "f:0: no data rows"},
    {0, "start,kWh\n", GF_EPARSE, "f:1: no data rows"},
    {0, "10,1\n11,1\n13,1\n", GF_EPARSE, "f:3: 13 is not the interval after the previous row's"},
    {0, "10,1\n10,1\n", GF_EPARSE, "f:2: 10 is not the interval after the previous row's"},
    {0, "2026-11-26T18:05:00Z,1\n", GF_EPARSE,
     "f:1: 2026-11-26T18:05:00Z is not the start of a 900 s interval"},
    {0, "2026-11-26 18:00:00,1\n", GF_EPARSE,
     "f:1: expected an RFC 3339 time or an interval number, not '2026-11-26 18:00:00'"},
    {0, "2026-11-26T18:00:00,1\n", GF_EPARSE,
     "f:1: expected an RFC 3339 time or an interval number, not '2026-11-26T18:00:00'"},
    {0, "10,1\nkWh,1\n", GF_EPARSE,
     "f:2: expected an RFC 3339 time or an interval number, not 'kWh'"},
    {0, "999999999999,1\n", GF_ERANGE, "f:1: interval 999999999999 outside years 0000-9999"},
    {0, "10,nan\n", GF_EPARSE, "f:1: expected a number, not 'nan'"},
    {0, "10,1\n11,-2e9\n", GF_ERANGE, "f:2: value -2e9 beyond +-1e+09"},
};

Test(forecast, malformed_forecasts_name_the_line)
{
	for (size_t i = 0; i < sizeof(bad_forecasts) / sizeof(bad_forecasts[0]); i++) {
		const struct bad_case *b = &bad_forecasts[i];
		struct gf_forecast f = {42, 7, NULL};

		err[0] = '\0';
		cr_assert_eq(gf_forecast_parse("f", b->text, strlen(b->text), &f, err, sizeof(err)),
		             b->rc, "case %zu: %s", i, err);
		cr_assert_str_eq(err, b->error, "case %zu", i);
		cr_assert(f.start == 42 && f.n == 7 && !f.kwh, "case %zu: output touched", i);
	}
}

Test(forecast, at_most_a_year)
{
	size_t size = 24 * (GF_FORECAST_MAX + 1), len = 0;
	char *text = malloc(size);
	struct gf_forecast f = {0};

	cr_assert_not_null(text);
	for (int i = 0; i <= GF_FORECAST_MAX; i++)
		len += (size_t)snprintf(text + len, size - len, "%d,0.5\n", i);
	cr_assert_eq(gf_forecast_parse("f", text, len, &f, err, sizeof(err)), GF_ETOOLONG);
	cr_assert_str_eq(err, "f:35137: more than 35136 intervals");
	cr_assert_null(f.kwh);
	/* One row fewer is fine. */
	len -= strlen("35136,0.5\n");
	cr_assert_eq(gf_forecast_parse("f", text, len, &f, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(f.n, GF_FORECAST_MAX);
	gf_forecast_free(&f);
	free(text);
}

Test(forecast, load_file)
{
	char path[] = "/tmp/gf-forecast-test-XXXXXX";
	struct gf_forecast f = {0};
	FILE *out;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	out = fdopen(fd, "w");
	cr_assert_not_null(out);
	fputs("interval,kWh\n100,1\n101,2\n", out);
	fclose(out);
	cr_assert_eq(gf_forecast_load(path, &f, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(f.start, 100);
	cr_assert_eq(f.n, 2);
	gf_forecast_free(&f);
	unlink(path);
	cr_assert_eq(gf_forecast_load(path, &f, err, sizeof(err)), GF_EIO);
	cr_assert(strstr(err, "No such file"), "%s", err);
}
