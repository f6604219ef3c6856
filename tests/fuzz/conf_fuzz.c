/* SPDX-License-Identifier: MIT */
/* libFuzzer target: "key value" configuration text against a table with
 * every item type. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct opts {
	char *name;
	bool flag;
	long count;
};

static const struct gf_conf_item table[] = {
    {"name", GF_CONF_STRING, offsetof(struct opts, name), "x", 0, 0, true, "a string"},
    {"flag", GF_CONF_BOOL, offsetof(struct opts, flag), "off", 0, 0, false, "a bool"},
    {"count", GF_CONF_INT, offsetof(struct opts, count), "3", -5, 1000000, false, "an int"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct opts o;
	char err[256];

	gf_conf_defaults(table, &o);
	gf_conf_load_text(table, &o, "fuzz", (const char *)data, size, err, sizeof(err));
	gf_conf_check(table, &o, err, sizeof(err));
	gf_conf_free(table, &o);
	return 0;
}
