/* SPDX-License-Identifier: MIT */
/*
 * hash.h - 64-bit FNV-1a, the one non-cryptographic hash of goflex-bus.
 *
 * Used for hash-table slots and for the idempotency keys and checksums the
 * agents persist, so its values must never change: a key stored before an
 * upgrade has to match the same message after it.
 */
#ifndef GF_HASH_H
#define GF_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The standard FNV-1a 64 offset basis: start a hash here. */
#define GF_FNV1A64_BASIS 0xcbf29ce484222325ULL

/* Room for a hash as 16 lower-case hex digits and a NUL. */
#define GF_FNV1A64_HEXSIZE 17

/* Folds the len bytes at data into the hash h and returns it: a whole hash
 * is gf_fnv1a64(GF_FNV1A64_BASIS, data, len); pieces chain through h.
 * data may be NULL when len is 0. */
uint64_t gf_fnv1a64(uint64_t h, const void *data, size_t len);

/* The hash of the len bytes at data from the standard basis, as 16 hex
 * digits into out. */
void gf_fnv1a64_hex(const void *data, size_t len, char out[GF_FNV1A64_HEXSIZE]);

#endif
