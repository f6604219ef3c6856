/* SPDX-License-Identifier: MIT */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "meter.pb-c.h"
#include "payload/codec.h"

enum gf_err anonymizer_batch_init(struct anonymizer_batch *b, size_t cap, const char *obis)
{
	b->items = calloc(cap, sizeof(*b->items));
	if (!b->items)
		return GF_ENOMEM;
	b->n = 0;
	b->cap = cap;
	b->obis = obis;
	return GF_OK;
}

void anonymizer_batch_free(struct anonymizer_batch *b)
{
	free(b->items);
	b->items = NULL;
	b->n = b->cap = 0;
}

void anonymizer_batch_clear(struct anonymizer_batch *b)
{
	b->n = 0;
}

bool anonymizer_batch_add(struct anonymizer_batch *b, const char *pseudonym, int64_t utc_ms,
                          double value)
{
	struct anonymizer_batch_item *it;

	if (b->n == b->cap)
		return false;
	it = &b->items[b->n];
	if (gf_time_format(utc_ms, it->time, sizeof(it->time)) != GF_OK)
		return false;
	memcpy(it->device, pseudonym, sizeof(it->device));
	it->value = value;
	b->n++;
	return true;
}

enum gf_err anonymizer_batch_seal(const struct anonymizer_batch *b, const char *key_id,
                                  enum gf_codec_format format, const struct gf_seal_to *to,
                                  char **jwe, size_t *len, char *err, size_t errlen)
{
	Goflex__MeterReadings doc = GOFLEX__METER_READINGS__INIT;
	Goflex__MeterReading *r = calloc(b->n ? b->n : 1, sizeof(*r));
	Goflex__MeterReading **rp = calloc(b->n ? b->n : 1, sizeof(*rp));
	void *doc_bytes = NULL;
	size_t doc_len = 0;
	enum gf_err rc = GF_ENOMEM;

	if (!r || !rp)
		goto out;
	for (size_t i = 0; i < b->n; i++) {
		goflex__meter_reading__init(&r[i]);
		r[i].observedtimestamp = b->items[i].time;
		r[i].deviceid = (char *)b->items[i].device;
		r[i].value = b->items[i].value;
		r[i].obis = (char *)b->obis;
		r[i].unit = (char *)"kWh";
		rp[i] = &r[i];
	}
	doc.n_readings = b->n;
	doc.readings = rp;
	doc.pseudonymkeyid = (char *)key_id;
	rc = gf_codec_encode(format, &doc.base, &doc_bytes, &doc_len);
	if (rc != GF_OK) {
		gf_err_set(err, errlen, rc, "cannot encode the readings: %s", gf_strerror(rc));
		goto out;
	}
	rc = gf_seal(to, doc_bytes, doc_len, gf_codec_format_name(format), jwe, len, err, errlen);
out:
	free(doc_bytes);
	free(rp);
	free(r);
	return rc;
}
