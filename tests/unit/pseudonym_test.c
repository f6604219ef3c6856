/* SPDX-License-Identifier: MIT */
/*
 * Keyed pseudonyms (lib/anon/pseudonym.c): known answers computed apart from
 * this code (Python's hmac and hashlib, and `openssl dgst -sha256 -mac HMAC`
 * for the first: base64url without padding of HMAC-SHA256(key, id)), the
 * key file's rules (size, one newline, modes, id), and key rotation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "anon/pseudonym.h"

#include "leak_check.h"

#define K1 "goflex-test-hmac-key-0123456789abcdef"
#define K2 "another-key-for-rotation-0123456789ABCDEF"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gf-pseudonym-test-XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert(system(cmd) == 0);
	leak_check();
}

TestSuite(pseudonym, .init = setup, .fini = teardown);

/* Writes len bytes into dir/name with the given mode; returns the path. */
static const char *key_file(const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	cr_assert(f);
	cr_assert(fwrite(data, 1, len, f) == len);
	cr_assert(fclose(f) == 0);
	cr_assert(chmod(path, mode) == 0);
	return path;
}

static struct gf_pseudonym_key load(const char *data, size_t len)
{
	struct gf_pseudonym_key k;
	char err[256] = "";
	enum gf_err rc =
	    gf_pseudonym_key_load(key_file("k", data, len, 0600), "k-2026", &k, err, sizeof(err));
	cr_assert_eq(rc, GF_OK, "%s", err);
	return k;
}

static const char *pseudo(const struct gf_pseudonym_key *k, const char *id, size_t len)
{
	static char out[GF_PSEUDONYM_LEN + 1];

	memset(out, 'x', sizeof(out));
	cr_assert_eq(gf_pseudonym(k, id, len, out), GF_OK);
	cr_assert_eq(strlen(out), GF_PSEUDONYM_LEN);
	return out;
}

Test(pseudonym, known_answers)
{
	struct gf_pseudonym_key k1 = load(K1, strlen(K1)), k2 = load(K2, strlen(K2));

	cr_assert_str_eq(k1.id, "k-2026");
	cr_assert_eq(k1.len, strlen(K1));
	cr_assert_str_eq(pseudo(&k1, "7-PRE-001", 9),
	                 "12d6sHGD1I99aLOY1OnXgQbpPDb14ItconK6jtIqd5E");
	cr_assert_str_eq(pseudo(&k1, "7-PRE-002", 9),
	                 "IlywsDwANu54ro0bZ52C-UMg6GS6ba2yYHRiN7RNofw");
	cr_assert_str_eq(pseudo(&k1, "", 0), "V6wHHUlwOAbtCzbEPdekNV0FDRbkYcn-cF-Jn0ximOA");
	cr_assert_str_eq(pseudo(&k1, "a\0b", 3), "ojPxz1WsEmMCcdKGBdDU3qCrjWZJoEEUL2_HR4tGVc8");
	cr_assert_str_eq(pseudo(&k2, "7-PRE-001", 9),
	                 "YL9N1z2O42InhDPc5TKBaYuft0JUCiVY7u0oETjrSW4");
	cr_assert_str_eq(pseudo(&k2, "7-PRE-002", 9),
	                 "vcOhsl4Egn0lPCVZzMAZ-_olDvhqgDMEclDTgLw5UQk");
	cr_assert_str_eq(pseudo(&k2, "", 0), "WrCK3JNR-pJr4V5DRWcpZuVyKJy1xoCxgr8c3IVtiig");
	cr_assert_str_eq(pseudo(&k2, "a\0b", 3), "F41SCcQyF2cYiXvvs98SlX4YIvPS4V-EH9wrQtDsZKE");
	gf_pseudonym_key_wipe(&k1);
	gf_pseudonym_key_wipe(&k2);
}

