/* SPDX-License-Identifier: MIT */
/*
 * feeder.c - reading a feeder's files: line codes, supply, lines, loads.
 * The tree is built in feeder_tree.c once every line is in.
 */
#include "grid/feeder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/file.h"
#include "grid/csvtab.h"
#include "grid/feeder_int.h"
#include "grid/linecode.h"

static const char *const file_names[GF_FEEDER_NFILES] = {
    [GF_FEEDER_LINES] = "Lines.csv",   [GF_FEEDER_LINECODES] = "LineCodes.csv",
    [GF_FEEDER_LOADS] = "Loads.csv",   [GF_FEEDER_TRANSFORMER] = "Transformer.csv",
    [GF_FEEDER_SOURCE] = "Source.csv", [GF_FEEDER_LOADSHAPES] = "LoadShapes.csv",
};

/* What the parse builds beside the feeder and drops at the end. */
struct build {
	struct gf_feeder *f;
	size_t cap_bus, cap_line, cap_load, cap_code;
	struct gf__feeder_index bus_ix, line_ix, load_ix, code_ix, shape_ix;
	size_t *row; /* per line, its line number in Lines.csv */
	size_t cap_row;
	char (*shape)[2][GF_FEEDER_NAME_MAX]; /* LoadShapes: name, file */
	size_t nshape, cap_shape;
	char *err;
	size_t errlen;
};

const char *gf_feeder_file_name(enum gf_feeder_file i)
{
	return (unsigned)i < GF_FEEDER_NFILES ? file_names[i] : "";
}

/* Makes room for n + 1 items of size bytes in *p (capacity *cap). */
static enum gf_err grow(void *p, size_t *cap, size_t n, size_t size)
{
	void **pp = p;
	size_t c;
	void *q;

	if (n < *cap)
		return GF_OK;
	c = *cap ? *cap * 2 : 64;
	q = realloc(*pp, c * size);
	if (!q)
		return GF_ENOMEM;
	*pp = q;
	*cap = c;
	return GF_OK;
}

/* Copies the field into a name: not empty, printable, short enough. */
static enum gf_err name_copy(const struct gf_csvtab *t, int col, char out[GF_FEEDER_NAME_MAX],
                             char *err, size_t errlen)
{
	const char *s = gf_csvtab_get(t, col);
	size_t n = strlen(s);
	char shown[48];

	if (n == 0)
		return gf_csvtab_fail(t, err, errlen, GF_EPARSE, "%s is empty", t->head[col]);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] >= 0x7f)
			return gf_csvtab_fail(t, err, errlen, GF_EPARSE,
			                      "%s '%s' has a byte other than printable ASCII",
			                      t->head[col],
			                      gf_csvtab_shown(s, shown, sizeof(shown)));
	if (n >= GF_FEEDER_NAME_MAX)
		return gf_csvtab_fail(t, err, errlen, GF_EPARSE, "%s '%s' is longer than %d bytes",
		                      t->head[col], gf_csvtab_shown(s, shown, sizeof(shown)),
		                      GF_FEEDER_NAME_MAX - 1);
	memcpy(out, s, n + 1);
	return GF_OK;
}

/* The field must equal one of the |-separated words of allowed (any case),
 * when the column is there at all. */
static enum gf_err must_be(const struct gf_csvtab *t, int col, const char *allowed, const char *why,
                           char *err, size_t errlen)
{
	const char *s = gf_csvtab_get(t, col);
	size_t n = strlen(s);
	char shown[48];

	if (col < 0)
		return GF_OK;
	for (const char *a = allowed; *a;) {
		const char *e = strchr(a, '|');
		size_t k = e ? (size_t)(e - a) : strlen(a);

		if (k == n && strncasecmp(a, s, n) == 0)
			return GF_OK;
		a += k + (e != NULL);
	}
	return gf_csvtab_fail(t, err, errlen, GF_EPARSE, "%s '%s': %s", t->head[col],
	                      gf_csvtab_shown(s, shown, sizeof(shown)), why);
}

