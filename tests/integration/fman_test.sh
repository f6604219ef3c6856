#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-fman (issue 5 item 3, docs/fman.md) against the real mosquitto with our
# plugin: FOAs and FMAR are played by gfctl and gf-probe; every message to
# them is recorded by a gfctl subscriber per identity. Offers acked or
# refused with their reason; aggregates to FMAR with summed bounds; update
# and delete; an FMAR assignment disaggregated into member schedules that
# sum to it; kill -9 of gf-fman while offers stream in and between an
# assignment and the member schedules, and between an assignment's
# committed first part and the rest: nothing lost, nothing twice.
# Simulated time runs at 900x (one interval per real second).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

FMAN=$BUILD/bin/gf-fman
GFCTL=$BUILD/bin/gfctl
for b in "$FMAN" "$GFCTL" "$PROBE"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done

agent_tmp

site_new "$S" site1
add_password "$S" fman.f1 foa.p1 foa.p2 foa.p3 fmar.r1
broker_start "$S" || { echo "broker did not start"; exit 1; }

# Simulated clock: interval E0 at real time ORIGIN, one interval per second.
E0=1758624 # 2020-02-27T00:00:00Z / 900, also the grid origin
ORIGIN=$(date +%s)
now_interval() { echo $((E0 + $(date +%s) - ORIGIN)); }
at() { date -u -d "@$(($1 * 900))" +%Y-%m-%dT%H:%M:%SZ; }
N=$(now_interval)
DB=$tmp/fman.state/fman.db

mkdir -p "$tmp/fman.state"
cat >"$tmp/fman.conf" <<EOF
site site1
broker_port $LOCAL_PORT
identity fman.f1
state_dir $tmp/fman.state
time_epoch 2020-02-27T00:00:00Z
time_origin $ORIGIN
time_scale 900
aggregate_every_s 900
grid_origin_interval $E0
resend_s 2
assign_part 25
EOF
# start_fman [ENV=VALUE...]: runs gf-fman, its log appended to fman.log.
starts=0
start_fman() {
	starts=$((starts + 1))
	env "$@" "$FMAN" -c "$tmp/fman.conf" -v >>"$tmp/fman.log" 2>&1 &
	pid_fman=$!
	pids+=($pid_fman)
}
# run_fman_to_stop CONF: gf-fman expected to stop on its own (30 s at
# most), its exit code in rc.
run_fman_to_stop() {
	starts=$((starts + 1))
	timeout 30 "$FMAN" -c "$1" -v >>"$tmp/fman.log" 2>&1
	rc=$?
}
in_log() { grep -q -- "$1" "$tmp/fman.log"; }
count_log() { grep -c -- "$1" "$tmp/fman.log"; }
q() { sqlite3 "$DB" "$1"; }
# After a kill: the offer ids of the publishes unacknowledged at the kill,
# the outbox rows (they leave only on PUBACK, lib/agent/store.h). They go
# out again at the restart, and the broker may then deliver them twice;
# nothing else may arrive twice.
inflight() {
	# a row's own payload, or the kept reply or request it names (store.h)
	sqlite3 "$tmp/fman.state/fman.db" "SELECT CAST(CASE
		WHEN reply IS NOT NULL THEN (SELECT r.payload FROM gf_reply r WHERE r.key = gf_outbox.reply)
		WHEN resend IS NOT NULL THEN (SELECT r.payload FROM gf_resend r WHERE r.key = gf_outbox.resend)
		ELSE payload END AS TEXT) FROM gf_outbox" 2>/dev/null |
		grep -o '"flexOfferId":"[^"]*' | cut -d'"' -f4 >>"$tmp/inflight"
}
: >"$tmp/inflight"
only_inflight_twice() { # lines of "key" on stdin: the duplicated ones must be in flight
	local d
	d=$(sort | uniq -d | awk '{print $1}')
	[ -n "$d" ] && echo "# QoS 1 duplicates on the wire: $(echo $d)"
	for k in $d; do grep -qx -- "${k%%/*}" "$tmp/inflight" || { echo "# $k twice, not in flight"; return 1; }; done
}
# Subscribed, not only connected: its first session is new, and an offer
# sent before the subscription would be lost.
started() { [ "$(count_log GF-BUS-SUBSCRIBED)" -ge "$starts" ]; }

