/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/payload/codec.h over the test schema tests/codec/codec_test.proto:
 * round trips of generated messages through all three encodings, every error
 * path, number limits and formatting, strings, nesting, times, the GOFLEX
 * pilot offer.
 */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus/audit.h"
#include "broker.pb-c.h"
#include "payload/codec.h"
#include "codec_test.pb-c.h"
#include "config.pb-c.h"
#include "msggen.h"
#include "payload/payload.h"
#include "payload/schema.h"
#include "base/timefmt.h"

#include "leak_check.h"

TestSuite(codec, .fini = leak_check);
TestSuite(codec_json, .fini = leak_check);
TestSuite(codec_msgpack, .fini = leak_check);
TestSuite(codec_protobuf, .fini = leak_check);
TestSuite(codec_roundtrip, .fini = leak_check);
TestSuite(codec_map, .fini = leak_check);

#define FLEX  (&gftest__flex_offer__descriptor)
#define ALL   (&gftest__all_types__descriptor)
#define NODE  (&gftest__node__descriptor)
#define SCHED (&gftest__schedule__descriptor)
#define PROF  (&gftest__profile_constraint__descriptor)
/* The least an AllTypes needs: its four required fields. */
#define ALL_REQ                                                                                    \
	"\"reqString\":\"r\",\"reqInt32\":0,\"reqBytes\":\"\",\"reqMessage\":{\"lower\":0,"        \
	"\"upper\":0}"

/* --- helpers ---------------------------------------------------------------- */

static char errbuf[GF_CODEC_ERRLEN];

/* Decodes json, which must fail with GF_EPARSE and exactly this message. */
static void json_fails(const ProtobufCMessageDescriptor *d, const char *json, const char *want)
{
	ProtobufCMessage *m = (ProtobufCMessage *)0x1;
	enum gf_err rc = gf_codec_from_json(d, json, strlen(json), &m, errbuf, sizeof(errbuf));

	cr_assert_eq(rc, GF_EPARSE, "accepted %s (rc %d)", json, rc);
	cr_assert_eq(m, (ProtobufCMessage *)0x1, "out-param touched on failure");
	cr_assert_str_eq(errbuf, want, "for %s", json);
}

/* Decodes json (which must succeed) and returns its re-encoding. */
static char *json_canon(const ProtobufCMessageDescriptor *d, const char *json)
{
	ProtobufCMessage *m = NULL;
	char *out = NULL;
	size_t len = 0;
	enum gf_err rc = gf_codec_from_json(d, json, strlen(json), &m, errbuf, sizeof(errbuf));

	cr_assert_eq(rc, GF_OK, "refused %s: %s", json, errbuf);
	cr_assert_eq(gf_codec_to_json(m, &out, &len), GF_OK);
	cr_assert_eq(strlen(out), len);
	gf_codec_free(m);
	return out;
}

static void json_same(const ProtobufCMessageDescriptor *d, const char *json, const char *want)
{
	char *out = json_canon(d, json);
	cr_assert_str_eq(out, want, "for %s", json);
	free(out);
}

/* One AllTypes field given as "key":value (plus the required fields) must
 * come back as want_field: before the required fields (numbers 20-23) when
 * its number is lower, after them otherwise. */
static void all_same(const char *field, const char *want_field)
{
	char in[1024], want[1024], key[64];
	const ProtobufCFieldDescriptor *f;
	const char *colon = strchr(want_field, ':');

	cr_assert(want_field[0] == '"' && colon != NULL && colon - want_field < 60);
	memcpy(key, want_field + 1, (size_t)(colon - want_field - 2));
	key[colon - want_field - 2] = '\0';
	f = protobuf_c_message_descriptor_get_field_by_name(ALL, key);
	cr_assert_not_null(f, "no field %s", key);
	snprintf(in, sizeof(in), "{%s," ALL_REQ "}", field);
	if (f->id < 20)
		snprintf(want, sizeof(want), "{%s," ALL_REQ "}", want_field);
	else
		snprintf(want, sizeof(want), "{" ALL_REQ ",%s}", want_field);
	json_same(ALL, in, want);
}

static void all_fails(const char *field, const char *want)
{
	char in[1024];

	snprintf(in, sizeof(in), "{%s," ALL_REQ "}", field);
	json_fails(ALL, in, want);
}

/* A msgpack document built by the caller with pk. */
struct mp {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static void mp_init(struct mp *b)
{
	msgpack_sbuffer_init(&b->sb);
	msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

static void mp_key(struct mp *b, const char *s)
{
	msgpack_pack_str(&b->pk, strlen(s));
	msgpack_pack_str_body(&b->pk, s, strlen(s));
}

static void mp_fails(struct mp *b, const ProtobufCMessageDescriptor *d, const char *want)
{
	ProtobufCMessage *m = (ProtobufCMessage *)0x1;
	enum gf_err rc = gf_codec_from_msgpack(d, (const uint8_t *)b->sb.data, b->sb.size, &m,
	                                       errbuf, sizeof(errbuf));

	cr_assert_eq(rc, GF_EPARSE, "accepted (rc %d), want %s", rc, want);
	cr_assert_eq(m, (ProtobufCMessage *)0x1);
	cr_assert_str_eq(errbuf, want);
	msgpack_sbuffer_destroy(&b->sb);
}

static void pb_fails(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
                     const char *want)
{
	ProtobufCMessage *m = (ProtobufCMessage *)0x1;
	enum gf_err rc = gf_codec_from_protobuf(d, data, len, &m, errbuf, sizeof(errbuf));

	cr_assert_eq(rc, GF_EPARSE, "accepted (rc %d), want %s", rc, want);
	cr_assert_eq(m, (ProtobufCMessage *)0x1);
	cr_assert_str_eq(errbuf, want);
}

/* --- the error messages of issue 3, in all three encodings ------------------ */

Test(codec_json, issue_error_messages)
{
	json_fails(
	    FLEX,
	    "{\"offeredById\":\"x\",\"flexOfferProfileConstraints\":[{},{},"
	    "{\"energyConstraintList\":[{\"lower\":0,\"upper\":\"high\"}]}]}",
	    "flexOfferProfileConstraints[2].energyConstraintList[0].upper: expected a number");
	json_fails(NODE, "{\"id\":1}", "id: unknown field");
	json_fails(FLEX, "{\"offeredById\":\"x\",\"foo\":1}", "foo: unknown field");
	json_fails(FLEX, "{\"offeredById\":\"x\",\"state\":\"Bogus\"}",
	           "state: unknown enum value 'Bogus'");
	json_fails(PROF, "{\"minDuration\":3000000000}",
	           "minDuration: 3000000000 is out of range for int32");
	json_fails(
	    FLEX,
	    "{\"offeredById\":\"x\",\"flexOfferProfileConstraints\":[{\"minDuration\":"
	    "3000000000}]}",
	    "flexOfferProfileConstraints[0].minDuration: 3000000000 is out of range for int32");
	json_fails(SCHED, "{\"startTime\":\"2020-02-27 20:30:00\"}",
	           "startTime: not an RFC 3339 time");
	json_fails(FLEX, "{\"offeredById\":\"x\",\"defaultSchedule\":{\"startTime\":\"soon\"}}",
	           "defaultSchedule.startTime: not an RFC 3339 time");
	json_fails(FLEX, "{}", "offeredById: required field missing");
	json_fails(FLEX, "{\"offeredById\":\"x\",\"label\":\"caf\xe9\"}", "label: invalid UTF-8");
	json_fails(FLEX,
	           "{\"offeredById\":\"x\",\"flexOfferProfileConstraints\":[{"
	           "\"energyConstraintList\":[{\"lower\":1}]}]}",
	           "flexOfferProfileConstraints[0].energyConstraintList[0].upper: required field "
	           "missing");
}

Test(codec_msgpack, issue_error_messages)
{
	struct mp b;

	mp_init(&b); /* ...[2].energyConstraintList[0].upper given as a string */
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "offeredById");
	mp_key(&b, "x");
	mp_key(&b, "flexOfferProfileConstraints");
	msgpack_pack_array(&b.pk, 3);
	msgpack_pack_map(&b.pk, 0);
	msgpack_pack_map(&b.pk, 0);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "energyConstraintList");
	msgpack_pack_array(&b.pk, 1);
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "lower");
	msgpack_pack_int(&b.pk, 0);
	mp_key(&b, "upper");
	mp_key(&b, "high");
	mp_fails(&b, FLEX,
	         "flexOfferProfileConstraints[2].energyConstraintList[0].upper: expected a number");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "id");
	msgpack_pack_int(&b.pk, 1);
	mp_fails(&b, NODE, "id: unknown field");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "offeredById");
	mp_key(&b, "x");
	mp_key(&b, "state");
	mp_key(&b, "Bogus");
	mp_fails(&b, FLEX, "state: unknown enum value 'Bogus'");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "minDuration");
	msgpack_pack_int64(&b.pk, 3000000000LL);
	mp_fails(&b, PROF, "minDuration: 3000000000 is out of range for int32");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "startTime");
	mp_key(&b, "2020-02-27 20:30:00");
	mp_fails(&b, SCHED, "startTime: not an RFC 3339 time");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 0);
	mp_fails(&b, FLEX, "offeredById: required field missing");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "offeredById");
	mp_key(&b, "x");
	mp_key(&b, "label");
	msgpack_pack_str(&b.pk, 4);
	msgpack_pack_str_body(&b.pk, "caf\xe9", 4);
	mp_fails(&b, FLEX, "label: invalid UTF-8");
}

/* Protobuf wire bytes written out by hand. */
Test(codec_protobuf, issue_error_messages)
{
	/* FlexOffer with nothing: the required offeredById (6) is missing */
	pb_fails(FLEX, (const uint8_t *)"", 0, "offeredById: required field missing");
	/* label (2) = "caf\xe9", offeredById (6) = "x" */
	static const uint8_t label[] = {0x12, 4, 'c', 'a', 'f', 0xe9, 0x32, 1, 'x'};
	pb_fails(FLEX, label, sizeof(label), "label: invalid UTF-8");
	/* ProfileConstraint minDuration (3) = 3000000000 as a varint */
	static const uint8_t range[] = {0x18, 0x80, 0xbc, 0xc1, 0x96, 0x0b};
	pb_fails(PROF, range, sizeof(range), "minDuration: 3000000000 is out of range for int32");
	/* Schedule startTime (4) = "2020-02-27 20:30:00" */
	uint8_t t[2 + 19] = {0x22, 19};
	memcpy(t + 2, "2020-02-27 20:30:00", 19);
	pb_fails(SCHED, t, sizeof(t), "startTime: not an RFC 3339 time");
	/* FlexOffer state (3) = 99, offeredById "x" */
	static const uint8_t state[] = {0x18, 99, 0x32, 1, 'x'};
	pb_fails(FLEX, state, sizeof(state), "state: unknown enum value 99");
	/* Node field 9 (unknown) */
	static const uint8_t unknown[] = {0x48, 1};
	pb_fails(NODE, unknown, sizeof(unknown), "unknown field number 9");
	/* ...constraints[1].energyConstraintList[0].upper (2) given as a varint */
	static const uint8_t wire[] = {0x32, 1, 'x', 0x6a, 0, 0x6a, 4, 0x0a, 2, 0x10, 1};
	pb_fails(FLEX, wire, sizeof(wire),
	         "flexOfferProfileConstraints[1].energyConstraintList[0].upper: wire type 0 does "
	         "not match double");
}

/* --- JSON syntax and the document model ------------------------------------ */

Test(codec_json, syntax_errors_give_byte_offsets)
{
	json_fails(NODE, "", "invalid JSON at byte 0: expected a value");
	json_fails(NODE, "[]", "expected an object");
	json_fails(NODE, "{\"value\":1,}", "invalid JSON at byte 11: expected a key");
	json_fails(NODE, "{\"value\" 1}", "invalid JSON at byte 9: expected ':'");
	json_fails(NODE, "{\"value\":01}", "invalid JSON at byte 10: expected ',' or '}'");
	json_fails(NODE, "{\"value\":1} x", "invalid JSON at byte 12: trailing characters");
	json_fails(NODE, "{\"value\":1}{}", "invalid JSON at byte 11: trailing characters");
	json_fails(NODE, "{\"value\":-}", "value: invalid JSON at byte 10: invalid number");
	json_fails(NODE, "{\"value\":1.}", "value: invalid JSON at byte 11: invalid number");
}

Test(codec_json, more_syntax_errors)
{
	json_fails(NODE, "{\"value\":1", "invalid JSON at byte 10: expected ',' or '}'");
	json_fails(NODE, "{\"val", "invalid JSON at byte 5: unterminated string");
	json_fails(FLEX, "{\"label\":\"a\nb\"}",
	           "label: invalid JSON at byte 11: control character in string");
	json_fails(FLEX, "{\"label\":\"a\\qb\"}", "label: invalid JSON at byte 11: invalid escape");
	json_fails(FLEX, "{\"label\":\"\\u12G4\"}",
	           "label: invalid JSON at byte 10: invalid \\u escape");
	json_fails(NODE, "{\"value\":@}", "value: invalid JSON at byte 9: expected a value");
	json_fails(NODE, "\xef\xbb\xbf{}", "invalid JSON at byte 0: expected a value"); /* BOM */
	json_fails(NODE, "{\"value\":tru}", "value: expected an integer");
	all_fails("\"optBool\":tru", "optBool: expected true or false");
	/* a NUL byte is no JSON whitespace: the document must not end there */
	ProtobufCMessage *m = NULL;
	cr_assert_eq(gf_codec_from_json(NODE, "{}\0{}", 5, &m, errbuf, sizeof(errbuf)), GF_EPARSE);
	cr_assert_str_eq(errbuf, "invalid JSON at byte 2: trailing characters");
	cr_assert_eq(gf_codec_from_json(NODE, "{\"val\0ue\":1}", 12, &m, errbuf, sizeof(errbuf)),
	             GF_EPARSE);
	cr_assert_str_eq(errbuf, "invalid JSON at byte 5: control character in string");
}

