/* SPDX-License-Identifier: MIT */
/*
 * util.c - what gf-fmar's files share: id lists, schedule ids, echo tokens
 * and the outbox flush. A leaf: it calls no other file of the agent
 * (docs/conventions.md).
 */
#include <stdio.h>
#include <string.h>

#include "fmar.h"
#include "base/hash.h"

bool fmar_util_id_listed(const char *list, const char *id)
{
	size_t n = strlen(id);

	while (list && *list) {
		size_t len;
		list += strspn(list, ", \t");
		len = strcspn(list, ", \t");
		if (len == n && len > 0 && strncmp(list, id, n) == 0)
			return true;
		list += len;
	}
	return false;
}

int64_t fmar_util_schedule_id(const char *offer_id)
{
	uint64_t h = gf_fnv1a64(GF_FNV1A64_BASIS, offer_id, strlen(offer_id));

	h &= (1ULL << 53) - 1;
	return h ? (int64_t)h : 1;
}

void fmar_util_echo_token(char *buf, size_t size, int64_t update_id)
{
	snprintf(buf, size, "u%lld", (long long)update_id);
}

/* The runtime's outbox: rows leave it on PUBACK (lib/agent/store.h). */
void fmar_util_outbox_flush(struct fmar *f)
{
	gf_store_outbox_flush(f->store, gf_agent_bus(f->a));
}
