/* SPDX-License-Identifier: MIT */
/*
 * gf-doms - the DOMS adapter (D6.1 3.6, Table 1; docs/doms.md "The agent"):
 * the grid point seen through its meters' data at the Service Platform
 * (meter.subscribe: the grid state of each metered interval, a forecast
 * from that history), the forecast against the grid's limits gives bids for
 * flexibility, sent to the DSO's FOA with the forecast itself, again
 * intraday when the meters show the forecast was wrong; the FOA's
 * offer.feedback is recorded; the DMS configures limits and budget
 * (doms.config).
 *
 * When: at start, the rest of the current day (from the next interval on),
 * plus the next day if the day-ahead issue time (issue_at_s) has passed; then
 * at each day's issue time, the next day. Bid ids are those of
 * lib/engine/congestion.h (<grid>-<first interval>-<length>), so a restart issues
 * the same bids again under the same ids and the FOA takes each once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/message.h"
#include "agent/kpi.h"
#include "engine/congestion.h"
#include "doms.h"
#include "doms.pb-c.h"
#include "bus/ident.h"
#include "base/log.h"
#include "base/hash.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "base/timefmt.h"

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct doms_conf, agent),
    {"dso_foa", GF_CONF_STRING, offsetof(struct doms_conf, dso_foa), NULL, 0, 0, true,
     "id of the DSO's FOA, which gets the bids and the forecast"},
    {"grid_point_id", GF_CONF_STRING, offsetof(struct doms_conf, grid_point_id), "t1", 0, 0, false,
     "the grid point (transformer) watched; names the bids"},
    {"profiles_dir", GF_CONF_STRING, offsetof(struct doms_conf, profiles_dir),
     "../shared/data/ieee-eu-lv/load-profiles", 0, 0, false,
     "directory of Load_profile_<n>.csv (the IEEE feeder's households), summed per interval"},
    {"households", GF_CONF_INT, offsetof(struct doms_conf, households), "55", 1, 100000, false,
     "how many households to sum: household k has profile ((k - 1) mod 55) + 1, as in gf-sim"},
    {"forecast_csv", GF_CONF_STRING, offsetof(struct doms_conf, forecast_csv), NULL, 0, 0, false,
     "a forecast CSV (kWh per interval) used instead of the profiles"},
    {"forecast_from", GF_CONF_STRING, offsetof(struct doms_conf, forecast_from), NULL, 0, 0, false,
     "metered (the meters' history at the SP: needs sp_id, meter_map), profiles or csv; "
     "default: metered with sp_id, csv with forecast_csv, else profiles"},
    {"sp_id", GF_CONF_STRING, offsetof(struct doms_conf, sp_id), NULL, 0, 0, false,
     "id of the Service Platform whose metering the DOMS subscribes to"},
    {"meter_map", GF_CONF_STRING, offsetof(struct doms_conf, meter_map), NULL, 0, 0, false,
     "CSV load,pseudonym: the feeder's load (Loads.csv name) of each meter (required with "
     "sp_id)"},
    {"network_dir", GF_CONF_STRING, offsetof(struct doms_conf, network_dir), NULL, 0, 0, false,
     "the feeder model (IEEE EU LV network CSVs) for the power flow; absent: the transformer's "
     "energy only"},
    {"history_days", GF_CONF_INT, offsetof(struct doms_conf, history_days), "7", 1, 60, false,
     "days of metered history the forecast averages, per interval of the day"},
    {"dms_id", GF_CONF_STRING, offsetof(struct doms_conf, dms_id), NULL, 0, 0, false,
     "the only DMS whose doms.config is taken; absent: any of the site's"},
    {"transformer_limit_kw", GF_CONF_DOUBLE, offsetof(struct doms_conf, transformer_limit_kw), NULL,
     0, 1000000000, true, "the transformer's limit, kW (kWh per interval = kW / 4)"},
    {"margin_kwh", GF_CONF_DOUBLE, offsetof(struct doms_conf, margin_kwh), "0", 0, 1000000000,
     false, "kWh added to each interval's excess"},
    {"price_eur_kwh", GF_CONF_DOUBLE, offsetof(struct doms_conf, price_eur_kwh), "0.2", 0, 1000000,
     false, "price offered for the adapted energy, EUR/kWh"},
    {"price_max_eur_kwh", GF_CONF_DOUBLE, offsetof(struct doms_conf, price_max_eur_kwh), NULL, 0,
     1000000, false,
     "price for a request of the whole limit or more, EUR/kWh (prices rise linearly from "
     "price_eur_kwh); absent: price_eur_kwh for all"},
    {"daily_budget_eur", GF_CONF_DOUBLE, offsetof(struct doms_conf, daily_budget_eur), "0", 0,
     1000000000, false, "most EUR the bids of one UTC day may cost; 0: no budget"},
    {"v_min_pu", GF_CONF_DOUBLE, offsetof(struct doms_conf, v_min_pu), "0.94", 0, 2, false,
     "lowest voltage at a load, per unit, from the power flow"},
    {"v_max_pu", GF_CONF_DOUBLE, offsetof(struct doms_conf, v_max_pu), "1.10", 0, 2, false,
     "highest voltage at a load, per unit"},
    {"line_max_pct", GF_CONF_DOUBLE, offsetof(struct doms_conf, line_max_pct), "100", 1, 1000,
     false, "highest line current, percent of its line code's ampacity"},
    {"rebid_window", GF_CONF_INT, offsetof(struct doms_conf, rebid_window), "4", 0, 96, false,
     "metered intervals compared with the forecast for the intraday re-bid; 0: no re-bid"},
    {"rebid_threshold", GF_CONF_DOUBLE, offsetof(struct doms_conf, rebid_threshold), "0.1", 0, 10,
     false, "relative error of the forecast over rebid_window that triggers a re-bid"},
    {"rebid_lead", GF_CONF_INT, offsetof(struct doms_conf, rebid_lead), "4", 1, 96, false,
     "a re-bid's bids start this many intervals after the last metered one"},
    {"max_bid_len", GF_CONF_INT, offsetof(struct doms_conf, max_bid_len), "0", 0, 96 * 366, false,
     "most intervals per bid (longer runs are cut); 0: no limit"},
    {"bid_headroom", GF_CONF_BOOL, offsetof(struct doms_conf, bid_headroom), "off", 0, 0, false,
     "on: the day-ahead bid runs from the first congested interval to 12 h past the "
     "window and gives the headroom (limit - forecast) of every interval it asks nothing "
     "in, so that load moved out of the congested intervals lands where the grid takes "
     "it; off: one bid per congested run"},
    {"issue_at_s", GF_CONF_INT, offsetof(struct doms_conf, issue_at_s), "43200", 0, 86399, false,
     "simulated second of the UTC day at which the next day's bids are issued"},
    {"resend_s", GF_CONF_INT, offsetof(struct doms_conf, resend_s), "10", 0, 86400, false,
     "send bids without offer.feedback again every this many real seconds (and at every "
     "reconnect); 0: never"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

#define DOMS_SCHEMA                                                                                \
	"CREATE TABLE IF NOT EXISTS doms_bid (bid_id TEXT PRIMARY KEY, start INTEGER NOT NULL,"    \
	" intervals INTEGER NOT NULL, kwh REAL NOT NULL, issued REAL NOT NULL);"                   \
	"CREATE TABLE IF NOT EXISTS doms_feedback (bid_id TEXT NOT NULL, state TEXT NOT NULL,"     \
	" flexoffer_id TEXT, reason TEXT, start_time TEXT, intervals INTEGER NOT NULL,"            \
	" cleared_kwh REAL NOT NULL, cost_eur REAL NOT NULL, received REAL NOT NULL,"              \
	" PRIMARY KEY (bid_id, state));"                                                           \
	"CREATE TABLE IF NOT EXISTS doms_bid_interval (bid_id TEXT NOT NULL, interval INTEGER"     \
	" NOT NULL, kwh REAL NOT NULL, price REAL NOT NULL, PRIMARY KEY (bid_id, interval));"      \
	"CREATE INDEX IF NOT EXISTS doms_bid_interval_i ON doms_bid_interval (interval);"          \
	"CREATE TABLE IF NOT EXISTS doms_forecast (grid TEXT NOT NULL, interval INTEGER NOT NULL," \
	" kwh REAL NOT NULL, issued_at INTEGER NOT NULL, revised_kwh REAL NOT NULL, revised_at"    \
	" INTEGER NOT NULL, PRIMARY KEY (grid, interval));"                                        \
	"CREATE TABLE IF NOT EXISTS doms_meter (meter TEXT NOT NULL, interval INTEGER NOT NULL,"   \
	" kwh REAL NOT NULL, PRIMARY KEY (meter, interval)) WITHOUT ROWID;"                        \
	"CREATE INDEX IF NOT EXISTS doms_meter_i ON doms_meter (interval);"                        \
	"CREATE TABLE IF NOT EXISTS doms_metered (grid TEXT NOT NULL, interval INTEGER NOT NULL,"  \
	" kwh REAL NOT NULL, meters INTEGER NOT NULL, PRIMARY KEY (grid, interval));"              \
	"CREATE TABLE IF NOT EXISTS doms_state (grid TEXT NOT NULL, interval INTEGER NOT NULL,"    \
	" kw REAL NOT NULL, kva_pct REAL, v_min_pu REAL, v_min_bus TEXT, v_max_pu REAL,"           \
	" line_pct REAL, line TEXT, PRIMARY KEY (grid, interval));"                                \
	"CREATE TABLE IF NOT EXISTS doms_param (name TEXT PRIMARY KEY, value REAL NOT NULL);"

static struct doms D;

static void issue_day_ahead(struct gf_agent *a, void *arg);

static void arm(struct doms *d)
{
	gf_agent_timer_at(d->a, (double)(d->next_issue * GF_TIME_INTERVAL_S), issue_day_ahead,
	                  NULL);
}

/* The daily timer: the day after the one of the issue time. */
static void issue_day_ahead(struct gf_agent *a, void *arg)
{
	struct doms *d = gf_agent_data(a);
	int64_t day = d->next_issue - d->next_issue % GF_LOADPROFILE_INTERVALS;

	(void)arg;
	doms_forecast_issue(d, day + GF_LOADPROFILE_INTERVALS, day + 2 * GF_LOADPROFILE_INTERVALS,
	                    NULL);
	d->next_issue += GF_LOADPROFILE_INTERVALS;
	arm(d);
}

