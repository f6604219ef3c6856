/* SPDX-License-Identifier: MIT */
/*
 * The broker's verdict path (lib/payload/check.c, gf_check_message) against
 * the reference it replaces, gf_codec_decode followed by gf_validate, on the
 * same inputs: the same verdict and, for a refusal, the same reason text
 * (field path included). Inputs: the payload fuzz corpus (every message type
 * it has, in the three encodings), the GOFLEX pilot FlexOffers, and
 * mutations of each: every number and string token of the JSON replaced by
 * values chosen to break the rules (NaN, bounds, times, lengths), bytes of
 * the binary encodings flipped, and seeded random edits. Also the JSON
 * decoder's numbers against strtod(), since the 17-19 digit ones no longer
 * go through it.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include <criterion/criterion.h>

#define GF__CHECK_INTERNAL

#include "common.pb-c.h"
#include "flexoffer.pb-c.h"
#include "payload/check.h"
#include "payload/codec.h"
#include "payload/schema.h"
#include "payload/validate.h"
#include "schema_registry.h"

#define SAMPLES "../shared/fixtures/goflex-samples/"
#define CORPUS  "tests/fuzz/corpus/payload/"

static unsigned long n_accepted, n_refused;
/* Protobuf inputs the one-pass verdict decided: accepted, refused. */
static unsigned long n_fast_valid, n_fast_invalid;
/* JSON inputs the one-pass JSON verdict decided: accepted, refused. */
static unsigned long n_json_valid, n_json_invalid;

/* The one-pass JSON verdict on len bytes at data, held to the reference
 * verdict r (never VALID where it refuses, never INVALID where it
 * accepts), and counted. */
static enum gf__check_fast json_one_pass(const ProtobufCMessageDescriptor *d, const void *data,
                                         size_t len, enum gf_err r, const char *what,
                                         const char *why)
{
	enum gf__check_fast v = gf__check_json(d, data, len);

	cr_assert(v != GF__CHECK_VALID || r == GF_OK,
	          "%s (json, %zu bytes): one pass accepts, reference refuses '%s': %.*s", what, len,
	          why, (int)(len > 300 ? 300 : len), (const char *)data);
	cr_assert(v != GF__CHECK_INVALID || r != GF_OK,
	          "%s (json, %zu bytes): one pass refuses, reference accepts: %.*s", what, len,
	          (int)(len > 300 ? 300 : len), (const char *)data);
	n_json_valid += v == GF__CHECK_VALID;
	n_json_invalid += v == GF__CHECK_INVALID;
	return v;
}

static enum gf_err reference(enum gf_codec_format f, const ProtobufCMessageDescriptor *d,
                             const void *data, size_t len, char *err, size_t errlen)
{
	ProtobufCMessage *m = NULL;
	enum gf_err rc = gf_codec_decode(f, d, data, len, &m, err, errlen);

	if (rc == GF_OK)
		rc = gf_validate(m, err, errlen) == GF_OK ? GF_OK : GF_EPARSE;
	gf_codec_free(m);
	return rc;
}

