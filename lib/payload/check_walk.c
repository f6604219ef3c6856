/* SPDX-License-Identifier: MIT */
/*
 * check_walk.c - what the one-pass verdicts share (check_walk.h): the
 * per-type tables, opening and closing a message's partial copy, the rules
 * run on it, and the FlexOffer's slices gathered from the messages below it.
 */
#define GF__CODEC_INTERNAL
#include "payload/check_walk.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "flexoffer.pb-c.h"
#include "payload/codec_pb_int.h"

#define INFO_SLOTS 512 /* power of two, well above the number of message types */

static _Atomic(struct gf__check_info *) infos[INFO_SLOTS];

static enum gf__check_role role_of_field(const ProtobufCMessageDescriptor *d,
                                         const ProtobufCFieldDescriptor *f)
{
	if (d == &goflex__flex_offer__descriptor) {
		if (strcmp(f->name, "flexOfferProfileConstraints") == 0)
			return GF__CHECK_R_PROFILE;
		if (strcmp(f->name, "totalEnergyConstraint") == 0)
			return GF__CHECK_R_TOTAL;
		if (strcmp(f->name, "defaultSchedule") == 0)
			return GF__CHECK_R_SCHED0;
		if (strcmp(f->name, "flexOfferSchedule") == 0)
			return GF__CHECK_R_SCHED1;
	} else if (d == &goflex__flex_offer_profile_constraint__descriptor) {
		if (strcmp(f->name, "energyConstraintList") == 0)
			return GF__CHECK_R_ENERGY;
	} else if (d == &goflex__flex_offer_schedule__descriptor) {
		if (strcmp(f->name, "scheduleSlices") == 0)
			return GF__CHECK_R_SLICE;
	}
	return GF__CHECK_R_NONE;
}

static struct gf__check_info *make_info(const ProtobufCMessageDescriptor *d)
{
	struct gf__check_info *in =
	    calloc(1, sizeof(*in) + d->n_fields * sizeof(struct gf__check_finfo));
	struct gf__codec_map map;

	if (in == NULL)
		return NULL;
	in->desc = d;
	in->plan = gf__validate_plan(d);
	in->unsure = in->plan == NULL || d->n_fields > GF__CHECK_MAX_FIELDS ||
	             d->sizeof_message > GF__CHECK_MAX_PARTIAL;
	if (in->plan != NULL)
		in->kind = gf__validate_kind(in->plan);
	in->unsure |= in->kind == GF__VALIDATE_TREE;
	for (unsigned i = 0; i < d->n_fields && !in->unsure; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t namelen = strlen(f->name);
		unsigned fl = 0;
		if (gf__codec_is_time_field(f))
			fl |= GF__CHECK_F_TIME;
		if (gf__codec_map_of(f, &map))
			fl |= GF__CHECK_F_MAP;
		if (packable(f->type))
			fl |= GF__CHECK_F_PACKABLE;
		if (f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_FLOAT)
			fl |= GF__CHECK_F_REAL;
		else if (packable(f->type) && f->type != PROTOBUF_C_TYPE_BOOL &&
		         f->type != PROTOBUF_C_TYPE_ENUM)
			fl |= GF__CHECK_F_INT; /* packable, and no real, bool or enum */
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			fl |= GF__CHECK_F_REPEATED;
			in->repeated[in->nrepeated++] = (unsigned char)i;
		}
		if (f->label == PROTOBUF_C_LABEL_REQUIRED)
			in->required[in->nrequired++] = (unsigned char)i;
		in->fields[i].flags = (unsigned char)fl;
		in->fields[i].want = (unsigned char)wire_type_of(f->type);
		in->fields[i].role = (unsigned char)role_of_field(d, f);
		in->fields[i].namelen = namelen < 255 ? (unsigned char)namelen : 0;
		if (namelen + 1 <= sizeof(in->fields[i].key)) {
			unsigned char key[16] = {0}, mask[16] = {0};
			memcpy(key, f->name, namelen);
			key[namelen] = '"';
			memset(mask, 0xff, namelen + 1);
			memcpy(in->fields[i].key, key, sizeof(key));
			memcpy(in->fields[i].keymask, mask, sizeof(mask));
		}
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			in->fields[i].mark = 2;
		else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		         f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			in->fields[i].mark = 1;
		if (f->id < GF__CHECK_MAX_FIELDS)
			in->by_num[f->id] = (unsigned char)(i + 1);
		if (f->id < 16 && in->fields[i].mark != 2)
			in->by_key[(f->id << 3) | in->fields[i].want] = (unsigned char)(i + 1);
	}
	return in;
}

