/* SPDX-License-Identifier: MIT */
/*
 * powerflow.c - the backward/forward sweep, and its summary.
 */
#include "grid/powerflow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A voltage below this share of the base is a collapse, not a solution: a
 * constant-power load's current would grow without bound. */
#define V_COLLAPSE_PU 0.2

static const char phase_name[] = "ABC";

enum gf_err gf_pf_result_init(const struct gf_feeder *f, struct gf_pf_result *r, char *err,
                              size_t errlen)
{
	struct gf_pf_result n = {
	    .nbus = f->nbus,
	    .nline = f->nline,
	    .nload = f->nload,
	    .tol_pu = GF_PF_TOL_PU,
	    .max_iter = GF_PF_MAX_ITER,
	};

	n.v = calloc(f->nbus, sizeof(*n.v));
	n.work = calloc(f->nbus, sizeof(*n.work));
	n.i = calloc(f->nline ? f->nline : 1, sizeof(*n.i));
	if (!n.v || !n.work || !n.i) {
		gf_pf_result_free(&n);
		return gf_err_set(err, errlen, GF_ENOMEM, "power flow: out of memory for %zu buses",
		                  f->nbus);
	}
	*r = n;
	return GF_OK;
}

void gf_pf_result_free(struct gf_pf_result *r)
{
	if (!r)
		return;
	free(r->v);
	free(r->i);
	free(r->work);
	memset(r, 0, sizeof(*r));
}

/* y = a x for a 3x3 complex matrix a, row by row (a flat pointer: a const
 * two-dimensional array parameter draws a pedantic warning before C2X). */
static inline void mul3(const double complex *a, const double complex *x, double complex *y)
{
	for (int k = 0; k < 3; k++)
		y[k] = a[3 * k] * x[0] + a[3 * k + 1] * x[1] + a[3 * k + 2] * x[2];
}

static enum gf_err check_input(const struct gf_feeder *f, const double *p_kw, const double *q_kvar,
                               const struct gf_pf_result *r, char *err, size_t errlen)
{
	if (r->nbus != f->nbus || r->nline != f->nline || r->nload != f->nload || !r->v)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "power flow: the result was sized for another feeder");
	for (size_t k = 0; k < f->nload; k++) {
		if (!isfinite(p_kw[k]))
			return gf_err_set(err, errlen, GF_EINVAL, "power flow: load %s: P %g kW",
			                  f->load[k].name, p_kw[k]);
		if (q_kvar && !isfinite(q_kvar[k]))
			return gf_err_set(err, errlen, GF_EINVAL, "power flow: load %s: Q %g kvar",
			                  f->load[k].name, q_kvar[k]);
	}
	return GF_OK;
}

/*
 * Backward: every load's current at the present voltages, summed up the
 * tree into each line and into the supply (r->work[root]). False if a
 * loaded phase's voltage has collapsed (*bad is then the load).
 */
static bool backward(const struct gf_feeder *f, const double *p_kw, const double *q_kvar,
                     struct gf_pf_result *r, size_t *bad)
{
	double complex(*j)[3] = r->work;
	double v_min2 = V_COLLAPSE_PU * f->supply.v_base;

	v_min2 *= v_min2;
	memset(j, 0, f->nbus * sizeof(*j));
	for (size_t k = 0; k < f->nload; k++) {
		const struct gf_feeder_load *ld = &f->load[k];
		double complex v = r->v[ld->bus][ld->phase];
		double vr = creal(v), vi = cimag(v), m2 = vr * vr + vi * vi;
		double p = p_kw[k] * 1000.0;
		double q = q_kvar ? q_kvar[k] * 1000.0 : p * tan(acos(ld->pf));

		if (!(m2 >= v_min2)) {
			*bad = k;
			return false;
		}
		/* I = conj(S / V) = (P - jQ) V / |V|^2, without a complex division. */
		j[ld->bus][ld->phase] += CMPLX((p * vr + q * vi) / m2, (p * vi - q * vr) / m2);
	}
	for (size_t n = f->nbus; n-- > 1;) {
		size_t b = f->order[n], l = f->up[b], up = f->line[l].from;

		for (int ph = 0; ph < 3; ph++) {
			r->i[l][ph] = j[b][ph];
			j[up][ph] += j[b][ph];
		}
	}
	return true;
}

/* Forward: the voltages down from the supply; returns the largest change, V. */
static double forward(const struct gf_feeder *f, struct gf_pf_result *r)
{
	double complex dv[3], vn[3];
	double worst2 = 0;

	mul3(&f->supply.zth[0][0], r->work[f->root], dv);
	for (int ph = 0; ph < 3; ph++) {
		vn[ph] = f->supply.e[ph] - dv[ph];
		dv[ph] = vn[ph] - r->v[f->root][ph];
		worst2 =
		    fmax(worst2, creal(dv[ph]) * creal(dv[ph]) + cimag(dv[ph]) * cimag(dv[ph]));
		r->v[f->root][ph] = vn[ph];
	}
	for (size_t n = 1; n < f->nbus; n++) {
		size_t b = f->order[n], l = f->up[b];
		const double complex *vu = r->v[f->line[l].from];

		mul3(&f->line[l].z[0][0], r->i[l], dv);
		for (int ph = 0; ph < 3; ph++) {
			double complex v = vu[ph] - dv[ph], d = v - r->v[b][ph];

			worst2 = fmax(worst2, creal(d) * creal(d) + cimag(d) * cimag(d));
			r->v[b][ph] = v;
		}
	}
	return sqrt(worst2);
}

