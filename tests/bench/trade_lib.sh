# SPDX-License-Identifier: MIT
# The trading loop on one site, for tests/integration/vfoa_test.sh and
# tests/bench/trade_bench.sh: the real broker with the plugin (password
# listener), gf-fman, gf-fmar, a DSO gf-foa, one gf-foa hosting N virtual
# FOAs foa.sim-<n>, gf-sim with the N prosumers xems.sim-<n>. Every prosumer
# has one home battery, offered for the evening; a bid through the DSO FOA
# after its gate is cleared at once (docs/fmar.md, gate_lead_s).
# Source after tests/integration/lib.sh and agent_tmp.
# shellcheck shell=bash

TRADE_PROFILES=${GF_PROFILES:-$top/../shared/data/ieee-eu-lv/load-profiles}
# Simulated 20:00 at the start; gf-sim's offers start at 22:00
# (offer_lead_s 7200), their assignment deadline is 21:45.
TRADE_EPOCH=2026-06-01T20:00:00Z
TRADE_BID_START=2026-06-01T22:00:00Z
TRADE_SCALE=${TRADE_SCALE:-20}

trade_id() { printf 'sim-%04d' "$1"; }

# trade_site N: the site with every identity's password, written in one go.
trade_site() {
	local n=$1 i
	site_new "$S" site1
	{
		for u in foa.host foa.dso1 fman.m1 fmar.r1 doms.o1 ops.bench; do
			echo "$u:$PASSWORD"
		done
		for i in $(seq 1 "$n"); do
			printf 'foa.sim-%04d:%s\nxems.sim-%04d:%s\n' "$i" "$PASSWORD" "$i" "$PASSWORD"
		done
	} >"$S/passwd"
	mosquitto_passwd -U "$S/passwd"
	TRADE_ORIGIN=$(date +%s)
}

# trade_conf NAME IDENTITY KEY VALUE...: $tmp/NAME.conf, state in $tmp/NAME.state.
trade_conf() {
	local name=$1 ident=$2; shift 2
	mkdir -p "$tmp/$name.state"
	{
		echo "site site1"
		echo "broker_port $LOCAL_PORT"
		echo "identity $ident"
		echo "state_dir $tmp/$name.state"
		echo "time_epoch $TRADE_EPOCH"
		echo "time_origin $TRADE_ORIGIN"
		echo "time_scale $TRADE_SCALE"
		while [ $# -gt 1 ]; do echo "$1 $2"; shift 2; done
	} >"$tmp/$name.conf"
}

# trade_start NAME BINARY: in the background, log appended to $tmp/NAME.log,
# pid in pid_NAME.
trade_start() {
	local wrap=()
	[ "$1" = foa1 ] && [ -n "${TRADE_FOA_WRAP:-}" ] && read -ra wrap <<<"$TRADE_FOA_WRAP"
	"${wrap[@]}" "$BUILD/bin/$2" -c "$tmp/$1.conf" >>"$tmp/$1.log" 2>&1 &
	pids+=($!)
	eval "pid_$1=$!"
}

# trade_confs N [KEY VALUE... for the virtual FOAs]: the five configurations.
trade_confs() {
	local n=$1; shift
	trade_conf fman fman.m1 aggregate_every_s 60
	trade_conf fmar fmar.r1 dso_foa dso1 gate_lead_s 7200
	trade_conf dso foa.dso1 mode dso doms_id o1
	trade_conf vfoa foa.host foas "$n" "$@"
	trade_conf sim xems.sim-0001 prosumers "$n" persist off profiles_dir "$TRADE_PROFILES" \
		pct_thermal 0 pct_ev 0 pct_white 0 pct_battery 100 battery_from 0 battery_to 96 \
		offer_lead_s 7200 deadline_lead_s 900
}

# trade_bid ID KWH: a bid of KWH per interval for 22:00-23:00 at 1 EUR/kWh,
# published as DOMS would, to the DSO FOA.
trade_bid() {
	"$BUILD/bin/gfctl" --port "$LOCAL_PORT" --id doms.o1 pub gf/site1/doms/o1/foa/dso1/bid \
		"{\"bidId\":\"$1\",\"gridPointId\":\"t1\",\"startTime\":\"$TRADE_BID_START\",\"intervalLength\":900,\"scheduleChange\":[$2,$2,$2,$2],\"energyPrice\":[1,1,1,1]}" \
		>/dev/null
}

trade_count() { grep -c -- "$2" "$tmp/$1.log" 2>/dev/null || true; }
# trade_wait SECONDS COMMAND...: polls every 0.2 s.
trade_wait() {
	local tries=$(($1 * 5)); shift
	for _ in $(seq 1 "$tries"); do "$@" && return 0; sleep 0.2; done
	return 1
}
# trade_members: members of the aggregates FMAN last sent (one line each).
trade_members() {
	grep 'GF-FMAN-AGGREGATE ' "$tmp/fman.log" 2>/dev/null |
		sed -E 's/.* ([^ ]+) revision [0-9]+: ([0-9]+) members.*/\1 \2/' |
		awk '{m[$1] = $2} END {s = 0; for (k in m) s += m[k]; print s}'
}
