/* SPDX-License-Identifier: MIT */
/*
 * check_protobuf.c - the one-pass protobuf verdict (check.h,
 * gf__check_protobuf): the bytes walked once with the message descriptor,
 * the decoder's checks (codec_protobuf.c: wire types, lengths, integer
 * ranges, enum values, UTF-8 and NUL in strings, times, unknown and
 * duplicate fields, oneofs, required fields, nesting depth) and
 * gf_validate's rules applied as the values come, without building the
 * message.
 *
 * Each message is read into a partial copy on the stack (its singular
 * scalars, its time strings, the counts of its repeated fields) on which
 * validate.c runs the rules by name and the rule of its type; below a
 * FlexOffer, the values its rule reads (slice bounds, schedule slices) are
 * gathered as they pass. Messages whose rules read repeated values
 * (weather series, forecasts with bounds) and map fields are not decided
 * here (UNSURE): gf_check_message takes the full path for them.
 */
#define GF__CODEC_INTERNAL
#define GF__CHECK_INTERNAL
#define GF__VALIDATE_INTERNAL
#include "payload/check.h"

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "flexoffer.pb-c.h"
#include "payload/codec_pb_int.h"
#include "payload/validate.h"

#define MAX_FIELDS  64  /* larger types: UNSURE */
#define MAX_PARTIAL 512 /* bytes of a partial copy; larger types: UNSURE */
#define MAX_TIMES   8   /* singular time strings of one message */
#define TIME_LEN    48  /* longer time strings: UNSURE */
#define INFO_SLOTS  512 /* power of two, well above the number of message types */
#define INLINE_N    32  /* slices gathered without allocating */

enum role { R_NONE, R_PROFILE, R_ENERGY, R_TOTAL, R_SCHED0, R_SCHED1, R_SLICE };

/* Per field, made once per type. */
#define F_TIME     1u /* a time string */
#define F_MAP      2u /* a map<K, V> */
#define F_PACKABLE 4u /* a scalar that may come packed */
#define F_REPEATED 8u
#define F_REAL     16u /* a double or a float: must be finite */

struct finfo {
	unsigned char flags, want, role; /* want: its wire type; role: a child's */
	unsigned char mark;              /* gf__codec_mark_set's: 0 none, 1 has_, 2 oneof case */
};

/* What the walk needs of a message type, made at first sight. */
struct info {
	const ProtobufCMessageDescriptor *desc;
	const void *plan;
	enum gf__validate_kind kind;
	bool unsure; /* not decided here */
	unsigned char nrequired, nrepeated;
	unsigned char required[MAX_FIELDS], repeated[MAX_FIELDS]; /* field indexes */
	unsigned char by_num[MAX_FIELDS];                         /* field number: index + 1 */
	struct finfo fields[];
};

static _Atomic(struct info *) infos[INFO_SLOTS];

static enum role role_of_field(const ProtobufCMessageDescriptor *d,
                               const ProtobufCFieldDescriptor *f)
{
	if (d == &goflex__flex_offer__descriptor) {
		if (strcmp(f->name, "flexOfferProfileConstraints") == 0)
			return R_PROFILE;
		if (strcmp(f->name, "totalEnergyConstraint") == 0)
			return R_TOTAL;
		if (strcmp(f->name, "defaultSchedule") == 0)
			return R_SCHED0;
		if (strcmp(f->name, "flexOfferSchedule") == 0)
			return R_SCHED1;
	} else if (d == &goflex__flex_offer_profile_constraint__descriptor) {
		if (strcmp(f->name, "energyConstraintList") == 0)
			return R_ENERGY;
	} else if (d == &goflex__flex_offer_schedule__descriptor) {
		if (strcmp(f->name, "scheduleSlices") == 0)
			return R_SLICE;
	}
	return R_NONE;
}

static struct info *make_info(const ProtobufCMessageDescriptor *d)
{
	struct info *in = calloc(1, sizeof(*in) + d->n_fields * sizeof(struct finfo));
	struct gf__codec_map map;

	if (in == NULL)
		return NULL;
	in->desc = d;
	in->plan = gf__validate_plan(d);
	in->unsure =
	    in->plan == NULL || d->n_fields > MAX_FIELDS || d->sizeof_message > MAX_PARTIAL;
	if (in->plan != NULL)
		in->kind = gf__validate_kind(in->plan);
	in->unsure |= in->kind == GF__VALIDATE_TREE;
	for (unsigned i = 0; i < d->n_fields && !in->unsure; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		unsigned fl = 0;
		if (gf__codec_is_time_field(f))
			fl |= F_TIME;
		if (gf__codec_map_of(f, &map))
			fl |= F_MAP;
		if (packable(f->type))
			fl |= F_PACKABLE;
		if (f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_FLOAT)
			fl |= F_REAL;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			fl |= F_REPEATED;
			in->repeated[in->nrepeated++] = (unsigned char)i;
		}
		if (f->label == PROTOBUF_C_LABEL_REQUIRED)
			in->required[in->nrequired++] = (unsigned char)i;
		in->fields[i].flags = (unsigned char)fl;
		in->fields[i].want = (unsigned char)wire_type_of(f->type);
		in->fields[i].role = (unsigned char)role_of_field(d, f);
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			in->fields[i].mark = 2;
		else if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
		         f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			in->fields[i].mark = 1;
		if (f->id < MAX_FIELDS)
			in->by_num[f->id] = (unsigned char)(i + 1);
	}
	return in;
}

