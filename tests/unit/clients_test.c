/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/bus/clients.h: the set of open connections, keyed by handle. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>

#include "bus/clients.h"
#include "leak_check.h"

#define N 20000

static struct gf_clients *reg;
/* Handles are the addresses of the broker's contexts: take real addresses
 * of one array, whose low bits repeat like an allocator's do. */
static uint64_t contexts[N][8];
static bool ref[N];

static void setup(void)
{
	reg = gf_clients_new();
	cr_assert_not_null(reg);
	memset(ref, 0, sizeof(ref));
}

static void teardown(void)
{
	gf_clients_free(reg);
	leak_check();
}

TestSuite(clients, .init = setup, .fini = teardown);

static size_t ref_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < N; i++)
		n += ref[i];
	return n;
}

static void check_all(void)
{
	cr_assert_eq(gf_clients_count(reg), ref_count());
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(gf_clients_has(reg, contexts[i]), ref[i], "handle %zu", i);
}

Test(clients, empty)
{
	cr_assert_eq(gf_clients_count(reg), 0);
	cr_assert(!gf_clients_has(reg, contexts[0]));
	cr_assert(!gf_clients_has(reg, NULL));
	gf_clients_remove(reg, contexts[0]); /* absent: no-op */
	gf_clients_remove(reg, NULL);
	cr_assert_eq(gf_clients_count(reg), 0);
}

Test(clients, add_is_idempotent_and_null_is_refused)
{
	cr_assert_eq(gf_clients_add(reg, contexts[1]), GF_OK);
	cr_assert_eq(gf_clients_add(reg, contexts[1]), GF_OK);
	cr_assert_eq(gf_clients_count(reg), 1, "adding a present handle adds nothing");
	cr_assert_eq(gf_clients_add(reg, NULL), GF_EINVAL);
	cr_assert_eq(gf_clients_count(reg), 1);
	gf_clients_remove(reg, contexts[1]);
	cr_assert_eq(gf_clients_count(reg), 0);
	cr_assert(!gf_clients_has(reg, contexts[1]));
}

/* Random adds and removes against a reference array: exercises growth, the
 * backward-shift deletion across wrapped probe runs, and shrinking. */
Test(clients, random_operations_match_a_reference)
{
	uint64_t x = 88172645463325252ULL;

	for (int round = 0; round < 4; round++) {
		for (int op = 0; op < 60000; op++) {
			size_t i;
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			i = (size_t)(x % N);
			if ((x >> 40) % 3 == 0) {
				gf_clients_remove(reg, contexts[i]);
				ref[i] = false;
			} else {
				cr_assert_eq(gf_clients_add(reg, contexts[i]), GF_OK);
				ref[i] = true;
			}
		}
		check_all();
	}
	for (size_t i = 0; i < N; i++) {
		gf_clients_remove(reg, contexts[i]);
		ref[i] = false;
		if (i % 997 == 0)
			check_all();
	}
	check_all();
}

/* 20,000 connections that come and go leave an empty set behind (the count
 * the plugin publishes in plugin.stats). */
Test(clients, a_burst_that_leaves_leaves_nothing)
{
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(gf_clients_add(reg, contexts[i]), GF_OK);
	cr_assert_eq(gf_clients_count(reg), N);
	for (size_t i = 0; i < N; i++)
		gf_clients_remove(reg, contexts[i]);
	cr_assert_eq(gf_clients_count(reg), 0);
	cr_assert_eq(gf_clients_add(reg, contexts[7]), GF_OK);
	cr_assert(gf_clients_has(reg, contexts[7]));
}

Test(clients, free_accepts_null)
{
	gf_clients_free(NULL);
}
