/* SPDX-License-Identifier: MIT */
/*
 * settle.h - GOFLEX market settlement of one assigned schedule (issue 4
 * item 5, D6.1 section 8.4).
 *
 * Sign convention, as everywhere on the bus: every energy is kWh per
 * 15-minute interval of net consumption, consumption positive, production
 * negative. A change is "new minus old" in that convention: a negative change
 * is less consumption or more production (upward regulation for the grid),
 * a positive change is more consumption or less production.
 *
 * For each interval i, with x = assigned schedule, d = default schedule,
 * m = measured, b = baseline (the default schedule unless given):
 *   p_i         = maxTariff_i if x_i > d_i, else minTariff_i       (EUR/kWh)
 *   gain        = sum_i p_i (x_i - d_i)                            (EUR)
 *   imbalance   = sum_i |m_i - x_i|                                (kWh)
 *   fee         = max(0, imbalance - cutoff) * rate                (EUR)
 *   requested_i = x_i - d_i
 *   delivered_i = m_i - b_i  (for a consumer asked to reduce, -delivered_i is
 *                             the familiar b_i - m_i)
 *   shortfall_i = max(0, requested_i - delivered_i) if requested_i > 0,
 *                 max(0, delivered_i - requested_i) if requested_i < 0,
 *                 0                                  if requested_i == 0
 * The shortfall is one-sided: it is the part of the requested change, in the
 * requested direction, that was not delivered (>= 0, in kWh); delivering more
 * than asked, or moving the other way when nothing was asked, costs nothing
 * here (that shows in the imbalance). The totals are the sums over i.
 */
#ifndef GF_SETTLE_H
#define GF_SETTLE_H

#include <stddef.h>

#include "base/err.h"

struct gf_settle_input {
	size_t n;                 /* intervals, >= 1 */
	const double *assigned;   /* x[n], required */
	const double *defaults;   /* d[n], required */
	const double *measured;   /* m[n], required */
	const double *baseline;   /* b[n], or NULL to settle delivery against d */
	const double *min_tariff; /* per-slice minTariff[n], or NULL to use min_tariff_all */
	const double *max_tariff; /* per-slice maxTariff[n], or NULL to use max_tariff_all */
	double min_tariff_all;    /* the offer's single pair when the arrays are NULL */
	double max_tariff_all;
	double cutoff; /* imbalance without fee, kWh, >= 0 */
	double rate;   /* fee per kWh of imbalance above the cutoff, EUR/kWh, >= 0 */
};

struct gf_settle_result {
	double gain;            /* EUR */
	double imbalance;       /* kWh */
	double fee;             /* EUR */
	double requested_total; /* sum requested_i, signed kWh */
	double delivered_total; /* sum delivered_i, signed kWh */
	double shortfall_total; /* sum shortfall_i, kWh >= 0 */
};

/*
 * Settles one schedule as in the formulas above. res receives the totals;
 * delivered and shortfall, when not NULL, are caller-provided arrays of
 * in->n doubles receiving the per-interval values. Nothing is allocated.
 * GF_EINVAL for a NULL in or res, n == 0, a required array missing, any
 * NaN or infinite input that is read, minTariff > maxTariff in some slice,
 * or a negative cutoff or rate. res and the arrays are untouched on failure.
 */
enum gf_err gf_settle_compute(const struct gf_settle_input *in, struct gf_settle_result *res,
                              double *delivered, double *shortfall);

#endif
