/* SPDX-License-Identifier: MIT */
/* libFuzzer target: what gf-kpi reads from outside (agents/gf-kpi/tracker.h):
 * the first byte picks the parser, the rest is its input: a posted
 * KpiSample (JSON), series query parameters ("k=v&k=v"), or a rules file.
 * What parses must hold to the documented limits; rules are then applied
 * to a few numbers and a series is downsampled. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void query(const char *s, size_t n)
{
	struct kpi_query q;
	char buf[4096], err[256], *save = NULL;

	if (n >= sizeof(buf))
		return;
	memcpy(buf, s, n);
	buf[n] = '\0';
	kpi_parse_query_init(&q, 1e9);
	for (char *kv = strtok_r(buf, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = '\0';
		if (kpi_parse_query_param(&q, kv, eq, err, sizeof(err)) != GF_OK)
			return;
	}
	if (kpi_parse_query_check(&q, 1000, err, sizeof(err)) == GF_OK &&
	    (!q.kpi[0] || !(q.from < q.to) || (q.step > 0 && (q.to - q.from) / q.step > 1000)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kpi_sample s;
	struct kpi_rules r;
	char err[256];
	const char *in = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;

	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (kpi_parse_sample(in, n, &s, err, sizeof(err)) == GF_OK &&
		    (!kpi_parse_id(s.kpi) || !isfinite(s.value) ||
		     strlen(s.unit) >= sizeof(s.unit)))
			abort();
		break;
	case 1:
		query(in, n);
		break;
	default:
		if (kpi_rules_parse(in, n, &r, err, sizeof(err)) != GF_OK)
			break;
		for (size_t i = 0; i < r.n; i++) {
			struct kpi_point p[3] = {{0, 1}, {10, r.r[i].value}, {20, -2}}, out[3];
			double v;

			if (!r.r[i].name[0] ||
			    (r.r[i].kind != KPI_RULE_THRESHOLD && !(r.r[i].window_s >= 1)))
				abort();
			(void)kpi_rules_match(&r.r[i].pat, "site1", "fmar", "m1", "fmar.x");
			(void)kpi_rules_rate(p, 3, 20, r.r[i].window_s, true);
			kpi_rules_aggregate(p, 3, r.r[i].agg, &v);
			(void)kpi_rules_goal(&r.r[i], v, true, true);
			if (kpi_series_downsample(p, 3, r.r[i].window_s, r.r[i].agg, out, 3) > 3)
				abort();
		}
		kpi_rules_free(&r);
		break;
	}
	return 0;
}
