/* SPDX-License-Identifier: MIT */
#include "meter/reading.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "meter/reading_int.h"

/* Longest value text: more digits than a double holds, with room to spare. */
#define VALUE_MAX 127
/* The highest column a csv option may name. */
#define COL_MAX 1024

/* One field of a csv line: its text (in the line or, unquoted, in scratch). */
struct field {
	const char *s;
	size_t n;
};

void gf__reading_reject(const struct gf_reading_reader *r, struct gf_reading_row *row, size_t line,
                        const char *why)
{
	memset(row, 0, sizeof(*row));
	row->line = line;
	row->end = r->off;
	row->end_line = r->line;
	snprintf(row->why, sizeof(row->why), "%s", why);
}

/* Device ids travel on to the id map, the pseudonym and JSON: no control
 * characters (NUL included), which no DMS puts in an id. */
const char *gf__reading_device(const char *s, size_t n, struct gf_reading_row *row)
{
	if (n == 0)
		return "device id is empty";
	if (n > GF_READING_DEVICE_MAX)
		return "device id longer than 128 bytes";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "device id has a control character";
	memcpy(row->device, s, n);
	row->device[n] = '\0';
	return NULL;
}

const char *gf__reading_time(const char *s, size_t n, struct gf_reading_row *row)
{
	int64_t ms;
	enum gf_err rc;

	if (n == 0)
		return "time is empty";
	if (gf_tz_parse_local(s, n, &row->local) == GF_OK) {
		row->has_utc = false;
		return NULL;
	}
	rc = gf_time_parse(s, n, &ms);
	if (rc == GF_ERANGE)
		return "time is out of range";
	if (rc != GF_OK)
		return "time is not YYYY-MM-DD HH:MM[:SS] or RFC 3339";
	memset(&row->local, 0, sizeof(row->local));
	row->has_utc = true;
	row->utc_ms = ms;
	return NULL;
}

static size_t digit_run(const char *s, size_t n, size_t i)
{
	size_t k = i;
	while (k < n && s[k] >= '0' && s[k] <= '9')
		k++;
	return k - i;
}

/*
 * A decimal number and nothing else: [+-]digits[(.|,)digits][e[+-]digits],
 * the decimal mark '.' or, with comma, ','. No "nan", "inf", hex or
 * thousands marks, which strtod() alone would take; strtod_l() in the C
 * locale then converts it exactly (correctly rounded).
 */
const char *gf__reading_value(const struct gf_reading_reader *r, const char *s, size_t n,
                              bool comma, double *v)
{
	char buf[VALUE_MAX + 1];
	size_t i = 0, k;
	char *end;
	double d;

	if (n == 0)
		return "value is empty";
	if (n > VALUE_MAX)
		return "value is too long";
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (buf[i] == '+' || buf[i] == '-')
		i++;
	if ((k = digit_run(buf, n, i)) == 0)
		return "value is not a number";
	i += k;
	if (i < n && buf[i] == (comma ? ',' : '.')) {
		buf[i++] = '.';
		if ((k = digit_run(buf, n, i)) == 0)
			return "value is not a number";
		i += k;
	}
	if (i < n && (buf[i] == 'e' || buf[i] == 'E')) {
		i++;
		if (i < n && (buf[i] == '+' || buf[i] == '-'))
			i++;
		if ((k = digit_run(buf, n, i)) == 0)
			return "value is not a number";
		i += k;
	}
	if (i != n)
		return "value is not a number";
	d = strtod_l(buf, &end, r->c_num);
	if (end != buf + n)
		return "value is not a number";
	if (!isfinite(d))
		return "value is out of range";
	*v = d;
	return NULL;
}

bool gf__reading_bom(struct gf_reading_reader *r)
{
	static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
	size_t avail = r->in_len - r->in_pos, k = avail < 3 ? avail : 3;

	if (k > 0 && memcmp(r->in + r->in_pos, bom, k) != 0) {
		r->bom_check = false;
		return true;
	}
	if (k < 3) {
		/* a prefix of a BOM: wait, unless nothing more comes */
		if (!r->eof)
			return false;
		r->bom_check = false;
		return true;
	}
	r->in_pos += 3;
	r->off += 3;
	r->bom_check = false;
	return true;
}

static bool is_blank(const struct gf_reading_reader *r, char c)
{
	return (c == ' ' || c == '\t') && c != r->o.sep;
}

/*
 * Splits the line s[0..n) at the separator into the three fields the row
 * needs. Quoted fields ("..." with "" for a quote) are unquoted into
 * scratch; blanks around a field are dropped. A row is one line: a quote
 * that does not close on its line makes the row wrong, it does not join
 * the next line (no DMS writes newlines into ids or values, and a row that
 * never ends would hold the reader).
 */
