/* SPDX-License-Identifier: MIT */
/*
 * loadprofile.c - the CSV readers of load profiles and forecasts. Both formats
 * share one line reader; the readers differ only in how they read the time
 * field and in what they require of the row order.
 */
#include "engine/loadprofile.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/timefmt.h"

/* Longest field, NUL excluded. The longest legitimate time is an RFC 3339
 * time with a long fraction; values are far shorter. */
#define FIELD_MAX 64

struct csv {
	const char *p, *end;
	const char *name;
	size_t line; /* number of the line last read, 1-based */
	size_t rows; /* content rows seen, the header included */
	char *err;
	size_t errlen;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Copies field into out with non-printable bytes replaced, so that input
 * quoted in an error message cannot inject control sequences into a log. */
static const char *printable(const char *field, char out[FIELD_MAX + 1])
{
	size_t i;

	for (i = 0; field[i] && i < FIELD_MAX; i++)
		out[i] = (field[i] >= 0x20 && field[i] < 0x7f) ? field[i] : '?';
	out[i] = '\0';
	return out;
}

__attribute__((format(printf, 3, 4))) static enum gf_err fail(struct csv *c, enum gf_err rc,
                                                              const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gf_err_at(c->err, c->errlen, c->name, c->line, fmt, ap);
	va_end(ap);
	return rc;
}

/* Copies the bytes [s, e) without surrounding blanks into out. */
static bool copy_field(const char *s, const char *e, char out[FIELD_MAX + 1])
{
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	if ((size_t)(e - s) > FIELD_MAX)
		return false;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return true;
}

/*
 * Reads the next data row into time and value. *got is false at the end of
 * the text. Comment and blank lines are skipped, and so is the first content
 * line when its first field starts with a letter (a header: no time of either
 * format starts with one).
 */
static enum gf_err csv_row(struct csv *c, char time[FIELD_MAX + 1], char value[FIELD_MAX + 1],
                           bool *got)
{
	while (c->p < c->end) {
		const char *s = c->p;
		const char *e = memchr(s, '\n', (size_t)(c->end - s));
		const char *comma;

		c->p = e ? e + 1 : c->end;
		if (!e)
			e = c->end;
		c->line++;
		if (memchr(s, '\0', (size_t)(e - s)))
			return fail(c, GF_EPARSE, "NUL byte in line");
		if (e > s && e[-1] == '\r')
			e--;
		while (s < e && is_blank(*s))
			s++;
		if (s == e || *s == '#')
			continue;
		comma = memchr(s, ',', (size_t)(e - s));
		if (!comma)
			return fail(c, GF_EPARSE, "expected <time>,<value>");
		if (memchr(comma + 1, ',', (size_t)(e - comma - 1)))
			return fail(c, GF_EPARSE, "more than two fields");
		if (!copy_field(s, comma, time) || !copy_field(comma + 1, e, value))
			return fail(c, GF_EPARSE, "field longer than %d bytes", FIELD_MAX);
		if (c->rows++ == 0 && is_letter(time[0]))
			continue;
		*got = true;
		return GF_OK;
	}
	*got = false;
	return GF_OK;
}

/* A finite plain decimal within GF_LOADPROFILE_VALUE_MAX. strtod alone would
 * also take "inf", "nan", hexadecimal and leading blanks. */
static enum gf_err value_parse(struct csv *c, const char *s, double *out)
{
	char shown[FIELD_MAX + 1];
	size_t digits = 0;
	bool plain = true;
	char *end = NULL;
	double v;

