#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp's services (issue 14 item 2, docs/sp.md "Services") against the real
# mosquitto with our plugin. Every row has a producer and a consumer, and
# each consumer is `gfctl sub`, which prints the message decoded:
#
#   ext -> sp   price.dayahead, weather.forecast, weather.observation (gfctl pub
#               as ext.e1, the role gf-ingest has)
#   sp -> foa, fman, fmar  price.reference (factor x dayahead + adder),
#               weather.forecast (passed on), transfercost (the grid file's
#               bands, local time at +02:00), read by foa.f1 and fman.m1
#   fman, fmar -> sp -> back  price.query, weather.query (by grid point),
#               transfercost.query, capacityprice.query (.result)
#   sp -> fman  capacityprice (the watched offer priced again after SIGHUP
#               changed the grid file's price_max)
#   doms -> sp  meter.subscribe with forecasts; sp -> doms energy.forecast:
#               3 days of 3 meters' history, the weather's regression factor
#   xems -> sp  kv.put, kv.get (sealed with gf-seal); sp -> xems kv.value
#               (retained: the mean of bench/ over 3 xEMS), kv.get.result
#               (sealed to the asker: x1 opens its own, not x2's)
#
# Expected values are computed by sp_services_expect.py from the test's data
# (docs/sp.md's formulas written again). Refusals: a kv.put over
# kv_max_keys, a kv.get without a reply key, a bad price.dayahead, queries
# of unknown grid points, a bad grid file at -n and at SIGHUP. Crash: the
# first ext: transaction fails (GF_STORE_FAIL, as a failed commit), gf-sp
# stops, restarts and handles it once; a kill -9 and restart sends no
# transfercost or energy.forecast again.
#
# SP_STORE=postgresql (sp_services_pg_test.sh) runs it with the metering store
# on a real PostgreSQL server (the services' own tables stay in sp.db).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

SP=$BUILD/bin/gf-sp SEAL=$BUILD/tests/tools/gf-seal GFCTL=$BUILD/bin/gfctl
GEN="/usr/bin/python3 $(dirname "$0")/settle_data.py"
EXPECT="/usr/bin/python3 $(dirname "$0")/sp_services_expect.py"
PSEUDO="/usr/bin/python3 $(dirname "$0")/sp_batches.py pseudonym"
for b in "$SP" "$SEAL" "$GFCTL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done

STORE_KIND=${SP_STORE:-sqlite}
echo "# store: $STORE_KIND"
agent_tmp
trap 'agent_cleanup; pg_stop' EXIT
site_new "$S" site1
add_password "$S" sp.s1 dms.d1 fman.m1 fmar.r1 foa.f1 ext.e1 doms.o1 xems.x1 xems.x2 xems.x3
broker_start "$S" || { echo "broker did not start"; exit 1; }
case $STORE_KIND in
sqlite) STORE_LINE= ;;
postgresql)
	if ! pg_start; then
		not_ok "PostgreSQL must start for this test: $PG_WHY"
		finish
		exit 1
	fi
	STORE_LINE="store postgresql:$PG_CONNINFO"
	;;
*) echo "SP_STORE must be sqlite or postgresql"; exit 2 ;;
esac

DAY0=1582761600 # 2020-02-27T00:00:00Z, a Thursday: the agent's today
DAYM3=$((DAY0 - 3 * 86400))
mkdir -p "$tmp/keys" "$tmp/reply"
key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null && chmod 600 "$1"; }
key "$tmp/keys/k1.pem"
openssl pkey -in "$tmp/keys/k1.pem" -pubout -out "$tmp/k1.pub" 2>/dev/null
for x in x1 x2; do
	key "$tmp/$x.pem"
	openssl pkey -in "$tmp/$x.pem" -pubout -out "$tmp/reply/$x.pem" 2>/dev/null
done
(umask 077 && openssl rand -base64 48 >"$tmp/kv.key")

