/* SPDX-License-Identifier: MIT */
/*
 * feeder.h - a radial LV feeder read from a network directory in the IEEE
 * European LV test feeder's CSV form (docs/grid.md): its buses, its lines as
 * a tree from the transformer, its line codes, its single-phase loads and what
 * supplies it.
 *
 * Files of the directory (network/ of ../shared/data/ieee-eu-lv/):
 *   Lines.csv        Name, Bus1, Bus2, Phases (ABC), Length, Units (m, km), LineCode
 *   LineCodes.csv    Name, nphases (3), R1, X1, R0, X0 (ohm per Units), C1, C0 (must be 0),
 *                    Units (km, m); an optional NormAmps column gives the ratings
 *   Loads.csv        Name, numPhases (1), Bus, phases (A, B, C), kV, Model (1), Connection
 *                    (wye), kW, PF, Yearly (a LoadShapes name, optional)
 *   Transformer.csv  Name, phases (3), bus1, bus2 (the LV bus), kV_pri, kV_sec, MVA,
 *                    Conn_pri (Delta), Conn_sec (Wye), %XHL, % resistance: one row
 *   Source.csv       "key=value [unit]" lines: Voltage (kV), pu, ISC3 (A), ISC1 (A), X1R1
 *   LoadShapes.csv   Name, File (optional: gives each load its profile file)
 * Columns are found by name, case-insensitively, in any order; names of buses,
 * lines, codes, loads and shapes compare case-insensitively too.
 *
 * A feeder is read-only once loaded: any number of solves (grid/powerflow.h)
 * may use it at once.
 */
#ifndef GF_FEEDER_H
#define GF_FEEDER_H

#include "grid/cmplx.h"
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "grid/supply.h"

#define GF_FEEDER_NAME_MAX 32           /* a name, NUL included */
#define GF_FEEDER_FILE_MAX (16u << 20)  /* largest file read, bytes */
#define GF_FEEDER_NONE     ((size_t)-1) /* no bus, no line */

enum gf_feeder_file {
	GF_FEEDER_LINES,
	GF_FEEDER_LINECODES,
	GF_FEEDER_LOADS,
	GF_FEEDER_TRANSFORMER,
	GF_FEEDER_SOURCE,
	GF_FEEDER_LOADSHAPES, /* optional */
	GF_FEEDER_NFILES
};

struct gf_feeder_code {
	char name[GF_FEEDER_NAME_MAX];
	double r1, x1, r0, x0;  /* ohm per km */
	double complex z[3][3]; /* phase impedance, ohm per km (grid/linecode.h) */
	double amps;            /* rating per phase conductor, A; 0 if unknown */
	char basis[64];         /* where amps came from (grid/linecode.h) */
};

struct gf_feeder_line {
	char name[GF_FEEDER_NAME_MAX];
	size_t from, to; /* buses; from is the end nearer the transformer */
	size_t code;     /* in codes[] */
	double length_m;
	double complex z[3][3]; /* phase impedance of the whole line, ohm */
	double amps;            /* its code's rating, A; 0 if unknown */
};

struct gf_feeder_load {
	char name[GF_FEEDER_NAME_MAX];
	size_t bus;
	unsigned phase;                   /* 0, 1, 2 for A, B, C */
	double kw;                        /* nominal kW from Loads.csv (a solve takes its own) */
	double pf;                        /* power factor, lagging: Q = P tan(acos(pf)) */
	char shape[GF_FEEDER_NAME_MAX];   /* Yearly, "" if none */
	char profile[GF_FEEDER_NAME_MAX]; /* the shape's file, "" if unknown */
};

struct gf_feeder {
	size_t nbus, nline, nload, ncode;
	char (*bus)[GF_FEEDER_NAME_MAX]; /* names; index = bus number here */
	struct gf_feeder_line *line;     /* in Lines.csv order */
	struct gf_feeder_load *load;     /* in Loads.csv order */
	struct gf_feeder_code *code;     /* in LineCodes.csv order */
	size_t root;                     /* the transformer's LV bus */
	size_t *order; /* the nbus buses, root first, each after the bus feeding it */
	size_t *up;    /* per bus, the line feeding it; GF_FEEDER_NONE for the root */
	struct gf_supply supply;
};

/*
 * Reads the network directory dir into a new feeder *out (free it with
 * gf_feeder_free). Errors, with err naming the file and line and what is
 * wrong: GF_EIO for a file that cannot be read (LoadShapes.csv may be
 * absent), GF_ETOOLONG for a path beyond 4095 bytes, and the errors of
 * gf_feeder_parse. *out is untouched on failure.
 */
enum gf_err gf_feeder_load(const char *dir, struct gf_feeder **out, char *err, size_t errlen);

/*
 * The same from the files' contents in memory: text[i] (len[i] bytes, no NUL
 * needed) is file i of enum gf_feeder_file; text[GF_FEEDER_LOADSHAPES] may be
 * NULL. GF_EPARSE for malformed input: a missing column, a field that is not
 * a number, an unknown line code, bus or shape, a name used twice, a name
 * longer than GF_FEEDER_NAME_MAX - 1, a feature not modelled (not three-phase
 * lines, shunt capacitance, loads other than single-phase constant PQ in wye,
 * a transformer other than one delta/wye bank); GF_EINVAL for a network that
 * is not one radial tree from the transformer (a loop, a bus not connected, a
 * line from a bus to itself) or a supply value out of range; GF_ENOMEM.
 */
enum gf_err gf_feeder_parse(const char *const text[GF_FEEDER_NFILES],
                            const size_t len[GF_FEEDER_NFILES], struct gf_feeder **out, char *err,
                            size_t errlen);

/* Frees f and all it holds. Accepts NULL. */
void gf_feeder_free(struct gf_feeder *f);

/* The file name of file i ("Lines.csv"), "" beyond the enum. */
const char *gf_feeder_file_name(enum gf_feeder_file i);

/* The index of the bus, load or line named name, or GF_FEEDER_NONE. Names
 * compare case-insensitively, as OpenDSS's do (and are unique that way).
 * Linear: look up once, keep the index. */
size_t gf_feeder_bus_index(const struct gf_feeder *f, const char *name);
size_t gf_feeder_load_index(const struct gf_feeder *f, const char *name);
size_t gf_feeder_line_index(const struct gf_feeder *f, const char *name);

#endif
