/* SPDX-License-Identifier: MIT */
/*
 * gf-fmar - the FlexOffer Market (docs/fmar.md, docs/trading.md): collects
 * FMAN's aggregates and the DSO FOAs' bid offers, clears each bid at its
 * gate closure with the engine (lib/engine/clear.h), sends the assignments and
 * the DSO's result, publishes cleared volume and price as KPI samples.
 * State in SQLite (state_dir/fmar.db); every message and every clearing is
 * one transaction with the messages it causes (the outbox).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmar.h"
#include "bus/ident.h"
#include "base/log.h"
#include "base/hash.h"
#include "agent/resend.h"

#define VERSION "0.1.0"

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct fmar_conf, agent),
    {"dso_foa", GF_CONF_STRING, offsetof(struct fmar_conf, dso_foa), NULL, 0, 0, false,
     "ids of the DSO FOAs whose bid offers (label bid:<bidId>) are taken, comma-separated; "
     "none: every bid offer is refused"},
    {"gate_lead_s", GF_CONF_INT, offsetof(struct fmar_conf, gate_lead_s), "900", 0, 86400, false,
     "gate closure (the clearing) this many simulated seconds before a bid's first interval"},
    {"gate_early_s", GF_CONF_INT, offsetof(struct fmar_conf, gate_early_s), "0", 0, 86400, false,
     "> 0: clear a bid this long before the assignment deadline of the first aggregate that "
     "could serve it, if that comes before its gate; 0: at its gate only"},
    {"milp_max_offers", GF_CONF_INT, offsetof(struct fmar_conf, milp_max_offers), "40", 0, 100000,
     false, "also run the exact MILP when at most this many aggregates are live (0: never)"},
    {"milp_time_limit_ms", GF_CONF_INT, offsetof(struct fmar_conf, milp_time_limit_ms), "2000", 1,
     600000, false, "the MILP's time limit (real milliseconds)"},
    {"heuristic_passes", GF_CONF_INT, offsetof(struct fmar_conf, heuristic_passes), "20", 1, 1000,
     false, "improvement passes of the clearing heuristic"},
    {"max_offer_intervals", GF_CONF_INT, offsetof(struct fmar_conf, max_offer_intervals), "672", 1,
     100000, false, "longest profile (intervals) of an aggregate or a bid; longer are refused"},
    {"resend_s", GF_CONF_INT, offsetof(struct fmar_conf, resend_s), "10", 0, 86400, false,
     "send unconfirmed assignments again every this many real seconds (and at every "
     "reconnect) until the offerer echoes them; 0: never (docs/trading.md)"},
    {"reclear", GF_CONF_BOOL, offsetof(struct fmar_conf, reclear), "on", 0, 0, false,
     "after a bid's clearing, clear what it still asks again when an aggregate that could "
     "serve it arrives (docs/fmar.md)"},
    {"reclear_delay_s", GF_CONF_INT, offsetof(struct fmar_conf, reclear_delay_s), "60", 0, 86400,
     false,
     "a re-clearing runs this many simulated seconds after the first arrival that calls "
     "for it, with every aggregate arrived by then"},
    {"settle", GF_CONF_BOOL, offsetof(struct fmar_conf, settle), "on", 0, 0, false,
     "validate each cleared bid's delivery at its grid point with gf-sp after its end "
     "(docs/fmar.md, \"Delivery\")"},
    {"sp_id", GF_CONF_STRING, offsetof(struct fmar_conf, sp_id), "all", 0, 0, false,
     "the gf-sp instance a cleared bid's delivery is validated by (all: the pool)"},
    {"settle_delay_s", GF_CONF_INT, offsetof(struct fmar_conf, settle_delay_s), "1800", 0,
     86400 * 7, false,
     "simulated seconds after a cleared bid's last interval before its delivery is validated "
     "at its grid point"},
    {"settle_give_up_s", GF_CONF_INT, offsetof(struct fmar_conf, settle_give_up_s), "172800", 0,
     86400 * 60, false,
     "simulated seconds after a bid's end its grid point's data may take; an answer still "
     "without it then fails the validation"},
    {"reference_area", GF_CONF_STRING, offsetof(struct fmar_conf, reference_area), "", 0, 0, false,
     "the area of gf-sp's price.reference that prices bid slices without a maxTariff of their "
     "own; empty: any area (docs/fmar.md, \"Reference prices\")"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static const char fmar_schema[] =
    /* Aggregates and bid offers, their latest content (canonical JSON) and
     * where they are: held (waiting for a clearing), assigned (an
     * aggregate a clearing assigned), cleared (a bid), canceled. */
    "CREATE TABLE IF NOT EXISTS fmar_offer (id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " sender TEXT NOT NULL, bid_id TEXT, gate_s REAL, body TEXT NOT NULL,"
    " state TEXT NOT NULL, assigned_by TEXT);"
    "CREATE INDEX IF NOT EXISTS fmar_offer_state ON fmar_offer (kind, state);"
    /* One row per cleared bid. */
    "CREATE TABLE IF NOT EXISTS fmar_result (bid_offer_id TEXT PRIMARY KEY,"
    " bid_id TEXT NOT NULL, status TEXT NOT NULL, solver TEXT NOT NULL, offers INTEGER,"
    " eligible INTEGER, deviating INTEGER, requested_kwh REAL, cleared_kwh REAL,"
    " price REAL, objective REAL, observed_ms INTEGER NOT NULL, reason TEXT);"
    /* One row per aggregate a clearing assigned. */
    "CREATE TABLE IF NOT EXISTS fmar_assign (bid_offer_id TEXT NOT NULL,"
    " offer_id TEXT NOT NULL, schedule_id INTEGER NOT NULL, start_interval INTEGER NOT NULL,"
    " amounts TEXT NOT NULL, PRIMARY KEY (bid_offer_id, offer_id));"
    /* Per bid interval: what the DSO asked and what the clearing accepted. */
    "CREATE TABLE IF NOT EXISTS fmar_cleared (bid_offer_id TEXT NOT NULL,"
    " interval INTEGER NOT NULL, requested_kwh REAL NOT NULL, cleared_kwh REAL NOT NULL,"
    " PRIMARY KEY (bid_offer_id, interval));"
    /* One row per clearing round of a bid (0: the clearing at its gate;
     * 1, 2, ...: re-clearings of its remainder), and what each round
     * accepted per interval at its price. fmar_result and fmar_cleared hold
     * the totals over the rounds. */
    "CREATE TABLE IF NOT EXISTS fmar_round (bid_offer_id TEXT NOT NULL, round INTEGER NOT NULL,"
    " status TEXT NOT NULL, solver TEXT NOT NULL, offers INTEGER, eligible INTEGER,"
    " deviating INTEGER, requested_kwh REAL, cleared_kwh REAL, price REAL, objective REAL,"
    " observed_ms INTEGER NOT NULL, reason TEXT, PRIMARY KEY (bid_offer_id, round));"
    "CREATE TABLE IF NOT EXISTS fmar_round_cleared (bid_offer_id TEXT NOT NULL,"
    " round INTEGER NOT NULL, interval INTEGER NOT NULL, cleared_kwh REAL NOT NULL,"
    " price REAL NOT NULL, PRIMARY KEY (bid_offer_id, round, interval));"
    /* Re-clearings due: the bid and when (simulated seconds). */
    "CREATE TABLE IF NOT EXISTS fmar_reclear (bid_offer_id TEXT PRIMARY KEY,"
    " due_s REAL NOT NULL);";

