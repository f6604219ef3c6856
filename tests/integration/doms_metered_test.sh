#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-doms sees the feeder through its meters (issue 13 items 1 to 3,
# docs/doms.md "Metered data"): a DMS export of 55 meters (the IEEE
# feeder's households, interval energy in Nicosia time) -> gf-anonymizer ->
# the broker with our plugin -> gf-sp -> meter.subscribe / meter.data ->
# gf-doms, and the DSO FOA played by gfctl. Yesterday is the history; today's
# first two hours come in at 1.5 times yesterday's. Checked against sums
# recomputed here from the export:
# - one grid.state per complete interval with the transformer's power;
# - today's forecast = yesterday's metered feeder, per interval;
# - bids per interval of the excess, priced by severity;
# - the intraday re-bid: the rest of the day forecast 1.5 times, the bids so
#   far topped up to the new excess from rebid_lead intervals on;
# - doms.config from the DMS lowers the limit: the new excess is bid;
# - a daily budget cuts the least severe intervals first;
# - a kill -9 and restart: nothing issued twice.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

DOMS=$BUILD/bin/gf-doms
ANON=$BUILD/bin/gf-anonymizer
SP=$BUILD/bin/gf-sp
GFCTL=$BUILD/bin/gfctl
PY=/usr/bin/python3
PROFILES=${PROFILES:-$top/../shared/data/ieee-eu-lv/load-profiles}
for b in "$DOMS" "$ANON" "$SP" "$GFCTL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done
[ -r "$PROFILES/Load_profile_55.csv" ] || { echo "no IEEE profiles in $PROFILES"; exit 1; }

agent_tmp
site_new "$S" site1
add_cert "$S" dms a1
add_cert "$S" sp sp1
add_password "$S" doms.o1 doms.o2 doms.o3 foa.d1 foa.d2 foa.d3 dms.a1
broker_start "$S" || { echo "broker did not start"; exit 1; }

ORIGIN=$(date +%s)
TODAY=$((1780358400 / 900)) # first interval of 2026-06-02 (UTC)
LIMIT_KW=30                 # 7.5 kWh per interval: under the evening peak
tls() { printf 'broker_host localhost\nbroker_port %s\ncafile %s\ncert %s\nkey %s\n' "$TLS_PORT" \
	"$S/pki/ca.crt" "$S/pki/clients/$1.$2.crt" "$S/pki/clients/$1.$2.key"; }
clock() { printf 'time_epoch 2026-06-02T00:05:00Z\ntime_origin %s\ntime_scale 60\n' "$ORIGIN"; }
q() { sqlite3 "$tmp/$1.state/doms.db" "$2"; }
# close A B: the lines "interval,value" of A and B name the same intervals
# with values within 1e-4 relative (the export is rounded to 1e-6 kWh, so a
# ratio of sums is 1.5 to about 1e-6).
close() {
	[ "$(wc -l <<<"$1")" -eq "$(wc -l <<<"$2")" ] &&
		paste -d, <(echo "$1") <(echo "$2") | awk -F, '{ d = $2 - $4; if (d < 0) d = -d; if ($1 != $3 || d > 1e-4 * ($4 > 1 ? $4 : 1)) bad++ } END { exit bad > 0 }'
}

# --- the DMS side: keys, the export, the enrolment list -------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/sp.key" 2>/dev/null
openssl pkey -in "$tmp/sp.key" -pubout -out "$tmp/sp.pub" 2>/dev/null
mkdir -p "$tmp/keys" "$tmp/in" "$tmp/sp" "$tmp/anon"
install -m 600 "$tmp/sp.key" "$tmp/keys/sp-1.pem"
(umask 077 && head -c 32 /dev/urandom >"$tmp/hmac.key")
{ echo "private_id,classification_id"
  for m in $(seq 1 55); do printf 'h%02d,7-PRE-%03d\n' "$m" "$m"; done; } >"$tmp/idmap.csv"
