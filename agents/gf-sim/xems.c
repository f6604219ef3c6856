/* SPDX-License-Identifier: MIT */
/*
 * xems.c - the xEMS side of each simulated prosumer on the bus (D6.1 8.1,
 * docs/trading.md): xems.flexibility and xems.operation to foa.<id>,
 * foa.reply from it.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "agent/message.h"
#include "engine/fo_message.h"
#include "base/log.h"
#include "sim.h"
#include "base/timefmt.h"
#include "xems.pb-c.h"

/* The offer as FMAN's engine will read it (lib/engine/fo_message.c) is the plan
 * the device made: the two mappings must stay inverse. */
static bool reads_back(const Goflex__FlexOffer *fo, const struct sim_plan *pl)
{
	double lo[GF_DEVOFFER_MAX_SLICES], hi[GF_DEVOFFER_MAX_SLICES], df[GF_DEVOFFER_MAX_SLICES];
	struct gf_fo e;
	struct gf_fo_deadlines dl;
	bool ok;

	if (gf_fo_from_message(fo, &e, lo, hi, df, GF_DEVOFFER_MAX_SLICES, NULL, 0) != GF_OK ||
	    gf_fo_deadlines_from_message(fo, &dl, NULL, 0) != GF_OK)
		return false;
	ok = e.start_after == pl->start_after && e.tf == pl->tf && e.n == pl->n && e.dflt &&
	     dl.assignment_before == pl->deadline && dl.acceptance_before == pl->deadline &&
	     (isnan(pl->total_min) ? isnan(e.total_min) : e.total_min == pl->total_min) &&
	     (isnan(pl->total_max) ? isnan(e.total_max) : e.total_max == pl->total_max);
	for (int32_t k = 0; ok && k < e.n; k++)
		ok = lo[k] == pl->lower[k] && hi[k] == pl->upper[k] && df[k] == pl->dflt[k];
	return ok;
}

void sim_xems_offer(void *arg, struct sim_prosumer *p, struct sim_device *d, struct sim_plan *pl)
{
	struct sim *s = arg;
	Goflex__FlexibilityData fd = GOFLEX__FLEXIBILITY_DATA__INIT;
	Goflex__FlexOffer *fo = NULL;
	enum gf_err rc;

	rc = sim_offermsg_build(p, pl, &s->tariff, &fo);
	if (rc == GF_OK && !reads_back(fo, pl)) {
		gf_log_err("GF-SIM-OFFER",
		           "%s: %s does not read back as the engine offer it was "
		           "made from; not sent",
		           p->id, pl->label);
		rc = GF_EINVAL;
	}
	if (rc == GF_OK) {
		fd.flexoffer = fo;
		rc = gf_message_send_on(p->bus, "foa", p->id, "xems.flexibility", &fd.base, 0);
	}
	if (rc == GF_OK) {
		s->day.offers++;
		gf_log_info("GF-SIM-OFFER",
		            "%s offers %s: %d slices from interval %d (tf %d), deadline %lld",
		            p->id, pl->label, (int)pl->n, (int)pl->start_after, (int)pl->tf,
		            (long long)pl->deadline);
	} else {
		gf_log_err("GF-SIM-OFFER", "%s cannot send the offer of its %s: %s", p->id, d->kind,
		           gf_strerror(rc));
	}
	gf_fo_message_free(fo);
}

void sim_xems_operation(struct sim *s, struct sim_prosumer *p, int64_t j, const struct sim_meter *m)
{
	Goflex__OperationData op = GOFLEX__OPERATION_DATA__INIT;
	char start[GF_TIME_BUFSIZE];
	/* Mean power over the interval, kW, as the schema says: kWh / 0.25 h. */
	double accounting = m->total_kwh * 4, operation = m->device_kwh * 4;

	(void)s;
	if (gf_time_format(j * GF_TIME_INTERVAL_S * 1000, start, sizeof(start)) != GF_OK)
		return;
	op.operationstate = sim_prosumer_state(p, j + 1);
	op.intervallength = GF_TIME_INTERVAL_S;
	op.starttime = start;
	op.n_accountingpower = 1;
	op.accountingpower = &accounting;
	op.n_operationpower = 1;
	op.operationpower = &operation;
	/* Failures are logged by gf_message_send_on (GF-MESSAGE-SEND). */
	(void)gf_message_send_on(p->bus, "foa", p->id, "xems.operation", &op.base, 0);
}

