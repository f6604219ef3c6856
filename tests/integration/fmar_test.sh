#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-fmar, the FlexOffer Market (docs/fmar.md), against the real mosquitto
# with our plugin. gfctl plays FMAN (fman.f1, fman.f2), the DSO FOA
# (foa.dso1), an ordinary FOA (foa.x9) and a KPI reader, each watcher
# logging everything addressed to it. On simulated time (300x, gate lead
# 1800 s = 6 real s):
#   - the command line: -h, -n;
#   - aggregates and a bid: at gate closure the aggregates that deviate are
#     assigned, and their delivered change (default - assigned, summed)
#     equals what the DSO FOA is told and the cleared-volume KPI; the
#     ineligible and the canceled aggregate get nothing;
#   - a bid offer from an FOA that is not a configured DSO FOA is refused
#     with a reason; an empty bid is a result with zeros and a reason;
#   - kill -9 right after a clearing, and kill -9 after a bid arrived and
#     before its gate (which passes while the market is down): after the
#     restarts each bid is cleared exactly once and each assignment, result
#     and KPI sample was sent once;
#   - re-clearing (a second market, gate_early_s 300): a bid cleared
#     partially with one aggregate; two aggregates arriving together later
#     make one second round, for the remainder only (nothing beyond the
#     request; the DSO FOA gets the cumulative result as updateId 1, the
#     KPI the totals); an aggregate after that starts no round; one that
#     arrives after a bid's intervals began (their gates passed) is not
#     used; kill -9 right after the second round's commit: no round twice,
#     its messages still go out; end to end with the real DSO FOA (gf-foa
#     dso mode) and DOMS (gf-doms): a bid cleared in two rounds reaches the
#     DOMS as two Assigned feedbacks, the second cumulative, and both results
#     are echoed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

FMAR=$BUILD/bin/gf-fmar
GFCTL=$BUILD/bin/gfctl
[ -x "$FMAR" ] && [ -x "$GFCTL" ] || { echo "no $FMAR or $GFCTL (run make)"; exit 1; }

agent_tmp

site_new "$S" site1
add_password "$S" fmar.m1 fman.f1 fman.f2 fman.f3 foa.dso1 foa.dso2 foa.dso3 foa.x9 kpi.k1 \
	kpi.k2 doms.o9 fmar.m2
broker_start "$S" || { echo "broker did not start"; exit 1; }

# Simulated time: E = 2020-02-27T00:00:00Z (interval I0) at real T0, 300x.
E=1582761600 I0=1758624 SCALE=300
T0=$(($(date +%s) + 2))
sim_now() { echo $((E + ($(date +%s) - T0) * SCALE)); }
# wait_sim S: until the simulated clock has passed E + S.
wait_sim() { while [ "$(sim_now)" -le $((E + $1)) ]; do sleep 0.2; done; }
iso() { date -u -d "@$(($1 * 900))" +%Y-%m-%dT%H:%M:%SZ; }

mkdir -p "$tmp/m1.state"
cat >"$tmp/m1.conf" <<EOF
site site1
broker_port $LOCAL_PORT
identity fmar.m1
state_dir $tmp/m1.state
time_epoch 2020-02-27T00:00:00Z
time_origin $T0
time_scale $SCALE
dso_foa dso1, dso2
gate_lead_s 1800
milp_max_offers 10
milp_time_limit_ms 1000
resend_s 2
kpi_period_s 0
EOF
# kpi_period_s 0: the KPI checks below count the clearing's own samples; the
# periodic reports (docs/kpi.md) are tested in kpi_test.sh.

# --- the command line -------------------------------------------------------------
out=$("$FMAR" -c "$tmp/m1.conf" -n 2>&1); rc=$?
check "-n: configuration OK, exit 0" eq "$rc $(grep -c '^configuration OK$' <<<"$out")" "0 1"
check "... printing the market's keys" grep -q '^gate_lead_s 1800$' <<<"$out"
out=$("$FMAR" -h); rc=$?
check "-h: exit 0, lists dso_foa and milp_max_offers" \
	eq "$rc $(grep -cE '^  (dso_foa|milp_max_offers) ' <<<"$out")" "0 2"
printf 'site site1\nstate_dir %s\ngate_lead_s -5\n' "$tmp" >"$tmp/bad.conf"
"$FMAR" -c "$tmp/bad.conf" -n 2>"$tmp/err"; rc=$?
check "a negative gate_lead_s: exit 2 naming it" eq "$rc $(grep -c 'gate_lead_s' "$tmp/err")" "2 1"

# --- watchers: everything addressed to FMAN, the FOAs and KPI, one JSON line each ---
watch() { # watch NAME IDENT FILTER
	"$GFCTL" --port "$LOCAL_PORT" --id "$2" -v sub "$3" --timeout 300 >"$tmp/$1.jsonl" 2>"$tmp/$1.err" &
	pids+=($!)
}
# watched NAME...: once each has subscribed (a message before would be lost)
watched() {
	local n
	for n in "$@"; do
		wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/$n.err" || echo "# watcher $n did not subscribe"
	done
}
watch f1 fman.f1 'gf/site1/+/+/fman/f1/#'
watch f2 fman.f2 'gf/site1/+/+/fman/f2/#'
watch dso foa.dso1 'gf/site1/+/+/foa/dso1/#'
watch x9 foa.x9 'gf/site1/+/+/foa/x9/#'
watch kpi kpi.k1 'gf/site1/fmar/+/kpi/all/kpi'

