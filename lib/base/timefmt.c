/* SPDX-License-Identifier: MIT */
#include "base/timefmt.h"

#include <stdbool.h>
#include <string.h>

#define MS_PER_DAY (86400LL * 1000)

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil; exact for every year we accept). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int64_t m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n decimal digits at s[*i]; false if any is not a digit. */
static bool digits(const char *s, size_t len, size_t *i, size_t n, int64_t *out)
{
	int64_t v = 0;

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

/* The fixed-width head "YYYY-MM-DDTHH:MM:SS" (s[0..19)), its fourteen
 * digits tested and read without a loop per field: the broker parses every
 * time string of every message. */
static bool fixed_head(const char *s, size_t len, int64_t *y, int64_t *mo, int64_t *d, int64_t *h,
                       int64_t *mi, int64_t *sec)
{
	static const unsigned char at[14] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
	unsigned v[14], bad = 0;

	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return false;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 14
#endif
	for (int k = 0; k < 14; k++) {
		v[k] = (unsigned)(unsigned char)s[at[k]] - '0';
		bad |= v[k] > 9;
	}
	if (bad)
		return false;
	*y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	*mo = v[4] * 10 + v[5];
	*d = v[6] * 10 + v[7];
	*h = v[8] * 10 + v[9];
	*mi = v[10] * 10 + v[11];
	*sec = v[12] * 10 + v[13];
	return true;
}

enum gf_err gf_time_parse(const char *s, size_t len, int64_t *epoch_ms)
{
	int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0, off_h = 0, off_m = 0,
	        sign = 0, t;
	size_t i = 0;

	if (s == NULL || !fixed_head(s, len, &y, &mo, &d, &h, &mi, &sec))
		return GF_EPARSE;
	i = 19;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return GF_EPARSE;
	if (i < len && s[i] == '.') {
		size_t first = ++i;
		int64_t scale = 100;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			ms += (s[i] - '0') * scale; /* digits past the third add 0 */
			scale /= 10;
			i++;
		}
		if (i == first)
			return GF_EPARSE;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		sign = s[i++] == '-' ? -1 : 1;
		if (!digits(s, len, &i, 2, &off_h))
			return GF_EPARSE;
		if (i < len && s[i] == ':')
			i++;
		if (!digits(s, len, &i, 2, &off_m) || off_h > 23 || off_m > 59)
			return GF_EPARSE;
	} else {
		return GF_EPARSE;
	}
	if (i != len)
		return GF_EPARSE;

	t = days_from_civil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
	t -= sign * (off_h * 60 + off_m) * 60 * 1000;
	if (t < GF_TIME_MIN_MS || t > GF_TIME_MAX_MS)
		return GF_ERANGE;
	*epoch_ms = t;
	return GF_OK;
}

/* Writes v as exactly n digits ending at p[n - 1]. */
static void put_digits(char *p, int64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

enum gf_err gf_time_format(int64_t epoch_ms, char *buf, size_t size)
{
	char tmp[GF_TIME_BUFSIZE];
	int64_t days, rem, y, m, d, ms;
	size_t n;

	if (epoch_ms < GF_TIME_MIN_MS || epoch_ms > GF_TIME_MAX_MS)
		return GF_ERANGE;
	days = epoch_ms / MS_PER_DAY;
	rem = epoch_ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	ms = rem % 1000;
	rem /= 1000;

	memcpy(tmp, "0000-00-00T00:00:00", 19);
	put_digits(tmp, y, 4);
	put_digits(tmp + 5, m, 2);
	put_digits(tmp + 8, d, 2);
	put_digits(tmp + 11, rem / 3600, 2);
	put_digits(tmp + 14, rem / 60 % 60, 2);
	put_digits(tmp + 17, rem % 60, 2);
	n = 19;
	if (ms != 0) {
		tmp[n++] = '.';
		put_digits(tmp + n, ms, 3);
		n += 3;
	}
	tmp[n++] = 'Z';
	tmp[n++] = '\0';
	if (size < n)
		return GF_ETOOLONG;
	memcpy(buf, tmp, n);
	return GF_OK;
}

int64_t gf_time_interval(int64_t epoch_ms)
{
	const int64_t span = GF_TIME_INTERVAL_S * 1000LL;
	int64_t q = epoch_ms / span;
	return epoch_ms % span < 0 ? q - 1 : q;
}
