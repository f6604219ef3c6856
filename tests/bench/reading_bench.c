/* SPDX-License-Identifier: MIT */
/*
 * reading_bench - the meter path's local work (lib/meter/) on a generated
 * DMS export of ROWS rows (1000 meters read every 15 minutes for about ten
 * days, Europe/Nicosia local time, across the 2024 fall-back hour), as
 * rows per second and as ratios against the floor measured in the same
 * run: reading the file in 64 KiB chunks and finding its newlines
 * (memchr), what any line reader pays.
 *
 *   reader dms      gf_reading_feed/next over the file in 64 KiB chunks
 *   reader json     the same rows as a GOFLEX JSON array
 *   + tz + resolve  the DMS rows, each converted to UTC (gf_tz_to_utc) and
 *                   resolved against its meter's previous reading
 *   resample        each meter's 96 reads of one day to 96 15-minute
 *                   intervals (gf_resample_register)
 *
 *   reading_bench [rows]   (default 1000000; each figure the best of 3)
 *
 * The end-to-end goal of the meter path (issue 12) is 50,000 readings/s;
 * the reader has to be far above it. Exit 1 only if a row is rejected or
 * resolves to the wrong instant; nothing is asserted about time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "meter/reading.h"
#include "meter/resample.h"
#include "meter/resolve.h"
#include "meter/tz.h"

#define METERS 1000
#define CHUNK  (64 * 1024)
#define REPS   3
#define START  1729900800LL /* 2024-10-26T00:00:00Z */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Row i: meter i % METERS at START + (i / METERS) * 900 s, written in
 * local time; its register grows by a little every 15 minutes. */
static int64_t row_time(size_t i)
{
	return START + (int64_t)(i / METERS) * 900;
}

static double row_value(size_t i)
{
	size_t m = i % METERS, k = i / METERS;
	return 10000.0 + (double)m + (double)k * (0.05 + 0.001 * (double)(m % 50));
}

/* Writes the export into f: dms CSV or the JSON array. Returns bytes. */
static size_t generate(FILE *f, size_t rows, bool json)
{
	long start = ftell(f);

	if (json)
		fputs("[\n", f);
	for (size_t i = 0; i < rows; i++) {
		time_t t = (time_t)row_time(i);
		struct tm tm;
		char ts[32];

		localtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		if (json)
			fprintf(f,
			        "%s{\"observed_timestamp\": \"%s\", \"device_id\": \"MTR%06zu\", "
			        "\"value\": %.4f}",
			        i ? ",\n" : "", ts, i % METERS, row_value(i));
		else
			fprintf(f, "\"MTR%06zu\",%s,%.4f\n", i % METERS, ts, row_value(i));
	}
	if (json)
		fputs("\n]\n", f);
	fflush(f);
	return (size_t)(ftell(f) - start);
}

struct run {
	size_t rows, bad;
};

/* mode 0: newlines only; 1: reader; 2: reader + tz + resolve. */
static struct run pass(const char *path, enum gf_reading_format fmt, int mode)
{
	static char buf[CHUNK];
	static struct gf_resolve_prev prev[METERS];
	struct gf_reading_reader *r = NULL;
	struct run out = {0, 0};
	FILE *f = fopen(path, "rb");
	size_t n;
	bool eof = false;

	if (f == NULL || (mode > 0 && gf_reading_reader_new(fmt, NULL, 0, 1, &r) != GF_OK))
		exit(2);
	memset(prev, 0, sizeof(prev));
	while (!eof) {
		struct gf_reading_row row;

		n = fread(buf, 1, sizeof(buf), f);
		eof = n < sizeof(buf);
		if (mode == 0) {
			for (const char *p = buf, *e = buf + n;
			     (p = memchr(p, '\n', (size_t)(e - p))); p++)
				out.rows++;
			continue;
		}
		if (gf_reading_feed(r, buf, n, eof) != GF_OK)
			exit(2);
		while (gf_reading_next(r, &row)) {
			if (!row.ok) {
				out.bad++;
				continue;
			}
			if (mode == 2) {
				size_t m = (size_t)atoi(row.device + 3);
				int64_t cand[2], t;
				int k = gf_tz_to_utc(&row.local, cand);
				if (gf_resolve_time(GF_RESOLVE_REGISTER, cand, k, &prev[m],
				                    row.value, &t) != NULL ||
				    t != row_time(out.rows)) {
					out.bad++;
				} else {
					prev[m] = (struct gf_resolve_prev){true, t, row.value};
				}
			}
			out.rows++;
		}
	}
	gf_reading_reader_free(r);
	fclose(f);
	return out;
}

