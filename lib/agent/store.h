/* SPDX-License-Identifier: MIT */
/*
 * store.h - an agent's durable state in SQLite, with the two things every
 * stateful agent needs to act on each message exactly once (docs/trading.md,
 * "Crash safety"):
 *
 * - handled keys: gf_store_seen() tells whether a message's idempotency key
 *   was already handled; gf_store_mark() records it, in the same transaction
 *   as the state change it caused;
 * - an outbox: messages to publish are queued in that transaction
 *   (gf_store_outbox_add) and handed to the bus after the commit
 *   (gf_store_outbox_flush), so a kill -9 either loses the whole
 *   transaction (the message is replayed from the inbox) or keeps it (the
 *   outbox goes out at the next start).
 *
 * The database is state_dir/<name>.db, journal WAL, synchronous NORMAL (a
 * kill -9 loses nothing; a power cut may lose the last commits, the same
 * bargain as the inbox). The agent's own tables are its business: it
 * creates them with gf_store_exec and uses gf_store_db() for queries.
 * Agent thread only.
 */
#ifndef GF_STORE_H
#define GF_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

#include "agent/bus.h"
#include "base/err.h"

struct gf_store;

/* Tells SQLite that this process uses it from one thread only (an agent's
 * loop: the threads paho starts for gf-foa's plug broker never touch a
 * store): its mutexes and its memory statistics are turned off, a seventh of
 * a virtual FOA's instructions per assignment (docs/bench.md), and the
 * default VFS becomes agent/walvfs.h's (a WAL frame in one write instead
 * of two). Called by gf_agent_main before anything opens a database; a
 * process that runs SQLite on more than one thread must not call it. */
void gf_store_one_thread(void);

/* Opens (creating) dir/name.db with the runtime's tables (handled keys,
 * outbox) and runs schema_sql (may be NULL; use CREATE ... IF NOT EXISTS).
 * GF_EIO with err for a database that cannot be opened or set up. The
 * caller owns *out (gf_store_close). */
enum gf_err gf_store_open(const char *dir, const char *name, const char *schema_sql,
                          struct gf_store **out, char *err, size_t errlen);

/* The connection, for the agent's own statements. */
sqlite3 *gf_store_db(struct gf_store *s);

/* Runs sql (no results). GF_EIO, logged with GF-STORE-SQL, on failure. */
enum gf_err gf_store_exec(struct gf_store *s, const char *sql);

/* Prepares sql (one statement) on s's connection. NULL, logged with
 * GF-STORE-SQL (the statement's start and SQLite's reason), on failure.
 * The caller finalizes it; sqlite3_bind_*, sqlite3_step and
 * sqlite3_finalize accept NULL (bind and step then fail). */
sqlite3_stmt *gf_store_prepare(struct gf_store *s, const char *sql);

/* sql prepared once and kept by the store for the next call with the same
 * text (preparing a statement costs about as much as running a small one),
 * returned reset with its bindings cleared. The store owns it: the caller
 * resets it (sqlite3_reset) when done with it and never finalizes it. For
 * statements a function runs and resets before anything it calls could ask
 * for the same text (not a query whose rows drive more of the same), and
 * never held across a commit. NULL, logged with GF-STORE-SQL, on failure. */
sqlite3_stmt *gf_store_cached(struct gf_store *s, const char *sql);

/* The page size of a new small store: an assignment of a virtual FOA
 * changes a few hundred bytes in each of some twenty pages, and SQLite
 * reads, checksums and writes whole pages (docs/bench.md, "Stop 29"). */
#define GF_STORE_SMALL_PAGE 1024

/* gf_store_open for one of thousands of stores in one process (virtual
 * FOAs, docs/foa.md), each doing a few small transactions now and then:
 * - a new database has pages of GF_STORE_SMALL_PAGE bytes (one made
 *   before keeps its own);
 * - its page cache holds cache_kib between transactions, and a transaction
 *   may outgrow it instead of spilling pages to the WAL before its commit
 *   (cache_spill off: a spilled page written again in the same
 *   transaction made SQLite read back and rewrite every frame after it at
 *   the commit);
 * - the database is locked to this connection for its life
 *   (locking_mode EXCLUSIVE, taken here with an empty write transaction):
 *   no lock calls per transaction, and no other connection can read it
 *   while it is in use (sqlite3 says "database is locked").
 * GF_EIO, with the reason in err, when that fails: another connection
 * holds the database (an open sqlite3 shell: after the store's 5 s busy
 * timeout). cache_kib > 0. */