/* The info of d, NULL only when memory runs out; as validate.c's plans. */
static const struct info *info_of(const ProtobufCMessageDescriptor *d)
{
	size_t h = (size_t)(((uintptr_t)d >> 4) * 2654435761u);

	for (size_t i = 0; i < INFO_SLOTS; i++) {
		size_t k = (h + i) & (INFO_SLOTS - 1);
		struct info *p = atomic_load_explicit(&infos[k], memory_order_acquire);
		struct info *expected = NULL;
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

/* --- what a FlexOffer's rule reads below it ---------------------------------- */

struct grow {
	void *data;
	size_t n, cap;
};

/* Room for one more element of size es; the first INLINE_N are in inl. */
static void *grow_one(struct grow *g, void *inl, size_t es)
{
	if (g->data == NULL) {
		g->data = inl;
		g->cap = INLINE_N;
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

static void grow_free(struct grow *g, void *inl)
{
	if (g->data != NULL && g->data != inl)
		free(g->data);
}

struct fo_acc {
	struct grow slices, sched[2];
	bool has_total, has_sched[2];
	double total_lower, total_upper;
	char start[2][TIME_LEN];
	struct gf__validate_slice slices_inl[INLINE_N];
	struct gf__validate_sslice sched_inl[2][INLINE_N];
};

struct sched_ref {
	struct fo_acc *fo;
	int k;
};

/* --- the walk ----------------------------------------------------------------- */

static bool varint_ok(const ProtobufCFieldDescriptor *f, uint64_t v)
{
	int64_t sv = (int64_t)v;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
		return sv >= INT32_MIN && sv <= INT32_MAX;
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_UINT32:
		return v <= UINT32_MAX;
	case PROTOBUF_C_TYPE_BOOL:
		return v <= 1;
	case PROTOBUF_C_TYPE_ENUM:
		return sv >= INT32_MIN && sv <= INT32_MAX &&
		       protobuf_c_enum_descriptor_get_value(f->descriptor, (int)sv) != NULL;
	default:
		return true;
	}
}

/* A fixed-size value at q (4 or 8 bytes): false if a float or double is
 * not finite (gf_validate refuses those everywhere). */
static bool fixed_ok(const ProtobufCFieldDescriptor *f, const uint8_t *q)
{
	if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
		double v;
		memcpy(&v, q, sizeof(v)); /* little-endian hosts, as the decoder's load_le */
		return isfinite(v);
	}
	if (f->type == PROTOBUF_C_TYPE_FLOAT) {
		float v;
		memcpy(&v, q, sizeof(v));
		return isfinite(v);
	}
	return true;
}

static bool string_ok(bool time, const uint8_t *s, size_t n)
{
	int64_t ms;

	if (memchr(s, '\0', n) != NULL || !gf__codec_utf8_valid(s, n))
		return false;
	return !time || gf_time_parse((const char *)s, n, &ms) == GF_OK;
}

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint64_t num,
                                                unsigned *hint)
{
	const ProtobufCFieldDescriptor *f;
	unsigned h = *hint;

	if (h + 1 < d->n_fields && d->fields[h + 1].id == num) {
		*hint = h + 1;
		return &d->fields[h + 1];
	}
	if (h < d->n_fields && d->fields[h].id == num)
		return &d->fields[h];
	f = protobuf_c_message_descriptor_get_field(d, (unsigned)num);
	if (f != NULL)
		*hint = (unsigned)(f - d->fields);
	return f;
}

static bool oneof_taken(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
                        const uint32_t *counts)
{
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *g = &d->fields[i];
		if (g != f && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    g->quantifier_offset == f->quantifier_offset && counts[i] > 0)
			return true;
	}
	return false;
}

struct walker {
	unsigned depth;
	bool fa_busy; /* fa is taken by a FlexOffer being walked */
	struct fo_acc fa;
};

static enum gf__check_fast walk(struct walker *w, const ProtobufCMessageDescriptor *d,
                                const uint8_t *p, const uint8_t *end, enum role role, void *acc);

#define NO(x)                                                                                      \
	do {                                                                                       \
		rc = (x);                                                                          \
		goto out;                                                                          \
	} while (0)

