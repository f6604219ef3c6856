/* SPDX-License-Identifier: MIT */
#include "offermsg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fo_message.h"
#include "base/timefmt.h"

enum {
	T_CREATION,
	T_ACCEPT,
	T_ASSIGN,
	T_START_AFTER,
	T_START_BEFORE,
	T_END_AFTER,
	T_END_BEFORE,
	T_N
};

/* Everything of one message in one place, freed together. The message
 * comes first so that sim_offermsg_free can take it back. */
struct box {
	Goflex__FlexOffer fo;
	Goflex__FlexOfferSchedule dflt;
	Goflex__EnergyConstraint total;
	Goflex__TariffConstraint tariff;
	char times[T_N][GF_TIME_BUFSIZE];
	Goflex__FlexOfferProfileConstraint *pc;
	Goflex__FlexOfferProfileConstraint **pcp;
	Goflex__EnergyConstraint *ec;
	Goflex__EnergyConstraint **ecp;
	Goflex__ScheduleSlice *ss;
	Goflex__ScheduleSlice **ssp;
};

void sim_offermsg_free(Goflex__FlexOffer *m)
{
	struct box *b = (struct box *)m;

	if (!b)
		return;
	free(b->pc);
	free(b->pcp);
	free(b->ec);
	free(b->ecp);
	free(b->ss);
	free(b->ssp);
	free(b);
}

static enum gf_err fill_times(struct box *b, const struct sim_plan *pl)
{
	const int64_t iv[T_N] = {
	    pl->creation,
	    pl->deadline,
	    pl->deadline,
	    pl->start_after,
	    (int64_t)pl->start_after + pl->tf,
	    (int64_t)pl->start_after + pl->n,
	    (int64_t)pl->start_after + pl->tf + pl->n,
	};

	for (int i = 0; i < T_N; i++) {
		enum gf_err rc = gf_time_format(iv[i] * GF_TIME_INTERVAL_S * 1000, b->times[i],
		                                sizeof(b->times[i]));
		if (rc != GF_OK)
			return GF_ERANGE;
	}
	return GF_OK;
}

static void fill_windows(struct box *b, const struct sim_prosumer *p, const struct sim_plan *pl)
{
	Goflex__FlexOffer *fo = &b->fo;

	fo->label = (char *)pl->label;
	fo->state = GOFLEX__FLEX_OFFER_STATE__Initial;
	fo->offeredbyid = (char *)p->id;
	fo->creationinterval = pl->creation;
	fo->creationtime = b->times[T_CREATION];
	fo->has_acceptancebeforeinterval = fo->has_assignmentbeforeinterval = 1;
	fo->acceptancebeforeinterval = fo->assignmentbeforeinterval = pl->deadline;
	fo->acceptancebeforetime = b->times[T_ACCEPT];
	fo->assignmentbeforetime = b->times[T_ASSIGN];
	fo->startafterinterval = pl->start_after;
	fo->startbeforeinterval = (int64_t)pl->start_after + pl->tf;
	fo->startaftertime = b->times[T_START_AFTER];
	fo->startbeforetime = b->times[T_START_BEFORE];
	fo->has_endafterinterval = fo->has_endbeforeinterval = 1;
	fo->endafterinterval = (int64_t)pl->start_after + pl->n;
	fo->endbeforeinterval = (int64_t)pl->start_after + pl->tf + pl->n;
	fo->endaftertime = b->times[T_END_AFTER];
	fo->endbeforetime = b->times[T_END_BEFORE];
	fo->has_numsecondsperinterval = 1;
	fo->numsecondsperinterval = GF_TIME_INTERVAL_S;
	fo->has_assignment = 1;
	fo->assignment = GOFLEX__FLEX_OFFER_ASSIGNMENT__obligatory;
}

enum gf_err sim_offermsg_build(const struct sim_prosumer *p, const struct sim_plan *pl,
                               const struct sim_tariff *tariff, Goflex__FlexOffer **out)
{
	size_t n = (size_t)pl->n;
	struct box *b = calloc(1, sizeof(*b));
	enum gf_err rc = GF_ENOMEM;

	if (!b)
		goto out;
	b->pc = calloc(n, sizeof(*b->pc));
	b->pcp = calloc(n, sizeof(*b->pcp));
	b->ec = calloc(n, sizeof(*b->ec));
	b->ecp = calloc(n, sizeof(*b->ecp));
	b->ss = calloc(n, sizeof(*b->ss));
	b->ssp = calloc(n, sizeof(*b->ssp));
	if (!b->pc || !b->pcp || !b->ec || !b->ecp || !b->ss || !b->ssp)
		goto out;
	goflex__flex_offer__init(&b->fo);
	goflex__flex_offer_schedule__init(&b->dflt);
	goflex__energy_constraint__init(&b->total);
	goflex__tariff_constraint__init(&b->tariff);
	rc = fill_times(b, pl);
	if (rc != GF_OK)
		goto out;
	fill_windows(b, p, pl);
	gf_fo_message_unit_slices(n, pl->lower, pl->upper, pl->dflt, b->ec, b->ecp, b->pc, b->pcp,
	                          b->ss, b->ssp);
	b->fo.n_flexofferprofileconstraints = n;
	b->fo.flexofferprofileconstraints = b->pcp;
	/* The default schedule: id 0, revision 0, from startAfter. */
	b->dflt.has_scheduleid = b->dflt.has_updateid = 1;
	b->dflt.starttime = b->times[T_START_AFTER];
	b->dflt.n_scheduleslices = n;
	b->dflt.scheduleslices = b->ssp;
	b->fo.defaultschedule = &b->dflt;
	if (isfinite(pl->total_min) && isfinite(pl->total_max)) {
		b->total.lower = pl->total_min;
		b->total.upper = pl->total_max;
		b->fo.totalenergyconstraint = &b->total;
	}
	if (tariff && isfinite(tariff->min) && isfinite(tariff->max)) {
		b->tariff.mintariff = tariff->min;
		b->tariff.maxtariff = tariff->max;
		b->fo.flexoffertariffconstraint = &b->tariff;
	}
	*out = &b->fo;
	b = NULL;
	rc = GF_OK;
out:
	sim_offermsg_free(b ? &b->fo : NULL);
	return rc;
}
