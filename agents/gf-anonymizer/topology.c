/* SPDX-License-Identifier: MIT */
#include "topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/kpi.h"
#include "agent/once.h"
#include "base/file.h"
#include "base/hash.h"
#include "base/log.h"
#include "grid/feeder.h"
#include "meter/metermap.h"
#include "payload/codec.h"
#include "topology.pb-c.h"

#define MAP_MAX     (16u << 20)
#define GRID_ID_MAX 64

/* One metered load of the document. */
struct member {
	const char *pseudonym; /* an->pseudonyms[i] */
	size_t bus;            /* in the feeder */
	unsigned phase;        /* 0, 1, 2 */
};

/* A document read from the files: its members sorted by pseudonym and the
 * opaque bus number of each (1..nbus, in order of first use). */
struct doc {
	struct member *m;
	size_t n;
	size_t *busno; /* per member */
	size_t nbus;
};

static void doc_free(struct doc *d)
{
	free(d->m);
	free(d->busno);
	*d = (struct doc){0};
}

static int by_pseudonym(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->pseudonym, ((const struct member *)b)->pseudonym);
}

static bool grid_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > GRID_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Reads the network and the meter list into *d. */
static enum gf_err doc_read(struct anonymizer *an, struct doc *d, char *err, size_t errlen)
{
	const struct anonymizer_conf *c = an->conf;
	struct gf_feeder *f = NULL;
	struct gf_metermap mm = {0};
	char *text = NULL, e2[512];
	size_t len = 0, *first = NULL;
	enum gf_err rc;

	*d = (struct doc){0};
	rc = gf_feeder_load(c->topology_dir, &f, e2, sizeof(e2));
	if (rc != GF_OK)
		return gf_err_set(err, errlen, rc, "topology_dir %s: %s", c->topology_dir, e2);
	rc = gf_file_read(c->topology_meters, MAP_MAX, &text, &len, e2, sizeof(e2));
	if (rc == GF_OK)
		rc = gf_metermap_parse(c->topology_meters, text, len, &mm, e2, sizeof(e2));
	free(text);
	if (rc != GF_OK) {
		gf_err_set(err, errlen, rc, "topology_meters: %s", e2);
		goto out;
	}
	d->m = calloc(mm.n ? mm.n : 1, sizeof(*d->m));
	d->busno = calloc(mm.n ? mm.n : 1, sizeof(*d->busno));
	first = calloc(f->nbus ? f->nbus : 1, sizeof(*first));
	if (!d->m || !d->busno || !first) {
		rc = GF_ENOMEM;
		goto out;
	}
	/* The list is "<load>,<private_id>": the metermap's id is the load. */
	for (size_t k = 0; k < mm.n; k++) {
		const char *load = mm.e[k].id, *pid = mm.e[k].pseudonym;
		size_t li = gf_feeder_load_index(f, load);
		long mi = anonymizer_idmap_find(an->ids, pid, strlen(pid));

		if (li == GF_FEEDER_NONE) {
			rc = gf_err_set(
			    err, errlen, GF_EINVAL,
			    "topology_meters %s: load %s is not a load of topology_dir %s",
			    c->topology_meters, load, c->topology_dir);
			goto out;
		}
		if (mi < 0) {
			/* The load's name may be said; the meter id is the DMS's secret. */
			rc = gf_err_set(err, errlen, GF_EINVAL,
			                "topology_meters %s: the meter of load %s is not in id_map",
			                c->topology_meters, load);
			goto out;
		}
		d->m[d->n++] = (struct member){.pseudonym = an->pseudonyms[mi],
		                               .bus = f->load[li].bus,
		                               .phase = f->load[li].phase};
	}
	/* Sorted by pseudonym, buses numbered in that order: neither says
	 * which line of the DMS's files a member was. */
	qsort(d->m, d->n, sizeof(*d->m), by_pseudonym);
	for (size_t k = 0; k < d->n; k++) {
		if (!first[d->m[k].bus])
			first[d->m[k].bus] = ++d->nbus;
		d->busno[k] = first[d->m[k].bus];
	}
out:
	free(first);
	gf_metermap_free(&mm);
	gf_feeder_free(f);
	if (rc != GF_OK)
		doc_free(d);
	return rc;
}