/* Both paths on one input: the same verdict, the same reason. */
static void same(enum gf_codec_format f, const ProtobufCMessageDescriptor *d, const void *data,
                 size_t len, const char *what)
{
	char e1[GF_CODEC_ERRLEN] = "", e2[GF_CODEC_ERRLEN] = "";
	enum gf_err r1 = reference(f, d, data, len, e1, sizeof(e1));
	enum gf_err r2 = gf_check_message(f, d, data, len, e2, sizeof(e2));

	cr_assert_eq(r1, r2, "%s (%s, %zu bytes): reference %s '%s', check %s '%s'", what,
	             gf_codec_format_name(f), len, gf_strerror(r1), e1, gf_strerror(r2), e2);
	if (f == GF_CODEC_PROTOBUF) { /* the one-pass verdict, where it decides */
		enum gf__check_fast v = gf__check_protobuf(d, data, len);
		cr_assert(v != GF__CHECK_VALID || r1 == GF_OK,
		          "%s (protobuf, %zu bytes): one pass accepts, reference refuses '%s'",
		          what, len, e1);
		cr_assert(v != GF__CHECK_INVALID || r1 != GF_OK,
		          "%s (protobuf, %zu bytes): one pass refuses, reference accepts", what,
		          len);
		n_fast_valid += v == GF__CHECK_VALID;
		n_fast_invalid += v == GF__CHECK_INVALID;
	}
	if (f == GF_CODEC_JSON)
		json_one_pass(d, data, len, r1, what, e1);
	if (r1 != GF_OK) {
		cr_assert_str_eq(e1, e2, "%s (%s): reasons differ", what, gf_codec_format_name(f));
		n_refused++;
	} else {
		n_accepted++;
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Replacements for a number token: non-finite, zero, negative, huge, near
 * the bounds of intervals and of float, a digit changed. */
static const char *const number_variants[] = {
    "\"NaN\"",
    "\"Infinity\"",
    "\"-Infinity\"",
    "0",
    "-1",
    "1",
    "-0.5",
    "2.5",
    "1e300",
    "3.5e38",
    "1758705",
    "1758711",
    "900",
    "899",
    "91",
    "-181",
    "1.0000000000000002",
    "4294967296",
    "9007199254740993",
    "0.30000000000000004",
    "1e-400",
};

/* Replacements for a string token. */
static const char *const string_variants[] = {
    "\"\"",
    "\"x\"",
    "\"2020-02-27T20:30:00Z\"",
    "\"2020-02-27T20:31:00Z\"",
    "\"2020-02-27T20:30:00.000+0100\"",
    "\"Accepted\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "12",
    "null",
    "{}",
    "[]",
};

/* JSON text that decodes, in protobuf: the rules broken in JSON, broken
 * in the one-pass protobuf verdict's input too. */
static void same_in_protobuf(const ProtobufCMessageDescriptor *d, const char *t, size_t n,
                             const char *what)
{
	ProtobufCMessage *m = NULL;
	void *enc;
	size_t len;

	if (gf_codec_from_json(d, t, n, &m, NULL, 0) != GF_OK)
		return;
	if (gf_codec_encode(GF_CODEC_PROTOBUF, m, &enc, &len) == GF_OK) {
		same(GF_CODEC_PROTOBUF, d, enc, len, what);
		free(enc);
	}
	gf_codec_free(m);
}

/* Every number and string token of JSON text t replaced by each variant. */
static void mutate_tokens(const ProtobufCMessageDescriptor *d, const char *t, size_t n,
                          const char *what)
{
	char *buf = malloc(n + 64);

	cr_assert_not_null(buf);
	for (size_t i = 0; i < n;) {
		size_t end = i;
		const char *const *vars;
		size_t nvars;
		if (t[i] == '"') {
			for (end = i + 1; end < n && t[end] != '"'; end++)
				if (t[end] == '\\')
					end++;
			end++;
			vars = string_variants;
			nvars = sizeof(string_variants) / sizeof(string_variants[0]);
		} else if (t[i] == '-' || (t[i] >= '0' && t[i] <= '9')) {
			while (end < n && strchr("0123456789+-.eE", t[end]))
				end++;
			vars = number_variants;
			nvars = sizeof(number_variants) / sizeof(number_variants[0]);
		} else {
			i++;
			continue;
		}
		if (end > n)
			end = n;
		for (size_t v = 0; v < nvars; v++) {
			size_t k = strlen(vars[v]);
			memcpy(buf, t, i);
			memcpy(buf + i, vars[v], k);
			memcpy(buf + i + k, t + end, n - end);
			same(GF_CODEC_JSON, d, buf, i + k + n - end, what);
			same_in_protobuf(d, buf, i + k + n - end, what);
		}
		i = end;
	}
	free(buf);
}

/* Seeded random edits of any encoding: flips, overwrites with a NaN double,
 * deletions, duplications, truncations. */
static void mutate_bytes(enum gf_codec_format f, const ProtobufCMessageDescriptor *d,
                         const uint8_t *data, size_t n, int rounds, const char *what)
{
	static const uint8_t nan_le[8] = {0, 0, 0, 0, 0, 0, 0xf8, 0x7f};
	uint8_t *buf = malloc(2 * n + 16);

	cr_assert_not_null(buf);
	for (int r = 0; r < rounds && n > 0; r++) {
		size_t len = n, at = (size_t)(next() % n), k = (size_t)(next() % 16) + 1;
		memcpy(buf, data, n);
		switch (next() % 6) {
		case 0:
			buf[at] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1:
			buf[at] = (uint8_t)next();
			break;
		case 2:
			memcpy(buf + at, nan_le, at + 8 <= n ? 8 : n - at);
			break;
		case 3:
			if (at + k > n)
				k = n - at;
			memmove(buf + at, buf + at + k, n - at - k);
			len = n - k;
			break;
		case 4:
			if (at + k > n)
				k = n - at;
			memmove(buf + at + k, buf + at, n - at);
			len = n + k;
			break;
		default:
			len = at;
		}
		same(f, d, buf, len, what);
	}
	free(buf);
}

/* One valid message in every encoding, and the mutations of each. */
static void exercise(const ProtobufCMessageDescriptor *d, const ProtobufCMessage *m,
                     const char *what)
{
	for (int f = 0; f < 3; f++) {
		void *enc;
		size_t len;
		cr_assert_eq(gf_codec_encode((enum gf_codec_format)f, m, &enc, &len), GF_OK);
		same((enum gf_codec_format)f, d, enc, len, what);
		if (f == GF_CODEC_JSON)
			mutate_tokens(d, enc, len, what);
		mutate_bytes((enum gf_codec_format)f, d, enc, len, 600, what);
		free(enc);
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

Test(check, the_pilot_flexoffers_and_their_mutations)
{
	static const char *const files[] = {"SampleFO_Cyprus.json", "SampleFO_SWW.json",
	                                    "SampleFO_Swiss.json"};
	const ProtobufCMessageDescriptor *d = gf_schema_find("flexoffer", 9);

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256];
		size_t len;
		char *text;
		ProtobufCMessage *m = NULL;
		snprintf(path, sizeof(path), SAMPLES "%s", files[i]);
		text = slurp(path, &len);
		same(GF_CODEC_JSON, d, text, len, files[i]);
		cr_assert_eq(gf__check_json(d, text, len), GF__CHECK_VALID,
		             "%s: not accepted in one pass", files[i]);
		mutate_tokens(d, text, len, files[i]);
		mutate_bytes(GF_CODEC_JSON, d, (const uint8_t *)text, len, 2000, files[i]);
		if (gf_codec_from_json(d, text, len, &m, NULL, 0) == GF_OK) {
			exercise(d, m, files[i]);
			gf_codec_free(m);
		}
		free(text);
	}
	cr_log_info("pilot offers: %lu accepted, %lu refused alike; protobuf in one pass: %lu "
	            "accepted, %lu refused; JSON in one pass: %lu accepted, %lu refused",
	            n_accepted, n_refused, n_fast_valid, n_fast_invalid, n_json_valid,
	            n_json_invalid);
	cr_assert_gt(n_refused, 1000);
	cr_assert_gt(n_json_valid, 100);
	cr_assert_gt(n_json_invalid, 1000);
	/* The one pass decides FlexOffers: their rule broken, and not. */
	cr_assert_gt(n_fast_valid, 100);
	cr_assert_gt(n_fast_invalid, 1000);
}

/* The payload fuzz corpus: the first byte picks the message type and the
 * encoding, as in tests/fuzz/payload_fuzz.c. */
Test(check, the_payload_corpus_and_its_mutations)
{
	DIR *dir = opendir(CORPUS);
	struct dirent *de;
	unsigned files = 0;

	cr_assert_not_null(dir);
	while ((de = readdir(dir)) != NULL) {
		char path[512];
		size_t len;
		uint8_t *data;
		const struct gf_schema_entry *e;
		enum gf_codec_format f;
		ProtobufCMessage *m = NULL;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), CORPUS "%s", de->d_name);
		data = (uint8_t *)slurp(path, &len);
		if (len == 0) {
			free(data);
			continue;
		}
		e = &gf_schema_registry[(data[0] / 3u) % gf_schema_registry_len];
		f = (enum gf_codec_format)(data[0] % 3u);
		same(f, e->desc, data + 1, len - 1, de->d_name);
		mutate_bytes(f, e->desc, data + 1, len - 1, 1000, de->d_name);
		if (f == GF_CODEC_JSON)
			mutate_tokens(e->desc, (const char *)data + 1, len - 1, de->d_name);
		if (gf_codec_decode(f, e->desc, data + 1, len - 1, &m, NULL, 0) == GF_OK) {
			exercise(e->desc, m, de->d_name);
			gf_codec_free(m);
		}
		free(data);
		files++;
	}
	closedir(dir);
	cr_assert_gt(files, 10);
	cr_log_info("corpus: %u files, %lu accepted, %lu refused alike; protobuf in one pass: "
	            "%lu accepted, %lu refused; JSON in one pass: %lu accepted, %lu refused",
	            files, n_accepted, n_refused, n_fast_valid, n_fast_invalid, n_json_valid,
	            n_json_invalid);
	cr_assert_gt(n_json_valid, 20);
	cr_assert_gt(n_json_invalid, 1000);
	cr_assert_gt(n_fast_valid, 20);
	cr_assert_gt(n_fast_invalid, 1000);
	cr_assert_gt(n_refused, 1000);
	cr_assert_gt(n_accepted, 20);
}

