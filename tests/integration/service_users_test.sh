#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The users of the Service Platform's services (issue 14 item 3) against the
# real mosquitto with our plugin: each row has its real producer (gf-sp) and
# its real consumer, and the consumer's effect is checked:
#
#   sp -> fmar  price.reference: gf-fmar keeps it and prices the slices of a
#               bid offer that carry no maxTariff with the reference of their
#               interval (docs/fmar.md, "Reference prices"): a bid before any
#               reference is refused, saying why; after it, one whose
#               reference is above an aggregate's asking tariff clears, one
#               whose reference is below the other's does not;
#   sp -> foa   transfercost (public feed): gf-foa (xems mode,
#               tariff_grid_point t1) puts it on the xEMS's offer: maxTariff =
#               base_max + T, minTariff = max(0, base_min - T) per slice
#               (docs/foa.md, "Network tariffs"), and names t1 on it
#               (locationId.gridPointId);
#   fman -> sp  capacityprice.query (.result), sp -> fman capacityprice
#               (SIGHUP changed price_max): the real gf-fman (fman.m2) asks
#               gf-sp for t1's day once, keeps the answer and the push, and
#               its aggregate to FMAR asks the slices' tariffs plus the
#               capacity price (docs/fman.md, "Capacity price"), checked
#               against values worked by hand; a restart asks no day again, a
#               kill -9 between the commit of an offer and the sending of its
#               query loses nothing and asks once.
#
# gfctl sub (as fman.m1, fman.m2, foa.f1, fmar.r1 and fmar.r9 beside the
# agents) prints each of price.reference, transfercost,
# capacityprice.query.result and capacityprice decoded. The broker runs
# with the normative catalogue (schemas/exchange.tsv, SPEC section 5).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SP=$BUILD/bin/gf-sp FMAR=$BUILD/bin/gf-fmar FOA=$BUILD/bin/gf-foa FMAN=$BUILD/bin/gf-fman
SEAL=$BUILD/tests/tools/gf-seal GFCTL=$BUILD/bin/gfctl
GEN="/usr/bin/python3 $(dirname "$0")/settle_data.py"
EXPECT="/usr/bin/python3 $(dirname "$0")/sp_services_expect.py"
PSEUDO="/usr/bin/python3 $(dirname "$0")/sp_batches.py pseudonym"
for b in "$SP" "$FMAR" "$FOA" "$FMAN" "$SEAL" "$GFCTL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done

agent_tmp
site_new "$S" site1
add_password "$S" sp.s1 dms.d1 fman.m1 fman.m2 fmar.r1 fmar.r9 foa.f1 foa.d1 ext.e1 xems.x1
broker_start "$S" || { echo "broker did not start"; exit 1; }

DAY0=1582761600 # 2020-02-27T00:00:00Z, a Thursday: the agents' today
I0=$((DAY0 / 900))
pub() { "$GFCTL" --port "$LOCAL_PORT" --id "$1" pub "$2" "$3" >/dev/null; }
n_where() { jq -c "select($2)" "$tmp/$1.out" 2>/dev/null | wc -l; }
has_n() { [ "$(n_where "$1" "$2")" -ge "$3" ]; }
first() { jq -c "select($2) | $3" "$tmp/$1.out" 2>/dev/null | head -1; }
last() { jq -c "select($2) | $3" "$tmp/$1.out" 2>/dev/null | tail -1; }
r6() { jq -c 'map(. * 1000000 | round / 1000000)'; }
conf() { # conf NAME IDENT KEY VALUE...
	local name=$1
	mkdir -p "$tmp/$name.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "identity $2"
		echo "state_dir $tmp/$name.state"
		shift 2
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/$name.conf"
}
start() { # start NAME BINARY
	"$2" -c "$tmp/$1.conf" -v >>"$tmp/$1.log" 2>&1 &
	pids+=($!)
	eval "pid_$1=$!"
}

# --- gf-sp: a grid file with t1's capacity line, no bands yet -------------------------
grid_file() { # grid_file PRICE_MAX [BANDS]
	{
		echo "offset +02:00"
		[ -z "${2:-}" ] || printf 'band t1 mon-fri 07:00-22:00 0.085\nband t1 * 00:00-24:00 0.045\n'
		echo "capacity t1 12 0.2 $1 100 0"
	} >"$tmp/grid.conf"
}
grid_file 0.5
mkdir -p "$tmp/keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/keys/k1.pem" 2>/dev/null &&
	chmod 600 "$tmp/keys/k1.pem" && openssl pkey -in "$tmp/keys/k1.pem" -pubout -out "$tmp/k1.pub" 2>/dev/null
