#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-anonymizer (issue 12, docs/anonymizer.md) against the real mosquitto
# with our plugin. The Service Platform is played by `gfctl sub` as sp.sp1;
# what it receives is opened with python3-jwcrypto (an independent JOSE
# implementation) and every reading compared with what zoneinfo and Python's
# hmac say it must be: the UTC instant across the Nicosia fall-back fold,
# the pseudonym HMAC-SHA256(key, classification id), the value. Bad rows go
# to the quarantine file once with their reason; a kill -9 of the anonymizer
# and of the broker in the middle of a large export loses no reading; the
# DMS-side reverse command maps a pseudonym back.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ANON=$BUILD/bin/gf-anonymizer
GFCTL=$BUILD/bin/gfctl
PY=/usr/bin/python3
HERE=$(cd "$(dirname "$0")" && pwd)
SAMPLE=$top/../shared/fixtures/goflex-samples/dms-sample.csv
[ -x "$ANON" ] && [ -x "$GFCTL" ] || { echo "no $ANON or $GFCTL (run make)"; exit 1; }
$PY -c 'import jwcrypto' 2>/dev/null || { echo "python3-jwcrypto is missing (make deps)"; exit 1; }

agent_tmp
site_new "$S" site1
add_password "$S" dms.a1 sp.sp1 fman.m1
broker_start "$S" || { echo "broker did not start"; exit 1; }

# --- keys, map, configuration ------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/sp.key" 2>/dev/null
openssl pkey -in "$tmp/sp.key" -pubout -out "$tmp/sp.pub" 2>/dev/null
(umask 077 && head -c 32 /dev/urandom >"$tmp/hmac.key")
{
	echo "private_id,classification_id"
	for m in $(seq 1 12); do printf 'm%02d,7-PRE-%03d\n' "$m" "$m"; done
	for m in 1 2 3 4 5 6 100; do printf '"%s",WP-PRE-%03d\n' "$m" "$m"; done
} >"$tmp/idmap.csv"
mkdir -p "$tmp/in"
conf() { # conf NAME KEY VALUE...
	local name=$1; shift
	mkdir -p "$tmp/$name.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "identity dms.a1"
		echo "state_dir $tmp/$name.state"
		echo "input_dir $tmp/in"
		echo "id_map $tmp/idmap.csv"
		echo "hmac_key_file $tmp/hmac.key"
		echo "hmac_key_id dso-2024"
		echo "sp_public_key $tmp/sp.pub"
		echo "sp_kid sp-key-1"
		echo "sp_id sp1"
		echo "settle_s 1"
		echo "poll_ms 200"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/$name.conf"
}
# The SP's side: every meter.reading to sp.sp1, one payload per line, from a
# persistent MQTT 5 session (QoS 1, not clean): what is sent while the
# broker is down and back reaches it. MQTT 3.1.1 would get no sealed payload.
# The session is subscribed before this returns (-E: exit once the broker
# acknowledged the subscription); the listener then resumes it, so nothing
# published in between is missed.
sp_listen() { # FILE [SESSION]
	local sub=(mosquitto_sub -V mqttv5 -h 127.0.0.1 -p "$LOCAL_PORT" -u sp.sp1 -P "$PASSWORD"
		-i "sp.sp1@${2:-t$RANDOM}" -c -q 1 -t "gf/site1/dms/+/sp/sp1/meter.reading" -F '%p')
	"${sub[@]}" -E >>"$1" 2>"$1.err" || echo "# sp_listen: the subscription failed: $(cat "$1.err")"
	"${sub[@]}" >>"$1" 2>"$1.err" &
	pids+=($!)
	sp_pid=$!
}
opened() { # FILE -> the readings, opened with jwcrypto
	$PY "$HERE/py/open_sealed.py" "$tmp/sp.key" <"$1"
}
# What a reading must look like: private id -> classification id -> pseudonym.
pseudonyms() {
	$PY - "$tmp/hmac.key" "$tmp/idmap.csv" <<'PYEOF'
import base64, csv, hashlib, hmac, sys
key = open(sys.argv[1], "rb").read()
for row in csv.reader(open(sys.argv[2])):
    if row[0] == "private_id":
        continue
    mac = hmac.new(key, row[1].encode(), hashlib.sha256).digest()
    print(row[0], row[1], base64.urlsafe_b64encode(mac).rstrip(b"=").decode())
PYEOF
}
pseudonyms >"$tmp/pseudonyms"
# expected.jsonl (private, utc, value) -> "pseudonym utc value" lines, sorted
expect_lines() {
	$PY - "$tmp/pseudonyms" "$1" <<'PYEOF'
import json, sys
p = {l.split()[0]: l.split()[2] for l in open(sys.argv[1])}
for line in open(sys.argv[2]):
    r = json.loads(line)
    print(p[r["private"]], r["utc"], "%.4f" % r["value"])
PYEOF
}
got_lines() { # opened readings -> "pseudonym utc value"
	jq -r '"\(.deviceId) \(.observedTimestamp) \(.value * 10000 | round / 10000)"' |
		awk '{ printf "%s %s %.4f\n", $1, $2, $3 }'
}

