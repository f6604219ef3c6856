#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp (issue 12, docs/sp.md) against the real mosquitto with our plugin,
# on the store SP_STORE names: sqlite (default) or postgresql (a real
# server from Debian's postgresql, tests/integration/pg.sh; sp_pg_test.sh
# runs this script so). The DMS is mosquitto_pub with batches sealed by
# tests/tools/gf-seal (and one by python3-jwcrypto), FMAN asks with
# mosquitto_pub/mosquitto_sub (correlation data), the DOMS is gfctl.
#
#   - topologies: grid point t1 of 8 meters, t2 of 3 (fewer than k_min 5);
#   - a subscription of the DOMS to t1 and one meter before any data: as
#     the sealed batches arrive, meter.data per complete interval; t1's
#     intervals where a meter is missing wait (grid_wait_s), then after a
#     SIGHUP (grid_wait_s 0) come over the 7 meters that reported; a late
#     reading re-sends the intervals it corrects, and nothing else;
#   - meter.query: raw, resampled, limit/truncated, grid sum, k_min refusal,
#     a bad request; correlation data and requestId echoed;
#   - refusals (unknown kid, a tampered tag, no pseudonymKeyId, an id that is
#     not a pseudonym): logged with message id, kid and reason, nothing
#     stored; a batch sealed by jwcrypto is stored;
#   - 60 batches of 1000 readings with gf-sp killed -9 in the middle and
#     restarted: every reading stored exactly once;
#   - retention hourly on the agent's clock (3600x);
#   - no pseudonym and no value in gf-sp's log.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

SP=$BUILD/bin/gf-sp GFCTL=$BUILD/bin/gfctl SEAL=$BUILD/tests/tools/gf-seal
DATA="/usr/bin/python3 $(dirname "$0")/sp_batches.py"
STORE_KIND=${SP_STORE:-sqlite}
for b in "$SP" "$GFCTL" "$SEAL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done
echo "# store: $STORE_KIND"

agent_tmp
trap 'agent_cleanup; pg_stop' EXIT
site_new "$S" site1
add_password "$S" sp.s1 dms.d1 fman.m1 doms.o1
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
# sql QUERY: one value from the metering store.
sql() {
	if [ "$STORE_KIND" = postgresql ]; then pg_sql "$1"; else sqlite3 "$tmp/sp.state/sp-meter.db" "$1"; fi
}
# readings [WHERE]: how many readings the store holds (SQLite keeps the
# newest in sp_recent until they move to sp_reading, docs/sp.md).
readings() {
	if [ "$STORE_KIND" = postgresql ]; then
		sql "SELECT count(*) FROM sp_reading ${1:+WHERE $1}"
	else
		sql "SELECT (SELECT count(*) FROM sp_reading ${1:+WHERE $1}) + (SELECT count(*) FROM sp_recent ${1:+WHERE $1})"
	fi
}
count() { readings; }

T0=1582761600 # 2020-02-27T00:00:00Z
# The SP's keys: k1 in its key_dir, k2 not (a payload sealed to it has a kid
# gf-sp does not know).
mkdir -p "$tmp/keys" "$tmp/other"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/keys/k1.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/other/k2.pem" 2>/dev/null
chmod 600 "$tmp/keys/k1.pem" "$tmp/other/k2.pem"
openssl pkey -in "$tmp/keys/k1.pem" -pubout -out "$tmp/k1.pub" 2>/dev/null
openssl pkey -in "$tmp/other/k2.pem" -pubout -out "$tmp/k2.pub" 2>/dev/null

