/* SPDX-License-Identifier: MIT */
/*
 * reading_int.h - what the reader's two halves share: the core and the CSV
 * lines (reading.c) and the JSON array scanner (reading_json.c). For
 * lib/meter/reading*.c only.
 */
#ifndef GF_READING_INT_H
#define GF_READING_INT_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meter/reading.h"

/* Where the JSON scanner is: around the array, or inside one element. */
enum gf__reading_js {
	GF__JS_START,  /* before '[' */
	GF__JS_FIRST,  /* after '[': an element or ']' */
	GF__JS_BEFORE, /* after ',': an element */
	GF__JS_AFTER,  /* after an element: ',' or ']' */
	GF__JS_ELEM,   /* inside an element */
	GF__JS_END,    /* after ']': only white space */
	GF__JS_BAD     /* the array is broken: the rest is one rejected row */
};

struct gf_reading_reader {
	enum gf_reading_format fmt;
	struct gf_reading_csv o;
	bool dms;       /* exactly three fields per row */
	locale_t c_num; /* strtod_l() in the C locale, whatever the process's */
	char *in;       /* input handed to gf_reading_feed() and not consumed */
	size_t in_len, in_pos, in_cap;
	uint64_t off; /* offset of in[in_pos] in the whole input */
	size_t line;  /* line of in[in_pos] */
	bool eof, done;
	bool bom_check; /* at offset 0: a UTF-8 BOM may come */
	bool header;    /* csv: the header line is still to skip */
	/* The current line (csv) or element (json), collected across chunks;
	 * too_long once it outgrew cur (then only its end is looked for). */
	char cur[GF_READING_LINE_MAX + 2];
	size_t cur_len, cur_line;
	bool too_long;
	char scratch[GF_READING_LINE_MAX + 1]; /* unquoted csv fields */
	/* json */
	enum gf__reading_js js;
	size_t depth; /* of { and [ inside the element */
	bool scalar;  /* the element is a number or literal */
	bool in_str, esc, nul;
	int uhex;          /* hex digits of a \u escape still to come */
	bool uzero;        /* so far they are all '0' */
	uint64_t last_end; /* where the last element ended (or the reader started) */
	const char *bad_why;
	size_t bad_line;
};

/* Empties *row and marks it rejected (why), a row of the given line that
 * ends where the reader is. */
void gf__reading_reject(const struct gf_reading_reader *r, struct gf_reading_row *row, size_t line,
                        const char *why);

/* The checks and conversions both formats make; each returns NULL or the
 * reason of the rejection and fills its part of *row. */
const char *gf__reading_device(const char *s, size_t n, struct gf_reading_row *row);
const char *gf__reading_time(const char *s, size_t n, struct gf_reading_row *row);
const char *gf__reading_value(const struct gf_reading_reader *r, const char *s, size_t n,
                              bool comma, double *v);

/* Skips a UTF-8 BOM at offset 0: false while the input is too short to say. */
bool gf__reading_bom(struct gf_reading_reader *r);

/* The json half of gf_reading_next(). */
bool gf__reading_json_next(struct gf_reading_reader *r, struct gf_reading_row *row);

#endif
