/* SPDX-License-Identifier: MIT */
/*
 * Bus FlexOffers into the engine (lib/engine/fo_message.c): the three real pilot
 * offers convert, aggregate and disaggregate; variable-duration slices are
 * refused with a reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "engine/aggregate.h"
#include "payload/codec.h"
#include "engine/fo_message.h"
#include "payload/schema.h"

#define SAMPLES "../shared/fixtures/goflex-samples/"

static Goflex__FlexOffer *decode(const char *json)
{
	ProtobufCMessage *m = NULL;
	char err[256];

	cr_assert_eq(gf_codec_from_json(gf_schema_find("flexoffer", 9), json, strlen(json), &m, err,
	                                sizeof(err)),
	             GF_OK, "%s", err);
	return (Goflex__FlexOffer *)m;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

Test(fo_message, the_pilot_offers_aggregate_and_disaggregate)
{
	/* Swiss first: its startAfter is the grid's origin. */
	static const char *const files[] = {SAMPLES "SampleFO_Swiss.json",
	                                    SAMPLES "SampleFO_Cyprus.json",
	                                    SAMPLES "SampleFO_SWW.json"};
	struct gf_fo_set set;
	struct gf_aggregate agg = {0};
	double lower[8], upper[8], dflt[8];
	char err[256];

	cr_assert_eq(gf_fo_set_init(&set, 3, 24), GF_OK);
	for (size_t i = 0; i < 3; i++) {
		char *json = slurp(files[i]);
		Goflex__FlexOffer *m = decode(json);
		struct gf_fo fo;
		cr_assert_eq(gf_fo_from_message(m, &fo, lower, upper, dflt, 8, err, sizeof(err)),
		             GF_OK, "%s: %s", files[i], err);
		cr_assert_eq(fo.start_after, (int32_t)m->startafterinterval);
		cr_assert_eq(fo.tf, 0);
		cr_assert_eq(fo.n, 1);
		cr_assert_eq(lower[0],
		             m->flexofferprofileconstraints[0]->energyconstraintlist[0]->lower);
		cr_assert_eq(upper[0],
		             m->flexofferprofileconstraints[0]->energyconstraintlist[0]->upper);
		cr_assert_not_null(fo.dflt, "%s: the default schedule starts at startAfter",
		                   files[i]);
		cr_assert_eq(fo.tariff_min,
		             m->flexofferprofileconstraints[0]->tariffconstraint->mintariff);
		struct gf_fo_deadlines dl;
		cr_assert_eq(gf_fo_deadlines_from_message(m, &dl, err, sizeof(err)), GF_OK);
		cr_assert_eq(dl.acceptance_before, (int32_t)m->acceptancebeforeinterval);
		cr_assert_eq(dl.assignment_before, (int32_t)m->assignmentbeforeinterval);
		cr_assert_gt(dl.acceptance_before, 1758000, "%s: the sample's deadline", files[i]);
		cr_assert_eq(gf_fo_set_add_with_deadlines(&set, &fo, &dl), GF_OK);
		gf_codec_free(&m->base);
		free(json);
	}
	/* Swiss starts 20:00, Cyprus 20:30, SWW 09:30 (2020-02-27, UTC): with the
	 * grid's origin at Swiss, Cyprus falls in the same 20-interval cell and
	 * SWW in another, so two aggregates, one of them spanning 20:00-20:45. */
	cr_assert_eq(gf_aggregate_build(&set, &GF_AGGREGATE_FMAN, &agg), GF_OK);
	cr_assert_eq(agg.count, 2);
	cr_assert_eq(agg.tf_loss, 0);
	cr_assert_eq(agg.largest, 2);
	/* Deadlines: the aggregate's are the earliest of its members'. */
	for (size_t a = 0; a < agg.count; a++) {
		int32_t acc = GF_FO_NO_DEADLINE, asg = GF_FO_NO_DEADLINE;
		for (size_t j = agg.member_off[a]; j < agg.member_off[a + 1]; j++) {
			uint32_t o = agg.members[j];
			acc = set.acceptance_before[o] < acc ? set.acceptance_before[o] : acc;
			asg = set.assignment_before[o] < asg ? set.assignment_before[o] : asg;
		}
		cr_assert_eq(agg.acceptance_before[a], acc);
		cr_assert_eq(agg.assignment_before[a], asg);
		cr_assert_lt(acc, GF_FO_NO_DEADLINE);
	}
	for (size_t a = 0; a < agg.count; a++) {
		double x[16], amounts[24];
		int32_t starts[3];
		double sum_members;
		for (int32_t k = 0; k < agg.n[a]; k++) {
			size_t s = agg.slice_off[a] + (size_t)k;
			x[k] = (agg.lower[s] + agg.upper[s]) / 2;
		}
		cr_assert_eq(gf_aggregate_disaggregate(&agg, &set, a, agg.start_after[a], x, starts,
		                                       amounts),
		             GF_OK);
		/* Every member within its bounds, and the members sum to the aggregate. */
		for (int32_t k = 0; k < agg.n[a]; k++) {
			sum_members = 0;
			for (size_t j = agg.member_off[a]; j < agg.member_off[a + 1]; j++) {
				uint32_t o = agg.members[j];
				int32_t rel = starts[o] - agg.start_after[a];
				if (k - rel < 0 || k - rel >= set.n[o])
					continue;
				double v = amounts[set.slice_off[o] + (size_t)(k - rel)];
				cr_assert(v >=
				          set.lower[set.slice_off[o] + (size_t)(k - rel)] - 1e-12);
				cr_assert(v <=
				          set.upper[set.slice_off[o] + (size_t)(k - rel)] + 1e-12);
				sum_members += v;
			}
			cr_assert(fabs(sum_members - x[k]) <= 1e-9, "interval %d: %.17g vs %.17g",
			          k, sum_members, x[k]);
		}
	}
	gf_aggregate_free(&agg);
	gf_fo_set_free(&set);
}

