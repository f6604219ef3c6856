#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sim (issue 5 item 6, docs/sim.md) against the real mosquitto with our
# plugin: five prosumers at 900x from a fixed epoch just before midnight,
# their FOAs played by gfctl. Each prosumer's xems.flexibility reaches its
# own FOA and no other; the offers decode and are feasible (lower <= default
# <= upper, totals); xems.operation arrives every interval; a DemandSchedule
# for one battery, sent twice, is applied once and the CSV shows the meter
# following it; the day summary; SIGTERM; TLS with certificates from a
# directory and the agent's own identity reused by its prosumer.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SIM=$BUILD/bin/gf-sim
GFCTL=$BUILD/bin/gfctl
PROFILES=${GF_PROFILES:-$top/../shared/data/ieee-eu-lv/load-profiles}
[ -x "$SIM" ] || { echo "no $SIM (run make)"; exit 1; }
[ -r "$PROFILES/Load_profile_1.csv" ] || { echo "no load profiles in $PROFILES"; exit 1; }

agent_tmp
IDS="sim-0001 sim-0002 sim-0003 sim-0004 sim-0005"

site_new "$S" site1
add_password "$S" xems.ctl foa.other $(for i in $IDS; do echo "xems.$i foa.$i"; done)
for i in 0006 0007; do add_cert "$S" xems "sim-$i"; done
broker_start "$S" || { echo "broker did not start"; exit 1; }

# The simulated clock starts at 23:50 UTC: the first round is at start
# (interval 95 of 2026-01-15), the next at the day start, interval D0.
EPOCH=2026-01-15T23:50:00Z
D0=$(( $(date -ud 2026-01-16T00:00:00Z +%s) / 900 ))
mkdir -p "$tmp/state"
cat >"$tmp/sim.conf" <<EOF
site site1
broker_port $LOCAL_PORT
identity xems.ctl
state_dir $tmp/state
time_epoch $EPOCH
time_scale 900
prosumers 5
profiles_dir $PROFILES
report_csv $tmp/report.csv
seed 7
pct_thermal 100
pct_heatpump 40
pct_ev 100
pct_battery 100
pct_white 100
offer_lead_s 7200
deadline_lead_s 900
battery_from 8
battery_to 16
tariff_min 0
tariff_max 0.3
EOF

# --- command line -------------------------------------------------------------------
out=$("$SIM" -c "$tmp/sim.conf" -n 2>&1); rc=$?
check "-n: exit 0, configuration OK, every key" \
	eq "$rc $(grep -cx 'configuration OK' <<<"$out") $(grep -c '^prosumers 5$' <<<"$out")" "0 1 1"
out=$("$SIM" -h); rc=$?
check "-h: exit 0, lists the sim's keys with their help" \
	eq "$rc $(grep -cE '^  (prosumers|report_csv|cert_dir|offer_lead_s) ' <<<"$out")" "0 4"
sed 's/^deadline_lead_s .*/deadline_lead_s 7200/' "$tmp/sim.conf" >"$tmp/bad.conf"
"$SIM" -c "$tmp/bad.conf" >"$tmp/bad.log" 2>&1; rc=$?
check "deadline_lead_s not below offer_lead_s: exit 1 with GF-SIM-CONFIG" \
	eq "$rc $(grep -c GF-SIM-CONFIG "$tmp/bad.log")" "1 1"
grep -v '^tariff_max' "$tmp/sim.conf" >"$tmp/bad.conf"
"$SIM" -c "$tmp/bad.conf" >"$tmp/bad.log" 2>&1; rc=$?
check "tariff_min without tariff_max: exit 1 with GF-SIM-CONFIG" \
	eq "$rc $(grep -c 'GF-SIM-CONFIG give both' "$tmp/bad.log")" "1 1"

subs=()
# --- the FOAs: one gfctl each, subscribed to everything xEMSs send FOAs -----------
for i in $IDS other; do
	"$GFCTL" --port "$LOCAL_PORT" --id "foa.$i" -v sub 'gf/site1/xems/+/foa/+/#' --timeout 25 \
		>"$tmp/foa.$i.out" 2>"$tmp/foa.$i.err" &
	pids+=($!)
	subs+=($!)
done
# The day-start round's offers go out once: every FOA listens first.
for i in $IDS other; do
	wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/foa.$i.err" || echo "# foa.$i did not subscribe"
