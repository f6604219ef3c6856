/* SPDX-License-Identifier: MIT */
#include "idmap.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/hash.h"

#define ID_MAX       128
#define MAP_FILE_MAX (256u << 20)

struct entry {
	char *private_id, *class_id;
};

struct anonymizer_idmap {
	struct entry *e;
	size_t n, cap;
	size_t *slot; /* open addressing over e, index + 1; 0 = empty */
	size_t nslot; /* a power of two, at least 2n */
};

static size_t slot_of(const struct anonymizer_idmap *m, const char *id, size_t len)
{
	return (size_t)gf_fnv1a64(GF_FNV1A64_BASIS, id, len) & (m->nslot - 1);
}

long anonymizer_idmap_find(const struct anonymizer_idmap *m, const char *id, size_t len)
{
	if (!m->nslot)
		return -1;
	for (size_t i = slot_of(m, id, len);; i = (i + 1) & (m->nslot - 1)) {
		const struct entry *e;

		if (!m->slot[i])
			return -1;
		e = &m->e[m->slot[i] - 1];
		if (strlen(e->private_id) == len && memcmp(e->private_id, id, len) == 0)
			return (long)(m->slot[i] - 1);
	}
}

static enum gf_err index_all(struct anonymizer_idmap *m, char *err, size_t errlen)
{
	m->nslot = 16;
	while (m->nslot < 2 * m->n)
		m->nslot *= 2;
	m->slot = calloc(m->nslot, sizeof(*m->slot));
	if (!m->slot)
		return GF_ENOMEM;
	for (size_t k = 0; k < m->n; k++) {
		const char *id = m->e[k].private_id;
		size_t i = slot_of(m, id, strlen(id));

		for (; m->slot[i]; i = (i + 1) & (m->nslot - 1))
			if (strcmp(m->e[m->slot[i] - 1].private_id, id) == 0)
				return gf_err_set(
				    err, errlen, GF_EPARSE,
				    "id_map: a private id is listed twice (entry %zu)", k + 1);
		m->slot[i] = k + 1;
	}
	return GF_OK;
}

/* One field of a line: quoted or not; *p moves past it and its comma. */
static bool field(const char **p, const char *end, char *out)
{
	const char *s = *p;
	size_t n = 0;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s < end && *s == '"') {
		for (s++; s < end; s++) {
			if (*s == '"') {
				if (s + 1 < end && s[1] == '"')
					s++;
				else
					break;
			}
			if (n == ID_MAX)
				return false;
			out[n++] = *s;
		}
		if (s == end)
			return false;
		s++;
	} else {
		for (; s < end && *s != ','; s++) {
			if (n == ID_MAX)
				return false;
			out[n++] = *s;
		}
	}
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s < end && *s == ',')
		s++;
	out[n] = 0;
	*p = s;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			return false;
	return n > 0;
}

static enum gf_err add(struct anonymizer_idmap *m, const char *pid, const char *cid)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct entry *e = realloc(m->e, cap * sizeof(*e));

		if (!e)
			return GF_ENOMEM;
		m->e = e;
		m->cap = cap;
	}
	m->e[m->n].private_id = strdup(pid);
	m->e[m->n].class_id = strdup(cid);
	if (!m->e[m->n].private_id || !m->e[m->n].class_id) {
		free(m->e[m->n].private_id);
		free(m->e[m->n].class_id);
		return GF_ENOMEM;
	}
	m->n++;
	return GF_OK;
}

enum gf_err anonymizer_idmap_load(const char *path, struct anonymizer_idmap **out, char *err,
                                  size_t errlen)
{
	struct anonymizer_idmap *m = calloc(1, sizeof(*m));
	char *buf = NULL, pid[ID_MAX + 1], cid[ID_MAX + 1];
	size_t len = 0, line = 0;
	enum gf_err rc = GF_ENOMEM;

	if (!m)
		goto out;
	rc = gf_file_read(path, MAP_FILE_MAX, &buf, &len, err, errlen);
	if (rc != GF_OK)
		goto out;
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end, *q = p;

		line++;
		if (le > p && le[-1] == '\r')
			le--;
		p = eol ? eol + 1 : end;
		if (le == q || *q == '#')
			continue;
		if (!field(&q, le, pid) || !field(&q, le, cid) || q != le) {
			rc = gf_err_set(
			    err, errlen, GF_EPARSE,
			    "%s:%zu: expected private_id,classification_id (each 1 to %d "
			    "printable bytes)",
			    path, line, ID_MAX);
			goto out;
		}
		if (line == 1 && strcmp(pid, "private_id") == 0)
			continue;
		rc = add(m, pid, cid);
		if (rc != GF_OK)
			goto out;
	}
	rc = index_all(m, err, errlen);
out:
	free(buf);
	if (rc != GF_OK) {
		anonymizer_idmap_free(m);
		return rc;
	}
	*out = m;
	return GF_OK;
}

void anonymizer_idmap_free(struct anonymizer_idmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].private_id);
		free(m->e[i].class_id);
	}
	free(m->e);
	free(m->slot);
	free(m);
}

size_t anonymizer_idmap_count(const struct anonymizer_idmap *m)
{
	return m->n;
}

void anonymizer_idmap_entry(const struct anonymizer_idmap *m, size_t i, const char **private_id,
                            const char **class_id)
{
	*private_id = m->e[i].private_id;
	*class_id = m->e[i].class_id;
}
