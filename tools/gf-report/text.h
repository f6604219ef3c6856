/* SPDX-License-Identifier: MIT */
/*
 * text.h - the day as text: the per-interval table and the summary
 * (docs/demo.md, "The report").
 */
#ifndef REPORT_TEXT_H
#define REPORT_TEXT_H

#include <stdio.h>

#include "day.h"

/* The per-interval table: the intervals with rows. */
void report_text_table(const struct report_day *d, FILE *out);
/* The summary: which day, the four curves' overload, intervals over and
 * peak, the share of the optimum's reduction, the forecast's error, the
 * market's figures, the settlement's totals. */
void report_text_summary(const struct report_day *d, FILE *out);
#endif
