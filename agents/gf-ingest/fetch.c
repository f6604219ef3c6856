/* SPDX-License-Identifier: MIT */
/*
 * fetch.c - one attempt at a source's document (fetch.h): libcurl's easy
 * interface for HTTP(S), stat and lib/base/file for files.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "base/file.h"
#include "fetch.h"
#include "util.h"

struct sink {
	char *buf;
	size_t len, cap, max;
	bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->len + n > s->max) {
		s->too_big = true;
		return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 16384;
		char *b;

		while (cap < s->len + n + 1)
			cap *= 2;
		if (!(b = realloc(s->buf, cap)))
			return 0;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

enum gf_err ingest_fetch_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? GF_OK : GF_EIO;
}

void ingest_fetch_cleanup(void)
{
	curl_global_cleanup();
}

bool ingest_fetch_is_file(const char *url)
{
	return url[0] == '/' || url[0] == '.' || strncmp(url, "file:", 5) == 0;
}

bool ingest_fetch_is_private(const char *url)
{
	static const char *const loopback[] = {"localhost", "127.", "[::1]"};
	const char *host;

	if (strncasecmp(url, "https://", 8) == 0)
		return true;
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	host = url + 7;
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		size_t n = strlen(loopback[i]);

		if (strncasecmp(host, loopback[i], n) != 0)
			continue;
		/* "localhost" and "[::1]" must end there; "127." goes on. */
		if (loopback[i][n - 1] == '.' || host[n] == ':' || host[n] == '/' ||
		    host[n] == '\0')
			return true;
	}
	return false;
}

/* Whether content type ct is what want names. */
static bool type_ok(const char *ct, const char *want)
{
	char t[128];
	size_t n = strcspn(ct, "; \t");

	if (n >= sizeof(t))
		return false;
	memcpy(t, ct, n);
	t[n] = '\0';
	if (strcmp(want, "json") == 0)
		return strcasecmp(t, "application/json") == 0;
	n = strlen(t);
	return strcasecmp(t, "text/xml") == 0 || strcasecmp(t, "application/xml") == 0 ||
	       (n > 4 && strcasecmp(t + n - 4, "+xml") == 0);
}

static void keep_header(CURL *c, const char *name, char **slot)
{
	struct curl_header *h;
	char *copy;

	if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h->value)
		return;
	if (!(copy = strdup(h->value)))
		return;
	free(*slot);
	*slot = copy;
}

/* The start of a refused answer's body, on one line, for the log. */
static void body_start(const struct sink *s, char *out, size_t size)
{
	size_t n = s->len < size - 1 ? s->len : size - 1;

	for (size_t i = 0; i < n; i++)
		out[i] = (s->buf[i] >= 32 && s->buf[i] < 127) ? s->buf[i] : ' ';
	out[n] = '\0';
}

