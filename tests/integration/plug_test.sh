#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-foa's plug mode (issue 5 item 2, docs/foa.md "plug mode") end to end:
# the site broker with our plugin, a plain mosquitto as the prosumers' own
# broker, the real gf-fman, two gf-foa in plug mode (foa.p1: a Tasmota plug,
# foa.p2: a Shelly Gen1 plug), gf-sim's simulated plugs (a 2 kW boiler behind
# each), FMAR played by gfctl. Checked: bad configurations refused with the
# reason; each FOA's offer reaches FMAN; FMAR's assignment of the aggregate
# reaches the FOA through FMAN and is echoed; the plug is switched at the
# interval boundaries (and within, for part of an interval) so that the
# energy the simulated plug metered per interval is the schedule's; the
# FOA's meter readings reach FMAN and sum to what the plug metered; kill -9
# of foa.p1 mid-schedule and a restart: the schedule goes on, no second
# offer; a plug that ignores a command is commanded again.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

FOA=$BUILD/bin/gf-foa
FMAN=$BUILD/bin/gf-fman
SIM=$BUILD/bin/gf-sim
GFCTL=$BUILD/bin/gfctl
for b in "$FOA" "$FMAN" "$SIM" "$GFCTL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done

agent_tmp

site_new "$S" site1
add_password "$S" fman.f1 fmar.r1 foa.p1 foa.p2 foa.p3 foa.p4 foa.p5 foa.p6 xems.plugs xems.plugs2 xems.plugs3
broker_start "$S" || { echo "broker did not start"; exit 1; }

