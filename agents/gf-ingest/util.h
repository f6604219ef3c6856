/* SPDX-License-Identifier: MIT */
/*
 * util.h - what gf-ingest's files share: the sources' time forms, and
 * secrets kept out of logged text. A leaf: it calls no other file of the
 * agent (docs/conventions.md).
 */
#ifndef INGEST_UTIL_H
#define INGEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * Parses the len bytes at s as a UTC time into *ms: RFC 3339
 * (lib/base/timefmt), or without seconds and with Z ("2023-03-26T01:00Z",
 * ENTSO-E), or without seconds and without an offset ("2023-03-26T01:00",
 * Open-Meteo with timezone GMT: UTC). GF_EPARSE otherwise; *ms untouched.
 */
enum gf_err ingest_util_time(const char *s, size_t len, int64_t *ms);

/*
 * Copies src into dst (size bytes, always NUL-terminated, truncated if
 * need be) with every occurrence of secret (when non-empty) and every
 * value of a securityToken query parameter replaced by "***": what may be
 * logged of a URL or of an error text that could quote one.
 */
void ingest_util_redact(const char *src, const char *secret, char *dst, size_t size);

#endif
