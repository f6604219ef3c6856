/* SPDX-License-Identifier: MIT */
/* site_finding.c - gfctl site check's findings (site_check.h): one line each on stdout, counted. */
#include "site_check.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const level_name[] = {"OK", "WARN", "FAIL"};

void gfctl_site_finding_print(struct site_check *s, enum level lv, const char *area,
                              const char *subject, const char *fmt, ...)
{
	char why[WHYLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	s->n[lv]++;
	printf("%-4s  %-6s  %s: %s\n", level_name[lv], area, subject, why);
}
