/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/clients.h: the registry of admitted connections. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"

#define NKEYS 10000

struct ref {
	bool present;
	unsigned version;
};

static struct gf_clients *reg;
static struct ref *ref;

static void setup(void)
{
	reg = gf_clients_new();
	cr_assert_not_null(reg);
	ref = calloc(NKEYS, sizeof(*ref));
	cr_assert_not_null(ref);
}

static void teardown(void)
{
	gf_clients_free(reg);
	free(ref);
	reg = NULL;
	ref = NULL;
}

TestSuite(clients, .init = setup, .fini = teardown);

/* The client id of key i, the registry's key, written into buf; key(i) gives
 * each use its own buffer (a compound literal) so two keys can be compared. */
static const char *key_into(char *buf, size_t i)
{
	snprintf(buf, 32, "foa.k%zu@s", i);
	return buf;
}

#define key(i) key_into((char[32]){0}, (i))

static void expected_strings(size_t i, unsigned version, char *user, char *site)
{
	snprintf(user, 48, "foa.k%zu.v%u", i, version);
	snprintf(site, 48, "site%u", version % 5);
}

/* Version v of key i: cert_site NULL and no serial for every third version. */
static void put(size_t i, unsigned version)
{
	char user[48], site[48];
	uint8_t serial[GF_SERIAL_MAX];
	size_t serial_len = version % 3 == 0 ? 0 : 1 + (i + version) % GF_SERIAL_MAX;

	expected_strings(i, version, user, site);
	for (size_t b = 0; b < serial_len; b++)
		serial[b] = (uint8_t)(i * 7 + version + b);
	cr_assert_eq(
	    gf_clients_put(reg, key(i), user, serial_len ? site : NULL, serial, serial_len), GF_OK);
	ref[i].present = true;
	ref[i].version = version;
}

static void drop(size_t i)
{
	gf_clients_drop(reg, key(i));
	ref[i].present = false;
}

static void check_entry(size_t i, const struct gf_client_entry *e)
{
	char user[48], site[48];
	unsigned version = ref[i].version;
	size_t serial_len = version % 3 == 0 ? 0 : 1 + (i + version) % GF_SERIAL_MAX;

	expected_strings(i, version, user, site);
	cr_assert_str_eq(e->client_id, key(i));
	cr_assert_str_eq(e->username, user);
	if (serial_len) {
		cr_assert_not_null(e->cert_site, "key %zu", i);
		cr_assert_str_eq(e->cert_site, site);
	} else {
		cr_assert_null(e->cert_site, "key %zu", i);
	}
	cr_assert_eq(e->serial_len, serial_len, "key %zu", i);
	for (size_t b = 0; b < serial_len; b++)
		cr_assert_eq(e->serial[b], (uint8_t)(i * 7 + version + b), "key %zu byte %zu", i,
		             b);
}

static size_t ref_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < NKEYS; i++)
		n += ref[i].present;
	return n;
}

static void compare_all(void)
{
	cr_assert_eq(gf_clients_count(reg), ref_count());
	for (size_t i = 0; i < NKEYS; i++) {
		const struct gf_client_entry *e = gf_clients_find(reg, key(i));
		if (ref[i].present) {
			cr_assert_not_null(e, "key %zu lost", i);
			check_entry(i, e);
		} else {
			cr_assert_null(e, "key %zu still present", i);
		}
	}
}

struct visit {
	unsigned *seen;
	size_t calls;
	bool bad_key;
};

static void count_visit(const struct gf_client_entry *e, void *ud)
{
	struct visit *v = ud;
	size_t i;
	int end = 0;

	v->calls++;
	if (sscanf(e->client_id, "foa.k%zu@s%n", &i, &end) != 1 || end == 0 ||
	    e->client_id[end] != '\0' || i >= NKEYS) {
		v->bad_key = true;
		return;
	}
	v->seen[i]++;
}

static void check_each(void)
{
	struct visit v = {calloc(NKEYS, sizeof(unsigned)), 0, false};

	cr_assert_not_null(v.seen);
	gf_clients_each(reg, count_visit, &v);
	for (size_t i = 0; i < NKEYS; i++) {
		unsigned seen = v.seen[i];
		if (seen != (ref[i].present ? 1u : 0u)) {
			free(v.seen);
			cr_assert_fail("key %zu visited %u times, present %d", i, seen,
			               ref[i].present);
		}
	}
	free(v.seen);
	cr_assert_not(v.bad_key);
	cr_assert_eq(v.calls, ref_count());
}