# The prosumers' own broker: a plain mosquitto, no plugin; anonymous plugs,
# foa.p3 logs in as foa3 (a password file).
PLUG_SECRET=plug-secret-$$
(umask 077 && : >"$tmp/plug.passwd" && mosquitto_passwd -b "$tmp/plug.passwd" foa3 "$PLUG_SECRET")
(umask 077 && echo "$PLUG_SECRET" >"$tmp/p3.pw" && echo "wrong-$$" >"$tmp/p5.pw")
plug_broker_conf() {
	cat >"$tmp/plugbroker.conf" <<EOF
listener $PLUG_PORT 127.0.0.1
allow_anonymous true
password_file $tmp/plug.passwd
persistence false
user $(id -un)
EOF
}
# plug_broker_start: (again) on PLUG_PORT; true once it listens.
plug_broker_start() {
	local n
	n=$(grep -c 'running' "$tmp/plugbroker.log" 2>/dev/null)
	mosquitto -c "$tmp/plugbroker.conf" >>"$tmp/plugbroker.log" 2>&1 &
	pid_plugbroker=$!
	pids+=($pid_plugbroker)
	for _ in $(seq 1 50); do
		[ "$(grep -c 'running' "$tmp/plugbroker.log" 2>/dev/null)" -gt "${n:-0}" ] && return 0
		kill -0 "$pid_plugbroker" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# A free port can be taken by another test between the look and the bind.
for _ in 1 2 3; do
	PLUG_PORT=$(free_port)
	plug_broker_conf
	plug_broker_start && break
done

# Simulated time: 11:47 when the test starts, 90 s per real second. Offers
# of foa.p1 start at 12:15 (deadline 12:00), of foa.p2 at 12:30 (12:15).
ORIGIN=$(date +%s)
SCALE=90
I1145=1758671
P1_START=$((I1145 + 2))
P2_START=$((I1145 + 3))

common() { # common NAME: the common keys of an agent's file
	mkdir -p "$tmp/$1.state"
	echo "site site1"
	echo "broker_port $LOCAL_PORT"
	echo "state_dir $tmp/$1.state"
	echo "time_epoch 2020-02-27T11:47:00Z"
	echo "time_origin $ORIGIN"
	echo "time_scale $SCALE"
}
foa_conf() { # foa_conf NAME CONVENTION DEVICE LEAD_S [KEY VALUE...]
	local name=$1 conv=$2 dev=$3 lead=$4; shift 4
	{
		common "$name"
		echo "identity foa.$name"
		echo "mode plug"
		echo "plug_port $PLUG_PORT"
		echo "plug_convention $conv"
		[ "$dev" = - ] || echo "plug_device $dev"
		echo "offer_lead_s $lead"
		echo "deadline_lead_s 900"
		echo "offer_horizon 8"
		echo "resend_s 2"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/$name.conf"
}
count_in_log() { grep -c -- "$2" "$tmp/$1.log" 2>/dev/null || true; }
start() { # start NAME BINARY
	"$2" -c "$tmp/$1.conf" -v >>"$tmp/$1.log" 2>&1 &
	pids+=($!)
	eval "pid_$1=$!"
}
q() { sqlite3 "$tmp/fman.state/fman.db" "$1" 2>/dev/null; }

# --- configuration ---------------------------------------------------------------------
foa_conf p1 tasmota boiler1 1800
out=$("$FOA" -c "$tmp/p1.conf" -n 2>&1)
check "-n: plug mode's keys printed, configuration OK" \
	eq "$(grep -cE '^(mode plug|plug_device boiler1|rated_kw 2|configuration OK)$' <<<"$out")" 4
refused() { # refused NAME DEVICE REASON KEY VALUE...: gf-foa refuses the file with REASON
	local name=$1 dev=$2 reason=$3; shift 3
	foa_conf "$name" tasmota "$dev" 1800 "$@"
	timeout 10 "$FOA" -c "$tmp/$name.conf" >"$tmp/$name.log" 2>&1
	local rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "GF-FOA-CONFIG.*$reason" "$tmp/$name.log"
}
check "refused: no plug_device" refused bad1 - "plug_device is required"
check "refused: an unknown convention" refused bad2 boiler1 "plug_convention must be tasmota or shelly" plug_convention zigbee
check "refused: a device lib/device refuses, with its reason" refused bad3 boiler1 "the device:.*t_min" t_min 90
check "refused: a deadline lead not below the offer lead" refused bad4 boiler1 "deadline_lead_s the smaller" deadline_lead_s 1800
check "refused: a device id with a wildcard" refused bad5 a/+ "plug_device must be"
check "refused: a comfort band outside the device's, with lib/devoffer's reason" \
	refused bad6 boiler1 "the user's constraints: comfort band .30, 60. must lie inside" comfort_min 30 comfort_max 60
rm -rf "$tmp"/bad?.state

# --- the agents ------------------------------------------------------------------------
{
	common fman
	echo "identity fman.f1"
	echo "aggregate_every_s 60"
	echo "start_after_tolerance 1"
	echo "resend_s 2"
} >"$tmp/fman.conf"
{
	common sim
	echo "identity xems.plugs"
	echo "prosumers 0"
	echo "plugs tasmota:boiler1 shelly:sh1"
	echo "plug_port $PLUG_PORT"
	echo "plug_tele_s 30"
	echo "plug_csv $tmp/plugs.csv"
	echo "plug_initial_on off"
	echo "plug_drop_commands 2"
} >"$tmp/sim.conf"
foa_conf p2 shelly sh1 2700 plug_mqtt_version 5
# foa.p3 models its boiler (default, 80 deg C thermostat) with a comfort
# band of 54..60 deg C; the real one behind its plug (a second gf-sim) cuts
# at 56 deg C and so takes less than the model predicted: the offer, whose
# bounds depend on the tank's temperature, is updated before its deadline.
# That plug also ignores every command: foa.p3 tries a few times per
# interval, no more.
foa_conf p3 tasmota boiler3 3600 comfort_min 54 comfort_max 60 \
	plug_username foa3 plug_password_file "$tmp/p3.pw"
# foa.p4 has an EV charger behind its plug (no simulated plug: only its
# offers count): the car due at 12:00 until 15:00. Restarted before 12:00
# with the car due at 13:00, its offer's window moves: canceled at FMAN.
foa_conf p4 tasmota ev4 3600 device ev arrive 48 depart 60 soe_arrive_kwh 28 soe_target_kwh 32
{
	common sim2
	echo "identity xems.plugs2"
	echo "prosumers 0"
	echo "plugs tasmota:boiler3"
	echo "plug_port $PLUG_PORT"
	echo "plug_tele_s 30"
	echo "t_max 56"
	echo "plug_initial_on off"
	echo "plug_drop_commands 1000"
} >"$tmp/sim2.conf"

"$GFCTL" --port "$LOCAL_PORT" --id fmar.r1 -v sub 'gf/site1/fman/f1/fmar/#' >"$tmp/r1.jsonl" 2>"$tmp/r1.err" &
pids+=($!)
wait_for 10 grep -q GFCTL-SUBSCRIBED "$tmp/r1.err" || echo "# the FMAR watcher is not ready"
start fman "$FMAN"
start sim "$SIM"
start p1 "$FOA"
start p2 "$FOA"
start sim2 "$SIM"
start p3 "$FOA"
start p4 "$FOA"

# --- offers ----------------------------------------------------------------------------
at_fman() { [ "$(q "SELECT count(*) FROM offers WHERE id = '$1' AND state != 'Canceled'")" = 1 ]; }
check "foa.p1's offer (Tasmota plug) reaches FMAN" wait_for 15 at_fman p1-1
check "foa.p2's offer (Shelly plug) reaches FMAN" wait_for 15 at_fman p2-1
check "... starting offer_lead_s after the round, 8 slices" \
	eq "$(q "SELECT body FROM offers WHERE id = 'p1-1'" | jq -c '[.startAfterInterval, (.flexOfferProfileConstraints | length), .assignmentBeforeInterval]')" \
	"[$P1_START,8,$((P1_START - 1))]"
check "... acked: Accepted at the FOA" wait_for 10 in_log p1 "GF-FOA-ACK.*p1-1.*Accepted"
check "foa.p4's offer (an EV) reaches FMAN, from 12:45 to the car's departure" \
	eq "$(wait_for 10 at_fman p4-1; q "SELECT body FROM offers WHERE id = 'p4-1'" | jq -c '[.startAfterInterval, (.flexOfferProfileConstraints | length), .totalEnergyConstraint.lower > 0]')" \
	"[$((I1145 + 4)),9,true]"
kill -TERM "$pid_p4" && wait "$pid_p4"
foa_conf p4 tasmota ev4 3600 device ev arrive 52 depart 60 soe_arrive_kwh 28 soe_target_kwh 32
start p4 "$FOA"

# The aggregate holding OFFER, as FMAR has its current revision: "ID LABEL".
agg_of() {
	local agg label
	agg=$(q "SELECT agg FROM offers WHERE id = '$1'")
	[ -n "$agg" ] || return 1
	label="agg:$(q "SELECT num || ':' || rev FROM aggregates WHERE id = '$agg'")"
	# (jq's status is not used: the file's last line may be half written)
	jq -c --arg id "$agg" --arg l "$label" 'select(.msg == "flexoffer" and .payload.id == $id and .payload.label == $l) | .payload.id' \
		"$tmp/r1.jsonl" 2>/dev/null | in_input . && echo "$agg $label"
}
agg_ready() { agg_of "$1" >/dev/null; }
check "foa.p1's offer reaches FMAR as an aggregate" wait_for 15 agg_ready p1-1
check "foa.p2's offer reaches FMAR as an aggregate" wait_for 15 agg_ready p2-1
read -r AGG1 LABEL1 <<<"$(agg_of p1-1)"
read -r AGG2 LABEL2 <<<"$(agg_of p2-1)"
check "... two aggregates (one per start)" test -n "$AGG1" -a -n "$AGG2" -a "$AGG1" != "$AGG2"

# The schedule: per slice lower + f * (upper - lower), f = 1, .5, 0, .75, .25, 1, 0, .5:
# whole intervals on, half an interval, off.
FRACS='[1, 0.5, 0, 0.75, 0.25, 1, 0, 0.5]'
amounts() { # AGG: the amounts, one per slice
	jq -c --arg id "$1" --argjson f "$FRACS" 'select(.msg == "flexoffer" and .payload.id == $id) | .payload' "$tmp/r1.jsonl" |
		tail -1 | jq -c --argjson f "$FRACS" '[.flexOfferProfileConstraints | to_entries[] |
		.value.energyConstraintList[0] as $c | ($c.lower + $f[.key] * ($c.upper - $c.lower)) * 1e6 | round / 1e6]'
}
assign() { # AGG LABEL START AMOUNTS
	jq -nc --arg id "$1" --arg l "$2" --argjson s "$3" --argjson x "$4" \
		'{flexOfferId: $id, label: $l, flexOfferSchedule: {scheduleId: 1, updateId: 0,
		startTime: ($s * 900 | todate), scheduleSlices: [$x[] | {duration: 1, energyAmount: .}]}}'
}
A1=$(amounts "$AGG1")
A2=$(amounts "$AGG2")
echo "# schedules: p1 $A1 from $P1_START, p2 $A2 from $P2_START"
check "the offers' bounds let the schedule switch (upper > lower)" \
	test "$(jq '.[0] - .[2]' <<<"$A1")" != 0
