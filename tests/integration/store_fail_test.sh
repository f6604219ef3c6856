#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One crash-safety path (issue 11 item 2, docs/trading.md "Crash safety"):
# a failure of the store while an agent handles a message stops the agent
# (exit 1, GF-AGENT-FAIL) without marking the message done, and the next
# start handles it, once. For each stateful agent (gf-doms, gf-fmar,
# gf-foa, gf-fman): started with GF_STORE_FAIL=<key prefix> (the commit of
# the first transaction whose key begins so fails, lib/agent/once.h), sent
# one message; it must exit 1 with nothing of the message's effect in its
# database or on the bus; restarted without it, the effect must be there
# exactly once (its row, the answer it sends).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

GFCTL=$BUILD/bin/gfctl
for b in gf-doms gf-fmar gf-foa gf-fman gfctl; do
	[ -x "$BUILD/bin/$b" ] || { echo "no $BUILD/bin/$b (run make)"; exit 1; }
done

agent_tmp

site_new "$S" site1
add_password "$S" doms.o1 foa.d1 fmar.r1 fman.f2 foa.p1 xems.p1 fman.m1 fman.f1 foa.a1
broker_start "$S" || { echo "broker did not start"; exit 1; }

# Simulated time: 2020-02-27T12:00Z (interval I0) when the test starts, 1x.
ORIGIN=$(date +%s)
I0=1758672
iso() { date -u -d "@$(($1 * 900))" +%Y-%m-%dT%H:%M:%SZ; }

