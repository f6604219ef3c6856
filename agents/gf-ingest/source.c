/* SPDX-License-Identifier: MIT */
/*
 * source.c - polls, retries and parsing of gf-ingest's sources (source.h).
 *
 * An attempt blocks the agent's thread for at most http_timeout_s: the
 * agent has no incoming messages to serve (it only publishes), and its
 * outbox is flushed after each attempt and at each PUBACK.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "a44.h"
#include "base/hash.h"
#include "base/log.h"
#include "openmeteo.h"
#include "publish.h"
#include "source.h"
#include "util.h"

#define URL_MAX 4096

/* The variables asked of Open-Meteo, as it names them. */
static const char om_vars[] = "temperature_2m,relative_humidity_2m,wind_speed_10m,"
                              "wind_direction_10m,cloud_cover,shortwave_radiation,"
                              "direct_normal_irradiance,precipitation,pressure_msl";

static bool parse_location(char *item, struct ingest_source *s)
{
	char *f[5], *save = NULL, *end;
	int n = 0;

	for (char *t = strtok_r(item, ":", &save); t && n < 5; t = strtok_r(NULL, ":", &save))
		f[n++] = t;
	if (n < 3 || n > 4 || strlen(f[0]) >= sizeof(s->name) ||
	    strspn(f[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") !=
	        strlen(f[0]) ||
	    (n == 4 && strlen(f[3]) >= sizeof(s->grid_point)))
		return false;
	strcpy(s->name, f[0]);
	if (n == 4)
		strcpy(s->grid_point, f[3]);
	s->latitude = strtod(f[1], &end);
	if (*end || !(s->latitude >= -90 && s->latitude <= 90))
		return false;
	s->longitude = strtod(f[2], &end);
	return !*end && s->longitude >= -180 && s->longitude <= 180;
}

enum gf_err ingest_source_build(struct ingest *ing, char *err, size_t errlen)
{
	const struct ingest_conf *c = ing->conf;
	size_t n = c->entsoe_area ? 1 : 0;
	char *list = NULL, *save = NULL;
	enum gf_err rc = GF_OK;

	if (c->weather_locations)
		for (const char *p = c->weather_locations; *p; p++)
			n += *p == ',';
	n += c->weather_locations ? 1 : 0;
	if (!(ing->sources = calloc(n ? n : 1, sizeof(*ing->sources))))
		return GF_ENOMEM;
	if (c->entsoe_area) {
		struct ingest_source *s = &ing->sources[ing->nsources++];

		s->kind = INGEST_PRICES;
		strcpy(s->name, "prices");
	}
	if (!c->weather_locations)
		return GF_OK;
	if (!(list = strdup(c->weather_locations)))
		return GF_ENOMEM;
	for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		struct ingest_source *s = &ing->sources[ing->nsources];
		char copy[256];

		snprintf(copy, sizeof(copy), "%s", t);
		s->kind = INGEST_WEATHER;
		if (!parse_location(t, s)) {
			rc = gf_err_set(err, errlen, GF_EINVAL,
			                "weather_locations: \"%s\" is not name:latitude:longitude"
			                "[:gridPointId] (name of letters, digits, _ - .)",
			                copy);
			break;
		}
		for (size_t i = 0; i < ing->nsources; i++) {
			if (ing->sources[i].kind == INGEST_WEATHER &&
			    strcmp(ing->sources[i].name, s->name) == 0) {
				rc = gf_err_set(err, errlen, GF_EINVAL,
				                "weather_locations: %s named twice", s->name);
				goto out;
			}
		}
		ing->nsources++;
	}
out:
	free(list);
	return rc;
}

/* --- URLs -------------------------------------------------------------------------- */

static void day_stamp(int64_t day, char out[13])
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 13, "%Y%m%d0000", &tm);
}

/* Replaces {location} in a file path by the location's name. */
static void file_path(const char *tmpl, const char *name, char *out, size_t size)
{
	const char *at = strstr(tmpl, "{location}");

	if (!at)
		snprintf(out, size, "%s", tmpl);
	else
		snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl, name,
		         at + strlen("{location}"));
}

