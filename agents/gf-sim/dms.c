/* SPDX-License-Identifier: MIT */
#include "dms.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/timefmt.h"
#include "meter/tz.h"

struct sim_dms {
	char *dir;
	char *buf; /* the rows of the interval */
	size_t len, cap;
	size_t rows;
	int64_t j;      /* the interval of local and name */
	char local[32]; /* the end of interval j, wall-clock time */
	char name[64];  /* its file */
};

/* The wall-clock end of interval j and the file's name. */
static enum gf_err at_interval(struct sim_dms *d, int64_t j)
{
	time_t end = (time_t)((j + 1) * GF_TIME_INTERVAL_S);
	struct tm tm;

	if (d->rows && d->j == j)
		return GF_OK;
	if (!localtime_r(&end, &tm) ||
	    !strftime(d->local, sizeof(d->local), "%Y-%m-%d %H:%M:%S", &tm) ||
	    !strftime(d->name, sizeof(d->name), "meters-%Y%m%d-%H%M%S.csv", &tm))
		return GF_ERANGE;
	d->j = j;
	return GF_OK;
}

enum gf_err sim_dms_open(const char *dir, const char *zone, struct sim_dms **out, char *err,
                         size_t errlen)
{
	struct sim_dms *d;
	DIR *dd = opendir(dir);
	enum gf_err rc;

	if (!dd)
		return gf_err_set(err, errlen, GF_ENOENT, "dms_dir %s: %s", dir, strerror(errno));
	closedir(dd);
	rc = gf_tz_open(zone, err, errlen);
	if (rc != GF_OK)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d || !(d->dir = strdup(dir))) {
		free(d);
		return GF_ENOMEM;
	}
	*out = d;
	return GF_OK;
}

void sim_dms_free(struct sim_dms *d)
{
	if (!d)
		return;
	free(d->dir);
	free(d->buf);
	free(d);
}

enum gf_err sim_dms_add(struct sim_dms *d, int64_t j, const char *meter, double kwh)
{
	size_t need = strlen(meter) + 96;
	enum gf_err rc = at_interval(d, j);

	if (rc != GF_OK)
		return rc;
	if (d->len + need > d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 65536;
		char *b;

		while (cap < d->len + need)
			cap *= 2;
		b = realloc(d->buf, cap);
		if (!b)
			return GF_ENOMEM;
		d->buf = b;
		d->cap = cap;
	}
	d->len += (size_t)snprintf(d->buf + d->len, d->cap - d->len, "\"%s\",%s,%.6f\n", meter,
	                           d->local, kwh);
	d->rows++;
	return GF_OK;
}

enum gf_err sim_dms_flush(struct sim_dms *d)
{
	char tmp[4096], path[4096];
	FILE *f = NULL;
	enum gf_err rc = GF_EIO;

	if (!d->rows)
		return GF_OK;
	snprintf(tmp, sizeof(tmp), "%s/.%s.part", d->dir, d->name);
	snprintf(path, sizeof(path), "%s/%s", d->dir, d->name);
	f = fopen(tmp, "w");
	if (!f)
		goto out;
	if (fwrite(d->buf, 1, d->len, f) != d->len) {
		fclose(f);
		goto out;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		goto out;
	rc = GF_OK;
out:
	if (rc != GF_OK)
		gf_log_err("GF-SIM-DMS", "cannot write the meter export of interval %lld in %s: %s",
		           (long long)d->j, d->dir, strerror(errno));
	d->len = d->rows = 0;
	return rc;
}
