/* SPDX-License-Identifier: MIT */
/*
 * parse.c - what the REST API is given (tracker.h): a posted KpiSample
 * (decoded with the bus's own codec and schema, so a sample posted over
 * HTTP is held to what the broker would accept) and series query
 * parameters.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"
#include "base/timefmt.h"
#include "kpi.pb-c.h"
#include "payload/codec.h"

bool kpi_parse_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KPI_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

/* A time parameter: RFC 3339 or seconds since the epoch. */
static enum gf_err kpi_parse_time(const char *s, double *out)
{
	int64_t ms;
	char *end;
	double v;

	if (!*s)
		return GF_EPARSE;
	v = strtod(s, &end);
	if (*end == '\0' && isfinite(v) && v >= 0 && v < 1e11) {
		*out = v;
		return GF_OK;
	}
	if (gf_time_parse(s, strlen(s), &ms) != GF_OK)
		return GF_EPARSE;
	*out = (double)ms / 1000.0;
	return GF_OK;
}

enum gf_err kpi_parse_sample(const char *json, size_t len, struct kpi_sample *out, char *err,
                             size_t errlen)
{
	ProtobufCMessage *m = NULL;
	Goflex__KpiSample *k;
	struct kpi_sample s;
	enum gf_err rc = GF_EPARSE;
	int64_t ms;

	memset(&s, 0, sizeof(s));
	if (gf_codec_from_json(&goflex__kpi_sample__descriptor, json, len, &m, err, errlen) !=
	    GF_OK) {
		rc = GF_EPARSE;
		goto out;
	}
	k = (Goflex__KpiSample *)m;
	if (!kpi_parse_id(k->kpiid)) {
		snprintf(err, errlen, "kpiId: 1..%d of A-Z a-z 0-9 . _ -", KPI_NAME_MAX);
		goto out;
	}
	if (!isfinite(k->value)) {
		snprintf(err, errlen, "value: not a finite number");
		goto out;
	}
	if (gf_time_parse(k->observedtime, strlen(k->observedtime), &ms) != GF_OK) {
		snprintf(err, errlen, "observedTime: not an RFC 3339 time");
		goto out;
	}
	if (k->unit) {
		if (strlen(k->unit) >= sizeof(s.unit)) {
			snprintf(err, errlen, "unit: longer than %zu characters",
			         sizeof(s.unit) - 1);
			goto out;
		}
		for (const char *p = k->unit; *p; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' ||
			    *p == '&' || *p == '"') {
				snprintf(err, errlen, "unit: only printable characters, no <>&\"");
				goto out;
			}
		}
		strcpy(s.unit, k->unit);
	}
	strcpy(s.kpi, k->kpiid);
	s.value = k->value;
	s.t = (double)ms / 1000.0;
	s.period_s = k->has_periodseconds ? k->periodseconds : 0;
	*out = s;
	rc = GF_OK;
out:
	gf_codec_free(m);
	return rc;
}

void kpi_parse_query_init(struct kpi_query *q, double now)
{
	memset(q, 0, sizeof(*q));
	kpi_rules_pattern("*/*/*:x", &q->source);
	q->to = now;
	q->from = now - 86400;
	q->step = 0;
	q->agg = KPI_AGG_MEAN;
}

enum gf_err kpi_parse_query_param(struct kpi_query *q, const char *key, const char *value,
                                  char *err, size_t errlen)
{
	char buf[3 * (KPI_NAME_MAX + 2) + 4];
	double v;

	if (!key || !value) {
		snprintf(err, errlen, "a parameter without a value");
		return GF_EPARSE;
	}
	if (strcmp(key, "kpi") == 0) {
		if (!kpi_parse_id(value)) {
			snprintf(err, errlen, "kpi: 1..%d of A-Z a-z 0-9 . _ -", KPI_NAME_MAX);
			return GF_EPARSE;
		}
		strcpy(q->kpi, value);
	} else if (strcmp(key, "source") == 0) {
		if (strlen(value) > sizeof(buf) - 4) {
			snprintf(err, errlen, "source: too long");
			return GF_EPARSE;
		}
		snprintf(buf, sizeof(buf), "%s:x", value);
		if (kpi_rules_pattern(buf, &q->source) != GF_OK) {
			snprintf(err, errlen, "source: SITE/ROLE/ID, * for any part");
			return GF_EPARSE;
		}
	} else if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0) {
		if (kpi_parse_time(value, &v) != GF_OK) {
			snprintf(err, errlen, "%s: RFC 3339 or epoch seconds", key);
			return GF_EPARSE;
		}
		*(key[0] == 'f' ? &q->from : &q->to) = v;
	} else if (strcmp(key, "step") == 0) {
		char *end;
		v = strtod(value, &end);
		if (!*value || *end || !isfinite(v) || v < 0 || v > 86400.0 * 366) {
			snprintf(err, errlen, "step: seconds, 0 .. one year");
			return GF_EPARSE;
		}
		q->step = v;
	} else if (strcmp(key, "agg") == 0) {
		static const char *const names[] = {"mean", "sum", "last", "max", "min"};
		int i = 0;
		for (; i < 5 && strcmp(value, names[i]) != 0; i++)
			;
		if (i == 5) {
			snprintf(err, errlen, "agg: mean, sum, last, max or min");
			return GF_EPARSE;
		}
		q->agg = (enum kpi_agg)i;
		q->has_agg = true;
	} else {
		snprintf(err, errlen, "unknown parameter (kpi, source, from, to, step, agg)");
		return GF_EPARSE;
	}
	return GF_OK;
}

enum gf_err kpi_parse_query_check(const struct kpi_query *q, size_t max_points, char *err,
                                  size_t errlen)
{
	if (!q->kpi[0]) {
		snprintf(err, errlen, "kpi: required");
		return GF_EPARSE;
	}
	if (!(q->from < q->to)) {
		snprintf(err, errlen, "from must be before to");
		return GF_EPARSE;
	}
	if (q->step > 0 && (q->to - q->from) / q->step > (double)max_points) {
		snprintf(err, errlen, "step too small for the range: at most %zu points",
		         max_points);
		return GF_EPARSE;
	}
	return GF_OK;
}
