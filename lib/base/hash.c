/* SPDX-License-Identifier: MIT */
#include "base/hash.h"

#include <stdio.h>

uint64_t gf_fnv1a64(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL; /* the FNV 64-bit prime */
	}
	return h;
}

void gf_fnv1a64_hex(const void *data, size_t len, char out[GF_FNV1A64_HEXSIZE])
{
	snprintf(out, GF_FNV1A64_HEXSIZE, "%016llx",
	         (unsigned long long)gf_fnv1a64(GF_FNV1A64_BASIS, data, len));
}
