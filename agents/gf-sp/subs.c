/* SPDX-License-Identifier: MIT */
/*
 * subs.c - the DOMS's subscriptions (meter.subscribe, docs/sp.md
 * "Subscriptions"): durable in the agent's store (state_dir/sp.db), a
 * history at subscribe time, then meter.data whenever an interval becomes
 * complete or changes.
 *
 * The path of a reading to a subscriber, each step one transaction:
 *
 *   1. the batch is stored (db.h; a batch stored twice adds nothing);
 *   2. sp_subs_touch marks each subscribed meter of the batch dirty with the
 *      time range it got (sp_dirty, merged), and arms the work at "now":
 *      the loop runs it once the queued messages are handled, so a burst of
 *      batches costs one pass;
 *   3. process: for each dirty meter, the intervals its new readings can
 *      change (energy.h, sp_energy_affected) are computed again for every
 *      subscription that watches it, directly or through a grid point, and
 *      each complete interval whose value differs from the one last sent
 *      (sp_sent) goes into meter.data, queued in the outbox; the dirty
 *      marks go in the same transaction.
 *
 * A kill -9 between 1 and 2 replays the batch (nothing stored twice, the
 * marks made); between 2 and 3 the marks wait in sp_dirty for the next
 * start. A subscription is made, replaced or cancelled exactly once per
 * message (gf_store_once keyed by the inbox's sequence number, which the
 * message keeps across a crash).
 *
 * Grid points: an interval's sum is sent when all the grid point's meters
 * have it complete, or, with at least k_min of them, once its deadline
 * (its end plus grid_wait_s on the agent's clock) has passed; until then
 * it waits in sp_pending, and a timer at the earliest deadline decides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "energy.h"
#include "meter.pb-c.h"
#include "sp.h"
#include "subs_send.h"

#define TARGETS_MAX 10000 /* meters and grid points of one subscription */
#define LEN_MIN_S   60
#define LEN_MAX_S   86400

#define SCHEMA                                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_sub (subscriber TEXT NOT NULL, sub_id TEXT NOT NULL,"       \
	" len_ms INTEGER NOT NULL, from_ms INTEGER NOT NULL, PRIMARY KEY (subscriber, sub_id));"   \
	"CREATE TABLE IF NOT EXISTS sp_sub_target (subscriber TEXT NOT NULL, sub_id TEXT NOT "     \
	"NULL,"                                                                                    \
	" target TEXT NOT NULL, grid INTEGER NOT NULL,"                                            \
	" PRIMARY KEY (subscriber, sub_id, grid, target)) WITHOUT ROWID;"                          \
	"CREATE TABLE IF NOT EXISTS sp_dirty (meter TEXT PRIMARY KEY, from_ms INTEGER NOT NULL,"   \
	" to_ms INTEGER NOT NULL) WITHOUT ROWID;"                                                  \
	"CREATE TABLE IF NOT EXISTS sp_pending (subscriber TEXT NOT NULL, sub_id TEXT NOT NULL,"   \
	" grid TEXT NOT NULL, start_ms INTEGER NOT NULL,"                                          \
	" PRIMARY KEY (subscriber, sub_id, grid, start_ms)) WITHOUT ROWID;"                        \
	"CREATE TABLE IF NOT EXISTS sp_sent (subscriber TEXT NOT NULL, sub_id TEXT NOT NULL,"      \
	" device TEXT NOT NULL, start_ms INTEGER NOT NULL, value REAL NOT NULL,"                   \
	" PRIMARY KEY (subscriber, sub_id, device, start_ms)) WITHOUT ROWID;"