"$GFCTL" --port "$LOCAL_PORT" --id fmar.r1 pub gf/site1/fmar/r1/fman/f1/flexoffer.assign "$(assign "$AGG1" "$LABEL1" "$P1_START" "$A1")" >/dev/null
"$GFCTL" --port "$LOCAL_PORT" --id fmar.r1 pub gf/site1/fmar/r1/fman/f1/flexoffer.assign "$(assign "$AGG2" "$LABEL2" "$P2_START" "$A2")" >/dev/null
check "FMAN's member schedule reaches foa.p1, which follows it" wait_for 15 in_log p1 "GF-FOA-PLUG-ASSIGN.*p1-1.*plug boiler1 follows"
check "... and foa.p2" wait_for 15 in_log p2 "GF-FOA-PLUG-ASSIGN.*p2-1.*plug sh1 follows"
check "... echoed to FMAN (Assigned)" wait_for 10 in_log p1 "GF-FOA-ECHO.*p1-1"

# --- a plug that ignores a command -----------------------------------------------------
n_in_log() { [ "$(count_in_log "$1" "$2")" -eq "$3" ]; }
check "each simulated plug ignores its first two commands (test aid)" \
	wait_for 10 n_in_log sim GF-SIM-PLUG-DROP 4
check "... reports its state, and the FOA commands it again (Tasmota)" wait_for 15 in_log p1 GF-FOA-PLUG-RECOMMAND
check "... (Shelly)" wait_for 15 in_log p2 GF-FOA-PLUG-RECOMMAND
# Started off, its first two "on" ignored (the FOA's first, at start or at
# its connect, and perhaps a re-command): without the re-commands the plug
# would stay off until the next interval boundary.
check "... and it switches on within the interval it was started in" \
	grep -q "GF-SIM-PLUG plug boiler1 switched on at [0-9]* s into interval $I1145\$" "$tmp/sim.log"
