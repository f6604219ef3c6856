/* SPDX-License-Identifier: MIT */
/*
 * sources.h - what the agents recorded in a run directory, read into the
 * reported day (docs/demo.md, "Sources"): gf-sim's CSV, FMAR's clearing,
 * FMAN's offers and settlement, the DOMS's bids and forecast, the SP's
 * meter readings.
 */
#ifndef REPORT_SOURCES_H
#define REPORT_SOURCES_H

#include <sqlite3.h>
#include <stdint.h>

#include "day.h"

#define REPORT_SOURCES_ANY_DAY INT64_MIN

/*
 * Reads DIR/sim.csv into d: the day `day` (days since 1970-01-01 UTC), or
 * with REPORT_SOURCES_ANY_DAY the last complete day (96 intervals with
 * rows), else the day with the most intervals (the later one on a tie).
 * d is initialised here with limit_kwh. -1 with a message on stderr when
 * the file cannot be read, is not gf-sim's, or has no row of the day.
 */
int report_sources_read_sim(const char *dir, int64_t day, double limit_kwh, struct report_day *d);

/* Reads the databases under DIR/state into d (clearing, counts, the SP's
 * readings, the forecast, the settlement). A database or table that is not
 * there counts as empty or "not recorded"; any other failure: -1 with a
 * message on stderr. */
int report_sources_read_state(const char *dir, struct report_day *d);

/* Opens DIR/state/NAME.db read-only into *db; 0 when it is not there (*db
 * NULL), -1 with a message on failure. The caller closes *db. */
int report_sources_open(const char *dir, const char *name, sqlite3 **db);

#endif
