#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Shared subscriptions and the blackhole of issue 10, item 4: mosquitto hands
# each message of a $share group to one member; a member that may not read it
# makes the whole group lose it. The plugin must refuse such members at
# SUBSCRIBE (GF-ACL-SHARE-READ), so that every offer to the FMAN pool reaches
# the pool however many hostile sessions, connected or not, try to join.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

site_tmp site1
attackers=(foa.7-PRE-101 foa.7-PRE-102 foa.7-PRE-103 foa.7-PRE-104 foa.7-PRE-105 foa.7-PRE-106
	foa.7-PRE-107 foa.7-PRE-108)
add_password "$S" foa.7-PRE-001 fman.f1 fman.f2 fmar.m1 sp.sp1 ops.alice "${attackers[@]}"
broker_start "$S" || { echo "broker did not start"; cat "$S/mosquitto.log"; exit 1; }

POOL='$share/pool/gf/site1/+/+/fman/all/flexoffer'
A=gf/site1/foa/7-PRE-001/fman/all/flexoffer

# --- the attackers join the FMAN pool's group --------------------------------
# Four persistent sessions that go offline at once (mosquitto keeps their
# subscriptions and still picks them as members), two live MQTT v5 sessions
# and two live MQTT 3.1.1 sessions for the whole run.
for a in "${attackers[@]:0:4}"; do
	out=$(probe_pw "$a" "$a" -c "sub:$POOL")
	check "offline attacker $a: SUBACK refused" has "$out" "SUBACK $POOL 135"
done
check "... with GF-ACL-SHARE-READ" logged "$S" GF-ACL-SHARE-READ "identity 'foa.7-PRE-101'"
check "... saying why" logged "$S" GF-ACL-SHARE-READ "must be readable in full by its subscriber"
check "... naming the filter" logged "$S" GF-ACL-SHARE-READ "topic '$POOL'"
for a in "${attackers[@]:4:2}"; do
	probe_pw "$a" "$a" "sub:$POOL" wait:4000 >"$tmp/$a.out" &
done
for a in "${attackers[@]:6:2}"; do
	"$PROBE" -V 311 -p "$LOCAL_PORT" -u "$a" -P "$PASSWORD" -i "$a" "sub:$POOL" wait:4000 \
		>"$tmp/$a.out" &
done

# --- the pool and the offers -------------------------------------------------
probe_pw fman.f1 fman.f1 "sub:$POOL" wait:3500 >"$tmp/f1.out" &
probe_pw fman.f2 fman.f2 "sub:$POOL" wait:3500 >"$tmp/f2.out" &
# All eight have their SUBACK before the offers (the attackers' refused).
for f in f1 f2 "${attackers[@]:4:4}"; do
	wait_for 5 subacked "$tmp/$f.out" 1 || echo "# $f: no SUBACK"
done
args=()
for n in $(seq 1 20); do args+=("pub:$A=$(offer_json "offer-$n")"); done
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "${args[@]}")
check "the FOA's 20 offers are accepted" test "$(grep -c "^PUBACK $A 0$" <<<"$out")" -eq 20
wait

check "fman.f1 joins the pool" has "$(cat "$tmp/f1.out")" "SUBACK $POOL 1"
check "fman.f2 joins the pool" has "$(cat "$tmp/f2.out")" "SUBACK $POOL 1"
for a in "${attackers[@]:4:2}"; do
	check "live attacker $a (v5): SUBACK refused" has "$(cat "$tmp/$a.out")" "SUBACK $POOL 135"
done
for a in "${attackers[@]:6:2}"; do
	check "live attacker $a (3.1.1): SUBACK refused" has "$(cat "$tmp/$a.out")" "SUBACK $POOL 128"
done
got=$(cat "$tmp/f1.out" "$tmp/f2.out" | grep -o '^MSG .*"label":"offer-[0-9]*"' | sort -u | wc -l)
check "all 20 offers reach the FMAN pool ($got)" test "$got" -eq 20
check "no attacker receives an offer" bash -c "! cat '$tmp'/foa.*.out | grep -q offer-"

# --- which shared subscriptions are allowed ------------------------------------
# who filter expected-code: the subscriber must be able to read every topic
# the filter can match.
while read -r who filter code; do
	out=$(probe_pw "$who" "$who" "sub:$filter")
	check "$who joins '$filter': $code" has "$out" "SUBACK $filter $code"
done <<'EOF'
fman.f1 $share/pool/gf/site1/foa/+/fman/all/# 1
fman.f1 $share/mine/gf/site1/+/+/fman/f1/# 1
fman.f1 $share/pool/gf/site1/foa/+/fman/+/flexoffer 135
fman.f1 $share/pool/gf/site1/foa/# 135
fmar.m1 $share/pool/gf/site1/+/+/fman/all/flexoffer 135
ops.alice $share/pool/gf/site1/+/+/fman/all/flexoffer 135
sp.sp1 $share/pool/gf/site1/+/+/fman/all/flexoffer 135
fman.f1 $share/wx/gf/site1/sp/+/all/all/weather.forecast 1
ops.alice $share/wx/gf/site1/sp/+/+/+/weather.forecast 1
fmar.m1 $share/wx/gf/site1/+/+/+/+/kpi 135
ops.alice $share/audit/gf/site1/ops/broker/ops/all/# 1
fman.f1 $share/audit/gf/site1/ops/broker/ops/all/# 135
fman.f1 $share/none/gf/site1/nosuch/+/+/+/+ 1
EOF
check "... refusals logged with GF-ACL-SHARE-READ" logged "$S" GF-ACL-SHARE-READ "identity 'fmar.m1'"

broker_stop "$S"
finish
