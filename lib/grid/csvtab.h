/* SPDX-License-Identifier: MIT */
/*
 * csvtab.h - the comma-separated tables of a feeder directory (the IEEE
 * European LV test feeder's network/ tables), read row by row with columns
 * found by their header's names.
 *
 * The format those files use: lines starting with '#' (after blanks) are
 * comments, blank lines and lines of only commas and blanks are skipped, the
 * first other line is the header, fields are trimmed of blanks and carry no
 * quoting (no field of these files holds a comma). CRLF is accepted. A row
 * may have fewer fields than the header (the missing ones read as ""), and
 * more only if the extra ones are empty.
 *
 * The reader works in place on a buffer the caller owns and may not touch
 * while the table is read: it writes NULs into it, text[len] included (what
 * gf_file_read returns has that byte). No allocation.
 */
#ifndef GF_CSVTAB_H
#define GF_CSVTAB_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define GF_CSVTAB_COLS_MAX 32 /* most fields of one line */

struct gf_csvtab {
	const char *name; /* for messages: "Lines.csv" */
	char *p, *end;    /* what is left to read */
	size_t line;      /* 1-based number of the line last read */
	size_t ncol;      /* fields of the header */
	const char *head[GF_CSVTAB_COLS_MAX];
	size_t nfield; /* fields of the current row */
	const char *field[GF_CSVTAB_COLS_MAX];
};

/*
 * Starts reading the len bytes at text (modified in place, and text[len]
 * must be writable) as a table: reads up to and including its header. name is kept
 * (not copied) for messages. GF_EPARSE, with "<name>:<line>: why" in err, for
 * a file without a header, a NUL byte, a line of more than
 * GF_CSVTAB_COLS_MAX fields or a header with an empty or repeated name.
 */
enum gf_err gf_csvtab_open(struct gf_csvtab *t, const char *name, char *text, size_t len, char *err,
                           size_t errlen);

/* The index of the header column named col (case-insensitive), or -1. */
int gf_csvtab_col(const struct gf_csvtab *t, const char *col);

/*
 * Like gf_csvtab_col, but a missing column is GF_EPARSE with "<name>: no
 * column '<col>' in the header".
 */
enum gf_err gf_csvtab_need(const struct gf_csvtab *t, const char *col, int *idx, char *err,
                           size_t errlen);

/*
 * Reads the next row into t->field. *got is false at the end of the text.
 * GF_EPARSE as gf_csvtab_open, and for a non-empty field beyond the header's.
 */
enum gf_err gf_csvtab_next(struct gf_csvtab *t, bool *got, char *err, size_t errlen);

/* The current row's field in column col, "" for a field the row lacks or col < 0. */
const char *gf_csvtab_get(const struct gf_csvtab *t, int col);

/*
 * The field in column col as a finite decimal number (digits, sign, point,
 * exponent; an optional unit after blanks is not accepted here). GF_EPARSE
 * "<name>:<line>: <col's header> '<text>' is not a number" otherwise.
 */
enum gf_err gf_csvtab_num(const struct gf_csvtab *t, int col, double *out, char *err,
                          size_t errlen);

/* Writes "<name>:<line>: " and the message into err and returns rc. */
enum gf_err gf_csvtab_fail(const struct gf_csvtab *t, char *err, size_t errlen, enum gf_err rc,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Parses s (NUL-terminated) as a finite plain decimal: no blanks, inf, nan or
 * hexadecimal, which strtod alone would take. Returns false if it is not one.
 */
bool gf_csvtab_decimal(const char *s, double *out);

/* Copies s into out (size n) with bytes outside printable ASCII as '?' and
 * truncated, for quoting input in a message. Returns out. */
const char *gf_csvtab_shown(const char *s, char *out, size_t n);

#endif