# --- command line --------------------------------------------------------------------
conf c1
out=$("$ANON" -c "$tmp/c1.conf" -n 2>&1); rc=$?
check "-n: exit 0 and configuration OK" eq "$rc $(grep -cx 'configuration OK' <<<"$out")" "0 1"
"$ANON" -h >"$tmp/help" 2>&1
check "-h names --once, reverse and input_dir" \
	eval 'grep -q -- "--once" "$tmp/help" && grep -q "reverse PSEUDONYM" "$tmp/help" && grep -q "^  input_dir " "$tmp/help"'
bad() { # DESCRIPTION EXPECTED-TEXT KEY VALUE...
	local d=$1 want=$2; shift 2
	conf bad "$@"
	"$ANON" -c "$tmp/bad.conf" --once >"$tmp/bad.out" 2>&1; rc=$?
	check "$d: exit 2, says '$want'" eval '[ $rc -eq 2 ] && grep -qF -- "$want" "$tmp/bad.out"'
}
bad "unknown zone" "Mars/Olympus" timezone Mars/Olympus
bad "format" "format xml" format xml
bad "value_kind" "value_kind" value_kind counter
cp "$tmp/hmac.key" "$tmp/open.key" && chmod 644 "$tmp/open.key"
bad "a key file others may read" "open.key" hmac_key_file "$tmp/open.key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$tmp/small.key" 2>/dev/null
openssl pkey -in "$tmp/small.key" -pubout -out "$tmp/small.pub" 2>/dev/null
bad "a 1024-bit SP key" "2048" sp_public_key "$tmp/small.pub"
printf 'm01\n' >"$tmp/badmap.csv"
bad "an id_map line without two ids" "badmap.csv:1" id_map "$tmp/badmap.csv"
"$ANON" -c "$tmp/c1.conf" --bogus >/dev/null 2>&1
check "an unknown option: exit 2" [ $? -eq 2 ]

# --- one export through the fold, the GOFLEX sample, bad rows: --once -------------------
# 12 meters, 15 min from 2024-10-27 01:00 local for 8 h: the hour 03:00-04:00
# EEST -> EET comes twice.
$PY "$HERE/py/meter_export.py" "$tmp/in/2024-10-27.csv" "$tmp/fold.jsonl" 12 "2024-10-27 01:00" 36
cp "$SAMPLE" "$tmp/in/sample.csv"
cat >"$tmp/in/zz-bad.csv" <<'CSV'
"999",2024-10-27 05:00:00,10.0
"m01",2024-10-27 05:00:00,abc
"m02",2024-03-31 03:30:00,2100.0
"m03",2024-02-30 10:00:00,3100.0
"m04"
"m05",2024-10-28 06:00:00,5010.0
CSV
# m05's reading of the next day is fine. Expected sent:
expect_lines "$tmp/fold.jsonl" >"$tmp/expected"
n_fold=$(wc -l <"$tmp/fold.jsonl")
sp_listen "$tmp/sp1.out"
conf run1 batch_max 100
"$ANON" -c "$tmp/run1.conf" --once >"$tmp/run1.out" 2>"$tmp/run1.log"; rc=$?
check "--once: exit 0" [ $rc -eq 0 ]
summary=$(cat "$tmp/run1.out")
check "--once prints one summary line" eq "$(wc -l <"$tmp/run1.out")" 1
echo "# $summary"
n_rows=$((n_fold + 12 + 6))
check "summary: rows read $n_rows" grep -q "^rows read $n_rows, " <<<"$summary"
# The sample: 12 rows; its local times (2015/2017, winter: UTC+2) are fine.
check "summary: sent $((n_fold + 12 + 1))" grep -q ", sent $((n_fold + 12 + 1)) in " <<<"$summary"
check "summary: 5 quarantined, by reason" \
	eval 'grep -q "quarantined 5 (" <<<"$summary" && grep -q "meter id not in id_map: 1" <<<"$summary"'
