/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/grid/feeder.h and what it reads with: the table reader
 * (csvtab.h), line codes (linecode.h) and the supply (supply.h). A tiny
 * network in memory for the shapes and the errors, the IEEE European LV
 * feeder (../shared/data/ieee-eu-lv/network, tests run from the repository
 * root) for the real thing.
 */
#include <criterion/criterion.h>

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "leak_check.h"
#include "grid/csvtab.h"
#include "grid/feeder.h"
#include "grid/linecode.h"
#include "grid/supply.h"

#define IEEE_NETWORK "../shared/data/ieee-eu-lv/network"

TestSuite(feeder, .fini = leak_check);
TestSuite(csvtab, .fini = leak_check);
TestSuite(linecode, .fini = leak_check);

static char err[512];

/* The tiny network: the transformer's LV bus 1, a 100 m line to bus 2, one load. */
static const char *const tiny[GF_FEEDER_NFILES] = {
    [GF_FEEDER_LINES] = "# Lines,,,\nName,Bus1,Bus2,Phases,Length,Units,LineCode\n"
                        "L1,1,2,ABC,100,m,c1\n",
    [GF_FEEDER_LINECODES] = "Name,nphases,R1,X1,R0,X0,C1,C0,Units\n"
                            "c1,3,0.446,0.071,1.505,0.083,0,0,km\n",
    [GF_FEEDER_LOADS] = "Name,numPhases,Bus,phases,kV,Model,Connection,kW,PF,Yearly\n"
                        "LD1,1,2,A,0.23,1,wye,1,0.95,Shape_1\n",
    [GF_FEEDER_TRANSFORMER] = "Name, phases, bus1, bus2, kV_pri, kV_sec, MVA, Conn_pri, "
                              "Conn_sec, %XHL,% resistance\n"
                              "TR1,3,SourceBus,1,11,0.416,0.8, Delta, Wye,4,0.4\n",
    [GF_FEEDER_SOURCE] = "# Source impedance\n[Source]\nVoltage=11 kV\npu=1.05 \nISC3=3000 A\n"
                         "ISC1=5 A\n",
    [GF_FEEDER_LOADSHAPES] = NULL,
};

/* Parses the tiny network with file which replaced by text (which < 0: none). */
static enum gf_err parse_with(int which, const char *text, struct gf_feeder **f)
{
	const char *t[GF_FEEDER_NFILES];
	size_t len[GF_FEEDER_NFILES];

	for (int i = 0; i < GF_FEEDER_NFILES; i++) {
		t[i] = i == which ? text : tiny[i];
		len[i] = t[i] ? strlen(t[i]) : 0;
	}
	err[0] = '\0';
	return gf_feeder_parse(t, len, f, err, sizeof(err));
}

Test(feeder, tiny_network)
{
	struct gf_feeder *f = NULL;
	double complex zs = (2.0 * CMPLX(0.446, 0.071) + CMPLX(1.505, 0.083)) / 3.0 * 0.1;
	double complex zm = (CMPLX(1.505, 0.083) - CMPLX(0.446, 0.071)) / 3.0 * 0.1;

	cr_assert_eq(parse_with(-1, NULL, &f), GF_OK, "%s", err);
	cr_assert_eq(f->nbus, 2);
	cr_assert_eq(f->nline, 1);
	cr_assert_eq(f->nload, 1);
	cr_assert_str_eq(f->bus[f->root], "1");
	cr_assert_eq(f->order[0], f->root);
	cr_assert_eq(f->up[f->root], GF_FEEDER_NONE);
	cr_assert_str_eq(f->bus[f->line[0].to], "2");
	cr_assert_eq(f->up[f->line[0].to], 0);
	cr_assert_float_eq(f->line[0].length_m, 100.0, 1e-12);
	cr_assert(cabs(f->line[0].z[0][0] - zs) < 1e-12);
	cr_assert(cabs(f->line[0].z[1][1] - zs) < 1e-12);
	cr_assert(cabs(f->line[0].z[0][2] - zm) < 1e-12);
	cr_assert(cabs(f->line[0].z[2][1] - zm) < 1e-12);
	cr_assert_float_eq(f->line[0].amps, 0, 1e-12, "c1 names no cable");
	cr_assert_eq(f->load[0].phase, 0);
	cr_assert_float_eq(f->load[0].pf, 0.95, 1e-12);
	cr_assert_str_eq(f->load[0].shape, "Shape_1");
	cr_assert_str_eq(f->load[0].profile, "", "no LoadShapes.csv: no file");
	cr_assert_float_eq(f->supply.kva, 800, 1e-9);
	cr_assert_float_eq(f->supply.src_pu, 1.05, 1e-12);
	cr_assert_float_eq(f->supply.isc3_a, 3000, 1e-12);
	cr_assert_float_eq(f->supply.x1r1, 4, 1e-12, "OpenDSS's default");
	cr_assert_eq(gf_feeder_load_index(f, "ld1"), 0);
	cr_assert_eq(gf_feeder_load_index(f, "LD2"), GF_FEEDER_NONE);
	cr_assert_eq(gf_feeder_bus_index(f, "2"), f->line[0].to);
	cr_assert_eq(gf_feeder_line_index(f, "L1"), 0);
	gf_feeder_free(f);
}

