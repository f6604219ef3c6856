/* SPDX-License-Identifier: MIT */
/*
 * simclock.h - the simulated clock every agent runs on (SPEC section 7).
 *
 * Simulated time runs `scale` times faster than real time from an anchor:
 * at the real (wall-clock) instant `origin_s` the simulated time is
 * `epoch_s`, so
 *
 *     sim(t_real) = epoch_s + (t_real - origin_s) * scale
 *
 * Anchoring to the wall clock, not to each process's start, keeps every
 * agent of a site on the same simulated time when they are given the same
 * epoch, origin and scale (make demo passes all three). scale 1 with epoch =
 * origin is real time. Times are seconds since the Unix epoch (UTC), as
 * doubles so a scaled clock keeps sub-second resolution.
 */
#ifndef GF_SIMCLOCK_H
#define GF_SIMCLOCK_H

#include <stdint.h>

#include "base/err.h"

#define GF_INTERVAL_S 900 /* one market interval (SPEC section 6) */

struct gf_simclock {
	double epoch_s;  /* simulated time at origin_s */
	double origin_s; /* real wall-clock anchor */
	double scale;    /* simulated seconds per real second, > 0 */
};

/* Sets *c. GF_EINVAL when scale is not a finite number > 0 or a time is not
 * finite; *c untouched then. */
enum gf_err gf_simclock_init(struct gf_simclock *c, double epoch_s, double origin_s, double scale);

/* The real wall-clock time now (CLOCK_REALTIME), seconds since the epoch. */
double gf_simclock_real_now(void);

/* Simulated time at real time real_s. */
double gf_simclock_at(const struct gf_simclock *c, double real_s);

/* Simulated time now. */
double gf_simclock_now(const struct gf_simclock *c);

/* Real time at which the simulated clock reads sim_s. */
double gf_simclock_real_at(const struct gf_simclock *c, double sim_s);

/* Real milliseconds from now until the simulated clock reads sim_s (0 when
 * it already has), rounded up, capped at INT32_MAX. */
int64_t gf_simclock_ms_until(const struct gf_simclock *c, double sim_s);

/* The interval number of simulated time sim_s: floor(sim_s / 900). */
int64_t gf_simclock_interval(double sim_s);

#endif
