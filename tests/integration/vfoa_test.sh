#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Virtual FOAs (docs/foa.md, "Virtual FOAs"): one gf-foa process hosting
# three FOAs foa.sim-0001..3 for gf-sim's three prosumers, in the real loop:
# the real broker with the plugin, gf-fman, gf-fmar, a DSO gf-foa, gf-sim
# (tests/bench/trade_lib.sh). Checked: bad configurations refused with a
# reason (foas in dso mode, xems_id with foas, cert_dir alone, a missing
# certificate); the process's own identity reused as one of its FOAs; each
# virtual FOA its own connection and store; offers made
# while FMAN is down reach it from each identity by the FOAs' resends; a
# bid clears, FMAN assigns the three members, the FOA process is killed -9
# while it holds the first assignment after its commit, restarted: every
# prosumer gets its own schedule, applied exactly once; each FOA echoes its
# assignment; SIGTERM exits 0.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$top/tests/bench/trade_lib.sh"

FOA=$BUILD/bin/gf-foa
for b in gf-foa gf-fman gf-fmar gf-sim gfctl; do
	[ -x "$BUILD/bin/$b" ] || { echo "no $BUILD/bin/$b (run make)"; exit 1; }
done
[ -r "$TRADE_PROFILES/Load_profile_1.csv" ] || { echo "no load profiles in $TRADE_PROFILES"; exit 1; }

agent_tmp
N=3
IDS="sim-0001 sim-0002 sim-0003"
trade_site $N
add_cert "$S" foa host
add_cert "$S" foa sim-0001
broker_start "$S" || { echo "broker did not start"; exit 1; }
trade_confs $N resend_s 1

# --- configuration ---------------------------------------------------------------------
out=$("$FOA" -c "$tmp/vfoa.conf" -n 2>&1); rc=$?
check "-n: exit 0, prints foas and id_prefix" \
	eq "$rc $(grep -cxE 'foas 3|id_prefix sim-|configuration OK' <<<"$out")" "0 3"
check "-h lists foas, first_id, id_prefix, id_digits, cert_dir" \
	eq "$("$FOA" -h | grep -cE '^  (foas|first_id|id_prefix|id_digits|cert_dir) ')" 5
refused() { # refused NAME TEXT: gf-foa -c $tmp/NAME.conf exits 1 with GF-FOA-CONFIG TEXT
	"$FOA" -c "$tmp/$1.conf" >"$tmp/$1.log" 2>&1
	local rc=$?
	[ "$rc" = 1 ] && grep -q "GF-FOA-CONFIG.*$2" "$tmp/$1.log"
}
trade_conf bad1 foa.host mode dso foas 3
check "foas in dso mode is refused with the reason" refused bad1 'are for xems mode'
trade_conf bad2 foa.host foas 3 xems_id sim-0001
check "xems_id with foas is refused with the reason" refused bad2 'drop xems_id'
trade_conf bad3 foa.host cert_dir "$S/pki/clients"
check "cert_dir without foas is refused with the reason" refused bad3 'cert_dir is for virtual FOAs'
# TLS: foa.sim-0001 has a certificate in cert_dir, foa.sim-0002 none.
{
	grep -v '^broker_port\|^identity\|^state_dir' "$tmp/vfoa.conf"
	echo "broker_port $TLS_PORT"
	echo "cafile $S/pki/ca.crt"
	echo "cert $S/pki/clients/foa.host.crt"
	echo "key $S/pki/clients/foa.host.key"
	echo "cert_dir $S/pki/clients"
	echo "state_dir $tmp/bad4.state"
} >"$tmp/bad4.conf"
mkdir -p "$tmp/bad4.state"
check "a missing certificate is refused, naming the FOA and the file" \
	refused bad4 "cannot open the connection of foa.sim-0002: .*foa.sim-0002.crt"
check "... after foa.sim-0001's connection was opened with its own (TLS)" \
	grep -q 'GF-BUS-CONNECT connecting to ssl://.* as foa.sim-0001 ' "$tmp/bad4.log"

# --- the process's own identity as one of its virtual FOAs ---------------------------
trade_conf own foa.sim-0002 foas 2 first_id 2
trade_start own gf-foa
check "own identity foa.sim-0002 in the range: 2 virtual FOAs foa.sim-0002 .. foa.sim-0003" \
	trade_wait 20 grep -q 'GF-FOA-START 2 virtual FOAs foa.sim-0002 .. foa.sim-0003' "$tmp/own.log"
two_up() { [ "$(trade_count own 'GF-BUS-CONNECTED')" -ge 2 ]; }
trade_wait 20 two_up
check "... on two connections (its own reused), each with its store in state_dir/<id>" \
	eq "$(trade_count own 'GF-BUS-CONNECT connecting') $(ls "$tmp"/own.state/sim-000{2,3}/foa.db 2>/dev/null | wc -l)" "2 2"
kill -TERM "$pid_own"
wait "$pid_own"; rc=$?
check "... and stops with exit 0" eq "$rc" 0

# --- offers while FMAN is down: each virtual FOA resends its own ----------------------
trade_conf vfoa foa.host foas $N resend_s 1 hold_at after hold_ms 60000
trade_start fmar gf-fmar
trade_start dso gf-foa
trade_start vfoa gf-foa
connected() { [ "$(trade_count vfoa "GF-BUS-CONNECTED.*as foa\.sim-000[1-3] ")" -ge $N ]; }
check "one process, three virtual FOAs, each connected as itself" trade_wait 20 connected
# The prosumers offer once, at their start: their FOAs' sessions must exist
# and be subscribed (connected comes first: a new session is subscribed at
# its SUBACK).
subscribed() { [ "$(trade_count vfoa "GF-BUS-SUBSCRIBED foa\.sim-000[1-3]:")" -ge $N ]; }
trade_wait 20 subscribed || echo "# not every virtual FOA subscribed"
trade_start sim gf-sim
check "... announced as 3 virtual FOAs foa.sim-0001 .. foa.sim-0003" \
	grep -q 'GF-FOA-START 3 virtual FOAs foa.sim-0001 .. foa.sim-0003 in xems mode' "$tmp/vfoa.log"
