/* SPDX-License-Identifier: MIT */
/*
 * a44.c - ENTSO-E A44 day-ahead price documents (a44.h).
 *
 * The document, IEC 62325-451-3 Publication_MarketDocument (namespace
 * urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:0 or :7:3; matched
 * by local names only, so a new version of the namespace still reads):
 *
 *   Publication_MarketDocument
 *     mRID, revisionNumber, type (A44), createdDateTime, ...
 *     TimeSeries*            one per day and classification sequence
 *       in_Domain.mRID       the bidding zone's EIC
 *       currency_Unit.name   EUR
 *       price_Measure_Unit.name  MWH
 *       curveType            A01 (every point) or A03 (omitted points repeat)
 *       classificationSequence_AttributeInstanceComponent.position  (7:3)
 *       Period*
 *         timeInterval/start, timeInterval/end   "2023-03-25T23:00Z"
 *         resolution         PT60M, PT15M
 *         Point*             position (1-based), price.amount (EUR/MWh)
 *
 * A day of a clock change has 23 or 25 hours (92 or 100 quarter hours):
 * the interval is in UTC, so the count follows from start and end.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "a44.h"
#include "util.h"

#define PRICE_MAX 1e6 /* EUR/MWh: far beyond any market's cap (SDAC: 4000) */

struct parse {
	struct ingest_a44 *d;
	char *err;
	size_t errlen;
};

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (named(c, name))
			return c;
	return NULL;
}

/* The element's text, trimmed, into buf; false when there is none or it
 * does not fit. Only text and CDATA children count: entity references are
 * never expanded. */
static bool text(const xmlNode *n, char *buf, size_t size)
{
	size_t len = 0;
	const char *s;

	if (!n || size == 0)
		return false;
	buf[0] = '\0';
	for (const xmlNode *c = n->children; c; c = c->next) {
		size_t k;

		if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !c->content)
			continue;
		k = strlen((const char *)c->content);
		if (len + k >= size) {
			buf[0] = '\0';
			return false;
		}
		memcpy(buf + len, c->content, k);
		len += k;
	}
	buf[len] = '\0';
	s = buf + strspn(buf, " \t\r\n");
	len = strlen(s);
	while (len > 0 && strchr(" \t\r\n", s[len - 1]))
		len--;
	memmove(buf, s, len);
	buf[len] = '\0';
	return len > 0;
}

static bool child_text(const xmlNode *n, const char *name, char *buf, size_t size)
{
	return text(child(n, name), buf, size);
}

/* A whole number in [lo, hi]. */
static bool number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return false;
	v = strtol(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* ISO 8601 PTnM or PTnH, at most a day. */
static bool resolution(const char *s, uint32_t *out)
{
	size_t len = strlen(s);
	char digits[8];
	long v;

	if (len < 4 || len > 8 || strncmp(s, "PT", 2) != 0 ||
	    (s[len - 1] != 'M' && s[len - 1] != 'H'))
		return false;
	memcpy(digits, s + 2, len - 3);
	digits[len - 3] = '\0';
	if (!number(digits, 1, 1440, &v))
		return false;
	v *= s[len - 1] == 'H' ? 3600 : 60;
	if (v > 86400)
		return false;
	*out = (uint32_t)v;
	return true;
}

__attribute__((format(printf, 2, 3))) static enum gf_err fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	enum gf_err rc;

	va_start(ap, fmt);
	rc = gf_err_vset(p->err, p->errlen, GF_EPARSE, fmt, ap);
	va_end(ap);
	return rc;
}

static enum gf_err time_field(struct parse *p, const xmlNode *n, const char *name, int64_t *ms)
{
	char buf[64];

	if (!child_text(n, name, buf, sizeof(buf)) ||
	    ingest_util_time(buf, strlen(buf), ms) != GF_OK)
		return fail(p, "timeInterval: missing or bad %s", name);
	return GF_OK;
}

