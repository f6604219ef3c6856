/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the Service Platform's grid file (lib/engine/
 * gridtariff.h). What parses must hold only what the rules allow (ids,
 * quarter-hour bands with from before to, bounded finite prices, capacity
 * parameters in their ranges, one capacity and location per grid point),
 * and the cost of any instant and the capacity price of any forecast must
 * be finite. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gridtariff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gf_gridtariff t;
	char err[256];

	if (gf_gridtariff_parse("fuzz", (const char *)data, size, &t, err, sizeof(err)) != GF_OK)
		return 0;
	if (t.offset_min < -840 || t.offset_min > 840)
		abort();
	for (size_t i = 0; i < t.nbands; i++) {
		const struct gf_gridtariff_band *b = &t.bands[i];
		size_t n = strlen(b->grid);

		if (n == 0 || n > GF_GRIDTARIFF_ID_MAX || b->from_min >= b->to_min ||
		    b->to_min > 1440 || b->from_min % 15 || b->to_min % 15 || !b->days ||
		    b->days > 0x7f || !isfinite(b->cost) || fabs(b->cost) > GF_GRIDTARIFF_PRICE_MAX)
			abort();
	}
	for (size_t i = 0; i < t.ncaps; i++) {
		const struct gf_gridtariff_cap *c = &t.caps[i];

		if (!(c->limit_kw > 0) || c->price < 0 || c->price_max < c->price ||
		    c->knee_pct < 1 || c->knee_pct > 200 || c->margin_kwh < 0 ||
		    gf_gridtariff_capacity(&t, c->grid) != c)
			abort();
		for (double f = -10; f <= 10; f += 2.5)
			if (!isfinite(gf_gridtariff_capacity_price(c, f * c->limit_kw)))
				abort();
	}
	for (size_t i = 0; i < t.nlocs; i++)
		if (fabs(t.locs[i].lat) > 90 || fabs(t.locs[i].lon) > 180 ||
		    gf_gridtariff_location(&t, t.locs[i].grid) != &t.locs[i])
			abort();
	for (size_t i = 0; i < t.nbands; i++)
		for (int64_t ms = -86400000LL * 8; ms < 86400000LL * 8; ms += 3600000LL * 7) {
			double c;
			if (gf_gridtariff_cost(&t, t.bands[i].grid, ms, &c) && !isfinite(c))
				abort();
		}
	gf_gridtariff_free(&t);
	return 0;
}
