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

#include "codec.h"
#include "foa.h"
#include "ident.h"
#include "log.h"
#include "agent/resend.h"
#include "timefmt.h"

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct foa_conf, agent),
    {"mode", GF_CONF_STRING, offsetof(struct foa_conf, mode), "xems", 0, 0, false,
     "xems (serve an xEMS) or dso (turn a DOMS's bids into bid offers)"},
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
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static struct foa F;

int64_t gf__foa_now_interval(struct foa *f)
{
	double now = gf_agent_now(f->a);

	return gf_time_interval((int64_t)(now * 1000.0));
}

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
	size_t n = gf_store_outbox_flush(f->store, gf_agent_bus(f->a));

	if (n)
		gf_log_debug("GF-FOA-SENT", "%zu message(s) handed to the bus", n);
}

void gf__foa_txn(struct foa *f, const char *key, foa_handler fn, const struct gf_message *m,
                 bool is_assign)
{
	enum gf_err rc;

	if (is_assign)
		hold(f, "before", key);
	rc = gf_store_begin(f->store);
	if (rc != GF_OK)
		goto fail;
	if (key && gf_store_seen(f->store, key)) {
		/* A resend whose answer was lost (an assignment's echo, a bid's
		 * feedback): the answer again, if it had one. */
		bool again = false;
		if (gf_resend_reply_again(f->store, key, &again) != GF_OK ||
		    gf_store_commit(f->store) != GF_OK) {
			gf_store_rollback(f->store);
			rc = GF_EIO;
			goto fail;
		}
		gf_log_info("GF-FOA-DUP", "%s from %s.%s already handled (%s)%s", m->msg,
		            gf_role_name(m->topic.from_role), m->from_id, key,
		            again ? ": answered again" : "");
		if (again)
			flush(f);
		return;
	}
	rc = fn(f, m);
	if (rc == GF_OK && key)
		rc = gf_store_mark(f->store, key);
	if (rc != GF_OK) {
		gf_store_rollback(f->store);
		goto fail;
	}
	rc = gf_store_commit(f->store);
	if (rc != GF_OK)
		goto fail;
	if (is_assign)
		hold(f, "after", key);
	flush(f);
	return;
fail:
	/* The store or the encoder failed (bad input is answered, never an
	 * error here). Returning would let the runtime mark the message done
	 * and lose it; stopping at once, as a kill -9 would, leaves it in the
	 * durable inbox for the next start (paho's files keep what was
	 * already handed to the bus). A supervisor restarts the agent. */
	gf_log_err("GF-FOA-FAILED", "cannot handle %s from %s: %s; stopping at once", m->msg,
	           m->from_id, gf_strerror(rc));
	_exit(1);
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
	         (unsigned long long)gf__foa_hash(json, len));
	free(json);
	gf__foa_txn(f, key, gf__foa_xems_flexibility, m, false);
}

static void on_cancel(struct foa *f, const struct gf_message *m)
{
	const Goflex__DemandCancelation *c = (const Goflex__DemandCancelation *)m->body;
	char key[512];

	snprintf(key, sizeof(key), "cancel:%s:%s:%lld", m->from_id,
	         c->flexofferid ? c->flexofferid : "",
	         c->has_scheduleid ? (long long)c->scheduleid : -1LL);
	gf__foa_txn(f, key, gf__foa_xems_cancel, m, false);
}

static void on_operation(struct foa *f, const struct gf_message *m)
{
	const Goflex__OperationData *op = (const Goflex__OperationData *)m->body;
	char key[512];

	snprintf(key, sizeof(key), "op:%s:%s", m->from_id, op->starttime ? op->starttime : "");
	gf__foa_txn(f, op->starttime ? key : NULL, gf__foa_xems_operation, m, false);
}

static void on_ack(struct foa *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAck *ack = (const Goflex__FlexOfferAck *)m->body;
	char key[512];

	/* Its own transaction: a repeated ack (of an update, say) is a
	 * duplicate for the offer's state but still answers the resends. */
	if (gf_store_begin(f->store) != GF_OK)
		goto fail;
	if (gf__foa_offer_answered(f, ack) != GF_OK || gf_store_commit(f->store) != GF_OK) {
		gf_store_rollback(f->store);
		goto fail;
	}
	snprintf(key, sizeof(key), "ack:%s:%d", ack->flexofferid, ack->accepted ? 1 : 0);
	gf__foa_txn(f, key, gf__foa_market_ack, m, false);
	return;
fail:
	gf_log_err("GF-FOA-FAILED", "cannot record the ack of %s; stopping at once",
	           ack->flexofferid);
	_exit(1);
}