conf() { # conf KEY VALUE...: sp.s1's file
	mkdir -p "$tmp/sp.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "identity sp.s1"
		echo "state_dir $tmp/sp.state"
		echo "key_dir $tmp/keys"
		[ -n "$STORE_LINE" ] && echo "$STORE_LINE"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/sp.conf"
}
start_sp() {
	"$SP" -c "$tmp/sp.conf" -v >>"$tmp/sp.log" 2>&1 &
	pid_sp=$!
	pids+=($pid_sp)
}
in_log() { grep -q -- "$1" "$tmp/sp.log" 2>/dev/null; }
n_log() { grep -c -- "$1" "$tmp/sp.log" 2>/dev/null || true; }
# seal FILE KID PUB: each line of FILE sealed (gf-seal) into FILE.jwe
seal() {
	: >"$1.jwe"
	while IFS= read -r line; do
		printf '%s' "$line" | "$SEAL" seal --to "$3" --kid "$2" --cty application/json >>"$1.jwe" || return 1
		echo >>"$1.jwe"
	done <"$1"
}
# dms FILE: publishes each line of FILE (JWEs) as dms.d1's meter.reading, one connection.
dms() {
	mosquitto_pub -h localhost -p "$LOCAL_PORT" -u dms.d1 -P "$PASSWORD" -i dms.d1 -V mqttv5 -q 1 \
		-t "gf/site1/dms/d1/sp/s1/${2:-meter.reading}" -D publish content-type application/jose -l <"$1"
}
pseudo() { $DATA pseudonym "$@"; }

# --- configuration -----------------------------------------------------------------------
conf k_min 5 grid_wait_s 100000 time_epoch 2020-02-27T02:00:00Z
out=$("$SP" -c "$tmp/sp.conf" -n 2>&1); rc=$?
check "-n: exit 0 and configuration OK" eq "$rc $(grep -cx 'configuration OK' <<<"$out")" "0 1"
check "-n prints every key with its value (k_min 5)" has "$out" "k_min 5"
"$SP" -h | in_input '^  retention_days '
check "-h lists retention_days" [ $? -eq 0 ]
sed '/^key_dir/d' "$tmp/sp.conf" >"$tmp/nokeys.conf"
"$SP" -c "$tmp/nokeys.conf" -n >"$tmp/nokeys.log" 2>&1; rc=$?
check "key_dir is required: exit 2" eq "$rc $(grep -c key_dir "$tmp/nokeys.log")" "2 1"
mkdir -p "$tmp/loose"
cp "$tmp/keys/k1.pem" "$tmp/loose/k1.pem" && chmod 644 "$tmp/loose/k1.pem"
sed "s|^key_dir .*|key_dir $tmp/loose|" "$tmp/sp.conf" >"$tmp/loose.conf"
timeout 20 "$SP" -c "$tmp/loose.conf" >"$tmp/loose.log" 2>&1; rc=$?
check "a private key others may read is refused at start (exit 1, GF-SP-KEYS)" \
	eq "$rc $(grep -c 'GF-SP-KEYS' "$tmp/loose.log")" "1 1"

# --- start, topologies, a subscription before any data ---------------------------------------
mapfile -t P < <(pseudo $(seq 0 11))
topology() { # topology GRID REVISION METER...
	local grid=$1 rev=$2 loads="" n; shift 2
	for n in "$@"; do loads+="${loads:+,}{\"loadId\":\"L$n\",\"busId\":\"b1\",\"phase\":\"A\",\"deviceId\":\"${P[$n]}\"}"; done
	printf '{"gridPointId":"%s","revision":%s,"pseudonymKeyId":"dso-k1","buses":[{"busId":"b1"}],"loads":[%s]}' \
		"$grid" "$rev" "$loads"
}
start_sp
check "gf-sp starts (GF-SP-START, $STORE_KIND store)" wait_for 10 in_log "GF-SP-START sp.s1: $STORE_KIND store"
# (its session is new: the topologies, sent once, must find it subscribed)
wait_for 10 in_log GF-BUS-SUBSCRIBED || echo "# gf-sp did not subscribe"
{ topology t1 1 1 2 3 4 5 6 7 8; echo; topology t2 1 9 10 11; echo; topology t1 0 1 2; echo; } >"$tmp/topo"
seal "$tmp/topo" k1 "$tmp/k1.pub"
dms "$tmp/topo.jwe" grid.topology
check "grid.topology t1 stored with 8 meters" wait_for 10 in_log "grid point t1: revision 1 from dms.d1 stored, 8 meters"
check "... t2 with 3" wait_for 10 in_log "grid point t2: revision 1 from dms.d1 stored, 3 meters"
check "... an older revision of t1 is not stored" wait_for 10 in_log "grid point t1: revision 0 from dms.d1 is not newer"
check "... the membership from the loads' deviceIds" eq "$(sql "SELECT count(*) FROM sp_member WHERE grid = 't1'")" 8

