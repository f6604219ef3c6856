/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/devices/plug.h: commands and incoming messages of Tasmota and
 * Shelly Gen1 plugs, valid and malformed, as tables. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "devices/plug.h"

#include "leak_check.h"

TestSuite(plug, .fini = leak_check);

/* A Tasmota power-monitoring plug's telemetry, as the firmware sends it. */
#define TASMOTA_SENSOR                                                                             \
	"{\"Time\":\"2022-01-11T21:57:38\",\"ENERGY\":{\"TotalStartTime\":"                        \
	"\"2020-10-21T22:15:00\",\"Total\":3.705,\"Yesterday\":0.028,\"Today\":0.026,"             \
	"\"Period\":1,\"Power\":5,\"ApparentPower\":5,\"ReactivePower\":0,\"Factor\":1.00,"        \
	"\"Voltage\":233,\"Current\":0.021}}"

Test(plug, commands)
{
	char topic[96], payload[8];

	cr_assert_eq(gf_plug_command(GF_PLUG_TASMOTA, "boiler", 1, topic, sizeof topic, payload,
	                             sizeof payload),
	             GF_OK);
	cr_assert_str_eq(topic, "cmnd/boiler/POWER");
	cr_assert_str_eq(payload, "ON");
	cr_assert_eq(gf_plug_command(GF_PLUG_TASMOTA, "boiler", 0, topic, sizeof topic, payload,
	                             sizeof payload),
	             GF_OK);
	cr_assert_str_eq(payload, "OFF");
	cr_assert_eq(gf_plug_command(GF_PLUG_SHELLY, "shellyplug-s-C18B12", 1, topic, sizeof topic,
	                             payload, sizeof payload),
	             GF_OK);
	cr_assert_str_eq(topic, "shellies/shellyplug-s-C18B12/relay/0/command");
	cr_assert_str_eq(payload, "on");
	cr_assert_eq(
	    gf_plug_command(GF_PLUG_SHELLY, "x", 0, topic, sizeof topic, payload, sizeof payload),
	    GF_OK);
	cr_assert_str_eq(payload, "off");

	/* Refusals leave the buffers alone. */
	strcpy(topic, "untouched");
	cr_assert_eq(
	    gf_plug_command(GF_PLUG_SHELLY, "a/b", 1, topic, sizeof topic, payload, sizeof payload),
	    GF_EINVAL);
	cr_assert_eq(
	    gf_plug_command(GF_PLUG_TASMOTA, "+", 1, topic, sizeof topic, payload, sizeof payload),
	    GF_EINVAL);
	cr_assert_eq(
	    gf_plug_command(GF_PLUG_TASMOTA, "", 1, topic, sizeof topic, payload, sizeof payload),
	    GF_EINVAL);
	cr_assert_eq(gf_plug_command((enum gf_plug_conv)9, "a", 1, topic, sizeof topic, payload,
	                             sizeof payload),
	             GF_EINVAL);
	cr_assert_eq(gf_plug_command(GF_PLUG_SHELLY, "abc", 1, topic, 28, payload, sizeof payload),
	             GF_ETOOLONG); /* needs 29 bytes with the NUL */
	cr_assert_eq(gf_plug_command(GF_PLUG_TASMOTA, "abc", 0, topic, sizeof topic, payload, 3),
	             GF_ETOOLONG);
	cr_assert_str_eq(topic, "untouched");
	cr_assert_eq(gf_plug_command(GF_PLUG_SHELLY, "abc", 1, topic, 29, payload, sizeof payload),
	             GF_OK);
}

struct good {
	const char *topic, *payload;
	enum gf_plug_conv conv;
	const char *device;
	size_t count;
	enum gf_plug_kind kind0;
	double value0;
	enum gf_plug_kind kind1;
	double value1;
};

