/* SPDX-License-Identifier: MIT */
#include "offermsg.h"

#include <math.h>

#include "engine/fo_message.h"

enum gf_err sim_offermsg_build(const struct sim_prosumer *p, const struct sim_plan *pl,
                               const struct sim_tariff *tariff, Goflex__FlexOffer **out)
{
	const struct gf_fo e = {
	    .start_after = pl->start_after,
	    .tf = pl->tf,
	    .n = pl->n,
	    .lower = pl->lower,
	    .upper = pl->upper,
	    .dflt = pl->dflt,
	    .total_min = pl->total_min,
	    .total_max = pl->total_max,
	    .tariff_min = tariff ? tariff->min : NAN,
	    .tariff_max = tariff ? tariff->max : NAN,
	};
	const struct gf_fo_message_head h = {
	    .label = pl->label,
	    .offered_by = p->id,
	    .state = GOFLEX__FLEX_OFFER_STATE__Initial,
	    .creation = pl->creation,
	    .acceptance_before = pl->deadline,
	    .assignment_before = pl->deadline,
	    .device_form = true,
	};

	return gf_fo_to_message(&e, &h, out);
}