"$GFCTL" --port "$LOCAL_PORT" --id doms.o1 -v sub "gf/site1/sp/s1/doms/o1/#" >"$tmp/doms.out" 2>"$tmp/doms.err" &
pids+=($!)
wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/doms.err"
"$GFCTL" --port "$LOCAL_PORT" --id doms.o1 pub gf/site1/doms/o1/sp/s1/meter.subscribe \
	"{\"subscriptionId\":\"s1\",\"gridPointIds\":[\"t1\"],\"deviceIds\":[\"${P[1]}\"],\"historyFromTime\":\"2020-02-27T00:00:00Z\"}" >/dev/null
check "the subscription is made (GF-SP-SUBSCRIBE)" wait_for 10 in_log "subscription s1 of doms.o1: 1 meters, 1 grid points"

# --- readings: meters 1-11, 00:00 to 02:00; meter 8 misses its 01:00 read, meter 7 stops after it ---
$DATA register --meters 1 11 --start $T0 --steps 9 --per 30 --skip 8@4 --stop 7@4 >"$tmp/day"
seal "$tmp/day" k1 "$tmp/k1.pub"
dms "$tmp/day.jwe"
expected=$(jq '.readings | length' "$tmp/day" | awk '{ s += $1 } END { print s }')
stored_is() { [ "$(count)" = "$1" ]; }
check "the $(wc -l <"$tmp/day") sealed batches are stored: $expected readings" wait_for 15 stored_is "$expected"
# data DEVICE: "time value" lines of the meter.data received for DEVICE
data() { jq -r --arg d "$1" 'select(.msg == "meter.data") | .payload.readings[] | select(.deviceId == $d) | "\(.observedTimestamp) \(.value * 1000000 | round / 1000000)"' "$tmp/doms.out"; }
n_data() { [ "$(data "$1" | wc -l)" -ge "$2" ]; }
check "meter.data: meter 1's 8 intervals" wait_for 10 n_data "${P[1]}" 8
check "... 0.1 kWh each, stamped at the interval's end (00:15 to 02:00)" \
	eq "$(data "${P[1]}" | tr '\n' ' ')" "$(for k in 1 2 3 4 5 6 7 8; do printf '%s 0.1 ' "$(date -u -d @$((T0 + 900 * k)) +%FT%TZ)"; done)"
check "... as OBIS 1-0:1.29.0 in kWh" \
	eq "$(jq -r 'select(.msg == "meter.data") | .payload.readings[] | "\(.obis) \(.unit)"' "$tmp/doms.out" | sort -u)" "1-0:1.29.0 kWh"
# data_is DEVICE TEXT: the meter.data of DEVICE so far, on one line, is TEXT
# (read again at each poll of wait_for)
data_is() { [ "$(data "$1" | tr '\n' ' ')" = "$2" ]; }
check "grid point t1: the 4 intervals all 8 meters completed, 3.6 kWh each" \
	wait_for 10 data_is t1 "2020-02-27T00:15:00Z 3.6 2020-02-27T00:30:00Z 3.6 2020-02-27T00:45:00Z 3.6 2020-02-27T01:00:00Z 3.6 "
check "... the later ones (meter 7 silent) wait: nothing yet" eq "$(data t1 | wc -l)" 4
check "... in sp_pending" eq "$(sqlite3 "$tmp/sp.state/sp.db" 'SELECT count(*) FROM sp_pending')" 4
check "no meter.data for a meter nobody subscribed to" eq "$(data "${P[2]}" | wc -l)" 0

# --- queries -------------------------------------------------------------------------------
# A persistent session made first (-E: exit once subscribed), then resumed
# by the listener: nothing answered in between is lost.
answers=(mosquitto_sub -h localhost -p "$LOCAL_PORT" -u fman.m1 -P "$PASSWORD" -i fman.m1@answers -V mqttv5 -q 1
	-c -t 'gf/site1/sp/s1/fman/m1/#' -F '%D|%t|%p')