/* One number token through the JSON decoder (goflex.EnergyConstraint's
 * lower) and through strtod(): the same double, bit for bit. */
static void number_same(const char *tok)
{
	char doc[160];
	int n = snprintf(doc, sizeof(doc), "{\"lower\":%s,\"upper\":0}", tok);
	ProtobufCMessage *m = NULL;
	char err[GF_CODEC_ERRLEN];
	double want = strtod(tok, NULL), got;
	enum gf_err rc = gf_codec_from_json(&goflex__energy_constraint__descriptor, doc, (size_t)n,
	                                    &m, err, sizeof(err));
	enum gf__check_fast v =
	    json_one_pass(&goflex__energy_constraint__descriptor, doc, (size_t)n,
	                  rc == GF_OK ? gf_validate(m, NULL, 0) : rc, tok, "");

	/* The rule lower <= upper (0) decides with the exact double. */
	cr_assert_neq(v, GF__CHECK_UNSURE, "%s: the one pass does not decide", tok);
	if (isinf(want)) {
		cr_assert_eq(rc, GF_EPARSE, "%s: accepted, strtod overflows", tok);
		return;
	}
	cr_assert_eq(rc, GF_OK, "%s: %s", tok, err);
	got = ((Goflex__EnergyConstraint *)m)->lower;
	cr_assert(memcmp(&got, &want, sizeof(got)) == 0, "%s: decoder %.17g, strtod %.17g", tok,
	          got, want);
	gf_codec_free(m);
}