done
"$SIM" -c "$tmp/sim.conf" -v >"$tmp/sim.log" 2>&1 &
sim_pid=$!
pids+=($sim_pid)

offer_of() { # offer_of FILE LABEL: the offer's JSON
	jq -c --arg l "$2" 'select(.msg == "xems.flexibility") | .payload.flexOffer | select(.label == $l)' "$1" | head -1
}
BAT=sim-0002.battery.$D0
has_offer() { [ -n "$(offer_of "$tmp/foa.sim-0002.out" "$BAT")" ]; }
check "the day-start round's battery offer of sim-0002 reaches foa.sim-0002" wait_for 10 has_offer

# A schedule for it: upper bounds for 4 intervals, lower bounds for 4, then
# the default; sent twice (at-least-once delivery), as the FOA would.
offer=$(offer_of "$tmp/foa.sim-0002.out" "$BAT")
start=$(jq -r .startAfterTime <<<"$offer")
sa=$(jq -r .startAfterInterval <<<"$offer")
energy=$(jq -c '[.flexOfferProfileConstraints as $p | .defaultSchedule.scheduleSlices
	| to_entries[] | if .key < 4 then $p[.key].energyConstraintList[0].upper
	elif .key < 8 then $p[.key].energyConstraintList[0].lower else .value.energyAmount end]' <<<"$offer")
reply=$(jq -nc --arg s "$start" --arg l "$BAT" --argjson e "$energy" \
	'{ack:{ack:true},demandSchedule:[{scheduleId:41,updateId:0,flexOfferId:$l,startTime:$s,intervalLength:900,energy:$e}]}')
# (sim-0002's connection is new: it must have subscribed to get the reply)
wait_for 10 grep -q "GF-BUS-SUBSCRIBED xems.sim-0002:" "$tmp/sim.log" || echo "# xems.sim-0002 did not subscribe"
for _ in 1 2; do
	"$GFCTL" --port "$LOCAL_PORT" --id foa.sim-0002 pub gf/site1/foa/sim-0002/xems/sim-0002/foa.reply "$reply" >"$tmp/pub.out" 2>&1
done
check "the FOA's reply is accepted by the broker" grep -qx published "$tmp/pub.out"
check "the schedule is applied once (GF-SIM-SCHEDULE)" \
	wait_for 5 eval '[ "$(grep -c "GF-SIM-SCHEDULE sim-0002 battery: $BAT follows schedule 41 update 0" "$tmp/sim.log")" = 1 ]'
check "... and its second delivery is a duplicate (GF-SIM-DUP)" \
	wait_for 5 grep -q "GF-SIM-DUP sim-0002: schedule 41 update 0 of $BAT already applied" "$tmp/sim.log"
# An update (DemandUpdate, the same values) is applied; a schedule that fits
# no offer is not.
"$GFCTL" --port "$LOCAL_PORT" --id foa.sim-0002 pub gf/site1/foa/sim-0002/xems/sim-0002/foa.reply \
	"$(jq -c '.demandSchedule[0].updateId = 1' <<<"$reply")" >/dev/null 2>&1
"$GFCTL" --port "$LOCAL_PORT" --id foa.sim-0002 pub gf/site1/foa/sim-0002/xems/sim-0002/foa.reply \
	"$(jq -c '.demandSchedule[0] |= (.scheduleId = 42 | .flexOfferId = "nope" | .energy = [1,2])' <<<"$reply")" >/dev/null 2>&1
check "an update of the schedule is applied (updateId 1)" \
	wait_for 5 grep -q "GF-SIM-SCHEDULE sim-0002 battery: $BAT follows schedule 41 update 1" "$tmp/sim.log"
check "a schedule that fits no offer is ignored (GF-SIM-UNMATCHED)" \
	wait_for 5 grep -q "GF-SIM-UNMATCHED sim-0002: schedule 42 for nope" "$tmp/sim.log"
# A reply from another FOA is not delivered at all (the broker's policy).
"$GFCTL" --port "$LOCAL_PORT" --id foa.other pub gf/site1/foa/other/xems/sim-0003/foa.reply \
	'{"ack":{"ack":true}}' >"$tmp/pub-other.out" 2>&1