static enum gf_err num_in(const struct gf_csvtab *t, int col, double lo, double *out, char *err,
                          size_t errlen)
{
	enum gf_err rc = gf_csvtab_num(t, col, out, err, errlen);

	if (rc == GF_OK && !(*out >= lo))
		rc = gf_csvtab_fail(t, err, errlen, GF_EPARSE, "%s %g is below %g", t->head[col],
		                    *out, lo);
	return rc;
}

/* Meters per the unit of a Units field: m or km. */
static enum gf_err unit_m(const struct gf_csvtab *t, int col, double *m, char *err, size_t errlen)
{
	enum gf_err rc = must_be(t, col, "m|km", "expected m or km", err, errlen);

	*m = strcasecmp(gf_csvtab_get(t, col), "km") == 0 ? 1000.0 : 1.0;
	return rc;
}

/* Interns a bus name: its index, added if new. */
static enum gf_err bus_of(struct build *b, const char *name, size_t *out)
{
	struct gf_feeder *f = b->f;
	struct gf__feeder_names names;
	size_t i;

	names.base = (const char *)f->bus;
	names.stride = sizeof(*f->bus);
	i = gf__feeder_index_find(&b->bus_ix, names, name);
	if (i == GF_FEEDER_NONE) {
		if (grow(&f->bus, &b->cap_bus, f->nbus, sizeof(*f->bus)) != GF_OK)
			return GF_ENOMEM;
		memcpy(f->bus[f->nbus], name, strlen(name) + 1);
		names.base = (const char *)f->bus;
		if (gf__feeder_index_add(&b->bus_ix, names, f->nbus) != GF_OK)
			return GF_ENOMEM;
		i = f->nbus++;
	}
	*out = i;
	return GF_OK;
}

/* Adds item n (names) to ix unless its name is there: then GF_EPARSE. */
static enum gf_err unique(struct build *b, const struct gf_csvtab *t, struct gf__feeder_index *ix,
                          struct gf__feeder_names names, size_t n, const char *what)
{
	const char *name = names.base + n * names.stride;

	if (gf__feeder_index_find(ix, names, name) != GF_FEEDER_NONE)
		return gf_csvtab_fail(t, b->err, b->errlen, GF_EPARSE, "%s %s appears twice", what,
		                      name);
	return gf__feeder_index_add(ix, names, n);
}

static enum gf_err parse_codes(struct build *b, char *text, size_t len)
{
	struct gf_feeder *f = b->f;
	struct gf_csvtab t;
	int c_name, c_n, c_r1, c_x1, c_r0, c_x0, c_c1, c_c0, c_units, c_amps;
	enum gf_err rc;
	bool got;

