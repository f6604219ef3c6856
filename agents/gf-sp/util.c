/* SPDX-License-Identifier: MIT */
/*
 * util.c - what gf-sp's files share: the outbox flush, message ids for the
 * log, the clock, the pseudonym check, the tests' crash points. A leaf: it calls no other file of
 * the agent (docs/conventions.md).
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "anon/pseudonym.h"
#include "base/log.h"
#include "sp.h"

void sp_util_flush(struct sp *sp)
{
	struct gf_bus *bus = gf_agent_bus(sp->a);

	if (gf_bus_connected(bus))
		gf_store_outbox_flush(sp->store, bus);
}

void sp_util_msgid(const void *payload, size_t len, char out[GF_FNV1A64_HEXSIZE])
{
	gf_fnv1a64_hex(payload, len, out);
}

int64_t sp_util_now_ms(const struct sp *sp)
{
	return (int64_t)floor(gf_agent_now(sp->a) * 1000.0);
}

bool sp_util_is_pseudonym(const char *s)
{
	size_t n = strlen(s);

	return n == GF_PSEUDONYM_LEN &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

void sp_util_crash_point(const char *point)
{
	static long passes;
	const char *want = getenv("GF_SP_CRASH");
	size_t n = strlen(point);

	if (!want || strncmp(want, point, n) != 0 || (want[n] != '\0' && want[n] != ':'))
		return;
	if (++passes >= (want[n] == ':' ? atol(want + n + 1) : 1)) {
		gf_log_notice("GF-SP-CRASH", "GF_SP_CRASH: killing myself at %s", point);
		raise(SIGKILL);
	}
}