Test(pseudonym, longest_key_and_binary_bytes)
{
	unsigned char raw[128];
	struct gf_pseudonym_key k;

	for (int i = 0; i < 128; i++)
		raw[i] = (unsigned char)i; /* a NUL and a newline inside are key bytes */
	k = load((const char *)raw, sizeof(raw));
	cr_assert_eq(k.len, 128);
	cr_assert_str_eq(pseudo(&k, "7-PRE-001", 9), "dLc-NpYIDWiahiKs1kbrqCDRpT8hnZqJ0zShJD3qAIk");
}

Test(pseudonym, deterministic_and_length_bounded_by_len)
{
	struct gf_pseudonym_key k = load(K1, strlen(K1));
	char a[GF_PSEUDONYM_LEN + 1];

	strcpy(a, pseudo(&k, "7-PRE-001", 9));
	cr_assert_str_eq(pseudo(&k, "7-PRE-001", 9), a);
	/* only len bytes count */
	cr_assert_str_eq(pseudo(&k, "7-PRE-001-and-more", 9), a);
	cr_assert_str_neq(pseudo(&k, "7-PRE-001-and-more", 18), a);
	/* base64url: no '+', '/', '=' */
	for (int i = 0; i < 1000; i++) {
		char id[16];
		const char *p;
		snprintf(id, sizeof(id), "7-PRE-%03d", i);
		p = pseudo(&k, id, strlen(id));
		cr_assert_eq(strcspn(p, "+/="), GF_PSEUDONYM_LEN, "%s", p);
	}
}

Test(pseudonym, one_trailing_newline_is_not_key)
{
	struct gf_pseudonym_key k = load(K1 "\n", strlen(K1) + 1);

	cr_assert_eq(k.len, strlen(K1));
	cr_assert_str_eq(pseudo(&k, "7-PRE-001", 9), "12d6sHGD1I99aLOY1OnXgQbpPDb14ItconK6jtIqd5E");
	/* only one: the second is a key byte (Python: HMAC(K1 + "\n", id)) */
	k = load(K1 "\n\n", strlen(K1) + 2);
	cr_assert_eq(k.len, strlen(K1) + 1);
	cr_assert_str_eq(pseudo(&k, "7-PRE-001", 9), "cKYJZpMCk_vQspCVf5Nw_qulf5uqSf-gIt3d6X_Dm1g");
}

static enum gf_err try_load(const char *path, const char *id, char *err, size_t errlen)
{
	struct gf_pseudonym_key k;

	memset(&k, 0x5a, sizeof(k));
	enum gf_err rc = gf_pseudonym_key_load(path, id, &k, err, errlen);
	if (rc != GF_OK) {
		/* outputs untouched on failure */
		for (size_t i = 0; i < sizeof(k.key); i++)
			cr_assert_eq(k.key[i], 0x5a);
	}
	return rc;
}

Test(pseudonym, key_sizes)
{
	char err[256], big[200];

	memset(big, 'k', sizeof(big));
	cr_assert_eq(try_load(key_file("k31", big, 31, 0600), "a", err, sizeof(err)), GF_ERANGE);
	cr_assert(strstr(err, "31 bytes") && strstr(err, "/k31"), "%s", err);
	cr_assert_eq(try_load(key_file("k32", big, 32, 0600), "a", err, sizeof(err)), GF_OK);
	cr_assert_eq(try_load(key_file("k128", big, 128, 0600), "a", err, sizeof(err)), GF_OK);
	cr_assert_eq(try_load(key_file("k129", big, 129, 0600), "a", err, sizeof(err)), GF_ERANGE);
	cr_assert_eq(try_load(key_file("k200", big, 200, 0600), "a", err, sizeof(err)), GF_ERANGE);
	/* 31 bytes and a newline are 31 bytes of key */
	big[31] = '\n';
	cr_assert_eq(try_load(key_file("k31nl", big, 32, 0600), "a", err, sizeof(err)), GF_ERANGE);
	cr_assert_eq(try_load(key_file("empty", "", 0, 0600), "a", err, sizeof(err)), GF_ERANGE);
}

