/* SPDX-License-Identifier: MIT */
/*
 * aggregate.h - grid grouping and N-to-1 FlexOffer aggregation (FMAN).
 *
 * Grouping puts offers in the same grid cell of (type, startAfter, tf):
 * cell = floor((value - origin) / max(tolerance, 1)) per dimension, origin =
 * the first offer's value (the GOFLEX FMAN grid: this rule reproduces its
 * reference aggregates) or a fixed one; consumption (sum of the default
 * schedule >= 0) and production are never mixed unless balance aggregation
 * is asked for. Optional weight bounds split a full cell (next fit in input
 * order). Each group becomes one aggregate by start alignment: aggregate
 * start_after = min of the members', tf = min of the members' tf, deadlines
 * = min of the members', and member i's slice k is added at interval
 * start_after_i + k of the aggregate's profile (lower, upper and default
 * summed). Total-energy bounds are present when any member has them: each
 * member counts with its own, or with its slices' bounds' sum when it has
 * none; absent (NaN) when no member has any. Disaggregation (aggregate_disagg.c) and the loss
 * metrics (aggregate_loss.c) are declared here too; docs/engine.md has every formula.
 */
#ifndef GF_AGGREGATE_H
#define GF_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "engine/fo.h"

/* Grouping configuration. GF_AGGREGATE_FMAN is the GOFLEX FMAN one; zeroed
 * optional fields mean "off". */
struct gf_aggregate_config {
	int32_t start_after_tolerance; /* intervals, >= 0 */
	int32_t tf_tolerance;          /* intervals, >= 0 */
	/* Weight bounds: a full cell is split into several aggregates, next
	 * fit in input order (docs/engine.md). 0 = unbounded. */
	uint32_t max_members; /* members per aggregate */
	double max_energy;    /* kWh per aggregate of w_i = sum_k |dflt_{i,k}|, >= 0 */
	/* Balance aggregation: production and consumption share cells and each
	 * member gets an offset within its tf (gf_aggregate.offset). */
	int balance;
	/* Grid origin: the first offer's (startAfter, tf) unless fixed_origin;
	 * incremental maintenance (aggpool.h) needs a fixed one. */
	int fixed_origin;
	int32_t start_after_origin, tf_origin;
};

#define GF_AGGREGATE_FMAN                                                                          \
	((struct gf_aggregate_config){.start_after_tolerance = 20, .tf_tolerance = 0})

/* The aggregates of one gf_aggregate_build call, in flat arrays.
 * Aggregate a has profile slices slice_off[a] .. slice_off[a] + n[a] - 1 and
 * members members[member_off[a]] .. members[member_off[a + 1] - 1] (offer
 * indices into the input set, ascending). Member i's slice k lies at profile
 * slice start_after[i] + offset(i) - start_after[a] + k, offset(i) =
 * offset[i] under balance aggregation, else 0. */
struct gf_aggregate {
	size_t count;                  /* aggregates */
	size_t slice_count;            /* sum of profile lengths */
	int32_t *start_after, *tf, *n; /* per aggregate */
	size_t *slice_off;             /* per aggregate */
	size_t *member_off;            /* count + 1 */
	uint32_t *members;             /* one per input offer */
	uint32_t *group_of;            /* per input offer: its aggregate */
	double *total_min, *total_max; /* per aggregate, NaN when absent */
	double *lower, *upper, *dflt;  /* per slice */
	int32_t *acceptance_before;    /* per aggregate: min of the members', GF_FO_NO_DEADLINE */
	int32_t *assignment_before;    /* per aggregate: min of the members', GF_FO_NO_DEADLINE */
	uint32_t *total_members;       /* per aggregate: members with a total-energy bound */
	int32_t *offset;               /* per input offer, balance aggregation only, else NULL */
	int64_t tf_loss;               /* sum over members of (member tf - aggregate tf) */
	size_t largest;                /* members of the largest aggregate */
};