Test(codec_json, whitespace_and_empty)
{
	json_same(NODE, " \t\r\n{ \"value\" : 7 , \"child\" : { } } \n",
	          "{\"value\":7,\"child\":{}}");
	json_same(NODE, "{}", "{}");
}

Test(codec_json, wrong_types_name_what_was_expected)
{
	all_fails("\"optInt32\":\"1\"", "optInt32: expected an integer");
	all_fails("\"optInt32\":1.5", "optInt32: expected an integer");
	all_fails("\"optInt32\":1e3", "optInt32: expected an integer");
	all_fails("\"optInt32\":true", "optInt32: expected an integer");
	all_fails("\"optInt64\":\"1.5\"", "optInt64: expected an integer");
	all_fails("\"optInt64\":\" 1\"", "optInt64: expected an integer");
	all_fails("\"optInt64\":\"\"", "optInt64: expected an integer");
	all_fails("\"optDouble\":\"1\"", "optDouble: expected a number");
	all_fails("\"optDouble\":\"nan\"", "optDouble: expected a number");
	all_fails("\"optDouble\":[]", "optDouble: expected a number");
	all_fails("\"optBool\":1", "optBool: expected true or false");
	all_fails("\"optString\":1", "optString: expected a string");
	all_fails("\"optBytes\":1", "optBytes: expected a base64 string");
	all_fails("\"optNode\":[]", "optNode: expected an object");
	all_fails("\"optEnum\":{}", "optEnum: expected an enum value name");
	all_fails("\"optEnum\":1.0", "optEnum: expected an enum value name");
	all_fails("\"repInt32\":1", "repInt32: expected an array");
	all_fails("\"repInt32\":[1,null]", "repInt32[1]: expected an integer");
	all_fails("\"repNode\":[{},{\"value\":\"x\"}]", "repNode[1].value: expected an integer");
	all_fails("\"repInt32\":[1,]", "repInt32[1]: invalid JSON at byte 15: expected a value");
	all_fails("\"repInt32\":[1 2]", "repInt32: invalid JSON at byte 15: expected ',' or ']'");
}

Test(codec_json, null_is_absent)
{
	json_same(FLEX, "{\"id\":null,\"offeredById\":\"7\",\"locationId\":null,\"state\":null}",
	          "{\"offeredById\":\"7\"}");
	json_same(FLEX, "{\"offeredById\":\"7\",\"flexOfferProfileConstraints\":null}",
	          "{\"offeredById\":\"7\"}");
	json_same(FLEX, "{\"offeredById\":\"7\",\"flexOfferProfileConstraints\":[]}",
	          "{\"offeredById\":\"7\"}");
	json_fails(FLEX, "{\"offeredById\":null}", "offeredById: required field missing");
	/* null still counts as the key: it may not come twice */
	json_fails(FLEX, "{\"offeredById\":\"7\",\"id\":null,\"id\":\"a\"}", "id: duplicate field");
}

Test(codec_json, duplicate_and_unknown_keys)
{
	json_fails(FLEX, "{\"offeredById\":\"7\",\"offeredById\":\"7\"}",
	           "offeredById: duplicate field");
	json_fails(NODE, "{\"child\":{\"value\":1,\"value\":2}}", "child.value: duplicate field");
	/* an escaped key is the same key */
	json_fails(NODE, "{\"value\":1,\"v\\u0061lue\":2}", "value: duplicate field");
	json_same(NODE, "{\"v\\u0061lue\":2}", "{\"value\":2}");
	json_fails(NODE, "{\"Value\":1}", "Value: unknown field");
	json_fails(NODE, "{\"valu\":1}", "valu: unknown field");
	json_fails(NODE, "{\"values\":1}", "values: unknown field");
	json_fails(NODE, "{\"\":1}", ": unknown field");
	/* the key in a message is sanitised and cut */
	json_fails(NODE, "{\"a\\nb\\\"c\":1}", "a?b\"c: unknown field");
	json_fails(
	    NODE,
	    "{\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1}",
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...: unknown field");
}

Test(codec_json, oneof_takes_one_member)
{
	all_same("\"choiceString\":\"a\"", "\"choiceString\":\"a\"");
	all_same("\"choiceNode\":{}", "\"choiceNode\":{}");
	all_fails("\"choiceInt32\":1,\"choiceString\":\"a\"",
	          "choiceString: oneof already has 'choiceInt32' set");
	/* null members do not count */
	all_same("\"choiceInt32\":null,\"choiceString\":\"a\"", "\"choiceString\":\"a\"");
}

Test(codec_json, enums_by_name_or_number)
{
	json_same(FLEX, "{\"offeredById\":\"7\",\"state\":\"Canceled\"}",
	          "{\"state\":\"Canceled\",\"offeredById\":\"7\"}");
	json_same(FLEX, "{\"offeredById\":\"7\",\"state\":2}",
	          "{\"state\":\"Accepted\",\"offeredById\":\"7\"}");
	json_fails(FLEX, "{\"offeredById\":\"7\",\"state\":8}", "state: unknown enum value 8");
	json_fails(FLEX, "{\"offeredById\":\"7\",\"state\":-1}", "state: unknown enum value -1");
	json_fails(FLEX, "{\"offeredById\":\"7\",\"state\":\"initial\"}",
	           "state: unknown enum value 'initial'");
	json_fails(FLEX, "{\"offeredById\":\"7\",\"state\":\"Initia\\u006c\"}",
	           "state: unknown enum value 'Initia\\u006c'");
	all_same("\"optSparse\":-5", "\"optSparse\":\"SPARSE_NEG\"");
	all_same("\"optSparse\":\"SPARSE_BIG\"", "\"optSparse\":\"SPARSE_BIG\"");
	all_fails("\"optSparse\":1", "optSparse: unknown enum value 1");
	all_fails("\"optSparse\":99999999999", "optSparse: unknown enum value 99999999999");
	all_same("\"repEnum\":[\"Initial\",7,\"Offered\"]",
	         "\"repEnum\":[\"Initial\",\"Canceled\",\"Offered\"]");
}

/* --- numbers ------------------------------------------------------------------ */

Test(codec_json, int32_and_uint32_limits)
{
	all_same("\"optInt32\":2147483647", "\"optInt32\":2147483647");
	all_same("\"optInt32\":-2147483648", "\"optInt32\":-2147483648");
	all_fails("\"optInt32\":2147483648", "optInt32: 2147483648 is out of range for int32");
	all_fails("\"optInt32\":-2147483649", "optInt32: -2147483649 is out of range for int32");
	all_same("\"optSint32\":-2147483648", "\"optSint32\":-2147483648");
	all_fails("\"optSfixed32\":2147483648",
	          "optSfixed32: 2147483648 is out of range for sfixed32");
	all_same("\"optUint32\":4294967295", "\"optUint32\":4294967295");
	all_fails("\"optUint32\":4294967296", "optUint32: 4294967296 is out of range for uint32");
	all_fails("\"optFixed32\":-1", "optFixed32: -1 is out of range for fixed32");
	all_same("\"optUint32\":-0", "\"optUint32\":0");
	all_same("\"optInt32\":-0", "\"optInt32\":0");
	all_fails("\"optInt32\":123456789012345678901234567890",
	          "optInt32: 123456789012345678901234567890 is out of range for int32");
}

Test(codec_json, int64_limits_and_strings)
{
	all_same("\"optInt64\":9223372036854775807", "\"optInt64\":\"9223372036854775807\"");
	all_same("\"optInt64\":\"-9223372036854775808\"", "\"optInt64\":\"-9223372036854775808\"");
	all_fails("\"optInt64\":9223372036854775808",
	          "optInt64: 9223372036854775808 is out of range for int64");
	all_fails("\"optInt64\":\"-9223372036854775809\"",
	          "optInt64: -9223372036854775809 is out of range for int64");
	all_same("\"optUint64\":18446744073709551615", "\"optUint64\":\"18446744073709551615\"");
	all_fails("\"optUint64\":18446744073709551616",
	          "optUint64: 18446744073709551616 is out of range for uint64");
	all_fails("\"optFixed64\":\"-1\"", "optFixed64: -1 is out of range for fixed64");
	/* numbers up to 2^53 stay numbers, beyond become strings */
	all_same("\"optInt64\":9007199254740992", "\"optInt64\":9007199254740992");
	all_same("\"optInt64\":9007199254740993", "\"optInt64\":\"9007199254740993\"");
	all_same("\"optInt64\":-9007199254740992", "\"optInt64\":-9007199254740992");
	all_same("\"optSint64\":\"-9007199254740993\"", "\"optSint64\":\"-9007199254740993\"");
	all_same("\"optUint64\":\"9007199254740992\"", "\"optUint64\":9007199254740992");
	all_same("\"optFixed64\":9007199254740993", "\"optFixed64\":\"9007199254740993\"");
	all_same("\"optSfixed64\":\"0\"", "\"optSfixed64\":0");
	all_fails("\"optInt64\":\"01\"", "optInt64: expected an integer");
	all_fails("\"optInt64\":\"+1\"", "optInt64: expected an integer");
	all_fails("\"optInt64\":\"1e3\"", "optInt64: expected an integer");
	all_fails("\"optInt64\":\"\\u0031\"", "optInt64: expected an integer");
	all_fails("\"optInt32\":\"1\"", "optInt32: expected an integer");
}

Test(codec_json, doubles_print_shortest)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"0.5354", "0.5354"},
	    {"0.34417258124766537", "0.34417258124766537"},
	    {"2.2366500000000045", "2.2366500000000045"},
	    {"24.784952968788154", "24.784952968788154"},
	    {"0.01130785340314136", "0.01130785340314136"},
	    {"-0.05", "-0.05"},
	    {"0.30000000000000004", "0.30000000000000004"},
	    {"0.1", "0.1"},
	    {"1E2", "100"},
	    {"1.5e-7", "1.5e-07"},
	    {"100.0", "100"},
	    {"-0", "-0"},
	    {"-0.0", "-0"},
	    {"0e999", "0"},
	    {"123456789012345678", "1.2345678901234568e+17"},
	    {"1e21", "1e+21"},
	    {"1.7976931348623157e308", "1.7976931348623157e+308"},
	    {"2.2250738585072014e-308", "2.2250738585072014e-308"},
	    {"4.9406564584124654e-324", "4.94065645841247e-324"}, /* subnormal: not shortest */
	    {"999999999999999.9", "999999999999999.9"},
	    {"0.1e1", "1"},
	    {"12345678901234567890123e-3", "1.2345678901234567e+19"},
	    {"1e-400", "0"},
	};
	char in[128], out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(in, sizeof(in), "{\"optDouble\":%s," ALL_REQ "}", cases[i].in);
		snprintf(out, sizeof(out), "{\"optDouble\":%s,", cases[i].out);
		char *got = json_canon(ALL, in);
		cr_assert(strncmp(got, out, strlen(out)) == 0, "%s gave %s, want %s", cases[i].in,
		          got, cases[i].out);
		free(got);
	}
	all_fails("\"optDouble\":1e309", "optDouble: 1e309 is out of range for double");
	all_fails("\"optDouble\":-1e400", "optDouble: -1e400 is out of range for double");
}

Test(codec_json, floats_print_shortest_as_float)
{
	all_same("\"optFloat\":0.1", "\"optFloat\":0.1");
	all_same("\"optFloat\":3.4028234663852886e38", "\"optFloat\":3.4028235e+38");
	all_same("\"optFloat\":16777217", "\"optFloat\":16777216");
	all_same("\"optFloat\":1e-50", "\"optFloat\":0");
	all_fails("\"optFloat\":3.5e38", "optFloat: 3.5e38 is out of range for float");
	/* found by fuzzing: the shortest text of -FLT_MAX reads as a double just
	 * beyond it; only from FLT_MAX + half an ulp does a float overflow */
	all_same("\"optFloat\":-3.4028235e+38", "\"optFloat\":-3.4028235e+38");
	all_same("\"optFloat\":3.4028235677973362e38", "\"optFloat\":3.4028235e+38");
	all_fails("\"optFloat\":3.4028235677973366e38",
	          "optFloat: 3.4028235677973366e38 is out of range for float");
	all_same("\"repFloat\":[\"NaN\",\"-Infinity\",0.5]",
	         "\"repFloat\":[\"NaN\",\"-Infinity\",0.5]");
}

