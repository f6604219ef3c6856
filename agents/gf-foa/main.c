/* SPDX-License-Identifier: MIT */
/*
 * gf-foa - the FlexOffer Agent (D6.1 3.4, 3.6, 7.2; issue 5 item 2; docs/foa.md).
 *
 * One process per prosumer, in one of two modes:
 *   xems  serves one xEMS: xems.flexibility -> flexoffer to FMAN,
 *         flexoffer.ack/.assign from FMAN -> foa.reply (FlexibilityReject,
 *         DemandSchedule) to the xEMS, xems.cancel -> Canceled flexoffer,
 *         xems.operation -> meter.reading; one foa.reply per xEMS request;
 *   dso   the FOA attached to a DOMS: bid -> bid offer to FMAR,
 *         flexoffer.ack/.assign from FMAR -> offer.feedback to the DOMS.
 * State (offers, schedule ids, handled keys, outbox) is in SQLite; every
 * message is handled in one transaction (docs/trading.md, "Crash safety").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "payload/codec.h"
#include "foa.h"
#include "bus/ident.h"
#include "base/log.h"
#include "base/hash.h"
#include "agent/fleet.h"
#include "agent/once.h"
#include "agent/resend.h"
#include "base/timefmt.h"

/* Handles m in one transaction keyed by key (NULL: no key): a key already
 * handled skips it (GF-FOA-DUP). hold: this is an assignment (test aid). */