grid_file() { # grid_file PRICE_MAX
	cat >"$tmp/grid.conf" <<EOF
# the test site's grid file
offset +02:00
band t1 mon-fri 07:00-22:00 0.085
band t1 * 00:00-24:00 0.045
capacity t1 12 0.2 $1 100 0
location t1 35.0 33.0
EOF
}
grid_file 0.5
conf() { # conf KEY VALUE...
	mkdir -p "$tmp/sp.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "identity sp.s1"
		echo "state_dir $tmp/sp.state"
		echo "key_dir $tmp/keys"
		echo "k_min 3"
		echo "time_epoch 2020-02-27T10:00:00Z"
		echo "grid_file $tmp/grid.conf"
		echo "reference_factor 1.2"
		echo "reference_adder 0.05"
		echo "forecast_days 3"
		echo "kv_key_file $tmp/kv.key"
		echo "kv_reply_keys $tmp/reply"
		echo "kv_max_keys 5"
		[ -n "$STORE_LINE" ] && echo "$STORE_LINE"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/sp.conf"
}
in_log() { grep -q -- "$1" "$tmp/sp.log" 2>/dev/null; }
start_sp() {
	"$SP" -c "$tmp/sp.conf" -v >>"$tmp/sp.log" 2>&1 &
	pid_sp=$!
	pids+=($pid_sp)
}
pub() { "$GFCTL" --port "$LOCAL_PORT" --id "$1" pub "$2" "$3" "${@:4}" >/dev/null; }
n_where() { jq -c "select($2)" "$tmp/$1.out" 2>/dev/null | wc -l; }
has_n() { [ "$(n_where "$1" "$2")" -eq "$3" ]; }
first() { jq -c "select($2) | $3" "$tmp/$1.out" 2>/dev/null | head -1; }
r6() { jq -c 'map(. * 1000000 | round / 1000000)'; }
ask() { # ask WHO MSG JSON: a request with correlation data (mosquitto_pub, MQTT v5)
	mosquitto_pub -h localhost -p "$LOCAL_PORT" -u "$1" -P "$PASSWORD" -i "$1@ask" -V mqttv5 -q 1 \
		-t "gf/site1/${1%%.*}/${1#*.}/sp/s1/$2" -D publish correlation-data "c-$RANDOM" -m "$3"
}
result() { first "$1" ".msg == \"$2.result\" and .payload.status.requestId == \"$3\"" "$4"; }
answered() { [ -n "$(result "$1" "$2" "$3" .)" ]; }

# --- configuration -------------------------------------------------------------------------
conf
printf 'band t1 mon-fri 07:10-22:00 0.085\n' >"$tmp/bad.conf"
"$SP" -c "$tmp/sp.conf" -n >"$tmp/n.log" 2>&1
check "-n: the services' keys" eq "$(grep -cE '^(reference_factor 1.2|forecast_days 3|kv_max_keys 5|weather_radius_km 25)$' "$tmp/n.log")" 4
conf grid_file "$tmp/bad.conf"
"$SP" -c "$tmp/sp.conf" -n >"$tmp/n.log" 2>&1; rc=$?
check "-n refuses a band off the quarter hours: exit 2, file and line" \
	eq "$rc $(grep -c "bad.conf:1: band: expected HH:MM-HH:MM on quarter hours" "$tmp/n.log")" "2 1"
conf

# --- consumers first ----------------------------------------------------------------------
watch foa foa.f1 'gf/site1/sp/s1/#' || not_ok "foa.f1 subscribed"
watch fman fman.m1 'gf/site1/sp/s1/#' || not_ok "fman.m1 subscribed"
watch fmar fmar.r1 'gf/site1/sp/s1/#' || not_ok "fmar.r1 subscribed"
watch doms doms.o1 'gf/site1/sp/s1/doms/o1/#' || not_ok "doms.o1 subscribed"
watch xems xems.x1 'gf/site1/sp/s1/xems/#' || not_ok "xems.x1 subscribed"

start_sp
check "gf-sp starts with the grid file and the kv store" \
	wait_for 10 in_log "GF-SP-SERVICES grid file: 2 bands, 1 capacity lines, 1 locations; kv store on"
# (its session is new: what the DMS and the others send it once must find it
# subscribed)
wait_for 10 in_log GF-BUS-SUBSCRIBED || echo "# gf-sp did not subscribe"

# --- transfercost: today and tomorrow at start ---------------------------------------------
tc_day() { first foa ".msg == \"transfercost\" and .payload.startTime == \"$1\"" '.payload.costs'; }
check "transfercost of today reaches foa.f1" wait_for 10 has_n foa '.msg == "transfercost"' 2
check "... on the public feed gf/site1/sp/s1/all/all/transfercost" \
	eq "$(first foa '.msg == "transfercost"' .topic)" '"gf/site1/sp/s1/all/all/transfercost"'