/* Groups and aggregates every offer of set under cfg into *out, which the
 * caller then owns and releases with gf_aggregate_free. Memory: a few
 * arrays of one entry per offer plus the aggregates; no allocation per
 * offer. GF_EINVAL for an empty set, more than UINT32_MAX offers, a
 * negative tolerance or a negative or infinite max_energy; GF_ENOMEM. *out untouched on failure. */
enum gf_err gf_aggregate_build(const struct gf_fo_set *set, const struct gf_aggregate_config *cfg,
                               struct gf_aggregate *out);

/*
 * Streaming aggregation: the same aggregates as gf_aggregate_build over the
 * concatenation of the chunks added, bit for bit (sums in the same order),
 * without holding the offers: the caller may reuse or free each chunk once
 * added. Memory: 4 bytes per offer (group_of) plus one profile per group
 * while streaming; finish adds the members array (4 bytes per offer). Offer
 * j of the k-th chunk is input offer (offers of chunks 0..k-1) + j in the
 * result. Balance aggregation needs every member of a cell at once: refused
 * (GF_EINVAL) by new, as an invalid cfg is; weight bounds work (next fit in
 * input order). `expected` (0 = unknown) sizes the per-offer array.
 */
struct gf_aggregate_stream;
enum gf_err gf_aggregate_stream_new(const struct gf_aggregate_config *cfg, size_t expected,
                                    struct gf_aggregate_stream **out);
/* Adds every offer of chunk. GF_EINVAL past UINT32_MAX offers, GF_ENOMEM;
 * an error is sticky (the stream is then only good for free). */
enum gf_err gf_aggregate_stream_add(struct gf_aggregate_stream *s, const struct gf_fo_set *chunk);
/* Offers added so far. */
size_t gf_aggregate_stream_count(const struct gf_aggregate_stream *s);
/* Builds *out (caller frees it with gf_aggregate_free); the stream then
 * takes no more offers and is only good for free. GF_EINVAL when no offer
 * was added, the sticky error of an add, GF_ENOMEM (the stream unchanged). */
enum gf_err gf_aggregate_stream_finish(struct gf_aggregate_stream *s, struct gf_aggregate *out);
void gf_aggregate_stream_free(struct gf_aggregate_stream *s);

/* Releases what gf_aggregate_build allocated (NULL or zeroed accepted) and
 * zeroes *agg. */
void gf_aggregate_free(struct gf_aggregate *agg);

/* Disaggregates a schedule of aggregate a: the aggregate starts at
 * agg_start (start_after[a] <= agg_start <= start_after[a] + tf[a]) with
 * amounts x[0..n[a]-1]; each member starts at its start_after (+ offset)
 * shifted by the same amount, and in every interval each member takes the
 * same relative position p = (x - L) / (H - L) of its range (its lower bound
 * when H == L). When members have total-energy bounds, energy is then moved
 * between members within intervals until every member's total is within
 * its bounds (docs/engine.md); the members still sum to x per interval.
 * member_start[j] and amounts (caller buffer; member j's slices at the
 * member's slice_off in set, i.e. a buffer of set->slice_count doubles) are
 * written for the members j of a. GF_ERANGE for a bad a or a start outside
 * the window; GF_EINVAL for an amount outside [L, H], a total outside the
 * aggregate's total bounds, or a schedule no split of which satisfies every
 * member's total bounds; GF_ENOMEM. Outputs untouched on failure. */
enum gf_err gf_aggregate_disaggregate(const struct gf_aggregate *agg, const struct gf_fo_set *set,
                                      size_t a, int32_t agg_start, const double *x,
                                      int32_t *member_start, double *amounts);

/* Disaggregates one schedule of every aggregate in a single pass over the
 * offers in input order (the fast path; same rule and result as
 * gf_aggregate_disaggregate for each aggregate). agg_start has agg->count
 * entries, x has agg->slice_count (aggregate a's amounts at slice_off[a]);
 * scratch is a caller buffer of agg->slice_count doubles. member_start
 * (set->count entries) and amounts (set->slice_count) are written.
 * Aggregates with member total bounds are repaired as above (one buffer
 * for their members' slices is allocated). GF_ERANGE / GF_EINVAL /
 * GF_ENOMEM as above, outputs untouched on failure. */
