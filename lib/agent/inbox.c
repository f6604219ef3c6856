/* SPDX-License-Identifier: MIT */
#include "agent/inbox.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/hash.h"

#define LOG_NAME    "inbox.log"
#define DONE_NAME   "inbox.done"
#define REC_MAGIC   0x31584e49u /* "INX1" little-endian */
#define REC_MAX     (256u << 20)
#define FIELD_MAX   (1u << 16)
#define PATH_MAXLEN 4096

/* The fixed part of a log record; the four byte strings follow it. */
struct rec_head {
	uint32_t magic;
	uint32_t flags; /* bit 0: retained; bit 1: content type present */
	uint64_t seq;
	uint32_t topic_len, ct_len, corr_len, payload_len;
	uint64_t check; /* FNV-1a 64 over the head (check = 0) and the strings */
};

struct gf_inbox {
	pthread_mutex_t mu; /* the log files and sequence numbers */
	struct gf_mailbox *queue;
	int log_fd, done_fd; /* -1 without a directory */
	uint64_t next_seq;   /* of the next logged message */
	uint64_t logged;     /* highest seq in the log file, 0 when it is empty */
	size_t log_bytes;    /* the log file's size, but for a partial record */
	bool partial;        /* a record was written in part: cut off first */
};

/* Cuts off the part of a record a failed write left (a full disk): records
 * logged after it would be read at a replay as a torn tail and dropped,
 * although the broker had been told they were safe. Until that succeeds,
 * nothing more is logged. */
static bool tail_clean(struct gf_inbox *in)
{
	if (!in->partial)
		return true;
	if (ftruncate(in->log_fd, (off_t)in->log_bytes) != 0) {
		gf_log_err("GF-INBOX-WRITE", "cannot cut a partly written record off: %s",
		           strerror(errno));
		return false;
	}
	in->partial = false;
	return true;
}

static uint64_t rec_check(const struct rec_head *h, const void *const parts[4],
                          const size_t lens[4])
{
	struct rec_head copy = *h;
	uint64_t c;

	copy.check = 0;
	c = gf_fnv1a64(GF_FNV1A64_BASIS, &copy, sizeof(copy));
	for (int i = 0; i < 4; i++)
		c = gf_fnv1a64(c, parts[i], lens[i]);
	return c;
}

