/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/bus/msglimits.h: the shipped schemas/limits.tsv against the
 * shipped catalogue, sizes and suffixes, the default line, and the parser's
 * error reports. Run from the repository root (the paths are relative).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "bus/catalog.h"
#include "leak_check.h"
#include "bus/msglimits.h"

static struct gf_catalog *cat;

static void setup(void)
{
	char err[256] = "";

	cr_assert_eq(gf_catalog_load("schemas/exchange.tsv", &cat, err, sizeof(err)), GF_OK, "%s",
	             err);
}

static void teardown(void)
{
	gf_catalog_free(cat);
	cat = NULL;
	leak_check();
}

TestSuite(msglimits, .init = setup, .fini = teardown);

static int msg_of(const char *name)
{
	int m = gf_catalog_msg(cat, name, strlen(name));

	cr_assert_geq(m, 0, "%s is not in the catalogue", name);
	return m;
}

static struct gf_msglimits *parse_ok(const char *text, uint32_t def)
{
	struct gf_msglimits *lim = NULL;
	char err[256] = "";
	enum gf_err rc =
	    gf_msglimits_parse(text, strlen(text), "t.tsv", cat, def, &lim, err, sizeof(err));

	cr_assert_eq(rc, GF_OK, "%s: %s for:\n%s", gf_strerror(rc), err, text);
	cr_assert_not_null(lim);
	return lim;
}

static void assert_parse_error(const char *text, const char *expect)
{
	struct gf_msglimits *lim = (struct gf_msglimits *)&lim; /* must stay untouched */
	struct gf_msglimits *const before = lim;
	char err[256];
	enum gf_err rc =
	    gf_msglimits_parse(text, strlen(text), "t.tsv", cat, 1000, &lim, err, sizeof(err));

	cr_assert_eq(rc, GF_EPARSE, "expected GF_EPARSE, got %s for:\n%s", gf_strerror(rc), text);
	cr_assert_eq(lim, before, "out set on failure");
	cr_assert_not_null(strstr(err, expect), "error '%s' lacks '%s'", err, expect);
}

Test(msglimits, the_shipped_file_loads_against_the_shipped_catalogue)
{
	struct gf_msglimits *lim = NULL;
	char err[256] = "";

	cr_assert_eq(gf_msglimits_load("schemas/limits.tsv", cat, 1, &lim, err, sizeof(err)), GF_OK,
	             "%s", err);
	cr_assert_eq(gf_msglimits_default(lim), 256u * 1024);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("flexoffer")), 128u * 1024);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("meter.reading")), 1024u * 1024);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("status")), 256u * 1024);
	/* Every limit stays well below the broker's default max_packet_size. */
	cr_assert_leq(gf_msglimits_largest(lim), 2u * 1024 * 1024);
	cr_assert_eq(gf_msglimits_smallest(lim), 128u * 1024); /* the flexoffer rows */
	gf_msglimits_free(lim);
}

Test(msglimits, new_gives_every_type_the_default)
{
	struct gf_msglimits *lim = NULL;

	cr_assert_eq(gf_msglimits_new(cat, 4096, &lim), GF_OK);
	for (size_t m = 0; m < gf_catalog_msg_count(cat); m++)
		cr_assert_eq(gf_msglimits_payload(lim, (int)m), 4096u);
	cr_assert_eq(gf_msglimits_payload(lim, -1), 4096u, "outside the catalogue: the default");
	cr_assert_eq(gf_msglimits_payload(lim, 1 << 20), 4096u);
	cr_assert_eq(gf_msglimits_listed(lim), 0u);
	cr_assert_eq(gf_msglimits_smallest(lim), 4096u);
	cr_assert_eq(gf_msglimits_largest(lim), 4096u);
	gf_msglimits_free(lim);
}

Test(msglimits, the_default_must_be_in_range)
{
	struct gf_msglimits *lim = (struct gf_msglimits *)&lim;
	struct gf_msglimits *const before = lim;

	cr_assert_eq(gf_msglimits_new(cat, 0, &lim), GF_ERANGE);
	cr_assert_eq(gf_msglimits_new(cat, GF_MSGLIMITS_MAX_BYTES + 1, &lim), GF_ERANGE);
	cr_assert_eq(gf_msglimits_parse("", 0, "t", cat, 0, &lim, NULL, 0), GF_ERANGE);
	cr_assert_eq(lim, before);
}

