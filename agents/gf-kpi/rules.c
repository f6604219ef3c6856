/* SPDX-License-Identifier: MIT */
/*
 * rules.c - the goals and alarms file and the decisions on numbers
 * (tracker.h). The grammar, one rule a line (docs/kpi.md):
 *
 *   goal  NAME PATTERN >=|<= VALUE [per SECONDS] [sum|mean|last|max|min] [SEVERITY]
 *   alarm NAME PATTERN above|below VALUE [SEVERITY]
 *   alarm NAME PATTERN rate above|below VALUE per SECONDS [SEVERITY]
 *   alarm NAME PATTERN missing SECONDS [SEVERITY]
 *
 * PATTERN is "[SITE/ROLE/ID:]KPI" with "*" for any part and a trailing "*"
 * in KPI for a prefix; SEVERITY info, warning (the default) or critical.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracker.h"

#define WORDS_MAX    12
#define LINE_MAX_LEN 1024
#define RULES_MAX    10000

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

/* A part of a pattern: "*" or a name. */
static bool part_ok(const char *s, size_t max)
{
	return strcmp(s, "*") == 0 || name_ok(s, max);
}

enum gf_err kpi_rules_pattern(const char *s, struct kpi_pattern *p)
{
	struct kpi_pattern out;
	const char *colon = strchr(s, ':');
	char src[3 * (KPI_NAME_MAX + 2)], *role, *id;
	const char *kpi = s;
	size_t klen;

	strcpy(out.site, "*");
	strcpy(out.role, "*");
	strcpy(out.id, "*");
	if (colon) {
		if ((size_t)(colon - s) >= sizeof(src))
			return GF_EPARSE;
		memcpy(src, s, (size_t)(colon - s));
		src[colon - s] = '\0';
		role = strchr(src, '/');
		id = role ? strchr(role + 1, '/') : NULL;
		if (!role || !id || strchr(id + 1, '/'))
			return GF_EPARSE;
		*role++ = '\0';
		*id++ = '\0';
		if (!part_ok(src, KPI_SITE_MAX) || !part_ok(role, sizeof(out.role) - 1) ||
		    !part_ok(id, KPI_NAME_MAX))
			return GF_EPARSE;
		strcpy(out.site, src);
		strcpy(out.role, role);
		strcpy(out.id, id);
		kpi = colon + 1;
	}
	klen = strlen(kpi);
	if (klen == 0 || klen > KPI_NAME_MAX)
		return GF_EPARSE;
	memcpy(out.kpi, kpi, klen + 1);
	/* A trailing '*' makes a prefix; elsewhere it is not a name. */
	if (out.kpi[klen - 1] == '*')
		out.kpi[klen - 1] = '\0';
	if (out.kpi[0] && !name_ok(out.kpi, KPI_NAME_MAX))
		return GF_EPARSE;
	if (kpi[klen - 1] == '*')
		out.kpi[klen - 1] = '*';
	*p = out;
	return GF_OK;
}

static bool part_match(const char *pat, const char *s)
{
	return strcmp(pat, "*") == 0 || strcmp(pat, s) == 0;
}

bool kpi_rules_match(const struct kpi_pattern *p, const char *site, const char *role,
                     const char *id, const char *kpi)
{
	size_t n = strlen(p->kpi);

	if (!part_match(p->site, site) || !part_match(p->role, role) || !part_match(p->id, id))
		return false;
	if (n > 0 && p->kpi[n - 1] == '*')
		return strncmp(p->kpi, kpi, n - 1) == 0;
	return strcmp(p->kpi, kpi) == 0;
}

