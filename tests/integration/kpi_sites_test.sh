#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One KPI tracker across sites (issue 15 item 2; SPEC section 4, cross-site
# reading). Two sites, each a real broker with our plugin; site1 bridges its
# public rows to site2 with the stanza bridge/gf-bridge-conf generates. At
# site1 a real gf-fmar reports its KPIs (kpi_period_s 1), the KPI tracker
# of site1 (played by gfctl) sends a kpi.alarm, an FOA a private FlexOffer.
# At site2 gf-kpi tracks both sites:
#   - site1's kpi rows are stored and served at site2 beside site2's own;
#   - site2's roles read what the catalogue lists for them (user: kpi.alarm;
#     ops: every public row) and nothing else (an FOA gets no kpi row);
#   - site1's private rows and its broker feed (audit) never reach site2,
#     and subscribing to them by name is refused; nobody at site2 writes
#     under gf/site1/.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

KPI=$BUILD/bin/gf-kpi FMAR=$BUILD/bin/gf-fmar GFCTL=$BUILD/bin/gfctl
[ -x "$KPI" ] && [ -x "$FMAR" ] && [ -x "$GFCTL" ] || { echo "no $KPI, $FMAR or $GFCTL (run make)"; exit 1; }
BRIDGE=$top/bridge/gf-bridge-conf

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	broker_stop "$tmp/a"
	broker_stop "$tmp/b"
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
export GF_PASSWORD=$PASSWORD GFCTL_PASSWORD=$PASSWORD
A=$tmp/a B=$tmp/b
site_new "$A" site1
site_new "$B" site2
add_password "$A" fmar.m1 kpi.k1 foa.f1 ops.o1
add_password "$B" kpi.k2 sp.sp9 user.u2 ops.o2 foa.x2
add_cert "$B" bridge site1
broker_start "$B" || { echo "site2 broker did not start"; exit 1; }
B_TLS=$TLS_PORT B_LOCAL=$LOCAL_PORT
"$BRIDGE" generate --site site1 --peer site2 --address "127.0.0.1:$B_TLS" --cafile "$B/pki/ca.crt" \
	--certfile "$B/pki/clients/bridge.site1.crt" --keyfile "$B/pki/clients/bridge.site1.key" \
	>"$tmp/bridge.conf"
check "the generated stanza forwards the kpi and kpi.alarm rows" \
	bash -c "grep -q 'gf/site1/fmar/+/kpi/+/kpi out' '$tmp/bridge.conf' && grep -q 'gf/site1/kpi/+/user/+/kpi.alarm out' '$tmp/bridge.conf'"
broker_start "$A" --include "$tmp/bridge.conf" || { echo "site1 broker did not start"; exit 1; }
A_LOCAL=$LOCAL_PORT
for _ in $(seq 1 100); do
	grep -q 'GF-AUTH-OK certificate identity bridge.site1' "$B/mosquitto.log" && break
	sleep 0.1
done
check "site1's bridge is admitted at site2" logged "$B" GF-AUTH-OK "bridge.site1"

# site2: the tracker, and watchers of site1's tree.
HTTP=$(free_port)
mkdir -p "$tmp/k2.state"
printf 'site site2\nbroker_port %s\nidentity kpi.k2\nstate_dir %s\nhttp_port %s\neval_s 1\n' \
	"$B_LOCAL" "$tmp/k2.state" "$HTTP" >"$tmp/k2.conf"
"$KPI" -c "$tmp/k2.conf" -v >"$tmp/k2.log" 2>&1 &
pids+=($!)
watch() { # watch NAME IDENT FILTER (at site2); returns once subscribed
	"$GFCTL" --port "$B_LOCAL" --id "$2" -v sub "$3" --timeout 60 >"$tmp/$1.jsonl" 2>"$tmp/$1.err" &
	pids+=($!)
	wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/$1.err" || echo "# watcher $1 did not subscribe"
}
watch user user.u2 'gf/site1/#'
watch ops ops.o2 'gf/+/#'
watch foa foa.x2 'gf/site1/#'
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$HTTP/health" >/dev/null && break; sleep 0.1; done
# The tracker's session is new: site1's samples, sent once, must find it subscribed.
wait_for 10 grep -q GF-BUS-SUBSCRIBED "$tmp/k2.log" || echo "# site2's gf-kpi did not subscribe"

# site1: a real agent's KPIs, an alarm, a private offer, a site2 agent's KPI.
mkdir -p "$tmp/m1.state"
printf 'site site1\nbroker_port %s\nidentity fmar.m1\nstate_dir %s\nkpi_period_s 1\n' \
	"$A_LOCAL" "$tmp/m1.state" >"$tmp/m1.conf"
"$FMAR" -c "$tmp/m1.conf" >"$tmp/m1.log" 2>&1 &
pids+=($!)
now_iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
pubA() { "$GFCTL" --port "$A_LOCAL" --id "$1" pub "$2" "$3" >/dev/null; }
pubA fmar.m1 gf/site1/fmar/m1/kpi/all/kpi \
	"$(printf '{"kpiId":"fmar.cleared_kwh","value":12.5,"unit":"kWh","observedTime":"%s"}' "$(now_iso)")"
