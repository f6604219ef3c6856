/* SPDX-License-Identifier: MIT */
#include "agent/once.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* True once in the process: for the first key that begins with
 * GF_STORE_FAIL's value (docs/trading.md, "Crash safety"). */
static bool inject(const char *key)
{
	static bool read, fired;
	static const char *prefix;

	if (!read) {
		read = true;
		prefix = getenv("GF_STORE_FAIL");
		if (prefix && prefix[0])
			gf_log_warning(
			    "GF-STORE-INJECT",
			    "GF_STORE_FAIL=%s: the first key beginning so will fail (a test)",
			    prefix);
	}
	if (fired || !prefix || !prefix[0] || !key || strncmp(key, prefix, strlen(prefix)) != 0)
		return false;
	fired = true;
	gf_log_err("GF-STORE-INJECT", "GF_STORE_FAIL=%s: failing the commit of %s (a test)", prefix,
	           key);
	return true;
}

enum gf_err gf_store_once(struct gf_agent *a, struct gf_store *s, const char *key, gf_once_fn fn,
                          gf_once_fn dup, void *arg)
{
	char why[320];
	enum gf_err rc = gf_store_begin(s);

	if (rc != GF_OK)
		goto fail;
	if (key && gf_store_seen(s, key)) {
		if (dup)
			rc = dup(arg);
	} else {
		rc = fn(arg);
		if (rc == GF_OK && key)
			rc = gf_store_mark(s, key);
	}
	if (rc == GF_OK && inject(key))
		rc = GF_EIO;
	if (rc == GF_OK)
		rc = gf_store_commit(s);
	if (rc == GF_OK)
		return GF_OK;
fail:
	gf_store_rollback(s);
	if (a) {
		snprintf(why, sizeof(why), "the store failed on %.256s: %s",
		         key ? key : "work without a key", gf_strerror(rc));
		gf_agent_fail(a, why);
	}
	return rc;
}
