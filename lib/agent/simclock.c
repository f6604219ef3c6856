/* SPDX-License-Identifier: MIT */
#include "agent/simclock.h"

#include <math.h>
#include <stdint.h>
#include <time.h>

enum gf_err gf_simclock_init(struct gf_simclock *c, double epoch_s, double origin_s, double scale)
{
	if (!isfinite(epoch_s) || !isfinite(origin_s) || !isfinite(scale) || scale <= 0)
		return GF_EINVAL;
	c->epoch_s = epoch_s;
	c->origin_s = origin_s;
	c->scale = scale;
	return GF_OK;
}

double gf_simclock_real_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double gf_simclock_at(const struct gf_simclock *c, double real_s)
{
	return c->epoch_s + (real_s - c->origin_s) * c->scale;
}

double gf_simclock_now(const struct gf_simclock *c)
{
	return gf_simclock_at(c, gf_simclock_real_now());
}

double gf_simclock_real_at(const struct gf_simclock *c, double sim_s)
{
	return c->origin_s + (sim_s - c->epoch_s) / c->scale;
}

int64_t gf_simclock_ms_until(const struct gf_simclock *c, double sim_s)
{
	double ms = ceil((gf_simclock_real_at(c, sim_s) - gf_simclock_real_now()) * 1000.0);

	if (!(ms > 0))
		return 0;
	return ms > (double)INT32_MAX ? INT32_MAX : (int64_t)ms;
}

int64_t gf_simclock_interval(double sim_s)
{
	return (int64_t)floor(sim_s / GF_INTERVAL_S);
}
