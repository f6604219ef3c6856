/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/bus/audit.h: counters, the event ring and the JSON documents.
 * JSON is checked with exact strings and a small validator (libcjson is not
 * linked into unit tests).
 */
#include <criterion/criterion.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "bus/audit.h"

static struct gf_audit *a;

static void setup(void)
{
	a = malloc(sizeof(*a));
	cr_assert_not_null(a);
	memset(a, 0x5a, sizeof(*a));
	gf_audit_init(a);
}

static void teardown(void)
{
	free(a);
	a = NULL;
}

TestSuite(audit, .init = setup, .fini = teardown);

/* --- a small JSON validator (RFC 8259, no duplicate-key check) ------------- */

static const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Length of the UTF-8 character at s, 0 if invalid: glibc's decoder in the
 * C.UTF-8 locale, an oracle independent of lib/bus/audit.c's own. */
static size_t utf8_len(const unsigned char *s)
{
	static locale_t utf8;
	locale_t old;
	mbstate_t st;
	wchar_t wc;
	size_t n;

	if (!utf8)
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	cr_assert(utf8, "no C.UTF-8 locale");
	old = uselocale(utf8);
	memset(&st, 0, sizeof(st));
	n = mbrtowc(&wc, (const char *)s, 4, &st);
	uselocale(old);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
		return 0;
	return n;
}

static const char *json_value(const char *p, int depth);

static const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (;;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL; /* includes the terminating NUL */
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++) {
					if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
						return NULL;
				}
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
			continue;
		}
		size_t n = utf8_len((const unsigned char *)p);
		if (n == 0)
			return NULL;
		p += n;
	}
}

static const char *json_number(const char *p)
{
	const char *start;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		start = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return NULL;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		start = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return NULL;
	}
	return p;
}

static const char *json_container(const char *p, int depth, char close, bool object)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			p = json_string(p);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = json_value(p, depth + 1);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = json_ws(p);
	}
}

static const char *json_value(const char *p, int depth)
{
	if (depth > 32)
		return NULL;
	p = json_ws(p);
	switch (*p) {
	case '{':
		return json_container(p, depth, '}', true);
	case '[':
		return json_container(p, depth, ']', false);
	case '"':
		return json_string(p);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		return json_number(p);
	}
}

/* True if s is exactly one JSON object. */
static bool json_object_valid(const char *s)
{
	const char *end;

	if (*json_ws(s) != '{')
		return false;
	end = json_value(s, 0);
	return end && *json_ws(end) == '\0';
}

Test(json_validator, sanity)
{
	cr_assert(json_object_valid("{}"));
	cr_assert(json_object_valid("{\"a\":1,\"b\":[true,false,null,\"x\\u00e9\",-1.5e3]}"));
	cr_assert_not(json_object_valid("{\"a\":1,}"));
	cr_assert_not(json_object_valid("{\"a\":\"\x01\"}"));
	cr_assert_not(json_object_valid("{\"a\":\"\xff\"}"));
	cr_assert_not(json_object_valid("{\"a\":\"\\x\"}"));
	cr_assert_not(json_object_valid("{\"a\":1}x"));
	cr_assert_not(json_object_valid("{\"a\":01}"));
	cr_assert_not(json_object_valid("{\"a\" 1}"));
	cr_assert_not(json_object_valid("[1]"));
}

/* --- counters and the ring ------------------------------------------------- */

Test(audit, init_zeroes)
{
	struct gf_audit_event ev;

	for (int r = 0; r < GF_REASON_COUNT; r++)
		cr_assert_eq(a->count[r], 0);
	cr_assert_eq(a->dropped, 0);
	cr_assert_eq(a->len, 0);
	cr_assert_eq(gf_audit_pop(a, &ev), 0);
}

