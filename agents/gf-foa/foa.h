/* SPDX-License-Identifier: MIT */
/*
 * foa.h - gf-foa's modules share this: its configuration, its state and the
 * handlers of each mode (docs/foa.md).
 *
 * main.c   options, configuration, the loop's callbacks, one transaction per
 *          message (in_txn, gf_store_once), the FOAs a process hosts (its own identity,
 *          or many virtual FOAs, docs/foa.md);
 * state.c  the SQLite tables: offers, schedule ids, counters;
 * xems.c   xEMS mode: xems.flexibility, xems.cancel, xems.operation in,
 *          flexoffer and meter.reading to FMAN, foa.reply to the xEMS;
 * dso.c    DSO mode: bid in, bid offers to FMAR, offer.feedback to DOMS;
 * tariff.c network tariffs: gf-sp's transfercost kept and added to the
 *          offers' tariffs (lib/engine/nettariff.h: the formula), the
 *          grid point named on the offers (FMAN prices its capacity);
 * plug.c, plugoffer.c, relay.c  plug (device-controller) mode: a smart
 *          plug on the prosumer's own broker, offers made by the FOA from a
 *          device model (plugmode.h).
 *
 * Every handler runs inside main.c's in_txn (gf_store_once): it changes state and queues its
 * messages in the store's outbox; the transaction records the message's
 * idempotency key, and the outbox goes to the bus after the commit. A
 * handler returns an error only when the store or the encoder fails (the
 * transaction is then rolled back); bad input is logged, answered and
 * committed like any other outcome.
 */
#ifndef FOA_H
#define FOA_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "devices/devconf.h"
#include "agent/message.h"
#include "agent/store.h"
#include "doms.pb-c.h"
#include "flexoffer.pb-c.h"
#include "xems.pb-c.h"

enum foa_mode { FOA_MODE_XEMS, FOA_MODE_DSO, FOA_MODE_PLUG };

/* plug mode's keys (docs/foa.md "plug mode"). */
struct foa_plug_conf {
	char *host, *username, *password_file;
	long port, mqtt_version;
	char *convention, *device_id;
	struct gf_devconf dev;
	long allowed_from, allowed_to, max_interruptions;
	double min_run_kwh, comfort_min, comfort_max;
	long offer_lead_s, deadline_lead_s, horizon, history_days;
};

struct foa_conf {
	struct gf_agent_conf agent;
	char *mode;            /* xems | dso */
	char *xems_id;         /* the xEMS served (xems mode); default: own id */
	char *fman_id;         /* FMAN instance or "all" */
	char *fmar_id;         /* FMAR instance or "all" */
	char *doms_id;         /* DOMS listened to (dso mode), or "+" for any */
	char *meter_device_id; /* deviceId of forwarded readings; default: the xEMS id */
	char *hold_at;         /* test aid: none | before | after */
	long hold_ms;          /* test aid: real ms to wait at hold_at on each assign */
	long resend_s;         /* real seconds between resends of unacked offers */
	/* Virtual FOAs (xems mode): foas identities foa.<id_prefix><n>, n from
	 * first_id, zero-padded to id_digits; TLS certificates in cert_dir. */
	long foas, first_id, id_digits;
	long cache_kib; /* each virtual FOA's page cache (gf_store_open_small) */
	char *id_prefix, *cert_dir;
	struct foa_plug_conf plug;
	/* Network tariffs (tariff.c): the grid point (none: off), the
	 * transfer cost on or off, the base when an offer has no tariff. */
	char *tariff_grid_point;
	bool transfer_cost;
	double tariff_base_min, tariff_base_max;
};

/* One FOA identity: the process's own, or one of its virtual FOAs, each
 * with its own connection and its own store (state_dir/<id>/foa.db). */
struct foa {
	struct gf_agent *a;
	const struct foa_conf *conf;
	struct gf_bus *bus; /* its connection; the store is bound to it */
	struct gf_store *store;
	enum foa_mode mode;
	const char *id;        /* own id (the bus's) */
	struct foa_plug *plug; /* plug mode's state (plug.c) */
};

/* A message kept in foa_offer: its protobuf encoding. Rows written before
 * the FOA stored protobuf (2026-12) hold canonical JSON text, read as such
 * (json true). */
struct foa_doc {
	void *data;
	size_t len;
	bool json;
};

/* One row of foa_offer. Strings and documents are owned;
 * foa_state_offer_clear frees them. */
