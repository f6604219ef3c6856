/* SPDX-License-Identifier: MIT */
#include "bus/catalog.h"
#include "bus/topic.h"
#include "base/file.h"
#include "base/hash.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_SLOTS     2048u /* power of two, at least twice GF_CATALOG_MAX_MSGS */
#define MAX_FILE_BYTES (4u << 20)
#define MAX_ROWS       16384u
#define RESULT_SUFFIX  ".result"

struct gf_catalog {
	char (*names)[GF_MSG_MAX + 1];
	size_t nmsg, names_cap;
	uint16_t slots[HASH_SLOTS]; /* msg index + 1; 0 = empty */
	struct gf_catalog_row *rows;
	size_t nrows, rows_cap;
	uint8_t *cells;    /* [from][to][msg] */
	uint8_t *feeds;    /* [from][msg]: the cells of every row from "from" OR'ed */
	uint32_t *readers; /* [from][msg] */
};

/* A slot for a name; the table lives in memory only, so any hash will do. */
static uint32_t hash_bytes(const char *s, size_t len)
{
	return (uint32_t)gf_fnv1a64(GF_FNV1A64_BASIS, s, len);
}

int gf_catalog_msg(const struct gf_catalog *cat, const char *name, size_t len)
{
	uint32_t i = hash_bytes(name, len) & (HASH_SLOTS - 1);

	if (len > GF_MSG_MAX)
		return -1;
	for (;;) {
		uint16_t slot = cat->slots[i];
		if (slot == 0)
			return -1;
		const char *cand = cat->names[slot - 1];
		if (memcmp(cand, name, len) == 0 && cand[len] == '\0' && strlen(cand) == len)
			return slot - 1;
		i = (i + 1) & (HASH_SLOTS - 1);
	}
}

/* Returns the index of name, adding it if new; -1 when the table is full or
 * memory runs out (*nomem tells which). */
static int intern_msg(struct gf_catalog *cat, const char *name, size_t len, bool *nomem)
{
	int found = gf_catalog_msg(cat, name, len);
	uint32_t i;

	if (found >= 0)
		return found;
	if (cat->nmsg >= GF_CATALOG_MAX_MSGS)
		return -1;
	if (cat->nmsg == cat->names_cap) {
		size_t cap = cat->names_cap ? cat->names_cap * 2 : 64;
		void *p = realloc(cat->names, cap * sizeof(*cat->names));
		if (!p) {
			*nomem = true;
			return -1;
		}
		cat->names = p;
		cat->names_cap = cap;
	}
	memcpy(cat->names[cat->nmsg], name, len);
	cat->names[cat->nmsg][len] = '\0';
	i = hash_bytes(name, len) & (HASH_SLOTS - 1);
	while (cat->slots[i] != 0)
		i = (i + 1) & (HASH_SLOTS - 1);
	cat->slots[i] = (uint16_t)(cat->nmsg + 1);
	return (int)cat->nmsg++;
}