check "... today (Thursday): 0.085 from 07:00 to 22:00 local (+02:00), else 0.045" \
	eq "$(tc_day 2020-02-27T00:00:00Z | r6)" "$($EXPECT transfercost $DAY0 96 120 | r6)"
check "... tomorrow too, and fman.m1 reads it" \
	eq "$(first fman '.msg == "transfercost" and .payload.startTime == "2020-02-28T00:00:00Z"' '.payload.costs' | r6)" \
	"$($EXPECT transfercost $((DAY0 + 86400)) 96 120 | r6)"

# --- metering: 3 meters of grid point t1, 3 days -------------------------------------------
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
	$GEN meter --meter 1 --start $DAYM3 --days 3 --day 0=0.2 --day 1=0.4 --day 2=0.3
	for m in 2 3; do $GEN meter --meter $m --start $DAYM3 --days 3 --set 0:72-76=1.5 --set 1:72-76=1.5 --set 2:72-76=1.5; done
} >"$tmp/days"
seal "$tmp/days" && dms "$tmp/days.jwe" meter.reading
readings=$(jq '.readings | length' "$tmp/days" | awk '{ s += $1 } END { print s }')
n_stored() {
	local b
	b=$(grep -o 'GF-SP-BATCH .*readings, [0-9]* new' "$tmp/sp.log" | sed 's/.*readings, \([0-9]*\) new/\1/' | awk '{ s += $1 } END { print s + 0 }')
	[ "$b" -ge "$readings" ]
}
check "the topology and the $readings readings are stored" wait_for 30 n_stored

# --- external data in (ext.e1, as gf-ingest) ------------------------------------------------
PRICES='[0.031,0.029,0.027,0.030,0.045,0.052,0.060,0.058,0.050,0.047,0.044,0.043,0.041,0.040,0.042,0.048,0.055,0.066,0.071,0.069,0.061,0.050,0.042,0.035]'
pub ext.e1 gf/site1/ext/e1/sp/s1/price.dayahead \
	"{\"area\":\"CY\",\"resolution\":3600,\"startTime\":\"2020-02-27T00:00:00Z\",\"prices\":$PRICES,\"issuedTime\":\"2020-02-26T12:00:00Z\",\"source\":\"ENTSO-E A44\"}"
check "price.reference reaches foa.f1, fman.m1 and fmar.r1" \
	wait_for 10 eval 'has_n foa ".msg == \"price.reference\"" 1 && has_n fman ".msg == \"price.reference\"" 1 && has_n fmar ".msg == \"price.reference\"" 1'
check "... = 1.2 x day-ahead + 0.05, area, resolution, start" \
	eq "$(first foa '.msg == "price.reference"' '[.payload.area, .payload.resolution, .payload.startTime, (.payload.prices | map(. * 1e6 | round / 1e6))]')" \
	"$(jq -c '["CY", 3600, "2020-02-27T00:00:00Z", map(1.2 * . + 0.05 | . * 1e6 | round / 1e6)]' <<<"$PRICES")"
pub ext.e1 gf/site1/ext/e1/sp/s1/price.dayahead \
	"{\"area\":\"CY\",\"resolution\":3600,\"startTime\":\"2020-02-27T00:00:00Z\",\"prices\":$PRICES,\"issuedTime\":\"2020-02-26T12:00:00Z\",\"source\":\"ENTSO-E A44\"}"
pub ext.e1 gf/site1/ext/e1/sp/s1/price.dayahead \
	'{"area":"CY","currency":"USD","resolution":3600,"startTime":"2020-02-28T00:00:00Z","prices":[0.1]}'
check "a bad price.dayahead is refused, saying why" wait_for 10 in_log "GF-SP-EXT price.dayahead from ext.e1 (message [0-9a-f]*) refused: currency: only EUR"
check "... and the same message again gives no second price.reference" has_n foa '.msg == "price.reference"' 1

