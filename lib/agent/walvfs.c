/* SPDX-License-Identifier: MIT */
#include "agent/walvfs.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A WAL frame's header (SQLite's file format: WAL_FRAME_HDRSIZE); bytes 4-7
 * hold the database's size in pages after a commit frame, 0 in the others. */
#define FRAME_HEAD 24

/* One open file: this struct, then the default VFS's own file. */
struct wfile {
	sqlite3_file base;
	sqlite3_file *real;
	bool wal;                  /* opened as a WAL: its writes may be kept back */
	sqlite3_int64 ended;       /* where the last operation, a write, ended; -1: not a write */
	sqlite3_int64 commit_page; /* where the page of the last commit header goes; -1: none */
};

static sqlite3_vfs walvfs, *parent;
/* The one run of writes kept back in the process: its file, where it
 * starts, its bytes. */
static unsigned char *run;
static struct wfile *holder;
static sqlite3_int64 run_at;
static size_t run_len;
static unsigned long long joined;

/* Writes the run kept back, whichever file it belongs to: every method of
 * every file that reads, writes, syncs, sizes, locks, maps or closes
 * begins here, so nothing SQLite does next (a read, the wal-index's barrier
 * and locks, which are the database file's, a checkpoint) comes before it.
 * (Only the sector size and device characteristics do not: they see no
 * content.) A run that cannot be written stays held, and every call
 * begins by trying again: the caller that gets the failure may not be
 * able to report it (the barrier, an unlock, another connection), but the
 * run's own transaction cannot go on, and cannot commit, without the
 * run written first. */
static int release_any(void)
{
	int rc;

	if (!holder)
		return SQLITE_OK;
	rc = holder->real->pMethods->xWrite(holder->real, run, (int)run_len, run_at);
	if (rc == SQLITE_OK)
		holder = NULL;
	return rc;
}

/* The entry of every method but xWrite: the run kept back written, and
 * the file's last operation no longer a write. */
static int release(struct wfile *w)
{
	w->ended = -1;
	return release_any();
}

static int w_close(sqlite3_file *f)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w), rc2;

	/* The file's own run, still unwritten, goes with it: no transaction
	 * committed with it (its commit would have failed). */
	if (holder == w)
		holder = NULL;
	rc2 = w->real->pMethods->xClose(w->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int w_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xRead(w->real, buf, amt, off);
}

static bool commit_header(const void *buf, int amt)
{
	const unsigned char *b = buf;

	return amt == FRAME_HEAD && (b[4] | b[5] | b[6] | b[7]) != 0;
}

/*
 * A write to a WAL joins the run kept back when it continues it, or starts
 * one; the run is written when anything else happens (release_any), when
 * the next write does not continue it or would not fit, and at once when
 * this write is the page of a commit frame: when SQLite's write of a
 * commit's last page returns, the whole transaction is in the file, and a
 * failure is that write's. A commit header that does not continue the
 * file's last write is not kept back: that is SQLite rewriting the
 * checksums of a spilled transaction (each frame read, then its header
 * written, no page after it), whose last header would otherwise wait for
 * the wal-index's barrier, which cannot report a failure.
 */
static int w_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct wfile *w = (struct wfile *)f;
	bool commit = w->wal && commit_header(buf, amt), page = off == w->commit_page;
	int rc;

	if (commit)
		w->commit_page = off + FRAME_HEAD;
	else if (page)
		w->commit_page = -1;
	if (holder == w && off == run_at + (sqlite3_int64)run_len &&
	    (size_t)amt <= GF_WALVFS_RUN_MAX - run_len) {
		memcpy(run + run_len, buf, (size_t)amt);
		run_len += (size_t)amt;
		joined++;
		w->ended = off + amt;
		if (!page)
			return SQLITE_OK;
		rc = release_any();
		if (rc != SQLITE_OK)
			w->ended = -1;
		return rc;
	}
	rc = release_any();
	if (rc != SQLITE_OK) {
		w->ended = -1;
		return rc;
	}
	if (w->wal && amt > 0 && (size_t)amt <= GF_WALVFS_RUN_MAX && !page &&
	    (!commit || off == w->ended)) {
		memcpy(run, buf, (size_t)amt);
		run_len = (size_t)amt;
		run_at = off;
		holder = w;
		w->ended = off + amt;
		return SQLITE_OK;
	}
	rc = w->real->pMethods->xWrite(w->real, buf, amt, off);
	w->ended = rc == SQLITE_OK ? off + amt : -1;
	return rc;
}

static int w_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xTruncate(w->real, size);
}

static int w_sync(sqlite3_file *f, int flags)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xSync(w->real, flags);
}

static int w_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xFileSize(w->real, size);
}

static int w_lock(sqlite3_file *f, int level)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xLock(w->real, level);
}

