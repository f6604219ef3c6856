/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the meter export reader (lib/meter/reading.h): the
 * same bytes as a DMS CSV, as two configurable CSVs (';' with decimal comma
 * and a header; tab with the columns moved) and as a JSON array. For each,
 * the rows read whole, one byte at a time and in chunks of sizes drawn from
 * the input must be the same; ends strictly increase and stay within the
 * input, lines and end lines are consistent; an accepted row has a device id
 * of the allowed length without control characters and a finite value; and
 * a reader resumed at a row's end (first, middle, last) gives exactly the
 * rows after it. Any difference aborts.
 *
 * GF_FUZZ_FORMAT=dms|csv|json limits a run to one format (both CSVs for
 * csv), so that each can have the whole time.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meter/reading.h"

struct rows {
	struct gf_reading_row *v;
	size_t n, cap;
};

/* A small generator for chunk sizes, seeded from the input (FNV-1a). */
static uint64_t seed_of(const uint8_t *data, size_t size)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	return h | 1;
}

static size_t next_chunk(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	/* mostly small, sometimes around the line limit */
	return (*s & 7) == 0 ? (size_t)(*s >> 8) % (2 * GF_READING_LINE_MAX) + 1
	                     : (size_t)(*s >> 8) % 17 + 1;
}

static void push(struct rows *r, const struct gf_reading_row *row)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		if (r->v == NULL)
			abort();
	}
	r->v[r->n++] = *row;
}

/* chunk 0: whole; SIZE_MAX: sizes from *seed. */
static struct rows read_rows(enum gf_reading_format f, const struct gf_reading_csv *o,
                             const uint8_t *data, size_t size, size_t chunk, uint64_t seed,
                             uint64_t start, size_t first_line)
{
	struct gf_reading_reader *r = NULL;
	struct gf_reading_row row;
	struct rows out = {NULL, 0, 0};
	size_t pos = 0;

	if (gf_reading_reader_new(f, o, start, first_line, &r) != GF_OK)
		abort();
	do {
		size_t n = chunk == 0 ? size : chunk == SIZE_MAX ? next_chunk(&seed) : chunk;
		if (n > size - pos)
			n = size - pos;
		if (gf_reading_feed(r, (const char *)data + pos, n, pos + n == size) != GF_OK)
			abort();
		pos += n;
		while (gf_reading_next(r, &row))
			push(&out, &row);
	} while (pos < size);
	if (gf_reading_next(r, &row))
		abort(); /* rows after the end */
	gf_reading_reader_free(r);
	return out;
}

static void same_rows(const struct gf_reading_row *a, const struct gf_reading_row *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].ok != b[i].ok || strcmp(a[i].why, b[i].why) != 0 ||
		    a[i].line != b[i].line || a[i].end != b[i].end ||
		    a[i].end_line != b[i].end_line || strcmp(a[i].device, b[i].device) != 0 ||
		    a[i].has_utc != b[i].has_utc || a[i].utc_ms != b[i].utc_ms ||
		    memcmp(&a[i].local, &b[i].local, sizeof(a[i].local)) != 0 ||
		    memcmp(&a[i].value, &b[i].value, sizeof(a[i].value)) != 0)
			abort();
	}
}

static void check_rows(const struct rows *r, size_t size, size_t first_line, uint64_t start)
{
	uint64_t last = start;
	size_t line = first_line;

	for (size_t i = 0; i < r->n; i++) {
		const struct gf_reading_row *w = &r->v[i];
		size_t dev = strnlen(w->device, sizeof(w->device));

		if (w->end <= last || w->end > start + size || w->line < line ||
		    w->end_line < w->line || w->why[sizeof(w->why) - 1] != '\0' ||
		    dev == sizeof(w->device))
			abort();
		if (w->ok) {
			if (dev == 0 || dev > GF_READING_DEVICE_MAX || !isfinite(w->value) ||
			    w->why[0] != '\0')
				abort();
			for (size_t k = 0; k < dev; k++)
				if ((unsigned char)w->device[k] < 0x20 || w->device[k] == 0x7f)
					abort();
		} else if (w->why[0] == '\0' || dev != 0) {
			abort();
		}
		last = w->end;
		line = w->end_line;
	}
}

static void one_format(enum gf_reading_format f, const struct gf_reading_csv *o,
                       const uint8_t *data, size_t size)
{
	uint64_t seed = seed_of(data, size);
	struct rows whole = read_rows(f, o, data, size, 0, 0, 0, 1);
	struct rows bytes = read_rows(f, o, data, size, 1, 0, 0, 1);
	struct rows drawn = read_rows(f, o, data, size, SIZE_MAX, seed, 0, 1);

	if (whole.n != bytes.n || whole.n != drawn.n)
		abort();
	same_rows(whole.v, bytes.v, whole.n);
	same_rows(whole.v, drawn.v, whole.n);
	check_rows(&whole, size, 1, 0);
	if (whole.n > 0) {
		size_t at[3] = {0, whole.n / 2, whole.n - 1};
		for (int k = 0; k < 3; k++) {
			const struct gf_reading_row *w = &whole.v[at[k]];
			struct rows rest =
			    read_rows(f, o, data + w->end, size - (size_t)w->end, SIZE_MAX,
			              seed + (uint64_t)k, w->end, w->end_line);
			if (rest.n != whole.n - at[k] - 1)
				abort();
			same_rows(whole.v + at[k] + 1, rest.v, rest.n);
			free(rest.v);
		}
	}
	free(whole.v);
	free(bytes.v);
	free(drawn.v);
}

static const char *only; /* GF_FUZZ_FORMAT */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	only = getenv("GF_FUZZ_FORMAT");
	return 0;
}

static int wanted(const char *name)
{
	return only == NULL || *only == '\0' || strcmp(only, name) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct gf_reading_csv semicolon = {';', true, true, 1, 2, 3};
	static const struct gf_reading_csv tab = {'\t', false, false, 2, 1, 3};

	if (wanted("dms"))
		one_format(GF_READING_DMS, NULL, data, size);
	if (wanted("csv")) {
		one_format(GF_READING_CSV, &semicolon, data, size);
		one_format(GF_READING_CSV, &tab, data, size);
	}
	if (wanted("json"))
		one_format(GF_READING_JSON, NULL, data, size);
	return 0;
}
