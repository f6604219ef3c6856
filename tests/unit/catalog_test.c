/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/bus/catalog.h: loading schemas/exchange.tsv and the parser's
 * error reports. Run from the repository root (the catalogue path is relative).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "bus/catalog.h"

#define CATALOG_PATH "schemas/exchange.tsv"

static struct gf_catalog *cat;

static void load_real(void)
{
	char err[256] = "";
	enum gf_err rc = gf_catalog_load(CATALOG_PATH, &cat, err, sizeof(err));

	cr_assert_eq(rc, GF_OK, "loading %s: %s (%s)", CATALOG_PATH, gf_strerror(rc), err);
	cr_assert_not_null(cat);
}

static void free_real(void)
{
	gf_catalog_free(cat);
	cat = NULL;
}

static int msg_of(const char *name)
{
	return gf_catalog_msg(cat, name, strlen(name));
}

static uint8_t cell_of(enum gf_role from, enum gf_role to, const char *msg)
{
	int m = msg_of(msg);

	cr_assert_geq(m, 0, "message %s is not in the catalogue", msg);
	return gf_catalog_cell(cat, from, to, m);
}

/* Parses text, expects GF_EPARSE and returns the message in err. */
static void parse_fails(const char *text, char *err, size_t errlen)
{
	struct gf_catalog *c = NULL;
	enum gf_err rc = gf_catalog_parse(text, strlen(text), "t.tsv", &c, err, errlen);

	cr_assert_eq(rc, GF_EPARSE, "expected GF_EPARSE, got %s for:\n%s", gf_strerror(rc), text);
	cr_assert_null(c, "out set on failure");
}

static void assert_parse_error(const char *text, const char *expect)
{
	char err[256];

	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	parse_fails(text, err, sizeof(err));
	cr_assert_str_eq(err, expect, "for text:\n%s", text);
}

/* --- the real catalogue ---------------------------------------------------- */

TestSuite(catalog_real, .init = load_real, .fini = free_real);

Test(catalog_real, counts)
{
	/* 90 rows in the file, 15 of them requests with a generated .result row. */
	cr_assert_eq(gf_catalog_row_count(cat), 105);
	/* 45 message types in the file plus 8 distinct ".result" types. */
	cr_assert_eq(gf_catalog_msg_count(cat), 53);
}

Test(catalog_real, flexoffer_foa_to_fman_private)
{
	cr_assert_eq(cell_of(GF_ROLE_FOA, GF_ROLE_FMAN, "flexoffer"), GF_CELL_PRIVATE);
	cr_assert_eq(cell_of(GF_ROLE_FOA, GF_ROLE_FMAR, "flexoffer"), GF_CELL_PRIVATE);
	cr_assert_eq(cell_of(GF_ROLE_FMAN, GF_ROLE_FMAR, "flexoffer"), GF_CELL_PRIVATE);
	cr_assert_eq(cell_of(GF_ROLE_FOA, GF_ROLE_DOMS, "flexoffer"), 0);
	cr_assert_eq(cell_of(GF_ROLE_FMAN, GF_ROLE_FOA, "flexoffer"), 0, "no reverse row");
	cr_assert_eq(gf_catalog_readers(cat, GF_ROLE_FOA, msg_of("flexoffer")), 0,
	             "a private message has no public readers");
}

Test(catalog_real, weather_forecast_public)
{
	cr_assert_eq(cell_of(GF_ROLE_SP, GF_ROLE_FOA, "weather.forecast"), GF_CELL_PUBLIC);
	cr_assert_eq(cell_of(GF_ROLE_SP, GF_ROLE_FMAN, "weather.forecast"), GF_CELL_PUBLIC);
	cr_assert_eq(cell_of(GF_ROLE_EXT, GF_ROLE_SP, "weather.forecast"), GF_CELL_PUBLIC);
	cr_assert_eq(cell_of(GF_ROLE_SP, GF_ROLE_DOMS, "weather.forecast"), 0);
}