static const char *const sql[ST_N] = {
    [ST_DIRTY] = "INSERT INTO sp_dirty (meter, from_ms, to_ms) VALUES (?1, ?2, ?3)"
                 " ON CONFLICT (meter) DO UPDATE SET from_ms = min(from_ms, excluded.from_ms),"
                 " to_ms = max(to_ms, excluded.to_ms)",
    [ST_SENT_GET] = "SELECT value FROM sp_sent WHERE subscriber = ?1 AND sub_id = ?2"
                    " AND device = ?3 AND start_ms = ?4",
    [ST_SENT_PUT] = "INSERT OR REPLACE INTO sp_sent (subscriber, sub_id, device, start_ms, value)"
                    " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_PENDING_PUT] = "INSERT OR IGNORE INTO sp_pending (subscriber, sub_id, grid, start_ms)"
                       " VALUES (?1, ?2, ?3, ?4)",
    [ST_PENDING_DEL] = "DELETE FROM sp_pending WHERE subscriber = ?1 AND sub_id = ?2"
                       " AND grid = ?3 AND start_ms = ?4",
};

/* --- subscriptions in memory --------------------------------------------------- */

static void sub_clear(struct sub *s)
{
	for (size_t i = 0; i < s->nmeters; i++)
		free(s->meters[i]);
	for (size_t i = 0; i < s->ngrids; i++)
		free(s->grids[i]);
	free(s->meters);
	free(s->grids);
	free(s->subscriber);
	free(s->id);
	memset(s, 0, sizeof(*s));
}

static void subs_clear(struct sp_subs *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		sub_clear(&ss->v[i]);
	free(ss->v);
	free(ss->w);
	ss->v = NULL;
	ss->w = NULL;
	ss->n = ss->nw = 0;
}

static enum gf_err push_str(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return GF_ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return GF_ENOMEM;
	(*n)++;
	return GF_OK;
}

static int by_meter(const void *a, const void *b)
{
	return strcmp(((const struct watch *)a)->meter, ((const struct watch *)b)->meter);
}

enum gf_err sp_subs_rewatch(struct sp *sp)
{
	struct sp_subs *ss = sp->subs;
	struct watch *w = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < ss->n; i++) {
		struct sub *s = &ss->v[i];
		size_t more = s->nmeters;

		for (size_t k = 0; k < s->ngrids; k++) {
			const struct sp_grid *g = sp_grids_find(sp, s->grids[k]);
			more += g ? g->n : 0;
		}
		if (n + more > cap) {
			struct watch *nw = realloc(w, (n + more) * sizeof(*w));
			if (!nw) {
				free(w);
				return GF_ENOMEM;
			}
			w = nw;
			cap = n + more;
		}
		for (size_t k = 0; k < s->nmeters; k++)
			w[n++] = (struct watch){s->meters[k], s, NULL};
		for (size_t k = 0; k < s->ngrids; k++) {
			const struct sp_grid *g = sp_grids_find(sp, s->grids[k]);
			for (size_t j = 0; g && j < g->n; j++)
				w[n++] = (struct watch){g->meters[j], s, s->grids[k]};
		}
	}
	if (n)
		qsort(w, n, sizeof(*w), by_meter);
	free(ss->w);
	ss->w = w;
	ss->nw = n;
	return GF_OK;
}

/* The first watch of meter, or NULL. */
static const struct watch *watch_first(const struct sp_subs *ss, const char *meter)
{
	size_t lo = 0, hi = ss->nw;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ss->w[mid].meter, meter) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ss->nw && strcmp(ss->w[lo].meter, meter) == 0 ? &ss->w[lo] : NULL;
}

static struct sub *sub_find(struct sp_subs *ss, const char *subscriber, const char *id)
{
	for (size_t i = 0; i < ss->n; i++)
		if (strcmp(ss->v[i].subscriber, subscriber) == 0 && strcmp(ss->v[i].id, id) == 0)
			return &ss->v[i];
	return NULL;
}

/* Reads every subscription from the store. */
static enum gf_err load(struct sp *sp)
{
	struct sp_subs *ss = sp->subs;
	sqlite3_stmt *st = gf_store_prepare(sp->store, "SELECT subscriber, sub_id, len_ms, from_ms"
	                                               " FROM sp_sub ORDER BY subscriber, sub_id");
	sqlite3_stmt *tg = gf_store_prepare(sp->store, "SELECT target, grid FROM sp_sub_target"
	                                               " WHERE subscriber = ?1 AND sub_id = ?2"
	                                               " ORDER BY grid, target");
	enum gf_err rc = st && tg ? GF_OK : GF_EIO;
	int step;