# Wait until the 8 scheduled intervals are metered (then 2 more).
csv_has() { awk -F, -v j="$1" 'NR > 1 && $1 + 0 >= j' "$tmp/report.csv" 2>/dev/null | in_input .; }
check "the CSV reaches the end of the schedule" wait_for 20 csv_has $((sa + 10))
kill -TERM "$sim_pid"
wait "$sim_pid"; rc=$?
check "SIGTERM: exit 0 with GF-SIM-STOP" eq "$rc $(grep -c GF-SIM-STOP "$tmp/sim.log")" "0 1"
kill -TERM "${subs[@]}" 2>/dev/null
wait "${subs[@]}" 2>/dev/null

# --- what the FOAs saw -----------------------------------------------------------------
python3 - "$tmp" "$D0" $IDS >"$tmp/check.out" 2>&1 <<'EOF'
import datetime, json, sys
tmp, d0, ids = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
bad = []
for i in ids:
    msgs = [json.loads(l) for l in open(f"{tmp}/foa.{i}.out") if l.startswith("{")]
    for m in msgs:
        if m["sender"] != f"xems.{i}" or m["to"] != f"foa.{i}":
            bad.append(f"foa.{i} got {m['sender']} -> {m['to']}")
    offers = [m["payload"]["flexOffer"] for m in msgs if m["msg"] == "xems.flexibility"]
    kinds = {o["label"].split(".")[1] for o in offers}
    # Every kind offers (the washer once: its window tomorrow was offered
    # at start, so the day start has nothing new for it).
    if not {"battery", "washer", "ev"} <= kinds or not kinds & {"boiler", "heatpump"}:
        bad.append(f"{i}: offers of {sorted(kinds)}")
    labels = [o["label"] for o in offers]
    if len(set(labels)) != len(labels):
        bad.append(f"{i}: repeated labels")
    for o in offers:
        pc, d = o["flexOfferProfileConstraints"], o["defaultSchedule"]
        sl = d["scheduleSlices"]
        lo = [p["energyConstraintList"][0]["lower"] for p in pc]
        hi = [p["energyConstraintList"][0]["upper"] for p in pc]
        df = [s["energyAmount"] for s in sl]
        if o.get("flexOfferTariffConstraint") != {"minTariff": 0, "maxTariff": 0.3}:
            bad.append(f"{o['label']}: tariff {o.get('flexOfferTariffConstraint')}")
        if not o["label"].startswith(i + ".") or o["offeredById"] != i:
            bad.append(f"{i}: offer named {o['label']} by {o['offeredById']}")
        if len(df) != len(pc) or any(not (l - 1e-9 <= x <= h + 1e-9) for l, x, h in zip(lo, df, hi)):
            bad.append(f"{o['label']}: default outside its bounds")
        if d["startTime"] != o["startAfterTime"] or any(p["minDuration"] != 1 or p["maxDuration"] != 1 for p in pc):
            bad.append(f"{o['label']}: default start or slice durations")
        t = o.get("totalEnergyConstraint")
        if t and not (t["lower"] - 1e-6 <= sum(df) <= t["upper"] + 1e-6):
            bad.append(f"{o['label']}: default total {sum(df)} outside {t}")
        if not (o["creationInterval"] < o["assignmentBeforeInterval"] < o["startAfterInterval"] <= o["startBeforeInterval"]):
            bad.append(f"{o['label']}: windows")
    starts = [m["payload"]["startTime"] for m in msgs if m["msg"] == "xems.operation"]
    ivs = sorted(set(starts))
    secs = [datetime.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() for t in ivs]
    if len(starts) != len(ivs) or len(ivs) < 12 or secs[-1] - secs[0] != 900 * (len(secs) - 1):
        bad.append(f"{i}: {len(starts)} operations, {len(ivs)} intervals, not one per interval")
    for m in msgs:
        if m["msg"] == "xems.operation":
            p = m["payload"]
            if p["intervalLength"] != 900 or len(p["accountingPower"]) != 1:
                bad.append(f"{i}: operation {p}")
print("\n".join(bad) if bad else "ok")
EOF
check "every FOA got only its own xEMS's messages; offers feasible; operations every interval" \
	eq "$(cat "$tmp/check.out")" ok