Test(pseudonym, key_file_modes)
{
	static const mode_t refused[] = {0640, 0604, 0644, 0660, 0606,
	                                 0610, 0601, 0620, 0602, 0777};
	static const mode_t taken[] = {0600, 0400, 0700};
	char err[256], want[64];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *path = key_file("mode", K1, strlen(K1), refused[i]);
		cr_assert_eq(try_load(path, "a", err, sizeof(err)), GF_EDENIED, "mode %o",
		             (unsigned)refused[i]);
		snprintf(want, sizeof(want), "mode %04o", (unsigned)refused[i]);
		cr_assert(strstr(err, path) && strstr(err, want), "%s", err);
		cr_assert_null(strstr(err, K1)); /* never the key */
	}
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		const char *path = key_file("mode", K1, strlen(K1), taken[i]);
		cr_assert_eq(try_load(path, "a", err, sizeof(err)), GF_OK, "mode %o: %s",
		             (unsigned)taken[i], err);
	}
}

Test(pseudonym, key_file_errors)
{
	char err[256], path[128];

	snprintf(path, sizeof(path), "%s/none", dir);
	cr_assert_eq(try_load(path, "a", err, sizeof(err)), GF_ENOENT);
	cr_assert(strstr(err, path), "%s", err);
	cr_assert_eq(try_load(dir, "a", err, sizeof(err)), GF_EIO); /* a directory */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	cr_assert(mkfifo(path, 0600) == 0);
	cr_assert_eq(try_load(path, "a", err, sizeof(err)), GF_EIO); /* not a hang */
	cr_assert(strstr(err, "not a regular file"), "%s", err);
	/* a link to a key file is read, and the mode is the file's */
	key_file("target", K1, strlen(K1), 0644);
	snprintf(path, sizeof(path), "%s/link", dir);
	cr_assert(symlink("target", path) == 0);
	cr_assert_eq(try_load(path, "a", err, sizeof(err)), GF_EDENIED);
	snprintf(path, sizeof(path), "%s/target", dir);
	cr_assert(chmod(path, 0600) == 0);
	snprintf(path, sizeof(path), "%s/link", dir);
	cr_assert_eq(try_load(path, "a", err, sizeof(err)), GF_OK, "%s", err);
}

Test(pseudonym, key_ids)
{
	char err[256], id[80];
	const char *path = key_file("k", K1, strlen(K1), 0600);

	cr_assert_eq(try_load(path, "hmac-2026.01_a", err, sizeof(err)), GF_OK);
	memset(id, 'i', 64);
	id[64] = '\0';
	cr_assert_eq(try_load(path, id, err, sizeof(err)), GF_OK);
	id[64] = 'i';
	id[65] = '\0';
	cr_assert_eq(try_load(path, id, err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(try_load(path, "", err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(try_load(path, NULL, err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(try_load(path, "a b", err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(try_load(path, "a/b", err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(try_load(path, "kid\n", err, sizeof(err)), GF_EINVAL);
	cr_assert_eq(try_load(path, "caf\xc3\xa9", err, sizeof(err)), GF_EINVAL);
}

Test(pseudonym, rotation_gives_unlinkable_pseudonyms)
{
	struct gf_pseudonym_key k1 = load(K1, strlen(K1)), k2 = load(K2, strlen(K2));
	char a[GF_PSEUDONYM_LEN + 1];

	for (int i = 0; i < 100; i++) {
		char id[16];
		snprintf(id, sizeof(id), "7-PRE-%03d", i);
		strcpy(a, pseudo(&k1, id, strlen(id)));
		cr_assert_str_neq(pseudo(&k2, id, strlen(id)), a);
	}
}

Test(pseudonym, wipe)
{
	struct gf_pseudonym_key k = load(K1, strlen(K1));
	static const struct gf_pseudonym_key zero;

	gf_pseudonym_key_wipe(&k);
	cr_assert(memcmp(&k, &zero, sizeof(k)) == 0);
	gf_pseudonym_key_wipe(NULL);
}
