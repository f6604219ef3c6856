#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A TRADE_WATCH command for trade_bench.sh (docs/bench.md, "What one
# assignment costs a FOA"): the first gf-foa process of virtual FOAs,
# measured from the bid to the last schedule in numbers that do not depend
# on the machine's load, per virtual FOA of the process (one assignment
# each): its system calls and bytes read and written (/proc/PID/io); run
# under callgrind (TRADE_FOA_WRAP), the instructions it ran instead
# (callgrind's counters zeroed at the start, dumped at the end: valgrind's
# own reads and writes would count as the process's).
#
#   TRADE_WATCH=tests/bench/trade_cost_watch.sh tests/bench/trade_bench.sh 250
#   TRADE_FOA_WRAP="valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p" \
#   TRADE_WATCH=tests/bench/trade_cost_watch.sh tests/bench/trade_bench.sh 250
#
# Usage: trade_cost_watch.sh PID (stopped with SIGINT or SIGTERM).
set -uo pipefail
pid=$1
io() { awk '{sub(":", "", $1); printf "%s=%s ", $1, $2}' "/proc/$pid/io" 2>/dev/null; }
conf=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -A1 -x -- -c | tail -1)
foas=$(awk '$1 == "foas" {print $2}' "$conf" 2>/dev/null)
foas=${foas:-1}
under_callgrind=0
callgrind_control -z "$pid" >/dev/null 2>&1 && under_callgrind=1
before=$(io)
report() {
	local after out ir=""
	after=$(io)
	if [ "$under_callgrind" = 1 ]; then
		callgrind_control -d "$pid" >/dev/null 2>&1
		sleep 1
		# the dump callgrind_control just wrote: the newest of the process
		f=$(ls -t "$(dirname "$(tr '\0' '\n' <"/proc/$pid/cmdline" | grep -o -- '--callgrind-out-file=.*' | cut -d= -f2)")"/*"$pid"* 2>/dev/null | head -1)
		ir=$(awk '/^summary:/ {print $2; exit}' "$f" 2>/dev/null)
	fi
	awk -v b="$before" -v a="$after" -v n="$foas" -v ir="$ir" 'BEGIN {
		split(b, x, " "); for (i in x) { split(x[i], kv, "="); B[kv[1]] = kv[2] }
		split(a, y, " "); for (i in y) { split(y[i], kv, "="); A[kv[1]] = kv[2] }
		printf "per virtual FOA (%d): ", n
		if (ir != "") { printf "%.3f M instructions (under callgrind)\n", ir / n / 1e6; exit }
		printf "%.1f read and %.1f write system calls, %.1f kB read, %.1f kB written\n",
			(A["syscr"] - B["syscr"]) / n, (A["syscw"] - B["syscw"]) / n,
			(A["rchar"] - B["rchar"]) / n / 1024, (A["wchar"] - B["wchar"]) / n / 1024 }'
	exit 0
}
trap report INT TERM
while :; do sleep 0.1; done
