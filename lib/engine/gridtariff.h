/* SPDX-License-Identifier: MIT */
/*
 * gridtariff.h - the Service Platform's grid file (docs/sp.md, "The grid
 * file"; D6.1 7.2.7 "energy transfer calculator", F6.8): per grid point, the
 * network tariff in time-of-use bands, the parameters of the implicit
 * capacity price, and where it is (for the weather). Lines:
 *
 *   offset <+|-HH:MM>                           local time of the bands = UTC + offset
 *   band <grid|*> <days> <HH:MM>-<HH:MM> <EUR/kWh>
 *   capacity <grid> <limit_kw> <price> [<price_max> [<knee_pct> [<margin_kwh>]]]
 *   location <grid> <latitude> <longitude>
 *
 * days: "*", or day names and ranges joined by commas (mon-fri, sat,sun,
 * mon,wed-fri). Band times are local, on quarter hours, from < to, 24:00 the
 * day's end. The transfer cost of an instant at grid point g is the cost of
 * the first band of g (in file order) holding its local weekday and time,
 * else of the first band of "*" holding it; none: no cost known.
 *
 * The capacity price of a forecast f kWh in one 900 s interval (the DOMS's
 * bid price, docs/doms.md "What is bid, and at what price", so that a kWh
 * that uses congested capacity costs what the DSO pays for a kWh less):
 *
 *   L       = limit_kw * 0.25                     (kWh per interval)
 *   request = f - knee_pct / 100 * L + margin_kwh
 *   price   = 0                                   if request <= 0
 *           = price + (price_max - price) * min(1, request / L)   otherwise
 *
 * Pure: no I/O but gf_gridtariff_load's read of its file, no global state.
 */
#ifndef GF_GRIDTARIFF_H
#define GF_GRIDTARIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define GF_GRIDTARIFF_ID_MAX    64         /* bytes of a grid point id */
#define GF_GRIDTARIFF_FILE_MAX  (1u << 20) /* bytes of a file */
#define GF_GRIDTARIFF_LINES_MAX 4096       /* content lines of a file */
#define GF_GRIDTARIFF_PRICE_MAX 1000.0     /* |EUR/kWh| of any price */

/* One time-of-use band. days: bit d for weekday d (0 Sunday .. 6). */
struct gf_gridtariff_band {
	char grid[GF_GRIDTARIFF_ID_MAX + 1]; /* "*": every grid point */
	uint8_t days;
	uint16_t from_min, to_min; /* local minutes of the day, [from, to) */
	double cost;               /* EUR/kWh */
};

/* The capacity price's parameters of one grid point. */
struct gf_gridtariff_cap {
	char grid[GF_GRIDTARIFF_ID_MAX + 1];
	double limit_kw;   /* > 0 */
	double price;      /* EUR/kWh, >= 0 */
	double price_max;  /* EUR/kWh, >= price (default price) */
	double knee_pct;   /* 1..200 (default 100) */
	double margin_kwh; /* >= 0 (default 0) */
};

/* Where a grid point is. */
struct gf_gridtariff_loc {
	char grid[GF_GRIDTARIFF_ID_MAX + 1];
	double lat, lon;
};

struct gf_gridtariff {
	int offset_min; /* -840..840 */
	struct gf_gridtariff_band *bands;
	size_t nbands;
	struct gf_gridtariff_cap *caps;
	size_t ncaps;
	struct gf_gridtariff_loc *locs;
	size_t nlocs;
};

/*
 * Parses the text (len bytes, any content) of the file called name into
 * *out. GF_EPARSE with err "<name>:<line>: <what>" for anything not above:
 * an unknown keyword, a bad or missing field, an id not 1-64 of
 * [A-Za-z0-9._-], a time off the quarter hours, from not before to, a price
 * not finite or beyond GF_GRIDTARIFF_PRICE_MAX, a second offset, capacity or
 * location of one grid point, more than GF_GRIDTARIFF_LINES_MAX lines, a NUL;
 * GF_ERANGE for a text over GF_GRIDTARIFF_FILE_MAX; GF_ENOMEM. Blank lines
 * and lines starting with '#' are skipped. The caller frees *out with
 * gf_gridtariff_free; on failure *out is untouched.
 */
enum gf_err gf_gridtariff_parse(const char *name, const char *text, size_t len,
                                struct gf_gridtariff *out, char *err, size_t errlen);

/* Reads and parses the file at path. File errors as gf_file_read. */
enum gf_err gf_gridtariff_load(const char *path, struct gf_gridtariff *out, char *err,
                               size_t errlen);

/* Frees what a parse allocated and zeroes *t. Accepts NULL. */
void gf_gridtariff_free(struct gf_gridtariff *t);

/* The transfer cost (EUR/kWh) at grid point grid at the instant t_ms (epoch
 * ms, UTC) into *cost: true, or false when no band holds it. */
bool gf_gridtariff_cost(const struct gf_gridtariff *t, const char *grid, int64_t t_ms,
                        double *cost);

/* Whether grid has bands of its own (not only "*"). */
bool gf_gridtariff_has_bands(const struct gf_gridtariff *t, const char *grid);

/* The capacity parameters / location of grid, or NULL. */
const struct gf_gridtariff_cap *gf_gridtariff_capacity(const struct gf_gridtariff *t,
                                                       const char *grid);
const struct gf_gridtariff_loc *gf_gridtariff_location(const struct gf_gridtariff *t,
                                                       const char *grid);

/* The capacity price (EUR/kWh) of an interval whose forecast is f_kwh, by
 * the formula above. */
double gf_gridtariff_capacity_price(const struct gf_gridtariff_cap *c, double f_kwh);

#endif
