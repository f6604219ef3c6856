#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-doms (issue 5 item 5, docs/doms.md "The agent") against the real
# mosquitto with our plugin; the DSO FOA is played by gfctl. With the IEEE
# feeder's 55 profiles and a limit below the evening peak: bids only for the
# congested intervals, scheduleChange = forecast - limit (the forecast
# recomputed here with awk from the same files), the forecast itself as
# grid.forecast, the next day's bids at the daily issue time, the same bid
# ids after a restart; offer.feedback recorded once; a forecast CSV.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

DOMS=$BUILD/bin/gf-doms
GFCTL=$BUILD/bin/gfctl
PROFILES=${PROFILES:-$top/../shared/data/ieee-eu-lv/load-profiles}
[ -x "$DOMS" ] && [ -x "$GFCTL" ] || { echo "no $DOMS or $GFCTL (run make)"; exit 1; }
[ -r "$PROFILES/Load_profile_55.csv" ] || { echo "no IEEE profiles in $PROFILES"; exit 1; }

agent_tmp

site_new "$S" site1
add_password "$S" doms.o1 doms.o2 foa.d1 foa.d2 doms.o3 foa.d3 foa.p3 xems.p3 fman.m3 fmar.r3
broker_start "$S" || { echo "broker did not start"; exit 1; }

# Simulated time: 2020-02-27T06:00Z when the test starts, 600x (10 min per
# s); the next day's bids are issued at 07:00 (6 s in).
ORIGIN=$(date +%s)
DAY=$((1582761600 / 900)) # first interval of 2020-02-27
LIMIT_KW=36                 # 9 kWh per interval: below the evening peak
conf() { # conf NAME KEY VALUE...
	local name=$1; shift
	mkdir -p "$tmp/$name.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "state_dir $tmp/$name.state"
		echo "time_epoch 2020-02-27T06:00:00Z"
		echo "time_origin $ORIGIN"
		echo "time_scale 600"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/$name.conf"
}
start() {
	"$DOMS" -c "$tmp/$1.conf" -v >>"$tmp/$1.log" 2>&1 &
	pids+=($!)
	eval "pid_$1=$!"
}
count_in_log() { grep -c -- "$2" "$tmp/$1.log" 2>/dev/null || true; }
n_where() { jq -c "select($2)" "$tmp/$1.out" 2>/dev/null | wc -l; }
has_n() { [ "$(n_where "$1" "$2")" -eq "$3" ]; }
has_some() { [ "$(n_where "$1" "$2")" -ge 1 ]; }

# The expected forecast, independently: minute kW of the 55 files summed
# into kWh per 15 minutes (row k of a file is minute k-1 of the day).
awk -F, '{ s[int((FNR - 1) / 15)] += $2 / 60 } END { for (i = 0; i < 96; i++) printf "%d %.9f\n", i, s[i] }' \
	"$PROFILES"/Load_profile_*.csv >"$tmp/expected.day"
# Congested intervals of a day (limit in kWh per interval) and their excess.
awk -v L="$(awk -v k="$LIMIT_KW" 'BEGIN { printf "%.10f", k / 4 }')" '$2 > L { printf "%d %.6f\n", $1, $2 - L }' \
	"$tmp/expected.day" >"$tmp/expected.congested"

# --- command line --------------------------------------------------------------------
conf o1 identity doms.o1 dso_foa d1 transformer_limit_kw $LIMIT_KW price_eur_kwh 0.25 resend_s 2 \
	profiles_dir "$PROFILES" issue_at_s 25200
out=$("$DOMS" -c "$tmp/o1.conf" -n 2>&1); rc=$?
check "-n: exit 0 and configuration OK" eq "$rc $(grep -cx 'configuration OK' <<<"$out")" "0 1"
help=$("$DOMS" -h 2>&1) # not piped into grep -q: pipefail would see SIGPIPE
check "-h lists transformer_limit_kw" grep -q '^  transformer_limit_kw ' <<<"$help"
conf bad identity doms.o1 dso_foa d1 transformer_limit_kw lots
"$DOMS" -c "$tmp/bad.conf" -n >"$tmp/bad.log" 2>&1; rc=$?
check "a limit that is not a number: -n says so, exit 2" \
	eq "$rc $(grep -c "transformer_limit_kw: expected a decimal number, not 'lots'" "$tmp/bad.log")" "2 1"

