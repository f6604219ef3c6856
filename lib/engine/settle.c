/* SPDX-License-Identifier: MIT */
/* settle.c - GOFLEX settlement of one schedule; the formulas are in settle.h. */
#include "engine/settle.h"

#include <math.h>
#include <string.h>

static double min_tariff_at(const struct gf_settle_input *in, size_t i)
{
	return in->min_tariff ? in->min_tariff[i] : in->min_tariff_all;
}

static double max_tariff_at(const struct gf_settle_input *in, size_t i)
{
	return in->max_tariff ? in->max_tariff[i] : in->max_tariff_all;
}

static double baseline_at(const struct gf_settle_input *in, size_t i)
{
	return in->baseline ? in->baseline[i] : in->defaults[i];
}

/* Checks every input before anything is written, so outputs stay untouched on failure. */
static int input_valid(const struct gf_settle_input *in)
{
	if (in->n == 0 || !in->assigned || !in->defaults || !in->measured)
		return 0;
	if (!isfinite(in->cutoff) || in->cutoff < 0.0 || !isfinite(in->rate) || in->rate < 0.0)
		return 0;
	for (size_t i = 0; i < in->n; i++) {
		double lo = min_tariff_at(in, i), hi = max_tariff_at(in, i);

		if (!isfinite(in->assigned[i]) || !isfinite(in->defaults[i]) ||
		    !isfinite(in->measured[i]) || !isfinite(baseline_at(in, i)))
			return 0;
		if (!isfinite(lo) || !isfinite(hi) || lo > hi)
			return 0;
	}
	return 1;
}

static double shortfall_of(double requested, double delivered)
{
	double s = 0.0;

	if (requested > 0.0)
		s = requested - delivered;
	else if (requested < 0.0)
		s = delivered - requested;
	return s > 0.0 ? s : 0.0;
}

enum gf_err gf_settle_compute(const struct gf_settle_input *in, struct gf_settle_result *res,
                              double *delivered, double *shortfall)
{
	struct gf_settle_result r;

	if (!in || !res || !input_valid(in))
		return GF_EINVAL;
	memset(&r, 0, sizeof(r));
	for (size_t i = 0; i < in->n; i++) {
		double x = in->assigned[i], d = in->defaults[i], m = in->measured[i];
		double price = x > d ? max_tariff_at(in, i) : min_tariff_at(in, i);
		double req = x - d, del = m - baseline_at(in, i);
		double sf = shortfall_of(req, del);

		r.gain += price * req;
		r.imbalance += fabs(m - x);
		r.requested_total += req;
		r.delivered_total += del;
		r.shortfall_total += sf;
		if (delivered)
			delivered[i] = del;
		if (shortfall)
			shortfall[i] = sf;
	}
	r.fee = r.imbalance > in->cutoff ? (r.imbalance - in->cutoff) * in->rate : 0.0;
	*res = r;
	return GF_OK;
}