/* One length-prefixed sub-message of field f (r: its role) of a message
 * in role self, with what that message gathers in mine. */
static enum gf__check_fast sub(struct walker *w, const ProtobufCFieldDescriptor *f, enum role r,
                               const uint8_t *q, const uint8_t *e, enum role self, void *mine)
{
	bool collect = (r == R_PROFILE || r == R_TOTAL || r == R_SCHED0 || r == R_SCHED1) ||
	               (r == R_ENERGY && self == R_PROFILE) ||
	               (r == R_SLICE && (self == R_SCHED0 || self == R_SCHED1));

	return walk(w, f->descriptor, q, e, collect ? r : R_NONE, collect ? mine : NULL);
}

static enum gf__check_fast walk(struct walker *w, const ProtobufCMessageDescriptor *d,
                                const uint8_t *p, const uint8_t *end, enum role role, void *acc)
{
	const struct info *in;
	_Alignas(16) unsigned char m[MAX_PARTIAL];
	uint32_t counts[MAX_FIELDS];
	char times[MAX_TIMES][TIME_LEN];
	unsigned ntimes = 0, hint = UINT_MAX; /* the next field tried first: 0 */
	struct fo_acc *fa = NULL;
	struct gf__validate_slice cur = {0, 0, -INFINITY, INFINITY, 0};
	struct sched_ref sref;
	void *mine = NULL;
	enum gf__check_fast rc = GF__CHECK_VALID;

	if (w->depth >= GF_CODEC_MAX_DEPTH)
		return GF__CHECK_INVALID;
	in = info_of(d);
	if (in == NULL || in->unsure)
		return GF__CHECK_UNSURE;
	w->depth++;
	protobuf_c_message_init(d, m);
	memset(counts, 0, d->n_fields * sizeof(counts[0]));
	if (in->kind == GF__VALIDATE_FLEXOFFER) {
		fa = w->fa_busy ? malloc(sizeof(*fa)) : &w->fa; /* an offer in an offer */
		if (fa == NULL)
			NO(GF__CHECK_UNSURE);
		w->fa_busy = true;
		memset(fa, 0, offsetof(struct fo_acc, slices_inl));
		mine = fa;
	} else if (role == R_PROFILE) {
		mine = &cur;
	} else if (role == R_SCHED0 || role == R_SCHED1) {
		sref.fo = acc;
		sref.k = role == R_SCHED0 ? 0 : 1;
		mine = &sref;
	}
	for (const uint8_t *q = p; q < end;) {
		const ProtobufCFieldDescriptor *f;
		const struct finfo *fi;
		uint64_t key, v, len;
		unsigned wt, want, fl;
		size_t idx;
		bool repeated;
		if (!varint(&q, end, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
			NO(GF__CHECK_INVALID);
		if ((key >> 3) < MAX_FIELDS && in->by_num[key >> 3] != 0) {
			idx = in->by_num[key >> 3] - 1u;
			f = &d->fields[idx];
		} else {
			f = field_of(d, key >> 3, &hint);
			if (f == NULL)
				NO(GF__CHECK_INVALID);
			idx = (size_t)(f - d->fields);
		}
		fi = &in->fields[idx];
		fl = fi->flags;
		repeated = fl & F_REPEATED;
		if ((!repeated && counts[idx] > 0) || (fi->mark == 2 && oneof_taken(d, f, counts)))
			NO(GF__CHECK_INVALID);
		wt = (unsigned)(key & 7);
		want = fi->want;
		if (wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && repeated && (fl & F_PACKABLE)) {
			const uint8_t *e;
			if (!varint(&q, end, &len) || len > (uint64_t)(end - q))
				NO(GF__CHECK_INVALID);
			for (e = q + len; q < e; counts[idx]++) {
				if (want == PROTOBUF_C_WIRE_TYPE_VARINT) {
					if (!varint(&q, e, &v) || !varint_ok(f, v))
						NO(GF__CHECK_INVALID);
				} else {
					size_t size = want == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
					if ((size_t)(e - q) < size ||
					    ((fl & F_REAL) && !fixed_ok(f, q)))
						NO(GF__CHECK_INVALID);
					q += size;
				}
			}
			continue;
		}
		if (wt != want)
			NO(GF__CHECK_INVALID);
		switch (wt) {
		case PROTOBUF_C_WIRE_TYPE_VARINT:
			if (!varint(&q, end, &v) || !varint_ok(f, v))
				NO(GF__CHECK_INVALID);
			if (!repeated)
				store_varint(f, v, m + f->offset);
			break;
		case PROTOBUF_C_WIRE_TYPE_64BIT:
		case PROTOBUF_C_WIRE_TYPE_32BIT: {
			size_t size = wt == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
			if ((size_t)(end - q) < size || ((fl & F_REAL) && !fixed_ok(f, q)))
				NO(GF__CHECK_INVALID);
			if (!repeated && size == 4)
				memcpy(m + f->offset, q, 4);
			else if (!repeated)
				memcpy(m + f->offset, q, 8);
			q += size;
			break;
		}
		default:
			if (!varint(&q, end, &len) || len > (uint64_t)(end - q))
				NO(GF__CHECK_INVALID);
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				if (!string_ok(fl & F_TIME, q, (size_t)len))
					NO(GF__CHECK_INVALID);
				if (!repeated && (fl & F_TIME)) { /* the rules read these */
					char *s;
					if (ntimes == MAX_TIMES || len >= TIME_LEN)
						NO(GF__CHECK_UNSURE);
					s = times[ntimes++];
					memcpy(s, q, (size_t)len);
					s[len] = '\0';
					memcpy(m + f->offset, &s, sizeof(s));
				}
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				if (fl & F_MAP)
					NO(GF__CHECK_UNSURE);
				rc = sub(w, f, (enum role)fi->role, q, q + len, role, mine);
				if (rc != GF__CHECK_VALID)
					goto out;
			}
			q += len;
		}
		if (fi->mark == 1) {
			protobuf_c_boolean has = 1;
			memcpy(m + f->quantifier_offset, &has, sizeof(has));
		} else if (fi->mark == 2) {
			uint32_t id = f->id;
			memcpy(m + f->quantifier_offset, &id, sizeof(id));
		}
		counts[idx]++;
	}
	for (unsigned i = 0; i < in->nrequired; i++) {
		if (counts[in->required[i]] == 0)
			NO(GF__CHECK_INVALID);
	}
	for (unsigned i = 0; i < in->nrepeated; i++) {
		size_t n = counts[in->repeated[i]];
		memcpy(m + d->fields[in->repeated[i]].quantifier_offset, &n, sizeof(n));
	}
	if (!gf__validate_local(in->plan, (const ProtobufCMessage *)(const void *)m))
		NO(GF__CHECK_INVALID);
	if (fa != NULL) {
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
		if (!gf__validate_flexoffer((const ProtobufCMessage *)(const void *)m, &s))
			NO(GF__CHECK_INVALID);
	}
	/* What this message gives the one that gathers. */
	switch (role) {
	case R_PROFILE: {
		const Goflex__FlexOfferProfileConstraint *x = (const void *)m;
		struct fo_acc *o = acc;
		struct gf__validate_slice *s = grow_one(&o->slices, o->slices_inl, sizeof(*s));
		if (s == NULL)
			NO(GF__CHECK_UNSURE);
		cur.min = x->minduration;
		cur.max = x->maxduration;
		*s = cur;
		break;
	}
	case R_ENERGY: {
		const Goflex__EnergyConstraint *x = (const void *)m;
		struct gf__validate_slice *s = acc;
		s->lower = fmax(s->lower, x->lower);
		s->upper = fmin(s->upper, x->upper);
		s->nconstraints++;
		break;
	}
	case R_TOTAL: {
		const Goflex__EnergyConstraint *x = (const void *)m;
		struct fo_acc *o = acc;
		o->has_total = true;
		o->total_lower = x->lower;
		o->total_upper = x->upper;
		break;
	}
	case R_SCHED0:
	case R_SCHED1: {
		const Goflex__FlexOfferSchedule *x = (const void *)m;
		struct fo_acc *o = acc;
		int k = role == R_SCHED0 ? 0 : 1;
		o->has_sched[k] = true;
		memcpy(o->start[k], x->starttime, strlen(x->starttime) + 1); /* < TIME_LEN */
		break;
	}
	case R_SLICE: {
		const Goflex__ScheduleSlice *x = (const void *)m;
		struct sched_ref *r = acc;
		struct gf__validate_sslice *s =
		    grow_one(&r->fo->sched[r->k], r->fo->sched_inl[r->k], sizeof(*s));
		if (s == NULL)
			NO(GF__CHECK_UNSURE);
		s->duration = x->duration;
		s->energy = x->energyamount;
		break;
	}
	default:
		break;
	}
out:
	if (fa != NULL) {
		grow_free(&fa->slices, fa->slices_inl);
		grow_free(&fa->sched[0], fa->sched_inl[0]);
		grow_free(&fa->sched[1], fa->sched_inl[1]);
		if (fa == &w->fa)
			w->fa_busy = false;
		else
			free(fa);
	}
	w->depth--;
	return rc;
}

enum gf__check_fast gf__check_protobuf(const ProtobufCMessageDescriptor *d, const uint8_t *data,
                                       size_t len)
{
	struct walker w;

	if (d == NULL || (data == NULL && len > 0))
		return GF__CHECK_UNSURE;
	w.depth = 0;
	w.fa_busy = false;
	return walk(&w, d, data, data + len, R_NONE, NULL);
}
