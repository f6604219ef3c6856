/* SPDX-License-Identifier: MIT */
/* optimum.c - the day's optimum from FMAN's offers (optimum.h). */
#include "optimum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fo_message.h"
#include "engine/optimum.h"
#include "payload/codec.h"
#include "sources.h"

/* The offers read, each with its own slice arrays. */
struct offers {
	struct gf_fo *fo;
	double **slices; /* per offer: lower, upper, dflt in one block */
	char **who;      /* per offer: offeredById */
	size_t count, cap;
};

static void offers_free(struct offers *o)
{
	for (size_t i = 0; i < o->count; i++) {
		free(o->slices[i]);
		free(o->who[i]);
	}
	free(o->fo);
	free(o->slices);
	free(o->who);
}

/* The kind of a gf-sim label "<prosumer>.<kind>.<creationInterval>". */
static void count_kind(const char *label, struct report_optimum *opt)
{
	const char *end = label ? strrchr(label, '.') : NULL, *start = end;

	while (start && start > label && start[-1] != '.')
		start--;
	if (!start || start == label || !end) {
		opt->kinds_other++;
		return;
	}
	size_t len = (size_t)(end - start);
	if (len == 7 && strncmp(start, "battery", len) == 0)
		opt->kinds_battery++;
	else if (len == 2 && strncmp(start, "ev", len) == 0)
		opt->kinds_ev++;
	else if (len == 6 && strncmp(start, "washer", len) == 0)
		opt->kinds_washer++;
	else if ((len == 6 && strncmp(start, "boiler", len) == 0) ||
	         (len == 8 && strncmp(start, "heatpump", len) == 0))
		opt->kinds_thermal++;
	else
		opt->kinds_other++;
}

/* Takes the offer in body when its window touches [from, to). 1 taken, 0
 * not (outside the day, or not an offer the engine can read: counted in
 * skipped), -1 out of memory. */
static int take(struct offers *o, const char *body, int64_t from, int64_t to,
                struct report_optimum *opt)
{
	ProtobufCMessage *msg = NULL;
	const Goflex__FlexOffer *m;
	char err[256];
	double *block = NULL;
	struct gf_fo fo;
	size_t n;
	int rc = 0;

	if (!body || gf_codec_from_json(&goflex__flex_offer__descriptor, body, strlen(body), &msg,
	                                err, sizeof(err)) != GF_OK) {
		opt->skipped++;
		return 0;
	}
	m = (const Goflex__FlexOffer *)msg;
	n = m->n_flexofferprofileconstraints;
	block = n ? malloc(3 * n * sizeof(*block)) : NULL;
	if (n && !block) {
		rc = -1;
		goto out;
	}
	if (!n || gf_fo_from_message(m, &fo, block, block + n, block + 2 * n, n, err,
	                             sizeof(err)) != GF_OK) {
		opt->skipped++;
		goto out;
	}
	if ((int64_t)fo.start_after + fo.tf + fo.n <= from || fo.start_after >= to)
		goto out;
	if (o->count == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		struct gf_fo *f = realloc(o->fo, cap * sizeof(*f));
		if (f)
			o->fo = f;
		double **s = realloc(o->slices, cap * sizeof(*s));
		if (s)
			o->slices = s;
		char **w = realloc(o->who, cap * sizeof(*w));
		if (w)
			o->who = w;
		if (!f || !s || !w) {
			rc = -1;
			goto out;
		}
		o->cap = cap;
	}
	o->who[o->count] = strdup(m->offeredbyid ? m->offeredbyid : "");
	if (!o->who[o->count]) {
		rc = -1;
		goto out;
	}
	count_kind(m->label, opt);
	o->fo[o->count] = fo;
	o->slices[o->count] = block;
	block = NULL;
	o->count++;
	rc = 1;
out:
	free(block);
	gf_codec_free(msg);
	return rc;
}