# Household m's interval energy: its IEEE profile (1-minute kW) summed to
# 15 minutes; yesterday as it is, today's first 8 intervals x 1.5. The
# export stamps each interval's end in Nicosia time, as a DMS does.
$PY - "$PROFILES" "$tmp/in/export.csv" "$tmp/expected.csv" <<'PYEOF'
import datetime as dt, sys
from zoneinfo import ZoneInfo
prof, out, exp = sys.argv[1:4]
tz = ZoneInfo("Europe/Nicosia")
day0 = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
kwh = {}
for m in range(1, 56):
    rows = [float(l.split(",")[1]) for l in open(f"{prof}/Load_profile_{m}.csv")]
    kwh[m] = [sum(rows[15 * i:15 * i + 15]) / 60 for i in range(96)]
with open(out, "w") as f, open(exp, "w") as e:
    for i in range(96 + 8):
        end = (day0 + dt.timedelta(minutes=15 * (i + 1))).astimezone(tz)
        k = 1.5 if i >= 96 else 1.0
        tot = 0
        for m in range(1, 56):
            v = round(kwh[m][i % 96] * k, 6)
            tot += v
            f.write(f'"h{m:02d}",{end.strftime("%Y-%m-%d %H:%M:%S")},{v:.6f}\n')
        e.write(f"{i},{tot:.6f}\n")
PYEOF
{ echo "site site1"; tls dms a1; echo "state_dir $tmp/anon"; echo "input_dir $tmp/in"
  echo "id_map $tmp/idmap.csv"; echo "hmac_key_file $tmp/hmac.key"; echo "hmac_key_id dso-1"
  echo "sp_public_key $tmp/sp.pub"; echo "sp_kid sp-1"; echo "sp_id sp1"; echo "value_kind interval"
  echo "timezone Europe/Nicosia"; } >"$tmp/anon.conf"
# The DOMS's meter_map: household hNN is the feeder's LOADNN.
"$ANON" -c "$tmp/anon.conf" pseudonyms >"$tmp/enrol.csv" || { echo "pseudonyms failed"; exit 1; }
{ echo "load,pseudonym"; awk -F, 'NR > 1 { sub(/^h0?/, "", $1); print "LOAD" $1 "," $2 }' "$tmp/enrol.csv"; } >"$tmp/meter_map.csv"
check "the enrolment list gives the DOMS 55 meters" eq "$(($(wc -l <"$tmp/meter_map.csv") - 1))" 55

{ echo "site site1"; tls sp sp1; echo "state_dir $tmp/sp"; echo "key_dir $tmp/keys"
  clock; } >"$tmp/sp.conf"
"$SP" -c "$tmp/sp.conf" >>"$tmp/sp.log" 2>&1 &
pids+=($!)
# Subscribed, not only connected: its session is new, and the readings are
# sent once.
wait_for 10 grep -q GF-BUS-SUBSCRIBED "$tmp/sp.log" || echo "# gf-sp did not subscribe"
"$ANON" -c "$tmp/anon.conf" --once >"$tmp/anon.out" 2>>"$tmp/anon.log"
check "the anonymizer sent the 5,720 readings" grep -q "^rows read 5720, sent 5720" "$tmp/anon.out"

