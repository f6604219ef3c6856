/* SPDX-License-Identifier: MIT */
#include "agent/walvfs.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A WAL frame's header (SQLite's file format: WAL_FRAME_HDRSIZE). */
#define FRAME_HEAD 24
/* SQLite's largest page. */
#define PAGE_MAX 65536

/* One open file: this struct, then the default VFS's own file. */
struct wfile {
	sqlite3_file base;
	sqlite3_file *real;
	bool wal;            /* opened as a WAL: frame headers may be kept back */
	sqlite3_int64 ended; /* where the last operation, a write, ended; -1: not a write */
};

static sqlite3_vfs walvfs, *parent;
static unsigned char *joint; /* a header and its page, written together */
static unsigned long long joined;
/* The one header kept back in the process, and its file and offset. */
static struct wfile *holder;
static sqlite3_int64 held_at;
static unsigned char held[FRAME_HEAD];

/* Writes the header kept back, whichever file it belongs to: every method
 * of every file that reads, writes, syncs, sizes, locks, maps or closes
 * begins here, so nothing SQLite does next (a read, the wal-index's barrier
 * and locks, which are the database file's, a checkpoint) comes before it.
 * (Only the sector size and device characteristics do not: they see no
 * content.) */
static int release_any(void)
{
	struct wfile *h = holder;

	if (!h)
		return SQLITE_OK;
	holder = NULL;
	return h->real->pMethods->xWrite(h->real, held, FRAME_HEAD, held_at);
}

/* The entry of every method but xWrite: the header kept back written, and
 * the file's last operation no longer a write. */
static int release(struct wfile *w)
{
	w->ended = -1;
	return release_any();
}

static int w_close(sqlite3_file *f)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w), rc2 = w->real->pMethods->xClose(w->real);

	return rc != SQLITE_OK ? rc : rc2;
}

static int w_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct wfile *w = (struct wfile *)f;
	int rc = release(w);

	return rc != SQLITE_OK ? rc : w->real->pMethods->xRead(w->real, buf, amt, off);
}

static int w_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct wfile *w = (struct wfile *)f;
	int rc;

	if (holder == w && off == held_at + FRAME_HEAD && amt > 0 && amt <= PAGE_MAX) {
		memcpy(joint, held, FRAME_HEAD);
		memcpy(joint + FRAME_HEAD, buf, (size_t)amt);
		holder = NULL;
		rc = w->real->pMethods->xWrite(w->real, joint, FRAME_HEAD + amt, held_at);
		if (rc == SQLITE_OK)
			joined++;
		w->ended = rc == SQLITE_OK ? off + amt : -1;
		return rc;
	}
	rc = release_any();
	if (rc != SQLITE_OK) {
		w->ended = -1;
		return rc;
	}
	/* A frame's header, appended right after the previous frame (SQLite
	 * writes its page next). Not a header written after a read of it
	 * (SQLite rewriting the checksums of frames already written: no page
	 * follows), nor the first frame after anything but a write. */
	if (w->wal && amt == FRAME_HEAD && off > 0 && off == w->ended) {
		memcpy(held, buf, FRAME_HEAD);
		held_at = off;
		holder = w;
		w->ended = -1;
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
	w->real = (sqlite3_file *)(w + 1);
	rc = parent->xOpen(parent, name, w->real, flags, out_flags);
	if (!w->real->pMethods) {
		w->base.pMethods = NULL; /* nothing to close */
		return rc;
	}
	w->wal = (flags & SQLITE_OPEN_WAL) != 0;
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
	joint = malloc(FRAME_HEAD + PAGE_MAX);
	if (!joint)
		return GF_ENOMEM;
	walvfs = *parent;
	walvfs.zName = GF_WALVFS_NAME;
	walvfs.pNext = NULL;
	walvfs.szOsFile = (int)sizeof(struct wfile) + parent->szOsFile;
	walvfs.xOpen = w_open;
	if (sqlite3_vfs_register(&walvfs, 1) != SQLITE_OK) {
		free(joint);
		joint = NULL;
		return GF_EIO;
	}
	return GF_OK;
}

unsigned long long gf_walvfs_joined(void)
{
	return joined;
}
