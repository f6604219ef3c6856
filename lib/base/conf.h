/* SPDX-License-Identifier: MIT */
/*
 * conf.h - table-driven configuration.
 *
 * One table of {name, type, default, bounds, help} per program drives
 * parsing, defaults, the required check, `-n` output and the docs. Values
 * land in the program's own struct at the offsets the table gives. Sources
 * are "key value" lines (agents' -c files) or single pairs (the broker
 * plugin's plugin_opt_<key> options).
 */
#ifndef GF_CONF_H
#define GF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/err.h"

enum gf_conf_type {
	GF_CONF_STRING, /* char *, owned by the struct; free with gf_conf_free */
	GF_CONF_BOOL,   /* bool: on/off, true/false, yes/no, 1/0 */
	GF_CONF_INT,    /* long, within [min, max] */
	GF_CONF_DOUBLE, /* double: a finite decimal number within [min, max] */
};

struct gf_conf_item {
	const char *name;
	enum gf_conf_type type;
	size_t offset;   /* of the field in the program's struct */
	const char *def; /* default as text; NULL = none */
	long min, max;   /* bounds of GF_CONF_INT */
	bool required;
	const char *help;
};

/* The table ends with an item whose name is NULL. */

/* Applies every default. Fields without a default are zeroed. */
enum gf_err gf_conf_defaults(const struct gf_conf_item *table, void *obj);

/*
 * Sets key to value. GF_ENOENT for an unknown key, GF_EINVAL or GF_ERANGE for
 * a bad value, GF_ENOMEM; err gets a sentence naming the key. obj keeps its
 * old value on failure.
 */
enum gf_err gf_conf_set(const struct gf_conf_item *table, void *obj, const char *key,
                        const char *value, char *err, size_t errlen);

/* GF_EINVAL (with err naming the key) if a required key has no value. */
enum gf_err gf_conf_check(const struct gf_conf_item *table, const void *obj, char *err,
                          size_t errlen);

#define GF_CONF_LINE_MAX 4096
#define GF_CONF_FILE_MAX (1 << 20)

/*
 * Parses "key value" lines of text (len bytes; '#' comments and blank lines
 * ignored; the value is the rest of the line, trimmed). Errors are
 * "<name>:<line>: ...". Stops at the first error; keys set before it keep
 * their new values.
 */
enum gf_err gf_conf_load_text(const struct gf_conf_item *table, void *obj, const char *name,
                              const char *text, size_t len, char *err, size_t errlen);

/* Reads the file at path (at most 1 MiB) and parses it as above. */
enum gf_err gf_conf_load_file(const struct gf_conf_item *table, void *obj, const char *path,
                              char *err, size_t errlen);

/* Writes "key value" for every item, for -n and the docs. */
void gf_conf_print(const struct gf_conf_item *table, const void *obj, FILE *out);

/* Frees the strings the table owns in obj and resets them to NULL. */
void gf_conf_free(const struct gf_conf_item *table, void *obj);

#endif
