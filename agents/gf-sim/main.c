/* SPDX-License-Identifier: MIT */
/*
 * gf-sim - simulated prosumers with an xEMS (issue 5 item 6, docs/sim.md).
 *
 * One process hosts N prosumers, each on its own bus connection with its
 * own identity xems.<id>, talking to its FOA foa.<id>. A timer at every
 * interval boundary (simulated time) steps every prosumer's base load and
 * devices through the interval that ended, sends each FOA its
 * xems.operation and writes the CSV; at every day start (and at start) each
 * prosumer offers its devices' flexibility (xems.flexibility). Schedules
 * from the FOA (foa.reply) are followed from their start interval.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/fleet.h"
#include "engine/loadprofile.h"
#include "base/log.h"
#include "sim.h"
#include "base/timefmt.h"

#define DAY GF_DEVICE_DAY

static const struct gf_conf_item table[] = {
    GF_AGENT_CONF_ITEMS(struct sim_conf, agent),
    {"prosumers", GF_CONF_INT, offsetof(struct sim_conf, prosumers), "55", 0, 100000, false,
     "how many prosumers this process hosts (0: only plugs)"},
    {"first_id", GF_CONF_INT, offsetof(struct sim_conf, first_id), "1", 1, 99999999, false,
     "number of the first prosumer (its profile, seed and id follow from it)"},
    {"id_prefix", GF_CONF_STRING, offsetof(struct sim_conf, id_prefix), "sim-", 0, 0, false,
     "xEMS ids are id_prefix + the number with id_digits digits"},
    {"id_digits", GF_CONF_INT, offsetof(struct sim_conf, id_digits), "4", 1, 12, false,
     "digits of the number in an id (zero-padded)"},
    {"id_list", GF_CONF_STRING, offsetof(struct sim_conf, id_list), NULL, 0, 0, false,
     "file of xEMS ids, one a line; prosumer number k takes line k (instead of the prefix)"},
    {"profiles_dir", GF_CONF_STRING, offsetof(struct sim_conf, profiles_dir),
     "../shared/data/ieee-eu-lv/load-profiles", 0, 0, false,
     "directory of the IEEE feeder's Load_profile_1..55.csv"},
    {"cert_dir", GF_CONF_STRING, offsetof(struct sim_conf, cert_dir), NULL, 0, 0, false,
     "TLS: directory of the prosumers' xems.<id>.crt and .key (with cafile)"},
    {"persist", GF_CONF_BOOL, offsetof(struct sim_conf, persist), "on", 0, 0, false,
     "each prosumer's durable inbox in state_dir/xems.<id>; off: "
     "memory only (cheaper: docs/sim.md)"},
    {"dms_dir", GF_CONF_STRING, offsetof(struct sim_conf, dms_dir), NULL, 0, 0, false,
     "the DSO's meter export: a GOFLEX DMS CSV file per interval (\"<id>\",<local end>,<kWh>) "
     "in this directory, for gf-anonymizer; none when absent"},
    {"dms_timezone", GF_CONF_STRING, offsetof(struct sim_conf, dms_timezone), "Europe/Nicosia", 0,
     0, false, "IANA zone of the export's wall-clock times"},
    {"report_csv", GF_CONF_STRING, offsetof(struct sim_conf, report_csv), NULL, 0, 0, false,
     "file the per-interval metering is written to (CSV)"},
    {"seed", GF_CONF_INT, offsetof(struct sim_conf, seed), "1", 0, 2147483647L, false,
     "seed of the prosumers' device mix"},
    {"pct_thermal", GF_CONF_INT, offsetof(struct sim_conf, pct_thermal), "50", 0, 100, false,
     "percent of prosumers with an electric boiler or a heat pump"},
    {"pct_heatpump", GF_CONF_INT, offsetof(struct sim_conf, pct_heatpump), "30", 0, 100, false,
     "percent of those that are heat pumps"},
    {"pct_ev", GF_CONF_INT, offsetof(struct sim_conf, pct_ev), "30", 0, 100, false,
     "percent of prosumers with an EV charger"},
    {"pct_battery", GF_CONF_INT, offsetof(struct sim_conf, pct_battery), "20", 0, 100, false,
     "percent of prosumers with a home battery"},
    {"pct_white", GF_CONF_INT, offsetof(struct sim_conf, pct_white), "60", 0, 100, false,
     "percent of prosumers with a shiftable washing machine or dishwasher"},
    {"battery_from", GF_CONF_INT, offsetof(struct sim_conf, battery_from), "64", 0, 95, false,
     "first interval of the day the FOA may move a home battery (64: 16:00)"},
    {"battery_to", GF_CONF_INT, offsetof(struct sim_conf, battery_to), "88", 0, 96, false,
     "end of that window, exclusive (88: 22:00; <= battery_from wraps over midnight)"},
    {"history_days", GF_CONF_INT, offsetof(struct sim_conf, history_days), "0", 0, 14, false,
     "days before today simulated at start as fast as they run, without offers or the bus: the "
     "meters' history (report_csv and dms_dir rows); the devices go on from where they end"},
    {"offer_lead_s", GF_CONF_INT, offsetof(struct sim_conf, offer_lead_s), "3600", 900, 86400,
     false, "offers start this long after their round (simulated seconds, whole intervals)"},
    {"deadline_lead_s", GF_CONF_INT, offsetof(struct sim_conf, deadline_lead_s), "900", 0, 86400,
     false,
     "acceptance and assignment deadlines this long before an offer's start (< offer_lead_s)"},
    {"tariff_min", GF_CONF_STRING, offsetof(struct sim_conf, tariff_min), NULL, 0, 0, false,
     "EUR/kWh, with tariff_max: the offers' flexOfferTariffConstraint"},
    {"tariff_max", GF_CONF_STRING, offsetof(struct sim_conf, tariff_max), NULL, 0, 0, false,
     "EUR/kWh, with tariff_min"},
    SIM_PLUGS_CONF_ITEMS(struct sim_conf, plug),
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

static struct sim S;

/* --- setup ---------------------------------------------------------------------------- */

