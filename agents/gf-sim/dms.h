/* SPDX-License-Identifier: MIT */
/*
 * dms.h - the DSO's meter export of the simulated feeder (issue 12;
 * docs/sim.md "Meter export"): after each interval, one file of the
 * GOFLEX DMS CSV form in dms_dir, `"<meter>",<local time>,<kWh>` per
 * prosumer, where the meter is the prosumer's id (the DSO's private id),
 * the time is the end of the interval in dms_timezone's wall-clock time
 * and the value the interval's metered net energy (consumption positive;
 * gf-anonymizer's value_kind interval). A file is written under a name
 * starting with '.' and renamed when complete, so that a reader never sees
 * half of one.
 */
#ifndef SIM_DMS_H
#define SIM_DMS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct sim_dms;

/* An export into dir in the IANA zone (lib/meter/tz.h: the process's TZ).
 * GF_ENOENT for a zone or dir that does not exist, GF_EINVAL, GF_ENOMEM;
 * err says why. Free with sim_dms_free(). */
enum gf_err sim_dms_open(const char *dir, const char *zone, struct sim_dms **out, char *err,
                         size_t errlen);
void sim_dms_free(struct sim_dms *d);

/* The row of one meter for interval j (kept until sim_dms_flush).
 * GF_ENOMEM, GF_ERANGE (a time localtime cannot take). */
enum gf_err sim_dms_add(struct sim_dms *d, int64_t j, const char *meter, double kwh);

/* Writes the interval's file with the rows added since the last flush.
 * GF_EIO (logged). */
enum gf_err sim_dms_flush(struct sim_dms *d);

#endif