static void in_txn(struct foa *f, const char *key, foa_handler fn, const struct gf_message *m,
                   bool hold);

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct foa_conf, agent),
    {"mode", GF_CONF_STRING, offsetof(struct foa_conf, mode), "xems", 0, 0, false,
     "xems (serve an xEMS), dso (turn a DOMS's bids into bid offers) or plug (control a "
     "device through a smart plug)"},
    {"xems_id", GF_CONF_STRING, offsetof(struct foa_conf, xems_id), NULL, 0, 0, false,
     "xems mode: the id of the xEMS served (default: the FOA's own id)"},
    {"fman_id", GF_CONF_STRING, offsetof(struct foa_conf, fman_id), "all", 0, 0, false,
     "FMAN instance the offers go to, or all (the pool)"},
    {"fmar_id", GF_CONF_STRING, offsetof(struct foa_conf, fmar_id), "all", 0, 0, false,
     "dso mode: FMAR instance the bid offers go to, or all (the pool)"},
    {"doms_id", GF_CONF_STRING, offsetof(struct foa_conf, doms_id), "+", 0, 0, false,
     "dso mode: the DOMS whose bids are taken, or + for any"},
    {"meter_device_id", GF_CONF_STRING, offsetof(struct foa_conf, meter_device_id), NULL, 0, 0,
     false, "deviceId of the readings forwarded to FMAN (default: the xEMS id)"},
    {"hold_at", GF_CONF_STRING, offsetof(struct foa_conf, hold_at), "none", 0, 0, false,
     "test aid: none, before (handling) or after (commit, before sending) each assignment"},
    {"hold_ms", GF_CONF_INT, offsetof(struct foa_conf, hold_ms), "0", 0, 600000, false,
     "test aid: real milliseconds to wait at hold_at (logged GF-FOA-HOLD)"},
    {"resend_s", GF_CONF_INT, offsetof(struct foa_conf, resend_s), "10", 0, 86400, false,
     "send offers the market has not acked again every this many real seconds (and at "
     "every reconnect); 0: never"},
    {"foas", GF_CONF_INT, offsetof(struct foa_conf, foas), "0", 0, 100000, false,
     "xems mode: how many virtual FOAs this process hosts, each its own identity foa.<id> "
     "serving xems.<id>; 0: only the process's own identity"},
    {"first_id", GF_CONF_INT, offsetof(struct foa_conf, first_id), "1", 1, 99999999, false,
     "number of the first virtual FOA"},
    {"id_prefix", GF_CONF_STRING, offsetof(struct foa_conf, id_prefix), "sim-", 0, 0, false,
     "virtual FOA ids are id_prefix + the number with id_digits digits (as gf-sim's)"},
    {"id_digits", GF_CONF_INT, offsetof(struct foa_conf, id_digits), "4", 1, 12, false,
     "digits of the number in an id (zero-padded)"},
    {"cert_dir", GF_CONF_STRING, offsetof(struct foa_conf, cert_dir), NULL, 0, 0, false,
     "TLS: directory of the virtual FOAs' foa.<id>.crt and .key (with cafile)"},
    {"cache_kib", GF_CONF_INT, offsetof(struct foa_conf, cache_kib), "24", 4, 4096, false,
     "KiB of SQLite page cache each virtual FOA keeps between messages (docs/foa.md, "
     "\"Memory\": 16 reads 5 pages from its files per assignment, for 9 kB less per FOA)"},
    FOA_PLUG_CONF_ITEMS(struct foa_conf, plug),
    {"tariff_grid_point", GF_CONF_STRING, offsetof(struct foa_conf, tariff_grid_point), NULL, 0, 0,
     false,
     "xems and plug modes: the prosumer's grid point, named on its offers (FMAN adds its "
     "capacity price there); its transfer cost from gf-sp is added to the offers' tariffs "
     "(docs/foa.md, \"Network tariffs\"); unset: offers as the xEMS or device made them"},
    {"transfer_cost", GF_CONF_BOOL, offsetof(struct foa_conf, transfer_cost), "on", 0, 0, false,
     "with tariff_grid_point: add gf-sp's transfercost of the grid point"},
    {"tariff_base_min", GF_CONF_DOUBLE, offsetof(struct foa_conf, tariff_base_min), "0", -1000,
     1000, false,
     "EUR/kWh: the base minTariff of a slice whose offer carries no tariff (network tariffs "
     "only)"},
    {"tariff_base_max", GF_CONF_DOUBLE, offsetof(struct foa_conf, tariff_base_max), "0", -1000,
     1000, false, "EUR/kWh: the base maxTariff of such a slice"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

/* The process's own identity as a FOA (foas 0), or its virtual FOAs. */
static struct foa F;
static struct foa *V;
static size_t NV;

static void hold(struct foa *f, const char *where, const char *id)
{
	struct timespec ts = {f->conf->hold_ms / 1000, (f->conf->hold_ms % 1000) * 1000000L};

	if (!f->conf->hold_ms || strcmp(f->conf->hold_at, where) != 0)
		return;
	gf_log_notice("GF-FOA-HOLD", "holding the assignment of %s %s for %ld ms", id, where,
	              f->conf->hold_ms);
	nanosleep(&ts, NULL);
}

static void flush(struct foa *f)
{
	size_t n = gf_store_outbox_flush(f->store, f->bus);

	if (n)
		gf_log_debug("GF-FOA-SENT", "%zu message(s) handed to the bus", n);
}

/* One message, for gf_store_once. */
struct txn {
	struct foa *f;
	foa_handler fn;
	const struct gf_message *m;
	const char *key;
	bool dup, again;
};

static enum gf_err txn_take(void *arg)
{
	struct txn *t = arg;

	return t->fn(t->f, t->m);
}

/* A resend whose answer was lost (an assignment's echo, a bid's
 * feedback): the answer again, if it had one. */
static enum gf_err txn_again(void *arg)
{
	struct txn *t = arg;

	t->dup = true;
	return gf_resend_reply_again(t->f->store, t->key, &t->again);
}

static void in_txn(struct foa *f, const char *key, foa_handler fn, const struct gf_message *m,
                   bool is_assign)
{
	struct txn t = {.f = f, .fn = fn, .m = m, .key = key};

	if (is_assign)
		hold(f, "before", key);
	/* A failure of the store (or the encoder) stops the FOA, leaving the
	 * message in the durable inbox for the next start (bad input is
	 * answered, never an error here). */
	if (gf_store_once(f->a, f->store, key, txn_take, txn_again, &t) != GF_OK)
		return;
	if (t.dup) {
		gf_log_info("GF-FOA-DUP", "%s from %s.%s already handled (%s)%s", m->msg,
		            gf_role_name(m->topic.from_role), m->from_id, key,
		            t.again ? ": answered again" : "");
		if (t.again)
			flush(f);
		return;
	}
	if (is_assign)
		hold(f, "after", key);
	flush(f);
}

/* The idempotency keys of docs/trading.md, per message. */
static void on_flexibility(struct foa *f, const struct gf_message *m)
{
	const Goflex__FlexibilityData *fd = (const Goflex__FlexibilityData *)m->body;
	char key[512], *json = NULL;
	size_t len = 0;

	/* label + creationInterval name the request; the content's hash makes
	 * a changed offer of the same name (an update) a new request. */
	if (gf_codec_to_json(&fd->flexoffer->base, &json, &len) != GF_OK) {
		gf_log_err("GF-FOA-FAILED", "cannot encode an offer of %s", m->from_id);
		return;
	}
	snprintf(key, sizeof(key), "flex:%s:%s:%lld:%016llx", m->from_id,
	         fd->flexoffer->label ? fd->flexoffer->label : "",
	         (long long)fd->flexoffer->creationinterval,
	         (unsigned long long)gf_fnv1a64(GF_FNV1A64_BASIS, json, len));
	free(json);
	in_txn(f, key, foa_xems_flexibility, m, false);
}

static void on_cancel(struct foa *f, const struct gf_message *m)
{
	const Goflex__DemandCancelation *c = (const Goflex__DemandCancelation *)m->body;
	char key[512];

	snprintf(key, sizeof(key), "cancel:%s:%s:%lld", m->from_id,
	         c->flexofferid ? c->flexofferid : "",
	         c->has_scheduleid ? (long long)c->scheduleid : -1LL);
	in_txn(f, key, foa_xems_cancel, m, false);
}

static void on_operation(struct foa *f, const struct gf_message *m)
{
	const Goflex__OperationData *op = (const Goflex__OperationData *)m->body;
	char key[512];

	snprintf(key, sizeof(key), "op:%s:%s", m->from_id, op->starttime ? op->starttime : "");
	in_txn(f, op->starttime ? key : NULL, foa_xems_operation, m, false);
}

static enum gf_err ack_answers(void *arg)
{
	struct txn *t = arg;

	return foa_answers_offer_answered(t->f, (const Goflex__FlexOfferAck *)t->m->body);
}

static void on_ack(struct foa *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAck *ack = (const Goflex__FlexOfferAck *)m->body;
	char key[512];

	/* Its own transaction: a repeated ack (of an update, say) is a
	 * duplicate for the offer's state but still answers the resends. */
	if (gf_store_once(f->a, f->store, NULL, ack_answers, NULL, &(struct txn){.f = f, .m = m}) !=
	    GF_OK)
		return;
	if (ack->has_state && ack->state == GOFLEX__FLEX_OFFER_STATE__Executed) {
		/* The report that the offer was executed: once per offer. */
		snprintf(key, sizeof(key), "exec:%s", ack->flexofferid);
		in_txn(f, key, foa_xems_market_executed, m, false);
		return;
	}
	snprintf(key, sizeof(key), "ack:%s:%d", ack->flexofferid, ack->accepted ? 1 : 0);
	in_txn(f, key, foa_xems_market_ack, m, false);
}

static void on_assign(struct foa *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)m->body;
	char key[512];

	foa_answers_assign_key(key, sizeof(key), as);
	in_txn(f, key, foa_xems_market_assign, m, true);
}

