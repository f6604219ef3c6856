/* SPDX-License-Identifier: MIT */
/*
 * tariff.c - the energy transfer cost (D6.1 7.2.7, "energy transfer
 * calculator"): the network tariff of the grid file (lib/engine/
 * gridtariff.h) per 900 s interval. docs/sp.md, "Transfer cost".
 *
 *   - transfercost (sp -> foa, fman, fmar, public feed): each day at
 *     forecast_at_s (and at start), the next UTC day's costs of every grid
 *     point with bands of its own, once per grid point, day and content;
 *   - transfercost.query (fman, fmar -> sp): the costs of toGridPointId over
 *     the whole intervals of the period (at most 31 days). The tariff is
 *     the one of the grid point that takes the energy; fromGridPointId is
 *     echoed and changes nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "energy.h"
#include "price.pb-c.h"
#include "sp.h"

#define IV_MS      900000LL
#define DAY_MS     86400000LL
#define PERIOD_MAX (31 * 96)

enum gf_err sp_tariff_load(const struct sp_conf *c, struct gf_gridtariff *out, char *err,
                           size_t errlen)
{
	if (!c->grid_file) {
		memset(out, 0, sizeof(*out));
		return GF_OK;
	}
	return gf_gridtariff_load(c->grid_file, out, err, errlen);
}

/* The costs of grid for n intervals from first_ms; false: an interval
 * without a band (*missing its time). */
static bool costs(const struct gf_gridtariff *t, const char *grid, int64_t first_ms, size_t n,
                  double *v, int64_t *missing)
{
	for (size_t i = 0; i < n; i++)
		if (!gf_gridtariff_cost(t, grid, first_ms + (int64_t)i * IV_MS, &v[i])) {
			*missing = first_ms + (int64_t)i * IV_MS;
			return false;
		}
	return true;
}

struct pub {
	struct sp *sp;
	Goflex__TransferCost *tc;
};

static enum gf_err publish_txn(void *arg)
{
	struct pub *p = arg;

	return gf_message_queue(p->sp->a, p->sp->store, "all", "all", "transfercost", &p->tc->base);
}

void sp_tariff_publish(struct sp *sp, int64_t day_ms)
{
	const struct gf_gridtariff *t = &sp->tariff;
	char start[GF_TIME_BUFSIZE] = "", key[256], hash[GF_FNV1A64_HEXSIZE];
	size_t sent = 0;

	gf_time_format(day_ms, start, sizeof(start));
	for (size_t b = 0; b < t->nbands; b++) {
		const char *grid = t->bands[b].grid;
		Goflex__TransferCost tc = GOFLEX__TRANSFER_COST__INIT;
		struct pub p = {sp, &tc};
		double v[96];
		int64_t missing = 0;
		bool first = true;

		/* Each grid point once, at its first band; "*" is no grid point. */
		for (size_t k = 0; k < b; k++)
			first = first && strcmp(t->bands[k].grid, grid) != 0;
		if (!first || strcmp(grid, "*") == 0)
			continue;
		if (!costs(t, grid, day_ms, 96, v, &missing)) {
			char when[GF_TIME_BUFSIZE] = "?";
			gf_time_format(missing, when, sizeof(when));
			gf_log_warning("GF-SP-TARIFF",
			               "no transfercost of %s for %s: no band holds %s", grid,
			               start, when);
			continue;
		}
		tc.togridpointid = (char *)grid;
		tc.resolution = 900;
		tc.starttime = start;
		tc.costs = v;
		tc.n_costs = 96;
		/* Once per grid point, day and content: a restart or a reload
		 * that changes nothing sends nothing again. */
		sp_util_msgid(v, sizeof(v), hash);
		snprintf(key, sizeof(key), "tc:%s:%lld:%s", grid, (long long)day_ms, hash);
		if (gf_store_seen(sp->store, key))
			continue;
		if (gf_store_once(sp->a, sp->store, key, publish_txn, NULL, &p) != GF_OK)
			return;
		sent++;
	}
	if (sent) {
		gf_log_info("GF-SP-TARIFF", "transfercost of %zu grid points for %s queued", sent,
		            start);
		sp_util_flush(sp);
	}
}

