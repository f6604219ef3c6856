/* SPDX-License-Identifier: MIT */
/*
 * device.c - shiftable device models (device.h, docs/devices.md).
 *
 * A step is cut into pieces at interval boundaries, so that the heat draw,
 * the EV's plug-in window and the cycle's slices are constant within a
 * piece; each model then solves its piece exactly (no Euler error), which
 * makes the result independent of how finely the caller steps.
 */
#include "devices/device.h"

#include <math.h>
#include <stdio.h>

#define SLICE ((double)GF_DEVICE_SLICE_S)

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static int32_t interval_of(double t)
{
	return (int32_t)floor(t / SLICE);
}

static int32_t of_day(int32_t interval)
{
	int32_t d = interval % GF_DEVICE_DAY;
	return d < 0 ? d + GF_DEVICE_DAY : d;
}

/* --- thermal ----------------------------------------------------------------- */

void gf__device_thermal_affine(const struct gf_device_thermal_params *p, double draw_kw,
                               double hours, double temp, double *a, double *b)
{
	if (p->ua_kw_k > 0) {
		/* T(h) = Teq + (T0 - Teq) e^{-UA h / C}, Teq = Ta + (P cop - draw) / UA.
		 * -expm1 keeps 1 - e accurate when UA h / C is tiny. */
		double e = exp(-p->ua_kw_k * hours / p->c_kwh_k);
		double one_e = -expm1(-p->ua_kw_k * hours / p->c_kwh_k);
		*a = temp * e + one_e * (p->t_ambient - draw_kw / p->ua_kw_k);
		*b = one_e * p->cop / p->ua_kw_k;
	} else {
		*a = temp - hours * draw_kw / p->c_kwh_k;
		*b = hours * p->cop / p->c_kwh_k;
	}
}

enum gf_err gf_device_thermal_init(struct gf_device *dev, const struct gf_device_thermal_params *p,
                                   double t0, char *err, size_t errlen)
{
	if (!dev || !p)
		return gf_err_set(err, errlen, GF_EINVAL, "no device or no parameters");
	if (!isfinite(t0))
		return gf_err_set(err, errlen, GF_EINVAL, "start time is not finite");
	if (!(isfinite(p->rated_kw) && p->rated_kw > 0))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "rated power must be a positive number of kW");
	if (!(isfinite(p->cop) && p->cop > 0))
		return gf_err_set(err, errlen, GF_EINVAL, "COP must be positive");
	if (!(isfinite(p->c_kwh_k) && p->c_kwh_k > 0))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "thermal capacity must be positive (kWh/K)");
	if (!(isfinite(p->ua_kw_k) && p->ua_kw_k >= 0))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "loss coefficient UA must be >= 0 (kW/K)");
	if (!isfinite(p->t_ambient))
		return gf_err_set(err, errlen, GF_EINVAL, "ambient temperature is not finite");
	if (!(isfinite(p->t_min) && isfinite(p->t_max) && p->t_min < p->t_max))
		return gf_err_set(err, errlen, GF_EINVAL, "temperature band needs t_min < t_max");
	if (!(p->t0 >= p->t_min && p->t0 <= p->t_max))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "initial temperature %g is outside [%g, %g]", p->t0, p->t_min,
		                  p->t_max);
	for (int i = 0; i < GF_DEVICE_DAY; i++)
		if (!(isfinite(p->draw_kw[i]) && p->draw_kw[i] >= 0))
			return gf_err_set(err, errlen, GF_EINVAL,
			                  "heat draw of interval %d must be >= 0 kW", i);
	*dev = (struct gf_device){.kind = GF_DEVICE_THERMAL, .t = t0, .p.thermal = *p};
	dev->temp = p->t0;
	dev->run_start = NAN;
	return GF_OK;
}

static double thermal_piece(struct gf_device *dev, double secs, double kw)
{
	const struct gf_device_thermal_params *p = &dev->p.thermal;
	double hours = secs / 3600.0, a, b;
	double power = clamp(kw, 0, p->rated_kw);

	gf__device_thermal_affine(p, p->draw_kw[of_day(interval_of(dev->t))], hours, dev->temp, &a,
	                          &b);
	/* The thermostat: the trajectory within a piece is monotone, so the
	 * band holds throughout if it holds at the end. */
	if (a + b * power > p->t_max)
		power = fmax(0, (p->t_max - a) / b);
	if (a + b * power < p->t_min)
		power = fmin(p->rated_kw, (p->t_min - a) / b);
	dev->temp = a + b * power;
	return power * hours;
}

/* --- EV ------------------------------------------------------------------------ */

/* Departure time of the session that arrived in interval `arrived`. */
static double ev_departure(const struct gf_device_ev_params *p, int32_t arrived)
{
	int32_t stay = p->depart - p->arrive;
	if (stay <= 0)
		stay += GF_DEVICE_DAY;
	return ((double)arrived + stay) * SLICE;
}

