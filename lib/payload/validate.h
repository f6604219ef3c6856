/* SPDX-License-Identifier: MIT */
/*
 * validate.h - semantic validation of decoded catalogue messages.
 *
 * The codec (codec.h) checks form: types, ranges, required fields, enum
 * values, UTF-8, RFC 3339 times. This module checks meaning, for every
 * message type, by two kinds of rules:
 *
 *  - rules by field name, applied to every message and every nested message:
 *    numbers are finite; interval numbers are within years 1970..9999; a *Interval
 *    number and its *Time mirror agree (interval = floor(epoch s / 900));
 *    intervalLength, resolution and sampleSeconds are positive and
 *    numSecondsPerInterval is 900; fromTime < toTime; lower <= upper,
 *    minTariff <= maxTariff, lowerLimit <= upperLimit,
 *    1 <= minDuration <= maxDuration; latitude and longitude in range;
 *    the series that a type declares parallel have equal lengths;
 *  - rules of a type: FlexOffer (windows, deadlines, total-energy bounds
 *    against the slices, schedules within bounds and windows), bids (series
 *    of equal, non-zero length), state-space models (matrix sizes), weather
 *    series (physical ranges), meter readings (at least one).
 *
 * Errors name the field path, like the codec's:
 *   "flexOfferProfileConstraints[0].energyConstraintList[0]: lower 3 > upper 2".
 */
#ifndef GF_VALIDATE_H
#define GF_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "base/err.h"

/* GF_OK, or GF_EINVAL with err set to "<path>: <what is wrong>". Never
 * allocates; m is not modified. */
enum gf_err gf_validate(const ProtobufCMessage *m, char *err, size_t errlen);

/*
 * The broker's gf_validate (through gf_codec_check): the same rules, checked
 * in the same order with the same errors, from a plan per message type made
 * at first sight (only the fields that have rules are visited). finite: the
 * decoder saw no NaN or infinity, so the finite checks are skipped.
 * Differential tests hold it to gf_validate (tests/unit/check_test.c,
 * tests/fuzz/check_fuzz.c).
 */
enum gf_err gf_validate_verdict(const ProtobufCMessage *m, bool finite, char *err, size_t errlen);

#ifdef GF__VALIDATE_INTERNAL
/*
 * For lib/payload/check_protobuf.c, the one-pass protobuf verdict: the rules
 * of one message given a partial copy of it (protobuf_c_message_init'd, with
 * its singular scalars, its time strings and the counts of its repeated
 * fields set; no arrays, no sub-messages). Verdicts only, no reasons: a
 * refusal is explained by the full path.
 */
#include <stdint.h>

enum gf__validate_kind {
	GF__VALIDATE_LOCAL,     /* the rules read only what a partial copy has */
	GF__VALIDATE_FLEXOFFER, /* goflex.FlexOffer: plus gf__validate_flexoffer */
	GF__VALIDATE_TREE,      /* a rule reads repeated values: full path only */
};

/* The plan of d (opaque), NULL when memory runs out; and its kind. */
const void *gf__validate_plan(const ProtobufCMessageDescriptor *d);
enum gf__validate_kind gf__validate_kind(const void *plan);

/* Time strings of a partial copy already parsed by the verdict: text[i]
 * (the pointer the copy holds) is the instant ms[i]. */
struct gf__validate_times {
	const char *const *text;
	const int64_t *ms;
	unsigned n;
};

/* Whether the partial copy m passes the rules by name and, for a LOCAL
 * kind, the rule of its type; the rules take the instants of the time
 * strings in known (may be NULL) instead of parsing them again. */
bool gf__validate_local(const void *plan, const ProtobufCMessage *m,
                        const struct gf__validate_times *known);

/* What the FlexOffer rule reads below the offer, gathered in one pass. */
struct gf__validate_slice {  /* a flexOfferProfileConstraints element */
	uint32_t min, max;   /* minDuration, maxDuration */
	double lower, upper; /* max of the lowers, min of the uppers (+-inf: none) */
	size_t nconstraints; /* energyConstraintList elements */
};
struct gf__validate_sslice { /* a scheduleSlices element */
	uint32_t duration;
	double energy;
};
struct gf__validate_sched {
	const char *start; /* startTime, NUL-terminated; NULL: no schedule */
	const struct gf__validate_sslice *slices;
	size_t nslices;
};
struct gf__validate_fo {
	const struct gf__validate_slice *slices;
	size_t nslices;
	bool has_total;
	double total_lower, total_upper;
	struct gf__validate_sched sched[2]; /* defaultSchedule, flexOfferSchedule */
};

/* Whether the FlexOffer partial copy m with what is below it in s passes
 * the FlexOffer rule (gf_validate's, same arithmetic). */
bool gf__validate_flexoffer(const ProtobufCMessage *m, const struct gf__validate_fo *s);
#endif

#endif
