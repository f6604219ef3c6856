/* SPDX-License-Identifier: MIT */
/*
 * loadprofile.h - household load profiles and grid-point load forecasts read
 * from CSV files (issue 5 items 5 and 6; docs/doms.md states the formats).
 *
 * Two formats, both "<time>,<value>" lines; '#' starts a comment line, blank
 * lines are skipped, a first line whose first field starts with a letter is a
 * header, CRLF is accepted, fields may be padded with blanks. Values are
 * finite decimal numbers ("+0.036000", "1e-3"; no inf, nan or hex) with
 * |value| <= GF_LOADPROFILE_VALUE_MAX.
 *
 *  - Load profile (the IEEE European LV feeder's Load_profile_N.csv): one day
 *    of kW at one-minute resolution, 1440 rows. The time is either the IEEE
 *    timestamp "YYYY-MM-DD HH:MM:SS[ ZONE]", read as minute of day and marking
 *    the END of its minute (the first row, 00:01:00, is minute 0, 00:00 to
 *    00:01; the last, 00:00:00 of the next day, is minute 1439, as OpenDSS
 *    reads the shape), or a minute of day 0..1439 marking its START. Each
 *    minute must appear exactly once, in any order; the date and zone are
 *    ignored (the README calls the "EST" label an artefact).
 *  - Forecast: energy per 900 s interval in kWh (consumption positive), one
 *    row per interval, consecutive and in order. The time is the interval's
 *    start in RFC 3339 (lib/base/timefmt.h, a multiple of 900 s) or its interval
 *    number, floor(epoch_seconds / 900) (SPEC section 6).
 *
 * Errors are "<name>:<line>: <what>" in the caller's err buffer (truncated to
 * errlen); outputs are untouched on failure. No global state.
 */
#ifndef GF_LOADPROFILE_H
#define GF_LOADPROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GF_LOADPROFILE_MINUTES   1440       /* rows of one day's profile */
#define GF_LOADPROFILE_INTERVALS 96         /* 900 s intervals per day */
#define GF_LOADPROFILE_FEEDER    55         /* households of the IEEE feeder */
#define GF_LOADPROFILE_VALUE_MAX 1e9        /* largest |kW| or |kWh| accepted */
#define GF_LOADPROFILE_FILE_MAX  (4 << 20)  /* largest file read, bytes */
#define GF_FORECAST_MAX          (366 * 96) /* most intervals of one forecast */

/*
 * Parses the len bytes at text (no NUL needed) as a load profile into kw[m],
 * kW in minute m of the day. name prefixes error messages. GF_EPARSE for a
 * malformed line, a repeated or missing minute; GF_ERANGE for a value beyond
 * GF_LOADPROFILE_VALUE_MAX. Never allocates.
 */
enum gf_err gf_loadprofile_parse(const char *name, const char *text, size_t len,
                                 double kw[GF_LOADPROFILE_MINUTES], char *err, size_t errlen);

/* Reads the file at path (at most GF_LOADPROFILE_FILE_MAX bytes) and parses
 * it as above; GF_EIO (err naming the path) if it cannot be read. */
enum gf_err gf_loadprofile_load(const char *path, double kw[GF_LOADPROFILE_MINUTES], char *err,
                                size_t errlen);

/*
 * Reads <dir>/Load_profile_1.csv .. <dir>/Load_profile_<n>.csv into kw, which
 * holds n * GF_LOADPROFILE_MINUTES values: household i (0-based, file i + 1)
 * at kw[i * GF_LOADPROFILE_MINUTES + m]. Errors as gf_loadprofile_load, the
 * first failing file's; GF_ETOOLONG if a path exceeds 4095 bytes. kw is
 * untouched on failure.
 */
enum gf_err gf_loadprofile_load_dir(const char *dir, size_t n, double *kw, char *err,
                                    size_t errlen);

/* One day's minute kW to 15-minute kWh: kwh[i] = (sum of kw[15 i .. 15 i + 14]) / 60. */
void gf_loadprofile_to_intervals(const double kw[GF_LOADPROFILE_MINUTES],
                                 double kwh[GF_LOADPROFILE_INTERVALS]);

/*
 * Sums n series of len values each, stored one after another in series
 * (series[i * len + t]), into sum[t]: the households of a feeder into the
 * transformer's series. n == 0 gives zeros.
 */
void gf_loadprofile_sum(const double *series, size_t n, size_t len, double *sum);

/* A forecast: n values, kWh in interval start + t (interval numbers). */
struct gf_forecast {
	int64_t start;
	size_t n;
	double *kwh; /* owned; gf_forecast_free releases it */
};

/*
 * Parses a forecast CSV (len bytes at text) into *out, allocating out->kwh
 * (the caller frees it with gf_forecast_free). GF_EPARSE for a malformed or
 * out-of-sequence line or a file without rows, GF_ERANGE for a value or time
 * out of range, GF_ETOOLONG beyond GF_FORECAST_MAX rows, GF_ENOMEM.
 */
enum gf_err gf_forecast_parse(const char *name, const char *text, size_t len,
                              struct gf_forecast *out, char *err, size_t errlen);

/* Reads the file at path and parses it as gf_forecast_parse; GF_EIO if it
 * cannot be read. */
enum gf_err gf_forecast_load(const char *path, struct gf_forecast *out, char *err, size_t errlen);

/* Frees f->kwh and zeroes *f. Accepts NULL and an already freed forecast. */
void gf_forecast_free(struct gf_forecast *f);

#endif
