/* SPDX-License-Identifier: MIT */
/*
 * openmeteo.c - the Open-Meteo JSON form (openmeteo.h), read with cJSON.
 *
 *   { "latitude": 46.0, "longitude": 8.94, "utc_offset_seconds": 0,
 *     "timezone": "GMT", ...,
 *     "hourly_units": { "time": "iso8601", "temperature_2m": "°C", ... },
 *     "hourly": { "time": ["2024-03-30T00:00", ...],
 *                 "temperature_2m": [7.1, null, ...], ... },
 *     "minutely_15_units": {...}, "minutely_15": {...} }
 *
 * Times are local to utc_offset_seconds (0 with timezone=GMT, which the
 * agent asks for); with timeformat=unixtime they are epoch seconds.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "openmeteo.h"
#include "util.h"

/* A variable as Open-Meteo names it (current and older names), and the
 * range the bus accepts (lib/payload/validate.c, check_weather). */
static const struct {
	const char *name, *old_name;
	bool preceding; /* given for the period before its time stamp */
	double lo, hi;
} vars[INGEST_OM_NVARS] = {
    [INGEST_OM_TEMPERATURE] = {"temperature_2m", NULL, false, -100, 100},
    [INGEST_OM_HUMIDITY] = {"relative_humidity_2m", "relativehumidity_2m", false, 0, 100},
    [INGEST_OM_WIND_SPEED] = {"wind_speed_10m", "windspeed_10m", false, 0, 200},
    [INGEST_OM_WIND_DIR] = {"wind_direction_10m", "winddirection_10m", false, 0, 360},
    [INGEST_OM_CLOUD] = {"cloud_cover", "cloudcover", false, 0, 100},
    [INGEST_OM_GHI] = {"shortwave_radiation", NULL, true, 0, 2000},
    [INGEST_OM_DNI] = {"direct_normal_irradiance", NULL, true, 0, 2000},
    [INGEST_OM_PRECIP] = {"precipitation", NULL, true, 0, 1000},
    [INGEST_OM_PRESSURE] = {"pressure_msl", NULL, false, 300, 1200},
};

/* Units Open-Meteo writes, and how each becomes the bus's: v * mul + add. */
static const struct {
	enum ingest_om_var var;
	const char *unit;
	double mul, add;
} units[] = {
    {INGEST_OM_TEMPERATURE, "°C", 1, 0},
    {INGEST_OM_TEMPERATURE, "°F", 5.0 / 9.0, -32.0 * 5.0 / 9.0},
    {INGEST_OM_HUMIDITY, "%", 1, 0},
    {INGEST_OM_WIND_SPEED, "km/h", 1 / 3.6, 0},
    {INGEST_OM_WIND_SPEED, "m/s", 1, 0},
    {INGEST_OM_WIND_SPEED, "mp/h", 0.44704, 0},
    {INGEST_OM_WIND_SPEED, "mph", 0.44704, 0},
    {INGEST_OM_WIND_SPEED, "kn", 1852.0 / 3600.0, 0},
    {INGEST_OM_WIND_DIR, "°", 1, 0},
    {INGEST_OM_CLOUD, "%", 1, 0},
    {INGEST_OM_GHI, "W/m²", 1, 0},
    {INGEST_OM_DNI, "W/m²", 1, 0},
    {INGEST_OM_PRECIP, "mm", 1, 0},
    {INGEST_OM_PRECIP, "inch", 25.4, 0},
    {INGEST_OM_PRESSURE, "hPa", 1, 0},
};