# A subscriber per identity, recording every message as a JSON line.
sub() { # NAME ROLE.ID FILTER
	"$GFCTL" --port "$LOCAL_PORT" --id "$2" -v sub "$3" >"$tmp/$1.jsonl" 2>"$tmp/$1.err" &
	pids+=($!)
}
subscribed() { grep -q GFCTL-SUBSCRIBED "$tmp/$1.err"; }
for p in p1 p2 p3; do sub "$p" "foa.$p" "gf/site1/+/+/foa/$p/#"; done
sub r1 fmar.r1 'gf/site1/fman/f1/fmar/#'
for x in p1 p2 p3 r1; do wait_for 10 subscribed "$x" || echo "# subscriber $x not ready"; done

# offer ID FOA SA TF "LO:HI ..." [STATE] [ACC] [MAXDUR]: an offer as JSON.
offer() {
	jq -nc --arg id "$1" --arg foa "$2" --argjson sa "$3" --argjson tf "$4" --arg b "$5" \
		--arg st "${6:-Offered}" --argjson acc "${7:-$(($3 - 10))}" --argjson md "${8:-1}" \
		--argjson cr "$N" '{id: $id, label: ("l-" + $id), state: $st, offeredById: $foa,
		creationInterval: $cr, acceptanceBeforeInterval: $acc,
		assignmentBeforeInterval: ($sa - 8), startAfterInterval: $sa,
		startBeforeInterval: ($sa + $tf), flexOfferProfileConstraints: [$b | split(" ")[] |
		split(":") | {energyConstraintList: [{lower: (.[0] | tonumber),
		upper: (.[1] | tonumber)}], minDuration: 1, maxDuration: $md}]}'
}
pub() { # ROLE.ID TOPIC JSON
	"$GFCTL" --port "$LOCAL_PORT" --id "$1" pub "$2" "$3" >/dev/null
}
send_offer() { pub "foa.$1" "gf/site1/foa/$1/fman/all/flexoffer" "$2"; }
# acks FOA ID: "accepted reason" of every ack FOA got for ID, one per line.
acks() {
	jq -r --arg id "$2" 'select(.msg == "flexoffer.ack" and .payload.flexOfferId == $id) |
		"\(.payload.accepted) \(.payload.reason // "")"' "$tmp/$1.jsonl"
}
ack_matches() { acks "$1" "$2" | in_input -- "$3"; } # FOA ID REGEX
last_ack_is() { [ "$(acks "$1" "$2" | tail -1)" = "$3" ]; }
three_acks() { [ "$(acks p1 p1-1; acks p2 p2-1; acks p3 p3-1)" = "$(printf 'true accepted\ntrue accepted\ntrue accepted')" ]; }
# the last FlexOffer FMAR got for aggregate ID
agg_last() { jq -c --arg id "$1" 'select(.msg == "flexoffer" and .payload.id == $id) | .payload' "$tmp/r1.jsonl" | tail -1; }
agg_label_is() { [ "$(agg_last "$1" | jq -r .label)" = "$2" ]; }
agg_current() { # ID: its label per the database, once FMAR has that revision
	local l
	l="agg:$(q "SELECT num || ':' || rev FROM aggregates WHERE id = '$1'")"
	agg_label_is "$1" "$l" && echo "$l"
}
bounds() { agg_last "$1" | jq -c '[.startAfterInterval, .startBeforeInterval, [.flexOfferProfileConstraints[].energyConstraintList[0] | [.lower, .upper]]]'; }
agg_at_fmar() { agg_current "$1" >/dev/null; }
bounds_are() { [ "$(bounds "$1")" = "$2" ]; }
agg_state_is() { [ "$(agg_last "$1" | jq -r .state)" = "$2" ]; }

