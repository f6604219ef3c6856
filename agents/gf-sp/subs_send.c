/* SPDX-License-Identifier: MIT */
/*
 * subs_send.c - what a transaction of the subscriptions' work sends
 * (subs.c, docs/sp.md "Subscriptions"): each meter's and grid point's
 * complete intervals, a value only when it differs from the one last sent
 * (sp_sent), queued as meter.data per subscriber.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timefmt.h"
#include "energy.h"
#include "meter.pb-c.h"
#include "meter/resample.h"
#include "sp.h"
#include "subs_send.h"

#define DATA_MAX 1000 /* readings per meter.data */

/* --- values out ------------------------------------------------------------------ */

/* Queues v as the value of device's interval ending at end_ms for sub,
 * unless that very value was sent already. */
static enum gf_err emit(struct work *w, const struct sub *sub, const char *device, int64_t end_ms,
                        double v)
{
	struct sp_subs *ss = w->sp->subs;
	sqlite3_stmt *get = ss->st[ST_SENT_GET], *put = ss->st[ST_SENT_PUT];
	bool same = false;
	int step;

	sqlite3_bind_text(get, 1, sub->subscriber, -1, SQLITE_STATIC);
	sqlite3_bind_text(get, 2, sub->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(get, 3, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(get, 4, end_ms - sub->len_ms);
	step = sqlite3_step(get);
	if (step == SQLITE_ROW)
		same = sqlite3_column_double(get, 0) == v;
	sqlite3_reset(get);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return GF_EIO;
	if (same)
		return GF_OK;
	sqlite3_bind_text(put, 1, sub->subscriber, -1, SQLITE_STATIC);
	sqlite3_bind_text(put, 2, sub->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(put, 3, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(put, 4, end_ms - sub->len_ms);
	sqlite3_bind_double(put, 5, v);
	step = sqlite3_step(put);
	sqlite3_reset(put);
	if (step != SQLITE_DONE)
		return GF_EIO;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 256;
		struct emit *e = realloc(w->e, cap * sizeof(*e));
		if (!e)
			return GF_ENOMEM;
		w->e = e;
		w->cap = cap;
	}
	w->e[w->n] = (struct emit){sub, strdup(device), end_ms, v};
	if (!w->e[w->n].device)
		return GF_ENOMEM;
	w->n++;
	return GF_OK;
}

static int by_subscriber(const void *a, const void *b)
{
	const struct emit *x = a, *y = b;
	int c = strcmp(x->sub->subscriber, y->sub->subscriber);

	if (c == 0)
		c = strcmp(x->device, y->device);
	if (c == 0)
		c = x->end_ms < y->end_ms ? -1 : x->end_ms > y->end_ms;
	return c;
}

/* One meter.data of e[0..n) (one subscriber, n <= DATA_MAX). */
static enum gf_err send_chunk(struct work *w, const struct emit *e, size_t n)
{
	Goflex__MeterReadings mr = GOFLEX__METER_READINGS__INIT;
	Goflex__MeterReading *items = calloc(n, sizeof(*items));
	Goflex__MeterReading **ptrs = calloc(n, sizeof(*ptrs));
	char(*ts)[GF_TIME_BUFSIZE] = calloc(n, sizeof(*ts));
	enum gf_err rc = GF_ENOMEM;

	if (!items || !ptrs || !ts)
		goto out;
	for (size_t i = 0; i < n; i++) {
		goflex__meter_reading__init(&items[i]);
		if ((rc = gf_time_format(e[i].end_ms, ts[i], sizeof(ts[i]))) != GF_OK)
			goto out;
		items[i].observedtimestamp = ts[i];
		items[i].deviceid = e[i].device;
		items[i].value = e[i].v;
		items[i].obis = (char *)GF_OBIS_INTERVAL;
		items[i].unit = (char *)"kWh";
		ptrs[i] = &items[i];
	}
	mr.n_readings = n;
	mr.readings = ptrs;
	w->messages++;
	rc = gf_message_queue(w->sp->a, w->sp->store, "doms", e[0].sub->subscriber, "meter.data",
	                      &mr.base);
out:
	free(items);
	free(ptrs);
	free(ts);
	return rc;
}

/* Queues what w collected, per subscriber, DATA_MAX readings a message. */
enum gf_err sp_subs_send_all(struct work *w)
{
	enum gf_err rc = GF_OK;
	size_t i = 0;

	if (w->n)
		qsort(w->e, w->n, sizeof(*w->e), by_subscriber);
	while (rc == GF_OK && i < w->n) {
		size_t k = i + 1;
		while (k < w->n && k - i < DATA_MAX &&
		       strcmp(w->e[k].sub->subscriber, w->e[i].sub->subscriber) == 0)
			k++;
		rc = send_chunk(w, &w->e[i], k - i);
		i = k;
	}
	return rc;
}

void sp_subs_send_free(struct work *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->e[i].device);
	free(w->e);
	free(w->g);
}

/* --- intervals ------------------------------------------------------------------- */

/* A meter's complete intervals in [start, end) for sub. */
enum gf_err sp_subs_send_meter(struct work *w, const struct sub *sub, const char *meter,
                               int64_t start, int64_t end)
{
	size_t count = (size_t)((end - start) / sub->len_ms);
	double *e;
	char err[256];
	enum gf_err rc;

	if (count == 0)
		return GF_OK;
	if (!(e = malloc(count * sizeof(*e))))
		return GF_ENOMEM;
	rc =
	    sp_energy_meter(w->sp->db, meter, NULL, start, sub->len_ms, count, e, err, sizeof(err));
	if (rc == GF_ERANGE) {
		w->bad++;
		rc = GF_OK;
	} else if (rc != GF_OK) {
		gf_log_err("GF-SP-STORE", "meter.data: %s", err);
	} else {
		for (size_t i = 0; rc == GF_OK && i < count; i++)
			if (!isnan(e[i]))
				rc = emit(w, sub, meter, start + (int64_t)(i + 1) * sub->len_ms,
				          e[i]);
	}
	free(e);
	return rc;
}

/* A grid point's intervals in [start, end) for sub: the k_min rule. */
enum gf_err sp_subs_send_grid(struct work *w, const struct sub *sub, const char *grid,
                              int64_t start, int64_t end)
{
	struct sp_subs *ss = w->sp->subs;
	const struct sp_conf *c = w->sp->conf;
	const struct sp_grid *g = sp_grids_find(w->sp, grid);
	size_t count = (size_t)((end - start) / sub->len_ms), bad = 0;
	double *sum = NULL;
	uint32_t *have = NULL;
	char err[256];
	enum gf_err rc = GF_ENOMEM;

	/* No topology (yet), or too few meters: nothing to say. */
	if (!g || g->n < (size_t)c->k_min || count == 0)
		return GF_OK;
	sum = malloc(count * sizeof(*sum));
	have = malloc(count * sizeof(*have));
	if (!sum || !have)
		goto out;
	rc = sp_energy_grid(w->sp->db, (const char *const *)g->meters, g->n, start, sub->len_ms,
	                    count, sum, have, &bad, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-SP-STORE", "meter.data: %s", err);
		goto out;
	}
	w->bad += bad;
	for (size_t i = 0; rc == GF_OK && i < count; i++) {
		int64_t s = start + (int64_t)i * sub->len_ms, e = s + sub->len_ms;
		double due = (double)e / 1000.0 + (double)c->grid_wait_s;
		enum sp_grid_verdict v =
		    sp_energy_rule(have[i], g->n, (size_t)c->k_min, w->now_s >= due);
		/* Only what the deadline alone can send waits for it: with fewer
		 * than k_min in, only a reading can change the verdict, and a
		 * reading brings the interval back here. */
		bool wait = v == SP_GRID_WAIT && have[i] >= (size_t)c->k_min;
		sqlite3_stmt *st = ss->st[wait ? ST_PENDING_PUT : ST_PENDING_DEL];

		if (v == SP_GRID_SEND)
			rc = emit(w, sub, grid, e, sum[i]);
		sqlite3_bind_text(st, 1, sub->subscriber, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, sub->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, grid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, s);
		if (rc == GF_OK && sqlite3_step(st) != SQLITE_DONE)
			rc = GF_EIO;
		sqlite3_reset(st);
	}
out:
	free(sum);
	free(have);
	return rc;
}

/* Adds [start, end) of sub's grid point to the grid work. */
enum gf_err sp_subs_send_add_grid(struct work *w, const struct sub *sub, const char *grid,
                                  int64_t start, int64_t end)
{
	struct grid_work *g;

	for (size_t i = 0; i < w->ng; i++) {
		g = &w->g[i];
		if (g->sub == sub && strcmp(g->grid, grid) == 0) {
			g->start = start < g->start ? start : g->start;
			g->end = end > g->end ? end : g->end;
			return GF_OK;
		}
	}
	if (!(g = realloc(w->g, (w->ng + 1) * sizeof(*g))))
		return GF_ENOMEM;
	w->g = g;
	w->g[w->ng++] = (struct grid_work){sub, grid, start, end};
	return GF_OK;
}

enum gf_err sp_subs_send_grids(struct work *w)
{
	enum gf_err rc = GF_OK;

	for (size_t i = 0; rc == GF_OK && i < w->ng; i++)
		rc = sp_subs_send_grid(w, w->g[i].sub, w->g[i].grid, w->g[i].start, w->g[i].end);
	return rc;
}