Test(audit, counts)
{
	struct gf_audit_event ev;

	for (int i = 0; i < 3; i++)
		gf_audit_record(a, GF_REASON_ALLOW, GF_ACCESS_WRITE, "foa.x", "c", "t", NULL, 1, 1);
	gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "foa.x", "c", "t1", NULL, 2, 1);
	gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "foa.x", "c", "t2", NULL, 3, 1);
	gf_audit_record(a, GF_REASON_NOROW, GF_ACCESS_READ, "foa.x", "c", "t3", NULL, 4, 0);
	gf_audit_record(a, GF_REASON_AUTH_REVOKED, 0, "foa.x", "c", NULL, NULL, 5, 1);
	gf_audit_record(a, GF_REASON_COUNT, GF_ACCESS_READ, "x", "c", "t", NULL, 6,
	                1); /* ignored */
	gf_audit_record(a, (enum gf_reason) - 1, GF_ACCESS_READ, "x", "c", "t", NULL, 7, 1);

	cr_assert_eq(a->count[GF_REASON_ALLOW], 3);
	cr_assert_eq(a->count[GF_REASON_SPOOF], 2);
	cr_assert_eq(a->count[GF_REASON_NOROW], 1, "counted though not queued");
	cr_assert_eq(a->count[GF_REASON_AUTH_REVOKED], 1);
	uint64_t total = 0;
	for (int r = 0; r < GF_REASON_COUNT; r++)
		total += a->count[r];
	cr_assert_eq(total, 7);

	/* Queued: the two SPOOFs and the revoked certificate, not ALLOW, not queue=0. */
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_eq(ev.reason, GF_REASON_SPOOF);
	cr_assert_eq(ev.time, 2);
	cr_assert_eq(ev.access, GF_ACCESS_WRITE);
	cr_assert_str_eq(ev.topic, "t1");
	cr_assert_str_eq(ev.who, "foa.x");
	cr_assert_str_eq(ev.client_id, "c");
	cr_assert_eq(ev.truncated, 0);
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_str_eq(ev.topic, "t2");
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_eq(ev.reason, GF_REASON_AUTH_REVOKED);
	cr_assert_eq(ev.access, 0);
	cr_assert_str_eq(ev.topic, "", "NULL becomes empty");
	cr_assert_eq(gf_audit_pop(a, &ev), 0);
	cr_assert_eq(a->dropped, 0);
}

Test(audit, ring_order_with_wrap_around)
{
	struct gf_audit_event ev;
	char topic[32];
	int next_in = 0, next_out = 0;

	/* Fill and drain in uneven steps so head wraps several times. */
	for (int round = 0; round < 7; round++) {
		int add = 300 + round * 97;
		for (int i = 0; i < add && a->len < GF_AUDIT_RING; i++) {
			snprintf(topic, sizeof(topic), "t%d", next_in++);
			gf_audit_record(a, GF_REASON_NOTADDR, GF_ACCESS_READ, "w", "c", topic, NULL,
			                (time_t)next_in, 1);
		}
		int take = 250 + round * 50;
		for (int i = 0; i < take; i++) {
			if (!gf_audit_pop(a, &ev))
				break;
			snprintf(topic, sizeof(topic), "t%d", next_out++);
			cr_assert_str_eq(ev.topic, topic);
			cr_assert_eq(ev.time, (time_t)next_out);
		}
	}
	while (gf_audit_pop(a, &ev)) {
		snprintf(topic, sizeof(topic), "t%d", next_out++);
		cr_assert_str_eq(ev.topic, topic);
	}
	cr_assert_eq(next_out, next_in);
	cr_assert_gt(next_in, 2 * GF_AUDIT_RING, "the ring wrapped");
	cr_assert_eq(a->dropped, 0);
}

