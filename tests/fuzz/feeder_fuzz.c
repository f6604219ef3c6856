/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the feeder loader (lib/grid/feeder.h) on its six files,
 * given as one input split at 0x1e bytes (record separators) in the order of
 * enum gf_feeder_file; a missing LoadShapes part means no such file, other
 * missing parts are empty. A feeder that loads must be one tree from its
 * transformer, and a power flow of it with 1 kW per load either converges or
 * says why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grid/feeder.h"
#include "grid/powerflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tree(const struct gf_feeder *f)
{
	if (f->nbus == 0 || f->order[0] != f->root || f->up[f->root] != GF_FEEDER_NONE)
		abort();
	for (size_t k = 1; k < f->nbus; k++) {
		size_t b = f->order[k];

		if (b >= f->nbus || f->up[b] >= f->nline || f->line[f->up[b]].to != b)
			abort();
	}
	for (size_t k = 0; k < f->nload; k++)
		if (f->load[k].bus >= f->nbus || f->load[k].phase > 2)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text[GF_FEEDER_NFILES] = {NULL};
	size_t len[GF_FEEDER_NFILES] = {0}, part = 0, start = 0;
	struct gf_feeder *f = NULL;
	struct gf_pf_result r;
	char err[256];

	for (size_t i = 0; i <= size && part < GF_FEEDER_NFILES; i++)
		if (i == size || data[i] == 0x1e) {
			text[part] = (const char *)data + start;
			len[part++] = i - start;
			start = i + 1;
		}
	for (int i = 0; i < GF_FEEDER_LOADSHAPES; i++)
		if (!text[i])
			text[i] = "";
	if (gf_feeder_parse(text, len, &f, err, sizeof(err)) != GF_OK)
		return 0;
	check_tree(f);
	if (gf_pf_result_init(f, &r, err, sizeof(err)) == GF_OK) {
		double *p = malloc((f->nload + 1) * sizeof(*p));

		if (p) {
			for (size_t k = 0; k < f->nload; k++)
				p[k] = 1.0;
			if (gf_pf_solve(f, p, NULL, &r, err, sizeof(err)) == GF_OK && !r.solved)
				abort();
			free(p);
		}
		gf_pf_result_free(&r);
	}
	gf_feeder_free(f);
	return 0;
}
