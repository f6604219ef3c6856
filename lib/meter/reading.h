/* SPDX-License-Identifier: MIT */
/*
 * reading.h - meter exports as a DMS writes them, one reading at a time:
 *
 *   - dms:  the GOFLEX DMS client's CSV, `"<device>",<local time>,<value>`
 *           (../shared/fixtures/goflex-samples/dms-sample.csv): no header,
 *           comma, the device id quoted or not, decimal point;
 *   - csv:  a configurable CSV: separator, 1-based column of device, time
 *           and value, a header line to skip, decimal comma, quotes;
 *   - json: the GOFLEX bare JSON array `[{"observed_timestamp", "device_id",
 *           "value"}, ...]` (also the bus's `observedTimestamp`, `deviceId`),
 *           value a number or a numeric string.
 *
 * A reader takes the input in chunks of any size (a file read in pieces,
 * stdin) and gives back readings with the byte offset just after each, so
 * that a client can resume a file at the offset it last committed. A bad
 * row is not an error of the reader: it comes back as a rejected row with
 * its line and reason, and the reader goes on with the next one. The same
 * input gives the same rows, offsets and lines however it is chunked. A
 * reader holds the chunks not yet read plus one row; no process-wide state
 * (numbers are read in the C locale whatever the process's).
 *
 * CSV (dms, csv): a row is one line ('\n', a '\r' before it dropped); a
 * UTF-8 BOM at offset 0 is skipped; empty lines are skipped; a line longer
 * than GF_READING_LINE_MAX is rejected whole. A field is quoted ("..." with
 * "" for a quote; a quote does not span lines) or not (then it has no
 * quote); blanks around it are dropped. A dms row has exactly 3 fields (a
 * decimal comma there is a fourth field, not a value); a csv row at least
 * as many as its highest column. The header (csv) is the first line that is
 * not empty, skipped only when the reader starts at offset 0.
 *
 * Fields: a device id of 1 to GF_READING_DEVICE_MAX bytes without control
 * characters; a value [+-]digits[.digits][e[+-]digits] (',' for '.' with
 * decimal_comma), finite: no NaN, inf, hex or empty value.
 *
 * JSON: the array is scanned, each element parsed alone (cJSON), at most
 * GF_READING_LINE_MAX bytes; a row ends just after its element. An element
 * that is not an object, is malformed, or lacks a key is a rejected row;
 * so is a key given twice (device_id and deviceId count as one) and a
 * string with \u0000; other keys are ignored. device_id and
 * observed_timestamp are strings. Input that is not an array, or an array
 * broken between elements (or text after it), ends the rows with one
 * rejected row whose end is the end of the input; an array that is not
 * closed, likewise, unless the input stops right after an element (every
 * element was read). Empty input: no rows.
 *
 * Times: a time with an offset or Z (RFC 3339, GOFLEX's +0000) is UTC
 * already (utc_ms set); one without is local time (local set), to be
 * converted by the caller (tz.h) because only it knows the meter's history
 * (resolve.h).
 */
#ifndef GF_READING_H
#define GF_READING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "meter/tz.h"

#define GF_READING_DEVICE_MAX 128
#define GF_READING_LINE_MAX   4096 /* a longer row is rejected */

enum gf_reading_format { GF_READING_DMS, GF_READING_CSV, GF_READING_JSON };

struct gf_reading_csv {
	char sep;                            /* ',' ';' '\t' ... */
	bool decimal_comma;                  /* "18,698" */
	bool header;                         /* the first line is a header, skipped */
	int col_device, col_time, col_value; /* 1-based */
};

/* One row of the input, accepted or rejected. */
struct gf_reading_row {
	bool ok;         /* false: why says what is wrong with the row */
	char why[96];    /* a short reason, e.g. "value is not a number" */
	size_t line;     /* 1-based line (json: the line the element starts on) */
	uint64_t end;    /* byte offset just after the row in the whole input */
	size_t end_line; /* the line at end: first_line of a reader resumed there */
	char device[GF_READING_DEVICE_MAX + 1];
	bool has_utc; /* the time carried its offset: utc_ms is set */
	int64_t utc_ms;
	struct gf_tz_local local; /* else: the local time */
	double value;
};

struct gf_reading_reader;

/*
 * A reader of the format (csv: o must be set; dms and json: o NULL), that
 * starts at byte offset start of the input (what the caller committed: a
 * row's end, where a json reader expects ',' or ']'), with line numbers
 * counting from first_line (that row's end_line; 1 at offset 0). GF_EINVAL
 * for bad options (separator '"', ' ', a digit, CR, LF or NUL; '.' with
 * decimal_comma; columns not distinct or outside 1..1024) or first_line 0,
 * GF_ENOMEM. The caller owns *out: free with gf_reading_reader_free()
 * (NULL is fine).
 */
enum gf_err gf_reading_reader_new(enum gf_reading_format f, const struct gf_reading_csv *o,
                                  uint64_t start, size_t first_line,
                                  struct gf_reading_reader **out);
void gf_reading_reader_free(struct gf_reading_reader *r);

/* Hands the next len bytes of the input to the reader (copied; len 0 is
 * fine). eof true with the last chunk (an unterminated last line is then a
 * row). GF_ENOMEM; GF_EINVAL after the chunk marked eof. */
enum gf_err gf_reading_feed(struct gf_reading_reader *r, const char *buf, size_t len, bool eof);

/*
 * The next complete row into *row: true, or false when the reader needs more
 * input (or, after eof, is done). Rows come in input order, their ends
 * strictly increasing. A reader made with start = a row's end and
 * first_line = its end_line, fed the input from there, gives exactly the
 * rows after it.
 */
bool gf_reading_next(struct gf_reading_reader *r, struct gf_reading_row *row);

/* Parses a format name ("dms", "csv", "json"). GF_EINVAL otherwise. */
enum gf_err gf_reading_format_parse(const char *s, enum gf_reading_format *f);

#endif
