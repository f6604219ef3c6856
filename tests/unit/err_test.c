/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/base/err.h: the error enum and its strings. */
#include <criterion/criterion.h>

#include <string.h>

#include "base/err.h"

/* The names and texts as the header declares them, to check the table. */
static const char *const expected_names[] = {
#define NAME(name, text) #name,
    GF_ERR_MAP(NAME)
#undef NAME
};

static const char *const expected_texts[] = {
#define TEXT(name, text) text,
    GF_ERR_MAP(TEXT)
#undef TEXT
};

Test(err, count_matches_table)
{
	cr_assert_eq(sizeof(expected_names) / sizeof(expected_names[0]), (size_t)GF_ERR_COUNT);
	cr_assert_eq(GF_ERR_COUNT, 11, "update this test when the enum grows");
	cr_assert_eq(GF_OK, 0);
}

Test(err, every_value_has_a_non_empty_string)
{
	for (int e = 0; e < GF_ERR_COUNT; e++) {
		const char *s = gf_strerror((enum gf_err)e);
		cr_assert_not_null(s, "gf_strerror(%d) is NULL", e);
		cr_assert_gt(strlen(s), 0, "gf_strerror(%d) is empty", e);
		cr_assert_str_neq(s, "unknown error", "gf_strerror(%d) is the fallback", e);
		cr_assert_str_eq(s, expected_texts[e]);
	}
}

Test(err, strings_are_distinct)
{
	for (int a = 0; a < GF_ERR_COUNT; a++) {
		for (int b = a + 1; b < GF_ERR_COUNT; b++) {
			cr_assert_str_neq(gf_strerror((enum gf_err)a), gf_strerror((enum gf_err)b),
			                  "errors %d and %d share a string", a, b);
			cr_assert_str_neq(gf_err_name((enum gf_err)a), gf_err_name((enum gf_err)b),
			                  "errors %d and %d share a name", a, b);
		}
	}
}

Test(err, known_strings)
{
	cr_assert_str_eq(gf_strerror(GF_OK), "success");
	cr_assert_str_eq(gf_strerror(GF_ENOMEM), "out of memory");
	cr_assert_str_eq(gf_strerror(GF_EPARSE), "malformed input");
	cr_assert_str_eq(gf_strerror(GF_EFULL), "no room left");
}

Test(err, names_without_prefix)
{
	for (int e = 0; e < GF_ERR_COUNT; e++)
		cr_assert_str_eq(gf_err_name((enum gf_err)e), expected_names[e]);
	cr_assert_str_eq(gf_err_name(GF_OK), "OK");
	cr_assert_str_eq(gf_err_name(GF_ENOMEM), "ENOMEM");
	cr_assert_str_eq(gf_err_name(GF_ETOOLONG), "ETOOLONG");
}

Test(err, out_of_range_is_unknown)
{
	cr_assert_str_eq(gf_strerror(GF_ERR_COUNT), "unknown error");
	cr_assert_str_eq(gf_strerror((enum gf_err)(GF_ERR_COUNT + 1)), "unknown error");
	cr_assert_str_eq(gf_strerror((enum gf_err)1000), "unknown error");
	cr_assert_str_eq(gf_strerror((enum gf_err) - 1), "unknown error");
	cr_assert_str_eq(gf_err_name(GF_ERR_COUNT), "UNKNOWN");
	cr_assert_str_eq(gf_err_name((enum gf_err) - 1), "UNKNOWN");
}

Test(err, set_formats_truncates_and_returns_rc)
{
	char buf[8];

	cr_assert_eq(gf_err_set(buf, sizeof(buf), GF_ERANGE, "%d > %d", 10, 3), GF_ERANGE);
	cr_assert_str_eq(buf, "10 > 3");
	cr_assert_eq(gf_err_set(buf, sizeof(buf), GF_EINVAL, "%s", "much too long"), GF_EINVAL);
	cr_assert_str_eq(buf, "much to");
}

Test(err, set_without_a_buffer_only_returns)
{
	char one[1] = {'x'};

	cr_assert_eq(gf_err_set(NULL, 16, GF_EIO, "ignored %d", 1), GF_EIO);
	cr_assert_eq(gf_err_set(one, 0, GF_EIO, "ignored"), GF_EIO);
	cr_assert_eq(one[0], 'x');
}
