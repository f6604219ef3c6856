/* SPDX-License-Identifier: MIT */
/*
 * util.c - what gf-fman's files share: failure bookkeeping, statements, the
 * outbox flush, the interval clock and the test's crash points. A leaf: it
 * calls no other file of the agent (docs/conventions.md).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fman.h"
#include "base/log.h"

void fman_util_fail(struct fman *f, const char *what)
{
	gf_log_err("GF-STORE-SQL", "%s: %s", what, sqlite3_errmsg(gf_store_db(f->store)));
	if (!f->failed)
		f->failed = what;
}

sqlite3_stmt *fman_util_prepare(struct fman *f, const char *sql)
{
	sqlite3_stmt *st = gf_store_prepare(f->store, sql);

	if (!st && !f->failed)
		f->failed = "a statement";
	return st;
}

enum gf_err fman_util_status(const struct fman *f)
{
	return f->failed ? GF_EIO : GF_OK;
}

void fman_util_flush(struct fman *f)
{
	struct gf_bus *bus = gf_agent_bus(f->agent);

	if (gf_bus_connected(bus))
		gf_store_outbox_flush(f->store, bus);
}

int64_t fman_util_now_interval(const struct fman *f)
{
	return (int64_t)floor(gf_agent_now(f->agent) / 900.0);
}

void fman_util_crash_point(const char *point)
{
	static long passes;
	const char *want = getenv("GF_FMAN_CRASH");
	size_t n = strlen(point);

	if (!want || strncmp(want, point, n) != 0 || (want[n] != '\0' && want[n] != ':'))
		return;
	if (++passes >= (want[n] == ':' ? atol(want + n + 1) : 1)) {
		gf_log_notice("GF-FMAN-CRASH", "GF_FMAN_CRASH: killing myself at %s", point);
		raise(SIGKILL);
	}
}