Test(fo_message, variable_duration_slices_are_refused_with_a_reason)
{
	Goflex__FlexOffer *m =
	    decode("{\"state\":\"Offered\",\"offeredById\":\"x\",\"creationInterval\":100,"
	           "\"startAfterInterval\":101,\"startBeforeInterval\":104,"
	           "\"flexOfferProfileConstraints\":"
	           "[{\"energyConstraintList\":[{\"lower\":1,\"upper\":3}],\"minDuration\":1,"
	           "\"maxDuration\":2}]}");
	struct gf_fo fo = {0};
	double lower[4], upper[4];
	char err[256];

	cr_assert_eq(gf_fo_from_message(m, &fo, lower, upper, NULL, 4, err, sizeof(err)),
	             GF_EINVAL);
	cr_assert(strstr(err, "flexOfferProfileConstraints[0]: variable-duration slices"), "%s",
	          err);
	cr_assert_eq(fo.n, 0, "output untouched");
	gf_codec_free(&m->base);
}

Test(fo_message, deadlines_absent_or_out_of_range)
{
	Goflex__FlexOffer *m =
	    decode("{\"state\":\"Offered\",\"offeredById\":\"x\",\"creationInterval\":100,"
	           "\"startAfterInterval\":101,\"startBeforeInterval\":104,"
	           "\"flexOfferProfileConstraints\":"
	           "[{\"energyConstraintList\":[{\"lower\":1,\"upper\":3}],\"minDuration\":1,"
	           "\"maxDuration\":1}]}");
	struct gf_fo_deadlines dl = {1, 2};
	char err[256] = "";

	cr_assert_eq(gf_fo_deadlines_from_message(m, &dl, err, sizeof(err)), GF_OK);
	cr_assert_eq(dl.acceptance_before, GF_FO_NO_DEADLINE);
	cr_assert_eq(dl.assignment_before, GF_FO_NO_DEADLINE);
	m->has_assignmentbeforeinterval = 1;
	m->assignmentbeforeinterval = 99;
	cr_assert_eq(gf_fo_deadlines_from_message(m, &dl, err, sizeof(err)), GF_OK);
	cr_assert_eq(dl.assignment_before, 99);
	m->has_acceptancebeforeinterval = 1;
	m->acceptancebeforeinterval = (int64_t)INT32_MAX + 5;
	cr_assert_eq(gf_fo_deadlines_from_message(m, &dl, err, sizeof(err)), GF_EINVAL);
	cr_assert(strstr(err, "acceptanceBeforeInterval"), "%s", err);
	cr_assert_eq(dl.assignment_before, 99, "output untouched");
	gf_codec_free(&m->base);
}

/* --- gf_fo_to_message ------------------------------------------------------------ */

static char *to_json(const Goflex__FlexOffer *m)
{
	char *json = NULL;
	size_t len;

	cr_assert_eq(gf_codec_to_json(&m->base, &json, &len), GF_OK);
	return json;
}

