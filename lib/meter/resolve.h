/* SPDX-License-Identifier: MIT */
/*
 * resolve.h - which UTC instant a local meter time means, when DST makes it
 * ambiguous (tz.h gives 0, 1 or 2 candidates).
 *
 *   - 0 candidates (spring-forward gap): the time does not exist; the
 *     reading is quarantined.
 *   - 2 candidates (fall-back fold): a cumulative register only grows, so
 *     the meter's previous reading (time tp, value vp, in the order the
 *     DMS wrote them) decides: a candidate is consistent when it is after
 *     tp and the value is at least vp; the earliest consistent one is
 *     taken. No previous reading, no consistent candidate, or readings of
 *     energy per interval (which have no order): quarantined.
 *
 * The rule assumes the DMS reads a meter at least once per fold (an hour in
 * Europe): a read after 02:50 first-occurrence time whose local time is
 * 03:10 is taken as the first 03:10, even if the meter was read 80 minutes
 * later (the second one); both are consistent and nothing tells them apart.
 */
#ifndef GF_RESOLVE_H
#define GF_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gf_resolve_kind { GF_RESOLVE_REGISTER, GF_RESOLVE_INTERVAL };

/* The meter's previous reading (have false: none known). */
struct gf_resolve_prev {
	bool have;
	int64_t t; /* epoch seconds */
	double v;
};

/*
 * Picks the instant of a reading of value v from the n (0..2) candidates
 * cand (ascending epoch seconds, as gf_tz_to_utc() returns them) into *t.
 * One candidate is taken as it is. Returns NULL when it did, else a static
 * reason for the quarantine (*t untouched): "local time does not exist (DST
 * gap)", "local time is not valid" (n -1, gf_tz_to_utc()'s bad fields, or
 * above 2), "ambiguous local time (DST fold) ..." followed by "of energy per
 * interval", "with no previous reading", "and the register went down"
 * (also for a NaN v) or "not after the previous reading". prev may be NULL.
 */
const char *gf_resolve_time(enum gf_resolve_kind kind, const int64_t *cand, int n,
                            const struct gf_resolve_prev *prev, double v, int64_t *t);

#endif