check "... (Shelly)" grep -q "GF-SIM-PLUG plug sh1 switched on at [0-9]* s into interval $I1145\$" "$tmp/sim.log"

# --- kill -9 mid-schedule --------------------------------------------------------------
csv_has() { grep -q "^$1,$2," "$tmp/plugs.csv"; }
# Interval P1_START is over (the plug counted it): foa.p1 is in its second slice.
check "the schedule's first interval passes" wait_for 60 csv_has "$P1_START" boiler1
kill -9 "$pid_p1"
wait "$pid_p1" 2>/dev/null # its inbox is free once it is gone (one agent per inbox)
start p1 "$FOA"
check "foa.p1 restarted" wait_for 10 n_in_log p1 "GF-FOA-PLUG " 2

# --- the plug follows the schedule -----------------------------------------------------
check "the plugs count three intervals of each schedule" \
	wait_for 90 csv_has $((P2_START + 2)) sh1
sleep 0.5
# follows PLUG START AMOUNTS: per interval "kwh scheduled" for the first 3 slices
follows() {
	local plug=$1 start=$2 a=$3 bad=0 k got want
	for k in 0 1 2; do
		got=$(awk -F, -v i=$((start + k)) -v p="$plug" '$1 == i && $2 == p {print $4}' "$tmp/plugs.csv")
		want=$(jq ".[$k]" <<<"$a")
		echo "#   $plug interval $((start + k)): metered $got kWh, scheduled $want kWh"
		awk -v g="$got" -v w="$want" 'BEGIN {exit !(g != "" && (g - w) < 0.02 && (w - g) < 0.02)}' || bad=1
	done
	return $bad
}
check "the Tasmota plug's metered energy per interval is the schedule's (kill -9 and restart in between)" \
	follows boiler1 "$P1_START" "$A1"
check "the Shelly plug's metered energy per interval is the schedule's" \
	follows sh1 "$P2_START" "$A2"