static void url_of(const struct ingest_source *s, char *out, size_t size)
{
	const struct ingest *ing = s->ing;
	const struct ingest_conf *c = ing->conf;
	const char *base = s->kind == INGEST_PRICES ? c->entsoe_url : c->weather_url;
	char sep = strchr(base, '?') ? '&' : '?';

	if (ingest_fetch_is_file(base)) {
		file_path(base, s->name, out, size);
		return;
	}
	if (s->kind == INGEST_PRICES) {
		int64_t today = (int64_t)floor(gf_agent_now(ing->a) / 86400.0);
		char from[13], to[13];

		day_stamp(today - c->entsoe_past_days, from);
		day_stamp(today + c->entsoe_future_days, to);
		/* The token last, so that what precedes it can be logged. */
		snprintf(out, size,
		         "%s%cdocumentType=A44&in_Domain=%s&out_Domain=%s&periodStart=%s&"
		         "periodEnd=%s&securityToken=%s",
		         base, sep, c->entsoe_area, c->entsoe_area, from, to,
		         ing->token ? ing->token : "");
		return;
	}
	snprintf(out, size,
	         "%s%clatitude=%.5f&longitude=%.5f&hourly=%s%s%s&timezone=GMT&"
	         "timeformat=iso8601&past_days=%ld&forecast_days=%ld",
	         base, sep, s->latitude, s->longitude, om_vars,
	         c->weather_minutely_15 ? "&minutely_15=" : "",
	         c->weather_minutely_15 ? om_vars : "", c->weather_past_days,
	         c->weather_forecast_days);
}

/* --- polls ------------------------------------------------------------------------- */

static void poll_now(struct gf_agent *a, void *arg);

static void arm(struct ingest_source *s, double real_s)
{
	struct ingest *ing = s->ing;
	double scale = (double)ing->conf->agent.time_scale;

	s->timer = gf_agent_timer_at(ing->a, gf_agent_now(ing->a) + real_s * scale, poll_now, s);
}

static long every_s(const struct ingest_source *s)
{
	return s->kind == INGEST_PRICES ? s->ing->conf->entsoe_every_s
	                                : s->ing->conf->weather_every_s;
}

/* After a failed attempt: again after the back-off, or at the next poll. */
static void again(struct ingest_source *s, const struct ingest_fetch_result *r, bool may_help)
{
	const struct ingest_conf *c = s->ing->conf;
	double delay;

	if (!may_help || ++s->attempt > c->retries) {
		gf_log_err("GF-INGEST-GAVE-UP", "%s: %s; next poll in %ld s", s->name,
		           may_help ? "no more retries" : "not retried", every_s(s));
		s->attempt = 0;
		arm(s, (double)every_s(s));
		return;
	}
	delay = (double)c->retry_base_s * pow(2.0, (double)(s->attempt - 1));
	if (delay > (double)c->retry_max_s)
		delay = (double)c->retry_max_s;
	/* The server's Retry-After wins, up to the poll period. */
	if (r && r->retry_after_s >= 0)
		delay = (double)(r->retry_after_s < every_s(s) ? r->retry_after_s : every_s(s));
	gf_log_warning("GF-INGEST-RETRY", "%s: attempt %ld of %ld again in %.0f s", s->name,
	               s->attempt + 1, c->retries + 1, delay);
	arm(s, delay);
}

/* Parses and publishes a body; false when it could not be parsed. */
static bool take(struct ingest_source *s, const struct ingest_fetch_result *r)
{
	struct ingest *ing = s->ing;
	const struct ingest_conf *c = ing->conf;
	struct ingest_publish_count n = {0};
	char err[512];
	enum gf_err rc;

	if (s->kind == INGEST_PRICES) {
		struct ingest_a44 d;
		size_t dropped;

		if (ingest_a44_parse(r->body, r->len, &d, err, sizeof(err)) != GF_OK) {
			gf_log_err("GF-INGEST-PARSE", "%s: %s", s->name, err);
			return false;
		}
		if (d.no_data) {
			gf_log_notice("GF-INGEST-NO-DATA", "%s: ENTSO-E has no prices: %s", s->name,
			              d.reason);
			ingest_a44_free(&d);
			return true;
		}
		dropped = ingest_a44_select(&d, c->entsoe_area, c->entsoe_sequence,
		                            (uint32_t)c->entsoe_resolution);
		rc = ingest_publish_prices(ing, &d, &n);
		if (rc == GF_OK)
			gf_log_notice(
			    "GF-INGEST-PRICES",
			    "%s: revision %ld, %zu periods (%zu of other sequences, "
			    "resolutions or areas left out): %zu sent, %zu unchanged, %zu "
			    "older",
			    s->name, d.revision, d.n, dropped, n.sent, n.unchanged, n.older);
		ingest_a44_free(&d);
	} else {
		struct ingest_om m;
		size_t refused = 0;

		if (ingest_openmeteo_parse(r->body, r->len, &m, err, sizeof(err)) != GF_OK) {
			gf_log_err("GF-INGEST-PARSE", "%s: %s", s->name, err);
			return false;
		}
		for (size_t i = 0; i < m.nblocks; i++)
			refused += m.block[i].refused;
		if (refused)
			gf_log_warning("GF-INGEST-RANGE",
			               "%s: %zu values outside the bus's ranges left out (as gaps)",
			               s->name, refused);
		rc = ingest_publish_weather(ing, s, &m,
		                            (int64_t)floor(gf_agent_now(ing->a) * 1000.0), &n);
		if (rc == GF_OK)
			gf_log_notice("GF-INGEST-WEATHER", "%s: %zu messages sent, %zu unchanged",
			              s->name, n.sent, n.unchanged);
		ingest_openmeteo_free(&m);
	}
	if (rc == GF_OK)
		ingest_publish_flush(ing);
	return true; /* a store failure already stopped the agent */
}

