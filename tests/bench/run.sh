#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh - broker CPU per message with no plugin, our plugin (payload validation off and
# on) and Mosquitto's dynamic-security plugin expressing the same policy (`make bench`);
# then the codec's own figures (build/tests/bench/codec_bench).
#
# Brokers: one per variant and number of registered identities (10 and 10,000), all pinned
# to one core (taskset):
#   none      password_file only; every authenticated client may do anything;
#   plugin    password_file + build/lib/goflex_privacy.so with schemas/exchange.tsv and
#             plugin_opt_validate off: the cost of access control alone (issue 2);
#   validate  the same with plugin_opt_validate on: every publish also decoded and
#             validated against its message type's schema (issue 3);
#   dynsec    mosquitto_dynamic_security.so with a JSON configuration generated from the same
#             catalogue and the same password hashes (tests/bench/dynsec.awk).
# Where there are more than the ten identities the workloads use, some of the extra ones stay
# connected (idle, each subscribed to its own address) throughout. A probe (load probe) first
# checks that the plugin, validate and dynsec brokers enforce the policy alike on a table of
# allowed and forbidden flows, that only validate refuses an invalid FlexOffer on an allowed
# flow, and that the unprotected broker enforces nothing (so the probe can fail).
#
# Payloads are valid catalogue messages, the same bytes for every broker (checked with
# gfctl validate first, where gfctl is built): point-to-point (foa -> fman pool) and fan-in
# (50 FOA connections -> the FMAN pool via $share) publish a FlexOffer of 24 slices (about
# 4 kB of canonical JSON), fan-out (sp -> 50 FOA connections) a 24-hour weather forecast.
#
# Measurement: for each workload, one load generator (build/tests/bench/load, pinned to
# another core) connects to every broker, then sends bursts to one broker at a time, the
# brokers' order rotated from round to round (after one unmeasured warm-up burst each). It
# reads the broker's utime+stime from /proc/<pid>/stat just before a burst's first publish
# and just after its last delivery and PUBACK, so startup, connecting and subscribing are not
# counted, and it fails if any message is missing, duplicated, stray or refused. Since all
# brokers are measured in the same stretch of time, a machine busy with other work disturbs
# every variant and both identity counts alike.
#
# The table gives the median over rounds of broker CPU per published message, and the ratio
# of each variant's median to no plugin's with the same identities, and of validate's to
# plugin's (what validation adds); "[a-b]" is the interquartile range of that ratio taken
# round by round (adjacent bursts), a measure of the noise. Exit status: non-zero only if
# something failed (a probe, a lost message, a payload gfctl finds invalid); the figures are
# reported, never asserted.
#
# Environment:
#   BENCH_QUICK=1          a ~30 s smoke run (fewer rounds and messages; noisy figures)
#   BENCH_ROUNDS           measured rounds (default 7; quick 2)
#   BENCH_IDS              identity counts (default "10 10000")
#   BENCH_IDLE             idle connections where there are extra identities (default 300)
#   BENCH_VARIANTS         default "none plugin validate dynsec"; the first is the baseline
#   BENCH_WORKLOADS        default "p2p fanout fanin"
#   BENCH_MSGS_P2P, BENCH_MSGS_FANOUT, BENCH_MSGS_FANIN  messages per publisher per burst
#   BENCH_WINDOW           unacknowledged QoS 1 messages per publisher (default 16)
#   BENCH_BROKER_CPU, BENCH_LOAD_CPU   cores (default 0 and 1)
#   BENCH_KEEP=1           keep the temporary directory (configs, logs, raw results)
#   BENCH_CODEC_ITERS      codec_bench iterations per measurement (default 4000; quick 300;
#                          0 skips it)
#   DYNSEC_PLUGIN          path of mosquitto_dynamic_security.so
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LOAD=$BUILD/tests/bench/load
CODEC_BENCH=$BUILD/tests/bench/codec_bench
GFCTL=$BUILD/bin/gfctl
PLUGIN=$BUILD/lib/goflex_privacy.so
EXCHANGE=$ROOT/schemas/exchange.tsv
DYNSEC_AWK=$ROOT/tests/bench/dynsec.awk
DYNSEC_PLUGIN=${DYNSEC_PLUGIN:-/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so}
SITE=site1
PASSWORD=bench-secret

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-2}
	IDLE=${BENCH_IDLE:-50}
	MSGS_P2P=${BENCH_MSGS_P2P:-8000}
	MSGS_FANOUT=${BENCH_MSGS_FANOUT:-400}
	MSGS_FANIN=${BENCH_MSGS_FANIN:-200}