check "the plug was switched within an interval (part of it on)" \
	grep -qE "GF-FOA-PLUG-SWITCH plug boiler1 OFF \(end of its on-time" "$tmp/p1.log"

# --- an update before the deadline ------------------------------------------------------
check "foa.p3's offer is updated at FMAN before its deadline (the device as metered moved its bounds)" \
	wait_for 10 in_log p3 "GF-FOA-PLUG-UPDATE.*p3-1"
fman_updated() { [ "$(q "SELECT version FROM offers WHERE id = 'p3-1'")" = 2 ] && in_log fman "GF-FMAN-ACCEPT offer p3-1 of foa.p3: updated"; }
check "... FMAN took the update (version 2 of p3-1, acked 'updated')" wait_for 10 fman_updated
check "... under the same id, no second offer" eq "$(q "SELECT count(*) FROM offers WHERE foa = 'p3'")" 1

# --- a cancel before the deadline -------------------------------------------------------
fman_canceled() { [ "$(q "SELECT state FROM offers WHERE id = 'p4-1'")" = Canceled ]; }
check "foa.p4's offer is canceled at FMAN before its deadline (the car now comes at 13:00)" \
	wait_for 10 fman_canceled
check "... with the reason" in_log p4 "GF-FOA-PLUG-CANCEL offer p4-1 of plug ev4 canceled at fman.all: the device's window moved"
check "... and the car's new window is offered at once (p4-2 from 13:00)" \
	eq "$(wait_for 10 at_fman p4-2; q "SELECT body FROM offers WHERE id = 'p4-2'" | jq -c '[.startAfterInterval, (.flexOfferProfileConstraints | length)]')" \
	"[$((I1145 + 5)),8]"

# --- a plug that never obeys ------------------------------------------------------------
check "a plug that ignores every command: commanded again at most 5 times in an interval, then a warning" \
	grep -q "GF-FOA-PLUG-RECOMMAND plug boiler3 still reports off after 5 commands" "$tmp/p3.log"
per_interval_max() { # the most re-commands of foa.p3 between two boundaries
	awk '/interval boundary\)/ {n = 0} /commanding it again/ {if (++n > m) m = n} END {print m + 0}' "$tmp/p3.log"
}
check "... (at most 5 between two boundaries)" test "$(per_interval_max)" -eq 5

# --- MQTT v5, a login --------------------------------------------------------------------
check "foa.p2 speaks MQTT v5 to its plug's broker (it follows the schedule above)" in_log p2 "GF-LOCAL-CONNECTED"
check "foa.p3 logs in to its plug's broker (a password file) and gets its plug's telemetry" \
	in_log p3 "GF-FOA-PLUG-METER plug boiler3: interval"
check "... its password is in no log" eq "$(grep -l -- "$PLUG_SECRET" "$tmp"/*.log | wc -l)" 0
foa_conf p5 tasmota boiler5 3600 plug_username foa3 plug_password_file "$tmp/p5.pw"
start p5 "$FOA"
check "a wrong password: refused by the plug's broker, logged, retried" wait_for 10 in_log p5 "GF-LOCAL-DOWN.*retrying"
kill -TERM "$pid_p5"

# --- after the restart -----------------------------------------------------------------
check "no second offer after the restart (one offer of foa.p1 at FMAN)" \
	eq "$(q "SELECT count(*) FROM offers WHERE foa = 'p1'")" 1
check "... the restarted FOA made none" eq "$(count_in_log p1 'new offer')" 1