# --- command line ---------------------------------------------------------------------
out=$("$FMAN" -c "$tmp/fman.conf" -n 2>&1); rc=$?
check "-n: configuration OK, exit 0, with FMAN's keys" \
	eq "$rc $(grep -cx 'configuration OK' <<<"$out") $(grep -c '^aggregate_every_s 900$' <<<"$out")" "0 1 1"
out=$("$FMAN" -h); rc=$?
check "-h: exit 0, lists fmar_id with its default" eq "$rc $(grep -c '^  fmar_id .*default all' <<<"$out")" "0 1"

start_fman
check "gf-fman starts, connects and subscribes (GF-FMAN-START)" wait_for 10 started
check "... logging GF-FMAN-START" in_log GF-FMAN-START

# --- offers: acked or refused with the reason ------------------------------------------
# Cell [E0 + 100k, +20): p1-1 at N+200 (two slices), p2-1 at N+201, p3-1 at N+200; tf 4.
C=$((E0 + ((N - E0 + 200) / 20 + 1) * 20)) # a cell start at least 200 ahead
send_offer p1 "$(offer p1-1 p1 $C 4 '1:3 0:2')"
send_offer p2 "$(offer p2-1 p2 $((C + 1)) 4 '2:4')"
send_offer p3 "$(offer p3-1 p3 $C 4 '0.5:1.5')"
check "valid offers are acked: accepted" wait_for 10 three_acks
send_offer p1 "$(offer p1-2 p1 $C 4 '1:3' Offered $((C - 10)) 2)"
check "variable-duration slice: refused, the reason reaches the FOA" \
	wait_for 10 ack_matches p1 p1-2 '^false .*variable-duration slices'
send_offer p1 "$(offer p1-3 p1 $C 4 '1:3' Offered $((N - 2)))"
check "passed acceptance deadline: refused with the reason" \
	wait_for 10 ack_matches p1 p1-3 '^false acceptanceBeforeInterval [0-9]* has passed'
send_offer p1 "$(offer p2-9 p1 $C 4 '1:3')"
check "an offer id of another FOA: refused with the reason" \
	wait_for 10 ack_matches p1 p2-9 "^false offer id p2-9 is not one of FOA p1's"
send_offer p1 "$(offer p1-1 p1 $C 4 '1:3 0:2')"
two_acks() { [ "$(acks p1 p1-1 | wc -l)" -ge 2 ]; }
check "the same offer again (a resend whose ack was lost): its ack again" wait_for 10 two_acks
check "... the same ack, not a new decision" eq "$(acks p1 p1-1 | sort -u)" "true accepted"
echo p1-1 >>"$tmp/inflight" # a deliberate duplicate, for the count at the end
check "... each refusal logged (GF-FMAN-REFUSE)" [ "$(count_log GF-FMAN-REFUSE)" -eq 3 ]

# --- aggregates to FMAR ----------------------------------------------------------------
AGG=f1-agg-1
check "the aggregate reaches FMAR" wait_for 10 agg_at_fmar $AGG
check "... with the summed bounds (p1 + p2 shifted by one + p3)" \
	eq "$(bounds $AGG)" "[$C,$((C + 4)),[[1.5,4.5],[2,6]]]"
check "... offered by the fman, deadlines the members' minimum" \
	eq "$(agg_last $AGG | jq -r '"\(.offeredById) \(.state) \(.acceptanceBeforeInterval)"')" "f1 Offered $((C - 10))"
# The revision FMAR holds with all three members (aggregation may have run
# between their offers, so it need not be the first): assigned after p3-1
# has changed, it must be refused.
with_p3=$(agg_current $AGG)
send_offer p3 "$(offer p3-1 p3 $C 4 '1:2')"
check "an update is acked: updated" wait_for 10 last_ack_is p3 p3-1 "true updated"
check "... and the aggregate is sent again with the new bounds" \
	wait_for 10 bounds_are $AGG "[$C,$((C + 4)),[[2,5],[2,6]]]"
