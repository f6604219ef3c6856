/* SPDX-License-Identifier: MIT */
/*
 * devoffer.c - FlexOffers from device models (devoffer.h, docs/devices.md).
 *
 * Each builder works in local arrays and copies into the caller's only on
 * success, so that nothing is touched on failure.
 */
#include "devices/devoffer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SLICE_H 0.25 /* hours per interval */
#define MAXS    GF_DEVOFFER_MAX_SLICES

struct draft {
	int32_t start_after, tf, n;
	double total_min, total_max;
	double lower[MAXS], upper[MAXS], dflt[MAXS];
};

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static int32_t of_day(int32_t interval)
{
	int32_t d = interval % GF_DEVICE_DAY;
	return d < 0 ? d + GF_DEVICE_DAY : d;
}

void gf_devoffer_user_init(struct gf_devoffer_user *user)
{
	memset(user->allowed, 1, sizeof user->allowed);
	user->max_interruptions = -1;
	user->min_run_kwh = 0;
	user->comfort_min = NAN;
	user->comfort_max = NAN;
}

enum gf_err gf_devoffer_user_hours(struct gf_devoffer_user *user, int32_t from, int32_t to,
                                   int allow)
{
	if (!user || from < 0 || from > GF_DEVICE_DAY || to < 0 || to > GF_DEVICE_DAY)
		return GF_EINVAL;
	int32_t len = to - from;
	if (len <= 0)
		len += GF_DEVICE_DAY;
	for (int32_t k = 0; k < len; k++)
		user->allowed[of_day(from + k)] = allow ? 1 : 0;
	return GF_OK;
}

enum gf_err gf_devoffer_history_default(const double *history, size_t n_days, int32_t start,
                                        int32_t n, double *out)
{
	if (!history || !out || n_days == 0 || n < 1)
		return GF_EINVAL;
	for (int32_t k = 0; k < n; k++) {
		double sum = 0;
		size_t used = 0;
		for (size_t d = 0; d < n_days; d++) {
			double v = history[d * GF_DEVICE_DAY + (size_t)of_day(start + k)];
			if (!isnan(v)) {
				sum += v;
				used++;
			}
		}
		out[k] = used ? sum / (double)used : NAN;
	}
	return GF_OK;
}

/* --- thermal --------------------------------------------------------------------- */

/*
 * T at every slice end is increasing in every earlier slice's energy (the
 * model is linear with a positive gain), so the all-lower schedule bounds T
 * from below and the all-upper one from above: it is enough to keep the
 * lower path >= comfort_min and the upper path <= comfort_max. One forward
 * pass does both; see docs/devices.md for why lower <= upper always holds.
 */
static enum gf_err thermal_offer(const struct gf_device *dev, const struct gf_devoffer_user *u,
                                 int32_t horizon, const double *dflt_in, struct draft *d, char *err,
                                 size_t errlen)
{
	const struct gf_device_thermal_params *p = &dev->p.thermal;
	double cmin = isnan(u->comfort_min) ? p->t_min : u->comfort_min;
	double cmax = isnan(u->comfort_max) ? p->t_max : u->comfort_max;
	double t_lo = dev->temp, t_hi = dev->temp, t_def = dev->temp;
	int32_t offs = 0, start = gf_device_interval(dev);
	int limited = u->max_interruptions >= 0;

	if (!(cmin >= p->t_min && cmax <= p->t_max && cmin < cmax))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "comfort band [%g, %g] must lie inside the device's [%g, %g]",
		                  cmin, cmax, p->t_min, p->t_max);
	for (int32_t k = 0; k < horizon; k++) {
		double draw = p->draw_kw[of_day(start + k)], a_lo, a_hi, a_def, b;
		gf__device_thermal_affine(p, draw, SLICE_H, t_lo, &a_lo, &b);
		gf__device_thermal_affine(p, draw, SLICE_H, t_hi, &a_hi, &b);
		gf__device_thermal_affine(p, draw, SLICE_H, t_def, &a_def, &b);
		/* Comfort floor from the lower path, ceiling from the upper one (kWh). */
		double lo = clamp((cmin - a_lo) / b, 0, p->rated_kw) * SLICE_H;
		double hi = fmax(lo, clamp((cmax - a_hi) / b, 0, p->rated_kw) * SLICE_H);
		double def = dflt_in && !isnan(dflt_in[k])
		                 ? dflt_in[k]
		                 : clamp(((cmin + cmax) / 2 - a_def) / b, 0, p->rated_kw) * SLICE_H;
		if (!u->allowed[of_day(start + k)]) {
			lo = hi = clamp(def, lo, hi);
		} else if (limited && lo < u->min_run_kwh) {
			/* The first slices that may be off take the interruptions. */
			if (offs < u->max_interruptions)
				offs++;
			else
				lo = fmin(u->min_run_kwh, hi);
		}
		d->lower[k] = lo;
		d->upper[k] = hi;
		d->dflt[k] = clamp(def, lo, hi);
		t_lo = a_lo + b * lo / SLICE_H;
		t_hi = a_hi + b * hi / SLICE_H;
		t_def = a_def + b * d->dflt[k] / SLICE_H;
	}
	d->start_after = start;
	d->tf = 0;
	d->n = horizon;
	d->total_min = d->total_max = NAN;
	return GF_OK;
}