Test(feeder, a_line_written_towards_the_transformer_is_turned)
{
	struct gf_feeder *f = NULL;

	cr_assert_eq(parse_with(GF_FEEDER_LINES,
	                        "Name,Bus1,Bus2,Length,Units,LineCode\nL1,2,1,100,m,c1\n"
	                        "L2,3,2,0.1,km,c1\n",
	                        &f),
	             GF_OK, "%s", err);
	cr_assert_str_eq(f->bus[f->line[0].from], "1");
	cr_assert_str_eq(f->bus[f->line[1].from], "2");
	cr_assert_str_eq(f->bus[f->line[1].to], "3");
	cr_assert_float_eq(f->line[1].length_m, 100.0, 1e-12);
	cr_assert_str_eq(f->bus[f->order[2]], "3");
	gf_feeder_free(f);
}

Test(feeder, load_shapes_name_each_loads_file)
{
	const char *t[GF_FEEDER_NFILES];
	size_t len[GF_FEEDER_NFILES];
	struct gf_feeder *f = NULL;

	for (int i = 0; i < GF_FEEDER_NFILES; i++)
		t[i] = tiny[i];
	t[GF_FEEDER_LOADSHAPES] = "# Load Shapes,,,,\nName,npts,minterval,File,useactual\n"
	                          "Shape_1,1440,1,Load_profile_1.csv,TRUE\n";
	for (int i = 0; i < GF_FEEDER_NFILES; i++)
		len[i] = strlen(t[i]);
	cr_assert_eq(gf_feeder_parse(t, len, &f, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_str_eq(f->load[0].profile, "Load_profile_1.csv");
	gf_feeder_free(f);

	t[GF_FEEDER_LOADSHAPES] = "Name,File\nShape_2,x.csv\n";
	len[GF_FEEDER_LOADSHAPES] = strlen(t[GF_FEEDER_LOADSHAPES]);
	f = NULL;
	cr_assert_eq(gf_feeder_parse(t, len, &f, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "Loads.csv:2: Yearly Shape_1 is not in LoadShapes.csv");
	cr_assert_null(f);
}

Test(feeder, norm_amps_column_overrides_the_derived_rating)
{
	struct gf_feeder *f = NULL;

	cr_assert_eq(parse_with(GF_FEEDER_LINECODES,
	                        "Name,nphases,R1,X1,R0,X0,C1,C0,Units,NormAmps\n"
	                        "4c_70,3,0.446,0.071,1.505,0.083,0,0,km,250\n"
	                        "c1,3,0.446,0.071,1.505,0.083,0,0,km,\n",
	                        &f),
	             GF_OK, "%s", err);
	cr_assert_float_eq(f->code[0].amps, 250, 1e-12);
	cr_assert_str_eq(f->code[0].basis, "NormAmps column");
	cr_assert_float_eq(f->line[0].amps, 0, 1e-12, "L1 is c1, no rating");
	gf_feeder_free(f);
}

/* Malformed files: the code and the message that says which file, line and why. */
static const struct {
	int file;
	const char *text;
	enum gf_err rc;
	const char *msg;
} bad[] = {
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,abc,m,c1\n", GF_EPARSE,
     "Lines.csv:2: Length 'abc' is not a number"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,-5,m,c1\n", GF_EPARSE,
     "Lines.csv:2: Length -5 is not positive"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,m,c9\n", GF_EPARSE,
     "Lines.csv:2: LineCode c9 is not in LineCodes.csv"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,ft,c1\n", GF_EPARSE,
     "Lines.csv:2: Units 'ft': expected m or km"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Phases,Length,Units,LineCode\nL1,1,2,AB,100,m,c1\n",
     GF_EPARSE, "Lines.csv:2: Phases 'AB': only three-phase lines are modelled"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units\nL1,1,2,100,m\n", GF_EPARSE,
     "Lines.csv: no column 'LineCode' in the header"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,m,c1,x\n", GF_EPARSE,
     "Lines.csv:2: field 7 beyond the header's 6 columns"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,m,c1\nL1,2,3,1,m,c1\n",
     GF_EPARSE, "Lines.csv:3: line L1 appears twice"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,m,c1\nL2,2,1,1,m,c1\n",
     GF_EINVAL, "Lines.csv:3: line L2 closes a loop: bus 2 is reached from the transformer twice"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,m,c1\nL2,3,4,1,m,c1\n",
     GF_EINVAL, "bus 3 is not connected to the transformer's bus 1"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,m,c1\nL2,2,2,1,m,c1\n",
     GF_EINVAL, "Lines.csv:3: line L2 connects bus 2 to itself"},
    {GF_FEEDER_LINES, "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,m,c1\nL2,2,a\tb,1,m,c1\n",
     GF_EPARSE, "Lines.csv:3: Bus2 'a?b' has a byte other than printable ASCII"},
    {GF_FEEDER_LINES,
     "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,100,m,c1\n"
     "L2,2,b23456789012345678901234567890123,1,m,c1\n",
     GF_EPARSE, "Lines.csv:3: Bus2 'b23456789012345678901234567890123' is longer than 31 bytes"},
    {GF_FEEDER_LINES, "# only a comment\n,,,,\n", GF_EPARSE, "Lines.csv:2: no header line"},
    {GF_FEEDER_LINECODES, "Name,nphases,R1,X1,R0,X0,C1,C0,Units\nc1,3,0.4,0.07,1.5,0.08,3.4,0,km\n",
     GF_EPARSE, "LineCodes.csv:2: C1 3.4: shunt capacitance is not modelled"},
    {GF_FEEDER_LINECODES, "Name,nphases,R1,X1,R0,X0,Units\nc1,1,0.4,0.07,1.5,0.08,km\n", GF_EPARSE,
     "LineCodes.csv:2: nphases '1': only three-phase line codes are modelled"},
    {GF_FEEDER_LINECODES, "Name,R1,X1,R0,X0,Units\nc1,-0.4,0.07,1.5,0.08,km\n", GF_EPARSE,
     "LineCodes.csv:2: R1 -0.4 is below 0"},
    {GF_FEEDER_LINECODES, "Name,R1,X1,R0,X0,Units\nc1,nan,0.07,1.5,0.08,km\n", GF_EPARSE,
     "LineCodes.csv:2: R1 'nan' is not a number"},
    {GF_FEEDER_LOADS, "Name,Bus,phases,kW,PF\nLD1,2,D,1,0.95\n", GF_EPARSE,
     "Loads.csv:2: phases 'D': expected A, B or C"},
    {GF_FEEDER_LOADS, "Name,Bus,phases,Model,kW,PF\nLD1,2,A,2,1,0.95\n", GF_EPARSE,
     "Loads.csv:2: Model '2': only model 1 (constant P and Q) is modelled"},
    {GF_FEEDER_LOADS, "Name,Bus,phases,Connection,kW,PF\nLD1,2,A,delta,1,0.95\n", GF_EPARSE,
     "Loads.csv:2: Connection 'delta': only wye (phase-to-neutral) loads are modelled"},
    {GF_FEEDER_LOADS, "Name,Bus,phases,kW,PF\nLD1,9,A,1,0.95\n", GF_EPARSE,
     "Loads.csv:2: Bus 9 is on no line of Lines.csv"},
    {GF_FEEDER_LOADS, "Name,Bus,phases,kW,PF\nLD1,2,A,1,0\n", GF_EPARSE,
     "Loads.csv:2: PF 0 is not in (0, 1]"},
    {GF_FEEDER_LOADS, "Name,Bus,phases,kW,PF\nLD1,2,A,1,0.9\nld1,2,B,1,0.9\n", GF_EPARSE,
     "Loads.csv:3: load ld1 appears twice"},
    {GF_FEEDER_TRANSFORMER,
     "Name,phases,bus1,bus2,kV_pri,kV_sec,MVA,Conn_pri,Conn_sec,%XHL,%R\n"
     "TR1,3,S,1,11,0.416,0.8,Wye,Wye,4,0.4\n",
     GF_EPARSE, "Transformer.csv:2: Conn_pri 'Wye': only a delta MV winding is modelled"},
    {GF_FEEDER_TRANSFORMER,
     "Name,bus2,kV_pri,kV_sec,MVA,Conn_pri,Conn_sec,%XHL,%R\n"
     "TR1,1,11,0.416,0.8,Delta,Wye,4,0.4\nTR2,1,11,0.416,0.8,Delta,Wye,4,0.4\n",
     GF_EPARSE, "Transformer.csv:3: a second transformer: only one is modelled"},
    {GF_FEEDER_TRANSFORMER, "Name,bus2,kV_pri,kV_sec,MVA,Conn_pri,Conn_sec,%XHL,%R\n", GF_EPARSE,
     "Transformer.csv: no transformer"},
    {GF_FEEDER_TRANSFORMER,
     "Name,bus2,kV_pri,kV_sec,MVA,Conn_pri,Conn_sec,%XHL,%R\nTR1,1,11,0,0.8,Delta,Wye,4,0.4\n",
     GF_EINVAL, "supply: transformer kV_sec 0 is not a positive number"},
    {GF_FEEDER_SOURCE, "Voltage=11 kV\npu=1.05\nISC1=5 A\n", GF_EPARSE, "Source.csv: no ISC3"},
    {GF_FEEDER_SOURCE, "Voltage=11 kV\npu=1.05\nISC3=3 kA\n", GF_EPARSE,
     "Source.csv:3: ISC3 in 'kA', expected A"},
    {GF_FEEDER_SOURCE, "Voltage=11 kV\npu=1.05\nISC3=3000\nMVAsc3=20\n", GF_EPARSE,
     "Source.csv:4: unknown key 'MVAsc3' (known: Voltage, pu, ISC3, ISC1, X1R1)"},
    {GF_FEEDER_SOURCE, "Voltage=11 kV\npu=1.05\npu=1\n", GF_EPARSE, "Source.csv:3: pu given twice"},
    {GF_FEEDER_SOURCE, "Voltage=eleven kV\n", GF_EPARSE,
     "Source.csv:1: Voltage 'eleven' is not a number"},
    {GF_FEEDER_SOURCE, "Voltage 11 kV\n", GF_EPARSE,
     "Source.csv:1: expected key=value, not 'Voltage 11 kV'"},
};

Test(feeder, malformed_input_says_where_and_why)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct gf_feeder *f = NULL;
		const char *t[GF_FEEDER_NFILES];
		size_t len[GF_FEEDER_NFILES];

		for (int k = 0; k < GF_FEEDER_NFILES; k++) {
			t[k] = k == bad[i].file ? bad[i].text : tiny[k];
			len[k] = t[k] ? strlen(t[k]) : 0;
		}
		err[0] = '\0';
		cr_expect_eq(gf_feeder_parse(t, len, &f, err, sizeof(err)), bad[i].rc,
		             "case %zu: %s", i, err);
		cr_expect_str_eq(err, bad[i].msg, "case %zu: %s", i, err);
		cr_expect_null(f, "case %zu", i);
		gf_feeder_free(f);
	}
}