q=$tmp/run1.state/quarantine.csv
check "quarantine file: a header and 5 rows" eq "$(wc -l <"$q")" 6
check "quarantine: the unmapped meter on line 1" grep -q '^"zz-bad.csv",1,meter id not in id_map$' "$q"
check "quarantine: the spring-forward gap on line 3" grep -qi '^"zz-bad.csv",3,.*gap' "$q"
check "quarantine: a bad value, a bad date, a short row" \
	eval 'grep -q "^\"zz-bad.csv\",2," "$q" && grep -q "^\"zz-bad.csv\",4," "$q" && grep -q "^\"zz-bad.csv\",5," "$q"'
wait_for 5 eval '[ "$(wc -l <"$tmp/sp1.out")" -ge "$(grep -o " in [0-9]* messages" <<<"$summary" | tr -dc 0-9)" ]'
opened "$tmp/sp1.out" >"$tmp/got1.jsonl"; rc=$?
check "every payload is sealed (application/jose) and opens with jwcrypto" [ $rc -eq 0 ]
check "each message holds at most batch_max (100) readings" \
	eq "$(jq -s 'group_by(.msg) | map(length) | max' "$tmp/got1.jsonl")" 100
check "header kid sp-key-1, cty application/json, pseudonymKeyId dso-2024" \
	eq "$(jq -r '"\(.kid) \(.cty) \(.pseudonymKeyId)"' "$tmp/got1.jsonl" | sort -u)" "sp-key-1 application/json dso-2024"
check "OBIS 1-0:1.8.0 (a register) in kWh" eq "$(jq -r '"\(.obis) \(.unit)"' "$tmp/got1.jsonl" | sort -u)" "1-0:1.8.0 kWh"
got_lines <"$tmp/got1.jsonl" | sort >"$tmp/got1"
# Every reading of the fold export arrives with the instant zoneinfo gives.
missing=$(comm -23 <(sort "$tmp/expected") "$tmp/got1" | wc -l)
check "all $n_fold readings across the fold: right pseudonym, UTC instant and value" eq "$missing" 0
comm -23 <(sort "$tmp/expected") "$tmp/got1" | head -3 | sed 's/^/#   missing: /'
p1=$(awk '$1 == "\"1\"" || $1 == "1" { print $3 }' "$tmp/pseudonyms")
check "the sample's meter 1 at 2017-01-01 00:01 Nicosia is 2016-12-31T22:01:00Z" \
	grep -q "^$p1 2016-12-31T22:01:00Z 18.6980$" "$tmp/got1"
check "no private or classification id on the bus" \
	eval '! grep -qE "7-PRE-|WP-PRE-|\"m0[0-9]\"" "$tmp/sp1.out"'
dups=$(cut -d' ' -f1,2 "$tmp/got1" | sort | uniq -d | wc -l)
check "no reading twice" eq "$dups" 0

# Again: nothing new, nothing sent.
"$ANON" -c "$tmp/run1.conf" --once >"$tmp/run1b.out" 2>>"$tmp/run1.log"; rc=$?
check "--once again: exit 0, rows read 0, sent 0" eval '[ $rc -eq 0 ] && grep -q "^rows read 0, sent 0 in 0 messages" "$tmp/run1b.out"'
check "the quarantine file still holds each bad row once" eq "$(wc -l <"$q")" 6