conf() { # conf NAME KEY VALUE...
	local name=$1; shift
	mkdir -p "$tmp/$name.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "state_dir $tmp/$name.state"
		echo "time_epoch 2020-02-27T12:00:00Z"
		echo "time_origin $ORIGIN"
		echo "drain_ms 500"
		echo "resend_s 0"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/$name.conf"
}
count_in_log() { grep -c -- "$2" "$tmp/$1.log" 2>/dev/null || true; }
# start NAME BINARY [ENV=VALUE...]: the agent with $tmp/NAME.conf, its log
# appended to $tmp/NAME.log; waits for its subscriptions.
subscribed() { [ "$(count_in_log "$1" GF-BUS-SUBSCRIBED)" -ge "$2" ]; }
start() {
	local name=$1 bin=$2 n
	shift 2
	n=$(($(count_in_log "$name" GF-BUS-SUBSCRIBED) + 1))
	env "$@" "$BUILD/bin/$bin" -c "$tmp/$name.conf" -v >>"$tmp/$name.log" 2>&1 &
	pids+=($!)
	eval "pid_$name=$!"
	wait_for 10 subscribed "$name" "$n" || echo "# $bin did not subscribe"
	sleep 0.3 # all its subscriptions
}
gone() { ! kill -0 "$1" 2>/dev/null; }
# ended NAME: waits for the agent to end by itself (10 s at most, else it
# is killed); $code gets its exit code (124 when it had to be killed).
ended() {
	local pid
	eval "pid=\$pid_$1"
	if wait_for 10 gone "$pid"; then
		wait "$pid"
		code=$?
	else
		kill -9 "$pid"
		wait "$pid" 2>/dev/null
		code=124
	fi
}
stop() { # stop NAME: SIGTERM and wait
	local pid
	eval "pid=\$pid_$1"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
pub() { # pub IDENT TOPIC JSON
	"$GFCTL" --port "$LOCAL_PORT" --id "$1" pub "$2" "$3" >/dev/null
}
n_where() { jq -c "select($2)" "$tmp/$1.out" 2>/dev/null | wc -l; }
has_n() { [ "$(n_where "$1" "$2")" -eq "$3" ]; }
rows() { sqlite3 "$tmp/$1.state/$2.db" "$3"; }
rows_are() { [ "$(rows "$1" "$2" "$3")" = "$4" ]; }

# fails_then_once NAME BINARY PREFIX: the first run with GF_STORE_FAIL=PREFIX
# has exited 1; checks its log, then restarts the agent.
fails_then_once() {
	local name=$1 bin=$2 prefix=$3
	ended "$name"
	check "$bin: the injected failure ($prefix) stops it with exit code 1" eq "$code" 1
	check "... logged GF-STORE-INJECT and GF-AGENT-FAIL" \
		eq "$(count_in_log "$name" GF-STORE-INJECT.*failing) $(count_in_log "$name" GF-AGENT-FAIL)" "1 1"
}

# --- gf-doms: offer.feedback ------------------------------------------------------------
printf 'time,kwh\n2020-02-27T20:00:00Z,8\n2020-02-27T20:15:00Z,10.5\n' >"$tmp/forecast.csv"
conf o1 identity doms.o1 dso_foa d1 transformer_limit_kw 36 forecast_csv "$tmp/forecast.csv"
FB='{"bidId":"t1-1758752-1","flexOfferId":"d1-bid-t1-1758752-1","state":"Assigned","startTime":"2020-02-27T20:15:00Z","intervalLength":900,"scheduleChange":[1.5],"energyPrice":[0.2]}'
start o1 gf-doms GF_STORE_FAIL=fb:
pub foa.d1 gf/site1/foa/d1/doms/o1/offer.feedback "$FB"
fails_then_once o1 gf-doms fb:
check "... and the feedback is not recorded" rows_are o1 doms "SELECT count(*) FROM doms_feedback" 0
start o1 gf-doms
check "restarted: the feedback is recorded (GF-DOMS-FEEDBACK)" \
	wait_for 10 rows_are o1 doms "SELECT count(*) FROM doms_feedback" 1
sleep 0.5
check "... once: one row, one GF-DOMS-FEEDBACK in both runs" \
	eq "$(rows o1 doms "SELECT count(*) FROM doms_feedback") $(count_in_log o1 GF-DOMS-FEEDBACK)" "1 1"
stop o1

# --- gf-fmar: an aggregate from FMAN ----------------------------------------------------
conf r1 identity fmar.r1 dso_foa d1 gate_lead_s 1800
ST=$((I0 + 20))
slices='{"energyConstraintList":[{"lower":0,"upper":4}],"minDuration":1,"maxDuration":1}'
AGG=$(printf '{"id":"f2-agg-1","label":"agg:1:1","state":"Offered","offeredById":"f2","creationInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferProfileConstraints":[%s,%s],"flexOfferTariffConstraint":{"minTariff":0.05,"maxTariff":0.05},"defaultSchedule":{"startTime":"%s","scheduleSlices":[{"duration":1,"energyAmount":3},{"duration":1,"energyAmount":3}]}}' \
	"$I0" "$ST" "$ST" "$ST" "$slices" "$slices" "$(iso "$ST")")
watch f2 fman.f2 'gf/site1/+/+/fman/f2/#'
start r1 gf-fmar GF_STORE_FAIL=in:
pub fman.f2 gf/site1/fman/f2/fmar/all/flexoffer "$AGG"
fails_then_once r1 gf-fmar in:
check "... and the aggregate is neither stored nor acked" \
	eq "$(rows r1 fmar "SELECT count(*) FROM fmar_offer") $(n_where f2 '.msg == "flexoffer.ack"')" "0 0"
start r1 gf-fmar
check "restarted: FMAN gets the ack" wait_for 10 has_n f2 '.msg == "flexoffer.ack" and .payload.accepted' 1
sleep 0.5
check "... once: one row, one ack" \
	eq "$(rows r1 fmar "SELECT count(*) FROM fmar_offer") $(n_where f2 '.msg == "flexoffer.ack"')" "1 1"
stop r1

# --- gf-foa (xems mode): xems.flexibility ------------------------------------------------
conf p1 identity foa.p1 mode xems
OFFER=$(printf '{"flexOffer":{"label":"a","state":"Initial","offeredById":"p1","creationInterval":%d,"acceptanceBeforeInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferProfileConstraints":[{"energyConstraintList":[{"lower":1,"upper":3}],"minDuration":1,"maxDuration":1}]}}' \
	"$I0" $((I0 + 4)) $((I0 + 6)) $((I0 + 8)) $((I0 + 12)))
watch xems xems.p1 'gf/site1/foa/p1/xems/p1/#'
watch m1 fman.m1 'gf/site1/foa/+/fman/#'
start p1 gf-foa GF_STORE_FAIL=flex:
pub xems.p1 gf/site1/xems/p1/foa/p1/xems.flexibility "$OFFER"
fails_then_once p1 gf-foa flex:
check "... and nothing is sent: no offer to FMAN, no reply to the xEMS" \
	eq "$(n_where m1 '.msg == "flexoffer"') $(n_where xems '.msg == "foa.reply"')" "0 0"
start p1 gf-foa
check "restarted: one flexoffer at FMAN" wait_for 10 has_n m1 '.msg == "flexoffer"' 1
check "... and one foa.reply to the xEMS" wait_for 5 has_n xems '.msg == "foa.reply"' 1
sleep 0.5
check "... once" eq "$(n_where m1 '.msg == "flexoffer"') $(n_where xems '.msg == "foa.reply"')" "1 1"
stop p1

# --- gf-fman: an offer from an FOA ------------------------------------------------------
conf f1 identity fman.f1 grid_origin_interval "$I0"
FO=$(printf '{"id":"a1-1","label":"l-a1-1","state":"Offered","offeredById":"a1","creationInterval":%d,"acceptanceBeforeInterval":%d,"assignmentBeforeInterval":%d,"startAfterInterval":%d,"startBeforeInterval":%d,"flexOfferProfileConstraints":[{"energyConstraintList":[{"lower":1,"upper":3}],"minDuration":1,"maxDuration":1}]}' \
	"$I0" $((I0 + 10)) $((I0 + 12)) $((I0 + 20)) $((I0 + 22)))
watch a1 foa.a1 'gf/site1/+/+/foa/a1/#'
start f1 gf-fman GF_STORE_FAIL=fo/
pub foa.a1 gf/site1/foa/a1/fman/all/flexoffer "$FO"
fails_then_once f1 gf-fman fo/
check "... and the offer is neither stored nor acked" \
	eq "$(rows f1 fman "SELECT count(*) FROM offers") $(n_where a1 '.msg == "flexoffer.ack"')" "0 0"
start f1 gf-fman
check "restarted: the FOA gets its ack" \
	wait_for 10 has_n a1 '.msg == "flexoffer.ack" and .payload.accepted' 1
sleep 0.5
check "... once: one row, one ack" \
	eq "$(rows f1 fman "SELECT count(*) FROM offers") $(n_where a1 '.msg == "flexoffer.ack"')" "1 1"
stop f1

finish
