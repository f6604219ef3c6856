/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the audit feed's JSON string writer on arbitrary bytes,
 * into buffers of every small size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[512];
	size_t pos;

	memcpy(s, data, size);
	s[size] = '\0';
	for (size_t cap = 1; cap <= sizeof(buf); cap = cap * 2 + 1) {
		pos = 0;
		if (gf_json_put_string(buf, cap, &pos, s) == GF_OK) {
			if (pos >= cap || buf[pos] != '\0' || buf[0] != '"' || buf[pos - 1] != '"')
				abort();
			for (size_t i = 0; i < pos; i++) {
				if ((unsigned char)buf[i] < 0x20)
					abort(); /* control characters are always escaped */
			}
		} else if (pos != 0) {
			abort(); /* on failure nothing is appended */
		}
	}
	free(s);
	return 0;
}
