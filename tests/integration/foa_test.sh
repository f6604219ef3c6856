#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-foa (issue 5 item 2, docs/foa.md) against the real mosquitto with our
# plugin. The FOA is the real agent; the xEMS, FMAN, FMAR and DOMS are
# played by gfctl (pub, and sub as watchers). Checked: xems.flexibility ->
# flexoffer at FMAN with the right content and one foa.reply; a duplicate is
# handled once; FMAN's refusal reaches the xEMS as FlexibilityReject with
# the reason; an assignment delivered twice gives one DemandSchedule; the
# FOA stopped at assignment time gets it when it returns; kill -9 between
# receiving an assignment and sending the schedule (before and after the
# commit) gives exactly one; cancel; heartbeat readings; DSO mode: bid ->
# bid offer at FMAR, ack and assignment -> offer.feedback at the DOMS.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

FOA=$BUILD/bin/gf-foa
GFCTL=$BUILD/bin/gfctl
[ -x "$FOA" ] && [ -x "$GFCTL" ] || { echo "no $FOA or $GFCTL (run make)"; exit 1; }

agent_tmp

site_new "$S" site1
add_password "$S" foa.p1 foa.d1 xems.p1 fman.m1 fmar.r1 doms.o1
broker_start "$S" || { echo "broker did not start"; exit 1; }

# Simulated time: 2020-02-27T12:00Z (interval 1758672) when the test starts.
ORIGIN=$(date +%s)
I0=1758672

conf() { # conf NAME KEY VALUE...
	local name=$1; shift
	mkdir -p "$tmp/$name.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "state_dir $tmp/$name.state"
		echo "time_epoch 2020-02-27T12:00:00Z"
		echo "time_origin $ORIGIN"
		# Resends off unless asked for: the checks above the resend
		# section count what the FOA sends once (docs/foa.md).
		case " $* " in *" resend_s "*) ;; *) echo "resend_s 0" ;; esac
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/$name.conf"
}
start() { # start NAME: gf-foa with $tmp/NAME.conf, log $tmp/NAME.log (appended)
	"$FOA" -c "$tmp/$1.conf" -v >>"$tmp/$1.log" 2>&1 &
	pids+=($!)
	eval "pid_$1=$!"
}
count_in_log() { grep -c -- "$2" "$tmp/$1.log" 2>/dev/null || true; }
pub() { # pub IDENT TOPIC JSON
	"$GFCTL" --port "$LOCAL_PORT" --id "$1" pub "$2" "$3" >/dev/null
}
# n_where NAME JQ-FILTER: how many messages watched by NAME match.
n_where() { jq -c "select($2)" "$tmp/$1.out" 2>/dev/null | wc -l; }
has_n() { [ "$(n_where "$1" "$2")" -eq "$3" ]; }
has_some() { [ "$(n_where "$1" "$2")" -ge 1 ]; }
# first NAME JQ-FILTER JQ-EXPR: EXPR of the first message matching FILTER.
first() { jq -c "select($2) | $3" "$tmp/$1.out" 2>/dev/null | head -1; }

offer() { # offer LABEL: an xEMS offer, start window 14:00-15:00, two slices
	printf '{"flexOffer":{"label":"%s","state":"Initial","offeredById":"p1","creationInterval":%d,"acceptanceBeforeInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferProfileConstraints":[{"energyConstraintList":[{"lower":1,"upper":3}],"minDuration":1,"maxDuration":1},{"energyConstraintList":[{"lower":0.5,"upper":2}],"minDuration":1,"maxDuration":1}]}}' \
		"$1" "$I0" $((I0 + 4)) $((I0 + 6)) $((I0 + 8)) $((I0 + 12))
}
assign() { # assign OFFER-ID SCHEDULE-ID UPDATE-ID E1 E2
	printf '{"flexOfferId":"%s","flexOfferSchedule":{"scheduleId":%d,"updateId":%d,"startTime":"2020-02-27T14:15:00Z","scheduleSlices":[{"duration":1,"energyAmount":%s},{"duration":1,"energyAmount":%s}]}}' \
		"$1" "$2" "$3" "$4" "$5"
}
TX=gf/site1/xems/p1/foa/p1
TM=gf/site1/fman/m1/foa/p1
reply_schedule='.msg == "foa.reply" and (.payload.demandSchedule | length) > 0'