/* FNV-1a 64 over an Assigned feedback's series: FMAR's re-clearings update
 * a bid's result (docs/fmar.md), each a new Assigned with the cumulative
 * change, so the key of an Assigned is bidId + state + this. */
static uint64_t series_hash(const Goflex__OfferFeedback *fb)
{
	uint64_t h =
	    gf_fnv1a64(GF_FNV1A64_BASIS, fb->schedulechange, fb->n_schedulechange * sizeof(double));

	return gf_fnv1a64(h, fb->energyprice, fb->n_energyprice * sizeof(double));
}

/* One offer.feedback, for gf_store_once. */
struct feedback {
	struct doms *d;
	const struct gf_message *m;
	const Goflex__OfferFeedback *fb;
	const char *state;
	double kwh, cost;
	bool dup;
};

/* The bid's resends follow its latest feedback, duplicate or not: a resent
 * bid brings the FOA's latest feedback again, so a lost Assigned after an
 * Accepted is repaired. Rejected, Invalid... answer the bid: it is no
 * longer sent again. An Assigned can still be updated until the bid's
 * intervals have begun (FMAR's re-clearing, docs/fmar.md), and an update
 * can be lost with the broker: the bid is sent until its end, and each
 * copy brings the latest result (a duplicate of one recorded is dropped). */