static void on_assign(struct foa *f, const struct gf_message *m)
{
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)m->body;
	char key[512];

	gf__foa_assign_key(key, sizeof(key), as);
	gf__foa_txn(f, key, gf__foa_market_assign, m, true);
}

static void on_bid(struct foa *f, const struct gf_message *m)
{
	const Goflex__Bid *bid = (const Goflex__Bid *)m->body;
	char key[512];

	snprintf(key, sizeof(key), "bid:%s", bid->bidid);
	gf__foa_txn(f, key, gf__foa_dso_bid, m, false);
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
};

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	struct foa *f = gf_agent_data(a);
	struct gf_message m;
	char err[512];

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
	struct foa *f = gf_agent_data(a);

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
	const char *site = gf_bus_site(gf_agent_bus(f->a));
	char filter[512];
	enum gf_err rc = GF_OK;

	if (f->mode == FOA_MODE_XEMS) {
		snprintf(filter, sizeof(filter), "gf/%s/xems/%s/foa/%s/#", site,
		         c->xems_id ? c->xems_id : f->id, f->id);
		rc = gf_bus_subscribe(gf_agent_bus(f->a), filter);
		snprintf(filter, sizeof(filter), "gf/%s/fman/%s/foa/%s/#", site,
		         strcmp(c->fman_id, "all") == 0 ? "+" : c->fman_id, f->id);
	} else {
		snprintf(filter, sizeof(filter), "gf/%s/doms/%s/foa/%s/#", site, c->doms_id, f->id);
		rc = gf_bus_subscribe(gf_agent_bus(f->a), filter);
		snprintf(filter, sizeof(filter), "gf/%s/fmar/%s/foa/%s/#", site,
		         strcmp(c->fmar_id, "all") == 0 ? "+" : c->fmar_id, f->id);
	}
	if (rc == GF_OK)
		rc = gf_bus_subscribe(gf_agent_bus(f->a), filter);
	return rc;
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct foa_conf *c = conf;
	char err[512];
	enum gf_err rc;

	F.a = a;
	F.conf = c;
	F.id = gf_bus_id(gf_agent_bus(a));
	if (strcmp(gf_bus_role(gf_agent_bus(a)), "foa") != 0) {
		gf_log_err("GF-FOA-CONFIG", "the identity must be of role foa, not %s",
		           gf_bus_role(gf_agent_bus(a)));
		return GF_EINVAL;
	}
	if (strcmp(c->mode, "xems") == 0) {
		F.mode = FOA_MODE_XEMS;
	} else if (strcmp(c->mode, "dso") == 0) {
		F.mode = FOA_MODE_DSO;
	} else {
		gf_log_err("GF-FOA-CONFIG", "mode must be xems or dso, not %s", c->mode);
		return GF_EINVAL;
	}
	if (strcmp(c->hold_at, "none") != 0 && strcmp(c->hold_at, "before") != 0 &&
	    strcmp(c->hold_at, "after") != 0) {
		gf_log_err("GF-FOA-CONFIG", "hold_at must be none, before or after");
		return GF_EINVAL;
	}
	rc = gf_store_open(c->agent.state_dir, "foa", gf__foa_schema, &F.store, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-FOA-STORE", "%s", err);
		return rc;
	}
	gf_agent_set_data(a, &F);
	rc = gf_store_exec(F.store, gf_resend_schema);
	if (rc == GF_OK)
		rc = subscribe(&F);
	if (rc != GF_OK)
		return rc;
	/* What a crash left in the outbox goes to the bus first (paho
	 * buffers it until the connection is up). */
	flush(&F);
	gf_resend_every(a, F.store, c->resend_s, "GF-FOA-RESEND");
	gf_log_notice("GF-FOA-START", "foa.%s in %s mode", F.id, c->mode);
	return GF_OK;
}

static void stop(struct gf_agent *a)
{
	struct foa *f = gf_agent_data(a);

	if (f)
		flush(f);
	gf_log_notice("GF-FOA-STOP", "stopping");
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-foa",
	    .summary = "the FlexOffer Agent: an xEMS's offers to FMAN and schedules back, or a "
	               "DOMS's bids to FMAR",
	    .version = "0.1",
	    .table = table,
	    .conf_size = sizeof(struct foa_conf),
	    .common_offset = offsetof(struct foa_conf, agent),
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .stop = stop,
	};
	int code = gf_agent_main(&def, argc, argv);

	gf_store_close(F.store);
	return code;
}