"${answers[@]}" -E >"$tmp/answers" 2>"$tmp/answers.err" || echo "# the answers' subscription failed: $(cat "$tmp/answers.err")"
"${answers[@]}" >>"$tmp/answers" 2>"$tmp/answers.err" &
pids+=($!)
ask() { # ask CORRELATION JSON
	mosquitto_pub -h localhost -p "$LOCAL_PORT" -u fman.m1 -P "$PASSWORD" -i fman.m1@ask -V mqttv5 -q 1 \
		-t gf/site1/fman/m1/sp/s1/meter.query -D publish correlation-data "$1" -m "$2"
}
answer() { grep "^$1|" "$tmp/answers" | head -1 | cut -d'|' -f3-; }
answered() { [ -n "$(answer "$1")" ]; }
ask q1 "{\"requestId\":\"r1\",\"deviceIds\":[\"${P[1]}\"],\"fromTime\":\"2020-02-27T00:00:00Z\",\"toTime\":\"2020-02-27T02:00:00Z\"}"
check "meter.query is answered with its correlation data, on sp.s1's topic to fman.m1" wait_for 10 answered q1
check "... as meter.query.result" eq "$(grep '^q1|' "$tmp/answers" | cut -d'|' -f2)" "gf/site1/sp/s1/fman/m1/meter.query.result"
check "... status ok, requestId echoed" eq "$(answer q1 | jq -c '.status')" '{"code":"ok","requestId":"r1"}'
check "... raw: 8 reads in [from, to), in time order, the register's values" \
	eq "$(answer q1 | jq -c '[.readings[] | .value] , .truncated')" "$(printf '[100,100.1,100.2,100.3,100.4,100.5,100.6,100.7]\nfalse')"
ask q2 "{\"deviceIds\":[\"${P[1]}\"],\"fromTime\":\"2020-02-27T00:00:00Z\",\"toTime\":\"2020-02-27T02:00:00Z\",\"intervalLength\":900}"
wait_for 10 answered q2
check "intervalLength 900: 8 intervals of 0.1 kWh, 1-0:1.29.0, stamped at their ends" \
	eq "$(answer q2 | jq -c '[.readings[] | [.observedTimestamp[11:16], (.value * 1000 | round / 1000), .obis]] | first, last, length')" \
	"$(printf '["00:15",0.1,"1-0:1.29.0"]\n["02:00",0.1,"1-0:1.29.0"]\n8')"
ask q3 "{\"deviceIds\":[\"${P[1]}\",\"${P[2]}\"],\"fromTime\":\"2020-02-27T00:00:00Z\",\"toTime\":\"2020-02-27T02:00:00Z\",\"limit\":3}"
wait_for 10 answered q3
check "limit 3 over two meters: the first 3 in time, per meter, truncated" \
	eq "$(answer q3 | jq -c '[.readings[] | [(.deviceId == "'"${P[1]}"'"), .observedTimestamp[11:16]]], .truncated')" \
	"$(printf '[[true,"00:00"],[true,"00:15"],[false,"00:00"]]\ntrue')"
ask q4 "{\"deviceIds\":[\"t1\"],\"fromTime\":\"2020-02-27T00:00:00Z\",\"toTime\":\"2020-02-27T02:00:00Z\"}"
wait_for 10 answered q4
check "a grid point: the sum over its meters, the intervals that pass the k_min rule" \
	eq "$(answer q4 | jq -c '[.readings[] | (.value * 1000 | round / 1000)]')" "[3.6,3.6,3.6,3.6]"
ask q5 "{\"deviceIds\":[\"t2\"],\"fromTime\":\"2020-02-27T00:00:00Z\",\"toTime\":\"2020-02-27T02:00:00Z\",\"intervalLength\":900}"
wait_for 10 answered q5
check "a grid point of 3 meters (k_min 5) is refused: denied, saying why" \
	eq "$(answer q5 | jq -c '[.status.code, .status.reason, (.readings | length)]')" \
	'["denied","grid point t2 has 3 meters, fewer than k_min 5",0]'
