/* SPDX-License-Identifier: MIT */
/*
 * batch.h - one meter.reading message: up to batch_max readings whose
 * deviceIds are pseudonyms, as a MeterReadings document (JSON) sealed to
 * the Service Platform (lib/anon/seal.h). D6.1 8.3 layers 2 and 3.
 */
#ifndef ANONYMIZER_BATCH_H
#define ANONYMIZER_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "anon/pseudonym.h"
#include "anon/seal.h"
#include "base/err.h"
#include "base/timefmt.h"
#include "payload/codec.h"

struct anonymizer_batch_item {
	char device[GF_PSEUDONYM_LEN + 1];
	char time[GF_TIME_BUFSIZE];
	double value;
};

struct anonymizer_batch {
	struct anonymizer_batch_item *items;
	size_t n, cap;
	const char *obis; /* of every reading: the register or interval energy */
};

/* Room for cap readings. GF_ENOMEM. */
enum gf_err anonymizer_batch_init(struct anonymizer_batch *b, size_t cap, const char *obis);
void anonymizer_batch_free(struct anonymizer_batch *b);
/* Empties it. */
void anonymizer_batch_clear(struct anonymizer_batch *b);
/* Adds a reading (false when full or the time is out of range). */
bool anonymizer_batch_add(struct anonymizer_batch *b, const char *pseudonym, int64_t utc_ms,
                          double value);

/* The document of the batch, naming key_id as its pseudonymKeyId, in
 * format (JSON or protobuf; the JWE's cty names it) sealed to to: *jwe (malloc'd) belongs to the
 * caller. Errors as gf_seal and the codec, err set. */
enum gf_err anonymizer_batch_seal(const struct anonymizer_batch *b, const char *key_id,
                                  enum gf_codec_format format, const struct gf_seal_to *to,
                                  char **jwe, size_t *len, char *err, size_t errlen);

#endif