static const cJSON *member(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* The variable's array in block and its unit in unit_block, by either name. */
static const cJSON *variable(const cJSON *block, const cJSON *unit_block, enum ingest_om_var v,
                             const cJSON **unit)
{
	const cJSON *a = member(block, vars[v].name);
	const char *name = vars[v].name;

	if (!a && vars[v].old_name) {
		name = vars[v].old_name;
		a = member(block, name);
	}
	*unit = a ? member(unit_block, name) : NULL;
	return a;
}

static enum gf_err times(const cJSON *t, long offset_s, uint32_t interval_s,
                         struct ingest_om_block *b, const char *bname, char *err, size_t errlen)
{
	int64_t prev = 0;
	int i = 0;
	const cJSON *e;

	b->n = (size_t)cJSON_GetArraySize(t);
	if (b->n == 0)
		return gf_err_set(err, errlen, GF_EPARSE, "%s.time is empty", bname);
	if (b->n > INGEST_OM_TIMES_MAX)
		return gf_err_set(err, errlen, GF_ETOOLONG, "%s: more than %d times", bname,
		                  INGEST_OM_TIMES_MAX);
	cJSON_ArrayForEach(e, t)
	{
		int64_t ms;

		if (cJSON_IsString(e)) {
			if (ingest_util_time(e->valuestring, strlen(e->valuestring), &ms) != GF_OK)
				return gf_err_set(err, errlen, GF_EPARSE,
				                  "%s.time[%d] %.40s: not a time", bname, i,
				                  e->valuestring);
		} else if (cJSON_IsNumber(e) && fabs(e->valuedouble) < 1e11 &&
		           e->valuedouble == floor(e->valuedouble)) {
			ms = (int64_t)e->valuedouble * 1000;
		} else {
			return gf_err_set(err, errlen, GF_EPARSE, "%s.time[%d]: not a time", bname,
			                  i);
		}
		ms -= (int64_t)offset_s * 1000;
		if (i == 0)
			b->start_ms = ms;
		else if (ms - prev != (int64_t)interval_s * 1000)
			return gf_err_set(err, errlen, GF_EPARSE,
			                  "%s.time[%d] is not %u s after the one before (ask with "
			                  "timezone=GMT)",
			                  bname, i, interval_s);
		prev = ms;
		i++;
	}
	return GF_OK;
}

static enum gf_err values(const cJSON *a, const cJSON *unit, enum ingest_om_var v,
                          struct ingest_om_block *b, const char *bname, char *err, size_t errlen)
{
	const char *name = vars[v].name;
	double mul = 0, add = 0;
	bool known = false;
	size_t i = 0;
	const cJSON *e;

	if (!cJSON_IsArray(a) || (size_t)cJSON_GetArraySize(a) != b->n)
		return gf_err_set(err, errlen, GF_EPARSE, "%s.%s: not an array of %zu values",
		                  bname, name, b->n);
	if (!cJSON_IsString(unit))
		return gf_err_set(err, errlen, GF_EPARSE, "%s_units has no unit for %s", bname,
		                  name);
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (units[k].var == v && strcmp(units[k].unit, unit->valuestring) == 0) {
			mul = units[k].mul;
			add = units[k].add;
			known = true;
		}
	}
	if (!known)
		return gf_err_set(err, errlen, GF_EPARSE, "%s.%s: unit %.20s is not one I read",
		                  bname, name, unit->valuestring);
	if (!(b->v[v] = malloc(b->n * sizeof(double))))
		return GF_ENOMEM;
	for (size_t k = 0; k < b->n; k++)
		b->v[v][k] = NAN;
	cJSON_ArrayForEach(e, a)
	{
		double x;
		/* A "preceding" value at time i belongs to interval i - 1. */
		size_t at = vars[v].preceding ? i - 1 : i;

		if (cJSON_IsNull(e)) {
			i++;
			continue;
		}
		if (!cJSON_IsNumber(e))
			return gf_err_set(err, errlen, GF_EPARSE,
			                  "%s.%s[%zu]: neither a number nor null", bname, name, i);
		x = e->valuedouble * mul + add;
		if (vars[v].preceding && i == 0) {
			i++; /* the period before the first time: not in the block */
			continue;
		}
		if (isfinite(x) && x >= vars[v].lo && x <= vars[v].hi)
			b->v[v][at] = x;
		else
			b->refused++;
		i++;
	}
	return GF_OK;
}

static enum gf_err block(const cJSON *root, const char *bname, uint32_t interval_s, long offset_s,
                         struct ingest_om *out, char *err, size_t errlen)
{
	char uname[32];
	const cJSON *bl = member(root, bname), *ub, *t;
	struct ingest_om_block *b;
	bool any = false;
	enum gf_err rc;

