/* SPDX-License-Identifier: MIT */
/*
 * feeder_int.h - what the feeder's files share: names looked up through a
 * hash index while loading, and the radial tree built once the lines are in.
 */
#ifndef GF_FEEDER_INT_H
#define GF_FEEDER_INT_H

#include <stddef.h>

#include "grid/feeder.h"

/* An open-addressing index over an array of names, case-insensitive. Slots
 * hold position + 1; 0 is empty. */
struct gf__feeder_index {
	size_t *slot;
	size_t cap; /* a power of two, kept above twice the names held */
};

/* The names: item i's name is the string at base + i * stride. */
struct gf__feeder_names {
	const char *base;
	size_t stride;
};

/* The position of name among the names ix holds, or GF_FEEDER_NONE. */
size_t gf__feeder_index_find(const struct gf__feeder_index *ix, struct gf__feeder_names names,
                             const char *name);

/* Records that item n of names holds its name; grows the index (GF_ENOMEM).
 * The name must not be there already. names.base may have moved since the
 * last call (a grown array): the index holds positions, not pointers. */
enum gf_err gf__feeder_index_add(struct gf__feeder_index *ix, struct gf__feeder_names names,
                                 size_t n);

void gf__feeder_index_free(struct gf__feeder_index *ix);

/*
 * Orders f's buses from f->root along f->line into f->order and f->up, and
 * turns each line so that from is the end nearer the root. row[i] is line
 * i's line number in Lines.csv, for messages. GF_EINVAL for a loop, a line
 * from a bus to itself or a bus the root does not reach; GF_ENOMEM.
 */
enum gf_err gf__feeder_tree(struct gf_feeder *f, const size_t *row, char *err, size_t errlen);

#endif
