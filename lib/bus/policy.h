/* SPDX-License-Identifier: MIT */
/*
 * policy.h - who may publish, subscribe to and receive what.
 *
 * gf_policy_check is a pure function of (catalogue, site, identity, access,
 * topic): no I/O, no allocation, no global state, and its cost does not grow
 * with the number of identities or of catalogue rows, except for a shared
 * SUBSCRIBE, which scans the rows once. The rules, in short
 * (docs/policy.md has them in full):
 *
 *  WRITE      exactly gf/<site>/<from-role>/<from-id>/<to-role>/<to-id>/<msg>;
 *             the sender levels are the publisher; (from-role, to-role, msg)
 *             is a catalogue row, or to-role is "all" and (from-role, msg) is
 *             public; a private row needs a concrete to-id unless to-role is a
 *             pool; ops and broker rows are never written by clients. A
 *             bridge writes only public rows under gf/<its peer site>/.
 *  SUBSCRIBE  filters within gf/ (also behind $share/<group>/): this
 *             site's tree, another site's, or "+" for any;
 *             $SYS for ops only; $CONTROL never; a filter without wildcards
 *             must also pass the READ check. A shared filter must be
 *             readable in full: every topic of a catalogue row it can match
 *             must pass READ for the subscriber (a "+" or "#" to-id of a
 *             private row never does), broker rows for ops only.
 *  READ       (every delivery) private: only the addressed role, and with a
 *             concrete to-id only that instance; public: the roles the rows
 *             name for that sender and message, ops, and bridges; the
 *             broker's own feeds (rows flagged broker): ops only. Another
 *             site's topics (imported by a bridge, SPEC section 4): its
 *             public rows for the roles listed and ops; never its private
 *             rows or broker feeds, never for a bridge.
 *  UNSUBSCRIBE always.
 */
#ifndef GF_POLICY_H
#define GF_POLICY_H

#include "bus/catalog.h"
#include "bus/ident.h"
#include "bus/reason.h"
#include "bus/topic.h"

enum gf_access {
	GF_ACCESS_READ = 1,
	GF_ACCESS_WRITE = 2,
	GF_ACCESS_SUBSCRIBE = 4,
	GF_ACCESS_UNSUBSCRIBE = 8,
};

struct gf_policy {
	const struct gf_catalog *cat; /* borrowed; must outlive the checks */
	struct gf_sv site;            /* borrowed; the broker's own site */
};

/* Details of a decision for the log line; filled by gf_policy_check. */
struct gf_decision {
	enum gf_reason reason;
	enum gf_topic_fault fault; /* for GF_REASON_TOPIC */
	uint8_t cell;              /* READ and WRITE: the topic's catalogue cell, 0 if none */
};

/*
 * Decides whether who may perform access on topic (a topic name for READ and
 * WRITE, a filter for SUBSCRIBE/UNSUBSCRIBE). who may be NULL (an unknown
 * connection: everything is refused). Returns GF_REASON_ALLOW or the reason
 * of the refusal; if d is not NULL it gets the details.
 */
enum gf_reason gf_policy_check(const struct gf_policy *pol, const struct gf_ident *who,
                               enum gf_access access, const char *topic, struct gf_decision *d);

/*
 * The catalogue cell (class and flags, catalog.h) of t, a parsed topic: the
 * row (from-role, to-role, msg), or for to-role "all" the public feed of
 * (from-role, msg); 0 if there is none. O(1), no allocation.
 */
uint8_t gf_policy_cell(const struct gf_policy *pol, const struct gf_topic *t);

/* "read", "write", "subscribe", "unsubscribe" or "?". */
const char *gf_access_name(enum gf_access access);

#endif
