/* SPDX-License-Identifier: MIT */
/*
 * source.h - gf-ingest's sources on their schedules (docs/ingest.md): each
 * poll builds its source's URL (or file), makes one attempt (fetch.h),
 * parses what came (a44.h, openmeteo.h) and publishes it (publish.h). A
 * failed attempt that may succeed later is tried again after a back-off
 * doubling from retry_base_s to retry_max_s (or the server's Retry-After),
 * at most `retries` times; then the source waits for its next poll.
 * Periods and back-offs are real seconds (the agent's timers run on its
 * simulated clock, so they are scaled by time_scale).
 */
#ifndef INGEST_SOURCE_H
#define INGEST_SOURCE_H

#include "base/err.h"
#include "ingest.h"

/* Builds ing's sources from its configuration: the prices when
 * entsoe_area is set, one weather source per location of
 * weather_locations ("name:lat:lon[:gridPointId]", comma-separated).
 * GF_EINVAL with err for a bad location list, GF_ENOMEM. */
enum gf_err ingest_source_build(struct ingest *ing, char *err, size_t errlen);

/* Polls every source now (and from then on on its schedule). */
void ingest_source_start(struct ingest *ing);

/* Cancels the timers and frees the sources. */
void ingest_source_free(struct ingest *ing);

#endif
