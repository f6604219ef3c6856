/* SPDX-License-Identifier: MIT */
/*
 * energy.c - stored readings as energy per interval (energy.h): which
 * readings to fetch around a range, lib/meter's resampling, completeness,
 * grid point sums and the k_min rule.
 */
#include "energy.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "meter/resample.h"

/* The points handed to the resampler. */
struct points {
	struct gf_resample_point *p;
	size_t n, cap;
	int64_t last; /* the latest reading time seen, INT64_MIN: none */
};

static enum gf_err add_point(struct points *ps, int64_t t, double v)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 64;
		struct gf_resample_point *p = realloc(ps->p, cap * sizeof(*p));
		if (!p)
			return GF_ENOMEM;
		ps->p = p;
		ps->cap = cap;
	}
	ps->p[ps->n++] = (struct gf_resample_point){t, v};
	if (t > ps->last)
		ps->last = t;
	return GF_OK;
}

static enum gf_err collect(void *arg, const struct sp_reading *r)
{
	return add_point(arg, r->t_ms, r->value);
}

int64_t sp_energy_floor(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if (a % b != 0 && a < 0)
		q--;
	return q * b;
}

int64_t sp_energy_ceil(int64_t a, int64_t b)
{
	int64_t f = sp_energy_floor(a, b);

	return f == a ? a : f + b;
}

bool sp_energy_obis_ok(const char *obis)
{
	return strcmp(obis, GF_OBIS_REGISTER) == 0 || strcmp(obis, GF_OBIS_INTERVAL) == 0;
}

/* The code a meter's energy comes from (energy.h). */
static enum gf_err choose(struct sp_db *db, const char *meter, const char **obis, char *err,
                          size_t errlen)
{
	bool found = false;
	enum gf_err rc =
	    sp_db_edge(db, meter, GF_OBIS_REGISTER, INT64_MAX, -1, NULL, NULL, &found, err, errlen);

	if (rc == GF_OK)
		*obis = found ? GF_OBIS_REGISTER : GF_OBIS_INTERVAL;
	return rc;
}