enum gf_err gf_device_ev_init(struct gf_device *dev, const struct gf_device_ev_params *p, double t0,
                              char *err, size_t errlen)
{
	if (!dev || !p)
		return gf_err_set(err, errlen, GF_EINVAL, "no device or no parameters");
	if (!isfinite(t0))
		return gf_err_set(err, errlen, GF_EINVAL, "start time is not finite");
	if (!(isfinite(p->capacity_kwh) && p->capacity_kwh > 0))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "battery capacity must be positive (kWh)");
	if (!(isfinite(p->max_kw) && p->max_kw > 0))
		return gf_err_set(err, errlen, GF_EINVAL, "charging power must be positive (kW)");
	if (!(p->efficiency > 0 && p->efficiency <= 1))
		return gf_err_set(err, errlen, GF_EINVAL, "charging efficiency must be in (0, 1]");
	if (p->arrive < 0 || p->arrive >= GF_DEVICE_DAY || p->depart < 0 ||
	    p->depart >= GF_DEVICE_DAY)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "arrival and departure must be intervals of the day, 0..95");
	if (!(p->soe_arrive_kwh >= 0 && p->soe_arrive_kwh <= p->soe_target_kwh &&
	      p->soe_target_kwh <= p->capacity_kwh))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "need 0 <= energy on arrival <= target <= capacity");
	*dev = (struct gf_device){.kind = GF_DEVICE_EV, .t = t0, .p.ev = *p};
	dev->depart_t = -INFINITY;
	dev->run_start = NAN;
	int32_t i = interval_of(t0);
	int32_t arrived = i - of_day(of_day(i) - p->arrive);
	if (t0 < ev_departure(p, arrived)) {
		dev->connected = 1;
		dev->soe_kwh = p->soe_arrive_kwh;
		dev->depart_t = ev_departure(p, arrived);
	}
	return GF_OK;
}

static double ev_piece(struct gf_device *dev, double secs, double kw)
{
	const struct gf_device_ev_params *p = &dev->p.ev;
	int32_t i = interval_of(dev->t);

	if (dev->connected && dev->t >= dev->depart_t)
		dev->connected = 0;
	if (!dev->connected && of_day(i) == p->arrive && dev->t >= dev->depart_t) {
		dev->connected = 1;
		dev->soe_kwh = p->soe_arrive_kwh;
		dev->depart_t = ev_departure(p, i);
	}
	if (!dev->connected)
		return 0;
	double hours = secs / 3600.0, eta = p->efficiency;
	double room = fmax(0, p->soe_target_kwh - dev->soe_kwh);
	double power = fmin(clamp(kw, 0, p->max_kw), room / (eta * hours));
	/* Must-charge: what the charger can still store after this piece must
	 * cover what is missing, or the car leaves short. */
	double left_h = fmax(0, (dev->depart_t - dev->t - secs) / 3600.0);
	double must = room - p->max_kw * eta * left_h;
	if (must > 0)
		power = fmax(power, fmin(p->max_kw, must / (eta * hours)));
	dev->soe_kwh = fmin(p->soe_target_kwh, dev->soe_kwh + power * eta * hours);
	return power * hours;
}

/* --- battery ------------------------------------------------------------------- */

enum gf_err gf_device_battery_init(struct gf_device *dev, const struct gf_device_battery_params *p,
                                   double t0, char *err, size_t errlen)
{
	if (!dev || !p)
		return gf_err_set(err, errlen, GF_EINVAL, "no device or no parameters");
	if (!isfinite(t0))
		return gf_err_set(err, errlen, GF_EINVAL, "start time is not finite");
	if (!(isfinite(p->capacity_kwh) && p->capacity_kwh > 0))
		return gf_err_set(err, errlen, GF_EINVAL, "capacity must be positive (kWh)");
	if (!(p->soc_min >= 0 && p->soc_min <= p->soc0 && p->soc0 <= p->soc_max && p->soc_max <= 1))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "need 0 <= soc_min <= soc0 <= soc_max <= 1");
	if (!(isfinite(p->charge_kw) && p->charge_kw > 0 && isfinite(p->discharge_kw) &&
	      p->discharge_kw > 0))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "charge and discharge limits must be positive (kW)");
	if (!(p->round_trip > 0 && p->round_trip <= 1))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "round-trip efficiency must be in (0, 1]");
	*dev = (struct gf_device){.kind = GF_DEVICE_BATTERY, .t = t0, .p.battery = *p};
	dev->soc = p->soc0;
	dev->run_start = NAN;
	return GF_OK;
}

static double battery_piece(struct gf_device *dev, double secs, double kw)
{
	const struct gf_device_battery_params *p = &dev->p.battery;
	double hours = secs / 3600.0, eta = sqrt(p->round_trip);
	double power = clamp(kw, -p->discharge_kw, p->charge_kw);

	if (power > 0) {
		power = fmin(power, (p->soc_max - dev->soc) * p->capacity_kwh / (eta * hours));
		power = fmax(power, 0);
		dev->soc = fmin(p->soc_max, dev->soc + power * hours * eta / p->capacity_kwh);
	} else if (power < 0) {
		power = fmax(power, -(dev->soc - p->soc_min) * p->capacity_kwh * eta / hours);
		power = fmin(power, 0);
		dev->soc = fmax(p->soc_min, dev->soc + power * hours / (eta * p->capacity_kwh));
	}
	return power * hours;
}