enum gf_err gf_aggregate_disaggregate_all(const struct gf_aggregate *agg,
                                          const struct gf_fo_set *set, const int32_t *agg_start,
                                          const double *x, double *scratch, int32_t *member_start,
                                          double *amounts);

/* The relative positions p (agg->slice_count doubles) of one schedule per
 * aggregate (agg_start, x as for gf_aggregate_disaggregate_all), for
 * gf_aggregate_disaggregate_chunk. GF_ERANGE for a start outside a window,
 * GF_EINVAL for an amount outside [L, H] or a total outside an aggregate's
 * total bounds; p untouched on failure. */
enum gf_err gf_aggregate_positions(const struct gf_aggregate *agg, const int32_t *agg_start,
                                   const double *x, double *p);

/* Disaggregates input offers first .. first + chunk->count - 1, given again
 * as chunk's offers 0 .. count - 1 (streaming: the aggregator did not keep
 * them), by the relative position rule with positions p: member_start[j] and
 * amounts at chunk->slice_off[j], exactly what gf_aggregate_disaggregate_all
 * writes for those offers. GF_ERANGE past the aggregated offers; GF_EINVAL
 * when one of them belongs to an aggregate whose members have total-energy
 * bounds (their repair needs the whole aggregate: use
 * gf_aggregate_disaggregate_all); outputs untouched on failure. */
enum gf_err gf_aggregate_disaggregate_chunk(const struct gf_aggregate *agg,
                                            const struct gf_fo_set *chunk, size_t first,
                                            const int32_t *agg_start, const double *p,
                                            int32_t *member_start, double *amounts);

/* Aggregation loss of one aggregate, or in total (docs/engine.md, "Loss
 * metrics"). */
struct gf_aggregate_loss {
	size_t members;
	double ef_loss;           /* kWh: sum_i ef_i - ef_agg (0 for start alignment) */
	int64_t tf_loss;          /* sum_i (tf_i - tf_agg) */
	double tf_loss_per_offer; /* tf_loss / members */
	double peak_low_loss;     /* kWh: raise of the lowest achievable peak, >= 0 */
	double peak_high_loss;    /* kWh: drop of the highest achievable peak, >= 0 */
};

/* Computes the losses of every aggregate of agg (built from set) into
 * per[0..agg->count-1] (per may be NULL) and their sums into *total (its
 * tf_loss_per_offer over all offers). An offer's own tf loss is
 * set->tf[i] - agg->tf[agg->group_of[i]]. Allocates four buffers as long
 * as the longest aggregate span; cost sum_i (tf_i + n_i) n_i. GF_EINVAL for
 * a NULL argument, GF_ENOMEM; outputs untouched on failure. */
enum gf_err gf_aggregate_losses(const struct gf_aggregate *agg, const struct gf_fo_set *set,
                                struct gf_aggregate_loss *per, struct gf_aggregate_loss *total);

/* The same losses, bit for bit, with the offers given again in chunks in
 * input order (agg must outlive the accumulator): new, add every offer,
 * finish. Memory: the members' envelopes over each aggregate's span. add:
 * GF_ERANGE past the aggregated offers, GF_ENOMEM (then finish fails);
 * finish: GF_ERANGE unless every offer was added, GF_ENOMEM. */
struct gf_aggregate_loss_acc;
enum gf_err gf_aggregate_loss_acc_new(const struct gf_aggregate *agg,
                                      struct gf_aggregate_loss_acc **out);
enum gf_err gf_aggregate_loss_acc_add(struct gf_aggregate_loss_acc *acc,
                                      const struct gf_fo_set *chunk);
enum gf_err gf_aggregate_loss_acc_finish(struct gf_aggregate_loss_acc *acc,
                                         struct gf_aggregate_loss *per,
                                         struct gf_aggregate_loss *total);
void gf_aggregate_loss_acc_free(struct gf_aggregate_loss_acc *acc);

#endif
