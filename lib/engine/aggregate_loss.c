/* SPDX-License-Identifier: MIT */
/*
 * aggregate_loss.c - loss metrics of aggregation (Valsomatzis et al. 2015):
 * energy- and time-flexibility loss, lower and upper peak-reduction
 * potential loss. Formulas in docs/engine.md, "Loss metrics".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/aggregate.h"

/*
 * Adds an offer's envelopes over its span [0, tf + n) (relative to its
 * start_after) into lo and hi: at t, the lowest (highest) amount any start
 * s in [0, tf] allows, 0 when some start leaves t idle (t < tf or t >= n).
 */
static void envelope(int32_t tf, int32_t n, const double *l, const double *u, double *lo,
                     double *hi)
{
	for (int32_t t = 0; t < tf + n; t++) {
		int idle = t < tf || t >= n;
		double a = idle ? 0.0 : INFINITY, b = idle ? 0.0 : -INFINITY;
		int32_t kmin = t > tf ? t - tf : 0, kmax = t < n - 1 ? t : n - 1;
		for (int32_t k = kmin; k <= kmax; k++) {
			a = l[k] < a ? l[k] : a;
			b = u[k] > b ? u[k] : b;
		}
		lo[t] += a;
		hi[t] += b;
	}
}

static double max_of(const double *v, size_t len)
{
	double m = -INFINITY;
	for (size_t t = 0; t < len; t++)
		m = v[t] > m ? v[t] : m;
	return m;
}

/* Span [*begin, *end) of aggregate a and its members' own windows. */
static void span_of(const struct gf_aggregate *agg, const struct gf_fo_set *set, size_t a,
                    int64_t *begin, int64_t *end)
{
	int64_t b = agg->start_after[a], e = (int64_t)agg->start_after[a] + agg->tf[a] + agg->n[a];
	for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++) {
		uint32_t i = agg->members[m];
		int64_t ei = (int64_t)set->start_after[i] + set->tf[i] + set->n[i];
		b = set->start_after[i] < b ? set->start_after[i] : b;
		e = ei > e ? ei : e;
	}
	*begin = b;
	*end = e;
}

/* The aggregate's side of a's losses, once the members' envelopes min_f,
 * max_f over [b, b + len), ef sum and tf loss are in: buf holds 4 * len. */
static void loss_finish(const struct gf_aggregate *agg, size_t a, int64_t b, size_t len,
                        double *buf, double ef_members, int64_t tf_loss,
                        struct gf_aggregate_loss *out)
{
	double *min_f = buf, *max_f = buf + len, *min_a = buf + 2 * len, *max_a = buf + 3 * len;
	double ef_agg = 0.0;
	const double *l = agg->lower + agg->slice_off[a], *u = agg->upper + agg->slice_off[a];
	for (int32_t k = 0; k < agg->n[a]; k++)
		ef_agg += u[k] - l[k];
	size_t at = (size_t)(agg->start_after[a] - b);
	envelope(agg->tf[a], agg->n[a], l, u, min_a + at, max_a + at);
	out->members = agg->member_off[a + 1] - agg->member_off[a];
	out->ef_loss = ef_members - ef_agg;
	out->tf_loss = tf_loss;
	out->tf_loss_per_offer = (double)tf_loss / (double)out->members;
	out->peak_low_loss = max_of(min_a, len) - max_of(min_f, len);
	out->peak_high_loss = max_of(max_f, len) - max_of(max_a, len);
}

