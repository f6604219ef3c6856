#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The trading-latency benchmark (issue 5; docs/bench.md): the real time from
# a DOMS bid's publication to each prosumer's receipt of its schedule, p50,
# p99 and the last, for N prosumers; FOA resident memory and idle CPU.
#
# Per N: the real broker with the plugin (password listener), gf-fman,
# gf-fmar, a DSO gf-foa, gf-foa processes hosting the N virtual FOAs
# (at most FOAS_PER_PROC each: descriptors), gf-sim processes with the N
# prosumers (one home battery each, offered for 22:00-02:00 simulated; at
# most SIM_PER_PROC each), all at time scale 1. Once FMAN has aggregated
# every offer and FMAR holds the aggregates, one bid is published to the DSO
# FOA as gf-doms does; its gate has passed, so FMAR clears it at once. Each
# prosumer's receipt is gf-sim's GF-SIM-SCHEDULE line with its real time.
# Every schedule FMAN sent must arrive, and every prosumer must get one:
# a missing one fails the run.
#
# Usage: tests/bench/trade_bench.sh [N...]   (default: 1000 10000)
# Environment: BUILD, TRADE_TIMEOUT_S (per stage, default 300), TRADE_PERF=FILE
# (perf record -a -g of every process from the bid to the last schedule,
# into FILE.N: perf report -i FILE.N --sort comm,dso), TRADE_WATCH=COMMAND (run
# with the first gf-foa process's pid appended over the same time, stopped
# with SIGINT (SIGTERM 2 s later), its output printed: "strace -c -f -p", "perf stat -p"),
# TRADE_FOA_WRAP=COMMAND (put before the first virtual-FOA gf-foa process,
# "valgrind --tool=callgrind ...": with TRADE_WATCH=tests/bench/trade_cost_watch.sh
# it reports that process's instructions, system calls and bytes per
# assignment, docs/bench.md),
# TRADE_REPEAT=K (each N run K times, default 1: the p99 reported is the
# median of the K runs, each run's printed; the CPU of the chain varies by
# a third between runs of one build at 9,900, docs/bench.md),
# TRADE_FOA_CONF="KEY VALUE..." (more configuration of the virtual-FOA
# processes, e.g. "cache_kib 64").
set -uo pipefail
. "$(dirname "$0")/../integration/lib.sh"
. "$top/tests/bench/trade_lib.sh"

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000 10000)
FOAS_PER_PROC=${FOAS_PER_PROC:-250} # processes of 250 FOAs (both cores busy; docs/bench.md)
SIM_PER_PROC=${SIM_PER_PROC:-250}  # the same for the prosumers
STAGE_S=${TRADE_TIMEOUT_S:-300}
TRADE_SCALE=1
GOAL_P99_S=1
GOAL_RSS_KB=8192
# Resends are for a broker that lost what it acknowledged (docs/trading.md),
# not for load: at 10 s, thousands of offers and schedules still waiting
# for FMAN or their echo would all be sent again every 10 s while the
# burst is worked through, which multiplies it. The bench runs FMAN and the
# virtual FOAs with a period longer than a burst (docs/bench.md).
RESEND_S=${TRADE_RESEND_S:-60}

for b in gf-foa gf-fman gf-fmar gf-sim gfctl; do
	[ -x "$BUILD/bin/$b" ] || { echo "trade_bench: no $BUILD/bin/$b (run make)"; exit 2; }
done
[ -r "$TRADE_PROFILES/Load_profile_1.csv" ] || { echo "trade_bench: no load profiles in $TRADE_PROFILES"; exit 2; }
fd_limit=$(ulimit -Hn)

export GF_PASSWORD=$PASSWORD GFCTL_PASSWORD=$PASSWORD

