# SPDX-License-Identifier: MIT
"""A small run directory for gf-report (tests/integration/report_test.sh), and
the figures the report must print, computed here independently of it.

    report_run.py make DIR        writes DIR/sim.csv, DIR/state/{fman,doms}/*.db
    report_run.py expect DIR L    prints "name value" lines for limit L kW

Two prosumers over three UTC days: a complete history day 2026-06-01, a
complete trading day 2026-06-02, three intervals of 2026-06-03. On the
trading day sim-0002's base load is 2.25 kWh from 18:00 to 19:00 and its
washer's default (0.8 then 0.4 kWh) starts at 18:00; sim-0001's battery may
move 0.5 kWh either way per interval from 16:00 to 20:00, net zero. The
market moved the washer to 20:00 and left the battery idle. A canceled
offer with a large battery and a washer offer of the history day must not
count.
"""
import json
import sqlite3
import sys
import os
from datetime import datetime, timezone

HISTORY, TRADING, PARTIAL = 20605, 20606, 20607
BATTERY = (64, 16, 0.5)  # first slot, slices, kWh either way
WASHER = (72, 12, [0.8, 0.4])  # default slot, tf, amounts
MARKET_WASHER_START = 80


def iso(interval):
    return datetime.fromtimestamp(interval * 900, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def base(p, day, slot):
    if p == "sim-0002" and day == TRADING and 72 <= slot <= 75:
        return 2.25
    return 0.5


def washer_at(start, slot):
    k = slot - start
    return WASHER[2][k] if 0 <= k < len(WASHER[2]) else 0.0


def rows():
    """(interval, prosumer, base, device, scheduled, total, default)"""
    out = []
    for day, slots in ((HISTORY, range(96)), (TRADING, range(96)), (PARTIAL, range(3))):
        for slot in slots:
            t = day * 96 + slot
            for p in ("sim-0001", "sim-0002"):
                b = base(p, day, slot)
                dflt = dev = sched = 0.0
                if p == "sim-0002" and day == TRADING:
                    dflt = washer_at(WASHER[0], slot)
                    dev = sched = washer_at(MARKET_WASHER_START, slot)
                out.append((t, p, b, dev, sched, b + dev, dflt))
    return out


def offer(oid, label, who, start, tf, lower, upper, dflt, total=None):
    o = {
        "id": oid, "label": label, "state": "Offered", "creationInterval": start - 20,
        "offeredById": who, "acceptanceBeforeInterval": start - 1,
        "assignmentBeforeInterval": start - 1, "startAfterInterval": start,
        "startBeforeInterval": start + tf, "assignment": "obligatory",
        "numSecondsPerInterval": 900,
        "flexOfferProfileConstraints": [
            {"energyConstraintList": [{"lower": lo, "upper": hi}], "minDuration": 1,
             "maxDuration": 1} for lo, hi in zip(lower, upper)],
        "defaultSchedule": {"scheduleId": 0, "updateId": 0, "startTime": iso(start),
                            "scheduleSlices": [{"duration": 1, "energyAmount": d}
                                               for d in dflt]},
    }
    if total is not None:
        o["totalEnergyConstraint"] = {"lower": total, "upper": total}
    return json.dumps(o)


def make(d):
    os.makedirs(d + "/state/fman", exist_ok=True)
    os.makedirs(d + "/state/doms", exist_ok=True)
    with open(d + "/sim.csv", "w") as f:
        f.write("interval,prosumer,base_kwh,device_kwh,scheduled_kwh,total_kwh,default_kwh,"
                "start_time,state\n")
        for t, p, b, dev, sched, tot, dflt in rows():
            f.write("%d,%s,%.6f,%.6f,%.6f,%.6f,%.6f,%s,assigned\n"
                    % (t, p, b, dev, sched, tot, dflt, iso(t)))
    db = sqlite3.connect(d + "/state/fman/fman.db")
    db.execute("CREATE TABLE offers (pid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
               " foa TEXT NOT NULL, state TEXT NOT NULL, hash TEXT NOT NULL, version INTEGER"
               " NOT NULL, label TEXT, tariff_min REAL, tariff_max REAL, body TEXT NOT NULL,"
               " agg TEXT)")
    first, n, kwh = BATTERY
    t0 = TRADING * 96
    offers = [
        ("sim-0001-1", "Accepted", offer("sim-0001-1", "sim-0001.battery.1", "sim-0001",
                                         t0 + first, 0, [-kwh] * n, [kwh] * n, [0.0] * n, 0.0)),
        ("sim-0002-1", "Assigned", offer("sim-0002-1", "sim-0002.washer.1", "sim-0002",
                                         t0 + WASHER[0], WASHER[1], WASHER[2], WASHER[2],
                                         WASHER[2])),
        ("sim-0001-2", "Canceled", offer("sim-0001-2", "sim-0001.battery.2", "sim-0001",
                                         t0 + 60, 0, [-5.0] * 24, [5.0] * 24, [0.0] * 24,
                                         0.0)),
        ("sim-0002-0", "Assigned", offer("sim-0002-0", "sim-0002.washer.0", "sim-0002",
                                         HISTORY * 96 + 40, 4, WASHER[2], WASHER[2],
                                         WASHER[2])),
    ]
    for oid, state, body in offers:
        db.execute("INSERT INTO offers (id, foa, state, hash, version, label, body) VALUES"
                   " (?, ?, ?, 'h', 1, ?, ?)",
                   (oid, oid[:8], state, json.loads(body)["label"], body))
    db.execute("CREATE TABLE fman_settlement (offer_id TEXT, prosumer TEXT, window_start"
               " INTEGER, window_end INTEGER, requested_kwh REAL, delivered_kwh REAL,"
               " gain_eur REAL, imbalance_kwh REAL, fee_eur REAL)")
    for r in (("sim-0002-1", "sim-0002", t0 + 72, t0 + 74, 1.2, 1.2, 0.24, 0.0, 0.01),
              ("sim-0001-1", "sim-0001", t0 + 64, t0 + 80, 2.0, 0.0, 0.0, -2.0, 0.3),
              ("sim-0002-7", "sim-0002", t0 + 76, t0 + 77, 0.5, 0.4, 0.08, -0.1, 0.02)):
        db.execute("INSERT INTO fman_settlement VALUES (?,?,?,?,?,?,?,?,?)", r)
    db.commit()
    db.close()
    db = sqlite3.connect(d + "/state/doms/doms.db")
    db.execute("CREATE TABLE doms_forecast (grid TEXT, interval INTEGER, kwh REAL,"
               " issued_at INTEGER, PRIMARY KEY (grid, interval))")
    baseline = baselines(TRADING)
    for slot in range(96):
        t = TRADING * 96 + slot
        db.execute("INSERT INTO doms_forecast VALUES ('feeder', ?, ?, 0)",
                   (t, 1.1 * baseline[slot]))
        db.execute("INSERT INTO doms_forecast VALUES ('load-12', ?, 0.1, 0)", (t,))
        db.execute("INSERT INTO doms_forecast VALUES ('feeder', ?, 100.0, 0)",
                   (HISTORY * 96 + slot,))
    db.commit()
    db.close()


def per_slot(day, col):
    v = [0.0] * 96
    for r in rows():
        if r[0] // 96 == day:
            v[r[0] % 96] += col(r)
    return v


def baselines(day):
    return per_slot(day, lambda r: r[2] + r[6])


def overload(load, limit):
    return sum(max(0.0, x - limit) for x in load)


def optimum(day, limit):
    """Every washer start, the battery greedy: discharge what is over the
    limit (at most 0.5) in its window, recharge where there is room under the
    limit; exact for this instance (room to recharge is ample)."""
    fixed = baselines(day)
    for s in range(96):
        fixed[s] -= washer_at(WASHER[0], s)
    first, n, kwh = BATTERY
    best = None
    for start in range(WASHER[0], WASHER[0] + WASHER[1] + 1):
        load = [fixed[s] + washer_at(start, s) for s in range(96)]
        dis = [min(kwh, max(0.0, load[s] - limit)) if first <= s < first + n else 0.0
               for s in range(96)]
        room = sum(min(kwh, max(0.0, limit - load[s])) for s in range(first, first + n)
                   if dis[s] == 0)
        if sum(dis) > room + 1e-9:
            continue
        ov = overload([load[s] - dis[s] for s in range(96)], limit)
        best = ov if best is None else min(best, ov)
    return best


def expect(d, limit_kw):
    limit = limit_kw / 4
    b = baselines(TRADING)
    m = per_slot(TRADING, lambda r: r[5])
    f = [1.1 * x for x in b]
    ob, om, oo, of = overload(b, limit), overload(m, limit), optimum(TRADING, limit), \
        overload(f, limit)
    mape = 100 * sum(abs(x - y) / y for x, y in zip(f, b)) / 96
    print("baseline_overload %.1f" % ob)
    print("metered_overload %.1f" % om)
    print("optimum_overload %.1f" % oo)
    print("forecast_overload %.1f" % of)
    print("baseline_peak %.1f" % (4 * max(b)))
    print("metered_peak %.1f" % (4 * max(m)))
    print("baseline_over %d" % sum(x > limit + 1e-6 for x in b))
    print("metered_over %d" % sum(x > limit + 1e-6 for x in m))
    print("share %.1f" % (100 * (ob - om) / (ob - oo)))
    print("mape %.1f" % mape)
    print("peak_error %+.1f" % (4 * max(f) - 4 * max(b)))
    print("history_baseline_overload %.1f" % overload(baselines(HISTORY), limit))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        expect(sys.argv[2], float(sys.argv[3]))