static enum gf_err load_profiles(struct sim *s)
{
	double *kw = malloc(GF_LOADPROFILE_FEEDER * GF_LOADPROFILE_MINUTES * sizeof(double));
	char err[512];
	enum gf_err rc = GF_ENOMEM;

	s->profiles_kwh = malloc(GF_LOADPROFILE_FEEDER * DAY * sizeof(double));
	if (!kw || !s->profiles_kwh)
		goto out;
	rc = gf_loadprofile_load_dir(s->conf->profiles_dir, GF_LOADPROFILE_FEEDER, kw, err,
	                             sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-SIM-CONFIG", "cannot read the load profiles: %s", err);
		goto out;
	}
	for (size_t i = 0; i < GF_LOADPROFILE_FEEDER; i++)
		gf_loadprofile_to_intervals(kw + i * GF_LOADPROFILE_MINUTES,
		                            s->profiles_kwh + i * DAY);
out:
	free(kw);
	return rc;
}

static enum gf_err parse_tariff(const char *text, double *out)
{
	char *end;

	*out = NAN;
	if (!text)
		return GF_OK;
	errno = 0;
	*out = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(*out)) {
		gf_log_err("GF-SIM-CONFIG", "tariff '%s' is not a number", text);
		*out = NAN;
		return GF_EINVAL;
	}
	return GF_OK;
}

/* The id of prosumer number `number` (1-based) into id. */
static enum gf_err prosumer_id(const struct sim_conf *c, char **list, size_t nlist, long number,
                               char *id, size_t size)
{
	if (list) {
		if ((size_t)number > nlist) {
			gf_log_err("GF-SIM-CONFIG",
			           "id_list %s has %zu ids, prosumer %ld needs more", c->id_list,
			           nlist, number);
			return GF_EINVAL;
		}
		snprintf(id, size, "%s", list[number - 1]);
	} else if (!gf_fleet_id(c->id_prefix, c->id_digits, number, id, size)) {
		gf_log_err("GF-SIM-CONFIG", "'%s' is not a valid xEMS id", id);
		return GF_EINVAL;
	}
	if (!gf_id_valid(id, strlen(id)) || strcmp(id, "all") == 0) {
		gf_log_err("GF-SIM-CONFIG", "'%s' is not a valid xEMS id", id);
		return GF_EINVAL;
	}
	return GF_OK;
}

/* Reads the id list (one id a line, '#' comments). *list owned by the caller. */
static enum gf_err read_ids(const char *path, char ***list, size_t *n)
{
	char line[256], **v = NULL;
	size_t cnt = 0, cap = 0;
	FILE *f = fopen(path, "r");
	enum gf_err rc = GF_OK;