start_fmar() {
	[ -e "$tmp/m1.log" ] && cat "$tmp/m1.log" >>"$tmp/m1.all.log"
	"$FMAR" -c "$tmp/m1.conf" -v >"$tmp/m1.log" 2>&1 &
	pid_m1=$!
	pids+=($pid_m1)
}
in_log() { grep -q -- "$1" "$tmp/m1.log" 2>/dev/null; }
all_logs() { cat "$tmp/m1.all.log" "$tmp/m1.log" 2>/dev/null; }
# n_msgs NAME JQ-FILTER: how many lines of a watcher's log match.
n_msgs() { jq -c "select($2)" "$tmp/$1.jsonl" 2>/dev/null | wc -l; }
has_msgs() { [ "$(n_msgs "$1" "$2")" -ge "$3" ]; }
pub() { # pub IDENT TO-ROLE/TO-ID MSG JSON
	local who=$1; "$GFCTL" --port "$LOCAL_PORT" --id "$who" pub \
		"gf/site1/${who%%.*}/${who#*.}/$2/$3" "$4" >/dev/null
}

# agg ID OFFERER START TF LO HI DEFAULT TARIFF N [STATE [ASSIGN-BEFORE]]: an
# aggregate of N slices [LO, HI] with DEFAULT each, asking TARIFF both ways,
# to be assigned before START (or ASSIGN-BEFORE).
agg() {
	local id=$1 by=$2 st=$3 tf=$4 lo=$5 hi=$6 d=$7 tar=$8 n=$9 state=${10:-Offered} sl="" ds=""
	local ab=${11:-$st}
	for i in $(seq 1 "$n"); do
		sl+="${sl:+,}{\"energyConstraintList\":[{\"lower\":$lo,\"upper\":$hi}],\"minDuration\":1,\"maxDuration\":1}"
		ds+="${ds:+,}{\"duration\":1,\"energyAmount\":$d}"
	done
	printf '{"id":"%s","label":"agg:%s:1","state":"%s","offeredById":"%s","creationInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferProfileConstraints":[%s],"flexOfferTariffConstraint":{"minTariff":%s,"maxTariff":%s},"defaultSchedule":{"startTime":"%s","scheduleSlices":[%s]}}' \
		"$id" "${id##*-}" "$state" "$by" "$I0" "$ab" "$st" $((st + tf)) "$sl" "$tar" "$tar" "$(iso "$st")" "$ds"
}
# bid DSO BIDID START "R1 R2..." PRICE: the DSO FOA's bid offer (docs/trading.md).
bid() {
	local d=$1 b=$2 st=$3 price=$5 sl=""
	for r in $4; do
		local lo=0 hi=$r
		case $r in -*) lo=$r hi=0 ;; esac
		sl+="${sl:+,}{\"energyConstraintList\":[{\"lower\":$lo,\"upper\":$hi}],\"tariffConstraint\":{\"minTariff\":0,\"maxTariff\":$price},\"minDuration\":1,\"maxDuration\":1}"
	done
	printf '{"id":"%s-bid-%s","label":"bid:%s","state":"Offered","offeredById":"%s","creationInterval":%d,"acceptanceBeforeInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferProfileConstraints":[%s]}' \
		"$d" "$b" "$b" "$d" "$I0" "$st" "$st" "$st" "$st" "$sl"
}

start_fmar
check "gf-fmar connects" wait_for 10 in_log GF-BUS-SUBSCRIBED
watched f1 f2 dso x9 kpi

# --- aggregates and bids for the gate at I0+2 (bids start at I0+4) ------------------
# A1, A2 eligible (0.05, 0.08 <= 0.2); A3 asks 0.5 (ineligible); A4 is canceled.
pub fman.f1 fmar/all flexoffer "$(agg f1-agg-1 f1 $((I0 + 4)) 0 0 4 3 0.05 4)"
pub fman.f1 fmar/all flexoffer "$(agg f1-agg-2 f1 $((I0 + 4)) 0 1 3 2 0.08 4)"
pub fman.f2 fmar/m1 flexoffer "$(agg f2-agg-1 f2 $((I0 + 4)) 0 0 4 3 0.5 4)"
pub fman.f2 fmar/all flexoffer "$(agg f2-agg-2 f2 $((I0 + 4)) 0 0 4 3 0.01 4)"
pub fman.f2 fmar/all flexoffer "$(agg f2-agg-2 f2 $((I0 + 4)) 0 0 4 3 0.01 4 Canceled)"
pub foa.dso1 fmar/all flexoffer "$(bid dso1 B1 $((I0 + 4)) "2 4 1 0" 0.2)"
pub foa.dso1 fmar/all flexoffer "$(bid dso1 B2 $((I0 + 4)) "0 0" 0.2)"
pub foa.x9 fmar/all flexoffer "$(bid x9 X1 $((I0 + 4)) "2 2" 0.2)"
# An aggregate claiming another FMAN's id is refused too.
pub fman.f2 fmar/all flexoffer "$(agg f1-agg-9 f1 $((I0 + 4)) 0 0 4 3 0.05 4)"

