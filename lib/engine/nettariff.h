/* SPDX-License-Identifier: MIT */
/*
 * nettariff.h - the asking tariffs of one unit slice of a FlexOffer with the
 * network's prices of the intervals it may run in (D6.1 7.2.7, F6.8):
 * gf-foa adds the transfer cost of its grid point (docs/foa.md, "Network
 * tariffs"), gf-fman the implicit capacity price (docs/fman.md, "Capacity
 * price"). All prices EUR/kWh. With x_t = T_t + C_t over the n intervals
 * (one of them unknown counts 0; an interval with neither is left out):
 *
 *   maxTariff = max(0, base_max + max_t x_t)     (asked per kWh above the default)
 *   minTariff = max(0, base_min - min_t x_t)     (asked per kWh below the default)
 *   maxTariff = max(maxTariff, minTariff)
 *
 * Pure: no I/O, no global state.
 */
#ifndef GF_NETTARIFF_H
#define GF_NETTARIFF_H

#include <stdbool.h>
#include <stddef.h>

/* The tariffs of a slice that may run in n intervals whose transfer cost
 * and capacity price are given (NaN: not known; either array may be NULL),
 * over the base (NaN: 0) into *tmin and *tmax. False (nothing written)
 * when no interval has either price. */
bool gf_nettariff_slice(double base_min, double base_max, const double *transfer,
                        const double *capacity, size_t n, double *tmin, double *tmax);

#endif