# --- today's bids ----------------------------------------------------------------------
watch foa foa.d1 "gf/site1/doms/o1/foa/d1/#"
start o1
# From the interval after the DOMS's start: 06:15, or later when the machine
# is slow to start it (1.5 s is a quarter of an hour at 600x; a loaded CI
# run saw it).
check "the forecast goes to the DSO FOA as grid.forecast (the rest of today, from 06:15 or a little later)" \
	wait_for 10 has_some foa '.msg == "grid.forecast" and .payload.startTime >= "2020-02-27T06:15:00Z" and .payload.startTime <= "2020-02-27T07:00:00Z"'
k=$(jq -r 'select(.msg == "grid.forecast") | .payload.startTime | fromdateiso8601 / 900 | floor' "$tmp/foa.out" | head -1)
k=$((${k:-0} - DAY))
check "... one value per interval up to midnight ($((96 - k)) from interval $k), equal to the profiles' sum" \
	eq "$(jq -r --argjson k "$k" 'select(.msg == "grid.forecast") | .payload.forecasts[0].values | length, (.[72 - $k] * 1000 | round)' "$tmp/foa.out" | head -2 | tr '\n' ' ')" \
	"$((96 - k)) $(awk '$1 == 72 { printf "%d", $2 * 1000 + 0.5 }' "$tmp/expected.day") "
today='.msg == "bid" and (.payload.startTime | startswith("2020-02-27"))'
check "bids for today arrive" wait_for 10 has_some foa "$today"
# Expand every bid of today into "interval excess" lines and compare.
jq -r "select($today) | .payload as \$b | (\$b.startTime | fromdateiso8601 / 900 | floor) as \$s |
	range(0; \$b.scheduleChange | length) as \$k | \"\(\$s + \$k - $DAY) \(\$b.scheduleChange[\$k])\"" \
	"$tmp/foa.out" | sort -n | uniq >"$tmp/got.today"
check "bids cover exactly the congested intervals ($(wc -l <"$tmp/expected.congested") of them, evening peak)" \
	eq "$(cut -d' ' -f1 "$tmp/got.today" | tr '\n' ' ')" "$(cut -d' ' -f1 "$tmp/expected.congested" | tr '\n' ' ')"
check "... with scheduleChange = forecast - limit (to 1e-6 kWh)" \
	awk 'NR == FNR { e[$1] = $2; next } { d = $2 - e[$1]; if (d > 1e-6 || d < -1e-6) bad = 1 } END { exit bad }' \
		"$tmp/expected.congested" "$tmp/got.today"
check "... one bid per congested run, id <grid>-<first>-<length>, price and interval length" \
	eq "$(jq -c "select($today) | .payload | [.bidId, .gridPointId, .startTime, .intervalLength, .energyPrice]" "$tmp/foa.out" | sort -u)" \
	"[\"t1-$((DAY + 72))-4\",\"t1\",\"2020-02-27T18:00:00Z\",900,[0.25,0.25,0.25,0.25]]"

# --- the day-ahead issue at 07:00: tomorrow's bids -------------------------------------
tomorrow='.msg == "bid" and (.payload.startTime | startswith("2020-02-28"))'
check "at the issue time tomorrow's bids go out" wait_for 15 has_some foa "$tomorrow"
check "... the same run one day later: t1-$((DAY + 96 + 72))-4" \
	eq "$(jq -r "select($tomorrow) | .payload.bidId" "$tmp/foa.out" | sort -u)" "t1-$((DAY + 96 + 72))-4"