send_offer p3 "$(offer p3-1 p3 $C 4 '1:2' Canceled)"
check "a delete is acked: canceled" wait_for 10 last_ack_is p3 p3-1 "true canceled"
check "... and the aggregate goes on without it" \
	wait_for 10 bounds_are $AGG "[$C,$((C + 4)),[[1,3],[2,6]]]"
send_offer p2 "$(offer p2-2 p2 $((C + 40)) 4 '1:2')"
check "an offer of another cell makes another aggregate" wait_for 10 agg_at_fmar f1-agg-2
send_offer p2 "$(offer p2-2 p2 $((C + 40)) 4 '1:2' Canceled)"
check "... canceled when its only member goes" \
	wait_for 10 agg_state_is f1-agg-2 Canceled

# --- an assignment from FMAR ---------------------------------------------------------------
wait_for 10 agg_current $AGG >/dev/null
label=$(agg_current $AGG)
assign() { # AGG LABEL START SCHEDULE_ID "x x ..."
	jq -nc --arg id "$1" --arg l "$2" --arg t "$(at "$3")" --argjson s "$4" --arg x "$5" \
		'{flexOfferId: $id, label: $l, flexOfferSchedule: {scheduleId: $s, updateId: 0,
		startTime: $t, scheduleSlices: [$x | split(" ")[] |
		{duration: 1, energyAmount: tonumber}]}}'
}
send_assign() { pub fmar.r1 gf/site1/fmar/r1/fman/f1/flexoffer.assign "$(assign "$@")"; }
send_assign $AGG "$label" $((C + 2)) 7 "2 5"
# member_assigns SID: "id interval amount" per slice of every member schedule.
member_assigns() {
	cat "$tmp"/p?.jsonl | jq -r --argjson s "$1" 'select(.msg == "flexoffer.assign" and
		.payload.flexOfferSchedule.scheduleId == $s) | .payload as $p |
		($p.flexOfferSchedule.startTime | fromdate / 900) as $t |
		$p.flexOfferSchedule.scheduleSlices | to_entries[] |
		"\($p.flexOfferId) \($t + .key) \(.value.energyAmount)"'
}
assign_keys() { # SID: flexOfferId/scheduleId/updateId of each assign received
	cat "$tmp"/p?.jsonl | jq -r --argjson s "$1" 'select(.msg == "flexoffer.assign" and
		.payload.flexOfferSchedule.scheduleId == $s) | "\(.payload.flexOfferId)/\(
		.payload.flexOfferSchedule.scheduleId)/\(.payload.flexOfferSchedule.updateId)"'
}
nkeys() { [ "$(assign_keys "$1" | sort -u | wc -l)" -ge "$2" ]; }
# (member schedules are resent every resend_s until echoed, and these FOAs
# do not echo: each content counts once)
per_interval() { member_assigns "$1" | sort -u | awk '{s[$2] += $3} END {for (t in s) printf "%d %.9g\n", t, s[t]}' | sort; }
check "an assign makes one assign per member FOA" wait_for 10 nkeys 7 2
check "... p1-1 and p2-1" eq "$(assign_keys 7 | sort -u | tr '\n' ' ')" "p1-1/7/0 p2-1/7/0 "
check "... whose schedules sum to the aggregate's per interval" \
	eq "$(per_interval 7)" "$(printf '%d 2\n%d 5' $((C + 2)) $((C + 3)))"
check "... each inside its member's bounds (p1: [1,3] [0,2]; p2: [2,4])" \
	eq "$(member_assigns 7 | awk '($1 == "p1-1" && NR % 2 && ($3 < 1 || $3 > 3)) || ($1 == "p2-1" && ($3 < 2 || $3 > 4)) {bad++} END {print bad + 0}')" 0
