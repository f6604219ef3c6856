/* SPDX-License-Identifier: MIT */
/*
 * sp.h - gf-sp's shared state and its modules (docs/sp.md):
 *
 *   main.c    the root: configuration, start, the dispatch of messages,
 *             retention and the timers;
 *   ingest.c  sealed meter.reading and grid.topology: opened with the
 *             ring of private keys, decoded, checked, stored;
 *   query.c   meter.query answered with meter.query.result;
 *   validate.c validation.query answered with validation.query.result:
 *             metered energy against the characteristic curve (curve.c);
 *   subs.c    the DOMS's subscriptions (meter.subscribe): history, then
 *             meter.data for each interval that becomes complete;
 *   energy.c  readings as energy per interval, grid point sums, k_min;
 *   grids.c   grid point -> meters, from the stored topologies;
 *   db*.c     the metering store (db.h): SQLite or PostgreSQL;
 *   util.c    what several files share (a leaf).
 *
 * Privacy (docs/sp.md, "Privacy"): nothing here logs a reading's value or a
 * pseudonym; refusals name the message (the FNV-1a of its payload), its
 * sender, the key id and the reason, and counts.
 */
#ifndef SP_H
#define SP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent.h"
#include "agent/message.h"
#include "agent/store.h"
#include "anon/seal.h"
#include "base/hash.h"
#include "db.h"
#include "engine/baseline.h"

struct sp_conf {
	struct gf_agent_conf agent;
	char *store;   /* sqlite:<path> or postgresql:<conninfo>; NULL: the default */
	char *key_dir; /* <kid>.pem private keys */
	long k_min, retention_days, grid_wait_s, query_max;
	bool pseudonyms_only;
	/* The characteristic curve of validation.query (curve.h). */
	long baseline_x, baseline_y, baseline_days, baseline_adj_len, baseline_adj_gap;
	char *baseline_adjust; /* none, mult or add */
};

/* A grid point and its meters (from its newest topology), sorted. */
struct sp_grid {
	char *id;
	char **meters;
	size_t n;
};

struct sp_subs; /* subs.c's */

struct sp {
	struct gf_agent *a;
	struct sp_conf *conf;
	struct sp_db *db;
	struct gf_store *store; /* state_dir/sp.db: subscriptions, handled keys, outbox */
	struct gf_seal_ring *ring;
	struct sp_grid *grids; /* sorted by id */
	size_t ngrids;
	struct sp_subs *subs;
	enum gf_baseline_adjust adjust; /* conf->baseline_adjust */
	/* Counters since the start, for GF-SP-STATS. */
	uint64_t batches, readings, added, refused, queries;
};

/* --- util.c: shared, calls no other file ------------------------------------ */

/* Hands the outbox to the bus when it is connected. */
void sp_util_flush(struct sp *sp);
/* The message id of a payload in the log: FNV-1a 64 of its bytes, hex. */
void sp_util_msgid(const void *payload, size_t len, char out[GF_FNV1A64_HEXSIZE]);
/* Simulated time now, epoch milliseconds. */
int64_t sp_util_now_ms(const struct sp *sp);
/* Whether s looks like a pseudonym: GF_PSEUDONYM_LEN characters of
 * base64url. */
bool sp_util_is_pseudonym(const char *s);
/* Fault injection for the crash tests (docs/sp.md): with
 * GF_SP_CRASH=<point>[:<n>] in the environment, the n-th pass (default the
 * first) through point kills the process with SIGKILL, as a kill -9 there
 * would. Point: batch-stored (a batch committed to the metering store,
 * before the subscriptions' marks and before the inbox marks it done). */
void sp_util_crash_point(const char *point);

/* --- grids.c ------------------------------------------------------------------ */

/* Reads every membership from the store into sp->grids (replacing what it
 * held). Errors of the store, GF_ENOMEM; sp->grids is untouched then. */
enum gf_err sp_grids_load(struct sp *sp, char *err, size_t errlen);
/* The grid point id, or NULL when no topology names it. */
const struct sp_grid *sp_grids_find(const struct sp *sp, const char *id);
void sp_grids_free(struct sp *sp);

/* --- ingest.c ------------------------------------------------------------------ */

/* A ring of the private keys in dir: every <kid>.pem file (mode 0600 or
 * stricter), kid its name without .pem. GF_ENOENT (no such directory or no
 * key in it), errors of gf_seal_ring_add; err names the file. The caller
 * owns *out (gf_seal_ring_free). */
enum gf_err sp_ingest_keys(const char *dir, struct gf_seal_ring **out, char *err, size_t errlen);

/* A sealed meter.reading / grid.topology from dms.<from_id>: opened,
 * decoded, checked and stored, or refused (GF-SP-REFUSED). A failure of
 * the store stops the agent (gf_agent_fail): the message comes back. */
void sp_ingest_reading(struct sp *sp, const struct gf_inbox_item *item, const char *from_id);
void sp_ingest_topology(struct sp *sp, const struct gf_inbox_item *item, const char *from_id);

/* --- query.c --------------------------------------------------------------------- */

/* Answers the meter.query m (from item) with a meter.query.result. */
void sp_query_answer(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m);

/* --- validate.c ------------------------------------------------------------------ */

/* Answers the validation.query m (from item) with a validation.query.result. */
void sp_validate_answer(struct sp *sp, const struct gf_inbox_item *item,
                        const struct gf_message *m);
/* baseline_adjust's value: none, mult or add. GF_EINVAL for anything else. */
enum gf_err sp_validate_adjust(const char *name, enum gf_baseline_adjust *out);

/* --- subs.c ---------------------------------------------------------------------- */

/* Reads the subscriptions from the store and arms the work they have left
 * (readings received before a crash, grid intervals waiting). Errors of the
 * store, GF_ENOMEM. */
enum gf_err sp_subs_start(struct sp *sp);
/* A meter.subscribe m (from item): the subscription made, replaced or
 * cancelled, its history queued, exactly once per message. */
void sp_subs_subscribe(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m);
/* The n readings were stored: the subscribed meters among them are marked
 * for the next meter.data (sent once the queue is handled). GF_OK, or the
 * store's error after which the agent stops. */
enum gf_err sp_subs_touch(struct sp *sp, const struct sp_reading *r, size_t n);
/* The memberships changed (a new topology): who watches which meter. */
enum gf_err sp_subs_rewatch(struct sp *sp);
/* grid_wait_s changed: the timer follows the waiting intervals' new
 * deadlines. */
void sp_subs_rearm(struct sp *sp);
/* Forgets what the subscriptions kept of intervals before before_ms. GF_OK,
 * or the store's error after which the agent stops. */
enum gf_err sp_subs_retain(struct sp *sp, int64_t before_ms);
void sp_subs_free(struct sp *sp);

#endif
