/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the limits file parser against the shipped catalogue
 * (schemas/exchange.tsv, loaded once; make fuzz runs from the repository
 * root), then every lookup on what it accepted. */
#include <stdint.h>
#include <stdlib.h>

#include "bus/catalog.h"
#include "bus/msglimits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gf_catalog *cat;
	struct gf_msglimits *lim = NULL;
	char err[256];

	if (!cat && gf_catalog_load("schemas/exchange.tsv", &cat, err, sizeof(err)) != GF_OK)
		abort();
	if (gf_msglimits_parse((const char *)data, size, "fuzz", cat, 262144, &lim, err,
	                       sizeof(err)) != GF_OK)
		return 0;
	for (int m = -1; m <= (int)gf_catalog_msg_count(cat); m++) {
		uint32_t b = gf_msglimits_payload(lim, m);
		if (b == 0 || b > GF_MSGLIMITS_MAX_BYTES || b < gf_msglimits_smallest(lim) ||
		    b > gf_msglimits_largest(lim))
			abort();
	}
	gf_msglimits_free(lim);
	return 0;
}