	if (!f) {
		gf_log_err("GF-SIM-CONFIG", "cannot read id_list %s: %s", path, strerror(errno));
		return GF_EIO;
	}
	while (rc == GF_OK && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n# \t")] = '\0';
		if (!line[0])
			continue;
		if (cnt == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
			if (!nv) {
				rc = GF_ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[cnt] = strdup(line)))
			rc = GF_ENOMEM;
		else
			cnt++;
	}
	fclose(f);
	*list = v;
	*n = cnt;
	return rc;
}

/* Opens prosumer p's connection (or takes the agent's own when it is
 * xems.<id>) and subscribes to what its FOA sends it. */
static enum gf_err open_bus(struct sim *s, struct sim_prosumer *p)
{
	const struct gf_agent_conf *c = &s->conf->agent;
	char state[4096], filter[256], err[512];
	struct gf_bus *bus = NULL;
	enum gf_err rc;

	snprintf(state, sizeof(state), "%s/xems.%s", c->state_dir, p->id);
	rc = gf_fleet_bus(s->a, c, "xems", p->id, s->conf->cert_dir,
	                  s->conf->persist ? state : NULL, "gf-sim", p, &bus, err, sizeof(err));
	if (rc != GF_OK) {
		gf_log_err("GF-SIM-CONFIG", "cannot open the connection of xems.%s: %s", p->id,
		           err);
		return rc;
	}
	p->bus = bus;
	snprintf(filter, sizeof(filter), "gf/%s/foa/%s/xems/%s/#", c->site, p->id, p->id);
	return gf_bus_subscribe(bus, filter);
}

static enum gf_err open_csv(struct sim *s)
{
	if (!s->conf->report_csv)
		return GF_OK;
	s->csv = fopen(s->conf->report_csv, "w");
	if (!s->csv) {
		gf_log_err("GF-SIM-CONFIG", "cannot write %s: %s", s->conf->report_csv,
		           strerror(errno));
		return GF_EIO;
	}
	fprintf(s->csv, "interval,prosumer,base_kwh,device_kwh,scheduled_kwh,total_kwh,"
	                "default_kwh,start_time,state\n");
	fflush(s->csv);
	return GF_OK;
}

/* --- the simulated day -------------------------------------------------------------- */

static void day_log(struct sim *s)
{
	char when[GF_TIME_BUFSIZE] = "?";
	struct sim_day *d = &s->day;

	if (d->intervals == 0 && d->offers == 0)
		return;
	(void)gf_time_format(d->day * GF_TIME_INTERVAL_S * 1000, when, sizeof(when));
	gf_log_notice("GF-SIM-DAY",
	              "day %.10s: %zu prosumers, %ld intervals, %ld offers, %ld schedules "
	              "(%ld duplicate, %ld unmatched); kWh base %.3f, devices %.3f (default "
	              "%.3f, scheduled %.3f), total %.3f",
	              when, s->n, d->intervals, d->offers, d->schedules, d->duplicates,
	              d->unmatched, d->base_kwh, d->device_kwh, d->default_kwh, d->scheduled_kwh,
	              d->total_kwh);
}

static void offer_round(struct sim *s, int64_t now)
{
	struct sim_round r = {.now = now,
	                      .next_round = (now / DAY + 1) * DAY,
	                      .lead = (int32_t)(s->conf->offer_lead_s / GF_TIME_INTERVAL_S),
	                      .deadline_lead =
	                          (int32_t)(s->conf->deadline_lead_s / GF_TIME_INTERVAL_S)};
	size_t total = 0, made;

	for (size_t i = 0; i < s->n; i++) {
		if (sim_prosumer_offers(&s->p[i], &r, sim_xems_offer, s, &made) != GF_OK) {
			gf_log_err("GF-SIM-OFFER", "out of memory in the offer round");
			break;
		}
		total += made;
	}
	gf_log_info("GF-SIM-ROUND", "offer round at interval %lld: %zu offers of %zu prosumers",
	            (long long)now, total, s->n);
}

/* Steps interval j for every prosumer; live: with the bus (xems.operation),
 * else history (the meters only). */