static void on_bid(struct foa *f, const struct gf_message *m)
{
	const Goflex__Bid *bid = (const Goflex__Bid *)m->body;
	char key[512];

	snprintf(key, sizeof(key), "bid:%s", bid->bidid);
	in_txn(f, key, foa_dso_bid, m, false);
}

/* gf-sp's transfer cost: keyed by its content, so a copy again (a
 * resend, a replay) is stored once. */
static void on_transfercost(struct foa *f, const struct gf_message *m)
{
	char key[128], *json = NULL;
	size_t len = 0;

	if (gf_codec_to_json(m->body, &json, &len) != GF_OK) {
		gf_log_err("GF-FOA-FAILED", "cannot encode a %s of sp.%s", m->msg, m->from_id);
		return;
	}
	snprintf(key, sizeof(key), "net:%s:%.40s:%016llx", m->from_id, m->msg,
	         (unsigned long long)gf_fnv1a64(GF_FNV1A64_BASIS, json, len));
	free(json);
	in_txn(f, key, foa_tariff_transfercost, m, false);
}

static const struct {
	enum foa_mode mode;
	const char *from_role, *msg;
	void (*fn)(struct foa *f, const struct gf_message *m);
} routes[] = {
    {FOA_MODE_XEMS, "xems", "xems.flexibility", on_flexibility},
    {FOA_MODE_XEMS, "xems", "xems.cancel", on_cancel},
    {FOA_MODE_XEMS, "xems", "xems.operation", on_operation},
    {FOA_MODE_XEMS, "fman", "flexoffer.ack", on_ack},
    {FOA_MODE_XEMS, "fman", "flexoffer.assign", on_assign},
    {FOA_MODE_DSO, "doms", "bid", on_bid},
    {FOA_MODE_DSO, "fmar", "flexoffer.ack", on_ack},
    {FOA_MODE_DSO, "fmar", "flexoffer.assign", on_assign},
    {FOA_MODE_PLUG, "fman", "flexoffer.ack", on_ack},
    {FOA_MODE_PLUG, "fman", "flexoffer.assign", on_assign},
    {FOA_MODE_XEMS, "sp", "transfercost", on_transfercost},
    {FOA_MODE_PLUG, "sp", "transfercost", on_transfercost},
};

