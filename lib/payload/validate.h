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

#endif
