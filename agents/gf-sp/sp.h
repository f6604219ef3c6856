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
 *   util.c    what several files share (a leaf);
 *   extdata.c, extquery.c  prices and weather from ext: stored, passed on,
 *             queried;
 *   tariff.c  the grid file, transfercost;
 *   fcast.c   energy forecasts (energy.forecast);
 *   capacity.c the implicit capacity price (capacityprice, F6.8);
 *   kv.c      the xEMS's key/value store (kv.put, kv.get, kv.value).
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
#include "engine/gridtariff.h"

struct sp_conf {
	struct gf_agent_conf agent;
	char *store;   /* sqlite:<path> or postgresql:<conninfo>; NULL: the default */
	char *key_dir; /* <kid>.pem private keys */
	long k_min, retention_days, grid_wait_s, query_max;
	bool pseudonyms_only;
	/* The characteristic curve of validation.query (curve.h). */
	long baseline_x, baseline_y, baseline_days, baseline_adj_len, baseline_adj_gap;
	char *baseline_adjust; /* none, mult or add */
	/* The services (docs/sp.md, "Services"). */
	char *grid_file;                          /* gridtariff.h: bands, capacity, locations */
	double reference_factor, reference_adder; /* price.reference from price.dayahead */
	long weather_radius_km;                   /* nearest stored weather within this */
	long forecast_days, forecast_at_s;        /* energy.forecast's history, daily time */
	char *kv_key_file;                        /* HMAC key of the kv namespaces */
	char *kv_reply_keys;                      /* <xems-id>.pem: kv.get.result sealed to it */
	long kv_max_keys, kv_max_bytes, kv_k_min;
};

/* A grid point and its meters (from its newest topology), sorted. */
struct sp_grid {
	char *id;
	char **meters;
	size_t n;
};

struct sp_subs; /* subs.c's */
struct sp_kv;   /* kv.c's */

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
	struct gf_gridtariff tariff;    /* grid_file (empty without one) */
	struct sp_kv *kv;               /* NULL: kv not configured */
	uint64_t daily_timer;
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

/* --- extdata.c: what gf-ingest publishes, stored and passed on ----------------- */

/* Creates the tables of the external data in sp.db. Errors of the store. */
enum gf_err sp_extdata_start(struct sp *sp);
/* A price.dayahead from ext.<id>: stored (newest issue wins), and its
 * price.reference published to the FOAs, FMAN and FMAR, exactly once per
 * message (keyed by its message id). */
void sp_extdata_price(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m);
/* A weather.forecast or weather.observation from ext.<id>: stored; a
 * forecast is published on to the FOAs, FMAN and FMAR; once per message. */
void sp_extdata_weather(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m,
                        bool observation);
/* Deletes prices and weather of periods before before_ms. GF_OK, or the
 * store's error after which the agent stops. */
enum gf_err sp_extdata_retain(struct sp *sp, int64_t before_ms);
/* The nearest location of stored weather of kind (0 forecast, 1
 * observation) within weather_radius_km of lat, lon: true and *slat, *slon,
 * or false. */
bool sp_extdata_nearest(struct sp *sp, int kind, double lat, double lon, double *slat,
                        double *slon);
/* The mean temperature of [from_ms, to_ms) at the stored location slat,
 * slon of kind: true and *temp when at least half the span has values. */
bool sp_extdata_mean_temp(struct sp *sp, int kind, double slat, double slon, int64_t from_ms,
                          int64_t to_ms, double *temp);

/* --- extquery.c: weather.query and price.query -------------------------------- */

void sp_extquery_weather(struct sp *sp, const struct gf_inbox_item *item,
                         const struct gf_message *m);
void sp_extquery_price(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m);

/* --- tariff.c: the grid file, transfercost ------------------------------------- */

/* Reads grid_file (if set) into *out (empty without one). Errors as
 * gf_gridtariff_load, err saying why. */
enum gf_err sp_tariff_load(const struct sp_conf *c, struct gf_gridtariff *out, char *err,
                           size_t errlen);
/* Queues transfercost for every grid point with bands of its own, for the
 * UTC day that begins at day_ms, to the FOAs, FMAN and FMAR, once per grid
 * file content and day. */
void sp_tariff_publish(struct sp *sp, int64_t day_ms);
void sp_tariff_answer(struct sp *sp, const struct gf_inbox_item *item, const struct gf_message *m);

/* --- fcast.c: energy forecasts --------------------------------------------------- */

enum gf_err sp_fcast_start(struct sp *sp);
/* The forecast of grid point g for the UTC day at day_ms into energy[96]
 * (and lower, upper; may be NULL). GF_ENOENT with why set (no history),
 * GF_EIO/GF_ENOMEM (the store, memory; logged). */
enum gf_err sp_fcast_grid_day(struct sp *sp, const struct sp_grid *g, int64_t day_ms,
                              double *energy, double *lower, double *upper, double *factor,
                              char *why, size_t whylen);
/* A meter.subscribe m with forecasts (or its cancellation): the grid points
 * it forecasts, once per message; today's and tomorrow's forecasts sent. */
void sp_fcast_subscribe(struct sp *sp, const struct gf_inbox_item *item,
                        const struct gf_message *m);
/* Sends each forecast subscription the forecast of the day at day_ms. */
void sp_fcast_publish(struct sp *sp, int64_t day_ms);

/* --- capacity.c: the implicit capacity price (F6.8) ------------------------------- */

enum gf_err sp_capacity_start(struct sp *sp);
void sp_capacity_answer(struct sp *sp, const struct gf_inbox_item *item,
                        const struct gf_message *m);
/* Prices again every watched offer whose period is not over; a changed
 * series goes to its asker as capacityprice. */
void sp_capacity_refresh(struct sp *sp);

/* --- kv.c: the xEMS's key/value store --------------------------------------------- */

/* Reads the kv keys (kv_key_file, kv_reply_keys) into *out; NULL without
 * kv_key_file. Errors with err saying why (never the key). */
enum gf_err sp_kv_open(struct sp *sp, const struct sp_conf *c, struct sp_kv **out, char *err,
                       size_t errlen);
void sp_kv_free(struct sp_kv *kv);
/* Creates the kv tables. */
enum gf_err sp_kv_start(struct sp *sp);
void sp_kv_put(struct sp *sp, const struct gf_inbox_item *item, const char *from_id);
void sp_kv_get(struct sp *sp, const struct gf_inbox_item *item, const char *from_id);

#endif