Test(check, numbers_decode_as_strtod_reads_them)
{
	char tok[64];

	for (int i = 0; i < 200000; i++) {
		uint64_t bits = next();
		double v;
		long double mid;
		/* Mostly magnitudes the fast paths take (1e-27 .. 1e46), some
		 * from anywhere. */
		if (i % 4 != 0)
			bits = (bits & 0x800fffffffffffffULL) |
			       ((uint64_t)(1023 - 89 + next() % 243) << 52);
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		snprintf(tok, sizeof(tok), "%.*g", 15 + i % 5, v);
		number_same(tok);
		snprintf(tok, sizeof(tok), "%.*e", 16 + i % 3, v);
		number_same(tok);
		/* Near the midpoint between v and the next double: where the
		 * extended result may round apart from the exact one. */
		mid = ((long double)v + (long double)nextafter(v, INFINITY)) / 2;
		snprintf(tok, sizeof(tok), "%.*Le", 17 + i % 3, mid);
		number_same(tok);
	}
	number_same("9007199254740993");
	number_same("1.7976931348623157e308");
	number_same("2.2250738585072014e-308");
	number_same("0.1000000000000000055511151231257827");
	number_same("1234567890123456789e-27");
	number_same("1234567890123456789e27");
	/* Runs of eight digits (read eight at a time) around the 19 that fit. */
	number_same("0.00000000123456789012345678");
	number_same("0.000000000000000012345678901234567");
	number_same("12345678.12345678901");
	number_same("1234567890123456789012");
	number_same("99999999999999999999.99999999");
	number_same("10000000000000000000000000");
	number_same("-0.00000000000000000000000001");
	number_same("123456781234567812345678e-30");
	cr_log_info("numbers: JSON in one pass: %lu accepted, %lu refused", n_json_valid,
	            n_json_invalid);
	cr_assert_gt(n_json_valid, 100000);
	cr_assert_gt(n_json_invalid, 100000);
}