# Weather: observations of the 3 history days (10, 0, 5 degrees), a forecast of today (2.5).
obs() { # obs DAY-EPOCH TEMP
	local s
	s=$(date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ)
	printf '{"location":{"latitude":35.01,"longitude":33.02},"startTime":"%s","intervalLength":3600,"source":"open-meteo","temperature":%s,"windSpeed":%s}' \
		"$s" "$(jq -nc "[range(24)] | map($2)")" "$(jq -nc '[range(24)] | map(3)')"
}
pub ext.e1 gf/site1/ext/e1/sp/s1/weather.observation "$(obs $DAYM3 10)"
pub ext.e1 gf/site1/ext/e1/sp/s1/weather.observation "$(obs $((DAYM3 + 86400)) 0)"
pub ext.e1 gf/site1/ext/e1/sp/s1/weather.observation "$(obs $((DAYM3 + 2 * 86400)) 5)"
FC=$(obs $DAY0 2.5 | jq -c '. + {issuedTime: "2020-02-27T06:00:00Z"}')
pub ext.e1 gf/site1/ext/e1/sp/s1/weather.forecast "$FC"
check "weather.forecast passed on to foa.f1 and fmar.r1 as it came" \
	wait_for 10 eval 'has_n foa ".msg == \"weather.forecast\"" 1 && has_n fmar ".msg == \"weather.forecast\"" 1'
check "... the same series" eq "$(first foa '.msg == "weather.forecast"' '.payload | [.startTime, .issuedTime, .temperature[0], (.temperature | length)]')" \
	'["2020-02-27T00:00:00Z","2020-02-27T06:00:00Z",2.5,24]'
check "observations are stored, not passed on" wait_for 10 eval '[ "$(grep -c "GF-SP-EXT weather.observation from ext.e1 .*24 intervals stored" "$tmp/sp.log")" -eq 3 ]'
check "... no weather.observation on the feed" has_n foa '.msg == "weather.observation"' 0

# --- queries ----------------------------------------------------------------------------------
ask fman.m1 price.query '{"requestId":"p1","kind":"dayahead","area":"CY","fromTime":"2020-02-27T05:00:00Z","toTime":"2020-02-27T08:00:00Z"}'
wait_for 10 answered fman price.query p1
check "price.query dayahead: 3 hours of the stored prices, to fman.m1" \
	eq "$(result fman price.query p1 '[.topic, .payload.status.code, .payload.series[0].resolution, .payload.series[0].startTime, .payload.series[0].prices]')" \
	"$(jq -c '["gf/site1/sp/s1/fman/m1/price.query.result", "ok", 3600, "2020-02-27T05:00:00Z", .[5:8]]' <<<"$PRICES")"
ask fmar.r1 price.query '{"requestId":"p2","kind":"reference","area":"CY","fromTime":"2020-02-27T22:00:00Z","toTime":"2020-02-28T02:00:00Z"}'
wait_for 10 answered fmar price.query p2
check "price.query reference (fmar.r1): the day's last 2 hours, the formula applied, issuedTime kept" \
	eq "$(result fmar price.query p2 '[.payload.series[0].startTime, .payload.series[0].issuedTime, (.payload.series[0].prices | map(. * 1e6 | round / 1e6))]')" \
	"$(jq -c '["2020-02-27T22:00:00Z", "2020-02-26T12:00:00Z", (.[22:24] | map(1.2 * . + 0.05 | . * 1e6 | round / 1e6))]' <<<"$PRICES")"
ask fman.m1 weather.query '{"requestId":"w1","kind":"observation","location":{"gridPointId":"t1"},"fromTime":"2020-02-25T23:00:00Z","toTime":"2020-02-26T02:00:00Z"}'
wait_for 10 answered fman weather.query w1
check "weather.query by grid point (the grid file's location, nearest stored within 25 km): 0 then 5 degrees" \
	eq "$(result fman weather.query w1 '.payload.series[0] | [.location.latitude, .location.longitude, .startTime, .temperature, .windSpeed, .source]')" \
	'[35.01,33.02,"2020-02-25T23:00:00Z",[0,5,5],[3,3,3],"open-meteo"]'
ask fman.m1 weather.query '{"requestId":"w2","kind":"forecast","location":{"latitude":47.4,"longitude":8.5},"fromTime":"2020-02-27T00:00:00Z","toTime":"2020-02-27T02:00:00Z"}'
wait_for 10 answered fman weather.query w2
check "weather.query far from any stored location: notFound, saying why" \
	eq "$(result fman weather.query w2 '.payload.status | [.code, .reason]')" '["notFound","no weather stored within 25 km"]'