Test(codec_json, nan_and_infinity_are_strings)
{
	all_same("\"optDouble\":\"NaN\"", "\"optDouble\":\"NaN\"");
	all_same("\"optDouble\":\"Infinity\"", "\"optDouble\":\"Infinity\"");
	all_same("\"optDouble\":\"-Infinity\"", "\"optDouble\":\"-Infinity\"");
	all_fails("\"optDouble\":\"+Infinity\"", "optDouble: expected a number");
	all_fails("\"optDouble\":NaN", "optDouble: invalid JSON at byte 13: expected a value");
}

/* Our output against a slow reference: the fewest %.Ng digits that read back. */
Test(codec_json, shortest_matches_reference_on_random_doubles)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	unsigned longer = 0;

	for (int i = 0; i < 20000; i++) {
		double v;
		char ref[40], in[160], *got;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(&v, &x, sizeof(v));
		if (!isfinite(v))
			continue;
		if (i % 2)
			v = (double)(x % 100000000) / 1e4; /* decimal-looking values */
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(ref, sizeof(ref), "%.*g", prec, v);
			if (strtod(ref, NULL) == v)
				break;
		}
		snprintf(in, sizeof(in), "{\"optDouble\":%.17g," ALL_REQ "}", v);
		got = json_canon(ALL, in);
		double back = strtod(got + strlen("{\"optDouble\":"), NULL);
		cr_assert(back == v || (v == 0 && back == 0), "%.17g printed as %s", v, got);
		if (fabs(v) < 1e15 && v == (double)(int64_t)v)
			snprintf(ref, sizeof(ref), "%lld", (long long)v);
		if (strncmp(got + strlen("{\"optDouble\":"), ref, strlen(ref)) != 0 ||
		    got[strlen("{\"optDouble\":") + strlen(ref)] != ',')
			longer++;
		free(got);
	}
	/* Only subnormals and rare power-of-two boundaries may take a digit more. */
	cr_assert_lt(longer, 10, "%u of 20000 not shortest", longer);
}

/* --- strings and bytes ------------------------------------------------------- */

Test(codec_json, unicode_escapes_and_surrogates)
{
	json_same(FLEX, "{\"offeredById\":\"\\u00e9\\u20AC\\ud83d\\ude00/\\/\"}",
	          "{\"offeredById\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80//\"}");
	json_same(FLEX, "{\"offeredById\":\"\\udbff\\udfff\"}",
	          "{\"offeredById\":\"\xf4\x8f\xbf\xbf\"}");
	json_same(FLEX, "{\"offeredById\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\\\"\\\\\\u007f\"}",
	          "{\"offeredById\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\\\"\\\\\x7f\"}");
	json_fails(FLEX, "{\"offeredById\":\"\\ud83d\"}",
	           "offeredById: unpaired surrogate in \\u escape");
	json_fails(FLEX, "{\"offeredById\":\"\\ud83dx\"}",
	           "offeredById: unpaired surrogate in \\u escape");
	json_fails(FLEX, "{\"offeredById\":\"\\ude00\\ud83d\"}",
	           "offeredById: unpaired surrogate in \\u escape");
	json_fails(FLEX, "{\"offeredById\":\"\\ud83d\\u0041\"}",
	           "offeredById: unpaired surrogate in \\u escape");
	json_fails(FLEX, "{\"offeredById\":\"a\\u0000b\"}", "offeredById: NUL character in string");
}

Test(codec_json, invalid_utf8_is_refused)
{
	static const char *const bad[] = {
	    "\x80",             /* lone continuation */
	    "\xc3",             /* truncated */
	    "\xc0\xaf",         /* overlong '/' */
	    "\xe0\x80\xaf",     /* overlong */
	    "\xed\xa0\x80",     /* encoded surrogate */
	    "\xf4\x90\x80\x80", /* past U+10FFFF */
	    "\xf8\x88\x80\x80\x80",
	    "\xfe",
	};
	char in[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), "{\"offeredById\":\"x\",\"label\":\"a%sb\"}", bad[i]);
		json_fails(FLEX, in, "label: invalid UTF-8");
	}
	json_same(FLEX, "{\"offeredById\":\"\xef\xbf\xbf\xf0\x90\x80\x80\"}",
	          "{\"offeredById\":\"\xef\xbf\xbf\xf0\x90\x80\x80\"}");
}

Test(codec_json, bytes_are_base64)
{
	all_same("\"optBytes\":\"AQID/w==\"", "\"optBytes\":\"AQID/w==\"");
	all_same("\"optBytes\":\"AQID_w\"", "\"optBytes\":\"AQID/w==\""); /* url-safe, unpadded */
	all_same("\"optBytes\":\"AQID\\/w==\"", "\"optBytes\":\"AQID/w==\"");
	all_same("\"optBytes\":\"-_-_\"", "\"optBytes\":\"+/+/\"");
	all_same("\"optBytes\":\"\"", "\"optBytes\":\"\"");
	all_same("\"optBytes\":\"QQ\"", "\"optBytes\":\"QQ==\"");
	all_fails("\"optBytes\":\"QR==\"", "optBytes: invalid base64"); /* stray bits */
	all_fails("\"optBytes\":\"Q===\"", "optBytes: invalid base64");
	all_fails("\"optBytes\":\"QQ=\"", "optBytes: invalid base64");
	all_fails("\"optBytes\":\"QQ==QQ==\"", "optBytes: invalid base64");
	all_fails("\"optBytes\":\"AQ ID\"", "optBytes: invalid base64");
	all_fails("\"optBytes\":\"A\"", "optBytes: invalid base64");
	all_fails("\"optBytes\":\"A*==\"", "optBytes: invalid base64");
	all_same("\"repBytes\":[\"\",\"AA==\",\"AAA=\",\"AAAA\"]",
	         "\"repBytes\":[\"\",\"AA==\",\"AAA=\",\"AAAA\"]");
}

/* --- times ------------------------------------------------------------------ */

Test(codec_json, time_fields_are_normalised)
{
	json_same(SCHED, "{\"startTime\":\"2020-02-27T20:30:00.000+0000\"}",
	          "{\"startTime\":\"2020-02-27T20:30:00Z\"}");
	json_same(SCHED, "{\"startTime\":\"2020-02-27T21:30:00+01:00\"}",
	          "{\"startTime\":\"2020-02-27T20:30:00Z\"}");
	json_same(SCHED, "{\"startTime\":\"2020-02-27T20:30:00.5Z\"}",
	          "{\"startTime\":\"2020-02-27T20:30:00.500Z\"}");
	json_fails(SCHED, "{\"startTime\":\"2020-02-30T00:00:00Z\"}",
	           "startTime: not an RFC 3339 time");
	json_fails(SCHED, "{\"startTime\":\"2020-02-27 20:30:00\"}",
	           "startTime: not an RFC 3339 time");
	json_fails(SCHED, "{\"startTime\":\"2016-12-31T23:59:60Z\"}",
	           "startTime: not an RFC 3339 time");
	json_fails(SCHED, "{\"startTime\":\"0000-01-01T00:00:00+01:00\"}",
	           "startTime: time out of range");
	json_fails(SCHED, "{\"startTime\":1582835400}", "startTime: expected a string");
	/* every string field named *Time or *Timestamp, repeated ones too */
	all_same("\"observedTimestamp\":[\"2020-02-27T21:30:00+01:00\"]",
	         "\"observedTimestamp\":[\"2020-02-27T20:30:00Z\"]");
	all_fails("\"observedTimestamp\":[\"2020-02-27T20:30:00Z\",\"x\"]",
	          "observedTimestamp[1]: not an RFC 3339 time");
	all_same("\"eventTime\":\"2020-02-27T20:30:00\\u002e000Z\"",
	         "\"eventTime\":\"2020-02-27T20:30:00Z\"");
	/* others are plain strings */
	json_same(FLEX, "{\"offeredById\":\"7\",\"stateReason\":\"2020-02-30\"}",
	          "{\"stateReason\":\"2020-02-30\",\"offeredById\":\"7\"}");
}

/* --- nesting ---------------------------------------------------------------- */

static char *nested_json(int levels, const char *key, bool array)
{
	size_t cap = (size_t)levels * 20 + 16, o = 0;
	char *s = malloc(cap);

	for (int i = 0; i < levels; i++) {
		if (i > 0)
			o += (size_t)snprintf(s + o, cap - o, array ? "\"%s\":[" : "\"%s\":", key);
		s[o++] = '{';
	}
	for (int i = 0; i < levels; i++) {
		s[o++] = '}';
		if (array && i < levels - 1)
			s[o++] = ']';
	}
	s[o] = '\0';
	return s;
}

Test(codec_json, nesting_limit)
{
	char *ok = nested_json(GF_CODEC_MAX_DEPTH, "child", false);
	char *deep = nested_json(GF_CODEC_MAX_DEPTH + 1, "child", false);
	char *deeper = nested_json(100000, "children", true);
	char want[1024] = "";
	ProtobufCMessage *m = NULL;
	char *out;
	size_t len;

	cr_assert_eq(gf_codec_from_json(NODE, ok, strlen(ok), &m, errbuf, sizeof(errbuf)), GF_OK,
	             "%s", errbuf);
	cr_assert_eq(gf_codec_to_json(m, &out, &len), GF_OK);
	cr_assert_str_eq(out, ok);
	free(out);
	gf_codec_free(m);

	for (int i = 0; i < GF_CODEC_MAX_DEPTH; i++)
		strcat(want, i ? ".child" : "child");
	strcat(want, ": nesting deeper than 32");
	json_fails(NODE, deep, want);

	cr_assert_eq(gf_codec_from_json(NODE, deeper, strlen(deeper), &m, errbuf, sizeof(errbuf)),
	             GF_EPARSE);
	cr_assert(strstr(errbuf, "children[0].children[0]") == errbuf, "%s", errbuf);
	cr_assert(strstr(errbuf, ": nesting deeper than 32") != NULL, "%s", errbuf);
	free(ok);
	free(deep);
	free(deeper);
}

/* --- the GOFLEX pilot offer ---------------------------------------------------- */

/* SampleFO_Cyprus.json from GoFlexH2020/samples (MIT), as the FMAN sent it. */
static const char cyprus[] =
    "{\n\t\"id\": null,\n\t\"label\": \"Trading FlexOffer: 2020-02-27 21:30:00 - 2020-02-27 "
    "21:30:00\",\n\t\"state\": \"Initial\",\n\t\"stateReason\": null,\n\t\"creationInterval\": "
    "1758705,\n\t\"offeredById\": \"7500001\",\n\t\"locationId\": {},\n\t"
    "\"acceptanceBeforeInterval\": 1758706,\n\t\"assignmentBeforeInterval\": 1758706,\n\t"
    "\"startAfterInterval\": 1758706,\n\t\"startBeforeInterval\": 1758706,\n\t\"assignment\": "
    "\"obligatory\",\n\t\"flexOfferProfileConstraints\": [\n\t\t{\n\t\t\t"
    "\"energyConstraintList\": [\n\t\t\t\t{\n\t\t\t\t\t\"lower\": 0,\n\t\t\t\t\t\"upper\": "
    "0.5354\n\t\t\t\t}\n\t\t\t],\n\t\t\t\"tariffConstraint\": {\n\t\t\t\t\"minTariff\": "
    "-0.05,\n\t\t\t\t\"maxTariff\": 0.34417258124766537\n\t\t\t},\n\t\t\t\"minDuration\": "
    "1,\n\t\t\t\"maxDuration\": 1\n\t\t}\n\t],\n\t\"flexOfferTariffConstraint\": null,\n\t"
    "\"defaultSchedule\": {\n\t\t\"scheduleId\": 0,\n\t\t\"updateId\": 0,\n\t\t"
    "\"scheduleSlices\": [\n\t\t\t{\n\t\t\t\t\"duration\": 1,\n\t\t\t\t\"energyAmount\": "
    "0,\n\t\t\t\t\"tariff\": 0\n\t\t\t}\n\t\t],\n\t\t\"startTime\": "
    "\"2020-02-27T20:30:00.000+0000\"\n\t},\n\t\"flexOfferSchedule\": null,\n\t"
    "\"creationTime\": \"2020-02-27T20:15:00.000+0000\",\n\t\"startAfterTime\": "
    "\"2020-02-27T20:30:00.000+0000\",\n\t\"startBeforeTime\": "
    "\"2020-02-27T20:30:00.000+0000\",\n\t\"assignmentBeforeTime\": "
    "\"2020-02-27T20:30:00.000+0000\",\n\t\"endBeforeInterval\": 1758707,\n\t"
    "\"numSecondsPerInterval\": 900,\n\t\"acceptanceBeforeTime\": "
    "\"2020-02-27T20:30:00.000+0000\",\n\t\"endAfterInterval\": 1758707,\n\t\"endAfterTime\": "
    "\"2020-02-27T20:45:00.000+0000\",\n\t\"endBeforeTime\": \"2020-02-27T20:45:00.000+0000\"\n}\n";