Test(clients, empty)
{
	cr_assert_eq(gf_clients_count(reg), 0);
	cr_assert_null(gf_clients_find(reg, key(0)));
	cr_assert_null(gf_clients_find(reg, NULL));
	cr_assert_null(gf_clients_find(reg, ""));
	gf_clients_drop(reg, key(0)); /* absent: no-op */
	cr_assert_eq(gf_clients_count(reg), 0);
	check_each();
}

Test(clients, put_find_drop_one)
{
	const uint8_t serial[3] = {0x12, 0x34, 0xab};
	const struct gf_client_entry *e;

	cr_assert_eq(gf_clients_put(reg, "foa.a@1", "foa.a", "site1", serial, 3), GF_OK);
	cr_assert_eq(gf_clients_count(reg), 1);
	e = gf_clients_find(reg, "foa.a@1");
	cr_assert_not_null(e);
	cr_assert_str_eq(e->client_id, "foa.a@1");
	cr_assert_str_eq(e->username, "foa.a");
	cr_assert_str_eq(e->cert_site, "site1");
	cr_assert_eq(e->serial_len, 3);
	cr_assert_arr_eq(e->serial, serial, 3);
	cr_assert_null(gf_clients_find(reg, "foa.a@2"));
	cr_assert_null(gf_clients_find(reg, "foa.a"), "no prefix match");
	cr_assert_null(gf_clients_find(reg, "foa.a@10"));
	gf_clients_drop(reg, "foa.a@2");
	cr_assert_eq(gf_clients_count(reg), 1);
	gf_clients_drop(reg, "foa.a@1");
	cr_assert_eq(gf_clients_count(reg), 0);
	cr_assert_null(gf_clients_find(reg, "foa.a@1"));
}

Test(clients, key_is_compared_by_value)
{
	char cid[] = "foa.a@1";
	char same[] = "foa.a@1";

	cr_assert_eq(gf_clients_put(reg, cid, "foa.a", NULL, NULL, 0), GF_OK);
	cr_assert_not_null(gf_clients_find(reg, same), "another buffer with the same text");
	cr_assert_neq((const void *)gf_clients_find(reg, same)->client_id, (const void *)cid,
	              "the key is copied");
	gf_clients_drop(reg, same);
	cr_assert_eq(gf_clients_count(reg), 0);
}

Test(clients, empty_client_id_is_a_key)
{
	cr_assert_eq(gf_clients_put(reg, "", "foa.a", NULL, NULL, 0), GF_OK);
	cr_assert_eq(gf_clients_count(reg), 1);
	cr_assert_not_null(gf_clients_find(reg, ""));
	cr_assert_str_eq(gf_clients_find(reg, "")->username, "foa.a");
	gf_clients_drop(reg, "");
	cr_assert_eq(gf_clients_count(reg), 0);
}

Test(clients, strings_are_copied)
{
	char cid[] = "foa.a", user[] = "foa.a", site[] = "site1";
	const struct gf_client_entry *e;

	cr_assert_eq(gf_clients_put(reg, cid, user, site, NULL, 0), GF_OK);
	cid[0] = user[0] = site[0] = 'X';
	cr_assert_null(gf_clients_find(reg, cid));
	e = gf_clients_find(reg, "foa.a");
	cr_assert_not_null(e);
	cr_assert_str_eq(e->client_id, "foa.a");
	cr_assert_str_eq(e->username, "foa.a");
	cr_assert_str_eq(e->cert_site, "site1");
}

Test(clients, null_strings)
{
	const struct gf_client_entry *e;

	cr_assert_eq(gf_clients_put(reg, "c1", NULL, NULL, NULL, 0), GF_OK);
	e = gf_clients_find(reg, "c1");
	cr_assert_not_null(e);
	cr_assert_str_eq(e->username, "");
	cr_assert_null(e->cert_site);
	cr_assert_eq(e->serial_len, 0);
}

Test(clients, invalid_arguments)
{
	uint8_t serial[GF_SERIAL_MAX + 1] = {0};

	cr_assert_eq(gf_clients_put(reg, NULL, "u", NULL, NULL, 0), GF_EINVAL);
	cr_assert_eq(gf_clients_put(reg, "c", "u", "s", serial, GF_SERIAL_MAX + 1), GF_EINVAL);
	cr_assert_eq(gf_clients_count(reg), 0);
	cr_assert_null(gf_clients_find(reg, "c"));
	cr_assert_eq(gf_clients_put(reg, "c", "u", "s", serial, GF_SERIAL_MAX), GF_OK);
	cr_assert_eq(gf_clients_find(reg, "c")->serial_len, GF_SERIAL_MAX);
}

