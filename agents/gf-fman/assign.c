/* SPDX-License-Identifier: MIT */
/*
 * assign.c - FMAR's assignments (docs/fman.md, "Assignments"): an assigned
 * revision of an aggregate disaggregated into one schedule per member,
 * queued to the members' FOAs and recorded, the aggregate echoed back to
 * FMAR. The first assign_part member schedules are committed and sent before
 * the rest; a restart between the two redoes the assignment whole and must
 * send the first part's members what they already have.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/kpi.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "fman.h"
#include "payload/codec.h"

#define ID_MAX     256
#define REASON_MAX 512
#define TOPIC_MAX  512

/* The schedule's amounts per unit interval into x and their tariffs (the
 * clearing price; NAN where a slice has none) into tar (n of each), and its
 * start interval. */
static bool schedule_read(const Goflex__FlexOfferSchedule *s, int32_t n, double *x, double *tar,
                          int32_t *start, char *reason)
{
	int64_t ms, t = 0;

	if (gf_time_parse(s->starttime, strlen(s->starttime), &ms) != GF_OK || ms % 900000 != 0 ||
	    gf_time_interval(ms) < 0 || gf_time_interval(ms) > INT32_MAX) {
		snprintf(reason, REASON_MAX, "startTime %s is not an interval boundary",
		         s->starttime);
		return false;
	}
	*start = (int32_t)gf_time_interval(ms);
	for (size_t k = 0; k < s->n_scheduleslices; k++) {
		const Goflex__ScheduleSlice *sl = s->scheduleslices[k];
		for (uint32_t d = 0; d < sl->duration; d++, t++)
			if (t < n) {
				x[t] = sl->energyamount;
				tar[t] = sl->has_tariff ? sl->tariff : NAN;
			}
	}
	if (t != n) {
		snprintf(reason, REASON_MAX, "the schedule covers %lld intervals, the aggregate %d",
		         (long long)t, n);
		return false;
	}
	return true;
}

/* One disaggregation: the aggregate, its schedule and the split. sent is
 * the number of member schedules of the first part committed before a
 * restart (part_sent; none, else). */
struct split {
	struct fman *f;
	const struct fman_members *ms;
	const char *agg, *key;
	const Goflex__FlexOfferSchedule *s;
	const double *amounts, *tar; /* per member slice; per aggregate interval */
	int32_t agg_start, agg_n;
	int64_t sent, same; /* recorded before; of those, met again unchanged */
};

/* Stops the agent on an assignment whose first part was sent before a
 * restart and which cannot now be carried out the same way: a refusal, or
 * another split, would leave those FOAs with schedules FMAR does not know
 * of, or with two. The agent stops before the commit (nothing of it is
 * kept) and at every start until it starts with the configuration the
 * first part was made with. */
static void half_sent(struct fman *f, const char *agg, const Goflex__FlexOfferSchedule *s,
                      int64_t sent, const char *why)
{
	gf_log_err("GF-FMAN-ASSIGN-HALF",
	           "assignment of %s (scheduleId %lld, updateId %lld): %lld member schedules "
	           "were sent before a restart, and the assignment can no longer be carried "
	           "out the same way (%s); gf-fman stops: start it with the aggregation "
	           "configuration it had then",
	           agg, (long long)(s->has_scheduleid ? s->scheduleid : 0),
	           (long long)(s->has_updateid ? s->updateid : 0), (long long)sent, why);
	gf_agent_fail(f->agent, "an assignment half sent before a restart cannot be completed "
	                        "the same way (GF-FMAN-ASSIGN-HALF)");
	if (!f->failed)
		f->failed = "an assignment half sent before a restart";
}

/* The number of member schedules sent in the first part of the assignment
 * key before a restart, and the revision it split (*rev): more than none
 * only in the redo of an assignment whose first part was committed, not
 * its rest (the rest deletes the row, and marks the key). */
