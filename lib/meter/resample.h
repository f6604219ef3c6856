/* SPDX-License-Identifier: MIT */
/*
 * resample.h - meter readings to energy per interval (meter.query with
 * intervalLength, the DOMS's feeder view, validation of offers).
 *
 *   - A cumulative register (OBIS 1-0:1.8.0, kWh, read at irregular times)
 *     is interpolated linearly between reads at each interval boundary;
 *     the energy of an interval is the difference at its two ends. An
 *     interval with a boundary before the first read or after the last is
 *     missing (NAN): no extrapolation.
 *   - Energy per interval (OBIS 1-0:1.29.0, the value of the period that
 *     ends at the reading's time, as a load profile records it) is summed
 *     into the interval that holds the end of its period; an interval no
 *     reading falls in is missing (NAN).
 *
 * Both take O(n + count) time and no memory of their own, and leave out
 * untouched on failure.
 */
#ifndef GF_RESAMPLE_H
#define GF_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GF_OBIS_REGISTER "1-0:1.8.0"
#define GF_OBIS_INTERVAL "1-0:1.29.0"

struct gf_resample_point {
	int64_t t_ms; /* epoch milliseconds */
	double v;
};

/*
 * Register reads p[0..n) (ascending t_ms; equal times: the last counts) to
 * the energy of count intervals of len_ms starting at from_ms, into
 * out[0..count). GF_EINVAL for unsorted input, a value that is not finite,
 * len_ms <= 0 or from_ms + count * len_ms beyond int64_t; GF_ERANGE when
 * the register decreases between two reads (a meter exchange or a wrong
 * reading: the caller says which meter). Gaps between reads are
 * interpolated across, however long.
 */
enum gf_err gf_resample_register(const struct gf_resample_point *p, size_t n, int64_t from_ms,
                                 int64_t len_ms, size_t count, double *out);

/*
 * Interval energies p[0..n) (any order) summed per interval as above:
 * a reading at t belongs to the interval (start, start + len_ms], i.e.
 * the one whose end is the first boundary at or after t; readings outside
 * the count intervals are left out. GF_EINVAL for len_ms <= 0, a value
 * that is not finite or from_ms + count * len_ms beyond int64_t.
 */
enum gf_err gf_resample_interval(const struct gf_resample_point *p, size_t n, int64_t from_ms,
                                 int64_t len_ms, size_t count, double *out);

#endif
