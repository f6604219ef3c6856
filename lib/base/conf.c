/* SPDX-License-Identifier: MIT */
#include "base/conf.h"
#include "base/file.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct gf_conf_item *find(const struct gf_conf_item *table, const char *key)
{
	for (; table->name; table++) {
		if (strcmp(table->name, key) == 0)
			return table;
	}
	return NULL;
}

static enum gf_err parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return GF_OK;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return GF_OK;
		}
	}
	return GF_EINVAL;
}

static enum gf_err set_double(const struct gf_conf_item *it, char *field, const char *value,
                              char *err, size_t errlen)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(value, &end);
	if (end == value || *end != '\0' || errno == ERANGE || !isfinite(d) ||
	    strpbrk(value, "xXpP")) {
		snprintf(err, errlen, "%s: expected a decimal number, not '%s'", it->name, value);
		return GF_EINVAL;
	}
	if (d < (double)it->min || d > (double)it->max) {
		snprintf(err, errlen, "%s: %s is outside %ld..%ld", it->name, value, it->min,
		         it->max);
		return GF_ERANGE;
	}
	*(double *)(void *)field = d;
	return GF_OK;
}

static enum gf_err set_item(const struct gf_conf_item *it, void *obj, const char *value, char *err,
                            size_t errlen)
{
	char *field = (char *)obj + it->offset;
	char *end;
	long l;
	bool b;
	char *s;

	switch (it->type) {
	case GF_CONF_STRING:
		s = strdup(value);
		if (!s)
			return GF_ENOMEM;
		free(*(char **)(void *)field);
		*(char **)(void *)field = s;
		return GF_OK;
	case GF_CONF_BOOL:
		if (parse_bool(value, &b) != GF_OK) {
			snprintf(err, errlen, "%s: expected on or off, not '%s'", it->name, value);
			return GF_EINVAL;
		}
		*(bool *)(void *)field = b;
		return GF_OK;
	case GF_CONF_INT:
		errno = 0;
		l = strtol(value, &end, 10);
		if (end == value || *end != '\0' || errno == ERANGE) {
			snprintf(err, errlen, "%s: expected a whole number, not '%s'", it->name,
			         value);
			return GF_EINVAL;
		}
		if (l < it->min || l > it->max) {
			snprintf(err, errlen, "%s: %ld is outside %ld..%ld", it->name, l, it->min,
			         it->max);
			return GF_ERANGE;
		}
		*(long *)(void *)field = l;
		return GF_OK;
	case GF_CONF_DOUBLE:
		return set_double(it, field, value, err, errlen);
	}
	return GF_EINVAL;
}

enum gf_err gf_conf_defaults(const struct gf_conf_item *table, void *obj)
{
	char err[160];

	for (const struct gf_conf_item *it = table; it->name; it++) {
		char *field = (char *)obj + it->offset;
		switch (it->type) {
		case GF_CONF_STRING:
			*(char **)(void *)field = NULL;
			break;
		case GF_CONF_BOOL:
			*(bool *)(void *)field = false;
			break;
		case GF_CONF_INT:
			*(long *)(void *)field = 0;
			break;
		case GF_CONF_DOUBLE:
			*(double *)(void *)field = 0;
			break;
		}
		if (it->def) {
			enum gf_err rc = set_item(it, obj, it->def, err, sizeof(err));
			if (rc != GF_OK)
				return rc;
		}
	}
	return GF_OK;
}

enum gf_err gf_conf_set(const struct gf_conf_item *table, void *obj, const char *key,
                        const char *value, char *err, size_t errlen)
{
	const struct gf_conf_item *it = find(table, key);

	if (!it) {
		snprintf(err, errlen, "unknown option '%s'", key);
		return GF_ENOENT;
	}
	return set_item(it, obj, value, err, errlen);
}

enum gf_err gf_conf_check(const struct gf_conf_item *table, const void *obj, char *err,
                          size_t errlen)
{
	for (const struct gf_conf_item *it = table; it->name; it++) {
		const char *field = (const char *)obj + it->offset;
		if (it->required && it->type == GF_CONF_STRING &&
		    *(char *const *)(const void *)field == NULL) {
			snprintf(err, errlen, "%s: required option is not set", it->name);
			return GF_EINVAL;
		}
	}
	return GF_OK;
}

enum gf_err gf_conf_load_text(const struct gf_conf_item *table, void *obj, const char *name,
                              const char *text, size_t len, char *err, size_t errlen)
{
	char line[GF_CONF_LINE_MAX + 1], msg[256];
	size_t lineno = 0;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)((nl ? nl : end) - p);
		char *key, *value, *tail;
		enum gf_err rc;

		lineno++;
		if (l > GF_CONF_LINE_MAX) {
			snprintf(err, errlen, "%s:%zu: line longer than %d bytes", name, lineno,
			         GF_CONF_LINE_MAX);
			return GF_ETOOLONG;
		}
		memcpy(line, p, l);
		line[l] = '\0';
		p = nl ? nl + 1 : end;
		if (strlen(line) != l) {
			snprintf(err, errlen, "%s:%zu: NUL byte in line", name, lineno);
			return GF_EPARSE;
		}
		line[strcspn(line, "\r")] = '\0';
		key = line + strspn(line, " \t");
		if (*key == '\0' || *key == '#')
			continue;
		value = key + strcspn(key, " \t");
		if (*value != '\0')
			*value++ = '\0';
		value += strspn(value, " \t");
		tail = value + strlen(value);
		while (tail > value && (tail[-1] == ' ' || tail[-1] == '\t'))
			*--tail = '\0';
		rc = gf_conf_set(table, obj, key, value, msg, sizeof(msg));
		if (rc != GF_OK) {
			snprintf(err, errlen, "%s:%zu: %s", name, lineno, msg);
			return rc;
		}
	}
	return GF_OK;
}

enum gf_err gf_conf_load_file(const struct gf_conf_item *table, void *obj, const char *path,
                              char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	enum gf_err rc;

	rc = gf_file_read(path, GF_CONF_FILE_MAX, &buf, &len, err, errlen);
	if (rc != GF_OK)
		return rc;
	rc = gf_conf_load_text(table, obj, path, buf, len, err, errlen);
	free(buf);
	return rc;
}

void gf_conf_print(const struct gf_conf_item *table, const void *obj, FILE *out)
{
	for (const struct gf_conf_item *it = table; it->name; it++) {
		const char *field = (const char *)obj + it->offset;
		switch (it->type) {
		case GF_CONF_STRING: {
			const char *s = *(char *const *)(const void *)field;
			fprintf(out, "%s %s\n", it->name, s ? s : "");
			break;
		}
		case GF_CONF_BOOL:
			fprintf(out, "%s %s\n", it->name,
			        *(const bool *)(const void *)field ? "on" : "off");
			break;
		case GF_CONF_INT:
			fprintf(out, "%s %ld\n", it->name, *(const long *)(const void *)field);
			break;
		case GF_CONF_DOUBLE:
			fprintf(out, "%s %.17g\n", it->name, *(const double *)(const void *)field);
			break;
		}
	}
}

void gf_conf_free(const struct gf_conf_item *table, void *obj)
{
	for (const struct gf_conf_item *it = table; it->name; it++) {
		if (it->type == GF_CONF_STRING) {
			char **field = (char **)(void *)((char *)obj + it->offset);
			free(*field);
			*field = NULL;
		}
	}
}
