/* SPDX-License-Identifier: MIT */
/*
 * audit.h - counting refusals and queueing them for the ops audit feed.
 *
 * gf_audit_record runs on the broker's ACL path: it copies the event into a
 * fixed ring (strings cut to fixed sizes) and never allocates. The plugin
 * drains the ring from its tick callback and publishes each event as a JSON
 * document; payloads are never recorded. When the ring is full, events are
 * counted as dropped and the count is reported in the next document.
 */
#ifndef GF_AUDIT_H
#define GF_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bus/policy.h"
#include "bus/reason.h"

#define GF_AUDIT_RING   1024
#define GF_AUDIT_WHO    80
#define GF_AUDIT_CLIENT 96
#define GF_AUDIT_TOPIC  256
#define GF_AUDIT_DETAIL 256

struct gf_audit_event {
	time_t time;
	enum gf_reason reason;
	enum gf_access access;  /* 0 for connection refusals */
	char who[GF_AUDIT_WHO]; /* "<role>.<id>" or what was offered */
	char client_id[GF_AUDIT_CLIENT];
	char topic[GF_AUDIT_TOPIC];   /* empty for connection refusals */
	char detail[GF_AUDIT_DETAIL]; /* what exactly was wrong, if known (never a payload) */
	uint8_t truncated;            /* 1 if a string was cut */
};

struct gf_audit {
	uint64_t count[GF_REASON_COUNT]; /* decisions per reason, ALLOW included */
	uint64_t dropped;                /* events lost to a full ring */
	uint64_t dropped_reported;
	size_t head, len;
	struct gf_audit_event ring[GF_AUDIT_RING];
};

/* Zeroes everything. */
void gf_audit_init(struct gf_audit *a);

/* Counts reason; unless it is ALLOW or queue is false, queues the event.
 * Any string may be NULL. Never allocates. */
void gf_audit_record(struct gf_audit *a, enum gf_reason reason, enum gf_access access,
                     const char *who, const char *client_id, const char *topic, const char *detail,
                     time_t now, int queue);

/* Removes the oldest queued event into *out; 0 if the ring was empty. */
int gf_audit_pop(struct gf_audit *a, struct gf_audit_event *out);

/*
 * Writes ev as one JSON object into buf (NUL-terminated), with "dropped" set
 * to the events lost since the previous call. GF_ETOOLONG if buf is too small
 * (4 KiB always suffices).
 */
enum gf_err gf_audit_event_json(struct gf_audit *a, const struct gf_audit_event *ev,
                                const char *site, char *buf, size_t size);

/* Writes the per-reason counters as one JSON object. GF_ETOOLONG as above
 * (4 KiB always suffices). */
enum gf_err gf_audit_stats_json(const struct gf_audit *a, const char *site, time_t now,
                                size_t clients, char *buf, size_t size);

/* Appends s as a JSON string (quotes included) at buf[*pos], escaping control
 * characters and replacing invalid UTF-8 with U+FFFD. GF_ETOOLONG if it does
 * not fit; buf stays NUL-terminated. */
enum gf_err gf_json_put_string(char *buf, size_t size, size_t *pos, const char *s);

#endif