check "... each with its own store, state_dir/<id>/foa.db" \
	eq "$(ls "$tmp"/vfoa.state/sim-000{1,2,3}/foa.db 2>/dev/null | wc -l)" 3
offered() { [ "$(trade_count vfoa 'GF-FOA-OFFER new offer sim-000[1-3]-1 of xems.sim-000[1-3] ')" -ge $N ]; }
check "each prosumer's offer is taken by its own FOA (sim-000k-1 of xems.sim-000k)" trade_wait 20 offered
same_ids() { ! grep 'GF-FOA-OFFER' "$tmp/vfoa.log" | grep -vqE 'offer (sim-000[1-3])-1 of xems\.\1 '; }
check "... and by no other" same_ids
resent() { [ "$(trade_count vfoa 'GF-FOA-RESEND 1 unanswered')" -ge $((2 * N)) ]; }
check "FMAN is down: the FOAs send their unacked offers again (GF-FOA-RESEND)" trade_wait 20 resent
trade_start fman gf-fman
accepted() {
	local i
	for i in $IDS; do grep -q "GF-FMAN-ACCEPT offer $i-1 of foa.$i: accepted" "$tmp/fman.log" || return 1; done
}
check "FMAN up: it gets and accepts the offer of each identity" trade_wait 20 accepted
members() { [ "$(trade_members)" -ge $N ]; }
check "... aggregated, 3 members, sent to FMAR" trade_wait 30 members
acked() { [ "$(trade_count vfoa 'GF-FOA-ACK offer sim-000[1-3]-1 Accepted')" -ge $N ]; }
check "... FMAN's acks reach each FOA" trade_wait 20 acked

# --- the same FOAs hosted twice: the second process is refused, the first undisturbed -
cp "$tmp/vfoa.conf" "$tmp/twice.conf"
timeout 20 "$FOA" -c "$tmp/twice.conf" >"$tmp/twice.log" 2>&1
rc=$?
check "a second process with the same state_dir stops at start (exit 2), saying why" \
	eq "$rc $(grep -c 'the inbox in .*/vfoa.state is in use by another agent (one state_dir per agent)' "$tmp/twice.log")" "2 1"
check "... before it connected (the first's sessions are not taken over)" \
	eq "$(trade_count twice GF-BUS-CONNECT) $(trade_count vfoa GF-BUS-LOST)" "0 0"

# --- a bid; kill -9 while the first assignment is held after its commit -------------
trade_bid b1 10
check "the bid clears and assigns the aggregate" \
	trade_wait 30 grep -q 'GF-FMAN-ASSIGN m1-agg-1 (revision 1) assigned by fmar.r1: 3 member schedules sent' "$tmp/fman.log"
check "the FOA process holds the first assignment after its commit (hold_at after)" \
	trade_wait 20 grep -q 'GF-FOA-HOLD.*after' "$tmp/vfoa.log"
held=$(grep -o 'GF-FOA-HOLD holding the assignment of assign:sim-000[1-3]' "$tmp/vfoa.log" | head -1 | grep -o 'sim-000[1-3]')
kill -9 "$pid_vfoa"
wait "$pid_vfoa" 2>/dev/null
check "killed -9 there: no prosumer has a schedule yet" eq "$(trade_count sim GF-SIM-SCHEDULE)" 0
trade_conf vfoa foa.host foas $N resend_s 1
trade_start vfoa gf-foa
scheduled() { [ "$(trade_count sim GF-SIM-SCHEDULE)" -ge $N ]; }
check "restarted: the three prosumers get their schedules" trade_wait 30 scheduled
echoed() { [ "$(trade_count fman 'GF-FMAN-CONFIRMED assignment .* confirmed by foa.sim-000[1-3]$')" -ge $N ]; }
check "... each FOA echoes its assignment to FMAN" trade_wait 20 echoed
sleep 3 # resends of the schedules (resend_s 1) come and are duplicates
own() { # own ID: exactly one schedule applied, for ID's own offer
	[ "$(grep -c "GF-SIM-SCHEDULE $1 battery: $1.battery.[0-9]* follows schedule" "$tmp/sim.log")" = 1 ]
}
for i in $IDS; do
	check "$i: exactly one schedule applied, for its own battery offer" own "$i"
done
check "... and nothing unmatched or from another FOA at gf-sim" \
	eq "$(trade_count sim 'GF-SIM-UNMATCHED\|GF-SIM-MESSAGE\|GF-SIM-BADSCHEDULE')" 0
check "the held assignment ($held) came back after the restart as a duplicate (the outbox sent it)" \
	grep -q "GF-FOA-DUP flexoffer.assign from fman.m1 already handled (assign:$held-1:" "$tmp/vfoa.log"
check "the others were replayed from their FOAs' durable inboxes or the broker's sessions" \
	eq "$(trade_count vfoa 'GF-FOA-ASSIGN offer sim-000[1-3]-1: schedule')" $N

kill -TERM "$pid_vfoa"
wait "$pid_vfoa"; rc=$?
check "SIGTERM: the FOA process exits 0" eq "$rc $(trade_count vfoa GF-FOA-STOP)" "0 1"
check "no sanitizer report from the agents" \
	eq "$(cat "$tmp"/*.log | grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error')" 0
finish