else
	ROUNDS=${BENCH_ROUNDS:-7}
	IDLE=${BENCH_IDLE:-300}
	MSGS_P2P=${BENCH_MSGS_P2P:-25000}
	MSGS_FANOUT=${BENCH_MSGS_FANOUT:-1500}
	MSGS_FANIN=${BENCH_MSGS_FANIN:-600}
fi
read -r -a IDS <<<"${BENCH_IDS:-10 10000}"
read -r -a VARIANTS <<<"${BENCH_VARIANTS:-none plugin validate dynsec}"
read -r -a WORKLOADS <<<"${BENCH_WORKLOADS:-p2p fanout fanin}"
WINDOW=${BENCH_WINDOW:-16}
BROKER_CPU=${BENCH_BROKER_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
CLK_TCK=$(getconf CLK_TCK)

die() {
	echo "bench: $*" >&2
	exit 1
}

for tool in mosquitto mosquitto_passwd taskset awk getconf; do
	command -v $tool >/dev/null || die "$tool not found (make deps)"
done
[ -x "$LOAD" ] || die "$LOAD not built (make)"
[ -f "$PLUGIN" ] || die "$PLUGIN not built (make)"
for v in "${VARIANTS[@]}"; do
	case $v in
	none | plugin | validate) ;;
	dynsec) [ -f "$DYNSEC_PLUGIN" ] || die "$DYNSEC_PLUGIN not found (package mosquitto)" ;;
	*) die "unknown variant $v" ;;
	esac
done
for w in "${WORKLOADS[@]}"; do
	case $w in
	p2p | fanout | fanin) ;;
	*) die "unknown workload $w" ;;
	esac
done
if [ "$(nproc)" -lt 2 ]; then
	echo "bench: warning: one CPU only; broker and load generator share it" >&2
	BROKER_CPU=0 LOAD_CPU=0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gf-bench.XXXXXX")
PIDS=() # every process this script started, stopped by cleanup and by nothing else
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- brokers ----------------------------------------------------------------------

# The password file and the dynsec JSON for n identities, in $dir.
make_identities() {
	local dir=$1 n=$2
	"$LOAD" ids "$n" | awk -v pw="$PASSWORD" '{ print $0 ":" pw }' >"$dir/passwd"
	mosquitto_passwd -U "$dir/passwd"
	awk -v site="$SITE" -f "$DYNSEC_AWK" "$EXCHANGE" "$dir/passwd" >"$dir/dynsec.json"
}

# The configuration of variant v listening on port, in $dir/$v.conf.
make_conf() {
	local dir=$1 v=$2 port=$3
	{
		echo "listener $port 127.0.0.1"
		echo "user root"
		echo "allow_anonymous false"
		echo "per_listener_settings false"
		echo "persistence false"
		# Never drop a QoS 1 message (the default 1000 would under bursts); the load
		# generator bounds what is outstanding per publisher.
		echo "max_queued_messages 0"
		echo "max_inflight_messages 64"
		echo "set_tcp_nodelay true"
		echo "log_dest file $dir/$v.log"
		case $v in
		none)
			echo "password_file $dir/passwd"
			;;
		plugin | validate)
			echo "password_file $dir/passwd"
			echo "plugin $PLUGIN"
			echo "plugin_opt_site $SITE"
			echo "plugin_opt_exchange $EXCHANGE"
			echo "plugin_opt_stats_interval 0"
			if [ "$v" = validate ]; then
				echo "plugin_opt_validate on"
			else
				echo "plugin_opt_validate off"
			fi
			;;
		dynsec)
			echo "plugin $DYNSEC_PLUGIN"
			echo "plugin_opt_config_file $dir/dynsec.json"
			;;
		esac
	} >"$dir/$v.conf"
}

declare -A PORT BPID DIR # keyed by "<variant>@<identities>"

start_broker() {
	local dir=$1 v=$2 n=$3 key=$2@$3
	DIR[$key]=$dir
	PORT[$key]=$("$LOAD" port)
	make_conf "$dir" "$v" "${PORT[$key]}"
	taskset -c "$BROKER_CPU" mosquitto -c "$dir/$v.conf" 2>"$dir/$v.stderr" &
	BPID[$key]=$!
	PIDS+=("${BPID[$key]}")
	if ! "$LOAD" wait -p "${PORT[$key]}" -P "$PASSWORD" -t 60; then
		tail -n 20 "$dir/$v.stderr" "$dir/$v.log" >&2 || true
		die "$key: broker did not start"
	fi
}

