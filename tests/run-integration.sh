#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every tests/integration/*_test.sh and tests/certs/*_test.sh (each
# starts what it needs: a real mosquitto with our plugin on free ports, in
# its own temp dir). Prints each script's result and a total.
#
# Lanes: the scripts that say "# lane: long" in their first 30 lines (whole
# simulated days: mostly waiting on the simulated clock) run one after the
# other in a lane of their own; beside it the rest run LANES - 1 at a time,
# each taking the next script when it is done. Most scripts wait on clocks,
# brokers and agents rather than compute, so the stage takes about as long
# as its longest lane instead of the sum. Every script still has its own
# broker, ports and temp dir. LANES=1 runs everything one after the other.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-build}
LANES=${LANES:-3}
scripts=() long=()
for t in "$top"/tests/certs/*_test.sh "$top"/tests/integration/*_test.sh; do
	[ -e "$t" ] || continue
	if [ "$LANES" -gt 1 ] && head -30 "$t" | grep -q '^# lane: long'; then
		long+=("$t")
	else
		scripts+=("$t")
	fi
done
total=$((${#scripts[@]} + ${#long[@]}))
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# run_one N SCRIPT: prints its progress and result, and leaves
# "passed failed script_failed" in $results/N.
run_one() {
	local n=$1 t=$2 name out rc last p f sf=0 start
	name=${t#"$top"/tests/}
	start=$(date +%s)
	echo "[$n/$total] $name ..."
	out=$(bash "$t" 2>&1)
	rc=$?
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
	p=$(sed -n 's/^\([0-9]*\) passed.*/\1/p' <<<"$last")
	f=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$last")
	if [ $rc -ne 0 ] || [ -z "$last" ]; then
		sf=1
		[ "${f:-0}" = 0 ] && f=$((${f:-0} + 1))
		# one write, so that the other lane's lines do not land inside it
		printf '%s\n' "FAIL $name (exit $rc, $(($(date +%s) - start)) s)" \
			"$(grep -v '^ok ' <<<"$out" | tail -40)"
	else
		echo "ok   $name: $last ($(($(date +%s) - start)) s)"
	fi
	echo "${p:-0} ${f:-0} $sf" >"$results/$n"
}

i=0
lane_pid=
# The other scripts, LANES - 1 at a time (at least one).
short_jobs=$((LANES > 2 ? LANES - 1 : 1))
if [ ${#long[@]} -gt 0 ]; then
	(
		j=${#scripts[@]}
		for t in "${long[@]}"; do
			j=$((j + 1))
			run_one "$j" "$t"
		done
	) &
	lane_pid=$!
	echo "(${#scripts[@]} scripts $short_jobs at a time; beside them, one after the other, the ${#long[@]} long ones: $(for t in "${long[@]}"; do
		printf '%s ' "${t##*/}"
	done))"
fi
(
	running=0
	for t in "${scripts[@]}"; do
		i=$((i + 1))
		if [ "$running" -ge "$short_jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		run_one "$i" "$t" &
		running=$((running + 1))
	done
	wait
)
[ -n "$lane_pid" ] && wait "$lane_pid"

passed=0 failed=0 scripts_failed=0
for n in $(seq 1 "$total"); do
	if [ -r "$results/$n" ]; then
		read -r p f sf <"$results/$n"
	else
		p=0 f=1 sf=1 # the lane died before it could say
	fi
	passed=$((passed + p)) failed=$((failed + f)) scripts_failed=$((scripts_failed + sf))
done
echo "integration: $passed passed, $failed failed"
[ $scripts_failed -eq 0 ]
