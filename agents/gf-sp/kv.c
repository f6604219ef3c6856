/* SPDX-License-Identifier: MIT */
/*
 * kv.c - the xEMS's key/value store (D6.1 Table 4 "generic key-value
 * store", 7.2.4 benchmarks; xems -> sp kv.put, kv.get: public, anon rows;
 * sp -> xems kv.value). docs/sp.md, "Key/value store".
 *
 *   - kv.put and kv.get arrive sealed to the SP's key (the ring of
 *     key_dir), the inner document a KeyValueSet / KvGet;
 *   - each xEMS has a namespace of its own, named in the store by a
 *     pseudonym, HMAC-SHA256(kv_key_file, "xems.<id>"): the store holds no
 *     identity, and no xEMS reads another's keys;
 *   - limits: 1000 entries per put, keys of 1 to 256 printable characters,
 *     values of at most 64 KiB, kv_max_keys keys and kv_max_bytes bytes per
 *     namespace; a put is applied whole or refused whole (GF-SP-KV with the
 *     reason); exactly once per message (the inbox's sequence number);
 *   - kv.get.result is sealed to the asker's public key
 *     (kv_reply_keys/<xems-id>.pem, kid the id): the row is public, so only
 *     the asker may open it; without its key there is no answer (logged);
 *   - keys under "bench/" with a number are benchmarks: kv.value (retained,
 *     to xems/all) holds, per key and unit, the mean, least and most over
 *     the namespaces that put it, once at least kv_k_min did; it is
 *     published again when it changes.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/once.h"
#include "anon/pseudonym.h"
#include "anon/seal.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "kv.pb-c.h"
#include "payload/codec.h"
#include "payload/validate.h"
#include "sp.h"

#define ENTRIES_MAX 1000
#define KEY_MAX     256
#define VALUE_MAX   65536
#define UNIT_MAX    32
#define GET_MAX     1000
#define BENCH       "bench/"

#define SCHEMA                                                                                     \
	"CREATE TABLE IF NOT EXISTS sp_kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT,"       \
	" number REAL, unit TEXT, updated_ms INTEGER NOT NULL, PRIMARY KEY (ns, key))"             \
	" WITHOUT ROWID;"                                                                          \
	"CREATE TABLE IF NOT EXISTS sp_kv_pub (id INTEGER PRIMARY KEY, hash TEXT NOT NULL);"

struct sp_kv {
	struct gf_pseudonym_key key;
	char *reply_dir;
};

enum gf_err sp_kv_open(struct sp *sp, const struct sp_conf *c, struct sp_kv **out, char *err,
                       size_t errlen)
{
	struct sp_kv *kv;
	enum gf_err rc;

	(void)sp;
	*out = NULL;
	if (!c->kv_key_file)
		return GF_OK;
	if (!(kv = calloc(1, sizeof(*kv))))
		return GF_ENOMEM;
	rc = gf_pseudonym_key_load(c->kv_key_file, "kv", &kv->key, err, errlen);
	if (rc == GF_OK && c->kv_reply_keys && !(kv->reply_dir = strdup(c->kv_reply_keys)))
		rc = GF_ENOMEM;
	if (rc != GF_OK) {
		sp_kv_free(kv);
		return rc;
	}
	*out = kv;
	return GF_OK;
}

void sp_kv_free(struct sp_kv *kv)
{
	if (!kv)
		return;
	gf_pseudonym_key_wipe(&kv->key);
	free(kv->reply_dir);
	free(kv);
}

enum gf_err sp_kv_start(struct sp *sp)
{
	return gf_store_exec(sp->store, SCHEMA);
}

/* One sealed message on its way in. */
struct kvmsg {
	struct sp *sp;
	const struct gf_inbox_item *item;
	const char *msg, *from;
	char id[GF_FNV1A64_HEXSIZE];
	char ns[GF_PSEUDONYM_LEN + 1];
	char why[256];
	ProtobufCMessage *doc;
	size_t done;
};

static void refuse(struct kvmsg *k)
{
	gf_log_warning("GF-SP-KV", "%s from xems.%s (message %s) refused: %s", k->msg, k->from,
	               k->id, k->why);
}