	subs_clear(ss);
	while (rc == GF_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct sub *v = realloc(ss->v, (ss->n + 1) * sizeof(*v)), *s;

		if (!v) {
			rc = GF_ENOMEM;
			break;
		}
		ss->v = v;
		s = &ss->v[ss->n++];
		memset(s, 0, sizeof(*s));
		s->subscriber = strdup(gf_store_text(st, 0));
		s->id = strdup(gf_store_text(st, 1));
		s->len_ms = sqlite3_column_int64(st, 2);
		s->from_ms = sqlite3_column_int64(st, 3);
		if (!s->subscriber || !s->id) {
			rc = GF_ENOMEM;
			break;
		}
		sqlite3_bind_text(tg, 1, s->subscriber, -1, SQLITE_STATIC);
		sqlite3_bind_text(tg, 2, s->id, -1, SQLITE_STATIC);
		while (rc == GF_OK && sqlite3_step(tg) == SQLITE_ROW) {
			if (sqlite3_column_int(tg, 1))
				rc = push_str(&s->grids, &s->ngrids, gf_store_text(tg, 0));
			else
				rc = push_str(&s->meters, &s->nmeters, gf_store_text(tg, 0));
		}
		sqlite3_reset(tg);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(tg);
	if (rc == GF_OK)
		rc = sp_subs_rewatch(sp);
	return rc;
}

/* --- the timer ------------------------------------------------------------------- */

static void process(struct gf_agent *a, void *arg);

/* Arms the work at simulated time at_s unless it is armed earlier. */
static void arm(struct sp *sp, double at_s)
{
	struct sp_subs *ss = sp->subs;

	if (ss->timer && ss->timer_at <= at_s)
		return;
	if (ss->timer)
		gf_agent_timer_cancel(sp->a, ss->timer);
	ss->timer = gf_agent_timer_at(sp->a, at_s, process, sp);
	ss->timer_at = at_s;
}

/* The earliest deadline of a grid interval that waits: its end plus
 * grid_wait_s as configured now (a reload moves the deadlines). */
static void arm_pending(struct sp *sp)
{
	sqlite3_stmt *st = gf_store_prepare(
	    sp->store, "SELECT min(p.start_ms + s.len_ms) FROM sp_pending p JOIN sp_sub s"
	               " USING (subscriber, sub_id)");

	if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		arm(sp,
		    (double)sqlite3_column_int64(st, 0) / 1000.0 + (double)sp->conf->grid_wait_s);
	sqlite3_finalize(st);
}

void sp_subs_rearm(struct sp *sp)
{
	arm_pending(sp);
}

/* --- the work after readings ------------------------------------------------------- */

/* The intervals meter's readings in [from, to] changed, for every watcher. */
static enum gf_err dirty_meter(struct work *w, const char *meter, int64_t from, int64_t to)
{
	const struct watch *first = watch_first(w->sp->subs, meter), *end;
	char err[256];
	enum gf_err rc = GF_OK;

