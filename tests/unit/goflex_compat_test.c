/* SPDX-License-Identifier: MIT */
/*
 * GOFLEX compatibility (issue 3, item 3): the three real pilot FlexOffers of
 * ../shared/fixtures/goflex-samples/ (tests run from the repository root)
 * decode as goflex.FlexOffer unchanged, pass gf_validate, re-encode
 * losslessly in the canonical form, and survive protobuf and msgpack.
 *
 * "Unchanged" is checked against the original text with cJSON, not with the
 * codec: every key of the original is in the canonical re-encoding except
 * the null-valued ones (null is "absent"), no key is added, numbers are the
 * same doubles, strings the same text, and times the same instant in
 * canonical form (2020-02-27T20:30:00.000+0000 becomes 2020-02-27T20:30:00Z).
 */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "payload/payload.h"
#include "payload/schema.h"
#include "payload/validate.h"

#include "leak_check.h"

TestSuite(goflex_compat, .fini = leak_check);

#define SAMPLES "../shared/fixtures/goflex-samples/"

static char errbuf[GF_CODEC_ERRLEN];

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "cannot open %s (tests run from the repository root)", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_gt(n, 0, "%s is empty", path);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The GOFLEX form of a UTC time, "...T20:30:00.000+0000", in canonical form,
 * "...T20:30:00Z"; false for any other form (the pilots write no other). */
static bool normalise_time(const char *in, char *out, size_t size)
{
	size_t n = strlen(in);

	if (n >= size || !ends_with(in, ".000+0000"))
		return false;
	memcpy(out, in, n - 9);
	strcpy(out + n - 9, "Z");
	return true;
}

#define DIFFER(...) (snprintf(why, whylen, __VA_ARGS__), false)

/* Whether every value of the original o is in the canonical c, and c has no
 * other; if not, why names the first difference. */
static bool same_values(const cJSON *o, const cJSON *c, const char *path, char *why, size_t whylen)
{
	char sub[256];

	if (c == NULL)
		return DIFFER("%s: missing from the canonical form", path);
	if (cJSON_IsObject(o)) {
		const cJSON *item;
		int present = 0;
		if (!cJSON_IsObject(c))
			return DIFFER("%s: not an object in the canonical form", path);
		cJSON_ArrayForEach(item, o)
		{
			const cJSON *in_c = cJSON_GetObjectItemCaseSensitive(c, item->string);
			snprintf(sub, sizeof(sub), "%s.%s", path, item->string);
			if (cJSON_IsNull(item)) {
				if (in_c != NULL)
					return DIFFER("%s: null in the original, present in the "
					              "canonical form",
					              sub);
				continue;
			}
			present++;
			if (!same_values(item, in_c, sub, why, whylen))
				return false;
		}
		if (cJSON_GetArraySize(c) != present)
			return DIFFER("%s: %d keys in the canonical form, %d non-null ones in the "
			              "original",
			              path, cJSON_GetArraySize(c), present);
		return true;
	}
	if (cJSON_IsArray(o)) {
		if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != cJSON_GetArraySize(o))
			return DIFFER("%s: not an array of the same length", path);
		for (int i = 0; i < cJSON_GetArraySize(o); i++) {
			snprintf(sub, sizeof(sub), "%s[%d]", path, i);
			if (!same_values(cJSON_GetArrayItem(o, i), cJSON_GetArrayItem(c, i), sub,
			                 why, whylen))
				return false;
		}
		return true;
	}
	if (cJSON_IsNumber(o)) {
		if (!cJSON_IsNumber(c) || o->valuedouble != c->valuedouble)
			return DIFFER("%s: %.17g is not the same number in the canonical form",
			              path, o->valuedouble);
		return true;
	}
	if (cJSON_IsString(o)) {
		char want[64];
		const char *w = o->valuestring;
		if (ends_with(path, "Time")) {
			if (!normalise_time(o->valuestring, want, sizeof(want)))
				return DIFFER("%s: unexpected time form '%s'", path,
				              o->valuestring);
			w = want;
		}
		if (!cJSON_IsString(c) || strcmp(c->valuestring, w) != 0)
			return DIFFER("%s: '%s' is not '%s' in the canonical form", path,
			              o->valuestring, w);
		return true;
	}
	if (!cJSON_IsBool(o) || !cJSON_IsBool(c) || cJSON_IsTrue(o) != cJSON_IsTrue(c))
		return DIFFER("%s: not the same value in the canonical form", path);
	return true;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *out = NULL;
	cr_assert_eq(gf_codec_to_protobuf(m, &out, len), GF_OK);
	return out;
}

/* m through format and back: the same canonical JSON, still valid. */
static void survives(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *m,
                     enum gf_codec_format format, const char *canonical, const char *name)
{
	ProtobufCMessage *back = NULL;
	void *enc = NULL;
	char *json = NULL, err[256];
	size_t len, jlen;

	cr_assert_eq(gf_codec_encode(format, m, &enc, &len), GF_OK);
	cr_assert_eq(gf_codec_decode(format, d, enc, len, &back, errbuf, sizeof(errbuf)), GF_OK,
	             "%s through %s: %s", name, gf_codec_format_name(format), errbuf);
	cr_assert_eq(gf_validate(back, errbuf, sizeof(errbuf)), GF_OK, "%s: %s", name, errbuf);
	cr_assert_eq(gf_codec_to_json(back, &json, &jlen), GF_OK);
	cr_assert_str_eq(json, canonical, "%s through %s", name, gf_codec_format_name(format));
	cr_assert_eq(gf_payload_check("flexoffer", 9, false, gf_codec_format_name(format), enc, len,
	                              err, sizeof(err)),
	             GF_OK, "%s through %s: %s", name, gf_codec_format_name(format), err);
	free(json);
	free(enc);
	gf_codec_free(back);
}

