#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp's validation.query (issue 13 item 4, docs/sp.md "Validation")
# against the real mosquitto with our plugin, on the store SP_STORE names:
# sqlite (default) or postgresql (sp_validation_pg_test.sh runs this script
# so). The DMS is mosquitto_pub with batches sealed by gf-seal; FMAN and
# FMAR ask with mosquitto_pub/mosquitto_sub (correlation data). The agent's
# clock stands at 2020-02-27 18:37 (the event day, day 0); the history is
# days -4 to -1; baseline 2 of 3, looked for in 4 days, multiplicative
# adjustment over 4 intervals ending 1 before the window:
#
#   - meter 1 starts reading at noon of day -4 (that day is not complete),
#     then 0.2, 0.4, 0.3 kWh per interval on days -3, -2, -1, and 0.3 on the
#     event day but 0.1 in 18:00-19:00: the window's baseline is the mean of
#     the two highest days, 0.35, adjusted by 0.3 / 0.35 to 0.3; its actual
#     energy is the two intervals over by the clock (18:00, 18:15), 0.1;
#   - grid point t1 of meters 1-3 (k_min 3): the sum, history over the days
#     where all three are complete (1.35 adjusted to 1.3), actual 1.1;
#   - refusals: a grid point of 2 meters (denied), an unknown meter
#     (notFound), a meter without history (failed, saying why), a window
#     without a whole interval (badRequest); correlation data and requestId
#     echoed; asked by FMAR too;
#   - SIGHUP: baseline_adjust none gives the unadjusted 0.35; a bad value
#     keeps the running configuration, and is refused by -n (exit 2);
#   - no pseudonym and no value in gf-sp's log.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

SP=$BUILD/bin/gf-sp SEAL=$BUILD/tests/tools/gf-seal
GEN="/usr/bin/python3 $(dirname "$0")/settle_data.py"
PSEUDO="/usr/bin/python3 $(dirname "$0")/sp_batches.py pseudonym"
STORE_KIND=${SP_STORE:-sqlite}
for b in "$SP" "$SEAL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done
echo "# store: $STORE_KIND"

agent_tmp
trap 'agent_cleanup; pg_stop' EXIT
site_new "$S" site1
add_password "$S" sp.s1 dms.d1 fman.m1 fmar.r1
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

DAY0=1582761600 # 2020-02-27T00:00:00Z, the event day
DAYM4=$((DAY0 - 4 * 86400))
mkdir -p "$tmp/keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/keys/k1.pem" 2>/dev/null
chmod 600 "$tmp/keys/k1.pem"
openssl pkey -in "$tmp/keys/k1.pem" -pubout -out "$tmp/k1.pub" 2>/dev/null

conf() { # conf KEY VALUE...
	mkdir -p "$tmp/sp.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "identity sp.s1"
		echo "state_dir $tmp/sp.state"
		echo "key_dir $tmp/keys"
		echo "k_min 3"
		echo "time_epoch 2020-02-27T18:37:00Z"
		echo "baseline_x 2"
		echo "baseline_y 3"
		echo "baseline_days 4"
		[ -n "$STORE_LINE" ] && echo "$STORE_LINE"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/sp.conf"
}
in_log() { grep -q -- "$1" "$tmp/sp.log" 2>/dev/null; }
seal() { # seal FILE: each line sealed into FILE.jwe
	: >"$1.jwe"
	while IFS= read -r line; do
		printf '%s' "$line" | "$SEAL" seal --to "$tmp/k1.pub" --kid k1 --cty application/json >>"$1.jwe" || return 1
		echo >>"$1.jwe"
	done <"$1"
}
dms() { # dms FILE [MSG]
	mosquitto_pub -h localhost -p "$LOCAL_PORT" -u dms.d1 -P "$PASSWORD" -i dms.d1 -V mqttv5 -q 1 \
		-t "gf/site1/dms/d1/sp/s1/${2:-meter.reading}" -D publish content-type application/jose -l <"$1"
}

# --- configuration ----------------------------------------------------------------------
conf baseline_adjust sideways
"$SP" -c "$tmp/sp.conf" -n >"$tmp/n.log" 2>&1; rc=$?
check "-n refuses baseline_adjust sideways: exit 2, saying why" \
	eq "$rc $(grep -c 'baseline_adjust sideways: none, mult or add' "$tmp/n.log")" "2 1"