ask fman.m1 transfercost.query '{"requestId":"t1","fromGridPointId":"t0","toGridPointId":"t1","fromTime":"2020-02-28T04:00:00Z","toTime":"2020-02-28T06:10:00Z"}'
wait_for 10 answered fman transfercost.query t1
check "transfercost.query: the whole intervals, 0.045 before 07:00 local, 0.085 from then" \
	eq "$(result fman transfercost.query t1 '.payload.costs[0] | [.fromGridPointId, .toGridPointId, .startTime, .costs]')" \
	"[\"t0\",\"t1\",\"2020-02-28T04:00:00Z\",$($EXPECT transfercost $((DAY0 + 86400 + 4 * 3600)) 8 120)]"
ask fmar.r1 transfercost.query '{"requestId":"t2","toGridPointId":"t9","fromTime":"2020-02-28T04:00:00Z","toTime":"2020-02-28T05:00:00Z"}'
wait_for 10 answered fmar transfercost.query t2
check "transfercost.query of a grid point without bands: notFound, saying why" \
	eq "$(result fmar transfercost.query t2 '.payload.status | [.code, .reason]')" \
	'["notFound","no tariff band of grid point t9 holds 2020-02-28T04:00:00Z"]'

# --- energy.forecast ----------------------------------------------------------------------------
LEVELS=$(python3 -c '
import json
m1 = [0.2, 0.4, 0.3]
print(json.dumps([[m1[d] + (3.0 if 72 <= i < 76 else 1.0) for i in range(96)] for d in range(3)]))')
EXP=$($EXPECT forecast "$LEVELS" '[10,0,5]' 2.5)
pub doms.o1 gf/site1/doms/o1/sp/s1/meter.subscribe '{"subscriptionId":"fc1","gridPointIds":["t1"],"forecasts":true,"intervalLength":900}'
fc_today() { first doms '.msg == "energy.forecast" and .payload.startTime == "2020-02-27T00:00:00Z"' "$1"; }
check "energy.forecast of t1 for today reaches doms.o1" wait_for 10 eval '[ -n "$(fc_today .)" ]'
check "... the mean of 3 days per interval, scaled by the weather's factor" \
	eq "$(fc_today '.payload.energy' | r6)" "$(jq -c '.energy' <<<"$EXP" | r6)"
check "... lower and upper: the least and most day, scaled" \
	eq "$(fc_today '[.payload.lowerBound, .payload.upperBound] | map(map(. * 1e6 | round / 1e6))')" \
	"$(jq -c '[.lower, .upper] | map(map(. * 1e6 | round / 1e6))' <<<"$EXP")"
check "... the factor is not 1 (colder than the history's mean), logged" \
	in_log "GF-SP-FORECAST energy.forecast of t1 for 2020-02-27T00:00:00Z to doms.o1 (subscription fc1), weather factor $(jq -r '.factor * 1000 | round / 1000 | tostring' <<<"$EXP")"
check "... and the metering subscription of the same message is made too" in_log "GF-SP-SUBSCRIBE subscription fc1 of doms.o1: 0 meters, 1 grid points"

# --- capacityprice -----------------------------------------------------------------------------
ask fman.m1 capacityprice.query '{"requestId":"c1","flexOfferIds":["p1-1","p1-2"],"gridPointId":"t1","fromTime":"2020-02-27T17:00:00Z","toTime":"2020-02-27T20:00:00Z"}'
wait_for 10 answered fman capacityprice.query c1
CAP=$($EXPECT capacity "$(jq -c '.energy[68:80]' <<<"$EXP")" 12 0.2 0.5 100 0)
check "capacityprice.query: per offer, the DOMS's price of the forecast over 3 kWh (12 kW)" \
	eq "$(result fman capacityprice.query c1 '[.payload.prices[] | [.flexOfferId, .gridPointId, .startTime, (.prices | map(. * 1e6 | round / 1e6))]]')" \
	"$(jq -c '[["p1-1","t1","2020-02-27T17:00:00Z", map(. * 1e6 | round / 1e6)], ["p1-2","t1","2020-02-27T17:00:00Z", map(. * 1e6 | round / 1e6)]]' <<<"$CAP")"
check "... non-zero only in the evening peak 18:00-19:00" \
	eq "$(jq -c '[to_entries[] | select(.value > 0) | .key]' <<<"$CAP")" "[4,5,6,7]"
ask fman.m1 capacityprice.query '{"requestId":"c2","flexOfferIds":["p1-1"],"fromTime":"2020-02-27T17:00:00Z","toTime":"2020-02-27T20:00:00Z"}'
wait_for 10 answered fman capacityprice.query c2
check "capacityprice.query without gridPointId: notFound, saying why" \
	eq "$(result fman capacityprice.query c2 '.payload.status.reason')" '"the platform does not know the offers'"'"' grid point: give gridPointId"'

# --- kv ----------------------------------------------------------------------------------------
kv() { # kv XEMS MSG JSON: sealed to the SP and published as xems.XEMS
	printf '%s' "$3" | "$SEAL" seal --to "$tmp/k1.pub" --kid k1 --cty application/json >"$tmp/kv.jwe" &&
		pub "xems.$1" "gf/site1/xems/$1/sp/s1/$2" "@$tmp/kv.jwe" --as jose
}
kv x1 kv.put '{"entries":[{"key":"cfg/setpoint","value":"{\"t\":21.5}"},{"key":"bench/boiler/kwh","number":10,"unit":"kWh"}]}'
kv x2 kv.put '{"entries":[{"key":"bench/boiler/kwh","number":20,"unit":"kWh"}]}'
check "two xEMS put a bench/ key: no kv.value yet (kv_k_min 3)" wait_for 10 eval '[ "$(grep -c "GF-SP-KV kv.put from" "$tmp/sp.log")" -eq 2 ]'
kv x3 kv.put '{"entries":[{"key":"bench/boiler/kwh","number":36,"unit":"kWh"}]}'
check "the third: kv.value, retained, to xems/all, read by xems.x1" wait_for 10 has_n xems '.msg == "kv.value"' 1
check "... the mean over the 3 (22), least and most, per key and unit" \
	eq "$(first xems '.msg == "kv.value"' '[.topic, (.payload.entries[] | [.key, .number, .unit, (.value | fromjson)])]')" \
	'["gf/site1/sp/s1/xems/all/kv.value",["bench/boiler/kwh",22,"kWh",{"n":3,"min":10,"max":36}]]'
"$GFCTL" --port "$LOCAL_PORT" --id xems.x2 sub 'gf/site1/sp/s1/xems/all/kv.value' --count 1 --timeout 5 >"$tmp/retained.out" 2>/dev/null
check "... a later subscriber gets it retained" eq "$(jq -c '[.retained, .payload.entries[0].number]' "$tmp/retained.out")" '[true,22]'
kv x1 kv.get '{"requestId":"g1","keys":["cfg/setpoint","bench/boiler/kwh","nothing"]}'
kv x2 kv.get '{"requestId":"g2","prefix":"cfg/"}'
check "kv.get.result sealed, to x1 and to x2, both readable on the public row" \
	wait_for 10 eval '[ "$(n_where xems ".msg == \"kv.get.result\"")" -eq 2 ]'
open_as() { # open_as XEMS ID: the sealed answer to XEMS opened with its key
	jq -r "select(.msg == \"kv.get.result\" and (.topic | endswith(\"/xems/$2/kv.get.result\"))) | .payload" "$tmp/xems.out" | head -1 | tr -d '\n' |
		"$SEAL" open --key "$tmp/$1.pem" --kid "$2" 2>/dev/null
}
check "x1 opens its answer: its own keys, values as put" \
	eq "$(open_as x1 x1 | jq -c '[.status.code, .status.requestId, [.entries[] | [.key, .value, .number]]]')" \
	'["ok","g1",[["bench/boiler/kwh",null,10],["cfg/setpoint","{\"t\":21.5}",null]]]'
check "x2 asked its namespace: not x1's cfg/ key" eq "$(open_as x2 x2 | jq -c '[.status.requestId, .entries]')" '["g2",null]'
check "x1 cannot open x2's answer" eq "$(open_as x1 x2 | wc -c)" 0
kv x3 kv.get '{"keys":["bench/boiler/kwh"]}'
check "kv.get without a reply key of the asker: no answer, logged with the reason" \
	wait_for 10 in_log "GF-SP-KV kv.get from xems.x3 (message [0-9a-f]*) refused: no key to seal the answer to"
kv x1 kv.put '{"entries":[{"key":"a","value":"1"},{"key":"b","value":"1"},{"key":"c","value":"1"},{"key":"d","value":"1"}]}'
check "a put beyond kv_max_keys 5 is refused whole, saying why" \
	wait_for 10 in_log "GF-SP-KV kv.put from xems.x1 (message [0-9a-f]*) refused: the namespace would hold 6 keys"
kv x1 kv.get '{"requestId":"g3","prefix":""}'
wait_for 10 eval '[ "$(n_where xems ".msg == \"kv.get.result\"")" -eq 3 ]'
check "... nothing of it was stored" \
	eq "$(jq -r 'select(.msg == "kv.get.result" and (.topic | endswith("/xems/x1/kv.get.result"))) | .payload' "$tmp/xems.out" | tail -1 | tr -d '\n' |
		"$SEAL" open --key "$tmp/x1.pem" --kid x1 2>/dev/null | jq -c '[.entries[].key]')" '["bench/boiler/kwh","cfg/setpoint"]'