# --- reverse ---------------------------------------------------------------------------
p7=$(awk '$1 == "m07" { print $3 }' "$tmp/pseudonyms")
out=$("$ANON" -c "$tmp/run1.conf" reverse "$p7" 2>&1); rc=$?
check "reverse: the pseudonym of m07 is 7-PRE-007, m07" eq "$rc|$out" "0|$p7 7-PRE-007 m07"
"$ANON" -c "$tmp/run1.conf" reverse AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA >/dev/null 2>"$tmp/rev.err"; rc=$?
check "reverse: an unknown pseudonym, exit 1 and why" eval '[ $rc -eq 1 ] && grep -q "no pseudonym of id_map" "$tmp/rev.err"'

# --- pseudonyms: the enrolment list (private_id,pseudonym) -------------------------------
"$ANON" -c "$tmp/run1.conf" pseudonyms >"$tmp/enrol.csv" 2>"$tmp/enrol.err"; rc=$?
check "pseudonyms: exit 0, a header and one row per id_map entry" eval \
	'[ $rc -eq 0 ] && [ "$(head -1 "$tmp/enrol.csv")" = "private_id,pseudonym" ] && [ "$(($(wc -l <"$tmp/enrol.csv") - 1))" -eq "$(($(grep -c , "$tmp/idmap.csv") - 1))" ]'
check "pseudonyms: m07's is the one the SP received" eq "$(grep '^m07,' "$tmp/enrol.csv")" "m07,$p7"
out=$("$ANON" -c "$tmp/run1.conf" pseudonyms m07 nosuch 2>"$tmp/enrol.err"); rc=$?
check "pseudonyms ID...: those ids only; an unknown one, exit 1 and why" eval \
	'[ $rc -eq 1 ] && [ "$out" = "$(printf "private_id,pseudonym\nm07,%s" "$p7")" ] && grep -q "nosuch is not in id_map" "$tmp/enrol.err"'
"$ANON" -c "$tmp/run1.conf" frobnicate >/dev/null 2>"$tmp/cmd.err"; rc=$?
check "an unknown command: exit 2 and the commands named" eval '[ $rc -eq 2 ] && grep -q "pseudonyms \[PRIVATE_ID" "$tmp/cmd.err"'

# --- stdin -------------------------------------------------------------------------------
conf run2 input_dir - batch_max 7
"$ANON" -c "$tmp/run2.conf" --once <"$SAMPLE" >"$tmp/run2.out" 2>"$tmp/run2.log"; rc=$?
check "stdin: exit 0, 12 rows sent in 2 messages" eval '[ $rc -eq 0 ] && grep -q "^rows read 12, sent 12 in 2 messages" "$tmp/run2.out"'

kill "$sp_pid" 2>/dev/null

