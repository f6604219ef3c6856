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
 * at a time (gf-anonymizer has one `timezone`). setenv() is not
 * thread-safe: open the zone before other threads start, or while none of
 * them reads the environment or converts times.
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
 * Makes name (e.g. "Europe/Nicosia", "UTC") the zone of gf_tz_to_utc (and
 * of localtime_r() in the whole process): GF_ENOENT if tzdata has no such
 * zone, i.e. no regular file starting with "TZif" (glibc would silently use
 * UTC), GF_EINVAL for a name that is empty, longer than GF_TZ_NAME_MAX, has
 * "..", a leading '/' or characters outside [A-Za-z0-9/_+-]. Sets TZ to
 * ":/usr/share/zoneinfo/<name>" (the very file checked) and calls tzset().
 * On failure the zone in effect stays and err says why.
 */
enum gf_err gf_tz_open(const char *name, char *err, size_t errlen);

/*
 * The UTC instants (epoch seconds, ascending) whose local time in the zone
 * of the last gf_tz_open() is t: returns 1 (the usual case), 2 (a fold:
 * out[0] is the first occurrence, out[1] the second) or 0 (a gap: t does
 * not exist), or -1 for fields out of range (year outside 1..9999, month
 * 13, hour 24, second 60 (no leap seconds, as timefmt.h), February 29 of a
 * common year...). Only out[0..return) is written. About a dozen
 * localtime_r() calls: the zone's offsets two days either side, each kept
 * when its instant's local time is t.
 */
int gf_tz_to_utc(const struct gf_tz_local *t, int64_t out[2]);

/*
 * Parses "YYYY-MM-DD HH:MM:SS" (also with 'T' between, and without
 * seconds) from s (exactly len bytes, no NUL needed) into *t, with the
 * fields checked as gf_tz_to_utc() does. GF_EPARSE otherwise (no fraction,
 * no offset, no blanks), *t untouched.
 */
enum gf_err gf_tz_parse_local(const char *s, size_t len, struct gf_tz_local *t);

#endif
