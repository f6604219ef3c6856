/* SPDX-License-Identifier: MIT */
/*
 * walvfs.h - a SQLite VFS over the default one that writes a transaction's
 * WAL frames in one system call.
 *
 * SQLite writes a WAL frame as two writes: its 24-byte header, then the
 * page at the next offset. Each is a pwrite(2), and each costs the kernel
 * its own lookup, locking and, for a block begun past the end of the
 * file, zeroing: a virtual FOA's assignment commits about twenty frames of
 * 1 KiB (docs/bench.md). This VFS keeps a WAL's writes back as one run
 * while each continues the previous one, up to GF_WALVFS_RUN_MAX bytes,
 * and writes the run in one call:
 * - when a write does not continue it (or would not fit);
 * - at once after the page of a commit frame (its header has the
 *   database's size): when SQLite's write of a commit's last page
 *   returns, the whole transaction is in the file, and a failure is that
 *   write's;
 * - before any other call on any file of the VFS (a read, a sync, a size,
 *   a lock, the wal-index's barrier and locks on the database file, a
 *   close): nothing SQLite, or another process through the locks, does
 *   next can see a frame the file does not hold yet, and a kill -9 before
 *   the run is written is a kill between SQLite's own writes, before the
 *   commit.
 * A commit header that does not continue the WAL's last write (SQLite
 * rewriting a spilled transaction's checksums: each frame read, then its
 * header written, no page after it) is written at once. A run that cannot
 * be written stays held and is tried again at every call, so the failure
 * cannot be lost to a caller that cannot report it (the barrier, an
 * unlock, another connection): the run's transaction cannot go on without
 * it. A WAL on a device without powersafe overwrite (whose synced commits
 * SQLite pads in parts around a sync) is written as SQLite writes it. At
 * most one run is held in the process. Every other file, and every other
 * method, is the default VFS's.
 *
 * One thread: the run is assembled in one buffer of the process
 * (gf_store_one_thread's contract).
 */
#ifndef GF_WALVFS_H
#define GF_WALVFS_H

#include "base/err.h"

/* The VFS's name. */
#define GF_WALVFS_NAME "gf-wal"

/* The most bytes kept back: 128 KiB, the frames of one 1 KiB-page
 * transaction many times over, of a 4 KiB-page one about thirty. */
#define GF_WALVFS_RUN_MAX (128u * 1024u)

/* Registers the VFS over the current default one and makes it the default.
 * Again: nothing. GF_ENOMEM or GF_EIO (no default VFS, a failed
 * registration). */
enum gf_err gf_walvfs_register(void);

/* SQLite's WAL writes written together with an earlier one, so far in this
 * process (for tests and benches). */
unsigned long long gf_walvfs_joined(void);

#endif
