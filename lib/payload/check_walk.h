/* SPDX-License-Identifier: MIT */
/*
 * check_walk.h - what the one-pass verdicts (check_protobuf.c,
 * check_json.c; check.h) share: per message type a table made at first
 * sight, and per message being walked a partial copy on the stack (its
 * singular scalars, its time strings, the counts of its repeated fields) on
 * which validate.c runs the rules by name and the rule of its type when the
 * message ends; below a FlexOffer, what its rule reads (slice bounds,
 * schedule slices) is gathered as the messages end. The encodings' walks
 * read the bytes and fill the copy; this module opens and closes messages.
 * For lib/payload/check_*.c only.
 */
#ifndef GF_CHECK_WALK_H
#define GF_CHECK_WALK_H

#define GF__CHECK_INTERNAL
#define GF__VALIDATE_INTERNAL
#include "payload/check.h"
#include "payload/validate.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define GF__CHECK_MAX_FIELDS  64  /* larger types: UNSURE */
#define GF__CHECK_MAX_PARTIAL 512 /* bytes of a partial copy; larger types: UNSURE */
#define GF__CHECK_MAX_TIMES   8   /* singular time strings of one message */
#define GF__CHECK_TIME_LEN    48  /* longer time strings: UNSURE */
#define GF__CHECK_INLINE_N    32  /* slices gathered without allocating */

/* What a message is to the FlexOffer above it, if anything. */
enum gf__check_role {
	GF__CHECK_R_NONE,
	GF__CHECK_R_PROFILE, /* a flexOfferProfileConstraints element */
	GF__CHECK_R_ENERGY,  /* an energyConstraintList element of one */
	GF__CHECK_R_TOTAL,   /* totalEnergyConstraint */
	GF__CHECK_R_SCHED0,  /* defaultSchedule */
	GF__CHECK_R_SCHED1,  /* flexOfferSchedule */
	GF__CHECK_R_SLICE,   /* a scheduleSlices element of one */
};

struct gf__check_info;

/* Per field, made once per type. */
#define GF__CHECK_F_TIME     1u /* a time string */
#define GF__CHECK_F_MAP      2u /* a map<K, V> */
#define GF__CHECK_F_PACKABLE 4u /* a scalar that may come packed */
#define GF__CHECK_F_REPEATED 8u
#define GF__CHECK_F_REAL     16u /* a double or a float: must be finite */
#define GF__CHECK_F_INT      32u /* an integer type (not bool, not enum) */

struct gf__check_finfo {
	unsigned char flags, want, role; /* want: its wire type; role: a child's */
	unsigned char mark;              /* gf__codec_mark_set's: 0 none, 1 has_, 2 oneof case */
	unsigned char namelen;           /* strlen of its name; 0 if 255 or more */
	/* Its name and a '"' as a JSON key's first 16 bytes after the opening
	 * quote, and which of them count; mask 0 if they do not fit. */
	uint64_t key[2], keymask[2];
	/* A message field's type's table once looked up (gf__check_child_info) */
	_Atomic(const struct gf__check_info *) child;
};

/* What a walk needs of a message type. */
struct gf__check_info {
	const ProtobufCMessageDescriptor *desc;
	const void *plan;
	enum gf__validate_kind kind;
	bool unsure; /* not decided here */
	unsigned char nrequired, nrepeated;
	unsigned char required[GF__CHECK_MAX_FIELDS], repeated[GF__CHECK_MAX_FIELDS];
	unsigned char by_num[GF__CHECK_MAX_FIELDS]; /* field number: index + 1 */
	/* A one-byte protobuf key (field number < 16): index + 1 when its wire
	 * type is the field's own and the field is no oneof member; else 0. */
	unsigned char by_key[128];
	struct gf__check_finfo fields[];
};

/* The slices a FlexOffer's rule reads, gathered below it. */
struct gf__check_grow {
	void *data;
	size_t n, cap;
};

