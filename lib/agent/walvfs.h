/* SPDX-License-Identifier: MIT */
/*
 * walvfs.h - a SQLite VFS over the default one that writes each WAL frame
 * in one system call.
 *
 * SQLite writes a WAL frame as two writes: its 24-byte header, then the
 * page at the next offset. Each is a pwrite(2), and a virtual FOA's
 * assignment commits about twenty frames (docs/bench.md). This VFS keeps
 * back a 24-byte write to a WAL that continues the file's previous write
 * (a frame appended after the previous one; not a header SQLite rewrites
 * after reading its frame, which no page follows) and writes it together
 * with the next write if that is its page. Any other call on any file of
 * the VFS (a read, a sync, a size, a lock, the wal-index's barrier and
 * locks on the database file, a close, another write) writes it first, so
 * the header is in the file before SQLite, or another process through the
 * locks, can see that the frame exists: a kill -9 between the two is a
 * kill between SQLite's own two writes. At most one header is held in the
 * process. Every other file, and every other method, is the default
 * VFS's.
 *
 * One thread: the joined frame is assembled in one buffer of the process
 * (gf_store_one_thread's contract).
 */
#ifndef GF_WALVFS_H
#define GF_WALVFS_H

#include "base/err.h"

/* The VFS's name. */
#define GF_WALVFS_NAME "gf-wal"

/* Registers the VFS over the current default one and makes it the default.
 * Again: nothing. GF_ENOMEM or GF_EIO (no default VFS, a failed
 * registration). */
enum gf_err gf_walvfs_register(void);

/* Frame writes joined so far in this process (for tests and benches). */
unsigned long long gf_walvfs_joined(void);

#endif
