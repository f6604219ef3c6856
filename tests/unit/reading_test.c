/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/meter/reading.h: the DMS CSV, the configurable CSV and
 * the JSON array, read whole, in chunks of every size and resumed at every
 * row's end. Tests run from the repository root (the DMS sample is in
 * ../shared/fixtures/goflex-samples/). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leak_check.h"
#include "meter/reading.h"

#define DMS_SAMPLE "../shared/fixtures/goflex-samples/dms-sample.csv"

TestSuite(reading, .fini = leak_check);

struct rows {
	struct gf_reading_row *v;
	size_t n;
};

static void rows_free(struct rows *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* Reads in[0..len) in chunks of chunk bytes (0: whole), taking rows after
 * each chunk, from offset start (the input given is already from there). */
static struct rows read_from(enum gf_reading_format f, const struct gf_reading_csv *o,
                             const char *in, size_t len, size_t chunk, uint64_t start,
                             size_t first_line)
{
	struct gf_reading_reader *r = NULL;
	struct rows out = {NULL, 0};
	size_t cap = 0, pos = 0;

	cr_assert_eq(gf_reading_reader_new(f, o, start, first_line, &r), GF_OK);
	if (chunk == 0)
		chunk = len ? len : 1;
	do {
		size_t n = len - pos < chunk ? len - pos : chunk;
		struct gf_reading_row row;

		cr_assert_eq(gf_reading_feed(r, in + pos, n, pos + n == len), GF_OK);
		pos += n;
		while (gf_reading_next(r, &row)) {
			if (out.n == cap) {
				cap = cap ? cap * 2 : 16;
				out.v = realloc(out.v, cap * sizeof(*out.v));
				cr_assert_not_null(out.v);
			}
			out.v[out.n++] = row;
		}
	} while (pos < len);
	cr_assert(!gf_reading_next(r, &(struct gf_reading_row){0}), "rows after the end");
	gf_reading_reader_free(r);
	return out;
}

static struct rows read_all(enum gf_reading_format f, const struct gf_reading_csv *o,
                            const char *in, size_t chunk)
{
	return read_from(f, o, in, strlen(in), chunk, 0, 1);
}

static void same_row(const struct gf_reading_row *a, const struct gf_reading_row *b, size_t i)
{
	cr_assert_eq(a->ok, b->ok, "row %zu: ok", i);
	cr_assert_str_eq(a->why, b->why, "row %zu: why", i);
	cr_assert_eq(a->line, b->line, "row %zu: line %zu vs %zu", i, a->line, b->line);
	cr_assert_eq(a->end, b->end, "row %zu: end %llu vs %llu", i, (unsigned long long)a->end,
	             (unsigned long long)b->end);
	cr_assert_eq(a->end_line, b->end_line, "row %zu: end_line", i);
	cr_assert_str_eq(a->device, b->device, "row %zu: device", i);
	cr_assert_eq(a->has_utc, b->has_utc, "row %zu: has_utc", i);
	cr_assert_eq(a->utc_ms, b->utc_ms, "row %zu: utc_ms", i);
	cr_assert_eq(memcmp(&a->local, &b->local, sizeof(a->local)), 0, "row %zu: local", i);
	cr_assert_eq(memcmp(&a->value, &b->value, sizeof(a->value)), 0, "row %zu: value", i);
}

static void same_rows(const struct rows *a, const struct rows *b, const char *what)
{
	cr_assert_eq(a->n, b->n, "%s: %zu rows vs %zu", what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		same_row(&a->v[i], &b->v[i], i);
}

/*
 * The invariants every input keeps: the same rows in chunks of any size as
 * whole; offsets ascending and within the input; resumed at each row's end,
 * exactly the rows after it.
 */
static void invariants(enum gf_reading_format f, const struct gf_reading_csv *o, const char *in,
                       size_t len)
{
	static const size_t chunks[] = {1, 2, 3, 5, 7, 64, 4095, 4097};
	struct rows whole = read_from(f, o, in, len, 0, 0, 1);

	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct rows part = read_from(f, o, in, len, chunks[c], 0, 1);
		char what[32];
		snprintf(what, sizeof(what), "chunks of %zu", chunks[c]);
		same_rows(&whole, &part, what);
		rows_free(&part);
	}
	for (size_t i = 0; i < whole.n; i++) {
		struct rows rest;
		uint64_t end = whole.v[i].end;

		cr_assert_leq(end, len);
		cr_assert(i == 0 || end > whole.v[i - 1].end, "row %zu: end does not increase", i);
		rest = read_from(f, o, in + end, len - (size_t)end, 3, end, whole.v[i].end_line);
		struct rows tail = {whole.v + i + 1, whole.n - i - 1};
		same_rows(&tail, &rest, "resumed");
		rows_free(&rest);
	}
	rows_free(&whole);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *s;
	long n;

	cr_assert_not_null(fp, "%s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	s = malloc((size_t)n + 1);
	cr_assert_not_null(s);
	cr_assert_eq(fread(s, 1, (size_t)n, fp), (size_t)n);
	s[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return s;
}

static void is_local(const struct gf_reading_row *r, int y, int mo, int d, int h, int mi, int s)
{
	cr_assert(!r->has_utc);
	cr_assert(r->local.year == y && r->local.month == mo && r->local.day == d &&
	              r->local.hour == h && r->local.minute == mi && r->local.second == s,
	          "line %zu: %04d-%02d-%02d %02d:%02d:%02d", r->line, r->local.year, r->local.month,
	          r->local.day, r->local.hour, r->local.minute, r->local.second);
}

Test(reading, dms_sample)
{
	size_t len;
	char *in = slurp(DMS_SAMPLE, &len);
	struct rows rows = read_from(GF_READING_DMS, NULL, in, len, 0, 0, 1);
	size_t end = 0;

	cr_assert_eq(rows.n, 12);
	for (size_t i = 0; i < rows.n; i++) {
		cr_assert(rows.v[i].ok, "line %zu: %s", i + 1, rows.v[i].why);
		cr_assert_eq(rows.v[i].line, i + 1);
		end = (size_t)(strchr(in + end, '\n') - in) + 1;
		cr_assert_eq(rows.v[i].end, end);
		cr_assert_eq(rows.v[i].end_line, i + 2);
	}
	cr_assert_str_eq(rows.v[0].device, "1");
	is_local(&rows.v[0], 2017, 1, 1, 0, 1, 0);
	cr_assert_eq(rows.v[0].value, 18.698);
	cr_assert_str_eq(rows.v[6].device, "100");
	is_local(&rows.v[11], 2015, 1, 1, 1, 11, 0);
	cr_assert_eq(rows.v[11].value, 18.7605);
	cr_assert_eq(rows.v[11].end, len);
	invariants(GF_READING_DMS, NULL, in, len);
	rows_free(&rows);
	free(in);
}

Test(reading, crlf_lf_bom_and_empty_lines)
{
	const char *lf = "\"1\",2024-01-01 00:00:00,1.5\n\n\"2\",2024-01-01 00:15:00,2.5\n";
	const char *crlf = "\xEF\xBB\xBF\r\n\"1\",2024-01-01 00:00:00,1.5\r\n\r\n\r\n"
	                   "\"2\",2024-01-01 00:15:00,2.5";
	struct rows a = read_all(GF_READING_DMS, NULL, lf, 1);
	struct rows b = read_all(GF_READING_DMS, NULL, crlf, 1);

	cr_assert_eq(a.n, 2);
	cr_assert_eq(b.n, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_assert(a.v[i].ok && b.v[i].ok, "%s %s", a.v[i].why, b.v[i].why);
		cr_assert_str_eq(a.v[i].device, b.v[i].device);
		cr_assert_eq(a.v[i].value, b.v[i].value);
	}
	cr_assert_eq(a.v[0].line, 1);
	cr_assert_eq(a.v[1].line, 3);
	cr_assert_eq(b.v[0].line, 2);
	cr_assert_eq(b.v[0].end, 3 + 2 + 29);
	cr_assert_eq(b.v[1].line, 5);
	cr_assert_eq(b.v[1].end, strlen(crlf)); /* the unterminated last line */
	invariants(GF_READING_DMS, NULL, lf, strlen(lf));
	invariants(GF_READING_DMS, NULL, crlf, strlen(crlf));
	rows_free(&a);
	rows_free(&b);
}

Test(reading, bom_only_at_the_start)
{
	const char *in = "\"1\",2024-01-01 00:00:00,1\n\xEF\xBB\xBF\"2\",2024-01-01 00:00:00,1\n";
	struct rows r = read_all(GF_READING_DMS, NULL, in, 1);

	cr_assert_eq(r.n, 2);
	cr_assert(r.v[0].ok);
	cr_assert(!r.v[1].ok);
	cr_assert_str_eq(r.v[1].why, "quote inside an unquoted field");
	rows_free(&r);
	/* a BOM cut short is data */
	r = read_all(GF_READING_DMS, NULL, "\xEF\xBB", 1);
	cr_assert_eq(r.n, 1);
	cr_assert(!r.v[0].ok);
	rows_free(&r);
	/* only a BOM: nothing */
	r = read_all(GF_READING_JSON, NULL, "\xEF\xBB\xBF", 1);
	cr_assert_eq(r.n, 0);
	rows_free(&r);
}

Test(reading, quotes)
{
	const char *in = "\"a \"\"quoted\"\" id\" , 2024-01-01 00:00:00 , \"18.5\"\n"
	                 "\"unterminated,2024-01-01 00:00:00,1\n"
	                 "\"a\"x,2024-01-01 00:00:00,1\n"
	                 "a\"b,2024-01-01 00:00:00,1\n"
	                 "plain id,2024-01-01 00:00:00,1\n"
	                 "\"\",2024-01-01 00:00:00,1\n"
	                 "\"with, comma\",2024-01-01 00:00:00,1\n";
	struct rows r = read_all(GF_READING_DMS, NULL, in, 0);

	cr_assert_eq(r.n, 7);
	cr_assert(r.v[0].ok, "%s", r.v[0].why);
	cr_assert_str_eq(r.v[0].device, "a \"quoted\" id");
	cr_assert_eq(r.v[0].value, 18.5);
	cr_assert_str_eq(r.v[1].why, "unterminated quote");
	cr_assert_str_eq(r.v[2].why, "text after a closing quote");
	cr_assert_str_eq(r.v[3].why, "quote inside an unquoted field");
	cr_assert(r.v[4].ok);
	cr_assert_str_eq(r.v[4].device, "plain id");
	cr_assert_str_eq(r.v[5].why, "device id is empty");
	cr_assert(r.v[6].ok);
	cr_assert_str_eq(r.v[6].device, "with, comma");
	for (size_t i = 1; i < 6; i++)
		cr_assert(i == 4 ||
		          (!r.v[i].ok && r.v[i].line == i + 1 && r.v[i].device[0] == '\0'));
	invariants(GF_READING_DMS, NULL, in, strlen(in));
	rows_free(&r);
}

/* A valid DMS row padded with blanks before its newline to len bytes. */
static char *padded_row(size_t len, const char *nl)
{
	const char *row = "\"1\",2024-01-01 00:00:00,1";
	char *s = malloc(len + 64);

	cr_assert_not_null(s);
	memset(s, ' ', len);
	memcpy(s, row, strlen(row));
	strcpy(s + len, nl);
	strcat(s, "\"2\",2024-01-01 00:00:00,2\n");
	return s;
}

Test(reading, long_lines)
{
	static const struct {
		size_t len;
		const char *nl;
		bool ok;
	} cases[] = {
	    {GF_READING_LINE_MAX, "\n", true},       {GF_READING_LINE_MAX, "\r\n", true},
	    {GF_READING_LINE_MAX + 1, "\n", false},  {GF_READING_LINE_MAX + 1, "\r\n", false},
	    {GF_READING_LINE_MAX + 2, "\n", false},  {100000, "\n", false},
	    {GF_READING_LINE_MAX - 1, "\r\n", true},
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *in = padded_row(cases[c].len, cases[c].nl);
		struct rows r = read_all(GF_READING_DMS, NULL, in, 1);

		cr_assert_eq(r.n, 2, "case %zu", c);
		cr_assert_eq(r.v[0].ok, cases[c].ok, "case %zu: %s", c, r.v[0].why);
		if (!cases[c].ok)
			cr_assert_str_eq(r.v[0].why, "line longer than 4096 bytes");
		cr_assert_eq(r.v[0].line, 1);
		cr_assert_eq(r.v[0].end, cases[c].len + strlen(cases[c].nl));
		cr_assert(r.v[1].ok);
		cr_assert_eq(r.v[1].line, 2);
		cr_assert_str_eq(r.v[1].device, "2");
		invariants(GF_READING_DMS, NULL, in, strlen(in));
		rows_free(&r);
		free(in);
	}
	/* an over-long last line without a newline */
	char *in = padded_row(5000, "");
	in[5000] = '\0';
	struct rows r = read_all(GF_READING_DMS, NULL, in, 7);
	cr_assert_eq(r.n, 1);
	cr_assert(!r.v[0].ok);
	cr_assert_eq(r.v[0].end, 5000);
	rows_free(&r);
	free(in);
}

Test(reading, device_ids)
{
	char in[512], id[GF_READING_DEVICE_MAX + 2];
	struct rows r;

	memset(id, 'd', sizeof(id));
	id[GF_READING_DEVICE_MAX] = '\0';
	snprintf(in, sizeof(in), "\"%s\",2024-01-01 00:00:00,1\n", id);
	r = read_all(GF_READING_DMS, NULL, in, 0);
	cr_assert(r.v[0].ok);
	cr_assert_eq(strlen(r.v[0].device), GF_READING_DEVICE_MAX);
	rows_free(&r);
	id[GF_READING_DEVICE_MAX] = 'd';
	id[GF_READING_DEVICE_MAX + 1] = '\0';
	snprintf(in, sizeof(in), "\"%s\",2024-01-01 00:00:00,1\n", id);
	r = read_all(GF_READING_DMS, NULL, in, 0);
	cr_assert(!r.v[0].ok);
	cr_assert_str_eq(r.v[0].why, "device id longer than 128 bytes");
	rows_free(&r);
	r = read_all(GF_READING_DMS, NULL,
	             "\"a\tb\",2024-01-01 00:00:00,1\n\"a\x7f\",2024-01-01 00:00:00,1\n", 0);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.v[0].why, "device id has a control character");
	cr_assert_str_eq(r.v[1].why, "device id has a control character");
	rows_free(&r);
	/* a NUL inside a line is a byte like any other, not an end */
	const char nul[] = "\"a\0b\",2024-01-01 00:00:00,1\n\"c\",2024-01-01 00:00:00,1\n";
	r = read_from(GF_READING_DMS, NULL, nul, sizeof(nul) - 1, 1, 0, 1);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.v[0].why, "device id has a control character");
	cr_assert(r.v[1].ok);
	rows_free(&r);
}

/* The value of a one-row DMS input with value text v: NULL if accepted
 * (into *out), else the reason. */
static const char *dms_value(const char *v, double *out)
{
	static char why[96];
	char in[256];
	struct rows r;

	snprintf(in, sizeof(in), "\"m\",2024-01-01 00:00:00,%s\n", v);
	r = read_all(GF_READING_DMS, NULL, in, 0);
	cr_assert_eq(r.n, 1, "%s", v);
	*out = r.v[0].value;
	snprintf(why, sizeof(why), "%s", r.v[0].why);
	bool ok = r.v[0].ok;
	rows_free(&r);
	return ok ? NULL : why;
}

Test(reading, values)
{
	static const struct {
		const char *text;
		double v;
	} good[] = {
	    {"18.6980", 18.698}, {" 18.6980 ", 18.698}, {"-0.5", -0.5},
	    {"+2", 2.0},         {"1e3", 1000.0},       {"1.5E-3", 0.0015},
	    {"0", 0.0},          {"\"7.25\"", 7.25},    {"123456789012.5", 123456789012.5},
	};
	static const char *const bad[] = {
	    "NaN", "nan", "inf", "-Infinity", "",    "\"\"",    "0x10",  ".5",    "5.",
	    "1e",  "1e+", "--1", "1.2.3",     "1 2", "\"1,5\"", "12abc", "1e999", "-1e400",
	};
	double v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const char *why = dms_value(good[i].text, &v);
		cr_assert_null(why, "%s: %s", good[i].text, why);
		cr_assert_eq(v, good[i].v, "%s: %.17g", good[i].text, v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_not_null(dms_value(bad[i], &v), "%s accepted", bad[i]);
	cr_assert_str_eq(dms_value("", &v), "value is empty");
	cr_assert_str_eq(dms_value("1e999", &v), "value is out of range");
	cr_assert_str_eq(dms_value("NaN", &v), "value is not a number");
	/* a decimal comma unquoted is a fourth field in the DMS form */
	cr_assert_str_eq(dms_value("18,698", &v), "row has 4 fields, a DMS row has 3");
}

Test(reading, dms_field_count)
{
	struct rows r = read_all(GF_READING_DMS, NULL,
	                         "\"1\",2024-01-01 00:00:00\n"
	                         "\"1\",2024-01-01 00:00:00,1,\n"
	                         "\"1\";2024-01-01 00:00:00;1\n",
	                         0);

	cr_assert_eq(r.n, 3);
	cr_assert_str_eq(r.v[0].why, "row has 2 fields, a DMS row has 3");
	cr_assert_str_eq(r.v[1].why, "row has 4 fields, a DMS row has 3");
	cr_assert_str_eq(r.v[2].why, "text after a closing quote");
	rows_free(&r);
}

Test(reading, times)
{
	struct rows r = read_all(GF_READING_DMS, NULL,
	                         "m,2020-02-27T20:30:00.000+0000,1\n"
	                         "m,2020-02-27T22:30:00+02:00,1\n"
	                         "m,2020-02-27T20:30:00Z,1\n"
	                         "m,2020-02-27 20:30,1\n"
	                         "m,2020-02-27T20:30:00,1\n"
	                         "m,2020-02-30 00:00:00,1\n"
	                         "m,2021-02-29 00:00:00,1\n"
	                         "m,2020-02-27 24:00:00,1\n"
	                         "m,27.02.2020 20:30,1\n"
	                         "m,,1\n"
	                         "m,1582835400,1\n",
	                         0);

	cr_assert_eq(r.n, 11);
	for (size_t i = 0; i < 3; i++) {
		cr_assert(r.v[i].ok && r.v[i].has_utc, "line %zu: %s", i + 1, r.v[i].why);
		cr_assert_eq(r.v[i].utc_ms, 1582835400000LL);
	}
	is_local(&r.v[3], 2020, 2, 27, 20, 30, 0);
	is_local(&r.v[4], 2020, 2, 27, 20, 30, 0);
	for (size_t i = 5; i < 11; i++) {
		cr_assert(!r.v[i].ok, "line %zu accepted", i + 1);
		cr_assert(strncmp(r.v[i].why, "time is", 7) == 0, "%s", r.v[i].why);
	}
	rows_free(&r);
}

Test(reading, configurable_csv)
{
	struct gf_reading_csv o = {';', true, true, 3, 1, 2};
	const char *in = "time;value;device;obis\n"
	                 "2024-01-01 00:00:00;18,698;m1;1-0:1.8.0\n"
	                 "2024-01-01 00:15:00;\"18,75\";\"m;2\"\n"
	                 "2024-01-01 00:30:00;18.8;m1\n"
	                 "2024-01-01 00:45:00;19\n";
	struct rows r = read_all(GF_READING_CSV, &o, in, 0);

	cr_assert_eq(r.n, 4);
	cr_assert(r.v[0].ok, "%s", r.v[0].why);
	cr_assert_eq(r.v[0].line, 2);
	cr_assert_str_eq(r.v[0].device, "m1");
	cr_assert_eq(r.v[0].value, 18.698);
	cr_assert(r.v[1].ok, "%s", r.v[1].why);
	cr_assert_str_eq(r.v[1].device, "m;2");
	cr_assert_eq(r.v[1].value, 18.75);
	cr_assert_str_eq(r.v[2].why, "value is not a number"); /* a point with decimal_comma */
	cr_assert_str_eq(r.v[3].why, "row has 2 fields, column 3 is needed");
	invariants(GF_READING_CSV, &o, in, strlen(in));
	rows_free(&r);

	/* the header is the first line that is not empty, and only at offset 0 */
	r = read_all(GF_READING_CSV, &o, "\n\ntime;value;device\n2024-01-01 00:00:00;1;m\n", 1);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.v[0].line, 4);
	rows_free(&r);

	/* tabs, decimal point, no header */
	struct gf_reading_csv tab = {'\t', false, false, 1, 2, 3};
	r = read_all(GF_READING_CSV, &tab, "m 1\t2024-01-01 00:00:00\t 2.5\n", 0);
	cr_assert_eq(r.n, 1);
	cr_assert(r.v[0].ok, "%s", r.v[0].why);
	cr_assert_str_eq(r.v[0].device, "m 1");
	cr_assert_eq(r.v[0].value, 2.5);
	rows_free(&r);
	/* a comma separator with a decimal comma needs quotes */
	struct gf_reading_csv cc = {',', true, false, 1, 2, 3};
	r = read_all(GF_READING_CSV, &cc,
	             "m,2024-01-01 00:00:00,\"2,5\"\nm,2024-01-01 00:00:00,2,5\n", 0);
	cr_assert_eq(r.n, 2);
	cr_assert(r.v[0].ok);
	cr_assert_eq(r.v[0].value, 2.5);
	cr_assert(r.v[1].ok); /* the fourth field is not looked at: the value is 2 */
	cr_assert_eq(r.v[1].value, 2.0);
	rows_free(&r);
}

Test(reading, bad_options)
{
	struct gf_reading_reader *r = NULL;
	struct gf_reading_csv o = {';', false, false, 1, 2, 3};
	static const struct gf_reading_csv bad[] = {
	    {'"', false, false, 1, 2, 3},  {'\n', false, false, 1, 2, 3},
	    {'\0', false, false, 1, 2, 3}, {' ', false, false, 1, 2, 3},
	    {'.', true, false, 1, 2, 3},   {';', false, false, 1, 1, 3},
	    {';', false, false, 0, 2, 3},  {';', false, false, 1, 2, 100000},
	    {'5', false, false, 1, 2, 3},
	};

	cr_assert_eq(gf_reading_reader_new(GF_READING_CSV, NULL, 0, 1, &r), GF_EINVAL);
	cr_assert_eq(gf_reading_reader_new(GF_READING_DMS, &o, 0, 1, &r), GF_EINVAL);
	cr_assert_eq(gf_reading_reader_new(GF_READING_JSON, &o, 0, 1, &r), GF_EINVAL);
	cr_assert_eq(gf_reading_reader_new(GF_READING_DMS, NULL, 0, 0, &r), GF_EINVAL);
	cr_assert_eq(gf_reading_reader_new((enum gf_reading_format)7, NULL, 0, 1, &r), GF_EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(gf_reading_reader_new(GF_READING_CSV, &bad[i], 0, 1, &r), GF_EINVAL,
		             "case %zu", i);
	cr_assert_null(r);
	cr_assert_eq(gf_reading_reader_new(GF_READING_CSV, &o, 0, 1, &r), GF_OK);
	cr_assert_eq(gf_reading_feed(r, "x", 1, true), GF_OK);
	cr_assert_eq(gf_reading_feed(r, "y", 1, false), GF_EINVAL); /* after the end */
	gf_reading_reader_free(r);
	gf_reading_reader_free(NULL);
}

Test(reading, format_names)
{
	enum gf_reading_format f = GF_READING_CSV;

	cr_assert_eq(gf_reading_format_parse("dms", &f), GF_OK);
	cr_assert_eq(f, GF_READING_DMS);
	cr_assert_eq(gf_reading_format_parse("json", &f), GF_OK);
	cr_assert_eq(f, GF_READING_JSON);
	cr_assert_eq(gf_reading_format_parse("csv", &f), GF_OK);
	cr_assert_eq(f, GF_READING_CSV);
	cr_assert_eq(gf_reading_format_parse("CSV", &f), GF_EINVAL);
	cr_assert_eq(gf_reading_format_parse("", &f), GF_EINVAL);
	cr_assert_eq(gf_reading_format_parse(NULL, &f), GF_EINVAL);
	cr_assert_eq(f, GF_READING_CSV);
}

Test(reading, json_goflex_array)
{
	const char *in =
	    "[\n"
	    "  {\"observed_timestamp\": \"2020-02-27T20:30:00.000+0000\",\n"
	    "   \"device_id\": \"1\", \"value\": 18.698},\n"
	    "  {\"observedTimestamp\": \"2024-10-27 03:30:00\", \"deviceId\": \"d\\\"}{\","
	    " \"value\": \"18.75\", \"obis\": \"1-0:1.8.0\"}\n"
	    "]\n";
	struct rows r = read_all(GF_READING_JSON, NULL, in, 0);

	cr_assert_eq(r.n, 2);
	cr_assert(r.v[0].ok, "%s", r.v[0].why);
	cr_assert_eq(r.v[0].line, 2);
	cr_assert_eq(r.v[0].end_line, 3);
	cr_assert(r.v[0].has_utc);
	cr_assert_eq(r.v[0].utc_ms, 1582835400000LL);
	cr_assert_str_eq(r.v[0].device, "1");
	cr_assert_eq(r.v[0].value, 18.698);
	cr_assert_eq(in[r.v[0].end - 1], '}');
	cr_assert(r.v[1].ok, "%s", r.v[1].why);
	cr_assert_eq(r.v[1].line, 4);
	cr_assert_str_eq(r.v[1].device, "d\"}{");
	is_local(&r.v[1], 2024, 10, 27, 3, 30, 0);
	cr_assert_eq(r.v[1].value, 18.75);
	cr_assert_eq(in[r.v[1].end - 1], '}');
	invariants(GF_READING_JSON, NULL, in, strlen(in));
	rows_free(&r);
}

/* The reasons of a json input's rows, joined by '|' ("ok" for a good row). */
static const char *json_whys(const char *in)
{
	static char out[1024];
	struct rows r = read_all(GF_READING_JSON, NULL, in, 1);

	out[0] = '\0';
	for (size_t i = 0; i < r.n; i++) {
		if (i)
			strcat(out, "|");
		strcat(out, r.v[i].ok ? "ok" : r.v[i].why);
	}
	invariants(GF_READING_JSON, NULL, in, strlen(in));
	rows_free(&r);
	return out;
}

#define OBJ(dev, ts, val) "{\"device_id\":" dev ",\"observed_timestamp\":" ts ",\"value\":" val "}"
#define GOOD              OBJ("\"m\"", "\"2024-01-01 00:00:00\"", "1")

Test(reading, json_rejections)
{
	cr_assert_str_eq(json_whys(""), "");
	cr_assert_str_eq(json_whys(" \n "), "");
	cr_assert_str_eq(json_whys("[]"), "");
	cr_assert_str_eq(json_whys("[" GOOD "]"), "ok");
	cr_assert_str_eq(json_whys(GOOD), "input is not a JSON array");
	cr_assert_str_eq(json_whys("\"m\",2024-01-01 00:00:00,1\n"), "input is not a JSON array");
	cr_assert_str_eq(json_whys("[1, \"x\", [" GOOD "], null, " GOOD "]"),
	                 "array element is not an object|array element is not an object|"
	                 "array element is not an object|array element is not an object|ok");
	cr_assert_str_eq(json_whys("[{\"a\":}, " GOOD "]"), "malformed JSON object|ok");
	cr_assert_str_eq(json_whys("[{\"a\":1]," GOOD "]"), "malformed JSON object|ok");
	cr_assert_str_eq(json_whys("[" GOOD "," GOOD ",]"), "ok|ok|a comma before ']'");
	cr_assert_str_eq(json_whys("[" GOOD " " GOOD "]"),
	                 "ok|',' or ']' expected after an array element");
	cr_assert_str_eq(json_whys("[" GOOD "] x"), "ok|text after the JSON array");
	cr_assert_str_eq(json_whys("[" GOOD "]\n\n"), "ok");
	cr_assert_str_eq(json_whys("[" GOOD), "ok"); /* every element was read */
	cr_assert_str_eq(json_whys("[" GOOD "\n"), "ok|JSON array is not closed");
	cr_assert_str_eq(json_whys("[" GOOD ","), "ok|JSON array is not closed");
	cr_assert_str_eq(json_whys("[{\"device_id\":\"m"), "JSON array is not closed");
	cr_assert_str_eq(json_whys("["), "JSON array is not closed");
	cr_assert_str_eq(json_whys("[" OBJ("1", "\"2024-01-01 00:00:00\"", "1") "]"),
	                 "device_id is not a string");
	cr_assert_str_eq(
	    json_whys("[{\"observed_timestamp\":\"2024-01-01 00:00:00\",\"value\":1}]"),
	    "device_id is missing");
	cr_assert_str_eq(json_whys("[{\"device_id\":\"m\",\"value\":1}]"),
	                 "observed_timestamp is missing");
	cr_assert_str_eq(json_whys("[{\"device_id\":\"m\",\"observed_timestamp\":\"2024-01-01 "
	                           "00:00:00\"}]"),
	                 "value is missing");
	cr_assert_str_eq(json_whys("[" OBJ("\"m\"", "1582835400", "1") "]"),
	                 "observed_timestamp is not a string");
	cr_assert_str_eq(json_whys("[" OBJ("\"m\"", "\"2024-02-30 00:00:00\"", "1") "]"),
	                 "time is not YYYY-MM-DD HH:MM[:SS] or RFC 3339");
	cr_assert_str_eq(json_whys("[" OBJ("\"m\"", "\"2024-01-01 00:00:00\"", "null") "]"),
	                 "value is not a number");
	cr_assert_str_eq(json_whys("[" OBJ("\"m\"", "\"2024-01-01 00:00:00\"", "\"NaN\"") "]"),
	                 "value is not a number");
	cr_assert_str_eq(json_whys("[" OBJ("\"m\"", "\"2024-01-01 00:00:00\"", "\"1,5\"") "]"),
	                 "value is not a number");
	cr_assert_str_eq(json_whys("[" OBJ("\"m\"", "\"2024-01-01 00:00:00\"", "1e999") "]"),
	                 "value is out of range");
	cr_assert_str_eq(json_whys("[" OBJ("\"m\"", "\"2024-01-01 00:00:00\"", "\"\"") "]"),
	                 "value is empty");
	cr_assert_str_eq(json_whys("[" OBJ("\"\"", "\"2024-01-01 00:00:00\"", "1") "]"),
	                 "device id is empty");
	cr_assert_str_eq(json_whys("[" OBJ("\"a\\u0000b\"", "\"2024-01-01 00:00:00\"", "1") "]"),
	                 "string with \\u0000");
	cr_assert_str_eq(json_whys("[" OBJ("\"a\\u0001b\"", "\"2024-01-01 00:00:00\"", "1") "]"),
	                 "device id has a control character");
	cr_assert_str_eq(json_whys("[" OBJ("\"a\\\\u0000b\"", "\"2024-01-01 00:00:00\"", "1") "]"),
	                 "ok"); /* an escaped backslash, then text */
	cr_assert_str_eq(json_whys("[{\"device_id\":\"m\",\"deviceId\":\"n\","
	                           "\"observed_timestamp\":\"2024-01-01 00:00:00\",\"value\":1}]"),
	                 "a key is given twice");
}

Test(reading, json_long_element)
{
	size_t pad = 5000, len;
	char *in = malloc(pad + 256);

	cr_assert_not_null(in);
	len = (size_t)sprintf(in, "[{\"device_id\":\"m\",\"observed_timestamp\":\"2024-01-01 "
	                          "00:00:00\",\"value\":1,\"pad\":\"");
	memset(in + len, 'x', pad);
	len += pad;
	len += (size_t)sprintf(in + len, "\"}," GOOD "]");
	struct rows r = read_from(GF_READING_JSON, NULL, in, len, 1, 0, 1);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.v[0].why, "array element longer than 4096 bytes");
	cr_assert_eq(in[r.v[0].end - 1], '}');
	cr_assert(r.v[1].ok);
	invariants(GF_READING_JSON, NULL, in, len);
	rows_free(&r);
	free(in);
}

/* Line i of a generated input mixing good and bad rows of every kind. */
static int mixed_line(char *s, size_t n, unsigned kind, unsigned i)
{
	switch (kind % 7) {
	case 0:
		return snprintf(s, n, "\"%u\",2024-10-27 03:%02u:00,%u.5\n", i, i % 60, i);
	case 1:
		return snprintf(s, n, "%u,2024-10-27T03:%02u:00Z,%u\r\n", i, i % 60, i);
	case 2:
		return snprintf(s, n, "\"%u\",2024-02-30 03:%02u:00,%u\n", i, i % 60, i);
	case 3:
		return snprintf(s, n, "\"%u\",2024-10-27 03:%02u:00,%u,\"extra\"\n", i, i % 60, i);
	case 4:
		return snprintf(s, n, "\n");
	case 5:
		return snprintf(s, n, "\"%u\"\"x,2024-10-27 03:%02u:00,%u\n", i, i % 60, i);
	default:
		return snprintf(s, n, "\xEF\xBB\xBF%u,2024-10-27 03:%02u:00,%u\n", i, i % 60, i);
	}
}

/* The stress case of the invariants: 2000 generated lines. */
Test(reading, generated_mixture)
{
	size_t cap = 2000 * 64, len = 0;
	char *in = malloc(cap);
	unsigned seed = 12345;

	cr_assert_not_null(in);
	for (unsigned i = 0; i < 2000; i++) {
		seed = seed * 1103515245u + 12345u;
		len += (size_t)mixed_line(in + len, cap - len, seed >> 16, i);
	}
	struct rows r = read_from(GF_READING_DMS, NULL, in, len, 0, 0, 1);
	size_t ok = 0;
	for (size_t i = 0; i < r.n; i++)
		ok += r.v[i].ok;
	cr_assert(ok > 400 && ok < r.n, "%zu of %zu ok", ok, r.n);
	rows_free(&r);
	static const size_t chunks[] = {1, 13, 4096};
	struct rows whole = read_from(GF_READING_DMS, NULL, in, len, 0, 0, 1);
	for (size_t c = 0; c < 3; c++) {
		struct rows part = read_from(GF_READING_DMS, NULL, in, len, chunks[c], 0, 1);
		same_rows(&whole, &part, "generated");
		rows_free(&part);
	}
	rows_free(&whole);
	free(in);
}