struct parse_state {
	struct gf_catalog *cat;
	const char *name;
	size_t line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static enum gf_err fail(struct parse_state *ps,
                                                              const char *fmt, ...)
{
	va_list ap;
	enum gf_err rc;

	va_start(ap, fmt);
	rc = gf_err_at(ps->err, ps->errlen, ps->name, ps->line, fmt, ap);
	va_end(ap);
	return rc;
}

static enum gf_err add_row(struct parse_state *ps, enum gf_role from, enum gf_role to,
                           const char *msg, size_t msg_len, uint8_t cell)
{
	struct gf_catalog *cat = ps->cat;
	bool nomem = false;
	int m = intern_msg(cat, msg, msg_len, &nomem);

	if (m < 0)
		return nomem ? GF_ENOMEM
		             : fail(ps, "more than %d message types", GF_CATALOG_MAX_MSGS);
	/* Every (from, msg) pair has one class: otherwise "to-role all" would
	 * have no single meaning. */
	for (size_t i = 0; i < cat->nrows; i++) {
		const struct gf_catalog_row *r = &cat->rows[i];
		if (r->from != from || (int)(intptr_t)r->msg != m)
			continue;
		if (r->to == to)
			return fail(ps, "duplicate row %s -> %s : %.*s", gf_role_name(from),
			            gf_role_name(to), (int)msg_len, msg);
		if ((r->cell ^ cell) & (GF_CELL_PRIVATE | GF_CELL_PUBLIC))
			return fail(ps, "%s -> %s : %.*s is %s but %s -> %s is %s",
			            gf_role_name(from), gf_role_name(to), (int)msg_len, msg,
			            (cell & GF_CELL_PUBLIC) ? "public" : "private",
			            gf_role_name(r->from), gf_role_name(r->to),
			            (r->cell & GF_CELL_PUBLIC) ? "public" : "private");
	}
	if (cat->nrows >= MAX_ROWS)
		return fail(ps, "more than %u rows", MAX_ROWS);
	if (cat->nrows == cat->rows_cap) {
		size_t cap = cat->rows_cap ? cat->rows_cap * 2 : 64;
		void *p = realloc(cat->rows, cap * sizeof(*cat->rows));
		if (!p)
			return GF_ENOMEM;
		cat->rows = p;
		cat->rows_cap = cap;
	}
	/* Names are stored by index until the table stops growing; see fix_names. */
	cat->rows[cat->nrows++] =
	    (struct gf_catalog_row){from, to, (const char *)(intptr_t)m, cell};
	return GF_OK;
}

static enum gf_err parse_flags(struct parse_state *ps, struct gf_sv f, uint8_t *cell)
{
	if (gf_sv_eq_str(f, "-"))
		return GF_OK;
	const char *p = f.p, *end = f.p + f.len;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		struct gf_sv word = {p, (size_t)((comma ? comma : end) - p)};
		if (gf_sv_eq_str(word, "anon"))
			*cell |= GF_CELL_ANON;
		else if (gf_sv_eq_str(word, "request"))
			*cell |= GF_CELL_REQUEST;
		else if (gf_sv_eq_str(word, "broker"))
			*cell |= GF_CELL_BROKER;
		else
			return fail(ps, "unknown flag '%.*s' (expected anon, request, broker or -)",
			            (int)word.len, word.p);
		if (!comma)
			break;
		p = comma + 1;
	}
	return GF_OK;
}

static enum gf_err parse_line(struct parse_state *ps, const char *line, size_t len)
{
	struct gf_sv f[6];
	size_t n = 0;
	const char *start = line;
	enum gf_role from, to;
	uint8_t cell = 0;
	enum gf_err rc;
	char result[GF_MSG_MAX + 1];

	for (size_t i = 0; i <= len; i++) {
		if (i == len || line[i] == '\t') {
			if (n == 6)
				break;
			f[n++] = (struct gf_sv){start, (size_t)(line + i - start)};
			start = line + i + 1;
		}
	}
	if (n != 5)
		return fail(ps,
		            "expected 5 tab-separated fields (from, to, msg, class, flags), "
		            "found %s%zu",
		            n > 5 ? "more than " : "", n > 5 ? (size_t)5 : n);
	from = gf_role_parse(f[0].p, f[0].len);
	if (from >= GF_ROLE_COUNT || from == GF_ROLE_BRIDGE)
		return fail(ps, "unknown sender role '%.*s'", (int)f[0].len, f[0].p);
	to = gf_role_parse(f[1].p, f[1].len);
	if (to >= GF_ROLE_COUNT || to == GF_ROLE_BRIDGE)
		return fail(ps, "unknown addressee role '%.*s'", (int)f[1].len, f[1].p);
	if (!gf_msg_name_valid(f[2].p, f[2].len) || f[2].len + strlen(RESULT_SUFFIX) > GF_MSG_MAX)
		return fail(ps, "invalid message type '%.*s' (dotted lower-case, at most %d)",
		            (int)f[2].len, f[2].p, GF_MSG_MAX - (int)strlen(RESULT_SUFFIX));
	if (gf_sv_eq_str(f[3], "private"))
		cell = GF_CELL_PRIVATE;
	else if (gf_sv_eq_str(f[3], "public"))
		cell = GF_CELL_PUBLIC;
	else
		return fail(ps, "class must be private or public, not '%.*s'", (int)f[3].len,
		            f[3].p);
	rc = parse_flags(ps, f[4], &cell);
	if (rc != GF_OK)
		return rc;
	if (from == GF_ROLE_OPS && !(cell & GF_CELL_BROKER))
		return fail(ps, "ops is read-only: its rows must carry the broker flag");
	rc = add_row(ps, from, to, f[2].p, f[2].len, cell);
	if (rc != GF_OK || !(cell & GF_CELL_REQUEST))
		return rc;
	memcpy(result, f[2].p, f[2].len);
	memcpy(result + f[2].len, RESULT_SUFFIX, sizeof(RESULT_SUFFIX));
	return add_row(ps, to, from, result, strlen(result), (uint8_t)(cell & ~GF_CELL_REQUEST));
}

static size_t cell_index(size_t nmsg, enum gf_role from, enum gf_role to, int msg)
{
	return ((size_t)from * GF_ROLE_COUNT + (size_t)to) * nmsg + (size_t)msg;
}

