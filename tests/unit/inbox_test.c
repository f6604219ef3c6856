/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/agent/inbox.h: order, durability across a "crash"
 * (closing without done), torn logs, truncation, and of lib/agent/simclock.h. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/inbox.h"
#include "leak_check.h"
#include "agent/simclock.h"

TestSuite(inbox, .fini = leak_check);

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gf-inbox-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static struct gf_inbox *open_inbox(size_t *replayed)
{
	struct gf_inbox *in = NULL;
	char err[256] = "";

	cr_assert_eq(gf_inbox_open(dir, &in, replayed, err, sizeof(err)), GF_OK, "%s", err);
	return in;
}

static void push(struct gf_inbox *in, const char *topic, const char *payload)
{
	cr_assert_eq(gf_inbox_push_message(in, topic, strlen(topic), "application/json", 16, "c1",
	                                   2, payload, strlen(payload), false),
	             GF_OK);
}

static off_t log_size(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/inbox.log", dir);
	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

/* A memory-only inbox, and p set to poll its descriptor. */
static struct gf_inbox *memory_inbox(struct pollfd *p)
{
	struct gf_inbox *in = NULL;
	char err[64];

	cr_assert_eq(gf_inbox_open(NULL, &in, NULL, err, sizeof(err)), GF_OK);
	p->fd = gf_inbox_fd(in);
	p->events = POLLIN;
	return in;
}

Test(inbox, messages_and_events_in_order_with_fd_signal)
{
	struct pollfd p;
	struct gf_inbox *in = memory_inbox(&p);
	struct gf_inbox_item *it;

	cr_assert_eq(poll(&p, 1, 0), 0, "nothing queued: the fd must not poll readable");
	push(in, "a/b", "{\"x\":1}");
	cr_assert_eq(gf_inbox_push_event(in, GF_INBOX_PUBLISHED, 0, 42, NULL), GF_OK);
	cr_assert_eq(poll(&p, 1, 0), 1);
	it = gf_inbox_take(in);
	cr_assert_eq(it->kind, GF_INBOX_MESSAGE);
	cr_assert_str_eq(it->topic, "a/b");
	cr_assert_str_eq(it->content_type, "application/json");
	cr_assert_eq(it->correlation_len, 2);
	cr_assert_eq(memcmp(it->correlation, "c1", 2), 0);
	cr_assert_eq(it->len, 7);
	cr_assert_str_eq((char *)it->payload, "{\"x\":1}");
	cr_assert(!it->replayed);
	gf_inbox_done(in, it);
	it = gf_inbox_take(in);
	cr_assert_eq(it->kind, GF_INBOX_PUBLISHED);
	cr_assert_eq(it->tag, 42);
	gf_inbox_done(in, it);
	cr_assert_null(gf_inbox_take(in));
	cr_assert_eq(poll(&p, 1, 0), 0, "drained: the fd must be reset");
	gf_inbox_close(in);
}

/* A message taken but never marked done comes back after a restart, once,
 * with replayed set; one marked done does not. */
Test(inbox, undone_messages_survive_a_crash)
{
	struct gf_inbox *in;
	struct gf_inbox_item *it;
	size_t replayed = 99;

	make_dir();
	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 0);
	push(in, "t/1", "one");
	push(in, "t/2", "two");
	push(in, "t/3", "three");
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "one");
	gf_inbox_done(in, it);
	it = gf_inbox_take(in); /* "two" is being handled when the process dies */
	cr_assert_str_eq((char *)it->payload, "two");
	gf_inbox_release(in, it);
	gf_inbox_close(in);

	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 2);
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "two");
	cr_assert(it->replayed);
	cr_assert_str_eq(it->content_type, "application/json");
	gf_inbox_done(in, it);
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "three");
	gf_inbox_done(in, it);
	cr_assert_gt(log_size(), 0, "everything done, the log small: kept as it is");
	push(in, "t/4", "four");
	gf_inbox_close(in);

	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 1);
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "four");
	cr_assert_gt(it->seq, 3, "sequence numbers keep going up");
	gf_inbox_done(in, it);
	gf_inbox_close(in);
	remove_dir();
}

