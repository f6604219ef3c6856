#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer binary given for FUZZ_SECONDS on a scratch copy of its
# seed corpus (tests/fuzz/corpus/<name>/); a crash fails the run and leaves
# the reproducer in build/fuzz/artifacts/. FUZZ_JOBS targets at a time (the
# number of cores by default: each target is one process on one core).
# Prints one line per target as it ends and "N passed, M failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
mkdir -p "$top/build/fuzz/artifacts"
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# fuzz_one BIN: its result line (one write) and "ok" or "fail" in $results.
fuzz_one() {
	local bin=$1 name work max_len runs
	name=$(basename "$bin" _fuzz)
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz $name: no such fuzz target $bin (make fuzz builds build/fuzz/*_fuzz)"
		echo fail >"$results/$name"
		return
	fi
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
		echo ok >"$results/$name"
	else
		printf '%s\n' "not ok - fuzz $name crashed; reproducer in build/fuzz/artifacts/" \
			"$(grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$work.log" | head -20)"
		echo fail >"$results/$name"
	fi
	rm -rf "$work" "$work.log"
}

running=0
for bin in "$@"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_one "$bin" &
	running=$((running + 1))
done
wait
passed=$(grep -lx ok "$results"/* 2>/dev/null | wc -l)
failed=$(($# - passed))
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
