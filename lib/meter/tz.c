/* SPDX-License-Identifier: MIT */
#include "meter/tz.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Where Debian's tzdata puts the zones, and where glibc looks for them. */
#define TZ_DIR "/usr/share/zoneinfo"

/* The sample points of the zone's offsets, around the naive instant of the
 * local time: 12-hourly from two days before to two days after. */
#define TZ_SAMPLES     9
#define TZ_SAMPLE_STEP (12 * 3600)

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static bool local_valid(const struct gf_tz_local *t)
{
	return t->year >= 1 && t->year <= 9999 && t->month >= 1 && t->month <= 12 && t->day >= 1 &&
	       t->day <= days_in_month(t->year, t->month) && t->hour >= 0 && t->hour <= 23 &&
	       t->minute >= 0 && t->minute <= 59 && t->second >= 0 && t->second <= 59;
}

/* The name's characters are the zone names' own ([A-Za-z0-9/_+-]); with no
 * '.' at all there can be no "..", and no leading '/' keeps it under
 * TZ_DIR. Both are checked by name as well, so the reason is precise. */
static const char *name_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "is empty";
	if (len > GF_TZ_NAME_MAX)
		return "is too long";
	if (name[0] == '/')
		return "is an absolute path";
	if (strstr(name, ".."))
		return "contains \"..\"";
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '+' || c == '-'))
			return "has a character outside [A-Za-z0-9/_+-]";
	}
	return NULL;
}

enum gf_err gf_tz_open(const char *name, char *err, size_t errlen)
{
	char path[sizeof(TZ_DIR) + GF_TZ_NAME_MAX + 2];
	char tzvar[sizeof(path) + 1];
	char magic[4];
	const char *problem;
	struct stat st;
	enum gf_err rc = GF_OK;
	int fd = -1;

	if (name == NULL)
		return gf_err_set(err, errlen, GF_EINVAL, "time zone: no name");
	/* The name is not repeated back: it may hold anything, a newline too. */
	problem = name_problem(name);
	if (problem)
		return gf_err_set(err, errlen, GF_EINVAL, "time zone name %s", problem);
	snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
	/* glibc falls back to UTC without a word for a zone it cannot read:
	 * the file must exist, be a regular file and start with TZif. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    read(fd, magic, sizeof(magic)) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, "TZif", 4) != 0) {
		rc = gf_err_set(err, errlen, GF_ENOENT, "time zone %s: not in %s", name, TZ_DIR);
		goto out;
	}
	/* TZ names the file we checked, not the zone: glibc would otherwise
	 * look in $TZDIR, which need not be the directory checked above. */
	snprintf(tzvar, sizeof(tzvar), ":%s", path);
	if (setenv("TZ", tzvar, 1) != 0) {
		rc = gf_err_set(err, errlen, GF_ENOMEM, "time zone %s: setenv failed", name);
		goto out;
	}
	/* localtime_r() does not look at TZ again once initialised: tzset() does. */
	tzset();
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The zone's offset at u into *gmtoff, and whether u's local time is t:
 * 1 it is, 0 it is not, -1 localtime_r() failed (*gmtoff untouched). */
static int offset_at(int64_t u, const struct gf_tz_local *t, long *gmtoff)
{
	time_t tt = (time_t)u;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return -1;
	*gmtoff = tm.tm_gmtoff;
	return tm.tm_year + 1900 == t->year && tm.tm_mon + 1 == t->month && tm.tm_mday == t->day &&
	       tm.tm_hour == t->hour && tm.tm_min == t->minute && tm.tm_sec == t->second;
}

static bool seen(const long *offs, int n, long off)
{
	for (int i = 0; i < n; i++)
		if (offs[i] == off)
			return true;
	return false;
}

int gf_tz_to_utc(const struct gf_tz_local *t, int64_t out[2])
{
	/* Every offset in effect near the time: the samples, plus the offset
	 * at each candidate tried (an offset that lasted less than a sample
	 * step shows there); bounded, as a zone has few offsets in 4 days. */
	long offs[TZ_SAMPLES * 2];
	int64_t found[TZ_SAMPLES * 2];
	int noffs = 0, nfound = 0;
	struct tm tm = {0};
	int64_t naive;
	long off;

	if (t == NULL || !local_valid(t))
		return -1;
	tm.tm_year = t->year - 1900;
	tm.tm_mon = t->month - 1;
	tm.tm_mday = t->day;
	tm.tm_hour = t->hour;
	tm.tm_min = t->minute;
	tm.tm_sec = t->second;
	/* The local time read as if it were UTC: the instant is naive - offset. */
	naive = (int64_t)timegm(&tm);

	for (int k = 0; k < TZ_SAMPLES; k++) {
		int64_t u = naive + (k - TZ_SAMPLES / 2) * (int64_t)TZ_SAMPLE_STEP;
		if (offset_at(u, t, &off) >= 0 && !seen(offs, noffs, off))
			offs[noffs++] = off;
	}
	for (int i = 0; i < noffs; i++) {
		int64_t u = naive - offs[i];
		int r = offset_at(u, t, &off);
		if (r == 1) {
			/* offsets are distinct, so are their instants */
			found[nfound++] = u;
		} else if (r == 0 && !seen(offs, noffs, off) &&
		           noffs < (int)(sizeof(offs) / sizeof(offs[0]))) {
			offs[noffs++] = off;
		}
	}
	if (nfound == 0)
		return 0;
	/* Ascending; more than two occurrences would need two folds within
	 * a few hours, which no zone has: the first and the last are kept. */
	int64_t lo = found[0], hi = found[0];
	for (int j = 1; j < nfound; j++) {
		lo = found[j] < lo ? found[j] : lo;
		hi = found[j] > hi ? found[j] : hi;
	}
	out[0] = lo;
	if (lo == hi)
		return 1;
	out[1] = hi;
	return 2;
}

/* Reads exactly n digits at s[*i]. */
static bool digits(const char *s, size_t len, size_t *i, size_t n, int *out)
{
	int v = 0;

	if (len - *i < n)
		return false;
	for (size_t k = 0; k < n; k++) {
		char c = s[*i + k];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*i += n;
	*out = v;
	return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

enum gf_err gf_tz_parse_local(const char *s, size_t len, struct gf_tz_local *t)
{
	struct gf_tz_local r = {0};
	size_t i = 0;

	if (s == NULL || !digits(s, len, &i, 4, &r.year) || !expect(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, &r.month) || !expect(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, &r.day) || i >= len || (s[i] != ' ' && s[i] != 'T'))
		return GF_EPARSE;
	i++;
	if (!digits(s, len, &i, 2, &r.hour) || !expect(s, len, &i, ':') ||
	    !digits(s, len, &i, 2, &r.minute))
		return GF_EPARSE;
	if (i < len && (!expect(s, len, &i, ':') || !digits(s, len, &i, 2, &r.second)))
		return GF_EPARSE;
	if (i != len || !local_valid(&r))
		return GF_EPARSE;
	*t = r;
	return GF_OK;
}