ask q6 "{\"deviceIds\":[\"${P[1]}\"],\"fromTime\":\"2020-02-27T00:00:00Z\",\"toTime\":\"2020-02-27T01:00:00Z\",\"intervalLength\":900,\"obis\":\"1-0:32.7.0\"}"
wait_for 10 answered q6
check "a voltage resampled to intervals: badRequest, saying why" \
	eq "$(answer q6 | jq -c '[.status.code, .status.reason]')" '["badRequest","only 1-0:1.8.0 and 1-0:1.29.0 resample to intervals"]'

# --- a late reading: meter 8's 01:00 read (803.5, interpolation said 803.2) ------------------
before_m1=$(data "${P[1]}" | wc -l)
printf '{"pseudonymKeyId":"dso-k1","readings":[{"observedTimestamp":"2020-02-27T01:00:00Z","deviceId":"%s","value":803.5,"obis":"1-0:1.8.0"}]}\n' "${P[8]}" >"$tmp/late"
seal "$tmp/late" k1 "$tmp/k1.pub"
dms "$tmp/late.jwe"
t1_is() { [ "$(data t1 | tail -n "$1" | tr '\n' ' ')" = "$2" ]; }
check "a late reading re-sends the interval it corrects: t1 at 01:00 is 3.9" \
	wait_for 10 t1_is 1 "2020-02-27T01:00:00Z 3.9 "
check "... and nothing else (meter 1 unchanged, t1's waiting intervals still wait)" \
	eq "$(data "${P[1]}" | wc -l) $(data t1 | wc -l)" "$before_m1 5"

# --- SIGHUP: grid_wait_s 0, the waiting intervals go over the 7 meters that reported ----------
conf k_min 5 grid_wait_s 0 time_epoch 2020-02-27T02:00:00Z
kill -HUP "$pid_sp"
check "SIGHUP reloads (GF-SP-RELOAD, grid_wait_s 0)" wait_for 10 in_log "GF-SP-RELOAD.*grid_wait_s 0"
check "t1's 4 waiting intervals arrive, summed over 7 meters (01:15 with meter 8's correction)" \
	wait_for 10 t1_is 4 "2020-02-27T01:15:00Z 2.6 2020-02-27T01:30:00Z 2.9 2020-02-27T01:45:00Z 2.9 2020-02-27T02:00:00Z 2.9 "
check "... nothing waits any more" eq "$(sqlite3 "$tmp/sp.state/sp.db" 'SELECT count(*) FROM sp_pending')" 0

# --- a second subscription with history, then cancelled ----------------------------------------
"$GFCTL" --port "$LOCAL_PORT" --id doms.o1 pub gf/site1/doms/o1/sp/s1/meter.subscribe \
	"{\"subscriptionId\":\"s2\",\"deviceIds\":[\"${P[2]}\"],\"historyFromTime\":\"2020-02-27T01:00:00Z\",\"intervalLength\":1800}" >/dev/null
check "a subscription with history: meter 2's 30-minute intervals since 01:00 at once" \
	wait_for 10 data_is "${P[2]}" "2020-02-27T01:30:00Z 0.4 2020-02-27T02:00:00Z 0.4 "
"$GFCTL" --port "$LOCAL_PORT" --id doms.o1 pub gf/site1/doms/o1/sp/s1/meter.subscribe '{"subscriptionId":"s2","cancel":true}' >/dev/null
check "... cancelled" wait_for 10 in_log "subscription s2 of doms.o1 cancelled"

