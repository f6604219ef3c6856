/* SPDX-License-Identifier: MIT */
/*
 * gf-anonymizer - the DMS integrator's client (D6.1 8.3; issue 12;
 * docs/anonymizer.md): the DSO's meter exports, anonymized in three layers
 * (private id -> classification id -> keyed pseudonym; the whole document
 * sealed to the Service Platform), sent as meter.reading on the anon row
 * dms -> sp, exactly once.
 *
 *   gf-anonymizer -c FILE            watch input_dir, send what arrives
 *   gf-anonymizer -c FILE --once     send what input_dir holds, exit 0 when
 *                                    every message is acknowledged
 *   gf-anonymizer -c FILE reverse P  the private meter of pseudonym P
 *   gf-anonymizer -c FILE pseudonyms the pseudonym of each private meter
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonymizer.h"
#include "base/log.h"
#include "feed.h"
#include "meter/resample.h"
#include "meter/tz.h"
#include "commands.h"
#include "topology.h"

#define C(field) offsetof(struct anonymizer_conf, field)

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct anonymizer_conf, agent),
    {"input_dir", GF_CONF_STRING, C(input_dir), NULL, 0, 0, true,
     "directory of the DMS's meter exports (read in name order; names starting with '.' or "
     "ending .tmp/.part are skipped), or - for stdin"},
    {"format", GF_CONF_STRING, C(format), "dms", 0, 0, false,
     "dms (\"<device>\",<local time>,<value>), csv (the csv_* keys) or json (GOFLEX array)"},
    {"csv_sep", GF_CONF_STRING, C(csv_sep), ",", 0, 0, false,
     "csv: the separator, one character (\\t for a tab)"},
    {"csv_decimal_comma", GF_CONF_BOOL, C(csv_decimal_comma), "off", 0, 0, false,
     "csv: values use a decimal comma"},
    {"csv_header", GF_CONF_BOOL, C(csv_header), "off", 0, 0, false,
     "csv: the first line is a header"},
    {"csv_col_device", GF_CONF_INT, C(csv_col_device), "1", 1, 1000, false,
     "csv: column of the meter id (1-based)"},
    {"csv_col_time", GF_CONF_INT, C(csv_col_time), "2", 1, 1000, false, "csv: column of the time"},
    {"csv_col_value", GF_CONF_INT, C(csv_col_value), "3", 1, 1000, false,
     "csv: column of the value"},
    {"value_kind", GF_CONF_STRING, C(value_kind), "register", 0, 0, false,
     "register (cumulative kWh, OBIS 1-0:1.8.0) or interval (kWh of the period ending at the "
     "time, 1-0:1.29.0)"},
    {"timezone", GF_CONF_STRING, C(timezone), "Europe/Nicosia", 0, 0, false,
     "IANA zone of times without an offset"},
    {"id_map", GF_CONF_STRING, C(id_map), NULL, 0, 0, true,
     "CSV private_id,classification_id (D6.1 section 9); unmapped meters are quarantined"},
    {"hmac_key_file", GF_CONF_STRING, C(hmac_key_file), NULL, 0, 0, true,
     "the DSO's pseudonym key (32 to 128 bytes; mode 0600)"},
    {"hmac_key_id", GF_CONF_STRING, C(hmac_key_id), NULL, 0, 0, true,
     "its id, sent as pseudonymKeyId so that keys can rotate"},
    {"sp_public_key", GF_CONF_STRING, C(sp_public_key), NULL, 0, 0, true,
     "PEM public key (or certificate) of the Service Platform"},
    {"sp_kid", GF_CONF_STRING, C(sp_kid), NULL, 0, 0, true, "the kid of that key"},
    {"sp_id", GF_CONF_STRING, C(sp_id), "sp", 0, 0, false,
     "id of the Service Platform agent (topic .../sp/<sp_id>/meter.reading)"},
    {"quarantine_file", GF_CONF_STRING, C(quarantine_file), NULL, 0, 0, false,
     "CSV file,line,reason of the rows not sent; default <state_dir>/quarantine.csv"},
    {"inner_format", GF_CONF_STRING, C(inner_format), "json", 0, 0, false,
     "encoding of the sealed MeterReadings document: json (any JOSE user reads it) or protobuf "
     "(half the size; named by the JWE's cty either way)"},
    {"topology_dir", GF_CONF_STRING, C(topology_dir), NULL, 0, 0, false,
     "the feeder's network (IEEE European LV form: Lines.csv, Loads.csv, ...): published to "
     "the SP as a sealed, pseudonymous grid.topology at start and when a file changes; "
     "unset: none"},
    {"topology_meters", GF_CONF_STRING, C(topology_meters), NULL, 0, 0, false,
     "with topology_dir: CSV <load>,<private_id>, which meter of id_map each load of the "
     "network is (one each; unlisted loads are not sent)"},
    {"grid_point_id", GF_CONF_STRING, C(grid_point_id), NULL, 0, 0, false,
     "with topology_dir: the feeder's grid point id (gridPointId; 1-64 of A-Z a-z 0-9 . _ -)"},
    {"batch_max", GF_CONF_INT, C(batch_max), "1000", 1, 5000, false,
     "most readings per meter.reading message"},
    {"max_unacked", GF_CONF_INT, C(max_unacked), "64", 1, 100000, false,
     "reading pauses while this many messages wait for the broker"},
    {"poll_ms", GF_CONF_INT, C(poll_ms), "1000", 10, 3600000, false,
     "real milliseconds between looks at input_dir (besides inotify)"},
    {"settle_s", GF_CONF_INT, C(settle_s), "5", 0, 86400, false,
     "a file's unterminated last line is read once the file is unchanged this many seconds"},
    {"progress_s", GF_CONF_INT, C(progress_s), "5", 1, 86400, false,
     "seconds between progress lines on a large input"},
    {"outbox_hold_s", GF_CONF_INT, C(outbox_hold_s), "15", 0, 86400, false,
     "a message the broker acknowledged is kept this long and sent again after a lost "
     "connection (a broker killed -9 loses what it took since its last save: keep above its "
     "autosave_interval)"},
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static struct anonymizer A;
static bool once_flag;

static enum gf_err parse_csv(const struct anonymizer_conf *c, struct gf_reading_csv *o, char *err,
                             size_t errlen)
{
	const char *sep = c->csv_sep;

	if (strcmp(sep, "\\t") == 0)
		sep = "\t";
	if (strlen(sep) != 1 || sep[0] == '"' || sep[0] == '\n' || sep[0] == '\r')
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "csv_sep must be one character other than a quote or newline");
	*o = (struct gf_reading_csv){.sep = sep[0],
	                             .decimal_comma = c->csv_decimal_comma,
	                             .header = c->csv_header,
	                             .col_device = (int)c->csv_col_device,
	                             .col_time = (int)c->csv_col_time,
	                             .col_value = (int)c->csv_col_value};
	if (o->decimal_comma && o->sep == ',')
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "csv_decimal_comma needs a csv_sep other than ','");
	return GF_OK;
}

/* Everything of the configuration that can be wrong, before the bus. */
static enum gf_err setup(struct anonymizer *an, struct anonymizer_conf *c, char *err, size_t errlen)
{
	size_t n;
	enum gf_err rc;