static const struct good goods[] = {
    {"stat/boiler/POWER", "ON", GF_PLUG_TASMOTA, "boiler", 1, GF_PLUG_RELAY, 1, 0, 0},
    {"stat/boiler/POWER", "OFF", GF_PLUG_TASMOTA, "boiler", 1, GF_PLUG_RELAY, 0, 0, 0},
    {"tele/tasmota_5A9AE8/STATE", "{\"Time\":\"2021-06-13T06:59:52\",\"POWER\":\"ON\"}",
     GF_PLUG_TASMOTA, "tasmota_5A9AE8", 1, GF_PLUG_RELAY, 1, 0, 0},
    {"tele/livingroom-lamp/SENSOR", TASMOTA_SENSOR, GF_PLUG_TASMOTA, "livingroom-lamp", 2,
     GF_PLUG_ENERGY, 3.705, GF_PLUG_POWER, 5},
    {"tele/p/SENSOR", " {\"ENERGY\":{\"Total\":0}} \n", GF_PLUG_TASMOTA, "p", 1, GF_PLUG_ENERGY, 0,
     0, 0},
    {"shellies/shelly1pm-BA1936/relay/0", "on", GF_PLUG_SHELLY, "shelly1pm-BA1936", 1,
     GF_PLUG_RELAY, 1, 0, 0},
    {"shellies/s/relay/0", "off", GF_PLUG_SHELLY, "s", 1, GF_PLUG_RELAY, 0, 0, 0},
    {"shellies/s/relay/0", "overpower", GF_PLUG_SHELLY, "s", 1, GF_PLUG_RELAY, 0, 0, 0},
    {"shellies/s/relay/0/power", "1843.57", GF_PLUG_SHELLY, "s", 1, GF_PLUG_POWER, 1843.57, 0, 0},
    {"shellies/s/relay/0/power", "0", GF_PLUG_SHELLY, "s", 1, GF_PLUG_POWER, 0, 0, 0},
    /* 120000 Wmin = 2 kWh */
    {"shellies/s/relay/0/energy", "120000", GF_PLUG_SHELLY, "s", 1, GF_PLUG_ENERGY, 2, 0, 0},
};

Test(plug, valid_messages)
{
	for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
		const struct good *g = &goods[i];
		struct gf_plug_msg m;
		char err[128] = "";
		cr_assert_eq(
		    gf_plug_parse(g->topic, g->payload, strlen(g->payload), &m, err, sizeof err),
		    GF_OK, "%s: %s", g->topic, err);
		cr_assert_eq(m.conv, g->conv, "%s", g->topic);
		cr_assert_str_eq(m.device, g->device);
		cr_assert_eq(m.count, g->count, "%s", g->topic);
		cr_assert_eq(m.reading[0].kind, g->kind0, "%s", g->topic);
		cr_assert_float_eq(m.reading[0].value, g->value0, 1e-12, "%s", g->topic);
		if (g->count > 1) {
			cr_assert_eq(m.reading[1].kind, g->kind1);
			cr_assert_float_eq(m.reading[1].value, g->value1, 1e-12);
		}
	}
}

struct bad {
	const char *topic, *payload;
	enum gf_err rc;
	const char *reason; /* a word the reason must contain */
};

static const struct bad bads[] = {
    /* Not ours: ignored. */
    {"cmnd/boiler/POWER", "ON", GF_ENOENT, "not a plug"},
    {"stat/boiler/POWER1", "ON", GF_ENOENT, "not a plug"},
    {"shellies/s/relay/0/command", "on", GF_ENOENT, "not a plug"},
    {"shellies/s/relay/1", "on", GF_ENOENT, "not a plug"},
    {"shellies/a/b/relay/0", "on", GF_ENOENT, "not a plug"},
    {"stat//POWER", "ON", GF_ENOENT, "not a plug"},
    {"gf/site/foa/1/fman/all/flexoffer", "{}", GF_ENOENT, "not a plug"},
    /* Relay words are exact. */
    {"stat/b/POWER", "on", GF_EPARSE, "relay state"},
    {"stat/b/POWER", "ON ", GF_EPARSE, "relay state"},
    {"shellies/s/relay/0", "ON", GF_EPARSE, "relay state"},
    {"shellies/s/relay/0", "", GF_EPARSE, "relay state"},
    {"tele/b/STATE", "{\"POWER\":\"TOGGLE\"}", GF_EPARSE, "relay state"},
    {"tele/b/STATE", "{\"POWER\":1}", GF_EPARSE, "POWER"},
    /* Shelly numbers. */
    {"shellies/s/relay/0/power", "-12.5", GF_ERANGE, "negative"},
    {"shellies/s/relay/0/power", "12.", GF_EPARSE, "decimal"},
    {"shellies/s/relay/0/power", "1e3", GF_EPARSE, "decimal"},
    {"shellies/s/relay/0/power", " 5", GF_EPARSE, "decimal"},
    {"shellies/s/relay/0/power", "nan", GF_EPARSE, "decimal"},
    {"shellies/s/relay/0/energy", "12.5", GF_EPARSE, "whole number"},
    {"shellies/s/relay/0/energy", "-1", GF_ERANGE, "negative"},
    {"shellies/s/relay/0/energy", "", GF_EPARSE, "whole number"},
    {"shellies/s/relay/0/energy", "123456789012345678901", GF_EPARSE, "whole number"},
    /* Tasmota JSON. */
    {"tele/b/SENSOR", "{\"ENERGY\":{\"Total\":-0.5,\"Power\":3}}", GF_ERANGE, "Total"},
    {"tele/b/SENSOR", "{\"ENERGY\":{\"Total\":1e999}}", GF_ERANGE, "Total"},
    {"tele/b/SENSOR", "{\"ENERGY\":{\"Total\":1,\"Power\":-3}}", GF_ERANGE, "Power"},
    {"tele/b/SENSOR", "{\"ENERGY\":{\"Total\":\"1\"}}", GF_EPARSE, "Total"},
    {"tele/b/SENSOR", "{\"ENERGY\":{\"Total\":1,\"Power\":[1,2]}}", GF_EPARSE, "single number"},
    {"tele/b/SENSOR", "{\"ENERGY\":{\"Power\":3}}", GF_EPARSE, "no Total"},
    {"tele/b/SENSOR", "{\"DHT11\":{\"Temperature\":23.0}}", GF_EPARSE, "no ENERGY"},
    {"tele/b/SENSOR", "{\"ENERGY\":{\"Total\":1}} x", GF_EPARSE, "after the JSON"},
    {"tele/b/SENSOR", "{\"ENERGY\":", GF_EPARSE, "JSON object"},
    {"tele/b/SENSOR", "[1]", GF_EPARSE, "JSON object"},
    {"tele/b/SENSOR", "", GF_EPARSE, "JSON object"},
};