static double best(const char *path, enum gf_reading_format fmt, int mode, size_t want, int *fail)
{
	double b = 1e30;

	for (int k = 0; k < REPS; k++) {
		double t0 = now_s();
		struct run r = pass(path, fmt, mode);
		double dt = now_s() - t0;

		if (r.rows != want || r.bad != 0) {
			fprintf(stderr, "reading_bench: %zu rows, %zu bad (want %zu)\n", r.rows,
			        r.bad, want);
			*fail = 1;
		}
		b = dt < b ? dt : b;
	}
	return b;
}

static double bench_resample(void)
{
	enum { N = 96 };
	static struct gf_resample_point p[N + 1];
	static double out[N];
	double b = 1e30, sink = 0;

	for (int k = 0; k < REPS; k++) {
		double t0 = now_s();
		for (size_t m = 0; m < 10 * METERS; m++) {
			for (size_t i = 0; i <= N; i++)
				p[i] = (struct gf_resample_point){
				    (START + (int64_t)i * 900) * 1000 + (int64_t)(m % 900) * 1000,
				    row_value(i * METERS + m % METERS)};
			if (gf_resample_register(p, N + 1, START * 1000, 900000, N, out) != GF_OK)
				exit(2);
			sink += out[N / 2];
		}
		double dt = now_s() - t0;
		b = dt < b ? dt : b;
	}
	if (sink != sink)
		fprintf(stderr, "(unexpected NAN)\n");
	return b;
}

int main(int argc, char **argv)
{
	size_t rows = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
	char csv[] = "/tmp/gf-reading-bench-XXXXXX", json[] = "/tmp/gf-reading-bench-XXXXXX";
	int fd1, fd2, fail = 0;
	FILE *f1, *f2;
	size_t csv_bytes, json_bytes;
	double floor_s, dms_s, json_s, tz_s, rs_s;

	if (gf_tz_open("Europe/Nicosia", NULL, 0) != GF_OK)
		return 2;
	fd1 = mkstemp(csv);
	fd2 = mkstemp(json);
	if (fd1 < 0 || fd2 < 0 || !(f1 = fdopen(fd1, "w+")) || !(f2 = fdopen(fd2, "w+")))
		return 2;
	csv_bytes = generate(f1, rows, false);
	json_bytes = generate(f2, rows, true);
	fclose(f1);
	fclose(f2);

	floor_s = best(csv, GF_READING_DMS, 0, rows, &fail);
	dms_s = best(csv, GF_READING_DMS, 1, rows, &fail);
	json_s = best(json, GF_READING_JSON, 1, rows, &fail);
	tz_s = best(csv, GF_READING_DMS, 2, rows, &fail);
	rs_s = bench_resample();
	unlink(csv);
	unlink(json);

	printf("meter reader, %zu rows (%.1f MB DMS CSV, %.1f MB JSON), best of %d\n", rows,
	       (double)csv_bytes / 1e6, (double)json_bytes / 1e6, REPS);
	printf("  %-22s %10.0f rows/s %8.1f MB/s   1.00\n", "newlines (floor)",
	       (double)rows / floor_s, (double)csv_bytes / 1e6 / floor_s);
	printf("  %-22s %10.0f rows/s %8.1f MB/s  %5.2f x floor time\n", "reader dms",
	       (double)rows / dms_s, (double)csv_bytes / 1e6 / dms_s, dms_s / floor_s);
	printf("  %-22s %10.0f rows/s %8.1f MB/s  %5.2f x floor time\n", "reader json",
	       (double)rows / json_s, (double)json_bytes / 1e6 / json_s, json_s / floor_s);
	printf("  %-22s %10.0f rows/s %8.1f MB/s  %5.2f x floor time\n", "dms + tz + resolve",
	       (double)rows / tz_s, (double)csv_bytes / 1e6 / tz_s, tz_s / floor_s);
	printf("  %-22s %10.0f meter-days/s (96 reads -> 96 intervals)\n", "resample register",
	       10.0 * METERS / rs_s);
	printf("  goal of the whole path: 50000 readings/s; dms + tz + resolve is %.0fx that\n",
	       (double)rows / tz_s / 50000.0);
	return fail;
}
