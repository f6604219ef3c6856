/* SPDX-License-Identifier: MIT */
/*
 * catalog.h - the machine-readable exchange catalogue (SPEC section 5).
 *
 * The source is schemas/exchange.tsv: one line per (from-role, to-role, msg)
 * with its class and flags, tab-separated:
 *
 *     from <TAB> to <TAB> msg <TAB> class <TAB> flags
 *
 * class is "private" or "public"; flags is "-" or a comma-separated list of
 *   anon     the payload is sealed and pseudonymised (SPEC section 6);
 *   request  the row is a request: the reverse row (to -> from,
 *            "<msg>.result", same class) exists too;
 *   broker   written only by the broker itself (audit feed, statistics).
 * '#' starts a comment line; blank lines are ignored.
 *
 * Loading compiles the rows into lookup tables, so that every question the
 * policy asks costs O(1) in the number of rows and never allocates.
 */
#ifndef GF_CATALOG_H
#define GF_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "bus/ident.h"

/* Bits of a catalogue cell. A cell is 0 when there is no row. */
#define GF_CELL_PRIVATE 0x01u
#define GF_CELL_PUBLIC  0x02u
#define GF_CELL_ANON    0x04u
#define GF_CELL_REQUEST 0x08u
#define GF_CELL_BROKER  0x10u

#define GF_CATALOG_MAX_MSGS 1024

struct gf_catalog;

struct gf_catalog_row {
	enum gf_role from;
	enum gf_role to;
	const char *msg; /* owned by the catalogue */
	uint8_t cell;    /* GF_CELL_* bits */
};

/*
 * Parses text (len bytes, need not be NUL-terminated) into a new catalogue
 * owned by the caller (free with gf_catalog_free). On GF_EPARSE, err gets
 * "<name>:<line>: <what is wrong>" (name is used only for that message).
 * GF_ENOMEM on allocation failure.
 */
enum gf_err gf_catalog_parse(const char *text, size_t len, const char *name,
                             struct gf_catalog **out, char *err, size_t errlen);

/* Reads path and parses it as above; GF_EIO (with err set) if unreadable. */
enum gf_err gf_catalog_load(const char *path, struct gf_catalog **out, char *err, size_t errlen);

void gf_catalog_free(struct gf_catalog *cat);

/* Index of message type name in the catalogue, or -1 if it has no row. */
int gf_catalog_msg(const struct gf_catalog *cat, const char *name, size_t len);
const char *gf_catalog_msg_name(const struct gf_catalog *cat, int msg);
size_t gf_catalog_msg_count(const struct gf_catalog *cat);

/* The cell of (from, to, msg); 0 if there is no such row or an argument is out
 * of range (to = GF_ROLE_ALL included: use gf_catalog_readers). */
uint8_t gf_catalog_cell(const struct gf_catalog *cat, enum gf_role from, enum gf_role to, int msg);

/* The cells of every row (from, *, msg) OR'ed together; 0 if there is none.
 * The catalogue guarantees one class per (from, msg), so this is the class
 * and flags of the feed "from -> all : msg". */
uint8_t gf_catalog_feed(const struct gf_catalog *cat, enum gf_role from, int msg);

/* Bitmask (1u << role) of the roles that a public (from, msg) row names as
 * readers; 0 if (from, msg) has no public row. ops is not included. */
uint32_t gf_catalog_readers(const struct gf_catalog *cat, enum gf_role from, int msg);

/* Rows in file order, each generated ".result" row right after its request. */
size_t gf_catalog_row_count(const struct gf_catalog *cat);
const struct gf_catalog_row *gf_catalog_row(const struct gf_catalog *cat, size_t i);

#endif