log() { printf 'trade_bench: %s\n' "$*"; }
# wait_until SECONDS COMMAND...: polls every POLL_S seconds (default 0.2);
# gives up at once when an agent of the run has exited (fail_reason names
# its log's last line).
wait_until() {
	local poll=${POLL_S:-0.2} tries p
	tries=$(echo "$1 / $poll" | bc); shift
	for _ in $(seq 1 "$tries"); do
		"$@" && return 0
		for p in "${pids[@]}"; do
			if ! kill -0 "$p" 2>/dev/null; then
				fail_reason="an agent exited: $(grep -l . "$tmp"/*.log | while read -r f; do tail -1 "$f"; done | grep -m1 -i 'error\|no password' | cut -c1-200)"
				return 1
			fi
		done
		sleep "$poll"
	done
	return 1
}
now() { date +%s.%N; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# private_kb PID: its resident pages that are its own (not shared library code).
private_kb() { awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s + 0}' "/proc/$1/smaps_rollup" 2>/dev/null; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
sys_ticks() { awk '{print $15}' "/proc/$1/stat" 2>/dev/null; }
sum_logs() { # sum_logs PATTERN FILES...: matching lines in all
	local pat=$1; shift
	cat "$@" 2>/dev/null | grep -c -- "$pat"
}

# stop_run: every agent and the broker of the current run.
stop_run() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	pids=()
	broker_stop "$S"
}

