#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The meter-data path benchmark (issue 12; docs/bench.md "Meter data"): a
# DMS export on disk -> gf-anonymizer --once -> the broker (TLS, with our
# plugin validating the JWE form) -> gf-sp -> its store, SQLite and
# PostgreSQL. Prints readings per second end to end, from the anonymizer's
# start to the last reading in the store, every reading accounted for (the
# store holds exactly N), and each process's CPU per reading.
#
# The baseline, measured in the same run: the same sealed payloads replayed
# through the same broker by mosquitto_pub to mosquitto_sub (the transport
# alone); the ratio says what the agents add on top of the bus.
#
# Usage: tests/bench/meter_bench.sh [METERS [STEPS]]  (default 1000 x 200 = 200,000
# readings, 15 minutes apart). Environment: BUILD.
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$top/tests/integration/pg.sh"

METERS=${1:-1000}
STEPS=${2:-200}
N=$((METERS * STEPS))
INNER=${INNER:-protobuf} # the sealed document's encoding (gf-anonymizer inner_format)
ANON=$BUILD/bin/gf-anonymizer
SP=$BUILD/bin/gf-sp
PY=/usr/bin/python3
for b in "$ANON" "$SP"; do [ -x "$b" ] || { echo "meter_bench: no $b (run make)"; exit 2; }; done
log() { printf 'meter_bench: %s\n' "$*"; }

agent_tmp
trap 'agent_cleanup; pg_stop' EXIT
site_new "$S" site1
add_cert "$S" dms a1
add_cert "$S" sp sp1
add_cert "$S" sp base
broker_start "$S" || { log "the broker did not start"; exit 1; }
BROKER_PID=$(cat "$S/mosquitto.pid")

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/sp.key" 2>/dev/null
openssl pkey -in "$tmp/sp.key" -pubout -out "$tmp/sp.pub" 2>/dev/null
mkdir -p "$tmp/keys" && install -m 600 "$tmp/sp.key" "$tmp/keys/sp-key-1.pem"
(umask 077 && head -c 32 /dev/urandom >"$tmp/hmac.key")
for m in $(seq 1 "$METERS"); do printf 'm%02d,7-PRE-%04d\n' "$m" "$m"; done >"$tmp/idmap.csv"
mkdir -p "$tmp/in"
$PY "$top/tests/integration/py/meter_export.py" "$tmp/in/export.csv" /dev/null "$METERS" \
	"2024-03-01 00:00" "$STEPS" || exit 1
log "$N readings of $METERS meters, $(du -h "$tmp/in/export.csv" | cut -f1) of DMS CSV"