# --- a restart issues the same ids again ------------------------------------------------
jq -r 'select(.msg == "bid") | .payload.bidId' "$tmp/foa.out" | sort -u >"$tmp/ids.before"
kill -9 "$pid_o1"; wait "$pid_o1" 2>/dev/null
lines_before=$(wc -l <"$tmp/foa.out")
start o1
more_bids() { [ "$(tail -n +$((lines_before + 1)) "$tmp/foa.out" | jq -c 'select(.msg == "bid")' | wc -l)" -ge 2 ]; }
check "after a kill -9 and a restart the bids are issued again" wait_for 10 more_bids
check "... under the same ids (today's and tomorrow's)" \
	eq "$(tail -n +$((lines_before + 1)) "$tmp/foa.out" | jq -r 'select(.msg == "bid") | .payload.bidId' | sort -u | tr '\n' ' ')" \
	"$(tr '\n' ' ' <"$tmp/ids.before")"

# --- feedback ---------------------------------------------------------------------------
FB='{"bidId":"t1-'$((DAY + 72))'-4","flexOfferId":"d1-bid-t1-'$((DAY + 72))'-4","state":"Assigned","startTime":"2020-02-27T18:00:00Z","intervalLength":900,"scheduleChange":[0.5,1,0.5,0],"energyPrice":[0.2,0.2,0.25,0.25]}'
"$GFCTL" --port "$LOCAL_PORT" --id foa.d1 pub gf/site1/foa/d1/doms/o1/offer.feedback "$FB" >/dev/null
"$GFCTL" --port "$LOCAL_PORT" --id foa.d1 pub gf/site1/foa/d1/doms/o1/offer.feedback "$FB" >/dev/null
check "offer.feedback is logged (GF-DOMS-FEEDBACK) with its totals" \
	wait_for 10 in_log o1 "GF-DOMS-FEEDBACK bid t1-$((DAY + 72))-4: Assigned by foa.d1, 2.000 kWh for 0.43 EUR"
check "... recorded once although delivered twice" wait_for 5 in_log o1 GF-DOMS-DUP
check "... in the store's doms_feedback table" \
	eq "$(sqlite3 "$tmp/o1.state/doms.db" 'SELECT bid_id, state, intervals, cleared_kwh FROM doms_feedback')" \
	"t1-$((DAY + 72))-4|Assigned|4|2.0"
# Bids are sent again (resend_s, here 2 s) until their first feedback; an
# Assigned one until its end (its result may still be updated).
pending() { sqlite3 "$tmp/o1.state/doms.db" "SELECT group_concat(key || ':' || ifnull(CAST(expires AS INTEGER), '-'), ' ') FROM gf_resend"; }
check "the feedback answers its bid: tomorrow's is sent again, today's until its end" \
	eq "$(pending)" "bid:t1-$((DAY + 72))-4:$(((DAY + 76) * 900)) bid:t1-$((DAY + 96 + 72))-4:-"
n_tomorrow() { n_where foa "$tomorrow"; }
resent() { [ "$(n_tomorrow)" -ge "$1" ]; }
now_n=$(n_tomorrow)
check "... which arrives again within resend_s (GF-DOMS-RESEND)" wait_for 40 resent $((now_n + 1))
check "... logged" in_log o1 GF-DOMS-RESEND
kill -TERM "$pid_o1"; wait "$pid_o1"; rc=$?
check "SIGTERM: exit 0" [ $rc -eq 0 ]

# --- more households than the feeder's 55 files (profile ((k - 1) mod 55) + 1, as gf-sim) ---
watch foax foa.d1 "gf/site1/doms/o1/foa/d1/grid.forecast"
conf x110 identity doms.o1 dso_foa d1 transformer_limit_kw 1000 profiles_dir "$PROFILES" \
	households 110
start x110
check "households 110: a forecast is sent" wait_for 10 has_some foax '.msg == "grid.forecast"'
# Every value against twice the 55 files' sum of its interval.
jq -r 'select(.msg == "grid.forecast") | .payload as $p |
	($p.startTime | fromdateiso8601 / 900 | floor % 96) as $s |
	range(0; $p.forecasts[0].values | length) as $k | "\($s + $k) \($p.forecasts[0].values[$k])"' \
	"$tmp/foax.out" >"$tmp/got.110"
