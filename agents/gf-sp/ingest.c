/* SPDX-License-Identifier: MIT */
/*
 * ingest.c - what the DMS sends on its anon rows (SPEC section 6): a sealed
 * MeterReadings (meter.reading) or GridTopology (grid.topology), a compact
 * JWE whose inner document is a catalogue message in the encoding its cty
 * names. Opened with the ring of private keys (lib/anon/seal.h), decoded
 * strictly and validated for meaning (lib/payload), checked (pseudonymKeyId
 * present, ids that are pseudonyms), stored.
 *
 * Exactly once without keys: the store skips a reading it holds already
 * (db.h), so a batch handed over again after a crash stores nothing twice;
 * a topology is stored only when its revision is newer.
 *
 * Refusals are logged (GF-SP-REFUSED) with what identifies the message, not
 * what it holds: the sender, the message id (FNV-1a 64 of the payload, the
 * same for every copy of it, computed only for the log), the kid and the
 * reason. Never a value, never
 * a pseudonym: the reason strings below name fields by their path only.
 */
#include <dirent.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "agent/kpi.h"
#include "base/timefmt.h"
#include "meter.pb-c.h"
#include "meter/resample.h"
#include "payload/codec.h"
#include "payload/schema.h"
#include "payload/validate.h"
#include "sp.h"
#include "topology.pb-c.h"

#define SP_UNIT_DEFAULT "kWh"

enum gf_err sp_ingest_keys(const char *dir, struct gf_seal_ring **out, char *err, size_t errlen)
{
	struct gf_seal_ring *ring = NULL;
	struct dirent **names = NULL;
	char path[4096], kid[GF_SEAL_KID_MAX + 1];
	enum gf_err rc;
	int n;

	/* scandir's order: the same ring, and the same first error, each time. */
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return gf_err_set(err, errlen, GF_ENOENT, "key_dir %s: cannot read it", dir);
	if ((rc = gf_seal_ring_new(&ring)) != GF_OK)
		goto out;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);

		if (len <= 4 || strcmp(name + len - 4, ".pem") != 0 || name[0] == '.')
			continue;
		if (len - 4 > GF_SEAL_KID_MAX) {
			rc = gf_err_set(err, errlen, GF_EINVAL, "key_dir %s: %s: kid too long", dir,
			                name);
			goto out;
		}
		snprintf(kid, sizeof(kid), "%.*s", (int)(len - 4), name);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if ((rc = gf_seal_ring_add(ring, path, kid, err, errlen)) != GF_OK)
			goto out;
	}
	if (gf_seal_ring_count(ring) == 0) {
		rc = gf_err_set(err, errlen, GF_ENOENT, "key_dir %s holds no <kid>.pem key", dir);
		goto out;
	}
	*out = ring;
	ring = NULL;
	rc = GF_OK;
out:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	gf_seal_ring_free(ring);
	return rc;
}

/* One sealed message on its way in. */
struct sealed {
	struct sp *sp;
	const struct gf_inbox_item *item;
	const char *msg, *from_id;
	char id[GF_FNV1A64_HEXSIZE];
	struct gf_seal_info info;
	ProtobufCMessage *doc;
};

