/* SPDX-License-Identifier: MIT */
/*
 * optimum.h - the perfect-information optimum of the reported day
 * (docs/demo.md, "The optimum"): every offer FMAN received whose window
 * touches the day, scheduled by lib/engine/optimum.h against the feeder's
 * limit, with the load no offer moves = the baseline minus those offers'
 * default schedules.
 */
#ifndef REPORT_OPTIMUM_H
#define REPORT_OPTIMUM_H

#include <stdbool.h>

#include "day.h"

/*
 * Reads the offers from DIR/state/fman/fman.db (table offers, every state
 * but Canceled: the body is the offer as the FOA sent it, bounds, start
 * window, totals and default schedule), solves, and fills d->opt and each
 * slot's optimum and fixed. relax: the LP relaxation of the start choices
 * instead of the MILP; time_limit_s for the MILP. Without fman.db the
 * optimum is the baseline (no offers): d->opt.note says so. -1 with a
 * message on stderr when the database cannot be read or the solver fails.
 */
int report_optimum_compute(const char *dir, bool relax, double time_limit_s, struct report_day *d);

#endif