static bool number(const char *s, double *out)
{
	char *end;
	double v;

	if (!*s)
		return false;
	v = strtod(s, &end);
	if (*end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static int severity(const char *s)
{
	if (strcmp(s, "info") == 0)
		return 0;
	if (strcmp(s, "warning") == 0)
		return 1;
	if (strcmp(s, "critical") == 0)
		return 2;
	return -1;
}

static int agg(const char *s)
{
	static const char *const names[] = {"mean", "sum", "last", "max", "min"};

	for (int i = 0; i < 5; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* Reads "per SECONDS" at w[*i], if there. 0: absent, 1: read, -1: bad. */
static int per(char **w, size_t n, size_t *i, double *out)
{
	if (*i >= n || strcmp(w[*i], "per") != 0)
		return 0;
	if (*i + 1 >= n || !number(w[*i + 1], out) || *out < 1 || *out > 86400.0 * 366)
		return -1;
	*i += 2;
	return 1;
}

/* One line's words into *r; NULL or why not. */
static const char *parse_line(char **w, size_t n, struct kpi_rule *r)
{
	size_t i = 3;
	int s;

	memset(r, 0, sizeof(*r));
	r->severity = 1;
	if (n < 4)
		return "too few words";
	if (strcmp(w[0], "goal") == 0)
		r->kind = KPI_RULE_GOAL;
	else if (strcmp(w[0], "alarm") == 0)
		r->kind = KPI_RULE_THRESHOLD;
	else
		return "a rule starts with goal or alarm";
	if (!name_ok(w[1], KPI_NAME_MAX))
		return "bad rule name (1..64 of A-Z a-z 0-9 . _ -)";
	strcpy(r->name, w[1]);
	if (kpi_rules_pattern(w[2], &r->pat) != GF_OK)
		return "bad pattern (SITE/ROLE/ID:KPI, * for any part, KPI* for a prefix)";
	if (r->kind == KPI_RULE_GOAL) {
		if (strcmp(w[3], ">=") == 0)
			r->cmp = KPI_CMP_BELOW; /* it alarms when below */
		else if (strcmp(w[3], "<=") == 0)
			r->cmp = KPI_CMP_ABOVE;
		else
			return "a goal's comparison is >= or <=";
		if (n < 5 || !number(w[4], &r->value))
			return "a goal needs a number after its comparison";
		i = 5;
		r->window_s = 86400;
		r->agg = KPI_AGG_SUM;
		if (per(w, n, &i, &r->window_s) < 0)
			return "per needs seconds (1 .. one year)";
		if (i < n && agg(w[i]) >= 0)
			r->agg = (enum kpi_agg)agg(w[i++]);
	} else if (strcmp(w[3], "missing") == 0) {
		r->kind = KPI_RULE_MISSING;
		if (n < 5 || !number(w[4], &r->window_s) || r->window_s < 1)
			return "missing needs seconds (>= 1)";
		i = 5;
	} else {
		if (strcmp(w[3], "rate") == 0) {
			r->kind = KPI_RULE_RATE;
			i = 4;
		}
		if (i >= n)
			return "above or below expected";
		if (strcmp(w[i], "above") == 0)
			r->cmp = KPI_CMP_ABOVE;
		else if (strcmp(w[i], "below") == 0)
			r->cmp = KPI_CMP_BELOW;
		else
			return "above or below expected";
		if (i + 1 >= n || !number(w[i + 1], &r->value))
			return "a number expected after above or below";
		i += 2;
		if (r->kind == KPI_RULE_RATE && per(w, n, &i, &r->window_s) != 1)
			return "a rate needs per SECONDS";
	}
	if (i < n && (s = severity(w[i])) >= 0) {
		r->severity = s;
		i++;
	}
	if (i < n)
		return "unexpected word at the end";
	return NULL;
}

enum gf_err kpi_rules_parse(const char *text, size_t len, struct kpi_rules *out, char *err,
                            size_t errlen)
{
	struct kpi_rules rs = {NULL, 0};
	size_t pos = 0, cap = 0;
	int lineno = 0;
	enum gf_err rc = GF_OK;

	while (pos < len) {
		char line[LINE_MAX_LEN + 1], *w[WORDS_MAX], *save = NULL, *tok;
		size_t end = pos, n = 0;
		const char *why;
		struct kpi_rule r;

		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		if (end - pos > LINE_MAX_LEN) {
			snprintf(err, errlen, "line %d: longer than %d bytes", lineno,
			         LINE_MAX_LEN);
			rc = GF_EPARSE;
			goto out;
		}
		memcpy(line, text + pos, end - pos);
		line[end - pos] = '\0';
		pos = end + 1;
		/* A NUL inside a line ends it there (the rest is ignored). */
		for (char *p = line; *p; p++) {
			if (*p == '#') {
				*p = '\0';
				break;
			}
		}
		for (tok = strtok_r(line, " \t\r", &save); tok;
		     tok = strtok_r(NULL, " \t\r", &save)) {
			if (n == WORDS_MAX) {
				snprintf(err, errlen, "line %d: more than %d words", lineno,
				         WORDS_MAX);
				rc = GF_EPARSE;
				goto out;
			}
			w[n++] = tok;
		}
		if (n == 0)
			continue;
		if ((why = parse_line(w, n, &r)) != NULL) {
			snprintf(err, errlen, "line %d: %s", lineno, why);
			rc = GF_EPARSE;
			goto out;
		}
		r.line = lineno;
		for (size_t k = 0; k < rs.n; k++) {
			if (strcmp(rs.r[k].name, r.name) == 0) {
				snprintf(err, errlen, "line %d: rule %s already defined on line %d",
				         lineno, r.name, rs.r[k].line);
				rc = GF_EPARSE;
				goto out;
			}
		}
		if (rs.n == RULES_MAX) {
			snprintf(err, errlen, "line %d: more than %d rules", lineno, RULES_MAX);
			rc = GF_EPARSE;
			goto out;
		}
		if (rs.n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct kpi_rule *nr = realloc(rs.r, ncap * sizeof(*nr));
			if (!nr) {
				rc = GF_ENOMEM;
				goto out;
			}
			rs.r = nr;
			cap = ncap;
		}
		rs.r[rs.n++] = r;
	}
out:
	if (rc != GF_OK) {
		free(rs.r);
		return rc;
	}
	*out = rs;
	return GF_OK;
}

void kpi_rules_free(struct kpi_rules *rules)
{
	if (!rules)
		return;
	free(rules->r);
	rules->r = NULL;
	rules->n = 0;
}

bool kpi_rules_breach(enum kpi_cmp cmp, double value, double limit)
{
	return cmp == KPI_CMP_ABOVE ? value > limit : value < limit;
}

double kpi_rules_rate(const struct kpi_point *pts, size_t n, double now, double window,
                      bool periodic)
{
	double sum = 0, first = 0, last = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (pts[i].t <= now - window || pts[i].t > now)
			continue;
		if (k++ == 0)
			first = pts[i].v;
		last = pts[i].v;
		sum += pts[i].v;
	}
	if (periodic)
		return sum;
	return k >= 2 ? last - first : 0;
}

bool kpi_rules_aggregate(const struct kpi_point *pts, size_t n, enum kpi_agg a, double *out)
{
	double acc;

	if (n == 0)
		return false;
	acc = a == KPI_AGG_LAST ? pts[n - 1].v : pts[0].v;
	if (a == KPI_AGG_SUM || a == KPI_AGG_MEAN) {
		acc = 0;
		for (size_t i = 0; i < n; i++)
			acc += pts[i].v;
		if (a == KPI_AGG_MEAN)
			acc /= (double)n;
	} else if (a == KPI_AGG_MAX || a == KPI_AGG_MIN) {
		for (size_t i = 1; i < n; i++)
			if (a == KPI_AGG_MAX ? pts[i].v > acc : pts[i].v < acc)
				acc = pts[i].v;
	}
	*out = acc;
	return true;
}

enum kpi_goal_state kpi_rules_goal(const struct kpi_rule *g, double value, bool any, bool over)
{
	/* g->cmp is the side that breaks the goal: below for ">=". */
	bool met = any && !kpi_rules_breach(g->cmp, value, g->value);

	if (g->agg == KPI_AGG_SUM && any) {
		/* Sums only grow with non-negative samples: decided early. */
		if (g->cmp == KPI_CMP_BELOW && met)
			return KPI_GOAL_REACHED;
		if (g->cmp == KPI_CMP_ABOVE && !met)
			return KPI_GOAL_MISSED;
	}
	if (!over)
		return KPI_GOAL_OPEN;
	return met ? KPI_GOAL_REACHED : KPI_GOAL_MISSED;
}

const char *kpi_rules_kind_name(enum kpi_rule_kind kind)
{
	switch (kind) {
	case KPI_RULE_GOAL:
		return "goal";
	case KPI_RULE_THRESHOLD:
		return "threshold";
	case KPI_RULE_RATE:
		return "rate";
	case KPI_RULE_MISSING:
		return "missing";
	}
	return "?";
}

const char *kpi_rules_agg_name(enum kpi_agg a)
{
	static const char *const names[] = {"mean", "sum", "last", "max", "min"};

	return (unsigned)a < 5 ? names[a] : "?";
}

const char *kpi_rules_severity_name(int s)
{
	return s == 0 ? "info" : s == 2 ? "critical" : "warning";
}