static char *dup_bytes(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		if (len)
			memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

static void item_free(struct gf_inbox_item *it)
{
	if (!it)
		return;
	free(it->topic);
	free(it->content_type);
	free(it->correlation);
	free(it->payload);
	free(it);
}

static void item_free_link(struct gf_mailbox_link *l)
{
	item_free(GF_MAILBOX_ITEM(l, struct gf_inbox_item, link));
}

/* Appends it to the queue and wakes the agent's thread. Messages are
 * queued with mu held, so that the queue keeps the log's order. */
static void enqueue(struct gf_inbox *in, struct gf_inbox_item *it)
{
	(void)gf_mailbox_push(in->queue, &it->link, false); /* unbounded: never fails */
}

static struct gf_inbox_item *message_item(const char *topic, size_t topic_len, const char *ct,
                                          size_t ct_len, const void *corr, size_t corr_len,
                                          const void *payload, size_t len, bool retained)
{
	struct gf_inbox_item *it = calloc(1, sizeof(*it));

	if (!it)
		return NULL;
	it->kind = GF_INBOX_MESSAGE;
	it->topic = dup_bytes(topic, topic_len);
	it->content_type = ct ? dup_bytes(ct, ct_len) : NULL;
	it->correlation = corr_len ? (unsigned char *)dup_bytes(corr, corr_len) : NULL;
	it->correlation_len = corr_len;
	it->payload = (unsigned char *)dup_bytes(payload, len);
	it->len = len;
	it->retained = retained;
	if (!it->topic || (ct && !it->content_type) || (corr_len && !it->correlation) ||
	    !it->payload) {
		item_free(it);
		return NULL;
	}
	return it;
}

/* --- the log -------------------------------------------------------------- */

static enum gf_err log_append(struct gf_inbox *in, struct gf_inbox_item *it)
{
	struct rec_head h = {REC_MAGIC, 0, 0, 0, 0, 0, 0, 0};
	const void *parts[4] = {it->topic, it->content_type ? it->content_type : "",
	                        it->correlation ? (const void *)it->correlation : "", it->payload};
	size_t lens[4] = {strlen(it->topic), it->content_type ? strlen(it->content_type) : 0,
	                  it->correlation_len, it->len};
	size_t total = sizeof(h), off;
	unsigned char *buf;
	ssize_t w;

	if (!tail_clean(in))
		return GF_EIO;
	h.flags = (it->retained ? 1u : 0u) | (it->content_type ? 2u : 0u);
	h.seq = it->seq;
	h.topic_len = (uint32_t)lens[0];
	h.ct_len = (uint32_t)lens[1];
	h.corr_len = (uint32_t)lens[2];
	h.payload_len = (uint32_t)lens[3];
	h.check = rec_check(&h, parts, lens);
	for (int i = 0; i < 4; i++)
		total += lens[i];
	buf = malloc(total);
	if (!buf)
		return GF_ENOMEM;
	memcpy(buf, &h, sizeof(h));
	off = sizeof(h);
	for (int i = 0; i < 4; i++) {
		if (lens[i])
			memcpy(buf + off, parts[i], lens[i]);
		off += lens[i];
	}
	/* One write: a SIGKILL cannot stop a regular-file write halfway. */
	w = write(in->log_fd, buf, total);
	free(buf);
	if (w != (ssize_t)total) {
		gf_log_err("GF-INBOX-WRITE", "cannot log a message: %s",
		           w < 0 ? strerror(errno) : "short write");
		if (w > 0) {
			in->partial = true;
			(void)tail_clean(in);
		}
		return GF_EIO;
	}
	in->logged = it->seq;
	in->log_bytes += total;
	return GF_OK;
}

/* Reads the next record at *pos of the log image, or returns NULL at the
 * end, at a torn or corrupt record (*torn set then), or when a sound
 * record's copy cannot be made (*nomem set then: the log is left alone). */
static struct gf_inbox_item *log_read(const unsigned char *img, size_t size, size_t *pos,
                                      bool *torn, bool *nomem)
{
	struct rec_head h;
	const void *parts[4];
	size_t lens[4], off = *pos + sizeof(h), need;
	struct gf_inbox_item *it;

	if (*pos == size)
		return NULL;
	*torn = true;
	if (size - *pos < sizeof(h))
		return NULL;
	memcpy(&h, img + *pos, sizeof(h));
	lens[0] = h.topic_len;
	lens[1] = h.ct_len;
	lens[2] = h.corr_len;
	lens[3] = h.payload_len;
	need = lens[0] + lens[1] + lens[2] + lens[3];
	if (h.magic != REC_MAGIC || lens[0] > FIELD_MAX || lens[1] > FIELD_MAX ||
	    lens[2] > FIELD_MAX || lens[3] > REC_MAX || need > size - off)
		return NULL;
	for (int i = 0; i < 4; i++) {
		parts[i] = img + off;
		off += lens[i];
	}
	if (rec_check(&h, parts, lens) != h.check)
		return NULL;
	it = message_item(parts[0], lens[0], (h.flags & 2u) ? parts[1] : NULL, lens[1], parts[2],
	                  lens[2], parts[3], lens[3], (h.flags & 1u) != 0);
	if (!it) {
		*torn = false;
		*nomem = true;
		return NULL;
	}
	it->seq = h.seq;
	it->replayed = true;
	*torn = false;
	*pos = off;
	return it;
}

static enum gf_err read_all(int fd, unsigned char **out, size_t *size)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;

	if (fstat(fd, &st) != 0)
		return GF_EIO;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return GF_ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	*out = buf;
	*size = got;
	return GF_OK;
}

/* Queues the messages of the log that are not done; truncates a torn tail. */
static enum gf_err replay(struct gf_inbox *in, size_t *count)
{
	unsigned char *img = NULL;
	uint64_t done = 0;
	size_t size = 0, pos = 0;
	bool torn = false, nomem = false;
	struct gf_inbox_item *it;
	enum gf_err rc;

	if (pread(in->done_fd, &done, sizeof(done), 0) != (ssize_t)sizeof(done))
		done = 0;
	rc = read_all(in->log_fd, &img, &size);
	if (rc != GF_OK)
		return rc;
	in->next_seq = done + 1;
	while ((it = log_read(img, size, &pos, &torn, &nomem)) != NULL) {
		if (it->seq >= in->next_seq)
			in->next_seq = it->seq + 1;
		in->logged = it->seq;
		if (it->seq <= done) {
			item_free(it);
			continue;
		}
		enqueue(in, it);
		(*count)++;
	}
	free(img);
	if (nomem)
		return GF_ENOMEM; /* the log as it is, for the next start */
	if (torn) {
		gf_log_warning("GF-INBOX-TORN",
		               "the inbox log ends in a torn or corrupt record at byte %zu of %zu; "
		               "dropped (the broker redelivers what was not acknowledged)",
		               pos, size);
		if (ftruncate(in->log_fd, (off_t)pos) != 0)
			return GF_EIO;
		size = pos;
	}
	in->log_bytes = size;
	if (lseek(in->log_fd, 0, SEEK_END) < 0)
		return GF_EIO;
	return GF_OK;
}

static int open_in(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAXLEN];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | (strcmp(name, LOG_NAME) == 0 ? O_APPEND : 0),
	          0600);
	if (fd < 0)
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