# Connects count idle identities (index 10 on) to broker key; waits until all are subscribed.
start_idle() {
	local key=$1 count=$2 out=${DIR[$1]}/idle-${1%@*}.out pid
	taskset -c "$LOAD_CPU" "$LOAD" idle -p "${PORT[$key]}" -P "$PASSWORD" -c "$count" \
		>"$out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 600); do
		grep -qs '^ready' "$out" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$out" >&2
	die "$key: $count idle clients did not connect"
}

# The plugin (validating or not) and dynsec must enforce the same policy, and only validate
# refuse the invalid payload; the unprotected broker must enforce nothing.
probe() {
	local key=$1 v=${1%@*} out=${DIR[$1]}/probe-${1%@*}.txt rc=0
	"$LOAD" probe -p "${PORT[$key]}" -P "$PASSWORD" -V "$v" >"$out" 2>&1 || rc=$?
	case $v:$rc in
	none:1) echo "bench: probe $key: $(tail -n 1 "$out" | sed 's/^probe: //') (allow-all, as expected)" ;;
	none:0) die "probe $key: the unprotected broker enforces the policy, so the probe cannot fail" ;;
	*:0) echo "bench: probe $key: $(tail -n 1 "$out" | sed 's/^probe: //')" ;;
	*)
		cat "$out" >&2
		die "probe $key: the policy is not enforced as the catalogue says"
		;;
	esac
}

# The payloads must be what they claim: the workloads' and the probe's valid messages valid,
# the probe's invalid FlexOffer invalid (gfctl validate makes the broker's checks).
check_payloads() {
	local what msg want got
	if [ ! -x "$GFCTL" ]; then
		echo "bench: $GFCTL not built; payloads not checked"
		return 0
	fi
	for what in p2p:flexoffer fanout:weather.forecast fanin:flexoffer invalid:flexoffer \
		flexoffer.assign:flexoffer.assign meter.data:meter.data kpi:kpi foa.reply:foa.reply; do
		msg=${what#*:} want=valid
		[ "${what%%:*}" != invalid ] || want=invalid
		"$LOAD" payload "${what%%:*}" >"$TMP/payload.json" || die "load payload ${what%%:*} failed"
		got=$("$GFCTL" validate "$msg" "$TMP/payload.json" 2>&1) || true
		case $got in
		"$want" | "$want:"*) ;;
		*) die "payload ${what%%:*} ($msg, $(wc -c <"$TMP/payload.json") bytes): $got" ;;
		esac
	done
	echo "bench: payloads checked with gfctl validate: FlexOffer $(($("$LOAD" payload p2p | wc -c) - 1))" \
		"bytes, weather.forecast $(($("$LOAD" payload fanout | wc -c) - 1)) bytes, the probe's invalid" \
		"FlexOffer invalid"
}

# --- measurement ------------------------------------------------------------------

msgs_of() {
	case $1 in
	p2p) echo "$MSGS_P2P" ;;
	fanout) echo "$MSGS_FANOUT" ;;
	fanin) echo "$MSGS_FANIN" ;;
	esac
}

RESULTS=$TMP/results.txt
: >"$RESULTS"

