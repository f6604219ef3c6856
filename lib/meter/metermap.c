/* SPDX-License-Identifier: MIT */
/* metermap.c - the enrolment list "<id>,<pseudonym>"; the rules are in metermap.h. */
#include "meter/metermap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *const headers[] = {"foa_id", "private_id", "id", "load"};

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* [*p, *p + *n) without blanks at either end. */
static void trim(const char **p, size_t *n)
{
	while (*n && blank(**p))
		(*p)++, (*n)--;
	while (*n && blank((*p)[*n - 1]))
		(*n)--;
}

static bool field_ok(const char *p, size_t n)
{
	if (n == 0 || n > GF_METERMAP_FIELD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!id_char(p[i]))
			return false;
	return true;
}

static bool is_header(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		if (strlen(headers[i]) == n && memcmp(headers[i], p, n) == 0)
			return true;
	return false;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct gf_metermap_entry *)a)->id,
	              ((const struct gf_metermap_entry *)b)->id);
}

static int by_pseudonym(const void *a, const void *b)
{
	const struct gf_metermap_entry *x = *(const struct gf_metermap_entry *const *)a;
	const struct gf_metermap_entry *y = *(const struct gf_metermap_entry *const *)b;

	return strcmp(x->pseudonym, y->pseudonym);
}

/* GF_EEXIST with err when an id or a pseudonym of e[0..n) is there twice
 * (e sorted by id). The lines are not kept: the error names the value's
 * kind, not where (a pseudonym is not worth naming in a log either). */
static enum gf_err check_unique(const char *name, struct gf_metermap_entry *e, size_t n, char *err,
                                size_t errlen)
{
	const struct gf_metermap_entry **p = NULL;
	enum gf_err rc = GF_OK;

	for (size_t i = 1; i < n; i++)
		if (strcmp(e[i - 1].id, e[i].id) == 0)
			return gf_err_set(err, errlen, GF_EEXIST, "%s: id %s is listed twice", name,
			                  e[i].id);
	if (n < 2)
		return GF_OK;
	if (!(p = malloc(n * sizeof(*p))))
		return GF_ENOMEM;
	for (size_t i = 0; i < n; i++)
		p[i] = &e[i];
	qsort(p, n, sizeof(*p), by_pseudonym);
	for (size_t i = 1; i < n && rc == GF_OK; i++)
		if (strcmp(p[i - 1]->pseudonym, p[i]->pseudonym) == 0)
			rc = gf_err_set(err, errlen, GF_EEXIST,
			                "%s: ids %s and %s have the same pseudonym", name,
			                p[i - 1]->id, p[i]->id);
	free(p);
	return rc;
}

enum gf_err gf_metermap_parse(const char *name, const char *text, size_t len,
                              struct gf_metermap *out, char *err, size_t errlen)
{
	struct gf_metermap m = {0};
	size_t cap = 0, pos = 0, lineno = 0;
	bool first = true;
	enum gf_err rc = GF_OK;

	while (pos < len && rc == GF_OK) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos), *comma;
		size_t n = nl ? (size_t)(nl - line) : len - pos, a, b;
		const char *pa, *pb;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		trim(&line, &n);
		if (n == 0 || line[0] == '#')
			continue;
		comma = memchr(line, ',', n);
		pa = line;
		a = comma ? (size_t)(comma - line) : n;
		pb = comma ? comma + 1 : line + n;
		b = comma ? n - a - 1 : 0;
		trim(&pa, &a);
		trim(&pb, &b);
		if (first && comma && is_header(pa, a)) {
			first = false;
			continue;
		}
		first = false;
		if (!comma || memchr(pb, ',', b) || !field_ok(pa, a) || !field_ok(pb, b)) {
			rc = gf_err_set(err, errlen, GF_EPARSE,
			                "%s:%zu: not '<id>,<pseudonym>' (two fields of 1 to %d "
			                "characters of A-Z a-z 0-9 . _ -)",
			                name, lineno, GF_METERMAP_FIELD_MAX);
			break;
		}
		if (m.n == cap) {
			size_t c2 = cap ? 2 * cap : 16;
			struct gf_metermap_entry *e = realloc(m.e, c2 * sizeof(*e));
			if (!e) {
				rc = GF_ENOMEM;
				break;
			}
			m.e = e;
			cap = c2;
		}
		memcpy(m.e[m.n].id, pa, a);
		m.e[m.n].id[a] = '\0';
		memcpy(m.e[m.n].pseudonym, pb, b);
		m.e[m.n].pseudonym[b] = '\0';
		m.n++;
	}
	if (rc == GF_OK && m.n > 1) {
		qsort(m.e, m.n, sizeof(*m.e), by_id);
		rc = check_unique(name, m.e, m.n, err, errlen);
	}
	if (rc != GF_OK) {
		free(m.e);
		return rc;
	}
	*out = m;
	return GF_OK;
}

const char *gf_metermap_find(const struct gf_metermap *m, const char *id)
{
	struct gf_metermap_entry key;
	const struct gf_metermap_entry *e;
	size_t n = strlen(id);

	if (!m || m->n == 0 || n > GF_METERMAP_FIELD_MAX)
		return NULL;
	memcpy(key.id, id, n + 1);
	e = bsearch(&key, m->e, m->n, sizeof(*m->e), by_id);
	return e ? e->pseudonym : NULL;
}

void gf_metermap_free(struct gf_metermap *m)
{
	if (!m)
		return;
	free(m->e);
	m->e = NULL;
	m->n = 0;
}