check "FMAN f1 gets an ack for each aggregate" \
	wait_for 10 has_msgs f1 '.msg == "flexoffer.ack" and .payload.accepted' 2
check "the cancellation is acknowledged" \
	wait_for 5 has_msgs f2 '.msg == "flexoffer.ack" and .payload.reason == "canceled"' 1
check "the DSO FOA's bids are acknowledged with their gate closure" \
	wait_for 5 has_msgs dso '.msg == "flexoffer.ack" and .payload.accepted and (.payload.reason | test("clears at 2020-02-27T00:30:00"))' 2
check "a bid offer from foa.x9 (not in dso_foa) is refused with a reason" \
	wait_for 5 has_msgs x9 '.msg == "flexoffer.ack" and (.payload.accepted | not) and .payload.flexOfferId == "x9-bid-X1" and (.payload.reason | test("not a DSO FOA"))' 1
check "... logged GF-FMAR-REFUSED" in_log 'GF-FMAR-REFUSED x9-bid-X1 from foa.x9'
check "an aggregate with another FMAN's id is refused" \
	has_msgs f2 '.msg == "flexoffer.ack" and (.payload.accepted | not) and .payload.flexOfferId == "f1-agg-9"' 1

# --- the gate closes (sim 00:30): clearing; kill -9 as it hands the results to the bus --
# Polled every 10 ms, so the kill often lands while paho still waits for some
# PUBACKs: those it resends after the restart (QoS 1, at least once), and
# receivers keep one per key (docs/trading.md). What must never happen is a
# second clearing, or a message that differs from the first of its key.
fast_wait() { for _ in $(seq 1 1500); do in_log "$1" && return 0; sleep 0.01; done; return 1; }
check "at the gate closure bid B1 clears" fast_wait 'GF-FMAR-CLEARED bid B1 '
kill -9 "$pid_m1"; wait "$pid_m1" 2>/dev/null
start_fmar
check "gf-fmar restarts (killed -9 right after the clearing)" wait_for 10 in_log GF-BUS-CONNECTED
# B2 cleared in the same gate, before the kill (its log line may be lost to
# the kill after the commit) or at once after the restart.
check "the empty bid B2 clears too" \
	wait_for 5 has_msgs dso '.msg == "flexoffer.assign" and .payload.flexOfferId == "dso1-bid-B2"' 1

# --- a bid, then kill -9 before its gate; the gate passes while it is down -------------
pub fman.f2 fmar/all flexoffer "$(agg f2-agg-3 f2 $((I0 + 8)) 1 0 2 2 0.1 2)"
pub foa.dso1 fmar/all flexoffer "$(bid dso1 B3 $((I0 + 8)) "1.5 1.5" 0.3)"
check "bid B3 (gate at sim 01:30) is acknowledged" \
	wait_for 10 has_msgs dso '.msg == "flexoffer.ack" and .payload.flexOfferId == "dso1-bid-B3"' 1
kill -9 "$pid_m1"; wait "$pid_m1" 2>/dev/null
check "killed -9 before B3's gate" eq "$(all_logs | grep -c 'GF-FMAR-CLEARED bid B3 ')" 0
wait_sim 5500
start_fmar
check "after the restart past the gate, B3 is cleared at once" \
	wait_for 10 in_log 'GF-FMAR-CLEARED bid B3 '
check "... its timer was re-armed from the store" in_log 'GF-FMAR-REARM 1 bids'

# --- answers (docs/trading.md, "When the broker itself is killed") ---------------------
# Nobody here echoes by itself: every assignment is sent again (resend_s 2)
# until its offerer echoes it with state Assigned and the schedule.
n_assigns() { n_msgs "$1" ".msg == \"flexoffer.assign\" and .payload.flexOfferId == \"$2\""; }
resent() { [ "$(n_assigns "$1" "$2")" -ge 2 ]; }
check "an assignment not echoed is sent again (GF-FMAR-RESEND)" wait_for 20 resent f2 f2-agg-3
check "... logged" in_log GF-FMAR-RESEND
echo_of() { # OFFER-JSON NAME ID [STATE]: the offer, state Assigned, with the schedule NAME got
	jq -c --argjson o "$1" --arg st "${4:-Assigned}" 'select(.msg == "flexoffer.assign" and .payload.flexOfferId == "'"$3"'") |
		$o + {state: $st, flexOfferSchedule: .payload.flexOfferSchedule}' "$tmp/$2.jsonl" | head -1
}
pub fman.f2 fmar/all flexoffer "$(echo_of "$(agg f2-agg-3 f2 $((I0 + 8)) 1 0 2 2 0.1 2)" f2 f2-agg-3)"
pub foa.dso1 fmar/all flexoffer "$(echo_of "$(bid dso1 B3 $((I0 + 8)) "1.5 1.5" 0.3)" dso dso1-bid-B3)"
check "FMAN's echo confirms its assignment (GF-FMAR-CONFIRMED)" \
	wait_for 10 in_log 'GF-FMAR-CONFIRMED assignment of f2-agg-3 confirmed by fman.f2'