static const char cyprus_canonical[] =
    "{\"label\":\"Trading FlexOffer: 2020-02-27 21:30:00 - 2020-02-27 21:30:00\","
    "\"state\":\"Initial\",\"creationInterval\":1758705,\"offeredById\":\"7500001\","
    "\"locationId\":{},\"acceptanceBeforeInterval\":1758706,\"assignmentBeforeInterval\":1758706,"
    "\"startAfterInterval\":1758706,\"startBeforeInterval\":1758706,\"assignment\":\"obligatory\","
    "\"flexOfferProfileConstraints\":[{\"energyConstraintList\":[{\"lower\":0,\"upper\":0.5354}],"
    "\"tariffConstraint\":{\"minTariff\":-0.05,\"maxTariff\":0.34417258124766537},"
    "\"minDuration\":1,\"maxDuration\":1}],\"defaultSchedule\":{\"scheduleId\":0,\"updateId\":0,"
    "\"scheduleSlices\":[{\"duration\":1,\"energyAmount\":0,\"tariff\":0}],"
    "\"startTime\":\"2020-02-27T20:30:00Z\"},\"creationTime\":\"2020-02-27T20:15:00Z\","
    "\"startAfterTime\":\"2020-02-27T20:30:00Z\",\"startBeforeTime\":\"2020-02-27T20:30:00Z\","
    "\"assignmentBeforeTime\":\"2020-02-27T20:30:00Z\",\"endBeforeInterval\":1758707,"
    "\"numSecondsPerInterval\":900,\"acceptanceBeforeTime\":\"2020-02-27T20:30:00Z\","
    "\"endAfterInterval\":1758707,\"endAfterTime\":\"2020-02-27T20:45:00Z\","
    "\"endBeforeTime\":\"2020-02-27T20:45:00Z\"}";

Test(codec, goflex_pilot_offer_decodes_and_reencodes_canonically)
{
	ProtobufCMessage *m = NULL;
	Gftest__FlexOffer *fo;

	cr_assert_eq(gf_codec_from_json(FLEX, cyprus, strlen(cyprus), &m, errbuf, sizeof(errbuf)),
	             GF_OK, "%s", errbuf);
	fo = (Gftest__FlexOffer *)m;
	cr_assert_null(fo->id);
	cr_assert_str_eq(fo->offeredbyid, "7500001");
	cr_assert_eq(fo->state, GFTEST__STATE__Initial);
	cr_assert(fo->has_state);
	cr_assert_eq(fo->n_flexofferprofileconstraints, 1);
	cr_assert_eq(fo->flexofferprofileconstraints[0]->energyconstraintlist[0]->upper, 0.5354);
	cr_assert_str_eq(fo->defaultschedule->starttime, "2020-02-27T20:30:00Z");
	cr_assert_not_null(fo->locationid);
	cr_assert_null(fo->flexofferschedule);
	gf_codec_free(m);

	json_same(FLEX, cyprus, cyprus_canonical);
	json_same(FLEX, cyprus_canonical, cyprus_canonical);
}

/* --- defaults, presence ------------------------------------------------------- */

Test(codec, proto2_defaults_are_not_presence)
{
	ProtobufCMessage *m = NULL;
	Gftest__AllTypes *a;
	const char *in = "{" ALL_REQ "}";

	cr_assert_eq(gf_codec_from_json(ALL, in, strlen(in), &m, errbuf, sizeof(errbuf)), GF_OK,
	             "%s", errbuf);
	a = (Gftest__AllTypes *)m;
	cr_assert_str_eq(a->withdefault, "hello");
	cr_assert_eq(a->intwithdefault, 42);
	cr_assert_not(a->has_intwithdefault);
	gf_codec_free(m);
	json_same(ALL, in,
	          "{\"reqString\":\"r\",\"reqInt32\":0,\"reqBytes\":\"\",\"reqMessage\":{"
	          "\"lower\":0,\"upper\":0}}");
	/* set explicitly to the default: present, and emitted */
	all_same("\"withDefault\":\"hello\",\"intWithDefault\":42",
	         "\"withDefault\":\"hello\",\"intWithDefault\":42");
}

/* --- encoders refuse what decoders would --------------------------------------- */

Test(codec, encoders_refuse_messages_outside_the_model)
{
	Gftest__FlexOffer fo = GFTEST__FLEX_OFFER__INIT;
	Gftest__Node nodes[GF_CODEC_MAX_DEPTH + 1];
	char *json = (char *)0x1;
	uint8_t *bin = (uint8_t *)0x1;
	size_t len = 7;
	char bad_utf8[] = "a\xff";
	char bad_time[] = "yesterday";

	/* required offeredById missing */
	cr_assert_eq(gf_codec_to_json(&fo.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&fo.base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&fo.base, &bin, &len), GF_EINVAL);
	fo.offeredbyid = "7";
	fo.has_state = 1;
	fo.state = (Gftest__State)42;
	cr_assert_eq(gf_codec_to_json(&fo.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&fo.base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&fo.base, &bin, &len), GF_EINVAL);
	fo.state = GFTEST__STATE__Offered;
	fo.label = bad_utf8;
	cr_assert_eq(gf_codec_to_json(&fo.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&fo.base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&fo.base, &bin, &len), GF_EINVAL);
	fo.label = NULL;
	fo.creationtime = bad_time;
	cr_assert_eq(gf_codec_to_json(&fo.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&fo.base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&fo.base, &bin, &len), GF_EINVAL);
	cr_assert_eq(json, (char *)0x1);
	cr_assert_eq(bin, (uint8_t *)0x1);
	cr_assert_eq(len, 7);
	/* a time in another form is written canonically */
	fo.creationtime = "2020-02-27T21:30:00+01:00";
	cr_assert_eq(gf_codec_to_json(&fo.base, &json, &len), GF_OK);
	cr_assert_str_eq(json, "{\"state\":\"Offered\",\"offeredById\":\"7\",\"creationTime\":"
	                       "\"2020-02-27T20:30:00Z\"}");
	free(json);

	/* nesting beyond the limit */
	for (int i = 0; i <= GF_CODEC_MAX_DEPTH; i++) {
		gftest__node__init(&nodes[i]);
		nodes[i].child = i < GF_CODEC_MAX_DEPTH ? &nodes[i + 1] : NULL;
	}
	cr_assert_eq(gf_codec_to_json(&nodes[0].base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&nodes[0].base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&nodes[0].base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_json(&nodes[1].base, &json, &len), GF_OK);
	free(json);
}

Test(codec, arguments_and_formats)
{
	ProtobufCMessage *m = (ProtobufCMessage *)0x1;
	enum gf_codec_format f = GF_CODEC_MSGPACK;
	char small[8];

	cr_assert_eq(gf_codec_from_json(NULL, "{}", 2, &m, NULL, 0), GF_EINVAL);
	cr_assert_eq(gf_codec_from_json(NODE, NULL, 2, &m, NULL, 0), GF_EINVAL);
	cr_assert_eq(gf_codec_from_msgpack(NODE, NULL, 2, &m, NULL, 0), GF_EINVAL);
	cr_assert_eq(gf_codec_from_protobuf(NODE, NULL, 2, &m, NULL, 0), GF_EINVAL);
	cr_assert_eq(m, (ProtobufCMessage *)0x1);
	/* err may be NULL, and is cut to errlen */
	cr_assert_eq(gf_codec_from_json(FLEX, "{}", 2, &m, NULL, 0), GF_EPARSE);
	cr_assert_eq(gf_codec_from_json(FLEX, "{}", 2, &m, small, sizeof(small)), GF_EPARSE);
	cr_assert_str_eq(small, "offered");
	gf_codec_free(NULL);

	cr_assert_eq(gf_codec_format_parse(NULL, &f), GF_OK);
	cr_assert_eq(f, GF_CODEC_JSON);
	cr_assert_eq(gf_codec_format_parse("application/msgpack", &f), GF_OK);
	cr_assert_eq(f, GF_CODEC_MSGPACK);
	cr_assert_eq(gf_codec_format_parse("Application/X-Protobuf", &f), GF_OK);
	cr_assert_eq(f, GF_CODEC_PROTOBUF);
	cr_assert_eq(gf_codec_format_parse("application/json; charset=utf-8", &f), GF_OK);
	cr_assert_eq(f, GF_CODEC_JSON);
	cr_assert_eq(gf_codec_format_parse("", &f), GF_OK);
	f = GF_CODEC_MSGPACK;
	cr_assert_eq(gf_codec_format_parse("application/jsonx", &f), GF_ENOENT);
	cr_assert_eq(gf_codec_format_parse("text/plain", &f), GF_ENOENT);
	cr_assert_eq(f, GF_CODEC_MSGPACK);
	cr_assert_str_eq(gf_codec_format_name(GF_CODEC_PROTOBUF), "application/x-protobuf");
	cr_assert_str_eq(gf_codec_format_name(GF_CODEC_MSGPACK), "application/msgpack");
	cr_assert_str_eq(gf_codec_format_name(GF_CODEC_JSON), "application/json");
}

Test(codec, dispatch_by_format)
{
	ProtobufCMessage *m = NULL;
	void *out[3];
	size_t len[3];
	const char *json = "{\"value\":-3,\"children\":[{},{\"value\":1}]}";

	cr_assert_eq(
	    gf_codec_decode(GF_CODEC_JSON, NODE, json, strlen(json), &m, errbuf, sizeof(errbuf)),
	    GF_OK);
	for (int f = 0; f < 3; f++)
		cr_assert_eq(gf_codec_encode((enum gf_codec_format)f, m, &out[f], &len[f]), GF_OK);
	gf_codec_free(m);
	for (int f = 0; f < 3; f++) {
		char *back;
		size_t blen;
		cr_assert_eq(gf_codec_decode((enum gf_codec_format)f, NODE, out[f], len[f], &m,
		                             errbuf, sizeof(errbuf)),
		             GF_OK, "%s", errbuf);
		cr_assert_eq(gf_codec_to_json(m, &back, &blen), GF_OK);
		cr_assert_str_eq(back, json);
		free(back);
		gf_codec_free(m);
		free(out[f]);
	}
}

/* --- msgpack ---------------------------------------------------------------- */

Test(codec_msgpack, strict_types)
{
	struct mp b;

	mp_init(&b); /* a float for an int field */
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "value");
	msgpack_pack_double(&b.pk, 1.0);
	mp_fails(&b, NODE, "value: expected an integer");

	mp_init(&b); /* an int for a double field is fine; then a bin for a string */
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "scheduleSlices");
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "tariff");
	msgpack_pack_int(&b.pk, -3);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "energyAmount");
	msgpack_pack_float(&b.pk, 0.5f);
	mp_key(&b, "startTime");
	msgpack_pack_bin(&b.pk, 1);
	msgpack_pack_bin_body(&b.pk, "x", 1);
	mp_fails(&b, SCHED, "startTime: expected a string");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "child");
	msgpack_pack_array(&b.pk, 0);
	mp_fails(&b, NODE, "child: expected a map");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "children");
	msgpack_pack_map(&b.pk, 0);
	mp_fails(&b, NODE, "children: expected an array");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "children");
	msgpack_pack_array(&b.pk, 2);
	msgpack_pack_map(&b.pk, 0);
	msgpack_pack_nil(&b.pk);
	mp_fails(&b, NODE, "children[1]: expected a map");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "value");
	msgpack_pack_int(&b.pk, 1);
	mp_key(&b, "value");
	msgpack_pack_int(&b.pk, 1);
	mp_fails(&b, NODE, "value: duplicate field");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	msgpack_pack_int(&b.pk, 1);
	msgpack_pack_int(&b.pk, 1);
	mp_fails(&b, NODE, "invalid msgpack at byte 1: map key is not a string");

	mp_init(&b);
	msgpack_pack_array(&b.pk, 0);
	mp_fails(&b, NODE, "expected a map");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 0);
	msgpack_pack_nil(&b.pk);
	mp_fails(&b, NODE, "invalid msgpack at byte 1: trailing bytes");

	mp_init(&b); /* an ext value */
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "value");
	msgpack_pack_ext(&b.pk, 1, 1);
	msgpack_pack_ext_body(&b.pk, "x", 1);
	mp_fails(&b, NODE, "value: invalid msgpack at byte 7: unsupported type");

	mp_init(&b); /* a string with a NUL */
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "offeredById");
	msgpack_pack_str(&b.pk, 3);
	msgpack_pack_str_body(&b.pk, "a\0b", 3);
	mp_fails(&b, FLEX, "offeredById: NUL character in string");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "optUint64");
	msgpack_pack_int(&b.pk, -1);
	mp_fails(&b, ALL, "optUint64: -1 is out of range for uint64");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "optFloat");
	msgpack_pack_double(&b.pk, 1e39);
	mp_fails(&b, ALL, "optFloat: 1e+39 is out of range for float");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "choiceBytes");
	msgpack_pack_bin(&b.pk, 0);
	mp_key(&b, "choiceNode");
	msgpack_pack_map(&b.pk, 0);
	mp_fails(&b, ALL, "choiceNode: oneof already has 'choiceBytes' set");
}

/* The exact bytes: a map of field names, float fields as float64, enums as
 * names, bytes as bin, times as canonical strings, ints in their shortest
 * form. */