# --- the DOMS --------------------------------------------------------------------------
"$GFCTL" --port "$LOCAL_PORT" --id foa.d1 -v sub "gf/site1/doms/o1/foa/d1/#" >"$tmp/d1.out" 2>"$tmp/d1.err" &
pids+=($!)
wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/d1.err"
doms_conf() { # NAME DSO_FOA KEY VALUE...
	local name=$1 foa=$2; shift 2
	mkdir -p "$tmp/$name.state"
	{ echo "site site1"; echo "broker_port $LOCAL_PORT"; echo "identity doms.$name"
	  echo "state_dir $tmp/$name.state"; clock
	  echo "dso_foa $foa"; echo "transformer_limit_kw $LIMIT_KW"; echo "sp_id sp1"
	  echo "meter_map $tmp/meter_map.csv"; echo "history_days 7"
	  echo "price_eur_kwh 0.1"; echo "price_max_eur_kwh 0.5"; echo "resend_s 0"
	  while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done; } >"$tmp/$name.conf"
}
NETWORK=${NETWORK:-$top/../shared/data/ieee-eu-lv/network}
REFERENCE=${REFERENCE:-$top/../shared/data/ieee-eu-lv/reference}
doms_conf o1 d1 network_dir "$NETWORK"
out=$("$DOMS" -c "$tmp/o1.conf" -n 2>&1); rc=$?
check "-n: the configuration is OK" eq "$rc" 0
sed 's/^sp_id .*//' "$tmp/o1.conf" >"$tmp/bad.conf"
out=$("$DOMS" -c "$tmp/bad.conf" -n 2>&1); rc=$?
check "meter_map without sp_id: exit 2 and why" eval '[ $rc -eq 2 ] && grep -q "needs both sp_id and meter_map" <<<"$out"'
"$DOMS" -c "$tmp/o1.conf" -v >>"$tmp/o1.log" 2>&1 &
pid_o1=$!; pids+=($pid_o1)
# A second DOMS with the day-ahead bid's headroom (checked below): it
# starts now, while today's history is still what its window needs.
"$GFCTL" --port "$LOCAL_PORT" --id foa.d3 -v sub "gf/site1/doms/o3/foa/d3/#" >"$tmp/d3.out" 2>"$tmp/d3.err" &
pids+=($!)
wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/d3.err"
doms_conf o3 d3 bid_headroom on rebid_window 0
"$DOMS" -c "$tmp/o3.conf" -v >>"$tmp/o3.log" 2>&1 &
pids+=($!)
wait_for 30 eval '[ "$(q o1 "SELECT count(*) FROM doms_metered")" -ge 104 ]'
check "every interval of the 55 meters is in: 96 of yesterday, 8 of today" \
	eq "$(q o1 "SELECT count(*) FROM doms_metered")" 104
got=$(q o1 "SELECT interval - $TODAY + 96, printf('%.6f', kwh) FROM doms_metered ORDER BY interval" | tr '|' ,)
check "... each the sum of the export's 55 values" eq "$got" "$(cat "$tmp/expected.csv")"
wait_for 10 eval '[ "$(jq -c "select(.msg == \"grid.state\")" "$tmp/d1.out" | wc -l)" -ge 104 ]'
check "one grid.state per metered interval to the DSO FOA" \
	eq "$(jq -r 'select(.msg == "grid.state") | .payload.observedTime' "$tmp/d1.out" | sort -u | wc -l)" 104
kw=$(jq -r 'select(.msg == "grid.state" and .payload.observedTime == "2026-06-01T18:00:00Z") | .payload.values[] | select(.variableId == "t1.transformer.power") | .value' "$tmp/d1.out" | head -1)
want=$(awk -F, '$1 == 71 { printf "%.3f", $2 * 4 }' "$tmp/expected.csv")
check "... the transformer's power at 17:45-18:00 is 4 x its kWh ($want kW)" eq "$(printf '%.3f' "$kw")" "$want"

# With network_dir, a power flow per interval. The OpenDSS reference solved
# the same feeder with the same profiles minute by minute (hour, second of
# the hour; row 0,60 is the first minute). A 15-minute mean load loses what
# the minutes' peaks add to the lines' I^2 R (measured here: OpenDSS's mean
# over 18:00-18:15 is 43.06 kVA, of loads drawing 39.52 kW), so the DOMS's
# transformer kVA must lie between the loads' own (kW / 0.95, no loss) and
# OpenDSS's mean; tests/tools/gf-powerflow checks the solver minute by minute.
st=$(jq -c 'select(.msg == "grid.state" and .payload.observedTime == "2026-06-01T18:15:00Z") | [.payload.values[] | {(.variableId): .value}] | add' "$tmp/d1.out" | head -1)
check "grid.state with the power flow: transformer loading, voltages, lines" \
	eval 'jq -e "has(\"t1.transformer.loading\") and has(\"t1.voltage.min\") and has(\"t1.voltage.max\") and has(\"t1.line.loading\")" <<<"$st" >/dev/null'
