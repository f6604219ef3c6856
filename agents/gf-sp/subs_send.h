/* SPDX-License-Identifier: MIT */
/*
 * subs_send.h - what the subscriptions (subs.c: in memory, the timer, the
 * work after readings, subscribe) and their sending (subs_send.c) share.
 */
#ifndef GF_SP_SUBS_SEND_H
#define GF_SP_SUBS_SEND_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "sp.h"

enum stmt { ST_DIRTY, ST_SENT_GET, ST_SENT_PUT, ST_PENDING_PUT, ST_PENDING_DEL, ST_N };

struct sub {
	char *subscriber, *id; /* doms.<subscriber>, subscriptionId */
	int64_t len_ms;        /* interval length */
	int64_t from_ms;       /* the first interval it covers */
	char **meters, **grids;
	size_t nmeters, ngrids;
};

/* A meter watched by a subscription, directly (grid NULL) or as a member
 * of one of its grid points. */
struct watch {
	const char *meter;
	struct sub *sub;
	const char *grid;
};

struct sp_subs {
	struct sub *v;
	size_t n;
	struct watch *w;
	size_t nw;
	sqlite3_stmt *st[ST_N];
	uint64_t timer; /* the work's timer, 0: none */
	double timer_at;
};

/* A value to send. */
struct emit {
	const struct sub *sub;
	char *device;
	int64_t end_ms;
	double v;
};

/* One transaction's work. */
struct work {
	struct sp *sp;
	double now_s;
	struct emit *e;
	size_t n, cap;
	size_t bad;      /* meters left out: their register decreases */
	size_t messages; /* meter.data queued */
	/* grid points to evaluate, with their ranges */
	struct grid_work {
		const struct sub *sub;
		const char *grid;
		int64_t start, end;
	} * g;
	size_t ng;
};

/* A meter's complete intervals in [start, end) for sub. */
enum gf_err sp_subs_send_meter(struct work *w, const struct sub *sub, const char *meter,
                               int64_t start, int64_t end);
/* A grid point's intervals in [start, end) for sub: the k_min rule. */
enum gf_err sp_subs_send_grid(struct work *w, const struct sub *sub, const char *grid,
                              int64_t start, int64_t end);
/* Adds [start, end) of sub's grid point to the grid work. */
enum gf_err sp_subs_send_add_grid(struct work *w, const struct sub *sub, const char *grid,
                                  int64_t start, int64_t end);
/* sp_subs_send_grid for each grid point of the work. */
enum gf_err sp_subs_send_grids(struct work *w);
/* Queues what w collected, per subscriber, DATA_MAX readings a message. */
enum gf_err sp_subs_send_all(struct work *w);
void sp_subs_send_free(struct work *w);

#endif