	for (const char *p = s; *p; p++) {
		if (is_digit(*p))
			digits++;
		else if (!strchr("+-.eE", *p))
			plain = false;
	}
	v = plain && digits ? strtod(s, &end) : 0;
	if (!plain || !digits || end == s || *end)
		return fail(c, GF_EPARSE, "expected a number, not '%s'", printable(s, shown));
	/* Underflow (errno ERANGE, a result near 0) is harmless; overflow gives
	 * HUGE_VAL and fails the bound. */
	if (!(fabs(v) <= GF_LOADPROFILE_VALUE_MAX))
		return fail(c, GF_ERANGE, "value %s beyond +-%g", printable(s, shown),
		            GF_LOADPROFILE_VALUE_MAX);
	*out = v;
	return GF_OK;
}

/* A decimal integer with an optional '-', at most 18 digits (no overflow). */
static bool int_parse(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	int64_t v = 0;
	size_t n = 0;

	for (s += neg; is_digit(*s); s++, n++) {
		if (n == 18)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (n == 0 || *s)
		return false;
	*out = neg ? -v : v;
	return true;
}

static int two_digits(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/*
 * The IEEE timestamp "YYYY-MM-DD HH:MM:SS" with an optional " ZONE" (1 to 8
 * letters) as the minute that ENDS at it: 00:01 -> 0, 00:00 -> 1439. Returns
 * -1 if s is not such a timestamp, -2 if its seconds are not 00.
 */
static int ieee_minute(const char *s)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	size_t i, zone;
	int month, day, hour, minute;

	for (i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
			return -1;
	if (s[i]) {
		if (s[i++] != ' ')
			return -1;
		for (zone = 0; is_letter(s[i]); i++)
			zone++;
		if (zone == 0 || zone > 8 || s[i])
			return -1;
	}
	month = two_digits(s + 5);
	day = two_digits(s + 8);
	hour = two_digits(s + 11);
	minute = two_digits(s + 14);
	if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59)
		return -1;
	if (two_digits(s + 17) != 0)
		return -2;
	return (hour * 60 + minute + GF_LOADPROFILE_MINUTES - 1) % GF_LOADPROFILE_MINUTES;
}

static void minute_text(int m, char out[8])
{
	snprintf(out, 8, "%02d:%02d", (m / 60) % 24, m % 60);
}

enum gf_err gf_loadprofile_parse(const char *name, const char *text, size_t len,
                                 double kw[GF_LOADPROFILE_MINUTES], char *err, size_t errlen)
{
	struct csv c = {text, text + len, name, 0, 0, err, errlen};
	char time[FIELD_MAX + 1], value[FIELD_MAX + 1], shown[FIELD_MAX + 1], hhmm[8];
	/* Line of each minute's row, 0 while unseen. */
	size_t line_of[GF_LOADPROFILE_MINUTES] = {0};
	double tmp[GF_LOADPROFILE_MINUTES];
	enum gf_err rc;
	bool got;
	int m;

	for (;;) {
		int64_t i;

		rc = csv_row(&c, time, value, &got);
		if (rc != GF_OK)
			return rc;
		if (!got)
			break;
		if (int_parse(time, &i)) {
			if (i < 0 || i >= GF_LOADPROFILE_MINUTES)
				return fail(&c, GF_EPARSE, "minute %s outside 0..1439",
				            printable(time, shown));
			m = (int)i;
		} else {
			m = ieee_minute(time);
			if (m == -2)
				return fail(&c, GF_EPARSE, "seconds of '%s' are not 00",
				            printable(time, shown));
			if (m < 0)
				return fail(&c, GF_EPARSE,
				            "expected YYYY-MM-DD HH:MM:SS or a minute of day, not "
				            "'%s'",
				            printable(time, shown));
		}
		if (line_of[m]) {
			minute_text(m, hhmm);
			return fail(&c, GF_EPARSE, "minute %d (%s) already given on line %zu", m,
			            hhmm, line_of[m]);
		}
		rc = value_parse(&c, value, &tmp[m]);
		if (rc != GF_OK)
			return rc;
		line_of[m] = c.line;
	}
	for (m = 0; m < GF_LOADPROFILE_MINUTES; m++) {
		if (!line_of[m]) {
			minute_text(m, hhmm);
			return fail(&c, GF_EPARSE, "minute %d (%s) missing", m, hhmm);
		}
	}
	memcpy(kw, tmp, sizeof(tmp));
	return GF_OK;
}

enum gf_err gf_loadprofile_load(const char *path, double kw[GF_LOADPROFILE_MINUTES], char *err,
                                size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_file_read(path, GF_LOADPROFILE_FILE_MAX, &buf, &len, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = gf_loadprofile_parse(path, buf, len, kw, err, errlen);
	free(buf);
	return rc;
}

enum gf_err gf_loadprofile_load_dir(const char *dir, size_t n, double *kw, char *err, size_t errlen)
{
	char path[4096];
	double *tmp = NULL;
	enum gf_err rc = GF_OK;
	size_t i;
	int w;

	if (n == 0)
		return GF_OK;
	if (n > SIZE_MAX / sizeof(double) / GF_LOADPROFILE_MINUTES)
		return GF_ENOMEM;
	tmp = malloc(n * GF_LOADPROFILE_MINUTES * sizeof(double));
	if (!tmp)
		return GF_ENOMEM;
	for (i = 0; i < n; i++) {
		w = snprintf(path, sizeof(path), "%s/Load_profile_%zu.csv", dir, i + 1);
		if (w < 0 || (size_t)w >= sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", dir);
			rc = GF_ETOOLONG;
			goto out;
		}
		rc = gf_loadprofile_load(path, tmp + i * GF_LOADPROFILE_MINUTES, err, errlen);
		if (rc != GF_OK)
			goto out;
	}
	memcpy(kw, tmp, n * GF_LOADPROFILE_MINUTES * sizeof(double));
out:
	free(tmp);
	return rc;
}

void gf_loadprofile_to_intervals(const double kw[GF_LOADPROFILE_MINUTES],
                                 double kwh[GF_LOADPROFILE_INTERVALS])
{
	for (size_t i = 0; i < GF_LOADPROFILE_INTERVALS; i++) {
		double s = 0;

		for (size_t k = 0; k < 15; k++)
			s += kw[15 * i + k];
		kwh[i] = s / 60;
	}
}

void gf_loadprofile_sum(const double *series, size_t n, size_t len, double *sum)
{
	for (size_t t = 0; t < len; t++)
		sum[t] = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < len; t++)
			sum[t] += series[i * len + t];
}

/* The interval of a forecast row: RFC 3339 start (a multiple of 900 s) or an
 * interval number, within the years timefmt.h can write. */
static enum gf_err forecast_interval(struct csv *c, const char *s, int64_t *out)
{
	const int64_t ms = GF_TIME_INTERVAL_S * 1000LL;
	char shown[FIELD_MAX + 1];
	int64_t v, t;
	enum gf_err rc;

	if (int_parse(s, &v)) {
		if (v < GF_TIME_MIN_MS / ms || v > GF_TIME_MAX_MS / ms)
			return fail(c, GF_ERANGE, "interval %s outside years 0000-9999",
			            printable(s, shown));
		*out = v;
		return GF_OK;
	}
	rc = gf_time_parse(s, strlen(s), &t);
	if (rc == GF_ERANGE)
		return fail(c, GF_ERANGE, "time %s outside years 0000-9999", printable(s, shown));
	if (rc != GF_OK)
		return fail(c, GF_EPARSE,
		            "expected an RFC 3339 time or an interval number, not '%s'",
		            printable(s, shown));
	if (gf_time_interval(t) * ms != t)
		return fail(c, GF_EPARSE, "%s is not the start of a 900 s interval",
		            printable(s, shown));
	*out = gf_time_interval(t);
	return GF_OK;
}

enum gf_err gf_forecast_parse(const char *name, const char *text, size_t len,
                              struct gf_forecast *out, char *err, size_t errlen)
{
	struct csv c = {text, text + len, name, 0, 0, err, errlen};
	char time[FIELD_MAX + 1], value[FIELD_MAX + 1], shown[FIELD_MAX + 1];
	double *kwh = NULL, *grown;
	size_t n = 0, cap = 0;
	int64_t start = 0, at = 0;
	enum gf_err rc;
	bool got;

	for (;;) {
		rc = csv_row(&c, time, value, &got);
		if (rc != GF_OK || !got)
			break;
		rc = forecast_interval(&c, time, &at);
		if (rc != GF_OK)
			break;
		if (n == 0) {
			start = at;
		} else if (at != start + (int64_t)n) {
			rc = fail(&c, GF_EPARSE, "%s is not the interval after the previous row's",
			          printable(time, shown));
			break;
		}
		if (n == GF_FORECAST_MAX) {
			rc = fail(&c, GF_ETOOLONG, "more than %d intervals", GF_FORECAST_MAX);
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 96;
			grown = realloc(kwh, cap * sizeof(*kwh));
			if (!grown) {
				rc = GF_ENOMEM;
				break;
			}
			kwh = grown;
		}
		rc = value_parse(&c, value, &kwh[n]);
		if (rc != GF_OK)
			break;
		n++;
	}
	if (rc == GF_OK && n == 0)
		rc = fail(&c, GF_EPARSE, "no data rows");
	if (rc != GF_OK)
		goto out;
	out->start = start;
	out->n = n;
	out->kwh = kwh;
	kwh = NULL;
out:
	free(kwh);
	return rc;
}

enum gf_err gf_forecast_load(const char *path, struct gf_forecast *out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_file_read(path, GF_LOADPROFILE_FILE_MAX, &buf, &len, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = gf_forecast_parse(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
}

void gf_forecast_free(struct gf_forecast *f)
{
	if (!f)
		return;
	free(f->kwh);
	f->kwh = NULL;
	f->start = 0;
	f->n = 0;
}
