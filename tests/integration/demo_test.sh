#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The trading loop end to end (issue 5's end-to-end cycle) through `make
# demo`'s script: the 55 IEEE feeder prosumers, one simulated day in 150 s,
# every agent over TLS through the broker with the plugin. A DOMS bid ->
# bid offer -> prosumers' offers -> aggregation -> clearing -> assignment ->
# schedule at the xEMS -> the devices follow -> the meter shows the
# requested change. Checked from the agents' own records (gf-report) and
# logs; then that the script stopped everything it started.
# lane: long (a whole simulated day; tests/run-integration.sh runs it beside the rest)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

DEMO=$top/ops/demo/gf-demo
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT

out=$("$DEMO" --prosumers 0 2>&1); rc=$?
check "--prosumers 0 is refused (exit 2)" eq "$rc $(grep -c 'at least 1' <<<"$out")" "2 1"
out=$("$DEMO" --bogus 2>&1); rc=$?
check "an unknown option is refused (exit 2)" eq "$rc $(grep -c 'unknown option --bogus' <<<"$out")" "2 1"
check "--help says what it does" grep -q -- '--day-seconds' <<<"$("$DEMO" --help)"

# The feeder with the devices on their defaults peaks near 100 kW in the
# evening against the default 36 kW limit; batteries, EVs and white goods
# can give way.
BUILD=$BUILD "$DEMO" --day-seconds 150 --out "$tmp/demo" \
	>"$tmp/demo.out" 2>&1
rc=$?
check "the demo runs to its end (exit 0)" eq "$rc" 0
[ $rc -eq 0 ] || tail -100 "$tmp/demo.out" | sed 's/^/# /'
sum() { sed -n "s/^  $1.*/&/p" "$tmp/demo.out"; }
num() { sum "$1" | grep -oE "$2" | grep -oE '[0-9.]+' | head -1; }
bids=$(num 'bids:' 'bids: [0-9]+')
asked=$(num 'bids:' 'asking [0-9.]+')
offers=$(num 'offers:' 'offers: [0-9]+')
assigned=$(num 'offers:' '\([0-9]+ assigned')
cleared=$(num 'cleared:' 'cleared: [0-9.]+')
delivered=$(num 'delivered' 'bid intervals: -?[0-9.]+')
echo "# bids $bids asking $asked kWh; offers $offers, $assigned assigned; cleared $cleared; delivered $delivered"
check "DOMS bid for the congested evening" [ "${bids:-0}" -ge 1 ]
check "the prosumers' offers reached FMAN" [ "${offers:-0}" -ge 55 ]
check "the market cleared part of the request" awk -v c="${cleared:-0}" 'BEGIN { exit !(c > 0) }'
check "... and assigned member schedules through FMAN" [ "${assigned:-0}" -ge 1 ]
# What the market cleared is what the meters show in the bid's intervals:
# the day-ahead bid's headroom (docs/doms.md) lets the moved energy land
# outside the congested intervals instead of in them (measured: 182.9 of
# 183.8 kWh; before the headroom 35 of 117).
check "the meters show what was cleared delivered in the bid intervals (within 5%)" \
	awk -v c="${cleared:-0}" -v d="${delivered:-0}" 'BEGIN { exit !(c > 0 && d >= 0.95 * c && d <= 1.05 * c) }'
check "FMAN refused no assignment (GF-FMAN-ASSIGN-REFUSE)" \
	eval '! grep -q GF-FMAN-ASSIGN-REFUSE "$tmp/demo/run/fman.log"'
check "the schedules reached the xEMSs (GF-SIM-SCHEDULE)" \
	grep -q GF-SIM-SCHEDULE "$tmp/demo/run/sim.log"
check "DOMS got its feedback (GF-DOMS-FEEDBACK ... Assigned)" \
	grep -q 'GF-DOMS-FEEDBACK.*Assigned' "$tmp/demo/run/doms.log"
# The DSO's meter data path (issue 12): every meter row gf-sim exported is
# at the SP, as much energy as the meters saw, under 55 pseudonyms.
sp_line=$(sum 'meter data at the SP')
echo "#${sp_line}"
rows_at_sp=$(grep -oE 'in the day [0-9]+ of [0-9]+' <<<"$sp_line")
check "the SP stored every exported meter row (${rows_at_sp:-none})" \
	eval '[ -n "$rows_at_sp" ] && [ "$(cut -d" " -f4 <<<"$rows_at_sp")" = "$(cut -d" " -f6 <<<"$rows_at_sp")" ] && [ "$(cut -d" " -f4 <<<"$rows_at_sp")" -gt 0 ]'