static const double lo3[3] = {0, -1.5, 0.25}, hi3[3] = {1, 2, 0.5}, df3[3] = {0.5, 0, 0.3};

static struct gf_fo offer3(void)
{
	return (struct gf_fo){.start_after = 1900020,
	                      .tf = 4,
	                      .n = 3,
	                      .lower = lo3,
	                      .upper = hi3,
	                      .dflt = df3,
	                      .total_min = 0.5,
	                      .total_max = 2.5,
	                      .tariff_min = 0.1,
	                      .tariff_max = 0.3};
}

Test(fo_message, to_message_reads_back_as_the_same_offer)
{
	struct gf_fo e = offer3(), back = {0};
	struct gf_fo_message_head h = {.id = "a",
	                               .offered_by = "fman1",
	                               .state = GOFLEX__FLEX_OFFER_STATE__Offered,
	                               .creation = 1900000,
	                               .acceptance_before = 1900010,
	                               .assignment_before = GF_FO_NO_DEADLINE};
	struct gf_fo_deadlines dl;
	Goflex__FlexOffer *m = NULL;
	double lower[4], upper[4], dflt[4];
	char err[256] = "";

	for (int form = 0; form < 2; form++) {
		h.device_form = form;
		cr_assert_eq(gf_fo_to_message(&e, &h, &m), GF_OK);
		cr_assert_eq(gf_fo_from_message(m, &back, lower, upper, dflt, 4, err, sizeof(err)),
		             GF_OK, "%s", err);
		cr_assert_eq(back.start_after, e.start_after);
		cr_assert_eq(back.tf, e.tf);
		cr_assert_eq(back.n, e.n);
		cr_assert_not_null(back.dflt);
		for (int k = 0; k < 3; k++) {
			cr_assert_eq(lower[k], lo3[k]);
			cr_assert_eq(upper[k], hi3[k]);
			cr_assert_eq(dflt[k], df3[k]);
		}
		cr_assert_eq(back.total_min, 0.5);
		cr_assert_eq(back.total_max, 2.5);
		cr_assert_eq(back.tariff_min, 0.1);
		cr_assert_eq(back.tariff_max, 0.3);
		cr_assert_eq(gf_fo_deadlines_from_message(m, &dl, err, sizeof(err)), GF_OK);
		cr_assert_eq(dl.acceptance_before, 1900010);
		cr_assert_eq(dl.assignment_before, GF_FO_NO_DEADLINE);
		cr_assert_str_eq(m->id, "a");
		cr_assert_str_eq(m->offeredbyid, "fman1");
		gf_fo_message_free(m);
		m = NULL;
	}
}

/* The wire form, to the byte: what FMAN hashes and FMAR reads. */
Test(fo_message, to_message_intervals_only_form)
{
	struct gf_fo e = offer3();
	struct gf_fo_message_head h = {.id = "agg-1",
	                               .offered_by = "fman1",
	                               .state = GOFLEX__FLEX_OFFER_STATE__Offered,
	                               .creation = 1900000,
	                               .acceptance_before = GF_FO_NO_DEADLINE,
	                               .assignment_before = GF_FO_NO_DEADLINE};
	Goflex__FlexOffer *m = NULL;
	char *json;

	e.n = 1;
	e.tariff_min = NAN;
	cr_assert_eq(gf_fo_to_message(&e, &h, &m), GF_OK);
	json = to_json(m);
	cr_assert_str_eq(json,
	                 "{\"id\":\"agg-1\",\"state\":\"Offered\",\"creationInterval\":1900000,"
	                 "\"offeredById\":\"fman1\",\"startAfterInterval\":1900020,"
	                 "\"startBeforeInterval\":1900024,\"flexOfferProfileConstraints\":"
	                 "[{\"energyConstraintList\":[{\"lower\":0,\"upper\":1}],"
	                 "\"minDuration\":1,\"maxDuration\":1}],"
	                 "\"defaultSchedule\":{\"startTime\":\"2024-03-09T21:00:00Z\","
	                 "\"scheduleSlices\":[{\"duration\":1,\"energyAmount\":0.5}]},"
	                 "\"totalEnergyConstraint\":{\"lower\":0.5,\"upper\":2.5}}");
	free(json);
	gf_fo_message_free(m);
}

