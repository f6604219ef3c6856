/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/base/conf.h: the table-driven configuration. */
#include <criterion/criterion.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/conf.h"

struct cfg {
	char *site;
	char *name;
	bool verbose;
	bool tls;
	long port;
	long retries;
	double limit;
};

static const struct gf_conf_item table[] = {
    {"site", GF_CONF_STRING, offsetof(struct cfg, site), NULL, 0, 0, true, "site name"},
    {"name", GF_CONF_STRING, offsetof(struct cfg, name), "agent", 0, 0, false, "agent name"},
    {"verbose", GF_CONF_BOOL, offsetof(struct cfg, verbose), "off", 0, 0, false, "verbose"},
    {"tls", GF_CONF_BOOL, offsetof(struct cfg, tls), "on", 0, 0, false, "use TLS"},
    {"port", GF_CONF_INT, offsetof(struct cfg, port), "1883", 1, 65535, false, "port"},
    {"retries", GF_CONF_INT, offsetof(struct cfg, retries), NULL, -3, 10, false, "retries"},
    {"limit", GF_CONF_DOUBLE, offsetof(struct cfg, limit), "36.5", -1, 1000, false, "kW"},
    {NULL, GF_CONF_STRING, 0, NULL, 0, 0, false, NULL},
};

static struct cfg c;
static char path[64];

static void setup(void)
{
	memset(&c, 0x5a, sizeof(c)); /* garbage: defaults must set every field */
	cr_assert_eq(gf_conf_defaults(table, &c), GF_OK);
	path[0] = '\0';
}

static void teardown(void)
{
	gf_conf_free(table, &c);
	if (path[0])
		unlink(path);
}

TestSuite(conf, .init = setup, .fini = teardown);

static void write_file(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/gf-conf-test-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_geq(fputs(text, f), 0);
	cr_assert_eq(fclose(f), 0);
}

static enum gf_err set(const char *key, const char *value, char *err, size_t errlen)
{
	return gf_conf_set(table, &c, key, value, err, errlen);
}

static void print_to(char *out, size_t size)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	gf_conf_print(table, &c, f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_lt(len, size);
	memcpy(out, buf, len + 1);
	free(buf);
}

Test(conf, defaults)
{
	cr_assert_null(c.site, "no default: zeroed");
	cr_assert_not_null(c.name);
	cr_assert_str_eq(c.name, "agent");
	cr_assert_eq(c.verbose, false);
	cr_assert_eq(c.tls, true);
	cr_assert_eq(c.port, 1883);
	cr_assert_eq(c.retries, 0, "no default: zeroed");
}

Test(conf, set_string)
{
	char err[128] = "";

	cr_assert_eq(set("site", "site1", err, sizeof(err)), GF_OK);
	cr_assert_str_eq(c.site, "site1");
	cr_assert_eq(set("name", "first", err, sizeof(err)), GF_OK);
	cr_assert_eq(set("name", "second", err, sizeof(err)), GF_OK, "replacing frees the old");
	cr_assert_str_eq(c.name, "second");
	cr_assert_eq(set("name", "", err, sizeof(err)), GF_OK);
	cr_assert_str_eq(c.name, "");
	cr_assert_str_eq(err, "", "no message on success");
}

Test(conf, set_string_copies)
{
	char value[] = "copied";

	cr_assert_eq(set("site", value, NULL, 0), GF_OK);
	value[0] = 'X';
	cr_assert_str_eq(c.site, "copied");
}

Test(conf, set_bool)
{
	static const struct {
		const char *text;
		bool value;
	} cases[] = {{"on", true},  {"off", false}, {"true", true}, {"false", false},
	             {"yes", true}, {"no", false},  {"1", true},    {"0", false}};
	char err[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.verbose = !cases[i].value;
		cr_assert_eq(set("verbose", cases[i].text, err, sizeof(err)), GF_OK, "%s",
		             cases[i].text);
		cr_assert_eq(c.verbose, cases[i].value, "%s", cases[i].text);
	}
}

Test(conf, bad_bool)
{
	static const char *const bad[] = {"maybe", "ON", "True", "", "2", "on ", " on", "of"};
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char expect[128];
		c.tls = true;
		err[0] = '\0';
		cr_assert_eq(set("tls", bad[i], err, sizeof(err)), GF_EINVAL, "'%s'", bad[i]);
		cr_assert_eq(c.tls, true, "value changed by '%s'", bad[i]);
		snprintf(expect, sizeof(expect), "tls: expected on or off, not '%s'", bad[i]);
		cr_assert_str_eq(err, expect);
	}
}