/* Encodes d as a GridTopology of revision rev (0: none) in format. */
static enum gf_err doc_encode(const struct anonymizer *an, const struct doc *d, int64_t rev,
                              enum gf_codec_format format, void **out, size_t *len)
{
	Goflex__GridTopology g = GOFLEX__GRID_TOPOLOGY__INIT;
	Goflex__Load *l = calloc(d->n ? d->n : 1, sizeof(*l));
	Goflex__Load **lp = calloc(d->n ? d->n : 1, sizeof(*lp));
	Goflex__Bus *b = calloc(d->nbus ? d->nbus : 1, sizeof(*b));
	Goflex__Bus **bp = calloc(d->nbus ? d->nbus : 1, sizeof(*bp));
	char(*bid)[24] = calloc(d->nbus ? d->nbus : 1, sizeof(*bid));
	enum gf_err rc = GF_ENOMEM;

	if (!l || !lp || !b || !bp || !bid)
		goto out;
	for (size_t k = 0; k < d->nbus; k++) {
		goflex__bus__init(&b[k]);
		snprintf(bid[k], sizeof(bid[k]), "b%zu", k + 1);
		b[k].busid = bid[k];
		bp[k] = &b[k];
	}
	for (size_t k = 0; k < d->n; k++) {
		goflex__load__init(&l[k]);
		l[k].loadid = (char *)d->m[k].pseudonym;
		l[k].deviceid = (char *)d->m[k].pseudonym;
		l[k].busid = bid[d->busno[k] - 1];
		l[k].phase = (Goflex__Load__Phase)d->m[k].phase; /* A, B, C are 0, 1, 2 */
		lp[k] = &l[k];
	}
	g.gridpointid = an->conf->grid_point_id;
	g.has_revision = rev != 0;
	g.revision = rev;
	g.n_buses = d->nbus;
	g.buses = bp;
	g.n_loads = d->n;
	g.loads = lp;
	g.pseudonymkeyid = (char *)an->key.id;
	rc = gf_codec_encode(format, &g.base, out, len);
out:
	free(bid);
	free(bp);
	free(b);
	free(lp);
	free(l);
	return rc;
}

/* The content's hash: the protobuf encoding (deterministic) without the
 * revision. */
static enum gf_err doc_hash(const struct anonymizer *an, const struct doc *d, int64_t *h)
{
	void *bytes = NULL;
	size_t len = 0;
	enum gf_err rc = doc_encode(an, d, 0, GF_CODEC_PROTOBUF, &bytes, &len);

	if (rc == GF_OK)
		*h = (int64_t)gf_fnv1a64(GF_FNV1A64_BASIS, bytes, len);
	free(bytes);
	return rc;
}

enum gf_err anonymizer_topology_check(struct anonymizer *an, char *err, size_t errlen)
{
	const struct anonymizer_conf *c = an->conf;
	struct doc d;
	enum gf_err rc;

	if (!c->topology_dir || !c->topology_dir[0])
		return GF_OK;
	if (!c->grid_point_id || !grid_id_ok(c->grid_point_id))
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "grid_point_id: topology_dir needs the grid point's id, 1-64 of "
		                  "A-Z a-z 0-9 . _ -");
	if (!c->topology_meters || !c->topology_meters[0])
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "topology_meters: topology_dir needs the list of which meter "
		                  "each load is");
	rc = doc_read(an, &d, err, errlen);
	if (rc == GF_OK)
		an->topo.members = d.n;
	doc_free(&d);
	return rc;
}

/* The files' identity: inode, size and mtime of each. */
static uint64_t files_sig(const struct anonymizer *an)
{
	uint64_t h = GF_FNV1A64_BASIS;
	char path[4352];

	for (int i = 0; i <= GF_FEEDER_NFILES; i++) {
		struct stat st;
		int64_t v[4] = {0, 0, 0, 0};

		if (i < GF_FEEDER_NFILES)
			snprintf(path, sizeof(path), "%s/%s", an->conf->topology_dir,
			         gf_feeder_file_name((enum gf_feeder_file)i));
		else
			snprintf(path, sizeof(path), "%s", an->conf->topology_meters);
		if (stat(path, &st) == 0) {
			v[0] = (int64_t)st.st_ino;
			v[1] = (int64_t)st.st_size;
			v[2] = (int64_t)st.st_mtim.tv_sec;
			v[3] = (int64_t)st.st_mtim.tv_nsec;
		}
		h = gf_fnv1a64(h, v, sizeof(v));
	}
	return h;
}

