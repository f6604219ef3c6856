/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the form check of sealed payloads (compact JWE). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload/jwe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char kid[GF_JWE_KID_MAX + 1], err[256];

	if (gf_jwe_check_compact((const char *)data, size, kid, sizeof(kid), err, sizeof(err)) ==
	        GF_OK &&
	    (kid[0] == '\0' || memchr(data, '.', size) == NULL))
		abort(); /* an accepted JWE has five parts and names its key */
	return 0;
}