static enum gf_err feedback_resends(struct feedback *c)
{
	const Goflex__OfferFeedback *fb = c->fb;
	char key[256];
	int64_t ms = 0;

	snprintf(key, sizeof(key), "bid:%s", fb->bidid);
	if (fb->state == GOFLEX__FLEX_OFFER_STATE__Assigned) {
		if (fb->starttime &&
		    gf_time_parse(fb->starttime, strlen(fb->starttime), &ms) == GF_OK)
			return gf_resend_until(c->d->store, key,
			                       (double)ms / 1000 + (double)fb->n_schedulechange *
			                                               (double)GF_TIME_INTERVAL_S);
		return gf_resend_answered(c->d->store, key, NULL, NULL);
	}
	if (fb->state != GOFLEX__FLEX_OFFER_STATE__Accepted &&
	    fb->state != GOFLEX__FLEX_OFFER_STATE__Offered)
		return gf_resend_answered(c->d->store, key, NULL, NULL);
	return GF_OK;
}

static enum gf_err feedback_again(void *arg)
{
	struct feedback *c = arg;

	c->dup = true;
	return feedback_resends(c);
}

static enum gf_err feedback_record(void *arg)
{
	struct feedback *c = arg;
	const Goflex__OfferFeedback *fb = c->fb;
	enum gf_err rc = feedback_resends(c);

