/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the enrolment list "<id>,<pseudonym>"
 * (lib/meter/metermap.h). What parses must be sorted by id, every entry
 * found under its id, and no field empty or longer than the limit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meter/metermap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gf_metermap m = {0};
	char err[256];

	if (gf_metermap_parse("fuzz", (const char *)data, size, &m, err, sizeof(err)) != GF_OK)
		return 0;
	for (size_t i = 0; i < m.n; i++) {
		const char *p = gf_metermap_find(&m, m.e[i].id);
		size_t a = strlen(m.e[i].id), b = strlen(m.e[i].pseudonym);

		if (!p || strcmp(p, m.e[i].pseudonym) != 0 || a == 0 || b == 0 ||
		    a > GF_METERMAP_FIELD_MAX || b > GF_METERMAP_FIELD_MAX)
			abort();
		if (i > 0 && strcmp(m.e[i - 1].id, m.e[i].id) >= 0)
			abort();
	}
	gf_metermap_free(&m);
	return 0;
}