# Every round of workload w against every broker, in one load process that keeps its
# connections and alternates bursts between the brokers; appends
# "identities workload variant round ticks published payload_bytes" per burst to $RESULTS.
measure() {
	local w=$1 targets=() key out line kv variant round ticks published bytes
	for key in "${KEYS[@]}"; do
		targets+=("$key=${PORT[$key]}:${BPID[$key]}")
	done
	if ! out=$(taskset -c "$LOAD_CPU" "$LOAD" run -P "$PASSWORD" -w "$w" -n "$(msgs_of "$w")" \
		-r "$ROUNDS" -u 1 -W "$WINDOW" "${targets[@]}" 2>"$TMP/load-$w.err"); then
		cat "$TMP/load-$w.err" >&2
		for key in "${KEYS[@]}"; do
			echo "--- $key: ${DIR[$key]}/${key%@*}.log" >&2
			tail -n 5 "${DIR[$key]}/${key%@*}.log" >&2 || true
		done
		die "$w failed"
	fi
	while read -r line; do
		variant='' round='' ticks='' published='' bytes=
		for kv in $line; do
			case $kv in
			variant=*) variant=${kv#*=} ;;
			round=*) round=${kv#*=} ;;
			cpu_ticks=*) ticks=${kv#*=} ;;
			published=*) published=${kv#*=} ;;
			payload_bytes=*) bytes=${kv#*=} ;;
			esac
		done
		if [ -z "$variant" ] || [ -z "$round" ] || [ -z "$ticks" ] || [ -z "$published" ] ||
			[ -z "$bytes" ]; then
			die "unexpected load output: $line"
		fi
		echo "${variant#*@} $w ${variant%@*} $round $ticks $published $bytes" >>"$RESULTS"
	done < <(grep '^RESULT ' <<<"$out")
	for key in "${KEYS[@]}"; do
		kill -0 "${BPID[$key]}" 2>/dev/null || die "$key: broker died"
	done
}

echo "bench: broker CPU per message; brokers on CPU $BROKER_CPU, load generator on CPU" \
	"$LOAD_CPU; $ROUNDS rounds; $(mosquitto -h 2>/dev/null | head -n 1)"
t0=$SECONDS
check_payloads
KEYS=()
for n in "${IDS[@]}"; do
	[ "$n" -ge 10 ] 2>/dev/null || die "BENCH_IDS: $n: the workloads need at least 10 identities"
	dir=$TMP/ids-$n
	mkdir -p "$dir"
	make_identities "$dir" "$n"
	idle=$((n - 10 < IDLE ? n - 10 : IDLE))
	for v in "${VARIANTS[@]}"; do
		start_broker "$dir" "$v" "$n"
		KEYS+=("$v@$n")
		[ "$idle" -le 0 ] || start_idle "$v@$n" "$idle"
	done
	echo "bench: $n identities registered, $idle of them connected idle ($((SECONDS - t0)) s)"
done
for key in "${KEYS[@]}"; do
	probe "$key"
done
for w in "${WORKLOADS[@]}"; do
	measure "$w"
	echo "bench: $w: $ROUNDS rounds over ${#KEYS[@]} brokers done ($((SECONDS - t0)) s)"
done

# --- report -----------------------------------------------------------------------

[ "${BENCH_QUICK:-0}" != 1 ] ||
	echo "bench: BENCH_QUICK: a smoke run; too few clock ticks per burst for the ratios to mean much"
awk -v clk="$CLK_TCK" -v variants="${VARIANTS[*]}" -v workloads="${WORKLOADS[*]}" \
	-v ids="${IDS[*]}" -v rounds="$ROUNDS" '
