/* SPDX-License-Identifier: MIT */
#include "agent/mailbox.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/log.h"

struct gf_mailbox {
	pthread_mutex_t mu; /* head, tail, count, signaled, quiet */
	struct gf_mailbox_link *head, *tail;
	size_t count, max;
	int efd;
	bool signaled; /* the eventfd was written since its last reset */
	bool quiet;    /* gf_mailbox_drain: pushes make no wake-up */
};

enum gf_err gf_mailbox_open(size_t max, struct gf_mailbox **out, char *err, size_t errlen)
{
	struct gf_mailbox *mb = calloc(1, sizeof(*mb));

	if (!mb) {
		snprintf(err, errlen, "out of memory");
		return GF_ENOMEM;
	}
	mb->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mb->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		free(mb);
		return GF_EIO;
	}
	pthread_mutex_init(&mb->mu, NULL);
	mb->max = max;
	*out = mb;
	return GF_OK;
}

int gf_mailbox_fd(const struct gf_mailbox *mb)
{
	return mb->efd;
}

/* With mu held. Written once until the next reset (a second write would
 * change nothing but cost a system call); a failure here only delays the
 * wake-up until the next push. */
static void signal_owner(struct gf_mailbox *mb)
{
	uint64_t one = 1;

	if (mb->signaled)
		return;
	if (write(mb->efd, &one, sizeof(one)) < 0)
		gf_log_warning("GF-INBOX-WAKE", "cannot signal the agent thread: %s",
		               strerror(errno));
	else
		mb->signaled = true;
}

enum gf_err gf_mailbox_push(struct gf_mailbox *mb, struct gf_mailbox_link *l, bool bounded)
{
	pthread_mutex_lock(&mb->mu);
	if (bounded && mb->max && mb->count >= mb->max) {
		pthread_mutex_unlock(&mb->mu);
		return GF_EFULL;
	}
	l->next = NULL;
	if (mb->tail)
		mb->tail->next = l;
	else
		mb->head = l;
	mb->tail = l;
	mb->count++;
	if (!mb->quiet)
		signal_owner(mb);
	pthread_mutex_unlock(&mb->mu);
	return GF_OK;
}

void gf_mailbox_wake(struct gf_mailbox *mb)
{
	pthread_mutex_lock(&mb->mu);
	signal_owner(mb);
	pthread_mutex_unlock(&mb->mu);
}

void gf_mailbox_drain(struct gf_mailbox *mb)
{
	pthread_mutex_lock(&mb->mu);
	mb->quiet = true;
	pthread_mutex_unlock(&mb->mu);
}

struct gf_mailbox_link *gf_mailbox_pop(struct gf_mailbox *mb)
{
	struct gf_mailbox_link *l;
	uint64_t drained;

	pthread_mutex_lock(&mb->mu);
	l = mb->head;
	if (l) {
		mb->head = l->next;
		if (!mb->head)
			mb->tail = NULL;
		l->next = NULL;
		mb->count--;
	}
	/* Reset under mu, so that a push cannot slip between the emptiness
	 * seen here and the reset and leave an item with no wake-up; a drain
	 * ends here too, so the next push wakes the owner again. */
	if (!mb->head) {
		mb->quiet = false;
		if (mb->signaled && read(mb->efd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
			gf_log_warning("GF-INBOX-WAKE", "cannot reset the inbox eventfd: %s",
			               strerror(errno));
		mb->signaled = false;
	}
	pthread_mutex_unlock(&mb->mu);
	return l;
}

bool gf_mailbox_wait(struct gf_mailbox *mb, int timeout_ms)
{
	struct pollfd p = {.fd = mb->efd, .events = POLLIN, .revents = 0};

	return poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN);
}

void gf_mailbox_close(struct gf_mailbox *mb, void (*free_item)(struct gf_mailbox_link *l))
{
	struct gf_mailbox_link *l, *next;

	if (!mb)
		return;
	for (l = mb->head; l; l = next) {
		next = l->next;
		if (free_item)
			free_item(l);
	}
	close(mb->efd);
	pthread_mutex_destroy(&mb->mu);
	free(mb);
}