check "... and the DSO FOA's the result of its bid" \
	wait_for 10 in_log 'GF-FMAR-CONFIRMED assignment of dso1-bid-B3 confirmed by foa.dso1'
pending() { sqlite3 "$tmp/m1.state/fmar.db" "SELECT count(*) FROM gf_resend WHERE key = 'assign:$1'"; }
pub fman.f1 fmar/all flexoffer "$(echo_of "$(agg f1-agg-2 f1 $((I0 + 4)) 0 1 3 2 0.08 4)" f1 f1-agg-2 Rejected)"
check "... and FMAN's Rejected echo (an assignment it could not carry out) answers its assignment too" \
	wait_for 10 in_log 'GF-FMAR-CONFIRMED assignment of f1-agg-2 refused by fman.f1'
check "... none of these is sent again; f1-agg-1 (not echoed) still is" \
	eq "$(pending f2-agg-3) $(pending dso1-bid-B3) $(pending f1-agg-2) $(pending f1-agg-1)" "0 0 0 1"
check "... an echo is no update: no ack for it, the offer stays assigned" \
	eq "$(n_msgs f2 '.msg == "flexoffer.ack" and .payload.flexOfferId == "f2-agg-3"') $(sqlite3 "$tmp/m1.state/fmar.db" "SELECT state FROM fmar_offer WHERE id = 'f2-agg-3'")" "2 assigned"
before=$(n_assigns f2 f2-agg-3)
pub fman.f2 fmar/all flexoffer "$(agg f2-agg-3 f2 $((I0 + 8)) 1 0 2 2 0.1 2)"
acked_twice() { [ "$(n_msgs f2 '.msg == "flexoffer.ack" and .payload.flexOfferId == "f2-agg-3"')" -ge 3 ]; }
check "an aggregate sent again (its ack lost) gets its ack again, the first one" wait_for 10 acked_twice
check "... the same content as the first" \
	eq "$(jq -c 'select(.msg == "flexoffer.ack" and .payload.flexOfferId == "f2-agg-3" and (.payload.reason | test("received"))) | .payload' "$tmp/f2.jsonl" | sort -u | wc -l)" 1
# Let everything arrive, then stop cleanly.
sleep 1.5
kill -TERM "$pid_m1"; wait "$pid_m1"; rc=$?
check "SIGTERM: exit 0" eq "$rc" 0
sleep 0.5

# --- what everyone received -----------------------------------------------------------
# per_key NAME MSG KEY: "<keys> <most distinct copies of a key> <messages>".
per_key() {
	jq -s -r "map(select(.msg == \"$2\")) | group_by($3) |
		\"\\(length) \\(map(unique | length) | max // 0) \\(map(length) | add // 0)\"" "$tmp/$1.jsonl"
}
keys_ok() { # keys_ok NAME MSG KEY N: N keys, each with one distinct content
	local r; r=$(per_key "$1" "$2" "$3"); set -- $r "$4"
	[ "$1" = "$4" ] && [ "$2" = 1 ] || { echo "# $r"; return 1; }
}
sched='[.payload.flexOfferId, .payload.flexOfferSchedule.scheduleId, .payload.flexOfferSchedule.updateId]'
assigns() { jq -c 'select(.msg == "flexoffer.assign") | .payload' "$tmp/f1.jsonl" "$tmp/f2.jsonl" | sort -u; }
# A second clearing would log again and send KPI samples of another time.
check "no bid cleared twice over three runs (logs)" \
	eq "$(all_logs | grep -o 'GF-FMAR-CLEARED bid [^ ]*' | sort | uniq -d | wc -l)" 0
check "A1 and A2 assigned by B1, A5 by B3; nothing else" \
	eq "$(assigns | jq -r .flexOfferId | tr '\n' ' ')" "f1-agg-1 f1-agg-2 f2-agg-3 "
check "... one content per (offer, scheduleId, updateId) at FMAN f1" keys_ok f1 flexoffer.assign "$sched" 2
check "... and at FMAN f2" keys_ok f2 flexoffer.assign "$sched" 1
check "... each after an ack 'assigned by bid'" \
	eq "$(jq -r 'select(.msg == "flexoffer.ack" and (.payload.reason | test("assigned by bid B1"))) | .payload.flexOfferId' "$tmp/f1.jsonl" | sort -u | wc -l)" 2
check "... starting at the chosen interval" \
	eq "$(assigns | jq -r 'select(.flexOfferId == "f1-agg-1") | .flexOfferSchedule.startTime')" "$(iso $((I0 + 4)))"
check "B3's assign (after the kill before its gate): one content, sent until echoed, then no more" \
	eq "$(jq -c 'select(.msg == "flexoffer.assign") | .payload' "$tmp/f2.jsonl" | sort -u | wc -l) $(n_assigns f2 f2-agg-3)" "1 $before"