static int64_t part_sent(struct fman *f, const char *key, int64_t *rev)
{
	sqlite3_stmt *st =
	    gf_store_cached(f->store, "SELECT sent, rev FROM assign_parts WHERE key = ?");
	int64_t n = 0;
	int rc;

	if (!st) {
		fman_util_fail(f, "assignment part");
		return 0;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		*rev = sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE) {
		fman_util_fail(f, "assignment part");
	}
	sqlite3_reset(st);
	return n;
}

bool fman_assign_pending(struct fman *f)
{
	sqlite3_stmt *st = gf_store_cached(f->store, "SELECT 1 FROM assign_parts LIMIT 1");
	bool pending = st && sqlite3_step(st) == SQLITE_ROW;

	if (st)
		sqlite3_reset(st);
	return pending;
}

/* True when the stored body and json say the same: equal bytes, or the
 * body, decoded and encoded again, equal to json (a version that formats
 * a number otherwise sent the same schedule). */
static bool same_body(const char *body, size_t blen, const char *json, size_t len)
{
	ProtobufCMessage *m = NULL;
	char *again = NULL;
	size_t alen = 0;
	bool same;

	if (blen == len && memcmp(body, json, len) == 0)
		return true;
	same = gf_codec_from_json(&goflex__flex_offer_assign__descriptor, body, blen, &m, NULL,
	                          0) == GF_OK &&
	       gf_codec_to_json(m, &again, &alen) == GF_OK && alen == len &&
	       memcmp(again, json, len) == 0;
	free(again);
	gf_codec_free(m);
	return same;
}

/* In a redo, for each of the first r->sent members: false when member
 * offer id was sent a schedule other than json before the restart; a same
 * one is counted. */
static bool split_same(struct split *r, const char *id, int64_t sid, int64_t uid, const char *json,
                       size_t len)
{
	sqlite3_stmt *st =
	    gf_store_cached(r->f->store, "SELECT body FROM assignments WHERE offer = ?"
	                                 " AND schedule_id = ? AND update_id = ?");
	bool same = true;
	int rc;

	if (!st) {
		fman_util_fail(r->f, "assignment sent");
		return true;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, sid);
	sqlite3_bind_int64(st, 3, uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		same = same_body((const char *)sqlite3_column_text(st, 0),
		                 (size_t)sqlite3_column_bytes(st, 0), json, len);
		r->same += same;
	} else if (rc != SQLITE_DONE) {
		fman_util_fail(r->f, "assignment sent");
	}
	sqlite3_reset(st);
	return same;
}

/* Queues member j's schedule (its start, the member's slices of
 * r->amounts) and records it. Its slices carry the tariff of the
 * aggregate's interval, the price the settlement pays for its delivery
 * (docs/fman.md, "Settlement"). */