/* Opens and decodes the sealed payload into k->doc; false: refused. */
static bool open_doc(struct kvmsg *k, const ProtobufCMessageDescriptor *d)
{
	const struct gf_inbox_item *it = k->item;
	struct gf_seal_info info = {0};
	enum gf_codec_format format;
	void *plain = NULL;
	size_t plen = 0;
	char err[GF_CODEC_ERRLEN] = "", ident[GF_ID_MAX + 8];
	enum gf_err rc;

	sp_util_msgid(it->payload, it->len, k->id);
	if (!k->sp->kv) {
		snprintf(k->why, sizeof(k->why),
		         "the key/value store is not configured (kv_key_file)");
		return false;
	}
	if (!it->content_type || strcmp(it->content_type, "application/jose") != 0) {
		snprintf(k->why, sizeof(k->why), "Content Type is not application/jose");
		return false;
	}
	rc = gf_seal_open(k->sp->ring, (const char *)it->payload, it->len, &plain, &plen, &info,
	                  err, sizeof(err));
	if (rc != GF_OK) {
		snprintf(k->why, sizeof(k->why), "cannot open: %s (%s)", err, gf_err_name(rc));
		return false;
	}
	if (gf_codec_format_parse(info.cty[0] ? info.cty : NULL, &format) != GF_OK)
		rc = GF_EPARSE, snprintf(err, sizeof(err), "inner Content Type unknown");
	else if ((rc = gf_codec_decode(format, d, plain, plen, &k->doc, err, sizeof(err))) ==
	             GF_OK &&
	         (rc = gf_validate(k->doc, err, sizeof(err))) != GF_OK) {
		gf_codec_free(k->doc);
		k->doc = NULL;
	}
	memset(plain, 0, plen);
	free(plain);
	if (rc != GF_OK) {
		err[strcspn(err, "'")] = '\0'; /* no content of the document in the log */
		snprintf(k->why, sizeof(k->why), "the inner document: %s", err);
		return false;
	}
	snprintf(ident, sizeof(ident), "xems.%s", k->from);
	if (gf_pseudonym(&k->sp->kv->key, ident, strlen(ident), k->ns) != GF_OK) {
		snprintf(k->why, sizeof(k->why), "cannot compute the namespace");
		return false;
	}
	return true;
}

static bool key_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static const char *put_check(const Goflex__KeyValueSet *s)
{
	if (s->n_entries == 0 || s->n_entries > ENTRIES_MAX)
		return "1 to 1000 entries";
	for (size_t i = 0; i < s->n_entries; i++) {
		const Goflex__KeyValue *e = s->entries[i];

		if (!key_ok(e->key))
			return "a key is not 1 to 256 printable characters without blanks";
		if (e->value && strlen(e->value) > VALUE_MAX)
			return "a value is longer than 64 KiB";
		if (e->has_number && !isfinite(e->number))
			return "a number is not finite";
		if (e->unit && strlen(e->unit) > UNIT_MAX)
			return "a unit is longer than 32 characters";
	}
	return NULL;
}

/* kv.value: the benchmarks, published again (retained) when they change. */
static enum gf_err publish_bench(struct sp *sp)
{
	Goflex__KeyValueSet set = GOFLEX__KEY_VALUE_SET__INIT;
	Goflex__KeyValue *e = NULL, **ptrs = NULL;
	char(*text)[96] = NULL, now[GF_TIME_BUFSIZE] = "", topic[512];
	char hash[GF_FNV1A64_HEXSIZE], *json = NULL, *buf = NULL;
	size_t n = 0, len = 0, blen = 0;
	sqlite3_stmt *st = gf_store_prepare(
	    sp->store,
	    "SELECT key, unit, avg(number), count(*), min(number), max(number) FROM sp_kv"
	    " WHERE key >= 'bench/' AND key < 'bench0' AND number IS NOT NULL"
	    " GROUP BY key, unit HAVING count(*) >= ?1 ORDER BY key, unit LIMIT 1000");
	enum gf_err rc = st ? GF_OK : GF_EIO;
	bool same;

