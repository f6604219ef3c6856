/* SPDX-License-Identifier: MIT */
#include "meter/resolve.h"

const char *gf_resolve_time(enum gf_resolve_kind kind, const int64_t *cand, int n,
                            const struct gf_resolve_prev *prev, double v, int64_t *t)
{
	if (n == 1) {
		*t = cand[0];
		return NULL;
	}
	if (n == 0)
		return "local time does not exist (DST gap)";
	if (n != 2)
		return "local time is not valid";
	/* Energy per interval has no order to go by: a period's energy may
	 * be anything, before or after. */
	if (kind != GF_RESOLVE_REGISTER)
		return "ambiguous local time (DST fold) of energy per interval";
	if (prev == NULL || !prev->have)
		return "ambiguous local time (DST fold) with no previous reading";
	/* A register only grows, in the order the DMS wrote its reads: the
	 * earliest instant after the previous read, not below its value. v
	 * NaN compares false and so is never consistent. */
	for (int i = 0; i < 2; i++) {
		if (cand[i] > prev->t && v >= prev->v) {
			*t = cand[i];
			return NULL;
		}
	}
	if (!(v >= prev->v))
		return "ambiguous local time (DST fold) and the register went down";
	return "ambiguous local time (DST fold) not after the previous reading";
}
