/* SPDX-License-Identifier: MIT */
/*
 * energy.h - stored readings as energy per interval (docs/sp.md,
 * "Intervals"): what meter.query with intervalLength and the subscriptions'
 * meter.data send. The resampling itself is lib/meter/resample.h's:
 *
 *   - a register (OBIS 1-0:1.8.0, cumulative kWh) is interpolated linearly
 *     between reads at each boundary, the interval's energy is the
 *     difference at its two ends;
 *   - interval readings (OBIS 1-0:1.29.0, the energy of the period that
 *     ends at the reading's time) are summed into the interval (s, s + len]
 *     that holds their time.
 *
 * An interval [s, s + len) of a meter is complete when it has a value
 * and the meter has a reading at or after its end s + len (for a
 * register that is what interpolation needs anyway; for interval readings
 * it says that the period is over). Incomplete intervals are NAN.
 *
 * Which readings a meter's energy comes from when the caller names no
 * OBIS code: its register if it has any register reading, else its
 * interval readings.
 */
#ifndef SP_ENERGY_H
#define SP_ENERGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "db.h"

/* Whether obis is one of the two codes that become energy. */
bool sp_energy_obis_ok(const char *obis);

/*
 * The energy of meter in count intervals of len_ms from from_ms into
 * out[0..count), NAN where incomplete, from readings of obis (NULL: as
 * above). GF_EINVAL for an obis that is not energy or len_ms <= 0,
 * GF_ERANGE when the register decreases in the range (a meter exchange or a
 * wrong reading: out untouched), errors of the store.
 */
enum gf_err sp_energy_meter(struct sp_db *db, const char *meter, const char *obis, int64_t from_ms,
                            int64_t len_ms, size_t count, double *out, char *err, size_t errlen);

/*
 * The sum over the n meters of their complete intervals: sum[i] and how
 * many meters had interval i complete, have[i]. A meter whose register
 * decreases in the range is left out of every interval (counted in *bad,
 * which may be NULL). Errors of the store, GF_ENOMEM.
 */
enum gf_err sp_energy_grid(struct sp_db *db, const char *const *meters, size_t n, int64_t from_ms,
                           int64_t len_ms, size_t count, double *sum, uint32_t *have, size_t *bad,
                           char *err, size_t errlen);

/* What happens to one interval of a grid point (docs/sp.md, "Grid
 * points"). */
enum sp_grid_verdict {
	SP_GRID_WAIT, /* not yet: more meters may still report */
	SP_GRID_SEND, /* send the sum */
	SP_GRID_DROP, /* never, unless a later reading changes the count */
};

/*
 * The k_min rule: an interval of a grid point of members meters, have of
 * which are complete, is sent when at least k_min meters are in it and
 * either all members are or its deadline (the interval's end plus
 * grid_wait_s) has passed. Before the deadline with fewer it waits; after
 * the deadline with fewer than k_min it is dropped (a later reading that
 * completes more meters brings it back). A grid point of fewer than k_min
 * members never gives a value.
 */
enum sp_grid_verdict sp_energy_rule(size_t have, size_t members, size_t k_min, bool past_deadline);

/*
 * The intervals of len_ms whose energy a change of meter's readings
 * between from_ms and to_ms (inclusive) can change: from the interval
 * that ends at or after the meter's reading before from_ms to the one that
 * holds its reading after to_ms (from_ms and to_ms themselves when there
 * is none), as [*start, *end), multiples of len_ms. Errors of the store.
 */
enum gf_err sp_energy_affected(struct sp_db *db, const char *meter, int64_t from_ms, int64_t to_ms,
                               int64_t len_ms, int64_t *start, int64_t *end, char *err,
                               size_t errlen);

/* The reading times of meter's energy readings (chosen as above): the
 * first and the last. *found false when it has none. */
enum gf_err sp_energy_span(struct sp_db *db, const char *meter, int64_t *first, int64_t *last,
                           bool *found, char *err, size_t errlen);

/* floor(a / b) * b and ceil(a / b) * b for b > 0, also for a < 0. */
int64_t sp_energy_floor(int64_t a, int64_t b);
int64_t sp_energy_ceil(int64_t a, int64_t b);

#endif
