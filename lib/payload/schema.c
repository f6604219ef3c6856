/* SPDX-License-Identifier: MIT */
#include "payload/schema.h"

#include <string.h>

#include "schema_registry.h"

const ProtobufCMessageDescriptor *gf_schema_find(const char *msg, size_t len)
{
	size_t lo = 0, hi = gf_schema_registry_len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *name = gf_schema_registry[mid].msg;
		int c = strncmp(name, msg, len);
		if (c == 0 && name[len] != '\0')
			c = 1; /* name is longer: it sorts after msg */
		if (c == 0)
			return gf_schema_registry[mid].desc;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
