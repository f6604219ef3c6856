/* SPDX-License-Identifier: MIT */
/*
 * plugoffer.c - gf-foa's plug mode, the market side (plugmode.h,
 * docs/foa.md "plug mode"): the FOA makes the offers itself, from its model
 * of the device and the user's constraints (lib/devoffer), and sends them
 * through xEMS mode's path (foa_answers_offer_queue: kept and sent again until
 * FMAN acks that version; acks and assignments come back through
 * foa_xems_market_ack/_assign, the assignment echoed).
 *
 * Rounds: at start and at every day start, an offer that starts
 * offer_lead_s later and runs to the next day's round (thermal; an EV's
 * runs over the car's session), unless a live offer already covers that
 * start (a restart does not offer twice). At every boundary before an
 * offer's deadline, an offer not yet assigned is built again from the
 * model as metered since: if its bounds moved it is updated at FMAN (same
 * id, a new creationInterval), if the device can no longer offer it is
 * canceled.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "engine/fo_message.h"
#include "base/log.h"
#include "plugmode.h"
#include "base/timefmt.h"

#define DAY      GF_DEVICE_DAY
#define MAX_N    GF_DEVOFFER_MAX_SLICES
#define MOVE_TOL 0.01 /* of a slice at full power: a bound moving more makes an update */

/* --- the message ---------------------------------------------------------------- */

enum { T_CREATION, T_DEADLINE, T_START, T_END, T_N };

/* One offer message and everything it points to, freed together. */
struct box {
	Goflex__FlexOffer fo;
	Goflex__FlexOfferSchedule dflt;
	Goflex__EnergyConstraint total;
	char times[T_N][GF_TIME_BUFSIZE];
	Goflex__FlexOfferProfileConstraint pc[MAX_N], *pcp[MAX_N];
	Goflex__EnergyConstraint ec[MAX_N], *ecp[MAX_N];
	Goflex__ScheduleSlice ss[MAX_N], *ssp[MAX_N];
};

/* The offer e (tf = 0) as a goflex.FlexOffer, the inverse of
 * lib/engine/fo_message.c's mapping (as gf-sim's offers): unit slices, one energy
 * constraint each, the default schedule from startAfter. */
static enum gf_err offer_msg(struct foa *f, const char *id, const char *label, int64_t creation,
                             int64_t deadline, const struct gf_fo *e, struct box *b)
{
	const int64_t iv[T_N] = {creation, deadline, e->start_after,
	                         (int64_t)e->start_after + e->tf + e->n};
	Goflex__FlexOffer *fo = &b->fo;

	if (e->n < 1 || e->n > MAX_N)
		return GF_ERANGE;
	for (int i = 0; i < T_N; i++)
		if (gf_time_format(iv[i] * GF_TIME_INTERVAL_S * 1000, b->times[i],
		                   sizeof(b->times[i])) != GF_OK)
			return GF_ERANGE;
	goflex__flex_offer__init(fo);
	goflex__flex_offer_schedule__init(&b->dflt);
	goflex__energy_constraint__init(&b->total);
	fo->id = (char *)id;
	fo->label = (char *)label;
	fo->state = GOFLEX__FLEX_OFFER_STATE__Offered;
	fo->offeredbyid = (char *)f->id;
	fo->creationinterval = creation;
	fo->creationtime = b->times[T_CREATION];
	fo->has_acceptancebeforeinterval = fo->has_assignmentbeforeinterval = 1;
	fo->acceptancebeforeinterval = fo->assignmentbeforeinterval = deadline;
	fo->acceptancebeforetime = fo->assignmentbeforetime = b->times[T_DEADLINE];
	fo->startafterinterval = e->start_after;
	fo->startbeforeinterval = (int64_t)e->start_after + e->tf;
	fo->startaftertime = b->times[T_START];
	fo->startbeforetime = b->times[T_START];
	fo->has_endafterinterval = fo->has_endbeforeinterval = 1;
	fo->endafterinterval = fo->endbeforeinterval = iv[T_END];
	fo->endaftertime = fo->endbeforetime = b->times[T_END];
	fo->has_numsecondsperinterval = 1;
	fo->numsecondsperinterval = GF_TIME_INTERVAL_S;
	fo->has_assignment = 1;
	fo->assignment = GOFLEX__FLEX_OFFER_ASSIGNMENT__obligatory;
	gf_fo_message_unit_slices((size_t)e->n, e->lower, e->upper, e->dflt, b->ec, b->ecp, b->pc,
	                          b->pcp, b->ss, b->ssp);
	fo->n_flexofferprofileconstraints = (size_t)e->n;
	fo->flexofferprofileconstraints = b->pcp;
	b->dflt.has_scheduleid = b->dflt.has_updateid = 1;
	b->dflt.starttime = b->times[T_START];
	b->dflt.n_scheduleslices = (size_t)e->n;
	b->dflt.scheduleslices = b->ssp;
	fo->defaultschedule = &b->dflt;
	if (isfinite(e->total_min) && isfinite(e->total_max)) {
		b->total.lower = e->total_min;
		b->total.upper = e->total_max;
		fo->totalenergyconstraint = &b->total;
	}
	return GF_OK;
}