pubA kpi.k1 gf/site1/kpi/k1/user/all/kpi.alarm \
	"$(printf '{"alarmId":"site1-a1","kpiId":"fmar.cleared_kwh","kind":"alarmRaised","raisedTime":"%s","message":"SITE1-ALARM"}' "$(now_iso)")"
pubA foa.f1 gf/site1/foa/f1/fman/all/flexoffer "$(offer_json PRIVATE-OFFER-SITE1)"
"$GFCTL" --port "$B_LOCAL" --id sp.sp9 pub gf/site2/sp/sp9/kpi/all/kpi \
	"$(printf '{"kpiId":"sp.readings_stored","value":96,"observedTime":"%s"}' "$(now_iso)")" >/dev/null
URL=http://127.0.0.1:$HTTP
for _ in $(seq 1 80); do
	curl -s "$URL/api/kpis" | jq -e '.kpis[] | select(.kpi == "agent.publish_queue") | .series[] | select(.site == "site1")' >/dev/null && break
	sleep 0.1
done
sources() { curl -s "$URL/api/kpis" | jq -c "[.kpis[] | select(.kpi == \"$1\") | .series[] | [.site, .role, .id]]"; }
check "site2's tracker stores site1's fmar.cleared_kwh, from site1/fmar/m1" eq "$(sources fmar.cleared_kwh)" '[["site1","fmar","m1"]]'
check "... the real gf-fmar's own KPI from site1" eq "$(sources agent.publish_queue)" '[["site1","fmar","m1"]]'
check "... and site2's own sp.readings_stored beside them" eq "$(sources sp.readings_stored)" '[["site2","sp","sp9"]]'
check "... its value and series served by /api/series" \
	eq "$(curl -s "$URL/api/series?kpi=fmar.cleared_kwh&source=site1/*/*" | jq -c '[.series[].points[][1]]')" '[12.5]'
check "a site2 user reads site1's kpi.alarm (its catalogue row)" wait_for 10 grep -q 'SITE1-ALARM' "$tmp/user.jsonl"
check "... and no kpi sample (user is not a reader of kpi)" bash -c "! grep -q '\"msg\":\"kpi\"' '$tmp/user.jsonl'"
check "site2's ops reads site1's public rows: kpi, kpi.alarm, presence" \
	wait_for 10 bash -c "grep -q 'gf/site1/fmar/m1/kpi/all/kpi' '$tmp/ops.jsonl' && grep -q 'SITE1-ALARM' '$tmp/ops.jsonl' && grep -q 'gf/site1/fmar/m1/ops/all/status' '$tmp/ops.jsonl'"
check "a site2 FOA gets nothing of site1's kpi rows" bash -c "! grep -q 'kpi' '$tmp/foa.jsonl'"
check "site1's private FlexOffer reached nobody at site2" \
	bash -c "! grep -q 'PRIVATE-OFFER-SITE1' '$tmp/user.jsonl' '$tmp/ops.jsonl' '$tmp/foa.jsonl' && ! grep -q flexoffer '$B/mosquitto.log'"
check "site1's audit feed did not cross (site2's ops has none of site1's)" \
	bash -c "! grep -q 'gf/site1/ops/[^/]*/ops/all/audit' '$tmp/ops.jsonl'"
LOCAL_PORT=$B_LOCAL
out=$(probe_pw ops.o2 ops.o2 "sub:gf/site1/ops/broker/ops/all/audit")
check "subscribing to site1's audit feed at site2: refused" has "$out" "SUBACK gf/site1/ops/broker/ops/all/audit 135"
check "... with GF-ACL-BROKERFEED" logged "$B" GF-ACL-BROKERFEED "gf/site1/ops/broker/ops/all/audit"
out=$(probe_pw ops.o2 ops.o2 "sub:gf/site1/foa/f1/fman/all/flexoffer")
check "subscribing to a private row of site1 at site2: refused" has "$out" "SUBACK gf/site1/foa/f1/fman/all/flexoffer 135"
check "... with GF-ACL-SITE" logged "$B" GF-ACL-SITE "gf/site1/foa/f1/fman/all/flexoffer"
out=$(probe_pw kpi.k2 kpi.k2 "pub:gf/site1/kpi/k2/user/all/kpi.alarm=$(printf '{"alarmId":"x","kpiId":"y","kind":"alarmRaised","raisedTime":"%s"}' "$(now_iso)")")
check "nobody at site2 writes under gf/site1/" has "$out" "PUBACK gf/site1/kpi/k2/user/all/kpi.alarm 135"
out=$(probe_pw ops.o2 ops.o2 "sub:\$share/g/gf/+/+/+/+/+/#")
check "a shared filter over every site's tree: refused for ops (private and broker rows)" \
	has "$out" "SUBACK \$share/g/gf/+/+/+/+/+/# 135"
check "no publish of site2's gf-kpi was refused" eq "$(grep -c GF-BUS-REFUSED "$tmp/k2.log")" 0
finish