conf baseline_x 4
"$SP" -c "$tmp/sp.conf" -n >"$tmp/n.log" 2>&1; rc=$?
check "-n refuses baseline_x above baseline_y" eq "$rc $(grep -c 'baseline_x 4 is more than baseline_y 3' "$tmp/n.log")" "2 1"
conf
out=$("$SP" -c "$tmp/sp.conf" -n 2>&1); rc=$?
check "-n: the curve's keys (baseline_adjust mult by default)" eq "$rc $(grep -cxE 'baseline_adjust mult|baseline_x 2|baseline_adj_len 4' <<<"$out")" "0 3"
"$SP" -c "$tmp/sp.conf" -v >>"$tmp/sp.log" 2>&1 &
pid_sp=$!
pids+=($pid_sp)
check "gf-sp starts" wait_for 10 in_log "GF-SP-START"
# (its session is new: the topologies and readings, sent once, must find it
# subscribed)
wait_for 10 in_log GF-BUS-SUBSCRIBED || echo "# gf-sp did not subscribe"

# --- the data -------------------------------------------------------------------------------
mapfile -t P < <($PSEUDO 0 1 2 3 4 99)
topology() { # topology GRID METER...
	local grid=$1 loads="" n; shift
	for n in "$@"; do loads+="${loads:+,}{\"loadId\":\"L$n\",\"busId\":\"b1\",\"phase\":\"A\",\"deviceId\":\"${P[$n]}\"}"; done
	printf '{"gridPointId":"%s","revision":1,"pseudonymKeyId":"dso-k1","buses":[{"busId":"b1"}],"loads":[%s]}\n' "$grid" "$loads"
}
{ topology t1 1 2 3; topology t2 1 2; } >"$tmp/topo"
seal "$tmp/topo" && dms "$tmp/topo.jwe" grid.topology
{
	$GEN meter --meter 1 --start $DAYM4 --days 5 --first-step 48 --day 0=0.3 --day 1=0.2 --day 2=0.4 --day 3=0.3 --day 4=0.3 --set 4:72-76=0.1
	$GEN meter --meter 2 --start $DAYM4 --days 5
	$GEN meter --meter 3 --start $DAYM4 --days 5
	$GEN meter --meter 4 --start $DAY0 --days 1
} >"$tmp/days"
seal "$tmp/days" && dms "$tmp/days.jwe"
check "the topologies are stored" wait_for 20 in_log "grid point t2: revision 1"
readings=$(jq '.readings | length' "$tmp/days" | awk '{ s += $1 } END { print s }')
n_stored() {
	local b
	b=$(grep -o 'GF-SP-BATCH .*readings, [0-9]* new' "$tmp/sp.log" | sed 's/.*readings, \([0-9]*\) new/\1/' | awk '{ s += $1 } END { print s + 0 }')
	[ "$b" -ge "$readings" ]
}
check "the $readings readings are stored" wait_for 30 n_stored

# --- queries ------------------------------------------------------------------------------
# Each a persistent session made first (-E: exit once subscribed), then
# resumed by its listener: no answer is lost in between.
for who in fman.m1 fmar.r1; do
	answers=(mosquitto_sub -h localhost -p "$LOCAL_PORT" -u "$who" -P "$PASSWORD" -i "$who@answers" -V mqttv5 -q 1
		-c -t "gf/site1/sp/s1/${who%%.*}/${who#*.}/#" -F '%D|%t|%p')
	"${answers[@]}" -E >>"$tmp/answers" 2>>"$tmp/answers.err" || echo "# $who's subscription failed"
	"${answers[@]}" >>"$tmp/answers" 2>>"$tmp/answers.err" &
	pids+=($!)
done
ask() { # ask WHO CORRELATION DEVICE FROM TO [REQUEST-ID]
	mosquitto_pub -h localhost -p "$LOCAL_PORT" -u "$1" -P "$PASSWORD" -i "$1@ask" -V mqttv5 -q 1 \
		-t "gf/site1/${1%%.*}/${1#*.}/sp/s1/validation.query" -D publish correlation-data "$2" \
		-m "$(printf '{"requestId":"%s","deviceId":"%s","flexOfferId":"p1-1","fromTime":"2020-02-27T%s:00Z","toTime":"2020-02-27T%s:00Z"}' "${6:-$2}" "$3" "$4" "$5")"
}
answer() { grep "^$1|" "$tmp/answers" | head -1 | cut -d'|' -f3-; }
answered() { [ -n "$(answer "$1")" ]; }
r6() { jq -c "$1"' | map(. * 1000000 | round / 1000000)'; }

ask fman.m1 v1 "${P[1]}" 18:00 19:00 req-1
check "validation.query is answered with its correlation data" wait_for 10 answered v1
check "... as validation.query.result on sp.s1's topic to fman.m1" \
	eq "$(grep '^v1|' "$tmp/answers" | cut -d'|' -f2)" "gf/site1/sp/s1/fman/m1/validation.query.result"