	if ((rc = gf_csvtab_open(&t, file_names[GF_FEEDER_LINECODES], text, len, b->err,
	                         b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Name", &c_name, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "R1", &c_r1, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "X1", &c_x1, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "R0", &c_r0, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "X0", &c_x0, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Units", &c_units, b->err, b->errlen)) != GF_OK)
		return rc;
	c_n = gf_csvtab_col(&t, "nphases");
	c_c1 = gf_csvtab_col(&t, "C1");
	c_c0 = gf_csvtab_col(&t, "C0");
	c_amps = gf_csvtab_col(&t, "NormAmps");
	while ((rc = gf_csvtab_next(&t, &got, b->err, b->errlen)) == GF_OK && got) {
		struct gf_feeder_code *c;
		struct gf__feeder_names names;
		double per_km, cap;

		if (grow(&f->code, &b->cap_code, f->ncode, sizeof(*f->code)) != GF_OK)
			return GF_ENOMEM;
		c = &f->code[f->ncode];
		memset(c, 0, sizeof(*c));
		if ((rc = name_copy(&t, c_name, c->name, b->err, b->errlen)) != GF_OK ||
		    (rc = must_be(&t, c_n, "3", "only three-phase line codes are modelled", b->err,
		                  b->errlen)) != GF_OK ||
		    (rc = num_in(&t, c_r1, 0, &c->r1, b->err, b->errlen)) != GF_OK ||
		    (rc = num_in(&t, c_x1, 0, &c->x1, b->err, b->errlen)) != GF_OK ||
		    (rc = num_in(&t, c_r0, 0, &c->r0, b->err, b->errlen)) != GF_OK ||
		    (rc = num_in(&t, c_x0, 0, &c->x0, b->err, b->errlen)) != GF_OK ||
		    (rc = unit_m(&t, c_units, &per_km, b->err, b->errlen)) != GF_OK)
			return rc;
		/* Shunt capacitance is not modelled: say so rather than drop it. */
		for (int k = 0; k < 2; k++) {
			int col = k ? c_c0 : c_c1;

			if (col < 0 || !gf_csvtab_get(&t, col)[0])
				continue;
			if ((rc = gf_csvtab_num(&t, col, &cap, b->err, b->errlen)) != GF_OK)
				return rc;
			if (cap != 0)
				return gf_csvtab_fail(&t, b->err, b->errlen, GF_EPARSE,
				                      "%s %g: shunt capacitance is not modelled",
				                      t.head[col], cap);
		}
		/* Ohm per unit to ohm per km. */
		per_km = 1000.0 / per_km;
		c->r1 *= per_km, c->x1 *= per_km, c->r0 *= per_km, c->x0 *= per_km;
		gf_linecode_phase_z(c->r1, c->x1, c->r0, c->x0, c->z);
		if (c_amps >= 0 && gf_csvtab_get(&t, c_amps)[0]) {
			if ((rc = num_in(&t, c_amps, 0, &c->amps, b->err, b->errlen)) != GF_OK)
				return rc;
			snprintf(c->basis, sizeof(c->basis), "NormAmps column");
		} else {
			c->amps = gf_linecode_ampacity(c->name, c->r1, c->basis, sizeof(c->basis));
		}
		names.base = (const char *)f->code;
		names.stride = sizeof(*f->code);
		if ((rc = unique(b, &t, &b->code_ix, names, f->ncode, "line code")) != GF_OK)
			return rc;
		f->ncode++;
	}
	return rc;
}

static enum gf_err parse_lines(struct build *b, char *text, size_t len)
{
	struct gf_feeder *f = b->f;
	struct gf_csvtab t;
	int c_name, c_b1, c_b2, c_ph, c_len, c_units, c_code;
	enum gf_err rc;
	bool got;

