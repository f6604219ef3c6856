#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Metered days for the validation and settlement tests (sp_validation_test.sh,
settle_test.sh): one meter's cumulative register (OBIS 1-0:1.8.0, kWh) read
every 15 minutes, as MeterReadings batches (one JSON document per line, the
form gf-anonymizer seals; sp_batches.py seals them with jwcrypto, gf-seal with
our code).

  settle_data.py meter --meter N --start T --days D [--level V] [--day K=V]...
                       [--set K:I0-I1=V]... [--first-step S] [--last-step S]
                       [--per P] [--key-id ID]
      meter N (pseudonym of sp_batches.py: base64url(SHA-256("meter-N"))),
      day 0 beginning at T (epoch seconds, a UTC midnight), D days: the energy
      of each interval is V (default 0.5 kWh), V of --day K for day K, V of
      --set for intervals I0..I1-1 of day K; reads at steps S = first..last
      (default 0 .. D * 96: every boundary, the last day complete)
  settle_data.py energy --start T --days D [same options] --from S --to E
      the energy of steps S..E-1 one per line (what the test expects)
"""
import argparse
import json
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from sp_batches import pseudonym, stamp  # noqa: E402


def energies(a):
    e = []
    day_level = {int(k): float(v) for k, v in (d.split("=") for d in a.day)}
    for day in range(a.days):
        level = day_level.get(day, a.level)
        e.extend([level] * 96)
    for s in a.set:
        where, v = s.split("=")
        day, span = where.split(":")
        i0, i1 = (int(x) for x in span.split("-"))
        for i in range(i0, i1):
            e[int(day) * 96 + i] = float(v)
    return e


def meter(a):
    e = energies(a)
    last = a.days * 96 if a.last_step is None else a.last_step
    out, total = [], 100.0
    for k in range(0, last + 1):
        if k >= a.first_step:
            out.append({"observedTimestamp": stamp(a.start + 900 * k),
                        "deviceId": pseudonym(a.meter), "value": round(total, 6),
                        "obis": "1-0:1.8.0", "unit": "kWh"})
        if k < len(e):
            total += e[k]
    for i in range(0, len(out), a.per):
        print(json.dumps({"pseudonymKeyId": a.key_id, "readings": out[i:i + a.per]},
                         separators=(",", ":")))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("meter", "energy"):
        m = sub.add_parser(name)
        m.add_argument("--meter", type=int, default=0)
        m.add_argument("--start", type=int, required=True)
        m.add_argument("--days", type=int, required=True)
        m.add_argument("--level", type=float, default=0.5)
        m.add_argument("--day", action="append", default=[])
        m.add_argument("--set", action="append", default=[])
        m.add_argument("--first-step", type=int, default=0)
        m.add_argument("--last-step", type=int, default=None)
        m.add_argument("--per", type=int, default=500)
        m.add_argument("--key-id", default="dso-k1")
        if name == "energy":
            m.add_argument("--from", dest="frm", type=int, required=True)
            m.add_argument("--to", type=int, required=True)
    a = p.parse_args()
    if a.cmd == "meter":
        meter(a)
    else:
        for v in energies(a)[a.frm:a.to]:
            print(v)


if __name__ == "__main__":
    main()
