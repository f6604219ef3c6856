/* SPDX-License-Identifier: MIT */
/* Unit tests of gf_message_read (lib/agent/message.h): the topic's parts,
 * the schema found from the msg level, the Content Type's format, and a
 * reason for each thing that cannot be read. Encoding and sending are
 * exercised by the agents' integration tests. */
#include <criterion/criterion.h>

#include <string.h>

#include "agent/message.h"
#include "leak_check.h"
#include "meter.pb-c.h"

TestSuite(message, .fini = leak_check);

static struct gf_inbox_item item(const char *topic, const char *ct, const char *payload)
{
	struct gf_inbox_item it;

	memset(&it, 0, sizeof(it));
	it.kind = GF_INBOX_MESSAGE;
	it.topic = (char *)topic;
	it.content_type = (char *)ct;
	it.payload = (unsigned char *)payload;
	it.len = strlen(payload);
	return it;
}

Test(message, reads_topic_and_payload)
{
	struct gf_inbox_item it =
	    item("gf/site1/foa/7-PRE-001/fman/all/meter.reading", "application/json",
	         "{\"readings\":[{\"observedTimestamp\":\"2020-02-27T20:15:00.000+0000\","
	         "\"deviceId\":\"d1\",\"value\":1.5}]}");
	struct gf_message m;
	Goflex__MeterReadings *r;
	char err[256] = "";

	cr_assert_eq(gf_message_read(&it, &m, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_str_eq(m.msg, "meter.reading");
	cr_assert_str_eq(m.from_id, "7-PRE-001");
	cr_assert_str_eq(m.to_id, "all");
	cr_assert_eq(m.topic.from_role, GF_ROLE_FOA);
	cr_assert_eq(m.topic.to_role, GF_ROLE_FMAN);
	r = (Goflex__MeterReadings *)m.body;
	cr_assert_eq(r->n_readings, 1);
	cr_assert_str_eq(r->readings[0]->deviceid, "d1");
	cr_assert_str_eq(r->readings[0]->observedtimestamp, "2020-02-27T20:15:00Z");
	gf_message_free(&m);
}

Test(message, says_why_it_cannot_read)
{
	struct {
		const char *topic, *ct, *payload, *why;
	} cases[] = {
	    {"gf/site1/foa/a/fman", NULL, "{}", "not exactly seven levels"},
	    {"gf/site1/foa/a/fman/all/no.such.msg", NULL, "{}", "no.such.msg has no schema"},
	    {"gf/site1/foa/a/fman/all/meter.reading", "text/plain", "{}", "unknown Content Type"},
	    {"gf/site1/foa/a/fman/all/meter.reading", NULL, "{\"readings\":[{}]}", "readings"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gf_inbox_item it = item(cases[i].topic, cases[i].ct, cases[i].payload);
		struct gf_message m;
		char err[256] = "";

		cr_assert_neq(gf_message_read(&it, &m, err, sizeof(err)), GF_OK, "case %zu", i);
		cr_assert(strstr(err, cases[i].why) != NULL, "case %zu: '%s'", i, err);
	}
}