	if (rc != GF_OK)
		return rc;
	for (size_t k = 0; k < fb->n_schedulechange; k++) {
		c->kwh += fb->schedulechange[k];
		c->cost += fb->schedulechange[k] * (k < fb->n_energyprice ? fb->energyprice[k] : 0);
	}
	return gf_store_run(c->d->store,
	                    "INSERT OR REPLACE INTO doms_feedback (bid_id, state, flexoffer_id,"
	                    " reason, start_time, intervals, cleared_kwh, cost_eur, received)"
	                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	                    "tttttiddd", fb->bidid, c->state, fb->flexofferid, fb->statereason,
	                    fb->starttime, (int64_t)fb->n_schedulechange, c->kwh, c->cost,
	                    gf_agent_now(c->d->a));
}

static void record_feedback(struct doms *d, const struct gf_message *m)
{
	const Goflex__OfferFeedback *fb = (const Goflex__OfferFeedback *)m->body;
	const ProtobufCEnumValue *v =
	    protobuf_c_enum_descriptor_get_value(&goflex__flex_offer_state__descriptor, fb->state);
	struct feedback c = {.d = d, .m = m, .fb = fb, .state = v ? v->name : "?"};
	char key[256];

	/* Key: bidId + state (docs/trading.md). */
	snprintf(key, sizeof(key), "fb:%s:%s", fb->bidid, c.state);
	if (fb->state == GOFLEX__FLEX_OFFER_STATE__Assigned)
		snprintf(key + strlen(key), sizeof(key) - strlen(key), ":%016llx",
		         (unsigned long long)series_hash(fb));
	if (gf_store_once(d->a, d->store, key, feedback_record, feedback_again, &c) != GF_OK)
		return;
	if (c.dup) {
		gf_log_info("GF-DOMS-DUP", "offer.feedback %s of bid %s already recorded", c.state,
		            fb->bidid);
		return;
	}
	/* The DOMS's own bid coming back: ids, state and totals only. */
	gf_kpi_count(d->a, "doms.feedback_kwh", c.kwh, "kWh");
	gf_kpi_count(d->a, "doms.feedback_eur", c.cost, "EUR");
	gf_log_notice("GF-DOMS-FEEDBACK", "bid %s: %s by foa.%s, %.3f kWh for %.2f EUR%s%s",
	              fb->bidid, c.state, m->from_id, c.kwh, c.cost, fb->statereason ? ": " : "",
	              fb->statereason ? fb->statereason : "");
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	struct doms *d = gf_agent_data(a);
	struct gf_message m;
	char err[512];

	if (gf_message_read(item, &m, err, sizeof(err)) != GF_OK) {
		gf_log_warning("GF-DOMS-UNREADABLE", "dropped a message: %s", err);
		return;
	}
	if (strcmp(m.msg, "offer.feedback") == 0)
		record_feedback(d, &m);
	else if (strcmp(m.msg, "meter.data") == 0) {
		doms_meter_take(d, item, &m);
		doms_grid_catch_up(d);
		gf_store_outbox_flush(d->store, gf_agent_bus(a));
		doms_forecast_check(d);
	} else if (strcmp(m.msg, "doms.config") == 0)
		doms_config_take(d, item, &m);
	else
		gf_log_info("GF-DOMS-IGNORED", "%s from %s.%s: not handled", m.msg,
		            gf_role_name(m.topic.from_role), m.from_id);
	gf_message_free(&m);
}

