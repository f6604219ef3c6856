/* SPDX-License-Identifier: MIT */
/*
 * gf-ingest - external data onto the bus (issue 14, docs/ingest.md): the
 * ENTSO-E Transparency Platform's day-ahead prices (A44) as
 * price.dayahead, and Open-Meteo weather per location as weather.forecast
 * and weather.observation, all ext -> sp (SPEC section 5), fetched over
 * HTTPS with libcurl or read from files, on a schedule.
 *
 * This file: the configuration table, the checks, start, the outbox's
 * flush on bus events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <openssl/crypto.h>

#include "base/file.h"
#include "base/log.h"
#include "ingest.h"
#include "publish.h"
#include "source.h"

#define C(m) offsetof(struct ingest_conf, m)

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct ingest_conf, agent),
    {"entsoe_url", GF_CONF_STRING, C(entsoe_url), "https://web-api.tp.entsoe.eu/api", 0, 0, false,
     "the ENTSO-E RESTful API (https://, or http:// to a loopback host), or a file of an A44 "
     "document (a path or file:<path>)"},
    {"entsoe_area", GF_CONF_STRING, C(entsoe_area), NULL, 0, 0, false,
     "the bidding zone's EIC code (in_Domain and out_Domain, e.g. 10YCH-SWISSGRIDZ); unset: "
     "no prices"},
    {"entsoe_area_name", GF_CONF_STRING, C(entsoe_area_name), NULL, 0, 0, false,
     "the area the prices carry on the bus (e.g. CH); unset: entsoe_area"},
    {"entsoe_token_file", GF_CONF_STRING, C(entsoe_token_file), NULL, 0, 0, false,
     "file whose first line is the security token (mode 0600 or stricter; required for "
     "http(s) URLs); never logged"},
    {"entsoe_sequence", GF_CONF_INT, C(entsoe_sequence), "1", 0, 1000, false,
     "the classification sequence kept where a zone publishes several (DE-LU: 1 SDAC, "
     "2 EXAA); 0: any"},
    {"entsoe_resolution", GF_CONF_INT, C(entsoe_resolution), "0", 0, 86400, false,
     "the resolution kept (seconds: 900, 3600) where a day comes in several; 0: the finest"},
    {"entsoe_every_s", GF_CONF_INT, C(entsoe_every_s), "3600", 1, 7 * 86400, false,
     "real seconds between polls of the prices"},
    {"entsoe_past_days", GF_CONF_INT, C(entsoe_past_days), "1", 0, 30, false,
     "days before today (UTC, agent's clock) asked for"},
    {"entsoe_future_days", GF_CONF_INT, C(entsoe_future_days), "2", 1, 30, false,
     "days from today on asked for (2: today and tomorrow)"},
    {"weather_url", GF_CONF_STRING, C(weather_url), "https://api.open-meteo.com/v1/forecast", 0, 0,
     false,
     "Open-Meteo's forecast API (or an API answering in its form), or a file path where "
     "{location} stands for the location's name"},
    {"weather_locations", GF_CONF_STRING, C(weather_locations), NULL, 0, 0, false,
     "name:latitude:longitude[:gridPointId], comma-separated; unset: no weather"},
    {"weather_minutely_15", GF_CONF_BOOL, C(weather_minutely_15), "on", 0, 0, false,
     "ask for the 15-minute variables too (a series of 900 s beside the hourly one)"},
    {"weather_every_s", GF_CONF_INT, C(weather_every_s), "3600", 1, 7 * 86400, false,
     "real seconds between polls of each location"},
    {"weather_past_days", GF_CONF_INT, C(weather_past_days), "1", 0, 92, false,
     "past days asked for (published as weather.observation)"},
    {"weather_forecast_days", GF_CONF_INT, C(weather_forecast_days), "2", 1, 16, false,
     "forecast days asked for"},
    {"http_proxy", GF_CONF_STRING, C(http_proxy), NULL, 0, 0, false,
     "proxy URL for every request; none: no proxy; unset: libcurl's default (the "
     "https_proxy/http_proxy/no_proxy environment)"},
    {"http_ca_file", GF_CONF_STRING, C(http_ca_file), NULL, 0, 0, false,
     "CA certificates for https (unset: the system's)"},
    {"http_timeout_s", GF_CONF_INT, C(http_timeout_s), "30", 1, 600, false,
     "longest a request may take (the agent's thread waits for it)"},
    {"http_connect_timeout_s", GF_CONF_INT, C(http_connect_timeout_s), "10", 1, 600, false,
     "longest a connection may take"},
    {"http_max_bytes", GF_CONF_INT, C(http_max_bytes), "8388608", 1024, 16 << 20, false,
     "largest document accepted"},
    {"retries", GF_CONF_INT, C(retries), "4", 0, 100, false,
     "attempts after a failed one (timeouts, 408, 429, 5xx, truncated or unreadable bodies, "
     "wrong content types) before waiting for the next poll"},
    {"retry_base_s", GF_CONF_INT, C(retry_base_s), "2", 1, 3600, false,
     "real seconds before the first retry; doubled each time"},
    {"retry_max_s", GF_CONF_INT, C(retry_max_s), "300", 1, 86400, false,
     "longest back-off (a server's Retry-After is followed up to the poll period)"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static struct ingest ING;

/* The token file: owner-only, its first line the token. */
static enum gf_err read_token(const char *path, char **out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, n;
	enum gf_err rc;

	if (stat(path, &st) != 0)
		return gf_err_set(err, errlen, GF_EIO, "entsoe_token_file %s: cannot stat", path);
	if (st.st_mode & 077)
		return gf_err_set(err, errlen, GF_EDENIED,
		                  "entsoe_token_file %s: readable by others (mode %03o); chmod 600",
		                  path, (unsigned)(st.st_mode & 0777));
	if ((rc = gf_file_read(path, 4096, &buf, &len, err, errlen)) != GF_OK)
		return rc;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0 ||
	    strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") != n) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "entsoe_token_file %s: the first line is not a token (letters, "
		                  "digits, - _ .)",
		                  path);
	}
	if (n < len)
		OPENSSL_cleanse(buf + n, len - n);
	*out = buf;
	return GF_OK;
}