/* --- battery ---------------------------------------------------------------------- */

/* The SoC headroom up and down is shared evenly among the allowed slices, so
 * no mix of charging and discharging can leave the band. */
static enum gf_err battery_offer(const struct gf_device *dev, const struct gf_devoffer_user *u,
                                 int32_t horizon, const double *dflt_in, struct draft *d, char *err,
                                 size_t errlen)
{
	const struct gf_device_battery_params *p = &dev->p.battery;
	double smin = isnan(u->comfort_min) ? p->soc_min : u->comfort_min;
	double smax = isnan(u->comfort_max) ? p->soc_max : u->comfort_max;
	double eta = sqrt(p->round_trip);
	int32_t start = gf_device_interval(dev), allowed = 0;

	if (!(smin >= p->soc_min && smax <= p->soc_max && smin <= smax))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "SoC band [%g, %g] must lie inside the battery's [%g, %g]", smin,
		                  smax, p->soc_min, p->soc_max);
	for (int32_t k = 0; k < horizon; k++)
		allowed += u->allowed[of_day(start + k)] != 0;
	double up = fmax(0, smax - dev->soc) * p->capacity_kwh / eta;
	double down = fmax(0, dev->soc - smin) * p->capacity_kwh * eta;
	for (int32_t k = 0; k < horizon; k++) {
		double lo = 0, hi = 0;
		if (u->allowed[of_day(start + k)]) {
			hi = fmin(p->charge_kw * SLICE_H, up / allowed);
			lo = -fmin(p->discharge_kw * SLICE_H, down / allowed);
		}
		d->lower[k] = lo;
		d->upper[k] = hi;
		d->dflt[k] = clamp(dflt_in && !isnan(dflt_in[k]) ? dflt_in[k] : 0, lo, hi);
	}
	d->start_after = start;
	d->tf = 0;
	d->n = horizon;
	d->total_min = d->total_max = NAN;
	return GF_OK;
}

/* --- EV ----------------------------------------------------------------------------- */

static enum gf_err ev_offer(const struct gf_device *dev, const struct gf_devoffer_user *u,
                            struct draft *d, size_t cap, char *err, size_t errlen)
{
	const struct gf_device_ev_params *p = &dev->p.ev;
	int32_t i = gf_device_interval(dev), start, end;
	double soe;