# --- command line --------------------------------------------------------------------------
conf p1 identity foa.p1 mode xems
out=$("$FOA" -c "$tmp/p1.conf" -n 2>&1); rc=$?
check "-n: exit 0, configuration OK, prints its own keys" \
	eq "$rc $(grep -c -e '^configuration OK$' -e '^mode xems$' -e '^fman_id all$' <<<"$out")" "0 3"
"$FOA" -h >"$tmp/h.out"; rc=$?
check "-h: exit 0 and lists mode and hold_at" eq "$rc $(grep -cE '^  (mode|hold_at) ' "$tmp/h.out")" "0 2"
conf bad identity foa.p1 mode sideways
"$FOA" -c "$tmp/bad.conf" >"$tmp/bad.log" 2>&1; rc=$?
check "an unknown mode stops it with a reason" \
	eq "$rc $(grep -c 'GF-FOA-CONFIG.*mode must be xems, dso or plug' "$tmp/bad.log")" "1 1"

# --- xEMS mode: offer to FMAN, one reply ------------------------------------------------
watch xems xems.p1 "gf/site1/foa/p1/xems/p1/#"
watch fman fman.m1 "gf/site1/foa/+/fman/#"
start p1
check "the FOA connects" wait_for 10 in_log p1 GF-BUS-SUBSCRIBED
pub xems.p1 "$TX/xems.flexibility" "$(offer a)"
check "xems.flexibility -> one flexoffer at FMAN (fman/all)" \
	wait_for 10 has_n fman '.topic == "gf/site1/foa/p1/fman/all/flexoffer"' 1
check "... with the FOA's id p1-1, offeredById, state Offered, deadlines and windows kept" \
	eq "$(first fman '.msg == "flexoffer"' '.payload | [.id, .label, .offeredById, .state, .acceptanceBeforeInterval - '$I0', .assignmentBeforeInterval - '$I0', .startAfterInterval - '$I0', .startBeforeInterval - '$I0', (.flexOfferProfileConstraints | length)]')" \
	'["p1-1","a","p1","Offered",4,6,8,12,2]'
check "... and the xEMS gets one foa.reply: Ack" \
	wait_for 5 has_n xems '.msg == "foa.reply" and .payload.ack.ack == true' 1
pub xems.p1 "$TX/xems.flexibility" "$(offer a)"
check "the same request again is handled once (GF-FOA-DUP)" wait_for 5 in_log p1 GF-FOA-DUP
sleep 0.5
check "... no second flexoffer, no second reply" \
	eq "$(n_where fman '.msg == "flexoffer"') $(n_where xems '.msg == "foa.reply"')" "1 1"

# --- FMAN refuses an offer: FlexibilityReject with the reason ----------------------------
pub xems.p1 "$TX/xems.flexibility" "$(offer b)"
check "a second offer gets the next id, p1-2" \
	wait_for 10 has_n fman '.msg == "flexoffer" and .payload.id == "p1-2"' 1
pub fman.m1 "$TM/flexoffer.ack" '{"flexOfferId":"p1-2","accepted":false,"reason":"start window in the past"}'
check "FMAN's refusal reaches the xEMS as FlexibilityReject with the reason" \
	wait_for 10 has_n xems '.payload.flexibilityReject[0] == {"flexOfferId":"b","reason":"start window in the past"}' 1

# --- assignment delivered twice: one DemandSchedule --------------------------------------
pub fman.m1 "$TM/flexoffer.ack" '{"flexOfferId":"p1-1","accepted":true}'
pub fman.m1 "$TM/flexoffer.assign" "$(assign p1-1 7 0 2 1.5)"
pub fman.m1 "$TM/flexoffer.assign" "$(assign p1-1 7 0 2 1.5)"
check "an assignment reaches the xEMS as a DemandSchedule" wait_for 10 has_some xems "$reply_schedule"
check "... with the FOA's scheduleId 1, updateId 0, start, 900 s, energy per interval, the xEMS's name" \
	eq "$(first xems "$reply_schedule" '.payload.demandSchedule[0] | [.scheduleId, .updateId, .flexOfferId, .startTime, .intervalLength, .energy]')" \
	'[1,0,"a","2020-02-27T14:15:00Z",900,[2,1.5]]'