static void assign_member(struct split *r, size_t j, int32_t start)
{
	struct fman *f = r->f;
	const struct fman_members *ms = r->ms;
	Goflex__FlexOfferAssign as = GOFLEX__FLEX_OFFER_ASSIGN__INIT;
	Goflex__FlexOfferSchedule sc = GOFLEX__FLEX_OFFER_SCHEDULE__INIT;
	size_t n = (size_t)ms->set.n[j], off = ms->set.slice_off[j];
	Goflex__ScheduleSlice *sl = calloc(n, sizeof(*sl)), **slp = calloc(n, sizeof(*slp));
	char start_s[40], topic[TOPIC_MAX], key[ID_MAX + 64], *json = NULL;
	size_t len = 0;

	if (!sl || !slp ||
	    gf_time_format((int64_t)start * 900000, start_s, sizeof(start_s)) != GF_OK) {
		fman_util_fail(f, "member schedule");
		goto out;
	}
	for (size_t k = 0; k < n; k++) {
		sl[k] = (Goflex__ScheduleSlice)GOFLEX__SCHEDULE_SLICE__INIT;
		sl[k].duration = 1;
		sl[k].energyamount = r->amounts[off + k];
		int64_t at = (int64_t)start + (int64_t)k - r->agg_start;
		if (at >= 0 && at < r->agg_n && !isnan(r->tar[at])) {
			sl[k].has_tariff = 1;
			sl[k].tariff = r->tar[at];
		}
		slp[k] = &sl[k];
	}
	sc.has_scheduleid = sc.has_updateid = 1;
	sc.scheduleid = r->s->has_scheduleid ? r->s->scheduleid : 0;
	sc.updateid = r->s->has_updateid ? r->s->updateid : 0;
	sc.starttime = start_s;
	sc.n_scheduleslices = n;
	sc.scheduleslices = slp;
	as.flexofferid = ms->id[j];
	as.flexofferschedule = &sc;
	as.label = ms->label[j];
	if (gf_message_encode(f->agent, "foa", ms->foa[j], "flexoffer.assign", &as.base, topic,
	                      sizeof(topic), &json, &len) != GF_OK) {
		fman_util_fail(f, "member assign");
		goto out;
	}
	if ((int64_t)j < r->sent &&
	    !split_same(r, ms->id[j], (int64_t)sc.scheduleid, (int64_t)sc.updateid, json, len)) {
		char why[ID_MAX + 64];
		snprintf(why, sizeof(why), "member %s's schedule would differ", ms->id[j]);
		half_sent(f, r->agg, r->s, r->sent, why);
		goto out;
	}
	if (gf_resend_keep(f->store, fman_answers_assign_key(key, ms->id[j], &sc), NULL, topic,
	                   json, len) != GF_OK)
		fman_util_fail(f, "member assign");
	else if (gf_store_run(f->store,
	                      "INSERT OR REPLACE INTO assignments (offer, schedule_id, update_id,"
	                      " agg, body) VALUES (?, ?, ?, ?, ?)",
	                      "tiitt", ms->id[j], (int64_t)sc.scheduleid, (int64_t)sc.updateid,
	                      r->agg, json) != GF_OK)
		fman_util_fail(f, "assignment");
out:
	free(json);
	free(sl);
	free(slp);
}

/* Disaggregates schedule s of revision rev of aggregate agg and queues
 * the members' schedules; false with reason when it cannot. */
