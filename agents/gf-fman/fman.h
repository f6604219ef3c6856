/* SPDX-License-Identifier: MIT */
/*
 * fman.h - gf-fman's shared state and its two modules (docs/fman.md):
 *
 *   offers.c  offers in from FOAs (validate, ack, update, delete), meter
 *             readings, the SQLite schema, rebuilding the pool at start;
 *   market.c  aggregates out to FMAR (stable ids, revisions), FMAR's acks;
 *   assign.c  FMAR's assignments, disaggregated into member schedules;
 *   members.c an assigned revision's members and their offers (from the
 *             pool, else the store), for the disaggregation;
 *   capprice.c  the implicit capacity price (F6.8): capacityprice.query
 *             to gf-sp per grid point and day the offers need, the answers
 *             and capacityprice kept, the offers' tariffs priced with them
 *             (captariff.c: the formula, pure);
 *   settle.c  delivery checked and settled: after an assigned schedule's
 *             window, validation.query to gf-sp for the prosumer's meter
 *             (meter_map), the settlement (lib/engine/delivery.h) and the
 *             offers Executed.
 *
 * Every handler runs in one SQLite transaction (gf_store_once) that marks
 * the message's key, changes the state and queues what must be sent (the
 * store's outbox); the outbox is flushed after the commit. A failure of the
 * store (fman_util_fail) rolls it back and stops the agent before the inbox
 * marks the message done, so that the restart handles it again: like a
 * kill -9, nothing is lost.
 */
#ifndef FMAN_H
#define FMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/message.h"
#include "agent/store.h"
#include "engine/aggpool.h"
#include "flexoffer.pb-c.h"
#include "meter/metermap.h"

struct fman_conf {
	struct gf_agent_conf agent;
	long grid_origin_interval, start_after_tolerance, tf_tolerance, max_members;
	long aggregate_every_s, max_offers, max_slices;
	long assign_part; /* member schedules committed and sent before the rest */
	char *fmar_id;
	long resend_s; /* real seconds between resends of unanswered messages */
	/* Settlement (settle.c): the FOAs' meters, gf-sp, when and how. */
	char *meter_map, *sp_id;
	long settle_delay_s, settle_give_up_s;
	double imbalance_cutoff_kwh, imbalance_fee_eur_kwh;
	/* The capacity price (capprice.c): on or off, when a refused query
	 * may be asked again. */
	bool capacity_price;
	long capacity_retry_s;
};

struct fman {
	struct gf_agent *agent;
	struct fman_conf *conf;
	struct gf_store *store;
	struct gf_aggpool *pool;
	struct gf_aggregate_config cfg;
	bool dirty;                /* the pool changed since the last aggregation */
	size_t live;               /* offers in the pool */
	double *lo, *hi, *df;      /* scratch for one offer, max_slices each */
	const char *failed;        /* the first store failure (fman_util_fail), NULL: none */
	struct gf_metermap meters; /* meter_map: FOA id -> meter pseudonym */
	/* FOAs' echoes not yet applied (answers.c): "<resend key>\0<foa id>";
	 * the simulated time the first of them came; the timer that applies
	 * them (0: none). */
	char **confirms;
	size_t nconfirms, confirms_cap;
	double confirms_since;
	uint64_t confirms_timer;
};

/* The tables (CREATE ... IF NOT EXISTS), for gf_store_open. */
extern const char fman_offers_schema[];

/* Records a failure of the store (or of memory) while a transaction's
 * function runs: logged with GF-STORE-SQL and what; the function goes on
 * only as far as it safely can and returns fman_util_status(f), GF_EIO, so that
 * gf_store_once rolls back and stops the agent without marking the message
 * done (the inbox replays it at the next start). */
void fman_util_fail(struct fman *f, const char *what);
/* gf_store_prepare on f's store; NULL, recorded as a failure (fman_util_fail),
 * when it fails. */
sqlite3_stmt *fman_util_prepare(struct fman *f, const char *sql);
/* GF_EIO after fman_util_fail, else GF_OK. */
enum gf_err fman_util_status(const struct fman *f);

/* Hands the outbox to the bus when it is connected (GF_INBOX_CONNECTED
 * flushes then). */
void fman_util_flush(struct fman *f);

/* The simulated interval now. */
int64_t fman_util_now_interval(const struct fman *f);

/* offers.c: a flexoffer from an FOA; a meter.reading; the pool rebuilt
 * from the database at start (GF_EIO, GF_ENOMEM). */
void fman_offers_take(struct fman *f, const struct gf_message *m);
void fman_offers_meter(struct fman *f, const struct gf_message *m);
enum gf_err fman_offers_rebuild(struct fman *f);

/* Converts a stored offer (canonical JSON) into f's scratch arrays: *fo and
 * *dl. GF_EPARSE / GF_EINVAL for a body that no longer converts. */
enum gf_err fman_offers_to_engine(struct fman *f, const char *json, struct gf_fo *fo,
                                  struct gf_fo_deadlines *dl);

/* market.c: publishes the pool's aggregates that changed (and cancels the
 * ones that emptied) in one transaction (GF_OK, or the error after which
 * the agent stops); FMAR's flexoffer.ack for an aggregate. */
enum gf_err fman_market_aggregate(struct fman *f);
void fman_market_fmar_ack(struct fman *f, const struct gf_message *m);

/* settle.c (docs/fman.md, "Settlement"). fman_settle_schema: its tables.
 * fman_settle_check: meter_map read and checked (GF_EPARSE, GF_EEXIST,
 * GF_ENOENT with err), for -n and start. fman_settle_start: with a
 * meter_map, loads it and arms the settlement round (at once, then every
 * interval); without one, settlement is off (logged). fman_settle_result:
 * gf-sp's validation.query.result. */