/* As validate.c's plans: a lock-free table, an entry never removed. */
const struct gf__check_info *gf__check_walk_info(const ProtobufCMessageDescriptor *d)
{
	size_t h = (size_t)(((uintptr_t)d >> 4) * 2654435761u);

	for (size_t i = 0; i < INFO_SLOTS; i++) {
		size_t k = (h + i) & (INFO_SLOTS - 1);
		struct gf__check_info *p = atomic_load_explicit(&infos[k], memory_order_acquire);
		struct gf__check_info *expected = NULL;
		if (p) {
			if (p->desc == d)
				return p;
			continue;
		}
		if (!(p = make_info(d)))
			return NULL;
		if (atomic_compare_exchange_strong_explicit(
		        &infos[k], &expected, p, memory_order_acq_rel, memory_order_acquire))
			return p;
		free(p);
		if (expected->desc == d)
			return expected;
	}
	return NULL;
}

/* Room for one more element of size es; the first GF__CHECK_INLINE_N are in
 * inl. */
static void *grow_one(struct gf__check_grow *g, void *inl, size_t es)
{
	if (g->data == NULL) {
		g->data = inl;
		g->cap = GF__CHECK_INLINE_N;
	}
	if (g->n == g->cap) {
		void *p =
		    g->data == inl ? malloc(2 * g->cap * es) : realloc(g->data, 2 * g->cap * es);
		if (p == NULL)
			return NULL;
		if (g->data == inl)
			memcpy(p, inl, g->n * es);
		g->data = p;
		g->cap *= 2;
	}
	return (unsigned char *)g->data + g->n++ * es;
}

static void grow_free(struct gf__check_grow *g, void *inl)
{
	if (g->data != NULL && g->data != inl)
		free(g->data);
}

enum gf__check_fast gf__check_walk_offer(struct gf__check_walker *w, struct gf__check_msg *x)
{
	if (x->in->kind == GF__VALIDATE_FLEXOFFER) {
		struct gf__check_fo *fa = w->fa_busy ? malloc(sizeof(*fa)) : &w->fa; /* nested */
		if (fa == NULL)
			return GF__CHECK_UNSURE;
		w->fa_busy = true;
		memset(fa, 0, offsetof(struct gf__check_fo, slices_inl));
		x->fa = x->mine = fa;
	} else if (x->role == GF__CHECK_R_PROFILE) {
		x->cur = (struct gf__validate_slice){0, 0, -INFINITY, INFINITY, 0};
		x->mine = &x->cur;
	} else if (x->role == GF__CHECK_R_SCHED0 || x->role == GF__CHECK_R_SCHED1) {
		x->sref.fo = x->acc;
		x->sref.k = x->role == GF__CHECK_R_SCHED0 ? 0 : 1;
		x->mine = &x->sref;
	}
	return GF__CHECK_VALID;
}

/* The FlexOffer rule on offer x's copy and what was gathered below it. Out
 * of line: its frame is for one message in a hundred. */