static void step_interval(struct sim *s, int64_t j, bool live)
{
	char start[GF_TIME_BUFSIZE] = "";
	struct sim_meter m;
	static const char *const states[] = {"offline", "onlineWithoutOffer", "offerSent",
	                                     "assigned", "inAdaptation"};

	(void)gf_time_format(j * GF_TIME_INTERVAL_S * 1000, start, sizeof(start));
	for (size_t i = 0; i < s->n; i++) {
		struct sim_prosumer *p = &s->p[i];
		sim_prosumer_step(p, j, &m);
		if (live)
			sim_xems_operation(s, p, j, &m);
		s->day.base_kwh += m.base_kwh;
		s->day.device_kwh += m.device_kwh;
		s->day.scheduled_kwh += m.scheduled_kwh;
		s->day.default_kwh += m.default_kwh;
		s->day.total_kwh += m.total_kwh;
		if (s->dms)
			sim_dms_add(s->dms, j, p->id, m.total_kwh);
		if (s->csv)
			fprintf(s->csv, "%lld,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%s,%s\n", (long long)j,
			        p->id, m.base_kwh, m.device_kwh, m.scheduled_kwh, m.total_kwh,
			        m.default_kwh, start, states[sim_prosumer_state(p, j + 1)]);
	}
	s->day.intervals++;
	if (s->csv)
		fflush(s->csv);
	if (s->dms)
		sim_dms_flush(s->dms);
}

/* At every interval boundary: step the interval that ended, then a day
 * start's offer round. One interval per call: the runtime fires due timers
 * back to back without polling, so a sim that falls behind (too many
 * prosumers for the time scale) re-arms a millisecond ahead instead of at
 * once, and FOA replies and signals are served between its intervals. */
static void tick(struct gf_agent *a, void *arg)
{
	struct sim *s = arg;
	int64_t now = (int64_t)floor(gf_agent_now(a) / GF_TIME_INTERVAL_S);

	if (s->cursor < now) {
		step_interval(s, s->cursor, true);
		s->cursor++;
		if (s->cursor % DAY == 0) {
			day_log(s);
			memset(&s->day, 0, sizeof(s->day));
			s->day.day = s->cursor;
			offer_round(s, s->cursor);
		}
	}
	now = (int64_t)floor(gf_agent_now(a) / GF_TIME_INTERVAL_S);
	if (s->cursor < now) {
		if (!s->behind)
			gf_log_warning("GF-SIM-BEHIND",
			               "interval %lld is over and not yet stepped: the simulation "
			               "is behind the clock (lower time_scale or prosumers)",
			               (long long)s->cursor);
		s->behind++;
		gf_agent_timer_at(a, gf_agent_now(a) + 0.001 * (double)s->conf->agent.time_scale,
		                  tick, s);
	} else {
		gf_agent_timer_at(a, (double)(now + 1) * GF_TIME_INTERVAL_S, tick, s);
	}
}

static enum gf_err make_prosumers(struct sim *s, int64_t now)
{
	struct sim_conf *c = s->conf;
	struct sim_mix mix = {c->seed,        c->pct_thermal, c->pct_heatpump, c->pct_ev,
	                      c->pct_battery, c->pct_white,   c->battery_from, c->battery_to};
	char **list = NULL, id[GF_ID_MAX + 16], err[256];
	size_t nlist = 0;
	enum gf_err rc = GF_OK;

	if (c->id_list && (rc = read_ids(c->id_list, &list, &nlist)) != GF_OK)
		goto out;
	s->p = calloc((size_t)c->prosumers, sizeof(*s->p));
	if (!s->p) {
		rc = GF_ENOMEM;
		goto out;
	}
	for (long k = 0; k < c->prosumers && rc == GF_OK; k++) {
		long number = c->first_id + k;
		const double *base = s->profiles_kwh + (size_t)((number - 1) % 55) * DAY;
		rc = prosumer_id(c, list, nlist, number, id, sizeof(id));
		if (rc == GF_OK)
			rc = sim_mix_draw(&s->p[k], &mix, number, id, base, now, err, sizeof(err));
		if (rc != GF_OK)
			break;
		s->n++;
		rc = open_bus(s, &s->p[k]);
	}
out:
	for (size_t i = 0; i < nlist; i++)
		free(list[i]);
	free(list);
	return rc;
}

static enum gf_err start(struct gf_agent *a, void *conf)
{
	struct sim *s = &S;
	int64_t now = (int64_t)floor(gf_agent_now(a) / GF_TIME_INTERVAL_S), from;
	size_t devices = 0;
	enum gf_err rc;