	if (!first)
		return GF_OK;
	end = w->sp->subs->w + w->sp->subs->nw;
	for (const struct watch *x = first; rc == GF_OK && x < end && strcmp(x->meter, meter) == 0;
	     x++) {
		int64_t s, e;

		rc = sp_energy_affected(w->sp->db, meter, from, to, x->sub->len_ms, &s, &e, err,
		                        sizeof(err));
		if (rc != GF_OK) {
			gf_log_err("GF-SP-STORE", "meter.data: %s", err);
			break;
		}
		if (s < x->sub->from_ms)
			s = x->sub->from_ms;
		if (s >= e)
			continue;
		rc = x->grid ? sp_subs_send_add_grid(w, x->sub, x->grid, s, e)
		             : sp_subs_send_meter(w, x->sub, meter, s, e);
	}
	return rc;
}

/* The grid intervals whose deadline passed join the grid work. */
static enum gf_err due_pending(struct work *w)
{
	sqlite3_stmt *st = gf_store_prepare(
	    w->sp->store,
	    "SELECT p.subscriber, p.sub_id, p.grid, min(p.start_ms), max(p.start_ms)"
	    " FROM sp_pending p JOIN sp_sub s USING (subscriber, sub_id)"
	    " WHERE (p.start_ms + s.len_ms) / 1000.0 + ?1 <= ?2 GROUP BY p.subscriber, p.sub_id,"
	    " p.grid");
	enum gf_err rc = st ? GF_OK : GF_EIO;
	int step = SQLITE_DONE;

	sqlite3_bind_double(st, 1, (double)w->sp->conf->grid_wait_s);
	sqlite3_bind_double(st, 2, w->now_s);
	while (rc == GF_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const struct sub *s =
		    sub_find(w->sp->subs, gf_store_text(st, 0), gf_store_text(st, 1));
		const char *grid = gf_store_text(st, 2);

		for (size_t k = 0; s && k < s->ngrids; k++)
			if (strcmp(s->grids[k], grid) == 0)
				rc = sp_subs_send_add_grid(w, s, s->grids[k],
				                           sqlite3_column_int64(st, 3),
				                           sqlite3_column_int64(st, 4) + s->len_ms);
	}
	if (rc == GF_OK && step != SQLITE_DONE)
		rc = GF_EIO;
	sqlite3_finalize(st);
	/* Rows of subscriptions that are gone (none: cancel deletes them). */
	return rc;
}

static enum gf_err process_txn(void *arg)
{
	struct work *w = arg;
	struct gf_store *store = w->sp->store;
	sqlite3_stmt *st = gf_store_prepare(store, "SELECT meter, from_ms, to_ms FROM sp_dirty");
	enum gf_err rc = st ? GF_OK : GF_EIO;
	int step = SQLITE_DONE;

	while (rc == GF_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = dirty_meter(w, gf_store_text(st, 0), sqlite3_column_int64(st, 1),
		                 sqlite3_column_int64(st, 2));
	if (rc == GF_OK && step != SQLITE_DONE)
		rc = GF_EIO;
	sqlite3_finalize(st);
	if (rc == GF_OK)
		rc = due_pending(w);
	if (rc == GF_OK)
		rc = sp_subs_send_grids(w);
	if (rc == GF_OK)
		rc = gf_store_exec(store, "DELETE FROM sp_dirty");
	if (rc == GF_OK)
		rc = sp_subs_send_all(w);
	return rc;
}

static void process(struct gf_agent *a, void *arg)
{
	struct sp *sp = arg;
	struct work w = {.sp = sp, .now_s = gf_agent_now(a)};

	sp->subs->timer = 0;
	if (gf_store_once(a, sp->store, NULL, process_txn, NULL, &w) == GF_OK) {
		if (w.n)
			gf_log_info("GF-SP-DATA", "meter.data: %zu values in %zu messages queued%s",
			            w.n, w.messages,
			            w.bad ? " (some meters left out: register decreases)" : "");
		sp_util_flush(sp);
		arm_pending(sp);
	}
	sp_subs_send_free(&w);
}

/* --- readings in ------------------------------------------------------------------ */

struct touch {
	struct sp *sp;
	const struct sp_reading **r; /* watched readings, by meter */
	size_t n;
};

static int reading_by_meter(const void *a, const void *b)
{
	return strcmp((*(const struct sp_reading *const *)a)->meter,
	              (*(const struct sp_reading *const *)b)->meter);
}

static enum gf_err touch_txn(void *arg)
{
	struct touch *t = arg;
	sqlite3_stmt *st = t->sp->subs->st[ST_DIRTY];
	size_t i = 0;

