/* SPDX-License-Identifier: MIT */
/*
 * util.c - the sources' time forms and redaction (util.h). A leaf.
 */
#include <string.h>

#include "base/timefmt.h"
#include "util.h"

enum gf_err ingest_util_time(const char *s, size_t len, int64_t *ms)
{
	char buf[40];

	if (gf_time_parse(s, len, ms) == GF_OK)
		return GF_OK;
	/* "YYYY-MM-DDTHH:MM" is 16 characters; ENTSO-E adds Z. */
	if (len == 17 && (s[16] == 'Z' || s[16] == 'z'))
		len = 16;
	if (len != 16 || s[13] != ':')
		return GF_EPARSE;
	memcpy(buf, s, 16);
	memcpy(buf + 16, ":00Z", 5);
	return gf_time_parse(buf, 20, ms);
}

/* The length of what is redacted at p, or 0: the secret itself, or the
 * value after "securityToken=" (up to the next & or #). */
static size_t secret_at(const char *p, const char *secret, size_t slen, size_t *keep)
{
	static const char param[] = "securityToken=";

	*keep = 0;
	if (slen && strncmp(p, secret, slen) == 0)
		return slen;
	if (strncasecmp(p, param, sizeof(param) - 1) == 0) {
		*keep = sizeof(param) - 1;
		return *keep + strcspn(p + *keep, "&# \t\r\n\"'");
	}
	return 0;
}

void ingest_util_redact(const char *src, const char *secret, char *dst, size_t size)
{
	size_t slen = secret ? strlen(secret) : 0, o = 0, keep, n;

	if (size == 0)
		return;
	for (const char *p = src; *p && o + 1 < size;) {
		if ((n = secret_at(p, secret, slen, &keep)) > 0) {
			const char *mask = "***";
			size_t want = keep + strlen(mask);

			if (o + want >= size)
				break;
			memcpy(dst + o, p, keep);
			memcpy(dst + o + keep, mask, strlen(mask));
			o += want;
			p += n;
			continue;
		}
		dst[o++] = *p++;
	}
	dst[o] = '\0';
}