static void on_schedule(struct sim *s, struct sim_prosumer *p,
                        const Goflex__FoaReply__DemandSchedule *ds)
{
	int64_t now = (int64_t)(gf_agent_now(s->a) / GF_TIME_INTERVAL_S);
	struct sim_device *d = NULL;
	char why[512];

	switch (sim_prosumer_schedule(p, ds, now, &d, why, sizeof(why))) {
	case SIM_APPLIED:
		s->day.schedules++;
		/* The real time of receipt: make bench's latencies. */
		gf_log_notice("GF-SIM-SCHEDULE", "%s %s: %s; real time %.3f", p->id,
		              d ? d->kind : "?", why, gf_simclock_real_now());
		break;
	case SIM_DUPLICATE:
		s->day.duplicates++;
		gf_log_info("GF-SIM-DUP", "%s: %s: ignored", p->id, why);
		break;
	case SIM_UNMATCHED:
		s->day.unmatched++;
		gf_log_warning("GF-SIM-UNMATCHED", "%s: %s: ignored", p->id, why);
		break;
	case SIM_INVALID:
		gf_log_warning("GF-SIM-BADSCHEDULE", "%s: schedule %lld update %lld: %s: ignored",
		               p->id, (long long)ds->scheduleid, (long long)ds->updateid, why);
		break;
	}
}

static void on_reply(struct sim *s, struct sim_prosumer *p, const Goflex__FoaReply *r)
{
	if (r->ack && !r->ack->ack)
		gf_log_notice("GF-SIM-NACK", "%s: foa.%s refused a request: %s", p->id, p->id,
		              r->ack->reason ? r->ack->reason : "(no reason)");
	for (size_t i = 0; i < r->n_flexibilityreject; i++)
		gf_log_notice("GF-SIM-REJECT", "%s: offer %s refused: %s", p->id,
		              r->flexibilityreject[i]->flexofferid,
		              r->flexibilityreject[i]->reason);
	for (size_t i = 0; i < r->n_demandschedule; i++)
		on_schedule(s, p, r->demandschedule[i]);
	if (r->administrationcontrol) {
		Goflex__FoaReply__AdministrationControl__Command c =
		    r->administrationcontrol->command;
		if (c == GOFLEX__FOA_REPLY__ADMINISTRATION_CONTROL__COMMAND__disable ||
		    c == GOFLEX__FOA_REPLY__ADMINISTRATION_CONTROL__COMMAND__enable) {
			p->disabled =
			    c == GOFLEX__FOA_REPLY__ADMINISTRATION_CONTROL__COMMAND__disable;
			gf_log_notice("GF-SIM-ADMIN", "%s: offering %s by foa.%s", p->id,
			              p->disabled ? "disabled" : "enabled", p->id);
		}
	}
}

void sim_xems_message(struct sim *s, struct sim_prosumer *p, const struct gf_inbox_item *it)
{
	struct gf_message m;
	char err[256];

	if (gf_message_read(it, &m, err, sizeof(err)) != GF_OK) {
		gf_log_warning("GF-SIM-MESSAGE", "%s: unreadable message on %s: %s", p->id,
		               it->topic, err);
		return;
	}
	/* Only the prosumer's own FOA steers it. The broker lets any FOA
	 * address an xEMS; the subscription and this check keep others out. */
	if (m.topic.from_role != GF_ROLE_FOA || strcmp(m.from_id, p->id) != 0 ||
	    strcmp(m.msg, "foa.reply") != 0)
		gf_log_warning("GF-SIM-MESSAGE", "%s: %s from %s.%s ignored", p->id, m.msg,
		               gf_role_name(m.topic.from_role), m.from_id);
	else
		on_reply(s, p, (const Goflex__FoaReply *)m.body);
	gf_message_free(&m);
}