struct gf__check_fo {
	struct gf__check_grow slices, sched[2];
	bool has_total, has_sched[2];
	double total_lower, total_upper;
	char start[2][GF__CHECK_TIME_LEN];
	struct gf__validate_slice slices_inl[GF__CHECK_INLINE_N];
	struct gf__validate_sslice sched_inl[2][GF__CHECK_INLINE_N];
};

/* What a schedule's slices gather into: its offer's, and which schedule. */
struct gf__check_sref {
	struct gf__check_fo *fo;
	int k;
};

/* One verdict's state: the nesting depth and the FlexOffer gatherer. */
struct gf__check_walker {
	unsigned depth;
	bool fa_busy; /* fa is taken by a FlexOffer being walked */
	struct gf__check_fo fa;
};

/* One message being walked. The walk sets, per field read: the partial
 * copy's member (singular scalars), its has_ or oneof case (mark), counts. */
struct gf__check_msg {
	const ProtobufCMessageDescriptor *d;
	const struct gf__check_info *in;
	enum gf__check_role role;
	void *acc;  /* what the message above gathers into */
	void *mine; /* what this message's children gather into */
	struct gf__check_fo *fa;
	struct gf__validate_slice cur;
	struct gf__check_sref sref;
	/* The time strings read (known.n of them, in times) with their instants,
	 * which the rules take instead of parsing the strings again; known.text
	 * and known.ms are set with the first. */
	struct gf__validate_times known;
	uint32_t counts[GF__CHECK_MAX_FIELDS]; /* values read per field index */
	char times[GF__CHECK_MAX_TIMES][GF__CHECK_TIME_LEN];
	const char *time_text[GF__CHECK_MAX_TIMES]; /* times[i], for the rules */
	int64_t time_ms[GF__CHECK_MAX_TIMES];       /* its instant, parsed by the walk */
	_Alignas(16) unsigned char m[GF__CHECK_MAX_PARTIAL];
};

/* The table of d, made at first sight and kept; NULL only when memory runs
 * out. */
const struct gf__check_info *gf__check_walk_info(const ProtobufCMessageDescriptor *d);

/* For gf__check_open and gf__check_close below: the FlexOffer gatherer of
 * an offer x (UNSURE when memory runs out); the rules on x's copy and what
 * it gives the message above; the gatherer's release. */
enum gf__check_fast gf__check_walk_offer(struct gf__check_walker *w, struct gf__check_msg *x);
enum gf__check_fast gf__check_walk_finish(struct gf__check_msg *x);
void gf__check_walk_release(struct gf__check_walker *w, struct gf__check_msg *x);

/* The table of message field f's type (fi: f's info), kept in fi after
 * the first look-up; NULL only when memory runs out. The tables are never
 * freed, so the pointer stays good. */
static inline const struct gf__check_info *gf__check_child_info(const struct gf__check_finfo *fi,
                                                                const ProtobufCFieldDescriptor *f)
{
	/* fi lives in a calloc'd table: its const is the walks', not the object's */
	struct gf__check_finfo *slot = (struct gf__check_finfo *)(uintptr_t)fi;
	const struct gf__check_info *in = atomic_load_explicit(&slot->child, memory_order_acquire);

	if (in == NULL) {
		in = gf__check_walk_info(f->descriptor);
		if (in != NULL)
			atomic_store_explicit(&slot->child, in, memory_order_release);
	}
	return in;
}

/*
 * Opens x, a message of the type of table in (NULL: memory ran out) in role
 * (acc: what the message above gathers into). VALID: opened, and gf__check_close must follow.
 * INVALID when it nests deeper than GF_CODEC_MAX_DEPTH, UNSURE when the type is not decided here or
 * memory runs out; then nothing is to be closed. Inline, as the close: once per message, in the
 * walks' inner loop.
 */
static inline enum gf__check_fast gf__check_open(struct gf__check_walker *w,
                                                 struct gf__check_msg *x,
                                                 const struct gf__check_info *in,
                                                 enum gf__check_role role, void *acc)
{
	const ProtobufCMessageDescriptor *d;

