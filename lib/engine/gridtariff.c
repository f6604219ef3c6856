/* SPDX-License-Identifier: MIT */
/*
 * gridtariff.c - the grid file: network tariff bands, capacity price
 * parameters and locations per grid point (gridtariff.h, docs/sp.md).
 */
#include "engine/gridtariff.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"

#define FIELDS_MAX 8
#define FIELD_MAX  64

struct parse {
	const char *name;
	size_t line;
	char *err;
	size_t errlen;
	struct gf_gridtariff t;
	bool have_offset;
	size_t cap_bands, cap_caps, cap_locs;
};

static enum gf_err fail(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum gf_err fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	enum gf_err rc;

	va_start(ap, fmt);
	rc = gf_err_at(p->err, p->errlen, p->name, p->line, fmt, ap);
	va_end(ap);
	return rc;
}

static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= GF_GRIDTARIFF_ID_MAX &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* A plain decimal within [lo, hi]: no inf, nan, hex. */
static bool number(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	if (!s[0] || strspn(s, "+-.0123456789eE") != strlen(s))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v) || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* "HH:MM" on a quarter hour, 00:00..24:00, into minutes. */
static bool clock_time(const char *s, size_t len, unsigned *out)
{
	unsigned h, m;

	if (len != 5 || s[2] != ':' || strspn(s, "0123456789:") < 5)
		return false;
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (s[0] == ':' || s[1] == ':' || s[3] == ':' || s[4] == ':' || m > 59 || m % 15 ||
	    h > 24 || (h == 24 && m))
		return false;
	*out = h * 60 + m;
	return true;
}

static int day_index(const char *s, size_t len)
{
	static const char *const names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

	for (int d = 0; d < 7; d++)
		if (len == 3 && memcmp(s, names[d], 3) == 0)
			return d;
	return -1;
}

/* "*" or names and ranges joined by commas. */
static bool days_parse(const char *s, uint8_t *out)
{
	uint8_t mask = 0;

	if (strcmp(s, "*") == 0) {
		*out = 0x7f;
		return true;
	}
	while (*s) {
		size_t n = strcspn(s, ",");
		int a, b;

		if (n == 7 && s[3] == '-') {
			a = day_index(s, 3);
			b = day_index(s + 4, 3);
		} else {
			a = b = day_index(s, n);
		}
		if (a < 0 || b < 0)
			return false;
		/* mon-fri, and fri-mon wrapping over the weekend. */
		for (int d = a;; d = (d + 1) % 7) {
			mask |= (uint8_t)(1u << d);
			if (d == b)
				break;
		}
		s += n;
		if (*s == ',' && !*++s)
			return false;
	}
	*out = mask;
	return mask != 0;
}

static enum gf_err grow(void **v, size_t n, size_t *cap, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return GF_OK;
	c = *cap ? 2 * *cap : 16;
	if (!(p = realloc(*v, c * size)))
		return GF_ENOMEM;
	*v = p;
	*cap = c;
	return GF_OK;
}

static enum gf_err line_offset(struct parse *p, char **f, size_t n)
{
	unsigned m;

	if (n != 2 || (f[1][0] != '+' && f[1][0] != '-') ||
	    !clock_time(f[1] + 1, strlen(f[1] + 1), &m) || m > 14 * 60)
		return fail(p, "offset: expected +HH:MM or -HH:MM (quarter hours, at most 14:00)");
	if (p->have_offset)
		return fail(p, "offset given twice");
	p->have_offset = true;
	p->t.offset_min = f[1][0] == '-' ? -(int)m : (int)m;
	return GF_OK;
}

static enum gf_err line_band(struct parse *p, char **f, size_t n)
{
	struct gf_gridtariff_band b = {0};
	const char *dash;
	unsigned from, to;

	if (n != 5)
		return fail(p, "band: expected band <grid|*> <days> <HH:MM>-<HH:MM> <EUR/kWh>");
	if (strcmp(f[1], "*") != 0 && !id_ok(f[1]))
		return fail(p, "band: grid point id: 1 to 64 of A-Z a-z 0-9 . _ - (or *)");
	if (!days_parse(f[2], &b.days))
		return fail(p, "band: days: *, or mon..sun and ranges joined by commas");
	dash = strchr(f[3], '-');
	if (!dash || !clock_time(f[3], (size_t)(dash - f[3]), &from) ||
	    !clock_time(dash + 1, strlen(dash + 1), &to) || from >= to)
		return fail(p, "band: expected HH:MM-HH:MM on quarter hours, from before to");
	if (!number(f[4], -GF_GRIDTARIFF_PRICE_MAX, GF_GRIDTARIFF_PRICE_MAX, &b.cost))
		return fail(p, "band: cost: a decimal EUR/kWh within +-1000");
	snprintf(b.grid, sizeof(b.grid), "%s", f[1]);
	b.from_min = (uint16_t)from;
	b.to_min = (uint16_t)to;
	if (grow((void **)&p->t.bands, p->t.nbands, &p->cap_bands, sizeof(b)) != GF_OK)
		return GF_ENOMEM;
	p->t.bands[p->t.nbands++] = b;
	return GF_OK;
}