Test(catalog_real, weather_forecast_readers)
{
	int m = msg_of("weather.forecast");

	cr_assert_eq(gf_catalog_readers(cat, GF_ROLE_SP, m),
	             (1u << GF_ROLE_FOA) | (1u << GF_ROLE_FMAN) | (1u << GF_ROLE_FMAR));
	cr_assert_eq(gf_catalog_readers(cat, GF_ROLE_EXT, m), 1u << GF_ROLE_SP);
	cr_assert_eq(gf_catalog_readers(cat, GF_ROLE_FOA, m), 0);
	cr_assert_eq(gf_catalog_readers(cat, GF_ROLE_KPI, msg_of("kpi.alarm")),
	             (1u << GF_ROLE_USER) | (1u << GF_ROLE_OPS));
	cr_assert_eq(gf_catalog_readers(cat, GF_ROLE_SP, -1), 0);
	cr_assert_eq(gf_catalog_readers(cat, GF_ROLE_ALL, m), 0);
	cr_assert_eq(gf_catalog_readers(cat, (enum gf_role) - 1, m), 0);
	cr_assert_eq(gf_catalog_readers(cat, GF_ROLE_SP, 100000), 0);
}

Test(catalog_real, meter_reading_anon)
{
	cr_assert_eq(cell_of(GF_ROLE_DMS, GF_ROLE_SP, "meter.reading"),
	             GF_CELL_PRIVATE | GF_CELL_ANON);
	cr_assert_eq(cell_of(GF_ROLE_FOA, GF_ROLE_FMAN, "meter.reading"), GF_CELL_PRIVATE);
	cr_assert_eq(cell_of(GF_ROLE_XEMS, GF_ROLE_SP, "kv.put"), GF_CELL_PUBLIC | GF_CELL_ANON);
	cr_assert_eq(cell_of(GF_ROLE_XEMS, GF_ROLE_SP, "kv.get"),
	             GF_CELL_PUBLIC | GF_CELL_ANON | GF_CELL_REQUEST);
	cr_assert_eq(cell_of(GF_ROLE_SP, GF_ROLE_XEMS, "kv.get.result"),
	             GF_CELL_PUBLIC | GF_CELL_ANON, "the result keeps anon, loses request");
}

Test(catalog_real, atp_query_request_and_result)
{
	cr_assert_eq(cell_of(GF_ROLE_USER, GF_ROLE_FMAN, "atp.query"),
	             GF_CELL_PRIVATE | GF_CELL_REQUEST);
	cr_assert_eq(cell_of(GF_ROLE_FMAN, GF_ROLE_USER, "atp.query.result"), GF_CELL_PRIVATE);
	cr_assert_eq(cell_of(GF_ROLE_FMAR, GF_ROLE_USER, "atp.query.result"), GF_CELL_PRIVATE);
	cr_assert_eq(cell_of(GF_ROLE_USER, GF_ROLE_FMAN, "atp.query.result"), 0);

	/* The generated rows come after the file's rows. */
	bool found = false;
	for (size_t i = 0; i < gf_catalog_row_count(cat); i++) {
		const struct gf_catalog_row *r = gf_catalog_row(cat, i);
		cr_assert_not_null(r);
		if (r->from == GF_ROLE_FMAN && r->to == GF_ROLE_USER &&
		    strcmp(r->msg, "atp.query.result") == 0) {
			cr_assert_eq(r->cell, GF_CELL_PRIVATE);
			found = true;
		}
	}
	cr_assert(found, "no generated fman -> user atp.query.result row");
	cr_assert_null(gf_catalog_row(cat, gf_catalog_row_count(cat)));
}

static bool is_result(const char *m)
{
	size_t n = strlen(m);

	return n > 7 && strcmp(m + n - 7, ".result") == 0;
}

/* catalog.h: "Rows in file order, each generated ".result" row right after
 * its request." */
Test(catalog_real, rows_in_file_order_results_after_their_request)
{
	const struct gf_catalog_row *first = gf_catalog_row(cat, 0);
	const struct gf_catalog_row *last = gf_catalog_row(cat, gf_catalog_row_count(cat) - 1);
	size_t results = 0;

	cr_assert_eq(first->from, GF_ROLE_USER);
	cr_assert_eq(first->to, GF_ROLE_XEMS);
	cr_assert_str_eq(first->msg, "xems.config");
	for (size_t i = 1; i < gf_catalog_row_count(cat); i++) {
		const struct gf_catalog_row *r = gf_catalog_row(cat, i);
		const struct gf_catalog_row *prev = gf_catalog_row(cat, i - 1);
		size_t n = strlen(prev->msg);
		if (!is_result(r->msg))
			continue;
		results++;
		cr_assert(prev->cell & GF_CELL_REQUEST, "row %zu: %s follows no request", i,
		          r->msg);
		cr_assert_eq(r->from, prev->to);
		cr_assert_eq(r->to, prev->from);
		cr_assert(strncmp(r->msg, prev->msg, n) == 0 && strcmp(r->msg + n, ".result") == 0,
		          "row %zu: %s after %s", i, r->msg, prev->msg);
	}
	cr_assert_eq(results, 15, "15 request rows in the real catalogue, got %zu results",
	             results);
	cr_assert_eq(last->from, GF_ROLE_OPS);
	cr_assert_str_eq(last->msg, "plugin.stats");
	cr_assert_eq(last->cell, GF_CELL_PUBLIC | GF_CELL_BROKER);
}