Test(msglimits, sizes_suffixes_comments_blanks_and_both_separators)
{
	struct gf_msglimits *lim = parse_ok("# a comment\n"
	                                    "\n"
	                                    "flexoffer\t2k\n"
	                                    "   # indented comment\r\n"
	                                    "  meter.reading   3M  \r\n"
	                                    "bid 17\n"
	                                    "flexoffer.ack\t \t1K",
	                                    999);

	cr_assert_eq(gf_msglimits_payload(lim, msg_of("flexoffer")), 2048u);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("meter.reading")), 3u << 20);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("bid")), 17u);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("flexoffer.ack")), 1024u);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("status")), 999u, "no '*': def_bytes");
	cr_assert_eq(gf_msglimits_listed(lim), 4u);
	cr_assert_eq(gf_msglimits_smallest(lim), 17u);
	cr_assert_eq(gf_msglimits_largest(lim), 3u << 20);
	gf_msglimits_free(lim);
}

Test(msglimits, the_star_line_replaces_the_default_wherever_it_stands)
{
	struct gf_msglimits *lim = parse_ok("flexoffer 10\n*\t5000\n", 999);

	cr_assert_eq(gf_msglimits_default(lim), 5000u);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("status")), 5000u);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("flexoffer")), 10u);
	gf_msglimits_free(lim);
}

Test(msglimits, result_types_of_requests_can_be_limited)
{
	struct gf_msglimits *lim = parse_ok("meter.query.result 7k\n", 999);

	cr_assert_eq(gf_msglimits_payload(lim, msg_of("meter.query.result")), 7u * 1024);
	cr_assert_eq(gf_msglimits_payload(lim, msg_of("meter.query")), 999u);
	gf_msglimits_free(lim);
}

Test(msglimits, the_largest_size_is_mqtts_largest_packet)
{
	struct gf_msglimits *lim = parse_ok("flexoffer 268435455\nbid 255M\n", 999);

	cr_assert_eq(gf_msglimits_payload(lim, msg_of("flexoffer")), 268435455u);
	gf_msglimits_free(lim);
	assert_parse_error("flexoffer 268435456\n", "t.tsv:1: size '268435456' is out of range");
	assert_parse_error("bid 257M\n", "t.tsv:1: size '257M' is out of range");
}

Test(msglimits, errors_name_the_file_and_line)
{
	assert_parse_error("# x\nno.such.type 1k\n",
	                   "t.tsv:2: 'no.such.type' is not a message type of the catalogue");
	assert_parse_error("flexoffer\n", "t.tsv:1: expected a message type and a size, found 1");
	assert_parse_error("flexoffer 1k extra\n", "found more than 2 fields");
	assert_parse_error("flexoffer 1x\n", "t.tsv:1: size '1x' is not a number of bytes");
	assert_parse_error("flexoffer k\n", "size 'k' is not a number");
	assert_parse_error("flexoffer -1\n", "size '-1' is not a number");
	assert_parse_error("flexoffer 1.5k\n", "size '1.5k' is not a number");
	assert_parse_error("flexoffer 1kk\n", "size '1kk' is not a number");
	assert_parse_error("flexoffer 1m\n", "size '1m' is not a number");
	assert_parse_error("flexoffer 0\n", "size '0' is out of range");
	assert_parse_error("flexoffer 99999999999\n", "size '99999999999' is too large");
	assert_parse_error("flexoffer 1k\n\nflexoffer 2k\n",
	                   "t.tsv:3: a second line for 'flexoffer'");
	assert_parse_error("* 1k\n* 2k\n", "t.tsv:2: a second default line");
	assert_parse_error("flex\0offer 1k\n", "t.tsv:1:"); /* strlen stops at the NUL */
	assert_parse_error("Flexoffer 1k\n", "'Flexoffer' is not a message type");
	assert_parse_error("** 1k\n", "'**' is not a message type");
}

Test(msglimits, a_nul_byte_is_refused)
{
	static const char text[] = "flexoffer 1k\nbid\0 2k\n";
	struct gf_msglimits *lim = NULL;
	char err[256];

	cr_assert_eq(
	    gf_msglimits_parse(text, sizeof(text) - 1, "t.tsv", cat, 1000, &lim, err, sizeof(err)),
	    GF_EPARSE);
	cr_assert_null(lim);
	cr_assert_not_null(strstr(err, "t.tsv:2: NUL byte"), "%s", err);
}

Test(msglimits, an_empty_file_gives_the_default_everywhere)
{
	struct gf_msglimits *lim = parse_ok("# nothing\n", 1234);

	cr_assert_eq(gf_msglimits_payload(lim, msg_of("flexoffer")), 1234u);
	gf_msglimits_free(lim);
}

Test(msglimits, an_unreadable_file_is_an_io_error_naming_it)
{
	struct gf_msglimits *lim = NULL;
	char err[256];

	cr_assert_eq(
	    gf_msglimits_load("/nonexistent/limits.tsv", cat, 1000, &lim, err, sizeof(err)),
	    GF_EIO);
	cr_assert_null(lim);
	cr_assert_not_null(strstr(err, "/nonexistent/limits.tsv: "), "%s", err);
}

Test(msglimits, free_accepts_null)
{
	gf_msglimits_free(NULL);
}