check "... status ok, requestId echoed" eq "$(answer v1 | jq -c '.status')" '{"code":"ok","requestId":"req-1"}'
check "... deviceId, flexOfferId, the first interval, 900 s" \
	eq "$(answer v1 | jq -r '.validation | "\(.deviceId == "'"${P[1]}"'") \(.flexOfferId) \(.startTime) \(.intervalLength)"')" \
	"true p1-1 2020-02-27T18:00:00Z 900"
check "meter 1: forecast = 2 of 3 days (0.4, 0.3) adjusted to the day (0.3 / 0.35): 0.3 each" \
	eq "$(answer v1 | r6 '.validation.forecastEnergy')" "[0.3,0.3,0.3,0.3]"
check "... actual: the two intervals the clock (18:37) has seen end, 0.1 each" \
	eq "$(answer v1 | r6 '.validation.actualEnergy')" "[0.1,0.1]"
check "... logged: 4 intervals, 2 over, 2 of 3 of 3 complete days, adjusted" \
	in_log "GF-SP-VALIDATION validation.query (message [0-9a-f]*) from fman.m1: ok, 4 intervals, 2 over; baseline 2 of 3 (3 complete days), adjusted"

ask fmar.r1 v2 t1 17:45 19:00
wait_for 10 answered v2
check "grid point t1 (asked by FMAR): the sum over the days all 3 meters complete, 1.35 adjusted to 1.3" \
	eq "$(answer v2 | r6 '.validation.forecastEnergy')" "[1.3,1.3,1.3,1.3,1.3]"
check "... actual: 17:45 at 1.3 (meter 1 at 0.3), then 1.1 (meter 1 at 0.1)" \
	eq "$(answer v2 | r6 '.validation.actualEnergy')" "[1.3,1.1,1.1]"
check "... to fmar.r1" eq "$(grep '^v2|' "$tmp/answers" | cut -d'|' -f2)" "gf/site1/sp/s1/fmar/r1/validation.query.result"

ask fman.m1 v3 t2 18:00 19:00
wait_for 10 answered v3
check "a grid point of 2 meters (k_min 3): denied, saying why, no data" \
	eq "$(answer v3 | jq -c '[.status.code, .status.reason, .validation]')" '["denied","grid point t2 has 2 meters, fewer than k_min 3",null]'
ask fman.m1 v4 "${P[5]}" 18:00 19:00
wait_for 10 answered v4
check "an unknown meter: notFound" eq "$(answer v4 | jq -r '.status.code')" "notFound"
ask fman.m1 v5 "${P[4]}" 18:00 19:00
wait_for 10 answered v5
check "a meter without history: failed, no baseline, no number invented" \
	eq "$(answer v5 | jq -c '[.status.code, .status.reason, .validation]')" \
	'["failed","no complete day of metered history in the 4 days before 2020-02-27: no baseline",null]'
ask fman.m1 v6 "${P[1]}" 18:05 18:10
wait_for 10 answered v6
check "a window without a whole interval: badRequest" \
	eq "$(answer v6 | jq -c '[.status.code, .status.reason]')" '["badRequest","no whole 900 s interval between fromTime and toTime"]'

# --- SIGHUP -------------------------------------------------------------------------------
conf baseline_adjust none
kill -HUP "$pid_sp"
check "SIGHUP reloads" wait_for 10 in_log "GF-SP-RELOAD .*keys"
ask fman.m1 v7 "${P[1]}" 18:00 19:00
wait_for 10 answered v7
check "baseline_adjust none: the unadjusted 0.35" eq "$(answer v7 | r6 '.validation.forecastEnergy')" "[0.35,0.35,0.35,0.35]"
conf baseline_adjust sideways
kill -HUP "$pid_sp"
check "SIGHUP with a bad baseline_adjust keeps the running configuration" \
	wait_for 10 in_log "GF-SP-RELOAD SIGHUP: keeping the running configuration: baseline_adjust sideways"
ask fman.m1 v8 "${P[1]}" 18:00 19:00
wait_for 10 answered v8
check "... still unadjusted" eq "$(answer v8 | r6 '.validation.forecastEnergy')" "[0.35,0.35,0.35,0.35]"

# --- privacy -----------------------------------------------------------------------------
printf '%s\n' "${P[@]}" >"$tmp/pseudonyms"
check "no pseudonym in gf-sp's log" eq "$(grep -cFf "$tmp/pseudonyms" "$tmp/sp.log")" 0
check "no value in it (0.35, 1.35, 0.1)" eq "$(grep -cE '0\.35|1\.35|[^0-9.]0\.1[^0-9.]' "$tmp/sp.log")" 0
kill -TERM "$pid_sp"; wait "$pid_sp"; rc=$?
check "SIGTERM: exit 0" [ "$rc" -eq 0 ]
check "no sanitizer report from gf-sp" eq "$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/sp.log")" 0
finish
