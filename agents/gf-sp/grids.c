/* SPDX-License-Identifier: MIT */
/*
 * grids.c - which meters make a grid point: the loads' deviceIds of its
 * newest topology, as the store keeps them, held in memory sorted by grid
 * point id and re-read whenever a topology is stored.
 */
#include <stdlib.h>
#include <string.h>

#include "sp.h"

struct load {
	struct sp_grid *v;
	size_t n, cap;
};

static void grids_free(struct sp_grid *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].n; k++)
			free(v[i].meters[k]);
		free(v[i].meters);
		free(v[i].id);
	}
	free(v);
}

/* The store hands the rows ordered by grid point, then meter. */
static enum gf_err add(void *arg, const char *grid, const char *meter)
{
	struct load *l = arg;
	struct sp_grid *g;
	char **m;

	if (l->n == 0 || strcmp(l->v[l->n - 1].id, grid) != 0) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 8;
			struct sp_grid *v = realloc(l->v, cap * sizeof(*v));
			if (!v)
				return GF_ENOMEM;
			l->v = v;
			l->cap = cap;
		}
		l->v[l->n] = (struct sp_grid){.id = strdup(grid)};
		if (!l->v[l->n++].id)
			return GF_ENOMEM;
	}
	g = &l->v[l->n - 1];
	if (!(m = realloc(g->meters, (g->n + 1) * sizeof(*m))))
		return GF_ENOMEM;
	g->meters = m;
	if (!(g->meters[g->n] = strdup(meter)))
		return GF_ENOMEM;
	g->n++;
	return GF_OK;
}

static int cmp_grid(const void *a, const void *b)
{
	return strcmp(((const struct sp_grid *)a)->id, ((const struct sp_grid *)b)->id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum gf_err sp_grids_load(struct sp *sp, char *err, size_t errlen)
{
	struct load l = {0};
	enum gf_err rc = sp_db_members(sp->db, add, &l, err, errlen);

	if (rc != GF_OK) {
		grids_free(l.v, l.n);
		return rc;
	}
	/* strcmp's order for bsearch, whatever the database's collation. */
	if (l.n) /* qsort's base must not be NULL, even for no elements */
		qsort(l.v, l.n, sizeof(*l.v), cmp_grid);
	for (size_t i = 0; i < l.n; i++)
		qsort(l.v[i].meters, l.v[i].n, sizeof(char *), cmp_str);
	grids_free(sp->grids, sp->ngrids);
	sp->grids = l.v;
	sp->ngrids = l.n;
	return GF_OK;
}

static int by_id(const void *key, const void *elem)
{
	return strcmp(key, ((const struct sp_grid *)elem)->id);
}

const struct sp_grid *sp_grids_find(const struct sp *sp, const char *id)
{
	return sp->ngrids ? bsearch(id, sp->grids, sp->ngrids, sizeof(*sp->grids), by_id) : NULL;
}

void sp_grids_free(struct sp *sp)
{
	grids_free(sp->grids, sp->ngrids);
	sp->grids = NULL;
	sp->ngrids = 0;
}