Test(audit, ring_full_drops_and_reports_once)
{
	struct gf_audit_event ev;
	char topic[32], buf[1024];

	for (int i = 0; i < GF_AUDIT_RING + 5; i++) {
		snprintf(topic, sizeof(topic), "t%d", i);
		gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "w", "c", topic, NULL, 0, 1);
	}
	cr_assert_eq(a->len, GF_AUDIT_RING);
	cr_assert_eq(a->dropped, 5);
	cr_assert_eq(a->count[GF_REASON_SPOOF], GF_AUDIT_RING + 5, "dropped events are counted");

	/* The oldest are kept; the newest were dropped. */
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_str_eq(ev.topic, "t0");
	cr_assert_eq(gf_audit_event_json(a, &ev, "site1", buf, sizeof(buf)), GF_OK);
	cr_assert_not_null(strstr(buf, ",\"dropped\":5}"), "%s", buf);
	cr_assert(json_object_valid(buf), "%s", buf);

	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_str_eq(ev.topic, "t1");
	cr_assert_eq(gf_audit_event_json(a, &ev, "site1", buf, sizeof(buf)), GF_OK);
	cr_assert_not_null(strstr(buf, ",\"dropped\":0}"), "reported twice: %s", buf);

	/* A new loss is reported by itself, not added to the old one. */
	gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "w", "c", "a", NULL, 0, 1);
	gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "w", "c", "b", NULL, 0, 1);
	gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "w", "c", "c", NULL, 0, 1);
	cr_assert_eq(a->dropped, 6);
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_eq(gf_audit_event_json(a, &ev, "site1", buf, sizeof(buf)), GF_OK);
	cr_assert_not_null(strstr(buf, ",\"dropped\":1}"), "%s", buf);

	/* The last two ring slots took "a" and "b". */
	size_t n = 0;
	while (gf_audit_pop(a, &ev))
		n++;
	cr_assert_eq(n, GF_AUDIT_RING - 1);
	cr_assert_str_eq(ev.topic, "b");
}

Test(audit, failed_json_does_not_consume_dropped)
{
	struct gf_audit_event ev;
	char small[16], buf[1024];

	for (int i = 0; i < GF_AUDIT_RING + 2; i++)
		gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "w", "c", "t", NULL, 0, 1);
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_eq(gf_audit_event_json(a, &ev, "site1", small, sizeof(small)), GF_ETOOLONG);
	cr_assert_lt(strlen(small), sizeof(small), "NUL-terminated");
	cr_assert_eq(gf_audit_event_json(a, &ev, "site1", buf, sizeof(buf)), GF_OK);
	cr_assert_not_null(strstr(buf, "\"dropped\":2}"), "%s", buf);
}

Test(audit, truncation)
{
	struct gf_audit_event ev;
	char who[GF_AUDIT_WHO + 1], client[GF_AUDIT_CLIENT + 1], topic[GF_AUDIT_TOPIC + 1];

	/* Exactly fitting strings (size - 1 characters) are not cut. */
	memset(who, 'w', sizeof(who));
	memset(client, 'c', sizeof(client));
	memset(topic, 't', sizeof(topic));
	who[GF_AUDIT_WHO - 1] = '\0';
	client[GF_AUDIT_CLIENT - 1] = '\0';
	topic[GF_AUDIT_TOPIC - 1] = '\0';
	gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, who, client, topic, NULL, 0, 1);
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_eq(ev.truncated, 0);
	cr_assert_str_eq(ev.who, who);
	cr_assert_str_eq(ev.client_id, client);
	cr_assert_str_eq(ev.topic, topic);

	/* One more character in any one of them sets the flag. */
	for (int which = 0; which < 3; which++) {
		char *s = which == 0 ? who : which == 1 ? client : topic;
		size_t full = which == 0   ? GF_AUDIT_WHO
		              : which == 1 ? GF_AUDIT_CLIENT
		                           : GF_AUDIT_TOPIC;
		char buf[1024];
		s[full - 1] = 'x';
		s[full] = '\0';
		gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, who, client, topic, NULL, 0,
		                1);
		cr_assert_eq(gf_audit_pop(a, &ev), 1);
		cr_assert_eq(ev.truncated, 1, "field %d", which);
		cr_assert_eq(strlen(which == 0   ? ev.who
		                    : which == 1 ? ev.client_id
		                                 : ev.topic),
		             full - 1);
		cr_assert_eq(gf_audit_event_json(a, &ev, "site1", buf, sizeof(buf)), GF_OK);
		cr_assert_not_null(strstr(buf, "\"truncated\":true"), "%s", buf);
		cr_assert(json_object_valid(buf), "%s", buf);
		s[full - 1] = '\0';
	}
}