/* The string scanner reads eight bytes at a time: a quote, a backslash, a
 * control or a non-ASCII byte at every offset of the word, and at the end
 * of the input, is found where it is. */
Test(check, strings_with_a_special_byte_at_every_offset)
{
	static const struct {
		const char *in, *want; /* want NULL: refused */
	} specials[] = {
	    {"\\\"", "\""},           {"\\\\", "\\"},   {"\\n", "\n"},  {"\\u00e9", "\xc3\xa9"},
	    {"\xc3\xa9", "\xc3\xa9"}, {"\x01", NULL},   {"\x1f", NULL}, {"\xff", NULL},
	    {"\\u0000", NULL},        {"\x7f", "\x7f"}, {" ", " "},
	};

	for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
		for (size_t before = 0; before < 20; before++) {
			for (size_t after = 0; after < 12; after++) {
				char doc[128], want[64];
				ProtobufCMessage *m = NULL;
				int n = snprintf(doc, sizeof(doc), "{\"postcode\":\"%.*s%s%.*s\"}",
				                 (int)before, "abcdefghijklmnopqrstuvwxyz",
				                 specials[k].in, (int)after, "ABCDEFGHIJKLMNOP");
				enum gf_err rc = gf_codec_from_json(&goflex__location__descriptor,
				                                    doc, (size_t)n, &m, NULL, 0);
				enum gf__check_fast v = json_one_pass(
				    &goflex__location__descriptor, doc, (size_t)n,
				    rc == GF_OK ? gf_validate(m, NULL, 0) : rc, "special", "");
				/* Plain ASCII is decided; escapes and UTF-8 are not. */
				if (specials[k].want != NULL && specials[k].in[0] >= 0x20 &&
				    specials[k].in[0] < 0x7f && specials[k].in[0] != '\\')
					cr_assert_eq(v, GF__CHECK_VALID, "%s", doc);
				if (!specials[k].want) {
					cr_assert_eq(rc, GF_EPARSE, "accepted: %s", doc);
					continue;
				}
				cr_assert_eq(rc, GF_OK, "refused: %s", doc);
				snprintf(want, sizeof(want), "%.*s%s%.*s", (int)before,
				         "abcdefghijklmnopqrstuvwxyz", specials[k].want, (int)after,
				         "ABCDEFGHIJKLMNOP");
				cr_assert_str_eq(((Goflex__Location *)m)->postcode, want);
				gf_codec_free(m);
				/* Cut short anywhere inside the string: unterminated. */
				for (int cut = 13; cut < n - 2; cut++) {
					cr_assert_eq(
					    gf_codec_from_json(&goflex__location__descriptor, doc,
					                       (size_t)cut, &m, NULL, 0),
					    GF_EPARSE);
					json_one_pass(&goflex__location__descriptor, doc,
					              (size_t)cut, GF_EPARSE, "cut", "");
				}
			}
		}
	}
}

/* Offers of many slices, for what the one-pass verdict gathers below an
 * offer (slices past its inline room, schedule slice j against profile
 * slice j): the Swiss pilot offer with its profile made of n slices of two
 * kinds in turn, and both schedules to match; then their mutations. */
