/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/base/hash.h: FNV-1a 64 against published test vectors. */
#include <criterion/criterion.h>

#include <string.h>

#include "base/hash.h"

static uint64_t of(const char *s)
{
	return gf_fnv1a64(GF_FNV1A64_BASIS, s, strlen(s));
}

Test(hash, known_vectors)
{
	/* From the FNV reference test suite (Fowler, Noll, Vo). */
	cr_assert_eq(of(""), 0xcbf29ce484222325ULL);
	cr_assert_eq(of("a"), 0xaf63dc4c8601ec8cULL);
	cr_assert_eq(of("foobar"), 0x85944171f73967e8ULL);
}

Test(hash, pieces_chain_as_one)
{
	uint64_t h = gf_fnv1a64(GF_FNV1A64_BASIS, "foo", 3);

	cr_assert_eq(gf_fnv1a64(h, "bar", 3), of("foobar"));
	cr_assert_eq(gf_fnv1a64(h, NULL, 0), h);
}

Test(hash, hex_is_sixteen_digits)
{
	char hex[GF_FNV1A64_HEXSIZE];

	gf_fnv1a64_hex("a", 1, hex);
	cr_assert_str_eq(hex, "af63dc4c8601ec8c");
	gf_fnv1a64_hex("", 0, hex);
	cr_assert_str_eq(hex, "cbf29ce484222325");
}