send_offer p1 "$(offer p1-1 p1 $C 4 '1:3 0:2' Canceled)"
check "a delete after the assignment is refused" \
	wait_for 10 ack_matches p1 p1-1 '^false offer p1-1 is already assigned'
send_assign $AGG "${with_p3:-agg:1:1}" $((C + 2)) 8 "2 5"
check "an assign of a revision whose member changed since is refused (GF-FMAN-ASSIGN-REFUSE)" \
	wait_for 10 in_log 'GF-FMAN-ASSIGN-REFUSE.*member p3-1 changed since this revision'
check "... and sends nothing" eq "$(assign_keys 8 | wc -l)" 0

# --- answers: echoes and resends (docs/trading.md, "When the broker itself is killed") -------
echoes() { jq -c 'select(.msg == "flexoffer" and .payload.state == "'"$1"'") | .payload' "$tmp/r1.jsonl"; }
has_echo() { [ -n "$(echoes "$1")" ]; }
check "FMAR's assignment is echoed back: the aggregate, state Assigned, the schedule received" \
	wait_for 10 has_echo Assigned
check "... of $AGG, schedule 7, the label FMAR named" \
	eq "$(echoes Assigned | head -1 | jq -r '"\(.id) \(.flexOfferSchedule.scheduleId) \(.label)"')" "$AGG 7 $label"
check "... a refused assignment is echoed Rejected, with the reason" wait_for 10 has_echo Rejected
check "... FMAN's state did not take the echo as an update" eq "$(q "SELECT state FROM aggregates WHERE id = '$AGG'")" Assigned
send_assign $AGG "$label" $((C + 2)) 7 "2 5"
two_echoes() { [ "$(echoes Assigned | jq -r .id | grep -c "^$AGG\$")" -ge 2 ]; }
check "the same assignment again: echoed again, nothing scheduled twice" wait_for 10 two_echoes
check "... (one assignment row per member)" eq "$(q "SELECT count(*) FROM assignments WHERE schedule_id = 7")" 2
pending() { q "SELECT count(*) FROM gf_resend WHERE key = 'assign:$1'"; }
resent() { [ "$(assign_keys 7 | grep -c "^$1\$")" -ge 2 ]; }
check "a member assignment no FOA echoed is sent again (resend_s 2)" wait_for 10 resent p1-1/7/0
check "... (GF-FMAN-RESEND)" in_log GF-FMAN-RESEND
echo_json=$(cat "$tmp/p1.jsonl" | jq -c 'select(.msg == "flexoffer.assign" and .payload.flexOfferId == "p1-1") | .payload.flexOfferSchedule' | head -1 |
	jq -c --argjson o "$(offer p1-1 p1 $C 4 '1:3 0:2')" '$o + {state: "Assigned", flexOfferSchedule: .}')
pub foa.p1 gf/site1/foa/p1/fman/all/flexoffer "$echo_json"
check "an FOA's echo confirms its assignment (GF-FMAN-CONFIRMED)" \
	wait_for 10 in_log 'GF-FMAN-CONFIRMED assignment p1-1:7:0 confirmed by foa.p1'
check "... no longer sent again; p2-1's (not echoed) still is" eq "$(pending p1-1:7:0) $(pending p2-1:7:0)" "0 1"
check "... and the echo is no update: no ack for it" eq "$(acks p1 p1-1 | grep -vc 'true accepted\|^false offer p1-1 is already assigned')" 0