static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	struct doms *d = gf_agent_data(a);

	if (ev->kind == GF_INBOX_CONNECTED)
		gf_resend_connected(a, d->store, "GF-DOMS-RESEND");
	/* Once the bus has subscribed to the SP's answers (at the connect,
	 * before anything published after it): the first meter.data cannot
	 * come before the broker routes it here. */
	if (ev->kind == GF_INBOX_CONNECTED && d->conf->sp_id)
		doms_meter_subscribe(d);
	if (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED)
		gf_store_outbox_flush(d->store, gf_agent_bus(a));
}

/* The forecast's source: forecast_from, else what the keys given imply. */
static enum gf_err source(struct doms_conf *c, enum doms_source *out, char *err, size_t errlen)
{
	const char *f = c->forecast_from  ? c->forecast_from
	                : c->sp_id        ? "metered"
	                : c->forecast_csv ? "csv"
	                                  : "profiles";

	if (strcmp(f, "metered") == 0)
		*out = DOMS_FROM_METERED;
	else if (strcmp(f, "csv") == 0)
		*out = DOMS_FROM_CSV;
	else if (strcmp(f, "profiles") == 0)
		*out = DOMS_FROM_PROFILES;
	else
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "forecast_from %s: one of metered, profiles, csv", f);
	if (*out == DOMS_FROM_CSV && !c->forecast_csv)
		return gf_err_set(err, errlen, GF_EINVAL, "forecast_from csv needs forecast_csv");
	if ((*out == DOMS_FROM_METERED || c->meter_map || c->sp_id) && (!c->sp_id || !c->meter_map))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "metered data needs both sp_id and meter_map");
	if (!(c->v_min_pu >= 0.5 && c->v_min_pu < c->v_max_pu && c->v_max_pu <= 1.5))
		return gf_err_set(
		    err, errlen, GF_EINVAL,
		    "v_min_pu %.3f, v_max_pu %.3f: need 0.5 <= v_min_pu < v_max_pu <= 1.5",
		    c->v_min_pu, c->v_max_pu);
	if (c->price_max_eur_kwh > 0 && c->price_max_eur_kwh < c->price_eur_kwh)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "price_max_eur_kwh %.4f is below price_eur_kwh %.4f",
		                  c->price_max_eur_kwh, c->price_eur_kwh);
	if (c->network_dir && !c->meter_map)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "network_dir needs meter_map (which meter is which load)");
	return GF_OK;
}

static enum gf_err check(void *conf, char *err, size_t errlen)
{
	enum doms_source src;

	return source(conf, &src, err, errlen);
}

static enum gf_err subscribe(struct gf_agent *a, const char *from_role, const char *from_id)
{
	const struct doms_conf *c = D.conf;
	char filter[512];

	snprintf(filter, sizeof(filter), "gf/%s/%s/%s/doms/%s/#", c->agent.site, from_role, from_id,
	         gf_bus_id(gf_agent_bus(a)));
	return gf_bus_subscribe(gf_agent_bus(a), filter);
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct doms_conf *c = conf;
	int64_t now, day, issue;
	char err[512];
	enum gf_err rc;

