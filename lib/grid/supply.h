/* SPDX-License-Identifier: MIT */
/*
 * supply.h - what feeds the LV network: the MV source and the MV/LV
 * transformer, reduced to a Thevenin equivalent at the transformer's LV
 * terminals (docs/grid.md, "Supply").
 *
 *  - The MV source is a balanced three-phase voltage (src_kv line-to-line
 *    times src_pu) behind its short-circuit impedance: |Z1| = V_phase / Isc3
 *    with X1/R1 = x1r1 (OpenDSS's Vsource default is 4), Z2 = Z1.
 *  - The transformer is delta (MV) / grounded wye (LV), kv_pri:kv_sec, with a
 *    series impedance of r_pct + j x_pct percent on kva (no magnetising
 *    branch). Its LV voltages lag the MV ones by 30 degrees, as OpenDSS
 *    connects a delta-wye bank.
 *  - The delta passes no zero-sequence current: the LV network's zero
 *    sequence sees only the transformer's impedance, the positive and negative
 *    sequences the source's too. So, at the LV terminals,
 *        V = E - Zth I,   Zth = Z_tx U + Z_src (U - 1/3),
 *    with U the identity and 1 the all-ones 3x3 matrix, Z_src referred to LV
 *    by (kv_sec / kv_pri)^2. Isc1 (the source's zero sequence) plays no part.
 */
#ifndef GF_SUPPLY_H
#define GF_SUPPLY_H

#include "grid/cmplx.h"
#include <stddef.h>

#include "base/err.h"

#define GF_SUPPLY_NAME_MAX 32

struct gf_supply {
	/* The MV source (Source.csv). */
	double src_kv; /* line-to-line, kV */
	double src_pu; /* of src_kv */
	double isc3_a; /* three-phase short-circuit current, A */
	double isc1_a; /* single-phase; kept for the record, unused (delta) */
	double x1r1;   /* X1/R1 of the source impedance */
	/* The transformer (Transformer.csv). */
	char name[GF_SUPPLY_NAME_MAX];
	double kva;    /* rating, kVA, three-phase */
	double kv_pri; /* MV winding, line-to-line, kV */
	double kv_sec; /* LV winding, line-to-line, kV */
	double r_pct;  /* series resistance, percent on kva, both windings */
	double x_pct;  /* leakage reactance, percent on kva */

	/* Derived by gf_supply_derive. */
	double v_base;            /* kv_sec / sqrt 3, V: the LV network's 1 pu */
	double complex z_src;     /* source Z1 referred to the LV side, ohm */
	double complex z_tx;      /* transformer series Z on the LV side, ohm */
	double complex e[3];      /* open-circuit LV phase-to-neutral voltages, V */
	double complex zth[3][3]; /* Thevenin impedance at the LV terminals, ohm */
};

/*
 * Computes the derived fields of s from the others. GF_EINVAL, with the
 * field named in err, for a value that is not finite and positive (r_pct may
 * be 0, x1r1 may be 0).
 */
enum gf_err gf_supply_derive(struct gf_supply *s, char *err, size_t errlen);

#endif