static void loss_of(const struct gf_aggregate *agg, const struct gf_fo_set *set, size_t a,
                    double *buf, struct gf_aggregate_loss *out)
{
	int64_t b = 0, e = 0;
	span_of(agg, set, a, &b, &e);
	size_t len = (size_t)(e - b);
	double *min_f = buf, *max_f = buf + len;
	memset(buf, 0, 4 * len * sizeof *buf);
	double ef_members = 0.0;
	int64_t tf_loss = 0;
	for (size_t m = agg->member_off[a]; m < agg->member_off[a + 1]; m++) {
		uint32_t i = agg->members[m];
		const double *l = set->lower + set->slice_off[i],
		             *u = set->upper + set->slice_off[i];
		size_t at = (size_t)(set->start_after[i] - b);
		for (int32_t k = 0; k < set->n[i]; k++)
			ef_members += u[k] - l[k];
		tf_loss += set->tf[i] - agg->tf[a];
		envelope(set->tf[i], set->n[i], l, u, min_f + at, max_f + at);
	}
	loss_finish(agg, a, b, len, buf, ef_members, tf_loss, out);
}

enum gf_err gf_aggregate_losses(const struct gf_aggregate *agg, const struct gf_fo_set *set,
                                struct gf_aggregate_loss *per, struct gf_aggregate_loss *total)
{
	struct gf_aggregate_loss sum;
	size_t longest = 0;
	double *buf = NULL;

	if (!agg || !set || !total)
		return GF_EINVAL;
	for (size_t a = 0; a < agg->count; a++) {
		int64_t b = 0, e = 0;
		span_of(agg, set, a, &b, &e);
		longest = (size_t)(e - b) > longest ? (size_t)(e - b) : longest;
	}
	buf = malloc(4 * (longest ? longest : 1) * sizeof *buf);
	if (!buf)
		return GF_ENOMEM;
	memset(&sum, 0, sizeof sum);
	for (size_t a = 0; a < agg->count; a++) {
		struct gf_aggregate_loss one;
		loss_of(agg, set, a, buf, &one);
		if (per)
			per[a] = one;
		sum.members += one.members;
		sum.ef_loss += one.ef_loss;
		sum.tf_loss += one.tf_loss;
		sum.peak_low_loss += one.peak_low_loss;
		sum.peak_high_loss += one.peak_high_loss;
	}
	sum.tf_loss_per_offer = sum.members ? (double)sum.tf_loss / (double)sum.members : 0.0;
	*total = sum;
	free(buf);
	return GF_OK;
}

/*
 * Streaming losses: per aggregate, the members' envelopes over the span seen
 * so far (starting as the aggregate's own window, widened as members
 * arrive), their ef sum and tf loss, each receiving the same contributions
 * in the same (input) order as loss_of, so the figures are bit for bit
 * gf_aggregate_losses'.
 */
struct loss_span {
	int64_t b;   /* absolute interval of slot 0 */
	size_t len;  /* slots */
	double *buf; /* min_f at 0, max_f at len */
	double ef;   /* sum of the members' ef */
	int64_t tf_loss;
};

struct gf_aggregate_loss_acc {
	const struct gf_aggregate *agg;
	struct loss_span *span; /* agg->count */
	size_t offers;          /* offers added so far */
};

void gf_aggregate_loss_acc_free(struct gf_aggregate_loss_acc *acc)
{
	if (!acc)
		return;
	for (size_t a = 0; acc->span && a < acc->agg->count; a++)
		free(acc->span[a].buf);
	free(acc->span);
	free(acc);
}

enum gf_err gf_aggregate_loss_acc_new(const struct gf_aggregate *agg,
                                      struct gf_aggregate_loss_acc **out)
{
	if (!agg || !out)
		return GF_EINVAL;
	struct gf_aggregate_loss_acc *acc = calloc(1, sizeof *acc);
	if (!acc)
		return GF_ENOMEM;
	acc->agg = agg;
	acc->span = calloc(agg->count ? agg->count : 1, sizeof *acc->span);
	if (!acc->span) {
		gf_aggregate_loss_acc_free(acc);
		return GF_ENOMEM;
	}
	for (size_t a = 0; a < agg->count; a++) {
		struct loss_span *sp = &acc->span[a];
		sp->b = agg->start_after[a];
		sp->len = (size_t)agg->tf[a] + (size_t)agg->n[a];
		sp->buf = calloc(2 * sp->len, sizeof *sp->buf);
		if (!sp->buf) {
			gf_aggregate_loss_acc_free(acc);
			return GF_ENOMEM;
		}
	}
	*out = acc;
	return GF_OK;
}