dso_assign() { jq -c "select(.msg == \"flexoffer.assign\" and .payload.flexOfferId == \"$1\") | .payload" "$tmp/dso.jsonl" | sort -u; }
check "the DSO FOA gets one result per bid (B1, B2, B3)" keys_ok dso flexoffer.assign "$sched" 3
check "... and one content per ack" keys_ok dso flexoffer.ack '[.payload.flexOfferId, .payload.reason]' 6
# B1: A1 (3 -> 0..4 at 0.05) and A2 (2 -> 1..3 at 0.08) against 2, 4, 1, 0 kWh.
delivered=$(assigns | jq -s '[.[] | select(.flexOfferId | startswith("f1-")) | .flexOfferSchedule.scheduleSlices[].energyAmount] | (12 + 8) - add')
b1=$(dso_assign dso1-bid-B1 | jq '[.flexOfferSchedule.scheduleSlices[].energyAmount] | add')
check "B1: delivered change of the assigns (defaults - assigned = $delivered) = the DSO's result ($b1)" \
	eq "$(jq -n "($delivered - $b1) | fabs < 1e-6")" true
check "... = the request, interval by interval (2 4 1 0)" \
	eq "$(dso_assign dso1-bid-B1 | jq -r '[.flexOfferSchedule.scheduleSlices[].energyAmount | . * 1000 | round / 1000] | @tsv')" "$(printf '2\t4\t1\t0')"
check "... starting at the bid's first interval, with the schedule id of the FMAN assigns" \
	eq "$(dso_assign dso1-bid-B1 | jq -r .flexOfferSchedule.scheduleId)" \
	"$(assigns | jq -r 'select(.flexOfferId == "f1-agg-2") | .flexOfferSchedule.scheduleId')"
check "B2 (empty): zeros, and an ack saying so" \
	eq "$(dso_assign dso1-bid-B2 | jq '[.flexOfferSchedule.scheduleSlices[].energyAmount] | add') $(jq -c 'select(.msg == "flexoffer.ack" and (.payload.reason | test("^empty bid"))) | .payload' "$tmp/dso.jsonl" | sort -u | wc -l)" "0 1"
check "B3: A5 shifted/reduced to deliver 1.5 + 1.5 kWh" \
	eq "$(dso_assign dso1-bid-B3 | jq '[.flexOfferSchedule.scheduleSlices[].energyAmount] | add')" 3
kpi() { jq -c "select(.payload.kpiId == \"$1\") | .payload" "$tmp/kpi.jsonl" | sort -u | jq .value; }
check "KPI fmar.cleared_kwh: one sample per bid (7, 0, 3)" \
	eq "$(kpi fmar.cleared_kwh | sort -n | tr '\n' ' ')" "0 3 7 "
check "KPI fmar.clearing_price: the marginal tariff per bid (0.08, 0, 0.1)" \
	eq "$(kpi fmar.clearing_price | sort -n | tr '\n' ' ')" "0 0.08 0.1 "
check "... one content per (kpiId, observedTime), 6 keys" \
	keys_ok kpi kpi '[.payload.kpiId, .payload.observedTime]' 6
resent=$(($(cat "$tmp"/{f1,f2,dso,kpi}.jsonl | wc -l) - $(cat "$tmp"/{f1,f2,dso,kpi}.jsonl | sort -u | wc -l)))
echo "# $resent messages redelivered after the kill -9 right after the clearing (QoS 1)"
check "no message was refused by the broker" eq "$(all_logs | grep -c GF-BUS-REFUSED)" 0
check "no sanitizer report from gf-fmar (SAN=1 builds)" eq "$(all_logs | grep -cE 'Sanitizer|runtime error')" 0

# --- re-clearing the remainder (docs/fmar.md) ------------------------------------------
# A second market (fresh state, gate_early_s 300, reclear_delay_s 900: 3
# real s, for the aggregates gfctl sends one by one to share a round) on the
# same clock; fman.f3, foa.dso2 and kpi.k2 watch it.
mkdir -p "$tmp/r.state"
sed -e "s|^state_dir .*|state_dir $tmp/r.state|" -e "s|^dso_foa .*|dso_foa dso1, dso2, dso3|" \
	"$tmp/m1.conf" >"$tmp/r.conf"
