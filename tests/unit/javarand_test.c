/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/engine/javarand.h against values printed by java.util.Random. */
#include <criterion/criterion.h>

#include <stdint.h>

#include "engine/javarand.h"

Test(javarand, next_int_known_java_values)
{
	struct gf_javarand r;

	/* new Random(42).nextInt() and new Random(0).nextInt() in Java. */
	gf_javarand_init(&r, 42);
	cr_assert_eq(gf_javarand_next_int(&r), -1170105035);
	gf_javarand_init(&r, 0);
	cr_assert_eq(gf_javarand_next_int(&r), -1155484576);
}

Test(javarand, bounded_known_sequence)
{
	struct gf_javarand r;
	const int32_t want[5] = {0, 3, 8, 4, 0}; /* new Random(42).nextInt(10) x5 */

	gf_javarand_init(&r, 42);
	for (int i = 0; i < 5; i++) {
		int32_t v = -1;
		cr_assert_eq(gf_javarand_next_int_bounded(&r, 10, &v), GF_OK);
		cr_assert_eq(v, want[i], "draw %d: %d, want %d", i, v, want[i]);
	}
}

Test(javarand, next_double_known_value)
{
	struct gf_javarand r;

	/* new Random(42).nextDouble() == 0.7275636800328681 */
	gf_javarand_init(&r, 42);
	cr_assert_eq(gf_javarand_next_double(&r), 0.7275636800328681);
}

Test(javarand, power_of_two_uses_high_bits)
{
	struct gf_javarand r, copy;

	gf_javarand_init(&r, 7);
	for (int i = 0; i < 1000; i++) {
		int32_t v = -1;
		copy = r;
		int64_t bits = gf_javarand_next(&copy, 31);
		cr_assert_eq(gf_javarand_next_int_bounded(&r, 64, &v), GF_OK);
		cr_assert_eq(v, (int32_t)((64 * bits) >> 31));
		cr_assert_eq(r.seed, copy.seed, "one draw per power-of-two bound");
	}
}

Test(javarand, rejection_branch_redraws)
{
	struct gf_javarand r;
	const int32_t bound = (1 << 30) + 1; /* about half of next(31) is rejected */
	int redraws = 0;

	gf_javarand_init(&r, 1234);
	for (int i = 0; i < 1000; i++) {
		struct gf_javarand probe = r;
		int32_t v = -1;
		int draws = 0;
		int32_t bits, val;
		/* The rule of the issue, written independently. */
		do {
			bits = gf_javarand_next(&probe, 31);
			val = bits % bound;
			draws++;
		} while (bits - val + (int64_t)bound - 1 >= ((int64_t)1 << 31));
		cr_assert_eq(gf_javarand_next_int_bounded(&r, bound, &v), GF_OK);
		cr_assert_eq(v, val);
		cr_assert_eq(r.seed, probe.seed);
		cr_assert(v >= 0 && v < bound);
		redraws += draws > 1;
	}
	cr_assert_gt(redraws, 100, "the rejection branch was exercised %d times", redraws);
}

Test(javarand, bad_bound_leaves_state_and_output)
{
	struct gf_javarand r;
	int32_t v = 99;

	gf_javarand_init(&r, 1);
	uint64_t before = r.seed;
	cr_assert_eq(gf_javarand_next_int_bounded(&r, 0, &v), GF_EINVAL);
	cr_assert_eq(gf_javarand_next_int_bounded(&r, -5, &v), GF_EINVAL);
	cr_assert_eq(v, 99);
	cr_assert_eq(r.seed, before);
}

Test(javarand, doubles_in_unit_interval)
{
	struct gf_javarand r;

	gf_javarand_init(&r, -3);
	for (int i = 0; i < 100000; i++) {
		double d = gf_javarand_next_double(&r);
		cr_assert(d >= 0.0 && d < 1.0);
	}
}