static void why(struct ingest_fetch_result *out, const char *secret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void why(struct ingest_fetch_result *out, const char *secret, const char *fmt, ...)
{
	char raw[sizeof(out->why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	ingest_util_redact(raw, secret, out->why, sizeof(out->why));
}

static enum ingest_fetch_outcome status_outcome(long status)
{
	if (status == 408 || status == 429 || status >= 500)
		return INGEST_FETCH_RETRY;
	return INGEST_FETCH_FAILED;
}

static enum gf_err http(const struct ingest_fetch_opts *o, const char *url, const char *want,
                        const char *secret, struct ingest_fetch_memo *memo,
                        struct ingest_fetch_result *out)
{
	struct sink s = {.max = o->max_bytes};
	struct curl_slist *hdr = NULL, *h;
	char line[1024], errbuf[CURL_ERROR_SIZE] = "", start[200];
	const char *ct = NULL;
	curl_off_t retry = -1;
	enum gf_err rc = GF_OK;
	CURLcode cc;
	CURL *c;

	if (!(c = curl_easy_init()))
		return GF_ENOMEM;
	if (memo->etag) {
		snprintf(line, sizeof(line), "If-None-Match: %s", memo->etag);
		if (!(h = curl_slist_append(hdr, line)))
			goto nomem;
		hdr = h;
	}
	if (memo->last_modified) {
		snprintf(line, sizeof(line), "If-Modified-Since: %s", memo->last_modified);
		if (!(h = curl_slist_append(hdr, line)))
			goto nomem;
		hdr = h;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); /* what libcurl can decode */
	curl_easy_setopt(c, CURLOPT_USERAGENT, "gf-ingest/0.1 (goflex-bus)");
	if (o->proxy)
		curl_easy_setopt(c, CURLOPT_PROXY, o->proxy);
	if (o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry);
	out->retry_after_s = retry > 0 ? (long)retry : -1;
	snprintf(out->content_type, sizeof(out->content_type), "%s", ct ? ct : "");
	if (s.too_big) {
		out->outcome = INGEST_FETCH_FAILED;
		why(out, secret, "the answer is larger than %zu bytes", o->max_bytes);
		goto out;
	}
	if (cc != CURLE_OK) {
		/* Timeouts, refused connections, a body shorter than its
		 * Content-Length (CURLE_PARTIAL_FILE): worth another try. A bad
		 * URL or protocol is not. */
		out->outcome = (cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL)
		                   ? INGEST_FETCH_FAILED
		                   : INGEST_FETCH_RETRY;
		why(out, secret, "%s (%s)", curl_easy_strerror(cc), errbuf);
		goto out;
	}
	if (out->status == 304) {
		out->outcome = INGEST_FETCH_UNCHANGED;
		why(out, secret, "304 Not Modified");
		goto out;
	}
	if (out->status >= 200 && out->status < 300) {
		if (!type_ok(out->content_type, want)) {
			out->outcome = INGEST_FETCH_RETRY;
			why(out, secret, "HTTP %ld with Content-Type \"%.60s\", not %s",
			    out->status, out->content_type, want);
			goto out;
		}
		out->outcome = INGEST_FETCH_OK;
		keep_header(c, "ETag", &memo->etag);
		keep_header(c, "Last-Modified", &memo->last_modified);
	} else {
		out->outcome = status_outcome(out->status);
		body_start(&s, start, sizeof(start));
		why(out, secret, "HTTP %ld: %s", out->status, start);
		if (!type_ok(out->content_type, want))
			goto out;
	}
	/* Hand the body over (a 2xx, or an error in the wanted type). */
	if (!s.buf && !(s.buf = calloc(1, 1)))
		goto nomem;
	out->body = s.buf;
	out->len = s.len;
	s.buf = NULL;
	goto out;
nomem:
	rc = GF_ENOMEM;
out:
	free(s.buf);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc;
}

static enum gf_err file(const struct ingest_fetch_opts *o, const char *url,
                        struct ingest_fetch_memo *memo, struct ingest_fetch_result *out)
{
	const char *path = strncmp(url, "file:", 5) == 0 ? url + 5 : url;
	char err[300];
	struct stat st;
	enum gf_err rc;

	/* file:///p and file:/p are both /p. */
	while (path[0] == '/' && path[1] == '/')
		path++;
	if (stat(path, &st) != 0) {
		out->outcome = INGEST_FETCH_RETRY;
		why(out, NULL, "%s: cannot stat", path);
		return GF_OK;
	}
	if ((int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == memo->mtime_ns &&
	    (int64_t)st.st_size == memo->size && (uint64_t)st.st_ino == memo->ino) {
		out->outcome = INGEST_FETCH_UNCHANGED;
		why(out, NULL, "%s: unchanged", path);
		return GF_OK;
	}
	rc = gf_file_read(path, o->max_bytes, &out->body, &out->len, err, sizeof(err));
	if (rc == GF_ENOMEM)
		return rc;
	if (rc != GF_OK) {
		out->outcome = INGEST_FETCH_RETRY;
		why(out, NULL, "%s", err);
		return GF_OK;
	}
	memo->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	memo->size = (int64_t)st.st_size;
	memo->ino = (uint64_t)st.st_ino;
	out->outcome = INGEST_FETCH_OK;
	return GF_OK;
}

enum gf_err ingest_fetch_get(const struct ingest_fetch_opts *o, const char *url,
                             const char *want_type, const char *secret,
                             struct ingest_fetch_memo *memo, struct ingest_fetch_result *out)
{
	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	if (ingest_fetch_is_file(url))
		return file(o, url, memo, out);
	return http(o, url, want_type, secret, memo, out);
}

void ingest_fetch_done(struct ingest_fetch_result *out)
{
	free(out->body);
	out->body = NULL;
	out->len = 0;
}

void ingest_fetch_forget(struct ingest_fetch_memo *memo)
{
	free(memo->etag);
	free(memo->last_modified);
	memset(memo, 0, sizeof(*memo));
}