enum gf_err gf_store_open_small(const char *dir, const char *name, const char *schema_sql,
                                int cache_kib, struct gf_store **out, char *err, size_t errlen);

/* Runs sql (one statement, no results) with its parameters bound in order
 * from the arguments, one letter of fmt each: 't' text (const char *,
 * copied; NULL binds NULL), 'i' int64_t, 'd' double. GF_EIO, logged with
 * GF-STORE-SQL, on failure. */
enum gf_err gf_store_run(struct gf_store *s, const char *sql, const char *fmt, ...);

/* Column col of st's current row as text: "" for NULL, never NULL. Valid
 * until the next step, reset or finalize of st. */
const char *gf_store_text(sqlite3_stmt *st, int col);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. GF_EIO on failure (logged). */
enum gf_err gf_store_begin(struct gf_store *s);
enum gf_err gf_store_commit(struct gf_store *s);
void gf_store_rollback(struct gf_store *s);

/* Inside a transaction (gf_store_once's work): commits what is done so far,
 * hands what it queued to the bus of the last gf_store_outbox_flush and
 * writes it to the socket, and begins the next part; GF_EIO. For work so
 * long that its first messages should not wait for its end (gf-fman's
 * assignment of thousands of member schedules), and only for work that is
 * done again whole, with the same result, when the process dies between
 * parts: gf_store_once marks the message's key with the last part, so the
 * message is handled again; what the parts before sent goes again, to
 * receivers that handle it once. A failure after a part leaves the parts
 * before committed: the agent stops (gf_store_once) and does the work
 * again at its next start. */
enum gf_err gf_store_commit_part(struct gf_store *s);

/* True if key was marked (any transaction state). */
bool gf_store_seen(struct gf_store *s, const char *key);
/* Marks key handled (inside the caller's transaction). GF_EIO. */
enum gf_err gf_store_mark(struct gf_store *s, const char *key);

/* Handled keys are kept GF_STORE_KEEP_S real seconds (30 days), far longer
 * than any duplicate can come: the broker keeps a session's queue a week,
 * and a resent request is answered within one resend period of its
 * receiver's return. gf_store_commit forgets older ones once an hour
 * (GF-STORE-PRUNED), so the table does not grow for ever. */
#define GF_STORE_KEEP_S (30L * 86400L)

/* Forgets the handled keys marked before the real time `before` (seconds
 * since the epoch), and the replies kept for them (resend.h's gf_reply),
 * outside a transaction. Returns how many keys. */
size_t gf_store_prune(struct gf_store *s, long long before);

/* Queues a publish (inside the caller's transaction). content_type NULL:
 * application/json. GF_EIO. */
enum gf_err gf_store_outbox_add(struct gf_store *s, const char *topic, const void *payload,
                                size_t len, const char *content_type, bool retain);

/* The same with MQTT v5 correlation data (correlation_len bytes, copied;
 * NULL or 0: none), sent with the publish: the answer to a request
 * (gf_message_answer). GF_EIO. */
enum gf_err gf_store_outbox_add_reply(struct gf_store *s, const char *topic, const void *payload,
                                      size_t len, const char *content_type, bool retain,
                                      const void *correlation, size_t correlation_len);

/* Where gf_store_outbox_add_kept finds a payload: resend.h's tables. */
enum gf_store_kept {
	GF_STORE_KEPT_REPLY,  /* gf_reply: an answer kept for duplicates */
	GF_STORE_KEPT_RESEND, /* gf_resend: a request kept until answered */
};