static int64_t state_get(struct anonymizer *an, const char *k)
{
	sqlite3_stmt *st = gf_store_prepare(an->store, "SELECT v FROM anon_state WHERE k = ?1");
	int64_t v = 0;

	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

struct publish {
	struct anonymizer *an;
	int64_t rev, hash;
	char *jwe;
	size_t len;
};

static enum gf_err publish_rows(void *arg)
{
	struct publish *p = arg;
	struct anonymizer *an = p->an;
	enum gf_err rc;

	rc = gf_store_run(
	    an->store, "INSERT OR REPLACE INTO anon_state (k, v) VALUES ('topology_revision', ?1)",
	    "i", p->rev);
	if (rc == GF_OK)
		rc = gf_store_run(
		    an->store,
		    "INSERT OR REPLACE INTO anon_state (k, v) VALUES ('topology_hash', ?1)", "i",
		    p->hash);
	if (rc == GF_OK)
		rc = gf_store_outbox_add(an->store, an->topo.topic, p->jwe, p->len,
		                         "application/jose", false);
	return rc;
}

/* Reads the files; a new revision when the content changed. */
static enum gf_err refresh(struct anonymizer *an, char *err, size_t errlen)
{
	struct publish p = {.an = an};
	int64_t last = state_get(an, "topology_revision"), now = (int64_t)time(NULL);
	void *bytes = NULL;
	size_t len = 0;
	struct doc d;
	enum gf_err rc;

	rc = doc_read(an, &d, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = doc_hash(an, &d, &p.hash);
	if (rc != GF_OK)
		goto out;
	an->topo.members = d.n;
	if (last && p.hash == state_get(an, "topology_hash")) {
		gf_log_info("GF-ANON-TOPOLOGY",
		            "grid point %s: the topology is unchanged, revision %lld stays",
		            an->conf->grid_point_id, (long long)last);
		goto out;
	}
	p.rev = now > last ? now : last + 1;
	rc = doc_encode(an, &d, p.rev, an->inner, &bytes, &len);
	if (rc != GF_OK) {
		gf_err_set(err, errlen, rc, "cannot encode the topology: %s", gf_strerror(rc));
		goto out;
	}
	rc = gf_seal(an->to, bytes, len, gf_codec_format_name(an->inner), &p.jwe, &p.len, err,
	             errlen);
	if (rc != GF_OK)
		goto out;
	rc = gf_store_once(an->a, an->store, NULL, publish_rows, NULL, &p);
	if (rc != GF_OK) {
		gf_err_set(err, errlen, rc, "cannot commit the topology");
		goto out;
	}
	gf_kpi_count(an->a, "anon.topologies_sent", 1, NULL);
	/* Counts only: no meter, pseudonym or bus of the DMS in the log. */
	gf_log_notice("GF-ANON-TOPOLOGY",
	              "grid point %s: revision %lld queued for sp.%s, %zu meters on %zu buses",
	              an->conf->grid_point_id, (long long)p.rev, an->conf->sp_id, d.n, d.nbus);
	gf_store_outbox_flush(an->store, gf_agent_bus(an->a));
out:
	free(p.jwe);
	free(bytes);
	doc_free(&d);
	return rc;
}

enum gf_err anonymizer_topology_start(struct anonymizer *an, char *err, size_t errlen)
{
	enum gf_err rc;

	if (!an->conf->topology_dir || !an->conf->topology_dir[0])
		return GF_OK;
	rc = gf_bus_topic(gf_agent_bus(an->a), an->topo.topic, sizeof(an->topo.topic), "sp",
	                  an->conf->sp_id, "grid.topology");
	if (rc != GF_OK)
		return gf_err_set(err, errlen, rc, "cannot make the topology's topic");
	an->topo.sig = files_sig(an);
	return refresh(an, err, errlen);
}

void anonymizer_topology_poll(struct anonymizer *an)
{
	char err[768];
	uint64_t sig;

	if (!an->conf->topology_dir || !an->conf->topology_dir[0] || !an->topo.topic[0])
		return;
	sig = files_sig(an);
	if (sig == an->topo.sig)
		return;
	an->topo.sig = sig;
	if (refresh(an, err, sizeof(err)) != GF_OK)
		gf_log_warning("GF-ANON-TOPOLOGY",
		               "grid point %s: %s; the last revision stays (read again when a "
		               "file changes)",
		               an->conf->grid_point_id, err);
}