static void pilot(const char *name)
{
	const ProtobufCMessageDescriptor *d = gf_schema_find("flexoffer", 9);
	char path[256], *text, *canonical, *again, err[256], why[512];
	ProtobufCMessage *m = NULL, *m2 = NULL;
	size_t len, clen, alen, pblen, pb2len;
	uint8_t *pb, *pb2;
	cJSON *orig, *canon;

	cr_assert_not_null(d);
	cr_assert_str_eq(d->name, "goflex.FlexOffer");
	snprintf(path, sizeof(path), SAMPLES "SampleFO_%s.json", name);
	text = slurp(path, &len);

	/* decodes as it is, and is a valid offer, also at the broker */
	cr_assert_eq(gf_codec_from_json(d, text, len, &m, errbuf, sizeof(errbuf)), GF_OK, "%s: %s",
	             name, errbuf);
	cr_assert_eq(gf_validate(m, errbuf, sizeof(errbuf)), GF_OK, "%s: %s", name, errbuf);
	cr_assert_eq(gf_payload_check("flexoffer", 9, false, NULL, text, len, err, sizeof(err)),
	             GF_OK, "%s: %s", name, err);

	/* every value of the original is in the canonical form */
	cr_assert_eq(gf_codec_to_json(m, &canonical, &clen), GF_OK);
	orig = cJSON_ParseWithLength(text, len);
	canon = cJSON_ParseWithLength(canonical, clen);
	cr_assert_not_null(orig, "cJSON cannot parse %s", path);
	cr_assert_not_null(canon, "cJSON cannot parse the canonical form %s", canonical);
	cr_assert(same_values(orig, canon, name, why, sizeof(why)), "%s", why);

	/* the canonical form is lossless: it decodes to the same message */
	cr_assert_eq(gf_codec_from_json(d, canonical, clen, &m2, errbuf, sizeof(errbuf)), GF_OK,
	             "%s: %s", name, errbuf);
	pb = pack(m, &pblen);
	pb2 = pack(m2, &pb2len);
	cr_assert(pblen == pb2len && memcmp(pb, pb2, pblen) == 0, "%s: protobuf bytes differ",
	          name);
	cr_assert_eq(gf_codec_to_json(m2, &again, &alen), GF_OK);
	cr_assert_str_eq(again, canonical);

	survives(d, m, GF_CODEC_PROTOBUF, canonical, name);
	survives(d, m, GF_CODEC_MSGPACK, canonical, name);
	survives(d, m, GF_CODEC_JSON, canonical, name);

	cJSON_Delete(orig);
	cJSON_Delete(canon);
	free(pb);
	free(pb2);
	free(again);
	free(canonical);
	free(text);
	gf_codec_free(m);
	gf_codec_free(m2);
}

Test(goflex_compat, cyprus)
{
	pilot("Cyprus");
}

Test(goflex_compat, sww)
{
	pilot("SWW");
}

Test(goflex_compat, swiss)
{
	pilot("Swiss");
}

/* The comparison is not vacuous: each kind of change is caught. */
Test(goflex_compat, comparison_catches_changes)
{
	static const struct {
		const char *orig, *canon;
		bool same;
	} cases[] = {
	    {"{\"a\":1.5,\"b\":null,\"startTime\":\"2020-02-27T20:30:00.000+0000\","
	     "\"c\":[{\"d\":\"x\",\"e\":true}]}",
	     "{\"a\":1.5,\"startTime\":\"2020-02-27T20:30:00Z\",\"c\":[{\"d\":\"x\",\"e\":true}]}",
	     true},
	    {"{\"a\":1.5}", "{\"a\":1.25}", false},
	    {"{\"a\":1}", "{\"a\":\"1\"}", false},
	    {"{\"a\":1.5,\"b\":2}", "{\"a\":1.5}", false},
	    {"{\"a\":1.5,\"b\":null}", "{\"a\":1.5,\"b\":0}", false},
	    {"{\"a\":1.5}", "{\"a\":1.5,\"b\":0}", false},
	    {"{\"c\":[1,2]}", "{\"c\":[1]}", false},
	    {"{\"d\":\"x\"}", "{\"d\":\"y\"}", false},
	    {"{\"e\":true}", "{\"e\":false}", false},
	    {"{\"startTime\":\"2020-02-27T20:30:00.000+0000\"}",
	     "{\"startTime\":\"2020-02-27T20:30:00.000+0000\"}", false},
	    {"{\"startTime\":\"2020-02-27T20:30:00.000+0000\"}",
	     "{\"startTime\":\"2020-02-27T20:45:00Z\"}", false},
	};
	char why[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *o = cJSON_Parse(cases[i].orig), *c = cJSON_Parse(cases[i].canon);
		cr_assert(o && c);
		cr_assert_eq(same_values(o, c, "t", why, sizeof(why)), cases[i].same,
		             "case %zu: %s", i, why);
		cJSON_Delete(o);
		cJSON_Delete(c);
	}
}
