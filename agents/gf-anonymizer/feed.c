/* SPDX-License-Identifier: MIT */
#include "feed.h"
#include "agent/kpi.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/once.h"
#include "base/log.h"
#include "meter/resample.h"
#include "meter/tz.h"
#include "topology.h"

#define CHUNK         (64 * 1024)
#define SLICE_BATCHES 16

const char anonymizer_feed_schema[] =
    "CREATE TABLE IF NOT EXISTS anon_file (name TEXT PRIMARY KEY, dev INTEGER NOT NULL,"
    " ino INTEGER NOT NULL, offset INTEGER NOT NULL, line INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS anon_meter (class_id TEXT PRIMARY KEY, t INTEGER NOT NULL,"
    " v REAL NOT NULL);"
    "CREATE TABLE IF NOT EXISTS anon_state (k TEXT PRIMARY KEY, v INTEGER NOT NULL);";

/* --- the queue of files to read ------------------------------------------- */

static void queue_clear(struct anonymizer *an)
{
	for (size_t i = 0; i < an->nqueue; i++)
		free(an->queue[i]);
	free(an->queue);
	an->queue = NULL;
	an->nqueue = an->qpos = 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names a DMS uses while it writes, and ours. */
static bool skipped(const struct anonymizer *an, const char *name)
{
	size_t n = strlen(name);
	const char *q = an->conf->quarantine_file, *slash = q ? strrchr(q, '/') : NULL;

	if (name[0] == '.' || n >= sizeof(an->src->name))
		return true;
	if ((n > 4 && strcmp(name + n - 4, ".tmp") == 0) ||
	    (n > 5 && strcmp(name + n - 5, ".part") == 0))
		return true;
	return q && strcmp(slash ? slash + 1 : q, name) == 0;
}

static void queue_scan(struct anonymizer *an)
{
	DIR *d = opendir(an->conf->input_dir);
	struct dirent *e;
	size_t cap = 0;

	queue_clear(an);
	an->rescan = false;
	if (!d) {
		gf_log_err("GF-ANON-INPUT", "cannot read input_dir %s: %s", an->conf->input_dir,
		           strerror(errno));
		return;
	}
	while ((e = readdir(d))) {
		char **names;

		if (skipped(an, e->d_name))
			continue;
		if (an->nqueue == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(an->queue, cap * sizeof(*names));
			if (!names)
				break;
			an->queue = names;
		}
		an->queue[an->nqueue] = strdup(e->d_name);
		if (an->queue[an->nqueue])
			an->nqueue++;
	}
	closedir(d);
	if (an->nqueue)
		qsort(an->queue, an->nqueue, sizeof(*an->queue), by_name);
}

/* --- sources ---------------------------------------------------------------- */

static void source_close(struct anonymizer *an)
{
	struct anonymizer_source *s = an->src;

	if (!s)
		return;
	if (s->fd > 0 && !s->is_stdin)
		close(s->fd);
	gf_reading_reader_free(s->reader);
	free(s);
	an->src = NULL;
}

static enum gf_err reader_at(struct anonymizer *an, struct anonymizer_source *s)
{
	gf_reading_reader_free(s->reader);
	s->reader = NULL;
	s->read_to = s->offset;
	return gf_reading_reader_new(an->format, an->format == GF_READING_CSV ? &an->csv : NULL,
	                             s->offset, s->offset ? (size_t)s->line : 1, &s->reader);
}

/* Opens input file name if it has rows after its committed offset: *out
 * set, or NULL when there is nothing new. */
static enum gf_err source_open(struct anonymizer *an, const char *name,
                               struct anonymizer_source **out)
{
	struct anonymizer_source *s = calloc(1, sizeof(*s));
	sqlite3_stmt *st = NULL;
	struct stat sb;
	char path[4096];
	enum gf_err rc = GF_ENOMEM;

	*out = NULL;
	if (!s)
		return GF_ENOMEM;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", an->conf->input_dir, name);
	s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->fd < 0 || fstat(s->fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = GF_OK; /* gone, a link or a directory: not an export */
		goto out;
	}
	s->dev = (uint64_t)sb.st_dev;
	s->ino = (uint64_t)sb.st_ino;
	s->size = (uint64_t)sb.st_size;
	st = gf_store_prepare(an->store,
	                      "SELECT dev, ino, offset, line FROM anon_file WHERE name = ?");
	if (!st) {
		rc = GF_EIO;
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		uint64_t dev = (uint64_t)sqlite3_column_int64(st, 0);
		uint64_t ino = (uint64_t)sqlite3_column_int64(st, 1);
		uint64_t off = (uint64_t)sqlite3_column_int64(st, 2);

		if (dev == s->dev && ino == s->ino && off <= s->size) {
			s->offset = off;
			s->line = (uint64_t)sqlite3_column_int64(st, 3);
		} else {
			/* Replaced or cut: read it whole again; gf-sp drops what it has. */
			gf_log_warning("GF-ANON-REREAD",
			               "%s was replaced or truncated since it was read: reading it "
			               "again from the start",
			               name);
		}
	}
	if (s->offset >= s->size && s->size > 0) {
		rc = GF_OK;
		goto out;
	}
	rc = reader_at(an, s);
	if (rc != GF_OK)
		goto out;
	s->next_progress = gf_simclock_real_now() + (double)an->conf->progress_s;
	*out = s;
	s = NULL;
out:
	sqlite3_finalize(st);
	if (s) {
		if (s->fd >= 0)
			close(s->fd);
		free(s);
	}
	return rc;
}

static enum gf_err stdin_open(struct anonymizer *an)
{
	struct anonymizer_source *s = calloc(1, sizeof(*s));

	if (!s)
		return GF_ENOMEM;
	snprintf(s->name, sizeof(s->name), "-");
	s->is_stdin = true;
	s->fd = STDIN_FILENO;
	an->src = s;
	return reader_at(an, s);
}

/* The next file with rows to read (or NULL). */
static enum gf_err next_source(struct anonymizer *an)
{
	enum gf_err rc;

	if (an->rescan)
		queue_scan(an);
	while (an->qpos < an->nqueue) {
		rc = source_open(an, an->queue[an->qpos++], &an->src);
		if (rc != GF_OK || an->src)
			return rc;
	}
	return GF_OK;
}

/* A file still written to: its last line may be cut. */
static bool settled(const struct anonymizer *an, const struct anonymizer_source *s)
{
	struct stat sb;

	if (an->once || s->is_stdin)
		return true;
	if (fstat(s->fd, &sb) != 0)
		return true;
	/* to the nanosecond: whole seconds would settle a file written at
	 * x.9 s at x+settle_s, up to a second early */
	return (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9 +
	           (double)an->conf->settle_s <=
	       gf_simclock_real_now();
}

/* --- rows ------------------------------------------------------------------- */

static enum gf_err quarantine(struct anonymizer *an, const char *reason, uint64_t line)
{
	an->counts.quarantined++;
	an->src->counts.quarantined++;
	return anonymizer_quarantine_add(&an->quarantine, an->src->name, line, reason);
}

static void prev_set(struct anonymizer *an, long i, int64_t t, double v)
{
	an->prev[i] = (struct gf_resolve_prev){true, t, v};
	if (!an->prev_dirty[i]) {
		an->prev_dirty[i] = true;
		an->dirty[an->ndirty++] = (size_t)i;
	}
}

/* One row: a reading in the batch, or a quarantined row. */
static enum gf_err take_row(struct anonymizer *an, const struct gf_reading_row *row)
{
	int64_t cand[2], t = 0, ms;
	const char *why;
	long i;
	int n;

	an->counts.rows++;
	an->src->counts.rows++;
	if (!row->ok)
		return quarantine(an, row->why, row->line);
	i = anonymizer_idmap_find(an->ids, row->device, strlen(row->device));
	if (i < 0)
		return quarantine(an, "meter id not in id_map", row->line);
	if (row->has_utc) {
		ms = row->utc_ms;
		t = ms / 1000;
	} else {
		n = gf_tz_to_utc(&row->local, cand);
		if (n < 0)
			return quarantine(an, "time out of range", row->line);
		why = gf_resolve_time(an->kind, cand, n, &an->prev[i], row->value, &t);
		if (why)
			return quarantine(an, why, row->line);
		ms = t * 1000;
	}
	if (!anonymizer_batch_add(&an->batch, an->pseudonyms[i], ms, row->value))
		return quarantine(an, "time out of range", row->line);
	if (an->kind == GF_RESOLVE_REGISTER && (!an->prev[i].have || t >= an->prev[i].t))
		prev_set(an, i, t, row->value);
	return GF_OK;
}

enum fill { FILL_FULL, FILL_WAIT, FILL_END };

/* Reads rows into the batch until it is full (FULL), the input has no more
 * for now (WAIT: a file's unsettled last line, stdin without data) or the
 * source is read to its end (END). *upto, *line: the end of the last row. */
static enum gf_err fill(struct anonymizer *an, enum fill *how, uint64_t *upto, uint64_t *line)
{
	struct anonymizer_source *s = an->src;
	struct gf_reading_row row;
	static char buf[CHUNK];
	enum gf_err rc;

	for (;;) {
		ssize_t n;
		bool eof;

		while (an->batch.n < an->batch.cap && gf_reading_next(s->reader, &row)) {
			rc = take_row(an, &row);
			if (rc != GF_OK)
				return rc;
			*upto = row.end;
			*line = row.end_line;
		}
		if (an->batch.n == an->batch.cap) {
			*how = FILL_FULL;
			return GF_OK;
		}
		if (s->is_stdin)
			n = read(s->fd, buf, sizeof(buf));
		else
			n = pread(s->fd, buf, sizeof(buf), (off_t)s->read_to);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			*how = FILL_WAIT;
			return GF_OK;
		}
		if (n < 0) {
			gf_log_err("GF-ANON-INPUT", "cannot read %s: %s", s->name, strerror(errno));
			*how = FILL_END;
			return GF_OK;
		}
		if (n == 0 && s->size == UINT64_MAX) {
			*how = FILL_END; /* eof was given to the reader: it is done */
			return GF_OK;
		}
		eof = n == 0 && settled(an, s);
		if (n == 0 && !eof) {
			*how = FILL_WAIT;
			return GF_OK;
		}
		rc = gf_reading_feed(s->reader, buf, (size_t)n, eof);
		if (rc != GF_OK)
			return rc;
		s->read_to += (uint64_t)n;
		if (eof)
			s->size = UINT64_MAX; /* marks: everything was handed over */
	}
}

/* --- committing ------------------------------------------------------------- */

struct commit {
	struct anonymizer *an;
	uint64_t upto, line;
	char *jwe;
	size_t len;
};

/* The last readings of the meters the batch moved, by classification id. */
static enum gf_err save_meters(struct anonymizer *an)
{
	sqlite3_stmt *st = gf_store_prepare(
	    an->store, "INSERT OR REPLACE INTO anon_meter (class_id, t, v) VALUES (?1, ?2, ?3)");
	enum gf_err rc = st ? GF_OK : GF_EIO;

	for (size_t k = 0; rc == GF_OK && k < an->ndirty; k++) {
		size_t i = an->dirty[k];
		const char *pid, *cid;

		anonymizer_idmap_entry(an->ids, i, &pid, &cid);
		sqlite3_bind_text(st, 1, cid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, an->prev[i].t);
		sqlite3_bind_double(st, 3, an->prev[i].v);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = GF_EIO;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc;
}

static enum gf_err commit_rows(void *arg)
{
	struct commit *c = arg;
	struct anonymizer *an = c->an;
	struct anonymizer_source *s = an->src;
	enum gf_err rc = GF_OK;

	if (!s->is_stdin)
		rc = gf_store_run(an->store,
		                  "INSERT OR REPLACE INTO anon_file (name, dev, ino, offset, line)"
		                  " VALUES (?1, ?2, ?3, ?4, ?5)",
		                  "tiiii", s->name, (int64_t)s->dev, (int64_t)s->ino,
		                  (int64_t)c->upto, (int64_t)c->line);
	if (rc == GF_OK && an->ndirty)
		rc = save_meters(an);
	if (rc == GF_OK)
		rc = gf_store_run(
		    an->store,
		    "INSERT OR REPLACE INTO anon_state (k, v) VALUES ('quarantine_size', ?1)", "i",
		    (int64_t)an->quarantine.size);
	if (rc == GF_OK && c->jwe)
		rc = gf_store_outbox_add(an->store, an->topic, c->jwe, c->len, "application/jose",
		                         false);
	return rc;
}

/* Seals the batch and commits it with the source's progress. */
static enum gf_err commit(struct anonymizer *an, uint64_t upto, uint64_t line)
{
	struct commit c = {.an = an, .upto = upto, .line = line};
	char err[512];
	enum gf_err rc;

	if (an->batch.n) {
		rc = anonymizer_batch_seal(&an->batch, an->key.id, an->inner, an->to, &c.jwe,
		                           &c.len, err, sizeof(err));
		if (rc != GF_OK) {
			gf_log_err("GF-ANON-SEAL", "%s", err);
			gf_agent_fail(an->a, "cannot seal a batch");
			return rc;
		}
	}
	rc = anonymizer_quarantine_sync(&an->quarantine, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-ANON-QUARANTINE", "%s", err);
		gf_agent_fail(an->a, "cannot write the quarantine file");
		free(c.jwe);
		return rc;
	}
	rc = gf_store_once(an->a, an->store, NULL, commit_rows, NULL, &c);
	free(c.jwe);
	if (rc != GF_OK)
		return rc;
	for (size_t k = 0; k < an->ndirty; k++)
		an->prev_dirty[an->dirty[k]] = false;
	an->ndirty = 0;
	an->src->offset = upto;
	an->src->line = line;
	if (an->batch.n) {
		an->counts.sent += an->batch.n;
		an->src->counts.sent += an->batch.n;
		gf_kpi_count(an->a, "anon.readings_sent", (double)an->batch.n, NULL);
		an->counts.batches++;
	}
	anonymizer_batch_clear(&an->batch);
	gf_store_outbox_flush(an->store, gf_agent_bus(an->a));
	return GF_OK;
}

static void progress(struct anonymizer *an, bool final)
{
	struct anonymizer_source *s = an->src;
	double now = gf_simclock_real_now();

	if (final) {
		gf_log_notice("GF-ANON-FILE", "%s: %llu rows, %llu sent, %llu quarantined", s->name,
		              (unsigned long long)s->counts.rows,
		              (unsigned long long)s->counts.sent,
		              (unsigned long long)s->counts.quarantined);
		return;
	}
	if (now < s->next_progress)
		return;
	s->next_progress = now + (double)an->conf->progress_s;
	if (s->is_stdin)
		gf_log_notice("GF-ANON-PROGRESS", "stdin: %llu rows so far",
		              (unsigned long long)s->counts.rows);
	else
		gf_log_notice("GF-ANON-PROGRESS", "%s: %.0f%% (%llu of %llu bytes), %llu rows",
		              s->name,
		              s->read_to && s->size && s->size != UINT64_MAX
		                  ? 100.0 * (double)s->offset / (double)s->size
		                  : 100.0,
		              (unsigned long long)s->offset,
		              (unsigned long long)(s->size == UINT64_MAX ? s->read_to : s->size),
		              (unsigned long long)s->counts.rows);
}

/* --- the pump --------------------------------------------------------------- */

static void summary(const struct anonymizer *an, char *buf, size_t size);

static void pump_later(struct gf_agent *a, void *arg)
{
	struct anonymizer *an = gf_agent_data(a);

	(void)arg;
	an->pump_armed = false;
	anonymizer_feed_pump(an);
}

static void poll_tick(struct gf_agent *a, void *arg)
{
	struct anonymizer *an = gf_agent_data(a);

	(void)arg;
	an->poll_timer = gf_agent_timer_at(
	    a,
	    gf_simclock_at(gf_agent_clock(a),
	                   gf_simclock_real_now() + (double)an->conf->poll_ms / 1000.0),
	    poll_tick, NULL);
	/* inotify says when a file is new or written; a look every poll_ms is
	 * for a file whose cut last line waits to settle, and for no inotify. */
	if (an->inotify_fd < 0 || an->unsettled)
		an->rescan = true;
	anonymizer_topology_poll(an);
	anonymizer_feed_pump(an);
}

static void inotify_ready(struct gf_agent *a, void *arg)
{
	struct anonymizer *an = gf_agent_data(a);
	char buf[4096];

	(void)arg;
	while (read(an->inotify_fd, buf, sizeof(buf)) > 0)
		;
	an->rescan = true;
	anonymizer_feed_pump(an);
}

static void stdin_ready(struct gf_agent *a, void *arg)
{
	(void)arg;
	anonymizer_feed_pump(gf_agent_data(a));
}

/* One slice: true when there is more to do at once. */
static bool slice(struct anonymizer *an)
{
	for (int b = 0; b < SLICE_BATCHES; b++) {
		uint64_t upto, line;
		enum fill how;

		if (gf_store_outbox_count(an->store) >= (size_t)an->conf->max_unacked)
			return false; /* the acknowledgements call the pump again */
		if (!an->src) {
			if (an->input_done)
				return false;
			if (next_source(an) != GF_OK) {
				gf_agent_fail(an->a, "cannot read the input's progress");
				return false;
			}
			if (!an->src) {
				an->input_done = an->once; /* --once: what was there is done */
				an->unsettled = false;
				return false;
			}
		}
		upto = an->src->offset;
		line = an->src->line;
		if (fill(an, &how, &upto, &line) != GF_OK)
			return false;
		if ((an->batch.n || upto != an->src->offset) && commit(an, upto, line) != GF_OK)
			return false;
		progress(an, false);
		if (how == FILL_FULL)
			continue;
		if (how == FILL_END) {
			bool was_stdin = an->src->is_stdin;

			progress(an, true);
			source_close(an);
			if (was_stdin)
				an->input_done = true;
			continue;
		}
		/* WAIT: a file's cut last line waits for the next look; the
		 * other files do not wait for it. */
		if (!an->src->is_stdin) {
			an->unsettled = true;
			source_close(an);
			continue;
		}
		return false;
	}
	return true;
}

void anonymizer_feed_pump(struct anonymizer *an)
{
	char line[1024];

	if (an->pumping)
		return;
	an->pumping = true;
	if (slice(an) && !an->pump_armed)
		an->pump_armed =
		    gf_agent_timer_at(an->a, gf_agent_now(an->a), pump_later, NULL) != 0;
	an->pumping = false;
	if (an->once && !an->finished && an->input_done && !an->src &&
	    gf_store_outbox_count(an->store) == 0) {
		an->finished = true; /* the drain's events come here again */
		summary(an, line, sizeof(line));
		gf_log_notice("GF-ANON-SUMMARY", "%s", line);
		printf("%s\n", line);
		fflush(stdout);
		gf_agent_quit(an->a, 0);
	}
}

static void summary(const struct anonymizer *an, char *buf, size_t size)
{
	char reasons[768];

	anonymizer_quarantine_reasons(&an->quarantine, reasons, sizeof(reasons));
	snprintf(buf, size, "rows read %llu, sent %llu in %llu messages, quarantined %llu%s%s%s",
	         (unsigned long long)an->counts.rows, (unsigned long long)an->counts.sent,
	         (unsigned long long)an->counts.batches, (unsigned long long)an->counts.quarantined,
	         reasons[0] ? " (" : "", reasons, reasons[0] ? ")" : "");
}

/* --- start ------------------------------------------------------------------ */

static enum gf_err load_meters(struct anonymizer *an)
{
	sqlite3_stmt *st = gf_store_prepare(an->store, "SELECT class_id, t, v FROM anon_meter");
	size_t n = anonymizer_idmap_count(an->ids);
	int step;

	if (!st)
		return GF_EIO;
	/* By classification id: the map may have changed since. */
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cid = gf_store_text(st, 0);

		for (size_t i = 0; i < n; i++) {
			const char *p, *c;

			anonymizer_idmap_entry(an->ids, i, &p, &c);
			if (strcmp(c, cid) == 0)
				an->prev[i] =
				    (struct gf_resolve_prev){true, sqlite3_column_int64(st, 1),
				                             sqlite3_column_double(st, 2)};
		}
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? GF_OK : GF_EIO;
}

static uint64_t committed_quarantine(struct anonymizer *an)
{
	sqlite3_stmt *st =
	    gf_store_prepare(an->store, "SELECT v FROM anon_state WHERE k = 'quarantine_size'");
	uint64_t v = 0;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

enum gf_err anonymizer_feed_start(struct anonymizer *an, char *err, size_t errlen)
{
	bool use_stdin = strcmp(an->conf->input_dir, "-") == 0;
	enum gf_err rc;

	an->inotify_fd = -1;
	an->rescan = true;
	rc = load_meters(an);
	if (rc != GF_OK)
		return gf_err_set(err, errlen, rc, "cannot read the meters' last readings");
	rc = anonymizer_quarantine_open(&an->quarantine, an->conf->quarantine_file,
	                                committed_quarantine(an), err, errlen);
	if (rc != GF_OK)
		return rc;
	if (use_stdin) {
		int fl = fcntl(STDIN_FILENO, F_GETFL);

		if (!an->once && fl >= 0)
			fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
		rc = stdin_open(an);
		if (rc == GF_OK && !an->once)
			rc = gf_agent_watch(an->a, STDIN_FILENO, stdin_ready, NULL);
		if (rc != GF_OK)
			return gf_err_set(err, errlen, rc, "cannot read stdin");
	} else {
		DIR *d = opendir(an->conf->input_dir);

		if (!d)
			return gf_err_set(err, errlen, GF_ENOENT, "input_dir %s: %s",
			                  an->conf->input_dir, strerror(errno));
		closedir(d);
		if (!an->once) {
			an->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
			if (an->inotify_fd >= 0 &&
			    (inotify_add_watch(an->inotify_fd, an->conf->input_dir,
			                       IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY) < 0 ||
			     gf_agent_watch(an->a, an->inotify_fd, inotify_ready, NULL) != GF_OK)) {
				gf_log_warning(
				    "GF-ANON-INPUT",
				    "cannot watch %s (%s): looking every poll_ms instead",
				    an->conf->input_dir, strerror(errno));
				close(an->inotify_fd);
				an->inotify_fd = -1;
			}
		}
	}
	if (!an->once)
		poll_tick(an->a, NULL);
	return GF_OK;
}

void anonymizer_feed_stop(struct anonymizer *an)
{
	source_close(an);
	queue_clear(an);
	if (an->inotify_fd >= 0)
		close(an->inotify_fd);
	an->inotify_fd = -1;
	anonymizer_quarantine_close(&an->quarantine);
}
