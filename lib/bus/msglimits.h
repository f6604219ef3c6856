/* SPDX-License-Identifier: MIT */
/*
 * msglimits.h - the largest payload the site accepts per message type
 * (SPEC section 3, per-client limits).
 *
 * The source is a limits file (schemas/limits.tsv), one line per message
 * type, the type and a size separated by tabs or spaces:
 *
 *     <msg> <bytes>
 *     *     <bytes>        the default for every type not listed
 *
 * <bytes> is a decimal count with an optional suffix k (KiB) or M (MiB),
 * from 1 byte to 256 MiB (MQTT's largest packet). '#' starts a comment
 * line; blank lines are ignored. Every <msg> must be a message type of the
 * catalogue the limits are compiled for (".result" types included), listed
 * at most once.
 *
 * Loading compiles the file into an array indexed by the catalogue's message
 * numbers (gf_catalog_msg), so a lookup costs O(1) and never allocates. The
 * limits hold message numbers, not names: they are valid only with the
 * catalogue they were built for, and are rebuilt with it on every reload.
 */
#ifndef GF_MSGLIMITS_H
#define GF_MSGLIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "bus/catalog.h"
#include "base/err.h"

/* The largest size a limit may have: MQTT's largest remaining length. */
#define GF_MSGLIMITS_MAX_BYTES 268435455u

struct gf_msglimits;

/*
 * A limits table for cat where every message type has the limit def_bytes
 * (1..GF_MSGLIMITS_MAX_BYTES, else GF_ERANGE). *out is owned by the caller
 * (gf_msglimits_free). GF_ENOMEM on allocation failure.
 */
enum gf_err gf_msglimits_new(const struct gf_catalog *cat, uint32_t def_bytes,
                             struct gf_msglimits **out);

/*
 * Parses text (len bytes, need not be NUL-terminated) into a new limits
 * table for cat, owned by the caller (gf_msglimits_free). Types the text does
 * not list get its '*' line, or def_bytes if it has none. On GF_EPARSE err
 * gets "<name>:<line>: <what is wrong>" (name is used only for that);
 * GF_ERANGE if def_bytes is out of range; GF_ENOMEM. *out is untouched on
 * failure.
 */
enum gf_err gf_msglimits_parse(const char *text, size_t len, const char *name,
                               const struct gf_catalog *cat, uint32_t def_bytes,
                               struct gf_msglimits **out, char *err, size_t errlen);

/* Reads path (at most 1 MiB) and parses it as above; GF_EIO (with err set)
 * if it cannot be read. */
enum gf_err gf_msglimits_load(const char *path, const struct gf_catalog *cat, uint32_t def_bytes,
                              struct gf_msglimits **out, char *err, size_t errlen);

void gf_msglimits_free(struct gf_msglimits *lim);

/*
 * The largest payload, in bytes, of message type msg (a message number of
 * the catalogue); the default for a number outside the catalogue (-1
 * included). O(1), no allocation.
 */
uint32_t gf_msglimits_payload(const struct gf_msglimits *lim, int msg);

/* The limit of the types the file does not name. */
uint32_t gf_msglimits_default(const struct gf_msglimits *lim);

/* The smallest and the largest limit of any type (the default included):
 * a payload no larger than the smallest needs no lookup. */
uint32_t gf_msglimits_smallest(const struct gf_msglimits *lim);
uint32_t gf_msglimits_largest(const struct gf_msglimits *lim);

/* How many types the file named (0 for gf_msglimits_new). */
size_t gf_msglimits_listed(const struct gf_msglimits *lim);

#endif
