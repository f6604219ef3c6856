/* SPDX-License-Identifier: MIT */
/*
 * openmeteo.h - weather in the Open-Meteo JSON form (its forecast API
 * /v1/forecast, and its historical API, which answers in the same form):
 * the "hourly" and "minutely_15" blocks, each with its "time" array, one
 * array per variable (null where there is no value) and its units block
 * ("hourly_units", "minutely_15_units"). docs/ingest.md lists the variables
 * read, their units and what is refused.
 *
 * Pure: no agent, no I/O; the unit tests and the fuzzer call it directly.
 */
#ifndef INGEST_OPENMETEO_H
#define INGEST_OPENMETEO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* The quantities of goflex.WeatherSeries, in its field order. */
enum ingest_om_var {
	INGEST_OM_TEMPERATURE, /* temperature_2m, degrees Celsius */
	INGEST_OM_HUMIDITY,    /* relative_humidity_2m, % */
	INGEST_OM_WIND_SPEED,  /* wind_speed_10m, m/s */
	INGEST_OM_WIND_DIR,    /* wind_direction_10m, degrees */
	INGEST_OM_CLOUD,       /* cloud_cover, % */
	INGEST_OM_GHI,         /* shortwave_radiation, W/m2, mean over the interval */
	INGEST_OM_DNI,         /* direct_normal_irradiance, W/m2, mean over the interval */
	INGEST_OM_PRECIP,      /* precipitation, mm over the interval */
	INGEST_OM_PRESSURE,    /* pressure_msl, hPa */
	INGEST_OM_NVARS
};

/* Most times in one block (92 past days and 16 forecast days of quarter hours). */
#define INGEST_OM_TIMES_MAX 12000
/* Largest document parsed. */
#define INGEST_OM_BYTES_MAX (16u << 20)

/* One block (hourly or minutely_15), on the bus's units. Interval i is
 * [start + i * interval, start + (i + 1) * interval). Instant variables
 * (temperature, humidity, wind, cloud cover, pressure) are Open-Meteo's
 * value at the interval's start; the ones Open-Meteo gives for the
 * preceding hour or quarter (irradiance, precipitation) are its value at
 * the interval's end, so the last interval has none of those. */
struct ingest_om_block {
	uint32_t interval_s; /* 3600 hourly, 900 minutely_15 */
	int64_t start_ms;
	size_t n;
	double *v[INGEST_OM_NVARS]; /* n values each, NAN where none; NULL: not given */
	size_t refused;             /* values outside the bus's ranges, set to NAN */
};

struct ingest_om {
	double latitude, longitude; /* the grid cell Open-Meteo answered for */
	size_t nblocks;
	struct ingest_om_block block[2];
};

/*
 * Parses len bytes of JSON into *out (zeroed first; free with
 * ingest_openmeteo_free). Refused with GF_EPARSE and a sentence in err:
 * not JSON or not an object, Open-Meteo's own error object ("error": true,
 * its "reason" quoted), no hourly nor minutely_15 block, a block without
 * its units block, a unit this reader does not know for a variable it
 * reads, times that are not evenly spaced by the block's interval, an
 * array whose length is not the time array's, a value that is neither a
 * number nor null. GF_ETOOLONG beyond the limits above, GF_ENOMEM. *out is
 * left empty on failure.
 */
enum gf_err ingest_openmeteo_parse(const char *json, size_t len, struct ingest_om *out, char *err,
                                   size_t errlen);

/* Frees what ingest_openmeteo_parse allocated and zeroes m. Accepts NULL. */
void ingest_openmeteo_free(struct ingest_om *m);

/* A run of intervals [from, to) of a block with the same variables present
 * (bit i: enum ingest_om_var i). */
struct ingest_om_run {
	size_t from, to;
	unsigned vars;
};

/*
 * The runs of b's intervals [from, to), in order, into runs (at most max):
 * a run ends where the set of variables with a value changes (a null, a
 * value refused); intervals with no value at all are in no run. Returns
 * how many runs there are (may exceed max: only max are written).
 */
size_t ingest_openmeteo_runs(const struct ingest_om_block *b, size_t from, size_t to,
                             struct ingest_om_run *runs, size_t max);

#endif