/* --- building ------------------------------------------------------------------- */

/* Slices (as doubles) of one offer: the arrays gf_devoffer_build fills. */
struct slices {
	double lo[MAX_N], hi[MAX_N], df[MAX_N];
};

/* The default from metered history: the mean of the last history_days
 * whole days before interval j at each interval of the day; NULL when
 * nothing was metered then. */
static enum gf_err history(struct foa *f, int64_t j, int64_t start, int32_t n, double *out,
                           bool *have)
{
	size_t days = (size_t)f->plug->c->history_days;
	int64_t to = j - ((j % DAY) + DAY) % DAY, from = to - (int64_t)days * DAY;
	double *h = malloc(days * DAY * sizeof(double));
	sqlite3_stmt *st = NULL;
	size_t rows = 0;
	enum gf_err rc = GF_ENOMEM;

	*have = false;
	if (!h)
		goto out;
	for (size_t i = 0; i < days * DAY; i++)
		h[i] = NAN;
	rc = foa_state_sql(
	    f, "SELECT interval, kwh FROM foa_plug_meter WHERE interval >= ?1 AND interval < ?2",
	    &st);
	if (rc != GF_OK)
		goto out;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while (sqlite3_step(st) == SQLITE_ROW) {
		h[sqlite3_column_int64(st, 0) - from] = sqlite3_column_double(st, 1);
		rows++;
	}
	if (rows)
		rc = gf_devoffer_history_default(h, days, (int32_t)(start % DAY), n, out);
	*have = rows > 0 && rc == GF_OK;
out:
	sqlite3_finalize(st);
	free(h);
	return rc;
}

/* Builds the offer of the device as it will be at interval start, over
 * horizon slices, from the model at boundary j. GF_ERANGE/GF_EINVAL (why in
 * err) when the device has nothing to offer there. */
static enum gf_err build(struct foa *f, int64_t j, int64_t start, int32_t horizon, struct gf_fo *e,
                         struct slices *s, char *err, size_t errlen)
{
	struct gf_device copy = f->plug->model;
	double dflt_in[MAX_N];
	bool have = false;
	enum gf_err rc = foa_relay_predict(f, &copy, start);

	if (rc == GF_OK && copy.kind == GF_DEVICE_THERMAL)
		rc = history(f, j, start, horizon, dflt_in, &have);
	if (rc != GF_OK)
		return rc;
	return gf_devoffer_build(&copy, &f->plug->user, horizon, have ? dflt_in : NULL, e, s->lo,
	                         s->hi, s->df, MAX_N, err, errlen);
}

/* Queues offer e under id to FMAN (kept until acked) and records it: its
 * row, its window, its default as the relay's commands. */
static enum gf_err send_offer(struct foa *f, const char *id, const char *label, int64_t j,
                              int64_t deadline, const struct gf_fo *e)
{
	struct box *b = calloc(1, sizeof(*b));
	struct foa_tariff_box *box = NULL;
	struct foa_offer row = {0};
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_ENOMEM;

	if (!b)
		goto out;
	rc = offer_msg(f, id, label, j, deadline, e, b);
	if (rc == GF_OK) /* its tariffs with the network prices (tariff.c) */
		rc = foa_tariff_apply(f, &b->fo, &box);
	if (rc == GF_OK)
		rc = foa_state_doc_encode(&b->fo.base, &row.offer);
	if (rc == GF_OK)
		rc = foa_answers_offer_queue(f, "fman", f->conf->fman_id, &b->fo);
	foa_tariff_box_free(box);
	if (rc != GF_OK)
		goto out;
	row.id = (char *)id;
	row.kind = "plug";
	row.peer = (char *)f->plug->c->device_id;
	row.ref = (char *)label;
	row.state = "Offered";
	row.source = row.offer; /* the FOA's own offer: it is its own source (not freed twice) */
	row.deadline = deadline;
	rc = foa_state_offer_put(f, &row);
	if (rc == GF_OK)
		rc = foa_state_sql(f,
		                   "INSERT OR REPLACE INTO foa_plug_offer (offer_id, start, n, "
		                   "created) VALUES (?1, ?2, ?3, ?4)",
		                   &st);
	if (rc == GF_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, e->start_after);
		sqlite3_bind_int64(st, 3, e->n);
		sqlite3_bind_int64(st, 4, j);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = GF_EIO;
	}
	if (rc == GF_OK)
		rc = foa_relay_put(f, id, e->start_after, e->dflt, e->n, false);