check "no kv value or namespace in the log" eq "$(grep -cE '21\.5|setpoint' "$tmp/sp.log")" 0

# --- SIGHUP: a new price_max; the watched offers priced again ----------------------------------
cp "$tmp/bad.conf" "$tmp/grid.conf"
kill -HUP "$pid_sp"
check "SIGHUP with a bad grid file keeps the running one, saying why" \
	wait_for 10 in_log "GF-SP-RELOAD SIGHUP: keeping the running configuration: .*grid.conf:1: band"
grid_file 0.9
kill -HUP "$pid_sp"
check "SIGHUP with price_max 0.9: capacityprice for each watched offer to fman.m1" \
	wait_for 10 has_n fman '.msg == "capacityprice"' 2
CAP9=$($EXPECT capacity "$(jq -c '.energy[68:80]' <<<"$EXP")" 12 0.2 0.9 100 0)
check "... the new prices, over the offer's period" \
	eq "$(first fman '.msg == "capacityprice" and .payload.flexOfferId == "p1-2"' '[.topic, .payload.startTime, (.payload.prices | map(. * 1e6 | round / 1e6))]')" \
	"$(jq -c '["gf/site1/sp/s1/fman/m1/capacityprice", "2020-02-27T17:00:00Z", map(. * 1e6 | round / 1e6)]' <<<"$CAP9")"