static const char *split(struct gf_reading_reader *r, const char *s, size_t n, struct field f[3],
                         int *nfields)
{
	const int *col[3] = {&r->o.col_device, &r->o.col_time, &r->o.col_value};
	size_t i = 0, o = 0;
	int field = 1;

	for (;;) {
		struct field cur;

		while (i < n && is_blank(r, s[i]))
			i++;
		if (i < n && s[i] == '"') {
			cur.s = r->scratch + o;
			for (i++;; i++) {
				if (i >= n)
					return "unterminated quote";
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"')
						i++;
					else
						break;
				}
				r->scratch[o++] = s[i];
			}
			cur.n = (size_t)(r->scratch + o - cur.s);
			i++;
			while (i < n && is_blank(r, s[i]))
				i++;
			if (i < n && s[i] != r->o.sep)
				return "text after a closing quote";
		} else {
			size_t start = i;
			while (i < n && s[i] != r->o.sep) {
				if (s[i] == '"')
					return "quote inside an unquoted field";
				i++;
			}
			cur.s = s + start;
			cur.n = i - start;
			while (cur.n > 0 && is_blank(r, cur.s[cur.n - 1]))
				cur.n--;
		}
		for (int k = 0; k < 3; k++)
			if (*col[k] == field)
				f[k] = cur;
		if (i >= n)
			break;
		i++; /* the separator */
		field++;
	}
	*nfields = field;
	return NULL;
}

static void csv_row(struct gf_reading_reader *r, const char *s, size_t n, size_t line,
                    struct gf_reading_row *row)
{
	struct field f[3] = {{NULL, 0}, {NULL, 0}, {NULL, 0}};
	int nfields = 0, need = r->o.col_device;
	const char *why;
	char buf[64];

	gf__reading_reject(r, row, line, "");
	need = r->o.col_time > need ? r->o.col_time : need;
	need = r->o.col_value > need ? r->o.col_value : need;
	why = split(r, s, n, f, &nfields);
	if (why == NULL && r->dms && nfields != 3) {
		snprintf(buf, sizeof(buf), "row has %d fields, a DMS row has 3", nfields);
		why = buf;
	} else if (why == NULL && nfields < need) {
		snprintf(buf, sizeof(buf), "row has %d fields, column %d is needed", nfields, need);
		why = buf;
	}
	if (why == NULL)
		why = gf__reading_device(f[0].s, f[0].n, row);
	if (why == NULL)
		why = gf__reading_time(f[1].s, f[1].n, row);
	if (why == NULL)
		why = gf__reading_value(r, f[2].s, f[2].n, r->o.decimal_comma, &row->value);
	if (why) {
		gf__reading_reject(r, row, line, why);
		return;
	}
	row->ok = true;
}

/*
 * The next line of the input, up to its '\n' (or the end of the input): a
 * row, or nothing for an empty line or the header. A line in one piece in
 * the input is read where it is; one that spans chunks is collected in cur
 * first. A line longer than the limit is not kept, only its end looked for.
 */
static bool csv_next(struct gf_reading_reader *r, struct gf_reading_row *row)
{
	while (!r->done) {
		const char *p, *nl, *line;
		size_t avail, take, len, at;

		if (r->bom_check && !gf__reading_bom(r))
			return false;
		p = r->in + r->in_pos;
		avail = r->in_len - r->in_pos;
		nl = avail ? memchr(p, '\n', avail) : NULL;
		take = nl ? (size_t)(nl - p) : avail;
		if (nl && r->cur_len == 0 && !r->too_long) {
			line = p;
			len = take;
		} else {
			if (!r->too_long && r->cur_len + take > GF_READING_LINE_MAX + 1)
				r->too_long = true;
			if (!r->too_long && take > 0) {
				memcpy(r->cur + r->cur_len, p, take);
				r->cur_len += take;
			}
			line = r->cur;
			len = r->cur_len;
		}
		/* one more byte than the limit may be the '\r' of a CRLF */
		if (len > GF_READING_LINE_MAX + 1)
			r->too_long = true;
		r->in_pos += take;
		r->off += take;
		if (nl) {
			r->in_pos++;
			r->off++;
		} else if (!r->eof) {
			return false;
		} else if (r->cur_len == 0 && !r->too_long) {
			r->done = true;
			return false;
		}
		at = r->line;
		if (nl)
			r->line++;
		if (!r->too_long && len > 0 && line[len - 1] == '\r')
			len--;
		if (r->too_long || len > GF_READING_LINE_MAX) {
			r->too_long = false;
			r->cur_len = 0;
			r->header = false;
			gf__reading_reject(r, row, at, "line longer than 4096 bytes");
			return true;
		}
		if (len == 0 || r->header) {
			r->header = r->header && len == 0;
			r->cur_len = 0;
			continue;
		}
		csv_row(r, line, len, at, row);
		r->cur_len = 0;
		return true;
	}
	return false;
}

