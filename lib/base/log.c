/* SPDX-License-Identifier: MIT */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static gf_log_sink log_sink;
static void *log_userdata;
static enum gf_log_level log_min_level = GF_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "notice", "warning", "error"};

void gf_log_set_sink(gf_log_sink sink, void *userdata)
{
	log_sink = sink;
	log_userdata = userdata;
}

void gf_log_set_level(enum gf_log_level min_level)
{
	log_min_level = min_level;
}

__attribute__((format(printf, 3, 0))) static void vlog(enum gf_log_level level, const char *msgid,
                                                       const char *fmt, va_list ap)
{
	char line[1024];
	int n;

	if (level < log_min_level)
		return;
	n = snprintf(line, sizeof(line), "%s ", msgid);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (log_sink) {
		log_sink(level, line, log_userdata);
		return;
	}
	fprintf(stderr, "%s: %s\n", level_names[level], line);
}

void gf_log(enum gf_log_level level, const char *msgid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, msgid, fmt, ap);
	va_end(ap);
}
