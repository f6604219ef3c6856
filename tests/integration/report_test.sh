#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-report on a small run directory built by tests/integration/py/report_run.py
# (two prosumers, three UTC days, a battery and a washer offer at FMAN, a
# canceled offer and one of another day, the DOMS's forecast at two grid
# points, a settlement table): the day it picks, and every figure of the
# summary against the same figures computed in Python from the same rows
# (the optimum there by enumerating the washer's starts with the battery
# shaving greedily, not by an LP); the HTML's charts and settlement per
# prosumer; missing tables and databases; --day, --relax, bad arguments.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

REPORT=$BUILD/bin/gf-report
PY=/usr/bin/python3
RUN_PY=$(cd "$(dirname "$0")" && pwd)/py/report_run.py
[ -x "$REPORT" ] || { echo "no $REPORT (run make)"; exit 1; }
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT

run=$tmp/run
$PY "$RUN_PY" make "$run" || { echo "cannot make the run directory"; exit 1; }
$PY "$RUN_PY" expect "$run" 8 >"$tmp/expect"
want() { sed -n "s/^$1 //p" "$tmp/expect"; }

"$REPORT" --run "$run" --limit-kw 8 --html "$tmp/r.html" >"$tmp/out" 2>"$tmp/err"
check "gf-report exits 0" eq "$?" 0
out=$(cat "$tmp/out")
# curve NAME FIELD: the summary table's column (1 overload, 2 over, 3 peak).
curve() { awk -v n="$1" -v f="$2" '/^  / && $1 == n && NF >= 5 { print $(f + 1) }' <<<"$out"; }
check "it reports the last complete day (2026-06-02, day 2 of 3, 96 of 96)" \
	grep -q 'the trading day 2026-06-02 (UTC; day 2 of 3 in sim.csv), 96 of 96 intervals$' <<<"$out"
for c in baseline metered optimum forecast; do
	check "$c: overload $(want "${c}_overload") kWh" eq "$(curve "$c" 1)" "$(want "${c}_overload")"
done
check "baseline: peak and intervals over" \
	eq "$(curve baseline 3) $(curve baseline 2)" "$(want baseline_peak) $(want baseline_over)"
check "metered: peak and intervals over" \
	eq "$(curve metered 3) $(curve metered 2)" "$(want metered_peak) $(want metered_over)"
check "the share of the optimum's reduction: $(want share)% with the goal named" \
	grep -q "achieved by the market: $(want share)% (goal >= 80%: not met)" <<<"$out"
check "... and its formula with the figures" \
	grep -qF "= (baseline $(want baseline_overload) - metered $(want metered_overload)) / (baseline $(want baseline_overload) - optimum $(want optimum_overload)) kWh" <<<"$out"
check "forecast error: MAPE $(want mape)%, peak $(want peak_error) kW, the larger grid point" \
	eq "$(grep -cF "MAPE $(want mape)% over 96 intervals; peak" <<<"$out") $(grep -cF "($(want peak_error) kW); grid point feeder (the largest of 2)" <<<"$out")" "1 1"
check "the optimum: the MILP, optimal; the relaxation the same here" \
	grep -qE "^optimum: MILP over the start choices \\(GLPK\\), optimal in [0-9.]+ s; LP relaxation $(want optimum_overload) kWh" <<<"$out"
check "... over the two offers of the day (not the canceled one, not the history day's)" \
	grep -q 'over 2 offers of 2 prosumers at FMAN (1 battery, 0 EV, 1 washer' <<<"$out"
check "the settlement's totals" \
	grep -q 'settlement: 3 rows, requested_kwh 3.70, delivered_kwh 1.60, gain_eur 0.32, imbalance_kwh -2.10, fee_eur 0.33' <<<"$out"
check "the per-interval table has the four curves at 18:00" \
	grep -qE '^18:00 +3\.55 +3\.9[01] +2\.25 +2\.75 +2\.00 ' <<<"$out"
