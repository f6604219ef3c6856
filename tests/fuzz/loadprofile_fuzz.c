/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the same bytes as a load profile and as a forecast
 * (lib/engine/loadprofile.h); a forecast that parses goes on to the DOMS's bid
 * computation (lib/engine/congestion.h), whose bids must lie inside the forecast,
 * be at most max_len long and ask for at least the margin. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/congestion.h"
#include "engine/loadprofile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static double kw[GF_LOADPROFILE_MINUTES];
	struct gf_forecast f = {0};
	struct gf_congestion_params p = {"fuzz", 1.0, 0.1, 0.2, NULL, 3};
	struct gf_congestion_bids b = {0};
	char err[128];

	gf_loadprofile_parse("fuzz", (const char *)data, size, kw, err, sizeof(err));
	if (gf_forecast_parse("fuzz", (const char *)data, size, &f, err, sizeof(err)) != GF_OK)
		return 0;
	if (gf_congestion_bids(&p, f.start, f.kwh, f.n, &b, err, sizeof(err)) == GF_OK) {
		for (size_t i = 0; i < b.count; i++) {
			const struct gf_congestion_bid *bid = &b.bid[i];

			if (bid->n < 1 || bid->n > p.max_len || bid->start < f.start ||
			    bid->start + (int64_t)bid->n > f.start + (int64_t)f.n)
				abort();
			/* f - L > 0 exactly when f > L (gradual underflow), but
			 * adding the margin may round the excess away: >=. */
			for (size_t k = 0; k < bid->n; k++)
				if (!(bid->schedule_change[k] >= p.margin_kwh))
					abort();
		}
	}
	gf_congestion_bids_free(&b);
	gf_forecast_free(&f);
	return 0;
}