function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
# The q-quantile of a sorted array of n values (q = 0.5: the median), interpolated.
function quantile(a, n, q,    x, i) {
	if (n == 0)
		return 0
	x = 1 + (n - 1) * q
	i = int(x)
	return i >= n ? a[n] : a[i] + (x - i) * (a[i + 1] - a[i])
}
function median_of(key,    a, n) {
	n = split(vals[key], a, " ")
	sort(a, n)
	return quantile(a, n, 0.5)
}
function label(w) {
	return w == "p2p" ? "point-to-point" : w == "fanout" ? "fan-out to 50" : \
	       w == "fanin" ? "fan-in from 50" : w
}
function idl(n) {
	return n >= 1000 && n % 1000 == 0 ? (n / 1000) "k" : n
}
{
	us = $5 * 1e6 / clk / $6
	vals[$1 SUBSEP $2 SUBSEP $3] = vals[$1 SUBSEP $2 SUBSEP $3] " " us
	per[$1 SUBSEP $2 SUBSEP $3 SUBSEP $4] = us
	bytes[$2] = $7
}
END {
	nv = split(variants, V, " ")
	nw = split(workloads, W, " ")
	ni = split(ids, I, " ")
	# The ratios: every variant against the baseline, and validate against plugin.
	nr = 0
	for (v = 2; v <= nv; v++) {
		RN[++nr] = v; RD[nr] = 1
		if (V[v] == "plugin")
			iplugin = v
		if (V[v] == "validate")
			ivalidate = v
	}
	if (iplugin && ivalidate) {
		RN[++nr] = ivalidate; RD[nr] = iplugin
		rvp = nr
	}
	printf "\nbroker CPU per published message, microseconds (median of %d interleaved rounds)\n", rounds
	printf "%-16s %4s", "workload", "ids"
	for (v = 1; v <= nv; v++)
		printf " %8s", V[v]
	for (r = 1; r <= nr; r++)
		printf (r < nr ? "   %-18s" : "   %s"), V[RN[r]] "/" V[RD[r]]
	printf "\n"
	for (w = 1; w <= nw; w++)
		for (i = 1; i <= ni; i++) {
			printf "%-16s %4s", label(W[w]), idl(I[i])
			for (v = 1; v <= nv; v++) {
				m[v] = median_of(I[i] SUBSEP W[w] SUBSEP V[v])
				printf " %8.2f", m[v]
			}
			for (r = 1; r <= nr; r++) {
				n = 0
				for (k = 0; k < rounds; k++) {
					b = per[I[i] SUBSEP W[w] SUBSEP V[RD[r]] SUBSEP k]
					if (b > 0)
						q[++n] = per[I[i] SUBSEP W[w] SUBSEP V[RN[r]] SUBSEP k] / b
				}
				sort(q, n)
				ratio[W[w] SUBSEP I[i] SUBSEP r] = m[RD[r]] > 0 ? m[RN[r]] / m[RD[r]] : 0
				printf "   %5.2fx [%.2f-%.2f]", ratio[W[w] SUBSEP I[i] SUBSEP r], \
				       quantile(q, n, 0.25), quantile(q, n, 0.75)
			}
			printf "\n"
		}
	printf "(ratios: of the medians; [a-b]: interquartile range of the ratio round by round. " \
	       "Fan-out: one publish delivered to 50 subscribers counts as one message.\n"
	printf " Payloads, JSON:"
	for (w = 1; w <= nw; w++)
		printf "%s %s %s bytes", (w > 1 ? "," : ""), label(W[w]), bytes[W[w]]
	printf "; FlexOffers of 24 slices but for fan-out, a 24-hour weather forecast)\n\n"
	for (w = 1; w <= nw; w++)
		for (i = 1; i <= ni; i++) {
			printf "%s %s ids:", label(W[w]), idl(I[i])
			for (r = 1; r <= nr; r++)
				if (r != rvp)
					printf "%s %s/%s = %.2fx", (r > 1 ? "," : ""), V[RN[r]], \
					       V[RD[r]], ratio[W[w] SUBSEP I[i] SUBSEP r]
			printf "\n"
		}
	if (rvp)
		for (w = 1; w <= nw; w++)
			for (i = 1; i <= ni; i++)
				printf "%s %s ids: validate/plugin = %.2fx (validation cost, %s)\n", \
				       label(W[w]), idl(I[i]), ratio[W[w] SUBSEP I[i] SUBSEP rvp], \
				       W[w] == "fanout" ? "weather forecast" : "FlexOffer of 24 slices"
	if (ni > 1)
		for (r = 1; r <= nr; r++) {
			printf "%s/%s from %s to %s ids:", V[RN[r]], V[RD[r]], idl(I[1]), idl(I[ni])
			for (w = 1; w <= nw; w++)
				printf "%s %s %.2fx -> %.2fx", (w > 1 ? "," : ""), label(W[w]), \
				       ratio[W[w] SUBSEP I[1] SUBSEP r], ratio[W[w] SUBSEP I[ni] SUBSEP r]
			printf "\n"
		}
	printf "goal (SPEC 9): plugin/none within 1.05x, and flat from 10 to 10k identities\n"
	if (rvp)
		printf "goal (issue 3): validate/plugin at most 1.15x for FlexOffers of 24 slices " \
		       "(point-to-point, fan-in)\n"
}' "$RESULTS"
echo "bench: brokers done in $((SECONDS - t0)) s"

# --- the codec ----------------------------------------------------------------------

# The brokers are stopped first: codec_bench gets the brokers' core to itself.
CODEC_ITERS=${BENCH_CODEC_ITERS:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 300 || echo 4000)}
if [ "$CODEC_ITERS" -gt 0 ]; then
	[ -x "$CODEC_BENCH" ] || die "$CODEC_BENCH not built (make)"
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
	echo
	taskset -c "$BROKER_CPU" "$CODEC_BENCH" "$CODEC_ITERS" || die "codec_bench failed"
fi
echo "bench: done in $((SECONDS - t0)) s"