# FMAR echoes the label of the revision it cleared; FMAN may have moved on.
send_offer p1 "$(offer p1-4 p1 $((C + 60)) 4 '1:2')"
agg_of_offer() { q "SELECT agg FROM offers WHERE id = '$1'"; }
has_agg() { [ -n "$(agg_of_offer "$1")" ] && agg_at_fmar "$(agg_of_offer "$1")"; }
check "a lone offer makes an aggregate" wait_for 10 has_agg p1-4
A4=$(agg_of_offer p1-4)
old_label=$(agg_current "$A4")
send_offer p2 "$(offer p2-4 p2 $((C + 60)) 4 '2:3')"
label_moved() { [ "$(agg_last "$A4" | jq -r .label)" != "$old_label" ]; }
check "... which a second member changes (a new revision)" wait_for 10 label_moved
send_assign "$A4" "$old_label" $((C + 61)) 9 "1.5"
check "an assign of the older revision schedules that revision's members only" \
	wait_for 10 nkeys 9 1
check "... p1-4, with the whole schedule" eq "$(member_assigns 9 | sort -u)" "p1-4 $((C + 61)) 1.5"
other_agg() { has_agg p2-4 && [ "$(agg_of_offer p2-4)" != "$A4" ]; }
check "... and the later member goes on in a new aggregate" wait_for 10 other_agg

# --- meter readings ------------------------------------------------------------------------
pub foa.p1 gf/site1/foa/p1/fman/all/meter.reading "$(meter_json dev-1)"
pub foa.p1 gf/site1/foa/p1/fman/all/meter.reading "$(meter_json dev-1)"
# A third one after both: once it is stored, the second dev-1 was handled.
pub foa.p1 gf/site1/foa/p1/fman/all/meter.reading "$(meter_json dev-2)"
stored_dev2() { [ "$(q "SELECT count(*) FROM meter_readings WHERE foa = 'p1' AND device = 'dev-2'")" = 1 ]; }
wait_for 10 stored_dev2 || echo "# the reading of dev-2 was not stored"
check "meter readings are stored, once" eq "$(q "SELECT count(*) FROM meter_readings WHERE foa = 'p1' AND device = 'dev-1'")" 1

# --- kill -9 while offers stream in ---------------------------------------------------------
# 3 FOAs x 40 offers, 15 ms apart, into two cells. gf-fman first kills
# itself right after committing the 20th (before the outbox is flushed),
# is restarted, and is then killed -9 from outside while the stream goes on.
D=$((C + 100))
stream() { # FOA
	local acts=() i
	for i in $(seq 1 40); do
		acts+=("pub:gf/site1/foa/$1/fman/all/flexoffer=$(offer "$1-s$i" "$1" $((D + (i % 2) * 20)) 2 '1:2')" wait:15)
	done
	probe_pw "foa.$1" "foa.$1@stream" "${acts[@]}" >"$tmp/stream-$1.out"
}
kill -TERM $pid_fman; wait $pid_fman
start_fman GF_FMAN_CRASH=offer-committed:20
wait_for 10 started || true
spids=()
for p in p1 p2 p3; do stream $p & spids+=($!); done
wait $pid_fman 2>/dev/null
inflight
check "gf-fman dies after committing the 20th offer (GF-FMAN-CRASH)" in_log 'GF-FMAN-CRASH.*offer-committed'
start_fman
sleep 0.3
kill -9 $pid_fman; wait $pid_fman 2>/dev/null
inflight
handled=$(q "SELECT count(*) FROM offers WHERE id LIKE '%-s%'")
check "... and is killed -9 while the stream goes on ($handled of 120 handled)" [ "$handled" -lt 120 ]
start_fman
wait "${spids[@]}"
check "the broker took all 120 offers" eq "$(cat "$tmp"/stream-p?.out | grep -c '^PUBACK .* 0$')" 120
stream_acks() { cat "$tmp"/p?.jsonl | jq -r 'select(.msg == "flexoffer.ack" and (.payload.flexOfferId | test("-s[0-9]+$"))) | "\(.payload.flexOfferId) \(.payload.accepted)"'; }
all_acked() { [ "$(stream_acks | sort -u | wc -l)" -ge 120 ]; }
check "after the restarts every offer is acked" wait_for 20 all_acked
sleep 1
check "... each accepted" eq "$(stream_acks | sort -u | awk '$2 == "true"' | wc -l)" 120
accepts() { grep -o 'GF-FMAN-ACCEPT offer [^ ]*-s[0-9]* ' "$tmp/fman.log"; }
check "... each handled exactly once across the kills (one GF-FMAN-ACCEPT per offer)" \
	eq "$(accepts | sort | uniq -d | wc -l) $(accepts | wc -l)" "0 120"