conf sp sp.s1 key_dir "$tmp/keys" k_min 3 forecast_days 3 grid_file "$tmp/grid.conf" \
	reference_factor 1.2 reference_adder 0.05 time_epoch 2020-02-27T10:00:00Z
watch feed fman.m1 'gf/site1/sp/s1/all/all/#' || not_ok "fman.m1 subscribed to the public feed"
watch fmarfeed fmar.r1 'gf/site1/sp/s1/all/all/price.reference' || not_ok "fmar.r1 subscribed"
start sp "$SP"
check "gf-sp starts" wait_for 10 in_log sp "GF-SP-SERVICES grid file: 0 bands, 1 capacity lines"
# (its session is new: the DMS's topology and readings, sent once, must find
# it subscribed)
wait_for 10 in_log sp GF-BUS-SUBSCRIBED || echo "# gf-sp did not subscribe"

# Three meters of t1, three days of history: the capacity price's forecast.
mapfile -t P < <($PSEUDO 0 1 2 3)
seal() { # seal FILE: each line sealed into FILE.jwe
	: >"$1.jwe"
	while IFS= read -r line; do
		printf '%s' "$line" | "$SEAL" seal --to "$tmp/k1.pub" --kid k1 --cty application/json >>"$1.jwe" || return 1
		echo >>"$1.jwe"
	done <"$1"
}
dms() { # dms FILE MSG
	mosquitto_pub -h localhost -p "$LOCAL_PORT" -u dms.d1 -P "$PASSWORD" -i dms.d1 -V mqttv5 -q 1 \
		-t "gf/site1/dms/d1/sp/s1/$2" -D publish content-type application/jose -l <"$1"
}
printf '{"gridPointId":"t1","revision":1,"pseudonymKeyId":"dso-k1","buses":[{"busId":"b1"}],"loads":[%s]}\n' \
	"$(for n in 1 2 3; do printf '%s{"loadId":"L%d","busId":"b1","phase":"A","deviceId":"%s"}' "$([ $n -gt 1 ] && echo ,)" $n "${P[$n]}"; done)" >"$tmp/topo"