enum gf_err gf_inbox_open(const char *dir, struct gf_inbox **out, size_t *replayed, char *err,
                          size_t errlen)
{
	struct gf_inbox *in = calloc(1, sizeof(*in));
	size_t count = 0;
	enum gf_err rc = GF_ENOMEM;

	if (!in)
		goto out;
	pthread_mutex_init(&in->mu, NULL);
	in->log_fd = in->done_fd = -1;
	in->next_seq = 1;
	rc = gf_mailbox_open(0, &in->queue, err, errlen);
	if (rc != GF_OK)
		goto out;
	rc = GF_EIO;
	if (dir) {
		in->log_fd = open_in(dir, LOG_NAME, err, errlen);
		if (in->log_fd < 0)
			goto out;
		/* One reader and writer: a second process on the same state
		 * (two agents given one state_dir, a FOA hosted twice) would
		 * replay and acknowledge the same messages and cut the other's
		 * records as torn. Held until the log is closed. */
		if (flock(in->log_fd, LOCK_EX | LOCK_NB) != 0) {
			if (errno == EWOULDBLOCK)
				snprintf(
				    err, errlen,
				    "the inbox in %s is in use by another agent (one state_dir "
				    "per agent)",
				    dir);
			else
				snprintf(err, errlen, "cannot lock the inbox in %s: %s", dir,
				         strerror(errno));
			goto out;
		}
		in->done_fd = open_in(dir, DONE_NAME, err, errlen);
		if (in->done_fd < 0)
			goto out;
		rc = replay(in, &count);
		if (rc != GF_OK) {
			snprintf(err, errlen, "cannot read the inbox log in %s: %s", dir,
			         gf_strerror(rc));
			goto out;
		}
	}
	rc = GF_OK;
out:
	if (rc != GF_OK) {
		gf_inbox_close(in);
		return rc;
	}
	if (replayed)
		*replayed = count;
	*out = in;
	return GF_OK;
}

int gf_inbox_fd(const struct gf_inbox *in)
{
	return gf_mailbox_fd(in->queue);
}

void gf_inbox_drain(struct gf_inbox *in)
{
	gf_mailbox_drain(in->queue);
}

enum gf_err gf_inbox_push_message(struct gf_inbox *in, const char *topic, size_t topic_len,
                                  const char *content_type, size_t content_type_len,
                                  const void *correlation, size_t correlation_len,
                                  const void *payload, size_t len, bool retained)
{
	struct gf_inbox_item *it;
	enum gf_err rc = GF_OK;

	if (topic_len > FIELD_MAX || content_type_len > FIELD_MAX || correlation_len > FIELD_MAX ||
	    len > REC_MAX)
		return GF_ETOOLONG;
	it = message_item(topic, topic_len, content_type, content_type_len, correlation,
	                  correlation_len, payload, len, retained);
	if (!it)
		return GF_ENOMEM;
	pthread_mutex_lock(&in->mu);
	it->seq = in->next_seq;
	if (in->log_fd >= 0)
		rc = log_append(in, it);
	if (rc == GF_OK) {
		in->next_seq++;
		enqueue(in, it);
	}
	pthread_mutex_unlock(&in->mu);
	if (rc != GF_OK)
		item_free(it);
	return rc;
}

enum gf_err gf_inbox_push_event(struct gf_inbox *in, enum gf_inbox_kind kind, int reason,
                                uint64_t tag, const char *text)
{
	struct gf_inbox_item *it = calloc(1, sizeof(*it));

	if (!it)
		return GF_ENOMEM;
	it->kind = kind;
	it->reason = reason;
	it->tag = tag;
	snprintf(it->text, sizeof(it->text), "%s", text ? text : "");
	enqueue(in, it);
	return GF_OK;
}

struct gf_inbox_item *gf_inbox_take(struct gf_inbox *in)
{
	struct gf_mailbox_link *l = gf_mailbox_pop(in->queue);

	return l ? GF_MAILBOX_ITEM(l, struct gf_inbox_item, link) : NULL;
}

void gf_inbox_done(struct gf_inbox *in, struct gf_inbox_item *item)
{
	if (!item)
		return;
	if (item->kind == GF_INBOX_MESSAGE && in->done_fd >= 0) {
		pthread_mutex_lock(&in->mu);
		if (pwrite(in->done_fd, &item->seq, sizeof(item->seq), 0) !=
		    (ssize_t)sizeof(item->seq))
			gf_log_err("GF-INBOX-WRITE", "cannot mark message %llu done: %s",
			           (unsigned long long)item->seq, strerror(errno));
		/* Everything logged is done and the log has grown: start it
		 * afresh. The done mark keeps the sequence numbers going up,
		 * and a replay skips what it marks done. */
		else if (item->seq == in->logged && in->log_bytes >= GF_INBOX_LOG_KEEP &&
		         ftruncate(in->log_fd, 0) == 0) {
			in->logged = 0;
			in->log_bytes = 0;
		}
		pthread_mutex_unlock(&in->mu);
	}
	item_free(item);
}

void gf_inbox_release(struct gf_inbox *in, struct gf_inbox_item *item)
{
	(void)in;
	item_free(item);
}

void gf_inbox_close(struct gf_inbox *in)
{
	if (!in)
		return;
	gf_mailbox_close(in->queue, item_free_link);
	if (in->log_fd >= 0)
		close(in->log_fd);
	if (in->done_fd >= 0)
		close(in->done_fd);
	pthread_mutex_destroy(&in->mu);
	free(in);
}