check "... each of its $(wc -l <"$tmp/got.110") values is twice the 55 households' (to 1e-6 kWh)" \
	awk 'NR == FNR { e[$1] = 2 * $2; next } { d = $2 - e[$1]; if (d < -1e-6 || d > 1e-6) bad++; n++ }
		END { exit !(n > 0 && bad == 0) }' "$tmp/expected.day" "$tmp/got.110"
kill -TERM "$pid_x110"; wait "$pid_x110"

# --- a forecast CSV instead of the profiles ----------------------------------------------
{
	echo "time,kwh"
	echo "2020-02-27T20:00:00Z,8"
	echo "2020-02-27T20:15:00Z,10.5"
	echo "2020-02-27T20:30:00Z,12"
	echo "2020-02-27T20:45:00Z,9"
	echo "2020-02-27T21:00:00Z,9.5"
} >"$tmp/forecast.csv"
watch foa2 foa.d2 "gf/site1/doms/o2/foa/d2/#"
conf o2 identity doms.o2 dso_foa d2 transformer_limit_kw $LIMIT_KW forecast_csv "$tmp/forecast.csv" \
	margin_kwh 0.5 price_eur_kwh 0.3
start o2
two_bids() { [ "$(jq -c 'select(.msg == "bid") | .payload.bidId' "$tmp/foa2.out" | sort -u | wc -l)" = 2 ]; }
check "forecast_csv: two runs over 9 kWh give two bids" wait_for 10 two_bids
check "... with scheduleChange = forecast - limit + margin" \
	eq "$(jq -c 'select(.msg == "bid") | .payload | [.bidId, .scheduleChange]' "$tmp/foa2.out" | sort -u | tr '\n' ' ')" \
	"[\"t1-$((DAY + 80 + 1))-2\",[2,3.5]] [\"t1-$((DAY + 84))-1\",[1]] "
