#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the Criterion unit test binaries given as arguments; prints one
# summary line per binary and a final "N passed, M failed" over all tests.
set -uo pipefail
passed=0 failed=0 bins_failed=0
for bin in "$@"; do
	out=$("$bin" --jobs 1 2>&1)
	rc=$?
	# Criterion's closing line: "[====] Synthesis: Tested: 12 | Passing: 12 | Failing: 0 | Crashing: 0"
	line=$(grep 'Synthesis:' <<<"$out" | tail -1)
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
	c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${c:-0}))
	if [ $rc -ne 0 ] || [ -z "$line" ] || grep -q 'ERROR: \(Leak\|Address\)Sanitizer\|runtime error:' <<<"$out"; then
		bins_failed=$((bins_failed + 1))
		[ "${f:-0}${c:-0}" = 00 ] && failed=$((failed + 1))
		echo "FAIL $(basename "$bin") (exit $rc)"
		echo "$out" | grep -v '^\[----\].*Passed\|^$' | tail -40
	else
		echo "ok   $(basename "$bin"): ${p:-0} passed"
	fi
done
echo "unit: $passed passed, $failed failed"
[ $bins_failed -eq 0 ]