Test(check, offers_of_many_slices_and_their_mutations)
{
	const ProtobufCMessageDescriptor *d = gf_schema_find("flexoffer", 9);
	static const size_t sizes[] = {2, 31, 32, 33, 80};
	size_t len;
	char *text = slurp(SAMPLES "SampleFO_Swiss.json", &len);
	ProtobufCMessage *m = NULL;
	Goflex__FlexOffer *fo;
	Goflex__FlexOfferProfileConstraint narrow = GOFLEX__FLEX_OFFER_PROFILE_CONSTRAINT__INIT;
	Goflex__EnergyConstraint small = GOFLEX__ENERGY_CONSTRAINT__INIT, *smallp = &small;
	Goflex__ScheduleSlice two = GOFLEX__SCHEDULE_SLICE__INIT;

	cr_assert_eq(gf_codec_from_json(d, text, len, &m, NULL, 0), GF_OK);
	fo = (Goflex__FlexOffer *)m;
	/* Kind B: 1..2 intervals of 0..5 kWh; a schedule slice of 2 x 4 kWh. */
	small.lower = 0;
	small.upper = 5;
	narrow.n_energyconstraintlist = 1;
	narrow.energyconstraintlist = &smallp;
	narrow.minduration = 1;
	narrow.maxduration = 2;
	two.duration = 2;
	two.energyamount = 4;
	{
		Goflex__FlexOfferProfileConstraint **old_p = fo->flexofferprofileconstraints;
		Goflex__ScheduleSlice **old_d = fo->defaultschedule->scheduleslices,
		                      **old_f = fo->flexofferschedule->scheduleslices;
		size_t old_np = fo->n_flexofferprofileconstraints,
		       old_nd = fo->defaultschedule->n_scheduleslices,
		       old_nf = fo->flexofferschedule->n_scheduleslices;
		char *old_ea = fo->endaftertime, *old_eb = fo->endbeforetime;
		protobuf_c_boolean old_hea = fo->has_endafterinterval,
		                   old_heb = fo->has_endbeforeinterval;
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = sizes[i];
			Goflex__FlexOfferProfileConstraint **p = calloc(n, sizeof(*p));
			Goflex__ScheduleSlice **sd = calloc(n, sizeof(*sd)),
			                      **sf = calloc(n, sizeof(*sf));
			void *enc;
			size_t elen;
			cr_assert(p && sd && sf);
			for (size_t k = 0; k < n; k++) {
				p[k] = k % 2 ? &narrow : old_p[0];
				sd[k] = k % 2 ? &two : old_d[0];
				sf[k] = k % 2 ? &two : old_f[0];
			}
			fo->flexofferprofileconstraints = p;
			fo->n_flexofferprofileconstraints = n;
			fo->defaultschedule->scheduleslices = sd;
			fo->defaultschedule->n_scheduleslices = n;
			fo->flexofferschedule->scheduleslices = sf;
			fo->flexofferschedule->n_scheduleslices = n;
			fo->has_endafterinterval = fo->has_endbeforeinterval = 0;
			fo->endaftertime = fo->endbeforetime = NULL;
			cr_assert_eq(gf_codec_encode(GF_CODEC_PROTOBUF, m, &enc, &elen), GF_OK);
			cr_assert_eq(gf__check_protobuf(d, enc, elen), GF__CHECK_VALID,
			             "%zu slices: not accepted in one pass", n);
			free(enc);
			cr_assert_eq(gf_codec_encode(GF_CODEC_JSON, m, &enc, &elen), GF_OK);
			cr_assert_eq(gf__check_json(d, enc, elen), GF__CHECK_VALID,
			             "%zu slices: not accepted in one pass (JSON)", n);
			same(GF_CODEC_JSON, d, enc, elen, "offer of many slices");
			free(enc);
			/* The schedule one slice short, then misaligned. */
			fo->defaultschedule->n_scheduleslices = n - 1;
			cr_assert_eq(gf_codec_encode(GF_CODEC_PROTOBUF, m, &enc, &elen), GF_OK);
			cr_assert_eq(gf__check_protobuf(d, enc, elen), GF__CHECK_INVALID);
			same(GF_CODEC_PROTOBUF, d, enc, elen, "short schedule");
			free(enc);
			cr_assert_eq(gf_codec_encode(GF_CODEC_JSON, m, &enc, &elen), GF_OK);
			cr_assert_eq(gf__check_json(d, enc, elen), GF__CHECK_INVALID);
			same(GF_CODEC_JSON, d, enc, elen, "short schedule");
			free(enc);
			fo->defaultschedule->n_scheduleslices = n;
			fo->defaultschedule->scheduleslices = sd + 1;
			fo->defaultschedule->n_scheduleslices = n - 1;
			fo->flexofferprofileconstraints = p + 1;
			fo->n_flexofferprofileconstraints = n - 1;
			cr_assert_eq(gf_codec_encode(GF_CODEC_PROTOBUF, m, &enc, &elen), GF_OK);
			cr_assert_eq(gf__check_protobuf(d, enc, elen), GF__CHECK_INVALID);
			same(GF_CODEC_PROTOBUF, d, enc, elen, "misaligned schedule");
			free(enc);
			cr_assert_eq(gf_codec_encode(GF_CODEC_JSON, m, &enc, &elen), GF_OK);
			cr_assert_eq(gf__check_json(d, enc, elen), GF__CHECK_INVALID);
			same(GF_CODEC_JSON, d, enc, elen, "misaligned schedule");
			free(enc);
			fo->defaultschedule->scheduleslices = sd;
			fo->defaultschedule->n_scheduleslices = n;
			fo->flexofferprofileconstraints = p;
			fo->n_flexofferprofileconstraints = n;
			if (n <= 33)
				exercise(d, m, "offer of many slices");
			free(p);
			free(sd);
			free(sf);
		}
		fo->flexofferprofileconstraints = old_p;
		fo->n_flexofferprofileconstraints = old_np;
		fo->defaultschedule->scheduleslices = old_d;
		fo->defaultschedule->n_scheduleslices = old_nd;
		fo->flexofferschedule->scheduleslices = old_f;
		fo->flexofferschedule->n_scheduleslices = old_nf;
		fo->endaftertime = old_ea;
		fo->endbeforetime = old_eb;
		fo->has_endafterinterval = old_hea;
		fo->has_endbeforeinterval = old_heb;
	}
	gf_codec_free(m);
	free(text);
	cr_log_info("offers of many slices: protobuf in one pass: %lu accepted, %lu refused; JSON "
	            "in one pass: %lu accepted, %lu refused",
	            n_fast_valid, n_fast_invalid, n_json_valid, n_json_invalid);
	cr_assert_gt(n_fast_invalid, 1000);
	cr_assert_gt(n_json_invalid, 1000);
}