/* Widens sp to [b, e) (new slots 0). */
static enum gf_err span_cover(struct loss_span *sp, int64_t b, int64_t e)
{
	int64_t nb = b < sp->b ? b : sp->b, ne = (int64_t)sp->b + (int64_t)sp->len;
	ne = e > ne ? e : ne;
	size_t len = (size_t)(ne - nb), shift = (size_t)(sp->b - nb);
	if (len == sp->len)
		return GF_OK;
	double *buf = calloc(2 * len, sizeof *buf);
	if (!buf)
		return GF_ENOMEM;
	memcpy(buf + shift, sp->buf, sp->len * sizeof *buf);
	memcpy(buf + len + shift, sp->buf + sp->len, sp->len * sizeof *buf);
	free(sp->buf);
	sp->buf = buf;
	sp->b = nb;
	sp->len = len;
	return GF_OK;
}

enum gf_err gf_aggregate_loss_acc_add(struct gf_aggregate_loss_acc *acc,
                                      const struct gf_fo_set *chunk)
{
	if (!acc || !chunk)
		return GF_EINVAL;
	const struct gf_aggregate *agg = acc->agg;
	size_t total = agg->member_off[agg->count];
	if (acc->offers > total || chunk->count > total - acc->offers)
		return GF_ERANGE;
	for (size_t j = 0; j < chunk->count; j++) {
		uint32_t a = agg->group_of[acc->offers];
		struct loss_span *sp = &acc->span[a];
		int64_t sa = chunk->start_after[j];
		if (span_cover(sp, sa, sa + chunk->tf[j] + chunk->n[j]))
			return GF_ENOMEM; /* offers before j were added: counted */
		const double *l = chunk->lower + chunk->slice_off[j],
		             *u = chunk->upper + chunk->slice_off[j];
		size_t at = (size_t)(sa - sp->b);
		for (int32_t k = 0; k < chunk->n[j]; k++)
			sp->ef += u[k] - l[k];
		sp->tf_loss += chunk->tf[j] - agg->tf[a];
		envelope(chunk->tf[j], chunk->n[j], l, u, sp->buf + at, sp->buf + sp->len + at);
		acc->offers++;
	}
	return GF_OK;
}

enum gf_err gf_aggregate_loss_acc_finish(struct gf_aggregate_loss_acc *acc,
                                         struct gf_aggregate_loss *per,
                                         struct gf_aggregate_loss *total)
{
	if (!acc || !total)
		return GF_EINVAL;
	const struct gf_aggregate *agg = acc->agg;
	if (acc->offers != agg->member_off[agg->count])
		return GF_ERANGE;
	size_t longest = 1;
	for (size_t a = 0; a < agg->count; a++)
		longest = acc->span[a].len > longest ? acc->span[a].len : longest;
	double *buf = malloc(4 * longest * sizeof *buf);
	if (!buf)
		return GF_ENOMEM;
	struct gf_aggregate_loss sum;
	memset(&sum, 0, sizeof sum);
	for (size_t a = 0; a < agg->count; a++) {
		const struct loss_span *sp = &acc->span[a];
		struct gf_aggregate_loss one;
		memcpy(buf, sp->buf, 2 * sp->len * sizeof *buf);
		memset(buf + 2 * sp->len, 0, 2 * sp->len * sizeof *buf);
		loss_finish(agg, a, sp->b, sp->len, buf, sp->ef, sp->tf_loss, &one);
		if (per)
			per[a] = one;
		sum.members += one.members;
		sum.ef_loss += one.ef_loss;
		sum.tf_loss += one.tf_loss;
		sum.peak_low_loss += one.peak_low_loss;
		sum.peak_high_loss += one.peak_high_loss;
	}
	sum.tf_loss_per_offer = sum.members ? (double)sum.tf_loss / (double)sum.members : 0.0;
	*total = sum;
	free(buf);
	return GF_OK;
}
