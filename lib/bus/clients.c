/* SPDX-License-Identifier: MIT */
#include "bus/clients.h"

#include <stdint.h>
#include <stdlib.h>

/* Open addressing with linear probing and backward-shift deletion; a slot
 * holds a handle or NULL. The table shrinks again when it empties, so a
 * burst of connections leaves no lasting memory behind. */
struct gf_clients {
	const void **slots;
	size_t cap, count; /* cap is a power of two >= MIN_CAP; count <= cap / 2 */
};

#define MIN_CAP 64

static size_t slot_of(size_t cap, const void *conn)
{
	uint64_t h = (uint64_t)(uintptr_t)conn;

	/* Allocator addresses share their low bits: mix (splitmix64 finaliser). */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (size_t)h & (cap - 1);
}

struct gf_clients *gf_clients_new(void)
{
	struct gf_clients *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->cap = MIN_CAP;
	reg->slots = calloc(reg->cap, sizeof(*reg->slots));
	if (!reg->slots) {
		free(reg);
		return NULL;
	}
	return reg;
}

void gf_clients_free(struct gf_clients *reg)
{
	if (!reg)
		return;
	free(reg->slots);
	free(reg);
}

static size_t find(const void **slots, size_t cap, const void *conn)
{
	size_t i = slot_of(cap, conn);

	while (slots[i] && slots[i] != conn)
		i = (i + 1) & (cap - 1);
	return i;
}

static enum gf_err resize(struct gf_clients *reg, size_t cap)
{
	const void **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return GF_ENOMEM;
	for (size_t i = 0; i < reg->cap; i++) {
		if (reg->slots[i])
			slots[find(slots, cap, reg->slots[i])] = reg->slots[i];
	}
	free(reg->slots);
	reg->slots = slots;
	reg->cap = cap;
	return GF_OK;
}

enum gf_err gf_clients_add(struct gf_clients *reg, const void *conn)
{
	size_t i;

	if (!conn)
		return GF_EINVAL;
	i = find(reg->slots, reg->cap, conn);
	if (reg->slots[i])
		return GF_OK;
	if ((reg->count + 1) * 2 > reg->cap) {
		if (resize(reg, reg->cap * 2) != GF_OK)
			return GF_ENOMEM;
		i = find(reg->slots, reg->cap, conn);
	}
	reg->slots[i] = conn;
	reg->count++;
	return GF_OK;
}

void gf_clients_remove(struct gf_clients *reg, const void *conn)
{
	size_t hole, i;

	if (!conn)
		return;
	hole = find(reg->slots, reg->cap, conn);
	if (!reg->slots[hole])
		return;
	reg->slots[hole] = NULL;
	reg->count--;
	/* Backward shift: move later members of the probe run into the hole when
	 * their home slot is cyclically outside (hole, i]. */
	for (i = (hole + 1) & (reg->cap - 1); reg->slots[i]; i = (i + 1) & (reg->cap - 1)) {
		size_t home = slot_of(reg->cap, reg->slots[i]);
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && (home <= hole && home > i))) {
			reg->slots[hole] = reg->slots[i];
			reg->slots[i] = NULL;
			hole = i;
		}
	}
	/* Shrinking is best effort: on ENOMEM the larger table simply stays. */
	if (reg->cap > MIN_CAP && reg->count * 8 < reg->cap)
		(void)resize(reg, reg->cap / 2);
}

bool gf_clients_has(const struct gf_clients *reg, const void *conn)
{
	return conn && reg->slots[find(reg->slots, reg->cap, conn)] == conn;
}

size_t gf_clients_count(const struct gf_clients *reg)
{
	return reg->count;
}
