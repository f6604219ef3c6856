/* SPDX-License-Identifier: MIT */
/*
 * db.c - gf-kpi's store (tracker.h): series, samples, alarms and goal
 * periods in SQLite (state_dir/kpi.db, with the runtime's outbox, store.h).
 * Samples are keyed by (series, observed millisecond): a sample that comes
 * twice (QoS 1, a resent REST post) is stored once.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"
#include "base/log.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS kpi_series (sid INTEGER PRIMARY KEY, site TEXT NOT NULL,"
    " role TEXT NOT NULL, ident TEXT NOT NULL, kpi TEXT NOT NULL, unit TEXT NOT NULL,"
    " periodic INTEGER NOT NULL, first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,"
    " last_v REAL NOT NULL, n INTEGER NOT NULL, UNIQUE (site, role, ident, kpi));"
    "CREATE TABLE IF NOT EXISTS kpi_sample (sid INTEGER NOT NULL, t_ms INTEGER NOT NULL,"
    " v REAL NOT NULL, period_s INTEGER, PRIMARY KEY (sid, t_ms)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS kpi_alarm (alarm_id TEXT PRIMARY KEY, rule TEXT NOT NULL,"
    " series TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL, raised_s REAL NOT NULL,"
    " cleared_s REAL, value REAL, threshold REAL, message TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS kpi_alarm_active ON kpi_alarm (rule, series, cleared_s);"
    "CREATE TABLE IF NOT EXISTS kpi_goal (rule TEXT NOT NULL, period_s REAL NOT NULL,"
    " state TEXT NOT NULL, value REAL, judged_s REAL NOT NULL, PRIMARY KEY (rule, period_s));";

enum gf_err kpi_db_open(struct kpi_tracker *t, char *err, size_t errlen)
{
	return gf_store_open(t->conf->agent.state_dir, "kpi", schema, &t->store, err, errlen);
}

static int64_t ms_of(double s)
{
	return (int64_t)llround(s * 1000.0);
}

enum gf_err kpi_db_add(struct kpi_tracker *t, const char *site, const char *role, const char *id,
                       const struct kpi_sample *s, int64_t *sid, bool *added)
{
	sqlite3_stmt *st = NULL;
	enum gf_err rc = GF_EIO;
	int64_t ms = ms_of(s->t);

	if (gf_store_run(t->store,
	                 "INSERT OR IGNORE INTO kpi_series (site, role, ident, kpi, unit, periodic,"
	                 " first_ms, last_ms, last_v, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
	                 "tttttiiid", site, role, id, s->kpi, s->unit, (int64_t)(s->period_s > 0),
	                 ms, ms, s->value) != GF_OK)
		goto out;
	st = gf_store_prepare(t->store, "SELECT sid FROM kpi_series WHERE site = ? AND role = ?"
	                                " AND ident = ? AND kpi = ?");
	sqlite3_bind_text(st, 1, site, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, role, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, s->kpi, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*sid = sqlite3_column_int64(st, 0);
	if (gf_store_run(
	        t->store,
	        "INSERT OR IGNORE INTO kpi_sample (sid, t_ms, v, period_s) VALUES (?, ?, ?, ?)",
	        "iidi", *sid, ms, s->value, (int64_t)s->period_s) != GF_OK)
		goto out;
	*added = sqlite3_changes(gf_store_db(t->store)) > 0;
	if (*added &&
	    gf_store_run(
	        t->store,
	        "UPDATE kpi_series SET n = n + 1, first_ms = min(first_ms, ?2),"
	        " last_v = CASE WHEN ?2 >= last_ms THEN ?3 ELSE last_v END,"
	        " last_ms = max(last_ms, ?2), unit = CASE WHEN ?4 != '' THEN ?4 ELSE unit END"
	        " WHERE sid = ?1",
	        "iidt", *sid, ms, s->value, s->unit) != GF_OK)
		goto out;
	rc = GF_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

enum gf_err kpi_db_points(struct kpi_tracker *t, int64_t sid, double from, double to,
                          struct kpi_point **pts, size_t *n)
{
	sqlite3_stmt *st = gf_store_prepare(t->store, "SELECT t_ms, v FROM kpi_sample WHERE sid = ?"
	                                              " AND t_ms >= ? AND t_ms <= ? ORDER BY t_ms");
	struct kpi_point *p = NULL;
	size_t k = 0, cap = 0;
	enum gf_err rc = GF_EIO;
	int step;

	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_int64(st, 2, ms_of(from));
	sqlite3_bind_int64(st, 3, ms_of(to));
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct kpi_point *np = realloc(p, ncap * sizeof(*np));
			if (!np) {
				rc = GF_ENOMEM;
				goto out;
			}
			p = np;
			cap = ncap;
		}
		p[k].t = (double)sqlite3_column_int64(st, 0) / 1000.0;
		p[k].v = sqlite3_column_double(st, 1);
		k++;
	}
	if (step != SQLITE_DONE)
		goto out;
	*pts = p;
	*n = k;
	p = NULL;
	rc = GF_OK;
out:
	free(p);
	sqlite3_finalize(st);
	return rc;
}

enum gf_err kpi_db_series(struct kpi_tracker *t, kpi_db_series_fn fn, void *arg)
{
	sqlite3_stmt *st = gf_store_prepare(
	    t->store, "SELECT sid, site, role, ident, kpi, unit, periodic, first_ms, last_ms,"
	              " last_v, n FROM kpi_series ORDER BY kpi, site, role, ident");
	int step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct kpi_series_row r = {
		    .sid = sqlite3_column_int64(st, 0),
		    .site = gf_store_text(st, 1),
		    .role = gf_store_text(st, 2),
		    .id = gf_store_text(st, 3),
		    .kpi = gf_store_text(st, 4),
		    .unit = gf_store_text(st, 5),
		    .periodic = sqlite3_column_int(st, 6) != 0,
		    .first_t = (double)sqlite3_column_int64(st, 7) / 1000.0,
		    .last_t = (double)sqlite3_column_int64(st, 8) / 1000.0,
		    .last_v = sqlite3_column_double(st, 9),
		    .n = (long)sqlite3_column_int64(st, 10),
		};
		fn(&r, arg);
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? GF_OK : GF_EIO;
}

bool kpi_db_alarm_active(struct kpi_tracker *t, const char *rule, const char *key, char *id,
                         size_t idlen)
{
	sqlite3_stmt *st =
	    gf_store_prepare(t->store, "SELECT alarm_id FROM kpi_alarm WHERE rule = ?"
	                               " AND series = ? AND cleared_s IS NULL");
	bool found = false;

	sqlite3_bind_text(st, 1, rule, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(id, idlen, "%s", gf_store_text(st, 0));
		found = true;
	}
	sqlite3_finalize(st);
	return found;
}

enum gf_err kpi_db_alarm_raise(struct kpi_tracker *t, const char *id, const struct kpi_rule *r,
                               const char *key, double now, double value, const char *message)
{
	double threshold = r->kind == KPI_RULE_MISSING ? r->window_s : r->value;

	return gf_store_run(
	    t->store,
	    "INSERT OR IGNORE INTO kpi_alarm (alarm_id, rule, series, kind, severity,"
	    " raised_s, value, threshold, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "tttttdddt", id, r->name, key, kpi_rules_kind_name(r->kind),
	    kpi_rules_severity_name(r->severity), now, value, threshold, message);
}

enum gf_err kpi_db_alarm_clear(struct kpi_tracker *t, const char *id, double now)
{
	return gf_store_run(t->store, "UPDATE kpi_alarm SET cleared_s = ? WHERE alarm_id = ?", "dt",
	                    now, id);
}

void kpi_db_goal_state(struct kpi_tracker *t, const char *rule, double period, char *state,
                       size_t size)
{
	sqlite3_stmt *st = gf_store_prepare(
	    t->store, "SELECT state FROM kpi_goal WHERE rule = ? AND period_s = ?");

	state[0] = '\0';
	sqlite3_bind_text(st, 1, rule, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 2, period);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(state, size, "%s", gf_store_text(st, 0));
	sqlite3_finalize(st);
}

enum gf_err kpi_db_goal_set(struct kpi_tracker *t, const char *rule, double period,
                            const char *state, double value, double now)
{
	return gf_store_run(
	    t->store,
	    "INSERT OR REPLACE INTO kpi_goal (rule, period_s, state, value, judged_s)"
	    " VALUES (?, ?, ?, ?, ?)",
	    "tdtdd", rule, period, state, value, now);
}
