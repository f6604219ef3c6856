/* SPDX-License-Identifier: MIT */
/*
 * feed.h - from the DMS's exports to committed batches (docs/anonymizer.md,
 * "Exactly once").
 *
 * The files of input_dir are read in name order, each from the offset
 * committed for it. Rows become readings (private id -> classification id
 * -> pseudonym; local time -> UTC) or quarantined rows; every batch_max
 * readings, and at the end of a file, one transaction commits the file's
 * new offset, the meters' last readings (which resolve DST folds), the
 * quarantine file's length and the sealed message in the outbox. A kill at
 * any point leaves either the batch whole (sent from the outbox at the next
 * start) or not at all (read again from the committed offset).
 */
#ifndef ANONYMIZER_FEED_H
#define ANONYMIZER_FEED_H

#include <stdbool.h>
#include <stddef.h>

#include "anonymizer.h"

/* The store's tables (gf_store_open's schema). */
extern const char anonymizer_feed_schema[];

/* Reads the committed state (meters, quarantine length), opens the
 * quarantine file and starts watching the input. GF_EIO, GF_ENOMEM, err set. */
enum gf_err anonymizer_feed_start(struct anonymizer *an, char *err, size_t errlen);
void anonymizer_feed_stop(struct anonymizer *an);

/* Reads and commits what the input holds now, a slice at a time (it arms a
 * timer for the rest, so that acknowledgements are handled in between),
 * while fewer than max_unacked messages wait for the broker. With --once,
 * quits (exit 0) when the input is done and every message acknowledged. */
void anonymizer_feed_pump(struct anonymizer *an);

#endif