static int read_offers(const char *dir, int64_t from, int64_t to, struct offers *o,
                       struct report_optimum *opt)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1, step = SQLITE_DONE;

	if (report_sources_open(dir, "fman/fman", &db) != 0)
		return -1;
	if (!db) {
		snprintf(opt->note, sizeof(opt->note), "no fman.db: no offers");
		return 0;
	}
	if (sqlite3_prepare_v2(db, "SELECT body FROM offers WHERE state != 'Canceled' ORDER BY pid",
	                       -1, &st, NULL) != SQLITE_OK) {
		if (strstr(sqlite3_errmsg(db), "no such table")) {
			snprintf(opt->note, sizeof(opt->note), "no offers table in fman.db");
			rc = 0;
		}
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (take(o, (const char *)sqlite3_column_text(st, 0), from, to, opt) < 0) {
			fprintf(stderr, "gf-report: out of memory\n");
			goto out;
		}
	if (step == SQLITE_DONE)
		rc = 0;
out:
	if (rc != 0 && step != SQLITE_ROW)
		fprintf(stderr, "gf-report: cannot read the offers in %s/state/fman/fman.db: %s\n",
		        dir, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int distinct(char **who, size_t count)
{
	int n = 0;

	if (!count)
		return 0;
	qsort(who, count, sizeof(*who), by_string);
	for (size_t i = 0; i < count; i++)
		n += i == 0 || strcmp(who[i], who[i - 1]) != 0;
	return n;
}

/* The load no offer moves at interval t of the horizon. In the day, where
 * gf-sim has rows: the baseline minus the offers' defaults. Around the day
 * (offers that run past its ends, an EV charging after midnight): the
 * households' base load of the same time of day, which repeats every day
 * (docs/sim.md), so that the optimum does not move energy into an evening
 * or a night as if that were empty; devices without an offer there are not
 * known and count nothing. */
static double fixed_at(const struct report_day *d, int64_t t, bool in_day)
{
	const struct report_slot *s =
	    &d->slot[((t - d->first) % REPORT_DAY_SLOTS + REPORT_DAY_SLOTS) % REPORT_DAY_SLOTS];

	return in_day ? s->baseline : s->base;
}

int report_optimum_compute(const char *dir, bool relax, double time_limit_s, struct report_day *d)
{
	struct report_optimum *opt = &d->opt;
	struct offers o = {0};
	double *fixed = NULL, *load = NULL, *rload = NULL, relaxation = 0;
	int64_t h0, h1, day0, day1;
	int rc = -1, lo = -1, hi = -1;
	char err[256];

	for (int i = 0; i < REPORT_DAY_SLOTS; i++)
		if (d->slot[i].rows) {
			if (lo < 0)
				lo = i;
			hi = i;
		}
	opt->relax = relax;
	if (lo < 0)
		return 0;
	/* The reported part: the day's first interval with rows to its last. */
	day0 = d->first + lo;
	day1 = d->first + hi + 1;
	if (read_offers(dir, day0, day1, &o, opt) != 0)
		goto out;
	/* The horizon: the reported part and, at most a day either side, what
	 * the offers' windows span beyond it. */
	h0 = day0;
	h1 = day1;
	for (size_t k = 0; k < o.count; k++) {
		h0 = o.fo[k].start_after < h0 ? o.fo[k].start_after : h0;
		h1 = (int64_t)o.fo[k].start_after + o.fo[k].tf + o.fo[k].n > h1
		         ? (int64_t)o.fo[k].start_after + o.fo[k].tf + o.fo[k].n
		         : h1;
	}
	h0 = h0 < day0 - REPORT_DAY_SLOTS ? day0 - REPORT_DAY_SLOTS : h0;
	h1 = h1 > day1 + REPORT_DAY_SLOTS ? day1 + REPORT_DAY_SLOTS : h1;
	fixed = calloc((size_t)(h1 - h0), sizeof(*fixed));
	load = calloc((size_t)(h1 - h0), sizeof(*load));
	rload = calloc((size_t)(h1 - h0), sizeof(*rload));
	if (!fixed || !load || !rload) {
		fprintf(stderr, "gf-report: out of memory\n");
		goto out;
	}
	for (int64_t t = h0; t < h1; t++)
		fixed[t - h0] = fixed_at(d, t, t >= day0 && t < day1);
	for (size_t k = 0; k < o.count; k++) {
		const struct gf_fo *f = &o.fo[k];
		for (int32_t j = 0; j < f->n; j++) {
			int64_t t = (int64_t)f->start_after + j;
			if (t >= day0 && t < day1)
				fixed[t - h0] -=
				    f->dflt ? f->dflt[j] : (f->lower[j] + f->upper[j]) / 2;
		}
	}
	struct gf_optimum_problem p = {.start = (int32_t)h0,
	                               .intervals = (int32_t)(h1 - h0),
	                               .fixed = fixed,
	                               .limit = d->limit_kwh,
	                               .offers = o.fo,
	                               .count = o.count,
	                               .relax = relax,
	                               .time_limit_s = time_limit_s};
	struct gf_optimum_result r = {.load = load, .relaxed_load = rload};
	enum gf_err e = gf_optimum_solve(&p, &r, err, sizeof(err));
	if (e != GF_OK) {
		fprintf(stderr, "gf-report: the optimum: %s: %s\n", gf_strerror(e), err);
		goto out;
	}
	for (int64_t t = day0; t < day1; t++) {
		struct report_slot *s = report_day_slot(d, t);
		double v = fixed[t - h0];
		if (!s->rows)
			continue;
		s->fixed = v;
		s->optimum = load[t - h0];
		relaxation += fmax(0.0, rload[t - h0] - d->limit_kwh);
		opt->fixed_negative += v < -1e-6;
		opt->fixed_overload += fmax(0.0, v - d->limit_kwh);
		opt->fixed_peak_kw = fmax(opt->fixed_peak_kw, v * 4);
	}
	opt->done = true;
	opt->status = gf_optimum_status_name(r.status);
	opt->relaxation = relaxation;
	opt->seconds = r.seconds;
	opt->gap = r.gap;
	opt->binaries = r.binaries;
	opt->offers = (int)o.count;
	opt->prosumers = distinct(o.who, o.count);
	opt->before = (int)(day0 - h0);
	opt->after = (int)(h1 - day1);
	rc = 0;
out:
	free(rload);
	free(load);
	free(fixed);
	offers_free(&o);
	return rc;
}
