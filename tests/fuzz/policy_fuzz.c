/* SPDX-License-Identifier: MIT */
/* libFuzzer target: topic parsing and the policy decision for arbitrary
 * topics and filters, for every role and access, against the real catalogue.
 * The first byte picks role and access; the rest is the topic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gf_catalog *cat;

static void load(void)
{
	char err[256];
	const char *path = getenv("GF_EXCHANGE");

	if (gf_catalog_load(path ? path : "schemas/exchange.tsv", &cat, err, sizeof(err)) !=
	    GF_OK) {
		fprintf(stderr, "policy_fuzz: %s\n", err);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum gf_access access[] = {GF_ACCESS_READ, GF_ACCESS_WRITE,
	                                        GF_ACCESS_SUBSCRIBE, GF_ACCESS_UNSUBSCRIBE};
	struct gf_policy pol;
	struct gf_ident who = {GF_ROLE_FOA, {"7-PRE-001", 9}};
	struct gf_topic t;
	struct gf_decision d;
	char *topic;

	if (!cat)
		load();
	if (size < 1)
		return 0;
	pol.cat = cat;
	pol.site = (struct gf_sv){"site1", 5};
	who.role = (enum gf_role)(data[0] % GF_ROLE_COUNT);
	topic = malloc(size);
	memcpy(topic, data + 1, size - 1);
	topic[size - 1] = '\0';
	gf_topic_parse(topic, &t, NULL);
	enum gf_reason r = gf_policy_check(&pol, &who, access[(data[0] >> 4) & 3], topic, &d);
	if (r != d.reason || (unsigned)r >= GF_REASON_COUNT)
		abort();
	free(topic);
	return 0;
}
