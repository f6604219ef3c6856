#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes a DMS meter export for the tests and what it must become:
#   meter_export.py OUT.csv EXPECTED.jsonl METERS START_LOCAL STEPS [ZONE]
# OUT.csv: the GOFLEX DMS form "<private id>",<local time>,<register kWh>
# for meters m01..mNN (private ids), every 15 minutes of wall-clock time
# from START_LOCAL ("YYYY-MM-DD HH:MM"), STEPS readings each, in time order.
# Across a DST fold the repeated wall-clock times are written twice, in
# order, as a DMS exports them. EXPECTED.jsonl: per reading the private id,
# the UTC instant (RFC 3339, Z) and the value, computed with zoneinfo.
import datetime as dt
import json
import sys
from zoneinfo import ZoneInfo

out, expected, meters, start, steps = sys.argv[1:6]
zone = ZoneInfo(sys.argv[6] if len(sys.argv) > 6 else "Europe/Nicosia")
meters, steps = int(meters), int(steps)
t0 = dt.datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
# Walk in UTC, so that a fold's hour comes twice in wall-clock time.
u0 = t0.astimezone(dt.timezone.utc)
with open(out, "w") as f, open(expected, "w") as e:
    for k in range(steps):
        u = u0 + dt.timedelta(minutes=15 * k)
        local = u.astimezone(zone)
        for m in range(1, meters + 1):
            pid = f"m{m:02d}"
            value = round(1000 * m + 0.25 * k + 0.001 * m * k, 4)
            f.write(f'"{pid}",{local.strftime("%Y-%m-%d %H:%M:%S")},{value:.4f}\n')
            e.write(json.dumps({"private": pid, "utc": u.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "value": value}) + "\n")