/* The FOA whose connection the callback's item came from; NULL for the
 * process's own connection when it is not a FOA (virtual FOAs only). */
static struct foa *current(struct gf_agent *a)
{
	struct foa *f = gf_agent_current_ctx(a);

	if (f)
		return f;
	if (F.store)
		return &F;
	for (size_t i = 0; i < NV; i++)
		if (V[i].bus == gf_agent_current_bus(a))
			return &V[i];
	return NULL;
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	struct foa *f = current(a);
	struct gf_message m;
	char err[512];

	if (!f) {
		gf_log_info("GF-FOA-IGNORED", "a message to %s, which hosts virtual FOAs only",
		            gf_bus_ident(gf_agent_current_bus(a)));
		return;
	}
	if (gf_message_read(item, &m, err, sizeof(err)) != GF_OK) {
		gf_log_warning("GF-FOA-UNREADABLE", "dropped a message: %s", err);
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (routes[i].mode == f->mode &&
		    strcmp(gf_role_name(m.topic.from_role), routes[i].from_role) == 0 &&
		    strcmp(m.msg, routes[i].msg) == 0) {
			gf_log_debug("GF-FOA-MESSAGE", "%s from %s.%s%s", m.msg,
			             routes[i].from_role, m.from_id,
			             item->replayed ? " (replayed)" : "");
			routes[i].fn(f, &m);
			gf_message_free(&m);
			return;
		}
	}
	/* grid.forecast and grid.state from the DOMS: nothing to do with them
	 * yet; their payloads are private, so only their kind is logged. */
	gf_log_info("GF-FOA-IGNORED", "%s from %s.%s: not handled in %s mode", m.msg,
	            gf_role_name(m.topic.from_role), m.from_id, f->conf->mode);
	gf_message_free(&m);
}

static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	struct foa *f = current(a);

	if (!f)
		return;
	/* What an earlier flush left (a full buffer) goes out when the
	 * connection is back or the buffer drains. */
	if (ev->kind == GF_INBOX_CONNECTED)
		gf_resend_connected(a, f->store, "GF-FOA-RESEND");
	if (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED)
		flush(f);
}

static enum gf_err subscribe(struct foa *f)
{
	const struct foa_conf *c = f->conf;
	const char *site = gf_bus_site(f->bus);
	char filter[512];
	enum gf_err rc = GF_OK;

