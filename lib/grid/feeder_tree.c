/* SPDX-License-Identifier: MIT */
/*
 * feeder_tree.c - the name index used while loading, and the radial tree:
 * buses in breadth-first order from the transformer, each line turned to
 * point away from it.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/hash.h"
#include "grid/feeder_int.h"

static uint64_t name_hash(const char *s)
{
	uint64_t h = GF_FNV1A64_BASIS;

	for (; *s; s++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*s);

		h = gf_fnv1a64(h, &c, 1);
	}
	return h;
}

static const char *name_at(struct gf__feeder_names names, size_t i)
{
	return names.base + i * names.stride;
}

size_t gf__feeder_index_find(const struct gf__feeder_index *ix, struct gf__feeder_names names,
                             const char *name)
{
	if (!ix->cap)
		return GF_FEEDER_NONE;
	for (size_t s = (size_t)name_hash(name) & (ix->cap - 1);; s = (s + 1) & (ix->cap - 1)) {
		if (!ix->slot[s])
			return GF_FEEDER_NONE;
		if (strcasecmp(name_at(names, ix->slot[s] - 1), name) == 0)
			return ix->slot[s] - 1;
	}
}

static void put(size_t *slot, size_t cap, size_t h, size_t v)
{
	size_t s = h & (cap - 1);

	while (slot[s])
		s = (s + 1) & (cap - 1);
	slot[s] = v;
}

enum gf_err gf__feeder_index_add(struct gf__feeder_index *ix, struct gf__feeder_names names,
                                 size_t n)
{
	/* n + 1 names held after this: keep the table at most half full. */
	if ((n + 1) * 2 > ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 64;
		size_t *slot;

		while ((n + 1) * 2 > cap)
			cap *= 2;
		slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return GF_ENOMEM;
		for (size_t i = 0; i < ix->cap; i++)
			if (ix->slot[i])
				put(slot, cap, (size_t)name_hash(name_at(names, ix->slot[i] - 1)),
				    ix->slot[i]);
		free(ix->slot);
		ix->slot = slot;
		ix->cap = cap;
	}
	put(ix->slot, ix->cap, (size_t)name_hash(name_at(names, n)), n + 1);
	return GF_OK;
}

void gf__feeder_index_free(struct gf__feeder_index *ix)
{
	free(ix->slot);
	ix->slot = NULL;
	ix->cap = 0;
}

enum gf_err gf__feeder_tree(struct gf_feeder *f, const size_t *row, char *err, size_t errlen)
{
	size_t *start = NULL, *adj = NULL, *order = NULL, *up = NULL;
	size_t head = 0, tail = 0;
	enum gf_err rc = GF_ENOMEM;

	start = calloc(f->nbus + 1, sizeof(*start));
	adj = malloc((2 * f->nline + 1) * sizeof(*adj));
	order = malloc((f->nbus + 1) * sizeof(*order));
	up = malloc((f->nbus + 1) * sizeof(*up));
	if (!start || !adj || !order || !up)
		goto out;

	/* Adjacency in compressed rows: bus b's lines are adj[start[b] ..
	 * start[b + 1]). */
	for (size_t l = 0; l < f->nline; l++) {
		if (f->line[l].from == f->line[l].to) {
			rc = gf_err_set(err, errlen, GF_EINVAL,
			                "Lines.csv:%zu: line %s connects bus %s to itself", row[l],
			                f->line[l].name, f->bus[f->line[l].from]);
			goto out;
		}
		start[f->line[l].from + 1]++;
		start[f->line[l].to + 1]++;
	}
	for (size_t b = 0; b < f->nbus; b++)
		start[b + 1] += start[b];
	{
		size_t *fill = order; /* scratch: next free place per bus */

		memcpy(fill, start, f->nbus * sizeof(*fill));
		for (size_t l = 0; l < f->nline; l++) {
			adj[fill[f->line[l].from]++] = l;
			adj[fill[f->line[l].to]++] = l;
		}
	}

	for (size_t b = 0; b < f->nbus; b++)
		up[b] = GF_FEEDER_NONE;
	order[tail++] = f->root;
	while (head < tail) {
		size_t b = order[head++];

		for (size_t k = start[b]; k < start[b + 1]; k++) {
			size_t l = adj[k];
			struct gf_feeder_line *ln = &f->line[l];
			size_t o = ln->from == b ? ln->to : ln->from;

			if (l == up[b])
				continue;
			if (o == f->root || up[o] != GF_FEEDER_NONE) {
				rc = gf_err_set(err, errlen, GF_EINVAL,
				                "Lines.csv:%zu: line %s closes a loop: bus %s is "
				                "reached from the transformer twice",
				                row[l], ln->name, f->bus[o]);
				goto out;
			}
			up[o] = l;
			if (ln->from != b) {
				ln->to = ln->from;
				ln->from = b;
			}
			order[tail++] = o;
		}
	}
	if (tail < f->nbus) {
		for (size_t b = 0; b < f->nbus; b++)
			if (b != f->root && up[b] == GF_FEEDER_NONE) {
				rc = gf_err_set(
				    err, errlen, GF_EINVAL,
				    "bus %s is not connected to the transformer's bus %s",
				    f->bus[b], f->bus[f->root]);
				goto out;
			}
	}
	f->order = order;
	f->up = up;
	order = up = NULL;
	rc = GF_OK;
out:
	free(up);
	free(order);
	free(adj);
	free(start);
	return rc;
}