Test(codec_msgpack, golden_bytes)
{
	const char *json = "{\"optInt32\":-3,\"optInt64\":\"-9007199254740993\",\"optUint64\":"
	                   "300,\"optFloat\":0.5,\"optBool\":true,\"optEnum\":\"Offered\","
	                   "\"optBytes\":\"AQI=\"," ALL_REQ ",\"eventTime\":"
	                   "\"2020-02-27T21:30:00+01:00\"}";
	static const uint8_t want[] = {
	    0x8c,                                                      /* map of 12 */
	    0xa8, 'o',  'p',  't',  'I', 'n',  't',  '3',  '2',  0xfd, /* -3 */
	    0xa8, 'o',  'p',  't',  'I', 'n',  't',  '6',  '4',  0xd3, 0xff, 0xdf, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, /* int64 -(2^53+1) */
	    0xa9, 'o',  'p',  't',  'U', 'i',  'n',  't',  '6',  '4',  0xcd, 0x01, 0x2c, /* 300 */
	    0xa8, 'o',  'p',  't',  'F', 'l',  'o',  'a',  't',  0xcb, 0x3f, 0xe0, 0,    0,    0,
	    0,    0,    0,    0xa7, 'o', 'p',  't',  'B',  'o',  'o',  'l',  0xc3, 0xa7, 'o',  'p',
	    't',  'E',  'n',  'u',  'm', 0xa7, 'O',  'f',  'f',  'e',  'r',  'e',  'd',  0xa8, 'o',
	    'p',  't',  'B',  'y',  't', 'e',  's',  0xc4, 2,    1,    2,    0xa9, 'r',  'e',  'q',
	    'S',  't',  'r',  'i',  'n', 'g',  0xa1, 'r',  0xa8, 'r',  'e',  'q',  'I',  'n',  't',
	    '3',  '2',  0x00, 0xa8, 'r', 'e',  'q',  'B',  'y',  't',  'e',  's',  0xc4, 0,    0xaa,
	    'r',  'e',  'q',  'M',  'e', 's',  's',  'a',  'g',  'e',  0x82, 0xa5, 'l',  'o',  'w',
	    'e',  'r',  0xcb, 0,    0,   0,    0,    0,    0,    0,    0,    0xa5, 'u',  'p',  'p',
	    'e',  'r',  0xcb, 0,    0,   0,    0,    0,    0,    0,    0,    0xa9, 'e',  'v',  'e',
	    'n',  't',  'T',  'i',  'm', 'e',  0xb4, '2',  '0',  '2',  '0',  '-',  '0',  '2',  '-',
	    '2',  '7',  'T',  '2',  '0', ':',  '3',  '0',  ':',  '0',  '0',  'Z',
	};
	ProtobufCMessage *m = NULL;
	uint8_t *mp;
	size_t len;

	cr_assert_eq(gf_codec_from_json(ALL, json, strlen(json), &m, errbuf, sizeof(errbuf)), GF_OK,
	             "%s", errbuf);
	cr_assert_eq(gf_codec_to_msgpack(m, &mp, &len), GF_OK);
	cr_assert_eq(len, sizeof(want));
	for (size_t i = 0; i < len; i++)
		cr_assert_eq(mp[i], want[i], "byte %zu: %02x, want %02x", i, mp[i], want[i]);
	free(mp);
	gf_codec_free(m);
}

Test(codec_msgpack, truncation_and_lying_lengths)
{
	/* a map claiming 2^32-1 entries in five bytes, an array claiming 65535,
	 * a str claiming more than is there, cut-off numbers */
	static const struct {
		const char *data;
		size_t len;
		const char *err;
	} cases[] = {
	    {"\xdf\xff\xff\xff\xff", 5, "invalid msgpack at byte 0: truncated"},
	    {"\x81\xa8"
	     "children"
	     "\xdc\xff\xff",
	     13, "children: invalid msgpack at byte 10: truncated"},
	    {"\x81\xa5value\xd9\x09", 8, "value: invalid msgpack at byte 7: truncated"},
	    {"\x81\xa5value\xce\x00", 9, "value: invalid msgpack at byte 7: truncated"},
	    {"\x81\xa5value", 7, "value: invalid msgpack at byte 7: truncated"},
	    {"\x81\xa5val", 5, "invalid msgpack at byte 1: truncated"},
	    {"", 0, "invalid msgpack at byte 0: truncated"},
	    {"\xc1", 1, "invalid msgpack at byte 0: unsupported type"},
	};
	ProtobufCMessage *m = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(gf_codec_from_msgpack(NODE, (const uint8_t *)cases[i].data,
		                                   cases[i].len, &m, errbuf, sizeof(errbuf)),
		             GF_EPARSE, "case %zu", i);
		cr_assert_str_eq(errbuf, cases[i].err, "case %zu", i);
	}
}

Test(codec_msgpack, every_integer_width_decodes)
{
	static const struct {
		const char *data;
		size_t len;
		int64_t want;
	} cases[] = {
	    {"\x81\xa5value\x7f", 8, 127},
	    {"\x81\xa5value\xe0", 8, -32},
	    {"\x81\xa5value\xcc\xff", 9, 255},
	    {"\x81\xa5value\xcd\xff\xff", 10, 65535},
	    {"\x81\xa5value\xce\x7f\xff\xff\xff", 12, 2147483647},
	    {"\x81\xa5value\xcf\x00\x00\x00\x00\x7f\xff\xff\xff", 16, 2147483647},
	    {"\x81\xa5value\xd0\x80", 9, -128},
	    {"\x81\xa5value\xd1\x80\x00", 10, -32768},
	    {"\x81\xa5value\xd2\x80\x00\x00\x00", 12, INT32_MIN},
	    {"\x81\xa5value\xd3\xff\xff\xff\xff\x80\x00\x00\x00", 16, INT32_MIN},
	    {"\x81\xa5value\xd3\x00\x00\x00\x00\x00\x00\x00\x05", 16, 5},
	};
	ProtobufCMessage *m = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(gf_codec_from_msgpack(NODE, (const uint8_t *)cases[i].data,
		                                   cases[i].len, &m, errbuf, sizeof(errbuf)),
		             GF_OK, "case %zu: %s", i, errbuf);
		cr_assert_eq(((Gftest__Node *)m)->value, cases[i].want, "case %zu", i);
		gf_codec_free(m);
	}
	cr_assert_eq(gf_codec_from_msgpack(NODE,
	                                   (const uint8_t *)"\x81\xa5value\xcf\x00\x00\x00\x00\x80"
	                                                    "\x00\x00\x00",
	                                   16, &m, errbuf, sizeof(errbuf)),
	             GF_EPARSE);
	cr_assert_str_eq(errbuf, "value: 2147483648 is out of range for int32");
}

Test(codec_msgpack, nesting_limit)
{
	struct mp b;
	ProtobufCMessage *m = NULL;
	char want[1024] = "";

	mp_init(&b);
	for (int i = 0; i < GF_CODEC_MAX_DEPTH; i++) {
		msgpack_pack_map(&b.pk, 1);
		mp_key(&b, "child");
	}
	msgpack_pack_map(&b.pk, 0);
	for (int i = 0; i < GF_CODEC_MAX_DEPTH; i++)
		strcat(want, i ? ".child" : "child");
	strcat(want, ": nesting deeper than 32");
	mp_fails(&b, NODE, want);

	mp_init(&b);
	for (int i = 0; i < GF_CODEC_MAX_DEPTH - 1; i++) {
		msgpack_pack_map(&b.pk, 1);
		mp_key(&b, "child");
	}
	msgpack_pack_map(&b.pk, 0);
	cr_assert_eq(gf_codec_from_msgpack(NODE, (const uint8_t *)b.sb.data, b.sb.size, &m, errbuf,
	                                   sizeof(errbuf)),
	             GF_OK, "%s", errbuf);
	gf_codec_free(m);
	msgpack_sbuffer_destroy(&b.sb);
}

/* --- protobuf ---------------------------------------------------------------- */

