#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp's ingest through the real broker (docs/sp.md, "Measured"): N sealed
# meter.reading batches of 1000 readings (1000 meters, one 15-minute step
# each, as a DMS exports them) wait at the broker for sp.s1's session, then
# gf-sp starts and drains them into its store: readings per second from its
# start to the last one stored, gf-sp's CPU per reading (utime + stime),
# every reading accounted for (the count must come out exact).
#
#   sp_ingest_bench.sh [sqlite|postgresql] [N]     (default sqlite 100)
#
# The sealing is not measured (tests/tools/gf-seal, before the clock starts).
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/pg.sh"
KIND=${1:-sqlite} N=${2:-100}
SP=$BUILD/bin/gf-sp SEAL=$BUILD/tests/tools/gf-seal
DATA="/usr/bin/python3 $top/tests/integration/sp_batches.py"
agent_tmp
trap 'agent_cleanup; pg_stop' EXIT
site_new "$S" site1
add_password "$S" sp.s1 dms.d1
broker_start "$S" || { echo "broker did not start"; exit 1; }
store=
if [ "$KIND" = postgresql ]; then
	pg_start || { echo "sp_ingest_bench: PostgreSQL did not start: $PG_WHY"; exit 1; }
	store="store postgresql:$PG_CONNINFO"
fi
mkdir -p "$tmp/keys" "$tmp/state"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/keys/k1.pem" 2>/dev/null
chmod 600 "$tmp/keys/k1.pem"
openssl pkey -in "$tmp/keys/k1.pem" -pubout -out "$tmp/k1.pub" 2>/dev/null
printf '%s\n' "site site1" "broker_port $LOCAL_PORT" "identity sp.s1" "state_dir $tmp/state" \
	"key_dir $tmp/keys" "$store" >"$tmp/sp.conf"
count() {
	if [ "$KIND" = postgresql ]; then pg_sql "SELECT count(*) FROM sp_reading"; else
		sqlite3 "$tmp/state/sp-meter.db" "SELECT (SELECT count(*) FROM sp_reading) + (SELECT count(*) FROM sp_recent)"; fi
}
# The session first (gf-sp subscribes), then stopped: the batches wait at the broker.
"$SP" -c "$tmp/sp.conf" >"$tmp/sp.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q GF-SP-START "$tmp/sp.log" && break; sleep 0.1; done
kill -TERM "$pid"; wait "$pid"
$DATA register --meters 1 1000 --start 1582761600 --steps "$N" --per 1000 >"$tmp/plain"
while IFS= read -r l; do printf '%s' "$l" | "$SEAL" seal --to "$tmp/k1.pub" --kid k1 --cty application/json; echo; done <"$tmp/plain" >"$tmp/jwe"
mosquitto_pub -h localhost -p "$LOCAL_PORT" -u dms.d1 -P "$PASSWORD" -i dms.d1 -V mqttv5 -q 1 \
	-t gf/site1/dms/d1/sp/s1/meter.reading -D publish content-type application/jose -l <"$tmp/jwe"
want=$((N * 1000))
start=$(date +%s.%N)
${SP_PERF:+perf record -g -o /tmp/sp-ingest.perf} "$SP" -c "$tmp/sp.conf" >>"$tmp/sp.log" 2>&1 &
pid=$!
pids+=("$pid")
while [ "$(count)" -lt "$want" ]; do
	sleep 0.05
	kill -0 "$pid" 2>/dev/null || { echo "gf-sp died"; tail "$tmp/sp.log"; exit 1; }
done
end=$(date +%s.%N)
read -r ut st < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
tick=$(getconf CLK_TCK)
kill -TERM "$pid"; wait "$pid"
got=$(count)
awk -v n="$want" -v got="$got" -v a="$start" -v b="$end" -v cpu="$(((ut + st)))" -v hz="$tick" -v k="$KIND" 'BEGIN {
	printf "gf-sp ingest, %s: %d readings in %.2f s: %.0f readings/s; gf-sp CPU %.1f us per reading; stored %d\n",
		k, n, b - a, n / (b - a), cpu / hz / n * 1e6, got }'
[ "$got" = "$want" ]