	if (w->depth >= GF_CODEC_MAX_DEPTH)
		return GF__CHECK_INVALID;
	if (in == NULL || in->unsure)
		return GF__CHECK_UNSURE;
	d = in->desc;
	x->d = d;
	x->in = in;
	x->role = role;
	x->acc = acc;
	x->mine = NULL;
	x->fa = NULL;
	x->known.n = 0;
	d->message_init((ProtobufCMessage *)(void *)x->m); /* protobuf_c_message_init's one step */
	/* Most types have few fields: a constant size is a few stores, not a
	 * call. */
	if (d->n_fields <= 8)
		memset(x->counts, 0, 8 * sizeof(x->counts[0]));
	else
		memset(x->counts, 0, d->n_fields * sizeof(x->counts[0]));
	/* An offer, or a message its children gather into (walk_offer's cases) */
	if ((in->kind == GF__VALIDATE_FLEXOFFER || role == GF__CHECK_R_PROFILE ||
	     role == GF__CHECK_R_SCHED0 || role == GF__CHECK_R_SCHED1) &&
	    gf__check_walk_offer(w, x) != GF__CHECK_VALID)
		return GF__CHECK_UNSURE;
	w->depth++;
	return GF__CHECK_VALID;
}

/*
 * Closes x with the walk's verdict on its fields so far, rc. When VALID:
 * its required fields (counts), the counts of its repeated fields into the
 * copy, the rules on the copy, the FlexOffer rule, and what it gives the
 * message above. Returns the verdict.
 */
static inline enum gf__check_fast gf__check_close(struct gf__check_walker *w,
                                                  struct gf__check_msg *x, enum gf__check_fast rc)
{
	if (rc == GF__CHECK_VALID)
		rc = gf__check_walk_finish(x);
	if (x->fa != NULL)
		gf__check_walk_release(w, x);
	w->depth--;
	return rc;
}

/* The role of a child in field role r (finfo.role) of x, and in *acc what
 * it gathers into. */
static inline enum gf__check_role gf__check_child(const struct gf__check_msg *x,
                                                  enum gf__check_role r, void **acc)
{
	enum gf__check_role self = x->role;
	bool collect =
	    (r == GF__CHECK_R_PROFILE || r == GF__CHECK_R_TOTAL || r == GF__CHECK_R_SCHED0 ||
	     r == GF__CHECK_R_SCHED1) ||
	    (r == GF__CHECK_R_ENERGY && self == GF__CHECK_R_PROFILE) ||
	    (r == GF__CHECK_R_SLICE && (self == GF__CHECK_R_SCHED0 || self == GF__CHECK_R_SCHED1));

	*acc = collect ? x->mine : NULL;
	return collect ? r : GF__CHECK_R_NONE;
}

/* A singular time string s[0..n) of field f, the instant ms, into the
 * copy (the rules read them, and take ms instead of parsing s again); VALID,
 * or UNSURE when there are too many or it is too long. */
static inline enum gf__check_fast gf__check_time(struct gf__check_msg *x,
                                                 const ProtobufCFieldDescriptor *f, const void *s,
                                                 size_t n, int64_t ms)
{
	char *t;

	if (x->known.n == GF__CHECK_MAX_TIMES || n >= GF__CHECK_TIME_LEN)
		return GF__CHECK_UNSURE;
	t = x->times[x->known.n];
	x->known.text = x->time_text;
	x->known.ms = x->time_ms;
	x->time_text[x->known.n] = t;
	x->time_ms[x->known.n++] = ms;
	memcpy(t, s, n);
	t[n] = '\0';
	memcpy(x->m + f->offset, &t, sizeof(t));
	return GF__CHECK_VALID;
}

/* A value of field f (info fi) was read: its has_ or oneof case in the copy. */
static inline void gf__check_mark(struct gf__check_msg *x, const ProtobufCFieldDescriptor *f,
                                  const struct gf__check_finfo *fi)
{
	if (fi->mark == 1) {
		protobuf_c_boolean has = 1;
		memcpy(x->m + f->quantifier_offset, &has, sizeof(has));
	} else if (fi->mark == 2) {
		uint32_t id = f->id;
		memcpy(x->m + f->quantifier_offset, &id, sizeof(id));
	}
}

#endif
