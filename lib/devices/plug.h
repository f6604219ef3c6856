/* SPDX-License-Identifier: MIT */
/*
 * plug.h - the two smart-plug MQTT conventions people deploy, as pure
 * functions on topics and payload bytes (the FOA's device-controller mode,
 * issue 5 item 2; the agent does the MQTT).
 *
 * Tasmota:    cmnd/<topic>/POWER  ON|OFF                (command)
 *             stat/<topic>/POWER  ON|OFF                (relay state)
 *             tele/<topic>/STATE  {"POWER":"ON",...}    (relay state)
 *             tele/<topic>/SENSOR {"ENERGY":{"Total":kWh,"Power":W,...}}
 * Shelly Gen1: shellies/<id>/relay/0/command  on|off    (command)
 *             shellies/<id>/relay/0         on|off|overpower (relay state)
 *             shellies/<id>/relay/0/power   W, decimal text
 *             shellies/<id>/relay/0/energy  Watt-minutes, integer text
 *
 * Energy is always kWh here (Shelly: Wmin / 60000). Both energy values are
 * the plug's cumulative counter (Shelly's restarts at 0 on reboot); the
 * caller takes differences. Examples in docs/devices.md.
 */
#ifndef GF_PLUG_H
#define GF_PLUG_H

#include <stddef.h>

#include "base/err.h"

#define GF_PLUG_ID_MAX 64 /* longest device topic/id, bytes */

enum gf_plug_conv {
	GF_PLUG_TASMOTA = 1,
	GF_PLUG_SHELLY,
};

enum gf_plug_kind {
	GF_PLUG_RELAY = 1, /* value 1 on, 0 off */
	GF_PLUG_POWER,     /* value W, >= 0 */
	GF_PLUG_ENERGY,    /* value kWh, >= 0, cumulative */
};

struct gf_plug_reading {
	enum gf_plug_kind kind;
	double value;
};

/* One incoming message: a Tasmota SENSOR carries two readings (energy, then
 * power when present), everything else one. */
struct gf_plug_msg {
	enum gf_plug_conv conv;
	char device[GF_PLUG_ID_MAX + 1];
	size_t count;
	struct gf_plug_reading reading[2];
};

/* Nonzero if device is usable as a Tasmota topic or Shelly id: 1..64 bytes
 * of printable ASCII other than space, '/', '+' and '#'. */
int gf_plug_device_valid(const char *device);

/*
 * Writes the command that switches the plug on (on != 0) or off, as
 * NUL-terminated strings, into topic (topiclen bytes) and payload
 * (payloadlen bytes). GF_EINVAL for an unknown convention or an invalid
 * device, GF_ETOOLONG when a buffer is too small; both untouched on failure.
 */
enum gf_err gf_plug_command(enum gf_plug_conv conv, const char *device, int on, char *topic,
                            size_t topiclen, char *payload, size_t payloadlen);

/*
 * Classifies and parses one incoming message (payload: len bytes, not
 * NUL-terminated) into *out. GF_ENOENT when the topic is not one of the
 * messages above (ignore it); GF_EPARSE for a malformed payload and
 * GF_ERANGE for a negative or non-finite value, both with a sentence in err
 * (may be NULL; truncated to errlen). *out untouched on failure.
 */
enum gf_err gf_plug_parse(const char *topic, const void *payload, size_t len,
                          struct gf_plug_msg *out, char *err, size_t errlen);

#endif
