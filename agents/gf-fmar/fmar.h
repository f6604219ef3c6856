/* SPDX-License-Identifier: MIT */
/*
 * fmar.h - gf-fmar, the FlexOffer Market (docs/fmar.md): what its
 * modules share.
 *
 * book.c takes the offers: aggregates from FMAN and bid offers from the
 * configured DSO FOAs (docs/trading.md), keeps them in SQLite and answers
 * each with flexoffer.ack; gate.c holds a gate-closure timer per bid and
 * decides, when one fires, between a clearing and a re-clearing.
 * clearing.c clears one bid at its gate closure with the engine
 * (lib/engine/clear.h) and queues the assignments, the DSO FOA's result and the
 * KPI samples. reclear.c re-clears what a cleared bid still asks when
 * aggregates that could serve it arrive later (clearing.h: the steps the
 * two share). settle.c validates a cleared bid's delivery at its grid
 * point after its end (gf-sp's validation.query). refprice.c keeps gf-sp's
 * price.reference and gives the reference of bid intervals; bidprice.c says
 * where a bid slice's price comes from (pure). util.c is the leaf they
 * all use. Calls go one way: main.c ->
 * book.c -> gate.c -> reclear.c -> clearing.c -> util.c (book.c also reads
 * bids with clearing.c and asks reclear.c about aggregates). Everything runs
 * on the agent's one thread; every state change and the messages it causes
 * are one SQLite transaction (store.h).
 */
#ifndef FMAR_H
#define FMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/message.h"
#include "agent/store.h"
#include "flexoffer.pb-c.h"

struct fmar_conf {
	struct gf_agent_conf agent;
	char *dso_foa;            /* ids of the DSO FOAs whose bid offers are taken */
	long gate_lead_s;         /* gate closure: this long before a bid's first interval */
	long gate_early_s;        /* > 0: clear before the first useful aggregate expires */
	long milp_max_offers;     /* run the MILP too up to this many live aggregates */
	long milp_time_limit_ms;  /* its time limit */
	long heuristic_passes;    /* gf_clear_options.passes */
	long max_offer_intervals; /* largest profile (slices) taken */
	long resend_s;            /* real seconds between resends of unconfirmed assigns */
	bool reclear;             /* re-clear a bid's remainder when new aggregates arrive */
	long reclear_delay_s;     /* simulated seconds from such an arrival to the round */
	bool settle;              /* validate cleared bids' delivery (settle.c) */
	char *sp_id;              /* the gf-sp a bid's delivery is validated by */
	long settle_delay_s;      /* simulated seconds after a bid's end before that */
	long settle_give_up_s;    /* ... and after which data still missing fails it */
	char *reference_area;     /* the area of price.reference taken; empty: any */
};

/* A gate-closure timer: the bid offer it clears and the runtime's id. */
struct fmar_timer {
	char *offer_id; /* owned; the timer callback's argument */
	uint64_t id;
};

struct fmar {
	struct gf_agent *a;
	struct gf_store *store;
	struct fmar_timer *timers;
	size_t ntimers, cap;
};

/* util.c (a leaf: it calls no other file of the agent):
 * gf_store_outbox_flush (rows leave the outbox on PUBACK, so a kill -9
 * loses none; receivers key on ids). */
void fmar_util_outbox_flush(struct fmar *f);

/* True if id is one of the comma- or space-separated ids of list. */
bool fmar_util_id_listed(const char *list, const char *id);

/* What answers a bid offer's assign with updateId update_id in gf_resend:
 * "u<updateId>" (only the echo of that round stops its resends). */
void fmar_util_echo_token(char *buf, size_t size, int64_t update_id);

/* A deterministic schedule id for the assignments of one bid: 53 bits of
 * FNV-1a over the bid offer's id (exact in JSON numbers), never 0. */
int64_t fmar_util_schedule_id(const char *offer_id);

/* book.c: acts on one decoded message (flexoffer; anything else is logged
 * and ignored), in one transaction, then flushes the outbox and arms the
 * timers it calls for (gate.c). */
void fmar_book_message(struct fmar *f, const struct gf_message *m, bool replayed);

/* gate.c: (re)arms the timer of bid offer offer_id at simulated time
 * gate_s (at once if it has passed); an earlier timer of that bid is
 * cancelled. When it fires, the bid is cleared (fmar_clearing_run), or
 * re-cleared (fmar_reclear_run) if it was cleared before. */
void fmar_gate_arm(struct fmar *f, const char *offer_id, double gate_s);

