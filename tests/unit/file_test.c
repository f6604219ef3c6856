/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/base/file.h: whole-file reads with a bound. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"

static char path[64];

static void write_file(const char *text, size_t n)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/gf-file-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, n, f), n);
	fclose(f);
}

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

TestSuite(file, .fini = cleanup);

Test(file, reads_up_to_the_bound_with_a_nul)
{
	char *buf = NULL, err[128] = "";
	size_t len = 0;

	write_file("a\0bc", 4);
	cr_assert_eq(gf_file_read(path, 4, &buf, &len, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(len, 4);
	cr_assert_eq(memcmp(buf, "a\0bc", 5), 0, "the bytes and a NUL after them");
	free(buf);
}

Test(file, empty_file)
{
	char *buf = NULL, err[128] = "";
	size_t len = 7;

	write_file("", 0);
	cr_assert_eq(gf_file_read(path, 16, &buf, &len, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(buf, "");
	free(buf);
}

Test(file, one_byte_too_many_is_refused)
{
	char *buf = (char *)"untouched", err[128] = "";
	size_t len = 7;

	write_file("12345", 5);
	cr_assert_eq(gf_file_read(path, 4, &buf, &len, err, sizeof(err)), GF_EIO);
	cr_assert_str_eq(buf, "untouched");
	cr_assert_eq(len, 7);
	cr_assert_not_null(strstr(err, "larger than 4 bytes"), "%s", err);
	cr_assert_eq(strncmp(err, path, strlen(path)), 0, "%s", err);
}

Test(file, names_the_size_in_mib)
{
	static char big[(1 << 20) + 1];
	char *buf = NULL, err[128] = "";
	size_t len;

	write_file(big, sizeof(big));
	cr_assert_eq(gf_file_read(path, 1 << 20, &buf, &len, err, sizeof(err)), GF_EIO);
	cr_assert_not_null(strstr(err, "larger than 1 MiB"), "%s", err);
	cr_assert_null(buf);
}

Test(file, missing_file_says_why)
{
	char *buf = NULL, err[128] = "";
	size_t len;

	cr_assert_eq(gf_file_read("/nonexistent/gf-file", 16, &buf, &len, err, sizeof(err)),
	             GF_EIO);
	cr_assert_str_eq(err, "/nonexistent/gf-file: No such file or directory");
	cr_assert_null(buf);
}
