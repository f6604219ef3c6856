/* SPDX-License-Identifier: MIT */
/*
 * tz.h - a DMS's local wall-clock time to UTC in an IANA time zone
 * (Europe/Nicosia, ...), with the two cases DST makes hard: a local time
 * that does not exist (the spring-forward gap) and one that exists twice
 * (the fall-back fold).
 *
 * The zone's rules are glibc's, read from the system's tzdata
 * (/usr/share/zoneinfo): gf_tz_open() sets the process's TZ, the one piece
 * of process-wide state of this module, so a process converts in one zone
 * at a time (gf-anonymizer has one `timezone`).
 */
#ifndef GF_TZ_H
#define GF_TZ_H

#include <stdint.h>

#include "base/err.h"

#define GF_TZ_NAME_MAX 64

/* A broken-down local time. */
struct gf_tz_local {
	int year, month, day; /* 1-based month and day */
	int hour, minute, second;
};

/*
 * Makes name (e.g. "Europe/Nicosia", "UTC") the zone of gf_tz_to_utc:
 * GF_ENOENT if tzdata has no such zone (glibc would silently use UTC),
 * GF_EINVAL for a name with "..", a leading '/' or characters outside
 * [A-Za-z0-9/_+-]. Sets TZ in the environment and calls tzset().
 */
enum gf_err gf_tz_open(const char *name, char *err, size_t errlen);

/*
 * The UTC instants (epoch seconds, ascending) whose local time in the zone
 * is t: returns 1 (the usual case), 2 (a fold: out[0] is the first
 * occurrence, out[1] the second) or 0 (a gap: t does not exist), or -1
 * for fields out of range (month 13, second 61, February 30...).
 */
int gf_tz_to_utc(const struct gf_tz_local *t, int64_t out[2]);

/*
 * Parses "YYYY-MM-DD HH:MM:SS" (also with 'T' between, and without
 * seconds) from s (len bytes) into *t. GF_EPARSE otherwise.
 */
enum gf_err gf_tz_parse_local(const char *s, size_t len, struct gf_tz_local *t);

#endif