Test(catalog_real, broker_rows)
{
	cr_assert_eq(cell_of(GF_ROLE_OPS, GF_ROLE_OPS, "audit"), GF_CELL_PUBLIC | GF_CELL_BROKER);
	cr_assert_eq(cell_of(GF_ROLE_FOA, GF_ROLE_OPS, "status"), GF_CELL_PUBLIC);
}

Test(catalog_real, msg_lookup)
{
	int m = msg_of("flexoffer");

	cr_assert_geq(m, 0);
	cr_assert_str_eq(gf_catalog_msg_name(cat, m), "flexoffer");
	cr_assert_eq(msg_of("nosuch.message"), -1);
	cr_assert_eq(msg_of(""), -1);
	cr_assert_eq(msg_of("flexoffe"), -1, "a prefix is not a match");
	cr_assert_eq(msg_of("flexoffer.x"), -1);
	cr_assert_eq(gf_catalog_msg(cat, "flexoffer.assign", 9), m, "len decides");
	cr_assert_null(gf_catalog_msg_name(cat, -1));
	cr_assert_null(gf_catalog_msg_name(cat, (int)gf_catalog_msg_count(cat)));
	for (size_t i = 0; i < gf_catalog_msg_count(cat); i++) {
		const char *name = gf_catalog_msg_name(cat, (int)i);
		cr_assert_eq(msg_of(name), (int)i, "%s", name);
	}
}

Test(catalog_real, cell_out_of_range)
{
	int m = msg_of("flexoffer");

	cr_assert_eq(gf_catalog_cell(cat, GF_ROLE_FOA, GF_ROLE_ALL, m), 0);
	cr_assert_eq(gf_catalog_cell(cat, GF_ROLE_ALL, GF_ROLE_FMAN, m), 0);
	cr_assert_eq(gf_catalog_cell(cat, GF_ROLE_NONE, GF_ROLE_FMAN, m), 0);
	cr_assert_eq(gf_catalog_cell(cat, GF_ROLE_FOA, GF_ROLE_NONE, m), 0);
	cr_assert_eq(gf_catalog_cell(cat, (enum gf_role) - 1, GF_ROLE_FMAN, m), 0);
	cr_assert_eq(gf_catalog_cell(cat, GF_ROLE_FOA, (enum gf_role) - 1, m), 0);
	cr_assert_eq(gf_catalog_cell(cat, GF_ROLE_FOA, GF_ROLE_FMAN, -1), 0);
	cr_assert_eq(
	    gf_catalog_cell(cat, GF_ROLE_FOA, GF_ROLE_FMAN, (int)gf_catalog_msg_count(cat)), 0);
	cr_assert_eq(gf_catalog_cell(cat, GF_ROLE_FOA, GF_ROLE_FMAN, 1 << 30), 0);
	cr_assert_eq(gf_catalog_cell(cat, GF_ROLE_FOA, GF_ROLE_FMAN, m), GF_CELL_PRIVATE);
}

/* --- loading --------------------------------------------------------------- */

Test(catalog_load, missing_file)
{
	struct gf_catalog *c = NULL;
	char err[256] = "";

	cr_assert_eq(gf_catalog_load("schemas/does-not-exist.tsv", &c, err, sizeof(err)), GF_EIO);
	cr_assert_null(c);
	cr_assert_not_null(strstr(err, "schemas/does-not-exist.tsv"), "err: %s", err);
}

Test(catalog_load, error_names_the_path)
{
	char path[] = "/tmp/gf-catalog-test-XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	struct gf_catalog *c = NULL;
	char err[256] = "", expect[300];

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs("# header\nfoa\tfman\tflexoffer\tprivate\t-\nfoa\tfman\tbad\tsecret\t-\n", f);
	fclose(f);
	cr_assert_eq(gf_catalog_load(path, &c, err, sizeof(err)), GF_EPARSE);
	remove(path);
	cr_assert_null(c);
	snprintf(expect, sizeof(expect), "%s:3: class must be private or public, not 'secret'",
	         path);
	cr_assert_str_eq(err, expect);
}

