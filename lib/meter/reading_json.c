/* SPDX-License-Identifier: MIT */
/*
 * The json half of the reader: a scanner that walks the bare array byte by
 * byte (strings, escapes, nesting), collects one element at a time and
 * hands just that element to cJSON, so that a file of any size is read in
 * constant memory and every row's end is the offset right after its '}'.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "meter/reading_int.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Takes the byte at in_pos, keeping offset and line. */
static char consume(struct gf_reading_reader *r)
{
	char c = r->in[r->in_pos++];

	r->off++;
	if (c == '\n')
		r->line++;
	return c;
}

/* The array is broken at the reader's position: everything up to the end
 * of the input becomes one rejected row (why), given out at the end. */
static void broken(struct gf_reading_reader *r, const char *why)
{
	r->js = GF__JS_BAD;
	r->bad_why = why;
	r->bad_line = r->line;
}

static void elem_begin(struct gf_reading_reader *r, char c)
{
	r->js = GF__JS_ELEM;
	r->cur_len = 0;
	r->cur_line = r->line;
	r->too_long = false;
	r->depth = 0;
	r->in_str = r->esc = r->nul = false;
	r->uhex = 0;
	r->scalar = c != '{' && c != '[' && c != '"';
}

/* One of the names a field goes by, into its slot; false for a second one. */
static bool take_key(const cJSON *it, const char *a, const char *b, const cJSON **slot, bool *dup)
{
	if (strcmp(it->string, a) != 0 && strcmp(it->string, b) != 0)
		return false;
	*dup = *dup || *slot != NULL;
	*slot = it;
	return true;
}

static const char *object_row(const struct gf_reading_reader *r, const cJSON *obj,
                              struct gf_reading_row *row)
{
	const cJSON *dev = NULL, *tm = NULL, *val = NULL, *it;
	const char *why;
	bool dup = false;

	cJSON_ArrayForEach(it, obj)
	{
		if (it->string == NULL)
			continue;
		if (!take_key(it, "device_id", "deviceId", &dev, &dup) &&
		    !take_key(it, "observed_timestamp", "observedTimestamp", &tm, &dup))
			take_key(it, "value", "value", &val, &dup);
	}
	if (dup)
		return "a key is given twice";
	if (dev == NULL)
		return "device_id is missing";
	if (!cJSON_IsString(dev))
		return "device_id is not a string";
	if ((why = gf__reading_device(dev->valuestring, strlen(dev->valuestring), row)))
		return why;
	if (tm == NULL)
		return "observed_timestamp is missing";
	if (!cJSON_IsString(tm))
		return "observed_timestamp is not a string";
	if ((why = gf__reading_time(tm->valuestring, strlen(tm->valuestring), row)))
		return why;
	if (val == NULL)
		return "value is missing";
	if (cJSON_IsString(val))
		return gf__reading_value(r, val->valuestring, strlen(val->valuestring), false,
		                         &row->value);
	if (!cJSON_IsNumber(val))
		return "value is not a number";
	if (!isfinite(val->valuedouble))
		return "value is out of range";
	row->value = val->valuedouble;
	return NULL;
}

/* The element in cur is complete: its row. */
static void elem_row(struct gf_reading_reader *r, struct gf_reading_row *row)
{
	const char *why = NULL, *end = NULL;
	cJSON *obj = NULL;

	gf__reading_reject(r, row, r->cur_line, "");
	r->cur[r->cur_len] = '\0'; /* cJSON keeps to the length; a NUL as well */
	if (r->too_long)
		why = "array element longer than 4096 bytes";
	else if (r->scalar || r->cur[0] != '{')
		why = "array element is not an object";
	else if (r->nul)
		/* cJSON would cut the string at the NUL: the id would change */
		why = "string with \\u0000";
	else if ((obj = cJSON_ParseWithLengthOpts(r->cur, r->cur_len, &end, false)) == NULL ||
	         end != r->cur + r->cur_len)
		why = "malformed JSON object";
	else
		why = object_row(r, obj, row);
	cJSON_Delete(obj);
	if (why)
		gf__reading_reject(r, row, r->cur_line, why);
	else
		row->ok = true;
	r->cur_len = 0;
	r->too_long = false;
	r->js = GF__JS_AFTER;
	r->last_end = r->off;
}

