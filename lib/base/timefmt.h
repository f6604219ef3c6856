/* SPDX-License-Identifier: MIT */
/*
 * timefmt.h - the bus's one time format (SPEC section 6): RFC 3339 in UTC,
 * held in memory as milliseconds since the Unix epoch.
 *
 * Accepted on input: YYYY-MM-DDTHH:MM:SS[.fraction](Z | +HH:MM | +HHMM),
 * 'T' and 'Z' in either case, any offset from -23:59 to +23:59 (converted to
 * UTC), so the GOFLEX form 2020-02-27T20:30:00.000+0000 parses. Fractions
 * finer than a millisecond are truncated toward the past. Refused: a space
 * for 'T', a missing offset (local time), impossible dates (02-30), and leap
 * seconds (:60), which epoch milliseconds cannot represent and which POSIX
 * clocks never produce.
 *
 * The canonical output is YYYY-MM-DDTHH:MM:SSZ, with .sss only when the
 * milliseconds are not zero. Years 0000 to 9999 only.
 */
#ifndef GF_TIMEFMT_H
#define GF_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Room for the longest canonical time, "YYYY-MM-DDTHH:MM:SS.sssZ", and its NUL. */
#define GF_TIME_BUFSIZE 25

/* Seconds per market interval; interval number = floor(epoch_seconds / 900). */
#define GF_TIME_INTERVAL_S 900

/* The smallest and largest instants of years 0000 to 9999, in epoch milliseconds. */
#define GF_TIME_MIN_MS (-62167219200000LL)
#define GF_TIME_MAX_MS (253402300799999LL)

/*
 * Parses the len bytes at s (no NUL needed) as an RFC 3339 time and stores it
 * in *epoch_ms. GF_EPARSE if the text is not such a time, GF_ERANGE if it is
 * one but falls outside years 0000-9999 once converted to UTC. *epoch_ms is
 * untouched on failure. Never allocates.
 */
enum gf_err gf_time_parse(const char *s, size_t len, int64_t *epoch_ms);

/*
 * Writes the canonical form of epoch_ms, NUL-terminated, into buf.
 * GF_ERANGE outside GF_TIME_MIN_MS..GF_TIME_MAX_MS, GF_ETOOLONG if size is
 * too small (GF_TIME_BUFSIZE always suffices); buf is untouched on failure.
 */
enum gf_err gf_time_format(int64_t epoch_ms, char *buf, size_t size);

/* The market interval number that contains epoch_ms (floor division). */
int64_t gf_time_interval(int64_t epoch_ms);

#endif
