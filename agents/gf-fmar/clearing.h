/* SPDX-License-Identifier: MIT */
/*
 * clearing.h - what clearing.c (a bid's clearing at its gate) shares with
 * reclear.c (the later rounds of its remainder, docs/fmar.md): one
 * clearing's working state and its steps. Internal to gf-fmar; agent
 * thread only. The record steps run inside the caller's transaction.
 */
#ifndef FMAR_CLEARING_H
#define FMAR_CLEARING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/clear.h"
#include "fmar.h"
#include "engine/fo.h"

/* A live aggregate: its id, its FMAN and the decoded offer (owned). */
struct fmar_agg {
	char *id, *sender;
	Goflex__FlexOffer *msg;
};

/* One clearing (a bid's round): zero it, set f, conf and offer_id, and
 * free it with fmar_clearing_free. */
struct fmar_clearing {
	struct fmar *f;
	const struct fmar_conf *conf;
	const char *offer_id;
	char dso[GF_ID_MAX + 1], bid_id[192];
	Goflex__FlexOffer *bid_msg;
	double *change, *price, *headroom; /* the bid, T each */
	size_t n_ref;                      /* of its intervals, those priced by price.reference */
	struct gf_clear_bid bid;
	struct fmar_agg *aggs; /* live aggregates */
	size_t n;
	struct gf_fo_set set;
	struct gf_fo *views;
	size_t *off; /* each offer's first slice in amount */
	int32_t *start;
	double *amount;
	struct gf_clear_result res;
	const char *status, *solver, *milp_status;
	double heur_ms, milp_ms;
	bool *dev;
	int deviating;
	double *accepted; /* per bid interval, clamped to the request */
	double requested, cleared, clearing_price;
	int64_t observed_ms, schedule_id;
	char reason[256];
	/* Re-clearings (round > 0): change holds the remainder, asked the
	 * bid's own change, prev what earlier rounds accepted; tariff the
	 * cumulative result's price per interval; total and mean_price the
	 * totals over the rounds. */
	int64_t round;
	double *asked, *prev, *tariff;
	double total, mean_price, bid_requested;
};

/* Frees what c owns (not c). */
void fmar_clearing_free(struct fmar_clearing *c);

/* Loads bid offer c->offer_id if it is in state (held: waiting for its
 * clearing; cleared: for a re-clearing): c->bid, change, price, requested.
 * GF_ENOENT if not; GF_EIO, GF_ENOMEM, GF_EINVAL (a stored bid that does
 * not parse). */
enum gf_err fmar_clearing_load_bid(struct fmar_clearing *c, const char *state);

/* Loads the live aggregates (held; start window and assignment deadline
 * after the current interval) into the engine's set. GF_EIO, GF_ENOMEM. */
enum gf_err fmar_clearing_load_aggregates(struct fmar_clearing *c);

/* The heuristic, and the MILP when small; the lower objective wins. Sets
 * status, solver and res (status "error" with the reason if the engine
 * refuses). */
void fmar_clearing_solve(struct fmar_clearing *c);

/* Which aggregates deviate, the change accepted per bid interval (clamped
 * to c->change), the volume, the price and a reason if none is set. */
void fmar_clearing_outcome(struct fmar_clearing *c);

/* Queues flexoffer.assign of offer_id (schedule x, n intervals from start,
 * each slice at tariff[k], NULL: the clearing price; c->schedule_id,
 * update_id) and keeps it for resends until the echo: of any round for an
 * aggregate, of update_id for a bid offer (is_bid). Errors of
 * gf_resend_queue, GF_ENOMEM. */
enum gf_err fmar_clearing_queue_assign(struct fmar_clearing *c, const char *role, const char *to,
                                       const char *offer_id, const char *label, int32_t start,
                                       const double *x, const double *tariff, int32_t n,
                                       int64_t update_id, bool is_bid);

/* Queues a KPI sample to kpi/all at c->observed_ms over the bid's length. */
enum gf_err fmar_clearing_queue_kpi(struct fmar_clearing *c, const char *id, double value,
                                    const char *unit);

/* c->observed_ms: the simulated now, after every earlier clearing's and
 * round's, so that kpiId + observedTime stays unique. */
void fmar_clearing_observed_time(struct fmar_clearing *c);

/* Aggregate i (deviating): its ack and assign, state assigned, its
 * fmar_assign row. */
enum gf_err fmar_clearing_record_aggregate(struct fmar_clearing *c, size_t i);

/* The round's rows: fmar_round_cleared (accepted per interval, at the
 * round's price) and fmar_round (its summary), round c->round. */
enum gf_err fmar_clearing_record_round(struct fmar_clearing *c);

#endif
