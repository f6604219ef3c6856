/* SPDX-License-Identifier: MIT */
/*
 * javarand.h - java.util.Random, bit for bit.
 *
 * The FlexOffer benchmark workload (issue 4) is defined by the draws of
 * Java's java.util.Random; this module reproduces its 48-bit linear
 * congruential generator exactly so that our workload and the GOFLEX
 * reference's are the same offers. Not for cryptography.
 */
#ifndef GF_JAVARAND_H
#define GF_JAVARAND_H

#include <stdint.h>

#include "base/err.h"

/* State of one generator: the 48-bit LCG seed. Plain value, no resources. */
struct gf_javarand {
	uint64_t seed;
};

/* Seeds r as `new Random(seed)` does: (seed ^ 0x5DEECE66D) mod 2^48. */
void gf_javarand_init(struct gf_javarand *r, int64_t seed);

/* next(bits): advances the LCG and returns its top `bits` bits (1..32),
 * as Java's signed int (next(32) may be negative). */
int32_t gf_javarand_next(struct gf_javarand *r, int bits);

/* nextInt(): a full 32-bit signed value, next(32). */
int32_t gf_javarand_next_int(struct gf_javarand *r);

/* nextInt(bound): uniform in [0, bound). Java throws for bound <= 0; here
 * GF_EINVAL is returned and neither *out nor the state change. */
enum gf_err gf_javarand_next_int_bounded(struct gf_javarand *r, int32_t bound, int32_t *out);

/* nextDouble(): ((next(26) << 27) + next(27)) * 2^-53, in [0, 1). */
double gf_javarand_next_double(struct gf_javarand *r);

#endif
