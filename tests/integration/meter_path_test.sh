#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The meter data path end to end (issue 12): a DMS export -> gf-anonymizer
# -> the broker with our plugin (TLS) -> gf-sp -> its SQLite store, with
# the sealed document in protobuf. gf-sp is killed -9 twice in the middle of
# the stream and the broker once: at the end the store holds every reading
# exactly once with its value (the sum checked against the export), under
# the pseudonym Python's hmac gives, and a meter.query as fman answers the
# energy per interval of one meter.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ANON=$BUILD/bin/gf-anonymizer
SP=$BUILD/bin/gf-sp
GFCTL=$BUILD/bin/gfctl
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
for b in "$ANON" "$SP" "$GFCTL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done

agent_tmp
site_new "$S" site1
add_cert "$S" dms a1
add_cert "$S" sp sp1
add_password "$S" fman.m1
broker_start "$S" || { echo "broker did not start"; exit 1; }

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/sp.key" 2>/dev/null
openssl pkey -in "$tmp/sp.key" -pubout -out "$tmp/sp.pub" 2>/dev/null
mkdir -p "$tmp/keys" "$tmp/in" "$tmp/sp" "$tmp/anon"
install -m 600 "$tmp/sp.key" "$tmp/keys/sp-2024.pem"
(umask 077 && head -c 48 /dev/urandom >"$tmp/hmac.key")
for m in $(seq 1 40); do printf 'm%02d,7-PRE-%03d\n' "$m" "$m"; done >"$tmp/idmap.csv"
# 40 meters, 15-minute registers for 25 days: 96,000 readings.
$PY "$HERE/py/meter_export.py" "$tmp/in/export.csv" "$tmp/expected.jsonl" 40 "2024-04-01 00:00" 2400
N=$(wc -l <"$tmp/expected.jsonl")
tls() { printf 'broker_host localhost\nbroker_port %s\ncafile %s\ncert %s\nkey %s\n' "$TLS_PORT" \
	"$S/pki/ca.crt" "$S/pki/clients/$1.$2.crt" "$S/pki/clients/$1.$2.key"; }
# The export is of 2024: a retention of 10 years keeps it (the default 400
# days would delete it at gf-sp's first hour, as it should).
{ echo "site site1"; tls sp sp1; echo "state_dir $tmp/sp"; echo "key_dir $tmp/keys"
  echo "retention_days 3650"; } >"$tmp/sp.conf"
{ echo "site site1"; tls dms a1; echo "state_dir $tmp/anon"; echo "input_dir $tmp/in"
  echo "id_map $tmp/idmap.csv"; echo "hmac_key_file $tmp/hmac.key"; echo "hmac_key_id dso-1"
  echo "sp_public_key $tmp/sp.pub"; echo "sp_kid sp-2024"; echo "sp_id sp1"
  echo "inner_format protobuf"; echo "batch_max 400"; echo "max_unacked 8"; } >"$tmp/anon.conf"
stored() { sqlite3 "$tmp/sp/sp-meter.db" "SELECT (SELECT count(*) FROM sp_reading) + (SELECT count(*) FROM sp_recent)" 2>/dev/null || echo 0; }
sp_start() {
	"$SP" -c "$tmp/sp.conf" >>"$tmp/sp.log" 2>&1 &
	sp_pid=$!; pids+=($sp_pid)
}

