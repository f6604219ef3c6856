/* SPDX-License-Identifier: MIT */
/*
 * walvfs.h - a SQLite VFS over the default one that writes each WAL frame
 * in one system call.
 *
 * SQLite writes a WAL frame as two writes: its 24-byte header, then the
 * page at the next offset. Each is a pwrite(2), and a virtual FOA's
 * assignment commits about twenty frames (docs/bench.md). This VFS keeps
 * a frame header back until the page that follows it and writes both
 * together; any other operation on the file (a read, a sync, a size, a
 * truncation, a close, another write) writes what was kept back first, so
 * SQLite and other processes see the file as if nothing had been held.
 * Every other file, and every other method, is the default VFS's.
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