out:
	sqlite3_finalize(st);
	foa_state_doc_free(&row.offer);
	free(b);
	return rc;
}

/* Whether a live offer's window reaches past interval start. */
static enum gf_err covered(struct foa *f, int64_t start, bool *out)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc = foa_state_sql(
	    f,
	    "SELECT count(*) FROM foa_plug_offer p JOIN foa_offer o ON o.id = p.offer_id "
	    "WHERE p.start + p.n > ?1 AND o.state NOT IN ('Canceled', 'Rejected')",
	    &st);

	if (rc != GF_OK)
		return rc;
	sqlite3_bind_int64(st, 1, start);
	*out = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	return GF_OK;
}

static enum gf_err round_at(struct foa *f, int64_t j)
{
	const struct foa_plug_conf *c = f->plug->c;
	int64_t lead = c->offer_lead_s / GF_TIME_INTERVAL_S, start = j + lead;
	int64_t dl_lead = c->deadline_lead_s / GF_TIME_INTERVAL_S, n = 0;
	int64_t horizon = (j - ((j % DAY) + DAY) % DAY) + DAY + lead - start;
	char err[256], id[GF_ID_MAX + 32], label[GF_PLUG_ID_MAX + 48];
	struct slices *s = malloc(sizeof(*s));
	struct gf_fo e;
	bool taken = false;
	enum gf_err rc = GF_ENOMEM;

	if (!s)
		return rc;
	if (horizon > c->horizon)
		horizon = c->horizon;
	err[0] = '\0';
	rc = covered(f, start, &taken);
	if (rc != GF_OK || taken)
		goto out;
	rc = build(f, j, start, (int32_t)horizon, &e, s, err, sizeof(err));
	if (rc == GF_ERANGE || rc == GF_EINVAL || (rc == GF_OK && e.start_after - dl_lead <= j)) {
		gf_log_info("GF-FOA-PLUG-OFFER", "plug %s: no offer at interval %lld: %s",
		            c->device_id, (long long)j,
		            rc == GF_OK ? "its deadline has passed" : err);
		rc = GF_OK;
		goto out;
	}
	if (rc == GF_OK)
		rc = covered(f, e.start_after, &taken);
	if (rc != GF_OK || taken)
		goto out;
	rc = foa_state_counter_next(f, "offer", &n);
	if (rc != GF_OK)
		goto out;
	snprintf(id, sizeof(id), "%s-%lld", f->id, (long long)n);
	snprintf(label, sizeof(label), "plug:%s:%lld", c->device_id, (long long)j);
	rc = send_offer(f, id, label, j, e.start_after - dl_lead, &e);
	if (rc == GF_OK)
		gf_log_info("GF-FOA-PLUG-OFFER",
		            "new offer %s of plug %s: %d slices from interval %lld, deadline %lld, "
		            "to fman.%s",
		            id, c->device_id, e.n, (long long)e.start_after,
		            (long long)(e.start_after - dl_lead), f->conf->fman_id);
out:
	free(s);
	return rc;
}

/* --- revisions ------------------------------------------------------------------ */

/* Whether the stored offer's bounds differ from e's by more than tol. */
static bool moved(const struct foa_offer *o, const struct gf_fo *e, double tol)
{
	ProtobufCMessage *body = NULL;
	struct slices *s = malloc(sizeof(*s));
	struct gf_fo old;
	bool diff = true;

	if (s &&
	    foa_state_doc_decode(o, &o->offer, &goflex__flex_offer__descriptor, &body) == GF_OK &&
	    gf_fo_from_message((Goflex__FlexOffer *)body, &old, s->lo, s->hi, s->df, MAX_N, NULL,
	                       0) == GF_OK &&
	    old.start_after == e->start_after && old.n == e->n) {
		diff = false;
		for (int32_t k = 0; k < e->n && !diff; k++)
			diff = fabs(old.lower[k] - e->lower[k]) > tol ||
			       fabs(old.upper[k] - e->upper[k]) > tol;
	}
	gf_codec_free(body);
	free(s);
	return diff;
}