printf 'gate_early_s 300\nreclear_delay_s 900\n' >>"$tmp/r.conf"
watch f3 fman.f3 'gf/site1/+/+/fman/f3/#'
watch dso2 foa.dso2 'gf/site1/+/+/foa/dso2/#'
watch kpi2 kpi.k2 'gf/site1/fmar/+/kpi/all/kpi'
[ -e "$tmp/m1.log" ] && cat "$tmp/m1.log" >>"$tmp/m1.all.log"
: >"$tmp/m1.log"
start_r() {
	[ -s "$tmp/r.log" ] && cat "$tmp/r.log" >>"$tmp/r.all.log"
	"$FMAR" -c "$tmp/r.conf" -v >"$tmp/r.log" 2>&1 &
	pid_r=$!
	pids+=($pid_r)
}
r_log() { grep -q -- "$1" "$tmp/r.log" 2>/dev/null; }
r_all() { cat "$tmp/r.all.log" "$tmp/r.log" 2>/dev/null; }
rq() { sqlite3 "$tmp/r.state/fmar.db" "$1"; }
start_r
check "re-clearing market: gf-fmar connects" wait_for 10 r_log GF-BUS-SUBSCRIBED
watched f3 dso2 kpi2
# N: the interval now. R2 (1, 1, 1 kWh from N+3) has no aggregate before its
# gate (N+1); R1 (2 kWh in each of N+10..N+13) has RA1 (1 kWh per interval
# at 0.05, to be assigned before N+4), which pulls R1's gate to N+4 - 300 s.
N=$(($(sim_now) / 900))
S=$((N + 10)) S2=$((N + 3))
pub foa.dso2 fmar/all flexoffer "$(bid dso2 R2 $S2 "1 1 1" 0.2)"
pub fman.f3 fmar/all flexoffer "$(agg f3-agg-1 f3 $S 0 0 1 1 0.05 4 Offered $((N + 4)))"
pub foa.dso2 fmar/all flexoffer "$(bid dso2 R1 $S "2 2 2 2" 0.2)"
check "R2 clears at its gate with nothing (no aggregate)" \
	wait_for 20 r_log 'GF-FMAR-CLEARED bid R2 .*requested 3 kWh, cleared 0 kWh'
# Once R2's intervals began (and with them the gates of all three: gate
# lead 2 intervals), an aggregate that could serve the third one (the only
# one it meets) arrives (to be assigned before S2+1: gone by R1's rounds).
wait_sim $((S2 * 900 - E + 60))
pub fman.f3 fmar/all flexoffer "$(agg f3-agg-5 f3 $((S2 + 2)) 0 0 1 1 0.05 1 Offered $((S2 + 1)))"
check "R1 clears early (gate_early_s), partially: 4 of 8 kWh with RA1" \
	wait_for 30 r_log 'GF-FMAR-CLEARED bid R1 .*requested 8 kWh, cleared 4 kWh'
check "... the DSO FOA's result: 1 kWh per interval, updateId 0" \
	wait_for 10 has_msgs dso2 '.msg == "flexoffer.assign" and .payload.flexOfferId == "dso2-bid-R1" and .payload.flexOfferSchedule.updateId == 0 and ([.payload.flexOfferSchedule.scheduleSlices[].energyAmount] == [1,1,1,1])' 1
check "an aggregate arriving after R2's intervals began is acked and starts no round" \
	eq "$(n_msgs f3 '.msg == "flexoffer.ack" and .payload.flexOfferId == "f3-agg-5" and .payload.accepted') $(r_all | grep -c 'GF-FMAR-RECLEAR bid offer dso2-bid-R2')" "1 0"
# RA2 (0.5 kWh per interval at 0.1) and RA3 (up to 2 at 0.08) arrive
# together: one round, for the 1 kWh per interval left. kill -9 right
# after its commit (its log line follows the commit).
pub fman.f3 fmar/all flexoffer "$(agg f3-agg-2 f3 $S 0 0 0.5 0.5 0.1 4 Offered $((S - 1)))"
pub fman.f3 fmar/all flexoffer "$(agg f3-agg-3 f3 $S 0 0 2 2 0.08 4 Offered $((S - 1)))"
fast_r() { for _ in $(seq 1 1500); do r_log "$1" && return 0; sleep 0.01; done; return 1; }
check "R1's second round clears the remainder (4 kWh) with both new aggregates live" \
	fast_r 'GF-FMAR-RECLEARED bid R1 (dso2) round 1: .* 2 live aggregates, .* left 4 kWh, cleared 4 kWh'
kill -9 "$pid_r"; wait "$pid_r" 2>/dev/null
start_r
check "gf-fmar restarts (killed -9 right after the second round)" wait_for 10 r_log GF-BUS-CONNECTED
check "... RA3's assignment arrives: 1 kWh per interval (2 - 1), not more" \
	wait_for 10 has_msgs f3 '.msg == "flexoffer.assign" and .payload.flexOfferId == "f3-agg-3" and ([.payload.flexOfferSchedule.scheduleSlices[].energyAmount] == [1,1,1,1])' 1
r1_update() { # the DSO FOA's result of R1 with updateId $1, one line per content
	jq -c "select(.msg == \"flexoffer.assign\" and .payload.flexOfferId == \"dso2-bid-R1\" and .payload.flexOfferSchedule.updateId == $1) | .payload" "$tmp/dso2.jsonl" | sort -u
}
r1_updated() { [ -n "$(r1_update 1)" ]; }
check "... and the DSO FOA's updated result (updateId 1)" wait_for 10 r1_updated
check "... cumulative: 2 kWh per interval, the request and no more" \
	eq "$(r1_update 1 | jq -c '[.flexOfferSchedule.scheduleSlices[].energyAmount]')" "[2,2,2,2]"
check "... at the rounds' volume-weighted price ((0.05 + 0.08) / 2), same scheduleId" \
	eq "$(r1_update 1 | jq -c '[.flexOfferSchedule.scheduleSlices[].tariff | . * 1000 | round], .flexOfferSchedule.scheduleId == '"$(r1_update 0 | jq .flexOfferSchedule.scheduleId)" | tr '\n' ' ')" "[65,65,65,65] true "