/* gate.c: arms the gate-closure timer of every bid not yet cleared (at
 * start, and when an aggregate brought gates forward). GF_EIO when the
 * store cannot be read. */
enum gf_err fmar_gate_arm_bids(struct fmar *f);

/* gate.c: arms the timer of every pending re-clearing (at start, and
 * after fmar_reclear_consider found one). GF_EIO. */
enum gf_err fmar_gate_arm_reclears(struct fmar *f);

/* gate.c: frees the timer list, after the agent has ended (its timers are
 * gone with it). */
void fmar_gate_disarm_all(struct fmar *f);

/* clearing.c: clears bid offer offer_id once (its key "clear:<id>"). The
 * result, the assignments and the messages are one transaction; the
 * outbox is flushed after it. GF_OK: cleared; GF_EEXIST: it was cleared
 * before (the caller decides whether a re-clearing is due); GF_ENOENT: not
 * waiting (withdrawn), left alone; any other error: not recorded, the
 * agent stops (gf_agent_fail) and clears it at the next start. */
enum gf_err fmar_clearing_run(struct fmar *f, const char *offer_id);

/* clearing.c: reads a bid offer (docs/trading.md): tf 0, unit slices of
 * 900 s whose energy bounds include 0, a maxTariff per slice (or for the
 * offer) >= 0. Writes the requested change (the non-zero bound, kWh; D6.1
 * sign; with a default schedule, the default), the price and, unless
 * headroom is NULL, the headroom (-lower where the default is 0) of each
 * slice (cap each) and returns the number of intervals, or -1 with why
 * set. */
int fmar_clearing_parse_bid(const Goflex__FlexOffer *fo, const double *ref, size_t cap,
                            double *change, double *price, double *headroom, size_t *n_ref,
                            char *why, size_t whylen);

/* bidprice.c: where a bid slice's price comes from (docs/fmar.md,
 * "Reference prices"), first that is there: the slice's own maxTariff
 * (slice, NaN: none), the interval's price.reference (ref, NaN: none;
 * negative taken as 0), the offer's flexOfferTariffConstraint maxTariff
 * (offer, NaN: none). *price is set (NaN with FMAR_PRICE_NONE). Pure. */
enum fmar_price_source {
	FMAR_PRICE_SLICE,
	FMAR_PRICE_REFERENCE,
	FMAR_PRICE_OFFER,
	FMAR_PRICE_NONE
};
enum fmar_price_source fmar_bidprice_pick(double slice, double ref, double offer, double *price);

/* refprice.c: fmar_refprice_schema, its table; fmar_refprice_message
 * stores a price.reference of gf-sp once per message (a period's later or
 * equal issue overwrites); fmar_refprice_lookup writes the reference price
 * of each of the n intervals from start (NaN where none is known: the
 * finest period holding the interval's start, of reference_area or any
 * area, newest issue first). GF_EIO when the store cannot be read. */
extern const char fmar_refprice_schema[];
void fmar_refprice_message(struct fmar *f, const struct gf_message *m);
enum gf_err fmar_refprice_lookup(struct fmar *f, int32_t start, size_t n, double *ref);

/* settle.c (docs/fmar.md, "Delivery"): fmar_settle_schema, its tables;
 * fmar_settle_start arms the validation round (at once, then every
 * interval): each cleared bid settle_delay_s after its end gets a
 * validation.query for its grid point; fmar_settle_result takes gf-sp's
 * validation.query.result: the bid settled and Executed, the DSO FOA told. */
extern const char fmar_settle_schema[];
void fmar_settle_start(struct fmar *f);
void fmar_settle_result(struct fmar *f, const struct gf_message *m);

/* reclear.c: when bid offer offer_id was cleared before and a re-clearing
 * is due (table fmar_reclear, reclear.c), clears its remainder once (key
 * "clear:<id>:<round>"): the live aggregates against what is still open
 * and not cleared; the new assignments, the DSO FOA's cumulative result
 * (updateId = the round), the KPI totals and the end of the pending row are
 * one transaction. */
void fmar_reclear_run(struct fmar *f, const char *offer_id);

/* reclear.c: inside the transaction that took aggregate fo (held): every
 * cleared bid it could serve (its window meets an open interval with a
 * remainder, its asking tariff fits that remainder's lowest price) gets a
 * re-clearing due reclear_delay_s from now, unless one is already due
 * (aggregates arriving together share one round). *due is set when at least
 * one bid is due (the caller arms it: fmar_gate_arm_reclears). GF_EIO. */
enum gf_err fmar_reclear_consider(struct fmar *f, const Goflex__FlexOffer *fo, bool *due);

#endif
