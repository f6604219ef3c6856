/* SPDX-License-Identifier: MIT */
#include "bus/msglimits.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"

#define MAX_FILE_BYTES (1u << 20)

struct gf_msglimits {
	uint32_t def;      /* types not named */
	uint32_t smallest; /* over def and every named type */
	uint32_t largest;
	size_t listed;
	size_t nmsg;
	uint32_t *bytes; /* [msg number], nmsg entries */
	bool *named;     /* [msg number]: listed in the file (duplicates) */
};

struct parse_state {
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

static enum gf_err limits_alloc(const struct gf_catalog *cat, uint32_t def_bytes,
                                struct gf_msglimits **out)
{
	struct gf_msglimits *lim;
	size_t n = gf_catalog_msg_count(cat);

	if (def_bytes == 0 || def_bytes > GF_MSGLIMITS_MAX_BYTES)
		return GF_ERANGE;
	lim = calloc(1, sizeof(*lim));
	if (!lim)
		return GF_ENOMEM;
	/* One entry at least, so that an empty catalogue needs no special case. */
	lim->bytes = calloc(n ? n : 1, sizeof(*lim->bytes));
	lim->named = calloc(n ? n : 1, sizeof(*lim->named));
	if (!lim->bytes || !lim->named) {
		gf_msglimits_free(lim);
		return GF_ENOMEM;
	}
	lim->nmsg = n;
	lim->def = def_bytes;
	*out = lim;
	return GF_OK;
}

/* Fills every type not named with the default and computes the extremes. */
static void finish(struct gf_msglimits *lim)
{
	lim->smallest = lim->largest = lim->def;
	for (size_t i = 0; i < lim->nmsg; i++) {
		if (!lim->named[i])
			lim->bytes[i] = lim->def;
		if (lim->bytes[i] < lim->smallest)
			lim->smallest = lim->bytes[i];
		if (lim->bytes[i] > lim->largest)
			lim->largest = lim->bytes[i];
	}
}

enum gf_err gf_msglimits_new(const struct gf_catalog *cat, uint32_t def_bytes,
                             struct gf_msglimits **out)
{
	struct gf_msglimits *lim = NULL;
	enum gf_err rc = limits_alloc(cat, def_bytes, &lim);

