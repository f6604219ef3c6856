/* SPDX-License-Identifier: MIT */
/*
 * topology.h - the feeder's topology to the Service Platform, sealed and
 * pseudonymous (grid.topology on the anon row dms -> sp; docs/anonymizer.md,
 * "Topology").
 *
 * The network is topology_dir (the IEEE European LV form, read with
 * lib/grid's loader); topology_meters says which load each private meter
 * is ("<load>,<private_id>" lines, lib/meter/metermap.h). The document
 * names the grid point (grid_point_id), and per metered load only its
 * pseudonym (the readings' deviceId, as loadId and deviceId), its phase and
 * an opaque bus id: no bus names, coordinates, lines, ratings or unmetered
 * loads. A revision is published when the document's content differs from
 * the last one committed (its FNV-1a in anon_state): revision = max(last +
 * 1, the real clock's seconds), committed with the sealed message in the
 * outbox in one transaction, so it is sent until acknowledged and never
 * twice for the same content, also across restarts.
 */
#ifndef ANONYMIZER_TOPOLOGY_H
#define ANONYMIZER_TOPOLOGY_H

#include <stddef.h>

#include "anonymizer.h"

/* Reads and checks topology_dir and topology_meters against id_map (before
 * the bus): GF_EINVAL (grid_point_id missing or malformed, a load not in
 * the network, a meter not in id_map), the loader's errors; err names the
 * key and file. GF_OK at once without topology_dir. */
enum gf_err anonymizer_topology_check(struct anonymizer *an, char *err, size_t errlen);

/* After the store is open: the topic, then a new revision if the content
 * changed since the last committed one. GF_EIO, GF_ENOMEM, err set. */
enum gf_err anonymizer_topology_start(struct anonymizer *an, char *err, size_t errlen);

/* From the poll: when a file of the network or the meter list changed
 * (inode, size, mtime), reads it again and publishes a new revision if the
 * document changed. A file that does not read is logged and the last
 * revision stays. */
void anonymizer_topology_poll(struct anonymizer *an);

#endif