# --- meter readings --------------------------------------------------------------------
# FMAN's readings of DEVICE (kW) over intervals [FROM, TO) as kWh, and the
# plug's CSV over the same intervals.
fman_kwh() { q "SELECT printf('%.4f', sum(value) * 0.25) FROM meter_readings WHERE foa = '$1' AND device = '$2' AND observed >= '$3' AND observed < '$4'"; }
csv_kwh() { awk -F, -v p="$1" -v a="$2" -v b="$3" '$2 == p && $1 >= a && $1 < b {s += $4} END {printf "%.4f", s}' "$tmp/plugs.csv"; }
iso() { date -u -d "@$(($1 * 900))" +%Y-%m-%dT%H:%M:%SZ; }
readings_in() { [ "$(q "SELECT count(*) FROM meter_readings WHERE foa = '$1' AND observed = '$(iso "$2")'")" = 1 ]; }
check "meter readings of foa.p1 reach FMAN, one per interval" wait_for 20 readings_in p1 $((P1_START + 2))
check "... and of foa.p2" wait_for 20 readings_in p2 $((P2_START + 2))
# From the first interval the FOA metered whole (its first boundary after
# the plug's first telemetry) to the last closed one: the two sums differ
# by at most the energy of one telemetry period at each end.
close_sums() { # FOA PLUG
	local first last f c
	first=$(q "SELECT min(observed) FROM meter_readings WHERE foa = '$1'")
	last=$(q "SELECT max(observed) FROM meter_readings WHERE foa = '$1'")
	f=$(fman_kwh "$1" "$2" "$first" "$(iso $(( $(date -u -d "$last" +%s) / 900 + 1)))")
	c=$(csv_kwh "$2" $(( $(date -u -d "$first" +%s) / 900 )) $(( $(date -u -d "$last" +%s) / 900 + 1)))
	echo "#   $1: FMAN's readings $f kWh, the plug's CSV $c kWh ($first .. $last)"
	awk -v f="$f" -v c="$c" 'BEGIN {exit !(f != "" && (f - c) < 0.04 && (c - f) < 0.04)}'
}
check "foa.p1's readings sum to what the plug metered (Tasmota counter)" close_sums p1 boiler1
check "foa.p2's readings sum to what the plug metered (Shelly counter)" close_sums p2 sh1
# QoS 1 is at least once: a reading in flight at the FOA's kill -9 (or on a
# broken connection) can reach FMAN twice, which FMAN drops as not new. What
# must hold is one stored reading per interval, none missing (and the sums
# above).
wire_dups() { grep -E 'GF-FMAN-METER foa.p[12]:' "$tmp/fman.log" | awk '{if ($4 != $6) bad++} END {print bad + 0}'; }
one_per_interval() { # FOA: FMAN holds one reading per interval from its first to its last
	q "SELECT count(*) = (strftime('%s', max(observed)) - strftime('%s', min(observed))) / 900 + 1
		FROM meter_readings WHERE foa = '$1'" | in_input -x 1
}
both_one_per_interval() { one_per_interval p1 && one_per_interval p2; }
check "one reading per interval at FMAN, none missing ($(wire_dups) duplicate(s) on the wire, dropped by FMAN)" \
	both_one_per_interval

# --- both brokers away, and back ------------------------------------------------------
# The site broker and the plugs' broker are stopped for an interval boundary:
# foa.p1 keeps metering (its outbox keeps the reading), sees its plug's broker
# gone; when both are back (same ports) the plug is commanded again and the
# reading of the interval closed meanwhile reaches FMAN, once.
last_closed() { grep GF-FOA-PLUG-METER "$tmp/p1.log" | tail -1 | sed -E 's/.*\.\.([0-9]+) metered.*/\1/'; }
more_meter() { [ "$(count_in_log p1 GF-FOA-PLUG-METER)" -gt "$1" ]; }
broker_stop "$S"
kill "$pid_plugbroker"
n0=$(count_in_log p1 GF-FOA-PLUG-METER)
check "with both brokers away foa.p1 goes on metering (an interval closes)" wait_for 30 more_meter "$n0"
check "... and sees its plug's broker gone" wait_for 10 in_log p1 GF-LOCAL-DOWN
AWAY=$(last_closed)
plug_broker_start
"$top/ops/gf-broker" -d "$S" --tls-port "$TLS_PORT" --local-port "$LOCAL_PORT" \
	--plugin "$BUILD/lib/goflex_privacy.so" >/dev/null 2>&1
check "the plug's broker back: foa.p1 reconnects and commands the plug again" \
	wait_for 20 n_in_log p1 "ON (the plug's broker is back)\|OFF (the plug's broker is back)" 3
check "the site broker back: the reading of interval $AWAY, closed while it was away, reaches FMAN" \
	wait_for 30 readings_in p1 "$AWAY"
check "... and still one reading per interval, none missing ($(wire_dups) duplicate(s) on the wire)" \
	both_one_per_interval