	s->a = a;
	s->conf = conf;
	gf_agent_set_data(a, s);
	if (s->conf->offer_lead_s % GF_TIME_INTERVAL_S ||
	    s->conf->deadline_lead_s % GF_TIME_INTERVAL_S ||
	    s->conf->deadline_lead_s >= s->conf->offer_lead_s) {
		gf_log_err("GF-SIM-CONFIG", "offer_lead_s and deadline_lead_s must be whole "
		                            "intervals (900 s), deadline_lead_s the smaller");
		return GF_EINVAL;
	}
	if ((rc = parse_tariff(s->conf->tariff_min, &s->tariff.min)) != GF_OK ||
	    (rc = parse_tariff(s->conf->tariff_max, &s->tariff.max)) != GF_OK)
		return rc;
	if (isnan(s->tariff.min) != isnan(s->tariff.max)) {
		gf_log_err("GF-SIM-CONFIG", "give both tariff_min and tariff_max, or neither");
		return GF_EINVAL;
	}
	if (s->conf->plug.plugs && (rc = sim_plugs_start(a, &s->conf->plug, &s->plugs)) != GF_OK)
		return rc;
	if (s->conf->prosumers == 0) {
		if (!s->plugs) {
			gf_log_err("GF-SIM-CONFIG",
			           "prosumers 0 without plugs: nothing to simulate");
			return GF_EINVAL;
		}
		return GF_OK;
	}
	/* With a history, the devices start at its first interval. */
	from = s->conf->history_days ? now - now % DAY - s->conf->history_days * DAY : now;
	if ((rc = load_profiles(s)) != GF_OK || (rc = make_prosumers(s, from)) != GF_OK ||
	    (rc = open_csv(s)) != GF_OK)
		return rc;
	if (s->conf->dms_dir) {
		char err[512];

		rc = sim_dms_open(s->conf->dms_dir, s->conf->dms_timezone, &s->dms, err,
		                  sizeof(err));
		if (rc != GF_OK) {
			gf_log_err("GF-SIM-CONFIG", "%s", err);
			return rc;
		}
	}
	for (size_t i = 0; i < s->n; i++)
		devices += s->p[i].ndev;
	gf_log_notice("GF-SIM-START", "%zu prosumers (%s .. %s) with %zu devices, seed %ld", s->n,
	              s->p[0].id, s->p[s->n - 1].id, devices, s->conf->seed);
	/* The history: every prosumer's intervals before now, no offers, no
	 * bus; its meter exports are written as the day goes. */
	s->day.day = from - from % DAY;
	for (int64_t j = from; j < now; j++) {
		step_interval(s, j, false);
		if ((j + 1) % DAY == 0) {
			day_log(s);
			memset(&s->day, 0, sizeof(s->day));
			s->day.day = j + 1;
		}
	}
	if (from < now)
		gf_log_notice("GF-SIM-HISTORY", "%lld intervals of history simulated (meters only)",
		              (long long)(now - from));
	/* The devices go on at the beginning of the current interval. */
	s->cursor = now;
	s->day.day = now - now % DAY;
	offer_round(s, now);
	gf_agent_timer_at(a, (double)(now + 1) * GF_TIME_INTERVAL_S, tick, s);
	return GF_OK;
}

static void on_message(struct gf_agent *a, const struct gf_inbox_item *it)
{
	struct sim_prosumer *p = gf_agent_current_ctx(a);

	/* The agent's own connection carries a prosumer only when its
	 * identity is that prosumer's (open_bus). */
	for (size_t i = 0; !p && i < S.n; i++)
		if (S.p[i].bus == gf_agent_current_bus(a))
			p = &S.p[i];
	if (p)
		sim_xems_message(&S, p, it);
}

static void stop(struct gf_agent *a)
{
	(void)a;
	sim_plugs_free(S.plugs);
	S.plugs = NULL;
	day_log(&S);
	gf_log_notice("GF-SIM-STOP", "stopping %zu prosumers at interval %lld (%ld stepped late)",
	              S.n, (long long)S.cursor, S.behind);
}

int main(int argc, char **argv)
{
	static const struct gf_agent_def def = {
	    .name = "gf-sim",
	    .summary = "simulated prosumers with an xEMS, each its own identity xems.<id>",
	    .version = "0.1",
	    .table = table,
	    .conf_size = sizeof(struct sim_conf),
	    .common_offset = offsetof(struct sim_conf, agent),
	    .start = start,
	    .message = on_message,
	    .stop = stop,
	};
	int code;

	gf_fleet_raise_fd_limit();
	code = gf_agent_main(&def, argc, argv);
	for (size_t i = 0; i < S.n; i++)
		sim_prosumer_free(&S.p[i]);
	free(S.p);
	free(S.profiles_kwh);
	if (S.csv)
		fclose(S.csv);
	sim_dms_free(S.dms);
	return code;
}
