/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/base/json.h: the two modes of the JSON string escaper. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "base/json.h"

/* s (n bytes) quoted in mode, as a NUL-terminated string (static). */
static const char *quote(const char *s, size_t n, enum gf_json_mode mode)
{
	static char buf[256];
	size_t len = gf_json_quote(NULL, 0, s, n, mode);

	cr_assert_neq(len, GF_JSON_INVALID);
	cr_assert_lt(len, sizeof(buf));
	cr_assert_eq(gf_json_quote(buf, sizeof(buf), s, n, mode), len, "measure = write");
	buf[len] = '\0';
	return buf;
}

#define EXACT(lit) quote(lit, sizeof(lit) - 1, GF_JSON_EXACT)
#define SAFE(lit)  quote(lit, sizeof(lit) - 1, GF_JSON_SAFE)

Test(json, exact_mode_escapes_the_canonical_way)
{
	cr_assert_str_eq(EXACT(""), "\"\"");
	cr_assert_str_eq(EXACT("abc/def ~"), "\"abc/def ~\"");
	cr_assert_str_eq(EXACT("a\"b\\c"), "\"a\\\"b\\\\c\"");
	cr_assert_str_eq(EXACT("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
	cr_assert_str_eq(EXACT("\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\"");
	cr_assert_str_eq(EXACT("a\0b"), "\"a\\u0000b\"");
	cr_assert_str_eq(EXACT("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
	                 "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
}

Test(json, exact_mode_refuses_malformed_utf8)
{
	static const char *const bad[] = {"\xff",
	                                  "a\x80",
	                                  "\xc3",
	                                  "\xc0\x80",
	                                  "\xe0\x80\xaf",
	                                  "\xed\xa0\x80",
	                                  "\xf4\x90\x80\x80",
	                                  "\xe2\x82"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(gf_json_quote(NULL, 0, bad[i], strlen(bad[i]), GF_JSON_EXACT),
		             GF_JSON_INVALID, "case %zu", i);
}

Test(json, safe_mode_takes_any_bytes)
{
	cr_assert_str_eq(SAFE("\n\r\t\b\f"), "\"\\u000a\\u000d\\u0009\\u0008\\u000c\"");
	cr_assert_str_eq(SAFE("\x01\x1f\x7f"), "\"\\u0001\\u001f\\u007f\"");
	cr_assert_str_eq(SAFE("a\"b\\c"), "\"a\\\"b\\\\c\"");
	cr_assert_str_eq(SAFE("\xc3\xa9"), "\"\xc3\xa9\"");
	cr_assert_str_eq(SAFE("a\x80z"), "\"a\\ufffdz\"");
	cr_assert_str_eq(SAFE("\xe2\x82"), "\"\\ufffd\\ufffd\"", "one per byte");
	cr_assert_str_eq(SAFE("\xc0\x80"), "\"\\ufffd\\ufffd\"");
}

Test(json, output_stops_at_size)
{
	char buf[4] = {'x', 'x', 'x', 'x'};

	cr_assert_eq(gf_json_quote(buf, 3, "a\nbcdef", 7, GF_JSON_EXACT), 10);
	cr_assert_eq(memcmp(buf, "\"a\\", 3), 0);
	cr_assert_eq(buf[3], 'x', "nothing past size");
}

Test(json, utf8_sequences)
{
	cr_assert_eq(gf_utf8_seq((const unsigned char *)"a", 1), 1);
	cr_assert_eq(gf_utf8_seq((const unsigned char *)"\xc3\xa9", 2), 2);
	cr_assert_eq(gf_utf8_seq((const unsigned char *)"\xc3\xa9", 1), 0, "cut short");
	cr_assert_eq(gf_utf8_seq((const unsigned char *)"\xef\xbf\xbf", 3), 3);
	cr_assert_eq(gf_utf8_seq((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
	cr_assert_eq(gf_utf8_seq((const unsigned char *)"\xf5\x80\x80\x80", 4), 0);
}