/* Fills the lookup tables. */
static enum gf_err compile(struct gf_catalog *cat)
{
	size_t nmsg = cat->nmsg ? cat->nmsg : 1;

	cat->cells = calloc(GF_ROLE_COUNT * GF_ROLE_COUNT * nmsg, 1);
	cat->feeds = calloc(GF_ROLE_COUNT * nmsg, 1);
	cat->readers = calloc(GF_ROLE_COUNT * nmsg, sizeof(*cat->readers));
	if (!cat->cells || !cat->feeds || !cat->readers)
		return GF_ENOMEM;
	for (size_t i = 0; i < cat->nrows; i++) {
		struct gf_catalog_row *r = &cat->rows[i];
		int m = (int)(intptr_t)r->msg;
		size_t fm = (size_t)r->from * cat->nmsg + (size_t)m;
		r->msg = cat->names[m];
		cat->cells[cell_index(cat->nmsg, r->from, r->to, m)] = r->cell;
		cat->feeds[fm] |= r->cell;
		if (r->cell & GF_CELL_PUBLIC)
			cat->readers[fm] |= 1u << r->to;
	}
	return GF_OK;
}

enum gf_err gf_catalog_parse(const char *text, size_t len, const char *name,
                             struct gf_catalog **out, char *err, size_t errlen)
{
	struct gf_catalog *cat = calloc(1, sizeof(*cat));
	struct parse_state ps = {cat, name ? name : "catalogue", 0, err, errlen};
	enum gf_err rc = GF_OK;
	const char *p = text, *end = text + len;

	if (!cat)
		return GF_ENOMEM;
	if (err && errlen)
		err[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		ps.line++;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (memchr(p, '\0', l)) {
			rc = fail(&ps, "NUL byte in line");
			goto out;
		}
		if (l > 0 && p[0] != '#') {
			rc = parse_line(&ps, p, l);
			if (rc != GF_OK)
				goto out;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (cat->nrows == 0) {
		rc = fail(&ps, "no rows");
		goto out;
	}
	rc = compile(cat);
out:
	if (rc != GF_OK) {
		if (rc == GF_ENOMEM && err && errlen)
			snprintf(err, errlen, "%s: out of memory", ps.name);
		gf_catalog_free(cat);
		return rc;
	}
	*out = cat;
	return GF_OK;
}

enum gf_err gf_catalog_load(const char *path, struct gf_catalog **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_file_read(path, MAX_FILE_BYTES, &buf, &len, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = gf_catalog_parse(buf, len, path, out, err, errlen);
	free(buf);
	return rc;
}

void gf_catalog_free(struct gf_catalog *cat)
{
	if (!cat)
		return;
	free(cat->names);
	free(cat->rows);
	free(cat->cells);
	free(cat->feeds);
	free(cat->readers);
	free(cat);
}

const char *gf_catalog_msg_name(const struct gf_catalog *cat, int msg)
{
	if (msg < 0 || (size_t)msg >= cat->nmsg)
		return NULL;
	return cat->names[msg];
}

size_t gf_catalog_msg_count(const struct gf_catalog *cat)
{
	return cat->nmsg;
}

uint8_t gf_catalog_cell(const struct gf_catalog *cat, enum gf_role from, enum gf_role to, int msg)
{
	if ((unsigned)from >= GF_ROLE_COUNT || (unsigned)to >= GF_ROLE_COUNT || msg < 0 ||
	    (size_t)msg >= cat->nmsg)
		return 0;
	return cat->cells[cell_index(cat->nmsg, from, to, msg)];
}

uint8_t gf_catalog_feed(const struct gf_catalog *cat, enum gf_role from, int msg)
{
	if ((unsigned)from >= GF_ROLE_COUNT || msg < 0 || (size_t)msg >= cat->nmsg)
		return 0;
	return cat->feeds[(size_t)from * cat->nmsg + (size_t)msg];
}

uint32_t gf_catalog_readers(const struct gf_catalog *cat, enum gf_role from, int msg)
{
	if ((unsigned)from >= GF_ROLE_COUNT || msg < 0 || (size_t)msg >= cat->nmsg)
		return 0;
	return cat->readers[(size_t)from * cat->nmsg + (size_t)msg];
}

size_t gf_catalog_row_count(const struct gf_catalog *cat)
{
	return cat->nrows;
}

const struct gf_catalog_row *gf_catalog_row(const struct gf_catalog *cat, size_t i)
{
	return i < cat->nrows ? &cat->rows[i] : NULL;
}