/* The Points of one Period into per->price (allocated). */
static enum gf_err points(struct parse *p, const xmlNode *period, struct ingest_a44_period *per,
                          long tsno)
{
	bool *given = calloc(per->n, sizeof(*given));
	enum gf_err rc = GF_OK;

	per->price = calloc(per->n, sizeof(*per->price));
	if (!given || !per->price) {
		rc = GF_ENOMEM;
		goto out;
	}
	for (const xmlNode *c = period->children; c; c = c->next) {
		char pos[16], amount[64], *end;
		long k;
		double v;

		if (!named(c, "Point"))
			continue;
		if (!child_text(c, "position", pos, sizeof(pos)) ||
		    !number(pos, 1, (long)per->n, &k)) {
			rc = fail(p,
			          "TimeSeries %ld: a Point's position is missing or not in 1..%zu",
			          tsno, per->n);
			goto out;
		}
		if (given[k - 1]) {
			rc = fail(p, "TimeSeries %ld: position %ld given twice", tsno, k);
			goto out;
		}
		if (!child_text(c, "price.amount", amount, sizeof(amount))) {
			rc = fail(p, "TimeSeries %ld: position %ld has no price.amount", tsno, k);
			goto out;
		}
		v = strtod(amount, &end);
		if (*end || !isfinite(v) || fabs(v) > PRICE_MAX) {
			rc = fail(p,
			          "TimeSeries %ld: price.amount %s at position %ld is not a price",
			          tsno, amount, k);
			goto out;
		}
		given[k - 1] = true;
		per->price[k - 1] = v / 1000.0; /* EUR/MWh -> EUR/kWh */
	}
	for (size_t i = 0; i < per->n; i++) {
		if (given[i])
			continue;
		if (!per->a03 || i == 0) {
			rc = fail(p, "TimeSeries %ld (curve %s): position %zu is missing", tsno,
			          per->a03 ? "A03" : "A01", i + 1);
			goto out;
		}
		per->price[i] = per->price[i - 1];
	}
out:
	free(given);
	return rc;
}

static enum gf_err period(struct parse *p, const xmlNode *pe, const struct ingest_a44_period *ts,
                          long tsno)
{
	struct ingest_a44 *d = p->d;
	struct ingest_a44_period per = *ts, *grown;
	const xmlNode *ti = child(pe, "timeInterval");
	char res[16];
	enum gf_err rc;
	int64_t span;

	if (!ti)
		return fail(p, "TimeSeries %ld: a Period has no timeInterval", tsno);
	if ((rc = time_field(p, ti, "start", &per.start_ms)) != GF_OK ||
	    (rc = time_field(p, ti, "end", &per.end_ms)) != GF_OK)
		return rc;
	if (!child_text(pe, "resolution", res, sizeof(res)) || !resolution(res, &per.resolution_s))
		return fail(p, "TimeSeries %ld: a Period's resolution is missing or not PTnM/PTnH",
		            tsno);
	span = per.end_ms - per.start_ms;
	if (span <= 0 || span % ((int64_t)per.resolution_s * 1000) != 0)
		return fail(p,
		            "TimeSeries %ld: the Period's interval is not a whole number of "
		            "its resolution",
		            tsno);
	if (span / ((int64_t)per.resolution_s * 1000) > INGEST_A44_POINTS_MAX)
		return gf_err_set(p->err, p->errlen, GF_ETOOLONG,
		                  "TimeSeries %ld: a Period of more than %d positions", tsno,
		                  INGEST_A44_POINTS_MAX);
	if (d->n >= INGEST_A44_PERIODS_MAX)
		return gf_err_set(p->err, p->errlen, GF_ETOOLONG, "more than %d Periods",
		                  INGEST_A44_PERIODS_MAX);
	per.n = (size_t)(span / ((int64_t)per.resolution_s * 1000));
	per.price = NULL;
	if ((rc = points(p, pe, &per, tsno)) != GF_OK) {
		free(per.price);
		return rc;
	}
	grown = realloc(d->periods, (d->n + 1) * sizeof(*grown));
	if (!grown) {
		free(per.price);
		return GF_ENOMEM;
	}
	d->periods = grown;
	d->periods[d->n++] = per;
	return GF_OK;
}

