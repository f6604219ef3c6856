/* SPDX-License-Identifier: MIT */
/*
 * db.h - gf-sp's metering store behind one small interface (docs/sp.md,
 * "Storage"), with two backends:
 *
 *   sqlite:<path>          db_sqlite.c, one file in WAL mode (the default,
 *                          <state_dir>/sp-meter.db);
 *   postgresql:<conninfo>  db_pg.c, libpq (a deployment that outgrows one
 *                          machine; conninfo as PQconnectdb takes it).
 *
 * What it holds:
 *   - readings (pseudonym, observed time in epoch ms, OBIS code, value,
 *     unit), one row per (pseudonym, time, OBIS): a batch inserted twice
 *     stores nothing twice, so a redelivered meter.reading is harmless;
 *   - the newest grid.topology per grid point (by revision), and the
 *     grid point -> meter membership taken from its loads' deviceIds.
 *
 * Every call is one transaction of its own (the insert of a batch is one).
 * Strings handed to a row callback live until the callback returns.
 * Errors: GF_EIO with err saying what the database said (never a value or
 * a pseudonym), GF_ENOMEM; a callback's error ends the walk and is returned.
 * Agent thread only.
 */
#ifndef SP_DB_H
#define SP_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* One reading. */
struct sp_reading {
	const char *meter; /* the pseudonym (deviceId) */
	int64_t t_ms;      /* observed time, epoch milliseconds */
	const char *obis;  /* e.g. "1-0:1.8.0" */
	double value;
	const char *unit; /* e.g. "kWh" */
};

typedef enum gf_err (*sp_db_reading_fn)(void *arg, const struct sp_reading *r);
typedef enum gf_err (*sp_db_member_fn)(void *arg, const char *grid, const char *meter);

struct sp_db;

/* A backend: the functions below dispatch to these. */
struct sp_db_ops {
	const char *kind; /* "sqlite", "postgresql" */
	enum gf_err (*insert)(struct sp_db *db, const struct sp_reading *r, size_t n, size_t *added,
	                      char *err, size_t errlen);
	enum gf_err (*range)(struct sp_db *db, const char *meter, const char *obis, int64_t from_ms,
	                     int64_t to_ms, size_t limit, sp_db_reading_fn fn, void *arg, char *err,
	                     size_t errlen);
	enum gf_err (*edge)(struct sp_db *db, const char *meter, const char *obis, int64_t t_ms,
	                    int dir, int64_t *t_out, double *v_out, bool *found, char *err,
	                    size_t errlen);
	enum gf_err (*topology_put)(struct sp_db *db, const char *grid, int64_t revision,
	                            const char *doc, const char *const *meters, size_t n,
	                            bool *stored, char *err, size_t errlen);
	enum gf_err (*members)(struct sp_db *db, sp_db_member_fn fn, void *arg, char *err,
	                       size_t errlen);
	enum gf_err (*retain)(struct sp_db *db, int64_t before_ms, uint64_t *deleted, char *err,
	                      size_t errlen);
	enum gf_err (*count)(struct sp_db *db, uint64_t *n, char *err, size_t errlen);
	void (*close)(struct sp_db *db);
};

/* Every backend's struct starts with this. */
struct sp_db {
	const struct sp_db_ops *ops;
};

/*
 * Opens the store named by spec ("sqlite:<path>" or "postgresql:<conninfo>"),
 * creating its tables when missing. GF_EINVAL for a spec of neither form,
 * GF_EIO for a database that cannot be opened or set up; err says which
 * (a conninfo's password is never copied into err). The caller owns *out
 * (sp_db_close).
 */
enum gf_err sp_db_open(const char *spec, struct sp_db **out, char *err, size_t errlen);
/* Closes the store. Accepts NULL. */
void sp_db_close(struct sp_db *db);
/* "sqlite" or "postgresql". */
const char *sp_db_kind(const struct sp_db *db);

/* Stores the n readings in one transaction, skipping those whose (meter,
 * time, OBIS) is stored already (the value stored first stays); *added
 * (may be NULL) gets how many were new. Nothing is stored on failure. */
enum gf_err sp_db_insert(struct sp_db *db, const struct sp_reading *r, size_t n, size_t *added,
                         char *err, size_t errlen);

/* Calls fn for the readings of meter with from_ms <= time < to_ms, of OBIS
 * code obis (NULL: every code), in time order (then OBIS), at most limit
 * of them (0: all). */
enum gf_err sp_db_range(struct sp_db *db, const char *meter, const char *obis, int64_t from_ms,
                        int64_t to_ms, size_t limit, sp_db_reading_fn fn, void *arg, char *err,
                        size_t errlen);

/* The reading of meter and obis nearest to t_ms strictly before it (dir <
 * 0) or strictly after it (dir > 0): *found, and when found its time and
 * value (t_out, v_out may be NULL). With t_ms INT64_MAX and dir < 0, the
 * newest reading; INT64_MIN and dir > 0, the oldest. */
enum gf_err sp_db_edge(struct sp_db *db, const char *meter, const char *obis, int64_t t_ms, int dir,
                       int64_t *t_out, double *v_out, bool *found, char *err, size_t errlen);

/* Stores the topology doc (text) of grid at revision, with its n member
 * meters (duplicates allowed), replacing the stored one and its members,
 * if no topology of grid is stored or the stored one has a lower revision;
 * *stored says whether it did. */
enum gf_err sp_db_topology_put(struct sp_db *db, const char *grid, int64_t revision,
                               const char *doc, const char *const *meters, size_t n, bool *stored,
                               char *err, size_t errlen);

/* Calls fn for every (grid point, meter) membership, ordered by grid point
 * then meter. */
enum gf_err sp_db_members(struct sp_db *db, sp_db_member_fn fn, void *arg, char *err,
                          size_t errlen);

/* Deletes the readings observed before before_ms; *deleted (may be NULL)
 * gets how many. */
enum gf_err sp_db_retain(struct sp_db *db, int64_t before_ms, uint64_t *deleted, char *err,
                         size_t errlen);

/* How many readings are stored. */
enum gf_err sp_db_count(struct sp_db *db, uint64_t *n, char *err, size_t errlen);

/* The backends' constructors (db_sqlite.c, db_pg.c), for sp_db_open:
 * path is a file name, conninfo a libpq connection string. */
enum gf_err sp_db_sqlite_open(const char *path, struct sp_db **out, char *err, size_t errlen);
enum gf_err sp_db_pg_open(const char *conninfo, struct sp_db **out, char *err, size_t errlen);

#endif