/* Once everything in it is done and it has grown to GF_INBOX_LOG_KEEP, the
 * log starts afresh; until then a reopen skips the messages marked done. */
Test(inbox, a_grown_log_is_cut_back_once_all_in_it_is_done)
{
	static char big[4097];
	struct gf_inbox *in;
	struct gf_inbox_item *it;
	size_t replayed = 99, n = 0;
	uint64_t last;

	memset(big, 'x', sizeof(big) - 1);
	make_dir();
	in = open_inbox(&replayed);
	while (log_size() < (off_t)GF_INBOX_LOG_KEEP) {
		push(in, "t/big", big);
		n++;
	}
	cr_assert_gt(n, 2);
	for (size_t i = 0; i + 1 < n; i++)
		gf_inbox_done(in, gf_inbox_take(in));
	cr_assert_geq(log_size(), (off_t)GF_INBOX_LOG_KEEP, "one not done: the log is kept");
	gf_inbox_close(in);

	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 1, "only the message not done comes back");
	it = gf_inbox_take(in);
	cr_assert(it->replayed);
	last = it->seq;
	gf_inbox_done(in, it);
	cr_assert_eq(log_size(), 0, "all done and the log grown: truncated");
	push(in, "t/after", "after");
	gf_inbox_close(in);

	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 1);
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "after");
	cr_assert_gt(it->seq, last, "sequence numbers keep going up across the truncation");
	gf_inbox_done(in, it);
	gf_inbox_close(in);
	remove_dir();
}

/* The same in one run (no reopen): the log counts what it has written. */
Test(inbox, a_log_grown_in_one_run_is_cut_back)
{
	static char big[4097];
	struct gf_inbox *in;
	size_t replayed, n = 0;

	memset(big, 'y', sizeof(big) - 1);
	make_dir();
	in = open_inbox(&replayed);
	while (log_size() < (off_t)GF_INBOX_LOG_KEEP) {
		push(in, "t/big", big);
		n++;
	}
	for (size_t i = 0; i < n; i++)
		gf_inbox_done(in, gf_inbox_take(in));
	cr_assert_eq(log_size(), 0, "all done and grown: truncated");
	gf_inbox_close(in);
	remove_dir();
}

/* A torn tail cut off at the open is not counted in the log's size: the
 * log is not truncated early because of bytes that are gone. */
Test(inbox, a_torn_tail_cut_off_is_not_counted)
{
	static char junk[70 << 10];
	struct gf_inbox *in;
	size_t replayed;
	char path[128];
	FILE *log;

	make_dir();
	in = open_inbox(&replayed);
	push(in, "t/1", "one");
	gf_inbox_done(in, gf_inbox_take(in));
	gf_inbox_close(in);
	snprintf(path, sizeof(path), "%s/inbox.log", dir);
	log = fopen(path, "a");
	cr_assert_not_null(log);
	memset(junk, 0x5a, sizeof(junk));
	cr_assert_eq(fwrite(junk, 1, sizeof(junk), log), sizeof(junk));
	fclose(log);
	cr_assert_gt(log_size(), (off_t)GF_INBOX_LOG_KEEP);

	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 0);
	cr_assert_lt(log_size(), 1024, "the torn tail is cut off");
	push(in, "t/2", "two");
	gf_inbox_done(in, gf_inbox_take(in));
	cr_assert_gt(log_size(), 0, "a small log is kept: the junk is not counted");
	gf_inbox_close(in);
	remove_dir();
}

/* A record written in part (a full disk; here the file size limit) is cut
 * off: that message is refused (the broker sends it again), and those
 * logged after it come back at a replay. */
Test(inbox, a_record_written_in_part_is_cut_off)
{
	struct gf_inbox *in;
	struct gf_inbox_item *it;
	struct rlimit old, lim;
	size_t replayed;
	off_t one;

	make_dir();
	in = open_inbox(&replayed);
	push(in, "t/1", "one");
	one = log_size();
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)one + 30;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cr_assert_eq(gf_inbox_push_message(in, "t/2", 3, NULL, 0, NULL, 0, "two", 3, false), GF_EIO,
	             "written in part: refused");
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	cr_assert_eq(log_size(), one, "the part written is cut off");
	push(in, "t/3", "three");
	gf_inbox_done(in, gf_inbox_take(in));
	gf_inbox_close(in); /* a crash: "three" is not done */

	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 1, "the message logged after the partial one comes back");
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "three");
	gf_inbox_done(in, it);
	gf_inbox_close(in);
	remove_dir();
}