ref_kva=$(tr -d '\r' <"$REFERENCE/opendss-transformer-secondary-powers-24h.csv" | awk -F, 'NR > 1 && $1 * 3600 + $2 > 18 * 3600 && $1 * 3600 + $2 <= 18.25 * 3600 { s += sqrt($3^2 + $4^2) + sqrt($5^2 + $6^2) + sqrt($7^2 + $8^2); n++ } END { printf "%.4f", s / n }')
load_kva=$(awk -F, '$1 == 72 { printf "%.4f", $2 * 4 / 0.95 }' "$tmp/expected.csv")
our_kva=$(jq -r '."t1.transformer.loading" * 8' <<<"$st")
check "... the transformer's kVA at 18:00-18:15 ($our_kva) is between the loads' ($load_kva) and OpenDSS's mean ($ref_kva)" \
	awk -v a="$our_kva" -v lo="$load_kva" -v hi="$ref_kva" 'BEGIN { exit !(lo > 1 && a > lo && a < hi) }'
check "... the lowest voltage at the evening peak is under the highest, both in 0.9..1.1 pu" \
	eval 'jq -e "(.\"t1.voltage.min\" > 0.9) and (.\"t1.voltage.min\" < .\"t1.voltage.max\") and (.\"t1.voltage.max\" < 1.1)" <<<"$st" >/dev/null'
check "... recorded in doms_state with the bus of the lowest voltage and the most loaded line" \
	eval '[ "$(q o1 "SELECT count(*) FROM doms_state WHERE v_min_bus IS NOT NULL AND line IS NOT NULL")" -eq 104 ]'

# Today's forecast: yesterday's feeder (one day of history), per interval.
wait_for 20 eval '[ "$(q o1 "SELECT count(*) FROM doms_forecast")" -ge 95 ]'
got=$(q o1 "SELECT interval - $TODAY, printf('%.6f', kwh) FROM doms_forecast WHERE interval >= $TODAY + 1 AND interval < $TODAY + 96 ORDER BY interval" | tr '|' ,)
want=$(awk -F, '$1 >= 1 && $1 < 96 { printf "%d,%s\n", $1, $2 }' "$tmp/expected.csv")
check "the forecast of today's 95 intervals is yesterday's metered feeder" eq "$got" "$want"
check "... sent as grid.forecast" eq "$(jq -c 'select(.msg == "grid.forecast") | .payload.forecasts[0].values | length' "$tmp/d1.out" | head -1)" 95

# Day-ahead bids: each interval's excess over 7.5 kWh, priced 0.1 + 0.4 x min(1, excess / 7.5).
L=7.5
dayahead=$(q o1 "SELECT b.interval - $TODAY, printf('%.6f', b.kwh), printf('%.6f', b.price) FROM doms_bid_interval b WHERE b.bid_id NOT LIKE '%-r%' ORDER BY b.interval" | tr '|' ,)
want=$(awk -F, -v L=$L '$1 >= 1 && $1 < 96 && $2 > L { e = $2 - L; s = e / L; if (s > 1) s = 1; printf "%d,%.6f,%.6f\n", $1, e, 0.1 + 0.4 * s }' "$tmp/expected.csv")
check "day-ahead bids: every interval over the limit, its excess, priced by severity" eq "$dayahead" "$want"
check "... the bids reach the DSO FOA with a price per interval" \
	eval '[ "$(jq -c "select(.msg == \"bid\") | .payload.energyPrice | unique | length" "$tmp/d1.out" | sort -n | tail -1)" -gt 1 ]'

