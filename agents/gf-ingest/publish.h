/* SPDX-License-Identifier: MIT */
/*
 * publish.h - what gf-ingest sends (docs/ingest.md): price.dayahead
 * (goflex.PriceSeries) from A44 documents, weather.forecast and
 * weather.observation (goflex.WeatherSeries) from Open-Meteo documents, to
 * sp/all. Each batch is one transaction of the store (lib/agent/once.h):
 * what was published is remembered with it, so a series already sent with
 * the same content is not sent again, a price revision replaces only an
 * older one, and each observed interval goes out once; the outbox hands
 * the messages to the bus after the commit.
 */
#ifndef INGEST_PUBLISH_H
#define INGEST_PUBLISH_H

#include <stddef.h>

#include "a44.h"
#include "ingest.h"
#include "openmeteo.h"

/* The store's tables (gf_store_open's schema). */
extern const char ingest_publish_schema[];

/* Most intervals in one weather message (a series is cut into several). */
#define INGEST_PUBLISH_INTERVALS_MAX 768

struct ingest_publish_count {
	size_t sent, unchanged, older; /* messages queued; series skipped */
};

/* Queues a price.dayahead per Period of d (selected already: one per
 * interval) that is new or supersedes what was sent for its interval
 * (ingest_a44_supersedes); older revisions are logged and skipped.
 * GF_OK, or the store's error after gf_agent_fail (the caller stops). */
enum gf_err ingest_publish_prices(struct ingest *ing, const struct ingest_a44 *d,
                                  struct ingest_publish_count *count);

/* Queues src's weather from m at the agent's time now_ms: the intervals
 * ended by then as weather.observation (each interval once), the rest as
 * weather.forecast issued at now_ms (again only when it changed), cut at
 * gaps (ingest_openmeteo_runs) and at INGEST_PUBLISH_INTERVALS_MAX.
 * Errors as ingest_publish_prices. */
enum gf_err ingest_publish_weather(struct ingest *ing, const struct ingest_source *src,
                                   const struct ingest_om *m, int64_t now_ms,
                                   struct ingest_publish_count *count);

/* Hands the outbox to the bus when it is connected. */
void ingest_publish_flush(struct ingest *ing);

#endif