check "... transfercost not sent again (same content)" has_n foa '.msg == "transfercost"' 2

# --- crash safety ------------------------------------------------------------------------------
kill -9 "$pid_sp"
wait "$pid_sp" 2>/dev/null
pub ext.e1 gf/site1/ext/e1/sp/s1/price.dayahead \
	"{\"area\":\"CH\",\"resolution\":900,\"startTime\":\"2020-02-27T00:00:00Z\",\"prices\":[0.1,0.2],\"issuedTime\":\"2020-02-26T12:00:00Z\"}"
GF_STORE_FAIL=ext: start_sp
wait_for 10 in_log "GF-AGENT-FAIL"
wait "$pid_sp" 2>/dev/null; rc=$?
check "the first ext: transaction fails: gf-sp stops (exit 1), nothing published" \
	eq "$rc $(n_where foa '.msg == "price.reference" and .payload.area == "CH"')" "1 0"
start_sp
check "restarted: the price.dayahead of CH handled once: one price.reference" \
	wait_for 10 has_n foa '.msg == "price.reference" and .payload.area == "CH"' 1
sleep 1
check "... and no transfercost, energy.forecast or capacityprice sent again after the kill -9" \
	eval 'has_n foa ".msg == \"transfercost\"" 2 && has_n doms ".msg == \"energy.forecast\"" 2 && has_n fman ".msg == \"capacityprice\"" 2'
check "the stored prices survived: price.query after the restarts" \
	eval 'ask fman.m1 price.query "{\"requestId\":\"p3\",\"kind\":\"dayahead\",\"area\":\"CY\",\"fromTime\":\"2020-02-27T00:00:00Z\",\"toTime\":\"2020-02-28T00:00:00Z\"}" && wait_for 10 answered fman price.query p3'
check "... all 24" eq "$(result fman price.query p3 '.payload.series[0].prices | length')" 24

kill "$pid_sp" 2>/dev/null
wait "$pid_sp"; rc=$?
check "gf-sp drains and stops on SIGTERM: exit 0 (under ASan: no leak, no error)" eq "$rc" 0
finish