wait_for 5 in_log p1 'GF-FOA-DUP.*assign:p1-1' >/dev/null
check "... exactly once although delivered twice" \
	eq "$(n_where xems "$reply_schedule") $(count_in_log p1 'GF-FOA-DUP.*assign:p1-1')" "1 1"

# --- the FOA offline at assignment time ----------------------------------------------------
kill -TERM "$pid_p1"; wait "$pid_p1"
pub fman.m1 "$TM/flexoffer.assign" "$(assign p1-1 7 1 2.5 1)"
sleep 0.5
check "while the FOA is stopped the xEMS gets nothing" eq "$(n_where xems "$reply_schedule")" 1
start p1
check "back, the FOA gets the assignment the broker kept (DemandUpdate, updateId 1, same scheduleId)" \
	wait_for 10 has_n xems "$reply_schedule"' and .payload.demandSchedule[0].updateId == 1 and .payload.demandSchedule[0].scheduleId == 1' 1

# --- kill -9 between receiving an assignment and sending the schedule ------------------
crash_at() { # crash_at before|after LABEL OFFER-ID
	local at=$1 label=$2 id=$3
	pub xems.p1 "$TX/xems.flexibility" "$(offer "$label")"
	wait_for 10 has_n fman '.msg == "flexoffer" and .payload.id == "'"$id"'"' 1
	kill -TERM "$pid_p1"; wait "$pid_p1"
	conf p1 identity foa.p1 mode xems hold_at "$at" hold_ms 20000
	start p1
	pub fman.m1 "$TM/flexoffer.assign" "$(assign "$id" 3 0 1 1)"
	check "kill -9 $at the commit: the FOA holds the assignment of $id" \
		wait_for 10 in_log p1 "GF-FOA-HOLD.*assign:$id:3:0 $at"
	kill -9 "$pid_p1"; wait "$pid_p1" 2>/dev/null
	check "... and has sent no schedule for it" \
		eq "$(n_where xems "$reply_schedule"' and .payload.demandSchedule[0].flexOfferId == "'"$label"'"')" 0
	conf p1 identity foa.p1 mode xems
	start p1
	check "... after the restart exactly one DemandSchedule for it" \
		wait_for 10 has_n xems "$reply_schedule"' and .payload.demandSchedule[0].flexOfferId == "'"$label"'"' 1
	sleep 1
	check "... and no second one" \
		eq "$(n_where xems "$reply_schedule"' and .payload.demandSchedule[0].flexOfferId == "'"$label"'"')" 1
}
crash_at before c p1-3
check "... (the replayed assignment was handled: GF-BUS-REPLAY)" in_log p1 GF-BUS-REPLAY
crash_at after d p1-4
check "... (the replayed assignment was a duplicate: the outbox sent the schedule)" \
	in_log p1 'GF-FOA-DUP.*assign:p1-4'

# --- cancel, heartbeat --------------------------------------------------------------------
pub xems.p1 "$TX/xems.flexibility" "$(offer e)"
wait_for 10 has_n fman '.msg == "flexoffer" and .payload.id == "p1-5"' 1
pub xems.p1 "$TX/xems.cancel" '{"flexOfferId":"e","reason":"plans changed"}'
check "xems.cancel -> a Canceled flexoffer for p1-5 at FMAN" \
	wait_for 10 has_n fman '.msg == "flexoffer" and .payload.id == "p1-5" and .payload.state == "Canceled"' 1
pub xems.p1 "$TX/xems.cancel" '{"flexOfferId":"a"}'
check "cancel of an assigned offer: Nack with the reason" \
	wait_for 10 has_n xems '.payload.ack.ack == false and (.payload.ack.reason | test("p1-1 is Assigned"))' 1
pub xems.p1 "$TX/xems.cancel" '{"flexOfferId":"nope"}'
check "cancel of an unknown offer: Nack unknownReference" \
	wait_for 10 has_n xems '.payload.ack.reasonCode == "unknownReference"' 1
