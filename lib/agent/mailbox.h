/* SPDX-License-Identifier: MIT */
/*
 * mailbox.h - a FIFO that hands items from any thread (paho's callbacks in
 * local.c and gfctl's connect.c; the bus's client on the agent's own thread)
 * to one owner thread, with a file descriptor to poll.
 *
 * Items are the caller's structs with a struct gf_mailbox_link inside
 * (GF_MAILBOX_ITEM gets the struct back); the mailbox never allocates per
 * item, so a push cannot fail for memory. The descriptor (an eventfd) is
 * readable while items are queued (but for those pushed during a
 * gf_mailbox_drain), or after gf_mailbox_wake until the next pop finds the
 * queue empty. It is written once per wake-up, not once per item.
 *
 * Threads: gf_mailbox_push and gf_mailbox_wake from any thread; pop, fd,
 * wait and close on the owner's. The mailbox's lock is never held while
 * calling out, so a caller may push while holding a lock of its own.
 */
#ifndef GF_MAILBOX_H
#define GF_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct gf_mailbox_link {
	struct gf_mailbox_link *next;
};

/* The struct of type `type` whose member `member` is the link l. */
#define GF_MAILBOX_ITEM(l, type, member) ((type *)(void *)((char *)(l)-offsetof(type, member)))

struct gf_mailbox;

/* A mailbox holding at most max items pushed as bounded (0: no bound).
 * The caller owns *out (gf_mailbox_close). GF_ENOMEM, or GF_EIO when the
 * eventfd cannot be made (err says why). */
enum gf_err gf_mailbox_open(size_t max, struct gf_mailbox **out, char *err, size_t errlen);

/* The descriptor to poll for POLLIN. */
int gf_mailbox_fd(const struct gf_mailbox *mb);

/* Appends l at the tail and makes the descriptor readable. A bounded push
 * into a mailbox holding max items or more is refused with GF_EFULL (the
 * caller still owns l); unbounded ones (events a wrapper must not lose)
 * always succeed. Any thread. */
enum gf_err gf_mailbox_push(struct gf_mailbox *mb, struct gf_mailbox_link *l, bool bounded);

/* Makes the descriptor readable without an item, to wake the owner for a
 * change of state it keeps elsewhere (e.g. a lost connection). Any thread. */
void gf_mailbox_wake(struct gf_mailbox *mb);

/* The owner is about to pop until the mailbox is empty (the bus's client
 * reads its socket, which pushes, then the agent pops): pushes until then
 * make the descriptor readable no more, saving an eventfd write and read
 * per wake-up. The drain ends at the pop that leaves the mailbox empty
 * (taking its last item, or finding none), so a push from any thread is
 * either popped in it or wakes the owner after it. Owner's thread. */
void gf_mailbox_drain(struct gf_mailbox *mb);

/* Takes the head, or NULL when empty; the descriptor stops being readable
 * once the mailbox is empty. Owner's thread. */
struct gf_mailbox_link *gf_mailbox_pop(struct gf_mailbox *mb);

/* Waits up to timeout_ms (-1: no limit) for the descriptor to become
 * readable; true when it is. An interrupted wait returns false. */
bool gf_mailbox_wait(struct gf_mailbox *mb, int timeout_ms);

/* Frees the mailbox, handing each item still queued to free_item (may be
 * NULL: the items are dropped). Accepts NULL. No push may run any more. */
void gf_mailbox_close(struct gf_mailbox *mb, void (*free_item)(struct gf_mailbox_link *l));

#endif