/* JSON text t of message msg, in protobuf: what the one pass says, and
 * gf_check_message against the reference. */
static enum gf__check_fast one_pass_of(const char *msg, const char *t)
{
	const ProtobufCMessageDescriptor *d = gf_schema_find(msg, strlen(msg));
	ProtobufCMessage *m = NULL;
	enum gf__check_fast v;
	void *enc;
	size_t len;

	cr_assert_not_null(d);
	cr_assert_eq(gf_codec_from_json(d, t, strlen(t), &m, NULL, 0), GF_OK, "%s", t);
	cr_assert_eq(gf_codec_encode(GF_CODEC_PROTOBUF, m, &enc, &len), GF_OK);
	gf_codec_free(m);
	v = gf__check_protobuf(d, enc, len);
	same(GF_CODEC_PROTOBUF, d, enc, len, msg);
	free(enc);
	return v;
}

/* What the one pass leaves to the full path: rules that read the values of
 * repeated fields, and map fields; a message that holds one of them goes
 * entirely through the full path, and gets its verdict and reason there. */
Test(check, the_one_pass_leaves_series_rules_and_maps_to_the_full_path)
{
	static const char weather[] = "{\"location\":{},\"startTime\":\"2020-02-27T20:00:00Z\","
	                              "\"intervalLength\":900,\"temperature\":[%s]}";
	char t[256];
	size_t len;
	char *stats = slurp("tests/fuzz/corpus/check/plugin_stats.json", &len);

	snprintf(t, sizeof(t), weather, "5.5");
	cr_assert_eq(one_pass_of("weather.forecast", t), GF__CHECK_UNSURE);
	snprintf(t, sizeof(t), weather, "150"); /* refused by the rule of the type */
	cr_assert_eq(one_pass_of("weather.forecast", t), GF__CHECK_UNSURE);
	cr_assert_eq(n_refused, 1);
	cr_assert_eq(one_pass_of("plugin.stats", stats + 1), GF__CHECK_UNSURE); /* a map */
	free(stats);
	/* and decides the same type without map entries */
	cr_assert_eq(one_pass_of("plugin.stats", "{\"time\":1,\"site\":\"s\",\"clients\":0,"
	                                         "\"auditDropped\":0}"),
	             GF__CHECK_VALID);
}