struct foa_offer {
	char *id;
	char *kind;            /* "xems", "plug" or "bid" */
	char *peer;            /* the xEMS's, the plug's or the DOMS's id */
	char *ref;             /* the xEMS's name for the offer (its id or label); the bidId */
	char *state;           /* FlexOffer state name */
	struct foa_doc source; /* what the peer sent (FlexOffer or Bid) */
	struct foa_doc offer;  /* the FlexOffer sent to the market */
	int64_t deadline;      /* interval from which the offer can no longer be withdrawn */
};

/* --- state.c --- */
extern const char foa_state_schema[];
/* Prepares sql on f's store; steps st once (done or a row). GF_EIO, logged
 * with GF-FOA-STORE, on failure. */
enum gf_err foa_state_sql(struct foa *f, const char *sql, sqlite3_stmt **st);
enum gf_err foa_state_step(struct foa *f, sqlite3_stmt *st);
/* Next value of counter name (1, 2, ...), inside the transaction. */
enum gf_err foa_state_counter_next(struct foa *f, const char *name, int64_t *out);
/* Finds an offer by its id; GF_ENOENT when none. */
enum gf_err foa_state_offer_get(struct foa *f, const char *id, struct foa_offer *out);
/* Finds an xEMS offer of peer by the xEMS's reference (id or label). */
enum gf_err foa_state_offer_by_ref(struct foa *f, const char *peer, const char *ref,
                                   struct foa_offer *out);
/* Finds the offer a FOA schedule id belongs to. */
enum gf_err foa_state_offer_by_schedule(struct foa *f, int64_t foa_sid, struct foa_offer *out);
/* Inserts or replaces the row o->id. */
enum gf_err foa_state_offer_put(struct foa *f, const struct foa_offer *o);
/* m encoded for a row (protobuf); foa_state_doc_free frees it. */
enum gf_err foa_state_doc_encode(const ProtobufCMessage *m, struct foa_doc *out);
void foa_state_doc_free(struct foa_doc *doc);
/* One of o's documents decoded as a message of d (gf_codec_free frees it);
 * one that does not decode is logged (GF-FOA-STORE, naming o). */
enum gf_err foa_state_doc_decode(const struct foa_offer *o, const struct foa_doc *doc,
                                 const ProtobufCMessageDescriptor *d, ProtobufCMessage **out);
/* Sets an offer's state. */
enum gf_err foa_state_offer_set_state(struct foa *f, const char *id, const char *state);
void foa_state_offer_clear(struct foa_offer *o);
/* Prepares (gf_store_cached) the statements of these functions that an
 * assignment runs (the offer, its state, the counter, the schedule ids),
 * which its first assignment would otherwise prepare (after a restart
 * even those its offer had): a virtual FOA prepares them when it opens.
 * GF_EIO. */
enum gf_err foa_state_prepare(struct foa *f);
/* The FOA's schedule id for the market's (offer, scheduleId), made on
 * first use from counter "schedule". */
enum gf_err foa_state_schedule_id(struct foa *f, const char *offer_id, int64_t market_sid,
                                  int64_t *out);
/* The name of a FlexOffer state, e.g. "Accepted". */
const char *foa_state_name(Goflex__FlexOfferState s);
/* Expands a schedule's slices into energy per interval (malloc'd). */
enum gf_err foa_state_expand(const Goflex__FlexOfferSchedule *s, double **out, size_t *n,
                             double **tariff);

/* --- tariff.c (docs/foa.md, "Network tariffs") --- */
extern const char foa_tariff_schema[];
/* True when tariff_grid_point is set and transfer_cost on. */
bool foa_tariff_on(const struct foa *f);
/* Inside in_txn: transfercost (the grid point's kept, others ignored). */
enum gf_err foa_tariff_transfercost(struct foa *f, const struct gf_message *m);
/* What foa_tariff_apply changed in an offer, to undo after it is sent. */
struct foa_tariff_box {
	Goflex__FlexOffer *fo;
	size_t n;
	Goflex__TariffConstraint *tc, **ptr, *offer; /* ptr NULL: tariffs unchanged */
	Goflex__Location loc;                        /* the grid point named */
	bool located;                                /* fo->locationid points to loc */
};
/* With tariff_grid_point: names it as fo's locationId.gridPointId when fo
 * has no locationId (FMAN prices its capacity there, docs/fman.md), and,
 * with transfer_cost, sets each slice's tariffConstraint of fo (unit
 * slices) from its base (the slice's, else the offer's, else
 * tariff_base_*) and the stored transfer cost of the intervals it may run
 * in, and drops the offer-wide one; *out (NULL when nothing changed) holds
 * what it points to until foa_tariff_box_free, which puts fo back as it
 * was. GF_EIO, GF_ENOMEM. */
