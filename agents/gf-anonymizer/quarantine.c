/* SPDX-License-Identifier: MIT */
#include "quarantine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char header[] = "file,line,reason\n";

enum gf_err anonymizer_quarantine_open(struct anonymizer_quarantine *q, const char *path,
                                       uint64_t committed, char *err, size_t errlen)
{
	struct stat st;

	memset(q, 0, sizeof(*q));
	q->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (q->fd < 0 || fstat(q->fd, &st) != 0)
		return gf_err_set(err, errlen, GF_EIO, "quarantine file %s: %s", path,
		                  strerror(errno));
	q->size = (uint64_t)st.st_size;
	if (q->size > committed && committed > 0) {
		/* Rows of a batch that was not committed: they come again. */
		if (ftruncate(q->fd, (off_t)committed) != 0)
			return gf_err_set(err, errlen, GF_EIO, "quarantine file %s: %s", path,
			                  strerror(errno));
		q->size = committed;
	}
	if (q->size == 0 || committed == 0) {
		if (ftruncate(q->fd, 0) != 0 ||
		    pwrite(q->fd, header, sizeof(header) - 1, 0) != (ssize_t)(sizeof(header) - 1))
			return gf_err_set(err, errlen, GF_EIO, "quarantine file %s: %s", path,
			                  strerror(errno));
		q->size = sizeof(header) - 1;
	}
	return GF_OK;
}

void anonymizer_quarantine_close(struct anonymizer_quarantine *q)
{
	if (q->fd > 0)
		close(q->fd);
	q->fd = -1;
	free(q->buf);
	q->buf = NULL;
	q->len = q->cap = 0;
}

static void count(struct anonymizer_quarantine *q, const char *reason)
{
	size_t i;

	for (i = 0; i < q->nreasons; i++)
		if (strcmp(q->reasons[i].reason, reason) == 0)
			break;
	if (i == q->nreasons) {
		if (q->nreasons == ANONYMIZER_REASONS_MAX)
			i = ANONYMIZER_REASONS_MAX - 1; /* the last one counts the rest */
		else
			snprintf(q->reasons[q->nreasons++].reason, sizeof(q->reasons[0].reason),
			         "%s", reason);
	}
	q->reasons[i].count++;
}

enum gf_err anonymizer_quarantine_add(struct anonymizer_quarantine *q, const char *file,
                                      uint64_t line, const char *reason)
{
	size_t need = 2 * strlen(file) + strlen(reason) + 48;
	char *p;

	if (q->len + need > q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 4096;
		char *b;

		while (cap < q->len + need)
			cap *= 2;
		b = realloc(q->buf, cap);
		if (!b)
			return GF_ENOMEM;
		q->buf = b;
		q->cap = cap;
	}
	/* The file name quoted as CSV: it is the DMS's own, any bytes. */
	p = q->buf + q->len;
	*p++ = '"';
	for (const char *s = file; *s; s++) {
		if (*s == '"')
			*p++ = '"';
		*p++ = (*s == '\n' || *s == '\r') ? ' ' : *s;
	}
	*p++ = '"';
	p += snprintf(p, q->cap - (size_t)(p - q->buf), ",%llu,%s\n", (unsigned long long)line,
	              reason);
	q->len = (size_t)(p - q->buf);
	count(q, reason);
	return GF_OK;
}

enum gf_err anonymizer_quarantine_sync(struct anonymizer_quarantine *q, char *err, size_t errlen)
{
	size_t done = 0;

	while (done < q->len) {
		ssize_t n = pwrite(q->fd, q->buf + done, q->len - done, (off_t)(q->size + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return gf_err_set(err, errlen, GF_EIO,
			                  "cannot write the quarantine file: %s", strerror(errno));
		done += (size_t)n;
	}
	if (q->len && fdatasync(q->fd) != 0)
		return gf_err_set(err, errlen, GF_EIO, "cannot sync the quarantine file: %s",
		                  strerror(errno));
	q->size += q->len;
	q->len = 0;
	return GF_OK;
}

void anonymizer_quarantine_reasons(const struct anonymizer_quarantine *q, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < q->nreasons && used < size; i++)
		used +=
		    (size_t)snprintf(buf + used, size - used, "%s%s: %llu", i ? ", " : "",
		                     q->reasons[i].reason, (unsigned long long)q->reasons[i].count);
}