	if (rc != GF_OK)
		return rc;
	finish(lim);
	*out = lim;
	return GF_OK;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A size: decimal digits and an optional k (KiB) or M (MiB). */
static enum gf_err parse_size(struct parse_state *ps, const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0, mult = 1;
	size_t digits = 0;

	while (digits < len && s[digits] >= '0' && s[digits] <= '9') {
		if (digits >= 10)
			return fail(ps, "size '%.*s' is too large (at most %u bytes)", (int)len, s,
			            GF_MSGLIMITS_MAX_BYTES);
		v = v * 10 + (uint64_t)(s[digits] - '0');
		digits++;
	}
	if (digits == len - 1 && (s[digits] == 'k' || s[digits] == 'K'))
		mult = 1024;
	else if (digits == len - 1 && s[digits] == 'M')
		mult = 1024 * 1024;
	else if (digits != len || digits == 0)
		return fail(ps, "size '%.*s' is not a number of bytes (digits, optional k or M)",
		            (int)len, s);
	if (digits == 0)
		return fail(ps, "size '%.*s' is not a number of bytes (digits, optional k or M)",
		            (int)len, s);
	v *= mult;
	if (v == 0 || v > GF_MSGLIMITS_MAX_BYTES)
		return fail(ps, "size '%.*s' is out of range (1 to %u bytes)", (int)len, s,
		            GF_MSGLIMITS_MAX_BYTES);
	*out = (uint32_t)v;
	return GF_OK;
}

static enum gf_err parse_line(struct parse_state *ps, struct gf_msglimits *lim,
                              const struct gf_catalog *cat, bool *have_def, const char *p,
                              size_t len)
{
	struct {
		const char *p;
		size_t len;
	} f[3];
	size_t n = 0, i = 0;
	uint32_t bytes = 0;
	enum gf_err rc;
	int m;

	while (i < len) {
		while (i < len && is_blank(p[i]))
			i++;
		if (i == len)
			break;
		size_t start = i;
		while (i < len && !is_blank(p[i]))
			i++;
		if (n == 3)
			break;
		f[n].p = p + start;
		f[n].len = i - start;
		n++;
	}
	if (n != 2)
		return fail(ps, "expected a message type and a size, found %s%zu field%s",
		            n > 2 ? "more than " : "", n > 2 ? (size_t)2 : n, n == 1 ? "" : "s");
	rc = parse_size(ps, f[1].p, f[1].len, &bytes);
	if (rc != GF_OK)
		return rc;
	if (f[0].len == 1 && f[0].p[0] == '*') {
		if (*have_def)
			return fail(ps, "a second default line '*'");
		*have_def = true;
		lim->def = bytes;
		return GF_OK;
	}
	m = gf_catalog_msg(cat, f[0].p, f[0].len);
	if (m < 0 || (size_t)m >= lim->nmsg)
		return fail(ps, "'%.*s' is not a message type of the catalogue",
		            (int)(f[0].len > 80 ? 80 : f[0].len), f[0].p);
	if (lim->named[m])
		return fail(ps, "a second line for '%.*s'", (int)f[0].len, f[0].p);
	lim->named[m] = true;
	lim->bytes[m] = bytes;
	lim->listed++;
	return GF_OK;
}

enum gf_err gf_msglimits_parse(const char *text, size_t len, const char *name,
                               const struct gf_catalog *cat, uint32_t def_bytes,
                               struct gf_msglimits **out, char *err, size_t errlen)
{
	struct gf_msglimits *lim = NULL;
	struct parse_state ps = {name ? name : "limits", 0, err, errlen};
	const char *p = text, *end = text + len;
	bool have_def = false;
	enum gf_err rc;

	if (err && errlen)
		err[0] = '\0';
	rc = limits_alloc(cat, def_bytes, &lim);
	if (rc != GF_OK)
		goto out;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p), skip = 0;
		ps.line++;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (memchr(p, '\0', l)) {
			rc = fail(&ps, "NUL byte in line");
			goto out;
		}
		while (skip < l && is_blank(p[skip]))
			skip++;
		if (skip < l && p[skip] != '#') {
			rc = parse_line(&ps, lim, cat, &have_def, p + skip, l - skip);
			if (rc != GF_OK)
				goto out;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	finish(lim);
out:
	if (rc != GF_OK) {
		if (rc == GF_ENOMEM && err && errlen)
			snprintf(err, errlen, "%s: out of memory", ps.name);
		gf_msglimits_free(lim);
		return rc;
	}
	*out = lim;
	return GF_OK;
}

enum gf_err gf_msglimits_load(const char *path, const struct gf_catalog *cat, uint32_t def_bytes,
                              struct gf_msglimits **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_file_read(path, MAX_FILE_BYTES, &buf, &len, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = gf_msglimits_parse(buf, len, path, cat, def_bytes, out, err, errlen);
	free(buf);
	return rc;
}

void gf_msglimits_free(struct gf_msglimits *lim)
{
	if (!lim)
		return;
	free(lim->bytes);
	free(lim->named);
	free(lim);
}

uint32_t gf_msglimits_payload(const struct gf_msglimits *lim, int msg)
{
	if (msg < 0 || (size_t)msg >= lim->nmsg)
		return lim->def;
	return lim->bytes[msg];
}

uint32_t gf_msglimits_default(const struct gf_msglimits *lim)
{
	return lim->def;
}

uint32_t gf_msglimits_smallest(const struct gf_msglimits *lim)
{
	return lim->smallest;
}

uint32_t gf_msglimits_largest(const struct gf_msglimits *lim)
{
	return lim->largest;
}

size_t gf_msglimits_listed(const struct gf_msglimits *lim)
{
	return lim->listed;
}
