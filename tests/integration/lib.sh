# SPDX-License-Identifier: MIT
# Shared helpers of the integration tests: a site in a temp dir, a real
# mosquitto with our plugin on free ports, a TAP-like tally.
# shellcheck shell=bash

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
PROBE=$BUILD/tests/tools/gf-probe
CERTS=$top/certs/gf-certs
PASSWORD=pw-$$

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# PRODUCER | in_input GREP-ARGS...: whether a line matches, reading all of the
# input. `grep -q` stops at the first match, and under pipefail the
# producer's SIGPIPE then fails the pipe when its output is long enough.
in_input() { grep "$@" >/dev/null; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# A port nobody listens on (the kernel's ephemeral range is avoided).
# A port below the kernel's ephemeral range: one that a client connection
# holds as its local port cannot be bound by a listener, and the probe
# below does not see it (seen with the bench's 20,000 connections).
free_port() {
	local p low
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	case $low in '' | *[!0-9]*) low=32768 ;; esac
	[ "$low" -gt 11000 ] || low=32768
	while :; do
		p=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

# site_new DIR SITE: PKI with a broker certificate, empty password file.
site_new() {
	local dir=$1 site=$2
	mkdir -p "$dir"
	"$CERTS" init -d "$dir/pki" --site "$site" >/dev/null
	"$CERTS" broker -d "$dir/pki" --name localhost >/dev/null
	(umask 077 && : >"$dir/passwd")
}

# add_password DIR ROLE.ID...: password identities (all with $PASSWORD).
add_password() {
	local dir=$1; shift
	for u in "$@"; do mosquitto_passwd -b "$dir/passwd" "$u" "$PASSWORD"; done
}

# add_cert DIR ROLE ID: a client certificate of the site CA.
add_cert() {
	"$CERTS" client -d "$1/pki" --role "$2" --id "$3" >/dev/null
}

# Under `make check` the plugin is built with ASan/UBSan: the broker runs with
# the ASan runtime preloaded, reports go to DIR/asan.*, and broker_stop fails
# the test if any report appears.
if [ -n "${SAN:-}" ]; then
	# The plugin is preloaded too, so that it stays mapped after mosquitto
	# unloads it at exit and leak reports can name its frames.
	GF_MOSQUITTO="env LD_PRELOAD=$(gcc -print-file-name=libasan.so):$BUILD/lib/goflex_privacy.so mosquitto"
	export GF_MOSQUITTO
fi

# With VALGRIND=1 (make check runs the reload tests so) the broker runs under
# valgrind's memcheck, each process logging to DIR/valgrind.<pid>, and
# broker_stop fails the test on any invalid read, write or free: the plugin
# must never make mosquitto touch freed memory, which mosquitto's own code
# (not built with ASan) would otherwise hide.
valgrind_cmd() { # DIR
	echo "valgrind --tool=memcheck --leak-check=no --error-exitcode=99 --log-file=$1/valgrind.%p mosquitto"
}

# broker_start DIR [extra gf-broker options]: sets TLS_PORT, LOCAL_PORT.
# A free port can be taken by another process before mosquitto binds it (the
# suite shares the machine): three tries, each with new ports.
broker_start() {
	local dir=$1 attempt; shift
	[ -n "${VALGRIND:-}" ] && GF_MOSQUITTO=$(valgrind_cmd "$dir") && export GF_MOSQUITTO
	for attempt in 1 2 3; do
		TLS_PORT=$(free_port)
		LOCAL_PORT=$(free_port)
		ASAN_OPTIONS="log_path=$dir/asan:detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1:log_path=$dir/asan" \
			"$top/ops/gf-broker" -d "$dir" --tls-port "$TLS_PORT" --local-port "$LOCAL_PORT" \
			--plugin "$BUILD/lib/goflex_privacy.so" "$@" >/dev/null && return 0
		echo "# the broker did not start (attempt $attempt): $(tail -1 "$dir/mosquitto.log" 2>/dev/null)"
	done
	return 1
}

broker_stop() {
	local dir=$1 pid
	pid=$(cat "$dir/mosquitto.pid" 2>/dev/null) || return 0
	rm -f "$dir/mosquitto.pid"
	if kill "$pid" 2>/dev/null; then
		for _ in $(seq 1 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$pid" 2>/dev/null || true
	fi
	if compgen -G "$dir/valgrind.*" >/dev/null; then
		if grep -qE 'Invalid (read|write|free)|uninitialised|Mismatched free|overlap' "$dir"/valgrind.*; then
			not_ok "valgrind: the broker with our plugin touched invalid memory"
			grep -hE -A12 'Invalid (read|write|free)|uninitialised' "$dir"/valgrind.* | head -60
		else
			echo "# valgrind: $(grep -h 'ERROR SUMMARY' "$dir"/valgrind.* | tail -1 | sed 's/^==[0-9]*== //')"
		fi
		rm -f "$dir"/valgrind.*
	fi
		# Memory errors anywhere, and leaks with a frame in our plugin, fail;
	# mosquitto 2.0.11 leaks a little of its own, which is not ours to fix.
	if compgen -G "$dir/asan.*" >/dev/null; then
		if grep -qE 'ERROR: AddressSanitizer|runtime error|goflex_privacy|(lib|broker-plugin)/[a-z_]+\.c' "$dir"/asan.*; then
			not_ok "sanitizer reports from the broker with our plugin"
			head -80 "$dir"/asan.*
		else
			echo "# leaks inside mosquitto itself (no frame of our plugin):"
			grep -h 'SUMMARY' "$dir"/asan.* | sed 's/^/#   /'
		fi
	fi
}

# broker_reload DIR: SIGHUP, and returns once the reload is done: the plugin
# logs GF-PLUGIN-RECHECK at the first tick after every reload, taken or
# refused (a fixed sleep was too short on a loaded machine). False, with a
# note, if no new line comes within 10 s.
rechecks() { grep -c GF-PLUGIN-RECHECK "$1/mosquitto.log" 2>/dev/null; }
more_rechecks() { [ "$(rechecks "$1")" -gt "$2" ]; }
broker_reload() {
	local before
	before=$(rechecks "$1")
	kill -HUP "$(cat "$1/mosquitto.pid")"
	wait_for 10 more_rechecks "$1" "${before:-0}" && return 0
	echo "# broker_reload: no GF-PLUGIN-RECHECK within 10 s"
	return 1
}

# probe_pw USER [CLIENTID] -- ACTIONS: gf-probe over the password listener.
probe_pw() {
	local user=$1 cid=$2; shift 2
	"$PROBE" -p "$LOCAL_PORT" -u "$user" -P "$PASSWORD" -i "$cid" "$@"
}

# probe_tls DIR ROLE ID [CLIENTID] -- ACTIONS: gf-probe with a certificate.
probe_tls() {
	local dir=$1 role=$2 id=$3 cid=$4; shift 4
	"$PROBE" -p "$TLS_PORT" -h localhost --cafile "$dir/pki/ca.crt" \
		--cert "$dir/pki/clients/$role.$id.crt" --key "$dir/pki/clients/$role.$id.key" \
		-i "$cid" "$@"
}

# Valid payloads (the broker validates them), each carrying MARK where the
# tests can find it in what is delivered.
offer_json() {
	printf '{"label":"%s","state":"Offered","offeredById":"7-PRE-001","creationInterval":100,"startAfterInterval":101,"startBeforeInterval":104,"flexOfferProfileConstraints":[{"energyConstraintList":[{"lower":1,"upper":3}],"minDuration":1,"maxDuration":1}]}' "$1"
}
assign_json() {
	printf '{"flexOfferId":"fo-1","flexOfferSchedule":{"startTime":"2020-02-27T20:30:00Z","scheduleSlices":[{"duration":1,"energyAmount":0.5}]},"label":"%s"}' "$1"
}
ack_json() {
	printf '{"flexOfferId":"fo-1","accepted":true,"reason":"%s"}' "$1"
}
forecast_json() {
	printf '{"location":{"gridPointId":"t1"},"startTime":"2020-02-27T20:00:00Z","intervalLength":3600,"source":"%s","temperature":[10.5,11]}' "$1"
}
meter_json() {
	printf '{"readings":[{"observedTimestamp":"2020-02-27T20:15:00Z","deviceId":"%s","value":1.5}]}' "$1"
}

# has OUTPUT LINE: OUTPUT contains LINE as a whole line.
eq() { [ "$1" = "$2" ]; }
has() { grep -qxF -- "$2" <<<"$1"; }
lacks() { ! grep -qF -- "$2" <<<"$1"; }
# logged DIR MSGID TEXT: the broker log has a line with MSGID and TEXT.
logged() { grep -F -- "$2" "$1/mosquitto.log" | in_input -F -- "$3"; }

# site_tmp SITE: a temp dir $tmp with a new site S=$tmp/s (site_new); at
# exit the broker is stopped and $tmp removed (kept with KEEP=1).
site_tmp() {
	tmp=$(mktemp -d)
	S=$tmp/s
	trap 'broker_stop "$tmp/s"; [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
	site_new "$S" "$1"
}

# agent_tmp: for the tests of agents. A temp dir $tmp with the site dir
# S=$tmp/s; the array pids of the processes to kill -9 at exit; at exit the
# broker is stopped and $tmp removed (kept with KEEP=1); the test password
# exported for the agents (GF_PASSWORD) and gfctl (GFCTL_PASSWORD).
agent_tmp() {
	tmp=$(mktemp -d)
	S=$tmp/s
	pids=()
	trap agent_cleanup EXIT
	export GF_PASSWORD=$PASSWORD GFCTL_PASSWORD=$PASSWORD
}
agent_cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	broker_stop "$tmp/s"
	[ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}

# wait_for SECONDS COMMAND...: true once COMMAND succeeds, polled every 0.1 s;
# false after SECONDS.
wait_for() {
	local n=$(($1 * 10)); shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
# subacked FILE N: FILE, the output of a gf-probe run in the background, has
# N SUBACK lines (its subscriptions are made; gf-probe's stdout is line
# buffered). For `wait_for 5 subacked FILE N` before publishing to it.
subacked() {
	local n
	n=$(grep -c '^SUBACK' "$1" 2>/dev/null)
	[ "${n:-0}" -ge "$2" ]
}
# in_log NAME TEXT: $tmp/NAME.log (an agent's log) has TEXT.
in_log() { grep -q -- "$2" "$tmp/$1.log" 2>/dev/null; }
# watch NAME IDENT FILTER: a verbose gfctl sub as IDENT in the background,
# messages into $tmp/NAME.out, its log into $tmp/NAME.err; returns once it
# has subscribed (its pid is in pids, killed at exit).
watch() {
	"$GFCTL" --port "$LOCAL_PORT" --id "$2" -v sub "$3" >"$tmp/$1.out" 2>"$tmp/$1.err" &
	pids+=($!)
	wait_for 5 grep -q GFCTL-SUBSCRIBED "$tmp/$1.err"
}
