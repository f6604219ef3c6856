#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""What sp_services_test.sh expects of gf-sp, computed here from the test's
data by the formulas of docs/sp.md (written again, independently of the C):

  sp_services_expect.py forecast LEVELS_JSON TEMPS_JSON FORECAST_TEMP
      LEVELS_JSON: per history day, per interval, the grid point's kWh
      ([[96 values], ...]); TEMPS_JSON: per history day its mean
      temperature; prints {"energy":[...],"lower":[...],"upper":[...],
      "factor":f}
  sp_services_expect.py capacity FORECAST_JSON LIMIT_KW PRICE PRICE_MAX KNEE_PCT MARGIN
      prints the capacity price per interval of the forecast
  sp_services_expect.py transfercost START_EPOCH N OFFSET_MIN
      prints the costs of the test's grid file (band t1 mon-fri
      07:00-22:00 0.085, band t1 * 00:00-24:00 0.045) per 900 s interval
"""
import json
import sys


def forecast(levels, temps, t_fc):
    days = len(levels)
    energy = [sum(d[i] for d in levels) / days for i in range(96)]
    lower = [min(d[i] for d in levels) for i in range(96)]
    upper = [max(d[i] for d in levels) for i in range(96)]
    e = [sum(d) for d in levels]
    k = len(e)
    mt, me = sum(temps) / k, sum(e) / k
    var = sum((t - mt) ** 2 for t in temps) / k
    factor = 1.0
    if k >= 3 and var >= 0.25 and me > 0:
        b = sum((t - mt) * (x - me) for t, x in zip(temps, e)) / k / var
        a = me - b * mt
        factor = min(2.0, max(0.5, (a + b * t_fc) / me))
    return {"energy": [x * factor for x in energy], "lower": [x * factor for x in lower],
            "upper": [x * factor for x in upper], "factor": factor}


def capacity(f, limit_kw, price, price_max, knee, margin):
    lim = limit_kw * 0.25
    out = []
    for x in f:
        req = x - knee / 100 * lim + margin
        out.append(0.0 if req <= 0 else price + (price_max - price) * min(1.0, req / lim))
    return out


def transfercost(start, n, offset_min):
    out = []
    for i in range(n):
        local = start + 900 * i + offset_min * 60
        day = local // 86400
        minute = (local % 86400) // 60
        weekday = (day + 4) % 7  # 1970-01-01 was a Thursday; 0 = Sunday
        peak = 1 <= weekday <= 5 and 7 * 60 <= minute < 22 * 60
        out.append(0.085 if peak else 0.045)
    return out


def dumps(x):
    return json.dumps(x, separators=(",", ":"))


def main():
    cmd = sys.argv[1]
    if cmd == "forecast":
        print(dumps(forecast(json.loads(sys.argv[2]), json.loads(sys.argv[3]),
                                  float(sys.argv[4]))))
    elif cmd == "capacity":
        print(dumps(capacity(json.loads(sys.argv[2]), *map(float, sys.argv[3:8]))))
    elif cmd == "transfercost":
        print(dumps(transfercost(*map(int, sys.argv[2:5]))))


if __name__ == "__main__":
    main()