static enum gf_err line_capacity(struct parse *p, char **f, size_t n)
{
	struct gf_gridtariff_cap c = {0};

	if (n < 4 || n > 7)
		return fail(p, "capacity: expected capacity <grid> <limit_kw> <price> [<price_max> "
		               "[<knee_pct> [<margin_kwh>]]]");
	if (!id_ok(f[1]))
		return fail(p, "capacity: grid point id: 1 to 64 of A-Z a-z 0-9 . _ -");
	if (gf_gridtariff_capacity(&p->t, f[1]))
		return fail(p, "capacity of %s given twice", f[1]);
	if (!number(f[2], 1e-6, 1e7, &c.limit_kw))
		return fail(p, "capacity: limit_kw: a decimal kW above 0, at most 1e7");
	if (!number(f[3], 0, GF_GRIDTARIFF_PRICE_MAX, &c.price))
		return fail(p, "capacity: price: a decimal EUR/kWh, 0 to 1000");
	c.price_max = c.price;
	if (n > 4 &&
	    (!number(f[4], 0, GF_GRIDTARIFF_PRICE_MAX, &c.price_max) || c.price_max < c.price))
		return fail(p, "capacity: price_max: a decimal EUR/kWh, price to 1000");
	c.knee_pct = 100;
	if (n > 5 && !number(f[5], 1, 200, &c.knee_pct))
		return fail(p, "capacity: knee_pct: a decimal, 1 to 200");
	if (n > 6 && !number(f[6], 0, 1e7, &c.margin_kwh))
		return fail(p, "capacity: margin_kwh: a decimal kWh, 0 to 1e7");
	snprintf(c.grid, sizeof(c.grid), "%s", f[1]);
	if (grow((void **)&p->t.caps, p->t.ncaps, &p->cap_caps, sizeof(c)) != GF_OK)
		return GF_ENOMEM;
	p->t.caps[p->t.ncaps++] = c;
	return GF_OK;
}

static enum gf_err line_location(struct parse *p, char **f, size_t n)
{
	struct gf_gridtariff_loc l = {0};

	if (n != 4)
		return fail(p, "location: expected location <grid> <latitude> <longitude>");
	if (!id_ok(f[1]))
		return fail(p, "location: grid point id: 1 to 64 of A-Z a-z 0-9 . _ -");
	if (gf_gridtariff_location(&p->t, f[1]))
		return fail(p, "location of %s given twice", f[1]);
	if (!number(f[2], -90, 90, &l.lat) || !number(f[3], -180, 180, &l.lon))
		return fail(p,
		            "location: latitude -90..90 and longitude -180..180, decimal degrees");
	snprintf(l.grid, sizeof(l.grid), "%s", f[1]);
	if (grow((void **)&p->t.locs, p->t.nlocs, &p->cap_locs, sizeof(l)) != GF_OK)
		return GF_ENOMEM;
	p->t.locs[p->t.nlocs++] = l;
	return GF_OK;
}

/* One line (NUL-free, without its end) split at blanks. */
static enum gf_err line(struct parse *p, const char *s, size_t len)
{
	char buf[FIELDS_MAX][FIELD_MAX + 1], *f[FIELDS_MAX];
	size_t n = 0, i = 0;

	while (i < len) {
		size_t k;

		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i == len)
			break;
		if (n == 0 && s[i] == '#')
			return GF_OK;
		for (k = i; k < len && s[k] != ' ' && s[k] != '\t' && s[k] != '\r'; k++)
			;
		if (n == FIELDS_MAX)
			return fail(p, "more than %d fields", FIELDS_MAX);
		if (k - i > FIELD_MAX)
			return fail(p, "a field longer than %d bytes", FIELD_MAX);
		memcpy(buf[n], s + i, k - i);
		buf[n][k - i] = '\0';
		f[n] = buf[n];
		n++;
		i = k;
	}
	if (n == 0)
		return GF_OK;
	if (strcmp(f[0], "offset") == 0)
		return line_offset(p, f, n);
	if (strcmp(f[0], "band") == 0)
		return line_band(p, f, n);
	if (strcmp(f[0], "capacity") == 0)
		return line_capacity(p, f, n);
	if (strcmp(f[0], "location") == 0)
		return line_location(p, f, n);
	return fail(p, "unknown keyword (expected offset, band, capacity or location)");
}