pub xems.p1 "$TX/xems.operation" '{"operationState":"assigned","intervalLength":900,"startTime":"2020-02-27T12:00:00Z","accountingPower":[1.25,0.75]}'
check "xems.operation -> meter.reading at FMAN: one reading per interval" \
	wait_for 10 has_n fman '.msg == "meter.reading" and (.payload.readings | map([.observedTimestamp, .deviceId, .value]) == [["2020-02-27T12:00:00Z","p1",1.25],["2020-02-27T12:15:00Z","p1",0.75]])' 1
# Requests: a, a (dup), b, c, d, e, cancel e, cancel a, cancel nope, operation.
requests=9
check "every xEMS request answered by exactly one Ack/Nack reply ($requests)" \
	wait_for 5 has_n xems '.msg == "foa.reply" and (.payload.demandSchedule | length) == 0 and (.payload.flexibilityReject | length) == 0' $requests
check "no private payload in the FOA's log" eq "$(grep -c 'energyConstraintList\|plans changed\|1.25' "$tmp/p1.log")" 0

# --- answers and resends (docs/trading.md, "When the broker itself is killed") -----------
echo_of() { echo '.msg == "flexoffer" and .payload.id == "'"$1"'" and .payload.state == "Assigned" and .payload.flexOfferSchedule.scheduleId == '"$2"; }
check "each applied assignment is echoed to FMAN: the offer, state Assigned, the schedule received" \
	eq "$(first fman "$(echo_of p1-1 7)" '.payload | [.label, .offeredById, .flexOfferSchedule.updateId, .flexOfferSchedule.scheduleSlices[0].energyAmount]')" '["a","p1",0,2]'
check "... and echoed again when the assignment comes again (delivered twice: two echoes, one content)" \
	eq "$(jq -c "select($(echo_of p1-1 7) and .payload.flexOfferSchedule.updateId == 0) | .payload" "$tmp/fman.out" | sort | uniq -c | awk '{print $1}')" 2
kill -TERM "$pid_p1"; wait "$pid_p1"
conf p1 identity foa.p1 mode xems resend_s 1
start p1
pub xems.p1 "$TX/xems.flexibility" "$(offer f)"
offered() { [ "$(n_where fman '.msg == "flexoffer" and .payload.id == "p1-6"')" -ge "$1" ]; }
check "resend_s 1: an offer FMAN has not acked is sent again" wait_for 10 offered 2
check "... the same content each time" \
	eq "$(jq -c 'select(.msg == "flexoffer" and .payload.id == "p1-6") | .payload' "$tmp/fman.out" | sort -u | wc -l)" 1
pub fman.m1 "$TM/flexoffer.ack" "$(first fman '.payload.id == "p1-6"' '{flexOfferId: .payload.id, accepted: true, label: .payload.label, creationInterval: .payload.creationInterval}')"
wait_for 5 in_log p1 'GF-FOA-ACK offer p1-6 Accepted' >/dev/null
sleep 0.5
n6=$(n_where fman '.msg == "flexoffer" and .payload.id == "p1-6"')
sleep 2.5
check "... acked (its label and creationInterval), it is no longer sent" \
	eq "$(n_where fman '.msg == "flexoffer" and .payload.id == "p1-6"')" "$n6"
pub fman.m1 "$TM/flexoffer.assign" "$(assign p1-6 9 0 1 1)"
scheduled() { [ "$(n_where xems "$reply_schedule"' and .payload.demandSchedule[0].flexOfferId == "f"')" -ge "$1" ]; }
check "a schedule has no answer from the xEMS: sent again until it has run (its key: scheduleId + updateId)" \
	wait_for 10 scheduled 2
check "... the same content each time" \
	eq "$(jq -c "select($reply_schedule"' and .payload.demandSchedule[0].flexOfferId == "f") | .payload' "$tmp/xems.out" | sort -u | wc -l)" 1

# --- an offer kept as JSON text (by a FOA before it kept protobuf, 2026-12) ------------------
pub xems.p1 "$TX/xems.flexibility" "$(offer g)"
wait_for 10 has_n fman '.msg == "flexoffer" and .payload.id == "p1-7"' 1
kill -TERM "$pid_p1"; wait "$pid_p1"
db=$tmp/p1.state/foa.db
check "a new FOA keeps its offer in protobuf (gfctl decode reads it)" eq "$(sqlite3 "$db" \
	"SELECT typeof(offer), writefile('$tmp/g.pb', offer) > 0 FROM foa_offer WHERE id = 'p1-7'") $(
	"$GFCTL" decode flexoffer "$tmp/g.pb" --as protobuf | jq -r '.id + " " + .label')" "blob|1 p1-7 g"