check "... and acked exactly once, but for QoS 1 re-sends of what was unacknowledged at a kill" \
	only_inflight_twice < <(stream_acks | awk '{print $1}')
check "... from the inbox's replay and the outbox" in_log GF-BUS-REPLAY

# --- kill -9 between an assignment and the member schedules ------------------------------------
# Both stream cells, 60 members each, one slice [1, 2] at D (resp. D + 20).
settled() { # the two stream aggregates are at FMAR at their current revision
	local a b
	a=$(q "SELECT agg FROM offers WHERE id = 'p1-s2'") b=$(q "SELECT agg FROM offers WHERE id = 'p1-s1'")
	[ -n "$a" ] && [ -n "$b" ] && agg_current "$a" >/dev/null && agg_current "$b" >/dev/null &&
		[ "$(q "SELECT count(*) FROM offers WHERE id LIKE '%-s%' AND agg IS NULL")" = 0 ]
}
check "the stream's two aggregates reach FMAR" wait_for 10 settled
A=$(q "SELECT agg FROM offers WHERE id = 'p1-s2'") B=$(q "SELECT agg FROM offers WHERE id = 'p1-s1'")
check "... with 60 members each and bounds summed ([60, 120])" \
	eq "$(bounds "$A") $(bounds "$B")" "[$D,$((D + 2)),[[60,120]]] [$((D + 20)),$((D + 22)),[[60,120]]]"
kill -TERM $pid_fman; wait $pid_fman
start_fman GF_FMAN_CRASH=assign-committed
wait_for 10 started || true
send_assign "$A" "$(agg_current "$A")" $((D + 1)) 11 "90"
wait $pid_fman 2>/dev/null
inflight
check "gf-fman dies after committing an assignment, before sending (GF-FMAN-CRASH)" \
	in_log 'GF-FMAN-CRASH.*assign-committed'
start_fman GF_FMAN_CRASH=assign-before-commit
check "... restarted, it sends the member schedules from its outbox" wait_for 10 nkeys 11 60
send_assign "$B" "$(agg_current "$B")" $((D + 22)) 12 "75.5"
wait $pid_fman 2>/dev/null
inflight
check "gf-fman dies after disaggregating, before committing (GF-FMAN-CRASH)" \
	in_log 'GF-FMAN-CRASH.*assign-before-commit'
check "... its first part of 25 (assign_part) had been committed: 25 of 60 assignments recorded" \
	eq "$(q "SELECT count(*) FROM assignments WHERE schedule_id = 12")" 25
sleep 1
check "... and no member beyond them had its schedule (sent only once committed)" \
	[ "$(assign_keys 12 | sort -u | wc -l)" -le 25 ]
# A restart with another aggregation configuration could not send the rest
# the same way (max_members 30: the 60 members no longer form one
# aggregate): it stops, loudly, with nothing of the redo kept.
sed 's/^assign_part 25$/assign_part 25\nmax_members 30/' "$tmp/fman.conf" >"$tmp/fman-other.conf"
fmar_before=$(wc -l <"$tmp/r1.jsonl")
run_fman_to_stop "$tmp/fman-other.conf"
check "restarted with another max_members, gf-fman stops rather than split the half-sent assignment otherwise (GF-FMAN-ASSIGN-HALF, exit $rc)" \
	eval '[ "$rc" != 0 ] && in_log "GF-FMAN-ASSIGN-HALF.*25 member schedules were sent before a restart.*no longer form one aggregate"'
