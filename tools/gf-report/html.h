/* SPDX-License-Identifier: MIT */
/*
 * html.h - the day as a self-contained HTML page: the summary, the feeder's
 * four curves against the limit and the flexibility asked, cleared and
 * delivered as inline SVG, the settlement per prosumer, the text report.
 */
#ifndef REPORT_HTML_H
#define REPORT_HTML_H

#include "day.h"

/* Writes the page to path; -1 (with a message on stderr) on failure. */
int report_html_write(const struct report_day *d, const char *path);

#endif