enum gf_err foa_tariff_apply(struct foa *f, Goflex__FlexOffer *fo, struct foa_tariff_box **out);
void foa_tariff_box_free(struct foa_tariff_box *b);

/* --- main.c --- */
typedef enum gf_err (*foa_handler)(struct foa *f, const struct gf_message *m);
/* state.c: the simulated interval now. */
int64_t foa_state_now_interval(struct foa *f);

/* --- xems.c --- */
enum gf_err foa_xems_flexibility(struct foa *f, const struct gf_message *m);
enum gf_err foa_xems_cancel(struct foa *f, const struct gf_message *m);
enum gf_err foa_xems_operation(struct foa *f, const struct gf_message *m);
/* flexoffer.ack and flexoffer.assign for either mode (dispatch by the
 * offer's kind). */
enum gf_err foa_xems_market_ack(struct foa *f, const struct gf_message *m);
enum gf_err foa_xems_market_assign(struct foa *f, const struct gf_message *m);
/* flexoffer.ack with state Executed, for either mode: the offer Executed,
 * a bid offer's feedback to the DOMS (foa_dso_executed), the echo. */
enum gf_err foa_xems_market_executed(struct foa *f, const struct gf_message *m);

/* --- answers.c (docs/trading.md, "When the broker itself is killed") ---
 * foa_answers_offer_queue: queues offer fo for to_role.to_id and keeps it to be
 * sent again until an ack of this version (its label and creationInterval)
 * arrives; foa_answers_offer_answered: that ack arrived. foa_answers_assign_key:
 * the idempotency key of an assignment. foa_answers_echo: queues the offer o
 * back to the sender of assignment m with state Assigned and the schedule
 * received, kept as the reply to the assignment's key (a duplicate of the
 * assignment is echoed again by main.c). All inside the transaction;
 * errors as gf_resend_queue. */
enum gf_err foa_answers_offer_queue(struct foa *f, const char *to_role, const char *to_id,
                                    const Goflex__FlexOffer *fo);
enum gf_err foa_answers_offer_answered(struct foa *f, const Goflex__FlexOfferAck *ack);
void foa_answers_assign_key(char *buf, size_t size, const Goflex__FlexOfferAssign *as);
enum gf_err foa_answers_echo(struct foa *f, const struct gf_message *m, const struct foa_offer *o);
/* The answer to the market's Executed report m: the offer o as the FOA
 * sent it with state Executed, kept as the reply to key "exec:<id>" (a
 * repeated report is echoed again). Inside the transaction. */
enum gf_err foa_answers_echo_executed(struct foa *f, const struct gf_message *m,
                                      const struct foa_offer *o);

/* --- dso.c --- */
enum gf_err foa_dso_bid(struct foa *f, const struct gf_message *m);
enum gf_err foa_dso_ack(struct foa *f, const struct foa_offer *o, const Goflex__FlexOfferAck *ack);
enum gf_err foa_dso_assign(struct foa *f, const struct foa_offer *o,
                           const Goflex__FlexOfferAssign *as);
/* FMAR's Executed report of bid offer o: offer.feedback Executed to the
 * DOMS with the delivered change per interval (the bid's sign). */
enum gf_err foa_dso_executed(struct foa *f, const struct foa_offer *o,
                             const Goflex__FlexOfferAck *ack);

/* --- plug.c, plugoffer.c: plug (device-controller) mode (plugmode.h) ---
 * FOA_PLUG_CONF_ITEMS: its keys, for the configuration table.
 * foa_plug_start: checks the keys (GF_EINVAL, logged GF-FOA-CONFIG with
 * the reason), creates its tables, connects to the plug's broker, arms the
 * interval timer (which makes the first offer round at once).
 * foa_plugoffer_ack / _assign: the market's answers to a plug offer, inside
 * main.c's transaction (the assignment becomes the relay's commands per interval;
 * the caller echoes it). foa_plug_stop: disconnects. */