/* --- parse errors: "<name>:<line>: <what>" --------------------------------- */

#define ROW_OK "foa\tfman\tflexoffer\tprivate\t-\n"

Test(catalog_parse, four_fields)
{
	assert_parse_error(ROW_OK "foa\tfman\tflexoffer\tprivate\n",
	                   "t.tsv:2: expected 5 tab-separated fields (from, to, msg, class, "
	                   "flags), found 4");
}

Test(catalog_parse, six_fields)
{
	assert_parse_error("# c\n\n" ROW_OK "foa\tfman\tmeter.reading\tprivate\t-\textra\n",
	                   "t.tsv:4: expected 5 tab-separated fields (from, to, msg, class, "
	                   "flags), found more than 5");
	assert_parse_error("foa\tfman\tmeter.reading\tprivate\t-\t\n",
	                   "t.tsv:1: expected 5 tab-separated fields (from, to, msg, class, "
	                   "flags), found more than 5");
}

Test(catalog_parse, one_field)
{
	assert_parse_error("hello\n", "t.tsv:1: expected 5 tab-separated fields (from, to, msg, "
	                              "class, flags), found 1");
}

Test(catalog_parse, unknown_role)
{
	assert_parse_error(ROW_OK "bogus\tfman\tx\tprivate\t-\n",
	                   "t.tsv:2: unknown sender role 'bogus'");
	assert_parse_error(ROW_OK "foa\tnobody\tx\tprivate\t-\n",
	                   "t.tsv:2: unknown addressee role 'nobody'");
	assert_parse_error("all\tfman\tx\tprivate\t-\n", "t.tsv:1: unknown sender role 'all'");
	assert_parse_error("foa\tall\tx\tprivate\t-\n", "t.tsv:1: unknown addressee role 'all'");
	assert_parse_error("FOA\tfman\tx\tprivate\t-\n", "t.tsv:1: unknown sender role 'FOA'");
}

Test(catalog_parse, bridge_role)
{
	assert_parse_error(ROW_OK "bridge\tfman\tx\tpublic\t-\n",
	                   "t.tsv:2: unknown sender role 'bridge'");
	assert_parse_error(ROW_OK "sp\tbridge\tx\tpublic\t-\n",
	                   "t.tsv:2: unknown addressee role 'bridge'");
}

Test(catalog_parse, bad_class)
{
	assert_parse_error(ROW_OK "foa\tfman\tx\tsecret\t-\n",
	                   "t.tsv:2: class must be private or public, not 'secret'");
	assert_parse_error(ROW_OK "foa\tfman\tx\tPrivate\t-\n",
	                   "t.tsv:2: class must be private or public, not 'Private'");
	assert_parse_error(ROW_OK "foa\tfman\tx\t\t-\n",
	                   "t.tsv:2: class must be private or public, not ''");
}

Test(catalog_parse, unknown_flag)
{
	assert_parse_error(ROW_OK "foa\tfman\tx\tprivate\tloud\n",
	                   "t.tsv:2: unknown flag 'loud' (expected anon, request, broker or -)");
	assert_parse_error(ROW_OK "foa\tfman\tx\tprivate\tanon,loud\n",
	                   "t.tsv:2: unknown flag 'loud' (expected anon, request, broker or -)");
	assert_parse_error(ROW_OK "foa\tfman\tx\tprivate\tanon,\n",
	                   "t.tsv:2: unknown flag '' (expected anon, request, broker or -)");
	assert_parse_error(ROW_OK "foa\tfman\tx\tprivate\t\n",
	                   "t.tsv:2: unknown flag '' (expected anon, request, broker or -)");
}

Test(catalog_parse, duplicate_row)
{
	assert_parse_error("# c\n" ROW_OK "foa\tfmar\tflexoffer\tprivate\t-\n" ROW_OK,
	                   "t.tsv:4: duplicate row foa -> fman : flexoffer");
	/* The same row differing only in flags is still a duplicate. */
	assert_parse_error(ROW_OK "foa\tfman\tflexoffer\tprivate\tanon\n",
	                   "t.tsv:2: duplicate row foa -> fman : flexoffer");
	/* A row that a request generates counts too. */
	assert_parse_error("user\tfman\tq\tprivate\trequest\nfman\tuser\tq.result\tprivate\t-\n",
	                   "t.tsv:2: duplicate row fman -> user : q.result");
}

