#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every tests/integration/*_test.sh and tests/certs/*_test.sh (each
# starts what it needs: a real mosquitto with our plugin on free ports, in
# its own temp dir). Prints each script's result and a total.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-build}
passed=0 failed=0 scripts_failed=0
scripts=()
for t in "$top"/tests/certs/*_test.sh "$top"/tests/integration/*_test.sh; do
	[ -e "$t" ] && scripts+=("$t")
done
i=0
for t in "${scripts[@]}"; do
	i=$((i + 1))
	name=${t#"$top"/tests/}
	start=$(date +%s)
	echo "[$i/${#scripts[@]}] $name ..."
	out=$(bash "$t" 2>&1)
	rc=$?
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
	p=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$last")
	f=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$last")
	passed=$((passed + ${p:-0})) failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ] || [ -z "$last" ]; then
		scripts_failed=$((scripts_failed + 1))
		[ "${f:-0}" = 0 ] && failed=$((failed + 1))
		echo "FAIL $name (exit $rc, $(($(date +%s) - start)) s)"
		grep -v '^ok ' <<<"$out" | tail -40
	else
		echo "ok   $name: $last ($(($(date +%s) - start)) s)"
	fi
done
echo "integration: $passed passed, $failed failed"
[ $scripts_failed -eq 0 ]