enum gf_err sp_energy_meter(struct sp_db *db, const char *meter, const char *obis, int64_t from_ms,
                            int64_t len_ms, size_t count, double *out, char *err, size_t errlen)
{
	struct points ps = {.last = INT64_MIN};
	bool reg, found = false;
	int64_t to_ms, span, t = 0;
	double v = 0;
	double *e = NULL;
	enum gf_err rc;

	if (len_ms <= 0 || count > (size_t)INT64_MAX ||
	    __builtin_mul_overflow((int64_t)count, len_ms, &span) ||
	    __builtin_add_overflow(from_ms, span, &to_ms) || to_ms == INT64_MAX)
		return gf_err_set(err, errlen, GF_EINVAL, "intervals out of range");
	if (obis && !sp_energy_obis_ok(obis))
		return gf_err_set(err, errlen, GF_EINVAL, "OBIS %s is not energy", obis);
	if (!obis && (rc = choose(db, meter, &obis, err, errlen)) != GF_OK)
		return rc;
	reg = strcmp(obis, GF_OBIS_REGISTER) == 0;
	if (count == 0)
		return GF_OK;
	if (!(e = malloc(count * sizeof(*e))))
		return GF_ENOMEM;
	if (reg) {
		/* The reads at and between the boundaries, and one on each side
		 * for the interpolation at the outer boundaries. */
		rc = sp_db_edge(db, meter, obis, from_ms, -1, &t, &v, &found, err, errlen);
		if (rc == GF_OK && found)
			rc = add_point(&ps, t, v);
		if (rc == GF_OK)
			rc = sp_db_range(db, meter, obis, from_ms, to_ms + 1, 0, collect, &ps, err,
			                 errlen);
	} else {
		/* A reading at t is the period that ends at t: (from, to]. */
		rc = sp_db_range(db, meter, obis, from_ms + 1, to_ms + 1, 0, collect, &ps, err,
		                 errlen);
	}
	/* The first reading after the range: it completes what it follows
	 * (and is the register's right-hand neighbour). */
	if (rc == GF_OK)
		rc = sp_db_edge(db, meter, obis, to_ms, 1, &t, &v, &found, err, errlen);
	if (rc == GF_OK && found && reg)
		rc = add_point(&ps, t, v);
	else if (rc == GF_OK && found && t > ps.last)
		ps.last = t;
	if (rc != GF_OK)
		goto out;
	rc = reg ? gf_resample_register(ps.p, ps.n, from_ms, len_ms, count, e)
	         : gf_resample_interval(ps.p, ps.n, from_ms, len_ms, count, e);
	if (rc == GF_ERANGE) {
		gf_err_set(err, errlen, rc, "the register decreases");
		goto out;
	}
	if (rc != GF_OK) {
		gf_err_set(err, errlen, rc, "cannot resample: %s", gf_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		out[i] = from_ms + (int64_t)(i + 1) * len_ms <= ps.last ? e[i] : NAN;
out:
	free(ps.p);
	free(e);
	return rc;
}

enum gf_err sp_energy_grid(struct sp_db *db, const char *const *meters, size_t n, int64_t from_ms,
                           int64_t len_ms, size_t count, double *sum, uint32_t *have, size_t *bad,
                           char *err, size_t errlen)
{
	double *e = count ? malloc(count * sizeof(*e)) : NULL;
	enum gf_err rc = GF_OK;
	size_t nbad = 0;

	if (count && !e)
		return GF_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		sum[i] = 0;
		have[i] = 0;
	}
	for (size_t m = 0; m < n && count; m++) {
		rc = sp_energy_meter(db, meters[m], NULL, from_ms, len_ms, count, e, err, errlen);
		if (rc == GF_ERANGE) {
			nbad++;
			rc = GF_OK;
			continue;
		}
		if (rc != GF_OK)
			break;
		for (size_t i = 0; i < count; i++) {
			if (!isnan(e[i])) {
				sum[i] += e[i];
				have[i]++;
			}
		}
	}
	free(e);
	if (rc == GF_OK && bad)
		*bad = nbad;
	return rc;
}

enum sp_grid_verdict sp_energy_rule(size_t have, size_t members, size_t k_min, bool past_deadline)
{
	if (members < k_min)
		return SP_GRID_DROP;
	if (have >= k_min && (have >= members || past_deadline))
		return SP_GRID_SEND;
	return past_deadline ? SP_GRID_DROP : SP_GRID_WAIT;
}

enum gf_err sp_energy_affected(struct sp_db *db, const char *meter, int64_t from_ms, int64_t to_ms,
                               int64_t len_ms, int64_t *start, int64_t *end, char *err,
                               size_t errlen)
{
	const char *obis = NULL;
	int64_t prev = from_ms, next = to_ms, t = 0;
	double v;
	bool found = false;
	enum gf_err rc = choose(db, meter, &obis, err, errlen);

	if (rc == GF_OK)
		rc = sp_db_edge(db, meter, obis, from_ms, -1, &t, &v, &found, err, errlen);
	if (rc == GF_OK && found)
		prev = t;
	if (rc == GF_OK)
		rc = sp_db_edge(db, meter, obis, to_ms, 1, &t, &v, &found, err, errlen);
	if (rc == GF_OK && found)
		next = t;
	if (rc != GF_OK)
		return rc;
	/* A register's boundary value between prev and next can change: the
	 * intervals ending at or after prev up to the one starting at or
	 * before next. For interval readings that also covers the interval
	 * holding each reading and the ones a later reading completes. */
	*start = sp_energy_ceil(prev, len_ms) - len_ms;
	*end = sp_energy_floor(next, len_ms) + len_ms;
	return GF_OK;
}

enum gf_err sp_energy_span(struct sp_db *db, const char *meter, int64_t *first, int64_t *last,
                           bool *found, char *err, size_t errlen)
{
	const char *obis = NULL;
	int64_t a = 0, b = 0;
	double v;
	bool f = false;
	enum gf_err rc = choose(db, meter, &obis, err, errlen);

	if (rc == GF_OK)
		rc = sp_db_edge(db, meter, obis, INT64_MIN, 1, &a, &v, &f, err, errlen);
	if (rc == GF_OK && f)
		rc = sp_db_edge(db, meter, obis, INT64_MAX, -1, &b, &v, &f, err, errlen);
	if (rc != GF_OK)
		return rc;
	*found = f;
	if (f) {
		*first = a;
		*last = b;
	}
	return GF_OK;
}