Test(catalog_parse, bad_msg_name)
{
	assert_parse_error(ROW_OK "foa\tfman\tFlexoffer\tprivate\t-\n",
	                   "t.tsv:2: invalid message type 'Flexoffer' (dotted lower-case, at "
	                   "most 57)");
	assert_parse_error(ROW_OK "foa\tfman\ta..b\tprivate\t-\n",
	                   "t.tsv:2: invalid message type 'a..b' (dotted lower-case, at most 57)");
	assert_parse_error(ROW_OK "foa\tfman\t\tprivate\t-\n",
	                   "t.tsv:2: invalid message type '' (dotted lower-case, at most 57)");

	/* 57 characters leave room for ".result"; 58 do not. */
	char text[256], name[64], expect[256];
	memset(name, 'm', 58);
	name[58] = '\0';
	snprintf(text, sizeof(text), "foa\tfman\t%s\tprivate\t-\n", name);
	snprintf(expect, sizeof(expect),
	         "t.tsv:1: invalid message type '%s' (dotted lower-case, at most 57)", name);
	assert_parse_error(text, expect);

	struct gf_catalog *c = NULL;
	name[57] = '\0';
	snprintf(text, sizeof(text), "foa\tfman\t%s\tprivate\trequest\n", name);
	cr_assert_eq(gf_catalog_parse(text, strlen(text), "t.tsv", &c, NULL, 0), GF_OK);
	cr_assert_eq(gf_catalog_row_count(c), 2);
	gf_catalog_free(c);
}

Test(catalog_parse, ops_row_without_broker_flag)
{
	assert_parse_error(ROW_OK "ops\tops\taudit\tpublic\t-\n",
	                   "t.tsv:2: ops is read-only: its rows must carry the broker flag");
	assert_parse_error(ROW_OK "ops\tuser\tx\tpublic\tanon\n",
	                   "t.tsv:2: ops is read-only: its rows must carry the broker flag");
}

/*
 * "parse errors report the right line number": a public/private conflict is
 * found after every row is read, but the report should still name the line of
 * the row that conflicts with an earlier one (here line 3).
 */
Test(catalog_parse, public_private_conflict)
{
	char err[256];

	parse_fails("sp\tfoa\tw\tpublic\t-\n# c\nsp\tfman\tw\tprivate\t-\n", err, sizeof(err));
	cr_assert_not_null(strstr(err, "sp -> fman : w is private but sp -> foa is public"),
	                   "err: %s", err);
	cr_assert_str_eq(err, "t.tsv:3: sp -> fman : w is private but sp -> foa is public");
}

Test(catalog_parse, conflict_text)
{
	char err[256];

	/* Through a generated result row: sp -> fman : q.result is public (from the
	 * request) but the file says sp -> foa : q.result is private. */
	parse_fails("fman\tsp\tq\tpublic\trequest\nsp\tfoa\tq.result\tprivate\t-\n", err,
	            sizeof(err));
	cr_assert_not_null(strstr(err, "q.result is"), "err: %s", err);
	cr_assert_not_null(strstr(err, "sp -> fman"), "err: %s", err);
	cr_assert_not_null(strstr(err, "sp -> foa"), "err: %s", err);
	cr_assert_not_null(strstr(err, " is public"), "err: %s", err);
	cr_assert_not_null(strstr(err, " is private"), "err: %s", err);
	/* Different senders may differ in class. */
	struct gf_catalog *c = NULL;
	const char *ok = "sp\tfoa\tw\tpublic\t-\next\tsp\tw\tprivate\t-\n";
	cr_assert_eq(gf_catalog_parse(ok, strlen(ok), "t.tsv", &c, err, sizeof(err)), GF_OK, "%s",
	             err);
	gf_catalog_free(c);
}

Test(catalog_parse, empty_file)
{
	char err[256];

	parse_fails("", err, sizeof(err));
	cr_assert_not_null(strstr(err, "no rows"), "err: %s", err);
	cr_assert_eq(strncmp(err, "t.tsv:", 6), 0, "err: %s", err);
	parse_fails("# only a comment\n\n\n", err, sizeof(err));
	cr_assert_not_null(strstr(err, "no rows"), "err: %s", err);
}