# run N SINGLE: one run; sets the result variables. SINGLE=1: the FOA is
# one process per prosumer's identity (foas 0; used with N=1 for the FOA's
# memory and idle CPU).
run() {
	local n=$1 single=$2 nfoa nsim k first cnt i
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/trade_bench.XXXXXX")
	S=$tmp/s
	pids=()
	fail_reason=""
	trade_site "$n"
	# A free port can be taken before mosquitto binds it: three tries.
	for k in 1 2 3; do broker_start "$S" 2>/dev/null && break; done
	[ -e "$S/mosquitto.pid" ] || { fail_reason="the broker did not start (see $S/mosquitto.log)"; return 1; }
	trade_conf fman fman.m1 aggregate_every_s 5 resend_s "$RESEND_S"
	trade_conf fmar fmar.r1 dso_foa dso1 gate_lead_s 7200
	trade_conf dso foa.dso1 mode dso doms_id o1
	trade_start fman gf-fman
	trade_start fmar gf-fmar
	trade_start dso gf-foa
	foa_logs=() sim_logs=() foa_pids=()
	if [ "$single" = 1 ]; then
		trade_conf foa1 foa.sim-0001
		trade_start foa1 gf-foa
		foa_logs+=("$tmp/foa1.log")
		foa_pids+=("$pid_foa1")
	else
		nfoa=$(((n + FOAS_PER_PROC - 1) / FOAS_PER_PROC))
		for k in $(seq 1 "$nfoa"); do
			first=$(((k - 1) * FOAS_PER_PROC + 1))
			cnt=$((n - first + 1 < FOAS_PER_PROC ? n - first + 1 : FOAS_PER_PROC))
			# shellcheck disable=SC2086 # TRADE_FOA_CONF: words, key value pairs
			trade_conf "foa$k" "foa.$(trade_id "$first")" foas "$cnt" first_id "$first" \
				resend_s "$RESEND_S" ${TRADE_FOA_CONF:-}
			trade_start "foa$k" gf-foa
			foa_logs+=("$tmp/foa$k.log")
			eval "foa_pids+=(\$pid_foa$k)"
		done
	fi
	# The prosumers offer once, at their start: their FOAs subscribe first.
	t0=$(now)
	foas_up() { [ "$(sum_logs 'GF-BUS-CONNECTED.*as foa\.sim-' "${foa_logs[@]}")" -ge "$n" ]; }
	wait_until "$STAGE_S" foas_up || { fail_reason=${fail_reason:-"not every FOA connected in $STAGE_S s"}; return 1; }
	foa_start_s=$(echo "$(now) - $t0" | bc)
	nsim=$(((n + SIM_PER_PROC - 1) / SIM_PER_PROC))
	for k in $(seq 1 "$nsim"); do
		first=$(((k - 1) * SIM_PER_PROC + 1))
		cnt=$((n - first + 1 < SIM_PER_PROC ? n - first + 1 : SIM_PER_PROC))
		trade_conf "sim$k" "xems.$(trade_id "$first")" prosumers "$cnt" first_id "$first" \
			persist off profiles_dir "$TRADE_PROFILES" pct_thermal 0 pct_ev 0 pct_white 0 \
			pct_battery 100 battery_from 0 battery_to 96 offer_lead_s 7200 deadline_lead_s 900
		trade_start "sim$k" gf-sim
		sim_logs+=("$tmp/sim$k.log")
	done
	# Every offer accepted by FMAN, aggregated, and the aggregates at FMAR.
	t0=$(now)
	aggregated() {
		[ "$(trade_count fman 'GF-FMAN-ACCEPT offer .*: accepted')" -ge "$n" ] &&
			[ "$(trade_members)" -ge "$n" ] &&
			[ "$(trade_count fmar 'GF-FMAR-OFFER')" -ge "$(grep -c 'GF-FMAN-AGGREGATE ' "$tmp/fman.log")" ]
	}
	wait_until "$STAGE_S" aggregated || {
		fail_reason=${fail_reason:-"offers not all aggregated at FMAR in $STAGE_S s (FMAN accepted $(trade_count fman 'GF-FMAN-ACCEPT offer .*: accepted'), members $(trade_members))"}
		return 1
	}
	offers_s=$(echo "$(now) - $t0" | bc)
	sleep 2 # the acks' traffic settles
	local broker cpu_before=() sys_before=()
	broker=$(cat "$S/mosquitto.pid")
	for k in "$broker" "${pids[@]}"; do
		cpu_before+=("$(ticks "$k")")
		sys_before+=("$(sys_ticks "$k")")
	done
	local perf_pid=
	if [ -n "${TRADE_PERF:-}" ]; then
		perf record -q -a -g -F 999 -o "$TRADE_PERF.$n" >/dev/null 2>&1 &
		perf_pid=$!
		sleep 0.5
	fi
	local watch_pid=
	if [ -n "${TRADE_WATCH:-}" ]; then
		$TRADE_WATCH "${foa_pids[0]}" >"$tmp/watch.out" 2>&1 &
		watch_pid=$!
		sleep 0.5
	fi
	t_bid=$(now)
	trade_bid b1 $((n * 2)) || { fail_reason="the bid was not published"; return 1; }
	# FMAN's member schedules: what must arrive.
	assigned() { grep -q 'GF-FMAN-ASSIGN .* member schedules sent' "$tmp/fman.log"; }
	wait_until "$STAGE_S" assigned || { fail_reason=${fail_reason:-"FMAN assigned nothing in $STAGE_S s: $(grep -h GF-FMAR-CLEARED "$tmp/fmar.log" | cut -c1-200)"}; return 1; }
	expected=$(sed -n 's/.*GF-FMAN-ASSIGN .*: \([0-9]*\) member schedules sent.*/\1/p' "$tmp/fman.log" | awk '{s += $1} END {print s + 0}')
	all_in() { [ "$(sum_logs GF-SIM-SCHEDULE "${sim_logs[@]}")" -ge "$expected" ]; }
	# Every second: the latencies come from the logs, and polling the
	# logs more often took a tenth of the CPU of the burst it measures
	# (the shell's forks, perf -a at 1,000).
	POLL_S=1 wait_until "$STAGE_S" all_in
	if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid"; log "  profile of the burst: perf report -i $TRADE_PERF.$n"; fi
	if [ -n "$watch_pid" ]; then
		# SIGINT (perf, strace); a script run in the background here
		# ignores it (bash), so SIGTERM after 2 s.
		kill -INT "$watch_pid"
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$watch_pid" 2>/dev/null && sleep 0.2; done
		kill -TERM "$watch_pid" 2>/dev/null; wait "$watch_pid"
		log "  $TRADE_WATCH ${foa_logs[0]%.log} over the burst:"
		sed 's/^/    /' "$tmp/watch.out"
	fi
	sleep 1
	# CPU each process spent from the bid to the last schedule.
	cpu_used="" cpu_sys="" i=0
	for k in "$broker" "${pids[@]}"; do
		local name
		name=$(tr '\0' ' ' <"/proc/$k/cmdline" 2>/dev/null | sed -E 's|.*/(gf-[a-z]+) -c .*/([a-z0-9]+)\.conf.*|\2|; s|^mosquitto.*|broker|')
		cpu_used+=" $name:$(( $(ticks "$k") - ${cpu_before[$i]} ))"
		cpu_sys+=" $name:$(( $(sys_ticks "$k") - ${sys_before[$i]} ))"
		i=$((i + 1))
	done
	received=$(sum_logs GF-SIM-SCHEDULE "${sim_logs[@]}")
	prosumers=$(cat "${sim_logs[@]}" | sed -n 's/.*GF-SIM-SCHEDULE \([^ ]*\) .*/\1/p' | sort -u | wc -l)
	cat "${sim_logs[@]}" | sed -n 's/.*GF-SIM-SCHEDULE .*; real time \([0-9.]*\)$/\1/p' |
		awk -v t="$t_bid" '{printf "%.3f\n", $1 - t}' | sort -n >"$tmp/latency.txt"
	pct() { awk -v p="$1" '{v[NR] = $1} END {if (!NR) {print "nan"; exit} i = int(p * NR + 0.999999); if (i < 1) i = 1; print v[i]}' "$tmp/latency.txt"; }
	p50=$(pct 0.50) p99=$(pct 0.99) pmax=$(pct 1.0)
	cleared=$(grep -h GF-FMAR-CLEARED "$tmp/fmar.log" | sed -n 's/.*bid b1 (dso1): \([^;]*\);.*/\1/p' | head -1)
	# The FOA processes' memory, then idle CPU over 10 s.
	foa_rss=0 foa_private=0
	for k in "${foa_pids[@]}"; do
		foa_rss=$((foa_rss + $(rss_kb "$k")))
		foa_private=$((foa_private + $(private_kb "$k")))
	done
	sleep 2
	local t1=0 t2=0
	for k in "${foa_pids[@]}"; do t1=$((t1 + $(ticks "$k"))); done
	sleep 10
	for k in "${foa_pids[@]}"; do t2=$((t2 + $(ticks "$k"))); done
	idle_ticks=$((t2 - t1))
	[ "$received" -eq "$expected" ] || fail_reason="$((expected - received)) of $expected schedules did not arrive"
	[ -n "$fail_reason" ] || [ "$prosumers" -eq "$n" ] || fail_reason="$((n - prosumers)) of $n prosumers got no schedule"
	[ -z "$fail_reason" ]
}