/* --- JSON documents --------------------------------------------------------- */

Test(audit, event_json_exact)
{
	struct gf_audit_event ev;
	char buf[1024];

	gf_audit_record(a, GF_REASON_SPOOF, GF_ACCESS_WRITE, "foa.7-PRE-001", "foa.7-PRE-001@1",
	                "gf/site1/foa/7-PRE-002/fman/f1/flexoffer", NULL, 1700000000, 1);
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_eq(gf_audit_event_json(a, &ev, "site1", buf, sizeof(buf)), GF_OK);
	cr_assert_str_eq(buf, "{\"time\":1700000000,\"site\":\"site1\",\"msgid\":\"GF-ACL-SPOOF\","
	                      "\"reason\":\"the sender levels are not the publisher's own "
	                      "identity\",\"access\":\"write\",\"who\":\"foa.7-PRE-001\","
	                      "\"clientId\":\"foa.7-PRE-001@1\",\"topic\":\"gf/site1/foa/7-PRE-"
	                      "002/fman/f1/flexoffer\",\"truncated\":false,\"dropped\":0}");
	cr_assert(json_object_valid(buf));
}

Test(audit, event_json_connect_refusal)
{
	struct gf_audit_event ev;
	char buf[1024];

	gf_audit_record(a, GF_REASON_AUTH_USER, 0, "nodot", "cid", NULL, NULL, 5, 1);
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_eq(gf_audit_event_json(a, &ev, "s", buf, sizeof(buf)), GF_OK);
	cr_assert_not_null(strstr(buf, "\"access\":\"connect\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"msgid\":\"GF-AUTH-USER\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"topic\":\"\""), "%s", buf);
	cr_assert(json_object_valid(buf), "%s", buf);
}

Test(audit, event_json_every_reason_and_access_is_valid)
{
	static const int accesses[] = {0, GF_ACCESS_READ, GF_ACCESS_WRITE, GF_ACCESS_SUBSCRIBE,
	                               GF_ACCESS_UNSUBSCRIBE};
	struct gf_audit_event ev;
	char buf[1024];

	for (int r = 0; r < GF_REASON_COUNT; r++) {
		for (size_t i = 0; i < sizeof(accesses) / sizeof(accesses[0]); i++) {
			memset(&ev, 0, sizeof(ev));
			ev.reason = (enum gf_reason)r;
			ev.access = (enum gf_access)accesses[i];
			strcpy(ev.who, "a\"b");
			cr_assert_eq(gf_audit_event_json(a, &ev, "site1", buf, sizeof(buf)), GF_OK);
			cr_assert(json_object_valid(buf), "reason %d: %s", r, buf);
			cr_assert_not_null(strstr(buf, gf_reason_msgid((enum gf_reason)r)));
		}
	}
}

Test(audit, event_json_escapes)
{
	struct gf_audit_event ev;
	char buf[1024];

	gf_audit_record(a, GF_REASON_TOPIC, GF_ACCESS_WRITE, "q\"b\\s", "c\n\x01", "t\xff/\xc3\xa9",
	                NULL, 0, 1);
	cr_assert_eq(gf_audit_pop(a, &ev), 1);
	cr_assert_eq(gf_audit_event_json(a, &ev, "si\"te", buf, sizeof(buf)), GF_OK);
	cr_assert(json_object_valid(buf), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"site\":\"si\\\"te\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"who\":\"q\\\"b\\\\s\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"clientId\":\"c\\u000a\\u0001\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"topic\":\"t\\ufffd/\xc3\xa9\""), "%s", buf);
}

