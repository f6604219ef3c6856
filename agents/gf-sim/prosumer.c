/* SPDX-License-Identifier: MIT */
/*
 * prosumer.c - plans, stepping, offer rounds and schedules of one simulated
 * prosumer (prosumer.h, docs/sim.md).
 *
 * The offer promise of lib/devoffer holds for the state the offer was built
 * on. An offer starts `lead` intervals after its round, so the round steps a
 * copy of the device to the start with exactly the commands the real device
 * will get until then (plan_kwh: the plans already made are final by then,
 * their deadlines being before their starts); the real device then arrives
 * in the same state.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "prosumer.h"
#include "base/timefmt.h"

/* The end (exclusive) of plan pl's window. */
static int64_t sim_plan_end(const struct sim_plan *pl);

#define SLICE_H 0.25

static int64_t sim_plan_end(const struct sim_plan *pl)
{
	return (int64_t)pl->start_after + pl->tf + pl->n;
}

static void plan_clear(struct sim_plan *pl)
{
	free(pl->lower);
	free(pl->sched);
	memset(pl, 0, sizeof(*pl));
}

void sim_prosumer_free(struct sim_prosumer *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ndev; i++)
		for (int k = 0; k < SIM_PLANS; k++)
			plan_clear(&p->dev[i].plan[k]);
}

/* The plan whose window holds interval j (the newest if several). */
static const struct sim_plan *plan_at(const struct sim_device *d, int64_t j)
{
	const struct sim_plan *best = NULL;

	for (int k = 0; k < SIM_PLANS; k++) {
		const struct sim_plan *pl = &d->plan[k];
		if (pl->used && j >= pl->start_after && j < sim_plan_end(pl) &&
		    (!best || pl->creation > best->creation))
			best = pl;
	}
	return best;
}

/* The energy the device is told to take in interval j, from state dev. */
static double plan_kwh(const struct sim_device *d, const struct gf_device *dev, int64_t j)
{
	const struct sim_plan *pl = plan_at(d, j);
	int64_t k;

	if (!pl)
		return gf_device_uncontrolled_kw(dev) * SLICE_H;
	if (pl->assigned) {
		k = j - pl->sched_start;
		return k >= 0 && (size_t)k < pl->sched_n ? pl->sched[k] : 0;
	}
	k = j - pl->start_after;
	return k < pl->n ? pl->dflt[k] : 0;
}

void sim_prosumer_step(struct sim_prosumer *p, int64_t now, struct sim_meter *m)
{
	memset(m, 0, sizeof(*m));
	m->base_kwh = p->base_kwh[((now % GF_DEVICE_DAY) + GF_DEVICE_DAY) % GF_DEVICE_DAY];
	for (size_t i = 0; i < p->ndev; i++) {
		struct sim_device *d = &p->dev[i];
		const struct sim_plan *pl = plan_at(d, now);
		double target = plan_kwh(d, &d->dev, now), got = 0;

		/* Only fails for a non-finite target, which no plan holds. */
		if (gf_device_step(&d->dev, GF_DEVICE_SLICE_S, target / SLICE_H, &got) != GF_OK)
			got = 0;
		m->device[i] = got;
		m->device_kwh += got;
		if (pl && pl->assigned)
			m->scheduled_kwh += target;
		if (pl) {
			int64_t k = now - pl->start_after;
			m->default_kwh += k < pl->n ? pl->dflt[k] : 0;
		} else {
			m->default_kwh += got;
		}
	}
	m->total_kwh = m->base_kwh + m->device_kwh;
}

/* --- offers ------------------------------------------------------------------------- */

/* Steps a copy of the device from its interval to interval `to` the way
 * the real one will be stepped. */
static void advance(const struct sim_device *d, struct gf_device *copy, int64_t to)
{
	double got;

	for (int64_t j = gf_device_interval(copy); j < to; j++)
		if (gf_device_step(copy, GF_DEVICE_SLICE_S, plan_kwh(d, copy, j) / SLICE_H, &got) !=
		    GF_OK)
			return;
}