	if (!bl)
		return GF_OK;
	snprintf(uname, sizeof(uname), "%s_units", bname);
	ub = member(root, uname);
	if (!cJSON_IsObject(bl) || !cJSON_IsObject(ub))
		return gf_err_set(err, errlen, GF_EPARSE, "%s needs an object and its %s", bname,
		                  uname);
	if (!cJSON_IsArray(t = member(bl, "time")))
		return gf_err_set(err, errlen, GF_EPARSE, "%s has no time array", bname);
	b = &out->block[out->nblocks++];
	b->interval_s = interval_s;
	if ((rc = times(t, offset_s, interval_s, b, bname, err, errlen)) != GF_OK)
		return rc;
	for (int v = 0; v < INGEST_OM_NVARS; v++) {
		const cJSON *unit, *a = variable(bl, ub, (enum ingest_om_var)v, &unit);

		if (!a)
			continue;
		if ((rc = values(a, unit, (enum ingest_om_var)v, b, bname, err, errlen)) != GF_OK)
			return rc;
		any = true;
	}
	if (!any)
		return gf_err_set(err, errlen, GF_EPARSE, "%s has none of the variables I read",
		                  bname);
	return GF_OK;
}

enum gf_err ingest_openmeteo_parse(const char *json, size_t len, struct ingest_om *out, char *err,
                                   size_t errlen)
{
	cJSON *root = NULL;
	const cJSON *e, *off;
	long offset_s = 0;
	enum gf_err rc = GF_OK;

	memset(out, 0, sizeof(*out));
	if (len > INGEST_OM_BYTES_MAX)
		return gf_err_set(err, errlen, GF_ETOOLONG, "a document of %zu bytes", len);
	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root)) {
		rc = gf_err_set(err, errlen, GF_EPARSE, "not a JSON object");
		goto out;
	}
	if (cJSON_IsTrue(member(root, "error"))) {
		e = member(root, "reason");
		rc = gf_err_set(err, errlen, GF_EPARSE, "Open-Meteo refused the query: %.200s",
		                cJSON_IsString(e) ? e->valuestring : "(no reason)");
		goto out;
	}
	e = member(root, "latitude");
	out->latitude = cJSON_IsNumber(e) ? e->valuedouble : NAN;
	e = member(root, "longitude");
	out->longitude = cJSON_IsNumber(e) ? e->valuedouble : NAN;
	off = member(root, "utc_offset_seconds");
	if (off && (!cJSON_IsNumber(off) || fabs(off->valuedouble) > 86400)) {
		rc = gf_err_set(err, errlen, GF_EPARSE, "utc_offset_seconds is not an offset");
		goto out;
	}
	offset_s = off ? (long)off->valuedouble : 0;
	if ((rc = block(root, "hourly", 3600, offset_s, out, err, errlen)) != GF_OK ||
	    (rc = block(root, "minutely_15", 900, offset_s, out, err, errlen)) != GF_OK)
		goto out;
	if (out->nblocks == 0)
		rc =
		    gf_err_set(err, errlen, GF_EPARSE, "neither an hourly nor a minutely_15 block");
out:
	if (rc != GF_OK)
		ingest_openmeteo_free(out);
	cJSON_Delete(root);
	return rc;
}

void ingest_openmeteo_free(struct ingest_om *m)
{
	if (!m)
		return;
	for (size_t b = 0; b < m->nblocks; b++)
		for (int v = 0; v < INGEST_OM_NVARS; v++)
			free(m->block[b].v[v]);
	memset(m, 0, sizeof(*m));
}

static unsigned present_at(const struct ingest_om_block *b, size_t i)
{
	unsigned set = 0;

	for (int v = 0; v < INGEST_OM_NVARS; v++)
		if (b->v[v] && !isnan(b->v[v][i]))
			set |= 1u << v;
	return set;
}

size_t ingest_openmeteo_runs(const struct ingest_om_block *b, size_t from, size_t to,
                             struct ingest_om_run *runs, size_t max)
{
	size_t count = 0;

	if (to > b->n)
		to = b->n;
	for (size_t i = from; i < to;) {
		unsigned set = present_at(b, i);
		size_t j = i + 1;

		while (j < to && present_at(b, j) == set)
			j++;
		if (set) {
			if (count < max)
				runs[count] = (struct ingest_om_run){i, j, set};
			count++;
		}
		i = j;
	}
	return count;
}