tls() { # ROLE ID
	printf 'broker_host localhost\nbroker_port %s\ncafile %s\ncert %s\nkey %s\n' "$TLS_PORT" \
		"$S/pki/ca.crt" "$S/pki/clients/$1.$2.crt" "$S/pki/clients/$1.$2.key"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The PostgreSQL server's CPU: the postmaster, its children that exited
# (cutime, cstime) and those alive (gf-sp's backend, the WAL writer...).
db_ticks() {
	local pm t=0 c
	[ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || { echo 0; return; }
	pm=$(head -1 "$PG_DIR/data/postmaster.pid")
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat" 2>/dev/null || echo 0)
	for c in $(pgrep -P "$pm"); do t=$((t + $(cpu_ticks "$c"))); done
	echo "$t"
}
TCK=$(getconf CLK_TCK)
us_per() { awk -v t="$1" -v hz="$TCK" -v n="$N" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'; }

# run LABEL STORE COUNT-COMMAND...: one end-to-end run into a fresh store.
run() {
	local label=$1 store=$2 st=$tmp/$1 sp_pid b0 s0 d0 d1 t0 t1 anon_cpu got=0; shift 2
	mkdir -p "$st/sp" "$st/anon"
	{ echo "site site1"; tls sp sp1; echo "state_dir $st/sp"; echo "key_dir $tmp/keys"
	  echo "retention_days 3650"
	  [ -n "$store" ] && echo "store $store"; } >"$st/sp.conf"
	{ echo "site site1"; tls dms a1; echo "state_dir $st/anon"; echo "input_dir $tmp/in"
	  echo "id_map $tmp/idmap.csv"; echo "hmac_key_file $tmp/hmac.key"; echo "hmac_key_id k1"
	  echo "sp_public_key $tmp/sp.pub"; echo "sp_kid sp-key-1"; echo "sp_id sp1"
	  echo "inner_format $INNER"; } >"$st/anon.conf"
	"$SP" -c "$st/sp.conf" >"$st/sp.log" 2>&1 &
	sp_pid=$!; pids+=($sp_pid)
	for _ in $(seq 1 100); do grep -q GF-BUS-CONNECTED "$st/sp.log" && break; sleep 0.1; done
	b0=$(cpu_ticks "$BROKER_PID"); s0=$(cpu_ticks "$sp_pid"); d0=$(db_ticks); t0=$(date +%s.%N)
	/usr/bin/time -f "%U %S" -o "$st/anon.time" "$ANON" -c "$st/anon.conf" --once \
		>"$st/anon.out" 2>"$st/anon.log" || { log "$label: the anonymizer failed: $(tail -1 "$st/anon.log")"; return 1; }
	for _ in $(seq 1 3000); do
		got=$("$@" 2>/dev/null)
		[ "${got:-0}" -ge "$N" ] && break
		sleep 0.1
	done
	t1=$(date +%s.%N)
	b1=$(cpu_ticks "$BROKER_PID"); s1=$(cpu_ticks "$sp_pid"); d1=$(db_ticks)
	kill "$sp_pid"; wait "$sp_pid" 2>/dev/null
	anon_cpu=$(awk -v hz="$TCK" '{ printf "%d", ($1 + $2) * hz }' "$st/anon.time")
	if [ "${got:-0}" -ne "$N" ]; then
		log "$label: FAILED: the store holds ${got:-0} readings, not $N"
		return 1
	fi
	E2E=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	printf '  %-22s %8.0f readings/s  (%.2f s; %s)  CPU us/reading: anonymizer %s, broker %s, gf-sp %s%s\n' \
		"$label" "$(awk -v n="$N" -v s="$E2E" 'BEGIN { print n / s }')" "$E2E" \
		"$(tail -1 "$st/anon.out" | cut -d, -f1-2)" "$(us_per "$anon_cpu")" \
		"$(us_per $((b1 - b0)))" "$(us_per $((s1 - s0)))" \
		"$([ "$d1" -gt 0 ] && echo ", PostgreSQL server $(us_per $((d1 - d0)))")"
	eval "E2E_$label=$E2E"
}

# --- baseline: the sealed payloads replayed through the broker ----------------------------
# One --once run with mosquitto_sub as the SP captures them.
mkdir -p "$tmp/cap"
mosquitto_sub -V mqttv5 -h localhost -p "$TLS_PORT" --cafile "$S/pki/ca.crt" \
	--cert "$S/pki/clients/sp.base.crt" --key "$S/pki/clients/sp.base.key" -i sp.base@cap -q 1 \
	-t "gf/site1/dms/a1/sp/base/meter.reading" -F '%p' >"$tmp/cap/payloads" 2>"$tmp/cap/sub.err" &
cap_pid=$!; pids+=($cap_pid)
sleep 1
{ echo "site site1"; tls dms a1; echo "state_dir $tmp/cap"; echo "input_dir $tmp/in"
  echo "id_map $tmp/idmap.csv"; echo "hmac_key_file $tmp/hmac.key"; echo "hmac_key_id k1"
  echo "sp_public_key $tmp/sp.pub"; echo "sp_kid sp-key-1"; echo "sp_id base"
  echo "inner_format $INNER"; } >"$tmp/cap.conf"
"$ANON" -c "$tmp/cap.conf" --once >"$tmp/cap/anon.out" 2>"$tmp/cap/anon.log" || { log "capture failed"; exit 1; }
msgs=$(grep -o 'in [0-9]* messages' "$tmp/cap/anon.out" | head -1 | tr -dc 0-9)
for _ in $(seq 1 100); do [ "$(wc -l <"$tmp/cap/payloads")" -ge "$msgs" ] && break; sleep 0.1; done
kill "$cap_pid" 2>/dev/null
log "$msgs sealed messages of up to 1000 readings, $(du -h "$tmp/cap/payloads" | cut -f1) in all"
mosquitto_sub -V mqttv5 -h localhost -p "$TLS_PORT" --cafile "$S/pki/ca.crt" \
	--cert "$S/pki/clients/sp.base.crt" --key "$S/pki/clients/sp.base.key" -i sp.base@replay -q 1 \
	-t "gf/site1/dms/a1/sp/base/meter.reading" -C "$msgs" >/dev/null 2>&1 &
rep_pid=$!
sleep 1
t0=$(date +%s.%N)
mosquitto_pub -V mqttv5 -h localhost -p "$TLS_PORT" --cafile "$S/pki/ca.crt" \
	--cert "$S/pki/clients/dms.a1.crt" --key "$S/pki/clients/dms.a1.key" -i dms.a1@replay -q 1 \
	-D publish content-type application/jose -t "gf/site1/dms/a1/sp/base/meter.reading" \
	-l <"$tmp/cap/payloads"
wait "$rep_pid"
BASE=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
echo
echo "meter data path: $N readings, DMS CSV -> gf-anonymizer -> broker (TLS) -> gf-sp -> store"
printf '  %-22s %8.0f readings/s  (%.2f s)\n' "transport alone" "$(awk -v n="$N" -v s="$BASE" 'BEGIN { print n / s }')" "$BASE"

# gf-sp's SQLite store takes a batch into sp_recent and moves it to
# sp_reading in key order (docs/sp.md): a reading is in one of the two.
sqlite_count() { sqlite3 "$tmp/sqlite/sp/sp-meter.db" "SELECT (SELECT count(*) FROM sp_reading) + (SELECT count(*) FROM sp_recent)"; }
run sqlite "" sqlite_count || exit 1
pg_start || { log "PostgreSQL did not start: $PG_WHY"; exit 1; }
pg_count() { psql "$PG_CONNINFO" -Atc "SELECT count(*) FROM sp_reading"; }
run postgresql "postgresql:$PG_CONNINFO" pg_count || exit 1
for l in sqlite postgresql; do
	eval "e=\$E2E_$l"
	printf '  ratio %-16s %.2fx the transport alone; goal >= 50,000 readings/s: %s\n' "$l" \
		"$(awk -v a="$e" -v b="$BASE" 'BEGIN { print a / b }')" \
		"$(awk -v n="$N" -v s="$e" 'BEGIN { print (n / s >= 50000) ? "met" : "NOT met" }')"
done
