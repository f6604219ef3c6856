#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Per-client limits (SPEC section 3; docs/ops.md, Limits) on the real
# mosquitto with our plugin: the largest payload per message type
# (GF-LIMIT-PAYLOAD), the transport cap max_packet_size (a 60 MB publish
# costs the broker no memory and stalls nobody), subscriptions per client
# (GF-LIMIT-SUBS), and a reload with a broken limits file.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

site_tmp site1
add_password "$S" foa.7-PRE-001 foa.7-PRE-002 fman.f1 sp.sp1
printf '# test limits\nflexoffer\t4k\n*\t64k\n' >"$tmp/limits.tsv"
broker_start "$S" --limits "$tmp/limits.tsv" --max-subscriptions 5 ||
	{ echo "broker did not start"; cat "$S/mosquitto.log"; exit 1; }
pid=$(cat "$S/mosquitto.pid")
check "the configuration says max_packet_size 4 MiB by default" grep -qx 'max_packet_size 4194304' "$S/mosquitto.conf"
check "... and bounds the bytes queued per client" grep -qx 'max_queued_bytes 67108864' "$S/mosquitto.conf"
check "the plugin reports the limits it loaded" logged "$S" GF-PLUGIN-READY "limits $tmp/limits.tsv (1 types named, default 65536 bytes, 5 subscriptions)"

A=gf/site1/foa/7-PRE-001/fman/all/flexoffer
W=gf/site1/sp/sp1/all/all/weather.forecast
offer=$(offer_json limit-offer)
# accepted OUTPUT TOPIC: PUBACK 0, or 16 (accepted, no subscriber: MQTT v5).
accepted() { grep -qxE -- "PUBACK $2 (0|16)" <<<"$1"; }

# --- the largest payload per message type --------------------------------------
# A valid offer padded with spaces (still valid JSON) to the byte.
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "big:$A=4096=$offer" "big:$A=4097=$offer")
check "an offer of exactly its type's limit (4096 bytes) is accepted" accepted "$out" "$A"
check "an offer one byte larger is refused: PUBACK 135" has "$out" "PUBACK $A 135"
check "... with GF-LIMIT-PAYLOAD naming the size and the limit" logged "$S" GF-LIMIT-PAYLOAD "4097 bytes, limit 4096 (identity 'foa.7-PRE-001', client 'foa.7-PRE-001', topic '$A')"
fc=$(forecast_json big-forecast)
out=$(probe_pw sp.sp1 sp.sp1 "big:$W=65536=$fc" "big:$W=65537=$fc")
check "a type the file does not name gets its '*' line: 64 KiB accepted" accepted "$out" "$W"
check "... 64 KiB + 1 refused" has "$out" "PUBACK $W 135"
check "... logged with that limit" logged "$S" GF-LIMIT-PAYLOAD "65537 bytes, limit 65536"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "big:gf/site1/foa/7-PRE-002/fman/all/flexoffer=9000=$offer")
check "a refused topic keeps its policy reason, whatever the size" logged "$S" GF-ACL-SPOOF "topic 'gf/site1/foa/7-PRE-002/fman/all/flexoffer'"

# --- the transport cap: a 60 MB publish ----------------------------------------
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }
hwm0=$(hwm)
probe_pw fman.f1 fman.f1 "sub:gf/site1/foa/+/fman/all/flexoffer" wait:4000 >"$tmp/fman.out" &
wait_for 5 subacked "$tmp/fman.out" 1 || echo "# fman.f1 is not subscribed"
# MQTT 3.1.1: libmosquitto knows no maximum and sends the 60 MB.
"$PROBE" -V 311 -p "$LOCAL_PORT" -u foa.7-PRE-001 -P "$PASSWORD" -i foa.7-PRE-001 \
	"big:$A=60000000=$offer" >"$tmp/big.out" 2>&1 &
big=$!
sleep 0.2
t0=$(date +%s%N)
out=$(probe_pw foa.7-PRE-002 foa.7-PRE-002 "pub:gf/site1/foa/7-PRE-002/fman/all/flexoffer=$(offer_json meanwhile)")
t1=$(date +%s%N)
wait "$big"
wait
hwm1=$(hwm)
echo "# broker VmHWM ${hwm0} kB before, ${hwm1} kB after the 60 MB attempt; the other publish took $(((t1 - t0) / 1000000)) ms"
check "the 60 MB publish is not accepted" bash -c "! grep -qE 'PUBACK .* (0|16)\$' '$tmp/big.out'"
check "... the broker drops the connection at the packet's length" logged "$S" "foa.7-PRE-001" "disconnected due to oversize packet"
check "... and its peak memory grew by less than 40 MB (${hwm0} -> ${hwm1} kB)" test "$((hwm1 - hwm0))" -lt 40960
check "another client's publish meanwhile is accepted" has "$out" "PUBACK gf/site1/foa/7-PRE-002/fman/all/flexoffer 0"
check "... and delivered" grep -q '^MSG gf/site1/foa/7-PRE-002/fman/all/flexoffer .*meanwhile' "$tmp/fman.out"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "big:$A=60000000=$offer")
check "an MQTT v5 client learns the maximum from the CONNACK and does not send it" has "$out" "PUBACK $A local-error:Packet larger than supported by the server."

# --- subscriptions per client ----------------------------------------------------
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "subs:gf/site1/a=8" "sub:gf/site1/a1/#")
check "8 filters at a limit of 5: 5 granted, 3 refused" has "$out" "SUBS gf/site1/a 5 3"
check "... with GF-LIMIT-SUBS naming the count and the limit" logged "$S" GF-LIMIT-SUBS "5 subscriptions held, limit 5 (identity 'foa.7-PRE-001', client 'foa.7-PRE-001', topic 'gf/site1/a6/#')"
check "... at the limit, even a filter it holds is refused (docs/ops.md)" has "$out" "SUBACK gf/site1/a1/# 135"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "subs:gf/site1/b=5")
check "a clean start begins again at 0" has "$out" "SUBS gf/site1/b 5 0"

# --- reload -------------------------------------------------------------------------
printf 'flexoffer\t4x\n' >"$tmp/limits.tsv"
broker_reload "$S"
check "a broken limits file is refused on reload with its line" logged "$S" GF-PLUGIN-CONFIG "$tmp/limits.tsv:1: size '4x'"
check "... GF-PLUGIN-RELOAD" logged "$S" GF-PLUGIN-RELOAD "previous configuration stays"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "big:$A=4097=$offer" "big:$A=4096=$offer")
check "... and the previous limits stay" has "$out" "PUBACK $A 135"
check "... (the limit itself still admits 4096 bytes)" accepted "$out" "$A"
printf 'flexoffer\t8k\n' >"$tmp/limits.tsv"
broker_reload "$S"
out=$(probe_pw foa.7-PRE-001 foa.7-PRE-001 "big:$A=4097=$offer")
check "a corrected file is taken on the next reload" accepted "$out" "$A"

broker_stop "$S"
finish