Test(clients, replace_existing_key)
{
	const uint8_t serial[2] = {1, 2};
	const struct gf_client_entry *e;

	cr_assert_eq(gf_clients_put(reg, key(5), "foa.a", "site1", serial, 2), GF_OK);
	cr_assert_eq(gf_clients_put(reg, key(6), "foa.b", NULL, NULL, 0), GF_OK);
	cr_assert_eq(gf_clients_put(reg, key(5), "fman.z", NULL, NULL, 0), GF_OK);
	cr_assert_eq(gf_clients_count(reg), 2, "replacing does not add");
	e = gf_clients_find(reg, key(5));
	cr_assert_not_null(e);
	cr_assert_str_eq(e->client_id, key(5));
	cr_assert_str_eq(e->username, "fman.z");
	cr_assert_null(e->cert_site);
	cr_assert_eq(e->serial_len, 0);
	cr_assert_str_eq(gf_clients_find(reg, key(6))->username, "foa.b");
	cr_assert_eq(gf_clients_put(reg, key(5), "foa.c", "site2", serial, 2), GF_OK);
	e = gf_clients_find(reg, key(5));
	cr_assert_str_eq(e->username, "foa.c");
	cr_assert_str_eq(e->cert_site, "site2");
	cr_assert_eq(e->serial_len, 2);
	cr_assert_arr_eq(e->serial, serial, 2);

	/* And again, many times (old strings are freed: see the ASan build). */
	for (unsigned v = 0; v < 100; v++)
		put(5, v);
	check_entry(5, gf_clients_find(reg, key(5)));
	cr_assert_eq(gf_clients_count(reg), 2);
}

Test(clients, many_keys_sequential)
{
	for (size_t i = 0; i < NKEYS; i++)
		put(i, 1);
	compare_all();
	check_each();
	for (size_t i = 0; i < NKEYS; i += 3)
		drop(i);
	compare_all();
	check_each();
	for (size_t i = 0; i < NKEYS; i += 2)
		put(i, 2); /* re-adds some, replaces others */
	compare_all();
	check_each();
	for (size_t i = 0; i < NKEYS; i++)
		drop(i);
	compare_all();
	cr_assert_eq(gf_clients_count(reg), 0);
	check_each();
}

/* A fixed pseudo-random sequence so a failure is reproducible. */
static uint32_t rnd_state = 12345u;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1664525u + 1013904223u;
	return rnd_state >> 8;
}

Test(clients, many_keys_interleaved)
{
	for (unsigned step = 1; step <= 60000; step++) {
		size_t i = rnd() % NKEYS;
		unsigned op = rnd() % 10;

		if (op < 6) {
			put(i, step);
		} else if (op < 9) {
			drop(i);
		} else {
			const struct gf_client_entry *e = gf_clients_find(reg, key(i));
			if (ref[i].present) {
				cr_assert_not_null(e, "step %u: key %zu lost", step, i);
				check_entry(i, e);
			} else {
				cr_assert_null(e, "step %u: key %zu present", step, i);
			}
		}
		if (step % 10000 == 0) {
			compare_all();
			check_each();
		}
	}
	compare_all();
	check_each();
}

Test(clients, grow_then_drain_in_random_order)
{
	size_t *order = malloc(NKEYS * sizeof(*order));

	cr_assert_not_null(order);
	for (size_t i = 0; i < NKEYS; i++) {
		put(i, 7);
		order[i] = i;
	}
	for (size_t i = NKEYS - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t n = 0; n < NKEYS; n++) {
		drop(order[n]);
		if (n % 997 == 0) {
			compare_all();
		}
	}
	free(order);
	compare_all();
	check_each();
}

Test(clients_free, free_null_and_full)
{
	struct gf_clients *r = gf_clients_new();

	gf_clients_free(NULL);
	cr_assert_not_null(r);
	for (size_t i = 0; i < 1000; i++)
		cr_assert_eq(gf_clients_put(r, key(i), "u", "s", NULL, 0), GF_OK);
	cr_assert_eq(gf_clients_count(r), 1000);
	gf_clients_free(r); /* frees every entry: see the ASan build */
}