	while (i < t->n) {
		int64_t lo = t->r[i]->t_ms, hi = lo;
		size_t k = i + 1;
		int step;

		for (; k < t->n && strcmp(t->r[k]->meter, t->r[i]->meter) == 0; k++) {
			lo = t->r[k]->t_ms < lo ? t->r[k]->t_ms : lo;
			hi = t->r[k]->t_ms > hi ? t->r[k]->t_ms : hi;
		}
		sqlite3_bind_text(st, 1, t->r[i]->meter, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, lo);
		sqlite3_bind_int64(st, 3, hi);
		step = sqlite3_step(st);
		sqlite3_reset(st);
		if (step != SQLITE_DONE)
			return GF_EIO;
		i = k;
	}
	return GF_OK;
}

enum gf_err sp_subs_touch(struct sp *sp, const struct sp_reading *r, size_t n)
{
	struct touch t = {.sp = sp};
	enum gf_err rc;

	if (sp->subs->nw == 0 || n == 0)
		return GF_OK;
	if (!(t.r = malloc(n * sizeof(*t.r)))) {
		gf_agent_fail(sp->a, "out of memory for a batch");
		return GF_ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (watch_first(sp->subs, r[i].meter))
			t.r[t.n++] = &r[i];
	if (t.n)
		qsort(t.r, t.n, sizeof(*t.r), reading_by_meter);
	rc = t.n ? gf_store_once(sp->a, sp->store, NULL, touch_txn, NULL, &t) : GF_OK;
	free(t.r);
	if (rc == GF_OK && t.n)
		arm(sp, gf_agent_now(sp->a));
	return rc;
}

/* --- subscribe ------------------------------------------------------------------- */

struct subscribe {
	struct sp *sp;
	const struct gf_message *m;
	const Goflex__MeterSubscribe *ms;
	struct sub sub; /* the new one, for its history */
	struct work w;
};

/* The history: every complete interval since from_ms. */
static enum gf_err history(struct subscribe *c)
{
	struct work *w = &c->w;
	struct sub *s = &c->sub;
	char err[256];
	enum gf_err rc = GF_OK;

	for (size_t i = 0; rc == GF_OK && i < s->nmeters + s->ngrids; i++) {
		bool grid = i >= s->nmeters;
		const char *id = grid ? s->grids[i - s->nmeters] : s->meters[i];
		const struct sp_grid *g = grid ? sp_grids_find(c->sp, id) : NULL;
		const char *const *meters =
		    grid ? (g ? (const char *const *)g->meters : NULL) : &id;
		size_t n = grid ? (g ? g->n : 0) : 1;
		int64_t lo = INT64_MAX, hi = INT64_MIN;

		/* The span of the readings there are. */
		for (size_t k = 0; rc == GF_OK && k < n; k++) {
			int64_t a = 0, b = 0;
			bool found = false;

			rc = sp_energy_span(c->sp->db, meters[k], &a, &b, &found, err, sizeof(err));
			if (rc == GF_OK && found) {
				lo = a < lo ? a : lo;
				hi = b > hi ? b : hi;
			}
		}
		if (rc != GF_OK) {
			gf_log_err("GF-SP-STORE", "meter.subscribe: %s", err);
			break;
		}
		if (lo > hi)
			continue;
		/* From the interval the first reading ends (an interval reading
		 * at t is the period before t); a register's first read gives
		 * no earlier interval, which the resampling leaves incomplete. */
		lo = sp_energy_floor(lo - 1, s->len_ms);
		lo = lo < s->from_ms ? s->from_ms : lo;
		hi = sp_energy_floor(hi, s->len_ms) + s->len_ms;
		if (lo < hi)
			rc = grid ? sp_subs_send_grid(w, s, id, lo, hi)
			          : sp_subs_send_meter(w, s, id, lo, hi);
	}
	return rc;
}

static enum gf_err subscribe_txn(void *arg)
{
	struct subscribe *c = arg;
	struct gf_store *st = c->sp->store;
	const char *who = c->sub.subscriber, *id = c->sub.id;
	enum gf_err rc;

