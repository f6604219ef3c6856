/* SPDX-License-Identifier: MIT */
#include "base/err.h"

#include <stdio.h>

static const char *const err_text[] = {
#define GF__ERR_TEXT(name, text) text,
    GF_ERR_MAP(GF__ERR_TEXT)
#undef GF__ERR_TEXT
};

static const char *const err_names[] = {
#define GF__ERR_NAME(name, text) #name,
    GF_ERR_MAP(GF__ERR_NAME)
#undef GF__ERR_NAME
};

const char *gf_strerror(enum gf_err err)
{
	if ((unsigned)err >= GF_ERR_COUNT)
		return "unknown error";
	return err_text[err];
}

const char *gf_err_name(enum gf_err err)
{
	if ((unsigned)err >= GF_ERR_COUNT)
		return "UNKNOWN";
	return err_names[err];
}

enum gf_err gf_err_vset(char *err, size_t errlen, enum gf_err rc, const char *fmt, va_list ap)
{
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	return rc;
}

enum gf_err gf_err_set(char *err, size_t errlen, enum gf_err rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gf_err_vset(err, errlen, rc, fmt, ap);
	va_end(ap);
	return rc;
}

enum gf_err gf_err_at(char *err, size_t errlen, const char *name, size_t line, const char *fmt,
                      va_list ap)
{
	int n;

	if (!err || errlen == 0)
		return GF_EPARSE;
	n = snprintf(err, errlen, "%s:%zu: ", name, line);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return GF_EPARSE;
}