Test(conf, set_int)
{
	char err[128];

	cr_assert_eq(set("port", "8883", err, sizeof(err)), GF_OK);
	cr_assert_eq(c.port, 8883);
	cr_assert_eq(set("port", "1", err, sizeof(err)), GF_OK);
	cr_assert_eq(c.port, 1);
	cr_assert_eq(set("port", "65535", err, sizeof(err)), GF_OK);
	cr_assert_eq(c.port, 65535);
	cr_assert_eq(set("retries", "-3", err, sizeof(err)), GF_OK);
	cr_assert_eq(c.retries, -3);
	cr_assert_eq(set("retries", "10", err, sizeof(err)), GF_OK);
	cr_assert_eq(c.retries, 10);
}

Test(conf, int_out_of_range)
{
	char err[128];

	cr_assert_eq(set("port", "0", err, sizeof(err)), GF_ERANGE);
	cr_assert_str_eq(err, "port: 0 is outside 1..65535");
	cr_assert_eq(c.port, 1883, "old value kept");
	cr_assert_eq(set("port", "65536", err, sizeof(err)), GF_ERANGE);
	cr_assert_str_eq(err, "port: 65536 is outside 1..65535");
	cr_assert_eq(set("retries", "-4", err, sizeof(err)), GF_ERANGE);
	cr_assert_str_eq(err, "retries: -4 is outside -3..10");
	cr_assert_eq(set("retries", "11", err, sizeof(err)), GF_ERANGE);
	cr_assert_eq(c.retries, 0);
}

Test(conf, set_double)
{
	char err[128];

	cr_assert_float_eq(c.limit, 36.5, 1e-15, "the default");
	cr_assert_eq(set("limit", "0.25", err, sizeof(err)), GF_OK);
	cr_assert_float_eq(c.limit, 0.25, 1e-15);
	cr_assert_eq(set("limit", "-1", err, sizeof(err)), GF_OK);
	cr_assert_eq(set("limit", "1e3", err, sizeof(err)), GF_OK);
	cr_assert_float_eq(c.limit, 1000, 1e-12);
	cr_assert_eq(set("limit", "1000.001", err, sizeof(err)), GF_ERANGE);
	cr_assert_str_eq(err, "limit: 1000.001 is outside -1..1000");
	cr_assert_float_eq(c.limit, 1000, 1e-12, "old value kept");
	const char *bad[] = {"", "abc", "1.5kW", "nan", "inf", "0x10", "1e999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(set("limit", bad[i], err, sizeof(err)), GF_EINVAL, "'%s'", bad[i]);
		cr_assert(strstr(err, "expected a decimal number") != NULL, "%s", err);
	}
}

Test(conf, int_not_a_number)
{
	static const char *const bad[] = {
	    "", "x", "12x", "1.5", "0x10", "--1", "99999999999999999999999"};
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char expect[128];
		cr_assert_eq(set("port", bad[i], err, sizeof(err)), GF_EINVAL, "'%s'", bad[i]);
		snprintf(expect, sizeof(expect), "port: expected a whole number, not '%s'", bad[i]);
		cr_assert_str_eq(err, expect);
		cr_assert_eq(c.port, 1883);
	}
}

Test(conf, unknown_key)
{
	char err[128];

	cr_assert_eq(set("bogus", "1", err, sizeof(err)), GF_ENOENT);
	cr_assert_str_eq(err, "unknown option 'bogus'");
	cr_assert_eq(set("Port", "1", err, sizeof(err)), GF_ENOENT, "keys are case-sensitive");
	cr_assert_not_null(strstr(err, "'Port'"));
	cr_assert_eq(set("", "1", err, sizeof(err)), GF_ENOENT);
	cr_assert_null(c.site, "object changed");
	cr_assert_str_eq(c.name, "agent");
	cr_assert_eq(c.verbose, false);
	cr_assert_eq(c.tls, true);
	cr_assert_eq(c.port, 1883);
	cr_assert_eq(c.retries, 0);
}

Test(conf, error_message_is_cut_to_buffer)
{
	char err[8];

	memset(err, 'x', sizeof(err));
	cr_assert_eq(set("bogus", "1", err, sizeof(err)), GF_ENOENT);
	cr_assert_str_eq(err, "unknown");
	cr_assert_eq(set("bogus", "1", NULL, 0), GF_ENOENT);
}

Test(conf, required)
{
	char err[128] = "";

	cr_assert_eq(gf_conf_check(table, &c, err, sizeof(err)), GF_EINVAL);
	cr_assert_str_eq(err, "site: required option is not set");
	cr_assert_eq(set("site", "site1", err, sizeof(err)), GF_OK);
	cr_assert_eq(gf_conf_check(table, &c, err, sizeof(err)), GF_OK);
}

Test(conf, print)
{
	char out[512];
	char err[128];

	print_to(out, sizeof(out));
	cr_assert_str_eq(out, "site \nname agent\nverbose off\ntls on\nport 1883\nretries 0\n"
	                      "limit 36.5\n");
	cr_assert_eq(set("site", "site1", err, sizeof(err)), GF_OK);
	cr_assert_eq(set("verbose", "yes", err, sizeof(err)), GF_OK);
	cr_assert_eq(set("retries", "-2", err, sizeof(err)), GF_OK);
	print_to(out, sizeof(out));
	cr_assert_str_eq(out, "site site1\nname agent\nverbose on\ntls on\nport 1883\nretries -2\n"
	                      "limit 36.5\n");
}