static enum gf_err timeseries(struct parse *p, const xmlNode *tsn, long tsno)
{
	struct ingest_a44_period ts = {0};
	char buf[64];
	enum gf_err rc;

	if (!child_text(tsn, "currency_Unit.name", buf, sizeof(buf)) || strcmp(buf, "EUR") != 0)
		return fail(p, "TimeSeries %ld: currency_Unit.name is not EUR", tsno);
	if (!child_text(tsn, "price_Measure_Unit.name", buf, sizeof(buf)) ||
	    strcmp(buf, "MWH") != 0)
		return fail(p, "TimeSeries %ld: price_Measure_Unit.name is not MWH", tsno);
	if (!child_text(tsn, "curveType", buf, sizeof(buf)))
		strcpy(buf, "A01"); /* the standard's default */
	if (strcmp(buf, "A03") == 0)
		ts.a03 = true;
	else if (strcmp(buf, "A01") != 0)
		return fail(p, "curveType %s of TimeSeries %ld: only A01 and A03", buf, tsno);
	if (child_text(tsn, "classificationSequence_AttributeInstanceComponent.position", buf,
	               sizeof(buf)) &&
	    !number(buf, 1, 1000, &ts.sequence))
		return fail(p, "TimeSeries %ld: bad classificationSequence position", tsno);
	if (!child_text(tsn, "in_Domain.mRID", ts.area, sizeof(ts.area)))
		return fail(p, "TimeSeries %ld: no in_Domain.mRID", tsno);
	for (const xmlNode *c = tsn->children; c; c = c->next)
		if (named(c, "Period") && (rc = period(p, c, &ts, tsno)) != GF_OK)
			return rc;
	return GF_OK;
}

/* Acknowledgement_MarketDocument: ENTSO-E's answer when nothing matched
 * (Reason code 999, "No matching data found for ...") or the query was
 * refused. */
static enum gf_err acknowledgement(struct parse *p, const xmlNode *root)
{
	const xmlNode *r = child(root, "Reason");
	char code[16] = "?", txt[200] = "";

	p->d->no_data = true;
	if (r) {
		child_text(r, "code", code, sizeof(code));
		child_text(r, "text", txt, sizeof(txt));
	}
	snprintf(p->d->reason, sizeof(p->d->reason), "%s %s", code, txt);
	return GF_OK;
}

static enum gf_err document(struct parse *p, const xmlNode *root)
{
	struct ingest_a44 *d = p->d;
	char buf[64];
	long tsno = 0;
	enum gf_err rc;

	if (named(root, "Acknowledgement_MarketDocument"))
		return acknowledgement(p, root);
	if (!named(root, "Publication_MarketDocument"))
		return fail(p, "not an A44 document: the root element is %s",
		            (const char *)root->name);
	if (!child_text(root, "type", buf, sizeof(buf)) || strcmp(buf, "A44") != 0)
		return fail(p, "document type %s: only A44 (prices)", buf);
	d->revision = 1;
	if (child_text(root, "revisionNumber", buf, sizeof(buf)) &&
	    !number(buf, 1, 999999, &d->revision))
		return fail(p, "revisionNumber %s is not a number from 1", buf);
	if (child_text(root, "createdDateTime", buf, sizeof(buf)) &&
	    ingest_util_time(buf, strlen(buf), &d->created_ms) != GF_OK)
		return fail(p, "createdDateTime %s is not a time", buf);
	child_text(root, "mRID", d->mrid, sizeof(d->mrid));
	for (const xmlNode *c = root->children; c; c = c->next)
		if (named(c, "TimeSeries") && (rc = timeseries(p, c, ++tsno)) != GF_OK)
			return rc;
	return GF_OK;
}

