/* SPDX-License-Identifier: MIT */
/*
 * db.c - the store's front: the spec's prefix picks the backend, and each
 * call goes to the backend's function (db.h).
 */
#include "db.h"

#include <limits.h>
#include <string.h>

enum gf_err sp_db_open(const char *spec, struct sp_db **out, char *err, size_t errlen)
{
	static const char sqlite[] = "sqlite:", pg[] = "postgresql:";

	if (spec && strncmp(spec, sqlite, sizeof(sqlite) - 1) == 0 && spec[sizeof(sqlite) - 1])
		return sp_db_sqlite_open(spec + sizeof(sqlite) - 1, out, err, errlen);
	if (spec && strncmp(spec, pg, sizeof(pg) - 1) == 0)
		return sp_db_pg_open(spec + sizeof(pg) - 1, out, err, errlen);
	return gf_err_set(err, errlen, GF_EINVAL,
	                  "store must be sqlite:<path> or postgresql:<conninfo>");
}

void sp_db_close(struct sp_db *db)
{
	if (db)
		db->ops->close(db);
}

const char *sp_db_kind(const struct sp_db *db)
{
	return db->ops->kind;
}

enum gf_err sp_db_insert(struct sp_db *db, const struct sp_reading *r, size_t n, size_t *added,
                         char *err, size_t errlen)
{
	size_t dummy;

	return db->ops->insert(db, r, n, added ? added : &dummy, err, errlen);
}

enum gf_err sp_db_range(struct sp_db *db, const char *meter, const char *obis, int64_t from_ms,
                        int64_t to_ms, size_t limit, sp_db_reading_fn fn, void *arg, char *err,
                        size_t errlen)
{
	if (to_ms <= from_ms)
		return GF_OK;
	return db->ops->range(db, meter, obis, from_ms, to_ms, limit, fn, arg, err, errlen);
}

enum gf_err sp_db_edge(struct sp_db *db, const char *meter, const char *obis, int64_t t_ms, int dir,
                       int64_t *t_out, double *v_out, bool *found, char *err, size_t errlen)
{
	int64_t t = 0;
	double v = 0;
	bool f = false;
	enum gf_err rc;

	/* Nothing lies beyond the ends of time: a question the backends need
	 * not answer (and PostgreSQL's bigint could not take t - 1). */
	if ((dir < 0 && t_ms == INT64_MIN) || (dir > 0 && t_ms == INT64_MAX)) {
		*found = false;
		return GF_OK;
	}
	rc = db->ops->edge(db, meter, obis, t_ms, dir, &t, &v, &f, err, errlen);
	if (rc != GF_OK)
		return rc;
	*found = f;
	if (f && t_out)
		*t_out = t;
	if (f && v_out)
		*v_out = v;
	return GF_OK;
}

enum gf_err sp_db_topology_put(struct sp_db *db, const char *grid, int64_t revision,
                               const char *doc, const char *const *meters, size_t n, bool *stored,
                               char *err, size_t errlen)
{
	return db->ops->topology_put(db, grid, revision, doc, meters, n, stored, err, errlen);
}

enum gf_err sp_db_members(struct sp_db *db, sp_db_member_fn fn, void *arg, char *err, size_t errlen)
{
	return db->ops->members(db, fn, arg, err, errlen);
}

enum gf_err sp_db_retain(struct sp_db *db, int64_t before_ms, uint64_t *deleted, char *err,
                         size_t errlen)
{
	uint64_t dummy;

	return db->ops->retain(db, before_ms, deleted ? deleted : &dummy, err, errlen);
}

enum gf_err sp_db_count(struct sp_db *db, uint64_t *n, char *err, size_t errlen)
{
	return db->ops->count(db, n, err, errlen);
}
