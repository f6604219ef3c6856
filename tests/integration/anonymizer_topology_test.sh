#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-anonymizer's grid.topology (docs/anonymizer.md, "Topology") end to end:
# the real mosquitto with our plugin, the real gf-anonymizer (dms.a1) and
# the real gf-sp (sp.sp1). The network is the IEEE European LV feeder
# (../shared/data/ieee-eu-lv/network), 10 of its loads metered.
#   - a bad topology_dir, a load not in the network, a meter not in id_map,
#     a missing grid_point_id: exit 2, saying which key and why;
#   - the topology is sealed: fman.m1 subscribed to the row gets nothing; a
#     copy taken as sp.sp1 opens with the SP's key (python3-jwcrypto) and not
#     with another; it holds pseudonyms, opaque bus ids and phases only (no
#     coordinates, no IEEE names, no lines, no private id);
#   - gf-sp stores it: its members are exactly the pseudonyms of the readings
#     the same anonymizer sent (and Python's HMAC of the classification ids);
#   - a changed meter list is a new, higher revision that replaces it;
#   - a restart with the same files publishes no new revision;
#   - with the broker down a new revision waits in the outbox, survives a
#     kill -9 of the anonymizer and reaches gf-sp once the broker is back.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

ANON=$BUILD/bin/gf-anonymizer SP=$BUILD/bin/gf-sp GFCTL=$BUILD/bin/gfctl
PY=/usr/bin/python3
NET=$top/../shared/data/ieee-eu-lv/network
for b in "$ANON" "$SP" "$GFCTL"; do [ -x "$b" ] || { echo "no $b (run make)"; exit 1; }; done
[ -f "$NET/Loads.csv" ] || { echo "no $NET"; exit 1; }
$PY -c 'import jwcrypto' 2>/dev/null || { echo "python3-jwcrypto is missing (make deps)"; exit 1; }

agent_tmp
site_new "$S" site1
add_password "$S" dms.a1 sp.sp1 fman.m1
broker_start "$S" || { echo "broker did not start"; exit 1; }