extern const char fman_settle_schema[];
enum gf_err fman_settle_check(const char *path, struct gf_metermap *out, char *err, size_t errlen);
enum gf_err fman_settle_start(struct fman *f);
void fman_settle_result(struct fman *f, const struct gf_message *m);

/* capprice.c (docs/fman.md, "Capacity price"). fman_capprice_schema: its
 * tables. fman_capprice_offer, inside an offer's transaction once it is
 * accepted or updated (pid its row): with capacity_price, the grid point
 * of fo (locationId.gridPointId) is kept, each day its window touches that
 * FMAN has not asked is asked of gf-sp (capacityprice.query, queued with
 * the transaction), and the offer's tariffs (offers.tariff_min, tariff_max)
 * are priced with what is known. fman_capprice_take: gf-sp's
 * capacityprice.query.result and capacityprice, kept; the live offers of
 * the grid point priced again (f->dirty when one changed). Store failures:
 * fman_util_fail. */
extern const char fman_capprice_schema[];
void fman_capprice_offer(struct fman *f, int64_t pid, const Goflex__FlexOffer *fo);
void fman_capprice_take(struct fman *f, const struct gf_message *m);

/* captariff.c, pure. fman_captariff_window: the intervals an offer of unit
 * slices may touch, n + tf from startAfterInterval; 0 when it is not
 * priced (no slices, slices not of one interval, a window beyond 100000).
 * fman_captariff_offer: with cap[0 .. window) the capacity prices of those
 * intervals (EUR/kWh, NaN: not known), each slice's tariffs are its base
 * (its tariffConstraint, else the offer's; none: 0) with the capacity term
 * (lib/engine/nettariff.h); *tmin and *tmax get the least minTariff and
 * the most maxTariff of the slices (the engine's view, gf_fo_from_message
 * without the offer-wide tariff). Returns the slices priced; 0: nothing
 * known of the window, nothing written. */
size_t fman_captariff_window(const Goflex__FlexOffer *fo);
size_t fman_captariff_offer(const Goflex__FlexOffer *fo, const double *cap, double *tmin,
                            double *tmax);

/* assign.c: FMAR's flexoffer.assign, disaggregated over the assigned
 * revision's members (docs/fman.md, "Assignments"). fman_assign_pending:
 * an assignment's first part was sent and its rest not, before a restart
 * (its redo comes from the inbox; the start's aggregation waits for it). */
void fman_assign_fmar(struct fman *f, const struct gf_message *m);
bool fman_assign_pending(struct fman *f);

/* members.c: the members of one revision of an aggregate, as the engine
 * sees them, in the order of their offers' arrival (pid). live: still in
 * the pool (Accepted), not yet assigned. */
struct fman_members {
	size_t count;
	int64_t *pid;
	char **id, **foa, **label;
	bool *live;
	struct gf_fo_set set;
};

/* Loads the members of (agg, rev) into *ms (fman_members_free, also on
 * failure). false with reason (512 bytes) when one changed since that
 * revision (canceled, updated), no longer converts, or there are none;
 * store failures: fman_util_fail. */
bool fman_members_load(struct fman *f, const char *agg, int64_t rev, struct fman_members *ms,
                       char *reason);
void fman_members_free(struct fman_members *ms);

/* answers.c: the answers of docs/trading.md, "When the broker itself is
 * killed". fman_answers_echo_assign queues, inside the assignment's transaction,
 * the aggregate back to FMAR with state Assigned (ok) or Rejected (the
 * reason) and the schedule received, kept as the reply to key;
 * fman_answers_echo_again queues that reply again for a duplicate assignment
 * (inside its transaction). fman_answers_confirm takes an FOA's echo of a member
 * assignment (a flexoffer with state Assigned): the assignment is no
 * longer sent again; nothing else changes. fman_answers_assign_key writes the
 * resend key of a member assignment into buf (ID_MAX + 64) and returns
 * buf. Store failures: fman_util_fail. */
void fman_answers_echo_assign(struct fman *f, const struct gf_message *m, const char *key, bool ok,
                              const char *reason);
void fman_answers_echo_again(struct fman *f, const char *key);
void fman_answers_confirm(struct fman *f, const struct gf_message *m, const char *id);
/* The echoes fman_answers_confirm takes are applied together, in one
 * transaction: when 256 are waiting, or once everything the connection
 * brought was handled (gf_store_on_drain calls
 * fman_answers_confirm_drained) if the first of them has waited a quarter
 * of a second (answers.c), else by a timer then.
 * fman_answers_free: what is still waiting, forgotten (sent again and
 * echoed again after a restart). */
void fman_answers_confirm_drained(void *fman);
void fman_answers_confirm_flush(struct fman *f); /* now (at a clean stop) */
void fman_answers_free(struct fman *f);
char *fman_answers_assign_key(char *buf, const char *offer, const Goflex__FlexOfferSchedule *s);
/* An FOA's echo of the flexoffer.ack that reported its offer id Executed
 * (the offer with state Executed): that ack is no longer sent again
 * (resend key "exec:<id>", settle.c). Nothing else changes. */
void fman_answers_confirm_executed(struct fman *f, const struct gf_message *m, const char *id);

/* Fault injection for the crash tests (docs/fman.md): when the environment
 * has GF_FMAN_CRASH=<point>[:<n>], the n-th pass (default the first)
 * through point kills the process with SIGKILL, as a kill -9 there would.
 * Points: offer-committed, assign-part (an assignment's first part committed
 * and sent), assign-before-commit, assign-committed,
 * settle-asked (validation queries committed, not yet flushed),
 * settle-committed (a settlement committed, its acks not yet flushed). */
void fman_util_crash_point(const char *point);

#endif