/* Queues, on topic, the payload kept under key in the table kept says
 * (gf_resend_reply, gf_resend_queue) without copying it, so it is held
 * once. Before what key holds is replaced, gf_store_outbox_copy_kept gives
 * the rows that name it their own copy: a row sends what was queued. A row
 * whose payload is gone when it goes (the request answered or given up,
 * which needs it no more; a reply deleted by hand: the prune keeps those
 * the outbox still names) is dropped (GF-STORE-GONE). Inside the caller's
 * transaction. GF_EIO. */
enum gf_err gf_store_outbox_add_kept(struct gf_store *s, const char *topic, enum gf_store_kept kept,
                                     const char *key, const char *content_type);
/* Gives the rows that name key their own copy of what it holds, before
 * it is replaced (resend.c, only when key is kept: the outbox has no index
 * on the names, so this reads every queued row; a key not kept changes
 * nothing). GF_EIO. */
enum gf_err gf_store_outbox_copy_kept(struct gf_store *s, enum gf_store_kept kept, const char *key);

/* At most this many of a store's publishes are handed to the bus and not
 * yet answered (PUBACK or failure); the rest are handed over as answers
 * come back (the acknowledgement hook refills the window when half of it
 * was answered): the bus's client keeps in memory what it was handed,
 * and a burst of 10,000 member schedules stays in the outbox, where it
 * outlives a crash, instead (docs/bench.md, trading). */
#define GF_STORE_WINDOW 256

/* Hands the queued publishes not yet handed over (in this process) to the
 * bus, in order, up to GF_STORE_WINDOW in flight. A row leaves the outbox
 * only when the broker acknowledged it (PUBACK) or refused it (logged,
 * GF-STORE-REFUSED): the bus keeps what it was handed in memory only, so
 * the row is the copy that counts. A publish that failed on the way is handed over
 * again at the next flush; everything still in the outbox at start is
 * sent again (receivers drop duplicates by their ids). The store installs
 * itself as bus's acknowledgement hook. Returns how many were handed
 * over; stops at the first the bus does not take (GF_EFULL) and leaves the
 * rest for the next call. */
size_t gf_store_outbox_flush(struct gf_store *s, struct gf_bus *bus);

/* Keeps acknowledged rows seconds longer (0, the default: deleted at the
 * PUBACK), for messages that no application answer covers (the
 * anonymizer's meter readings): mosquitto writes what it acknowledged to
 * disk only every autosave_interval, so a broker killed -9 loses what it
 * acknowledged since. Kept rows acknowledged on an earlier connection are
 * handed over again at the next flush on a new one (GF-STORE-RESEND); a
 * row goes once it was acknowledged `seconds` ago on the connection still
 * up. Give at least the broker's autosave_interval and a margin. A clean
 * stop (gf_store_close) forgets the kept rows: a broker killed within its
 * autosave interval of the agent's stop can still lose the last of them;
 * after a kill -9 of the agent they are sent again at its next start. */
void gf_store_outbox_hold(struct gf_store *s, double seconds);

/* fn(arg) is called, outside any transaction, each time the agent has
 * handled everything the bus of the store's last flush had brought (its
 * inbox found empty): work deferred from many messages can be done there
 * in one transaction (gf-fman's confirmations). NULL: none. */
void gf_store_on_drain(struct gf_store *s, void (*fn)(void *arg), void *arg);

/* How many publishes the outbox holds not yet acknowledged (rows kept by
 * gf_store_outbox_hold do not count), or 0 when the store cannot say
 * (logged). */
size_t gf_store_outbox_count(struct gf_store *s);

/* Binds s to bus, the identity whose messages its outbox holds (one store
 * per bus: the store is the bus's acknowledgement hook). gf_message_queue
 * and the resends (resend.h) then build their topics from that identity
 * and send on that bus; unbound (the default), on the agent's own bus.
 * Virtual FOAs (docs/foa.md) bind one store per identity. */
void gf_store_bind(struct gf_store *s, struct gf_bus *bus);
/* The bus s is bound to, or NULL. */
struct gf_bus *gf_store_bus(const struct gf_store *s);

/* Closes the database. Accepts NULL. */
void gf_store_close(struct gf_store *s);

#endif
