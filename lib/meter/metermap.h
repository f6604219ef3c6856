/* SPDX-License-Identifier: MIT */
/*
 * metermap.h - which meter is whose: the enrolment list a DSO gives an
 * aggregator (or its own DOMS), one "<id>,<pseudonym>" line per meter, as
 * `gf-anonymizer pseudonyms` prints it (docs/anonymizer.md). FMAN reads it
 * to know the meter of each FOA (docs/fman.md, "Settlement").
 *
 * The text: one "<id>,<pseudonym>" per line, exactly two fields, each 1 to
 * 64 characters of [A-Za-z0-9._-] (an FOA id, a pseudonym of base64url);
 * blanks around a field and CRLF ends are accepted; empty lines and lines
 * whose first non-blank character is '#' are skipped; the first other line
 * is a header, and skipped, when its first field is "foa_id",
 * "private_id", "id" or "load" (gf-anonymizer prints "private_id,pseudonym").
 * An id appears once; so does a pseudonym (one meter is one prosumer's).
 * Every refusal names the list and the line: "<name>:<line>: <what>".
 * No I/O but what the caller gives.
 */
#ifndef GF_METERMAP_H
#define GF_METERMAP_H

#include <stddef.h>

#include "base/err.h"

#define GF_METERMAP_FIELD_MAX 64

struct gf_metermap_entry {
	char id[GF_METERMAP_FIELD_MAX + 1];
	char pseudonym[GF_METERMAP_FIELD_MAX + 1];
};

/* A parsed list, sorted by id. */
struct gf_metermap {
	struct gf_metermap_entry *e;
	size_t n;
};

/*
 * Parses len bytes of text (not necessarily NUL-terminated) into *out (the
 * caller frees it with gf_metermap_free). name is the list's name in
 * errors. GF_EPARSE for a malformed line, GF_EEXIST for an id or pseudonym
 * given twice, both with err set; GF_ENOMEM. An empty list is valid.
 * *out untouched on failure.
 */
enum gf_err gf_metermap_parse(const char *name, const char *text, size_t len,
                              struct gf_metermap *out, char *err, size_t errlen);

/* The pseudonym of id, or NULL. */
const char *gf_metermap_find(const struct gf_metermap *m, const char *id);

/* Frees what gf_metermap_parse made and empties *m. Accepts NULL and an
 * empty map. */
void gf_metermap_free(struct gf_metermap *m);

#endif