"$GFCTL" decode flexoffer "$tmp/g.pb" --as protobuf >"$tmp/g.json"
sqlite3 "$db" "UPDATE foa_offer SET offer = CAST(readfile('$tmp/g.json') AS TEXT) WHERE id = 'p1-7'"
check "... made JSON text, as an older FOA wrote it" eq "$(sqlite3 "$db" "SELECT typeof(offer) FROM foa_offer WHERE id = 'p1-7'")" text
conf p1 identity foa.p1 mode xems
start p1
pub fman.m1 "$TM/flexoffer.assign" "$(assign p1-7 11 0 1.5 1)"
check "... it is assigned: the DemandSchedule reaches the xEMS" \
	wait_for 10 has_n xems "$reply_schedule"' and .payload.demandSchedule[0].flexOfferId == "g"' 1
check "... and the offer read from the text is echoed to FMAN" \
	wait_for 10 has_n fman "$(echo_of p1-7 11)"' and .payload.label == "g"' 1
check "... and no stored offer failed to decode" eq "$(count_in_log p1 GF-FOA-STORE)" 0

# --- DSO mode -------------------------------------------------------------------------------
watch fmar fmar.r1 "gf/site1/foa/+/fmar/#"
watch doms doms.o1 "gf/site1/foa/d1/doms/o1/#"
conf d1 identity foa.d1 mode dso
start d1
wait_for 10 in_log d1 GF-BUS-SUBSCRIBED
BID='{"bidId":"t1-1758696-2","gridPointId":"t1","startTime":"2020-02-27T18:00:00Z","intervalLength":900,"scheduleChange":[1.5,2.5],"energyPrice":[0.2,0.3]}'
pub doms.o1 gf/site1/doms/o1/foa/d1/bid "$BID"
pub doms.o1 gf/site1/doms/o1/foa/d1/bid "$BID"
check "a bid -> one bid offer at FMAR (fmar/all)" \
	wait_for 10 has_n fmar '.topic == "gf/site1/foa/d1/fmar/all/flexoffer"' 1
check "... id <foa>-bid-<bidId>, label bid:<bidId>, tf 0, deadlines at the bid's start" \
	eq "$(first fmar '.msg == "flexoffer"' '.payload | [.id, .label, .offeredById, .startAfterInterval, .startBeforeInterval, .acceptanceBeforeInterval, .assignmentBeforeInterval]')" \
	'["d1-bid-t1-1758696-2","bid:t1-1758696-2","d1",1758696,1758696,1758696,1758696]'
check "... one slice per interval: [0, scheduleChange] kWh, tariff [0, energyPrice]" \
	eq "$(first fmar '.msg == "flexoffer"' '[.payload.flexOfferProfileConstraints[] | [.energyConstraintList[0].lower, .energyConstraintList[0].upper, .tariffConstraint.minTariff, .tariffConstraint.maxTariff, .minDuration, .maxDuration]]')" \
	'[[0,1.5,0,0.2,1,1],[0,2.5,0,0.3,1,1]]'
# (the second copy is handled once its GF-FOA-DUP is logged)
wait_for 5 in_log d1 'GF-FOA-DUP.*bid:t1-1758696-2' || echo "# no GF-FOA-DUP for the second copy"
check "... the bid delivered twice is offered once" \
	eq "$(n_where fmar '.msg == "flexoffer"') $(count_in_log d1 'GF-FOA-DUP.*bid:t1-1758696-2')" "1 1"
TR=gf/site1/fmar/r1/foa/d1
pub fmar.r1 "$TR/flexoffer.ack" '{"flexOfferId":"d1-bid-t1-1758696-2","accepted":true}'
check "FMAR's ack -> offer.feedback Accepted at the DOMS" \
	wait_for 10 has_n doms '.msg == "offer.feedback" and .payload.state == "Accepted" and .payload.bidId == "t1-1758696-2"' 1
