/* SPDX-License-Identifier: MIT */
/*
 * quarantine.h - the rows that could not be sent, in a CSV file
 * `file,line,reason` (a header line first), exactly once: a row is
 * written before the batch that passes it is committed, the file's length
 * is committed with it, and at start the file is cut back to the committed
 * length, so that a row written before a crash and read again after it is
 * not listed twice. Reasons are counted for the summary line.
 */
#ifndef ANONYMIZER_QUARANTINE_H
#define ANONYMIZER_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define ANONYMIZER_REASONS_MAX 32

struct anonymizer_quarantine {
	int fd;
	uint64_t size; /* written so far */
	char *buf;     /* rows not yet written */
	size_t len, cap;
	struct {
		char reason[96];
		uint64_t count;
	} reasons[ANONYMIZER_REASONS_MAX];
	size_t nreasons;
};

/* Opens (creates, mode 0640) path and cuts it to committed bytes (the file
 * is adopted as it is when shorter: it was rotated). GF_EIO, err set. */
enum gf_err anonymizer_quarantine_open(struct anonymizer_quarantine *q, const char *path,
                                       uint64_t committed, char *err, size_t errlen);
void anonymizer_quarantine_close(struct anonymizer_quarantine *q);

/* Adds a row (buffered). GF_ENOMEM. */
enum gf_err anonymizer_quarantine_add(struct anonymizer_quarantine *q, const char *file,
                                      uint64_t line, const char *reason);

/* Writes and syncs what is buffered; q->size is then what to commit.
 * GF_EIO. */
enum gf_err anonymizer_quarantine_sync(struct anonymizer_quarantine *q, char *err, size_t errlen);

/* "reason: n, reason: n" into buf (for the summary). */
void anonymizer_quarantine_reasons(const struct anonymizer_quarantine *q, char *buf, size_t size);

#endif