seal "$tmp/topo" && dms "$tmp/topo.jwe" grid.topology
{
	$GEN meter --meter 1 --start $((DAY0 - 3 * 86400)) --days 3 --day 0=0.2 --day 1=0.4 --day 2=0.3
	for m in 2 3; do $GEN meter --meter $m --start $((DAY0 - 3 * 86400)) --days 3 --set 0:72-76=1.5 --set 1:72-76=1.5 --set 2:72-76=1.5; done
} >"$tmp/days"
seal "$tmp/days" && dms "$tmp/days.jwe" meter.reading
readings=$(jq '.readings | length' "$tmp/days" | awk '{ s += $1 } END { print s }')
n_stored() {
	local b
	b=$(grep -o 'GF-SP-BATCH .*readings, [0-9]* new' "$tmp/sp.log" | sed 's/.*readings, \([0-9]*\) new/\1/' | awk '{ s += $1 } END { print s + 0 }')
	[ "$b" -ge "$readings" ]
}
check "the topology and the $readings readings are stored" wait_for 30 n_stored
# The forecast of t1 (the mean of the 3 days: no weather stored, factor 1)
# and the capacity price of it, docs/sp.md's formulas in Python.
LEVELS=$(python3 -c '
import json
m1 = [0.2, 0.4, 0.3]
print(json.dumps([[m1[d] + (3.0 if 72 <= i < 76 else 1.0) for i in range(96)] for d in range(3)]))')
FC=$($EXPECT forecast "$LEVELS" '[0,0,0]' 0 | jq -c .energy)
cap() { $EXPECT capacity "$FC" 12 0.2 "$1" 100 0; }

# --- gf-fmar, gf-fman and gf-foa --------------------------------------------------------
# FMAR's clock starts at 16:00; bids start at 17:00 and 18:00 (I0+68, I0+72),
# their gates 10000 s before have passed: each clears as it arrives. The
# real FMAN is fman.m2 (the FMAR part below plays fman.m1's aggregates); its
# aggregates go to fmar.r9, which gfctl plays.
conf fmar fmar.r1 dso_foa d1 gate_lead_s 10000 milp_max_offers 0 resend_s 0 kpi_period_s 0 \
	settle off time_epoch 2020-02-27T16:00:00Z
conf fman fman.m2 fmar_id r9 sp_id s1 aggregate_every_s 1 resend_s 0 kpi_period_s 0 \
	time_epoch 2020-02-27T10:00:00Z
conf foa foa.f1 xems_id x1 fman_id m2 tariff_grid_point t1 resend_s 0 time_epoch 2020-02-27T10:00:00Z
watch dso foa.d1 'gf/site1/fmar/r1/foa/d1/#' || not_ok "foa.d1 subscribed"
watch m2 fman.m2 'gf/site1/foa/f1/fman/m2/#' || not_ok "fman.m2 (gfctl) subscribed to the FOA's offers"
watch cap fman.m2 'gf/site1/sp/s1/fman/m2/#' || not_ok "fman.m2 (gfctl) subscribed to gf-sp's answers"
watch agg fmar.r9 'gf/site1/fman/m2/fmar/r9/#' || not_ok "fmar.r9 (gfctl) subscribed"
start fmar "$FMAR"
start fman "$FMAN"
start foa "$FOA"
check "gf-fmar, gf-fman and gf-foa connect (and subscribe)" \
	wait_for 10 eval 'in_log fmar GF-BUS-SUBSCRIBED && in_log fman GF-FMAN-START && in_log foa GF-FOA-START &&
		in_log fman GF-BUS-SUBSCRIBED && in_log foa GF-BUS-SUBSCRIBED'

# --- price.reference -> gf-fmar ----------------------------------------------------------
# bid DSO BIDID START "R1 R2...": a bid offer without any price
bid() {
	local sl=""
	for r in $4; do sl+="${sl:+,}{\"energyConstraintList\":[{\"lower\":0,\"upper\":$r}],\"minDuration\":1,\"maxDuration\":1}"; done
	printf '{"id":"%s-bid-%s","label":"bid:%s","state":"Offered","offeredById":"%s","creationInterval":%d,"acceptanceBeforeInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferProfileConstraints":[%s]}' \
		"$1" "$2" "$2" "$1" "$I0" "$3" "$3" "$3" "$3" "$sl"
}
# agg ID START N TARIFF: an aggregate of N slices [0, 3], default 3, asking TARIFF
agg() {
	local sl="" ds=""
	for _ in $(seq 1 "$3"); do
		sl+="${sl:+,}{\"energyConstraintList\":[{\"lower\":0,\"upper\":3}],\"minDuration\":1,\"maxDuration\":1}"
		ds+="${ds:+,}{\"duration\":1,\"energyAmount\":3}"
	done
	printf '{"id":"%s","label":"agg:%s:1","state":"Offered","offeredById":"m1","creationInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferProfileConstraints":[%s],"flexOfferTariffConstraint":{"minTariff":%s,"maxTariff":%s},"defaultSchedule":{"startTime":"%s","scheduleSlices":[%s]}}' \
		"$1" "${1##*-}" "$I0" "$2" "$2" "$2" "$sl" "$4" "$4" "$(date -u -d "@$(($2 * 900))" +%Y-%m-%dT%H:%M:%SZ)" "$ds"
}
ack_of() { first dso ".msg == \"flexoffer.ack\" and .payload.flexOfferId == \"$1\"" "$2"; }
pub foa.d1 gf/site1/foa/d1/fmar/r1/flexoffer "$(bid d1 B0 $((I0 + 68)) "2 2")"
check "a bid without prices before any price.reference: refused, saying why" \
	wait_for 10 eval '[ "$(ack_of d1-bid-B0 "[.payload.accepted, .payload.reason]")" = "[false,\"not a bid offer FMAR can clear: slice 0: needs a maxTariff >= 0 (no price.reference is known for interval $((I0 + 68)))\"]" ]'

PRICES='[0.031,0.029,0.027,0.030,0.045,0.052,0.060,0.058,0.050,0.047,0.044,0.043,0.041,0.040,0.042,0.048,0.055,0.066,0.071,0.069,0.061,0.050,0.042,0.035]'
pub ext.e1 gf/site1/ext/e1/sp/s1/price.dayahead \
	"{\"area\":\"CY\",\"resolution\":3600,\"startTime\":\"2020-02-27T00:00:00Z\",\"prices\":$PRICES,\"issuedTime\":\"2020-02-26T12:00:00Z\",\"source\":\"ENTSO-E A44\"}"
REF=$(jq -c 'map(1.2 * . + 0.05)' <<<"$PRICES")
check "gfctl sub shows price.reference decoded (as fman.m1 and fmar.r1)" \
	wait_for 10 eval '[ "$(first feed ".msg == \"price.reference\"" "[.payload.area, .payload.resolution, .payload.startTime, (.payload.prices | map(. * 1e6 | round / 1e6))]")" = "$(jq -c "[\"CY\", 3600, \"2020-02-27T00:00:00Z\", map(. * 1e6 | round / 1e6)]" <<<"$REF")" ] && has_n fmarfeed ".msg == \"price.reference\"" 1'
check "gf-fmar stores the 24 periods" wait_for 10 in_log fmar "GF-FMAR-REFPRICE price.reference from sp.s1: area CY, 24 periods of 3600 s from 2020-02-27T00:00:00Z, 24 stored"
check "... in SQLite: the reference of 17:00" \
	eq "$(sqlite3 "$tmp/fmar.state/fmar.db" "SELECT round(price, 6) FROM fmar_refprice WHERE start_s = $((DAY0 + 17 * 3600))")" "$(jq '.[17] * 1e6 | round / 1e6' <<<"$REF")"
# Two aggregates, one asking below 17:00's reference, one above 18:00's.
R17=$(jq '.[17] * 1e6 | round / 1e6' <<<"$REF") R18=$(jq '.[18] * 1e6 | round / 1e6' <<<"$REF")
T1=$(jq -n "($R17 - 0.02) * 1e6 | round / 1e6") T2=$(jq -n "($R18 + 0.02) * 1e6 | round / 1e6")
pub fman.m1 gf/site1/fman/m1/fmar/r1/flexoffer "$(agg m1-agg-1 $((I0 + 68)) 4 "$T1")"
pub fman.m1 gf/site1/fman/m1/fmar/r1/flexoffer "$(agg m1-agg-2 $((I0 + 72)) 4 "$T2")"
pub foa.d1 gf/site1/foa/d1/fmar/r1/flexoffer "$(bid d1 B1 $((I0 + 68)) "2 2 2 2")"
pub foa.d1 gf/site1/foa/d1/fmar/r1/flexoffer "$(bid d1 B2 $((I0 + 72)) "2 2 2 2")"
check "the same bid after it: accepted" wait_for 10 eval '[ "$(ack_of d1-bid-B1 .payload.accepted)" = true ] && [ "$(ack_of d1-bid-B2 .payload.accepted)" = true ]'
check "at its gate B1 clears against the aggregate asking $T1 < reference $R17: 8 kWh" \
	wait_for 20 in_log fmar "GF-FMAR-CLEARED bid B1 (d1): .* requested 8 kWh, cleared 8 kWh at $T1 EUR/kWh; .*; 4 of 4 intervals priced by price.reference"
check "... the DSO FOA's result: 2 kWh accepted in each interval" \
	wait_for 10 eval '[ "$(first dso ".msg == \"flexoffer.assign\" and .payload.flexOfferId == \"d1-bid-B1\"" "[.payload.flexOfferSchedule.scheduleSlices[].energyAmount]")" = "[2,2,2,2]" ]'
check "B2's reference $R18 is below the other's asking $T2: nothing cleared" \
	wait_for 20 in_log fmar "GF-FMAR-CLEARED bid B2 (d1): no_eligible .*cleared 0 kWh.*; 4 of 4 intervals priced by price.reference"
check "a revision (a later issuedTime) overwrites the 24 periods, no row twice" eval '
	pub ext.e1 gf/site1/ext/e1/sp/s1/price.dayahead "{\"area\":\"CY\",\"resolution\":3600,\"startTime\":\"2020-02-27T00:00:00Z\",\"prices\":$(jq -c "map(. + 0.01)" <<<"$PRICES"),\"issuedTime\":\"2020-02-26T13:00:00Z\"}" &&
	wait_for 10 in_log fmar "GF-FMAR-REFPRICE .* 24 stored" &&
	[ "$(grep -c "GF-FMAR-REFPRICE price.reference" "$tmp/fmar.log")" -eq 2 ] &&
	[ "$(sqlite3 "$tmp/fmar.state/fmar.db" "SELECT count(*) FROM fmar_refprice")" -eq 24 ] &&
	[ "$(sqlite3 "$tmp/fmar.state/fmar.db" "SELECT round(price, 6) FROM fmar_refprice WHERE start_s = $((DAY0 + 17 * 3600))")" = "$(jq ".[17] + 0.01 | 1.2 * . + 0.05 | . * 1e6 | round / 1e6" <<<"$PRICES")" ]'

# --- transfercost -> gf-foa ----------------------------------------------------------------
# The bands arrive (SIGHUP): today's and tomorrow's transfercost go out.
grid_file 0.5 bands
kill -HUP "$pid_sp"
check "gfctl sub shows transfercost decoded (as fman.m1): today's 96 costs" \
	wait_for 10 eval '[ "$(first feed ".msg == \"transfercost\" and .payload.startTime == \"2020-02-27T00:00:00Z\"" "[.payload.toGridPointId, (.payload.costs | map(. * 1e6 | round / 1e6))]")" = "[\"t1\",$($EXPECT transfercost $DAY0 96 120 | r6)]" ]'
check "... and gf-foa keeps both days" \
	wait_for 10 eval '[ "$(grep -c "GF-FOA-TARIFF foa.f1: transfercost of t1, 96 periods" "$tmp/foa.log")" -eq 2 ]'

# offer LABEL MIN MAX [DAYS]: the xEMS's offer of 4 slices from 18:00
# (I0+72, DAYS later), start window 1 interval, asking MIN and MAX
offer() {
	local d=$((${4:-0} * 96))
	printf '{"flexOffer":{"label":"%s","state":"Initial","offeredById":"x1","creationInterval":%d,"acceptanceBeforeInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferTariffConstraint":{"minTariff":%s,"maxTariff":%s},"flexOfferProfileConstraints":[%s]}}' \
		"$1" "$I0" $((I0 + d + 70)) $((I0 + d + 70)) $((I0 + d + 72)) $((I0 + d + 73)) "$2" "$3" \
		"$(for k in 1 2 3 4; do printf '%s{"energyConstraintList":[{"lower":0,"upper":2}],"minDuration":1,"maxDuration":1}' "$([ $k -gt 1 ] && echo ,)"; done)"
}
# expect MIN MAX: per slice k (intervals 72+k, 73+k) [minTariff, maxTariff] with T
expect() {
	jq -nc --argjson t "$($EXPECT transfercost $DAY0 96 120)" --argjson lo "$1" --argjson hi "$2" '
		[range(4) as $k | [$t[72 + $k], $t[73 + $k]] |
		 [([0, $lo - min] | max), ($hi + max)] | map(. * 1e6 | round / 1e6)]'
}
# fman_expect MIN MAX CAP-JSON: the aggregate's [minTariff, maxTariff] of one
# such offer at FMAN: each slice's FOA tariffs with the capacity term, then
# the least minimum and the most maximum (docs/fman.md, "Capacity price")
fman_expect() {
	jq -nc --argjson s "$(expect "$1" "$2")" --argjson c "$3" '
		[range(4) as $k | [$c[72 + $k], $c[73 + $k]] as $w |
		 [([0, $s[$k][0] - ($w | min)] | max), ($s[$k][1] + ($w | max))]] |
		[(map(.[0]) | min), (map(.[1]) | max)] | map(. * 1e6 | round / 1e6)'
}
tariffs() { last m2 ".msg == \"flexoffer\" and .payload.label == \"$1\"" '[.payload.flexOfferProfileConstraints[].tariffConstraint | [.minTariff, .maxTariff] | map(. * 1e6 | round / 1e6)]'; }
agg_tariff() { last agg '.msg == "flexoffer"' '[.payload.flexOfferTariffConstraint.minTariff, .payload.flexOfferTariffConstraint.maxTariff] | map(. * 1e6 | round / 1e6)'; }
pub xems.x1 gf/site1/xems/x1/foa/f1/xems.flexibility "$(offer o1 0.5 0.6)"
check "the offer reaches FMAN with a tariff per slice" wait_for 10 eval '[ -n "$(tariffs o1)" ]'
check "... maxTariff = 0.6 + T, minTariff = 0.5 - T, over each slice's two intervals" \
	eq "$(tariffs o1)" "$(expect 0.5 0.6)"
check "... worked by hand: T = 0.085 (20:00-21:15 local, a weekday): 0.415 .. 0.685 each" \
	eq "$(tariffs o1)" "[[0.415,0.685],[0.415,0.685],[0.415,0.685],[0.415,0.685]]"
check "... the offer-wide tariff is gone (it would override the slices'), t1 is named" \
	eq "$(last m2 '.msg == "flexoffer" and .payload.label == "o1"' '[.payload.flexOfferTariffConstraint, .payload.locationId.gridPointId]')" '[null,"t1"]'

# --- capacityprice.query, capacityprice -> gf-fman ---------------------------------------------
check "gf-fman asks gf-sp for t1's capacity price of the offer's day" \
	wait_for 10 in_log fman "GF-FMAN-CAPACITY capacityprice.query cap:2020-02-27:t1 of t1 for 2020-02-27T00:00:00Z to sp.s1"
check "gfctl sub shows capacityprice.query.result decoded (as fman.m2)" \
	wait_for 10 eval '[ "$(first cap ".msg == \"capacityprice.query.result\"" "[.payload.status.code, .payload.status.requestId, .payload.prices[0].flexOfferId, .payload.prices[0].gridPointId, (.payload.prices[0].prices | length)]")" = "[\"ok\",\"cap:2020-02-27:t1\",\"cap:2020-02-27:t1\",\"t1\",96]" ]'
check "... and gf-fman keeps it and prices the offer" \
	wait_for 10 in_log fman "GF-FMAN-CAPACITY capacityprice.query.result from sp.s1: 96 prices of t1 kept, 1 live offers priced again"
check "... the capacity price is in it (non-zero at 18:00-19:00, 0 at 19:00)" \
	eq "$(cap 0.5 | jq -c '.[72:77] | map(. > 0)')" "[true,true,true,true,false]"
check "FMAN's aggregate asks the slices' tariffs with the capacity price C" \
	wait_for 15 eval '[ "$(agg_tariff)" = "$(fman_expect 0.5 0.6 "$(cap 0.5)")" ]'
# By hand (docs/fman.md): C = 0.2 + (0.5 - 0.2) x (3.3 - 3) / 3 = 0.23 at
# 18:00-19:00 (forecast 0.3 + 3 kWh, limit 12 kW = 3 kWh), 0 at 19:00;
# every slice may run in an interval of 0.23: max 0.685 + 0.23; slice 3
# also at 19:00: min 0.415 - 0 = 0.415, the others 0.415 - 0.23 = 0.185.
check "... worked by hand: 0.185 .. 0.915" eq "$(agg_tariff)" "[0.185,0.915]"
check "... in fman.db too" \
	eq "$(sqlite3 "$tmp/fman.state/fman.db" "SELECT round(tariff_min, 6) || ' ' || round(tariff_max, 6) FROM offers WHERE label = 'o1'")" "0.185 0.915"
# A restart asks no day again: the next offer of the same day is priced
# from what fman.db keeps.
kill "$pid_fman"; wait "$pid_fman" 2>/dev/null
start fman "$FMAN"
wait_for 10 eval '[ "$(grep -c GF-FMAN-START "$tmp/fman.log")" -ge 2 ]'
pub xems.x1 gf/site1/xems/x1/foa/f1/xems.flexibility "$(offer o2 0.5 0.6)"
check "after a restart, the next offer of that day is priced from fman.db" \
	wait_for 10 in_log fman "GF-FMAN-CAPACITY offer f1-2: 4 of 4 slices priced with the capacity price of t1: tariffs 0.185000 .. 0.915000"
check "... and the day is not asked again (gf-fman and gf-sp saw one query)" eval '
	[ "$(grep -c "capacityprice.query cap:2020-02-27:t1" "$tmp/fman.log")" -eq 1 ] &&
	[ "$(grep -c "capacityprice.query (message .*) from fman.m2" "$tmp/sp.log")" -eq 1 ]'
# price_max 0.5 -> 0.8: gf-sp prices its watched series again and sends
# capacityprice: C = 0.2 + 0.6 x 0.1 = 0.26, so 0.415 - 0.26 = 0.155 and
# 0.685 + 0.26 = 0.945.
grid_file 0.8 bands
kill -HUP "$pid_sp"
check "gfctl sub shows capacityprice decoded (as fman.m2), priced again with price_max 0.8" \
	wait_for 10 eval '[ "$(first cap ".msg == \"capacityprice\"" "[.payload.flexOfferId, .payload.gridPointId, (.payload.prices[72:76] | map(. * 1e6 | round / 1e6))]")" = "[\"cap:2020-02-27:t1\",\"t1\",$(cap 0.8 | jq -c ".[72:76] | map(. * 1e6 | round / 1e6)")]" ]'
check "... gf-fman keeps it and prices both live offers again" \
	wait_for 10 in_log fman "GF-FMAN-CAPACITY capacityprice from sp.s1: 96 prices of t1 kept, 2 live offers priced again"
check "... the aggregate's next revision asks the new price: by hand 0.155 .. 0.945" \
	wait_for 15 eval '[ "$(agg_tariff)" = "[0.155,0.945]" ] && [ "$(agg_tariff)" = "$(fman_expect 0.5 0.6 "$(cap 0.8)")" ]'

# A kill -9 after an offer of tomorrow is committed (its query queued with
# it), before the query is sent: the restart sends it, once.
kill "$pid_fman"; wait "$pid_fman" 2>/dev/null
GF_FMAN_CRASH=offer-committed start fman "$FMAN"
wait_for 10 eval '[ "$(grep -c GF-FMAN-START "$tmp/fman.log")" -ge 3 ]'
pub xems.x1 gf/site1/xems/x1/foa/f1/xems.flexibility "$(offer o4 0.5 0.6 1)"
check "gf-fman is killed right after committing tomorrow's offer" \
	wait_for 10 eval '! kill -0 "$pid_fman" 2>/dev/null'
check "... the query was not sent before the kill" \
	eq "$(grep -c "capacityprice.query (message .*) from fman.m2" "$tmp/sp.log")" 1
start fman "$FMAN"
check "... the restart sends it from the outbox: gf-sp answers tomorrow's, once" \
	wait_for 15 eval 'in_log fman "GF-FMAN-CAPACITY capacityprice.query.result from sp.s1: .* of t1 kept\|GF-FMAN-CAPACITY no capacity price of t1" &&
	[ "$(grep -c "capacityprice.query (message .*) from fman.m2" "$tmp/sp.log")" -eq 2 ] &&
	[ "$(grep -c "capacityprice.query cap:2020-02-28:t1" "$tmp/fman.log")" -eq 1 ]'
# (The wait above can be met by the first day's answer in the same log: the
# second's is taken once gf-fman has handled it, so this waits for it too.)
cap_asks() { sqlite3 "$tmp/fman.state/fman.db" "SELECT group_concat(request || '=' || state, ' ') FROM (SELECT request, state FROM fman_cap_ask ORDER BY day)" 2>/dev/null; }
check "... fman.db holds both days asked, each once" \
	wait_for 10 eval '[ "$(cap_asks)" = "cap:2020-02-27:t1=ok cap:2020-02-28:t1=ok" ]'

# --- without a grid point: the old behaviour ----------------------------------------------
kill "$pid_foa"; wait "$pid_foa" 2>/dev/null
conf foa foa.f1 xems_id x1 fman_id m2 resend_s 0 time_epoch 2020-02-27T10:00:00Z
start foa "$FOA"
wait_for 10 eval '[ "$(grep -c GF-FOA-START "$tmp/foa.log")" -ge 2 ]'
pub xems.x1 gf/site1/xems/x1/foa/f1/xems.flexibility "$(offer o3 0.5 0.6)"
check "without tariff_grid_point the offer keeps the xEMS's tariff as it was, no grid point" \
	wait_for 10 eval '[ "$(last m2 ".msg == \"flexoffer\" and .payload.label == \"o3\"" "[.payload.flexOfferTariffConstraint.minTariff, .payload.flexOfferTariffConstraint.maxTariff, [.payload.flexOfferProfileConstraints[].tariffConstraint], .payload.locationId]")" = "[0.5,0.6,[null,null,null,null],null]" ]'
check "... FMAN accepts it and leaves its tariffs as they are" \
	wait_for 10 eval '[ "$(sqlite3 "$tmp/fman.state/fman.db" "SELECT round(tariff_min, 6) || \" \" || round(tariff_max, 6) FROM offers WHERE label = \"o3\"")" = "0.5 0.6" ]'

kill "$pid_sp" "$pid_fmar" "$pid_foa" "$pid_fman" 2>/dev/null
wait "$pid_sp" "$pid_fmar" "$pid_foa" "$pid_fman" 2>/dev/null
check "nothing logged an error" eq "$(cat "$tmp/sp.log" "$tmp/fmar.log" "$tmp/foa.log" "$tmp/fman.log" | grep -c '^err')" 0
finish