static bool disaggregate(struct fman *f, const char *agg, const char *key, int64_t rev,
                         int64_t sent, const Goflex__FlexOfferSchedule *s, struct fman_members *ms,
                         char *reason)
{
	struct gf_aggregate a = {0};
	struct split r = {.f = f, .ms = ms, .agg = agg, .key = key, .s = s, .sent = sent};
	double *x = NULL, *tar = NULL, *amounts = NULL;
	int32_t *mstart = NULL, start;
	bool ok = false;
	enum gf_err rc;

	if (!fman_members_load(f, agg, rev, ms, reason))
		goto out;
	if (gf_aggregate_build(&ms->set, &f->cfg, &a) != GF_OK || a.count != 1) {
		snprintf(reason, REASON_MAX, "its members no longer form one aggregate");
		goto out;
	}
	x = calloc((size_t)a.n[0], sizeof(*x));
	tar = calloc((size_t)a.n[0], sizeof(*tar));
	amounts = calloc(ms->set.slice_count, sizeof(*amounts));
	mstart = calloc(ms->count, sizeof(*mstart));
	if (!x || !tar || !amounts || !mstart) {
		fman_util_fail(f, "out of memory");
		goto out;
	}
	if (!schedule_read(s, a.n[0], x, tar, &start, reason))
		goto out;
	rc = gf_aggregate_disaggregate(&a, &ms->set, 0, start, x, mstart, amounts);
	if (rc != GF_OK) {
		snprintf(reason, REASON_MAX, "%s",
		         rc == GF_ERANGE
		             ? "the start is outside the aggregate's window"
		             : "the schedule is outside the aggregate's bounds or has no "
		               "split within the members' bounds");
		goto out;
	}
	r.amounts = amounts;
	r.tar = tar;
	r.agg_start = start;
	r.agg_n = a.n[0];
	/* The first assign_part members (default 256, the outbox's window:
	 * more could not leave before this handler ends, their PUBACKs are
	 * read after it) are committed and sent as soon as they are written:
	 * at 9,900 members the whole took 0.6 s before the first schedule
	 * could leave. A kill -9 after that part handles the assignment again
	 * whole (its key is marked with the rest), with the same result: those
	 * members get their schedules again, which their FOAs handle once. The
	 * members become Assigned with the rest, so that a restart between
	 * the two finds them all still in the pool (not a smaller aggregate to
	 * send to FMAR). The redo checks that it sends them what they have
	 * (split_same), else stops (half_sent). */
	for (size_t j = 0; j < ms->count && !f->failed; j++) {
		assign_member(&r, j, mstart[j]);
		if (j + 1 == (size_t)f->conf->assign_part && j + 1 < ms->count && !f->failed &&
		    !r.sent) {
			if (gf_store_run(
			        f->store,
			        "INSERT INTO assign_parts (key, sent, rev) VALUES (?, ?, ?)", "tii",
			        key, (int64_t)(j + 1), rev) != GF_OK ||
			    gf_store_commit_part(f->store) != GF_OK)
				fman_util_fail(f, "the first part of the assignment");
			else
				fman_util_crash_point("assign-part");
		}
	}
	if (!f->failed && r.same < r.sent)
		half_sent(f, agg, s, r.sent, "a member that had its schedule is no longer one");
	if ((r.sent || ms->count > (size_t)f->conf->assign_part) && !f->failed &&
	    gf_store_run(f->store, "DELETE FROM assign_parts WHERE key = ?", "t", key) != GF_OK)
		fman_util_fail(f, "assignment part");
	for (size_t j = 0; j < ms->count && !f->failed; j++)
		if (gf_store_run(f->store, "UPDATE offers SET state = 'Assigned' WHERE pid = ?",
		                 "i", (int64_t)ms->pid[j]) != GF_OK)
			fman_util_fail(f, "offer assigned");
	ok = !f->failed;
out:
	free(x);
	free(tar);
	free(amounts);
	free(mstart);
	gf_aggregate_free(&a);
	return ok;
}

/* One flexoffer.assign of FMAR, for gf_store_once. */
struct assign {
	struct fman *f;
	const struct gf_message *m;
	const char *key;
	int64_t rev; /* the aggregate's latest revision, -1: none; then the assigned one */
	char state[16], reason[REASON_MAX];
	struct fman_members ms;
	bool ok, dup;
};

static enum gf_err assign_again(void *arg)
{
	struct assign *c = arg;

	c->dup = true;
	fman_answers_echo_again(c->f, c->key);
	return fman_util_status(c->f);
}

static enum gf_err assign_take(void *arg)
{
	struct assign *c = arg;
	struct fman *f = c->f;
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)c->m->body;
	const char *agg = as->flexofferid;
	long long num = 0, lrev = 0;
	int64_t prev = -1, sent = part_sent(f, c->key, &prev);

	if (f->failed)
		return fman_util_status(f);
	if (c->rev < 0)
		snprintf(c->reason, sizeof(c->reason), "not an aggregate of this FMAN");
	else if (strcmp(c->state, "Canceled") == 0)
		snprintf(c->reason, sizeof(c->reason), "the aggregate was canceled");
	else if (as->label && sscanf(as->label, "agg:%lld:%lld", &num, &lrev) == 2 &&
	         (lrev < 1 || lrev > c->rev))
		snprintf(c->reason, sizeof(c->reason),
		         "revision %lld is unknown (the aggregate is at %lld)", lrev,
		         (long long)c->rev);
	else if (as->label && lrev > 0)
		/* FMAR echoes the label of the content it cleared: that revision's
		 * members are scheduled, if none changed since. */
		c->ok = disaggregate(f, agg, c->key, (c->rev = lrev), sent, as->flexofferschedule,
		                     &c->ms, c->reason);
	else
		/* Without a label, the latest revision; in a redo, the one the
		 * first part split (the pool may have grown since). */
		c->ok = disaggregate(f, agg, c->key, (c->rev = sent ? prev : c->rev), sent,
		                     as->flexofferschedule, &c->ms, c->reason);
	if (!c->ok && sent && !f->failed)
		half_sent(f, agg, as->flexofferschedule, sent, c->reason);
	if (f->failed)
		return fman_util_status(f);
	if (c->ok) {
		if (gf_store_run(
		        f->store,
		        "UPDATE aggregates SET state = 'Assigned', reason = NULL WHERE id = ?", "t",
		        agg) != GF_OK)
			fman_util_fail(f, "aggregate assigned");
	}
	fman_answers_echo_assign(f, c->m, c->key, c->ok, c->reason);
	fman_util_crash_point("assign-before-commit");
	return fman_util_status(f);
}

