/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/meter/metermap.h: the enrolment list "<id>,<pseudonym>"
 * as gf-anonymizer prints it, with its header, comments and blanks; every
 * refusal names the list and the line. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "leak_check.h"
#include "meter/metermap.h"

TestSuite(metermap, .fini = leak_check);

static char err[256];

static enum gf_err parse(const char *text, struct gf_metermap *m)
{
	err[0] = '\0';
	return gf_metermap_parse("map.csv", text, strlen(text), m, err, sizeof(err));
}

Test(metermap, the_anonymizers_list_with_its_header)
{
	struct gf_metermap m = {0};
	const char *text = "private_id,pseudonym\n"
	                   "7-PRE-002,bbbbXYZ_-1\n"
	                   "7-PRE-001,aaaaXYZ_-1\n";

	cr_assert_eq(parse(text, &m), GF_OK, "%s", err);
	cr_assert_eq(m.n, 2);
	cr_assert_str_eq(gf_metermap_find(&m, "7-PRE-001"), "aaaaXYZ_-1");
	cr_assert_str_eq(gf_metermap_find(&m, "7-PRE-002"), "bbbbXYZ_-1");
	cr_assert_null(gf_metermap_find(&m, "7-PRE-003"));
	cr_assert_null(gf_metermap_find(&m, "7-PRE-00"));
	gf_metermap_free(&m);
	cr_assert_eq(m.n, 0);
	gf_metermap_free(&m);
	gf_metermap_free(NULL);
}

Test(metermap, comments_blanks_crlf_and_no_final_newline)
{
	struct gf_metermap m = {0};
	const char *text = "# FOAs of aggregator a1\r\n"
	                   "\r\n"
	                   "foa_id , pseudonym\r\n"
	                   "  p1 ,\tAAA \r\n"
	                   "   # p9,ZZZ\n"
	                   "p2,BBB";

	cr_assert_eq(parse(text, &m), GF_OK, "%s", err);
	cr_assert_eq(m.n, 2);
	cr_assert_str_eq(gf_metermap_find(&m, "p1"), "AAA");
	cr_assert_str_eq(gf_metermap_find(&m, "p2"), "BBB");
	cr_assert_null(gf_metermap_find(&m, "p9"));
	gf_metermap_free(&m);
}

Test(metermap, an_empty_list_is_valid)
{
	struct gf_metermap m = {0};

	cr_assert_eq(parse("", &m), GF_OK);
	cr_assert_eq(m.n, 0);
	cr_assert_null(gf_metermap_find(&m, "p1"));
	cr_assert_eq(parse("foa_id,pseudonym\n# none yet\n", &m), GF_OK);
	cr_assert_eq(m.n, 0);
}

/* Only the first content line can be a header: later, "id,x" is an entry. */
Test(metermap, a_header_only_first)
{
	struct gf_metermap m = {0};

	cr_assert_eq(parse("p1,AAA\nid,BBB\n", &m), GF_OK, "%s", err);
	cr_assert_str_eq(gf_metermap_find(&m, "id"), "BBB");
	gf_metermap_free(&m);
}

Test(metermap, refusals_name_the_line)
{
	struct gf_metermap m = {.n = 77};
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"p1,AAA\np2\n", "map.csv:2: not '<id>,<pseudonym>'"},
	    {"p1,AAA,x\n", "map.csv:1: not '<id>,<pseudonym>'"},
	    {"\n\np1,\n", "map.csv:3: not '<id>,<pseudonym>'"},
	    {",AAA\n", "map.csv:1: not '<id>,<pseudonym>'"},
	    {"p 1,AAA\n", "map.csv:1: not '<id>,<pseudonym>'"},
	    {"p1,AA/A\n", "map.csv:1: not '<id>,<pseudonym>'"},
	    {"p1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	     "map.csv:1: not '<id>,<pseudonym>'"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].text, &m), GF_EPARSE, "accepted: %s", bad[i].text);
		cr_assert(strncmp(err, bad[i].why, strlen(bad[i].why)) == 0, "%s: %s", bad[i].text,
		          err);
		cr_assert_eq(m.n, 77, "*out touched on failure");
	}
}

Test(metermap, an_id_or_a_pseudonym_twice)
{
	struct gf_metermap m = {0};

	cr_assert_eq(parse("p1,AAA\np2,BBB\np1,CCC\n", &m), GF_EEXIST);
	cr_assert_str_eq(err, "map.csv: id p1 is listed twice");
	cr_assert_eq(parse("p1,AAA\np2,BBB\np3,AAA\n", &m), GF_EEXIST);
	cr_assert_str_eq(err, "map.csv: ids p1 and p3 have the same pseudonym");
}

/* 64 characters is the longest field, and many lines grow the array. */
Test(metermap, long_fields_and_many_lines)
{
	struct gf_metermap m = {0};
	char text[200 * 80], *p = text;
	char id[16];

	p += sprintf(p, "%s,x\n",
	             "0123456789012345678901234567890123456789012345678901234567890123");
	for (int i = 0; i < 150; i++)
		p += sprintf(p, "foa-%03d,PSEUDO%03d\n", i, i);
	cr_assert_eq(parse(text, &m), GF_OK, "%s", err);
	cr_assert_eq(m.n, 151);
	for (int i = 0; i < 150; i += 7) {
		char want[16];
		snprintf(id, sizeof(id), "foa-%03d", i);
		snprintf(want, sizeof(want), "PSEUDO%03d", i);
		cr_assert_str_eq(gf_metermap_find(&m, id), want);
	}
	gf_metermap_free(&m);
}
