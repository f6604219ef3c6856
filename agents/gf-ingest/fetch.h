/* SPDX-License-Identifier: MIT */
/*
 * fetch.h - one attempt to get a source's document: over HTTP(S) with
 * libcurl (timeouts, a proxy, a size limit, conditional requests with the
 * validators of the last answer), or from a file (re-read when it
 * changed). The retries and their back-off are the caller's (source.c):
 * this says what happened and whether trying again may help.
 */
#ifndef INGEST_FETCH_H
#define INGEST_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct ingest_fetch_opts {
	long timeout_s, connect_timeout_s;
	const char *proxy;   /* NULL: libcurl's default (the *_proxy environment); "": none */
	const char *ca_file; /* NULL: the system's CAs */
	size_t max_bytes;    /* a larger body is an error */
};

/* What one source remembers between attempts: the conditional request's
 * validators (HTTP), the file's identity (files). Owned by the source;
 * free with ingest_fetch_forget. */
struct ingest_fetch_memo {
	char *etag, *last_modified;
	int64_t mtime_ns, size;
	uint64_t ino;
};

enum ingest_fetch_outcome {
	INGEST_FETCH_OK,        /* body holds a new document */
	INGEST_FETCH_UNCHANGED, /* 304 Not Modified, or the file did not change */
	INGEST_FETCH_RETRY,     /* failed; trying again later may help */
	INGEST_FETCH_FAILED,    /* failed; the same request will fail again */
};

struct ingest_fetch_result {
	enum ingest_fetch_outcome outcome;
	long status;        /* HTTP status (0: none, or a file) */
	long retry_after_s; /* the server's Retry-After, seconds (-1: none) */
	char content_type[128];
	char *body; /* malloc'd, NUL-terminated; the caller frees */
	size_t len;
	char why[512]; /* for the log, secrets redacted */
};

/* Once per process, before any fetch (curl_global_init). GF_EIO. */
enum gf_err ingest_fetch_init(void);
void ingest_fetch_cleanup(void);

/*
 * One attempt at url (http:// or https://), or at a file when url is a
 * path or file:<path>. want_type is the Content Type the document must
 * have ("xml": text/xml, application/xml or any +xml; "json":
 * application/json); a 2xx answer of another type is RETRY (a proxy's or a
 * portal's error page). secret (may be NULL) is replaced by *** in why.
 * Outcomes: 200 with a body: OK (the memo takes the new validators); 304:
 * UNCHANGED; 408, 429, 5xx, timeouts, connection failures, a truncated
 * body (a Content-Length not met): RETRY, with Retry-After kept; other
 * 4xx: FAILED, with the start of the body in why (ENTSO-E explains a
 * refused query there). For a 4xx or 5xx the body is kept too when it has
 * the wanted type (ENTSO-E answers an unmatched query with 400 and an
 * acknowledgement document). GF_ENOMEM only; every other failure is an
 * outcome.
 */
enum gf_err ingest_fetch_get(const struct ingest_fetch_opts *o, const char *url,
                             const char *want_type, const char *secret,
                             struct ingest_fetch_memo *memo, struct ingest_fetch_result *out);

/* Frees what out holds (body). */
void ingest_fetch_done(struct ingest_fetch_result *out);

/* Frees what memo holds and zeroes it. */
void ingest_fetch_forget(struct ingest_fetch_memo *memo);

/* Whether url is a file (a path or file:<path>) rather than HTTP(S). */
bool ingest_fetch_is_file(const char *url);

/* Whether url may carry a secret: https://, or http:// to a loopback host
 * (localhost, 127.0.0.0/8, [::1]), never another http://. */
bool ingest_fetch_is_private(const char *url);

#endif
