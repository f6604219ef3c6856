/* SPDX-License-Identifier: MIT */
/*
 * linecode.c - phase impedance from sequence impedances, and cable ratings.
 */
#include "grid/linecode.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gf_linecode_phase_z(double r1, double x1, double r0, double x0, double complex z[3][3])
{
	double complex z1 = CMPLX(r1, x1), z0 = CMPLX(r0, x0);
	double complex zs = (2.0 * z1 + z0) / 3.0, zm = (z0 - z1) / 3.0;

	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			z[i][k] = i == k ? zs : zm;
}

/*
 * Continuous current ratings of 0.6/1 kV XLPE-insulated multicore cables laid
 * in the ground (in ducts: reference method D1 of IEC 60364-5-52:2009, Table
 * B.52.5: conductor 90 degC, ground 20 degC, soil thermal resistivity 2.5 K
 * m/W, one circuit), by nominal cross-section. These are planning figures for
 * ranking how loaded a line is, as recalled from that table: the feeder's data
 * carries no ratings, and its operator's (for UK Waveform/CONSAC cables laid
 * direct, ENA ER P17 ratings) may be higher. A LineCodes.csv with a NormAmps
 * column overrides them (grid/feeder.h).
 */
struct rating {
	double mm2;
	double cu2, cu3; /* copper, 2 and 3 loaded conductors, A */
	double al2, al3; /* aluminium; 0 where the table has no entry */
};

static const struct rating ratings[] = {
    {1.5, 25, 21, 0, 0},       {2.5, 33, 28, 26, 22},     {4, 43, 36, 33, 28},
    {6, 53, 44, 42, 35},       {10, 71, 58, 55, 46},      {16, 91, 75, 71, 59},
    {25, 116, 96, 90, 75},     {35, 139, 115, 108, 90},   {50, 164, 135, 128, 106},
    {70, 203, 167, 158, 130},  {95, 239, 197, 186, 154},  {120, 271, 223, 211, 174},
    {150, 306, 251, 238, 197}, {185, 343, 281, 267, 220}, {240, 395, 324, 307, 253},
    {300, 446, 365, 346, 286},
};

#define SQ_INCH_MM2 645.16
/* Resistivity of the conductor, ohm mm2/m, between copper's (0.0172 at 20
 * degC; stranding and temperature make it 0.018) and aluminium's (0.0283;
 * 0.030): below is copper. */
#define RHO_SPLIT 0.0235

/* Reads "<digits>c_" (cores) then the size; false if the name is of another shape. */
static bool parse_name(const char *name, int *cores, double *mm2)
{
	const char *p = name, *u = strchr(name, '_');
	char *end;
	double v;

	*cores = 0;
	if (u && u > p + 1 && u[-1] == 'c') {
		long c = strtol(p, &end, 10);

		if (end != u - 1 || c < 1 || c > 5)
			return false;
		*cores = (int)c;
		p = u + 1;
	}
	if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
		return false;
	v = strtod(p, &end);
	if (end == p || (*end && *end != '_') || !(v > 0))
		return false;
	*mm2 = *p == '.' ? v * SQ_INCH_MM2 : v;
	return true;
}

double gf_linecode_ampacity(const char *name, double r1_ohm_km, char *basis, size_t n)
{
	const struct rating *r = NULL;
	int cores, loaded;
	double mm2, amps;
	bool al;

	if (!parse_name(name, &cores, &mm2)) {
		snprintf(basis, n, "name gives no cable size");
		return 0;
	}
	if (!(r1_ohm_km > 0)) {
		snprintf(basis, n, "no R1 to tell the metal");
		return 0;
	}
	al = r1_ohm_km * mm2 / 1000.0 > RHO_SPLIT;
	/* The largest standard size not above the cable's (2 % slack for a
	 * size written rounded). */
	for (size_t i = 0; i < sizeof(ratings) / sizeof(ratings[0]); i++)
		if (ratings[i].mm2 <= mm2 * 1.02)
			r = &ratings[i];
	loaded = cores == 2 ? 2 : 3;
	amps = !r ? 0 : al ? (loaded == 2 ? r->al2 : r->al3) : (loaded == 2 ? r->cu2 : r->cu3);
	if (!(amps > 0)) {
		snprintf(basis, n, "%.1f mm2 %s is below the table", mm2, al ? "Al" : "Cu");
		return 0;
	}
	snprintf(basis, n, "%.4g mm2 %s as %g mm2, %d loaded", mm2, al ? "Al" : "Cu", r->mm2,
	         loaded);
	return amps;
}
