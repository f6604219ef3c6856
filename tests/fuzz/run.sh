#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer binary given for FUZZ_SECONDS on a scratch copy of its
# seed corpus (tests/fuzz/corpus/<name>/); a crash fails the run and leaves
# the reproducer in build/fuzz/artifacts/. Prints "N passed, M failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-20}
passed=0 failed=0
mkdir -p "$top/build/fuzz/artifacts"
for bin in "$@"; do
	name=$(basename "$bin" _fuzz)
	work=$(mktemp -d)
	# Inputs longer than 4 KiB only where a valid input needs them: a
	# complete IEEE profile is 1440 lines; the meter reader's limit is a
	# 4096-byte line, which must be crossed.
	case $name in loadprofile) max_len=65536 ;; reading | a44 | openmeteo) max_len=16384 ;; *) max_len=4096 ;; esac
	cp -r "$top/tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
	if (cd "$top" && "$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
		-artifact_prefix="$top/build/fuzz/artifacts/$name-" "$work" >"$work.log" 2>&1); then
		runs=$(grep -o 'Done [0-9]* runs' "$work.log" | tail -1)
		echo "ok - fuzz $name: ${runs:-done} in ${seconds} s"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz $name crashed; reproducer in build/fuzz/artifacts/"
		grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$work.log" | head -20
		failed=$((failed + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