/* Time strings the decoder reads but cannot write back in its canonical form
 * (outside years 0000-9999 in UTC) are refused, in one pass too; and the
 * one pass decides every one of these, as it does int64 fields written as
 * strings. */
Test(check, times_and_wide_integers_in_one_pass)
{
	static const char *const times[] = {
	    "2020-02-27T20:30:00.000+0000",
	    "2020-02-27T20:30:00Z",
	    "9999-12-31T23:59:59Z",
	    "9999-12-31T23:59:59-01:00",
	    "0000-01-01T00:00:00Z",
	    "0000-01-01T00:00:00+01:00",
	    "2020-02-30T20:30:00Z",
	    "2020-02-27 20:30:00",
	    "",
	    "2020-02-27T24:00:00Z",
	    "2020-02-27T20:30:00.1234Z",
	    "1970-01-01T00:00:00Z",
	};
	static const char *const ids[] = {
	    "1",      "\"1\"", "\"-9223372036854775808\"", "\"9223372036854775808\"", "\"1.0\"",
	    "\" 1\"", "1e0"};
	const ProtobufCMessageDescriptor *d = &goflex__flex_offer_schedule__descriptor;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
			char doc[256];
			int n = snprintf(doc, sizeof(doc),
			                 "{\"scheduleId\": %s, \"startTime\": \"%s\", "
			                 "\"scheduleSlices\": []}",
			                 ids[k], times[i]);
			unsigned long before = n_json_valid + n_json_invalid;
			same(GF_CODEC_JSON, d, doc, (size_t)n, "times");
			cr_assert_eq(n_json_valid + n_json_invalid, before + 1,
			             "not decided in one pass: %s", doc);
		}
	}
	cr_log_info("times: %lu accepted, %lu refused alike; JSON in one pass: %lu accepted, "
	            "%lu refused",
	            n_accepted, n_refused, n_json_valid, n_json_invalid);
	cr_assert_gt(n_json_valid, 5);
	cr_assert_gt(n_json_invalid, 20);
}

/* A key or a length in more varint bytes than it needs: up to five, as
 * protobuf-c reads them, both paths accept it; in six, both refuse (the
 * decoder accepted a six-byte length once: a fuzz finding). */
Test(check, long_varint_keys_and_lengths)
{
	const ProtobufCMessageDescriptor *d = gf_schema_find("flexoffer.ack", 13);
	static const char t[] = "{\"flexOfferId\":\"fo-1\",\"accepted\":true}";
	ProtobufCMessage *m = NULL;
	uint8_t *enc, buf[64];
	size_t len;

	cr_assert_not_null(d);
	cr_assert_eq(gf_codec_from_json(d, t, strlen(t), &m, NULL, 0), GF_OK);
	cr_assert_eq(gf_codec_encode(GF_CODEC_PROTOBUF, m, (void **)&enc, &len), GF_OK);
	gf_codec_free(m);
	cr_assert(enc[0] == 0x0a && enc[1] == 4, "flexOfferId first, 4 bytes");
	for (int extra = 1; extra <= 5; extra++) {
		for (int what = 0; what < 2; what++) { /* 0: the length, 1: the key */
			size_t o = 0, at = what == 0 ? 1 : 0;
			memcpy(buf, enc, at);
			o = at;
			buf[o++] = (uint8_t)(enc[at] | 0x80);
			for (int k = 1; k < extra; k++)
				buf[o++] = 0x80;
			buf[o++] = 0x00;
			memcpy(buf + o, enc + at + 1, len - at - 1);
			o += len - at - 1;
			same(GF_CODEC_PROTOBUF, d, buf, o, what ? "long key" : "long length");
			ProtobufCMessage *back = NULL;
			enum gf_err rc = gf_codec_from_protobuf(d, buf, o, &back, NULL, 0);
			cr_assert_eq(rc == GF_OK, extra + 1 <= 5, "%s in %d bytes: %s",
			             what ? "key" : "length", extra + 1, gf_strerror(rc));
			gf_codec_free(back);
		}
	}
	free(enc);
}
