#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two sites, each a real broker with our plugin: site1 bridges to site2 with
# the stanza bridge/gf-bridge-conf generates. Public rows cross, private rows
# never do, and site2 accepts from the bridge only public rows under
# gf/site1/. The check subcommand refuses stanzas that would forward more.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

tmp=$(mktemp -d)
trap 'broker_stop "$tmp/a"; broker_stop "$tmp/b"; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
A=$tmp/a B=$tmp/b
BRIDGE=$top/bridge/gf-bridge-conf
site_new "$A" site1
site_new "$B" site2
add_password "$A" sp.sp1 foa.f1 fman.m1
add_password "$B" ops.o1 sp.sp9
add_cert "$B" bridge site1 # the peer's CA certifies site1's bridge
printf 'log_type debug\n' >"$tmp/debug.conf"

broker_start "$B" --include "$tmp/debug.conf" || { echo "site2 broker did not start"; exit 1; }
B_TLS=$TLS_PORT B_LOCAL=$LOCAL_PORT
"$BRIDGE" generate --site site1 --peer site2 --address "127.0.0.1:$B_TLS" --cafile "$B/pki/ca.crt" \
	--certfile "$B/pki/clients/bridge.site1.crt" --keyfile "$B/pki/clients/bridge.site1.key" \
	>"$tmp/bridge.conf"
out=$("$BRIDGE" check "$tmp/bridge.conf" --site site1)
check "the generated stanza passes the check" grep -q 'all public rows' <<<"$out"
check "it forwards no private row" bash -c "! grep -q 'flexoffer\|meter\.\|bid\b' '$tmp/bridge.conf'"
broker_start "$A" --include "$tmp/bridge.conf" || { echo "site1 broker did not start"; exit 1; }
A_LOCAL=$LOCAL_PORT

for _ in $(seq 1 100); do
	grep -q 'GF-AUTH-OK certificate identity bridge.site1' "$B/mosquitto.log" && break
	sleep 0.1
done
check "site1's bridge is admitted at site2 as bridge.site1" logged "$B" GF-AUTH-OK "bridge.site1"

LOCAL_PORT=$A_LOCAL
# The private rows first: once the forecast, published last, has crossed,
# one of them would have crossed before it (the bridge forwards in order).
probe_pw foa.f1 foa.f1 "pub:gf/site1/foa/f1/fman/all/flexoffer=$(offer_json PRIVATE-OFFER)" >/dev/null
probe_pw sp.sp1 sp.sp1 "pub:gf/site1/sp/sp1/fman/m1/meter.data=$(meter_json PRIVATE-METER)" \
	"pub:gf/site1/sp/sp1/all/all/weather.forecast=$(forecast_json PUBLIC-FORECAST)" >/dev/null
check "the public forecast crossed to site2" \
	wait_for 10 grep -q "Received PUBLISH from bridge.site1 .*gf/site1/sp/sp1/all/all/weather.forecast" "$B/mosquitto.log"
check "... and site2's plugin accepted it" bash -c "! grep -q 'GF-ACL-[A-Z]* write denied.*bridge.site1' '$B/mosquitto.log'"
check "the private meter data did not cross" bash -c "! grep -q 'meter.data' '$B/mosquitto.log'"
check "the private FlexOffer did not cross" bash -c "! grep -q 'flexoffer' '$B/mosquitto.log'"

# site2 refuses a bridge that tries more than the generated stanza sends.
LOCAL_PORT=$B_LOCAL TLS_PORT=$B_TLS
out=$(probe_tls "$B" bridge site1 bridge.site1@probe \
	"pub:gf/site1/foa/f1/fman/all/flexoffer=$(offer_json x)" "pub:gf/site2/sp/sp9/all/all/weather.forecast=$(forecast_json x)" \
	"pub:gf/site1/sp/sp1/all/all/weather.forecast=$(forecast_json ok)")
check "site2 refuses a private row from the bridge" has "$out" "PUBACK gf/site1/foa/f1/fman/all/flexoffer 135"
check "site2 refuses the bridge speaking in site2's tree" has "$out" "PUBACK gf/site2/sp/sp9/all/all/weather.forecast 135"
check "... with GF-ACL-BRIDGE" logged "$B" GF-ACL-BRIDGE "identity 'bridge.site1'"
# 16: accepted, no matching subscribers (nobody at site2 subscribes to site1's tree).
check "site2 accepts a public row under gf/site1/ from it" grep -qxE "PUBACK gf/site1/sp/sp1/all/all/weather.forecast (0|16)" <<<"$out"

# The check refuses stanzas that forward more than public rows.
cp "$tmp/bridge.conf" "$tmp/bad.conf"
printf 'topic gf/site1/foa/+/fman/+/flexoffer out 1\ntopic gf/site1/# out 1\ntopic gf/site1/sp/+/foa/+/weather.forecast in 1\ntopic gf/site1/+/+/all/all/weather.forecast out 1\n' >>"$tmp/bad.conf"
out=$("$BRIDGE" check "$tmp/bad.conf" --site site1 2>&1)
rc=$?
check "check fails on a widened stanza" test $rc -ne 0
check "... naming the private row" grep -q 'foa -> fman : flexoffer is not a public row' <<<"$out"
check "... the multi-level wildcard" grep -q 'bad.conf:[0-9]*: not a gf/' <<<"$out"
check "... the incoming direction" grep -q "direction 'in'" <<<"$out"
check "... the role wildcard" grep -q 'wildcard in the site, role or message level' <<<"$out"

broker_stop "$A"
broker_stop "$B"
finish