/*
 * One byte of an element: true when it completed the element and *row is
 * its row. A number or literal ends before the byte that is not part of it
 * (left for the array); a string or container after its closing byte.
 */
static bool elem_step(struct gf_reading_reader *r, struct gf_reading_row *row)
{
	char c = r->in[r->in_pos];

	if (r->scalar && (is_ws(c) || c == ',' || c == ']')) {
		elem_row(r, row);
		return true;
	}
	consume(r);
	if (r->cur_len < GF_READING_LINE_MAX)
		r->cur[r->cur_len++] = c;
	else
		r->too_long = true;
	if (r->scalar)
		return false;
	if (r->in_str) {
		if (r->uhex > 0) {
			r->uzero = r->uzero && c == '0';
			if (--r->uhex == 0 && r->uzero)
				r->nul = true;
		} else if (r->esc) {
			r->esc = false;
			if (c == 'u') {
				r->uhex = 4;
				r->uzero = true;
			}
		} else if (c == '\\') {
			r->esc = true;
		} else if (c == '"') {
			r->in_str = false;
		}
	} else if (c == '"') {
		r->in_str = true;
	} else if (c == '{' || c == '[') {
		r->depth++;
	} else if (c == '}' || c == ']') {
		r->depth--;
	}
	if (r->depth == 0 && !r->in_str) {
		elem_row(r, row);
		return true;
	}
	return false;
}

/* The input ended: what is left to say about it. */
static bool at_eof(struct gf_reading_reader *r, struct gf_reading_row *row)
{
	r->done = true;
	switch (r->js) {
	case GF__JS_START: /* nothing but white space: no rows */
	case GF__JS_END:
		return false;
	case GF__JS_AFTER:
		/* Cut right after an element: every element was read, and a
		 * row here would end where that one did (a reader resumed
		 * there would have nothing to give it again). */
		if (r->off == r->last_end)
			return false;
		gf__reading_reject(r, row, r->line, "JSON array is not closed");
		return true;
	case GF__JS_BAD:
		gf__reading_reject(r, row, r->bad_line, r->bad_why);
		return true;
	case GF__JS_ELEM:
		gf__reading_reject(r, row, r->cur_line, "JSON array is not closed");
		return true;
	default:
		gf__reading_reject(r, row, r->line, "JSON array is not closed");
		return true;
	}
}

bool gf__reading_json_next(struct gf_reading_reader *r, struct gf_reading_row *row)
{
	while (!r->done) {
		char c;

		if (r->bom_check && !gf__reading_bom(r))
			return false;
		if (r->in_pos == r->in_len) {
			if (!r->eof)
				return false;
			return at_eof(r, row);
		}
		c = r->in[r->in_pos];
		switch (r->js) {
		case GF__JS_ELEM:
			if (elem_step(r, row))
				return true;
			continue;
		case GF__JS_BAD:
			/* nothing more to learn from the rest: skip it,
			 * counting lines for the end's line */
			for (const char *p = r->in + r->in_pos, *e = r->in + r->in_len;
			     (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
				r->line++;
			r->off += r->in_len - r->in_pos;
			r->in_pos = r->in_len;
			continue;
		default:
			break;
		}
		if (is_ws(c)) {
			consume(r);
			continue;
		}
		switch (r->js) {
		case GF__JS_START:
			if (c != '[') {
				broken(r, "input is not a JSON array");
				continue;
			}
			r->js = GF__JS_FIRST;
			break;
		case GF__JS_FIRST:
		case GF__JS_BEFORE:
			if (c == ']' && r->js == GF__JS_BEFORE) {
				broken(r, "a comma before ']'");
				continue;
			}
			if (c == ']') {
				r->js = GF__JS_END;
				break;
			}
			elem_begin(r, c);
			continue;
		case GF__JS_AFTER:
			if (c != ',' && c != ']') {
				broken(r, "',' or ']' expected after an array element");
				continue;
			}
			r->js = c == ',' ? GF__JS_BEFORE : GF__JS_END;
			break;
		default: /* GF__JS_END */
			broken(r, "text after the JSON array");
			continue;
		}
		consume(r);
	}
	return false;
}
