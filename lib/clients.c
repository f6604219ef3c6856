/* SPDX-License-Identifier: MIT */
#include "clients.h"

#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing and backward-shift deletion. */
struct gf_clients {
	struct gf_client_entry *slots;
	size_t cap, count; /* cap is a power of two; count <= cap / 2 */
};

static size_t slot_of(const struct gf_clients *reg, const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 1099511628211ULL;
	}
	return (size_t)h & (reg->cap - 1);
}

struct gf_clients *gf_clients_new(void)
{
	struct gf_clients *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->cap = 64;
	reg->slots = calloc(reg->cap, sizeof(*reg->slots));
	if (!reg->slots) {
		free(reg);
		return NULL;
	}
	return reg;
}

static void entry_clear(struct gf_client_entry *e)
{
	free(e->client_id);
	free(e->username);
	free(e->cert_site);
	memset(e, 0, sizeof(*e));
}

void gf_clients_free(struct gf_clients *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->cap; i++) {
		if (reg->slots[i].client_id)
			entry_clear(&reg->slots[i]);
	}
	free(reg->slots);
	free(reg);
}

static struct gf_client_entry *lookup(const struct gf_clients *reg, const char *key)
{
	for (size_t i = slot_of(reg, key);; i = (i + 1) & (reg->cap - 1)) {
		if (!reg->slots[i].client_id || strcmp(reg->slots[i].client_id, key) == 0)
			return &reg->slots[i];
	}
}

static enum gf_err grow(struct gf_clients *reg)
{
	struct gf_clients bigger = {calloc(reg->cap * 2, sizeof(*reg->slots)), reg->cap * 2, 0};

	if (!bigger.slots)
		return GF_ENOMEM;
	for (size_t i = 0; i < reg->cap; i++) {
		if (reg->slots[i].client_id) {
			*lookup(&bigger, reg->slots[i].client_id) = reg->slots[i];
			bigger.count++;
		}
	}
	free(reg->slots);
	*reg = bigger;
	return GF_OK;
}

enum gf_err gf_clients_put(struct gf_clients *reg, const char *client_id, const char *username,
                           const char *cert_site, const uint8_t *serial, size_t serial_len)
{
	struct gf_client_entry e = {NULL, NULL, NULL, {0}, 0};
	struct gf_client_entry *slot;

	if (!client_id || serial_len > GF_SERIAL_MAX)
		return GF_EINVAL;
	if ((reg->count + 1) * 2 > reg->cap && grow(reg) != GF_OK)
		return GF_ENOMEM;
	e.client_id = strdup(client_id);
	e.username = strdup(username ? username : "");
	e.cert_site = cert_site ? strdup(cert_site) : NULL;
	if (!e.client_id || !e.username || (cert_site && !e.cert_site)) {
		entry_clear(&e);
		return GF_ENOMEM;
	}
	if (serial_len)
		memcpy(e.serial, serial, serial_len);
	e.serial_len = serial_len;
	slot = lookup(reg, client_id);
	if (slot->client_id)
		entry_clear(slot);
	else
		reg->count++;
	*slot = e;
	return GF_OK;
}

void gf_clients_drop(struct gf_clients *reg, const char *client_id)
{
	struct gf_client_entry *slot;
	size_t hole, i;

	if (!client_id)
		return;
	slot = lookup(reg, client_id);
	if (!slot->client_id)
		return;
	entry_clear(slot);
	reg->count--;
	/* Backward-shift: move later members of the probe run into the hole. */
	hole = (size_t)(slot - reg->slots);
	for (i = (hole + 1) & (reg->cap - 1); reg->slots[i].client_id;
	     i = (i + 1) & (reg->cap - 1)) {
		size_t home = slot_of(reg, reg->slots[i].client_id);
		/* Is home cyclically outside (hole, i]? Then the entry may fill the hole. */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && (home <= hole && home > i))) {
			reg->slots[hole] = reg->slots[i];
			memset(&reg->slots[i], 0, sizeof(reg->slots[i]));
			hole = i;
		}
	}
}

const struct gf_client_entry *gf_clients_find(const struct gf_clients *reg, const char *client_id)
{
	const struct gf_client_entry *e;

	if (!client_id)
		return NULL;
	e = lookup(reg, client_id);
	return e->client_id ? e : NULL;
}

size_t gf_clients_count(const struct gf_clients *reg)
{
	return reg->count;
}

void gf_clients_each(const struct gf_clients *reg,
                     void (*fn)(const struct gf_client_entry *e, void *ud), void *ud)
{
	for (size_t i = 0; i < reg->cap; i++) {
		if (reg->slots[i].client_id)
			fn(&reg->slots[i], ud);
	}
}