/* The end of the latest plan of d (0 when none). */
static int64_t plans_end(const struct sim_device *d)
{
	int64_t end = 0;

	for (int k = 0; k < SIM_PLANS; k++)
		if (d->plan[k].used && sim_plan_end(&d->plan[k]) > end)
			end = sim_plan_end(&d->plan[k]);
	return end;
}

/* A slot for a new plan: a free one, else the one that ended first if it
 * is over by now. NULL when every plan is still live. */
static struct sim_plan *free_slot(struct sim_device *d, int64_t now)
{
	struct sim_plan *best = NULL;

	for (int k = 0; k < SIM_PLANS; k++) {
		struct sim_plan *pl = &d->plan[k];
		if (!pl->used)
			return pl;
		if (!best || sim_plan_end(pl) < sim_plan_end(best))
			best = pl;
	}
	return best && sim_plan_end(best) <= now ? best : NULL;
}

/* Builds the next offer of d from copy into *fo (arrays of cap doubles).
 * GF_EEXIST when the device has nothing new to offer. */
static enum gf_err build_offer(const struct sim_device *d, struct gf_device *copy,
                               const struct sim_round *r, struct gf_fo *fo, double *lo, double *hi,
                               double *dflt, size_t cap, char *err, size_t errlen)
{
	int64_t start = r->now + r->lead, last = plans_end(d);
	int32_t horizon = (int32_t)(r->next_round + r->lead - start);
	enum gf_err rc;

	advance(d, copy, start);
	if (horizon < 1)
		horizon = 1;
	if (horizon > GF_DEVOFFER_MAX_SLICES)
		horizon = GF_DEVOFFER_MAX_SLICES;
	rc = gf_devoffer_build(copy, &d->user, horizon, NULL, fo, lo, hi, dflt, cap, err, errlen);
	/* A car still on the session offered last time, plugged in for too
	 * short a rest of it (the process started late in the session), or
	 * charged already (a round in the night: the rest of the session needs
	 * nothing, an offer with no flexibility): offer its next session, from
	 * the state it will leave in. */
	if (copy->kind == GF_DEVICE_EV && copy->connected &&
	    (rc != GF_OK || fo->start_after < last || !(fo->total_max > 1e-6))) {
		int64_t leave = (int64_t)floor(copy->depart_t / GF_DEVICE_SLICE_S);
		advance(d, copy, leave > last ? leave : last);
		rc = gf_devoffer_build(copy, &d->user, horizon, NULL, fo, lo, hi, dflt, cap, err,
		                       errlen);
	}
	if (rc == GF_OK && fo->start_after < last) {
		snprintf(err, errlen, "its next window overlaps the offer made before");
		return GF_EEXIST;
	}
	return rc;
}

static enum gf_err plan_store(struct sim_plan *pl, const struct sim_prosumer *p,
                              const struct sim_device *d, const struct sim_round *r,
                              const struct gf_fo *fo)
{
	size_t n = (size_t)fo->n;
	double *arr = malloc(3 * n * sizeof(double));

	if (!arr)
		return GF_ENOMEM;
	plan_clear(pl);
	pl->used = true;
	snprintf(pl->label, sizeof(pl->label), "%s.%s.%lld", p->id, d->kind, (long long)r->now);
	pl->creation = r->now;
	pl->deadline = (int64_t)fo->start_after - r->deadline_lead;
	pl->start_after = fo->start_after;
	pl->tf = fo->tf;
	pl->n = fo->n;
	pl->total_min = fo->total_min;
	pl->total_max = fo->total_max;
	pl->lower = arr;
	pl->upper = arr + n;
	pl->dflt = arr + 2 * n;
	memcpy(pl->lower, fo->lower, n * sizeof(double));
	memcpy(pl->upper, fo->upper, n * sizeof(double));
	memcpy(pl->dflt, fo->dflt, n * sizeof(double));
	return GF_OK;
}