static enum gf_err check_url(const char *key, const char *url, bool secret, char *err,
                             size_t errlen)
{
	if (ingest_fetch_is_file(url))
		return GF_OK;
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "%s %s: neither http(s):// nor a file path", key, url);
	if (secret && !ingest_fetch_is_private(url))
		return gf_err_set(err, errlen, GF_EDENIED,
		                  "%s %s: the token travels only over https (or http to a loopback "
		                  "host)",
		                  key, url);
	return GF_OK;
}

static enum gf_err check(void *conf, char *err, size_t errlen)
{
	struct ingest_conf *c = conf;
	struct ingest probe = {.conf = c};
	char *token = NULL;
	enum gf_err rc;

	if (!c->entsoe_area && !c->weather_locations)
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "nothing to ingest: set entsoe_area, weather_locations or both");
	if (c->entsoe_area) {
		if ((rc = check_url("entsoe_url", c->entsoe_url, true, err, errlen)) != GF_OK)
			return rc;
		if (!ingest_fetch_is_file(c->entsoe_url) && !c->entsoe_token_file)
			return gf_err_set(err, errlen, GF_EINVAL,
			                  "entsoe_url %s needs entsoe_token_file", c->entsoe_url);
		if (c->entsoe_token_file) {
			if ((rc = read_token(c->entsoe_token_file, &token, err, errlen)) != GF_OK)
				return rc;
			OPENSSL_cleanse(token, strlen(token));
			free(token);
		}
		if (c->entsoe_resolution && 86400 % c->entsoe_resolution != 0)
			return gf_err_set(err, errlen, GF_EINVAL,
			                  "entsoe_resolution %ld does not divide a day",
			                  c->entsoe_resolution);
	}
	if (c->weather_locations &&
	    (rc = check_url("weather_url", c->weather_url, false, err, errlen)) != GF_OK)
		return rc;
	if (c->http_proxy && strcmp(c->http_proxy, "none") != 0 && !strstr(c->http_proxy, "://"))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "http_proxy %s: a URL (http://host:port) or none", c->http_proxy);
	rc = ingest_source_build(&probe, err, errlen);
	ingest_source_free(&probe);
	return rc;
}

static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	if (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED)
		ingest_publish_flush(gf_agent_data(a));
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	(void)a;
	gf_log_info("GF-INGEST-IGNORED", "a message on %s: gf-ingest reads none", item->topic);
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct ingest_conf *c = conf;
	char err[512] = "";
	enum gf_err rc;

	ING.a = a;
	ING.conf = c;
	gf_agent_set_data(a, &ING);
	xmlInitParser();
	if (ingest_fetch_init() != GF_OK) {
		gf_log_err("GF-INGEST-CONFIG", "libcurl could not start");
		return GF_EIO;
	}
	if (c->entsoe_token_file &&
	    (rc = read_token(c->entsoe_token_file, &ING.token, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-INGEST-TOKEN", "%s", err);
		return rc;
	}
	ING.fetch = (struct ingest_fetch_opts){
	    .timeout_s = c->http_timeout_s,
	    .connect_timeout_s = c->http_connect_timeout_s,
	    .proxy = c->http_proxy && strcmp(c->http_proxy, "none") == 0 ? "" : c->http_proxy,
	    .ca_file = c->http_ca_file,
	    .max_bytes = (size_t)c->http_max_bytes,
	};
	if ((rc = ingest_source_build(&ING, err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-INGEST-CONFIG", "%s", err);
		return rc;
	}
	if ((rc = gf_store_open(c->agent.state_dir, "ingest", ingest_publish_schema, &ING.store,
	                        err, sizeof(err))) != GF_OK) {
		gf_log_err("GF-INGEST-STORE", "%s", err);
		return rc;
	}
	gf_log_notice("GF-INGEST-START", "ext.%s: prices %s, %zu weather locations",
	              gf_bus_id(gf_agent_bus(a)), c->entsoe_area ? c->entsoe_area : "off",
	              ING.nsources - (c->entsoe_area ? 1 : 0));
	ingest_source_start(&ING);
	return GF_OK;
}

static void stop(struct gf_agent *a)
{
	ingest_publish_flush(gf_agent_data(a));
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-ingest",
	    .summary = "external data onto the bus: ENTSO-E day-ahead prices (price.dayahead) and "
	               "Open-Meteo weather (weather.forecast, weather.observation), to sp",
	    .version = "0.1.0",
	    .table = table,
	    .conf_size = sizeof(struct ingest_conf),
	    .common_offset = offsetof(struct ingest_conf, agent),
	    .check = check,
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .stop = stop,
	};
	int code = gf_agent_main(&def, argc, argv);

	ING.a = NULL; /* gone with gf_agent_main: its timers too */
	ingest_source_free(&ING);
	gf_store_close(ING.store);
	if (ING.token) {
		OPENSSL_cleanse(ING.token, strlen(ING.token));
		free(ING.token);
	}
	ingest_fetch_cleanup();
	xmlCleanupParser();
	return code;
}
