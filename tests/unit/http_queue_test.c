/* SPDX-License-Identifier: MIT */
/* Unit tests of gf-http's durable state (agents/gf-http/queue.c) on a real
 * SQLite store: replies kept until acked, in order, a poll at most max of
 * them, still there after the store is closed and opened again; offers and
 * the states FMAN's acks and assignments give them (a refusal after an
 * acceptance refuses the change only); the ids' counter. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "leak_check.h"

TestSuite(http_queue, .fini = leak_check);

static struct gf_store *open_store(char *dir)
{
	struct gf_store *s = NULL;
	char err[256] = "";

	cr_assert_eq(gf_store_open(dir, "http", http_queue_schema, &s, err, sizeof(err)), GF_OK,
	             "%s", err);
	return s;
}

/* The seqs of a poll, "1 2 3", and its last. */
static void poll(struct gf_store *s, int64_t ack, long max, char *seqs, size_t size, int64_t *last)
{
	cJSON *arr = NULL, *o;
	size_t n = 0;

	seqs[0] = '\0';
	cr_assert_eq(http_queue_replies(s, ack, max, &arr, last), GF_OK);
	cJSON_ArrayForEach(o, arr)
	{
		n += (size_t)snprintf(seqs + n, size - n, "%s%d", n ? " " : "",
		                      cJSON_GetObjectItem(o, "seq")->valueint);
		cr_assert_str_eq(cJSON_GetObjectItem(o, "msg")->valuestring, "foa.reply");
		cr_assert(cJSON_IsObject(cJSON_GetObjectItem(o, "reply")));
	}
	cJSON_Delete(arr);
}

