/* SPDX-License-Identifier: MIT */
/*
 * plug.c - Tasmota and Shelly Gen1 smart-plug messages (plug.h).
 *
 * Plugs sit on the prosumer's local broker, where anything can publish: every
 * payload is treated as hostile. Numbers must be exactly what the firmware
 * sends (no signs, spaces or trailing bytes in Shelly's text values, plain
 * JSON numbers in Tasmota's), and nothing negative or non-finite passes.
 */
#include "devices/plug.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAYLOAD_MAX 8192 /* a Tasmota SENSOR message is well under 2 KiB */

static int device_valid_n(const char *s, size_t n)
{
	if (n == 0 || n > GF_PLUG_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == '+' || c == '#')
			return 0;
	}
	return 1;
}

int gf_plug_device_valid(const char *device)
{
	return device && device_valid_n(device, strnlen(device, GF_PLUG_ID_MAX + 1));
}

enum gf_err gf_plug_command(enum gf_plug_conv conv, const char *device, int on, char *topic,
                            size_t topiclen, char *payload, size_t payloadlen)
{
	const char *pre, *post, *word;

	if (!topic || !payload || !gf_plug_device_valid(device))
		return GF_EINVAL;
	switch (conv) {
	case GF_PLUG_TASMOTA:
		pre = "cmnd/";
		post = "/POWER";
		word = on ? "ON" : "OFF";
		break;
	case GF_PLUG_SHELLY:
		pre = "shellies/";
		post = "/relay/0/command";
		word = on ? "on" : "off";
		break;
	default:
		return GF_EINVAL;
	}
	if (strlen(pre) + strlen(device) + strlen(post) >= topiclen || strlen(word) >= payloadlen)
		return GF_ETOOLONG;
	snprintf(topic, topiclen, "%s%s%s", pre, device, post);
	snprintf(payload, payloadlen, "%s", word);
	return GF_OK;
}

/* --- topics ------------------------------------------------------------------- */

enum what { W_NONE, W_STAT_POWER, W_TELE_STATE, W_TELE_SENSOR, W_RELAY, W_POWER, W_ENERGY };

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* If s is <pre><device><post> with a valid device, stores the device and
 * returns 1. */
static int split(const char *s, const char *pre, const char *post, const char **dev, size_t *n)
{
	size_t ls = strlen(s), lp = strlen(pre), lq = strlen(post);

	if (ls <= lp + lq || !has_prefix(s, pre) || strcmp(s + ls - lq, post) != 0)
		return 0;
	*dev = s + lp;
	*n = ls - lp - lq;
	return device_valid_n(*dev, *n);
}