	if (f->mode == FOA_MODE_XEMS) {
		snprintf(filter, sizeof(filter), "gf/%s/xems/%s/foa/%s/#", site,
		         c->xems_id ? c->xems_id : f->id, f->id);
		rc = gf_bus_subscribe(f->bus, filter);
		snprintf(filter, sizeof(filter), "gf/%s/fman/%s/foa/%s/#", site,
		         strcmp(c->fman_id, "all") == 0 ? "+" : c->fman_id, f->id);
	} else if (f->mode == FOA_MODE_PLUG) {
		snprintf(filter, sizeof(filter), "gf/%s/fman/%s/foa/%s/#", site,
		         strcmp(c->fman_id, "all") == 0 ? "+" : c->fman_id, f->id);
	} else {
		snprintf(filter, sizeof(filter), "gf/%s/doms/%s/foa/%s/#", site, c->doms_id, f->id);
		rc = gf_bus_subscribe(f->bus, filter);
		snprintf(filter, sizeof(filter), "gf/%s/fmar/%s/foa/%s/#", site,
		         strcmp(c->fmar_id, "all") == 0 ? "+" : c->fmar_id, f->id);
	}
	if (rc == GF_OK)
		rc = gf_bus_subscribe(f->bus, filter);
	/* Network tariffs: the transfer cost on gf-sp's public feed. */
	if (rc == GF_OK && f->mode != FOA_MODE_DSO && foa_tariff_on(f) && c->transfer_cost) {
		snprintf(filter, sizeof(filter), "gf/%s/sp/+/all/all/transfercost", site);
		rc = gf_bus_subscribe(f->bus, filter);
	}
	return rc;
}

/* Opens f's store in dir (as state_dir/foa.db, bound to f's bus),
 * subscribes, sends what a crash left and arms its resends. */
static enum gf_err foa_open(struct foa *f, const char *dir, bool small)
{
	char err[512];
	enum gf_err rc;

	/* Thousands of stores in one process: each small (small pages, a small
	 * page cache: cache_kib; SQLite's default is 2 MiB: docs/foa.md). */
	rc = small ? gf_store_open_small(dir, "foa", foa_state_schema, (int)f->conf->cache_kib,
	                                 &f->store, err, sizeof(err))
	           : gf_store_open(dir, "foa", foa_state_schema, &f->store, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-FOA-STORE", "%s", err);
		return rc;
	}
	gf_store_bind(f->store, f->bus);
	rc = gf_resend_open(f->store);
	if (rc == GF_OK)
		rc = gf_store_exec(f->store, foa_tariff_schema);
	/* A virtual FOA's first assignment would prepare what it first
	 * runs: done here, before the burst of a site's assignments (after
	 * the last change of the schema, which would make them prepared
	 * again at their first step). */
	if (rc == GF_OK && small)
		rc = gf_resend_prepare(f->store);
	if (rc == GF_OK && small)
		rc = foa_state_prepare(f);
	if (rc == GF_OK)
		rc = subscribe(f);
	if (rc != GF_OK)
		return rc;
	/* What a crash left in the outbox goes to the bus first (the
	 * client buffers it until the connection is up). */
	flush(f);
	gf_resend_every(f->a, f->store, f->conf->resend_s, "GF-FOA-RESEND");
	return GF_OK;
}

/* The virtual FOAs foa.<id_prefix><n>: each its own connection (or the
 * process's own when that is one of them) and its own store in
 * state_dir/<id>/. */
static enum gf_err open_virtual(struct gf_agent *a, struct foa_conf *c)
{
	char id[GF_ID_MAX + 16], dir[4096], err[512];
	enum gf_err rc = GF_OK;

	V = calloc((size_t)c->foas, sizeof(*V));
	if (!V)
		return GF_ENOMEM;
	for (long k = 0; k < c->foas && rc == GF_OK; k++) {
		struct foa *f = &V[k];
		if (!gf_fleet_id(c->id_prefix, c->id_digits, c->first_id + k, id, sizeof(id))) {
			gf_log_err("GF-FOA-CONFIG", "'%s' is not a valid FOA id", id);
			return GF_EINVAL;
		}
		snprintf(dir, sizeof(dir), "%s/%s", c->agent.state_dir, id);
		*f = (struct foa){.a = a, .conf = c, .mode = FOA_MODE_XEMS};
		rc = gf_fleet_bus(a, &c->agent, "foa", id, c->cert_dir, dir, "0.1", f, &f->bus, err,
		                  sizeof(err));
		if (rc != GF_OK) {
			gf_log_err("GF-FOA-CONFIG", "cannot open the connection of foa.%s: %s", id,
			           err);
			return rc;
		}
		NV++;
		f->id = gf_bus_id(f->bus);
		rc = foa_open(f, dir, true);
		gf_log_debug("GF-FOA-START", "virtual foa.%s in xems mode", f->id);
	}
	if (rc == GF_OK)
		gf_log_notice("GF-FOA-START", "%zu virtual FOAs foa.%s .. foa.%s in xems mode", NV,
		              V[0].id, V[NV - 1].id);
	return rc;
}