# The re-bid: intervals 0-7 of today metered at 1.5 x the forecast (which,
# for interval 0, is yesterday's too). The rest of today: forecast 1.5 x,
# bids topped up from interval 7 + 1 + 4 = 12 on.
wait_for 20 grep -q GF-DOMS-REBID "$tmp/o1.log"
check "the meters' 150% of the forecast triggers a re-bid (GF-DOMS-REBID)" grep -q "metered 150% of the day-ahead" "$tmp/o1.log"
got=$(q o1 "SELECT interval - $TODAY, printf('%.6f', revised_kwh) FROM doms_forecast WHERE interval >= $TODAY + 8 AND interval < $TODAY + 96 ORDER BY interval" | tr '|' ,)
want=$(awk -F, '$1 >= 8 && $1 < 96 { printf "%d,%.6f\n", $1, 1.5 * $2 }' "$tmp/expected.csv")
check "... the rest of the day forecast again at 1.5 x" close "$got" "$want"
got=$(q o1 "SELECT interval - $TODAY, printf('%.6f', sum(kwh)) FROM doms_bid_interval WHERE interval >= $TODAY + 12 GROUP BY interval ORDER BY interval" | tr '|' ,)
want=$(awk -F, -v L=$L '$1 >= 12 && $1 < 96 && 1.5 * $2 > L { e = 1.5 * $2 - L; d = $2 > L ? $2 - L : 0; if (e - d > 0.05 * L || d > 0) printf "%d,%.6f\n", $1, (e - d > 0.05 * L) ? e : d }' "$tmp/expected.csv")
check "... from interval 12 on, the bids add up to the new excess (re-bid ids end in -r<interval>)" close "$got" "$want"
check "... none before interval 12 (bids start rebid_lead after the meters)" \
	eq "$(q o1 "SELECT count(*) FROM doms_bid_interval WHERE bid_id LIKE '%-r%' AND interval < $TODAY + 12")" 0

# --- kill -9 and restart: nothing twice ------------------------------------------------
bids_before=$(q o1 "SELECT count(*) || ':' || printf('%.6f', sum(kwh)) FROM doms_bid_interval")
kill -9 $pid_o1; wait $pid_o1 2>/dev/null
"$DOMS" -c "$tmp/o1.conf" -v >>"$tmp/o1.log" 2>&1 &
pid_o1=$!; pids+=($pid_o1)
wait_for 10 eval '[ "$(grep -c GF-DOMS-START "$tmp/o1.log")" -ge 2 ]'
sleep 3
check "after a kill -9 and a restart: no bid issued twice, no re-bid again" \
	eq "$(q o1 "SELECT count(*) || ':' || printf('%.6f', sum(kwh)) FROM doms_bid_interval")" "$bids_before"
check "... one re-bid in the log" eq "$(grep -c GF-DOMS-REBID "$tmp/o1.log")" 1

# --- doms.config from the DMS: 25 kW --------------------------------------------------
"$GFCTL" --port "$LOCAL_PORT" --id dms.a1 pub gf/site1/dms/a1/doms/o1/doms.config \
	'{"stateVariables":[{"variableId":"t1.power","gridPointId":"t1","quantity":"activePower","upperLimit":25}],"economicParameters":{"maxEnergyPrice":0.6}}' \
	>/dev/null 2>"$tmp/pub.err"
wait_for 10 eval 'grep -q "doms.config from dms.a1" "$tmp/o1.log"'
check "doms.config from the DMS: limit 6.25 kWh, prices up to 0.6 (logged)" \
	grep -q "doms.config from dms.a1: 2 limit(s) set: limit 6.250 kWh, prices 0.1000 to 0.6000" "$tmp/o1.log"
wait_for 10 eval '[ "$(q o1 "SELECT count(*) FROM doms_bid_interval WHERE bid_id LIKE '"'"'%-c%'"'"'")" -gt 0 ]'
# Every interval from now on is now bid at least to its excess over 6.25
# kWh of the forecast in use (the revised one), but for remainders of 5% of
# the limit or less, which a top-up leaves alone.
short=$(q o1 "SELECT count(*) FROM doms_forecast f WHERE f.interval > $TODAY + 2 AND f.revised_kwh - 6.25 - (SELECT coalesce(sum(kwh), 0) FROM doms_bid_interval b WHERE b.interval = f.interval) > 0.3125")
check "... the new excess over the rest of today is bid (ids end in -c<seq>)" eq "$short" 0
check "... restored after a restart" eval 'q o1 "SELECT value FROM doms_param WHERE name = '"'"'limit_kwh'"'"'" | in_input -x 6.25'