Test(http_queue, replies_until_acked)
{
	char dir[] = "/tmp/gf-http-queue-XXXXXX", seqs[128], body[64], cmd[64];
	struct gf_store *s;
	int64_t last = -1;

	cr_assert_not_null(mkdtemp(dir));
	s = open_store(dir);
	poll(s, 0, 10, seqs, sizeof(seqs), &last);
	cr_assert_str_eq(seqs, "");
	cr_assert_eq(last, 0, "nothing waiting: last is the ack");
	for (int i = 1; i <= 3; i++) {
		snprintf(body, sizeof(body), "{\"ack\":{\"ack\":true},\"n\":%d}", i);
		cr_assert_eq(http_queue_reply_add(s, "foa.reply", body, "2020-02-27T12:00:00Z"),
		             GF_OK);
	}
	poll(s, 0, 10, seqs, sizeof(seqs), &last);
	cr_assert_str_eq(seqs, "1 2 3");
	cr_assert_eq(last, 3);
	poll(s, 0, 10, seqs, sizeof(seqs), &last);
	cr_assert_str_eq(seqs, "1 2 3", "not acked: the same again");
	poll(s, 0, 2, seqs, sizeof(seqs), &last);
	cr_assert_str_eq(seqs, "1 2", "at most max");
	cr_assert_eq(last, 2);
	poll(s, 2, 10, seqs, sizeof(seqs), &last);
	cr_assert_str_eq(seqs, "3");
	/* kept across a close (as across a kill -9: each commit is durable) */
	gf_store_close(s);
	s = open_store(dir);
	poll(s, 0, 10, seqs, sizeof(seqs), &last);
	cr_assert_str_eq(seqs, "3");
	cr_assert_eq(http_queue_reply_add(s, "foa.reply", "{}", "2020-02-27T12:00:01Z"), GF_OK);
	poll(s, 3, 10, seqs, sizeof(seqs), &last);
	cr_assert_str_eq(seqs, "4", "seqs never go back");
	poll(s, 99, 10, seqs, sizeof(seqs), &last);
	cr_assert_str_eq(seqs, "");
	cr_assert_eq(last, 99);
	gf_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static void state_is(struct gf_store *s, const char *id, const char *state, const char *reason)
{
	struct http_offer o = {0};
	bool found = false;

	cr_assert_eq(http_queue_offer_get(s, id, &o, &found), GF_OK);
	cr_assert(found, "%s", id);
	cr_assert_str_eq(o.state, state, "%s", id);
	if (reason)
		cr_assert_str_eq(o.reason ? o.reason : "(null)", reason, "%s", id);
	http_queue_offer_clear(&o);
}

Test(http_queue, offers)
{
	char dir[] = "/tmp/gf-http-queue-XXXXXX", cmd[64], *text;
	const char *now = "2020-02-27T12:00:00Z";
	struct gf_store *s;
	struct http_offer o = {0};
	bool found = true;
	cJSON *list = NULL;
	int64_t n = 0;

	cr_assert_not_null(mkdtemp(dir));
	s = open_store(dir);
	cr_assert_eq(http_queue_offer_get(s, "q1-1", &o, &found), GF_OK);
	cr_assert(!found);
	cr_assert_eq(http_queue_offer_put(s, "q1-1", "{\"id\":\"q1-1\"}", "Offered", now), GF_OK);
	cr_assert_eq(http_queue_offer_put(s, "q1-2", "{\"id\":\"q1-2\"}", "Offered", now), GF_OK);
	/* a refusal of an offer never accepted: Rejected */
	cr_assert_eq(http_queue_offer_ack(s, "q1-2", false, "too late", false, NULL, now, &found),
	             GF_OK);
	cr_assert(found);
	state_is(s, "q1-2", "Rejected", "too late");
	/* accepted; an update refused: the state stays, the reason is kept */
	cr_assert_eq(http_queue_offer_ack(s, "q1-1", true, "accepted", false, NULL, now, &found),
	             GF_OK);
	state_is(s, "q1-1", "Accepted", "accepted");
	cr_assert_eq(http_queue_offer_put(s, "q1-1", "{\"id\":\"q1-1\",\"v\":2}", "Offered", now),
	             GF_OK);
	state_is(s, "q1-1", "Offered", "(null)");
	cr_assert_eq(http_queue_offer_ack(s, "q1-1", false, "bad update", false, NULL, now, &found),
	             GF_OK);
	state_is(s, "q1-1", "Offered", "bad update");
	cr_assert_eq(http_queue_offer_ack(s, "q1-1", true, "updated", false, NULL, now, &found),
	             GF_OK);
	state_is(s, "q1-1", "Accepted", "updated");
	/* assigned, then executed */
	cr_assert_eq(http_queue_offer_assign(s, "q1-1", "{\"scheduleId\":7}", now, &found), GF_OK);
	cr_assert(found);
	cr_assert_eq(http_queue_offer_get(s, "q1-1", &o, &found), GF_OK);
	cr_assert_str_eq(o.state, "Assigned");
	cr_assert_str_eq(o.schedule, "{\"scheduleId\":7}");
	cr_assert_str_eq(o.offer, "{\"id\":\"q1-1\",\"v\":2}");
	cr_assert(o.accepted);
	http_queue_offer_clear(&o);
	cr_assert_eq(http_queue_offer_ack(s, "q1-1", true, "late ack", false, NULL, now, &found),
	             GF_OK);
	state_is(s, "q1-1", "Assigned", "late ack");
	cr_assert_eq(http_queue_offer_ack(s, "q1-1", true, NULL, true, "{\"gain\":1}", now, &found),
	             GF_OK);
	cr_assert_eq(http_queue_offer_get(s, "q1-1", &o, &found), GF_OK);
	cr_assert_str_eq(o.state, "Executed");
	cr_assert_str_eq(o.execution, "{\"gain\":1}");
	http_queue_offer_clear(&o);
	/* unknown offers */
	cr_assert_eq(http_queue_offer_ack(s, "zz", true, NULL, false, NULL, now, &found), GF_OK);
	cr_assert(!found);
	cr_assert_eq(http_queue_offer_assign(s, "zz", "{}", now, &found), GF_OK);
	cr_assert(!found);
	/* the list */
	cr_assert_eq(http_queue_offer_list(s, &list), GF_OK);
	text = cJSON_PrintUnformatted(list);
	cr_assert_str_eq(text, "[{\"id\":\"q1-1\",\"state\":\"Executed\"},{\"id\":\"q1-2\","
	                       "\"state\":\"Rejected\",\"stateReason\":\"too late\"}]");
	free(text);
	cJSON_Delete(list);
	/* the counter */
	cr_assert_eq(http_queue_next_number(s, &n), GF_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(http_queue_next_number(s, &n), GF_OK);
	cr_assert_eq(n, 2);
	gf_store_close(s);
	s = open_store(dir);
	cr_assert_eq(http_queue_next_number(s, &n), GF_OK);
	cr_assert_eq(n, 3, "persisted");
	gf_store_close(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
