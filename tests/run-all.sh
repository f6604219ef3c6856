#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every test of the project: unit tests, the layering of lib/, the catalogue/SPEC agreement,
# integration tests against the real broker, a short fuzz run, and the
# formatting check. Ends with one "N passed, M failed" line over all of them.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BUILD=${BUILD:-build}
total_p=0 total_f=0 status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
suite_start=$(date +%s)
# Each stage's output is shown as it comes (the integration stage alone runs
# for minutes), and kept to read its tally.
run() { # NAME COMMAND...
	local rc line p f start
	start=$(date +%s)
	echo "=== $1 (at $((start - suite_start)) s)"
	"${@:2}" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	p=$(sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p' <<<"$line")
	f=$(sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p' <<<"$line")
	total_p=$((total_p + ${p:-0})) total_f=$((total_f + ${f:-0}))
	if [ $rc -ne 0 ]; then
		status=1
		[ "${f:-0}" = 0 ] && total_f=$((total_f + 1))
	fi
	echo "=== $1: $([ $rc -eq 0 ] && echo done || echo FAILED) in $(($(date +%s) - start)) s"
}
run unit tests/run-unit.sh "$BUILD"/tests/unit/*_test
run layering tests/layering_test.sh
run catalogue tests/catalog_spec_test.sh
# The FlexOffer engine on issue 4's workload must reproduce the reference's
# aggregates exactly (85 aggregates, 2227 slices, tf loss 0, largest 12469).
run engine bash -c 'out=$("$BUILD"/bin/gf-agg-bench --offers 1000000) && echo "$out" &&
	grep -q "\"reference_checks\":\"match\"" <<<"$out" && grep -q "\"ok\":true" <<<"$out" &&
	echo "1 passed, 0 failed" || { echo "0 passed, 1 failed"; exit 1; }'
run schemas tests/schemas/schemas_test.sh
run integration tests/run-integration.sh
if [ -z "${SAN:-}" ]; then
	run fuzz tests/fuzz/run.sh build/fuzz/*_fuzz
	run bench-smoke bash -c 'if BENCH_QUICK=1 tests/bench/run.sh; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi'
	run format bash -c 'if make -s format-check; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; exit 1; fi'
fi
echo
echo "all stages in $(($(date +%s) - suite_start)) s"
echo "$total_p passed, $total_f failed"
exit $status