Test(codec_protobuf, stricter_than_protobuf_c)
{
	/* Node value (1) twice: protobuf keeps the last, we refuse */
	static const uint8_t dup[] = {0x08, 1, 0x08, 2};
	pb_fails(NODE, dup, sizeof(dup), "value: duplicate field");
	/* AllTypes oneof: choiceInt32 (50) then choiceString (51), plus required fields */
	static const uint8_t oneof[] = {0x90, 0x03, 1, 0x9a, 0x03, 1, 'a'};
	pb_fails(ALL, oneof, sizeof(oneof), "choiceString: oneof already has 'choiceInt32' set");
	/* bool 2 */
	static const uint8_t b[] = {0x68, 2};
	pb_fails(ALL, b, sizeof(b), "optBool: expected true or false");
	/* uint32 2^32 */
	static const uint8_t u[] = {0x38, 0x80, 0x80, 0x80, 0x80, 0x10};
	pb_fails(ALL, u, sizeof(u), "optUint32: 4294967296 is out of range for uint32");
	/* a NUL inside a string */
	static const uint8_t nul[] = {0x32, 3, 'a', 0, 'b'};
	pb_fails(FLEX, nul, sizeof(nul), "offeredById: NUL character in string");
	/* repeated packed enum with an unknown value at index 2 */
	static const uint8_t packed[] = {0xda, 0x02, 3, 0, 1, 9};
	pb_fails(ALL, packed, sizeof(packed), "repEnum[2]: unknown enum value 9");
	/* malformed: truncated length, bad varint, group wire type, field 0 */
	static const uint8_t trunc[] = {0x32, 5, 'a'};
	pb_fails(FLEX, trunc, sizeof(trunc), "offeredById: invalid protobuf at byte 1: bad length");
	static const uint8_t badvar[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
	                                 0xff, 0xff, 0xff, 0xff, 0x02};
	pb_fails(NODE, badvar, sizeof(badvar), "value: invalid protobuf at byte 1: bad varint");
	static const uint8_t group[] = {0x0b, 0x0c};
	pb_fails(NODE, group, sizeof(group), "value: wire type 3 does not match int32");
	static const uint8_t zero[] = {0x00, 0x01};
	pb_fails(NODE, zero, sizeof(zero), "invalid protobuf at byte 0: bad field key");
	/* a length prefix or a key in more than five bytes (of a small value):
	 * protobuf-c refuses both (a fuzz finding: we accepted the length) */
	static const uint8_t len6[] = {0x32, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
	pb_fails(FLEX, len6, sizeof(len6), "offeredById: invalid protobuf at byte 1: bad length");
	static const uint8_t key6[] = {0xb2, 0x80, 0x80, 0x80, 0x80, 0x00, 0x00};
	pb_fails(FLEX, key6, sizeof(key6), "invalid protobuf at byte 0: bad field key");
	/* five bytes are a length still */
	static const uint8_t len5[] = {0x32, 0x81, 0x80, 0x80, 0x80, 0x00, 'a'};
	ProtobufCMessage *m = NULL;
	cr_assert_eq(gf_codec_from_protobuf(FLEX, len5, sizeof(len5), &m, errbuf, sizeof(errbuf)),
	             GF_OK, "%s", errbuf);
	ProtobufCMessage *theirs = protobuf_c_message_unpack(FLEX, NULL, sizeof(len5), len5);
	cr_assert_not_null(theirs);
	protobuf_c_message_free_unpacked(theirs, NULL);
	gf_codec_free(m);
}

Test(codec_protobuf, negative_int32_and_packed_forms_accepted)
{
	/* value = -1 as the ten-byte varint protobuf writes; children packed? no:
	 * repInt32 (30) unpacked and packed mixed, packedDouble (49) */
	static const uint8_t neg[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
	                              0xff, 0xff, 0xff, 0xff, 0x01};
	ProtobufCMessage *m = NULL;
	char *json;
	size_t len;

	cr_assert_eq(gf_codec_from_protobuf(NODE, neg, sizeof(neg), &m, errbuf, sizeof(errbuf)),
	             GF_OK, "%s", errbuf);
	cr_assert_eq(((Gftest__Node *)m)->value, -1);
	gf_codec_free(m);

	const char *in = "{" ALL_REQ ",\"repInt32\":[1,-2,3],\"packedInt32\":[-1,0,1],"
	                 "\"packedDouble\":[0.5,\"NaN\"]}";
	uint8_t *pb;
	size_t pblen;
	cr_assert_eq(gf_codec_from_json(ALL, in, strlen(in), &m, errbuf, sizeof(errbuf)), GF_OK,
	             "%s", errbuf);
	cr_assert_eq(gf_codec_to_protobuf(m, &pb, &pblen), GF_OK);
	gf_codec_free(m);
	cr_assert_eq(gf_codec_from_protobuf(ALL, pb, pblen, &m, errbuf, sizeof(errbuf)), GF_OK,
	             "%s", errbuf);
	cr_assert_eq(gf_codec_to_json(m, &json, &len), GF_OK);
	cr_assert_str_eq(json,
	                 "{\"reqString\":\"r\",\"reqInt32\":0,\"reqBytes\":\"\",\"reqMessage\":"
	                 "{\"lower\":0,\"upper\":0},\"repInt32\":[1,-2,3],\"packedInt32\":[-1,"
	                 "0,1],\"packedDouble\":[0.5,\"NaN\"]}");
	free(json);
	free(pb);
	gf_codec_free(m);
}

Test(codec_protobuf, times_are_canonicalised)
{
	/* Schedule startTime (4) in the GOFLEX form, and a repeated time */
	uint8_t t[2 + 28] = {0x22, 28};
	ProtobufCMessage *m = NULL;
	char *json;
	size_t len;

	memcpy(t + 2, "2020-02-27T20:30:00.000+0000", 28);
	cr_assert_eq(gf_codec_from_protobuf(SCHED, t, sizeof(t), &m, errbuf, sizeof(errbuf)), GF_OK,
	             "%s", errbuf);
	cr_assert_str_eq(((Gftest__Schedule *)m)->starttime, "2020-02-27T20:30:00Z");
	gf_codec_free(m);

	const char *in = "{" ALL_REQ ",\"observedTimestamp\":[\"2020-02-27T20:30:00Z\","
	                 "\"2020-02-27T20:30:00Z\"]}";
	Gftest__AllTypes *a;
	uint8_t *pb;
	size_t pblen;
	char t2[] = "2020-02-27T21:30:00.25+01:00";
	cr_assert_eq(gf_codec_from_json(ALL, in, strlen(in), &m, errbuf, sizeof(errbuf)), GF_OK);
	a = (Gftest__AllTypes *)m;
	a->observedtimestamp[1] = t2; /* written as is by protobuf-c */
	cr_assert_eq(gf_codec_to_protobuf(m, &pb, &pblen), GF_OK);
	gf_codec_free(m);
	cr_assert_eq(gf_codec_from_protobuf(ALL, pb, pblen, &m, errbuf, sizeof(errbuf)), GF_OK,
	             "%s", errbuf);
	cr_assert_eq(gf_codec_to_json(m, &json, &len), GF_OK);
	cr_assert(strstr(json, "\"observedTimestamp\":[\"2020-02-27T20:30:00Z\","
	                       "\"2020-02-27T20:30:00.250Z\"]") != NULL,
	          "%s", json);
	free(json);
	free(pb);
	gf_codec_free(m);
}

/* Found by fuzzing: the model has one NaN (JSON can say no other), so a NaN
 * with a payload or sign decodes to the canonical one in every encoding; and
 * an empty packed run allocates nothing. */
Test(codec_protobuf, nan_payloads_and_empty_packed_runs)
{
	const char *in = "{" ALL_REQ "}";
	ProtobufCMessage *m = NULL;
	uint8_t *pb, *pb2, *buf;
	size_t pblen, pb2len;
	double canon = NAN, got;
	/* optDouble (12) = NaN with payload and sign; optFloat (11) likewise;
	 * repInt32 (30) and packedDouble (49) as empty packed runs */
	static const uint8_t extra[] = {0x61, 1, 0,    0,    0,    0,    0, 0xf8, 0xff, 0x5d,
	                                1,    0, 0xc0, 0xff, 0xf2, 0x01, 0, 0x8a, 0x03, 0};

	cr_assert_eq(gf_codec_from_json(ALL, in, strlen(in), &m, errbuf, sizeof(errbuf)), GF_OK);
	cr_assert_eq(gf_codec_to_protobuf(m, &pb, &pblen), GF_OK);
	gf_codec_free(m);
	buf = malloc(pblen + sizeof(extra));
	memcpy(buf, pb, pblen);
	memcpy(buf + pblen, extra, sizeof(extra));
	cr_assert_eq(
	    gf_codec_from_protobuf(ALL, buf, pblen + sizeof(extra), &m, errbuf, sizeof(errbuf)),
	    GF_OK, "%s", errbuf);
	got = ((Gftest__AllTypes *)m)->optdouble;
	cr_assert(memcmp(&got, &canon, sizeof(got)) == 0, "NaN payload kept");
	cr_assert_eq(((Gftest__AllTypes *)m)->n_repint32, 0);
	cr_assert_eq(gf_codec_to_protobuf(m, &pb2, &pb2len), GF_OK);
	gf_codec_free(m);
	/* the same bytes as from JSON's "NaN" */
	const char *nan_in = "{\"optFloat\":\"NaN\",\"optDouble\":\"NaN\"," ALL_REQ "}";
	uint8_t *pb3;
	size_t pb3len;
	cr_assert_eq(gf_codec_from_json(ALL, nan_in, strlen(nan_in), &m, errbuf, sizeof(errbuf)),
	             GF_OK);
	cr_assert_eq(gf_codec_to_protobuf(m, &pb3, &pb3len), GF_OK);
	gf_codec_free(m);
	cr_assert_eq(pb3len, pb2len);
	cr_assert(memcmp(pb3, pb2, pb2len) == 0);
	free(pb);
	free(pb2);
	free(pb3);
	free(buf);
}

Test(codec_msgpack, nan_payloads_are_canonical)
{
	struct mp b;
	ProtobufCMessage *m = NULL;
	uint64_t bits = 0xfff8000000000123ULL;
	double v, got, canon = NAN;

	memcpy(&v, &bits, sizeof(v));
	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "optDouble");
	msgpack_pack_double(&b.pk, v);
	cr_assert_eq(gf_codec_from_msgpack(ALL, (const uint8_t *)b.sb.data, b.sb.size, &m, errbuf,
	                                   sizeof(errbuf)),
	             GF_EPARSE); /* required fields missing; but first: */
	cr_assert_str_eq(errbuf, "reqString: required field missing");
	msgpack_sbuffer_destroy(&b.sb);

	mp_init(&b);
	msgpack_pack_map(&b.pk, 5);
	mp_key(&b, "optDouble");
	msgpack_pack_double(&b.pk, v);
	mp_key(&b, "reqString");
	mp_key(&b, "r");
	mp_key(&b, "reqInt32");
	msgpack_pack_int(&b.pk, 0);
	mp_key(&b, "reqBytes");
	msgpack_pack_bin(&b.pk, 0);
	mp_key(&b, "reqMessage");
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "lower");
	msgpack_pack_double(&b.pk, 0);
	mp_key(&b, "upper");
	msgpack_pack_int(&b.pk, 0);
	cr_assert_eq(gf_codec_from_msgpack(ALL, (const uint8_t *)b.sb.data, b.sb.size, &m, errbuf,
	                                   sizeof(errbuf)),
	             GF_OK, "%s", errbuf);
	got = ((Gftest__AllTypes *)m)->optdouble;
	cr_assert(memcmp(&got, &canon, sizeof(got)) == 0, "NaN payload kept");
	gf_codec_free(m);
	msgpack_sbuffer_destroy(&b.sb);
}

/* Builds n nested Node messages on the wire: child (2) inside child. */
static uint8_t *nested_pb(size_t n, size_t *len)
{
	size_t cap = n * 6 + 8, start = cap;
	uint8_t *buf = malloc(cap);

	for (size_t i = 0; i + 1 < n; i++) {
		size_t inner = cap - start;
		uint8_t lenbuf[5];
		size_t k = 0;
		do {
			lenbuf[k++] = (uint8_t)((inner & 0x7f) | (inner > 0x7f ? 0x80 : 0));
			inner >>= 7;
		} while (inner);
		start -= k;
		memcpy(buf + start, lenbuf, k);
		buf[--start] = 0x12;
	}
	memmove(buf, buf + start, cap - start);
	*len = cap - start;
	return buf;
}

Test(codec_protobuf, nesting_limit_before_protobuf_c_recurses)
{
	size_t len;
	uint8_t *ok = nested_pb(GF_CODEC_MAX_DEPTH, &len);
	ProtobufCMessage *m = NULL;
	char want[1024] = "";

	cr_assert_eq(gf_codec_from_protobuf(NODE, ok, len, &m, errbuf, sizeof(errbuf)), GF_OK, "%s",
	             errbuf);
	gf_codec_free(m);
	free(ok);
	uint8_t *deep = nested_pb(GF_CODEC_MAX_DEPTH + 1, &len);
	for (int i = 0; i < GF_CODEC_MAX_DEPTH; i++)
		strcat(want, i ? ".child" : "child");
	strcat(want, ": nesting deeper than 32");
	pb_fails(NODE, deep, len, want);
	free(deep);
	uint8_t *huge = nested_pb(200000, &len);
	cr_assert_eq(gf_codec_from_protobuf(NODE, huge, len, &m, errbuf, sizeof(errbuf)),
	             GF_EPARSE);
	free(huge);
}

/* --- round trips of generated messages ------------------------------------------ */

static struct msggen msgs = {0x243f6a8885a308d3ULL};

/* --- map fields ----------------------------------------------------------------- */

#define STATS     (&goflex__plugin_stats__descriptor)
#define XCONFIG   (&goflex__xems_config__descriptor)
#define STATS_REQ "\"time\":1,\"site\":\"s\",\"clients\":0,\"auditDropped\":0"

/* What the broker publishes on plugin.stats (lib/bus/audit.c) is a PluginStats
 * whose canonical JSON is the broker's text itself, in every encoding. */
Test(codec_map, plugin_stats_from_the_broker_reencode_identically)
{
	static struct gf_audit a;
	char text[4096], err[256];
	ProtobufCMessage *m = NULL;
	Goflex__PluginStats *ps;
	void *enc;
	size_t len;

	gf_audit_init(&a);
	for (int i = 0; i < 5; i++)
		gf_audit_record(&a, GF_REASON_ALLOW, GF_ACCESS_WRITE, "foa.1", "foa.1", "gf/s/x",
		                NULL, 1795663300, 0);
	gf_audit_record(&a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "foa.1", "foa.1", "gf/s/x", NULL,
	                1795663300, 1);
	cr_assert_eq(gf_audit_stats_json(&a, "site1", 1795663300, 12, text, sizeof(text)), GF_OK);
	cr_assert_not_null(strstr(text, "\"decisions\":{\"GF-ACL-ALLOW\":5,"), "%s", text);
	cr_assert_eq(gf_schema_find("plugin.stats", 12), STATS);

	cr_assert_eq(gf_codec_from_json(STATS, text, strlen(text), &m, errbuf, sizeof(errbuf)),
	             GF_OK, "%s: %s", errbuf, text);
	ps = (Goflex__PluginStats *)m;
	cr_assert_eq(ps->n_decisions, GF_REASON_COUNT);
	for (unsigned r = 0; r < GF_REASON_COUNT; r++)
		cr_assert_str_eq(ps->decisions[r]->key, gf_reason_msgid((enum gf_reason)r));
	cr_assert_eq(ps->decisions[GF_REASON_ALLOW]->value, 5);
	cr_assert_eq(ps->decisions[GF_REASON_SPOOF]->value, 1);
	for (int f = 0; f < 3; f++) {
		ProtobufCMessage *back = NULL;
		char *json;
		size_t jlen;
		cr_assert_eq(gf_codec_encode((enum gf_codec_format)f, m, &enc, &len), GF_OK);
		cr_assert_eq(gf_codec_decode((enum gf_codec_format)f, STATS, enc, len, &back,
		                             errbuf, sizeof(errbuf)),
		             GF_OK, "%s", errbuf);
		cr_assert_eq(gf_codec_to_json(back, &json, &jlen), GF_OK);
		cr_assert_str_eq(json, text, "through %s",
		                 gf_codec_format_name((enum gf_codec_format)f));
		cr_assert_eq(gf_payload_check("plugin.stats", 12, false,
		                              gf_codec_format_name((enum gf_codec_format)f), enc,
		                              len, err, sizeof(err)),
		             GF_OK, "%s", err);
		free(json);
		free(enc);
		gf_codec_free(back);
	}
	gf_codec_free(m);
}

Test(codec_map, objects_decode_into_entries_in_document_order)
{
	ProtobufCMessage *m = NULL;
	Goflex__XemsConfig *x;
	const char *in = "{\"settings\":{\"z\":\"1\",\"a\\u00e9\":\"\",\"\":\"empty key\"}}";

	cr_assert_eq(gf_codec_from_json(XCONFIG, in, strlen(in), &m, errbuf, sizeof(errbuf)), GF_OK,
	             "%s", errbuf);
	x = (Goflex__XemsConfig *)m;
	cr_assert_eq(x->n_settings, 3);
	cr_assert_str_eq(x->settings[0]->key, "z");
	cr_assert_str_eq(x->settings[0]->value, "1");
	cr_assert_str_eq(x->settings[1]->key, "a\xc3\xa9");
	cr_assert_str_eq(x->settings[1]->value, "");
	cr_assert_str_eq(x->settings[2]->key, "");
	gf_codec_free(m);
	json_same(XCONFIG, in,
	          "{\"settings\":{\"z\":\"1\",\"a\xc3\xa9\":\"\",\"\":\"empty key\"}}");
	json_same(XCONFIG, " { \"settings\" : { \"k\" : \"v\" , \"l\" : \"w\" } } ",
	          "{\"settings\":{\"k\":\"v\",\"l\":\"w\"}}");
	/* no entries: absent, like an empty array; null too */
	json_same(XCONFIG, "{\"settings\":{}}", "{}");
	json_same(XCONFIG, "{\"settings\":null}", "{}");
	json_same(STATS, "{" STATS_REQ ",\"decisions\":{\"big\":\"18446744073709551615\",\"n\":7}}",
	          "{" STATS_REQ ",\"decisions\":{\"big\":\"18446744073709551615\",\"n\":7}}");
}