enum gf_err gf_gridtariff_parse(const char *name, const char *text, size_t len,
                                struct gf_gridtariff *out, char *err, size_t errlen)
{
	struct parse p = {.name = name, .err = err, .errlen = errlen};
	size_t i = 0, content = 0;
	enum gf_err rc = GF_OK;

	if (len > GF_GRIDTARIFF_FILE_MAX)
		return gf_err_set(err, errlen, GF_ERANGE, "%s: larger than %u bytes", name,
		                  GF_GRIDTARIFF_FILE_MAX);
	if (memchr(text, '\0', len)) {
		p.line = 0;
		return fail(&p, "a NUL byte");
	}
	while (rc == GF_OK && i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t before = p.t.nbands + p.t.ncaps + p.t.nlocs + p.have_offset;

		p.line++;
		rc = line(&p, text + i, end - i);
		if (rc == GF_OK && p.t.nbands + p.t.ncaps + p.t.nlocs + p.have_offset != before &&
		    ++content > GF_GRIDTARIFF_LINES_MAX)
			rc = fail(&p, "more than %d lines", GF_GRIDTARIFF_LINES_MAX);
		i = end + 1;
	}
	if (rc != GF_OK) {
		gf_gridtariff_free(&p.t);
		return rc;
	}
	*out = p.t;
	return GF_OK;
}

enum gf_err gf_gridtariff_load(const char *path, struct gf_gridtariff *out, char *err,
                               size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	enum gf_err rc = gf_file_read(path, GF_GRIDTARIFF_FILE_MAX, &text, &len, err, errlen);

	if (rc == GF_OK)
		rc = gf_gridtariff_parse(path, text, len, out, err, errlen);
	free(text);
	return rc;
}

void gf_gridtariff_free(struct gf_gridtariff *t)
{
	if (!t)
		return;
	free(t->bands);
	free(t->caps);
	free(t->locs);
	memset(t, 0, sizeof(*t));
}

static bool band_find(const struct gf_gridtariff *t, const char *grid, int day, unsigned minute,
                      double *cost)
{
	for (size_t i = 0; i < t->nbands; i++) {
		const struct gf_gridtariff_band *b = &t->bands[i];

		if (strcmp(b->grid, grid) == 0 && (b->days >> day & 1) && minute >= b->from_min &&
		    minute < b->to_min) {
			*cost = b->cost;
			return true;
		}
	}
	return false;
}

bool gf_gridtariff_cost(const struct gf_gridtariff *t, const char *grid, int64_t t_ms, double *cost)
{
	int64_t local_min = t_ms / 60000 - (t_ms % 60000 < 0) + t->offset_min;
	int64_t day = local_min / 1440 - (local_min % 1440 < 0);
	unsigned minute = (unsigned)(local_min - day * 1440);
	/* 1970-01-01 was a Thursday (4). */
	int weekday = (int)(((day % 7) + 7 + 4) % 7);

	return band_find(t, grid, weekday, minute, cost) ||
	       band_find(t, "*", weekday, minute, cost);
}

bool gf_gridtariff_has_bands(const struct gf_gridtariff *t, const char *grid)
{
	for (size_t i = 0; i < t->nbands; i++)
		if (strcmp(t->bands[i].grid, grid) == 0)
			return true;
	return false;
}

const struct gf_gridtariff_cap *gf_gridtariff_capacity(const struct gf_gridtariff *t,
                                                       const char *grid)
{
	for (size_t i = 0; i < t->ncaps; i++)
		if (strcmp(t->caps[i].grid, grid) == 0)
			return &t->caps[i];
	return NULL;
}

const struct gf_gridtariff_loc *gf_gridtariff_location(const struct gf_gridtariff *t,
                                                       const char *grid)
{
	for (size_t i = 0; i < t->nlocs; i++)
		if (strcmp(t->locs[i].grid, grid) == 0)
			return &t->locs[i];
	return NULL;
}

double gf_gridtariff_capacity_price(const struct gf_gridtariff_cap *c, double f_kwh)
{
	double limit = c->limit_kw * 0.25;
	double request = f_kwh - c->knee_pct / 100.0 * limit + c->margin_kwh;

	if (!(request > 0))
		return 0;
	return c->price + (c->price_max - c->price) * fmin(1.0, request / limit);
}