Test(conf, free_resets_strings)
{
	char err[128];

	cr_assert_eq(set("site", "site1", err, sizeof(err)), GF_OK);
	gf_conf_free(table, &c);
	cr_assert_null(c.site);
	cr_assert_null(c.name);
	cr_assert_eq(c.port, 1883, "non-strings are left alone");
	gf_conf_free(table, &c); /* twice is harmless */
	cr_assert_null(c.site);
}

Test(conf, load_file)
{
	char err[256] = "";

	write_file("# a comment\n"
	           "\n"
	           "   \t\n"
	           "site site1   \n"
	           "  name\t  my agent \t \n"
	           "\t# indented comment\n"
	           "verbose yes\r\n"
	           "port 8883\n"
	           "retries\t5"); /* no final newline */
	cr_assert_eq(gf_conf_load_file(table, &c, path, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_str_eq(c.site, "site1");
	cr_assert_str_eq(c.name, "my agent", "inner spaces kept, trailing ones cut");
	cr_assert_eq(c.verbose, true);
	cr_assert_eq(c.tls, true, "untouched keys keep their default");
	cr_assert_eq(c.port, 8883);
	cr_assert_eq(c.retries, 5);
	cr_assert_eq(gf_conf_check(table, &c, err, sizeof(err)), GF_OK);
}

Test(conf, load_file_later_line_wins)
{
	char err[256] = "";

	write_file("port 1\nport 2\n");
	cr_assert_eq(gf_conf_load_file(table, &c, path, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(c.port, 2);
}

Test(conf, load_file_error_on_line_3)
{
	char err[256] = "", expect[320];

	write_file("site site1\n# comment\nport 99999\nverbose on\n");
	cr_assert_eq(gf_conf_load_file(table, &c, path, err, sizeof(err)), GF_ERANGE);
	snprintf(expect, sizeof(expect), "%s:3: port: 99999 is outside 1..65535", path);
	cr_assert_str_eq(err, expect);
	cr_assert_str_eq(c.site, "site1", "line 1 was applied");
	cr_assert_eq(c.verbose, false, "loading stopped at line 3");
}

Test(conf, load_file_unknown_key_on_line_3)
{
	char err[256] = "", expect[320];

	write_file("\nsite site1\nbogus value\n");
	cr_assert_eq(gf_conf_load_file(table, &c, path, err, sizeof(err)), GF_ENOENT);
	snprintf(expect, sizeof(expect), "%s:3: unknown option 'bogus'", path);
	cr_assert_str_eq(err, expect);
}

Test(conf, load_file_key_without_value)
{
	char err[256] = "", expect[320];

	write_file("site site1\nname\nverbose\n");
	cr_assert_eq(gf_conf_load_file(table, &c, path, err, sizeof(err)), GF_EINVAL);
	cr_assert_str_eq(c.name, "", "a bare string key sets the empty string");
	snprintf(expect, sizeof(expect), "%s:3: verbose: expected on or off, not ''", path);
	cr_assert_str_eq(err, expect);
}

Test(conf, load_file_long_line)
{
	char err[256] = "", expect[320];
	char *text = malloc(12000);

	cr_assert_not_null(text);
	memcpy(text, "site ", 5);
	memset(text + 5, 's', 10000);
	memcpy(text + 10005, "\nport 1\n", 9);
	write_file(text);
	free(text);
	cr_assert_eq(gf_conf_load_file(table, &c, path, err, sizeof(err)), GF_ETOOLONG);
	/* The limit itself is the library's choice; the report names the line. */
	snprintf(expect, sizeof(expect), "%s:1: line longer than ", path);
	cr_assert_eq(strncmp(err, expect, strlen(expect)), 0, "err: %s", err);
	cr_assert_eq(c.port, 1883, "loading stopped at line 1");
}

Test(conf, load_missing_file)
{
	char err[256] = "";

	cr_assert_eq(gf_conf_load_file(table, &c, "/nonexistent/gf.conf", err, sizeof(err)),
	             GF_EIO);
	cr_assert_eq(strncmp(err, "/nonexistent/gf.conf: ", 22), 0, "err: %s", err);
}

/* A default that does not parse is reported, not silently zeroed. */
Test(conf_bad_default, bad_default)
{
	static const struct gf_conf_item bad[] = {
	    {"port", GF_CONF_INT, 0, "70000", 1, 65535, false, "port"},
	    {NULL, GF_CONF_STRING, 0, NULL, 0, 0, false, NULL},
	};
	long port = 7;

	cr_assert_eq(gf_conf_defaults(bad, &port), GF_ERANGE);
}
