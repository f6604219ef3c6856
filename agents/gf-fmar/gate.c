/* SPDX-License-Identifier: MIT */
/*
 * gate.c - gf-fmar's timers (docs/fmar.md): the gate closure of each held
 * bid and each due re-clearing of a cleared bid's remainder. When one
 * fires, this file decides what it stands for: the bid's clearing
 * (clearing.c), or, when clearing.c answers that the bid was cleared
 * before, a re-clearing (reclear.c). The timers are re-armed from the store
 * at every start, so a kill -9 loses none.
 */
#include <stdlib.h>
#include <string.h>

#include "fmar.h"
#include "base/log.h"

static void on_gate(struct gf_agent *a, void *arg)
{
	struct fmar *f = gf_agent_data(a);
	char *id = arg;

	for (size_t i = 0; i < f->ntimers; i++) {
		if (f->timers[i].offer_id == id) {
			f->timers[i] = f->timers[--f->ntimers];
			break;
		}
	}
	/* Cleared before: its timer now stands for a re-clearing. */
	if (fmar_clearing_run(f, id) == GF_EEXIST)
		fmar_reclear_run(f, id);
	free(id);
}

void fmar_gate_arm(struct fmar *f, const char *offer_id, double gate_s)
{
	struct fmar_timer t = {strdup(offer_id), 0};

	for (size_t i = 0; i < f->ntimers; i++) {
		if (strcmp(f->timers[i].offer_id, offer_id) == 0) {
			gf_agent_timer_cancel(f->a, f->timers[i].id);
			free(f->timers[i].offer_id);
			f->timers[i] = f->timers[--f->ntimers];
			break;
		}
	}
	if (f->ntimers == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct fmar_timer *n = realloc(f->timers, cap * sizeof(*n));
		if (!n)
			goto fail;
		f->timers = n;
		f->cap = cap;
	}
	if (!t.offer_id || !(t.id = gf_agent_timer_at(f->a, gate_s, on_gate, t.offer_id)))
		goto fail;
	f->timers[f->ntimers++] = t;
	return;
fail:
	/* Cleared at the next start, when the timers are armed again. */
	gf_log_err("GF-FMAR-TIMER", "out of memory arming the gate of %s", offer_id);
	free(t.offer_id);
}

/* Arms a timer (fmar_gate_arm) for each row of sql (offer id, simulated
 * time); *n counts them. GF_EIO, logged as reading the `what`. */
static enum gf_err arm_rows(struct fmar *f, const char *sql, const char *what, size_t *n)
{
	sqlite3 *db = gf_store_db(f->store);
	sqlite3_stmt *st = NULL;
	int step;

	*n = 0;
	if (!(st = gf_store_prepare(f->store, sql))) {
		gf_log_err("GF-FMAR-STORE", "cannot read the %s: %s", what, sqlite3_errmsg(db));
		return GF_EIO;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		fmar_gate_arm(f, gf_store_text(st, 0), sqlite3_column_double(st, 1));
		(*n)++;
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? GF_OK : GF_EIO;
}

enum gf_err fmar_gate_arm_bids(struct fmar *f)
{
	size_t n;
	enum gf_err rc = arm_rows(f,
	                          "SELECT id, gate_s FROM fmar_offer WHERE kind = 'bid' AND"
	                          " state = 'held' ORDER BY gate_s, id",
	                          "bids", &n);

	if (n)
		gf_log_notice("GF-FMAR-REARM", "%zu bids wait for their gate closure", n);
	return rc;
}

enum gf_err fmar_gate_arm_reclears(struct fmar *f)
{
	size_t n;
	enum gf_err rc =
	    arm_rows(f, "SELECT bid_offer_id, due_s FROM fmar_reclear ORDER BY due_s, bid_offer_id",
	             "re-clearings", &n);

	if (n)
		gf_log_info("GF-FMAR-REARM", "%zu re-clearings due", n);
	return rc;
}

void fmar_gate_disarm_all(struct fmar *f)
{
	/* The runtime's timers went with the agent; only the arguments stay. */
	for (size_t i = 0; i < f->ntimers; i++)
		free(f->timers[i].offer_id);
	free(f->timers);
	f->timers = NULL;
	f->ntimers = f->cap = 0;
}