#define FOA_PLUG_CONF_ITEMS(type, m)                                                               \
	{"plug_host",                                                                              \
	 GF_CONF_STRING,                                                                           \
	 offsetof(type, m.host),                                                                   \
	 "localhost",                                                                              \
	 0,                                                                                        \
	 0,                                                                                        \
	 false,                                                                                    \
	 "plug mode: the prosumer's own MQTT broker the plug is on"},                              \
	    {"plug_port", GF_CONF_INT, offsetof(type, m.port), "1883", 1,                          \
	     65535,       false,       "plug mode: its port"},                                     \
	    {"plug_username",                                                                      \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.username),                                                           \
	     NULL,                                                                                 \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "plug mode: username on that broker (none: anonymous)"},                              \
	    {"plug_password_file",                                                                 \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.password_file),                                                      \
	     NULL,                                                                                 \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "plug mode: file whose first line is that password (else $GF_PLUG_PASSWORD)"},        \
	    {"plug_mqtt_version",                                                                  \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.mqtt_version),                                                       \
	     "4",                                                                                  \
	     4,                                                                                    \
	     5,                                                                                    \
	     false,                                                                                \
	     "plug mode: MQTT protocol level on that broker, 4 (3.1.1) or 5"},                     \
	    {"plug_convention",                                                                    \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.convention),                                                         \
	     "tasmota",                                                                            \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "plug mode: tasmota or shelly (Gen1)"},                                               \
	    {"plug_device",                                                                        \
	     GF_CONF_STRING,                                                                       \
	     offsetof(type, m.device_id),                                                          \
	     NULL,                                                                                 \
	     0,                                                                                    \
	     0,                                                                                    \
	     false,                                                                                \
	     "plug mode: the plug's Tasmota topic or Shelly id (required in plug mode)"},          \
	    GF_DEVCONF_ITEMS(type, m.dev),                                                         \
	    {"allowed_from",                                                                       \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.allowed_from),                                                       \
	     "0",                                                                                  \
	     0,                                                                                    \
	     96,                                                                                   \
	     false,                                                                                \
	     "plug mode: first interval of the day the FOA may move the device"},                  \
	    {"allowed_to",                                                                         \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.allowed_to),                                                         \
	     "96",                                                                                 \
	     0,                                                                                    \
	     96,                                                                                   \
	     false,                                                                                \
	     "plug mode: end of that window, exclusive (<= allowed_from wraps over midnight)"},    \
	    {"max_interruptions",                                                                  \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.max_interruptions),                                                  \
	     "-1",                                                                                 \
	     -1,                                                                                   \
	     192,                                                                                  \
	     false,                                                                                \
	     "plug mode: switched-off slices allowed per offer; -1: unlimited"},                   \
	    {"min_run_kwh",                                                                        \
	     GF_CONF_DOUBLE,                                                                       \
	     offsetof(type, m.min_run_kwh),                                                        \
	     "0.05",                                                                               \
	     0,                                                                                    \
	     1000,                                                                                 \
	     false,                                                                                \
	     "plug mode: a slice below this energy counts as an interruption"},                    \
	    {"comfort_min",                                                                        \
	     GF_CONF_DOUBLE,                                                                       \
	     offsetof(type, m.comfort_min),                                                        \
	     "0",                                                                                  \
	     -50,                                                                                  \
	     200,                                                                                  \
	     false,                                                                                \
	     "plug mode: thermal comfort band, deg C (both 0: the device's own t_min..t_max)"},    \
	    {"comfort_max", GF_CONF_DOUBLE, offsetof(type, m.comfort_max), "0", -50,               \
	     200,           false,          "plug mode: its upper end"},                           \
	    {"offer_lead_s",                                                                       \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.offer_lead_s),                                                       \
	     "3600",                                                                               \
	     900,                                                                                  \
	     86400,                                                                                \
	     false,                                                                                \
	     "plug mode: offers start this long after their round (simulated s, whole "            \
	     "intervals)"},                                                                        \
	    {"deadline_lead_s",                                                                    \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.deadline_lead_s),                                                    \
	     "900",                                                                                \
	     0,                                                                                    \
	     86400,                                                                                \
	     false,                                                                                \
	     "plug mode: acceptance and assignment deadlines this long before the start"},         \
	    {"offer_horizon",                                                                      \
	     GF_CONF_INT,                                                                          \
	     offsetof(type, m.horizon),                                                            \
	     "96",                                                                                 \
	     1,                                                                                    \
	     192,                                                                                  \
	     false,                                                                                \
	     "plug mode: most slices of a thermal offer (it runs to the next day's round)"},       \
	{                                                                                          \
		"history_days", GF_CONF_INT, offsetof(type, m.history_days), "7", 1, 60, false,    \
		    "plug mode: days of metered history the default schedule is the mean of"       \
	}

struct foa_plug;
enum gf_err foa_plug_start(struct foa *f);
enum gf_err foa_plugoffer_ack(struct foa *f, const struct foa_offer *o,
                              const Goflex__FlexOfferAck *ack);
enum gf_err foa_plugoffer_assign(struct foa *f, const struct foa_offer *o,
                                 const Goflex__FlexOfferAssign *as);
void foa_plug_stop(struct foa *f);

#endif
