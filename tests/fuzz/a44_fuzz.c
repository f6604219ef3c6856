/* SPDX-License-Identifier: MIT */
/* libFuzzer target: gf-ingest's ENTSO-E A44 reader
 * (agents/gf-ingest/a44.h). What parses must have every Period filled with
 * finite prices within the limit, a whole number of positions, and survive
 * the selection, which must keep at most one Period per interval, sorted. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "a44.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_a44 d;
	char err[512];

	if (ingest_a44_parse((const char *)data, size, &d, err, sizeof(err)) != GF_OK) {
		if (d.n || d.periods)
			abort();
		return 0;
	}
	for (size_t i = 0; i < d.n; i++) {
		const struct ingest_a44_period *p = &d.periods[i];

		if (p->n == 0 || p->n > INGEST_A44_POINTS_MAX || p->resolution_s == 0 ||
		    p->end_ms - p->start_ms != (int64_t)p->n * p->resolution_s * 1000)
			abort();
		for (size_t k = 0; k < p->n; k++)
			if (!isfinite(p->price[k]) || fabs(p->price[k]) > 1000.0)
				abort();
	}
	ingest_a44_select(&d, NULL, (long)(size % 3), size % 2 ? 900 : 0);
	for (size_t i = 1; i < d.n; i++)
		if (d.periods[i - 1].start_ms > d.periods[i].start_ms)
			abort();
	ingest_a44_free(&d);
	return 0;
}
