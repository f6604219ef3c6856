#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp's metering store under batches of 1000 readings (build/tests/bench/
# sp_db_bench, docs/sp.md "Measured"): on SQLite in a temp dir and on a real
# PostgreSQL server (tests/integration/pg.sh: Debian's postgresql, a temp
# cluster on a Unix socket, default settings, fsync on), 1000 and 10,000
# meters, each with its baseline measured in the same run. SP_BENCH_BATCHES (default 200) batches.
# Exit 1 if a run fails (a wrong count) or PostgreSQL does not start.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
BENCH=$BUILD/tests/bench/sp_db_bench
N=${SP_BENCH_BATCHES:-200}
. "$top/tests/integration/pg.sh"
[ -x "$BENCH" ] || { echo "no $BENCH (run make)"; exit 1; }
tmp=$(mktemp -d)
trap 'pg_stop; rm -rf "$tmp"' EXIT
status=0
# Each batch: one reading of each of 1000 meters (one DMS export of 1000
# meters), then of 1000 out of 10,000 (a larger site).
for m in 1000 10000; do
	"$BENCH" --store "sqlite:$tmp/bench$m.db" --batches "$N" --meters $m || status=1
done
if pg_start; then
	for m in 1000 10000; do
		pg_sql "DROP TABLE IF EXISTS sp_reading, sp_topology, sp_member" >/dev/null 2>&1
		"$BENCH" --store "postgresql:$PG_CONNINFO" --batches "$N" --meters $m || status=1
	done
else
	echo "sp_bench: PostgreSQL did not start: $PG_WHY"
	status=1
fi
exit $status