static enum what classify(const char *topic, enum gf_plug_conv *conv, const char **dev, size_t *n)
{
	static const struct {
		const char *pre, *post;
		enum gf_plug_conv conv;
		enum what what;
	} forms[] = {
	    {"stat/", "/POWER", GF_PLUG_TASMOTA, W_STAT_POWER},
	    {"tele/", "/STATE", GF_PLUG_TASMOTA, W_TELE_STATE},
	    {"tele/", "/SENSOR", GF_PLUG_TASMOTA, W_TELE_SENSOR},
	    {"shellies/", "/relay/0", GF_PLUG_SHELLY, W_RELAY},
	    {"shellies/", "/relay/0/power", GF_PLUG_SHELLY, W_POWER},
	    {"shellies/", "/relay/0/energy", GF_PLUG_SHELLY, W_ENERGY},
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
		if (split(topic, forms[i].pre, forms[i].post, dev, n)) {
			*conv = forms[i].conv;
			return forms[i].what;
		}
	return W_NONE;
}

/* --- payloads ----------------------------------------------------------------- */

static int is_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Shelly's decimal text: digits, optionally '.' and digits; a leading '-'
 * is recognised only to say that the value is negative. */
static enum gf_err shelly_number(const char *s, size_t n, int integer, double *v, char *err,
                                 size_t errlen)
{
	int neg = n > 0 && s[0] == '-';
	const char *d = s + neg, *dot;
	size_t m = n - (size_t)neg;

	dot = integer ? NULL : memchr(d, '.', m);
	int ok =
	    dot ? is_digits(d, (size_t)(dot - d)) && is_digits(dot + 1, m - (size_t)(dot - d) - 1)
	        : is_digits(d, m);
	if (!ok || m > 20)
		return gf_err_set(err, errlen, GF_EPARSE, "expected %s, got '%.*s'",
		                  integer ? "a whole number" : "a decimal number",
		                  (int)(n > 32 ? 32 : n), s);
	if (neg)
		return gf_err_set(err, errlen, GF_ERANGE, "negative value '%.*s'",
		                  (int)(n > 32 ? 32 : n), s);
	*v = strtod(d, NULL);
	if (!isfinite(*v))
		return gf_err_set(err, errlen, GF_ERANGE, "value out of range");
	return GF_OK;
}

static enum gf_err relay_word(const char *s, size_t n, const char *on, const char *off,
                              const char *extra_off, double *v, char *err, size_t errlen)
{
	if (n == strlen(on) && memcmp(s, on, n) == 0)
		*v = 1;
	else if ((n == strlen(off) && memcmp(s, off, n) == 0) ||
	         (extra_off && n == strlen(extra_off) && memcmp(s, extra_off, n) == 0))
		*v = 0;
	else
		return gf_err_set(err, errlen, GF_EPARSE,
		                  "relay state must be %s or %s, got '%.*s'", on, off,
		                  (int)(n > 32 ? 32 : n), s);
	return GF_OK;
}

static enum gf_err json_value(const cJSON *obj, const char *name, int required, double *v,
                              int *found, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	*found = 0;
	if (!it)
		return required ? gf_err_set(err, errlen, GF_EPARSE, "ENERGY has no %s", name)
		                : GF_OK;
	if (!cJSON_IsNumber(it))
		return gf_err_set(err, errlen, GF_EPARSE, "ENERGY.%s is not a single number", name);
	if (!isfinite(it->valuedouble) || it->valuedouble < 0)
		return gf_err_set(err, errlen, GF_ERANGE, "ENERGY.%s must be finite and >= 0",
		                  name);
	*v = it->valuedouble;
	*found = 1;
	return GF_OK;
}

static enum gf_err tasmota_json(enum what w, const char *text, size_t n, struct gf_plug_msg *m,
                                char *err, size_t errlen)
{
	cJSON *root = NULL;
	const cJSON *obj;
	const char *end = NULL;
	enum gf_err rc;
	int found;

	root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
	if (!root || !cJSON_IsObject(root)) {
		rc = gf_err_set(err, errlen, GF_EPARSE, "payload is not a JSON object");
		goto out;
	}
	for (; end && end < text + n; end++)
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
			rc = gf_err_set(err, errlen, GF_EPARSE, "bytes after the JSON object");
			goto out;
		}
	if (w == W_TELE_STATE) {
		obj = cJSON_GetObjectItemCaseSensitive(root, "POWER");
		if (!cJSON_IsString(obj)) {
			rc = gf_err_set(err, errlen, GF_EPARSE, "STATE has no POWER string");
			goto out;
		}
		m->count = 1;
		m->reading[0].kind = GF_PLUG_RELAY;
		rc = relay_word(obj->valuestring, strlen(obj->valuestring), "ON", "OFF", NULL,
		                &m->reading[0].value, err, errlen);
		goto out;
	}
	obj = cJSON_GetObjectItemCaseSensitive(root, "ENERGY");
	if (!cJSON_IsObject(obj)) {
		rc = gf_err_set(err, errlen, GF_EPARSE, "SENSOR has no ENERGY object");
		goto out;
	}
	m->count = 1;
	m->reading[0].kind = GF_PLUG_ENERGY;
	rc = json_value(obj, "Total", 1, &m->reading[0].value, &found, err, errlen);
	if (rc != GF_OK)
		goto out;
	m->reading[1].kind = GF_PLUG_POWER;
	rc = json_value(obj, "Power", 0, &m->reading[1].value, &found, err, errlen);
	if (rc == GF_OK && found)
		m->count = 2;
out:
	cJSON_Delete(root);
	return rc;
}

enum gf_err gf_plug_parse(const char *topic, const void *payload, size_t len,
                          struct gf_plug_msg *out, char *err, size_t errlen)
{
	char text[PAYLOAD_MAX + 1];
	struct gf_plug_msg m;
	enum gf_plug_conv conv = GF_PLUG_TASMOTA;
	const char *dev = NULL;
	size_t devlen = 0;
	enum gf_err rc;

	if (!topic || (!payload && len) || !out)
		return gf_err_set(err, errlen, GF_EINVAL, "missing argument");
	enum what w = classify(topic, &conv, &dev, &devlen);
	if (w == W_NONE)
		return gf_err_set(err, errlen, GF_ENOENT, "not a plug status topic");
	if (len > PAYLOAD_MAX)
		return gf_err_set(err, errlen, GF_EPARSE, "payload over %d bytes", PAYLOAD_MAX);
	if (len && memchr(payload, '\0', len))
		return gf_err_set(err, errlen, GF_EPARSE, "NUL byte in payload");
	if (len)
		memcpy(text, payload, len);
	text[len] = '\0';
	memset(&m, 0, sizeof m);
	m.conv = conv;
	memcpy(m.device, dev, devlen);
	m.count = 1;
	switch (w) {
	case W_STAT_POWER:
		m.reading[0].kind = GF_PLUG_RELAY;
		rc = relay_word(text, len, "ON", "OFF", NULL, &m.reading[0].value, err, errlen);
		break;
	case W_RELAY:
		/* A Gen1 relay that tripped on overpower reports "overpower": off. */
		m.reading[0].kind = GF_PLUG_RELAY;
		rc = relay_word(text, len, "on", "off", "overpower", &m.reading[0].value, err,
		                errlen);
		break;
	case W_POWER:
		m.reading[0].kind = GF_PLUG_POWER;
		rc = shelly_number(text, len, 0, &m.reading[0].value, err, errlen);
		break;
	case W_ENERGY:
		/* Watt-minutes to kWh. */
		m.reading[0].kind = GF_PLUG_ENERGY;
		rc = shelly_number(text, len, 1, &m.reading[0].value, err, errlen);
		m.reading[0].value /= 60000.0;
		break;
	default:
		rc = tasmota_json(w, text, len, &m, err, errlen);
	}
	if (rc == GF_OK)
		*out = m;
	return rc;
}
