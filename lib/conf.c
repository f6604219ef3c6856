/* SPDX-License-Identifier: MIT */
#include "conf.h"

#include <errno.h>
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

static enum gf_err set_item(const struct gf_conf_item *it, void *obj, const char *value,
			    char *err, size_t errlen)
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

enum gf_err gf_conf_load_file(const struct gf_conf_item *table, void *obj, const char *path,
			      char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[4096], msg[256];
	size_t lineno = 0;
	enum gf_err rc = GF_OK;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return GF_EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *value, *end;
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%zu: line longer than %zu bytes", path, lineno,
				 sizeof(line) - 2);
			rc = GF_ETOOLONG;
			goto out;
		}
		line[strcspn(line, "\r\n")] = '\0';
		key = line + strspn(line, " \t");
		if (*key == '\0' || *key == '#')
			continue;
		value = key + strcspn(key, " \t");
		if (*value != '\0')
			*value++ = '\0';
		value += strspn(value, " \t");
		end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		rc = gf_conf_set(table, obj, key, value, msg, sizeof(msg));
		if (rc != GF_OK) {
			snprintf(err, errlen, "%s:%zu: %s", path, lineno, msg);
			goto out;
		}
	}
out:
	fclose(f);
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
