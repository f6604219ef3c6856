/* SPDX-License-Identifier: MIT */
/*
 * ingest.h - gf-ingest's shared state (docs/ingest.md): its configuration,
 * its sources (ENTSO-E day-ahead prices, Open-Meteo weather per location)
 * and its store (what was published, the outbox).
 */
#ifndef INGEST_H
#define INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/message.h"
#include "agent/store.h"
#include "fetch.h"

struct ingest_conf {
	struct gf_agent_conf agent;
	char *entsoe_url, *entsoe_area, *entsoe_area_name, *entsoe_token_file;
	long entsoe_sequence, entsoe_resolution, entsoe_every_s, entsoe_past_days,
	    entsoe_future_days;
	char *weather_url, *weather_locations;
	bool weather_minutely_15;
	long weather_every_s, weather_past_days, weather_forecast_days;
	char *http_proxy, *http_ca_file;
	long http_timeout_s, http_connect_timeout_s, http_max_bytes;
	long retries, retry_base_s, retry_max_s;
};

enum ingest_kind { INGEST_PRICES, INGEST_WEATHER };

#define INGEST_NAME_MAX 64

struct ingest;

/* One thing fetched on a schedule: the prices, or one location's weather. */
struct ingest_source {
	struct ingest *ing;
	enum ingest_kind kind;
	char name[INGEST_NAME_MAX];       /* "prices", or the location's name */
	char grid_point[INGEST_NAME_MAX]; /* the location's grid point id, or "" */
	double latitude, longitude;
	struct ingest_fetch_memo memo;
	uint64_t url_hash; /* the URL the memo's validators belong to */
	long attempt;      /* failed attempts in a row */
	uint64_t timer;
};

struct ingest {
	struct gf_agent *a;
	struct ingest_conf *conf;
	struct gf_store *store;
	char *token; /* the ENTSO-E security token, wiped at exit; never logged */
	struct ingest_fetch_opts fetch;
	size_t nsources;
	struct ingest_source *sources;
};

#endif
