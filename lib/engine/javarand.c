/* SPDX-License-Identifier: MIT */
/*
 * javarand.c - java.util.Random's 48-bit LCG (see javarand.h).
 */
#include "engine/javarand.h"

#define GF_JAVARAND_MULT UINT64_C(0x5DEECE66D)
#define GF_JAVARAND_ADD  UINT64_C(0xB)
#define GF_JAVARAND_MASK ((UINT64_C(1) << 48) - 1)

void gf_javarand_init(struct gf_javarand *r, int64_t seed)
{
	r->seed = ((uint64_t)seed ^ GF_JAVARAND_MULT) & GF_JAVARAND_MASK;
}

int32_t gf_javarand_next(struct gf_javarand *r, int bits)
{
	r->seed = (r->seed * GF_JAVARAND_MULT + GF_JAVARAND_ADD) & GF_JAVARAND_MASK;
	/* Java returns (int)(seed >>> (48 - bits)): keep the low 32 bits and
	 * reinterpret them as two's complement, which C does not promise for
	 * an out-of-range conversion, so go through the explicit arithmetic. */
	uint32_t u = (uint32_t)(r->seed >> (48 - bits));
	return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) + INT32_MIN;
}

int32_t gf_javarand_next_int(struct gf_javarand *r)
{
	return gf_javarand_next(r, 32);
}

enum gf_err gf_javarand_next_int_bounded(struct gf_javarand *r, int32_t bound, int32_t *out)
{
	if (bound <= 0)
		return GF_EINVAL;
	if ((bound & -bound) == bound) {
		/* Power of two: the high bits are the better ones in an LCG. */
		*out = (int32_t)(((int64_t)bound * gf_javarand_next(r, 31)) >> 31);
		return GF_OK;
	}
	int32_t bits, val;
	/* Reject the incomplete top range so every residue is equally likely;
	 * Java tests bits - val + (bound - 1) < 0 in 32-bit overflow, which
	 * is the same as the sum reaching 2^31. */
	do {
		bits = gf_javarand_next(r, 31);
		val = bits % bound;
	} while ((int64_t)bits - val + (bound - 1) >= (int64_t)1 << 31);
	*out = val;
	return GF_OK;
}

double gf_javarand_next_double(struct gf_javarand *r)
{
	int64_t hi = gf_javarand_next(r, 26);
	int64_t lo = gf_javarand_next(r, 27);
	return (double)((hi << 27) + lo) * 0x1.0p-53;
}