/* --- white goods ----------------------------------------------------------------- */

enum gf_err gf_device_cycle_init(struct gf_device *dev, const struct gf_device_cycle_params *p,
                                 double t0, char *err, size_t errlen)
{
	if (!dev || !p)
		return gf_err_set(err, errlen, GF_EINVAL, "no device or no parameters");
	if (!isfinite(t0))
		return gf_err_set(err, errlen, GF_EINVAL, "start time is not finite");
	if (p->n < 1 || p->n > GF_DEVICE_MAX_CYCLE)
		return gf_err_set(err, errlen, GF_EINVAL, "a cycle has 1..%d slices",
		                  GF_DEVICE_MAX_CYCLE);
	for (int32_t k = 0; k < p->n; k++)
		if (!(isfinite(p->kwh[k]) && p->kwh[k] >= 0))
			return gf_err_set(err, errlen, GF_EINVAL,
			                  "slice %d of the cycle must be >= 0 kWh", (int)k);
	if (!(p->kwh[0] > 0))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "the first slice of the cycle must draw energy");
	if (p->earliest < 0 || p->earliest > p->latest || p->latest >= GF_DEVICE_DAY)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "need 0 <= earliest <= latest <= 95 (intervals of the day)");
	*dev = (struct gf_device){.kind = GF_DEVICE_CYCLE, .t = t0, .p.cycle = *p};
	dev->run_start = NAN;
	return GF_OK;
}

static double cycle_piece(struct gf_device *dev, double secs, double kw)
{
	const struct gf_device_cycle_params *p = &dev->p.cycle;
	int32_t i = interval_of(dev->t), d = of_day(i);
	int running = !isnan(dev->run_start) && dev->t < dev->run_start + p->n * SLICE;

	if (!running && dev->t == i * SLICE && d >= p->earliest && d <= p->latest &&
	    (kw > 0 || d == p->latest) &&
	    (isnan(dev->run_start) || floor(dev->run_start / 86400.0) != floor(dev->t / 86400.0))) {
		dev->run_start = dev->t;
		running = 1;
	}
	if (!running)
		return 0;
	int32_t j = (int32_t)floor((dev->t - dev->run_start) / SLICE);
	return p->kwh[j] * secs / SLICE;
}

/* --- common ------------------------------------------------------------------------ */

enum gf_err gf_device_step(struct gf_device *dev, double dt, double kw, double *kwh)
{
	if (!dev || !kwh || !(isfinite(dt) && dt > 0) || !isfinite(kw))
		return GF_EINVAL;
	double end = dev->t + dt, total = 0;
	while (dev->t < end) {
		double boundary = (interval_of(dev->t) + 1) * SLICE;
		double next = boundary < end ? boundary : end;
		double secs = next - dev->t;
		switch (dev->kind) {
		case GF_DEVICE_THERMAL:
			total += thermal_piece(dev, secs, kw);
			break;
		case GF_DEVICE_EV:
			total += ev_piece(dev, secs, kw);
			break;
		case GF_DEVICE_BATTERY:
			total += battery_piece(dev, secs, kw);
			break;
		case GF_DEVICE_CYCLE:
			total += cycle_piece(dev, secs, kw);
			break;
		}
		/* Land exactly on the boundary: t + (b - t) need not equal b. */
		dev->t = next;
	}
	*kwh = total;
	return GF_OK;
}

enum gf_err gf_device_follow(struct gf_device *dev, const double *target_kwh, size_t n,
                             double *actual)
{
	if (!dev || (n && (!target_kwh || !actual)) || dev->t != interval_of(dev->t) * SLICE)
		return GF_EINVAL;
	for (size_t k = 0; k < n; k++)
		if (!isfinite(target_kwh[k]))
			return GF_EINVAL;
	for (size_t k = 0; k < n; k++) {
		double kwh = 0;
		(void)gf_device_step(dev, SLICE, target_kwh[k] * 3600.0 / SLICE, &kwh);
		actual[k] = kwh;
	}
	return GF_OK;
}

double gf_device_uncontrolled_kw(const struct gf_device *dev)
{
	switch (dev->kind) {
	case GF_DEVICE_THERMAL: {
		/* Aim for the middle of the band at the end of the interval. */
		const struct gf_device_thermal_params *p = &dev->p.thermal;
		double a, b;
		gf__device_thermal_affine(p, p->draw_kw[of_day(interval_of(dev->t))], 0.25,
		                          dev->temp, &a, &b);
		return clamp(((p->t_min + p->t_max) / 2 - a) / b, 0, p->rated_kw);
	}
	case GF_DEVICE_EV:
		return dev->connected && dev->soe_kwh < dev->p.ev.soe_target_kwh ? dev->p.ev.max_kw
		                                                                 : 0;
	case GF_DEVICE_BATTERY:
		return 0;
	case GF_DEVICE_CYCLE:
		/* Started by hand as soon as the window opens. */
		return dev->p.cycle.kwh[0] * 3600.0 / SLICE;
	}
	return 0;
}

int32_t gf_device_interval(const struct gf_device *dev)
{
	return interval_of(dev->t);
}