/* An address-space limit starves ASan's own allocator (it reserves
 * terabytes): the next test runs in the plain build only. */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED

/* The process's address space now, in bytes (VmSize). */
static size_t vm_size(void)
{
	char line[128];
	size_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	cr_assert_gt(kb, 0);
	return kb << 10;
}

/* A sound record that cannot be copied at an open (no memory) fails the
 * open and leaves the log alone: it is not cut off as a torn tail. */
Test(inbox, no_memory_at_a_replay_leaves_the_log_alone)
{
	static char big[1 << 20];
	struct gf_inbox *in = NULL;
	struct gf_inbox_item *it;
	struct rlimit old, lim;
	size_t replayed;
	off_t size;
	char err[256] = "";
	enum gf_err rc;

	memset(big, 'm', sizeof(big) - 1);
	make_dir();
	in = open_inbox(&replayed);
	push(in, "t/big", big);
	gf_inbox_close(in); /* not done: it comes back at the next open */
	size = log_size();

	/* Room for the log's image (1 MiB), not for its record's copy too. */
	cr_assert_eq(getrlimit(RLIMIT_AS, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)(vm_size() + (3u << 19));
	cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
	in = NULL;
	rc = gf_inbox_open(dir, &in, &replayed, err, sizeof(err));
	cr_assert_eq(setrlimit(RLIMIT_AS, &old), 0);
	cr_assert_eq(rc, GF_ENOMEM, "%s", err);
	cr_assert_null(in);
	cr_assert(strstr(err, "out of memory") != NULL, "says why: %s", err);
	cr_assert_eq(log_size(), size, "the log is left as it was");

	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 1, "with memory, the message comes back");
	it = gf_inbox_take(in);
	cr_assert_eq(it->len, sizeof(big) - 1);
	gf_inbox_done(in, it);
	gf_inbox_close(in);
	remove_dir();
}
#endif

/* What is pushed while the owner drains does not wake it (it takes it in
 * the same drain); the drain ends at the take that leaves the inbox empty,
 * and the next push wakes the owner as usual. */
Test(inbox, a_drain_takes_what_is_pushed_without_waking_and_ends_when_empty)
{
	struct pollfd p;
	struct gf_inbox *in = memory_inbox(&p);
	struct gf_inbox_item *it;

	gf_inbox_drain(in);
	push(in, "a", "1");
	cr_assert_eq(gf_inbox_push_event(in, GF_INBOX_PUBLISHED, 0, 7, NULL), GF_OK);
	cr_assert_eq(poll(&p, 1, 0), 0, "pushed during a drain: no wake-up");
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "1");
	gf_inbox_done(in, it);
	it = gf_inbox_take(in);
	cr_assert_eq(it->kind, GF_INBOX_PUBLISHED);
	gf_inbox_done(in, it);
	cr_assert_null(gf_inbox_take(in));
	push(in, "b", "2");
	push(in, "c", "3");
	cr_assert_eq(poll(&p, 1, 0), 1, "after the drain a push wakes the owner");
	gf_inbox_done(in, gf_inbox_take(in));
	cr_assert_eq(poll(&p, 1, 0), 1, "one item left: still readable");
	gf_inbox_done(in, gf_inbox_take(in));
	cr_assert_null(gf_inbox_take(in));
	cr_assert_eq(poll(&p, 1, 0), 0, "empty: reset");
	gf_inbox_drain(in);
	cr_assert_null(gf_inbox_take(in), "a drain with nothing pushed ends at once");
	push(in, "d", "4");
	cr_assert_eq(poll(&p, 1, 0), 1, "so the next push wakes the owner");
	gf_inbox_done(in, gf_inbox_take(in));
	gf_inbox_close(in);
}

/* A record cut short (a power cut mid-write) or corrupted is dropped with
 * what follows it; the records before it come back. */
