/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the inbox log reader (lib/agent/inbox.c): the log an
 * agent finds in its state directory after a crash is input it did not
 * write in one piece. The first 8 bytes are the done mark (inbox.done), the
 * rest the log (inbox.log). Opening must never crash or read out of bounds;
 * every message it replays must be above the done mark, in sequence order,
 * with its lengths as the buffers say; a torn tail is cut off, so a second
 * open replays the same messages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/inbox.h"

static char dir[64];

static void put(const char *name, const uint8_t *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (len && fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
}

static size_t replay_all(uint64_t done, uint64_t *sum)
{
	struct gf_inbox *in = NULL;
	struct gf_inbox_item *it;
	uint64_t last = 0;
	size_t n = 0;
	char err[256];

	if (gf_inbox_open(dir, &in, NULL, err, sizeof(err)) != GF_OK)
		return 0;
	while ((it = gf_inbox_take(in)) != NULL) {
		if (it->kind != GF_INBOX_MESSAGE || !it->replayed || it->seq <= done ||
		    it->seq <= last || strlen(it->topic) > 65536 || it->payload[it->len] != '\0')
			abort();
		last = it->seq;
		*sum += it->seq + it->len;
		n++;
		gf_inbox_release(in, it);
	}
	gf_inbox_close(in);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t done = 0, first = 0, second = 0;
	size_t a, b;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/gf-inbox-fuzz-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	if (size >= 8)
		memcpy(&done, data, 8);
	put("inbox.done", data, size >= 8 ? 8 : 0);
	put("inbox.log", data + (size >= 8 ? 8 : size), size >= 8 ? size - 8 : 0);
	a = replay_all(done, &first);
	b = replay_all(done, &second);
	if (a != b || first != second)
		abort();
	return 0;
}