static void poll_now(struct gf_agent *a, void *arg)
{
	struct ingest_source *s = arg;
	struct ingest *ing = s->ing;
	struct ingest_fetch_result r;
	char *url = malloc(URL_MAX), shown[URL_MAX];
	uint64_t h;

	(void)a;
	s->timer = 0;
	if (!url) {
		gf_agent_fail(ing->a, "out of memory");
		return;
	}
	url_of(s, url, URL_MAX);
	h = gf_fnv1a64(GF_FNV1A64_BASIS, url, strlen(url));
	if (h != s->url_hash) {
		/* Another URL (a new day): the old validators mean nothing. */
		ingest_fetch_forget(&s->memo);
		s->url_hash = h;
	}
	/* A weather file is read at every poll, changed or not: as the
	 * agent's clock moves, its forecast intervals become observations
	 * (the store keeps anything from going out twice). */
	if (s->kind == INGEST_WEATHER && ingest_fetch_is_file(url))
		ingest_fetch_forget(&s->memo);
	ingest_util_redact(url, ing->token, shown, sizeof(shown));
	gf_log_debug("GF-INGEST-FETCH", "%s: %s", s->name, shown);
	if (ingest_fetch_get(&ing->fetch, url, s->kind == INGEST_PRICES ? "xml" : "json",
	                     ing->token, &s->memo, &r) != GF_OK) {
		free(url);
		gf_agent_fail(ing->a, "out of memory");
		return;
	}
	memset(url, 0, URL_MAX); /* it held the token */
	free(url);
	switch (r.outcome) {
	case INGEST_FETCH_OK:
		if (take(s, &r)) {
			s->attempt = 0;
			arm(s, (double)every_s(s));
		} else {
			/* A body cut short in a chunked answer parses badly
			 * too: try again, without the validators of this one. */
			ingest_fetch_forget(&s->memo);
			again(s, &r, true);
		}
		break;
	case INGEST_FETCH_UNCHANGED:
		gf_log_info("GF-INGEST-UNCHANGED", "%s: %s", s->name, r.why);
		s->attempt = 0;
		arm(s, (double)every_s(s));
		break;
	case INGEST_FETCH_RETRY:
		gf_log_warning("GF-INGEST-FETCH-FAILED", "%s: %s", s->name, r.why);
		again(s, &r, true);
		break;
	case INGEST_FETCH_FAILED:
		/* ENTSO-E explains a query it refuses or cannot match in an
		 * acknowledgement document, sometimes with a 4xx status. */
		if (r.body && s->kind == INGEST_PRICES && take(s, &r)) {
			s->attempt = 0;
			arm(s, (double)every_s(s));
			break;
		}
		gf_log_err("GF-INGEST-FETCH-FAILED", "%s: %s", s->name, r.why);
		again(s, &r, false);
		break;
	}
	ingest_fetch_done(&r);
}

void ingest_source_start(struct ingest *ing)
{
	for (size_t i = 0; i < ing->nsources; i++) {
		ing->sources[i].ing = ing;
		poll_now(ing->a, &ing->sources[i]);
	}
}

void ingest_source_free(struct ingest *ing)
{
	for (size_t i = 0; i < ing->nsources; i++) {
		if (ing->a && ing->sources[i].timer)
			gf_agent_timer_cancel(ing->a, ing->sources[i].timer);
		ingest_fetch_forget(&ing->sources[i].memo);
	}
	free(ing->sources);
	ing->sources = NULL;
	ing->nsources = 0;
}