static int w_unlock(sqlite3_file *f, int level)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w), rc2 = w->real->pMethods->xUnlock(w->real, level);

	/* Unlocked whatever happened before (the pager records the lower
	 * level all the same). */
	return rc != SQLITE_OK ? rc : rc2;
}

static int w_reserved(sqlite3_file *f, int *out)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int w_control(sqlite3_file *f, int op, void *arg)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xFileControl(w->real, op, arg);
}

static int w_sector(sqlite3_file *f)
{
	struct wfile *w = (struct wfile *)f;

	return w->real->pMethods->xSectorSize(w->real);
}

static int w_device(sqlite3_file *f)
{
	struct wfile *w = (struct wfile *)f;

	return w->real->pMethods->xDeviceCharacteristics(w->real);
}

static int w_shm_map(sqlite3_file *f, int pg, int size, int extend, void volatile **out)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xShmMap(w->real, pg, size, extend, out);
}

static int w_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	/* An unlock is done whatever happened before it (SQLite ignores its
	 * result: a lock skipped would stay held). */
	if (rc != SQLITE_OK && !(flags & SQLITE_SHM_UNLOCK))
		return rc;
	return w->real->pMethods->xShmLock(w->real, offset, n, flags);
}

static void w_shm_barrier(sqlite3_file *f)
{
	struct wfile *w = (struct wfile *)f;

	(void)release(w); /* before the wal-index publishes the frames */
	w->real->pMethods->xShmBarrier(w->real);
}

static int w_shm_unmap(sqlite3_file *f, int delete_flag)
{
	struct wfile *w = (struct wfile *)f;

	(void)release(w);
	return w->real->pMethods->xShmUnmap(w->real, delete_flag);
}

static int w_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xFetch(w->real, off, amt, out);
}

static int w_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	struct wfile *w = (struct wfile *)f;

	(void)release(w);
	return w->real->pMethods->xUnfetch(w->real, off, p);
}

/* Version 3 (shared memory and memory mapping: what WAL needs), and
 * version 1 for a default VFS whose files have no more. */
#define IO_V1                                                                                      \
	.xClose = w_close, .xRead = w_read, .xWrite = w_write, .xTruncate = w_truncate,            \
	.xSync = w_sync, .xFileSize = w_size, .xLock = w_lock, .xUnlock = w_unlock,                \
	.xCheckReservedLock = w_reserved, .xFileControl = w_control, .xSectorSize = w_sector,      \
	.xDeviceCharacteristics = w_device

static const sqlite3_io_methods io3 = {
    .iVersion = 3,
    IO_V1,
    .xShmMap = w_shm_map,
    .xShmLock = w_shm_lock,
    .xShmBarrier = w_shm_barrier,
    .xShmUnmap = w_shm_unmap,
    .xFetch = w_fetch,
    .xUnfetch = w_unfetch,
};
static const sqlite3_io_methods io1 = {.iVersion = 1, IO_V1};

static int w_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct wfile *w = (struct wfile *)f;
	int rc;

	(void)vfs;
	memset(w, 0, sizeof(*w));
	w->ended = -1;
	w->commit_page = -1;
	w->real = (sqlite3_file *)(w + 1);
	rc = parent->xOpen(parent, name, w->real, flags, out_flags);
	if (!w->real->pMethods) {
		w->base.pMethods = NULL; /* nothing to close */
		return rc;
	}
	/* Without powersafe overwrite, a synced commit is padded to a sector
	 * with frames written in two parts around a sync; the second part
	 * would wait for the wal-index's barrier. Such a WAL is written as
	 * SQLite writes it. */
	w->wal =
	    (flags & SQLITE_OPEN_WAL) != 0 &&
	    (w->real->pMethods->xDeviceCharacteristics(w->real) & SQLITE_IOCAP_POWERSAFE_OVERWRITE);
	w->base.pMethods = w->real->pMethods->iVersion >= 3 ? &io3 : &io1;
	return rc;
}

enum gf_err gf_walvfs_register(void)
{
	if (sqlite3_vfs_find(GF_WALVFS_NAME))
		return GF_OK;
	parent = sqlite3_vfs_find(NULL);
	if (!parent)
		return GF_EIO;
	run = malloc(GF_WALVFS_RUN_MAX);
	if (!run)
		return GF_ENOMEM;
	walvfs = *parent;
	walvfs.zName = GF_WALVFS_NAME;
	walvfs.pNext = NULL;
	walvfs.szOsFile = (int)sizeof(struct wfile) + parent->szOsFile;
	walvfs.xOpen = w_open;
	if (sqlite3_vfs_register(&walvfs, 1) != SQLITE_OK) {
		free(run);
		run = NULL;
		return GF_EIO;
	}
	return GF_OK;
}

unsigned long long gf_walvfs_joined(void)
{
	return joined;
}