# The bid offer's row as an older FOA wrote it: the bid (source) and the
# offer as JSON text; the assignment below reads both.
kill -TERM "$pid_d1"; wait "$pid_d1"
db=$tmp/d1.state/foa.db
for col in source:bid offer:flexoffer; do
	sqlite3 "$db" "SELECT writefile('$tmp/b.pb', ${col%%:*}) FROM foa_offer WHERE kind = 'bid'" >/dev/null
	"$GFCTL" decode "${col#*:}" "$tmp/b.pb" --as protobuf >"$tmp/b.json"
	sqlite3 "$db" "UPDATE foa_offer SET ${col%%:*} = CAST(readfile('$tmp/b.json') AS TEXT) WHERE kind = 'bid'"
done
check "the bid offer's bid and offer made JSON text, as an older FOA wrote them" \
	eq "$(sqlite3 "$db" "SELECT typeof(source), typeof(offer) FROM foa_offer WHERE kind = 'bid'")" "text|text"
start d1
wait_for 10 in_log d1 GF-BUS-SUBSCRIBED
pub fmar.r1 "$TR/flexoffer.assign" '{"flexOfferId":"d1-bid-t1-1758696-2","flexOfferSchedule":{"scheduleId":1,"updateId":0,"startTime":"2020-02-27T18:00:00Z","scheduleSlices":[{"duration":1,"energyAmount":1,"tariff":0.15},{"duration":1,"energyAmount":2.5}]}}'
check "FMAR's assignment -> offer.feedback Assigned with the cleared change and price per interval" \
	wait_for 10 has_n doms '.payload.state == "Assigned" and .payload.scheduleChange == [1,2.5] and .payload.energyPrice == [0.15,0.3] and .payload.startTime == "2020-02-27T18:00:00Z" and .payload.intervalLength == 900' 1
check "... and the bid offer read from the text is echoed to FMAR" \
	wait_for 10 has_n fmar '.msg == "flexoffer" and .payload.id == "d1-bid-t1-1758696-2" and .payload.state == "Assigned"' 1
pub doms.o1 gf/site1/doms/o1/foa/d1/bid '{"bidId":"old","gridPointId":"t1","startTime":"2020-02-27T06:00:00Z","intervalLength":900,"scheduleChange":[1],"energyPrice":[0.2]}'
check "a bid in the past -> offer.feedback Invalid with the reason, no offer" \
	wait_for 10 has_n doms '.payload.bidId == "old" and .payload.state == "Invalid" and (.payload.stateReason | test("in the past"))' 1
check "... no offer at FMAR for it" eq "$(n_where fmar '.payload.label == "bid:old"')" 0
pub doms.o1 gf/site1/doms/o1/foa/d1/bid '{"bidId":"half-hours","gridPointId":"t1","startTime":"2020-02-27T19:00:00Z","intervalLength":1800,"scheduleChange":[2,1],"energyPrice":[0.2,0.3]}'
check "a bid in 1800 s intervals -> a bid offer in 900 s slices, the kWh shared, the price kept" \
	wait_for 10 has_n fmar '.payload.label == "bid:half-hours" and ([.payload.flexOfferProfileConstraints[] | [.energyConstraintList[0].upper, .tariffConstraint.maxTariff]] == [[1,0.2],[1,0.2],[0.5,0.3],[0.5,0.3]])' 1
pub doms.o1 gf/site1/doms/o1/foa/d1/bid '{"bidId":"odd","gridPointId":"t1","startTime":"2020-02-27T19:00:00Z","intervalLength":700,"scheduleChange":[2],"energyPrice":[0.2]}'
check "a bid in 700 s intervals -> Invalid with the reason" \
	wait_for 10 has_n doms '.payload.bidId == "odd" and .payload.state == "Invalid" and (.payload.stateReason | test("700 s"))' 1

kill -TERM "$pid_p1" "$pid_d1"
wait "$pid_p1"; rc1=$?
wait "$pid_d1"; rc2=$?
check "SIGTERM: both exit 0" eq "$rc1 $rc2" "0 0"
# Under SAN=1 the agents are built with ASan/UBSan: any report fails.
check "no sanitizer report from the agents" \
	eq "$(cat "$tmp"/p1.log "$tmp"/d1.log | grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error')" 0
finish