	D.a = a;
	D.conf = c;
	D.price = c->price_eur_kwh;
	D.price_max = c->price_max_eur_kwh > 0 ? c->price_max_eur_kwh : c->price_eur_kwh;
	D.budget = c->daily_budget_eur;
	D.margin_kwh = c->margin_kwh;
	D.limit_kwh = gf_congestion_kwh(c->transformer_limit_kw);
	D.v_min_pu = c->v_min_pu;
	D.v_max_pu = c->v_max_pu;
	D.line_max_pct = c->line_max_pct;
	if ((rc = source(c, &D.source, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-DOMS-CONFIG", "%s", err);
		return rc;
	}
	if ((rc = doms_forecast_load(&D)) != GF_OK)
		return rc;
	if (c->meter_map && (rc = doms_meter_load(&D)) != GF_OK)
		return rc;
	if (c->network_dir && (rc = doms_flow_load(&D)) != GF_OK)
		return rc;
	rc = gf_store_open(c->agent.state_dir, "doms", DOMS_SCHEMA, &D.store, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-DOMS-STORE", "%s", err);
		return rc;
	}
	gf_agent_set_data(a, &D);
	if ((rc = gf_resend_open(D.store)) != GF_OK || (rc = doms_config_restore(&D)) != GF_OK)
		return rc;
	gf_resend_every(a, D.store, c->resend_s, "GF-DOMS-RESEND");
	if ((rc = subscribe(a, "foa", "+")) != GF_OK || (rc = subscribe(a, "dms", "+")) != GF_OK ||
	    (c->sp_id && (rc = subscribe(a, "sp", c->sp_id)) != GF_OK))
		return rc;
	gf_store_outbox_flush(D.store, gf_agent_bus(a));
	now = gf_time_interval((int64_t)(gf_agent_now(a) * 1000.0));
	day = now - now % GF_LOADPROFILE_INTERVALS;
	issue = day + c->issue_at_s / GF_TIME_INTERVAL_S;
	D.checked = doms_meter_latest(&D);
	if ((rc = doms_grid_catch_up(&D)) != GF_OK)
		return rc;
	gf_log_notice("GF-DOMS-START",
	              "doms.%s: grid point %s, limit %.3f kWh per interval, forecast from %s%s%s, "
	              "bids to foa.%s",
	              gf_bus_id(gf_agent_bus(a)), c->grid_point_id, D.limit_kwh,
	              D.source == DOMS_FROM_METERED ? "the meters at sp."
	              : D.source == DOMS_FROM_CSV   ? "the CSV "
	                                            : "the profiles in ",
	              D.source == DOMS_FROM_METERED ? c->sp_id
	              : D.source == DOMS_FROM_CSV   ? c->forecast_csv
	                                            : c->profiles_dir,
	              D.grid ? ", power flow of network_dir" : "", c->dso_foa);
	/* The rest of today (bids start in the future), and tomorrow if its
	 * issue time has passed. */
	doms_forecast_issue(&D, now + 1, day + (now >= issue ? 2 : 1) * GF_LOADPROFILE_INTERVALS,
	                    NULL);
	D.next_issue = now >= issue ? issue + GF_LOADPROFILE_INTERVALS : issue;
	arm(&D);
	return GF_OK;
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-doms",
	    .summary = "the DOMS adapter: bids for flexibility where a grid point's load forecast "
	               "exceeds its transformer's limit",
	    .version = "0.1",
	    .table = table,
	    .conf_size = sizeof(struct doms_conf),
	    .common_offset = offsetof(struct doms_conf, agent),
	    .check = check,
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	};
	int code = gf_agent_main(&def, argc, argv);

	gf_store_close(D.store);
	gf_forecast_free(&D.csv);
	doms_flow_free(&D);
	free(D.meters);
	return code;
}