# --- refusals ---------------------------------------------------------------------------------
stored=$(count)
printf '{"pseudonymKeyId":"dso-k1","readings":[{"observedTimestamp":"2020-02-27T03:00:00Z","deviceId":"%s","value":1}]}\n' "${P[3]}" >"$tmp/one"
seal "$tmp/one" k2 "$tmp/k2.pub"                 # a kid gf-sp has no key for
seal "$tmp/one" k1 "$tmp/k1.pub"
cp "$tmp/one.jwe" "$tmp/good.jwe"
# the tag (fifth part) changed in its first character: still a well-formed JWE
awk -F. 'BEGIN { OFS = "." } { c = substr($5, 1, 1); $5 = (c == "A" ? "B" : "A") substr($5, 2); print }' "$tmp/good.jwe" >"$tmp/tampered.jwe"
printf '{"readings":[{"observedTimestamp":"2020-02-27T03:00:00Z","deviceId":"%s","value":1}]}\n' "${P[3]}" >"$tmp/nokid"
printf '{"pseudonymKeyId":"dso-k1","readings":[{"observedTimestamp":"2020-02-27T03:00:00Z","deviceId":"7-PRE-001","value":1}]}\n' >"$tmp/raw"
seal "$tmp/nokid" k1 "$tmp/k1.pub"
seal "$tmp/raw" k1 "$tmp/k1.pub"
refused_before=$(n_log GF-SP-REFUSED)
"$SEAL" seal --to "$tmp/k2.pub" --kid k2 --cty application/json <"$tmp/one" >"$tmp/k2.jwe"
dms "$tmp/k2.jwe"
dms "$tmp/tampered.jwe"
dms "$tmp/nokid.jwe"
dms "$tmp/raw.jwe"
refused_is() { [ "$(n_log GF-SP-REFUSED)" -ge $((refused_before + $1)) ]; }
check "four bad payloads are refused (GF-SP-REFUSED)" wait_for 10 refused_is 4
msgid() { tr -d '\n' <"$1" | /usr/bin/python3 -c 'import sys
h = 0xcbf29ce484222325
for b in sys.stdin.buffer.read():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("%016x" % h)'; }
check "... an unknown kid: the message id, kid k2 and the reason" \
	in_log "GF-SP-REFUSED meter.reading from dms.d1 (message $(msgid "$tmp/k2.jwe"), kid k2): cannot open: .*(ENOENT)"
check "... a tampered tag: kid k1, the key does not open it" \
	in_log "GF-SP-REFUSED meter.reading from dms.d1 (message $(msgid "$tmp/tampered.jwe"), kid k1): cannot open: .*(EDENIED)"
check "... no pseudonymKeyId" in_log "GF-SP-REFUSED.*kid k1): pseudonymKeyId is missing"
check "... a raw meter id" in_log "GF-SP-REFUSED.*readings\[0\].deviceId is not a pseudonym"
check "... nothing of them stored" eq "$(count)" "$stored"
$DATA register --meters 3 3 --start $((T0 + 12 * 3600)) --steps 2 >"$tmp/jw"
$DATA seal --pub "$tmp/k1.pub" --kid k1 <"$tmp/jw" >"$tmp/jw.jwe"
dms "$tmp/jw.jwe"
check "a batch sealed by python3-jwcrypto is opened and stored" wait_for 10 stored_is $((stored + 2))
stored=$((stored + 2))

# --- 60 batches of 1000: gf-sp dies twice in the middle -----------------------------------------
# First at the worst point, by itself (GF_SP_CRASH=batch-stored:15: its 15th
# batch committed to the store, the message not yet marked done in the
# inbox), then by an outside kill -9 wherever it is.
$DATA register --meters 1001 2000 --start $T0 --steps 60 --per 1000 >"$tmp/stream"
seal "$tmp/stream" k1 "$tmp/k1.pub"
kill -TERM "$pid_sp"; wait "$pid_sp"; rc=$?
check "SIGTERM: exit 0" [ "$rc" -eq 0 ]
batches_before=$(n_log GF-SP-BATCH)
GF_SP_CRASH=batch-stored:15 start_sp
(while IFS= read -r l; do printf '%s\n' "$l"; sleep 0.05; done <"$tmp/stream.jwe") | dms /dev/stdin &
pub=$!
wait "$pid_sp" 2>/dev/null; rc=$?
check "GF_SP_CRASH=batch-stored:15: gf-sp kills itself after its 15th batch is stored" \
	eq "$rc $(n_log 'GF-SP-CRASH GF_SP_CRASH: killing myself at batch-stored')" "137 1"
check "... the store holds 15 batches of the stream" eq "$(($(count) - stored))" 15000
start_sp
check "restarted, the 15th batch comes again from the inbox and adds nothing" \
	wait_for 20 in_log "GF-SP-BATCH .*1000 readings, 0 new (replayed)"
some() { [ "$(n_log GF-SP-BATCH)" -ge $((batches_before + 35)) ]; }
wait_for 30 some
kill -9 "$pid_sp"; wait "$pid_sp" 2>/dev/null
mid=$(($(count) - stored))
partly() { [ "$mid" -gt 15000 ] && [ "$mid" -lt 60000 ]; }
check "then killed -9 from outside with part of the stream stored ($mid of 60000)" partly
sleep 1
start_sp
wait "$pub"
check "restarted, every reading of the stream is stored" wait_for 60 stored_is $((stored + 60000))
sleep 1
check "... exactly once: $((stored + 60000)) rows, no more after a pause" eq "$(count)" $((stored + 60000))
new_sum=$(grep GF-SP-BATCH "$tmp/sp.log" | tail -n +$((batches_before + 1)) | sed -n 's/.*readings, \([0-9]*\) new.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
# A kill -9 between a batch's commit and its log line loses the line, not the
# readings: the logged counts can fall short of 60000, never exceed it.
at_most() { [ "$new_sum" -le 60000 ] && [ "$new_sum" -ge 58000 ]; }
check "... no reading counted new twice: the batches' logged new readings add up to $new_sum (<= 60000)" at_most
check "... the subscriptions survived the restarts" in_log "GF-SP-SUBSCRIBE 1 subscriptions, 9 meters watched"
echo "# batches handled again after a crash: $(grep GF-SP-BATCH "$tmp/sp.log" | grep -c replayed)"

# --- privacy: no pseudonym, no value in gf-sp's log (run with -v: debug lines too) -------------
pseudo $(seq 0 11) $(seq 1001 2000) >"$tmp/pseudonyms"
check "no pseudonym in gf-sp's log ($(wc -l <"$tmp/pseudonyms") checked)" eq "$(grep -cFf "$tmp/pseudonyms" "$tmp/sp.log")" 0
check "no reading's value in it (803.5, 100.1, 3.9, 2.6)" eq "$(grep -cE '803\.5|100\.1|[^0-9.]3\.9[^0-9]|[^0-9.]2\.6[^0-9]' "$tmp/sp.log")" 0

kill -TERM "$pid_sp"; wait "$pid_sp"

# --- retention: hourly on the agent's clock (3600x: an hour a second), 1 day kept ------------
conf retention_days 1 time_epoch 2020-02-28T00:00:00Z time_origin "$(date +%s)" time_scale 3600
start_sp
check "retention runs hourly on the agent's clock (GF-SP-RETENTION up to 05:00)" \
	wait_for 30 in_log "GF-SP-RETENTION deleted [0-9]* readings observed before 2020-02-27T05:00:00Z"
kill -TERM "$pid_sp"; wait "$pid_sp"
last=$(grep GF-SP-RETENTION "$tmp/sp.log" | tail -1 | sed 's/.*before //')
cut_ms=$(($(date -u -d "$last" +%s) * 1000))
# At whole hours, each later than the one before (a process behind its clock
# catches up to the hour it is in: on a loaded machine an hour can be skipped).
hours=$(grep -o 'GF-SP-RETENTION.*before 2020-02-27T[0-9][0-9]:00:00Z' "$tmp/sp.log" | sed 's/.*T\([0-9][0-9]\).*/\1/' | tr '\n' ' ')
hourly() { awk -v h="$hours" 'BEGIN { n = split(h, a, " "); for (i = 2; i <= n; i++) if (a[i] + 0 <= a[i - 1] + 0) exit 1; exit !(n >= 3) }'; }
check "... at whole hours of the agent's clock, one after the other (cutoffs at $hours)" hourly
check "... nothing before the last cutoff ($last) stays" eq "$(readings "t < $cut_ms")" 0
# what is left: the stream's steps from the cutoff, meter 3's two reads at 12:00
steps_left=$(((60 * 900 - ($(date -u -d "$last" +%s) - T0) + 899) / 900))
check "... everything after it does ($((steps_left * 1000 + 2)) readings)" eq "$(count)" $((steps_left * 1000 + 2))

# Under make check (SAN=1) gf-sp runs with ASan and UBSan: its reports land in its log.
check "no sanitizer report from gf-sp" eq "$(grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/sp.log")" 0

finish