static struct fmar F;

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct fmar_conf *c = conf;
	struct gf_bus *bus = gf_agent_bus(a);
	char err[512] = "", filter[256];
	enum gf_err rc;

	F.a = a;
	gf_agent_set_data(a, &F);
	rc = gf_store_open(c->agent.state_dir, "fmar", fmar_schema, &F.store, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-FMAR-STORE", "%s", err);
		return rc;
	}
	/* Aggregates and bid offers come to the pool (fmar/all) or to this
	 * instance; every other message of the catalogue is ignored. */
	snprintf(filter, sizeof(filter), "gf/%s/+/+/fmar/all/flexoffer", c->agent.site);
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	snprintf(filter, sizeof(filter), "gf/%s/+/+/fmar/%s/flexoffer", c->agent.site,
	         gf_bus_id(bus));
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	snprintf(filter, sizeof(filter), "gf/%s/sp/+/fmar/%s/validation.query.result",
	         c->agent.site, gf_bus_id(bus));
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	/* gf-sp's reference prices, on its public feed. */
	snprintf(filter, sizeof(filter), "gf/%s/sp/+/all/all/price.reference", c->agent.site);
	if ((rc = gf_bus_subscribe(bus, filter)) != GF_OK)
		return rc;
	if ((rc = gf_resend_open(F.store)) != GF_OK ||
	    (rc = gf_store_exec(F.store, fmar_refprice_schema)) != GF_OK ||
	    (rc = gf_store_exec(F.store, fmar_settle_schema)) != GF_OK)
		return rc;
	gf_resend_every(a, F.store, c->resend_s, "GF-FMAR-RESEND");
	if (!c->dso_foa || !*c->dso_foa)
		gf_log_warning("GF-FMAR-CONFIG",
		               "no dso_foa configured: every bid offer is refused");
	/* What the last run committed and did not see acknowledged. */
	fmar_util_outbox_flush(&F);
	if ((rc = fmar_gate_arm_bids(&F)) != GF_OK || (rc = fmar_gate_arm_reclears(&F)) != GF_OK)
		return rc;
	if (c->settle)
		fmar_settle_start(&F);
	gf_log_notice("GF-FMAR-START", "market %s started (gate lead %ld s, MILP up to %ld offers)",
	              gf_bus_ident(bus), c->gate_lead_s, c->milp_max_offers);
	return GF_OK;
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	struct gf_message m;
	char err[512] = "";

	if (gf_message_read(item, &m, err, sizeof(err)) != GF_OK) {
		/* No id to answer to: the broker validates, so this is a payload
		 * of a broker without validation. */
		gf_log_notice("GF-FMAR-UNDECODABLE", "dropped: %s", err);
		return;
	}
	if (m.topic.from_role == GF_ROLE_SP && strcmp(m.msg, "validation.query.result") == 0)
		fmar_settle_result(gf_agent_data(a), &m);
	else if (m.topic.from_role == GF_ROLE_SP && strcmp(m.msg, "price.reference") == 0)
		fmar_refprice_message(gf_agent_data(a), &m);
	else
		fmar_book_message(gf_agent_data(a), &m, item->replayed);
	gf_message_free(&m);
}