enum gf_err gf_pf_solve(const struct gf_feeder *f, const double *p_kw, const double *q_kvar,
                        struct gf_pf_result *r, char *err, size_t errlen)
{
	double tol = r->tol_pu * f->supply.v_base, change = INFINITY;
	enum gf_err rc = check_input(f, p_kw, q_kvar, r, err, errlen);
	unsigned it = 0;
	size_t bad = 0;

	if (rc != GF_OK)
		return rc;
	if (!(r->warm_start && r->solved))
		for (size_t b = 0; b < f->nbus; b++)
			memcpy(r->v[b], f->supply.e, sizeof(r->v[b]));
	r->solved = false;
	r->load_kw = r->load_kvar = 0;
	for (size_t k = 0; k < f->nload; k++) {
		r->load_kw += p_kw[k];
		r->load_kvar += q_kvar ? q_kvar[k] : p_kw[k] * tan(acos(f->load[k].pf));
	}
	while (it < r->max_iter && !(change <= tol)) {
		if (!backward(f, p_kw, q_kvar, r, &bad)) {
			r->iterations = it;
			return gf_err_set(err, errlen, GF_ERANGE,
			                  "power flow: the voltage of load %s (bus %s, phase %c) "
			                  "collapsed to %.1f V at iteration %u: the loads' %.1f kW "
			                  "are more than the feeder can carry",
			                  f->load[bad].name, f->bus[f->load[bad].bus],
			                  phase_name[f->load[bad].phase],
			                  cabs(r->v[f->load[bad].bus][f->load[bad].phase]), it,
			                  r->load_kw);
		}
		change = forward(f, r);
		it++;
	}
	r->iterations = it;
	r->change_pu = change / f->supply.v_base;
	if (!(change <= tol))
		return gf_err_set(err, errlen, GF_ERANGE,
		                  "power flow: no convergence in %u iterations (voltages still "
		                  "move by %.3g pu, tolerance %.3g) with the loads' %.1f kW",
		                  it, r->change_pu, r->tol_pu, r->load_kw);
	/* One more backward sweep: the currents (and what the transformer
	 * delivers) are then those of the loads at the reported voltages, which
	 * themselves are within tol of those the currents give. */
	if (!backward(f, p_kw, q_kvar, r, &bad))
		return gf_err_set(err, errlen, GF_ERANGE, "power flow: load %s collapsed",
		                  f->load[bad].name);
	for (int ph = 0; ph < 3; ph++)
		r->s_tx[ph] = r->v[f->root][ph] * conj(r->work[f->root][ph]) / 1000.0;
	r->solved = true;
	return GF_OK;
}

void gf_pf_summarize(const struct gf_feeder *f, const struct gf_pf_result *r,
                     struct gf_pf_summary *s)
{
	double worst = 0, phase_max = 0;

	memset(s, 0, sizeof(*s));
	for (int ph = 0; ph < 3; ph++) {
		s->p_kw[ph] = creal(r->s_tx[ph]);
		s->q_kvar[ph] = cimag(r->s_tx[ph]);
		s->s_kva[ph] = cabs(r->s_tx[ph]);
		s->p_kw_total += s->p_kw[ph];
		s->q_kvar_total += s->q_kvar[ph];
		phase_max = fmax(phase_max, s->s_kva[ph]);
	}
	s->s_kva_total = hypot(s->p_kw_total, s->q_kvar_total);
	s->loading_pct = 100.0 * s->s_kva_total / f->supply.kva;
	s->phase_loading_pct = 100.0 * phase_max / (f->supply.kva / 3.0);
	s->loss_kw = s->p_kw_total - r->load_kw;

	s->v_min_pu = INFINITY;
	s->v_max_pu = -INFINITY;
	for (size_t b = 0; b < f->nbus; b++)
		for (unsigned ph = 0; ph < 3; ph++) {
			double v = cabs(r->v[b][ph]) / f->supply.v_base;

			if (v < s->v_min_pu)
				s->v_min_pu = v, s->v_min_bus = b, s->v_min_phase = ph;
			if (v > s->v_max_pu)
				s->v_max_pu = v, s->v_max_bus = b, s->v_max_phase = ph;
		}

	s->line_max = GF_FEEDER_NONE;
	for (size_t l = 0; l < f->nline; l++) {
		if (!(f->line[l].amps > 0))
			continue;
		for (unsigned ph = 0; ph < 3; ph++) {
			double a = cabs(r->i[l][ph]);

			if (s->line_max == GF_FEEDER_NONE || a / f->line[l].amps > worst) {
				worst = a / f->line[l].amps;
				s->line_max = l, s->line_max_phase = ph, s->line_max_a = a;
			}
		}
	}
	s->line_max_pct = 100.0 * worst;
}