check "nothing on stderr" eq "$(cat "$tmp/err")" ""

html=$(cat "$tmp/r.html")
check "HTML: two charts, each wide and narrow" eq "$(grep -c "<div class='chart" <<<"$html")" 4
check "HTML: the four curves and the limit in the load chart's legend" \
	eq "$(grep -cE '>(baseline \(devices on their defaults\)|DOMS forecast|optimum|metered|transformer limit)</span>' <<<"$html")" 5
check "HTML: the share" grep -q '<b>37.5%</b>' <<<"$html"
check "HTML: settlement per prosumer (sim-0002: 2 rows, 1.600 kWh delivered)" \
	grep -q "<tr><td>sim-0002</td><td class='num'>2</td><td class='num'>1.700</td><td class='num'>1.600</td>" <<<"$html"
check "HTML: the totals row" grep -q "<tr class='total'><td>all</td><td class='num'>3</td>" <<<"$html"

out=$("$REPORT" --run "$run" --limit-kw 8 --relax)
check "--relax: the LP relaxation" \
	grep -qE "^optimum: LP relaxation of the start choices \\(GLPK\\), relaxed in" <<<"$out"
out=$("$REPORT" --run "$run" --limit-kw 8 --day 2026-06-01)
check "--day 2026-06-01: the history day, with its own overload" eq \
	"$(grep -c 'the trading day 2026-06-01 (UTC; day 1 of 3' <<<"$out") $(awk '/^  / && $1 == "baseline" && NF >= 5 { print $2 }' <<<"$out")" \
	"1 $(want history_baseline_overload)"
out=$("$REPORT" --run "$run" --limit-kw 8 --day 2026-06-09 2>&1)
check "--day of a day without rows: exit 1" eq "$? $(grep -c 'no rows of that day' <<<"$out")" "1 1"
"$REPORT" --run "$run" --limit-kw 8 --day 2026-13-01 >/dev/null 2>&1
check "--day that is not a date: exit 2" eq "$?" 2

# Without the forecast and the settlement (their tables are another
# agent's, and may not be there yet).
sqlite3 "$run/state/doms/doms.db" 'DROP TABLE doms_forecast'
sqlite3 "$run/state/fman/fman.db" 'DROP TABLE fman_settlement'
out=$("$REPORT" --run "$run" --limit-kw 8 --html "$tmp/r2.html")
check "no doms_forecast: 'forecast: not recorded', exit 0" \
	eq "$? $(grep -c 'forecast: not recorded' <<<"$out") $(grep -c '^  forecast  not recorded' <<<"$out")" "0 1 1"
check "no fman_settlement: 'no settlement recorded'" grep -q 'settlement: no settlement recorded' <<<"$out"
check "... and in the HTML" grep -q 'No settlement recorded' "$tmp/r2.html"
check "... the share is still there" grep -q "achieved by the market: $(want share)%" <<<"$out"

# Without fman.db: no offers, the optimum is the baseline.
rm -f "$run/state/fman/fman.db"
out=$("$REPORT" --run "$run" --limit-kw 8)
check "no fman.db: the optimum is the baseline, the share n/a" \
	eq "$(awk '/^  / && $1 == "optimum" && NF >= 5 { print $2 }' <<<"$out") $(grep -c 'market: n/a' <<<"$out")" \
	"$(want baseline_overload) 1"

# The demo of one day: sim.csv from 00:30 of one day to 00:30 of the next.
# The day with the most intervals is reported and said to be incomplete.
awk -F, 'NR == 1 || ($1 >= 20605 * 96 + 2 && $1 < 20606 * 96 + 2)' "$run/sim.csv" >"$tmp/one.csv"
mv "$tmp/one.csv" "$run/sim.csv"
out=$("$REPORT" --run "$run" --limit-kw 8)
check "one incomplete day: that day, said so" \
	grep -q 'the trading day 2026-06-01 (UTC; day 1 of 2 in sim.csv), 94 of 96 intervals (not a complete day)' <<<"$out"

finish
