/* SPDX-License-Identifier: MIT */
/* libFuzzer target: gf-ingest's Open-Meteo reader
 * (agents/gf-ingest/openmeteo.h). What parses must hold only values within
 * the bus's ranges (or NaN gaps), and its runs must cover disjoint,
 * ordered, non-empty ranges with some variable present. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "openmeteo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_om m;
	struct ingest_om_run runs[16];
	char err[512];

	if (ingest_openmeteo_parse((const char *)data, size, &m, err, sizeof(err)) != GF_OK) {
		if (m.nblocks)
			abort();
		return 0;
	}
	for (size_t b = 0; b < m.nblocks; b++) {
		const struct ingest_om_block *bl = &m.block[b];
		size_t n, prev = 0;

		if (bl->n == 0 || bl->n > INGEST_OM_TIMES_MAX)
			abort();
		for (int v = 0; v < INGEST_OM_NVARS; v++)
			for (size_t i = 0; bl->v[v] && i < bl->n; i++)
				if (isinf(bl->v[v][i]) || fabs(bl->v[v][i]) > 2000.0)
					abort();
		n = ingest_openmeteo_runs(bl, 0, bl->n, runs, 16);
		for (size_t r = 0; r < n && r < 16; r++) {
			if (runs[r].from < prev || runs[r].to <= runs[r].from ||
			    runs[r].to > bl->n || runs[r].vars == 0)
				abort();
			prev = runs[r].to;
		}
	}
	ingest_openmeteo_free(&m);
	return 0;
}
