/* SPDX-License-Identifier: MIT */
/*
 * answers.c - FMAN's side of end-to-end delivery (docs/trading.md, "When
 * the broker itself is killed"): FMAR's assignment is answered with the
 * aggregate echoed back (state Assigned, or Rejected with the reason when
 * it cannot be disaggregated, and the schedule received); an FOA's echo of
 * its member assignment stops that assignment's resends. The resends
 * themselves are resend.c's; the keys are here and in market.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payload/codec.h"
#include "fman.h"
#include "base/log.h"
#include "agent/once.h"
#include "agent/resend.h"

#define KEY_MAX 320

char *fman_answers_assign_key(char *buf, const char *offer, const Goflex__FlexOfferSchedule *s)
{
	snprintf(buf, KEY_MAX, "assign:%s:%lld:%lld", offer,
	         (long long)(s && s->has_scheduleid ? s->scheduleid : 0),
	         (long long)(s && s->has_updateid ? s->updateid : 0));
	return buf;
}

void fman_answers_echo_assign(struct fman *f, const struct gf_message *m, const char *key, bool ok,
                              const char *reason)
{
	const Goflex__FlexOfferAssign *as = (const Goflex__FlexOfferAssign *)m->body;
	ProtobufCMessage *pm = NULL;
	Goflex__FlexOffer *fo;
	sqlite3_stmt *st = NULL;
	const unsigned char *body = NULL;
	char *label, *why;
	Goflex__FlexOfferSchedule *sched;

	if (!(st = gf_store_prepare(f->store, "SELECT body FROM aggregates WHERE id = ?"))) {
		fman_util_fail(f, "aggregate body");
		return;
	}
	sqlite3_bind_text(st, 1, as->flexofferid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		body = sqlite3_column_text(st, 0);
	if (!body || gf_codec_from_json(&goflex__flex_offer__descriptor, (const char *)body,
	                                strlen((const char *)body), &pm, NULL, 0) != GF_OK) {
		/* Not ours, or unreadable: nothing to echo (FMAR sends it again
		 * and it is refused again, logged). */
		gf_log_warning("GF-FMAN-ECHO", "no aggregate %s to echo to fmar.%s",
		               as->flexofferid, m->from_id);
		goto out;
	}
	fo = (Goflex__FlexOffer *)pm;
	/* Borrowed for the encoding, given back before the free. */
	label = fo->label;
	why = fo->statereason;
	sched = fo->flexofferschedule;
	fo->state = ok ? GOFLEX__FLEX_OFFER_STATE__Assigned : GOFLEX__FLEX_OFFER_STATE__Rejected;
	fo->statereason = ok ? NULL : (char *)reason;
	fo->flexofferschedule = as->flexofferschedule;
	if (as->label)
		fo->label = as->label;
	if (gf_resend_reply(f->agent, f->store, key, "fmar", m->from_id, "flexoffer", pm) != GF_OK)
		fman_util_fail(f, "assignment echo");
	fo->label = label;
	fo->statereason = why;
	fo->flexofferschedule = sched;
	gf_log_info("GF-FMAN-ECHO", "%s %s echoed to fmar.%s", as->flexofferid,
	            ok ? "Assigned" : "Rejected", m->from_id);
out:
	gf_codec_free(pm);
	sqlite3_finalize(st);
}

void fman_answers_echo_again(struct fman *f, const char *key)
{
	bool found = false;

	if (gf_resend_reply_again(f->store, key, &found) != GF_OK)
		fman_util_fail(f, "assignment echo");
	else if (found)
		gf_log_info("GF-FMAN-ECHO", "echo of %s sent again", key + 3);
}

/* An FOA's echo, for gf_store_once. */
struct confirm {
	struct fman *f;
	const char *key;
	bool found;
};

static enum gf_err confirm_txn(void *arg)
{
	struct confirm *c = arg;

	return gf_resend_answered(c->f->store, c->key, NULL, &c->found);
}

/* Echoes waiting, at most this many before they are applied at once. */
#define CONFIRMS_MAX 256

/* ... and at most this long (simulated seconds; a quarter of resend_s if
 * that is shorter, so an echoed assignment is not due again meanwhile).
 * Applied at each drain, the echoes of a burst went in a transaction of one
 * to three: each deletes a resend row, and with it rewrites its page, its
 * key's index page and page 1, about 20 kB of WAL per echo (docs/bench.md). */
#define CONFIRMS_WAIT_S 0.25

/* The waiting echoes, for gf_store_once: whether each stopped a resend. */
struct confirms {
	struct fman *f;
	bool *found;
};

static enum gf_err confirms_txn(void *arg)
{
	struct confirms *c = arg;
	enum gf_err rc = GF_OK;