enum gf_err sim_prosumer_offers(struct sim_prosumer *p, const struct sim_round *r, sim_offer_fn fn,
                                void *arg, size_t *count)
{
	double lo[GF_DEVOFFER_MAX_SLICES], hi[GF_DEVOFFER_MAX_SLICES];
	double dflt[GF_DEVOFFER_MAX_SLICES];
	char err[256];
	size_t made = 0;
	enum gf_err rc = GF_OK;

	for (size_t i = 0; i < p->ndev && !p->disabled; i++) {
		struct sim_device *d = &p->dev[i];
		struct gf_device copy = d->dev;
		struct sim_plan *pl = free_slot(d, r->now);
		struct gf_fo fo;

		err[0] = '\0';
		if (!pl) {
			gf_log_debug("GF-SIM-OFFER", "%s %s: every plan is still live", p->id,
			             d->kind);
			continue;
		}
		if (build_offer(d, &copy, r, &fo, lo, hi, dflt, GF_DEVOFFER_MAX_SLICES, err,
		                sizeof(err)) != GF_OK) {
			gf_log_debug("GF-SIM-OFFER", "%s %s: no offer: %s", p->id, d->kind, err);
			continue;
		}
		if (fo.start_after - r->deadline_lead <= r->now) {
			gf_log_debug("GF-SIM-OFFER", "%s %s: no offer: deadline already passed",
			             p->id, d->kind);
			continue;
		}
		rc = plan_store(pl, p, d, r, &fo);
		if (rc != GF_OK)
			break;
		made++;
		fn(arg, p, d, pl);
	}
	*count = made;
	return rc;
}

/* --- schedules ---------------------------------------------------------------------- */

static bool fits_window(const struct sim_plan *pl, int64_t start, size_t n)
{
	return !pl->assigned && start >= pl->start_after && start <= pl->start_after + pl->tf &&
	       n == (size_t)pl->n;
}

/* The plan a schedule is for (see prosumer.h). */
static struct sim_plan *find_plan(struct sim_prosumer *p,
                                  const Goflex__FoaReply__DemandSchedule *ds, int64_t start,
                                  struct sim_device **dev)
{
	size_t idlen = strlen(p->id);
	/* A schedule naming one of our labels is for that offer only: one
	 * of an offer we no longer have (replayed after a restart) must not
	 * land on another that happens to have the same window. */
	bool named = ds->flexofferid && strncmp(ds->flexofferid, p->id, idlen) == 0 &&
	             ds->flexofferid[idlen] == '.';

	for (int pass = 0; pass < (named ? 1 : 3); pass++) {
		for (size_t i = 0; i < p->ndev; i++) {
			for (int k = 0; k < SIM_PLANS; k++) {
				struct sim_plan *pl = &p->dev[i].plan[k];
				bool hit;
				if (!pl->used)
					continue;
				if (pass == 0)
					hit = ds->flexofferid &&
					      strcmp(ds->flexofferid, pl->label) == 0;
				else if (pass == 1)
					hit = pl->assigned && pl->sched_id == ds->scheduleid;
				else
					hit = fits_window(pl, start, ds->n_energy);
				if (hit) {
					*dev = &p->dev[i];
					return pl;
				}
			}
		}
	}
	return NULL;
}