pub fman.f3 fmar/all flexoffer "$(agg f3-agg-4 f3 $S 0 0 1 1 0.01 4 Offered $((S - 1)))"
check "an aggregate after R1 is fully cleared is acked" \
	wait_for 10 has_msgs f3 '.msg == "flexoffer.ack" and .payload.flexOfferId == "f3-agg-4"' 1
check "... and starts no round: R1 was due once, re-cleared once; its rounds in the store: 0 and 1" \
	eq "$(r_all | grep -c 'GF-FMAR-RECLEAR bid offer dso2-bid-R1') $(r_all | grep -c 'GF-FMAR-RECLEARED bid R1 ') $(rq "SELECT group_concat(round) FROM fmar_round WHERE bid_offer_id = 'dso2-bid-R1'")" "1 1 0,1"
check "... RA1 and RA3 assigned; RA2 (not needed), RA4 and RA5 still held" \
	eq "$(rq "SELECT group_concat(id || ':' || state, ' ') FROM (SELECT * FROM fmar_offer WHERE kind = 'agg' ORDER BY id)")" \
	"f3-agg-1:assigned f3-agg-2:held f3-agg-3:assigned f3-agg-4:held f3-agg-5:held"
check "... nothing due; fmar_cleared and fmar_result hold the totals (8 of 8 kWh)" \
	eq "$(rq "SELECT (SELECT count(*) FROM fmar_reclear), (SELECT sum(cleared_kwh) FROM fmar_cleared WHERE bid_offer_id = 'dso2-bid-R1'), (SELECT cleared_kwh FROM fmar_result WHERE bid_offer_id = 'dso2-bid-R1')")" "0|8.0|8.0"
check "R2 (its intervals closed when RA5 came): one result, zeros" \
	eq "$(jq -c 'select(.msg == "flexoffer.assign" and .payload.flexOfferId == "dso2-bid-R2") | [.payload.flexOfferSchedule.scheduleSlices[].energyAmount]' "$tmp/dso2.jsonl" | sort -u | tr '\n' ' ')" "[0,0,0] "
# Echoes: the first round's no longer answers R1's assign; the second's does.
pending_r() { rq "SELECT count(*) FROM gf_resend WHERE key = 'assign:dso2-bid-R1'"; }
r1_echo() { jq -c --argjson o "$(bid dso2 R1 $S "2 2 2 2" 0.2)" '$o + {state: "Assigned", flexOfferSchedule: .flexOfferSchedule}' <<<"$(r1_update "$1" | head -1)"; }
pub foa.dso2 fmar/all flexoffer "$(r1_echo 0)"
check "an echo of R1's first result does not stop the second's resends" \
	wait_for 10 r_log 'GF-FMAR-CONFIRMED assignment of dso2-bid-R1 confirmed by foa.dso2 (again)'
check "... still pending" eq "$(pending_r)" 1
pub foa.dso2 fmar/all flexoffer "$(r1_echo 1)"
confirmed_r() { [ "$(pending_r)" = 0 ]; }
check "... the echo of the second does" wait_for 10 confirmed_r

# --- end to end: a bid from the DOMS through the real DSO FOA, cleared in two rounds ---
# gfctl sends the bid as doms.o9, then the real gf-doms (o9; a limit no
# forecast reaches, so no bid of its own) records the feedback.
DOMS=$BUILD/bin/gf-doms FOA=$BUILD/bin/gf-foa
PROFILES=${PROFILES:-$top/../shared/data/ieee-eu-lv/load-profiles}
common_conf() { # NAME STATE-DIR: the keys of every agent here
	printf 'site site1\nbroker_port %s\nidentity %s\nstate_dir %s\ntime_epoch 2020-02-27T00:00:00Z\ntime_origin %s\ntime_scale %s\n' \
		"$LOCAL_PORT" "$1" "$2" "$T0" "$SCALE"
}
mkdir -p "$tmp/dso3.state" "$tmp/o9.state"
{ common_conf foa.dso3 "$tmp/dso3.state"; printf 'mode dso\nfmar_id all\ndoms_id o9\nresend_s 2\n'; } >"$tmp/dso3.conf"
{ common_conf doms.o9 "$tmp/o9.state"; printf 'dso_foa dso3\ntransformer_limit_kw 1000000\nprofiles_dir %s\nresend_s 2\n' "$PROFILES"; } >"$tmp/o9.conf"
"$FOA" -c "$tmp/dso3.conf" -v >"$tmp/dso3.log" 2>&1 &
pids+=($!)
check "the DSO FOA (gf-foa, dso mode) connects" wait_for 10 grep -q GF-BUS-SUBSCRIBED "$tmp/dso3.log"
N3=$(($(sim_now) / 900))
S3=$((N3 + 10))
pub fman.f3 fmar/all flexoffer "$(agg f3-agg-6 f3 $S3 0 0 1 1 0.05 2 Offered $((N3 + 4)))"
pub doms.o9 foa/dso3 bid "$(printf '{"bidId":"R3","gridPointId":"t1","startTime":"%s","intervalLength":900,"scheduleChange":[2,2],"energyPrice":[0.2,0.2]}' "$(iso $S3)")"
"$DOMS" -c "$tmp/o9.conf" -v >"$tmp/o9.log" 2>&1 &
pids+=($!)
# (its session is new: R3's feedback must not come before its subscription)
wait_for 10 grep -q GF-BUS-SUBSCRIBED "$tmp/o9.log" || echo "# gf-doms o9 did not subscribe"
o9_assigned() { # o9_assigned KWH: gf-doms recorded an Assigned feedback of R3 for KWH
	grep -q "GF-DOMS-FEEDBACK bid R3: Assigned by foa.dso3, $1 kWh" "$tmp/o9.log" 2>/dev/null
}
check "R3 (2 x 2 kWh) clears early and partially with one aggregate (2 kWh)" \
	wait_for 30 r_log 'GF-FMAR-CLEARED bid R3 (dso3).*requested 4 kWh, cleared 2 kWh'
