/* SPDX-License-Identifier: MIT */
/*
 * anonymizer.h - gf-anonymizer's configuration and state, shared by its
 * files (docs/anonymizer.md). main.c is the root: options, start, events;
 * feed.c reads the exports and commits batches; quarantine.c keeps the
 * bad rows; batch.c builds and seals a message; idmap.c is the DMS's map;
 * commands.c the DMS-side commands: reverse, pseudonyms; topology.c the
 * feeder's topology (grid.topology).
 */
#ifndef ANONYMIZER_H
#define ANONYMIZER_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/store.h"
#include "anon/pseudonym.h"
#include "anon/seal.h"
#include "batch.h"
#include "idmap.h"
#include "meter/reading.h"
#include "meter/resolve.h"
#include "quarantine.h"

struct anonymizer_conf {
	struct gf_agent_conf agent;
	char *input_dir, *format, *csv_sep, *value_kind, *timezone;
	bool csv_decimal_comma, csv_header;
	long csv_col_device, csv_col_time, csv_col_value;
	char *id_map, *hmac_key_file, *hmac_key_id, *sp_public_key, *sp_kid, *sp_id;
	char *quarantine_file, *inner_format;
	char *topology_dir, *topology_meters, *grid_point_id;
	long batch_max, max_unacked, poll_ms, settle_s, progress_s, outbox_hold_s;
};

/* Counts of this run (the summary line). */
struct anonymizer_counts {
	uint64_t rows, sent, quarantined, batches;
};

/* The input being read: a file of input_dir at a committed offset, or stdin. */
struct anonymizer_source {
	char name[256]; /* the file's name in input_dir, or "-" */
	int fd;
	bool is_stdin;
	uint64_t dev, ino;
	uint64_t offset;  /* committed: every row before it is in a batch or quarantined */
	uint64_t line;    /* lines before offset */
	uint64_t read_to; /* bytes handed to the reader */
	uint64_t size;    /* at the last look */
	struct gf_reading_reader *reader;
	struct anonymizer_counts counts;
	double next_progress; /* real time of the next progress line */
};

/* The topology's publisher (topology.c). */
struct anonymizer_topo {
	char topic[512]; /* "" until started */
	uint64_t sig;    /* the files' inode, size and mtime at the last look */
	size_t members;  /* metered loads of the last document read */
};

struct anonymizer {
	struct gf_agent *a;
	struct anonymizer_conf *conf;
	struct gf_store *store;
	struct anonymizer_idmap *ids;
	char (*pseudonyms)[GF_PSEUDONYM_LEN + 1]; /* per id_map entry */
	struct gf_resolve_prev *prev;             /* per id_map entry: the last reading */
	bool *prev_dirty;                         /* per id_map entry: changed since the commit */
	size_t *dirty, ndirty;                    /* their indices */
	struct gf_pseudonym_key key;
	struct gf_seal_to *to;
	enum gf_reading_format format;
	enum gf_codec_format inner; /* of the sealed document */
	struct gf_reading_csv csv;
	enum gf_resolve_kind kind;
	char topic[512];
	struct anonymizer_batch batch;
	struct anonymizer_quarantine quarantine;
	struct anonymizer_source *src; /* NULL: none open */
	char **queue;                  /* input_dir's names, sorted, at the last look */
	size_t nqueue, qpos;
	bool rescan;    /* look at input_dir again before the next file */
	bool unsettled; /* a file's last line was cut: look again at the next poll */
	bool pump_armed;
	struct anonymizer_counts counts; /* of the whole run */
	bool once, input_done, pumping, finished;
	int inotify_fd;
	uint64_t poll_timer;
	struct anonymizer_topo topo;
};

#endif