/* Settings that make no sense with virtual FOAs. */
static enum gf_err check_virtual(const struct foa_conf *c)
{
	const char *why = NULL;

	if (c->foas == 0) {
		if (c->cert_dir)
			why = "cert_dir is for virtual FOAs (foas > 0)";
	} else if (strcmp(c->mode, "xems") != 0) {
		why = "virtual FOAs (foas > 0) are for xems mode; a dso FOA serves its DOMS alone";
	} else if (c->xems_id) {
		why = "with virtual FOAs each serves the xEMS of its own id: drop xems_id";
	} else if (c->meter_device_id) {
		why = "with virtual FOAs each forwards readings as its own xEMS: drop "
		      "meter_device_id";
	}
	if (!why)
		return GF_OK;
	gf_log_err("GF-FOA-CONFIG", "%s", why);
	return GF_EINVAL;
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct foa_conf *c = conf;
	enum gf_err rc;

	F.a = a;
	F.conf = c;
	F.bus = gf_agent_bus(a);
	F.id = gf_bus_id(F.bus);
	if (strcmp(gf_bus_role(F.bus), "foa") != 0) {
		gf_log_err("GF-FOA-CONFIG", "the identity must be of role foa, not %s",
		           gf_bus_role(F.bus));
		return GF_EINVAL;
	}
	if (strcmp(c->mode, "xems") == 0) {
		F.mode = FOA_MODE_XEMS;
	} else if (strcmp(c->mode, "dso") == 0) {
		F.mode = FOA_MODE_DSO;
	} else if (strcmp(c->mode, "plug") == 0) {
		F.mode = FOA_MODE_PLUG;
	} else {
		gf_log_err("GF-FOA-CONFIG", "mode must be xems, dso or plug, not %s", c->mode);
		return GF_EINVAL;
	}
	if (strcmp(c->hold_at, "none") != 0 && strcmp(c->hold_at, "before") != 0 &&
	    strcmp(c->hold_at, "after") != 0) {
		gf_log_err("GF-FOA-CONFIG", "hold_at must be none, before or after");
		return GF_EINVAL;
	}
	if ((rc = check_virtual(c)) != GF_OK)
		return rc;
	if (c->foas > 0)
		return open_virtual(a, c);
	rc = foa_open(&F, c->agent.state_dir, false);
	if (rc == GF_OK && F.mode == FOA_MODE_PLUG)
		rc = foa_plug_start(&F);
	if (rc != GF_OK)
		return rc;
	gf_log_notice("GF-FOA-START", "foa.%s in %s mode", F.id, c->mode);
	return GF_OK;
}

static void stop(struct gf_agent *a)
{
	(void)a;
	if (F.store)
		flush(&F);
	for (size_t i = 0; i < NV; i++)
		flush(&V[i]);
	foa_plug_stop(&F);
	gf_log_notice("GF-FOA-STOP", "stopping");
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-foa",
	    .summary = "the FlexOffer Agent: an xEMS's offers to FMAN and schedules back, a "
	               "DOMS's bids to FMAR, or a smart plug's device offered and switched",
	    .version = "0.1",
	    .table = table,
	    .conf_size = sizeof(struct foa_conf),
	    .common_offset = offsetof(struct foa_conf, agent),
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .stop = stop,
	};
	int code;

	gf_fleet_raise_fd_limit();
	/* SQLite's per-connection lookaside and initial bulk page-cache
	 * allocation are the largest part of an idle virtual FOA: off. */
	sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	code = gf_agent_main(&def, argc, argv);
	gf_store_close(F.store);
	for (size_t i = 0; i < NV; i++)
		gf_store_close(V[i].store);
	free(V);
	return code;
}