Test(catalog_parse, nul_byte)
{
	static const char text[] = ROW_OK "foa\tfman\tm\0x\tprivate\t-\n";
	struct gf_catalog *c = NULL;
	char err[256];

	cr_assert_eq(gf_catalog_parse(text, sizeof(text) - 1, "t.tsv", &c, err, sizeof(err)),
	             GF_EPARSE);
	cr_assert_str_eq(err, "t.tsv:2: NUL byte in line");
}

Test(catalog_parse, null_err_buffer)
{
	struct gf_catalog *c = NULL;
	const char *text = "bogus\n";

	cr_assert_eq(gf_catalog_parse(text, strlen(text), "t.tsv", &c, NULL, 0), GF_EPARSE);
	cr_assert_null(c);
}

Test(catalog_parse, small_err_buffer)
{
	struct gf_catalog *c = NULL;
	const char *text = "bogus\n";
	char err[8];

	memset(err, 'x', sizeof(err));
	cr_assert_eq(gf_catalog_parse(text, strlen(text), "t.tsv", &c, err, sizeof(err)),
	             GF_EPARSE);
	cr_assert_eq(strlen(err), 7);
	cr_assert_str_eq(err, "t.tsv:1");
}

/* --- accepted forms -------------------------------------------------------- */

Test(catalog_parse, crlf_comments_blank_lines)
{
	const char *text = "# comment\r\n"
	                   "\r\n"
	                   "\n"
	                   "#foa\tbogus\n"
	                   "foa\tfman\tflexoffer\tprivate\t-\r\n"
	                   "sp\tfoa\tweather.forecast\tpublic\t-\r\n"
	                   "user\tfman\tatp.query\tprivate\tanon,request\r\n"
	                   "ops\tops\taudit\tpublic\tbroker"; /* no final newline */
	struct gf_catalog *c = NULL;
	char err[256] = "";

	cr_assert_eq(gf_catalog_parse(text, strlen(text), "t.tsv", &c, err, sizeof(err)), GF_OK,
	             "%s", err);
	cr_assert_str_eq(err, "");
	cr_assert_eq(gf_catalog_row_count(c), 5);
	cr_assert_eq(gf_catalog_msg_count(c), 5);
	int fo = gf_catalog_msg(c, "flexoffer", 9);
	int wf = gf_catalog_msg(c, "weather.forecast", 16);
	int aq = gf_catalog_msg(c, "atp.query", 9);
	int ar = gf_catalog_msg(c, "atp.query.result", 16);
	int au = gf_catalog_msg(c, "audit", 5);
	cr_assert(fo >= 0 && wf >= 0 && aq >= 0 && ar >= 0 && au >= 0);
	cr_assert_eq(gf_catalog_cell(c, GF_ROLE_FOA, GF_ROLE_FMAN, fo), GF_CELL_PRIVATE);
	cr_assert_eq(gf_catalog_cell(c, GF_ROLE_SP, GF_ROLE_FOA, wf), GF_CELL_PUBLIC);
	cr_assert_eq(gf_catalog_cell(c, GF_ROLE_USER, GF_ROLE_FMAN, aq),
	             GF_CELL_PRIVATE | GF_CELL_ANON | GF_CELL_REQUEST);
	cr_assert_eq(gf_catalog_cell(c, GF_ROLE_FMAN, GF_ROLE_USER, ar),
	             GF_CELL_PRIVATE | GF_CELL_ANON);
	cr_assert_eq(gf_catalog_cell(c, GF_ROLE_OPS, GF_ROLE_OPS, au),
	             GF_CELL_PUBLIC | GF_CELL_BROKER);
	cr_assert_eq(gf_catalog_msg(c, "bogus", 5), -1);
	/* The message text ends without "\r". */
	cr_assert_str_eq(gf_catalog_msg_name(c, au), "audit");
	gf_catalog_free(c);
}

Test(catalog_parse, crlf_error_line_numbers)
{
	assert_parse_error("# a\r\n" ROW_OK "foa\tfman\tx\tsecret\t-\r\n",
	                   "t.tsv:3: class must be private or public, not 'secret'");
}

Test(catalog_parse, text_need_not_be_nul_terminated)
{
	/* Only the first len bytes count: the second row is outside. */
	const char *text = ROW_OK "bogus\tline\n";
	struct gf_catalog *c = NULL;

	cr_assert_eq(gf_catalog_parse(text, strlen(ROW_OK), "t.tsv", &c, NULL, 0), GF_OK);
	cr_assert_eq(gf_catalog_row_count(c), 1);
	gf_catalog_free(c);
}

Test(catalog_parse, free_null)
{
	gf_catalog_free(NULL);
}