	if (strcmp(c->inner_format, "json") == 0)
		an->inner = GF_CODEC_JSON;
	else if (strcmp(c->inner_format, "protobuf") == 0)
		an->inner = GF_CODEC_PROTOBUF;
	else
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "inner_format %s: expected json or protobuf", c->inner_format);
	rc = gf_reading_format_parse(c->format, &an->format);
	if (rc != GF_OK)
		return gf_err_set(err, errlen, rc, "format %s: expected dms, csv or json",
		                  c->format);
	if (an->format == GF_READING_CSV && (rc = parse_csv(c, &an->csv, err, errlen)) != GF_OK)
		return rc;
	if (strcmp(c->value_kind, "register") == 0)
		an->kind = GF_RESOLVE_REGISTER;
	else if (strcmp(c->value_kind, "interval") == 0)
		an->kind = GF_RESOLVE_INTERVAL;
	else
		return gf_err_set(err, errlen, GF_EINVAL,
		                  "value_kind %s: expected register or interval", c->value_kind);
	rc = gf_tz_open(c->timezone, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = anonymizer_idmap_load(c->id_map, &an->ids, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = gf_pseudonym_key_load(c->hmac_key_file, c->hmac_key_id, &an->key, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = gf_seal_to_load(c->sp_public_key, c->sp_kid, &an->to, err, errlen);
	if (rc != GF_OK)
		return rc;
	n = anonymizer_idmap_count(an->ids);
	an->pseudonyms = calloc(n ? n : 1, sizeof(*an->pseudonyms));
	an->prev = calloc(n ? n : 1, sizeof(*an->prev));
	an->prev_dirty = calloc(n ? n : 1, sizeof(*an->prev_dirty));
	an->dirty = calloc(n ? n : 1, sizeof(*an->dirty));
	if (!an->pseudonyms || !an->prev || !an->prev_dirty || !an->dirty)
		return GF_ENOMEM;
	/* Layers 1 and 2 once per meter: the map is the DMS's, fixed while it runs. */
	for (size_t i = 0; i < n; i++) {
		const char *pid, *cid;

		anonymizer_idmap_entry(an->ids, i, &pid, &cid);
		rc = gf_pseudonym(&an->key, cid, strlen(cid), an->pseudonyms[i]);
		if (rc != GF_OK)
			return gf_err_set(err, errlen, rc, "cannot compute pseudonyms");
	}
	rc = anonymizer_topology_check(an, err, errlen);
	if (rc != GF_OK)
		return rc;
	return anonymizer_batch_init(&an->batch, (size_t)c->batch_max,
	                             an->kind == GF_RESOLVE_REGISTER ? GF_OBIS_REGISTER
	                                                             : GF_OBIS_INTERVAL);
}

static enum gf_err check(void *conf, char *err, size_t errlen)
{
	A.conf = conf;
	return setup(&A, conf, err, errlen);
}

static void on_event(struct gf_agent *a, const struct gf_inbox_item *ev)
{
	struct anonymizer *an = gf_agent_data(a);

	if (ev->kind == GF_INBOX_CONNECTED || ev->kind == GF_INBOX_PUBLISHED)
		gf_store_outbox_flush(an->store, gf_agent_bus(a));
	/* An acknowledgement makes room (max_unacked), or ends --once. */
	if (ev->kind == GF_INBOX_PUBLISHED || ev->kind == GF_INBOX_CONNECTED)
		anonymizer_feed_pump(an);
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *item)
{
	(void)a;
	gf_log_info("GF-ANON-IGNORED", "a message on %s: the anonymizer takes none", item->topic);
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct anonymizer_conf *c = conf;
	char err[512] = "", *qpath = NULL;
	enum gf_err rc;

	A.a = a;
	A.conf = c;
	A.once = once_flag;
	gf_agent_set_data(a, &A);
	rc = gf_bus_topic(gf_agent_bus(a), A.topic, sizeof(A.topic), "sp", c->sp_id,
	                  "meter.reading");
	if (rc == GF_OK)
		rc = gf_store_open(c->agent.state_dir, "anonymizer", anonymizer_feed_schema,
		                   &A.store, err, sizeof(err));
	if (rc == GF_OK)
		gf_store_outbox_hold(A.store, (double)c->outbox_hold_s);
	if (rc == GF_OK && !c->quarantine_file) {
		if (asprintf(&qpath, "%s/quarantine.csv", c->agent.state_dir) < 0)
			rc = GF_ENOMEM;
		else
			c->quarantine_file = qpath; /* freed with the configuration */
	}
	if (rc == GF_OK)
		rc = anonymizer_feed_start(&A, err, sizeof(err));
	if (rc == GF_OK)
		rc = anonymizer_topology_start(&A, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-ANON-START", "%s", err[0] ? err : gf_strerror(rc));
		return rc;
	}
	gf_store_outbox_flush(A.store, gf_agent_bus(a));
	gf_log_notice(
	    "GF-ANON-START",
	    "%s: %zu meters in id_map, key %s, sealed to %s for sp.%s, %s readings from %s%s",
	    gf_bus_ident(gf_agent_bus(a)), anonymizer_idmap_count(A.ids), A.key.id, c->sp_kid,
	    c->sp_id, c->value_kind, c->input_dir, A.once ? " (--once)" : "");
	if (A.topo.topic[0])
		gf_log_notice("GF-ANON-START",
		              "topology of grid point %s from %s: %zu metered loads",
		              c->grid_point_id, c->topology_dir, A.topo.members);
	anonymizer_feed_pump(&A);
	return GF_OK;
}

static int command(void *conf, int argc, char **argv)
{
	return anonymizer_commands_run(conf, argc, argv);
}

int main(int argc, char **argv)
{
	static const struct gf_agent_flag flags[] = {
	    {"once", &once_flag,
	     "send what input_dir (or stdin) holds now, exit 0 once every message is "
	     "acknowledged; prints the summary line"},
	    {NULL, NULL, NULL},
	};
	static const struct gf_agent_def def = {
	    .name = "gf-anonymizer",
	    .summary = "the DMS's meter exports, anonymized and sealed, to the Service Platform",
	    .version = "0.1",
	    .table = table,
	    .conf_size = sizeof(struct anonymizer_conf),
	    .common_offset = offsetof(struct anonymizer_conf, agent),
	    .check = check,
	    .start = start,
	    .message = on_message,
	    .event = on_event,
	    .flags = flags,
	    .command = command,
	    .command_help =
	        "  reverse PSEUDONYM...  the classification id and private meter id of "
	        "each pseudonym\n"
	        "  pseudonyms [ID...]    the CSV private_id,pseudonym of the ids given, or "
	        "of every id of id_map (for the DOMS's meter_map, an aggregator's)\n",
	};
	int code = gf_agent_main(&def, argc, argv);

	anonymizer_feed_stop(&A);
	gf_store_close(A.store);
	anonymizer_batch_free(&A.batch);
	gf_seal_to_free(A.to);
	gf_pseudonym_key_wipe(&A.key);
	anonymizer_idmap_free(A.ids);
	free(A.pseudonyms);
	free(A.prev);
	free(A.prev_dirty);
	free(A.dirty);
	return code;
}
