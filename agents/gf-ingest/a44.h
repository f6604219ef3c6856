/* SPDX-License-Identifier: MIT */
/*
 * a44.h - the ENTSO-E Transparency Platform's day-ahead prices (document
 * type A44, Publication_MarketDocument, IEC 62325-451-3) read with libxml2,
 * and its "no matching data" answer (Acknowledgement_MarketDocument).
 * docs/ingest.md describes the format and what is refused.
 *
 * Pure: no agent, no I/O; the unit tests and the fuzzer call it directly.
 */
#ifndef INGEST_A44_H
#define INGEST_A44_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Most positions in one Period (a day of 1-minute prices is 1500). */
#define INGEST_A44_POINTS_MAX 1500
/* Most Periods in one document (a year of days is 366; two sequences). */
#define INGEST_A44_PERIODS_MAX 2000
/* Largest document parsed. */
#define INGEST_A44_BYTES_MAX (16u << 20)

/* One Period of one TimeSeries, every position filled. */
struct ingest_a44_period {
	int64_t start_ms, end_ms; /* timeInterval, UTC */
	uint32_t resolution_s;    /* PT60M 3600, PT15M 900 */
	long sequence;            /* classificationSequence position; 0: none given */
	bool a03;                 /* curveType A03: omitted positions repeated the previous */
	char area[32];            /* the TimeSeries' in_Domain.mRID (EIC) */
	size_t n;                 /* (end - start) / resolution */
	double *price;            /* n prices, EUR/kWh (EUR/MWh / 1000) */
};

struct ingest_a44 {
	bool no_data;       /* an Acknowledgement_MarketDocument: no prices */
	char reason[256];   /* its Reason: "<code> <text>" */
	long revision;      /* revisionNumber (1 when absent) */
	int64_t created_ms; /* createdDateTime (0 when absent) */
	char mrid[64];      /* the document's mRID */
	size_t n;           /* Periods */
	struct ingest_a44_period *periods;
};

/*
 * Parses len bytes of XML into *out (zeroed first; free with
 * ingest_a44_free). Accepted: a Publication_MarketDocument of type A44 in
 * any namespace version, TimeSeries with currency EUR and price unit MWH,
 * curve type A01 (every position given) or A03 (omitted positions repeat
 * the previous price; position 1 must be given), resolutions PTnM and PTnH
 * that divide the Period's interval; or an Acknowledgement_MarketDocument
 * (no_data, with its reason). Refused with GF_EPARSE and a sentence in err:
 * malformed XML, a DTD (no entities are ever expanded), another document,
 * a missing or bad field, a position out of range or given twice, a price
 * that is not a finite number within +-1e6 EUR/MWh. GF_ETOOLONG beyond the
 * limits above, GF_ENOMEM. *out is left empty on failure.
 */
enum gf_err ingest_a44_parse(const char *xml, size_t len, struct ingest_a44 *out, char *err,
                             size_t errlen);

/* Frees what ingest_a44_parse allocated and zeroes d. Accepts NULL. */
void ingest_a44_free(struct ingest_a44 *d);

/*
 * Keeps one Period per time interval and sorts them by start: only those of
 * area (NULL: any), of classification sequence `sequence` (a Period with
 * none given counts as every sequence), and, for one interval given in
 * several resolutions, the one of resolution_s (0: the finest). Returns how
 * many Periods it dropped.
 */
size_t ingest_a44_select(struct ingest_a44 *d, const char *area, long sequence,
                         uint32_t resolution_s);

/* Whether prices of revision new_rev with content digest new_digest
 * replace what was published from revision old_rev (old_digest): a newer
 * revision always, the same one when its content changed, an older never. */
bool ingest_a44_supersedes(long old_rev, uint64_t old_digest, long new_rev, uint64_t new_digest);

#endif