check "no private payload in the logs" eq "$(cat "$tmp"/o*.log | grep -c '10.5\|0.43,\|scheduleChange')" 0
# --- the whole cycle: DOMS -> DSO FOA -> FMAR <- FMAN <- FOA <- xEMS ---------------------
# The real gf-fman, gf-fmar and two gf-foa; the xEMS is gfctl. Simulated
# 17:00Z at 300x: the bid of 18:00 clears at 17:45 (gate_lead_s 900), 9 s in.
FOA=$BUILD/bin/gf-foa FMAN=$BUILD/bin/gf-fman FMAR=$BUILD/bin/gf-fmar
if [ -x "$FOA" ] && [ -x "$FMAN" ] && [ -x "$FMAR" ]; then
	ORIGIN=$(date +%s)
	cycle() { # cycle NAME BIN KEY VALUE...: an agent at 17:00Z, 300x
		local name=$1 bin=$2; shift 2
		conf "$name" "$@"
		sed -i 's/^time_epoch .*/time_epoch 2020-02-27T17:00:00Z/; s/^time_scale .*/time_scale 300/' "$tmp/$name.conf"
		"$bin" -c "$tmp/$name.conf" -v >>"$tmp/$name.log" 2>&1 &
		pids+=($!)
		eval "pid_$name=$!"
	}
	watch xems3 xems.p3 "gf/site1/foa/p3/xems/p3/#"
	watch doms3 doms.o3 "gf/site1/foa/d3/doms/o3/#"
	cycle m3 "$FMAN" identity fman.m3
	cycle r3 "$FMAR" identity fmar.r3 dso_foa d3
	cycle p3 "$FOA" identity foa.p3
	cycle d3 "$FOA" identity foa.d3 mode dso
	# Their sessions are new: what is sent to one before it subscribed is lost.
	for n in m3 r3 p3 d3; do
		wait_for 10 in_log "$n" GF-BUS-SUBSCRIBED || echo "# $n did not subscribe"
	done
	# A boiler that would take 3 kWh in each interval from 18:00 to 19:00,
	# and may take anything from 0 to 3.
	I=$((DAY + 68))
	slice='{"energyConstraintList":[{"lower":0,"upper":3}],"minDuration":1,"maxDuration":1}'
	piece='{"duration":1,"energyAmount":3}'
	"$GFCTL" --port "$LOCAL_PORT" --id xems.p3 pub gf/site1/xems/p3/foa/p3/xems.flexibility \
		'{"flexOffer":{"label":"boiler","state":"Initial","offeredById":"p3","creationInterval":'$I',"acceptanceBeforeInterval":'$((I + 2))',"assignmentBeforeInterval":'$((I + 4))',"startAfterInterval":'$((I + 4))',"startBeforeInterval":'$((I + 4))',"flexOfferProfileConstraints":['"$slice,$slice,$slice,$slice"'],"defaultSchedule":{"startTime":"2020-02-27T18:00:00Z","scheduleSlices":['"$piece,$piece,$piece,$piece"']}}}' >/dev/null
	cycle o3 "$DOMS" identity doms.o3 dso_foa d3 transformer_limit_kw $LIMIT_KW profiles_dir "$PROFILES" \
		price_eur_kwh 0.25
	assigned='.payload.state == "Assigned" and .payload.bidId == "t1-'$((DAY + 72))'-4"'
	check "whole cycle: the DOMS hears its bid was Assigned" wait_for 30 has_n doms3 "$assigned" 1
	check "... the xEMS gets one DemandSchedule from 18:00" \
		wait_for 10 has_n xems3 '.payload.demandSchedule[0].startTime == "2020-02-27T18:00:00Z"' 1
	want=$(awk '{ s += $2 } END { printf "%.6f", s }' "$tmp/expected.congested")
	cleared=$(jq -r "select($assigned) | .payload.scheduleChange | add" "$tmp/doms3.out")
	taken=$(jq -r 'select(.payload.demandSchedule) | .payload.demandSchedule[0].energy | add' "$tmp/xems3.out")
	check "... the DSO got what it asked for ($cleared of $want kWh)" \
		awk -v c="$cleared" -v w="$want" 'BEGIN { exit !(c >= w - 1e-6) }'
	check "... and the prosumer gives up exactly that (12 - $taken kWh)" \
		awk -v c="$cleared" -v t="$taken" 'BEGIN { d = 12 - t - c; exit !(d < 1e-6 && d > -1e-6) }'
	# FMAR may still update an Assigned result until the bid's intervals
	# begin (re-clearing), and an update can be lost with the broker: the
	# DOMS sends the bid until its end, and the FOA answers each copy with
	# its latest feedback.
	bid=t1-$((DAY + 72))-4 db=$tmp/o3.state/doms.db
	check "an Assigned bid stays in DOMS's resends until its end (19:00)" \
		eq "$(sqlite3 "$db" "SELECT CAST(expires AS INTEGER) FROM gf_resend WHERE key = 'bid:$bid'")" \
		"$(((DAY + 76) * 900))"
	kill -TERM "$pid_o3"; wait "$pid_o3"
	sqlite3 "$db" "DELETE FROM doms_feedback WHERE bid_id = '$bid';
		DELETE FROM gf_handled WHERE key LIKE 'fb:$bid:%'"
	"$DOMS" -c "$tmp/o3.conf" -v >>"$tmp/o3.log" 2>&1 &
	pids+=($!)
	pid_o3=$!
	back() { [ "$(sqlite3 "$db" "SELECT printf('%.6f', cleared_kwh) FROM doms_feedback
		WHERE bid_id = '$bid' AND state = 'Assigned'" 2>/dev/null)" = "$(printf '%.6f' "$cleared")" ]; }
	check "... so a lost Assigned comes back with the next copy of the bid (the same $cleared kWh)" \
		wait_for 20 back
else
	not_ok "the whole cycle needs $FOA, $FMAN and $FMAR (make)"
fi

# Under SAN=1 the agents are built with ASan/UBSan: any report fails.
check "no sanitizer report from the agents" \
	eq "$(cat "$tmp"/[oprmd]*.log | grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error')" 0
finish