Test(plug, malformed_messages_refused_with_a_reason)
{
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		const struct bad *b = &bads[i];
		struct gf_plug_msg m, before;
		char err[128] = "";
		memset(&m, 0x33, sizeof m);
		before = m;
		cr_assert_eq(
		    gf_plug_parse(b->topic, b->payload, strlen(b->payload), &m, err, sizeof err),
		    b->rc, "%s '%s': %s", b->topic, b->payload, err);
		cr_assert(strstr(err, b->reason), "%s '%s': reason '%s' lacks '%s'", b->topic,
		          b->payload, err, b->reason);
		cr_assert(memcmp(&m, &before, sizeof m) == 0, "%s: output touched", b->topic);
	}
}

Test(plug, bytes_and_lengths)
{
	struct gf_plug_msg m;
	char err[128] = "", big[9000];
	char id[GF_PLUG_ID_MAX + 2], topic[GF_PLUG_ID_MAX + 32];

	/* The payload is len bytes: no NUL needed, none allowed. */
	cr_assert_eq(gf_plug_parse("stat/b/POWER", "ONXYZ", 2, &m, err, sizeof err), GF_OK);
	cr_assert_eq(m.reading[0].value, 1);
	cr_assert_eq(gf_plug_parse("stat/b/POWER", "O\0N", 3, &m, err, sizeof err), GF_EPARSE);
	cr_assert(strstr(err, "NUL"), "%s", err);
	memset(big, ' ', sizeof big);
	cr_assert_eq(gf_plug_parse("tele/b/SENSOR", big, sizeof big, &m, err, sizeof err),
	             GF_EPARSE);
	cr_assert(strstr(err, "over"), "%s", err);
	/* The longest id passes, one more byte is not a plug topic. */
	memset(id, 'a', sizeof id);
	id[GF_PLUG_ID_MAX] = '\0';
	snprintf(topic, sizeof topic, "stat/%s/POWER", id);
	cr_assert_eq(gf_plug_parse(topic, "OFF", 3, &m, err, sizeof err), GF_OK);
	cr_assert_eq(strlen(m.device), GF_PLUG_ID_MAX);
	cr_assert(gf_plug_device_valid(id));
	id[GF_PLUG_ID_MAX] = 'a';
	id[GF_PLUG_ID_MAX + 1] = '\0';
	cr_assert(!gf_plug_device_valid(id));
	snprintf(topic, sizeof topic, "stat/%s/POWER", id);
	cr_assert_eq(gf_plug_parse(topic, "OFF", 3, &m, err, sizeof err), GF_ENOENT);
	cr_assert(!gf_plug_device_valid("a b"));
	cr_assert(!gf_plug_device_valid("a#"));
	cr_assert(!gf_plug_device_valid(NULL));
	cr_assert_eq(gf_plug_parse(NULL, "x", 1, &m, err, sizeof err), GF_EINVAL);
	cr_assert_eq(gf_plug_parse("stat/b/POWER", NULL, 0, &m, NULL, 0), GF_EPARSE);
}