sp_start
# Subscribed, not only connected: its session is new, and a reading the
# broker acknowledged with no subscriber is not sent again.
wait_for 10 grep -q GF-BUS-SUBSCRIBED "$tmp/sp.log" || echo "# gf-sp did not subscribe"
# The broker saves its sessions every 5 s; gf-sp's, made since, would be
# lost with the broker's kill -9 below when that comes within 5 s (a loaded
# machine's CI run lost readings here, most likely so: what the anonymizer
# sent again before gf-sp had subscribed again went nowhere: the hole of
# docs/ops.md, "Nothing lost"). SIGUSR1 saves now: this test is about the
# readings.
kill -USR1 "$(cat "$S/mosquitto.pid")"
sleep 0.5
"$ANON" -c "$tmp/anon.conf" >>"$tmp/anon.log" 2>&1 &
anon_pid=$!; pids+=($anon_pid)
wait_for 30 eval '[ "$(stored)" -ge 20000 ]'
kill -9 $sp_pid; echo "# gf-sp killed -9 at $(stored) readings"
wait $sp_pid 2>/dev/null; sp_start
wait_for 30 eval '[ "$(stored)" -ge 50000 ]'
kill -9 "$(cat "$S/mosquitto.pid")"; echo "# broker killed -9 at $(stored) readings"
sleep 0.5
"$top/ops/gf-broker" -d "$S" --tls-port "$TLS_PORT" --local-port "$LOCAL_PORT" \
	--plugin "$BUILD/lib/goflex_privacy.so" >/dev/null || { echo "the broker did not restart"; exit 1; }
wait_for 30 eval '[ "$(stored)" -ge 70000 ]'
kill -9 $sp_pid; echo "# gf-sp killed -9 again at $(stored) readings"
wait $sp_pid 2>/dev/null; sp_start
wait_for 60 eval '[ "$(stored)" -ge "$N" ]'
sleep 2 # anything more would be a duplicate
check "the store holds every one of the $N readings, once" eq "$(stored)" "$N"
got_sum=$(sqlite3 "$tmp/sp/sp-meter.db" "SELECT printf('%.4f', (SELECT total(value) FROM sp_reading) + (SELECT total(value) FROM sp_recent))")
want_sum=$(jq -s 'map(.value) | add' "$tmp/expected.jsonl" | awk '{ printf "%.4f", $1 }')
check "their values sum to the export's ($want_sum kWh)" eq "$got_sum" "$want_sum"
p7=$($PY -c 'import base64,hashlib,hmac,sys; k=open(sys.argv[1],"rb").read(); print(base64.urlsafe_b64encode(hmac.new(k,b"7-PRE-007",hashlib.sha256).digest()).rstrip(b"=").decode())' "$tmp/hmac.key")
check "meter m07 is stored under HMAC-SHA256(key, 7-PRE-007): 2400 readings" \
	eq "$(sqlite3 "$tmp/sp/sp-meter.db" "SELECT (SELECT count(*) FROM sp_reading WHERE meter = '$p7') + (SELECT count(*) FROM sp_recent WHERE meter = '$p7')")" 2400
check "only pseudonyms (43 characters), no private or classification id at the SP" \
	eq "$(sqlite3 "$tmp/sp/sp-meter.db" "SELECT count(*) FROM (SELECT meter FROM sp_reading UNION SELECT meter FROM sp_recent) WHERE length(meter) != 43 OR meter GLOB '*7-PRE-*'")" 0
check "gf-sp logs no pseudonym" eval '! grep -qF "$p7" "$tmp/sp.log"'
# m07's register: 7000 + 0.25 k + 0.007 k kWh at step k: every interval 0.257 kWh.
"$GFCTL" --port "$LOCAL_PORT" --id fman.m1 -v sub "gf/site1/sp/sp1/fman/m1/meter.query.result" \
	--count 1 --timeout 10 >"$tmp/q.out" 2>"$tmp/q.err" &
q_pid=$!
wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/q.err"
"$GFCTL" --port "$LOCAL_PORT" --id fman.m1 pub gf/site1/fman/m1/sp/sp1/meter.query \
	"{\"requestId\":\"q1\",\"deviceIds\":[\"$p7\"],\"fromTime\":\"2024-04-10T00:00:00Z\",\"toTime\":\"2024-04-10T02:00:00Z\",\"intervalLength\":900}" >/dev/null 2>&1
wait $q_pid
res=$(cat "$tmp/q.out")
echo "# $(jq -c '.payload.readings | map(.value)' <<<"$res" 2>/dev/null)"
check "meter.query of m07 resampled to 900 s: 8 intervals of 0.257 kWh" \
	eq "$(jq -r '.payload.readings | map(.value * 1000 | round) | "\(length) \(unique)"' <<<"$res" 2>/dev/null)" "8 [257]"
kill -TERM $anon_pid $sp_pid
finish