	sqlite3_bind_int64(st, 1, sp->conf->kv_k_min);
	if (!(e = calloc(1000, sizeof(*e))) || !(ptrs = calloc(1000, sizeof(*ptrs))) ||
	    !(text = calloc(1000, sizeof(*text))))
		rc = GF_ENOMEM;
	gf_time_format(sp_util_now_ms(sp), now, sizeof(now));
	while (rc == GF_OK && sqlite3_step(st) == SQLITE_ROW) {
		goflex__key_value__init(&e[n]);
		if (!(e[n].key = strdup(gf_store_text(st, 0))) ||
		    (sqlite3_column_type(st, 1) != SQLITE_NULL &&
		     !(e[n].unit = strdup(gf_store_text(st, 1))))) {
			rc = GF_ENOMEM;
			n++;
			break;
		}
		e[n].has_number = true;
		e[n].number = sqlite3_column_double(st, 2);
		snprintf(text[n], sizeof(text[n]), "{\"n\":%lld,\"min\":%.17g,\"max\":%.17g}",
		         (long long)sqlite3_column_int64(st, 3), sqlite3_column_double(st, 4),
		         sqlite3_column_double(st, 5));
		e[n].value = text[n];
		ptrs[n] = &e[n];
		n++;
	}
	sqlite3_finalize(st);
	set.entries = ptrs;
	set.n_entries = n;
	if (rc == GF_OK && (rc = gf_codec_to_json(&set.base, &buf, &blen)) == GF_OK) {
		sp_util_msgid(buf, blen, hash);
		st = gf_store_prepare(sp->store, "SELECT hash FROM sp_kv_pub WHERE id = 1");
		/* Nothing published yet counts as an empty set published. */
		if (st && sqlite3_step(st) == SQLITE_ROW)
			same = strcmp(gf_store_text(st, 0), hash) == 0;
		else
			same = n == 0;
		sqlite3_finalize(st);
		if (!same) {
			/* The time of this publication, not part of the hash. */
			for (size_t i = 0; i < n; i++)
				e[i].updatedtime = now;
			rc = gf_message_encode(sp->a, "xems", "all", "kv.value", &set.base, topic,
			                       sizeof(topic), &json, &len);
			if (rc == GF_OK)
				rc = gf_store_outbox_add(sp->store, topic, json, len, NULL, true);
			if (rc == GF_OK)
				rc = gf_store_run(
				    sp->store,
				    "INSERT OR REPLACE INTO sp_kv_pub (id, hash) VALUES (1, ?1)",
				    "t", hash);
			if (rc == GF_OK)
				gf_log_info("GF-SP-KV",
				            "kv.value: %zu benchmarks queued (retained)", n);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].unit);
	}
	free(e);
	free(ptrs);
	free(text);
	free(json);
	free(buf);
	return rc;
}

static enum gf_err put_txn(void *arg)
{
	struct kvmsg *k = arg;
	const Goflex__KeyValueSet *s = (const Goflex__KeyValueSet *)k->doc;
	struct gf_store *st = k->sp->store;
	const struct sp_conf *c = k->sp->conf;
	int64_t now = sp_util_now_ms(k->sp);
	sqlite3_stmt *q;
	long long keys = 0, bytes = 0;
	bool bench = false;
	enum gf_err rc = gf_store_exec(st, "SAVEPOINT kv_put");