check "another FOA got nothing of theirs (broker policy)" eq "$(grep -c '^{' "$tmp/foa.other.out")" 0
check "a reply from another FOA never reached sim-0003" lacks "$(cat "$tmp/sim.log")" "sim-0003: foa.reply"

# The CSV: during the schedule sim-0002's devices move by exactly the schedule's
# departure from the battery's default; the others follow their defaults.
dflt=$(jq -c '[.defaultSchedule.scheduleSlices[].energyAmount]' <<<"$offer")
csvcheck=$(python3 - "$tmp/report.csv" "$sa" "$energy" "$dflt" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sa, e, d = int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
bad = []
for r in rows:
    j, p = int(r["interval"]), r["prosumer"]
    sched, dev, dfl = float(r["scheduled_kwh"]), float(r["device_kwh"]), float(r["default_kwh"])
    if abs(float(r["total_kwh"]) - float(r["base_kwh"]) - dev) > 2e-6:
        bad.append(f"{j} {p}: total != base + devices")
    if p == "sim-0002" and sa <= j < sa + 10:
        k = j - sa
        if abs(sched - e[k]) > 2e-6 or abs((dev - dfl) - (e[k] - d[k])) > 1e-5 or r["state"] != "assigned":
            bad.append(f"{j}: scheduled {sched} device-default {dev - dfl} want {e[k]} {e[k] - d[k]} {r['state']}")
    elif sched != 0 or (j >= sa and abs(dev - dfl) > 1e-5):
        bad.append(f"{j} {p}: scheduled {sched} device {dev} default {dfl}")
moved = sum(abs(x - y) for x, y in zip(e[:8], d[:8]))
print("\n".join(bad[:5]) if bad else f"ok {moved > 0.01}")
EOF
)
check "the CSV follows the schedule exactly (and it differs from the default)" eq "$csvcheck" "ok True"
metercheck=$(python3 - "$tmp/report.csv" "$tmp/foa.sim-0002.out" <<'EOF'
import csv, json, sys
kw = {}
for l in open(sys.argv[2]):
    m = json.loads(l)
    if m["msg"] == "xems.operation":
        kw[m["payload"]["startTime"]] = (m["payload"]["accountingPower"][0], m["payload"]["operationPower"][0])
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["prosumer"] == "sim-0002" and r["start_time"] in kw]
bad = [r["interval"] for r in rows
       if abs(kw[r["start_time"]][0] - 4 * float(r["total_kwh"])) > 1e-5
       or abs(kw[r["start_time"]][1] - 4 * float(r["device_kwh"])) > 1e-5]
print(f"{len(rows) >= 12} {bad}")
EOF
)
check "the FOA's accountingPower (kW) is the CSV's metered kWh / 0.25 h" eq "$metercheck" "True []"
check "GF-SIM-DAY for the day that ended at midnight" \
	grep -q "GF-SIM-DAY day 2026-01-15: 5 prosumers, 1 intervals" "$tmp/sim.log"
check "offer rounds at start and at the day start" eq "$(grep -c GF-SIM-ROUND "$tmp/sim.log")" 2

# --- TLS: certificates from cert_dir; the agent's own identity is a prosumer's ----
mkdir -p "$tmp/tls.state"
cat >"$tmp/tls.conf" <<EOF
site site1
broker_host localhost
broker_port $TLS_PORT
cafile $S/pki/ca.crt
cert $S/pki/clients/xems.sim-0006.crt
key $S/pki/clients/xems.sim-0006.key
cert_dir $S/pki/clients
state_dir $tmp/tls.state
time_scale 900
prosumers 2
first_id 6
profiles_dir $PROFILES
EOF
"$SIM" -c "$tmp/tls.conf" >"$tmp/tls.log" 2>&1 &
tls_pid=$!
pids+=($tls_pid)
both() { grep -q "connected to localhost:$TLS_PORT as xems.sim-0006" "$tmp/tls.log" &&
	grep -q "connected to localhost:$TLS_PORT as xems.sim-0007" "$tmp/tls.log"; }
check "TLS: both prosumers connected with their certificates" wait_for 10 both
check "... the first on the agent's own connection (one connection each)" \
	eq "$(grep -c 'GF-BUS-CONNECT connecting' "$tmp/tls.log")" 2
kill -TERM "$tls_pid"
wait "$tls_pid"
check "... and it stops cleanly" eq "$?" 0

finish