check "... of 55 pseudonymous meters, the meters' energy" \
	eval 'grep -q "of 55 pseudonymous meters" <<<"$sp_line" && [ "$(grep -oE "[0-9.]+ kWh \(the meters: [0-9.]+" <<<"$sp_line" | awk "{ print (\$1 == \$5) }")" = 1 ]'
# The Service Platform's services from recorded files (issue 14 item 3):
# gf-ingest -> gf-sp -> price.reference to gf-fmar, weather.forecast out,
# t1's transfercost to the FOAs, which put it on their offers.
svc=$(grep -oE 'services: .*' "$tmp/demo.out")
echo "# ${svc:-no services line}"
svc_n() { grep -oE "$1" <<<"$svc" | grep -oE '^[0-9]+' | head -1; }
check "gf-ingest's recorded prices and weather reached gf-sp" \
	eval '[ "$(svc_n "[0-9]+ day-ahead prices")" -gt 0 ] && [ "$(svc_n "[0-9]+ weather intervals")" -gt 0 ]'
check "gf-fmar kept gf-sp's price.reference" eval '[ "$(svc_n "[0-9]+ reference prices")" -gt 0 ]'
check "the FOAs kept t1's transfercost and priced offers with it" \
	eval '[ "$(svc_n "[0-9]+ of [0-9]+ FOAs kept")" -gt 0 ] && [ "$(svc_n "[0-9]+ offers priced")" -gt 0 ]'
# gf-anonymizer's grid.topology gives gf-sp t1's 55 meters (so the capacity
# price is refused only for want of the grid file's capacity line, which
# the demo adds with --capacity-price: docs/demo.md).
check "gf-sp stored t1's topology from gf-anonymizer, 55 meters" \
	grep -q "GF-SP-TOPOLOGY grid point t1: revision [0-9]* from dms.a1 stored, 55 meters" "$tmp/demo/run/sp.log"
check "... the capacity price asked and refused: no capacity line in the grid file" \
	eval '[ "$(svc_n "[0-9]+ refused")" -gt 0 ] && grep -q "no capacity line in the grid file" "$tmp/demo/run/fman.log"'
check "the per-interval table is printed" grep -qE '^18:00 +[0-9.]+ ' "$tmp/demo.out"
check "the HTML report has its two plots (each wide and narrow)" \
	[ "$(grep -c "<div class='chart" "$tmp/demo/report.html")" = 4 ]
# The outcome (issue 13 item 5): the four curves and the share of the
# optimum's overload reduction the market achieved.
for c in baseline optimum metered; do
	check "the summary has the $c's overload, intervals over and peak" \
		grep -qE "^  $c +[0-9.]+ +[0-9]+ +[0-9.]+ +[0-9.]+" "$tmp/demo.out"
done
check "the optimum was solved (GLPK)" grep -qE '^optimum: .* \(GLPK\), (optimal|feasible)' "$tmp/demo.out"
check "the share of the optimum's reduction, the goal named" \
	grep -qE "achieved by the market: (-?[0-9.]+% \(goal >= 80%: (met|not met)\)|n/a)" "$tmp/demo.out"
# The goal is 80% (measured 90.7% with make demo's 180 s day); a shorter,
# busier day on a loaded machine can cost some aggregates their clearing,
# so this guards the outcome at half the optimum's reduction.
share=$(grep -oE "achieved by the market: -?[0-9.]+%" "$tmp/demo.out" | grep -oE -- '-?[0-9.]+')
echo "# share of the optimum's overload reduction achieved: ${share:-none}%"
check "the market achieved at least half the optimum's overload reduction (${share:-none}%)" \
	awk -v s="${share:-x}" 'BEGIN { exit !(s != "x" && s >= 50) }'
check "nothing refused by the broker on the way (GF-BUS-REFUSED)" \
	eq "$(cat "$tmp/demo/run/"*.log | grep -c GF-BUS-REFUSED)" 0
check "every process it started is gone" eq "$(pgrep -f "$tmp/demo/run" | wc -l)" 0
if [ "$failed" -gt 0 ]; then # what the market and DOMS did, for the record
	grep -h 'GF-DOMS-BID\|GF-FMAR-CLEARED\|GF-FMAR-REFUSED\|gf-report' "$tmp/demo/run/"*.log \
		"$tmp/demo.out" 2>/dev/null | head -20 | sed 's/^/# /'
fi

finish