void fman_assign_fmar(struct fman *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)m->body;
	const Goflex__FlexOfferSchedule *s = as->flexofferschedule;
	const char *agg = as->flexofferid;
	char key[ID_MAX + 64];
	struct assign c = {.f = f, .m = m, .key = key, .rev = -1};
	sqlite3_stmt *st;

	snprintf(key, sizeof(key), "as/%s/%lld/%lld", agg,
	         (long long)(s->has_scheduleid ? s->scheduleid : 0),
	         (long long)(s->has_updateid ? s->updateid : 0));
	st = fman_util_prepare(f, "SELECT rev, state FROM aggregates WHERE id = ?");
	sqlite3_bind_text(st, 1, agg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		c.rev = sqlite3_column_int64(st, 0);
		snprintf(c.state, sizeof(c.state), "%s", gf_store_text(st, 1));
	}
	sqlite3_finalize(st);
	if (f->failed) {
		gf_agent_fail(f->agent, f->failed);
		return;
	}
	if (gf_store_once(f->agent, f->store, key, assign_take, assign_again, &c) != GF_OK)
		goto out;
	if (c.dup) {
		gf_log_info("GF-FMAN-DUP", "fmar.%s's assignment %s: already handled", m->from_id,
		            key + 3);
		goto out;
	}
	fman_util_crash_point("assign-committed");
	/* The member schedules leave first: the pool's bookkeeping below is
	 * FMAN's own and need not delay them. */
	fman_util_flush(f);
	if (c.ok) {
		/* Assigned members leave the pool, all at once (each aggregate
		 * rebuilt once): new offers of their cell form a new aggregate.
		 * A pool that refuses stops the agent: it is rebuilt from the
		 * store (where they are Assigned) at the next start. */
		uint64_t *gone = malloc((c.ms.count ? c.ms.count : 1) * sizeof(*gone));
		size_t ngone = 0;

		for (size_t j = 0; gone && j < c.ms.count; j++)
			if (c.ms.live[j])
				gone[ngone++] = (uint64_t)c.ms.pid[j];
		if (!gone || gf_aggpool_remove_many(f->pool, gone, ngone) != GF_OK) {
			free(gone);
			gf_agent_fail(f->agent, "the pool cannot let the assigned offers go");
			goto out;
		}
		free(gone);
		f->live -= ngone;
		if (ngone)
			f->dirty = true;
		gf_kpi_count(f->agent, "fman.schedules_sent", (double)c.ms.count, NULL);
		gf_log_notice("GF-FMAN-ASSIGN",
		              "%s (revision %lld) assigned by fmar.%s: %zu member "
		              "schedules sent",
		              agg, (long long)c.rev, m->from_id, c.ms.count);
	} else {
		gf_log_warning("GF-FMAN-ASSIGN-REFUSE", "fmar.%s's assignment of %s refused: %s",
		               m->from_id, agg, c.reason);
	}
out:
	fman_members_free(&c.ms);
}