Test(fo_message, to_message_device_form)
{
	struct gf_fo e = offer3();
	struct gf_fo_message_head h = {.label = "p1-7",
	                               .offered_by = "sim.p1",
	                               .state = GOFLEX__FLEX_OFFER_STATE__Initial,
	                               .creation = 1900000,
	                               .acceptance_before = 1900010,
	                               .assignment_before = 1900010,
	                               .device_form = true};
	Goflex__FlexOffer *m = NULL;

	cr_assert_eq(gf_fo_to_message(&e, &h, &m), GF_OK);
	cr_assert_null(m->id);
	cr_assert_str_eq(m->label, "p1-7");
	cr_assert_str_eq(m->creationtime, "2024-03-09T16:00:00Z");
	cr_assert_str_eq(m->acceptancebeforetime, "2024-03-09T18:30:00Z");
	cr_assert_str_eq(m->assignmentbeforetime, "2024-03-09T18:30:00Z");
	cr_assert_str_eq(m->startaftertime, "2024-03-09T21:00:00Z");
	cr_assert_str_eq(m->startbeforetime, "2024-03-09T22:00:00Z");
	cr_assert(m->has_endafterinterval && m->has_endbeforeinterval);
	cr_assert_eq(m->endafterinterval, 1900023);
	cr_assert_eq(m->endbeforeinterval, 1900027);
	cr_assert_str_eq(m->endaftertime, "2024-03-09T21:45:00Z");
	cr_assert_str_eq(m->endbeforetime, "2024-03-09T22:45:00Z");
	cr_assert(m->has_numsecondsperinterval);
	cr_assert_eq(m->numsecondsperinterval, 900);
	cr_assert(m->has_assignment);
	cr_assert_eq(m->assignment, GOFLEX__FLEX_OFFER_ASSIGNMENT__obligatory);
	cr_assert_not_null(m->defaultschedule);
	cr_assert(m->defaultschedule->has_scheduleid && m->defaultschedule->has_updateid);
	cr_assert_str_eq(m->defaultschedule->starttime, "2024-03-09T21:00:00Z");
	gf_fo_message_free(m);
}

Test(fo_message, to_message_slice_tariffs_and_no_default)
{
	static const double tmin[3] = {0, -0.1, 0}, tmax[3] = {0.2, 0, 0.3};
	struct gf_fo e = offer3();
	struct gf_fo_message_head h = {.state = GOFLEX__FLEX_OFFER_STATE__Offered,
	                               .acceptance_before = GF_FO_NO_DEADLINE,
	                               .assignment_before = GF_FO_NO_DEADLINE,
	                               .slice_tariff_min = tmin,
	                               .slice_tariff_max = tmax};
	Goflex__FlexOffer *m = NULL;

	e.dflt = NULL;
	e.total_min = e.tariff_max = NAN;
	cr_assert_eq(gf_fo_to_message(&e, &h, &m), GF_OK);
	cr_assert_null(m->defaultschedule);
	cr_assert_null(m->totalenergyconstraint, "one bound only: none");
	cr_assert_null(m->flexoffertariffconstraint);
	cr_assert(!m->has_acceptancebeforeinterval && !m->has_assignmentbeforeinterval);
	cr_assert_eq(m->n_flexofferprofileconstraints, 3);
	for (size_t k = 0; k < 3; k++) {
		const Goflex__TariffConstraint *t =
		    m->flexofferprofileconstraints[k]->tariffconstraint;
		cr_assert_not_null(t);
		cr_assert_eq(t->mintariff, tmin[k]);
		cr_assert_eq(t->maxtariff, tmax[k]);
	}
	gf_fo_message_free(m);
}

Test(fo_message, to_message_times_beyond_year_9999)
{
	struct gf_fo e = offer3();
	struct gf_fo_message_head h = {.state = GOFLEX__FLEX_OFFER_STATE__Offered,
	                               .acceptance_before = GF_FO_NO_DEADLINE,
	                               .assignment_before = GF_FO_NO_DEADLINE};
	Goflex__FlexOffer *m = NULL;

	e.start_after = INT32_MAX - 100;
	cr_assert_eq(gf_fo_to_message(&e, &h, &m), GF_OK);
	cr_assert_null(m->defaultschedule, "no start time to give it");
	gf_fo_message_free(m);
	m = NULL;
	h.device_form = true;
	cr_assert_eq(gf_fo_to_message(&e, &h, &m), GF_ERANGE);
	cr_assert_null(m, "output untouched");
	gf_fo_message_free(NULL);
}
