#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# validate_bench.sh - what payload validation costs the broker, per encoding and payload
# size (issue 16; part of `make bench`, docs/bench.md).
#
# Brokers, all pinned to one core (taskset), ten identities, the same configuration as
# tests/bench/run.sh's:
#   plugin    our plugin with plugin_opt_validate off (the baseline: access control only);
#   validate  the same with plugin_opt_validate on: every publish checked
#             (gf_payload_check -> gf_check_message);
#   before    optional, only if BENCH_PLUGIN_BEFORE names another build of the plugin (for
#             example the last commit before a change, built in a temp dir): validation on
#             with that plugin, so that before and after are measured in the same run.
# Workload (build/tests/bench/load run -w offer): ten FOA connections publish to the FMAN
# pool, QoS 0 (window by deliveries), a FlexOffer in the GOFLEX FlexOffer Manager's form
# (17-digit numbers, ".000+0000" times, nulls, a default schedule) of 1, 24 and 250 slices
# (about 1 kB, 7 kB and 64 kB of JSON), in JSON, protobuf and msgpack (the codec's encodings
# of the same offer). Every message is accounted for (load fails on any missing, duplicated
# or refused one); every payload is checked with gfctl validate first.
#
# Measurement as run.sh: one load process per (encoding, size) alternates bursts between the
# brokers, the order rotated each round, and reads each broker's utime+stime around its
# burst. Reported: the median over rounds of broker CPU per message, and the median of the
# round-by-round ratios validate/plugin (and before/plugin; adjacent bursts) with their
# interquartile range: the noise. Nothing is asserted; exit 1 only if something failed.
#
# Environment: BENCH_QUICK=1 (2 rounds, fewer messages), BENCH_ROUNDS (default 7),
# BENCH_ENCODINGS (default "json protobuf msgpack"), BENCH_SLICES (default "1 24 250"),
# BENCH_MSGS_SCALE (messages per burst multiplier, default 1), BENCH_PLUGIN_BEFORE,
# BENCH_BROKER_CPU / BENCH_LOAD_CPU (0 and 1), BENCH_KEEP=1 (keep the temp dir).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LOAD=$BUILD/tests/bench/load
GFCTL=$BUILD/bin/gfctl
PLUGIN=$BUILD/lib/goflex_privacy.so
EXCHANGE=$ROOT/schemas/exchange.tsv
SITE=site1
PASSWORD=bench-secret
BEFORE=${BENCH_PLUGIN_BEFORE:-}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	ROUNDS=${BENCH_ROUNDS:-2}
	SCALE=${BENCH_MSGS_SCALE:-0.3}
else
	ROUNDS=${BENCH_ROUNDS:-7}
	SCALE=${BENCH_MSGS_SCALE:-1}
fi
read -r -a ENCODINGS <<<"${BENCH_ENCODINGS:-json protobuf msgpack}"
read -r -a SLICES <<<"${BENCH_SLICES:-1 24 250}"
BROKER_CPU=${BENCH_BROKER_CPU:-0}
LOAD_CPU=${BENCH_LOAD_CPU:-1}
CLK_TCK=$(getconf CLK_TCK)

die() {
	echo "validate_bench: $*" >&2
	exit 1
}

for tool in mosquitto mosquitto_passwd taskset awk getconf; do
	command -v $tool >/dev/null || die "$tool not found (make deps)"
done
[ -x "$LOAD" ] || die "$LOAD not built (make)"
[ -f "$PLUGIN" ] || die "$PLUGIN not built (make)"
[ -z "$BEFORE" ] || [ -f "$BEFORE" ] || die "BENCH_PLUGIN_BEFORE: $BEFORE not found"
if [ "$(nproc)" -lt 2 ]; then
	echo "validate_bench: warning: one CPU only; broker and load generator share it" >&2
	BROKER_CPU=0 LOAD_CPU=0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gf-vbench.XXXXXX")
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
		echo "validate_bench: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$LOAD" ids 10 | awk -v pw="$PASSWORD" '{ print $0 ":" pw }' >"$TMP/passwd"
mosquitto_passwd -U "$TMP/passwd"

declare -A PORT BPID
VARIANTS=(plugin validate)
[ -z "$BEFORE" ] || VARIANTS+=(before)
for v in "${VARIANTS[@]}"; do
	PORT[$v]=$("$LOAD" port)
	so=$PLUGIN validate=on
	[ "$v" != before ] || so=$BEFORE
	[ "$v" != plugin ] || validate=off
	cat >"$TMP/$v.conf" <<CONF
listener ${PORT[$v]} 127.0.0.1
user root
allow_anonymous false
per_listener_settings false
persistence false
max_queued_messages 0
max_inflight_messages 64
set_tcp_nodelay true
log_dest file $TMP/$v.log
password_file $TMP/passwd
plugin $so
plugin_opt_site $SITE
plugin_opt_exchange $EXCHANGE
plugin_opt_stats_interval 0
plugin_opt_validate $validate
CONF
	taskset -c "$BROKER_CPU" mosquitto -c "$TMP/$v.conf" 2>"$TMP/$v.stderr" &
	BPID[$v]=$!
	PIDS+=("${BPID[$v]}")
	"$LOAD" wait -p "${PORT[$v]}" -P "$PASSWORD" -t 60 ||
		die "$v: broker did not start: $(tail -n 5 "$TMP/$v.stderr" "$TMP/$v.log")"