# --- a daily budget ----------------------------------------------------------------------
"$GFCTL" --port "$LOCAL_PORT" --id foa.d2 -v sub "gf/site1/doms/o2/foa/d2/#" >"$tmp/d2.out" 2>"$tmp/d2.err" &
pids+=($!)
wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/d2.err"
full=$(awk -F, -v L=$L '$1 >= 1 && $1 < 96 && $2 > L { e = $2 - L; s = e / L; if (s > 1) s = 1; c += e * (0.1 + 0.4 * s) } END { printf "%.6f", c }' "$tmp/expected.csv")
budget=$(awk -v c="$full" 'BEGIN { printf "%.2f", c / 2 }')
doms_conf o2 d2 daily_budget_eur "$budget" rebid_window 0
"$DOMS" -c "$tmp/o2.conf" -v >>"$tmp/o2.log" 2>&1 &
pids+=($!)
wait_for 30 eval '[ "$(q o2 "SELECT count(*) FROM doms_bid_interval")" -gt 0 ]'
sleep 1
cost=$(q o2 "SELECT printf('%.6f', sum(kwh * price)) FROM doms_bid_interval")
check "a budget of half the day's bids ($budget of $full EUR): the bids cost no more" \
	eval 'awk -v c="$cost" -v b="$budget" "BEGIN { exit !(c <= b + 1e-6 && c > b - 0.01) }"'
check "... logged (GF-DOMS-BUDGET)" grep -q GF-DOMS-BUDGET "$tmp/o2.log"
# The worst interval keeps its whole excess.
worst=$(awk -F, -v L=$L '$1 >= 1 && $1 < 96 && $2 - L > m { m = $2 - L; i = $1 } END { printf "%d,%.6f", i, m }' "$tmp/expected.csv")
check "... the most severe interval keeps its whole request" \
	eq "$(q o2 "SELECT (interval - $TODAY) || ',' || printf('%.6f', kwh) FROM doms_bid_interval ORDER BY kwh DESC LIMIT 1")" "$worst"
# --- the day-ahead bid with a headroom (bid_headroom on; o3 started with o1) ------------
wait_for 30 eval '[ "$(jq -c "select(.msg == \"bid\")" "$tmp/d3.out" | wc -l)" -ge 1 ]'
# One bid from the first interval over the limit to 48 intervals past the
# day: the excess where over, else headroom = max(0, L - forecast) at the
# highest price; past the day the forecast is the same time a day earlier.
got=$(jq -r 'select(.msg == "bid") | .payload | [.scheduleChange, .headroom, .energyPrice] | transpose[] | map(. * 1000000 | round / 1000000 | tostring) | join(",")' "$tmp/d3.out" | head -200)
want=$(awk -F, -v L=$L -v CONVFMT=%.10g '$1 >= 1 && $1 < 96 { f[$1] = $2 } END {
	for (t = 1; t < 96 && !(f[t] > L); t++) ; first = t
	for (t = first; t < 96 + 48; t++) {
		v = t < 96 ? f[t] : (t - 96 >= 1 ? f[t - 96] : f[1])
		if (t < 96 && v > L) { e = v - L; s = e / L; if (s > 1) s = 1; printf "%s,0,%s\n", r(e), r(0.1 + 0.4 * s) }
		else printf "0,%s,0.5\n", r(v < L ? L - v : 0)
	} }
	function r(x) { x = sprintf("%.6f", x) + 0; return x }' "$tmp/expected.csv")
check "bid_headroom: one day-ahead bid, the excess where over, the headroom (L - forecast) elsewhere, 12 h past the day" \
	eq "$got" "$want"
check "... its id runs from the first congested interval for the whole span" \
	eq "$(jq -r 'select(.msg == "bid") | .payload | "\(.bidId) \(.scheduleChange | length)"' "$tmp/d3.out" | head -1 | awk '{ n = split($1, a, "-"); print a[n] == $2 }')" 1
check "no meter value or pseudonym in the DOMS's log" \
	eval '! grep -qF "$(sed -n 2p "$tmp/meter_map.csv" | cut -d, -f2)" "$tmp/o1.log"'
finish