Test(feeder, a_nul_byte_is_refused)
{
	static const char lines[] = "Name,Bus1,Bus2,Length,Units,LineCode\nL1,1,2,1\0000,m,c1\n";
	const char *t[GF_FEEDER_NFILES];
	size_t len[GF_FEEDER_NFILES];
	struct gf_feeder *f = NULL;

	for (int k = 0; k < GF_FEEDER_NFILES; k++) {
		t[k] = k == GF_FEEDER_LINES ? lines : tiny[k];
		len[k] = t[k] ? strlen(t[k]) : 0;
	}
	len[GF_FEEDER_LINES] = sizeof(lines) - 1;
	cr_assert_eq(gf_feeder_parse(t, len, &f, err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "Lines.csv:2: NUL byte in line");
	cr_assert_null(f);
}

Test(feeder, ieee_european_lv)
{
	struct gf_feeder *f = NULL;
	size_t ld, l;

	cr_assert_eq(gf_feeder_load(IEEE_NETWORK, &f, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_eq(f->nbus, 906);
	cr_assert_eq(f->nline, 905);
	cr_assert_eq(f->nload, 55);
	cr_assert_eq(f->ncode, 10);
	cr_assert_str_eq(f->bus[f->root], "1");
	cr_assert_str_eq(f->supply.name, "TR1");
	cr_assert_float_eq(f->supply.r_pct, 0.4, 1e-12);

	ld = gf_feeder_load_index(f, "LOAD32");
	cr_assert_neq(ld, GF_FEEDER_NONE);
	cr_assert_str_eq(f->bus[f->load[ld].bus], "614");
	cr_assert_eq(f->load[ld].phase, 2);
	cr_assert_str_eq(f->load[ld].profile, "Load_profile_32.csv");

	l = gf_feeder_line_index(f, "LINE1");
	cr_assert_str_eq(f->bus[f->line[l].from], "1");
	cr_assert_str_eq(f->bus[f->line[l].to], "2");
	cr_assert_float_eq(f->line[l].amps, 130, 1e-12, "4c_70: 70 mm2 Al, 3 loaded");

	/* The tree: the root first, every other bus after the bus feeding it. */
	{
		size_t *pos = calloc(f->nbus, sizeof(*pos));

		cr_assert_not_null(pos);
		for (size_t k = 0; k < f->nbus; k++)
			pos[f->order[k]] = k;
		cr_assert_eq(f->order[0], f->root);
		for (size_t b = 0; b < f->nbus; b++) {
			if (b == f->root)
				continue;
			cr_assert_eq(f->line[f->up[b]].to, b);
			cr_assert_lt(pos[f->line[f->up[b]].from], pos[b]);
		}
		free(pos);
	}
	gf_feeder_free(f);
}

Test(feeder, a_missing_directory_names_the_file)
{
	struct gf_feeder *f = NULL;

	cr_assert_eq(gf_feeder_load("/nonexistent-grid-dir", &f, err, sizeof(err)), GF_EIO);
	cr_assert(strstr(err, "/nonexistent-grid-dir/Lines.csv"), "%s", err);
	cr_assert_null(f);
}

Test(feeder, a_directory_without_load_shapes)
{
	char dir[] = "/tmp/gf-feeder-test-XXXXXX", path[128];
	struct gf_feeder *f = NULL;

	cr_assert_not_null(mkdtemp(dir));
	for (int i = 0; i < GF_FEEDER_LOADSHAPES; i++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s", dir, gf_feeder_file_name(i));
		fp = fopen(path, "w");
		cr_assert_not_null(fp);
		fputs(tiny[i], fp);
		fclose(fp);
	}
	cr_expect_eq(gf_feeder_load(dir, &f, err, sizeof(err)), GF_OK, "%s", err);
	cr_expect(f && f->nload == 1);
	gf_feeder_free(f);
	for (int i = 0; i < GF_FEEDER_LOADSHAPES; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, gf_feeder_file_name(i));
		unlink(path);
	}
	rmdir(dir);
}

/* --- csvtab -------------------------------------------------------------------- */

Test(csvtab, comments_blank_rows_crlf_and_short_rows)
{
	char text[] = "# a comment,,\r\n,, ,\r\n Name , Value ,Unit\r\n\r\nx, 1.5 \r\n# c\r\ny,2";
	struct gf_csvtab t;
	bool got;
	double v;

	cr_assert_eq(gf_csvtab_open(&t, "t.csv", text, strlen(text), err, sizeof(err)), GF_OK, "%s",
	             err);
	cr_assert_eq(t.ncol, 3);
	cr_assert_eq(gf_csvtab_col(&t, "value"), 1);
	cr_assert_eq(gf_csvtab_col(&t, "nope"), -1);
	cr_assert_eq(gf_csvtab_next(&t, &got, err, sizeof(err)), GF_OK);
	cr_assert(got);
	cr_assert_eq(t.line, 5);
	cr_assert_str_eq(gf_csvtab_get(&t, 0), "x");
	cr_assert_eq(gf_csvtab_num(&t, 1, &v, err, sizeof(err)), GF_OK);
	cr_assert_float_eq(v, 1.5, 1e-15);
	cr_assert_str_eq(gf_csvtab_get(&t, 2), "", "a short row reads as empty");
	cr_assert_eq(gf_csvtab_next(&t, &got, err, sizeof(err)), GF_OK);
	cr_assert(got);
	cr_assert_str_eq(gf_csvtab_get(&t, 1), "2", "the last line needs no newline");
	cr_assert_eq(gf_csvtab_next(&t, &got, err, sizeof(err)), GF_OK);
	cr_assert_not(got);
}

Test(csvtab, header_errors)
{
	char dup[] = "a,b,A\n", empty[] = "a,,c\n", wide[200];
	struct gf_csvtab t;

	cr_assert_eq(gf_csvtab_open(&t, "t.csv", dup, strlen(dup), err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "t.csv:1: column 'A' appears twice");
	cr_assert_eq(gf_csvtab_open(&t, "t.csv", empty, strlen(empty), err, sizeof(err)),
	             GF_EPARSE);
	cr_assert_str_eq(err, "t.csv:1: header field 2 is empty");
	memset(wide, 'a', sizeof(wide));
	for (size_t i = 1; i < sizeof(wide) - 1; i += 2)
		wide[i] = ',';
	wide[sizeof(wide) - 1] = '\0';
	cr_assert_eq(gf_csvtab_open(&t, "t.csv", wide, strlen(wide), err, sizeof(err)), GF_EPARSE);
	cr_assert_str_eq(err, "t.csv:1: more than 32 fields");
}

Test(csvtab, decimals)
{
	double v = 0;

	cr_assert(gf_csvtab_decimal("+0.036000", &v));
	cr_assert_float_eq(v, 0.036, 1e-15);
	cr_assert(gf_csvtab_decimal("-1e-3", &v));
	cr_assert_not(gf_csvtab_decimal("inf", &v));
	cr_assert_not(gf_csvtab_decimal("0x10", &v));
	cr_assert_not(gf_csvtab_decimal(" 1", &v));
	cr_assert_not(gf_csvtab_decimal("1e999", &v));
	cr_assert_not(gf_csvtab_decimal("", &v));
	cr_assert_not(gf_csvtab_decimal("-", &v));
}

/* --- linecode ------------------------------------------------------------------- */

Test(linecode, phase_impedance_from_sequences)
{
	double complex z[3][3];

	/* Z1 = 1 + 1j, Z0 = 4 + 2j: Zs = (2 + 2j + 4 + 2j) / 3, Zm = (3 + 1j) / 3. */
	gf_linecode_phase_z(1, 1, 4, 2, z);
	cr_assert(cabs(z[1][1] - CMPLX(2, 4.0 / 3)) < 1e-15);
	cr_assert(cabs(z[0][1] - CMPLX(1, 1.0 / 3)) < 1e-15);
	/* Positive sequence seen through it: Zs - Zm = Z1; zero: Zs + 2 Zm = Z0. */
	cr_assert(cabs(z[0][0] - z[0][1] - CMPLX(1, 1)) < 1e-15);
	cr_assert(cabs(z[0][0] + 2.0 * z[0][1] - CMPLX(4, 2)) < 1e-15);
}

Test(linecode, ratings_of_the_ieee_cables)
{
	static const struct {
		const char *name;
		double r1, amps;
	} c[] = {
	    {"4c_70", 0.446, 130},        /* 70 mm2 Al, 3 loaded */
	    {"4c_185", 0.166, 220},       /* 185 mm2 Al */
	    {"4c_95_SAC_XC", 0.322, 154}, /* 95 mm2 Al */
	    {"35_SAC_XSC", 0.868, 90},    /* 35 mm2 Al, no core count: 3 loaded */
	    {"4c_.06", 0.469, 115},       /* 0.06 in2 = 38.7 mm2 Cu, as 35 */
	    {"4c_.1", 0.274, 135},        /* 64.5 mm2 Cu, as 50 */
	    {"4c_.35", 0.089, 281},       /* 225.8 mm2 Cu, as 185 */
	    {"2c_16", 1.15, 91},          /* 16 mm2 Cu, 2 loaded */
	    {"2c_.0225", 1.257, 71},      /* 14.5 mm2 Cu, as 10 */
	    {"2c_.007", 3.97, 43},        /* 4.5 mm2 Cu, as 4 */
	};
	char basis[GF_LINECODE_BASIS_MAX];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		cr_expect_float_eq(gf_linecode_ampacity(c[i].name, c[i].r1, basis, sizeof(basis)),
		                   c[i].amps, 1e-12, "%s: %s", c[i].name, basis);
	cr_assert_float_eq(gf_linecode_ampacity("4c_70", 0.446, basis, sizeof(basis)), 130, 0);
	cr_assert_str_eq(basis, "70 mm2 Al as 70 mm2, 3 loaded");
	cr_assert_float_eq(gf_linecode_ampacity("D2", 0.3, basis, sizeof(basis)), 0, 0);
	cr_assert_str_eq(basis, "name gives no cable size");
	cr_assert_float_eq(gf_linecode_ampacity("2c_1", 18.0, basis, sizeof(basis)), 0, 0);
	cr_assert_float_eq(gf_linecode_ampacity("4c_70", 0, basis, sizeof(basis)), 0, 0);
	cr_assert_float_eq(gf_linecode_ampacity("9c_70", 0.446, basis, sizeof(basis)), 0, 0);
}

/* --- supply ---------------------------------------------------------------------- */

Test(feeder, supply_thevenin_by_hand)
{
	struct gf_supply s = {.src_kv = 11,
	                      .src_pu = 1.05,
	                      .isc3_a = 3000,
	                      .x1r1 = 4,
	                      .kva = 800,
	                      .kv_pri = 11,
	                      .kv_sec = 0.416,
	                      .r_pct = 0.4,
	                      .x_pct = 4};
	double zbase = 0.416 * 0.416 / 0.8; /* ohm */
	double z1 = 11000 / sqrt(3) / 3000 * (0.416 / 11) * (0.416 / 11);
	double complex zsrc = z1 * CMPLX(1, 4) / sqrt(17), ztx = CMPLX(0.004, 0.04) * zbase;

	cr_assert_eq(gf_supply_derive(&s, err, sizeof(err)), GF_OK, "%s", err);
	cr_assert_float_eq(s.v_base, 416 / sqrt(3), 1e-9);
	cr_assert(cabs(s.z_src - zsrc) < 1e-15);
	cr_assert(cabs(s.z_tx - ztx) < 1e-15);
	cr_assert(cabs(s.zth[0][0] - (ztx + zsrc * 2 / 3)) < 1e-15);
	cr_assert(cabs(s.zth[1][2] - (-zsrc / 3)) < 1e-15);
	/* 1.05 pu, phase A at -30 degrees, then -150 and +90. */
	cr_assert_float_eq(cabs(s.e[1]), 1.05 * 416 / sqrt(3), 1e-9);
	cr_assert_float_eq(carg(s.e[0]) * 180 / M_PI, -30, 1e-9);
	cr_assert_float_eq(carg(s.e[1]) * 180 / M_PI, -150, 1e-9);
	cr_assert_float_eq(carg(s.e[2]) * 180 / M_PI, 90, 1e-9);
}
