/* SPDX-License-Identifier: MIT */
/* libFuzzer target: smart-plug messages. The input is "<topic>\n<payload>";
 * whatever gf_plug_parse accepts must be a valid device with finite,
 * non-negative readings, and a command for that device must build. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/plug.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char topic[256], err[256], ctopic[128], cpayload[8];
	const uint8_t *nl = memchr(data, '\n', size);
	struct gf_plug_msg m;

	if (!nl || (size_t)(nl - data) >= sizeof topic)
		return 0;
	memcpy(topic, data, (size_t)(nl - data));
	topic[nl - data] = '\0';
	const uint8_t *payload = nl + 1;
	size_t len = size - (size_t)(payload - data);
	if (gf_plug_parse(topic, payload, len, &m, err, sizeof err) != GF_OK)
		return 0;
	if (!gf_plug_device_valid(m.device) || m.count < 1 || m.count > 2)
		abort();
	for (size_t i = 0; i < m.count; i++) {
		double v = m.reading[i].value;
		if (!isfinite(v) || v < 0)
			abort();
		if (m.reading[i].kind == GF_PLUG_RELAY && v != 0 && v != 1)
			abort();
	}
	if (gf_plug_command(m.conv, m.device, 1, ctopic, sizeof ctopic, cpayload,
	                    sizeof cpayload) != GF_OK)
		abort();
	return 0;
}