	for (size_t i = 0; rc == GF_OK && i < s->n_entries; i++) {
		const Goflex__KeyValue *e = s->entries[i];

		bench = bench || strncmp(e->key, BENCH, strlen(BENCH)) == 0;
		if (!e->value && !e->has_number)
			rc = gf_store_run(st, "DELETE FROM sp_kv WHERE ns = ?1 AND key = ?2", "tt",
			                  k->ns, e->key);
		else if ((q = gf_store_prepare(
		              st, "INSERT OR REPLACE INTO sp_kv (ns, key, value, number, unit,"
		                  " updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"))) {
			sqlite3_bind_text(q, 1, k->ns, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 2, e->key, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 3, e->value, -1, SQLITE_STATIC);
			if (e->has_number)
				sqlite3_bind_double(q, 4, e->number);
			sqlite3_bind_text(q, 5, e->unit, -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 6, now);
			rc = sqlite3_step(q) == SQLITE_DONE ? GF_OK : GF_EIO;
			sqlite3_finalize(q);
		} else {
			rc = GF_EIO;
		}
	}
	q = rc == GF_OK ? gf_store_prepare(st, "SELECT count(*), coalesce(sum(length(key) +"
	                                       " coalesce(length(value), 0) + 16), 0) FROM sp_kv"
	                                       " WHERE ns = ?1")
	                : NULL;
	sqlite3_bind_text(q, 1, k->ns, -1, SQLITE_STATIC);
	if (q && sqlite3_step(q) == SQLITE_ROW) {
		keys = sqlite3_column_int64(q, 0);
		bytes = sqlite3_column_int64(q, 1);
	} else if (rc == GF_OK) {
		rc = GF_EIO;
	}
	sqlite3_finalize(q);
	if (rc != GF_OK)
		return rc;
	if (keys > c->kv_max_keys || bytes > c->kv_max_bytes) {
		/* Refused whole: nothing of it stays. */
		snprintf(k->why, sizeof(k->why),
		         "the namespace would hold %lld keys and %lld bytes, more than kv_max_keys "
		         "%ld or kv_max_bytes %ld",
		         keys, bytes, c->kv_max_keys, c->kv_max_bytes);
		refuse(k);
		rc = gf_store_exec(st, "ROLLBACK TO kv_put");
		return rc == GF_OK ? gf_store_exec(st, "RELEASE kv_put") : rc;
	}
	rc = gf_store_exec(st, "RELEASE kv_put");
	k->done = s->n_entries;
	if (rc == GF_OK && bench)
		rc = publish_bench(k->sp);
	return rc;
}

void sp_kv_put(struct sp *sp, const struct gf_inbox_item *item, const char *from_id)
{
	struct kvmsg k = {.sp = sp, .item = item, .msg = "kv.put", .from = from_id};
	const char *bad;
	char key[128];

	if (!open_doc(&k, &goflex__key_value_set__descriptor)) {
		refuse(&k);
		return;
	}
	if ((bad = put_check((const Goflex__KeyValueSet *)k.doc))) {
		snprintf(k.why, sizeof(k.why), "%s", bad);
		refuse(&k);
		goto out;
	}
	snprintf(key, sizeof(key), "kv:%s:%llu", from_id, (unsigned long long)item->seq);
	if (gf_store_once(sp->a, sp->store, key, put_txn, NULL, &k) == GF_OK && k.done) {
		gf_log_info("GF-SP-KV", "kv.put from xems.%s (message %s): %zu entries", from_id,
		            k.id, k.done);
		sp_util_flush(sp);
	}
out:
	gf_codec_free(k.doc);
}

/* --- kv.get ------------------------------------------------------------------------------- */

struct get {
	struct kvmsg *k;
	Goflex__KvGetResult *res;
	struct gf_seal_to *to;
	const struct gf_message *m;
};

static enum gf_err get_txn(void *arg)
{
	struct get *g = arg;
	char topic[512], *json = NULL, *jwe = NULL;
	size_t len = 0, jlen = 0;
	enum gf_err rc = gf_message_encode(g->k->sp->a, "xems", g->k->from, "kv.get.result",
	                                   &g->res->base, topic, sizeof(topic), &json, &len);

	if (rc == GF_OK)
		rc = gf_seal(g->to, json, len, "application/json", &jwe, &jlen, NULL, 0);
	if (rc == GF_OK)
		rc = gf_store_outbox_add_reply(g->k->sp->store, topic, jwe, jlen,
		                               "application/jose", false, g->k->item->correlation,
		                               g->k->item->correlation_len);
	if (json) {
		memset(json, 0, len);
		free(json);
	}
	free(jwe);
	/* A payload the codec or the sealing refuses is no failure of the
	 * store: logged, not answered. */
	if (rc == GF_EINVAL) {
		gf_log_warning("GF-SP-KV",
		               "kv.get from xems.%s (message %s): cannot encode the answer",
		               g->k->from, g->k->id);
		return GF_OK;
	}
	return rc;
}