# --- kill -9 of the anonymizer and of the broker in a large export ----------------------
rm -f "$tmp/in"/*
$PY "$HERE/py/meter_export.py" "$tmp/big.csv" "$tmp/big.jsonl" 12 "2024-01-10 00:00" 5000
mv "$tmp/big.csv" "$tmp/in/big.csv"
n_big=$(wc -l <"$tmp/big.jsonl")
expect_lines "$tmp/big.jsonl" | sort >"$tmp/expected.big"
sp_listen "$tmp/sp2.out" big
# The broker saves its sessions every 5 s; one made since is lost with a
# kill -9, and what the broker takes before its owner subscribes again goes
# nowhere. SIGUSR1 saves now: this test is about the readings.
kill -USR1 "$(cat "$S/mosquitto.pid")"
sleep 0.5
conf run3 batch_max 500 progress_s 1
"$ANON" -c "$tmp/run3.conf" -v >>"$tmp/run3.log" 2>&1 &
pid=$!; pids+=($pid)
wait_for 20 eval '[ "$(wc -l <"$tmp/sp2.out")" -ge 20 ]'
kill -9 $pid
wait $pid 2>/dev/null # its inbox is free once it is gone (one agent per inbox)
echo "# anonymizer killed after $(wc -l <"$tmp/sp2.out") messages"
"$ANON" -c "$tmp/run3.conf" -v >>"$tmp/run3.log" 2>&1 &
pid=$!; pids+=($pid)
wait_for 20 eval '[ "$(wc -l <"$tmp/sp2.out")" -ge 60 ]'
kill -9 "$(cat "$S/mosquitto.pid")"
echo "# broker killed after $(wc -l <"$tmp/sp2.out") messages"
sleep 0.5
"$top/ops/gf-broker" -d "$S" --tls-port "$TLS_PORT" --local-port "$LOCAL_PORT" \
	--plugin "$BUILD/lib/goflex_privacy.so" >/dev/null
# done when the file is read and the outbox empty (every message acknowledged)
outbox() { sqlite3 "$tmp/run3.state/anonymizer.db" "SELECT count(*) FROM gf_outbox" 2>/dev/null; }
wait_for 60 eval 'grep -q "GF-ANON-FILE.*big.csv" "$tmp/run3.log" && [ "$(outbox)" = 0 ]'
kill -TERM $pid
wait $pid 2>/dev/null
# Acknowledged by the broker is not yet written by the listener (which also
# reconnects after the broker's kill): poll what it has, up to 20 s.
got_big() { opened "$tmp/sp2.out" 2>/dev/null | got_lines | sort -u >"$tmp/got.big"; }
big_done() { got_big && [ -z "$(comm -23 "$tmp/expected.big" "$tmp/got.big" | head -1)" ]; }
wait_for 20 big_done
got_big
missing=$(comm -23 "$tmp/expected.big" "$tmp/got.big" | wc -l)
echo "# $n_big readings exported; $(wc -l <"$tmp/got.big") distinct received; $missing missing"
check "kill -9 of the anonymizer and the broker: the SP side got every reading" eq "$missing" 0
check "kill -9: nothing that was not exported" eq "$(comm -13 "$tmp/expected.big" "$tmp/got.big" | wc -l)" 0

# Progress on stderr while a long input is read: stdin that pauses.
conf run5 input_dir - progress_s 1
{ head -n 30000 "$tmp/in/big.csv"; sleep 1.5; tail -n +30001 "$tmp/in/big.csv"; } |
	"$ANON" -c "$tmp/run5.conf" --once >"$tmp/run5.out" 2>"$tmp/run5.log"
check "a long input: progress lines on stderr, the summary at the end" \
	eval 'grep -q "GF-ANON-PROGRESS stdin: [0-9]* rows so far" "$tmp/run5.log" && grep -q "^rows read 60000, sent 60000" "$tmp/run5.out"'

# --- watching: a new file, and a line written in two parts -------------------------------
rm -f "$tmp/in"/*
: >"$tmp/sp4.out"
sp_listen "$tmp/sp4.out"
conf run4 batch_max 1000
"$ANON" -c "$tmp/run4.conf" >>"$tmp/run4.log" 2>&1 &
pid=$!; pids+=($pid)
sleep 1
printf '"m01",2024-05-01 12:00:00,7.5\n"m02",2024-05-01 12:00:00,8' >"$tmp/in/late.csv"
sleep 0.3
printf '.25\n' >>"$tmp/in/late.csv"
p_m2=$(awk '$1 == "m02" { print $3 }' "$tmp/pseudonyms")
wait_for 10 eval '[ "$(opened "$tmp/sp4.out" 2>/dev/null | wc -l)" -ge 2 ]'
opened "$tmp/sp4.out" | got_lines >"$tmp/got4"
check "watch: a new file's 2 readings arrive, a line written in two parts whole" \
	eval '[ "$(wc -l <"$tmp/got4")" -eq 2 ] && grep -q "^$p_m2 2024-05-01T09:00:00Z 8.2500$" "$tmp/got4"'
kill -TERM $pid; wait $pid 2>/dev/null
check "SIGTERM: exit 0" [ $? -eq 0 ]
check "the anonymizer never logs a pseudonym" eval '! grep -qF "$p7" "$tmp"/run*.log'

finish
