/* SPDX-License-Identifier: MIT */
/*
 * csvtab.c - the feeder files' table reader: one line at a time, split in
 * place into trimmed fields.
 */
#include "grid/csvtab.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

const char *gf_csvtab_shown(const char *s, char *out, size_t n)
{
	size_t i;

	if (n == 0)
		return out;
	for (i = 0; s[i] && i + 1 < n; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	out[i] = '\0';
	return out;
}

enum gf_err gf_csvtab_fail(const struct gf_csvtab *t, char *err, size_t errlen, enum gf_err rc,
                           const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gf_err_at(err, errlen, t->name, t->line, fmt, ap);
	va_end(ap);
	return rc;
}

/* Trims [s, e) of blanks in place and NUL-terminates it. */
static const char *trim(char *s, char *e)
{
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	*e = '\0';
	return s;
}

/*
 * Reads the next line that is not a comment, blank or only commas, split
 * into out[] (*n fields). *got is false at the end of the text.
 */
static enum gf_err read_line(struct gf_csvtab *t, const char **out, size_t *n, bool *got, char *err,
                             size_t errlen)
{
	while (t->p < t->end) {
		char *s = t->p;
		char *e = memchr(s, '\n', (size_t)(t->end - s));
		char *q;
		bool content = false;

		if (e) {
			t->p = e + 1;
		} else {
			/* The last line, without a newline: its fields end
			 * at t->end, the byte the contract keeps writable. */
			e = t->end;
			t->p = t->end;
		}
		t->line++;
		if (memchr(s, '\0', (size_t)(e - s)))
			return gf_csvtab_fail(t, err, errlen, GF_EPARSE, "NUL byte in line");
		if (e > s && e[-1] == '\r')
			e--;
		for (q = s; q < e; q++)
			if (!is_blank(*q) && *q != ',') {
				content = true;
				break;
			}
		if (!content || *q == '#')
			continue;
		*n = 0;
		for (q = s;;) {
			char *c = memchr(q, ',', (size_t)(e - q));
			char *fe = c ? c : e;

			if (*n == GF_CSVTAB_COLS_MAX)
				return gf_csvtab_fail(t, err, errlen, GF_EPARSE,
				                      "more than %d fields", GF_CSVTAB_COLS_MAX);
			out[(*n)++] = trim(q, fe);
			if (!c)
				break;
			q = c + 1;
		}
		*got = true;
		return GF_OK;
	}
	*got = false;
	return GF_OK;
}

enum gf_err gf_csvtab_open(struct gf_csvtab *t, const char *name, char *text, size_t len, char *err,
                           size_t errlen)
{
	struct gf_csvtab n = {.name = name, .p = text, .end = text + len};
	bool got = false;
	enum gf_err rc;

	rc = read_line(&n, n.head, &n.ncol, &got, err, errlen);
	if (rc != GF_OK)
		return rc;
	if (!got)
		return gf_csvtab_fail(&n, err, errlen, GF_EPARSE, "no header line");
	for (size_t i = 0; i < n.ncol; i++) {
		char shown[48];

		if (!n.head[i][0])
			return gf_csvtab_fail(&n, err, errlen, GF_EPARSE,
			                      "header field %zu is empty", i + 1);
		for (size_t k = 0; k < i; k++)
			if (strcasecmp(n.head[i], n.head[k]) == 0)
				return gf_csvtab_fail(
				    &n, err, errlen, GF_EPARSE, "column '%s' appears twice",
				    gf_csvtab_shown(n.head[i], shown, sizeof(shown)));
	}
	*t = n;
	return GF_OK;
}

int gf_csvtab_col(const struct gf_csvtab *t, const char *col)
{
	for (size_t i = 0; i < t->ncol; i++)
		if (strcasecmp(t->head[i], col) == 0)
			return (int)i;
	return -1;
}

enum gf_err gf_csvtab_need(const struct gf_csvtab *t, const char *col, int *idx, char *err,
                           size_t errlen)
{
	int i = gf_csvtab_col(t, col);

	if (i < 0)
		return gf_err_set(err, errlen, GF_EPARSE, "%s: no column '%s' in the header",
		                  t->name, col);
	*idx = i;
	return GF_OK;
}

enum gf_err gf_csvtab_next(struct gf_csvtab *t, bool *got, char *err, size_t errlen)
{
	enum gf_err rc = read_line(t, t->field, &t->nfield, got, err, errlen);

	if (rc != GF_OK || !*got)
		return rc;
	for (size_t i = t->ncol; i < t->nfield; i++)
		if (t->field[i][0])
			return gf_csvtab_fail(t, err, errlen, GF_EPARSE,
			                      "field %zu beyond the header's %zu columns", i + 1,
			                      t->ncol);
	return GF_OK;
}

const char *gf_csvtab_get(const struct gf_csvtab *t, int col)
{
	if (col < 0 || (size_t)col >= t->nfield)
		return "";
	return t->field[col];
}

bool gf_csvtab_decimal(const char *s, double *out)
{
	size_t digits = 0;
	char *end = NULL;
	double v;

	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (!strchr("+-.eE", *p))
			return false;
	}
	if (!digits)
		return false;
	v = strtod(s, &end);
	if (end == s || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

enum gf_err gf_csvtab_num(const struct gf_csvtab *t, int col, double *out, char *err, size_t errlen)
{
	const char *s = gf_csvtab_get(t, col);
	char shown[48];

	if (!gf_csvtab_decimal(s, out))
		return gf_csvtab_fail(t, err, errlen, GF_EPARSE, "%s '%s' is not a number",
		                      col >= 0 ? t->head[col] : "?",
		                      gf_csvtab_shown(s, shown, sizeof(shown)));
	return GF_OK;
}