struct tanswer {
	struct sp *sp;
	const struct gf_inbox_item *item;
	const struct gf_message *m;
	Goflex__TransferCostQueryResult *res;
};

static enum gf_err answer_txn(void *arg)
{
	struct tanswer *a = arg;

	return gf_message_answer(a->sp->a, a->sp->store, a->item, a->m, &a->res->base);
}

void sp_tariff_answer(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m)
{
	const Goflex__TransferCostQuery *q = (const Goflex__TransferCostQuery *)m->body;
	Goflex__TransferCostQueryResult res = GOFLEX__TRANSFER_COST_QUERY_RESULT__INIT;
	Goflex__ResultStatus status = GOFLEX__RESULT_STATUS__INIT;
	Goflex__TransferCost tc = GOFLEX__TRANSFER_COST__INIT, *ptr = &tc;
	struct tanswer a = {sp, item, m, &res};
	char reason[256] = "", start[GF_TIME_BUFSIZE] = "", id[GF_FNV1A64_HEXSIZE];
	double *v = NULL;
	int64_t from, to, first = 0, missing = 0;
	size_t n = 0;

	status.requestid = q->requestid;
	if (gf_time_parse(q->fromtime, strlen(q->fromtime), &from) != GF_OK ||
	    gf_time_parse(q->totime, strlen(q->totime), &to) != GF_OK || from >= to) {
		status.code = GOFLEX__RESULT_STATUS__CODE__badRequest;
		snprintf(reason, sizeof(reason), "fromTime must be before toTime");
	} else {
		first = sp_energy_ceil(from, IV_MS);
		int64_t last = sp_energy_floor(to, IV_MS);
		n = last > first ? (size_t)((last - first) / IV_MS) : 0;
		if (n == 0 || n > PERIOD_MAX) {
			status.code = GOFLEX__RESULT_STATUS__CODE__badRequest;
			snprintf(reason, sizeof(reason), "1 to %d whole 900 s intervals",
			         PERIOD_MAX);
		}
	}
	if (status.code == GOFLEX__RESULT_STATUS__CODE__ok && !(v = malloc(n * sizeof(*v)))) {
		status.code = GOFLEX__RESULT_STATUS__CODE__failed;
		snprintf(reason, sizeof(reason), "out of memory");
	}
	if (status.code == GOFLEX__RESULT_STATUS__CODE__ok &&
	    !costs(&sp->tariff, q->togridpointid, first, n, v, &missing)) {
		char when[GF_TIME_BUFSIZE] = "?";
		gf_time_format(missing, when, sizeof(when));
		status.code = GOFLEX__RESULT_STATUS__CODE__notFound;
		snprintf(reason, sizeof(reason), "no tariff band of grid point %s holds %s",
		         q->togridpointid, when);
	}
	if (status.code == GOFLEX__RESULT_STATUS__CODE__ok) {
		gf_time_format(first, start, sizeof(start));
		tc.fromgridpointid = q->fromgridpointid;
		tc.togridpointid = q->togridpointid;
		tc.resolution = 900;
		tc.starttime = start;
		tc.costs = v;
		tc.n_costs = n;
		res.costs = &ptr;
		res.n_costs = 1;
	} else {
		status.reason = reason;
	}
	res.status = &status;
	if (gf_store_once(sp->a, sp->store, NULL, answer_txn, NULL, &a) == GF_OK) {
		sp_util_msgid(item->payload, item->len, id);
		gf_log_info("GF-SP-QUERY",
		            "transfercost.query (message %s) from %s.%s: %s%s%s, %zu "
		            "intervals",
		            id, gf_role_name(m->topic.from_role), m->from_id,
		            status.code == GOFLEX__RESULT_STATUS__CODE__ok ? "ok" : "refused",
		            reason[0] ? ": " : "", reason, res.n_costs ? n : 0);
		sp_util_flush(sp);
	}
	free(v);
}
