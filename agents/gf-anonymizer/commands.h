/* SPDX-License-Identifier: MIT */
/*
 * commands.h - the DMS-side commands, run without the bus:
 * - reverse: which private meter a pseudonym of the Service Platform's data
 *   stands for;
 * - pseudonyms: the pseudonym of each private meter of id_map, the list the
 *   DSO hands at enrolment to whoever must ask the SP about those meters
 *   (its own DOMS: which load of the feeder each pseudonym is; an
 *   aggregator: its own prosumers' meters).
 * Both recompute pseudonyms of id_map's classification ids with the
 * configured key; the key never leaves the DMS.
 */
#ifndef ANONYMIZER_COMMANDS_H
#define ANONYMIZER_COMMANDS_H

#include "anonymizer.h"

/* Runs argv[0] (reverse or pseudonyms) with its arguments. reverse
 * PSEUDONYM...: prints "pseudonym classification_id private_id" per
 * pseudonym found; 0 when every one was found, 1 when one was not (said on
 * stderr). pseudonyms [PRIVATE_ID...]: prints the CSV "private_id,pseudonym"
 * with a header, for the ids given or every id of id_map; 1 when an id is
 * not in id_map. 2 for a usage or configuration error. */
int anonymizer_commands_run(const struct anonymizer_conf *c, int argc, char **argv);

#endif