done

# Messages per publisher per burst: about 0.3-1 s of broker CPU with validation.
msgs_of() {
	local n
	case $1 in
	1) n=3000 ;;
	24) n=1200 ;;
	*) n=150 ;;
	esac
	awk -v n="$n" -v s="$SCALE" 'BEGIN { m = int(n * s); print m < 20 ? 20 : m }'
}

RESULTS=$TMP/results.txt
: >"$RESULTS"
echo "validate_bench: brokers on CPU $BROKER_CPU, load on CPU $LOAD_CPU; $ROUNDS rounds;" \
	"variants ${VARIANTS[*]}${BEFORE:+ (before: $BEFORE)}"
for enc in "${ENCODINGS[@]}"; do
	for s in "${SLICES[@]}"; do
		"$LOAD" payload offer -e "$enc" -s "$s" >"$TMP/offer" || die "load payload offer -e $enc -s $s"
		if [ -x "$GFCTL" ]; then
			got=$("$GFCTL" validate flexoffer "$TMP/offer" --as "$enc" 2>&1) || true
			[ "$got" = valid ] || die "the $enc offer of $s slices: $got"
		fi
		targets=()
		for v in "${VARIANTS[@]}"; do
			targets+=("$v=${PORT[$v]}:${BPID[$v]}")
		done
		out=$(taskset -c "$LOAD_CPU" "$LOAD" run -P "$PASSWORD" -w offer -q 0 -e "$enc" -s "$s" \
			-n "$(msgs_of "$s")" -r "$ROUNDS" -u 1 -W 16 "${targets[@]}" 2>"$TMP/load.err") || {
			cat "$TMP/load.err" >&2
			die "offer $enc $s failed"
		}
		grep '^RESULT ' <<<"$out" | sed "s/^RESULT /RESULT slices=$s /" >>"$RESULTS"
		for v in "${VARIANTS[@]}"; do
			kill -0 "${BPID[$v]}" 2>/dev/null || die "$v: broker died"
		done
		echo "validate_bench: $enc, $s slices ($(wc -c <"$TMP/offer") bytes): done"
	done
done

awk -v clk="$CLK_TCK" -v rounds="$ROUNDS" -v before="${BEFORE:+1}" '
function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
}
function quantile(a, n, q,    x, i) {
	if (n == 0)
		return 0
	x = 1 + (n - 1) * q
	i = int(x)
	return i >= n ? a[n] : a[i] + (x - i) * (a[i + 1] - a[i])
}
function med(s,    a, n) { n = split(s, a, " "); sort(a, n); return quantile(a, n, 0.5) }
function q(s, p,    a, n) { n = split(s, a, " "); sort(a, n); return quantile(a, n, p) }
{
	for (i = 2; i <= NF; i++) {
		split($i, kv, "=")
		f[kv[1]] = kv[2]
	}
	k = f["encoding"] SUBSEP f["slices"]
	if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
	us = f["cpu_ticks"] * 1e6 / clk / f["published"]
	cpu[k, f["variant"]] = cpu[k, f["variant"]] " " us
	per[k, f["variant"], f["round"]] = us
	bytes[k] = f["payload_bytes"]
}
END {
	printf "\nbroker CPU per message, microseconds (median of %d interleaved rounds); ratios: median\n", rounds
	printf "of the %d round-by-round ratios (adjacent bursts) [interquartile range: the noise]\n", rounds
	printf "%-20s %7s %9s %9s %-22s", "payload", "bytes", "off", "on", "on/off"
	if (before)
		printf " %9s %-22s", "before", "before/off"
	printf "\n"
	for (i = 1; i <= nk; i++) {
		k = order[i]
		split(k, e, SUBSEP)
		sub(/^application\/(x-)?/, "", e[1])
		r1 = ""; r2 = ""
		for (r = 0; r < rounds; r++) {
			if ((k SUBSEP "plugin" SUBSEP r) in per && per[k, "plugin", r] > 0) {
				r1 = r1 " " per[k, "validate", r] / per[k, "plugin", r]
				if (before)
					r2 = r2 " " per[k, "before", r] / per[k, "plugin", r]
			}
		}
		off = med(cpu[k, "plugin"]); on = med(cpu[k, "validate"])
		printf "%-20s %7d %9.1f %9.1f %5.2fx [%.2f-%.2f]      ", e[1] " " e[2] " slices",
		       bytes[k], off, on, med(r1), q(r1, 0.25), q(r1, 0.75)
		if (before) {
			b = med(cpu[k, "before"])
			printf " %9.1f %5.2fx [%.2f-%.2f]", b, med(r2), q(r2, 0.25), q(r2, 0.75)
		}
		printf "\n"
	}
}' "$RESULTS"