	if (dev->connected && dev->t < dev->depart_t) {
		start = i;
		end = (int32_t)floor(dev->depart_t / GF_DEVICE_SLICE_S);
		soe = dev->soe_kwh;
	} else {
		/* The next arrival (this interval if the car arrives now). */
		start = i + of_day(p->arrive - of_day(i));
		int32_t stay = p->depart - p->arrive;
		end = start + (stay <= 0 ? stay + GF_DEVICE_DAY : stay);
		soe = p->soe_arrive_kwh;
	}
	int32_t n = end - start;
	if ((size_t)n > cap || n > MAXS)
		return gf_err_set(err, errlen, GF_ERANGE, "the session has %d slices, room for %zu",
		                  (int)n, cap < MAXS ? cap : (size_t)MAXS);
	double need = fmax(0, p->soe_target_kwh - soe) / p->efficiency;
	double full = p->max_kw * SLICE_H, sum_lo = 0, sum_hi = 0;
	int32_t free_offs = u->max_interruptions, allowed_seen = 0, allowed_total = 0;
	for (int32_t k = 0; k < n; k++)
		allowed_total += u->allowed[of_day(start + k)] != 0;
	for (int32_t k = 0; k < n; k++) {
		double lo = 0, hi = 0;
		if (u->allowed[of_day(start + k)]) {
			hi = full;
			/* The last max_interruptions allowed slices may be off; the
			 * earlier ones run at least min_run_kwh. */
			if (free_offs >= 0 && allowed_seen < allowed_total - free_offs)
				lo = fmin(u->min_run_kwh, full);
			allowed_seen++;
		}
		d->lower[k] = lo;
		d->upper[k] = hi;
		sum_lo += lo;
		sum_hi += hi;
	}
	if (sum_hi < need)
		return gf_err_set(err, errlen, GF_ERANGE,
		                  "the allowed hours take at most %g kWh, the car needs %g", sum_hi,
		                  need);
	if (sum_lo > need)
		return gf_err_set(err, errlen, GF_ERANGE,
		                  "the interruption limit forces %g kWh, the car needs only %g",
		                  sum_lo, need);
	/* Default: the floors, then charging as early as possible. */
	double rest = need - sum_lo;
	for (int32_t k = 0; k < n; k++) {
		double add = fmin(rest, d->upper[k] - d->lower[k]);
		d->dflt[k] = d->lower[k] + add;
		rest -= add;
	}
	d->start_after = start;
	d->tf = 0;
	d->n = n;
	d->total_min = d->total_max = need;
	return GF_OK;
}

/* --- cycle ---------------------------------------------------------------------------- */

static int cycle_fits(const struct gf_device_cycle_params *p, const struct gf_devoffer_user *u,
                      int32_t s)
{
	for (int32_t k = 0; k < p->n; k++)
		if (!u->allowed[of_day(s + k)])
			return 0;
	return 1;
}

static enum gf_err cycle_offer(const struct gf_device *dev, const struct gf_devoffer_user *u,
                               struct draft *d, size_t cap, char *err, size_t errlen)
{
	const struct gf_device_cycle_params *p = &dev->p.cycle;
	int32_t i = gf_device_interval(dev), base = i - of_day(i);
	double last = dev->run_start;
	int32_t not_before = i;

	if (!isnan(last)) {
		/* Not while the last cycle still runs. */
		int32_t run_end =
		    (int32_t)ceil((last + p->n * (double)GF_DEVICE_SLICE_S) / GF_DEVICE_SLICE_S);
		if (run_end > not_before)
			not_before = run_end;
	}

	if ((size_t)p->n > cap)
		return gf_err_set(err, errlen, GF_ERANGE, "the cycle has %d slices, room for %zu",
		                  (int)p->n, cap);
	for (int32_t day = 0; day < 2; day++) {
		int32_t first = base + day * GF_DEVICE_DAY + p->earliest;
		int32_t latest = base + day * GF_DEVICE_DAY + p->latest;
		double day_t = (double)(base + day * GF_DEVICE_DAY) * GF_DEVICE_SLICE_S;
		/* Once a day: skip a day whose cycle already started (or runs). */
		if (!isnan(last) && floor(last / 86400.0) == floor(day_t / 86400.0))
			continue;
		if (first < not_before)
			first = not_before;
		while (first <= latest && !cycle_fits(p, u, first))
			first++;
		if (first > latest)
			continue;
		int32_t end = first;
		while (end + 1 <= latest && cycle_fits(p, u, end + 1))
			end++;
		for (int32_t k = 0; k < p->n; k++)
			d->lower[k] = d->upper[k] = d->dflt[k] = p->kwh[k];
		d->start_after = first;
		d->tf = end - first;
		d->n = p->n;
		d->total_min = d->total_max = NAN;
		return GF_OK;
	}
	return gf_err_set(
	    err, errlen, GF_ERANGE,
	    "no start between intervals %d and %d of today or tomorrow fits the allowed "
	    "hours",
	    (int)p->earliest, (int)p->latest);
}

/* --- entry points ----------------------------------------------------------------------- */