/* audit.h: "1 KiB always suffices" for gf_audit_event_json. The fields are
 * cut to 79, 95 and 255 bytes, but escaping doubles '"' and '\\' (both valid
 * in MQTT usernames, client ids and topics), and makes a control character or
 * an invalid byte six bytes. */
Test(audit, event_json_worst_case_fits_4k)
{
	struct gf_audit_event ev;
	char *big = malloc(8192);
	char buf[4096];
	enum gf_err rc_big, rc;
	size_t need;

	cr_assert_not_null(big);
	memset(&ev, 0, sizeof(ev));
	ev.time = -9223372036854775807LL - 1;
	ev.reason = GF_REASON_NOROW; /* the longest reason text */
	ev.access = GF_ACCESS_UNSUBSCRIBE;
	memset(ev.who, '"', sizeof(ev.who) - 1);
	memset(ev.client_id, '\\', sizeof(ev.client_id) - 1);
	memset(ev.topic, '\\', sizeof(ev.topic) - 1);
	ev.truncated = 1;
	rc_big = gf_audit_event_json(a, &ev, "site1", big, 8192);
	need = strlen(big) + 1;
	cr_assert(json_object_valid(big));
	rc = gf_audit_event_json(a, &ev, "site1", buf, sizeof(buf));
	free(big);
	cr_assert_eq(rc_big, GF_OK);
	cr_assert_eq(rc, GF_OK, "an event of MQTT-valid strings needs %zu bytes, more than 4 KiB",
	             need);
}

Test(audit, stats_json)
{
	static const char *const msgids[] = {
#define MSGID(name, msgid, text) msgid,
	    GF_REASON_MAP(MSGID)
#undef MSGID
	};
	char buf[4096], key[64];

	gf_audit_record(a, GF_REASON_ALLOW, GF_ACCESS_READ, "w", "c", "t", NULL, 0, 1);
	gf_audit_record(a, GF_REASON_ALLOW, GF_ACCESS_READ, "w", "c", "t", NULL, 0, 1);
	for (int i = 0; i < GF_AUDIT_RING + 3; i++)
		gf_audit_record(a, GF_REASON_BRIDGE, GF_ACCESS_WRITE, "w", "c", "t", NULL, 0, 1);
	gf_audit_record(a, GF_REASON_AUTH_REVOKED, 0, "w", "c", NULL, NULL, 0, 0);

	cr_assert_eq(gf_audit_stats_json(a, "site1", 1700000000, 42, buf, sizeof(buf)), GF_OK);
	cr_assert(json_object_valid(buf), "%s", buf);
	cr_assert_eq(strncmp(buf,
	                     "{\"time\":1700000000,\"site\":\"site1\",\"clients\":42,"
	                     "\"auditDropped\":3,\"decisions\":{",
	                     strlen("{\"time\":1700000000,\"site\":\"site1\",\"clients\":42,"
	                            "\"auditDropped\":3,\"decisions\":{")),
	             0, "%s", buf);
	cr_assert_eq(sizeof(msgids) / sizeof(msgids[0]), (size_t)GF_REASON_COUNT);
	for (int r = 0; r < GF_REASON_COUNT; r++) {
		unsigned long long expect = r == GF_REASON_ALLOW          ? 2
		                            : r == GF_REASON_BRIDGE       ? GF_AUDIT_RING + 3
		                            : r == GF_REASON_AUTH_REVOKED ? 1
		                                                          : 0;
		snprintf(key, sizeof(key), "\"%s\":%llu", msgids[r], expect);
		const char *at = strstr(buf, key);
		cr_assert_not_null(at, "%s missing in %s", key, buf);
		cr_assert(at[strlen(key)] == ',' || at[strlen(key)] == '}', "%s", key);
	}
	cr_assert_eq(strcmp(buf + strlen(buf) - 2, "}}"), 0, "%s", buf);
}

