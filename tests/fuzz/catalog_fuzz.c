/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the exchange catalogue parser, then every lookup on what
 * it accepted. */
#include <stdint.h>
#include <stdlib.h>

#include "bus/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gf_catalog *cat = NULL;
	char err[256];

	if (gf_catalog_parse((const char *)data, size, "fuzz", &cat, err, sizeof(err)) != GF_OK)
		return 0;
	for (size_t i = 0; i < gf_catalog_row_count(cat); i++) {
		const struct gf_catalog_row *r = gf_catalog_row(cat, i);
		int m = gf_catalog_msg(cat, r->msg, __builtin_strlen(r->msg));
		if (m < 0 || gf_catalog_cell(cat, r->from, r->to, m) != r->cell)
			abort();
	}
	gf_catalog_free(cat);
	return 0;
}