static void refuse(struct sealed *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs the refusal of s: its ids and the reason, which names no content. */
static void refuse(struct sealed *s, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	sp_util_msgid(s->item->payload, s->item->len, s->id);
	s->sp->refused++;
	gf_kpi_count(s->sp->a, "sp.batches_refused", 1, NULL);
	gf_log_warning("GF-SP-REFUSED",
	               "%s from dms.%s (message %s, kid %s): %s; nothing stored (%llu refused "
	               "since start)",
	               s->msg, s->from_id, s->id, s->info.kid[0] ? s->info.kid : "-", why,
	               (unsigned long long)s->sp->refused);
}

/* Opens, decodes and validates s's payload into s->doc (descriptor d).
 * false: refused (logged). */
static bool open_doc(struct sealed *s, const ProtobufCMessageDescriptor *d)
{
	const struct gf_inbox_item *it = s->item;
	enum gf_codec_format format;
	void *plain = NULL;
	size_t plen = 0;
	char err[GF_CODEC_ERRLEN] = "";
	enum gf_err rc;
	bool ok = false;

	if (!it->content_type || strcmp(it->content_type, "application/jose") != 0) {
		refuse(s, "Content Type %s, not application/jose",
		       it->content_type ? it->content_type : "(none)");
		return false;
	}
	rc = gf_seal_open(s->sp->ring, (const char *)it->payload, it->len, &plain, &plen, &s->info,
	                  err, sizeof(err));
	if (rc != GF_OK) {
		refuse(s, "cannot open: %s (%s)", err, gf_err_name(rc));
		return false;
	}
	if (gf_codec_format_parse(s->info.cty[0] ? s->info.cty : NULL, &format) != GF_OK) {
		refuse(s, "inner Content Type (cty) %s is not one the codec reads", s->info.cty);
		goto out;
	}
	rc = gf_codec_decode(format, d, plain, plen, &s->doc, err, sizeof(err));
	if (rc == GF_OK && (rc = gf_validate(s->doc, err, sizeof(err))) != GF_OK) {
		gf_codec_free(s->doc);
		s->doc = NULL;
	}
	if (rc != GF_OK) {
		/* The codec quotes a bad enum value or map key: cut there, so
		 * that no content of the document reaches the log. */
		err[strcspn(err, "'")] = '\0';
		refuse(s, "the inner document: %s", err[0] ? err : gf_strerror(rc));
		goto out;
	}
	ok = true;
out:
	if (plain) {
		/* The document is private: wiped before it is freed. */
		memset(plain, 0, plen);
		free(plain);
	}
	return ok;
}

/* Checks the readings and turns them into r[0..n). false: refused. */
static bool to_readings(struct sealed *s, const Goflex__MeterReadings *mr, struct sp_reading *r)
{
	bool strict = s->sp->conf->pseudonyms_only;

	if (!mr->pseudonymkeyid || !mr->pseudonymkeyid[0]) {
		refuse(s, "pseudonymKeyId is missing");
		return false;
	}
	for (size_t i = 0; i < mr->n_readings; i++) {
		const Goflex__MeterReading *m = mr->readings[i];
		int64_t t;

		if (strict ? !sp_util_is_pseudonym(m->deviceid) : !m->deviceid[0]) {
			refuse(s, "readings[%zu].deviceId is not a pseudonym", i);
			return false;
		}
		if (m->obis && !m->obis[0]) {
			refuse(s, "readings[%zu].obis is empty", i);
			return false;
		}
		if (m->unit && !m->unit[0]) {
			refuse(s, "readings[%zu].unit is empty", i);
			return false;
		}
		/* The codec checked the form; it is canonical now. */
		if (gf_time_parse(m->observedtimestamp, strlen(m->observedtimestamp), &t) !=
		    GF_OK) {
			refuse(s, "readings[%zu].observedTimestamp is not a time", i);
			return false;
		}
		r[i] = (struct sp_reading){
		    .meter = m->deviceid,
		    .t_ms = t,
		    /* GOFLEX DMS exports are a cumulative register in kWh. */
		    .obis = m->obis ? m->obis : GF_OBIS_REGISTER,
		    .value = m->value,
		    .unit = m->unit ? m->unit : SP_UNIT_DEFAULT,
		};
	}
	return true;
}

void sp_ingest_reading(struct sp *sp, const struct gf_inbox_item *item, const char *from_id)
{
	struct sealed s = {.sp = sp, .item = item, .msg = "meter.reading", .from_id = from_id};
	const Goflex__MeterReadings *mr;
	struct sp_reading *r = NULL;
	size_t added = 0;
	char err[512];
	enum gf_err rc;

	if (!open_doc(&s, &goflex__meter_readings__descriptor))
		return;
	mr = (const Goflex__MeterReadings *)s.doc;
	if (!(r = calloc(mr->n_readings ? mr->n_readings : 1, sizeof(*r)))) {
		gf_agent_fail(sp->a, "out of memory for a batch");
		goto out;
	}
	if (!to_readings(&s, mr, r))
		goto out;
	rc = sp_db_insert(sp->db, r, mr->n_readings, &added, err, sizeof(err));
	if (rc != GF_OK) {
		sp_util_msgid(item->payload, item->len, s.id);
		gf_log_err("GF-SP-STORE", "cannot store a batch (message %s): %s", s.id, err);
		gf_agent_fail(sp->a, "the metering store failed");
		goto out;
	}
	sp->batches++;
	sp->readings += mr->n_readings;
	sp->added += added;
	gf_kpi_count(sp->a, "sp.readings_received", (double)mr->n_readings, NULL);
	gf_kpi_count(sp->a, "sp.readings_stored", (double)added, NULL);
	/* Counts only (docs/sp.md, "Privacy"). */
	gf_log_debug("GF-SP-BATCH", "meter.reading from dms.%s, kid %s: %zu readings, %zu new%s",
	             from_id, s.info.kid, mr->n_readings, added,
	             item->replayed ? " (replayed)" : "");
	sp_util_crash_point("batch-stored");
	sp_subs_touch(sp, r, mr->n_readings);
out:
	free(r);
	gf_codec_free(s.doc);
}

/* The meters of a topology: its loads' deviceIds. false: refused. */
static bool members(struct sealed *s, const Goflex__GridTopology *g, const char **m, size_t *n)
{
	bool strict = s->sp->conf->pseudonyms_only;

	*n = 0;
	for (size_t i = 0; i < g->n_loads; i++) {
		const char *id = g->loads[i]->deviceid;

		if (!id)
			continue;
		if (strict ? !sp_util_is_pseudonym(id) : !id[0]) {
			refuse(s, "loads[%zu].deviceId is not a pseudonym", i);
			return false;
		}
		m[(*n)++] = id;
	}
	return true;
}

void sp_ingest_topology(struct sp *sp, const struct gf_inbox_item *item, const char *from_id)
{
	struct sealed s = {.sp = sp, .item = item, .msg = "grid.topology", .from_id = from_id};
	const Goflex__GridTopology *g;
	const char **meters = NULL;
	char *doc = NULL, err[512];
	size_t n = 0, doclen = 0;
	bool stored = false;
	enum gf_err rc;

	if (!open_doc(&s, &goflex__grid_topology__descriptor))
		return;
	g = (const Goflex__GridTopology *)s.doc;
	if (!g->pseudonymkeyid || !g->pseudonymkeyid[0]) {
		refuse(&s, "pseudonymKeyId is missing");
		goto out;
	}
	if (!g->gridpointid[0]) {
		refuse(&s, "gridPointId is empty");
		goto out;
	}
	if (g->n_loads && !(meters = calloc(g->n_loads, sizeof(*meters)))) {
		gf_agent_fail(sp->a, "out of memory for a topology");
		goto out;
	}
	if (!members(&s, g, meters, &n))
		goto out;
	if (gf_codec_to_json(s.doc, &doc, &doclen) != GF_OK) {
		refuse(&s, "the topology cannot be encoded again");
		goto out;
	}
	rc = sp_db_topology_put(sp->db, g->gridpointid, g->has_revision ? g->revision : 0, doc,
	                        meters, n, &stored, err, sizeof(err));
	if (rc == GF_OK && stored)
		rc = sp_grids_load(sp, err, sizeof(err));
	if (rc != GF_OK) {
		sp_util_msgid(item->payload, item->len, s.id);
		gf_log_err("GF-SP-STORE", "cannot store a topology (message %s): %s", s.id, err);
		gf_agent_fail(sp->a, "the metering store failed");
		goto out;
	}
	if (!stored) {
		gf_log_info(
		    "GF-SP-TOPOLOGY",
		    "grid point %s: revision %lld from dms.%s is not newer; kept the stored "
		    "one",
		    g->gridpointid, (long long)g->revision, from_id);
		goto out;
	}
	gf_log_notice("GF-SP-TOPOLOGY",
	              "grid point %s: revision %lld from dms.%s stored, %zu meters, %zu buses, "
	              "%zu lines",
	              g->gridpointid, (long long)g->revision, from_id, n, g->n_buses, g->n_lines);
	sp_subs_rewatch(sp);
out:
	free(doc);
	free(meters);
	gf_codec_free(s.doc);
}