static __attribute__((noinline)) bool offer_ok(const struct gf__check_msg *x)
{
	const struct gf__check_fo *fa = x->fa;
	struct gf__validate_fo s = {
	    .slices = fa->slices.data,
	    .nslices = fa->slices.n,
	    .has_total = fa->has_total,
	    .total_lower = fa->total_lower,
	    .total_upper = fa->total_upper,
	};

	for (int k = 0; k < 2; k++) {
		s.sched[k].start = fa->has_sched[k] ? fa->start[k] : NULL;
		s.sched[k].slices = fa->sched[k].data;
		s.sched[k].nslices = fa->sched[k].n;
	}
	return gf__validate_flexoffer((const ProtobufCMessage *)(const void *)x->m, &s);
}

/* The rules on x's copy, and what x gives the message above. */
enum gf__check_fast gf__check_walk_finish(struct gf__check_msg *x)
{
	const ProtobufCMessageDescriptor *d = x->d;
	const struct gf__check_info *in = x->in;
	const unsigned char *m = x->m;

	for (unsigned i = 0; i < in->nrequired; i++) {
		if (x->counts[in->required[i]] == 0)
			return GF__CHECK_INVALID;
	}
	for (unsigned i = 0; i < in->nrepeated; i++) {
		size_t n = x->counts[in->repeated[i]];
		memcpy(x->m + d->fields[in->repeated[i]].quantifier_offset, &n, sizeof(n));
	}
	if (!gf__validate_local(in->plan, (const ProtobufCMessage *)(const void *)m, &x->known))
		return GF__CHECK_INVALID;
	if (x->fa != NULL && !offer_ok(x))
		return GF__CHECK_INVALID;
	switch (x->role) {
	case GF__CHECK_R_PROFILE: {
		const Goflex__FlexOfferProfileConstraint *c = (const void *)m;
		struct gf__check_fo *o = x->acc;
		struct gf__validate_slice *s = grow_one(&o->slices, o->slices_inl, sizeof(*s));
		if (s == NULL)
			return GF__CHECK_UNSURE;
		x->cur.min = c->minduration;
		x->cur.max = c->maxduration;
		*s = x->cur;
		break;
	}
	case GF__CHECK_R_ENERGY: {
		const Goflex__EnergyConstraint *c = (const void *)m;
		struct gf__validate_slice *s = x->acc;
		s->lower = fmax(s->lower, c->lower);
		s->upper = fmin(s->upper, c->upper);
		s->nconstraints++;
		break;
	}
	case GF__CHECK_R_TOTAL: {
		const Goflex__EnergyConstraint *c = (const void *)m;
		struct gf__check_fo *o = x->acc;
		o->has_total = true;
		o->total_lower = c->lower;
		o->total_upper = c->upper;
		break;
	}
	case GF__CHECK_R_SCHED0:
	case GF__CHECK_R_SCHED1: {
		const Goflex__FlexOfferSchedule *c = (const void *)m;
		struct gf__check_fo *o = x->acc;
		int k = x->role == GF__CHECK_R_SCHED0 ? 0 : 1;
		o->has_sched[k] = true;
		memcpy(o->start[k], c->starttime,
		       strlen(c->starttime) + 1); /* < GF__CHECK_TIME_LEN */
		break;
	}
	case GF__CHECK_R_SLICE: {
		const Goflex__ScheduleSlice *c = (const void *)m;
		struct gf__check_sref *r = x->acc;
		struct gf__validate_sslice *s =
		    grow_one(&r->fo->sched[r->k], r->fo->sched_inl[r->k], sizeof(*s));
		if (s == NULL)
			return GF__CHECK_UNSURE;
		s->duration = c->duration;
		s->energy = c->energyamount;
		break;
	}
	default:
		break;
	}
	return GF__CHECK_VALID;
}

void gf__check_walk_release(struct gf__check_walker *w, struct gf__check_msg *x)
{
	struct gf__check_fo *fa = x->fa;

	grow_free(&fa->slices, fa->slices_inl);
	grow_free(&fa->sched[0], fa->sched_inl[0]);
	grow_free(&fa->sched[1], fa->sched_inl[1]);
	if (fa == &w->fa)
		w->fa_busy = false;
	else
		free(fa);
}