	if ((rc = gf_csvtab_open(&t, file_names[GF_FEEDER_LINES], text, len, b->err, b->errlen)) !=
	        GF_OK ||
	    (rc = gf_csvtab_need(&t, "Name", &c_name, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Bus1", &c_b1, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Bus2", &c_b2, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Length", &c_len, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Units", &c_units, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "LineCode", &c_code, b->err, b->errlen)) != GF_OK)
		return rc;
	c_ph = gf_csvtab_col(&t, "Phases");
	while ((rc = gf_csvtab_next(&t, &got, b->err, b->errlen)) == GF_OK && got) {
		struct gf_feeder_line *ln;
		struct gf__feeder_names names;
		char bus[GF_FEEDER_NAME_MAX], code[GF_FEEDER_NAME_MAX];
		double per;

		if (grow(&f->line, &b->cap_line, f->nline, sizeof(*f->line)) != GF_OK ||
		    grow(&b->row, &b->cap_row, f->nline, sizeof(*b->row)) != GF_OK)
			return GF_ENOMEM;
		ln = &f->line[f->nline];
		memset(ln, 0, sizeof(*ln));
		b->row[f->nline] = t.line;
		if ((rc = name_copy(&t, c_name, ln->name, b->err, b->errlen)) != GF_OK ||
		    (rc = must_be(&t, c_ph, "ABC", "only three-phase lines are modelled", b->err,
		                  b->errlen)) != GF_OK ||
		    (rc = gf_csvtab_num(&t, c_len, &ln->length_m, b->err, b->errlen)) != GF_OK ||
		    (rc = unit_m(&t, c_units, &per, b->err, b->errlen)) != GF_OK ||
		    (rc = name_copy(&t, c_code, code, b->err, b->errlen)) != GF_OK)
			return rc;
		if (!(ln->length_m > 0))
			return gf_csvtab_fail(&t, b->err, b->errlen, GF_EPARSE,
			                      "Length %g is not positive", ln->length_m);
		ln->length_m *= per;
		names.base = (const char *)f->code;
		names.stride = sizeof(*f->code);
		ln->code = gf__feeder_index_find(&b->code_ix, names, code);
		if (ln->code == GF_FEEDER_NONE)
			return gf_csvtab_fail(&t, b->err, b->errlen, GF_EPARSE,
			                      "LineCode %s is not in LineCodes.csv", code);
		for (int i = 0; i < 3; i++)
			for (int k = 0; k < 3; k++)
				ln->z[i][k] = f->code[ln->code].z[i][k] * ln->length_m / 1000.0;
		ln->amps = f->code[ln->code].amps;
		if ((rc = name_copy(&t, c_b1, bus, b->err, b->errlen)) != GF_OK ||
		    (rc = bus_of(b, bus, &ln->from)) != GF_OK ||
		    (rc = name_copy(&t, c_b2, bus, b->err, b->errlen)) != GF_OK ||
		    (rc = bus_of(b, bus, &ln->to)) != GF_OK)
			return rc;
		names.base = (const char *)f->line;
		names.stride = sizeof(*f->line);
		if ((rc = unique(b, &t, &b->line_ix, names, f->nline, "line")) != GF_OK)
			return rc;
		f->nline++;
	}
	return rc;
}

static enum gf_err parse_shapes(struct build *b, char *text, size_t len)
{
	struct gf_csvtab t;
	int c_name, c_file;
	enum gf_err rc;
	bool got;