check "... having sent FMAR nothing (the start's aggregation waits for the redo: GF-FMAN-ASSIGN-PENDING)" \
	eval '[ "$(wc -l <"$tmp/r1.jsonl")" = "$fmar_before" ] && in_log GF-FMAN-ASSIGN-PENDING'
check "... keeping the first part as it was: 25 assignments, the part still marked" \
	eq "$(q "SELECT count(*) FROM assignments WHERE schedule_id = 12") $(q "SELECT sent || ':' || rev FROM assign_parts")" "25 25:$(agg_current "$B" | cut -d: -f3)"
check "... and no member beyond them has its schedule" [ "$(assign_keys 12 | sort -u | wc -l)" -le 25 ]
# A redo that would send one of the first part's members another schedule
# (here its recorded one is changed in the database) stops the same way.
one=$(q "SELECT min(offer) FROM assignments WHERE schedule_id = 12")
body=$(q "SELECT body FROM assignments WHERE offer = '$one' AND schedule_id = 12")
q "UPDATE assignments SET body = json_set(body, '\$.flexOfferSchedule.scheduleSlices[0].energyAmount', 0.125) WHERE offer = '$one' AND schedule_id = 12"
run_fman_to_stop "$tmp/fman.conf"
check "... and when the redo would send member $one another schedule than it has (exit $rc)" \
	eval '[ "$rc" != 0 ] && in_log "GF-FMAN-ASSIGN-HALF.*member $one.s schedule would differ"'
# The same schedule written otherwise (a version that formats JSON
# differently) is the same: the redo goes on.
q "UPDATE assignments SET body = replace('$body', ',', ', ') WHERE offer = '$one' AND schedule_id = 12"
start_fman
check "... restarted with its configuration, it handles the assignment again from its inbox" wait_for 10 nkeys 12 60
sleep 1
# The FOAs here do not echo, so the schedules come again every resend_s:
# each key must come with one content, and FMAN must have scheduled once.
for s in 11 12; do
	check "schedule $s: every one of the 60 members gets its assignment, one content per key" \
		eq "$(assign_keys $s | sort -u | wc -l) $(member_assigns $s | sort -u | cut -d' ' -f1 | uniq -d | wc -l)" "60 0"
	check "... recorded once per member" eq "$(q "SELECT count(*) FROM assignments WHERE schedule_id = $s")" 60
done
check "... and they sum to the aggregates' schedules" \
	eq "$(member_assigns 11 | sort -u | awk '{s[$2] += $3} END {for (t in s) printf "%d %.9g", t, s[t]}') $(member_assigns 12 | sort -u | awk '{s[$2] += $3} END {for (t in s) printf "%d %.9g", t, s[t]}')" "$((D + 1)) 90 $((D + 22)) 75.5"
check "... the second one replayed from the inbox (GF-BUS-REPLAY), the part's mark gone" \
	eval '[ "$(count_log GF-BUS-REPLAY)" -ge 2 ] && [ "$(q "SELECT count(*) FROM assign_parts")" = 0 ]'
check "every offer of the test was acked once per content (but re-sends of what was unacknowledged at a kill)" \
	only_inflight_twice < <(cat "$tmp"/p?.jsonl | jq -r 'select(.msg == "flexoffer.ack") | "\(.payload.flexOfferId)/\(.payload.reason | gsub(" "; "_"))"')

kill -TERM $pid_fman; wait $pid_fman; rc=$?
check "SIGTERM: exit 0" eq "$rc" 0
not_in_log() { ! in_log "$1"; }
unexpected_failures() { grep 'GF-FMAN-STORE\|GF-AGENT-FAIL\|GF-BUS-PUBLISH' "$tmp/fman.log" | grep -v 'an assignment half sent before a restart'; }
check "no store failures (GF-FMAN-STORE, GF-AGENT-FAIL) but the stop above, no publish refused before a connect" \
	eval '! unexpected_failures'
check "no sanitizer report from gf-fman (SAN=1 builds)" not_in_log 'Sanitizer\|runtime error'
finish
