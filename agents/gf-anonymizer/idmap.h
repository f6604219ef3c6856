/* SPDX-License-Identifier: MIT */
/*
 * idmap.h - the DMS's own map of private meter ids to D6.1 section 9
 * classification ids (7-PRE-001, ...): the first of the three layers of
 * anonymization (D6.1 8.3). It never leaves the DMS.
 *
 * The file is CSV, `private_id,classification_id` per line; '#' lines and
 * empty lines are skipped, a first line `private_id,classification_id` is a
 * header; ids may be quoted ("..."). Each private id once.
 */
#ifndef ANONYMIZER_IDMAP_H
#define ANONYMIZER_IDMAP_H

#include <stddef.h>

#include "base/err.h"

struct anonymizer_idmap;

/* Reads the map at path. GF_ENOENT/GF_EIO (the file), GF_EPARSE (a line
 * without two ids, an id longer than 128 bytes or with a control
 * character, a private id twice; err names the line), GF_ENOMEM. */
enum gf_err anonymizer_idmap_load(const char *path, struct anonymizer_idmap **out, char *err,
                                  size_t errlen);
void anonymizer_idmap_free(struct anonymizer_idmap *m);

/* The index of private id (len bytes) in the map, or -1. */
long anonymizer_idmap_find(const struct anonymizer_idmap *m, const char *id, size_t len);

/* How many entries; entry i's private and classification ids. */
size_t anonymizer_idmap_count(const struct anonymizer_idmap *m);
void anonymizer_idmap_entry(const struct anonymizer_idmap *m, size_t i, const char **private_id,
                            const char **class_id);

#endif
