#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gf-sp's store suite (tests/unit/sp_db_test.c, run on SQLite by the unit
# stage) against a real PostgreSQL server (tests/integration/pg.sh): the same
# tests on both backends. If the server cannot start, the test fails.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg.sh"

BIN=$BUILD/tests/unit/sp_db_test
[ -x "$BIN" ] || { echo "no $BIN (run make)"; exit 1; }
trap pg_stop EXIT
if ! pg_start; then
	not_ok "PostgreSQL must start for this test: $PG_WHY"
	finish
	exit 1
fi
out=$(SP_TEST_STORE="postgresql:$PG_CONNINFO" "$BIN" --jobs 1 2>&1)
rc=$?
line=$(grep 'Synthesis:' <<<"$out" | tail -1)
n=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line")
p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
grep '^\[FAIL\]\|^\[----\].*:[0-9]*: ' <<<"$out" | head -40
all_pass() { [ "$rc" -eq 0 ] && [ -n "$n" ] && [ "$n" = "$p" ] && [ "$n" -gt 0 ]; }
check "the store's suite on PostgreSQL: ${p:-0} of ${n:-?} tests pass" all_pass
check "... the tables are in PostgreSQL" eq "$(pg_sql "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('sp_reading', 'sp_topology', 'sp_member')")" 3
finish
