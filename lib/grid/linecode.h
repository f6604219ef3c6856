/* SPDX-License-Identifier: MIT */
/*
 * linecode.h - what a line code says about a cable: its 3x3 phase impedance
 * from the sequence impedances, and a thermal rating read from the cable
 * its name describes (docs/grid.md, "Line ratings").
 *
 * The phase impedance is the one OpenDSS builds for a line code given by
 * R1, X1, R0, X0 and nphases 3: Zs = (2 Z1 + Z0) / 3 on the diagonal,
 * Zm = (Z0 - Z1) / 3 off it. It is a three-wire matrix: the neutral (and
 * earth) return is already folded in by the zero-sequence impedance, which is
 * what a Kron reduction of a four-wire matrix with a grounded neutral gives.
 */
#ifndef GF_LINECODE_H
#define GF_LINECODE_H

#include "grid/cmplx.h"
#include <stddef.h>

#define GF_LINECODE_BASIS_MAX 64 /* room for how a rating was found */

/* Zs on the diagonal and Zm off it, from sequence impedances in any one
 * unit (ohm per km in, ohm per km out). */
void gf_linecode_phase_z(double r1, double x1, double r0, double x0, double complex z[3][3]);

/*
 * A continuous current rating in A per phase conductor for the cable named
 * name, whose positive-sequence resistance is r1_ohm_km, or 0 if the name
 * does not say. Names as the IEEE European LV feeder writes them:
 * "<cores>c_<size>[_...]" or "<size>_..." where size is mm2 ("70", "185") or,
 * starting with a point, square inches ("4c_.06" = 0.06 in2 = 38.7 mm2).
 * The conductor's metal is told from r1 times the area (copper about 0.018,
 * aluminium about 0.030 ohm mm2/m), the size is rounded down to a standard
 * one, and the rating is the table's in linecode.c: XLPE multicore cable in
 * the ground, two loaded conductors for a 2-core (single-phase) cable, three
 * otherwise. basis (n bytes) receives how the rating was found, e.g. "4c 70
 * mm2 Al, 3 loaded", or why there is none.
 */
double gf_linecode_ampacity(const char *name, double r1_ohm_km, char *basis, size_t n);

#endif
