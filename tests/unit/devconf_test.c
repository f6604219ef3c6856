/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/devices/devconf.h: a plug's device from configuration
 * lines, through the same table gf-foa and gf-sim use. */
#include <criterion/criterion.h>

#include <math.h>
#include <string.h>

#include "devices/devconf.h"

#include "leak_check.h"

TestSuite(devconf, .fini = leak_check);

struct conf {
	struct gf_devconf dev;
};

static const struct gf_conf_item table[] = {
    GF_DEVCONF_ITEMS(struct conf, dev),
    {NULL, 0, 0, NULL, 0, 0, false, NULL},
};

/* Loads text over the defaults into *c (freed by the caller). */
static enum gf_err load(struct conf *c, const char *text, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	cr_assert_eq(gf_conf_defaults(table, c), GF_OK);
	return gf_conf_load_text(table, c, "test", text, strlen(text), err, errlen);
}

Test(devconf, thermal_from_lines)
{
	struct conf c;
	struct gf_device d;
	double kw = 0;
	char err[256] = "";

	cr_assert_eq(
	    load(&c, "device thermal\nrated_kw 3\ncop 3\nt0 50\ndraw_kw 0.5\n", err, sizeof(err)),
	    GF_OK, "%s", err);
	cr_assert_eq(gf_devconf_device(&c.dev, 900.0 * 10, &d, &kw, err, sizeof(err)), GF_OK, "%s",
	             err);
	cr_assert_eq(d.kind, GF_DEVICE_THERMAL);
	cr_assert_float_eq(kw, 3, 1e-12);
	cr_assert_float_eq(d.p.thermal.rated_kw, 3, 1e-12);
	cr_assert_float_eq(d.p.thermal.cop, 3, 1e-12);
	cr_assert_float_eq(d.temp, 50, 1e-12);
	cr_assert_float_eq(d.t, 9000, 1e-12);
	/* The defaults: a 200 l boiler, 45..80 deg C. */
	cr_assert_float_eq(d.p.thermal.c_kwh_k, 0.2326, 1e-12);
	cr_assert_float_eq(d.p.thermal.t_min, 45, 1e-12);
	cr_assert_float_eq(d.p.thermal.t_max, 80, 1e-12);
	for (int i = 0; i < GF_DEVICE_DAY; i++)
		cr_assert_float_eq(d.p.thermal.draw_kw[i], 0.5, 1e-12);
	gf_conf_free(table, &c);
}

Test(devconf, ev_switches_its_charger_power)
{
	struct conf c;
	struct gf_device d;
	double kw = 0;
	char err[256] = "";

	cr_assert_eq(load(&c, "device ev\nmax_kw 7.4\narrive 70\ndepart 30\n", err, sizeof(err)),
	             GF_OK, "%s", err);
	/* At interval 80 of the day the car is plugged in. */
	cr_assert_eq(gf_devconf_device(&c.dev, 900.0 * 80, &d, &kw, err, sizeof(err)), GF_OK, "%s",
	             err);
	cr_assert_eq(d.kind, GF_DEVICE_EV);
	cr_assert_float_eq(kw, 7.4, 1e-12);
	cr_assert_eq(d.p.ev.arrive, 70);
	cr_assert_eq(d.p.ev.depart, 30);
	cr_assert(d.connected);
	gf_conf_free(table, &c);
}

Test(devconf, refusals_say_why_and_touch_nothing)
{
	struct conf c;
	struct gf_device d, before;
	double kw = -1;
	char err[256] = "";

	memset(&d, 0x5a, sizeof(d));
	before = d;
	cr_assert_eq(load(&c, "device battery\n", err, sizeof(err)), GF_OK);
	cr_assert_eq(gf_devconf_device(&c.dev, 0, &d, &kw, err, sizeof(err)), GF_EINVAL);
	cr_assert(strstr(err, "neither thermal nor ev"), "%s", err);
	cr_assert_eq(memcmp(&d, &before, sizeof(d)), 0);
	cr_assert_eq(kw, -1);
	gf_conf_free(table, &c);

	cr_assert_eq(load(&c, "t_min 85\n", err, sizeof(err)), GF_OK);
	err[0] = '\0';
	cr_assert_eq(gf_devconf_device(&c.dev, 0, &d, &kw, err, sizeof(err)), GF_EINVAL);
	cr_assert(err[0], "lib/device's reason is passed on");
	cr_assert_eq(memcmp(&d, &before, sizeof(d)), 0);
	cr_assert_eq(kw, -1);
	gf_conf_free(table, &c);

	/* The table's own bounds: a negative power is refused while parsing. */
	cr_assert_neq(load(&c, "rated_kw -2\n", err, sizeof(err)), GF_OK);
	cr_assert(strstr(err, "rated_kw"), "%s", err);
	gf_conf_free(table, &c);
}