# Energy taken while the plug's broker was away is counted at the first
# boundary after the plug's telemetry is back.
check "the simulated plugs reconnect by themselves" wait_for 20 n_in_log sim GF-LOCAL-CONNECTED 2
# Two boundaries later (the first may come before the plug's first
# telemetry), and once FMAN has that reading:
n1=$(count_in_log p1 GF-FOA-PLUG-METER)
check "... two intervals close after that" wait_for 30 more_meter $((n1 + 1))
check "... the last one's reading at FMAN" wait_for 10 readings_in p1 "$(last_closed)"
check "... foa.p1's readings still sum to what the plug metered" close_sums p1 boiler1

# --- the default schedule from metered history ------------------------------------------
# foa.p6 and its plug (a third gf-sim) on a clock of 3600 s per second from
# 21:00: at the next day's round (00:00) the offer's default for 21:00-24:00
# is what the plug metered then the day before (lib/devoffer's history
# default), clamped into each slice's bounds. The plug is on all along, the
# tank reaches its thermostat: the metered energy is above the next day's
# upper bound, where the device's own behaviour (mid-band) is at the lower
# one.
ORIGIN6=$(date +%s)
FAST=(time_epoch 2020-02-27T21:00:00Z time_origin "$ORIGIN6" time_scale 3600)
foa_conf p6 tasmota boiler6 3600 offer_horizon 96 "${FAST[@]}"
{
	common sim3
	printf '%s %s\n' "${FAST[@]}"
	echo "identity xems.plugs3"
	echo "prosumers 0"
	echo "plugs tasmota:boiler6"
	echo "plug_port $PLUG_PORT"
	echo "plug_tele_s 60"
} >"$tmp/sim3.conf"
start sim3 "$SIM"
start p6 "$FOA"
check "foa.p6 makes its next day's offer at 00:00 (96 slices from 01:00)" \
	wait_for 20 in_log p6 "new offer p6-2 of plug boiler6: 96 slices from interval 1758724"
# "k default lower upper metered" for the slices at 21:00..23:45 of the day after.
p6_history() {
	local offer
	# The FOA keeps its offers in protobuf (docs/foa.md): gfctl decode reads one.
	sqlite3 "$tmp/p6.state/foa.db" \
		"SELECT writefile('$tmp/p6-2.pb', offer) FROM foa_offer WHERE id = 'p6-2'" >/dev/null
	offer=$("$GFCTL" decode flexoffer "$tmp/p6-2.pb" --as protobuf)
	for k in $(seq 80 91); do
		m=$(sqlite3 "$tmp/p6.state/foa.db" "SELECT kwh FROM foa_plug_meter WHERE interval = $((1758708 + k - 80))")
		[ -n "$m" ] || continue
		jq -r --argjson k "$k" --arg m "$m" '[$k, .defaultSchedule.scheduleSlices[$k].energyAmount,
			.flexOfferProfileConstraints[$k].energyConstraintList[0].lower,
			.flexOfferProfileConstraints[$k].energyConstraintList[0].upper, $m] | join(" ")' <<<"$offer"
	done
}
p6_history >"$tmp/p6.history"
sed 's/^/#   slice, default, lower, upper, metered the day before: /' "$tmp/p6.history"
check "... its default at 21:00-24:00 is the metered energy of the day before (clamped), 5 intervals at least" \
	awk '{m = $5; if (m < $3) m = $3; if (m > $4) m = $4; d = $2 - m; if (d > 1e-6 || d < -1e-6) bad++; n++}
		END {exit !(n >= 5 && bad == 0)}' "$tmp/p6.history"
kill -TERM "$pid_p6" "$pid_sim3"

# --- a clean stop -----------------------------------------------------------------------
stops() { # NAME: SIGTERM, exit 0
	local pid
	pid=$(eval echo "\$pid_$1")
	kill -TERM "$pid" && wait "$pid"
}
check "SIGTERM: foa.p2 (plug mode) exits 0" stops p2
check "SIGTERM: gf-sim with plugs exits 0, with each plug's total" stops sim
check "... (GF-SIM-PLUGS with the totals)" in_log sim "GF-SIM-PLUGS plug sh1: .* kWh in all"

for n in p1 p2 p3 p4 sim sim2 fman; do
	if grep -qE 'AddressSanitizer|runtime error' "$tmp/$n.log"; then not_ok "sanitizer report in $n"; fi
done
finish