Test(inbox, torn_and_corrupt_tails_are_dropped)
{
	char path[128];
	struct gf_inbox *in;
	struct gf_inbox_item *it;
	size_t replayed;
	off_t one;
	int fd;

	make_dir();
	in = open_inbox(NULL);
	push(in, "t/1", "first");
	one = log_size();
	push(in, "t/2", "second");
	gf_inbox_close(in);
	snprintf(path, sizeof(path), "%s/inbox.log", dir);
	cr_assert_eq(truncate(path, log_size() - 3), 0);
	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 1);
	cr_assert_eq(log_size(), one, "the torn tail must be cut off");
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "first");
	gf_inbox_release(in, it);
	push(in, "t/3", "third");
	gf_inbox_close(in);

	/* Flip a payload byte of the last record: its check fails. */
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "X", 1, log_size() - 1), 1);
	close(fd);
	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 1);
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "first");
	gf_inbox_done(in, it);
	cr_assert_null(gf_inbox_take(in));
	gf_inbox_close(in);
	remove_dir();
}

Test(inbox, unusable_directory_is_an_error)
{
	struct gf_inbox *in = NULL;
	char err[256] = "";

	cr_assert_eq(gf_inbox_open("/nonexistent/dir", &in, NULL, err, sizeof(err)), GF_EIO);
	cr_assert_null(in);
	cr_assert(strstr(err, "/nonexistent/dir/inbox.log") != NULL, "%s", err);
}

/* One agent per inbox: a second open of the same directory (another
 * process, or another bus of this one) is refused, saying why, and leaves
 * the first one's records alone; once the first is closed it opens. */
Test(inbox, a_second_open_of_the_same_inbox_is_refused)
{
	struct gf_inbox *in, *again = NULL;
	struct gf_inbox_item *it;
	char err[256] = "";
	size_t replayed;
	off_t size;

	make_dir();
	in = open_inbox(NULL);
	push(in, "t/1", "one");
	size = log_size();
	cr_assert_eq(gf_inbox_open(dir, &again, NULL, err, sizeof(err)), GF_EIO);
	cr_assert_null(again);
	cr_assert(strstr(err, "is in use by another agent") != NULL && strstr(err, dir) != NULL,
	          "%s", err);
	cr_assert_eq(log_size(), size, "the first one's log untouched");
	it = gf_inbox_take(in);
	cr_assert_str_eq((char *)it->payload, "one");
	gf_inbox_release(in, it);
	gf_inbox_close(in);
	in = open_inbox(&replayed);
	cr_assert_eq(replayed, 1, "closed: the next open has it");
	gf_inbox_close(in);
	remove_dir();
}

Test(inbox, simclock_maps_real_to_simulated_time)
{
	struct gf_simclock c;

	cr_assert_eq(gf_simclock_init(&c, 0, 0, 0), GF_EINVAL);
	cr_assert_eq(gf_simclock_init(&c, NAN, 0, 1), GF_EINVAL);
	/* 2020-02-27T00:00:00Z at real 1000 s, 96x: a day in 900 real s. */
	cr_assert_eq(gf_simclock_init(&c, 1582761600.0, 1000.0, 96.0), GF_OK);
	cr_assert_float_eq(gf_simclock_at(&c, 1000.0), 1582761600.0, 1e-6);
	cr_assert_float_eq(gf_simclock_at(&c, 1900.0), 1582761600.0 + 86400.0, 1e-6);
	cr_assert_float_eq(gf_simclock_real_at(&c, 1582761600.0 + 900.0), 1009.375, 1e-9);
	cr_assert_eq(gf_simclock_interval(1582761600.0 + 899.9), 1758624);
	cr_assert_eq(gf_simclock_interval(1582761600.0 + 900.0), 1758625);
	cr_assert_eq(gf_simclock_interval(-1.0), -1);
	cr_assert_eq(gf_simclock_ms_until(&c, 0), 0, "a past time is due now");
	/* Anchored at the real now, 1 simulated hour at 3600x is 1 real s. */
	cr_assert_eq(gf_simclock_init(&c, 0, gf_simclock_real_now(), 3600.0), GF_OK);
	cr_assert(gf_simclock_ms_until(&c, 3600.0) > 900 &&
	          gf_simclock_ms_until(&c, 3600.0) <= 1000);
}
