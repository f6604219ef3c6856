/* SPDX-License-Identifier: MIT */
/* libFuzzer target: gfctl site check's reading of mosquitto.conf
 * (tools/gfctl/siteconf.h). Whatever the text, the scan must stay within its
 * fields: every string NUL-terminated inside its field, at most
 * GFCTL_SITECONF_LISTENERS listeners, each listener's line within the text's
 * line count; and splitting a line never moves past its end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "siteconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gfctl_siteconf c;
	char line[256], *key, *val;
	size_t i, lines = 1;

	gfctl_siteconf_scan((const char *)data, size, &c);
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (!TERMINATED(c.plugin) || !TERMINATED(c.site) || !TERMINATED(c.exchange) ||
	    !TERMINATED(c.crl) || !TERMINATED(c.validate) || !TERMINATED(c.persist_dir))
		abort();
	if (c.nl > GFCTL_SITECONF_LISTENERS || (c.anon && (size_t)c.anon_line > lines))
		abort();
	for (i = 0; i < c.nl; i++)
		if (!TERMINATED(c.ls[i].port) || !TERMINATED(c.ls[i].bind) || c.ls[i].line < 1 ||
		    (size_t)c.ls[i].line > lines)
			abort();

	i = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
	memcpy(line, data, i);
	line[i] = '\0';
	if (gfctl_siteconf_split(line, &key, &val)) {
		if (key < line || key > line + i || val < line || val > line + i || !*key ||
		    strlen(val) > i)
			abort();
	}
	return 0;
}
