/* SPDX-License-Identifier: MIT */
/*
 * gf-fman - the FlexOffer Manager (issue 5 item 3, docs/fman.md): collects
 * FOAs' offers, validates and acknowledges them, aggregates them with the
 * engine (lib/aggpool), offers the aggregates to FMAR, disaggregates FMAR's
 * assignments into member schedules and sends them; state in SQLite so a
 * kill -9 loses nothing and duplicates nothing.
 *
 * This file: the configuration table, start (store, pool, subscriptions,
 * timer), the dispatch of messages by type and sender role.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fman.h"
#include "bus/ident.h"
#include "base/log.h"
#include "agent/resend.h"

#define C(m) offsetof(struct fman_conf, m)
/* The page cache of FMAN's store, KiB: SQLite takes what it needs, up to this. */
#define FMAN_CACHE_KIB "65536"

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct fman_conf, agent),
    {"grid_origin_interval", GF_CONF_INT, C(grid_origin_interval), "0", 0, 2147483647L, false,
     "fixed origin of the startAfter grid (interval number), so cells never move"},
    {"start_after_tolerance", GF_CONF_INT, C(start_after_tolerance), "20", 0, 100000, false,
     "width of a startAfter cell of the aggregation grid, intervals (GOFLEX FMAN: 20)"},
    {"tf_tolerance", GF_CONF_INT, C(tf_tolerance), "0", 0, 100000, false,
     "width of a time-flexibility cell, intervals (0: equal tf only)"},
    {"max_members", GF_CONF_INT, C(max_members), "0", 0, 100000000L, false,
     "most offers in one aggregate (a full cell is split, next fit); 0: no bound"},
    {"aggregate_every_s", GF_CONF_INT, C(aggregate_every_s), "900", 1, 86400 * 7, false,
     "simulated seconds between aggregations (each sends only what changed)"},
    {"fmar_id", GF_CONF_STRING, C(fmar_id), "all", 0, 0, false,
     "the FMAR instance the aggregates go to (all: the FMAR pool)"},
    {"max_offers", GF_CONF_INT, C(max_offers), "100000", 1, 100000000L, false,
     "live offers held at most; more are refused"},
    {"max_slices", GF_CONF_INT, C(max_slices), "672", 1, 100000, false,
     "profile slices of one offer at most (672 = one week of intervals)"},
    {"assign_part", GF_CONF_INT, C(assign_part), "256", 1, 1000000L, false,
     "member schedules of an assignment committed and sent before the rest are written "
     "(docs/fman.md, \"Assignments\")"},
    {"resend_s", GF_CONF_INT, C(resend_s), "10", 0, 86400, false,
     "send aggregates FMAR has not acked and member assignments the FOA has not echoed "
     "again every this many real seconds (and at every reconnect); 0: never"},
    {"meter_map", GF_CONF_STRING, C(meter_map), NULL, 0, 0, false,
     "CSV foa_id,pseudonym: each FOA's meter at the Service Platform (gf-anonymizer "
     "pseudonyms); none: assigned offers are not settled"},
    {"sp_id", GF_CONF_STRING, C(sp_id), "all", 0, 0, false,
     "the gf-sp instance validation.query and capacityprice.query go to (all: the pool)"},
    {"settle_delay_s", GF_CONF_INT, C(settle_delay_s), "1800", 0, 86400 * 7, false,
     "simulated seconds after a window's end before its delivery is validated (the meter "
     "data has to reach the Service Platform)"},
    {"settle_give_up_s", GF_CONF_INT, C(settle_give_up_s), "172800", 0, 86400 * 60, false,
     "simulated seconds after a window's end the meter data may take; an answer still "
     "without it then ends the settlement as failed"},
    {"imbalance_cutoff_kwh", GF_CONF_DOUBLE, C(imbalance_cutoff_kwh), "0.5", 0, 1e9, false,
     "a prosumer's imbalance (kWh over a settlement) without a fee"},
    {"imbalance_fee_eur_kwh", GF_CONF_DOUBLE, C(imbalance_fee_eur_kwh), "0.1", 0, 1e6, false,
     "the fee per kWh of imbalance beyond imbalance_cutoff_kwh, EUR/kWh"},
    {"capacity_price", GF_CONF_BOOL, C(capacity_price), "on", 0, 0, false,
     "ask gf-sp (sp_id) for the implicit capacity price of the grid point an offer names "
     "(locationId.gridPointId) and add it to the offer's tariffs (docs/fman.md, \"Capacity "
     "price\"); offers without a grid point are not affected"},
    {"capacity_retry_s", GF_CONF_INT, C(capacity_retry_s), "3600", 0, 86400 * 7, false,
     "simulated seconds after gf-sp refused a grid point's day before an offer that needs it "
     "asks again"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static struct fman F;

/* meter_map, when given, must read (also under -n). */
static enum gf_err check(void *conf, char *err, size_t errlen)
{
	const struct fman_conf *c = conf;
	struct gf_metermap m = {0};
	enum gf_err rc;

	if (!c->meter_map)
		return GF_OK;
	rc = fman_settle_check(c->meter_map, &m, err, errlen);
	gf_metermap_free(&m);
	return rc;
}

static void tick(struct gf_agent *a, void *arg)
{
	struct fman *f = arg;

	if (f->dirty)
		fman_market_aggregate(f);
	gf_agent_timer_at(a, gf_agent_now(a) + (double)f->conf->aggregate_every_s, tick, f);
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *it)
{
	struct fman *f = gf_agent_data(a);
	struct gf_message m;
	char err[512];

	if (gf_message_read(it, &m, err, sizeof(err)) != GF_OK) {
		gf_log_warning("GF-FMAN-UNREADABLE", "ignoring a message on %s: %s", it->topic,
		               err);
		return;
	}
	if (m.topic.from_role == GF_ROLE_FOA && strcmp(m.msg, "flexoffer") == 0)
		fman_offers_take(f, &m);
	else if (m.topic.from_role == GF_ROLE_FOA && strcmp(m.msg, "meter.reading") == 0)
		fman_offers_meter(f, &m);
	else if (m.topic.from_role == GF_ROLE_FMAR && strcmp(m.msg, "flexoffer.ack") == 0)
		fman_market_fmar_ack(f, &m);
	else if (m.topic.from_role == GF_ROLE_FMAR && strcmp(m.msg, "flexoffer.assign") == 0)
		fman_assign_fmar(f, &m);
	else if (m.topic.from_role == GF_ROLE_SP && strcmp(m.msg, "validation.query.result") == 0)
		fman_settle_result(f, &m);
	else if (m.topic.from_role == GF_ROLE_SP &&
	         (strcmp(m.msg, "capacityprice.query.result") == 0 ||
	          strcmp(m.msg, "capacityprice") == 0))
		fman_capprice_take(f, &m);
	else
		gf_log_info("GF-FMAN-UNREADABLE", "ignoring %s from %s.%s", m.msg,
		            gf_role_name(m.topic.from_role), m.from_id);
	gf_message_free(&m);
	fman_util_flush(f);
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct fman_conf *c = conf;
	struct gf_bus *bus = gf_agent_bus(a);
	const char *site = gf_bus_site(bus), *id = gf_bus_id(bus);
	char filter[512], err[512] = "";
	size_t cap = (size_t)c->max_slices;
	enum gf_err rc;

	F.agent = a;
	F.conf = c;
	gf_agent_set_data(a, &F);
	F.cfg = GF_AGGREGATE_FMAN;
	F.cfg.start_after_tolerance = (int32_t)c->start_after_tolerance;
	F.cfg.tf_tolerance = (int32_t)c->tf_tolerance;
	F.cfg.max_members = (uint32_t)c->max_members;
	F.cfg.fixed_origin = 1;
	F.cfg.start_after_origin = (int32_t)c->grid_origin_interval;
	F.cfg.tf_origin = 0;
	F.lo = calloc(cap, sizeof(double));
	F.hi = calloc(cap, sizeof(double));
	F.df = calloc(cap, sizeof(double));
	if (!F.lo || !F.hi || !F.df)
		return GF_ENOMEM;
	rc = gf_store_open(c->agent.state_dir, "fman", fman_offers_schema, &F.store, err,
	                   sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-FMAN-STORE", "%s", err);
		return rc;
	}
	/* The FOAs' echoes of a burst are applied together (answers.c). */
	gf_store_on_drain(F.store, fman_answers_confirm_drained, &F);
	/* An assignment writes every member's schedule in one transaction:
	 * thousands of pages at a large site. A cache that holds them writes
	 * each page to the WAL once, at the commit, not again each time the
	 * cache spills (SQLite's default is 2 MiB). */
	if ((rc = gf_store_exec(F.store, "PRAGMA cache_size = -" FMAN_CACHE_KIB)) != GF_OK ||
	    (rc = gf_resend_open(F.store)) != GF_OK ||
	    (rc = gf_store_exec(F.store, fman_settle_schema)) != GF_OK ||
	    (rc = gf_store_exec(F.store, fman_capprice_schema)) != GF_OK)
		return rc;
	gf_resend_every(a, F.store, c->resend_s, "GF-FMAN-RESEND");
	rc = gf_aggpool_new(&F.cfg, &F.pool);
	if (rc == GF_OK)
		rc = fman_offers_rebuild(&F);
	if (rc != GF_OK)
		return rc;
	/* Offers to the pool and to this instance; FMAR's answers to it. */
	snprintf(filter, sizeof(filter), "gf/%s/foa/+/fman/all/+", site);
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	snprintf(filter, sizeof(filter), "gf/%s/+/+/fman/%s/+", site, id);
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	/* What the pool holds now (the outbox goes out once connected); not
	 * before the redo of an assignment half sent at a crash, which must
	 * find the pool's aggregates as they were (docs/fman.md). */
	if (fman_assign_pending(&F))
		gf_log_notice("GF-FMAN-ASSIGN-PENDING",
		              "an assignment was half sent before the restart: it is handled "
		              "again first, the pool is aggregated at the next round");
	else if ((rc = fman_market_aggregate(&F)) != GF_OK)
		return rc;
	gf_agent_timer_at(a, gf_agent_now(a) + (double)c->aggregate_every_s, tick, &F);
	if ((rc = fman_settle_start(&F)) != GF_OK)
		return rc;
	gf_log_notice("GF-FMAN-START",
	              "fman.%s: %zu live offers in %zu aggregates; aggregating every %ld "
	              "simulated s for fmar.%s; capacity price %s",
	              id, F.live, gf_aggpool_count(F.pool), c->aggregate_every_s, c->fmar_id,
	              c->capacity_price ? "on" : "off");
	return GF_OK;
}

/* At every connect, what the outbox holds: left by a crash, or queued
 * while disconnected. */
static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	struct fman *f = gf_agent_data(a);

	if (ev->kind == GF_INBOX_CONNECTED) {
		gf_resend_connected(a, f->store, "GF-FMAN-RESEND");
		fman_util_flush(f);
	}
}

static void stop(struct gf_agent *a)
{
	struct fman *f = gf_agent_data(a);

	/* the echoes still waiting (answers.c), not sent again at the next start */
	fman_answers_confirm_flush(f);
	fman_util_flush(f);
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-fman",
	    .summary = "the FlexOffer Manager: validates, aggregates and schedules FOAs' offers",
	    .version = "0.1.0",
	    .table = table,
	    .conf_size = sizeof(struct fman_conf),
	    .common_offset = offsetof(struct fman_conf, agent),
	    .check = check,
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .stop = stop,
	};
	int code = gf_agent_main(&def, argc, argv);

	gf_aggpool_free(F.pool);
	gf_metermap_free(&F.meters);
	fman_answers_free(&F);
	free(F.confirms);
	gf_store_close(F.store);
	free(F.lo);
	free(F.hi);
	free(F.df);
	return code;
}