mkdir -p "$tmp/keys" "$tmp/in" "$tmp/net"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/keys/sp-key-1.pem" 2>/dev/null
chmod 600 "$tmp/keys/sp-key-1.pem"
openssl pkey -in "$tmp/keys/sp-key-1.pem" -pubout -out "$tmp/sp.pub" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/other.pem" 2>/dev/null
(umask 077 && head -c 32 /dev/urandom >"$tmp/hmac.key")
cp "$NET"/*.csv "$tmp/net/"
{
	echo "private_id,classification_id"
	for m in $(seq 1 12); do printf 'm%02d,7-PRE-%03d\n' "$m" "$m"; done
} >"$tmp/idmap.csv"
meters() { # meters N: LOAD<3k>,m<k> for k = 1..N
	echo "load,private_id"
	for k in $(seq 1 "$1"); do printf 'LOAD%d,m%02d\n' $((3 * k)) "$k"; done
}
meters 10 >"$tmp/meters.csv"

aconf() { # aconf KEY VALUE...
	mkdir -p "$tmp/a.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "identity dms.a1"
		echo "state_dir $tmp/a.state"
		echo "input_dir $tmp/in"
		echo "value_kind interval"
		echo "id_map $tmp/idmap.csv"
		echo "hmac_key_file $tmp/hmac.key"
		echo "hmac_key_id dso-2024"
		echo "sp_public_key $tmp/sp.pub"
		echo "sp_kid sp-key-1"
		echo "sp_id sp1"
		echo "settle_s 1"
		echo "poll_ms 200"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/a.conf"
}
TOPO=(topology_dir "$tmp/net" topology_meters "$tmp/meters.csv" grid_point_id t1)
{
	echo "site site1"
	echo "broker_port $LOCAL_PORT"
	echo "identity sp.sp1"
	echo "state_dir $tmp/sp.state"
	echo "key_dir $tmp/keys"
	echo "k_min 3"
} >"$tmp/sp.conf"
mkdir -p "$tmp/sp.state"
wait_for() {
	local n=$(($1 * 10)); shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
spq() { sqlite3 "$tmp/sp.state/sp-meter.db" "$1" 2>/dev/null; }
n_log() { grep -c -- "$2" "$tmp/$1.log" 2>/dev/null; }
sp_resubscribed() { [ "$(n_log sp GF-BUS-SUBSCRIBED)" -gt "$1" ]; }

# --- configuration errors -------------------------------------------------------------
bad() { # bad DESCRIPTION EXPECTED-TEXT KEY VALUE...
	local d=$1 want=$2 rc; shift 2
	aconf "$@"
	"$ANON" -c "$tmp/a.conf" -n >"$tmp/bad.out" 2>&1; rc=$?
	check "$d: exit 2, says '$want'" eval '[ $rc -eq 2 ] && grep -qF -- "$want" "$tmp/bad.out"'
}
bad "a topology_dir that is no network" "topology_dir $tmp/nonet: " \
	topology_dir "$tmp/nonet" topology_meters "$tmp/meters.csv" grid_point_id t1
{ echo "load,private_id"; echo "LOAD999,m01"; } >"$tmp/m-badload.csv"
bad "a load not in the network" "load LOAD999 is not a load of topology_dir" \
	topology_dir "$tmp/net" topology_meters "$tmp/m-badload.csv" grid_point_id t1
{ echo "load,private_id"; echo "LOAD1,nosuch"; } >"$tmp/m-badid.csv"
bad "a meter not in id_map (its id not said)" "the meter of load LOAD1 is not in id_map" \
	topology_dir "$tmp/net" topology_meters "$tmp/m-badid.csv" grid_point_id t1
check "... and the private id is not in the message" eval '! grep -q nosuch "$tmp/bad.out"'
bad "topology_dir without grid_point_id" "grid_point_id: topology_dir needs" \
	topology_dir "$tmp/net" topology_meters "$tmp/meters.csv"
bad "topology_dir without topology_meters" "topology_meters: topology_dir needs" \
	topology_dir "$tmp/net" grid_point_id t1

# --- first revision -------------------------------------------------------------------
# A subscriber that is not the SP, and a copy of what reaches sp.sp1.
# All three are subscribed before the anonymizer starts: it sends a revision
# once, and a subscriber that comes later misses it.
watch fman fman.m1 'gf/site1/dms/+/sp/sp1/#' || echo "# fman.m1 did not subscribe"
# The copy's persistent session is made (-E: exit once subscribed), then
# resumed by the listener.
copy=(mosquitto_sub -V mqttv5 -h 127.0.0.1 -p "$LOCAL_PORT" -u sp.sp1 -P "$PASSWORD"
	-i "sp.sp1@copy" -c -q 1 -t "gf/site1/dms/+/sp/sp1/grid.topology" -F '%p')
"${copy[@]}" -E >"$tmp/copy.jwe" 2>"$tmp/copy.err" || echo "# the copy did not subscribe: $(cat "$tmp/copy.err")"
"${copy[@]}" >>"$tmp/copy.jwe" 2>"$tmp/copy.err" &
pids+=($!)
"$SP" -c "$tmp/sp.conf" -v >>"$tmp/sp.log" 2>&1 &
pid_sp=$!
pids+=($pid_sp)
wait_for 10 grep -q GF-BUS-SUBSCRIBED "$tmp/sp.log" || echo "# gf-sp did not subscribe"
# Readings of the 10 metered meters and of m11, m12, one day (interval kWh).
for k in $(seq 1 12); do
	for h in 01 02 03; do printf '"m%02d",2020-02-26 %s:00:00,0.%d\n' "$k" "$h" "$k"; done
done >"$tmp/in/day1.csv"
aconf "${TOPO[@]}"
"$ANON" -c "$tmp/a.conf" -v >>"$tmp/anon.log" 2>&1 &
pid_a=$!
pids+=($pid_a)
stored() { [ "$(spq "SELECT count(*) FROM sp_member WHERE grid = 't1'")" = "$1" ]; }
check "gf-sp stores grid point t1's topology with 10 members" wait_for 20 stored 10
check "the anonymizer logs the revision queued, with counts only" \
	wait_for 5 grep -q "GF-ANON-TOPOLOGY grid point t1: revision [0-9]* queued for sp.sp1, 10 meters on [0-9]* buses" "$tmp/anon.log"
readings() { [ "$(spq "SELECT count(*) FROM (SELECT meter FROM sp_reading UNION ALL SELECT meter FROM sp_recent)")" = 36 ]; }
check "gf-sp stores the 36 readings" wait_for 20 readings
rev1=$(spq "SELECT revision FROM sp_topology WHERE grid = 't1'")
check "the revision is the real clock's seconds (now or just before)" \
	eval '[ -n "$rev1" ] && [ "$rev1" -le "$(date +%s)" ] && [ "$rev1" -gt $(($(date +%s) - 120)) ]'
spq "SELECT meter FROM sp_member WHERE grid = 't1' ORDER BY meter" >"$tmp/members"
spq "SELECT DISTINCT meter FROM (SELECT meter FROM sp_reading UNION SELECT meter FROM sp_recent) ORDER BY meter" >"$tmp/readers"
$PY - "$tmp/hmac.key" 10 <<'PYEOF' | sort >"$tmp/expected"
import base64, hashlib, hmac, sys
key = open(sys.argv[1], "rb").read()
for k in range(1, int(sys.argv[2]) + 1):
    mac = hmac.new(key, b"7-PRE-%03d" % k, hashlib.sha256).digest()
    print(base64.urlsafe_b64encode(mac).rstrip(b"=").decode())
PYEOF
check "the members are the pseudonyms of m01..m10 (HMAC of their classification ids)" \
	cmp -s "$tmp/members" "$tmp/expected"
check "... each of them a meter of the readings gf-sp stored" \
	eq "$(comm -23 "$tmp/members" "$tmp/readers" | wc -l) $(wc -l <"$tmp/readers")" "0 12"

# --- sealed: who can read it ---------------------------------------------------------
wait_for 5 test -s "$tmp/copy.jwe"
opendoc() { # opendoc KEY < jwe lines -> the last document, JSON
	$PY -c '
import json, sys
from jwcrypto import jwe, jwk
key = jwk.JWK.from_pem(open(sys.argv[1], "rb").read())
doc = None
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    t = jwe.JWE()
    t.deserialize(line)
    assert t.jose_header["kid"] == "sp-key-1" and t.jose_header["alg"] == "RSA-OAEP-256"
    t.decrypt(key)
    doc = json.loads(t.payload)
print(json.dumps(doc))' "$1"
}
check "fman.m1, subscribed to the row, receives nothing" eval '[ ! -s "$tmp/fman.out" ]'
check "the copy to sp.sp1 does not open with another RSA key" \
	eval '! opendoc "$tmp/other.pem" <"$tmp/copy.jwe" >/dev/null 2>&1'
opendoc "$tmp/keys/sp-key-1.pem" <"$tmp/copy.jwe" >"$tmp/doc.json" 2>"$tmp/doc.err"
check "it opens with the SP's key (jwcrypto): grid point t1, revision $rev1, key id dso-2024" \
	eq "$(jq -r '"\(.gridPointId) \(.revision) \(.pseudonymKeyId)"' "$tmp/doc.json")" "t1 $rev1 dso-2024"
check "its loads: loadId = deviceId = the members, each on an opaque bus with a phase" \
	eq "$(jq -r '.loads[] | select(.loadId == .deviceId and (.busId | test("^b[0-9]+$")) and (.phase | test("^[ABC]$"))) | .deviceId' "$tmp/doc.json" | sort)" "$(cat "$tmp/expected")"
check "no coordinates, names, lines, line codes, transformer or ratings" \
	eq "$(jq -c '[(.buses[] | keys[]), (.loads[] | keys[]), (keys[])] | unique' "$tmp/doc.json")" \
	'["busId","buses","deviceId","gridPointId","loadId","loads","phase","pseudonymKeyId","revision"]'
check "nothing of the DMS's files or ids in it (LOAD, m01, 7-PRE)" \
	eval '! grep -qE "LOAD|\"m0|7-PRE" "$tmp/doc.json"'

# --- a new revision ------------------------------------------------------------------
meters 11 >"$tmp/meters.csv.tmp" && mv "$tmp/meters.csv.tmp" "$tmp/meters.csv"
check "a changed meter list: gf-sp replaces the topology, 11 members" wait_for 20 stored 11
rev2=$(spq "SELECT revision FROM sp_topology WHERE grid = 't1'")
check "... of a higher revision ($rev1 -> $rev2)" eval '[ "$rev2" -gt "$rev1" ]'
check "... one topology row for t1" eq "$(spq "SELECT count(*) FROM sp_topology")" 1
n_sp=$(n_log sp "GF-SP-TOPOLOGY")

# --- a restart with the same files ---------------------------------------------------
kill -TERM "$pid_a"
wait "$pid_a" 2>/dev/null
"$ANON" -c "$tmp/a.conf" -v >>"$tmp/anon.log" 2>&1 &
pid_a=$!
pids+=($pid_a)
check "a restart with the same files: 'unchanged, revision $rev2 stays'" \
	wait_for 10 grep -q "GF-ANON-TOPOLOGY grid point t1: the topology is unchanged, revision $rev2 stays" "$tmp/anon.log"
sleep 1
check "... no new revision reaches gf-sp (no GF-SP-TOPOLOGY line, revision $rev2)" \
	eq "$(n_log sp "GF-SP-TOPOLOGY") $(spq "SELECT revision FROM sp_topology")" "$n_sp $rev2"
check "... 2 revisions queued in all" eq "$(n_log anon "queued for sp.sp1")" 2
# (an acknowledged row stays outbox_hold_s, 15 s, for a broker that would
# lose it: docs/anonymizer.md)
outbox_rows() { sqlite3 "$tmp/a.state/anonymizer.db" "SELECT count(*) FROM gf_outbox" 2>/dev/null; }
check "the anonymizer's outbox is empty (both acknowledged)" \
	wait_for 30 eval '[ "$(outbox_rows)" = 0 ]'

# --- the link down, then kill -9 with the revision in the outbox ---------------------
kill -TERM "$pid_a"
wait "$pid_a" 2>/dev/null
kill -9 "$(cat "$S/mosquitto.pid")"
meters 12 >"$tmp/meters.csv.tmp" && mv "$tmp/meters.csv.tmp" "$tmp/meters.csv"
"$ANON" -c "$tmp/a.conf" -v >>"$tmp/anon.log" 2>&1 &
pid_a=$!
pids+=($pid_a)
check "the broker down: a new revision is queued for sp.sp1, 12 meters" \
	wait_for 10 grep -q "GF-ANON-TOPOLOGY grid point t1: revision [0-9]* queued for sp.sp1, 12 meters" "$tmp/anon.log"
rev3=$(grep -o "revision [0-9]* queued for sp.sp1, 12 meters" "$tmp/anon.log" | awk '{ print $2 }')
check "... and kept in the outbox" \
	eq "$(sqlite3 "$tmp/a.state/anonymizer.db" "SELECT count(*) FROM gf_outbox")" 1
kill -9 "$pid_a"
wait "$pid_a" 2>/dev/null
n_subs=$(n_log sp GF-BUS-SUBSCRIBED)
"$top/ops/gf-broker" -d "$S" --tls-port "$TLS_PORT" --local-port "$LOCAL_PORT" \
	--plugin "$BUILD/lib/goflex_privacy.so" >/dev/null
# The broker was killed, not stopped: gf-sp's session may be new, and a
# message published before it has subscribed again has no subscriber (the
# anonymizer sends a revision once: docs/anonymizer.md).
check "the broker back: gf-sp has subscribed again" \
	wait_for 20 sp_resubscribed "$n_subs"
"$ANON" -c "$tmp/a.conf" -v >>"$tmp/anon.log" 2>&1 &
pid_a=$!
pids+=($pid_a)
check "after kill -9 and the broker back: gf-sp stores revision $rev3, 12 members" \
	wait_for 30 eval '[ "$(spq "SELECT revision FROM sp_topology WHERE grid = '"'t1'"'")" = "$rev3" ] && stored 12'
check "... the restart made no other revision ('unchanged, revision $rev3 stays')" \
	eval 'grep -q "the topology is unchanged, revision $rev3 stays" "$tmp/anon.log" && [ "$(n_log anon "queued for sp.sp1")" = 3 ]'
p1=$(head -1 "$tmp/expected")
check "neither log holds a pseudonym or a private id" \
	eval '! grep -qF -e "$p1" -e ",m01" "$tmp/anon.log" "$tmp/sp.log"'
kill -TERM "$pid_a" "$pid_sp"
wait "$pid_a" "$pid_sp" 2>/dev/null
finish