Test(codec_map, errors_name_the_map_and_the_key)
{
	json_fails(STATS, "{" STATS_REQ ",\"decisions\":{\"x\":1,\"y\":2,\"x\":3}}",
	           "decisions: duplicate key 'x'");
	/* an escaped key is the same key */
	json_fails(XCONFIG, "{\"settings\":{\"ab\":\"1\",\"a\\u0062\":\"2\"}}",
	           "settings: duplicate key 'ab'");
	json_fails(XCONFIG, "{\"settings\":{\"a\\nb\":\"1\",\"a\\nb\":\"2\"}}",
	           "settings: duplicate key 'a?b'");
	json_fails(STATS, "{" STATS_REQ ",\"decisions\":{\"GF-ACL-ALLOW\":\"many\"}}",
	           "decisions.GF-ACL-ALLOW: expected an integer");
	json_fails(STATS, "{" STATS_REQ ",\"decisions\":{\"a\":-1}}",
	           "decisions.a: -1 is out of range for uint64");
	json_fails(STATS, "{" STATS_REQ ",\"decisions\":{\"a\":null}}",
	           "decisions.a: expected an integer");
	json_fails(XCONFIG, "{\"settings\":{\"k\":1}}", "settings.k: expected a string");
	/* the protobuf-c shape, an array of entries, is not the JSON form */
	json_fails(XCONFIG, "{\"settings\":[{\"key\":\"k\",\"value\":\"v\"}]}",
	           "settings: expected an object");
	json_fails(XCONFIG, "{\"settings\":{\"k\" \"v\"}}",
	           "settings: invalid JSON at byte 17: expected ':'");
	json_fails(XCONFIG, "{\"settings\":{\"k\":\"v\",}}",
	           "settings: invalid JSON at byte 21: expected a key");
	json_fails(XCONFIG, "{\"settings\":{\"k\":\"v\"]}",
	           "settings: invalid JSON at byte 20: expected ',' or '}'");
	json_fails(XCONFIG, "{\"settings\":{\"k\\u0000\":\"v\"}}",
	           "settings: NUL character in string");
}

/* msgpack carries maps as maps with str keys. */
Test(codec_map, msgpack_maps)
{
	struct mp b;
	ProtobufCMessage *m = NULL;
	char *json;
	size_t len;

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "settings");
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "b");
	mp_key(&b, "1");
	mp_key(&b, "a");
	mp_key(&b, "2");
	cr_assert_eq(gf_codec_from_msgpack(XCONFIG, (const uint8_t *)b.sb.data, b.sb.size, &m,
	                                   errbuf, sizeof(errbuf)),
	             GF_OK, "%s", errbuf);
	msgpack_sbuffer_destroy(&b.sb);
	cr_assert_eq(gf_codec_to_json(m, &json, &len), GF_OK);
	cr_assert_str_eq(json, "{\"settings\":{\"b\":\"1\",\"a\":\"2\"}}");
	free(json);
	gf_codec_free(m);

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "settings");
	msgpack_pack_map(&b.pk, 2);
	mp_key(&b, "b");
	mp_key(&b, "1");
	mp_key(&b, "b");
	mp_key(&b, "2");
	mp_fails(&b, XCONFIG, "settings: duplicate key 'b'");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "settings");
	msgpack_pack_map(&b.pk, 1);
	msgpack_pack_int(&b.pk, 1);
	mp_key(&b, "1");
	mp_fails(&b, XCONFIG, "settings: invalid msgpack at byte 11: map key is not a string");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "settings");
	msgpack_pack_array(&b.pk, 0);
	mp_fails(&b, XCONFIG, "settings: expected a map");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "settings");
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "k");
	msgpack_pack_nil(&b.pk);
	mp_fails(&b, XCONFIG, "settings.k: expected a string");

	mp_init(&b);
	msgpack_pack_map(&b.pk, 1);
	mp_key(&b, "settings");
	msgpack_pack_map(&b.pk, 1);
	msgpack_pack_str(&b.pk, 2);
	msgpack_pack_str_body(&b.pk, "\xc3(", 2);
	mp_key(&b, "v");
	mp_fails(&b, XCONFIG, "settings: invalid UTF-8 in key");
}

/* protobuf: entries as protobuf-c writes them; a missing key or value is the
 * default, as protobuf says; duplicate keys are refused. */
Test(codec_map, protobuf_entries)
{
	/* XemsConfig settings (6): {value "v"}, {key "k"} */
	static const uint8_t partial[] = {0x32, 3, 0x12, 1, 'v', 0x32, 3, 0x0a, 1, 'k'};
	/* the same key twice */
	static const uint8_t dup[] = {0x32, 6, 0x0a, 1, 'k', 0x12, 1, 'v',
	                              0x32, 6, 0x0a, 1, 'k', 0x12, 1, 'w'};
	/* PluginStats: time, site, clients, auditDropped, decisions {key "a"} */
	static const uint8_t stats[] = {0x08, 1, 0x12, 1, 's',  0x18, 0,
	                                0x20, 0, 0x2a, 3, 0x0a, 1,    'a'};
	/* an entry with a field 3 */
	static const uint8_t extra[] = {0x32, 2, 0x18, 1};
	ProtobufCMessage *m = NULL;
	char *json;
	size_t len;

	cr_assert_eq(
	    gf_codec_from_protobuf(XCONFIG, partial, sizeof(partial), &m, errbuf, sizeof(errbuf)),
	    GF_OK, "%s", errbuf);
	cr_assert_eq(gf_codec_to_json(m, &json, &len), GF_OK);
	cr_assert_str_eq(json, "{\"settings\":{\"\":\"v\",\"k\":\"\"}}");
	free(json);
	gf_codec_free(m);
	cr_assert_eq(
	    gf_codec_from_protobuf(STATS, stats, sizeof(stats), &m, errbuf, sizeof(errbuf)), GF_OK,
	    "%s", errbuf);
	cr_assert_eq(gf_codec_to_json(m, &json, &len), GF_OK);
	cr_assert_str_eq(json, "{" STATS_REQ ",\"decisions\":{\"a\":0}}");
	free(json);
	gf_codec_free(m);
	pb_fails(XCONFIG, dup, sizeof(dup), "settings: duplicate key 'k'");
	pb_fails(XCONFIG, extra, sizeof(extra), "settings[0]: unknown field number 3");
}

/* Hand-built messages: the encoders emit entries in their order, refuse
 * duplicate keys and write an absent key or value as protobuf reads it. */
Test(codec_map, encoders)
{
	Goflex__XemsConfig x = GOFLEX__XEMS_CONFIG__INIT;
	Goflex__XemsConfig__SettingsEntry e[3] = {GOFLEX__XEMS_CONFIG__SETTINGS_ENTRY__INIT,
	                                          GOFLEX__XEMS_CONFIG__SETTINGS_ENTRY__INIT,
	                                          GOFLEX__XEMS_CONFIG__SETTINGS_ENTRY__INIT};
	Goflex__XemsConfig__SettingsEntry *entries[3] = {&e[0], &e[1], &e[2]};
	char *json = NULL;
	uint8_t *bin = NULL;
	size_t len;
	char bad[] = "\xff";

	e[0].key = "b";
	e[0].value = "1";
	e[1].key = "a";
	e[1].value = "2";
	x.settings = entries;
	x.n_settings = 3; /* e[2]: neither key nor value */
	cr_assert_eq(gf_codec_to_json(&x.base, &json, &len), GF_OK);
	cr_assert_str_eq(json, "{\"settings\":{\"b\":\"1\",\"a\":\"2\",\"\":\"\"}}");
	free(json);
	json = NULL;
	e[2].key = "b";
	cr_assert_eq(gf_codec_to_json(&x.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&x.base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&x.base, &bin, &len), GF_EINVAL);
	e[2].key = bad;
	cr_assert_eq(gf_codec_to_json(&x.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&x.base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&x.base, &bin, &len), GF_EINVAL);
	entries[2] = NULL;
	cr_assert_eq(gf_codec_to_json(&x.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&x.base, &bin, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&x.base, &bin, &len), GF_EINVAL);
	cr_assert_null(json);
	cr_assert_null(bin);
}

/* A settings object of the n keys. */
static char *settings_doc(char (*keys)[16], size_t n)
{
	size_t cap = n * 24 + 64, o = 0;
	char *doc = malloc(cap);

	cr_assert_not_null(doc);
	o += (size_t)snprintf(doc + o, cap - o, "{\"settings\":{");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(doc + o, cap - o, "%s\"%s\":\"\"", i ? "," : "", keys[i]);
	snprintf(doc + o, cap - o, "}}");
	return doc;
}

/* Many entries: duplicates are found by sorting, wherever they are. */
Test(codec_map, duplicates_among_many_entries)
{
	const size_t n = 5000;
	Goflex__XemsConfig x = GOFLEX__XEMS_CONFIG__INIT;
	Goflex__XemsConfig__SettingsEntry *e = calloc(n, sizeof(*e));
	Goflex__XemsConfig__SettingsEntry **entries = calloc(n, sizeof(*entries));
	char(*keys)[16] = calloc(n, 16), *doc, *json, want[64];
	size_t len;

	cr_assert(e && entries && keys);
	for (size_t i = 0; i < n; i++) {
		snprintf(keys[i], 16, "k%zu", (i * 7919) % n); /* 7919 is prime: a permutation */
		goflex__xems_config__settings_entry__init(&e[i]);
		e[i].key = keys[i];
		entries[i] = &e[i];
	}
	x.settings = entries;
	x.n_settings = n;
	doc = settings_doc(keys, n);
	free(json_canon(XCONFIG, doc));
	free(doc);
	cr_assert_eq(gf_codec_to_json(&x.base, &json, &len), GF_OK);
	free(json);

	memcpy(keys[0], keys[n - 1], 16); /* the last key again, first */
	doc = settings_doc(keys, n);
	snprintf(want, sizeof(want), "settings: duplicate key '%s'", keys[0]);
	json_fails(XCONFIG, doc, want);
	free(doc);
	cr_assert_eq(gf_codec_to_json(&x.base, &json, &len), GF_EINVAL);
	free(e);
	free(entries);
	free(keys);
}

/*
 * Integer and bool keys and message values, which no schema of the bus has:
 * map<int32, string> numbers = 1, map<bool, uint32> flags = 2 and
 * map<string, gftest.Node> nodes = 3, written out as protoc-c would.
 */
typedef struct {
	ProtobufCMessage base;
	protobuf_c_boolean has_key;
	int32_t key;
	char *value;
} NumbersEntry;
typedef struct {
	ProtobufCMessage base;
	protobuf_c_boolean has_key;
	protobuf_c_boolean key;
	protobuf_c_boolean has_value;
	uint32_t value;
} FlagsEntry;
typedef struct {
	ProtobufCMessage base;
	char *key;
	Gftest__Node *value;
} NodesEntry;
typedef struct {
	ProtobufCMessage base;
	size_t n_numbers;
	NumbersEntry **numbers;
	size_t n_flags;
	FlagsEntry **flags;
	size_t n_nodes;
	NodesEntry **nodes;
} Keyed;

static const ProtobufCMessageDescriptor numbers_entry_desc, flags_entry_desc, nodes_entry_desc,
    keyed_desc;

#define INIT_FN(fn, type, desc)                                                                    \
	static void fn(ProtobufCMessage *m)                                                        \
	{                                                                                          \
		memset(m, 0, sizeof(type));                                                        \
		m->descriptor = &desc;                                                             \
	}
INIT_FN(numbers_entry_init, NumbersEntry, numbers_entry_desc)
INIT_FN(flags_entry_init, FlagsEntry, flags_entry_desc)
INIT_FN(nodes_entry_init, NodesEntry, nodes_entry_desc)
INIT_FN(keyed_init, Keyed, keyed_desc)

#define FIELD(name, id, label, type, q, off, desc)                                                 \
	{                                                                                          \
		name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, q, off, desc, NULL, 0, \
		    0, NULL, NULL                                                                  \
	}
#define MSG_DESC(var, name, n, fields, by_name, ranges, init, type)                                \
	static const ProtobufCMessageDescriptor var = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,       \
	                                               "gftest." name,                             \
	                                               name,                                       \
	                                               name,                                       \
	                                               "gftest",                                   \
	                                               sizeof(type),                               \
	                                               n,                                          \
	                                               fields,                                     \
	                                               by_name,                                    \
	                                               1,                                          \
	                                               ranges,                                     \
	                                               init,                                       \
	                                               NULL,                                       \
	                                               NULL,                                       \
	                                               NULL}

static const ProtobufCIntRange ranges2[] = {{1, 0}, {0, 2}}, ranges3[] = {{1, 0}, {0, 3}};
static const unsigned entry_by_name[] = {0, 1}, keyed_by_name[] = {1, 2, 0};
static const ProtobufCFieldDescriptor numbers_entry_fields[] = {
    FIELD("key", 1, OPTIONAL, INT32, offsetof(NumbersEntry, has_key), offsetof(NumbersEntry, key),
          NULL),
    FIELD("value", 2, OPTIONAL, STRING, 0, offsetof(NumbersEntry, value), NULL),
};
static const ProtobufCFieldDescriptor flags_entry_fields[] = {
    FIELD("key", 1, OPTIONAL, BOOL, offsetof(FlagsEntry, has_key), offsetof(FlagsEntry, key), NULL),
    FIELD("value", 2, OPTIONAL, UINT32, offsetof(FlagsEntry, has_value),
          offsetof(FlagsEntry, value), NULL),
};
static const ProtobufCFieldDescriptor nodes_entry_fields[] = {
    FIELD("key", 1, OPTIONAL, STRING, 0, offsetof(NodesEntry, key), NULL),
    FIELD("value", 2, OPTIONAL, MESSAGE, 0, offsetof(NodesEntry, value), NODE),
};
static const ProtobufCFieldDescriptor keyed_fields[] = {
    FIELD("numbers", 1, REPEATED, MESSAGE, offsetof(Keyed, n_numbers), offsetof(Keyed, numbers),
          &numbers_entry_desc),
    FIELD("flags", 2, REPEATED, MESSAGE, offsetof(Keyed, n_flags), offsetof(Keyed, flags),
          &flags_entry_desc),
    FIELD("nodes", 3, REPEATED, MESSAGE, offsetof(Keyed, n_nodes), offsetof(Keyed, nodes),
          &nodes_entry_desc),
};
MSG_DESC(numbers_entry_desc, "NumbersEntry", 2, numbers_entry_fields, entry_by_name, ranges2,
         numbers_entry_init, NumbersEntry);
