/* SPDX-License-Identifier: MIT */
/*
 * once.h - acting on a message exactly once, and what a failure of the
 * store means (docs/trading.md, "Crash safety"). One path for every agent:
 *
 *   BEGIN IMMEDIATE
 *   key already handled?  dup(arg) (may answer again), COMMIT
 *   else                  fn(arg), mark key, COMMIT
 *
 * The state change, the key and what is queued to send (the outbox) commit
 * together or not at all; the caller hands the outbox to the bus after
 * (gf_store_outbox_flush), when it chooses (gf-foa's hold_at test aid
 * waits in between). Any failure (BEGIN, fn or dup returning an error, the mark,
 * COMMIT) rolls back and calls gf_agent_fail(): the message is not marked
 * done, nothing after it is handled, the agent exits 1, and the durable
 * inbox hands the message over again at the next start, as after a kill -9.
 *
 * A message the handler refuses for its content is not a failure: fn
 * handles the refusal itself (logs it, maybe queues an answer) and returns
 * GF_OK, so that the key is marked and the refusal is not repeated. Return
 * an error only when the store (or memory) failed.
 *
 * Work that no message carries (a timer's clearing, aggregation, the
 * resends) goes through the same path with key NULL: no key is checked or
 * marked, and a failure stops the agent the same way; that work is done
 * again at the next start from what the store holds.
 *
 * Fault injection for the tests: with GF_STORE_FAIL=<prefix> in the
 * environment, the first gf_store_once of the process whose key begins
 * with prefix fails as if its COMMIT had failed (logged GF-STORE-INJECT).
 * Agent thread only.
 */
#ifndef GF_ONCE_H
#define GF_ONCE_H

#include "agent/agent.h"
#include "agent/store.h"
#include "base/err.h"

/* The work on one message (or one timer), inside the transaction. GF_OK,
 * or the error that made it impossible (the store, memory). */
typedef enum gf_err (*gf_once_fn)(void *arg);

/* Runs fn(arg) once for key in one transaction of s, as above; for a key
 * already marked, dup(arg) instead (NULL: nothing but the commit). key
 * NULL: no key, fn always runs. Returns GF_OK when committed (a duplicate
 * too); otherwise the error, after the rollback and gf_agent_fail(a, ...):
 * the caller returns at once and touches the store no more. a NULL (unit
 * tests): the error is only returned. */
enum gf_err gf_store_once(struct gf_agent *a, struct gf_store *s, const char *key, gf_once_fn fn,
                          gf_once_fn dup, void *arg);

#endif