check "... gf-doms records the Assigned feedback: 2 kWh" wait_for 10 o9_assigned 2.000
pub fman.f3 fmar/all flexoffer "$(agg f3-agg-7 f3 $S3 0 0 1 1 0.08 2 Offered $((S3 - 1)))"
check "a later aggregate: R3's second round clears the remaining 2 kWh" \
	wait_for 20 r_log 'GF-FMAR-RECLEARED bid R3 (dso3) round 1: .*left 2 kWh, cleared 2 kWh'
check "... gf-doms records the updated Assigned feedback: 4 kWh in all" wait_for 10 o9_assigned 4.000
check "... its row holds the total, at the rounds' prices (2 x 0.05 + 2 x 0.08)" \
	eq "$(sqlite3 "$tmp/o9.state/doms.db" "SELECT state, cleared_kwh, round(cost_eur, 3) FROM doms_feedback WHERE bid_id = 'R3' AND state = 'Assigned'")" "Assigned|4.0|0.26"
r3_echoed() { [ "$(rq "SELECT count(*) FROM gf_resend WHERE key = 'assign:dso3-bid-R3'")" = 0 ] && r_log 'GF-FMAR-CONFIRMED assignment of dso3-bid-R3 confirmed by foa.dso3$'; }
check "... the DSO FOA echoed the update: no resend left at FMAR" wait_for 10 r3_echoed
check "... and sent two Assigned feedbacks, no more" \
	eq "$(grep -c 'GF-FOA-FEEDBACK bid R3: Assigned' "$tmp/dso3.log")" 2
# A late result older than the one applied (updateId 0 under another
# scheduleId, so a key the FOA has not seen), as a delayed resend could be:
# the DSO FOA keeps it out; the DOMS keeps the total.
pub fmar.m2 foa/dso3 flexoffer.assign "$(printf '{"flexOfferId":"dso3-bid-R3","flexOfferSchedule":{"scheduleId":7,"updateId":0,"startTime":"%s","scheduleSlices":[{"duration":1,"energyAmount":1},{"duration":1,"energyAmount":1}]}}' "$(iso $S3)")"
check "an older result than the one applied is kept out by the DSO FOA" \
	wait_for 10 grep -q 'GF-FOA-ASSIGN bid offer dso3-bid-R3: an older result (update 0)' "$tmp/dso3.log"
check "... no third feedback; the DOMS still holds 4 kWh" \
	eq "$(grep -c 'GF-FOA-FEEDBACK bid R3: Assigned' "$tmp/dso3.log") $(sqlite3 "$tmp/o9.state/doms.db" "SELECT cleared_kwh FROM doms_feedback WHERE bid_id = 'R3' AND state = 'Assigned'")" "2 4.0"
sleep 1.5
kill -TERM "$pid_r"; wait "$pid_r"
sleep 0.5
check "one content per (offer, scheduleId, updateId) at fman.f3 (RA1, RA3, RA6, RA7) and foa.dso2 (R2, R1 x2)" \
	eq "$(keys_ok f3 flexoffer.assign "$sched" 4 && keys_ok dso2 flexoffer.assign "$sched" 3 && echo ok)" ok
# kpi_seq ID: the samples of kpiId ID in observedTime order, one per key (x 1000 for prices).
kpi_seq() {
	jq -s -r --arg id "$1" 'map(select(.payload.kpiId == $id) | .payload) | unique_by(.observedTime) | sort_by(.observedTime) |
		map(.value * 1000 | round | tostring) | join(" ")' "$tmp/kpi2.jsonl"
}
check "KPI fmar.cleared_kwh (Wh): R2 0; R1 4 then its total 8; R3 2 then its total 4" \
	eq "$(kpi_seq fmar.cleared_kwh)" "0 4000 8000 2000 4000"
check "KPI fmar.clearing_price (mEUR/kWh): 0; 50 then the mean 65; 50 then 65" \
	eq "$(kpi_seq fmar.clearing_price)" "0 50 65 50 65"
check "... one content per (kpiId, observedTime), 10 keys" \
	keys_ok kpi2 kpi '[.payload.kpiId, .payload.observedTime]' 10
check "no message was refused by the broker; no sanitizer report" \
	eq "$(r_all | grep -cE 'GF-BUS-REFUSED|Sanitizer|runtime error')" 0

finish