MSG_DESC(flags_entry_desc, "FlagsEntry", 2, flags_entry_fields, entry_by_name, ranges2,
         flags_entry_init, FlagsEntry);
MSG_DESC(nodes_entry_desc, "NodesEntry", 2, nodes_entry_fields, entry_by_name, ranges2,
         nodes_entry_init, NodesEntry);
MSG_DESC(keyed_desc, "Keyed", 3, keyed_fields, keyed_by_name, ranges3, keyed_init, Keyed);
#define KEYED (&keyed_desc)

Test(codec_map, integer_and_bool_keys_and_message_values)
{
	json_same(KEYED,
	          "{\"numbers\":{\"-2147483648\":\"min\",\"0\":\"zero\",\"2147483647\":\"max\"},"
	          "\"flags\":{\"true\":1,\"false\":0},\"nodes\":{\"a\":{\"value\":1,\"child\":{}},"
	          "\"b\":{}}}",
	          "{\"numbers\":{\"-2147483648\":\"min\",\"0\":\"zero\",\"2147483647\":\"max\"},"
	          "\"flags\":{\"true\":1,\"false\":0},\"nodes\":{\"a\":{\"value\":1,\"child\":{}},"
	          "\"b\":{}}}");
	/* one text per key */
	json_fails(KEYED, "{\"numbers\":{\"01\":\"\"}}", "numbers: invalid int32 key '01'");
	json_fails(KEYED, "{\"numbers\":{\"-0\":\"\"}}", "numbers: invalid int32 key '-0'");
	json_fails(KEYED, "{\"numbers\":{\"+1\":\"\"}}", "numbers: invalid int32 key '+1'");
	json_fails(KEYED, "{\"numbers\":{\"\":\"\"}}", "numbers: invalid int32 key ''");
	json_fails(KEYED, "{\"numbers\":{\"-\":\"\"}}", "numbers: invalid int32 key '-'");
	json_fails(KEYED, "{\"numbers\":{\"1e3\":\"\"}}", "numbers: invalid int32 key '1e3'");
	json_fails(KEYED, "{\"numbers\":{\"2147483648\":\"\"}}",
	           "numbers: invalid int32 key '2147483648'");
	json_fails(KEYED, "{\"numbers\":{\"99999999999999999999999\":\"\"}}",
	           "numbers: invalid int32 key '99999999999999999999999'");
	json_fails(KEYED, "{\"flags\":{\"True\":1}}", "flags: invalid bool key 'True'");
	json_fails(KEYED, "{\"flags\":{\"true\":1,\"true\":2}}", "flags: duplicate key 'true'");
	json_fails(KEYED, "{\"numbers\":{\"7\":\"\",\"-7\":\"\",\"7\":\"\"}}",
	           "numbers: duplicate key '7'");
	json_fails(KEYED, "{\"nodes\":{\"a\":{\"value\":\"x\"}}}",
	           "nodes.a.value: expected an integer");
	json_fails(KEYED, "{\"nodes\":{\"a\":null}}", "nodes.a: expected an object");
}

Test(codec_map, message_values_in_protobuf_and_depth)
{
	/* nodes (3): {key "a"}: the value is the default instance */
	static const uint8_t no_value[] = {0x1a, 3, 0x0a, 1, 'a'};
	ProtobufCMessage *m = NULL;
	char *json;
	size_t len;
	NodesEntry ne;
	NumbersEntry nu;
	NodesEntry *nes[1] = {&ne};
	NumbersEntry *nus[1] = {&nu};
	Keyed k;
	Gftest__Node nodes[GF_CODEC_MAX_DEPTH];

	cr_assert_eq(
	    gf_codec_from_protobuf(KEYED, no_value, sizeof(no_value), &m, errbuf, sizeof(errbuf)),
	    GF_OK, "%s", errbuf);
	cr_assert_eq(gf_codec_to_json(m, &json, &len), GF_OK);
	cr_assert_str_eq(json, "{\"nodes\":{\"a\":{}}}");
	free(json);
	gf_codec_free(m);

	/* hand-built: an absent key is 0, an absent message value is refused */
	keyed_init(&k.base);
	numbers_entry_init(&nu.base);
	nodes_entry_init(&ne.base);
	k.n_numbers = 1;
	k.numbers = nus;
	cr_assert_eq(gf_codec_to_json(&k.base, &json, &len), GF_OK);
	cr_assert_str_eq(json, "{\"numbers\":{\"0\":\"\"}}");
	free(json);
	k.n_nodes = 1;
	k.nodes = nes;
	ne.key = "a";
	cr_assert_eq(gf_codec_to_json(&k.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&k.base, (uint8_t **)&json, &len), GF_EINVAL);

	/* an entry is a nesting level: a value nested MAX - 1 deep in the map
	 * of the root is one level too deep, in every encoding */
	for (int i = 0; i < GF_CODEC_MAX_DEPTH; i++) {
		gftest__node__init(&nodes[i]);
		nodes[i].child = i + 1 < GF_CODEC_MAX_DEPTH - 1 ? &nodes[i + 1] : NULL;
	}
	ne.value = &nodes[0]; /* root 1, entry 2, nodes 3 .. MAX + 1 */
	k.n_numbers = 0;
	cr_assert_eq(gf_codec_to_json(&k.base, &json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_msgpack(&k.base, (uint8_t **)&json, &len), GF_EINVAL);
	cr_assert_eq(gf_codec_to_protobuf(&k.base, (uint8_t **)&json, &len), GF_EINVAL);
	ne.value = &nodes[1];
	for (int f = 0; f < 3; f++) {
		void *enc;
		cr_assert_eq(gf_codec_encode((enum gf_codec_format)f, &k.base, &enc, &len), GF_OK);
		cr_assert_eq(gf_codec_decode((enum gf_codec_format)f, KEYED, enc, len, &m, errbuf,
		                             sizeof(errbuf)),
		             GF_OK, "%s", errbuf);
		gf_codec_free(m);
		free(enc);
	}
}

/* The generator's maps through all three encodings, integer keys too. */
Test(codec_map, generated_maps_through_all_encodings)
{
	for (int i = 0; i < 300; i++) {
		ProtobufCMessage *gen = msggen_message(&msgs, KEYED), *m;
		char *j0, *j1;
		uint8_t *pb0, *pb1;
		size_t j0len, j1len, pb0len, pb1len;
		cr_assert_eq(gf_codec_to_json(gen, &j0, &j0len), GF_OK);
		cr_assert_eq(gf_codec_to_protobuf(gen, &pb0, &pb0len), GF_OK);
		for (int f = 0; f < 3; f++) {
			void *enc;
			size_t len;
			cr_assert_eq(gf_codec_encode((enum gf_codec_format)f, gen, &enc, &len),
			             GF_OK);
			cr_assert_eq(gf_codec_decode((enum gf_codec_format)f, KEYED, enc, len, &m,
			                             errbuf, sizeof(errbuf)),
			             GF_OK, "%s in %s", errbuf, j0);
			cr_assert_eq(gf_codec_to_json(m, &j1, &j1len), GF_OK);
			cr_assert_str_eq(j1, j0);
			cr_assert_eq(gf_codec_to_protobuf(m, &pb1, &pb1len), GF_OK);
			cr_assert(pb1len == pb0len && memcmp(pb1, pb0, pb0len) == 0, "%s", j0);
			free(j1);
			free(pb1);
			free(enc);
			gf_codec_free(m);
		}
		free(j0);
		free(pb0);
		protobuf_c_message_free_unpacked(gen, NULL);
	}
}

/* Generated AllTypes and FlexOffer messages: JSON -> message -> protobuf ->
 * message -> msgpack -> message -> JSON gives the same text, and the same
 * protobuf bytes all the way. The encoders' output also passes cJSON and
 * libmsgpackc. */
Test(codec_roundtrip, generated_messages_through_all_encodings)
{
	const ProtobufCMessageDescriptor *descs[] = {ALL, FLEX, NODE};

	for (int i = 0; i < 1000; i++) {
		const ProtobufCMessageDescriptor *d = descs[i % 3];
		ProtobufCMessage *gen = msggen_message(&msgs, d), *m1, *m2, *m3;
		char *j0, *j3;
		uint8_t *pbg, *pb1, *pb3, *mp;
		size_t j0len, j3len, pbglen, pb1len, pb3len, mplen, off = 0;
		msgpack_unpacked up;
		cJSON *cj;

		cr_assert_eq(gf_codec_to_json(gen, &j0, &j0len), GF_OK, "message %d", i);
		cj = cJSON_ParseWithLength(j0, j0len);
		cr_assert_not_null(cj, "cJSON refuses %s", j0);
		cJSON_Delete(cj);
		cr_assert_eq(gf_codec_to_protobuf(gen, &pbg, &pbglen), GF_OK);

		cr_assert_eq(gf_codec_from_json(d, j0, j0len, &m1, errbuf, sizeof(errbuf)), GF_OK,
		             "message %d: %s in %s", i, errbuf, j0);
		cr_assert_eq(gf_codec_to_protobuf(m1, &pb1, &pb1len), GF_OK);
		cr_assert_eq(pb1len, pbglen, "message %d: %s", i, j0);
		cr_assert(memcmp(pb1, pbg, pbglen) == 0, "message %d: %s", i, j0);

		cr_assert_eq(gf_codec_from_protobuf(d, pb1, pb1len, &m2, errbuf, sizeof(errbuf)),
		             GF_OK, "message %d: %s", i, errbuf);
		cr_assert_eq(gf_codec_to_msgpack(m2, &mp, &mplen), GF_OK);
		msgpack_unpacked_init(&up);
		cr_assert_eq(msgpack_unpack_next(&up, (const char *)mp, mplen, &off),
		             MSGPACK_UNPACK_SUCCESS);
		cr_assert_eq(off, mplen);
		msgpack_unpacked_destroy(&up);

		cr_assert_eq(gf_codec_from_msgpack(d, mp, mplen, &m3, errbuf, sizeof(errbuf)),
		             GF_OK, "message %d: %s", i, errbuf);
		cr_assert_eq(gf_codec_to_json(m3, &j3, &j3len), GF_OK);
		cr_assert_str_eq(j3, j0, "message %d", i);
		cr_assert_eq(j3len, j0len);
		cr_assert_eq(gf_codec_to_protobuf(m3, &pb3, &pb3len), GF_OK);
		cr_assert_eq(pb3len, pb1len);
		cr_assert(memcmp(pb3, pb1, pb1len) == 0, "message %d", i);

		free(j0);
		free(j3);
		free(pbg);
		free(pb1);
		free(pb3);
		free(mp);
		gf_codec_free(m1);
		gf_codec_free(m2);
		gf_codec_free(m3);
		protobuf_c_message_free_unpacked(gen, NULL);
	}
}

/* Every prefix of a valid document fails cleanly (no crash, no leak) except
 * the whole; so does every single-byte corruption, in each encoding. */
Test(codec_roundtrip, prefixes_and_corruptions_fail_cleanly)
{
	for (int i = 0; i < 20; i++) {
		ProtobufCMessage *gen = msggen_message(&msgs, ALL), *m;
		void *enc[3];
		size_t len[3];
		for (int f = 0; f < 3; f++)
			cr_assert_eq(
			    gf_codec_encode((enum gf_codec_format)f, gen, &enc[f], &len[f]), GF_OK);
		for (int f = 0; f < 3; f++) {
			unsigned char *copy = malloc(len[f]);
			cr_assert_not_null(copy);
			for (size_t n = 0; n < len[f]; n++) {
				enum gf_err rc =
				    gf_codec_decode((enum gf_codec_format)f, ALL, enc[f], n, &m,
				                    errbuf, sizeof(errbuf));
				if (rc == GF_OK) /* a protobuf prefix can be a valid message */
					gf_codec_free(m);
				else
					cr_assert_eq(rc, GF_EPARSE);
			}
			for (size_t n = 0; n < len[f]; n += 1 + len[f] / 200) {
				memcpy(copy, enc[f], len[f]);
				copy[n] ^= (unsigned char)(1 + msggen_rand(&msgs) % 255);
				if (gf_codec_decode((enum gf_codec_format)f, ALL, copy, len[f], &m,
				                    errbuf, sizeof(errbuf)) == GF_OK)
					gf_codec_free(m);
			}
			free(copy);
			free(enc[f]);
		}
		protobuf_c_message_free_unpacked(gen, NULL);
	}
}