static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	struct fmar *f = gf_agent_data(a);

	/* The outbox may hold what a full offline buffer did not take, or
	 * what failed on the way. */
	if (ev->kind == GF_INBOX_CONNECTED)
		gf_resend_connected(a, f->store, "GF-FMAR-RESEND");
	if (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED)
		fmar_util_outbox_flush(f);
}

static bool on_reload(struct gf_agent *a, void *old_conf, void *new_conf)
{
	const struct fmar_conf *o = old_conf, *n = new_conf;

	(void)a;
	if (o->gate_lead_s != n->gate_lead_s)
		gf_log_notice("GF-FMAR-CONFIG",
		              "gate_lead_s %ld applies to bids that arrive from now",
		              n->gate_lead_s);
	return true;
}

static void on_stop(struct gf_agent *a)
{
	struct fmar *f = gf_agent_data(a);

	gf_log_notice("GF-FMAR-STOP",
	              "stopping with %zu bids waiting for their gate or a re-clearing", f->ntimers);
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-fmar",
	    .summary = "the FlexOffer Market: clears DSO bids against FMAN's aggregates",
	    .version = VERSION,
	    .table = table,
	    .conf_size = sizeof(struct fmar_conf),
	    .common_offset = offsetof(struct fmar_conf, agent),
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .reload = on_reload,
	    .stop = on_stop,
	};
	int code = gf_agent_main(&def, argc, argv);

	fmar_gate_disarm_all(&F);
	gf_store_close(F.store);
	return code;
}