static enum sim_apply say(enum sim_apply a, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum sim_apply say(enum sim_apply a, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gf_err_vset(why, whylen, GF_OK, fmt, ap);
	va_end(ap);
	return a;
}

/* Counts the schedule's values outside the offer's slice bounds (slice k
 * of a schedule is slice k of the profile, whatever its start); the device
 * then does what its limits allow. */
static size_t outside_bounds(const struct sim_plan *pl, const double *e, size_t n)
{
	size_t bad = 0;

	for (size_t k = 0; k < n && k < (size_t)pl->n; k++)
		if (e[k] < pl->lower[k] - 1e-9 || e[k] > pl->upper[k] + 1e-9)
			bad++;
	return bad;
}

enum sim_apply sim_prosumer_schedule(struct sim_prosumer *p,
                                     const Goflex__FoaReply__DemandSchedule *ds, int64_t now,
                                     struct sim_device **dev_out, char *why, size_t whylen)
{
	struct sim_device *d = NULL;
	struct sim_plan *pl;
	int64_t ms, start;
	double *copy;
	size_t bad;

	if (ds->intervallength != GF_DEVICE_SLICE_S)
		return say(SIM_INVALID, why, whylen, "intervalLength %u, not 900 s",
		           ds->intervallength);
	if (gf_time_parse(ds->starttime, strlen(ds->starttime), &ms) != GF_OK ||
	    ms % (GF_DEVICE_SLICE_S * 1000) != 0)
		return say(SIM_INVALID, why, whylen, "startTime %s is not an interval start",
		           ds->starttime);
	for (size_t k = 0; k < ds->n_energy; k++)
		if (!isfinite(ds->energy[k]))
			return say(SIM_INVALID, why, whylen, "energy[%zu] is not finite", k);
	start = gf_time_interval(ms);
	pl = find_plan(p, ds, start, &d);
	if (!pl)
		return say(SIM_UNMATCHED, why, whylen,
		           "schedule %lld for %s starting at interval %lld matches no offer",
		           (long long)ds->scheduleid, ds->flexofferid ? ds->flexofferid : "-",
		           (long long)start);
	if (dev_out)
		*dev_out = d;
	if (pl->assigned && pl->sched_id == ds->scheduleid && ds->updateid <= pl->update_id)
		return say(SIM_DUPLICATE, why, whylen,
		           "schedule %lld update %lld of %s already applied",
		           (long long)ds->scheduleid, (long long)ds->updateid, pl->label);
	if (pl->assigned && pl->sched_id != ds->scheduleid)
		return say(SIM_INVALID, why, whylen, "%s already follows schedule %lld, not %lld",
		           pl->label, (long long)pl->sched_id, (long long)ds->scheduleid);
	copy = malloc((ds->n_energy ? ds->n_energy : 1) * sizeof(double));
	if (!copy)
		return say(SIM_INVALID, why, whylen, "out of memory");
	if (ds->n_energy)
		memcpy(copy, ds->energy, ds->n_energy * sizeof(double));
	free(pl->sched);
	pl->sched = copy;
	pl->sched_n = ds->n_energy;
	pl->sched_start = start;
	pl->sched_id = ds->scheduleid;
	pl->update_id = ds->updateid;
	pl->assigned = true;
	bad = outside_bounds(pl, copy, ds->n_energy);
	return say(SIM_APPLIED, why, whylen,
	           "%s follows schedule %lld update %lld from interval %lld (%zu intervals%s, "
	           "%zu outside the offer's bounds)",
	           pl->label, (long long)ds->scheduleid, (long long)ds->updateid, (long long)start,
	           ds->n_energy, start < now ? ", late: from now on" : "", bad);
}

Goflex__OperationData__OperationState sim_prosumer_state(const struct sim_prosumer *p, int64_t now)
{
	bool sent = false;

	for (size_t i = 0; i < p->ndev; i++) {
		for (int k = 0; k < SIM_PLANS; k++) {
			const struct sim_plan *pl = &p->dev[i].plan[k];
			if (!pl->used || sim_plan_end(pl) <= now)
				continue;
			if (pl->assigned)
				return GOFLEX__OPERATION_DATA__OPERATION_STATE__assigned;
			if (pl->deadline > now)
				sent = true;
		}
	}
	return sent ? GOFLEX__OPERATION_DATA__OPERATION_STATE__offerSent
	            : GOFLEX__OPERATION_DATA__OPERATION_STATE__onlineWithoutOffer;
}