enum gf_err gf_devoffer_build(const struct gf_device *dev, const struct gf_devoffer_user *user,
                              int32_t horizon, const double *dflt_in, struct gf_fo *out,
                              double *lower, double *upper, double *dflt, size_t cap, char *err,
                              size_t errlen)
{
	struct draft d;
	enum gf_err e = GF_OK;

	d.n = 0;
	d.start_after = d.tf = 0;

	if (!dev || !user || !out || !lower || !upper || !dflt)
		return gf_err_set(err, errlen, GF_EINVAL, "missing argument");
	if (dev->t != floor(dev->t / GF_DEVICE_SLICE_S) * GF_DEVICE_SLICE_S)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "the device clock is not on an interval boundary");
	if (user->max_interruptions >= 0 &&
	    !(user->min_run_kwh >= 0 && isfinite(user->min_run_kwh)))
		return gf_err_set(err, errlen, GF_EINVAL, "min_run_kwh must be a finite kWh >= 0");
	if ((dev->kind == GF_DEVICE_THERMAL || dev->kind == GF_DEVICE_BATTERY)) {
		if (horizon < 1 || horizon > MAXS)
			return gf_err_set(err, errlen, GF_EINVAL, "horizon must be 1..%d slices",
			                  MAXS);
		if ((size_t)horizon > cap)
			return gf_err_set(err, errlen, GF_ERANGE,
			                  "horizon %d exceeds room for %zu slices", (int)horizon,
			                  cap);
		for (int32_t k = 0; dflt_in && k < horizon; k++)
			if (isinf(dflt_in[k]))
				return gf_err_set(err, errlen, GF_EINVAL,
				                  "default slice %d is infinite", (int)k);
	}
	switch (dev->kind) {
	case GF_DEVICE_THERMAL:
		e = thermal_offer(dev, user, horizon, dflt_in, &d, err, errlen);
		break;
	case GF_DEVICE_BATTERY:
		e = battery_offer(dev, user, horizon, dflt_in, &d, err, errlen);
		break;
	case GF_DEVICE_EV:
		e = ev_offer(dev, user, &d, cap, err, errlen);
		break;
	case GF_DEVICE_CYCLE:
		e = cycle_offer(dev, user, &d, cap, err, errlen);
		break;
	default:
		e = gf_err_set(err, errlen, GF_EINVAL, "unknown device kind");
	}
	if (e != GF_OK)
		return e;
	size_t bytes = (size_t)d.n * sizeof(double);
	memcpy(lower, d.lower, bytes);
	memcpy(upper, d.upper, bytes);
	memcpy(dflt, d.dflt, bytes);
	memset(out, 0, sizeof *out);
	out->start_after = d.start_after;
	out->tf = d.tf;
	out->n = d.n;
	out->lower = lower;
	out->upper = upper;
	out->dflt = dflt;
	out->total_min = d.total_min;
	out->total_max = d.total_max;
	out->tariff_min = NAN;
	out->tariff_max = NAN;
	return GF_OK;
}

enum gf_err gf_devoffer_commands(const struct gf_device *dev, const double *kwh, int32_t n,
                                 struct gf_devoffer_cmd *out)
{
	if (!dev || !kwh || !out || n < 0)
		return GF_EINVAL;
	for (int32_t k = 0; k < n; k++)
		if (!isfinite(kwh[k]) || (dev->kind != GF_DEVICE_BATTERY && kwh[k] < 0))
			return GF_EINVAL;
	double rated = dev->kind == GF_DEVICE_THERMAL ? dev->p.thermal.rated_kw
	               : dev->kind == GF_DEVICE_EV    ? dev->p.ev.max_kw
	                                              : 0;
	for (int32_t k = 0; k < n; k++) {
		out[k].kw = kwh[k] / SLICE_H;
		if (rated > 0)
			out[k].on_s = clamp(kwh[k] / (rated * SLICE_H), 0, 1) * GF_DEVICE_SLICE_S;
		else if (dev->kind == GF_DEVICE_CYCLE)
			out[k].on_s = GF_DEVICE_SLICE_S;
		else
			out[k].on_s = kwh[k] != 0 ? GF_DEVICE_SLICE_S : 0;
	}
	return GF_OK;
}