	/* Replaced or cancelled: nothing of the old one stays. */
	rc = gf_store_run(st, "DELETE FROM sp_sub WHERE subscriber = ?1 AND sub_id = ?2", "tt", who,
	                  id);
	if (rc == GF_OK)
		rc = gf_store_run(st,
		                  "DELETE FROM sp_sub_target WHERE subscriber = ?1 AND sub_id = ?2",
		                  "tt", who, id);
	if (rc == GF_OK)
		rc =
		    gf_store_run(st, "DELETE FROM sp_pending WHERE subscriber = ?1 AND sub_id = ?2",
		                 "tt", who, id);
	if (rc == GF_OK)
		rc = gf_store_run(st, "DELETE FROM sp_sent WHERE subscriber = ?1 AND sub_id = ?2",
		                  "tt", who, id);
	if (rc != GF_OK || c->ms->cancel)
		return rc;
	rc = gf_store_run(st,
	                  "INSERT INTO sp_sub (subscriber, sub_id, len_ms, from_ms)"
	                  " VALUES (?1, ?2, ?3, ?4)",
	                  "ttii", who, id, c->sub.len_ms, c->sub.from_ms);
	for (size_t i = 0; rc == GF_OK && i < c->sub.nmeters + c->sub.ngrids; i++) {
		bool grid = i >= c->sub.nmeters;
		rc = gf_store_run(st,
		                  "INSERT OR IGNORE INTO sp_sub_target (subscriber, sub_id, target,"
		                  " grid) VALUES (?1, ?2, ?3, ?4)",
		                  "ttti", who, id,
		                  grid ? c->sub.grids[i - c->sub.nmeters] : c->sub.meters[i],
		                  (int64_t)grid);
	}
	if (rc == GF_OK)
		rc = history(c);
	if (rc == GF_OK)
		rc = sp_subs_send_all(&c->w);
	return rc;
}

/* Checks the message and builds c->sub. false: refused (logged). */
static bool subscribe_check(struct subscribe *c)
{
	const Goflex__MeterSubscribe *ms = c->ms;
	struct sp *sp = c->sp;
	const char *why = NULL;
	int64_t from = 0;
	size_t targets = ms->n_gridpointids + ms->n_deviceids;

	if (!ms->subscriptionid[0])
		why = "subscriptionId is empty";
	else if (ms->has_intervallength &&
	         (ms->intervallength < LEN_MIN_S || ms->intervallength > LEN_MAX_S))
		why = "intervalLength must be 60 to 86400 s";
	else if (!ms->cancel && (targets == 0 || targets > TARGETS_MAX))
		why = "1 to 10000 gridPointIds and deviceIds";
	else if (ms->historyfromtime &&
	         gf_time_parse(ms->historyfromtime, strlen(ms->historyfromtime), &from) != GF_OK)
		why = "historyFromTime is not a time";
	for (size_t i = 0; !why && sp->conf->pseudonyms_only && i < ms->n_deviceids; i++)
		if (!sp_util_is_pseudonym(ms->deviceids[i]))
			why = "a deviceId is not a pseudonym";
	if (why) {
		gf_log_warning("GF-SP-SUBSCRIBE", "subscription %s of doms.%s refused: %s",
		               ms->subscriptionid, c->m->from_id, why);
		return false;
	}
	c->sub.subscriber = (char *)c->m->from_id;
	c->sub.id = ms->subscriptionid;
	c->sub.len_ms =
	    (ms->has_intervallength ? (int64_t)ms->intervallength : GF_TIME_INTERVAL_S) * 1000;
	/* From the history's start, else from the interval now running. */
	c->sub.from_ms =
	    sp_energy_floor(ms->historyfromtime ? from : sp_util_now_ms(sp), c->sub.len_ms);
	c->sub.meters = ms->deviceids;
	c->sub.nmeters = ms->n_deviceids;
	c->sub.grids = ms->gridpointids;
	c->sub.ngrids = ms->n_gridpointids;
	return true;
}

void sp_subs_subscribe(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m)
{
	struct subscribe c = {
	    .sp = sp, .m = m, .ms = (const Goflex__MeterSubscribe *)m->body, .w = {.sp = sp}};
	char key[128];
	enum gf_err rc;

	c.w.now_s = gf_agent_now(sp->a);
	if (!subscribe_check(&c))
		return;
	/* The inbox's sequence number stays with a message across a crash:
	 * a replay is this message again, a new meter.subscribe is not. */
	snprintf(key, sizeof(key), "sub:%s:%llu", m->from_id, (unsigned long long)item->seq);
	rc = gf_store_once(sp->a, sp->store, key, subscribe_txn, NULL, &c);
	if (rc == GF_OK && (rc = load(sp)) != GF_OK)
		gf_agent_fail(sp->a, "cannot read the subscriptions back");
	if (rc == GF_OK) {
		if (c.ms->cancel)
			gf_log_notice("GF-SP-SUBSCRIBE", "subscription %s of doms.%s cancelled",
			              c.ms->subscriptionid, m->from_id);
		else
			gf_log_notice("GF-SP-SUBSCRIBE",
			              "subscription %s of doms.%s: %zu meters, %zu grid points, "
			              "intervals of %lld s from %lld; history: %zu values in %zu "
			              "messages%s",
			              c.ms->subscriptionid, m->from_id, c.sub.nmeters, c.sub.ngrids,
			              (long long)(c.sub.len_ms / 1000),
			              (long long)(c.sub.from_ms / 1000), c.w.n, c.w.messages,
			              c.ms->forecasts ? "; forecasts: energy.forecast (fcast.c)"
			                              : "");
		sp_util_flush(sp);
		arm_pending(sp);
	}
	sp_subs_send_free(&c.w);
}

/* --- start, retention, end --------------------------------------------------------- */

enum gf_err sp_subs_start(struct sp *sp)
{
	struct sp_subs *ss = calloc(1, sizeof(*ss));
	enum gf_err rc;