Test(audit, stats_json_4k_suffices_and_too_small)
{
	char buf[4096], small[64];

	for (int r = 0; r < GF_REASON_COUNT; r++)
		a->count[r] = UINT64_MAX;
	a->dropped = UINT64_MAX;
	cr_assert_eq(gf_audit_stats_json(
	                 a, "a-site-name-of-sixty-four-characters-xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	                 -9223372036854775807LL - 1, (size_t)-1, buf, sizeof(buf)),
	             GF_OK);
	cr_assert(json_object_valid(buf), "%s", buf);
	cr_assert_eq(gf_audit_stats_json(a, "site1", 0, 0, small, sizeof(small)), GF_ETOOLONG);
	cr_assert_lt(strlen(small), sizeof(small));
}

/* --- gf_json_put_string ------------------------------------------------------ */

static void put_string_is(const char *in, const char *expect)
{
	char buf[512];
	size_t pos = 0;

	cr_assert_eq(gf_json_put_string(buf, sizeof(buf), &pos, in), GF_OK);
	cr_assert_str_eq(buf, expect);
	cr_assert_eq(pos, strlen(expect));
}

Test(json_string, plain_and_escapes)
{
	put_string_is("", "\"\"");
	put_string_is("abc/def", "\"abc/def\"");
	put_string_is("a\"b", "\"a\\\"b\"");
	put_string_is("a\\b", "\"a\\\\b\"");
	put_string_is("\"\\\"", "\"\\\"\\\\\\\"\"");
	put_string_is("\n\r\t\b\f", "\"\\u000a\\u000d\\u0009\\u0008\\u000c\"");
	put_string_is("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	put_string_is(" ~", "\" ~\"");
}

Test(json_string, utf8)
{
	/* Valid sequences of 2, 3 and 4 bytes pass through. */
	put_string_is("\xc3\xa9", "\"\xc3\xa9\"");
	put_string_is("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	put_string_is("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	put_string_is("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");
	put_string_is("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	/* Invalid bytes become U+FFFD, one per byte. */
	put_string_is("\xff", "\"\\ufffd\"");
	put_string_is("a\x80z", "\"a\\ufffdz\"");
	put_string_is("\xc3", "\"\\ufffd\"");                       /* cut short */
	put_string_is("\xc3(", "\"\\ufffd(\"");                     /* bad continuation */
	put_string_is("\xc0\x80", "\"\\ufffd\\ufffd\"");            /* overlong NUL */
	put_string_is("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""); /* overlong '/' */
	put_string_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	put_string_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	put_string_is("\xf5", "\"\\ufffd\"");
	put_string_is("\xe2\x82", "\"\\ufffd\\ufffd\"");
}

Test(json_string, appends_at_pos)
{
	char buf[64] = "{\"k\":";
	size_t pos = strlen(buf);

	cr_assert_eq(gf_json_put_string(buf, sizeof(buf), &pos, "v"), GF_OK);
	cr_assert_str_eq(buf, "{\"k\":\"v\"");
	cr_assert_eq(pos, 8);
}

Test(json_string, too_small)
{
	char buf[16];
	size_t pos;

	/* "abc" needs 5 characters plus the NUL. */
	memcpy(buf, "XY", 3);
	pos = 2;
	cr_assert_eq(gf_json_put_string(buf, 8, &pos, "abc"), GF_OK);
	cr_assert_str_eq(buf, "XY\"abc\"");
	pos = 2;
	cr_assert_eq(gf_json_put_string(buf, 7, &pos, "abc"), GF_ETOOLONG);
	cr_assert_eq(pos, 2, "pos restored");
	cr_assert_str_eq(buf, "XY", "cut back to where it started");
	pos = 2;
	cr_assert_eq(gf_json_put_string(buf, 10, &pos, "\x01"), GF_ETOOLONG); /* needs 10+1 */
	cr_assert_eq(pos, 2);
	cr_assert_str_eq(buf, "XY");
	pos = 2;
	cr_assert_eq(gf_json_put_string(buf, 2, &pos, "a"), GF_ETOOLONG, "no room at all");
	cr_assert_eq(pos, 2);
}