bool gf_reading_next(struct gf_reading_reader *r, struct gf_reading_row *row)
{
	if (r->fmt == GF_READING_JSON)
		return gf__reading_json_next(r, row);
	return csv_next(r, row);
}

static bool csv_options_ok(const struct gf_reading_csv *o)
{
	char s = o->sep;

	if (s == '\0' || s == '"' || s == '\n' || s == '\r' || s == ' ' || (s >= '0' && s <= '9'))
		return false;
	if (o->decimal_comma && s == '.')
		return false;
	if (o->col_device < 1 || o->col_device > COL_MAX || o->col_time < 1 ||
	    o->col_time > COL_MAX || o->col_value < 1 || o->col_value > COL_MAX)
		return false;
	return o->col_device != o->col_time && o->col_device != o->col_value &&
	       o->col_time != o->col_value;
}

enum gf_err gf_reading_reader_new(enum gf_reading_format f, const struct gf_reading_csv *o,
                                  uint64_t start, size_t first_line, struct gf_reading_reader **out)
{
	static const struct gf_reading_csv dms = {',', false, false, 1, 2, 3};
	struct gf_reading_reader *r;

	if (out == NULL || first_line == 0)
		return GF_EINVAL;
	switch (f) {
	case GF_READING_CSV:
		if (o == NULL || !csv_options_ok(o))
			return GF_EINVAL;
		break;
	case GF_READING_DMS:
	case GF_READING_JSON:
		if (o != NULL)
			return GF_EINVAL;
		o = &dms;
		break;
	default:
		return GF_EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return GF_ENOMEM;
	r->c_num = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	/* never NULL, so that in + in_pos is always a pointer into it */
	r->in_cap = 4096;
	r->in = malloc(r->in_cap);
	if (r->c_num == (locale_t)0 || r->in == NULL) {
		gf_reading_reader_free(r);
		return GF_ENOMEM;
	}
	r->fmt = f;
	r->o = *o;
	r->dms = f == GF_READING_DMS;
	r->off = r->last_end = start;
	r->line = first_line;
	r->bom_check = start == 0;
	r->header = start == 0 && o->header;
	/* A resumed json input starts after an element (rows end there). */
	r->js = start == 0 ? GF__JS_START : GF__JS_AFTER;
	*out = r;
	return GF_OK;
}

void gf_reading_reader_free(struct gf_reading_reader *r)
{
	if (r == NULL)
		return;
	if (r->c_num != (locale_t)0)
		freelocale(r->c_num);
	free(r->in);
	free(r);
}

enum gf_err gf_reading_feed(struct gf_reading_reader *r, const char *buf, size_t len, bool eof)
{
	if (r->eof)
		return GF_EINVAL;
	if (len > 0) {
		size_t pending = r->in_len - r->in_pos;

		/* Consumed bytes go when the room is needed or they are the
		 * larger part: each byte is moved a bounded number of times. */
		if (r->in_pos > 0 &&
		    (pending + len > r->in_cap - r->in_pos || r->in_pos >= pending)) {
			memmove(r->in, r->in + r->in_pos, pending);
			r->in_len = pending;
			r->in_pos = 0;
		}
		if (len > SIZE_MAX - r->in_len)
			return GF_ENOMEM;
		if (r->in_len + len > r->in_cap) {
			size_t cap = r->in_cap;
			char *in;

			while (cap < r->in_len + len)
				cap = cap > SIZE_MAX / 2 ? r->in_len + len : cap * 2;
			in = realloc(r->in, cap);
			if (in == NULL)
				return GF_ENOMEM;
			r->in = in;
			r->in_cap = cap;
		}
		memcpy(r->in + r->in_len, buf, len);
		r->in_len += len;
	}
	r->eof = eof;
	return GF_OK;
}

enum gf_err gf_reading_format_parse(const char *s, enum gf_reading_format *f)
{
	static const struct {
		const char *name;
		enum gf_reading_format f;
	} names[] = {{"dms", GF_READING_DMS}, {"csv", GF_READING_CSV}, {"json", GF_READING_JSON}};

	if (s == NULL)
		return GF_EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*f = names[i].f;
			return GF_OK;
		}
	}
	return GF_EINVAL;
}
