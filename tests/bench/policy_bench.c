/* SPDX-License-Identifier: MIT */
/*
 * policy_bench - the cost of one policy decision (lib/bus/policy.c) as the
 * catalogue and the identity population grow, as ratios against the real
 * catalogue with 10 identities, measured in the same run.
 *
 * Catalogues: schemas/exchange.tsv, and the same file with synthetic extra
 * message types, each a private row from foa to eleven roles: up to 9,900
 * extra rows. Identities: the decision takes the identity as an
 * argument and keeps no state, so the population is the set of ids cycled
 * through (10 or 100,000), which shows up only through cache effects.
 * Each configuration runs the same mix of WRITE/READ/SUBSCRIBE checks,
 * allowed and refused; the best of several repetitions is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/policy.h"

#define CHECKS 2000000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct gf_catalog *catalogue(const char *base, size_t extra_msgs)
{
	static const char *const to[] = {"user", "xems", "foa", "fman", "fmar", "doms",
	                                 "sp",   "dms",  "ext", "kpi",  "ops"};
	FILE *f = fopen(base, "rb");
	size_t cap = (1u << 20) + extra_msgs * 11 * 48, len;
	char *text = malloc(cap), err[256];
	struct gf_catalog *cat = NULL;

	if (!f || !text)
		exit(1);
	len = fread(text, 1, cap, f);
	fclose(f);
	for (size_t i = 0; i < extra_msgs; i++) {
		for (size_t t = 0; t < 11; t++)
			len += (size_t)snprintf(text + len, cap - len,
			                        "foa\t%s\tsynthetic.m%zu\tprivate\t-\n", to[t], i);
	}
	if (gf_catalog_parse(text, len, "bench", &cat, err, sizeof(err)) != GF_OK) {
		fprintf(stderr, "policy_bench: %s\n", err);
		exit(1);
	}
	free(text);
	return cat;
}

/* ns per decision for cat with ids cycling over n identities. */
static double run(const struct gf_catalog *cat, size_t n)
{
	struct gf_policy pol = {cat, {"site1", 5}};
	char(*ids)[24] = malloc(n * sizeof(*ids));
	char(*topics)[4][128] = malloc(n * sizeof(*topics));
	double best = 1e9;
	volatile unsigned allowed = 0;

	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], sizeof(ids[i]), "7-PRE-%06u", (unsigned)(i % 1000000));
		snprintf(topics[i][0], 128, "gf/site1/foa/%s/fman/all/flexoffer", ids[i]);
		snprintf(topics[i][1], 128, "gf/site1/fman/f1/foa/%s/flexoffer.assign", ids[i]);
		snprintf(topics[i][2], 128, "gf/site1/foa/7-PRE-X/fman/all/flexoffer");
		snprintf(topics[i][3], 128, "gf/site1/fman/+/foa/%s/#", ids[i]);
	}
	for (int rep = 0; rep < 5; rep++) {
		double t0 = now_s();
		for (size_t k = 0; k < CHECKS; k += 4) {
			size_t i = (k / 4) % n;
			struct gf_ident who = {GF_ROLE_FOA, {ids[i], strlen(ids[i])}};
			allowed +=
			    gf_policy_check(&pol, &who, GF_ACCESS_WRITE, topics[i][0], NULL) == 0;
			allowed +=
			    gf_policy_check(&pol, &who, GF_ACCESS_READ, topics[i][1], NULL) == 0;
			allowed +=
			    gf_policy_check(&pol, &who, GF_ACCESS_WRITE, topics[i][2], NULL) == 0;
			allowed += gf_policy_check(&pol, &who, GF_ACCESS_SUBSCRIBE, topics[i][3],
			                           NULL) == 0;
		}
		double dt = (now_s() - t0) * 1e9 / CHECKS;
		if (dt < best)
			best = dt;
	}
	if (allowed != 5u * CHECKS / 4 * 3) {
		fprintf(stderr, "policy_bench: %u allowed, expected %u\n", allowed,
		        5u * CHECKS / 4 * 3);
		exit(1);
	}
	free(ids);
	free(topics);
	return best;
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : "schemas/exchange.tsv";
	static const size_t extras[] = {0, 90, 900};
	static const size_t pops[] = {10, 100000};
	double anchor = 0;

	printf("policy decision, ns per check (best of 5 x %d checks; mix of write/read/subscribe, "
	       "allowed and refused)\n",
	       CHECKS);
	printf("%-22s %12s %10s %8s\n", "catalogue", "identities", "ns/check", "ratio");
	for (size_t e = 0; e < sizeof(extras) / sizeof(extras[0]); e++) {
		struct gf_catalog *cat = catalogue(base, extras[e]);
		for (size_t p = 0; p < sizeof(pops) / sizeof(pops[0]); p++) {
			double ns = run(cat, pops[p]);
			char label[64];
			if (anchor == 0)
				anchor = ns;
			snprintf(label, sizeof(label), "%zu rows", gf_catalog_row_count(cat));
			printf("%-22s %12zu %10.1f %7.2fx\n", label, pops[p], ns, ns / anchor);
		}
		gf_catalog_free(cat);
	}
	return 0;
}
