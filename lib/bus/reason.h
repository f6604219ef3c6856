/* SPDX-License-Identifier: MIT */
/*
 * reason.h - every decision the broker takes, with its stable message id.
 *
 * The plugin logs each refusal with the message id of its reason, counts it
 * per reason and puts it on the audit feed. The ids are a contract with
 * operators and tests (docs/messages.md); add new ones, never rename.
 */
#ifndef GF_REASON_H
#define GF_REASON_H

#define GF_REASON_MAP(X)                                                                           \
	X(ALLOW, "GF-ACL-ALLOW", "allowed")                                                        \
	X(NOIDENT, "GF-ACL-NOIDENT", "the connection has no goflex identity")                      \
	X(TOPIC, "GF-ACL-TOPIC", "the topic is not a well-formed gf/<site>/... topic")             \
	X(SITE, "GF-ACL-SITE", "the topic belongs to another site")                                \
	X(SPOOF, "GF-ACL-SPOOF", "the sender levels are not the publisher's own identity")         \
	X(NOROW, "GF-ACL-NOROW", "no catalogue row for this sender, addressee and message")        \
	X(ADDR, "GF-ACL-ADDR", "a private message needs a concrete addressee")                     \
	X(READONLY, "GF-ACL-READONLY", "this role may not publish")                                \
	X(BROKERROW, "GF-ACL-BROKER", "only the broker itself publishes this message")             \
	X(NOTADDR, "GF-ACL-NOTADDR", "a private message for another addressee")                    \
	X(NOTREADER, "GF-ACL-NOTREADER", "this role is not a reader of this public message")       \
	X(SYS, "GF-ACL-SYS", "$SYS is readable by ops only")                                       \
	X(CONTROL, "GF-ACL-CONTROL", "$CONTROL topics are never allowed")                          \
	X(DOLLAR, "GF-ACL-DOLLAR", "unknown $ topic")                                              \
	X(FILTER, "GF-ACL-FILTER", "the subscription is outside gf/")                              \
	X(SHARE, "GF-ACL-SHARE", "malformed shared subscription")                                  \
	X(SHARE_READ, "GF-ACL-SHARE-READ",                                                         \
	  "a shared subscription must be readable in full by its subscriber")                      \
	X(BRIDGE, "GF-ACL-BRIDGE", "a bridge carries only public rows of its own site")            \
	X(AUTH_CERT, "GF-AUTH-CERT", "the client certificate lacks a single O, OU and CN")         \
	X(AUTH_SITE, "GF-AUTH-SITE", "the identity belongs to another site")                       \
	X(AUTH_ROLE, "GF-AUTH-ROLE", "unknown role")                                               \
	X(AUTH_ID, "GF-AUTH-ID", "invalid id")                                                     \
	X(AUTH_USER, "GF-AUTH-USER", "the username is not <role>.<id>")                            \
	X(AUTH_NOUSER, "GF-AUTH-NOUSER", "no client certificate and no username")                  \
	X(AUTH_CLIENTID, "GF-AUTH-CLIENTID", "the client id is not <role>.<id>[@suffix]")          \
	X(AUTH_REVOKED, "GF-AUTH-REVOKED", "the client certificate is revoked")                    \
	X(PAYLOAD, "GF-PAYLOAD-INVALID", "the payload is not a valid message of its type")         \
	X(BROKERFEED, "GF-ACL-BROKERFEED", "the broker's own feeds are for the site's ops only")   \
	X(ENCODING, "GF-ACL-ENCODING", "MQTT 3.1.1 clients receive JSON only")                     \
	X(LIMIT_PAYLOAD, "GF-LIMIT-PAYLOAD",                                                       \
	  "the payload is larger than the site allows for this message type")                      \
	X(LIMIT_SUBS, "GF-LIMIT-SUBS", "the client holds as many subscriptions as the site allows")

enum gf_reason {
#define GF__REASON_ENUM(name, msgid, text) GF_REASON_##name,
	GF_REASON_MAP(GF__REASON_ENUM)
#undef GF__REASON_ENUM
	    GF_REASON_COUNT
};

/* The stable message id of reason, e.g. "GF-ACL-SPOOF". Never NULL. */
const char *gf_reason_msgid(enum gf_reason reason);
/* A static, human-readable explanation of reason. Never NULL. */
const char *gf_reason_text(enum gf_reason reason);

#endif