	if (!ss)
		return GF_ENOMEM;
	sp->subs = ss;
	if ((rc = gf_store_exec(sp->store, SCHEMA)) != GF_OK)
		return rc;
	for (int k = 0; k < ST_N; k++)
		if (!(ss->st[k] = gf_store_prepare(sp->store, sql[k])))
			return GF_EIO;
	if ((rc = load(sp)) != GF_OK)
		return rc;
	/* What a crash left: dirty meters, grid intervals waiting. */
	arm(sp, gf_agent_now(sp->a));
	gf_log_info("GF-SP-SUBSCRIBE", "%zu subscriptions, %zu meters watched", ss->n, ss->nw);
	return GF_OK;
}

struct retain {
	struct sp *sp;
	int64_t before;
};

static enum gf_err retain_txn(void *arg)
{
	struct retain *r = arg;
	enum gf_err rc =
	    gf_store_run(r->sp->store, "DELETE FROM sp_sent WHERE start_ms < ?1", "i", r->before);

	if (rc == GF_OK)
		rc = gf_store_run(r->sp->store, "DELETE FROM sp_pending WHERE start_ms < ?1", "i",
		                  r->before);
	return rc;
}

enum gf_err sp_subs_retain(struct sp *sp, int64_t before_ms)
{
	struct retain r = {sp, before_ms};

	return gf_store_once(sp->a, sp->store, NULL, retain_txn, NULL, &r);
}

void sp_subs_free(struct sp *sp)
{
	struct sp_subs *ss = sp->subs;

	if (!ss)
		return;
	subs_clear(ss);
	for (int k = 0; k < ST_N; k++)
		sqlite3_finalize(ss->st[k]);
	free(ss);
	sp->subs = NULL;
}