enum gf_err ingest_a44_parse(const char *xml, size_t len, struct ingest_a44 *out, char *err,
                             size_t errlen)
{
	struct parse p = {out, err, errlen};
	xmlParserCtxtPtr ctx = NULL;
	xmlDocPtr doc = NULL;
	enum gf_err rc;

	memset(out, 0, sizeof(*out));
	if (len > INGEST_A44_BYTES_MAX || len > INT32_MAX)
		return gf_err_set(err, errlen, GF_ETOOLONG, "a document of %zu bytes", len);
	if (!(ctx = xmlNewParserCtxt()))
		return GF_ENOMEM;
	/* No network, no DTD loading, no entity substitution (XXE), no
	 * messages on stderr: the reason comes back in err. */
	doc = xmlCtxtReadMemory(ctx, xml, (int)len, "a44.xml", NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctx);
		char msg[160] = "unreadable";

		if (e && e->message)
			snprintf(msg, sizeof(msg), "%s", e->message);
		msg[strcspn(msg, "\n")] = '\0';
		rc = gf_err_set(err, errlen, GF_EPARSE, "not well-formed XML (line %d): %s",
		                e ? e->line : 0, msg);
		goto out;
	}
	if (doc->intSubset || doc->extSubset) {
		rc = gf_err_set(err, errlen, GF_EPARSE, "a document with a DTD is refused");
		goto out;
	}
	rc = document(&p, xmlDocGetRootElement(doc) ? xmlDocGetRootElement(doc) : (xmlNode *)doc);
out:
	if (rc != GF_OK)
		ingest_a44_free(out);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctx);
	return rc;
}

void ingest_a44_free(struct ingest_a44 *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->periods[i].price);
	free(d->periods);
	memset(d, 0, sizeof(*d));
}

static int by_start(const void *a, const void *b)
{
	const struct ingest_a44_period *x = a, *y = b;

	return x->start_ms < y->start_ms ? -1 : x->start_ms > y->start_ms;
}

/* Whether candidate c is preferred to kept k for the same interval. */
static bool preferred(const struct ingest_a44_period *c, const struct ingest_a44_period *k,
                      uint32_t resolution_s)
{
	if (resolution_s)
		return c->resolution_s == resolution_s && k->resolution_s != resolution_s;
	return c->resolution_s < k->resolution_s;
}

size_t ingest_a44_select(struct ingest_a44 *d, const char *area, long sequence,
                         uint32_t resolution_s)
{
	size_t kept = 0, before = d->n;

	for (size_t i = 0; i < d->n; i++) {
		struct ingest_a44_period *c = &d->periods[i];
		size_t j;
		bool keep = (!area || strcmp(c->area, area) == 0) &&
		            (c->sequence == 0 || sequence == 0 || c->sequence == sequence);

		for (j = 0; keep && j < kept; j++)
			if (d->periods[j].start_ms == c->start_ms &&
			    d->periods[j].end_ms == c->end_ms)
				break;
		if (keep && j < kept) {
			/* The same interval twice: the preferred one stays. */
			if (preferred(c, &d->periods[j], resolution_s)) {
				free(d->periods[j].price);
				d->periods[j] = *c;
			} else {
				free(c->price);
			}
		} else if (keep) {
			d->periods[kept++] = *c;
		} else {
			free(c->price);
		}
	}
	/* A wanted resolution drops the Periods of any other. */
	if (resolution_s) {
		size_t k = 0;

		for (size_t i = 0; i < kept; i++) {
			if (d->periods[i].resolution_s == resolution_s)
				d->periods[k++] = d->periods[i];
			else
				free(d->periods[i].price);
		}
		kept = k;
	}
	d->n = kept;
	if (d->n > 1)
		qsort(d->periods, d->n, sizeof(*d->periods), by_start);
	return before - kept;
}

bool ingest_a44_supersedes(long old_rev, uint64_t old_digest, long new_rev, uint64_t new_digest)
{
	if (new_rev != old_rev)
		return new_rev > old_rev;
	return new_digest != old_digest;
}