finish_run() {
	stop_run
	if [ -n "${KEEP:-}" ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap 'stop_run 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "${tmp:-/nonexistent}"' EXIT

failed_runs=0
hz=$(getconf CLK_TCK)
declare -A P99
# --- one FOA process, one prosumer: the FOA box's numbers -----------------------------
log "single-identity gf-foa serving one xEMS (memory and idle CPU, after the loop ran)"
if run 1 1; then
	single_rss=$foa_rss single_ticks=$idle_ticks single_private=$foa_private
	log "  schedule after $p50 s; FOA RSS $foa_rss kB ($foa_private kB its own, the rest shared library pages); idle CPU $idle_ticks ticks in 10 s"
else
	log "  FAILED: $fail_reason"
	failed_runs=$((failed_runs + 1))
	single_rss="" single_ticks=""
fi
finish_run

# --- the latency runs -----------------------------------------------------------------
REPEAT=${TRADE_REPEAT:-1}
declare -A P99S
for n in $(for s in "${SIZES[@]}"; do for _ in $(seq 1 "$REPEAT"); do echo "$s"; done; done); do
	# The broker holds a socket for each xEMS and each FOA.
	if [ $((2 * n + 50)) -gt "$fd_limit" ]; then
		m=$(((fd_limit - 50) / 2 / 100 * 100))
		log "N=$n does not fit: the broker needs a descriptor per identity, 2 x $n > ulimit -n $fd_limit; measuring N=$m instead"
		n=$m
	fi
	log "N=$n prosumers, $(((n + FOAS_PER_PROC - 1) / FOAS_PER_PROC)) gf-foa process(es) of virtual FOAs"
	t_run=$(now)
	if run "$n" 0; then
		P99S[$n]="${P99S[$n]:-} $p99"
		P99[$n]=$(tr ' ' '\n' <<<"${P99S[$n]}" | grep . | sort -n |
			awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
		log "  FOAs connected in ${foa_start_s} s; offers accepted and aggregated in ${offers_s} s; clearing: $cleared"
		log "  schedules: $received of $expected received, $prosumers of $n prosumers"
		log "  latency bid -> schedule: p50 $p50 s, p99 $p99 s, last $pmax s"
		log "  CPU ticks (1/$hz s) from the bid to the last schedule:$cpu_used"
		log "  of which in the kernel (system time):$cpu_sys"
		log "  FOA processes: RSS $foa_rss kB ($((foa_rss / n)) kB per virtual FOA); idle CPU $idle_ticks ticks in 10 s"
	else
		log "  FAILED: $fail_reason"
		failed_runs=$((failed_runs + 1))
	fi
	log "  run took $(echo "$(now) - $t_run" | bc | cut -d. -f1) s"
	finish_run
done

# --- ratios -----------------------------------------------------------------------------
echo
echo "trading latency (bid published -> schedule at the prosumer), time scale 1, FMAN and FOA resend_s $RESEND_S, this machine:"
ns=("${!P99[@]}")
IFS=$'\n' ns=($(sort -n <<<"${ns[*]:-}")); unset IFS
for n in "${ns[@]}"; do
	[ -n "$n" ] || continue
	[ "$REPEAT" -gt 1 ] && printf '  N=%-6s p99 of each run:%s s; the median:\n' "$n" "${P99S[$n]}"
	printf '  N=%-6s p99 %6.3f s  p99 / %d s goal = %.2f' "$n" "${P99[$n]}" "$GOAL_P99_S" \
		"$(echo "${P99[$n]} / $GOAL_P99_S" | bc -l)"
	# Issue 16's goals: 0.5 s at 1,000 prosumers, 2 s at 10,000 (9,900 here).
	case $n in
	1000) goal16=0.5 ;;
	9900 | 10000) goal16=2 ;;
	*) goal16= ;;
	esac
	if [ -n "$goal16" ]; then
		printf ';  p99 / %s s (issue 16) = %.2f' "$goal16" "$(echo "${P99[$n]} / $goal16" | bc -l)"
	fi
	echo
done
if [ ${#ns[@]} -ge 2 ] && [ -n "${ns[0]}" ]; then
	lo=${ns[0]} hi=${ns[${#ns[@]} - 1]}
	printf '  p99(%s) / p99(%s) = %.2f\n' "$hi" "$lo" "$(echo "${P99[$hi]} / ${P99[$lo]}" | bc -l)"
fi
if [ -n "$single_rss" ]; then
	printf '  FOA RSS %d kB / %d kB goal = %.2f (its own pages: %d kB)\n' "$single_rss" \
		"$GOAL_RSS_KB" "$(echo "$single_rss / $GOAL_RSS_KB" | bc -l)" "$single_private"
	printf '  FOA idle CPU: %d ticks in 10 s (%.2f %% of one core)\n' "$single_ticks" \
		"$(echo "$single_ticks * 100 / ($hz * 10)" | bc -l)"
fi
echo "trade_bench: $failed_runs failed run(s)"
[ "$failed_runs" -eq 0 ]