static enum gf_err cancel(struct foa *f, const struct foa_offer *o, const char *why)
{
	ProtobufCMessage *body = NULL;
	enum gf_err rc = foa_state_doc_decode(o, &o->offer, &goflex__flex_offer__descriptor, &body);

	if (rc != GF_OK)
		return rc;
	((Goflex__FlexOffer *)body)->state = GOFLEX__FLEX_OFFER_STATE__Canceled;
	((Goflex__FlexOffer *)body)->statereason = (char *)why;
	rc = foa_answers_offer_queue(f, "fman", f->conf->fman_id, (Goflex__FlexOffer *)body);
	if (rc == GF_OK)
		rc = foa_state_offer_set_state(f, o->id, "Canceled");
	if (rc == GF_OK)
		rc = foa_relay_drop(f, o->id);
	if (rc == GF_OK)
		gf_log_info("GF-FOA-PLUG-CANCEL", "offer %s of plug %s canceled at fman.%s: %s",
		            o->id, o->peer, f->conf->fman_id, why);
	gf_codec_free(body);
	return rc;
}

/* Builds offer o (window start, n) again from the model at j: updates or
 * cancels it at FMAN when that changed it. */
static enum gf_err revise_one(struct foa *f, int64_t j, const struct foa_offer *o, int64_t start,
                              int32_t n, size_t *canceled)
{
	const struct foa_plug_conf *c = f->plug->c;
	struct slices *s = malloc(sizeof(*s));
	struct gf_fo e;
	char err[256] = "";
	enum gf_err rc;

	if (!s)
		return GF_ENOMEM;
	rc = build(f, j, start, n, &e, s, err, sizeof(err));
	if (rc == GF_ERANGE || rc == GF_EINVAL || (rc == GF_OK && e.start_after != start)) {
		rc = cancel(f, o, rc == GF_OK ? "the device's window moved" : err);
		(*canceled)++;
	} else if (rc == GF_OK && moved(o, &e, MOVE_TOL * f->plug->switched_kw * 0.25)) {
		rc = send_offer(f, o->id, o->ref, j, o->deadline, &e);
		if (rc == GF_OK)
			gf_log_info("GF-FOA-PLUG-UPDATE",
			            "offer %s of plug %s updated at fman.%s: the device as metered "
			            "since moved its bounds",
			            o->id, c->device_id, f->conf->fman_id);
	}
	free(s);
	return rc;
}

/* Offers of this plug not yet assigned whose deadline is ahead; *canceled
 * counts those canceled. */
static enum gf_err revise(struct foa *f, int64_t j, size_t *canceled)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc = foa_state_sql(
	    f,
	    "SELECT p.offer_id, p.start, p.n FROM foa_plug_offer p JOIN foa_offer o ON o.id = "
	    "p.offer_id WHERE o.state IN ('Offered', 'Accepted') AND o.deadline > ?1 AND "
	    "p.created < ?1 ORDER BY p.start",
	    &st);
	char *ids[8];
	int64_t starts[8];
	int32_t ns[8];
	size_t count = 0;

	if (rc != GF_OK)
		return rc;
	sqlite3_bind_int64(st, 1, j);
	while (count < 8 && sqlite3_step(st) == SQLITE_ROW) {
		ids[count] = strdup(gf_store_text(st, 0));
		starts[count] = sqlite3_column_int64(st, 1);
		ns[count] = (int32_t)sqlite3_column_int64(st, 2);
		if (ids[count])
			count++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < count; i++) {
		struct foa_offer o = {0};
		if (rc == GF_OK)
			rc = foa_state_offer_get(f, ids[i], &o);
		if (rc == GF_OK)
			rc = revise_one(f, j, &o, starts[i], ns[i], canceled);
		foa_state_offer_clear(&o);
		free(ids[i]);
	}
	return rc;
}

enum gf_err foa_plugoffer_at_boundary(struct foa *f, int64_t j, bool first)
{
	size_t canceled = 0;
	enum gf_err rc = revise(f, j, &canceled);