void sp_kv_get(struct sp *sp, const struct gf_inbox_item *item, const char *from_id)
{
	struct kvmsg k = {.sp = sp, .item = item, .msg = "kv.get", .from = from_id};
	Goflex__KvGetResult res = GOFLEX__KV_GET_RESULT__INIT;
	Goflex__ResultStatus status = GOFLEX__RESULT_STATUS__INIT;
	Goflex__KeyValue *e = NULL, **ptrs = NULL;
	struct get g = {&k, &res, NULL, NULL};
	char path[4096], err[256] = "", (*times)[GF_TIME_BUFSIZE] = NULL;
	const Goflex__KvGet *q;
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	if (!open_doc(&k, &goflex__kv_get__descriptor)) {
		refuse(&k);
		return;
	}
	q = (const Goflex__KvGet *)k.doc;
	/* The answer is for the asker's eyes only: sealed to its key. */
	snprintf(path, sizeof(path), "%s/%s.pem", sp->kv->reply_dir ? sp->kv->reply_dir : ".",
	         from_id);
	if (!sp->kv->reply_dir ||
	    gf_seal_to_load(path, from_id, &g.to, err, sizeof(err)) != GF_OK) {
		snprintf(k.why, sizeof(k.why), "no key to seal the answer to (kv_reply_keys): %s",
		         sp->kv->reply_dir ? err : "not configured");
		refuse(&k);
		goto out;
	}
	status.requestid = q->requestid;
	if (q->n_keys > GET_MAX || (q->prefix && strlen(q->prefix) > KEY_MAX)) {
		status.code = GOFLEX__RESULT_STATUS__CODE__badRequest;
		status.reason = (char *)"at most 1000 keys, a prefix of at most 256 characters";
		goto answer;
	}
	if (!(e = calloc(GET_MAX, sizeof(*e))) || !(ptrs = calloc(GET_MAX, sizeof(*ptrs))) ||
	    !(times = calloc(GET_MAX, sizeof(*times)))) {
		status.code = GOFLEX__RESULT_STATUS__CODE__failed;
		status.reason = (char *)"out of memory";
		goto answer;
	}
	/* Keys asked, and those of the prefix (substr: no LIKE wildcards). */
	st = gf_store_prepare(
	    sp->store, "SELECT key, value, number, unit, updated_ms FROM sp_kv WHERE ns = ?1"
	               " AND (key IN (SELECT value FROM json_each(?2)) OR (?3 IS NOT NULL AND"
	               " substr(key, 1, length(?3)) = ?3)) ORDER BY key LIMIT 1000");
	{
		char *keys = NULL;
		size_t cap = 3, used = 0;
		for (size_t i = 0; i < q->n_keys; i++)
			cap += 2 * strlen(q->keys[i]) + 4;
		if ((keys = malloc(cap))) {
			keys[used++] = '[';
			for (size_t i = 0; i < q->n_keys; i++) {
				if (i)
					keys[used++] = ',';
				keys[used++] = '"';
				for (const char *c = q->keys[i]; *c; c++) {
					if (*c == '"' || *c == '\\')
						keys[used++] = '\\';
					keys[used++] = (unsigned char)*c < 0x20 ? ' ' : *c;
				}
				keys[used++] = '"';
			}
			keys[used++] = ']';
			keys[used] = '\0';
		}
		sqlite3_bind_text(st, 1, k.ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, keys ? keys : "[]", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, q->prefix, -1, SQLITE_STATIC);
		free(keys);
	}
	while (st && sqlite3_step(st) == SQLITE_ROW && n < GET_MAX) {
		goflex__key_value__init(&e[n]);
		e[n].key = strdup(gf_store_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			e[n].value = strdup(gf_store_text(st, 1));
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			e[n].has_number = true;
			e[n].number = sqlite3_column_double(st, 2);
		}
		if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			e[n].unit = strdup(gf_store_text(st, 3));
		gf_time_format(sqlite3_column_int64(st, 4), times[n], sizeof(times[n]));
		e[n].updatedtime = times[n];
		ptrs[n] = &e[n];
		n++;
	}
	sqlite3_finalize(st);
	res.entries = ptrs;
	res.n_entries = n;
answer:
	res.status = &status;
	if (gf_store_once(sp->a, sp->store, NULL, get_txn, NULL, &g) == GF_OK) {
		gf_log_info("GF-SP-KV",
		            "kv.get from xems.%s (message %s): %zu entries, answer sealed", from_id,
		            k.id, n);
		sp_util_flush(sp);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(e[i].key);
		if (e[i].value) {
			memset(e[i].value, 0, strlen(e[i].value));
			free(e[i].value);
		}
		free(e[i].unit);
	}
	free(e);
	free(ptrs);
	free(times);
	gf_seal_to_free(g.to);
	gf_codec_free(k.doc);
}