	if ((rc = gf_csvtab_open(&t, file_names[GF_FEEDER_LOADSHAPES], text, len, b->err,
	                         b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Name", &c_name, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "File", &c_file, b->err, b->errlen)) != GF_OK)
		return rc;
	while ((rc = gf_csvtab_next(&t, &got, b->err, b->errlen)) == GF_OK && got) {
		struct gf__feeder_names names;

		if (grow(&b->shape, &b->cap_shape, b->nshape, sizeof(*b->shape)) != GF_OK)
			return GF_ENOMEM;
		if ((rc = name_copy(&t, c_name, b->shape[b->nshape][0], b->err, b->errlen)) !=
		        GF_OK ||
		    (rc = name_copy(&t, c_file, b->shape[b->nshape][1], b->err, b->errlen)) !=
		        GF_OK)
			return rc;
		names.base = (const char *)b->shape;
		names.stride = sizeof(*b->shape);
		if ((rc = unique(b, &t, &b->shape_ix, names, b->nshape, "load shape")) != GF_OK)
			return rc;
		b->nshape++;
	}
	return rc;
}

static enum gf_err parse_loads(struct build *b, char *text, size_t len, bool have_shapes)
{
	struct gf_feeder *f = b->f;
	struct gf_csvtab t;
	int c_name, c_n, c_bus, c_ph, c_model, c_conn, c_kw, c_pf, c_shape;
	enum gf_err rc;
	bool got;

	if ((rc = gf_csvtab_open(&t, file_names[GF_FEEDER_LOADS], text, len, b->err, b->errlen)) !=
	        GF_OK ||
	    (rc = gf_csvtab_need(&t, "Name", &c_name, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Bus", &c_bus, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "phases", &c_ph, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "kW", &c_kw, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "PF", &c_pf, b->err, b->errlen)) != GF_OK)
		return rc;
	c_n = gf_csvtab_col(&t, "numPhases");
	c_model = gf_csvtab_col(&t, "Model");
	c_conn = gf_csvtab_col(&t, "Connection");
	c_shape = gf_csvtab_col(&t, "Yearly");
	while ((rc = gf_csvtab_next(&t, &got, b->err, b->errlen)) == GF_OK && got) {
		struct gf_feeder_load *ld;
		struct gf__feeder_names names;
		char bus[GF_FEEDER_NAME_MAX];
		const char *ph;

		if (grow(&f->load, &b->cap_load, f->nload, sizeof(*f->load)) != GF_OK)
			return GF_ENOMEM;
		ld = &f->load[f->nload];
		memset(ld, 0, sizeof(*ld));
		if ((rc = name_copy(&t, c_name, ld->name, b->err, b->errlen)) != GF_OK ||
		    (rc = must_be(&t, c_n, "1", "only single-phase loads are modelled", b->err,
		                  b->errlen)) != GF_OK ||
		    (rc = must_be(&t, c_ph, "A|B|C", "expected A, B or C", b->err, b->errlen)) !=
		        GF_OK ||
		    (rc = must_be(&t, c_model, "1", "only model 1 (constant P and Q) is modelled",
		                  b->err, b->errlen)) != GF_OK ||
		    (rc = must_be(&t, c_conn, "wye",
		                  "only wye (phase-to-neutral) loads are modelled", b->err,
		                  b->errlen)) != GF_OK ||
		    (rc = gf_csvtab_num(&t, c_kw, &ld->kw, b->err, b->errlen)) != GF_OK ||
		    (rc = gf_csvtab_num(&t, c_pf, &ld->pf, b->err, b->errlen)) != GF_OK ||
		    (rc = name_copy(&t, c_bus, bus, b->err, b->errlen)) != GF_OK)
			return rc;
		ph = gf_csvtab_get(&t, c_ph);
		ld->phase = (unsigned)((ph[0] | 0x20) - 'a');
		if (!(ld->pf > 0 && ld->pf <= 1))
			return gf_csvtab_fail(&t, b->err, b->errlen, GF_EPARSE,
			                      "PF %g is not in (0, 1]", ld->pf);
		names.base = (const char *)f->bus;
		names.stride = sizeof(*f->bus);
		ld->bus = gf__feeder_index_find(&b->bus_ix, names, bus);
		if (ld->bus == GF_FEEDER_NONE)
			return gf_csvtab_fail(&t, b->err, b->errlen, GF_EPARSE,
			                      "Bus %s is on no line of Lines.csv", bus);
		if (c_shape >= 0 && gf_csvtab_get(&t, c_shape)[0]) {
			size_t s;

			if ((rc = name_copy(&t, c_shape, ld->shape, b->err, b->errlen)) != GF_OK)
				return rc;
			names.base = (const char *)b->shape;
			names.stride = sizeof(*b->shape);
			s = gf__feeder_index_find(&b->shape_ix, names, ld->shape);
			if (s != GF_FEEDER_NONE)
				memcpy(ld->profile, b->shape[s][1], sizeof(ld->profile));
			else if (have_shapes)
				return gf_csvtab_fail(&t, b->err, b->errlen, GF_EPARSE,
				                      "Yearly %s is not in LoadShapes.csv",
				                      ld->shape);
		}
		names.base = (const char *)f->load;
		names.stride = sizeof(*f->load);
		if ((rc = unique(b, &t, &b->load_ix, names, f->nload, "load")) != GF_OK)
			return rc;
		f->nload++;
	}
	return rc;
}

static enum gf_err parse_transformer(struct build *b, char *text, size_t len)
{
	struct gf_supply *s = &b->f->supply;
	struct gf_csvtab t;
	int c_name, c_ph, c_bus2, c_kvp, c_kvs, c_mva, c_cp, c_cs, c_x, c_r;
	char bus[GF_FEEDER_NAME_MAX];
	double mva;
	enum gf_err rc;
	bool got;

	if ((rc = gf_csvtab_open(&t, file_names[GF_FEEDER_TRANSFORMER], text, len, b->err,
	                         b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Name", &c_name, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "bus2", &c_bus2, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "kV_pri", &c_kvp, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "kV_sec", &c_kvs, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "MVA", &c_mva, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Conn_pri", &c_cp, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "Conn_sec", &c_cs, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_need(&t, "%XHL", &c_x, b->err, b->errlen)) != GF_OK)
		return rc;
	c_r = gf_csvtab_col(&t, "% resistance");
	if (c_r < 0 && (rc = gf_csvtab_need(&t, "%R", &c_r, b->err, b->errlen)) != GF_OK)
		return rc;
	c_ph = gf_csvtab_col(&t, "phases");
	if ((rc = gf_csvtab_next(&t, &got, b->err, b->errlen)) != GF_OK)
		return rc;
	if (!got)
		return gf_err_set(b->err, b->errlen, GF_EPARSE, "%s: no transformer", t.name);
	if ((rc = name_copy(&t, c_name, s->name, b->err, b->errlen)) != GF_OK ||
	    (rc = must_be(&t, c_ph, "3", "only a three-phase transformer is modelled", b->err,
	                  b->errlen)) != GF_OK ||
	    (rc = must_be(&t, c_cp, "delta", "only a delta MV winding is modelled", b->err,
	                  b->errlen)) != GF_OK ||
	    (rc = must_be(&t, c_cs, "wye", "only a grounded-wye LV winding is modelled", b->err,
	                  b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_num(&t, c_kvp, &s->kv_pri, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_num(&t, c_kvs, &s->kv_sec, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_num(&t, c_mva, &mva, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_num(&t, c_x, &s->x_pct, b->err, b->errlen)) != GF_OK ||
	    (rc = gf_csvtab_num(&t, c_r, &s->r_pct, b->err, b->errlen)) != GF_OK ||
	    (rc = name_copy(&t, c_bus2, bus, b->err, b->errlen)) != GF_OK)
		return rc;
	s->kva = mva * 1000.0;
	/* The LV bus is bus 0: the root of the tree. */
	if ((rc = bus_of(b, bus, &b->f->root)) != GF_OK)
		return rc;
	if ((rc = gf_csvtab_next(&t, &got, b->err, b->errlen)) != GF_OK)
		return rc;
	if (got)
		return gf_csvtab_fail(&t, b->err, b->errlen, GF_EPARSE,
		                      "a second transformer: only one is modelled");
	return GF_OK;
}

/* Source.csv: "key=value [unit]" lines, '#' comments, "[section]" headers. */
static enum gf_err parse_source(struct build *b, char *text, size_t len)
{
	static const struct {
		const char *key, *unit;
		size_t off;
	} keys[] = {
	    {"Voltage", "kV", offsetof(struct gf_supply, src_kv)},
	    {"pu", "", offsetof(struct gf_supply, src_pu)},
	    {"ISC3", "A", offsetof(struct gf_supply, isc3_a)},
	    {"ISC1", "A", offsetof(struct gf_supply, isc1_a)},
	    {"X1R1", "", offsetof(struct gf_supply, x1r1)},
	};
	struct gf_supply *s = &b->f->supply;
	bool seen[sizeof(keys) / sizeof(keys[0])] = {false};
	const char *name = file_names[GF_FEEDER_SOURCE];
	size_t line = 0;
	char *p = text, *end = text + len;

	s->x1r1 = 4.0; /* OpenDSS's Vsource default */
	while (p < end) {
		char *e = memchr(p, '\n', (size_t)(end - p));
		char *q, *eq, *unit, shown[48];
		size_t k;
		double v;

		line++;
		if (!e)
			e = end;
		*e = '\0'; /* end is text[len], writable by contract */
		q = p;
		p = e + 1;
		if (strlen(q) != (size_t)(e - q))
			return gf_err_set(b->err, b->errlen, GF_EPARSE, "%s:%zu: NUL byte in line",
			                  name, line);
		if (e > q && e[-1] == '\r')
			*--e = '\0';
		q += strspn(q, " \t");
		if (!*q || *q == '#' || *q == '[' || *q == ',')
			continue;
		eq = strchr(q, '=');
		if (!eq)
			return gf_err_set(b->err, b->errlen, GF_EPARSE,
			                  "%s:%zu: expected key=value, not '%s'", name, line,
			                  gf_csvtab_shown(q, shown, sizeof(shown)));
		*eq = '\0';
		for (char *t = eq; t > q && (t[-1] == ' ' || t[-1] == '\t');)
			*--t = '\0';
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strcasecmp(q, keys[k].key) == 0)
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return gf_err_set(
			    b->err, b->errlen, GF_EPARSE,
			    "%s:%zu: unknown key '%s' (known: Voltage, pu, ISC3, ISC1, "
			    "X1R1)",
			    name, line, gf_csvtab_shown(q, shown, sizeof(shown)));
		if (seen[k])
			return gf_err_set(b->err, b->errlen, GF_EPARSE, "%s:%zu: %s given twice",
			                  name, line, keys[k].key);
		/* The value, then an optional unit after blanks; trailing
		 * commas (a spreadsheet's) and blanks are dropped. */
		q = eq + 1 + strspn(eq + 1, " \t");
		for (char *t = q + strlen(q); t > q && strchr(" \t,", t[-1]);)
			*--t = '\0';
		unit = q + strcspn(q, " \t");
		if (*unit) {
			*unit++ = '\0';
			unit += strspn(unit, " \t");
		}
		if (!gf_csvtab_decimal(q, &v))
			return gf_err_set(b->err, b->errlen, GF_EPARSE,
			                  "%s:%zu: %s '%s' is not a number", name, line,
			                  keys[k].key, gf_csvtab_shown(q, shown, sizeof(shown)));
		if (*unit && strcasecmp(unit, keys[k].unit) != 0)
			return gf_err_set(b->err, b->errlen, GF_EPARSE,
			                  "%s:%zu: %s in '%s', expected %s", name, line,
			                  keys[k].key, gf_csvtab_shown(unit, shown, sizeof(shown)),
			                  keys[k].unit[0] ? keys[k].unit : "no unit");
		*(double *)(void *)((char *)s + keys[k].off) = v;
		seen[k] = true;
	}
	for (size_t k = 0; k < 3; k++)
		if (!seen[k])
			return gf_err_set(b->err, b->errlen, GF_EPARSE, "%s: no %s", name,
			                  keys[k].key);
	return GF_OK;
}

void gf_feeder_free(struct gf_feeder *f)
{
	if (!f)
		return;
	free(f->bus);
	free(f->line);
	free(f->load);
	free(f->code);
	free(f->order);
	free(f->up);
	free(f);
}

enum gf_err gf_feeder_parse(const char *const text[GF_FEEDER_NFILES],
                            const size_t len[GF_FEEDER_NFILES], struct gf_feeder **out, char *err,
                            size_t errlen)
{
	struct build b = {.err = err, .errlen = errlen};
	char *copy[GF_FEEDER_NFILES] = {NULL};
	enum gf_err rc = GF_ENOMEM;

	b.f = calloc(1, sizeof(*b.f));
	if (!b.f)
		goto out;
	/* The tables are split in place, and each needs its text[len] byte. */
	for (int i = 0; i < GF_FEEDER_NFILES; i++) {
		if (!text[i])
			continue;
		copy[i] = malloc(len[i] + 1);
		if (!copy[i])
			goto out;
		memcpy(copy[i], text[i], len[i]);
	}
	for (int i = 0; i < GF_FEEDER_LOADSHAPES; i++)
		if (!copy[i]) {
			rc = gf_err_set(err, errlen, GF_EINVAL, "%s: no text", file_names[i]);
			goto out;
		}
	if ((rc = parse_codes(&b, copy[GF_FEEDER_LINECODES], len[GF_FEEDER_LINECODES])) != GF_OK ||
	    (rc = parse_transformer(&b, copy[GF_FEEDER_TRANSFORMER], len[GF_FEEDER_TRANSFORMER])) !=
	        GF_OK ||
	    (rc = parse_source(&b, copy[GF_FEEDER_SOURCE], len[GF_FEEDER_SOURCE])) != GF_OK ||
	    (rc = gf_supply_derive(&b.f->supply, err, errlen)) != GF_OK ||
	    (copy[GF_FEEDER_LOADSHAPES] &&
	     (rc = parse_shapes(&b, copy[GF_FEEDER_LOADSHAPES], len[GF_FEEDER_LOADSHAPES])) !=
	         GF_OK) ||
	    (rc = parse_lines(&b, copy[GF_FEEDER_LINES], len[GF_FEEDER_LINES])) != GF_OK ||
	    (rc = parse_loads(&b, copy[GF_FEEDER_LOADS], len[GF_FEEDER_LOADS],
	                      copy[GF_FEEDER_LOADSHAPES] != NULL)) != GF_OK ||
	    (rc = gf__feeder_tree(b.f, b.row, err, errlen)) != GF_OK)
		goto out;
	*out = b.f;
	b.f = NULL;
out:
	if (rc == GF_ENOMEM)
		gf_err_set(err, errlen, GF_ENOMEM, "feeder: out of memory");
	gf_feeder_free(b.f);
	for (int i = 0; i < GF_FEEDER_NFILES; i++)
		free(copy[i]);
	free(b.row);
	free(b.shape);
	gf__feeder_index_free(&b.bus_ix);
	gf__feeder_index_free(&b.line_ix);
	gf__feeder_index_free(&b.load_ix);
	gf__feeder_index_free(&b.code_ix);
	gf__feeder_index_free(&b.shape_ix);
	return rc;
}

enum gf_err gf_feeder_load(const char *dir, struct gf_feeder **out, char *err, size_t errlen)
{
	char *text[GF_FEEDER_NFILES] = {NULL};
	size_t len[GF_FEEDER_NFILES] = {0};
	char path[4096];
	enum gf_err rc = GF_OK;

	for (int i = 0; i < GF_FEEDER_NFILES; i++) {
		int n = snprintf(path, sizeof(path), "%s/%s", dir, file_names[i]);

		if (n < 0 || (size_t)n >= sizeof(path)) {
			rc = gf_err_set(err, errlen, GF_ETOOLONG, "%s/%s: path too long", dir,
			                file_names[i]);
			goto out;
		}
		rc = gf_file_read(path, GF_FEEDER_FILE_MAX, &text[i], &len[i], err, errlen);
		if (rc != GF_OK && i == GF_FEEDER_LOADSHAPES && access(path, F_OK) != 0) {
			rc = GF_OK; /* optional, and not there */
			continue;
		}
		if (rc != GF_OK)
			goto out;
	}
	rc = gf_feeder_parse((const char *const *)text, len, out, err, errlen);
out:
	for (int i = 0; i < GF_FEEDER_NFILES; i++)
		free(text[i]);
	return rc;
}

static size_t find(const char *base, size_t stride, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(base + i * stride, name) == 0)
			return i;
	return GF_FEEDER_NONE;
}

size_t gf_feeder_bus_index(const struct gf_feeder *f, const char *name)
{
	return find((const char *)f->bus, sizeof(*f->bus), f->nbus, name);
}

size_t gf_feeder_load_index(const struct gf_feeder *f, const char *name)
{
	return find((const char *)f->load, sizeof(*f->load), f->nload, name);
}

size_t gf_feeder_line_index(const struct gf_feeder *f, const char *name)
{
	return find((const char *)f->line, sizeof(*f->line), f->nline, name);
}