	/* A canceled offer's device offers what it can do now at once (an
	 * EV's new session), not only at the next day's round. */
	if (rc == GF_OK && (first || canceled || j % DAY == 0))
		rc = round_at(f, j);
	return rc;
}

/* --- the market's answers ------------------------------------------------------- */

enum gf_err foa_plugoffer_ack(struct foa *f, const struct foa_offer *o,
                              const Goflex__FlexOfferAck *ack)
{
	const char *state = ack->accepted ? "Accepted" : "Rejected";
	enum gf_err rc;

	if (strcmp(o->state, "Assigned") == 0 || strcmp(o->state, "Canceled") == 0) {
		gf_log_info("GF-FOA-ACK", "offer %s %s while %s: kept %s", o->id, state, o->state,
		            o->state);
		return GF_OK;
	}
	gf_log_info("GF-FOA-ACK", "offer %s of plug %s %s%s%s", o->id, o->peer, state,
	            ack->reason ? ": " : "", ack->reason ? ack->reason : "");
	rc = foa_state_offer_set_state(f, o->id, state);
	/* Refused: the market will not schedule it; the device runs on its
	 * own there. */
	if (rc == GF_OK && !ack->accepted)
		rc = foa_relay_drop(f, o->id);
	return rc;
}

/* The window of offer id: its start and number of slices. */
static enum gf_err window(struct foa *f, const char *id, int64_t *start, int32_t *n)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc =
	    foa_state_sql(f, "SELECT start, n FROM foa_plug_offer WHERE offer_id = ?1", &st);

	if (rc != GF_OK)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*start = sqlite3_column_int64(st, 0);
		*n = (int32_t)sqlite3_column_int64(st, 1);
	} else {
		rc = GF_ENOENT;
	}
	sqlite3_finalize(st);
	return rc;
}

enum gf_err foa_plugoffer_assign(struct foa *f, const struct foa_offer *o,
                                 const Goflex__FlexOfferAssign *as)
{
	const Goflex__FlexOfferSchedule *s = as->flexofferschedule;
	double *energy = NULL, zero[MAX_N] = {0};
	int64_t ms = 0, start, wstart = 0;
	int32_t wn = 0;
	size_t n = 0;
	enum gf_err rc;

	if (!s || !s->starttime ||
	    gf_time_parse(s->starttime, strlen(s->starttime), &ms) != GF_OK ||
	    ms % (GF_TIME_INTERVAL_S * 1000) != 0) {
		gf_log_warning("GF-FOA-ASSIGN",
		               "assignment of %s without a start at an interval "
		               "boundary: ignored",
		               o->id);
		return GF_OK;
	}
	start = gf_time_interval(ms);
	rc = foa_state_expand(s, &energy, &n, NULL);
	if (rc == GF_OK && n > MAX_N)
		rc = GF_ERANGE;
	if (rc == GF_ERANGE) {
		gf_log_warning("GF-FOA-ASSIGN",
		               "assignment of %s longer than %d intervals: ignored", o->id, MAX_N);
		rc = GF_OK;
		goto out;
	}
	if (rc == GF_OK)
		rc = window(f, o->id, &wstart, &wn);
	/* Inside the offer's window what the schedule does not cover is off;
	 * then the schedule itself. */
	if (rc == GF_OK)
		rc = foa_relay_drop(f, o->id);
	if (rc == GF_OK)
		rc = foa_relay_put(f, o->id, wstart, zero, wn, true);
	if (rc == GF_OK)
		rc = foa_relay_put(f, o->id, start, energy, (int32_t)n, true);
	if (rc == GF_EINVAL) {
		gf_log_warning("GF-FOA-ASSIGN",
		               "assignment of %s has amounts the device cannot take: "
		               "ignored",
		               o->id);
		rc = GF_OK;
		goto out;
	}
	if (rc == GF_OK)
		rc = foa_state_offer_set_state(f, o->id, "Assigned");
	if (rc == GF_OK) {
		foa_relay_reapply(f);
		gf_log_info("GF-FOA-PLUG-ASSIGN",
		            "offer %s: schedule %lld update %lld, %zu intervals from %lld: plug %s "
		            "follows it",
		            o->id, s->has_scheduleid ? (long long)s->scheduleid : 0LL,
		            s->has_updateid ? (long long)s->updateid : 0LL, n, (long long)start,
		            o->peer);
	}
out:
	free(energy);
	return rc;
}
