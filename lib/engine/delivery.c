/* SPDX-License-Identifier: MIT */
/* delivery.c - a prosumer's offers settled against its meter; the rules are in delivery.h. */
#include "engine/delivery.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

size_t gf_delivery_place(int64_t w0, size_t n, int64_t start, const double *v, size_t len,
                         double *out)
{
	size_t outside = 0;

	for (size_t i = 0; i < n; i++)
		out[i] = 0.0;
	for (size_t j = 0; j < len; j++) {
		int64_t i = start + (int64_t)j - w0;

		if (i >= 0 && (uint64_t)i < n)
			out[i] = v[j];
		else
			outside++;
	}
	return outside;
}

static double tariff_or_zero(double t)
{
	return isnan(t) ? 0.0 : t;
}

static bool all_finite(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return false;
	return true;
}

/* Everything read, checked before anything is computed. */
static bool inputs_valid(size_t n, const double *b, const double *m,
                         const struct gf_delivery_offer *offers, size_t k, double cutoff,
                         double rate)
{
	if (n == 0 || k == 0 || !b || !m || !offers || !all_finite(b, n) || !all_finite(m, n))
		return false;
	if (!isfinite(cutoff) || cutoff < 0.0 || !isfinite(rate) || rate < 0.0)
		return false;
	for (size_t o = 0; o < k; o++) {
		const struct gf_delivery_offer *f = &offers[o];
		double lo = tariff_or_zero(f->tariff_min), hi = tariff_or_zero(f->tariff_max);

		if (!f->assigned || !f->defaults || !all_finite(f->assigned, n) ||
		    !all_finite(f->defaults, n) || isinf(f->tariff_min) || isinf(f->tariff_max) ||
		    lo > hi)
			return false;
		for (size_t t = 0; f->price && t < n; t++)
			if (isinf(f->price[t]))
				return false;
	}
	return true;
}

/* The part of what offer f was asked in interval t that came, at its price. */
static double reward_at(const struct gf_delivery_offer *f, size_t t, double requested,
                        double delivered)
{
	double credited, price;

	if (requested == 0.0)
		return 0.0;
	credited = fmin(fabs(requested), fmax(0.0, requested > 0.0 ? delivered : -delivered));
	price = f->price && !isnan(f->price[t])
	            ? f->price[t]
	            : tariff_or_zero(requested > 0.0 ? f->tariff_max : f->tariff_min);
	return price * credited;
}

enum gf_err gf_delivery_settle(size_t n, const double *b, const double *m,
                               const struct gf_delivery_offer *offers, size_t k, double cutoff,
                               double rate, struct gf_delivery_result *household,
                               struct gf_delivery_result *per_offer, double *delivered,
                               double *household_delivered)
{
	/* Scratch: R, sum |requested|, the household's schedule and delivery,
	 * one offer's measured equivalent; every offer's share and result. */
	double *req = NULL, *abs_sum = NULL, *xh = NULL, *del = NULL, *mo = NULL, *share = NULL;
	struct gf_delivery_result *res = NULL, hh = {0};
	struct gf_settle_input in;
	enum gf_err rc = GF_EINVAL;

	if (!household || !per_offer || !inputs_valid(n, b, m, offers, k, cutoff, rate))
		return GF_EINVAL;
	if (k > SIZE_MAX / n || !(req = calloc(n, sizeof(*req))) ||
	    !(abs_sum = calloc(n, sizeof(*abs_sum))) || !(xh = calloc(n, sizeof(*xh))) ||
	    !(del = calloc(n, sizeof(*del))) || !(mo = calloc(n, sizeof(*mo))) ||
	    !(share = calloc(k * n, sizeof(*share))) || !(res = calloc(k, sizeof(*res)))) {
		rc = GF_ENOMEM;
		goto out;
	}
	for (size_t o = 0; o < k; o++)
		for (size_t t = 0; t < n; t++) {
			double r = offers[o].assigned[t] - offers[o].defaults[t];

			req[t] += r;
			abs_sum[t] += fabs(r);
		}
	for (size_t t = 0; t < n; t++)
		xh[t] = b[t] + req[t];
	/* The household: its requested, delivered, shortfall, imbalance, fee. */
	in = (struct gf_settle_input){.n = n,
	                              .assigned = xh,
	                              .defaults = b,
	                              .measured = m,
	                              .baseline = b,
	                              .cutoff = cutoff,
	                              .rate = rate};
	if ((rc = gf_settle_compute(&in, &hh.settle, del, NULL)) != GF_OK)
		goto out;
	hh.settle.gain = 0.0;
	/* Each offer: its share of the delivery, settled on its own schedule. */
	for (size_t o = 0; o < k; o++) {
		const struct gf_delivery_offer *f = &offers[o];
		double *d_o = share + o * n;

		for (size_t t = 0; t < n; t++) {
			double r = f->assigned[t] - f->defaults[t];

			d_o[t] = abs_sum[t] > 0.0 ? del[t] * fabs(r) / abs_sum[t] : 0.0;
			mo[t] = f->defaults[t] + d_o[t];
			res[o].reward += reward_at(f, t, r, d_o[t]);
		}
		in = (struct gf_settle_input){.n = n,
		                              .assigned = f->assigned,
		                              .defaults = f->defaults,
		                              .measured = mo,
		                              .min_tariff_all = tariff_or_zero(f->tariff_min),
		                              .max_tariff_all = tariff_or_zero(f->tariff_max)};
		if ((rc = gf_settle_compute(&in, &res[o].settle, NULL, NULL)) != GF_OK)
			goto out;
		hh.settle.gain += res[o].settle.gain;
		hh.reward += res[o].reward;
	}
	*household = hh;
	memcpy(per_offer, res, k * sizeof(*res));
	if (delivered)
		memcpy(delivered, share, k * n * sizeof(*share));
	if (household_delivered)
		memcpy(household_delivered, del, n * sizeof(*del));
out:
	free(req);
	free(abs_sum);
	free(xh);
	free(del);
	free(mo);
	free(share);
	free(res);
	return rc;
}