	for (size_t i = 0; rc == GF_OK && i < c->f->nconfirms; i++)
		rc = gf_resend_answered(c->f->store, c->f->confirms[i], NULL, &c->found[i]);
	return rc;
}

void fman_answers_confirm_flush(struct fman *f)
{
	struct confirms c = {.f = f};
	size_t n = f->nconfirms;

	if (f->confirms_timer) {
		gf_agent_timer_cancel(f->agent, f->confirms_timer);
		f->confirms_timer = 0;
	}
	if (!n)
		return;
	c.found = calloc(n, sizeof(*c.found));
	if (!c.found) {
		gf_agent_fail(f->agent, "out of memory for the FOAs' echoes");
		return;
	}
	if (gf_store_once(f->agent, f->store, NULL, confirms_txn, NULL, &c) == GF_OK)
		for (size_t i = 0; i < n; i++)
			gf_log_info("GF-FMAN-CONFIRMED", "assignment %s confirmed by foa.%s%s",
			            f->confirms[i] + 7, f->confirms[i] + strlen(f->confirms[i]) + 1,
			            c.found[i] ? "" : " (again)");
	free(c.found);
	fman_answers_free(f);
}

static double confirms_wait(const struct fman *f)
{
	double quarter = (double)f->conf->resend_s / 4;

	return f->conf->resend_s > 0 && quarter < CONFIRMS_WAIT_S ? quarter : CONFIRMS_WAIT_S;
}

static void confirms_due(struct gf_agent *a, void *fman)
{
	struct fman *f = fman;

	(void)a;
	f->confirms_timer = 0; /* fired */
	fman_answers_confirm_flush(f);
}

void fman_answers_confirm_drained(void *fman)
{
	struct fman *f = fman;
	double due = f->confirms_since + confirms_wait(f);

	if (!f->nconfirms || f->confirms_timer)
		return;
	if (gf_agent_now(f->agent) >= due ||
	    !(f->confirms_timer = gf_agent_timer_at(f->agent, due, confirms_due, f)))
		fman_answers_confirm_flush(f); /* due, or no memory for a timer */
}

void fman_answers_free(struct fman *f)
{
	for (size_t i = 0; i < f->nconfirms; i++)
		free(f->confirms[i]);
	f->nconfirms = 0;
}

/* An echo stops its assignment's resends: a row deleted, which waits for
 * the others of the burst (one transaction for many echoes, not one each:
 * fman.h); lost with a crash, the assignment is sent again and echoed
 * again. */
void fman_answers_confirm(struct fman *f, const struct gf_message *m, const char *id)
{
	const Goflex__FlexOffer *fo = (const Goflex__FlexOffer *)m->body;
	char key[KEY_MAX], *entry;
	size_t kl, fl = strlen(m->from_id);

	if (!fo->flexofferschedule) {
		gf_log_notice("GF-FMAN-CONFIRMED",
		              "offer %s of foa.%s: state Assigned without its schedule: ignored",
		              id, m->from_id);
		return;
	}
	fman_answers_assign_key(key, id, fo->flexofferschedule);
	kl = strlen(key);
	if (f->nconfirms == f->confirms_cap) {
		size_t cap = f->confirms_cap ? 2 * f->confirms_cap : 64;
		char **a = realloc(f->confirms, cap * sizeof(*a));
		if (!a) {
			gf_agent_fail(f->agent, "out of memory for the FOAs' echoes");
			return;
		}
		f->confirms = a;
		f->confirms_cap = cap;
	}
	entry = malloc(kl + fl + 2);
	if (!entry) {
		gf_agent_fail(f->agent, "out of memory for the FOAs' echoes");
		return;
	}
	memcpy(entry, key, kl + 1);
	memcpy(entry + kl + 1, m->from_id, fl + 1);
	if (!f->nconfirms)
		f->confirms_since = gf_agent_now(f->agent);
	f->confirms[f->nconfirms++] = entry;
	if (f->nconfirms >= CONFIRMS_MAX)
		fman_answers_confirm_flush(f);
}

void fman_answers_confirm_executed(struct fman *f, const struct gf_message *m, const char *id)
{
	char key[KEY_MAX];
	struct confirm c = {.f = f, .key = key};
	size_t n = strlen(m->from_id);

	/* Only the offerer confirms its own offer. */
	if (strncmp(id, m->from_id, n) != 0 || id[n] != '-') {
		gf_log_notice("GF-FMAN-CONFIRMED", "echo of %s from foa.%s: not its offer: ignored",
		              id, m->from_id);
		return;
	}
	snprintf(key, sizeof(key), "exec:%s", id);
	if (gf_store_once(f->agent, f->store, NULL, confirm_txn, NULL, &c) != GF_OK)
		return;
	gf_log_info("GF-FMAN-CONFIRMED", "execution of %s confirmed by foa.%s%s", id, m->from_id,
	            c.found ? "" : " (again)");
}
